#!/bin/bash
# monitor.sh — rolling out with monitor mode and the verdict log, through a
# real Postfix on loopback (see lib.sh): a monitor-mode relay delivers the
# canonical curt reply while the verdict log says it would hold it; one rule
# in monitor mode while the rest enforce; tonegatectl's decisions appended
# to the same log; SIGUSR2 reopens it after logrotate; a verdict log that
# cannot be opened never stops mail. Needs root; every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin python3
VL="$E2E/tg/verdicts.jsonl"
cp "$E2E/tg/policy.conf" "$E2E/tg/policy.enforce"
sed 's/^mode = "enforce";/mode = "monitor";/' "$E2E/tg/policy.enforce" >"$E2E/tg/policy.monitor"
grep -q '^mode = "monitor";' "$E2E/tg/policy.monitor" || { fail "the shipped policy has no mode = \"enforce\"; line"; e2e_end; }
# One rule in monitor mode, the rest enforcing.
sed 's/^  false-empathy = {/  false-empathy = {\n    mode = "monitor";/' "$E2E/tg/policy.enforce" >"$E2E/tg/policy.onerule"
cp "$E2E/tg/policy.monitor" "$E2E/tg/policy.conf"
chmod 0644 "$E2E"/tg/policy.*
tonegate_conf "$E2E/tg/policy.conf"
echo "verdict_log = \"$VL\";" >>"$E2E/tg/tonegate.conf"
tonegate_start || exit 1

# vl_has TOKEN PYTHON-EXPR: the verdict log's entry whose message_id holds
# TOKEN satisfies the expression over r (the entry as a dict).
vl_has() {
	python3 - "$VL" "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = [r for r in rows if sys.argv[2] in (r.get("message_id") or "")]
if not r:
    sys.exit("no entry for %s" % sys.argv[2])
r = r[-1]
ok = eval(" ".join(sys.argv[3].split()))  # one line: the callers wrap theirs
print(json.dumps(r)[:400])
sys.exit(0 if ok else 1)
PY
}
mark() {  # mark FILE TOKEN: FILE with its Message-ID made unique
	sed "s/^Message-ID: .*/Message-ID: <$2@acme.example>/" "$1" >"$E2E/$2.eml"
	echo "$E2E/$2.eml"
}
T=$$

# 1. Monitor mode: delivered untouched but for the header; the log line and
# the verdict log say what enforce mode would have done.
send agent@acme.example maria@example.net "$(mark "$ex/02-curt.eml" "mon$T")" >/dev/null
if wait_for 30 sh -c "grep -l -F 'mon$T' '$E2E'/sink/* >/dev/null 2>&1"; then
	f=$(grep -l -F "mon$T" "$E2E"/sink/* | head -1)
	grep -q '^X-Tonegate: monitor would=hold score=14 rules=greeting,closing,curt,empathy,follow-up' "$f" \
		&& grep -q -F "Nope. Can't work that out this time." "$f" \
		&& ok "monitor mode: the curt reply is delivered with X-Tonegate: monitor would=hold" \
		|| fail "monitor mode: delivered without the monitor header: $(grep '^X-Tonegate' "$f")"
else
	fail "monitor mode: the curt reply was not delivered (held: $(held_count))"
fi
grep -q "msgid=<mon$T@acme.example>.* action=pass would=hold mode=monitor score=14" "$E2E/tonegate.log" \
	&& ok "the log line says it would hold" || fail "no would=hold in the log: $(grep "mon$T" "$E2E/tonegate.log")"
pv=$(python3 -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read(): h = ((h ^ b) * 0x100000001b3) % 2**64
print("%016x" % h)' "$E2E/tg/policy.conf")
vl_has "mon$T" "r['action'] == 'pass' and r['would'] == 'hold' and r['mode'] == 'monitor' and r['score'] == 14
	and r['status'] == 'judged' and r['agent'] == 'agent@acme.example' and r['recipient_domains'] == ['example.net']
	and r['ruleset'] == 'default' and {'rule': 'curt', 'weight': 8, 'monitor': True, 'excerpt': 'Nope.'} in r['rules']
	and r['policy'] == '$pv' and r['ms'] > 0 and r['queue_id'] and r['time'].endswith('Z')" >"$E2E/vl.out" \
	&& ok "verdict log: action pass, would hold, score, rules with weights, policy version $pv" \
	|| fail "verdict log entry: $(cat "$E2E/vl.out")"

# 2. One rule in monitor mode: false empathy is only recorded, curt still holds.
cp "$E2E/tg/policy.onerule" "$E2E/tg/policy.conf"
reload "reloaded" || fail "reload to the one-rule monitor policy not logged"
held0=$(held_count)
send agent@acme.example maria@example.net "$(mark "$ex/05-false-empathy.eml" "fe$T")" >/dev/null
send agent@acme.example maria@example.net "$(mark "$ex/02-curt.eml" "cu$T")" >/dev/null
wait_for 30 sh -c "grep -l -F 'fe$T' '$E2E'/sink/* >/dev/null 2>&1" \
	&& ok "a rule in monitor mode: the false-empathy reply is delivered" || fail "the false-empathy reply was not delivered"
wait_for 30 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held0 ]" \
	&& ok "the other rules enforce: the curt reply is held" || fail "the curt reply was not held"
vl_has "fe$T" "r['action'] == 'pass' and r['would'] == 'hold' and r['mode'] == 'monitor'
	and {'rule': 'false-empathy', 'weight': r['rules'][0]['weight'], 'monitor': True,
	     'excerpt': 'I know how you feel.'} in r['rules']" >"$E2E/vl.out" \
	&& ok "verdict log: false empathy would hold" || fail "verdict log for the false-empathy reply: $(cat "$E2E/vl.out")"
vl_has "cu$T" "r['action'] == 'hold' and r['would'] == 'hold' and r['mode'] == 'enforce'" >"$E2E/vl.out" \
	&& ok "verdict log: the curt reply held in enforce mode" || fail "verdict log for the curt reply: $(cat "$E2E/vl.out")"

# 3. tonegatectl's decision lands in the same log, keyed by queue id.
id=$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if sys.argv[2] in l][-1]["queue_id"])' "$VL" "cu$T")
out=$("$CTL" -C "$PF" --config "$E2E/tg/tonegate.conf" release "$id" 2>&1) || fail "release $id: $out"
python3 - "$VL" "$id" <<'PY' && ok "release of $id recorded in the verdict log" || fail "no decision for $id in the verdict log"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
d = [r for r in d if r.get("queue_id") == sys.argv[2] and "decision" in r]
sys.exit(not (d and d[-1]["decision"] == "release" and d[-1]["by"] and d[-1]["agent"] == "agent@acme.example"
              and d[-1]["verdict"].startswith("hold score=14")))
PY

# 4. logrotate: the file moved away, SIGUSR2, the next verdict in a new file.
mv "$VL" "$VL.1"
n=$(grep -c 'verdict_log .* reopened' "$E2E/tonegate.log")
kill -USR2 "$TG_PID"
wait_for 10 sh -c "[ \$(grep -c 'verdict_log .* reopened' '$E2E/tonegate.log') -gt $n ]"
send agent@acme.example maria@example.net "$(mark "$ex/01-courteous.eml" "rot$T")" >/dev/null
wait_for 20 sh -c "grep -q 'rot$T' '$VL' 2>/dev/null" && ! grep -q "rot$T" "$VL.1" \
	&& ok "SIGUSR2 reopens the verdict log: the next verdict is in the new file" || fail "the verdict log was not reopened"

# 5. A verdict log that cannot be opened: logged, mail flows.
sed -i "s|^verdict_log = .*|verdict_log = \"$E2E/missing/dir/verdicts.jsonl\";|" "$E2E/tg/tonegate.conf"
reload "reloaded" || fail "reload with an unopenable verdict log not logged"
grep -q "reload: cannot open verdict_log $E2E/missing/dir/verdicts.jsonl: No such file or directory" "$E2E/tonegate.log" \
	&& ok "an unopenable verdict log is logged" || fail "no error for the unopenable verdict log"
send agent@acme.example maria@example.net "$(mark "$ex/01-courteous.eml" "nolog$T")" >/dev/null
wait_for 20 sh -c "grep -l -F 'nolog$T' '$E2E'/sink/* >/dev/null 2>&1" \
	&& ok "mail is delivered meanwhile" || fail "mail stopped with an unopenable verdict log"
wait_for 10 grep -q "nolog$T" "$VL" && ok "verdicts still go to the file opened before" \
	|| fail "the verdict was lost instead of going to the file opened before"

# 6. The judging-time histogram in the metrics file: one observation per
# judged message (a log line with time=), cumulative buckets ending at +Inf.
n=$(grep -c ' time=[0-9.]*ms' "$E2E/tonegate.log")
sleep 2  # metrics_interval = 1
python3 - "$E2E/tg/tonegate.prom" "$n" <<'PY' && ok "judging-time histogram: $n messages, cumulative buckets" || fail "judging-time histogram: $(grep judge_seconds "$E2E/tg/tonegate.prom")"
import re, sys
text, n = open(sys.argv[1]).read(), int(sys.argv[2])
b = [(le, int(v)) for le, v in re.findall(r'^tonegate_judge_seconds_bucket\{le="([^"]+)"\} (\d+)$', text, re.M)]
count = int(re.search(r"^tonegate_judge_seconds_count (\d+)$", text, re.M).group(1))
total = float(re.search(r"^tonegate_judge_seconds_sum ([0-9.]+)$", text, re.M).group(1))
vals = [v for _, v in b]
ok = (len(b) == 12 and b[-1][0] == "+Inf" and vals == sorted(vals) and vals[-1] == count == n
      and 0 < total < n and "# TYPE tonegate_judge_seconds histogram" in text)
sys.exit(0 if ok else 1)
PY

# 7. cpu= beside time= on every judged line: the thread's CPU time, never
# more than the wall-clock time around the same work.
python3 - "$E2E/tonegate.log" <<'PY' && ok "cpu= on every judged line, within its time=" || fail "cpu= missing or above time=: $(grep -m3 ' time=' "$E2E/tonegate.log")"
import re, sys
pairs = re.findall(r" time=([0-9.]+)ms( cpu=([0-9.]+)ms)?", open(sys.argv[1]).read())
sys.exit(0 if pairs and all(c and float(c) <= float(t) + 0.01 for t, _, c in pairs) else 1)
PY

e2e_end
