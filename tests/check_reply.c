/* check_reply — unit tests for sentence splitting and the normalised copy
 * (src/reply.c). */
#include "config.h"
#include <check.h>
#include "reply.h"

#include <stdlib.h>
#include <string.h>

static void build(tg_reply *r, const char *text, unsigned max)
{
	ck_assert_int_eq(reply_build(r, text, strlen(text), max), 0);
}

/* Every sentence is one '\n'-ended line of norm, in order, and its
 * orig_off/orig_len lie inside agent. */
static void check_layout(const tg_reply *r)
{
	size_t off = 0;
	for (size_t i = 0; i < r->nsent; i++) {
		const tg_sentence *t = &r->sent[i];
		ck_assert_uint_eq(t->off, off);
		ck_assert_uint_gt(t->len, 0);
		ck_assert_int_eq(r->norm[t->off + t->len], '\n');
		ck_assert_ptr_null(memchr(r->norm + t->off, '\n', t->len));
		ck_assert_uint_le((size_t)t->orig_off + t->orig_len, r->agent_len);
		off = t->off + t->len + 1;
	}
	ck_assert_uint_eq(r->norm_len, off);
	ck_assert_uint_eq(strlen(r->norm), off);
}

static const struct {
	const char *name, *text, *norm;
	size_t nsent;
} cases[] = {
	{ "two sentences", "Nope. Can't work that out this time.\n",
	  "nope.\ncan't work that out this time.\n", 2 },
	{ "greeting line", "Hi Maria,\n\nThanks so much!\n", "hi maria,\nthanks so much!\n", 2 },
	{ "greeting, lower next line", "Hi Maria,\nthanks for waiting.\n",
	  "hi maria,\nthanks for waiting.\n", 2 },
	{ "short line, capital next", "Hi,\nYour order shipped.\n", "hi,\nyour order shipped.\n", 2 },
	{ "wrapped", "I checked your account and the refund\nwas issued yesterday.\n",
	  "i checked your account and the refund was issued yesterday.\n", 1 },
	{ "long line wraps before a capital", "Please restart the router and wait for two "
	  "minutes\nThen try again.\n", "please restart the router and wait for two minutes "
	  "then try again.\n", 1 },
	{ "abbreviations", "Use a browser, e.g. Firefox. Mr. Smith will call you.\n",
	  "use a browser, e.g. firefox.\nmr. smith will call you.\n", 2 },
	{ "etc. mid-sentence", "Apples, pears etc. are fine. Ok.\n",
	  "apples, pears etc. are fine.\nok.\n", 2 },
	{ "initial", "Ask J. Smith about it. Done.\n", "ask j. smith about it.\ndone.\n", 2 },
	{ "decimal", "It costs 3.50 today. Ok.\n", "it costs 3.50 today.\nok.\n", 2 },
	{ "question", "Did that help? Let me know.\n", "did that help?\nlet me know.\n", 2 },
	{ "ascii quote after stop", "He said \"stop.\" Then left.\n",
	  "he said \"stop.\"\nthen left.\n", 2 },
	{ "bangs", "Hi!!! there\n", "hi!!!\nthere\n", 2 },
	{ "curly quotes", "I\xe2\x80\x99m sorry. It\xe2\x80\x99s \xe2\x80\x9c" "fixed\xe2\x80\x9d now.\n",
	  "i'm sorry.\nit's \"fixed\" now.\n", 2 },
	{ "dash and ellipsis", "Sorry \xe2\x80\x94 my mistake\xe2\x80\xa6 fixed now.\n",
	  "sorry - my mistake... fixed now.\n", 1 },
	{ "nbsp and zero-width", "I\xc2\xa0" "am he\xe2\x80\x8bre.\n", "i am here.\n", 1 },
	{ "fold", "\xc3\x89" "COLE \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82!\n",
	  "\xc3\xa9" "cole \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82!\n", 1 },
	{ "list items", "Steps:\n- open settings\n- click reset\n",
	  "steps:\n- open settings\n- click reset\n", 3 },
	{ "crlf", "One.\r\nTwo.\r\n", "one.\ntwo.\n", 2 },
	{ "no final newline", "Done. Bye", "done.\nbye\n", 2 },
	{ "empty", "", "", 0 },
	{ "blank lines", "\n \n\t\n", "", 0 },
	{ "zero-width only", "\xe2\x80\x8b\n", "", 0 },
};

START_TEST(test_table)
{
	tg_reply r;
	build(&r, cases[_i].text, 1000);
	ck_assert_msg(!strcmp(r.norm, cases[_i].norm), "%s: norm [%s] want [%s]",
		      cases[_i].name, r.norm, cases[_i].norm);
	ck_assert_msg(r.nsent == cases[_i].nsent, "%s: %zu sentences, want %zu",
		      cases[_i].name, r.nsent, cases[_i].nsent);
	ck_assert_int_eq(r.truncated, 0);
	ck_assert_str_eq(r.agent, cases[_i].text);
	ck_assert_uint_eq(r.agent_len, strlen(cases[_i].text));
	check_layout(&r);
	reply_free(&r);
}
END_TEST

/* The original text of sentence i. */
static int orig_is(const tg_reply *r, size_t i, const char *want)
{
	const tg_sentence *t = &r->sent[i];
	return t->orig_len == strlen(want) && memcmp(r->agent + t->orig_off, want, t->orig_len) == 0;
}

START_TEST(test_sentence_fields)
{
	tg_reply r;
	build(&r, "Hi Maria,\n\nThanks so much!\n", 100);
	ck_assert_uint_eq(r.nsent, 2);
	ck_assert(orig_is(&r, 0, "Hi Maria,"));
	ck_assert(orig_is(&r, 1, "Thanks so much!"));
	ck_assert_uint_eq(r.sent[0].line, 1);
	ck_assert_uint_eq(r.sent[1].line, 3);
	ck_assert_uint_eq(r.sent[0].words, 2);
	ck_assert_uint_eq(r.sent[1].words, 3);
	ck_assert_uint_eq(r.words, 5);
	ck_assert_uint_eq(r.lines, 3);
	ck_assert_uint_eq(r.bang_run, 1);
	reply_free(&r);

	build(&r, "I checked your account and the refund\nwas issued yesterday.\n", 100);
	ck_assert_uint_eq(r.nsent, 1);
	ck_assert_uint_eq(r.sent[0].line, 1);
	ck_assert_uint_eq(r.sent[0].words, 10);
	ck_assert(orig_is(&r, 0, "I checked your account and the refund\nwas issued yesterday."));
	ck_assert_uint_eq(r.lines, 2);
	reply_free(&r);
}
END_TEST

START_TEST(test_question)
{
	tg_reply r;
	build(&r, "Did that help? Let me know. Anything else?\n", 100);
	ck_assert_uint_eq(r.nsent, 3);
	ck_assert_uint_eq(r.sent[0].question, 1);
	ck_assert_uint_eq(r.sent[1].question, 0);
	ck_assert_uint_eq(r.sent[2].question, 1);
	reply_free(&r);
}
END_TEST

START_TEST(test_counts)
{
	tg_reply r;
	build(&r, "THIS IS LOUD\n", 100);
	ck_assert_uint_eq(r.nsent, 1);
	ck_assert_uint_eq(r.sent[0].words, 3);
	ck_assert_uint_eq(r.sent[0].letters, 10);
	ck_assert_uint_eq(r.sent[0].caps, 10);
	ck_assert_str_eq(r.norm, "this is loud\n");
	reply_free(&r);

	/* Letters and capitals beyond ASCII; apostrophes don't split words. */
	build(&r, "\xc3\x89" "COLE \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, don't 42.\n", 100);
	ck_assert_uint_eq(r.nsent, 1);
	ck_assert_uint_eq(r.sent[0].words, 4);
	ck_assert_uint_eq(r.sent[0].letters, 15);
	ck_assert_uint_eq(r.sent[0].caps, 6);
	reply_free(&r);
}
END_TEST

START_TEST(test_bang_run)
{
	static const struct { const char *text; unsigned run; } rows[] = {
		{ "Hi!!! there\n", 3 }, { "Great! Thanks!! Bye!\n", 2 },
		{ "No bangs here.\n", 0 }, { "Wow!!!!!\n", 5 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tg_reply r;
		build(&r, rows[i].text, 100);
		ck_assert_msg(r.bang_run == rows[i].run, "[%s]: %u", rows[i].text, r.bang_run);
		reply_free(&r);
	}
}
END_TEST

START_TEST(test_curly_orig)
{
	/* norm is ASCII; orig_off/orig_len still point at the bytes as written. */
	tg_reply r;
	build(&r, "Hello. I\xe2\x80\x99m sorry, it\xe2\x80\x99s late.\n", 100);
	ck_assert_uint_eq(r.nsent, 2);
	ck_assert_str_eq(r.norm, "hello.\ni'm sorry, it's late.\n");
	ck_assert_uint_eq(r.sent[1].orig_off, 7);
	ck_assert_uint_eq(r.sent[1].orig_len, 25);
	ck_assert(orig_is(&r, 1, "I\xe2\x80\x99m sorry, it\xe2\x80\x99s late."));
	ck_assert_uint_eq(r.sent[1].len, 21);
	ck_assert_int_eq(memcmp(r.norm + r.sent[1].off, "i'm sorry, it's late.", 21), 0);
	reply_free(&r);
}
END_TEST

START_TEST(test_lines)
{
	tg_reply r;
	build(&r, "First line.\n\n\nSecond para.\nThird line here.\n\nFourth. Fifth.\n\n\n", 100);
	ck_assert_uint_eq(r.nsent, 5);
	static const unsigned want[] = { 1, 4, 5, 7, 7 };
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(r.sent[i].line == want[i], "sentence %zu on line %u", i, r.sent[i].line);
	ck_assert(orig_is(&r, 2, "Third line here."));
	ck_assert_uint_eq(r.lines, 7);   /* trailing blank lines don't count */
	reply_free(&r);
}
END_TEST

START_TEST(test_truncation)
{
	tg_reply r;
	build(&r, "One. Two. Three. Four. Five.\n", 3);
	ck_assert_uint_eq(r.nsent, 3);
	ck_assert_int_eq(r.truncated, 1);
	ck_assert_str_eq(r.norm, "one.\ntwo.\nthree.\n");
	ck_assert_uint_eq(r.norm_len, 17);
	check_layout(&r);
	reply_free(&r);

	build(&r, "One.\nTwo.\nThree.\nFour.\n", 2);
	ck_assert_uint_eq(r.nsent, 2);
	ck_assert_int_eq(r.truncated, 1);
	ck_assert_str_eq(r.norm, "one.\ntwo.\n");
	ck_assert_uint_eq(r.sent[1].line, 2);
	reply_free(&r);

	build(&r, "One. Two. Three.\n", 3);   /* exactly max: not truncated */
	ck_assert_uint_eq(r.nsent, 3);
	ck_assert_int_eq(r.truncated, 0);
	reply_free(&r);

	build(&r, "Hello there.\n", 0);
	ck_assert_uint_eq(r.nsent, 0);
	ck_assert_int_eq(r.truncated, 1);
	ck_assert_str_eq(r.norm, "");
	reply_free(&r);
}
END_TEST

START_TEST(test_sentence_at)
{
	tg_reply r;
	build(&r, "Nope. Can't work that out this time. Sorry!\n", 100);
	ck_assert_uint_eq(r.nsent, 3);
	for (size_t i = 0; i < r.nsent; i++)
		for (size_t o = r.sent[i].off; o <= r.sent[i].off + r.sent[i].len; o++)
			ck_assert_msg(reply_sentence_at(&r, o) == i, "offset %zu", o);
	ck_assert_uint_eq(reply_sentence_at(&r, r.norm_len + 50), 2);
	ck_assert_uint_eq(reply_sentence_at(&r, 0), 0);
	ck_assert_uint_eq(reply_sentence_at(&r, 6), 1);   /* "can't" starts at 6 */
	reply_free(&r);

	build(&r, "", 100);
	ck_assert_uint_eq(reply_sentence_at(&r, 0), 0);
	reply_free(&r);
}
END_TEST

/* Regressions: cases src/ once got wrong, kept so they stay fixed. */
static const struct {
	const char *text, *norm;
} regressions[] = {
	/* a curly closing quote after the stop hides the sentence end */
	{ "He said \xe2\x80\x9cstop.\xe2\x80\x9d Then left.\n", "he said \"stop.\"\nthen left.\n" },
	/* a numbered list item is split after its number */
	{ "1. Open the app\n2. Tap reset\n", "1. open the app\n2. tap reset\n" },
};

START_TEST(test_regressions)
{
	tg_reply r;
	build(&r, regressions[_i].text, 100);
	ck_assert_msg(!strcmp(r.norm, regressions[_i].norm), "norm [%s] want [%s]", r.norm, regressions[_i].norm);
	reply_free(&r);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_sentence_fields);
	tcase_add_test(tc, test_question);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_bang_run);
	tcase_add_test(tc, test_curly_orig);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_sentence_at);
	suite_add_tcase(s, tc);
	TCase *kb = tcase_create("regressions");
	tcase_add_loop_test(kb, test_regressions, 0, (int)(sizeof regressions / sizeof regressions[0]));
	suite_add_tcase(s, kb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
