/*
 * bodyedit — add words around the agent's own inside a raw message, for the
 * rewrite action: a head before the agent's first line ("Hi Maria,") and a
 * tail after their last line, above the sign-off, the signature and the
 * quoted history ("Let me know if that fixes it." + "Best regards,").
 *
 * Supported: a text/plain message; text/html; multipart/alternative with one
 * text/plain and one text/html part (both are edited, or neither); and a
 * multipart/mixed or multipart/related whose first part is one of those (the
 * other parts are copied byte for byte). The headers, the charset and the
 * Content-Transfer-Encoding of every part stay as they are, so the result is
 * a body for smfi_replacebody: the caller changes no header. Everything but
 * the insertions is kept byte-identical: quoted-printable parts are edited
 * in place, and only a base64 part is re-encoded (its decoded bytes stay
 * identical). Whatever cannot be edited
 * that way is refused with a status and out stays empty: the caller falls
 * back to suggesting.
 *
 * Pure (no I/O) and thread-safe; out is owned by the caller.
 */
#ifndef TG_BODYEDIT_H
#define TG_BODYEDIT_H

#include <stddef.h>
#include "sbuf.h"
#include "tg_limits.h"

typedef struct tg_edit {
	const char *head;  /* UTF-8 lines ending in '\n' to put before the agent's words, or NULL */
	const char *tail;  /* UTF-8 lines ending in '\n' to put after them, or NULL */
} tg_edit;

typedef enum tg_edit_status {
	TG_EDIT_OK = 0,
	TG_EDIT_UNSUPPORTED,  /* a MIME structure or encoding it does not edit */
	TG_EDIT_CHARSET,      /* the words cannot be written in the part's charset/encoding */
	TG_EDIT_INTERLEAVED,  /* the agent answered between quoted lines */
	TG_EDIT_NOPLACE,      /* no safe place for the words (HTML) */
	TG_EDIT_LIMIT,        /* past a tg_limits bound */
	TG_EDIT_NOMEM
} tg_edit_status;

/* Edit raw[0..len) (a whole message, headers and body, CRLF or LF line
 * ends). On TG_EDIT_OK out holds the new body: every byte after the blank
 * line that ends the headers, with the line ends the body had. */
tg_edit_status bodyedit_apply(const tg_limits *lim, const char *raw, size_t len,
			      const tg_edit *e, sbuf *out);

/* A short English phrase for logs ("no safe place for the words"). */
const char *bodyedit_status_str(tg_edit_status st);

#endif
