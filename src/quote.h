/*
 * quote — split a reply's text into the agent's new words, the quoted
 * history below or between them, and the signature.
 *
 * Recognised history: lines starting with ">", attribution lines ("On …
 * wrote:", wrapped over two lines, and their German, French, Spanish, Dutch,
 * Portuguese, Swedish, Polish and Italian forms), Outlook "-----Original
 * Message-----" and "From: / Sent:" header blocks (also localised) with the
 * "_____" separator, forwarded-message markers, help-desk threads (a name
 * and a time above each comment, the reply's first: Zendesk). Recognised signatures: the
 * "-- " delimiter, mobile footers ("Sent from my iPhone", "Get Outlook for
 * iOS"), legal disclaimers, and the block under a sign-off line ("Best
 * regards," + name, title, phone): the sign-off line itself stays with the
 * agent's words, the block under it does not.
 *
 * Patterns are compiled once per process (thread-safe); quote_split is pure.
 */
#ifndef TG_QUOTE_H
#define TG_QUOTE_H

#include <stddef.h>
#include "sbuf.h"

typedef struct tg_split {
	sbuf agent;     /* the agent's words, lines as written */
	sbuf quoted;    /* quoted history, ">" removed: the customer's words */
	sbuf signature; /* what was cut as signature */
	unsigned signoff; /* 1-based line of the sign-off in agent, 0 if none */
	/* Byte offsets in the text that was split, for edits that add words
	 * around the agent's (the rewrite action): */
	size_t first_at;  /* start of the agent's first line */
	size_t tail_at;   /* start of the sign-off line, else just past the
			   * agent's last line and its '\n' */
	int interleaved;  /* quoted or dropped lines sit among the agent's */
} tg_split;

/* Returns 0, or -1 when out of memory. out is zeroed first; free with
 * quote_split_free() in every case. */
int quote_split(const char *text, size_t len, tg_split *out);
/* The same, for a reader of the first keep bytes of quoted and signature
 * at most: each holds at least those (whole lines), and is blank only when
 * quote_split's would be; the rest of the history is not copied. */
int quote_split_keep(const char *text, size_t len, size_t keep, tg_split *out);
void quote_split_free(tg_split *s);

/* Is this one line (no '\n') a sign-off such as "Best regards," or
 * "Thanks, Raj"? Exposed for the tests and the rewrite. */
int quote_is_signoff(const char *line, size_t len);

/* Compile the patterns now (else on first use, ~4 ms): call before the
 * first message so it does not wait. Thread-safe. */
void quote_init(void);

/* For the tests: 1 when the quick checks run before each line pattern let
 * PCRE2 decide every pattern that matches line[0..len), 0 when one would
 * have skipped a line the pattern matches. */
int quote_prefilter_agrees(const char *line, size_t len);

#endif
