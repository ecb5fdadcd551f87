/* text — UTF-8 validation, normalisation and case folding; see text.h. */
#include "config.h"
#include "text.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t text_u8len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t need;
	uint32_t min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { need = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { need = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { need = 4; min = 0x10000; }
	else
		return 0;
	if (n < need)
		return 0;
	uint32_t cp = c & (0xff >> (need + 1));
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

int text_oneline(sbuf *out, const char *s, size_t n, size_t max)
{
	if (s == NULL)
		return 0;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;  /* not inside a UTF-8 sequence */
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (sbuf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c) < 0)
			return -1;
	}
	return 0;
}

uint32_t text_u8decode(const unsigned char *p, size_t n, size_t *adv)
{
	size_t l = text_u8len(p, n);
	if (l <= 1) {
		*adv = 1;
		return p[0];
	}
	uint32_t cp = p[0] & (0xff >> (l + 1));
	for (size_t i = 1; i < l; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	*adv = l;
	return cp;
}

long text_sanitize(sbuf *out, const char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	long fixes = 0;
	size_t i = 0, run = 0; /* run: start of the pending valid span */
	while (i < n) {
		/* Eight printable ASCII bytes at a time: most text is. A byte is
		 * flagged when its high bit is set or it is below 0x20. */
		uint64_t w;
		while (i + 8 <= n) {
			memcpy(&w, p + i, 8);
			uint64_t below = ((w | UINT64_C(0x8080808080808080)) - UINT64_C(0x2020202020202020)) ^
					 UINT64_C(0x8080808080808080);
			if (((w | below) & UINT64_C(0x8080808080808080)) != 0)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x80) {
			i++;
			continue;
		}
		size_t l = c == 0 ? 0 : text_u8len(p + i, n - i);
		if (l > 0 && c != '\r') {
			i += l;
			continue;
		}
		if (sbuf_append(out, s + run, i - run) < 0)
			return -1;
		if (c == '\r') {
			if (sbuf_putc(out, '\n') < 0)
				return -1;
			i += (i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
		} else {
			if (sbuf_append(out, repl, 3) < 0)
				return -1;
			fixes++;
			i++;
		}
		run = i;
	}
	if (sbuf_append(out, s + run, n - run) < 0)
		return -1;
	return fixes;
}

/* What a code point becomes in normalised text: 0 = keep, else replacement. */
static const char *norm_map(uint32_t c)
{
	switch (c) {
	case 0x2018: case 0x2019: case 0x201a: case 0x201b:
	case 0x2032: case 0x00b4: case 0x0060: case 0x02bc:
		return "'";
	case 0x201c: case 0x201d: case 0x201e: case 0x201f:
	case 0x2033: case 0x00ab: case 0x00bb:
		return "\"";
	case 0x2010: case 0x2011: case 0x2012: case 0x2013:
	case 0x2014: case 0x2015: case 0x2212:
		return "-";
	case 0x2026:
		return "...";
	case 0x200b: case 0x200c: case 0x200d: case 0x2060: case 0xfeff:
	case 0x00ad:
		return "";
	default:
		return NULL;
	}
}

static int is_space_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v' || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

int text_normalize(sbuf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len;
	int pending_space = 0;
	for (size_t i = 0; i < n;) {
		/* A run of printable ASCII that stays as it is (not a space, not
		 * the backtick that becomes an apostrophe): copied in one go. */
		size_t j = i;
		while (j < n && p[j] > ' ' && p[j] < 0x7f && p[j] != '`')
			j++;
		if (j > i) {
			if (pending_space && sbuf_putc(out, ' ') < 0)
				return -1;
			pending_space = 0;
			if (sbuf_append(out, s + i, j - i) < 0)
				return -1;
			i = j;
			continue;
		}
		size_t adv;
		uint32_t c = text_u8decode(p + i, n - i, &adv);
		if (is_space_cp(c)) {
			pending_space = out->len > start;
			i += adv;
			continue;
		}
		const char *m = norm_map(c);
		if (m && *m == '\0') {
			i += adv;
			continue;
		}
		if (pending_space && sbuf_putc(out, ' ') < 0)
			return -1;
		pending_space = 0;
		if (m ? sbuf_puts(out, m) : sbuf_append(out, s + i, adv))
			return -1;
		i += adv;
	}
	return 0;
}

int text_is_upper(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z';
	if (c >= 0xc0 && c <= 0xde)
		return c != 0xd7;
	if (c == 0x138 || c == 0x149 || c == 0x17f)
		return 0;
	if (c == 0x178)
		return 1;
	if (c >= 0x100 && c <= 0x17f)
		return (c & 1) == (c >= 0x139 && c <= 0x148 ? 1 : c >= 0x179 ? 1 : 0);
	if (c == 0x386 || (c >= 0x388 && c <= 0x38a) || c == 0x38c || c == 0x38e || c == 0x38f)
		return 1;
	if (c >= 0x391 && c <= 0x3ab)
		return c != 0x3a2;
	if (c >= 0x400 && c <= 0x42f)
		return 1;
	return 0;
}

int text_is_lower(uint32_t c)
{
	if (c < 0x80)
		return c >= 'a' && c <= 'z';
	if (c >= 0xdf && c <= 0xff)
		return c != 0xf7;
	if (c >= 0x100 && c <= 0x17f)
		return !text_is_upper(c);
	if (c >= 0x3ac && c <= 0x3ce)
		return 1;
	if (c >= 0x430 && c <= 0x45f)
		return 1;
	return 0;
}

/* Encode a 2-byte code point back into p (lengths never change here). */
static void put2(unsigned char *p, uint32_t c)
{
	p[0] = (unsigned char)(0xc0 | (c >> 6));
	p[1] = (unsigned char)(0x80 | (c & 0x3f));
}

void text_fold(char *s, size_t n)
{
	unsigned char *p = (unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			if (p[i] >= 'A' && p[i] <= 'Z')
				p[i] |= 0x20;
			i++;
			continue;
		}
		size_t adv;
		uint32_t c = text_u8decode(p + i, n - i, &adv);
		if (adv == 2 && text_is_upper(c)) {
			uint32_t l = c;
			if (c >= 0xc0 && c <= 0xde) l = c + 0x20;
			else if (c == 0x178) l = 0xff;
			else if (c == 0x130) l = c;  /* dotted I: its small letter is 1 byte */
			else if (c == 0x386) l = 0x3ac;
			else if (c >= 0x388 && c <= 0x38a) l = c + 0x25;
			else if (c == 0x38c) l = 0x3cc;
			else if (c == 0x38e || c == 0x38f) l = c + 0x3f;
			else if (c >= 0x100 && c <= 0x17e && c != 0x178) l = c + 1;
			else if (c >= 0x391 && c <= 0x3ab) l = c + 0x20;
			else if (c >= 0x410 && c <= 0x42f) l = c + 0x20;
			else if (c >= 0x400 && c <= 0x40f) l = c + 0x50;
			if (l < 0x800)
				put2(p + i, l);
		}
		i += adv;
	}
}

const char *text_read_error(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return strerror(errno);
	fclose(f);
	return "read error";
}
