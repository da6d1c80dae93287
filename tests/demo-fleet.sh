#!/bin/sh
# demo-fleet.sh - `make demo-fleet`: a fleet on one machine, loopback only.
#
#   plant-a: gw-01, gw-02 --> site broker A --\
#                                              TLS bridge --> central broker
#   plant-b: gw-01        --> site broker B --/   (ACL)        |        |
#                                                        collector 1  collector 2
#                                                        (shared subscription)
#                                                              \      /
#                                                            central log
#
# Certificates from broker/gen-certs.sh (CA, central broker, collector, one
# bridge certificate per site); the central broker runs
# broker/mosquitto.conf with broker/acl, each site broker the demo template
# plus broker/bridge-site.conf.  Three agents replay attack captures; two of
# them are both named gw-01, at different sites.  Then icsentry-log stats
# and verify on the shared log.  Everything is stopped at the end.
set -eu

BUILD=${BUILD:-build}
DIR=$BUILD/demo-fleet
PCAP=$BUILD/scenarios/fast-attacks.pcap
PCAP2=$BUILD/scenarios/factory-attacks.pcap

rm -rf "$DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
ME=$(id -un)
PIDS=""

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 50 ] || { echo "demo-fleet: nothing on port $1" >&2; exit 1; }
		sleep 0.1
	done
}

# DEMO_DB=postgresql (the default when PostgreSQL is installed) or sqlite
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
DEMO_DB=${DEMO_DB:-$( [ -n "$PGBIN" ] && echo postgresql || echo sqlite )}
PGDATA_DIR=""

as_pg() {	# postgres refuses to run as root: then as nobody
	if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	for p in $PIDS; do wait "$p" 2>/dev/null || :; done
	if [ -n "$PGDATA_DIR" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || :
	fi
	return 0
}
trap cleanup EXIT INT TERM

echo "== certificates (broker/gen-certs.sh -b plant-a -b plant-b)"
sh broker/gen-certs.sh -b plant-a -b plant-b "$DIR/certs" > "$DIR/certs.log"
grep -c issued "$DIR/certs.log" | sed 's/^/   issued: /'

# ---- central broker: the production config, files pointed here -------------
CPORT=$(free_port)
mkdir -p "$DIR/central"
sed -e "s|^listener .*|listener $CPORT 127.0.0.1|" \
    -e "s|^cafile .*|cafile $DIR/certs/ca.crt|" \
    -e "s|^certfile .*|certfile $DIR/certs/broker.crt|" \
    -e "s|^keyfile .*|keyfile $DIR/certs/broker.key|" \
    -e "s|^acl_file .*|acl_file $(pwd)/broker/acl|" \
    -e "s|^persistence_location .*|persistence_location $DIR/central/|" \
    -e "s|^log_dest .*|log_dest file $DIR/central/mosquitto.log|" \
    broker/mosquitto.conf > "$DIR/central/mosquitto.conf"
echo "user $ME" >> "$DIR/central/mosquitto.conf"
"$MOSQUITTO" -c "$DIR/central/mosquitto.conf" 2>>"$DIR/central/mosquitto.out" &
PIDS="$PIDS $!"
wait_port "$CPORT"
echo "== central broker: TLS on 127.0.0.1:$CPORT (client certificates, ACL)"

# ---- site brokers, each bridged to the central one ---------------------------
site_broker() {	# site -> prints the port
	port=$(free_port)
	d=$DIR/site-$1
	mkdir -p "$d"
	sed -e "s|@PORT@|$port|" -e "s|@DIR@|$d|" -e "s|@USER@|$ME|" \
	    broker/mosquitto-demo.conf > "$d/mosquitto.conf"
	sed -e "s|plant-a|$1|g" \
	    -e "s|^address .*|address 127.0.0.1:$CPORT|" \
	    -e "s|^bridge_cafile .*|bridge_cafile $DIR/certs/ca.crt|" \
	    -e "s|^bridge_certfile .*|bridge_certfile $DIR/certs/bridges/$1.crt|" \
	    -e "s|^bridge_keyfile .*|bridge_keyfile $DIR/certs/bridges/$1.key|" \
	    broker/bridge-site.conf >> "$d/mosquitto.conf"
	# not on our stdout: the caller reads it through $(...) until EOF
	"$MOSQUITTO" -c "$d/mosquitto.conf" >>"$d/mosquitto.out" 2>&1 &
	echo "$! $port"
}
set -- $(site_broker plant-a); PIDS="$PIDS $1"; APORT=$2
set -- $(site_broker plant-b); PIDS="$PIDS $1"; BPORT=$2
wait_port "$APORT"
wait_port "$BPORT"
echo "== site brokers: plant-a on :$APORT, plant-b on :$BPORT, bridged over TLS"

# ---- the central log: a throwaway PostgreSQL cluster, or a SQLite file -------
if [ "$DEMO_DB" = postgresql ]; then
	[ -n "$PGBIN" ] || { echo "demo-fleet: no PostgreSQL (apt-get install postgresql, or DEMO_DB=sqlite)" >&2; exit 1; }
	PGPORT=$(free_port)
	mkdir -p "$DIR/pg"
	[ "$(id -u)" -ne 0 ] || chown nobody "$DIR/pg"
	as_pg "$PGBIN/initdb" -D "$DIR/pg/data" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/pg/initdb.log" 2>&1
	PGDATA_DIR=$DIR/pg/data
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$DIR/pg/server.log" -w -t 120 \
	    -o "-p $PGPORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
	as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE icsentry" >/dev/null
	DB=postgresql://postgres@127.0.0.1:$PGPORT/icsentry
	echo "== PostgreSQL $(basename "$(dirname "$PGBIN")"): a throwaway cluster in $DIR/pg on 127.0.0.1:$PGPORT"
else
	DB=$DIR/central.db
fi

# ---- two collectors sharing the load ----------------------------------------
for k in 1 2; do
	cat > "$DIR/collector$k.conf" <<EOF
[collector]
db = $DB
persist_dir = $DIR/collectors.mqtt
[mqtt]
uri = ssl://127.0.0.1:$CPORT
ca_file = $DIR/certs/ca.crt
cert_file = $DIR/certs/collector.crt
key_file = $DIR/certs/collector.key
shared_subscription = true
reconnect_max = 2
EOF
	"$BUILD/icsentry-collector" -c "$DIR/collector$k.conf" 2> "$DIR/collector$k.log" &
	PIDS="$PIDS $!"
	i=0
	until grep -q subscribed "$DIR/collector$k.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "demo-fleet: collector $k:" >&2; cat "$DIR/collector$k.log" >&2; exit 1; }
		sleep 0.1
	done
done
echo "== collectors: 2, shared subscription, one log ($DB)"
grep -h "starting:" "$DIR"/collector?.log | sed 's/^/   /'

# ---- three agents, two of them named gw-01 ----------------------------------
agent() {	# site name port pcap
	cp config/demo.conf "$DIR/$1-$2.conf"
	printf '\n[agent]\nname = %s\nsite = %s\nstate_file = %s/%s-%s.state\n[mqtt]\nuri = tcp://127.0.0.1:%s\npersist_dir = %s/mqtt-%s-%s\n' \
	    "$2" "$1" "$DIR" "$1" "$2" "$3" "$DIR" "$1" "$2" >> "$DIR/$1-$2.conf"
	"$BUILD/icsentry-agent" -c "$DIR/$1-$2.conf" -r "$4" \
	    --alerts-out "$DIR/$1-$2.alerts.jsonl" 2> "$DIR/$1-$2.log"
}
echo "== agents: plant-a/gw-01, plant-a/gw-02, plant-b/gw-01 replay attack captures"
agent plant-a gw-01 "$APORT" "$PCAP2" & A1=$!
agent plant-a gw-02 "$APORT" "$PCAP" & A2=$!
agent plant-b gw-01 "$BPORT" "$PCAP2" & A3=$!
for p in $A1 $A2 $A3; do
	wait "$p" || { echo "demo-fleet: an agent failed:" >&2; cat "$DIR"/*-gw-0?.log >&2; exit 1; }
done
SENT=$(cat "$DIR"/*.alerts.jsonl | wc -l)

i=0
while :; do
	GOT=$("$BUILD/icsentry-log" query --db "$DB" --json 2>/dev/null | wc -l)
	[ "$GOT" -ge "$SENT" ] && break
	i=$((i + 1)); [ $i -lt 150 ] || { echo "demo-fleet: only $GOT of $SENT alerts arrived" >&2; exit 1; }
	sleep 0.2
done
echo "== $SENT alerts raised, $GOT stored (each once), acknowledged end to end"
grep -h "note:" "$DIR"/collector?.log | sed 's/^/   collector /' || :
echo
echo "== icsentry-log query --min-severity critical"
"$BUILD/icsentry-log" query --db "$DB" --min-severity critical
echo
echo "== icsentry-log stats"
"$BUILD/icsentry-log" stats --db "$DB"
echo
echo "== icsentry-log verify"
"$BUILD/icsentry-log" verify --db "$DB"
