#!/bin/sh
# report.sh — tonegate-report over the fixture logs of two relays
# (tests/report/relay-*.jsonl: five days, a day without mail, agents,
# monitor mode, released, discarded, repeated and orphan decisions, a queue id
# both relays used, malformed lines, markup and a terminal escape in
# excerpts): exit codes, the text summary, the CSV and the filters against
# figures report_browser.py computes from the logs on its own, HTML escaping,
# hostile input, then the HTML in headless Chromium. Every step is bounded.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
rep="$top_builddir/src/tonegate-report"
fx="$top_srcdir/tests/report"
A="$fx/relay-a.jsonl" B="$fx/relay-b.jsonl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# A python3 with the websocket module (Debian's python3-websocket) for the
# browser check; the first one found.
PY=
for p in "${PYTHON:-}" /usr/bin/python3 python3; do
	[ -n "$p" ] && "$p" -c 'import websocket' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "FAIL: no python3 with the websocket module (apt-get install python3-websocket)"; exit 1; }
model() { timeout 60 "$PY" "$top_srcdir/tests/report_browser.py" "$@"; }
v() { model value "$@" "$A" "$B"; }  # v SECTION KEY METRIC: a figure as shown

run() {  # run NAME STATUS ARGS...: tonegate-report, output in $tmp/out and $tmp/err
	name=$1 want=$2
	shift 2
	timeout 30 "$rep" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "$name: exit $got, want $want"; cat "$tmp/err"; }
}
has() {  # has NAME FILE TEXT
	grep -qF -- "$3" "$2" || { fail "$1: no \"$3\" in:"; cat "$2"; }
}
hasnt() {
	! grep -qF -- "$3" "$2" || fail "$1: \"$3\" should not be there"
}

# ---- usage and unreadable input: 2, nothing on stdout
run "no log" 2
has "no log message" "$tmp/err" "no verdict log given"
run "missing log" 2 "$A" "$tmp/nonexistent.jsonl"
has "missing log message" "$tmp/err" "nonexistent.jsonl: No such file or directory"
[ -s "$tmp/out" ] && fail "missing log: a report was printed anyway"
run "a directory" 2 "$fx"
run "bad --since" 2 --since 2026-13-01 "$A"
run "bad --until" 2 --until 2026-02-29 "$A"
run "since after until" 2 --since 2026-11-24 --until 2026-11-20 "$A"
run "--text and --csv" 2 --text --csv "$A"
run "bad --top" 2 --top x "$A"
run "unknown option" 2 --frobnicate "$A"
run "html to a missing dir" 2 -o "$tmp/no/such/dir/r.html" "$A"
run "help" 0 --help
for o in --html --text --csv --since --until --agent --top --version --help; do
	has "help names $o" "$tmp/out" "$o"
done

# ---- the text summary (the default), figures from the model
run "text" 0 "$A" "$B"
cp "$tmp/out" "$tmp/text"
has "text header" "$tmp/text" "tonegate report: 2 logs, verdicts from 2026-11-20 08:01 to 2026-11-24 12:00 UTC"
has "text lines" "$tmp/text" "Lines: $(v total '' lines) read, $(v total '' skipped) skipped (malformed)"
has "text messages" "$tmp/text" "Messages: $(v total '' messages); held $(v total '' hold) ($(v total '' hold_rate)); would hold $(v total '' would_hold)"
has "text actions" "$tmp/text" "Actions: pass $(v total '' pass), suggest $(v total '' suggest), rewrite $(v total '' rewrite), hold $(v total '' hold), reject $(v total '' reject)"
has "text decisions" "$tmp/text" "Decisions: $(v total '' decided) holds decided, $(v total '' released) released, $(v total '' discarded) discarded (release rate $(v total '' release_rate)); $(v total '' unmatched) without a verdict, $(v total '' repeated) repeated"
has "text time to decision" "$tmp/text" "Time to decision: median $(v total '' decision_median_s), p90 $(v total '' decision_p90_s), max $(v total '' decision_max_s)"
# The day without mail is listed with zeros.
grep -qE '^2026-11-22 +0 +0 +0 +0 +0 +0 +0 +0 +-$' "$tmp/text" || fail "text: no empty row for 2026-11-22"
for r in curt dismissive follow-up; do
	grep -qE "^$r +$(v rule $r findings) +$(v rule $r monitor) +$(v rule $r in_holds) +$(v rule $r decided) +$(v rule $r released) +$(v rule $r release_rate) +$(v rule $r excerpts)\$" "$tmp/text" \
		|| fail "text: rule row for $r: $(grep "^$r " "$tmp/text")"
done
grep -qE "^jamey@acme.example +$(v agent jamey@acme.example messages) +$(v agent jamey@acme.example holds) +$(v agent jamey@acme.example hold_rate) +$(v agent jamey@acme.example would_hold) +$(v agent jamey@acme.example decided) +$(v agent jamey@acme.example released)\$" "$tmp/text" \
	|| fail "text: agent row for jamey: $(grep '^jamey' "$tmp/text")"
# Untrusted text: the escape sequence in an excerpt is shown, not sent.
has "text shows the escape" "$tmp/text" 'your admin \x1b[31m.'
grep -q "$(printf '\033')" "$tmp/text" && fail "text: a raw ESC reached the terminal"
# Malformed lines: file:line: message on stderr, counted.
has "malformed 1" "$tmp/err" "$A:9: not JSON: the line ends inside the object"
has "malformed 2" "$tmp/err" "$A:16: not a JSON object"
has "malformed 3" "$tmp/err" "$B:5: action is not one of pass, suggest, rewrite, hold, reject"
has "malformed count" "$tmp/err" "tonegate-report: 3 malformed lines skipped"
[ "$(grep -c ': ' "$tmp/err")" -eq 4 ] || fail "stderr: want 4 lines: $(cat "$tmp/err")"

# ---- CSV, whole and filtered, row by row against the model
csv() {  # csv NAME FILTER...: tonegate-report --csv equals the model
	name=$1
	shift
	run "csv $name" 0 --csv "$@" "$A" "$B"
	model csv "$tmp/out" "$@" "$A" "$B" >"$tmp/cmp" || { fail "csv $name"; cat "$tmp/cmp"; }
}
csv all
csv days --since 2026-11-21 --until 2026-11-23
csv instants --since 2026-11-20T12:00:00Z --until 2026-11-24T09:00:00Z
csv zone --since 2026-11-20T13:30:00+01:00
csv agents --agent jamey@acme.example --agent OLU@ACME.EXAMPLE
csv nobody --agent nobody@acme.example
# The filters cut what they should, counted without the model: jamey's
# verdicts are the lines naming him as agent with an action.
run "csv jamey" 0 --csv --agent jamey@acme.example "$A" "$B"
n=$(cat "$A" "$B" | grep '"action":.*}$' | grep -c '"agent":"jamey@acme.example"')
has "csv jamey messages" "$tmp/out" "total,,messages,$n"
run "csv 21st" 0 --csv --since 2026-11-21 --until 2026-11-21 "$A" "$B"
n=$(cat "$A" "$B" | grep '"action":"\(pass\|suggest\|rewrite\|hold\|reject\)".*}$' | grep -c '"time":"2026-11-21')
has "csv 21st messages" "$tmp/out" "total,,messages,$n"
grep -q '^day,2026-11-2[^1]' "$tmp/out" && fail "csv 21st: other days listed"
has "csv header" "$tmp/out" "section,key,metric,value"

# ---- HTML: one self-contained file, everything from the log escaped
export SOURCE_DATE_EPOCH=1795000000  # the time the report says it was made
run "html" 0 -o "$tmp/r.html" "$A" "$B"
[ -s "$tmp/out" ] && fail "html: -o printed on stdout too"
h="$tmp/r.html"
has "html escapes the script excerpt" "$h" "<q>&lt;script&gt;alert(1)&lt;/script&gt;</q>"
has "html escapes the agent" "$h" "a&amp;b&lt;i&gt;&quot;x&quot;@acme.example"
has "html CSP" "$h" "content=\"default-src 'none'; style-src 'unsafe-inline'\""
hasnt "html: no script element" "$h" "<script"
hasnt "html: raw agent markup" "$h" "<i>\"x\""
grep -qiE '(src|href)=|url\(|https?://|@import' "$h" && fail "html: refers to something outside the file: $(grep -oiE '(src|href)=[^ ]*|url\([^)]*|https?://[^ ]*|@import' "$h" | head -3)"
grep -q "$(printf '\033')" "$h" && fail "html: a raw ESC in the page"
[ "$(grep -c '<svg' "$h")" -eq 4 ] || fail "html: want 4 SVG charts, have $(grep -c '<svg' "$h")"
run "html to stdout" 0 -o - "$A" "$B"
cmp -s "$tmp/out" "$h" || fail "html: -o - differs from -o FILE"
run "html and text" 0 -o "$tmp/r2.html" --text "$A" "$B"
cmp -s "$tmp/out" "$tmp/text" || fail "html and text: the text differs"
has "html made at SOURCE_DATE_EPOCH" "$h" "made $(date -u -d @1795000000 '+%Y-%m-%d %H:%M') UTC"

# ---- hostile input: counted and skipped, never a crash
{
	printf '{"time":"2026-11-25T10:00:00Z","queue_id":"Q1","agent":"x@y","action":"hold","rules":[{"rule":"curt","excerpt":"bad \377\376 bytes"}]}\n'
	printf '{"time":"2026-11-25T10:00:01Z","queue_id":"Q2","agent":"x@y","action":"pass"}\r\n'
	printf '{"time":"2026-11-25T10:00:02Z","queue_id":"Q3","agent":"x\000y","action":"pass"}\n'
	printf '{"time":"2026-11-25T10:00:02Z","queue_id":"Q3","agent":"x\\u0000y","action":"pass","rules":[{"rule":"curt","excerpt":"a\\u0000b"}]}\n'
	printf '{"time":"2026-02-30T10:00:00Z","queue_id":"Q4","agent":"x@y","action":"pass"}\n'
	printf '{"time":"2026-11-25T10:00:03Z","queue_id":"Q5","agent":"x@y","action":"pass","rules":{"rule":"curt"}}\n'
	printf '{"time":"2026-11-25T10:00:04Z","queue_id":"Q6","agent":"x@y","action":"pass","rules":[{"weight":1}]}\n'
	printf '{"time":"2026-11-25T10:00:05Z","queue_id":"Q7","agent":7,"action":"pass"}\n'
	printf '{"time":"2026-11-25T10:00:06Z","queue_id":"Q8","decision":"maybe"}\n'
	printf '{"time":"2026-11-25T10:00:07Z","queue_id":"Q9","agent":"x@y","action":"pass"} trailing\n'
	printf '{"time":"2026-11-25T10:00:08Z","score":1e999999,"queue_id":"QA","agent":"x@y","action":"pass"}\n'
	head -c 20000 /dev/zero | tr '\0' '['; echo
	printf '{"time":"2026-11-25T10:00:09Z","queue_id":"QB","agent":"x@y","action":"pass","junk":"'
	head -c 1100000 /dev/zero | tr '\0' 'a'; printf '"}\n'
	printf '\n   \n'
	printf '{"time":"2026-11-25T10:00:10Z","queue_id":"QC","agent":"x@y","action":"reject"}'
} >"$tmp/hostile.jsonl"
run "hostile" 0 --csv "$tmp/hostile.jsonl"
# Used: Q1 (bad bytes kept), Q2 (CRLF), the second Q3 (an escaped NUL in
# strings), QA, QC (no final newline). Skipped: Q3 with a raw NUL, Q4 Q5 Q6
# Q7 Q8 Q9, the deep nest, the long line.
has "hostile messages" "$tmp/out" "total,,messages,5"
has "hostile skipped" "$tmp/out" "total,,skipped,9"
has "hostile raw NUL" "$tmp/err" "hostile.jsonl:3: not JSON"
has "hostile reject" "$tmp/out" "total,,reject,1"
has "hostile long line" "$tmp/err" "hostile.jsonl:13: line longer than 1 MiB"
has "hostile nesting" "$tmp/err" "hostile.jsonl:12: not JSON"
has "hostile bad date" "$tmp/err" "hostile.jsonl:5: no valid \"time\""
run "hostile html" 0 -o "$tmp/hostile.html" "$tmp/hostile.jsonl"
has "hostile html: bad bytes replaced" "$tmp/hostile.html" "<q>bad $(printf '\357\277\275\357\277\275') bytes</q>"
has "hostile html: NUL replaced" "$tmp/hostile.html" "<q>a$(printf '\357\277\275')b</q>"
run "hostile text" 0 "$tmp/hostile.jsonl"
has "hostile text: bad bytes shown as hex" "$tmp/out" 'bad \xff\xfe bytes'
: >"$tmp/empty.jsonl"
run "empty log" 0 -o "$tmp/empty.html" --text "$tmp/empty.jsonl"
has "empty log text" "$tmp/out" "Messages: 0; held 0 (-)"
has "empty log html" "$tmp/empty.html" "No verdicts"
run "stdin" 0 --csv - <"$A"
has "stdin" "$tmp/out" "input,-,lines,25"

# ---- the HTML in Chromium: no console error, every figure, bar and excerpt
# as the model computes them; then filtered, with fewer excerpts
model browse --html "$h" "$A" "$B" || fail "browser: the fixture report"
run "html filtered" 0 -o "$tmp/f.html" --since 2026-11-21 --agent maria@acme.example --agent jamey@acme.example --top 1 "$A" "$B"
model browse --html "$tmp/f.html" --since 2026-11-21 --agent maria@acme.example --agent jamey@acme.example --top 1 "$A" "$B" \
	|| fail "browser: the filtered report"
model browse --html "$tmp/empty.html" "$tmp/empty.jsonl" || fail "browser: the empty report"

[ "$fails" -eq 0 ] && echo "report.sh: all checks passed"
exit $((fails > 0))
