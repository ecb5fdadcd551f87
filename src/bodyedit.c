/* bodyedit — add the rewrite action's words around the agent's own inside a
 * raw message; see bodyedit.h for the contract.
 *
 * How: libetpan finds the part(s) and transfer-decodes them; quote_split()
 * on the UTF-8 text says where the agent's words start and end; the words
 * are converted to the part's charset and placed as edits on the raw bytes
 * (insert here, or replace this range), spliced into a copy of the body.
 * Nothing outside an edit is rebuilt.
 *
 * Where: the head goes above the agent's first line; the tail right under
 * their last line, above the blank lines before a sign-off (so the spacing
 * above "Best regards," stays). In HTML the head goes after <body ...> (or
 * at the start) and the tail before the sign-off the plain text ended with,
 * else before the first quote or signature container (html_marks), else
 * </body>; the HTML is then read back as text to check that the agent's
 * words are all above that point and nothing but a sign-off is below it.
 *
 * Per encoding: 7bit/8bit/binary and quoted-printable parts are edited in
 * place, QP words encoded (libetpan's writer) and put behind a soft line
 * break when the spot is mid-line, so every other encoded byte stays, HTML
 * included; base64 parts are decoded, edited and re-encoded whole.
 *
 * Refused, to stay exact: libetpan's guesses on broken multiparts (the
 * boundary must delimit the part), QP or base64 that is not strict, charsets
 * that do not keep ASCII (UTF-16), words after a format=flowed soft line,
 * and HTML whose sign-off is written differently from the plain text's. */
#include "config.h"
#include "bodyedit.h"
#include "html.h"
#include "message.h"
#include "quote.h"
#include "text.h"

#include <errno.h>
#include <iconv.h>
#include <libetpan/libetpan.h>
#include <libetpan/mailmime_write_generic.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *bodyedit_status_str(tg_edit_status st)
{
	switch (st) {
	case TG_EDIT_OK: return "edited";
	case TG_EDIT_UNSUPPORTED: return "MIME structure or encoding not editable";
	case TG_EDIT_CHARSET: return "words not writable in the part's charset or encoding";
	case TG_EDIT_INTERLEAVED: return "reply interleaved with quoted lines";
	case TG_EDIT_NOPLACE: return "no safe place for the words";
	case TG_EDIT_LIMIT: return "message past a size, depth or part limit";
	case TG_EDIT_NOMEM: return "out of memory";
	}
	return "unknown status";
}

/* ---- small helpers ---------------------------------------------------- */

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t count_nl(const char *s, size_t n)
{
	size_t k = 0;
	for (const char *p = s, *end = s + n; p < end && (p = memchr(p, '\n', (size_t)(end - p))); p++)
		k++;
	return k;
}

/* Offset just past the k-th '\n' of s (0 for k == 0). */
static size_t line_start(const char *s, size_t n, size_t k)
{
	size_t i = 0;
	while (k-- > 0) {
		const char *nl = memchr(s + i, '\n', n - i);
		if (nl == NULL)
			return n;
		i = (size_t)(nl - s) + 1;
	}
	return i;
}

/* The line of s[0..n) that starts at i, without its line end and the
 * blanks around it. */
static const char *line_trim(const char *s, size_t n, size_t i, size_t *len)
{
	const char *l = s + i, *nl = memchr(l, '\n', n - i);
	size_t ll = nl ? (size_t)(nl - l) : n - i;
	while (ll && is_ws(*l))
		l++, ll--;
	while (ll && is_ws(l[ll - 1]))
		ll--;
	*len = ll;
	return l;
}

/* PCRE2's JIT (in quote_split) scans ahead of a subject's end with wide
 * loads that stay inside the allocation; zero the spare capacity so those
 * bytes are defined (valgrind) and the same on every run. */
static void quiet_slack(sbuf *sb)
{
	if (sb->s && sb->cap > sb->len)
		memset(sb->s + sb->len, 0, sb->cap - sb->len);
}

/* Copy s[0..n), '\n' becoming CRLF unless lf. */
static int put_eol(sbuf *out, const char *s, size_t n, int lf)
{
	if (lf)
		return sbuf_append(out, s, n);
	for (const char *p = s, *end = s + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (sbuf_append(out, p, (size_t)(le - p)) < 0 || (nl && sbuf_append(out, "\r\n", 2) < 0))
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* ---- charsets ---------------------------------------------------------- */

static int cs_is_utf8_or_ascii(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Append UTF-8 s[0..n) converted to charset cs. With ncr, a character cs
 * cannot hold becomes "&#N;" (HTML); without, the conversion fails with
 * TG_EDIT_CHARSET, as it does for a charset iconv does not know. */
static tg_edit_status conv_from_utf8(const char *cs, const char *s, size_t n, int ncr, sbuf *out)
{
	iconv_t cd = iconv_open(cs, "UTF-8");
	if (cd == (iconv_t)-1)
		return errno == ENOMEM ? TG_EDIT_NOMEM : TG_EDIT_CHARSET;
	char *in = (char *)s, buf[512];
	size_t inleft = n;
	tg_edit_status st = TG_EDIT_OK;
	while (st == TG_EDIT_OK) {
		char *o = buf;
		size_t ol = sizeof buf;
		int fin = inleft == 0;  /* then flush the shift state */
		size_t r = fin ? iconv(cd, NULL, NULL, &o, &ol) : iconv(cd, &in, &inleft, &o, &ol);
		int err = errno;
		if (sbuf_append(out, buf, (size_t)(o - buf)) < 0) {
			st = TG_EDIT_LIMIT;
		} else if (r != (size_t)-1) {
			if (fin)
				break;
		} else if (err == E2BIG) {
			continue;
		} else if (err == EILSEQ && ncr) {
			size_t adv;
			uint32_t c = text_u8decode((const unsigned char *)in, inleft, &adv);
			o = buf;
			ol = sizeof buf;
			iconv(cd, NULL, NULL, &o, &ol);  /* back to ASCII before "&#" */
			if (sbuf_append(out, buf, (size_t)(o - buf)) < 0 ||
			    sbuf_printf(out, "&#%lu;", (unsigned long)c) < 0)
				st = TG_EDIT_LIMIT;
			in += adv;
			inleft -= adv;
		} else {
			st = TG_EDIT_CHARSET;
		}
	}
	iconv_close(cd);
	return st;
}

/* ---- the parts --------------------------------------------------------- */

typedef struct part {
	const char *p;     /* the encoded bytes, inside raw */
	size_t n;
	int cte;           /* MAILMIME_MECHANISM_* as declared (none = 7bit) */
	const char *cs;    /* charset, borrowed from the mailmime */
	int flowed;        /* text/plain; format=flowed */
	char *dec;         /* transfer-decoded bytes (== p for 7bit/8bit/binary) */
	size_t dlen;
	int lf;            /* encoded lines end in LF, not CRLF */
	int dlf;           /* decoded lines end in LF (differs only in base64) */
} part;

/* Words to put at decoded offset at: in the part's charset, '\n' ends. */
typedef struct ins {
	size_t at;
	sbuf s;
} ins;

/* raw[at, at + cut) becomes text. */
typedef struct edit {
	size_t at, cut;
	sbuf text;
} edit;

typedef struct plan {
	edit e[4];
	int n;
	size_t cap;        /* bound for every buffer built here */
} plan;

static int is_attachment(struct mailmime *mm)
{
	struct mailmime_fields *mf = mm->mm_mime_fields;
	for (clistiter *it = mf ? clist_begin(mf->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition &&
		    f->fld_data.fld_disposition->dsp_type &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

/* 1 = text/plain (or no Content-Type), 2 = text/html, 0 = anything else. */
static int text_kind(struct mailmime *mm)
{
	if (mm->mm_type != MAILMIME_SINGLE || is_attachment(mm))
		return 0;
	struct mailmime_content *ct = mm->mm_content_type;
	if (ct == NULL)
		return 1;
	struct mailmime_type *t = ct->ct_type;
	if (t == NULL || t->tp_type != MAILMIME_TYPE_DISCRETE_TYPE || t->tp_data.tp_discrete_type == NULL ||
	    t->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT || ct->ct_subtype == NULL)
		return 0;
	return strcasecmp(ct->ct_subtype, "plain") == 0 ? 1 : strcasecmp(ct->ct_subtype, "html") == 0 ? 2 : 0;
}

static int is_multipart(struct mailmime *mm, const char *sub)
{
	return mm->mm_type == MAILMIME_MULTIPLE && mm->mm_content_type &&
	       mm->mm_content_type->ct_subtype && strcasecmp(mm->mm_content_type->ct_subtype, sub) == 0;
}

/* Is child c of multipart m really delimited by m's boundary in raw? On a
 * broken multipart libetpan guesses (a missing boundary can turn the last
 * "--" line of the preamble into a part): only the boundary is trusted. */
static int delimited(const char *raw, size_t len, struct mailmime *m, struct mailmime *c)
{
	const char *b = m->mm_content_type ? mailmime_content_param_get(m->mm_content_type, "boundary") : NULL;
	if (b == NULL || *b == '\0' || c->mm_mime_start == NULL || c->mm_mime_start <= raw ||
	    c->mm_mime_start > raw + len || c->mm_length > (size_t)(raw + len - c->mm_mime_start))
		return 0;
	size_t bl = strlen(b), s = (size_t)(c->mm_mime_start - raw), e = s + c->mm_length;
	/* the line above the part: "--" boundary, transport padding */
	if (raw[s - 1] != '\n')
		return 0;
	size_t ls = s - 1, le = s - 1;
	while (ls > 0 && raw[ls - 1] != '\n')
		ls--;
	while (le > ls && is_ws(raw[le - 1]))
		le--;
	if (le - ls != 2 + bl || memcmp(raw + ls, "--", 2) != 0 || memcmp(raw + ls + 2, b, bl) != 0)
		return 0;
	/* below it: a line end and the next delimiter, or the end of input */
	const char *t = raw + e;
	size_t rest = len - e, eol = rest >= 2 && t[0] == '\r' && t[1] == '\n' ? 2 : rest >= 1 && t[0] == '\n';
	if (rest == eol)
		return 1;
	return eol && rest - eol >= 2 + bl && memcmp(t + eol, "--", 2) == 0 && memcmp(t + eol + 2, b, bl) == 0;
}

/* The text/plain and text/html parts to edit, from the supported shapes. */
static tg_edit_status find_parts(const char *raw, size_t len, struct mailmime *body,
				 struct mailmime **plain, struct mailmime **html)
{
	*plain = *html = NULL;
	struct mailmime *m = body;
	if (is_multipart(m, "mixed") || is_multipart(m, "related")) {
		clistiter *it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		if (it == NULL || !delimited(raw, len, m, clist_content(it)))
			return TG_EDIT_UNSUPPORTED;
		m = clist_content(it);
	}
	if (is_multipart(m, "alternative")) {
		clist *l = m->mm_data.mm_multipart.mm_mp_list;
		if (clist_count(l) != 2)
			return TG_EDIT_UNSUPPORTED;
		for (clistiter *it = clist_begin(l); it; it = clist_next(it)) {
			struct mailmime *c = clist_content(it);
			int k = delimited(raw, len, m, c) ? text_kind(c) : 0;
			if (k == 1 && *plain == NULL)
				*plain = c;
			else if (k == 2 && *html == NULL)
				*html = c;
			else
				return TG_EDIT_UNSUPPORTED;
		}
		return TG_EDIT_OK;
	}
	switch (text_kind(m)) {
	case 1: *plain = m; return TG_EDIT_OK;
	case 2: *html = m; return TG_EDIT_OK;
	}
	return TG_EDIT_UNSUPPORTED;
}

static int part_cte(struct mailmime *mm)
{
	struct mailmime_fields *mf = mm->mm_mime_fields;
	for (clistiter *it = mf ? clist_begin(mf->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING && f->fld_data.fld_encoding)
			return f->fld_data.fld_encoding->enc_type;
	}
	return MAILMIME_MECHANISM_7BIT;  /* RFC 2045 default */
}

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Walk quoted-printable q[0..n) the way libetpan decodes it (a hard break
 * decodes to CRLF) and find, for each decoded offset x[i] (ascending), the
 * encoded offset e[i] of the first byte decoded there, past soft breaks.
 * Returns the decoded length, or SIZE_MAX when q is not strict QP (a stray
 * '=', '=' + blanks + break, a lone CR: libetpan's readings of those are not
 * worth following) or an x falls inside a hard break. */
static size_t qp_walk(const char *q, size_t n, const size_t *x, size_t *e, int k)
{
	size_t i = 0, d = 0;
	int j = 0;
	while (i < n) {
		size_t adv = 1, out = 1;
		if (q[i] == '=') {
			if (i + 1 < n && q[i + 1] == '\n')
				adv = 2, out = 0;
			else if (i + 2 < n && q[i + 1] == '\r' && q[i + 2] == '\n')
				adv = 3, out = 0;
			else if (i + 2 < n && hexdigit(q[i + 1]) && hexdigit(q[i + 2]))
				adv = 3;
			else
				return SIZE_MAX;
		} else if (q[i] == '\r') {
			if (i + 1 >= n || q[i + 1] != '\n')
				return SIZE_MAX;
			adv = 2, out = 2;
		} else if (q[i] == '\n') {
			out = 2;
		}
		for (; out && j < k && x[j] == d; j++)
			e[j] = i;
		i += adv;
		d += out;
	}
	for (; j < k && x[j] == d; j++)
		e[j] = n;
	return j == k ? d : SIZE_MAX;
}

/* Strict base64: the alphabet, line breaks and blanks, '=' only at the end. */
static int b64_valid(const char *p, size_t n)
{
	size_t chars = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (is_ws((char)c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
		chars++;
	}
	return pad <= 2 && chars % 4 != 1 && (pad == 0 || (chars + pad) % 4 == 0);
}

static int first_lf(const char *s, size_t n, int dflt)
{
	const char *nl = memchr(s, '\n', n);
	return nl ? !(nl > s && nl[-1] == '\r') : dflt;
}

static void part_close(part *pt)
{
	if (pt->dec && pt->dec != pt->p)
		mailmime_decoded_part_free(pt->dec);
	pt->dec = NULL;
}

/* Locate, check and transfer-decode one text part. */
static tg_edit_status part_open(const tg_limits *lim, const char *raw, size_t len, int msg_lf,
				struct mailmime *mm, part *pt)
{
	memset(pt, 0, sizeof *pt);
	struct mailmime_data *d = mm->mm_data.mm_single;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return TG_EDIT_UNSUPPORTED;
	pt->p = d->dt_data.dt_text.dt_data;
	pt->n = d->dt_data.dt_text.dt_length;
	if (pt->p < raw || pt->p > raw + len || pt->n > (size_t)(raw + len - pt->p) ||
	    (mm->mm_mime_start && (pt->p < mm->mm_mime_start ||
				   pt->p + pt->n > mm->mm_mime_start + mm->mm_length)))
		return TG_EDIT_UNSUPPORTED;
	pt->cte = part_cte(mm);
	const char *cs = mm->mm_content_type ? mailmime_content_charset_get(mm->mm_content_type) : NULL;
	pt->cs = cs ? cs : "us-ascii";
	const char *fmt = mm->mm_content_type ? mailmime_content_param_get(mm->mm_content_type, "format") : NULL;
	pt->flowed = fmt && strcasecmp(fmt, "flowed") == 0;
	pt->lf = first_lf(pt->p, pt->n, msg_lf);

	size_t idx = 0;
	switch (pt->cte) {
	case MAILMIME_MECHANISM_7BIT:
	case MAILMIME_MECHANISM_8BIT:
	case MAILMIME_MECHANISM_BINARY:
		pt->dec = (char *)pt->p;
		pt->dlen = pt->n;
		break;
	case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
	case MAILMIME_MECHANISM_BASE64:
		if (pt->cte == MAILMIME_MECHANISM_BASE64 && !b64_valid(pt->p, pt->n))
			return TG_EDIT_UNSUPPORTED;
		if (mailmime_part_parse(pt->p, pt->n, &idx, pt->cte, &pt->dec, &pt->dlen) != MAILIMF_NO_ERROR) {
			pt->dec = NULL;
			return TG_EDIT_NOMEM;
		}
		/* the edits are mapped back onto the encoded bytes by qp_walk */
		if (pt->cte == MAILMIME_MECHANISM_QUOTED_PRINTABLE &&
		    qp_walk(pt->p, pt->n, NULL, NULL, 0) != pt->dlen)
			return TG_EDIT_UNSUPPORTED;
		break;
	default:
		return TG_EDIT_UNSUPPORTED;
	}
	if (pt->dlen > lim->max_decoded_size)
		return TG_EDIT_LIMIT;
	pt->dlf = pt->cte == MAILMIME_MECHANISM_BASE64 ? first_lf(pt->dec, pt->dlen, pt->lf) : pt->lf;

	/* Lines are mapped by counting '\n': the charset must keep ASCII as is
	 * (not UTF-16, not EBCDIC). */
	sbuf probe = SBUF_INIT;
	tg_edit_status st = conv_from_utf8(pt->cs, "<a\n", 3, 0, &probe);
	if (st == TG_EDIT_OK && (probe.len != 3 || memcmp(probe.s, "<a\n", 3) != 0))
		st = TG_EDIT_UNSUPPORTED;
	sbuf_free(&probe);
	return st;
}

/* Append s[0..n) of the part (its charset) as UTF-8 with '\n' line ends and
 * exactly as many lines: a lone CR becomes a space, not a line break. */
static tg_edit_status part_utf8(const part *pt, const char *s, size_t n, sbuf *u)
{
	char *conv = NULL;
	size_t clen = 0;
	if (!cs_is_utf8_or_ascii(pt->cs)) {
		int rc = charconv_buffer("utf-8", pt->cs, s, n, &conv, &clen);
		if (rc != MAIL_CHARCONV_NO_ERROR || conv == NULL)
			return rc == MAIL_CHARCONV_ERROR_MEMORY ? TG_EDIT_NOMEM : TG_EDIT_CHARSET;
		s = conv;
		n = clen;
	}
	sbuf tmp = SBUF_INIT;
	tg_edit_status st = TG_EDIT_OK;
	if (sbuf_reserve(&tmp, n) < 0) {
		st = TG_EDIT_NOMEM;
	} else {
		for (size_t i = 0; i < n; i++)
			tmp.s[i] = s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n') ? ' ' : s[i];
		tmp.len = n;
		if (text_sanitize(u, tmp.s, tmp.len) < 0)
			st = TG_EDIT_NOMEM;
	}
	sbuf_free(&tmp);
	if (conv)
		charconv_buffer_free(conv);
	return st;
}

/* The caller's words as lines: valid UTF-8, CRs dropped, trailing blanks
 * cut (in QP and format=flowed they would change meaning), a '\n' after the
 * last line, and for format=flowed a space stuffed where RFC 3676 wants it. */
static tg_edit_status words_lines(const char *w, int flowed, sbuf *out)
{
	size_t n = w ? strlen(w) : 0;
	for (size_t i = 0; i < n;) {
		size_t l = text_u8len((const unsigned char *)w + i, n - i);
		if (l == 0)
			return TG_EDIT_CHARSET;
		i += l;
	}
	for (const char *p = w, *end = w + n; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		while (ll && (p[ll - 1] == ' ' || p[ll - 1] == '\t' || p[ll - 1] == '\r'))
			ll--;
		if (flowed && ll && (p[0] == ' ' || p[0] == '>' || (ll >= 5 && memcmp(p, "From ", 5) == 0)) &&
		    sbuf_putc(out, ' ') < 0)
			return TG_EDIT_LIMIT;
		for (size_t i = 0; i < ll; i++)
			if (p[i] != '\r' && sbuf_putc(out, p[i]) < 0)
				return TG_EDIT_LIMIT;
		if (sbuf_putc(out, '\n') < 0)
			return TG_EDIT_LIMIT;
		p = nl ? nl + 1 : end;
	}
	return TG_EDIT_OK;
}

/* ---- writing edits onto the encoded part -------------------------------- */

struct sink { sbuf *sb; int lf, err; };

/* libetpan writer callback: returns the bytes taken, 0 on failure. */
static int sink_write(void *data, const char *p, size_t n)
{
	struct sink *k = data;
	for (const char *s = p, *end = p + n; s < end && !k->err;) {
		const char *cr = k->lf ? memchr(s, '\r', (size_t)(end - s)) : NULL;
		const char *stop = cr ? cr : end;
		if (sbuf_append(k->sb, s, (size_t)(stop - s)) < 0)
			k->err = 1;
		s = cr ? cr + 1 : end;
	}
	return k->err ? 0 : n > INT_MAX ? INT_MAX : (int)n;
}

/* Turn the part's insertions (decoded offsets, ascending) into raw edits:
 * 7bit/8bit/binary in place; QP in place, encoded, at the encoded offset of
 * the same decoded byte (behind a soft break when that is mid-line); base64
 * by re-encoding the whole part with the words in it. */
static tg_edit_status part_apply(const part *pt, const char *raw, ins *in, int k, plan *pl)
{
	size_t x[2], e[2];
	for (int i = 0; i < k; i++)
		x[i] = in[i].at;
	int c = pt->cte;
	if (c == MAILMIME_MECHANISM_BASE64) {
		sbuf d = SBUF_INIT, *enc = &pl->e[pl->n].text;
		d.max = enc->max = pl->cap;
		size_t pos = 0;
		int bad = 0;
		for (int i = 0; i < k && !bad; i++) {
			bad = sbuf_append(&d, pt->dec + pos, in[i].at - pos) < 0 ||
			      put_eol(&d, in[i].s.s, in[i].s.len, pt->dlf) < 0;
			pos = in[i].at;
		}
		bad = bad || sbuf_append(&d, pt->dec + pos, pt->dlen - pos) < 0;
		struct sink sk = {enc, pt->lf, 0};
		int col = 0;
		if (!bad && (mailmime_base64_write_driver(sink_write, &sk, &col, d.s, d.len) != MAILIMF_NO_ERROR || sk.err))
			bad = 1;
		sbuf_free(&d);
		if (bad)
			return TG_EDIT_LIMIT;
		/* libetpan ends with a line break; keep the part's own ending */
		if (pt->n == 0 || pt->p[pt->n - 1] != '\n')
			enc->s[enc->len -= pt->lf ? 1 : 2] = '\0';
		pl->e[pl->n].at = (size_t)(pt->p - raw);
		pl->e[pl->n++].cut = pt->n;
		return TG_EDIT_OK;
	}
	if (c == MAILMIME_MECHANISM_QUOTED_PRINTABLE && qp_walk(pt->p, pt->n, x, e, k) != pt->dlen)
		return TG_EDIT_UNSUPPORTED;
	const char *eol = pt->lf ? "\n" : "\r\n";
	for (int i = 0; i < k; i++) {
		edit *ed = &pl->e[pl->n++];
		ed->text.max = pl->cap;
		const sbuf *w = &in[i].s;
		if (c != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
			ed->at = (size_t)(pt->p - raw) + x[i];
			size_t ll = 0;
			for (size_t j = 0; j < w->len; j++) {
				unsigned char b = (unsigned char)w->s[j];
				if ((c == MAILMIME_MECHANISM_7BIT && (b >= 0x80 || b == 0)) ||
				    (c != MAILMIME_MECHANISM_BINARY && (ll = b == '\n' ? 0 : ll + 1) > 998))
					return TG_EDIT_CHARSET;
			}
			if (put_eol(&ed->text, w->s, w->len, pt->lf) < 0)
				return TG_EDIT_LIMIT;
			continue;
		}
		ed->at = (size_t)(pt->p - raw) + e[i];
		struct sink sk = {&ed->text, pt->lf, 0};
		int col = 0;
		if (e[i] > 0 && pt->p[e[i] - 1] != '\n' && sbuf_printf(&ed->text, "=%s", eol) < 0)
			return TG_EDIT_LIMIT;
		/* libetpan's writer doubles a blank before a line break; words_lines
		 * and the HTML builder never leave one there. */
		if (mailmime_quoted_printable_write_driver(sink_write, &sk, &col, 1, w->s, w->len) != MAILIMF_NO_ERROR ||
		    sk.err)
			return TG_EDIT_LIMIT;
		if (w->len && w->s[w->len - 1] != '\n' && e[i] < pt->n && sbuf_printf(&ed->text, "=%s", eol) < 0)
			return TG_EDIT_LIMIT;
	}
	return TG_EDIT_OK;
}

/* ---- text/plain --------------------------------------------------------- */

/* Append the sign-off line that closes the agent's words ("Best regards,"),
 * trimmed; nothing when there is none, or when it sits under a "-- " (the
 * split then ends the words above the delimiter, not at the sign-off). */
static int split_signoff(const char *t, size_t n, const tg_split *s, sbuf *out)
{
	size_t sl;
	const char *so = s->signoff && s->tail_at < n ? line_trim(t, n, s->tail_at, &sl) : NULL;
	return so && sl && quote_is_signoff(so, sl) ? sbuf_append(out, so, sl) : 0;
}

/* In format=flowed, a line ending in a space runs on into the next: words
 * put after such a line would join its paragraph. */
static int flowed_soft_before(const char *u, size_t at)
{
	if (at == 0 || u[at - 1] != '\n')
		return 0;
	size_t s = at - 1;
	while (s > 0 && u[s - 1] != '\n')
		s--;
	size_t n = at - 1 - s;
	return n > 0 && u[at - 2] == ' ' && u[s] != '>' && !(n == 3 && memcmp(u + s, "-- ", 3) == 0);
}

/* The words in the part's charset, for plain text. */
static tg_edit_status plain_words(const part *pt, const char *w, size_t cap, sbuf *out)
{
	sbuf l = SBUF_INIT;
	l.max = out->max = cap;
	tg_edit_status st = words_lines(w, pt->flowed, &l);
	if (st == TG_EDIT_OK && l.len)
		st = conv_from_utf8(pt->cs, l.s, l.len, 0, out);
	if (st == TG_EDIT_OK && count_nl(out->s, out->len) != count_nl(l.s, l.len))
		st = TG_EDIT_CHARSET;
	sbuf_free(&l);
	return st;
}

static tg_edit_status plain_edit(const part *pt, const tg_edit *e, const char *raw, plan *pl, sbuf *signoff)
{
	sbuf u = SBUF_INIT;
	ins in[2] = {{0, SBUF_INIT}, {0, SBUF_INIT}};
	tg_split s;
	memset(&s, 0, sizeof s);
	int k = 0;
	tg_edit_status st = part_utf8(pt, pt->dec, pt->dlen, &u);
	if (st != TG_EDIT_OK)
		goto out;
	const char *t = u.s ? u.s : "";
	if (count_nl(t, u.len) != count_nl(pt->dec, pt->dlen)) {
		st = TG_EDIT_UNSUPPORTED;
		goto out;
	}
	quiet_slack(&u);
	if (quote_split(t, u.len, &s) < 0) {
		st = TG_EDIT_NOMEM;
		goto out;
	}
	if (s.interleaved) {
		st = TG_EDIT_INTERLEAVED;
		goto out;
	}
	if (is_blank(s.agent.s ? s.agent.s : "", s.agent.len)) {
		st = TG_EDIT_NOPLACE;
		goto out;
	}
	/* The HTML twin looks for the same sign-off line. */
	if (split_signoff(t, u.len, &s, signoff) < 0) {
		st = TG_EDIT_NOMEM;
		goto out;
	}
	/* Right under the agent's last line: blank lines before a sign-off
	 * stay between the new words and the sign-off. */
	size_t tail = s.tail_at;
	while (tail > s.first_at && t[tail - 1] == '\n') {
		size_t ls = tail - 1;
		while (ls > 0 && t[ls - 1] != '\n')
			ls--;
		if (ls < s.first_at || !is_blank(t + ls, tail - 1 - ls))
			break;
		tail = ls;
	}
	if (pt->flowed && (flowed_soft_before(t, s.first_at) || flowed_soft_before(t, tail))) {
		st = TG_EDIT_UNSUPPORTED;
		goto out;
	}
	if (e && e->head && *e->head) {
		if ((st = plain_words(pt, e->head, pl->cap, &in[k].s)) != TG_EDIT_OK)
			goto out;
		in[k++].at = line_start(pt->dec, pt->dlen, count_nl(t, s.first_at));
	}
	if (e && e->tail && *e->tail) {
		sbuf *w = &in[k].s;
		if ((st = plain_words(pt, e->tail, pl->cap, w)) != TG_EDIT_OK)
			goto out;
		if (tail == u.len && u.len && t[u.len - 1] != '\n') {
			/* the text ends without a line break: open a line, and
			 * leave the text ending as it did */
			sbuf w2 = SBUF_INIT;
			w2.max = pl->cap;
			if (sbuf_putc(&w2, '\n') < 0 || sbuf_append(&w2, w->s, w->len - 1) < 0) {
				sbuf_free(&w2);
				st = TG_EDIT_LIMIT;
				goto out;
			}
			sbuf_free(w);
			*w = w2;
			in[k++].at = pt->dlen;
		} else {
			in[k++].at = line_start(pt->dec, pt->dlen, count_nl(t, tail));
		}
	}
	st = part_apply(pt, raw, in, k, pl);
out:
	for (int i = 0; i < 2; i++)
		sbuf_free(&in[i].s);
	quote_split_free(&s);
	sbuf_free(&u);
	return st;
}

/* ---- text/html ---------------------------------------------------------- */

/* Where the agent's quoted history or signature starts in HTML, as mail
 * clients mark it. */
static const char *const html_marks[] = {
	"<div class=\"gmail_quote", "<div class=\"gmail_signature", "<blockquote",
	"<span class=\"gmail_signature_prefix\"",  /* Gmail's "-- " above the signature */
	"<div id=\"divRplyFwdMsg\"", "<div id=\"appendonsend\"", "<hr id=\"stopSpelling\"",
	"<div class=\"moz-cite-prefix\"", "<div class=\"moz-signature\"",
	"<div class=\"yahoo_quoted\"", "<div id=\"Signature\"", "<div class=\"ms-outlook-mobile-signature",
};

static int starts_ci(const char *h, size_t n, size_t i, const char *m)
{
	size_t ml = strlen(m);
	return n - i >= ml && strncasecmp(h + i, m, ml) == 0;
}

/* Next '<' at or after i that is not in a comment, or n. */
static size_t html_next_tag(const char *h, size_t n, size_t i)
{
	while (i < n) {
		const char *lt = memchr(h + i, '<', n - i);
		if (lt == NULL)
			return n;
		i = (size_t)(lt - h);
		if (!starts_ci(h, n, i, "<!--"))
			return i;
		const char *end = NULL;
		for (size_t j = i + 4; j + 3 <= n && !end; j++)
			if (memcmp(h + j, "-->", 3) == 0)
				end = h + j + 3;
		if (end == NULL)
			return n;
		i = (size_t)(end - h);
	}
	return n;
}

/* Just past the opening <body ...> tag, or 0 when there is none. */
static size_t html_body_start(const char *h, size_t n)
{
	for (size_t i = html_next_tag(h, n, 0); i < n; i = html_next_tag(h, n, i + 1)) {
		if (!starts_ci(h, n, i, "<body") || i + 5 >= n ||
		    !(is_ws(h[i + 5]) || h[i + 5] == '>' || h[i + 5] == '/'))
			continue;
		char q = 0;
		for (size_t j = i + 5; j < n; j++) {
			if (q)
				q = h[j] == q ? 0 : q;
			else if (h[j] == '"' || h[j] == '\'')
				q = h[j];
			else if (h[j] == '>')
				return j + 1;
		}
		return 0;
	}
	return 0;
}

/* The first quote or signature container at or after from, else </body>,
 * else the end. */
static size_t html_container(const char *h, size_t n, size_t from)
{
	size_t body_end = n;
	for (size_t i = html_next_tag(h, n, from); i < n; i = html_next_tag(h, n, i + 1)) {
		for (size_t m = 0; m < sizeof html_marks / sizeof html_marks[0]; m++)
			if (starts_ci(h, n, i, html_marks[m]))
				return i;
		if (body_end == n && starts_ci(h, n, i, "</body"))
			body_end = i;
	}
	return body_end;
}

/* Length of needle matched at h[i..n), a space in the needle matching any
 * run of blanks and no-break spaces; 0 if it does not match. */
static size_t html_match(const char *h, size_t n, size_t i, const char *nd, size_t m)
{
	size_t j = i;
	for (size_t a = 0; a < m;) {
		if (nd[a] != ' ') {
			if (j >= n || h[j] != nd[a])
				return 0;
			j++, a++;
			continue;
		}
		while (a < m && nd[a] == ' ')
			a++;
		size_t j0 = j;
		for (;;) {
			if (j < n && is_ws(h[j]))
				j++;
			else if (starts_ci(h, n, j, "&nbsp;") || starts_ci(h, n, j, "&#160;"))
				j += 6;
			else if (n - j >= 2 && memcmp(h + j, "\xc2\xa0", 2) == 0)
				j += 2;
			else
				break;
		}
		if (j == j0)
			return 0;
	}
	return j - i;
}

/* Start of the last whole-text occurrence of needle in h[from..to), or
 * SIZE_MAX. */
static size_t html_find_last(const char *h, size_t n, size_t from, size_t to, const char *nd, size_t m)
{
	size_t found = SIZE_MAX;
	for (size_t i = from; i < to && m; i++) {
		if (h[i] != nd[0] || (i > from && !(is_ws(h[i - 1]) || h[i - 1] == '>' || h[i - 1] == ';')))
			continue;
		size_t l = html_match(h, n, i, nd, m);
		if (l && (i + l == n || is_ws(h[i + l]) || h[i + l] == '<' || h[i + l] == '&'))
			found = i;
	}
	return found;
}

static int html_escape(sbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *r = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" :
				s[i] == '"' ? "&quot;" : NULL;
		if (r ? sbuf_puts(out, r) < 0 : sbuf_putc(out, s[i]) < 0)
			return -1;
	}
	return 0;
}

/* The words as HTML in the part's charset: escaped, every line ending in
 * "<br>" and a newline (a blank line is an empty line: two <br>), and any
 * character the charset (or a 7bit part) cannot hold as "&#N;". Before a
 * sign-off the words start at once and end in "<br><br>". */
static tg_edit_status html_words(const part *pt, const char *w, int before_signoff, size_t cap, sbuf *out)
{
	sbuf l = SBUF_INIT, h = SBUF_INIT;
	l.max = h.max = out->max = cap;
	tg_edit_status st = words_lines(w, 0, &l);
	const char *p = l.s, *end = l.s + l.len;
	if (before_signoff)
		while (p < end && *p == '\n')
			p++;
	for (; st == TG_EDIT_OK && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));  /* words_lines ends every line */
		if (html_escape(&h, p, (size_t)(nl - p)) < 0 || sbuf_puts(&h, "<br>\n") < 0)
			st = TG_EDIT_LIMIT;
		p = nl + 1;
	}
	while (st == TG_EDIT_OK && before_signoff &&
	       (h.len < 10 || memcmp(h.s + h.len - 10, "<br>\n<br>\n", 10) != 0))
		if (sbuf_puts(&h, "<br>\n") < 0)
			st = TG_EDIT_LIMIT;
	if (st == TG_EDIT_OK && h.len)
		st = conv_from_utf8(pt->cte == MAILMIME_MECHANISM_7BIT ? "US-ASCII" : pt->cs, h.s, h.len, 1, out);
	sbuf_free(&l);
	sbuf_free(&h);
	return st;
}

/* Split the text a reader sees in the part's HTML dec[from..to); the text
 * goes to keep if it is not NULL. *quoted says whether html_to_text left
 * out quoted history it knows by its markup (more kinds than html_marks). */
static tg_edit_status html_split(const tg_limits *lim, const part *pt, size_t from, size_t to,
				 tg_split *s, sbuf *keep, int *quoted)
{
	sbuf u = SBUF_INIT, txt = SBUF_INIT, q = SBUF_INIT;
	memset(s, 0, sizeof *s);
	tg_edit_status st = part_utf8(pt, pt->dec + from, to - from, &u);
	if (st == TG_EDIT_OK) {
		/* HTML_ERROR: nothing readable, which the callers treat as no words */
		enum html_status hs = html_to_text(u.s ? u.s : "", u.len, lim->max_html_size, &txt, &q);
		if (hs == HTML_TOO_BIG)
			st = TG_EDIT_LIMIT;
		else if (hs == HTML_LIMIT)
			st = TG_EDIT_UNSUPPORTED;
		else if (quiet_slack(&txt), quote_split(txt.s ? txt.s : "", txt.len, s) < 0)
			st = TG_EDIT_NOMEM;
	}
	*quoted = !is_blank(q.s ? q.s : "", q.len);
	if (keep) {
		*keep = txt;
		txt = (sbuf)SBUF_INIT;
	}
	sbuf_free(&u);
	sbuf_free(&txt);
	sbuf_free(&q);
	return st;
}

static int only_signoffs(const sbuf *agent)
{
	for (size_t i = 0; i < agent->len;) {
		size_t ll;
		const char *l = line_trim(agent->s, agent->len, i, &ll);
		if (ll && !quote_is_signoff(l, ll))
			return 0;
		const char *nl = memchr(agent->s + i, '\n', agent->len - i);
		i = nl ? (size_t)(nl - agent->s) + 1 : agent->len;
	}
	return 1;
}

/* Is tp the right place for the tail? The agent's words must all be above
 * it (no history or signature above, nothing but a sign-off below). */
static tg_edit_status html_check_tail(const tg_limits *lim, const part *pt, size_t tp)
{
	tg_split a, b;
	int quoted;
	tg_edit_status st = html_split(lim, pt, 0, tp, &a, NULL, &quoted);
	if (st == TG_EDIT_OK && a.interleaved)
		st = TG_EDIT_INTERLEAVED;
	else if (st == TG_EDIT_OK && (quoted || is_blank(a.agent.s ? a.agent.s : "", a.agent.len) ||
				      !is_blank(a.quoted.s ? a.quoted.s : "", a.quoted.len) ||
				      !is_blank(a.signature.s ? a.signature.s : "", a.signature.len)))
		st = TG_EDIT_NOPLACE;
	quote_split_free(&a);
	if (st != TG_EDIT_OK)
		return st;
	st = html_split(lim, pt, tp, pt->dlen, &b, NULL, &quoted);
	if (st == TG_EDIT_OK && !only_signoffs(&b.agent))
		st = TG_EDIT_INTERLEAVED;  /* the agent wrote below the history too */
	quote_split_free(&b);
	return st;
}

static tg_edit_status html_edit(const tg_limits *lim, const part *pt, const tg_edit *e, int have_plain,
				const char *raw, plan *pl, sbuf *signoff)
{
	const char *h = pt->dec;
	size_t n = pt->dlen;
	ins in[2] = {{0, SBUF_INIT}, {0, SBUF_INIT}};
	sbuf nd = SBUF_INIT, esc = SBUF_INIT;
	int k = 0, tail = e && e->tail && *e->tail;
	tg_edit_status st = TG_EDIT_OK;
	if (n > lim->max_html_size)
		return TG_EDIT_LIMIT;
	if (!have_plain) {
		/* HTML only: its text says whether there are words to edit around,
		 * and which sign-off to look for. */
		tg_split s;
		sbuf txt = SBUF_INIT;
		int quoted;
		st = html_split(lim, pt, 0, n, &s, &txt, &quoted);
		if (st == TG_EDIT_OK && s.interleaved)
			st = TG_EDIT_INTERLEAVED;
		else if (st == TG_EDIT_OK && is_blank(s.agent.s ? s.agent.s : "", s.agent.len))
			st = TG_EDIT_NOPLACE;
		else if (st == TG_EDIT_OK && split_signoff(txt.s, txt.len, &s, signoff) < 0)
			st = TG_EDIT_NOMEM;
		quote_split_free(&s);
		sbuf_free(&txt);
		if (st != TG_EDIT_OK)
			return st;
	}
	size_t hp = html_body_start(h, n), tp = html_container(h, n, hp);
	if (tail && signoff->len) {
		st = html_escape(&esc, signoff->s, signoff->len) < 0 ? TG_EDIT_NOMEM :
		     conv_from_utf8(pt->cs, esc.s, esc.len, 0, &nd);
		size_t at = st == TG_EDIT_OK ? html_find_last(h, n, hp, tp, nd.s, nd.len) : SIZE_MAX;
		if (st == TG_EDIT_CHARSET || at == SIZE_MAX)
			st = TG_EDIT_NOPLACE;  /* not written the same way: no safe place */
		else
			tp = at;
	}
	if (st == TG_EDIT_OK && tail)
		st = html_check_tail(lim, pt, tp);
	if (st == TG_EDIT_OK && e && e->head && *e->head) {
		st = html_words(pt, e->head, 0, pl->cap, &in[k].s);
		in[k++].at = hp;
	}
	if (st == TG_EDIT_OK && tail) {
		st = html_words(pt, e->tail, signoff->len > 0, pl->cap, &in[k].s);
		in[k++].at = tp;
	}
	if (st == TG_EDIT_OK)
		st = part_apply(pt, raw, in, k, pl);
	for (int i = 0; i < 2; i++)
		sbuf_free(&in[i].s);
	sbuf_free(&nd);
	sbuf_free(&esc);
	return st;
}

/* ---- the message --------------------------------------------------------- */

/* Offset just past the blank line that ends the headers (len when there is
 * none); *lf says whether that line ended in a bare LF. */
static size_t header_end(const char *raw, size_t len, int *lf)
{
	*lf = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(raw + i, '\n', len - i);
		if (nl == NULL)
			break;
		size_t ll = (size_t)(nl - raw) - i;
		if (ll == 0 || (ll == 1 && raw[i] == '\r')) {
			*lf = ll == 0;
			return (size_t)(nl - raw) + 1;
		}
		i = (size_t)(nl - raw) + 1;
	}
	*lf = first_lf(raw, len, 0);
	return len;
}

static void edits_sort(plan *pl)
{
	for (int i = 1; i < pl->n; i++)
		for (int j = i; j > 0 && pl->e[j - 1].at > pl->e[j].at; j--) {
			edit t = pl->e[j];
			pl->e[j] = pl->e[j - 1];
			pl->e[j - 1] = t;
		}
}

tg_edit_status bodyedit_apply(const tg_limits *lim, const char *raw, size_t len,
			      const tg_edit *e, sbuf *out)
{
	sbuf_reset(out);
	if (len > lim->max_message_size)
		return TG_EDIT_LIMIT;
	unsigned depth, parts;
	message_prescan(raw, len, lim->max_depth, &depth, &parts);
	if (depth > lim->max_depth || parts > lim->max_parts)
		return TG_EDIT_LIMIT;
	int msg_lf;
	size_t bs = header_end(raw, len, &msg_lf);
	if (bs <= 2)
		return TG_EDIT_UNSUPPORTED;  /* no header fields */

	size_t idx = 0;
	struct mailmime *root = NULL;
	if (mailmime_parse(raw, len, &idx, &root) != MAILIMF_NO_ERROR || root == NULL)
		return TG_EDIT_UNSUPPORTED;
	plan pl;
	memset(&pl, 0, sizeof pl);
	size_t words = (e && e->head ? strlen(e->head) : 0) + (e && e->tail ? strlen(e->tail) : 0);
	pl.cap = 2 * len + 16 * words + 4096;
	part pp, ph;
	memset(&pp, 0, sizeof pp);
	memset(&ph, 0, sizeof ph);
	sbuf signoff = SBUF_INIT;
	struct mailmime *body = root->mm_type == MAILMIME_MESSAGE ? root->mm_data.mm_message.mm_msg_mime : NULL;
	struct mailmime *mplain = NULL, *mhtml = NULL;
	tg_edit_status st = TG_EDIT_UNSUPPORTED;
	/* libetpan must see the same header/body split as the MTA did */
	if (body == NULL || body->mm_body == NULL || body->mm_body->dt_type != MAILMIME_DATA_TEXT ||
	    body->mm_body->dt_data.dt_text.dt_data != raw + bs)
		goto out;
	if ((st = find_parts(raw, len, body, &mplain, &mhtml)) != TG_EDIT_OK)
		goto out;
	if (mplain && ((st = part_open(lim, raw, len, msg_lf, mplain, &pp)) != TG_EDIT_OK ||
		       (st = plain_edit(&pp, e, raw, &pl, &signoff)) != TG_EDIT_OK))
		goto out;
	if (mhtml && ((st = part_open(lim, raw, len, msg_lf, mhtml, &ph)) != TG_EDIT_OK ||
		      (st = html_edit(lim, &ph, e, mplain != NULL, raw, &pl, &signoff)) != TG_EDIT_OK))
		goto out;

	edits_sort(&pl);
	if (out->max == 0 || out->max > pl.cap)
		out->max = pl.cap;
	size_t pos = bs;
	for (int i = 0; i < pl.n && st == TG_EDIT_OK; i++) {
		edit *ed = &pl.e[i];
		if (ed->at < pos || ed->at + ed->cut > len ||
		    sbuf_append(out, raw + pos, ed->at - pos) < 0 || sbuf_append(out, ed->text.s, ed->text.len) < 0)
			st = ed->at < pos ? TG_EDIT_UNSUPPORTED : TG_EDIT_LIMIT;
		pos = ed->at + ed->cut;
	}
	if (st == TG_EDIT_OK && sbuf_append(out, raw + pos, len - pos) < 0)
		st = TG_EDIT_LIMIT;
out:
	for (int i = 0; i < (int)(sizeof pl.e / sizeof pl.e[0]); i++)
		sbuf_free(&pl.e[i].text);
	part_close(&pp);
	part_close(&ph);
	sbuf_free(&signoff);
	mailmime_free(root);
	if (st != TG_EDIT_OK)
		sbuf_reset(out);
	return st;
}
