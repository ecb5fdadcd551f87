/*
 * holdq — Postfix's queue for tonegatectl: running the Postfix tools, the
 * postqueue -j reader, a held message's header, postsuper. See holdq.h for
 * the contract (ownership, what each returns, thread-safety).
 */
#include "config.h"
#include "holdq.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- running a Postfix tool ---------------------------------------------- */

int holdq_to_sbuf(void *arg, const char *p, size_t n)
{
	return sbuf_append(arg, p, n);
}

void holdq_res_free(holdq_res *r)
{
	sbuf_free(&r->err);
}

/* In the child: stdin from /dev/null, stdout and stderr to the pipes, then
 * exec; on failure the errno goes up px so the parent can tell why. */
static void child(const char *const *argv, const int po[2], const int pe[2], const int px[2])
{
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
		_exit(127);
	int spare[] = {null, po[0], po[1], pe[0], pe[1], px[0]};
	for (size_t i = 0; i < sizeof spare / sizeof spare[0]; i++)
		if (spare[i] > 2)
			close(spare[i]);
	execvp(argv[0], (char *const *)argv);
	if (errno == ENOENT && strchr(argv[0], '/') == NULL) {
		char path[256];  /* where Postfix puts it; a manager's PATH often lacks it */
		snprintf(path, sizeof path, "/usr/sbin/%s", argv[0]);
		execv(path, (char *const *)argv);
	}
	int e = errno;  /* px[1] closes on a good exec */
	if (write(px[1], &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

/* Read the child's stdout (to out) and stderr (to r->err) until both close. */
static void drain(int fd_out, int fd_err, holdq_res *r, holdq_out_fn out, void *arg)
{
	struct pollfd fds[2] = {{fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}};
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			char buf[65536];
			ssize_t got = read(fds[i].fd, buf, sizeof buf);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				fds[i].fd = -1;  /* the caller closes it */
				continue;
			}
			if (i == 1)
				sbuf_append(&r->err, buf, (size_t)got);  /* past err.max: dropped */
			else if (!r->overflow && out && out(arg, buf, (size_t)got) < 0)
				r->overflow = 1;
		}
	}
}

int holdq_run(const char *pfdir, holdq_res *r, holdq_out_fn out, void *arg, const char *prog, ...)
{
	const char *argv[16];
	size_t n = 0;
	argv[n++] = prog;
	if (pfdir) {
		argv[n++] = "-c";
		argv[n++] = pfdir;
	}
	va_list ap;
	va_start(ap, prog);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;

	memset(r, 0, sizeof *r);
	r->prog = prog;
	r->err.max = 4096;
	r->status = -1;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1};
	pid_t pid = -1;
	if (pipe(po) < 0 || pipe(pe) < 0 || pipe(px) < 0 || fcntl(px[1], F_SETFD, FD_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		r->err_no = errno;
		goto out;
	}
	if (pid == 0)
		child(argv, po, pe, px);
	close(po[1]), close(pe[1]), close(px[1]);
	po[1] = pe[1] = px[1] = -1;
	int e;
	if (read(px[0], &e, sizeof e) == (ssize_t)sizeof e)
		r->err_no = e;
	drain(po[0], pe[0], r, out, arg);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r->err_no == 0)
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0) close(po[i]);
		if (pe[i] >= 0) close(pe[i]);
		if (px[i] >= 0) close(px[i]);
	}
	return r->status;
}

static int says(const holdq_res *r, const char *what)
{
	return r->err.s && strstr(r->err.s, what);
}

holdq_why holdq_res_why(const holdq_res *r, int root)
{
	if (r->status < 0)
		return r->err_no == ENOENT ? HOLDQ_NOT_FOUND : HOLDQ_CANNOT_RUN;
	if (!root || says(r, "Permission denied") || says(r, "superuser"))
		return HOLDQ_NEEDS_ROOT;
	return says(r, "main.cf") ? HOLDQ_NEEDS_CONFDIR : HOLDQ_FAILED;
}

const char *holdq_res_line(const holdq_res *r, size_t *len)
{
	const char *s = r->err.s ? r->err.s : "", *line = strstr(s, "fatal: ");
	if (line)
		while (line > s && line[-1] != '\n')
			line--;
	else
		for (const char *p = s; *p; p += strcspn(p, "\n"), p += *p == '\n')
			if (*p != '\n')
				line = p;
	*len = line ? strcspn(line, "\n") : 0;
	return line;
}

/* The result of a tool run for the functions below: r->err kept only when
 * the tool failed. */
static holdq_rc ran(int status, holdq_res *r)
{
	if (status != 0)
		return HOLDQ_TOOL;
	holdq_res_free(r);
	return HOLDQ_OK;
}

/* ---- a JSON reader just big enough for postqueue -j ------------------------ */

/* One object per line: strings are decoded to UTF-8 (truncated at the
 * sbuf's max), integers read, everything else skipped with bounded nesting.
 * Each returns 0, or -1 on malformed input. */
typedef struct jr { const char *p, *e; } jr;

enum { J_DEPTH = 32 };

static void j_ws(jr *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int j_eat(jr *j, char ch)
{
	j_ws(j);
	if (j->p < j->e && *j->p == ch) {
		j->p++;
		return 1;
	}
	return 0;
}

static int j_hex4(jr *j, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++, j->p++) {
		char ch = j->p < j->e ? (char)(*j->p | 0x20) : 0;
		if (ch >= '0' && ch <= '9')
			*u = *u << 4 | (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*u = *u << 4 | (unsigned)(ch - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

static void put_u8(sbuf *o, unsigned u)
{
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
	int n = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
	char b[4];
	for (int i = n - 1; i > 0; i--, u >>= 6)
		b[i] = (char)(0x80 | (u & 0x3f));
	b[0] = (char)(lead[n] | u);
	sbuf_append(o, b, (size_t)n);
}

/* \uXXXX, after the 'u': a surrogate pair becomes one code point; NUL and
 * a lone surrogate become U+FFFD (no NULs in C strings). */
static int j_unicode(jr *j, unsigned *u)
{
	if (j_hex4(j, u) < 0)
		return -1;
	if (*u >= 0xd800 && *u < 0xdc00 && j->e - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
		jr look = {j->p + 2, j->e};
		unsigned lo;
		if (j_hex4(&look, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
			*u = 0x10000 + ((*u - 0xd800) << 10) + (lo - 0xdc00);
			j->p = look.p;
		}
	}
	if (*u == 0 || (*u >= 0xd800 && *u < 0xe000))
		*u = 0xfffd;
	return 0;
}

static int j_str(jr *j, sbuf *out)  /* out NULL: skip */
{
	if (!j_eat(j, '"'))
		return -1;
	while (j->p < j->e) {
		unsigned char ch = (unsigned char)*j->p++;
		if (ch == '"')
			return 0;
		if (ch < 0x20 || (ch == '\\' && j->p >= j->e))
			return -1;
		if (ch != '\\') {
			if (out)
				sbuf_putc(out, (char)ch);
			continue;
		}
		unsigned u;
		switch (*j->p++) {
		case '"': u = '"'; break;
		case '\\': u = '\\'; break;
		case '/': u = '/'; break;
		case 'b': u = '\b'; break;
		case 'f': u = '\f'; break;
		case 'n': u = '\n'; break;
		case 'r': u = '\r'; break;
		case 't': u = '\t'; break;
		case 'u':
			if (j_unicode(j, &u) < 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (out)
			put_u8(out, u);
	}
	return -1;
}

static int j_int(jr *j, long long *v)
{
	int neg = j_eat(j, '-');
	const char *s = j->p;
	*v = 0;
	for (; j->p < j->e && *j->p >= '0' && *j->p <= '9'; j->p++)
		if (*v < LLONG_MAX / 10 - 9)
			*v = *v * 10 + (*j->p - '0');
	while (j->p < j->e && *j->p && strchr(".eE+-0123456789", *j->p))
		j->p++;  /* a fraction or exponent: not in postqueue's integers */
	*v = neg ? -*v : *v;
	return j->p > s ? 0 : -1;
}

static int j_skip(jr *j, int depth)
{
	j_ws(j);
	if (depth > J_DEPTH || j->p >= j->e)
		return -1;
	char open = *j->p;
	if (open == '"')
		return j_str(j, NULL);
	if (open != '{' && open != '[') {  /* a number, true, false or null */
		const char *s = j->p;
		while (j->p < j->e && *j->p && strchr("+-.0123456789eEtrufalsn", *j->p))
			j->p++;
		return j->p > s ? 0 : -1;
	}
	char close = open == '{' ? '}' : ']';
	j->p++;
	if (j_eat(j, close))
		return 0;
	do {
		if (open == '{' && (j_str(j, NULL) < 0 || !j_eat(j, ':')))
			return -1;
		if (j_skip(j, depth + 1) < 0)
			return -1;
	} while (j_eat(j, ','));
	return j_eat(j, close) ? 0 : -1;
}

/* An object: fn(key) reads or skips each member's value. */
static int j_object(jr *j, int (*fn)(jr *, const char *, void *), void *arg)
{
	sbuf key = SBUF_INIT;
	int rc = -1;
	key.max = 64;
	if (!j_eat(j, '{'))
		return -1;
	if (j_eat(j, '}'))
		return 0;
	do {
		sbuf_reset(&key);
		if (j_str(j, &key) < 0 || !j_eat(j, ':') || fn(j, key.s ? key.s : "", arg) < 0)
			goto out;
	} while (j_eat(j, ','));
	rc = j_eat(j, '}') ? 0 : -1;
out:
	sbuf_free(&key);
	return rc;
}

/* A string into dst[size]: one that does not fit is malformed (an ID cut
 * short would name another message). */
static int j_fixed(jr *j, char *dst, size_t size)
{
	sbuf s = SBUF_INIT;
	s.max = size;
	int rc = j_str(j, &s);
	if (rc == 0 && s.len >= size)
		rc = -1;
	snprintf(dst, size, "%s", s.s && rc == 0 ? s.s : "");
	sbuf_free(&s);
	return rc;
}

/* ---- the queue: postqueue -j ------------------------------------------------- */

int holdq_id_ok(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return n > 0 && n <= HOLDQ_MAX_ID;
}

static int rcpt_member(jr *j, const char *key, void *arg)
{
	holdq_entry *e = arg;
	if (strcmp(key, "address") != 0)
		return j_skip(j, 2);
	sbuf a = SBUF_INIT;
	a.max = 1024;
	int rc = j_str(j, &a);
	if (rc == 0 && sbuf_append(&e->rcpts, a.s ? a.s : "", a.len + 1) == 0)
		e->nrcpt++;  /* past rcpts.max the rest are left out */
	sbuf_free(&a);
	return rc;
}

static int entry_member(jr *j, const char *key, void *arg)
{
	holdq_entry *e = arg;
	if (strcmp(key, "queue_id") == 0)
		return j_fixed(j, e->id, sizeof e->id);
	if (strcmp(key, "queue_name") == 0)
		return j_fixed(j, e->queue, sizeof e->queue);
	if (strcmp(key, "arrival_time") == 0)
		return j_int(j, &e->arrival);
	if (strcmp(key, "sender") == 0)
		return j_str(j, &e->sender);
	if (strcmp(key, "recipients") != 0)
		return j_skip(j, 1);
	if (!j_eat(j, '['))
		return -1;
	if (j_eat(j, ']'))
		return 0;
	do
		if (j_object(j, rcpt_member, e) < 0)
			return -1;
	while (j_eat(j, ','));
	return j_eat(j, ']') ? 0 : -1;
}

void holdq_entry_free(holdq_entry *e)
{
	sbuf_free(&e->sender);
	sbuf_free(&e->rcpts);
}

int holdq_parse_line(const char *line, size_t len, holdq_entry *e)
{
	memset(e, 0, sizeof *e);
	e->sender.max = 1024;
	e->rcpts.max = 256 * 1024;
	jr j = {line, line + len};
	if (j_object(&j, entry_member, e) == 0 && (j_ws(&j), j.p == j.e) && holdq_id_ok(e->id))
		return 0;
	holdq_entry_free(e);
	return -1;
}

void holdq_list_free(holdq_list *q)
{
	for (size_t i = 0; i < q->n; i++)
		holdq_entry_free(&q->v[i]);
	free(q->v);
	q->v = NULL;
	q->n = 0;
}

/* postqueue's output as it comes, split into lines of at most 4 MiB. */
struct scan {
	const char *only;   /* this ID in any queue; NULL: the hold queue */
	holdq_list *out;
	sbuf line;
	int too_long;
};

static void scan_line(struct scan *s)
{
	holdq_entry e;
	if (s->line.len == 0 && !s->too_long)
		return;
	if (s->too_long || holdq_parse_line(s->line.s, s->line.len, &e) < 0) {
		s->out->bad++;
		return;
	}
	if (s->only ? strcmp(e.id, s->only) == 0 : strcmp(e.queue, "hold") == 0) {
		holdq_entry *v = realloc(s->out->v, (s->out->n + 1) * sizeof *v);
		if (v) {
			s->out->v = v;
			v[s->out->n++] = e;
			return;
		}
		s->out->bad++;
	}
	holdq_entry_free(&e);
}

static int scan_out(void *arg, const char *p, size_t n)
{
	struct scan *s = arg;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (!s->too_long && sbuf_append(&s->line, p, k) < 0)
			s->too_long = 1;
		if (nl) {
			scan_line(s);
			sbuf_reset(&s->line);
			s->too_long = 0;
			k++;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static void scan_init(struct scan *s, const char *only, holdq_list *out)
{
	memset(out, 0, sizeof *out);
	memset(s, 0, sizeof *s);
	s->only = only;
	s->out = out;
	s->line.max = 4u << 20;
}

static void scan_end(struct scan *s)
{
	scan_line(s);  /* a last line without its '\n' */
	sbuf_free(&s->line);
}

void holdq_parse(const char *buf, size_t len, const char *only, holdq_list *out)
{
	struct scan s;
	scan_init(&s, only, out);
	scan_out(&s, buf, len);
	scan_end(&s);
}

holdq_rc holdq_read(const char *pfdir, const char *only, holdq_list *out, holdq_res *r)
{
	struct scan s;
	scan_init(&s, only, out);
	int st = holdq_run(pfdir, r, scan_out, &s, "postqueue", "-j", (char *)NULL);
	scan_end(&s);
	if (st != 0)
		holdq_list_free(out);
	return ran(st, r);
}

/* ---- a held message: postcat ------------------------------------------------- */

holdq_rc holdq_message(const char *pfdir, const char *id, int body, sbuf *raw, holdq_res *r)
{
	int st = holdq_run(pfdir, r, holdq_to_sbuf, raw, "postcat", body ? "-bhq" : "-hq", id, (char *)NULL);
	if (st > 0 && says(r, "No such file")) {  /* postcat's words for a queue file not there */
		holdq_res_free(r);
		return HOLDQ_GONE;
	}
	return ran(st, r);
}

holdq_rc holdq_held_parse(const char *raw, size_t len, const char *verdict_name, holdq_held *h)
{
	tg_limits lim = TG_LIMITS_DEFAULT;
	memset(h, 0, sizeof *h);
	if (message_parse(&lim, raw, len, &h->hdr) == TG_NOMEM)
		return HOLDQ_NOMEM;
	h->subject = message_header(&h->hdr, "Subject");
	for (size_t i = 0; i < h->hdr.nhdr; i++)
		if (strcasecmp(h->hdr.hdr[i].name, verdict_name) == 0) {
			h->verdict = h->hdr.hdr[i].value;
			h->findings = i + 1;
		}
	return HOLDQ_OK;
}

holdq_rc holdq_held_read(const char *pfdir, const char *id, const char *verdict_name, holdq_held *h,
			 holdq_res *r)
{
	sbuf raw = SBUF_INIT;
	raw.max = 4u << 20;  /* Postfix's header_size_limit is 100 KB by default */
	memset(h, 0, sizeof *h);
	holdq_rc rc = holdq_message(pfdir, id, 0, &raw, r);
	if (rc == HOLDQ_OK) {
		sbuf_putc(&raw, '\n');  /* the end of the header */
		rc = holdq_held_parse(raw.s ? raw.s : "", raw.len, verdict_name, h);
	}
	sbuf_free(&raw);
	return rc;
}

void holdq_held_free(holdq_held *h)
{
	message_free(&h->hdr);
}

const tg_header *holdq_finding_next(const holdq_held *h, const char *finding_name, size_t *i)
{
	while (h->verdict && *i < h->hdr.nhdr) {
		const tg_header *f = &h->hdr.hdr[(*i)++];
		if (strcasecmp(f->name, finding_name) == 0)
			return f;
	}
	return NULL;
}

int holdq_finding_parse(const char *v, sbuf *rule, unsigned *line, int *weight, const char **rest)
{
	size_t n = strcspn(v, " ");
	sbuf_reset(rule);
	sbuf_append(rule, v, n);
	int used = 0;
	if (sscanf(v + n, " line=%u weight=%d %n", line, weight, &used) < 2 || used == 0)
		return -1;
	*rest = v + n + used;
	return 0;
}

const char *holdq_verdict_field(const char *v, const char *key, size_t *n)
{
	size_t kl = strlen(key);
	for (const char *p = v; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			p += kl + 1;
			*n = strcspn(p, " ");
			return p;
		}
	return NULL;
}

/* ---- acting on a held message: postsuper --------------------------------- */

static const struct {
	const char *flag, *queue;  /* postsuper -H ID / -d ID hold */
	const char *summary;       /* postsuper's count line */
} acts[] = {
	[HOLDQ_RELEASE] = {"-H", NULL, "Released from hold: "},
	[HOLDQ_DISCARD] = {"-d", "hold", "Deleted: "},
};

int holdq_act_count(holdq_action a, const char *err)
{
	const char *count = err ? strstr(err, acts[a].summary) : NULL;
	return count ? atoi(count + strlen(acts[a].summary)) : 1;
}

holdq_rc holdq_act(const char *pfdir, holdq_action a, const char *id, holdq_res *r)
{
	if (holdq_run(pfdir, r, NULL, NULL, "postsuper", acts[a].flag, id, acts[a].queue, (char *)NULL) != 0)
		return HOLDQ_TOOL;
	int moved = holdq_act_count(a, r->err.s);
	holdq_res_free(r);
	return moved == 0 ? HOLDQ_GONE : HOLDQ_OK;
}

holdq_rc holdq_flush(const char *pfdir, const char *id, holdq_res *r)
{
	return ran(holdq_run(pfdir, r, NULL, NULL, "postqueue", "-i", id, (char *)NULL), r);
}
