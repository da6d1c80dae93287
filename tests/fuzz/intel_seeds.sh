#!/bin/sh
# intel_seeds.sh INTEL_TOOL OUT - seed bundles for fuzz_intel_bundle: each
# indicator kind, policy fragments, a site bundle, an expiry, unsigned
# and signed (one and two signatures), written into OUT.
set -e
tool=$1
out=$2
[ -x "$tool" ] || { echo "intel_seeds: no $tool (make first)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$tool" keygen --out "$tmp/k1" >/dev/null
"$tool" keygen --out "$tmp/k2" >/dev/null
n=0
seed() {
	n=$((n + 1))
	"$tool" new "$@" >"$out/b$n.json" 2>/dev/null
	"$tool" sign --key "$tmp/k1" "$out/b$n.json" >"$out/b$n.signed" 2>/dev/null
	"$tool" sign --key "$tmp/k2" "$out/b$n.signed" >"$out/b$n.signed2" 2>/dev/null
}
seed --version 1 --indicator ip:10.0.0.66:critical:T0846
seed --version 2 --indicator cidr:10.9.0.0/16 --indicator ip:fe80::1
seed --version 3 --indicator mac:02:00:00:00:00:42:low --indicator domain:evil.example:high:T0869
seed --version 4 --indicator port:tcp/4444 --indicator port:udp/47808 --indicator port:502
seed --version 5 --indicator function:modbus:8 --indicator function:s7comm:0x29 --indicator device:dnp3:10
seed --version 6 --site plant-b --expires 2099-01-01T00:00:00Z --indicator ip:10.10.1.66 --policy plant-b/modbus_writers=10.10.1.250
seed --version 7 --policy modbus_writers=10.0.0.1,10.0.0.2
