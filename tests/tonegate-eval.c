/*
 * tonegate-eval — how well the policy agrees with people: for each labelled
 * corpus directory, per-rule precision, recall and F1, the confusion of
 * verdicts against the labels, the false holds, and every disagreement.
 * Usage: tonegate-eval POLICY DIR...   (make eval). Exit 0 unless an error.
 */
#include "config.h"
#include "judge.h"
#include "labels.h"

struct tally {
	int n, agree;
	int tp[R_NRULES], fp[R_NRULES], fn[R_NRULES];
	int confusion[TG_NACTIONS][TG_NACTIONS];
	int false_holds;
};

static double ratio(int a, int b)
{
	return b ? (double)a / b : 0.0;
}

static void report(const char *name, const struct tally *t, sbuf *mismatches)
{
	printf("== %s: %d replies, verdict agrees with the label on %d (%.1f%%)\n\n", name, t->n, t->agree,
	       100.0 * ratio(t->agree, t->n));
	printf("%-14s %4s %4s %4s  %9s %7s %6s\n", "rule", "TP", "FP", "FN", "precision", "recall", "F1");
	for (int r = 0; r < R_NRULES; r++) {
		double p = ratio(t->tp[r], t->tp[r] + t->fp[r]), rc = ratio(t->tp[r], t->tp[r] + t->fn[r]);
		if (t->tp[r] + t->fp[r] + t->fn[r] == 0)
			continue;
		printf("%-14s %4d %4d %4d  %9.2f %7.2f %6.2f\n", policy_rule_name((tg_rule_id)r), t->tp[r],
		       t->fp[r], t->fn[r], p, rc, p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0);
	}
	printf("\nverdicts (rows: label, columns: tonegate)\n%-9s", "");
	for (int a = 0; a < TG_NACTIONS; a++)
		printf(" %8s", policy_action_name((tg_action)a));
	printf("\n");
	for (int l = 0; l < TG_NACTIONS; l++) {
		int row = 0;
		for (int a = 0; a < TG_NACTIONS; a++)
			row += t->confusion[l][a];
		if (row == 0)
			continue;
		printf("%-9s", policy_action_name((tg_action)l));
		for (int a = 0; a < TG_NACTIONS; a++)
			printf(" %8d", t->confusion[l][a]);
		printf("\n");
	}
	printf("\nfalse holds (labelled pass or suggest, held or rejected): %d\n", t->false_holds);
	if (mismatches->len)
		printf("\ndisagreements:\n%s", mismatches->s);
	printf("\n");
}

static int eval_dir(tg_policy *p, tg_scratch *s, const char *dir)
{
	size_t n;
	char **files = corpus_list(dir, &n);
	if (files == NULL) {
		fprintf(stderr, "tonegate-eval: %s: cannot open the directory\n", dir);
		return -1;
	}
	struct tally t;
	memset(&t, 0, sizeof t);
	sbuf mm = SBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		sbuf msg = SBUF_INIT;
		char want_action[64], want_f[512] = "", a[512], b[512];
		tg_action want_a;
		if (file_read(files[i], &msg) < 0 ||
		    label_get(msg.s, "X-Expect-Action", want_action, sizeof want_action) < 0 ||
		    policy_action_parse(want_action, &want_a) < 0) {
			fprintf(stderr, "tonegate-eval: %s: unreadable or no valid X-Expect-Action\n", files[i]);
			sbuf_free(&msg);
			continue;
		}
		label_get(msg.s, "X-Expect-Findings", want_f, sizeof want_f);
		tg_judgement j;
		if (judge_message(p, s, msg.s, msg.len, NULL, &j) < 0) {
			fprintf(stderr, "tonegate-eval: %s: out of memory\n", files[i]);
			judge_free(&j);
			sbuf_free(&msg);
			continue;
		}
		int judged = j.status == TG_OK && j.in_scope;
		unsigned want = label_rules(want_f), got = judged ? verdict_rules(&j.verdict) : 0;
		tg_action got_a = judged ? j.verdict.action : TG_PASS;
		t.n++;
		t.agree += got_a == want_a;
		t.confusion[want_a][got_a]++;
		t.false_holds += want_a < TG_HOLD && got_a >= TG_HOLD;
		for (int r = 0; r < R_NRULES; r++) {
			int w = want >> r & 1, g = got >> r & 1;
			t.tp[r] += w && g;
			t.fp[r] += !w && g;
			t.fn[r] += w && !g;
		}
		if (got_a != want_a || got != want) {
			rules_str(want, a, sizeof a);
			rules_str(got, b, sizeof b);
			sbuf_printf(&mm, "  %s: label %s [%s], tonegate %s [%s] score %d\n", files[i], want_action, a,
				    policy_action_name(got_a), b, judged ? j.verdict.score : 0);
		}
		judge_free(&j);
		sbuf_free(&msg);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	report(dir, &t, &mm);
	sbuf_free(&mm);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tonegate-eval POLICY DIR...\n");
		return 2;
	}
	judge_init();
	char err[1024];
	tg_policy *p = policy_load(argv[1], err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "tonegate-eval: %s\n", err);
		return 2;
	}
	tg_scratch *s = matcher_scratch_new(p->matcher);
	int rc = 0;
	for (int i = 2; i < argc; i++)
		if (eval_dir(p, s, argv[i]) < 0)
			rc = 2;
	matcher_scratch_free(s);
	policy_unref(p);
	return rc;
}
