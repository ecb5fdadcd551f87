/* check_monitor — monitor mode (policy mode keys, the enforced action) and
 * the verdict log's lines (verdictlog_format_*). */
#include "config.h"
#include "testutil.h"
#include "verdictlog.h"

#include <unistd.h>

static const char CURT[] = "From: \"Jamey Fox\" <jamey@acme.example>\nTo: maria@example.net\n"
			   "Subject: Re: Friday\nMessage-ID: <q\"uote@acme.example>\n\n"
			   "Nope. Can't work that out this time.\n";

/* The shipped policy, without its own mode and monitor keys, with text put
 * before it (top-level keys) and the first occurrence of from replaced by
 * to. */
static tg_policy *variant(const char *before, const char *from, const char *to, char *err, size_t errlen)
{
	char path[4096];
	sbuf text = SBUF_INIT, out = SBUF_INIT;
	ck_assert_int_eq(file_read(tu_path("conf/policy.conf", path, sizeof path), &text), 0);
	char *m = strstr(text.s, "\nmode = \"enforce\";"), *g = strstr(text.s, "\nmonitor = {");
	ck_assert_msg(m && g && strstr(g, "\n};\n"), "conf/policy.conf: no mode and monitor keys to replace");
	char *end = strstr(g, "\n};\n") + 4;
	for (char *q = m; q < end; q++)  /* blanked, newlines kept: line numbers stay */
		if (*q != '\n')
			*q = ' ';
	sbuf_puts(&out, before);
	const char *at = from ? strstr(text.s, from) : NULL;
	if (from)
		ck_assert_ptr_nonnull(at);
	if (at) {
		sbuf_append(&out, text.s, (size_t)(at - text.s));
		sbuf_puts(&out, to);
		sbuf_puts(&out, at + strlen(from));
	} else {
		sbuf_puts(&out, text.s);
	}
	tg_policy *p = policy_load_string(out.s, "p.conf", err, errlen);
	sbuf_free(&text);
	sbuf_free(&out);
	return p;
}

static const struct { const char *before, *from, *to, *want; } bad[] = {
	{"mode = \"watch\";\n", NULL, NULL, "p.conf:1: mode must be \"enforce\" or \"monitor\""},
	{"mode = true;\n", NULL, NULL, "p.conf:1: mode must be \"enforce\" or \"monitor\""},
	{"monitor = { loud = true; };\n", NULL, NULL, "p.conf:1: unknown key \"monitor.loud\"; known keys here: headers, notices"},
	{"monitor = { headers = 1; };\n", NULL, NULL, "p.conf:1: monitor.headers must be true or false"},
	{"monitor = true;\n", NULL, NULL, "p.conf:1: monitor must be a group"},
	{"", "  curt = {\n", "  curt = {\n    mode = \"off\";\n", "rules.curt.mode must be \"enforce\" or \"monitor\""},
};

START_TEST(bad_modes_refused_with_file_line)
{
	char err[1024] = "";
	tg_policy *p = variant(bad[_i].before, bad[_i].from, bad[_i].to, err, sizeof err);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "got \"%s\", want \"%s\"", err, bad[_i].want);
}
END_TEST

static void judge_with(tg_policy *p, tg_judgement *j)
{
	tu_judge(p, CURT, j);
	ck_assert_int_eq(j->status, TG_OK);
	ck_assert_int_eq(j->verdict.action, TG_HOLD);
}

START_TEST(enforce_by_default)
{
	tg_policy *p = tu_policy();
	tg_judgement j;
	judge_with(p, &j);
	ck_assert_int_eq(j.verdict.enforced, TG_HOLD);
	ck_assert_int_eq(p->set[0].monitor, 0);
	ck_assert_int_eq(p->monitor_headers, 1);
	ck_assert_int_eq(p->monitor_notices, 0);
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(policy_in_monitor_mode)
{
	char err[1024];
	tg_policy *p = variant("mode = \"monitor\";\nmonitor = { headers = false; notices = true; };\n", NULL, NULL,
			       err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	for (size_t i = 0; i < p->nset; i++)  /* rule sets inherit the mode */
		ck_assert_msg(p->set[i].monitor, "rule set %s not in monitor mode", p->set[i].name);
	ck_assert_int_eq(p->monitor_headers, 0);
	ck_assert_int_eq(p->monitor_notices, 1);
	tg_judgement j;
	judge_with(p, &j);
	ck_assert_int_eq(j.verdict.enforced, TG_PASS);  /* would hold, does nothing */
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(one_rule_in_monitor_mode)
{
	char err[1024];
	tg_policy *p = variant("", "  curt = {\n", "  curt = {\n    mode = \"monitor\";\n", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_int_eq(p->set[0].rule[R_CURT].monitor, 1);
	ck_assert_int_eq(p->set[0].rule[R_GREETING].monitor, 0);
	tg_judgement j;
	judge_with(p, &j);
	/* Without curt (its weight and its hold floor) the rest only suggest. */
	int rest = 0;
	for (size_t i = 0; i < j.verdict.nf; i++)
		rest += j.verdict.f[i].rule == R_CURT ? 0 : j.verdict.f[i].weight;
	ck_assert_int_lt(rest, j.verdict.score);
	ck_assert_int_eq(j.verdict.enforced, engine_action_for(j.verdict.ruleset, rest));
	ck_assert_int_eq(j.verdict.enforced, TG_SUGGEST);
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(version_is_the_content_hash)
{
	/* 64-bit FNV-1a of the file's bytes, in hex. */
	char path[4096], want[17], err[1024];
	sbuf text = SBUF_INIT;
	ck_assert_int_eq(file_read(tu_path("conf/policy.conf", path, sizeof path), &text), 0);
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < text.len; i++)
		h = (h ^ (unsigned char)text.s[i]) * 0x100000001b3ULL;
	snprintf(want, sizeof want, "%016llx", h);
	tg_policy *shipped = policy_load(path, err, sizeof err);
	ck_assert_msg(shipped != NULL, "%s", err);
	ck_assert_str_eq(shipped->version, want);
	tg_policy *edited = variant("", "\"i'm sorry\"", "\"i am sorry\"", err, sizeof err);
	ck_assert_msg(edited != NULL, "%s", err);
	ck_assert_uint_eq(strlen(edited->version), 16);
	ck_assert_str_ne(edited->version, shipped->version);
	sbuf_free(&text);
	policy_unref(shipped);
	policy_unref(edited);
}
END_TEST

START_TEST(verdict_line)
{
	char err[1024];
	tg_policy *p = variant("mode = \"monitor\";\n", NULL, NULL, err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	tg_judgement j;
	judge_with(p, &j);
	const char *rcpts[] = {"maria@example.net", "ops@EXAMPLE.net", "x@other.org"};
	tg_vlog_msg m = {1795000000, "4F2A1A76132", "<q\"uote@acme.example>", "jamey@acme.example", rcpts, 3,
			 &j, (int)j.verdict.enforced, 0.5};
	sbuf o = SBUF_INIT;
	verdictlog_format_msg(&o, &m);
	ck_assert_ptr_nonnull(o.s);
	ck_assert_msg(o.len > 0 && o.s[o.len - 1] == '\n' && memchr(o.s, '\n', o.len) == o.s + o.len - 1,
		      "not one line: %s", o.s);
	const char *want[] = {"{\"time\":\"2026-11-18T", "\"queue_id\":\"4F2A1A76132\"",
			      "\"message_id\":\"<q\\\"uote@acme.example>\"", "\"agent\":\"jamey@acme.example\"",
			      "\"recipient_domains\":[\"example.net\",\"other.org\"]", "\"ruleset\":\"default\"",
			      "\"status\":\"judged\"", "\"action\":\"pass\"", "\"would\":\"hold\"",
			      "\"mode\":\"monitor\"", "\"score\":14", "{\"rule\":\"curt\",\"weight\":8,\"monitor\":true}",
			      "\"ms\":0.500}"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(o.s, want[i]) != NULL, "no %s in %s", want[i], o.s);
	char pv[64];
	snprintf(pv, sizeof pv, "\"policy\":\"%s\"", p->version);
	ck_assert_msg(strstr(o.s, pv) != NULL, "no %s in %s", pv, o.s);
	sbuf_free(&o);

	/* Unchecked: no verdict, null score and would. */
	tg_vlog_msg u = {1795000000, "Q", NULL, "a@b", rcpts, 1, NULL, -1, 0};
	verdictlog_format_msg(&o, &u);
	ck_assert_msg(strstr(o.s, "\"message_id\":null") && strstr(o.s, "\"status\":\"too-big\"") &&
			      strstr(o.s, "\"would\":null") && strstr(o.s, "\"score\":null,\"rules\":[]"),
		      "unchecked: %s", o.s);
	sbuf_free(&o);

	verdictlog_format_decision(&o, 1795000000, "Q1", "release", "maria", "a@b", "hold score=14 rules=curt");
	ck_assert_str_eq(o.s, "{\"time\":\"2026-11-18T11:06:40Z\",\"queue_id\":\"Q1\",\"decision\":\"release\","
			      "\"by\":\"maria\",\"agent\":\"a@b\",\"verdict\":\"hold score=14 rules=curt\"}\n");
	sbuf_free(&o);
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(append_and_reopen)
{
	char dir[] = "/tmp/tg-vlog-XXXXXX", path[256], moved[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/v.jsonl", dir);
	snprintf(moved, sizeof moved, "%s/v.jsonl.1", dir);
	sbuf a = SBUF_INIT, b = SBUF_INIT, got = SBUF_INIT;
	sbuf_puts(&a, "{\"n\":1}\n");
	sbuf_puts(&b, "{\"n\":2}\n");
	verdictlog_close();
	ck_assert_int_eq(verdictlog_append(&a), -1);  /* nothing open */
	ck_assert_int_eq(verdictlog_open(path), 0);
	ck_assert_int_eq(verdictlog_append(&a), 0);
	ck_assert_int_eq(rename(path, moved), 0);     /* logrotate */
	ck_assert_int_eq(verdictlog_open(path), 0);   /* SIGUSR2 */
	ck_assert_int_eq(verdictlog_append(&b), 0);
	ck_assert_int_eq(file_read(moved, &got), 0);
	ck_assert_str_eq(got.s, "{\"n\":1}\n");
	sbuf_free(&got);
	ck_assert_int_eq(file_read(path, &got), 0);
	ck_assert_str_eq(got.s, "{\"n\":2}\n");
	sbuf_free(&got);
	/* A reopen that fails keeps the file open before. */
	char nodir[300];
	snprintf(nodir, sizeof nodir, "%s/no/such/dir", dir);
	ck_assert_int_eq(verdictlog_open(nodir), -1);
	ck_assert_int_eq(verdictlog_append(&b), 0);
	ck_assert_int_eq(file_read(path, &got), 0);
	ck_assert_str_eq(got.s, "{\"n\":2}\n{\"n\":2}\n");
	sbuf_free(&got);
	verdictlog_close();
	unlink(path);
	unlink(moved);
	rmdir(dir);
	sbuf_free(&a);
	sbuf_free(&b);
}
END_TEST

int main(void)
{
	tg_policy *warm = tu_policy();
	Suite *s = suite_create("monitor");
	TCase *t = tcase_create("monitor");
	tcase_add_loop_test(t, bad_modes_refused_with_file_line, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(t, enforce_by_default);
	tcase_add_test(t, policy_in_monitor_mode);
	tcase_add_test(t, one_rule_in_monitor_mode);
	tcase_add_test(t, version_is_the_content_hash);
	tcase_add_test(t, verdict_line);
	tcase_add_test(t, append_and_reopen);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	policy_unref(warm);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
