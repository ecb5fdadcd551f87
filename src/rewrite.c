/* rewrite — suggested rewrites and the rewrite action's safe fixes; see rewrite.h. */
#include "config.h"
#include "rewrite.h"
#include "template.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the customer's first name ----------------------------------------- */

static const char *const not_names[] = {"support", "team", "customer", "customers", "service",
	"info", "sales", "billing", "admin", "help", "helpdesk", "noreply", "no-reply", "accounts",
	"office", "contact", "hello", "the", "dear", "user", "client", "unknown", NULL};
static const char *const titles[] = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", NULL};

static int in_list(const char *const *l, const char *w, size_t n)
{
	for (; *l; l++)
		if (strlen(*l) == n && strncasecmp(*l, w, n) == 0)
			return 1;
	return 0;
}

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '"' || c == ',' || c == '(' || c == ')';
}

size_t rewrite_first_name(const char *display, char *out, size_t outlen)
{
	out[0] = '\0';
	if (display == NULL || strchr(display, '@') || outlen < 3)
		return 0;
	const char *comma = strchr(display, ',');
	const char *p = comma ? comma + 1 : display;  /* "Lopez, Maria" */
	for (;;) {
		while (*p && is_sep(*p))
			p++;
		size_t n = 0;
		while (p[n] && !is_sep(p[n]))
			n++;
		size_t k = n && p[n - 1] == '.' ? n - 1 : n;  /* "Dr." */
		if (k == 0)
			return 0;
		if (in_list(titles, p, k)) {
			p += n;
			continue;
		}
		if (k != n || k < 2 || k >= outlen || in_list(not_names, p, k))
			return 0;
		int upper = 0, lower = 0;
		for (size_t i = 0; i < k; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c >= 'A' && c <= 'Z')
				upper++;
			else if (c >= 'a' && c <= 'z')
				lower++;
			else if (c < 0x80 && !(i > 0 && (c == '-' || c == '\'')))
				return 0;  /* digits, initials, punctuation: not a name */
		}
		/* Written in capitals or in lower case: Title Case it. */
		for (size_t i = 0; i < k; i++) {
			char c = p[i];
			if (i == 0 && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			else if (i > 0 && !lower && upper > 1 && c >= 'A' && c <= 'Z' && p[i - 1] != '-')
				c = (char)(c + 32);
			out[i] = c;
		}
		out[k] = '\0';
		return k;
	}
}

/* ---- sentence edits ----------------------------------------------------- */

/* Apply the policy's substitutions to s[0..n) into out; 1 if one matched. */
static int substitute(const tg_policy *p, const char *s, size_t n, sbuf *out)
{
	sbuf cur = SBUF_INIT;
	int changed = 0;
	if (sbuf_append(&cur, s, n) < 0)
		return -1;
	for (size_t i = 0; i < p->nsubst; i++) {
		PCRE2_SIZE len = cur.len * 2 + 256;
		for (int tries = 0; tries < 2; tries++) {
			PCRE2_UCHAR *buf = malloc(len);
			if (buf == NULL)
				goto fail;
			int rc = pcre2_substitute(p->subst[i].re, (PCRE2_SPTR)(cur.s ? cur.s : ""), cur.len, 0,
						  PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_EXTENDED |
						  PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL,
						  NULL, (PCRE2_SPTR)p->subst[i].to, PCRE2_ZERO_TERMINATED, buf, &len);
			if (rc == PCRE2_ERROR_NOMEMORY) {
				free(buf);
				continue;  /* len is now what it needs */
			}
			if (rc > 0) {
				changed = 1;
				sbuf_reset(&cur);
				if (sbuf_append(&cur, (char *)buf, len) < 0) {
					free(buf);
					goto fail;
				}
			}
			free(buf);
			break;  /* no match (0) or an error: the sentence stays */
		}
	}
	int rc = sbuf_append(out, cur.s ? cur.s : "", cur.len);
	sbuf_free(&cur);
	return rc < 0 ? -1 : changed;
fail:
	sbuf_free(&cur);
	return -1;
}

/* Tidy what a substitution left: spaces, a capital first letter; an empty
 * result (only spaces and punctuation) becomes "". */
static void tidy(sbuf *s)
{
	size_t w = 0, letters = 0;
	for (size_t r = 0; r < s->len; r++) {
		char c = s->s[r];
		if ((c == ' ' || c == '\t') && (w == 0 || s->s[w - 1] == ' '))
			continue;
		if ((c == ',' || c == '.') && w > 0 && s->s[w - 1] == ' ')
			w--;  /* "as , you know" */
		letters += (unsigned char)c >= 0x80 || ((c | 32) >= 'a' && (c | 32) <= 'z');
		s->s[w++] = c == '\t' ? ' ' : c;
	}
	while (w > 0 && s->s[w - 1] == ' ')
		w--;
	size_t start = 0;
	while (start < w && (s->s[start] == ',' || s->s[start] == ' '))
		start++;
	memmove(s->s, s->s + start, w - start);
	s->len = letters ? w - start : 0;
	if (s->s)
		s->s[s->len] = '\0';
	if (s->len && s->s[0] >= 'a' && s->s[0] <= 'z')
		s->s[0] = (char)(s->s[0] - 32);
}

/* Sentence case for a shouted sentence; "!!!" becomes "!". */
static void unshout(sbuf *s, int caps)
{
	size_t w = 0;
	for (size_t r = 0; r < s->len; r++) {
		char c = s->s[r];
		if (c == '!' && w > 0 && s->s[w - 1] == '!')
			continue;
		if (caps && c >= 'A' && c <= 'Z') {
			int first = w == 0;
			int lone_i = c == 'I' && (w == 0 || s->s[w - 1] == ' ') &&
				     (r + 1 == s->len || s->s[r + 1] == ' ' || s->s[r + 1] == '\'');
			if (!first && !lone_i)
				c = (char)(c + 32);
		}
		s->s[w++] = c;
	}
	s->len = w;
	if (s->s)
		s->s[w] = '\0';
}

/* ---- the suggested rewrite ---------------------------------------------- */

static const tg_finding *finding(const tg_verdict *v, tg_rule_id r)
{
	for (size_t i = 0; i < v->nf; i++)
		if (v->f[i].rule == r)
			return &v->f[i];
	return NULL;
}

/* A policy text with the rewrite's variables, trailing blank lines dropped. */
static int text(const tg_judgement *j, tg_text_id t, sbuf *out)
{
	char first[64];
	rewrite_first_name(j->mail.customer, first, sizeof first);
	tg_var vars[] = {{"first_name", first}, {"agent_name", j->mail.from_name}};
	size_t at = out->len;
	if (template_expand(out, j->policy->text[t], vars, 2) < 0)
		return -1;
	while (out->len > at && (out->s[out->len - 1] == '\n' || out->s[out->len - 1] == ' '))
		out->s[--out->len] = '\0';
	return 0;
}

static int greeting(const tg_judgement *j, sbuf *out)
{
	char first[64];
	return text(j, rewrite_first_name(j->mail.customer, first, sizeof first) ? T_GREETING
		    : T_GREETING_NO_NAME, out);
}

/* The gap between two kept sentences: a blank line, a line break or a space. */
static const char *gap_of(const char *a, size_t from, size_t to)
{
	int nl = 0;
	for (size_t i = from; i < to; i++)
		nl += a[i] == '\n';
	return nl >= 2 ? "\n\n" : nl ? "\n" : " ";
}

static int stronger(const char *g, const char *h)
{
	return strlen(h) > strlen(g) || (h[0] == '\n' && g[0] == ' ');
}

/* The body: the agent's sentences up to the sign-off line, edited. */
static int body(const tg_judgement *j, size_t end, sbuf *out)
{
	const tg_reply *r = &j->reply;
	const tg_verdict *v = &j->verdict;
	const tg_finding *curt = finding(v, R_CURT);
	int shout = finding(v, R_SHOUTING) != NULL;
	double ratio = j->verdict.ruleset->rule[R_SHOUTING].num[N_CAPS_RATIO];
	sbuf s = SBUF_INIT;
	const size_t base = out->len;  /* what is above the body */
#define EMITTED (out->len > base)
	const char *gap = "";
	size_t prev_end = 0;
	int reason_due = 0, rc = -1;  /* a dropped refusal waits for the next sentence */
	for (size_t i = 0; i < r->nsent && r->sent[i].orig_off < end; i++) {
		const tg_sentence *t = &r->sent[i];
		const char *g = gap_of(r->agent, prev_end, t->orig_off);
		if (EMITTED && stronger(gap, g))
			gap = g;
		prev_end = t->orig_off + t->orig_len;
		if (reason_due && g[1] == '\n') {  /* the paragraph ended: say it in its place */
			if (sbuf_puts(out, EMITTED ? gap : "") < 0 || text(j, T_REFUSAL, out) < 0 || sbuf_putc(out, ' ') < 0 ||
			    text(j, T_REASON, out) < 0)
				goto out;
			reason_due = 0;
		}
		sbuf_reset(&s);
		int changed = substitute(j->policy, r->agent + t->orig_off, t->orig_len, &s);
		if (changed < 0)
			goto out;
		if (shout)
			unshout(&s, t->letters >= 8 && (double)t->caps >= ratio * (double)t->letters);
		tidy(&s);
		int is_curt = curt && curt->ex_len && curt->ex_off >= t->orig_off &&
			      curt->ex_off < t->orig_off + t->orig_len;
		if (s.len == 0) {
			reason_due |= is_curt;
			continue;
		}
		if (reason_due && !changed) {  /* the next sentence is no refusal: add one */
			if (sbuf_puts(out, EMITTED ? gap : "") < 0 || text(j, T_REFUSAL, out) < 0 ||
			    sbuf_putc(out, ' ') < 0 || text(j, T_REASON, out) < 0)
				goto out;
			gap = " ";
			reason_due = 0;
		}
		if (sbuf_puts(out, EMITTED ? gap : "") < 0 || sbuf_append(out, s.s, s.len) < 0)
			goto out;
		if (is_curt || reason_due) {
			if (sbuf_putc(out, ' ') < 0 || text(j, T_REASON, out) < 0)
				goto out;
			reason_due = 0;
		}
		gap = "";
	}
	if (reason_due && (sbuf_puts(out, EMITTED ? " " : "") < 0 || text(j, T_REFUSAL, out) < 0 ||
			   sbuf_putc(out, ' ') < 0 || text(j, T_REASON, out) < 0))
		goto out;
	rc = 0;
#undef EMITTED
out:
	sbuf_free(&s);
	return rc;
}

/* Offset in the agent's text of the start of line n (1-based). */
static size_t line_off(const tg_reply *r, unsigned n)
{
	size_t off = 0;
	for (unsigned l = 1; l < n && off < r->agent_len; l++) {
		const char *nl = memchr(r->agent + off, '\n', r->agent_len - off);
		off = nl ? (size_t)(nl - r->agent) + 1 : r->agent_len;
	}
	return off;
}

/* Does the reply open with a short greeting line of its own ("Hi Maria,")? */
static int opens_with_greeting(const tg_reply *r)
{
	return r->nsent > 1 && r->sent[0].words <= 6 && r->sent[0].line < r->sent[1].line &&
	       r->sent[0].orig_len && strchr(",!", r->agent[r->sent[0].orig_off + r->sent[0].orig_len - 1]);
}

int rewrite_suggest(const tg_judgement *j, sbuf *out)
{
	const tg_verdict *v = &j->verdict;
	const tg_reply *r = &j->reply;
	size_t end = j->split.signoff ? line_off(r, j->split.signoff) : r->agent_len;
	size_t from = 0;
	if (finding(v, R_GREETING)) {
		if (greeting(j, out) < 0 || sbuf_puts(out, "\n\n") < 0)
			return -1;
	} else if (finding(v, R_EMPATHY) && opens_with_greeting(r)) {
		/* Keep the agent's greeting first; the opener goes under it. */
		const tg_sentence *g = &r->sent[0];
		if (sbuf_append(out, r->agent + g->orig_off, g->orig_len) < 0 || sbuf_puts(out, "\n\n") < 0)
			return -1;
		from = 1;
	}
	if (finding(v, R_EMPATHY) && (text(j, T_EMPATHY, out) < 0 || sbuf_puts(out, "\n\n") < 0))
		return -1;
	tg_reply rest = *r;  /* the sentences after a greeting already written */
	rest.sent += from;
	rest.nsent -= from;
	tg_judgement k = *j;
	k.reply = rest;
	if (body(&k, end, out) < 0)
		return -1;
	if (finding(v, R_FOLLOW_UP) && (sbuf_puts(out, "\n\n") < 0 || text(j, T_FOLLOW_UP, out) < 0))
		return -1;
	if (end < r->agent_len) {  /* the agent's own sign-off */
		size_t e = r->agent_len;
		while (e > end && (r->agent[e - 1] == '\n' || r->agent[e - 1] == ' '))
			e--;
		if (sbuf_puts(out, "\n\n") < 0 || sbuf_append(out, r->agent + end, e - end) < 0)
			return -1;
	} else if (finding(v, R_CLOSING) && (sbuf_puts(out, "\n\n") < 0 || text(j, T_CLOSING, out) < 0)) {
		return -1;
	}
	return sbuf_putc(out, '\n');
}

/* ---- the rewrite action's safe fixes ------------------------------------ */

static int name_fix(sbuf *what, int n, int total, const char *name)
{
	const char *sep = n == 0 ? "" : n + 1 == total ? " and " : ", ";
	return sbuf_puts(what, sep) < 0 || sbuf_puts(what, name) < 0 ? -1 : 0;
}

int rewrite_safe_fixes(const tg_judgement *j, sbuf *head, sbuf *tail, sbuf *what)
{
	const tg_verdict *v = &j->verdict;
	int g = finding(v, R_GREETING) != NULL, f = finding(v, R_FOLLOW_UP) != NULL;
	int c = finding(v, R_CLOSING) != NULL && j->split.signoff == 0;
	int total = g + f + c, n = 0;
	if (g && (greeting(j, head) < 0 || sbuf_puts(head, "\n\n") < 0 || name_fix(what, n++, total, "a greeting") < 0))
		return -1;
	/* The tail goes right under the agent's last line (bodyedit puts it
	 * above the blank lines before a sign-off, signature or history). */
	if ((f || c) && sbuf_putc(tail, '\n') < 0)
		return -1;
	if (f && (text(j, T_FOLLOW_UP, tail) < 0 || sbuf_putc(tail, '\n') < 0))
		return -1;
	if (c && ((f && sbuf_putc(tail, '\n') < 0) || text(j, T_CLOSING, tail) < 0 || sbuf_putc(tail, '\n') < 0))
		return -1;
	if (f && name_fix(what, n++, total, "an offer to follow up") < 0)
		return -1;
	if (c && name_fix(what, n++, total, "a closing") < 0)
		return -1;
	return total;
}
