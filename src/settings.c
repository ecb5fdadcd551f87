/* settings — the daemon configuration through one table of keys; see settings.h. */
#include "config.h"
#include "settings.h"
#include "text.h"

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum kind { K_STR, K_UINT, K_SIZE, K_BOOL, K_ENUM, K_MODE };

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *def;          /* default, as it would be written */
	double min, max;          /* numbers */
	const char *const *choices; /* K_ENUM: index = value */
} keys[] = {
#define O(f) offsetof(tg_settings, f)
	{"socket", K_STR, O(socket), "unix:/run/tonegate/tonegate.sock", 0, 0, NULL},
	{"user", K_STR, O(user), "", 0, 0, NULL},
	{"group", K_STR, O(group), "", 0, 0, NULL},
	{"socket_owner", K_STR, O(socket_owner), "", 0, 0, NULL},
	{"socket_group", K_STR, O(socket_group), "", 0, 0, NULL},
	{"socket_mode", K_MODE, O(socket_mode), "0660", 0, 0777, NULL},
	{"policy", K_STR, O(policy), SYSCONFDIR "/tonegate/policy.conf", 0, 0, NULL},
	{"on_error", K_ENUM, O(on_error), "accept", 0, 0, (const char *const[]){"accept", "tempfail", NULL}},
	{"max_message_size", K_SIZE, O(max_message_size), "10485760", 4096, 1e9, NULL},
	{"on_oversize", K_ENUM, O(on_oversize), "pass", 0, 0, (const char *const[]){"pass", "tempfail", NULL}},
	{"timeout", K_UINT, O(timeout), "30", 1, 3600, NULL},
	{"judge_timeout_ms", K_UINT, O(judge_timeout_ms), "200", 1, 600000, NULL},
	{"log", K_ENUM, O(log), "syslog", 0, 0, NULL},
	{"log_facility", K_STR, O(log_facility), "mail", 0, 0, NULL},
	{"pass_header", K_BOOL, O(pass_header), "true", 0, 0, NULL},
	{"header_name", K_STR, O(header_name), "X-Tonegate", 0, 0, NULL},
	{"header_verdict", K_STR, O(header_verdict), "X-Tonegate-Verdict", 0, 0, NULL},
	{"header_finding", K_STR, O(header_finding), "X-Tonegate-Finding", 0, 0, NULL},
	{"status_interval", K_UINT, O(status_interval), "10", 1, 3600, NULL},
	{"verdict_log", K_STR, O(verdict_log), "", 0, 0, NULL},
	{"verdict_log_excerpt", K_UINT, O(verdict_log_excerpt), "160", 0, 4096, NULL},
	{"metrics_file", K_STR, O(metrics_file), "/run/tonegate/tonegate.prom", 0, 0, NULL},
	{"metrics_interval", K_UINT, O(metrics_interval), "15", 1, 3600, NULL},
	{"notice_server", K_STR, O(notice_server), "127.0.0.1:25", 0, 0, NULL},
	{"notice_from", K_STR, O(notice_from), "", 0, 0, NULL},
	{"notice_queue_size", K_UINT, O(notice_queue_size), "1000", 1, 1000000, NULL},
	{"notice_max_tries", K_UINT, O(notice_max_tries), "8", 1, 100, NULL},
	{"notice_retry_base", K_UINT, O(notice_retry_base), "30", 1, 86400, NULL},
	{"notice_retry_max", K_UINT, O(notice_retry_max), "1800", 1, 86400, NULL},
	{"notice_timeout", K_UINT, O(notice_timeout), "30", 1, 3600, NULL},
#undef O
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const log_choices[] = {"syslog", "stderr", NULL};
static const char *const facilities[] = {"mail", "daemon", "user", "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7", NULL};

const char *const *settings_keys(void)
{
	static const char *names[NKEYS + 1];
	for (size_t i = 0; i < NKEYS; i++)
		names[i] = keys[i].name;
	return names;
}

static int choice(const char *const *c, const char *v)
{
	for (int i = 0; c[i]; i++)
		if (strcmp(c[i], v) == 0)
			return i;
	return -1;
}

/* Store the text form v of key k into s; a message in err on a bad value. */
static int set(tg_settings *s, const struct key *k, const char *v, char *err, size_t errlen)
{
	char *f = (char *)s + k->off, *end;
	switch (k->kind) {
	case K_STR: {
		if (strpbrk(v, "\r\n")) {
			snprintf(err, errlen, "%s must be one line", k->name);
			return -1;
		}
		if (!strncmp(k->name, "header", 6) && *v == '\0') {
			snprintf(err, errlen, "%s must not be empty", k->name);
			return -1;
		}
		char *d = strdup(v);
		if (d == NULL)
			return -1;
		free(*(char **)f);
		*(char **)f = d;
		return 0;
	}
	case K_ENUM: {
		const char *const *c = k->choices ? k->choices : log_choices;
		int i = choice(c, v);
		if (i < 0) {
			snprintf(err, errlen, "%s = \"%s\": use %s%s%s", k->name, v, c[0], c[1] ? " or " : "", c[1] ? c[1] : "");
			return -1;
		}
		if (k->choices)
			*(int *)f = i;
		else
			return set(s, &(struct key){k->name, K_STR, k->off, NULL, 0, 0, NULL}, v, err, errlen);
		return 0;
	}
	case K_BOOL:
		*(int *)f = strcmp(v, "true") == 0;
		return 0;
	case K_MODE:
	case K_UINT:
	case K_SIZE: {
		unsigned long long n = strtoull(v, &end, k->kind == K_MODE ? 8 : 10);
		if (*v == '\0' || *end != '\0' || n < k->min || n > k->max) {
			snprintf(err, errlen, k->kind == K_MODE ? "%s = %s: use an octal mode such as \"0660\""
				 : "%s = %s is out of range: use %.0f to %.0f", k->name, v, k->min, k->max);
			return -1;
		}
		if (k->kind == K_SIZE)
			*(size_t *)f = (size_t)n;
		else
			*(unsigned *)f = (unsigned)n;
		return 0;
	}
	}
	return -1;
}

/* The text form of a libconfig value for key k, or NULL on a type error. */
static const char *text_of(const config_setting_t *cs, const struct key *k, char *buf, size_t n)
{
	int t = config_setting_type(cs);
	switch (k->kind) {
	case K_STR:
	case K_ENUM:
		return t == CONFIG_TYPE_STRING ? config_setting_get_string(cs) : NULL;
	case K_MODE:  /* a string: libconfig would read 0660 as decimal 660 */
		return t == CONFIG_TYPE_STRING ? config_setting_get_string(cs) : NULL;
	case K_BOOL:
		return t == CONFIG_TYPE_BOOL ? (config_setting_get_bool(cs) ? "true" : "false") : NULL;
	case K_UINT:
	case K_SIZE:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return NULL;
		snprintf(buf, n, "%lld", config_setting_get_int64(cs));
		return buf;
	}
	return NULL;
}

static const char *type_name(enum kind k)
{
	switch (k) {
	case K_STR: case K_ENUM: return "a string in double quotes";
	case K_MODE: return "an octal mode in double quotes, such as \"0660\"";
	case K_BOOL: return "true or false";
	default: return "a whole number";
	}
}

void settings_free(tg_settings *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kind == K_STR || (keys[i].kind == K_ENUM && keys[i].choices == NULL))
			free(*(char **)((char *)s + keys[i].off));
	free(s->path);
	free(s);
}

static tg_settings *load(config_t *cf, int ok, const char *name, char *err, size_t errlen)
{
	char msg[400], buf[64];
	if (!ok) {
		snprintf(err, errlen, "%s:%d: %s", config_error_file(cf) ? config_error_file(cf) : name,
			 config_error_line(cf), config_error_text(cf));
		return NULL;
	}
	tg_settings *s = calloc(1, sizeof *s);
	if (s == NULL || (s->path = strdup(name)) == NULL)
		goto nomem;
	for (size_t i = 0; i < NKEYS; i++)
		if (set(s, &keys[i], keys[i].def, msg, sizeof msg) < 0)
			goto nomem;
	const config_setting_t *root = config_root_setting(cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *cs = config_setting_get_elem(root, (unsigned)i);
		const char *key = config_setting_name(cs);
		const struct key *k = NULL;
		for (size_t j = 0; j < NKEYS && !k; j++)
			if (strcmp(keys[j].name, key) == 0)
				k = &keys[j];
		unsigned line = config_setting_source_line(cs);
		if (k == NULL) {
			snprintf(err, errlen, "%s:%u: unknown key \"%s\"; see tonegate.conf(5) for the keys", name, line, key);
			goto fail;
		}
		const char *v = text_of(cs, k, buf, sizeof buf);
		if (v == NULL) {
			snprintf(err, errlen, "%s:%u: %s must be %s", name, line, key, type_name(k->kind));
			goto fail;
		}
		if (set(s, k, v, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, line, msg);
			goto fail;
		}
		if (k->kind == K_STR && !strcmp(key, "log_facility") && choice(facilities, v) < 0) {
			snprintf(err, errlen, "%s:%u: log_facility = \"%s\": use mail, daemon, user or local0..local7",
				 name, line, v);
			goto fail;
		}
	}
	if (strncmp(s->socket, "unix:", 5) && strncmp(s->socket, "local:", 6) && strncmp(s->socket, "inet:", 5) &&
	    strncmp(s->socket, "inet6:", 6)) {
		snprintf(err, errlen, "%s:1: socket = \"%s\": use unix:/path or inet:port@host", name, s->socket);
		goto fail;
	}
	return s;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
fail:
	settings_free(s);
	return NULL;
}

tg_settings *settings_load(const char *path, char *err, size_t errlen)
{
	config_t cf;
	config_init(&cf);
	int ok = config_read_file(&cf, path) == CONFIG_TRUE;
	tg_settings *s;
	if (!ok && config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
		snprintf(err, errlen, "%s: cannot read the configuration file: %s; use -c FILE", path,
			 text_read_error(path));
		s = NULL;
	} else {
		s = load(&cf, ok, path, err, errlen);
	}
	config_destroy(&cf);
	return s;
}

tg_settings *settings_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	config_t cf;
	config_init(&cf);
	int ok = config_read_string(&cf, text) == CONFIG_TRUE;
	tg_settings *s = load(&cf, ok, name, err, errlen);
	config_destroy(&cf);
	return s;
}

void settings_dump(const tg_settings *s, void (*emit)(const char *line, void *arg), void *arg)
{
	char line[1200];
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const char *f = (const char *)s + k->off;
		switch (k->kind) {
		case K_STR: snprintf(line, sizeof line, "%s = \"%s\";", k->name, *(char *const *)f); break;
		case K_ENUM:
			snprintf(line, sizeof line, "%s = \"%s\";", k->name,
				 k->choices ? k->choices[*(const int *)f] : *(char *const *)f);
			break;
		case K_BOOL: snprintf(line, sizeof line, "%s = %s;", k->name, *(const int *)f ? "true" : "false"); break;
		case K_MODE: snprintf(line, sizeof line, "%s = \"%04o\";", k->name, *(const unsigned *)f); break;
		case K_UINT: snprintf(line, sizeof line, "%s = %u;", k->name, *(const unsigned *)f); break;
		case K_SIZE: snprintf(line, sizeof line, "%s = %zu;", k->name, *(const size_t *)f); break;
		}
		emit(line, arg);
	}
}
