/*
 * matcher — every phrase list and pattern of a policy in one Hyperscan
 * database, compiled once per policy load; PCRE2 (JIT) only for the patterns
 * Hyperscan cannot express (lookaround, backreferences).
 *
 * Entries are literal phrases (matched case-insensitively on word boundaries,
 * against normalised, case-folded text) or "/regex/" patterns in PCRE2 syntax
 * (caseless, multiline: ^ and $ are sentence starts and ends). Each entry
 * belongs to a list; a scan reports (list, from, to) hits in text order.
 * A phrase is in the database as a plain literal (no start-of-match
 * tracking, no assertions): its word boundaries are checked on each hit.
 *
 * A compiled matcher is immutable and may be shared by threads; each thread
 * scans with its own tg_scratch (matcher_scratch_new). Not thread-safe while
 * being built.
 */
#ifndef TG_MATCHER_H
#define TG_MATCHER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tg_matcher tg_matcher;
typedef struct tg_scratch tg_scratch;

typedef struct tg_hit {
	uint32_t list;
	uint32_t from, to;  /* byte offsets in the scanned text */
} tg_hit;

typedef struct tg_hits {
	tg_hit *v;
	size_t n, cap, max;  /* max: scanning stops there (policy limit) */
	int full;            /* max was reached */
} tg_hits;

tg_matcher *matcher_new(void);
void matcher_free(tg_matcher *m);
/* Add an entry to a list. On a bad pattern returns -1 with a message in err. */
int matcher_add(tg_matcher *m, uint32_t list, const char *entry, char *err, size_t errlen);
/* Compile everything added; -1 with a message in err. */
int matcher_compile(tg_matcher *m, char *err, size_t errlen);
size_t matcher_count(const tg_matcher *m);  /* entries added */

tg_scratch *matcher_scratch_new(const tg_matcher *m);
void matcher_scratch_free(tg_scratch *s);

/* Scan text; hits are appended to out sorted by (from, list), duplicates
 * removed. Returns 0, or -1 on an internal error (out of memory). */
int matcher_scan(const tg_matcher *m, tg_scratch *s, const char *text, size_t len, tg_hits *out);
void hits_free(tg_hits *h);

/* Fold and escape a literal phrase into the regex the matcher uses (for
 * tests and tonegate-check --lint output). Caller frees. */
char *matcher_phrase_regex(const char *phrase);

#endif
