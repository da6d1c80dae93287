#!/bin/sh
# compare.sh - the arm64 agent under qemu-user against the native agent.
#
#   make cross-test ARCH=arm64        (builds both, then runs this)
#   BUILD=build CROSS_BUILD=build/arm64 SHARED=../shared sh tests/cross/compare.sh
#
# Replays every shared capture (SHARED/pcaps/*.pcap*) and the generated
# factory scenarios (BUILD/scenarios/factory-{attacks,benign}.pcap, with the
# evaluation policy tests/eval/factory.conf) through both builds and compares
# byte for byte: the exit status, --alerts-out and --flows-out; for the
# scenarios also --assets-out, the baseline --learn writes from the benign
# capture, and the alerts of the attack capture checked against that
# baseline.  Replay output is deterministic (capture time, not wall time),
# and both run on this host with the same config, so any difference is a
# portability bug (endianness, alignment, word size, char signedness...).
#
# Environment:
#   BUILD           native build dir (default build)
#   CROSS_BUILD     arm64 build dir (default $BUILD/arm64)
#   SHARED          shared dir holding pcaps/ (default ../shared)
#   QEMU            qemu-user binary (default qemu-aarch64, else
#                   qemu-aarch64-static)
#   QEMU_LD_PREFIX  where qemu finds the arm64 dynamic loader.  Default: /
#                   when the multiarch libc6:arm64 is installed (every
#                   libfoo:arm64 pulls it in; its ld.so matches its libc.so.6),
#                   else /usr/aarch64-linux-gnu (libc6-arm64-cross).
#   RUN_TIMEOUT     seconds per agent run (default 300)
#
# Ends with "N passed, N failed" (one check per capture and output kind);
# exit 0 only when everything matched.  Exit 77 when arm64 binaries or qemu
# are missing (build them with make cross ARCH=arm64).

BUILD=${BUILD:-build}
CROSS_BUILD=${CROSS_BUILD:-$BUILD/arm64}
SHARED=${SHARED:-../shared}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
POLICY=tests/eval/factory.conf

native=$BUILD/icsentry-agent
cross=$CROSS_BUILD/icsentry-agent

if [ -z "$QEMU" ]; then
	if command -v qemu-aarch64 >/dev/null 2>&1; then QEMU=qemu-aarch64
	elif command -v qemu-aarch64-static >/dev/null 2>&1; then QEMU=qemu-aarch64-static
	fi
fi
if [ -z "$QEMU" ] || ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "compare.sh: no qemu-aarch64 (apt-get install qemu-user, or make cross-deps ARCH=arm64)" >&2
	exit 77
fi
for b in "$native" "$cross"; do
	if [ ! -x "$b" ]; then
		echo "compare.sh: $b missing (make all; make cross ARCH=arm64)" >&2
		exit 77
	fi
done
if [ -z "$QEMU_LD_PREFIX" ]; then
	if [ -e /lib/ld-linux-aarch64.so.1 ] && [ -e /lib/aarch64-linux-gnu/libc.so.6 ]; then
		QEMU_LD_PREFIX=/
	else
		QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
	fi
fi
export QEMU_LD_PREFIX

tmp=$(mktemp -d "${TMPDIR:-/tmp}/icsentry-cross.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# A fixed agent name and site: without one the name is the host name (the
# same for both here, but a fixed one keeps the outputs reproducible).
cat >"$tmp/replay.conf" <<'EOF'
[agent]
name = cross
site = compare
EOF

# The arm64 binary really is arm64, and really runs.
if ! "$QEMU" "$cross" --version >"$tmp/version" 2>&1; then
	echo "compare.sh: $cross does not run under $QEMU (QEMU_LD_PREFIX=$QEMU_LD_PREFIX):" >&2
	cat "$tmp/version" >&2
	exit 1
fi
echo "compare.sh: native $native, arm64 $cross ($(cat "$tmp/version")) under $QEMU, QEMU_LD_PREFIX=$QEMU_LD_PREFIX"

passed=0
failed=0
captures=0
alerts=0
flows=0
t_native=0
t_cross=0
start=$(date +%s)

# now_ms: milliseconds since the epoch (GNU date)
now_ms() { date +%s%3N; }

# run KIND OUTDIR ARGS...: one agent run, exit status into OUTDIR/rc
run() {
	kind=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	t0=$(now_ms)
	if [ "$kind" = native ]; then
		timeout -k 5 "$RUN_TIMEOUT" "$native" "$@" --no-mqtt \
		    >"$dir/stdout" 2>"$dir/stderr"
	else
		timeout -k 5 "$RUN_TIMEOUT" "$QEMU" "$cross" "$@" --no-mqtt \
		    >"$dir/stdout" 2>"$dir/stderr"
	fi
	echo $? >"$dir/rc"
	t1=$(now_ms)
	if [ "$kind" = native ]; then t_native=$((t_native + t1 - t0))
	else t_cross=$((t_cross + t1 - t0)); fi
}

# same NAME WHAT: compare one output file of both runs of NAME
same() {
	name=$1 what=$2
	a=$tmp/native/$name/$what b=$tmp/arm64/$name/$what
	if [ ! -e "$a" ] && [ ! -e "$b" ]; then
		: >"$a"; : >"$b"
	fi
	if cmp -s "$a" "$b"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "DIFFER: $name: $what (native < > arm64)"
		diff "$a" "$b" | head -20
	fi
}

# compare NAME ARGS...: replay with both builds, compare rc, alerts, flows
compare() {
	name=$1
	shift
	for k in native arm64; do
		d=$tmp/$k/$name
		run "$k" "$d" "$@" --alerts-out "$d/alerts.jsonl" --flows-out "$d/flows.jsonl"
	done
	rc=$(cat "$tmp/native/$name/rc")
	case $rc in
	0|2) ;;
	*)	echo "FAIL: $name: native agent exit status $rc"
		sed 's/^/    /' "$tmp/native/$name/stderr" | head -5
		failed=$((failed + 1)) ;;
	esac
	same "$name" rc
	same "$name" alerts.jsonl
	same "$name" flows.jsonl
	na=$(cat "$tmp/native/$name/alerts.jsonl" 2>/dev/null | wc -l)
	nf=$(cat "$tmp/native/$name/flows.jsonl" 2>/dev/null | wc -l)
	alerts=$((alerts + na))
	flows=$((flows + nf))
	captures=$((captures + 1))
	printf '  %-48s exit %s  %5d alerts %6d flows\n' "$name" "$rc" "$na" "$nf"
}

for f in "$SHARED"/pcaps/*.pcap*; do
	[ -f "$f" ] || continue
	compare "$(basename "$f")" -c "$tmp/replay.conf" -r "$f"
done
if [ "$captures" -eq 0 ]; then
	echo "FAIL: no captures in $SHARED/pcaps"
	failed=$((failed + 1))
fi

scn=$BUILD/scenarios
if [ -f "$scn/factory-attacks.pcap" ] && [ -f "$scn/factory-benign.pcap" ]; then
	compare factory-attacks.pcap -c "$POLICY" -r "$scn/factory-attacks.pcap"
	compare factory-benign.pcap -c "$POLICY" -r "$scn/factory-benign.pcap"
	# learn from the benign capture, then check the attacks against it
	for k in native arm64; do
		d=$tmp/$k/learn
		run "$k" "$d" -c "$POLICY" -r "$scn/factory-benign.pcap" \
		    --learn "$d/baseline.json" --assets-out "$d/assets.json"
		d=$tmp/$k/baseline
		run "$k" "$d" -c "$POLICY" -r "$scn/factory-attacks.pcap" \
		    --baseline "$tmp/$k/learn/baseline.json" --alerts-out "$d/alerts.jsonl"
	done
	same learn rc
	same learn baseline.json
	same learn assets.json
	same baseline rc
	same baseline alerts.jsonl
	nb=$(wc -l <"$tmp/native/baseline/alerts.jsonl" 2>/dev/null || echo 0)
	printf '  %-48s %5d alerts with the learned baseline\n' "factory-attacks.pcap --baseline" "$nb"
	fa=$(wc -l <"$tmp/native/factory-attacks.pcap/alerts.jsonl" 2>/dev/null || echo 0)
	if [ "$fa" -eq 0 ] || [ "$nb" -eq 0 ]; then
		echo "FAIL: factory-attacks.pcap raised no alerts: nothing was compared"
		failed=$((failed + 1))
	fi
else
	echo "FAIL: $scn/factory-attacks.pcap or factory-benign.pcap missing (make $BUILD/scenarios.stamp)"
	failed=$((failed + 1))
fi

echo "compare.sh: $captures captures, $alerts alerts, $flows flows;" \
     "native ${t_native} ms, arm64 under qemu ${t_cross} ms, $(($(date +%s) - start)) s in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
