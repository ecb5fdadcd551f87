/* milter — libmilter callbacks around the engine; see milter.h. */
#include "config.h"
#include "milter.h"
#include "bodyedit.h"
#include "judge.h"
#include "log.h"
#include "notice.h"
#include "notify.h"
#include "rewrite.h"
#include "sbuf.h"
#include "text.h"
#include "verdictlog.h"

#include <errno.h>
#include <libmilter/mfapi.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the snapshot ------------------------------------------------------ */

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static tg_snapshot *current;

tg_snapshot *snapshot_new(tg_settings *cfg, tg_policy *policy)
{
	tg_snapshot *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->policy = policy;
	s->refs = 1;
	pthread_mutex_init(&s->pool_lock, NULL);
	return s;
}

void snapshot_unref(tg_snapshot *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		for (unsigned i = 0; i < s->npool; i++)
			matcher_scratch_free(s->pool[i]);
		pthread_mutex_destroy(&s->pool_lock);
		settings_free(s->cfg);
		policy_unref(s->policy);
		free(s);
	}
}

void snapshot_install(tg_snapshot *s)
{
	pthread_mutex_lock(&snap_lock);
	tg_snapshot *old = current;
	current = s;
	pthread_mutex_unlock(&snap_lock);
	snapshot_unref(old);
}

tg_snapshot *snapshot_get(void)
{
	pthread_mutex_lock(&snap_lock);
	tg_snapshot *s = current;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&snap_lock);
	return s;
}

/* A scratch for s's matcher: from the pool, or a new one (NULL: no memory). */
static tg_scratch *scratch_take(tg_snapshot *s)
{
	tg_scratch *x = NULL;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool)
		x = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	return x ? x : matcher_scratch_new(s->policy->matcher);
}

static void scratch_give(tg_snapshot *s, tg_scratch *x)
{
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool < TG_SCRATCH_POOL) {
		s->pool[s->npool++] = x;
		x = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	matcher_scratch_free(x);
}

/* ---- counters ---------------------------------------------------------- */

static tg_counts counts;
static const char *relay_name = "localhost";

static void count(unsigned long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* One judging time into the histogram (not per-bucket cumulative: the
 * metrics file adds them up). */
static void count_time(double ms)
{
	static const double le[] = {TG_JUDGE_BOUNDS_MS};
	size_t b = 0;
	while (b < sizeof le / sizeof le[0] && ms > le[b])
		b++;
	count(&counts.judge_hist[b]);
	__atomic_add_fetch(&counts.judge_us, (unsigned long)(ms * 1000), __ATOMIC_RELAXED);
	count(&counts.judge_n);
}

void milter_counts(tg_counts *out)
{
	unsigned long *dst = (unsigned long *)out, *src = (unsigned long *)&counts;
	for (size_t i = 0; i < sizeof counts / sizeof(unsigned long); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- tonegate's own notices -------------------------------------------- */

/* The Message-IDs of notices queued and not yet seen coming back through
 * the MTA. Only a message that is one of these passes unjudged: the
 * X-Tonegate-Notice header alone could be copied into any reply. */
enum { OWN_MAX = 1024 };
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static char *own_ids[OWN_MAX];
static size_t own_next;

static void own_add(const char *id)
{
	char *d = strdup(id);
	pthread_mutex_lock(&own_lock);
	free(own_ids[own_next]);
	own_ids[own_next] = d;
	own_next = (own_next + 1) % OWN_MAX;
	pthread_mutex_unlock(&own_lock);
}

/* Is id one of ours? Each is let through once. */
static int own_take(const char *id)
{
	int found = 0;
	pthread_mutex_lock(&own_lock);
	for (size_t i = 0; i < OWN_MAX && !found; i++)
		if (own_ids[i] && strcmp(own_ids[i], id) == 0) {
			free(own_ids[i]);
			own_ids[i] = NULL;
			found = 1;
		}
	pthread_mutex_unlock(&own_lock);
	return found;
}

/* ---- per connection and per message ------------------------------------ */

enum { MAX_RCPTS = 1000 };

struct msg {
	tg_snapshot *snap;
	sbuf raw;          /* headers + body as the MTA sent them, bounded */
	int oversize;
	char *sender;
	char **rcpts;
	size_t nrcpt;
	int notice;        /* marked as one of tonegate's own notices */
	char *msgid;       /* its Message-ID, when so marked */
	unsigned forged[3];/* incoming copies of our header_name, _verdict, _finding */
	int rcpt_failed;   /* a RCPT TO ran out of memory: on_error at DATA */
};

struct conn {
	unsigned long steps;   /* negotiated protocol steps */
	struct msg *m;
};

static void msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	snapshot_unref(m->snap);
	sbuf_free(&m->raw);
	free(m->sender);
	free(m->msgid);
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m);
}

static struct conn *conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The answer when something inside tonegate fails: never lose the mail. */
static sfsistat on_error(SMFICTX *ctx, const tg_settings *cfg, const char *what)
{
	count(&counts.errors);
	const char *qid = smfi_getsymval(ctx, "i");
	int tempfail = cfg && cfg->on_error == TG_ONERR_TEMPFAIL;
	log_msg(LOG_ERR, "queue=%s error: %s; message %s (on_error)", qid ? qid : "?", what,
		tempfail ? "temp-failed" : "accepted unchecked");
	if (tempfail) {
		smfi_setreply(ctx, "451", "4.3.0", "tonegate: temporary failure, try again later");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_ACCEPT;
}

/* An address without its angle brackets. */
static char *bare(const char *a)
{
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return strndup(a + 1, n - 2);
	return strdup(a);
}

/* A reply for a step whose answer was negotiated away. */
static sfsistat cont(const struct conn *c, unsigned long nr)
{
	return c && (c->steps & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* ---- callbacks --------------------------------------------------------- */

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return SMFIS_REJECT;  /* refuse the connection: the MTA applies its default */
	smfi_setpriv(ctx, c);
	/* Only what the gate uses: headers to add and remove, quarantine and the
	 * body (the rewrite action); no connect, HELO or unknown commands, and no replies
	 * to recipients, headers and body. MAIL FROM and DATA keep their replies:
	 * they accept mail out of scope before its body is sent. */
	*pf0 = (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGBODY) & f0;
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NR_RCPT |
			     SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
	c->steps = want & f1;
	*pf1 = c->steps;
	*pf2 = *pf3 = 0;
	(void)f2;
	(void)f3;
	return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	if (c == NULL)
		return SMFIS_ACCEPT;
	msg_free(c->m);
	c->m = NULL;
	struct msg *m = calloc(1, sizeof *m);
	tg_snapshot *snap = snapshot_get();
	if (m == NULL || snap == NULL) {
		free(m);
		snapshot_unref(snap);
		return on_error(ctx, NULL, "out of memory at MAIL FROM");
	}
	m->snap = snap;
	m->sender = bare(argv && argv[0] ? argv[0] : "");
	if (m->sender == NULL) {
		msg_free(m);
		return on_error(ctx, snap->cfg, "out of memory at MAIL FROM");
	}
	if (!policy_in_scope(snap->policy, m->sender, NULL, 0)) {
		count(&counts.out_of_scope);
		msg_free(m);
		return SMFIS_ACCEPT;  /* nothing of it is buffered */
	}
	m->raw.max = snap->cfg->max_message_size;
	c->m = m;
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	if (c == NULL || c->m == NULL)
		return cont(c, SMFIP_NR_RCPT);
	struct msg *m = c->m;
	if (m->nrcpt < MAX_RCPTS && argv && argv[0] && !m->rcpt_failed) {
		char **v = realloc(m->rcpts, (m->nrcpt + 1) * sizeof *v);
		if (v)
			m->rcpts = v;
		if (v && (v[m->nrcpt] = bare(argv[0])) != NULL)
			m->nrcpt++;
		else
			m->rcpt_failed = 1;  /* DATA, the next step with a reply, gives on_error */
	}
	return cont(c, SMFIP_NR_RCPT);
}

static sfsistat cb_data(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c == NULL || c->m == NULL)
		return SMFIS_CONTINUE;
	struct msg *m = c->m;
	if (m->rcpt_failed)
		return on_error(ctx, m->snap->cfg, "out of memory at RCPT TO");
	if (!policy_in_scope(m->snap->policy, m->sender, (const char *const *)m->rcpts, m->nrcpt)) {
		count(&counts.out_of_scope);
		msg_free(m);
		c->m = NULL;
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

/* Append to the message; past max_message_size, remember it and stop. */
static void collect(struct msg *m, const char *p, size_t n)
{
	if (!m->oversize && sbuf_append(&m->raw, p, n) < 0)
		m->oversize = 1;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_of(ctx);
	if (c && c->m) {
		struct msg *m = c->m;
		if (strcasecmp(name, TG_NOTICE_HEADER) == 0 && strcasecmp(m->sender, m->snap->cfg->notice_from) == 0)
			m->notice = 1;  /* from notice_from, marked as ours: checked at the end */
		if (strcasecmp(name, "Message-ID") == 0 && m->msgid == NULL) {
			value += strspn(value, " \t");
			m->msgid = strndup(value, strcspn(value, " \t\r\n"));
		}
		const char *ours[3] = {m->snap->cfg->header_name, m->snap->cfg->header_verdict,
				       m->snap->cfg->header_finding};
		for (int i = 0; i < 3; i++)
			if (strcasecmp(name, ours[i]) == 0 && m->forged[i] < UINT_MAX)
				m->forged[i]++;
		collect(c->m, name, strlen(name));
		collect(c->m, ": ", 2);
		collect(c->m, value, strlen(value));
		collect(c->m, "\r\n", 2);
	}
	return cont(c, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c && c->m)
		collect(c->m, "\r\n", 2);
	return cont(c, SMFIP_NR_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_of(ctx);
	if (c && c->m)
		collect(c->m, (const char *)chunk, len);
	return cont(c, SMFIP_NR_BODY);
}

/* A header value from message data: one line, printable, and out no
 * longer than max in all. */
static void hval(sbuf *out, const char *s, size_t n, size_t max)
{
	text_oneline(out, s, n, max > out->len ? max - out->len : 0);
}

static void rules_list(sbuf *out, const tg_verdict *v)
{
	for (size_t i = 0; i < v->nf; i++)
		sbuf_printf(out, "%s%s", i ? "," : "", policy_rule_name(v->f[i].rule));
	if (v->nf == 0)
		sbuf_puts(out, "-");
}

/* The findings as headers, so a held message explains itself (postcat). */
static int add_finding_headers(SMFICTX *ctx, const tg_settings *cfg, const tg_judgement *j)
{
	const tg_verdict *v = &j->verdict;
	sbuf h = SBUF_INIT;
	int rc = 0;
	sbuf_printf(&h, "%s score=%d ruleset=%s rules=", policy_action_name(v->action), v->score, v->ruleset->name);
	rules_list(&h, v);
	if (h.s == NULL || smfi_addheader(ctx, cfg->header_verdict, h.s) != MI_SUCCESS)
		rc = -1;
	for (size_t i = 0; i < v->nf && rc == 0; i++) {
		const tg_finding *f = &v->f[i];
		sbuf_reset(&h);
		sbuf_printf(&h, "%s line=%u weight=%d \"", policy_rule_name(f->rule), f->line, f->weight);
		hval(&h, j->reply.agent + f->ex_off, f->ex_len, 300);
		sbuf_puts(&h, "\" ");
		hval(&h, f->message, strlen(f->message), 700);
		if (h.s == NULL || smfi_addheader(ctx, cfg->header_finding, h.s) != MI_SUCCESS)
			rc = -1;
	}
	sbuf_free(&h);
	return rc;
}

/* 550 with one line per finding; libmilter wants no CR/LF and "%" doubled. */
static void reject_reply(SMFICTX *ctx, const tg_judgement *j)
{
	const tg_verdict *v = &j->verdict;
	char lines[8][256];
	size_t n = 0;
	snprintf(lines[n++], sizeof lines[0], "tonegate refused this reply (score %d); please rewrite it:", v->score);
	for (size_t i = 0; i < v->nf && n < 8; i++) {
		sbuf t = SBUF_INIT;
		sbuf_printf(&t, "%s: ", policy_rule_name(v->f[i].rule));
		hval(&t, v->f[i].message, strlen(v->f[i].message), 200);
		size_t k = 0;
		for (size_t p = 0; t.s && p < t.len && k + 2 < sizeof lines[0]; p++) {
			if (t.s[p] == '%')
				lines[n][k++] = '%';
			lines[n][k++] = t.s[p];
		}
		lines[n++][k] = '\0';
		sbuf_free(&t);
	}
	const char *l[8] = {NULL};
	for (size_t i = 0; i < n; i++)
		l[i] = lines[i];
	smfi_setmlreply(ctx, "550", "5.7.1", l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], (char *)NULL);
}

/* Milliseconds on clock since t0 (taken on the same clock). */
static double ms_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The new body to the MTA, in chunks libmilter accepts. */
static int replace_body(SMFICTX *ctx, const sbuf *b)
{
	size_t off = 0;
	do {
		size_t n = b->len - off < 65535 ? b->len - off : 65535;
		if (smfi_replacebody(ctx, (unsigned char *)(b->s ? b->s + off : ""), (int)n) != MI_SUCCESS)
			return -1;
		off += n;
	} while (off < b->len);
	return 0;
}

/* The rewrite action: the safe fixes into the delivered body. 0 when done
 * (what names the fixes); -1 when it falls back to suggest (note says why). */
static int rewrite_body(SMFICTX *ctx, struct msg *m, const tg_judgement *j, sbuf *what, sbuf *note)
{
	sbuf head = SBUF_INIT, tail = SBUF_INIT, body = SBUF_INIT;
	int rc = -1;
	int n = rewrite_safe_fixes(j, &head, &tail, what);
	if (n <= 0) {
		sbuf_puts(note, n == 0 ? "fallback(no safe fix applies)" : "fallback(out of memory)");
		goto out;
	}
	tg_edit e = {head.len ? head.s : NULL, tail.len ? tail.s : NULL};
	tg_edit_status st = bodyedit_apply(&j->policy->limits, m->raw.s, m->raw.len, &e, &body);
	if (st != TG_EDIT_OK) {
		sbuf_printf(note, "fallback(%s)", bodyedit_status_str(st));
		goto out;
	}
	if (replace_body(ctx, &body) < 0) {
		sbuf_puts(note, "fallback(the MTA refused the new body)");
		goto out;
	}
	sbuf_puts(note, "applied(");
	sbuf_append(note, what->s, what->len);
	sbuf_putc(note, ')');
	rc = 0;
out:
	sbuf_free(&head);
	sbuf_free(&tail);
	sbuf_free(&body);
	return rc;
}

/* Compose the notice about j and queue it for the worker; what happened,
 * for the log line. Never blocks: the sending is notify's thread's. */
static const char *notify_about(SMFICTX *ctx, const struct msg *m, const tg_judgement *j, tg_action done,
				const char *changes)
{
	const tg_settings *cfg = m->snap->cfg;
	const char *qid = smfi_getsymval(ctx, "i");
	const char *to[64];
	if (*cfg->notice_server == '\0')
		return "off";
	size_t nto = notice_recipients(j->policy, m->sender, to, 64);
	if (nto == 0)
		return "no-recipient";
	char from[512];
	if (*cfg->notice_from)
		snprintf(from, sizeof from, "%s", cfg->notice_from);
	else
		snprintf(from, sizeof from, "tonegate@%s", relay_name);
	tg_notice_facts f = {qid ? qid : "?", time(NULL), m->sender, (const char *const *)m->rcpts, m->nrcpt,
			     done, changes, from, relay_name};
	sbuf data = SBUF_INIT;
	tg_notice *n = calloc(1, sizeof *n);  /* the queue's once submitted */
	if (n == NULL)
		return "error(out of memory)";
	n->rcpts = calloc(nto, sizeof *n->rcpts);
	n->id = strdup(f.id);
	n->from = strdup(cfg->notice_from);
	int bad = n->rcpts == NULL || n->id == NULL || n->from == NULL || notice_compose(j, &f, &data) < 0;
	for (size_t i = 0; !bad && i < nto; i++, n->nrcpt++)
		bad = (n->rcpts[i] = strdup(to[i])) == NULL;
	n->data = sbuf_detach(&data, &n->len);
	if (bad || n->data == NULL) {
		notify_free(n);
		return "error(out of memory)";
	}
	sbuf id = SBUF_INIT;
	if (notice_message_id(&f, &id) == 0 && id.s)
		own_add(id.s);
	sbuf_free(&id);
	if (notify_submit(n) < 0) {
		notify_free(n);
		return "dropped";
	}
	return "queued";
}

/* One line in the verdict log, when there is one; a failure is logged
 * once until a write succeeds again, and the mail goes on. */
static void vlog(const struct msg *m, const char *qid, const tg_judgement *j, int action, double ms)
{
	static int failing;
	if (*m->snap->cfg->verdict_log == '\0')
		return;
	const char *msgid = j ? message_header(&j->mail, "Message-ID") : m->msgid;
	tg_vlog_msg r = {time(NULL), qid, msgid, m->sender, (const char *const *)m->rcpts, m->nrcpt,
			 j, action, ms, m->snap->cfg->verdict_log_excerpt};
	sbuf line = SBUF_INIT;
	verdictlog_format_msg(&line, &r);
	if (verdictlog_append(&line) < 0) {
		if (!__atomic_exchange_n(&failing, 1, __ATOMIC_RELAXED))
			log_msg(LOG_WARNING, "cannot write verdict_log %s: %s (mail is not affected)",
				m->snap->cfg->verdict_log, strerror(errno));
	} else if (__atomic_load_n(&failing, __ATOMIC_RELAXED)) {
		__atomic_store_n(&failing, 0, __ATOMIC_RELAXED);
		log_msg(LOG_NOTICE, "verdict_log %s is written again", m->snap->cfg->verdict_log);
	}
	sbuf_free(&line);
}

static sfsistat judge_and_act(SMFICTX *ctx, struct conn *c, struct msg *m)
{
	const tg_settings *cfg = m->snap->cfg;
	tg_policy *pol = m->snap->policy;
	const char *qid = smfi_getsymval(ctx, "i");
	qid = qid ? qid : "?";
	if (m->oversize) {
		count(&counts.unchecked);
		if (cfg->on_oversize == TG_BIG_TEMPFAIL) {
			log_msg(LOG_WARNING, "queue=%s from=<%s> larger than max_message_size=%zu: temp-failed",
				qid, m->sender, cfg->max_message_size);
			smfi_setreply(ctx, "452", "4.3.1", "tonegate: message too large to check");
			return SMFIS_TEMPFAIL;
		}
		log_msg(LOG_NOTICE, "queue=%s from=<%s> larger than max_message_size=%zu: passed unchecked",
			qid, m->sender, cfg->max_message_size);
		smfi_addheader(ctx, cfg->header_name, "unchecked reason=too-big");
		vlog(m, qid, NULL, -1, 0);
		return SMFIS_CONTINUE;
	}
	if (m->notice && m->msgid && own_take(m->msgid)) {
		log_msg(LOG_INFO, "queue=%s from=<%s> action=pass unchecked=notice", qid, m->sender);
		return SMFIS_CONTINUE;
	}
	/* time= is the wall clock a message waited on judging; cpu= the CPU
	 * this thread spent on it. They part when the relay's CPUs are busy. */
	struct timespec t0, c0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	tg_scratch *scratch = scratch_take(m->snap);
	if (scratch == NULL)
		return on_error(ctx, cfg, "out of memory for the phrase scanner");
	tg_envelope env = {m->sender, (const char *const *)m->rcpts, m->nrcpt};
	tg_judgement j;
	if (sbuf_pad(&m->raw, 2) < 0) {  /* judge_message's read-ahead */
		scratch_give(m->snap, scratch);
		return on_error(ctx, cfg, "out of memory for the message");
	}
	int judged = judge_message(pol, scratch, m->raw.s ? m->raw.s : "", m->raw.len, &env, &j);
	scratch_give(m->snap, scratch);  /* the hits are in j: the scanner is done */
	if (judged < 0) {
		judge_free(&j);
		return on_error(ctx, cfg, "out of memory while judging");
	}
	double ms = ms_since(CLOCK_MONOTONIC, &t0), cpu = ms_since(CLOCK_THREAD_CPUTIME_ID, &c0);
	count_time(ms);
	const char *msgid = message_header(&j.mail, "Message-ID");
	sfsistat rc = SMFIS_CONTINUE;
	sbuf line = SBUF_INIT, hdr = SBUF_INIT;
	sbuf_printf(&line, "queue=%s msgid=", qid);
	hval(&line, msgid ? msgid : "-", msgid ? strlen(msgid) : 1, 200);
	sbuf_printf(&line, " from=<%s> rcpts=%zu", m->sender, m->nrcpt);
	if (j.status != TG_OK || !j.in_scope) {
		count(j.in_scope ? &counts.unchecked : &counts.out_of_scope);
		const char *why = j.in_scope ? tg_status_id(j.status) : "out-of-scope";
		log_msg(LOG_INFO, "%s action=pass unchecked=%s time=%.2fms cpu=%.2fms", line.s, why, ms, cpu);
		vlog(m, qid, &j, -1, ms);
		if (cfg->pass_header) {
			sbuf_printf(&hdr, "unchecked reason=%s", why);
			smfi_addheader(ctx, cfg->header_name, hdr.s);
		}
		goto out;
	}
	const tg_verdict *v = &j.verdict;
	/* Rules and rule sets in monitor mode count for what tonegate would do,
	 * not for what it does. */
	tg_action done = v->enforced;
	int monitored = v->enforced != v->action;
	const char *notice = "-", *changes = NULL;
	sbuf what = SBUF_INIT, note = SBUF_INIT, chg = SBUF_INIT;
	switch (done) {
	case TG_PASS:
		if (monitored && pol->monitor_headers) {
			sbuf_printf(&hdr, "monitor would=%s score=%d rules=", policy_action_name(v->action), v->score);
			rules_list(&hdr, v);
			smfi_addheader(ctx, cfg->header_name, hdr.s);
		} else if (!monitored && cfg->pass_header) {
			sbuf_printf(&hdr, "pass score=%d", v->score);
			smfi_addheader(ctx, cfg->header_name, hdr.s);
		}
		if (monitored && pol->monitor_notices) {
			sbuf_printf(&chg, "tonegate runs this check in monitor mode: it would have acted (%s) and "
				    "delivered the reply as written.", policy_action_name(v->action));
			notice = notify_about(ctx, m, &j, TG_SUGGEST, chg.s);
		}
		break;
	case TG_REWRITE:
		if (rewrite_body(ctx, m, &j, &what, &note) == 0) {
			count(&counts.rewrite_applied);
			sbuf_printf(&chg, "Before delivery, tonegate added %s to it.", what.s);
			changes = chg.s;
		} else {
			count(&counts.rewrite_fallback);
			done = TG_SUGGEST;
		}
		/* the header and the coaching note, as for suggest */
		__attribute__((fallthrough));
	case TG_SUGGEST:
		sbuf_printf(&hdr, "%s score=%d rules=", policy_action_name(done), v->score);
		rules_list(&hdr, v);
		if (monitored)
			sbuf_printf(&hdr, " would=%s", policy_action_name(v->action));
		smfi_addheader(ctx, cfg->header_name, hdr.s);
		if (pol->notice_suggest)
			notice = notify_about(ctx, m, &j, done, changes);
		break;
	case TG_HOLD:
		if (add_finding_headers(ctx, cfg, &j) < 0)
			log_msg(LOG_WARNING, "queue=%s could not add the finding headers", qid);
		sbuf_printf(&hdr, "tonegate hold score=%d rules=", v->score);
		rules_list(&hdr, v);
		if (smfi_quarantine(ctx, hdr.s) != MI_SUCCESS) {
			rc = on_error(ctx, cfg, "the MTA refused to quarantine the message");
			sbuf_free(&what);
			sbuf_free(&note);
			sbuf_free(&chg);
			goto out;
		}
		notice = notify_about(ctx, m, &j, TG_HOLD, NULL);
		break;
	case TG_REJECT:
		reject_reply(ctx, &j);
		rc = SMFIS_REJECT;
		break;
	case TG_NACTIONS:
		break;
	}
	count(&counts.action[done]);
	for (size_t i = 0; i < v->nf; i++)
		count(&counts.findings[v->f[i].rule]);
	sbuf_printf(&line, " action=%s", policy_action_name(done));
	if (monitored) {
		count(&counts.monitored[v->action]);
		sbuf_printf(&line, " would=%s mode=monitor", policy_action_name(v->action));
	}
	sbuf_printf(&line, " score=%d ruleset=%s rules=", v->score, v->ruleset->name);
	rules_list(&line, v);
	if (done == TG_REWRITE)
		sbuf_printf(&line, " rewrite=%s", note.s ? note.s : "?");
	sbuf_printf(&line, " notice=%s time=%.2fms cpu=%.2fms", notice, ms, cpu);
	log_msg(ms > cfg->judge_timeout_ms ? LOG_WARNING : LOG_INFO, "%s", line.s);
	vlog(m, qid, &j, rc == SMFIS_REJECT ? TG_REJECT : (int)done, ms);
	sbuf_free(&what);
	sbuf_free(&note);
	sbuf_free(&chg);
out:
	sbuf_free(&line);
	sbuf_free(&hdr);
	judge_free(&j);
	return rc;
}

/* Our headers in the incoming message are someone else's (a forwarded copy,
 * a client forging a verdict): removed, so what is delivered or held carries
 * only this relay's verdict. Last occurrence first, so the indexes hold. */
static void strip_forged(SMFICTX *ctx, const struct msg *m)
{
	const tg_settings *cfg = m->snap->cfg;
	const char *ours[3] = {cfg->header_name, cfg->header_verdict, cfg->header_finding};
	unsigned n = 0;
	for (int i = 0; i < 3; i++)
		for (unsigned k = m->forged[i]; k > 0; k--)
			n += smfi_chgheader(ctx, (char *)ours[i], (int)k, NULL) == MI_SUCCESS;
	if (n > 0) {
		const char *qid = smfi_getsymval(ctx, "i");
		log_msg(LOG_INFO, "%s: removed %u incoming %s* header(s)", qid ? qid : "NOQUEUE", n, cfg->header_name);
	}
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c == NULL || c->m == NULL)
		return SMFIS_CONTINUE;
	struct msg *m = c->m;
	strip_forged(ctx, m);
	sfsistat rc = judge_and_act(ctx, c, m);
	msg_free(m);
	c->m = NULL;
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c) {
		msg_free(c->m);
		c->m = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	if (c) {  /* may come without negotiate or after a refused one */
		msg_free(c->m);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int milter_register(const char *hostname)
{
	relay_name = hostname;
	static struct smfiDesc desc = {
		.xxfi_name = "tonegate",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGBODY,
		.xxfi_envfrom = cb_envfrom,
		.xxfi_envrcpt = cb_envrcpt,
		.xxfi_header = cb_header,
		.xxfi_eoh = cb_eoh,
		.xxfi_body = cb_body,
		.xxfi_eom = cb_eom,
		.xxfi_abort = cb_abort,
		.xxfi_close = cb_close,
		.xxfi_data = cb_data,
		.xxfi_negotiate = cb_negotiate,
	};
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
