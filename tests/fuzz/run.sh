#!/bin/sh
# run.sh - run libFuzzer targets over seed corpora cut from the shared captures.
#
#   sh tests/fuzz/run.sh build/fuzz/fuzz_modbus build/fuzz/fuzz_dnp3 ...
#
# For each fuzzer binary fuzz_<proto>: tests/fuzz/seed.py writes the TCP/UDP
# payloads of <proto> found in $SHARED/pcaps into $BUILD/fuzz/corpus/fuzz_<proto>
# (a few hundred at most), then the fuzzer runs $FUZZ_RUNS inputs starting
# from that corpus.  Two targets seed otherwise:
#   fuzz_pipeline   small pcaps cut from $SHARED/pcaps and the generated
#                   sequence-number captures (tests/fuzz/seed_pcaps.py);
#                   inputs up to 64 KiB
#   fuzz_collector  hostile MQTT messages from tests/fuzz/collector_seeds.py;
#                   inputs up to 64 KiB
#   fuzz_intel_bundle  bundles of every indicator kind and policy, unsigned
#                   and signed, made by $BUILD/icsentry-intel
#                   (tests/fuzz/intel_seeds.sh); inputs up to 16 KiB
# tests/fuzz/<target>.dict, when present, is the target's dictionary.
# FUZZ_SECONDS, when set, runs each target that long instead of FUZZ_RUNS
# inputs.  Crash inputs land in $BUILD/fuzz/artifacts/.  Exits 1 if any
# fuzzer fails, 2 on bad usage.
#
# Environment: BUILD (build), SHARED (../shared), FUZZ_RUNS (20000),
# FUZZ_SECONDS (unset), FUZZ_MAX_LEN (4096), PYTHON (python3).

BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
FUZZ_RUNS=${FUZZ_RUNS:-20000}
FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-4096}
PYTHON=${PYTHON:-python3}
HERE=$(dirname "$0")

if [ $# -eq 0 ]; then
	echo "usage: $0 FUZZER_BINARY..." >&2
	exit 2
fi

passed=0
failed=0
mkdir -p "$BUILD/fuzz/artifacts" || exit 1
for bin in "$@"; do
	name=$(basename "$bin")
	proto=${name#fuzz_}
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: $bin is not an executable" >&2
		failed=$((failed + 1))
		continue
	fi
	corpus="$BUILD/fuzz/corpus/$name"
	mkdir -p "$corpus" || exit 1
	max_len=$FUZZ_MAX_LEN
	case $name in
	fuzz_pipeline)
		max_len=65536
		gen="$BUILD/fuzz/gen"
		"$PYTHON" "$HERE/../robust/gen_captures.py" --out "$gen" --small ||
		    echo "fuzz: $name: no generated captures" >&2
		if ! "$PYTHON" "$HERE/seed_pcaps.py" --out "$corpus" \
		    --max-bytes 8192 "$SHARED/pcaps" "$gen"; then
			echo "fuzz: $name: seeding failed, running unseeded" >&2
		fi
		;;
	fuzz_intel_bundle)
		max_len=16384
		sh "$HERE/intel_seeds.sh" "$BUILD/icsentry-intel" "$corpus" ||
		    echo "fuzz: $name: seeding failed, running unseeded" >&2
		;;
	fuzz_collector)
		max_len=65536
		"$PYTHON" "$HERE/collector_seeds.py" --out "$corpus" ||
		    echo "fuzz: $name: seeding failed, running unseeded" >&2
		;;
	*)
		if [ -d "$SHARED/pcaps" ]; then
			if ! "$PYTHON" "$HERE/seed.py" --pcaps "$SHARED/pcaps" \
			    --proto "$proto" --out "$corpus" --max 300; then
				echo "fuzz: $name: seeding failed, running unseeded" >&2
			fi
		else
			echo "fuzz: $name: no $SHARED/pcaps, running unseeded" >&2
		fi
		;;
	esac
	set -- -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/artifacts/$name-"
	if [ -n "$FUZZ_SECONDS" ]; then
		set -- "$@" -max_total_time="$FUZZ_SECONDS"
		budget="$FUZZ_SECONDS s"
	else
		set -- "$@" -runs="$FUZZ_RUNS"
		budget="$FUZZ_RUNS runs"
	fi
	[ -f "$HERE/$name.dict" ] && set -- "$@" -dict="$HERE/$name.dict"
	log="$BUILD/fuzz/$name.log"
	start=$(date +%s)
	if "$bin" "$@" "$corpus" >"$log" 2>&1; then
		end=$(date +%s)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" |
		    grep -o '[0-9]*$')
		echo "fuzz: $name ok ($budget, ${execs:-?} inputs, $cov, $((end - start)) s)"
		passed=$((passed + 1))
	else
		echo "fuzz: $name FAILED, log $log:" >&2
		tail -n 40 "$log" >&2
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
