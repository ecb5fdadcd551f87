/*
 * notify — send notices (to agents and managers) with libesmtp from one
 * worker thread, through a bounded queue: a milter callback only enqueues
 * (never blocks on the network). A temporary failure is logged and retried
 * with exponential backoff up to max_tries; a 5xx to the message or to every
 * recipient drops it at once (logged); a full queue drops the new notice
 * with a log line. Nothing here ever touches the message the notice is
 * about.
 *
 * Thread-safe: notify_submit and notify_stats may be called from any
 * thread; notify_start/notify_stop from the main thread only. A notice and
 * every field of it are malloc'd; once submitted it is the queue's, and
 * notify_free frees the struct with its fields.
 */
#ifndef TG_NOTIFY_H
#define TG_NOTIFY_H

#include <stddef.h>

typedef struct tg_notify_cfg {
	const char *server;      /* "host:port" of the SMTP server notices go through */
	unsigned queue_size;     /* notices waiting, retries included */
	unsigned max_tries;      /* sends before a notice is given up (logged) */
	unsigned retry_base;     /* seconds before the first retry; doubles each time */
	unsigned retry_max;      /* ... up to this many seconds */
	unsigned timeout;        /* seconds for each SMTP step */
} tg_notify_cfg;

typedef struct tg_notice {
	char *id;                /* for the log: the queue id of the message it is about */
	char *from;              /* envelope sender of the notice ("" = null sender <>) */
	char **rcpts;            /* envelope recipients */
	size_t nrcpt;
	char *data;              /* the whole message, headers and body, CRLF line ends */
	size_t len;
} tg_notice;

/* Start the worker with cfg (copied; server must be "host:port"). 0, or -1
 * when the thread cannot start or there is no server. */
int notify_start(const tg_notify_cfg *cfg);
/* Use cfg (copied) for the sends from now on (a reload). */
void notify_configure(const tg_notify_cfg *cfg);
/* Queue n: 0 and n is the queue's, or -1 (queue full, not started, no
 * recipients or data, out of memory): n is still the caller's, and the
 * reason is logged. */
int notify_submit(tg_notice *n);
/* Free a notice that was not queued. */
void notify_free(tg_notice *n);
/* Stop the worker: give the queue up to drain_seconds to empty, then log
 * what is left (dropped) and free it. A send stuck in libesmtp is abandoned
 * 2 s after that, so this takes at most drain_seconds + 2. */
void notify_stop(unsigned drain_seconds);

typedef struct tg_notify_stats {
	unsigned long sent, failed, retried, dropped;  /* totals since start */
	unsigned long queued;                          /* waiting now */
} tg_notify_stats;
void notify_stats(tg_notify_stats *out);

#endif
