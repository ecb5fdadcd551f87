#!/bin/bash
# install.sh — make check-install (issue #10): the Debian package installed
# system-wide and used as packaged. lintian finds no error; apt installs it;
# every program and man page of make install is in it; the conffiles, the
# tonegate user, the disabled unit (systemd-analyze verify); tonegate -n on
# the shipped files; the daemon started the way the unit starts it (its
# ExecStart as User=/Group=, RuntimeDirectory=, LogsDirectory=, UMask=,
# NoNewPrivileges=, no capabilities, MemoryDenyWriteExecute= through
# PR_SET_MDWE, Type=notify through a NOTIFY_SOCKET) holds a curt reply and
# passes a courteous one through the private Postfix of lib.sh over the unix
# socket of the shipped tonegate.conf, as README.Debian wires it; remove keeps
# the configuration, purge leaves only the user (Debian keeps system users).
# Root only: it installs and purges the package. DEB=path skips the build.
# The trap purges the package and undoes what the test did, even on failure.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "install: needs root (it installs the package system-wide); skipped"
	exit 77
fi
for t in apt-get dpkg dpkg-query lintian systemd-analyze setpriv adduser python3; do
	command -v "$t" >/dev/null || { echo "install: $t is missing: run contrib/dev.sh test"; exit 1; }
done
if dpkg-query -W -f '${Status}' tonegate 2>/dev/null | grep -q installed; then
	echo "install: tonegate is already installed on this machine; refusing to replace it"
	exit 1
fi
getent passwd tonegate >/dev/null && user_before=1 || user_before=0

if [ -z "${DEB:-}" ]; then
	t0=$(date +%s)
	timeout 900 make -s -C "$top_builddir" deb >"/tmp/tonegate-install-deb.$$.log" 2>&1 ||
		{ echo "install: make deb failed:"; tail -40 "/tmp/tonegate-install-deb.$$.log"; exit 1; }
	rm -f "/tmp/tonegate-install-deb.$$.log"
	DEB=$(ls "$top_builddir"/deb/tonegate_*.deb | head -1)
	echo "install: built $DEB in $(( $(date +%s) - t0 )) s"
fi
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
[ -f "$DEB" ] || { echo "install: no package at $DEB"; exit 1; }

e2e_begin
TG_PID='' NOTIFY_PID=''
cleanup() {
	[ -n "$TG_PID" ] && kill "$TG_PID" 2>/dev/null
	[ -n "$NOTIFY_PID" ] && kill "$NOTIFY_PID" 2>/dev/null
	TG_PID=
	if dpkg-query -W -f '${Status}' tonegate 2>/dev/null | grep -q -E 'installed|config-files'; then
		timeout 300 apt-get purge -y -q tonegate >>"$E2E/apt.log" 2>&1
	fi
	getent group tonegate >/dev/null && gpasswd -d postfix tonegate >/dev/null 2>&1
	if [ "$user_before" -eq 0 ]; then
		getent passwd tonegate >/dev/null && userdel tonegate
		getent group tonegate >/dev/null && groupdel tonegate
	fi
	e2e_stop
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP  # a timeout or ^C cleans up too

# 1. lintian: no error; only the warnings packaging/README explains.
KEPT_WARNINGS="initial-upload-closes-no-bugs"
lintian --fail-on error "$DEB" >"$E2E/lintian.log" 2>&1 && ok "lintian: no errors" ||
	fail "lintian errors: $(grep '^E:' "$E2E/lintian.log")"
for w in $(sed -n 's/^W: [^ ]* \([^ ]*\).*/\1/p' "$E2E/lintian.log" | sort -u); do
	echo " $KEPT_WARNINGS " | grep -q " $w " || fail "lintian warning not explained in packaging/README: $w"
done

# 2. Install with apt (dependencies from the archive, none expected missing).
if DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$DEB" >"$E2E/apt.log" 2>&1; then
	ok "apt-get install $(basename "$DEB")"
else
	fail "apt-get install failed: $(tail -5 "$E2E/apt.log")"
	e2e_end
fi

# 3. Everything make install installs is in the package.
missing=""
for f in $(make -s --no-print-directory -C "$top_builddir" install-list | tail -1); do
	case $f in
	man/*) n=${f##*/}; p=/usr/share/man/man${n##*.}/$n.gz ;;
	*) n=${f##*/}; p=$(dpkg -L tonegate | grep -E "^/usr/s?bin/$n\$") ;;
	esac
	[ -n "$p" ] && [ -e "$p" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "every program and man page of make install is installed" ||
	fail "not in the package:$missing"
conff=$(dpkg-query -W -f '${Conffiles}' tonegate)
echo "$conff" | grep -q ' /etc/tonegate/tonegate.conf ' && echo "$conff" | grep -q ' /etc/tonegate/policy.conf ' &&
	ok "tonegate.conf and policy.conf are conffiles" || fail "conffiles: $conff"
pw=$(getent passwd tonegate)
uid=$(echo "$pw" | cut -d: -f3)
[ -n "$pw" ] && [ "$uid" -lt 1000 ] && echo "$pw" | grep -q ':/nonexistent:/usr/sbin/nologin$' &&
	getent group tonegate >/dev/null && ok "system user and group tonegate (uid $uid, no login)" ||
	fail "tonegate user: '$pw'"

UNIT=/lib/systemd/system/tonegate.service
[ -f "$UNIT" ] || UNIT=/usr/lib/systemd/system/tonegate.service
systemd-analyze verify "$UNIT" >"$E2E/verify.log" 2>&1 && ok "systemd-analyze verify accepts $UNIT" ||
	fail "systemd-analyze verify: $(cat "$E2E/verify.log")"
[ "$(systemctl is-enabled tonegate.service 2>&1)" = disabled ] && ok "the unit is installed disabled" ||
	fail "the unit is not disabled: $(systemctl is-enabled tonegate.service 2>&1)"

# 4. tonegate -n on the shipped files, as root and as the user the unit runs as.
tonegate -n >"$E2E/n.log" 2>&1 && grep -q '/etc/tonegate/tonegate.conf: ok' "$E2E/n.log" &&
	ok "tonegate -n accepts the shipped configuration" || fail "tonegate -n: $(tail -3 "$E2E/n.log")"
setpriv --reuid=tonegate --regid=tonegate --init-groups tonegate -n >/dev/null 2>&1 &&
	ok "tonegate -n as the tonegate user" || fail "the tonegate user cannot read the shipped files"

# 5. The daemon as the unit starts it.
unit() { sed -n "/^\[Service\]/,/^\[/ s/^$1=//p" "$UNIT" | tail -1; }
user=$(unit User) group=$(unit Group)
install -d -o "$user" -g "$group" -m "$(unit RuntimeDirectoryMode)" "/run/$(unit RuntimeDirectory)"
install -d -o "$user" -g "$group" -m "$(unit LogsDirectoryMode)" "/var/log/$(unit LogsDirectory)"
python3 - "$E2E/notify.sock" >"$E2E/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(300)
while True:
    print(s.recv(4096).decode(errors="replace").replace("\n", " "), flush=True)
PY
NOTIFY_PID=$!
wait_for 10 test -S "$E2E/notify.sock" || fail "no notify socket"
chmod 0777 "$E2E/notify.sock"  # the daemon sends as tonegate
# MemoryDenyWriteExecute=yes: the kernel's PR_SET_MDWE refuses W+X memory
# the same way; set as root, it stays across the execs that follow.
mdwe=() mdwe_state=off
[ "$(unit MemoryDenyWriteExecute)" = yes ] && mdwe_state=on && mdwe=(python3 -c '
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])')
# shellcheck disable=SC2046
(
	umask "$(unit UMask)"
	ulimit -n "$(unit LimitNOFILE)" 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # a container's hard limit
	export NOTIFY_SOCKET="$E2E/notify.sock"
	exec "${mdwe[@]}" setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
		--inh-caps=-all --bounding-set=-all -- $(unit ExecStart)
) >>"$E2E/tonegate.log" 2>&1 &
TG_PID=$!
wait_for 60 grep -q READY=1 "$E2E/notify.log" && ok "Type=notify: READY=1 (MemoryDenyWriteExecute: $mdwe_state)" ||
	fail "no READY=1 from the daemon: $(tail -3 "$E2E/tonegate.log")"
sock=$(sed -n 's/^socket *= *"unix:\(.*\)";.*/\1/p' /etc/tonegate/tonegate.conf)
[ -S "$sock" ] && [ "$(stat -c %U:%G:%a "$sock")" = "$user:$group:660" ] &&
	ok "socket $sock ($user:$group 0660)" || fail "socket $sock: $(stat -c %U:%G:%a "$sock" 2>&1)"
[ "$(stat -c %U "/proc/$TG_PID")" = "$user" ] && ok "the daemon runs as $user" || fail "the daemon runs as $(stat -c %U "/proc/$TG_PID")"

# README.Debian: Postfix reaches the socket through the group.
adduser --quiet postfix tonegate
postconf -c "$PF" -e "smtpd_milters = unix:$sock"
postfix -c "$PF" reload >/dev/null 2>&1
sleep 1  # smtpd processes started before the reload finish their session first

# 6. A curt reply is held, a courteous one delivered (the shipped policy:
# every sender in scope, mode enforce).
out=$(send agent@acme.example maria@example.net "$ex/02-curt.eml")
if wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -ge 1 ]"; then
	id=$(held_ids | head -1)
	postcat -c "$PF" -hq "$id" 2>/dev/null | grep -q '^X-Tonegate-Verdict: hold score=' &&
		ok "curt reply held ($id) by the installed daemon" || fail "held without a verdict header"
else
	fail "curt reply not held: $out $(grep -i milter "$E2E/maillog" | tail -2)"
fi
send agent@acme.example maria@example.net "$ex/01-courteous.eml" >/dev/null
wait_for 20 sh -c "grep -l -F 'X-Tonegate: pass score=0' '$E2E'/sink/* >/dev/null 2>&1" &&
	ok "courteous reply delivered with X-Tonegate: pass" || fail "courteous reply not delivered"
prom=$(sed -n 's/^metrics_file *= *"\(.*\)";.*/\1/p' /etc/tonegate/tonegate.conf)
wait_for 30 test -s "$prom" && [ "$(stat -c %U "$prom")" = "$user" ] &&
	ok "metrics file $prom written in the runtime directory" || fail "no metrics file $prom"

# 7. SIGTERM (systemctl stop, or a restart on upgrade): a clean stop.
kill -TERM "$TG_PID"
for _ in $(seq 1 "$(unit TimeoutStopSec | tr -d s)0"); do kill -0 "$TG_PID" 2>/dev/null || break; sleep 0.1; done
wait "$TG_PID"; st=$?
TG_PID=
[ "$st" -eq 0 ] && grep -q STOPPING=1 "$E2E/notify.log" && ok "SIGTERM: STOPPING=1, exit 0" ||
	fail "SIGTERM: exit status $st"

# 8. Reinstall keeps a changed conffile; remove keeps the configuration.
echo '# changed by the admin' >>/etc/tonegate/policy.conf
DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --reinstall "$DEB" >>"$E2E/apt.log" 2>&1 &&
	grep -q 'changed by the admin' /etc/tonegate/policy.conf && ok "reinstall keeps the admin's policy.conf" ||
	fail "reinstall lost the admin's policy.conf"
timeout 300 apt-get remove -y -q tonegate >>"$E2E/apt.log" 2>&1
[ ! -e /usr/sbin/tonegate ] && [ -f /etc/tonegate/tonegate.conf ] && [ -f /etc/tonegate/policy.conf ] &&
	ok "remove: programs gone, configuration kept" || fail "remove: $(ls /usr/sbin/tonegate /etc/tonegate 2>&1)"

# 9. Purge: nothing left but the user and group (Debian keeps system users).
timeout 300 apt-get purge -y -q tonegate >>"$E2E/apt.log" 2>&1
left=$(ls -d /etc/tonegate /var/log/tonegate /run/tonegate /etc/logrotate.d/tonegate "$UNIT" \
	/usr/lib/sysusers.d/tonegate.conf /usr/bin/tonegate* /usr/sbin/tonegate* /usr/share/man/man*/tonegate* \
	/usr/share/doc/tonegate 2>/dev/null)
[ -z "$left" ] && ! dpkg-query -W tonegate >/dev/null 2>&1 && ok "purge leaves no file behind" ||
	fail "purge left: $left $(dpkg-query -W -f '${Status}' tonegate 2>&1)"
getent passwd tonegate >/dev/null && ok "purge keeps the tonegate user (packaging/README)" ||
	fail "the tonegate user was removed"

e2e_end
