/*
 * tonegate-bench — engine speed on one core (issue #5, part 1).
 *
 *   tonegate-bench [-p POLICY] [-r RUNS] [-n MAX] [--callgrind] FILE|DIR...
 *
 * Loads the policy once, reads every message (the *.eml files of each DIR,
 * in name order, then each FILE) into memory, and judges all of them RUNS
 * times on this one thread with judge_message and one scratch — exactly the
 * daemon's per-message work, without the milter protocol. Prints each run,
 * the best and the median (replies/s and MB/s of raw message), a breakdown
 * by X-Bench-Kind (see bench/gen-corpus.py), the per-reply latency and what
 * the verdicts were (a corpus nobody judged would measure nothing).
 *
 * --callgrind: for a run under valgrind --tool=callgrind --instr-atstart=no.
 * One warm-up judgement runs uninstrumented, then the judging loop runs once
 * between CALLGRIND_START_INSTRUMENTATION and CALLGRIND_STOP_INSTRUMENTATION,
 * so callgrind's "Collected" total is the judging alone: divide by the
 * number of replies. Without <valgrind/callgrind.h> at build time the macros
 * are absent: the program says so (callgrind_macros=no) and the caller must
 * subtract a run with -r 0 (policy load and file reads only).
 * --thread-per-reply (with --callgrind): each reply judged on a thread of its
 * own, created and joined around it, as libmilter runs each MTA connection
 * (and smtp-source, or a relay, opens one per message): what a fresh thread
 * costs the judging (an empty malloc cache, mostly) shows as the difference.
 *
 * Last line, for scripts: "RESULT key=value ...". Exit 0, or 2 on errors.
 */
#include "config.h"
#include "judge.h"
#include "matcher.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND_H 1
#endif
#endif
#ifndef HAVE_CALLGRIND_H
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#define HAVE_CALLGRIND_H 0
#endif

enum { K_PLAIN, K_HTML, K_ALT, K_MIXED, K_OTHER, NKINDS };
static const char *const kind_name[NKINDS] = {"plain", "html", "alternative", "mixed", "other"};

typedef struct msg {
	char *path;
	char *data;
	size_t len;
	int kind;
} msg;

static msg *msgs;
static size_t nmsg, capmsg;

struct job {
	tg_policy *p;
	tg_scratch *scratch;
	const msg *m;
	int bad;
};

static void *judge_job(void *arg)
{
	struct job *jb = arg;
	tg_judgement j;
	if (judge_message(jb->p, jb->scratch, jb->m->data, jb->m->len, NULL, &j) < 0)
		jb->bad = 1;
	judge_free(&j);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int kind_of(const char *d, size_t len)
{
	/* the generator's header, in the header block only */
	const char *end = d + len;
	for (const char *p = d; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l == 0 || (l == 1 && p[0] == '\r'))
			break;
		if (l > 14 && strncmp(p, "X-Bench-Kind: ", 14) == 0) {
			for (int k = 0; k < K_OTHER; k++) {
				size_t kl = strlen(kind_name[k]);
				if (l >= 14 + kl && strncmp(p + 14, kind_name[k], kl) == 0)
					return k;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return K_OTHER;
}

static int add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "tonegate-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 65536, len = 0, n;
	char *d = malloc(cap);
	while (d && (n = fread(d + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nd = realloc(d, cap *= 2);
			if (nd == NULL)
				free(d);
			d = nd;
		}
	}
	int bad = ferror(f) || d == NULL;
	fclose(f);
	if (bad) {
		fprintf(stderr, "tonegate-bench: %s: cannot read\n", path);
		free(d);
		return -1;
	}
	if (nmsg == capmsg) {
		capmsg = capmsg ? capmsg * 2 : 1024;
		msg *nm = realloc(msgs, capmsg * sizeof *msgs);
		if (nm == NULL)
			return -1;
		msgs = nm;
	}
	msgs[nmsg++] = (msg){strdup(path), d, len, kind_of(d, len)};
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return add_file(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			char **nn = realloc(names, cap * sizeof *names);
			if (nn == NULL) {
				closedir(d);
				return -1;
			}
			names = nn;
		}
		size_t pl = strlen(dir) + l + 2;
		names[n] = malloc(pl);
		snprintf(names[n++], pl, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && add_file(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* VmRSS and VmHWM of this process in KB, from /proc (0 elsewhere). */
static void rss_kb(long *rss, long *hwm)
{
	*rss = *hwm = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
	}
	fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tonegate-bench [-p POLICY] [-r RUNS] [-n MAX] [--callgrind] FILE|DIR...\n"
		   "Judge every message (DIR: its *.eml files) RUNS times on one thread and\n"
		   "report replies/s and MB/s (best and median run).\n"
		   "  -p, --policy FILE  policy (default conf/policy.conf)\n"
		   "  -r, --runs N       timed runs (default 5; 0: load only)\n"
		   "  -n, --max N        use the first N messages only\n"
		   "      --callgrind    one instrumented run for valgrind --tool=callgrind\n"
		   "                     --instr-atstart=no (see the source)\n"
		   "      --thread-per-reply  with --callgrind: each reply on a new thread\n");
}

/* Commas every three digits, for figures people read. */
static const char *grouped(double v, char *buf, size_t n)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%.0f", v);
	size_t l = strlen(tmp), o = 0;
	for (size_t i = 0; i < l && o + 2 < n; i++) {
		if (i && (l - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"runs", required_argument, NULL, 'r'},
		{"max", required_argument, NULL, 'n'},
		{"callgrind", no_argument, NULL, 'C'},
		{"thread-per-reply", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = "conf/policy.conf";
	long runs = 5, max = 0;
	int callgrind = 0, per_thread = 0, c;
	while ((c = getopt_long(argc, argv, "p:r:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy_path = optarg; break;
		case 'r': runs = strtol(optarg, NULL, 10); break;
		case 'n': max = strtol(optarg, NULL, 10); break;
		case 'C': callgrind = 1; break;
		case 'T': per_thread = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || runs < 0 || max < 0) {
		usage(stderr);
		return 2;
	}
	if (per_thread && !callgrind) {
		fprintf(stderr, "tonegate-bench: --thread-per-reply goes with --callgrind\n");
		return 2;
	}
	judge_init();
	char err[1024];
	double t_load = now();
	tg_policy *p = policy_load(policy_path, err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "tonegate-bench: %s\n", err);
		return 2;
	}
	t_load = now() - t_load;
	long rss, hwm, rss_trim = 0, hwm2;
	rss_kb(&rss, &hwm);
#ifdef __GLIBC__
	/* what the compile left in the heap: freed, but not given back */
	malloc_trim(0);
	rss_kb(&rss_trim, &hwm2);
#endif
	tg_scratch *scratch = matcher_scratch_new(p->matcher);
	if (scratch == NULL) {
		fprintf(stderr, "tonegate-bench: out of memory\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (add_dir(argv[i]) < 0)
			return 2;
	if (max && (size_t)max < nmsg)
		nmsg = (size_t)max;
	if (nmsg == 0) {
		fprintf(stderr, "tonegate-bench: no messages\n");
		return 2;
	}
	size_t bytes = 0, per_kind[NKINDS] = {0}, kbytes[NKINDS] = {0};
	for (size_t i = 0; i < nmsg; i++) {
		bytes += msgs[i].len;
		per_kind[msgs[i].kind]++;
		kbytes[msgs[i].kind] += msgs[i].len;
	}
	printf("policy: %s (%zu phrases and patterns, compiled in %.2f s)\n", policy_path,
	       matcher_count(p->matcher), t_load);
	printf("memory after the policy load: VmRSS %.1f MB (peak %.1f MB)", rss / 1024.0, hwm / 1024.0);
	if (rss_trim)
		printf("; %.1f MB after malloc_trim(0)", rss_trim / 1024.0);
	printf("\n");
	printf("corpus: %zu replies, %.2f MB, mean %.1f KB (", nmsg, bytes / 1e6, bytes / 1024.0 / nmsg);
	for (int k = 0, first = 1; k < NKINDS; k++)
		if (per_kind[k]) {
			printf("%s%s %zu", first ? "" : ", ", kind_name[k], per_kind[k]);
			first = 0;
		}
	printf(")\n");

	if (callgrind) {
		struct job warm = {p, scratch, &msgs[0], 0};
		judge_job(&warm);
		int bad = warm.bad;
		CALLGRIND_START_INSTRUMENTATION;
		for (size_t i = 0; i < nmsg; i++) {
			struct job jb = {p, scratch, &msgs[i], 0};
			pthread_t t;
			if (!per_thread)
				judge_job(&jb);
			else if (pthread_create(&t, NULL, judge_job, &jb) != 0 || pthread_join(t, NULL) != 0)
				jb.bad = 1;
			bad |= jb.bad;
		}
		CALLGRIND_STOP_INSTRUMENTATION;
		printf("RESULT replies=%zu bytes=%zu callgrind_macros=%s errors=%d\n", nmsg, bytes,
		       HAVE_CALLGRIND_H ? "yes" : "no", bad);
		return bad ? 2 : 0;
	}
	if (runs == 0) {
		printf("RESULT replies=%zu bytes=%zu runs=0\n", nmsg, bytes);
		return 0;
	}

	double *run_s = calloc((size_t)runs, sizeof *run_s);
	double *lat = malloc(nmsg * (size_t)runs * sizeof *lat);
	double kind_s[NKINDS] = {0}, best_kind_s[NKINDS] = {0};
	size_t actions[TG_NACTIONS] = {0}, unjudged = 0, errors = 0;
	if (run_s == NULL || lat == NULL) {
		fprintf(stderr, "tonegate-bench: out of memory\n");
		return 2;
	}
	long best = 0;
	for (long r = 0; r < runs; r++) {
		memset(kind_s, 0, sizeof kind_s);
		double t0 = now(), prev = t0;
		for (size_t i = 0; i < nmsg; i++) {
			tg_judgement j;
			if (judge_message(p, scratch, msgs[i].data, msgs[i].len, NULL, &j) < 0)
				errors++;
			else if (r == 0 && j.status == TG_OK && j.in_scope)
				actions[j.verdict.action]++;
			else if (r == 0)
				unjudged++;
			judge_free(&j);
			double t = now();
			lat[(size_t)r * nmsg + i] = t - prev;
			kind_s[msgs[i].kind] += t - prev;
			prev = t;
		}
		run_s[r] = prev - t0;
		printf("run %ld: %.3f s, %.0f replies/s, %.1f MB/s\n", r + 1, run_s[r], nmsg / run_s[r],
		       bytes / 1e6 / run_s[r]);
		if (r == 0 || run_s[r] < run_s[best]) {
			best = r;
			memcpy(best_kind_s, kind_s, sizeof kind_s);
		}
	}
	double best_s = run_s[best];
	qsort(run_s, (size_t)runs, sizeof *run_s, cmp_dbl);
	double med_s = runs % 2 ? run_s[runs / 2] : (run_s[runs / 2 - 1] + run_s[runs / 2]) / 2;
	size_t nl = nmsg * (size_t)runs;
	qsort(lat, nl, sizeof *lat, cmp_dbl);
	double p50 = lat[nl / 2] * 1e3, p99 = lat[(size_t)(nl * 0.99)] * 1e3, pmax = lat[nl - 1] * 1e3;
	char g1[32], g2[32];
	printf("verdicts (run 1): pass %zu, suggest %zu, rewrite %zu, hold %zu, reject %zu; "
	       "not judged %zu; errors %zu\n", actions[TG_PASS], actions[TG_SUGGEST], actions[TG_REWRITE],
	       actions[TG_HOLD], actions[TG_REJECT], unjudged, errors);
	printf("best of %ld: %s replies/s, %.1f MB/s; median: %s replies/s, %.1f MB/s\n", runs,
	       grouped(nmsg / best_s, g1, sizeof g1), bytes / 1e6 / best_s,
	       grouped(nmsg / med_s, g2, sizeof g2), bytes / 1e6 / med_s);
	for (int k = 0; k < NKINDS; k++)
		if (per_kind[k])
			printf("  %-12s %5zu replies, mean %5.1f KB: %s replies/s, %.1f MB/s (best run)\n",
			       kind_name[k], per_kind[k], kbytes[k] / 1024.0 / per_kind[k],
			       grouped(per_kind[k] / best_kind_s[k], g1, sizeof g1),
			       kbytes[k] / 1e6 / best_kind_s[k]);
	printf("per reply: p50 %.3f ms, p99 %.3f ms, max %.3f ms (all runs)\n", p50, p99, pmax);
	printf("RESULT replies=%zu bytes=%zu runs=%ld best_rps=%.0f best_mbps=%.2f median_rps=%.0f "
	       "median_mbps=%.2f p50_ms=%.4f p99_ms=%.4f max_ms=%.4f unjudged=%zu errors=%zu\n",
	       nmsg, bytes, runs, nmsg / best_s, bytes / 1e6 / best_s, nmsg / med_s, bytes / 1e6 / med_s,
	       p50, p99, pmax, unjudged, errors);
	free(run_s);
	free(lat);
	for (size_t i = 0; i < nmsg; i++) {
		free(msgs[i].path);
		free(msgs[i].data);
	}
	free(msgs);
	matcher_scratch_free(scratch);
	policy_unref(p);
	return errors ? 2 : 0;
}
