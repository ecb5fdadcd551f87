/*
 * notify — the notice sender; the contract is in notify.h.
 *
 * One worker thread owns every SMTP session. notify_submit only links the
 * notice into the queue under a mutex and wakes the worker, so a milter
 * callback never waits on the network. The queue is two lists: `fresh`
 * (FIFO, due when submitted: O(1) for the callbacks) and `later` (retries,
 * sorted by next try; only the worker inserts there). `count` includes the
 * notice being sent, so queue_size bounds the memory held.
 *
 * A send ends one of three ways:
 *  - sent: 2xx to the message and to at least one recipient. Recipients
 *    refused (5xx) or deferred (4xx) on the way are logged, not retried.
 *  - permanent: 5xx to MAIL, to DATA or to every recipient: LOG_ERR, dropped.
 *  - temporary: no connection, timeout, lost connection, any 4xx: LOG_WARNING
 *    and a retry after retry_base * 2^(tries-1) s, at most retry_max, until
 *    max_tries sends (then LOG_ERR, dropped). Recipients refused with 5xx are
 *    removed from the notice first, so the retry goes to the others only.
 *
 * notify_stop: the worker sends what falls due before the drain deadline
 * (each SMTP step then limited to the time left), then drops the rest with
 * one log line. It returns at once when nothing can fall due in time. A send
 * stuck past the deadline (libesmtp's connect() and resolver have no timeout
 * of their own) is abandoned after STOP_GRACE seconds: notify_stop returns,
 * the worker frees that notice when libesmtp gives it back, and until then
 * notify_start refuses to start another worker.
 *
 * libesmtp (1.1) traps handled here:
 *  - smtp_set_timeout takes milliseconds and silently raises values below the
 *    RFC 5321 minimums (2 to 10 minutes) unless Timeout_OVERRIDE_RFC2822_MINIMUM.
 *  - smtp_start_session returning 1 means the protocol ran, not that mail was
 *    accepted: a connection lost after the greeting also returns 1, with every
 *    status code 0. Only the MAIL, RCPT and DATA statuses decide.
 *  - a 4xx/5xx greeting or EHLO returns 0 and the reply is not kept anywhere
 *    public; the monitor callback keeps the last line the server sent.
 *  - header processing: libesmtp adds Date, From and Message-Id when the
 *    notice has none (name matched without regard to case), drops a second
 *    Date/From/Sender/To/Cc/Bcc/Reply-To/Message-Id, and strips Return-Path
 *    and Original-Recipient. Notices composed with each of those once go out
 *    byte for byte (dot-stuffing included).
 *  - the message callback: len == NULL means rewind; libesmtp free()s *ctx,
 *    so our read position lives in arg instead. Lines are split at CRLF
 *    only: a bare LF is sent as it is (notices must use CRLF).
 *  - a write to a closed connection raises SIGPIPE: the worker runs with every
 *    signal blocked, so it stays pending on that thread and write gets EPIPE.
 */
#include "config.h"
#include "notify.h"
#include "log.h"

#include <errno.h>
#include <libesmtp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STOP_GRACE 2     /* seconds past the drain deadline before a stuck send is abandoned */
#define TEXT_MAX 200     /* bytes of server text kept for a log line */
#define CHUNK (64 << 10) /* bytes handed to libesmtp per message callback */

typedef struct item {
	struct item *next;
	tg_notice *n;
	unsigned tries;          /* sends so far */
	struct timespec due;     /* next try, CLOCK_MONOTONIC */
} item;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;  /* on CLOCK_MONOTONIC, so it needs pthread_once */
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

/* All below under lock. */
static tg_notify_cfg cfg;    /* cfg.server is ours (strdup) */
static item *fresh, **fresh_tail = &fresh, *later;
static unsigned count;       /* queued, in flight included */
static int accepting;        /* between notify_start and notify_stop */
static int worker_live;      /* the worker has not returned yet */
static int stopping;
static struct timespec deadline;
static pthread_t worker;
static tg_notify_stats st;

typedef enum { SENT, TEMPFAIL, PERMFAIL } outcome;

static void init_wake(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &a);
	pthread_condattr_destroy(&a);
}

static struct timespec mono_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static struct timespec ts_add(struct timespec t, unsigned s)
{
	t.tv_sec += (time_t)s;
	return t;
}

static int ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static double ts_diff(struct timespec a, struct timespec b)
{
	return (double)(a.tv_sec - b.tv_sec) + (a.tv_nsec - b.tv_nsec) / 1e9;
}

static const char *id_of(const tg_notice *n)
{
	return n->id && *n->id ? n->id : "-";
}

/* Seconds before try tries+1: base * 2^(tries-1), at most max. */
static unsigned backoff(unsigned base, unsigned max, unsigned tries)
{
	unsigned long long d = base;
	for (unsigned i = 1; i < tries && d < max; i++)
		d *= 2;
	return d < max ? (unsigned)d : max;
}

/* A server's text for a log line: one line, printable ASCII, bounded. */
static void clean_text(char *dst, size_t size, const char *src, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && src[i] != '\r' && src[i] != '\n' && k + 1 < size; i++)
		dst[k++] = src[i] >= ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[k] = '\0';
}

/* Why a session failed with no status to show. libesmtp calls a timeout a
 * dropped connection; name the timeout when the session lasted that long. */
static void session_error(char *why, size_t len, double took, unsigned timeout)
{
	int e = smtp_errno();
	char tmp[128];
	const char *t = smtp_strerror(e, tmp, sizeof tmp);  /* may not return tmp */
	if (e == SMTP_ERR_DROPPED_CONNECTION && took >= timeout)
		snprintf(why, len, "no reply within %us", timeout);
	else
		snprintf(why, len, "%s", t && *t ? t : "unknown error");
}

static void status_text(char *why, size_t len, const smtp_status_t *s)
{
	char t[TEXT_MAX];
	clean_text(t, sizeof t, s->text ? s->text : "", s->text ? strlen(s->text) : 0);
	if (s->enh_class)
		snprintf(why, len, "%d %d.%d.%d %s", s->code, s->enh_class, s->enh_subject,
			 s->enh_detail, t);
	else
		snprintf(why, len, "%d %s", s->code, t);
}

struct source {
	const char *p;
	size_t len, off;
};

/* libesmtp's message callback; see the top of the file. */
static const char *read_notice(void **ctx, int *len, void *arg)
{
	struct source *src = arg;
	(void)ctx;
	if (len == NULL) {
		src->off = 0;
		return NULL;
	}
	size_t n = src->len - src->off;
	if (n > CHUNK)
		n = CHUNK;
	const char *p = src->p + src->off;
	src->off += n;
	*len = (int)n;
	return p;
}

/* Keep the last line the server sent (a refused greeting shows nowhere else). */
static void monitor(const char *buf, int n, int writing, void *arg)
{
	if (writing != SMTP_CB_READING || n <= 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	int start = n;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	clean_text(arg, TEXT_MAX, buf + start, (size_t)(n - start));
}

static int has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

/* One SMTP session for n. Logs what only it knows (each recipient refused),
 * puts the reason for the outcome in why, and removes the recipients that
 * got a 5xx from n. */
static outcome send_notice(tg_notice *n, const char *server, unsigned timeout, char *why,
			   size_t whylen)
{
	static const int steps[] = {Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA,
				    Timeout_TRANSFER, Timeout_DATA2};
	char last[TEXT_MAX] = "";
	struct source src = {n->data, n->len, 0};
	smtp_recipient_t *rc = calloc(n->nrcpt, sizeof *rc);
	smtp_session_t s = smtp_create_session();
	smtp_message_t m = s ? smtp_add_message(s) : NULL;
	outcome o = TEMPFAIL;

	int ok = rc && m && smtp_set_server(s, server) &&
		 smtp_set_reverse_path(m, n->from ? n->from : "") &&  /* "" is <> */
		 smtp_set_messagecb(m, read_notice, &src) &&
		 smtp_set_monitorcb(s, monitor, last, 0) && smtp_size_set_estimate(m, n->len);
	for (size_t i = 0; ok && i < sizeof steps / sizeof steps[0]; i++)
		ok = smtp_set_timeout(s, steps[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
				      (long)timeout * 1000L) > 0;
	/* BODY=8BITMIME only when needed: libesmtp then requires the extension. */
	if (ok && has_8bit(n->data, n->len))
		ok = smtp_8bitmime_set_body(m, E8bitmime_8BITMIME);
	for (size_t i = 0; ok && i < n->nrcpt; i++)
		ok = (rc[i] = smtp_add_recipient(m, n->rcpts[i])) != NULL;
	if (!ok) {
		snprintf(why, whylen, "cannot set up the SMTP session (out of memory?)");
		goto out;
	}

	struct timespec t0 = mono_now();
	if (!smtp_start_session(s)) {
		if (last[0] == '4' || last[0] == '5')
			snprintf(why, whylen, "%s", last);
		else
			session_error(why, whylen, ts_diff(mono_now(), t0), timeout);
		goto out;
	}
	double took = ts_diff(mono_now(), t0);

	const smtp_status_t *mail = smtp_reverse_path_status(m);
	if (mail->code / 100 != 2) {
		if (mail->code)
			status_text(why, whylen, mail);
		else
			session_error(why, whylen, took, timeout);
		o = mail->code / 100 == 5 ? PERMFAIL : TEMPFAIL;
		goto out;
	}
	size_t accepted = 0, refused = 0;
	const smtp_status_t *perm = NULL, *temp = NULL;
	for (size_t i = 0; i < n->nrcpt; i++) {
		const smtp_status_t *r = smtp_recipient_status(rc[i]);
		if (r->code / 100 == 2)
			accepted++;
		else if (r->code / 100 == 5) {
			refused++;
			perm = r;
			status_text(why, whylen, r);
			log_msg(LOG_ERR, "notice queue=%s: recipient <%s> refused by %s: %s", id_of(n),
				n->rcpts[i], server, why);
		} else if (temp == NULL && r->code)
			temp = r;
	}
	const smtp_status_t *data = smtp_message_transfer_status(m);
	if (accepted == 0 && refused == n->nrcpt) {
		status_text(why, whylen, perm);
		o = PERMFAIL;
	} else if (accepted == 0) {
		if (temp)
			status_text(why, whylen, temp);
		else
			session_error(why, whylen, took, timeout);
	} else if (data->code / 100 == 2) {
		status_text(why, whylen, data);
		o = SENT;
		for (size_t i = 0; i < n->nrcpt; i++) {
			const smtp_status_t *r = smtp_recipient_status(rc[i]);
			if (r->code / 100 != 2 && r->code / 100 != 5) {
				char t[TEXT_MAX + 32];
				status_text(t, sizeof t, r);
				log_msg(LOG_WARNING, "notice queue=%s: recipient <%s> deferred by %s: %s; "
					"not retried (sent to the others)", id_of(n), n->rcpts[i], server, t);
			}
		}
	} else if (data->code) {
		status_text(why, whylen, data);
		o = data->code / 100 == 5 ? PERMFAIL : TEMPFAIL;
	} else
		session_error(why, whylen, took, timeout);

	if (o == TEMPFAIL && refused) {
		size_t k = 0;
		for (size_t i = 0; i < n->nrcpt; i++) {
			if (smtp_recipient_status(rc[i])->code / 100 == 5)
				free(n->rcpts[i]);
			else
				n->rcpts[k++] = n->rcpts[i];
		}
		n->nrcpt = k;
	}
out:
	if (s)
		smtp_destroy_session(s);
	free(rc);
	return o;
}

/* The list whose head goes next (the earlier due), or NULL. */
static item **next_due(void)
{
	if (fresh == NULL)
		return later ? &later : NULL;
	if (later && ts_before(later->due, fresh->due))
		return &later;
	return &fresh;
}

static void insert_later(item *it)
{
	item **pp = &later;
	while (*pp && !ts_before(it->due, (*pp)->due))
		pp = &(*pp)->next;
	it->next = *pp;
	*pp = it;
}

/* Unlink both lists; the caller frees them outside the lock. */
static item *take_all(unsigned *n)
{
	*fresh_tail = later;
	item *all = fresh;
	fresh = later = NULL;
	fresh_tail = &fresh;
	*n = 0;
	for (item *it = all; it; it = it->next)
		++*n;
	count -= *n;
	st.dropped += *n;
	return all;
}

static void free_items(item *it)
{
	while (it) {
		item *next = it->next;
		notify_free(it->n);
		free(it);
		it = next;
	}
}

static void *notify_worker(void *arg)
{
	(void)arg;  /* signals: all blocked, inherited from notify_start */
	pthread_mutex_lock(&lock);
	for (;;) {
		struct timespec now = mono_now();
		item **pp = next_due();
		/* Stopping: done when nothing can be sent before the deadline. */
		if (stopping && (pp == NULL || !ts_before(now, deadline) ||
				 !ts_before((*pp)->due, deadline) || cfg.server == NULL))
			break;
		if (pp == NULL) {
			pthread_cond_wait(&wake, &lock);
			continue;
		}
		if (ts_before(now, (*pp)->due)) {
			struct timespec until = (*pp)->due;
			pthread_cond_timedwait(&wake, &lock, &until);
			continue;
		}
		item *it = *pp;
		*pp = it->next;
		if (fresh == NULL)
			fresh_tail = &fresh;
		/* The config as of this send: a reload applies from the next one. */
		char *server = strdup(cfg.server);
		unsigned timeout = cfg.timeout, max_tries = cfg.max_tries;
		unsigned base = cfg.retry_base, max_delay = cfg.retry_max;
		time_t remain = deadline.tv_sec - now.tv_sec;  /* stopping: no step outlasts the drain */
		if (stopping && remain < (time_t)timeout)
			timeout = remain > 1 ? (unsigned)remain : 1;
		pthread_mutex_unlock(&lock);

		char why[TEXT_MAX + 64];
		outcome o = TEMPFAIL;
		if (server)
			o = send_notice(it->n, server, timeout, why, sizeof why);
		else
			snprintf(why, sizeof why, "out of memory");
		const char *id = id_of(it->n), *srv = server ? server : "the notice server";
		unsigned delay = 0;
		it->tries++;
		if (o == SENT)
			log_msg(LOG_INFO, "notice queue=%s sent via %s: %s", id, srv, why);
		else if (o == PERMFAIL)
			log_msg(LOG_ERR, "notice queue=%s refused by %s: %s; dropped", id, srv, why);
		else if (it->tries >= max_tries)
			log_msg(LOG_ERR, "notice queue=%s not sent via %s: %s; dropped after %u tries",
				id, srv, why, it->tries);
		else {
			delay = backoff(base, max_delay, it->tries);
			log_msg(LOG_WARNING, "notice queue=%s not sent via %s: %s (try %u of %u, next try "
				"in %us)", id, srv, why, it->tries, max_tries, delay);
		}
		free(server);
		int requeue = o == TEMPFAIL && it->tries < max_tries;
		if (!requeue) {
			notify_free(it->n);
			free(it);
		}

		pthread_mutex_lock(&lock);
		if (o == SENT)
			st.sent++;
		else
			st.failed++;
		if (requeue) {
			st.retried++;
			it->due = ts_add(mono_now(), delay);
			insert_later(it);
		} else {
			count--;
			if (o != SENT)
				st.dropped++;
		}
	}
	unsigned left;
	item *rest = take_all(&left);
	worker_live = 0;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	if (left)
		log_msg(LOG_ERR, "notify: stopped with %u notice%s unsent; dropped", left,
			left == 1 ? "" : "s");
	free_items(rest);
	return NULL;
}

/* A copy of c->server, or NULL (logged) when there is none to use. */
static char *copy_server(const tg_notify_cfg *c)
{
	if (c == NULL || c->server == NULL || *c->server == '\0') {
		log_msg(LOG_ERR, "notify: no SMTP server for notices");
		return NULL;
	}
	char *s = strdup(c->server);
	if (s == NULL)
		log_msg(LOG_ERR, "notify: out of memory");
	return s;
}

/* Take c with server (ours now); returns the old server string to free.
 * Zeros that would make no sense are raised to 1. */
static char *set_cfg(const tg_notify_cfg *c, char *server)
{
	char *old = (char *)cfg.server;
	cfg = *c;
	cfg.server = server;
	if (cfg.max_tries == 0)
		cfg.max_tries = 1;
	if (cfg.retry_base == 0)  /* no retry loop at full speed */
		cfg.retry_base = 1;
	if (cfg.retry_max == 0)
		cfg.retry_max = 1;
	if (cfg.timeout == 0)
		cfg.timeout = 1;
	return old;
}

int notify_start(const tg_notify_cfg *c)
{
	pthread_once(&wake_once, init_wake);
	char *server = copy_server(c);
	if (server == NULL)
		return -1;
	pthread_mutex_lock(&lock);
	if (accepting || worker_live) {
		pthread_mutex_unlock(&lock);
		free(server);
		log_msg(LOG_ERR, "notify: cannot start: %s", accepting ? "already running"
			: "the previous worker is still finishing a send");
		return -1;
	}
	char *old = set_cfg(c, server);
	memset(&st, 0, sizeof st);
	stopping = 0;
	/* The worker inherits a full signal mask, so signals (SIGPIPE included)
	 * go to the daemon's own threads; blocking here leaves no window. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	int e = pthread_create(&worker, NULL, notify_worker, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (e == 0)
		accepting = worker_live = 1;
	pthread_mutex_unlock(&lock);
	free(old);
	if (e) {
		log_msg(LOG_ERR, "notify: cannot start the worker thread: %s", strerror(e));
		return -1;
	}
	return 0;
}

void notify_configure(const tg_notify_cfg *c)
{
	char *server = copy_server(c);
	if (server == NULL)
		return;  /* logged; the running config stays */
	pthread_mutex_lock(&lock);
	char *old = set_cfg(c, server);
	pthread_mutex_unlock(&lock);
	free(old);
}

int notify_submit(tg_notice *n)
{
	if (n == NULL || n->data == NULL || n->rcpts == NULL || n->nrcpt == 0) {
		log_msg(LOG_ERR, "notice queue=%s: no recipients or no data; not queued",
			n ? id_of(n) : "-");
		return -1;
	}
	item *it = malloc(sizeof *it);
	pthread_mutex_lock(&lock);
	int started = accepting, full = count >= cfg.queue_size;
	unsigned size = cfg.queue_size;
	if (started && it && !full) {
		it->n = n;
		it->tries = 0;
		it->due = mono_now();
		it->next = NULL;
		*fresh_tail = it;
		fresh_tail = &it->next;
		count++;
		pthread_cond_broadcast(&wake);
	} else if (started)
		st.dropped++;
	pthread_mutex_unlock(&lock);
	if (started && it && !full)
		return 0;
	free(it);
	if (!started)
		log_msg(LOG_WARNING, "notice queue=%s not queued: the notice sender is not running",
			id_of(n));
	else if (it == NULL)
		log_msg(LOG_WARNING, "notice queue=%s dropped: out of memory", id_of(n));
	else
		log_msg(LOG_WARNING, "notice queue=%s dropped: the notice queue is full (%u)", id_of(n),
			size);
	return -1;
}

void notify_free(tg_notice *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nrcpt; i++)
		free(n->rcpts[i]);
	free(n->rcpts);
	free(n->id);
	free(n->from);
	free(n->data);
	free(n);
}

void notify_stop(unsigned drain_seconds)
{
	pthread_mutex_lock(&lock);
	if (!accepting) {
		pthread_mutex_unlock(&lock);
		return;
	}
	accepting = 0;
	stopping = 1;
	deadline = ts_add(mono_now(), drain_seconds);
	struct timespec limit = ts_add(deadline, STOP_GRACE);
	pthread_cond_broadcast(&wake);
	while (worker_live && pthread_cond_timedwait(&wake, &lock, &limit) != ETIMEDOUT)
		;
	int abandoned = worker_live;
	unsigned left = 0;
	item *rest = abandoned ? take_all(&left) : NULL;
	char *server = (char *)cfg.server;
	cfg.server = NULL;  /* the worker starts no send without it */
	pthread_mutex_unlock(&lock);

	if (abandoned) {
		pthread_detach(worker);
		log_msg(LOG_ERR, "notify: a send to %s is still running %us after the stop; left to "
			"finish on its own; %u queued notice%s dropped", server, drain_seconds + STOP_GRACE,
			left, left == 1 ? "" : "s");
		free_items(rest);
	} else
		pthread_join(worker, NULL);
	free(server);
}

void notify_stats(tg_notify_stats *out)
{
	pthread_mutex_lock(&lock);
	*out = st;
	out->queued = count;
	pthread_mutex_unlock(&lock);
}
