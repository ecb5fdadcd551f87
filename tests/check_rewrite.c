/* check_rewrite — the suggested rewrite, the rewrite action's safe fixes,
 * the policy's templates and the notices composed from them
 * (src/rewrite.c, src/template.c, src/notice.c). */
#include "config.h"
#include "testutil.h"
#include "bodyedit.h"
#include "notice.h"
#include "rewrite.h"
#include "template.h"

#define NROWS(a) (int)(sizeof a / sizeof a[0])
#define STR(sb) ((sb).s ? (sb).s : "")

static tg_policy *pol;

/* ---- first names --------------------------------------------------------- */

static const struct { const char *display, *first; } names[] = {
	{ "Maria Lopez", "Maria" }, { "Lopez, Maria", "Maria" }, { "\"Maria Lopez\"", "Maria" },
	{ "MARIA LOPEZ", "Maria" }, { "maria", "Maria" }, { "Dr. Maria Lopez", "Maria" },
	{ "Jean-Luc Picard", "Jean-Luc" }, { "O'Brien", "O'Brien" }, { "Zoë Kravitz", "Zoë" },
	{ "José", "José" }, { "Support Team", "" }, { "maria@example.net", "" }, { "J. Smith", "" },
	{ "R2D2", "" }, { "", "" }, { "  ", "" }, { "The Customer", "" }, { "Mr.", "" },
};

START_TEST(test_first_name)
{
	char out[64];
	size_t n = rewrite_first_name(names[_i].display, out, sizeof out);
	ck_assert_msg(strcmp(out, names[_i].first) == 0, "[%s] -> [%s], want [%s]", names[_i].display, out,
		      names[_i].first);
	ck_assert_uint_eq(n, strlen(names[_i].first));
}
END_TEST

START_TEST(test_first_name_null)
{
	char out[8] = "x";
	ck_assert_uint_eq(rewrite_first_name(NULL, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(rewrite_first_name("Maximiliano", out, sizeof out), 0);  /* does not fit */
}
END_TEST

/* ---- templates ----------------------------------------------------------- */

START_TEST(test_template)
{
	static const char *const known[] = {"first_name", "id", NULL};
	char bad[32];
	ck_assert_int_eq(template_check("Hi {first_name}, {id} {} {Not} {x y}", known, bad, sizeof bad), 0);
	ck_assert_int_eq(template_check("Hi {frist_name},", known, bad, sizeof bad), -1);
	ck_assert_str_eq(bad, "{frist_name}");
	sbuf o = SBUF_INIT;
	tg_var v[] = {{"first_name", "Maria"}, {"id", NULL}};
	ck_assert_int_eq(template_expand(&o, "Hi {first_name},{id} {x} {first_name}", v, 2), 0);
	ck_assert_str_eq(STR(o), "Hi Maria, {x} Maria");
	sbuf_free(&o);
}
END_TEST

/* ---- the suggested rewrite ----------------------------------------------- */

#define HDR(to) "From: Jamey Fox <agent@acme.example>\r\nTo: " to "\r\nSubject: Re: refund\r\n" \
	"Message-ID: <orig-1@acme.example>\r\n\r\n"

static const struct {
	const char *name, *msg, *want;
} suggests[] = {
	{ "the canonical curt reply", HDR("Maria Lopez <maria@example.net>") "Nope. Can't work that out this time.\r\n",
	  "Hi Maria,\n\nI understand how frustrating this must be, and I'm here to help.\n\n"
	  "I'm sorry, but we can't work that out this time. [Say why, and what you can do instead.]\n\n"
	  "Please let me know if this solves it, or if there is anything else I can do.\n\n"
	  "Best regards,\nJamey Fox\n" },
	{ "a bare no, no name", HDR("maria@example.net") "No.\r\n",
	  "Hello,\n\nI understand how frustrating this must be, and I'm here to help.\n\n"
	  "I'm sorry, but we can't do that. [Say why, and what you can do instead.]\n\n"
	  "Please let me know if this solves it, or if there is anything else I can do.\n\n"
	  "Best regards,\nJamey Fox\n" },
	{ "false empathy swapped", HDR("Maria Lopez <maria@example.net>")
	  "Hi Maria,\r\n\r\nI know how you feel. I'm sorry the order arrived late; a new delivery date "
	  "of Thursday is confirmed.\r\n\r\nLet me know if Thursday doesn't suit you.\r\n\r\nBest,\r\nJamey\r\n",
	  "Hi Maria,\n\nI can imagine how frustrating that is. I'm sorry the order arrived late; a new "
	  "delivery date of Thursday is confirmed.\n\nLet me know if Thursday doesn't suit you.\n\nBest,\n" },
	{ "a courteous reply is kept", HDR("Maria Lopez <maria@example.net>")
	  "Hi Maria,\r\n\r\nThanks for your patience. Your refund was issued today and should reach your "
	  "card within five days.\r\n\r\nLet me know if it hasn't arrived by Friday.\r\n\r\nBest regards,\r\nJamey\r\n",
	  "Hi Maria,\n\nThanks for your patience. Your refund was issued today and should reach your card "
	  "within five days.\n\nLet me know if it hasn't arrived by Friday.\n\nBest regards,\n" },
};

static void judge_str(const char *msg, tg_judgement *j)
{
	tu_judge(pol, msg, j);
	ck_assert_int_eq(j->status, TG_OK);
	ck_assert(j->in_scope);
}

START_TEST(test_suggest)
{
	tg_judgement j;
	judge_str(suggests[_i].msg, &j);
	sbuf o = SBUF_INIT;
	ck_assert_int_eq(rewrite_suggest(&j, &o), 0);
	ck_assert_msg(strcmp(STR(o), suggests[_i].want) == 0, "%s:\n[%s]\nwant\n[%s]", suggests[_i].name,
		      STR(o), suggests[_i].want);
	sbuf_free(&o);
	judge_free(&j);
}
END_TEST

START_TEST(test_shouting)
{
	tg_judgement j;
	judge_str(HDR("Maria Lopez <maria@example.net>") "Hi Maria,\r\n\r\nYOUR ORDER HAS ALREADY SHIPPED "
		  "AND I CANNOT CHANGE THE ADDRESS NOW!!! Tracking is 1Z999.\r\n\r\nThanks,\r\nJamey\r\n", &j);
	sbuf o = SBUF_INIT;
	ck_assert_int_eq(rewrite_suggest(&j, &o), 0);
	ck_assert_msg(strstr(STR(o), "Your order has already shipped and I cannot change the address now!"),
		      "[%s]", STR(o));
	ck_assert_msg(strstr(STR(o), "Tracking is 1Z999."), "[%s]", STR(o));
	sbuf_free(&o);
	judge_free(&j);
}
END_TEST

/* ---- safe fixes ---------------------------------------------------------- */

static const struct {
	const char *name, *msg, *head, *tail, *what;
	int n;
} fixes[] = {
	{ "greeting and closing", HDR("Maria Lopez <maria@example.net>")
	  "Your replacement charger shipped this morning and should arrive on Wednesday.\r\n"
	  "Let me know if it doesn't turn up.\r\n",
	  "Hi Maria,\n\n", "\nBest regards,\nJamey Fox\n", "a greeting and a closing", 2 },
	{ "follow-up above a sign-off", HDR("Maria Lopez <maria@example.net>")
	  "Hi Maria,\r\n\r\nYour replacement charger shipped this morning by express courier and should "
	  "arrive at your office on Wednesday before noon, with tracking in the app.\r\n\r\nBest regards,\r\nJamey\r\n",
	  "", "\nPlease let me know if this solves it, or if there is anything else I can do.\n",
	  "an offer to follow up", 1 },
	{ "nothing safe to fix", HDR("Maria Lopez <maria@example.net>")
	  "Hi Maria,\r\n\r\nI know how you feel. Your refund is on its way.\r\n\r\nLet me know if it "
	  "doesn't arrive.\r\n\r\nBest regards,\r\nJamey\r\n", "", "", "", 0 },
};

START_TEST(test_safe_fixes)
{
	tg_judgement j;
	judge_str(fixes[_i].msg, &j);
	sbuf h = SBUF_INIT, t = SBUF_INIT, w = SBUF_INIT;
	ck_assert_int_eq(rewrite_safe_fixes(&j, &h, &t, &w), fixes[_i].n);
	ck_assert_msg(!strcmp(STR(h), fixes[_i].head), "%s: head [%s]", fixes[_i].name, STR(h));
	ck_assert_msg(!strcmp(STR(t), fixes[_i].tail), "%s: tail [%s]", fixes[_i].name, STR(t));
	ck_assert_msg(!strcmp(STR(w), fixes[_i].what), "%s: what [%s]", fixes[_i].name, STR(w));
	sbuf_free(&h);
	sbuf_free(&t);
	sbuf_free(&w);
	judge_free(&j);
}
END_TEST

/* The safe fixes as the rewrite action writes them into the message. */
START_TEST(test_safe_fixes_in_body)
{
	const char *msg = fixes[1].msg;
	tg_judgement j;
	judge_str(msg, &j);
	sbuf h = SBUF_INIT, t = SBUF_INIT, w = SBUF_INIT, body = SBUF_INIT;
	ck_assert_int_eq(rewrite_safe_fixes(&j, &h, &t, &w), 1);
	tg_edit e = {h.len ? h.s : NULL, t.len ? t.s : NULL};
	ck_assert_int_eq(bodyedit_apply(&pol->limits, msg, strlen(msg), &e, &body), TG_EDIT_OK);
	ck_assert_msg(strstr(STR(body), "in the app.\r\n\r\nPlease let me know if this solves it, or if there "
			     "is anything else I can do.\r\n\r\nBest regards,\r\nJamey\r\n"), "[%s]", STR(body));
	sbuf_free(&h);
	sbuf_free(&t);
	sbuf_free(&w);
	sbuf_free(&body);
	judge_free(&j);
}
END_TEST

/* ---- notices ------------------------------------------------------------- */

static void compose(const char *msg, tg_action action, const char *agent, sbuf *out)
{
	tg_judgement j;
	judge_str(msg, &j);
	const char *rcpts[] = {"maria@example.net"};
	tg_notice_facts f = {"4XyZ1abc", 1795000000, agent, rcpts, 1, action, NULL,
			     "tonegate@relay.example", "relay.example"};
	ck_assert_int_eq(notice_compose(&j, &f, out), 0);
	judge_free(&j);
}

/* The header block of a composed notice, and each field name in it. */
static size_t header_names(const char *m, char field[][64], size_t max)
{
	const char *end = strstr(m, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	size_t n = 0;
	for (const char *l = m; l < end && n < max; l = strstr(l, "\r\n") + 2) {
		ck_assert_msg(strstr(l, "\r\n") != NULL, "unterminated header line");
		if (*l == ' ' || *l == '\t')
			continue;  /* a folded line */
		const char *colon = strchr(l, ':');
		ck_assert_msg(colon && colon < strstr(l, "\r\n"), "a header line without a name: %.40s", l);
		snprintf(field[n++], 64, "%.*s", (int)(colon - l), l);
	}
	return n;
}

START_TEST(test_notice_hold)
{
	sbuf o = SBUF_INIT;
	compose(HDR("Maria Lopez <maria@example.net>") "Nope. Can't work that out this time.\r\n", TG_HOLD,
		"agent@acme.example", &o);
	const char *m = STR(o);
	static const char *const want[] = {"To: agent@acme.example\r\n", "Auto-Submitted: auto-generated\r\n",
		"In-Reply-To: <orig-1@acme.example>\r\n", "References: <orig-1@acme.example>\r\n",
		"Subject: Held: your reply to maria@example.net (Re: refund)\r\n",
		TG_NOTICE_HEADER ": hold 4XyZ1abc\r\n", "Held as:  4XyZ1abc\r\n",
		"1. greeting (line 1): \"Nope.\"", "curt (line 1): \"Nope.\"\r\n     A curt reply",
		"I'm sorry, but we can't work that out this time. [Say why", "tonegatectl release 4XyZ1abc\r\n",
		"From: tonegate <tonegate@relay.example>\r\n"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(m, want[i]), "missing [%s] in\n%s", want[i], m);
	for (const char *p = m; (p = strchr(p, '\n')) != NULL; p++)
		ck_assert_msg(p[-1] == '\r', "a bare LF in the notice");
	sbuf_free(&o);
}
END_TEST

START_TEST(test_notice_suggest)
{
	sbuf o = SBUF_INIT;
	compose(HDR("Maria Lopez <maria@example.net>") "Your replacement charger shipped this morning and "
		"should arrive on Wednesday.\r\nLet me know if it doesn't turn up.\r\n", TG_SUGGEST,
		"agent@acme.example", &o);
	ck_assert_msg(strstr(STR(o), "Subject: Tip: your reply to maria@example.net (Re: refund)\r\n"), "%s", STR(o));
	ck_assert_msg(strstr(STR(o), "has been delivered."), "%s", STR(o));
	ck_assert_msg(!strstr(STR(o), "tonegatectl"), "%s", STR(o));
	sbuf_free(&o);
}
END_TEST

/* Values from the message never add a header: CR/LF in a display name or
 * an encoded subject, a Message-ID with a header in it. */
static const char *const injections[] = {
	"From: agent@acme.example\r\nTo: \"Maria\r\nBcc: evil@x.example\" <maria@example.net>\r\n"
	"Subject: =?UTF-8?B?UmU6IHJlZnVuZA0KQmNjOiBldmlsQHguZXhhbXBsZQ==?=\r\n"
	"Message-ID: <a@b>\r\n\r\nNope. Can't work that out this time.\r\n",
	"From: agent@acme.example\r\nTo: maria@example.net\r\n"
	"Subject: =?UTF-8?Q?Re=3A_x=0D=0ABcc=3A_evil=40x.example=0D=0A=0D=0Abody?=\r\n"
	"Message-ID: <a@b>=?UTF-8?Q?=0D=0ABcc:_evil@x.example?=\r\n\r\nNope. Can't work that out this time.\r\n",
};

START_TEST(test_notice_injection)
{
	sbuf o = SBUF_INIT;
	compose(injections[_i], TG_HOLD, "agent@acme.example", &o);
	char field[32][64];
	size_t n = header_names(STR(o), field, 32);
	static const char *const allowed[] = {"From", "To", "Date", "Subject", "Message-ID", "In-Reply-To",
		"References", "Auto-Submitted", TG_NOTICE_HEADER, "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", NULL};
	for (size_t i = 0; i < n; i++) {
		int ok = 0;
		for (size_t k = 0; allowed[k]; k++)
			ok |= strcmp(field[i], allowed[k]) == 0;
		ck_assert_msg(ok, "an injected header [%s] in\n%s", field[i], STR(o));
	}
	ck_assert_msg(!strstr(STR(o), "\r\nBcc:"), "%s", STR(o));
	sbuf_free(&o);
}
END_TEST

START_TEST(test_notice_utf8_subject)
{
	sbuf o = SBUF_INIT;
	compose("From: agent@acme.example\r\nTo: =?UTF-8?Q?Jos=C3=A9?= <jose@example.net>\r\n"
		"Subject: =?UTF-8?Q?Reembolso_de_se=C3=B1al?=\r\n\r\nNope. Can't work that out this time.\r\n",
		TG_HOLD, "agent@acme.example", &o);
	ck_assert_msg(strstr(STR(o), "Subject: =?UTF-8?B?"), "%s", STR(o));
	ck_assert_msg(strstr(STR(o), "Hi José,"), "%s", STR(o));
	sbuf_free(&o);
}
END_TEST

static Suite *rewrite_suite(void)
{
	Suite *s = suite_create("rewrite");
	TCase *tc = tcase_create("rewrite");
	tcase_add_loop_test(tc, test_first_name, 0, NROWS(names));
	tcase_add_test(tc, test_first_name_null);
	tcase_add_test(tc, test_template);
	tcase_add_loop_test(tc, test_suggest, 0, NROWS(suggests));
	tcase_add_test(tc, test_shouting);
	tcase_add_loop_test(tc, test_safe_fixes, 0, NROWS(fixes));
	tcase_add_test(tc, test_safe_fixes_in_body);
	suite_add_tcase(s, tc);
	TCase *tn = tcase_create("notice");
	tcase_add_test(tn, test_notice_hold);
	tcase_add_test(tn, test_notice_suggest);
	tcase_add_loop_test(tn, test_notice_injection, 0, NROWS(injections));
	tcase_add_test(tn, test_notice_utf8_subject);
	suite_add_tcase(s, tn);
	return s;
}

int main(void)
{
	judge_init();
	pol = tu_policy();
	SRunner *sr = srunner_create(rewrite_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	policy_unref(pol);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
