/*
 * replay — run a fuzz target over saved inputs without libFuzzer, so that
 * make check (any compiler, plain or with the sanitizers) replays every
 * corpus file: each file of each directory (or each file) named on the
 * command line, else of $top_srcdir/tests/fuzz/corpus/NAME, is handed to
 * LLVMFuzzerTestOneInput in a buffer of exactly its size (so the sanitizers
 * see a read past the end). A target that crashes takes the program with it:
 * the test fails; so does one input that runs past REPLAY_TIMEOUT seconds
 * (30; the set-up gets four times that), and an empty or missing corpus.
 * REPLAY_VERBOSE=1 names each input before it runs.
 */
#include "config.h"
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t replayed;
static unsigned timeout = 30;
static char current[4096] = "(set-up)";  /* for the alarm handler */

static void on_alarm(int sig)
{
	static const char msg[] = "replay: timed out on ";
	(void)!write(2, msg, sizeof msg - 1);
	(void)!write(2, current, strlen(current));
	(void)!write(2, "\n", 1);
	_exit(1);
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	sbuf in = SBUF_INIT;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		if (sbuf_append(&in, buf, n) < 0)
			abort();
	int bad = ferror(f);
	fclose(f);
	/* Exactly the input, with nothing after it. */
	uint8_t *copy = malloc(in.len ? in.len : 1);
	if (bad || copy == NULL) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		sbuf_free(&in);
		free(copy);
		return -1;
	}
	if (in.len)
		memcpy(copy, in.s, in.len);
	if (getenv("REPLAY_VERBOSE"))
		fprintf(stderr, "replay: %s\n", path);
	snprintf(current, sizeof current, "%s", path);
	alarm(timeout);
	LLVMFuzzerTestOneInput(copy, in.len);
	alarm(0);
	free(copy);
	sbuf_free(&in);
	replayed++;
	return 0;
}

/* A file, or every file of a directory (in name order). */
static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), rc = 0;
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char file[4096];
		snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(file) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *to = getenv("REPLAY_TIMEOUT");
	if (to && atoi(to) > 0)
		timeout = (unsigned)atoi(to);
	signal(SIGALRM, on_alarm);
	alarm(4 * timeout);
	LLVMFuzzerInitialize(&argc, &argv);
	alarm(0);
	int rc = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			rc |= replay_path(argv[i]);
	} else {
		char dir[4096], rel[256];
		snprintf(rel, sizeof rel, "tests/fuzz/corpus/%s", fuzz_target_name);
		rc = replay_path(fuzz_path(rel, dir, sizeof dir));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("replay %s: %zu inputs in %.2f s (set-up included)\n", fuzz_target_name, replayed,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (replayed == 0) {
		fprintf(stderr, "replay %s: no input replayed\n", fuzz_target_name);
		return 1;
	}
	return rc ? 1 : 0;
}
