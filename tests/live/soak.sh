#!/bin/sh
# soak.sh - the long live-capture soak (issue 7): the agent captures with -i
# in a network namespace of its own while tcpreplay loops a generated
# capture through a veth pair from a second namespace, for 10 minutes by
# default, with a SIGHUP every minute.  Samples the agent's RSS, open fds
# and CPU time; at the end compares the first sample after the warm-up with
# the last, and the packets the agent saw with those tcpreplay sent.
#
#   sh tests/live/soak.sh [-d SECONDS] [-r PPS] [-H HUP_EVERY] [-s SAMPLE]
#                         [-w WARMUP] [-o OUTDIR] [-f PCAP]
#
#   -d  replay time in seconds (default 600)
#   -r  packets per second (default 50000)
#   -H  seconds between SIGHUPs (default 60; 0: none)
#   -s  seconds between samples (default 10)
#   -w  warm-up seconds before the reference sample (default 30)
#   -o  keep everything here (default: a temp dir, removed unless it failed)
#   -f  capture to loop (default $ICSENTRY_BUILD/scenarios/factory-attacks.pcap)
#
# Environment: ICSENTRY_BUILD (default build; build/asan for the sanitizer
# build, whose quarantine is turned off here so freed memory is not held).
# Needs root, iproute2 and tcpreplay.  Not part of `make test` (check_live
# runs a 20 s version); run it by hand or from CI's nightly job.
#
# Exit status 0 when memory stayed flat (growth <= MAX_GROWTH_KB, default
# 1024), the fd count never changed, every packet sent was seen, nothing
# was dropped, every reload was acknowledged and the agent exited 0.

set -u

BUILD=${ICSENTRY_BUILD:-build}
DUR=600
PPS=50000
HUP_EVERY=60
SAMPLE=10
WARMUP=30
OUT=""
PCAP=""
MAX_GROWTH_KB=${MAX_GROWTH_KB:-1024}

usage() {
	sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while getopts d:r:H:s:w:o:f:h opt; do
	case $opt in
	d) DUR=$OPTARG ;;
	r) PPS=$OPTARG ;;
	H) HUP_EVERY=$OPTARG ;;
	s) SAMPLE=$OPTARG ;;
	w) WARMUP=$OPTARG ;;
	o) OUT=$OPTARG ;;
	f) PCAP=$OPTARG ;;
	*) usage ;;
	esac
done

die() {
	echo "soak.sh: $*" >&2
	exit 2
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, veth)"
command -v ip >/dev/null 2>&1 || die "no 'ip' (iproute2)"
TCPREPLAY=$(command -v tcpreplay) || die "no tcpreplay (apt-get install tcpreplay)"
AGENT=$BUILD/icsentry-agent
[ -x "$AGENT" ] || die "$AGENT: not built (make)"
[ -n "$PCAP" ] || PCAP=$BUILD/scenarios/factory-attacks.pcap
[ -r "$PCAP" ] || die "$PCAP: missing (make $BUILD/scenarios.stamp)"

KEEP=1
if [ -z "$OUT" ]; then
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/icsentry-soak.XXXXXX") || exit 2
	KEEP=0
fi
mkdir -p "$OUT" || exit 2
NSA="icsl$$-soak-a"
NSB="icsl$$-soak-b"
AGENT_PID=""
TR_PID=""

cleanup() {
	[ -n "$TR_PID" ] && kill "$TR_PID" 2>/dev/null
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	[ "$KEEP" -eq 0 ] && rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- two namespaces and a veth pair, quiet (no IPv6, no ARP) ------------
ip netns add "$NSA" || die "cannot make a network namespace"
ip netns add "$NSB" || die "cannot make a network namespace"
ip link add veth-a netns "$NSA" type veth peer name veth-b netns "$NSB" ||
    die "cannot make a veth pair"
ip netns exec "$NSA" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/veth-a/disable_ipv6' 2>/dev/null
ip netns exec "$NSB" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/veth-b/disable_ipv6' 2>/dev/null
ip -n "$NSA" link set veth-a mtu 9000 arp off up || die "veth-a"
ip -n "$NSB" link set veth-b mtu 9000 arp off up || die "veth-b"

cat >"$OUT/agent.conf" <<EOF
[agent]
name = soak
site = lab
user =
allow_root = true
[policy]
modbus_writers = 10.10.1.30
EOF

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
ip netns exec "$NSA" "$AGENT" -i veth-a -c "$OUT/agent.conf" --stats \
    --alerts-out "$OUT/alerts.jsonl" >"$OUT/agent.out" 2>&1 &
AGENT_PID=$!
i=0
until grep -q "running as root (allow_root = true)" "$OUT/agent.out"; do
	i=$((i + 1))
	kill -0 "$AGENT_PID" 2>/dev/null || { cat "$OUT/agent.out"; die "agent exited"; }
	[ $i -lt 200 ] || die "agent did not start capturing"
	sleep 0.1
done

ip netns exec "$NSB" "$TCPREPLAY" -K --loop=0 --pps="$PPS" --duration="$DUR" \
    --intf1=veth-b "$PCAP" >"$OUT/tcpreplay.out" 2>&1 &
TR_PID=$!
START=$(date +%s)

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status"; }
fds() { ls "/proc/$AGENT_PID/fd" | wc -l; }
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$AGENT_PID/stat"; }

echo "t_s,rss_kb,fds,cpu_ticks" >"$OUT/samples.csv"
echo "soak: $DUR s at $PPS pps of $(basename "$PCAP"), SIGHUP every $HUP_EVERY s, samples every $SAMPLE s -> $OUT/samples.csv"
hups=0
next_hup=$HUP_EVERY
next_sample=0
while kill -0 "$TR_PID" 2>/dev/null; do
	t=$(($(date +%s) - START))
	if [ "$HUP_EVERY" -gt 0 ] && [ "$t" -ge "$next_hup" ]; then
		kill -HUP "$AGENT_PID" && hups=$((hups + 1))
		next_hup=$((next_hup + HUP_EVERY))
	fi
	if [ "$t" -ge "$next_sample" ]; then
		kill -0 "$AGENT_PID" 2>/dev/null || { cat "$OUT/agent.out"; echo "soak: agent died at $t s" >&2; KEEP=1; exit 1; }
		echo "$t,$(rss),$(fds),$(cpu)" >>"$OUT/samples.csv"
		next_sample=$((next_sample + SAMPLE))
	fi
	sleep 1
done
wait "$TR_PID"
tr_rc=$?
TR_PID=""
sleep 2
# the last sample, after the replay and the drain
echo "$(($(date +%s) - START)),$(rss),$(fds),$(cpu)" >>"$OUT/samples.csv"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
agent_rc=$?
AGENT_PID=""

stats=$(tail -n 1 "$OUT/agent.out")
num() { echo "$stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1; }
capnum() { echo "$stats" | sed -n "s/.*\"capture\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"; }
sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$OUT/tcpreplay.out")
failed=$(sed -n 's/.*Failed packets: *\([0-9]*\).*/\1/p' "$OUT/tcpreplay.out")
rated=$(sed -n 's/.*Mbps, \([0-9.]*\) pps.*/\1/p' "$OUT/tcpreplay.out")
seen=$(num packets)
dropped=$(capnum dropped)
ifdropped=$(capnum if_dropped)
alerts=$(wc -l <"$OUT/alerts.jsonl")
reloads=$(grep -c "configuration reloaded from" "$OUT/agent.out")

summary=$(awk -F, -v warm="$WARMUP" '
	NR == 1 { next }
	{ t = $1; r = $2; f = $3; c = $4 }
	first == "" { r0 = r; f0 = f }
	{ first = 1 }
	t >= warm && base == "" { base = r; bt = t; bf = f }
	base != "" { if (r > max) max = r; if (f != bf) fchg = 1 }
	END {
		printf "rss_start_kb=%s rss_base_kb=%s base_t=%s rss_max_kb=%s rss_last_kb=%s fds_base=%s fds_last=%s fds_changed=%d cpu_ticks=%s samples=%d\n",
		    r0, base, bt, max, r, bf, f, fchg, c, NR - 1
	}' "$OUT/samples.csv")
eval "$summary"

echo "soak: tcpreplay sent $sent packets (failed $failed) at $rated pps in $DUR s, exit $tr_rc"
echo "soak: agent saw $seen, kernel dropped $dropped, interface dropped $ifdropped, exit $agent_rc"
echo "soak: RSS ${rss_start_kb} kB at start, ${rss_base_kb} kB at ${base_t} s, max ${rss_max_kb} kB, last ${rss_last_kb} kB (growth $((rss_last_kb - rss_base_kb)) kB)"
cpu_s=$(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
echo "soak: open fds ${fds_base} at ${base_t} s, ${fds_last} at the end (changed: $fds_changed); agent CPU ${cpu_s} s"
echo "soak: $hups SIGHUPs, $reloads reloads; $alerts alert lines"

ok=1
[ "$tr_rc" -eq 0 ] && [ "${failed:-1}" -eq 0 ] || ok=0
[ "$agent_rc" -eq 0 ] || ok=0
[ "${seen:-0}" = "${sent:-x}" ] || ok=0
[ "${dropped:-1}" -eq 0 ] && [ "${ifdropped:-1}" -eq 0 ] || ok=0
[ "$fds_changed" -eq 0 ] || ok=0
[ $((rss_last_kb - rss_base_kb)) -le "$MAX_GROWTH_KB" ] || ok=0
[ "$reloads" -eq "$hups" ] || ok=0
if [ "$ok" -eq 1 ]; then
	echo "soak: PASS"
	exit 0
fi
KEEP=1
echo "soak: FAIL (kept $OUT)"
exit 1
