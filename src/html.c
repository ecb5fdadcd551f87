/* html — the readable text of an HTML mail body (libxml2); see html.h. */
#include "config.h"
#include "html.h"

#include <pthread.h>
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>

/* Text is first written raw to a sink, then tidied line by line in finish(). */
struct sink {
	sbuf raw;
	int bullet;        /* a list item's "- " waits for its first text */
};

#define HTML_OPEN_NAMES 64  /* open elements skip_history() knows by name */

/* The conversion's state, fed by libxml2's SAX events: no tree is built. */
struct walk {
	struct sink out, quoted;
	int want_quoted;   /* caller asked for the quoted text */
	unsigned depth;    /* elements open */
	unsigned skip;     /* depth of the hidden or skipped element, 0: none */
	unsigned quote;    /* depth of the outermost quote container, 0: none */
	int history;       /* Outlook reply header seen: the rest is history */
	int pre;           /* depth of <pre> */
	sbuf pend;         /* text since the last other event: what a tree
			    * would hold as one text node */
	int failed;        /* out of memory: the parser was stopped */
	const char *html;  /* the input, for skip_history() */
	size_t len;
	int skipped;       /* the parser was stopped there: the rest is history */
	const xmlChar *open[HTML_OPEN_NAMES]; /* names of the open elements */
	size_t left;       /* node budget, see spend() */
	unsigned max_depth;
	int over;          /* the budget ran out: the parser was stopped */
};

/* An element as its start tag gives it: libxml2's HTML parser folds names
 * to lower case and drops repeated attributes, keeping the first. */
struct elem {
	const char *name;
	unsigned kind;                 /* K_* */
	const char *cls, *id, *style;  /* NULL if absent, "" if bare */
	int hidden;
};

static const char *const quote_classes[] = { "gmail_quote",
	"gmail_quote_container", "gmail_extra", "yahoo_quoted",
	"moz-cite-prefix", "protonmail_quote", "OutlookMessageHeader",
	"reply-quote", "x_gmail_quote", NULL };
static const char *const signature_classes[] = { "gmail_signature",
	"moz-signature", "signature", "x_gmail_signature", NULL };
static const char *const history_ids[] = { "divRplyFwdMsg",
	"x_divRplyFwdMsg", "appendonsend", NULL };

static int in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)  /* the first letter first: most names differ there */
		if (n && ((*list)[0] | 0x20) == (s[0] | 0x20) && strlen(*list) == n &&
		    !xmlStrncasecmp(BAD_CAST s, BAD_CAST *list, (int)n))
			return 1;
	return 0;
}

/* What html_to_text() does at an element, by its name, and what the skim
 * and skip_history() must know of it. */
enum {
	K_SKIP = 1,     /* not shown: its content is left out */
	K_BLOCK = 2,    /* starts and ends a line */
	K_BLANK = 4,    /* ... and leaves an empty line after it */
	K_PRE = 8, K_LI = 16, K_BR = 32, K_CELL = 64, K_QUOTE = 128,
	K_DIV = 256,
	K_HIGH = 512,   /* an end priority above <div>'s, or html/head/body */
	K_RAW = 1024,   /* raw text in libxml2 or a browser: the skim doubts */
	K_SCRIPT = 2048 /* raw text up to its end tag in libxml2 */
};

#define KIND(s, k) { s, sizeof s - 1, k }
static const struct kind { const char *name; unsigned char len; unsigned kind; } kinds[] = {
	/* sorted by name: kind_of() starts at the first letter's entries */
	KIND("address", K_BLOCK), KIND("article", K_BLOCK), KIND("aside", K_BLOCK),
	KIND("blockquote", K_BLOCK | K_QUOTE), KIND("body", K_HIGH), KIND("br", K_BR),
	KIND("caption", K_HIGH), KIND("center", K_BLOCK), KIND("col", K_HIGH),
	KIND("colgroup", K_HIGH), KIND("dd", K_BLOCK), KIND("div", K_BLOCK | K_DIV),
	KIND("dl", K_BLOCK), KIND("dt", K_BLOCK), KIND("fieldset", K_BLOCK),
	KIND("footer", K_BLOCK), KIND("form", K_BLOCK), KIND("h1", K_BLOCK | K_BLANK),
	KIND("h2", K_BLOCK | K_BLANK), KIND("h3", K_BLOCK | K_BLANK), KIND("h4", K_BLOCK | K_BLANK),
	KIND("h5", K_BLOCK | K_BLANK), KIND("h6", K_BLOCK | K_BLANK), KIND("head", K_SKIP | K_HIGH),
	KIND("header", K_BLOCK), KIND("hr", K_BLOCK), KIND("html", K_HIGH), KIND("iframe", K_RAW),
	KIND("li", K_BLOCK | K_LI), KIND("main", K_BLOCK), KIND("nav", K_BLOCK),
	KIND("noembed", K_RAW), KIND("noframes", K_RAW), KIND("noscript", K_SKIP | K_RAW),
	KIND("ol", K_BLOCK | K_BLANK), KIND("p", K_BLOCK | K_BLANK), KIND("plaintext", K_RAW),
	KIND("pre", K_BLOCK | K_BLANK | K_PRE), KIND("script", K_SKIP | K_SCRIPT),
	KIND("section", K_BLOCK), KIND("style", K_SKIP | K_SCRIPT),
	KIND("table", K_BLOCK | K_BLANK | K_HIGH), KIND("tbody", K_HIGH), KIND("td", K_CELL | K_HIGH),
	KIND("template", K_SKIP | K_RAW), KIND("textarea", K_RAW), KIND("tfoot", K_HIGH),
	KIND("th", K_CELL | K_HIGH), KIND("thead", K_HIGH), KIND("title", K_SKIP | K_RAW),
	KIND("tr", K_BLOCK | K_HIGH), KIND("ul", K_BLOCK | K_BLANK), KIND("xmp", K_RAW),
};
#define NKINDS (sizeof kinds / sizeof *kinds)
static unsigned char kinds_at[27];  /* first entry of each letter */
static pthread_once_t kinds_once = PTHREAD_ONCE_INIT;

static void kinds_index(void)
{
	for (int c = 26, i = (int)NKINDS; c >= 0; c--) {
		while (i > 0 && kinds[i - 1].name[0] - 'a' >= c)
			i--;
		kinds_at[c] = (unsigned char)i;
	}
}

/* name[0..n), in any case */
static unsigned kind_of(const char *name, size_t n)
{
	unsigned c = (unsigned)(name[0] | 0x20) - 'a';
	if (n == 0 || c >= 26)
		return 0;
	pthread_once(&kinds_once, kinds_index);
	for (size_t i = kinds_at[c]; i < kinds_at[c + 1]; i++)
		if (kinds[i].len == n && !xmlStrncasecmp(BAD_CAST kinds[i].name, BAD_CAST name, (int)n))
			return kinds[i].kind;
	return 0;
}

static void elem_read(struct elem *e, const xmlChar *name, const xmlChar **atts)
{
	const char *s = (const char *)name;
	*e = (struct elem){.name = s, .kind = kind_of(s, strlen(s))};
	for (const xmlChar **a = atts; a && *a; a += 2) {
		const char *v = a[1] ? (const char *)a[1] : "";
		const char **slot = !xmlStrcasecmp(a[0], BAD_CAST "class") ? &e->cls :
				    !xmlStrcasecmp(a[0], BAD_CAST "id") ? &e->id :
				    !xmlStrcasecmp(a[0], BAD_CAST "style") ? &e->style : NULL;
		if (slot && *slot == NULL)
			*slot = v;
		else if (!slot && !xmlStrcasecmp(a[0], BAD_CAST "hidden"))
			e->hidden = 1;
	}
}

/* Length of the white space at p: HTML's ASCII set, and NBSP (how mail
 * clients indent and pad) as a plain space. 0 if none. */
static size_t space_len(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
		return 1;
	return (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0 ? 2 : 0;
}

/* Does the space-separated class attribute hold a name from list? */
static int has_class(const struct elem *n, const char *const *list)
{
	const char *p = n->cls;
	while (p && *p) {
		size_t len = 0;
		while (p[len] && !space_len(p + len))
			len++;
		if (len && in_list(p, len, list))
			return 1;
		p += len ? len : space_len(p);
	}
	return 0;
}

static int is_signature(const struct elem *n)
{
	const char *id = n->id;
	return has_class(n, signature_classes) ||
	       (id && !xmlStrncasecmp(BAD_CAST id, BAD_CAST "signature", 9));
}

/* Outlook marks the start of the quoted history, not its extent. */
static int is_history(const struct elem *n)
{
	const char *id = n->id, *style = n->style;
	if (id && in_list(id, strlen(id), history_ids))
		return 1;
	if (!style || !(n->kind & K_DIV))
		return 0;
	/* Outlook desktop's separator; "border-top:none" is mere styling. */
	const xmlChar *b = xmlStrcasestr(BAD_CAST style, BAD_CAST "border-top");
	if (!b)
		return 0;
	for (b += 10; *b == ':' || *b == ' '; b++)
		;
	return xmlStrncasecmp(b, BAD_CAST "none", 4) != 0;
}

/* Is the element hidden from the reader: the hidden attribute, or an inline
 * style whose last display declaration is none (a preheader, a pixel)? */
static int is_hidden(const struct elem *n)
{
	const char *style = n->style;
	int none = 0;
	if (n->hidden)
		return 1;
	for (const xmlChar *d = style ? xmlStrcasestr(BAD_CAST style, BAD_CAST "display") : NULL; d;
	     d = xmlStrcasestr(d + 7, BAD_CAST "display")) {
		const xmlChar *v = d + 7;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != ':')
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		none = !xmlStrncasecmp(v, BAD_CAST "none", 4);
	}
	return none;
}

static struct sink *sink(struct walk *w)
{
	if (!w->quote && !w->history)
		return &w->out;
	return w->want_quoted ? &w->quoted : NULL;
}

static int last_is(const struct sink *s, const char *set)
{
	return s->raw.len == 0 || strchr(set, s->raw.s[s->raw.len - 1]);
}

static void trim_blanks(struct sink *s)
{
	while (s->raw.len && (s->raw.s[s->raw.len - 1] == ' ' ||
			      s->raw.s[s->raw.len - 1] == '\t'))
		s->raw.s[--s->raw.len] = '\0';
}

/* Newlines at the end of the raw text (0, 1 or 2), trailing blanks dropped. */
static size_t trailing_nl(struct sink *s)
{
	size_t have = 0;
	trim_blanks(s);
	while (have < 2 && have < s->raw.len &&
	       s->raw.s[s->raw.len - 1 - have] == '\n')
		have++;
	return have;
}

/* Make the raw text end in want (1 or 2) newlines. Idempotent, so nested
 * blocks do not pile up empty lines; nothing at the very start. */
static int end_line(struct sink *s, size_t want)
{
	size_t have;
	if (!s || s->raw.len == 0 || (have = trailing_nl(s)) >= want)
		return 0;
	return sbuf_append(&s->raw, "\n\n", want - have);
}

/* One more line break (<br>, a newline in <pre>), but never a second empty
 * line: the raw text stays about as small as the output. */
static int newline(struct sink *s)
{
	size_t have = s ? trailing_nl(s) : 0;
	return end_line(s, have < 2 ? have + 1 : 2);
}

/* Length of the valid UTF-8 sequence at p (NUL-terminated), 0 if invalid:
 * libxml2 2.9 passes bytes that are not UTF-8 through unchanged. */
static size_t u8len(const unsigned char *p)
{
	unsigned int c = p[0], need, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	for (unsigned int i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

static int put_text(struct walk *w, struct sink *s, const char *t)
{
	while (s && *t) {
		size_t n = space_len(t);
		if (n) {
			/* Runs of white space are one space, except inside <pre>. */
			int rc = 0;
			if (w->pre && *t == '\n')
				rc = newline(s);
			else if (w->pre && *t == '\t')
				rc = sbuf_putc(&s->raw, *t);
			else if (w->pre ? *t != '\r' : !last_is(s, " \t\n"))
				rc = sbuf_putc(&s->raw, ' ');
			if (rc < 0)
				return -1;
			t += n;
			continue;
		}
		if (s->bullet && sbuf_puts(&s->raw, "- ") < 0)
			return -1;
		s->bullet = 0;
		for (size_t l;; n += l) {  /* printable ASCII first: most text */
			unsigned char c = (unsigned char)t[n];
			if (c > ' ' && c < 0x7f)
				l = 1;
			else if (!c || space_len(t + n) || !(l = u8len((const unsigned char *)t + n)))
				break;
		}
		if (sbuf_append(&s->raw, t, n) < 0)
			return -1;
		t += n;
		if (n == 0) {   /* an invalid byte: U+FFFD keeps out UTF-8 */
			if (sbuf_puts(&s->raw, "\xef\xbf\xbd") < 0)
				return -1;
			t++;
		}
	}
	return 0;
}

/* Returns 1 to read the element's content (and call leave() at its end), 0
 * to skip it, -1 when out of memory. */
static int enter(struct walk *w, const struct elem *n)
{
	if ((n->kind & K_SKIP) || is_hidden(n))
		return 0;
	if (is_signature(n)) {
		/* Not the agent's words, but its first line may be the sign-off:
		 * hand it on behind a "-- " line, as a plain-text client would. */
		if (w->quote || w->history)
			return 0;
		if (end_line(&w->out, 1) < 0 || sbuf_puts(&w->out.raw, "-- \n") < 0)
			return -1;
		return 1;
	}
	if (!w->quote && !w->history && is_history(n)) {
		w->history = 1;
		if (end_line(&w->out, 1) < 0)
			return -1;
	}
	if (!w->quote && !w->history &&
	    ((n->kind & K_QUOTE) || has_class(n, quote_classes))) {
		w->quote = w->depth;
		if (end_line(&w->out, 1) < 0)
			return -1;
	}
	struct sink *s = sink(w);
	w->pre += !!(n->kind & K_PRE);
	if ((n->kind & K_BLOCK) && end_line(s, 1) < 0)
		return -1;
	if (s && (n->kind & K_LI))
		s->bullet = 1;
	if ((n->kind & K_BR) && newline(s) < 0)
		return -1;
	if (s && (n->kind & K_CELL) &&
	    !last_is(s, "\n")) {
		trim_blanks(s);
		if (sbuf_putc(&s->raw, '\t') < 0)
			return -1;
	}
	return 1;
}

static int leave(struct walk *w, const struct elem *n)
{
	struct sink *s = sink(w);
	if (s && (n->kind & K_LI))
		s->bullet = 0;
	if ((n->kind & K_BLOCK) && end_line(s, n->kind & K_BLANK ? 2 : 1) < 0)
		return -1;
	w->pre -= !!(n->kind & K_PRE);
	if (w->depth == w->quote)
		w->quote = 0;
	return 0;
}

/* Copy raw lines to dst: no trailing blanks, at most one empty line in a
 * row, none at the start or end, and a final '\n'. */
static int finish(const struct sink *s, sbuf *dst)
{
	if (s->raw.s == NULL)  /* nothing collected (NULL + 0 is undefined) */
		return 0;
	const char *p = s->raw.s, *end = p + s->raw.len;
	int wrote = 0, blank = 0;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
			n--;
		if (n == 0) {
			blank = 1;
		} else {
			if ((wrote && blank && sbuf_putc(dst, '\n') < 0) ||
			    sbuf_append(dst, p, n) < 0 || sbuf_putc(dst, '\n') < 0)
				return -1;
			wrote = 1;
			blank = 0;
		}
		p = e + 1;
	}
	return 0;
}

/* ---- the SAX handlers --------------------------------------------------- */

static struct walk *walk_of(void *ctx)
{
	return ((htmlParserCtxtPtr)ctx)->_private;
}

static void fail(void *ctx)
{
	walk_of(ctx)->failed = 1;
	xmlStopParser(ctx);
}

/* The text since the last other event, as a tree would hold it in one node:
 * libxml2 hands text on in pieces cut anywhere (even in a UTF-8 sequence it
 * passes through unchecked). */
static int flush(struct walk *w)
{
	int rc = 0;
	if (w->pend.len)
		rc = put_text(w, sink(w), w->pend.s);
	sbuf_reset(&w->pend);
	return rc;
}

/* The node budget, as a tree of the document would spend it: each element,
 * attribute and comment counts two nodes (itself and the text that may
 * follow or fill it), and open elements may nest HTML_MAX_DEPTH deep. Past
 * either the parser is stopped: the work libxml2 does is bounded by the
 * nodes, and each end tag costs it a search of the open elements (400,000
 * stray "</x>" under 60,000 open <div>s took 73 s). */
static int spend(void *ctx, size_t nodes, unsigned deeper)
{
	struct walk *w = walk_of(ctx);
	if (!w->over && w->left >= nodes && w->depth + deeper <= w->max_depth) {
		w->left -= nodes;
		return 1;
	}
	if (!w->over)
		xmlStopParser(ctx);
	w->over = 1;
	return 0;
}

static int skip_history(htmlParserCtxtPtr ctxt, struct walk *w, const struct elem *e);

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct walk *w = walk_of(ctx);
	size_t n = 2;
	for (const xmlChar **a = atts; a && *a; a += 2)
		n += 2;
	if (w->failed || !spend(ctx, n, 1))
		return;
	if (flush(w) < 0)
		return fail(ctx);
	w->depth++;
	if (w->depth <= HTML_OPEN_NAMES)
		w->open[w->depth - 1] = name;
	if (w->skip)
		return;
	struct elem e;
	elem_read(&e, name, atts);
	int quote = w->quote, history = w->history;
	int r = enter(w, &e);
	if (r < 0)
		return fail(ctx);
	if (r == 0)
		w->skip = w->depth;
	else if (((!quote && w->quote) || (!history && w->history)) && skip_history(ctx, w, &e) < 0)
		fail(ctx);
}

static void on_end(void *ctx, const xmlChar *name)
{
	struct walk *w = walk_of(ctx);
	if (w->over || w->failed || w->depth == 0)
		return;
	if (flush(w) < 0)
		return fail(ctx);
	if (w->skip) {
		w->skip = w->skip == w->depth ? 0 : w->skip;
	} else {
		struct elem e = {.name = (const char *)name, .kind = kind_of((const char *)name, strlen((const char *)name))};
		if (leave(w, &e) < 0)
			return fail(ctx);
	}
	w->depth--;
}

/* Text. (libxml2 hands the raw text of <script> and <style> on as CDATA
 * blocks, or as text without a cdataBlock handler: either way inside an
 * element left out.) */
static void on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct walk *w = walk_of(ctx);
	/* outside every element a tree has no node to hold text */
	if (w->over || w->failed || w->depth == 0 || w->skip || len <= 0)
		return;
	if (sbuf_append(&w->pend, (const char *)ch, (size_t)len) < 0)
		fail(ctx);
}

/* A comment or processing instruction: a node between two texts. */
static void on_other(void *ctx)
{
	struct walk *w = walk_of(ctx);
	if (!w->over && !w->failed && flush(w) < 0)
		fail(ctx);
}

static void on_comment(void *ctx, const xmlChar *value)
{
	(void)value;
	if (!walk_of(ctx)->failed && spend(ctx, 2, 0))
		on_other(ctx);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	on_other(ctx);
}

static int blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Has a start tag more than max attributes? libxml2 checks each one against
 * all before it, before any SAX callback: a tag with 200,000 takes minutes.
 * Counted as libxml2 reads them: a name after a blank, a quoted value only
 * after "=" (an unterminated one is read as names: more, never fewer). */
static int attrs_over(const char *p, size_t n, size_t max)
{
	const char *end = p + n;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL && ++p < end) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			continue;
		size_t k = 0;
		int blank = 0, eq = 0;
		for (; p < end && *p != '>'; p++) {
			const char *q;
			if ((*p == '"' || *p == '\'') && eq &&
			    (q = memchr(p + 1, *p, (size_t)(end - p - 1))) != NULL) {
				p = q;
				eq = blank = 0;
			} else if (blank_char(*p)) {
				blank = 1;
			} else if (*p == '=') {
				eq = 1;
				blank = 0;
			} else {
				if (blank && !eq && ++k > max)
					return 1;
				eq = blank = 0;
			}
		}
	}
	return 0;
}

/* ---- the words without a parse ---------------------------------------- */

static int ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Is p[0..n) a character libxml2's comment parser stops at (not IS_CHAR)?
 * It then drops the comment and reads on from there as text. */
static int not_xml_char(const unsigned char *p, size_t n)
{
	return (p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r') ||
	       (n >= 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf));
}

/* How many c are in [p, e): a tag holds few quotes, memchr finds them. */
static unsigned count_of(const char *p, const char *e, char c)
{
	unsigned k = 0;
	for (; p < e && (p = memchr(p, c, (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

/* Length of the markup at p (p[0] == '<'), as libxml2 reads it, or 0 when
 * libxml2 reads the '<' as text or the reading is in doubt: the text is
 * then kept, never lost. A tag ends at its first '>' (a quoted '>' inside
 * ends it early: more text, not less). *name, *namelen: the element's name
 * for a start or end tag, else NULL. *odd is set when libxml2 may read it
 * otherwise: a comment an invalid character stops, a tag with a quote left
 * open before its first '>'. */
static size_t markup_len(const char *p, const char *end, const char **name, size_t *namelen, int *odd)
{
	size_t n = (size_t)(end - p);
	*name = NULL;
	*namelen = 0;
	if (n >= 4 && !memcmp(p, "<!--", 4)) {
		/* libxml2 2.9: the first "-->" after the opening; an invalid
		 * character first stops it (the rest is read as text) */
		for (const char *q = p + 4; q < end; q++) {
			if (not_xml_char((const unsigned char *)q, (size_t)(end - q))) {
				*odd = 1;
				return (size_t)(q - p);
			}
			if (q + 3 <= end && !memcmp(q, "-->", 3))
				return (size_t)(q + 3 - p);
		}
		return 0;
	}
	const char *s = p + 1;
	int start = n >= 2 && ascii_letter(p[1]);
	int close = n >= 3 && p[1] == '/' && ascii_letter(p[2]);
	int doctype = n >= 9 && p[1] == '!' && !xmlStrncasecmp(BAD_CAST p + 2, BAD_CAST "doctype", 7);
	if (!start && !close && !doctype)
		return 0;
	const char *gt = memchr(p, '>', n);
	if (gt == NULL)
		return 0;
	*odd |= (count_of(p, gt, '"') | count_of(p, gt, '\'')) & 1;
	if (start || close) {
		s += close;
		size_t k = 0;
		while (s + k < gt && (ascii_letter(s[k]) || (s[k] >= '0' && s[k] <= '9') ||
				      s[k] == ':' || s[k] == '-' || s[k] == '_' || s[k] == '.'))
			k++;
		*name = s;
		*namelen = k;
	}
	return (size_t)(gt + 1 - p);
}

/* The character reference or entity at p (p[0] == '&'), appended to out as
 * UTF-8 (U+FFFD for a number that is no character). Returns the bytes read;
 * 0 if p is no reference or an entity this table does not know: it is then
 * kept as written (libxml2 shows an unknown one so, and a known one as a
 * letter: "caf&eacute;" skims to other words than "café", never to fewer). */
static size_t entity_skim(const char *p, const char *end, sbuf *out, int *rc)
{
	static const struct { const char *name; unsigned cp; } named[] = {
		{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
		{"nbsp", 0xa0}, {"shy", 0xad}, {"copy", 0xa9}, {"reg", 0xae}, {"laquo", 0xab},
		{"raquo", 0xbb}, {"middot", 0xb7}, {"deg", 0xb0}, {"pound", 0xa3}, {"euro", 0x20ac},
		{"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
		{"sbquo", 0x201a}, {"ldquo", 0x201c}, {"rdquo", 0x201d}, {"bdquo", 0x201e},
		{"hellip", 0x2026}, {"bull", 0x2022}, {"ensp", 0x2002}, {"emsp", 0x2003},
		{"thinsp", 0x2009}, {"zwnj", 0x200c}, {"zwj", 0x200d}, {"lrm", 0x200e},
		{"rlm", 0x200f},
	};
	const char *q = p + 1;
	unsigned long cp = 0;
	if (q < end && *q == '#') {
		int hex = q + 1 < end && (q[1] | 0x20) == 'x';
		const char *d = q + 1 + hex, *e = d;
		for (; e < end && e - d < 8; e++) {
			int v = *e >= '0' && *e <= '9' ? *e - '0' :
				hex && (*e | 0x20) >= 'a' && (*e | 0x20) <= 'f' ? (*e | 0x20) - 'a' + 10 : -1;
			if (v < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)v;
		}
		if (e == d)
			return 0;
		/* libxml2 takes a reference without its ';' too */
		q = e < end && *e == ';' ? e + 1 : e;
		if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
	} else {
		const char *e = q;
		while (e < end && e - q < 32 && (ascii_letter(*e) || (*e >= '0' && *e <= '9')))
			e++;
		if (e == q || e >= end || *e != ';')
			return 0;
		for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
			if (strlen(named[i].name) == (size_t)(e - q) && !memcmp(named[i].name, q, (size_t)(e - q)))
				cp = named[i].cp;
		if (cp == 0)
			return 0;
		q = e + 1;
	}
	char u[4];
	size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	if (k == 1)
		u[0] = (char)cp;
	else {
		for (size_t i = k - 1; i > 0; i--, cp >>= 6)
			u[i] = (char)(0x80 | (cp & 0x3f));
		u[0] = (char)((0xf00u >> k) | cp);
	}
	*rc = sbuf_append(out, u, k);
	return (size_t)(q - p);
}

/* Markup html_to_text() reads otherwise than the skim does: elements it
 * leaves out or sets apart (in attributes: quote, signature and history
 * markers, hidden elements), suspected from a word in the tag. */
static const char *const set_apart_tags[] = { "title", "template", "noscript",
	"blockquote", NULL };
static const char *const set_apart_attrs[] = { "display", "hidden", "visibility",
	"quote", "signature", "cite", "gmail_extra", "outlookmessageheader", "rplyfwd",
	"appendonsend", "border-top", NULL };
static int tag_sets_apart(const char *q, size_t k, const char *name, size_t nl)
{
	if (in_list(name, nl, set_apart_tags))
		return 1;
	for (size_t i = 1 + nl; i < k; i++) {
		char c = (char)(q[i] | 0x20);
		if (c < 'a' || c > 'v' || !((1u << (c - 'a')) & (1u << ('d' - 'a') | 1u << ('h' - 'a') |
			1u << ('v' - 'a') | 1u << ('q' - 'a') | 1u << ('s' - 'a') | 1u << ('c' - 'a') |
			1u << ('g' - 'a') | 1u << ('o' - 'a') | 1u << ('r' - 'a') | 1u << ('a' - 'a') | 1u << ('b' - 'a'))))
			continue;  /* no word of the list starts here */
		for (const char *const *w = set_apart_attrs; *w; w++) {
			size_t wl = strlen(*w);
			if (c == (*w)[0] && k - i >= wl && !xmlStrncasecmp(BAD_CAST q + i, BAD_CAST *w, (int)wl))
				return 1;
		}
	}
	return 0;
}

struct skim {
	sbuf *out;
	size_t stop, cut;  /* stop at the first element that ends a line once
			    * out holds stop bytes: cut is where its tag starts */
	int want_apart;    /* look for the following: */
	int apart;         /* markup html_to_text() reads otherwise, or words in <head> */
	int doubt;         /* markup libxml2 may read otherwise than the skim */
};

static int names(const char *name, size_t nl, const char *what)
{
	return nl == strlen(what) && !xmlStrncasecmp(BAD_CAST name, BAD_CAST what, (int)nl);
}

/* The skim of html[0..len) (see html_skim) into sk->out. */
static int skim(const char *html, size_t len, struct skim *sk)
{
	const char *p = html, *end = html + len;
	int head = 0, seen = 0, over = 0;  /* in <head>; past the start; past </body> */
	const char *lt = NULL;  /* the next '<' (end: none), found once */
	while (p < end) {
		if ((lt == NULL || lt < p) && (lt = memchr(p, '<', (size_t)(end - p))) == NULL)
			lt = end;
		const char *q = p == lt ? p : memchr(p, '&', (size_t)(lt - p));
		q = q ? q : lt;
		int text = 0;
		for (const char *t = p; !text && t < q && (head || over || !seen); t++)
			text = (unsigned char)*t > ' ';  /* only these need to know */
		if (q > p && sbuf_append(sk->out, p, (size_t)(q - p)) < 0)
			return -1;
		text |= q < end && *q == '&';
		sk->apart |= head && text;
		sk->doubt |= over && text;
		int before = seen || text;  /* anything but blanks before this markup */
		seen |= q < end || text;
		if (q == end)
			break;
		const char *name;
		size_t nl, k;
		int rc = 0;
		if (*q == '&') {
			k = entity_skim(q, end, sk->out, &rc);
		} else if ((k = markup_len(q, end, &name, &nl, &sk->doubt)) != 0 && name) {
			unsigned kind = kind_of(name, nl);
			int sep = (kind & (K_BLOCK | K_BR | K_CELL)) != 0, close = q[1] == '/';
			if (sep && sk->out->len >= sk->stop) {
				sk->cut = (size_t)(q - html);
				return 0;
			}
			if (sep)
				rc = sbuf_putc(sk->out, '\n');
			if (kind & K_HIGH && names(name, nl, "head"))
				head = !close;
			else if (kind & K_HIGH && (names(name, nl, "body") || names(name, nl, "html")))
				over = close, head = 0;
			else
				sk->doubt |= over;
			if (!close) {
				sk->apart |= sk->want_apart && !sk->apart && tag_sets_apart(q, k, name, nl);
				sk->doubt |= (kind & K_RAW) != 0;
			}
			/* libxml2 reads what a <script> or <style> start tag opens
			 * as raw text up to "</script" or "</style", without markup */
			int raw = !close && (kind & K_SCRIPT);
			if (raw && q[k - 2] != '/') {
				const char *r = q + k;
				/* libxml2 reads a tag there before it reads raw text */
				sk->doubt |= r + 1 < end && r[0] == '<' &&
					(r[1] == '/' || r[1] == '_' || r[1] == ':' || ascii_letter(r[1]));
				while ((r = memchr(r, '<', (size_t)(end - r))) != NULL &&
				       !((size_t)(end - r) >= 2 + nl && r[1] == '/' &&
					 !xmlStrncasecmp(BAD_CAST r + 2, BAD_CAST name, (int)nl)))
					r++;
				if (r)
					k = (size_t)(r - q);
				else  /* unterminated: libxml2 may read on as text */
					sk->doubt = 1;
			}
		} else if (k != 0) {  /* a comment, a DOCTYPE: only at the start */
			sk->doubt |= over || (q[1] == '!' && q[2] != '-' && before);
		}
		if (rc < 0)
			return -1;
		if (k == 0) {  /* '<' or '&' as text */
			if (sbuf_putc(sk->out, *q) < 0)
				return -1;
			sk->doubt |= *q == '<';
			k = 1;
		}
		p = q + k;
	}
	return 0;
}

int html_skim(const char *html, size_t len, sbuf *out)
{
	struct skim sk = {out, (size_t)-1, len, 0, 0, 0};
	return skim(html, len, &sk) < 0 ? -1 : sk.doubt;
}

size_t html_skim_cut(const char *html, size_t len, size_t off, sbuf *prefix, int *plain)
{
	struct skim sk = {prefix, off, len, 1, 0, 0};
	size_t len0 = prefix->len;
	if (skim(html, len, &sk) < 0) {
		if (prefix->s)
			prefix->s[prefix->len = len0] = '\0';
		*plain = 0;
		return len;
	}
	*plain = !sk.apart && !sk.doubt;
	return sk.cut;
}

/* ---- quoted history without a parse ------------------------------------ */

/* Where the quote container (a <div> if div, else a <blockquote>) whose
 * start tag ends at html[from - 1] ends as libxml2 reads it: the offset of
 * the end tag that closes it, or len when only the end of the input does;
 * (size_t)-1 when in doubt. Only <div> and <blockquote> are followed: no
 * start tag closes either (htmlStartClose), an end tag closes the nearest
 * one open unless an element of higher end priority is open above it (a
 * <div> above a <blockquote>), and markup that could close the container
 * some other way puts it in doubt: a table, head, body or html tag (their
 * end priority is higher than a <div>'s), an end tag that may close an
 * element open outside a <blockquote> (open: those names), raw text
 * elements, and whatever the skim is in doubt about. */
static size_t quote_end(const char *html, size_t len, size_t from, int div,
			const xmlChar *const *open, size_t nopen)
{
	const char *p = html + from, *end = html + len;
	char st[64];  /* 'd' <div>, 'b' <blockquote> open in the container */
	size_t n = 0;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *name;
		size_t nl;
		int odd = 0;
		size_t k = markup_len(p, end, &name, &nl, &odd);
		if (k == 0 || odd)
			return (size_t)-1;
		if (!name) {  /* a comment passes; a DOCTYPE here is odd */
			if (p[1] == '!' && p[2] != '-')
				return (size_t)-1;
			p += k;
			continue;
		}
		int close = p[1] == '/';
		unsigned kind = kind_of(name, nl);
		if (kind & (K_HIGH | K_RAW))
			return (size_t)-1;
		int is_div = (kind & K_DIV) != 0, is_bq = (kind & K_QUOTE) != 0;
		if (!close && (kind & K_SCRIPT) && p[k - 2] != '/') {
			/* raw text up to "</script" or "</style" (see skim) */
			const char *r = p + k;
			while ((r = memchr(r, '<', (size_t)(end - r))) != NULL &&
			       !((size_t)(end - r) >= 2 + nl && r[1] == '/' &&
				 !xmlStrncasecmp(BAD_CAST r + 2, BAD_CAST name, (int)nl)))
				r++;
			if (r == NULL)
				return (size_t)-1;
			p = r;
			continue;
		}
		if (!close && (is_div || is_bq) && p[k - 2] != '/') {
			if (n == sizeof st)
				return (size_t)-1;
			st[n++] = is_div ? 'd' : 'b';
		} else if (close && is_div) {
			while (n && st[n - 1] != 'd')
				n--;
			if (n == 0)  /* the container's own, or one outside it */
				return (size_t)(p - html);
			n--;
		} else if (close && is_bq) {
			if (n && st[n - 1] == 'b')
				n--;
			else if (n == 0 && !div)
				return (size_t)(p - html);
			/* else a <div> above it: libxml2 ignores the end tag */
		} else if (close && !div) {
			/* Another end tag closes the nearest element of its name
			 * and all above it, <blockquote>s too (their end priority
			 * is the same), where that element may be one libxml2
			 * has closed already: a <blockquote> open in the container
			 * may be closed, and with nothing of higher priority
			 * between it and the outside, the container itself. */
			if (memchr(st, 'b', n))
				return (size_t)-1;
			for (size_t i = 0; !memchr(st, 'd', n) && i < nopen; i++)
				if (names(name, nl, (const char *)open[i]))
					return (size_t)-1;
		}
		p += k;
	}
	return len;
}

/* Does html[0..len) show no words, hold no element html_to_text() sets
 * apart (an empty signature still writes its "-- " line), and nothing in
 * doubt? */
static int shows_nothing(const char *html, size_t len, int *rc)
{
	sbuf t = SBUF_INIT;
	struct skim sk = {&t, (size_t)-1, len, 1, 0, 0};
	int quiet = (*rc = skim(html, len, &sk)) == 0 && !sk.doubt && !sk.apart;
	for (size_t i = 0; quiet && i < t.len; i += space_len(t.s + i))
		quiet = space_len(t.s + i) != 0;
	sbuf_free(&t);
	return quiet;
}

/* The words of html[0..len) to the quoted text. */
static int quote_skim(struct walk *w, const char *html, size_t len)
{
	sbuf t = SBUF_INIT;
	struct skim sk = {&t, (size_t)-1, len, 0, 0, 0};
	/* as it stands: finish() tidies the lines, text_normalize() the
	 * spaces within them */
	int rc = skim(html, len, &sk) < 0 || end_line(&w->quoted, 1) < 0 ||
		 sbuf_append(&w->quoted.raw, t.s ? t.s : "", t.len) < 0 ? -1 : 0;
	sbuf_free(&t);
	return rc;
}

/* The element e has just opened the quoted history. When nothing after
 * the history shows a word, libxml2 need not read it: the history's words
 * are skimmed for the customer's context (when wanted) and the parser is
 * stopped. Outlook's reply header starts a history that runs to the end;
 * a quote container is followed to its end (quote_end), and words after
 * it keep the whole parse. Most bytes of a reply are its history. Returns
 * -1 when out of memory. */
static int skip_history(htmlParserCtxtPtr ctxt, struct walk *w, const struct elem *e)
{
	if (w->html == NULL || w->depth > HTML_OPEN_NAMES)
		return 0;
	size_t at = (size_t)ctxt->input->consumed + (size_t)(ctxt->input->cur - ctxt->input->base);
	if (at >= w->len || w->html[at] != '>')  /* its start tag should end here */
		return 0;
	size_t from = at + 1, to = w->len;
	int rc = 0;
	if (!w->history) {
		int div = (e->kind & K_DIV) != 0;
		if (!div && !(e->kind & K_QUOTE))
			return 0;
		to = quote_end(w->html, w->len, from, div, w->open, w->depth - 1);
		if (to == (size_t)-1 || !shows_nothing(w->html + to, w->len - to, &rc))
			return rc;
	}
	if (w->want_quoted && quote_skim(w, w->html + from, to - from) < 0)
		return -1;
	w->skipped = 1;
	xmlStopParser(ctxt);
	return 0;
}

void html_init(void)
{
	xmlInitParser();
}

enum html_status html_to_text(const char *html, size_t len, size_t max_size,
			      sbuf *out, sbuf *quoted)
{
	/* libxml2 takes an int length. (~0u >> 1 is INT_MAX: <limits.h> is
	 * shadowed by src/limits.h when src/ is on the include path.) */
	if ((max_size && len > max_size) || len > (~0u >> 1))
		return HTML_TOO_BIG;
	if (len == 0)
		return HTML_OK;
	if (max_size && attrs_over(html, len, HTML_MAX_ATTRS))
		return HTML_TOO_BIG;

	htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
	if (!ctxt)
		return HTML_ERROR;
	/* The context has its own copy of the SAX handler: ours replaces it
	 * whole, so libxml2 builds no tree (and no document). */
	size_t nodes = max_size / HTML_BYTES_PER_NODE;
	struct walk w = { .want_quoted = quoted != NULL, .html = max_size ? html : NULL, .len = len,
		.left = !max_size ? (size_t)-1 : nodes > 1024 ? nodes : 1024,
		.max_depth = max_size ? HTML_MAX_DEPTH : ~0u };
	memset(ctxt->sax, 0, sizeof *ctxt->sax);
	ctxt->sax->initialized = 1;  /* a SAX1 handler: no namespaces in HTML */
	ctxt->sax->startElement = on_start;
	ctxt->sax->endElement = on_end;
	ctxt->sax->characters = on_chars;
	ctxt->sax->comment = on_comment;
	ctxt->sax->processingInstruction = on_pi;
	ctxt->_private = &w;
	htmlDocPtr doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
		HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		HTML_PARSE_NONET | XML_PARSE_HUGE);
	xmlFreeDoc(doc);  /* none is built; NULL is fine */
	/* Every HTML error clears wellFormed, so it says nothing; a halted
	 * parser (xmlHaltParser: depth, internal error, OOM) sets disableSAX
	 * and its error is the last one recorded. */
	int err = ctxt->errNo;
	int stopped = !w.skipped && (ctxt->disableSAX || err == XML_ERR_INTERNAL_ERROR);
	htmlFreeParserCtxt(ctxt);
	int rc = w.failed ? -1 : flush(&w);
	sbuf_free(&w.pend);
	if (w.over) {
		sbuf_free(&w.out.raw);
		sbuf_free(&w.quoted.raw);
		return HTML_TOO_BIG;
	}
	size_t out0 = out->len, quoted0 = quoted ? quoted->len : 0;
	if (rc == 0)
		rc = finish(&w.out, out);
	if (rc == 0 && quoted)
		rc = finish(&w.quoted, quoted);
	sbuf_free(&w.out.raw);
	sbuf_free(&w.quoted.raw);
	if (rc < 0 || err == XML_ERR_NO_MEMORY) {
		/* Leave the caller's buffers as they were. */
		if (out->s)
			out->s[out->len = out0] = '\0';
		if (quoted && quoted->s)
			quoted->s[quoted->len = quoted0] = '\0';
		return HTML_ERROR;
	}
	return stopped ? HTML_LIMIT : HTML_OK;
}
