/* policy — load, validate and compile the policy file; see policy.h. */
#include "config.h"
#include "policy.h"
#include "template.h"
#include "text.h"

#include <libconfig.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the table every rule is read and checked against ------------------ */

struct num_def { const char *key; double def, min, max; int integer; };

struct rule_def {
	const char *id;
	const char *lists[TG_MAXLISTS];
	unsigned required;            /* lists (bit i = lists[i]) needed when enabled */
	struct num_def nums[TG_MAXNUMS];
	int weight;
	tg_severity severity;
	tg_action floor;
	const char *message, *suggestion;
};

static const struct rule_def rule_defs[R_NRULES] = {
	[R_GREETING] = {"greeting", {"phrases"}, 1, {{"within_sentences", 2, 1, 50, 1}},
		2, TG_MINOR, TG_PASS, "The reply does not greet the customer.",
		"Open with a greeting that uses the customer's name, e.g. \"Hi Maria,\"."},
	[R_CLOSING] = {"closing", {"phrases"}, 1, {{"within_sentences", 3, 1, 50, 1}},
		1, TG_MINOR, TG_PASS, "The reply has no sign-off.",
		"End with a closing such as \"Best regards,\" and your name."},
	[R_CURT] = {"curt", {"refusals", "reasons", "alternatives", "warmth", "customer_upset"}, 1,
		{{"max_words", 50, 1, 100000, 1}, {"short_words", 6, 0, 1000, 1},
		 {"context_words", 12, 0, 1000, 1}, {"long_request_words", 60, 1, 100000, 1}},
		8, TG_MAJOR, TG_HOLD, "A curt reply: a bare \"no\" with no reason and no alternative.",
		"Say why, and offer what you can do instead: \"I'm sorry, but we can't ... because ...; what I can do is ...\"."},
	[R_EMPATHY] = {"empathy", {"phrases", "situations"}, 1, {{"upset_weight", 3, 0, 1000, 1}},
		2, TG_MINOR, TG_PASS, "The reply does not acknowledge the customer's situation.",
		"Acknowledge how they feel: \"I'm sorry about the trouble\", \"I understand\", \"I'm here to help\"."},
	[R_FALSE_EMPATHY] = {"false-empathy", {"phrases"}, 1, {{NULL, 0, 0, 0, 0}},
		8, TG_MAJOR, TG_HOLD, "\"I know how you feel\" rings false: you probably don't.",
		"Relate to the feeling instead: \"I can imagine how frustrating that is.\""},
	[R_OVER_APOLOGY] = {"over-apology", {"phrases"}, 1, {{"max_apologies", 3, 2, 100, 1}},
		3, TG_MINOR, TG_PASS, "Apologies repeated until they sound scripted.",
		"Apologise once, sincerely, then focus on the fix."},
	[R_DISMISSIVE] = {"dismissive", {"phrases", "mild_phrases"}, 1, {{"mild_weight", 3, 0, 1000, 1}},
		8, TG_MAJOR, TG_HOLD, "Words that minimise the problem or blame the customer.",
		"Take the customer's problem seriously and leave out blame."},
	[R_SHOUTING] = {"shouting", {NULL}, 0,
		{{"caps_ratio", 0.6, 0.1, 1.0, 0}, {"min_letters", 20, 1, 100000, 1},
		 {"min_words", 4, 1, 1000, 1}, {"max_exclamations", 1, 1, 100, 1}},
		3, TG_MINOR, TG_PASS, "Capitals or \"!!!\" read as shouting.",
		"Write in sentence case and use one exclamation mark at most."},
	[R_QUESTIONS] = {"questions", {NULL}, 0,
		{{"max_questions", 3, 1, 1000, 1}, {"question_share", 0.5, 0.0, 1.0, 0}},
		3, TG_MINOR, TG_PASS, "Many questions and little else: the customer is peppered with questions.",
		"Ask only what you need, explain why, and say what you will do with the answers."},
	[R_FOLLOW_UP] = {"follow-up", {"phrases"}, 1, {{"min_words", 20, 0, 100000, 1}},
		1, TG_INFO, TG_PASS, "No offer to confirm the fix worked.",
		"Close the loop: \"Let me know if this works for you.\""},
	[R_CHARSET] = {"charset", {NULL}, 0, {{NULL, 0, 0, 0, 0}},
		1, TG_INFO, TG_PASS, "The reply's character set is unknown; unreadable bytes were skipped.",
		"Send replies as UTF-8."},
};

/* ---- the texts of the rewrite and of notices ---------------------------- */

static const char *const rewrite_vars[] = {"first_name", "agent_name", NULL};
static const char *const notice_vars[] = {"id", "time", "agent", "recipient", "recipients", "subject",
	"message_id", "action", "score", "rules", "ruleset", "findings", "rewrite", "changes", NULL};

static const struct text_def {
	const char *section, *key;
	const char *const *vars;
	const char *def;
} text_defs[T_NTEXTS] = {
	[T_GREETING] = {"rewrite", "greeting", rewrite_vars, "Hi {first_name},"},
	[T_GREETING_NO_NAME] = {"rewrite", "greeting_no_name", rewrite_vars, "Hello,"},
	[T_EMPATHY] = {"rewrite", "empathy", rewrite_vars,
		"I understand how frustrating this must be, and I'm here to help."},
	[T_REFUSAL] = {"rewrite", "refusal", rewrite_vars, "I'm sorry, but we can't do that."},
	[T_REASON] = {"rewrite", "reason", rewrite_vars, "[Say why, and what you can do instead.]"},
	[T_FOLLOW_UP] = {"rewrite", "follow_up", rewrite_vars,
		"Please let me know if this solves it, or if there is anything else I can do."},
	[T_CLOSING] = {"rewrite", "closing", rewrite_vars, "Best regards,\n{agent_name}"},
	[T_HOLD_SUBJECT] = {"notice", "hold_subject", notice_vars, "Held: your reply to {recipient} ({subject})"},
	[T_HOLD_BODY] = {"notice", "hold_body", notice_vars,
		"Your reply to {recipient} was held by tonegate before it reached the customer.\n\n"
		"  Subject:  {subject}\n  To:       {recipients}\n  Sent:     {time}\n  Held as:  {id}\n\n"
		"Why it was held:\n\n{findings}\n"
		"A suggested rewrite of your words (fill in the parts in [brackets]: only you know them):\n\n"
		"{rewrite}\n\n"
		"What to do next:\n"
		"  - Edit your reply and send it again. The held copy is not delivered on its own.\n"
		"  - Or, if it should go out as written, ask a support manager to release it:\n"
		"      tonegatectl release {id}\n\n"
		"This is an automatic message from tonegate.\n"},
	[T_SUGGEST_SUBJECT] = {"notice", "suggest_subject", notice_vars, "Tip: your reply to {recipient} ({subject})"},
	[T_SUGGEST_BODY] = {"notice", "suggest_body", notice_vars,
		"Your reply to {recipient} ({subject}) has been delivered. {changes}\n\n"
		"A few things could make replies like it land better with customers:\n\n{findings}\n"
		"Here is how it could read (the parts in [brackets] are yours to fill in):\n\n"
		"{rewrite}\n\n"
		"Nothing needs doing for this message. This is an automatic coaching note from tonegate.\n"},
};

const char *policy_text_name(tg_text_id t) { return text_defs[t].key; }

static const char *const action_names[TG_NACTIONS] = {"pass", "suggest", "rewrite", "hold", "reject"};
static const char *const severity_names[TG_NSEVERITIES] = {"info", "minor", "major", "critical"};

const char *policy_rule_name(tg_rule_id r) { return rule_defs[r].id; }
const char *policy_action_name(tg_action a) { return action_names[a]; }
const char *policy_severity_name(tg_severity s) { return severity_names[s]; }

int policy_action_parse(const char *s, tg_action *a)
{
	for (int i = 0; i < TG_NACTIONS; i++)
		if (strcmp(s, action_names[i]) == 0) {
			*a = (tg_action)i;
			return 0;
		}
	return -1;
}

/* ---- loading ------------------------------------------------------------ */

struct ctx {
	tg_policy *p;
	const char *name;   /* file name for errors */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *file = s ? config_setting_source_file(s) : NULL;
	snprintf(c->err, c->errlen, "%s:%u: %s", file ? file : c->name,
		 s ? config_setting_source_line(s) : 0, msg);
	return -1;
}

/* "rules.greeting.weight" for messages. */
static const char *path_of(const config_setting_t *s, char *buf, size_t n)
{
	const char *parts[16];
	int k = 0;
	for (; s && config_setting_parent(s) && k < 16; s = config_setting_parent(s))
		parts[k++] = config_setting_name(s) ? config_setting_name(s) : "[]";
	buf[0] = '\0';
	size_t used = 0;
	while (k-- > 0 && used < n)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "." : "", parts[k]);
	return buf;
}

static int want_type(struct ctx *c, const config_setting_t *s, int type, const char *what)
{
	int t = config_setting_type(s);
	if (t == type || (type == CONFIG_TYPE_FLOAT && (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)) ||
	    (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return 0;
	char b[256];
	return fail(c, s, "%s must be %s", path_of(s, b, sizeof b), what);
}

static int get_string(struct ctx *c, const config_setting_t *s, char **out)
{
	if (want_type(c, s, CONFIG_TYPE_STRING, "a string in double quotes") < 0)
		return -1;
	char *v = strdup(config_setting_get_string(s));
	if (v == NULL)
		return fail(c, s, "out of memory");
	free(*out);
	*out = v;
	return 0;
}

static int get_number(struct ctx *c, const config_setting_t *s, double min, double max,
		      int integer, double *out)
{
	char b[256];
	if (want_type(c, s, integer ? CONFIG_TYPE_INT : CONFIG_TYPE_FLOAT,
		      integer ? "a whole number" : "a number") < 0)
		return -1;
	int t = config_setting_type(s);
	double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(c, s, "%s = %g is out of range: use %g to %g", path_of(s, b, sizeof b), v, min, max);
	*out = v;
	return 0;
}

static int is_list(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

/* Read a list of strings, calling add() for each. */
static int each_string(struct ctx *c, const config_setting_t *s,
		       int (*add)(struct ctx *, const config_setting_t *, const char *, void *), void *arg)
{
	char b[256];
	if (!is_list(s))
		return fail(c, s, "%s must be a list of strings: [ \"a\", \"b\" ]", path_of(s, b, sizeof b));
	int n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(c, e, "%s: every entry must be a string in double quotes", path_of(s, b, sizeof b));
		if (add(c, e, config_setting_get_string(e), arg) < 0)
			return -1;
	}
	return 0;
}

static int add_phrase(struct ctx *c, const config_setting_t *e, const char *v, void *arg)
{
	char msg[400], b[256];
	if (matcher_add(c->p->matcher, *(unsigned *)arg, v, msg, sizeof msg) < 0)
		return fail(c, e, "%s: %s", path_of(config_setting_parent(e), b, sizeof b), msg);
	return 0;
}

static int add_str(struct ctx *c, const config_setting_t *e, const char *v, void *arg)
{
	struct { char ***v; size_t *n; } *dst = arg;
	char **nv = realloc(*dst->v, (*dst->n + 1) * sizeof *nv);
	if (nv == NULL)
		return fail(c, e, "out of memory");
	*dst->v = nv;
	if ((nv[*dst->n] = strdup(v)) == NULL)
		return fail(c, e, "out of memory");
	(*dst->n)++;
	return 0;
}

static int read_strings(struct ctx *c, const config_setting_t *s, char ***v, size_t *n)
{
	struct { char ***v; size_t *n; } dst = {v, n};
	return each_string(c, s, add_str, &dst);
}

static int unknown_key(struct ctx *c, const config_setting_t *s, const char *known)
{
	char b[256];
	return fail(c, s, "unknown key \"%s\"; known keys here: %s", path_of(s, b, sizeof b), known);
}

/* mode = "enforce" | "monitor", for the policy, a rule set or a rule. */
static int read_mode(struct ctx *c, const config_setting_t *s, int *monitor)
{
	char b[256];
	const char *v = config_setting_get_string(s);
	if (v == NULL || (strcmp(v, "enforce") != 0 && strcmp(v, "monitor") != 0))
		return fail(c, s, "%s must be \"enforce\" or \"monitor\"", path_of(s, b, sizeof b));
	*monitor = v[0] == 'm';
	return 0;
}

/* monitor = { headers = true; notices = false; }; */
static int read_monitor(struct ctx *c, const config_setting_t *g)
{
	char b[256];
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: monitor = { headers = true; notices = false; };",
			    path_of(g, b, sizeof b));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		const char *key = config_setting_name(s);
		int *to = strcmp(key, "headers") == 0 ? &c->p->monitor_headers
			: strcmp(key, "notices") == 0 ? &c->p->monitor_notices : NULL;
		if (to == NULL)
			return unknown_key(c, s, "headers, notices");
		if (want_type(c, s, CONFIG_TYPE_BOOL, "true or false") < 0)
			return -1;
		*to = config_setting_get_bool(s);
	}
	return 0;
}

/* One rule's group: every key is checked against rule_defs. */
static int read_rule(struct ctx *c, const config_setting_t *g, tg_rule_id id, tg_rule *r)
{
	const struct rule_def *d = &rule_defs[id];
	char b[256], known[512];
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: %s = { ... };", path_of(g, b, sizeof b), d->id);
	int kn = snprintf(known, sizeof known, "enabled, mode, weight, severity, floor, message, suggestion");
	for (int i = 0; i < TG_MAXLISTS && d->lists[i]; i++)
		kn += snprintf(known + kn, sizeof known - (size_t)kn, ", %s", d->lists[i]);
	for (int i = 0; i < TG_MAXNUMS && d->nums[i].key; i++)
		kn += snprintf(known + kn, sizeof known - (size_t)kn, ", %s", d->nums[i].key);

	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		const char *key = config_setting_name(s);
		double v;
		if (strcmp(key, "enabled") == 0) {
			if (want_type(c, s, CONFIG_TYPE_BOOL, "true or false") < 0)
				return -1;
			r->enabled = config_setting_get_bool(s);
		} else if (strcmp(key, "weight") == 0) {
			if (get_number(c, s, 0, 1000, 1, &v) < 0)
				return -1;
			r->weight = (int)v;
		} else if (strcmp(key, "severity") == 0 || strcmp(key, "floor") == 0) {
			char *str = NULL;
			if (get_string(c, s, &str) < 0)
				return -1;
			int ok = 0;
			if (key[0] == 's') {
				for (int i = 0; i < TG_NSEVERITIES; i++)
					if (strcmp(str, severity_names[i]) == 0) { r->severity = (tg_severity)i; ok = 1; }
			} else {
				ok = policy_action_parse(str, &r->floor) == 0;
			}
			free(str);
			if (!ok)
				return fail(c, s, "%s: unknown value; use %s", path_of(s, b, sizeof b),
					    key[0] == 's' ? "info, minor, major or critical"
							  : "pass, suggest, rewrite, hold or reject");
		} else if (strcmp(key, "mode") == 0) {
			if (read_mode(c, s, &r->monitor) < 0)
				return -1;
		} else if (strcmp(key, "message") == 0) {
			if (get_string(c, s, &r->message) < 0)
				return -1;
		} else if (strcmp(key, "suggestion") == 0) {
			if (get_string(c, s, &r->suggestion) < 0)
				return -1;
		} else {
			int done = 0;
			for (int i = 0; i < TG_MAXLISTS && d->lists[i] && !done; i++) {
				if (strcmp(key, d->lists[i]) != 0)
					continue;
				unsigned list = c->p->nlists++;
				if (each_string(c, s, add_phrase, &list) < 0)
					return -1;
				r->list[i] = config_setting_length(s) ? (int)list : TG_NOLIST;
				done = 1;
			}
			for (int i = 0; i < TG_MAXNUMS && d->nums[i].key && !done; i++) {
				if (strcmp(key, d->nums[i].key) != 0)
					continue;
				if (get_number(c, s, d->nums[i].min, d->nums[i].max, d->nums[i].integer, &r->num[i]) < 0)
					return -1;
				done = 1;
			}
			if (!done)
				return unknown_key(c, s, known);
		}
	}
	return 0;
}

static void rule_defaults(tg_rule_id id, tg_rule *r)
{
	const struct rule_def *d = &rule_defs[id];
	memset(r, 0, sizeof *r);
	r->enabled = 1;
	r->weight = d->weight;
	r->severity = d->severity;
	r->floor = d->floor;
	for (int i = 0; i < TG_MAXLISTS; i++)
		r->list[i] = TG_NOLIST;
	for (int i = 0; i < TG_MAXNUMS; i++)
		r->num[i] = d->nums[i].def;
	r->message = strdup(d->message);
	r->suggestion = strdup(d->suggestion);
}

static int read_rules(struct ctx *c, const config_setting_t *g, tg_ruleset *rs)
{
	char b[256], known[300] = "";
	size_t kn = 0;
	for (int i = 0; i < R_NRULES; i++)
		kn += (size_t)snprintf(known + kn, sizeof known - kn, "%s%s", i ? ", " : "", rule_defs[i].id);
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: rules = { ... };", path_of(g, b, sizeof b));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		int id = -1;
		for (int i = 0; i < R_NRULES; i++)
			if (strcmp(config_setting_name(s), rule_defs[i].id) == 0)
				id = i;
		if (id < 0)
			return fail(c, s, "unknown rule \"%s\"; the rules are: %s", config_setting_name(s), known);
		if (read_rule(c, s, (tg_rule_id)id, &rs->rule[id]) < 0)
			return -1;
	}
	return 0;
}

/* Rules that are on must have the phrase lists they judge with. */
static int check_rules(struct ctx *c, const config_setting_t *where, const tg_ruleset *rs)
{
	for (int id = 0; id < R_NRULES; id++) {
		const tg_rule *r = &rs->rule[id];
		const struct rule_def *d = &rule_defs[id];
		if (!r->enabled)
			continue;
		for (int i = 0; i < TG_MAXLISTS; i++)
			if ((d->required >> i & 1) && r->list[i] == TG_NOLIST)
				return fail(c, where, "rule set \"%s\": rule %s is enabled but %s is empty; "
					    "add phrases or set %s.enabled = false", rs->name, d->id,
					    d->lists[i], d->id);
	}
	return 0;
}

static int read_thresholds(struct ctx *c, const config_setting_t *g, tg_ruleset *rs)
{
	char b[256];
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: thresholds = { suggest = 3; hold = 8; };",
			    path_of(g, b, sizeof b));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		tg_action a;
		double v;
		if (policy_action_parse(config_setting_name(s), &a) < 0 || a == TG_PASS)
			return unknown_key(c, s, "suggest, rewrite, hold, reject");
		if (get_number(c, s, -1, 100000, 1, &v) < 0)
			return -1;
		if (v == 0)
			return fail(c, s, "%s = 0 would apply to every message; use -1 to turn it off",
				    path_of(s, b, sizeof b));
		rs->threshold[a] = (int)v;
	}
	/* Each action that is on needs a higher score than the one below it. */
	int prev = 0;
	tg_action pa = TG_PASS;
	for (int a = TG_SUGGEST; a < TG_NACTIONS; a++) {
		if (rs->threshold[a] < 0)
			continue;
		if (rs->threshold[a] <= prev)
			return fail(c, g, "impossible thresholds in rule set \"%s\": %s = %d must be above %s = %d",
				    rs->name, action_names[a], rs->threshold[a], action_names[pa], prev);
		prev = rs->threshold[a];
		pa = (tg_action)a;
	}
	return 0;
}

static int read_match(struct ctx *c, const config_setting_t *l, tg_ruleset *rs)
{
	char b[256];
	if (!is_list(l) || config_setting_length(l) == 0)
		return fail(c, l, "%s must be a non-empty list of { header = \"...\"; pattern = \"...\"; }",
			    path_of(l, b, sizeof b));
	int n = config_setting_length(l);
	rs->match = calloc((size_t)n, sizeof *rs->match);
	if (rs->match == NULL)
		return fail(c, l, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		const char *hdr = NULL, *pat = NULL;
		if (!config_setting_is_group(g))
			return fail(c, g, "%s: each entry is { header = \"...\"; pattern = \"...\"; }", path_of(l, b, sizeof b));
		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
			const char **dst = strcmp(config_setting_name(s), "header") == 0 ? &hdr :
					   strcmp(config_setting_name(s), "pattern") == 0 ? &pat : NULL;
			if (dst == NULL)
				return unknown_key(c, s, "header, pattern");
			if (want_type(c, s, CONFIG_TYPE_STRING, "a string in double quotes") < 0)
				return -1;
			*dst = config_setting_get_string(s);
		}
		if (hdr == NULL || pat == NULL)
			return fail(c, g, "%s: both header and pattern are needed", path_of(l, b, sizeof b));
		int ec;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
		if (re == NULL) {
			PCRE2_UCHAR m[160];
			pcre2_get_error_message(ec, m, sizeof m);
			return fail(c, g, "bad pattern \"%s\": %s at offset %zu", pat, (char *)m, (size_t)off);
		}
		rs->match[i].re = re;
		rs->nmatch++;
		if ((rs->match[i].header = strdup(hdr)) == NULL)
			return fail(c, g, "out of memory");
	}
	return 0;
}

static int copy_ruleset(tg_ruleset *dst, const tg_ruleset *src)
{
	*dst = *src;
	dst->name = NULL;
	dst->match = NULL;
	dst->nmatch = 0;
	for (int i = 0; i < R_NRULES; i++) {
		dst->rule[i].message = strdup(src->rule[i].message);
		dst->rule[i].suggestion = strdup(src->rule[i].suggestion);
		if (!dst->rule[i].message || !dst->rule[i].suggestion)
			return -1;
	}
	return 0;
}

static int read_rulesets(struct ctx *c, const config_setting_t *l)
{
	char b[256];
	if (!config_setting_is_list(l))
		return fail(c, l, "%s must be a list of groups: rulesets = ( { name = \"...\"; ... } );",
			    path_of(l, b, sizeof b));
	int n = config_setting_length(l);
	tg_ruleset *v = realloc(c->p->set, (size_t)(n + 1) * sizeof *v);
	if (v == NULL)
		return fail(c, l, "out of memory");
	c->p->set = v;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		tg_ruleset *rs = &c->p->set[c->p->nset];
		memset(rs, 0, sizeof *rs);
		if (!config_setting_is_group(g))
			return fail(c, g, "rulesets: each entry is a group { name = \"...\"; match = (...); rules = {...}; }");
		if (copy_ruleset(rs, &c->p->set[0]) < 0)
			return fail(c, g, "out of memory");
		c->p->nset++;
		const config_setting_t *s;
		if ((s = config_setting_get_member(g, "name")) == NULL)
			return fail(c, g, "rulesets: every rule set needs a name");
		if (get_string(c, s, &rs->name) < 0)
			return -1;
		for (size_t j = 0; j + 1 < c->p->nset; j++)
			if (strcmp(c->p->set[j].name, rs->name) == 0)
				return fail(c, s, "rule set name \"%s\" is used twice", rs->name);
		if ((s = config_setting_get_member(g, "match")) == NULL)
			return fail(c, g, "rule set \"%s\" needs match = ( { header = \"...\"; pattern = \"...\"; } );", rs->name);
		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *m = config_setting_get_elem(g, (unsigned)k);
			const char *key = config_setting_name(m);
			int rc = 0;
			if (strcmp(key, "match") == 0)
				rc = read_match(c, m, rs);
			else if (strcmp(key, "rules") == 0)
				rc = read_rules(c, m, rs);
			else if (strcmp(key, "thresholds") == 0)
				rc = read_thresholds(c, m, rs);
			else if (strcmp(key, "mode") == 0)
				rc = read_mode(c, m, &rs->monitor);
			else if (strcmp(key, "name") != 0)
				rc = unknown_key(c, m, "name, match, mode, rules, thresholds");
			if (rc < 0)
				return -1;
		}
		if (check_rules(c, g, rs) < 0)
			return -1;
	}
	return 0;
}

static int read_scope(struct ctx *c, const config_setting_t *g)
{
	char b[256];
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: scope = { ... };", path_of(g, b, sizeof b));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		const char *key = config_setting_name(s);
		if (strcmp(key, "senders") == 0) {
			if (read_strings(c, s, &c->p->senders, &c->p->nsenders) < 0)
				return -1;
			for (size_t i = 0; i < c->p->nsenders; i++)
				if (strchr(c->p->senders[i], '@') == NULL)
					return fail(c, s, "scope.senders: \"%s\" is neither an address nor an @domain",
						    c->p->senders[i]);
		} else if (strcmp(key, "skip_recipient_domains") == 0) {
			if (read_strings(c, s, &c->p->skip_rcpt_domains, &c->p->nskip) < 0)
				return -1;
		} else {
			return unknown_key(c, s, "senders, skip_recipient_domains");
		}
	}
	return 0;
}

static const struct { const char *key; size_t off; int is_size; double min, max; } limit_keys[] = {
	{"max_message_size", offsetof(tg_limits, max_message_size), 1, 1024, 1e9},
	{"max_decoded_size", offsetof(tg_limits, max_decoded_size), 1, 1024, 1e9},
	{"max_html_size", offsetof(tg_limits, max_html_size), 1, 1024, 1e9},
	{"max_depth", offsetof(tg_limits, max_depth), 0, 1, 60},
	{"max_parts", offsetof(tg_limits, max_parts), 0, 1, 1e6},
	{"max_sentences", offsetof(tg_limits, max_sentences), 0, 1, 1e6},
	{"max_context_size", offsetof(tg_limits, max_context_size), 1, 256, 1e9},
};

static int read_limits(struct ctx *c, const config_setting_t *g)
{
	char b[256];
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: limits = { ... };", path_of(g, b, sizeof b));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		const char *key = config_setting_name(s);
		double v;
		int done = 0;
		if (strcmp(key, "max_hits") == 0) {
			if (get_number(c, s, 16, 1e7, 1, &v) < 0)
				return -1;
			c->p->max_hits = (unsigned)v;
			continue;
		}
		for (size_t i = 0; i < sizeof limit_keys / sizeof limit_keys[0]; i++) {
			if (strcmp(key, limit_keys[i].key) != 0)
				continue;
			if (get_number(c, s, limit_keys[i].min, limit_keys[i].max, 1, &v) < 0)
				return -1;
			char *f = (char *)&c->p->limits + limit_keys[i].off;
			if (limit_keys[i].is_size)
				*(size_t *)f = (size_t)v;
			else
				*(unsigned *)f = (unsigned)v;
			done = 1;
		}
		if (!done)
			return unknown_key(c, s, "max_message_size, max_decoded_size, max_html_size, "
					   "max_depth, max_parts, max_sentences, max_context_size, max_hits");
	}
	return 0;
}

/* ---- rewrite = { ... }; and notice = { ... }; --------------------------- */

static int read_text(struct ctx *c, const config_setting_t *s, tg_text_id t)
{
	char bad[64], b[256];
	if (get_string(c, s, &c->p->text[t]) < 0)
		return -1;
	if (template_check(c->p->text[t], text_defs[t].vars, bad, sizeof bad) < 0) {
		char known[300] = "";
		for (size_t i = 0; text_defs[t].vars[i]; i++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s{%s}", i ? ", " : "",
				 text_defs[t].vars[i]);
		return fail(c, s, "%s: unknown variable %s; known here: %s", path_of(s, b, sizeof b), bad, known);
	}
	return 0;
}

/* Every "$n" / "${n}" of a replacement names a group the pattern has. */
static int check_replacement(struct ctx *c, const config_setting_t *e, const char *to, pcre2_code *re)
{
	uint32_t groups = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	for (const char *p = to; (p = strchr(p, '$')) != NULL; p++) {
		if (p[1] == '$') {
			p++;
			continue;
		}
		const char *d = p + 1 + (p[1] == '{');
		if (*d < '0' || *d > '9')
			return fail(c, e, "rewrite.substitutions: \"%s\": use $1..$9 for the pattern's groups "
				    "and $$ for a dollar sign", to);
		unsigned long n = strtoul(d, NULL, 10);
		if (n > groups)
			return fail(c, e, "rewrite.substitutions: \"%s\" uses $%lu but the pattern has %u "
				    "group(s)", to, n, groups);
	}
	return 0;
}

/* A list of string pairs, ( ( "a", "b" ), ... ): fn for each pair. */
typedef int (*pair_fn)(struct ctx *c, int i, const config_setting_t *a, const config_setting_t *b, void *arg);

static int each_pair(struct ctx *c, const config_setting_t *l, const char *what, const char *shape,
		     pair_fn fn, void *arg)
{
	if (!is_list(l))
		return fail(c, l, "%s must be a list of pairs: ( %s )", what, shape);
	for (int i = 0; i < config_setting_length(l); i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const config_setting_t *a = is_list(e) && config_setting_length(e) == 2 ?
			config_setting_get_elem(e, 0) : NULL;
		const config_setting_t *b = a ? config_setting_get_elem(e, 1) : NULL;
		if (a == NULL || config_setting_type(a) != CONFIG_TYPE_STRING ||
		    config_setting_type(b) != CONFIG_TYPE_STRING)
			return fail(c, e, "%s: each entry is a pair of strings: %s", what, shape);
		if (fn(c, i, a, b, arg) < 0)
			return -1;
	}
	return 0;
}

static int add_subst(struct ctx *c, int i, const config_setting_t *a, const config_setting_t *b, void *arg)
{
	tg_subst *v = arg;
	int ec;
	PCRE2_SIZE eo;
	const char *pat = config_setting_get_string(a);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
				       PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
	if (re == NULL) {
		PCRE2_UCHAR m[200];
		pcre2_get_error_message(ec, m, sizeof m);
		return fail(c, a, "rewrite.substitutions: \"%s\" at offset %zu: %s", pat, (size_t)eo, (char *)m);
	}
	v[i].re = re;
	c->p->nsubst = (size_t)i + 1;
	if ((v[i].to = strdup(config_setting_get_string(b))) == NULL)
		return fail(c, b, "out of memory");
	return check_replacement(c, b, v[i].to, re);
}

/* substitutions = ( ( "pattern", "replacement" ), ... ); */
static int read_substitutions(struct ctx *c, const config_setting_t *l)
{
	tg_subst *v = calloc(is_list(l) ? (size_t)config_setting_length(l) + 1 : 1, sizeof *v);
	if (v == NULL)
		return fail(c, l, "out of memory");
	c->p->subst = v;
	return each_pair(c, l, "rewrite.substitutions", "( \"pattern\", \"replacement\" )", add_subst, v);
}

static int add_agent(struct ctx *c, int i, const config_setting_t *a, const config_setting_t *b, void *arg)
{
	char **v = arg;
	const char *from = config_setting_get_string(a), *to = config_setting_get_string(b);
	if (strchr(from, '@') == NULL)
		return fail(c, a, "notice.agent_map: \"%s\" is neither an address nor an @domain", from);
	if (strchr(to, '@') == NULL || to[0] == '@' || strpbrk(to, " \t\r\n<>,"))
		return fail(c, b, "notice.agent_map: \"%s\" is not an address", to);
	c->p->nagent_map = (size_t)i + 1;
	if ((v[2 * i] = strdup(from)) == NULL || (v[2 * i + 1] = strdup(to)) == NULL)
		return fail(c, a, "out of memory");
	return 0;
}

/* agent_map = ( ( "shared@acme.example", "raj@acme.example" ), ( "@desk.acme.example", "leads@acme.example" ) ); */
static int read_agent_map(struct ctx *c, const config_setting_t *l)
{
	char **v = calloc(is_list(l) ? 2 * (size_t)config_setting_length(l) + 1 : 1, sizeof *v);
	if (v == NULL)
		return fail(c, l, "out of memory");
	c->p->agent_map = v;
	return each_pair(c, l, "notice.agent_map", "( \"sender or @domain\", \"address\" )", add_agent, v);
}

static int read_notice_to(struct ctx *c, const config_setting_t *s)
{
	static const char *const to[] = {"none", "agent", "managers", "both"};
	if (want_type(c, s, CONFIG_TYPE_STRING, "\"agent\", \"managers\", \"both\" or \"none\"") < 0)
		return -1;
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(config_setting_get_string(s), to[i]) == 0) {
			c->p->notice_to = i;  /* the bits: agent 1, managers 2 */
			return 0;
		}
	return fail(c, s, "notice.to = \"%s\": use \"agent\", \"managers\", \"both\" or \"none\"",
		    config_setting_get_string(s));
}

/* The group rewrite or notice: its texts and its own keys. */
static int read_texts(struct ctx *c, const config_setting_t *g, const char *section)
{
	char b[256], known[400] = "";
	int rewrite = strcmp(section, "rewrite") == 0;
	if (!config_setting_is_group(g))
		return fail(c, g, "%s must be a group: %s = { ... };", path_of(g, b, sizeof b), section);
	for (int t = 0; t < T_NTEXTS; t++)
		if (strcmp(text_defs[t].section, section) == 0)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s, ", text_defs[t].key);
	strncat(known, rewrite ? "substitutions" : "to, managers, agent_map, suggest", sizeof known - strlen(known) - 1);
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
		const char *key = config_setting_name(s);
		int t = 0, rc;
		while (t < T_NTEXTS && (strcmp(text_defs[t].section, section) || strcmp(text_defs[t].key, key)))
			t++;
		if (t < T_NTEXTS)
			rc = read_text(c, s, (tg_text_id)t);
		else if (rewrite && strcmp(key, "substitutions") == 0)
			rc = read_substitutions(c, s);
		else if (!rewrite && strcmp(key, "to") == 0)
			rc = read_notice_to(c, s);
		else if (!rewrite && strcmp(key, "agent_map") == 0)
			rc = read_agent_map(c, s);
		else if (!rewrite && strcmp(key, "managers") == 0) {
			rc = read_strings(c, s, &c->p->managers, &c->p->nmanagers);
			for (size_t i = 0; rc == 0 && i < c->p->nmanagers; i++)
				if (strchr(c->p->managers[i], '@') == NULL || strpbrk(c->p->managers[i], " \t\r\n<>,"))
					rc = fail(c, s, "notice.managers: \"%s\" is not an address", c->p->managers[i]);
		} else if (!rewrite && strcmp(key, "suggest") == 0) {
			rc = want_type(c, s, CONFIG_TYPE_BOOL, "true or false");
			c->p->notice_suggest = rc == 0 && config_setting_get_bool(s);
		} else
			rc = unknown_key(c, s, known);
		if (rc < 0)
			return -1;
	}
	if (!rewrite && (c->p->notice_to & TG_NOTICE_MANAGERS) && c->p->nmanagers == 0)
		return fail(c, g, "notice.to sends to managers but notice.managers is empty: add their addresses");
	return 0;
}

static void ruleset_free(tg_ruleset *rs)
{
	free(rs->name);
	for (int i = 0; i < R_NRULES; i++) {
		free(rs->rule[i].message);
		free(rs->rule[i].suggestion);
	}
	for (size_t i = 0; i < rs->nmatch; i++) {
		free(rs->match[i].header);
		pcre2_code_free(rs->match[i].re);
	}
	free(rs->match);
}

static void policy_free(tg_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nset; i++)
		ruleset_free(&p->set[i]);
	free(p->set);
	for (size_t i = 0; i < p->nsenders; i++)
		free(p->senders[i]);
	free(p->senders);
	for (size_t i = 0; i < p->nskip; i++)
		free(p->skip_rcpt_domains[i]);
	free(p->skip_rcpt_domains);
	matcher_free(p->matcher);
	for (int t = 0; t < T_NTEXTS; t++)
		free(p->text[t]);
	for (size_t i = 0; i < p->nsubst; i++) {
		pcre2_code_free(p->subst[i].re);
		free(p->subst[i].to);
	}
	free(p->subst);
	for (size_t i = 0; i < p->nmanagers; i++)
		free(p->managers[i]);
	free(p->managers);
	for (size_t i = 0; i < 2 * p->nagent_map; i++)
		free(p->agent_map[i]);
	free(p->agent_map);
	free(p->path);
	free(p);
}

static tg_policy *load(config_t *cf, int ok, const char *name, char *err, size_t errlen)
{
	struct ctx c = {NULL, name, err, errlen};
	if (!ok) {
		snprintf(err, errlen, "%s:%d: %s", config_error_file(cf) ? config_error_file(cf) : name,
			 config_error_line(cf), config_error_text(cf));
		return NULL;
	}
	tg_policy *p = calloc(1, sizeof *p);
	c.p = p;
	if (p == NULL || (p->set = calloc(1, sizeof *p->set)) == NULL ||
	    (p->matcher = matcher_new()) == NULL || (p->path = strdup(name)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		policy_free(p);
		return NULL;
	}
	p->refs = 1;
	p->nset = 1;
	p->limits = (tg_limits)TG_LIMITS_DEFAULT;
	p->max_hits = 10000;
	tg_ruleset *def = &p->set[0];
	def->name = strdup("default");
	for (int i = 0; i < R_NRULES; i++)
		rule_defaults((tg_rule_id)i, &def->rule[i]);
	def->threshold[TG_PASS] = 0;
	def->threshold[TG_SUGGEST] = 3;
	def->threshold[TG_REWRITE] = -1;
	def->threshold[TG_HOLD] = 16;
	def->threshold[TG_REJECT] = -1;

	const config_setting_t *root = config_root_setting(cf), *s;
	/* Order matters: rule sets inherit the default rules and thresholds. */
	static const char *const top[] = {"rules", "thresholds", "scope", "limits", "rulesets", "rewrite",
					  "notice", "version", "mode", "monitor", NULL};
	for (int k = 0; k < config_setting_length(root); k++) {
		s = config_setting_get_elem(root, (unsigned)k);
		int known = 0;
		for (int i = 0; top[i]; i++)
			known |= strcmp(config_setting_name(s), top[i]) == 0;
		if (!known) {
			unknown_key(&c, s, "mode, monitor, rules, thresholds, rulesets, scope, limits, rewrite, notice, "
				    "version");
			goto fail;
		}
	}
	if ((s = config_setting_get_member(root, "version")) && want_type(&c, s, CONFIG_TYPE_INT, "1") < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "rules")) == NULL) {
		snprintf(err, errlen, "%s:1: no rules = { ... }; group: a policy needs its phrase lists", name);
		goto fail;
	}
	if (read_rules(&c, s, def) < 0 || check_rules(&c, s, def) < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "thresholds")) && read_thresholds(&c, s, def) < 0)
		goto fail;
	/* Before the rule sets: they inherit the default set's mode. */
	if ((s = config_setting_get_member(root, "mode")) && read_mode(&c, s, &def->monitor) < 0)
		goto fail;
	p->monitor_headers = 1;
	if ((s = config_setting_get_member(root, "monitor")) && read_monitor(&c, s) < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "scope")) && read_scope(&c, s) < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "limits")) && read_limits(&c, s) < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "rulesets")) && read_rulesets(&c, s) < 0)
		goto fail;
	p->notice_to = TG_NOTICE_AGENT;
	p->notice_suggest = 1;
	if ((s = config_setting_get_member(root, "rewrite")) && read_texts(&c, s, "rewrite") < 0)
		goto fail;
	if ((s = config_setting_get_member(root, "notice")) && read_texts(&c, s, "notice") < 0)
		goto fail;
	for (int t = 0; t < T_NTEXTS; t++)
		if (p->text[t] == NULL && (p->text[t] = strdup(text_defs[t].def)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", name);
			goto fail;
		}
	char msg[400];
	if (matcher_compile(p->matcher, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "%s:1: %s", name, msg);
		goto fail;
	}
	return p;
fail:
	policy_free(p);
	return NULL;
}

/* The policy's version: 64-bit FNV-1a of its bytes, so a verdict names the
 * exact policy that gave it (an @include'd file is not part of it). */
static void version_add(uint64_t *h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ULL;
}

static void version_set(tg_policy *p, uint64_t h)
{
	snprintf(p->version, sizeof p->version, "%016llx", (unsigned long long)h);
}

static void version_of_file(tg_policy *p, const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return;  /* read a moment ago: the version stays "" */
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		version_add(&h, buf, n);
	fclose(f);
	version_set(p, h);
}

tg_policy *policy_load(const char *path, char *err, size_t errlen)
{
	config_t cf;
	config_init(&cf);
	int ok = config_read_file(&cf, path) == CONFIG_TRUE;
	if (!ok && config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
		snprintf(err, errlen, "%s: cannot read the policy file: %s (the policy setting names it)", path,
			 text_read_error(path));
		config_destroy(&cf);
		return NULL;
	}
	tg_policy *p = load(&cf, ok, path, err, errlen);
	config_destroy(&cf);
	if (p)
		version_of_file(p, path);
	return p;
}

tg_policy *policy_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	config_t cf;
	config_init(&cf);
	int ok = config_read_string(&cf, text) == CONFIG_TRUE;
	tg_policy *p = load(&cf, ok, name, err, errlen);
	config_destroy(&cf);
	if (p) {
		uint64_t h = 0xcbf29ce484222325ULL;
		version_add(&h, text, strlen(text));
		version_set(p, h);
	}
	return p;
}

tg_policy *policy_ref(tg_policy *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void policy_unref(tg_policy *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(p);
}

const tg_ruleset *policy_select(const tg_policy *p, const char *const *names,
				const char *const *values, size_t n)
{
	pcre2_match_data *md = NULL;
	for (size_t s = 1; s < p->nset; s++) {
		const tg_ruleset *rs = &p->set[s];
		for (size_t m = 0; m < rs->nmatch; m++) {
			for (size_t h = 0; h < n; h++) {
				if (strcasecmp(names[h], rs->match[m].header) != 0)
					continue;
				if (md == NULL && (md = pcre2_match_data_create(4, NULL)) == NULL)
					return &p->set[0];
				if (pcre2_match(rs->match[m].re, (PCRE2_SPTR)values[h], strlen(values[h]),
						0, 0, md, NULL) >= 0) {
					pcre2_match_data_free(md);
					return rs;
				}
			}
		}
	}
	pcre2_match_data_free(md);
	return &p->set[0];
}

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : addr;
}

/* Is addr the address e, or in the domain "@e"? */
static int address_is(const char *addr, const char *e)
{
	return e[0] == '@' ? strcasecmp(domain_of(addr), e + 1) == 0 : strcasecmp(addr, e) == 0;
}

const char *policy_agent_address(const tg_policy *p, const char *sender)
{
	for (size_t i = 0; sender && i < p->nagent_map; i++)
		if (address_is(sender, p->agent_map[2 * i]))
			return p->agent_map[2 * i + 1];
	return sender;
}

int policy_in_scope(const tg_policy *p, const char *sender, const char *const *rcpts, size_t nrcpt)
{
	if (p->nsenders && sender) {
		int hit = 0;
		for (size_t i = 0; i < p->nsenders && !hit; i++)
			hit = address_is(sender, p->senders[i]);
		if (!hit)
			return 0;
	}
	if (p->nskip && nrcpt) {
		for (size_t r = 0; r < nrcpt; r++) {
			int skip = 0;
			for (size_t i = 0; i < p->nskip && !skip; i++)
				skip = strcasecmp(domain_of(rcpts[r]), p->skip_rcpt_domains[i]) == 0;
			if (!skip)
				return 1;  /* one outside recipient is enough to judge */
		}
		return 0;
	}
	return 1;
}
