/*
 * judge — the whole pipeline for one raw message: read it (mail), keep the
 * agent's own words (quote), build sentences (reply), scope and rule set
 * (policy), scan the phrase lists (matcher) and judge (engine).
 *
 * Pure: the caller supplies bytes and a scratch; nothing is read or written.
 * A tg_judgement owns everything it holds and keeps a reference to the
 * policy; free it with judge_free(). Thread-safe with one scratch per thread.
 */
#ifndef TG_JUDGE_H
#define TG_JUDGE_H

#include "engine.h"
#include "message.h"
#include "policy.h"
#include "quote.h"
#include "reply.h"

typedef struct tg_envelope {
	const char *sender;          /* envelope sender, or NULL: use From */
	const char *const *rcpts;    /* envelope recipients, or NULL: use To/Cc */
	size_t nrcpt;
} tg_envelope;

typedef struct tg_judgement {
	tg_status status;            /* TG_OK: judged; else why not */
	int in_scope;                /* 0: not gated, nothing judged */
	tg_policy *policy;           /* referenced */
	tg_message mail;
	tg_split split;
	tg_reply reply;
	tg_hits hits;                /* phrase hits over the agent's words */
	tg_hits customer_hits;       /* ... and over the customer's quoted words */
	size_t customer_words;
	tg_verdict verdict;          /* valid when status == TG_OK && in_scope */
} tg_judgement;

/* Judge raw[0..len). Returns 0, or -1 on an internal error (out of memory);
 * limits and unreadable input are a status, not an error. raw[len] up to
 * raw[len + 2] must be readable (zeros): libetpan's quoted-printable decoder
 * reads two bytes past a final '=' (an sbuf: sbuf_pad(&sb, 2)). */
int judge_message(tg_policy *p, tg_scratch *scratch, const char *raw, size_t len,
		  const tg_envelope *env, tg_judgement *j);
void judge_free(tg_judgement *j);

/* Append finding f's excerpt (the agent's words it points at) to out on one
 * line: newlines and tabs as spaces, cut at a character boundary to at most
 * max bytes (0: no cap) with "..." when cut. Returns what sbuf returns. */
int judge_excerpt(const tg_judgement *j, const tg_finding *f, size_t max, sbuf *out);

/* One-time process set-up (libxml2, the quote patterns); call before
 * threads start, so the first message does not pay for it. */
void judge_init(void);

#endif
