# lib.sh — a private Postfix relay on loopback for the end-to-end tests:
#   client --SMTP--> postfix smtpd (127.0.0.1:$SMTPD) --milter--> tonegate
#          --relayhost--> smtp-sink (127.0.0.1:$SINK) dumping each message.
# Everything lives under $E2E (mode 0755 so the postfix user can reach it),
# listens on 127.0.0.1 only and is torn down by e2e_stop. Sourced by every
# e2e script (make check sets top_srcdir and top_builddir) and the benches.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
src=${src:-$(cd "$top_srcdir" && pwd)}
TONEGATE=${TONEGATE:-$(cd "$top_builddir/src" 2>/dev/null && pwd)/tonegate}
CTL=${CTL:-$(cd "$top_builddir/src" 2>/dev/null && pwd)/tonegatectl}

free_port() {  # a TCP port on 127.0.0.1 nobody listens on, below Linux's
	# ephemeral range (32768-60999) so no outgoing connection can take it
	while :; do
		p=$(( (RANDOM % 12000) + 20000 ))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

wait_for() {  # wait_for SECONDS COMMAND...: poll until the command succeeds
	t=$(( $1 * 10 ))
	shift
	while [ "$t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

e2e_setup() {
	E2E=$(mktemp -d /tmp/tonegate-e2e.XXXXXX)
	chmod 0755 "$E2E"
	SMTPD=$(free_port); SINK=$(free_port); MILTER=$(free_port)
	mkdir -p "$E2E/conf" "$E2E/queue" "$E2E/data" "$E2E/sink" "$E2E/tg"
	chown postfix "$E2E/data" "$E2E/sink"
	cat >"$E2E/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $E2E/queue
data_directory = $E2E/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.tonegate.test
mydomain = tonegate.test
myorigin = tonegate.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK
alias_maps =
alias_database =
local_recipient_maps =
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_dns_support_level = disabled
maillog_file = $E2E/maillog
maillog_file_prefixes = $E2E
smtpd_milters = inet:127.0.0.1:$MILTER
non_smtpd_milters =
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 20s
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
default_process_limit = 40
CF
	# Debian's master.cf with the smtpd on our port and nothing chrooted.
	awk -v port="$SMTPD" '
		/^smtp[ \t]+inet/ { $1 = "127.0.0.1:" port }
		/^[a-z0-9.:]+[ \t]+(inet|unix|unix-dgram|fifo|pass)[ \t]/ { if ($5 == "y" || $5 == "-") $5 = "n" }
		{ print }' /etc/postfix/master.cf >"$E2E/conf/master.cf"
	PF="$E2E/conf"
	postfix -c "$PF" check >"$E2E/check.log" 2>&1 || { echo "postfix check failed:"; cat "$E2E/check.log"; return 1; }
	smtp-sink -u postfix -d "$E2E/sink/%H%M%S." "127.0.0.1:$SINK" 512 >"$E2E/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK" || { echo "smtp-sink did not listen:"; cat "$E2E/sink.log"; return 1; }
	postfix -c "$PF" start >"$E2E/start.log" 2>&1 || { echo "postfix start failed:"; cat "$E2E/start.log"; return 1; }
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTPD" || { echo "postfix did not listen"; cat "$E2E/maillog"; return 1; }
}

# postfix_restart: stop the private Postfix, wait until every one of its
# processes is gone (postfix stop only signals the master; its children
# exit after it), and start it again; a start that fails is tried again (5
# tries, bounded), its output printed when all fail. Under a loaded CI
# machine a start one second after the stop once failed its integrity check
# with the old processes still exiting.
pf_procs() {  # the PIDs of the private Postfix: they all run in its queue
	local d
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/cwd" 2>/dev/null)" = "$E2E/queue" ] && echo "${d#/proc/}"
	done
	return 0
}
pf_gone() { [ -z "$(pf_procs)" ]; }
postfix_restart() {
	postfix -c "$PF" stop >/dev/null 2>&1
	wait_for 30 pf_gone || echo "postfix_restart: still running after 30 s: $(pf_procs | tr '\n' ' ')"
	local i
	for i in 1 2 3 4 5; do
		postfix -c "$PF" start >"$E2E/restart.log" 2>&1 &&
			wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTPD" && return 0
		sleep 2
	done
	echo "postfix_restart: start failed 5 times:"
	cat "$E2E/restart.log"
	return 1
}

tonegate_conf() {  # tonegate_conf POLICY [NOTICE_SERVER]: write the daemon config for
	# the test; notices go to NOTICE_SERVER (host:port), none without it
	cat >"$E2E/tg/tonegate.conf" <<CF
socket = "inet:$MILTER@127.0.0.1";
user = "nobody";
group = "nogroup";
policy = "$1";
log = "stderr";
status_interval = 1;
metrics_file = "$E2E/tg/tonegate.prom";
metrics_interval = 1;
notice_server = "${2:-}";
notice_retry_base = 1;
notice_retry_max = 2;
notice_max_tries = 100;  # outlasts a reload in a sanitizer build (the policy compiles for ~8 s)
notice_timeout = 5;
CF
	chmod 0777 "$E2E/tg"  # tonegate runs as nobody and writes its metrics here
}

tonegate_start() {  # waits for the socket of the config: unix:PATH, else $MILTER
	# TG_LAUNCH: a command to start it through (bench/relay.sh: setsid)
	${TG_LAUNCH:-} "$TONEGATE" -f -c "$E2E/tg/tonegate.conf" >>"$E2E/tonegate.log" 2>&1 &
	TG_PID=$!
	local sock
	sock=$(sed -n 's/^socket = "unix:\(.*\)";$/\1/p' "$E2E/tg/tonegate.conf")
	if [ -n "$sock" ]; then
		wait_for 60 test -S "$sock"
	else
		wait_for 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MILTER"
	fi || { echo "tonegate did not listen"; cat "$E2E/tonegate.log"; return 1; }
}

e2e_stop() {
	[ -n "${TG_PID:-}" ] && kill "$TG_PID" 2>/dev/null
	[ -n "${PF:-}" ] && postfix -c "$PF" stop >/dev/null 2>&1
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${E2E:-}" ] && [ -z "${KEEP_E2E:-}" ] && rm -rf "$E2E"; true
}

send() {  # send FROM TO FILE: one SMTP transaction; prints swaks's transcript
	swaks --silent 1 --server "127.0.0.1:$SMTPD" --from "$1" --to "$2" --data "@$3" --timeout 30 2>&1
}

sink_count() { find "$E2E/sink" -type f | wc -l; }
held_ids() { postqueue -c "$PF" -j 2>/dev/null | grep '"queue_name": *"hold"' | sed 's/.*"queue_id": *"\([^"]*\)".*/\1/'; }
held_count() { held_ids | grep -c . ; }
sink_with() { grep -l -F -- "$1" "$E2E"/sink/* 2>/dev/null | wc -l; }

# The frame of every e2e script: e2e_begin TOOL... checks root and the tools,
# starts the private Postfix and writes the default policy gating
# @acme.example to $E2E/tg/policy.conf; ok/fail count; e2e_end reports and
# gives the exit status.
e2e_begin() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "e2e: needs root to run a private Postfix (CI runs it as root); skipped"
		exit 77
	fi
	for t in postfix smtp-sink swaks postqueue postcat "$@"; do
		command -v "$t" >/dev/null || { echo "e2e: $t is missing: run contrib/dev.sh test"; exit 1; }
	done
	fails=0
	trap e2e_stop EXIT
	# Once more on a failure: another test's relay may have raced us to a port.
	e2e_setup || { echo "e2e: first try failed, retrying"; e2e_stop; E2E= PF= SINK_PID=; e2e_setup; } ||
		{ echo "e2e: cannot start the private Postfix"; exit 1; }
	# internal.example: mail to it is out of scope at DATA (run.sh)
	sed -e 's/senders = \[ \];/senders = [ "@acme.example" ];/' \
	    -e 's/skip_recipient_domains = \[ \];/skip_recipient_domains = [ "internal.example" ];/' \
	    "$src/conf/policy.conf" >"$E2E/tg/policy.conf"
	chmod 0644 "$E2E/tg/policy.conf"
	ex="$src/conf/examples"
}
# each line with the seconds since the script began: a slow step shows
fail() { echo "FAIL: [${SECONDS}s] $*"; fails=$((fails + 1)); }
ok() { echo "ok: [${SECONDS}s] $*"; }
e2e_end() {
	if [ "$fails" -ne 0 ]; then
		echo "--- tonegate log"; tail -30 "$E2E/tonegate.log"; echo "--- postfix log"; tail -30 "$E2E/maillog"
	fi
	[ "$fails" -eq 0 ] && echo "e2e: all checks passed"
	exit $((fails > 0))
}
reload() {  # reload EXPECTED_LOG_TEXT: SIGUSR1 and wait for the log line (compiling
	# the policy takes seconds in a sanitizer build)
	n=$(grep -c -F "$1" "$E2E/tonegate.log")
	kill -USR1 "$TG_PID"
	wait_for 60 sh -c "[ \$(grep -c -F '$1' '$E2E/tonegate.log') -gt $n ]"
}
