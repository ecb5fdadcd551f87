/* trial — a policy over a whole mailbox: summary and comparison; see trial.h. */
#include "config.h"
#include "trial.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/chash.h>

enum { TOP_AGENTS = 10, TOP_EXCERPTS = 3, EXCERPT_MAX = 100, NSTATUS = TG_NOMEM + 2 };

/* A counted string: an agent or an excerpt. */
typedef struct tally {
	char *key;
	unsigned long n, held;
} tally;

struct tg_trial {
	int compare;
	unsigned long messages, unread;
	unsigned long action[TG_NACTIONS], old_action[TG_NACTIONS];
	unsigned long unjudged[NSTATUS];     /* by status; the last is out of scope */
	unsigned long rule[R_NRULES];
	chash *excerpts[R_NRULES];           /* excerpt -> tally */
	chash *agents;                       /* agent -> tally */
	unsigned long move[TG_NACTIONS][TG_NACTIONS], gained[R_NRULES], lost[R_NRULES], changed;
};

/* What a judgement comes to: an action (pass when not judged) and rules. */
static int judged(const tg_judgement *j)
{
	return j->status == TG_OK && j->in_scope;
}

static tg_action action_of(const tg_judgement *j)
{
	return judged(j) ? j->verdict.action : TG_PASS;
}

static uint64_t rules_of(const tg_judgement *j)
{
	uint64_t m = 0;
	for (size_t i = 0; judged(j) && i < j->verdict.nf; i++)
		m |= UINT64_C(1) << j->verdict.f[i].rule;
	return m;
}

tg_trial *trial_new(int compare)
{
	tg_trial *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->compare = compare;
	int ok = (t->agents = chash_new(CHASH_DEFAULTSIZE, CHASH_COPYKEY)) != NULL;
	for (int r = 0; r < R_NRULES; r++)
		ok = ok && (t->excerpts[r] = chash_new(CHASH_DEFAULTSIZE, CHASH_COPYKEY)) != NULL;
	if (!ok) {
		trial_free(t);
		return NULL;
	}
	return t;
}

static void free_tallies(chash *h)
{
	if (h == NULL)
		return;
	for (chashiter *it = chash_begin(h); it; it = chash_next(h, it)) {
		chashdatum v;
		chash_value(it, &v);
		tally *ty = v.data;
		free(ty->key);
		free(ty);
	}
	chash_free(h);
}

void trial_free(tg_trial *t)
{
	if (t == NULL)
		return;
	free_tallies(t->agents);
	for (int r = 0; r < R_NRULES; r++)
		free_tallies(t->excerpts[r]);
	free(t);
}

/* The tally for key (created at 0), or NULL on ENOMEM. */
static tally *count(chash *h, const char *key, size_t len)
{
	chashdatum k = {(void *)key, (unsigned)len}, v;
	if (chash_get(h, &k, &v) == 0)
		return v.data;
	tally *ty = calloc(1, sizeof *ty);
	if (ty == NULL || (ty->key = strndup(key, len)) == NULL) {
		free(ty);
		return NULL;
	}
	v.data = ty;
	v.len = 0;
	if (chash_set(h, &k, &v, NULL) < 0) {
		free(ty->key);
		free(ty);
		return NULL;
	}
	return ty;
}

int trial_add(tg_trial *t, const tg_judgement *now, const tg_judgement *old)
{
	t->messages++;
	tg_action a = action_of(now);
	if (judged(now))
		t->action[a]++;
	else
		t->unjudged[now->in_scope ? (int)now->status : NSTATUS - 1]++;
	int rc = 0;
	for (size_t i = 0; judged(now) && i < now->verdict.nf; i++) {
		const tg_finding *f = &now->verdict.f[i];
		t->rule[f->rule]++;
		sbuf ex = SBUF_INIT;
		tally *ty = NULL;
		if (f->ex_len && judge_excerpt(now, f, EXCERPT_MAX, &ex) == 0 && ex.s)
			ty = count(t->excerpts[f->rule], ex.s, ex.len);
		rc |= f->ex_len && ty == NULL ? -1 : 0;
		if (ty)
			ty->n++;
		sbuf_free(&ex);
	}
	if (judged(now)) {
		/* Agents by address, case-folded: the same person in any case. */
		char agent[256];
		snprintf(agent, sizeof agent, "%s", now->mail.from ? now->mail.from : "(no From)");
		for (char *p = agent; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		tally *ty = count(t->agents, agent, strlen(agent));
		if (ty) {
			ty->n++;
			ty->held += a >= TG_HOLD;
		}
		rc |= ty == NULL ? -1 : 0;
	}
	if (old) {
		tg_action b = action_of(old);
		uint64_t rn = rules_of(now), ro = rules_of(old);
		t->old_action[b]++;
		t->move[b][a]++;
		t->changed += a != b || rn != ro;
		for (int r = 0; r < R_NRULES; r++) {
			t->gained[r] += (rn >> r & 1) && !(ro >> r & 1);
			t->lost[r] += !(rn >> r & 1) && (ro >> r & 1);
		}
	}
	return rc;
}

void trial_unread(tg_trial *t)
{
	t->unread++;
}

unsigned long trial_changed(const tg_trial *t)
{
	return t->changed;
}

/* The rules in mask, comma-separated (text) or as a JSON array. */
static void rule_list(sbuf *out, uint64_t mask, int json)
{
	int k = 0;
	if (json)
		sbuf_putc(out, '[');
	for (int r = 0; r < R_NRULES; r++)
		if (mask >> r & 1)
			sbuf_printf(out, json ? "%s\"%s\"" : "%s%s", k++ ? (json ? "," : ", ") : "",
				    policy_rule_name((tg_rule_id)r));
	if (json)
		sbuf_putc(out, ']');
}

void trial_change(sbuf *out, const char *name, const tg_judgement *now, const tg_judgement *old, int json)
{
	tg_action a = action_of(now), b = action_of(old);
	uint64_t rn = rules_of(now), ro = rules_of(old);
	if (a == b && rn == ro)
		return;
	uint64_t lost = ro & ~rn, gained = rn & ~ro;
	if (json) {
		sbuf_puts(out, "{\"file\":");
		sbuf_json(out, name, strlen(name));
		sbuf_printf(out, ",\"old\":\"%s\",\"new\":\"%s\",\"old_score\":%d,\"new_score\":%d,\"lost\":",
			    policy_action_name(b), policy_action_name(a), judged(old) ? old->verdict.score : 0,
			    judged(now) ? now->verdict.score : 0);
		rule_list(out, lost, 1);
		sbuf_puts(out, ",\"gained\":");
		rule_list(out, gained, 1);
		sbuf_puts(out, "}\n");
		return;
	}
	sbuf_printf(out, "%s: %s -> %s (score %d -> %d", name, policy_action_name(b), policy_action_name(a),
		    judged(old) ? old->verdict.score : 0, judged(now) ? now->verdict.score : 0);
	const char *sep = "; ";
	if (lost) {
		sbuf_printf(out, "%slost ", sep);
		rule_list(out, lost, 0);
		sep = "; ";
	}
	if (gained) {
		sbuf_printf(out, "%sgained ", sep);
		rule_list(out, gained, 0);
		sep = "; ";
	}
	sbuf_puts(out, ")\n");
}

static int by_held(const void *a, const void *b)
{
	const tally *x = *(tally *const *)a, *y = *(tally *const *)b;
	if (x->held != y->held)
		return x->held < y->held ? 1 : -1;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int by_count(const void *a, const void *b)
{
	const tally *x = *(tally *const *)a, *y = *(tally *const *)b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* The tallies of h sorted by cmp; *n is how many; NULL when none. */
static tally **sorted(chash *h, int (*cmp)(const void *, const void *), size_t *n)
{
	*n = chash_count(h);
	tally **v = *n ? malloc(*n * sizeof *v) : NULL;
	if (v == NULL) {
		*n = 0;
		return NULL;
	}
	size_t k = 0;
	for (chashiter *it = chash_begin(h); it; it = chash_next(h, it)) {
		chashdatum d;
		chash_value(it, &d);
		v[k++] = d.data;
	}
	qsort(v, k, sizeof *v, cmp);
	return v;
}

static double pct(unsigned long n, unsigned long of)
{
	return of ? 100.0 * (double)n / (double)of : 0.0;
}

static const char *unjudged_name(int s)
{
	return s == NSTATUS - 1 ? "out-of-scope" : tg_status_id((tg_status)s);
}

static void summary_text(const tg_trial *t, sbuf *o, const char *old_policy)
{
	sbuf_printf(o, "Summary: %lu messages", t->messages);
	if (t->unread)
		sbuf_printf(o, " (%lu more could not be read)", t->unread);
	sbuf_puts(o, "\nBy action:\n");
	unsigned long nj = 0;
	for (int a = 0; a < TG_NACTIONS; a++) {
		sbuf_printf(o, "  %-12s %7lu  %5.1f%%\n", policy_action_name((tg_action)a), t->action[a],
			    pct(t->action[a], t->messages));
		nj += t->action[a];
	}
	if (nj < t->messages) {
		sbuf_printf(o, "  %-12s %7lu  %5.1f%%  (", "not judged", t->messages - nj, pct(t->messages - nj, t->messages));
		const char *sep = "";
		for (int s = 1; s < NSTATUS; s++)
			if (t->unjudged[s]) {
				sbuf_printf(o, "%s%s %lu", sep, unjudged_name(s), t->unjudged[s]);
				sep = ", ";
			}
		sbuf_puts(o, ")\n");
	}
	sbuf_puts(o, "By rule (messages with a finding; top excerpts):\n");
	for (int r = 0; r < R_NRULES; r++) {
		if (t->rule[r] == 0)
			continue;
		sbuf_printf(o, "  %-12s %7lu\n", policy_rule_name((tg_rule_id)r), t->rule[r]);
		size_t n;
		tally **v = sorted(t->excerpts[r], by_count, &n);
		for (size_t i = 0; i < n && i < TOP_EXCERPTS; i++)
			sbuf_printf(o, "    %5lux \"%s\"\n", v[i]->n, v[i]->key);
		free(v);
	}
	size_t n;
	tally **v = sorted(t->agents, by_held, &n);
	sbuf_puts(o, "Agents with most holds:\n");
	for (size_t i = 0; i < n && i < TOP_AGENTS && v[i]->held; i++)
		sbuf_printf(o, "  %-32s %5lu held of %lu (%.1f%%)\n", v[i]->key, v[i]->held, v[i]->n,
			    pct(v[i]->held, v[i]->n));
	if (n == 0 || v[0]->held == 0)
		sbuf_puts(o, "  (none held)\n");
	free(v);
	if (!t->compare)
		return;
	sbuf_printf(o, "Compared with %s: %lu of %lu messages change\n", old_policy, t->changed, t->messages);
	for (int b = 0; b < TG_NACTIONS; b++)
		for (int a = 0; a < TG_NACTIONS; a++)
			if (a != b && t->move[b][a])
				sbuf_printf(o, "  %-8s -> %-8s %7lu\n", policy_action_name((tg_action)b),
					    policy_action_name((tg_action)a), t->move[b][a]);
	const unsigned long *lists[2] = {t->gained, t->lost};
	const char *label[2] = {"gained", "lost"};
	for (int k = 0; k < 2; k++) {
		const char *sep = "";
		sbuf_printf(o, "  rules %s:", label[k]);
		for (int r = 0; r < R_NRULES; r++)
			if (lists[k][r]) {
				sbuf_printf(o, "%s %s %lu", sep, policy_rule_name((tg_rule_id)r), lists[k][r]);
				sep = ",";
			}
		sbuf_puts(o, *sep ? "\n" : " none\n");
	}
}

static void summary_json(const tg_trial *t, sbuf *o, const char *old_policy)
{
	sbuf_printf(o, "{\"summary\":{\"messages\":%lu,\"unread\":%lu,\"actions\":{", t->messages, t->unread);
	for (int a = 0; a < TG_NACTIONS; a++)
		sbuf_printf(o, "%s\"%s\":%lu", a ? "," : "", policy_action_name((tg_action)a), t->action[a]);
	sbuf_puts(o, "},\"not_judged\":{");
	int k = 0;
	for (int s = 1; s < NSTATUS; s++)
		if (t->unjudged[s])
			sbuf_printf(o, "%s\"%s\":%lu", k++ ? "," : "", unjudged_name(s), t->unjudged[s]);
	sbuf_puts(o, "},\"rules\":{");
	k = 0;
	for (int r = 0; r < R_NRULES; r++) {
		if (t->rule[r] == 0)
			continue;
		sbuf_printf(o, "%s\"%s\":{\"messages\":%lu,\"excerpts\":[", k++ ? "," : "",
			    policy_rule_name((tg_rule_id)r), t->rule[r]);
		size_t n;
		tally **v = sorted(t->excerpts[r], by_count, &n);
		for (size_t i = 0; i < n && i < TOP_EXCERPTS; i++) {
			sbuf_puts(o, i ? ",{\"text\":" : "{\"text\":");
			sbuf_json(o, v[i]->key, strlen(v[i]->key));
			sbuf_printf(o, ",\"count\":%lu}", v[i]->n);
		}
		free(v);
		sbuf_puts(o, "]}");
	}
	sbuf_puts(o, "},\"agents\":[");
	size_t n;
	tally **v = sorted(t->agents, by_held, &n);
	for (size_t i = 0; i < n && i < TOP_AGENTS; i++) {
		sbuf_puts(o, i ? ",{\"agent\":" : "{\"agent\":");
		sbuf_json(o, v[i]->key, strlen(v[i]->key));
		sbuf_printf(o, ",\"messages\":%lu,\"held\":%lu}", v[i]->n, v[i]->held);
	}
	free(v);
	sbuf_puts(o, "]");
	if (t->compare) {
		sbuf_puts(o, ",\"compare\":{\"old_policy\":");
		sbuf_json(o, old_policy, strlen(old_policy));
		sbuf_printf(o, ",\"changed\":%lu,\"moves\":{", t->changed);
		k = 0;
		for (int b = 0; b < TG_NACTIONS; b++)
			for (int a = 0; a < TG_NACTIONS; a++)
				if (a != b && t->move[b][a])
					sbuf_printf(o, "%s\"%s->%s\":%lu", k++ ? "," : "", policy_action_name((tg_action)b),
						    policy_action_name((tg_action)a), t->move[b][a]);
		const unsigned long *lists[2] = {t->gained, t->lost};
		for (int l = 0; l < 2; l++) {
			sbuf_puts(o, l ? "},\"lost\":{" : "},\"gained\":{");
			k = 0;
			for (int r = 0; r < R_NRULES; r++)
				if (lists[l][r])
					sbuf_printf(o, "%s\"%s\":%lu", k++ ? "," : "", policy_rule_name((tg_rule_id)r),
						    lists[l][r]);
		}
		sbuf_puts(o, "}}");
	}
	sbuf_puts(o, "}}\n");
}

void trial_summary(const tg_trial *t, sbuf *out, int json, const char *old_policy)
{
	if (json)
		summary_json(t, out, old_policy ? old_policy : "");
	else
		summary_text(t, out, old_policy ? old_policy : "");
}
