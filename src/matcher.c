/* matcher — phrase lists in one Hyperscan database, PCRE2 fallback; see matcher.h. */
#include "config.h"
#include "matcher.h"
#include "sbuf.h"
#include "text.h"

#include <hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	char *re;       /* the expression */
	uint32_t list;
	pcre2_code *pc; /* set when Hyperscan cannot take it */
	int word_end;   /* a phrase ending in a word character */
	size_t len;     /* a phrase: the bytes it matches (0: a pattern) */
	char *core;     /* a phrase: its literal (re without the \b), for Hyperscan */
	unsigned wb;    /* a phrase: its \b, checked on each hit: WB_START, WB_END */
} entry;

enum { WB_START = 1, WB_END = 2 };

struct tg_matcher {
	entry *e;
	size_t n, cap;
	hs_database_t *db;
	unsigned *hs_ids;       /* Hyperscan id -> entry index */
	size_t nhs;
	unsigned *pc_ids;       /* the entries PCRE2 scans, in order */
	size_t npc;
};

struct tg_scratch {
	hs_scratch_t *hs;
	pcre2_match_data *md;
};

#define HS_FLAGS (HS_FLAG_CASELESS | HS_FLAG_MULTILINE | HS_FLAG_SOM_LEFTMOST)
/* A phrase goes into the database as a plain literal: its \b are checked
 * on each hit (word_at), and it matches a fixed number of bytes (caseless
 * folds ASCII only), so its start is its end less that. Hyperscan then
 * needs no start-of-match tracking and no assertion engines for the ~900
 * phrases: the default policy's database went from 2.8 MB to 0.26 MB, its
 * compile from 1.0 s to 0.1 s (BENCHMARKS.md). */
#define HS_PHRASE_FLAGS HS_FLAG_CASELESS
#define PC_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF)

tg_matcher *matcher_new(void)
{
	return calloc(1, sizeof(tg_matcher));
}

void matcher_free(tg_matcher *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].re);
		free(m->e[i].core);
		pcre2_code_free(m->e[i].pc);
	}
	free(m->e);
	free(m->hs_ids);
	free(m->pc_ids);
	hs_free_database(m->db);
	free(m);
}

size_t matcher_count(const tg_matcher *m)
{
	return m->n;
}

/* A phrase folded and escaped: the literal Hyperscan matches, in *lit_len
 * the bytes it matches and in *wb where its regex has a \b (WB_START,
 * WB_END). Caller frees. */
static char *phrase_literal(const char *phrase, size_t *lit_len, unsigned *wb)
{
	sbuf sb = SBUF_INIT;
	sbuf folded = SBUF_INIT;
	if (text_normalize(&folded, phrase, strlen(phrase)) < 0 || folded.s == NULL)
		goto fail;
	text_fold(folded.s, folded.len);
	const unsigned char *p = (const unsigned char *)folded.s;
	size_t n = folded.len;
	/* \b only next to ASCII word characters: Hyperscan's \b (no UCP)
	 * sees no boundary after a non-ASCII letter such as the a in "ola". */
	*wb = (p[0] < 0x80 && text_is_word_byte(p[0]) ? WB_START : 0) |
	      (p[n - 1] < 0x80 && text_is_word_byte(p[n - 1]) ? WB_END : 0);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80 && strchr("\\^$.|?*+()[]{}/#-", p[i])) {
			if (sbuf_putc(&sb, '\\') < 0)
				goto fail;
		}
		if (sbuf_putc(&sb, (char)p[i]) < 0)
			goto fail;
	}
	*lit_len = n;
	sbuf_free(&folded);
	return sbuf_detach(&sb, NULL);
fail:
	sbuf_free(&folded);
	sbuf_free(&sb);
	return NULL;
}

/* The phrase's regex: its literal between the \b that wb names. */
static char *phrase_regex(const char *lit, unsigned wb)
{
	sbuf sb = SBUF_INIT;
	if (sbuf_printf(&sb, "%s%s%s", wb & WB_START ? "\\b" : "", lit, wb & WB_END ? "\\b" : "") < 0) {
		sbuf_free(&sb);
		return NULL;
	}
	return sbuf_detach(&sb, NULL);
}

char *matcher_phrase_regex(const char *phrase)
{
	size_t n;
	unsigned wb;
	char *lit = phrase_literal(phrase, &n, &wb);
	char *re = lit ? phrase_regex(lit, wb) : NULL;
	free(lit);
	return re;
}

int matcher_add(tg_matcher *m, uint32_t list, const char *entry_text, char *err, size_t errlen)
{
	size_t len = strlen(entry_text), lit_len = 0;
	unsigned wb = 0;
	char *re, *core = NULL;
	int is_re = len >= 2 && entry_text[0] == '/' && entry_text[len - 1] == '/';
	if (is_re) {
		re = strndup(entry_text + 1, len - 2);
	} else {
		int empty = 1;
		for (size_t i = 0; i < len; i++)
			if (entry_text[i] != ' ' && entry_text[i] != '\t')
				empty = 0;
		if (empty) {
			snprintf(err, errlen, "empty phrase");
			return -1;
		}
		core = phrase_literal(entry_text, &lit_len, &wb);
		re = core ? phrase_regex(core, wb) : NULL;
	}
	if (re == NULL || *re == '\0') {
		snprintf(err, errlen, re ? "empty pattern" : "out of memory");
		free(re);
		free(core);
		return -1;
	}
	/* Every expression must be valid PCRE2: its messages are the clearest. */
	int ec;
	PCRE2_SIZE eoff;
	pcre2_code *pc = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PC_FLAGS, &ec, &eoff, NULL);
	if (pc == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof msg);
		snprintf(err, errlen, "bad pattern \"%s\": %s at offset %zu", entry_text, (char *)msg, (size_t)eoff);
		free(re);
		free(core);
		return -1;
	}
	/* Keep it for PCRE2 only when Hyperscan rejects it (escaped phrases
	 * always compile there). */
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	if (!is_re || hs_compile(re, HS_FLAGS, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS) {
		hs_free_database(db);
		pcre2_code_free(pc);
		pc = NULL;
	} else {
		hs_free_compile_error(ce);
		pcre2_jit_compile(pc, PCRE2_JIT_COMPLETE);
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		entry *ne = realloc(m->e, cap * sizeof *ne);
		if (ne == NULL) {
			pcre2_code_free(pc);
			free(re);
			free(core);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		m->e = ne;
		m->cap = cap;
	}
	m->e[m->n++] = (entry){re, list, pc,
		!is_re && (unsigned char)entry_text[len - 1] < 0x80 &&
		text_is_word_byte((unsigned char)entry_text[len - 1]), lit_len, core, wb};
	return 0;
}

int matcher_compile(tg_matcher *m, char *err, size_t errlen)
{
	const char **exprs = calloc(m->n + 1, sizeof *exprs);
	unsigned *flags = calloc(m->n + 1, sizeof *flags);
	unsigned *ids = calloc(m->n + 1, sizeof *ids);
	int rc = -1;
	if (exprs == NULL || flags == NULL || ids == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->e[i].pc)
			continue;
		exprs[k] = m->e[i].core ? m->e[i].core : m->e[i].re;
		flags[k] = m->e[i].core ? HS_PHRASE_FLAGS : HS_FLAGS;
		ids[k] = (unsigned)k;
		k++;
	}
	m->nhs = k;
	m->npc = m->n - k;
	free(m->hs_ids);
	free(m->pc_ids);
	m->hs_ids = malloc((k + 1) * sizeof *m->hs_ids);
	m->pc_ids = malloc((m->npc + 1) * sizeof *m->pc_ids);
	if (m->hs_ids == NULL || m->pc_ids == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0, j = 0, l = 0; i < m->n; i++) {
		if (!m->e[i].pc)
			m->hs_ids[j++] = (unsigned)i;
		else
			m->pc_ids[l++] = (unsigned)i;
	}
	if (k > 0) {
		hs_compile_error_t *ce = NULL;
		if (hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &m->db, &ce) != HS_SUCCESS) {
			snprintf(err, errlen, "cannot compile the phrase lists: %s (entry \"%s\")",
				 ce ? ce->message : "unknown error",
				 ce && ce->expression >= 0 ? exprs[ce->expression] : "?");
			hs_free_compile_error(ce);
			goto out;
		}
	}
	rc = 0;
out:
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

tg_scratch *matcher_scratch_new(const tg_matcher *m)
{
	tg_scratch *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	if (m->db && hs_alloc_scratch(m->db, &s->hs) != HS_SUCCESS)
		goto fail;
	s->md = pcre2_match_data_create(8, NULL);
	if (s->md == NULL)
		goto fail;
	return s;
fail:
	matcher_scratch_free(s);
	return NULL;
}

void matcher_scratch_free(tg_scratch *s)
{
	if (s == NULL)
		return;
	if (s->hs)
		hs_free_scratch(s->hs);
	pcre2_match_data_free(s->md);
	free(s);
}

static int hit_push(tg_hits *h, uint32_t list, uint32_t from, uint32_t to)
{
	if (h->max && h->n >= h->max) {
		h->full = 1;
		return 1;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 32;
		tg_hit *v = realloc(h->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (tg_hit){list, from, to};
	return 0;
}

struct scan_ctx {
	const tg_matcher *m;
	tg_hits *h;
	const char *text;
	size_t len;
	int oom;
};

/* A word character for \b as Hyperscan reads it without UCP: ASCII
 * letters, digits and '_' (a byte of a UTF-8 letter is not one). */
static int word_at(char ch)
{
	unsigned char c = (unsigned char)ch;
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
}

/* \b counts the apostrophe as a boundary, so "we can" would match inside
 * "we can't": a phrase that ends in a word character must not run on into
 * a contraction. */
static int runs_on(const struct scan_ctx *c, const entry *e, size_t to)
{
	return e->word_end && to + 1 < c->len && c->text[to] == '\'' &&
	       text_is_word_byte((unsigned char)c->text[to + 1]);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *ctx)
{
	struct scan_ctx *c = ctx;
	const entry *e = &c->m->e[c->m->hs_ids[id]];
	if (e->core) {
		from = to - e->len;
		if (((e->wb & WB_START) && from > 0 && word_at(c->text[from - 1])) ||
		    ((e->wb & WB_END) && to < c->len && word_at(c->text[to])))
			return 0;  /* not on a word boundary (\b) */
	}
	if (runs_on(c, e, (size_t)to))
		return 0;
	int r = hit_push(c->h, e->list, (uint32_t)from, (uint32_t)to);
	if (r < 0)
		c->oom = 1;
	return r != 0;  /* non-zero stops the scan */
}

static int hit_cmp(const void *a, const void *b)
{
	const tg_hit *x = a, *y = b;
	if (x->from != y->from) return x->from < y->from ? -1 : 1;
	if (x->list != y->list) return x->list < y->list ? -1 : 1;
	return x->to < y->to ? 1 : x->to > y->to ? -1 : 0;  /* longest first */
}

int matcher_scan(const tg_matcher *m, tg_scratch *s, const char *text, size_t len, tg_hits *out)
{
	struct scan_ctx c = {m, out, text, len, 0};
	if (m->db && len > 0) {
		hs_error_t e = hs_scan(m->db, text, (unsigned)len, 0, s->hs, on_match, &c);
		if (c.oom || (e != HS_SUCCESS && e != HS_SCAN_TERMINATED))
			return -1;
	}
	for (size_t k = 0; k < m->npc && !out->full; k++) {
		size_t i = m->pc_ids[k];
		PCRE2_SIZE off = 0;
		while (off <= len) {
			int r = pcre2_match(m->e[i].pc, (PCRE2_SPTR)text, len, off, 0, s->md, NULL);
			if (r < 0)
				break;
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
			int pr = hit_push(out, m->e[i].list, (uint32_t)ov[0], (uint32_t)ov[1]);
			if (pr < 0)
				return -1;
			if (pr > 0)
				break;
			off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, hit_cmp);
	/* Hyperscan reports every end of a match: keep one hit per (list, start). */
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++)
		if (k == 0 || out->v[k - 1].from != out->v[i].from || out->v[k - 1].list != out->v[i].list)
			out->v[k++] = out->v[i];
	out->n = k;
	return 0;
}

void hits_free(tg_hits *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
	h->full = 0;
}
