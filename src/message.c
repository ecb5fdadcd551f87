/* message — headers and the agent's text part of a raw message (libetpan); see message.h. */
#include "config.h"
#include "message.h"
#include "html.h"
#include "sbuf.h"
#include "text.h"

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *tg_status_str(tg_status st)
{
	switch (st) {
	case TG_OK: return "judged";
	case TG_NO_TEXT: return "no text part to judge";
	case TG_TOO_BIG: return "message larger than limits.max_message_size";
	case TG_TOO_DEEP: return "MIME nesting deeper than limits.max_depth";
	case TG_TOO_MANY_PARTS: return "more MIME parts than limits.max_parts";
	case TG_DECODED_TOO_BIG: return "decoded text larger than limits.max_decoded_size or max_html_size";
	case TG_PARSE_ERROR: return "not an email message (no header fields)";
	case TG_NOMEM: return "out of memory";
	}
	return "unknown status";
}

const char *tg_status_id(tg_status st)
{
	static const char *ids[] = {"ok", "no-text", "too-big", "too-deep",
		"too-many-parts", "decoded-too-big", "parse-error", "nomem"};
	return (unsigned)st < sizeof ids / sizeof ids[0] ? ids[st] : "unknown";
}

/* ---- pre-scan of boundaries ------------------------------------------- */

/* Does the Content-Type field at p (a line start) open a level of MIME
 * nesting in libetpan: a multipart with a boundary (*boundary, malloc'd) or
 * a message/rfc822 (*boundary NULL; it ends with the part around it)? Read
 * by libetpan's own field parser, which unfolds, skips comments and blanks
 * around "=", unescapes quoted strings and decodes encoded words: the
 * pre-scan must see every level mailmime_parse() will. *next: the field's end. */
static int field_level(const char *p, const char *end, const char **next, char **boundary)
{
	const char *e = p;
	*boundary = NULL;
	while ((e = memchr(e, '\n', (size_t)(end - e))) != NULL && e + 1 < end && (e[1] == ' ' || e[1] == '\t'))
		e++;
	e = e ? e : end;
	*next = e;
	const char *colon = memchr(p, ':', (size_t)(e - p));
	if (colon == NULL)
		return 0;
	/* Cheap filter: the type is spelled out, unless an encoded word hides it. */
	int maybe = 0;
	for (const char *q = colon; q + 2 <= e && !maybe; q++)
		maybe = (q[0] == '=' && q[1] == '?') ||
			(e - q >= 9 && (*q | 0x20) == 'm' && strncasecmp(q, "multipart", 9) == 0) ||
			(e - q >= 6 && (*q | 0x20) == 'r' && strncasecmp(q, "rfc822", 6) == 0);
	if (!maybe)
		return 0;
	char *value = strndup(colon + 1, (size_t)(e - colon - 1));
	if (value == NULL)
		return 0;
	struct mailimf_optional_field f = {"Content-Type", value};
	struct mailmime_field *mf = NULL;
	int level = 0;
	if (mailmime_field_parse(&f, &mf) == MAILIMF_NO_ERROR && mf) {
		struct mailmime_content *ct = mf->fld_type == MAILMIME_FIELD_TYPE ? mf->fld_data.fld_content : NULL;
		struct mailmime_type *t = ct ? ct->ct_type : NULL;
		int comp = t && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type ?
			t->tp_data.tp_composite_type->ct_type : -1;
		if (comp == MAILMIME_COMPOSITE_TYPE_MULTIPART) {
			*boundary = mailmime_extract_boundary(ct);
			level = *boundary != NULL;
		} else if (comp == MAILMIME_COMPOSITE_TYPE_MESSAGE) {
			level = ct->ct_subtype && strcasecmp(ct->ct_subtype, "rfc822") == 0;
		}
		mailmime_field_free(mf);
	}
	free(value);
	return level;
}

/* Is the line p[0..n) "--" b and transport padding only? libetpan ends a
 * part there and nowhere else for sure: a line that only starts so, or a
 * close delimiter with another delimiter after it, lets the part go on. */
static int delimiter_of(const char *p, size_t n, const char *b, size_t bn)
{
	if (n < 2 + bn || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bn) != 0)
		return 0;
	for (size_t i = 2 + bn; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Every Content-Type field that declares a multipart or a message/rfc822
 * opens a level; an exact delimiter of an open multipart ends the levels
 * inside it (libetpan splits the outer body first, by prefix, so the
 * outermost match wins). Close delimiters end nothing here: libetpan may
 * read on past one. So the depth found is never less than libetpan's. */
void message_prescan(const char *raw, size_t len, unsigned max_depth,
		  unsigned *depth, unsigned *parts)
{
	char *stack[64];
	size_t slen[64];
	unsigned cap = max_depth + 1 < 64 ? max_depth + 1 : 64, sp = 0;
	*depth = 0;
	*parts = 0;
	const char *p = raw, *end = raw + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll >= 3 && p[0] == '-' && p[1] == '-') {
			for (unsigned i = 0; i < sp; i++) {
				if (stack[i] && delimiter_of(p, ll, stack[i], slen[i])) {
					(*parts)++;
					while (sp > i + 1)
						free(stack[--sp]);
					break;
				}
			}
		} else if (ll >= 13 && (*p | 0x20) == 'c' && strncasecmp(p, "content-type", 12) == 0 &&
			   (p[12] == ':' || p[12] == ' ' || p[12] == '\t')) {
			const char *next;
			char *b;
			if (field_level(p, end, &next, &b)) {
				if (sp == cap) {
					free(b);
					*depth = max_depth + 1;
					break;
				}
				slen[sp] = b ? strlen(b) : 0;
				stack[sp++] = b;
				if (sp > *depth)
					*depth = sp;
			}
			nl = next < end ? next : NULL;
		}
		p = nl ? nl + 1 : end;
	}
	while (sp > 0)
		free(stack[--sp]);
}

/* ---- headers ---------------------------------------------------------- */

/* Unfold, decode RFC 2047 words and make valid UTF-8. Caller frees. */
static char *header_decode(const char *v, size_t n)
{
	sbuf u = SBUF_INIT, out = SBUF_INIT;
	for (size_t i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n' && sbuf_putc(&u, v[i] == '\t' ? ' ' : v[i]) < 0)
			goto fail;
	if (u.s == NULL && sbuf_puts(&u, "") < 0)
		goto fail;
	/* 8-bit headers: UTF-8 when they are valid UTF-8, else Latin-1. */
	int utf8 = 1;
	for (size_t i = 0; i < u.len;) {
		size_t l = text_u8len((const unsigned char *)u.s + i, u.len - i);
		if (l == 0) { utf8 = 0; break; }
		i += l;
	}
	size_t idx = 0;
	char *dec = NULL;
	/* Only encoded words need libetpan (and its iconv); plain UTF-8 is done. */
	int encoded = strstr(u.s, "=?") != NULL;
	if ((encoded || !utf8) &&
	    mailmime_encoded_phrase_parse(utf8 ? "utf-8" : "iso-8859-1", u.s, u.len,
					  &idx, "utf-8", &dec) == MAILIMF_NO_ERROR && dec) {
		long r = text_sanitize(&out, dec, strlen(dec));
		free(dec);
		if (r < 0)
			goto fail;
	} else if (text_sanitize(&out, u.s, u.len) < 0) {
		goto fail;
	}
	sbuf_free(&u);
	/* a header value is one line: sanitising may have produced LFs from CRs */
	for (size_t i = 0; i < out.len; i++)
		if (out.s[i] == '\n')
			out.s[i] = ' ';
	return sbuf_detach(&out, NULL);
fail:
	sbuf_free(&u);
	sbuf_free(&out);
	return NULL;
}

static int addresses_read(tg_message *m, const char *name, const char *v);

/* Every header (name, decoded value), and the addresses of From, To and Cc,
 * in one pass of libetpan's header parser. */
static int headers_read(const char *raw, size_t len, tg_message *m)
{
	size_t idx = 0;
	struct mailimf_fields *f = NULL;
	if (mailimf_optional_fields_parse(raw, len, &idx, &f) != MAILIMF_NO_ERROR || f == NULL)
		return 0;
	size_t n = (size_t)clist_count(f->fld_list), k = 0;
	m->hdr = calloc(n ? n : 1, sizeof *m->hdr);
	if (m->hdr == NULL) {
		mailimf_fields_free(f);
		return -1;
	}
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fld = clist_content(it);
		if (fld->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD)
			continue;
		struct mailimf_optional_field *o = fld->fld_data.fld_optional_field;
		char *name = strdup(o->fld_name);
		char *value = header_decode(o->fld_value, strlen(o->fld_value));
		if (name == NULL || value == NULL) {
			free(name);
			free(value);
			mailimf_fields_free(f);
			return -1;
		}
		m->hdr[k].name = name;
		m->hdr[k].value = value;
		m->nhdr = ++k;
		if (addresses_read(m, o->fld_name, o->fld_value) < 0) {
			mailimf_fields_free(f);
			return -1;
		}
	}
	m->nhdr = k;
	mailimf_fields_free(f);
	return 0;
}

const char *message_header(const tg_message *m, const char *name)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (strcasecmp(m->hdr[i].name, name) == 0)
			return m->hdr[i].value;
	return NULL;
}

static int addr_push(tg_message *m, const char *a)
{
	char **v = realloc(m->rcpts, (m->nrcpt + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	m->rcpts = v;
	if ((v[m->nrcpt] = strdup(a)) == NULL)
		return -1;
	m->nrcpt++;
	return 0;
}

/* Mailboxes of an address list, groups included, appended to m->rcpts;
 * the first one with a display name names the customer. */
static int addr_list(tg_message *m, struct mailimf_address_list *al)
{
	for (clistiter *a = al ? clist_begin(al->ad_list) : NULL; a; a = clist_next(a)) {
		struct mailimf_address *ad = clist_content(a);
		clist *boxes = NULL;
		struct mailimf_mailbox *one = NULL;
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX)
			one = ad->ad_data.ad_mailbox;
		else if (ad->ad_data.ad_group && ad->ad_data.ad_group->grp_mb_list)
			boxes = ad->ad_data.ad_group->grp_mb_list->mb_list;
		for (clistiter *b = boxes ? clist_begin(boxes) : NULL; one || b; b = b ? clist_next(b) : NULL) {
			struct mailimf_mailbox *mb = one ? one : clist_content(b);
			one = NULL;
			if (mb->mb_addr_spec && addr_push(m, mb->mb_addr_spec) < 0)
				return -1;
			if (m->customer == NULL && mb->mb_display_name && *mb->mb_display_name &&
			    (m->customer = header_decode(mb->mb_display_name, strlen(mb->mb_display_name))) == NULL)
				return -1;
			if (b == NULL)
				break;
		}
	}
	return 0;
}

/* The addresses of one header, read from its raw value (before RFC 2047
 * decoding, so an encoded comma in a name splits nothing): From gives the
 * agent's address and name, To and Cc the recipients and the customer. */
static int addresses_read(tg_message *m, const char *name, const char *v)
{
	size_t idx = 0, n = strlen(v);
	int rc = 0;
	if (strcasecmp(name, "From") == 0 && m->from == NULL) {
		struct mailimf_mailbox_list *mbl = NULL;
		if (mailimf_mailbox_list_parse(v, n, &idx, &mbl) != MAILIMF_NO_ERROR || mbl == NULL)
			return 0;
		clistiter *b = clist_begin(mbl->mb_list);
		struct mailimf_mailbox *mb = b ? clist_content(b) : NULL;
		if (mb && mb->mb_addr_spec && (m->from = strdup(mb->mb_addr_spec)) == NULL)
			rc = -1;
		if (rc == 0 && mb && mb->mb_display_name && *mb->mb_display_name &&
		    (m->from_name = header_decode(mb->mb_display_name, strlen(mb->mb_display_name))) == NULL)
			rc = -1;
		mailimf_mailbox_list_free(mbl);
	} else if (strcasecmp(name, "To") == 0 || strcasecmp(name, "Cc") == 0) {
		struct mailimf_address_list *al = NULL;
		if (mailimf_address_list_parse(v, n, &idx, &al) != MAILIMF_NO_ERROR || al == NULL)
			return 0;
		rc = addr_list(m, al);
		mailimf_address_list_free(al);
	}
	return rc;
}

/* ---- body ------------------------------------------------------------- */

static int is_attachment(struct mailmime *mm)
{
	struct mailmime_fields *mf = mm->mm_mime_fields;
	if (mf == NULL)
		return 0;
	for (clistiter *it = clist_begin(mf->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION || f->fld_data.fld_disposition == NULL)
			continue;
		struct mailmime_disposition_type *t = f->fld_data.fld_disposition->dsp_type;
		if (t && t->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

/* 1 = text/plain, 2 = text/html, 0 = neither. */
static int text_kind(struct mailmime *mm)
{
	struct mailmime_content *ct = mm->mm_content_type;
	if (ct == NULL)  /* no Content-Type: RFC 2045 says text/plain */
		return 1;
	struct mailmime_type *t = ct->ct_type;
	if (t == NULL || t->tp_type != MAILMIME_TYPE_DISCRETE_TYPE ||
	    t->tp_data.tp_discrete_type == NULL ||
	    t->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT)
		return 0;
	if (ct->ct_subtype && strcasecmp(ct->ct_subtype, "plain") == 0)
		return 1;
	if (ct->ct_subtype && strcasecmp(ct->ct_subtype, "html") == 0)
		return 2;
	return 0;
}

/* Is this part's Content-Type multipart/ anything? */
static int is_multipart(struct mailmime *mm)
{
	struct mailmime_type *t = mm->mm_content_type ? mm->mm_content_type->ct_type : NULL;
	return t && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type &&
	       t->tp_data.tp_composite_type->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART;
}

/* Does the body of multipart mm hold its boundary the way RFC 2046 reads
 * it: at least one delimiter line, and no line that merely starts with
 * "--boundary"? libetpan takes such a line for a delimiter, and when the
 * boundary never appears it invents a part from what follows the last "--"
 * while the real parts sit in what it calls the preamble, unjudged. */
static int delimiters_ok(struct mailmime *mm)
{
	struct mailmime_data *d = mm->mm_body;
	char *b = mm->mm_content_type ? mailmime_extract_boundary(mm->mm_content_type) : NULL;
	if (b == NULL || d == NULL || d->dt_type != MAILMIME_DATA_TEXT) {
		free(b);
		return 0;
	}
	size_t bn = strlen(b);
	unsigned found = 0;
	int ok = bn > 0;
	const char *p = d->dt_data.dt_text.dt_data, *end = p + d->dt_data.dt_text.dt_length;
	while (ok && p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) >= 2 + bn && p[0] == '-' && p[1] == '-' && memcmp(p + 2, b, bn) == 0) {
			const char *r = p + 2 + bn;
			if (le - r >= 2 && r[0] == '-' && r[1] == '-')
				r += 2;
			while (r < le && (*r == ' ' || *r == '\t' || *r == '\r'))
				r++;
			ok = r == le;
			found++;
		}
		p = nl ? nl + 1 : end;
	}
	free(b);
	return ok && found > 0;
}

struct walk {
	struct mailmime *plain, *html;
	unsigned parts, max_parts;
	int malformed;   /* a multipart libetpan had to guess at */
};

/* Depth-first, in order; depth is bounded by the pre-scan. Forwarded
 * messages (message/rfc822) and attachments are not the agent's words. */
static void walk(struct mailmime *mm, struct walk *w, unsigned depth)
{
	if (++w->parts > w->max_parts || depth > 64)
		return;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE: {
		if (is_multipart(mm))  /* no boundary parameter: read as one part */
			w->malformed = 1;
		int k = is_attachment(mm) ? 0 : text_kind(mm);
		if (k == 1 && w->plain == NULL)
			w->plain = mm;
		else if (k == 2 && w->html == NULL)
			w->html = mm;
		break;
	}
	case MAILMIME_MULTIPLE:
		if (!delimiters_ok(mm))
			w->malformed = 1;
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it))
			walk(clist_content(it), w, depth + 1);
		break;
	case MAILMIME_MESSAGE:
		if (depth == 0 && mm->mm_data.mm_message.mm_msg_mime)
			walk(mm->mm_data.mm_message.mm_msg_mime, w, depth + 1);
		break;
	}
}

/* Transfer-decode and convert one part to UTF-8, appended to out. */
static tg_status part_text(const tg_limits *lim, struct mailmime *mm, tg_message *m, sbuf *out)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return TG_OK;
	const char *src = d->dt_data.dt_text.dt_data;
	size_t srclen = d->dt_data.dt_text.dt_length, idx = 0, declen = 0;
	char *dec = NULL;
	int decoded = 0;
	if (d->dt_encoded && d->dt_encoding != MAILMIME_MECHANISM_7BIT &&
	    d->dt_encoding != MAILMIME_MECHANISM_8BIT && d->dt_encoding != MAILMIME_MECHANISM_BINARY) {
		if (mailmime_part_parse(src, srclen, &idx, d->dt_encoding, &dec, &declen) != MAILIMF_NO_ERROR)
			return TG_NOMEM;
		src = dec;
		srclen = declen;
		decoded = 1;
	}
	if (srclen > lim->max_decoded_size) {
		if (decoded)
			mailmime_decoded_part_free(dec);
		return TG_DECODED_TOO_BIG;
	}
	const char *cs = mm->mm_content_type ? mailmime_content_charset_get(mm->mm_content_type) : "us-ascii";
	tg_status st = TG_OK;
	if (cs == NULL || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "ascii") == 0) {
		long r = text_sanitize(out, src, srclen);
		if (r < 0) st = TG_NOMEM; else m->repairs += r;
	} else {
		char *conv = NULL;
		int rc = charconv("utf-8", cs, src, srclen, &conv);
		if (rc == MAIL_CHARCONV_NO_ERROR && conv) {
			long r = text_sanitize(out, conv, strlen(conv));
			if (r < 0) st = TG_NOMEM; else m->repairs += r;
		} else if (rc == MAIL_CHARCONV_ERROR_MEMORY) {
			st = TG_NOMEM;
		} else {
			/* Unknown or broken charset: judge what is readable, say so. */
			if (m->bad_charset == NULL)
				m->bad_charset = strdup(cs);
			long r = text_sanitize(out, src, srclen);
			if (r < 0) st = TG_NOMEM; else m->repairs += r;
		}
		free(conv);
	}
	if (decoded)
		mailmime_decoded_part_free(dec);
	return st;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* An HTML part read as text, appended to out; the text of its quote
 * containers to quoted. */
static tg_status html_part_text(const tg_limits *lim, struct mailmime *mm, tg_message *m,
				sbuf *out, sbuf *quoted)
{
	sbuf h = SBUF_INIT;
	size_t out0 = out->len;
	tg_status st = part_text(lim, mm, m, &h);
	if (st == TG_OK) {
		enum html_status hs = html_to_text(h.s ? h.s : "", h.len, lim->max_html_size, out, quoted);
		if (hs == HTML_TOO_BIG)
			st = TG_DECODED_TOO_BIG;
		else if (hs == HTML_ERROR && out->len == out0)
			st = TG_NO_TEXT;
		m->html = 1;
		m->html_limit |= hs == HTML_LIMIT;
	}
	sbuf_free(&h);
	return st;
}

/* ---- a multipart libetpan had to guess at, read leniently -------------- */

/* A line that may be a MIME delimiter: "--" and a token of at most 70
 * characters with no blank in it (transport padding aside). */
static int delimiter_like(const char *p, size_t n)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	if (n < 3 || n > 2 + 70 + 2 || p[0] != '-' || p[1] != '-')
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] == ' ' || p[i] == '\t')
			return 0;
	return 1;
}

/* A MIME part header field: Content-*, MIME-Version or X-*. */
static int mime_field(const char *p, size_t n)
{
	size_t k = 0;
	while (k < n && p[k] > ' ' && p[k] < 127 && p[k] != ':')
		k++;
	if (k == 0 || k == n || p[k] != ':')
		return 0;
	return (k > 8 && strncasecmp(p, "content-", 8) == 0) ||
	       (k == 12 && strncasecmp(p, "mime-version", 12) == 0) ||
	       (k > 2 && strncasecmp(p, "x-", 2) == 0);
}

/* Where the body of a segment starts when it opens with a part header
 * (MIME fields only, so words dressed up as "Nope: ..." stay text, then an
 * empty line); n for a header with no body; 0 when there is no header. */
static size_t part_header_len(const char *p, size_t n)
{
	const char *s = p, *end = p + n;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - s);
		if (ll == 0 || (ll == 1 && *s == '\r'))
			return s == p ? 0 : (size_t)(le + (nl != NULL) - p);
		if (!(s > p && (*s == ' ' || *s == '\t')) && !mime_field(s, ll))
			return 0;
		s = nl ? nl + 1 : end;
	}
	return n;
}

/* The text of one segment, appended to out: a text/plain or text/html part
 * decoded as usual, a segment with no part header as it stands. Attachments,
 * forwarded messages and other types give nothing; a multipart's own body
 * here is only its preamble, so it is read as text too. */
static tg_status segment_text(const tg_limits *lim, const char *p, size_t n, tg_message *m,
			      sbuf *out, sbuf *quoted)
{
	size_t h = part_header_len(p, n);
	if (h == n)
		return TG_OK;
	size_t idx = 0;
	struct mailmime *mime = NULL, *e = NULL;
	if (h && mailmime_parse(p, n, &idx, &mime) == MAILIMF_NO_ERROR && mime &&
	    mime->mm_type == MAILMIME_MESSAGE)
		e = mime->mm_data.mm_message.mm_msg_mime;
	tg_status st = TG_OK;
	if (e == NULL || e->mm_type == MAILMIME_MULTIPLE || is_multipart(e)) {
		long r = text_sanitize(out, p + h, n - h);
		if (r < 0) st = TG_NOMEM; else m->repairs += r;
	} else if (e->mm_type == MAILMIME_SINGLE && !is_attachment(e)) {
		int k = text_kind(e);
		if (k == 1)
			st = part_text(lim, e, m, out);
		else if (k == 2 && (st = html_part_text(lim, e, m, out, quoted)) == TG_NO_TEXT)
			st = TG_OK;
	}
	if (mime)
		mailmime_free(mime);
	return st;
}

/* The body of a message whose multipart structure is broken, read without
 * trusting any boundary: cut at every line that may be a delimiter, and the
 * text of every segment, plain and HTML, in order, judged together, so no
 * words hide in what one reading or another calls a preamble. */
static tg_status body_lenient(const tg_limits *lim, const char *body, size_t len, tg_message *m)
{
	sbuf txt = SBUF_INIT, seg = SBUF_INIT, quoted = SBUF_INIT;
	tg_status st = TG_OK;
	unsigned nseg = 0;
	const char *end = body + len, *from = body;
	for (const char *p = body; st == TG_OK;) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *le = nl ? nl : end;
		int last = p >= end;
		if (last || delimiter_like(p, (size_t)(le - p))) {
			if (++nseg > lim->max_parts) {
				st = TG_TOO_MANY_PARTS;
				break;
			}
			sbuf_reset(&seg);
			st = segment_text(lim, from, (size_t)(p - from), m, &seg, &quoted);
			if (st == TG_OK && seg.len && txt.len + seg.len + 1 > lim->max_decoded_size)
				st = TG_DECODED_TOO_BIG;
			else if (st == TG_OK && seg.len &&
				 (sbuf_append(&txt, seg.s, seg.len) < 0 || sbuf_putc(&txt, '\n') < 0))
				st = TG_NOMEM;
			if (last)
				break;
			from = nl ? nl + 1 : end;
		}
		p = nl ? nl + 1 : end;
	}
	m->parts = nseg;
	if (st == TG_OK && blank(txt.s ? txt.s : "", txt.len))
		st = TG_NO_TEXT;
	if (st == TG_OK) {
		m->text = sbuf_detach(&txt, &m->text_len);
		if (quoted.len)
			m->quoted_html = sbuf_detach(&quoted, &m->quoted_html_len);
	}
	sbuf_free(&txt);
	sbuf_free(&seg);
	sbuf_free(&quoted);
	return st;
}

/* ---- the message ------------------------------------------------------ */

/* The raw body of the message's top entity, as libetpan delimits it. */
static int top_body(struct mailmime *root, const char *raw, size_t len, const char **body, size_t *n)
{
	struct mailmime *e = root->mm_type == MAILMIME_MESSAGE ? root->mm_data.mm_message.mm_msg_mime : NULL;
	struct mailmime_data *d = e == NULL ? NULL :
		e->mm_type == MAILMIME_MULTIPLE ? e->mm_body :
		e->mm_type == MAILMIME_SINGLE ? e->mm_data.mm_single : NULL;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT || d->dt_data.dt_text.dt_data < raw ||
	    d->dt_data.dt_text.dt_length > (size_t)(raw + len - d->dt_data.dt_text.dt_data))
		return -1;
	*body = d->dt_data.dt_text.dt_data;
	*n = d->dt_data.dt_text.dt_length;
	return 0;
}

static tg_status body_read(const tg_limits *lim, struct mailmime *root, const char *raw, size_t len,
			   tg_message *m)
{
	struct walk w = {NULL, NULL, 0, lim->max_parts, 0};
	walk(root, &w, 0);
	m->parts = w.parts;
	if (w.parts > lim->max_parts)
		return TG_TOO_MANY_PARTS;
	const char *body;
	size_t n;
	if (w.malformed && top_body(root, raw, len, &body, &n) == 0) {
		m->malformed = 1;
		return body_lenient(lim, body, n, m);
	}
	sbuf txt = SBUF_INIT;
	tg_status st = TG_NO_TEXT;
	if (w.plain) {
		st = part_text(lim, w.plain, m, &txt);
		if (st == TG_OK && blank(txt.s ? txt.s : "", txt.len) && w.html) {
			sbuf_reset(&txt);
			st = TG_NO_TEXT;
		} else if (st == TG_OK && blank(txt.s ? txt.s : "", txt.len)) {
			st = TG_NO_TEXT;
		}
	}
	if (st == TG_NO_TEXT && w.html) {
		sbuf quoted = SBUF_INIT;
		st = html_part_text(lim, w.html, m, &txt, &quoted);
		if (st == TG_OK && quoted.len)
			m->quoted_html = sbuf_detach(&quoted, &m->quoted_html_len);
		sbuf_free(&quoted);
		if (st == TG_OK && blank(txt.s ? txt.s : "", txt.len))
			st = TG_NO_TEXT;
	}
	if (st == TG_OK)
		m->text = sbuf_detach(&txt, &m->text_len);
	sbuf_free(&txt);
	return st;
}

/* Does raw have an empty line, the end of its header? */
static int has_body(const char *raw, size_t len)
{
	for (const char *p = raw, *end = raw + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;) {
		p++;
		if (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
			return 1;
	}
	return 0;
}

static tg_status parse(const tg_limits *lim, const char *raw, size_t len, tg_message *m)
{
	if (headers_read(raw, len, m) < 0)
		return TG_NOMEM;
	if (m->nhdr == 0)
		return TG_PARSE_ERROR;

	unsigned depth, parts;
	message_prescan(raw, len, lim->max_depth, &depth, &parts);
	if (depth > lim->max_depth)
		return TG_TOO_DEEP;
	if (parts > lim->max_parts)
		return TG_TOO_MANY_PARTS;

	size_t idx = 0;
	struct mailmime *mime = NULL;
	if (mailmime_parse(raw, len, &idx, &mime) != MAILIMF_NO_ERROR || mime == NULL)
		return TG_NO_TEXT;
	tg_status st = body_read(lim, mime, raw, len, m);
	mailmime_free(mime);
	return st;
}

tg_status message_parse(const tg_limits *lim, const char *raw, size_t len, tg_message *m)
{
	memset(m, 0, sizeof *m);
	if (len > lim->max_message_size)
		return TG_TOO_BIG;
	if (has_body(raw, len))
		return parse(lim, raw, len, m);
	/* All header: ended by an empty line, so libetpan does not take the
	 * last field (without its line end) for the body. */
	char *copy = malloc(len + 3);
	if (copy == NULL)
		return TG_NOMEM;
	memcpy(copy, raw, len);
	size_t n = len;
	if (n == 0 || copy[n - 1] != '\n')
		copy[n++] = '\n';
	copy[n++] = '\n';
	tg_status st = parse(lim, copy, n, m);
	free(copy);
	return st;
}

void message_free(tg_message *m)
{
	for (size_t i = 0; i < m->nhdr; i++) {
		free(m->hdr[i].name);
		free(m->hdr[i].value);
	}
	free(m->hdr);
	free(m->text);
	free(m->quoted_html);
	free(m->customer);
	free(m->from);
	free(m->from_name);
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->bad_charset);
	memset(m, 0, sizeof *m);
}
