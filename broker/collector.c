/*
 * collector.c - icsentry-collector: MQTT -> SQLite central log.
 *
 *   icsentry-collector [-c FILE] [--mqtt URI] [--db FILE] [--client-id ID]
 *
 * Subscribes (MQTT v5, persistent session) to the shared alert subscription
 * $share/<group>/icsentry/+/+/alert/# and to every agent's status, stats
 * and asset topics (DESIGN.md "MQTT"), and stores what arrives through
 * central_log.h.  A message is acknowledged to Paho (messageArrived
 * returns 1) only after its row is committed or it was rejected; Paho file
 * persistence keeps what the broker considers delivered but we have not
 * stored yet, so a crash between the two loses nothing.
 */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "lib/cfg.h"
#include "lib/ids.h"

#define PROG		"icsentry-collector"
#define VERSION		"0.1"
#define DEFAULT_CONF	"/etc/icsentry/collector.conf"
#define MAX_TOPIC	512

static const struct cfg_key collector_keys[] = {
	{ "db", CFG_STR, "/var/lib/icsentry/central.db", 0, 0,
	    "central log file (SQLite, WAL)" },
	{ "max_payload", CFG_INT, "65536", 256, 16777216,
	    "largest message accepted, bytes; larger ones are rejected" },
	{ "fsync", CFG_BOOL, "true", 0, 0,
	    "fsync every commit (survives power loss); false: only crashes" },
	{ "persist_dir", CFG_STR, NULL, 0, 0,
	    "Paho persistence for received, not yet stored messages "
	    "(empty: <db>.mqtt)" },
	{ "log_rejects", CFG_INT, "20", 0, 1000000,
	    "log the first N rejected messages, then every 100th" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

static const struct cfg_key mqtt_keys[] = {
	{ "uri", CFG_STR, "tcp://127.0.0.1:1883", 0, 0,
	    "broker: tcp://host:1883 or ssl://host:8883" },
	{ "client_id", CFG_STR, NULL, 0, 0,
	    "MQTT client id, stable across restarts "
	    "(empty: icsentry-collector-<hostname>)" },
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
    &collector_mqtt_schema };

struct collector {
	MQTTAsync		 h;
	struct central_log	*db;
	pthread_mutex_t		 mu;		/* db, closing */
	bool			 closing;
	size_t			 max_payload;
	long long		 log_rejects;
	long long		 rejects;	/* this run, for log pacing */
	bool			 db_failing;
	char			 alert_filter[256];
	const char		*uri;
};

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char usage_text[] =
"usage: " PROG " [-c FILE] [--mqtt URI] [--db FILE] [--client-id ID]\n"
"Subscribe to the icsentry MQTT topics and store alerts, agent status,\n"
"stats and asset inventory in the central log (SQLite).\n"
"\n"
"  -c, --config FILE   INI config (default " DEFAULT_CONF " if present)\n"
"      --mqtt URI      broker, overrides [mqtt] uri (tcp://, ssl://)\n"
"      --db FILE       central log, overrides [collector] db\n"
"      --client-id ID  MQTT client id, overrides [mqtt] client_id\n"
"      --help, --version\n"
"SIGTERM or SIGINT stops it cleanly.\n"
"exit: 0 stopped by a signal, 1 runtime failure, 2 bad usage or config\n";

/* ---- message handling ------------------------------------------------- */

enum kind { K_ALERT, K_STATUS, K_STATS, K_ASSET };

struct topic {
	char		 buf[MAX_TOPIC];
	enum kind	 kind;
	const char	*site, *agent, *rest;	/* rest: severity or ip */
};

/*
 * icsentry/<site>/<agent>/alert/<severity> | status | stats | asset/<ip>;
 * anything else (more or fewer levels, empty levels) is refused.
 */
static bool
parse_topic(const char *t, size_t len, struct topic *tp)
{
	char *lv[6], *p;
	size_t n = 0;

	if (len == 0 || len >= sizeof(tp->buf) || memchr(t, '\0', len))
		return false;
	memcpy(tp->buf, t, len);
	tp->buf[len] = '\0';
	p = tp->buf;
	for (;;) {
		if (n == 6)
			return false;
		lv[n++] = p;
		p = strchr(p, '/');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (strcmp(lv[0], "icsentry") != 0 || n < 4 || lv[1][0] == '\0' ||
	    lv[2][0] == '\0')
		return false;
	tp->site = lv[1];
	tp->agent = lv[2];
	tp->rest = NULL;
	if (n == 5 && strcmp(lv[3], "alert") == 0 &&
	    central_log_severity_rank(lv[4]) >= 0) {
		tp->kind = K_ALERT;
		tp->rest = lv[4];
	} else if (n == 4 && strcmp(lv[3], "status") == 0) {
		tp->kind = K_STATUS;
	} else if (n == 4 && strcmp(lv[3], "stats") == 0) {
		tp->kind = K_STATS;
	} else if (n == 5 && strcmp(lv[3], "asset") == 0 && lv[4][0] != '\0') {
		tp->kind = K_ASSET;
		tp->rest = lv[4];
	} else {
		return false;
	}
	return true;
}

/* Count a rejected message; its text goes to the log, paced. */
static int
reject(struct collector *c, const char *counter, const char *topic,
    size_t tlen, const char *why)
{
	int rc = central_log_count(c->db, counter, 1);

	if (rc != 0)
		return rc;
	c->rejects++;
	if (c->rejects <= c->log_rejects || c->rejects % 100 == 0)
		logmsg("rejected message on '%.*s': %s (%lld rejected so far)",
		    (int)(tlen > 200 ? 200 : tlen), topic, why, c->rejects);
	return 0;
}

static bool
is_json_object(const char *p, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(p, len);
	bool ok = j != NULL && cJSON_IsObject(j);

	cJSON_Delete(j);
	return ok;
}

static int
handle_alert(struct collector *c, const struct topic *tp, const char *topic,
    size_t tlen, const char *p, size_t len)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[160], msg[224];
	int rc;

	/* a trailing newline is framing, not part of the chained text */
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
	    p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (central_log_alert_parse(p, len, &a, why, sizeof(why)) != 0) {
		snprintf(msg, sizeof(msg), "not a valid alert: %s", why);
		return reject(c, "rejected_invalid", topic, tlen, msg);
	}
	/* The topic is what the broker's ACL vouched for: the content must
	 * claim the same origin and severity. */
	if (strcmp(a.site, tp->site) != 0 || strcmp(a.agent, tp->agent) != 0 ||
	    strcmp(a.severity, tp->rest) != 0) {
		central_log_alert_free(&a);
		return reject(c, "rejected_topic", topic, tlen,
		    "site, agent or severity differs from the topic");
	}
	rc = central_log_insert(c->db, &a, p, len, central_log_now_us(), &res);
	if (rc == 0 && res == CENTRAL_LOG_CONFLICT)
		logmsg("conflict: %s/%s seq %" PRId64 " arrived again with "
		    "different content; kept the first", a.site, a.agent,
		    a.seq);
	central_log_alert_free(&a);
	return rc;
}

static int
handle(struct collector *c, const char *topic, size_t tlen, const char *p,
    size_t len)
{
	struct topic tp;

	if (len > c->max_payload)
		return reject(c, "rejected_size", topic, tlen,
		    "payload larger than max_payload");
	if (!parse_topic(topic, tlen, &tp))
		return reject(c, "rejected_topic", topic, tlen,
		    "not an icsentry topic");
	switch (tp.kind) {
	case K_ALERT:
		return handle_alert(c, &tp, topic, tlen, p, len);
	case K_STATUS:
		if (len == 0)
			return 0;	/* a retained status being cleared */
		if ((len == 6 && memcmp(p, "online", 6) == 0) ||
		    (len == 7 && memcmp(p, "offline", 7) == 0)) {
			char st[8];

			memcpy(st, p, len);
			st[len] = '\0';
			return central_log_agent_status(c->db, tp.site,
			    tp.agent, st, central_log_now_us());
		}
		return reject(c, "rejected_invalid", topic, tlen,
		    "status is neither online nor offline");
	case K_STATS:
		if (!is_json_object(p, len))
			return reject(c, "rejected_invalid", topic, tlen,
			    "stats is not a JSON object");
		return central_log_agent_stats(c->db, tp.site, tp.agent, p, len,
		    central_log_now_us());
	case K_ASSET:
		if (len > 0 && !is_json_object(p, len))
			return reject(c, "rejected_invalid", topic, tlen,
			    "asset is not a JSON object");
		return central_log_asset(c->db, tp.site, tp.agent, tp.rest,
		    len > 0 ? p : NULL, len, central_log_now_us());
	}
	return 0;
}

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
	rc = handle(c, topic, tl, m->payload, m->payloadlen > 0 ?
	    (size_t)m->payloadlen : 0);
	if (central_log_notice(c->db, note, sizeof(note)) != NULL)
		logmsg("note: %s", note);
	if (rc != 0) {
		if (!c->db_failing)
			logmsg("cannot store message (will retry): %s",
			    central_log_errmsg(c->db));
		c->db_failing = true;
		pthread_mutex_unlock(&c->mu);
		/* keep Paho from spinning on a database that is down */
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
		return 0;
	}
	if (c->db_failing)
		logmsg("storing again");
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
			logmsg("subscription %d refused: %s", i,
			    MQTTReasonCode_toString(r->alt.sub.reasonCodes[i]));
			bad++;
		}
	if (bad == 0)
		logmsg("subscribed to %s and icsentry/+/+/{status,stats,asset/#}",
		    c->alert_filter);
}

static void
on_subscribe_failed(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)ctx;
	logmsg("subscribe failed: %s", r != NULL && r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r != NULL && r->message ?
	    r->message : "unknown error");
}

/* Every (re)connection: subscribe again (a no-op for a kept session). */
static void
on_connected(void *ctx, char *cause)
{
	static const int qos[4] = { 1, 1, 1, 1 };
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct collector *c = ctx;
	char *topics[4];
	int rc;

	logmsg("connected to %s (%s)", c->uri, cause != NULL ? cause : "");
	topics[0] = c->alert_filter;
	topics[1] = (char *)"icsentry/+/+/status";
	topics[2] = (char *)"icsentry/+/+/stats";
	topics[3] = (char *)"icsentry/+/+/asset/#";
	ro.context = c;
	ro.onSuccess5 = on_subscribed;
	ro.onFailure5 = on_subscribe_failed;
	rc = MQTTAsync_subscribeMany(c->h, 4, topics, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		logmsg("subscribe: %s", MQTTAsync_strerror(rc));
}

static void
on_lost(void *ctx, char *cause)
{
	(void)ctx;
	logmsg("connection lost (%s); reconnecting", cause != NULL ? cause :
	    "broker closed it");
}

static void
on_connect_failed(void *ctx, MQTTAsync_failureData5 *r)
{
	struct collector *c = ctx;

	logmsg("cannot connect to %s: %s; retrying", c->uri,
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

/* First line of path, into a malloc'd string. */
static char *
read_secret(const char *path, char *err, size_t errlen)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	char *s;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	s = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (s == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	return s;
}

static bool
is_tls_uri(const char *uri)
{
	return strncmp(uri, "ssl://", 6) == 0 ||
	    strncmp(uri, "mqtts://", 8) == 0 || strncmp(uri, "wss://", 6) == 0;
}

static bool
known_scheme(const char *uri)
{
	return is_tls_uri(uri) || strncmp(uri, "tcp://", 6) == 0 ||
	    strncmp(uri, "mqtt://", 7) == 0 || strncmp(uri, "ws://", 5) == 0;
}

struct opts {
	const char	*config, *mqtt, *db, *client_id;
};

/* -1 to go on, else an exit code. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_MQTT = 256, O_DB, O_CLIENT_ID, O_HELP, O_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mqtt", required_argument, NULL, O_MQTT },
		{ "db", required_argument, NULL, O_DB },
		{ "client-id", required_argument, NULL, O_CLIENT_ID },
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
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n",
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
	if (cfg_load(path, schemas, 2, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	if ((o->mqtt != NULL && cfg_set(c, "mqtt", "uri", o->mqtt, "--mqtt",
	    err, sizeof(err)) != 0) ||
	    (o->db != NULL && cfg_set(c, "collector", "db", o->db, "--db", err,
	    sizeof(err)) != 0) ||
	    (o->client_id != NULL && cfg_set(c, "mqtt", "client_id",
	    o->client_id, "--client-id", err, sizeof(err)) != 0)) {
		fprintf(stderr, PROG ": %s\n", err);
		cfg_free(c);
		return 2;
	}
	v = cfg_str(c, "mqtt", "uri");
	if (!known_scheme(v)) {
		fprintf(stderr, PROG ": %s: [mqtt] uri '%s' is not tcp://, "
		    "ssl://, mqtt://, mqtts://, ws:// or wss://\n",
		    cfg_is_set(c, "mqtt", "uri") && o->mqtt != NULL ? "--mqtt" :
		    cfg_path(c), v);
		cfg_free(c);
		return 2;
	}
	v = cfg_str(c, "mqtt", "share_group");
	if (v[0] == '\0' || strpbrk(v, "/+#") != NULL) {
		fprintf(stderr, PROG ": %s: [mqtt] share_group '%s' must be one "
		    "topic level (no '/', '+', '#')\n", cfg_path(c), v);
		cfg_free(c);
		return 2;
	}
	if (cfg_str(c, "collector", "db")[0] == '\0') {
		fprintf(stderr, PROG ": %s: [collector] db is empty\n",
		    cfg_path(c));
		cfg_free(c);
		return 2;
	}
	*out = c;
	return 0;
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
	char *password = NULL;
	const char *v;
	volatile int disc_done = 0;
	int rc, sig, status = 1, i;
	struct timespec tick = { 1, 0 };
	int64_t n;

	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (load_config(&o, &cfg) != 0)
		return 2;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	c.max_payload = (size_t)cfg_int(cfg, "collector", "max_payload");
	c.log_rejects = cfg_int(cfg, "collector", "log_rejects");
	c.uri = cfg_str(cfg, "mqtt", "uri");
	if (cfg_bool(cfg, "mqtt", "shared_subscription"))
		snprintf(c.alert_filter, sizeof(c.alert_filter),
		    "$share/%s/icsentry/+/+/alert/#", cfg_str(cfg, "mqtt",
		    "share_group"));
	else
		snprintf(c.alert_filter, sizeof(c.alert_filter),
		    "icsentry/+/+/alert/#");

	v = cfg_str(cfg, "mqtt", "client_id");
	if (v[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(client_id, sizeof(client_id), "icsentry-collector-%s",
		    host);
	} else {
		snprintf(client_id, sizeof(client_id), "%s", v);
	}
	v = cfg_str(cfg, "collector", "persist_dir");
	if (v[0] == '\0')
		snprintf(persist, sizeof(persist), "%s.mqtt",
		    cfg_str(cfg, "collector", "db"));
	else
		snprintf(persist, sizeof(persist), "%s", v);
	v = cfg_str(cfg, "mqtt", "password_file");
	if (v[0] != '\0') {
		password = read_secret(v, err, sizeof(err));
		if (password == NULL) {
			fprintf(stderr, PROG ": %s: [mqtt] password_file: %s\n",
			    cfg_path(cfg), err);
			goto out_cfg;
		}
	}

	/* Paho's threads inherit this mask; only main takes the signals. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (central_log_open(cfg_str(cfg, "collector", "db"), CENTRAL_LOG_RDWR,
	    cfg_bool(cfg, "collector", "fsync") ? CENTRAL_LOG_SYNC_FULL :
	    CENTRAL_LOG_SYNC_NORMAL, &c.db, err, sizeof(err)) != 0) {
		logmsg("%s", err);
		goto out_cfg;
	}
	if (mkdir(persist, 0700) != 0 && errno != EEXIST) {
		logmsg("persist_dir %s: %s", persist, strerror(errno));
		goto out_db;
	}

	co.sendWhileDisconnected = 0;
	rc = MQTTAsync_createWithOptions(&c.h, c.uri, client_id,
	    MQTTCLIENT_PERSISTENCE_DEFAULT, persist, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		logmsg("%s: %s", c.uri, MQTTAsync_strerror(rc));
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
	if (is_tls_uri(c.uri)) {
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
	logmsg("starting: %s as %s, log %s", c.uri, client_id,
	    cfg_str(cfg, "collector", "db"));
	rc = MQTTAsync_connect(c.h, &conn);
	if (rc != MQTTASYNC_SUCCESS) {
		logmsg("connect %s: %s", c.uri, MQTTAsync_strerror(rc));
		goto out_mqtt;
	}

	/* Paho does the work; main only waits for a stop signal. */
	for (;;) {
		sig = sigtimedwait(&stop_signals, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	logmsg("stopping on signal %d", sig);
	status = 0;

	pthread_mutex_lock(&c.mu);
	c.closing = true;
	pthread_mutex_unlock(&c.mu);
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
		logmsg("alerts stored (all runs): %" PRId64, n);
	central_log_close(c.db);
out_cfg:
	MQTTProperties_free(&props);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	cfg_free(cfg);
	pthread_mutex_destroy(&c.mu);
	return status;
}
