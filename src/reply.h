/*
 * reply — the agent's words as the checks see them: sentences with their
 * place in the text as written, and one normalised, case-folded copy with one
 * sentence per line that every phrase list is matched against.
 *
 * A tg_reply owns its buffers (free with reply_free). Pure, thread-safe.
 */
#ifndef TG_REPLY_H
#define TG_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include "sbuf.h"

typedef struct tg_sentence {
	uint32_t off, len;           /* in reply->norm, without the '\n' */
	uint32_t orig_off, orig_len; /* in reply->agent, as the agent wrote it */
	uint32_t line;               /* 1-based line in the agent's text */
	uint32_t words, letters, caps;
	uint8_t question;            /* ends with '?' */
} tg_sentence;

typedef struct tg_reply {
	char *agent;         /* the agent's words as written, '\n' lines */
	size_t agent_len;
	char *norm;          /* normalised + folded, one sentence per line */
	size_t norm_len;
	tg_sentence *sent;
	size_t nsent;
	size_t words;
	unsigned lines;      /* lines in agent */
	unsigned bang_run;   /* the longest run of '!' */
	unsigned signoff;    /* line of the sign-off (quote.c), 0 if none */
	int truncated;       /* more than max_sentences: the rest was not judged */
} tg_reply;

/* Build from the agent's text (takes a copy). Returns 0 or -1 (ENOMEM). */
int reply_build(tg_reply *r, const char *agent, size_t len, unsigned max_sentences);
void reply_free(tg_reply *r);
/* Index of the sentence holding norm offset off (binary search). */
size_t reply_sentence_at(const tg_reply *r, size_t off);

/* Append the agent's words as the checks see them, for people: quotes and
 * signature gone, each line normalised (typographic quotes, whitespace);
 * line n here is the line n that findings name. 0, or -1 when out is full. */
int reply_text(const tg_reply *r, sbuf *out);

#endif
