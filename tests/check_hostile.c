/*
 * check_hostile — hostile messages (issue #6) through judge_message(), the
 * call the daemon makes at end of message (milter.c, judge_and_act). Each
 * ends in a defined outcome: judged with the expected action, or a status
 * other than TG_OK (the daemon passes it unchecked, with a header), never a
 * crash, a hang or unbounded memory. Among them, replies that hide words in
 * the parts a reader is shown (an HTML form unlike its plain one, a second
 * inline text part, words after a part's signature or history) and their
 * courteous counterparts, which must still pass; shown_text checks what is
 * judged of them, and skim_keeps_every_letter the quick look at HTML that
 * decides between an alternative's forms (html_skim).
 *
 * Every message is generated here (nothing large is committed). Check forks
 * per case, so each runs in a fresh child: the message is built, the peak
 * RSS reset to the current one (/proc/self/clear_refs "5") with glibc told
 * to give nothing back meanwhile, the message judged, and the rise of VmHWM
 * is the judgement's own peak.
 *
 * Memory bound: 3 x the message + 64 MB. The pipeline holds the raw bytes
 * (the caller's), at most a decoded copy and the UTF-8 text (each capped by
 * max_decoded_size), the header values, and libxml2's tree, which html.c's
 * node budget keeps near 11 x max_html_size (~24 MB at the default). Under
 * AddressSanitizer every block carries redzones and freed ones wait in a
 * quarantine (capped at 16 MB below) before reuse, so the peak there is
 * nearer the bytes allocated than the bytes live; the same bound holds for
 * both builds (the highest measured: 42 MB of 72 MB, 100,000 header fields
 * under ASan), so it is a real ceiling rather than one tuned to either.
 *
 * Time bound: per case, in seconds, for the sanitizer build (3-8x slower
 * than the plain one); the plain build runs far inside it. Each case also
 * stays under CK_DEFAULT_TIMEOUT (120 s in make check).
 */
#include "config.h"
#include "testutil.h"
#include "html.h"
#include "text.h"

#include <libetpan/charconv.h>

#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define TG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_ASAN 1
#endif
#endif

#ifdef TG_ASAN
/* Freed blocks wait in ASan's quarantine (256 MB by default) before reuse,
 * so the RSS would count every byte ever allocated; 16 MB keeps it a small,
 * known part of the bound and still catches use after free. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}
#endif

#define MB (1024u * 1024u)
#define HDR "From: Raj <raj@acme.example>\r\nTo: \"Maria Lopez\" <maria@example.net>\r\n" \
	"Subject: Re: help\r\nMessage-ID: <hostile@acme.example>\r\nMIME-Version: 1.0\r\n"
#define CURT "Nope. Can't work that out this time.\r\n"

/* ---- generators: each writes one whole message ------------------------ */

/* An allocation that failed while building, checked once after the build:
 * an assertion per append costs Check a write(2) each, millions in all. */
static int gen_failed;
static void put(sbuf *m, const char *s) { gen_failed |= sbuf_puts(m, s) != 0; }
static void putn(sbuf *m, const char *s, size_t n) { gen_failed |= sbuf_append(m, s, n) != 0; }
static void repeat(sbuf *m, const char *s, size_t times)
{
	size_t n = strlen(s);
	gen_failed |= sbuf_reserve(m, n * times) != 0;
	for (size_t i = 0; i < times; i++)
		putn(m, s, n);
}
static void plain(sbuf *m) { put(m, HDR "Content-Type: text/plain; charset=utf-8\r\n\r\n"); }

static void body_50mb(sbuf *m)
{
	plain(m);
	put(m, CURT);
	repeat(m, "All work and no play makes Jack a dull boy, all work and no play ok.\r\n", 50 * MB / 70);
}

static void body_9mb(sbuf *m)
{
	plain(m);
	put(m, CURT);
	repeat(m, "All work and no play makes Jack a dull boy, all work and no play ok.\r\n", 9 * MB / 70);
}

/* 10,000 multiparts each inside the last, the curt reply at the bottom;
 * level i's Content-Type is pre "b<i>" post. */
static void nest(sbuf *m, const char *pre, const char *post)
{
	put(m, HDR);
	for (unsigned i = 0; i < 10000; i++)
		gen_failed |= sbuf_printf(m, "%sb%u%s\r\n\r\n--b%u\r\n", pre, i, post, i) != 0;
	put(m, "Content-Type: text/plain\r\n\r\n" CURT);
	for (unsigned i = 10000; i-- > 0;)
		gen_failed |= sbuf_printf(m, "--b%u--\r\n", i) != 0;
}
static void nest_plain(sbuf *m) { nest(m, "Content-Type: multipart/mixed; boundary=\"", "\""); }
static void nest_spaced(sbuf *m) { nest(m, "Content-Type: multipart/mixed; boundary = ", ""); }
static void nest_folded(sbuf *m) { nest(m, "Content-Type: multipart/mixed;\r\n boundary\r\n =", ""); }
static void nest_comment(sbuf *m) { nest(m, "Content-Type: multipart/mixed; boundary(x)=\"", "\""); }
/* =?us-ascii?Q?multipart/mixed;_boundary=b7?= */
static void nest_encoded(sbuf *m) { nest(m, "Content-Type: =?us-ascii?Q?multipart/mixed=3B_boundary=3D", "?="); }

static void rfc822_200k(sbuf *m)
{
	put(m, HDR "Content-Type: message/rfc822\r\n\r\n");
	repeat(m, "Content-Type: message/rfc822\r\n\r\n", 200000);
	put(m, "Content-Type: text/plain\r\n\r\n" CURT);
}

static void parts_100k(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
	repeat(m, "--p\r\nContent-Type: text/plain\r\n\r\nNope.\r\n", 100000);
	put(m, "--p--\r\n");
}

/* The same, but under a boundary that is never used: libetpan sees one
 * bogus part, the lenient reading 100,000 segments. */
static void parts_100k_undeclared(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n");
	repeat(m, "--p\r\nContent-Type: text/plain\r\n\r\nNope.\r\n", 100000);
	put(m, "--p--\r\n");
}

static void line_1mb(sbuf *m)
{
	plain(m);
	put(m, "Nope. Can't work that out this time. ");
	repeat(m, "a", MB);  /* no line end at all */
}

static void nul_bytes(sbuf *m)
{
	static const char msg[] = "From: Raj <raj@acme.example>\r\nTo: \"Maria\0Lopez\" <maria@example.net>\r\n"
		"Subject: Re: he\0lp\r\nX-Nul: \0\0\0\r\nContent-Type: text/plain\r\n\r\n"
		"Nope.\0 Can't work that out\0 this time.\r\n\0\0\0\r\n";
	putn(m, msg, sizeof msg - 1);
}

static void bad_utf8(sbuf *m)
{
	plain(m);
	/* overlong, surrogate, past U+10FFFF, stray continuation, truncated */
	put(m, "Nope. \xc0\xaf Can't \xed\xa0\x80 work \xf4\x90\x80\x80 that \x80\xbf out this time. \xe2\x82\r\n");
}

static void klingon(sbuf *m)
{
	put(m, HDR "Content-Type: text/plain; charset=x-klingon\r\n\r\n" CURT);
}

static void ascii_8bit(sbuf *m)
{
	put(m, HDR "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "Nope. Can't work that out this time, caf\xe9 \xc3\xa9t\xc3\xa9.\r\n");
}

static void bad_base64(sbuf *m)
{
	put(m, HDR "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "Tm9wZS4gQ2FuJ3Qgd29yayB0aGF0IG91dCB0aGlzIHRpbWUuCg!!*&^%===abc=\r\n====\r\nQ\r\n");
}

static void bad_qp(sbuf *m)
{
	put(m, HDR "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Nope. Can=27t work that out this time.=ZZ =\r\n=4\r\n=");
}

static void no_boundary(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative\r\n\r\n"
	    "--x\r\nContent-Type: text/plain\r\n\r\n" CURT "--x--\r\n");
}

static void boundary_never(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n" CURT);
}

/* Issue #6's evasion: the parts are delimited by "alt", the header says
 * "zz". libetpan judged only what follows the last "--" line ("alt--" and
 * the polite epilogue), and the curt reply passed. */
static void boundary_mismatch(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" CURT "\r\n"
	    "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p>\r\n"
	    "--alt--\r\nThanks!\r\n");
}

static void boundary_mismatch_nested(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n"
	    "--out\r\nContent-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" CURT "\r\n"
	    "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p>\r\n"
	    "--alt--\r\nThanks!\r\n"
	    "--out\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\nJVBERi0=\r\n"
	    "--out--\r\n");
}

/* libetpan takes "--alt-x" for a delimiter of "alt". */
static void boundary_prefix(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
	    "--alt-x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks!\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Maria,\r\n--alt-x\r\n" CURT
	    "--alt--\r\n");
}

static void boundary_reused(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n" CURT
	    "--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b--\r\n--b--\r\n");
}

static void boundary_twice(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"a\"; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n" CURT "--b--\r\n");
}

/* Folded and quoted boundaries, read as libetpan reads them: neither too
 * deep nor malformed. A comment before the parameter makes libetpan drop
 * it: then the reading is the lenient one, and the reply still judged. */
static void boundaries_folded(sbuf *m, const char *outer)
{
	put(m, HDR "Content-Type: multipart/mixed;");
	put(m, outer);
	put(m, "\r\n\tboundary=\"=_mix 42\"\r\n\r\n"
	    "--=_mix 42\r\nContent-Type: multipart/alternative;\r\n boundary\r\n =alt\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain\r\n\r\n" CURT "--alt--\r\n--=_mix 42--\r\n");
}
static void boundary_folded(sbuf *m) { boundaries_folded(m, ""); }
static void boundary_commented(sbuf *m) { boundaries_folded(m, " (outer)"); }

/* The lenient reading must not hold a courteous reply for its MIME. */
static void polite_mismatch(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n"
	    "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	    "Hi Maria,\r\n\r\nI'm sorry the export failed. I've re-run it and the file is attached. "
	    "Let me know if it looks right.\r\n\r\nBest regards,\r\nRaj\r\n"
	    "--alt--\r\n");
}

static void header_only_cut(sbuf *m)
{
	put(m, "From: Raj <raj@acme.example>\r\nTo: maria@example.net\r\nSubject: Nope\r\nMIME-Version: 1.0");
}

static void header_only(sbuf *m)
{
	put(m, "From: Raj <raj@acme.example>\r\nTo: maria@example.net\r\nSubject: Nope\r\nMIME-Version: 1.0\r\n");
}

static void headers_8bit(sbuf *m)
{
	put(m, "From: R\xe4j M\xfcller <raj@acme.example>\r\n"      /* Latin-1 */
	    "To: \"M\xc3\xa1ria L\xc3\xb3pez\" <maria@example.net>\r\n"  /* UTF-8 */
	    "Subject: Re: caf\xc3\xa9 \xe2\x82\xac\r\n"
	    "Content-Type: text/plain\r\n\r\n" CURT);
}

static void headers_100k(sbuf *m)
{
	put(m, HDR);
	for (unsigned i = 0; i < 100000; i++)
		gen_failed |= sbuf_printf(m, "X-Filler-%u: value %u\r\n", i, i) != 0;
	put(m, "Content-Type: text/plain\r\n\r\n" CURT);
}

static void header_1mb(sbuf *m)
{
	put(m, HDR "X-Long: ");
	repeat(m, "a", MB);
	put(m, "\r\nContent-Type: text/plain\r\n\r\n" CURT);
}

static void subject_1mb_folded(sbuf *m)
{
	put(m, "From: Raj <raj@acme.example>\r\nTo: maria@example.net\r\nSubject: x");
	repeat(m, "\r\n =?utf-8?q?ab_cd?= ef", MB / 22);
	put(m, "\r\nContent-Type: text/plain\r\n\r\n" CURT);
}

/* The curt reply inside n nested divs (html.c's depth cap is 512). */
static void divs(sbuf *m, size_t n)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
	repeat(m, "<div>", n);
	put(m, CURT);
	repeat(m, "</div>", n);
	put(m, "</body></html>\r\n");
}
static void divs_10k(sbuf *m) { divs(m, 10000); }
static void divs_500(sbuf *m) { divs(m, 500); }

/* libxml2 searches the open elements for each end tag: the depth cap keeps
 * 400,000 stray ones under 500 open divs to a second or so. */
static void end_tags_stray(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p>");
	repeat(m, "<div>", 500);
	repeat(m, "</x>", 400000);
}

static void inline_100k(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p>");
	repeat(m, "<b>", 100000);
	put(m, "x");
}

/* 5,000 rows of 20 cells: 105,000 elements in 1.3 MB, a node per 6 bytes:
 * past html.c's node budget (a node per 16 bytes of max_html_size). */
static void table_huge(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" CURT "</p><table>");
	for (unsigned r = 0; r < 5000; r++) {
		put(m, "<tr>");
		repeat(m, "<td>cell</td>", 20);
		put(m, "</tr>\r\n");
	}
	put(m, "</table></body></html>\r\n");
}

/* An order history in lean markup: 6,000 rows, 1.1 MB, a node per 11
 * bytes: inside the budget, judged. */
static void table_large(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" CURT "</p>"
	    "<table style=\"border-collapse:collapse\">");
	for (unsigned r = 0; r < 6000; r++)
		gen_failed |= sbuf_printf(m, "<tr><td style=\"padding:2px\">Order #%u</td>"
			"<td>Blue widget, large</td><td>2025-03-%02u</td><td>$%u.00</td>"
			"<td>Shipped by ground courier</td><td>Tracking 1Z999AA1%08u</td></tr>\r\n",
			100000 + r, r % 28 + 1, r % 90 + 10, r) != 0;
	put(m, "</table></body></html>\r\n");
}

/* Dense markup (1.8 MB, 450,000 elements): stopped at the node budget
 * instead of a ~115 MB tree. */
static void tags_dense(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p>");
	repeat(m, "<p>x", 450000);
}

static void attrs_dense(sbuf *m)
{
	put(m, HDR "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" CURT "</p><div ");
	for (unsigned i = 0; i < 200000; i++)  /* distinct: libxml2 drops repeats */
		gen_failed |= sbuf_printf(m, "a%x=b ", i) != 0;
	put(m, ">x</div>");
}

static void rfc2047_broken(sbuf *m)
{
	put(m, "From: =?utf-8?q?R=E4j?= =?bogus <raj@acme.example>\r\n"
	    "To: =?x-klingon?Q?Maria?= <maria@example.net>\r\n"
	    "Subject: =?utf-8?B?!!!?= =?utf-8?Q?=ZZ=?= =?utf-8?B?w6k?= =?iso-8859-1?q?caf=E9?= =?");
	repeat(m, "QUFB", 50000);
	repeat(m, " =?", 1000);
	put(m, "\r\nContent-Type: text/plain\r\n\r\n" CURT);
}

/* ---- the words a reader is shown -------------------------------------- */

/* A courteous reply (passes on its own), as plain text and as HTML. */
#define POLITE "Hi Maria,\r\n\r\nThanks for getting in touch, and I'm sorry the export failed. " \
	"I've re-run it and the file is attached. Let me know if it looks right.\r\n\r\nBest regards,\r\nRaj\r\n"
#define POLITE_HTML "<p>Hi Maria,</p>\r\n<p>Thanks for getting in touch, and I&rsquo;m sorry the export " \
	"failed. I&#39;ve re-run it and the file is attached. Let me know if it looks right.</p>\r\n" \
	"<p>Best regards,<br>Raj</p>\r\n"
/* Courteous, and no reason or alternative of its own: with the curt words
 * under it, it is still a bare refusal. */
#define THANKS "Hi Maria,\r\n\r\nThanks for your patience while I looked into this.\r\n\r\n" \
	"Best regards,\r\nRaj\r\n"
#define HISTORY "\r\nOn Mon, 3 Mar 2025 at 10:02, Maria Lopez <maria@example.net> wrote:\r\n" \
	"> The export is broken again and I need the file today.\r\n"
#define HISTORY_HTML "<div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, 3 Mar 2025 at 10:02, " \
	"Maria Lopez &lt;maria@example.net&gt; wrote:<br></div><blockquote class=\"gmail_quote\">" \
	"The export is broken again and I need the file today.</blockquote></div>\r\n"
#define OUTLOOK_HISTORY "\r\n-----Original Message-----\r\nFrom: Maria Lopez <maria@example.net>\r\n" \
	"Sent: Monday, March 3, 2025 10:02 AM\r\nTo: Acme Support <support@acme.example>\r\n" \
	"Subject: export\r\n\r\nThe export is broken again and I need the file today.\r\n"
#define SIGNATURE "-- \r\nRaj Patel | Acme Support\r\n"
#define PNG "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n" \
	"Content-ID: <shot@acme.example>\r\n\r\niVBORw0KGgo=\r\n"

static void part(sbuf *m, const char *b, const char *type, const char *body)
{
	ck_assert_int_eq(sbuf_printf(m, "--%s\r\nContent-Type: %s; charset=utf-8\r\n\r\n%s\r\n", b, type, body), 0);
}

/* multipart/alternative: a plain part, then rich: an HTML part, or the
 * parts of a multipart/related when rich_ct is one */
static void alternative(sbuf *m, const char *plain_text, const char *html)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n");
	part(m, "alt", "text/plain", plain_text);
	part(m, "alt", "text/html", html);
	put(m, "--alt--\r\n");
}

/* Issue #6's first evasion: most mail clients show the HTML. */
static void alt_curt_html(sbuf *m) { alternative(m, POLITE, "<p>Nope. Can&#39;t work that out this time.</p>"); }
/* The other way round: a plain-text reader is shown the curt words. */
static void alt_curt_plain(sbuf *m) { alternative(m, CURT, POLITE_HTML); }
/* A help desk's placeholder plain form: the HTML is the reply. */
static void alt_placeholder_plain(sbuf *m)
{
	alternative(m, "This message is in HTML format. To read it, please use an email program\r\n"
		    "that can display HTML.\r\n", POLITE_HTML);
}
/* The plain text's words, and one sentence more. */
static void alt_curt_inserted(sbuf *m)
{
	alternative(m, POLITE, "<p>Hi Maria,</p>\r\n<p>Please calm down.</p>\r\n<p>Thanks for getting in touch, and "
		    "I&rsquo;m sorry the export failed. I&#39;ve re-run it and the file is attached. Let me know if "
		    "it looks right.</p>\r\n<p>Best regards,<br>Raj</p>\r\n");
}
/* The courteous words quoted or hidden, the curt ones shown. */
static void alt_curt_polite_quoted(sbuf *m)
{
	alternative(m, POLITE HISTORY, "<blockquote>" POLITE_HTML "</blockquote><p>" CURT "</p>" HISTORY_HTML);
}
static void alt_curt_polite_hidden(sbuf *m)
{
	alternative(m, POLITE, "<div style=\"display: none\">" POLITE_HTML "</div><p>" CURT "</p>");
}
/* The HTML inside a multipart/related (with the image it shows). */
static void alt_related_curt(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n");
	part(m, "alt", "text/plain", POLITE);
	put(m, "--alt\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n");
	part(m, "rel", "text/html", "<p>" CURT "</p><img src=\"cid:shot@acme.example\">");
	put(m, "--rel\r\n" PNG "--rel--\r\n--alt--\r\n");
}
/* The start parameter names the root a client shows (RFC 2387). */
static void related_start_curt(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/related; boundary=\"rel\"; start=\"<b@acme.example>\"\r\n\r\n"
	    "--rel\r\nContent-Type: text/html\r\nContent-ID: <a@acme.example>\r\n\r\n" POLITE_HTML "\r\n"
	    "--rel\r\nContent-Type: text/html\r\nContent-ID: <b@acme.example>\r\n\r\n<p>" CURT "</p>\r\n--rel--\r\n");
}
/* The same reply in both forms: the HTML signature has a link the plain
 * one lacks, the HTML a hidden preheader: the plain form is judged. */
static void alt_same_words(sbuf *m)
{
	alternative(m, POLITE SIGNATURE HISTORY,
		    "<div style=\"display:none;max-height:0\">Your export is attached</div>\r\n" POLITE_HTML
		    "<table class=\"sig\"><tr><td><b>Raj Patel</b><br>Acme Support<br>"
		    "<a href=\"https://acme.example/help\">Help centre</a></td></tr></table>\r\n" HISTORY_HTML);
}

/* multipart/mixed of the given parts (type, body), then a PDF attachment */
static void mixed(sbuf *m, const char *const *parts, size_t n)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n");
	for (size_t i = 0; i + 1 < n; i += 2)
		ck_assert_int_eq(sbuf_printf(m, "--mix\r\n%s\r\n\r\n%s\r\n", parts[i], parts[i + 1]), 0);
	put(m, "--mix\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; "
	    "filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--mix--\r\n");
}
#define TEXT "Content-Type: text/plain; charset=utf-8"

/* Issue #6's second evasion: a second inline text part, shown after the first. */
static void mixed_curt_second(sbuf *m) { mixed(m, (const char *[]){TEXT, THANKS, TEXT, CURT}, 4); }
/* ... after the first part's signature or quoted history, which end with the part */
static void mixed_curt_after_signature(sbuf *m) { mixed(m, (const char *[]){TEXT, THANKS SIGNATURE, TEXT, CURT}, 4); }
static void mixed_curt_after_history(sbuf *m) { mixed(m, (const char *[]){TEXT, THANKS OUTLOOK_HISTORY, TEXT, CURT}, 4); }
/* Apple Mail: text, the image inline, the rest of the text. */
static void mixed_inline_image(sbuf *m)
{
	mixed(m, (const char *[]){TEXT, "Hi Maria,\r\n\r\nThanks for the screenshot. Here is what the export shows now:",
		  PNG "Content-Disposition: inline; filename=\"shot.png\"", "",
		  TEXT, "I'm sorry it took two tries. Let me know if anything still looks wrong.\r\n\r\n"
		  "Best regards,\r\nRaj\r\n" HISTORY}, 6);
}
/* A text file sent inline, a forwarded message: not the agent's words. */
static void mixed_named_text(sbuf *m)
{
	mixed(m, (const char *[]){TEXT, THANKS, TEXT "; name=\"export.log\"\r\nContent-Disposition: inline", CURT}, 4);
}
static void mixed_forwarded(sbuf *m)
{
	mixed(m, (const char *[]){TEXT, THANKS, "Content-Type: message/rfc822",
		  "From: ops@acme.example\r\nSubject: export\r\nContent-Type: text/plain\r\n\r\n" CURT}, 4);
}

/* 150 alternatives whose HTML differs from their plain text: a parse, a
 * comparison and a cut per part. */
static void alternatives_150(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n");
	for (unsigned i = 0; i < 150; i++)
		ck_assert_int_eq(sbuf_printf(m, "--mix\r\nContent-Type: multipart/alternative; boundary=\"a%u\"\r\n\r\n"
			"--a%u\r\nContent-Type: text/plain\r\n\r\nThanks, %u.\r\n-- \r\nRaj\r\n"
			"--a%u\r\nContent-Type: text/html\r\n\r\n<p>No. %u</p>\r\n--a%u--\r\n", i, i, i, i, i, i), 0);
	put(m, "--mix--\r\n");
}

/* A 3 MB plain form of distinct words and a 1.9 MB HTML form of others:
 * the word pairs kept are capped, the HTML is parsed and judged. */
static void alternative_huge(sbuf *m)
{
	put(m, HDR "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain\r\n\r\n" CURT);
	for (unsigned i = 0; m->len < 3 * MB; i++)
		ck_assert_int_eq(sbuf_printf(m, "w%x v%x\r\n", i, i * 7), 0);
	put(m, "\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>" CURT "</p><p>");
	for (size_t start = m->len, i = 0; m->len - start < 19 * MB / 10; i++)
		ck_assert_int_eq(sbuf_printf(m, "h%zx ", i), 0);
	put(m, "</p>\r\n--alt--\r\n");
}

/* ---- the table -------------------------------------------------------- */

enum { ANY = -1 };

static const struct hostile_case {
	const char *name;
	void (*gen)(sbuf *m);
	tg_status status;
	int action;         /* when TG_OK: the expected tg_action, or ANY */
	int malformed;      /* expected tg_message.malformed */
	double max_seconds; /* for the sanitizer build */
} cases[] = {
	{"50 MB body", body_50mb, TG_TOO_BIG, ANY, 0, 5},
	{"9 MB body", body_9mb, TG_DECODED_TOO_BIG, ANY, 0, 20},
	{"10,000-deep multipart nesting", nest_plain, TG_TOO_DEEP, ANY, 0, 10},
	{"10,000-deep nesting, boundary = spaced", nest_spaced, TG_TOO_DEEP, ANY, 0, 10},
	{"10,000-deep nesting, boundary folded", nest_folded, TG_TOO_DEEP, ANY, 0, 10},
	{"10,000-deep nesting, boundary(comment)", nest_comment, TG_TOO_DEEP, ANY, 0, 10},
	{"10,000-deep nesting, encoded Content-Type", nest_encoded, TG_TOO_DEEP, ANY, 0, 10},
	{"200,000 nested message/rfc822", rfc822_200k, TG_TOO_DEEP, ANY, 0, 10},
	{"100,000 parts", parts_100k, TG_TOO_MANY_PARTS, ANY, 0, 20},
	{"100,000 parts under an unused boundary", parts_100k_undeclared, TG_TOO_MANY_PARTS, ANY, 1, 20},
	{"1 MB line, no newline", line_1mb, TG_OK, TG_HOLD, 0, 20},
	{"NUL bytes in headers and body", nul_bytes, TG_OK, TG_HOLD, 0, 5},
	{"invalid UTF-8", bad_utf8, TG_OK, TG_HOLD, 0, 5},
	{"charset=x-klingon", klingon, TG_OK, TG_HOLD, 0, 5},
	{"8-bit body declared us-ascii", ascii_8bit, TG_OK, TG_HOLD, 0, 5},
	{"broken base64", bad_base64, TG_OK, TG_HOLD, 0, 5},
	{"broken quoted-printable", bad_qp, TG_OK, TG_HOLD, 0, 5},
	{"multipart without boundary", no_boundary, TG_OK, TG_HOLD, 1, 5},
	{"boundary that never appears", boundary_never, TG_OK, TG_HOLD, 1, 5},
	{"declared boundary not the one used", boundary_mismatch, TG_OK, TG_HOLD, 1, 5},
	{"nested part's boundary not the one used", boundary_mismatch_nested, TG_OK, TG_HOLD, 1, 5},
	{"delimiter only prefixed by the boundary", boundary_prefix, TG_OK, TG_HOLD, 1, 5},
	{"nested part reusing the parent's boundary", boundary_reused, TG_OK, TG_HOLD, 1, 5},
	{"two boundary parameters", boundary_twice, TG_OK, TG_HOLD, 1, 5},
	{"courteous reply, broken boundary", polite_mismatch, TG_OK, TG_PASS, 1, 5},
	{"folded boundaries", boundary_folded, TG_OK, TG_HOLD, 0, 5},
	{"comment before the boundary parameter", boundary_commented, TG_OK, TG_HOLD, 1, 5},
	{"header only, last line cut", header_only_cut, TG_NO_TEXT, ANY, 0, 5},
	{"header only", header_only, TG_NO_TEXT, ANY, 0, 5},
	{"8-bit raw headers", headers_8bit, TG_OK, TG_HOLD, 0, 5},
	{"100,000 header fields", headers_100k, TG_OK, TG_HOLD, 0, 30},
	{"1 MB header field", header_1mb, TG_OK, TG_HOLD, 0, 20},
	{"1 MB folded encoded Subject", subject_1mb_folded, TG_OK, TG_HOLD, 0, 30},
	{"10,000 nested divs", divs_10k, TG_DECODED_TOO_BIG, ANY, 0, 10},
	{"500 nested divs", divs_500, TG_OK, TG_HOLD, 0, 10},
	{"500 open divs, 400,000 stray end tags", end_tags_stray, TG_OK, TG_HOLD, 0, 20},
	{"100,000 nested <b>", inline_100k, TG_DECODED_TOO_BIG, ANY, 0, 20},
	{"huge HTML table", table_huge, TG_DECODED_TOO_BIG, ANY, 0, 30},
	/* the curt rule leaves refusals in long replies to the other rules */
	{"large HTML table", table_large, TG_OK, TG_SUGGEST, 0, 30},
	{"450,000 HTML elements", tags_dense, TG_DECODED_TOO_BIG, ANY, 0, 10},
	{"200,000 attributes on one tag", attrs_dense, TG_DECODED_TOO_BIG, ANY, 0, 10},
	{"broken RFC 2047 encoded words", rfc2047_broken, TG_OK, TG_HOLD, 0, 10},
	{"alternative: courteous plain, curt HTML", alt_curt_html, TG_OK, TG_HOLD, 0, 5},
	{"alternative: HTML with one sentence more", alt_curt_inserted, TG_OK, TG_HOLD, 0, 5},
	{"alternative: curt plain, courteous HTML", alt_curt_plain, TG_OK, TG_HOLD, 0, 5},
	{"alternative: placeholder plain, courteous HTML", alt_placeholder_plain, TG_OK, TG_PASS, 0, 5},
	{"alternative: courteous words quoted in HTML", alt_curt_polite_quoted, TG_OK, TG_HOLD, 0, 5},
	{"alternative: courteous words hidden in HTML", alt_curt_polite_hidden, TG_OK, TG_HOLD, 0, 5},
	{"alternative: curt HTML in multipart/related", alt_related_curt, TG_OK, TG_HOLD, 0, 5},
	{"related: start names the curt root", related_start_curt, TG_OK, TG_HOLD, 0, 5},
	{"alternative: same reply, HTML link, preheader", alt_same_words, TG_OK, TG_PASS, 0, 5},
	{"mixed: curt second inline text part", mixed_curt_second, TG_OK, TG_HOLD, 0, 5},
	{"mixed: curt part after a signature", mixed_curt_after_signature, TG_OK, TG_HOLD, 0, 5},
	{"mixed: curt part after quoted history", mixed_curt_after_history, TG_OK, TG_HOLD, 0, 5},
	{"mixed: text, inline image, text", mixed_inline_image, TG_OK, TG_PASS, 0, 5},
	{"mixed: curt words in a named text file", mixed_named_text, TG_OK, TG_PASS, 0, 5},
	{"mixed: curt words in a forwarded message", mixed_forwarded, TG_OK, TG_PASS, 0, 5},
	{"150 alternatives, HTML differing", alternatives_150, TG_OK, ANY, 0, 10},
	{"alternative: 3 MB plain, 1.9 MB other HTML", alternative_huge, TG_OK, ANY, 0, 30},
};

/* ---- measuring -------------------------------------------------------- */

/* A field of /proc/self/status in kB, or -1. */
static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Forget the peak so far (Linux >= 4.0): VmHWM falls to VmRSS, and is
 * returned. The kernel records the peak when memory is unmapped and reports
 * max(peak, current), so VmHWM afterwards is the peak since. */
static long peak_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	ck_assert_msg(f != NULL, "cannot open /proc/self/clear_refs");
	ck_assert_int_eq(fputs("5", f) < 0, 0);
	ck_assert_int_eq(fclose(f), 0);
	long hwm = status_kb("VmHWM"), rss = status_kb("VmRSS");
	ck_assert_msg(hwm > 0 && hwm <= rss + 1024, "VmHWM %ld kB not reset (VmRSS %ld kB)", hwm, rss);
	return hwm;
}

static int valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0, l; i < n; i += l)
		if ((l = text_u8len((const unsigned char *)s + i, n - i)) == 0)
			return 0;
	return 1;
}

START_TEST(hostile)
{
	const struct hostile_case *c = &cases[_i];
	tg_policy *p = tu_policy();
	tg_scratch *scratch = matcher_scratch_new(p->matcher);
	ck_assert_ptr_nonnull(scratch);
	sbuf m = SBUF_INIT;
	gen_failed = 0;
	c->gen(&m);
	ck_assert_msg(!gen_failed && m.s, "%s: out of memory building the message", c->name);

	/* glibc: the free memory left by building the message goes back to the
	 * kernel, and from here on nothing does, so every byte the judgement
	 * takes shows in RSS and no peak hides in memory freed before the
	 * kernel noticed it (it updates VmHWM lazily). */
	malloc_trim(0);
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	long rss0 = peak_reset();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tg_judgement j;
	int rc = judge_message(p, scratch, m.s, m.len, NULL, &j);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long grew = status_kb("VmHWM") - rss0;
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	long bound = (long)(3 * m.len / 1024) + 64 * 1024;
	const char *action = rc == 0 && j.status == TG_OK && j.in_scope ? policy_action_name(j.verdict.action) : "-";
	char rules[256] = "";
	if (rc == 0 && j.status == TG_OK)
		tu_rules(&j.verdict, rules, sizeof rules);
	printf("hostile: %-42s %8.2f MB  %-16s %-8s %7.3f s  peak +%6.1f MB (bound %4ld MB)  %s\n", c->name,
	       (double)m.len / MB, tg_status_id(j.status), action, secs, grew / 1024.0, bound / 1024, rules);
	fflush(stdout);

	ck_assert_msg(rc == 0, "%s: judge_message failed (the daemon's on_error)", c->name);
	ck_assert_msg(j.status == c->status, "%s: status %s, want %s", c->name, tg_status_id(j.status),
		      tg_status_id(c->status));
	if (c->status == TG_OK) {
		ck_assert_int_eq(j.in_scope, 1);
		if (c->action != ANY)
			ck_assert_msg((int)j.verdict.action == c->action, "%s: %s (%s), want %s", c->name, action,
				      rules, policy_action_name((tg_action)c->action));
		ck_assert_msg(valid_utf8(j.mail.text, j.mail.text_len), "%s: text is not UTF-8", c->name);
	}
	ck_assert_msg(j.mail.malformed == c->malformed, "%s: malformed %d", c->name, j.mail.malformed);
	for (size_t i = 0; i < j.mail.nhdr; i++)
		ck_assert_msg(valid_utf8(j.mail.hdr[i].value, strlen(j.mail.hdr[i].value)),
			      "%s: header %s is not UTF-8", c->name, j.mail.hdr[i].name);
	/* Under valgrind (make check-valgrind) time and RSS measure valgrind. */
	if (getenv("TG_UNDER_VALGRIND") == NULL) {
		ck_assert_msg(secs <= c->max_seconds, "%s: %.2f s, bound %.0f s", c->name, secs, c->max_seconds);
		ck_assert_msg(grew >= 0 && grew <= bound, "%s: peak grew %ld kB, bound %ld kB", c->name, grew,
			      bound);
	}

	judge_free(&j);
	matcher_scratch_free(scratch);
	sbuf_free(&m);
	policy_unref(p);
}
END_TEST

/* What the outcomes above rest on, checked on the parts themselves. */
START_TEST(hostile_details)
{
	tg_policy *p = tu_policy();
	tg_judgement j;
	sbuf m = SBUF_INIT;

	/* the evasion: the curt reply itself is what the hold is for */
	boundary_mismatch(&m);
	tu_judge(p, m.s, &j);
	ck_assert_int_eq(j.verdict.action, TG_HOLD);
	ck_assert_ptr_nonnull(strstr(j.mail.text, "Nope. Can't work that out this time."));
	char rules[256];
	tu_rules(&j.verdict, rules, sizeof rules);
	ck_assert_ptr_nonnull(strstr(rules, "curt"));
	judge_free(&j);

	/* 8-bit headers: UTF-8 kept, anything else read as Latin-1 */
	sbuf_reset(&m);
	headers_8bit(&m);
	tu_judge(p, m.s, &j);
	ck_assert_str_eq(j.mail.from_name, "R\xc3\xa4j M\xc3\xbcller");
	ck_assert_str_eq(j.mail.customer, "M\xc3\xa1ria L\xc3\xb3pez");
	ck_assert_str_eq(message_header(&j.mail, "Subject"), "Re: caf\xc3\xa9 \xe2\x82\xac");
	judge_free(&j);

	/* unknown charset: judged as the bytes read, and said so */
	sbuf_reset(&m);
	klingon(&m);
	tu_judge(p, m.s, &j);
	ck_assert_str_eq(j.mail.bad_charset, "x-klingon");
	tu_rules(&j.verdict, rules, sizeof rules);
	ck_assert_ptr_nonnull(strstr(rules, "charset"));
	judge_free(&j);

	/* invalid bytes become U+FFFD and are counted */
	sbuf_reset(&m);
	bad_utf8(&m);
	tu_judge(p, m.s, &j);
	ck_assert_int_ge(j.mail.repairs, 5);
	judge_free(&j);

	/* header only: the fields are all read, the last one too */
	sbuf_reset(&m);
	header_only_cut(&m);
	tu_judge(p, m.s, &j);
	ck_assert_int_eq(j.status, TG_NO_TEXT);
	ck_assert_uint_eq(j.mail.nhdr, 4);
	ck_assert_str_eq(message_header(&j.mail, "MIME-Version"), "1.0");
	judge_free(&j);

	/* NUL: a header value ends at it; the body's is replaced */
	sbuf_reset(&m);
	nul_bytes(&m);
	tg_scratch *s = matcher_scratch_new(p->matcher);
	ck_assert_int_eq(judge_message(p, s, m.s, m.len, NULL, &j), 0);
	ck_assert_ptr_null(memchr(j.mail.text, '\0', j.mail.text_len));
	ck_assert_str_eq(j.mail.from, "raj@acme.example");
	judge_free(&j);
	matcher_scratch_free(s);

	sbuf_free(&m);
	policy_unref(p);
}
END_TEST

/* What is judged of the parts shown: words the text must and must not
 * hold, whether it came from HTML, and the customer's quoted words (NULL:
 * none). */
static const struct shown_case {
	void (*gen)(sbuf *m);
	int html;
	const char *has[3], *lacks;
	const char *quoted;
} shown_cases[] = {
	/* the curt HTML judged, not the plain text */
	{alt_curt_html, 1, {"Nope. Can't work that out this time."}, "Thanks for getting in touch", NULL},
	/* the same reply in both forms: the plain text as it was, and only it */
	{alt_same_words, 0, {"Hi Maria,\n\nThanks for getting in touch, and I'm sorry",
			     "Raj\n-- \nRaj Patel | Acme Support\n", "\n> The export is broken again"}, "Help centre", NULL},
	/* both parts, the first one's history kept as the customer's words,
	 * not as the end of the reply */
	{mixed_curt_after_history, 0, {"Thanks for your patience", "Nope. Can't work that out this time."},
	 "Original Message", "The export is broken again"},
	/* a named text part is a file, not words */
	{mixed_named_text, 0, {"Thanks for your patience"}, "Nope", NULL},
	/* multipart/related: the root the start parameter names, alone */
	{related_start_curt, 1, {"Nope. Can't work that out this time."}, "Hi Maria", NULL},
};

START_TEST(shown_text)
{
	const struct shown_case *c = &shown_cases[_i];
	tg_policy *p = tu_policy();
	tg_judgement j;
	sbuf m = SBUF_INIT;
	c->gen(&m);
	tu_judge(p, m.s, &j);
	ck_assert_int_eq(j.status, TG_OK);
	ck_assert_int_eq(j.mail.html, c->html);
	for (int i = 0; i < 3 && c->has[i]; i++)
		ck_assert_msg(strstr(j.mail.text, c->has[i]), "case %d: no \"%s\" in \"%s\"", _i, c->has[i], j.mail.text);
	ck_assert_msg(!strstr(j.mail.text, c->lacks), "case %d: \"%s\" in \"%s\"", _i, c->lacks, j.mail.text);
	if (c->quoted)
		ck_assert_msg(j.mail.quoted_html && strstr(j.mail.quoted_html, c->quoted),
			      "case %d: no \"%s\" in the quoted words", _i, c->quoted);
	else
		ck_assert_ptr_null(j.mail.quoted_html);
	judge_free(&j);
	sbuf_free(&m);
	policy_unref(p);
}
END_TEST

/* html_skim() keeps every letter html_to_text() shows, in order, however
 * the markup tries to hide one, or says the markup is too odd to tell (1);
 * a cut html_skim_cut() picks leaves the text before it as it was. The
 * alternative's quick look rests on both. */
static const struct skim_case {
	const char *html;
	int odd;
} skim_cases[] = {
	{"<p>Hi Maria,</p><p>Thanks &amp; regards&nbsp;&rsquo;&#8217;&#x2019;</p>", 0},
	{"<!-- a > b -->Nope<!-- c", 1},
	{"<!--->Nope-->x<!---->y", 0},
	{"<!-- \x01 -->Nope", 1},
	{"<style>p{}</style>Nope<style/>Can't<script>x</script >work", 0},
	{"<STYLE>p{}</STYLE>Nope</style>", 0},
	{"x<script></p>Nope</script>", 1},       /* libxml2 reads the end tag first */
	{"<style><body>Nope</style>", 1},        /* <body> closes <style> */
	{"<b><style></td>Nope", 1},              /* never closed */
	{"</ Nope>that <3 < out", 1},
	{"<? pi ?><!x><![CDATA[ this ]]> time", 1},
	{"<p title=\"a>Nope\">Can't</p>", 1},  /* a quote open at the first '>' */
	{"<p title=\"a>Nope\"'>Can't</p>", 1},
	{"<p>unterminated <b tag Nope", 1},
	{"Nope<!DOCTYPE html></pre>", 1},
	{"<p>ok</p></body></html></a>Nope", 1},
	{"<title>Re</title><textarea>Nope</textarea>", 1},
	{"N<b></b>o<i>p</i>e &#78;&#111;pe &#x4e;ope &#78ope &eacute;t&eacute; caf&eacute; &bogus; &amp", 0},
	{"<table><tr><td>Nope</td><td>Can't</td></tr></table><ul><li>work</li></ul>that<br>out", 0},
	{"<html><head><meta charset=utf-8></head><body><div hidden>a</div><div style=\"display:none\">b</div>Nope</body></html>", 0},
	{"<blockquote>quoted</blockquote><div class=\"gmail_quote\">q</div><div class=\"gmail_signature\">sig</div>after", 0},
	{"\xef\xbf\xbd<p>caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 \xe2\x82\xac" "600 \xc3\xa9t\xc3\xa9</p>", 0},
};

/* Is every ASCII letter and digit of a, in order, in b? */
static int letters_in(const char *a, size_t an, const char *b, size_t bn)
{
	size_t j = 0;
	for (size_t i = 0; i < an; i++) {
		if (!text_is_word_byte((unsigned char)a[i]) || (unsigned char)a[i] >= 0x80 || a[i] == '_')
			continue;
		while (j < bn && b[j] != a[i])
			j++;
		if (j++ >= bn)
			return 0;
	}
	return 1;
}

/* Check both properties on h; returns html_skim()'s answer. */
static int skim_check(const char *h, size_t n, unsigned pick)
{
	sbuf text = SBUF_INIT, skim = SBUF_INIT, pre = SBUF_INIT, cut_text = SBUF_INIT;
	ck_assert_int_ne(html_to_text(h, n, 0, &text, NULL), HTML_ERROR);
	int odd = html_skim(h, n, &skim);
	ck_assert_int_ge(odd, 0);
	if (!odd) {
		ck_assert_msg(letters_in(text.s ? text.s : "", text.len, skim.s ? skim.s : "", skim.len),
			      "html_to_text shows \"%s\", the skim \"%s\" (of \"%.*s\")", text.s, skim.s, (int)n, h);
		int plain;
		size_t cut = html_skim_cut(h, n, skim.len ? pick % (skim.len + 1) : 0, &pre, &plain);
		ck_assert_uint_le(cut, n);
		ck_assert_int_ne(html_to_text(h, cut, 0, &cut_text, NULL), HTML_ERROR);
		/* the text before the cut reads the same: a prefix of the whole */
		ck_assert_msg(letters_in(cut_text.s ? cut_text.s : "", cut_text.len, text.s ? text.s : "", text.len),
			      "cut at %zu of \"%.*s\": \"%s\" is not how \"%s\" starts", cut, (int)n, h, cut_text.s, text.s);
	}
	sbuf_free(&text);
	sbuf_free(&skim);
	sbuf_free(&pre);
	sbuf_free(&cut_text);
	return odd;
}

START_TEST(skim_keeps_every_letter)
{
	const struct skim_case *c = &skim_cases[_i];
	ck_assert_msg(skim_check(c->html, strlen(c->html), 7) == c->odd, "\"%s\": odd is not %d", c->html, c->odd);
}
END_TEST

/* The same on 10,000 documents made of pieces mail and tricks are made of. */
START_TEST(skim_keeps_every_letter_random)
{
	static const char *const piece[] = { "<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<br>", "<i>",
		"</i>", "<span>", "</span>", "<!-- x -->", "<!-- a > b -->", "<!--", "-->", "<style>p{x}</style>",
		"<style>", "</style>", "<script>y</script>", "<script>", "</script>", "<style/>", "<head>", "</head>",
		"<body>", "</body>", "</html>", "<title>", "<blockquote>", "</blockquote>",
		"<div class=\"gmail_quote\">", "<span style=\"display:none\">", "<table>", "</table>", "<tr>", "<td>",
		"</td>", "<ul>", "<li>", "</ul>", "<pre>", "</pre>", "<center>", "<font color=red>", "</font>",
		"<o:p>", "</o:p>", "<a href=\"x\">", "<a href=\"x>y\">", "</a>", "<img alt='w>'>", "<select><option>",
		"</select>", "<object>", "</object>", "<math>", "<svg><text>t</text></svg>", "<frameset>", "<dd>",
		"<caption>", "<textarea>", "<iframe>", "<!DOCTYPE html>", "<![CDATA[", "]]>", "<?x?>", "</ x>", "<3",
		"&amp;", "&nbsp;", "&#78;", "&#x4f;", "&#78ope", "&eacute;", "&bogus;", "&copy", "&", "<", ">", "\"",
		"'", "=", " ", "\n", "\x01", "Nope", "Maria", "ok", "x" };
	unsigned long r = 12345;
	unsigned plain = 0;
	for (int doc = 0; doc < 10000; doc++) {
		sbuf h = SBUF_INIT;
		r = r * 6364136223846793005ul + 1442695040888963407ul;
		for (unsigned i = 0, n = 1 + (unsigned)(r >> 33) % 30; i < n; i++) {
			r = r * 6364136223846793005ul + 1442695040888963407ul;
			/* half the documents without the oddest pieces */
			size_t np = sizeof piece / sizeof piece[0], k = (size_t)(r >> 33) % np;
			if (doc % 2 && k >= 65 && k < np - 4)
				k %= 65;
			put(&h, piece[k]);
		}
		plain += skim_check(h.s, h.len, (unsigned)(r >> 40)) == 0;
		sbuf_free(&h);
	}
	ck_assert_uint_ge(plain, 1500);  /* the properties were checked, not skipped */
}
END_TEST

/* message_init()'s charset hook (extended_charconv) answers UTF-8 and
 * US-ASCII into UTF-8 itself: for every input it must give what libetpan's
 * iconv path gives, the same status and the same bytes. */
static const struct {
	const char *to, *from, *in;
} conv_cases[] = {
	{"utf-8", "utf-8", "plain words"},
	{"utf-8", "UTF-8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	{"utf-8", "utf8", "na\xc3\xafve"},
	{"utf-8", "utf-8", "overlong \xc0\xaf"},
	{"utf-8", "utf-8", "surrogate \xed\xa0\x80"},
	{"utf-8", "utf-8", "cut \xe2\x82"},
	{"utf-8", "utf-8", "beyond \xf4\x90\x80\x80"},
	{"utf-8", "utf-8", "\xf5\x80\x80\x80"},
	{"utf-8", "us-ascii", "boundary=_alt_42"},
	{"utf-8", "US-ASCII", "high \xe9"},
	{"utf-8", "ascii", "ok"},
	{"utf-8", "iso-8859-1", "caf\xe9"},
	{"iso-8859-1", "utf-8", "caf\xc3\xa9"},
	{"utf-8", "utf-8", ""},
	{"utf-8", "x-no-such-charset", "abc"},
};

START_TEST(charset_hook_agrees_with_iconv)
{
	const char *in = conv_cases[_i].in;
	char *a = NULL, *b = NULL;
	ck_assert_ptr_nonnull(extended_charconv);  /* judge_init() installed it */
	int rb = charconv(conv_cases[_i].to, conv_cases[_i].from, in, strlen(in), &b);
	int (*hook)(const char *, const char *, const char *, size_t, char *, size_t *) = extended_charconv;
	extended_charconv = NULL;
	int ra = charconv(conv_cases[_i].to, conv_cases[_i].from, in, strlen(in), &a);
	extended_charconv = hook;
	ck_assert_int_eq(rb, ra);
	if (ra == MAIL_CHARCONV_NO_ERROR) {  /* else both pointers are libetpan's to ignore */
		ck_assert_str_eq(b, a);
		free(a);
		free(b);
	}
}
END_TEST

int main(void)
{
	judge_init();
	policy_unref(tu_policy());  /* load it once, before the tests fork */
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	tcase_add_loop_test(tc, hostile, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, hostile_details);
	tcase_add_loop_test(tc, shown_text, 0, (int)(sizeof shown_cases / sizeof shown_cases[0]));
	tcase_add_loop_test(tc, skim_keeps_every_letter, 0, (int)(sizeof skim_cases / sizeof skim_cases[0]));
	tcase_add_test(tc, skim_keeps_every_letter_random);
	tcase_add_loop_test(tc, charset_hook_agrees_with_iconv, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
