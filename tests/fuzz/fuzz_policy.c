/*
 * fuzz_policy — policy text through policy_load_string: libconfig's parser,
 * every key's checks, the templates, the substitutions and the phrase
 * compile. A refusal must come with a "name:line: message"; a policy that
 * loads must be usable: rule set selection, scope, the agent's notice
 * address, and a short reply judged and rewritten with it. Crashes and
 * leaks are the bugs; errors are expected.
 */
#include "config.h"
#include "fuzz.h"
#include "rewrite.h"

const char fuzz_target_name[] = "policy";

/* Bigger policies only make each run slower: Hyperscan compiles every
 * phrase of a policy that loads (the shipped one takes seconds). */
enum { MAX_POLICY = 16384 };

static const char reply[] =
	"From: Jamey Fox <agent@acme.example>\r\nTo: Maria Lopez <maria@example.net>\r\n"
	"Subject: Re: refund\r\nAuto-Submitted: auto-replied\r\n\r\n"
	"Nope. Can't work that out this time. I know how you feel!!!\r\n";

/* libconfig 1.5 (Debian 12) leaks in its scanner on some syntax errors (a
 * string left open at the end, a token after adjacent strings): buffers its
 * parser never handed to us, so not leaks of ours; config_destroy runs on
 * every path. Read by LeakSanitizer in any ASan build. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	judge_init();
	return 0;
}

static void use(tg_policy *p)
{
	static const char *const names[] = {"Auto-Submitted", "X-Autoreply", "Precedence"};
	static const char *const values[] = {"auto-replied", "yes", "auto_reply"};
	static const char *const rcpts[] = {"maria@example.net", "x@acme.example"};
	if (policy_select(p, names, values, 3) == NULL)
		abort();
	policy_in_scope(p, "agent@acme.example", rcpts, 2);
	policy_in_scope(p, NULL, rcpts, 1);
	const char *to[8];
	notice_recipients(p, "agent@acme.example", to, 8);

	tg_scratch *s = matcher_scratch_new(p->matcher);
	if (s == NULL)
		abort();
	tg_judgement j;
	if (judge_message(p, s, reply, sizeof reply - 1, NULL, &j) == 0 && j.status == TG_OK && j.in_scope) {
		sbuf out = SBUF_INIT;
		rewrite_suggest(&j, &out);
		sbuf_free(&out);
		tg_notice_facts f = {"4XyZ1abc", 1795000000, "agent@acme.example", rcpts, 2, TG_HOLD,
				     "a greeting", "tonegate@relay.example", "relay.example"};
		fuzz_notice(&j, &f);
	}
	judge_free(&j);
	matcher_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_POLICY)
		return 0;
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';  /* libconfig reads up to the first NUL */
	if (strstr(text, "@include")) {  /* it would read the files named */
		free(text);
		return 0;
	}
	char err[512];
	err[0] = '\0';
	tg_policy *p = policy_load_string(text, "f.conf", err, sizeof err);
	free(text);
	if (p == NULL) {
		if (strncmp(err, "f.conf:", 7) != 0)
			abort();  /* every refusal names where */
		return 0;
	}
	use(p);
	policy_unref(p);
	return 0;
}
