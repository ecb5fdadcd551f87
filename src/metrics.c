/* metrics — the counters as a Prometheus text file; see metrics.h. */
#include "config.h"
#include "metrics.h"
#include "sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void family(sbuf *o, const char *name, const char *type, const char *help)
{
	sbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int metrics_write(const char *path, const tg_counts *c, const tg_notify_stats *n)
{
	sbuf o = SBUF_INIT;
	family(&o, "tonegate_messages_total", "counter", "Judged messages by the action taken.");
	for (int a = 0; a < TG_NACTIONS; a++)
		sbuf_printf(&o, "tonegate_messages_total{action=\"%s\"} %lu\n", policy_action_name((tg_action)a),
			    c->action[a]);
	family(&o, "tonegate_findings_total", "counter", "Findings by rule over judged messages.");
	for (int r = 0; r < R_NRULES; r++)
		sbuf_printf(&o, "tonegate_findings_total{rule=\"%s\"} %lu\n", policy_rule_name((tg_rule_id)r),
			    c->findings[r]);
	family(&o, "tonegate_monitored_total", "counter",
	       "Messages delivered in monitor mode, by the action enforce mode would take.");
	for (int a = 1; a < TG_NACTIONS; a++)
		sbuf_printf(&o, "tonegate_monitored_total{would=\"%s\"} %lu\n", policy_action_name((tg_action)a),
			    c->monitored[a]);
	family(&o, "tonegate_judge_seconds", "histogram", "Time spent judging a message (parse, decode, check).");
	static const double le[] = {TG_JUDGE_BOUNDS_MS};
	_Static_assert(sizeof le / sizeof le[0] == TG_JUDGE_BUCKETS - 1, "one bound per bucket but +Inf");
	unsigned long cum = 0;
	for (int b = 0; b < TG_JUDGE_BUCKETS; b++) {
		cum += c->judge_hist[b];
		if (b < TG_JUDGE_BUCKETS - 1)
			sbuf_printf(&o, "tonegate_judge_seconds_bucket{le=\"%g\"} %lu\n", le[b] / 1000, cum);
		else
			sbuf_printf(&o, "tonegate_judge_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	}
	sbuf_printf(&o, "tonegate_judge_seconds_sum %.6f\n", (double)c->judge_us / 1e6);
	sbuf_printf(&o, "tonegate_judge_seconds_count %lu\n", c->judge_n);
	family(&o, "tonegate_unchecked_total", "counter", "Messages in scope that were not judged.");
	sbuf_printf(&o, "tonegate_unchecked_total %lu\n", c->unchecked);
	family(&o, "tonegate_out_of_scope_total", "counter", "Messages out of the policy's scope.");
	sbuf_printf(&o, "tonegate_out_of_scope_total %lu\n", c->out_of_scope);
	family(&o, "tonegate_errors_total", "counter", "Messages given the on_error verdict.");
	sbuf_printf(&o, "tonegate_errors_total %lu\n", c->errors);
	family(&o, "tonegate_rewrites_total", "counter", "Rewrite actions applied, and fallen back to suggest.");
	sbuf_printf(&o, "tonegate_rewrites_total{result=\"applied\"} %lu\n", c->rewrite_applied);
	sbuf_printf(&o, "tonegate_rewrites_total{result=\"fallback\"} %lu\n", c->rewrite_fallback);
	family(&o, "tonegate_notices_total", "counter", "Notices sent, failed sends, retries, notices given up.");
	sbuf_printf(&o, "tonegate_notices_total{result=\"sent\"} %lu\n", n->sent);
	sbuf_printf(&o, "tonegate_notices_total{result=\"failed\"} %lu\n", n->failed);
	sbuf_printf(&o, "tonegate_notices_total{result=\"retried\"} %lu\n", n->retried);
	sbuf_printf(&o, "tonegate_notices_total{result=\"dropped\"} %lu\n", n->dropped);
	family(&o, "tonegate_notice_queue_length", "gauge", "Notices waiting to be sent.");
	sbuf_printf(&o, "tonegate_notice_queue_length %lu\n", n->queued);
	if (o.s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		sbuf_free(&o);
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (fd >= 0) {
		size_t off = 0;
		while (off < o.len) {
			ssize_t w = write(fd, o.s + off, o.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		int e = off == o.len ? 0 : errno ? errno : EIO;
		if (close(fd) < 0 && e == 0)
			e = errno;
		if (e == 0 && rename(tmp, path) == 0)
			rc = 0;
		else {
			int keep = e ? e : errno;
			unlink(tmp);
			errno = keep;
		}
	}
	sbuf_free(&o);
	return rc;
}
