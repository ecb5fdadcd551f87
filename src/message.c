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

struct bound { const char *p; size_t n; };

/* The value of a boundary= parameter starting at v (quoted or a token). */
static struct bound boundary_value(const char *v, const char *end)
{
	struct bound b = {NULL, 0};
	if (v < end && *v == '"') {
		const char *q = memchr(v + 1, '"', (size_t)(end - v - 1));
		if (q) { b.p = v + 1; b.n = (size_t)(q - v - 1); }
		return b;
	}
	const char *e = v;
	while (e < end && *e != ';' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n')
		e++;
	b.p = v;
	b.n = (size_t)(e - v);
	return b;
}

void message_prescan(const char *raw, size_t len, unsigned max_depth,
		  unsigned *depth, unsigned *parts)
{
	struct bound stack[64];
	unsigned cap = max_depth + 1 < 64 ? max_depth + 1 : 64, sp = 0;
	*depth = 0;
	*parts = 0;
	const char *p = raw, *end = raw + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll >= 3 && p[0] == '-' && p[1] == '-') {
			for (unsigned i = sp; i-- > 0;) {
				struct bound b = stack[i];
				if (ll >= 2 + b.n && memcmp(p + 2, b.p, b.n) == 0) {
					if (ll >= 4 + b.n && p[2 + b.n] == '-' && p[3 + b.n] == '-')
						sp = i;  /* close: pop it and everything inside */
					else
						(*parts)++;
					break;
				}
			}
		} else {
			for (const char *q = p; q + 9 <= le; q++) {
				if ((*q | 0x20) != 'b' || strncasecmp(q, "boundary=", 9) != 0)
					continue;
				struct bound b = boundary_value(q + 9, le);
				if (b.n == 0)
					break;
				if (sp == cap) {
					*depth = max_depth + 1;
					return;
				}
				stack[sp++] = b;
				if (sp > *depth)
					*depth = sp;
				break;
			}
		}
		p = nl ? nl + 1 : end;
	}
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

struct walk {
	struct mailmime *plain, *html;
	unsigned parts, max_parts;
};

/* Depth-first, in order; depth is bounded by the pre-scan. Forwarded
 * messages (message/rfc822) and attachments are not the agent's words. */
static void walk(struct mailmime *mm, struct walk *w, unsigned depth)
{
	if (++w->parts > w->max_parts || depth > 64)
		return;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE: {
		int k = is_attachment(mm) ? 0 : text_kind(mm);
		if (k == 1 && w->plain == NULL)
			w->plain = mm;
		else if (k == 2 && w->html == NULL)
			w->html = mm;
		break;
	}
	case MAILMIME_MULTIPLE:
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

static tg_status body_read(const tg_limits *lim, struct mailmime *root, tg_message *m)
{
	struct walk w = {NULL, NULL, 0, lim->max_parts};
	walk(root, &w, 0);
	m->parts = w.parts;
	if (w.parts > lim->max_parts)
		return TG_TOO_MANY_PARTS;
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
		sbuf h = SBUF_INIT, quoted = SBUF_INIT;
		st = part_text(lim, w.html, m, &h);
		if (st == TG_OK) {
			enum html_status hs = html_to_text(h.s ? h.s : "", h.len, lim->max_html_size, &txt, &quoted);
			if (hs == HTML_TOO_BIG)
				st = TG_DECODED_TOO_BIG;
			else if (hs == HTML_ERROR && txt.len == 0)
				st = TG_NO_TEXT;
			m->html = 1;
			m->html_limit = hs == HTML_LIMIT;
			if (quoted.len)
				m->quoted_html = sbuf_detach(&quoted, &m->quoted_html_len);
		}
		sbuf_free(&h);
		sbuf_free(&quoted);
		if (st == TG_OK && blank(txt.s ? txt.s : "", txt.len))
			st = TG_NO_TEXT;
	}
	if (st == TG_OK)
		m->text = sbuf_detach(&txt, &m->text_len);
	sbuf_free(&txt);
	return st;
}

tg_status message_parse(const tg_limits *lim, const char *raw, size_t len, tg_message *m)
{
	memset(m, 0, sizeof *m);
	if (len > lim->max_message_size)
		return TG_TOO_BIG;
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
	tg_status st = body_read(lim, mime, m);
	mailmime_free(mime);
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
