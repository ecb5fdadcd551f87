/*
 * tonegate-check — judge message files with a policy, the way the daemon
 * would, and print each verdict (text or JSON lines). Also lints policies.
 * Exit: 0 every message passes, 1 some would not pass, 2 usage/policy/I/O.
 */
#include "config.h"
#include "judge.h"
#include "rewrite.h"
#include "sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_POLICY SYSCONFDIR "/tonegate/policy.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tonegate-check [--policy FILE] [--json] [--text | --rewrite] FILE...\n"
		"       tonegate-check --lint [--policy FILE]\n"
		"Judge each message FILE (\"-\" reads standard input) with the policy and\n"
		"print the action, the score and each finding.\n"
		"  -p, --policy FILE  policy file (default " DEFAULT_POLICY ")\n"
		"  -j, --json         one JSON object per message per line\n"
		"  -t, --text         print only the agent's words as the checks see them\n"
		"  -r, --rewrite      print only the suggested rewrite of the agent's words\n"
		"  -l, --lint         check the policy file and exit\n"
		"  -V, --version      print the version\n"
		"  -h, --help         this help\n"
		"Exit status: 0 every message passes, 1 some would not pass,\n"
		"2 usage, policy or input errors.\n");
}

/* Read at most max+1 bytes: enough to know a message is over the limit. */
static int read_input(const char *path, size_t max, sbuf *sb)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return -1;
	char buf[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		size_t room = max + 1 - sb->len;
		if (sbuf_append(sb, buf, n < room ? n : room) < 0) {
			rc = -1;
			break;
		}
		if (sb->len > max)
			break;
	}
	if (ferror(f))
		rc = -1;
	if (rc == 0 && sbuf_pad(sb, 2) < 0)  /* judge_message's read-ahead */
		rc = -1;
	int e = errno;
	if (f != stdin)
		fclose(f);
	errno = e;
	return rc;
}

static void excerpt(sbuf *out, const tg_reply *r, const tg_finding *f, int json)
{
	sbuf ex = SBUF_INIT;
	for (uint32_t i = 0; i < f->ex_len; i++) {
		char c = r->agent[f->ex_off + i];
		sbuf_putc(&ex, c == '\n' || c == '\t' ? ' ' : c);
	}
	if (json)
		sbuf_json(out, ex.s ? ex.s : "", ex.len);
	else
		sbuf_printf(out, "\"%s\"", ex.s ? ex.s : "");
	sbuf_free(&ex);
}

static void print_json(sbuf *o, const char *file, const tg_judgement *j, int with_text)
{
	const tg_verdict *v = &j->verdict;
	int judged = j->status == TG_OK && j->in_scope;
	sbuf_puts(o, "{\"file\":");
	sbuf_json(o, file, strlen(file));
	sbuf_printf(o, ",\"action\":\"%s\",\"score\":%d,\"status\":\"%s\"",
		      policy_action_name(judged ? v->action : TG_PASS), judged ? v->score : 0,
		      !j->in_scope && j->status <= TG_NO_TEXT ? "out-of-scope" : tg_status_id(j->status));
	if (judged)
		sbuf_printf(o, ",\"ruleset\":\"%s\"", v->ruleset->name);
	if (with_text) {
		sbuf t = SBUF_INIT;
		reply_text(&j->reply, &t);
		sbuf_puts(o, ",\"text\":");
		sbuf_json(o, t.s ? t.s : "", t.len);
		sbuf_free(&t);
	}
	if (judged) {
		sbuf t = SBUF_INIT;
		rewrite_suggest(j, &t);
		sbuf_puts(o, ",\"rewrite\":");
		sbuf_json(o, t.s ? t.s : "", t.len);
		sbuf_free(&t);
	}
	sbuf_puts(o, ",\"findings\":[");
	for (size_t i = 0; judged && i < v->nf; i++) {
		const tg_finding *f = &v->f[i];
		sbuf_printf(o, "%s{\"rule\":\"%s\",\"severity\":\"%s\",\"weight\":%d,\"line\":%u,\"excerpt\":",
			      i ? "," : "", policy_rule_name(f->rule), policy_severity_name(f->severity),
			      f->weight, f->line);
		excerpt(o, &j->reply, f, 1);
		sbuf_puts(o, ",\"message\":");
		sbuf_json(o, f->message, strlen(f->message));
		sbuf_puts(o, ",\"suggestion\":");
		sbuf_json(o, f->suggestion, strlen(f->suggestion));
		sbuf_putc(o, '}');
	}
	sbuf_puts(o, "]}\n");
}

static void print_text(sbuf *o, const char *file, const tg_judgement *j)
{
	const tg_verdict *v = &j->verdict;
	if (!j->in_scope && j->status <= TG_NO_TEXT) {
		sbuf_printf(o, "%s: pass (out of scope: not judged)\n", file);
		return;
	}
	if (j->status != TG_OK) {
		sbuf_printf(o, "%s: pass (not judged: %s)\n", file, tg_status_str(j->status));
		return;
	}
	sbuf_printf(o, "%s: %s (score %d, rule set %s)\n", file, policy_action_name(v->action),
		      v->score, v->ruleset->name);
	for (size_t i = 0; i < v->nf; i++) {
		const tg_finding *f = &v->f[i];
		sbuf_printf(o, "  line %u: %s (%s, +%d)", f->line, policy_rule_name(f->rule),
			      policy_severity_name(f->severity), f->weight);
		if (f->ex_len) {
			sbuf_puts(o, ": ");
			excerpt(o, &j->reply, f, 0);
		}
		sbuf_printf(o, "\n    %s\n    Suggestion: %s\n", f->message, f->suggestion);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"text", no_argument, NULL, 't'},
		{"rewrite", no_argument, NULL, 'r'},
		{"lint", no_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = DEFAULT_POLICY;
	int json = 0, text = 0, rewrite = 0, lint = 0, c;
	while ((c = getopt_long(argc, argv, "p:jtrlVh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy_path = optarg; break;
		case 'j': json = 1; break;
		case 't': text = 1; break;
		case 'r': rewrite = 1; break;
		case 'l': lint = 1; break;
		case 'V': printf("tonegate-check %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!lint && optind >= argc) || (text && rewrite)) {
		usage(stderr);
		return 2;
	}
	judge_init();
	char err[1024];
	tg_policy *p = policy_load(policy_path, err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "tonegate-check: %s\n", err);
		return 2;
	}
	if (lint) {
		printf("%s: ok (%zu phrases and patterns, %zu rule sets)\n", policy_path,
		       matcher_count(p->matcher), p->nset);
		policy_unref(p);
		return 0;
	}
	tg_scratch *scratch = matcher_scratch_new(p->matcher);
	if (scratch == NULL) {
		fprintf(stderr, "tonegate-check: out of memory\n");
		policy_unref(p);
		return 2;
	}
	int rc = 0;
	sbuf in = SBUF_INIT, out = SBUF_INIT;
	for (int i = optind; i < argc; i++) {
		const char *file = argv[i];
		sbuf_reset(&in);
		if (read_input(file, p->limits.max_message_size, &in) < 0) {
			fprintf(stderr, "tonegate-check: %s: cannot read: %s\n", file, strerror(errno));
			rc = 2;
			continue;
		}
		tg_judgement j;
		if (judge_message(p, scratch, in.s ? in.s : "", in.len, NULL, &j) < 0) {
			fprintf(stderr, "tonegate-check: %s: out of memory\n", file);
			judge_free(&j);
			rc = 2;
			continue;
		}
		if (j.status == TG_PARSE_ERROR) {
			fprintf(stderr, "tonegate-check: %s: %s\n", file, tg_status_str(j.status));
			judge_free(&j);
			rc = 2;
			continue;
		}
		sbuf_reset(&out);
		if (json)
			print_json(&out, file, &j, text);
		else if (text)
			reply_text(&j.reply, &out);
		else if (rewrite && j.status == TG_OK && j.in_scope)
			rewrite_suggest(&j, &out);
		else if (rewrite)  /* not judged: nothing to rewrite */
			fprintf(stderr, "tonegate-check: %s: not judged (%s): no rewrite\n", file,
				j.in_scope ? tg_status_str(j.status) : "out of scope");
		else
			print_text(&out, file, &j);
		fwrite(out.s, 1, out.len, stdout);
		if (j.status == TG_OK && j.in_scope && j.verdict.action != TG_PASS && rc == 0)
			rc = 1;
		judge_free(&j);
	}
	fflush(stdout);
	sbuf_free(&in);
	sbuf_free(&out);
	matcher_scratch_free(scratch);
	policy_unref(p);
	return rc;
}
