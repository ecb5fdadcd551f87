#!/bin/bash
# demo.sh — the main job on its embedded default: a private Postfix relay on
# loopback with tonegate in front, the sample replies of conf/examples sent
# through it, and what became of each. Needs root (Postfix). Usage:
#   contrib/demo.sh BUILDDIR        (make demo does this)
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
TONEGATE=$(cd "${1:-$src}/src" && pwd)/tonegate
. "$src/tests/e2e/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it starts a private Postfix)"; exit 1; }
KEEP_E2E=1
trap e2e_stop EXIT
e2e_setup || { echo "demo: cannot start the private Postfix"; exit 1; }
cp "$src/conf/policy.conf" "$E2E/tg/policy.conf"
chmod 0644 "$E2E/tg/policy.conf"
tonegate_conf "$E2E/tg/policy.conf" "127.0.0.1:$SMTPD"  # notices go back through the relay
tonegate_start || exit 1
CTL=$(dirname "$TONEGATE")/tonegatectl
echo "A private relay: Postfix on 127.0.0.1:$SMTPD -> tonegate on 127.0.0.1:$MILTER -> sink on 127.0.0.1:$SINK"
echo
for f in "$src"/conf/examples/*.eml; do
	name=$(basename "$f")
	msgid=$(grep -m1 -i '^Message-ID:' "$f" | sed 's/^[^:]*: *//')
	out=$(send agent@acme.example customer@example.net "$f")
	wait_for 15 bash -c "grep -q -F -- '$msgid' '$E2E/tonegate.log'"
	line=$(grep -F -- "msgid=$msgid" "$E2E/tonegate.log" | tail -1)
	action=$(echo "$line" | sed -n 's/.* action=\([a-z]*\).*/\1/p')
	qid=$(echo "$line" | sed -n 's/.*queue=\([A-Z0-9]*\).*/\1/p')
	detail=$(echo "$line" | sed -n 's/.* \(score=[0-9]* ruleset=[^ ]* rules=[^ ]*\).*/\1/p')
	case "$action" in
	hold) echo "$name: HELD in Postfix's hold queue as $qid, notice sent to the agent ($detail)";;
	suggest) echo "$name: delivered, coaching note sent to the agent ($detail)";;
	rewrite) echo "$name: delivered with safe fixes added ($detail)";;
	reject) echo "$name: REJECTED with 550 ($detail)";;
	pass) echo "$name: delivered ($detail)";;
	*) echo "$name: $out";;
	esac
done
wait_for 20 bash -c "grep -l -F 'X-Tonegate-Notice: hold' '$E2E'/sink/* >/dev/null 2>&1"
notice=$(grep -l -F 'X-Tonegate-Notice: hold' "$E2E"/sink/* 2>/dev/null | head -1)
if [ -n "$notice" ]; then
	echo
	echo "The notice the agent got for a held reply ($notice):"
	tr -d '\r' <"$notice" | awk 'body { print; next } /^$/ { body = 1; print; next }
		/^Subject:/ { subj = 1; print; next } subj && /^[ \t]/ { print; next } { subj = 0 }' | sed 's/^/    /'
fi
echo
echo "Held replies, as a manager sees them (tonegatectl list):"
"$CTL" -C "$PF" list 2>&1 | sed 's/^/    /'
echo
echo "Where to look:"
echo "  tonegate's log (one line per message):  $E2E/tonegate.log"
echo "  Postfix's log:                           $E2E/maillog"
echo "  delivered messages and notices:         $E2E/sink/"
echo "  the counters (Prometheus text format):   $E2E/tg/tonegate.prom"
for id in $(held_ids); do
	echo "  why $id was held:  $CTL -C $PF show $id"
done
echo "  release a held message:  $CTL -C $PF release ID   (start the relay again: postfix -c $PF start)"
