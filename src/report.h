/*
 * report — the figures of tonegate-report: verdict-log lines in (one file
 * per relay), one struct of figures out. Pure: no I/O, the caller reads the
 * files and renders the figures (report_render.h).
 *
 * report_add() parses one line (JSON, see tonegate.conf(5), verdict_log):
 * a verdict or a manager's decision. It adds the verdict to the counts and
 * keeps a few dozen bytes per hold and per decision for the join, never the
 * line. A line it cannot use is counted as skipped and described in err.
 * report_finish() joins each decision to the verdict that held the message
 * (same queue id: the same file's latest hold before the decision, else the
 * one hold of that id in the other files), applies the filter and fills in
 * rp->fig; call it once, after the last line.
 *
 * Everything in rp->fig belongs to the report and lives until report_free().
 * Strings from the log are kept as they came (untrusted: renderers escape).
 * Not thread-safe; one report belongs to one caller.
 */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include <stddef.h>
#include <time.h>

#include "sbuf.h"

enum { RP_PASS, RP_SUGGEST, RP_REWRITE, RP_HOLD, RP_REJECT, RP_NACTION };
extern const char *const report_action[RP_NACTION];

typedef struct rp_filter {
	time_t since, until;       /* inclusive bounds on the verdict's time */
	int has_since, has_until;
	const char *const *agent;  /* envelope senders to keep (any case); none = all */
	size_t nagent;
} rp_filter;

typedef struct rp_input {      /* one log file (one relay) */
	char *name;
	long lines, verdicts, decisions, skipped;
} rp_input;

typedef struct rp_day {
	char date[11];             /* YYYY-MM-DD, UTC */
	long messages, action[RP_NACTION], monitor, would_hold;
} rp_day;

typedef struct rp_agent {
	char *name;
	size_t len;
	long messages, holds, would_hold, decided, released;
} rp_agent;

typedef struct rp_excerpt {
	char *text;
	size_t len;
	long count;
} rp_excerpt;

typedef struct rp_rule {
	char *name;
	size_t len;
	long findings;             /* messages with the rule */
	long monitor;              /* ... of which the rule was in monitor mode */
	long in_holds;             /* held messages with the rule */
	long decided, released;    /* holds with the rule a manager decided, released */
	rp_excerpt *top;           /* most frequent excerpts first, at most top_n */
	size_t ntop;
	long excerpts;             /* findings that came with an excerpt */
} rp_rule;

typedef struct rp_status {
	char *name;
	size_t len;
	long count;
} rp_status;

typedef struct rp_figures {
	long lines, skipped;              /* lines read (blank ones not counted), skipped */
	long messages;                    /* verdicts within the filter */
	long action[RP_NACTION];
	long would_hold, monitor;         /* would == hold; mode == monitor */
	long decided, released, discarded;/* decisions joined to a hold within the filter */
	long unmatched;                   /* decisions within the filter with no hold to join */
	long repeated;                    /* a second decision on an already decided hold */
	long ttd_n;                       /* time to decision (decision - verdict), seconds */
	double ttd_median, ttd_p90, ttd_max;
	time_t first, last;               /* of the verdicts kept; 0 when none */
	rp_input *input;  size_t ninput;
	rp_day *day;      size_t nday;    /* ascending, every day from first to last */
	rp_agent *agent;  size_t nagent;  /* most holds first, then most messages, name */
	rp_rule *rule;    size_t nrule;   /* most findings first, then name */
	rp_status *status; size_t nstatus;/* most frequent first */
} rp_figures;

typedef struct report {
	rp_figures fig;
	rp_filter filter;
	size_t top_n;                     /* excerpts kept per rule */
	struct rp_priv *priv;
} report;

/* The columns of the per-day, per-agent, per-rule and per-input tables, in
 * order, for every renderer: a count (the long at offset num of the row) or
 * a rate (num / den; none when den is 0). */
typedef struct rp_metric {
	const char *name;     /* as in the CSV */
	const char *label;    /* a column heading */
	size_t num, den;      /* offsets of longs in the row; den only for a rate */
	int rate;
} rp_metric;
typedef struct rp_table {
	const rp_metric *m;
	size_t n;
	size_t size;                                   /* of a row */
	const char *(*key)(const void *row, size_t *len);  /* a row's key */
} rp_table;
extern const rp_table report_days, report_agents, report_rules, report_inputs;
/* The count, or for a rate its numerator and denominator (*den). */
long report_metric(const void *row, const rp_metric *m, long *den);

/* A new report; the filter's strings are borrowed for the report's life.
 * NULL on ENOMEM. */
report *report_new(const rp_filter *f, size_t top_n);
/* Start the next input file; its lines are then given to report_add. */
int report_input(report *rp, const char *name);
/* One line without its newline: 0 used (or blank), 1 skipped (err says why,
 * without the file:line prefix), -1 ENOMEM. */
int report_add(report *rp, const char *line, size_t len, sbuf *err);
/* A line the caller could not give (longer than it reads): counted, skipped. */
void report_skip(report *rp);
int report_finish(report *rp);
void report_free(report *rp);

/* "YYYY-MM-DD" (start of that day, or with end set its last second) or
 * "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (the zone may be left out:
 * UTC) into *t; 0 or -1. */
int report_parse_time(const char *s, size_t len, int end, time_t *t);

/* Formatting shared by the renderers: a rate as "12.5%" (n/a as "-"), a
 * duration in seconds as "H:MM:SS", a time as "YYYY-MM-DD HH:MM". */
void report_fmt_rate(char *buf, size_t n, long num, long den);
void report_fmt_secs(char *buf, size_t n, double secs);
void report_fmt_time(char *buf, size_t n, time_t t);

#endif
