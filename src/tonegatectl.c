/*
 * tonegatectl — the managers' tool for the mail tonegate held: list, show,
 * release, discard and expire messages in Postfix's hold queue, and print
 * the daemon's counters next to what is held now (stats).
 *
 * Postfix is the only source of truth, read and acted on through holdq
 * (postqueue -j, postcat, postsuper; fork + execvp, never a shell); this
 * file holds the commands, their output and the advice when a tool fails.
 * A message is tonegate's when it carries the verdict header (tonegate.conf
 * header_verdict); the finding headers after the last one are its findings.
 * Message data is made safe before it reaches a terminal and goes to
 * syslog only as "%s" arguments.
 *
 * Exit: 0 done, 1 a message or state problem (unknown ID, already released,
 * not held by tonegate), 2 usage or configuration error, 3 missing
 * privileges or a Postfix tool that failed or is missing.
 */
#include "config.h"
#include "holdq.h"
#include "message.h"
#include "quote.h"
#include "reply.h"
#include "sbuf.h"
#include "settings.h"
#include "verdictlog.h"
#include "text.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/tonegate/tonegate.conf"

enum { RC_OK = 0, RC_STATE = 1, RC_USAGE = 2, RC_TOOL = 3 };  /* exit statuses */
enum { ACT_RELEASE = HOLDQ_RELEASE, ACT_DISCARD = HOLDQ_DISCARD };

struct ctl {
	const char *pfdir;       /* -C: Postfix configuration directory, or NULL */
	const char *config;      /* tonegate.conf */
	const char *metrics;     /* --metrics, or NULL: cfg->metrics_file */
	tg_settings *cfg;        /* header names, metrics_file */
	int json, force;
	long long older_than;    /* expire: seconds, -1 until given */
	int verb;                /* expire: ACT_RELEASE or ACT_DISCARD, -1 until given */
	time_t now;
};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tonegatectl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

static void emit(sbuf *o)
{
	if (o->len)
		fwrite(o->s, 1, o->len, stdout);
	sbuf_reset(o);
}

/* ---- making message data safe ------------------------------------------ */

/* Append one line of message data for a terminal: bytes that are not
 * UTF-8, control characters (C0, DEL, C1: ESC starts the sequences that move
 * the cursor or retitle the window) and bidirectional overrides (which
 * reorder what the manager reads) become '?'; a tab becomes a space. */
static void tty(sbuf *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0, k; i < n; i += k ? k : 1) {
		size_t adv;
		k = text_u8len(p + i, n - i);
		uint32_t u = k ? text_u8decode(p + i, n - i, &adv) : 0;  /* 0: not UTF-8 */
		if (u == '\t')
			sbuf_putc(o, ' ');
		else if (u < 0x20 || (u >= 0x7f && u < 0xa0) || (u >= 0x202a && u <= 0x202e) ||
			 (u >= 0x2066 && u <= 0x2069))
			sbuf_putc(o, '?');
		else
			sbuf_append(o, s + i, k);
	}
}

static void ttys(sbuf *o, const char *s)
{
	tty(o, s ? s : "", s ? strlen(s) : 0);
}

/* Append s as a JSON string of valid UTF-8 (sbuf_json escapes the rest). */
static void js(sbuf *o, const char *s, size_t n)
{
	sbuf t = SBUF_INIT;
	text_sanitize(&t, s ? s : "", s ? n : 0);
	sbuf_json(o, t.s ? t.s : "", t.len);
	sbuf_free(&t);
}

static void jss(sbuf *o, const char *s)
{
	js(o, s, s ? strlen(s) : 0);
}

/* ---- small parsers ----------------------------------------------------- */

/* "90s", "30m", "12h", "7d" or plain seconds; -1 when it is none of those. */
static long long duration(const char *s)
{
	static const struct { char suffix; long long secs; } units[] = {
		{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400},
	};
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || (end[0] && end[1]))
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (*end == units[i].suffix)
			return n <= LLONG_MAX / units[i].secs ? n * units[i].secs : -1;
	return -1;
}

static void age(sbuf *o, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 100)
		sbuf_printf(o, "%llds", secs);
	else if (secs < 100 * 60)
		sbuf_printf(o, "%lldm", secs / 60);
	else if (secs < 48 * 3600)
		sbuf_printf(o, "%lldh", secs / 3600);
	else
		sbuf_printf(o, "%lldd", secs / 86400);
}

/* ---- Postfix, through holdq --------------------------------------------- */

/* Report a tool that failed, with what to do about it; frees r; RC_TOOL. */
static int tool_failed(holdq_res *r)
{
	holdq_why why = holdq_res_why(r, geteuid() == 0);
	if (why == HOLDQ_NOT_FOUND)
		fail(0, "%s not found: install Postfix, or add the directory of its commands to PATH", r->prog);
	else if (why == HOLDQ_CANNOT_RUN)
		fail(0, "cannot run %s: %s", r->prog, strerror(r->err_no));
	else {
		size_t n;
		const char *line = holdq_res_line(r, &n);
		sbuf m = SBUF_INIT;
		tty(&m, line ? line : "no message", line ? n : 10);
		fail(0, "%s failed (exit status %d): %s", r->prog, r->status, m.s);
		sbuf_free(&m);
		if (why == HOLDQ_NEEDS_ROOT)
			fail(0, "run as root (%s needs it)", r->prog);
		else if (why == HOLDQ_NEEDS_CONFDIR)
			fail(0, "name the Postfix configuration directory with -C DIR");
	}
	holdq_res_free(r);
	return RC_TOOL;
}

/* The messages of the hold queue (only == NULL), or the one message only
 * in whatever queue it is. 0 or RC_TOOL. */
static int queue_read(const struct ctl *c, const char *only, holdq_list *out)
{
	holdq_res r;
	if (holdq_read(c->pfdir, only, out, &r) != HOLDQ_OK)
		return tool_failed(&r);
	if (out->bad)
		fail(0, "warning: %zu entries of postqueue -j could not be read", out->bad);
	return 0;
}

/* One message by ID: RC_STATE with what to do when it is not there. */
static int lookup(const struct ctl *c, const char *id, holdq_list *q)
{
	int rc = queue_read(c, id, q);
	if (rc == 0 && q->n == 0)
		return fail(RC_STATE, "no message %s in the queue: it was delivered, discarded, or never held; "
			    "see tonegatectl list", id);
	return rc;
}

/* A held message's header: 0, RC_STATE when it has left the queue, or
 * RC_TOOL. holdq_held_free(h) either way. */
static int held_read(const struct ctl *c, const char *id, holdq_held *h)
{
	holdq_res r;
	holdq_rc rc = holdq_held_read(c->pfdir, id, c->cfg->header_verdict, h, &r);
	if (rc == HOLDQ_TOOL)
		return tool_failed(&r);
	if (rc == HOLDQ_NOMEM)
		return fail(RC_TOOL, "out of memory");
	return rc == HOLDQ_GONE ? RC_STATE : 0;
}

/* Call fn for each message tonegate holds; *other counts the rest of the
 * hold queue. Stops at the first non-zero return. */
typedef int (*held_fn)(struct ctl *c, const holdq_entry *e, const holdq_held *h, void *arg);

static int each_held(struct ctl *c, held_fn fn, void *arg, size_t *other)
{
	holdq_list q;
	int rc = queue_read(c, NULL, &q);
	*other = 0;
	for (size_t i = 0; rc == 0 && i < q.n; i++) {
		holdq_held h;
		int r = held_read(c, q.v[i].id, &h);
		if (r == RC_STATE)
			continue;  /* released or discarded meanwhile */
		if (r == 0 && h.verdict == NULL)
			++*other;
		else if (r == 0)
			r = fn(c, &q.v[i], &h, arg);
		rc = r;
		holdq_held_free(&h);
	}
	holdq_list_free(&q);
	return rc;
}
/* ---- output pieces ------------------------------------------------------ */

/* sep-separated items of s[0..n) as a JSON array of strings. */
static void jlist(sbuf *o, const char *s, size_t n, char sep)
{
	sbuf_putc(o, '[');
	for (size_t i = 0, k = 0; s && i < n; k++) {
		const char *e = memchr(s + i, sep, n - i);
		size_t len = e ? (size_t)(e - s - i) : n - i;
		sbuf_puts(o, k ? "," : "");
		js(o, s + i, len);
		i += len + 1;
	}
	sbuf_putc(o, ']');
}

static void json_common(sbuf *o, const struct ctl *c, const holdq_entry *e, const holdq_held *h)
{
	size_t n = 0;
	const char *p;
	sbuf_puts(o, "{\"id\":");
	jss(o, e->id);
	sbuf_puts(o, ",\"queue\":");
	jss(o, e->queue);
	sbuf_printf(o, ",\"arrival_time\":%lld,\"age\":%lld,\"sender\":", e->arrival, (long long)c->now - e->arrival);
	js(o, e->sender.s, e->sender.len);
	sbuf_puts(o, ",\"recipients\":");
	jlist(o, e->rcpts.s, e->rcpts.len ? e->rcpts.len - 1 : 0, '\0');
	sbuf_puts(o, ",\"subject\":");
	jss(o, h->subject);
	if (h->verdict == NULL) {
		sbuf_puts(o, ",\"held_by_tonegate\":false");
		return;
	}
	sbuf_puts(o, ",\"held_by_tonegate\":true,\"verdict\":");
	jss(o, h->verdict);
	p = holdq_verdict_field(h->verdict, "score", &n);
	sbuf_printf(o, ",\"score\":%d,\"ruleset\":", p ? atoi(p) : 0);
	p = holdq_verdict_field(h->verdict, "ruleset", &n);
	js(o, p, p ? n : 0);
	sbuf_puts(o, ",\"rules\":");
	p = holdq_verdict_field(h->verdict, "rules", &n);
	jlist(o, p, p && !(n == 1 && *p == '-') ? n : 0, ',');
}

/* What a confirmation or a table names a message by: "sender -> rcpt +2". */
static void who_to_whom(sbuf *o, const holdq_entry *e)
{
	tty(o, e->sender.s ? e->sender.s : "", e->sender.len);
	sbuf_puts(o, e->sender.len ? " -> " : "<> -> ");
	ttys(o, e->nrcpt ? e->rcpts.s : "?");
	if (e->nrcpt > 1)
		sbuf_printf(o, " +%zu", e->nrcpt - 1);
}

/* ---- list --------------------------------------------------------------- */

enum { C_ID, C_AGE, C_SCORE, C_SENDER, C_RCPT, C_SUBJECT, C_RULES, NCOL };
static const struct { const char *title; size_t cap; } cols[NCOL] = {
	{"ID", 0}, {"AGE", 0}, {"SCORE", 0}, {"SENDER", 30}, {"RECIPIENTS", 30}, {"SUBJECT", 40}, {"RULES", 0},
};

struct table {
	sbuf (*row)[NCOL];
	size_t n;
	size_t width[NCOL];
};

/* Code points: close enough to terminal columns for mail addresses and
 * subjects (wide CJK characters take two). */
static size_t cps(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* Pad what was appended to o since at to width columns. */
static void pad(sbuf *o, size_t at, size_t width)
{
	for (size_t w = cps(o->s + at, o->len - at); w < width; w++)
		sbuf_putc(o, ' ');
}

/* A table cell: cut at a code point to cap columns (0: no cap), padded to
 * width and two spaces unless it is the last. */
static void cell(sbuf *o, const char *s, size_t len, size_t width, size_t cap, int last)
{
	size_t at = o->len, i = 0;
	if (cap && cps(s, len) > cap) {
		for (size_t k = 0; i < len; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80 && k++ == cap - 3)
				break;
		sbuf_append(o, s, i);
		sbuf_puts(o, "...");
	} else {
		sbuf_append(o, s, len);
	}
	if (!last)
		pad(o, at, width + 2);
}

static int list_one(struct ctl *c, const holdq_entry *e, const holdq_held *h, void *arg)
{
	struct table *t = arg;
	sbuf o = SBUF_INIT;
	size_t n;
	const char *p;
	if (c->json) {
		json_common(&o, c, e, h);
		sbuf_puts(&o, "}\n");
		emit(&o);
		sbuf_free(&o);
		return 0;
	}
	void *v = realloc(t->row, (t->n + 1) * sizeof *t->row);
	if (v == NULL)
		return fail(RC_TOOL, "out of memory");
	t->row = v;
	sbuf *r = t->row[t->n++];
	for (int i = 0; i < NCOL; i++)
		r[i] = (sbuf)SBUF_INIT;
	ttys(&r[C_ID], e->id);
	age(&r[C_AGE], (long long)c->now - e->arrival);
	p = holdq_verdict_field(h->verdict, "score", &n);
	tty(&r[C_SCORE], p ? p : "?", p ? n : 1);
	tty(&r[C_SENDER], e->sender.len ? e->sender.s : "<>", e->sender.len ? e->sender.len : 2);
	ttys(&r[C_RCPT], e->nrcpt ? e->rcpts.s : "?");
	if (e->nrcpt > 1)
		sbuf_printf(&r[C_RCPT], " +%zu", e->nrcpt - 1);
	ttys(&r[C_SUBJECT], h->subject);
	p = holdq_verdict_field(h->verdict, "rules", &n);
	tty(&r[C_RULES], p ? p : "?", p ? n : 1);
	return 0;
}

static int cmd_list(struct ctl *c, char **args)
{
	(void)args;
	struct table t = {NULL, 0, {0}};
	size_t other;
	int rc = each_held(c, list_one, &t, &other);
	sbuf o = SBUF_INIT;
	if (rc == 0 && !c->json) {
		for (int k = 0; k < NCOL; k++) {
			t.width[k] = strlen(cols[k].title);
			for (size_t i = 0; i < t.n; i++) {
				size_t w = cps(t.row[i][k].s ? t.row[i][k].s : "", t.row[i][k].len);
				w = cols[k].cap && w > cols[k].cap ? cols[k].cap : w;
				t.width[k] = w > t.width[k] ? w : t.width[k];
			}
		}
		for (size_t i = 0; i <= t.n && t.n; i++) {
			for (int k = 0; k < NCOL; k++) {
				const sbuf *r = i ? &t.row[i - 1][k] : NULL;
				cell(&o, r ? (r->s ? r->s : "") : cols[k].title, r ? r->len : strlen(cols[k].title),
				     t.width[k], cols[k].cap, k == NCOL - 1);
			}
			sbuf_putc(&o, '\n');
		}
		sbuf_printf(&o, "%zu message%s held by tonegate; ", t.n, t.n == 1 ? "" : "s");
	}
	/* with --json, stdout stays one kind of object: the note goes to stderr */
	if (rc == 0 && c->json && other)
		sbuf_puts(&o, "tonegatectl: ");
	if (rc == 0 && other)
		sbuf_printf(&o, "%zu other message%s in the hold queue, not held by tonegate (see postqueue -p)\n",
			    other, other == 1 ? "" : "s");
	else if (rc == 0 && !c->json)
		sbuf_puts(&o, "no other message in the hold queue\n");
	fwrite(o.s ? o.s : "", 1, o.len, c->json ? stderr : stdout);
	for (size_t i = 0; i < t.n; i++)
		for (int k = 0; k < NCOL; k++)
			sbuf_free(&t.row[i][k]);
	free(t.row);
	sbuf_free(&o);
	return rc;
}

/* ---- show ------------------------------------------------------------- */

/* The agent's words exactly as the checks saw them: the same parse, quote
 * and signature split and sentence building as tonegate's judge. */
static int agent_words(const struct ctl *c, const char *id, sbuf *words, tg_status *st)
{
	tg_limits lim = TG_LIMITS_DEFAULT;
	sbuf raw = SBUF_INIT;
	holdq_res r;
	raw.max = lim.max_message_size;
	holdq_rc got = holdq_message(c->pfdir, id, 1, &raw, &r);
	if (got != HOLDQ_OK) {
		sbuf_free(&raw);
		return got == HOLDQ_GONE ? RC_STATE : tool_failed(&r);
	}
	tg_message m;
	tg_split sp;
	tg_reply rep;
	memset(&rep, 0, sizeof rep);
	*st = r.overflow ? TG_TOO_BIG : message_parse(&lim, raw.s ? raw.s : "", raw.len, &m);
	int rc = *st == TG_NOMEM ? -1 : 0;
	if (*st == TG_OK) {
		rc = quote_split(m.text, m.text_len, &sp);
		if (rc == 0)
			rc = reply_build(&rep, sp.agent.s ? sp.agent.s : "", sp.agent.len, lim.max_sentences);
		if (rc == 0)
			rc = reply_text(&rep, words);
		quote_split_free(&sp);
		reply_free(&rep);
	}
	if (!r.overflow)
		message_free(&m);
	sbuf_free(&raw);
	return rc < 0 ? fail(RC_TOOL, "out of memory") : 0;
}

static int cmd_show(struct ctl *c, char **args)
{
	const char *id = args[0];
	holdq_list q;
	holdq_held h;
	int rc = lookup(c, id, &q);
	if (rc)
		return rc;
	const holdq_entry *e = &q.v[0];
	if ((rc = held_read(c, id, &h)) != 0) {
		holdq_list_free(&q);
		return rc == RC_STATE ? fail(rc, "%s has just left the queue; see tonegatectl list", id) : rc;
	}
	sbuf words = SBUF_INIT, o = SBUF_INIT, rule = SBUF_INIT;
	tg_status st = TG_OK;
	rc = agent_words(c, id, &words, &st);
	if (rc == RC_STATE)
		fail(rc, "%s has just left the queue; see tonegatectl list", id);
	unsigned line;
	int weight;
	const char *rest;
	const tg_header *f;
	if (rc == 0 && c->json) {
		json_common(&o, c, e, &h);
		sbuf_puts(&o, ",\"from\":");
		jss(&o, message_header(&h.hdr, "From"));
		sbuf_puts(&o, ",\"findings\":[");
		for (size_t i = h.findings, k = 0; (f = holdq_finding_next(&h, c->cfg->header_finding, &i)) != NULL; k++) {
			sbuf_puts(&o, k ? "," : "");
			if (holdq_finding_parse(f->value, &rule, &line, &weight, &rest) == 0) {
				sbuf_puts(&o, "{\"rule\":");
				js(&o, rule.s, rule.len);
				sbuf_printf(&o, ",\"line\":%u,\"weight\":%d,\"text\":", line, weight);
				jss(&o, rest);
			} else {
				sbuf_puts(&o, "{\"text\":");
				jss(&o, f->value);
			}
			sbuf_putc(&o, '}');
		}
		sbuf_puts(&o, "],\"agent_text\":");
		js(&o, words.s, words.len);
		sbuf_printf(&o, ",\"text_status\":\"%s\"}\n", tg_status_id(st));
	} else if (rc == 0) {
		sbuf_puts(&o, "Message:    ");
		ttys(&o, e->id);
		sbuf_puts(&o, strcmp(e->queue, "hold") ? " (in the " : " (held, ");
		if (strcmp(e->queue, "hold"))
			sbuf_printf(&o, "%s queue: released, not held any more)\n", e->queue);
		else
			age(&o, (long long)c->now - e->arrival), sbuf_puts(&o, " ago)\n");
		sbuf_puts(&o, "Sender:     ");
		tty(&o, e->sender.len ? e->sender.s : "<>", e->sender.len ? e->sender.len : 2);
		sbuf_puts(&o, "\nRecipients: ");
		for (const char *p = e->rcpts.s; p && p < e->rcpts.s + e->rcpts.len; p += strlen(p) + 1)
			sbuf_puts(&o, p == e->rcpts.s ? "" : ", "), ttys(&o, p);
		sbuf_puts(&o, "\nFrom:       ");
		ttys(&o, message_header(&h.hdr, "From"));
		sbuf_puts(&o, "\nSubject:    ");
		ttys(&o, h.subject);
		sbuf_puts(&o, "\nVerdict:    ");
		ttys(&o, h.verdict ? h.verdict : "none: tonegate did not hold this message");
		sbuf_puts(&o, "\n");
		for (size_t i = h.findings, k = 0; (f = holdq_finding_next(&h, c->cfg->header_finding, &i)) != NULL; k++) {
			sbuf_puts(&o, k ? "" : "Findings:\n");
			if (holdq_finding_parse(f->value, &rule, &line, &weight, &rest) == 0) {
				sbuf_printf(&o, "  line %u: ", line);
				ttys(&o, rule.s);
				sbuf_printf(&o, " (+%d): ", weight);
				ttys(&o, rest);
			} else {
				sbuf_puts(&o, "  ");
				ttys(&o, f->value);
			}
			sbuf_putc(&o, '\n');
		}
		sbuf_puts(&o, "The agent's words, as the checks saw them (quoted history and signature removed):\n");
		if (st != TG_OK)
			sbuf_printf(&o, "  (none: %s)\n", tg_status_str(st));
		for (size_t i = 0, n = 1; i < words.len; n++) {
			const char *nl = memchr(words.s + i, '\n', words.len - i);
			size_t len = nl ? (size_t)(nl - words.s - i) : words.len - i;
			sbuf_printf(&o, "%4zu | ", n);
			tty(&o, words.s + i, len);
			sbuf_putc(&o, '\n');
			i += len + 1;
		}
	}
	emit(&o);
	sbuf_free(&o);
	sbuf_free(&rule);
	sbuf_free(&words);
	holdq_held_free(&h);
	holdq_list_free(&q);
	return rc;
}

/* ---- release, discard, expire ----------------------------------------- */

static const struct verb {
	const char *name, *done;  /* "release", "released" */
} verbs[] = {
	[ACT_RELEASE] = {"release", "released"},
	[ACT_DISCARD] = {"discard", "discarded"},
};

/* The person behind the command: the login name (under sudo, the one who
 * ran sudo), else the name of the real user. */
static const char *who(void)
{
	const char *name = getlogin();
	struct passwd *pw;
	if (name == NULL && (pw = getpwuid(getuid())) != NULL)
		name = pw->pw_name;
	return name ? name : "?";
}

static void audit(const struct verb *v, const holdq_entry *e, const char *result)
{
	sbuf from = SBUF_INIT;
	tty(&from, e->sender.s ? e->sender.s : "", e->sender.len);
	syslog(LOG_NOTICE, "user=%s uid=%lu %s id=%s from=<%s> result=%s", who(), (unsigned long)getuid(),
	       v->name, e->id, from.s ? from.s : "", result);
	sbuf_free(&from);
}

/* The decision in the verdict log, so every hold ends with an outcome there;
 * a log that cannot be written is a warning, the action stands. */
static void decision(const struct ctl *c, const struct verb *v, const holdq_entry *e, const holdq_held *h)
{
	if (*c->cfg->verdict_log == '\0')
		return;
	sbuf line = SBUF_INIT;
	verdictlog_format_decision(&line, time(NULL), e->id, v->name, who(), e->sender.s ? e->sender.s : "",
				   h->verdict);
	if (verdictlog_open(c->cfg->verdict_log) < 0 || verdictlog_append(&line) < 0)
		fail(0, "warning: %s: cannot record the decision in verdict_log %s: %s", e->id,
		     c->cfg->verdict_log, strerror(errno));
	verdictlog_close();
	sbuf_free(&line);
}

/* postsuper on one message tonegate holds, audited and confirmed on stdout. */
static int act(struct ctl *c, int verb, const holdq_entry *e, const holdq_held *h)
{
	const struct verb *v = &verbs[verb];
	holdq_res r;
	holdq_rc rc = holdq_act(c->pfdir, (holdq_action)verb, e->id, &r);
	if (rc == HOLDQ_TOOL) {
		audit(v, e, "failed");
		return tool_failed(&r);
	}
	if (rc == HOLDQ_GONE) {
		audit(v, e, "not-in-hold");
		return fail(RC_STATE, "%s was not %s: it left the hold queue meanwhile; see tonegatectl list", e->id,
			    v->done);
	}
	audit(v, e, v->done);
	decision(c, v, e, h);
	if (verb == ACT_RELEASE &&  /* deliver now, not at the next queue run */
	    holdq_flush(c->pfdir, e->id, &r) != HOLDQ_OK) {
		fail(0, "warning: %s goes out with the next queue run (postqueue -i failed)", e->id);
		holdq_res_free(&r);
	}
	sbuf o = SBUF_INIT;
	if (c->json) {
		sbuf_printf(&o, "{\"id\":\"%s\",\"action\":\"%s\",\"result\":\"%s\"}\n", e->id, v->name, v->done);
	} else {
		sbuf_printf(&o, "%s %s (held ", v->done, e->id);
		age(&o, (long long)c->now - e->arrival);
		sbuf_puts(&o, "): ");
		who_to_whom(&o, e);
		sbuf_puts(&o, ", \"");
		ttys(&o, h->subject);
		sbuf_puts(&o, "\"\n");
	}
	emit(&o);
	sbuf_free(&o);
	return 0;
}

/* postsuper will only run as root: say so before anything else happens. */
static int need_root(const char *cmd)
{
	return geteuid() == 0 ? 0 : fail(RC_TOOL, "%s: run as root (postsuper needs it)", cmd);
}

static int one(struct ctl *c, const char *id, int verb)
{
	const struct verb *v = &verbs[verb];
	holdq_list q;
	holdq_held h;
	int rc = need_root(v->name);
	if (rc || (rc = lookup(c, id, &q)) != 0)
		return rc;
	const holdq_entry *e = &q.v[0];
	if (strcmp(e->queue, "hold") != 0) {
		rc = fail(RC_STATE, "%s was already released: it is in the %s queue%s", id, e->queue,
			  verb == ACT_DISCARD ? " (discard removes only held mail)" : "");
	} else if ((rc = held_read(c, id, &h)) == 0) {
		if (h.verdict == NULL && !c->force)
			rc = fail(RC_STATE, "%s is held, but not by tonegate (it has no %s header; see postcat -hq %s); "
				  "add --force to %s it anyway", id, c->cfg->header_verdict, id, v->name);
		else
			rc = act(c, verb, e, &h);
		holdq_held_free(&h);
	} else if (rc == RC_STATE) {
		rc = fail(RC_STATE, "%s has just left the queue; see tonegatectl list", id);
	}
	holdq_list_free(&q);
	return rc;
}

static int cmd_release(struct ctl *c, char **args)
{
	return one(c, args[0], ACT_RELEASE);
}

static int cmd_discard(struct ctl *c, char **args)
{
	return one(c, args[0], ACT_DISCARD);
}

struct expiry {
	size_t seen, done;
	int rc;
};

static int expire_one(struct ctl *c, const holdq_entry *e, const holdq_held *h, void *arg)
{
	struct expiry *x = arg;
	x->seen++;
	if ((long long)c->now - e->arrival <= c->older_than)
		return 0;
	int rc = act(c, c->verb, e, h);
	if (rc == 0)
		x->done++;
	else if (rc == RC_STATE)  /* someone else got there first: go on */
		x->rc = x->rc ? x->rc : rc;
	return rc == RC_STATE ? 0 : rc;
}

static int cmd_expire(struct ctl *c, char **args)
{
	(void)args;
	struct expiry x = {0, 0, 0};
	size_t other;
	int rc = need_root("expire");
	if (rc || (rc = each_held(c, expire_one, &x, &other)) != 0)
		return rc;
	if (!c->json) {
		sbuf o = SBUF_INIT;
		sbuf_printf(&o, "expire: %s %zu of %zu message%s held by tonegate (older than ", verbs[c->verb].done,
			    x.done, x.seen, x.seen == 1 ? "" : "s");
		age(&o, c->older_than);
		sbuf_puts(&o, ")\n");
		emit(&o);
		sbuf_free(&o);
	}
	return x.rc;
}

/* ---- stats ------------------------------------------------------------ */

/* One sample of the metrics file: name{key="value"} number (the first
 * label only: tonegate's counters have one). */
struct sample {
	char name[96], key[32], val[96];
	double v;
};

/* Parse a sample line; -1 when it is not one. */
static int prom_line(const char *s, struct sample *m)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
	if (n == 0 || n >= sizeof m->name)
		return -1;
	memcpy(m->name, s, n);
	m->name[n] = '\0';
	m->key[0] = m->val[0] = '\0';
	s += n;
	if (*s == '{') {
		n = strcspn(++s, "=}");
		if (s[n] == '=' && n < sizeof m->key && s[n + 1] == '"') {
			memcpy(m->key, s, n);
			m->key[n] = '\0';
			s += n + 2;
			for (n = 0; *s && *s != '"'; s++) {
				char ch = *s;
				if (ch == '\\' && s[1])
					ch = *++s == 'n' ? '\n' : *s;
				if (n + 1 < sizeof m->val)
					m->val[n++] = ch;
			}
			m->val[n] = '\0';
			s += *s == '"';
		}
		for (int quoted = 0; *s && (quoted || *s != '}'); s++) {  /* other labels */
			if (quoted && *s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = !quoted;
		}
		if (*s++ != '}')
			return -1;
	}
	char *end;
	m->v = strtod(s, &end);
	return end > s && (*end == '\0' || *end == ' ' || *end == '\t') ? 0 : -1;
}

static void number(sbuf *o, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		sbuf_printf(o, "%lld", (long long)v);
	else
		sbuf_printf(o, "%g", v);
}

/* "    label            12": a label made safe, the number right-aligned. */
static void stat_row(sbuf *o, const char *label, double v)
{
	sbuf n = SBUF_INIT;
	sbuf_puts(o, "    ");
	size_t at = o->len;
	ttys(o, label);
	pad(o, at, 24);
	number(&n, v);
	sbuf_printf(o, " %8s\n", n.s ? n.s : "");
	sbuf_free(&n);
}

/* "tonegate_messages_total" + "action" -> "messages by action". */
static void family_title(sbuf *o, const char *name, const char *key)
{
	size_t n = strlen(name);
	if (strncmp(name, "tonegate_", 9) == 0)
		name += 9, n -= 9;
	if (n > 6 && strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	for (size_t i = 0; i < n; i++)
		sbuf_putc(o, name[i] == '_' ? ' ' : name[i]);
	if (*key)
		sbuf_printf(o, " by %s", key);
}

struct metrics {
	struct sample *v;
	size_t n;
	const char *path;
	time_t written;
	int err;  /* errno of a file that could not be read */
};

static void metrics_read(struct metrics *m)
{
	struct stat sb;
	FILE *f = fopen(m->path, "r");
	if (f == NULL || fstat(fileno(f), &sb) < 0) {
		m->err = errno;
		if (f)
			fclose(f);
		return;
	}
	m->written = sb.st_mtime;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	for (size_t lines = 0; m->n < 4096 && lines < 100000 && (len = getline(&line, &size, f)) >= 0; lines++) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0' || len > 1024)
			continue;
		struct sample s, *v;
		if (prom_line(line, &s) < 0 || (v = realloc(m->v, (m->n + 1) * sizeof *v)) == NULL)
			continue;
		m->v = v;
		m->v[m->n++] = s;
	}
	free(line);
	fclose(f);
}

/* The first sample of each family, in file order. */
static int family_first(const struct metrics *m, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(m->v[k].name, m->v[i].name) == 0)
			return 0;
	return 1;
}

static void metrics_print(const struct ctl *c, const struct metrics *m, sbuf *o)
{
	if (c->json) {
		sbuf_puts(o, "{\"metrics\":{\"file\":");
		jss(o, m->path);
		if (m->err || !*m->path) {
			sbuf_puts(o, ",\"error\":");
			jss(o, *m->path ? strerror(m->err) : "metrics_file is empty");
			sbuf_puts(o, "}");
			return;
		}
		sbuf_printf(o, ",\"written\":%lld,\"counters\":{", (long long)m->written);
		for (size_t i = 0, k = 0; i < m->n; i++) {
			if (!family_first(m, i))
				continue;
			sbuf_puts(o, k++ ? "," : "");
			jss(o, m->v[i].name);
			sbuf_puts(o, m->v[i].key[0] ? ":{" : ":");
			for (size_t j = i, l = 0; j < m->n; j++) {
				if (strcmp(m->v[j].name, m->v[i].name) != 0 || (l && !m->v[i].key[0]))
					continue;
				sbuf_puts(o, l++ ? "," : "");
				if (m->v[i].key[0])
					jss(o, m->v[j].val), sbuf_putc(o, ':');
				number(o, m->v[j].v);
			}
			sbuf_puts(o, m->v[i].key[0] ? "}" : "");
		}
		sbuf_puts(o, "}}");
		return;
	}
	if (!*m->path) {
		sbuf_puts(o, "Counters: none (metrics_file is empty in tonegate.conf; name a file with --metrics FILE)\n");
		return;
	}
	if (m->err) {
		sbuf_puts(o, "Counters: none: ");
		ttys(o, m->path);
		sbuf_printf(o, ": %s (is tonegate running with metrics_file set? name the file with --metrics FILE)\n",
			    strerror(m->err));
		return;
	}
	char when[64];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&m->written));
	sbuf_puts(o, "Counters since tonegate started (");
	ttys(o, m->path);
	sbuf_printf(o, ", written %s, ", when);
	age(o, (long long)(c->now - m->written));
	sbuf_puts(o, " ago");
	if (c->now - m->written > 2 * (time_t)c->cfg->metrics_interval + 60)
		sbuf_puts(o, "; that is old: is tonegate running?");
	sbuf_puts(o, ")\n");
	int others = 0;
	for (size_t i = 0; i < m->n; i++) {  /* families with a label, then the rest */
		if (!family_first(m, i) || !m->v[i].key[0]) {
			others |= !m->v[i].key[0];
			continue;
		}
		sbuf_puts(o, "  ");
		family_title(o, m->v[i].name, m->v[i].key);
		sbuf_puts(o, ":\n");
		for (size_t j = i; j < m->n; j++)
			if (strcmp(m->v[j].name, m->v[i].name) == 0)
				stat_row(o, m->v[j].val, m->v[j].v);
	}
	if (others)
		sbuf_puts(o, "  other counters:\n");
	for (size_t i = 0; i < m->n; i++)
		if (!m->v[i].key[0] && family_first(m, i)) {
			sbuf t = SBUF_INIT;
			family_title(&t, m->v[i].name, "");
			stat_row(o, t.s, m->v[i].v);
			sbuf_free(&t);
		}
}

struct rulecount {
	struct rule_n { char rule[64]; size_t n; } *v;
	size_t n, held;
};

static int by_count(const void *a, const void *b)  /* most first, then by name */
{
	const struct rule_n *x = a, *y = b;
	return x->n != y->n ? (x->n < y->n) - (x->n > y->n) : strcmp(x->rule, y->rule);
}

static int count_rules(struct ctl *c, const holdq_entry *e, const holdq_held *h, void *arg)
{
	struct rulecount *rc = arg;
	size_t n;
	const char *p = holdq_verdict_field(h->verdict, "rules", &n);
	(void)c, (void)e;
	rc->held++;
	for (size_t i = 0; p && i < n;) {
		size_t len = strcspn(p + i, ",");
		len = len > n - i ? n - i : len;
		size_t k = 0;
		while (k < rc->n && (strlen(rc->v[k].rule) != len || strncmp(rc->v[k].rule, p + i, len)))
			k++;
		if (k == rc->n && len < sizeof rc->v[0].rule && !(len == 1 && p[i] == '-')) {
			void *v = realloc(rc->v, (rc->n + 1) * sizeof *rc->v);
			if (v == NULL)
				return fail(RC_TOOL, "out of memory");
			rc->v = v;
			memcpy(rc->v[k].rule, p + i, len);
			rc->v[k].rule[len] = '\0';
			rc->v[rc->n++].n = 0;
		}
		if (k < rc->n)
			rc->v[k].n++;
		i += len + 1;
	}
	return 0;
}

static int cmd_stats(struct ctl *c, char **args)
{
	(void)args;
	struct metrics m = {NULL, 0, c->metrics ? c->metrics : c->cfg->metrics_file, 0, 0};
	struct rulecount rules = {NULL, 0, 0};
	size_t other = 0;
	sbuf o = SBUF_INIT;
	if (*m.path)
		metrics_read(&m);
	metrics_print(c, &m, &o);
	emit(&o);  /* the counters, even when the queue cannot be read */
	fflush(stdout);
	int rc = each_held(c, count_rules, &rules, &other);
	if (rules.n)
		qsort(rules.v, rules.n, sizeof *rules.v, by_count);
	if (c->json) {
		if (rc == 0) {
			sbuf_printf(&o, ",\"held\":{\"by_tonegate\":%zu,\"other\":%zu,\"rules\":{", rules.held, other);
			for (size_t i = 0; i < rules.n; i++) {
				sbuf_puts(&o, i ? "," : "");
				jss(&o, rules.v[i].rule);
				sbuf_printf(&o, ":%zu", rules.v[i].n);
			}
			sbuf_puts(&o, "}}");
		}
		sbuf_puts(&o, "}\n");
	} else if (rc == 0) {
		sbuf_printf(&o, "Held now: %zu message%s held by tonegate, %zu other in the hold queue\n", rules.held,
			    rules.held == 1 ? "" : "s", other);
		if (rules.n)
			sbuf_puts(&o, "  held messages by rule:\n");
		for (size_t i = 0; i < rules.n; i++)
			stat_row(&o, rules.v[i].rule, (double)rules.v[i].n);
	}
	emit(&o);
	sbuf_free(&o);
	free(m.v);
	free(rules.v);
	return rc;
}

/* ---- the command line --------------------------------------------------- */

enum { O_FORCE = 1, O_EXPIRE = 2 };  /* command options a command takes */

static const struct command {
	const char *name;
	int (*run)(struct ctl *c, char **args);
	int nargs;        /* operands: 0, or 1 (an ID) */
	int opts;         /* O_* */
	const char *usage, *help;
} commands[] = {
	{"list", cmd_list, 0, 0, "list", "the messages tonegate holds: ID, age, sender, recipients, subject, score, rules"},
	{"show", cmd_show, 1, 0, "show ID", "one message: its findings and the agent's words as the checks saw them"},
	{"release", cmd_release, 1, O_FORCE, "release [--force] ID", "deliver a held message (postsuper -H)"},
	{"discard", cmd_discard, 1, O_FORCE, "discard [--force] ID", "delete a held message (postsuper -d ID hold)"},
	{"expire", cmd_expire, 0, O_EXPIRE, "expire --older-than DURATION --release|--discard",
	 "release or discard what tonegate has held longer than DURATION (90s, 30m, 12h, 7d)"},
	{"stats", cmd_stats, 0, 0, "stats", "the daemon's counters (metrics file) and the held messages by rule"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: tonegatectl [-C DIR] [--config FILE] [--metrics FILE] [--json] COMMAND\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage, commands[i].help);
	fputs("Options:\n"
	      "  -C DIR          Postfix configuration directory (passed to postqueue, postcat\n"
	      "                  and postsuper as -c DIR; default: theirs)\n"
	      "  --config FILE   tonegate's configuration, for header_verdict, header_finding and\n"
	      "                  metrics_file (default " DEFAULT_CONFIG ")\n"
	      "  --metrics FILE  the daemon's metrics file for stats (default: metrics_file)\n"
	      "  -j, --json      one JSON object per line (list, show, stats and confirmations)\n"
	      "  -f, --force     release or discard a held message tonegate did not hold\n"
	      "  -V, --version   print the version\n"
	      "  -h, --help      this help\n"
	      "Exit status: 0 done, 1 unknown ID, already released or not held by tonegate,\n"
	      "2 usage or configuration error, 3 not root or a Postfix tool failed.\n", f);
}

/* tonegate.conf when there is one; the defaults when the default file is
 * not there. NULL with *rc set on an error. */
static tg_settings *config_load(const char *path, int given, int *rc)
{
	char err[1024];
	if (!given && access(path, F_OK) != 0 && errno == ENOENT)
		return settings_load_string("", path, err, sizeof err);
	if (access(path, R_OK) != 0) {
		int e = errno;
		*rc = fail(e == EACCES ? RC_TOOL : RC_USAGE, "cannot read %s: %s; %s", path, strerror(e),
			   e == EACCES ? "run as root" : "name tonegate's configuration with --config FILE");
		return NULL;
	}
	tg_settings *s = settings_load(path, err, sizeof err);
	if (s == NULL)
		*rc = fail(RC_USAGE, "%s", err);
	return s;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_METRICS, OPT_OLDER, OPT_RELEASE, OPT_DISCARD };
	static const struct option opts[] = {
		{"config", required_argument, NULL, OPT_CONFIG},
		{"metrics", required_argument, NULL, OPT_METRICS},
		{"json", no_argument, NULL, 'j'},
		{"force", no_argument, NULL, 'f'},
		{"older-than", required_argument, NULL, OPT_OLDER},
		{"release", no_argument, NULL, OPT_RELEASE},
		{"discard", no_argument, NULL, OPT_DISCARD},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl c = {NULL, DEFAULT_CONFIG, NULL, NULL, 0, 0, -1, -1, 0};
	int given = 0, used = 0, ch, rc = 0;
	/* Options may come before or after the command (getopt permutes). */
	while ((ch = getopt_long(argc, argv, "C:jfVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'C': c.pfdir = optarg; break;
		case OPT_CONFIG: c.config = optarg, given = 1; break;
		case OPT_METRICS: c.metrics = optarg; break;
		case 'j': c.json = 1; break;
		case 'f': c.force = 1, used |= O_FORCE; break;
		case OPT_OLDER:
			used |= O_EXPIRE;
			if ((c.older_than = duration(optarg)) < 0)
				return fail(RC_USAGE, "--older-than %s: use a number of seconds, or 90s, 30m, 12h, 7d", optarg);
			break;
		case OPT_RELEASE: c.verb = ACT_RELEASE, used |= O_EXPIRE; break;
		case OPT_DISCARD: c.verb = ACT_DISCARD, used |= O_EXPIRE; break;
		case 'V': printf("tonegatectl %s\n", PACKAGE_VERSION); return RC_OK;
		case 'h': usage(stdout); return RC_OK;
		default: usage(stderr); return RC_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return RC_USAGE;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return fail(RC_USAGE, "unknown command \"%s\"; see tonegatectl --help", argv[optind]);
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	if (nargs != cmd->nargs)
		return fail(RC_USAGE, "usage: tonegatectl %s", cmd->usage);
	if (used & ~cmd->opts)
		return fail(RC_USAGE, "%s takes no %s; usage: tonegatectl %s", cmd->name,
			    used & O_FORCE ? "--force" : "--older-than, --release or --discard", cmd->usage);
	if (cmd->opts & O_EXPIRE && (c.older_than < 0 || c.verb < 0))
		return fail(RC_USAGE, "usage: tonegatectl %s", cmd->usage);
	if (nargs && !holdq_id_ok(args[0]))
		return fail(RC_USAGE, "\"%s\" is not a queue ID (letters and digits, as tonegatectl list shows them)",
			    args[0]);
	struct stat sb;
	if (c.pfdir) {
		sbuf maincf = SBUF_INIT;
		sbuf_printf(&maincf, "%s/main.cf", c.pfdir);
		int bad = stat(maincf.s ? maincf.s : "", &sb) != 0;
		if (bad)
			rc = fail(RC_USAGE, "-C %s: %s: %s; name the Postfix configuration directory", c.pfdir,
				  maincf.s ? maincf.s : "main.cf", strerror(errno));
		sbuf_free(&maincf);
		if (bad)
			return rc;
	}
	if ((c.cfg = config_load(c.config, given, &rc)) == NULL)
		return rc ? rc : fail(RC_USAGE, "out of memory");
	openlog("tonegatectl", LOG_PID, LOG_MAIL);
	message_init();
	c.now = time(NULL);
	rc = cmd->run(&c, args);
	settings_free(c.cfg);
	closelog();
	if (fflush(stdout) != 0 && rc == RC_OK)
		rc = fail(RC_TOOL, "cannot write the output: %s", strerror(errno));
	return rc;
}
