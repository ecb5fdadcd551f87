/*
 * verdictlog — the verdict log: one JSON object per line, one line per
 * judged message (written by the daemon) and per manager's decision on a
 * held one (written by tonegatectl), appended to the file named by
 * verdict_log in tonegate.conf. The schema is in tonegate.conf(5).
 *
 * verdictlog_format_* are pure: they append one line (with its '\n') to an
 * sbuf the caller owns. verdictlog_open/append/close keep one process-wide
 * descriptor behind a mutex: thread-safe. A line is written with a single
 * write() to an O_APPEND descriptor, so lines from several processes (the
 * daemon and tonegatectl) do not interleave. A failure (full disk, a file
 * that cannot be opened) is returned and never blocks; the caller logs it.
 */
#ifndef TG_VERDICTLOG_H
#define TG_VERDICTLOG_H

#include <stddef.h>
#include <time.h>

#include "judge.h"
#include "sbuf.h"

typedef struct tg_vlog_msg {
	time_t when;
	const char *queue_id;
	const char *message_id;       /* as in the header, or NULL */
	const char *agent;            /* envelope sender */
	const char *const *rcpts;     /* envelope recipients (their domains are logged) */
	size_t nrcpt;
	const tg_judgement *j;        /* the judgement; status and verdict as judged */
	int action;                   /* tg_action taken; -1 = passed unchecked */
	double ms;                    /* time spent judging */
	unsigned excerpt;             /* bytes of each finding's excerpt; 0 = none */
} tg_vlog_msg;

/* A judged (or unchecked) message. */
int verdictlog_format_msg(sbuf *out, const tg_vlog_msg *m);

/* A manager's decision on a held message: decision is "release" or
 * "discard"; by is the user who made it; verdict is the held message's
 * verdict header ("hold score=14 rules=curt,..."), or NULL. */
int verdictlog_format_decision(sbuf *out, time_t when, const char *queue_id, const char *decision,
			       const char *by, const char *agent, const char *verdict);

/* Open (or reopen, for logrotate) path for appending; "" closes. 0 or -1
 * with errno. */
int verdictlog_open(const char *path);
/* Append one formatted line: 0, or -1 with errno (nothing open: ENOENT). */
int verdictlog_append(const sbuf *line);
void verdictlog_close(void);

#endif
