/*
 * mqtt_out.c - the agent's MQTT publisher on Paho MQTTAsync (DESIGN.md
 * "MQTT").
 *
 * Paho already has what "never lose an alert" needs, so this file mostly
 * configures it: sendWhileDisconnected + allowDisconnectedSendAtAnyTime
 * (buffer before the first connect too), maxBufferedMessages with
 * deleteOldestMessages = 0 (refuse, never overwrite, when full), file
 * persistence (buffered and in-flight messages survive SIGKILL), a kept
 * session (cleanstart 0 + session expiry: after a reconnect Paho re-sends
 * what was in flight) and automaticReconnect.
 */
#include "mqtt_out.h"

#include <MQTTAsync.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ids.h"

/*
 * QoS 1 messages in flight at once (the broker's Receive Maximum caps it
 * further).  Paho 1.3 refills a full window only on its one-second
 * send-thread tick, so a window of 20 (mosquitto's default) drains a burst
 * at 20 alerts/s; broker/mosquitto.conf raises the broker's side to match.
 */
#define MQTT_OUT_INFLIGHT	1000
#define MQTT_OUT_TOPIC		320

static const struct cfg_key mqtt_keys[] = {
	{ "uri", CFG_STR, NULL, 0, 0,
	    "broker, tcp://host:1883 or ssl://host:8883; empty: MQTT off" },
	{ "client_id", CFG_STR, NULL, 0, 0,
	    "MQTT client id, stable across restarts "
	    "(empty: icsentry-<site>-<agent>)" },
	{ "ca_file", CFG_STR, NULL, 0, 0,
	    "CA certificate (PEM) the broker's certificate must chain to" },
	{ "cert_file", CFG_STR, NULL, 0, 0,
	    "this agent's certificate (PEM); its CN is <site>/<agent>" },
	{ "key_file", CFG_STR, NULL, 0, 0, "this agent's private key (PEM)" },
	{ "username", CFG_STR, NULL, 0, 0,
	    "user name (brokers with password authentication)" },
	{ "password_file", CFG_STR, NULL, 0, 0,
	    "file whose first line is the password" },
	{ "keepalive", CFG_INT, "30", 5, 3600, "keepalive, seconds" },
	{ "mqtt_version", CFG_INT, "5", 4, 5,
	    "5: MQTT v5, falling back to 3.1.1 if refused; 4: 3.1.1 only" },
	{ "max_buffered", CFG_INT, "10000", 1, 65000,
	    "messages held while the broker is away; more are dropped "
	    "(counted)" },
	{ "persist_dir", CFG_STR, "/var/lib/icsentry/mqtt", 0, 0,
	    "Paho persistence: buffered and unacknowledged messages survive "
	    "a restart; empty: memory only" },
	{ "stats_interval", CFG_INT, "60", 0, 86400,
	    "seconds between stats messages; 0: none" },
	{ "session_expiry", CFG_INT, "604800", 0, 4294967295.0,
	    "seconds the broker keeps this agent's session while it is away" },
	{ "connect_timeout", CFG_INT, "10", 1, 300, "connect timeout, seconds" },
	{ "reconnect_max", CFG_INT, "30", 1, 3600,
	    "longest pause between reconnect attempts, seconds" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

const struct cfg_schema mqtt_out_schema = { "mqtt", mqtt_keys };

static const char *const severities[] = {
	"info", "low", "medium", "high", "critical"
};

struct mqtt_out {
	MQTTAsync			 h;
	char				*uri, *client_id, *persist_dir;
	char				*ca, *cert, *key, *username, *password;
	char				 prefix[MQTT_OUT_TOPIC];	/* .../<agent>/ */
	char				 status_topic[MQTT_OUT_TOPIC + 8];
	int				 max_buffered;
	MQTTAsync_connectOptions	 conn;
	MQTTAsync_willOptions		 will;
	MQTTAsync_SSLOptions		 ssl;
	MQTTProperties			 props;
	bool				 allow_fallback;
	atomic_bool			 v5;	/* callbacks/options of v5 */
	atomic_int			 connected;
	atomic_bool			 online_queued;	/* "online" not acked yet */
	atomic_uint_fast64_t		 published, delivered, dropped;
	atomic_uint_fast64_t		 refused, skipped, connects;
	/* the link drops right after connecting, with nothing acknowledged */
	atomic_int_fast64_t		 up_since_ms;
	atomic_uint_fast64_t		 delivered_at_up;
	atomic_int			 fruitless;
	void				(*log)(void *, const char *);
	void				*log_ctx;
	pthread_mutex_t			 log_mu;
	char				 last_fail[200];
};

static int64_t	now_ms(void);

/* Ours, accepted and not yet answered.  (Paho's pending-token list can
 * still hold a token whose success callback already ran.) */
static uint64_t
queued_now(struct mqtt_out *m)
{
	uint64_t p = atomic_load(&m->published);
	uint64_t done = atomic_load(&m->delivered) + atomic_load(&m->refused);

	return p > done ? p - done : 0;
}

/* ---- logging ---------------------------------------------------------- */

static void
log_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "mqtt: %s\n", line);
}

static void say(struct mqtt_out *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct mqtt_out *m, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->log(m->log_ctx, line);
}

/* A failing reconnect repeats itself: say it once until it changes. */
static void
say_failure(struct mqtt_out *m, const char *what)
{
	bool same;

	pthread_mutex_lock(&m->log_mu);
	same = strcmp(m->last_fail, what) == 0;
	if (!same)
		snprintf(m->last_fail, sizeof(m->last_fail), "%s", what);
	pthread_mutex_unlock(&m->log_mu);
	if (!same)
		say(m, "cannot connect to %s: %s; buffering and retrying",
		    m->uri, what);
}

/* ---- Paho callbacks (Paho's threads) ---------------------------------- */

static void
on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	atomic_fetch_add(&m->delivered, 1);
}

static void
on_pub_ok3(void *ctx, MQTTAsync_successData *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	atomic_fetch_add(&m->delivered, 1);
}

static void
on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;
	uint_fast64_t n;

	/* A PUBACK refusal (ACL, quota): the broker will never take it. */
	if (r != NULL && r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		n = atomic_fetch_add(&m->refused, 1) + 1;
		if (n == 1 || n % 100 == 0)
			say(m, "broker refused a publish: %s (%llu so far)",
			    MQTTReasonCode_toString(r->reasonCode),
			    (unsigned long long)n);
	}
}

static void
on_pub_fail3(void *ctx, MQTTAsync_failureData *r)
{
	(void)ctx;
	(void)r;
}

static void
on_online_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	atomic_store(&((struct mqtt_out *)ctx)->online_queued, false);
}

static void
on_online_ok3(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	atomic_store(&((struct mqtt_out *)ctx)->online_queued, false);
}

static void
on_online_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)r;
	atomic_store(&((struct mqtt_out *)ctx)->online_queued, false);
}

static void
on_online_fail3(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	atomic_store(&((struct mqtt_out *)ctx)->online_queued, false);
}

static void
on_connected(void *ctx, char *cause)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct mqtt_out *m = ctx;
	uint_fast64_t n;
	int rc;

	(void)cause;
	atomic_store(&m->connected, 1);
	atomic_store(&m->up_since_ms, now_ms());
	atomic_store(&m->delivered_at_up, atomic_load(&m->delivered));
	n = atomic_fetch_add(&m->connects, 1);
	pthread_mutex_lock(&m->log_mu);
	m->last_fail[0] = '\0';
	pthread_mutex_unlock(&m->log_mu);
	say(m, "%s %s (MQTT %s)", n == 0 ? "connected to" : "reconnected to",
	    m->uri, atomic_load(&m->v5) ? "5" : "3.1.1");
	/*
	 * Retained, so a SOC operator subscribing later still sees it.  One
	 * at a time: an "online" still unacknowledged from an earlier
	 * connection is re-sent by Paho, so a flapping link does not pile
	 * them up in the buffer.
	 */
	if (atomic_exchange(&m->online_queued, true))
		return;
	ro.context = m;
	if (atomic_load(&m->v5)) {
		ro.onSuccess5 = on_online_ok5;
		ro.onFailure5 = on_online_fail5;
	} else {
		ro.onSuccess = on_online_ok3;
		ro.onFailure = on_online_fail3;
	}
	rc = MQTTAsync_send(m->h, m->status_topic, 6, "online", 1, 1, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		atomic_store(&m->online_queued, false);
		say(m, "status: %s", MQTTAsync_strerror(rc));
	}
}

/*
 * A broker that closes every connection soon after it opens, before a
 * single message was acknowledged, holds the queue hostage while looking
 * "reconnected" each time.  Say so, loudly and with the backlog, so the
 * operator finds the cause in the broker's log (ACL, malformed packet,
 * size limit) instead of a quiet stall.
 */
#define MQTT_OUT_FRUITLESS_MS	10000

static void
on_lost(void *ctx, char *cause)
{
	struct mqtt_out *m = ctx;
	uint64_t queued;
	int n = 0;

	atomic_store(&m->connected, 0);
	queued = queued_now(m);
	if (now_ms() - atomic_load(&m->up_since_ms) < MQTT_OUT_FRUITLESS_MS &&
	    atomic_load(&m->delivered) == atomic_load(&m->delivered_at_up) &&
	    queued > 0)
		n = atomic_fetch_add(&m->fruitless, 1) + 1;
	else
		atomic_store(&m->fruitless, 0);
	if (n >= 3 && (n == 3 || n % 20 == 0))
		say(m, "%s closed %d connections in a row before acknowledging "
		    "anything; %llu message(s) wait%s; see the broker's log",
		    m->uri, n, (unsigned long long)queued,
		    m->persist_dir != NULL ? " in persist_dir" : "");
	else
		say(m, "connection to %s lost (%s); buffering", m->uri,
		    cause != NULL ? cause : "closed by the broker");
}

static void
on_connect_fail3(void *ctx, MQTTAsync_failureData *r)
{
	struct mqtt_out *m = ctx;

	say_failure(m, r != NULL && r->message != NULL ? r->message :
	    MQTTAsync_strerror(r != NULL ? r->code : MQTTASYNC_FAILURE));
}

static void
use_v311(struct mqtt_out *m)
{
	m->conn.MQTTVersion = MQTTVERSION_3_1_1;
	m->conn.cleanstart = 0;
	m->conn.cleansession = 0;	/* keep the session, as with v5 */
	m->conn.connectProperties = NULL;
	m->conn.onSuccess5 = NULL;
	m->conn.onFailure5 = NULL;
	m->conn.onFailure = on_connect_fail3;
	atomic_store(&m->v5, false);
}

static void
on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;
	int rc;

	/*
	 * A 3.1.1 broker answers a v5 CONNECT with return code 1
	 * ("unacceptable protocol version"), a v5 one with reason 0x84.
	 */
	if (m->allow_fallback && r != NULL &&
	    (r->reasonCode == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION ||
	    r->code == 1)) {
		m->allow_fallback = false;
		say(m, "%s refused MQTT 5; using 3.1.1", m->uri);
		use_v311(m);
		rc = MQTTAsync_connect(m->h, &m->conn);
		if (rc != MQTTASYNC_SUCCESS)
			say(m, "connect: %s", MQTTAsync_strerror(rc));
		return;
	}
	say_failure(m, r == NULL ? "unknown error" : r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r->message != NULL ?
	    r->message : MQTTAsync_strerror(r->code));
}

/* ---- helpers ---------------------------------------------------------- */

static bool
is_level(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max &&
	    strpbrk(s, "/+#") == NULL;
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

/* "" and NULL both mean "not set". */
static char *
dup_opt(const char *s, bool *fail)
{
	char *d;

	if (s == NULL || s[0] == '\0')
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*fail = true;
	return d;
}

/* mkdir -p, private to the agent. */
static int
make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		buf[i] = i == n ? '\0' : '/';
	}
	return 0;
}

static char *
read_password(const char *path, char *err, size_t errlen)
{
	char buf[1024];
	FILE *f;
	char *s;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "password_file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	s = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (s == NULL)
		snprintf(err, errlen, "out of memory");
	return s;
}

/* Messages accepted by Paho and not acknowledged yet (queued + inflight). */
static uint64_t
pending(MQTTAsync h)
{
	MQTTAsync_token *t = NULL;
	uint64_t n = 0;

	if (MQTTAsync_getPendingTokens(h, &t) == MQTTASYNC_SUCCESS &&
	    t != NULL) {
		while (t[n] != -1)
			n++;
		MQTTAsync_free(t);
	}
	return n;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
free_strings(struct mqtt_out *m)
{
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m->uri);
	free(m->client_id);
	free(m->persist_dir);
	free(m->ca);
	free(m->cert);
	free(m->key);
	free(m->username);
}

/* ---- public ----------------------------------------------------------- */

int
mqtt_out_opts_from_cfg(const struct cfg *c, const char *site,
    const char *agent, struct mqtt_out_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->uri = cfg_str(c, "mqtt", "uri");
	o->client_id = cfg_str(c, "mqtt", "client_id");
	o->site = site;
	o->agent = agent;
	o->ca_file = cfg_str(c, "mqtt", "ca_file");
	o->cert_file = cfg_str(c, "mqtt", "cert_file");
	o->key_file = cfg_str(c, "mqtt", "key_file");
	o->username = cfg_str(c, "mqtt", "username");
	o->password_file = cfg_str(c, "mqtt", "password_file");
	o->keepalive = (int)cfg_int(c, "mqtt", "keepalive");
	o->mqtt_version = (int)cfg_int(c, "mqtt", "mqtt_version");
	o->max_buffered = (int)cfg_int(c, "mqtt", "max_buffered");
	o->persist_dir = cfg_str(c, "mqtt", "persist_dir");
	o->stats_interval = (int)cfg_int(c, "mqtt", "stats_interval");
	o->session_expiry = (int)cfg_int(c, "mqtt", "session_expiry");
	o->connect_timeout = (int)cfg_int(c, "mqtt", "connect_timeout");
	o->reconnect_max = (int)cfg_int(c, "mqtt", "reconnect_max");
	return 0;
}

static int
check_opts(const struct mqtt_out_opts *o, char *err, size_t errlen)
{
	if (o->uri == NULL || !known_scheme(o->uri)) {
		snprintf(err, errlen, "uri '%s' is not tcp://, ssl://, mqtt://, "
		    "mqtts://, ws:// or wss://", o->uri != NULL ? o->uri : "");
		return IDS_EINVAL;
	}
	if (!is_level(o->site, 128) || !is_level(o->agent, 128)) {
		snprintf(err, errlen, "site '%s' and agent '%s' must be "
		    "non-empty topic levels without '/', '+' or '#'",
		    o->site != NULL ? o->site : "",
		    o->agent != NULL ? o->agent : "");
		return IDS_EINVAL;
	}
	/* the id names the persistence directory too */
	if (o->client_id != NULL && o->client_id[0] != '\0' &&
	    (strchr(o->client_id, '/') != NULL ||
	    strcmp(o->client_id, "..") == 0 || strlen(o->client_id) > 128)) {
		snprintf(err, errlen, "client_id '%s' must not contain '/'",
		    o->client_id);
		return IDS_EINVAL;
	}
	if (o->max_buffered < 1 || o->max_buffered > 65000 ||
	    o->keepalive < 1) {
		snprintf(err, errlen, "max_buffered must be 1..65000 and "
		    "keepalive positive");
		return IDS_EINVAL;
	}
	if (o->mqtt_version != 4 && o->mqtt_version != 5) {
		snprintf(err, errlen, "mqtt_version must be 5 or 4 (3.1.1)");
		return IDS_EINVAL;
	}
	return 0;
}

struct mqtt_out *
mqtt_out_new(const struct mqtt_out_opts *o, char *err, size_t errlen)
{
	MQTTAsync_createOptions co5 = MQTTAsync_createOptions_initializer5;
	MQTTAsync_createOptions co3 = MQTTAsync_createOptions_initializer;
	MQTTAsync_connectOptions c5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions c3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTAsync_createOptions *co;
	MQTTProperty p;
	struct mqtt_out *m;
	char id[300];
	bool fail = false;
	int rc;

	if (check_opts(o, err, errlen) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->log_mu, NULL);
	m->log = o->log != NULL ? o->log : log_stderr;
	m->log_ctx = o->log_ctx;
	m->max_buffered = o->max_buffered;
	if (o->client_id != NULL && o->client_id[0] != '\0')
		snprintf(id, sizeof(id), "%s", o->client_id);
	else
		snprintf(id, sizeof(id), "icsentry-%s-%s", o->site, o->agent);
	snprintf(m->prefix, sizeof(m->prefix), "icsentry/%s/%s/", o->site,
	    o->agent);
	snprintf(m->status_topic, sizeof(m->status_topic), "%sstatus",
	    m->prefix);
	m->uri = dup_opt(o->uri, &fail);
	m->client_id = dup_opt(id, &fail);
	m->persist_dir = dup_opt(o->persist_dir, &fail);
	m->ca = dup_opt(o->ca_file, &fail);
	m->cert = dup_opt(o->cert_file, &fail);
	m->key = dup_opt(o->key_file, &fail);
	m->username = dup_opt(o->username, &fail);
	if (fail) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (o->password_file != NULL && o->password_file[0] != '\0') {
		m->password = read_password(o->password_file, err, errlen);
		if (m->password == NULL)
			goto fail;
	}
	if (m->persist_dir != NULL && make_dirs(m->persist_dir) != 0) {
		snprintf(err, errlen, "persist_dir %s: %s", m->persist_dir,
		    strerror(errno));
		goto fail;
	}

	/* Buffer from the start, refuse (never overwrite) when full. */
	co = o->mqtt_version == 5 ? &co5 : &co3;
	co->sendWhileDisconnected = 1;
	co->allowDisconnectedSendAtAnyTime = 1;
	co->maxBufferedMessages = o->max_buffered;
	co->deleteOldestMessages = 0;
	co->restoreMessages = 1;
	co->persistQoS0 = 1;
	rc = MQTTAsync_createWithOptions(&m->h, m->uri, m->client_id,
	    m->persist_dir != NULL ? MQTTCLIENT_PERSISTENCE_DEFAULT :
	    MQTTCLIENT_PERSISTENCE_NONE, m->persist_dir, co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "%s: %s", m->uri, MQTTAsync_strerror(rc));
		m->h = NULL;
		goto fail;
	}
	MQTTAsync_setConnectionLostCallback(m->h, m, on_lost);
	MQTTAsync_setConnected(m->h, m, on_connected);

	m->conn = o->mqtt_version == 5 ? c5 : c3;
	m->conn.keepAliveInterval = o->keepalive;
	m->conn.connectTimeout = o->connect_timeout > 0 ? o->connect_timeout :
	    10;
	m->conn.maxInflight = MQTT_OUT_INFLIGHT;
	m->conn.automaticReconnect = 1;
	m->conn.minRetryInterval = 1;
	m->conn.maxRetryInterval = o->reconnect_max > 0 ? o->reconnect_max :
	    30;
	m->conn.username = m->username;
	m->conn.password = m->password;
	m->conn.context = m;
	m->will = will;
	m->will.topicName = m->status_topic;
	m->will.message = "offline";
	m->will.retained = 1;
	m->will.qos = 1;
	m->conn.will = &m->will;
	if (is_tls_uri(m->uri)) {
		m->ssl = ssl;
		m->ssl.trustStore = m->ca;
		m->ssl.keyStore = m->cert;
		m->ssl.privateKey = m->key;
		m->ssl.enableServerCertAuth = 1;
		m->ssl.verify = 1;
		m->conn.ssl = &m->ssl;
	}
	if (o->mqtt_version == 5) {
		atomic_store(&m->v5, true);
		m->allow_fallback = true;
		m->conn.cleanstart = 0;
		m->conn.onFailure5 = on_connect_fail5;
		p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
		p.value.integer4 = (unsigned int)o->session_expiry;
		MQTTProperties_add(&m->props, &p);
		m->conn.connectProperties = &m->props;
	} else {
		use_v311(m);
	}
	/* Returns at once; Paho connects (and keeps reconnecting) itself. */
	rc = MQTTAsync_connect(m->h, &m->conn);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "%s: %s", m->uri, MQTTAsync_strerror(rc));
		goto fail;
	}
	return m;
fail:
	if (m->h != NULL)
		MQTTAsync_destroy(&m->h);
	MQTTProperties_free(&m->props);
	free_strings(m);
	pthread_mutex_destroy(&m->log_mu);
	free(m);
	return NULL;
}

static int
publish(struct mqtt_out *m, const char *topic, const char *p, size_t len,
    int retained)
{
	MQTTAsync_responseOptions ro;
	uint_fast64_t n;
	int rc, tries;

	if (len > INT_MAX)
		return IDS_EINVAL;
	/* twice: a 3.1.1 fallback may switch the callback flavour under us */
	for (tries = 0; tries < 2; tries++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		ro.context = m;
		if (atomic_load(&m->v5)) {
			ro.onSuccess5 = on_pub_ok5;
			ro.onFailure5 = on_pub_fail5;
		} else {
			ro.onSuccess = on_pub_ok3;
			ro.onFailure = on_pub_fail3;
		}
		rc = MQTTAsync_send(m->h, topic, (int)len, len > 0 ? p : "", 1,
		    retained, &ro);
		if (rc != MQTTASYNC_BAD_MQTT_OPTION)
			break;
	}
	if (rc == MQTTASYNC_SUCCESS) {
		atomic_fetch_add(&m->published, 1);
		return 0;
	}
	n = atomic_fetch_add(&m->dropped, 1) + 1;
	if (n == 1 || n % 1000 == 0)
		say(m, "publish on %s dropped: %s (%llu dropped so far)", topic,
		    MQTTAsync_strerror(rc), (unsigned long long)n);
	return rc == MQTTASYNC_MAX_BUFFERED_MESSAGES ||
	    rc == MQTTASYNC_NO_MORE_MSGIDS ? IDS_EAGAIN : IDS_EIO;
}

int
mqtt_out_alert(struct mqtt_out *m, const char *severity, const char *json,
    size_t len)
{
	char topic[MQTT_OUT_TOPIC + 16];
	size_t i;

	for (i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		if (severity != NULL && strcmp(severity, severities[i]) == 0)
			break;
	if (i == sizeof(severities) / sizeof(severities[0]))
		return IDS_EINVAL;
	snprintf(topic, sizeof(topic), "%salert/%s", m->prefix, severity);
	return publish(m, topic, json, len, 0);
}

int
mqtt_out_asset(struct mqtt_out *m, const char *ip, const char *json,
    size_t len)
{
	char topic[MQTT_OUT_TOPIC + 80];

	if (!is_level(ip, 64))
		return IDS_EINVAL;
	/* offline, alerts get the second half of the buffer to themselves */
	if (!MQTTAsync_isConnected(m->h) &&
	    pending(m->h) >= (uint64_t)(m->max_buffered / 2)) {
		atomic_fetch_add(&m->skipped, 1);
		return IDS_EAGAIN;
	}
	snprintf(topic, sizeof(topic), "%sasset/%s", m->prefix, ip);
	return publish(m, topic, json, len, 1);
}

int
mqtt_out_stats(struct mqtt_out *m, const char *json, size_t len)
{
	char topic[MQTT_OUT_TOPIC + 8];

	if (!MQTTAsync_isConnected(m->h)) {
		atomic_fetch_add(&m->skipped, 1);
		return IDS_EAGAIN;
	}
	snprintf(topic, sizeof(topic), "%sstats", m->prefix);
	return publish(m, topic, json, len, 0);
}

void
mqtt_out_counters(const struct mqtt_out *m, struct mqtt_out_counters *out)
{
	struct mqtt_out *mm = (struct mqtt_out *)m;	/* atomics only */
	uint_fast64_t c;

	memset(out, 0, sizeof(*out));
	out->published = atomic_load(&mm->published);
	out->delivered = atomic_load(&mm->delivered);
	out->dropped = atomic_load(&mm->dropped);
	out->refused = atomic_load(&mm->refused);
	out->skipped = atomic_load(&mm->skipped);
	c = atomic_load(&mm->connects);
	out->reconnects = c > 0 ? c - 1 : 0;
	out->buffered = queued_now(mm);
	out->connected = MQTTAsync_isConnected(m->h) ? 1 : 0;
	out->mqtt_version = c == 0 ? 0 : atomic_load(&mm->v5) ? 5 : 4;
}

int
mqtt_out_close(struct mqtt_out *m, int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_disconnectOptions d5 =
	    MQTTAsync_disconnectOptions_initializer5;
	MQTTAsync_disconnectOptions d3 = MQTTAsync_disconnectOptions_initializer;
	int64_t end;
	uint64_t left;
	int wait;

	if (m == NULL)
		return 0;
	end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/*
	 * Connected or not: a short replay can end before the first connect
	 * completes, and the queue should still go out if the broker comes
	 * within the time we were given.
	 */
	while (pending(m->h) > 0 && now_ms() < end)
		sleep_ms(10);
	left = pending(m->h);
	if (MQTTAsync_isConnected(m->h)) {
		/* a clean goodbye: the will only covers a vanished agent */
		if (MQTTAsync_send(m->h, m->status_topic, 7, "offline", 1, 1,
		    &ro) == MQTTASYNC_SUCCESS) {
			wait = (int)(end - now_ms());
			MQTTAsync_waitForCompletion(m->h, ro.token,
			    (unsigned long)(wait > 500 ? wait : 500));
		}
		if (atomic_load(&m->v5)) {
			d5.timeout = 500;
			MQTTAsync_disconnect(m->h, &d5);
		} else {
			d3.timeout = 500;
			MQTTAsync_disconnect(m->h, &d3);
		}
		for (wait = 0; wait < 100 && MQTTAsync_isConnected(m->h); wait++)
			sleep_ms(10);
	}
	if (left > 0)
		say(m, "closing with %llu message(s) not acknowledged%s",
		    (unsigned long long)left, m->persist_dir != NULL ?
		    "; they stay in persist_dir for the next start" : "");
	MQTTAsync_destroy(&m->h);
	MQTTProperties_free(&m->props);
	free_strings(m);
	pthread_mutex_destroy(&m->log_mu);
	free(m);
	return left > 0 ? IDS_EAGAIN : 0;
}
