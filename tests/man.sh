#!/bin/sh
# man.sh — the man pages against the code (issue #10).
#
#  1. every man/*.[1-8] renders without a warning: groff -man -ww -z and
#     mandoc -Tlint -Wwarning print nothing;
#  2. every program (src/*.c with a main) has a page, and its OPTIONS
#     entries name exactly the long and short options of its getopt calls
#     and option tables, its COMMANDS entries exactly the names of its
#     commands[] table;
#  3. the KEYS entries of tonegate.conf(5) are exactly settings_keys();
#  4. tonegate-policy(5) documents every policy key, rule, action,
#     severity, value and template variable policy.c accepts, each in its
#     section, and names no key there that the code refuses;
#  5. the metric entries of tonegate.conf(5) are exactly the metrics and
#     label values metrics_write() writes.
#
# The names in 3-5 come from the code itself, through tests/man_keys. An
# "entry" is the tag of a .TP/.TQ paragraph (.It in mdoc), a rule is a .SS.
# Each mismatch is printed as "page: what is missing on which side"; the
# exit status is 1 if there is any. MANDIR= (pages) and SRCDIR= (sources)
# point the test at copies, to see it fail.
set -u
LC_ALL=C
export LC_ALL
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
MANDIR=${MANDIR:-$top_srcdir/man}
SRCDIR=${SRCDIR:-$top_srcdir/src}
keys="$top_builddir/tests/man_keys"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
tab=$(printf '\t')

fail() {
	echo "$*"
	fails=$((fails + 1))
}

# ---- reading a page ------------------------------------------------------
# One record per line, fields separated by tabs:
#   S  section  subsection                  a .SS (or .Ss)
#   T  section  subsection  text            an entry's tag, escapes resolved
#   B  section  subsection  text            bold text (.B, .BR..., \fB...\f)
cat >"$tmp/rec.awk" <<'EOF'
function unesc(s) {
	gsub(/\\f\[[^]]*\]/, "", s); gsub(/\\f\(../, "", s); gsub(/\\f./, "", s)
	gsub(/\\\(dq/, "\"", s); gsub(/\\\(aq/, "'", s); gsub(/\\\(../, "", s)
	gsub(/\\-/, "-", s); gsub(/\\[&%:c|^]/, "", s); gsub(/\\ /, " ", s)
	gsub(/\\e/, "\\", s)
	return s
}
# The arguments of a macro line into a[1..n], quotes honoured.
function args(line, a,    n, i, c, q, cur, have) {
	sub(/^[.'][ \t]*[^ \t]+[ \t]*/, "", line)
	n = 0; q = 0; cur = ""; have = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q && c == "\"" && substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++ }
		else if (c == "\"") { q = !q; have = 1 }
		else if (!q && (c == " " || c == "\t")) {
			if (have || cur != "") { a[++n] = cur; cur = ""; have = 0 }
		} else { cur = cur c; have = 1 }
	}
	if (have || cur != "") a[++n] = cur
	return n
}
function rec(kind, text) {
	text = unesc(text)
	gsub(/[ \t]+/, " ", text); sub(/^ /, "", text); sub(/ $/, "", text)
	if (text != "") printf "%s\t%s\t%s\t%s\n", kind, sh, ss, text
}
# Inline \fB...\f spans of a line.
function inline_bold(line,    i, j, rest) {
	while ((i = index(line, "\\fB")) > 0) {
		rest = substr(line, i + 3)
		j = index(rest, "\\f")
		if (j == 0) { rec("B", rest); return }
		rec("B", substr(rest, 1, j - 1))
		line = substr(rest, j)
	}
}
/^[.']\\"/ || /^\.\\"/ { next }
{
	m = ""
	if ($0 ~ /^[.']/) { m = $1; sub(/^[.'][ \t]*/, "", m) }
	if (m == "SH" || m == "Sh" || m == "SS" || m == "Ss") {
		n = args($0, a); t = ""
		for (i = 1; i <= n; i++) t = t (i > 1 ? " " : "") a[i]
		t = unesc(t)
		if (m == "SH" || m == "Sh") { sh = t; ss = "" } else { ss = t; printf "S\t%s\t%s\n", sh, ss }
		tag = 0; next
	}
	if (m == "TP" || m == "TQ") { tag = 1; next }
	if (m == "It") {  # mdoc: Fl x is -x, other callable macros go
		n = args($0, a); t = ""; fl = 0
		for (i = 1; i <= n; i++) {
			if (a[i] == "Fl") { fl = 1; continue }
			if (a[i] ~ /^(Ar|Cm|Ic|Op|Oo|Oc|Ns|Pa|Ev|Xo|Xc|Li|Sy|Em|Dq|Qq|Pq|Ql|Va)$/) continue
			t = t (t != "" ? " " : "") (fl ? "-" : "") a[i]; fl = 0
		}
		rec("T", t); next
	}
	alt = m ~ /^(BR|BI|RB|IB|IR|RI)$/
	if (m != "") {
		n = args($0, a); t = ""
		for (i = 1; i <= n; i++) {
			t = t (i > 1 && !alt ? " " : "") a[i]
			if (m == "B" || ((m == "BR" || m == "BI") && i % 2 == 1) ||
			    ((m == "RB" || m == "IB") && i % 2 == 0))
				rec("B", a[i])
		}
	} else
		t = $0
	inline_bold($0)
	if (tag && m !~ /^(PD|br|sp|PP|P|LP|IP|RS|RE|in)$/) { rec("T", t); tag = 0 }
}
EOF

# rec PAGE: the records of a page (cached).
rec() {
	r="$tmp/$(basename "$1").rec"
	[ -f "$r" ] || awk -f "$tmp/rec.awk" "$1" >"$r"
	cat "$r"
}
# tags PAGE [SECTION]: the entries there whose tag is one word (a key: not
# "version must be 1" in a list of errors).
tags() {
	rec "$1" | awk -F "$tab" -v sh="${2-}" -v all="${2+x}" '
		$1 == "T" && (all == "" || $2 == sh) && $4 !~ / / { print $4 }' | sort -u
}
# tagtext PAGE SECTION: each entry's whole tag there.
tagtext() {
	rec "$1" | awk -F "$tab" -v sh="$2" '$1 == "T" && $2 == sh { print $4 }'
}
# bold PAGE [SECTION]: the bold words and phrases, quotes around them left out.
bold() {
	rec "$1" | awk -F "$tab" -v sh="${2-}" -v all="${2+x}" '
		$1 == "B" && (all == "" || $2 == sh) { t = $4; gsub(/^"|"[,;.]?$/, "", t); print t
			n = split($4, w, " "); if (n > 1) for (i = 1; i <= n; i++) print w[i] }' | sort -u
}
subsections() {  # subsections PAGE SECTION
	rec "$1" | awk -F "$tab" -v sh="$2" '$1 == "S" && $2 == sh { print $3 }' | sort -u
}
has_section() {  # has_section PAGE SECTION
	rec "$1" | awk -F "$tab" -v sh="$2" '$2 == sh { f = 1 } END { exit !f }'
}
words() {  # words: the identifiers on standard input (keys, rule names), sorted
	grep -E '^[a-z][a-z0-9_-]*$' | sort -u
}

# compare PAGE WHAT CODE-FILE DOC-FILE SOURCE WHERE [KNOWN-FILE]: each name
# of CODE-FILE must be in DOC-FILE, each of DOC-FILE in KNOWN-FILE (default
# CODE-FILE); sorted lists.
compare() {
	comm -23 "$3" "$4" | while read -r n; do
		echo "$1: $2 $n is in $5 but not documented${6:+ ($6)}"
	done >>"$tmp/report"
	comm -13 "${7:-$3}" "$4" | while read -r n; do
		echo "$1: $2 $n is documented${6:+ ($6)} but $5 does not know it"
	done >>"$tmp/report"
}

# ---- 1. every page renders without a warning -----------------------------
pages=$(ls "$MANDIR"/*.[1-8] 2>/dev/null)
[ -n "$pages" ] || fail "$MANDIR: no man pages"
for p in $pages; do
	out=$(groff -man -ww -z "$p" 2>&1) || out="$out (exit status $?)"
	[ -z "$out" ] || fail "$p: groff -man -ww -z: $out"
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1) || out="$out (exit status $?)"
	[ -z "$out" ] || fail "$p: mandoc -Tlint -Wwarning: $out"
done

: >"$tmp/report"

# ---- 2. options and commands of each program -----------------------------
for c in "$SRCDIR"/*.c; do
	grep -Eq '^(int[[:space:]]+)?main[[:space:]]*\(' "$c" || continue
	prog=$(basename "$c" .c)
	page=
	for s in 1 8; do [ -f "$MANDIR/$prog.$s" ] && page="$MANDIR/$prog.$s"; done
	if [ -z "$page" ]; then
		echo "man/$prog.1: missing: src/$prog.c is a program, it needs a page ($prog.1 or $prog.8)" >>"$tmp/report"
		continue
	fi
	# The code: getopt strings and struct option tables, the commands[] table.
	tr '\n\t' '  ' <"$c" >"$tmp/flat.c"
	{
		grep -o '{ *"[a-z0-9-]*", *\(no\|required\|optional\)_argument' "$tmp/flat.c" |
			sed 's/{ *"\([^"]*\)".*/--\1/'
		grep -o 'getopt\(_long\)\? *([^,]*, *[^,]*, *"[^"]*"' "$tmp/flat.c" |
			sed 's/.*"\([^"]*\)"$/\1/; s/^[-+]//; s/://g' | fold -w 1 | sed 's/^/-/'
	} | sort -u >"$tmp/opt.code"
	grep -o '{ *"[a-z0-9-]*", *cmd_[a-z_]*' "$tmp/flat.c" | sed 's/{ *"\([^"]*\)".*/\1/' |
		sort -u >"$tmp/cmd.code"
	# The page: the options in the tags of OPTIONS, the commands of COMMANDS.
	tagtext "$page" OPTIONS | tr -c 'A-Za-z0-9-' '\n' | grep -E '^--?[A-Za-z0-9][a-z0-9-]*$' |
		sort -u >"$tmp/opt.doc"
	tagtext "$page" COMMANDS | sed 's/ .*//' | words >"$tmp/cmd.doc"
	[ -s "$tmp/opt.code" ] || echo "src/$prog.c: no options found (getopt or struct option)" >>"$tmp/report"
	compare "man/${page##*/}" option "$tmp/opt.code" "$tmp/opt.doc" "src/$prog.c" OPTIONS
	compare "man/${page##*/}" command "$tmp/cmd.code" "$tmp/cmd.doc" "src/$prog.c" COMMANDS
done
for p in "$MANDIR"/*.[18]; do
	prog=$(basename "$p" | sed 's/\.[18]$//')
	[ -f "$SRCDIR/$prog.c" ] || echo "man/${p##*/}: there is no program src/$prog.c" >>"$tmp/report"
done

# ---- 3. tonegate.conf keys -----------------------------------------------
conf="$MANDIR/tonegate.conf.5"
if ! "$keys" settings | sort -u >"$tmp/conf.code" || [ ! -s "$tmp/conf.code" ]; then
	fail "$keys settings failed"
fi
tags "$conf" KEYS | grep -v '^tonegate_' | words >"$tmp/conf.doc"
compare man/tonegate.conf.5 key "$tmp/conf.code" "$tmp/conf.doc" src/settings.c "KEYS"

# ---- 5. metrics ----------------------------------------------------------
# "name" or "name{label=value}" per line, from the code and from the tags.
"$keys" metrics >"$tmp/metrics.raw" || fail "$keys metrics failed"
sed 's/"//g' "$tmp/metrics.raw" | sort -u >"$tmp/metrics.code"
rec "$conf" | awk -F "$tab" '$1 == "T" && $4 ~ /^tonegate_[a-z_]*([{]|$| )/ { print $4 }' |
	sed 's/ .*//; s/"//g' | awk '{
		if (!match($0, /[{].*[}]$/)) { print; next }
		name = substr($0, 1, RSTART - 1); lv = substr($0, RSTART + 1, RLENGTH - 2)
		label = lv; sub(/=.*/, "", label); sub(/^[^=]*=/, "", lv)
		n = split(lv, v, "|")
		for (i = 1; i <= n; i++) print name "{" label "=" v[i] "}" }' | sort -u >"$tmp/metrics.doc"
# A tag with the values "..." (tonegate_findings_total{rule="..."}) stands
# for any value of that label.
grep -F '=...}' "$tmp/metrics.doc" | sed 's/=\.\.\.}$//' >"$tmp/metrics.any"
while read -r any; do
	for f in "$tmp/metrics.code" "$tmp/metrics.doc"; do
		grep -vF "$any=" "$f" >"$tmp/m"
		echo "$any=...}" >>"$tmp/m"
		mv "$tmp/m" "$f"
	done
done <"$tmp/metrics.any"
sort -u -o "$tmp/metrics.code" "$tmp/metrics.code"
sort -u -o "$tmp/metrics.doc" "$tmp/metrics.doc"
compare man/tonegate.conf.5 metric "$tmp/metrics.code" "$tmp/metrics.doc" src/metrics.c "metrics_file"

# ---- 4. policy keys ------------------------------------------------------
pol="$MANDIR/tonegate-policy.5"
"$keys" policy >"$tmp/policy" || fail "$keys policy: the policy's key lists and the code disagree"
names() {  # names WHERE: the names the code gives for WHERE (a regex)
	W=$1 awk -F "$tab" 'BEGIN { w = "^(" ENVIRON["W"] ")$" } $1 ~ w { print $2 }' "$tmp/policy" | sort -u
}
need_section() {  # need_section SECTION WHAT
	has_section "$pol" "$1" && return 0
	echo "man/tonegate-policy.5: no section \"$1\" (where the $2 are documented)" >>"$tmp/report"
	return 1
}
# policy_cmp WHAT CODE-FILE DOC-FILE WHERE [KNOWN-FILE]
policy_cmp() {
	compare man/tonegate-policy.5 "$1" "$2" "$3" src/policy.c "$4" "${5-}"
}

names top >"$tmp/p.top"
tags "$pol" | words >"$tmp/p.alltags"
comm -23 "$tmp/p.top" "$tmp/p.alltags" | while read -r k; do
	echo "man/tonegate-policy.5: top-level key $k is in src/policy.c but has no entry" >>"$tmp/report"
done
tags "$pol" DESCRIPTION | words >"$tmp/p.doc"
comm -13 "$tmp/p.top" "$tmp/p.doc" | while read -r k; do
	echo "man/tonegate-policy.5: top-level key $k is documented (DESCRIPTION) but src/policy.c does not know it" >>"$tmp/report"
done

# Group keys, each group in its own section, both ways.
while IFS=: read -r where section; do
	need_section "$section" "$where keys" || continue
	names "$where" >"$tmp/p.code"
	tags "$pol" "$section" | words >"$tmp/p.doc"
	case $where in  # the sections that also show keys of other groups
	monitor) names "monitor|top" >"$tmp/p.also" ;;
	rulesets) names "rulesets|match" >"$tmp/p.also" ;;
	*) cp "$tmp/p.code" "$tmp/p.also" ;;
	esac
	policy_cmp "$where key" "$tmp/p.code" "$tmp/p.doc" "$section" "$tmp/p.also"
done <<'EOF'
thresholds:THRESHOLDS
scope:SCOPE
limits:LIMITS
monitor:MONITOR MODE
rulesets:RULE SETS
rewrite:REWRITE
notice:NOTICES
EOF

# The keys of a match entry: named in bold in RULE SETS.
if need_section "RULE SETS" "match keys"; then
	names match >"$tmp/p.code"
	bold "$pol" "RULE SETS" >"$tmp/p.doc"
	comm -23 "$tmp/p.code" "$tmp/p.doc" | while read -r k; do
		echo "man/tonegate-policy.5: match key $k is in src/policy.c but not documented (RULE SETS)"
	done >>"$tmp/report"
fi

# Rules: a .SS each in RULES; a rule's own keys are entries in its .SS, the
# keys every rule has are entries in RULES outside the rules' subsections.
if need_section RULES "rules"; then
	names rule >"$tmp/p.rules"
	subsections "$pol" RULES | words >"$tmp/p.doc"
	policy_cmp rule "$tmp/p.rules" "$tmp/p.doc" ".SS in RULES"
	n=$(wc -l <"$tmp/p.rules")
	awk -F "$tab" '$1 ~ /^rule\./ { print $2 }' "$tmp/policy" | sort | uniq -c |
		awk -v n="$n" '$1 == n { print $2 }' >"$tmp/p.common"
	rec "$pol" | awk -F "$tab" '$1 == "T" && $2 == "RULES" && $4 !~ / / { print $3 "\t" $4 }' \
		>"$tmp/p.ruletags"
	awk -F "$tab" 'NR == FNR { r[$1] = 1; next } !($1 in r) { print $2 }' \
		"$tmp/p.rules" "$tmp/p.ruletags" | words >"$tmp/p.doc"
	policy_cmp "key of every rule" "$tmp/p.common" "$tmp/p.doc" "RULES, outside the rules' subsections"
	while read -r r; do
		names "rule\\.$r" | comm -23 - "$tmp/p.common" >"$tmp/p.code"
		names "rule\\.$r" >"$tmp/p.also"
		awk -F "$tab" -v r="$r" '$1 == r { print $2 }' "$tmp/p.ruletags" |
			words >"$tmp/p.doc"
		policy_cmp "rule $r key" "$tmp/p.code" "$tmp/p.doc" ".SS $r" "$tmp/p.also"
	done <"$tmp/p.rules"
fi

# Template variables: {name} entries in REWRITE and NOTICES.
for s in rewrite:REWRITE notice:NOTICES; do
	where=${s%%:*} section=${s#*:}
	has_section "$pol" "$section" || continue
	names "var\\.$where\\..*" >"$tmp/p.code"
	tags "$pol" "$section" | sed -n 's/^{\([a-z_]*\)}$/\1/p' | sort -u >"$tmp/p.doc"
	policy_cmp "$where template variable" "$tmp/p.code" "$tmp/p.doc" "{name} entries in $section"
done

# Values: in bold somewhere (notice.to in NOTICES).
bold "$pol" >"$tmp/p.bold"
bold "$pol" NOTICES >"$tmp/p.boldn"
for what in action severity mode notice.to; do
	b="$tmp/p.bold"
	[ "$what" = notice.to ] && b="$tmp/p.boldn"
	names "$(echo "$what" | sed 's/\./\\./')" | comm -23 - "$b" | while read -r v; do
		echo "man/tonegate-policy.5: $what $v is in src/policy.c but not documented (in bold)"
	done >>"$tmp/report"
done

# Every name policy.c compares a key with (or has in a table of keys, such
# as limit_keys[]) is one the probes found.
grep -o 'strcmp(\(key\|config_setting_name([a-z]*)\), *"[a-z_]*")\|get_member([a-z]*, *"[a-z_]*")\|{"[a-z_]*", *offsetof(' \
	"$SRCDIR/policy.c" | sed 's/.*"\([^"]*\)".*/\1/' | sort -u >"$tmp/p.lit"
cut -f 2 "$tmp/policy" | sort -u | comm -13 - "$tmp/p.lit" | while read -r k; do
	echo "src/policy.c: key $k is compared with but no error message lists it (tests/man_keys cannot see it)"
done >>"$tmp/report"

# ---- the verdict ---------------------------------------------------------
if [ -s "$tmp/report" ]; then
	cat "$tmp/report"
	fails=$((fails + $(wc -l <"$tmp/report")))
fi
if [ "$fails" -ne 0 ]; then
	echo "man.sh: $fails mismatches between the man pages and the code"
	exit 1
fi
echo "man.sh: $(echo "$pages" | wc -w) man pages render cleanly and match the code"
exit 0
