#!/bin/bash
# ctl.sh — tonegatectl against a real Postfix hold queue (see lib.sh): list,
# show, release (delivered exactly once), discard, expire, a message held by
# something else, stats from a metrics file, bad IDs and a user who is not
# root. Needs root (Postfix runs as its own users); every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin postsuper python3 setpriv

# Postfix itself holds mail whose subject says HOLDME: a held message that is
# not tonegate's.
echo '/^Subject:.*HOLDME/ HOLD held by header_checks' >"$E2E/conf/hold_re"
postconf -c "$PF" -e "header_checks = regexp:$E2E/conf/hold_re"
postfix -c "$PF" reload >/dev/null 2>&1

tonegate_conf "$E2E/tg/policy.conf"
tonegate_start || exit 1

T=$$  # tokens unique to this run, to count each message exactly
ctl() { "$CTL" -C "$PF" --config "$E2E/tg/tonegate.conf" "$@"; }
id_of() {  # id_of TOKEN: the held message whose header carries TOKEN
	for i in $(held_ids); do
		postcat -c "$PF" -hq "$i" 2>/dev/null | grep -q -F "$1" && { echo "$i"; return 0; }
	done
	return 1
}
hold() {  # hold TOKEN [SUBJECT TEXT]: send the curt reply marked with TOKEN, print its ID once held
	sed -e "s/^Subject: .*/Subject: Re: Friday $1${2:-}/" -e "s/^Message-ID: .*/Message-ID: <$1@acme.example>/" \
		"$ex/02-curt.eml" >"$E2E/$1.eml"
	send agent@acme.example maria@example.net "$E2E/$1.eml" >"$E2E/$1.send"
	wait_for 60 id_of "$1" && id_of "$1" && return 0
	# what happened, for the log of a failed run
	{ echo "--- swaks:"; cat "$E2E/$1.send"; echo "--- tonegate:"; tail -n 5 "$E2E/tonegate.log"
	  echo "--- maillog:"; tail -n 10 "$E2E/maillog" 2>/dev/null; } >&2
	return 1
}
in_queue() { postqueue -c "$PF" -j | grep -q "\"queue_id\": *\"$1\""; }

A=$(hold "A$T") || { fail "the curt reply A$T was not held"; exit 1; }
C=$(hold "C$T") || { fail "the curt reply C$T was not held"; exit 1; }
c_held=$(date +%s)

# 1. list: ID, age, sender, recipient, subject, score and rules; --json parses.
out=$(ctl list)
echo "$out" | grep -q -E "^$A +[0-9]+[smhd] +14 +agent@acme\.example +maria@example\.net +Re: Friday A$T +greeting,closing,curt" \
	&& echo "$out" | tail -1 | grep -q "^2 messages held by tonegate; no other message" \
	&& ok "list shows $A with sender, recipient, subject, score and rules" || fail "list: $out"
ctl --json list | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
a = [r for r in rows if r["id"] == sys.argv[1]]
sys.exit(not (len(rows) == 2 and a and a[0]["score"] == 14 and "curt" in a[0]["rules"]
	      and a[0]["recipients"] == ["maria@example.net"] and a[0]["sender"] == "agent@acme.example"))' "$A" \
	&& ok "list --json: one object per line that parses" || fail "list --json: $(ctl --json list)"

# 2. show: the findings and the agent's words.
out=$(ctl show "$A")
echo "$out" | grep -q -F 'line 1: curt (+8): "Nope." A curt reply' && echo "$out" | grep -q -F "| Nope. Can't work that out this time." \
	&& ok "show prints the findings and the agent's words" || fail "show: $out"
ctl --json show "$A" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["agent_text"] != "Nope. Can'"'"'t work that out this time.\n" or d["findings"][2]["rule"] != "curt")' \
	&& ok "show --json parses" || fail "show --json: $(ctl --json show "$A")"

# 3. release: with the sink down the message waits in the deferred queue, so
# a second release says it was already released; then it is delivered once.
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
out=$(ctl release "$A"); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^released $A " && ok "release $A: $out" || fail "release $A: exit $st: $out"
out=$(ctl release "$A" 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "$A was already released: it is in the [a-z]* queue" \
	&& ok "a second release: exit 1, $out" || fail "a second release: exit $st: $out"
smtp-sink -u postfix -d "$E2E/sink/%H%M%S." "127.0.0.1:$SINK" 512 >>"$E2E/sink.log" 2>&1 &
SINK_PID=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK" || fail "smtp-sink did not come back"
postqueue -c "$PF" -f
wait_for 30 sh -c "[ \$(grep -l -F 'A$T' '$E2E'/sink/* 2>/dev/null | wc -l) -ge 1 ]"
sleep 3  # and a little longer: there must be no second copy
n=$(sink_with "A$T")
[ "$n" -eq 1 ] && ok "the released message reached the sink exactly once" || fail "the released message reached the sink $n times"
out=$(ctl release "$A" 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "no message $A in the queue" && ok "release after delivery: exit 1, $out" \
	|| fail "release after delivery: exit $st: $out"
out=$(ctl release ZZZZZZ0000 2>&1); st=$?
[ $st -eq 1 ] && echo "$out" | grep -q "see tonegatectl list" && ok "an unknown ID: exit 1" || fail "an unknown ID: exit $st: $out"
bad=0
for cmd in show release discard; do
	out=$(ctl "$cmd" ../x 2>&1); st=$?
	[ $st -eq 2 ] && echo "$out" | grep -q "is not a queue ID" || { bad=1; fail "$cmd ../x: exit $st: $out"; }
done
[ $bad -eq 0 ] && ok "a malformed ID (../x): exit 2 for show, release and discard"

# 4. discard: gone from the queue, never delivered.
B=$(hold "B$T") || fail "the curt reply B$T was not held"
out=$(ctl discard "$B"); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^discarded $B " && ! in_queue "$B" \
	&& ok "discard $B: $out" || fail "discard $B: exit $st: $out"

# 5. Held by Postfix, not by tonegate: listed as "other", refused without --force.
sed -e 's/^Subject: .*/Subject: HOLDME '"O$T"'/' "$ex/01-courteous.eml" >"$E2E/O.eml"
send sales@partner.example maria@example.net "$E2E/O.eml" >/dev/null
if O=$(wait_for 20 id_of "O$T" && id_of "O$T"); then
	ctl list | tail -1 | grep -q "1 other message in the hold queue, not held by tonegate" \
		&& ok "list counts the message tonegate did not hold" || fail "list: $(ctl list)"
	out=$(ctl release "$O" 2>&1); st=$?
	[ $st -eq 1 ] && echo "$out" | grep -q "not by tonegate.*--force" && in_queue "$O" \
		&& ok "release of a message tonegate did not hold: refused, exit 1" || fail "release $O: exit $st: $out"
	ctl discard --force "$O" >/dev/null && ! in_queue "$O" && ok "discard --force removes it" || fail "discard --force $O"
else
	fail "the HOLDME message was not held by header_checks"
fi

# 6. expire: only the message held longer than 3 s goes. Its subject carries
# an escape sequence, which must not reach the terminal.
while [ $(( $(date +%s) - c_held )) -le 3 ]; do sleep 0.2; done
D=$(hold "D$T" " $(printf '\033[2J\033]0;pwned\007')red") || fail "the curt reply D$T was not held"
out=$(ctl expire --older-than 3s --discard); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^discarded $C " && ! echo "$out" | grep -q "$D" && ! in_queue "$C" && in_queue "$D" \
	&& ok "expire --older-than 3s --discard: only $C went" || fail "expire: exit $st: $out"
out=$(ctl list; ctl show "$D")
echo "$out" | grep -q "Re: Friday D$T ?\[2J?\]0;pwned?red" && ! echo "$out" | grep -q $'\033' \
	&& ok "control characters of a subject are replaced" || fail "not sanitised: $(echo "$out" | cat -v)"

# 7. stats: the counters of a metrics file, and the hold queue by rule.
cat >"$E2E/tonegate.prom" <<'PROM'
# HELP tonegate_messages_total Messages judged, by action.
# TYPE tonegate_messages_total counter
tonegate_messages_total{action="pass"} 812
tonegate_messages_total{action="hold"} 12
# HELP tonegate_findings_total Findings, by rule.
# TYPE tonegate_findings_total counter
tonegate_findings_total{rule="curt"} 7
tonegate_unchecked_total 3
tonegate_out_of_scope_total 40
tonegate_notice_queue_length 0
PROM
out=$(ctl --metrics "$E2E/tonegate.prom" stats); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^    hold  *12$" && echo "$out" | grep -q "^    pass  *812$" \
	&& echo "$out" | grep -q "^    curt  *7$" && echo "$out" | grep -q "^    out of scope  *40$" \
	&& echo "$out" | grep -q "^Held now: 1 message held by tonegate, 0 other" && echo "$out" | grep -q "^    curt  *1$" \
	&& ok "stats: the metrics file's counters and the held messages by rule" || fail "stats: exit $st: $out"
ctl --json --metrics "$E2E/tonegate.prom" stats | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["metrics"]["counters"]["tonegate_findings_total"]["curt"] != 7 or d["held"]["rules"]["curt"] != 1)' \
	&& ok "stats --json parses" || fail "stats --json: $(ctl --json --metrics "$E2E/tonegate.prom" stats)"
printf 'metrics_file = "%s";\n' "$E2E/tonegate.prom" >"$E2E/ctl.conf"
out=$("$CTL" -C "$PF" --config "$E2E/ctl.conf" stats); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^Counters since tonegate started ($E2E/tonegate.prom, written " \
	&& ok "stats reads metrics_file from tonegate.conf" || fail "stats with --config: exit $st: $out"
printf 'metrics_file = 5;\n' >"$E2E/bad.conf"
out=$("$CTL" -C "$PF" --config "$E2E/bad.conf" list 2>&1); st=$?
[ $st -eq 2 ] && echo "$out" | grep -q "bad.conf:1: metrics_file must be a string" \
	&& ok "a broken tonegate.conf: exit 2 with file:line" || fail "a broken tonegate.conf: exit $st: $out"
out=$(ctl --metrics "$E2E/none.prom" stats 2>&1); st=$?
[ $st -eq 0 ] && echo "$out" | grep -q "^Counters: none: .*none.prom: No such file" && echo "$out" | grep -q "^Held now: 1 message" \
	&& ok "stats without a metrics file: a note, exit 0" || fail "stats without a metrics file: exit $st: $out"

# 8. Not root: exit 3 and what to do.
cp "$CTL" "$E2E/tonegatectl" && chmod 0755 "$E2E/tonegatectl"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$E2E/tonegatectl" -C "$PF" --config "$E2E/tg/tonegate.conf" \
	release "$D" 2>&1); st=$?
[ $st -eq 3 ] && echo "$out" | grep -q "run as root" && in_queue "$D" && ok "release as nobody: exit 3, $out" \
	|| fail "release as nobody: exit $st: $out"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$E2E/tonegatectl" -C "$PF" list 2>&1); st=$?
[ $st -eq 3 ] && echo "$out" | grep -q "run as root" && ok "list as nobody: exit 3 with the hint" || fail "list as nobody: exit $st: $out"

# Nothing discarded or expired was delivered.
[ "$(sink_with "B$T")" -eq 0 ] && [ "$(sink_with "C$T")" -eq 0 ] && ok "discarded and expired messages never reached the sink" \
	|| fail "a discarded or expired message reached the sink"

e2e_end
