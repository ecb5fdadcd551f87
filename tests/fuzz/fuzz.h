/*
 * fuzz — what the libFuzzer targets (tests/fuzz/fuzz_*.c) share: the
 * libFuzzer entry points, where the source tree is, and the checks every
 * composed notice must pass.
 *
 * Each target defines fuzz_target_name (its corpus: tests/fuzz/corpus/NAME),
 * LLVMFuzzerInitialize (one-time set-up: policies are compiled there, never
 * per input) and LLVMFuzzerTestOneInput. The same objects link with
 * libFuzzer (make fuzz, clang) or with replay.c (make check, any compiler).
 * Single-threaded, as libFuzzer calls them.
 */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "notice.h"
#include "sbuf.h"

extern const char fuzz_target_name[];
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The source tree: $top_srcdir (make check and make fuzz set it), else
 * the one configure saw. */
static inline const char *fuzz_path(const char *rel, char *buf, size_t n)
{
	const char *top = getenv("top_srcdir");
	snprintf(buf, n, "%s/%s", top && *top ? top : TG_FUZZ_SRCDIR, rel);
	return buf;
}

/* Load a policy file of the source tree once, or stop the target. */
static inline tg_policy *fuzz_policy(const char *rel)
{
	char path[4096], err[1024];
	tg_policy *p = policy_load(fuzz_path(rel, path, sizeof path), err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "fuzz: %s\n", err);
		exit(2);
	}
	return p;
}

/* A broken invariant: say which, show the notice, and abort so libFuzzer
 * keeps the input as a crash. */
static inline void fuzz_fail(const char *what, const char *s, size_t n, size_t at)
{
	fprintf(stderr, "fuzz: notice invariant broken at byte %zu: %s\n--- notice ---\n", at, what);
	fwrite(s, 1, n, stderr);
	fprintf(stderr, "\n--- end ---\n");
	abort();
}

/* Every header a notice may carry, each at most once. */
static const char *const fuzz_notice_fields[] = {
	"From", "To", "Date", "Subject", "Message-ID", "In-Reply-To", "References",
	"Auto-Submitted", TG_NOTICE_HEADER, "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding",
};
enum { FUZZ_NFIELDS = sizeof fuzz_notice_fields / sizeof fuzz_notice_fields[0] };

/* What notice.h promises of s[0..n), checked byte by byte: no NUL; CR and
 * LF only as CRLF; lines of at most 998 bytes (RFC 5322); a header block
 * ended by an empty line, in which every line is a known field, each once,
 * or a fold (CRLF followed by a space or tab) — so no value added a header
 * or ended the block early. */
static inline void fuzz_check_notice(const char *s, size_t n)
{
	int seen[FUZZ_NFIELDS] = {0};
	int in_head = 1;
	size_t line = 0;  /* start of the current line */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			fuzz_fail("a NUL byte", s, n, i);
		if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
			fuzz_fail("a CR not followed by LF", s, n, i);
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fuzz_fail("an LF not preceded by CR", s, n, i);
		if (s[i] != '\n')
			continue;
		size_t len = i - 1 - line;  /* without the CRLF */
		if (len > 998)
			fuzz_fail("a line longer than 998 bytes", s, n, line);
		if (in_head && len == 0) {
			in_head = 0;
		} else if (in_head && (s[line] == ' ' || s[line] == '\t')) {
			if (line == 0)
				fuzz_fail("a fold before the first header", s, n, line);
		} else if (in_head) {
			const char *colon = memchr(s + line, ':', len);
			size_t k = 0;
			while (k < FUZZ_NFIELDS && !(colon && strlen(fuzz_notice_fields[k]) == (size_t)(colon - s - line) &&
						     memcmp(fuzz_notice_fields[k], s + line, (size_t)(colon - s - line)) == 0))
				k++;
			if (k == FUZZ_NFIELDS)
				fuzz_fail("a header line that is no notice field", s, n, line);
			if (seen[k]++)
				fuzz_fail("a header field twice", s, n, line);
		}
		line = i + 1;
	}
	if (in_head)
		fuzz_fail("no empty line after the headers", s, n, n);
	if (line != n)
		fuzz_fail("a last line without CRLF", s, n, line);
	static const char *const must[] = {"From", "To", "Date", "Subject", "Message-ID"};
	for (size_t m = 0; m < sizeof must / sizeof must[0]; m++)
		for (size_t k = 0; k < FUZZ_NFIELDS; k++)
			if (strcmp(fuzz_notice_fields[k], must[m]) == 0 && !seen[k])
				fuzz_fail("a required header is missing", s, n, 0);
}

/* Compose the notice about j with facts f (j judged and in scope) and
 * check it. */
static inline void fuzz_notice(const tg_judgement *j, const tg_notice_facts *f)
{
	sbuf out = SBUF_INIT;
	if (notice_compose(j, f, &out) == 0)
		fuzz_check_notice(out.s ? out.s : "", out.len);
	sbuf_free(&out);
}

#endif
