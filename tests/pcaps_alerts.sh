#!/bin/sh
# pcaps_alerts.sh AGENT OUTDIR [PCAPDIR]: what the agent raises on every
# capture in PCAPDIR (default ../shared/pcaps), three ways: no config;
# learning the first half (editcap) and judging the second half against it;
# learning the whole capture and judging it again.  One line per capture
# and mode in OUTDIR/summary.txt: "capture mode detector/technique xN ...".
# Compare two runs with: diff BEFORE/summary.txt AFTER/summary.txt
set -u
agent=$1 out=$2 dir=${3:-$(dirname "$0")/../../shared/pcaps}
mkdir -p "$out"
: > "$out/summary.txt"
printf '[agent]\nname = t\nsite = s\n' > "$out/empty.conf"
sum() {	# alerts file -> "det/tech xN, ..."
	python3 -c '
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a.get("severity") == "info": continue
    c["%s/%s" % (a["detector"], a.get("technique"))] += 1
print(" ".join("%s x%d" % kv for kv in sorted(c.items())) or "-")' "$1"
}
for p in "$dir"/*.pcap "$dir"/*.pcapng; do
	b=$(basename "$p")
	"$agent" -c "$out/empty.conf" -r "$p" --alerts-out "$out/$b.none.json" 2>/dev/null
	echo "$b none $(sum "$out/$b.none.json")" >> "$out/summary.txt"
	n=$(capinfos -c -M "$p" 2>/dev/null | awk '/Number of packets/ {print $NF}')
	h=$(( ${n:-2} / 2 ))
	editcap -r "$p" "$out/$b.a.pcap" 1-$h >/dev/null 2>&1
	editcap -r "$p" "$out/$b.b.pcap" $((h + 1))-$n >/dev/null 2>&1
	rm -f "$out/$b.half.base" "$out/$b.self.base"
	"$agent" -c "$out/empty.conf" -r "$out/$b.a.pcap" --learn "$out/$b.half.base" 2>/dev/null
	"$agent" -c "$out/empty.conf" -r "$out/$b.b.pcap" --baseline "$out/$b.half.base" --alerts-out "$out/$b.half.json" 2>/dev/null
	echo "$b half $(sum "$out/$b.half.json")" >> "$out/summary.txt"
	"$agent" -c "$out/empty.conf" -r "$p" --learn "$out/$b.self.base" 2>/dev/null
	"$agent" -c "$out/empty.conf" -r "$p" --baseline "$out/$b.self.base" --alerts-out "$out/$b.self.json" 2>/dev/null
	echo "$b self $(sum "$out/$b.self.json")" >> "$out/summary.txt"
	rm -f "$out/$b.a.pcap" "$out/$b.b.pcap"
done
