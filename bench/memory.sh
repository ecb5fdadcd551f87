#!/bin/bash
# memory.sh — make bench, part 3 (issue #5): tonegate's peak RSS with 500
# concurrent SMTP sessions open through the private Postfix of the e2e tests
# (tests/e2e/lib.sh), tonegate in front with the default policy.
#   memory.sh TOP_SRCDIR TOP_BUILDDIR
# Needs root (private Postfix); skips (exit 0, says so) otherwise. Everything
# listens on 127.0.0.1 and every wait is bounded. Environment: BENCH_SESSIONS
# (500), BENCH_N / BENCH_SEED (the engine corpus, for the messages sent).
set -u
top_srcdir=$1
top_builddir=$2
src=$(cd "$top_srcdir" && pwd)
build=$(cd "$top_builddir" && pwd)
TONEGATE=$build/src/tonegate
NS=${BENCH_SESSIONS:-500}
LIMIT_MB=64
out="$build/bench/memory.txt"
corpus="$build/bench/corpus-s${BENCH_SEED:-5}-n${BENCH_N:-2000}"

if [ "$(id -u)" -ne 0 ]; then
	echo "memory: needs root to run a private Postfix: not measured" | tee "$out"
	exit 0
fi
for t in postfix smtp-sink python3; do
	command -v "$t" >/dev/null || { echo "memory: $t missing: not measured" | tee "$out"; exit 0; }
done
. "$src/tests/e2e/lib.sh"
trap e2e_stop EXIT
e2e_setup || { echo "memory: cannot start the private Postfix"; exit 1; }
# This bench's Postfix only: enough smtpd processes for every session.
postconf -c "$PF" -e "default_process_limit = $((NS + 100))" "smtpd_client_connection_count_limit = 0" \
	"milter_command_timeout = 60s"
postfix -c "$PF" reload >/dev/null 2>&1
cp "$src/conf/policy.conf" "$E2E/tg/policy.conf"   # the default policy, unchanged
chmod 0644 "$E2E/tg/policy.conf"
tonegate_conf "$E2E/tg/policy.conf"
echo 'timeout = 300;' >>"$E2E/tg/tonegate.conf"   # idle sessions must outlive the measurement
tonegate_start || exit 1
sleep 2
base_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$TG_PID/status")

files=$(ls "$corpus"/*.eml 2>/dev/null | head -200)
[ -n "$files" ] || files=$(ls "$src"/conf/examples/*.eml)
python3 "$src/bench/sessions.py" "$SMTPD" "$NS" 20 $files >"$E2E/sessions.out" 2>&1 &
spid=$!
wait_for 240 grep -q holding "$E2E/sessions.out" || { echo "memory: sessions did not open"; cat "$E2E/sessions.out"; kill "$spid"; exit 1; }
sleep 3
conns=$(ss -Htn state established "( sport = :$MILTER )" 2>/dev/null | wc -l)
threads=$(awk '/^Threads/ {print $2}' "/proc/$TG_PID/status")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$TG_PID/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$TG_PID/status")
judged=$(grep -c 'time=' "$E2E/tonegate.log")
wait "$spid"
{
	echo "== memory: $NS concurrent SMTP sessions through the private Postfix, tonegate (default policy) in front"
	echo "sessions: $(cat "$E2E/sessions.out")"
	echo "tonegate: $conns milter connections open, $threads threads, $judged messages judged"
	echo "tonegate RSS: $((base_rss / 1024)) MB idle after start; $((rss / 1024)) MB with the sessions open; peak (VmHWM) $((hwm / 1024)) MB"
	v=holds
	[ "$hwm" -le $((LIMIT_MB * 1024)) ] || v="does NOT hold"
	[ "$conns" -ge "$NS" ] || v="$v (but only $conns of $NS milter connections were open)"
	echo "memory: peak RSS $((hwm / 1024)) MB with $NS sessions (target <= $LIMIT_MB MB): $v"
} | tee "$out"
