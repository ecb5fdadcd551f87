/* message — headers and the words a reader is shown of a raw message (libetpan); see message.h. */
#include "config.h"
#include "message.h"
#include "html.h"
#include "quote.h"
#include "sbuf.h"
#include "text.h"

#include <libetpan/libetpan.h>
#include <stdint.h>
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

/* ---- charset conversion ----------------------------------------------- */

/* The names taken for UTF-8 and for US-ASCII: text in either is read as it is. */
static const char *const utf8_names[] = {"utf-8", "utf8", NULL};
static const char *const ascii_names[] = {"us-ascii", "ascii", NULL};

static int charset_is(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(cs, *names) == 0)
			return 1;
	return 0;
}

/* libetpan's charconv() opens and closes an iconv descriptor on every call,
 * UTF-8 to UTF-8 included, and mailmime_parse() makes that call for each
 * MIME parameter it reads (charset=, boundary=: encoded words): about 5,500
 * instructions each, 2 % of all judging. Through libetpan's
 * extended_charconv hook this answers the identity case, US-ASCII or UTF-8
 * into UTF-8, with a copy when the input is valid (iconv's output then);
 * every other case (another charset, invalid bytes) it leaves to iconv.
 * When it declines, charconv() 1.9.4 frees its buffer without clearing
 * *result: a caller must use *result only on MAIL_CHARCONV_NO_ERROR, as
 * libetpan's own (mailmime_encoded_phrase_parse) and part_text() do. */
static int charconv_same(const char *to, const char *from, const char *s, size_t n,
			 char *out, size_t *outlen)
{
	int from_ascii = charset_is(from, ascii_names);
	if (!charset_is(to, utf8_names) || !(from_ascii || charset_is(from, utf8_names)) || n > *outlen)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (size_t i = 0; i < n;) {
		size_t k = (unsigned char)s[i] < 0x80 ? 1 : from_ascii ? 0 :
			text_u8len((const unsigned char *)s + i, n - i);
		if (k == 0)
			return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
		i += k;
	}
	memcpy(out, s, n);
	*outlen = n;
	return MAIL_CHARCONV_NO_ERROR;
}

void message_init(void)
{
	html_init();
	if (extended_charconv == NULL)
		extended_charconv = charconv_same;
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
	/* Most values are one line of printable ASCII without an encoded
	 * word: they are their own decoding. */
	size_t k = 0;
	while (k < n && v[k] >= 0x20 && v[k] < 0x7f && !(v[k] == '=' && k + 1 < n && v[k + 1] == '?'))
		k++;
	if (k == n)
		return strndup(v, n);
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
static int headers_read(const char *raw, size_t len, tg_message *m, size_t *end)
{
	size_t idx = 0;
	struct mailimf_fields *f = NULL;
	if (mailimf_optional_fields_parse(raw, len, &idx, &f) != MAILIMF_NO_ERROR || f == NULL)
		return 0;
	*end = idx;
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

/* Is s "name" or an RFC 2231 piece of it ("name*", "name*0*")? */
static int param_is(const char *s, const char *name)
{
	size_t n = strlen(name);
	return s && strncasecmp(s, name, n) == 0 && (s[n] == '\0' || s[n] == '*');
}

/* Has the part a file name (Content-Disposition filename, Content-Type
 * name)? A text file sent inline is a file, not words the agent wrote. */
static int is_named(struct mailmime *mm)
{
	clist *ctp = mm->mm_content_type ? mm->mm_content_type->ct_parameters : NULL;
	for (clistiter *it = ctp ? clist_begin(ctp) : NULL; it; it = clist_next(it)) {
		struct mailmime_parameter *pa = clist_content(it);
		if (param_is(pa->pa_name, "name"))
			return 1;
	}
	struct mailmime_fields *mf = mm->mm_mime_fields;
	for (clistiter *it = mf ? clist_begin(mf->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION || f->fld_data.fld_disposition == NULL ||
		    f->fld_data.fld_disposition->dsp_parms == NULL)
			continue;
		for (clistiter *p = clist_begin(f->fld_data.fld_disposition->dsp_parms); p; p = clist_next(p)) {
			struct mailmime_disposition_parm *dp = clist_content(p);
			if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME ||
			    (dp->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER && dp->pa_data.pa_parameter &&
			     param_is(dp->pa_data.pa_parameter->pa_name, "filename")))
				return 1;
		}
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

/* The text kind of a part shown in the body: 0 for an attachment or a
 * named part. */
static int shown_kind(struct mailmime *mm)
{
	return is_attachment(mm) || is_named(mm) ? 0 : text_kind(mm);
}

/* Is this part's Content-Type multipart/ anything? */
static int is_multipart(struct mailmime *mm)
{
	struct mailmime_type *t = mm->mm_content_type ? mm->mm_content_type->ct_type : NULL;
	return t && t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type &&
	       t->tp_data.tp_composite_type->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART;
}

static int subtype_is(struct mailmime *mm, const char *sub)
{
	return mm->mm_content_type && mm->mm_content_type->ct_subtype &&
	       strcasecmp(mm->mm_content_type->ct_subtype, sub) == 0;
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


/* What reading a part noticed, kept with its text until the text is used:
 * an alternative read only to be compared, then dropped, leaves no trace. */
struct notes {
	long repairs;       /* invalid bytes replaced */
	char *bad_charset;  /* the first charset iconv does not know */
	int html, html_limit;
};

/* Add b's notes to a's (a takes b's charset); b is left empty. */
static void notes_add(struct notes *a, struct notes *b)
{
	a->repairs += b->repairs;
	a->html |= b->html;
	a->html_limit |= b->html_limit;
	if (a->bad_charset == NULL) {
		a->bad_charset = b->bad_charset;
		b->bad_charset = NULL;
	}
	free(b->bad_charset);
	memset(b, 0, sizeof *b);
}

static void notes_to_message(struct notes *nt, tg_message *m)
{
	struct notes all = {m->repairs, m->bad_charset, m->html, m->html_limit};
	notes_add(&all, nt);
	m->repairs = all.repairs;
	m->bad_charset = all.bad_charset;
	m->html = all.html;
	m->html_limit = all.html_limit;
}

/* Transfer-decode and convert one part to UTF-8, appended to out. */
static tg_status part_text(const tg_limits *lim, struct mailmime *mm, struct notes *nt, sbuf *out)
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
	if (cs == NULL || charset_is(cs, utf8_names) || charset_is(cs, ascii_names)) {
		long r = text_sanitize(out, src, srclen);
		if (r < 0) st = TG_NOMEM; else nt->repairs += r;
	} else {
		char *conv = NULL;
		int rc = charconv("utf-8", cs, src, srclen, &conv);
		if (rc != MAIL_CHARCONV_NO_ERROR)
			conv = NULL;  /* libetpan 1.9 leaves it dangling when a hook declined */
		if (rc == MAIL_CHARCONV_NO_ERROR && conv) {
			long r = text_sanitize(out, conv, strlen(conv));
			if (r < 0) st = TG_NOMEM; else nt->repairs += r;
		} else if (rc == MAIL_CHARCONV_ERROR_MEMORY) {
			st = TG_NOMEM;
		} else {
			/* Unknown or broken charset: judge what is readable, say so. */
			if (nt->bad_charset == NULL)
				nt->bad_charset = strdup(cs);
			long r = text_sanitize(out, src, srclen);
			if (r < 0) st = TG_NOMEM; else nt->repairs += r;
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

static int sblank(const sbuf *b)
{
	return blank(b->s ? b->s : "", b->len);
}

/* Decoded HTML h read as text, appended to out; the text of its quote
 * containers to quoted. TG_NO_TEXT when it could not be read at all. */
static tg_status html_render(const tg_limits *lim, const sbuf *h, struct notes *nt, sbuf *out, sbuf *quoted)
{
	size_t out0 = out->len;
	enum html_status hs = html_to_text(h->s ? h->s : "", h->len, lim->max_html_size, out, quoted);
	nt->html = 1;
	nt->html_limit |= hs == HTML_LIMIT;
	if (hs == HTML_TOO_BIG)
		return TG_DECODED_TOO_BIG;
	return hs == HTML_ERROR && out->len == out0 ? TG_NO_TEXT : TG_OK;
}

/* An HTML part read as text, appended to out; the text of its quote
 * containers to quoted. */
static tg_status html_part_text(const tg_limits *lim, struct mailmime *mm, struct notes *nt,
				sbuf *out, sbuf *quoted)
{
	sbuf h = SBUF_INIT;
	tg_status st = part_text(lim, mm, nt, &h);
	if (st == TG_OK)
		st = html_render(lim, &h, nt, out, quoted);
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
static tg_status segment_text(const tg_limits *lim, const char *p, size_t n, struct notes *nt,
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
		if (r < 0) st = TG_NOMEM; else nt->repairs += r;
	} else if (e->mm_type == MAILMIME_SINGLE && !is_attachment(e)) {
		int k = text_kind(e);
		if (k == 1)
			st = part_text(lim, e, nt, out);
		else if (k == 2 && (st = html_part_text(lim, e, nt, out, quoted)) == TG_NO_TEXT)
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
	struct notes nt = {0};
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
			st = segment_text(lim, from, (size_t)(p - from), &nt, &seg, &quoted);
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
	notes_to_message(&nt, m);
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

/* ---- what an alternative shows ----------------------------------------- */

/* A multipart/alternative is read in one of its forms: by most mail clients
 * the HTML, by a few the plain text. Clients write both from the same words,
 * and the plain form is the one judged (quote.c reads its ">" history best),
 * unless the HTML shows words the plain form does not have: then the HTML is
 * judged, as most customers see it. A word of the HTML counts as in the
 * plain text when it stands there beside the same word before or after it
 * (the text's ends count as words): line breaks, spacing, case, punctuation,
 * link addresses and the history or signature only one form has change
 * nothing, while a sentence of the HTML that the plain text lacks, even one
 * made of words found here and there in it, does. */

#define WORD_EDGE 0x5bd1e9955bd1e995ull  /* the hash of the text's ends */
#define PAIRS_MAX (1u << 19)            /* pairs kept: far above any reply */

/* ASCII letters (folded to small) and digits; 0 for the rest. */
static const unsigned char ascii_word[128] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
	['8'] = '8', ['9'] = '9',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h',
	['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
	['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h',
	['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p',
	['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
};

/* The length of the character at p[0..n) (at least 1), and whether it is
 * part of a word: ASCII letters and digits and any character above ASCII
 * but the spaces, punctuation and symbols of U+0080-U+00BF and
 * U+2000-U+2BFF (NBSP, typographic quotes, dashes, the ellipsis, zero-width
 * characters, currency signs, arrows), U+3000, U+FEFF and emoji: what a
 * plain form may spell otherwise ("EUR 600" for "€600", ":)"). */
static size_t char_class(const unsigned char *p, size_t n, int *word)
{
	unsigned c = p[0];
	if (c < 0x80) {
		*word = ascii_word[c] != 0;
		return 1;
	}
	size_t l = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (l > n)
		l = n;
	*word = !(c == 0xc2 || (c == 0xe2 && l >= 2 && p[1] < 0xb0) || (c == 0xf0 && l >= 2 && p[1] == 0x9f) ||
		  (c == 0xe3 && l >= 3 && p[1] == 0x80 && p[2] == 0x80) ||
		  (c == 0xef && l >= 3 && p[1] == 0xbb && p[2] == 0xbf));
	return l;
}

/* The next word of s[*at..n), hashed (FNV-1a, ASCII case folded) to *h;
 * 0 when there is none. */
static int next_word(const char *s, size_t n, size_t *at, uint64_t *h)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = *at, l;
	int word;
	for (;;) {  /* ASCII without a call: most of the text */
		while (i < n && p[i] < 0x80 && !ascii_word[p[i]])
			i++;
		if (i >= n || p[i] < 0x80 || (l = char_class(p + i, n - i, &word), word))
			break;
		i += l;
	}
	if (i >= n) {
		*at = n;
		return 0;
	}
	uint64_t x = 0xcbf29ce484222325ull;
	for (;;) {
		unsigned char c;
		while (i < n && p[i] < 0x80 && (c = ascii_word[p[i]]) != 0)
			x = (x ^ c) * 0x100000001b3ull, i++;
		if (i >= n || p[i] < 0x80 || (l = char_class(p + i, n - i, &word), !word))
			break;
		for (size_t e = i + l; i < e; i++)
			x = (x ^ p[i]) * 0x100000001b3ull;
	}
	*at = i;
	*h = x;
	return 1;
}

/* The set of word pairs (a, b) of a text, b right after a; open addressing,
 * 0 marks a free slot. */
struct pairs {
	uint64_t *slot;
	size_t cap, n;
};

static uint64_t pair_key(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull + b;
	x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x ? x : 1;
}

static int pairs_has(const struct pairs *ps, uint64_t k)
{
	for (size_t i = k & (ps->cap - 1); ps->cap && ps->slot[i]; i = (i + 1) & (ps->cap - 1))
		if (ps->slot[i] == k)
			return 1;
	return 0;
}

/* Past PAIRS_MAX pairs the rest is left out: a text that large is hostile,
 * and the HTML then counts as showing more. */
static int pairs_add(struct pairs *ps, uint64_t k)
{
	if (ps->n * 2 >= ps->cap) {
		if (ps->n >= PAIRS_MAX)
			return 0;
		size_t cap = ps->cap ? ps->cap * 2 : 256;
		uint64_t *s = calloc(cap, sizeof *s);
		if (s == NULL)
			return -1;
		for (size_t i = 0; i < ps->cap; i++) {
			size_t j = ps->slot[i] & (cap - 1);
			if (ps->slot[i] == 0)
				continue;
			while (s[j])
				j = (j + 1) & (cap - 1);
			s[j] = ps->slot[i];
		}
		free(ps->slot);
		ps->slot = s;
		ps->cap = cap;
	}
	size_t i = k & (ps->cap - 1);
	while (ps->slot[i] && ps->slot[i] != k)
		i = (i + 1) & (ps->cap - 1);
	ps->n += ps->slot[i] == 0;
	ps->slot[i] = k;
	return 0;
}

static int pairs_of(struct pairs *ps, const char *s, size_t n)
{
	size_t at = 0, cap = 256;
	uint64_t prev = WORD_EDGE, h;
	while (cap < n / 2 && cap < 2 * (size_t)PAIRS_MAX)  /* a word and a space: 4 bytes or more */
		cap *= 2;
	if (ps->cap == 0 && (ps->slot = calloc(cap, sizeof *ps->slot)) != NULL)
		ps->cap = cap;
	while (next_word(s, n, &at, &h)) {
		if (pairs_add(ps, pair_key(prev, h)) < 0)
			return -1;
		prev = h;
	}
	return pairs_add(ps, pair_key(prev, WORD_EDGE));
}

/* The words of a text one at a time, each with its neighbours (the text's
 * ends are WORD_EDGE). */
struct words {
	const char *s;
	size_t n, at;
	uint64_t prev, cur, next;
	size_t end, next_end;  /* where cur and next end in s */
	int state;  /* 0 before the first word, 1 on a word, 2 past the last */
};

static int words_next(struct words *w)
{
	if (w->state == 0) {
		w->prev = WORD_EDGE;
		if (w->s == NULL || !next_word(w->s, w->n, &w->at, &w->cur)) {
			w->state = 2;
			return 0;
		}
		w->end = w->at;
	} else if (w->state == 1 && w->next != WORD_EDGE) {
		w->prev = w->cur;
		w->cur = w->next;
		w->end = w->next_end;
	} else {
		w->state = 2;
		return 0;
	}
	if (!next_word(w->s, w->n, &w->at, &w->next))
		w->next = WORD_EDGE;
	w->next_end = w->at;
	w->state = 1;
	return 1;
}

/* Does the word stand in the text ps was made from beside one of the
 * neighbours it has here? */
static int word_in(const struct pairs *ps, const struct words *w)
{
	return pairs_has(ps, pair_key(w->prev, w->cur)) || pairs_has(ps, pair_key(w->cur, w->next));
}

/* Has s[0..n) a word the plain form lacks, one that is not in its text
 * (all) beside a neighbour it has in s? With own (the pairs of the plain
 * form's reply, as quote_split() cuts it), the words after the last one of
 * the reply are the HTML's own signature or footer ("Help centre" under the
 * name): they count only when the first of them is not in the plain text at
 * all, as words added after the reply would not be. */
static int shows_more(const struct pairs *all, const struct pairs *own, const char *s, size_t n)
{
	struct words w = {s, n, 0, 0, 0, 0, 0, 0, 0};
	size_t last = (size_t)-1, i = 0;
	for (; words_next(&w); i++)
		if (word_in(own, &w))
			last = i;
	w = (struct words){s, n, 0, 0, 0, 0, 0, 0, 0};
	for (i = 0; words_next(&w); i++)
		if (last != (size_t)-1 && i > last + 1)
			return 0;
		else if (!word_in(all, &w))
			return 1;
	return 0;
}

/* Where the last word of s[0..n) not in the text all was made from (see
 * shows_more) ends; 0 when every word is in it. */
static size_t unshown_end(const struct pairs *all, const char *s, size_t n)
{
	struct words w = {s, n, 0, 0, 0, 0, 0, 0, 0};
	size_t end = 0;
	while (words_next(&w))
		if (!word_in(all, &w))
			end = w.end;
	return end;
}

/* ---- what the reader is shown ----------------------------------------- */

/* The text parts of the body a reader is shown, in order, as one text. A
 * part's quoted history and signature end with the part: when another part
 * follows, the earlier one is cut to the agent's own words (quote_split;
 * its history kept as the customer's words), so words put after a
 * signature or a quote, in a part of their own, are still judged. The last
 * part stays whole, for judge.c to cut as it cuts a message of one part. */
struct shown {
	const tg_limits *lim;
	sbuf text;       /* the earlier parts' own words, a blank line after each */
	sbuf last;       /* the latest part, whole */
	sbuf quoted;     /* HTML quote containers; the earlier parts' history */
	struct notes nt;
	unsigned n;      /* parts shown */
	int prefer_plain;/* read every alternative in its plain form */
	int chose_rich;  /* an alternative was read in its rich form */
};

static void shown_free(struct shown *sh)
{
	sbuf_free(&sh->text);
	sbuf_free(&sh->last);
	sbuf_free(&sh->quoted);
	free(sh->nt.bad_charset);
}

/* One more part shown, its text t (taken, t is left empty) and its notes
 * (taken); a blank part shows nothing. */
static tg_status shown_add(struct shown *sh, sbuf *t, struct notes *nt)
{
	if (sblank(t)) {
		free(nt->bad_charset);
		memset(nt, 0, sizeof *nt);
		return TG_OK;
	}
	if (sh->n && sh->text.len + sh->last.len + t->len + 1 > sh->lim->max_decoded_size)
		return TG_DECODED_TOO_BIG;
	if (sh->n) {
		tg_split sp;
		int rc = quote_split_keep(sh->last.s, sh->last.len, sh->lim->max_context_size, &sp);
		if (rc == 0 && sp.agent.len)
			rc = sbuf_append(&sh->text, sp.agent.s, sp.agent.len) < 0 || sbuf_putc(&sh->text, '\n') < 0 ? -1 : 0;
		if (rc == 0 && sp.quoted.len)
			rc = sbuf_append(&sh->quoted, sp.quoted.s, sp.quoted.len);
		quote_split_free(&sp);
		if (rc < 0)
			return TG_NOMEM;
	}
	sbuf_free(&sh->last);
	sh->last = *t;
	*t = (sbuf)SBUF_INIT;
	notes_add(&sh->nt, nt);
	sh->n++;
	return TG_OK;
}

/* The text shown, moved to out (empty): the earlier parts' own words, then
 * the last part. */
static int shown_finish(struct shown *sh, sbuf *out)
{
	if (sh->text.len == 0) {
		*out = sh->last;
		sh->last = (sbuf)SBUF_INIT;
		return 0;
	}
	if (sbuf_append(&sh->text, sh->last.s ? sh->last.s : "", sh->last.len) < 0)
		return -1;
	sbuf_free(&sh->last);
	*out = sh->text;
	sh->text = (sbuf)SBUF_INIT;
	return 0;
}

static tg_status show(struct shown *sh, struct mailmime *mm, unsigned depth);

/* A single part, shown when it is text and neither an attachment nor a
 * named file. */
static tg_status show_single(struct shown *sh, struct mailmime *mm)
{
	int k = shown_kind(mm);
	if (k == 0)
		return TG_OK;
	sbuf t = SBUF_INIT;
	struct notes nt = {0};
	tg_status st = k == 1 ? part_text(sh->lim, mm, &nt, &t) : html_part_text(sh->lim, mm, &nt, &t, &sh->quoted);
	if (st == TG_NO_TEXT)  /* HTML beyond reading shows nothing */
		st = TG_OK;
	if (st == TG_OK)
		st = shown_add(sh, &t, &nt);
	sbuf_free(&t);
	free(nt.bad_charset);
	return st;
}

static const char *content_id(struct mailmime *mm, size_t *n)
{
	struct mailmime_fields *mf = mm->mm_mime_fields;
	for (clistiter *it = mf ? clist_begin(mf->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_ID && f->fld_data.fld_id) {
			const char *id = f->fld_data.fld_id;
			*n = strlen(id);
			if (*n >= 2 && id[0] == '<' && id[*n - 1] == '>') {
				*n -= 2;
				return id + 1;
			}
			return id;
		}
	}
	return NULL;
}

/* The part of a multipart/related that is shown: the one its start
 * parameter names, else the first (RFC 2387). The others are what it shows
 * inside itself (images), not text of their own. */
static struct mailmime *related_root(struct mailmime *mm)
{
	clist *l = mm->mm_data.mm_multipart.mm_mp_list;
	char *start = mm->mm_content_type ? mailmime_content_param_get(mm->mm_content_type, "start") : NULL;
	size_t sn = start ? strlen(start) : 0, n;
	if (sn >= 2 && start[0] == '<' && start[sn - 1] == '>') {
		start++;
		sn -= 2;
	}
	for (clistiter *it = start ? clist_begin(l) : NULL; it; it = clist_next(it)) {
		const char *id = content_id(clist_content(it), &n);
		if (id && n == sn && memcmp(id, start, n) == 0)
			return clist_content(it);
	}
	return clist_begin(l) ? clist_content(clist_begin(l)) : NULL;
}

/* The lines of s[0..n) above its first ">" line or "-- " signature line:
 * the plain form's reply is there, and quote_split() need not read the
 * history and signature under it. */
static size_t reply_len(const char *s, size_t n)
{
	for (const char *p = s, *end = s + n; p && p < end;) {
		const char *q = p, *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		while (e > q && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if ((q < e && *q == '>') || (q == p && e - q == 2 && q[0] == '-' && q[1] == '-'))
			return (size_t)(p - s);
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Does the visible text v[0..n) of the rich form show more than the plain
 * form p (all: its pairs)? Its reply, as quote_split() cuts it when cut is
 * set (else all of v: a stricter test), decides; own, the pairs of the
 * plain form's reply, is made on first use. */
static tg_status seen_more(const sbuf *p, const struct pairs *all, struct pairs *own,
			   const char *v, size_t n, int cut, int *more)
{
	tg_split sp, pp;
	memset(&sp, 0, sizeof sp);
	memset(&pp, 0, sizeof pp);
	tg_status st = TG_OK;
	if (own->slot == NULL &&
	    (quote_split_keep(p->s, reply_len(p->s, p->len), 0, &pp) < 0 || pairs_of(own, pp.agent.s, pp.agent.len) < 0))
		st = TG_NOMEM;
	quote_split_free(&pp);
	if (st == TG_OK && !cut)
		*more = shows_more(all, own, v, n);
	else if (st == TG_OK && quote_split_keep(v ? v : "", n, 0, &sp) == 0)
		*more = shows_more(all, own, sp.agent.s, sp.agent.len);
	else
		st = TG_NOMEM;
	quote_split_free(&sp);
	return st;
}

/* Does the rich form of an alternative (HTML, or a multipart holding it)
 * show words the plain form p does not? An HTML part is first skimmed
 * (html_skim: no parse): when every word is in the plain form, it shows
 * nothing more. Else the words it would be judged by decide: its reply as
 * quote_split() cuts it (html_to_text leaves out history and hidden
 * preheaders). They are read from the HTML up to the last word the plain
 * form lacks (a signature's link above a long quoted history: the rest
 * has none, html_skim_cut), from its skim when that part has no markup
 * the parser reads otherwise, else by parsing that part, and by parsing
 * the whole when either reading finds more. When it shows more, sub holds
 * it as read. */
static tg_status rich_shows_more(const tg_limits *lim, const sbuf *p, struct mailmime *rich,
				 unsigned depth, struct shown *sub, int *more)
{
	struct pairs all = {NULL, 0, 0}, own = {NULL, 0, 0};
	sbuf h = SBUF_INIT, skim = SBUF_INIT, r = SBUF_INIT, v = SBUF_INIT;
	struct notes hn = {0};
	*more = 0;
	/* a multipart/related shows its root alone */
	struct mailmime *root = rich->mm_type == MAILMIME_MULTIPLE && subtype_is(rich, "related") ?
		related_root(rich) : rich;
	int html = root && root->mm_type == MAILMIME_SINGLE && shown_kind(root) == 2;
	tg_status st = pairs_of(&all, p->s, p->len) < 0 ? TG_NOMEM : TG_OK;
	if (st == TG_OK && html) {
		st = part_text(lim, root, &hn, &h);
		/* odd markup the skim may misread: parse it all */
		int odd = st == TG_OK ? html_skim(h.s ? h.s : "", h.len, &skim) : 0;
		if (odd < 0)
			st = TG_NOMEM;
		size_t u = st == TG_OK && !odd ? unshown_end(&all, skim.s, skim.len) : 0;
		if (st == TG_OK && !odd && u == 0)
			goto out;
		int plain = 0;
		sbuf_reset(&skim);
		size_t cut = st == TG_OK && !odd ? html_skim_cut(h.s, h.len, u, &skim, &plain) : h.len;
		if (st == TG_OK && plain && (st = seen_more(p, &all, &own, skim.s, skim.len, 0, more)) == TG_OK && !*more)
			goto out;
		*more = 0;
		if (st == TG_OK && cut < h.len && html_to_text(h.s, cut, lim->max_html_size, &v, NULL) == HTML_OK &&
		    (st = seen_more(p, &all, &own, v.s, v.len, 1, more)) == TG_OK && !*more)
			goto out;
		*more = 0;
		sbuf t = SBUF_INIT;
		if (st == TG_OK)
			st = html_render(lim, &h, &hn, &t, &sub->quoted);
		if (st == TG_NO_TEXT)
			st = TG_OK;
		if (st == TG_OK)
			st = shown_add(sub, &t, &hn);
		sbuf_free(&t);
	} else if (st == TG_OK) {
		st = show(sub, rich, depth + 1);
	}
	if (st == TG_OK && sub->n) {
		if (shown_finish(sub, &r) < 0) {
			st = TG_NOMEM;
		} else {
			st = seen_more(p, &all, &own, r.s, r.len, 1, more);
			sub->last = r;   /* the text read, for the caller */
			r = (sbuf)SBUF_INIT;
		}
	}
out:
	free(all.slot);
	free(own.slot);
	free(hn.bad_charset);
	sbuf_free(&h);
	sbuf_free(&skim);
	sbuf_free(&r);
	sbuf_free(&v);
	return st;
}

/* multipart/alternative: the plain form, or the rich one when it shows more
 * (see above); an empty plain form gives way to the rich one. */
static tg_status show_alternative(struct shown *sh, struct mailmime *mm, unsigned depth)
{
	struct mailmime *plain = NULL, *rich = NULL;
	for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
		struct mailmime *c = clist_content(it);
		int k = c->mm_type == MAILMIME_SINGLE ? shown_kind(c) : c->mm_type == MAILMIME_MULTIPLE ? 3 : 0;
		if (k == 1 && plain == NULL)
			plain = c;
		else if (k)
			rich = c;  /* the last is the richest (RFC 2046) */
	}
	if (plain == NULL || rich == NULL)
		return plain || rich ? show(sh, plain ? plain : rich, depth + 1) : TG_OK;
	sbuf p = SBUF_INIT;
	struct notes pn = {0};
	tg_status st = part_text(sh->lim, plain, &pn, &p);
	if (st == TG_OK && sblank(&p)) {
		st = show(sh, rich, depth + 1);
	} else if (st == TG_OK && sh->prefer_plain) {
		st = shown_add(sh, &p, &pn);
	} else if (st == TG_OK) {
		struct shown sub = {.lim = sh->lim};
		int more;
		st = rich_shows_more(sh->lim, &p, rich, depth, &sub, &more);
		if (st == TG_OK && more) {
			sh->chose_rich = 1;
			st = shown_add(sh, &sub.last, &sub.nt);
			if (st == TG_OK && sub.quoted.len && sbuf_append(&sh->quoted, sub.quoted.s, sub.quoted.len) < 0)
				st = TG_NOMEM;
		} else if (st == TG_OK) {
			st = shown_add(sh, &p, &pn);
		}
		shown_free(&sub);
	}
	sbuf_free(&p);
	free(pn.bad_charset);
	return st;
}

/* Depth-first, in order (depth bounded by the pre-scan, parts by walk()):
 * every text part a reader is shown. Attachments, named files, forwarded
 * messages (message/rfc822) and a multipart/related's resources are not
 * the agent's words. */
static tg_status show(struct shown *sh, struct mailmime *mm, unsigned depth)
{
	if (depth > 64)
		return TG_OK;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		return show_single(sh, mm);
	case MAILMIME_MULTIPLE:
		if (subtype_is(mm, "alternative"))
			return show_alternative(sh, mm, depth);
		if (subtype_is(mm, "related")) {
			struct mailmime *root = related_root(mm);
			return root ? show(sh, root, depth + 1) : TG_OK;
		}
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
			tg_status st = show(sh, clist_content(it), depth + 1);
			if (st != TG_OK)
				return st;
		}
		return TG_OK;
	case MAILMIME_MESSAGE:
		return depth == 0 && mm->mm_data.mm_message.mm_msg_mime ?
			show(sh, mm->mm_data.mm_message.mm_msg_mime, depth + 1) : TG_OK;
	}
	return TG_OK;
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

/* When no part is shown as the body (every text part named, say): the
 * first text/plain part that is not an attachment, else the first
 * text/html, so a message judged before is still judged. */
static tg_status body_first(const tg_limits *lim, const struct walk *w, struct notes *nt, sbuf *txt,
			    sbuf *quoted)
{
	tg_status st = TG_NO_TEXT;
	if (w->plain) {
		st = part_text(lim, w->plain, nt, txt);
		if (st == TG_OK && sblank(txt)) {
			sbuf_reset(txt);
			st = TG_NO_TEXT;
		}
	}
	if (st == TG_NO_TEXT && w->html) {
		st = html_part_text(lim, w->html, nt, txt, quoted);
		if (st == TG_OK && sblank(txt))
			st = TG_NO_TEXT;
	}
	return st;
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
	struct shown sh = {.lim = lim};
	sbuf txt = SBUF_INIT;
	tg_status st = show(&sh, root, 0);
	if (st == TG_OK && sh.n == 0) {
		sbuf_reset(&sh.quoted);
		st = body_first(lim, &w, &sh.nt, &txt, &sh.quoted);
	} else if (st == TG_OK && shown_finish(&sh, &txt) < 0) {
		st = TG_NOMEM;
	}
	notes_to_message(&sh.nt, m);
	if (st == TG_OK && sh.chose_rich) {
		/* A plain-text reader is shown the plain forms: they are judged
		 * too (judge.c keeps the worse), so a curt plain form cannot hide
		 * behind a courteous HTML one. Their notes are the same parts'. */
		struct shown alt = {.lim = lim, .prefer_plain = 1};
		sbuf at = SBUF_INIT;
		tg_status ast = show(&alt, root, 0);
		if (ast == TG_OK && alt.n && shown_finish(&alt, &at) == 0 && !sblank(&at))
			m->alt_text = sbuf_detach(&at, &m->alt_text_len);
		else if (ast == TG_NOMEM)
			st = TG_NOMEM;
		sbuf_free(&at);
		shown_free(&alt);
	}
	if (st == TG_OK) {
		m->text = sbuf_detach(&txt, &m->text_len);
		if (sh.quoted.len)
			m->quoted_html = sbuf_detach(&sh.quoted, &m->quoted_html_len);
	}
	sbuf_free(&txt);
	shown_free(&sh);
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

/* Is the field at p (to its end e) one mailmime_parse reads for the MIME
 * structure: Content-* or MIME-Version? */
static int top_mime_field(const char *p, const char *e)
{
	size_t n = (size_t)(e - p);
	return (n > 8 && strncasecmp(p, "content-", 8) == 0) ||
	       (n > 12 && strncasecmp(p, "mime-version", 12) == 0 && (p[12] == ':' || p[12] == ' ' || p[12] == '\t'));
}

/* The message as mailmime_parse needs it: the top-level MIME fields only,
 * then the rest (from the end of the header on) as it is. libetpan parses
 * every top-level field into structures we never read (address lists, the
 * message-ids of References): 6 % of all judging (BENCHMARKS.md), while the
 * MIME tree built from this copy is the same. hend: where the fields end.
 * Padded with three zeros like raw (the quoted-printable read-ahead). */
static char *mime_only(const char *raw, size_t len, size_t hend, size_t *n)
{
	char *out = malloc(len + 3);
	if (out == NULL)
		return NULL;
	size_t k = 0, i = 0;
	while (i < hend) {
		size_t e = i;
		do {  /* the field and its continuation lines */
			const char *nl = memchr(raw + e, '\n', hend - e);
			e = nl ? (size_t)(nl - raw) + 1 : hend;
		} while (e < hend && (raw[e] == ' ' || raw[e] == '\t'));
		if (top_mime_field(raw + i, raw + e)) {
			memcpy(out + k, raw + i, e - i);
			k += e - i;
		}
		i = e;
	}
	memcpy(out + k, raw + hend, len - hend);
	k += len - hend;
	memset(out + k, 0, 3);
	*n = k;
	return out;
}

static tg_status parse(const tg_limits *lim, const char *raw, size_t len, tg_message *m)
{
	size_t hend = 0;
	if (headers_read(raw, len, m, &hend) < 0)
		return TG_NOMEM;
	if (m->nhdr == 0)
		return TG_PARSE_ERROR;

	unsigned depth, parts;
	message_prescan(raw, len, lim->max_depth, &depth, &parts);
	if (depth > lim->max_depth)
		return TG_TOO_DEEP;
	if (parts > lim->max_parts)
		return TG_TOO_MANY_PARTS;

	size_t idx = 0, n;
	struct mailmime *mime = NULL;
	char *mo = mime_only(raw, len, hend, &n);
	if (mo == NULL)
		return TG_NOMEM;
	tg_status st = TG_NO_TEXT;
	if (mailmime_parse(mo, n, &idx, &mime) == MAILIMF_NO_ERROR && mime != NULL) {
		st = body_read(lim, mime, mo, n, m);
		mailmime_free(mime);
	}
	free(mo);
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
	free(m->alt_text);
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
