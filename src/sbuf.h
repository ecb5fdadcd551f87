/*
 * sbuf — the project's one growable byte string.
 *
 * An sbuf owns its bytes; they are always NUL-terminated so they can be
 * handed to C string functions, but may also hold NULs (len is the truth).
 * Appending may move the data: never keep a pointer into sb->s across an
 * append. Growth is bounded by sb->max (0 = SIZE_MAX/2): an append that would
 * pass it fails with -1 and leaves the string unchanged, so callers that feed
 * untrusted input get a clean error instead of unbounded memory.
 * Not thread-safe; an sbuf belongs to one message or one caller.
 */
#ifndef TG_SBUF_H
#define TG_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct sbuf {
	char *s;      /* NUL-terminated; NULL until the first append */
	size_t len;   /* bytes used, not counting the NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* growth limit; 0 means no limit of our own */
} sbuf;

#define SBUF_INIT {NULL, 0, 0, 0}

/* Append n bytes (p may be NULL when n is 0); 0, or -1 past max or on
 * ENOMEM. Inline: the engine appends a few bytes at a time, millions of
 * times a second, and the call cost more than the copy (BENCHMARKS.md). */
static inline int sbuf_append(sbuf *sb, const char *p, size_t n);
int sbuf_puts(sbuf *sb, const char *s);
static inline int sbuf_putc(sbuf *sb, char c);
int sbuf_printf(sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sbuf_vprintf(sbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Ensure room for n more bytes; returns -1 past sb->max or on ENOMEM. */
int sbuf_reserve(sbuf *sb, size_t n);
void sbuf_reset(sbuf *sb);          /* len = 0, keeps the memory */
/* n zero bytes after the terminating NUL, past sb->max if need be, for a
 * reader that looks ahead (libetpan's quoted-printable decoder reads two
 * bytes after a final '='); 0 or -1 on ENOMEM. len is unchanged. */
int sbuf_pad(sbuf *sb, size_t n);
/* Hand the bytes to the caller (who frees them); sb is left empty. */
char *sbuf_detach(sbuf *sb, size_t *len);
void sbuf_free(sbuf *sb);
/* Append s as a JSON string literal, quotes included. */
int sbuf_json(sbuf *sb, const char *s, size_t n);

/* The slow paths of the inline functions below: grow, then append. */
int sbuf_append_grow(sbuf *sb, const char *p, size_t n);

/* Room for n more bytes without growing and within max (the common case). */
static inline int sbuf_has_room(const sbuf *sb, size_t n)
{
	return n < sb->cap && sb->len < sb->cap - n && (sb->max == 0 || sb->len + n <= sb->max);
}

static inline int sbuf_append(sbuf *sb, const char *p, size_t n)
{
	if (!sbuf_has_room(sb, n))
		return sbuf_append_grow(sb, p, n);
	if (n)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

static inline int sbuf_putc(sbuf *sb, char c)
{
	if (!sbuf_has_room(sb, 1))
		return sbuf_append_grow(sb, &c, 1);
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
	return 0;
}

#endif
