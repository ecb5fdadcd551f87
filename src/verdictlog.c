/* verdictlog — the verdict log (JSON lines); see verdictlog.h. */
#include "config.h"
#include "verdictlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int str(sbuf *o, const char *key, const char *v)
{
	sbuf_printf(o, ",\"%s\":", key);
	return v ? sbuf_json(o, v, strlen(v)) : sbuf_puts(o, "null");
}

static int stamp(sbuf *o, time_t when)
{
	struct tm tm;
	char t[32];
	gmtime_r(&when, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return sbuf_printf(o, "{\"time\":\"%s\"", t);
}

/* The distinct domains of the recipients, in order: who the mail went to
 * without naming customers. */
static void domains(sbuf *o, const char *const *rcpts, size_t n)
{
	sbuf_puts(o, ",\"recipient_domains\":[");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *d = rcpts[i] ? strrchr(rcpts[i], '@') : NULL;
		d = d ? d + 1 : "";
		int seen = 0;
		for (size_t p = 0; p < i && !seen; p++) {
			const char *e = rcpts[p] ? strrchr(rcpts[p], '@') : NULL;
			seen = strcasecmp(e ? e + 1 : "", d) == 0;
		}
		if (seen)
			continue;
		if (k++)
			sbuf_puts(o, ",");
		sbuf_json(o, d, strlen(d));
	}
	sbuf_puts(o, "]");
}

int verdictlog_format_msg(sbuf *o, const tg_vlog_msg *m)
{
	const tg_judgement *j = m->j;
	int judged = m->action >= 0 && j && j->status == TG_OK && j->in_scope;
	const tg_verdict *v = judged ? &j->verdict : NULL;
	stamp(o, m->when);
	str(o, "queue_id", m->queue_id);
	str(o, "message_id", m->message_id);
	str(o, "agent", m->agent);
	domains(o, m->rcpts, m->nrcpt);
	str(o, "ruleset", v ? v->ruleset->name : NULL);
	str(o, "status", judged ? "judged" : j && !j->in_scope && j->status <= TG_NO_TEXT ? "out-of-scope"
				       : j ? tg_status_id(j->status) : "too-big");
	str(o, "action", m->action >= 0 ? policy_action_name((tg_action)m->action) : "pass");
	str(o, "would", v ? policy_action_name(v->action) : NULL);
	str(o, "mode", v && v->action != (tg_action)m->action ? "monitor" : "enforce");
	if (v)
		sbuf_printf(o, ",\"score\":%d,\"rules\":[", v->score);
	else
		sbuf_puts(o, ",\"score\":null,\"rules\":[");
	for (size_t i = 0; v && i < v->nf; i++) {
		sbuf_printf(o, "%s{\"rule\":\"%s\",\"weight\":%d,\"monitor\":%s", i ? "," : "",
			    policy_rule_name(v->f[i].rule), v->f[i].weight,
			    v->ruleset->rule[v->f[i].rule].monitor || v->ruleset->monitor ? "true" : "false");
		if (m->excerpt && v->f[i].ex_len) {
			sbuf ex = SBUF_INIT;
			judge_excerpt(j, &v->f[i], m->excerpt, &ex);
			sbuf_puts(o, ",\"excerpt\":");
			sbuf_json(o, ex.s ? ex.s : "", ex.len);
			sbuf_free(&ex);
		}
		sbuf_puts(o, "}");
	}
	sbuf_puts(o, "]");
	str(o, "policy", j && j->policy ? j->policy->version : NULL);
	return sbuf_printf(o, ",\"ms\":%.3f}\n", m->ms);
}

int verdictlog_format_decision(sbuf *o, time_t when, const char *queue_id, const char *decision,
			       const char *by, const char *agent, const char *verdict)
{
	stamp(o, when);
	str(o, "queue_id", queue_id);
	str(o, "decision", decision);
	str(o, "by", by);
	str(o, "agent", agent);
	str(o, "verdict", verdict);
	return sbuf_puts(o, "}\n");
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1;

int verdictlog_open(const char *path)
{
	int nfd = -1;
	if (path && *path && (nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0)
		return -1;
	pthread_mutex_lock(&lock);
	int old = fd;
	fd = nfd;
	pthread_mutex_unlock(&lock);
	if (old >= 0)
		close(old);
	return 0;
}

int verdictlog_append(const sbuf *line)
{
	if (line->s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&lock);
	ssize_t w = fd < 0 ? (errno = ENOENT, -1) : write(fd, line->s, line->len);
	int e = errno;
	pthread_mutex_unlock(&lock);
	if (w >= 0 && (size_t)w != line->len)
		e = ENOSPC;  /* a short write: the disk is full */
	errno = e;
	return w >= 0 && (size_t)w == line->len ? 0 : -1;
}

void verdictlog_close(void)
{
	verdictlog_open("");
}
