#!/bin/bash
# security.sh — least privilege and hostile message data, through a real
# Postfix on loopback (see lib.sh): tonegate refuses to run as root without a
# user; started as root it drops to its user, and the unix socket gets the
# configured owner, group and mode, through which Postfix (as postfix)
# reaches it; printf directives in every field of a message reach no format
# string. Needs root; every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin stat

# 1. Root with no user to drop to: refused at start, with the fix named.
tonegate_conf "$E2E/tg/policy.conf"
sed '/^user = /d; /^group = /d' "$E2E/tg/tonegate.conf" >"$E2E/tg/root.conf"
timeout 60 "$TONEGATE" -f -c "$E2E/tg/root.conf" >"$E2E/root.log" 2>&1; st=$?
[ "$st" -eq 1 ] && grep -q 'refusing to run as root without a user to drop to: set user = "tonegate";' "$E2E/root.log" \
	&& ok "as root without a user: exit 1: $(cut -c1-120 "$E2E/root.log")" || fail "as root without a user: exit $st: $(cat "$E2E/root.log")"

# 2. A unix socket: owner (socket_owner, default the user), group and mode as
# configured; the daemon runs as nobody; Postfix connects as postfix.
mkdir -p "$E2E/run" && chmod 0755 "$E2E/run" && chown nobody "$E2E/run"
sed "s|^socket = .*|socket = \"unix:$E2E/run/tonegate.sock\";\nsocket_group = \"postfix\";\nsocket_mode = \"0660\";|" \
	"$E2E/tg/tonegate.conf" >"$E2E/tg/unix.conf"
"$TONEGATE" -f -c "$E2E/tg/unix.conf" >>"$E2E/tonegate.log" 2>&1 &
TG_PID=$!
wait_for 60 test -S "$E2E/run/tonegate.sock" && sleep 0.5
perm=$(stat -c '%U:%G %a' "$E2E/run/tonegate.sock" 2>/dev/null)
[ "$perm" = "nobody:postfix 660" ] && ok "socket owned by nobody:postfix, mode 660" || fail "socket: '$perm', want 'nobody:postfix 660'"
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$TG_PID/status"); nobody=$(id -u nobody)
[ "$uids" = "$nobody $nobody $nobody $nobody" ] && ok "the daemon runs as nobody (real, effective, saved, fs uid $nobody)" \
	|| fail "the daemon's uids: $uids"
[ "$(awk '/^CapEff:/ {print $2}' "/proc/$TG_PID/status")" = 0000000000000000 ] && ok "no effective capabilities" \
	|| fail "capabilities left: $(grep ^Cap "/proc/$TG_PID/status")"
postconf -c "$PF" -e "smtpd_milters = unix:$E2E/run/tonegate.sock"
postfix -c "$PF" reload >/dev/null 2>&1
sleep 1

# 3. printf directives and shell metacharacters in the envelope, every header
# the log or a notice uses, and the body: judged as text, logged literally.
fmt='%n%s%s%x%p%1$s%99999999d$(id)`id`'
cat >"$E2E/fmt.eml" <<EOF
From: "Jamey $fmt Fox" <jamey@acme.example>
To: "Maria $fmt" <maria@example.net>
Subject: Re: $fmt
Message-ID: <fmt$$.$fmt@acme.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Nope. Can't work that out this time. $fmt
EOF
held_before=$(held_count)
send 'agent%n%s@acme.example' maria@example.net "$E2E/fmt.eml" >"$E2E/fmt.out"
wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held_before ]" \
	&& ok "a reply full of printf directives is judged and held through the unix socket" \
	|| fail "the printf reply was not held: $(cat "$E2E/fmt.out")"
grep -q -F 'from=<agent%n%s@acme.example>' "$E2E/tonegate.log" && ok "the log shows the directives literally" \
	|| fail "the log line lost the literal directives: $(grep 'from=<agent' "$E2E/tonegate.log" | tail -1)"
kill -0 "$TG_PID" && serving=1 || serving=0
[ "$serving" -eq 1 ] && ok "tonegate still running" || fail "tonegate died"

e2e_end
