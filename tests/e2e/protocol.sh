#!/bin/bash
# protocol.sh — libmilter protocol edge cases (protocol.lua) with miltertest
# against tonegate on a loopback inet socket. Bounded: 120 s at most.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"
command -v miltertest >/dev/null || { echo "protocol: miltertest is missing: run contrib/dev.sh test"; exit 1; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port=$(free_port)
user=""
[ "$(id -u)" -eq 0 ] && user='user = "nobody"; group = "nogroup";'
cp "$src/conf/policy.conf" "$dir/policy.conf"
chmod 0755 "$dir"; chmod 0644 "$dir/policy.conf"
cat >"$dir/tonegate.conf" <<CF
socket = "inet:$port@127.0.0.1";
$user
policy = "$dir/policy.conf";
log = "stderr";
CF
"$TONEGATE" -f -c "$dir/tonegate.conf" >"$dir/tonegate.log" 2>&1 &
pid=$!
# a sanitizer build takes seconds to compile the policy: wait until it listens
wait_for 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { echo "FAIL: tonegate did not listen"; cat "$dir/tonegate.log"; exit 1; }
TONEGATE_SOCKET="inet:$port@127.0.0.1" timeout 120 miltertest -s "$src/tests/e2e/protocol.lua"
rc=$?
if [ $rc -ne 0 ]; then echo "--- tonegate log"; tail -20 "$dir/tonegate.log"; fi
kill -0 "$pid" 2>/dev/null || { echo "FAIL: tonegate died"; rc=1; }
exit $rc
