/*
 * metrics — the daemon's counters as a file in the Prometheus text format
 * (for node_exporter's textfile collector and "tonegatectl stats"), written
 * to a temporary name and renamed so a reader never sees half of it. The
 * metric names are documented in tonegate.conf(5).
 *
 * Called from the control thread only; it reads the counters, which are
 * updated atomically elsewhere.
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include "milter.h"
#include "notify.h"

/* Write path; 0, or -1 with errno set. */
int metrics_write(const char *path, const tg_counts *c, const tg_notify_stats *n);

#endif
