/* sbuf — growable byte string; see sbuf.h for the contract. */
#include "config.h"
#include "sbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbuf_reserve(sbuf *sb, size_t n)
{
	size_t limit = sb->max ? sb->max : SIZE_MAX / 2;
	if (n > limit || sb->len > limit - n) {
		errno = EFBIG;
		return -1;
	}
	size_t need = sb->len + n + 1;
	if (need <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap < SIZE_MAX / 4 ? cap * 2 : need;
	char *p = realloc(sb->s, cap);
	if (p == NULL)
		return -1;
	sb->s = p;
	sb->cap = cap;
	return 0;
}

int sbuf_pad(sbuf *sb, size_t n)
{
	size_t max = sb->max;
	sb->max = 0;
	int rc = sbuf_reserve(sb, n);
	sb->max = max;
	if (rc == 0)
		memset(sb->s + sb->len, 0, n + 1);
	return rc;
}

int sbuf_append_grow(sbuf *sb, const char *p, size_t n)
{
	if (sbuf_reserve(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

int sbuf_puts(sbuf *sb, const char *s)
{
	return sbuf_append(sb, s, strlen(s));
}

int sbuf_vprintf(sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || sbuf_reserve(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int sbuf_printf(sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

void sbuf_reset(sbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

char *sbuf_detach(sbuf *sb, size_t *len)
{
	char *s = sb->s;
	if (s == NULL)
		s = calloc(1, 1);
	if (len)
		*len = sb->s ? sb->len : 0;
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void sbuf_free(sbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

int sbuf_json(sbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (sbuf_putc(sb, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
				u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = 0;
				esc = u;
			}
		}
		if (esc ? sbuf_puts(sb, esc) : sbuf_putc(sb, (char)c)) 
			return -1;
	}
	return sbuf_putc(sb, '"');
}
