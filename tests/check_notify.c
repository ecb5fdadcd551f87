/* check_notify — unit tests for the notice sender (src/notify.c): a tiny
 * ESMTP server on 127.0.0.1 (ephemeral port) in a thread receives what the
 * worker sends through libesmtp, and can be told to fail in given ways. */
#include "config.h"
#include <check.h>
#include "log.h"
#include "notify.h"
#include "sbuf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- the test server ---------------------------------------------------- */

/* How the first `bad_first` connections misbehave; later ones behave. */
enum bad { BAD_NONE, BAD_GREETING, BAD_EHLO, BAD_MAIL, BAD_RCPT, BAD_DATA, BAD_EOM, BAD_CLOSE,
	   BAD_HANG };

#define MAXMSG 16
#define MAXRCPT 8

typedef struct srv_msg {
	char *from, *params;        /* MAIL FROM:<from> params */
	char *rcpt[MAXRCPT];
	size_t nrcpt;
	sbuf data;                  /* dot-unstuffed, CRLF line ends, without the final "." */
} srv_msg;

typedef struct srv {
	int fd;                     /* bound to 127.0.0.1; listening once started */
	unsigned port;
	pthread_t th;
	int running;
	pthread_mutex_t mu;         /* guards all below */
	int quit, conn;             /* conn: the session's socket, -1 when none */
	enum bad bad;
	unsigned bad_first;
	unsigned conns;             /* connections accepted */
	unsigned rejected_rcpts;    /* RCPT commands answered 550 */
	srv_msg msgs[MAXMSG];       /* messages accepted (250 after the data) */
	unsigned nmsg;
} srv;

/* Bind 127.0.0.1 on an ephemeral port without listening: until srv_start,
 * connections to it are refused (a server that is down). */
static void srv_init(srv *S)
{
	memset(S, 0, sizeof *S);
	pthread_mutex_init(&S->mu, NULL);
	S->conn = -1;
	S->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(S->fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(S->fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	ck_assert_int_eq(getsockname(S->fd, (struct sockaddr *)&a, &len), 0);
	S->port = ntohs(a.sin_port);
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

typedef struct reader {
	int fd;
	char buf[4096];
	size_t off, len;
} reader;

/* One line ending in CRLF (a bare LF is data), without the CRLF; 0 at EOF,
 * on error or for a line longer than the buffer. */
static int get_line(reader *r, sbuf *line)
{
	sbuf_reset(line);
	for (;;) {
		if (r->off == r->len) {
			ssize_t n = read(r->fd, r->buf, sizeof r->buf);
			if (n <= 0)
				return 0;
			r->off = 0;
			r->len = (size_t)n;
		}
		char c = r->buf[r->off++];
		if (sbuf_putc(line, c) < 0 || line->len > 100000)
			return 0;
		if (c == '\n' && line->len >= 2 && line->s[line->len - 2] == '\r') {
			line->len -= 2;
			line->s[line->len] = '\0';
			return 1;
		}
	}
}

static void msg_clear(srv_msg *m)
{
	free(m->from);
	free(m->params);
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	sbuf_free(&m->data);
	memset(m, 0, sizeof *m);
}

/* "<addr> params" after "MAIL FROM:" or "RCPT TO:" */
static char *addr_of(const char *p, char **params)
{
	const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (!gt)
		return NULL;
	if (params)
		*params = strdup(gt + 1);
	return strndup(lt + 1, (size_t)(gt - lt - 1));
}

static void session(srv *S, int fd)
{
	pthread_mutex_lock(&S->mu);
	unsigned nconn = ++S->conns;
	enum bad bad = nconn <= S->bad_first ? S->bad : BAD_NONE;
	pthread_mutex_unlock(&S->mu);
	if (bad == BAD_CLOSE)
		return;
	if (bad == BAD_HANG) {  /* say nothing until the client gives up */
		char b[256];
		while (read(fd, b, sizeof b) > 0)
			;
		return;
	}
	if (bad == BAD_GREETING) {
		say(fd, "421 4.3.2 test server busy\r\n");
		return;
	}
	say(fd, "220 test.invalid ESMTP\r\n");
	reader r = {.fd = fd};
	sbuf line = SBUF_INIT;
	srv_msg m = {0};
	int have_mail = 0;
	while (get_line(&r, &line)) {
		const char *l = line.s ? line.s : "";
		if (!strncasecmp(l, "EHLO", 4)) {
			if (bad == BAD_EHLO)
				say(fd, "421 4.3.2 closing\r\n");
			else
				say(fd, "250-test.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
					"250-SIZE 10485760\r\n250 ENHANCEDSTATUSCODES\r\n");
			if (bad == BAD_EHLO)
				break;
		} else if (!strncasecmp(l, "HELO", 4)) {
			say(fd, "250 test.invalid\r\n");
		} else if (!strncasecmp(l, "MAIL FROM:", 10)) {
			msg_clear(&m);
			have_mail = 0;
			if (bad == BAD_MAIL) {
				say(fd, "451 4.3.0 mail later\r\n");
				continue;
			}
			m.from = addr_of(l + 10, &m.params);
			have_mail = m.from != NULL;
			say(fd, have_mail ? "250 2.1.0 ok\r\n" : "501 5.5.4 syntax\r\n");
		} else if (!strncasecmp(l, "RCPT TO:", 8)) {
			char *a = addr_of(l + 8, NULL);
			if (!have_mail || !a)
				say(fd, "503 5.5.1 no\r\n");
			else if (bad == BAD_RCPT)
				say(fd, "451 4.3.0 rcpt later\r\n");
			else if (!strncmp(a, "reject", 6)) {
				pthread_mutex_lock(&S->mu);
				S->rejected_rcpts++;
				pthread_mutex_unlock(&S->mu);
				say(fd, "550 5.1.1 no such user\r\n");
			} else if (m.nrcpt < MAXRCPT) {
				m.rcpt[m.nrcpt++] = a;
				a = NULL;
				say(fd, "250 2.1.5 ok\r\n");
			} else
				say(fd, "452 4.5.3 too many recipients\r\n");
			free(a);
		} else if (!strcasecmp(l, "DATA")) {
			if (!have_mail || m.nrcpt == 0) {
				say(fd, "554 5.5.1 no valid recipients\r\n");
				continue;
			}
			if (bad == BAD_DATA) {
				say(fd, "451 4.3.0 data later\r\n");
				continue;
			}
			say(fd, "354 go ahead\r\n");
			int ended = 0;
			while (get_line(&r, &line)) {
				const char *d = line.s ? line.s : "";
				if (!strcmp(d, ".")) {
					ended = 1;
					break;
				}
				size_t skip = d[0] == '.';  /* dot-unstuffing */
				sbuf_append(&m.data, d + skip, line.len - skip);
				sbuf_append(&m.data, "\r\n", 2);
			}
			if (!ended)
				break;
			if (bad == BAD_EOM) {
				say(fd, "451 4.3.0 message later\r\n");
				msg_clear(&m);
			} else {
				pthread_mutex_lock(&S->mu);
				if (S->nmsg < MAXMSG) {
					S->msgs[S->nmsg++] = m;
					memset(&m, 0, sizeof m);
				}
				pthread_mutex_unlock(&S->mu);
				msg_clear(&m);
				say(fd, "250 2.0.0 queued\r\n");
			}
			have_mail = 0;
		} else if (!strcasecmp(l, "RSET")) {
			msg_clear(&m);
			have_mail = 0;
			say(fd, "250 2.0.0 ok\r\n");
		} else if (!strcasecmp(l, "NOOP")) {
			say(fd, "250 2.0.0 ok\r\n");
		} else if (!strcasecmp(l, "QUIT")) {
			say(fd, "221 2.0.0 bye\r\n");
			break;
		} else
			say(fd, "502 5.5.2 not implemented\r\n");
	}
	msg_clear(&m);
	sbuf_free(&line);
}

static void *srv_main(void *arg)
{
	srv *S = arg;
	for (;;) {
		pthread_mutex_lock(&S->mu);
		int quit = S->quit;
		pthread_mutex_unlock(&S->mu);
		if (quit)
			break;
		struct pollfd p = {.fd = S->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(S->fd, NULL, NULL);
		if (c < 0)
			continue;
		struct timeval tv = {10, 0};  /* a test never waits on a silent client for long */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		pthread_mutex_lock(&S->mu);
		S->conn = c;
		pthread_mutex_unlock(&S->mu);
		session(S, c);
		pthread_mutex_lock(&S->mu);
		S->conn = -1;
		pthread_mutex_unlock(&S->mu);
		close(c);
	}
	return NULL;
}

static void srv_start(srv *S)
{
	ck_assert_int_eq(listen(S->fd, 16), 0);
	ck_assert_int_eq(pthread_create(&S->th, NULL, srv_main, S), 0);
	S->running = 1;
}

/* Stop serving (the join orders the thread's writes before our reads). */
static void srv_stop(srv *S)
{
	if (!S->running)
		return;
	pthread_mutex_lock(&S->mu);
	S->quit = 1;
	if (S->conn >= 0)
		shutdown(S->conn, SHUT_RDWR);
	pthread_mutex_unlock(&S->mu);
	pthread_join(S->th, NULL);
	S->running = 0;
}

static void srv_free(srv *S)
{
	srv_stop(S);
	close(S->fd);
	for (unsigned i = 0; i < S->nmsg; i++)
		msg_clear(&S->msgs[i]);
	pthread_mutex_destroy(&S->mu);
}

static unsigned srv_count(srv *S, unsigned *field)
{
	pthread_mutex_lock(&S->mu);
	unsigned v = *field;
	pthread_mutex_unlock(&S->mu);
	return v;
}

/* ---- helpers ------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static tg_notify_stats stats(void)
{
	tg_notify_stats s;
	notify_stats(&s);
	return s;
}

/* Poll until expr holds or secs pass. */
#define WAIT_UNTIL(expr, secs)                                                \
	do {                                                                  \
		double t0_ = now_s();                                         \
		while (!(expr) && now_s() - t0_ < (secs))                     \
			sleep_ms(10);                                         \
	} while (0)

static char server_buf[2][64];

static const char *server_of(const srv *S, int which)
{
	snprintf(server_buf[which], sizeof server_buf[which], "127.0.0.1:%u", S->port);
	return server_buf[which];
}

/* Short retries so every test ends within seconds. */
static tg_notify_cfg cfg_for(const srv *S)
{
	tg_notify_cfg c = {server_of(S, 0), 10, 5, 1, 2, 5};
	return c;
}

/* A notice owned by the caller, allocated as notify_free expects; the
 * recipients follow data, NULL-terminated. */
static tg_notice *mk_notice(const char *id, const char *from, const char *data, ...)
{
	tg_notice *n = calloc(1, sizeof *n);
	n->id = strdup(id);
	n->from = strdup(from);
	n->data = strdup(data);
	n->len = strlen(data);
	n->rcpts = calloc(MAXRCPT, sizeof *n->rcpts);
	va_list ap;
	va_start(ap, data);
	for (const char *r; (r = va_arg(ap, const char *)) != NULL && n->nrcpt < MAXRCPT;)
		n->rcpts[n->nrcpt++] = strdup(r);
	va_end(ap);
	return n;
}

static const char BODY[] =
	"Hello,\r\n"
	"\r\n"
	".a line that starts with a dot\r\n"
	"..two dots\r\n"
	".\r\n"
	"a line with a bare\nLF inside\r\n"
	"caf\xc3\xa9 \xe2\x80\x94 UTF-8\r\n"
	"\r\n"
	"-- \r\n"
	"tonegate\r\n";

static const char HEAD[] =
	"Date: Mon, 3 Mar 2025 10:02:00 +0000\r\n"
	"From: tonegate <postmaster@example.org>\r\n"
	"To: Raj Patel <raj@example.org>\r\n"
	"Subject: Your reply to Maria was held\r\n"
	"Message-ID: <notice.1@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n";

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* Lines of the header block of d that start with "name:" (any case). */
static unsigned header_count(const char *d, const char *name)
{
	unsigned k = 0;
	size_t nl = strlen(name);
	for (const char *l = d; *l && strncmp(l, "\r\n", 2); l = strstr(l, "\r\n") + 2) {
		if (!strncasecmp(l, name, nl) && l[nl] == ':')
			k++;
		if (!strstr(l, "\r\n"))
			break;
	}
	return k;
}

/* ---- 1. a notice arrives intact ------------------------------------------ */

/* Header blocks as the composer might write them, and what the server must
 * get: libesmtp rewrites some, and these rows pin that down. */
static const struct {
	const char *name;
	const char *head;     /* sent: header lines, CRLF each */
	const char *want;     /* received header lines before any added; NULL: head */
	const char *added[2]; /* header names libesmtp appends (each once) */
} heads[] = {
	{ "complete", HEAD, NULL, {NULL, NULL} },
	{ "lower-case names", "date: Mon, 3 Mar 2025 10:02:00 +0000\r\nfrom: <postmaster@example.org>"
	  "\r\nto: raj@example.org\r\nsubject: x\r\nmessage-id: <n.2@example.org>\r\n", NULL,
	  {NULL, NULL} },
	{ "folded header", "Date: Mon, 3 Mar 2025 10:02:00 +0000\r\nFrom: <p@example.org>\r\n"
	  "Subject: a subject that goes on\r\n and on\r\n\tand on\r\nMessage-Id: <n.3@example.org>\r\n"
	  "X-Tonegate-Rule: rude.1\r\n", NULL, {NULL, NULL} },
	{ "8-bit header", "Date: Mon, 3 Mar 2025 10:02:00 +0000\r\nFrom: <p@example.org>\r\n"
	  "Subject: caf\xc3\xa9\r\nMessage-Id: <n.4@example.org>\r\n", NULL, {NULL, NULL} },
	/* A composer that forgets them gets one of each from libesmtp. */
	{ "no Date, no Message-Id", "From: <p@example.org>\r\nSubject: x\r\n", NULL,
	  {"Date", "Message-Id"} },
	/* libesmtp drops a second To: and strips Return-Path (a delivery header). */
	{ "two To, Return-Path", "Return-Path: <x@example.org>\r\nDate: Mon, 3 Mar 2025 10:02:00 "
	  "+0000\r\nFrom: <p@example.org>\r\nTo: a@example.org\r\nTo: b@example.org\r\n"
	  "Message-Id: <n.5@example.org>\r\n", "Date: Mon, 3 Mar 2025 10:02:00 +0000\r\nFrom: "
	  "<p@example.org>\r\nTo: a@example.org\r\nMessage-Id: <n.5@example.org>\r\n", {NULL, NULL} },
};

START_TEST(test_arrives_intact)
{
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	char *data = cat3(heads[_i].head, "\r\n", BODY);
	tg_notice *n = mk_notice("4XyZ1", "", data, "raj@example.org", "lead@example.org", NULL);
	ck_assert_int_eq(notify_submit(n), 0);
	WAIT_UNTIL(stats().sent == 1, 10);
	notify_stop(1);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_eq(s.failed, 0);
	ck_assert_uint_eq(s.queued, 0);

	srv_stop(&S);
	ck_assert_uint_eq(S.nmsg, 1);
	srv_msg *m = &S.msgs[0];
	ck_assert_str_eq(m->from, "");                         /* MAIL FROM:<> */
	ck_assert_ptr_nonnull(strstr(m->params, "BODY=8BITMIME"));
	ck_assert_uint_eq(m->nrcpt, 2);
	ck_assert_str_eq(m->rcpt[0], "raj@example.org");
	ck_assert_str_eq(m->rcpt[1], "lead@example.org");
	const char *got = m->data.s, *want = heads[_i].want ? heads[_i].want : heads[_i].head;
	size_t wl = strlen(want);
	ck_assert_msg(!strncmp(got, want, wl), "%s: headers [%s]", heads[_i].name, got);
	const char *rest = got + wl;
	for (int k = 0; k < 2 && heads[_i].added[k]; k++) {
		ck_assert_uint_eq(header_count(got, heads[_i].added[k]), 1);
		rest = strstr(rest, "\r\n") + 2;
	}
	ck_assert_msg(!strncmp(rest, "\r\n", 2) && !strcmp(rest + 2, BODY), "%s: body [%s]",
		      heads[_i].name, rest);
	if (!heads[_i].want && !heads[_i].added[0])
		ck_assert_str_eq(got, data);                    /* byte for byte */
	free(data);
	srv_free(&S);
}
END_TEST

START_TEST(test_envelope)
{
	/* A named sender, several recipients, a 7-bit body: no BODY= parameter. */
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	tg_notice *n = mk_notice("Q2", "tonegate@example.org", "From: <tonegate@example.org>\r\n"
				 "Date: Mon, 3 Mar 2025 10:02:00 +0000\r\nMessage-Id: <q2@x>\r\n\r\n"
				 "Plain.\r\n", "a@example.org", "b@example.org", "c@example.org", NULL);
	ck_assert_int_eq(notify_submit(n), 0);
	WAIT_UNTIL(stats().sent == 1, 10);
	notify_stop(1);
	srv_stop(&S);
	ck_assert_uint_eq(S.nmsg, 1);
	ck_assert_str_eq(S.msgs[0].from, "tonegate@example.org");
	ck_assert_ptr_null(strstr(S.msgs[0].params, "BODY="));
	ck_assert_uint_eq(S.msgs[0].nrcpt, 3);
	ck_assert_str_eq(S.msgs[0].rcpt[2], "c@example.org");
	ck_assert_str_eq(S.msgs[0].data.s, "From: <tonegate@example.org>\r\n"
			 "Date: Mon, 3 Mar 2025 10:02:00 +0000\r\nMessage-Id: <q2@x>\r\n\r\nPlain.\r\n");
	srv_free(&S);
}
END_TEST

/* ---- 2. server down, then up --------------------------------------------- */

START_TEST(test_down_then_up)
{
	srv S;
	srv_init(&S);  /* bound, not listening: refused */
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("D1", "", "Subject: x\r\n\r\nbody\r\n", "a@x.org",
						 NULL)), 0);
	WAIT_UNTIL(stats().failed >= 1, 10);
	ck_assert_uint_eq(stats().sent, 0);
	ck_assert_uint_eq(stats().queued, 1);
	srv_start(&S);
	WAIT_UNTIL(stats().sent == 1, 10);
	sleep_ms(300);
	tg_notify_stats s = stats();
	notify_stop(1);
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_ge(s.failed, 1);
	ck_assert_uint_ge(s.retried, 1);
	ck_assert_uint_eq(s.dropped, 0);
	ck_assert_uint_eq(s.queued, 0);
	ck_assert_uint_eq(srv_count(&S, &S.nmsg), 1);  /* exactly once */
	srv_free(&S);
}
END_TEST

/* ---- 3. temporary failures, then accepted ---------------------------------- */

static const struct {
	const char *name;
	enum bad bad;
	unsigned timeout;
} transient[] = {
	{ "421 greeting", BAD_GREETING, 5 },
	{ "421 to EHLO", BAD_EHLO, 5 },
	{ "451 to MAIL", BAD_MAIL, 5 },
	{ "451 to RCPT", BAD_RCPT, 5 },
	{ "451 to DATA", BAD_DATA, 5 },
	{ "451 after the data", BAD_EOM, 5 },
	{ "connection closed at once", BAD_CLOSE, 5 },
	{ "no reply (timeout)", BAD_HANG, 1 },
};

START_TEST(test_transient)
{
	srv S;
	srv_init(&S);
	S.bad = transient[_i].bad;
	S.bad_first = 2;
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	c.timeout = transient[_i].timeout;
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("T1", "", "Subject: t\r\n\r\nbody\r\n", "a@x.org",
						 NULL)), 0);
	WAIT_UNTIL(stats().sent == 1, 20);
	tg_notify_stats s = stats();
	notify_stop(1);
	ck_assert_msg(s.sent == 1 && s.failed == 2 && s.retried == 2 && s.dropped == 0,
		      "%s: sent %lu failed %lu retried %lu dropped %lu", transient[_i].name, s.sent,
		      s.failed, s.retried, s.dropped);
	ck_assert_uint_eq(srv_count(&S, &S.conns), 3);
	ck_assert_uint_eq(srv_count(&S, &S.nmsg), 1);
	srv_free(&S);
}
END_TEST

/* ---- 4. refused recipients ------------------------------------------------ */

START_TEST(test_all_rcpts_refused)
{
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("R1", "", "Subject: r\r\n\r\nbody\r\n",
						 "reject1@x.org", "reject2@x.org", NULL)), 0);
	WAIT_UNTIL(stats().dropped == 1, 10);
	sleep_ms(1500);  /* past retry_base: no retry may come */
	tg_notify_stats s = stats();
	notify_stop(1);
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_uint_eq(s.failed, 1);
	ck_assert_uint_eq(s.retried, 0);
	ck_assert_uint_eq(s.sent, 0);
	ck_assert_uint_eq(s.queued, 0);
	ck_assert_uint_eq(srv_count(&S, &S.conns), 1);
	ck_assert_uint_eq(srv_count(&S, &S.nmsg), 0);
	srv_free(&S);
}
END_TEST

START_TEST(test_some_rcpts_refused)
{
	/* One recipient accepted is a success; the refused one is not retried. */
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("R2", "", "Subject: r\r\n\r\nbody\r\n",
						 "reject@x.org", "ok@x.org", NULL)), 0);
	WAIT_UNTIL(stats().sent == 1, 10);
	notify_stop(1);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_eq(s.failed + s.retried + s.dropped, 0);
	srv_stop(&S);
	ck_assert_uint_eq(S.nmsg, 1);
	ck_assert_uint_eq(S.msgs[0].nrcpt, 1);
	ck_assert_str_eq(S.msgs[0].rcpt[0], "ok@x.org");
	srv_free(&S);
}
END_TEST

START_TEST(test_refused_rcpt_not_retried)
{
	/* 550 for one recipient, then 451 for the message: the retry goes to
	 * the other recipient only. */
	srv S;
	srv_init(&S);
	S.bad = BAD_EOM;
	S.bad_first = 1;
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("R3", "", "Subject: r\r\n\r\nbody\r\n",
						 "reject@x.org", "ok@x.org", NULL)), 0);
	WAIT_UNTIL(stats().sent == 1, 10);
	notify_stop(1);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.sent, 1);
	ck_assert_uint_eq(s.failed, 1);
	ck_assert_uint_eq(s.retried, 1);
	srv_stop(&S);
	ck_assert_uint_eq(S.rejected_rcpts, 1);
	ck_assert_uint_eq(S.nmsg, 1);
	ck_assert_uint_eq(S.msgs[0].nrcpt, 1);
	srv_free(&S);
}
END_TEST

/* ---- 5. max_tries ---------------------------------------------------------- */

START_TEST(test_max_tries)
{
	srv S;
	srv_init(&S);  /* down for good */
	tg_notify_cfg c = cfg_for(&S);
	c.max_tries = 3;
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("M1", "", "Subject: m\r\n\r\nbody\r\n", "a@x.org",
						 NULL)), 0);
	double t0 = now_s();
	WAIT_UNTIL(stats().dropped == 1, 15);
	double took = now_s() - t0;
	tg_notify_stats s = stats();
	notify_stop(1);
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_uint_eq(s.failed, 3);
	ck_assert_uint_eq(s.retried, 2);
	ck_assert_uint_eq(s.sent, 0);
	ck_assert_uint_eq(s.queued, 0);
	/* backoff: 1 s, then 2 s (retry_base 1, retry_max 2) */
	ck_assert_msg(took > 2.5 && took < 6, "took %.2fs", took);
	srv_free(&S);
}
END_TEST

/* ---- 6. a full queue -------------------------------------------------------- */

START_TEST(test_queue_full)
{
	srv S;
	srv_init(&S);
	tg_notify_cfg c = cfg_for(&S);
	c.queue_size = 2;
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("F1", "", "x\r\n", "a@x.org", NULL)), 0);
	ck_assert_int_eq(notify_submit(mk_notice("F2", "", "x\r\n", "a@x.org", NULL)), 0);
	tg_notice *n = mk_notice("F3", "", "x\r\n", "a@x.org", NULL);
	ck_assert_int_eq(notify_submit(n), -1);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_uint_eq(s.queued, 2);
	ck_assert_str_eq(n->id, "F3");  /* still the caller's, untouched */
	notify_free(n);
	notify_stop(0);
	s = stats();
	ck_assert_uint_eq(s.dropped, 3);
	ck_assert_uint_eq(s.queued, 0);
	srv_free(&S);
}
END_TEST

START_TEST(test_not_started)
{
	tg_notice *n = mk_notice("N1", "", "x\r\n", "a@x.org", NULL);
	ck_assert_int_eq(notify_submit(n), -1);
	notify_stop(5);  /* nothing to stop: returns */
	tg_notice *bad = mk_notice("N2", "", "x\r\n", NULL);  /* no recipient */
	srv S;
	srv_init(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_start(&c), -1);  /* once */
	ck_assert_int_eq(notify_submit(bad), -1);
	ck_assert_int_eq(notify_submit(NULL), -1);
	notify_stop(0);
	tg_notify_cfg none = c;
	none.server = "";
	ck_assert_int_eq(notify_start(&none), -1);
	notify_free(n);
	notify_free(bad);
	notify_free(NULL);
	srv_free(&S);
}
END_TEST

/* ---- 7. stopping ------------------------------------------------------------ */

START_TEST(test_stop_pending)
{
	srv S;
	srv_init(&S);  /* down */
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(notify_submit(mk_notice("S1", "", "x\r\n", "a@x.org", "b@x.org",
							 NULL)), 0);
	WAIT_UNTIL(stats().failed >= 3, 10);
	double t0 = now_s();
	notify_stop(2);
	double took = now_s() - t0;
	tg_notify_stats s = stats();
	ck_assert_msg(took < 2.5, "notify_stop(2) took %.2fs", took);
	ck_assert_uint_eq(s.dropped, 3);
	ck_assert_uint_eq(s.queued, 0);
	ck_assert_uint_eq(s.sent, 0);
	srv_free(&S);
}
END_TEST

START_TEST(test_stop_empty)
{
	srv S;
	srv_init(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	double t0 = now_s();
	notify_stop(30);
	ck_assert_msg(now_s() - t0 < 0.5, "took %.2fs", now_s() - t0);
	srv_free(&S);
}
END_TEST

START_TEST(test_stop_nothing_due)
{
	/* The only notice's next try is after the drain deadline: no waiting. */
	srv S;
	srv_init(&S);
	tg_notify_cfg c = cfg_for(&S);
	c.retry_base = c.retry_max = 60;
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("S2", "", "x\r\n", "a@x.org", NULL)), 0);
	WAIT_UNTIL(stats().failed == 1, 10);
	double t0 = now_s();
	notify_stop(30);
	ck_assert_msg(now_s() - t0 < 0.5, "took %.2fs", now_s() - t0);
	ck_assert_uint_eq(stats().dropped, 1);
	srv_free(&S);
}
END_TEST

START_TEST(test_stop_drains)
{
	/* What is queued at the stop is still sent within the drain time. */
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(notify_submit(mk_notice("S3", "", "x\r\n", "a@x.org", NULL)), 0);
	notify_stop(10);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.sent, 5);
	ck_assert_uint_eq(s.dropped, 0);
	ck_assert_uint_eq(srv_count(&S, &S.nmsg), 5);
	srv_free(&S);
}
END_TEST

START_TEST(test_stop_abandons_stuck_send)
{
	/* The server never answers and the send began before the stop, with 5 s
	 * per step: notify_stop gives up on it after drain + 2 s, and the worker
	 * frees the notice once libesmtp returns. */
	srv S;
	srv_init(&S);
	S.bad = BAD_HANG;
	S.bad_first = 100;
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("S4", "", "x\r\n", "a@x.org", NULL)), 0);
	ck_assert_int_eq(notify_submit(mk_notice("S5", "", "x\r\n", "a@x.org", NULL)), 0);
	WAIT_UNTIL(srv_count(&S, &S.conns) == 1, 5);
	double t0 = now_s();
	notify_stop(1);
	double took = now_s() - t0;
	ck_assert_msg(took > 2.5 && took < 3.5, "notify_stop(1) took %.2fs", took);
	tg_notify_stats s = stats();
	ck_assert_uint_eq(s.dropped, 1);  /* S5, never tried */
	ck_assert_uint_eq(s.queued, 1);   /* S4, in the worker's hands */
	ck_assert_int_eq(notify_start(&c), -1);
	srv_free(&S);  /* closes the connection: libesmtp returns */
	WAIT_UNTIL(stats().queued == 0, 10);
	s = stats();
	ck_assert_uint_eq(s.queued, 0);
	ck_assert_uint_eq(s.dropped, 2);
	WAIT_UNTIL(notify_start(&c) == 0, 5);  /* restartable once the worker is gone */
	notify_stop(0);
}
END_TEST

/* ---- 8. a reload switches the server ------------------------------------- */

START_TEST(test_configure)
{
	srv A, B;
	srv_init(&A);  /* down */
	srv_init(&B);
	srv_start(&B);
	tg_notify_cfg c = cfg_for(&A);
	ck_assert_int_eq(notify_start(&c), 0);
	ck_assert_int_eq(notify_submit(mk_notice("C1", "", "Subject: c\r\n\r\nbody\r\n", "a@x.org",
						 NULL)), 0);
	WAIT_UNTIL(stats().failed >= 1, 10);
	tg_notify_cfg d = c;
	d.server = server_of(&B, 1);
	notify_configure(&d);
	WAIT_UNTIL(stats().sent == 1, 10);
	notify_stop(1);
	ck_assert_uint_eq(stats().sent, 1);
	ck_assert_uint_eq(srv_count(&B, &B.nmsg), 1);
	srv_free(&A);
	srv_free(&B);
}
END_TEST

START_TEST(test_restart)
{
	srv S;
	srv_init(&S);
	srv_start(&S);
	tg_notify_cfg c = cfg_for(&S);
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(notify_start(&c), 0);
		ck_assert_uint_eq(stats().sent, 0);  /* counters start again */
		ck_assert_int_eq(notify_submit(mk_notice("X1", "", "x\r\n", "a@x.org", NULL)), 0);
		WAIT_UNTIL(stats().sent == 1, 10);
		notify_stop(1);
		ck_assert_uint_eq(stats().sent, 1);
	}
	ck_assert_uint_eq(srv_count(&S, &S.nmsg), 3);
	srv_free(&S);
}
END_TEST

#define NROWS(a) (int)(sizeof a / sizeof a[0])

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("send");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_arrives_intact, 0, NROWS(heads));
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_down_then_up);
	tcase_add_loop_test(tc, test_transient, 0, NROWS(transient));
	tcase_add_test(tc, test_all_rcpts_refused);
	tcase_add_test(tc, test_some_rcpts_refused);
	tcase_add_test(tc, test_refused_rcpt_not_retried);
	tcase_add_test(tc, test_max_tries);
	tcase_add_test(tc, test_configure);
	suite_add_tcase(s, tc);
	TCase *q = tcase_create("queue");
	tcase_set_timeout(q, 60);
	tcase_add_test(q, test_queue_full);
	tcase_add_test(q, test_not_started);
	tcase_add_test(q, test_stop_pending);
	tcase_add_test(q, test_stop_empty);
	tcase_add_test(q, test_stop_nothing_due);
	tcase_add_test(q, test_stop_drains);
	tcase_add_test(q, test_stop_abandons_stuck_send);
	tcase_add_test(q, test_restart);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);  /* the daemon blocks it; the test server writes too */
	log_open("check_notify", 1, NULL);
	SRunner *sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
