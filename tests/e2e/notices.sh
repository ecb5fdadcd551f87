#!/bin/bash
# notices.sh — what agents get, through a real Postfix on loopback (see
# lib.sh): the hold notice (findings, suggested rewrite, what to do next),
# the coaching note for suggest, notices that survive a dead notice server,
# notices that cannot be header-injected, and the rewrite action delivering
# valid MIME with the quoted history untouched. Needs root; waits are bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin python3

# Notices go back through the relay itself, so they reach the sink.
tonegate_conf "$E2E/tg/policy.conf" "127.0.0.1:$SMTPD"
tonegate_start || exit 1

notices() { grep -l -F "X-Tonegate-Notice: $1" "$E2E"/sink/* 2>/dev/null; }
sink_file() {  # sink_file MSGID notice|reply: the sink's copy of the notice about
	# the message MSGID, or of that message itself
	sel=-l; [ "$2" = reply ] && sel=-L
	grep -l -F "$1" "$E2E"/sink/* 2>/dev/null | xargs -r grep $sel -F 'X-Tonegate-Notice' | head -1
}
await_sink() {  # await_sink MSGID notice|reply: wait up to 30 s for it; prints the file
	for _ in $(seq 1 300); do
		f=$(sink_file "$1" "$2")
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

# 1. A held curt reply: the agent gets a notice that explains it.
send agent@acme.example maria@example.net "$ex/02-curt.eml" >/dev/null
if wait_for 30 sh -c "[ -n \"\$(grep -l -F 'X-Tonegate-Notice: hold' '$E2E'/sink/* 2>/dev/null)\" ]"; then
	id=$(held_ids | head -1)
	f=$(notices hold | head -1)
	miss=""
	for want in "To: agent@acme.example" "Auto-Submitted: auto-generated" \
		"In-Reply-To: <ex02@acme.example>" "X-Tonegate-Notice: hold $id" \
		"Subject: Held: your reply to maria@example.net (Re: Delivery on Friday" \
		"Held as:  $id" 'curt (line 1): "Nope."' "A curt reply" \
		"I'm sorry, but we can't work that out this time. [Say why, and what you can do instead.]" \
		"Hi Maria," "tonegatectl release $id"; do
		grep -q -F -- "$want" "$f" || miss="$miss [$want]"
	done
	[ -z "$miss" ] && [ -n "$id" ] && ok "hold notice to the agent with findings, rewrite and the id $id" \
		|| fail "hold notice lacks:$miss"; [ -n "$miss" ] && cat "$f"
	grep -q -F "to=<agent@acme.example>" "$E2E/maillog" && ok "the notice went to the envelope sender" \
		|| fail "no delivery to agent@acme.example in the maillog"
	[ "$(held_count)" -eq 1 ] && ok "the reply itself stays held" || fail "held count $(held_count)"
else
	fail "no hold notice at the sink"; tail -20 "$E2E/tonegate.log"
fi

# 2. A suggest-level reply: delivered, and the agent gets a coaching note.
send agent@acme.example maria@example.net "$src/tests/corpus/questions-pepper.eml" >/dev/null
wait_for 30 sh -c "[ -n \"\$(grep -l -F 'X-Tonegate-Notice: suggest' '$E2E'/sink/* 2>/dev/null)\" ]" \
	&& grep -q -F "has been delivered" $(notices suggest | head -1) \
	&& ok "coaching note for a suggest-level reply" || fail "no coaching note for suggest"

# 3. Header injection through the display name and the subject: the notice
# has no header beyond its own.
cat >"$E2E/inject.eml" <<'MSG'
From: Agent <agent@acme.example>
To: =?UTF-8?B?TWFyaWENCkJjYzogZXZpbEB4LmV4YW1wbGU=?= <maria@example.net>
Subject: =?UTF-8?Q?Re=3A_x=0D=0AX-Injected=3A_yes=0D=0A=0D=0Abody?=
Message-ID: <inject-1@acme.example>

Nope. Can't work that out this time.
MSG
send agent@acme.example maria@example.net "$E2E/inject.eml" >/dev/null
if f=$(await_sink inject-1@acme.example notice); then
	python3 - "$f" <<'PY' && ok "no header injected through the display name or the subject" || fail "header injection: $(sed -n '1,25p' "$f")"
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
allowed = {"x-client-addr", "x-client-proto", "x-helo-args", "x-mail-args", "x-rcpt-args",  # the sink's
           "from", "to", "date", "subject", "message-id", "in-reply-to", "references", "auto-submitted",
           "x-tonegate-notice", "mime-version", "content-type", "content-transfer-encoding", "received",
           "return-path", "x-original-to", "delivered-to"}
bad = [k for k in m.keys() if k.lower() not in allowed]
sys.exit(1 if bad or m.get("Bcc") or m.get("X-Injected") else 0)
PY
else
	fail "no notice for the injection attempt"
fi

# 4. The notice server down: the notice is retried and logged, the hold is intact;
# back up (a reload pointing at the relay), the notice goes out.
dead=$(free_port)
tonegate_conf "$E2E/tg/policy.conf" "127.0.0.1:$dead"
reload "reloaded" || fail "reload to the dead notice server not logged"
held0=$(held_count)
sed 's/ex02@acme.example/curt-2@acme.example/' "$ex/02-curt.eml" >"$E2E/curt2.eml"
send agent@acme.example maria@example.net "$E2E/curt2.eml" >/dev/null
wait_for 30 sh -c "[ \$(grep -c 'notice.*127.0.0.1:$dead' '$E2E/tonegate.log') -ge 2 ]" \
	&& ok "notice to a dead server retried and logged" || { fail "no retries logged"; tail -5 "$E2E/tonegate.log"; }
[ "$(held_count)" -eq $((held0 + 1)) ] && ok "the hold is intact while notices fail" || fail "held $(held_count), want $((held0 + 1))"
tonegate_conf "$E2E/tg/policy.conf" "127.0.0.1:$SMTPD"
reload "reloaded"
await_sink curt-2@acme.example notice >/dev/null \
	&& ok "the notice went out once the server was back" || fail "the retried notice never arrived"

# 5. The rewrite action: safe fixes in the delivered message, valid MIME, the
# quoted history byte-identical.
sed -e 's/^  rewrite = -1;/  rewrite = 2;/' -e 's/^  suggest = 3;/  suggest = 1;/' "$E2E/tg/policy.conf" >"$E2E/tg/policy.rw"
cp "$E2E/tg/policy.rw" "$E2E/tg/policy.conf"
reload "reloaded" || fail "reload to the rewrite policy not logged"
cat >"$E2E/rw-plain.eml" <<'MSG'
From: Jamey Fox <agent@acme.example>
To: Maria Lopez <maria@example.net>
Subject: Re: charger
Message-ID: <rw-plain@acme.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Your replacement charger shipped this morning and should arrive on Wednesday.
Let me know if it doesn't turn up.

On Mon, 3 Mar 2025 at 10:02, Maria Lopez <maria@example.net> wrote:
> My charger stopped working after two days.
> Can you send a new one? Café-grade urgency.
MSG
send agent@acme.example maria@example.net "$E2E/rw-plain.eml" >/dev/null
if f=$(await_sink rw-plain@acme.example reply); then
	python3 - "$f" "$E2E/rw-plain.eml" <<'PY' && ok "rewrite: greeting and closing added, valid MIME, history byte-identical" \
		|| { fail "rewrite (text/plain)"; cat "$f"; }
import sys, email, email.policy
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.default)
assert not m.defects, m.defects
body = m.get_content()
assert body.startswith("Hi Maria,\n\nYour replacement charger"), body
assert "turn up.\n\nBest regards,\nJamey Fox\n" in body, body
hist = open(sys.argv[2], 'rb').read().split(b"\n\nOn Mon", 1)[1]
assert hist.replace(b"\n", b"\r\n") in raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), "history changed"
assert "rewrite score=" in m["X-Tonegate"], m["X-Tonegate"]
PY
else
	fail "the rewritten message never reached the sink"; tail -5 "$E2E/tonegate.log"
fi
grep -q "rewrite=applied(a greeting and a closing)" "$E2E/tonegate.log" && ok "the log says what the rewrite added" \
	|| fail "no rewrite=applied in the log"

cat >"$E2E/rw-alt.eml" <<'MSG'
From: Jamey Fox <agent@acme.example>
To: Maria Lopez <maria@example.net>
Subject: Re: charger
Message-ID: <rw-alt@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Your replacement charger shipped this morning and should arrive on Wednesd=
ay. Let me know if it doesn't turn up.

On Mon, 3 Mar 2025 at 10:02, Maria Lopez <maria@example.net> wrote:
> My charger stopped working after two days. Caf=C3=A9.
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><div>Your replacement charger shipped this morning and should a=
rrive on Wednesday. Let me know if it doesn't turn up.</div>
<div class=3D"gmail_quote">On Mon, 3 Mar 2025 at 10:02, Maria Lopez wrote:<b=
lockquote>My charger stopped working after two days.</blockquote></div></body></html>
--b1--
MSG
send agent@acme.example maria@example.net "$E2E/rw-alt.eml" >/dev/null
if f=$(await_sink rw-alt@acme.example reply); then
	python3 - "$f" <<'PY' && ok "rewrite of multipart/alternative: both parts, valid MIME" || { fail "rewrite (alternative)"; cat "$f"; }
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
assert not m.defects, m.defects
parts = [p for p in m.walk() if not p.is_multipart()]
assert len(parts) == 2, parts
plain, html = parts[0].get_content(), parts[1].get_content()
for p in parts:
    assert not p.defects, p.defects
assert plain.startswith("Hi Maria,\n\nYour replacement"), plain
assert "> My charger stopped working after two days. Café." in plain, plain
assert "Hi Maria," in html and html.index("Hi Maria,") < html.index("Your replacement"), html
assert html.index("Best regards") < html.index("gmail_quote"), html
PY
else
	fail "the rewritten alternative message never reached the sink"; tail -5 "$E2E/tonegate.log"
fi
[ -s "$E2E/tg/tonegate.prom" ] && grep -q 'tonegate_rewrites_total{result="applied"} [1-9]' "$E2E/tg/tonegate.prom" \
	|| sleep 2
grep -q 'tonegate_rewrites_total{result="applied"} [1-9]' "$E2E/tg/tonegate.prom" 2>/dev/null \
	&& grep -q 'tonegate_messages_total{action="hold"} [1-9]' "$E2E/tg/tonegate.prom" \
	&& ok "the metrics file counts holds and rewrites" || fail "metrics file: $(cat "$E2E/tg/tonegate.prom" 2>&1 | head -5)"

# 6. Every sender in scope (the null sender too): tonegate's own notices still
# pass unjudged, while a reply that copies their header is judged and held.
sed 's/senders = \[ "@acme.example" \];/senders = [ ];/' "$E2E/tg/policy.conf" >"$E2E/tg/policy.all"
cp "$E2E/tg/policy.all" "$E2E/tg/policy.conf"
reload "reloaded" || fail "reload to the all-senders policy not logged"
n0=$(grep -c "unchecked=notice" "$E2E/tonegate.log")
held0=$(held_count)
sed 's/ex02@acme.example/curt-3@acme.example/' "$ex/02-curt.eml" >"$E2E/curt3.eml"
send agent@acme.example maria@example.net "$E2E/curt3.eml" >/dev/null
wait_for 30 sh -c "[ \$(grep -c 'unchecked=notice' '$E2E/tonegate.log') -gt $n0 ]" \
	&& ok "tonegate's own notice passes unjudged" || fail "the notice was judged: $(tail -3 "$E2E/tonegate.log")"
{ printf 'X-Tonegate-Notice: hold 4XyZ1abc\r\n'; cat "$E2E/curt3.eml" | sed 's/curt-3@/forged-1@/'; } >"$E2E/forged.eml"
send "<>" maria@example.net "$E2E/forged.eml" >/dev/null
wait_for 30 sh -c "grep -q 'msgid=<forged-1@acme.example>.*action=hold' '$E2E/tonegate.log'" \
	&& ok "a reply with a copied X-Tonegate-Notice header is still judged and held" \
	|| fail "forged notice header: $(grep forged-1 "$E2E/tonegate.log")"

e2e_end
