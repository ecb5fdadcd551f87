/* report_text — the text summary and the CSV table; see report_render.h. */
#include "config.h"
#include "report_render.h"

#include <stdio.h>
#include <string.h>

long report_utf8(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s + *i;
	size_t left = len - *i, n;
	long c, min;
	if (u[0] < 0x80) {
		(*i)++;
		return u[0];
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2, c = u[0] & 0x1f, min = 0x80;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3, c = u[0] & 0x0f, min = 0x800;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4, c = u[0] & 0x07, min = 0x10000;
	else
		n = 0, c = 0, min = 0;
	if (n == 0 || left < n) {
		(*i)++;
		return -1;
	}
	for (size_t k = 1; k < n; k++) {
		if ((u[k] & 0xc0) != 0x80) {
			(*i)++;
			return -1;
		}
		c = c << 6 | (u[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		(*i)++;
		return -1;
	}
	*i += n;
	return c;
}

/* s for a terminal or a CSV cell: C0, DEL, C1 controls and bytes that are
 * not UTF-8 as \xNN (a C1 control as its UTF-8 bytes), the rest as is. */
static void put_safe(sbuf *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t at = i;
		long c = report_utf8(s, len, &i);
		if (c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0)) {
			sbuf_append(o, s + at, i - at);
			continue;
		}
		for (size_t k = at; k < i; k++)
			sbuf_printf(o, "\\x%02x", (unsigned char)s[k]);
	}
}

static void put_agent(sbuf *o, const char *s, size_t len)
{
	if (len == 0)
		sbuf_puts(o, "<>");  /* the null sender */
	else
		put_safe(o, s, len);
}

static size_t width(const char *s, size_t len, size_t min)
{
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		long c = report_utf8(s, len, &i);
		w += c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? 4 : 1;
	}
	return w > min ? w : min;
}

static void pad(sbuf *o, const char *s, size_t len, size_t w, int agent)
{
	size_t have = agent && len == 0 ? 2 : width(s, len, 0);
	if (agent)
		put_agent(o, s, len);
	else
		put_safe(o, s, len);
	for (; have < w; have++)
		sbuf_putc(o, ' ');
}

/* A table of rows (their keys first, then one column per metric). */
static void text_table(sbuf *o, const char *head, const rp_table *t, const void *rows, size_t n, int agent)
{
	size_t w = strlen(head), len;
	for (size_t i = 0; i < n; i++) {
		const char *k = t->key((const char *)rows + i * t->size, &len);
		w = agent && len == 0 ? (w > 2 ? w : 2) : width(k, len, w);
	}
	sbuf_puts(o, "\n");
	pad(o, head, strlen(head), w, 0);
	for (size_t m = 0; m < t->n; m++) {
		sbuf_puts(o, "  ");
		for (const char *c = t->m[m].name; *c; c++)
			sbuf_putc(o, *c == '_' ? '-' : *c);
	}
	sbuf_puts(o, "\n");
	for (size_t i = 0; i < n; i++) {
		const void *row = (const char *)rows + i * t->size;
		const char *k = t->key(row, &len);
		pad(o, k, len, w, agent);
		for (size_t m = 0; m < t->n; m++) {
			char v[32];
			long den, num = report_metric(row, &t->m[m], &den);
			if (t->m[m].rate)
				report_fmt_rate(v, sizeof v, num, den);
			else
				snprintf(v, sizeof v, "%ld", num);
			sbuf_printf(o, "  %*s", (int)strlen(t->m[m].name), v);
		}
		sbuf_puts(o, "\n");
	}
}

int report_text(const report *rp, sbuf *o)
{
	const rp_figures *f = &rp->fig;
	char a[64], b[64], c[64];
	sbuf_printf(o, "tonegate report: %zu log%s", f->ninput, f->ninput == 1 ? "" : "s");
	if (f->messages) {
		report_fmt_time(a, sizeof a, f->first);
		report_fmt_time(b, sizeof b, f->last);
		sbuf_printf(o, ", verdicts from %s to %s UTC", a, b);
	}
	sbuf_printf(o, "\nLines: %ld read, %ld skipped (malformed)\n", f->lines, f->skipped);
	report_fmt_rate(a, sizeof a, f->action[RP_HOLD], f->messages);
	report_fmt_rate(b, sizeof b, f->would_hold, f->messages);
	sbuf_printf(o, "Messages: %ld; held %ld (%s); would hold %ld (%s); monitor mode %ld\n", f->messages,
		    f->action[RP_HOLD], a, f->would_hold, b, f->monitor);
	sbuf_puts(o, "Actions:");
	for (int k = 0; k < RP_NACTION; k++)
		sbuf_printf(o, " %s %ld%s", report_action[k], f->action[k], k + 1 < RP_NACTION ? "," : "\n");
	report_fmt_rate(a, sizeof a, f->released, f->decided);
	sbuf_printf(o, "Decisions: %ld holds decided, %ld released, %ld discarded (release rate %s); "
		    "%ld without a verdict, %ld repeated\n", f->decided, f->released, f->discarded, a,
		    f->unmatched, f->repeated);
	report_fmt_secs(a, sizeof a, f->ttd_median);
	report_fmt_secs(b, sizeof b, f->ttd_p90);
	report_fmt_secs(c, sizeof c, f->ttd_max);
	if (f->ttd_n)
		sbuf_printf(o, "Time to decision: median %s, p90 %s, max %s (%ld decisions)\n", a, b, c, f->ttd_n);
	else
		sbuf_puts(o, "Time to decision: -\n");

	text_table(o, "Day", &report_days, f->day, f->nday, 0);
	text_table(o, "Agent", &report_agents, f->agent, f->nagent, 1);
	text_table(o, "Rule", &report_rules, f->rule, f->nrule, 0);

	int any = 0;
	for (size_t i = 0; i < f->nrule; i++) {
		const rp_rule *r = &f->rule[i];
		if (r->ntop == 0)
			continue;
		if (!any++)
			sbuf_puts(o, "\nTop excerpts\n");
		sbuf_puts(o, "  ");
		put_safe(o, r->name, r->len);
		sbuf_puts(o, "\n");
		for (size_t k = 0; k < r->ntop; k++) {
			sbuf_printf(o, "    %4ld  \"", r->top[k].count);
			put_safe(o, r->top[k].text, r->top[k].len);
			sbuf_puts(o, "\"\n");
		}
	}
	return o->s ? 0 : -1;
}

/* ---- CSV: RFC 4180 quoting; a cell a spreadsheet would take for a formula
 * (= + - @ first) gets a leading apostrophe. */
static void cell(sbuf *o, const char *s, size_t len)
{
	sbuf tmp = SBUF_INIT;
	put_safe(&tmp, s, len);
	const char *t = tmp.s ? tmp.s : "";
	int formula = tmp.len > 1 && strchr("=+-@", t[0]);
	if (formula || strpbrk(t, ",\"")) {
		sbuf_putc(o, '"');
		if (formula)
			sbuf_putc(o, '\'');
		for (size_t i = 0; i < tmp.len; i++) {
			if (t[i] == '"')
				sbuf_putc(o, '"');
			sbuf_putc(o, t[i]);
		}
		sbuf_putc(o, '"');
	} else {
		sbuf_append(o, t, tmp.len);
	}
	sbuf_free(&tmp);
}

static void row(sbuf *o, const char *section, const char *key, size_t klen, const char *metric, long v)
{
	sbuf_printf(o, "%s,", section);
	cell(o, key, klen);
	sbuf_printf(o, ",%s,%ld\r\n", metric, v);
}

static void rate(sbuf *o, const char *section, const char *key, size_t klen, const char *metric, long num,
		 long den)
{
	sbuf_printf(o, "%s,", section);
	cell(o, key, klen);
	if (den > 0)
		sbuf_printf(o, ",%s,%.4f\r\n", metric, (double)num / (double)den);
	else
		sbuf_printf(o, ",%s,\r\n", metric);
}

static void table_rows(sbuf *o, const char *section, const rp_table *t, const void *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const void *r = (const char *)rows + i * t->size;
		size_t len;
		const char *key = t->key(r, &len);
		for (size_t m = 0; m < t->n; m++) {
			long den, num = report_metric(r, &t->m[m], &den);
			if (t->m[m].rate)
				rate(o, section, key, len, t->m[m].name, num, den);
			else
				row(o, section, key, len, t->m[m].name, num);
		}
	}
}

int report_csv(const report *rp, sbuf *o)
{
	const rp_figures *f = &rp->fig;
	sbuf_puts(o, "section,key,metric,value\r\n");
	row(o, "total", "", 0, "lines", f->lines);
	row(o, "total", "", 0, "skipped", f->skipped);
	row(o, "total", "", 0, "messages", f->messages);
	for (int k = 0; k < RP_NACTION; k++)
		row(o, "total", "", 0, report_action[k], f->action[k]);
	row(o, "total", "", 0, "would_hold", f->would_hold);
	row(o, "total", "", 0, "monitor", f->monitor);
	rate(o, "total", "", 0, "hold_rate", f->action[RP_HOLD], f->messages);
	row(o, "total", "", 0, "decided", f->decided);
	row(o, "total", "", 0, "released", f->released);
	row(o, "total", "", 0, "discarded", f->discarded);
	rate(o, "total", "", 0, "release_rate", f->released, f->decided);
	row(o, "total", "", 0, "unmatched", f->unmatched);
	row(o, "total", "", 0, "repeated", f->repeated);
	const char *secs[] = {"decision_median_s", "decision_p90_s", "decision_max_s"};
	const double sv[] = {f->ttd_median, f->ttd_p90, f->ttd_max};
	for (int k = 0; k < 3; k++)  /* empty when no hold was decided */
		if (f->ttd_n)
			row(o, "total", "", 0, secs[k], (long)sv[k]);
		else
			rate(o, "total", "", 0, secs[k], 0, 0);
	table_rows(o, "input", &report_inputs, f->input, f->ninput);
	table_rows(o, "day", &report_days, f->day, f->nday);
	table_rows(o, "agent", &report_agents, f->agent, f->nagent);
	table_rows(o, "rule", &report_rules, f->rule, f->nrule);
	for (size_t i = 0; i < f->nstatus; i++)
		row(o, "status", f->status[i].name, f->status[i].len, "messages", f->status[i].count);
	return o->s ? 0 : -1;
}
