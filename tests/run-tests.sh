#!/bin/sh
# run-tests.sh - run Check test binaries and sum up their results.
#
#   sh tests/run-tests.sh build/tests/check_a build/tests/check_b ...
#
# Runs each binary (CK_DEFAULT_TIMEOUT per test, a wall-clock cap per
# binary), prints its output, reads Check's summary line
#   "100%: Checks: 12, Failures: 0, Errors: 0"
# and ends with one line "N passed, N failed" (checks across all suites;
# a suite that crashed, exited non-zero on its own or printed no summary
# counts as one more failure).  Exits non-zero if anything failed.
#
# TEST_JOBS suites run at once (default 1).  Every suite picks its own free
# ports and temporary directories, so they can share the machine; the
# suites named in SERIAL_SUITES measure rates (check_live drives 200k
# packets/s through a veth pair and asserts no drop, under ASan too) and
# run alone afterwards, so a neighbour cannot skew what they measure.
# check_bounded runs with the others: what it bounds is its own agent's
# peak RSS (wait4's ru_maxrss of that child), which a neighbour cannot
# raise, and its caps and counters are exact counts of a -r replay.  Each
# suite's output is printed whole, in the order given, once all have run;
# a line per suite on stderr shows progress meanwhile.
#
# Environment: ICSENTRY_BUILD and SHARED (exported by the Makefile),
# CK_DEFAULT_TIMEOUT (default 120 s), SUITE_TIMEOUT (default 1200 s),
# TEST_JOBS (default 1), SERIAL_SUITES (default "check_live"),
# LONG_SUITES (started first, longest first; the order only, not the set).

: "${CK_DEFAULT_TIMEOUT:=120}"
: "${SUITE_TIMEOUT:=1200}"
: "${TEST_JOBS:=1}"
: "${SERIAL_SUITES:=check_live}"
: "${LONG_SUITES:=check_bounded check_fleet check_robust check_web check_e2e check_decode check_mms check_replay test_console.py check_triage check_intel}"
export CK_DEFAULT_TIMEOUT SUITE_TIMEOUT
# ASan builds: leaks inside Paho's error paths are known (tests/lsan.supp)
LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

# run-tests.sh --one DIR BINARY: run one suite into DIR/NAME.{out,rc,secs}
if [ "${1:-}" = "--one" ]; then
	dir=$2
	t=$3
	name=$(basename "$t")
	start=$(date +%s)
	if [ ! -x "$t" ]; then
		echo "run-tests.sh: $t: not an executable" >"$dir/$name.out"
		echo 127 >"$dir/$name.rc"
	else
		if command -v timeout >/dev/null 2>&1; then
			timeout -k 10 "$SUITE_TIMEOUT" "$t" >"$dir/$name.out" 2>&1
		else
			"$t" >"$dir/$name.out" 2>&1
		fi
		echo $? >"$dir/$name.rc"
	fi
	secs=$(($(date +%s) - start))
	echo "$secs" >"$dir/$name.secs"
	echo "run-tests.sh: $name done ($secs s)" >&2
	exit 0
fi

if [ $# -eq 0 ]; then
	echo "run-tests.sh: no test binaries given" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
case $TEST_JOBS in
'' | *[!0-9]* | 0)
	echo "run-tests.sh: TEST_JOBS must be a positive number, not '$TEST_JOBS'" >&2
	exit 1
	;;
esac

self=$0
dir=$(mktemp -d "${TMPDIR:-/tmp}/icsentry-tests.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

is_serial() {
	for s in $SERIAL_SUITES; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}

is_long() {
	for s in $LONG_SUITES; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}
# the shared batch, TEST_JOBS at a time, the long suites first (so that the
# last slot does not run one alone while the others sit idle); then the
# serial ones, one by one
{
	for s in $LONG_SUITES; do
		for t in "$@"; do
			[ "$(basename "$t")" = "$s" ] && ! is_serial "$s" &&
			    printf '%s\n' "$t"
		done
	done
	for t in "$@"; do
		n=$(basename "$t")
		is_serial "$n" || is_long "$n" || printf '%s\n' "$t"
	done
} | xargs -r -n 1 -P "$TEST_JOBS" sh "$self" --one "$dir"
for t in "$@"; do
	is_serial "$(basename "$t")" && sh "$self" --one "$dir" "$t"
done

passed=0
failed=0
bad_suites=""

for t in "$@"; do
	name=$(basename "$t")
	echo "==== $name"
	if [ ! -f "$dir/$name.rc" ]; then
		echo "run-tests.sh: $name: did not run" >&2
		failed=$((failed + 1))
		bad_suites="$bad_suites $name"
		continue
	fi
	cat "$dir/$name.out"
	rc=$(cat "$dir/$name.rc")
	# sum every summary line the binary printed (one per SRunner)
	sums=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*$/\1 \2 \3/p' "$dir/$name.out")
	if [ -z "$sums" ]; then
		echo "run-tests.sh: $name: no Check summary (exit status $rc)" >&2
		failed=$((failed + 1))
		bad_suites="$bad_suites $name"
		continue
	fi
	n=$(echo "$sums" | awk '{ n += $1 } END { print n + 0 }')
	f=$(echo "$sums" | awk '{ f += $2 + $3 } END { print f + 0 }')
	passed=$((passed + n - f))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		bad_suites="$bad_suites $name"
	elif [ "$rc" -ne 0 ]; then
		# all checks passed but the binary failed (leak report, crash
		# after the tests, timeout)
		echo "run-tests.sh: $name: exit status $rc after all checks passed" >&2
		failed=$((failed + 1))
		bad_suites="$bad_suites $name"
	fi
	echo "---- $name: $((n - f)) passed, $f failed ($(cat "$dir/$name.secs") s)"
done

if [ -n "$bad_suites" ]; then
	echo "run-tests.sh: failing:$bad_suites" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$bad_suites" ]
