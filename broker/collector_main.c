/*
 * collector_main.c - icsentry-collector's configuration, command line, MQTT
 * callbacks (Paho's threads) and main(); the message handling is
 * collector.c.
 */

#include "broker/collector_int.h"

#include <MQTTAsync.h>
#include <cJSON.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/clog_triage.h"
#include "broker/collector_out.h"
#include "broker/syslog_fwd.h"
#include "broker/intel_log.h"
#include "lib/atomic.h"
#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/metrics_http.h"
#include "lib/version.h"
#include "lib/mqttconf.h"
#include "lib/log.h"

static const struct cfg_key collector_keys[] = {
	{ "db", CFG_STR, "/var/lib/icsentry/central.db", 0, 0,
	    "central log: a file (SQLite, WAL) or postgresql://user@host/db "
	    "(several collectors may share one PostgreSQL log)" },
	{ "retention", CFG_STR, NULL, 0, 0,
	    "remove alerts older than this: 90d (days) or 12m (calendar "
	    "months, this one included); empty: keep everything" },
	{ "max_payload", CFG_INT, "65536", 256, 16777216,
	    "largest message accepted, bytes; larger ones are rejected" },
	{ "fsync", CFG_BOOL, "true", 0, 0,
	    "fsync every commit (survives power loss); false: only crashes" },
	{ "persist_dir", CFG_STR, NULL, 0, 0,
	    "the spool of the open batch (received, not yet committed "
	    "messages) and the client-id slot locks "
	    "(empty: <db>.mqtt; for a postgresql:// log "
	    "/var/lib/icsentry/<client_id>.mqtt)" },
	{ "log_rejects", CFG_INT, "20", 0, 1000000,
	    "log the first N rejected messages, then every 100th" },
	{ "batch_ms", CFG_INT, "200", 0, 10000,
	    "group commit: commit (and fsync) at most this many ms after the "
	    "first message of a batch; 0: every message on its own" },
	{ "batch_idle_ms", CFG_INT, "2", 0, 10000,
	    "group commit: commit as soon as no message arrived for this many "
	    "ms (the inbound queue is drained), so a batch stays small and "
	    "quick at a low rate and grows to batch_ms under load; 0: by "
	    "batch_ms and batch_max only" },
	{ "batch_max", CFG_INT, "1000", 1, 1000000,
	    "group commit: commit at once when a batch holds this many" },
	{ "checkpoint_pages", CFG_INT, "4096", 0, 1048576,
	    "SQLite: checkpoint the WAL on a thread of its own once a commit "
	    "leaves this many pages (4 KiB) in it; the writer checkpoints "
	    "itself past 4x that; 0: SQLite's automatic checkpoint inside "
	    "the commit (every 1000 pages)" },
	{ "metrics", CFG_STR, NULL, 0, 0,
	    "Prometheus /metrics on ADDR:PORT, e.g. 127.0.0.1:9188 (empty: off)" },
	{ "gap_timeout", CFG_INT, "600", 1, 604800,
	    "seconds a gap in an agent's seq may stay open before the "
	    "end-to-end ack steps over it (logged, counted)" },
	{ "incident_window", CFG_INT, "1800", 0, 604800,
	    "seconds: alerts from one src ip this close in capture time are "
	    "one incident (icsentry-log incidents); 0: no incidents" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

static const struct cfg_key mqtt_keys[] = {
	{ "uri", CFG_STR, "tcp://127.0.0.1:1883", 0, 0,
	    "broker: tcp://host:1883 or ssl://host:8883" },
	{ "client_id", CFG_STR, NULL, 0, 0,
	    "MQTT client id, stable across restarts (empty: "
	    "icsentry-collector-<hostname>, -2, -3 ... for further collectors "
	    "on the same host and log)" },
	{ "shared_subscription", CFG_BOOL, "false", 0, 0,
	    "true: take alerts through $share/<share_group>/... so several "
	    "collectors share the load (mosquitto 2.0 does not restore shared "
	    "subscriptions after a broker restart: alerts sent before the "
	    "collectors reconnect are lost); false: a plain persistent "
	    "subscription, lossless for one collector" },
	{ "share_group", CFG_STR, "icsentry", 0, 0,
	    "shared subscription group for alerts" },
	{ "ca_file", CFG_STR, NULL, 0, 0, "CA certificate (PEM) for ssl://" },
	{ "cert_file", CFG_STR, NULL, 0, 0, "client certificate (PEM)" },
	{ "key_file", CFG_STR, NULL, 0, 0, "client private key (PEM)" },
	{ "username", CFG_STR, NULL, 0, 0, "user name (when not using certs)" },
	{ "password_file", CFG_STR, NULL, 0, 0,
	    "file whose first line is the password" },
	{ "keepalive", CFG_INT, "30", 5, 3600, "keepalive, seconds" },
	{ "session_expiry", CFG_INT, "604800", 60, 4294967295.0,
	    "seconds the broker keeps our session (and queues alerts) while "
	    "we are away" },
	{ "connect_timeout", CFG_INT, "10", 1, 300, "connect timeout, seconds" },
	{ "reconnect_max", CFG_INT, "30", 1, 3600,
	    "longest wait between reconnect attempts, seconds" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

static const struct cfg_schema collector_schema = { "collector",
    collector_keys };
static const struct cfg_schema collector_mqtt_schema = { "mqtt", mqtt_keys };
static const struct cfg_schema *const schemas[] = { &collector_schema,
    &collector_mqtt_schema, &syslog_fwd_schema };

static const char usage_text[] =
"usage: " PROG " [-c FILE] [--mqtt URI] [--db FILE] [--client-id ID]\n"
"       [--metrics ADDR:PORT]\n"
"Subscribe to the icsentry MQTT topics and store alerts, agent status,\n"
"stats and asset inventory in the central log (SQLite).\n"
"\n"
"  -c, --config FILE   INI config (default " DEFAULT_CONF " if present)\n"
"      --mqtt URI      broker, overrides [mqtt] uri (tcp://, ssl://)\n"
"      --db FILE       central log, overrides [collector] db\n"
"      --client-id ID  MQTT client id, overrides [mqtt] client_id\n"
"      --metrics ADDR:PORT  serve Prometheus /metrics, overrides\n"
"                      [collector] metrics\n"
"  Stored alerts go to syslog (RFC 5424 over udp/tcp/tls, JSON or CEF)\n"
"  when [syslog] target is set.\n"
"      --help, --version\n"
"SIGTERM or SIGINT stops it cleanly.\n"
"exit: 0 stopped by a signal, 1 runtime failure, 2 bad usage or config\n";

/*
 * Paho's receive thread.  Returning 0 leaves the message queued (and
 * persisted) for another call, which is what a failed commit needs.
 */
static int
on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	struct collector *c = ctx;
	size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
	char note[512];
	int rc;

	pthread_mutex_lock(&c->mu);
	if (c->closing) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	/* group commit: the batch's transaction opens with its first message */
	if (c->batch_ms > 0 && !c->in_tx) {
		if (central_log_begin(c->db) == 0) {
			c->in_tx = true;
			c->batch_start_ms = collector_mono_ms();
			/* main sleeps long while no batch is open: wake it */
			if (c->batch_idle_ms > 0)
				pthread_kill(c->main_th, SIGUSR1);
		}
	}
	if (c->batch_idle_ms > 0)
		c->last_msg_ms = collector_mono_ms();
	if (c->in_tx)
		collector_spool_put(c, topic, tl, m->payload, m->payloadlen > 0 ?
		    (size_t)m->payloadlen : 0);
	rc = collector_handle(c, topic, tl, m->payload, m->payloadlen > 0 ?
	    (size_t)m->payloadlen : 0);
	if (central_log_notice(c->db, note, sizeof(note)) != NULL)
		collector_logmsg("note: %s", note);
	if (rc == 0 && c->in_tx && ++c->batch_n >= c->batch_max)
		rc = collector_batch_commit(c);
	if (rc != 0 && c->in_tx) {
		/* the batch goes; its agents send it again (no ack for it) */
		central_log_rollback(c->db);
		cout_rollback(c->out);
		clog_incident_batch_clear(c->inc);
		c->in_tx = false;
		c->batch_n = 0;
	}
	if (rc != 0 && !c->in_tx)
		cout_rollback(c->out);
	else if (rc == 0 && !c->in_tx)
		cout_commit(c->out);	/* stored on its own (batch_ms 0) */
	if (rc != 0) {
		if (!c->db_failing)
			collector_logmsg("cannot store message (will retry): %s",
			    central_log_errmsg(c->db));
		c->db_failing = true;
		pthread_mutex_unlock(&c->mu);
		/* keep Paho from spinning on a database that is down */
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
		return 0;
	}
	if (c->db_failing)
		collector_logmsg("storing again");
	c->db_failing = false;
	pthread_mutex_unlock(&c->mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void
on_subscribed(void *ctx, MQTTAsync_successData5 *r)
{
	struct collector *c = ctx;
	int i, bad = 0;

	for (i = 0; r != NULL && i < r->alt.sub.reasonCodeCount; i++)
		if (r->alt.sub.reasonCodes[i] >= 0x80) {
			collector_logmsg("subscription %d refused: %s", i,
			    MQTTReasonCode_toString(r->alt.sub.reasonCodes[i]));
			bad++;
		}
	if (bad == 0)
		collector_logmsg("subscribed to %s and icsentry/+/+/{status,stats,asset/#,intel,evidence/+}",
		    c->alert_filter);
}

static void
on_subscribe_failed(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)ctx;
	collector_logmsg("subscribe failed: %s", r != NULL && r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r != NULL && r->message ?
	    r->message : "unknown error");
}

/* Every (re)connection: subscribe again (a no-op for a kept session). */
static void
on_connected(void *ctx, char *cause)
{
	static const int qos[6] = { 1, 1, 1, 1, 1, 1 };
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct collector *c = ctx;
	char *topics[6];
	int rc;

	collector_logmsg("connected to %s (%s)", c->uri, cause != NULL ? cause : "");
	pthread_mutex_lock(&c->mu);
	c->connected = true;
	collector_peers_all_dirty(c);
	pthread_mutex_unlock(&c->mu);
	topics[0] = c->alert_filter;
	topics[1] = (char *)"icsentry/+/+/status";
	topics[2] = (char *)"icsentry/+/+/stats";
	topics[3] = (char *)"icsentry/+/+/asset/#";
	topics[4] = (char *)"icsentry/+/+/intel";
	topics[5] = (char *)"icsentry/+/+/evidence/+";
	ro.context = c;
	ro.onSuccess5 = on_subscribed;
	ro.onFailure5 = on_subscribe_failed;
	rc = MQTTAsync_subscribeMany(c->h, 6, topics, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		collector_logmsg("subscribe: %s", MQTTAsync_strerror(rc));
}

static void
on_lost(void *ctx, char *cause)
{
	struct collector *c = ctx;

	pthread_mutex_lock(&c->mu);
	c->connected = false;
	pthread_mutex_unlock(&c->mu);
	collector_logmsg("connection lost (%s); reconnecting", cause != NULL ? cause :
	    "broker closed it");
}

static void
on_connect_failed(void *ctx, MQTTAsync_failureData5 *r)
{
	struct collector *c = ctx;

	collector_logmsg("cannot connect to %s: %s; retrying", c->uri,
	    r == NULL ? "unknown error" : r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r->message != NULL ?
	    r->message : MQTTAsync_strerror(r->code));
}

static void
on_disconnected(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	*(volatile int *)ctx = 1;
}

static void
on_disconnect_failed(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)r;
	*(volatile int *)ctx = -1;
}

/* ---- startup ---------------------------------------------------------- */

struct opts {
	const char	*config, *mqtt, *db, *client_id, *metrics;
};

/* Remove what is older than the retention; a failure is retried later. */
static void
apply_retention(struct collector *c, const char *spec)
{
	int64_t cutoff, removed = 0;
	int rc;

	if (central_log_retention_cutoff(spec, central_log_now_us(),
	    &cutoff) != 0)
		return;
	pthread_mutex_lock(&c->mu);
	rc = central_log_retain(c->db, cutoff, &removed);
	if (rc != 0)
		collector_logmsg("retention: %s", central_log_errmsg(c->db));
	pthread_mutex_unlock(&c->mu);
	if (rc == 0 && removed > 0)
		collector_logmsg("retention %s: removed %" PRId64 " alerts", spec,
		    removed);
}

/* -1 to go on, else an exit code. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_MQTT = 256, O_DB, O_CLIENT_ID, O_HELP, O_VERSION, O_METRICS };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mqtt", required_argument, NULL, O_MQTT },
		{ "db", required_argument, NULL, O_DB },
		{ "client-id", required_argument, NULL, O_CLIENT_ID },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	memset(o, 0, sizeof(*o));
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case O_MQTT:
			o->mqtt = optarg;
			break;
		case O_DB:
			o->db = optarg;
			break;
		case O_CLIENT_ID:
			o->client_id = optarg;
			break;
		case O_METRICS:
			o->metrics = optarg;
			break;
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		case O_VERSION:
			printf(PROG " " VERSION "\n");
			return 0;
		default:
			fprintf(stderr, "(try --help)\n");
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (try --help)\n",
		    argv[optind]);
		return 2;
	}
	return -1;
}

/* Load the config and apply the command line; 0 or exit code 2. */
static int
load_config(const struct opts *o, struct cfg **out)
{
	const char *path = o->config;
	char err[512];
	struct cfg *c;
	const char *v;

	if (path == NULL && access(DEFAULT_CONF, F_OK) == 0)
		path = DEFAULT_CONF;
	if (cfg_load(path, schemas, sizeof(schemas) / sizeof(schemas[0]), &c, err,
	    sizeof(err)) != 0) {
		log_err("%s\n", err);
		return 2;
	}
	if ((o->mqtt != NULL && cfg_set(c, "mqtt", "uri", o->mqtt, "--mqtt",
	    err, sizeof(err)) != 0) ||
	    (o->db != NULL && cfg_set(c, "collector", "db", o->db, "--db", err,
	    sizeof(err)) != 0) ||
	    (o->client_id != NULL && cfg_set(c, "mqtt", "client_id",
	    o->client_id, "--client-id", err, sizeof(err)) != 0)) {
		log_err("%s\n", err);
		cfg_free(c);
		return 2;
	}
	v = cfg_str(c, "mqtt", "uri");
	if (!mqttconf_uri_known(v)) {
		log_err("%s: [mqtt] uri '%s' is not tcp://, "
		    "ssl://, mqtt://, mqtts://, ws:// or wss://\n",
		    cfg_is_set(c, "mqtt", "uri") && o->mqtt != NULL ? "--mqtt" :
		    cfg_path(c), v);
		cfg_free(c);
		return 2;
	}
	v = cfg_str(c, "mqtt", "share_group");
	if (v[0] == '\0' || strpbrk(v, "/+#") != NULL) {
		log_err("%s: [mqtt] share_group '%s' must be one "
		    "topic level (no '/', '+', '#')\n", cfg_path(c), v);
		cfg_free(c);
		return 2;
	}
	v = cfg_str(c, "collector", "retention");
	if (v[0] != '\0' && central_log_retention_cutoff(v, 0,
	    &(int64_t){ 0 }) != 0) {
		log_err("%s: [collector] retention '%s' is not "
		    "N days (90d) or N months (12m)\n", cfg_path(c), v);
		cfg_free(c);
		return 2;
	}
	{
		struct syslog_fwd_opts so;
		struct sockaddr_storage ss;
		size_t sl;

		if (syslog_fwd_opts_from_cfg(c, &so, err, sizeof(err)) != 0) {
			log_err("%s\n", err);
			cfg_free(c);
			return 2;
		}
		v = o->metrics != NULL ? o->metrics :
		    cfg_str(c, "collector", "metrics");
		if (v[0] != '\0' && metrics_parse_addr(v, &ss, &sl) != 0) {
			log_err("%s: metrics '%s' is not "
			    "HOST:PORT\n", o->metrics != NULL ? "--metrics" :
			    cfg_path(c), v);
			cfg_free(c);
			return 2;
		}
	}
	if (cfg_str(c, "collector", "db")[0] == '\0') {
		log_err("%s: [collector] db is empty\n",
		    cfg_path(c));
		cfg_free(c);
		return 2;
	}
	*out = c;
	return 0;
}

/*
 * The lowest k in 1..64 whose lock "<persist>.slot<k>.lock" we can hold;
 * the descriptor stays open (and the lock held) until exit.  -1: none.
 */
static int
take_slot(const char *persist, int *fd_out)
{
	char path[PATH_MAX + 32];
	int k, fd;

	errno = 0;
	for (k = 1; k <= 64; k++) {
		snprintf(path, sizeof(path), "%s.slot%d.lock", persist, k);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*fd_out = fd;
			return k;
		}
		close(fd);
	}
	errno = 0;
	return -1;
}

static sigset_t stop_signals;

int
main(int argc, char **argv)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_disconnectOptions dis =
	    MQTTAsync_disconnectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty prop;
	struct collector c;
	struct opts o;
	struct cfg *cfg = NULL;
	char err[512], host[128], client_id[256], persist[PATH_MAX];
	char spool[PATH_MAX + 16];
	char *password = NULL;
	const char *v;
	volatile int disc_done = 0;
	int rc, sig, status = 1, i;
	struct timespec tick = { 1, 0 };
	int64_t next_retain = 0;
	struct ack_out *acks = NULL;
	size_t nacks;
	int64_t n;
	int slot, slot_fd = -1;

	log_init(PROG);
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (load_config(&o, &cfg) != 0)
		return 2;
	memset(&c, 0, sizeof(c));
	c.spool = -1;
	pthread_mutex_init(&c.mu, NULL);
	c.max_payload = (size_t)cfg_int(cfg, "collector", "max_payload");
	c.batch_ms = cfg_int(cfg, "collector", "batch_ms");
	c.batch_max = (int)cfg_int(cfg, "collector", "batch_max");
	c.batch_idle_ms = c.batch_ms > 0 ? cfg_int(cfg, "collector",
	    "batch_idle_ms") : 0;
	c.main_th = pthread_self();
	c.gap_timeout_ms = cfg_int(cfg, "collector", "gap_timeout") * 1000;
	c.incident_window_s = cfg_int(cfg, "collector", "incident_window");
	c.inc = clog_incident_batch_new();
	if (c.inc == NULL) {
		fprintf(stderr, "icsentry-collector: out of memory\n");
		cfg_free(cfg);
		return 1;
	}
	c.log_rejects = cfg_int(cfg, "collector", "log_rejects");
	c.uri = cfg_str(cfg, "mqtt", "uri");
	if (cfg_bool(cfg, "mqtt", "shared_subscription"))
		snprintf(c.alert_filter, sizeof(c.alert_filter),
		    "$share/%s/icsentry/+/+/alert/#", cfg_str(cfg, "mqtt",
		    "share_group"));
	else
		snprintf(c.alert_filter, sizeof(c.alert_filter),
		    "icsentry/+/+/alert/#");

	v = cfg_str(cfg, "collector", "persist_dir");
	if (v[0] == '\0' && central_log_is_url(cfg_str(cfg, "collector", "db")))
		/* client_id is not set yet: the configured one (or --client-id) */
		snprintf(persist, sizeof(persist), "/var/lib/icsentry/%s.mqtt",
		    cfg_str(cfg, "mqtt", "client_id")[0] != '\0' ?
		    cfg_str(cfg, "mqtt", "client_id") : "icsentry-collector");
	else if (v[0] == '\0')
		snprintf(persist, sizeof(persist), "%s.mqtt",
		    cfg_str(cfg, "collector", "db"));
	else
		snprintf(persist, sizeof(persist), "%s", v);
	v = cfg_str(cfg, "mqtt", "client_id");
	if (v[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		/*
		 * Two collectors with one default id would take each other's
		 * session over, again and again.  The first free slot (a lock
		 * held while we run) gives each its own id and Paho store,
		 * the same ones on every restart: slot 1 is the old default.
		 */
		slot = take_slot(persist, &slot_fd);
		if (slot < 0) {
			log_err("%s.slot*.lock: %s; set [mqtt] "
			    "client_id\n", persist, errno != 0 ?
			    strerror(errno) : "64 collectors run already");
			goto out_cfg;
		}
		if (slot == 1) {
			snprintf(client_id, sizeof(client_id),
			    "icsentry-collector-%s", host);
		} else {
			snprintf(client_id, sizeof(client_id),
			    "icsentry-collector-%s-%d", host, slot);
			n = (int64_t)strlen(persist);
			snprintf(persist + n, sizeof(persist) - (size_t)n,
			    "-%d", slot);
		}
	} else {
		snprintf(client_id, sizeof(client_id), "%s", v);
	}
	v = cfg_str(cfg, "mqtt", "password_file");
	if (v[0] != '\0') {
		password = mqttconf_read_secret(v, err, sizeof(err));
		if (password == NULL) {
			log_err("%s: [mqtt] password_file: %s\n",
			    cfg_path(cfg), err);
			goto out_cfg;
		}
	}

	/* Paho's threads inherit this mask; only main takes the signals. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	/* not a stop: on_message's "a batch is open" (adaptive commit) */
	sigaddset(&stop_signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (central_log_open(cfg_str(cfg, "collector", "db"), CENTRAL_LOG_RDWR,
	    cfg_bool(cfg, "collector", "fsync") ? CENTRAL_LOG_SYNC_FULL :
	    CENTRAL_LOG_SYNC_NORMAL, &c.db, err, sizeof(err)) != 0) {
		collector_logmsg("%s", err);
		goto out_cfg;
	}
	/* triage and incident tables (clog_triage.h), created in place */
	if (clog_triage_schema(c.db) != 0) {
		collector_logmsg("%s: triage tables: %s", cfg_str(cfg, "collector", "db"),
		    clog_triage_errmsg());
		goto out_db;
	}
	/* SQLite: WAL checkpoints off the commit path (central_log_ckpt.c) */
	n = cfg_int(cfg, "collector", "checkpoint_pages");
	if (n > 0 && central_log_background_checkpoint(c.db, (int)n,
	    (int)(n * 4)) != 0)
		collector_logmsg("background checkpoints unavailable; SQLite "
		    "checkpoints inside the commits");
	/*
	 * PostgreSQL: a batch's alerts go to the server pipelined, one round
	 * trip per batch instead of per alert (bench-central).
	 */
	if (c.batch_ms > 0)
		(void)central_log_defer_inserts(c.db, c.batch_max < 1000 ?
		    c.batch_max : 1000, collector_on_stored, &c);
	if (intel_log_open(cfg_str(cfg, "collector", "db"), true, &c.intel, err,
	    sizeof(err)) != 0)
		collector_logmsg("intel versions not recorded: %s", err);
	/* with its parent: /var/lib/icsentry before the package made it */
	if (atomic_mkdirs(persist, 0700) != 0) {
		collector_logmsg("persist_dir %s: %s (set [collector] persist_dir "
		    "to a writable directory)", persist, strerror(errno));
		goto out_db;
	}
	c.out = cout_new(cfg, o.metrics != NULL ? o.metrics :
	    cfg_str(cfg, "collector", "metrics"), err, sizeof(err));
	if (c.out == NULL) {
		collector_logmsg("%s", err);
		goto out_db;
	}
	snprintf(spool, sizeof(spool), "%s/batch.spool", persist);
	if (collector_spool_replay(&c, spool) != 0) {
		collector_logmsg("%s: cannot store what it holds (kept): %s", spool,
		    central_log_errmsg(c.db));
		goto out_db;
	}
	c.spool = open(spool, O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600);
	if (c.spool < 0)
		collector_logmsg("%s: %s (a killed collector may then lose its open "
		    "batch to publishers without end-to-end ack)", spool,
		    strerror(errno));

	co.sendWhileDisconnected = 0;
	/*
	 * Paho keeps in memory.  What it would persist are our outgoing
	 * acks (received messages go to the spool above, and the agents keep
	 * every alert until acknowledged): each ack is retained and carries
	 * the highest contiguous seq, so a later one supersedes it; after a
	 * reconnect every peer's is sent again, and one lost with a crash is
	 * sent again when the agent re-sends its unacknowledged alerts (each
	 * duplicate marks its peer for a resend).  The file store created,
	 * read back and unlinked two files per ack (strace, bench-central).
	 */
	rc = MQTTAsync_createWithOptions(&c.h, c.uri, client_id,
	    MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		collector_logmsg("%s: %s", c.uri, MQTTAsync_strerror(rc));
		goto out_db;
	}
	MQTTAsync_setCallbacks(c.h, &c, on_lost, on_message, NULL);
	MQTTAsync_setConnected(c.h, &c, on_connected);

	conn.keepAliveInterval = (int)cfg_int(cfg, "mqtt", "keepalive");
	conn.cleanstart = 0;		/* keep the session: queued alerts */
	conn.connectTimeout = (int)cfg_int(cfg, "mqtt", "connect_timeout");
	conn.automaticReconnect = 1;
	conn.minRetryInterval = 1;
	conn.maxRetryInterval = (int)cfg_int(cfg, "mqtt", "reconnect_max");
	conn.onFailure5 = on_connect_failed;
	conn.context = &c;
	prop.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
	prop.value.integer4 = (unsigned int)cfg_int(cfg, "mqtt",
	    "session_expiry");
	MQTTProperties_add(&props, &prop);
	conn.connectProperties = &props;
	v = cfg_str(cfg, "mqtt", "username");
	conn.username = v[0] != '\0' ? v : NULL;
	conn.password = password;
	if (mqttconf_uri_is_tls(c.uri)) {
		v = cfg_str(cfg, "mqtt", "ca_file");
		ssl.trustStore = v[0] != '\0' ? v : NULL;
		v = cfg_str(cfg, "mqtt", "cert_file");
		ssl.keyStore = v[0] != '\0' ? v : NULL;
		v = cfg_str(cfg, "mqtt", "key_file");
		ssl.privateKey = v[0] != '\0' ? v : NULL;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		conn.ssl = &ssl;
	}
	collector_logmsg("starting: %s as %s, log %s", c.uri, client_id,
	    cfg_str(cfg, "collector", "db"));
	rc = MQTTAsync_connect(c.h, &conn);
	if (rc != MQTTASYNC_SUCCESS) {
		collector_logmsg("connect %s: %s", c.uri, MQTTAsync_strerror(rc));
		goto out_mqtt;
	}

	/*
	 * Paho's thread stores; main closes batches that are due and
	 * publishes the acks of what is committed, until a stop signal.
	 */
	tick.tv_sec = 0;
	tick.tv_nsec = (c.batch_ms > 0 && c.batch_ms < 100 ?
	    (c.batch_ms + 1) / 2 : 50) * 1000000L;
	for (bool open = false;;) {
		struct timespec wait = tick;
		int64_t now;

		/*
		 * Adaptive group commit: while a batch is open, look every
		 * millisecond whether messages stopped coming (the broker's
		 * queue is drained): at a low rate an alert commits about
		 * batch_idle_ms after it came; under load the batch grows
		 * until batch_ms or batch_max.  Idle: the tick, or SIGUSR1
		 * from on_message when a batch opens.
		 */
		if (open && c.batch_idle_ms > 0)
			wait.tv_nsec = 1000000L;
		/* retention at start and then hourly, between messages */
		if (cfg_str(cfg, "collector", "retention")[0] != '\0' &&
		    central_log_now_us() >= next_retain) {
			apply_retention(&c, cfg_str(cfg, "collector",
			    "retention"));
			next_retain = central_log_now_us() + 3600LL * 1000000;
		}
		sig = sigtimedwait(&stop_signals, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		pthread_mutex_lock(&c.mu);
		now = collector_mono_ms();
		if (c.in_tx && (now - c.batch_start_ms >= c.batch_ms ||
		    (c.batch_idle_ms > 0 && now - c.last_msg_ms >=
		    c.batch_idle_ms)))
			(void)collector_batch_commit(&c);
		nacks = 0;
		if (!c.in_tx && c.connected && c.dirty != NULL)
			nacks = collector_peers_settle(&c, &acks);
		open = c.in_tx;
		pthread_mutex_unlock(&c.mu);
		if (nacks > 0)
			collector_publish_acks(&c, acks, nacks);
		free(acks);
		acks = NULL;
	}
	collector_logmsg("stopping on signal %d", sig);
	status = 0;

	pthread_mutex_lock(&c.mu);
	c.closing = true;
	if (collector_batch_commit(&c) == 0 && c.connected && c.dirty != NULL)
		nacks = collector_peers_settle(&c, &acks);
	else
		nacks = 0;
	pthread_mutex_unlock(&c.mu);
	if (nacks > 0)
		collector_publish_acks(&c, acks, nacks);
	free(acks);
	if (MQTTAsync_isConnected(c.h)) {
		dis.timeout = 1000;
		dis.context = (void *)&disc_done;
		dis.onSuccess5 = on_disconnected;
		dis.onFailure5 = on_disconnect_failed;
		if (MQTTAsync_disconnect(c.h, &dis) == MQTTASYNC_SUCCESS)
			for (i = 0; i < 200 && disc_done == 0; i++)
				nanosleep(&(struct timespec){ 0, 10000000L },
				    NULL);
	}
out_mqtt:
	MQTTAsync_destroy(&c.h);
out_db:
	if (c.db != NULL && central_log_counter(c.db, "stored", &n) == 0)
		collector_logmsg("alerts stored (all runs): %" PRId64, n);
	if (c.batches > 0)
		collector_logmsg("group commit: %" PRId64 " batches, %.1f messages "
		    "each on average", c.batches, (double)c.batched /
		    (double)c.batches);
	if (c.db != NULL) {
		int64_t runs, inl, maxf;

		central_log_checkpoint_stats(c.db, &runs, &inl, &maxf);
		if (runs + inl > 0)
			collector_logmsg("WAL checkpoints: %" PRId64 " in the "
			    "background, %" PRId64 " by the writer; largest WAL "
			    "%" PRId64 " pages", runs, inl, maxf);
	}
	/* what is committed reaches syslog if the receiver is up (bounded) */
	cout_free(c.out, 2000);
	intel_log_close(c.intel);
	central_log_close(c.db);
	collector_peers_free(&c);
	clog_incident_batch_free(c.inc);
	if (c.spool >= 0)
		close(c.spool);
out_cfg:
	MQTTProperties_free(&props);
	mqttconf_free_secret(password);
	cfg_free(cfg);
	if (slot_fd >= 0)
		close(slot_fd);
	pthread_mutex_destroy(&c.mu);
	return status;
}
