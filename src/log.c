/* log — syslog or stderr; see log.h. */
#include "config.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int use_stderr = 1;
static const char *log_ident = "tonegate";

static int facility_of(const char *name)
{
	static const struct { const char *n; int f; } t[] = {
		{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
		{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(name, t[i].n) == 0)
			return t[i].f;
	return LOG_MAIL;
}

void log_open(const char *ident, int to_stderr, const char *facility)
{
	log_ident = ident;
	use_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility_of(facility));
}

void log_msg(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (!use_stderr) {
		syslog(priority, "%s", line);
		return;
	}
	static const char *const level[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
	char out[2200];
	int n = snprintf(out, sizeof out, "%s[%s]: %s\n", log_ident, level[priority & 7], line);
	fwrite(out, 1, n < (int)sizeof out ? (size_t)n : sizeof out - 1, stderr);
}
