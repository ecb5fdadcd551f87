#!/bin/bash
# hostile.sh — hostile messages (issue #6) through a real Postfix and the
# tonegate daemon on loopback (see lib.sh): a 50 MB body, 10,000-deep MIME
# nesting, 100,000 parts, NUL bytes and 8-bit headers, a curt reply behind a
# boundary that is not the declared one. Each is delivered with its
# X-Tonegate header or held, the daemon still holds a plain curt reply
# afterwards, and its peak RSS over the run stays bounded. Needs root; every
# wait is bounded (under 2 minutes in a sanitizer build).
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin python3

# Postfix takes the 50 MB message (its default limit is 10 MB); tonegate keeps
# its default max_message_size (10 MB), past which on_oversize = pass.
postconf -c "$PF" -e message_size_limit=62914560
postfix -c "$PF" reload >/dev/null 2>&1
tonegate_conf "$E2E/tg/policy.conf"
# ASan's quarantine would make the RSS count every byte ever freed; a small
# one keeps the bound below about live memory (no effect on a plain build).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
tonegate_start || exit 1
# The peak from here on: the policy compile at start-up is not the messages'.
echo 5 >"/proc/$TG_PID/clear_refs"
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$TG_PID/status")

python3 - "$E2E" <<'PY'
import sys
d = sys.argv[1]
curt = b"Nope. Can't work that out this time.\r\n"
def head(mid, extra=b""):
    return (b"From: Agent <agent@acme.example>\r\nTo: \"Maria Lopez\" <maria@example.net>\r\n"
            b"Subject: Re: help\r\nMessage-ID: <" + mid + b"@acme.example>\r\nMIME-Version: 1.0\r\n" + extra)
def w(name, data):
    with open(d + "/" + name + ".eml", "wb") as f:
        f.write(data)
line = b"All work and no play makes Jack a dull boy, all work and no play ok.\r\n"
w("big", head(b"h-big", b"Content-Type: text/plain\r\n\r\n") + curt + line * (50 * 1024 * 1024 // len(line)))
deep = b"".join(b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (i, i) for i in range(10000))
w("deep", head(b"h-deep") + deep + b"Content-Type: text/plain\r\n\r\n" + curt
  + b"".join(b"--b%d--\r\n" % i for i in reversed(range(10000))))
w("parts", head(b"h-parts", b"Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n")
  + b"--p\r\nContent-Type: text/plain\r\n\r\nNope.\r\n" * 100000 + b"--p--\r\n")
w("nul", b"From: Agent <agent@acme.example>\r\nTo: \"Maria\0Lopez\" <maria@example.net>\r\n"
  b"Subject: Re: he\0lp\r\nMessage-ID: <h-nul@acme.example>\r\nContent-Type: text/plain\r\n\r\n"
  b"Nope.\0 Can't work that out\0 this time.\r\n\0\0\0\r\n")
w("8bit", b"From: R\xe4j M\xfcller <agent@acme.example>\r\nTo: \"M\xc3\xa1ria\" <maria@example.net>\r\n"
  b"Subject: Re: caf\xc3\xa9 \xe9t\xe9\r\nMessage-ID: <h-8bit@acme.example>\r\nContent-Type: text/plain\r\n\r\n" + curt)
w("mismatch", head(b"h-mismatch", b"Content-Type: multipart/alternative; boundary=\"zz\"\r\n\r\n")
  + b"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + curt
  + b"\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + curt + b"</p>\r\n--alt--\r\nThanks!\r\n")
PY

sink_file() { grep -l -F -- "$1" "$E2E"/sink/* 2>/dev/null | head -1; }
held_with() {  # held_with MSGID: the hold-queue id of the message, if held
	for id in $(held_ids); do
		postcat -c "$PF" -hq "$id" 2>/dev/null | grep -q -F -- "$1" && { echo "$id"; return 0; }
	done
	return 1
}
# delivered NAME MSGID HEADER: sent, and reaches the sink with that header line
delivered() {
	out=$(send agent@acme.example maria@example.net "$E2E/$1.eml")
	if wait_for 60 sh -c "grep -l -F '<$2@acme.example>' '$E2E'/sink/* >/dev/null 2>&1"; then
		f=$(sink_file "<$2@acme.example>")
		grep -q -F -- "$3" "$f" && ok "$1: delivered with \"$3\"" \
			|| fail "$1: delivered without \"$3\": $(grep -a '^X-Tonegate' "$f")"
	else
		fail "$1: not at the sink: $(echo "$out" | tail -3)"
	fi
}
# held NAME MSGID: sent, and in the hold queue with the curt finding
held() {
	out=$(send agent@acme.example maria@example.net "$E2E/$1.eml")
	if wait_for 60 held_with "$2@acme.example"; then
		id=$(held_with "$2@acme.example")
		postcat -c "$PF" -hq "$id" 2>/dev/null | grep -q '^X-Tonegate-Finding: curt' \
			&& ok "$1: held as $id with the curt finding" || fail "$1: held without the curt finding"
	else
		fail "$1: not held: $(echo "$out" | tail -3)"; grep -a "$2" "$E2E/tonegate.log" | tail -2
	fi
	[ -z "$(sink_file "$2@acme.example")" ] || fail "$1: reached the sink"
}

t0=$(date +%s)
delivered big h-big "X-Tonegate: unchecked reason=too-big"
delivered deep h-deep "X-Tonegate: unchecked reason=too-deep"
delivered parts h-parts "X-Tonegate: unchecked reason=too-many-parts"
held nul h-nul
held 8bit h-8bit
held mismatch h-mismatch

# Still serving: the canonical curt reply is held as before.
kill -0 "$TG_PID" 2>/dev/null && ok "tonegate is still running" || fail "tonegate died"
n=$(held_count)
send agent@acme.example maria@example.net "$ex/02-curt.eml" >/dev/null
wait_for 60 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $n ]" \
	&& ok "afterwards a plain curt reply is still held" || fail "afterwards the curt reply was not held"
grep -q "on_error" "$E2E/tonegate.log" && fail "an internal error (on_error) in the log: $(grep on_error "$E2E/tonegate.log")"

# Bounded memory: of the 50 MB message only max_message_size (10 MB) is
# buffered (two copies while it grows), and the others (4 MB at most) are
# judged within check_hostile's bound (3 x size + 64 MB, measured far under
# it): 64 MB would not hold the whole 50 MB buffered.
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$TG_PID/status")
grew=$(( (hwm - rss0) / 1024 ))
[ "$grew" -le 64 ] && ok "peak RSS grew ${grew} MB over the run (bound 64 MB; VmHWM $((hwm / 1024)) MB)" \
	|| fail "peak RSS grew ${grew} MB (bound 64 MB)"
echo "hostile: $(( $(date +%s) - t0 )) s for the messages"
e2e_end
