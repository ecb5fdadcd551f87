/* mailbox — message files, mbox files and Maildir folders; see mailbox.h. */
#include "config.h"
#include "mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

enum kind { SRC_FILES, SRC_STDIN, SRC_MBOX };

struct tg_mailsrc {
	enum kind kind;
	struct mailmbox_folder *mbox;  /* SRC_MBOX: mapped read-only */
};

static int push_item(tg_maillist *l, char *name, size_t idx)
{
	if (name == NULL)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		tg_mailitem *it = realloc(l->item, cap * sizeof *it);
		if (it == NULL) {
			free(name);
			return -1;
		}
		l->item = it;
		l->cap = cap;
	}
	l->item[l->n++] = (tg_mailitem){name, l->nsrc, idx};
	return 0;
}

static struct tg_mailsrc *push_src(tg_maillist *l, enum kind kind)
{
	struct tg_mailsrc *s = realloc(l->src, (l->nsrc + 1) * sizeof *s);
	if (s == NULL)
		return NULL;
	l->src = s;
	s[l->nsrc] = (struct tg_mailsrc){kind, NULL};
	return &s[l->nsrc];
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);
	if (s)
		snprintf(s, a + b + 2, "%s%s%s", dir, a && dir[a - 1] == '/' ? "" : "/", name);
	return s;
}

/* Drop the items added since first (a source that failed half-way). */
static void roll_back(tg_maillist *l, size_t first)
{
	while (l->n > first)
		free(l->item[--l->n].name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const tg_mailitem *)a)->name, ((const tg_mailitem *)b)->name);
}

/* Exported by libetpan, but Debian does not install its header
 * (mailmbox_parse.h): it lists the messages of a mapped mbox. */
int mailmbox_parse(struct mailmbox_folder *folder);

/* An mbox we may read but not lock: libetpan's read lock is a dot-lock,
 * which needs a directory we can write (an export in someone else's
 * folder, /var/mail). Reading a copy no one writes to needs no lock. */
static int open_unlocked(const char *path, struct mailmbox_folder **out)
{
	struct mailmbox_folder *f = mailmbox_folder_new(path);
	if (f == NULL)
		return MAILMBOX_ERROR_MEMORY;
	f->mb_read_only = 1;
	f->mb_no_uid = 1;
	int r = mailmbox_open(f), opened = r == MAILMBOX_NO_ERROR, mapped = 0;
	if (opened && (r = mailmbox_map(f)) == MAILMBOX_NO_ERROR) {
		mapped = 1;
		if ((r = mailmbox_parse(f)) == MAILMBOX_NO_ERROR) {
			*out = f;
			return r;
		}
	}
	if (mapped)
		mailmbox_unmap(f);
	if (opened)
		mailmbox_close(f);
	mailmbox_folder_free(f);
	return r;
}

static const char *mbox_error(int r)
{
	switch (r) {
	case MAILMBOX_ERROR_PARSE: return "not an mbox file libetpan can read";
	case MAILMBOX_ERROR_FILE_NOT_FOUND: return "cannot open it";
	case MAILMBOX_ERROR_MEMORY: return "out of memory";
	default: return "cannot map it into memory";
	}
}

static long add_mbox(tg_maillist *l, const char *path, char *err, size_t errlen)
{
	struct mailmbox_folder *f = NULL;
	int r = mailmbox_init(path, 1 /* read-only */, 1 /* no UIDs */, 0, &f);
	if (r == MAILMBOX_ERROR_FILE)
		r = open_unlocked(path, &f);
	if (r != MAILMBOX_NO_ERROR) {
		snprintf(err, errlen, "%s: cannot read the mbox: %s", path, mbox_error(r));
		return -1;
	}
	size_t first = l->n;
	unsigned n = carray_count(f->mb_tab);
	for (unsigned i = 0; i < n; i++) {
		struct mailmbox_msg_info *mi = carray_get(f->mb_tab, i);
		if (mi == NULL || mi->msg_deleted)
			continue;
		char num[32];
		snprintf(num, sizeof num, ":%u", i + 1);
		char *name = malloc(strlen(path) + strlen(num) + 1);
		if (name)
			strcat(strcpy(name, path), num);
		if (push_item(l, name, i) < 0)
			goto nomem;
	}
	struct tg_mailsrc *s = push_src(l, SRC_MBOX);
	if (s == NULL)
		goto nomem;
	s->mbox = f;
	l->nsrc++;
	return (long)(l->n - first);
nomem:
	roll_back(l, first);
	mailmbox_done(f);
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

static long add_maildir(tg_maillist *l, const char *path, char *err, size_t errlen)
{
	struct maildir *md = maildir_new(path);
	if (md == NULL || maildir_update(md) != MAILDIR_NO_ERROR) {
		snprintf(err, errlen, "%s: cannot read the Maildir: %s", path,
			 md ? "cur/ or new/ is not readable" : "out of memory");
		if (md)
			maildir_free(md);
		return -1;
	}
	size_t first = l->n;
	unsigned n = carray_count(md->mdir_msg_list);
	for (unsigned i = 0; i < n; i++) {
		struct maildir_msg *mm = carray_get(md->mdir_msg_list, i);
		if (push_item(l, maildir_message_get(md, mm->msg_uid), 0) < 0) {
			roll_back(l, first);
			maildir_free(md);
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	maildir_free(md);
	qsort(l->item + first, l->n - first, sizeof *l->item, by_name);
	return (long)(l->n - first);
}

/* A directory that is not a Maildir: its message files, in name order. */
static long add_dir(tg_maillist *l, const char *path, char *err, size_t errlen)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read the folder: %s", path, strerror(errno));
		return -1;
	}
	size_t first = l->n;
	int failed = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *name = ents[i]->d_name[0] == '.' || failed ? NULL : join(path, ents[i]->d_name);
		if (name && (stat(name, &st) < 0 || !S_ISREG(st.st_mode))) {
			free(name);
			name = NULL;
		} else if (name && push_item(l, name, 0) < 0) {
			failed = 1;
		}
		free(ents[i]);
	}
	free(ents);
	if (failed) {
		roll_back(l, first);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return (long)(l->n - first);
}

static int is_dir(const char *dir, const char *sub)
{
	char *p = join(dir, sub);
	struct stat st;
	int yes = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return yes;
}

/* Standard input is read when its one message is (maillist_read), so no
 * more than the size limit is ever held. */
static long add_stdin(tg_maillist *l, char *err, size_t errlen)
{
	size_t first = l->n;
	if (push_item(l, strdup("-"), 0) < 0 || push_src(l, SRC_STDIN) == NULL) {
		roll_back(l, first);
		snprintf(err, errlen, "-: out of memory");
		return -1;
	}
	l->nsrc++;
	return 1;
}

/* The source of the files just listed from items[first]. */
static int add_files_src(tg_maillist *l, size_t first, const char *path, char *err, size_t errlen)
{
	if (push_src(l, SRC_FILES) == NULL) {
		roll_back(l, first);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	l->nsrc++;
	return 0;
}

long maillist_add(tg_maillist *l, const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return add_stdin(l, err, errlen);
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (access(path, R_OK | X_OK) < 0) {
			snprintf(err, errlen, "%s: cannot read the folder: %s", path, strerror(errno));
			return -1;
		}
		size_t first = l->n;
		long n = is_dir(path, "cur") && is_dir(path, "new") ? add_maildir(l, path, err, errlen)
								    : add_dir(l, path, err, errlen);
		return n < 0 ? -1 : add_files_src(l, first, path, err, errlen) < 0 ? -1 : n;
	}
	/* A file: an mbox when it starts with a "From " line, else one message. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char head[5] = {0};
	if (fd < 0 || read(fd, head, sizeof head) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (memcmp(head, "From ", 5) == 0)
		return add_mbox(l, path, err, errlen);
	size_t first = l->n;
	if (push_item(l, strdup(path), 0) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return add_files_src(l, first, path, err, errlen) < 0 ? -1 : 1;
}

/* Append n bytes of an mboxrd body, one '>' off each ">From " line. */
static int unquote_mbox(sbuf *out, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) + 1 : n, k = i;
		while (k < end && p[k] == '>')
			k++;
		if (k > i && end - k >= 5 && memcmp(p + k, "From ", 5) == 0)
			i++;
		if (sbuf_append(out, p + i, end - i) < 0)
			return -1;
		i = end;
	}
	return 0;
}

/* At most max + 1 bytes of f into out. */
static int read_stream(FILE *f, size_t max, sbuf *out)
{
	char buf[65536];
	size_t n;
	int rc = 0;
	while (out->len <= max && (n = fread(buf, 1, sizeof buf, f)) > 0) {
		size_t room = max + 1 - out->len;
		if (sbuf_append(out, buf, n < room ? n : room) < 0)
			rc = -1;
	}
	return ferror(f) ? -1 : rc;
}

static int read_file(const char *path, size_t max, sbuf *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	int rc = read_stream(f, max, out);
	int e = errno;
	fclose(f);
	errno = e;
	return rc;
}

int maillist_read(const tg_maillist *l, size_t i, size_t max, sbuf *out)
{
	const tg_mailitem *it = &l->item[i];
	const struct tg_mailsrc *s = &l->src[it->src];
	sbuf_reset(out);
	int rc = 0;
	if (s->kind == SRC_FILES) {
		rc = read_file(it->name, max, out);
	} else if (s->kind == SRC_STDIN) {
		rc = read_stream(stdin, max, out);
	} else {
		/* The mapping is read-only and never changes: safe from threads. */
		const struct mailmbox_msg_info *mi = carray_get(s->mbox->mb_tab, (unsigned)it->idx);
		size_t n = mi->msg_size - mi->msg_start_len;
		rc = unquote_mbox(out, s->mbox->mb_mapping + mi->msg_headers, n < max + 1 ? n : max + 1);
	}
	if (rc == 0 && out->s == NULL)
		rc = sbuf_puts(out, "");
	return rc < 0 || sbuf_pad(out, 2) < 0 ? -1 : 0;
}

void maillist_free(tg_maillist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->item[i].name);
	for (size_t i = 0; i < l->nsrc; i++) {
		if (l->src[i].mbox)
			mailmbox_done(l->src[i].mbox);
	}
	free(l->item);
	free(l->src);
	memset(l, 0, sizeof *l);
}
