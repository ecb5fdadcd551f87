/*
 * tonegate-report — verdict logs (tonegate.conf(5), verdict_log) of one or
 * many relays into a report for support managers: a text summary, one CSV
 * table, or one self-contained HTML file with inline SVG charts.
 * Exit: 0 the report was made (malformed lines are reported on stderr as
 * file:line: message, counted and skipped), 2 usage, an input that cannot
 * be read or an output that cannot be written.
 */
#include "config.h"
#include "report.h"
#include "report_render.h"
#include "sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE (1024 * 1024)   /* a verdict line is well under 10 KB */
#define MAX_COMPLAINTS 100       /* malformed lines described per file */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tonegate-report [--text | --csv] [-o FILE] [--since DATE] [--until DATE]\n"
		"                       [--agent ADDR]... [--top N] LOG...\n"
		"Report on tonegate verdict logs (\"-\" reads standard input): actions per day,\n"
		"holds per agent, findings and release rate per rule, time to decision.\n"
		"  -o, --html FILE    write the report as one self-contained HTML file\n"
		"  -t, --text         print a text summary (the default without -o or --csv)\n"
		"  -c, --csv          print the figures as CSV: section,key,metric,value\n"
		"  -s, --since DATE   only verdicts at or after DATE (YYYY-MM-DD or ISO 8601, UTC)\n"
		"  -u, --until DATE   only verdicts at or before DATE (a day counts whole)\n"
		"  -a, --agent ADDR   only this envelope sender (repeat for more)\n"
		"  -n, --top N        excerpts shown per rule (default 5)\n"
		"  -V, --version      print the version\n"
		"  -h, --help         this help\n"
		"Exit status: 0 the report was made, 2 usage, unreadable input or unwritable output.\n");
}

static void complain(const char *path, long lineno, const char *msg, long *shown)
{
	if (++*shown <= MAX_COMPLAINTS)
		fprintf(stderr, "%s:%ld: %s\n", path, lineno, msg);
	else if (*shown == MAX_COMPLAINTS + 1)
		fprintf(stderr, "%s: more malformed lines (counted, not shown)\n", path);
}

/* One line to the report; 0, or -1 on ENOMEM. */
static int line_done(report *rp, const char *path, long lineno, sbuf *line, int toolong, long *shown)
{
	sbuf err = SBUF_INIT;
	int rc = 0;
	if (toolong) {
		report_skip(rp);
		complain(path, lineno, "line longer than 1 MiB", shown);
	} else if ((rc = report_add(rp, line->s ? line->s : "", line->len, &err)) == 1) {
		complain(path, lineno, err.s ? err.s : "malformed", shown);
	}
	sbuf_free(&err);
	sbuf_reset(line);
	return rc < 0 ? -1 : 0;
}

/* Every line of one log into the report: 0, or -1 (errno) when it cannot be
 * read. A line is never kept past its turn. */
static int read_log(report *rp, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return -1;
	if (report_input(rp, path) < 0) {
		if (f != stdin)
			fclose(f);
		errno = ENOMEM;
		return -1;
	}
	sbuf line = SBUF_INIT;
	line.max = MAX_LINE;
	char buf[65536];
	size_t n;
	long lineno = 0, shown = 0;
	int toolong = 0, rc = 0;
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0) {
		for (size_t s = 0; s < n && rc == 0;) {
			const char *nl = memchr(buf + s, '\n', n - s);
			size_t end = nl ? (size_t)(nl - buf) : n;
			if (!toolong && sbuf_append(&line, buf + s, end - s) < 0) {
				toolong = 1;
				sbuf_reset(&line);
			}
			if (nl == NULL)
				break;
			rc = line_done(rp, path, ++lineno, &line, toolong, &shown);
			toolong = 0;
			s = end + 1;
		}
	}
	int e = ferror(f) ? (errno ? errno : EIO) : ENOMEM;
	if (rc == 0 && ferror(f))
		rc = -1;
	else if (rc == 0 && (line.len || toolong))  /* the last line had no newline */
		rc = line_done(rp, path, ++lineno, &line, toolong, &shown);
	sbuf_free(&line);
	if (f != stdin)
		fclose(f);
	errno = e;
	return rc;
}

/* out to path ("-": standard output) via a temporary file renamed over it,
 * so a web server never serves half a report. */
static int write_out(const char *path, const sbuf *out)
{
	if (strcmp(path, "-") == 0)
		return fwrite(out->s, 1, out->len, stdout) == out->len && fflush(stdout) == 0 ? 0 : -1;
	sbuf tmp = SBUF_INIT;
	if (sbuf_printf(&tmp, "%s.XXXXXX", path) < 0)
		return -1;
	int fd = mkstemp(tmp.s);
	if (fd < 0) {
		sbuf_free(&tmp);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	size_t done = 0;
	int rc = fchmod(fd, 0666 & ~mask);
	while (rc == 0 && done < out->len) {
		ssize_t w = write(fd, out->s + done, out->len - done);
		if (w < 0 && errno != EINTR)
			rc = -1;
		else if (w > 0)
			done += (size_t)w;
	}
	if (close(fd) < 0 || rc < 0 || rename(tmp.s, path) < 0) {
		int e = errno;
		unlink(tmp.s);
		sbuf_free(&tmp);
		errno = e;
		return -1;
	}
	sbuf_free(&tmp);
	return 0;
}

/* When the report says it was made: SOURCE_DATE_EPOCH (reproducible output)
 * or now. */
static time_t made_at(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;
	if (e && *e) {
		long long v = strtoll(e, &end, 10);
		if (*end == '\0' && v >= 0)
			return (time_t)v;
	}
	return time(NULL);
}

static int done(const char **agents, int rc)
{
	free(agents);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"html", required_argument, NULL, 'o'}, {"text", no_argument, NULL, 't'},
		{"csv", no_argument, NULL, 'c'},        {"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'}, {"agent", required_argument, NULL, 'a'},
		{"top", required_argument, NULL, 'n'},  {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const char *html = NULL;
	int text = 0, csv = 0, c;
	rp_filter flt = {0};
	long top = 5;
	const char **agents = calloc((size_t)argc, sizeof *agents);
	if (agents == NULL)
		return 2;
	flt.agent = agents;
	while ((c = getopt_long(argc, argv, "o:tcs:u:a:n:Vh", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o': html = optarg; break;
		case 't': text = 1; break;
		case 'c': csv = 1; break;
		case 's':
		case 'u':
			if (report_parse_time(optarg, strlen(optarg), c == 'u', c == 's' ? &flt.since : &flt.until) < 0) {
				fprintf(stderr, "tonegate-report: --%s %s: not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n",
					c == 's' ? "since" : "until", optarg);
				return done(agents, 2);
			}
			*(c == 's' ? &flt.has_since : &flt.has_until) = 1;
			break;
		case 'a': agents[flt.nagent++] = optarg; break;
		case 'n':
			top = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || top < 0 || top > 1000) {
				fprintf(stderr, "tonegate-report: --top %s: not a number from 0 to 1000\n", optarg);
				return done(agents, 2);
			}
			break;
		case 'V': printf("tonegate-report %s\n", PACKAGE_VERSION); return done(agents, 0);
		case 'h': usage(stdout); return done(agents, 0);
		default: usage(stderr); return done(agents, 2);
		}
	}
	if (optind == argc) {
		fprintf(stderr, "tonegate-report: no verdict log given (\"-\" reads standard input)\n");
		usage(stderr);
		return done(agents, 2);
	}
	if (text && csv) {
		fprintf(stderr, "tonegate-report: --text and --csv both write to standard output: choose one\n");
		return done(agents, 2);
	}
	if (html && strcmp(html, "-") == 0 && (text || csv)) {
		fprintf(stderr, "tonegate-report: -o - and --%s both write to standard output\n", text ? "text" : "csv");
		return done(agents, 2);
	}
	if (flt.has_since && flt.has_until && flt.since > flt.until) {
		fprintf(stderr, "tonegate-report: --since is after --until\n");
		return done(agents, 2);
	}
	if (!html && !csv)
		text = 1;

	int stdin_seen = 0, rc = 0;
	report *rp = report_new(&flt, (size_t)top);
	if (rp == NULL) {
		perror("tonegate-report");
		return done(agents, 2);
	}
	for (int i = optind; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-") == 0 && stdin_seen++) {
			fprintf(stderr, "tonegate-report: standard input given twice\n");
			rc = 2;
		} else if (read_log(rp, argv[i]) < 0) {
			fprintf(stderr, "tonegate-report: %s: %s\n", argv[i], strerror(errno));
			rc = 2;
		}
	}
	sbuf out = SBUF_INIT;
	if (rc == 0 && report_finish(rp) < 0) {
		perror("tonegate-report");
		rc = 2;
	}
	if (rc == 0 && html) {
		if (report_html(rp, made_at(), &out) < 0 || write_out(html, &out) < 0) {
			fprintf(stderr, "tonegate-report: %s: %s\n", html, strerror(errno));
			rc = 2;
		}
		sbuf_reset(&out);
	}
	if (rc == 0 && (text || csv)) {
		if ((text ? report_text(rp, &out) : report_csv(rp, &out)) < 0 || write_out("-", &out) < 0) {
			fprintf(stderr, "tonegate-report: standard output: %s\n", strerror(errno));
			rc = 2;
		}
	}
	if (rp->fig.skipped && rc == 0)
		fprintf(stderr, "tonegate-report: %ld malformed line%s skipped\n", rp->fig.skipped,
			rp->fig.skipped == 1 ? "" : "s");
	sbuf_free(&out);
	report_free(rp);
	return done(agents, rc);
}
