/* testutil — shared helpers for the Check tests: paths, files, the default policy. */
#ifndef TG_TESTUTIL_H
#define TG_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "labels.h"
#include "sbuf.h"

/* A path under the source tree ($top_srcdir, set by make check). */
static inline const char *tu_path(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("top_srcdir");
	snprintf(buf, n, "%s/%s", top && *top ? top : ".", rel);
	return buf;
}

#define tu_read file_read

/* The default policy, loaded once per test program (compiling it takes
 * seconds under the sanitizers); each call returns a new reference. Call it
 * once in main() before the suites fork, so every test shares the load. */
static inline tg_policy *tu_policy(void)
{
	static tg_policy *loaded;
	if (loaded == NULL) {
		char path[4096], err[1024];
		loaded = policy_load(tu_path("conf/policy.conf", path, sizeof path), err, sizeof err);
		if (loaded == NULL)
			ck_abort_msg("default policy: %s", err);
	}
	return policy_ref(loaded);
}

/* A minimal valid policy body: every rule that needs phrases has one. */
#define BASE_A \
	"greeting = { phrases = [ \"hi\" ]; };\n" \
	"closing = { phrases = [ \"best\" ]; };\n" \
	"false-empathy = { phrases = [ \"i know how you feel\" ]; };\n" \
	"over-apology = { phrases = [ \"sorry\" ]; };\n" \
	"dismissive = { phrases = [ \"calm down\" ]; };\n" \
	"follow-up = { phrases = [ \"let me know\" ]; };\n"
#define CURT_OK "curt = { refusals = [ \"nope\" ]; };\n"
#define EMPATHY_OK "empathy = { phrases = [ \"sorry\" ]; };\n"
#define BASE_RULES BASE_A CURT_OK EMPATHY_OK

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
	rules_str(verdict_rules(v), buf, n);
}

#endif
