#!/bin/bash
# report.sh — tonegate-report on the verdict log of a real run: through a
# private Postfix on loopback (see lib.sh) tonegate holds the canonical curt
# reply and passes a courteous one, a manager releases the held one with
# tonegatectl, and the report of that log — text, CSV and the HTML in
# headless Chromium — shows what happened, figure by figure against
# report_browser.py's own reading of the log. Needs root; every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"
REPORT=${REPORT:-$(cd "$top_builddir/src" 2>/dev/null && pwd)/tonegate-report}

e2e_begin python3 chromium
PY=
for p in "${PYTHON:-}" /usr/bin/python3 python3; do
	[ -n "$p" ] && "$p" -c 'import websocket' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { fail "no python3 with the websocket module (python3-websocket)"; e2e_end; }
VL="$E2E/tg/verdicts.jsonl"
tonegate_conf "$E2E/tg/policy.conf"
echo "verdict_log = \"$VL\";" >>"$E2E/tg/tonegate.conf"
tonegate_start || exit 1
T=$$
mark() {  # mark FILE TOKEN: FILE with its Message-ID made unique
	sed "s/^Message-ID: .*/Message-ID: <$2@acme.example>/" "$1" >"$E2E/$2.eml"
	echo "$E2E/$2.eml"
}

# A curt reply (held) and a courteous one (delivered).
held0=$(held_count)
send jamey@acme.example maria@example.net "$(mark "$ex/02-curt.eml" "curt$T")" >/dev/null
send olu@acme.example kim@example.org "$(mark "$ex/01-courteous.eml" "kind$T")" >/dev/null
wait_for 30 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held0 ]" \
	&& ok "the curt reply is held" || fail "the curt reply was not held"
wait_for 30 sh -c "grep -l -F 'kind$T' '$E2E'/sink/* >/dev/null 2>&1" \
	&& ok "the courteous reply is delivered" || fail "the courteous reply was not delivered"
wait_for 10 sh -c "grep -q 'curt$T' '$VL' && grep -q 'kind$T' '$VL'" || fail "no verdicts in $VL"

# The manager releases the held reply: a decision line in the same log.
id=$("$PY" -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if sys.argv[2] in l][-1]["queue_id"])' "$VL" "curt$T")
sleep 1  # a time to decision above zero
out=$("$CTL" -C "$PF" --config "$E2E/tg/tonegate.conf" release "$id" 2>&1) || fail "release $id: $out"
wait_for 10 grep -q '"decision":"release"' "$VL" && ok "the release of $id is in the verdict log" \
	|| fail "no decision in the verdict log"
wait_for 30 sh -c "grep -l -F 'curt$T' '$E2E'/sink/* >/dev/null 2>&1" \
	&& ok "the released reply is delivered" || fail "the released reply was not delivered"

# The report of that log.
cp "$VL" "$E2E/verdicts.jsonl"  # as a manager would copy it off the relay
L="$E2E/verdicts.jsonl"
"$REPORT" "$L" >"$E2E/text" 2>"$E2E/err" || fail "text report: exit $?: $(cat "$E2E/err")"
[ -s "$E2E/err" ] && fail "the real log has malformed lines: $(cat "$E2E/err")"
grep -q '^Messages: 2; held 1 (50.0%)' "$E2E/text" && grep -q '^Decisions: 1 holds decided, 1 released, 0 discarded (release rate 100.0%)' "$E2E/text" \
	&& ok "text: 2 messages, 1 held, 1 released" || fail "text report: $(head -8 "$E2E/text")"
grep -qE '^curt +1 +0 +1 +1 +1 +100.0% +1$' "$E2E/text" && ok "text: curt found once, held, released" \
	|| fail "text: no curt row: $(grep '^curt' "$E2E/text")"
grep -qE '^jamey@acme.example +1 +1 +100.0% +1 +1 +1$' "$E2E/text" && ok "text: jamey's hold" \
	|| fail "text: no row for jamey: $(grep '^jamey' "$E2E/text")"
grep -A3 '^  curt$' "$E2E/text" | grep -q '"Nope\.' && ok "text: curt's excerpt from the daemon" \
	|| fail "text: no excerpt for curt: $(grep -A3 '^  curt' "$E2E/text")"
"$REPORT" --csv "$L" >"$E2E/csv" 2>&1 || fail "csv report: exit $?"
timeout 60 "$PY" "$top_srcdir/tests/report_browser.py" csv "$E2E/csv" "$L" >"$E2E/cmp" \
	&& ok "csv: every figure as computed from the log" || fail "csv: $(cat "$E2E/cmp")"
"$REPORT" -o "$E2E/report.html" "$L" 2>"$E2E/err" || fail "html report: exit $?: $(cat "$E2E/err")"
chmod 0644 "$E2E/report.html"
t0=$(date +%s.%N)
timeout 90 "$PY" "$top_srcdir/tests/report_browser.py" browse --html "$E2E/report.html" ${REPORT_SCREENSHOT:+--screenshot "$REPORT_SCREENSHOT"} "$L" >"$E2E/browser" 2>&1 \
	&& ok "chromium: $(tail -1 "$E2E/browser")" || fail "chromium: $(cat "$E2E/browser")"
echo "chromium check: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s wall"

e2e_end
