/*
 * engine — judge the agent's words: (policy rule set, reply, hits) → findings,
 * score and action. Pure: no I/O, no libmilter, no globals; thread-safe.
 *
 * A tg_verdict owns its findings; excerpts point into the reply's agent text
 * (they are offsets, not copies), so keep the reply alive while you print.
 */
#ifndef TG_ENGINE_H
#define TG_ENGINE_H

#include <stddef.h>
#include "matcher.h"
#include "policy.h"
#include "reply.h"

typedef struct tg_finding {
	tg_rule_id rule;
	tg_severity severity;
	int weight;
	tg_action floor;
	unsigned line;              /* 1-based line in the agent's text, 0 = whole reply */
	uint32_t ex_off, ex_len;    /* excerpt: a span of reply->agent */
	const char *message;        /* borrowed from the policy */
	const char *suggestion;     /* borrowed from the policy */
} tg_finding;

typedef struct tg_verdict {
	tg_action action;           /* what every rule together calls for */
	tg_action enforced;         /* the same without rules (or a set) in monitor mode */
	int score;
	tg_finding f[R_NRULES];     /* at most one finding per rule */
	size_t nf;
	const tg_ruleset *ruleset;  /* borrowed from the policy */
} tg_verdict;

/* Facts about the message the checks need besides the words. */
typedef struct tg_facts {
	const char *bad_charset;    /* unknown charset name, or NULL */
	const tg_hits *customer;    /* hits over the customer's quoted words, or NULL */
	size_t customer_words;      /* words the customer wrote (quoted), 0 if none */
} tg_facts;

/* Judge r with rule set rs; hits are the matcher's hits over r->norm. */
void engine_judge(const tg_ruleset *rs, const tg_reply *r, const tg_hits *hits,
		  const tg_facts *facts, tg_verdict *v);

/* The action for a score under rs's thresholds (no floors). */
tg_action engine_action_for(const tg_ruleset *rs, int score);

#endif
