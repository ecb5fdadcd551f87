/* judge — one raw message through the whole pipeline; see judge.h. */
#include "config.h"
#include "judge.h"
#include "message.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

void judge_init(void)
{
	message_init();
	quote_init();
}

/* The envelope when there is one; otherwise From, To and Cc. */
static int in_scope(const tg_policy *p, const tg_message *m, const tg_envelope *env)
{
	const char *sender = env && env->sender ? env->sender : m->from;
	if (env && env->rcpts)
		return policy_in_scope(p, sender, env->rcpts, env->nrcpt);
	return policy_in_scope(p, sender, (const char *const *)m->rcpts, m->nrcpt);
}

/* How much of the history customer_scan reads. */
static size_t context_room(const tg_limits *lim)
{
	return lim->max_context_size < lim->max_decoded_size ? lim->max_context_size : lim->max_decoded_size;
}

/* The customer's quoted words, normalised and folded like the agent's, so
 * the checks can weigh a reply against what it answers: the first
 * max_context_size bytes of the history, where the message it answers is
 * (older messages of the thread, the agent's own earlier replies among
 * them, say nothing of this one). */
static int customer_scan(tg_policy *p, tg_scratch *scratch, tg_judgement *j)
{
	sbuf raw = SBUF_INIT, norm = SBUF_INIT;
	int rc = -1;
	size_t room = context_room(&p->limits);
	raw.max = norm.max = room + 16;
	const char *parts[2] = {j->split.quoted.s, j->mail.quoted_html};
	size_t lens[2] = {j->split.quoted.len, j->mail.quoted_html_len};
	for (int i = 0; i < 2; i++) {
		size_t n = lens[i] < room ? lens[i] : room;
		if (parts[i] && n && (sbuf_append(&raw, parts[i], n) < 0 || sbuf_putc(&raw, '\n') < 0))
			goto out;
		room -= n;
	}
	if (raw.len == 0)
		return 0;
	if (text_normalize(&norm, raw.s, raw.len) < 0)
		goto out;
	text_fold(norm.s, norm.len);
	for (size_t i = 0; i < norm.len; i++)
		j->customer_words += text_is_word_byte((unsigned char)norm.s[i]) &&
				     (i == 0 || norm.s[i - 1] == ' ');
	j->customer_hits.max = p->max_hits;
	rc = matcher_scan(p->matcher, scratch, norm.s, norm.len, &j->customer_hits);
out:
	sbuf_free(&raw);
	sbuf_free(&norm);
	return rc;
}

/* The word-level parts of a judgement: what judge_words fills in. */
static void words_clear(tg_judgement *j)
{
	memset(&j->split, 0, sizeof j->split);
	memset(&j->reply, 0, sizeof j->reply);
	memset(&j->hits, 0, sizeof j->hits);
	memset(&j->customer_hits, 0, sizeof j->customer_hits);
	memset(&j->verdict, 0, sizeof j->verdict);
	j->customer_words = 0;
}

static void words_free(tg_judgement *j)
{
	quote_split_free(&j->split);
	reply_free(&j->reply);
	hits_free(&j->hits);
	hits_free(&j->customer_hits);
	words_clear(j);
}

/* Move the word-level parts of from into to (whose own are dropped, not
 * freed: the caller still holds them). */
static void words_take(tg_judgement *to, const tg_judgement *from)
{
	to->split = from->split;
	to->reply = from->reply;
	to->hits = from->hits;
	to->customer_hits = from->customer_hits;
	to->customer_words = from->customer_words;
	to->verdict = from->verdict;
}

/* The agent's words in text (the shown text of j->mail): split off the
 * history, sentences, phrase hits, the customer's words, the verdict.
 * No sentence (reply.nsent == 0): nothing judged, verdict empty. */
static int judge_words(tg_policy *p, tg_scratch *scratch, const tg_ruleset *rs, const char *text,
		       size_t len, tg_judgement *j)
{
	/* customer_scan reads no more of the history than this */
	if (quote_split_keep(text, len, context_room(&p->limits), &j->split) < 0)
		return -1;
	if (reply_build(&j->reply, j->split.agent.s ? j->split.agent.s : "", j->split.agent.len,
			p->limits.max_sentences) < 0)
		return -1;
	j->reply.signoff = j->split.signoff;
	if (j->reply.nsent == 0)
		return 0;
	j->hits.max = p->max_hits;
	if (matcher_scan(p->matcher, scratch, j->reply.norm, j->reply.norm_len, &j->hits) < 0)
		return -1;
	if (customer_scan(p, scratch, j) < 0)
		return -1;
	tg_facts facts = {j->mail.bad_charset, &j->customer_hits, j->customer_words};
	engine_judge(rs, &j->reply, &j->hits, &facts, &j->verdict);
	return 0;
}

int judge_message(tg_policy *p, tg_scratch *scratch, const char *raw, size_t len,
		  const tg_envelope *env, tg_judgement *j)
{
	memset(j, 0, sizeof *j);
	j->policy = policy_ref(p);
	j->status = message_parse(&p->limits, raw, len, &j->mail);
	if (j->status == TG_NOMEM)
		return -1;
	if (j->status != TG_OK && j->status != TG_NO_TEXT) {
		/* Past a limit the header may be unread: the scope comes from the
		 * envelope when there is one; without, the message counts as in
		 * scope, so it is reported as unchecked, not as out of scope. */
		j->in_scope = env && env->rcpts ? in_scope(p, &j->mail, env) : 1;
		return 0;
	}
	j->in_scope = in_scope(p, &j->mail, env);
	if (!j->in_scope || j->status != TG_OK)
		return 0;
	const tg_ruleset *rs;
	{
		const char **names = malloc((j->mail.nhdr + 1) * sizeof *names);
		const char **values = malloc((j->mail.nhdr + 1) * sizeof *values);
		if (names == NULL || values == NULL) {
			free(names);
			free(values);
			return -1;
		}
		for (size_t i = 0; i < j->mail.nhdr; i++) {
			names[i] = j->mail.hdr[i].name;
			values[i] = j->mail.hdr[i].value;
		}
		rs = policy_select(p, names, values, j->mail.nhdr);
		free(names);
		free(values);
	}
	if (judge_words(p, scratch, rs, j->mail.text, j->mail.text_len, j) < 0)
		return -1;
	if (j->mail.alt_text) {
		/* The plain forms of the alternatives read in their rich form, as a
		 * plain-text reader sees them: a real failure there (hold or
		 * reject) stands over a better HTML reading, so a curt plain form
		 * cannot hide behind a courteous HTML one. Only a failure: help
		 * desks send a placeholder plain form ("This message is in HTML
		 * format") that would otherwise be coached as a reply. */
		tg_judgement a = *j;
		words_clear(&a);
		if (judge_words(p, scratch, rs, j->mail.alt_text, j->mail.alt_text_len, &a) < 0) {
			words_free(&a);
			return -1;
		}
		if (a.reply.nsent && a.verdict.action >= TG_HOLD &&
		    (j->reply.nsent == 0 || a.verdict.action > j->verdict.action)) {
			tg_judgement keep = *j;
			words_take(j, &a);
			words_take(&a, &keep);
		}
		words_free(&a);
	}
	if (j->reply.nsent == 0)
		j->status = TG_NO_TEXT;
	return 0;
}

void judge_free(tg_judgement *j)
{
	message_free(&j->mail);
	words_free(j);
	policy_unref(j->policy);
	memset(j, 0, sizeof *j);
}

int judge_excerpt(const tg_judgement *j, const tg_finding *f, size_t max, sbuf *out)
{
	const char *ex = j->reply.agent ? j->reply.agent + f->ex_off : "";
	size_t n = j->reply.agent ? f->ex_len : 0, cut = n;
	if (max && n > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)ex[cut] & 0xc0) == 0x80)
			cut--;  /* not inside a UTF-8 sequence */
	}
	for (size_t i = 0; i < cut; i++)
		if (sbuf_putc(out, ex[i] == '\n' || ex[i] == '\t' || ex[i] == '\r' ? ' ' : ex[i]) < 0)
			return -1;
	return cut < n ? sbuf_puts(out, "...") : 0;
}
