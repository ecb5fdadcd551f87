#!/bin/bash
# relay.sh — make bench, part 2 (issue #5): relay throughput through the
# private Postfix of the e2e tests (tests/e2e/lib.sh) with
#   (a) no milter, (b) bench/nullmilter, a do-nothing libmilter filter that
#   negotiates what tonegate does (the floor of the milter protocol), and
#   (c) tonegate with the default policy (conf/policy.conf, unchanged),
# runs alternated ABBA (odd rounds in that order, even rounds reversed, so the
# two filters always run back to back), then tonegate's added
# latency per message from its own `time=` log field.
#   relay.sh TOP_SRCDIR TOP_BUILDDIR
#
# Each run is one burst: BENCH_RELAY_MSGS messages (5000) over
# BENCH_RELAY_SESSIONS parallel SMTP sessions (20), one smtp-source per
# session (`smtp-source -s 1 -m N/20 -c -F FILE -f agent@acme.example
# -t customer@example.net 127.0.0.1:PORT`), each sending one real reply of
# the engine's corpus (-F; a new SMTP connection, hence a new milter
# connection, per message, as smtp-source does by default). The 20 replies
# are the first of each kind in the corpus that the default policy lets
# through (pass or suggest: a held message would never reach the sink),
# in the corpus's mix: 10 plain, 5 HTML-only, 4 multipart/alternative,
# 1 multipart/mixed (scaled with the session count).
# Throughput = messages at the sink / (last message accepted by the sink -
# first connect); smtp-sink dumps each message to a file (lib.sh), so the
# count is the files and the end is the newest file's mtime.
#
# Needs root (private Postfix); skips (exit 0, says so) otherwise. Everything
# listens on 127.0.0.1, every wait is bounded, everything is torn down at the
# end. Environment: BENCH_RELAY_ROUNDS (4), BENCH_RELAY_MSGS (5000),
# BENCH_RELAY_SESSIONS (20), BENCH_N / BENCH_SEED (the corpus, 2000 / 5),
# BENCH_RELAY_QUIET (25 messages per reply one at a time; 0 skips that),
# BENCH_TG_EXTRA (lines added to tonegate's config, for experiments such as
# 'pass_header = false;'; the figures are then not the default's),
# BENCH_RELAY_SOCKET (unix, the default: both filters on unix sockets in the
# run's directory, as a packaged tonegate listens; inet: both on 127.0.0.1
# ports), BENCH_RELAY_SETSID (1: each filter in a session of its own, as a
# service runs; 0: in this script's session, see below).
set -u
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
TONEGATE=$build/src/tonegate
NULLMILTER=$build/bench/nullmilter
CHECK=$build/src/tonegate-check
ROUNDS=${BENCH_RELAY_ROUNDS:-4}
MSGS=${BENCH_RELAY_MSGS:-5000}
SESS=${BENCH_RELAY_SESSIONS:-20}
N=${BENCH_N:-2000}
SEED=${BENCH_SEED:-5}
PYTHON=${PYTHON:-python3}
RATIO_MIN=0.95
P99_MAX=2
out="$build/bench/relay.txt"
mkdir -p "$build/bench"

if [ "$(id -u)" -ne 0 ]; then
	echo "relay: needs root to run a private Postfix: not measured (run make bench-relay as root)" | tee "$out"
	exit 0
fi
for t in postfix postconf postqueue smtp-sink smtp-source flock "$PYTHON"; do
	command -v "$t" >/dev/null || { echo "relay: $t missing: not measured" | tee "$out"; exit 0; }
done

corpus="$build/bench/corpus-s$SEED-n$N"
if [ ! -f "$corpus/.done" ]; then
	rm -rf "$corpus"
	"$PYTHON" "$src/bench/gen-corpus.py" --seed "$SEED" -n "$N" "$corpus" >/dev/null || exit 1
	touch "$corpus/.done"
fi

# The replies to send: by kind, in the corpus's order, the first the default
# policy passes or suggests on.
files=$("$CHECK" -p "$src/conf/policy.conf" --json $(ls "$corpus"/*.eml | head -400) 2>/dev/null |
	"$PYTHON" -c '
import json, sys
want = {"plain": 10, "html": 5, "alternative": 4, "mixed": 1}
n = int(sys.argv[1])
scale = {k: max(1, round(v * n / 20)) for k, v in want.items()}
scale["plain"] = max(1, n - sum(v for k, v in scale.items() if k != "plain"))
got = {k: [] for k in want}
for line in sys.stdin:
    j = json.loads(line)
    if j.get("status") != "ok" or j.get("action") not in ("pass", "suggest"):
        continue
    kind = None
    with open(j["file"], "rb") as f:
        for l in f:
            if l.lower().startswith(b"x-bench-kind:"):
                kind = l.split(b":", 1)[1].strip().decode()
                break
            if l in (b"\n", b"\r\n"):
                break
    if kind in got and len(got[kind]) < scale[kind]:
        got[kind].append(j["file"])
for k in want:
    print("\n".join(got[k]))
' "$SESS")
nfiles=$(echo "$files" | grep -c .)
if [ "$nfiles" -ne "$SESS" ]; then
	echo "relay: found only $nfiles suitable replies in $corpus for $SESS sessions: not measured" | tee "$out"
	exit 1
fi
sizes=$(for f in $files; do stat -c %s "$f"; done | sort -n)
size_mean=$(echo "$sizes" | awk '{s += $1} END {printf "%.1f", s / NR / 1024}')
size_min=$(echo "$sizes" | head -1 | awk '{printf "%.1f", $1 / 1024}')
size_max=$(echo "$sizes" | tail -1 | awk '{printf "%.1f", $1 / 1024}')

. "$src/tests/e2e/lib.sh"
NM_PID=""
relay_stop() {
	[ -n "$NM_PID" ] && kill "$NM_PID" 2>/dev/null
	e2e_stop
}
trap relay_stop EXIT
if ! e2e_setup; then  # once more: a port lib.sh picked may have been taken meanwhile
	e2e_stop
	PF="" SINK_PID="" TG_PID=""
	sleep 1
	e2e_setup || { echo "relay: cannot start the private Postfix"; exit 1; }
fi
NULLPORT=$(free_port)
while [ "$NULLPORT" = "$MILTER" ] || [ "$NULLPORT" = "$SMTPD" ] || [ "$NULLPORT" = "$SINK" ]; do
	NULLPORT=$(free_port)
done
# lib.sh's free_port can pick a port that a connection of the moment holds
# (smtp-sink then dies with "Address already in use"): check the sink, and
# start it again on another port when it is not there.
sink_up() { kill -0 "$SINK_PID" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$SINK") 2>/dev/null; }
tries=0
until sleep 0.5; sink_up; do
	tries=$((tries + 1))
	[ "$tries" -le 5 ] || { echo "relay: smtp-sink does not start"; cat "$E2E/sink.log"; exit 1; }
	SINK=$(free_port)
	smtp-sink -u postfix -d "$E2E/sink/%H%M%S." "127.0.0.1:$SINK" 512 >>"$E2E/sink.log" 2>&1 &
	SINK_PID=$!
	postconf -c "$PF" -e "relayhost = [127.0.0.1]:$SINK"
done
# This bench's Postfix only: enough processes for 20 sessions in and out.
postconf -c "$PF" -e "default_process_limit = 100" "smtpd_client_connection_count_limit = 0" \
	"smtpd_milters ="
postfix -c "$PF" reload >/dev/null 2>&1

cp "$src/conf/policy.conf" "$E2E/tg/policy.conf"   # the default policy, unchanged
chmod 0644 "$E2E/tg/policy.conf"
tonegate_conf "$E2E/tg/policy.conf"
sed -i 's/^status_interval = 1;/status_interval = 60;/; s/^metrics_interval = 1;/metrics_interval = 60;/' \
	"$E2E/tg/tonegate.conf"
[ -n "${BENCH_TG_EXTRA:-}" ] && echo "$BENCH_TG_EXTRA" >>"$E2E/tg/tonegate.conf"
SOCKET=${BENCH_RELAY_SOCKET:-unix}
if [ "$SOCKET" = unix ]; then
	# Postfix's smtpd (user postfix) connects: the sockets are world-writable
	sed -i "s|^socket = .*|socket = \"unix:$E2E/tg/tonegate.sock\";\nsocket_mode = \"0666\";|" "$E2E/tg/tonegate.conf"
	null_addr="unix:$E2E/null.sock"
	milter_of=("" "unix:$E2E/null.sock" "unix:$E2E/tg/tonegate.sock")
	null_up() { test -S "$E2E/null.sock"; }
else
	null_addr="inet:$NULLPORT@127.0.0.1"   # libmilter's form; Postfix writes host:port
	milter_of=("" "inet:127.0.0.1:$NULLPORT" "inet:127.0.0.1:$MILTER")
	null_up() { (exec 3<>"/dev/tcp/127.0.0.1/$NULLPORT") 2>/dev/null; }
fi
# Each filter runs in a session of its own, as systemd starts a service (it
# calls setsid()) and as Postfix's master runs its daemons: Linux schedules
# by session (autogroup) or by the service's cgroup, so on a relay the filter
# never shares its CPU share with the SMTP clients. Started from this
# script's session instead, the filter would share one with the 20
# smtp-source load generators and smtp-sink, an arrangement no relay has;
# BENCH_RELAY_SETSID=0 measures it that way (time= p99 10 ms where its own
# session gives 1.5 ms, with the same throughput: BENCHMARKS.md).
LAUNCH=setsid
[ "${BENCH_RELAY_SETSID:-1}" = 0 ] && LAUNCH=""
TG_LAUNCH=$LAUNCH tonegate_start || exit 1
(umask 0; exec $LAUNCH "$NULLMILTER" "$null_addr") >"$E2E/nullmilter.log" 2>&1 &
NM_PID=$!
wait_for 20 null_up || { echo "relay: nullmilter did not listen"; cat "$E2E/nullmilter.log"; exit 1; }
sid_of() { awk '{print $6}' "/proc/$1/stat" 2>/dev/null; }
if [ -n "$LAUNCH" ]; then
	for p in "$TG_PID" "$NM_PID"; do
		[ "$(sid_of "$p")" = "$p" ] || { echo "relay: filter $p is not in a session of its own (setsid forked?)"; exit 1; }
	done
	sched="each in a session of its own, as a service runs"
else
	sched="in the load generator's session (BENCH_RELAY_SETSID=0)"
fi

names=("no-milter" "do-nothing" "tonegate")
pid_of=("" "$NM_PID" "$TG_PID")
cur_mode=-1
use_mode() {  # smtpd_milters for mode $1, then a reload (smtpd processes restart)
	[ "$1" = "$cur_mode" ] && return 0
	postconf -c "$PF" -e "smtpd_milters = ${milter_of[$1]}"
	postfix -c "$PF" reload >/dev/null 2>&1
	sleep 2
	cur_mode=$1
}
cpu_ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
queue_empty() { [ -z "$(postqueue -c "$PF" -j 2>/dev/null)" ]; }

# burst MESSAGES: one burst; sets b_delivered b_secs b_rate b_cpu b_ok
burst() {
	local msgs=$1 i=0 per rest pids=() f
	find "$E2E/sink" -type f -delete
	per=$((msgs / SESS))
	rest=$((msgs - per * SESS))
	local t0 s0 s1
	s0=$(head -1 /proc/stat)
	t0=$(date +%s.%N)
	for f in $files; do
		local m=$per
		[ "$i" -lt "$rest" ] && m=$((per + 1))
		timeout 600 smtp-source -s 1 -m "$m" -c -F "$f" -f agent@acme.example -t customer@example.net \
			"127.0.0.1:$SMTPD" >"$E2E/source.$i.log" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	b_ok=1
	for p in "${pids[@]}"; do wait "$p" || b_ok=0; done
	s1=$(head -1 /proc/stat)
	# drain: every message at the sink and the queue empty (bounded)
	wait_for 120 sh -c "[ \$(find '$E2E/sink' -type f | wc -l) -ge $msgs ]" || b_ok=0
	wait_for 30 queue_empty || b_ok=0
	b_delivered=$(find "$E2E/sink" -type f | wc -l)
	kill -0 "$SINK_PID" 2>/dev/null || echo "relay: smtp-sink is gone: $(tail -1 "$E2E/sink.log")"
	local t1
	t1=$(find "$E2E/sink" -type f -printf '%T@\n' | sort -n | tail -1)
	b_secs=$(awk -v a="$t0" -v b="${t1:-$t0}" 'BEGIN {printf "%.3f", b - a}')
	# the machine while the sources ran: busy and iowait shares of all CPUs
	b_cpu=$(echo "$s0 $s1" | awk '{n = (NF - 2) / 2; for (i = 2; i <= n + 1; i++) { d = $(i + n + 1) - $i; t += d; if (i == 5) id = d; if (i == 6) io = d; if (i == 9) st = d }
		printf "CPU %.0f%% busy, %.0f%% iowait, %.0f%% steal", 100 * (t - id - io) / t, 100 * io / t, 100 * st / t}')
	b_rate=$(awk -v n="$b_delivered" -v s="$b_secs" 'BEGIN {printf "%.1f", (s > 0 ? n / s : 0)}')
}

hz=$(getconf CLK_TCK)
{
	echo "== relay: $ROUNDS rounds of (no milter, do-nothing filter, tonegate), odd rounds in that order, even rounds reversed; each a burst of $MSGS messages over $SESS parallel SMTP sessions"
	echo "private Postfix $(postconf -d -h mail_version 2>/dev/null) on 127.0.0.1 (default_process_limit = 100), smtp-sink -d behind it, $(nproc) CPUs; milters on $SOCKET sockets"
	echo "filters: tonegate and the do-nothing filter $sched (kernel.sched_autogroup_enabled = $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo '?'))"
	echo "replies sent: $SESS from $(basename "$corpus") (10 plain, 5 HTML-only, 4 multipart/alternative, 1 multipart/mixed per 20), ${size_min}-${size_max} KB, mean ${size_mean} KB; one per session:"
	echo "\$ smtp-source -s 1 -m $((MSGS / SESS)) -c -F REPLY.eml -f agent@acme.example -t customer@example.net 127.0.0.1:\$SMTPD   (x $SESS in parallel)"
} | tee "$out"

# warm-up (not counted): every mode once, a short burst
for m in 2 1 0; do
	use_mode "$m"
	burst $((SESS * 10))
done
echo "warm-up: $((SESS * 10)) messages per mode, not counted" | tee -a "$out"

declare -A rates rate_of
pairs=""   # tonegate/do-nothing of each round
tg_lines="$E2E/tonegate-times"
tg_cpu="$E2E/tonegate-cpu"   # its cpu= field: the CPU time judging took
: >"$tg_lines"
: >"$tg_cpu"
bad=0
for r in $(seq 1 "$ROUNDS"); do
	for k in 0 1 2; do
		# ABBA: odd rounds no-milter, do-nothing, tonegate; even rounds the
		# reverse. The two filters always run back to back (their ratio is
		# taken within the round) and, with an even number of rounds (the
		# default), each order comes as often.
		m=$(( r % 2 ? k : 2 - k ))
		use_mode "$m"
		before=$(grep -c 'time=' "$E2E/tonegate.log")
		c0=$(cpu_ticks "${pid_of[$m]}")
		burst "$MSGS"
		c1=$(cpu_ticks "${pid_of[$m]}")
		after=$(grep -c 'time=' "$E2E/tonegate.log")
		judged=$((after - before))
		extra=""
		if [ "$m" -ne 0 ]; then
			extra=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$b_delivered" -v name="${names[$m]}" \
				'BEGIN {printf ", %s CPU %.2f s (%.3f ms per message)", name, c / hz, (n ? c / hz * 1000 / n : 0)}')
		fi
		if [ "$m" -eq 2 ]; then
			grep 'time=' "$E2E/tonegate.log" | tail -n "+$((before + 1))" >"$E2E/tonegate-round"
			sed -n 's/.* time=\([0-9.]*\)ms.*/\1/p' "$E2E/tonegate-round" >>"$tg_lines"
			sed -n 's/.* cpu=\([0-9.]*\)ms.*/\1/p' "$E2E/tonegate-round" >>"$tg_cpu"
			extra="$extra, $judged judged"
			[ "$judged" -eq "$MSGS" ] || { b_ok=0; extra="$extra (expected $MSGS)"; }
		elif [ "$judged" -ne 0 ]; then
			extra="$extra, $judged judged by tonegate (expected none)"
			b_ok=0
		fi
		note=""
		[ "$b_ok" = 1 ] && [ "$b_delivered" -eq "$MSGS" ] || { note="  INCOMPLETE"; bad=1; }
		rates[$m]="${rates[$m]:-} $b_rate"
		rate_of[$m]=$b_rate
		printf "round %d %-10s %5d delivered in %7.3f s: %7.1f messages/s (%s)%s%s\n" "$r" "${names[$m]}" \
			"$b_delivered" "$b_secs" "$b_rate" "$b_cpu" "$extra" "$note" | tee -a "$out"
	done
	pairs="$pairs $(awk -v a="${rate_of[2]}" -v b="${rate_of[1]}" 'BEGIN {printf "%.6f", (b > 0 ? a / b : 0)}')"
done

# The same replies one at a time (one session, the machine otherwise idle):
# tonegate's time= without 20 sessions, Postfix and the sink competing for
# the CPUs, to tell judging from waiting for a CPU in the figures above.
QUIET_PER=${BENCH_RELAY_QUIET:-25}
quiet="$E2E/tonegate-times-quiet"
if [ "$QUIET_PER" -gt 0 ]; then
	use_mode 2
	find "$E2E/sink" -type f -delete
	before=$(grep -c 'time=' "$E2E/tonegate.log")
	for f in $files; do
		timeout 300 smtp-source -s 1 -m "$QUIET_PER" -F "$f" -f agent@acme.example -t customer@example.net \
			"127.0.0.1:$SMTPD" >/dev/null 2>&1
	done
	wait_for 60 sh -c "[ \$(find '$E2E/sink' -type f | wc -l) -ge $((QUIET_PER * SESS)) ]"
	grep 'time=' "$E2E/tonegate.log" | tail -n "+$((before + 1))" | sed -n 's/.* time=\([0-9.]*\)ms.*/\1/p' >"$quiet"
fi

# median VALUE...: printed with 4 decimals (a ratio's median of an even
# count must not be rounded before it is compared with the target)
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {if (NR % 2) printf "%.4f\n", v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
med0=$(median ${rates[0]} | awk '{printf "%.1f", $1}')
med1=$(median ${rates[1]} | awk '{printf "%.1f", $1}')
med2=$(median ${rates[2]} | awk '{printf "%.1f", $1}')
# The machine's speed drifts by tens of per cent over minutes (the same
# do-nothing burst has cost 0.73 and 1.01 ms of CPU per message within one
# run, with no steal time to show for it): the ratio that decides is the
# median of each round's tonegate/do-nothing, two runs back to back; the
# ratio of the medians over all rounds is shown beside it.
ratio_raw=$(median $pairs)
ratio_null=$(echo "$ratio_raw" | awk '{printf "%.3f", $1}')
ratio_meds=$(awk -v a="$med2" -v b="$med1" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
ratio_none=$(awk -v a="$med2" -v b="$med0" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
ratio_floor=$(awk -v a="$med1" -v b="$med0" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
pct() { sort -g "$1" | awk '{v[NR] = $1; s += $1}
	function q(p,  i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] }
	END {if (NR) printf "%d %.2f %.2f %.2f %.2f %.2f", NR, q(0.5), q(0.99), q(0.999), v[NR], s / NR; else print "0 0 0 0 0 0"}'; }
read -r lat_n p50 p99 p999 pmax pmean <<<"$(pct "$tg_lines")"
{
	echo "median messages/s: no milter $med0, do-nothing $med1, tonegate $med2"
	echo "tonegate/do-nothing per round (back to back):$(for x in $pairs; do printf ' %.2f' "$x"; done); median $ratio_null"
	echo "ratios of the medians: tonegate/do-nothing $ratio_meds, tonegate/no-milter $ratio_none (do-nothing/no-milter $ratio_floor)"
	echo "tonegate time= over $lat_n judged messages: p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, max $pmax ms, mean $pmean ms"
	read -r c_n c50 c99 c999 cmax cmean <<<"$(pct "$tg_cpu")"
	echo "tonegate cpu= over the same $c_n messages (its own CPU time; time= less cpu= is waiting for a CPU): p50 $c50 ms, p99 $c99 ms, p99.9 $c999 ms, max $cmax ms, mean $cmean ms"
	if [ -s "$quiet" ]; then
		read -r q_n q50 q99 q999 qmax qmean <<<"$(pct "$quiet")"
		echo "tonegate time= one message at a time (same replies, one session, $q_n messages): p50 $q50 ms, p99 $q99 ms, max $qmax ms, mean $qmean ms"
	fi
	v=holds
	awk -v r="$ratio_raw" -v t="$RATIO_MIN" 'BEGIN {exit !(r >= t)}' || v="does NOT hold"
	[ "$bad" -eq 0 ] || v="$v (but some runs were incomplete: see above)"
	echo "relay: tonegate/do-nothing = $ratio_null (target >= $RATIO_MIN): $v"
	v=holds
	awk -v p="$p99" -v t="$P99_MAX" 'BEGIN {exit !(p <= t)}' || v="does NOT hold"
	[ "$lat_n" -gt 0 ] || v="not measured (no message judged)"
	echo "latency: p99 $p99 ms added per message (target <= $P99_MAX ms): $v"
} | tee -a "$out"
exit 0
