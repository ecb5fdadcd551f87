/*
 * notice — compose the notice about a judged message, from the policy's
 * notice texts: a hold notice for the agent (what was held, why, with each
 * finding's excerpt and explanation, the suggested rewrite and what to do
 * next) or a coaching note for suggest and rewrite.
 *
 * The result is a complete RFC 5322 message with CRLF line ends, ready for
 * notify_submit(): Auto-Submitted: auto-generated, In-Reply-To/References to
 * the original, a Subject that says what happened (RFC 2047 when it is not
 * ASCII), a UTF-8 8bit body. Every value taken from the message is
 * sanitised: control characters (CR and LF included) become spaces in
 * headers, so no value can add a header; lengths are bounded.
 *
 * Pure (the time is given) and thread-safe; the caller owns out.
 */
#ifndef TG_NOTICE_H
#define TG_NOTICE_H

#include <stddef.h>
#include <time.h>
#include "judge.h"
#include "sbuf.h"

typedef struct tg_notice_facts {
	const char *id;              /* the MTA's queue id of the message */
	time_t when;                 /* when it was judged */
	const char *agent;           /* the envelope sender (the agent), or "" */
	const char *const *rcpts;    /* the envelope recipients */
	size_t nrcpt;
	tg_action action;            /* what was done: hold, suggest or rewrite */
	const char *changes;         /* what the rewrite action added, or NULL */
	const char *from;            /* the notice's From address */
	const char *hostname;        /* for its Message-ID */
} tg_notice_facts;

/* The header that marks a notice, so the gate never judges its own mail. */
#define TG_NOTICE_HEADER "X-Tonegate-Notice"

/* Who gets the notice under p: the agent (or where notice.agent_map sends
 * the agent's notices) and/or the managers, as borrowed pointers in
 * out[0..max); returns how many. An agent address that is not a plain
 * address (empty, CR/LF, angle brackets, over 254 bytes) is left out. */
size_t notice_recipients(const tg_policy *p, const char *agent, const char **out, size_t max);

/* Append the Message-ID the notice for f will carry ("<tonegate.…@host>"). */
int notice_message_id(const tg_notice_facts *f, sbuf *out);

/* Append the notice about j (judged, in scope) to out. 0, or -1 when out of memory. */
int notice_compose(const tg_judgement *j, const tg_notice_facts *f, sbuf *out);

#endif
