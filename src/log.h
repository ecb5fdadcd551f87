/*
 * log — one place that writes the daemon's log lines, to syslog or stderr.
 * Thread-safe: syslog(3) is, and stderr lines are written with one call.
 * Message data never reaches a format string: callers pass it as "%s".
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <syslog.h>

/* Log to stderr (to_stderr) or to syslog with the named facility. */
void log_open(const char *ident, int to_stderr, const char *facility);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
