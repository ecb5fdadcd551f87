/* notice — compose the notice about a judged message; see notice.h. */
#include "config.h"
#include "notice.h"
#include "rewrite.h"
#include "template.h"
#include "text.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { MAX_VALUE = 200, MAX_EXCERPT = 300, MAX_LISTED = 10, MAX_LINE = 900 };

static int clean_str(sbuf *out, const char *s, size_t max)
{
	return text_oneline(out, s, s ? strlen(s) : 0, max);
}

/* An address that can go in a header and an envelope as it is (and in a
 * To: line of at most 998 bytes: RFC 5321 paths are at most 256). */
static int plain_address(const char *a)
{
	return a && *a && strlen(a) <= 254 && strchr(a, '@') && !strpbrk(a, " \t\r\n<>,;:\"()[]\\");
}

size_t notice_recipients(const tg_policy *p, const char *agent, const char **out, size_t max)
{
	size_t n = 0;
	agent = policy_agent_address(p, agent);
	if ((p->notice_to & TG_NOTICE_AGENT) && plain_address(agent) && n < max)
		out[n++] = agent;
	for (size_t i = 0; (p->notice_to & TG_NOTICE_MANAGERS) && i < p->nmanagers && n < max; i++)
		if (plain_address(p->managers[i]) && !(agent && strcasecmp(agent, p->managers[i]) == 0))
			out[n++] = p->managers[i];
	return n;
}

/* ---- the values of the texts -------------------------------------------- */

static int findings(sbuf *o, const tg_judgement *j)
{
	const tg_verdict *v = &j->verdict;
	for (size_t i = 0; i < v->nf; i++) {
		const tg_finding *f = &v->f[i];
		if (sbuf_printf(o, "  %zu. %s", i + 1, policy_rule_name(f->rule)) < 0 ||
		    (f->line && sbuf_printf(o, " (line %u)", f->line) < 0))
			return -1;
		if (f->ex_len && (sbuf_puts(o, ": \"") < 0 ||
				  text_oneline(o, j->reply.agent + f->ex_off, f->ex_len, MAX_EXCERPT) < 0 ||
				  sbuf_putc(o, '"') < 0))
			return -1;
		if (sbuf_puts(o, "\n     ") < 0 || clean_str(o, f->message, 1000) < 0 ||
		    sbuf_puts(o, "\n     Try: ") < 0 || clean_str(o, f->suggestion, 1000) < 0 ||
		    sbuf_puts(o, "\n") < 0)
			return -1;
	}
	return 0;
}

static int rules(sbuf *o, const tg_verdict *v)
{
	for (size_t i = 0; i < v->nf; i++)
		if (sbuf_printf(o, "%s%s", i ? ", " : "", policy_rule_name(v->f[i].rule)) < 0)
			return -1;
	return 0;
}

static int recipients(sbuf *o, const tg_notice_facts *f)
{
	for (size_t i = 0; i < f->nrcpt && i < MAX_LISTED; i++)
		if ((i && sbuf_puts(o, ", ") < 0) || clean_str(o, f->rcpts[i], MAX_VALUE) < 0)
			return -1;
	if (f->nrcpt > MAX_LISTED && sbuf_printf(o, " and %zu more", f->nrcpt - MAX_LISTED) < 0)
		return -1;
	return 0;
}

enum { V_ID, V_TIME, V_AGENT, V_RCPT, V_RCPTS, V_SUBJECT, V_MSGID, V_ACTION, V_SCORE, V_RULES,
       V_RULESET, V_FINDINGS, V_REWRITE, V_CHANGES, NV };
static const char *const var_names[NV] = {"id", "time", "agent", "recipient", "recipients", "subject",
	"message_id", "action", "score", "rules", "ruleset", "findings", "rewrite", "changes"};

static int values(const tg_judgement *j, const tg_notice_facts *f, sbuf val[NV])
{
	const tg_verdict *v = &j->verdict;
	struct tm tm;
	char when[64];
	gmtime_r(&f->when, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
	const char *subject = message_header(&j->mail, "Subject");
	int rc = 0;
	rc |= clean_str(&val[V_ID], f->id, MAX_VALUE);
	rc |= sbuf_puts(&val[V_TIME], when);
	rc |= clean_str(&val[V_AGENT], f->agent && *f->agent ? f->agent : "(unknown sender)", MAX_VALUE);
	rc |= clean_str(&val[V_RCPT], f->nrcpt ? f->rcpts[0] : "(no recipient)", MAX_VALUE);
	rc |= recipients(&val[V_RCPTS], f);
	rc |= clean_str(&val[V_SUBJECT], subject && *subject ? subject : "(no subject)", MAX_VALUE);
	rc |= clean_str(&val[V_MSGID], message_header(&j->mail, "Message-ID"), MAX_VALUE);
	rc |= sbuf_puts(&val[V_ACTION], policy_action_name(f->action));
	rc |= sbuf_printf(&val[V_SCORE], "%d", v->score);
	rc |= rules(&val[V_RULES], v);
	rc |= sbuf_puts(&val[V_RULESET], v->ruleset->name);
	rc |= findings(&val[V_FINDINGS], j);
	rc |= rewrite_suggest(j, &val[V_REWRITE]);
	rc |= clean_str(&val[V_CHANGES], f->changes, 1000);
	return rc < 0 ? -1 : 0;
}

/* ---- the message --------------------------------------------------------- */

/* libetpan's writer contract: the bytes written, 0 on failure. */
static int b64_write(void *arg, const char *s, size_t n)
{
	return sbuf_append(arg, s, n) < 0 ? 0 : (int)n;
}

/* "Subject: ..." folded, as RFC 2047 encoded words when it is not ASCII. */
static int subject_header(sbuf *o, const char *s, size_t n)
{
	int ascii = 1;
	for (size_t i = 0; i < n; i++)
		ascii &= (unsigned char)s[i] < 0x80;
	if (sbuf_puts(o, "Subject:") < 0)
		return -1;
	size_t col = 8;
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		if (ascii) {  /* a word and its leading spaces */
			while (i + k < n && s[i + k] == ' ')
				k++;
			while (i + k < n && s[i + k] != ' ')
				k++;
			if (col + k > 76 && col > 8 && s[i] == ' ') {
				if (sbuf_puts(o, "\r\n") < 0)
					return -1;
				col = 0;
			} else if (i == 0 && sbuf_putc(o, ' ') < 0) {
				return -1;
			}
			if (sbuf_append(o, s + i, k) < 0)
				return -1;
			col += k;
		} else {      /* 45 bytes at a time: 60 characters of base64 */
			k = n - i < 45 ? n - i : 45;
			size_t cut = k;  /* not inside a UTF-8 sequence ... */
			while (cut && i + cut < n && ((unsigned char)s[i + cut] & 0xc0) == 0x80)
				cut--;
			k = cut ? cut : k;  /* ... unless there is no boundary (invalid UTF-8) */
			int c = 0;
			if (sbuf_puts(o, i ? "\r\n =?UTF-8?B?" : " =?UTF-8?B?") < 0 ||
			    mailmime_base64_write_driver(b64_write, o, &c, s + i, k) != MAILIMF_NO_ERROR)
				return -1;
			/* libetpan ends the base64 with a CRLF: not inside a word. */
			while (o->len && (o->s[o->len - 1] == '\n' || o->s[o->len - 1] == '\r'))
				o->s[--o->len] = '\0';
			if (sbuf_puts(o, "?=") < 0)
				return -1;
		}
		i += k;
	}
	return sbuf_puts(o, "\r\n");
}

/* The body: '\n' lines become CRLF, and a line longer than SMTP allows is
 * broken (at a character boundary; at 998 bytes inside invalid UTF-8). */
static int body(sbuf *o, const char *s, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\r')
			continue;
		if (c == '\n' || (col >= MAX_LINE && (((unsigned char)c & 0xc0) != 0x80 || col >= 998))) {
			if (sbuf_puts(o, "\r\n") < 0)
				return -1;
			col = 0;
			if (c == '\n')
				continue;
		}
		if (sbuf_putc(o, c) < 0)
			return -1;
		col++;
	}
	return col ? sbuf_puts(o, "\r\n") : 0;
}

/* A Message-ID of the original that can be quoted as it is. */
static const char *reference(const tg_judgement *j)
{
	const char *m = message_header(&j->mail, "Message-ID");
	if (m == NULL)
		return NULL;
	while (*m == ' ')
		m++;
	size_t n = strlen(m);
	while (n && m[n - 1] == ' ')
		n--;
	if (n < 3 || n > 250 || m[0] != '<' || m[n - 1] != '>' || memchr(m, ' ', n) || strpbrk(m, "\r\n\t"))
		return NULL;
	return m;
}

int notice_message_id(const tg_notice_facts *f, sbuf *out)
{
	int e = sbuf_puts(out, "<tonegate.");
	e |= text_oneline(out, f->id, strcspn(f->id, " <>@"), 64);
	e |= sbuf_printf(out, ".%lld.%s@", (long long)f->when, policy_action_name(f->action));
	e |= text_oneline(out, f->hostname, strcspn(f->hostname, " <>@"), MAX_VALUE);
	e |= sbuf_putc(out, '>');
	return e < 0 ? -1 : 0;
}

int notice_compose(const tg_judgement *j, const tg_notice_facts *f, sbuf *out)
{
	int hold = f->action >= TG_HOLD;
	const tg_policy *p = j->policy;
	sbuf val[NV], subj = SBUF_INIT, text = SBUF_INIT;
	tg_var vars[NV];
	int rc = -1;
	for (int i = 0; i < NV; i++) {
		val[i] = (sbuf)SBUF_INIT;
		vars[i].name = var_names[i];
	}
	if (values(j, f, val) < 0)
		goto out;
	for (int i = 0; i < NV; i++)
		vars[i].value = val[i].s ? val[i].s : "";
	if (template_expand(&subj, p->text[hold ? T_HOLD_SUBJECT : T_SUGGEST_SUBJECT], vars, NV) < 0 ||
	    template_expand(&text, p->text[hold ? T_HOLD_BODY : T_SUGGEST_BODY], vars, NV) < 0)
		goto out;

	const char *rcpt[64];
	size_t nr = notice_recipients(p, f->agent, rcpt, 64);
	struct tm tm;
	char date[64];
	gmtime_r(&f->when, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	const char *ref = reference(j);
	sbuf s1 = SBUF_INIT;  /* the subject on one clean line */
	if (text_oneline(&s1, subj.s ? subj.s : "", subj.len, 250) < 0) {
		sbuf_free(&s1);
		goto out;
	}
	int e = 0;
	e |= sbuf_puts(out, "From: tonegate <");
	e |= clean_str(out, f->from, MAX_VALUE);
	e |= sbuf_puts(out, ">\r\nTo: ");
	for (size_t i = 0; i < nr; i++)
		e |= sbuf_printf(out, "%s%s", i ? ",\r\n " : "", rcpt[i]);
	e |= sbuf_printf(out, "%s\r\nDate: %s\r\n", nr ? "" : "undisclosed-recipients:;", date);
	e |= subject_header(out, s1.s ? s1.s : "", s1.len);
	e |= sbuf_puts(out, "Message-ID: ");
	e |= notice_message_id(f, out);
	e |= sbuf_puts(out, "\r\n");
	if (ref)
		e |= sbuf_printf(out, "In-Reply-To: %s\r\nReferences: %s\r\n", ref, ref);
	e |= sbuf_puts(out, "Auto-Submitted: auto-generated\r\n" TG_NOTICE_HEADER ": ");
	e |= sbuf_printf(out, "%s ", policy_action_name(f->action));
	e |= clean_str(out, f->id, 64);
	e |= sbuf_puts(out, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
			    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	e |= body(out, text.s ? text.s : "", text.len);
	sbuf_free(&s1);
	rc = e < 0 ? -1 : 0;
out:
	for (int i = 0; i < NV; i++)
		sbuf_free(&val[i]);
	sbuf_free(&subj);
	sbuf_free(&text);
	return rc;
}
