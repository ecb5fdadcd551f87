/* engine — the checks, the score and the action; see engine.h. Each check
 * reads only the rule set, the reply and the hits: no I/O, no globals. */
#include "config.h"
#include "engine.h"

#include <stdint.h>
#include <string.h>

typedef struct judge {
	const tg_ruleset *rs;
	const tg_reply *r;
	const tg_hits *h;
	const tg_facts *facts;
	tg_verdict *v;
} judge;

static int list_of(const judge *j, tg_rule_id id, int which)
{
	const tg_rule *rule = &j->rs->rule[id];
	return rule->list[which];
}

/* The first hit of list in sentences [a, b); at_start: it must open its sentence. */
static const tg_hit *find(const judge *j, int list, size_t a, size_t b, int at_start)
{
	const tg_reply *r = j->r;
	if (list == TG_NOLIST || a >= b || b > r->nsent)
		return NULL;
	uint32_t lo = r->sent[a].off, hi = r->sent[b - 1].off + r->sent[b - 1].len;
	for (size_t i = 0; i < j->h->n; i++) {
		const tg_hit *t = &j->h->v[i];
		if ((int)t->list != list || t->from < lo || t->from >= hi)
			continue;
		if (at_start && r->sent[reply_sentence_at(r, t->from)].off != t->from)
			continue;
		return t;
	}
	return NULL;
}

static const tg_hit *find_any(const judge *j, int list)
{
	return find(j, list, 0, j->r->nsent, 0);
}

static size_t count(const judge *j, int list)
{
	size_t n = 0;
	for (size_t i = 0; i < j->h->n; i++)
		n += (int)j->h->v[i].list == list;
	return n;
}

/* Record a finding about sentence s (SIZE_MAX: the reply as a whole). */
static void add(judge *j, tg_rule_id id, size_t s, int weight, tg_action floor)
{
	const tg_rule *rule = &j->rs->rule[id];
	tg_finding *f = &j->v->f[j->v->nf++];
	memset(f, 0, sizeof *f);
	f->rule = id;
	f->severity = rule->severity;
	f->weight = weight;
	f->floor = floor;
	f->message = rule->message;
	f->suggestion = rule->suggestion;
	if (s < j->r->nsent) {
		f->line = j->r->sent[s].line;
		f->ex_off = j->r->sent[s].orig_off;
		f->ex_len = j->r->sent[s].orig_len;
	}
	j->v->score += weight;
}

static void add_rule(judge *j, tg_rule_id id, size_t s)
{
	add(j, id, s, j->rs->rule[id].weight, j->rs->rule[id].floor);
}

static size_t sent_of(const judge *j, const tg_hit *t)
{
	return reply_sentence_at(j->r, t->from);
}

static int has_greeting(const judge *j)
{
	size_t n = (size_t)j->rs->rule[R_GREETING].num[N_WITHIN];
	if (n > j->r->nsent)
		n = j->r->nsent;
	return find(j, list_of(j, R_GREETING, L_PHRASES), 0, n, 1) != NULL;
}

static int has_closing(const judge *j)
{
	size_t n = (size_t)j->rs->rule[R_CLOSING].num[N_WITHIN], ns = j->r->nsent;
	if (j->r->signoff)
		return 1;
	return find(j, list_of(j, R_CLOSING, L_PHRASES), ns > n ? ns - n : 0, ns, 1) != NULL;
}

static int has_warmth(const judge *j)
{
	return find_any(j, list_of(j, R_CURT, L_WARMTH)) || find_any(j, list_of(j, R_EMPATHY, L_PHRASES)) ||
	       find_any(j, list_of(j, R_FOLLOW_UP, L_PHRASES));
}

/* Did the customer, in the quoted message, sound upset? */
static int customer_upset(const judge *j)
{
	int list = j->rs->rule[R_CURT].list[L_UPSET];
	if (j->facts == NULL || j->facts->customer == NULL || list == TG_NOLIST)
		return 0;
	for (size_t i = 0; i < j->facts->customer->n; i++)
		if ((int)j->facts->customer->v[i].list == list)
			return 1;
	return 0;
}

/* curt: a bare refusal (no reason, no alternative) in a short reply; a
 * reply of a few words with no greeting, no closing and no warmth; or a few
 * words with no empathy, no offer and no alternative in answer to an upset
 * or long message ("Noted, thanks." to a complaint). */
static void check_curt(judge *j, int greeting, int closing, int upset)
{
	const tg_rule *rule = &j->rs->rule[R_CURT];
	const tg_hit *no = find_any(j, rule->list[L_REFUSALS]);
	int alternative = find_any(j, rule->list[L_ALTERNATIVES]) != NULL;
	size_t words = j->r->words;
	if (no && words <= (size_t)rule->num[N_MAX_WORDS] && !find_any(j, rule->list[L_REASONS]) && !alternative) {
		add_rule(j, R_CURT, sent_of(j, no));
		return;
	}
	if (words <= (size_t)rule->num[N_SHORT_WORDS] && !greeting && !closing && !has_warmth(j)) {
		add_rule(j, R_CURT, 0);
		return;
	}
	size_t asked = j->facts ? j->facts->customer_words : 0;
	if ((upset || asked >= (size_t)rule->num[N_LONG_REQUEST]) && words <= (size_t)rule->num[N_CONTEXT_WORDS] &&
	    !alternative && !find_any(j, j->rs->rule[R_EMPATHY].list[L_PHRASES]) &&
	    !find_any(j, j->rs->rule[R_FOLLOW_UP].list[L_PHRASES]))
		add_rule(j, R_CURT, 0);
}

/* A capitalised heading on a line of its own ("WHAT TO DO NEXT"), or a
 * pasted chat or log line ("[16:42] Priyanka: ..."): not the agent shouting. */
static int heading_or_transcript(const tg_reply *r, const tg_sentence *t)
{
	const char *s = r->agent + t->orig_off, *e = s + t->orig_len;
	char last = t->orig_len ? e[-1] : 0;
	int own_line = (t->orig_off == 0 || s[-1] == '\n') && (e == r->agent + r->agent_len || *e == '\n');
	if (own_line && last != '.' && last != '!' && last != '?' && t->words <= 10)
		return 1;
	size_t i = s < e && *s == '[' ? 1 : 0;
	size_t d = i;
	while (s + d < e && s[d] >= '0' && s[d] <= '9')
		d++;
	return d > i && d - i <= 2 && s + d < e && s[d] == ':';
}

static void check_shouting(judge *j)
{
	const tg_rule *rule = &j->rs->rule[R_SHOUTING];
	const tg_reply *r = j->r;
	for (size_t s = 0; s < r->nsent; s++) {
		const tg_sentence *t = &r->sent[s];
		if (heading_or_transcript(r, t))
			continue;
		if (t->words >= rule->num[N_MIN_WORDS] && t->letters >= rule->num[N_MIN_LETTERS] &&
		    (double)t->caps >= rule->num[N_CAPS_RATIO] * t->letters) {
			add_rule(j, R_SHOUTING, s);
			return;
		}
	}
	if (r->bang_run > (unsigned)rule->num[N_MAX_BANGS]) {
		size_t s = 0;
		for (; s < r->nsent; s++) {
			const char *p = r->agent + r->sent[s].orig_off;
			const char *q = memchr(p, '!', r->sent[s].orig_len);
			if (q && (size_t)(q - p) + 1 < r->sent[s].orig_len && q[1] == '!')
				break;
		}
		add_rule(j, R_SHOUTING, s);
	}
}

static void check_questions(judge *j)
{
	const tg_rule *rule = &j->rs->rule[R_QUESTIONS];
	size_t nq = 0, first = 0;
	for (size_t s = 0; s < j->r->nsent; s++)
		if (j->r->sent[s].question && nq++ == 0)
			first = s;
	if (nq > (size_t)rule->num[N_MAX_QUESTIONS] &&
	    (double)nq >= rule->num[N_QUESTION_SHARE] * (double)j->r->nsent)
		add_rule(j, R_QUESTIONS, first);
}

/* Has the verdict a finding for rule r already? */
static int found(const judge *j, tg_rule_id r)
{
	for (size_t i = 0; i < j->v->nf; i++)
		if (j->v->f[i].rule == r)
			return 1;
	return 0;
}

/* Does the reply answer a problem? A problem word in the agent's words, an
 * upset customer, a refusal, or a reply already found curt, dismissive or
 * peppering. A reply that only gives the information asked for, or confirms
 * a fix, needs no "sorry". Without a situations list every reply does. */
static int calls_for_empathy(const judge *j, int upset)
{
	int list = j->rs->rule[R_EMPATHY].list[L_SITUATIONS];
	return list == TG_NOLIST || upset || find_any(j, list) ||
	       find_any(j, j->rs->rule[R_CURT].list[L_REFUSALS]) ||
	       found(j, R_CURT) || found(j, R_DISMISSIVE) || found(j, R_QUESTIONS);
}

/* An offer to follow up is expected from an answer of some length that does
 * not already end by asking the customer something, and from any reply
 * found curt or dismissive (it leaves the customer nowhere to go). */
static int calls_for_follow_up(const judge *j)
{
	const tg_reply *r = j->r;
	if (found(j, R_CURT) || found(j, R_DISMISSIVE))
		return 1;
	if (r->words < (size_t)j->rs->rule[R_FOLLOW_UP].num[N_FU_MIN_WORDS])
		return 0;
	for (size_t s = r->nsent > 3 ? r->nsent - 3 : 0; s < r->nsent; s++)
		if (r->sent[s].question)
			return 0;
	return 1;
}

tg_action engine_action_for(const tg_ruleset *rs, int score)
{
	tg_action a = TG_PASS;
	for (int i = TG_SUGGEST; i < TG_NACTIONS; i++)
		if (rs->threshold[i] > 0 && score >= rs->threshold[i])
			a = (tg_action)i;
	return a;
}

void engine_judge(const tg_ruleset *rs, const tg_reply *r, const tg_hits *hits,
		  const tg_facts *facts, tg_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->ruleset = rs;
	judge j = {rs, r, hits, facts, v};
	const tg_rule *R = rs->rule;
	size_t last = r->nsent ? r->nsent - 1 : 0;
	int greeting = has_greeting(&j), closing = has_closing(&j), upset = customer_upset(&j);
	const tg_hit *t;

	if (R[R_GREETING].enabled && !greeting)
		add_rule(&j, R_GREETING, 0);
	if (R[R_CLOSING].enabled && !closing)
		add_rule(&j, R_CLOSING, last);
	if (R[R_CURT].enabled)
		check_curt(&j, greeting, closing, upset);
	if (R[R_FALSE_EMPATHY].enabled && (t = find_any(&j, R[R_FALSE_EMPATHY].list[L_PHRASES])))
		add_rule(&j, R_FALSE_EMPATHY, sent_of(&j, t));
	if (R[R_OVER_APOLOGY].enabled &&
	    count(&j, R[R_OVER_APOLOGY].list[L_PHRASES]) >= (size_t)R[R_OVER_APOLOGY].num[N_MAX_APOLOGIES])
		add_rule(&j, R_OVER_APOLOGY, sent_of(&j, find_any(&j, R[R_OVER_APOLOGY].list[L_PHRASES])));
	if (R[R_DISMISSIVE].enabled) {
		if ((t = find_any(&j, R[R_DISMISSIVE].list[L_PHRASES])))
			add_rule(&j, R_DISMISSIVE, sent_of(&j, t));
		else if ((t = find_any(&j, R[R_DISMISSIVE].list[L_MILD])))
			add(&j, R_DISMISSIVE, sent_of(&j, t), (int)R[R_DISMISSIVE].num[N_MILD_WEIGHT], TG_PASS);
	}
	if (R[R_SHOUTING].enabled)
		check_shouting(&j);
	if (R[R_QUESTIONS].enabled)
		check_questions(&j);
	/* empathy and follow-up last: what they expect depends on the rest */
	/* "I know how you feel" is its own finding, not also a missing one */
	if (R[R_EMPATHY].enabled && !find_any(&j, R[R_EMPATHY].list[L_PHRASES]) && !found(&j, R_FALSE_EMPATHY) &&
	    calls_for_empathy(&j, upset)) {
		/* missing empathy weighs more when the customer was upset */
		t = find_any(&j, R[R_CURT].list[L_REFUSALS]);
		add(&j, R_EMPATHY, t ? sent_of(&j, t) : 0,
		    upset ? (int)R[R_EMPATHY].num[N_UPSET_WEIGHT] : R[R_EMPATHY].weight, R[R_EMPATHY].floor);
	}
	if (R[R_FOLLOW_UP].enabled && !find_any(&j, R[R_FOLLOW_UP].list[L_PHRASES]) && calls_for_follow_up(&j))
		add_rule(&j, R_FOLLOW_UP, last);
	if (R[R_CHARSET].enabled && facts && facts->bad_charset)
		add_rule(&j, R_CHARSET, SIZE_MAX);

	for (size_t a = 1; a < v->nf; a++)  /* findings in rule order */
		for (size_t b = a; b > 0 && v->f[b - 1].rule > v->f[b].rule; b--) {
			tg_finding tmp = v->f[b];
			v->f[b] = v->f[b - 1];
			v->f[b - 1] = tmp;
		}
	v->action = engine_action_for(rs, v->score);
	int enforced_score = 0;
	for (size_t i = 0; i < v->nf; i++)
		if (!rs->rule[v->f[i].rule].monitor)
			enforced_score += v->f[i].weight;
	v->enforced = rs->monitor ? TG_PASS : engine_action_for(rs, enforced_score);
	for (size_t i = 0; i < v->nf; i++) {
		if (v->f[i].floor > v->action)
			v->action = v->f[i].floor;
		if (!rs->monitor && !rs->rule[v->f[i].rule].monitor && v->f[i].floor > v->enforced)
			v->enforced = v->f[i].floor;
	}
}
