/*
 * man_keys — prints the names the code accepts, for tests/man.sh, which
 * compares them with the man pages. Asks the code itself, never a copy:
 *
 *   man_keys settings   every tonegate.conf key (settings_keys())
 *   man_keys metrics    every metric sample metrics_write() writes, without
 *                       its value: name or name{label="value"}
 *   man_keys policy     "WHERE<TAB>NAME" for every policy name (below)
 *   man_keys            only the check below, as a test of its own (make
 *                       check runs it: it is in check_PROGRAMS)
 *
 * The policy's key names are not in one table: policy.c checks each group's
 * keys in its own code and names the keys it knows in its "unknown key"
 * error. So each group is probed through policy_load_string() with a key
 * "zz_probe", and the names are read from the error; then each name is
 * loaded back and must not be refused as unknown, so a list in an error
 * message that drifted from the code fails here (exit 1) and not silently.
 * Rule, action and severity names come from policy.h's functions.
 *
 * WHERE is: top (top-level keys), rule (rule names), rule.NAME (keys of one
 * rule), thresholds, scope, limits, monitor, rulesets (keys of one rule
 * set), match (keys of a match entry), rewrite, notice (their keys),
 * var.rewrite.KEY / var.notice.KEY (template variables of one text),
 * action, severity, mode (values of mode), notice.to (values of notice.to).
 */
#include "config.h"
#include "metrics.h"
#include "policy.h"
#include "sbuf.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE "zz_probe"

static int bad;    /* inconsistencies found: exit 1 */
static int names;  /* names probed and checked */
static FILE *out;  /* the listing: stdout, or /dev/null when only checking */

/* Load text as a policy: NULL when it loads, else the error (static). */
static const char *load_error(const char *text)
{
	static char err[2048];
	tg_policy *p = policy_load_string(text, "probe", err, sizeof err);
	if (p) {
		policy_unref(p);
		return NULL;
	}
	return err;
}

/* Every rule off: a policy with no phrase lists that loads. */
static void rules_off(sbuf *o)
{
	sbuf_puts(o, "rules = {");
	for (int r = 0; r < R_NRULES; r++)
		sbuf_printf(o, " %s = { enabled = false; };", policy_rule_name((tg_rule_id)r));
	sbuf_puts(o, " };\n");
}

/* The policy text fmt with its one "%s" replaced by key; the rules are off unless
 * the text has its own rules group. */
static void build(sbuf *o, const char *fmt, const char *key)
{
	sbuf_reset(o);
	if (strncmp(fmt, "rules = ", 8) != 0)
		rules_off(o);
	const char *at = strstr(fmt, "%s");  /* not printf: fmt is no literal */
	sbuf_append(o, fmt, (size_t)(at - fmt));
	sbuf_puts(o, key);
	sbuf_puts(o, at + 2);
}

/* Is key refused as unknown where fmt puts it? */
static int refused(const char *fmt, const char *key)
{
	sbuf o = SBUF_INIT;
	build(&o, fmt, key);
	const char *err = load_error(o.s);
	sbuf_free(&o);
	return err && (strstr(err, "unknown key") || strstr(err, "unknown rule") ||
		       strstr(err, "unknown variable"));
}

/* Print "where<TAB>name" for each item of the list after marker in the error
 * that fmt with the probe key gives; check each is accepted there. */
static void probe_list(const char *where, const char *fmt, const char *marker, int braces)
{
	sbuf o = SBUF_INIT;
	build(&o, fmt, PROBE);
	const char *err = load_error(o.s), *l = err ? strstr(err, marker) : NULL;
	if (l == NULL) {
		fprintf(stderr, "man_keys: %s: no \"%s\" list in the error for %s (%s)\n", where, marker, PROBE,
			err ? err : "it loaded");
		bad++;
		sbuf_free(&o);
		return;
	}
	char *list = strdup(l + strlen(marker));
	if (list == NULL) {
		perror("man_keys");
		exit(2);
	}
	for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (braces) {  /* {name} */
			size_t n = strlen(t);
			if (n > 2 && t[0] == '{' && t[n - 1] == '}') {
				t[n - 1] = '\0';
				t++;
			}
		}
		fprintf(out, "%s\t%s\n", where, t);
		names++;
		char key[128];
		snprintf(key, sizeof key, braces ? "{%s}" : "%s", t);
		if (refused(fmt, key)) {
			fprintf(stderr, "man_keys: src/policy.c: %s: \"%s\" is listed in the error message "
				"but refused as unknown\n", where, t);
			bad++;
		}
	}
	free(list);
	sbuf_free(&o);
}

/* The error that loading fmt with value gives, value replaced by the probe
 * (to compare it with the probe's own error). */
static char *error_with(const char *fmt, const char *value)
{
	sbuf o = SBUF_INIT, e = SBUF_INIT;
	build(&o, fmt, value);
	const char *err = load_error(o.s);
	for (const char *p = err, *q; p && *p; p = q + strlen(value)) {
		if ((q = strstr(p, value)) == NULL) {
			sbuf_puts(&e, p);
			break;
		}
		sbuf_printf(&e, "%.*s%s", (int)(q - p), p, PROBE);
	}
	sbuf_free(&o);
	if (err == NULL) {
		sbuf_free(&e);
		return NULL;
	}
	char *r = sbuf_detach(&e, NULL);
	return r ? r : strdup("");
}

/* The quoted words of the error that fmt with the probe value gives; each
 * must be accepted (not give the probe's error). */
static void probe_values(const char *where, const char *fmt)
{
	char *perr = error_with(fmt, PROBE);
	int n = 0;
	for (const char *p = perr ? strchr(perr, '"') : NULL, *q; p && (q = strchr(p + 1, '"')); p = strchr(q + 1, '"')) {
		int len = (int)(q - p - 1);
		if (len == 0 || memchr(p + 1, ' ', (size_t)len) ||
		    (len == (int)strlen(PROBE) && strncmp(p + 1, PROBE, (size_t)len) == 0))
			continue;
		char v[128];
		snprintf(v, sizeof v, "%.*s", len, p + 1);
		fprintf(out, "%s\t%s\n", where, v);
		names++;
		n++;
		char *verr = error_with(fmt, v);
		if (verr && strcmp(verr, perr) == 0) {
			fprintf(stderr, "man_keys: src/policy.c: %s: \"%s\" is named in the error message "
				"but refused\n", where, v);
			bad++;
		}
		free(verr);
	}
	if (n == 0) {
		fprintf(stderr, "man_keys: %s: no quoted values in the error for %s (%s)\n", where, PROBE,
			perr ? perr : "it loaded");
		bad++;
	}
	free(perr);
}

static void policy(void)
{
	static const char *const known = "known keys here: ";
	probe_list("top", "%s = 1;\n", known, 0);
	for (int r = 0; r < R_NRULES; r++) {
		const char *name = policy_rule_name((tg_rule_id)r);
		fprintf(out, "rule\t%s\n", name);
		char where[64], fmt[128];
		snprintf(where, sizeof where, "rule.%s", name);
		snprintf(fmt, sizeof fmt, "rules = { %s = { %%s = 1; }; };\n", name);
		probe_list(where, fmt, known, 0);
	}
	probe_list("thresholds", "thresholds = { %s = 5; };\n", known, 0);
	probe_list("scope", "scope = { %s = 1; };\n", known, 0);
	probe_list("limits", "limits = { %s = 1; };\n", known, 0);
	probe_list("monitor", "monitor = { %s = true; };\n", known, 0);
	probe_list("rulesets", "rulesets = ( { %s = 1; name = \"x\"; "
		   "match = ( { header = \"h\"; pattern = \"p\"; } ); } );\n", known, 0);
	probe_list("match", "rulesets = ( { name = \"x\"; match = ( { %s = \"v\"; } ); } );\n", known, 0);
	probe_list("rewrite", "rewrite = { %s = 1; };\n", known, 0);
	probe_list("notice", "notice = { %s = 1; };\n", known, 0);
	/* The variables of each text: the text is in rewrite or in notice. */
	for (int t = 0; t < T_NTEXTS; t++) {
		const char *key = policy_text_name((tg_text_id)t), *section = NULL;
		static const char *const sections[] = {"rewrite", "notice"};
		for (int s = 0; s < 2 && !section; s++) {
			char fmt[128];
			snprintf(fmt, sizeof fmt, "%s = { %s = \"%%s\"; };\n", sections[s], key);
			if (!refused(fmt, "x"))
				section = sections[s];
		}
		if (section == NULL) {
			fprintf(stderr, "man_keys: text %s is neither a rewrite nor a notice key\n", key);
			bad++;
			continue;
		}
		char where[80], fmt[128];
		snprintf(where, sizeof where, "var.%s.%s", section, key);
		snprintf(fmt, sizeof fmt, "%s = { %s = \"{%%s}\"; };\n", section, key);
		probe_list(where, fmt, "known here: ", 1);
	}
	for (int a = 0; a < TG_NACTIONS; a++)
		fprintf(out, "action\t%s\n", policy_action_name((tg_action)a));
	for (int s = 0; s < TG_NSEVERITIES; s++)
		fprintf(out, "severity\t%s\n", policy_severity_name((tg_severity)s));
	probe_values("mode", "mode = \"%s\";\n");
	probe_values("notice.to", "notice = { to = \"%s\"; };\n");
}

static void metrics(void)
{
	char path[] = "/tmp/man_keys.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("man_keys: mkstemp");
		exit(2);
	}
	close(fd);
	tg_counts c;
	tg_notify_stats n;
	memset(&c, 0, sizeof c);
	memset(&n, 0, sizeof n);
	FILE *f = NULL;
	if (metrics_write(path, &c, &n) < 0 || (f = fopen(path, "r")) == NULL) {
		perror("man_keys: metrics_write");
		unlink(path);
		exit(2);
	}
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		char *sp = strrchr(line, ' ');  /* "name{...} value" */
		if (sp)
			*sp = '\0';
		puts(line);
	}
	fclose(f);
	unlink(path);
}

int main(int argc, char **argv)
{
	out = stdout;
	if (argc == 1) {
		if ((out = fopen("/dev/null", "w")) == NULL) {
			perror("man_keys: /dev/null");
			return 2;
		}
		policy();
		fclose(out);
		printf("man_keys: %s: %d names in the policy's error messages, %s\n", bad ? "FAIL" : "ok", names,
		       bad ? "some refused" : "each accepted where it is named");
	} else if (argc == 2 && strcmp(argv[1], "settings") == 0) {
		for (const char *const *k = settings_keys(); *k; k++)
			puts(*k);
	} else if (argc == 2 && strcmp(argv[1], "metrics") == 0) {
		metrics();
	} else if (argc == 2 && strcmp(argv[1], "policy") == 0) {
		policy();
	} else {
		fputs("usage: man_keys [settings|metrics|policy]\n", stderr);
		return 2;
	}
	return bad ? 1 : fflush(stdout) != 0;
}
