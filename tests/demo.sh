#!/bin/sh
# demo.sh - `make demo`: a local broker and collector, one agent replaying
# a labeled attack capture over MQTT, then the central log and its verify.
# Everything runs on loopback and is stopped at the end.
set -eu

BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
DIR=$BUILD/demo
PCAP=$BUILD/scenarios/factory-attacks.pcap

rm -rf "$DIR"
mkdir -p "$DIR/broker" "$DIR/mqtt"
DIR=$(cd "$DIR" && pwd)

# a free loopback port
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

cleanup() {
	[ -n "${WEB:-}" ] && kill "$WEB" 2>/dev/null && wait "$WEB" 2>/dev/null
	[ -n "${COLL:-}" ] && kill "$COLL" 2>/dev/null && wait "$COLL" 2>/dev/null
	[ -n "${BROKER:-}" ] && kill "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
	return 0
}
trap cleanup EXIT INT TERM

sed -e "s|@PORT@|$PORT|" -e "s|@DIR@|$DIR/broker|" -e "s|@USER@|$(id -un)|" \
    broker/mosquitto-demo.conf > "$DIR/broker/mosquitto.conf"
"$MOSQUITTO" -c "$DIR/broker/mosquitto.conf" &
BROKER=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "demo: broker did not start" >&2; exit 1; }
	sleep 0.1
done
echo "== broker: mosquitto on 127.0.0.1:$PORT"

"$BUILD/icsentry-collector" --mqtt "tcp://127.0.0.1:$PORT" --db "$DIR/central.db" \
    --client-id demo-collector 2> "$DIR/collector.log" &
COLL=$!
sleep 1
echo "== collector: storing into $DIR/central.db"

# the demo agent keeps its state and MQTT queue inside the demo directory
cp config/demo.conf "$DIR/agent.conf"
printf '\n[agent]\nstate_file = %s/agent.state\n[mqtt]\npersist_dir = %s/mqtt\n' \
    "$DIR" "$DIR" >> "$DIR/agent.conf"

echo "== agent gw-01 replays $PCAP (port scan, unit-id sweep, unauthorized write,"
echo "   ARP spoofing, S7 PLC STOP, DNP3 cold restart, Modbus flood)"
"$BUILD/icsentry-agent" -c "$DIR/agent.conf" -r "$PCAP" \
    --mqtt "tcp://127.0.0.1:$PORT" --alerts-out "$DIR/alerts.jsonl" 2> "$DIR/agent.log" || {
	echo "demo: agent failed:" >&2; cat "$DIR/agent.log" >&2; exit 1; }
SENT=$(wc -l < "$DIR/alerts.jsonl")

# wait until the collector stored every alert
i=0
while :; do
	GOT=$("$BUILD/icsentry-log" query --db "$DIR/central.db" --json 2>/dev/null | wc -l)
	[ "$GOT" -ge "$SENT" ] && break
	i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: only $GOT of $SENT alerts arrived" >&2; exit 1; }
	sleep 0.2
done
echo "== $SENT alerts sent, $GOT stored in the central log"
echo
echo "== icsentry-log query --min-severity medium"
"$BUILD/icsentry-log" query --db "$DIR/central.db" --min-severity medium
echo
echo "== icsentry-log stats"
"$BUILD/icsentry-log" stats --db "$DIR/central.db"
echo
echo "== icsentry-log verify"
"$BUILD/icsentry-log" verify --db "$DIR/central.db"

# ---- the SOC console over the same log ----------------------------------
# HTTPS with gen-certs.sh certificates, loopback only; DEMO_WAIT=N keeps it
# up N seconds when not on a terminal (on one: until Ctrl-C).
WEB_PORT=${WEB_PORT:-8443}
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',$WEB_PORT))" 2>/dev/null ||
    WEB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sh broker/gen-certs.sh -H localhost,127.0.0.1 "$DIR/certs" > "$DIR/certs.log" 2>&1
echo "icsentry-demo" | "$BUILD/icsentry-web" --users "$DIR/users" --add-user demo \
    --role analyst 2> /dev/null
"$BUILD/icsentry-web" --db "$DIR/central.db" --listen "127.0.0.1:$WEB_PORT" \
    --cert "$DIR/certs/broker.crt" --key "$DIR/certs/broker.key" \
    --users "$DIR/users" 2> "$DIR/web.log" &
WEB=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$WEB_PORT),1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "demo: icsentry-web did not start:" >&2; cat "$DIR/web.log" >&2; exit 1; }
	sleep 0.1
done
# the console answers with the stored alerts (curl checks the certificate)
SHOWN=$(curl -sS --cacert "$DIR/certs/ca.crt" -c "$DIR/cookies" -H 'Content-Type: application/json' \
    --data '{"user":"demo","password":"icsentry-demo"}' "https://127.0.0.1:$WEB_PORT/api/login" >/dev/null &&
    curl -sS --cacert "$DIR/certs/ca.crt" -b "$DIR/cookies" \
    "https://127.0.0.1:$WEB_PORT/api/alerts?limit=1000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))')
rm -f "$DIR/cookies"
echo
echo "== SOC console: https://127.0.0.1:$WEB_PORT/   login: demo / icsentry-demo (analyst)"
echo "   $SHOWN alerts shown; the certificate is signed by $DIR/certs/ca.crt"
if [ -t 0 ]; then
	echo "   (Ctrl-C stops the demo)"
	wait "$WEB" || :
elif [ "${DEMO_WAIT:-0}" -gt 0 ]; then
	echo "   (up for $DEMO_WAIT s)"
	sleep "$DEMO_WAIT"
fi
