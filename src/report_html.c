/*
 * report_html — the report as one self-contained HTML file: inline CSS,
 * inline SVG bar charts, no script, and a Content-Security-Policy that
 * forbids loading anything, so the file shows the same offline and a string
 * that slipped past the escaping could still run nothing. Every figure
 * carries data-fig/data-key/data-metric (the CSV's section, key, metric)
 * and every bar data-bar/data-key/data-v, for tests and scrapers.
 */
#include "config.h"
#include "report_render.h"

#include <stdio.h>
#include <string.h>

/* s as HTML text or attribute value; bytes that are not UTF-8 and control
 * characters become U+FFFD. At most max characters (0: all), then "…". */
static void esc_n(sbuf *o, const char *s, size_t len, size_t max)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; chars++) {
		size_t at = i;
		long c = report_utf8(s, len, &i);
		if (max && chars == max) {
			sbuf_puts(o, "\xe2\x80\xa6");
			return;
		}
		switch (c) {
		case '&': sbuf_puts(o, "&amp;"); break;
		case '<': sbuf_puts(o, "&lt;"); break;
		case '>': sbuf_puts(o, "&gt;"); break;
		case '"': sbuf_puts(o, "&quot;"); break;
		case '\'': sbuf_puts(o, "&#39;"); break;
		default:
			if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
				sbuf_puts(o, "\xef\xbf\xbd");
			else
				sbuf_append(o, s + at, i - at);
		}
	}
}

static void esc(sbuf *o, const char *s, size_t len)
{
	esc_n(o, s, len, 0);
}

static void esc_agent(sbuf *o, const char *s, size_t len, size_t max)
{
	if (len == 0)
		sbuf_puts(o, "&lt;&gt;");  /* the null sender */
	else
		esc_n(o, s, len, max);
}

/* The attributes naming a figure: the CSV's section, key and metric. */
static void fig(sbuf *o, const char *section, const char *key, size_t klen, const char *metric)
{
	sbuf_printf(o, " data-fig=\"%s\" data-key=\"", section);
	esc(o, key, klen);
	sbuf_printf(o, "\" data-metric=\"%s\"", metric);
}

static void td_num(sbuf *o, const char *section, const char *key, size_t klen, const char *metric, long v)
{
	sbuf_puts(o, "<td class=\"n\"");
	fig(o, section, key, klen, metric);
	sbuf_printf(o, ">%ld</td>", v);
}

static void td_rate(sbuf *o, const char *section, const char *key, size_t klen, const char *metric, long num,
		    long den)
{
	char r[32];
	report_fmt_rate(r, sizeof r, num, den);
	sbuf_puts(o, "<td class=\"n\"");
	fig(o, section, key, klen, metric);
	sbuf_printf(o, ">%s</td>", r);
}

/* A table of rows: their keys, then one column per metric; left open after
 * the last row for the caller's </tbody>, <tfoot> and </table>. */
static void table(sbuf *o, const char *section, const char *head, const rp_table *t, const void *rows, size_t n,
		  int agent)
{
	sbuf_printf(o, "<table><thead><tr><th>%s</th>", head);
	for (size_t m = 0; m < t->n; m++)
		sbuf_printf(o, "<th class=\"n\">%s</th>", t->m[m].label);
	sbuf_puts(o, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const void *row = (const char *)rows + i * t->size;
		size_t len;
		const char *key = t->key(row, &len);
		sbuf_puts(o, "<tr><td class=\"k\">");
		if (agent)
			esc_agent(o, key, len, 0);
		else
			esc(o, key, len);
		sbuf_puts(o, "</td>");
		for (size_t m = 0; m < t->n; m++) {
			long den, num = report_metric(row, &t->m[m], &den);
			if (t->m[m].rate)
				td_rate(o, section, key, len, t->m[m].name, num, den);
			else
				td_num(o, section, key, len, t->m[m].name, num);
		}
		sbuf_puts(o, "</tr>\n");
	}
}

static const char css[] =
	":root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f3f5f8;--card:#fff;--accent:#2f6fba;"
	"--pass:#4c9f70;--suggest:#6aa9d8;--rewrite:#e3a83b;--hold:#d9644a;--reject:#7b3f98}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
	"sans-serif;color:var(--fg);background:var(--bg)}\n"
	"header{background:#1f2933;color:#fff;padding:22px 0}\n"
	"header div,main,footer{max-width:1200px;margin:0 auto;padding:0 32px}\n"
	"header h1{margin:0;font-size:24px;font-weight:600;letter-spacing:.01em}\n"
	"header p{margin:4px 0 0;color:#cbd2d9;font-size:14px}\n"
	"main{padding-top:24px;padding-bottom:16px}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:14px;margin-bottom:24px}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px}\n"
	".card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}\n"
	".card .value{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums;line-height:1.3}\n"
	".card .note{color:var(--muted);font-size:13px}\n"
	"section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 24px;"
	"margin-bottom:24px}\n"
	"h2{font-size:18px;margin:0 0 2px}\n"
	"h3{font-size:15px;margin:18px 0 6px}\n"
	".lead{color:var(--muted);margin:0 0 14px;font-size:14px}\n"
	"table{border-collapse:collapse;width:100%;font-size:14px;margin-top:10px}\n"
	"th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\n"
	"th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;"
	"background:#f8f9fb}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.k{overflow-wrap:anywhere}\n"
	"th[scope=row]{text-transform:none;letter-spacing:0;font-size:14px;color:var(--fg);font-weight:400;"
	"background:none}\n"
	"table.narrow{max-width:560px}\n"
	"tbody tr:hover{background:#f6f8fb}\ntfoot td{font-weight:600}\n"
	"svg{display:block;width:100%;height:auto;margin:6px 0}\n"
	"svg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;font-size:12px;"
	"fill:#52606d}\n"
	"svg .grid{stroke:#e4e7eb;stroke-width:1}\n"
	"svg .axis{stroke:#9aa5b1;stroke-width:1}\n"
	".pass{fill:var(--pass);background:var(--pass)}.suggest{fill:var(--suggest);background:var(--suggest)}"
	".rewrite{fill:var(--rewrite);background:var(--rewrite)}.hold{fill:var(--hold);background:var(--hold)}"
	".reject{fill:var(--reject);background:var(--reject)}.bar{fill:var(--accent)}.light{fill:#b8cde6}\n"
	".legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;color:var(--muted);margin:4px 0}\n"
	".legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;"
	"vertical-align:-1px}\n"
	"details summary{cursor:pointer;color:var(--accent);margin-top:10px;font-size:14px}\n"
	".excerpts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:4px 28px}\n"
	".excerpts ol{margin:0;padding-left:0;list-style:none}\n"
	".excerpts li{display:flex;gap:10px;padding:4px 0;border-bottom:1px solid var(--line);font-size:14px}\n"
	".excerpts .c{min-width:3.2em;text-align:right;color:var(--muted);font-variant-numeric:tabular-nums}\n"
	".excerpts q{overflow-wrap:anywhere}\n"
	".two{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 32px}\n"
	".muted{color:var(--muted)}\n"
	".warn{background:#fff4e5;border:1px solid #f0c36d;border-radius:6px;padding:8px 12px;margin:0 0 20px}\n"
	"footer{color:var(--muted);font-size:13px;padding-bottom:28px}\n"
	"@media print{body{background:#fff}section,.card{break-inside:avoid}}\n";

static void head(sbuf *o, const rp_figures *f)
{
	char a[64], b[64];
	sbuf_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		     "style-src 'unsafe-inline'\">\n<title>tonegate report");
	if (f->messages) {
		report_fmt_time(a, 11, f->first);
		report_fmt_time(b, 11, f->last);
		sbuf_printf(o, ", %s to %s", a, b);
	}
	sbuf_printf(o, "</title>\n<style>\n%s</style>\n</head>\n", css);
}

static void banner(sbuf *o, const report *rp, time_t now)
{
	const rp_figures *f = &rp->fig;
	char a[64], b[64];
	sbuf_puts(o, "<body>\n<header><div><h1>tonegate report</h1><p>");
	if (f->messages) {
		report_fmt_time(a, sizeof a, f->first);
		report_fmt_time(b, sizeof b, f->last);
		sbuf_printf(o, "Verdicts from <span id=\"first\">%s</span> to <span id=\"last\">%s</span> UTC", a, b);
	} else {
		sbuf_puts(o, "No verdicts");
	}
	sbuf_printf(o, " &middot; %zu log%s", f->ninput, f->ninput == 1 ? "" : "s");
	if (rp->filter.has_since) {
		report_fmt_time(a, sizeof a, rp->filter.since);
		sbuf_printf(o, " &middot; since %s", a);
	}
	if (rp->filter.has_until) {
		report_fmt_time(a, sizeof a, rp->filter.until);
		sbuf_printf(o, " &middot; until %s", a);
	}
	for (size_t i = 0; i < rp->filter.nagent; i++) {
		sbuf_puts(o, i ? ", " : " &middot; agents: ");
		esc(o, rp->filter.agent[i], strlen(rp->filter.agent[i]));
	}
	report_fmt_time(a, sizeof a, now);
	sbuf_printf(o, " &middot; made %s UTC</p></div></header>\n<main>\n", a);
	if (f->skipped)
		sbuf_printf(o, "<p class=\"warn\" id=\"skipped\"><span data-fig=\"total\" data-key=\"\" "
			    "data-metric=\"skipped\">%ld</span> malformed line%s skipped (see the list of "
			    "inputs)</p>\n", f->skipped, f->skipped == 1 ? "" : "s");
}

/* A figure in a box; the note under it may hold a second figure (note_metric)
 * between pre and post. */
static void card(sbuf *o, const char *label, const char *metric, const char *value, const char *pre,
		 const char *note_metric, const char *note, const char *post)
{
	sbuf_printf(o, "<div class=\"card\"><div class=\"label\">%s</div><div class=\"value\"", label);
	fig(o, "total", "", 0, metric);
	sbuf_printf(o, ">%s</div><div class=\"note\">%s", value, pre);
	if (note_metric) {
		sbuf_puts(o, "<span");
		fig(o, "total", "", 0, note_metric);
		sbuf_printf(o, ">%s</span>", note);
	}
	sbuf_printf(o, "%s</div></div>\n", post);
}

static void cards(sbuf *o, const rp_figures *f)
{
	char v[64], n[96];
	sbuf_puts(o, "<div class=\"cards\">\n");
	snprintf(v, sizeof v, "%ld", f->messages);
	card(o, "Messages", "messages", v, "judged or passed unchecked", NULL, NULL, "");
	snprintf(v, sizeof v, "%ld", f->action[RP_HOLD]);
	report_fmt_rate(n, sizeof n, f->action[RP_HOLD], f->messages);
	card(o, "Held", "hold", v, "", "hold_rate", n, " of messages");
	snprintf(v, sizeof v, "%ld", f->would_hold);
	snprintf(n, sizeof n, "%ld", f->monitor);
	card(o, "Would hold", "would_hold", v, "", "monitor", n, " in monitor mode");
	snprintf(v, sizeof v, "%ld", f->decided);
	snprintf(n, sizeof n, "%ld", f->released);
	card(o, "Holds decided", "decided", v, "", "released", n, " released");
	report_fmt_rate(v, sizeof v, f->released, f->decided);
	card(o, "Release rate", "release_rate", v, "released / decided holds", NULL, NULL, "");
	report_fmt_secs(v, sizeof v, f->ttd_median);
	report_fmt_secs(n, sizeof n, f->ttd_p90);
	card(o, "Time to decision", "decision_median_s", f->ttd_n ? v : "-", "median; p90 ", "decision_p90_s",
	     f->ttd_n ? n : "-", "");
	sbuf_puts(o, "</div>\n");
}

/* A step of 1, 2 or 5 times a power of ten giving at most about 5 ticks. */
static double nice_step(double max)
{
	double step = 1;
	while (max / step > 5) {
		double m = step;
		if (max / (2 * m) <= 5)
			return 2 * m;
		if (max / (5 * m) <= 5)
			return 5 * m;
		step = 10 * m;
	}
	return step;
}

static void legend(sbuf *o)
{
	sbuf_puts(o, "<div class=\"legend\">");
	for (int k = 0; k < RP_NACTION; k++)
		sbuf_printf(o, "<span><i class=\"%s\"></i>%s</span>", report_action[k], report_action[k]);
	sbuf_puts(o, "</div>\n");
}

/* Actions per day: one stacked column per day. */
static void day_chart(sbuf *o, const rp_figures *f)
{
	const double W = 1000, L = 48, R = 8, T = 10, B = 34, H = 260;
	double max = 1, pw = W - L - R, ph = H - T - B;
	for (size_t i = 0; i < f->nday; i++)
		if (f->day[i].messages > max)
			max = (double)f->day[i].messages;
	double step = nice_step(max), top = step;
	while (top < max)
		top += step;
	sbuf_printf(o, "<svg id=\"chart-days\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"chart-days-t\">"
		    "<title id=\"chart-days-t\">Messages per day by action</title>\n", W, H);
	for (double y = 0; y <= top + step / 2; y += step) {
		double py = T + ph - y / top * ph;
		sbuf_printf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
			    L, W - R, py, py, L - 6, py + 4, y);
	}
	double slot = pw / (double)(f->nday ? f->nday : 1), bw = slot * 0.72 > 48 ? 48 : slot * 0.72;
	size_t every = f->nday / 14 + 1;  /* at most about 14 date labels */
	for (size_t i = 0; i < f->nday; i++) {
		const rp_day *d = &f->day[i];
		double x = L + slot * (double)i + (slot - bw) / 2, y = T + ph;
		for (int k = 0; k < RP_NACTION; k++) {
			if (d->action[k] == 0)
				continue;
			double h = (double)d->action[k] / top * ph;
			y -= h;
			sbuf_printf(o, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				    "data-bar=\"days\" data-key=\"%s\" data-metric=\"%s\" data-v=\"%ld\">"
				    "<title>%s: %ld %s</title></rect>\n",
				    report_action[k], x, y, bw, h, d->date, report_action[k], d->action[k], d->date,
				    d->action[k], report_action[k]);
		}
		if (i % every == 0)
			sbuf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.5s</text>\n", x + bw / 2,
				    T + ph + 18, d->date + 5);
	}
	sbuf_printf(o, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/></svg>\n", L, W - R,
		    T + ph, T + ph);
}

typedef struct hbar {
	const char *label;
	size_t len;
	int agent;          /* the label is an envelope sender */
	double v, over;     /* the bar, and a part of it drawn darker (or -1) */
	char text[64];      /* shown after the bar */
} hbar;

/* Horizontal bars, one per row; top: the value of a full bar. */
static void hbars(sbuf *o, const char *id, const char *title, const hbar *b, size_t n, double top,
		  const char *cls, const char *over_cls)
{
	const double W = 1000, LBL = 230, ROW = 26, T = 6;
	double pw = W - LBL - 190, H = T + ROW * (double)n + 8;
	sbuf_printf(o, "<svg id=\"chart-%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"chart-%s-t\">"
		    "<title id=\"chart-%s-t\">%s</title>\n", id, W, H, id, id, title);
	sbuf_printf(o, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", LBL, LBL, T,
		    H - 8);
	for (size_t i = 0; i < n; i++) {
		double y = T + ROW * (double)i, w = top > 0 ? b[i].v / top * pw : 0;
		sbuf_printf(o, "<g><title>");
		if (b[i].agent)
			esc_agent(o, b[i].label, b[i].len, 0);
		else
			esc(o, b[i].label, b[i].len);
		sbuf_printf(o, ": %s</title><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", b[i].text, LBL - 8,
			    y + 17);
		if (b[i].agent)
			esc_agent(o, b[i].label, b[i].len, 32);
		else
			esc_n(o, b[i].label, b[i].len, 32);
		sbuf_printf(o, "</text><rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"18\" rx=\"2\" "
			    "data-bar=\"%s\" data-key=\"", cls, LBL, y + 4, w, id);
		esc(o, b[i].label, b[i].len);
		sbuf_printf(o, "\" data-v=\"%g\"/>", b[i].v);
		if (b[i].over > 0)
			sbuf_printf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"18\" rx=\"2\"/>",
				    over_cls, LBL, y + 4, b[i].over / top * pw);
		sbuf_printf(o, "<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", LBL + w + 8, y + 17, b[i].text);
	}
	sbuf_puts(o, "</svg>\n");
}

static void days_section(sbuf *o, const rp_figures *f)
{
	sbuf_puts(o, "<section id=\"days\"><h2>Actions per day</h2>\n<p class=\"lead\">What tonegate did with each "
		     "message, per day (UTC). In monitor mode the action is pass; &ldquo;would hold&rdquo; counts "
		     "what enforcing every rule would have held.</p>\n");
	legend(o);
	day_chart(o, f);
	sbuf_printf(o, "<details><summary>Table of %zu day%s</summary>\n", f->nday, f->nday == 1 ? "" : "s");
	table(o, "day", "Day", &report_days, f->day, f->nday, 0);
	sbuf_puts(o, "</tbody><tfoot><tr><th>Total</th>");
	td_num(o, "total", "", 0, "messages", f->messages);
	for (int k = 0; k < RP_NACTION; k++)
		td_num(o, "total", "", 0, report_action[k], f->action[k]);
	td_num(o, "total", "", 0, "would_hold", f->would_hold);
	td_num(o, "total", "", 0, "monitor", f->monitor);
	td_rate(o, "total", "", 0, "hold_rate", f->action[RP_HOLD], f->messages);
	sbuf_puts(o, "</tr></tfoot></table></details></section>\n");
}

#define MAX_BARS 20

static void agents_section(sbuf *o, const rp_figures *f)
{
	hbar b[MAX_BARS];
	size_t n = 0;
	double top = 1;
	for (size_t i = 0; i < f->nagent && n < MAX_BARS; i++) {  /* sorted: most holds first */
		const rp_agent *g = &f->agent[i];
		if (g->holds == 0)
			break;
		b[n] = (hbar){g->name, g->len, 1, (double)g->holds, -1, ""};
		char r[32];
		report_fmt_rate(r, sizeof r, g->holds, g->messages);
		snprintf(b[n].text, sizeof b[n].text, "%ld of %ld (%s)", g->holds, g->messages, r);
		top = g->holds > top ? (double)g->holds : top;
		n++;
	}
	sbuf_puts(o, "<section id=\"agents\"><h2>Holds per agent</h2>\n<p class=\"lead\">Messages held per envelope "
		     "sender, with the share of that agent's messages.");
	if (n == MAX_BARS)
		sbuf_printf(o, " The chart shows the %d agents with the most holds.", MAX_BARS);
	sbuf_puts(o, "</p>\n");
	if (n)
		hbars(o, "agents", "Holds per agent", b, n, top, "hold", NULL);
	else
		sbuf_puts(o, "<p class=\"muted\">No holds.</p>\n");
	sbuf_printf(o, "<details%s><summary>Table of %zu agent%s</summary>\n", f->nagent <= 12 ? " open" : "",
		    f->nagent, f->nagent == 1 ? "" : "s");
	table(o, "agent", "Agent", &report_agents, f->agent, f->nagent, 1);
	sbuf_puts(o, "</tbody></table></details></section>\n");
}

static void rules_section(sbuf *o, const rp_figures *f)
{
	hbar b[MAX_BARS];
	size_t n = 0;
	double top = 1;
	for (size_t i = 0; i < f->nrule && n < MAX_BARS; i++, n++) {  /* sorted: most findings first */
		const rp_rule *r = &f->rule[i];
		b[n] = (hbar){r->name, r->len, 0, (double)r->findings, (double)r->in_holds, ""};
		snprintf(b[n].text, sizeof b[n].text, "%ld (%ld in holds)", r->findings, r->in_holds);
		top = r->findings > top ? (double)r->findings : top;
	}
	sbuf_puts(o, "<section id=\"rules\"><h2>Findings per rule</h2>\n<p class=\"lead\">Messages in which each rule "
		     "found something; the darker part were held.</p>\n");
	if (n) {
		sbuf_puts(o, "<div class=\"legend\"><span><i style=\"background:#b8cde6\"></i>messages with a finding"
			     "</span><span><i class=\"hold\"></i>of which held</span></div>\n");
		hbars(o, "rules", "Findings per rule", b, n, top, "light", "hold");
	} else {
		sbuf_puts(o, "<p class=\"muted\">No findings.</p>\n");
	}

	/* Release rate: of the decided holds with the rule, the share released. */
	n = 0;
	for (size_t i = 0; i < f->nrule && n < MAX_BARS; i++) {
		const rp_rule *r = &f->rule[i];
		if (r->decided == 0)
			continue;
		char rate[32];
		report_fmt_rate(rate, sizeof rate, r->released, r->decided);
		b[n] = (hbar){r->name, r->len, 0, 100.0 * (double)r->released / (double)r->decided, -1, ""};
		snprintf(b[n].text, sizeof b[n].text, "%s (%ld of %ld)", rate, r->released, r->decided);
		n++;
	}
	sbuf_puts(o, "<h3>Release rate per rule</h3>\n<p class=\"lead\">Of the held messages with the rule that a "
		     "manager decided on, the share released: a rough measure of how often the rule is wrong in "
		     "practice (high = candidate for tuning).</p>\n");
	if (n)
		hbars(o, "release", "Release rate per rule (%)", b, n, 100, "bar", NULL);
	else
		sbuf_puts(o, "<p class=\"muted\">No decided holds.</p>\n");

	sbuf_printf(o, "<details open><summary>Table of %zu rule%s</summary>\n", f->nrule, f->nrule == 1 ? "" : "s");
	table(o, "rule", "Rule", &report_rules, f->rule, f->nrule, 0);
	sbuf_puts(o, "</tbody></table></details></section>\n");
}

static void decisions_section(sbuf *o, const rp_figures *f)
{
	char a[32], b[32], c[32];
	report_fmt_secs(a, sizeof a, f->ttd_median);
	report_fmt_secs(b, sizeof b, f->ttd_p90);
	report_fmt_secs(c, sizeof c, f->ttd_max);
	sbuf_puts(o, "<section id=\"decisions\"><h2>Decisions on holds</h2>\n<p class=\"lead\">A manager's release "
		     "or discard (tonegatectl) joined to the verdict that held the message. Time to decision is the "
		     "time from the verdict to the decision (H:MM:SS).</p>\n<table class=\"narrow\"><tbody>\n");
	static const struct { const char *label, *metric; } rows[] = {
		{"Holds decided", "decided"}, {"Released", "released"}, {"Discarded", "discarded"},
		{"Decisions without a verdict in these logs", "unmatched"},
		{"Repeated decisions on a decided hold", "repeated"},
	};
	const long v[] = {f->decided, f->released, f->discarded, f->unmatched, f->repeated};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		sbuf_printf(o, "<tr><th scope=\"row\">%s</th>", rows[i].label);
		td_num(o, "total", "", 0, rows[i].metric, v[i]);
		sbuf_puts(o, "</tr>\n");
	}
	const char *t[] = {a, b, c};
	const char *tl[] = {"Median time to decision", "90th percentile", "Longest"};
	const char *tm[] = {"decision_median_s", "decision_p90_s", "decision_max_s"};
	for (int i = 0; i < 3; i++) {
		sbuf_printf(o, "<tr><th scope=\"row\">%s</th><td class=\"n\"", tl[i]);
		fig(o, "total", "", 0, tm[i]);
		sbuf_printf(o, ">%s</td></tr>\n", f->ttd_n ? t[i] : "-");
	}
	sbuf_puts(o, "</tbody></table></section>\n");
}

static void excerpts_section(sbuf *o, const rp_figures *f)
{
	sbuf_puts(o, "<section id=\"excerpts\"><h2>Top excerpts per rule</h2>\n<p class=\"lead\">The agent's words that "
		     "set each rule off most often, with how many times.</p>\n<div class=\"excerpts\">\n");
	int any = 0;
	for (size_t i = 0; i < f->nrule; i++) {
		const rp_rule *r = &f->rule[i];
		if (r->ntop == 0)
			continue;
		any = 1;
		sbuf_puts(o, "<div><h3>");
		esc(o, r->name, r->len);
		sbuf_puts(o, "</h3><ol>\n");
		for (size_t k = 0; k < r->ntop; k++) {
			sbuf_puts(o, "<li data-excerpt=\"");
			esc(o, r->name, r->len);
			sbuf_printf(o, "\" data-count=\"%ld\"><span class=\"c\">%ld&times;</span><q>", r->top[k].count,
				    r->top[k].count);
			esc(o, r->top[k].text, r->top[k].len);
			sbuf_puts(o, "</q></li>\n");
		}
		sbuf_puts(o, "</ol></div>\n");
	}
	if (!any)
		sbuf_puts(o, "<p class=\"muted\">No excerpts in these logs (older logs have none; "
			     "verdict_log_excerpt = 0 logs none).</p>\n");
	sbuf_puts(o, "</div></section>\n");
}

static void inputs_section(sbuf *o, const rp_figures *f)
{
	sbuf_puts(o, "<section id=\"inputs\"><div class=\"two\"><div><h2>Inputs</h2>\n");
	table(o, "input", "Log", &report_inputs, f->input, f->ninput, 0);
	sbuf_puts(o, "</tbody></table></div>\n<div><h2>Messages by status</h2>\n<table><thead><tr><th>Status</th>"
		     "<th class=\"n\">Messages</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < f->nstatus; i++) {
		sbuf_puts(o, "<tr><td class=\"k\">");
		esc(o, f->status[i].name, f->status[i].len);
		sbuf_puts(o, "</td>");
		td_num(o, "status", f->status[i].name, f->status[i].len, "messages", f->status[i].count);
		sbuf_puts(o, "</tr>\n");
	}
	sbuf_puts(o, "</tbody></table></div></div></section>\n");
}

int report_html(const report *rp, time_t now, sbuf *o)
{
	const rp_figures *f = &rp->fig;
	head(o, f);
	banner(o, rp, now);
	cards(o, f);
	days_section(o, f);
	agents_section(o, f);
	rules_section(o, f);
	decisions_section(o, f);
	excerpts_section(o, f);
	inputs_section(o, f);
	sbuf_printf(o, "</main>\n<footer><div><span data-fig=\"total\" data-key=\"\" data-metric=\"lines\">%ld</span> "
		       "lines read, <span data-fig=\"total\" data-key=\"\" data-metric=\"skipped\">%ld</span> skipped. "
		       "Made by tonegate-report " PACKAGE_VERSION ".</div></footer>\n</body>\n</html>\n",
		    f->lines, f->skipped);
	return o->s ? 0 : -1;
}
