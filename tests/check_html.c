/* check_html — unit tests for html_to_text (src/html.c). */
#include "config.h"
#include "html.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse html and return its text; *st and *quoted (if asked) are filled. */
static char *to_text(const char *html, size_t len, size_t max,
		     enum html_status *st, char **quoted)
{
	sbuf out = SBUF_INIT, q = SBUF_INIT;
	*st = html_to_text(html, len, max, &out, quoted ? &q : NULL);
	if (quoted)
		*quoted = sbuf_detach(&q, NULL);
	return sbuf_detach(&out, NULL);
}

/* n opening tags, the text, n closing tags. One check at the end: each
 * passing ck_assert costs a write(2) (Check's mark point), which made this
 * loop most of the program's time under valgrind. */
static char *nest(const char *open, const char *text, const char *close,
		  size_t n)
{
	sbuf sb = SBUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		rc |= sbuf_puts(&sb, open);
	rc |= sbuf_puts(&sb, text);
	for (size_t i = 0; i < n; i++)
		rc |= sbuf_puts(&sb, close);
	ck_assert_int_eq(rc, 0);
	return sbuf_detach(&sb, NULL);
}

static const struct {
	const char *name, *html, *out;
	const char *quoted;   /* NULL: not checked */
} cases[] = {
	{ "paragraphs", "<p>Hello</p><p>World</p>", "Hello\n\nWorld\n", "" },
	{ "br", "Line one<br>Line two<br/>Line three",
	  "Line one\nLine two\nLine three\n", "" },
	{ "br twice is one blank line", "a<br><br>b", "a\n\nb\n", NULL },
	{ "one blank line at most", "<p>a</p><br><br><br><p>b</p>",
	  "a\n\nb\n", NULL },
	{ "no leading blank lines", "<br><br><p></p><p>x</p>", "x\n", NULL },
	{ "divs end lines", "<div>a</div><div>b</div>", "a\nb\n", NULL },
	/* libxml2 wraps leading loose text in an implied <p>; <body> or an
	 * element first keeps it loose. */
	{ "text around a div", "<body>text<div>x</div>more</body>",
	  "text\nx\nmore\n", NULL },
	{ "implied paragraph", "text<div>x</div>", "text\n\nx\n", NULL },
	{ "heading", "<h1>Title</h1>Body", "Title\n\nBody\n", NULL },
	{ "inline", "<p>Hello <b>bold</b> <i>world</i>!</p>",
	  "Hello bold world!\n", NULL },
	{ "whitespace collapses", "<p>  lots   of\n\n\t space  </p>",
	  "lots of space\n", NULL },
	{ "whitespace-only lines", "<div>  </div><div>a</div><div> \n </div>b",
	  "a\nb\n", NULL },
	{ "pre keeps lines", "<pre>a  b\n  c  \n\nd</pre>after",
	  "a  b\n  c\n\nd\n\nafter\n", NULL },
	{ "unordered list", "<ul><li>one</li><li> two </li></ul><p>after</p>",
	  "- one\n- two\n\nafter\n", NULL },
	{ "ordered list", "<ol><li>first<li>second</ol>",
	  "- first\n- second\n", NULL },
	{ "Outlook <o:p> is inline, not a paragraph", "<ul><li>one<o:p></o:p></li><li>two<o:p>&nbsp;</o:p></li></ul>x<o:p></o:p>y",
	  "- one\n- two\n\nxy\n", NULL },
	{ "list item with paragraph", "<ul><li><p>x</p></li><li></li></ul>",
	  "- x\n", NULL },
	{ "table", "<table><tr><td>a</td><td> b </td></tr>"
		   "<tr><th>c</th><td>d</td></tr></table>after",
	  "a\tb\nc\td\n\nafter\n", NULL },
	{ "entities", "<p>Don&rsquo;t&nbsp;worry &amp; relax&nbsp;</p>",
	  "Don\xe2\x80\x99t worry & relax\n", NULL },
	{ "nbsp padding", "<p>&nbsp;</p><p>&nbsp;&nbsp;Hi</p>", "Hi\n", NULL },
	{ "script and style", "<html><head><title>T</title>"
		"<style>p{color:red}</style></head><body>"
		"<script>alert(1)</script><p>Visible</p>"
		"<noscript>ns</noscript><template>tpl</template></body></html>",
	  "Visible\n", "" },
	{ "blockquote", "<p>Thanks!</p><blockquote type=\"cite\"><p>Old text"
		"</p></blockquote>", "Thanks!\n", "Old text\n" },
	{ "blockquote mid-line", "<b>before</b><blockquote>q</blockquote>after",
	  "before\nafter\n", "q\n" },
	{ "thunderbird", "<p>Done.</p><div class=\"moz-cite-prefix\">On Mon, "
		"Ann wrote:<br></div><blockquote type=\"cite\" cite=\"mid:x\">"
		"Help me</blockquote>",
	  "Done.\n", "On Mon, Ann wrote:\nHelp me\n" },
	{ "gmail_quote", "<div dir=\"ltr\">Sure thing.</div><br>"
		"<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
		"On Mon, Bob wrote:<br></div><blockquote class=\"gmail_quote\" "
		"style=\"margin:0px\">Where is my order?</blockquote></div>",
	  "Sure thing.\n", "On Mon, Bob wrote:\nWhere is my order?\n" },
	{ "class list, any case", "<div class=\"a GMAIL_QUOTE b\">old</div>new",
	  "new\n", "old\n" },
	{ "yahoo_quoted", "Ok<div class=\"yahoo_quoted\">old</div>",
	  "Ok\n", "old\n" },
	{ "gmail_signature", "<div>Hi</div><div class=\"gmail_signature\" "
		"data-smartmail=\"gmail_signature\">-- <br>Bob<br>ACME</div>",
	  "Hi\n--\n--\nBob\nACME\n", "" },
	{ "signature inside quote", "<blockquote>old<div class=\"moz-signature\">"
		"sig</div></blockquote>", "", "old\n" },
	{ "id=Signature", "Hi<div id=\"Signature\"><p>Jane</p></div>",
	  "Hi\n\n--\nJane\n", "" },
	{ "divRplyFwdMsg", "<div>Reply</div><hr style=\"display:inline-block\" "
		"tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b>"
		" X</div><div>Original body</div>",
	  "Reply\n", "From: X\nOriginal body\n" },
	{ "x_divRplyFwdMsg and after", "<div><div>Reply</div>"
		"<div id=\"x_divRplyFwdMsg\">From: X</div><p>body</p></div>"
		"<p>more after</p>",
	  "Reply\n", "From: X\nbody\n\nmore after\n" },
	{ "appendonsend", "Reply<div id=\"appendonsend\"></div><hr>old",
	  "Reply\n", "old\n" },
	{ "border-top and after", "<div class=\"WordSection1\"><p "
		"class=\"MsoNormal\">Thanks, fixed.</p><div><div style=\"border:"
		"none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in\">"
		"<p class=\"MsoNormal\"><b>From:</b> Customer</p></div></div>"
		"<p class=\"MsoNormal\">I need help</p></div>",
	  "Thanks, fixed.\n", "From: Customer\n\nI need help\n" },
	{ "border-top:none is styling", "<div style=\"border-top: none\">a</div>b",
	  "a\nb\n", "" },
	{ "comments", "a<!-- hidden -->b", "ab\n", NULL },
	{ "many breaks", "<div>a<br><br><br><br>b<br></div><br><br>", "a\n\nb\n",
	  NULL },
	{ "pre with blank lines", "<pre>\n\n\nx\n\n\n\ny</pre>", "x\n\ny\n",
	  NULL },
	/* Where libxml2 ends a quote that skip_history() must not skip past
	 * (found by test_skip_differential's generator): */
	{ "an empty signature after the quote", "<i><div class=\"gmail_quote\">"
		"<blockquote></blockquote>q</div><div class=\"gmail_signature\"><br></div></i>",
	  "--\n", "q\n" },
	{ "an end tag closes an inner blockquote", "<div>Agent. <blockquote type=cite>"
		"<s><sub><dd><blockquote><option></sub></blockquote>x </small>y "
		"</u><blockquote></blockquote></div>", "Agent.\nx y\n", NULL },
	{ "an end tag closes an outer element", "<li>Agent.<blockquote><li>old"
		"<li>older</li></li>after</blockquote>", "- Agent.\nafter\n", NULL },
	{ "a <div> above ignores </blockquote>", "<p>A</p><div class=\"gmail_quote\">"
		"<div><blockquote>q</div></blockquote>still quoted</div>", "A\n", "q\nstill quoted\n" },
	{ "words after the quote", "<p>A</p><blockquote>q</blockquote><p>B</p>", "A\n\nB\n",
	  "q\n" },
	{ "a table in the quote", "<p>A</p><blockquote><table><tr><td>q</blockquote>"
		"</td></tr></table>B", "A\n", "q\n\nB\n" },
};

/* Each case twice: with no limits (libxml2 reads the whole input) and with
 * the default ones, where the quoted history is skimmed, not parsed, when
 * nothing after it shows a word: the agent's text must be the same. */
START_TEST(test_table)
{
	enum html_status st;
	char *quoted;
	char *out = to_text(cases[_i].html, strlen(cases[_i].html), 0, &st,
			    &quoted);
	char *lim = to_text(cases[_i].html, strlen(cases[_i].html), 2 << 20, &st, NULL);
	ck_assert_msg(!strcmp(out, lim), "%s: with limits [%s], without [%s]",
		      cases[_i].name, lim, out);
	free(lim);
	ck_assert_msg(st == HTML_OK, "%s: status %d", cases[_i].name, st);
	ck_assert_msg(!strcmp(out, cases[_i].out), "%s: got [%s] want [%s]",
		      cases[_i].name, out, cases[_i].out);
	if (cases[_i].quoted)
		ck_assert_msg(!strcmp(quoted, cases[_i].quoted),
			      "%s: quoted [%s] want [%s]", cases[_i].name,
			      quoted, cases[_i].quoted);
	free(out);
	free(quoted);
}
END_TEST

START_TEST(test_nested_1000)
{
	/* Without XML_PARSE_HUGE libxml2 stops at depth 256 and drops this. */
	char *html = nest("<div>", "Nope.", "</div>", 1000);
	enum html_status st;
	char *out = to_text(html, strlen(html), 0, &st, NULL);
	ck_assert_int_eq(st, HTML_OK);
	ck_assert_str_eq(out, "Nope.\n");
	free(out);
	free(html);
}
END_TEST

START_TEST(test_nested_10000)
{
	char *html = nest("<div><span>", "deep", "</span></div>", 10000);
	enum html_status st;
	char *out = to_text(html, strlen(html), 0, &st, NULL);
	ck_assert(st == HTML_OK || st == HTML_LIMIT);
	ck_assert_str_eq(out, "deep\n");
	free(out);
	free(html);

	/* Unclosed, and inside a quote. */
	html = nest("<blockquote><b>", "q", "", 10000);
	char *quoted;
	out = to_text(html, strlen(html), 0, &st, &quoted);
	ck_assert(st == HTML_OK || st == HTML_LIMIT);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(quoted, "q\n");
	free(out);
	free(quoted);
	free(html);
}
END_TEST

START_TEST(test_siblings_100000)
{
	char *html = nest("<p>x</p>", "", "", 100000);
	enum html_status st;
	char *out = to_text(html, strlen(html), 0, &st, NULL);
	ck_assert_int_eq(st, HTML_OK);
	ck_assert_uint_eq(strlen(out), 100000 * 3 - 1);   /* "x\n\n" ... "x\n" */
	free(out);
	free(html);
}
END_TEST

START_TEST(test_too_big)
{
	const char *html = "<p>0123456789</p>";
	size_t len = strlen(html);
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(html_to_text(html, len, len - 1, &out, NULL),
			 HTML_TOO_BIG);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(html_to_text(html, len, len, &out, NULL), HTML_OK);
	ck_assert_str_eq(out.s, "0123456789\n");
	sbuf_reset(&out);
	ck_assert_int_eq(html_to_text(html, len, 0, &out, NULL), HTML_OK);
	ck_assert_str_eq(out.s, "0123456789\n");
	sbuf_free(&out);
}
END_TEST

START_TEST(test_empty)
{
	sbuf out = SBUF_INIT, q = SBUF_INIT;
	ck_assert_int_eq(html_to_text("", 0, 0, &out, &q), HTML_OK);
	ck_assert_int_eq(html_to_text(NULL, 0, 100, &out, &q), HTML_OK);
	ck_assert_int_eq(html_to_text(" \n\t ", 4, 0, &out, &q), HTML_OK);
	ck_assert_int_eq(html_to_text("<html></html>", 13, 0, &out, &q), HTML_OK);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_eq(q.len, 0);
	sbuf_free(&out);
	sbuf_free(&q);
}
END_TEST

START_TEST(test_appends)
{
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&out, "head\n"), 0);
	ck_assert_int_eq(html_to_text("<p>body</p>", 11, 0, &out, NULL), HTML_OK);
	ck_assert_str_eq(out.s, "head\nbody\n");
	sbuf_free(&out);
}
END_TEST

START_TEST(test_hostile_bytes)
{
	/* NUL bytes and bytes that are not UTF-8: no crash, UTF-8 out. */
	static const char html[] = "<p>a\0b</p><p>c\xff\xfe d \xc3\xa9 \xe9t\xe9"
				   "</p><p>x\xed\xa0\x80y</p><\0<<>&#0;&#xd800;";
	enum html_status st;
	char *out = to_text(html, sizeof html - 1, 0, &st, NULL);
	ck_assert_int_eq(st, HTML_OK);
	ck_assert_ptr_nonnull(strstr(out, "a b\n"));
	ck_assert_ptr_nonnull(strstr(out, "c\xef\xbf\xbd\xef\xbf\xbd d \xc3\xa9 "
					  "\xef\xbf\xbdt\xef\xbf\xbd\n"));
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		ck_assert(*p != 0xff && *p != 0xfe && *p != 0xe9 && *p != 0xed);
	free(out);

	/* Garbage of every byte value must not crash. */
	char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = "<>/&;=\"' \na\xc3\x80\0!-"[(i * 7 + i / 13) % 17];
	out = to_text(junk, sizeof junk, 0, &st, NULL);
	ck_assert(st == HTML_OK || st == HTML_LIMIT);
	free(out);
}
END_TEST

START_TEST(test_out_of_room)
{
	/* A full sbuf is an error, and leaves the caller's text as it was. */
	sbuf out = SBUF_INIT, q = SBUF_INIT;
	out.max = 8;
	ck_assert_int_eq(sbuf_puts(&out, "keep"), 0);
	ck_assert_int_eq(html_to_text("<p>far too long for it</p>", 26, 0, &out,
				      &q), HTML_ERROR);
	ck_assert_str_eq(out.s, "keep");
	q.max = 3;
	out.max = 0;
	ck_assert_int_eq(html_to_text("<p>a</p><blockquote>quoted</blockquote>",
				      39, 0, &out, &q), HTML_ERROR);
	ck_assert_str_eq(out.s, "keep");
	ck_assert_uint_eq(q.len, 0);
	sbuf_free(&out);
	sbuf_free(&q);
}
END_TEST

/* Random tag soup around a quote container: the agent's text must not
 * change when the history is skipped (see test_table). A seeded generator,
 * so a failure is repeatable; the quoted text differs when a skip happened
 * (skimmed, not parsed), which the test counts so it cannot pass by never
 * skipping. */
START_TEST(test_skip_differential)
{
	static const char *const names[] = { "div", "blockquote", "p", "span", "b",
		"i", "li", "ul", "dt", "dd", "a", "font", "em", "form", "center",
		"pre", "q", "sub", "small", "u", "option", "o:p", "table", "tr", "td" };
	static const char *const other[] = { "w ", "v ", " ", "\n", "<br>", "<hr>",
		"<!--z-->", "<div class=\"gmail_quote\">", "<blockquote type=cite>",
		"<div id=\"divRplyFwdMsg\">", "<div/>", "&nbsp;", "<div class=gmail_signature>" };
	const size_t nn = sizeof names / sizeof *names, no = sizeof other / sizeof *other;
	unsigned long x = 20261124;
	size_t differ = 0, skipped = 0, n = 3000;
	for (size_t d = 0; d < n; d++) {
		sbuf doc = SBUF_INIT;
		int rc = 0;
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		size_t toks = 3 + (x >> 33) % 40, quote_at = (x >> 20) % toks;
		for (size_t t = 0; t < toks; t++) {
			x = x * 6364136223846793005ul + 1442695040888963407ul;
			size_t r = (x >> 33) % (2 * nn + no);
			if (t == quote_at)
				rc |= sbuf_puts(&doc, (x >> 13) & 1 ? "<blockquote>" : "<div class=\"gmail_quote\">");
			if (r < 2 * nn)
				rc |= sbuf_printf(&doc, r & 1 ? "</%s>" : "<%s>", names[r / 2]);
			else
				rc |= sbuf_puts(&doc, other[r - 2 * nn]);
		}
		ck_assert_int_eq(rc, 0);
		enum html_status s0, s1;
		char *q0, *q1;
		char *all = to_text(doc.s, doc.len, 0, &s0, &q0);
		char *lim = to_text(doc.s, doc.len, 2 << 20, &s1, &q1);
		differ += s0 != s1 || strcmp(all, lim) != 0;
		if (differ == 1 && (s0 != s1 || strcmp(all, lim)))
			fprintf(stderr, "differs: %s\n[%s] vs [%s]\n", doc.s, all, lim);
		skipped += strcmp(q0, q1) != 0;
		free(all);
		free(lim);
		free(q0);
		free(q1);
		sbuf_free(&doc);
	}
	ck_assert_msg(differ == 0, "%zu of %zu documents read otherwise", differ, n);
	ck_assert_msg(skipped >= n / 20, "only %zu of %zu skipped", skipped, n);
}
END_TEST

static Suite *html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_table, 0, sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, test_nested_1000);
	tcase_add_test(tc, test_nested_10000);
	tcase_add_test(tc, test_siblings_100000);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_appends);
	tcase_add_test(tc, test_hostile_bytes);
	tcase_add_test(tc, test_out_of_room);
	tcase_add_test(tc, test_skip_differential);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	html_init();
	SRunner *sr = srunner_create(html_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
