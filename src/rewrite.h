/*
 * rewrite — what a reply could say instead, from a judgement's findings and
 * the policy's rewrite texts and substitutions:
 *
 *  - the suggested rewrite of the agent's words (for notices and
 *    tonegate-check --rewrite): a greeting with the customer's first name,
 *    an empathy opener, the policy's sentence substitutions (a curt refusal
 *    becomes a courteous one followed by a marked placeholder for the reason
 *    and the alternative), sentence case for shouting, a follow-up offer and
 *    a closing;
 *  - the safe fixes the rewrite action adds to the delivered message itself:
 *    only the greeting, the follow-up offer and the closing, which need no
 *    knowledge of the case.
 *
 * A rewrite never invents facts: what only the agent knows stays a
 * placeholder. Pure and thread-safe; the caller owns every sbuf.
 */
#ifndef TG_REWRITE_H
#define TG_REWRITE_H

#include <stddef.h>
#include "judge.h"
#include "sbuf.h"

/* The first name in a display name ("Maria Lopez", "Lopez, Maria",
 * "\"MARIA LOPEZ\"" → "Maria"); 0 and out = "" when there is none that can
 * be used in a greeting (an address, "Support Team", initials). */
size_t rewrite_first_name(const char *display, char *out, size_t outlen);

/* Append the suggested rewrite of j's agent words to out (UTF-8, '\n'
 * lines). j must be judged (status TG_OK, in scope). 0, or -1 when out is full. */
int rewrite_suggest(const tg_judgement *j, sbuf *out);

/* The safe fixes for j as text for bodyedit: head (greeting) and tail
 * (follow-up offer, closing), and in what a phrase naming them ("a greeting
 * and a closing"). Returns how many fixes there are (0: none apply), or -1
 * when out of memory. */
int rewrite_safe_fixes(const tg_judgement *j, sbuf *head, sbuf *tail, sbuf *what);

#endif
