/* check_holdq — unit tests for reading Postfix's queue (src/holdq.c): the
 * postqueue -j reader line by line and buffer by buffer, queue IDs, a held
 * message's verdict and finding headers, the failure advice, and the tool
 * runner (with ordinary programs and stand-ins for the Postfix tools, so no
 * Postfix is needed). */
#include "config.h"
#include <check.h>
#include "holdq.h"
#include "html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NROWS(a) (int)(sizeof a / sizeof a[0])
#define STR(sb) ((sb).s ? (sb).s : "")
#define L(s) s, sizeof s - 1   /* a literal and its length, NUL bytes included */

/* ---- one line of postqueue -j ------------------------------------------- */

/* Two lines captured from postqueue -j of the private Postfix of
 * tests/e2e/ctl.sh (Postfix 3.7), and the example of postqueue(1). */
#define REAL1 "{\"queue_name\": \"hold\", \"queue_id\": \"639D1A74372\", \"arrival_time\": 1795501860, " \
	"\"message_size\": 709, \"forced_expire\": false, \"sender\": \"agent@acme.example\", " \
	"\"recipients\": [{\"address\": \"maria@example.net\"}]}"
#define REAL2 "{\"queue_name\": \"hold\", \"queue_id\": \"36A2AA7436F\", \"arrival_time\": 1795501860, " \
	"\"message_size\": 709, \"forced_expire\": false, \"sender\": \"agent@acme.example\", " \
	"\"recipients\": [{\"address\": \"maria@example.net\"}]}"
#define DEFERRED "{\"queue_name\": \"deferred\", \"queue_id\": \"4F00CA724F3\", \"arrival_time\": 1795500762, " \
	"\"message_size\": 1234, \"forced_expire\": false, \"sender\": \"agent@acme.example\", \"recipients\": " \
	"[{\"address\": \"maria@example.net\"}, {\"address\": \"b@example.net\", \"delay_reason\": " \
	"\"connect to mx.example.net[192.0.2.1]:25: Connection refused\"}]}"

static const struct {
	const char *name;
	const char *line;
	size_t len;
	int ok;                          /* holdq_parse_line() == 0 */
	const char *id, *queue;          /* when ok */
	long long arrival;
	const char *sender;
	const char *rcpts;               /* the addresses joined with '|' */
} lines[] = {
	{"real, hold", L(REAL1), 1, "639D1A74372", "hold", 1795501860, "agent@acme.example", "maria@example.net"},
	{"real, second", L(REAL2), 1, "36A2AA7436F", "hold", 1795501860, "agent@acme.example", "maria@example.net"},
	{"deferred, delay_reason", L(DEFERRED), 1, "4F00CA724F3", "deferred", 1795500762, "agent@acme.example",
	 "maria@example.net|b@example.net"},
	{"members in another order", L("{\"recipients\": [{\"address\": \"r@x\"}], \"sender\": \"s@x\", "
	 "\"arrival_time\": 7, \"queue_id\": \"ABC\", \"queue_name\": \"hold\"}"), 1, "ABC", "hold", 7, "s@x", "r@x"},
	{"no whitespace", L("{\"queue_id\":\"A1\",\"queue_name\":\"hold\",\"sender\":\"\",\"recipients\":[]}"), 1, "A1",
	 "hold", 0, "", ""},
	{"whitespace everywhere, CR at the end", L(" \t{ \"queue_id\" : \"A1\" , \"recipients\" : [ { \"address\" "
	 ": \"r@x\" } ] } \r"), 1, "A1", "", 0, "", "r@x"},
	{"only an id", L("{\"queue_id\": \"Z9\"}"), 1, "Z9", "", 0, "", ""},
	{"escaped quote and backslash", L("{\"queue_id\": \"A1\", \"sender\": \"a\\\"b\\\\c@x\"}"), 1, "A1", "", 0,
	 "a\"b\\c@x", ""},
	{"simple escapes", L("{\"queue_id\": \"A1\", \"sender\": \"\\/\\b\\f\\n\\r\\t.\"}"), 1, "A1", "", 0,
	 "/\b\f\n\r\t.", ""},
	{"\\u00e9", L("{\"queue_id\": \"A1\", \"sender\": \"jos\\u00e9@x\", \"recipients\": [{\"address\": "
	 "\"Z\\u00C9\\u20ac@x\"}]}"), 1, "A1", "", 0, "jos\xc3\xa9@x", "Z\xc3\x89\xe2\x82\xac@x"},
	{"surrogate pair", L("{\"queue_id\": \"A1\", \"sender\": \"\\ud83d\\ude00@x\"}"), 1, "A1", "", 0,
	 "\xf0\x9f\x98\x80@x", ""},
	{"lone high surrogate", L("{\"queue_id\": \"A1\", \"sender\": \"\\ud83dx\"}"), 1, "A1", "", 0,
	 "\xef\xbf\xbdx", ""},
	{"high surrogate, then not a low one", L("{\"queue_id\": \"A1\", \"sender\": \"\\ud83d\\u0041\"}"), 1, "A1", "",
	 0, "\xef\xbf\xbd" "A", ""},
	{"lone low surrogate", L("{\"queue_id\": \"A1\", \"sender\": \"\\ude00\"}"), 1, "A1", "", 0, "\xef\xbf\xbd", ""},
	{"\\u0000 is no NUL", L("{\"queue_id\": \"A1\", \"sender\": \"a\\u0000b\"}"), 1, "A1", "", 0,
	 "a\xef\xbf\xbd" "b", ""},
	{"raw UTF-8 kept", L("{\"queue_id\": \"A1\", \"sender\": \"jos\xc3\xa9@x\"}"), 1, "A1", "", 0,
	 "jos\xc3\xa9@x", ""},
	{"unknown members of every type", L("{\"a\": {\"b\": [1, -2.5e+3, {\"c\": null}], \"d\": \"}]\\\"\"}, "
	 "\"queue_id\": \"A1\", \"e\": [], \"f\": {}, \"g\": true, \"h\": false, \"i\": null, \"j\": -0.5E-7, "
	 "\"k\": \"x\\u00e9\", \"l\": [[[[\"deep\"]]]], \"queue_name\": \"hold\"}"), 1, "A1", "hold", 0, "", ""},
	{"unknown members in a recipient", L("{\"queue_id\": \"A1\", \"recipients\": [{\"delay_reason\": "
	 "\"x\", \"n\": 3, \"o\": {\"p\": [true]}, \"address\": \"r@x\", \"q\": null}]}"), 1, "A1", "", 0, "", "r@x"},
	{"a recipient without address", L("{\"queue_id\": \"A1\", \"recipients\": [{\"n\": 1}, {\"address\": "
	 "\"r@x\"}]}"), 1, "A1", "", 0, "", "r@x"},
	{"negative and fractional arrival", L("{\"queue_id\": \"A1\", \"arrival_time\": -12.9}"), 1, "A1", "", -12,
	 "", ""},
	{"arrival past LLONG_MAX stops growing", L("{\"queue_id\": \"A1\", \"arrival_time\": "
	 "99999999999999999999999}"), 1, "A1", "", 999999999999999999LL, "", ""},
	{"an id of 32", L("{\"queue_id\": \"0123456789abcdefABCDEF0123456789\"}"), 1,
	 "0123456789abcdefABCDEF0123456789", "", 0, "", ""},

	{"empty", L(""), 0, NULL, NULL, 0, NULL, NULL},
	{"blank", L("   "), 0, NULL, NULL, 0, NULL, NULL},
	{"empty object: no id", L("{}"), 0, NULL, NULL, 0, NULL, NULL},
	{"no queue_id", L("{\"queue_name\": \"hold\", \"sender\": \"s@x\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"an array", L("[{\"queue_id\": \"A1\"}]"), 0, NULL, NULL, 0, NULL, NULL},
	{"a string", L("\"A1\""), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated after {", L("{"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated in a key", L("{\"queue_i"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated after :", L("{\"queue_id\":"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated in a value", L("{\"queue_id\": \"A1"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated before }", L("{\"queue_id\": \"A1\""), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated after ,", L("{\"queue_id\": \"A1\","), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated in recipients", L("{\"queue_id\": \"A1\", \"recipients\": [{\"address\": \"r@x\"}"), 0, NULL,
	 NULL, 0, NULL, NULL},
	{"truncated in an unknown array", L("{\"queue_id\": \"A1\", \"x\": [1, 2"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated after a backslash", L("{\"queue_id\": \"A1\", \"sender\": \"a\\"), 0, NULL, NULL, 0, NULL, NULL},
	{"truncated \\u", L("{\"queue_id\": \"A1\", \"sender\": \"\\u00"), 0, NULL, NULL, 0, NULL, NULL},
	{"bad escape \\x", L("{\"queue_id\": \"A1\", \"sender\": \"\\x41\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"bad escape \\U", L("{\"queue_id\": \"A1\", \"sender\": \"\\U00e9\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"bad hex in \\u", L("{\"queue_id\": \"A1\", \"sender\": \"\\u00g9\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"bad escape in a skipped member", L("{\"queue_id\": \"A1\", \"x\": \"\\q\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"raw control character in a string", L("{\"queue_id\": \"A1\", \"sender\": \"a\tb\"}"), 0, NULL, NULL, 0,
	 NULL, NULL},
	{"raw newline in a string", L("{\"queue_id\": \"A1\", \"sender\": \"a\nb\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"NUL byte in a string", L("{\"queue_id\": \"A1\", \"sender\": \"a\0b\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"NUL byte in an id", L("{\"queue_id\": \"A\0\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"NUL byte between members", L("{\"queue_id\": \"A1\",\0\"x\": 1}"), 0, NULL, NULL, 0, NULL, NULL},
	{"NUL byte in a number", L("{\"queue_id\": \"A1\", \"x\": 1\0}"), 0, NULL, NULL, 0, NULL, NULL},
	{"NUL byte after the object", L("{\"queue_id\": \"A1\"}\0"), 0, NULL, NULL, 0, NULL, NULL},
	{"trailing garbage", L("{\"queue_id\": \"A1\"} x"), 0, NULL, NULL, 0, NULL, NULL},
	{"two objects on a line", L("{\"queue_id\": \"A1\"}{\"queue_id\": \"A2\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"missing comma", L("{\"queue_id\": \"A1\" \"sender\": \"s@x\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"missing colon", L("{\"queue_id\" \"A1\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"trailing comma", L("{\"queue_id\": \"A1\",}"), 0, NULL, NULL, 0, NULL, NULL},
	{"a key that is no string", L("{queue_id: \"A1\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"single quotes", L("{'queue_id': 'A1'}"), 0, NULL, NULL, 0, NULL, NULL},
	{"an id that is a number", L("{\"queue_id\": 12}"), 0, NULL, NULL, 0, NULL, NULL},
	{"an arrival that is a string", L("{\"queue_id\": \"A1\", \"arrival_time\": \"7\"}"), 0, NULL, NULL, 0, NULL,
	 NULL},
	{"an arrival with no digits", L("{\"queue_id\": \"A1\", \"arrival_time\": -}"), 0, NULL, NULL, 0, NULL, NULL},
	{"recipients not an array", L("{\"queue_id\": \"A1\", \"recipients\": {\"address\": \"r@x\"}}"), 0, NULL, NULL,
	 0, NULL, NULL},
	{"a recipient not an object", L("{\"queue_id\": \"A1\", \"recipients\": [\"r@x\"]}"), 0, NULL, NULL, 0, NULL,
	 NULL},
	{"an address that is no string", L("{\"queue_id\": \"A1\", \"recipients\": [{\"address\": 5}]}"), 0, NULL,
	 NULL, 0, NULL, NULL},
	{"unbalanced nesting", L("{\"queue_id\": \"A1\", \"x\": [1}]}"), 0, NULL, NULL, 0, NULL, NULL},
	{"an empty value", L("{\"queue_id\": \"A1\", \"x\": }"), 0, NULL, NULL, 0, NULL, NULL},
	{"a bad id: path", L("{\"queue_id\": \"../x\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"a bad id: empty", L("{\"queue_id\": \"\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"a bad id: escaped slash", L("{\"queue_id\": \"A\\/B\"}"), 0, NULL, NULL, 0, NULL, NULL},
	{"a bad id: 33 characters", L("{\"queue_id\": \"0123456789abcdefABCDEF0123456789X\"}"), 0, NULL, NULL, 0,
	 NULL, NULL},
	{"a bad id: 40 characters (not cut to 32)", L("{\"queue_id\": \"0123456789012345678901234567890123456789\"}"),
	 0, NULL, NULL, 0, NULL, NULL},
	{"a queue name too long", L("{\"queue_id\": \"A1\", \"queue_name\": \"holdholdholdholdhold\"}"), 0, NULL, NULL,
	 0, NULL, NULL},
};

static void joined(const holdq_entry *e, sbuf *o)
{
	size_t k = 0;
	for (const char *p = e->rcpts.s; p && p < e->rcpts.s + e->rcpts.len; p += strlen(p) + 1, k++)
		sbuf_puts(o, k ? "|" : ""), sbuf_puts(o, p);
	ck_assert_uint_eq(k, e->nrcpt);
}

START_TEST(test_parse_line)
{
	holdq_entry e;
	int rc = holdq_parse_line(lines[_i].line, lines[_i].len, &e);
	ck_assert_msg(rc == (lines[_i].ok ? 0 : -1), "%s: rc %d", lines[_i].name, rc);
	if (rc < 0) {
		ck_assert_ptr_null(e.sender.s);  /* nothing left to free */
		ck_assert_ptr_null(e.rcpts.s);
		return;
	}
	sbuf r = SBUF_INIT;
	joined(&e, &r);
	ck_assert_msg(strcmp(e.id, lines[_i].id) == 0, "%s: id [%s]", lines[_i].name, e.id);
	ck_assert_msg(strcmp(e.queue, lines[_i].queue) == 0, "%s: queue [%s]", lines[_i].name, e.queue);
	ck_assert_msg(e.arrival == lines[_i].arrival, "%s: arrival %lld", lines[_i].name, e.arrival);
	ck_assert_msg(strcmp(STR(e.sender), lines[_i].sender) == 0, "%s: sender [%s]", lines[_i].name, STR(e.sender));
	ck_assert_msg(strcmp(STR(r), lines[_i].rcpts) == 0, "%s: rcpts [%s]", lines[_i].name, STR(r));
	sbuf_free(&r);
	holdq_entry_free(&e);
}
END_TEST

/* A line with member "x" a number inside depth containers ([[[1]]] or
 * {"k": {"k": 1}}): 0 or -1. 31 levels are read, deeper is refused. */
static int nested(int depth, char open, char close)
{
	sbuf s = SBUF_INIT;
	holdq_entry e;
	sbuf_puts(&s, "{\"queue_id\": \"A1\", \"x\": ");
	for (int i = 0; i < depth; i++)
		sbuf_puts(&s, open == '[' ? "[" : "{\"k\": ");
	sbuf_puts(&s, "1");
	for (int i = 0; i < depth; i++)
		sbuf_putc(&s, close);
	sbuf_putc(&s, '}');
	int rc = holdq_parse_line(s.s, s.len, &e);
	if (rc == 0)
		holdq_entry_free(&e);
	sbuf_free(&s);
	return rc;
}

static const struct { int depth; char open, close; int rc; } depths[] = {
	{1, '[', ']', 0}, {31, '[', ']', 0}, {31, '{', '}', 0}, {32, '[', ']', -1}, {32, '{', '}', -1},
	{1000, '[', ']', -1}, {100000, '[', ']', -1}, {100000, '{', '}', -1},
};

START_TEST(test_deep_nesting)
{
	ck_assert_int_eq(nested(depths[_i].depth, depths[_i].open, depths[_i].close), depths[_i].rc);
}
END_TEST

/* Truncating a good line anywhere is refused (and never reads past it). */
START_TEST(test_every_prefix)
{
	const char *full = DEFERRED;
	size_t n = strlen(full);
	for (size_t k = 0; k < n; k++) {
		char *cut = malloc(k ? k : 1);  /* exactly k bytes: ASan sees an overread */
		ck_assert_ptr_nonnull(cut);
		memcpy(cut, full, k);
		holdq_entry e;
		ck_assert_msg(holdq_parse_line(cut, k, &e) == -1, "prefix of %zu accepted", k);
		free(cut);
	}
}
END_TEST

/* Huge strings are cut at their caps, not refused; the rest still reads. */
static const struct {
	const char *member, *pre, *post;
	size_t n;
	size_t cap;                      /* what is kept of n 'a's */
} huge[] = {
	{"sender", "\"sender\": \"", "\"", 100000, 1024},
	{"address", "\"recipients\": [{\"address\": \"", "\"}]", 100000, 1024},
	{"skipped", "\"delay\": \"", "\"", 3000000, 0},
	{"key", "\"", "\": 1", 100000, 0},
};

START_TEST(test_huge_string)
{
	sbuf s = SBUF_INIT;
	sbuf_puts(&s, "{\"queue_id\": \"A1\", ");
	sbuf_puts(&s, huge[_i].pre);
	for (size_t i = 0; i < huge[_i].n; i++)
		sbuf_putc(&s, 'a');
	sbuf_puts(&s, huge[_i].post);
	sbuf_puts(&s, ", \"queue_name\": \"hold\"}");
	holdq_entry e;
	ck_assert_int_eq(holdq_parse_line(s.s, s.len, &e), 0);
	ck_assert_str_eq(e.id, "A1");
	ck_assert_str_eq(e.queue, "hold");
	if (strcmp(huge[_i].member, "sender") == 0)
		ck_assert_uint_eq(e.sender.len, huge[_i].cap);
	if (strcmp(huge[_i].member, "address") == 0)
		ck_assert_uint_eq(e.rcpts.len, huge[_i].cap + 1);
	holdq_entry_free(&e);
	sbuf_free(&s);
}
END_TEST

/* A multi-byte character is never cut in two at the cap. */
START_TEST(test_huge_utf8)
{
	sbuf s = SBUF_INIT;
	sbuf_puts(&s, "{\"queue_id\": \"A1\", \"sender\": \"");
	for (int i = 0; i < 1000; i++)
		sbuf_puts(&s, "\\u20ac");
	sbuf_puts(&s, "\"}");
	holdq_entry e;
	ck_assert_int_eq(holdq_parse_line(s.s, s.len, &e), 0);
	ck_assert_uint_le(e.sender.len, 1024);
	ck_assert_uint_eq(e.sender.len % 3, 0);
	holdq_entry_free(&e);
	sbuf_free(&s);
}
END_TEST

/* Past 256 KB of addresses the rest are left out, counted right. */
START_TEST(test_many_recipients)
{
	sbuf s = SBUF_INIT;
	sbuf_puts(&s, "{\"queue_id\": \"A1\", \"recipients\": [");
	for (int i = 0; i < 30000; i++)
		sbuf_printf(&s, "%s{\"address\": \"user%05d@example.net\"}", i ? ", " : "", i);
	sbuf_puts(&s, "]}");
	holdq_entry e;
	ck_assert_int_eq(holdq_parse_line(s.s, s.len, &e), 0);
	ck_assert_uint_gt(e.nrcpt, 10000);
	ck_assert_uint_lt(e.nrcpt, 30000);
	ck_assert_uint_eq(e.rcpts.len, e.nrcpt * strlen("user00000@example.net") + e.nrcpt);
	ck_assert_str_eq(e.rcpts.s, "user00000@example.net");
	holdq_entry_free(&e);
	sbuf_free(&s);
}
END_TEST

/* ---- a buffer of lines ---------------------------------------------------- */

static const struct {
	const char *name;
	const char *buf;
	size_t len;
	const char *only;
	const char *ids;                 /* the IDs kept, joined with ' ' */
	size_t bad;
} bufs[] = {
	{"real output", L(REAL1 "\n" REAL2 "\n"), NULL, "639D1A74372 36A2AA7436F", 0},
	{"the hold queue only", L(REAL1 "\n" DEFERRED "\n" REAL2 "\n"), NULL, "639D1A74372 36A2AA7436F", 0},
	{"one ID in any queue", L(REAL1 "\n" DEFERRED "\n" REAL2 "\n"), "4F00CA724F3", "4F00CA724F3", 0},
	{"one ID, not there", L(REAL1 "\n" REAL2 "\n"), "4F00CA724F3", "", 0},
	{"no final newline", L(REAL1 "\n" REAL2), NULL, "639D1A74372 36A2AA7436F", 0},
	{"CRLF", L(REAL1 "\r\n" REAL2 "\r\n"), NULL, "639D1A74372 36A2AA7436F", 0},
	{"blank lines", L("\n\n" REAL1 "\n\n"), NULL, "639D1A74372", 0},
	{"empty queue", L(""), NULL, "", 0},
	{"bad lines counted, good ones kept", L("garbage\n" REAL1 "\n{\"queue_id\": \"A\n" REAL2 "\n{}"), NULL,
	 "639D1A74372 36A2AA7436F", 3},
	{"a NUL in one line", L(REAL1 "\n{\"queue_id\": \"A1\", \"queue_name\": \"hold\"\0}\n" REAL2 "\n"), NULL,
	 "639D1A74372 36A2AA7436F", 1},
	{"a bad line in another queue still counts", L("{\"queue_name\": \"deferred\"}\n"), NULL, "", 1},
};

START_TEST(test_parse_buffer)
{
	holdq_list q;
	sbuf ids = SBUF_INIT;
	holdq_parse(bufs[_i].buf, bufs[_i].len, bufs[_i].only, &q);
	for (size_t i = 0; i < q.n; i++)
		sbuf_puts(&ids, i ? " " : ""), sbuf_puts(&ids, q.v[i].id);
	ck_assert_msg(strcmp(STR(ids), bufs[_i].ids) == 0, "%s: [%s]", bufs[_i].name, STR(ids));
	ck_assert_msg(q.bad == bufs[_i].bad, "%s: bad %zu", bufs[_i].name, q.bad);
	sbuf_free(&ids);
	holdq_list_free(&q);
	ck_assert_ptr_null(q.v);
}
END_TEST

/* A line past 4 MiB is left out whole; the lines around it are read. */
START_TEST(test_parse_line_too_long)
{
	sbuf s = SBUF_INIT;
	holdq_list q;
	sbuf_puts(&s, REAL1 "\n{\"queue_id\": \"A1\", \"queue_name\": \"hold\", \"x\": \"");
	for (size_t i = 0; i < (5u << 20); i++)
		sbuf_putc(&s, 'a');
	sbuf_puts(&s, "\"}\n" REAL2 "\n");
	holdq_parse(s.s, s.len, NULL, &q);
	ck_assert_uint_eq(q.n, 2);
	ck_assert_uint_eq(q.bad, 1);
	ck_assert_str_eq(q.v[1].id, "36A2AA7436F");
	holdq_list_free(&q);
	sbuf_free(&s);
}
END_TEST

/* ---- queue IDs ------------------------------------------------------------- */

static const struct { const char *id; int ok; } ids[] = {
	{"639D1A74372", 1}, {"4F00CA724F3", 1}, {"a", 1}, {"3Tq5Pq1zXrz4y0qK", 1},  /* long queue IDs */
	{"0123456789abcdefABCDEF0123456789", 1}, {"0123456789abcdefABCDEF0123456789X", 0},
	{"", 0}, {"../x", 0}, {"A B", 0}, {"A-B", 0}, {"A_B", 0}, {"A*", 0}, {"-d", 0}, {"A\n", 0},
	{"\xc3\xa9", 0}, {"A;rm", 0},
};

START_TEST(test_id_ok)
{
	ck_assert_msg(holdq_id_ok(ids[_i].id) == ids[_i].ok, "[%s] want %d", ids[_i].id, ids[_i].ok);
}
END_TEST

/* ---- a held message's header ----------------------------------------------- */

/* The header of a message held by the daemon (postcat -hq of tests/e2e/ctl.sh),
 * with a forged verdict and finding in the agent's own header first. */
static const char held_hdr[] =
	"Received: from vm (localhost [127.0.0.1])\n"
	"\tby relay.tonegate.test (Postfix) with ESMTP id 36A2AA7436F\n"
	"\tfor <maria@example.net>; Tue, 24 Nov 2026 06:31:00 +0000 (UTC)\n"
	"From: \"Jamey Fox\" <jamey@acme.example>\n"
	"To: \"Maria Lopez\" <maria@example.net>\n"
	"X-Tonegate-Verdict: pass score=0 ruleset=forged rules=-\n"
	"X-Tonegate-Finding: forged line=9 weight=99 \"x\" forged.\n"
	"Subject: Re: Friday A15288\n"
	"Date: Mon, 3 Mar 2025 11:05:00 +0000\n"
	"Message-ID: <A15288@acme.example>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: 7bit\n"
	"X-Tonegate-Verdict: hold score=14 ruleset=default rules=greeting,closing,curt,empathy,follow-up\n"
	"X-Tonegate-Finding: greeting line=1 weight=2 \"Nope.\" The reply does not greet the customer.\n"
	"X-Other: between\n"
	"x-tonegate-finding: curt line=1 weight=8 \"Nope.\" A curt reply: a bare \"no\" with no reason.\n"
	"X-Tonegate-Finding: a finding of another form\n"
	"\n";

START_TEST(test_held_parse)
{
	holdq_held h;
	ck_assert_int_eq(holdq_held_parse(held_hdr, sizeof held_hdr - 1, "X-Tonegate-Verdict", &h), HOLDQ_OK);
	ck_assert_str_eq(h.subject, "Re: Friday A15288");
	ck_assert_str_eq(h.verdict, "hold score=14 ruleset=default rules=greeting,closing,curt,empathy,follow-up");
	static const char *const want[] = {"greeting line=1", "curt line=1", "a finding of another form"};
	size_t i = h.findings, k = 0;
	for (const tg_header *f; (f = holdq_finding_next(&h, "X-Tonegate-Finding", &i)) != NULL; k++) {
		ck_assert_uint_lt(k, 3);
		ck_assert_msg(strncmp(f->value, want[k], strlen(want[k])) == 0, "finding %zu: [%s]", k, f->value);
	}
	ck_assert_uint_eq(k, 3);
	holdq_held_free(&h);
}
END_TEST

START_TEST(test_held_parse_not_ours)
{
	static const char raw[] = "From: a@x\nSubject: HOLDME\nX-Tonegate-Finding: x line=1 weight=1 y\n\n";
	holdq_held h;
	ck_assert_int_eq(holdq_held_parse(raw, sizeof raw - 1, "X-Tonegate-Verdict", &h), HOLDQ_OK);
	ck_assert_ptr_null(h.verdict);
	ck_assert_str_eq(h.subject, "HOLDME");
	size_t i = h.findings;
	ck_assert_ptr_null(holdq_finding_next(&h, "X-Tonegate-Finding", &i));  /* no verdict: no findings */
	holdq_held_free(&h);
	ck_assert_int_eq(holdq_held_parse("", 0, "X-Tonegate-Verdict", &h), HOLDQ_OK);
	ck_assert_ptr_null(h.subject);
	holdq_held_free(&h);
}
END_TEST

static const struct {
	const char *v;
	int ok;
	const char *rule, *rest;
	unsigned line;
	int weight;
} findings[] = {
	{"curt line=1 weight=8 \"Nope.\" A curt reply.", 0, "curt", "\"Nope.\" A curt reply.", 1, 8},
	{"follow-up line=12 weight=-3 text", 0, "follow-up", "text", 12, -3},
	{"greeting line=1 weight=2 ", 0, "greeting", "", 1, 2},
	{"greeting line=1 weight=2", 0, "greeting", "", 1, 2},
	{"a finding of another form", -1, NULL, NULL, 0, 0},
	{"curt line=x weight=8 t", -1, NULL, NULL, 0, 0},
	{"curt line=1", -1, NULL, NULL, 0, 0},
	{"", -1, NULL, NULL, 0, 0},
};

START_TEST(test_finding_parse)
{
	sbuf rule = SBUF_INIT;
	unsigned line = 0;
	int weight = 0;
	const char *rest = NULL;
	int rc = holdq_finding_parse(findings[_i].v, &rule, &line, &weight, &rest);
	ck_assert_msg(rc == findings[_i].ok, "[%s]: %d", findings[_i].v, rc);
	if (rc == 0) {
		ck_assert_str_eq(STR(rule), findings[_i].rule);
		ck_assert_str_eq(rest, findings[_i].rest);
		ck_assert_uint_eq(line, findings[_i].line);
		ck_assert_int_eq(weight, findings[_i].weight);
	}
	sbuf_free(&rule);
}
END_TEST

static const struct { const char *v, *key, *want; } fields[] = {
	{"hold score=14 ruleset=default rules=a,b", "score", "14"},
	{"hold score=14 ruleset=default rules=a,b", "ruleset", "default"},
	{"hold score=14 ruleset=default rules=a,b", "rules", "a,b"},
	{"hold score=14 ruleset=default rules=-", "rules", "-"},
	{"hold score=14", "rules", NULL},
	{"hold xscore=1 score=2", "score", "2"},
	{"hold score= rules=a", "score", ""},
	{"score=3", "score", "3"},
	{"hold", "hold", NULL},
	{"", "score", NULL},
	{NULL, "score", NULL},
};

START_TEST(test_verdict_field)
{
	size_t n = 99;
	const char *p = holdq_verdict_field(fields[_i].v, fields[_i].key, &n);
	if (fields[_i].want == NULL) {
		ck_assert_ptr_null(p);
		return;
	}
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, strlen(fields[_i].want));
	ck_assert_int_eq(strncmp(p, fields[_i].want, n), 0);
}
END_TEST

/* ---- a tool that failed ---------------------------------------------------- */

static const struct {
	const char *name;
	int status, err_no, root;
	const char *err;
	holdq_why why;
	const char *line;                /* NULL: none */
} failures[] = {
	{"not installed", -1, ENOENT, 1, NULL, HOLDQ_NOT_FOUND, NULL},
	{"cannot exec", -1, EACCES, 1, NULL, HOLDQ_CANNOT_RUN, NULL},
	{"not root", 1, 0, 0, "postsuper: fatal: use of this command is reserved for the superuser\n",
	 HOLDQ_NEEDS_ROOT, "postsuper: fatal: use of this command is reserved for the superuser"},
	{"permission denied as root", 75, 0, 1, "postqueue: warning: x\npostqueue: fatal: open /q: Permission denied\n",
	 HOLDQ_NEEDS_ROOT, "postqueue: fatal: open /q: Permission denied"},
	{"any failure when not root", 1, 0, 0, "postcat: something\n", HOLDQ_NEEDS_ROOT, "postcat: something"},
	{"no main.cf", 1, 0, 1, "postqueue: fatal: open /etc/x/main.cf: No such file or directory\n",
	 HOLDQ_NEEDS_CONFDIR, "postqueue: fatal: open /etc/x/main.cf: No such file or directory"},
	{"other: the last line", 2, 0, 1, "one\ntwo\n\n", HOLDQ_FAILED, "two"},
	{"other: no newline", 2, 0, 1, "only", HOLDQ_FAILED, "only"},
	{"other: silent", 2, 0, 1, NULL, HOLDQ_FAILED, NULL},
	{"killed", 137, 0, 1, "", HOLDQ_FAILED, NULL},
};

START_TEST(test_failure)
{
	holdq_res r;
	memset(&r, 0, sizeof r);
	r.prog = "postqueue";
	r.status = failures[_i].status;
	r.err_no = failures[_i].err_no;
	if (failures[_i].err)
		sbuf_puts(&r.err, failures[_i].err);
	ck_assert_msg(holdq_res_why(&r, failures[_i].root) == failures[_i].why, "%s", failures[_i].name);
	size_t n = 99;
	const char *line = holdq_res_line(&r, &n);
	if (failures[_i].line == NULL) {
		ck_assert_msg(line == NULL, "%s: [%.*s]", failures[_i].name, (int)n, line);
		ck_assert_uint_eq(n, 0);
	} else {
		ck_assert_msg(line && n == strlen(failures[_i].line) && !strncmp(line, failures[_i].line, n),
			      "%s: [%.*s]", failures[_i].name, (int)n, line ? line : "");
	}
	holdq_res_free(&r);
}
END_TEST

static const struct { holdq_action a; const char *err; int moved; } counts[] = {
	{HOLDQ_RELEASE, "postsuper: 4F00CA724F3: released from hold\npostsuper: Released from hold: 1 message\n", 1},
	{HOLDQ_RELEASE, "postsuper: Released from hold: 0 messages\n", 0},
	{HOLDQ_RELEASE, "postsuper: Deleted: 0 messages\n", 1},  /* not its line */
	{HOLDQ_DISCARD, "postsuper: 4F00CA724F3: removed\npostsuper: Deleted: 1 message\n", 1},
	{HOLDQ_DISCARD, "postsuper: Deleted: 0 messages\n", 0},
	{HOLDQ_DISCARD, "", 1},
	{HOLDQ_DISCARD, NULL, 1},
};

START_TEST(test_act_count)
{
	ck_assert_int_eq(holdq_act_count(counts[_i].a, counts[_i].err), counts[_i].moved);
}
END_TEST

/* ---- running tools -------------------------------------------------------- */

static int refuse(void *arg, const char *p, size_t n)
{
	(void)p;
	*(size_t *)arg += n;
	return -1;
}

START_TEST(test_run)
{
	holdq_res r;
	sbuf out = SBUF_INIT;
	/* -c DIR goes right after the program's name */
	ck_assert_int_eq(holdq_run("/etc/pf", &r, holdq_to_sbuf, &out, "echo", "a b", "c", (char *)NULL), 0);
	ck_assert_str_eq(STR(out), "-c /etc/pf a b c\n");
	ck_assert_str_eq(r.prog, "echo");
	holdq_res_free(&r);
	sbuf_reset(&out);
	/* arguments reach it as they are: no shell */
	ck_assert_int_eq(holdq_run(NULL, &r, holdq_to_sbuf, &out, "echo", "$HOME;*`x`", (char *)NULL), 0);
	ck_assert_str_eq(STR(out), "$HOME;*`x`\n");
	holdq_res_free(&r);
	sbuf_reset(&out);
	/* standard error kept apart, exit status */
	ck_assert_int_eq(holdq_run(NULL, &r, holdq_to_sbuf, &out, "sh", "-c",
				   "echo out; echo 'x: fatal: broken' >&2; echo last >&2; exit 3", (char *)NULL), 3);
	ck_assert_str_eq(STR(out), "out\n");
	ck_assert_str_eq(STR(r.err), "x: fatal: broken\nlast\n");
	ck_assert_int_eq(holdq_res_why(&r, 1), HOLDQ_FAILED);
	holdq_res_free(&r);
	sbuf_free(&out);
	/* killed by a signal */
	ck_assert_int_eq(holdq_run(NULL, &r, NULL, NULL, "sh", "-c", "kill -9 $$", (char *)NULL), 128 + 9);
	holdq_res_free(&r);
	/* not installed */
	ck_assert_int_eq(holdq_run(NULL, &r, NULL, NULL, "tonegate-no-such-tool", (char *)NULL), -1);
	ck_assert_int_eq(r.err_no, ENOENT);
	ck_assert_int_eq(holdq_res_why(&r, 1), HOLDQ_NOT_FOUND);
	holdq_res_free(&r);
	/* output refused: the rest is drained, the tool ends normally; stderr capped at 4 KB */
	size_t got = 0;
	ck_assert_int_eq(holdq_run(NULL, &r, refuse, &got, "sh", "-c",
				   "head -c 1000000 /dev/zero; head -c 100000 /dev/zero | tr '\\0' e >&2", (char *)NULL), 0);
	ck_assert_int_eq(r.overflow, 1);
	ck_assert_uint_gt(got, 0);
	ck_assert_uint_le(r.err.len, 4096);
	holdq_res_free(&r);
}
END_TEST

/* Stand-ins for postqueue, postcat and postsuper in a folder put first in
 * PATH: what each prints and its exit status come from the environment. */
static char fakes[64];

static void fake_tools(void)  /* in main(): no ck_assert here */
{
	static const char *const tools[] = {"postqueue", "postcat", "postsuper"};
	snprintf(fakes, sizeof fakes, "/tmp/check_holdq.%ld", (long)getpid());
	if (mkdir(fakes, 0700) != 0) {
		perror(fakes);
		exit(EXIT_FAILURE);
	}
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", fakes, tools[i]);
		FILE *f = fopen(path, "w");
		if (f == NULL || chmod(path, 0700) != 0) {
			perror(path);
			exit(EXIT_FAILURE);
		}
		fprintf(f, "#!/bin/sh\necho \"$0 $*\" >>\"$FAKE_LOG\"\nprintf '%%b' \"$FAKE_OUT\"\n"
			"printf '%%b' \"$FAKE_ERR\" >&2\nexit ${FAKE_RC:-0}\n");
		fclose(f);
	}
	const char *old = getenv("PATH");
	sbuf path = SBUF_INIT, log = SBUF_INIT;
	sbuf_printf(&path, "%s:%s", fakes, old ? old : "/usr/bin:/bin");
	sbuf_printf(&log, "%s/log", fakes);
	setenv("PATH", path.s, 1);
	setenv("FAKE_LOG", log.s, 1);
	sbuf_free(&path);
	sbuf_free(&log);
}

static void fake_gone(void)
{
	static const char *const files[] = {"postqueue", "postcat", "postsuper", "log"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", fakes, files[i]);
		unlink(path);
	}
	rmdir(fakes);
}

static void fake(const char *out, const char *err, int rc)
{
	char n[16];
	snprintf(n, sizeof n, "%d", rc);
	setenv("FAKE_OUT", out, 1);
	setenv("FAKE_ERR", err, 1);
	setenv("FAKE_RC", n, 1);
}

/* What the stand-ins were called with, one call a line; the log starts again. */
static void calls(sbuf *o)
{
	char path[128], buf[4096];
	snprintf(path, sizeof path, "%s/log", fakes);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	unlink(path);
	sbuf_reset(o);
	for (char *p = buf, *e = buf + n; p < e; p++)  /* the program's name without its folder */
		if ((size_t)(e - p) > strlen(fakes) && strncmp(p, fakes, strlen(fakes)) == 0 && p[strlen(fakes)] == '/')
			p += strlen(fakes);  /* and its '/' */
		else
			sbuf_putc(o, *p);
}

START_TEST(test_read_fake)
{
	holdq_res r;
	holdq_list q;
	sbuf log = SBUF_INIT;
	calls(&log);  /* a fresh log */
	fake(REAL1 "\\n" DEFERRED "\\nbad\\n" REAL2, "", 0);
	ck_assert_int_eq(holdq_read("/pf", NULL, &q, &r), HOLDQ_OK);
	ck_assert_uint_eq(q.n, 2);
	ck_assert_uint_eq(q.bad, 1);
	ck_assert_str_eq(q.v[1].id, "36A2AA7436F");
	ck_assert_ptr_null(r.err.s);
	holdq_list_free(&q);
	calls(&log);
	ck_assert_str_eq(STR(log), "postqueue -c /pf -j\n");
	ck_assert_int_eq(holdq_read(NULL, "4F00CA724F3", &q, &r), HOLDQ_OK);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_str_eq(q.v[0].queue, "deferred");
	holdq_list_free(&q);
	fake("", "postqueue: fatal: open /etc/x/main.cf: No such file or directory\\n", 75);
	ck_assert_int_eq(holdq_read(NULL, NULL, &q, &r), HOLDQ_TOOL);
	ck_assert_uint_eq(q.n, 0);
	ck_assert_str_eq(r.prog, "postqueue");
	ck_assert_int_eq(r.status, 75);
	ck_assert_int_eq(holdq_res_why(&r, 1), HOLDQ_NEEDS_CONFDIR);
	holdq_res_free(&r);
	calls(&log);
	sbuf_free(&log);
}
END_TEST

START_TEST(test_held_fake)
{
	holdq_res r;
	holdq_held h;
	sbuf log = SBUF_INIT, raw = SBUF_INIT;
	calls(&log);
	fake("Subject: hi\\nX-Tonegate-Verdict: hold score=9 rules=curt\\n", "", 0);
	ck_assert_int_eq(holdq_held_read("/pf", "A1", "X-Tonegate-Verdict", &h, &r), HOLDQ_OK);
	ck_assert_str_eq(h.subject, "hi");
	ck_assert_str_eq(h.verdict, "hold score=9 rules=curt");
	holdq_held_free(&h);
	calls(&log);
	ck_assert_str_eq(STR(log), "postcat -c /pf -hq A1\n");
	fake("", "postcat: fatal: open queue file A1: No such file or directory\\n", 1);
	ck_assert_int_eq(holdq_held_read(NULL, "A1", "X-Tonegate-Verdict", &h, &r), HOLDQ_GONE);
	ck_assert_ptr_null(r.err.s);
	holdq_held_free(&h);
	fake("", "postcat: fatal: Permission denied\\n", 1);
	ck_assert_int_eq(holdq_message(NULL, "A1", 1, &raw, &r), HOLDQ_TOOL);
	ck_assert_int_eq(holdq_res_why(&r, 1), HOLDQ_NEEDS_ROOT);
	holdq_res_free(&r);
	fake("Subject: x\\n\\nbody that is longer than ten bytes\\n", "", 0);
	raw.max = 10;
	ck_assert_int_eq(holdq_message(NULL, "A1", 1, &raw, &r), HOLDQ_OK);
	ck_assert_int_eq(r.overflow, 1);
	calls(&log);
	ck_assert_str_eq(STR(log), "postcat -hq A1\npostcat -bhq A1\npostcat -bhq A1\n");
	sbuf_free(&raw);
	sbuf_free(&log);
}
END_TEST

static const struct {
	holdq_action a;
	const char *err;
	int rc;
	holdq_rc want;
	const char *call;
} acts[] = {
	{HOLDQ_RELEASE, "postsuper: Released from hold: 1 message\\n", 0, HOLDQ_OK, "postsuper -H A1\n"},
	{HOLDQ_RELEASE, "postsuper: Released from hold: 0 messages\\n", 0, HOLDQ_GONE, "postsuper -H A1\n"},
	{HOLDQ_DISCARD, "postsuper: Deleted: 1 message\\n", 0, HOLDQ_OK, "postsuper -d A1 hold\n"},
	{HOLDQ_DISCARD, "postsuper: Deleted: 0 messages\\n", 0, HOLDQ_GONE, "postsuper -d A1 hold\n"},
	{HOLDQ_DISCARD, "postsuper: fatal: use of this command is reserved for the superuser\\n", 1, HOLDQ_TOOL,
	 "postsuper -d A1 hold\n"},
};

START_TEST(test_act_fake)
{
	holdq_res r;
	sbuf log = SBUF_INIT;
	calls(&log);
	fake("", acts[_i].err, acts[_i].rc);
	ck_assert_int_eq(holdq_act(NULL, acts[_i].a, "A1", &r), acts[_i].want);
	if (acts[_i].want == HOLDQ_TOOL)
		ck_assert_int_eq(holdq_res_why(&r, 1), HOLDQ_NEEDS_ROOT);
	else
		ck_assert_ptr_null(r.err.s);
	holdq_res_free(&r);
	calls(&log);
	ck_assert_str_eq(STR(log), acts[_i].call);
	fake("", "", 0);
	ck_assert_int_eq(holdq_flush("/pf", "A1", &r), HOLDQ_OK);
	calls(&log);
	ck_assert_str_eq(STR(log), "postqueue -c /pf -i A1\n");
	sbuf_free(&log);
}
END_TEST

static Suite *holdq_suite(void)
{
	Suite *s = suite_create("holdq");
	TCase *tj = tcase_create("postqueue -j");
	tcase_add_loop_test(tj, test_parse_line, 0, NROWS(lines));
	tcase_add_loop_test(tj, test_deep_nesting, 0, NROWS(depths));
	tcase_add_test(tj, test_every_prefix);
	tcase_add_loop_test(tj, test_huge_string, 0, NROWS(huge));
	tcase_add_test(tj, test_huge_utf8);
	tcase_add_test(tj, test_many_recipients);
	tcase_add_loop_test(tj, test_parse_buffer, 0, NROWS(bufs));
	tcase_add_test(tj, test_parse_line_too_long);
	tcase_add_loop_test(tj, test_id_ok, 0, NROWS(ids));
	tcase_set_timeout(tj, 60);
	suite_add_tcase(s, tj);
	TCase *th = tcase_create("held");
	tcase_add_test(th, test_held_parse);
	tcase_add_test(th, test_held_parse_not_ours);
	tcase_add_loop_test(th, test_finding_parse, 0, NROWS(findings));
	tcase_add_loop_test(th, test_verdict_field, 0, NROWS(fields));
	suite_add_tcase(s, th);
	TCase *tt = tcase_create("tools");
	tcase_add_loop_test(tt, test_failure, 0, NROWS(failures));
	tcase_add_loop_test(tt, test_act_count, 0, NROWS(counts));
	tcase_add_test(tt, test_run);
	tcase_add_test(tt, test_read_fake);
	tcase_add_test(tt, test_held_fake);
	tcase_add_loop_test(tt, test_act_fake, 0, NROWS(acts));
	tcase_set_timeout(tt, 60);
	suite_add_tcase(s, tt);
	return s;
}

int main(void)
{
	html_init();
	fake_tools();
	SRunner *sr = srunner_create(holdq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fake_gone();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
