/*
 * milter — the libmilter callbacks: collect each message (bounded), judge it
 * with the engine at end of message and act on the verdict (headers,
 * quarantine, 550). Mail out of scope is accepted at the first callback that
 * can tell. No callback ever exits the process: failures give the
 * configured on_error verdict.
 *
 * The daemon's one piece of shared state is the snapshot (settings + policy),
 * refcounted: each message takes a reference when it starts and finishes
 * with that snapshot even if a reload installs a new one meanwhile.
 */
#ifndef TG_MILTER_H
#define TG_MILTER_H

#include <pthread.h>
#include "policy.h"
#include "settings.h"

enum { TG_SCRATCH_POOL = 64 };

typedef struct tg_snapshot {
	tg_settings *cfg;
	tg_policy *policy;
	unsigned refs;
	/* Phrase-scanner scratch for this policy's matcher, reused across
	 * messages and connections (allocating one per connection cost more
	 * than judging when the MTA opens a connection per message). */
	pthread_mutex_t pool_lock;
	struct tg_scratch *pool[TG_SCRATCH_POOL];
	unsigned npool;
} tg_snapshot;

/* Take ownership of cfg and policy as a new snapshot (refs = 1). */
tg_snapshot *snapshot_new(tg_settings *cfg, tg_policy *policy);
/* Make s the current snapshot (the caller's reference moves in). */
void snapshot_install(tg_snapshot *s);
/* A reference to the current snapshot; drop it with snapshot_unref. */
tg_snapshot *snapshot_get(void);
void snapshot_unref(tg_snapshot *s);

/* The judging-time histogram: upper bounds in milliseconds; one more
 * bucket takes the rest (+Inf). */
#define TG_JUDGE_BOUNDS_MS 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000
enum { TG_JUDGE_BUCKETS = 12 };

typedef struct tg_counts {
	unsigned long action[TG_NACTIONS], unchecked, out_of_scope, errors;
	unsigned long findings[R_NRULES];
	unsigned long rewrite_applied, rewrite_fallback;
	unsigned long monitored[TG_NACTIONS];  /* delivered in monitor mode, by what would be done */
	unsigned long judge_hist[TG_JUDGE_BUCKETS], judge_us, judge_n;  /* time spent judging */
} tg_counts;
void milter_counts(tg_counts *out);

/* smfi_register with the callbacks; 0 or -1. hostname names the relay in
 * notices (their From when notice_from is empty, and their Message-ID). */
int milter_register(const char *hostname);

#endif
