/*
 * fuzz_message — a raw message through everything the milter does with one:
 * judge_message (MIME, decoding, HTML, quotes, sentences, phrase scan,
 * engine) under the shipped conf/policy.conf, compiled once; then, as the
 * verdict's actions would, the suggested rewrite, the rewrite action's safe
 * fixes put into the raw body (bodyedit), and the notice, whose invariants
 * are checked (fuzz.h). bodyedit also gets every input that was not judged:
 * it must refuse cleanly what it cannot edit.
 */
#include "config.h"
#include "fuzz.h"
#include "bodyedit.h"
#include "rewrite.h"

const char fuzz_target_name[] = "message";

static tg_policy *policy;
static tg_scratch *scratch;
static int strict;

/* judge_message's contract (judge.h): raw[len..len+2] readable, because
 * libetpan's quoted-printable decoder reads two bytes past a message that
 * ends in "=X" (corpus/message/regress-qp-*). Every caller pads (the daemon
 * and tonegate-check with sbuf_pad), so inputs with a '=' in their last
 * three bytes get two NUL bytes after them here too; FUZZ_STRICT=1 hands
 * every input as it is, to see the read-ahead. */
static const char *pending_pad(const uint8_t *data, size_t size, char **copy)
{
	*copy = NULL;
	if (strict || memchr(data + (size > 3 ? size - 3 : 0), '=', size < 3 ? size : 3) == NULL)
		return (const char *)data;
	if ((*copy = calloc(1, size + 2)) == NULL)
		abort();
	memcpy(*copy, data, size);
	return *copy;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	judge_init();
	const char *st = getenv("FUZZ_STRICT");
	strict = st && *st == '1';
	policy = fuzz_policy("conf/policy.conf");
	scratch = matcher_scratch_new(policy->matcher);
	if (scratch == NULL)
		abort();
	return 0;
}

/* The rewrite action on the raw message: the safe fixes when there are any,
 * else a fixed greeting and closing. */
static void edit(const tg_judgement *j, const char *raw, size_t len)
{
	sbuf head = SBUF_INIT, tail = SBUF_INIT, what = SBUF_INIT, body = SBUF_INIT;
	tg_edit e = {"Hi Maria,\n\n", "\nBest regards,\n"};
	if (j && rewrite_safe_fixes(j, &head, &tail, &what) > 0) {
		e.head = head.len ? head.s : NULL;
		e.tail = tail.len ? tail.s : NULL;
	}
	if (bodyedit_apply(&policy->limits, raw, len, &e, &body) != TG_EDIT_OK && body.len)
		abort();  /* bodyedit.h: a refusal leaves out empty */
	sbuf_free(&head);
	sbuf_free(&tail);
	sbuf_free(&what);
	sbuf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;
	const char *raw = pending_pad(data, size, &copy);
	tg_judgement j;
	if (judge_message(policy, scratch, raw, size, NULL, &j) < 0) {
		judge_free(&j);
		free(copy);
		return 0;
	}
	int judged = j.status == TG_OK && j.in_scope;
	sbuf out = SBUF_INIT;
	reply_text(&j.reply, &out);
	if (judged) {
		sbuf_reset(&out);
		rewrite_suggest(&j, &out);
		const char *rcpts[] = {"maria@example.net"};
		tg_notice_facts f = {"4XyZ1abc", 1795000000, j.mail.from ? j.mail.from : "", rcpts, 1,
				     j.verdict.action >= TG_HOLD ? TG_HOLD : TG_SUGGEST, NULL,
				     "tonegate@relay.example", "relay.example"};
		fuzz_notice(&j, &f);
	}
	sbuf_free(&out);
	edit(judged ? &j : NULL, raw, size);
	judge_free(&j);
	free(copy);
	return 0;
}
