/*
 * settings — the daemon's configuration file (libconfig), read through one
 * table of keys (name, type, default, bounds) that also drives -n output and
 * the test that every key is documented in conf/tonegate.conf.
 *
 * A tg_settings is immutable once loaded and owns its strings; together with
 * the policy it names it forms the daemon's snapshot (see tg_snapshot in
 * milter.h). settings_load is thread-safe (no globals); errors are
 * "file:line: message".
 */
#ifndef TG_SETTINGS_H
#define TG_SETTINGS_H

#include <stddef.h>

typedef enum { TG_ONERR_ACCEPT, TG_ONERR_TEMPFAIL } tg_on_error;
typedef enum { TG_BIG_PASS, TG_BIG_TEMPFAIL } tg_on_oversize;

typedef struct tg_settings {
	char *path;
	char *socket;           /* libmilter socket spec: unix:/path or inet:port@host */
	char *user, *group;     /* to drop to after the socket is open; "" = none */
	char *verdict_log;      /* the verdict log (JSON lines); "" = none */
	unsigned verdict_log_excerpt; /* bytes of each finding's excerpt logged; 0 = none */
	char *socket_owner;     /* owner of a unix socket; "" = user, else leave it */
	char *socket_group;     /* group of a unix socket; "" = leave it */
	unsigned socket_mode;   /* permissions of a unix socket */
	char *policy;           /* policy file */
	tg_on_error on_error;   /* verdict when something inside tonegate fails */
	size_t max_message_size;/* bytes buffered per message */
	tg_on_oversize on_oversize;
	unsigned timeout;       /* seconds of silence from the MTA before giving up */
	unsigned judge_timeout_ms; /* a judgement slower than this is logged */
	char *log;              /* "syslog" or "stderr" */
	char *log_facility;     /* syslog facility name */
	int pass_header;        /* add header_name to passed mail */
	char *header_name;      /* X-Tonegate */
	char *header_verdict;   /* X-Tonegate-Verdict */
	char *header_finding;   /* X-Tonegate-Finding */
	unsigned status_interval; /* seconds between systemd STATUS updates */
	char *metrics_file;     /* Prometheus text file of the counters; "" = none */
	unsigned metrics_interval; /* seconds between rewrites of metrics_file */
	char *notice_server;    /* host:port of the SMTP server for notices; "" = send none */
	char *notice_from;      /* envelope and From of notices; "" = the null sender */
	unsigned notice_queue_size, notice_max_tries; /* see notify.h */
	unsigned notice_retry_base, notice_retry_max, notice_timeout;
} tg_settings;

/* Load path; NULL with "file:line: message" in err on any error. */
tg_settings *settings_load(const char *path, char *err, size_t errlen);
tg_settings *settings_load_string(const char *text, const char *name, char *err, size_t errlen);
void settings_free(tg_settings *c);

/* Each key with its current value, one "key = value" per line (for -n). */
void settings_dump(const tg_settings *c, void (*emit)(const char *line, void *arg), void *arg);
/* The names of every key, NULL-terminated (for the documentation test). */
const char *const *settings_keys(void);

#endif
