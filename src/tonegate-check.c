/*
 * tonegate-check — judge messages with a policy, the way the daemon would,
 * and print each verdict (text or JSON lines): message files, mbox files,
 * Maildir folders, directories of messages. A summary (by action, by rule,
 * agents with most holds, top excerpts) ends a run over more than one
 * message; --compare judges each message with an old policy too and lists
 * what changes; --jobs judges on several cores, the output still in order.
 * Also lints policies.
 * Exit: 0 every message passes (--compare: nothing changes), 1 some would
 * not pass (some change), 2 usage, policy or input errors.
 */
#include "config.h"
#include "judge.h"
#include "mailbox.h"
#include "rewrite.h"
#include "sbuf.h"
#include "trial.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_POLICY SYSCONFDIR "/tonegate/policy.conf"
enum { MAX_JOBS = 256 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tonegate-check [--policy FILE] [--json] [--text | --rewrite] [--summary]\n"
		"                      [--compare OLD_POLICY] [--jobs N] MESSAGE|MBOX|MAILDIR|DIR...\n"
		"       tonegate-check --lint [--policy FILE] [--compare OLD_POLICY]\n"
		"Judge each message (\"-\" reads standard input; an mbox, a Maildir or a\n"
		"directory gives all of its messages) with the policy and print the action,\n"
		"the score and each finding, then a summary when there was more than one.\n"
		"  -p, --policy FILE       policy file (default " DEFAULT_POLICY ")\n"
		"  -j, --json              one JSON object per message per line\n"
		"  -t, --text              print only the agent's words as the checks see them\n"
		"  -r, --rewrite           print only the suggested rewrite of the agent's words\n"
		"  -s, --summary           print only the summary, not each message\n"
		"  -c, --compare OLD       judge with the old policy OLD too and list what changes\n"
		"  -J, --jobs N            judge on N threads (0: one per core; default 1)\n"
		"  -l, --lint              check the policy file and exit\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this help\n"
		"A progress line is shown on a terminal. Exit status: 0 every message passes\n"
		"(--compare: no verdict changes), 1 some would not pass (some change),\n"
		"2 usage, policy or input errors.\n");
}

static void excerpt(sbuf *out, const tg_judgement *j, const tg_finding *f, int json)
{
	sbuf ex = SBUF_INIT;
	judge_excerpt(j, f, 0, &ex);
	if (json)
		sbuf_json(out, ex.s ? ex.s : "", ex.len);
	else
		sbuf_printf(out, "\"%s\"", ex.s ? ex.s : "");
	sbuf_free(&ex);
}

static void print_json(sbuf *o, const char *file, const tg_judgement *j, int with_text)
{
	const tg_verdict *v = &j->verdict;
	int judged = j->status == TG_OK && j->in_scope;
	sbuf_puts(o, "{\"file\":");
	sbuf_json(o, file, strlen(file));
	sbuf_printf(o, ",\"action\":\"%s\",\"score\":%d,\"status\":\"%s\"",
		      policy_action_name(judged ? v->action : TG_PASS), judged ? v->score : 0,
		      !j->in_scope && j->status <= TG_NO_TEXT ? "out-of-scope" : tg_status_id(j->status));
	if (judged)
		sbuf_printf(o, ",\"ruleset\":\"%s\"", v->ruleset->name);
	if (with_text) {
		sbuf t = SBUF_INIT;
		reply_text(&j->reply, &t);
		sbuf_puts(o, ",\"text\":");
		sbuf_json(o, t.s ? t.s : "", t.len);
		sbuf_free(&t);
	}
	if (judged) {
		sbuf t = SBUF_INIT;
		rewrite_suggest(j, &t);
		sbuf_puts(o, ",\"rewrite\":");
		sbuf_json(o, t.s ? t.s : "", t.len);
		sbuf_free(&t);
	}
	sbuf_puts(o, ",\"findings\":[");
	for (size_t i = 0; judged && i < v->nf; i++) {
		const tg_finding *f = &v->f[i];
		sbuf_printf(o, "%s{\"rule\":\"%s\",\"severity\":\"%s\",\"weight\":%d,\"line\":%u,\"excerpt\":",
			      i ? "," : "", policy_rule_name(f->rule), policy_severity_name(f->severity),
			      f->weight, f->line);
		excerpt(o, j, f, 1);
		sbuf_puts(o, ",\"message\":");
		sbuf_json(o, f->message, strlen(f->message));
		sbuf_puts(o, ",\"suggestion\":");
		sbuf_json(o, f->suggestion, strlen(f->suggestion));
		sbuf_putc(o, '}');
	}
	sbuf_puts(o, "]}\n");
}

static void print_text(sbuf *o, const char *file, const tg_judgement *j)
{
	const tg_verdict *v = &j->verdict;
	if (!j->in_scope && j->status <= TG_NO_TEXT) {
		sbuf_printf(o, "%s: pass (out of scope: not judged)\n", file);
		return;
	}
	if (j->status != TG_OK) {
		sbuf_printf(o, "%s: pass (not judged: %s)\n", file, tg_status_str(j->status));
		return;
	}
	sbuf_printf(o, "%s: %s (score %d, rule set %s)\n", file, policy_action_name(v->action),
		      v->score, v->ruleset->name);
	for (size_t i = 0; i < v->nf; i++) {
		const tg_finding *f = &v->f[i];
		sbuf_printf(o, "  line %u: %s (%s, +%d)", f->line, policy_rule_name(f->rule),
			      policy_severity_name(f->severity), f->weight);
		if (f->ex_len) {
			sbuf_puts(o, ": ");
			excerpt(o, j, f, 0);
		}
		sbuf_printf(o, "\n    %s\n    Suggestion: %s\n", f->message, f->suggestion);
	}
}

/* One message on its way: judged by a worker, printed by the main thread. */
struct slot {
	int done;
	int failed;              /* not read or not judged: err says why */
	sbuf out, err;
	tg_judgement j[2];       /* with the policy tried, with the old one */
};

struct run {
	const tg_maillist *list;
	tg_policy *pol[2];       /* pol[1]: the old policy, or NULL */
	int json, text, rewrite, summary;
	size_t window;           /* slots: how far workers may run ahead */
	struct slot *slot;
	pthread_mutex_t lock;
	pthread_cond_t ready, room;
	size_t next, printed;
};

static void render(const struct run *r, const char *name, struct slot *sl)
{
	tg_judgement *j = &sl->j[0];
	if (r->pol[1]) {
		if (!r->summary)
			trial_change(&sl->out, name, j, &sl->j[1], r->json);
	} else if (r->summary) {
		/* counted only */
	} else if (r->json) {
		print_json(&sl->out, name, j, r->text);
	} else if (r->text) {
		reply_text(&j->reply, &sl->out);
	} else if (r->rewrite && j->status == TG_OK && j->in_scope) {
		rewrite_suggest(j, &sl->out);
	} else if (r->rewrite) {  /* not judged: nothing to rewrite */
		sbuf_printf(&sl->err, "tonegate-check: %s: not judged (%s): no rewrite\n", name,
			    j->in_scope ? tg_status_str(j->status) : "out of scope");
	} else {
		print_text(&sl->out, name, j);
	}
}

/* Read and judge message i into its slot. */
static void judge_one(struct run *r, tg_scratch *const *scratch, sbuf *in, size_t i, struct slot *sl)
{
	const char *name = r->list->item[i].name;
	if (maillist_read(r->list, i, r->pol[0]->limits.max_message_size, in) < 0) {
		sbuf_printf(&sl->err, "tonegate-check: %s: cannot read: %s\n", name, strerror(errno));
		sl->failed = 1;
		return;
	}
	for (int k = 0; k < 2 && r->pol[k]; k++) {
		if (judge_message(r->pol[k], scratch[k], in->s, in->len, NULL, &sl->j[k]) < 0) {
			sbuf_printf(&sl->err, "tonegate-check: %s: out of memory\n", name);
			sl->failed = 1;
			return;
		}
		if (sl->j[k].status == TG_PARSE_ERROR) {
			sbuf_printf(&sl->err, "tonegate-check: %s: %s\n", name, tg_status_str(TG_PARSE_ERROR));
			sl->failed = 1;
			return;
		}
	}
	render(r, name, sl);
}

static void *worker(void *arg)
{
	struct run *r = arg;
	tg_scratch *scratch[2] = {NULL, NULL};
	sbuf in = SBUF_INIT;
	int ok = 1;
	for (int k = 0; k < 2 && r->pol[k]; k++)
		ok = ok && (scratch[k] = matcher_scratch_new(r->pol[k]->matcher)) != NULL;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->next < r->list->n && r->next >= r->printed + r->window)
			pthread_cond_wait(&r->room, &r->lock);
		size_t i = r->next < r->list->n ? r->next++ : SIZE_MAX;
		pthread_mutex_unlock(&r->lock);
		if (i == SIZE_MAX)
			break;
		struct slot *sl = &r->slot[i % r->window];
		if (ok) {
			judge_one(r, scratch, &in, i, sl);
		} else {
			sbuf_printf(&sl->err, "tonegate-check: %s: out of memory\n", r->list->item[i].name);
			sl->failed = 1;
		}
		pthread_mutex_lock(&r->lock);
		sl->done = 1;
		pthread_cond_broadcast(&r->ready);
		pthread_mutex_unlock(&r->lock);
	}
	for (int k = 0; k < 2; k++)
		matcher_scratch_free(scratch[k]);
	sbuf_free(&in);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "done/total  rate/s  m:ss left" on one terminal line, redrawn in place
 * at most ten times a second. */
struct bar {
	int on, shown;
	double t0, last;
};

static void bar_draw(struct bar *b, size_t done, size_t total)
{
	double t = now_s();
	if (!b->on || t - b->last < 0.1)
		return;
	double rate = t > b->t0 ? (double)done / (t - b->t0) : 0;
	long left = rate > 0 ? (long)((double)(total - done) / rate) : 0;
	fprintf(stderr, "\r\033[K  %zu/%zu messages  %.0f/s  %ld:%02ld left", done, total, rate, left / 60,
		left % 60);
	b->shown = 1;
	b->last = t;
}

static void bar_erase(struct bar *b)
{
	if (b->shown)
		fputs("\r\033[K", stderr);
	b->shown = 0;
}

/* Judge every message of the list on jobs threads and print in order.
 * Returns the exit status for the messages (0, 1 or 2). */
static int run_all(struct run *r, unsigned jobs, tg_trial *trial)
{
	size_t n = r->list->n;
	r->window = 8 * (size_t)jobs + 8;
	r->slot = calloc(r->window, sizeof *r->slot);
	pthread_t th[MAX_JOBS];
	unsigned started = 0;
	if (r->slot == NULL) {
		fprintf(stderr, "tonegate-check: out of memory\n");
		return 2;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->ready, NULL);
	pthread_cond_init(&r->room, NULL);
	for (unsigned k = 0; k < jobs && k < n; k++)
		if (pthread_create(&th[started], NULL, worker, r) == 0)
			started++;
	int rc = 0;
	struct bar bar = {isatty(STDERR_FILENO) && n > 1, 0, now_s(), now_s()};
	if (started == 0 && n > 0) {
		fprintf(stderr, "tonegate-check: cannot start a thread\n");
		rc = 2;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = &r->slot[i % r->window];
		pthread_mutex_lock(&r->lock);
		while (!sl->done) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100000000;
			ts.tv_sec += ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			pthread_cond_timedwait(&r->ready, &r->lock, &ts);
			bar_draw(&bar, i, n);
		}
		pthread_mutex_unlock(&r->lock);
		if (sl->err.len || sl->out.len)
			bar_erase(&bar);  /* the output goes above the progress line */
		fwrite(sl->err.s ? sl->err.s : "", 1, sl->err.len, stderr);
		fwrite(sl->out.s ? sl->out.s : "", 1, sl->out.len, stdout);
		if (sl->failed) {
			trial_unread(trial);
			rc = 2;
		} else {
			if (trial_add(trial, &sl->j[0], r->pol[1] ? &sl->j[1] : NULL) < 0 && rc < 2) {
				fprintf(stderr, "tonegate-check: out of memory for the summary\n");
				rc = 2;
			}
			const tg_judgement *j = &sl->j[0];
			if (!r->pol[1] && j->status == TG_OK && j->in_scope && j->verdict.action != TG_PASS && rc == 0)
				rc = 1;
		}
		for (int k = 0; k < 2; k++)
			judge_free(&sl->j[k]);
		sbuf_free(&sl->out);
		sbuf_free(&sl->err);
		pthread_mutex_lock(&r->lock);
		sl->done = sl->failed = 0;
		r->printed = i + 1;
		pthread_cond_broadcast(&r->room);
		pthread_mutex_unlock(&r->lock);
		if (i + 1 < n) {
			fflush(stdout);
			bar_draw(&bar, i + 1, n);
		}
	}
	bar_erase(&bar);
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	if (r->pol[1] && rc == 0 && trial_changed(trial))
		rc = 1;
	free(r->slot);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->ready);
	pthread_cond_destroy(&r->room);
	return rc;
}

static tg_policy *load(const char *path)
{
	char err[1024];
	tg_policy *p = policy_load(path, err, sizeof err);
	if (p == NULL)
		fprintf(stderr, "tonegate-check: %s\n", err);
	return p;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"text", no_argument, NULL, 't'},
		{"rewrite", no_argument, NULL, 'r'},
		{"summary", no_argument, NULL, 's'},
		{"compare", required_argument, NULL, 'c'},
		{"jobs", required_argument, NULL, 'J'},
		{"lint", no_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = DEFAULT_POLICY, *old_path = NULL;
	struct run r = {0};
	int lint = 0, c;
	long jobs = 1;
	char *end;
	while ((c = getopt_long(argc, argv, "p:jtrsc:J:lVh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy_path = optarg; break;
		case 'j': r.json = 1; break;
		case 't': r.text = 1; break;
		case 'r': r.rewrite = 1; break;
		case 's': r.summary = 1; break;
		case 'c': old_path = optarg; break;
		case 'J':
			jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || jobs < 0 || jobs > MAX_JOBS) {
				fprintf(stderr, "tonegate-check: --jobs %s: give a number from 0 (one per core) to %d\n",
					optarg, MAX_JOBS);
				return 2;
			}
			break;
		case 'l': lint = 1; break;
		case 'V': printf("tonegate-check %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!lint && optind >= argc) || r.text + r.rewrite > 1 || (old_path && (r.text || r.rewrite))) {
		usage(stderr);
		return 2;
	}
	if (jobs == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = ncpu < 1 ? 1 : ncpu > MAX_JOBS ? MAX_JOBS : ncpu;
	}
	judge_init();
	tg_policy *p = load(policy_path), *old = p && old_path ? load(old_path) : NULL;
	if (p == NULL || (old_path && old == NULL)) {
		policy_unref(p);
		return 2;
	}
	if (lint) {
		for (int k = 0; k < 2; k++) {
			tg_policy *q = k ? old : p;
			if (q)
				printf("%s: ok (%zu phrases and patterns, %zu rule sets)\n", k ? old_path : policy_path,
				       matcher_count(q->matcher), q->nset);
		}
		policy_unref(p);
		policy_unref(old);
		return 0;
	}
	int rc = 0;
	tg_maillist list = {0};
	for (int i = optind; i < argc; i++) {
		char err[1024];
		if (maillist_add(&list, argv[i], err, sizeof err) < 0) {
			fprintf(stderr, "tonegate-check: %s; skipped\n", err);
			rc = 2;
		}
	}
	tg_trial *trial = trial_new(old != NULL);
	if (trial == NULL) {
		fprintf(stderr, "tonegate-check: out of memory\n");
		rc = 2;
	} else {
		r.list = &list;
		r.pol[0] = p;
		r.pol[1] = old;
		int mrc = run_all(&r, (unsigned)jobs, trial);
		rc = mrc > rc ? mrc : rc;
		/* The summary: asked for, comparing, or after more than one message
		 * in text (JSON lines stay one object per message unless asked). */
		if (r.summary || old || (list.n > 1 && !r.json && !r.text && !r.rewrite)) {
			sbuf o = SBUF_INIT;
			if (list.n > 1 && !r.summary && !r.json)
				sbuf_putc(&o, '\n');
			trial_summary(trial, &o, r.json, old_path);
			fwrite(o.s ? o.s : "", 1, o.len, stdout);
			sbuf_free(&o);
		}
	}
	fflush(stdout);
	trial_free(trial);
	maillist_free(&list);
	policy_unref(p);
	policy_unref(old);
	return rc;
}
