/*
 * limits — the bounds every untrusted message is judged within, and the
 * status a caller gets when one is passed. Plain data; thread-safe to share.
 */
#ifndef TG_LIMITS_H
#define TG_LIMITS_H

#include <stddef.h>

typedef struct tg_limits {
	size_t max_message_size;  /* raw bytes judged */
	size_t max_decoded_size;  /* bytes of the decoded text part */
	size_t max_html_size;     /* bytes of HTML handed to the parser */
	unsigned max_depth;       /* MIME nesting */
	unsigned max_parts;       /* MIME parts */
	unsigned max_sentences;   /* sentences of agent text judged */
	size_t max_context_size;  /* bytes of the customer's quoted words read */
} tg_limits;

#define TG_LIMITS_DEFAULT { 10u << 20, 4u << 20, 2u << 20, 20, 500, 2000, 4096 }

typedef enum tg_status {
	TG_OK = 0,
	TG_NO_TEXT,        /* no text/plain or text/html part: nothing to judge */
	TG_TOO_BIG,        /* message larger than max_message_size */
	TG_TOO_DEEP,       /* MIME nesting deeper than max_depth */
	TG_TOO_MANY_PARTS, /* more than max_parts MIME parts */
	TG_DECODED_TOO_BIG,/* decoded text larger than max_decoded_size / max_html_size */
	TG_PARSE_ERROR,    /* not a message libetpan can read */
	TG_NOMEM
} tg_status;

/* A short English phrase for logs and tonegate-check ("MIME nesting too deep"). */
const char *tg_status_str(tg_status st);
/* The stable identifier used in JSON ("too-deep"). */
const char *tg_status_id(tg_status st);

#endif
