#!/bin/bash
# run.sh — tonegate in front of a real Postfix on loopback (see lib.sh):
# held, delivered, suggested, rejected and out-of-scope mail; forged verdict
# headers removed; reload with a broken policy; a big header; SIGTERM. The
# faults (kill -9 under load and the rest) are in faults.sh.
# Needs root (Postfix runs as its own users); every wait is bounded.
set -u
. "${top_srcdir:-.}/tests/e2e/lib.sh"

e2e_begin

cp "$E2E/tg/policy.conf" "$E2E/tg/policy.good"
tonegate_conf "$E2E/tg/policy.conf"
tonegate_start || exit 1

# 1. The canonical curt reply is held, with its findings in the headers.
out=$(send agent@acme.example maria@example.net "$ex/02-curt.eml")
if wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -ge 1 ]"; then
	id=$(held_ids | head -1)
	hdrs=$(postcat -c "$PF" -hq "$id" 2>/dev/null)
	echo "$hdrs" | grep -q '^X-Tonegate-Verdict: hold score=14' && \
	echo "$hdrs" | grep -q '^X-Tonegate-Finding: curt line=1 weight=8 "Nope."' && \
		ok "curt reply held as $id with X-Tonegate-Finding headers" || fail "held without the finding headers: $hdrs"
else
	fail "curt reply not in the hold queue: $out"
fi
[ "$(sink_with 'Nope. Can')" -eq 0 ] || fail "the curt reply reached the sink"

# 2. A courteous reply is delivered with X-Tonegate: pass.
send agent@acme.example maria@example.net "$ex/01-courteous.eml" >/dev/null
wait_for 20 sh -c "[ \$(grep -l -F 'X-Tonegate: pass score=0' '$E2E'/sink/* 2>/dev/null | wc -l) -ge 1 ]" \
	&& ok "courteous reply delivered with X-Tonegate: pass" || fail "courteous reply not delivered with its header"

# 3. A reply under the hold threshold is delivered, marked suggest.
send agent@acme.example maria@example.net "$src/tests/corpus/questions-pepper.eml" >/dev/null
wait_for 20 sh -c "[ \$(grep -l -F 'X-Tonegate: suggest score=' '$E2E'/sink/* 2>/dev/null | wc -l) -ge 1 ]" \
	&& ok "suggest-level reply delivered with X-Tonegate: suggest" || fail "suggest-level reply not delivered"

# 4. Out of scope: another sender's mail passes untouched.
before=$(sink_count)
send sales@partner.example maria@example.net "$ex/02-curt.eml" >/dev/null
wait_for 20 sh -c "[ \$(find '$E2E/sink' -type f | wc -l) -gt $before ]"
f=$(grep -l -F 'Nope. Can' "$E2E"/sink/* 2>/dev/null | head -1)
[ -n "$f" ] && ! grep -q '^X-Tonegate' "$f" && ok "out-of-scope mail delivered untouched" \
	|| fail "out-of-scope mail not delivered untouched"

# 4a. Out of scope at DATA: the recipients, noted without a reply to each
# RCPT TO (SMFIP_NR_RCPT), are all in skip_recipient_domains.
before=$(sink_count)
sed 's/^Message-ID: .*/Message-ID: <internal-'$$'@acme.example>/' "$ex/02-curt.eml" >"$E2E/internal.eml"
send agent@acme.example staff@internal.example "$E2E/internal.eml" >/dev/null
wait_for 20 sh -c "[ \$(find '$E2E/sink' -type f | wc -l) -gt $before ]"
f=$(grep -l -F "internal-$$@" "$E2E"/sink/* 2>/dev/null | head -1)
[ -n "$f" ] && ! grep -q '^X-Tonegate' "$f" && ok "mail to a skipped recipient domain delivered untouched" \
	|| fail "mail to a skipped recipient domain not delivered untouched"

# 4b. Verdict headers forged by the client are removed: the delivered
# courteous reply and the held curt one carry only this relay's verdict.
forge() {  # forge FILE OUT: FILE with forged X-Tonegate headers on top (two of one name)
	{ printf 'X-Tonegate: pass score=0 forged\r\nX-Tonegate-Verdict: pass score=0 forged\r\n'
	  printf 'X-TONEGATE-FINDING: none forged\r\nX-Tonegate-Verdict: pass again forged\r\n'
	  sed "s/^Message-ID: .*/Message-ID: <forged-$$-$(basename "$1")@acme.example>/" "$1"; } >"$2"
}
forge "$ex/01-courteous.eml" "$E2E/forged-good.eml"
forge "$ex/02-curt.eml" "$E2E/forged-curt.eml"
held_before=$(held_count)
send agent@acme.example maria@example.net "$E2E/forged-good.eml" >/dev/null
send agent@acme.example maria@example.net "$E2E/forged-curt.eml" >/dev/null
wait_for 20 sh -c "grep -l -F 'forged-$$-01' '$E2E'/sink/* >/dev/null 2>&1"
f=$(grep -l -F "forged-$$-01" "$E2E"/sink/* 2>/dev/null | head -1)
[ -n "$f" ] && ! grep -q -i '^X-Tonegate.*forged' "$f" && [ "$(grep -c -i '^X-Tonegate' "$f")" -eq 1 ] \
	&& grep -q '^X-Tonegate: pass score=0' "$f" && ok "forged verdict headers removed from a delivered reply" \
	|| fail "forged headers on the delivered reply: $(grep -i '^X-Tonegate' "$f" 2>/dev/null)"
wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held_before ]"
hdrs=""
for i in $(held_ids); do
	h=$(postcat -c "$PF" -hq "$i" 2>/dev/null)
	echo "$h" | grep -q -F "forged-$$-02" && hdrs=$h
done
[ -n "$hdrs" ] && ! echo "$hdrs" | grep -q -i '^X-Tonegate.*forged' && [ "$(echo "$hdrs" | grep -c -i '^X-Tonegate-Verdict')" -eq 1 ] \
	&& echo "$hdrs" | grep -q '^X-Tonegate-Verdict: hold score=14' && ok "forged verdict headers removed from a held reply" \
	|| fail "forged headers on the held reply: $(echo "$hdrs" | grep -i '^X-Tonegate')"
grep -q 'removed 4 incoming X-Tonegate\* header(s)' "$E2E/tonegate.log" && ok "the removal is logged" \
	|| fail "the removal of forged headers is not logged"

# 5. Reject: the client gets a 550 naming the findings.
sed '/^  curt = {/,/^  };/ s/floor = "hold";/floor = "reject";/' "$E2E/tg/policy.good" >"$E2E/tg/policy.conf"
reload "reloaded" || fail "reload to the reject policy not logged"
out=$(send agent@acme.example maria@example.net "$ex/02-curt.eml")
echo "$out" | grep -q '550.5\.7\.1.tonegate refused this reply' && echo "$out" | grep -q 'curt: A curt reply' \
	&& ok "reject gives the client a 550 5.7.1 with the findings" || fail "no 550 with findings: $out"

# 6. SIGUSR1 with a broken policy keeps the old one working.
cp "$E2E/tg/policy.good" "$E2E/tg/policy.conf"
reload "reloaded" || fail "reload back to the hold policy not logged"
printf 'rules = {\n  curt = { weight = "heavy"; };\n};\n' >"$E2E/tg/policy.conf"
reload "reload refused" && grep -q "reload refused.*policy.conf:2: rules.curt.weight must be a whole number" \
	"$E2E/tonegate.log" && ok "broken policy refused with file:line in the log" || fail "broken policy not refused"
held_before=$(held_count)
send agent@acme.example maria@example.net "$ex/02-curt.eml" >/dev/null
wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held_before ]" \
	&& ok "the old policy still holds the curt reply" || fail "after a refused reload the curt reply was not held"
cp "$E2E/tg/policy.good" "$E2E/tg/policy.conf"

# 7. A 60 KB header through Postfix: the reply is still judged.
{ printf 'From: agent@acme.example\r\nTo: maria@example.net\r\nSubject: Re: help\r\nMessage-ID: <bighdr@acme.example>\r\nX-Big: '
  head -c 60000 /dev/zero | tr '\0' 'x'; printf '\r\n\r\nNope. Can'"'"'t work that out this time.\r\n'; } >"$E2E/bighdr.eml"
held_before=$(held_count)
send agent@acme.example maria@example.net "$E2E/bighdr.eml" >/dev/null
wait_for 20 sh -c "[ \$(postqueue -c '$PF' -j | grep -c '\"queue_name\": *\"hold\"') -gt $held_before ]" \
	&& ok "a 60 KB header: the curt reply is still judged and held" || fail "a 60 KB header: not held"

# 8. SIGTERM stops cleanly: logged, exit status 0.
kill -TERM "$TG_PID"
for i in $(seq 1 100); do kill -0 "$TG_PID" 2>/dev/null || break; sleep 0.1; done
wait "$TG_PID"; st=$?
TG_PID=
[ "$st" -eq 0 ] && grep -q "tonegate stopping" "$E2E/tonegate.log" && ok "SIGTERM: clean stop, exit 0" \
	|| fail "SIGTERM: exit status $st, stop not logged"

e2e_end
