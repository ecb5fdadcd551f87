/*
 * tonegate — the milter daemon: read the configuration and policy, open the
 * socket, drop privileges, then serve libmilter's threads. SIGUSR1 (and
 * systemd's ExecReload) reloads configuration and policy atomically;
 * SIGUSR2 reopens the verdict log (logrotate); SIGTERM/SIGINT/SIGHUP stop
 * (libmilter's own signal thread).
 */
#include "config.h"
#include "judge.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "notify.h"
#include "settings.h"
#include "verdictlog.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#endif
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static const char *conf_path = SYSCONFDIR "/tonegate/tonegate.conf";
static const char *socket_override;

static void usage(FILE *f)
{
	fprintf(f, "usage: tonegate [-c FILE] [-p SOCKET] [-f] [-n] [-V]\n"
		   "  -c FILE    daemon configuration (default " SYSCONFDIR "/tonegate/tonegate.conf)\n"
		   "  -p SOCKET  listen here instead: unix:/path or inet:PORT@HOST\n"
		   "  -f         stay in the foreground and log to stderr\n"
		   "  -n         check the configuration and the policy, then exit\n"
		   "  -V         print the version\n");
}

/* Settings and policy, both or neither: "file:line: message" in err. */
static tg_snapshot *load_snapshot(char *err, size_t errlen)
{
	tg_settings *cfg = settings_load(conf_path, err, errlen);
	if (cfg == NULL)
		return NULL;
	if (socket_override) {
		if (strncmp(socket_override, "unix:", 5) && strncmp(socket_override, "local:", 6) &&
		    strncmp(socket_override, "inet:", 5) && strncmp(socket_override, "inet6:", 6)) {
			snprintf(err, errlen, "-p %s: use unix:/path or inet:PORT@HOST", socket_override);
			settings_free(cfg);
			return NULL;
		}
		free(cfg->socket);
		cfg->socket = strdup(socket_override);
	}
	tg_policy *pol = policy_load(cfg->policy, err, errlen);
	if (pol == NULL) {
		settings_free(cfg);
		return NULL;
	}
#ifdef __GLIBC__
	/* Compiling the policy frees ~34 MB of scratch that glibc would keep
	 * for good: give it back (make bench-memory measures the peak). */
	malloc_trim(0);
#endif
	tg_snapshot *s = snapshot_new(cfg, pol);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		settings_free(cfg);
		policy_unref(pol);
	}
	return s;
}

static void emit_line(const char *line, void *arg)
{
	fprintf(arg, "%s\n", line);
}

static void status(const char *state)
{
	tg_counts c;
	milter_counts(&c);
	sd_notifyf(0, "%sSTATUS=%s: %lu passed, %lu suggested, %lu held, %lu rejected, %lu unchecked, "
		   "%lu out of scope, %lu errors", state, "serving", c.action[TG_PASS],
		   c.action[TG_SUGGEST] + c.action[TG_REWRITE], c.action[TG_HOLD], c.action[TG_REJECT],
		   c.unchecked, c.out_of_scope, c.errors);
}

static int notify_running;  /* the notice worker; main and control thread only */

/* Start the notice worker when notice_server is set, or give it the new
 * settings; with notice_server = "" the milter queues nothing. */
static int notify_setup(const tg_settings *cfg)
{
	tg_notify_cfg nc = {cfg->notice_server, cfg->notice_queue_size, cfg->notice_max_tries,
			    cfg->notice_retry_base, cfg->notice_retry_max, cfg->notice_timeout};
	if (*cfg->notice_server == '\0')
		return 0;
	if (notify_running) {
		notify_configure(&nc);
		return 0;
	}
	if (notify_start(&nc) < 0)
		return -1;
	notify_running = 1;
	return 0;
}

/* The metrics file; a failure is logged once until a write succeeds again. */
static void write_metrics(const tg_settings *cfg)
{
	static int failing;
	if (*cfg->metrics_file == '\0')
		return;
	tg_counts c;
	tg_notify_stats n;
	milter_counts(&c);
	notify_stats(&n);
	if (metrics_write(cfg->metrics_file, &c, &n) < 0) {
		if (!failing)
			log_msg(LOG_WARNING, "cannot write metrics_file %s: %s (mail is not affected)",
				cfg->metrics_file, strerror(errno));
		failing = 1;
	} else {
		failing = 0;
	}
}

/* (Re)open the verdict log: at start, on a reload and on SIGUSR2 (after
 * logrotate moved it). A failure is logged; mail is not affected. */
static void verdict_log_open(const tg_settings *cfg, const char *why)
{
	if (verdictlog_open(cfg->verdict_log) < 0)
		log_msg(LOG_ERR, "%s: cannot open verdict_log %s: %s (mail is not affected; verdicts go on to "
			"the file open before, if any; fix it and send SIGUSR2)", why, cfg->verdict_log,
			strerror(errno));
}

static void reload(void)
{
	char err[1024];
	sd_notify(0, "RELOADING=1");
	tg_snapshot *s = load_snapshot(err, sizeof err);
	if (s == NULL) {
		log_msg(LOG_ERR, "reload refused, the running configuration and policy stay: %s", err);
		sd_notify(0, "READY=1\nSTATUS=reload refused: see the log");
		return;
	}
	tg_snapshot *old = snapshot_get();
	if (old && strcmp(old->cfg->socket, s->cfg->socket) != 0)
		log_msg(LOG_WARNING, "reload: socket changed to %s; it takes a restart", s->cfg->socket);
	snapshot_unref(old);
	log_msg(LOG_NOTICE, "reloaded %s and %s (%zu phrases and patterns)", conf_path, s->cfg->policy,
		matcher_count(s->policy->matcher));
	if (notify_setup(s->cfg) < 0)
		log_msg(LOG_ERR, "reload: cannot start the notice thread; notices are dropped");
	verdict_log_open(s->cfg, "reload");
	snapshot_install(s);
	sd_notify(0, "READY=1");
	status("");
}

/* SIGUSR1 reloads; in between, STATUS, the metrics file and the systemd
 * watchdog. */
static void *control_thread(void *arg)
{
	sigset_t *set = arg;
	uint64_t wd_usec = 0;
	int wd = sd_watchdog_enabled(0, &wd_usec) > 0;
	time_t metrics_at = 0;
	for (;;) {
		tg_snapshot *s = snapshot_get();
		unsigned interval = s ? s->cfg->status_interval : 10;
		if (s && s->cfg->metrics_interval < interval)
			interval = s->cfg->metrics_interval;
		if (s && time(NULL) >= metrics_at) {
			write_metrics(s->cfg);
			metrics_at = time(NULL) + s->cfg->metrics_interval;
		}
		snapshot_unref(s);
		struct timespec ts = {interval, 0};
		if (wd && wd_usec / 2 < (uint64_t)interval * 1000000) {
			ts.tv_sec = (time_t)(wd_usec / 2000000);
			ts.tv_nsec = (long)(wd_usec / 2 % 1000000) * 1000;
		}
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig == SIGUSR1)
			reload();
		if (sig == SIGUSR2) {
			tg_snapshot *cur = snapshot_get();
			verdict_log_open(cur->cfg, "SIGUSR2");
			log_msg(LOG_NOTICE, "SIGUSR2: verdict_log %s reopened", cur->cfg->verdict_log);
			snapshot_unref(cur);
		}
		if (wd)
			sd_notify(0, "WATCHDOG=1");
		status("");
	}
	return NULL;
}

static int unix_path(const char *spec, const char **path)
{
	if (!strncmp(spec, "unix:", 5)) { *path = spec + 5; return 1; }
	if (!strncmp(spec, "local:", 6)) { *path = spec + 6; return 1; }
	return 0;
}

/* Socket ownership and mode, then the unprivileged user. */
/* An inet socket: no Nagle delay on the milter connections. An end of
 * message answered with a header and then the verdict is two small writes,
 * and the second waited for the MTA's delayed ACK: with 20 sessions through
 * a loopback Postfix the relay's CPUs stood idle 6-8 % of the time
 * (BENCHMARKS.md). libmilter keeps its listening socket to itself; Linux
 * hands TCP_NODELAY on from it to each accepted connection, so it is set on
 * every listening TCP socket of ours, right after smfi_opensocket(). */
static void listen_nodelay(void)
{
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = 0; fd < max; fd++) {
		int on = 0, domain = 0, one = 1;
		socklen_t l = sizeof on, ld = sizeof domain;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &l) == 0 && on &&
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &ld) == 0 &&
		    (domain == AF_INET || domain == AF_INET6))
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}

static int drop_privileges(const tg_settings *cfg)
{
	const char *path;
	if (unix_path(cfg->socket, &path)) {
		if (chmod(path, cfg->socket_mode) < 0) {
			log_msg(LOG_ERR, "chmod %s: %s", path, strerror(errno));
			return -1;
		}
		/* Owned by the user tonegate runs as, so it can remove the socket
		 * when it is restarted without root. */
		const char *owner = *cfg->socket_owner ? cfg->socket_owner : cfg->user;
		if (*owner && geteuid() == 0) {
			struct passwd *o = getpwnam(owner);
			if (o == NULL || chown(path, o->pw_uid, (gid_t)-1) < 0) {
				log_msg(LOG_ERR, "%s: socket_owner %s: %s", cfg->path, owner,
					o ? strerror(errno) : "no such user");
				return -1;
			}
		}
		if (*cfg->socket_group) {
			struct group *g = getgrnam(cfg->socket_group);
			if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) < 0) {
				log_msg(LOG_ERR, "%s: socket_group %s: %s", cfg->path, cfg->socket_group,
					g ? strerror(errno) : "no such group");
				return -1;
			}
		}
	}
	if (*cfg->user == '\0') {
		if (geteuid() == 0) {
			log_msg(LOG_ERR, "%s: refusing to run as root: set user = \"tonegate\"; (and group)", cfg->path);
			return -1;
		}
		return 0;
	}
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL) {
		log_msg(LOG_ERR, "%s: user %s does not exist", cfg->path, cfg->user);
		return -1;
	}
	gid_t gid = pw->pw_gid;
	if (*cfg->group) {
		struct group *g = getgrnam(cfg->group);
		if (g == NULL) {
			log_msg(LOG_ERR, "%s: group %s does not exist", cfg->path, cfg->group);
			return -1;
		}
		gid = g->gr_gid;
	}
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || initgroups(cfg->user, gid) < 0 ||
			       setuid(pw->pw_uid) < 0)) {
		log_msg(LOG_ERR, "cannot become %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (geteuid() != pw->pw_uid) {
		log_msg(LOG_ERR, "cannot become %s: not started as root or as %s", cfg->user, cfg->user);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int foreground = 0, check = 0, c;
	while ((c = getopt(argc, argv, "c:p:fnVh")) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'p': socket_override = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'V': printf("tonegate %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* Blocked in every thread from the start: USR1 is taken by the control
	 * thread only, HUP/INT/TERM by libmilter's signal thread (a stop), so no
	 * signal can end the process from an arbitrary thread. */
	static sigset_t set;
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGPIPE);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	judge_init();
	char err[1024];
	tg_snapshot *snap = load_snapshot(err, sizeof err);
	if (snap == NULL) {
		fprintf(stderr, "tonegate: %s\n", err);
		return 1;
	}
	if (check) {
		settings_dump(snap->cfg, emit_line, stdout);
		printf("# %s: ok; %s: ok (%zu phrases and patterns, %zu rule sets)\n", conf_path,
		       snap->cfg->policy, matcher_count(snap->policy->matcher), snap->policy->nset);
		snapshot_unref(snap);
		return 0;
	}
	const tg_settings *cfg = snap->cfg;
	log_open("tonegate", foreground || !strcmp(cfg->log, "stderr"), cfg->log_facility);
	if (geteuid() == 0 && *cfg->user == '\0') {
		log_msg(LOG_ERR, "%s: refusing to run as root without a user to drop to: set user = \"tonegate\";",
			conf_path);
		return 1;
	}
	snapshot_install(snap);
	static char host[256] = "localhost";
	if (gethostname(host, sizeof host - 1) < 0 || host[0] == '\0')
		strcpy(host, "localhost");
	if (smfi_setconn(cfg->socket) != MI_SUCCESS || smfi_settimeout((int)cfg->timeout) != MI_SUCCESS ||
	    milter_register(host) < 0) {
		log_msg(LOG_ERR, "cannot set up libmilter on %s", cfg->socket);
		return 1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot open the socket %s (in use, or a directory missing or not writable?)",
			cfg->socket);
		return 1;
	}
	listen_nodelay();
	if (drop_privileges(cfg) < 0)
		return 1;
	if (!foreground && getenv("NOTIFY_SOCKET") == NULL && daemon(0, 0) < 0) {
		log_msg(LOG_ERR, "cannot go to the background: %s", strerror(errno));
		return 1;
	}
	if (notify_setup(cfg) < 0) {
		log_msg(LOG_ERR, "cannot start the notice thread");
		return 1;
	}
	verdict_log_open(cfg, "start");  /* as the user tonegate runs as, like every reopen */
	pthread_t ctl;
	if (pthread_create(&ctl, NULL, control_thread, &set) != 0) {
		log_msg(LOG_ERR, "cannot start the control thread");
		return 1;
	}
	log_msg(LOG_NOTICE, "tonegate %s serving on %s with policy %s", PACKAGE_VERSION, cfg->socket, cfg->policy);
	sd_notify(0, "READY=1");
	status("");
	int rc = smfi_main();
	sd_notify(0, "STOPPING=1");
	log_msg(LOG_NOTICE, "tonegate stopping");
	if (notify_running)
		notify_stop(5);  /* a few seconds for notices already queued */
	tg_snapshot *last = snapshot_get();
	if (last)
		write_metrics(last->cfg);
	snapshot_unref(last);
	return rc == MI_SUCCESS ? 0 : 1;
}
