/*
 * check_engine — the whole pipeline on small messages: verdicts and findings
 * for the seeds' cases, excerpts and lines, rule sets, scope and limits.
 */
#include "config.h"
#include "testutil.h"

#define HDR "From: Raj <raj@acme.example>\nTo: \"Maria Lopez\" <maria@example.net>\nSubject: Re: help\n"
/* A policy with only the curt rule, for tests about scope. */
#define CURT_ONLY "rules = { greeting = { enabled = false; }; closing = { enabled = false; };" \
	"curt = { refusals = [ \"nope\" ]; }; empathy = { enabled = false; };" \
	"false-empathy = { enabled = false; }; over-apology = { enabled = false; };" \
	"dismissive = { enabled = false; }; follow-up = { enabled = false; }; };"
#define PLAIN HDR "Content-Type: text/plain; charset=utf-8\n\n"

static const struct verdict_case {
	const char *name, *msg, *action, *rules;
} cases[] = {
	{"canonical curt", PLAIN "Nope. Can't work that out this time.\n", "hold",
	 "greeting closing curt empathy follow-up"},
	{"courteous", PLAIN "Hi Maria,\n\nI'm sorry the export failed. I've re-run it and the file is attached. "
	 "Let me know if it looks right.\n\nBest regards,\nRaj\n", "pass", ""},
	{"name as greeting", PLAIN "Maria,\n\nI'm sorry for the wait. Your order ships today. Let me know "
	 "if it doesn't arrive.\n\nBest,\nRaj\n", "pass", ""},
	{"short warm", PLAIN "Hi Lena,\n\nThanks so much, I'm glad that worked! Let me know if anything else "
	 "comes up.\n\nBest,\nRaj\n", "pass", ""},
	{"ticket closed", PLAIN "Ticket closed.\n", "hold", "greeting closing curt empathy follow-up"},
	{"false empathy", PLAIN "Hi Maria,\n\nI know how you feel. The refund is on its way. Let me know if "
	 "it arrives.\n\nBest,\nRaj\n", "hold", "false-empathy"},
	{"dismissive", PLAIN "Hi Maria,\n\nAs I already said, the button is on the left. Let me know if you "
	 "find it.\n\nBest,\nRaj\n", "hold", "empathy dismissive"},
	{"mild dismissive", PLAIN "Hi Maria,\n\nI'm sorry for the confusion. Obviously the button is on the "
	 "left. Let me know if you find it.\n\nBest,\nRaj\n", "suggest", "dismissive"},
	/* the hard dismissive phrases that also have kind uses: the kind use
	 * passes, the order or the blame holds */
#define KIND(mid) PLAIN "Hi Maria,\n\nI'm sorry about the trouble. " mid " Let me know if anything " \
	"else comes up.\n\nBest,\nRaj\n"
	{"calm down: the weather", KIND("Flights resume once the winds calm down; you're on the 9:10."),
	 "pass", ""},
	{"calm down: an order", KIND("Please calm down, the refund is on its way."), "hold", "dismissive"},
	{"calm down: a sentence's start", KIND("Calm down, the refund is on its way."), "hold", "dismissive"},
	{"user error: denied", KIND("This wasn't user error at all; it was a bug we've fixed."), "pass", ""},
	{"user error: blamed", KIND("The crash was caused by user error on your side."), "hold", "dismissive"},
	{"the manual: not needed", KIND("You don't need to read the manual; the guide is attached."), "pass", ""},
	{"the manual: an order", KIND("You should read the manual before writing to us."), "hold", "dismissive"},
	{"told you: on the phone", KIND("As I told you on the phone, the fee is waived."), "suggest", "dismissive"},
	{"told you: before", KIND("As I told you before, the fee stands."), "hold", "dismissive"},
	{"no big deal: reassuring", KIND("No big deal at all: I've corrected the address for you."), "suggest",
	 "dismissive"},
	{"not responsible, with an alternative", KIND("While we're not responsible for customs delays, I've "
	 "asked the carrier to speed it up."), "suggest", "dismissive"},
	{"agreeing: works for me", KIND("Tuesday at 3pm works for me; I'll call you then."), "pass", ""},
	{"it works fine for me", KIND("I tried the link and it works fine for me."), "suggest", "dismissive"},
	/* "nope" answering a question is not a refusal; alone, or before one, it is */
	{"nope, no need to", PLAIN "Hi Maria,\n\nNope, no need to reinstall - just log out and back in and the "
	 "new features appear.\n\nHave a great day,\nRaj\n", "pass", "follow-up"},
	{"but nope", PLAIN "Hi Maria,\n\nThanks for asking, but nope.\n\nRaj\n", "hold", "curt empathy follow-up"},
	{"nope, can't do", PLAIN "Nope, can't do Saturday on that lane.\n\nRaj\n", "hold",
	 "greeting closing curt empathy follow-up"},
	{"unable to help", PLAIN "Hi Maria,\n\nUnable to help with that one.\n\nRaj\n", "hold",
	 "closing curt empathy follow-up"},
	/* a help desk's thread: the customer's older comment is history, not the reply */
	{"help-desk thread", PLAIN "##- Please type your reply above this line -##\n\nYour request (4821) has "
	 "been updated. To add additional comments, reply to this email.\n---------------------------------\n\n"
	 "Raj (Acme)\n\nNov 24, 2026, 10:02 UTC\n\nHi Maria,\n\nI'm sorry for the wait. I've reset your "
	 "two-factor settings. Let me know if that works!\n\nBest,\nRaj\n\n"
	 "---------------------------------\n\nMaria Lopez\n\nNov 24, 2026, 09:40 UTC\n\nNope. Calm down? "
	 "I know how you feel is not an answer!!\n\n--------------------------------\nThis email is a "
	 "service from Acme. Delivered by Zendesk\n", "pass", ""},
#undef KIND
	{"right kind of no", PLAIN "Hi Maria,\n\nI'm sorry, but we can't refund this order because it was "
	 "used. What I can do instead is offer a replacement. Let me know.\n\nBest,\nRaj\n", "pass", ""},
	{"curly apostrophe and wrapped phrase", PLAIN "Hi Maria,\n\nI\xe2\x80\x99m\nsorry about the delay. "
	 "Your order ships today. Let me know if it doesn't arrive.\n\nBest,\nRaj\n", "pass", ""},
	{"shouting", PLAIN "Hi Maria,\n\nI'm sorry. PLEASE RESTART THE ROUTER BEFORE CALLING US AGAIN. Let me "
	 "know.\n\nBest,\nRaj\n", "suggest", "shouting"},
	{"peppering", PLAIN "Hi Maria,\nWhich browser? Which version? Did you clear the cache? Which page? "
	 "Any error?\nBest,\nRaj\n", "suggest", "empathy questions"},
	{"polite quote under a curt reply", PLAIN "Nope. Can't work that out this time.\n\nOn Mon, 3 Mar 2025 "
	 "at 10:02, Maria Lopez <maria@example.net> wrote:\n> Hi, I'm so sorry to bother you, I understand "
	 "if not, because of the rules. Let me know! Thanks so much, best regards\n", "hold",
	 "greeting closing curt empathy follow-up"},
	{"angry quote under a kind reply", PLAIN "Hi Maria,\n\nI'm sorry about the double charge; I've "
	 "refunded it. Let me know if you see it.\n\nBest,\nRaj\n\n> THIS IS RIDICULOUS!!! I know how you "
	 "feel is not an answer. Calm down yourself.\n", "pass", ""},
	{"noted, to a complaint", PLAIN "Noted, thanks.\n\nOn Mon, 3 Mar 2025 at 10:02, Maria Lopez "
	 "<maria@example.net> wrote:\n> This is unacceptable. I was charged twice and nobody answers.\n",
	 "hold", "greeting closing curt empathy follow-up"},
	{"noted, with nothing quoted", PLAIN "Noted, thanks.\n", "suggest", "greeting closing"},
	{"short fix to an upset customer, with an offer", PLAIN "Fixed, thanks! Let me know if it happens "
	 "again.\n\n> Still broken!!\n", "suggest", "greeting closing empathy"},
	{"caring words in a signature", PLAIN "Your order was delayed; it shipped today.\n\nBest,\nRaj\n-- \n"
	 "Acme Support: we're here for you, we understand!\n", "suggest", "greeting empathy"},
	{"information needs no sorry", PLAIN "Hi Maria,\n\nYour export is ready under Settings > Data. "
	 "It stays there for 7 days.\n\nBest,\nRaj\n", "pass", ""},
	{"a one-line confirmation is not held", PLAIN "Done - your plan is now annual. Thanks!\n", "pass",
	 "greeting"},
	{"html only", HDR "Content-Type: text/html; charset=utf-8\n\n<html><body><p>Nope.</p><p>Can't work "
	 "that out this time.</p><blockquote>I understand, thank you so much</blockquote></body></html>\n",
	 "hold", "greeting closing curt empathy follow-up"},
	{"auto-responder rules", HDR "Auto-Submitted: auto-replied\nContent-Type: text/plain\n\nThank you for "
	 "contacting Acme Support. We have received your request and an agent will reply within one "
	 "business day.\n", "pass", ""},
	{"unknown charset", HDR "Content-Type: text/plain; charset=x-klingon\n\nHi Maria,\n\nI'm sorry about "
	 "that; it is fixed now. Let me know if it happens again.\n\nBest,\nRaj\n", "pass", "charset"},
	{"windows-1252", HDR "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: "
	 "quoted-printable\n\nHi Maria,\n\nI=92m sorry about the delay. It ships today. Let me know if it "
	 "doesn=92t arrive.\n\nBest,\nRaj\n", "pass", ""},
	{"base64", HDR "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	 "Tm9wZS4gQ2FuJ3Qgd29yayB0aGF0IG91dCB0aGlzIHRpbWUuCg==\n", "hold",
	 "greeting closing curt empathy follow-up"},
};

START_TEST(verdicts)
{
	const struct verdict_case *c = &cases[_i];
	tg_policy *p = tu_policy();
	tg_judgement j;
	tu_judge(p, c->msg, &j);
	ck_assert_msg(j.status == TG_OK, "%s: status %s", c->name, tg_status_id(j.status));
	char got[256];
	tu_rules(&j.verdict, got, sizeof got);
	ck_assert_msg(strcmp(policy_action_name(j.verdict.action), c->action) == 0 && strcmp(got, c->rules) == 0,
		      "%s: got %s [%s] score %d, want %s [%s]", c->name, policy_action_name(j.verdict.action),
		      got, j.verdict.score, c->action, c->rules);
	judge_free(&j);
	policy_unref(p);
}
END_TEST

/* The customer's context is the start of the quoted history (the message
 * the reply answers): limits.max_context_size bytes of it, 4096 in the
 * default policy. "Still broken!!" makes the customer upset before 5 KB of
 * calm history, and is not read after it. */
START_TEST(context_is_the_start_of_the_history)
{
	tg_policy *p = tu_policy();
	ck_assert_uint_eq(p->limits.max_context_size, 4096);
	for (int upset_first = 0; upset_first < 2; upset_first++) {
		sbuf m = SBUF_INIT;
		int rc = sbuf_puts(&m, PLAIN "Fixed, thanks! Let me know if it happens again.\n\n");
		if (upset_first)
			rc |= sbuf_puts(&m, "> Still broken!!\n");
		for (int i = 0; i < 100; i++)  /* 5,300 bytes */
			rc |= sbuf_puts(&m, "> The parcel arrived on Tuesday and the box was fine.\n");
		if (!upset_first)
			rc |= sbuf_puts(&m, "> Still broken!!\n");
		ck_assert_int_eq(rc, 0);
		tg_judgement j;
		tu_judge(p, m.s, &j);
		char got[256];
		tu_rules(&j.verdict, got, sizeof got);
		ck_assert_msg(strcmp(got, upset_first ? "greeting closing empathy" : "greeting closing") == 0,
			      "upset %s the context: [%s]", upset_first ? "in" : "past", got);
		/* about 4096 / 5.3 bytes a word, not the 1,000 quoted */
		ck_assert_msg(j.customer_words > 600 && j.customer_words < 850, "%zu words", j.customer_words);
		judge_free(&j);
		sbuf_free(&m);
	}
	policy_unref(p);
}
END_TEST

static const tg_finding *finding(const tg_verdict *v, tg_rule_id r)
{
	for (size_t i = 0; i < v->nf; i++)
		if (v->f[i].rule == r)
			return &v->f[i];
	return NULL;
}

START_TEST(excerpt_is_the_sentence_as_written)
{
	tg_policy *p = tu_policy();
	tg_judgement j;
	tu_judge(p, PLAIN "Hi Maria,\n\nThe export is done.\nI know how you feel\xe2\x80\x94it\xe2\x80\x99s slow.\n", &j);
	const tg_finding *f = finding(&j.verdict, R_FALSE_EMPATHY);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, 4);
	ck_assert_int_eq(f->ex_len, (int)strlen("I know how you feel\xe2\x80\x94it\xe2\x80\x99s slow."));
	ck_assert(memcmp(j.reply.agent + f->ex_off, "I know how you feel\xe2\x80\x94it\xe2\x80\x99s slow.", f->ex_len) == 0);
	f = finding(&j.verdict, R_GREETING);
	ck_assert_ptr_null(f);
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(customer_name_from_encoded_to)
{
	tg_policy *p = tu_policy();
	tg_judgement j;
	tu_judge(p, "From: a@acme.example\nTo: =?UTF-8?Q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.es>\n\nHola Jos\xc3\xa9,\n", &j);
	ck_assert_str_eq(j.mail.customer, "Jos\xc3\xa9 N\xc3\xba\xc3\xb1" "ez");
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(statuses_for_unjudgeable_input)
{
	tg_policy *p = tu_policy();
	tg_judgement j;
	tu_judge(p, "this is not an email at all, just text\n", &j);
	ck_assert_int_eq(j.status, TG_PARSE_ERROR);
	judge_free(&j);
	tu_judge(p, HDR "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n", &j);
	ck_assert_int_eq(j.status, TG_NO_TEXT);
	judge_free(&j);
	/* 30 nested multiparts: refused before libetpan recurses into them */
	sbuf m = SBUF_INIT;
	sbuf_puts(&m, HDR);
	for (int d = 0; d < 30; d++)
		sbuf_printf(&m, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", d, d);
	sbuf_puts(&m, "Content-Type: text/plain\n\nNope.\n");
	tu_judge(p, m.s, &j);
	ck_assert_int_eq(j.status, TG_TOO_DEEP);
	judge_free(&j);
	sbuf_free(&m);
	/* larger than max_message_size */
	sbuf_puts(&m, PLAIN);
	while (m.len <= p->limits.max_message_size)
		sbuf_puts(&m, "Hello there, this line pads the message past the limit.\n");
	tu_judge(p, m.s, &j);
	ck_assert_int_eq(j.status, TG_TOO_BIG);
	judge_free(&j);
	sbuf_free(&m);
	policy_unref(p);
}
END_TEST

START_TEST(out_of_scope_is_not_judged)
{
	char err[512];
	tg_policy *def = tu_policy(), *p;
	/* the default rules with a scope that gates only help@acme.example */
	sbuf text = SBUF_INIT;
	char path[4096];
	ck_assert_int_eq(tu_read(tu_path("conf/policy.conf", path, sizeof path), &text), 0);
	char *scope = strstr(text.s, "senders = [ ];");
	ck_assert_ptr_nonnull(scope);
	memcpy(scope, "senders = [\"\"];", 15);  /* same length; an entry with no '@' */
	p = policy_load_string(text.s, "t.conf", err, sizeof err);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, "neither an address nor an @domain"));
	sbuf_free(&text);

	p = policy_load_string(CURT_ONLY
		"scope = { senders = [ \"help@acme.example\" ]; };", "t.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	tg_judgement j;
	tu_judge(p, "From: raj@acme.example\nTo: m@example.net\n\nNope.\n", &j);
	ck_assert_int_eq(j.in_scope, 0);
	judge_free(&j);
	tu_judge(p, "From: Help <help@acme.example>\nTo: m@example.net\n\nNope.\n", &j);
	ck_assert_int_eq(j.in_scope, 1);
	ck_assert_int_eq(j.verdict.action, TG_HOLD);
	judge_free(&j);
	policy_unref(p);
	policy_unref(def);
}
END_TEST

START_TEST(scope_uses_every_to_and_cc_address)
{
	char err[512];
	tg_policy *p = policy_load_string(CURT_ONLY
		"scope = { skip_recipient_domains = [ \"acme.example\" ]; };", "t.conf", err, sizeof err);
	ck_assert_msg(p != NULL, "%s", err);
	tg_judgement j;
	tu_judge(p, "From: raj@acme.example\nTo: Bob <bob@acme.example>, ann@acme.example\n\nNope.\n", &j);
	ck_assert_int_eq(j.in_scope, 0);
	ck_assert_uint_eq(j.mail.nrcpt, 2);
	judge_free(&j);
	tu_judge(p, "From: raj@acme.example\nTo: bob@acme.example\nCc: \"Maria\" <maria@example.net>\n\nNope.\n", &j);
	ck_assert_int_eq(j.in_scope, 1);
	ck_assert_str_eq(j.mail.from, "raj@acme.example");
	ck_assert_str_eq(j.mail.customer, "Maria");
	judge_free(&j);
	policy_unref(p);
}
END_TEST

START_TEST(thresholds_map_scores)
{
	tg_policy *p = tu_policy();
	const tg_ruleset *rs = &p->set[0];
	ck_assert_int_eq(engine_action_for(rs, 0), TG_PASS);
	ck_assert_int_eq(engine_action_for(rs, 2), TG_PASS);
	ck_assert_int_eq(engine_action_for(rs, 3), TG_SUGGEST);
	ck_assert_int_eq(engine_action_for(rs, 7), TG_SUGGEST);
	ck_assert_int_eq(engine_action_for(rs, 15), TG_SUGGEST);
	ck_assert_int_eq(engine_action_for(rs, 16), TG_HOLD);
	ck_assert_int_eq(engine_action_for(rs, 1000), TG_HOLD);  /* reject is off */
	policy_unref(p);
}
END_TEST

int main(void)
{
	judge_init();
	policy_unref(tu_policy());  /* load it once, before the tests fork */
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("judge");
	tcase_add_loop_test(tc, verdicts, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, context_is_the_start_of_the_history);
	tcase_add_test(tc, excerpt_is_the_sentence_as_written);
	tcase_add_test(tc, customer_name_from_encoded_to);
	tcase_add_test(tc, statuses_for_unjudgeable_input);
	tcase_add_test(tc, out_of_scope_is_not_judged);
	tcase_add_test(tc, scope_uses_every_to_and_cc_address);
	tcase_add_test(tc, thresholds_map_scores);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
