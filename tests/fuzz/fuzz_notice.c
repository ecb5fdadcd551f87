/*
 * fuzz_notice — the notice composer (notice.c) with every value it takes
 * from mail under the fuzzer's control, and the invariants of notice.h
 * checked on what it writes (fuzz.h): no NUL, CR and LF only as line ends
 * or folds, only the notice's own headers, each once.
 *
 * The input is fields separated by NUL bytes (missing ones are empty):
 *   0 flags: byte 0 picks the action, byte 1's bits which texts below
 *     replace the policy's (1 subject, 2 body, 4 finding texts)
 *   1 Subject  2 From display name  3 To display name  4 Message-ID
 *   5 more header lines, as written  6 the body
 *   7 queue id  8 envelope sender (the agent)  9 envelope recipients,
 *     separated by \x01  10 what the rewrite changed  11 the notice's From
 *   12 host name  13 subject text  14 body text  15 finding message
 *   16 finding suggestion
 * Fields 1-6 make a raw message judged with tests/fuzz/notice.conf
 * (compiled once), whose texts use every variable; 13-16 replace the
 * policy's texts for this input, as a policy file could write them.
 */
#include "config.h"
#include "fuzz.h"

const char fuzz_target_name[] = "notice";

enum { NFIELDS = 17, MAX_RCPTS = 16 };

static tg_policy *policy;
static tg_scratch *scratch;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	judge_init();
	policy = fuzz_policy("tests/fuzz/notice.conf");
	scratch = matcher_scratch_new(policy->matcher);
	if (scratch == NULL)
		abort();
	return 0;
}

/* The raw message of fields 1-6. */
static int message(sbuf *m, char *const fl[NFIELDS])
{
	int e = sbuf_printf(m, "From: %s <agent@acme.example>\r\nTo: %s <maria@example.net>\r\n"
			    "Subject: %s\r\nMessage-ID: %s\r\n", fl[2], fl[3], fl[1], fl[4]);
	if (*fl[5])
		e |= sbuf_printf(m, "%s\r\n", fl[5]);
	e |= sbuf_printf(m, "\r\n%s", fl[6]);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The fields as C strings: one copy, each NUL ends one. */
	char *buf = malloc(size + 1), *fl[NFIELDS];
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t at = 0;
	for (int i = 0; i < NFIELDS; i++) {
		fl[i] = at <= size ? buf + at : buf + size;
		at += strlen(fl[i]) + 1;
	}
	unsigned char act = (unsigned char)fl[0][0], which = fl[0][0] ? (unsigned char)fl[0][1] : 0;

	const char *rcpts[MAX_RCPTS];
	size_t nrcpt = 0;
	for (char *r = fl[9]; *r && nrcpt < MAX_RCPTS; nrcpt++) {
		rcpts[nrcpt] = r;
		r += strcspn(r, "\x01");
		if (*r)
			*r++ = '\0';
	}

	sbuf raw = SBUF_INIT;
	tg_judgement j;
	tg_envelope env = {fl[8], rcpts, nrcpt};
	int ran = message(&raw, fl) == 0;
	if (ran && judge_message(policy, scratch, raw.s, raw.len, &env, &j) == 0 && j.status == TG_OK &&
	    j.in_scope) {
		/* This input's texts, on a copy of the policy (the compiled one
		 * is shared by every input). */
		tg_policy own = *policy;
		if (which & 1)
			own.text[T_HOLD_SUBJECT] = own.text[T_SUGGEST_SUBJECT] = fl[13];
		if (which & 2)
			own.text[T_HOLD_BODY] = own.text[T_SUGGEST_BODY] = fl[14];
		for (size_t i = 0; (which & 4) && i < j.verdict.nf; i++) {
			j.verdict.f[i].message = fl[15];
			j.verdict.f[i].suggestion = fl[16];
		}
		j.policy = &own;
		static const tg_action acts[] = {TG_SUGGEST, TG_REWRITE, TG_HOLD, TG_REJECT};
		tg_notice_facts f = {fl[7], (time_t)act * 86400 * 37, fl[8], rcpts, nrcpt, acts[act % 4],
				     (act & 4) ? NULL : fl[10], fl[11], fl[12]};
		fuzz_notice(&j, &f);
		j.policy = policy;
	}
	if (ran)
		judge_free(&j);
	sbuf_free(&raw);
	free(buf);
	return 0;
}
