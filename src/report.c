/* report — the figures of tonegate-report; see report.h. */
#include "config.h"
#include "report.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/chash.h>
#include <strings.h>

const char *const report_action[RP_NACTION] = {"pass", "suggest", "rewrite", "hold", "reject"};

#define COUNT(type, field, label) {#field, label, offsetof(type, field), 0, 0}
#define RATE(type, name, num, den, label) {name, label, offsetof(type, num), offsetof(type, den), 1}
static const rp_metric day_m[] = {
	COUNT(rp_day, messages, "Messages"),
	{"pass", "pass", offsetof(rp_day, action[RP_PASS]), 0, 0},
	{"suggest", "suggest", offsetof(rp_day, action[RP_SUGGEST]), 0, 0},
	{"rewrite", "rewrite", offsetof(rp_day, action[RP_REWRITE]), 0, 0},
	{"hold", "hold", offsetof(rp_day, action[RP_HOLD]), 0, 0},
	{"reject", "reject", offsetof(rp_day, action[RP_REJECT]), 0, 0},
	COUNT(rp_day, would_hold, "Would hold"),
	COUNT(rp_day, monitor, "Monitor"),
	RATE(rp_day, "hold_rate", action[RP_HOLD], messages, "Hold rate"),
};
static const rp_metric agent_m[] = {
	COUNT(rp_agent, messages, "Messages"),
	COUNT(rp_agent, holds, "Holds"),
	RATE(rp_agent, "hold_rate", holds, messages, "Hold rate"),
	COUNT(rp_agent, would_hold, "Would hold"),
	COUNT(rp_agent, decided, "Decided"),
	COUNT(rp_agent, released, "Released"),
};
static const rp_metric rule_m[] = {
	COUNT(rp_rule, findings, "Findings"),
	COUNT(rp_rule, monitor, "In monitor mode"),
	COUNT(rp_rule, in_holds, "In holds"),
	COUNT(rp_rule, decided, "Decided"),
	COUNT(rp_rule, released, "Released"),
	RATE(rp_rule, "release_rate", released, decided, "Release rate"),
	COUNT(rp_rule, excerpts, "Excerpts"),
};
static const rp_metric input_m[] = {
	COUNT(rp_input, lines, "Lines"),
	COUNT(rp_input, verdicts, "Verdicts"),
	COUNT(rp_input, decisions, "Decisions"),
	COUNT(rp_input, skipped, "Skipped"),
};
static const char *day_key(const void *r, size_t *len)
{
	*len = 10;
	return ((const rp_day *)r)->date;
}

static const char *agent_key(const void *r, size_t *len)
{
	*len = ((const rp_agent *)r)->len;
	return ((const rp_agent *)r)->name;
}

static const char *rule_key(const void *r, size_t *len)
{
	*len = ((const rp_rule *)r)->len;
	return ((const rp_rule *)r)->name;
}

static const char *input_key(const void *r, size_t *len)
{
	*len = strlen(((const rp_input *)r)->name);
	return ((const rp_input *)r)->name;
}

#define TABLE(m, type, key) {m, sizeof m / sizeof m[0], sizeof(type), key}
const rp_table report_days = TABLE(day_m, rp_day, day_key), report_agents = TABLE(agent_m, rp_agent, agent_key),
	       report_rules = TABLE(rule_m, rp_rule, rule_key), report_inputs = TABLE(input_m, rp_input, input_key);

long report_metric(const void *row, const rp_metric *m, long *den)
{
	long v;
	memcpy(&v, (const char *)row + m->num, sizeof v);
	if (den && m->rate)
		memcpy(den, (const char *)row + m->den, sizeof *den);
	return v;
}

/* ---- dict: strings to dense indices, each with a zeroed item of isz bytes.
 * Keys are copied (NUL-terminated, may hold NULs); items may move when one
 * is added, so callers keep indices, not pointers, across dict_get. The
 * lookup is libetpan's chash (key -> index), as in trial.c. */
typedef struct dict {
	char **key;
	size_t *klen;
	char *item;
	size_t isz, n, cap;
	chash *index;     /* key -> its index (a size_t, copied); NULL until the first add */
} dict;

#define ITEM(d, i) ((void *)((d)->item + (size_t)(i) * (d)->isz))

/* The index of key k (added when add is set): >= 0, -1 not there, -2 ENOMEM. */
static long dict_get(dict *d, const char *k, size_t len, int add)
{
	chashdatum key = {(void *)k, (unsigned)len}, val;
	if (d->index && chash_get(d->index, &key, &val) == 0) {
		size_t i;
		memcpy(&i, val.data, sizeof i);
		return (long)i;
	}
	if (!add)
		return -1;
	if (d->index == NULL && (d->index = chash_new(CHASH_DEFAULTSIZE, CHASH_COPYALL)) == NULL)
		return -2;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **nkey = realloc(d->key, cap * sizeof *nkey);
		if (nkey)
			d->key = nkey;
		size_t *klen = realloc(d->klen, cap * sizeof *klen);
		if (klen)
			d->klen = klen;
		char *item = d->isz ? realloc(d->item, cap * d->isz) : d->item;
		if (item)
			d->item = item;
		if (!nkey || !klen || (d->isz && !item))
			return -2;
		d->cap = cap;
	}
	char *copy = malloc(len + 1);
	size_t i = d->n;
	val.data = &i;
	val.len = sizeof i;
	if (copy == NULL || chash_set(d->index, &key, &val, NULL) < 0) {
		free(copy);
		return -2;
	}
	memcpy(copy, k, len);
	copy[len] = '\0';
	d->n++;
	d->key[i] = copy;
	d->klen[i] = len;
	if (d->isz)
		memset(ITEM(d, i), 0, d->isz);
	return (long)i;
}

static void dict_free(dict *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->key[i]);
	free(d->key);
	free(d->klen);
	free(d->item);
	if (d->index)
		chash_free(d->index);
	memset(d, 0, sizeof *d);
}

/* Grow *p (an array of *cap elements of sz bytes) to hold n + 1. */
static int grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *q = realloc(*(void **)p, c * sz);
	if (q == NULL)
		return -1;
	*(void **)p = q;
	*cap = c;
	return 0;
}

/* ---- records kept per line: what the join and the figures need. */
typedef struct vrec {          /* a hold */
	time_t t;
	size_t file, agent;        /* agent: index in agents, when in */
	size_t roff, nr;           /* its distinct rules in pool (holds within the filter) */
	long prev;                 /* the previous verdict with the same queue id, -1 */
	long dec;                  /* the decision joined to it, -1 */
	unsigned char in;
} vrec;

typedef struct drec {          /* a decision */
	time_t t;
	size_t file;
	long q;                    /* queue id index */
	unsigned char release, in; /* in: its own time and agent pass the filter */
} drec;

struct rp_priv {
	struct json_tokener *tok;
	dict queues;               /* item: long, the latest verdict + 1 */
	dict agents, rules, days, statuses;
	dict *excerpts;            /* per rule; item: long count */
	size_t nexcerpts;
	vrec *v;   size_t nv, capv;
	drec *d;   size_t nd, capd;
	size_t *pool; size_t npool, cappool;
	size_t capin;
	int finished;
};

report *report_new(const rp_filter *f, size_t top_n)
{
	report *rp = calloc(1, sizeof *rp);
	struct rp_priv *p = calloc(1, sizeof *p);
	if (rp == NULL || p == NULL || (p->tok = json_tokener_new()) == NULL) {
		free(rp);
		free(p);
		return NULL;
	}
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT);
	p->queues.isz = sizeof(long);
	p->agents.isz = sizeof(rp_agent);
	p->rules.isz = sizeof(rp_rule);
	p->days.isz = sizeof(rp_day);
	p->statuses.isz = sizeof(rp_status);
	rp->priv = p;
	if (f)
		rp->filter = *f;
	rp->top_n = top_n;
	return rp;
}

int report_input(report *rp, const char *name)
{
	rp_figures *fg = &rp->fig;
	if (grow(&fg->input, &rp->priv->capin, fg->ninput, sizeof *fg->input) < 0)
		return -1;
	rp_input *in = &fg->input[fg->ninput];
	memset(in, 0, sizeof *in);
	if ((in->name = strdup(name)) == NULL)
		return -1;
	fg->ninput++;
	return 0;
}

/* ---- time: proleptic Gregorian days since 1970-01-01 and back. */
static long days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static long day_of(time_t t)
{
	return (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

static int num(const char *s, size_t len, size_t *i, int digits, long lo, long hi, long *v)
{
	*v = 0;
	for (int k = 0; k < digits; k++, (*i)++) {
		if (*i >= len || s[*i] < '0' || s[*i] > '9')
			return -1;
		*v = *v * 10 + (s[*i] - '0');
	}
	return *v < lo || *v > hi ? -1 : 0;
}

static int lit(const char *s, size_t len, size_t *i, const char *set)
{
	if (*i >= len || s[*i] == '\0' || strchr(set, s[*i]) == NULL)
		return -1;
	(*i)++;
	return 0;
}

int report_parse_time(const char *s, size_t len, int end, time_t *t)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t i = 0;
	long y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	if (num(s, len, &i, 4, 0, 9999, &y) || lit(s, len, &i, "-") || num(s, len, &i, 2, 1, 12, &mo) ||
	    lit(s, len, &i, "-") || num(s, len, &i, 2, 1, mdays[mo - 1], &d))
		return -1;
	if (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)))
		return -1;
	long day = days_from_civil(y, mo, d);
	if (i == len) {
		*t = (time_t)day * 86400 + (end ? 86399 : 0);
		return 0;
	}
	if (lit(s, len, &i, "Tt ") || num(s, len, &i, 2, 0, 23, &h) || lit(s, len, &i, ":") ||
	    num(s, len, &i, 2, 0, 59, &mi) || lit(s, len, &i, ":") || num(s, len, &i, 2, 0, 60, &se))
		return -1;
	if (i < len && s[i] == '.') {      /* a fraction of a second: kept out */
		size_t f = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return -1;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		long sign = s[i++] == '-' ? -1 : 1, oh, om;
		if (num(s, len, &i, 2, 0, 23, &oh))
			return -1;
		if (i < len && s[i] == ':')
			i++;
		if (num(s, len, &i, 2, 0, 59, &om))
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (i != len)
		return -1;
	*t = (time_t)day * 86400 + h * 3600 + mi * 60 + se - off;
	return 0;
}

void report_fmt_rate(char *buf, size_t n, long num_, long den)
{
	if (den <= 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f%%", 100.0 * (double)num_ / (double)den);
}

void report_fmt_secs(char *buf, size_t n, double secs)
{
	long s = secs > 0 ? (long)(secs + 0.5) : 0;
	snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

void report_fmt_time(char *buf, size_t n, time_t t)
{
	long y, m, d, day = day_of(t), sec = (long)(t - (time_t)day * 86400);
	civil_from_days(day, &y, &m, &d);
	snprintf(buf, n, "%04ld-%02ld-%02ld %02ld:%02ld", y, m, d, sec / 3600, sec / 60 % 60);
}

static void fmt_day(char out[11], long day)
{
	long y, m, d;
	char t[64];
	civil_from_days(day, &y, &m, &d);
	snprintf(t, sizeof t, "%04ld-%02ld-%02ld", y, m, d);
	memcpy(out, t, 10);  /* years past 9999 do not parse */
	out[10] = '\0';
}

/* ---- one line */

/* A member as a string: 1 a string, 0 missing or null, -1 another type. */
static int member_str(json_object *o, const char *k, const char **s, size_t *len)
{
	json_object *m;
	*s = NULL;
	*len = 0;
	if (!json_object_object_get_ex(o, k, &m) || m == NULL)
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return -1;
	*s = json_object_get_string(m);
	*len = (size_t)json_object_get_string_len(m);
	return 1;
}

static int agent_wanted(const report *rp, const char *a, size_t len)
{
	if (rp->filter.nagent == 0)
		return 1;
	for (size_t i = 0; i < rp->filter.nagent; i++)
		if (strlen(rp->filter.agent[i]) == len && strncasecmp(rp->filter.agent[i], a, len) == 0)
			return 1;
	return 0;
}

static int time_wanted(const report *rp, time_t t)
{
	return !(rp->filter.has_since && t < rp->filter.since) && !(rp->filter.has_until && t > rp->filter.until);
}

static int bad(sbuf *err, const char *what)
{
	if (err)
		sbuf_puts(err, what);
	return 1;
}

static int add_decision(report *rp, json_object *o, time_t t, sbuf *err)
{
	struct rp_priv *p = rp->priv;
	const char *q, *dec, *agent;
	size_t ql, dl, al;
	if (member_str(o, "queue_id", &q, &ql) != 1 || ql == 0)
		return bad(err, "decision without a queue_id");
	if (member_str(o, "decision", &dec, &dl) != 1 || (strcmp(dec, "release") && strcmp(dec, "discard")))
		return bad(err, "decision is neither \"release\" nor \"discard\"");
	if (member_str(o, "agent", &agent, &al) < 0)
		return bad(err, "agent is not a string");
	long qi = dict_get(&p->queues, q, ql, 1);
	if (qi < 0 || grow(&p->d, &p->capd, p->nd, sizeof *p->d) < 0)
		return -1;
	drec *d = &p->d[p->nd++];
	d->t = t;
	d->file = rp->fig.ninput - 1;
	d->q = qi;
	d->release = dec[0] == 'r';
	d->in = time_wanted(rp, t) && agent_wanted(rp, agent ? agent : "", al);
	rp->fig.input[d->file].decisions++;
	return 0;
}

static long action_of(const char *s)
{
	for (long a = 0; s && a < RP_NACTION; a++)
		if (strcmp(s, report_action[a]) == 0)
			return a;
	return -1;
}

/* The rules of a verdict, checked before anything is counted. */
static int check_rules(json_object *rules, sbuf *err)
{
	size_t n = json_object_array_length(rules);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(rules, i), *m;
		const char *s;
		size_t len;
		if (!json_object_is_type(e, json_type_object) || member_str(e, "rule", &s, &len) != 1 || len == 0) {
			sbuf_printf(err, "rules[%zu] has no rule name", i);
			return 1;
		}
		if (member_str(e, "excerpt", &s, &len) < 0 ||
		    (json_object_object_get_ex(e, "monitor", &m) && m && !json_object_is_type(m, json_type_boolean))) {
			sbuf_printf(err, "rules[%zu]: excerpt or monitor of the wrong type", i);
			return 1;
		}
	}
	return 0;
}

static int count_rules(report *rp, json_object *rules, int hold, vrec *v)
{
	struct rp_priv *p = rp->priv;
	size_t n = rules ? json_object_array_length(rules) : 0, first = p->npool;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(rules, i), *m;
		const char *name, *x;
		size_t len, xl;
		member_str(e, "rule", &name, &len);
		long r = dict_get(&p->rules, name, len, 1);
		if (r < 0)
			return -1;
		if ((size_t)r >= p->nexcerpts) {  /* one excerpt dict per rule */
			dict *ex = realloc(p->excerpts, ((size_t)r + 1) * sizeof *ex);
			if (ex == NULL)
				return -1;
			p->excerpts = ex;
			for (; p->nexcerpts <= (size_t)r; p->nexcerpts++) {
				memset(&ex[p->nexcerpts], 0, sizeof *ex);
				ex[p->nexcerpts].isz = sizeof(long);
			}
		}
		rp_rule *ru = ITEM(&p->rules, r);
		if (member_str(e, "excerpt", &x, &xl) == 1 && xl > 0) {
			long k = dict_get(&p->excerpts[r], x, xl, 1);
			if (k < 0)
				return -1;
			++*(long *)ITEM(&p->excerpts[r], k);
			ru->excerpts++;
		}
		int seen = 0;  /* a rule counts once per message */
		for (size_t j = first; j < p->npool && !seen; j++)
			seen = p->pool[j] == (size_t)r;
		if (seen)
			continue;
		if (grow(&p->pool, &p->cappool, p->npool, sizeof *p->pool) < 0)
			return -1;
		p->pool[p->npool++] = (size_t)r;
		ru->findings++;
		ru->in_holds += hold;
		if (json_object_object_get_ex(e, "monitor", &m) && json_object_get_boolean(m))
			ru->monitor++;
	}
	v->roff = first;
	v->nr = p->npool - first;
	if (!hold)  /* only a hold's rules are needed again, by the join */
		p->npool = first;
	return 0;
}

/* The figures of one verdict within the filter. */
static int count_verdict(report *rp, vrec *v, long a, const char *agent, size_t al, const char *would,
			 const char *mode, const char *status, json_object *rules)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	time_t t = v->t;
	int would_hold = would && strcmp(would, "hold") == 0, monitor = mode && strcmp(mode, "monitor") == 0;
	char date[11];
	fmt_day(date, day_of(t));
	long ai = dict_get(&p->agents, agent, al, 1);
	long di = dict_get(&p->days, date, 10, 1);
	long si = status ? dict_get(&p->statuses, status, strlen(status), 1) : dict_get(&p->statuses, "unknown", 7, 1);
	if (ai < 0 || di < 0 || si < 0)
		return -1;
	v->agent = (size_t)ai;
	rp_agent *ag = ITEM(&p->agents, ai);
	ag->messages++;
	ag->holds += a == RP_HOLD;
	ag->would_hold += would_hold;
	rp_day *dy = ITEM(&p->days, di);
	dy->messages++;
	dy->action[a]++;
	dy->monitor += monitor;
	dy->would_hold += would_hold;
	((rp_status *)ITEM(&p->statuses, si))->count++;
	fg->messages++;
	fg->action[a]++;
	fg->would_hold += would_hold;
	fg->monitor += monitor;
	if (fg->messages == 1 || t < fg->first)
		fg->first = t;
	if (fg->messages == 1 || t > fg->last)
		fg->last = t;
	return count_rules(rp, rules, a == RP_HOLD, v);
}

static int add_verdict(report *rp, json_object *o, time_t t, sbuf *err)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	const char *q, *agent, *act, *would, *mode, *status;
	size_t ql, al, l;
	json_object *rules = NULL;
	if (member_str(o, "queue_id", &q, &ql) < 0)
		return bad(err, "queue_id is not a string");
	if (member_str(o, "agent", &agent, &al) < 0)
		return bad(err, "agent is not a string");
	member_str(o, "action", &act, &l);
	long a = action_of(act);
	if (a < 0)
		return bad(err, "action is not one of pass, suggest, rewrite, hold, reject");
	if (member_str(o, "would", &would, &l) < 0 || member_str(o, "mode", &mode, &l) < 0 ||
	    member_str(o, "status", &status, &l) < 0)
		return bad(err, "would, mode or status is not a string");
	if (json_object_object_get_ex(o, "rules", &rules) && rules && !json_object_is_type(rules, json_type_array))
		return bad(err, "rules is not an array");
	if (rules && check_rules(rules, err))
		return 1;
	if (!agent)
		agent = "";

	vrec v = {.t = t, .file = fg->ninput - 1, .prev = -1, .dec = -1};
	v.in = time_wanted(rp, t) && agent_wanted(rp, agent, al);
	fg->input[v.file].verdicts++;
	if (v.in && count_verdict(rp, &v, a, agent, al, would, mode, status, rules) < 0)
		return -1;
	if (a != RP_HOLD || !q || !ql)
		return 0;  /* only holds are kept, for the decisions to join */
	long qi = dict_get(&p->queues, q, ql, 1);
	if (qi < 0 || grow(&p->v, &p->capv, p->nv, sizeof *p->v) < 0)
		return -1;
	long *head = ITEM(&p->queues, qi);
	v.prev = *head - 1;
	*head = (long)p->nv + 1;
	p->v[p->nv++] = v;
	return 0;
}

int report_add(report *rp, const char *line, size_t len, sbuf *err)
{
	struct rp_priv *p = rp->priv;
	size_t b = 0;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	while (b < len && (line[b] == ' ' || line[b] == '\t'))
		b++;
	if (b == len)
		return 0;  /* a blank line */
	if (rp->fig.ninput == 0 && report_input(rp, "-") < 0)
		return -1;
	rp_input *in = &rp->fig.input[rp->fig.ninput - 1];
	in->lines++;
	rp->fig.lines++;
	json_tokener_reset(p->tok);
	json_object *o = json_tokener_parse_ex(p->tok, line + b, (int)(len - b > INT32_MAX ? INT32_MAX : len - b));
	enum json_tokener_error e = json_tokener_get_error(p->tok);
	int rc;
	const char *ts;
	size_t tl;
	time_t t;
	json_object *dummy;
	if (o == NULL || e != json_tokener_success) {
		if (e == json_tokener_continue)
			rc = bad(err, "not JSON: the line ends inside the object");
		else
			rc = (sbuf_printf(err, "not JSON: %s", json_tokener_error_desc(e)), 1);
	} else if (json_tokener_get_parse_end(p->tok) != len - b) {
		rc = bad(err, "not JSON: more after the object");
	} else if (!json_object_is_type(o, json_type_object)) {
		rc = bad(err, "not a JSON object");
	} else if (member_str(o, "time", &ts, &tl) != 1 || report_parse_time(ts, tl, 0, &t) < 0) {
		rc = bad(err, "no valid \"time\" (YYYY-MM-DDTHH:MM:SSZ)");
	} else if (json_object_object_get_ex(o, "decision", &dummy)) {
		rc = add_decision(rp, o, t, err);
	} else if (json_object_object_get_ex(o, "action", &dummy)) {
		rc = add_verdict(rp, o, t, err);
	} else {
		rc = bad(err, "neither a verdict (\"action\") nor a decision (\"decision\")");
	}
	json_object_put(o);
	if (rc == 1) {
		in->skipped++;
		rp->fig.skipped++;
	}
	return rc;
}

void report_skip(report *rp)
{
	if (rp->fig.ninput == 0 && report_input(rp, "-") < 0)
		return;
	rp->fig.input[rp->fig.ninput - 1].lines++;
	rp->fig.input[rp->fig.ninput - 1].skipped++;
	rp->fig.lines++;
	rp->fig.skipped++;
}

/* ---- the end: join, then sort */

/* The hold a decision is about: the same file's latest hold with its queue id
 * at or before the decision (else its latest after), else the only hold with
 * that id in the other files. -1 when there is none or several. */
static long join(const struct rp_priv *p, const drec *d)
{
	long best = -1, later = -1, other = -1;
	int others = 0;
	for (long i = *(long *)ITEM(&p->queues, d->q) - 1; i >= 0; i = p->v[i].prev) {
		const vrec *v = &p->v[i];  /* every one a hold */
		if (v->file != d->file) {
			others++;
			other = i;
		} else if (v->t <= d->t) {
			if (best < 0 || v->t > p->v[best].t)
				best = i;
		} else if (later < 0 || v->t > p->v[later].t) {
			later = i;
		}
	}
	if (best >= 0)
		return best;
	if (later >= 0)
		return later;
	return others == 1 ? other : -1;
}

/* qsort, which must not be given NULL even for no elements */
static void sort(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, sz, cmp);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile of n sorted values. */
static double rank(const double *s, size_t n, double pct)
{
	size_t k = (size_t)ceil(pct / 100.0 * (double)n);
	return s[k ? k - 1 : 0];
}

static int cmp_name(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

static int cmp_agent(const void *x, const void *y)
{
	const rp_agent *a = x, *b = y;
	if (a->holds != b->holds)
		return a->holds > b->holds ? -1 : 1;
	if (a->messages != b->messages)
		return a->messages > b->messages ? -1 : 1;
	return cmp_name(a->name, a->len, b->name, b->len);
}

static int cmp_rule(const void *x, const void *y)
{
	const rp_rule *a = x, *b = y;
	if (a->findings != b->findings)
		return a->findings > b->findings ? -1 : 1;
	return cmp_name(a->name, a->len, b->name, b->len);
}

static int cmp_excerpt(const void *x, const void *y)
{
	const rp_excerpt *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return cmp_name(a->text, a->len, b->text, b->len);
}

static int cmp_status(const void *x, const void *y)
{
	const rp_status *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return cmp_name(a->name, a->len, b->name, b->len);
}

static int cmp_day(const void *x, const void *y)
{
	return strcmp(((const rp_day *)x)->date, ((const rp_day *)y)->date);
}

static int decide(report *rp)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	for (size_t i = 0; i < p->nd; i++) {
		long vi = join(p, &p->d[i]);
		if (vi < 0) {
			fg->unmatched += p->d[i].in;
			continue;
		}
		vrec *v = &p->v[vi];
		if (v->dec >= 0) {  /* decided twice: the earlier decision stands */
			fg->repeated += v->in;
			if (p->d[i].t >= p->d[v->dec].t)
				continue;
		}
		v->dec = (long)i;
	}
	double *secs = malloc((p->nv ? p->nv : 1) * sizeof *secs);
	if (secs == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < p->nv; i++) {
		const vrec *v = &p->v[i];
		if (v->dec < 0 || !v->in)
			continue;
		const drec *d = &p->d[v->dec];
		fg->decided++;
		fg->released += d->release;
		fg->discarded += !d->release;
		rp_agent *ag = ITEM(&p->agents, v->agent);
		ag->decided++;
		ag->released += d->release;
		for (size_t r = 0; r < v->nr; r++) {
			rp_rule *ru = ITEM(&p->rules, p->pool[v->roff + r]);
			ru->decided++;
			ru->released += d->release;
		}
		secs[n++] = d->t > v->t ? (double)(d->t - v->t) : 0;  /* another relay's clock */
	}
	sort(secs, n, sizeof *secs, cmp_double);
	fg->ttd_n = (long)n;
	if (n) {
		fg->ttd_median = rank(secs, n, 50);
		fg->ttd_p90 = rank(secs, n, 90);
		fg->ttd_max = secs[n - 1];
	}
	free(secs);
	return 0;
}

/* Every day from the first to the last verdict, the empty ones too (unless
 * the log spans more than ten years: then the days it has). */
static int days(report *rp)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	if (fg->messages == 0)
		return 0;
	long d0 = day_of(fg->first), d1 = day_of(fg->last);
	size_t n = d1 - d0 < 3660 ? (size_t)(d1 - d0 + 1) : p->days.n;
	if ((fg->day = calloc(n, sizeof *fg->day)) == NULL)
		return -1;
	fg->nday = n;
	if (n == p->days.n) {
		memcpy(fg->day, p->days.item, n * sizeof *fg->day);
		for (size_t i = 0; i < n; i++)
			memcpy(fg->day[i].date, p->days.key[i], 11);
		sort(fg->day, n, sizeof *fg->day, cmp_day);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		fmt_day(fg->day[i].date, d0 + (long)i);
		long k = dict_get(&p->days, fg->day[i].date, 10, 0);
		if (k >= 0)
			memcpy(&fg->day[i], ITEM(&p->days, k), sizeof fg->day[i]);
		fmt_day(fg->day[i].date, d0 + (long)i);
	}
	return 0;
}

static int top_excerpts(report *rp)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	for (size_t i = 0; i < fg->nrule; i++) {
		rp_rule *ru = &fg->rule[i];  /* not sorted yet: rule i is the dict's i */
		dict *ex = i < p->nexcerpts ? &p->excerpts[i] : NULL;
		if (ex == NULL || ex->n == 0 || rp->top_n == 0)
			continue;
		rp_excerpt *all = malloc(ex->n * sizeof *all);
		if (all == NULL)
			return -1;
		for (size_t k = 0; k < ex->n; k++)
			all[k] = (rp_excerpt){ex->key[k], ex->klen[k], *(long *)ITEM(ex, k)};
		sort(all, ex->n, sizeof *all, cmp_excerpt);
		ru->ntop = ex->n < rp->top_n ? ex->n : rp->top_n;
		ru->top = all;  /* the first ntop of them are read */
	}
	return 0;
}

int report_finish(report *rp)
{
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	if (p->finished++)
		return 0;
	if (decide(rp) < 0 || days(rp) < 0)
		return -1;
	/* The dicts' items become the figures; names point at the dicts' keys. */
	fg->agent = (rp_agent *)p->agents.item;
	fg->nagent = p->agents.n;
	for (size_t i = 0; i < fg->nagent; i++) {
		fg->agent[i].name = p->agents.key[i];
		fg->agent[i].len = p->agents.klen[i];
	}
	fg->rule = (rp_rule *)p->rules.item;
	fg->nrule = p->rules.n;
	for (size_t i = 0; i < fg->nrule; i++) {
		fg->rule[i].name = p->rules.key[i];
		fg->rule[i].len = p->rules.klen[i];
	}
	fg->status = (rp_status *)p->statuses.item;
	fg->nstatus = p->statuses.n;
	for (size_t i = 0; i < fg->nstatus; i++) {
		fg->status[i].name = p->statuses.key[i];
		fg->status[i].len = p->statuses.klen[i];
	}
	if (top_excerpts(rp) < 0)
		return -1;
	sort(fg->agent, fg->nagent, sizeof *fg->agent, cmp_agent);
	sort(fg->rule, fg->nrule, sizeof *fg->rule, cmp_rule);
	sort(fg->status, fg->nstatus, sizeof *fg->status, cmp_status);
	return 0;
}

void report_free(report *rp)
{
	if (rp == NULL)
		return;
	struct rp_priv *p = rp->priv;
	rp_figures *fg = &rp->fig;
	if (p->finished)
		for (size_t i = 0; i < fg->nrule; i++)
			free(fg->rule[i].top);
	for (size_t i = 0; i < fg->ninput; i++)
		free(fg->input[i].name);
	free(fg->input);
	free(fg->day);
	for (size_t i = 0; i < p->nexcerpts; i++)
		dict_free(&p->excerpts[i]);
	free(p->excerpts);
	dict_free(&p->queues);
	dict_free(&p->agents);
	dict_free(&p->rules);
	dict_free(&p->days);
	dict_free(&p->statuses);
	free(p->v);
	free(p->d);
	free(p->pool);
	json_tokener_free(p->tok);
	free(p);
	free(rp);
}
