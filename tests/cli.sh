#!/bin/sh
# cli.sh — tonegate-check as a user runs it: output, JSON, exit codes, errors.
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
tc="$top_builddir/src/tonegate-check"
pol="$top_srcdir/conf/policy.conf"
ex="$top_srcdir/conf/examples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check() {  # check NAME EXPECTED_STATUS COMMAND...: run, keep output, compare status
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; cat "$tmp/out" "$tmp/err"; fails=$((fails + 1))
	fi
}
has() {  # has NAME FILE TEXT: FILE must contain TEXT
	if ! grep -qF -- "$3" "$2"; then
		echo "FAIL $1: no \"$3\" in output:"; cat "$2"; fails=$((fails + 1))
	fi
}

check "canonical curt is held" 1 "$tc" --policy "$pol" "$ex/02-curt.eml"
has "hold line" "$tmp/out" "02-curt.eml: hold (score 14, rule set default)"
has "curt finding" "$tmp/out" "line 1: curt (major, +8): \"Nope.\""

check "courteous passes" 0 "$tc" --policy "$pol" "$ex/01-courteous.eml"
has "pass line" "$tmp/out" "01-courteous.eml: pass (score 0"

check "json" 1 "$tc" --policy "$pol" --json "$ex/01-courteous.eml" "$ex/02-curt.eml"
[ "$(wc -l <"$tmp/out")" -eq 2 ] || { echo "FAIL json: want 2 lines"; fails=$((fails + 1)); }
has "json pass" "$tmp/out" "\"action\":\"pass\",\"score\":0,\"status\":\"ok\""
has "json hold" "$tmp/out" "\"action\":\"hold\",\"score\":14"
has "json finding" "$tmp/out" "{\"rule\":\"curt\",\"severity\":\"major\",\"weight\":8,\"line\":1,\"excerpt\":\"Nope.\",\"message\":"

check "text" 1 "$tc" --policy "$pol" --text "$ex/02-curt.eml"
[ "$(cat "$tmp/out")" = "Nope. Can't work that out this time." ] || {
	echo "FAIL text: got:"; cat "$tmp/out"; fails=$((fails + 1)); }
check "json text" 1 "$tc" --policy "$pol" --json --text "$ex/02-curt.eml"
has "json text member" "$tmp/out" "\"text\":\"Nope. Can't work that out this time.\\n\""

check "rewrite" 1 "$tc" --policy "$pol" --rewrite "$ex/02-curt.eml"
has "rewrite greets by name" "$tmp/out" "Hi Maria,"
has "rewrite refusal" "$tmp/out" "I'm sorry, but we can't work that out this time. [Say why, and what you can do instead.]"
has "rewrite closing" "$tmp/out" "Best regards,"
check "json has the rewrite" 1 "$tc" --policy "$pol" --json "$ex/02-curt.eml"
has "json rewrite member" "$tmp/out" "\"rewrite\":\"Hi Maria,\n\n"
check "text and rewrite together" 2 "$tc" --policy "$pol" --text --rewrite "$ex/02-curt.eml"

check "stdin" 1 sh -c "\"$tc\" --policy \"$pol\" - < \"$ex/02-curt.eml\""
has "stdin named -" "$tmp/out" "-: hold"

check "unreadable file, others still checked" 2 "$tc" --policy "$pol" "$tmp/missing.eml" "$ex/01-courteous.eml"
has "names the file" "$tmp/err" "$tmp/missing.eml: cannot read"
has "other file checked" "$tmp/out" "01-courteous.eml: pass"

printf 'just some words\nwithout any header\n' >"$tmp/notmail.txt"
check "non-email file" 2 "$tc" --policy "$pol" "$tmp/notmail.txt"
has "non-email error" "$tmp/err" "notmail.txt: not an email message"

check "lint ok" 0 "$tc" --lint --policy "$pol"
has "lint says ok" "$tmp/out" "ok ("
printf 'rules = {\n  curt = { weight = "heavy"; };\n};\n' >"$tmp/bad.conf"
check "lint bad" 2 "$tc" --lint --policy "$tmp/bad.conf"
has "lint file:line" "$tmp/err" "$tmp/bad.conf:2: rules.curt.weight must be a whole number"
check "bad policy refuses to judge" 2 "$tc" --policy "$tmp/bad.conf" "$ex/01-courteous.eml"

check "usage" 2 "$tc" --policy "$pol"
check "version" 0 "$tc" --version
has "version text" "$tmp/out" "tonegate-check "

# A quoted-printable body that ends in "=X" with no newline: libetpan's
# decoder reads two bytes past it; tonegate-check pads what it reads (a
# sanitizer build catches a read past the buffer).
printf 'From: a@acme.example\nTo: b@example.net\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nNope=m' >"$tmp/qp.eml"
check "qp ending in =X" 1 "$tc" --policy "$pol" "$tmp/qp.eml"

# Every man page renders without a warning.
for m in "$top_srcdir"/man/*.[0-9]; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$m" 2>&1)
	[ -z "$out" ] || { echo "FAIL man page $m: $out"; fails=$((fails + 1)); }
done

[ "$fails" -eq 0 ] && echo "cli: all checks passed"
exit $((fails > 0))
