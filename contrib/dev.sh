#!/bin/sh
# dev.sh — set up a fresh Debian 12 machine (as root), build tonegate and run
# the demo ("demo") or the whole test suite ("test"). Used by the README and CI.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential autoconf automake autoconf-archive pkg-config check valgrind
      libmilter-dev libetpan-dev libxml2-dev libhyperscan-dev libpcre2-dev libconfig-dev
      libesmtp-dev libsystemd-dev groff-base man-db postfix swaks miltertest python3
      clang libclang-rt-14-dev libjson-c-dev chromium python3-websocket
      debhelper lintian rpm fakeroot dpkg-dev systemd"

deps() {
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update
		# Postfix for the end-to-end tests: installed, never configured as the system MTA.
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PKGS
	else
		echo "dev.sh: not root; assuming the packages are installed: $PKGS" >&2
	fi
}

# Out-of-tree builds keep the plain and the sanitizer builds apart.
build() {  # build DIR [configure args]
	dir=$1
	shift
	[ -x configure ] || autoreconf -fi
	mkdir -p "$dir"
	(cd "$dir" && ../../configure "$@" && make -j"$(nproc)")
}

# -Wall -Wextra and no warning: the programs, the tests and the bench programs
# built again from scratch in DIR, every compiler warning an error of the run.
no_warnings() {  # no_warnings DIR
	make -C "$1" clean >/dev/null
	: >"$1/build.log"
	# one goal per make: "all" recurses, and two makes would build one object
	for goal in all "check TESTS=" "bench/tonegate-bench bench/nullmilter"; do
		# shellcheck disable=SC2086 # the goal's words are separate arguments
		if ! make -C "$1" -j"$(nproc)" $goal >>"$1/build.log" 2>&1; then
			cat "$1/build.log"
			exit 1
		fi
	done
	if grep -n "warning:" "$1/build.log"; then
		echo "dev.sh: compiler warnings above (full log: $1/build.log): fix them"
		exit 1
	fi
}

# make check in DIR; on failure the failing tests' logs, then their failed
# checks again as the last lines, where a CI summary that keeps only the tail
# still shows which check failed and why.
check_in() {  # check_in DIR [make args]
	dir=$1
	shift
	make -C "$dir" -j"$(nproc)" check "$@" && return 0
	cat "$dir/test-suite.log"
	echo "dev.sh: failed checks in $dir:"
	find "$dir/tests" -name '*.trs' -exec grep -l '^:test-result: FAIL' {} + | while read -r trs; do
		echo "--- ${trs%.trs}"
		grep -E '^(FAIL|not ok)' "${trs%.trs}.log" | tail -10
	done
	exit 1
}

case "${1:-demo}" in
demo)
	deps
	build _build/plain
	make -s -C _build/plain demo
	;;
test)
	deps
	autoreconf -fi
	build _build/plain
	no_warnings _build/plain
	check_in _build/plain
	make -C _build/plain check-install  # the .deb built, installed, run behind Postfix, purged
	make -C _build/plain -j"$(nproc)" check-valgrind  # the unit tests under valgrind
	make -C _build/plain -j"$(nproc)" distcheck E2E_TESTS=  # the e2e tests ran just above
	build _build/sanitizers --enable-sanitizers
	check_in _build/sanitizers
	echo "dev.sh: all tests passed (no warnings, plain, package install, valgrind, distcheck, ASan+UBSan)"
	;;
*)
	echo "usage: contrib/dev.sh demo|test" >&2
	exit 2
	;;
esac
