/*
 * mailbox — the messages tonegate-check reads: single message files,
 * standard input, mbox files and Maildir folders (through libetpan's mbox
 * and Maildir drivers), and plain directories of message files.
 *
 * maillist_add() opens a source and lists its messages (one name each:
 * the file, "MBOX:N" for the Nth message of an mbox, the file in a
 * Maildir); it is not thread-safe. Once the list is built, maillist_read()
 * only reads it and may be called from any number of threads. The list owns
 * every name and mapping until maillist_free().
 */
#ifndef TG_MAILBOX_H
#define TG_MAILBOX_H

#include <stddef.h>

#include "sbuf.h"

typedef struct tg_mailitem {
	char *name;      /* for people: the file, MBOX:N or the Maildir file */
	size_t src;      /* index into the list's sources */
	size_t idx;      /* the message within its source */
} tg_mailitem;

typedef struct tg_maillist {
	tg_mailitem *item;
	size_t n, cap;
	struct tg_mailsrc *src;
	size_t nsrc;
} tg_maillist;

/* Add path ("-" = standard input) and its messages. Returns the number of
 * messages added, or -1 with "path: what went wrong" in err (the list is
 * unchanged and the caller may go on with other paths). */
long maillist_add(tg_maillist *l, const char *path, char *err, size_t errlen);

/* Read message i into out (reset first): at most max + 1 bytes, so a
 * message over the limit is seen to be over it, then padded for
 * judge_message's read-ahead. ">From " lines of an mbox are unquoted.
 * Returns 0, or -1 with errno set. */
int maillist_read(const tg_maillist *l, size_t i, size_t max, sbuf *out);

void maillist_free(tg_maillist *l);

#endif
