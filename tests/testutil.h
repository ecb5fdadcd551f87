/* testutil — shared helpers for the Check tests: paths, files, the default policy. */
#ifndef TG_TESTUTIL_H
#define TG_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "sbuf.h"

/* A path under the source tree ($top_srcdir, set by make check). */
static inline const char *tu_path(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("top_srcdir");
	snprintf(buf, n, "%s/%s", top && *top ? top : ".", rel);
	return buf;
}

static inline int tu_read(const char *path, sbuf *sb)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sbuf_append(sb, buf, n);
	fclose(f);
	if (sb->s == NULL)
		sbuf_puts(sb, "");
	return 0;
}

static inline tg_policy *tu_policy(void)
{
	char path[4096], err[1024];
	tg_policy *p = policy_load(tu_path("conf/policy.conf", path, sizeof path), err, sizeof err);
	if (p == NULL)
		ck_abort_msg("default policy: %s", err);
	return p;
}

/* Judge a message given as a string with the policy. */
static inline void tu_judge(tg_policy *p, const char *msg, tg_judgement *j)
{
	tg_scratch *s = matcher_scratch_new(p->matcher);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(judge_message(p, s, msg, strlen(msg), NULL, j), 0);
	matcher_scratch_free(s);
}

/* Space-separated rule ids of a verdict's findings, in rule order. */
static inline void tu_rules(const tg_verdict *v, char *buf, size_t n)
{
	buf[0] = '\0';
	for (int r = 0; r < R_NRULES; r++)
		for (size_t i = 0; i < v->nf; i++)
			if ((int)v->f[i].rule == r) {
				size_t l = strlen(buf);
				snprintf(buf + l, n - l, "%s%s", l ? " " : "", policy_rule_name((tg_rule_id)r));
			}
}

#endif
