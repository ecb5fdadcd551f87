/*
 * labels — reading a corpus file's X-Expect-* labels and walking a corpus
 * directory, shared by check_corpus (regression) and tonegate-eval (figures).
 */
#ifndef TG_LABELS_H
#define TG_LABELS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge.h"
#include "sbuf.h"

/* The value of header name in a raw message (first occurrence), trimmed;
 * -1 when absent. Only the header block is searched. */
static inline int label_get(const char *msg, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = msg; p && *p && *p != '\n'; ) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strchr(v, '\n');
			while (*v == ' ' || *v == '\t')
				v++;
			size_t len = e ? (size_t)(e - v) : strlen(v);
			while (len && (v[len - 1] == '\r' || v[len - 1] == ' '))
				len--;
			if (len >= n)
				len = n - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

/* Bit set of rule ids named in a space-separated list; unknown names set bit 31. */
static inline unsigned label_rules(const char *s)
{
	unsigned set = 0;
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *save = NULL, *t = strtok_r(tmp, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		int found = 0;
		for (int r = 0; r < R_NRULES; r++)
			if (strcmp(t, policy_rule_name((tg_rule_id)r)) == 0) {
				set |= 1u << r;
				found = 1;
			}
		if (!found)
			set |= 1u << 31;
	}
	return set;
}

static inline unsigned verdict_rules(const tg_verdict *v)
{
	unsigned set = 0;
	for (size_t i = 0; i < v->nf; i++)
		set |= 1u << v->f[i].rule;
	return set;
}

static inline void rules_str(unsigned set, char *buf, size_t n)
{
	buf[0] = '\0';
	for (int r = 0; r < R_NRULES; r++)
		if (set >> r & 1) {
			size_t l = strlen(buf);
			snprintf(buf + l, n - l, "%s%s", l ? " " : "", policy_rule_name((tg_rule_id)r));
		}
	if (set >> 31 & 1) {  /* label_rules: a name that is no rule's */
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s(a label that names no rule)", l ? " " : "");
	}
}

/* Sorted list of the .eml files in dir (caller frees each and the array). */
static inline char **corpus_list(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	*n = 0;
	if (d == NULL)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		char **nv = realloc(v, (*n + 1) * sizeof *v);
		if (nv == NULL)
			break;
		v = nv;
		size_t pl = strlen(dir) + l + 2;
		v[*n] = malloc(pl);
		snprintf(v[*n], pl, "%s/%s", dir, e->d_name);
		(*n)++;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++)  /* insertion sort: stable order for reports */
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
		}
	return v;
}

static inline int file_read(const char *path, sbuf *sb)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char buf[8192];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		sbuf_append(sb, buf, k);
	fclose(f);
	if (sb->s == NULL)
		sbuf_puts(sb, "");
	sbuf_pad(sb, 2);  /* judge_message's read-ahead (judge.h) */
	return 0;
}

#endif
