/*
 * holdq — Postfix's queue as tonegatectl sees it: postqueue -j lists it,
 * postcat -hq / -bhq reads a message, postsuper -H / -d acts on one and
 * postqueue -i sends a released one on its way.
 *
 * Every tool runs with fork + execvp, never through a shell, after -c DIR
 * when a Postfix configuration directory is given; it is looked up in PATH,
 * then in /usr/sbin. A queue ID must pass holdq_id_ok() before it is handed
 * to one. The postqueue -j reader is a small bounded JSON reader (strings
 * decoded to UTF-8 and capped, nesting capped, lines capped at 4 MiB) that
 * the tests drive directly through holdq_parse_line() and holdq_parse().
 *
 * Nothing here prints: a tool that failed is described by its holdq_res
 * (holdq_res_why(), holdq_res_line()) for the caller to report.
 *
 * Ownership: entries, lists and held messages own their memory and are
 * freed with holdq_entry_free(), holdq_list_free() and holdq_held_free().
 * A holdq_res owns the tool's standard error: after holdq_run() free it
 * with holdq_res_free(); the other functions leave something to free only
 * when they return HOLDQ_TOOL (holdq_res_free() is harmless otherwise).
 * Pure functions are thread-safe; the ones that run tools fork and wait, so
 * call them from one thread. Message parsing needs message_init() first.
 */
#ifndef TG_HOLDQ_H
#define TG_HOLDQ_H

#include <stddef.h>
#include "message.h"
#include "sbuf.h"

enum { HOLDQ_MAX_ID = 32 };

/* What the functions that read or act on the queue return. */
typedef enum holdq_rc {
	HOLDQ_OK = 0,
	HOLDQ_GONE,     /* the message is not (any more) where it was asked for */
	HOLDQ_TOOL,     /* a Postfix tool failed or could not run: see the holdq_res */
	HOLDQ_NOMEM,
} holdq_rc;

/* ---- running a Postfix tool ---------------------------------------------- */

typedef struct holdq_res {
	const char *prog;  /* the tool that ran (the caller's string) */
	int status;        /* exit status, 128 + signal, or -1: could not run */
	int err_no;        /* when status is -1: ENOENT = not installed */
	int overflow;      /* the output function refused some output */
	sbuf err;          /* the first 4 KB of its standard error */
} holdq_res;

/* Receives a tool's standard output; returns -1 when it wants no more (the
 * rest is read and dropped, so the tool is not killed by SIGPIPE). */
typedef int (*holdq_out_fn)(void *arg, const char *p, size_t n);

/* An holdq_out_fn that appends to the sbuf arg (up to its max). */
int holdq_to_sbuf(void *arg, const char *p, size_t n);

/* Run prog with the arguments that follow (at most 12, NULL-terminated),
 * after -c pfdir unless pfdir is NULL; out (or NULL) gets its standard
 * output. Returns r->status. r->err is always the caller's to free. */
int holdq_run(const char *pfdir, holdq_res *r, holdq_out_fn out, void *arg, const char *prog, ...)
	__attribute__((sentinel));
void holdq_res_free(holdq_res *r);

/* Why a tool failed, for the advice that goes with it. */
typedef enum holdq_why {
	HOLDQ_NOT_FOUND,     /* not installed, or neither in PATH nor in /usr/sbin */
	HOLDQ_CANNOT_RUN,    /* pipe, fork or exec failed: strerror(r->err_no) */
	HOLDQ_NEEDS_ROOT,    /* it failed and says (or we are not root) it wants root */
	HOLDQ_NEEDS_CONFDIR, /* it failed looking for main.cf: give -C DIR */
	HOLDQ_FAILED,        /* it failed for another reason */
} holdq_why;

/* root: whether we run as root (a failure then is not a permission one
 * unless the tool says so). */
holdq_why holdq_res_why(const holdq_res *r, int root);
/* The line of its standard error to show: its "fatal: " line, else its last
 * line; *len its length without the newline. NULL when it printed nothing.
 * Borrowed from r->err: not made safe for a terminal. */
const char *holdq_res_line(const holdq_res *r, size_t *len);

/* ---- the queue: postqueue -j ----------------------------------------------- */

int holdq_id_ok(const char *id);   /* [0-9A-Za-z]{1,32} */

typedef struct holdq_entry {       /* one message of postqueue -j */
	char id[HOLDQ_MAX_ID + 1];
	char queue[16];            /* hold, deferred, active, incoming, ... */
	long long arrival;         /* seconds since the epoch */
	sbuf sender;               /* decoded, at most 1 KB; empty: <> */
	sbuf rcpts;                /* addresses, each followed by a NUL (256 KB at most) */
	size_t nrcpt;              /* addresses in rcpts */
} holdq_entry;

typedef struct holdq_list {
	holdq_entry *v;
	size_t n;
	size_t bad;                /* lines that could not be read (left out) */
} holdq_list;

/* Read one line of postqueue -j (without its newline; NUL bytes in it make
 * it malformed) into *out: 0, or -1 when it is not a JSON object with a
 * valid queue_id (out is then left with nothing to free). Members may come
 * in any order; unknown ones are skipped. */
int holdq_parse_line(const char *line, size_t len, holdq_entry *out);
void holdq_entry_free(holdq_entry *e);

/* Read the lines of buf[0..len) into *out (which it initialises): the
 * messages of the hold queue when only is NULL, else the one message with
 * ID only in whatever queue. out->bad counts the lines left out. This is
 * the reader holdq_read() feeds postqueue's output to. */
void holdq_parse(const char *buf, size_t len, const char *only, holdq_list *out);
void holdq_list_free(holdq_list *q);

/* Run postqueue -j and read its output as holdq_parse() does: HOLDQ_OK
 * (out may be empty) or HOLDQ_TOOL. */
holdq_rc holdq_read(const char *pfdir, const char *only, holdq_list *out, holdq_res *r);

/* ---- a held message: postcat ------------------------------------------------ */

/* The message id, raw, into *raw (cut at raw->max: then r->overflow is
 * set): its header with postcat -hq, or header and body (body != 0) with
 * postcat -bhq. HOLDQ_OK, HOLDQ_GONE when it has left the queue, or
 * HOLDQ_TOOL. */
holdq_rc holdq_message(const char *pfdir, const char *id, int body, sbuf *raw, holdq_res *r);

typedef struct holdq_held {
	tg_message hdr;            /* the header, parsed as the daemon parses a message */
	const char *subject;       /* its Subject, or NULL; borrowed from hdr */
	const char *verdict;       /* tonegate's verdict header (the last one), or NULL */
	size_t findings;           /* index in hdr of the header after it */
} holdq_held;

/* Parse a raw header (as postcat -hq prints it) whose verdict header is
 * called verdict_name: HOLDQ_OK or HOLDQ_NOMEM. Free with holdq_held_free()
 * either way. The daemon appends its headers, so the last verdict header
 * is its own and a forged copy in the agent's message comes earlier. */
holdq_rc holdq_held_parse(const char *raw, size_t len, const char *verdict_name, holdq_held *h);
/* postcat -hq and holdq_held_parse(): also HOLDQ_GONE or HOLDQ_TOOL (h is
 * then left with nothing to free). */
holdq_rc holdq_held_read(const char *pfdir, const char *id, const char *verdict_name, holdq_held *h,
			 holdq_res *r);
void holdq_held_free(holdq_held *h);

/* The next finding header (called finding_name) after the verdict, from
 * *i = h->findings on; NULL at the end. */
const tg_header *holdq_finding_next(const holdq_held *h, const char *finding_name, size_t *i);

/* A finding header's value: "curt line=1 weight=8 "Nope." A curt reply: ...":
 * rule id into *rule, *rest points into v at the text. 0, or -1 when v is
 * not of that form. */
int holdq_finding_parse(const char *v, sbuf *rule, unsigned *line, int *weight, const char **rest);

/* The value of key in a verdict ("hold score=14 ruleset=default rules=a,b"):
 * a pointer into v and its length in *n, or NULL (also when v is NULL). */
const char *holdq_verdict_field(const char *v, const char *key, size_t *n);

/* ---- acting on a held message: postsuper -------------------------------- */

typedef enum holdq_action { HOLDQ_RELEASE, HOLDQ_DISCARD } holdq_action;

/* postsuper -H id (release) or postsuper -d id hold (discard): HOLDQ_OK,
 * HOLDQ_GONE when postsuper found it no longer in the hold queue, or
 * HOLDQ_TOOL. */
holdq_rc holdq_act(const char *pfdir, holdq_action a, const char *id, holdq_res *r);
/* How many messages postsuper's standard error says it moved (its count
 * line for action a); 1 when it has no count line. */
int holdq_act_count(holdq_action a, const char *err);
/* postqueue -i id: deliver a released message now rather than at the next
 * queue run. HOLDQ_OK or HOLDQ_TOOL. */
holdq_rc holdq_flush(const char *pfdir, const char *id, holdq_res *r);

#endif
