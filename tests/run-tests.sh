#!/bin/sh
# run-tests.sh - run Check test binaries and sum up their results.
#
#   sh tests/run-tests.sh build/tests/check_a build/tests/check_b ...
#
# Runs each binary in turn (CK_DEFAULT_TIMEOUT per test, a wall-clock cap
# per binary), prints its output, reads Check's summary line
#   "100%: Checks: 12, Failures: 0, Errors: 0"
# and ends with one line "N passed, N failed" (checks across all suites;
# a suite that crashed, exited non-zero on its own or printed no summary
# counts as one more failure).  Exits non-zero if anything failed.
#
# Environment: ICSENTRY_BUILD and SHARED (exported by the Makefile),
# CK_DEFAULT_TIMEOUT (default 120 s), SUITE_TIMEOUT (default 1200 s).

: "${CK_DEFAULT_TIMEOUT:=120}"
: "${SUITE_TIMEOUT:=1200}"
export CK_DEFAULT_TIMEOUT
# ASan builds: leaks inside Paho's error paths are known (tests/lsan.supp)
LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

if [ $# -eq 0 ]; then
	echo "run-tests.sh: no test binaries given" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

out=$(mktemp "${TMPDIR:-/tmp}/icsentry-tests.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

passed=0
failed=0
bad_suites=""

for t in "$@"; do
	name=$(basename "$t")
	echo "==== $name"
	if [ ! -x "$t" ]; then
		echo "run-tests.sh: $t: not an executable" >&2
		failed=$((failed + 1))
		bad_suites="$bad_suites $name"
		continue
	fi
	start=$(date +%s)
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$SUITE_TIMEOUT" "$t" >"$out" 2>&1
	else
		"$t" >"$out" 2>&1
	fi
	rc=$?
	cat "$out"
	# sum every summary line the binary printed (one per SRunner)
	sums=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*$/\1 \2 \3/p' "$out")
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
	echo "---- $name: $((n - f)) passed, $f failed ($(($(date +%s) - start)) s)"
done

if [ -n "$bad_suites" ]; then
	echo "run-tests.sh: failing:$bad_suites" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$bad_suites" ]
