/* check_monitor — monitor mode (policy mode keys, the enforced action) and
 * the verdict log's lines (verdictlog_format_*). */
#include "config.h"
#include "testutil.h"
#include "verdictlog.h"

#include <unistd.h>

static const char CURT[] = "From: \"Jamey Fox\" <jamey@acme.example>\nTo: maria@example.net\n"
			   "Subject: Re: Friday\nMessage-ID: <q\"uote@acme.example>\n\n"
			   "Nope. Can't work that out this time.\n";

/* Small policies: the shipped one takes a minute to compile under valgrind. */
#define RULES "rules = {\n" BASE_RULES "};\n"
#define CURT_MONITOR "curt = { mode = \"monitor\"; refusals = [ \"nope\" ]; };\n"
#define AUTO_SET "rulesets = ( { name = \"auto\"; match = ( { header = \"Auto-Submitted\"; pattern = \"auto\"; } ); } );\n"

static tg_policy *load(const char *text)
{
	char err[1024];
	tg_policy *p = policy_load_string(text, "p.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	return p;
}

static const struct { const char *text, *want; } bad[] = {
	{"mode = \"watch\";\n" RULES, "p.conf:1: mode must be \"enforce\" or \"monitor\""},
	{"mode = true;\n" RULES, "p.conf:1: mode must be \"enforce\" or \"monitor\""},
	{"monitor = { loud = true; };\n" RULES, "p.conf:1: unknown key \"monitor.loud\"; known keys here: headers, notices"},
	{"monitor = { headers = 1; };\n" RULES, "p.conf:1: monitor.headers must be true or false"},
	{"monitor = true;\n" RULES, "p.conf:1: monitor must be a group"},
	{"rules = {\n" BASE_A EMPATHY_OK "curt = { mode = \"off\"; refusals = [ \"nope\" ]; };\n};\n",
	 "p.conf:9: rules.curt.mode must be \"enforce\" or \"monitor\""},
	{RULES "rulesets = ( { name = \"a\"; mode = 1; match = ( { header = \"X\"; pattern = \"y\"; } ); } );\n",
	 "p.conf:11: rulesets.[].mode must be \"enforce\" or \"monitor\""},
};

START_TEST(bad_modes_refused_with_file_line)
{
	char err[1024] = "";
	tg_policy *p = policy_load_string(bad[_i].text, "p.conf", err, sizeof err);
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
	tg_policy *p = load(RULES);
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
	tg_policy *p = load("mode = \"monitor\";\nmonitor = { headers = false; notices = true; };\n" RULES AUTO_SET);
	ck_assert_uint_eq(p->nset, 2);
	for (size_t i = 0; i < p->nset; i++)  /* rule sets inherit the mode */
		ck_assert_msg(p->set[i].monitor, "rule set %s not in monitor mode", p->set[i].name);
	ck_assert_int_eq(p->monitor_headers, 0);
	ck_assert_int_eq(p->monitor_notices, 1);
	tg_judgement j;
	judge_with(p, &j);
	ck_assert_int_eq(j.verdict.enforced, TG_PASS);  /* would hold, does nothing */
	judge_free(&j);
	policy_unref(p);
	/* A rule set can enforce while the rest monitor. */
	p = load("mode = \"monitor\";\n" RULES "rulesets = ( { name = \"auto\"; mode = \"enforce\"; match = ( { "
		 "header = \"Auto-Submitted\"; pattern = \"auto\"; } ); } );\n");
	ck_assert_int_eq(p->set[0].monitor, 1);
	ck_assert_int_eq(p->set[1].monitor, 0);
	policy_unref(p);
}
END_TEST

START_TEST(one_rule_in_monitor_mode)
{
	tg_policy *p = load("rules = {\n" BASE_A EMPATHY_OK CURT_MONITOR "};\n");
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

/* 64-bit FNV-1a of text, in hex. */
static void fnv(const char *text, char out[17])
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (const char *q = text; *q; q++)
		h = (h ^ (unsigned char)*q) * 0x100000001b3ULL;
	snprintf(out, 17, "%016llx", h);
}

START_TEST(version_is_the_content_hash)
{
	char dir[] = "/tmp/tg-pv-XXXXXX", path[256], want[17], err[1024];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/policy.conf", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(RULES, f);
	fclose(f);
	tg_policy *file = policy_load(path, err, sizeof err);
	ck_assert_msg(file != NULL, "%s", err);
	fnv(RULES, want);
	ck_assert_str_eq(file->version, want);
	tg_policy *same = load(RULES), *other = load("rules = {\n" BASE_A EMPATHY_OK CURT_MONITOR "};\n");
	ck_assert_str_eq(same->version, want);
	ck_assert_str_ne(other->version, want);
	policy_unref(file);
	policy_unref(same);
	policy_unref(other);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(excerpt_cut)
{
	char agent[] = "Hi \xc3\x9cna,\nno.";  /* "Hi Üna,\nno." */
	tg_judgement j = {0};
	j.reply.agent = agent;
	tg_finding f = {0};
	f.ex_off = 0;
	f.ex_len = (uint32_t)strlen(agent);
	static const struct { size_t max; const char *want; } t[] = {
		{0, "Hi \xc3\x9cna, no."}, {4, "Hi ..."}, {5, "Hi \xc3\x9c..."}, {100, "Hi \xc3\x9cna, no."},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		sbuf o = SBUF_INIT;
		ck_assert_int_ge(judge_excerpt(&j, &f, t[i].max, &o), 0);
		ck_assert_str_eq(o.s, t[i].want);
		sbuf_free(&o);
	}
}
END_TEST

START_TEST(verdict_line)
{
	tg_policy *p = load("mode = \"monitor\";\n" RULES);
	tg_judgement j;
	judge_with(p, &j);
	char score[32], curt[80];
	snprintf(score, sizeof score, "\"score\":%d,", j.verdict.score);
	snprintf(curt, sizeof curt, "{\"rule\":\"curt\",\"weight\":%d,\"monitor\":true,\"excerpt\":\"Nope.\"}",
		 p->set[0].rule[R_CURT].weight);
	const char *rcpts[] = {"maria@example.net", "ops@EXAMPLE.net", "x@other.org"};
	tg_vlog_msg m = {1795000000, "4F2A1A76132", "<q\"uote@acme.example>", "jamey@acme.example", rcpts, 3,
			 &j, (int)j.verdict.enforced, 0.5, 160};
	sbuf o = SBUF_INIT;
	verdictlog_format_msg(&o, &m);
	ck_assert_ptr_nonnull(o.s);
	ck_assert_msg(o.len > 0 && o.s[o.len - 1] == '\n' && memchr(o.s, '\n', o.len) == o.s + o.len - 1,
		      "not one line: %s", o.s);
	const char *want[] = {"{\"time\":\"2026-11-18T", "\"queue_id\":\"4F2A1A76132\"",
			      "\"message_id\":\"<q\\\"uote@acme.example>\"", "\"agent\":\"jamey@acme.example\"",
			      "\"recipient_domains\":[\"example.net\",\"other.org\"]", "\"ruleset\":\"default\"",
			      "\"status\":\"judged\"", "\"action\":\"pass\"", "\"would\":\"hold\"",
			      "\"mode\":\"monitor\"", score, curt, "\"ms\":0.500}"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(o.s, want[i]) != NULL, "no %s in %s", want[i], o.s);
	char pv[64];
	snprintf(pv, sizeof pv, "\"policy\":\"%s\"", p->version);
	ck_assert_msg(strstr(o.s, pv) != NULL, "no %s in %s", pv, o.s);
	sbuf_free(&o);

	/* The excerpt is capped at a character boundary; 0 logs none. */
	m.excerpt = 3;
	verdictlog_format_msg(&o, &m);
	ck_assert_msg(strstr(o.s, "\"excerpt\":\"Nop...\"}") != NULL, "cap 3: %s", o.s);
	sbuf_free(&o);
	m.excerpt = 0;
	verdictlog_format_msg(&o, &m);
	ck_assert_msg(strstr(o.s, "\"excerpt\"") == NULL, "cap 0: %s", o.s);
	sbuf_free(&o);

	/* Unchecked: no verdict, null score and would. */
	tg_vlog_msg u = {1795000000, "Q", NULL, "a@b", rcpts, 1, NULL, -1, 0, 0};
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
	Suite *s = suite_create("monitor");
	TCase *t = tcase_create("monitor");
	tcase_add_loop_test(t, bad_modes_refused_with_file_line, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(t, excerpt_cut);
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
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
