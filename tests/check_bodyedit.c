/* check_bodyedit — unit tests for adding words around the agent's own in a
 * raw message (src/bodyedit.c): every supported shape and encoding, the
 * refusals, limits and hostile input. Each edited message is read back with
 * message_parse() and libetpan to show it is still a good message. */
#include "config.h"
#include <check.h>
#include "bodyedit.h"
#include "html.h"
#include "message.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HDRS "From: Raj Patel <raj@acme.example>\r\nTo: Maria Lopez <maria@example.net>\r\n" \
	"Subject: Re: refund\r\nMIME-Version: 1.0\r\n"
#define PLAIN(cs, cte) HDRS "Content-Type: text/plain; charset=" cs "\r\n" \
	"Content-Transfer-Encoding: " cte "\r\n\r\n"
#define ATTRIB "On Mon, 3 Mar 2025 at 10:02, Maria Lopez <maria@example.net> wrote:"
#define HEAD "Hi Maria,\n\n"
#define TAIL "\nPlease let me know if this solves it.\n"
#define JOSE "Hi Jos\xc3\xa9,\n\n"

/* An agent's reply with a sign-off, a signature and quoted history. */
#define REPLY "Your refund was issued today.\r\n\r\nBest regards,\r\nRaj\r\n\r\n" \
	ATTRIB "\r\n> Where is my refund?\r\n"
#define REPLY_TEXT_EDITED "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if " \
	"this solves it.\n\nBest regards,\nRaj\n\n" ATTRIB "\n> Where is my refund?\n"

#define B64_TEXT "WW91ciByZWZ1bmQgd2FzIGlzc3VlZCB0b2RheS4NCg0KQmVzdCByZWdhcmRzLA0KUmFqDQoNCk9u\r\n" \
	"IE1vbiwgMyBNYXIgMjAyNSBhdCAxMDowMiwgTWFyaWEgTG9wZXogPG1hcmlhQGV4YW1wbGUubmV0\r\n" \
	"PiB3cm90ZToNCj4gV2hlcmUgaXMgbXkgcmVmdW5kPyBJIG9yZGVyZWQgaXQgd2Vla3MgYWdvIGFu\r\n" \
	"ZCBJIGhhdmUgaGVhcmQgbm90aGluZyBzaW5jZS4NCj4gTWFyaWENCg==\r\n"
#define B64_HTML "PGh0bWw+PGJvZHk+PHA+WW91ciByZWZ1bmQgd2FzIGlzc3VlZCB0b2RheS48L3A+PHA+VGhhbmtz\r\n" \
	"LDxicj5SYWo8L3A+PGJsb2NrcXVvdGUgdHlwZT0iY2l0ZSI+V2hlcmUgaXMgbXkgcmVmdW5kPzwv\r\n" \
	"YmxvY2txdW90ZT48L2JvZHk+PC9odG1sPg0K\r\n"
/* An attachment: the bytes 0..255 */
#define PDF_PART "--mix\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n" \
	"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n" \
	"Content-Transfer-Encoding: base64\r\n\r\n" \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n" \
	"OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\n" \
	"cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\r\n" \
	"q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj\r\n" \
	"5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\r\n--mix--\r\n"

#define ALT_PLAIN "--alt\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n" \
	"Your refund was issued today.\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n\r\n"
#define GMAIL_QUOTE "<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Mon, 3 Mar " \
	"2025 at 10:02, Maria Lopez &lt;<a href=\"mailto:maria@example.net\">maria@example.net</a>&gt; " \
	"wrote:<br></div><blockquote class=\"gmail_quote\">Where is my refund?</blockquote></div>"
#define ALT_HTML "--alt\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n" \
	"<html><body style=\"margin:0\"><div dir=\"ltr\">Your refund was issued today.</div><br>" \
	GMAIL_QUOTE "</body></html>\r\n\r\n--alt--\r\n"
#define ALT HDRS "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" ALT_PLAIN ALT_HTML

/* multipart/alternative, the HTML in quoted-printable with the sign-off in
 * the middle of an encoded line. */
#define ALT_QP HDRS "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" \
	"--alt\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n" REPLY "\r\n" \
	"--alt\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n" \
	"<div dir=3D\"ltr\"><div>Your refund was issued today.</div><div><br></div><d=\r\n" \
	"iv>Best regards,</div><div>Raj</div></div><br><div class=3D\"gmail_quote\"><d=\r\n" \
	"iv dir=3D\"ltr\" class=3D\"gmail_attr\">On Mon, 3 Mar 2025 at 10:02, Maria Lo=\r\n" \
	"pez wrote:<br></div><blockquote class=3D\"gmail_quote\">Where is my refund?</=\r\n" \
	"blockquote></div>\r\n\r\n--alt--\r\n"

#define HTML_ONLY(cs, cte, html) HDRS "Content-Type: text/html; charset=" cs "\r\n" \
	"Content-Transfer-Encoding: " cte "\r\n\r\n" html
#define OUTLOOK_HTML "<html><head><title>Re: refund</title></head><BODY>\r\n" \
	"<p>Your refund was issued today.</p>\r\n<p>Best regards,<br>\r\nRaj Patel<br>\r\n" \
	"Acme Support</p>\r\n<div id=\"divRplyFwdMsg\"><b>From:</b> Maria Lopez<br>" \
	"<b>Sent:</b> Monday<br></div>\r\n<div>Where is my refund?</div>\r\n</BODY></html>\r\n"

typedef struct bcase {
	const char *name, *raw, *head, *tail;
	int st;               /* the tg_edit_status wanted */
	const char *body;     /* the exact new body, or NULL */
	const char *text;     /* the exact text message_parse() reads back, or NULL */
	const char *has[3];   /* byte-identical in the new body (history, attachment) */
	const char *html[3];  /* in this order in the decoded text/html part */
} bcase;

static const bcase cases[] = {
	{ "7bit crlf, sign-off", PLAIN("us-ascii", "7bit") REPLY, HEAD, TAIL, TG_EDIT_OK,
	  "Hi Maria,\r\n\r\nYour refund was issued today.\r\n\r\nPlease let me know if this solves "
	  "it.\r\n\r\nBest regards,\r\nRaj\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n",
	  REPLY_TEXT_EDITED, {0}, {0} },
	{ "7bit crlf, no sign-off", PLAIN("us-ascii", "7bit") "Your refund was issued today.\r\n"
	  "\r\n" ATTRIB "\r\n> Where is my refund?\r\n", HEAD, TAIL, TG_EDIT_OK,
	  "Hi Maria,\r\n\r\nYour refund was issued today.\r\n\r\nPlease let me know if this solves "
	  "it.\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "lf only", "From: Raj <raj@acme.example>\nSubject: Re: refund\n\nYour refund was issued "
	  "today.\n\nBest regards,\nRaj\n\n" ATTRIB "\n> Where is my refund?\n", HEAD, TAIL, TG_EDIT_OK,
	  "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if this solves it.\n\n"
	  "Best regards,\nRaj\n\n" ATTRIB "\n> Where is my refund?\n", REPLY_TEXT_EDITED, {0}, {0} },
	{ "lf only, quoted-printable", "From: Raj <raj@acme.example>\nContent-Type: text/plain; "
	  "charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nYour refund of 42 =E2=82=AC "
	  "was issued today and should reach your account wi=\nthin five days.\n\n" ATTRIB "\n> "
	  "Where is my refund? I ordered it weeks ago and I have heard nothing si=\nnce.\n", JOSE, TAIL,
	  TG_EDIT_OK, "Hi Jos=C3=A9,\n\nYour refund of 42 =E2=82=AC was issued today and should reach "
	  "your account wi=\nthin five days.\n\nPlease let me know if this solves it.\n\n" ATTRIB "\n> "
	  "Where is my refund? I ordered it weeks ago and I have heard nothing si=\nnce.\n", NULL, {0},
	  {0} },
	{ "lf only, base64", "From: Raj <raj@acme.example>\nContent-Type: text/plain; charset=utf-8"
	  "\nContent-Transfer-Encoding: base64\n\nWW91ciByZWZ1bmQgd2FzIGlzc3VlZCB0b2RheS4KCk9uIE1vbi"
	  "wgMyBNYXIgMjAyNSBhdCAxMDow\nMiwgTWFyaWEgTG9wZXogPG1hcmlhQGV4YW1wbGUubmV0PiB3cm90ZToKPiBXaGVy"
	  "ZSBpcyBteSBy\nZWZ1bmQ/Cg==\n", HEAD, TAIL, TG_EDIT_OK, NULL, "Hi Maria,\n\nYour refund was "
	  "issued today.\n\nPlease let me know if this solves it.\n\n" ATTRIB "\n> Where is my refund?\n",
	  {0}, {0} },
	{ "8bit utf-8, name in head", PLAIN("utf-8", "8bit") "Your refund of 42 \xe2\x82\xac was "
	  "issued today.\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", JOSE, TAIL, TG_EDIT_OK,
	  "Hi Jos\xc3\xa9,\r\n\r\nYour refund of 42 \xe2\x82\xac was issued today.\r\n\r\nPlease let "
	  "me know if this solves it.\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "no content-type, no encoding", HDRS "\r\n" REPLY, HEAD, TAIL, TG_EDIT_OK, NULL,
	  REPLY_TEXT_EDITED, {"\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n"}, {0} },
	{ "quoted-printable", PLAIN("utf-8", "quoted-printable") "Your refund of 42 =E2=82=AC was "
	  "issued today and should reach your account wi=\r\nthin five working days.\r\n\r\nBest "
	  "regards,\r\nRaj\r\n\r\nOn Mon, 3 Mar 2025 at 10:02, Mar=C3=ADa L=C3=B3pez <maria@example.n"
	  "et> wrot=\r\ne:\r\n> Where is my refund? I ordered it weeks ago and I have heard nothing "
	  "si=\r\nnce.\r\n", JOSE, TAIL, TG_EDIT_OK,
	  "Hi Jos=C3=A9,\r\n\r\nYour refund of 42 =E2=82=AC was issued today and should reach your "
	  "account wi=\r\nthin five working days.\r\n\r\nPlease let me know if this solves it.\r\n\r\n"
	  "Best regards,\r\nRaj\r\n\r\nOn Mon, 3 Mar 2025 at 10:02, Mar=C3=ADa L=C3=B3pez <maria@ex"
	  "ample.net> wrot=\r\ne:\r\n> Where is my refund? I ordered it weeks ago and I have heard "
	  "nothing si=\r\nnce.\r\n",
	  "Hi Jos\xc3\xa9,\n\nYour refund of 42 \xe2\x82\xac was issued today and should reach your "
	  "account within five working days.\n\nPlease let me know if this solves it.\n\nBest "
	  "regards,\nRaj\n\nOn Mon, 3 Mar 2025 at 10:02, Mar\xc3\xad" "a L\xc3\xb3pez <maria@example."
	  "net> wrote:\n> Where is my refund? I ordered it weeks ago and I have heard nothing since.\n",
	  {0}, {0} },
	{ "quoted-printable, long words", PLAIN("utf-8", "quoted-printable") REPLY,
	  "Hi Mar\xc3\xad" "a, thank you for your patience while we looked into this = that "
	  "\xe2\x80\x94 it took a while, and From now on we will be quicker!\n\n", NULL, TG_EDIT_OK,
	  NULL, "Hi Mar\xc3\xad" "a, thank you for your patience while we looked into this = that "
	  "\xe2\x80\x94 it took a while, and From now on we will be quicker!\n\nYour refund was "
	  "issued today.\n\nBest regards,\nRaj\n\n" ATTRIB "\n> Where is my refund?\n",
	  {"Your refund was issued today.\r\n\r\nBest regards,\r\nRaj\r\n\r\n" ATTRIB}, {0} },
	{ "base64", PLAIN("utf-8", "base64") B64_TEXT, HEAD, TAIL, TG_EDIT_OK, NULL,
	  "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if this solves it.\n\n"
	  "Best regards,\nRaj\n\n" ATTRIB "\n> Where is my refund? I ordered it weeks ago and I have "
	  "heard nothing since.\n> Maria\n", {0}, {0} },
	{ "iso-8859-1 8bit", PLAIN("iso-8859-1", "8bit") "Your refund was issued today.\r\n\r\n"
	  "Best regards,\r\nRa\xfal\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", JOSE, TAIL,
	  TG_EDIT_OK, "Hi Jos\xe9,\r\n\r\nYour refund was issued today.\r\n\r\nPlease let me know if "
	  "this solves it.\r\n\r\nBest regards,\r\nRa\xfal\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n",
	  "Hi Jos\xc3\xa9,\n\nYour refund was issued today.\n\nPlease let me know if this solves it."
	  "\n\nBest regards,\nRa\xc3\xbal\n\n" ATTRIB "\n> Where is my refund?\n", {0}, {0} },
	{ "iso-8859-1 qp", PLAIN("iso-8859-1", "quoted-printable") "Your refund was issued today."
	  "\r\n\r\nBest regards,\r\nRa=FAl\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", JOSE, NULL,
	  TG_EDIT_OK, "Hi Jos=E9,\r\n\r\nYour refund was issued today.\r\n\r\nBest regards,\r\n"
	  "Ra=FAl\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "us-ascii 7bit, José", PLAIN("us-ascii", "7bit") REPLY, JOSE, TAIL, TG_EDIT_CHARSET,
	  NULL, NULL, {0}, {0} },
	{ "utf-8 7bit, José", PLAIN("utf-8", "7bit") REPLY, JOSE, TAIL, TG_EDIT_CHARSET,
	  NULL, NULL, {0}, {0} },
	{ "windows-1252 8bit, Greek", PLAIN("windows-1252", "8bit") REPLY, "\xce\x93\xce\xb5\xce\xb9"
	  "\xce\xb1!\n\n", NULL, TG_EDIT_CHARSET, NULL, NULL, {0}, {0} },
	{ "unknown charset", PLAIN("x-no-such-charset", "8bit") REPLY, HEAD, TAIL, TG_EDIT_CHARSET,
	  NULL, NULL, {0}, {0} },
	{ "utf-16", PLAIN("utf-16", "base64") "//5ZAG8AdQByAA0ACgA=\r\n", HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "alternative", ALT, HEAD, TAIL, TG_EDIT_OK, NULL,
	  "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if this solves it.\n\n"
	  ATTRIB "\n> Where is my refund?\n",
	  {"\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n\r\n--alt\r\n", GMAIL_QUOTE "</body>"},
	  {"<body style=\"margin:0\">Hi Maria,<br>\r\n<br>\r\n<div dir=\"ltr\">Your refund",
	   "issued today.</div><br><br>\r\nPlease let me know if this solves it.<br>\r\n"
	   "<div class=\"gmail_quote\">"} },
	{ "alternative, html qp, sign-off", ALT_QP, HEAD, TAIL, TG_EDIT_OK, NULL, REPLY_TEXT_EDITED,
	  {"iv dir=3D\"ltr\" class=3D\"gmail_attr\">On Mon, 3 Mar 2025 at 10:02, Maria Lo=\r\n"
	   "pez wrote:<br></div><blockquote class=3D\"gmail_quote\">Where is my refund?</=\r\n",
	   "<div dir=3D\"ltr\"><div>Your refund was issued today.</div><div><br></div><d=\r\n"},
	  {"Hi Maria,<br>\r\n<br>\r\n<div dir=\"ltr\"><div>Your refund",
	   "<div><br></div><div>Please let me know if this solves it.<br>\r\n<br>\r\nBest regards,"
	   "</div><div>Raj</div>", "<div class=\"gmail_quote\">"} },
	{ "alternative, sign-off not in html", HDRS "Content-Type: multipart/alternative; "
	  "boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain\r\n\r\n" REPLY "\r\n--alt\r\n"
	  "Content-Type: text/html\r\n\r\n<p>Your refund was issued today.</p><p>Kind regards,<br>Raj"
	  "</p><blockquote>Where is my refund?</blockquote>\r\n--alt--\r\n", HEAD, TAIL,
	  TG_EDIT_NOPLACE, NULL, NULL, {0}, {0} },
	{ "mixed: alternative + attachment", HDRS "Content-Type: multipart/mixed; boundary=\"mix\""
	  "\r\n\r\nThis is a multi-part message in MIME format.\r\n--mix\r\nContent-Type: multipart/"
	  "alternative; boundary=\"alt\"\r\n\r\n" ALT_PLAIN ALT_HTML "\r\n" PDF_PART, HEAD, TAIL,
	  TG_EDIT_OK, NULL, NULL, {"\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n\r\n--alt\r\n",
	  "--alt--\r\n\r\n" PDF_PART, "This is a multi-part message in MIME format.\r\n--mix\r\n"},
	  {"<body style=\"margin:0\">Hi Maria,<br>", "Please let me know if this solves it.<br>\r\n"
	   "<div class=\"gmail_quote\">"} },
	{ "mixed: text ends without a line break", HDRS "Content-Type: multipart/mixed; boundary="
	  "\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nYour refund was "
	  "issued today.\r\n" PDF_PART, HEAD, TAIL, TG_EDIT_OK,
	  "--mix\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHi Maria,\r\n\r\nYour refund "
	  "was issued today.\r\n\r\nPlease let me know if this solves it.\r\n" PDF_PART,
	  "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if this solves it.", {0},
	  {0} },
	{ "mixed: qp text ends without a line break", HDRS "Content-Type: multipart/mixed; "
	  "boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Tr"
	  "ansfer-Encoding: quoted-printable\r\n\r\nYour refund of 42 =E2=82=AC was issued today.\r\n"
	  PDF_PART, HEAD, TAIL, TG_EDIT_OK, NULL, "Hi Maria,\n\nYour refund of 42 \xe2\x82\xac was "
	  "issued today.\n\nPlease let me know if this solves it.", {"\r\n" PDF_PART}, {0} },
	{ "related: html + image", HDRS "Content-Type: multipart/related; boundary=\"mix\"\r\n\r\n"
	  "--mix\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" OUTLOOK_HTML PDF_PART, HEAD, TAIL,
	  TG_EDIT_OK, NULL, NULL, {"\r\n" PDF_PART, "<div id=\"divRplyFwdMsg\"><b>From:</b>"},
	  {"<BODY>Hi Maria,<br>\r\n<br>\r\n\r\n<p>Your refund was issued today.</p>",
	   "<p>Please let me know if this solves it.<br>\r\n<br>\r\nBest regards,<br>"} },
	{ "alternative, gmail signature", HDRS "Content-Type: multipart/alternative; boundary=\"alt"
	  "\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nYour refund was "
	  "issued today.\r\n\r\n-- \r\nRaj Patel\r\nAcme Support\r\n\r\n" ATTRIB "\r\n> Where is my "
	  "refund?\r\n\r\n--alt\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<div dir=\"ltr"
	  "\"><div>Your refund was issued today.</div><div><br></div><span class=\"gmail_signature_pre"
	  "fix\">-- </span><br><div dir=\"ltr\" class=\"gmail_signature\">Raj Patel<div>Acme Support"
	  "</div></div></div><br>" GMAIL_QUOTE "\r\n\r\n--alt--\r\n", HEAD, TAIL, TG_EDIT_OK, NULL,
	  "Hi Maria,\n\nYour refund was issued today.\n\nPlease let me know if this solves it.\n\n-- "
	  "\nRaj Patel\nAcme Support\n\n" ATTRIB "\n> Where is my refund?\n", {0},
	  {"Hi Maria,<br>\r\n<br>\r\n<div dir=\"ltr\"><div>Your refund", "<div><br></div><br>\r\n"
	   "Please let me know if this solves it.<br>\r\n<span class=\"gmail_signature_prefix\">"} },
	{ "html only, outlook desktop history", HTML_ONLY("utf-8", "7bit", "<html><body><p>Your "
	  "refund was issued today.</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt\"><p>"
	  "<b>From:</b> Maria Lopez<br><b>Sent:</b> Monday</p></div><p>Where is my refund?</p></body>"
	  "</html>\r\n"), HEAD, TAIL, TG_EDIT_NOPLACE, NULL, NULL, {0}, {0} },
	{ "html only, outlook desktop history, head only", HTML_ONLY("utf-8", "7bit", "<html><body>"
	  "<p>Your refund was issued today.</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt"
	  "\"><p><b>From:</b> Maria Lopez</p></div><p>Where is my refund?</p></body></html>\r\n"),
	  HEAD, NULL, TG_EDIT_OK, NULL, NULL, {0}, {"<body>Hi Maria,<br>\r\n<br>\r\n<p>Your refund"} },
	{ "html only, outlook, sign-off", HTML_ONLY("utf-8", "7bit", OUTLOOK_HTML), HEAD, TAIL,
	  TG_EDIT_OK, NULL, NULL, {"<div id=\"divRplyFwdMsg\"><b>From:</b> Maria Lopez<br>"},
	  {"<BODY>Hi Maria,<br>\r\n<br>\r\n\r\n<p>Your refund was issued today.</p>",
	   "<p>Please let me know if this solves it.<br>\r\n<br>\r\nBest regards,<br>"} },
	{ "html only, base64", HTML_ONLY("utf-8", "base64", B64_HTML), HEAD, TAIL, TG_EDIT_OK,
	  NULL, NULL, {0}, {"<html><body>Hi Maria,<br>\r\n<br>\r\n<p>Your refund was issued today."
	  "</p><p>Please let me know if this solves it.<br>\r\n<br>\r\nThanks,<br>Raj</p><blockquote "
	  "type=\"cite\">Where is my refund?</blockquote></body></html>\r\n"} },
	{ "html only, 7bit iso-8859-1, José", HTML_ONLY("iso-8859-1", "7bit", OUTLOOK_HTML), JOSE,
	  NULL, TG_EDIT_OK, NULL, NULL, {0}, {"<BODY>Hi Jos&#233;,<br>\r\n<br>\r\n\r\n<p>"} },
	{ "html only, 8bit iso-8859-1, José", HTML_ONLY("iso-8859-1", "8bit", OUTLOOK_HTML), JOSE,
	  NULL, TG_EDIT_OK, NULL, NULL, {0}, {"<BODY>Hi Jos\xe9,<br>\r\n<br>\r\n\r\n<p>"} },
	{ "html only, us-ascii, euro & escapes", HTML_ONLY("us-ascii", "8bit", OUTLOOK_HTML),
	  "Hi Maria & <Team> \"A\",\n\n", "\nYour refund of 42 \xe2\x82\xac is on its way.\n", TG_EDIT_OK,
	  NULL, NULL, {0}, {"<BODY>Hi Maria &amp; &lt;Team&gt; &quot;A&quot;,<br>",
	  "<p>Your refund of 42 &#8364; is on its way.<br>\r\n<br>\r\nBest regards,"} },
	{ "html only, interleaved", HTML_ONLY("utf-8", "7bit", "<html><body><p>Hi Maria,</p>"
	  "<blockquote>Where is my refund?</blockquote><p>It was issued yesterday.</p><blockquote>"
	  "And the invoice?</blockquote><p>Attached.</p></body></html>\r\n"), HEAD, TAIL,
	  TG_EDIT_INTERLEAVED, NULL, NULL, {0}, {0} },
	{ "html only, head only", HTML_ONLY("utf-8", "7bit", "<p>Your refund was issued today.</p>"
	  "<blockquote>Where is my refund?</blockquote>\r\n"), HEAD, NULL, TG_EDIT_OK, NULL, NULL,
	  {"<blockquote>Where is my refund?</blockquote>\r\n"},
	  {"Hi Maria,<br>\r\n<br>\r\n<p>Your refund was issued today.</p><blockquote>"} },
	{ "html only, no words", HTML_ONLY("utf-8", "7bit", "<blockquote>Where is my refund?"
	  "</blockquote>\r\n"), HEAD, TAIL, TG_EDIT_NOPLACE, NULL, NULL, {0}, {0} },
	{ "format=flowed", HDRS "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\nYour refund was issued today and should reach \r\n"
	  "your account within five days.\r\n\r\nBest regards,\r\nRaj\r\n\r\n" ATTRIB "\r\n> Where is "
	  "my refund?\r\n", HEAD, "\n> Keep the receipt. \nFrom now on it is quicker.\n", TG_EDIT_OK,
	  "Hi Maria,\r\n\r\nYour refund was issued today and should reach \r\nyour account within five "
	  "days.\r\n\r\n > Keep the receipt.\r\n From now on it is quicker.\r\n\r\nBest regards,\r\nRaj"
	  "\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "format=flowed, soft last line", HDRS "Content-Type: text/plain; format=flowed\r\n\r\n"
	  "Your refund was issued today. \r\nBest regards,\r\nRaj\r\n", HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "head only", PLAIN("us-ascii", "7bit") REPLY, HEAD, NULL, TG_EDIT_OK,
	  "Hi Maria,\r\n\r\n" REPLY, NULL, {0}, {0} },
	{ "tail only", PLAIN("us-ascii", "7bit") REPLY, NULL, TAIL, TG_EDIT_OK,
	  "Your refund was issued today.\r\n\r\nPlease let me know if this solves it.\r\n\r\nBest "
	  "regards,\r\nRaj\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "no words at all", ALT, NULL, NULL, TG_EDIT_OK, ALT_PLAIN ALT_HTML, NULL, {0}, {0} },
	{ "words without line breaks", PLAIN("us-ascii", "7bit") REPLY, "Hi Maria,", "Thanks.  ",
	  TG_EDIT_OK, "Hi Maria,\r\nYour refund was issued today.\r\nThanks.\r\n\r\nBest regards,\r\n"
	  "Raj\r\n\r\n" ATTRIB "\r\n> Where is my refund?\r\n", NULL, {0}, {0} },
	{ "interleaved", PLAIN("us-ascii", "7bit") "Hi Maria,\r\n\r\n" ATTRIB "\r\n> Where is my "
	  "refund?\r\n\r\nIt was issued yesterday.\r\n\r\n> And the invoice?\r\n\r\nAttached.\r\n",
	  HEAD, TAIL, TG_EDIT_INTERLEAVED, NULL, NULL, {0}, {0} },
	{ "only history", PLAIN("us-ascii", "7bit") ATTRIB "\r\n> Where is my refund?\r\n", HEAD,
	  TAIL, TG_EDIT_NOPLACE, NULL, NULL, {0}, {0} },
	{ "multipart/signed", HDRS "Content-Type: multipart/signed; protocol=\"application/pgp-"
	  "signature\"; micalg=pgp-sha256; boundary=\"sig\"\r\n\r\n--sig\r\nContent-Type: text/plain"
	  "\r\n\r\n" REPLY "\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n-----BEGIN "
	  "PGP SIGNATURE-----\r\n-----END PGP SIGNATURE-----\r\n--sig--\r\n", HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "message/rfc822", HDRS "Content-Type: message/rfc822\r\n\r\nFrom: a@b\r\nSubject: x\r\n"
	  "\r\nHello.\r\n", HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "text attachment", HDRS "Content-Type: text/plain\r\nContent-Disposition: attachment; "
	  "filename=a.txt\r\n\r\n" REPLY, HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "alternative of three", HDRS "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	  "\r\n--alt\r\nContent-Type: text/plain\r\n\r\n" REPLY "\r\n--alt\r\nContent-Type: text/html"
	  "\r\n\r\n<p>x</p>\r\n--alt\r\nContent-Type: text/enriched\r\n\r\nx\r\n--alt--\r\n", HEAD,
	  TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "alternative holding related", HDRS "Content-Type: multipart/alternative; boundary=\"alt"
	  "\"\r\n\r\n--alt\r\nContent-Type: text/plain\r\n\r\n" REPLY "\r\n--alt\r\nContent-Type: "
	  "multipart/related; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/html\r\n\r\n<p>x"
	  "</p>\r\n" PDF_PART "\r\n--alt--\r\n", HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0},
	  {0} },
	{ "mixed led by an attachment", HDRS "Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
	  "\r\n" PDF_PART, HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "unknown transfer encoding", PLAIN("us-ascii", "x-uuencode") REPLY, HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "broken base64", PLAIN("utf-8", "base64") "WW91ciByZWZ1bmQ=gd2Fz!!\r\n", HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "broken qp: =ZZ", PLAIN("utf-8", "quoted-printable") "Your refund =ZZ was issued.\r\n",
	  HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "broken qp: blank after =", PLAIN("utf-8", "quoted-printable") "Your refund was = \r\n"
	  "issued.\r\n", HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "missing end boundary", HDRS "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	  "\r\n" ALT_PLAIN "--alt\r\nContent-Type: text/html\r\n\r\n<html><body><div>Your refund was "
	  "issued today.</div><blockquote>Where is my refund?</blockquote></body></html>\r\n", HEAD,
	  TAIL, TG_EDIT_OK, NULL, NULL, {"<blockquote>Where is my refund?</blockquote></body></html>"
	  "\r\n"}, {"<body>Hi Maria,<br>", "today.</div><br>\r\nPlease let me know if this solves "
	  "it.<br>\r\n<blockquote>"} },
	{ "boundary never used", HDRS "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	  "\r\n" REPLY, HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "wrong boundary", HDRS "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n" ALT_PLAIN
	  ALT_HTML, HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "garbage", "From: a@b\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"
	  "\x01\xff--\r\n--\r\n", HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "header only", "From: a@b.example\r\nSubject: x\r\n", HEAD, TAIL, TG_EDIT_NOPLACE, NULL,
	  NULL, {0}, {0} },
	{ "empty body", "From: a@b.example\r\nSubject: x\r\n\r\n", HEAD, TAIL, TG_EDIT_NOPLACE,
	  NULL, NULL, {0}, {0} },
	{ "no headers", "\r\nYour refund was issued today.\r\n", HEAD, TAIL, TG_EDIT_UNSUPPORTED,
	  NULL, NULL, {0}, {0} },
	{ "not a message", "Your refund was issued today.\r\n\r\nBest regards,\r\n", HEAD, TAIL,
	  TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "empty", "", HEAD, TAIL, TG_EDIT_UNSUPPORTED, NULL, NULL, {0}, {0} },
	{ "invalid utf-8 in the words", PLAIN("utf-8", "8bit") REPLY, "Hi \xc3(,\n", TAIL,
	  TG_EDIT_CHARSET, NULL, NULL, {0}, {0} },
};

#define NROWS(a) (int)(sizeof a / sizeof a[0])

static size_t body_start(const char *raw, size_t len)
{
	const char *a = strstr(raw, "\r\n\r\n"), *b = strstr(raw, "\n\n");
	if (a && (!b || a < b))
		return (size_t)(a - raw) + 4;
	return b ? (size_t)(b - raw) + 2 : len;
}

/* The decoded text/html part of a message, or NULL; caller frees. */
static char *html_of(struct mailmime *mm)
{
	if (mm->mm_type == MAILMIME_MESSAGE)
		return mm->mm_data.mm_message.mm_msg_mime ? html_of(mm->mm_data.mm_message.mm_msg_mime) : NULL;
	if (mm->mm_type == MAILMIME_MULTIPLE) {
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
			char *h = html_of(clist_content(it));
			if (h)
				return h;
		}
		return NULL;
	}
	struct mailmime_content *ct = mm->mm_content_type;
	struct mailmime_data *d = mm->mm_data.mm_single;
	if (ct == NULL || ct->ct_subtype == NULL || strcasecmp(ct->ct_subtype, "html") != 0 || d == NULL)
		return NULL;
	size_t idx = 0, n = 0;
	char *dec = NULL;
	ck_assert_int_eq(mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length,
					     &idx, d->dt_encoding, &dec, &n), MAILIMF_NO_ERROR);
	char *h = strndup(dec, n);
	mailmime_decoded_part_free(dec);
	return h;
}

/* Lines the edit wrote into a QP or base64 part stay within 76 columns. */
static void check_76(const char *name, const char *orig, const char *body, size_t n)
{
	for (const char *p = body, *end = body + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		char line[2048];
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll < sizeof line) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			ck_assert_msg(ll <= 76 || strstr(orig, line), "%s: new line of %zu columns", name, ll);
		}
		p = nl ? nl + 1 : end;
	}
}

/* The first line of words that is not blank, trimmed. */
static void first_line(const char *w, char *buf, size_t n)
{
	w += strspn(w, "\n");
	size_t l = strcspn(w, "\n");
	while (l && w[l - 1] == ' ')
		l--;
	ck_assert_uint_lt(l, n);
	memcpy(buf, w, l);
	buf[l] = '\0';
}

/* The checks every edited message passes: headers + new body read back as
 * a message, the words in it, the history untouched. */
static void check_edited(const bcase *c, const sbuf *out)
{
	size_t len = strlen(c->raw), bs = body_start(c->raw, len);
	ck_assert_msg(out->len > 0, "%s: empty body", c->name);
	if (c->body)
		ck_assert_msg(out->len == strlen(c->body) && memcmp(out->s, c->body, out->len) == 0,
			      "%s: body\n[%s]\nwant\n[%s]", c->name, out->s, c->body);
	for (int i = 0; i < 3 && c->has[i]; i++)
		ck_assert_msg(strstr(out->s, c->has[i]), "%s: lost [%s] in\n%s", c->name, c->has[i], out->s);
	if (strstr(c->raw, "quoted-printable") || strstr(c->raw, "base64"))
		check_76(c->name, c->raw + bs, out->s, out->len);

	sbuf full = SBUF_INIT;
	ck_assert_int_eq(sbuf_append(&full, c->raw, bs), 0);
	ck_assert_int_eq(sbuf_append(&full, out->s, out->len), 0);
	tg_limits lim = TG_LIMITS_DEFAULT;
	tg_message m;
	ck_assert_msg(message_parse(&lim, full.s, full.len, &m) == TG_OK, "%s: edited message unreadable",
		      c->name);
	if (c->text)
		ck_assert_msg(strcmp(m.text, c->text) == 0, "%s: text\n[%s]\nwant\n[%s]", c->name, m.text, c->text);
	char line[256];
	if (c->head) {  /* the text begins with the head */
		first_line(c->head, line, sizeof line);
		ck_assert_msg(strncmp(m.text, line, strlen(line)) == 0, "%s: text [%s] does not begin "
			      "with [%s]", c->name, m.text, line);
	}
	if (c->tail) {  /* ... and holds the tail, above the history */
		first_line(c->tail, line, sizeof line);
		const char *tl = strstr(m.text, line), *hist = strstr(m.text, "Where is my refund");
		ck_assert_msg(tl != NULL, "%s: no [%s] in [%s]", c->name, line, m.text);
		ck_assert_msg(hist == NULL || tl < hist, "%s: tail below the history", c->name);
	}
	message_free(&m);

	size_t idx = 0;
	struct mailmime *mm = NULL;
	ck_assert_int_eq(mailmime_parse(full.s, full.len, &idx, &mm), MAILIMF_NO_ERROR);
	char *h = html_of(mm);
	mailmime_free(mm);
	const char *at = h;
	for (int i = 0; i < 3 && c->html[i]; i++) {
		ck_assert_msg(h != NULL, "%s: no html part", c->name);
		const char *f = strstr(at, c->html[i]);
		ck_assert_msg(f != NULL, "%s: html lacks [%s] (in order) in\n%s", c->name, c->html[i], h);
		at = f + strlen(c->html[i]);
	}
	free(h);
	sbuf_free(&full);
}

START_TEST(test_cases)
{
	const bcase *c = &cases[_i];
	tg_limits lim = TG_LIMITS_DEFAULT;
	tg_edit e = {c->head, c->tail};
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&out, "stale"), 0);
	tg_edit_status st = bodyedit_apply(&lim, c->raw, strlen(c->raw), &e, &out);
	ck_assert_msg((int)st == c->st, "%s: status %d (%s), want %d; body\n%s", c->name, st,
		      bodyedit_status_str(st), c->st, out.s ? out.s : "");
	if (st == TG_EDIT_OK)
		check_edited(c, &out);
	else
		ck_assert_msg(out.len == 0, "%s: body left after a refusal", c->name);
	sbuf_free(&out);
}
END_TEST

START_TEST(test_null_edit)
{
	/* no tg_edit at all: the body comes back as it was */
	tg_limits lim = TG_LIMITS_DEFAULT;
	const char *raw = PLAIN("utf-8", "quoted-printable") REPLY;
	size_t len = strlen(raw), bs = body_start(raw, len);
	sbuf out = SBUF_INIT;
	ck_assert_int_eq(bodyedit_apply(&lim, raw, len, NULL, &out), TG_EDIT_OK);
	ck_assert_uint_eq(out.len, len - bs);
	ck_assert_int_eq(memcmp(out.s, raw + bs, out.len), 0);
	sbuf_free(&out);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

static char *nested(unsigned depth)
{
	sbuf sb = SBUF_INIT;
	ck_assert_int_eq(sbuf_puts(&sb, HDRS), 0);
	for (unsigned i = 0; i < depth; i++)
		ck_assert_int_eq(sbuf_printf(&sb, "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n"
					     "--b%u\r\n", i, i), 0);
	ck_assert_int_eq(sbuf_puts(&sb, "Content-Type: text/plain\r\n\r\n" REPLY), 0);
	for (unsigned i = depth; i-- > 0;)
		ck_assert_int_eq(sbuf_printf(&sb, "--b%u--\r\n", i), 0);
	return sbuf_detach(&sb, NULL);
}

static const struct {
	const char *name;
	tg_limits lim;
	int raw;  /* 0: ALT, 1: nested 30 deep, 2: html only */
} limits[] = {
	{ "message size", { 100, 4u << 20, 2u << 20, 20, 500, 2000, 4096 }, 0 },
	{ "decoded size", { 10u << 20, 100, 2u << 20, 20, 500, 2000, 4096 }, 0 },
	{ "html size", { 10u << 20, 4u << 20, 100, 20, 500, 2000, 4096 }, 2 },
	{ "depth", { 10u << 20, 4u << 20, 2u << 20, 0, 500, 2000, 4096 }, 0 },
	{ "parts", { 10u << 20, 4u << 20, 2u << 20, 20, 1, 2000, 4096 }, 0 },
	{ "deep nesting", TG_LIMITS_DEFAULT, 1 },
};

START_TEST(test_limits)
{
	char *deep = nested(30);
	const char *raw = limits[_i].raw == 0 ? ALT : limits[_i].raw == 1 ? deep :
			  HTML_ONLY("utf-8", "7bit", OUTLOOK_HTML);
	tg_edit e = {HEAD, TAIL};
	sbuf out = SBUF_INIT;
	tg_edit_status st = bodyedit_apply(&limits[_i].lim, raw, strlen(raw), &e, &out);
	ck_assert_msg(st == TG_EDIT_LIMIT, "%s: status %s", limits[_i].name, bodyedit_status_str(st));
	ck_assert_uint_eq(out.len, 0);
	sbuf_free(&out);
	free(deep);
}
END_TEST

START_TEST(test_out_max)
{
	/* a caller's smaller bound on out is kept, and refusing leaves it empty */
	tg_limits lim = TG_LIMITS_DEFAULT;
	tg_edit e = {HEAD, TAIL};
	sbuf out = SBUF_INIT;
	out.max = 20;
	ck_assert_int_eq(bodyedit_apply(&lim, ALT, strlen(ALT), &e, &out), TG_EDIT_LIMIT);
	ck_assert_uint_eq(out.len, 0);
	sbuf_free(&out);
}
END_TEST

/* ---- hostile input ---------------------------------------------------------- */

static const char *const fuzz_seeds[] = {
	ALT, ALT_QP, PLAIN("utf-8", "base64") B64_TEXT, HTML_ONLY("utf-8", "base64", B64_HTML),
	HDRS "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: "
	"multipart/alternative; boundary=\"alt\"\r\n\r\n" ALT_PLAIN ALT_HTML "\r\n" PDF_PART,
};

/* Every prefix of a good message (broken boundaries, a missing end
 * boundary, cut base64 and QP) and random byte damage: a status, never a
 * crash, and out empty unless the result is OK. */
START_TEST(test_fuzz)
{
	const char *seed = fuzz_seeds[_i];
	size_t len = strlen(seed);
	tg_limits lim = TG_LIMITS_DEFAULT;
	tg_edit e = {JOSE, TAIL};
	char *buf = malloc(len + 1);
	ck_assert_ptr_nonnull(buf);
	unsigned seedv = 12345u + (unsigned)_i;
	for (size_t cut = 0; cut <= len + 200; cut++) {
		size_t n = cut <= len ? cut : len;
		memcpy(buf, seed, len);
		if (cut > len)  /* damage: a few random bytes changed */
			for (int k = 0; k < 3; k++) {
				seedv = seedv * 1103515245u + 12345u;
				size_t at = (seedv >> 8) % len;
				seedv = seedv * 1103515245u + 12345u;
				buf[at] = "-=\r\n<>\"x\x80\xff"[(seedv >> 8) % 10];
			}
		sbuf out = SBUF_INIT;
		tg_edit_status st = bodyedit_apply(&lim, buf, n, &e, &out);
		ck_assert_int_le(st, TG_EDIT_NOMEM);
		if (st != TG_EDIT_OK)
			ck_assert_uint_eq(out.len, 0);
		sbuf_free(&out);
	}
	free(buf);
}
END_TEST

START_TEST(test_status_str)
{
	for (int s = TG_EDIT_OK; s <= TG_EDIT_NOMEM; s++)
		ck_assert_str_ne(bodyedit_status_str((tg_edit_status)s), "unknown status");
	ck_assert_str_eq(bodyedit_status_str(TG_EDIT_NOPLACE), "no safe place for the words");
	ck_assert_str_eq(bodyedit_status_str((tg_edit_status)99), "unknown status");
}
END_TEST

static Suite *bodyedit_suite(void)
{
	Suite *s = suite_create("bodyedit");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_cases, 0, NROWS(cases));
	tcase_add_test(tc, test_null_edit);
	tcase_add_test(tc, test_status_str);
	suite_add_tcase(s, tc);
	TCase *tl = tcase_create("limits");
	tcase_add_loop_test(tl, test_limits, 0, NROWS(limits));
	tcase_add_test(tl, test_out_max);
	suite_add_tcase(s, tl);
	TCase *tf = tcase_create("hostile");
	tcase_set_timeout(tf, 120);
	tcase_add_loop_test(tf, test_fuzz, 0, NROWS(fuzz_seeds));
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	html_init();
	SRunner *sr = srunner_create(bodyedit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
