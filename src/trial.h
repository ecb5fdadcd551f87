/*
 * trial — what a policy does to a whole mailbox, for the manager who tries
 * it before it goes live: the summary tonegate-check prints at the end
 * (messages by action, by rule, the agents with most holds, the top
 * excerpts per rule) and, with a second (older) policy, what changes
 * between the two (old action -> new action, rules gained and lost).
 *
 * Pure: judgements in, text or JSON out. A tg_trial belongs to one thread
 * (tonegate-check's printer), which feeds it the judgements in order.
 */
#ifndef TG_TRIAL_H
#define TG_TRIAL_H

#include "judge.h"
#include "sbuf.h"

typedef struct tg_trial tg_trial;

/* compare: there is an old judgement for every message. NULL on ENOMEM. */
tg_trial *trial_new(int compare);
void trial_free(tg_trial *t);

/* Count one message: now is its judgement with the policy tried, old with
 * the old policy (compare only, else NULL). 0, or -1 on ENOMEM. */
int trial_add(tg_trial *t, const tg_judgement *now, const tg_judgement *old);
/* Count a message that could not be read or judged. */
void trial_unread(tg_trial *t);

/* The change for one message (compare), or nothing when the action and
 * the rules are the same: "name: hold -> pass (lost curt; gained ...)". */
void trial_change(sbuf *out, const char *name, const tg_judgement *now, const tg_judgement *old, int json);

/* The summary; old_policy names the old policy in the comparison. */
void trial_summary(const tg_trial *t, sbuf *out, int json, const char *old_policy);

/* Messages whose action or rules differ (compare). */
unsigned long trial_changed(const tg_trial *t);

#endif
