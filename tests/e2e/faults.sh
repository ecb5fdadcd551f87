#!/bin/bash
# faults.sh — no message is lost when things go wrong around tonegate, through
# a real Postfix on loopback (see lib.sh): SIGKILL under load, Postfix
# restarted mid-session, the policy file deleted or corrupted before a
# reload, the runtime directory unwritable (at start and while serving).
# After each: every message the client sent is at the sink, in the hold
# queue, or was refused with a 4xx and sent again by the client (smtpload.py
# retries as an MTA would); and the daemon keeps serving. The notice server
# down is in notices.sh. Needs root; every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin python3
postconf -c "$PF" -e "smtpd_client_connection_count_limit = 0"
postfix -c "$PF" reload >/dev/null 2>&1
tonegate_conf "$E2E/tg/policy.conf"
tonegate_start || exit 1

load() {  # load PREFIX N PARALLEL: smtpload.py count mode, its JSON in $E2E/PREFIX.json
	python3 "$src/tests/e2e/smtpload.py" count "$SMTPD" "$2" "$3" "$1" 150 \
		"$ex/02-curt.eml" "$ex/01-courteous.eml" >"$E2E/$1.json" 2>"$E2E/$1.err"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$E2E/$1.json" "$2"; }
held_tokens() {  # the tokens PREFIX-n in the headers of held messages
	for i in $(held_ids); do postcat -c "$PF" -hq "$i" 2>/dev/null; done | grep -o "$1-[0-9]*" | sort -u
}
# conserved PREFIX WHAT: every message of the run PREFIX that the client got a
# 250 for is at the sink (courteous) or held (curt); none was given up.
conserved() {
	sent=$(field "$1" sent); acc=$(field "$1" accepted)
	wait_for 90 sh -c "[ \$( (grep -ho '$1-[0-9]*' '$E2E'/sink/* 2>/dev/null; \
		for i in \$(postqueue -c '$PF' -j | grep '\"hold\"' | sed 's/.*\"queue_id\": *\"\([^\"]*\)\".*/\1/'); do \
		postcat -c '$PF' -hq \$i 2>/dev/null; done | grep -o '$1-[0-9]*') | sort -u | wc -l) -ge $acc ]"
	grep -ho "$1-[0-9]*" "$E2E"/sink/* 2>/dev/null | sort -u >"$E2E/$1.sink"
	held_tokens "$1" >"$E2E/$1.held"
	if python3 - "$E2E/$1.json" "$E2E/$1.sink" "$E2E/$1.held" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))
sink = set(open(sys.argv[2]).read().split())
held = set(open(sys.argv[3]).read().split())
curt, good = set(r["curt"]), set(r["good"])
bad = []
if r["accepted"] != r["sent"] or r["gave_up"] or r["rejected"]:
    bad.append("sent %(sent)d, accepted %(accepted)d, rejected %(rejected)d, gave up %(gave_up)d" % r)
if good - sink: bad.append("courteous not delivered: %s" % sorted(good - sink)[:5])
if curt - held: bad.append("curt not held: %s" % sorted(curt - held)[:5])
if held & good: bad.append("courteous held: %s" % sorted(held & good)[:5])
if sink & curt: bad.append("curt delivered: %s" % sorted(sink & curt)[:5])
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
		ok "$2: $acc sent = $(wc -l <"$E2E/$1.sink") delivered + $(wc -l <"$E2E/$1.held") held ($(field "$1" tempfail) temp-failures retried by the client)"
	else
		fail "$2: messages lost or misjudged (above)"
	fi
}
judged_after() {  # judged_after N: wait until tonegate has judged N more messages
	j=$(grep -c 'time=' "$E2E/tonegate.log")
	wait_for 60 sh -c "[ \$(grep -c 'time=' '$E2E/tonegate.log') -ge $((j + $1)) ]"
}
serving() {  # serving WHAT: the daemon still holds a fresh curt reply
	n=$(held_count)
	send agent@acme.example maria@example.net "$ex/02-curt.eml" >/dev/null
	wait_for 30 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $n ]" \
		&& ok "$1: tonegate still serving (a new curt reply is held)" || fail "$1: tonegate no longer serving"
}

# 1. SIGKILL under load, twice: 300 messages over 10 sessions; Postfix
# temp-fails (milter_default_action = tempfail) what was in flight and the
# client sends it again once tonegate is back (as systemd would restart it).
load K1 300 10 &
LOAD=$!
for round in 1 2; do
	judged_after 40

	kill -9 "$TG_PID"; wait "$TG_PID" 2>/dev/null
	sleep 1
	tonegate_start || fail "tonegate did not restart after SIGKILL $round"
done
wait "$LOAD"
[ "$(field K1 tempfail)" -gt 0 ] && ok "SIGKILL: the client saw $(field K1 tempfail) temporary failures" \
	|| fail "SIGKILL under load: no temporary failure seen: was tonegate killed mid-load?"
conserved K1 "SIGKILL under load"
serving "after SIGKILL"

# 2. Postfix stopped and started while 10 sessions are in the middle of
# transactions: tonegate sees its milter connections cut mid-message.
load P1 200 10 &
LOAD=$!
judged_after 40
postfix_restart || fail "postfix did not start again"
wait "$LOAD"
kill -0 "$TG_PID" 2>/dev/null && ok "Postfix restarted mid-session: tonegate still running" \
	|| fail "Postfix restarted mid-session: tonegate died"
conserved P1 "Postfix restarted mid-session"
serving "after the Postfix restart"

# 3. The policy file deleted, then replaced with garbage, before a reload:
# each reload is refused with the reason and the old policy keeps working.
cp "$E2E/tg/policy.conf" "$E2E/tg/policy.good"
rm "$E2E/tg/policy.conf"
reload "reload refused" && grep -q "reload refused.*policy.conf: cannot read the policy file: No such file or directory" "$E2E/tonegate.log" \
	&& ok "policy deleted: reload refused: $(grep 'reload refused' "$E2E/tonegate.log" | tail -1 | cut -c1-160)" \
	|| fail "policy deleted: reload not refused with the reason"
serving "policy deleted"
head -c 3000 /dev/urandom >"$E2E/tg/policy.conf"
chmod 0644 "$E2E/tg/policy.conf"
reload "reload refused" && grep 'reload refused' "$E2E/tonegate.log" | tail -1 | grep -q "policy.conf:[0-9]*: " \
	&& ok "policy corrupted: reload refused with file:line" || fail "policy corrupted: reload not refused with file:line"
serving "policy corrupted"
cp "$E2E/tg/policy.good" "$E2E/tg/policy.conf"

# 4. The runtime directory unwritable.
# a) At start: the socket's directory is not writable by anyone but root, so
# the daemon cannot create it: a clear error and exit 1, not a crash or a hang.
mkdir -p "$E2E/ro" && chmod 0555 "$E2E/ro"
sed "s|^socket = .*|socket = \"unix:$E2E/ro/sub/tonegate.sock\";|" "$E2E/tg/tonegate.conf" >"$E2E/tg/ro.conf"
timeout 60 "$TONEGATE" -f -c "$E2E/tg/ro.conf" >"$E2E/ro.log" 2>&1; st=$?
[ "$st" -eq 1 ] && grep -q "cannot open the socket unix:$E2E/ro/sub/tonegate.sock" "$E2E/ro.log" \
	&& ok "socket directory missing: exit 1: $(grep 'cannot open' "$E2E/ro.log" | cut -c1-140)" \
	|| fail "socket directory missing: exit $st: $(cat "$E2E/ro.log")"
# b) While serving: the metrics directory becomes unwritable. Mail still flows,
# the failure is logged once (not every interval), and it recovers.
chmod 0555 "$E2E/tg"
rm -f "$E2E/tg/tonegate.prom"
sleep 3
load U1 40 4
conserved U1 "runtime directory unwritable"
n=$(grep -c "cannot write metrics_file" "$E2E/tonegate.log")
[ "$n" -eq 1 ] && ok "metrics unwritable: logged once: $(grep 'cannot write metrics_file' "$E2E/tonegate.log" | cut -c1-150)" \
	|| fail "metrics unwritable: logged $n times"
chmod 0777 "$E2E/tg"
wait_for 10 test -s "$E2E/tg/tonegate.prom" && ok "metrics file written again once the directory is writable" \
	|| fail "metrics file not written after the directory became writable"

e2e_end
