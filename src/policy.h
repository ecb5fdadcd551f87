/*
 * policy — the policy file support managers tune (libconfig): rules with
 * their phrase lists, weights and numbers, thresholds that map a score to an
 * action, rule sets chosen by headers, the scope of gated mail and the limits
 * of judging. Loaded, validated and compiled once (one matcher for every
 * list); every error is refused as "file:line: message".
 *
 * A loaded tg_policy is immutable: share it between threads freely, take a
 * reference with policy_ref() and drop it with policy_unref(); the last
 * unref frees it. policy_load is thread-safe (no globals).
 */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include <stddef.h>
#include "tg_limits.h"
#include "matcher.h"

typedef enum tg_action { TG_PASS, TG_SUGGEST, TG_REWRITE, TG_HOLD, TG_REJECT, TG_NACTIONS } tg_action;
typedef enum tg_severity { TG_INFO, TG_MINOR, TG_MAJOR, TG_CRITICAL, TG_NSEVERITIES } tg_severity;

typedef enum tg_rule_id {
	R_GREETING, R_CLOSING, R_CURT, R_EMPATHY, R_FALSE_EMPATHY, R_OVER_APOLOGY,
	R_DISMISSIVE, R_SHOUTING, R_QUESTIONS, R_FOLLOW_UP, R_CHARSET, R_NRULES
} tg_rule_id;

enum { TG_MAXLISTS = 5, TG_MAXNUMS = 5, TG_NOLIST = -1 };

/* Index names for the lists and numbers of each rule (see rule_defs). */
enum { L_PHRASES = 0, L_MILD = 1 };                          /* most rules */
enum { L_REFUSALS = 0, L_REASONS = 1, L_ALTERNATIVES = 2, L_WARMTH = 3, L_UPSET = 4 }; /* curt */
enum { N_WITHIN = 0 };                                       /* greeting, closing */
enum { N_MAX_WORDS = 0, N_SHORT_WORDS = 1, N_CONTEXT_WORDS = 2, N_LONG_REQUEST = 3 }; /* curt */
enum { N_UPSET_WEIGHT = 0 };                                 /* empathy */
enum { L_SITUATIONS = 1 };                                   /* empathy */
enum { N_FU_MIN_WORDS = 0 };                                 /* follow-up */
enum { N_MAX_APOLOGIES = 0 };                                /* over-apology */
enum { N_MILD_WEIGHT = 0 };                                  /* dismissive */
enum { N_CAPS_RATIO = 0, N_MIN_LETTERS = 1, N_MIN_WORDS = 2, N_MAX_BANGS = 3 }; /* shouting */
enum { N_MAX_QUESTIONS = 0, N_QUESTION_SHARE = 1 };          /* questions */

typedef struct tg_rule {
	int enabled;
	int weight;
	tg_severity severity;
	tg_action floor;           /* the least action a finding forces */
	int list[TG_MAXLISTS];     /* matcher list ids, TG_NOLIST when empty */
	double num[TG_MAXNUMS];
	int monitor;               /* mode = "monitor": found and recorded, never acted on */
	char *message;             /* what is wrong, for a person */
	char *suggestion;          /* what to do instead */
} tg_rule;

typedef struct tg_hdrmatch {
	char *header;
	void *re;                  /* pcre2_code */
} tg_hdrmatch;

typedef struct tg_ruleset {
	char *name;
	tg_rule rule[R_NRULES];
	int threshold[TG_NACTIONS];/* least score for each action, -1 = never */
	tg_hdrmatch *match;        /* any one selects this set */
	size_t nmatch;
	int monitor;               /* mode = "monitor": the whole set only records */
} tg_ruleset;

/* The texts of the rewrite and of notices (see template.h for "{name}"). */
typedef enum tg_text_id {
	T_GREETING, T_GREETING_NO_NAME, T_EMPATHY, T_REFUSAL, T_REASON, T_FOLLOW_UP, T_CLOSING,
	T_HOLD_SUBJECT, T_HOLD_BODY, T_SUGGEST_SUBJECT, T_SUGGEST_BODY, T_NTEXTS
} tg_text_id;

typedef struct tg_subst {      /* rewrite.substitutions: one sentence edit */
	void *re;                  /* pcre2_code, caseless */
	char *to;                  /* pcre2_substitute replacement ("$1") */
} tg_subst;

enum { TG_NOTICE_AGENT = 1, TG_NOTICE_MANAGERS = 2 };

typedef struct tg_policy {
	char *path;
	tg_ruleset *set;           /* set[0] is "default" */
	size_t nset;
	char **senders;            /* gated senders: "a@b", "@domain"; none = all */
	size_t nsenders;
	char **skip_rcpt_domains;  /* mail only to these domains is not judged */
	size_t nskip;
	tg_limits limits;
	unsigned max_hits;
	tg_matcher *matcher;
	unsigned nlists;
	char *text[T_NTEXTS];      /* rewrite.* and notice.* texts */
	tg_subst *subst;           /* rewrite.substitutions, in order */
	size_t nsubst;
	unsigned notice_to;        /* TG_NOTICE_* bits; 0 = no notices */
	char **managers;           /* notice.managers addresses */
	size_t nmanagers;
	char **agent_map;          /* notice.agent_map: pairs (address or @domain, address) */
	size_t nagent_map;         /* pairs */
	int notice_suggest;        /* coaching notices for suggest and rewrite */
	int monitor_headers;       /* monitor.headers: header on monitored mail */
	int monitor_notices;       /* monitor.notices: coaching note for what would be done */
	char version[17];          /* 64-bit FNV-1a of the file's bytes, hex: which policy judged */
	unsigned refs;
} tg_policy;

/* Load and compile a policy. On failure returns NULL and writes
 * "file:line: message" into err. */
tg_policy *policy_load(const char *path, char *err, size_t errlen);
/* The same from a string (for tests and fuzzing); name is used in errors. */
tg_policy *policy_load_string(const char *text, const char *name, char *err, size_t errlen);

tg_policy *policy_ref(tg_policy *p);
void policy_unref(tg_policy *p);

const char *policy_rule_name(tg_rule_id r);
/* The policy key of a text ("greeting", "hold_body"). */
const char *policy_text_name(tg_text_id t);
const char *policy_action_name(tg_action a);
const char *policy_severity_name(tg_severity s);
int policy_action_parse(const char *s, tg_action *a);

/* Which rule set judges a message with these headers (name/value pairs). */
const tg_ruleset *policy_select(const tg_policy *p, const char *const *names,
				const char *const *values, size_t n);
/* Is mail from sender to these recipients in scope? sender may be NULL
 * (unknown), then only the recipients decide. */
int policy_in_scope(const tg_policy *p, const char *sender, const char *const *rcpts, size_t nrcpt);
/* Where an agent's notices go: the first notice.agent_map entry that
 * matches the sender, else the sender itself. Borrowed. */
const char *policy_agent_address(const tg_policy *p, const char *sender);

#endif
