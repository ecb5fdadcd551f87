/* check_sbuf — unit tests for the growable string (src/sbuf.c). */
#include "config.h"
#include <check.h>
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_append_puts_putc)
{
	sbuf sb = SBUF_INIT;
	ck_assert_ptr_null(sb.s);
	ck_assert_int_eq(sbuf_append(&sb, "abc", 3), 0);
	ck_assert_int_eq(sbuf_puts(&sb, "def"), 0);
	ck_assert_int_eq(sbuf_putc(&sb, '!'), 0);
	ck_assert_int_eq(sbuf_append(&sb, "xyz", 0), 0);
	ck_assert_str_eq(sb.s, "abcdef!");
	ck_assert_uint_eq(sb.len, 7);
	ck_assert_uint_ge(sb.cap, sb.len + 1);

	/* NUL bytes are data: len is the truth, s stays NUL-terminated. */
	ck_assert_int_eq(sbuf_append(&sb, "a\0b", 3), 0);
	ck_assert_uint_eq(sb.len, 10);
	ck_assert_int_eq(memcmp(sb.s + 7, "a\0b", 4), 0);
	sbuf_free(&sb);

	/* An empty append still gives a valid empty string. */
	ck_assert_int_eq(sbuf_puts(&sb, ""), 0);
	ck_assert_ptr_nonnull(sb.s);
	ck_assert_str_eq(sb.s, "");
	sbuf_free(&sb);
}
END_TEST

START_TEST(test_printf)
{
	sbuf sb = SBUF_INIT;
	ck_assert_int_eq(sbuf_printf(&sb, "%s=%d", "count", 42), 0);
	ck_assert_int_eq(sbuf_printf(&sb, " %05.1f%%", 3.5), 0);
	ck_assert_str_eq(sb.s, "count=42 003.5%");
	ck_assert_uint_eq(sb.len, 15);
	/* Longer than the first allocation: printf must grow the buffer. */
	ck_assert_int_eq(sbuf_printf(&sb, "|%200s|", "r"), 0);
	ck_assert_uint_eq(sb.len, 15 + 202);
	ck_assert_int_eq(sb.s[15], '|');
	ck_assert_int_eq(sb.s[15 + 200], 'r');
	ck_assert_int_eq(sb.s[15 + 201], '|');
	ck_assert_int_eq(sb.s[sb.len], '\0');
	ck_assert_uint_eq(strlen(sb.s), sb.len);
	sbuf_free(&sb);
}
END_TEST

START_TEST(test_growth)
{
	sbuf sb = SBUF_INIT;
	for (int i = 0; i < 20000; i++)
		ck_assert_int_eq(sbuf_printf(&sb, "%05d", i), 0);
	ck_assert_uint_eq(sb.len, 100000);
	ck_assert_uint_ge(sb.cap, 100001);
	for (int i = 0; i < 20000; i += 997) {
		char want[6];
		snprintf(want, sizeof want, "%05d", i);
		ck_assert_int_eq(memcmp(sb.s + 5 * i, want, 5), 0);
	}
	ck_assert_int_eq(memcmp(sb.s + sb.len - 5, "19999", 6), 0);

	sbuf c = SBUF_INIT;
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(sbuf_putc(&c, (char)('a' + i % 26)), 0);
	ck_assert_uint_eq(c.len, 5000);
	ck_assert_uint_eq(strlen(c.s), 5000);
	ck_assert_int_eq(c.s[4999], 'a' + 4999 % 26);
	sbuf_free(&c);
	sbuf_free(&sb);
}
END_TEST

START_TEST(test_max)
{
	sbuf sb = SBUF_INIT;
	sb.max = 8;
	ck_assert_int_eq(sbuf_puts(&sb, "keep"), 0);
	/* 4 + 5 > 8: refused, nothing changes. */
	ck_assert_int_eq(sbuf_append(&sb, "12345", 5), -1);
	ck_assert_str_eq(sb.s, "keep");
	ck_assert_uint_eq(sb.len, 4);
	ck_assert_int_eq(sbuf_printf(&sb, "%d", 12345), -1);
	ck_assert_str_eq(sb.s, "keep");
	ck_assert_uint_eq(sb.len, 4);
	/* Exactly up to max is allowed; one more byte is not. */
	ck_assert_int_eq(sbuf_append(&sb, "1234", 4), 0);
	ck_assert_str_eq(sb.s, "keep1234");
	ck_assert_int_eq(sbuf_putc(&sb, 'x'), -1);
	ck_assert_int_eq(sbuf_puts(&sb, "x"), -1);
	ck_assert_int_eq(sbuf_reserve(&sb, 1), -1);
	ck_assert_int_eq(sbuf_append(&sb, "", 0), 0);
	ck_assert_str_eq(sb.s, "keep1234");
	ck_assert_uint_eq(sb.len, 8);
	/* After a reset there is room again. */
	sbuf_reset(&sb);
	ck_assert_int_eq(sbuf_puts(&sb, "new"), 0);
	ck_assert_str_eq(sb.s, "new");
	sbuf_free(&sb);

	/* A refused first append allocates nothing. */
	sbuf e = SBUF_INIT;
	e.max = 3;
	ck_assert_int_eq(sbuf_puts(&e, "abcd"), -1);
	ck_assert_ptr_null(e.s);
	ck_assert_uint_eq(e.len, 0);
	/* A size that would overflow is refused even without a max. */
	sbuf big = SBUF_INIT;
	ck_assert_int_eq(sbuf_reserve(&big, (size_t)-1), -1);
	ck_assert_ptr_null(big.s);
}
END_TEST

START_TEST(test_reset_detach_free)
{
	sbuf sb = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&sb, "hello world"), 0);
	char *keep = sb.s;
	size_t cap = sb.cap;
	sbuf_reset(&sb);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_str_eq(sb.s, "");
	ck_assert_ptr_eq(sb.s, keep);   /* memory kept */
	ck_assert_uint_eq(sb.cap, cap);
	ck_assert_int_eq(sbuf_puts(&sb, "again"), 0);
	ck_assert_str_eq(sb.s, "again");

	size_t len = 99;
	char *s = sbuf_detach(&sb, &len);
	ck_assert_str_eq(s, "again");
	ck_assert_uint_eq(len, 5);
	ck_assert_ptr_null(sb.s);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, 0);
	free(s);

	/* Detaching a never-used sbuf gives an empty string, not NULL. */
	len = 99;
	s = sbuf_detach(&sb, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	sbuf_reset(&sb);   /* reset of an empty sbuf is harmless */
	ck_assert_ptr_null(sb.s);

	ck_assert_int_eq(sbuf_puts(&sb, "x"), 0);
	s = sbuf_detach(&sb, NULL);
	ck_assert_str_eq(s, "x");
	free(s);

	ck_assert_int_eq(sbuf_puts(&sb, "temp"), 0);
	sbuf_free(&sb);
	ck_assert_ptr_null(sb.s);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, 0);
	sbuf_free(&sb);    /* twice is fine */
	ck_assert_int_eq(sbuf_puts(&sb, "reuse"), 0);
	ck_assert_str_eq(sb.s, "reuse");
	sbuf_free(&sb);
}
END_TEST

static const struct {
	const char *name, *in;
	size_t n;
	const char *out;
} json_cases[] = {
	{ "empty", "", 0, "\"\"" },
	{ "plain", "plain text", 10, "\"plain text\"" },
	{ "quotes", "say \"hi\"", 8, "\"say \\\"hi\\\"\"" },
	{ "backslash", "C:\\dir\\", 7, "\"C:\\\\dir\\\\\"" },
	{ "newline", "l1\nl2\n", 6, "\"l1\\nl2\\n\"" },
	{ "cr tab", "a\r\tb", 4, "\"a\\r\\tb\"" },
	{ "control", "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
	{ "esc", "\x1b[0m", 4, "\"\\u001b[0m\"" },
	{ "nul", "a\0b", 3, "\"a\\u0000b\"" },
	{ "utf8", "caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80", 14,
	  "\"caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80\"" },
	{ "slash kept", "</p>", 4, "\"</p>\"" },
	{ "length counts", "abcdef", 3, "\"abc\"" },
};

START_TEST(test_json)
{
	sbuf sb = SBUF_INIT;
	ck_assert_int_eq(sbuf_json(&sb, json_cases[_i].in, json_cases[_i].n), 0);
	ck_assert_msg(!strcmp(sb.s, json_cases[_i].out), "%s: got [%s] want [%s]",
		      json_cases[_i].name, sb.s, json_cases[_i].out);
	ck_assert_uint_eq(sb.len, strlen(json_cases[_i].out));
	sbuf_free(&sb);
}
END_TEST

START_TEST(test_json_appends)
{
	sbuf sb = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&sb, "{\"k\":"), 0);
	ck_assert_int_eq(sbuf_json(&sb, "v\"1", 3), 0);
	ck_assert_int_eq(sbuf_putc(&sb, '}'), 0);
	ck_assert_str_eq(sb.s, "{\"k\":\"v\\\"1\"}");
	sbuf_free(&sb);

	sb.max = 4;
	ck_assert_int_eq(sbuf_json(&sb, "toolong", 7), -1);
	ck_assert_uint_le(sb.len, 4);
	sbuf_free(&sb);
}
END_TEST

static Suite *sbuf_suite(void)
{
	Suite *s = suite_create("sbuf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_append_puts_putc);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_max);
	tcase_add_test(tc, test_reset_detach_free);
	tcase_add_loop_test(tc, test_json, 0, sizeof json_cases / sizeof json_cases[0]);
	tcase_add_test(tc, test_json_appends);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sbuf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
