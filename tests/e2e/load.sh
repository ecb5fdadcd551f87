#!/bin/bash
# load.sh — 1,000 concurrent SMTP sessions through the private Postfix (see
# lib.sh) with tonegate in front, each sending for 60 s: zero errors; every
# curt reply held and every courteous one delivered; tonegate's file
# descriptors and RSS measured after a warm-up round and after the main
# round show no growth. Needs root. Environment: LOAD_SESSIONS (1000),
# LOAD_SECONDS (60), LOAD_INTERVAL (mean pause between a session's messages,
# 20 s: ~50 messages/s offered).
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"
NS=${LOAD_SESSIONS:-1000}
SECS=${LOAD_SECONDS:-60}
IV=$(( ${LOAD_INTERVAL:-20} * 2 ))  # smtpload.py pauses uniformly in [0, IV)

# A thousand sessions need more than the usual 1,024 descriptors in the
# client, in tonegate (one per milter connection; the unit sets LimitNOFILE)
# and in Postfix's master.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 || { echo "load: cannot raise the descriptor limit"; exit 1; }
e2e_begin python3
# This test's Postfix only: an smtpd for every session, no per-client limits,
# and room for the milter to answer a burst.
postconf -c "$PF" -e "default_process_limit = $((NS + 100))" "smtpd_client_connection_count_limit = 0" \
	"smtpd_client_connection_rate_limit = 0" "smtpd_client_message_rate_limit = 0" \
	"milter_command_timeout = 60s" "milter_content_timeout = 120s" "smtpd_timeout = 300s"
# A restart, not a reload: the listen queue is sized from the process limit
# when the socket is made, and a reload keeps the socket.
postfix_restart || { fail "postfix did not start again"; e2e_end; }
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTPD" || fail "postfix did not listen again"
tonegate_conf "$E2E/tg/policy.conf"
echo 'timeout = 300;' >>"$E2E/tg/tonegate.conf"
# ASan's quarantine (256 MB by default) keeps freed blocks: RSS then grows
# until it is full, and a sanitizer run measured that, not tonegate (218 MB
# after the warm-up, 281 MB after the main round, in CI). A small one fills
# during the warm-up, so the no-growth check measures live memory again; no
# effect on a plain build. LeakSanitizer still reports leaks at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
tonegate_start || exit 1

fds() { ls "/proc/$TG_PID/fd" | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$TG_PID/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$TG_PID/status"; }
settle() {  # wait until Postfix has closed every milter connection
	wait_for 60 sh -c "[ \$(ss -Htn state established '( sport = :$MILTER )' | wc -l) -eq 0 ]"
	sleep 2
}
round() {  # round NAME SECONDS: every session sends for SECONDS; the JSON in $E2E/NAME.json
	timeout $(($2 + 900)) python3 "$src/tests/e2e/smtpload.py" load "$SMTPD" "$NS" "$2" "$IV" "$1" \
		"$ex/02-curt.eml" "$ex/01-courteous.eml" >"$E2E/$1.json" 2>"$E2E/$1.err"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$E2E/$1.json" "$2"; }

sample() {  # the most file descriptors and threads tonegate had while the rounds ran
	while kill -0 "$TG_PID" 2>/dev/null; do
		echo "$(fds) $(threads)"
		sleep 1
	done >"$E2E/samples"
}
sample &
fd0=$(fds); rss0=$(rss)
round W1 20 || fail "warm-up: smtpload failed: $(tail -3 "$E2E/W1.err")"
settle
fd1=$(fds); rss1=$(rss)
round L1 "$SECS" || fail "load: smtpload failed: $(tail -3 "$E2E/L1.err")"
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$TG_PID/status")
settle
fd2=$(fds); rss2=$(rss)

for r in W1 L1; do
	s=$(field $r sessions); e=$(field $r errors); a=$(field $r accepted)
	[ "$s" -eq "$NS" ] && [ "$e" -eq 0 ] && [ "$a" -gt 0 ] \
		&& ok "$r: $s sessions open at once (all open after $(field $r open_seconds) s), $a messages accepted, 0 errors" \
		|| fail "$r: $s of $NS sessions, $a accepted, $e errors: $(field $r error_samples)"
done

# Every accepted message of the main round ends where it should.
ngood=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["good"]))' "$E2E/L1.json")
wait_for 120 sh -c "[ \$(grep -ho 'L1-[0-9]*' '$E2E'/sink/* 2>/dev/null | sort -u | wc -l) -ge $ngood ]"
grep -ho 'L1-[0-9]*' "$E2E"/sink/* 2>/dev/null | sort -u >"$E2E/L1.sink"
for i in $(held_ids); do postcat -c "$PF" -hq "$i" 2>/dev/null; done | grep -o 'L1-[0-9]*' | sort -u >"$E2E/L1.held"
python3 - "$E2E/L1.json" "$E2E/L1.sink" "$E2E/L1.held" <<'PY' && ok "main round: every courteous reply delivered, every curt one held" || fail "main round: messages lost or misjudged"
import json, sys
r = json.load(open(sys.argv[1]))
sink, held = set(open(sys.argv[2]).read().split()), set(open(sys.argv[3]).read().split())
good, curt = set(r["good"]), set(r["curt"])
miss = (good - sink) | (curt - held)
print("delivered %d, held %d, missing %d %s" % (len(sink & good), len(held & curt), len(miss), sorted(miss)[:5]))
sys.exit(1 if miss or (sink & curt) or (held & good) else 0)
PY

echo "tonegate: at most $(sort -n "$E2E/samples" | tail -1 | cut -d' ' -f1) fds and $(sort -k2 -n "$E2E/samples" | tail -1 | cut -d' ' -f2) threads during the rounds"
echo "tonegate: fds $fd0 at start, $fd1 after the warm-up, $fd2 after the main round; RSS $((rss0 / 1024)) MB, $((rss1 / 1024)) MB, $((rss2 / 1024)) MB (peak $((peak / 1024)) MB); $(threads) threads"
[ "$fd2" -le "$fd1" ] && ok "no file descriptor growth ($fd1 -> $fd2)" || fail "file descriptors grew: $fd1 -> $fd2"
# Freed memory stays in glibc's arenas, so RSS after the warm-up is the
# baseline; a leak of even 1 KB per message (~3,000 messages) would show.
[ "$rss2" -le $((rss1 + rss1 / 10 + 2048)) ] && ok "no RSS growth ($((rss1 / 1024)) MB -> $((rss2 / 1024)) MB)" \
	|| fail "RSS grew: $((rss1 / 1024)) MB -> $((rss2 / 1024)) MB"
kill -0 "$TG_PID" && ok "tonegate still running" || fail "tonegate died"

e2e_end
