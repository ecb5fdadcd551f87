/*
 * check_policy — loading the policy: the default loads; every kind of bad
 * policy is refused with "name:line: message" naming what is wrong; the
 * matcher's PCRE2 fallback for what Hyperscan cannot compile.
 */
#include "config.h"
#include "testutil.h"
#include "notice.h"
#include "text.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


static const struct bad {
	const char *text;
	const char *want;   /* expected error, after "t.conf:" */
} bad[] = {
	{"rules = {\n" BASE_RULES "};\nbogus = 1;\n", "11: unknown key \"bogus\""},
	{"rules = {\n" BASE_RULES "};\nrewrite = { greeting = \"Hi {frist_name},\"; };\n", "11: rewrite.greeting: unknown variable {frist_name}; known here: {first_name}, {agent_name}"},
	{"rules = {\n" BASE_RULES "};\nnotice = { hold_body = \"{rewrite} {first_name}\"; };\n", "11: notice.hold_body: unknown variable {first_name}"},
	{"rules = {\n" BASE_RULES "};\nrewrite = { substitutions = ( ( \"(a\", \"b\" ) ); };\n", "11: rewrite.substitutions: \"(a\" at offset 2"},
	{"rules = {\n" BASE_RULES "};\nrewrite = { substitutions = ( ( \"a\", \"$1\" ) ); };\n", "11: rewrite.substitutions: \"$1\" uses $1 but the pattern has 0 group(s)"},
	{"rules = {\n" BASE_RULES "};\nrewrite = { substitutions = ( \"a\" ); };\n", "11: rewrite.substitutions: each entry is a pair of strings"},
	{"rules = {\n" BASE_RULES "};\nnotice = { to = \"boss\"; };\n", "11: notice.to = \"boss\": use \"agent\""},
	{"rules = {\n" BASE_RULES "};\nnotice = { to = \"both\"; };\n", "11: notice.to sends to managers but notice.managers is empty"},
	{"rules = {\n" BASE_RULES "};\nnotice = { managers = [ \"not an address\" ]; };\n", "11: notice.managers: \"not an address\" is not an address"},
	{"rules = {\n" BASE_RULES "};\nnotice = { colour = 1; };\n", "11: unknown key \"notice.colour\""},
	{"rules = {\n" BASE_RULES "};\nnotice = { agent_map = ( ( \"shared\", \"raj@acme.example\" ) ); };\n", "11: notice.agent_map: \"shared\" is neither an address nor an @domain"},
	{"rules = {\n" BASE_RULES "};\nnotice = { agent_map = ( ( \"@acme.example\", \"@x\" ) ); };\n", "11: notice.agent_map: \"@x\" is not an address"},
	{"rules = {\n" BASE_RULES "};\nnotice = { agent_map = ( \"a@b\" ); };\n", "11: notice.agent_map: each entry is a pair"},
	{"rules = {\n" BASE_RULES "greetings = { };\n};\n", "10: unknown rule \"greetings\""},
	{"rules = {\n" BASE_RULES "shouting = { caps_ratio = 2.0; };\n};\n", "10: rules.shouting.caps_ratio = 2 is out of range"},
	{"rules = {\n" BASE_RULES "questions = { max_questions = \"three\"; };\n};\n", "10: rules.questions.max_questions must be a whole number"},
	{"rules = {\n" BASE_A EMPATHY_OK "curt = { refusals = [ \"nope\" ]; weight = 2.5; };\n};\n", "9: rules.curt.weight must be a whole number"},
	{"rules = {\n" BASE_A EMPATHY_OK "curt = { refusals = [ \"nope\" ]; floor = \"delete\"; };\n};\n", "9: rules.curt.floor: unknown value"},
	{"rules = {\n" BASE_A EMPATHY_OK "curt = { refusals = [ \"nope\" ]; severity = \"huge\"; };\n};\n", "9: rules.curt.severity: unknown value"},
	{"rules = {\n" BASE_A CURT_OK "empathy = { enabled = 1; };\n};\n", "9: rules.empathy.enabled must be true or false"},
	{"rules = {\n" BASE_A CURT_OK "empathy = { phrases = [ \"/so(rry/\" ]; };\n};\n", "9: rules.empathy.phrases: bad pattern \"/so(rry/\""},
	{"rules = {\n" BASE_A CURT_OK "empathy = { phrases = ( \"ok\", 3 ); };\n};\n", "9: rules.empathy.phrases: every entry must be a string"},
	{"rules = {\n" BASE_A CURT_OK "empathy = { phrases = [ \"  \" ]; };\n};\n", "9: rules.empathy.phrases: empty phrase"},
	{"rules = {\n" BASE_A CURT_OK "empathy = { phrases = [ ]; };\n};\n", "enabled but phrases is empty"},
	{"rules = {\n" BASE_A CURT_OK "empathy = { phrases = \"sorry\"; };\n};\n", "9: rules.empathy.phrases must be a list of strings"},
	{"rules = {\n" BASE_RULES "};\nthresholds = { suggest = 8; hold = 3; };\n", "11: impossible thresholds in rule set \"default\": hold = 3 must be above suggest = 8"},
	{"rules = {\n" BASE_RULES "};\nthresholds = { hold = 0; };\n", "11: thresholds.hold = 0 would apply to every message"},
	{"rules = {\n" BASE_RULES "};\nthresholds = { pass = 1; };\n", "11: unknown key \"thresholds.pass\""},
	{"rules = {\n" BASE_RULES "};\nscope = { senders = [ \"example.com\" ]; };\n", "11: scope.senders: \"example.com\" is neither an address nor an @domain"},
	{"rules = {\n" BASE_RULES "};\nlimits = { max_depth = 1000; };\n", "11: limits.max_depth = 1000 is out of range"},
	{"rules = {\n" BASE_RULES "};\nlimits = { max_size = 1; };\n", "11: unknown key \"limits.max_size\""},
	{"rules = {\n" BASE_RULES "};\nrulesets = ( { name = \"auto\"; } );\n", "11: rule set \"auto\" needs match"},
	{"rules = {\n" BASE_RULES "};\nrulesets = ( { name = \"auto\"; match = ( { header = \"X\"; pattern = \"(\"; } ); } );\n", "11: bad pattern \"(\""},
	{"rules = {\n" BASE_RULES "};\nrulesets = ( { name = \"a\"; match = ( { header = \"X\"; pattern = \".\"; } ); rules = { curt = { bogus = 1; }; }; } );\n", "11: unknown key \"rulesets.[].rules.curt.bogus\""},
	{"rules = {\n" BASE_RULES "};\nrulesets = ( { name = \"a\"; match = ( { header = \"X\"; pattern = \".\"; } ); }, { name = \"a\"; match = ( { header = \"Y\"; pattern = \".\"; } ); } );\n", "11: rule set name \"a\" is used twice"},
	{"rules = {\n" BASE_RULES "};\nthresholds = { suggest = ; };\n", "11: syntax error"},
	{"thresholds = { suggest = 3; };\n", "1: no rules = { ... }; group"},
};

START_TEST(bad_policy_refused)
{
	char err[1024];
	tg_policy *p = policy_load_string(bad[_i].text, "t.conf", err, sizeof err);
	ck_assert_msg(p == NULL, "case %d loaded", _i);
	ck_assert_msg(strncmp(err, "t.conf:", 7) == 0, "case %d: no file name: %s", _i, err);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "case %d: got \"%s\", want \"%s\"", _i, err, bad[_i].want);
}
END_TEST

START_TEST(default_policy_loads)
{
	tg_policy *p = tu_policy();
	ck_assert_uint_eq(p->nset, 2);
	ck_assert_str_eq(p->set[0].name, "default");
	ck_assert_str_eq(p->set[1].name, "auto-responder");
	ck_assert_int_eq(p->set[0].rule[R_CURT].floor, TG_HOLD);
	ck_assert_int_eq(p->set[0].threshold[TG_HOLD], 16);
	ck_assert_int_eq(p->set[1].rule[R_FOLLOW_UP].enabled, 0);
	ck_assert_int_eq(p->set[1].rule[R_GREETING].weight, 1);
	ck_assert_int_eq(p->set[1].rule[R_CURT].weight, p->set[0].rule[R_CURT].weight);
	ck_assert_uint_gt(matcher_count(p->matcher), 300);
	policy_unref(p);
}
END_TEST

START_TEST(missing_file_named)
{
	char err[1024];
	ck_assert_ptr_null(policy_load("/nonexistent/policy.conf", err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/policy.conf: cannot read the policy file: No such file or directory"));
}
END_TEST

START_TEST(ruleset_selected_by_header)
{
	tg_policy *p = tu_policy();
	const char *n1[] = {"From", "Auto-Submitted"}, *v1[] = {"a@b", "auto-replied"};
	const char *v2[] = {"a@b", "no"};
	ck_assert_str_eq(policy_select(p, n1, v1, 2)->name, "auto-responder");
	ck_assert_str_eq(policy_select(p, n1, v2, 2)->name, "default");
	policy_unref(p);
}
END_TEST

START_TEST(scope_senders_and_skipped_domains)
{
	char err[512];
	tg_policy *p = policy_load_string("rules = {\n" BASE_RULES "};\n"
		"scope = { senders = [ \"help@acme.example\", \"@support.acme.example\" ];\n"
		"  skip_recipient_domains = [ \"acme.example\" ]; };\n", "t.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	const char *ext[] = {"maria@example.net"}, *internal[] = {"bob@acme.example"};
	const char *mixed[] = {"bob@acme.example", "maria@example.net"};
	ck_assert(policy_in_scope(p, "help@acme.example", ext, 1));
	ck_assert(policy_in_scope(p, "raj@SUPPORT.acme.example", ext, 1));
	ck_assert(!policy_in_scope(p, "sales@acme.example", ext, 1));
	ck_assert(!policy_in_scope(p, "help@acme.example", internal, 1));
	ck_assert(policy_in_scope(p, "help@acme.example", mixed, 2));
	policy_unref(p);
}
END_TEST

START_TEST(notice_recipients_from_policy)
{
	char err[512];
	tg_policy *p = policy_load_string("rules = {\n" BASE_RULES "};\n"
		"notice = { to = \"both\"; managers = [ \"lead@acme.example\", \"agent@acme.example\" ]; };\n",
		"t.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	const char *r[8];
	ck_assert_uint_eq(notice_recipients(p, "agent@acme.example", r, 8), 2);  /* no one twice */
	ck_assert_str_eq(r[0], "agent@acme.example");
	ck_assert_str_eq(r[1], "lead@acme.example");
	ck_assert_uint_eq(notice_recipients(p, "bad\r\nBcc: x@y", r, 8), 2);  /* not an address: managers */
	ck_assert_str_eq(r[0], "lead@acme.example");
	ck_assert_uint_eq(notice_recipients(p, "", r, 1), 1);
	policy_unref(p);
	p = policy_load_string("rules = {\n" BASE_RULES "};\n"
		"notice = { agent_map = ( ( \"shared@acme.example\", \"raj@acme.example\" ),\n"
		"  ( \"@desk.acme.example\", \"leads@acme.example\" ) ); };\n", "t.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(notice_recipients(p, "Shared@ACME.example", r, 8), 1);
	ck_assert_str_eq(r[0], "raj@acme.example");
	ck_assert_uint_eq(notice_recipients(p, "bot@desk.acme.example", r, 8), 1);
	ck_assert_str_eq(r[0], "leads@acme.example");
	ck_assert_uint_eq(notice_recipients(p, "mo@acme.example", r, 8), 1);
	ck_assert_str_eq(r[0], "mo@acme.example");
	policy_unref(p);
	p = tu_policy();  /* the shipped policy: the agent only */
	ck_assert_uint_eq(notice_recipients(p, "agent@acme.example", r, 8), 1);
	ck_assert_uint_eq(notice_recipients(p, "", r, 8), 0);
	policy_unref(p);
}
END_TEST

START_TEST(refcount_keeps_policy_alive)
{
	tg_policy *p = tu_policy();
	tg_policy *q = policy_ref(p);
	policy_unref(p);
	ck_assert_str_eq(q->set[0].name, "default");  /* still valid: one reference left */
	policy_unref(q);
}
END_TEST

/* Patterns Hyperscan cannot express (lookbehind, backreferences) fall back to
 * PCRE2 JIT. Each text sits in a block of exactly its length, no NUL, as a
 * slice of a message would: the JIT reads ahead with vector loads, which
 * check-valgrind must tell apart from a real over-read (tests/valgrind.supp). */
START_TEST(pcre2_fallback_matches)
{
	static const struct { const char *text; unsigned hits; uint32_t list, from, to; } cases[] = {
		{"we are sorry about that", 1, 1, 7, 12},
		{"we are not sorry", 0, 0, 0, 0},
		{"Sorry", 1, 1, 0, 5},
		{"that that happened", 1, 2, 0, 9},
		{"nothing to see here, move along please", 0, 0, 0, 0},
	};
	char err[256];
	tg_matcher *m = matcher_new();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(matcher_add(m, 1, "/(?<!not )sorry/", err, sizeof err), 0);
	ck_assert_int_eq(matcher_add(m, 2, "/\\b(\\w+) \\1\\b/", err, sizeof err), 0);
	ck_assert_int_eq(matcher_compile(m, err, sizeof err), 0);
	tg_scratch *sc = matcher_scratch_new(m);
	ck_assert_ptr_nonnull(sc);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].text);
		char *t = malloc(n);
		ck_assert_ptr_nonnull(t);
		memcpy(t, cases[i].text, n);
		tg_hits h = {0};
		ck_assert_int_eq(matcher_scan(m, sc, t, n, &h), 0);
		ck_assert_msg(h.n == cases[i].hits, "\"%s\": %zu hits", cases[i].text, h.n);
		if (h.n) {
			ck_assert_uint_eq(h.v[0].list, cases[i].list);
			ck_assert_uint_eq(h.v[0].from, cases[i].from);
			ck_assert_uint_eq(h.v[0].to, cases[i].to);
		}
		hits_free(&h);
		free(t);
	}
	matcher_scratch_free(sc);
	matcher_free(m);
}
END_TEST

/* A phrase's hit starts its length before its end (no start-of-match
 * tracking in Hyperscan for phrases); patterns in the same database keep
 * theirs. "nothank you" is no "thank you" (\b), "we can't" no "we can". */
START_TEST(phrase_offsets)
{
	static const char text[] = "thank you, we can help. d\xc3\xa9sol\xc3\xa9! sorry, we can't. nothank you";
	static const tg_hit want[] = {{1, 0, 9}, {2, 11, 17}, {3, 24, 32}, {4, 34, 39}};
	char err[256];
	tg_matcher *m = matcher_new();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(matcher_add(m, 1, "Thank you", err, sizeof err), 0);
	ck_assert_int_eq(matcher_add(m, 2, "we can", err, sizeof err), 0);
	ck_assert_int_eq(matcher_add(m, 3, "D\xc3\xa9sol\xc3\xa9", err, sizeof err), 0);
	ck_assert_int_eq(matcher_add(m, 4, "/sorr(y|ies)/", err, sizeof err), 0);
	ck_assert_int_eq(matcher_compile(m, err, sizeof err), 0);
	tg_scratch *sc = matcher_scratch_new(m);
	ck_assert_ptr_nonnull(sc);
	tg_hits h = {0};
	ck_assert_int_eq(matcher_scan(m, sc, text, sizeof text - 1, &h), 0);
	ck_assert_uint_eq(h.n, sizeof want / sizeof *want);
	for (size_t i = 0; i < h.n; i++) {
		ck_assert_uint_eq(h.v[i].list, want[i].list);
		ck_assert_uint_eq(h.v[i].from, want[i].from);
		ck_assert_uint_eq(h.v[i].to, want[i].to);
	}
	hits_free(&h);
	matcher_scratch_free(sc);
	matcher_free(m);
}
END_TEST

/* Phrases go into Hyperscan as plain literals, their \b checked on each
 * hit: the hits must be those of each phrase's regex (matcher_phrase_regex)
 * with \b as Hyperscan reads it (ASCII word characters: PCRE2 without UTF
 * or UCP), less a phrase ending in an ASCII word character that runs on
 * into a contraction, over texts made of word pieces, digits, '_', UTF-8
 * letters, apostrophes and punctuation. */
START_TEST(phrase_boundaries_as_regex)
{
	static const char *const phrases[] = {"no", "we can", "a", "_x", "x_", "d\xc3\xa9sol\xc3\xa9", "\xc3\xa7" "a va",
					      "2 days", "sorry!", "(see", "e-mail", "can't", "ok"};
	static const char *const pieces[] = {"no", "we", " ", "can", "a", "_", "x", "d\xc3\xa9sol\xc3\xa9", "\xc3\xa7" "a",
					     "va", "2", "days", "sorry", "!", "(", "see", "e", "-", "mail", "'", "t",
					     "ok", "\xc3\xa9", ".", "1"};
	enum { NP = sizeof phrases / sizeof *phrases, NPIECE = sizeof pieces / sizeof *pieces };
	char err[256];
	tg_matcher *m = matcher_new();
	pcre2_code *ref[NP];
	for (size_t i = 0; i < NP; i++) {
		ck_assert_int_eq(matcher_add(m, (uint32_t)i + 1, phrases[i], err, sizeof err), 0);
		char *re = matcher_phrase_regex(phrases[i]);
		int ec;
		PCRE2_SIZE eo;
		ref[i] = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL);
		ck_assert_msg(ref[i] != NULL, "%s", re);
		free(re);
	}
	ck_assert_int_eq(matcher_compile(m, err, sizeof err), 0);
	tg_scratch *sc = matcher_scratch_new(m);
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	unsigned seed = 12345;
	size_t checked = 0;
	for (int t = 0; t < 3000; t++) {
		char text[256];
		size_t n = 0;
		for (int k = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12; k > 0; k--) {
			const char *pc = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % NPIECE];
			memcpy(text + n, pc, strlen(pc));
			n += strlen(pc);
		}
		tg_hit want[256];
		size_t nw = 0;
		for (size_t i = 0; i < NP; i++)
			for (PCRE2_SIZE off = 0; off < n && pcre2_match(ref[i], (PCRE2_SPTR)text, n, off, 0, md, NULL) > 0;) {
				PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
				size_t to = ov[1];
				int last_word = (unsigned char)text[to - 1] < 0x80 && text_is_word_byte((unsigned char)text[to - 1]);
				if (!(last_word && to + 1 < n && text[to] == '\'' && text_is_word_byte((unsigned char)text[to + 1])))
					want[nw++] = (tg_hit){(uint32_t)i + 1, (uint32_t)ov[0], (uint32_t)to};
				off = ov[0] + 1;
			}
		tg_hits h = {0};
		ck_assert_int_eq(matcher_scan(m, sc, text, n, &h), 0);
		ck_assert_msg(h.n == nw, "[%.*s]: %zu hits (first: %u %u-%u), the regexes find %zu", (int)n, text, h.n, h.n ? h.v[0].list : 0, h.n ? h.v[0].from : 0, h.n ? h.v[0].to : 0, nw);
		for (size_t a = 0; a < nw; a++) {
			int found = 0;
			for (size_t b = 0; b < h.n; b++)
				found |= h.v[b].list == want[a].list && h.v[b].from == want[a].from && h.v[b].to == want[a].to;
			ck_assert_msg(found, "[%.*s]: \"%s\" at %u-%u not found", (int)n, text, phrases[want[a].list - 1],
				      want[a].from, want[a].to);
		}
		checked += nw;
		hits_free(&h);
	}
	ck_assert_uint_gt(checked, 1000);
	pcre2_match_data_free(md);
	for (size_t i = 0; i < NP; i++)
		pcre2_code_free(ref[i]);
	matcher_scratch_free(sc);
	matcher_free(m);
}
END_TEST

int main(void)
{
	policy_unref(tu_policy());  /* load it once, before the tests fork */
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("load");
	tcase_add_loop_test(tc, bad_policy_refused, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, default_policy_loads);
	tcase_add_test(tc, missing_file_named);
	tcase_add_test(tc, ruleset_selected_by_header);
	tcase_add_test(tc, scope_senders_and_skipped_domains);
	tcase_add_test(tc, refcount_keeps_policy_alive);
	tcase_add_test(tc, notice_recipients_from_policy);
	tcase_add_test(tc, pcre2_fallback_matches);
	tcase_add_test(tc, phrase_offsets);
	tcase_add_test(tc, phrase_boundaries_as_regex);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
