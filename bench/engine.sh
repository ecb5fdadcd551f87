#!/bin/bash
# engine.sh — make bench, part 1 (issue #5): the engine on one core.
#   engine.sh TOP_SRCDIR TOP_BUILDDIR
# Generates the corpus once (bench/gen-corpus.py, seeded) under
# TOP_BUILDDIR/bench/, times tonegate-bench over it (pinned to one CPU when
# taskset exists), then counts instructions per reply with callgrind over a
# subset. Prints the target line; the figures also go to
# TOP_BUILDDIR/bench/engine.txt. Environment: BENCH_N (replies, 2000),
# BENCH_SEED (5), BENCH_RUNS (7), BENCH_CG_N (callgrind subset, 300),
# PYTHON (python3), VALGRIND (valgrind; empty skips callgrind).
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
N=${BENCH_N:-2000}
SEED=${BENCH_SEED:-5}
RUNS=${BENCH_RUNS:-7}
CG_N=${BENCH_CG_N:-300}
PYTHON=${PYTHON:-python3}
VALGRIND=${VALGRIND-valgrind}
BENCH="$build/bench/tonegate-bench"
POLICY="$src/conf/policy.conf"
TARGET=20000
group() { LC_ALL=C printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

corpus="$build/bench/corpus-s$SEED-n$N"
if [ ! -f "$corpus/.done" ]; then
	rm -rf "$corpus"
	"$PYTHON" "$src/bench/gen-corpus.py" --seed "$SEED" -n "$N" "$corpus"
	touch "$corpus/.done"
fi

pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
out="$build/bench/engine.txt"
{
	echo "== engine: $N replies (seed $SEED), $RUNS runs, one thread${pin:+, pinned to CPU 0}"
	echo "\$ ${pin:+$pin }bench/tonegate-bench -p conf/policy.conf -r $RUNS $(basename "$corpus")"
} | tee "$out"
$pin "$BENCH" -p "$POLICY" -r "$RUNS" "$corpus" | tee -a "$out"
res=$(grep '^RESULT' "$out" | tail -1)
get() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
rps=$(get median_rps)
unjudged=$(get unjudged)

ipr=""
if [ -n "$VALGRIND" ] && command -v "$VALGRIND" >/dev/null 2>&1; then
	cg="$build/bench/callgrind.out"
	echo "\$ valgrind --tool=callgrind --instr-atstart=no bench/tonegate-bench --callgrind -n $CG_N $(basename "$corpus")" | tee -a "$out"
	"$VALGRIND" --tool=callgrind --instr-atstart=no --callgrind-out-file="$cg" \
		"$BENCH" -p "$POLICY" --callgrind -n "$CG_N" "$corpus" >"$build/bench/callgrind.stdout" 2>"$build/bench/callgrind.log"
	coll=$(sed -n 's/^==[0-9]*== Collected : *//p' "$build/bench/callgrind.log" | tail -1)
	cres=$(grep '^RESULT' "$build/bench/callgrind.stdout")
	replies=$(echo "$cres" | tr ' ' '\n' | sed -n 's/^replies=//p')
	if echo "$cres" | grep -q 'callgrind_macros=no'; then
		# no client requests: subtract a run that only loads the policy and files
		"$VALGRIND" --tool=callgrind --callgrind-out-file="$cg.base" \
			"$BENCH" -p "$POLICY" -r 0 -n "$CG_N" "$corpus" >/dev/null 2>"$build/bench/callgrind-base.log"
		base=$(sed -n 's/^==[0-9]*== Collected : *//p' "$build/bench/callgrind-base.log" | tail -1)
		"$VALGRIND" --tool=callgrind --callgrind-out-file="$cg" \
			"$BENCH" -p "$POLICY" --callgrind -n "$CG_N" "$corpus" >/dev/null 2>"$build/bench/callgrind.log"
		coll=$(( $(sed -n 's/^==[0-9]*== Collected : *//p' "$build/bench/callgrind.log" | tail -1) - base ))
	fi
	ipr=$(( coll / replies ))
	echo "callgrind: $(group "$coll") instructions over $replies replies: $(group "$ipr") instructions per reply" | tee -a "$out"
	if echo "$cres" | grep -q 'callgrind_macros=yes'; then
		# libmilter runs each MTA connection on a new thread: the same replies so
		"$VALGRIND" --tool=callgrind --instr-atstart=no --callgrind-out-file="$cg.thread" \
			"$BENCH" -p "$POLICY" --callgrind --thread-per-reply -n "$CG_N" "$corpus" >/dev/null 2>"$build/bench/callgrind-thread.log"
		tcoll=$(sed -n 's/^==[0-9]*== Collected : *//p' "$build/bench/callgrind-thread.log" | tail -1)
		[ -n "$tcoll" ] && echo "callgrind --thread-per-reply (a new thread per reply, as libmilter per connection): $(group $(( tcoll / replies ))) instructions per reply, $(awk -v a="$tcoll" -v b="$coll" 'BEGIN {printf "%+.1f%%", 100 * (a - b) / b}')" | tee -a "$out"
	fi
	if command -v callgrind_annotate >/dev/null 2>&1; then
		# where they go: the pipeline's stages (inclusive), then the top functions (own)
		echo "by stage (inclusive, share of the judging; callgrind_annotate --inclusive=yes):" | tee -a "$out"
		callgrind_annotate --inclusive=yes "$cg" 2>/dev/null | sed -n '/file:function/,/^-- Auto/p' \
			| grep -E ':(message_parse|mailmime_parse|mailimf_fields_parse|part_text[.a-z0-9]*|html_to_text|htmlCtxtReadMemory|text_normalize|quote_split[_a-z]*|reply_build|matcher_scan|engine_judge|customer_words[a-z_]*)( |$)' \
			| sed 's/ \[[^]]*\]$//; s#[^ ]*/src/#src/#' | awk '!seen[$NF]++' | tee -a "$out"
		echo "top functions (own instructions; callgrind_annotate):" | tee -a "$out"
		callgrind_annotate "$cg" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,14p' \
			| sed 's/ \[[^]]*\]$//; s#[^ ]*/src/#src/#' | tee -a "$out"
	fi
else
	echo "callgrind: valgrind not found: instructions per reply not measured" | tee -a "$out"
fi

fmt=$(group "$rps")
verdict=holds
[ "${rps%.*}" -ge "$TARGET" ] || verdict="does NOT hold"
[ "$unjudged" = 0 ] || verdict="$verdict (but $unjudged replies were not judged)"
echo "engine: $fmt replies/s on one core (median of $RUNS runs; target >= 20,000): $verdict" | tee -a "$out"
