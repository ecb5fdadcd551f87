/*
 * check_settings — the daemon configuration: defaults, the shipped file,
 * every key documented in conf/tonegate.conf and tonegate.conf(5), and bad
 * files refused with "file:line: message".
 */
#include "config.h"
#include "settings.h"
#include "testutil.h"

START_TEST(defaults)
{
	char err[512];
	tg_settings *s = settings_load_string("", "t.conf", err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_str_eq(s->socket, "unix:/run/tonegate/tonegate.sock");
	ck_assert_int_eq(s->on_error, TG_ONERR_ACCEPT);
	ck_assert_int_eq(s->on_oversize, TG_BIG_PASS);
	ck_assert_uint_eq(s->socket_mode, 0660);
	ck_assert_uint_eq(s->max_message_size, 10485760);
	ck_assert_str_eq(s->header_name, "X-Tonegate");
	ck_assert_int_eq(s->pass_header, 1);
	settings_free(s);
}
END_TEST

START_TEST(shipped_file_loads_and_documents_every_key)
{
	char p[4096], err[512];
	tg_settings *s = settings_load(tu_path("conf/tonegate.conf", p, sizeof p), err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_str_eq(s->user, "tonegate");
	settings_free(s);
	sbuf conf = SBUF_INIT, man = SBUF_INIT;
	ck_assert_int_eq(file_read(tu_path("conf/tonegate.conf", p, sizeof p), &conf), 0);
	ck_assert_int_eq(file_read(tu_path("man/tonegate.conf.5", p, sizeof p), &man), 0);
	for (const char *const *k = settings_keys(); *k; k++) {
		char want[128];
		snprintf(want, sizeof want, "\n%s = ", *k);
		ck_assert_msg(strstr(conf.s, want) != NULL, "conf/tonegate.conf does not show key %s", *k);
		snprintf(want, sizeof want, ".B %s\n", *k);
		char alt[128];
		snprintf(alt, sizeof alt, ".BR %s ", *k);
		ck_assert_msg(strstr(man.s, want) || strstr(man.s, alt), "tonegate.conf(5) does not document %s", *k);
	}
	sbuf_free(&conf);
	sbuf_free(&man);
}
END_TEST

static const struct { const char *text, *want; } bad[] = {
	{"socket = 5;\n", "t.conf:1: socket must be a string in double quotes"},
	{"\nsoket = \"x\";\n", "t.conf:2: unknown key \"soket\""},
	{"on_error = \"drop\";\n", "t.conf:1: on_error = \"drop\": use accept or tempfail"},
	{"max_message_size = 10;\n", "t.conf:1: max_message_size = 10 is out of range: use 4096 to"},
	{"socket_mode = \"999\";\n", "t.conf:1: socket_mode = 999: use an octal mode"},
	{"socket_mode = 0660;\n", "t.conf:1: socket_mode must be an octal mode in double quotes"},
	{"log = \"file\";\n", "t.conf:1: log = \"file\": use syslog or stderr"},
	{"log_facility = \"kern\";\n", "t.conf:1: log_facility = \"kern\": use mail"},
	{"pass_header = 1;\n", "t.conf:1: pass_header must be true or false"},
	{"header_name = \"\";\n", "t.conf:1: header_name must not be empty"},
	{"socket = \"tcp:25\";\n", "t.conf:1: socket = \"tcp:25\": use unix:/path or inet:port@host"},
	{"timeout = 30\n  bogus", "t.conf:2: syntax error"},
};

START_TEST(bad_files_refused)
{
	char err[512];
	tg_settings *s = settings_load_string(bad[_i].text, "t.conf", err, sizeof err);
	ck_assert_msg(s == NULL, "case %d loaded", _i);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "case %d: got \"%s\", want \"%s\"", _i, err, bad[_i].want);
}
END_TEST

START_TEST(missing_file)
{
	char err[512];
	ck_assert_ptr_null(settings_load("/nonexistent/tonegate.conf", err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/tonegate.conf: cannot read the configuration file: No such file or directory"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, shipped_file_loads_and_documents_every_key);
	tcase_add_loop_test(tc, bad_files_refused, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
