/* judge — one raw message through the whole pipeline; see judge.h. */
#include "config.h"
#include "judge.h"
#include "html.h"

#include <stdlib.h>
#include <string.h>

void judge_init(void)
{
	html_init();
}

/* The address inside "Name <addr>" (or the value itself), into buf. */
static const char *bare_address(const char *v, char *buf, size_t n)
{
	const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	size_t len = lt && gt ? (size_t)(gt - lt - 1) : strlen(v);
	const char *s = lt && gt ? lt + 1 : v;
	while (len && (*s == ' ' || *s == '\t')) { s++; len--; }
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

static int scope_from_headers(const tg_policy *p, const tg_message *m, const tg_envelope *env)
{
	char from[320], to[320];
	const char *sender = env && env->sender ? env->sender : NULL;
	if (sender == NULL && message_header(m, "From"))
		sender = bare_address(message_header(m, "From"), from, sizeof from);
	if (env && env->rcpts)
		return policy_in_scope(p, sender, env->rcpts, env->nrcpt);
	const char *rcpt[1];
	size_t n = 0;
	if (message_header(m, "To"))
		rcpt[n++] = bare_address(message_header(m, "To"), to, sizeof to);
	return policy_in_scope(p, sender, rcpt, n);
}

int judge_message(tg_policy *p, tg_scratch *scratch, const char *raw, size_t len,
		  const tg_envelope *env, tg_judgement *j)
{
	memset(j, 0, sizeof *j);
	j->policy = policy_ref(p);
	j->status = message_parse(&p->limits, raw, len, &j->mail);
	if (j->status == TG_NOMEM)
		return -1;
	if (j->status != TG_OK && j->status != TG_NO_TEXT)
		return 0;
	j->in_scope = scope_from_headers(p, &j->mail, env);
	if (!j->in_scope || j->status != TG_OK)
		return 0;
	if (quote_split(j->mail.text, j->mail.text_len, &j->split) < 0)
		return -1;
	if (reply_build(&j->reply, j->split.agent.s ? j->split.agent.s : "", j->split.agent.len,
			p->limits.max_sentences) < 0)
		return -1;
	j->reply.signoff = j->split.signoff;
	if (j->reply.nsent == 0) {
		j->status = TG_NO_TEXT;
		return 0;
	}
	j->hits.max = p->max_hits;
	if (matcher_scan(p->matcher, scratch, j->reply.norm, j->reply.norm_len, &j->hits) < 0)
		return -1;

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
	tg_facts facts = {j->mail.bad_charset};
	engine_judge(rs, &j->reply, &j->hits, &facts, &j->verdict);
	return 0;
}

void judge_free(tg_judgement *j)
{
	message_free(&j->mail);
	quote_split_free(&j->split);
	reply_free(&j->reply);
	hits_free(&j->hits);
	policy_unref(j->policy);
	memset(j, 0, sizeof *j);
}
