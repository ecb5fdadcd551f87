/* reply — sentences of the agent's words, normalised for matching; see reply.h. */
#include "config.h"
#include "reply.h"
#include "sbuf.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct { size_t s, n; } span;

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int list_item(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i + 1 < n && (s[i] == '-' || s[i] == '*' || s[i] == '+') && s[i + 1] == ' ')
		return 1;
	if (i + 3 < n && memcmp(s + i, "\xe2\x80\xa2", 3) == 0)  /* bullet */
		return 1;
	size_t d = i;
	while (d < n && s[d] >= '0' && s[d] <= '9')
		d++;
	return d > i && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

static size_t word_count(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (text_is_word_byte((unsigned char)s[i]) && (i == 0 || !text_is_word_byte((unsigned char)s[i - 1])) &&
		    (i == 0 || s[i - 1] != '\''))
			w++;
	return w;
}

/* Does the wrapped line a continue on line b (one sentence over two lines)? */
static int joins(const char *a, size_t an, const char *b, size_t bn, int first_of_para)
{
	char last = a[an - 1];
	if (list_item(b, bn))
		return 0;
	size_t i = 0;
	while (i < bn && b[i] == ' ')
		i++;
	int lower = i < bn && ((b[i] >= 'a' && b[i] <= 'z') || (unsigned char)b[i] >= 0xc0);
	if ((unsigned char)b[i] >= 0xc0) {  /* a non-ASCII letter: look at its case */
		size_t adv;
		lower = text_is_lower(text_u8decode((const unsigned char *)b + i, bn - i, &adv));
	}
	if (last == '.' || last == '!' || last == '?' || last == ':' || last == ';')
		return 0;
	if (last == ',')  /* "Hi Maria," opens a letter; other commas wrap */
		return lower && !(first_of_para && word_count(a, an) <= 6);
	return lower || an >= 50;
}

static const char *const abbrev[] = {"e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs",
	"approx", "st", "inc", "ltd", "co", "jr", "sr", "z.b", "bzw", "ca", "nr", "p.s", NULL};

/* Is the '.' at s[i] the end of an abbreviation rather than a sentence? */
static int is_abbrev(const char *s, size_t i)
{
	size_t b = i;
	while (b > 0 && (text_is_word_byte((unsigned char)s[b - 1]) || s[b - 1] == '.'))
		b--;
	size_t n = i - b;
	for (const char *const *a = abbrev; *a; a++)
		if (strlen(*a) == n && strncasecmp(s + b, *a, n) == 0)
			return 1;
	return n == 1 && s[b] >= 'A' && s[b] <= 'Z';  /* an initial: "J. Smith" */
}

/* Is the '.' at a[i] the end of a list number opening its line ("1. Open")? */
static int list_number(const char *a, size_t start, size_t i)
{
	size_t b = i;
	while (b > start && a[b - 1] >= '0' && a[b - 1] <= '9')
		b--;
	return b < i && i - b <= 3 && (b == start || a[b - 1] == '\n');
}

static int add_sentence(tg_reply *r, sbuf *norm, size_t *cap, size_t s, size_t e, unsigned line)
{
	const char *a = r->agent;
	while (s < e && (a[s] == ' ' || a[s] == '\t' || a[s] == '\n'))
		s++;
	while (e > s && (a[e - 1] == ' ' || a[e - 1] == '\t' || a[e - 1] == '\n'))
		e--;
	if (s == e)
		return 0;
	if (r->nsent == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		tg_sentence *ns = realloc(r->sent, *cap * sizeof *ns);
		if (ns == NULL)
			return -1;
		r->sent = ns;
	}
	tg_sentence *t = &r->sent[r->nsent];
	memset(t, 0, sizeof *t);
	t->orig_off = (uint32_t)s;
	t->orig_len = (uint32_t)(e - s);
	t->line = line;
	t->off = (uint32_t)norm->len;
	if (text_normalize(norm, a + s, e - s) < 0)
		return -1;
	t->len = (uint32_t)(norm->len - t->off);
	if (t->len == 0)
		return 0;
	t->question = norm->s[norm->len - 1] == '?';
	t->words = (uint32_t)word_count(norm->s + t->off, t->len);
	for (size_t i = s; i < e;) {
		unsigned char b = (unsigned char)a[i];
		if (b < 0x80) {  /* ASCII: text_is_upper/lower's first test, inline */
			t->letters += (b | 0x20) >= 'a' && (b | 0x20) <= 'z';
			t->caps += b >= 'A' && b <= 'Z';
			i++;
			continue;
		}
		size_t adv;
		uint32_t c = text_u8decode((const unsigned char *)a + i, e - i, &adv);
		if (text_is_upper(c)) { t->letters++; t->caps++; }
		else if (text_is_lower(c)) t->letters++;
		i += adv;
	}
	if (sbuf_putc(norm, '\n') < 0)
		return -1;
	r->words += t->words;
	r->nsent++;
	return 0;
}

/* Split one logical line (lines joined by wrapping) into sentences. */
static int split_sentences(tg_reply *r, sbuf *norm, size_t *cap, size_t s, size_t e,
			   const unsigned *line_of, size_t nlines, const size_t *line_start)
{
	const char *a = r->agent;
	size_t start = s;
	for (size_t i = s; i < e; i++) {
		char c = a[i];
		if (c != '.' && c != '!' && c != '?')
			continue;
		size_t j = i;
		for (;;) {  /* closing marks stay with their sentence: ." .) .’ .” */
			if (j < e && strchr(".!?\")'", a[j]))
				j++;
			else if (j + 2 < e && (unsigned char)a[j] == 0xe2 && (unsigned char)a[j + 1] == 0x80 &&
				 ((unsigned char)a[j + 2] == 0x99 || (unsigned char)a[j + 2] == 0x9d))
				j += 3;
			else
				break;
		}
		if (j < e && a[j] != ' ' && a[j] != '\n' && a[j] != '\t')
			continue;
		if (c == '.' && j == i + 1 && (is_abbrev(a, i) || list_number(a, s, i)))
			continue;
		/* the line the sentence starts on */
		size_t lo = 0, hi = nlines;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (line_start[mid] <= start) lo = mid; else hi = mid;
		}
		if (add_sentence(r, norm, cap, start, j, line_of[lo]) < 0)
			return -1;
		start = j;
		i = j;
	}
	if (start < e) {
		size_t lo = 0, hi = nlines;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (line_start[mid] <= start) lo = mid; else hi = mid;
		}
		if (add_sentence(r, norm, cap, start, e, line_of[lo]) < 0)
			return -1;
	}
	return 0;
}

int reply_build(tg_reply *r, const char *agent, size_t len, unsigned max_sentences)
{
	memset(r, 0, sizeof *r);
	r->agent = malloc(len + 1);
	if (r->agent == NULL)
		return -1;
	memcpy(r->agent, agent, len);
	r->agent[len] = '\0';
	r->agent_len = len;

	size_t nl = 1;
	for (size_t i = 0; i < len; i++)
		nl += agent[i] == '\n';
	size_t *ls = malloc(nl * sizeof *ls), *le = malloc(nl * sizeof *le);
	unsigned *lno = malloc(nl * sizeof *lno);
	sbuf norm = SBUF_INIT;
	size_t cap = 0, n = 0;
	int rc = -1;
	if (ls == NULL || le == NULL || lno == NULL)
		goto out;
	for (size_t p = 0; p <= len;) {
		const char *q = memchr(agent + p, '\n', len - p);
		size_t e = q ? (size_t)(q - agent) : len;
		if (!(q == NULL && p == len && n > 0)) {
			ls[n] = p;
			le[n] = e;
			lno[n] = (unsigned)(n + 1);
			n++;
		}
		p = e + 1;
		if (q == NULL)
			break;
	}
	while (n > 0 && blank(agent + ls[n - 1], le[n - 1] - ls[n - 1]))
		n--;
	r->lines = (unsigned)n;
	for (size_t i = 0; i < len; i++) {
		unsigned run = 0;
		while (i < len && agent[i] == '!') { run++; i++; }
		if (run > r->bang_run) r->bang_run = run;
	}
	/* Group wrapped lines, then split each group into sentences. */
	for (size_t i = 0; i < n;) {
		if (r->nsent >= max_sentences) {
			r->truncated = 1;
			break;
		}
		if (blank(agent + ls[i], le[i] - ls[i])) {
			i++;
			continue;
		}
		int first = i == 0 || blank(agent + ls[i - 1], le[i - 1] - ls[i - 1]);
		size_t j = i;
		while (j + 1 < n && !blank(agent + ls[j + 1], le[j + 1] - ls[j + 1]) &&
		       le[j] > ls[j] &&
		       joins(agent + ls[j], le[j] - ls[j], agent + ls[j + 1], le[j + 1] - ls[j + 1],
			     first && j == i))
			j++;
		if (split_sentences(r, &norm, &cap, ls[i], le[j], lno + i, j - i + 1, ls + i) < 0)
			goto out;
		i = j + 1;
	}
	if (r->nsent > max_sentences) {
		r->truncated = 1;
		r->nsent = max_sentences;
		norm.len = r->sent[max_sentences - 1].off + r->sent[max_sentences - 1].len + 1;
		norm.s[norm.len] = '\0';
	}
	if (norm.s == NULL && sbuf_puts(&norm, "") < 0)
		goto out;
	r->norm = sbuf_detach(&norm, &r->norm_len);
	text_fold(r->norm, r->norm_len);
	rc = 0;
out:
	sbuf_free(&norm);
	free(ls);
	free(le);
	free(lno);
	if (rc < 0)
		reply_free(r);
	return rc;
}

void reply_free(tg_reply *r)
{
	free(r->agent);
	free(r->norm);
	free(r->sent);
	memset(r, 0, sizeof *r);
}

size_t reply_sentence_at(const tg_reply *r, size_t off)
{
	size_t lo = 0, hi = r->nsent;
	if (hi == 0)
		return 0;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (r->sent[mid].off <= off) lo = mid; else hi = mid;
	}
	return lo;
}

int reply_text(const tg_reply *r, sbuf *out)
{
	const char *p = r->agent, *end = p ? p + r->agent_len : NULL;
	for (unsigned n = 0; p && p < end && n < r->lines; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (text_normalize(out, p, (size_t)(le - p)) < 0 || sbuf_putc(out, '\n') < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}
