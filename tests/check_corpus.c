/*
 * check_corpus — the engine over the labelled corpora:
 *  - tests/corpus and conf/examples (the regression corpus): every file's
 *    X-Expect-Action and X-Expect-Findings must match exactly;
 *  - tests/corpus/real and tests/corpus/heldout (realistic replies, labelled
 *    by people): no reply labelled pass may be held (precision first;
 *    figures: make eval);
 *  - tests/corpus/extract: the agent's words (tonegate-check --text) must be
 *    the hand-written NAME.text, compared line by line ignoring blank lines.
 */
#include "config.h"
#include "testutil.h"
#include "text.h"

typedef int (*per_file)(tg_judgement *j, const char *path, const char *msg);

static int each(tg_policy *p, const char *rel, per_file fn, int *total)
{
	char dir[4096];
	size_t n;
	char **files = corpus_list(tu_path(rel, dir, sizeof dir), &n);
	ck_assert_msg(files != NULL, "cannot open %s", dir);
	tg_scratch *s = matcher_scratch_new(p->matcher);
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		sbuf msg = SBUF_INIT;
		ck_assert_int_eq(file_read(files[i], &msg), 0);
		tg_judgement j;
		ck_assert_int_eq(judge_message(p, s, msg.s, msg.len, NULL, &j), 0);
		bad += fn(&j, files[i], msg.s);
		(*total)++;
		judge_free(&j);
		sbuf_free(&msg);
		free(files[i]);
	}
	free(files);
	matcher_scratch_free(s);
	return bad;
}

static int exact(tg_judgement *j, const char *path, const char *msg)
{
	char want_action[64], want_f[512] = "", a[512], b[512];
	ck_assert_msg(label_get(msg, "X-Expect-Action", want_action, sizeof want_action) == 0,
		      "%s has no X-Expect-Action header", path);
	label_get(msg, "X-Expect-Findings", want_f, sizeof want_f);
	unsigned want = label_rules(want_f), got = j->status == TG_OK ? verdict_rules(&j->verdict) : 0;
	const char *got_action = j->status == TG_OK ? policy_action_name(j->verdict.action) : "pass";
	if (strcmp(want_action, got_action) == 0 && want == got)
		return 0;
	rules_str(want, a, sizeof a);
	rules_str(got, b, sizeof b);
	fprintf(stderr, "MISMATCH %s: expected %s [%s], got %s [%s] (score %d, status %s)\n", path,
		want_action, a, got_action, b, j->verdict.score, tg_status_id(j->status));
	return 1;
}

static int never_held(tg_judgement *j, const char *path, const char *msg)
{
	char want_action[64];
	ck_assert_msg(label_get(msg, "X-Expect-Action", want_action, sizeof want_action) == 0,
		      "%s has no X-Expect-Action header", path);
	if (strcmp(want_action, "pass") != 0 || j->status != TG_OK || j->verdict.action < TG_HOLD)
		return 0;
	char b[512];
	rules_str(verdict_rules(&j->verdict), b, sizeof b);
	fprintf(stderr, "FALSE HOLD %s: labelled pass, held with [%s] (score %d)\n", path, b, j->verdict.score);
	return 1;
}

/* The next non-blank line of s (trimmed) into line; advances *s. */
static int next_line(const char **s, char *line, size_t n)
{
	while (**s) {
		const char *e = strchr(*s, '\n');
		size_t len = e ? (size_t)(e - *s) : strlen(*s);
		const char *b = *s;
		*s = e ? e + 1 : *s + len;
		while (len && (*b == ' ' || *b == '\t')) { b++; len--; }
		while (len && (b[len - 1] == ' ' || b[len - 1] == '\t' || b[len - 1] == '\r')) len--;
		if (len == 0)
			continue;
		if (len >= n)
			len = n - 1;
		memcpy(line, b, len);
		line[len] = '\0';
		return 1;
	}
	return 0;
}

static int text_matches(tg_judgement *j, const char *path, const char *msg)
{
	char exp_path[4200];
	snprintf(exp_path, sizeof exp_path, "%.*s.text", (int)(strlen(path) - 4), path);
	sbuf want = SBUF_INIT, got = SBUF_INIT, norm = SBUF_INIT;
	ck_assert_msg(file_read(exp_path, &want) == 0, "%s: no expected text %s", path, exp_path);
	text_normalize(&norm, "", 0);
	for (const char *p = want.s; *p;) {  /* normalise the expectation line by line */
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		text_normalize(&norm, p, len);
		sbuf_putc(&norm, '\n');
		p = e ? e + 1 : p + len;
	}
	if (j->status == TG_OK)
		reply_text(&j->reply, &got);
	const char *a = norm.s ? norm.s : "", *b = got.s ? got.s : "";
	char la[2048], lb[2048];
	int bad = 0, line = 0;
	for (;;) {
		int ha = next_line(&a, la, sizeof la), hb = next_line(&b, lb, sizeof lb);
		line++;
		if (!ha && !hb)
			break;
		if (ha != hb || strcmp(la, lb) != 0) {
			fprintf(stderr, "TEXT %s: line %d: expected \"%s\", got \"%s\"\n", path, line,
				ha ? la : "(end)", hb ? lb : "(end)");
			bad = 1;
			break;
		}
	}
	sbuf_free(&want);
	sbuf_free(&got);
	sbuf_free(&norm);
	return bad;
}

START_TEST(regression_corpus_agrees)
{
	tg_policy *p = tu_policy();
	int total = 0, bad = each(p, "tests/corpus", exact, &total) + each(p, "conf/examples", exact, &total);
	fprintf(stderr, "corpus: %d of %d replies agree with their labels\n", total - bad, total);
	ck_assert_int_ge(total, 40);
	ck_assert_int_eq(bad, 0);
	policy_unref(p);
}
END_TEST

START_TEST(real_replies_labelled_pass_are_never_held)
{
	tg_policy *p = tu_policy();
	int total = 0, bad = each(p, "tests/corpus/real", never_held, &total) +
			     each(p, "tests/corpus/heldout", never_held, &total);
	fprintf(stderr, "real: %d replies, %d labelled pass and held\n", total, bad);
	ck_assert_int_gt(total, 0);
	ck_assert_int_eq(bad, 0);
	policy_unref(p);
}
END_TEST

START_TEST(extraction_matches_expected_text)
{
	tg_policy *p = tu_policy();
	int total = 0, bad = each(p, "tests/corpus/extract", text_matches, &total);
	fprintf(stderr, "extract: %d of %d agent texts as expected\n", total - bad, total);
	ck_assert_int_gt(total, 0);
	ck_assert_int_eq(bad, 0);
	policy_unref(p);
}
END_TEST

int main(void)
{
	judge_init();
	policy_unref(tu_policy());  /* load it once, before the tests fork */
	Suite *s = suite_create("corpus");
	TCase *tc = tcase_create("labels");
	tcase_add_test(tc, regression_corpus_agrees);
	tcase_add_test(tc, real_replies_labelled_pass_are_never_held);
	tcase_add_test(tc, extraction_matches_expected_text);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
