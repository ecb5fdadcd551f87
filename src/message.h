/*
 * message — read a raw RFC 5322 message with libetpan: its headers (unfolded,
 * RFC 2047 decoded to UTF-8) and the words a reader is shown, transfer-decoded
 * and converted to UTF-8: every text part of the body that is neither an
 * attachment, a named file, a forwarded message nor a multipart/related's
 * resource, in order (text/html turned into text). A multipart/alternative
 * gives its text/plain form unless its HTML shows words the plain form lacks
 * (then the HTML, as most clients show it). When several parts are shown,
 * each but the last is cut to the agent's own words (quote.c), so history or
 * a signature in one part does not hide the next. A message that shows no
 * such part is read as before: its first text/plain part, else text/html.
 *
 * message_parse() never keeps a pointer into the raw buffer after it returns.
 * Everything in a tg_message is owned by it and freed by message_free(). Pure and
 * thread-safe (after message_init()); bounded by the tg_limits it is given.
 */
#ifndef TG_MESSAGE_H
#define TG_MESSAGE_H

#include <stddef.h>
#include "tg_limits.h"

typedef struct tg_header {
	char *name;   /* as written */
	char *value;  /* unfolded, decoded, UTF-8 */
} tg_header;

typedef struct tg_message {
	tg_header *hdr;
	size_t nhdr;
	char *text;          /* the words shown as UTF-8 text, '\n' line ends */
	size_t text_len;
	char *alt_text;      /* when an alternative was read in its rich form: the
			      * words with the plain forms read instead, or NULL */
	size_t alt_text_len;
	char *quoted_html;   /* text of HTML quote containers and the history
			      * cut from all but the last part shown, or NULL */
	size_t quoted_html_len;
	char *customer;      /* first display name among To and Cc, or NULL */
	char *from;          /* address of the first From mailbox, or NULL */
	char *from_name;     /* its display name (the agent's name), or NULL */
	char **rcpts;        /* every To and Cc address */
	size_t nrcpt;
	char *bad_charset;   /* a charset iconv does not know, or NULL */
	int html;            /* text came from a text/html part, or some of it */
	int html_limit;      /* the HTML parser stopped early */
	long repairs;        /* invalid bytes replaced with U+FFFD */
	unsigned parts;      /* MIME parts seen */
	int malformed;       /* broken multipart: text is every segment, see below */
} tg_message;

/* Parse raw[0..len). On TG_OK or TG_NO_TEXT the headers are filled in.
 * A multipart whose boundary does not delimit its parts the way RFC 2046
 * says (no boundary parameter, a boundary that never appears, a line that
 * only starts with "--boundary", a child reusing its parent's) is not left
 * to libetpan's guess: the body is cut at every line that may be a delimiter
 * and the text of every segment, plain and HTML, is judged together
 * (malformed = 1). A message with no empty line is all header: TG_NO_TEXT. */
tg_status message_parse(const tg_limits *lim, const char *raw, size_t len, tg_message *out);
void message_free(tg_message *m);

/* Once, before the first message_parse() and before threads start:
 * html_init() and libetpan's charset hook (the identity conversion without
 * iconv). Parsing without it gives the same result, more slowly. */
void message_init(void);
/* First header called name (case-insensitive), or NULL. Borrowed. */
const char *message_header(const tg_message *m, const char *name);

/* Cheap linear scan of the levels a message declares (multiparts and
 * message/rfc822): the deepest MIME nesting and the number of part
 * delimiters, so hostile nesting is refused before libetpan (which recurses
 * once per level, and rescans the rest of the message at each) sees it.
 * Content-Type fields are read by libetpan's own parser (folded, commented,
 * encoded: as mailmime_parse() will see them), and the depth is never less
 * than the one libetpan builds. Stops once depth passes max_depth. */
void message_prescan(const char *raw, size_t len, unsigned max_depth,
		  unsigned *depth, unsigned *parts);

#endif
