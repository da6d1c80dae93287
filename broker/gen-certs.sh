#!/bin/sh
# gen-certs.sh - a CA and the TLS certificates of an icsentry deployment.
#
# Every key is EC P-256; every leaf is signed by the CA made (or found) in
# OUTDIR.  The certificate CN is the MQTT identity the broker's ACL uses
# (broker/acl): agents "<site>/<agent>", the collector and SOC operators a
# single name without '/'.  Existing files are never overwritten, so the
# script can be re-run to add agents with the same CA.
set -eu

usage() {
	cat <<'EOF'
usage: gen-certs.sh [options] OUTDIR [SITE/AGENT ...]
Make (or reuse) a CA in OUTDIR and issue certificates for the broker, the
collector, SOC operators and agents.

  -n N          agents gw-01 .. gw-N at the site given by -s
  -s SITE       site for -n (default plant-a)
  -H HOSTS      broker names for its certificate, comma separated
                (default localhost,127.0.0.1; IP addresses allowed)
  -c NAME       collector CN (default icsentry-collector)
  -o NAME       SOC operator CN, repeatable (default soc-operator)
  -b SITE       a bridge certificate for SITE's broker (CN bridge-SITE),
                repeatable; the central broker's ACL lets it publish only
                under icsentry/SITE/ (broker/acl, broker/bridge-site.conf)
  -d DAYS       validity (default 825)
  -h            this help

Writes (keys mode 0600):
  OUTDIR/ca.crt ca.key                   the CA (keep ca.key offline)
  OUTDIR/broker.crt broker.key           mosquitto's server certificate
  OUTDIR/collector.crt collector.key     icsentry-collector
  OUTDIR/soc/NAME.crt NAME.key           one per SOC operator
  OUTDIR/bridges/SITE.crt SITE.key       one per site broker's bridge
  OUTDIR/agents/SITE/AGENT.crt .key      one per agent, CN SITE/AGENT
Names: letters, digits, '.', '_' and '-'.
exit: 0 ok, 1 openssl failed, 2 bad usage
EOF
}

die_usage() {
	echo "gen-certs.sh: $*" >&2
	echo "(try -h)" >&2
	exit 2
}

days=825
hosts=localhost,127.0.0.1
n=0
site=plant-a
collector=icsentry-collector
socs=
bridges=
while getopts "n:s:H:c:o:d:b:h" opt; do
	case $opt in
	n) n=$OPTARG ;;
	s) site=$OPTARG ;;
	H) hosts=$OPTARG ;;
	c) collector=$OPTARG ;;
	o) socs="$socs $OPTARG" ;;
	b) bridges="$bridges $OPTARG" ;;
	d) days=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { usage >&2; exit 2; }
out=$1
shift
[ -n "$socs" ] || socs=soc-operator

# One topic level: no '/', '+', '#', spaces, and not "." or "..".
valid_name() {
	case $1 in
	"" | . | .. | *[!A-Za-z0-9._-]*) return 1 ;;
	esac
	return 0
}

case $n in *[!0-9]* | "") die_usage "-n wants a number, not '$n'" ;; esac
case $days in *[!0-9]* | "") die_usage "-d wants a number, not '$days'" ;; esac
valid_name "$site" || die_usage "bad site name '$site'"
valid_name "$collector" || die_usage "bad collector name '$collector'"
for s in $socs; do
	valid_name "$s" || die_usage "bad SOC operator name '$s'"
done
for s in $bridges; do
	valid_name "$s" || die_usage "bad bridge site name '$s'"
done
agents=
i=1
while [ "$i" -le "$n" ]; do
	agents="$agents $site/$(printf 'gw-%02d' "$i")"
	i=$((i + 1))
done
for a in "$@"; do
	s=${a%%/*}
	g=${a#*/}
	if [ "$s/$g" != "$a" ] || ! valid_name "$s" || ! valid_name "$g"; then
		die_usage "agent '$a' is not SITE/AGENT"
	fi
	agents="$agents $a"
done

command -v openssl >/dev/null 2>&1 || { echo "gen-certs.sh: openssl not found" >&2; exit 1; }
umask 077
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}

if [ ! -f "$out/ca.key" ]; then
	newkey "$out/ca.key"
	cat >"$tmp/ca.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
O = icsentry
CN = icsentry CA
[ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
	openssl req -x509 -new -key "$out/ca.key" -config "$tmp/ca.cnf" \
	    -days "$days" -sha256 -out "$out/ca.crt" 2>"$tmp/err" ||
	    { cat "$tmp/err" >&2; exit 1; }
	chmod 0644 "$out/ca.crt"
	echo "made CA $out/ca.crt"
fi

# issue FILE-STEM CN EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]
issue() {
	stem=$1 cn=$2 eku=$3 san=${4:-}
	if [ -f "$stem.crt" ]; then
		echo "kept $stem.crt"
		return 0
	fi
	mkdir -p "$(dirname "$stem")"
	# a config file, not -subj: a CN may contain '/'
	{
		echo "[req]"
		echo "distinguished_name = dn"
		echo "prompt = no"
		echo "[dn]"
		echo "O = icsentry"
		echo "CN = $cn"
		echo "[ext]"
		echo "basicConstraints = critical,CA:FALSE"
		echo "keyUsage = critical,digitalSignature,keyAgreement"
		echo "extendedKeyUsage = $eku"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[ -z "$san" ] || echo "subjectAltName = $san"
	} >"$tmp/leaf.cnf"
	newkey "$stem.key"
	openssl req -new -key "$stem.key" -config "$tmp/leaf.cnf" \
	    -out "$tmp/leaf.csr" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	openssl x509 -req -in "$tmp/leaf.csr" -CA "$out/ca.crt" \
	    -CAkey "$out/ca.key" -CAcreateserial -CAserial "$out/ca.srl" \
	    -days "$days" -sha256 -extfile "$tmp/leaf.cnf" -extensions ext \
	    -out "$stem.crt" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	chmod 0644 "$stem.crt"
	echo "issued $stem.crt (CN $cn)"
}

san=
old_ifs=$IFS
IFS=,
for h in $hosts; do
	case $h in
	*[!0-9.]* | "") case $h in *:*) t=IP ;; *) t=DNS ;; esac ;;
	*) t=IP ;;
	esac
	san="${san:+$san,}$t:$h"
done
IFS=$old_ifs
first_host=${hosts%%,*}

issue "$out/broker" "$first_host" serverAuth "$san"
issue "$out/collector" "$collector" clientAuth
for s in $socs; do
	issue "$out/soc/$s" "$s" clientAuth
done
for a in $agents; do
	issue "$out/agents/$a" "$a" clientAuth
done
for s in $bridges; do
	issue "$out/bridges/$s" "bridge-$s" clientAuth
done

if [ "$collector" != icsentry-collector ] || [ "$socs" != soc-operator ]; then
	echo "broker/acl names icsentry-collector and soc-operator; add for yours:"
	for u in $collector $socs; do
		printf '  user %s\n  topic deny icsentry/%s/#\n  topic read icsentry/#\n' "$u" "$u"
	done
fi
for s in $bridges; do
	case " $(cat "$(dirname "$0")/acl" 2>/dev/null | grep '^user ' | tr '\n' ' ')" in
	*" user bridge-$s "*) ;;
	*) echo "broker/acl has no block for bridge-$s; add (see the bridge-plant-a block):"
	   printf '  user bridge-%s\n  topic deny icsentry/bridge-%s/#\n' "$s" "$s"
	   for t in alert/+ status stats asset/+; do
		printf '  topic write icsentry/%s/+/%s\n' "$s" "$t"
	   done
	   printf '  topic read icsentry/%s/+/ack\n' "$s" ;;
	esac
done
