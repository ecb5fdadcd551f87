/*
 * text — UTF-8 helpers for the engine: validation, normalisation, case folding.
 *
 * All functions are pure and thread-safe. Functions that return char * return
 * memory the caller frees; the others write into a caller's sbuf.
 */
#ifndef TG_TEXT_H
#define TG_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "sbuf.h"

/* Append p[0..n) to out as valid UTF-8: invalid sequences and NUL bytes become
 * U+FFFD, CR LF and lone CR become LF. Returns the number of repairs made, or
 * -1 when out is full. */
long text_sanitize(sbuf *out, const char *p, size_t n);

/* Length of the valid UTF-8 sequence at p, or 0 when p[0] does not start one. */
size_t text_u8len(const unsigned char *p, size_t n);

/* Append p[0..n) as one line of at most max bytes, for headers and log
 * lines built from message data: every control character (CR and LF
 * included) becomes a space, and a cut never splits a UTF-8 sequence.
 * 0, or -1 when out is full. */
int text_oneline(sbuf *out, const char *p, size_t n, size_t max);

/* Why the file at path cannot be read ("No such file or directory"), for
 * errors after libconfig reports a file I/O error; a static string. */
const char *text_read_error(const char *path);

/* Decode the code point at p (p must be valid UTF-8); *adv gets its length. */
uint32_t text_u8decode(const unsigned char *p, size_t n, size_t *adv);

/* Append the normalised form of p[0..n) to out: typographic apostrophes and
 * quotes become ASCII, dashes become '-', every run of whitespace (also NBSP,
 * tabs and newlines) becomes one space, zero-width characters vanish, and
 * leading and trailing space are dropped. */
int text_normalize(sbuf *out, const char *p, size_t n);

/* Fold case in place without changing the length: ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic capitals become small letters. */
void text_fold(char *p, size_t n);

/* Is c (a code point) a letter, and is it a capital? Latin, Greek, Cyrillic. */
int text_is_upper(uint32_t c);
int text_is_lower(uint32_t c);

/* Word characters for phrase boundaries: ASCII alnum, '_', any non-ASCII byte. */
static inline int text_is_word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

#endif
