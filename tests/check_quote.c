/* check_quote — unit tests for splitting a reply into the agent's words,
 * quoted history and signature (src/quote.c). */
#include "config.h"
#include <check.h>
#include "quote.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR(sb) ((sb).s ? (sb).s : "")

static const struct {
	const char *name, *text;
	const char *agent;       /* exact */
	const char *quoted;      /* exact; NULL: not checked */
	const char *sig_has;     /* must occur in signature; NULL: not checked */
	unsigned signoff;
} cases[] = {
	{ "no history", "Hi Maria,\n\nYour order shipped today.\n",
	  "Hi Maria,\n\nYour order shipped today.\n", "", NULL, 0 },
	{ "> lines between answers", "Sure.\n> old line\n>> older\nMore text here.\n",
	  "Sure.\nMore text here.\n", "old line\nolder\n", NULL, 0 },
	{ "on wrote", "Your refund is on its way.\n\nOn Mon, 3 Mar 2025 at 10:02, "
	  "Maria Lopez <maria@example.net> wrote:\nWhere is my refund?\n",
	  "Your refund is on its way.\n", "On Mon, 3 Mar 2025 at 10:02, Maria Lopez "
	  "<maria@example.net> wrote:\nWhere is my refund?\n", NULL, 0 },
	{ "on wrote, > quote", "Your refund is on its way.\n\nOn Mon, 3 Mar 2025 at "
	  "10:02, Maria Lopez <maria@example.net> wrote:\n> Where is my refund?\n> Maria\n",
	  "Your refund is on its way.\n", NULL, NULL, 0 },
	{ "attribution wrapped", "Your refund is on its way.\n\nOn Mon, 3 Mar 2025 at "
	  "10:02, Maria Lopez\n<maria@example.net> wrote:\n\nWhere is my refund?\n",
	  "Your refund is on its way.\n", "On Mon, 3 Mar 2025 at 10:02, Maria Lopez\n"
	  "<maria@example.net> wrote:\n\nWhere is my refund?\n", NULL, 0 },
	{ "attribution wrapped, > quote", "Done.\n\nOn Mon, 3 Mar 2025 at 10:02, Maria "
	  "Lopez\n<maria@example.net> wrote:\n> Where is my refund?\n", "Done.\n", NULL, NULL, 0 },
	{ "french", "C'est fait.\n\nLe lun. 3 mars 2025 \xc3\xa0 10:02, Maria <m@x.fr> "
	  "a \xc3\xa9" "crit :\n> O\xc3\xb9 est mon remboursement ?\n", "C'est fait.\n",
	  NULL, NULL, 0 },
	{ "spanish", "Hecho.\n\nEl lun, 3 mar 2025 a las 10:02, Maria (<m@x.es>) "
	  "escribi\xc3\xb3:\n> \xc2\xbf" "D\xc3\xb3nde est\xc3\xa1?\n", "Hecho.\n", NULL, NULL, 0 },
	{ "interleaved", "Hi Maria,\n\nOn Mon, 3 Mar 2025 at 10:02, Maria Lopez "
	  "<maria@example.net> wrote:\n> Where is my refund?\n\nIt was issued yesterday."
	  "\n\n> And the invoice?\n\nAttached.\n",
	  "Hi Maria,\n\nIt was issued yesterday.\n\nAttached.\n",
	  "Where is my refund?\nAnd the invoice?\n", NULL, 0 },
	{ "original message", "Fixed now.\n\n-----Original Message-----\nFrom: Maria\n"
	  "Sent: Monday\nSubject: help\n\nIt is broken.\n", "Fixed now.\n",
	  "-----Original Message-----\nFrom: Maria\nSent: Monday\nSubject: help\n\n"
	  "It is broken.\n", NULL, 0 },
	{ "outlook header block", "Fixed now.\n\nFrom: Maria Lopez <maria@example.net>\n"
	  "Sent: Monday, March 3, 2025 10:02 AM\nTo: Support <support@acme.com>\n"
	  "Subject: Broken\n\nIt is broken.\n", "Fixed now.\n",
	  "From: Maria Lopez <maria@example.net>\nSent: Monday, March 3, 2025 10:02 AM\n"
	  "To: Support <support@acme.com>\nSubject: Broken\n\nIt is broken.\n", NULL, 0 },
	{ "german header block", "Erledigt.\n\nVon: Maria Lopez <maria@example.net>\n"
	  "Gesendet: Montag, 3. M\xc3\xa4rz 2025 10:02\nAn: Support\nBetreff: Kaputt\n\n"
	  "Es ist kaputt.\n", "Erledigt.\n", NULL, NULL, 0 },
	{ "underscore separator", "Fixed now.\n\n________________________________\n"
	  "From: Maria Lopez <maria@example.net>\nSent: Monday\nTo: Support\n"
	  "Subject: Broken\n\nIt is broken.\n", "Fixed now.\n",
	  "________________________________\nFrom: Maria Lopez <maria@example.net>\n"
	  "Sent: Monday\nTo: Support\nSubject: Broken\n\nIt is broken.\n", NULL, 0 },
	{ "forwarded", "See below.\n\n---------- Forwarded message ---------\nFrom: Maria "
	  "<m@x.net>\nDate: Mon, 3 Mar 2025\nSubject: Broken\n\nIt is broken.\n",
	  "See below.\n", NULL, NULL, 0 },
	{ "begin forwarded", "See below.\n\nBegin forwarded message:\n\nFrom: Maria "
	  "<m@x.net>\nSubject: Broken\n\nIt is broken.\n", "See below.\n",
	  "Begin forwarded message:\n\nFrom: Maria <m@x.net>\nSubject: Broken\n\n"
	  "It is broken.\n", NULL, 0 },
	{ "from: in a sentence", "From: the billing team. They will call.\n",
	  "From: the billing team. They will call.\n", "", NULL, 0 },
	{ "crlf", "Done.\r\n\r\nOn Mon, Maria <m@x.net> wrote:\r\nold\r\n", "Done.\n",
	  "On Mon, Maria <m@x.net> wrote:\nold\n", NULL, 0 },
	{ "-- signature", "Your order shipped.\n\n-- \nWe care about you deeply!\n"
	  "Acme Support\n", "Your order shipped.\n", "", "We care about you deeply!\n", 0 },
	{ "sent from my iphone", "Your order shipped.\n\nSent from my iPhone\n",
	  "Your order shipped.\n", "", "Sent from my iPhone\n", 0 },
	{ "disclaimer", "Your order shipped.\n\nCONFIDENTIALITY NOTICE: This email is "
	  "intended only for the recipient.\nIf you are not the intended recipient, "
	  "delete it. We value your privacy.\n", "Your order shipped.\n", "",
	  "We value your privacy.", 0 },
	{ "disclaimer sentence", "Your order shipped.\n\nThis email and any attachments "
	  "are confidential.\n", "Your order shipped.\n", "", "are confidential.", 0 },
	{ "sign-off block", "Your order shipped today.\n\nBest regards,\nRaj Patel\n"
	  "Support Engineer\nAcme Inc.\n+1 555 0100\n",
	  "Your order shipped today.\n\nBest regards,\n", "",
	  "Raj Patel\nSupport Engineer\nAcme Inc.\n+1 555 0100\n", 3 },
	{ "best, raj", "Hi Maria,\n\nYour order shipped today and should arrive on "
	  "Friday.\n\nBest,\nRaj\n", "Hi Maria,\n\nYour order shipped today and should "
	  "arrive on Friday.\n\nBest,\n", "", "Raj\n", 5 },
	{ "sign-off, blank, name", "We fixed it.\n\nKind regards,\n\nRaj Patel\nAcme\n",
	  "We fixed it.\n\nKind regards,\n", "", "Raj Patel\nAcme\n", 3 },
	{ "sign-off with name", "We fixed it.\n\nThanks, Raj\n",
	  "We fixed it.\n\nThanks, Raj\n", "", NULL, 3 },
	{ "german sign-off", "Wir haben es behoben.\n\nMit freundlichen Gr\xc3\xbc\xc3\x9f" "en\n"
	  "Raj Patel\nAcme GmbH\n", "Wir haben es behoben.\n\nMit freundlichen "
	  "Gr\xc3\xbc\xc3\x9f" "en\n", "", "Raj Patel\nAcme GmbH\n", 3 },
	{ "thanks! then news", "Thanks!\nYour order shipped today.\nRaj\n",
	  "Thanks!\nYour order shipped today.\nRaj\n", "", NULL, 0 },
	{ "sign-off then a sentence", "We fixed it.\n\nThanks,\nRaj\nSorry for the "
	  "trouble, this will not happen again.\n", "We fixed it.\n\nThanks,\nRaj\n"
	  "Sorry for the trouble, this will not happen again.\n", "", NULL, 0 },
	{ "sign-off under --", "Your order shipped.\n\n-- \nBest regards,\nRaj\n",
	  "Your order shipped.\nBest regards,\n", "", "Raj\n", 2 },
	{ "name alone wrote, history not quoted", "Fixed now.\n\nSam Lee wrote:\n\nStill broken!\n",
	  "Fixed now.\n", "Sam Lee wrote:\n\nStill broken!\n", NULL, 0 },
	{ "name wrote on a date", "Fixed now.\n\nSam Lee wrote on Nov 24, 2026:\nStill broken!\n",
	  "Fixed now.\n", NULL, NULL, 0 },
	{ "a sentence with wrote is not an attribution", "Here is what our engineer wrote:\n\nThe fix is live.\n",
	  "Here is what our engineer wrote:\n\nThe fix is live.\n", "", NULL, 0 },
	/* help-desk threads (Zendesk): each comment under a name and a time,
	 * the newest (the reply) first, no ">" on the older ones */
	{ "help desk: rule line before each comment", "##- Please type your reply above this line -##\n\n"
	  "Your request (4821) has been updated. To add additional comments, reply to this email.\n"
	  "----------------------------------------------\n\nLeo (Acme)\n\nNov 24, 2026, 10:02 UTC\n\n"
	  "Hi Sam,\n\nI've reset it.\n\nLeo\n\n----------------------------------------------\n\n"
	  "Sam Lee\n\nNov 24, 2026, 09:40 UTC\n\nCalm down? I know how you feel!\n",
	  "Hi Sam,\n\nI've reset it.\n\nLeo\n", "----------------------------------------------\n\n"
	  "Sam Lee\n\nNov 24, 2026, 09:40 UTC\n\nCalm down? I know how you feel!\n", NULL, 0 },
	{ "help desk: no rule line before the older comment", "Priya Raman (Northwind Hosting)\n\n"
	  "Mar 4, 2025, 10:12 GMT\n\nHi Hannah,\n\nIt is fixed.\n\nPriya\n\nHannah Whitlock\n\n"
	  "4.3.2025 08:47\n\nWhat happened??\n", "Hi Hannah,\n\nIt is fixed.\n\nPriya\n",
	  "Hannah Whitlock\n\n4.3.2025 08:47\n\nWhat happened??\n", NULL, 0 },
	{ "help desk: HTML read as text (no rule lines)", "##- Please type your reply above this line -##\n"
	  "Your request (4821) has been updated. To add additional comments, reply to this email.\n\n"
	  "Leo (Acme)\n\nNov 24, 2026, 10:02 UTC\n\nHi Sam,\n\nI've reset it.\n\nLeo\n\nSam Lee\n\n"
	  "Nov 24, 2026, 09:40 UTC\n\nNope.\n", "Hi Sam,\n\nI've reset it.\n\nLeo\n",
	  "Sam Lee\n\nNov 24, 2026, 09:40 UTC\n\nNope.\n", NULL, 0 },
	{ "help desk: its footer is a signature", "Hi Sam,\n\nDone.\n\nLeo\n\n--------------------------------\n"
	  "This email is a service from Acme. Delivered by Zendesk\n\n[QW5V2K-8RY2]\n",
	  "Hi Sam,\n\nDone.\n\nLeo\n\n--------------------------------\n", "",
	  "This email is a service from Acme", 0 },
	/* near misses: a time under a line that is not a name, or a rule
	 * line over a name with no time, cut nothing */
	{ "help desk: not a header", "Hi Sam,\n\nYour new slot is below.\n\nNext delivery window\n\n"
	  "Nov 24, 2026, 10:00-12:00\n\nThanks,\nLeo\n", "Hi Sam,\n\nYour new slot is below.\n\n"
	  "Next delivery window\n\nNov 24, 2026, 10:00-12:00\n\nThanks,\n", "", "Leo", 9 },
	{ "help desk: rule line over a name alone", "Hi Sam,\n\nDone.\n\n----------\n\nAcme Support\n"
	  "Mon to Fri, 9:00 to 17:00, all year\n", "Hi Sam,\n\nDone.\n\n----------\n\nAcme Support\n"
	  "Mon to Fri, 9:00 to 17:00, all year\n", "", NULL, 0 },
	{ "empty", "", "", "", NULL, 0 },
};

START_TEST(test_split)
{
	tg_split s;
	const char *t = cases[_i].text;
	ck_assert_int_eq(quote_split(t, strlen(t), &s), 0);
	ck_assert_msg(!strcmp(STR(s.agent), cases[_i].agent), "%s: agent [%s] want [%s]",
		      cases[_i].name, STR(s.agent), cases[_i].agent);
	if (cases[_i].quoted)
		ck_assert_msg(!strcmp(STR(s.quoted), cases[_i].quoted), "%s: quoted [%s] "
			      "want [%s]", cases[_i].name, STR(s.quoted), cases[_i].quoted);
	if (cases[_i].sig_has)
		ck_assert_msg(strstr(STR(s.signature), cases[_i].sig_has), "%s: signature "
			      "[%s] lacks [%s]", cases[_i].name, STR(s.signature), cases[_i].sig_has);
	ck_assert_msg(s.signoff == cases[_i].signoff, "%s: signoff %u want %u",
		      cases[_i].name, s.signoff, cases[_i].signoff);
	quote_split_free(&s);
}
END_TEST

START_TEST(test_signoff_line)
{
	/* signoff is the line number in agent, and that line is the sign-off. */
	const char *t = "Hello,\n\nDone.\nAll good now.\n\nCheers!\nRaj\n";
	tg_split s;
	ck_assert_int_eq(quote_split(t, strlen(t), &s), 0);
	ck_assert_str_eq(s.agent.s, "Hello,\n\nDone.\nAll good now.\n\nCheers!\n");
	ck_assert_uint_eq(s.signoff, 6);
	const char *l = s.agent.s;
	for (unsigned i = 1; i < s.signoff; i++)
		l = strchr(l, '\n') + 1;
	ck_assert_int_eq(strncmp(l, "Cheers!\n", 8), 0);
	quote_split_free(&s);
}
END_TEST

static const struct {
	const char *line;
	int yes;
} signoffs[] = {
	{ "Best regards,", 1 }, { "best regards", 1 }, { "  Best regards,  ", 1 },
	{ "Thanks, Raj", 1 }, { "Thanks Raj!", 1 }, { "Best regards, Raj Patel", 1 },
	{ "Cheers!", 1 }, { "Thanks", 1 }, { "Thank you!", 1 }, { "Regards", 1 },
	{ "Kind regards, Dr. Raj", 1 }, { "Have a great day!", 1 }, { "Take care,", 1 },
	{ "Mit freundlichen Gr\xc3\xbc\xc3\x9f" "en", 1 }, { "Cordialement,", 1 },
	{ "Saludos cordiales,", 1 },
	{ "Thanks for your patience while we fix this.", 0 },
	{ "Best of all, the update is free.", 0 },
	{ "Thanks again for your order", 0 },
	{ "Thanks, raj", 0 },          /* a name is capitalised */
	{ "Cheers mate", 0 },
	{ "Regards to your team, and welcome aboard", 0 },
	{ "Thanks, Raj, Acme, Support, Team, Extra", 0 },
	{ "", 0 },
};

START_TEST(test_is_signoff)
{
	const char *l = signoffs[_i].line;
	ck_assert_msg(quote_is_signoff(l, strlen(l)) == signoffs[_i].yes,
		      "[%s] want %d", l, signoffs[_i].yes);
}
END_TEST

START_TEST(test_is_signoff_len)
{
	/* Only len bytes count; the rest of the buffer is not the line. */
	const char *l = "Best regards, and see the attached invoice for details.";
	ck_assert_int_eq(quote_is_signoff(l, 13), 1);
	ck_assert_int_eq(quote_is_signoff(l, strlen(l)), 0);
}
END_TEST

/* Where words added around the agent's go (first_at, tail_at): the text
 * before first_at and after tail_at is kept as is by the rewrite action. */
static const struct {
	const char *name, *text, *at_first, *at_tail;  /* the text from each offset */
	int interleaved;
} offsets[] = {
	{ "plain", "\nDone, it shipped.\nTracking is 123.\n", "Done, it shipped.\nTracking is 123.\n", "", 0 },
	{ "no final newline", "Done.", "Done.", "", 0 },
	{ "sign-off", "Hi Maria,\nDone.\n\nBest regards,\nRaj\nAcme Support\n",
	  "Hi Maria,\nDone.\n\nBest regards,\nRaj\nAcme Support\n",
	  "Best regards,\nRaj\nAcme Support\n", 0 },
	{ "history", "Done.\n\nOn Mon, 3 Mar 2025 at 10:02, Maria <m@x.net> wrote:\n> Where?\n",
	  "Done.\n\nOn Mon, 3 Mar 2025 at 10:02, Maria <m@x.net> wrote:\n> Where?\n",
	  "\nOn Mon, 3 Mar 2025 at 10:02, Maria <m@x.net> wrote:\n> Where?\n", 0 },
	{ "signature", "Done.\n-- \nRaj\n", "Done.\n-- \nRaj\n", "-- \nRaj\n", 0 },
	{ "interleaved", "Sure.\n> old line\nMore text here.\n", "Sure.\n> old line\nMore text here.\n",
	  "", 1 },
};

START_TEST(test_offsets)
{
	const char *t = offsets[_i].text;
	tg_split s;
	ck_assert_int_eq(quote_split(t, strlen(t), &s), 0);
	ck_assert_msg(!strcmp(t + s.first_at, offsets[_i].at_first), "%s: first_at [%s]",
		      offsets[_i].name, t + s.first_at);
	ck_assert_msg(!strcmp(t + s.tail_at, offsets[_i].at_tail), "%s: tail_at [%s]",
		      offsets[_i].name, t + s.tail_at);
	ck_assert_int_eq(s.interleaved, offsets[_i].interleaved);
	quote_split_free(&s);
}
END_TEST

/* Regressions: cases src/ once got wrong, kept so they stay fixed. */
static const struct {
	const char *name, *text, *agent, *quoted_has;
} regressions[] = {
	/* P_ATTRIB wants the verb at the end of the line. */
	{ "german attribution", "Erledigt.\n\nAm 03.03.2025 um 10:02 schrieb Maria Lopez "
	  "<maria@example.net>:\n> Wo ist meine Erstattung?\n", "Erledigt.\n",
	  "Wo ist meine Erstattung?\n" },
	{ "dutch attribution", "Klaar.\n\nOp ma 3 mrt 2025 om 10:02 schreef Maria Lopez "
	  "<maria@example.net>:\n\nWaar?\n", "Klaar.\n", "Waar?\n" },
	{ "polish attribution", "Gotowe.\n\npon., 3 mar 2025 o 10:02 Maria Lopez "
	  "<maria@example.net> napisa\xc5\x82(a):\n\nGdzie?\n", "Gotowe.\n", "Gdzie?\n" },
	/* "> " lines below the agent's last line go to signature, not quoted. */
	{ "top-posted > quote", "Your refund is on its way.\n\nOn Mon, 3 Mar 2025 at 10:02, "
	  "Maria Lopez <maria@example.net> wrote:\n> Where is my refund?\n> Maria\n",
	  "Your refund is on its way.\n", "Where is my refund?\nMaria\n" },
	{ "trailing > quote", "Sure, done.\n\n> Can you help?\n", "Sure, done.\n",
	  "Can you help?\n" },
};

START_TEST(test_regressions)
{
	tg_split s;
	ck_assert_int_eq(quote_split(regressions[_i].text, strlen(regressions[_i].text), &s), 0);
	ck_assert_msg(!strcmp(STR(s.agent), regressions[_i].agent), "%s: agent [%s]",
		      regressions[_i].name, STR(s.agent));
	ck_assert_msg(strstr(STR(s.quoted), regressions[_i].quoted_has), "%s: quoted [%s]",
		      regressions[_i].name, STR(s.quoted));
	ck_assert_msg(!strstr(STR(s.signature), regressions[_i].quoted_has), "%s: signature "
		      "[%s]", regressions[_i].name, STR(s.signature));
	quote_split_free(&s);
}
END_TEST

/* The quick checks before each line pattern (may_match in quote.c) never
 * skip a line the pattern matches: the first words of every alternative of
 * the patterns, in three cases, after white space and followed by endings,
 * and every line of the corpora's raw messages. */
static const char *const openers[] = {
	"-----Original Message-----", "-- Forwarded message --", "Begin forwarded message:",
	"Anfang der weitergeleiteten Nachricht:", "Sent from my iPhone", "Sent from Mail for Windows",
	"Get Outlook for iOS", "Sent from Yahoo Mail on Android", "Sent from my Galaxy", "Von meinem iPhone gesendet",
	"Enviado desde mi iPhone", "Verzonden vanaf mijn iPad", "Inviato dal mio iPhone", "Enviado do meu iPhone",
	"CONFIDENTIALITY NOTICE:", "Disclaimer: x", "Confidential: y", "This email is confidential",
	"This message and any attachments are intended", "The information contained in this email",
	"If you are not the intended recipient", "If you have received this in error",
	"Acme Ltd is authorised and regulated by the FCA", "Registered in England No. 1",
	"Vertraulichkeitshinweis", "Diese E-Mail ist vertraulich", "Ce message est confidentiel",
	"Best regards,", "Kind regards, Raj", "Thanks, Raj", "Thank you!", "Cheers", "Sincerely yours,",
	"Yours truly,", "All the best", "Take care", "Talk soon", "Many thanks", "Warmly,", "Regards",
	"With kind regards", "Have a great day", "Happy holidays", "Enjoy your weekend", "Mit freundlichen Grüßen",
	"Cordialement", "Saludos cordiales", "Met vriendelijke groet", "Pozdrawiam", "Obrigado", "Grazie",
	"Mvh", "Z poważaniem", "Un saludo", "Um abraço", "Distinti saluti", "With thanks for your help,",
	"Please reply above this line", "## Reply above this line ##", "Type your response ABOVE THIS LINE",
	"Write your reply above this line.", "your reply above this line", "_________________",
};

static void case_of(char *s, int how)
{
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x80)
			s[i] = (char)(how == 0 ? s[i] : how == 1 ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
}

START_TEST(test_prefilter_openers)
{
	static const char *const lead[] = {"", " ", "\t", "  \t ", "\v"};
	static const char *const tail[] = {"", ",", ":", " Bob", ", Maria Lopez", "!", " ---", " and more words here."};
	char line[256];
	size_t n = 0;
	for (size_t o = 0; o < sizeof openers / sizeof *openers; o++)
		for (int c = 0; c < 3; c++)
			for (size_t l = 0; l < sizeof lead / sizeof *lead; l++)
				for (size_t t = 0; t < sizeof tail / sizeof *tail; t++) {
					snprintf(line, sizeof line, "%s%s%s", lead[l], openers[o], tail[t]);
					case_of(line + strlen(lead[l]), c);
					ck_assert_msg(quote_prefilter_agrees(line, strlen(line)), "skipped: [%s]", line);
					n++;
				}
	ck_assert_uint_gt(n, 5000);
}
END_TEST

/* Every file under dir, read whole, to fn; the number of files. */
static size_t each_file(const char *dir, void (*fn)(const char *path, const char *s, size_t n, size_t *count),
			size_t *count)
{
	size_t files = 0;
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "%s", dir);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		DIR *sub = opendir(path);
		if (sub) {
			closedir(sub);
			files += each_file(path, fn, count);
			continue;
		}
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		sbuf b = SBUF_INIT;
		char buf[8192];
		for (size_t k; (k = fread(buf, 1, sizeof buf, f)) > 0;)
			ck_assert_int_eq(sbuf_append(&b, buf, k), 0);
		fclose(f);
		fn(path, STR(b), b.len, count);
		sbuf_free(&b);
		files++;
	}
	closedir(d);
	return files;
}

static const char *const corpora[] = {"tests/corpus", "conf/examples", "tests/fuzz/corpus/message"};

static size_t each_corpus_file(void (*fn)(const char *path, const char *s, size_t n, size_t *count),
			       size_t *count)
{
	const char *top = getenv("top_srcdir");
	size_t files = 0;
	for (size_t i = 0; i < sizeof corpora / sizeof *corpora; i++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", top && *top ? top : ".", corpora[i]);
		files += each_file(dir, fn, count);
	}
	return files;
}

static void prefilter_lines(const char *path, const char *s, size_t n, size_t *count)
{
	for (const char *p = s, *end = s + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t k = (size_t)(le - p);
		if (k && p[k - 1] == '\r')
			k--;
		ck_assert_msg(quote_prefilter_agrees(p, k), "%s: skipped [%.*s]", path, (int)k, p);
		(*count)++;
		p = nl ? nl + 1 : end;
	}
}

START_TEST(test_prefilter_corpora)
{
	size_t n = 0;
	each_corpus_file(prefilter_lines, &n);
	ck_assert_uint_gt(n, 10000);
}
END_TEST

/* Blank as quote.c reads a line: spaces and tabs only (and the line ends). */
static int blank(const sbuf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->s[i] != ' ' && b->s[i] != '\t' && b->s[i] != '\n')
			return 0;
	return 1;
}

/* quote_split_keep(keep) against quote_split: the same agent and offsets;
 * quoted and signature the first whole lines of quote_split's, at least
 * keep bytes of them, blank only when quote_split's are. */
static void keep_agrees(const char *where, const char *s, size_t n)
{
	static const size_t keeps[] = {0, 1, 64, 4096};
	tg_split full;
	ck_assert_int_eq(quote_split(s, n, &full), 0);
	for (size_t k = 0; k < sizeof keeps / sizeof *keeps; k++) {
		tg_split sp;
		ck_assert_int_eq(quote_split_keep(s, n, keeps[k], &sp), 0);
		ck_assert_msg(sp.agent.len == full.agent.len && memcmp(STR(sp.agent), STR(full.agent), sp.agent.len) == 0,
			      "%s keep %zu: agent differs", where, keeps[k]);
		ck_assert_msg(sp.signoff == full.signoff && sp.first_at == full.first_at && sp.tail_at == full.tail_at &&
			      sp.interleaved == full.interleaved, "%s keep %zu: offsets differ", where, keeps[k]);
		const sbuf *a[2] = {&sp.quoted, &sp.signature}, *b[2] = {&full.quoted, &full.signature};
		for (int i = 0; i < 2; i++) {
			size_t want = keeps[k] < b[i]->len ? keeps[k] : b[i]->len;
			ck_assert_msg(a[i]->len >= want && a[i]->len <= b[i]->len &&
				      memcmp(STR(*a[i]), STR(*b[i]), a[i]->len) == 0 &&
				      (a[i]->len == 0 || a[i]->s[a[i]->len - 1] == '\n'),
				      "%s keep %zu: %s is not a prefix of whole lines", where, keeps[k], i ? "signature" : "quoted");
			ck_assert_msg(blank(a[i]) == blank(b[i]), "%s keep %zu: %s blank %d, was %d", where, keeps[k],
				      i ? "signature" : "quoted", blank(a[i]), blank(b[i]));
		}
		quote_split_free(&sp);
	}
	quote_split_free(&full);
}

static void keep_file(const char *path, const char *s, size_t n, size_t *count)
{
	keep_agrees(path, s, n);
	(*count)++;
}

START_TEST(test_keep_corpora)
{
	size_t n = 0;
	each_corpus_file(keep_file, &n);
	ck_assert_uint_gt(n, 400);
}
END_TEST

/* A signature or history that opens with many blank lines is still told
 * from an empty one, however small keep is. */
START_TEST(test_keep_blank_lead)
{
	static const char *const heads[] = {"Thanks, it works now.\n\nBest,\nAnna\n-- \n",
					    "Thanks, it works now.\n\nOn Mon, 2 Mar 2026, Tom wrote:\n"};
	for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
		sbuf t = SBUF_INIT;
		ck_assert_int_eq(sbuf_puts(&t, heads[h]), 0);
		for (int i = 0; i < 5000; i++)
			ck_assert_int_eq(sbuf_puts(&t, i % 2 ? "\n" : ">\n"), 0);
		ck_assert_int_eq(sbuf_puts(&t, "> Acme Support | www.acme.example\n"), 0);
		keep_agrees(heads[h], t.s, t.len);
		sbuf_free(&t);
	}
}
END_TEST

#define NROWS(a) (int)(sizeof a / sizeof a[0])

static Suite *quote_suite(void)
{
	Suite *s = suite_create("quote");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_split, 0, NROWS(cases));
	tcase_add_test(tc, test_signoff_line);
	tcase_add_loop_test(tc, test_is_signoff, 0, NROWS(signoffs));
	tcase_add_test(tc, test_is_signoff_len);
	tcase_add_loop_test(tc, test_offsets, 0, NROWS(offsets));
	tcase_add_test(tc, test_prefilter_openers);
	tcase_add_test(tc, test_prefilter_corpora);
	tcase_add_test(tc, test_keep_corpora);
	tcase_add_test(tc, test_keep_blank_lead);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	TCase *kb = tcase_create("regressions");
	tcase_add_loop_test(kb, test_regressions, 0, NROWS(regressions));
	suite_add_tcase(s, kb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quote_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
