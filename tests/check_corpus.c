/*
 * check_corpus — the engine over every reply in tests/corpus and
 * conf/examples: each file's X-Expect-Action and X-Expect-Findings headers
 * must match exactly. Fails below 100% agreement and prints every mismatch.
 */
#include "config.h"
#include "testutil.h"

#include <dirent.h>

/* The value of header name in a raw message (first occurrence), trimmed. */
static int expect_header(const char *msg, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = msg; p && *p && *p != '\n'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strchr(v, '\n');
			while (*v == ' ' || *v == '\t') v++;
			size_t len = e ? (size_t)(e - v) : strlen(v);
			while (len && (v[len - 1] == '\r' || v[len - 1] == ' ')) len--;
			if (len >= n) len = n - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Sort the words of s so finding sets compare regardless of order. */
static void canon(const char *s, char *out, size_t n)
{
	char words[32][32];
	int k = 0;
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *t = strtok(tmp, " \t"); t && k < 32; t = strtok(NULL, " \t"))
		snprintf(words[k++], sizeof words[0], "%s", t);
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++)
			if (strcmp(words[j], words[i]) < 0) {
				char w[32];
				memcpy(w, words[i], 32); memcpy(words[i], words[j], 32); memcpy(words[j], w, 32);
			}
	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s", i ? " " : "", words[i]);
	}
}

static int run_dir(tg_policy *p, const char *rel, int *total, int *agree)
{
	char dir[4096];
	DIR *d = opendir(tu_path(rel, dir, sizeof dir));
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	tg_scratch *s = matcher_scratch_new(p->matcher);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		char path[4600], want_action[64], want_f[512], got_f[512], a[512], b[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		sbuf msg = SBUF_INIT;
		ck_assert_int_eq(tu_read(path, &msg), 0);
		ck_assert_msg(expect_header(msg.s, "X-Expect-Action", want_action, sizeof want_action) == 0,
			      "%s has no X-Expect-Action header", path);
		if (expect_header(msg.s, "X-Expect-Findings", want_f, sizeof want_f) < 0)
			want_f[0] = '\0';
		tg_judgement j;
		ck_assert_int_eq(judge_message(p, s, msg.s, msg.len, NULL, &j), 0);
		const char *got_action = j.status == TG_OK ? policy_action_name(j.verdict.action) : "pass";
		if (j.status == TG_OK)
			tu_rules(&j.verdict, got_f, sizeof got_f);
		else
			got_f[0] = '\0';
		canon(want_f, a, sizeof a);
		canon(got_f, b, sizeof b);
		(*total)++;
		if (strcmp(want_action, got_action) == 0 && strcmp(a, b) == 0)
			(*agree)++;
		else
			fprintf(stderr, "MISMATCH %s/%s: expected %s [%s], got %s [%s] (score %d, status %s)\n",
				rel, e->d_name, want_action, a, got_action, b, j.verdict.score,
				tg_status_id(j.status));
		judge_free(&j);
		sbuf_free(&msg);
	}
	closedir(d);
	matcher_scratch_free(s);
	return 0;
}

START_TEST(corpus_agrees)
{
	tg_policy *p = tu_policy();
	int total = 0, agree = 0;
	run_dir(p, "tests/corpus", &total, &agree);
	run_dir(p, "conf/examples", &total, &agree);
	fprintf(stderr, "corpus: %d of %d replies agree with their labels\n", agree, total);
	ck_assert_int_ge(total, 40);
	ck_assert_int_eq(agree, total);
	policy_unref(p);
}
END_TEST

int main(void)
{
	judge_init();
	Suite *s = suite_create("corpus");
	TCase *tc = tcase_create("labels");
	tcase_add_test(tc, corpus_agrees);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
