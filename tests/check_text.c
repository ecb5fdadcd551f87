/* check_text — unit tests for UTF-8 sanitising, normalising and case folding
 * (src/text.c). */
#include "config.h"
#include <check.h>
#include "text.h"

#include <stdlib.h>
#include <string.h>

#define REPL "\xef\xbf\xbd"   /* U+FFFD */
#define S(lit) lit, sizeof(lit) - 1   /* a literal and its length, NULs included */

static const struct {
	const char *name, *in;
	size_t n;
	const char *out;
	long fixes;
} san_cases[] = {
	{ "ascii", S("Hello, world!\tTab\n"), "Hello, world!\tTab\n", 0 },
	{ "valid utf-8", S("caf\xc3\xa9 \xe2\x80\x99 \xd0\x9f \xf0\x9f\x98\x80"),
	  "caf\xc3\xa9 \xe2\x80\x99 \xd0\x9f \xf0\x9f\x98\x80", 0 },
	{ "invalid byte", S("a\xff" "b"), "a" REPL "b", 1 },
	{ "latin-1 bytes", S("caf\xe9 na\xefve"), "caf" REPL " na" REPL "ve", 2 },
	{ "nul", S("a\0b\0"), "a" REPL "b" REPL, 2 },
	{ "crlf", S("one\r\ntwo\r\n"), "one\ntwo\n", 0 },
	{ "lone cr", S("one\rtwo\r"), "one\ntwo\n", 0 },
	{ "cr cr lf", S("a\r\r\nb"), "a\n\nb", 0 },
	{ "stray continuation", S("x\x80y"), "x" REPL "y", 1 },
	{ "overlong 2-byte slash", S("\xc0\xaf"), REPL REPL, 2 },
	{ "overlong 3-byte", S("\xe0\x80\xaf"), REPL REPL REPL, 3 },
	{ "overlong 4-byte", S("\xf0\x80\x80\xaf"), REPL REPL REPL REPL, 4 },
	{ "surrogate", S("<\xed\xa0\x80>"), "<" REPL REPL REPL ">", 3 },
	{ "above U+10FFFF", S("\xf4\x90\x80\x80"), REPL REPL REPL REPL, 4 },
	{ "truncated at end", S("ok\xc3"), "ok" REPL, 1 },
	{ "truncated before ascii", S("\xe2\x80z"), REPL REPL "z", 2 },
	{ "largest valid", S("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf", 0 },
	{ "empty", S(""), "", 0 },
};

START_TEST(test_sanitize)
{
	sbuf out = SBUF_INIT;
	long fixes = text_sanitize(&out, san_cases[_i].in, san_cases[_i].n);
	const char *got = out.s ? out.s : "";
	ck_assert_msg(!strcmp(got, san_cases[_i].out), "%s: got [%s] want [%s]",
		      san_cases[_i].name, got, san_cases[_i].out);
	ck_assert_uint_eq(out.len, strlen(san_cases[_i].out));
	ck_assert_msg(fixes == san_cases[_i].fixes, "%s: %ld repairs, want %ld",
		      san_cases[_i].name, fixes, san_cases[_i].fixes);
	/* The output is valid UTF-8 from end to end. */
	for (size_t i = 0; i < out.len;) {
		size_t l = text_u8len((const unsigned char *)out.s + i, out.len - i);
		ck_assert_msg(l > 0, "%s: invalid at %zu", san_cases[_i].name, i);
		i += l;
	}
	sbuf_free(&out);
}
END_TEST

START_TEST(test_sanitize_appends_and_full)
{
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&out, "head:"), 0);
	ck_assert_int_eq(text_sanitize(&out, S("x\xffy")), 1);
	ck_assert_str_eq(out.s, "head:x" REPL "y");
	sbuf_free(&out);

	out.max = 4;
	ck_assert_int_eq(text_sanitize(&out, S("far too long")), -1);
	sbuf_free(&out);
}
END_TEST

/* The eight-bytes-at-a-time scan stops at every byte it must look at, at
 * any offset: NUL, CR, 0x80 and 0xff are fixed, a control such as 0x1f, a
 * valid "é" and DEL are kept, at every offset of a 40-byte line. */
START_TEST(test_sanitize_every_offset)
{
	static const char *const bad[] = {"\x00", "\x1f", "\r", "\x80", "\xff", "\xc3\xa9", "\x7f"};
	static const char *const want[] = {REPL, "\x1f", "\n", REPL, REPL, "\xc3\xa9", "\x7f"};
	for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
		for (size_t at = 0; at <= 40; at++) {
			char in[64];
			size_t bl = b == 0 ? 1 : strlen(bad[b]);
			memset(in, 'a', sizeof in);
			memcpy(in + at, bad[b], bl);
			sbuf out = SBUF_INIT, ref = SBUF_INIT;
			ck_assert_int_ge(text_sanitize(&out, in, 40 + bl), 0);
			sbuf_append(&ref, in, at);
			sbuf_puts(&ref, want[b]);
			sbuf_append(&ref, in + at + bl, 40 - at);
			ck_assert_msg(out.len == ref.len && memcmp(out.s, ref.s, ref.len) == 0,
				      "byte %zu at %zu: got %zu bytes, want %zu", b, at, out.len, ref.len);
			sbuf_free(&out);
			sbuf_free(&ref);
		}
}
END_TEST

/* One line for a header: controls become spaces, cuts keep UTF-8 whole. */
static const struct { const char *in; size_t max; const char *want; } oneline_cases[] = {
	{ "Re: x\r\nBcc: evil@x", 100, "Re: x  Bcc: evil@x" },
	{ "tab\there\x7f", 100, "tab here " },
	{ "Jos\xc3\xa9", 4, "Jos" },          /* not half of the é */
	{ "Jos\xc3\xa9", 5, "Jos\xc3\xa9" },
	{ "abc", 0, "" },
};

START_TEST(test_oneline)
{
	sbuf o = SBUF_INIT;
	const char *in = oneline_cases[_i].in;
	ck_assert_int_eq(text_oneline(&o, in, strlen(in), oneline_cases[_i].max), 0);
	ck_assert_str_eq(o.s ? o.s : "", oneline_cases[_i].want);
	sbuf_free(&o);
}
END_TEST

START_TEST(test_u8len_decode)
{
	size_t adv;
	ck_assert_uint_eq(text_u8len((const unsigned char *)"A", 1), 1);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xc3\xa9", 2), 2);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xc3\xa9", 1), 0);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xe2\x80\x99", 3), 3);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xc1\xbf", 2), 0);
	ck_assert_uint_eq(text_u8len((const unsigned char *)"\xed\xbf\xbf", 3), 0);
	ck_assert_uint_eq(text_u8decode((const unsigned char *)"\xc3\xa9", 2, &adv), 0xe9);
	ck_assert_uint_eq(adv, 2);
	ck_assert_uint_eq(text_u8decode((const unsigned char *)"\xe2\x80\x99", 3, &adv), 0x2019);
	ck_assert_uint_eq(adv, 3);
	ck_assert_uint_eq(text_u8decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &adv), 0x1f600);
	ck_assert_uint_eq(adv, 4);
	ck_assert_uint_eq(text_u8decode((const unsigned char *)"\xff", 1, &adv), 0xff);
	ck_assert_uint_eq(adv, 1);   /* an invalid byte decodes as itself */
}
END_TEST

static const struct {
	const char *in, *out;
} norm_cases[] = {
	{ "I\xe2\x80\x99m\n  sorry", "I'm sorry" },
	{ "\xe2\x80\x98quoted\xe2\x80\x99 \xe2\x80\x9c" "double\xe2\x80\x9d", "'quoted' \"double\"" },
	{ "\xc2\xab" "Bonjour\xc2\xbb", "\"Bonjour\"" },
	{ "a\xe2\x80\x93" "b\xe2\x80\x94" "c\xe2\x88\x92" "d", "a-b-c-d" },
	{ "wait\xe2\x80\xa6", "wait..." },
	{ "a\xc2\xa0" "b", "a b" },
	{ "a\t\tb\n\nc  \r\n d", "a b c d" },
	{ "x\xe2\x80\x83\xe3\x80\x80y", "x y" },   /* em space, ideographic space */
	{ "ze\xe2\x80\x8bro wi\xe2\x80\x8d" "dth", "zero width" },
	{ "\xef\xbb\xbf" "BOM first", "BOM first" },
	{ "co\xc2\xad" "operate", "cooperate" },   /* soft hyphen */
	{ "a \xe2\x80\x8b b", "a b" },
	{ "   leading and trailing \n\t", "leading and trailing" },
	{ "don`t", "don't" },
	{ "``a``b`", "''a''b'" },                  /* backticks inside and around ASCII runs */
	{ "x\x7fy\x01z ~!", "x\x7fy\x01z ~!" },    /* DEL and controls are not spaces */
	{ "Hello,\tMaria!\xe2\x80\x99s  ok", "Hello, Maria!'s ok" },
	{ "caf\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8", "caf\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8" },
	{ " \n\t\xc2\xa0 ", "" },
	{ "", "" },
};

START_TEST(test_normalize)
{
	sbuf out = SBUF_INIT;
	const char *in = norm_cases[_i].in;
	ck_assert_int_eq(text_normalize(&out, in, strlen(in)), 0);
	const char *got = out.s ? out.s : "";
	ck_assert_msg(!strcmp(got, norm_cases[_i].out), "[%s]: got [%s] want [%s]",
		      in, got, norm_cases[_i].out);
	sbuf_free(&out);
}
END_TEST

START_TEST(test_normalize_appends)
{
	/* Leading space of the new text is dropped even after earlier text. */
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&out, "x"), 0);
	ck_assert_int_eq(text_normalize(&out, S("  y  z ")), 0);
	ck_assert_str_eq(out.s, "xy z");
	out.max = out.len + 2;
	ck_assert_int_eq(text_normalize(&out, S("long tail")), -1);
	sbuf_free(&out);
}
END_TEST

static const struct {
	const char *in, *out;
} fold_cases[] = {
	{ "Hello WORLD 123 _-!", "hello world 123 _-!" },
	{ "\xc3\x89" "COLE", "\xc3\xa9" "cole" },                        /* ÉCOLE */
	{ "\xc3\x84\xc3\x96\xc3\x9c", "\xc3\xa4\xc3\xb6\xc3\xbc" },        /* ÄÖÜ */
	{ "\xc3\x9f\xc3\x97\xc3\x9e", "\xc3\x9f\xc3\x97\xc3\xbe" },        /* ß×Þ: ß, × stay */
	{ "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2",              /* ПРИВЕТ */
	  "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "\xd0\x81\xd0\x96\xd0\xa9", "\xd1\x91\xd0\xb6\xd1\x89" },        /* ЁЖЩ */
	{ "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83" },        /* ΣΑΣ */
	{ "\xc5\x81\xc4\x84\xc5\xbd\xc5\x8a", "\xc5\x82\xc4\x85\xc5\xbe\xc5\x8b" }, /* ŁĄŽŊ */
	{ "\xe2\x80\x99 \xf0\x9f\x98\x80 \xe4\xb8\xad", "\xe2\x80\x99 \xf0\x9f\x98\x80 \xe4\xb8\xad" },
	{ "A\xff" "B\xc3", "a\xff" "b\xc3" },                               /* invalid bytes kept */
	{ "", "" },
};

START_TEST(test_fold)
{
	char buf[64];
	size_t n = strlen(fold_cases[_i].in);
	memcpy(buf, fold_cases[_i].in, n + 1);
	text_fold(buf, n);
	ck_assert_msg(!strcmp(buf, fold_cases[_i].out), "[%s]: got [%s] want [%s]",
		      fold_cases[_i].in, buf, fold_cases[_i].out);
	ck_assert_uint_eq(strlen(buf), n);   /* length never changes */
}
END_TEST

START_TEST(test_fold_bounded)
{
	char buf[] = "ABC\xc3\x89";
	text_fold(buf, 2);          /* only the first two bytes */
	ck_assert_str_eq(buf, "abC\xc3\x89");
	text_fold(buf + 3, 1);      /* half a character: left alone */
	ck_assert_str_eq(buf, "abC\xc3\x89");
}
END_TEST

static const struct {
	uint32_t c;
	int upper, lower;
} case_cases[] = {
	{ 'A', 1, 0 }, { 'Z', 1, 0 }, { 'a', 0, 1 }, { 'z', 0, 1 },
	{ '1', 0, 0 }, { ' ', 0, 0 }, { '@', 0, 0 }, { '[', 0, 0 },
	{ 0xc9, 1, 0 },  /* É */   { 0xe9, 0, 1 },  /* é */
	{ 0xd7, 0, 0 },  /* × */   { 0xf7, 0, 0 },  /* ÷ */
	{ 0xdf, 0, 1 },  /* ß */   { 0xde, 1, 0 },  /* Þ */
	{ 0x141, 1, 0 }, /* Ł */   { 0x142, 0, 1 }, /* ł */
	{ 0x104, 1, 0 }, /* Ą */   { 0x105, 0, 1 }, /* ą */
	{ 0x17d, 1, 0 }, /* Ž */   { 0x17e, 0, 1 }, /* ž */
	{ 0x178, 1, 0 }, /* Ÿ */
	{ 0x391, 1, 0 }, /* Α */   { 0x3b1, 0, 1 }, /* α */
	{ 0x3c2, 0, 1 }, /* ς */
	{ 0x410, 1, 0 }, /* А */   { 0x44f, 0, 1 }, /* я */
	{ 0x401, 1, 0 }, /* Ё */   { 0x451, 0, 1 }, /* ё */
	{ 0x4e2d, 0, 0 },/* 中 */  { 0x1f600, 0, 0 },
};

START_TEST(test_case)
{
	uint32_t c = case_cases[_i].c;
	ck_assert_msg(text_is_upper(c) == case_cases[_i].upper, "upper(U+%04X)", (unsigned)c);
	ck_assert_msg(text_is_lower(c) == case_cases[_i].lower, "lower(U+%04X)", (unsigned)c);
}
END_TEST

START_TEST(test_word_byte)
{
	ck_assert(text_is_word_byte('a') && text_is_word_byte('Z') && text_is_word_byte('0'));
	ck_assert(text_is_word_byte('_') && text_is_word_byte(0xc3) && text_is_word_byte(0x80));
	ck_assert(!text_is_word_byte(' ') && !text_is_word_byte('\'') && !text_is_word_byte('-'));
	ck_assert(!text_is_word_byte('.') && !text_is_word_byte('\n') && !text_is_word_byte(0));
}
END_TEST

/* Regressions: cases src/ once got wrong, kept so they stay fixed. */
START_TEST(test_regressions)
{
	char y[] = "\xc5\xb8";              /* Ÿ U+0178: text_is_upper() says capital */
	text_fold(y, 2);
	ck_assert_str_eq(y, "\xc3\xbf");     /* ÿ U+00FF, also two bytes */
	char alpha[] = "\xce\x86";          /* Ά U+0386, Greek capital with tonos */
	text_fold(alpha, 2);
	ck_assert_str_eq(alpha, "\xce\xac"); /* ά U+03AC */
	ck_assert_int_eq(text_is_upper(0x386), 1);
}
END_TEST

#define NROWS(a) (int)(sizeof a / sizeof a[0])

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_sanitize, 0, NROWS(san_cases));
	tcase_add_test(tc, test_sanitize_appends_and_full);
	tcase_add_test(tc, test_sanitize_every_offset);
	tcase_add_test(tc, test_u8len_decode);
	tcase_add_loop_test(tc, test_oneline, 0, NROWS(oneline_cases));
	tcase_add_loop_test(tc, test_normalize, 0, NROWS(norm_cases));
	tcase_add_test(tc, test_normalize_appends);
	tcase_add_loop_test(tc, test_fold, 0, NROWS(fold_cases));
	tcase_add_test(tc, test_fold_bounded);
	tcase_add_loop_test(tc, test_case, 0, NROWS(case_cases));
	tcase_add_test(tc, test_word_byte);
	suite_add_tcase(s, tc);
	TCase *kb = tcase_create("regressions");
	tcase_add_test(kb, test_regressions);
	suite_add_tcase(s, kb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(text_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
