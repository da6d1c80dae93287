/*
 * mqtt_out.c - the agent's MQTT publisher on Paho MQTTAsync (DESIGN.md
 * "MQTT").
 *
 * The queue is ours, not Paho's.  Every alert (and asset, and stats
 * snapshot) is appended to an in-memory FIFO and, with persist_dir set,
 * written as one file to a journal directory before mqtt_out_alert()
 * returns; the file goes when the broker's PUBACK arrives.  A supervisor
 * thread connects, reconnects with backoff, and feeds Paho while
 * connected, at most MQTT_OUT_WINDOW messages in flight, oldest first.
 * A restarted agent (also after SIGKILL) loads the journal and sends what
 * was never acknowledged, in order.
 *
 * Why not Paho's own offline buffer and file persistence: Paho 1.3.12
 * (Debian 12) frees a QoS 1 message's topic and payload when the socket
 * write of its PUBLISH fails (the connection is dying) while the same
 * pointers stay in the client's outbound list.  After the reconnect Paho
 * re-sends that list from freed memory - mosquitto sees a garbage PUBLISH
 * ("disconnected due to malformed packet") on every reconnect - and it
 * also writes the garbage back into its persistence files, so even a
 * restarted agent stays stuck.  tests/check_mqtt_out.c
 * (test_failed_writes_recover) provokes exactly that; ASan shows the
 * use-after-free.  So here a Paho client is never reconnected: after a
 * lost connection it is destroyed and a fresh one (no persistence, empty
 * outbound list) is created, and the journal re-sends what was in flight.
 * Delivery stays at least once; the collector stores an alert once.
 *
 * End-to-end acknowledgement (central_ack): an alert's PUBACK only marks
 * it "brokered"; it leaves the queue and the journal when the collector's
 * retained ack on icsentry/<site>/<agent>/ack covers its seq.  After each
 * connect, sending waits until the ack subscription is granted (and its
 * retained value had 300 ms to arrive), so a reconnect does not re-send
 * what the central log already holds.  Brokered alerts are sent again
 * after a reconnect and, while connected, when no ack covered them for
 * ack_timeout (doubling up to an hour while it stays stuck, logged).
 *
 * Locking: qmu guards the queue and the journal; hmu guards the Paho
 * handle; smu the subscriptions.  Paho may call our callbacks with its own mutex held: callbacks
 * take qmu only (never held while calling Paho) and never hmu.
 */

#include "agent/mqtt_out.h"

#include "agent/mqtt_out_int.h"

#include <MQTTAsync.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/mqttconf.h"

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
	    "journal of messages not yet acknowledged by the broker (one "
	    "file each, under <persist_dir>/<client_id>/); they survive a "
	    "restart or SIGKILL; empty: memory only" },
	{ "stats_interval", CFG_INT, "60", 0, 86400,
	    "seconds between stats messages; 0: none" },
	{ "session_expiry", CFG_INT, "604800", 0, 4294967295.0,
	    "seconds the broker keeps this agent's session while it is away" },
	{ "connect_timeout", CFG_INT, "10", 1, 300, "connect timeout, seconds" },
	{ "reconnect_max", CFG_INT, "30", 1, 3600,
	    "longest pause between reconnect attempts, seconds" },
	{ "central_ack", CFG_BOOL, "true", 0, 0,
	    "keep each alert until the central log acknowledges it "
	    "(icsentry/<site>/<agent>/ack), not only the broker; false: the "
	    "broker's PUBACK is delivery" },
	{ "max_journal_mb", CFG_INT, "1024", 1, 1048576,
	    "persist_dir bound, MiB: beyond max_buffered messages in memory "
	    "the journal holds the rest on disk; past this bound new messages "
	    "are dropped (counted, reported)" },
	{ "ack_timeout", CFG_INT, "60", 1, 86400,
	    "seconds without a central ack before alerts the broker took are "
	    "sent again (doubling while it stays stuck, at most an hour)" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

const struct cfg_schema mqtt_out_schema = { "mqtt", mqtt_keys };

static const char *const severities[] = {
	"info", "low", "medium", "high", "critical"
};

/* ---- helpers ---------------------------------------------------------- */

static bool
is_level(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max &&
	    strpbrk(s, "/+#") == NULL;
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

static void
free_strings(struct mqtt_out *m)
{
	mqttconf_free_secret(m->password);
	free(m->uri);
	free(m->client_id);
	free(m->persist_dir);
	free(m->ca);
	free(m->cert);
	free(m->key);
	free(m->username);
}

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
	o->central_ack = cfg_bool(c, "mqtt", "central_ack") ? 1 : 0;
	o->ack_timeout = (int)cfg_int(c, "mqtt", "ack_timeout");
	o->max_journal_mb = (int)cfg_int(c, "mqtt", "max_journal_mb");
	return 0;
}

static int
check_opts(const struct mqtt_out_opts *o, char *err, size_t errlen)
{
	if (o->uri == NULL || !mqttconf_uri_known(o->uri)) {
		snprintf(err, errlen, "uri '%s' is not " MQTTCONF_SCHEMES,
		    o->uri != NULL ? o->uri : "");
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
	if (o->state_file != NULL && o->state_file[0] != '\0' &&
	    (o->persist_dir == NULL || o->persist_dir[0] == '\0')) {
		snprintf(err, errlen, "a state file kept with the journal "
		    "needs persist_dir");
		return IDS_EINVAL;
	}
	return 0;
}

/* ---- public ----------------------------------------------------------- */

static void
destroy(struct mqtt_out *m)
{
	struct qmsg *q, *next;

	/* the writer makes what is pending durable, then ends */
	if (m->wr_started) {
		pthread_mutex_lock(&m->qmu);
		m->wstop = true;
		pthread_cond_signal(&m->wcv);
		pthread_mutex_unlock(&m->qmu);
		pthread_join(m->wr, NULL);
		m->wr_started = false;
	}
	if (m->h != NULL)
		MQTTAsync_destroy(&m->h);
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		mqtt_out_qmsg_free(q);
	}
	mqtt_out_journal_close(m);
	mqtt_out_index_free(m);
	if (m->dirfd >= 0)
		close(m->dirfd);
	free(m->state_path);
	pthread_cond_destroy(&m->wcv);
	MQTTProperties_free(&m->props);
	free(m->jdir);
	free_strings(m);
	for (int i = 0; i < m->nsubs; i++)
		free(m->subs[i].filter);
	pthread_mutex_destroy(&m->smu);
	pthread_mutex_destroy(&m->log_mu);
	pthread_mutex_destroy(&m->qmu);
	pthread_mutex_destroy(&m->hmu);
	pthread_mutex_destroy(&m->cvmu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

struct mqtt_out *
mqtt_out_new(const struct mqtt_out_opts *o, char *err, size_t errlen)
{
	MQTTAsync_connectOptions c5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions c3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperty p;
	pthread_condattr_t ca;
	struct mqtt_out *m;
	char id[300], jdir[PATH_MAX], errbuf[PATH_MAX + 64];
	bool fail = false;

	if (check_opts(o, err, errlen) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->log_mu, NULL);
	pthread_mutex_init(&m->smu, NULL);
	pthread_mutex_init(&m->qmu, NULL);
	pthread_mutex_init(&m->hmu, NULL);
	pthread_mutex_init(&m->cvmu, NULL);
	pthread_cond_init(&m->cv, NULL);
	/* the writer waits for a deadline on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wcv, &ca);
	pthread_condattr_destroy(&ca);
	m->dirfd = -1;
	m->max_jbytes = (uint64_t)(o->max_journal_mb > 0 ? o->max_journal_mb :
	    1024) << 20;
	m->log = o->log != NULL ? o->log : mqtt_out_log_stderr;
	m->log_ctx = o->log_ctx;
	m->max_buffered = o->max_buffered;
	atomic_init(&m->mem_room, true);	/* publish keeps it true */
	m->reconnect_max_ms = (o->reconnect_max > 0 ? o->reconnect_max : 30) *
	    1000;
	m->create_version = o->mqtt_version;
	m->next_qseq = 1;
	m->central_ack = o->central_ack != 0;
	m->ack_seq = -1;
	m->ack_timeout_ms = (int64_t)(o->ack_timeout > 0 ? o->ack_timeout :
	    60) * 1000;
	m->resend_ms = m->ack_timeout_ms;
	atomic_store(&m->backoff_ms, 1000);
	if (o->client_id != NULL && o->client_id[0] != '\0')
		snprintf(id, sizeof(id), "%s", o->client_id);
	else
		snprintf(id, sizeof(id), "icsentry-%s-%s", o->site, o->agent);
	snprintf(m->prefix, sizeof(m->prefix), "icsentry/%s/%s/", o->site,
	    o->agent);
	snprintf(m->status_topic, sizeof(m->status_topic), "%sstatus",
	    m->prefix);
	snprintf(m->ack_topic, sizeof(m->ack_topic), "%sack", m->prefix);
	if (m->central_ack) {
		m->subs[0].filter = strdup(m->ack_topic);
		m->subs[0].cb = mqtt_out_on_ack;
		m->subs[0].arg = m;
		if (m->subs[0].filter == NULL)
			fail = true;
		else
			m->nsubs = 1;
	}
	m->uri = dup_opt(o->uri, &fail);
	m->client_id = dup_opt(id, &fail);
	m->persist_dir = dup_opt(o->persist_dir, &fail);
	/* before the journal loads: its segments wait for the head */
	m->state_path = dup_opt(o->state_file, &fail);
	m->ca = dup_opt(o->ca_file, &fail);
	m->cert = dup_opt(o->cert_file, &fail);
	m->key = dup_opt(o->key_file, &fail);
	m->username = dup_opt(o->username, &fail);
	if (fail) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (o->password_file != NULL && o->password_file[0] != '\0') {
		m->password = mqttconf_read_secret(o->password_file, errbuf,
		    sizeof(errbuf));
		if (m->password == NULL) {
			snprintf(err, errlen, "password_file %s", errbuf);
			goto fail;
		}
	}
	/* the journal: <persist_dir>/<client id>/ */
	if (m->persist_dir != NULL) {
		snprintf(jdir, sizeof(jdir), "%s/%s", m->persist_dir,
		    m->client_id);
		if (atomic_mkdirs(jdir, 0700) != 0) {
			snprintf(err, errlen, "persist_dir %s: %s",
			    m->persist_dir, strerror(errno));
			goto fail;
		}
		m->jdir = strdup(jdir);
		if (m->jdir == NULL || mqtt_out_journal_load(m, err, errlen) != 0)
			goto fail;
		m->dirfd = open(m->jdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->dirfd < 0) {
			snprintf(err, errlen, "persist_dir %s: %s", m->jdir,
			    strerror(errno));
			goto fail;
		}
		if (pthread_create(&m->wr, NULL, mqtt_out_writer, m) != 0) {
			snprintf(err, errlen, "cannot start the journal writer");
			goto fail;
		}
		m->wr_started = true;
	}
	if (mqtt_out_create_client(m, &m->h, err, errlen) != 0)
		goto fail;

	m->conn = o->mqtt_version == 5 ? c5 : c3;
	m->conn.keepAliveInterval = o->keepalive;
	m->conn.connectTimeout = o->connect_timeout > 0 ? o->connect_timeout :
	    10;
	m->conn.maxInflight = MQTT_OUT_WINDOW;
	m->conn.automaticReconnect = 0;	/* ours: see the top of the file */
	m->conn.username = m->username;
	m->conn.password = m->password;
	m->conn.context = m;
	m->will = will;
	m->will.topicName = m->status_topic;
	m->will.message = "offline";
	m->will.retained = 1;
	m->will.qos = 1;
	m->conn.will = &m->will;
	if (mqttconf_uri_is_tls(m->uri)) {
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
		atomic_store(&m->allow_fallback, true);
		m->conn.cleanstart = 0;
		m->conn.onFailure5 = mqtt_out_on_connect_fail5;
		p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
		p.value.integer4 = (unsigned int)o->session_expiry;
		MQTTProperties_add(&m->props, &p);
		m->conn.connectProperties = &m->props;
	} else {
		mqtt_out_use_v311(m);
	}
	/* The first connect starts at once; the supervisor does the rest. */
	if (pthread_create(&m->sup, NULL, mqtt_out_supervise, m) != 0) {
		snprintf(err, errlen, "cannot start the MQTT supervisor thread");
		goto fail;
	}
	m->sup_started = true;
	mqtt_out_kick(m);
	return m;
fail:
	destroy(m);
	return NULL;
}

/*
 * A message to queue, with a copy of p when copy (NULL: out of memory).
 * With the journal, a message past max_buffered would be spilled (its
 * copy freed by the writer) right after it is made durable: it is
 * written from p and gets no copy (an alert storm's capture thread no
 * longer copies what another thread frees); the sender reads it back
 * from the journal.
 */
static struct qmsg *
msg_new(struct mqtt_out *m, const char *topic, const char *p, size_t len,
    int retained, bool alert, bool copy)
{
	struct qmsg *q;

	q = mqtt_out_qmsg_new(topic, strlen(topic));
	if (q != NULL && copy) {
		q->payload = malloc(len > 0 ? len : 1);
		if (q->payload == NULL) {
			mqtt_out_qmsg_free(q);
			return NULL;
		}
		if (len > 0)
			memcpy(q->payload, p, len);
	}
	if (q != NULL) {
		q->len = (int)len;
		q->retained = retained;
		q->t_us = mqtt_out_now_us();
		q->t_ms = q->t_us / 1000;
		q->alert = alert;
		q->aseq = alert && m->central_ack ? mqtt_out_alert_seq(p, len) : -1;
	}
	return q;
}

/* Whether a new message gets a copy in memory (see msg_new). */
static bool
wants_copy(struct mqtt_out *m)
{
	return m->jdir == NULL || atomic_load_explicit(&m->mem_room,
	    memory_order_relaxed);
}

/*
 * q (payload p) is in the journal now (qmu held): it joins the queue.
 * *drop: its copy, when memory holds max_buffered payloads already.
 */
static void
journaled(struct mqtt_out *m, struct qmsg *q, const char *p, char **drop)
{
	uint64_t sseq;
	char shash[65];

	m->next_qseq++;
	mqtt_out_queue_append(m, q);
	if (q->payload != NULL && m->nmem >= (size_t)m->max_buffered) {
		*drop = q->payload;
		q->payload = NULL;
	} else if (q->payload != NULL) {
		m->nmem++;
	}
	if (q->payload == NULL)
		atomic_fetch_add(&m->spilled, 1);	/* on disk only */
	atomic_store_explicit(&m->mem_room, m->nmem < (size_t)m->max_buffered,
	    memory_order_relaxed);
	if (m->wfirst == NULL)
		m->wfirst = q;
	if (q->alert && m->state_path != NULL &&
	    mqtt_out_alert_state(p, (size_t)q->len, &sseq, shash)) {
		m->st_seq = sseq;
		memcpy(m->st_hash, shash, sizeof(shash));
		m->state_dirty = true;
		q->seg->head = sseq;
	}
}

/*
 * q[0..n) (payloads p) into the journal with one write and into the
 * queue (takes qmu); 0 or the append's error (nothing queued then).
 */
static int
journal_publish(struct mqtt_out *m, struct qmsg *const *q,
    const char *const *p, int n)
{
	char *drop[2] = { NULL, NULL };
	int i, rc;

	pthread_mutex_lock(&m->qmu);
	for (i = 0; i < n; i++)
		q[i]->qseq = m->next_qseq + (uint64_t)i;
	rc = mqtt_out_journal_append(m, q, p, n);
	if (rc == 0) {
		for (i = 0; i < n; i++)
			journaled(m, q[i], p[i], &drop[i]);
		pthread_cond_signal(&m->wcv);
	}
	pthread_mutex_unlock(&m->qmu);
	free(drop[0]);
	free(drop[1]);
	return rc;
}

/* A message not queued: counted, logged now and then; returns rc. */
static int
refused(struct mqtt_out *m, const char *topic, int rc)
{
	uint_fast64_t n;

	n = atomic_fetch_add(&m->dropped, 1) + 1;
	if (n == 1 || n % 1000 == 0)
		mqtt_out_say(m, "publish on %s dropped: %s (%llu dropped so far)", topic,
		    rc == IDS_EAGAIN ? (m->jdir != NULL ? "journal full "
		    "(max_journal_mb)" : "buffer full") : m->jdir != NULL ?
		    "cannot write to persist_dir" : "out of memory",
		    (unsigned long long)n);
	return rc;
}

static int
publish(struct mqtt_out *m, const char *topic, const char *p, size_t len,
    int retained, bool alert)
{
	struct qmsg *q;
	int rc = IDS_EIO;

	if (len > INT_MAX)
		return IDS_EINVAL;
	q = msg_new(m, topic, p, len, retained, alert, wants_copy(m));
	if (q != NULL && m->jdir == NULL) {
		/* memory only: full means refused, never overwritten */
		pthread_mutex_lock(&m->qmu);
		if (m->nq >= (size_t)m->max_buffered) {
			rc = IDS_EAGAIN;
		} else {
			q->qseq = m->next_qseq++;
			q->durable = true;
			mqtt_out_queue_append(m, q);
			m->nmem++;
			q = NULL;
			rc = 0;
		}
		pthread_mutex_unlock(&m->qmu);
	} else if (q != NULL) {
		/* the journal: memory spills to it, only its bound refuses */
		rc = journal_publish(m, &q, &p, 1);
		if (rc == 0)
			q = NULL;
	}
	if (rc == 0) {
		atomic_fetch_add(&m->published, 1);
		/* with a journal nothing can go before the writer's sync, and
		 * the writer wakes the supervisor then: no wakeup per message */
		if (m->jdir == NULL)
			mqtt_out_kick(m);
		return 0;
	}
	if (q != NULL)
		mqtt_out_qmsg_free(q);
	return refused(m, topic, rc);
}

/*
 * An alert and its evidence into the journal with one write(2) (a storm
 * made two per alert); when that cannot be (no journal, its bound, an
 * error), each on its own, as publish.  Returns the alert's result,
 * *ev_rc the evidence's.
 */
static int
publish_pair(struct mqtt_out *m, const char *atopic, const char *a,
    size_t alen, const char *etopic, const char *e, size_t elen, int *ev_rc)
{
	struct qmsg *q[2] = { NULL, NULL };
	const char *p[2] = { a, e };
	bool copy;
	int rc;

	if (m->jdir != NULL && alen <= INT_MAX && elen <= INT_MAX) {
		copy = wants_copy(m);
		q[0] = msg_new(m, atopic, a, alen, 0, true, copy);
		q[1] = msg_new(m, etopic, e, elen, 0, false, copy);
	}
	if (q[0] != NULL && q[1] != NULL && journal_publish(m, q, p, 2) == 0) {
		atomic_fetch_add(&m->published, 2);
		*ev_rc = 0;
		return 0;
	}
	if (q[0] != NULL)
		mqtt_out_qmsg_free(q[0]);
	if (q[1] != NULL)
		mqtt_out_qmsg_free(q[1]);
	rc = publish(m, atopic, a, alen, 0, true);
	*ev_rc = publish(m, etopic, e, elen, 0, false);
	return rc;
}

/* An alert's topic, <prefix>alert/<severity>; false: no such severity. */
static bool
alert_topic(const struct mqtt_out *m, const char *severity, char *buf,
    size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		if (severity != NULL && strcmp(severity, severities[i]) == 0) {
			snprintf(buf, len, "%salert/%s", m->prefix, severity);
			return true;
		}
	return false;
}

/* An evidence pcap's topic, <prefix>evidence/<seq>. */
static void
evidence_topic(const struct mqtt_out *m, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%sevidence/%llu", m->prefix,
	    (unsigned long long)seq);
}

int
mqtt_out_alert(struct mqtt_out *m, const char *severity, const char *json,
    size_t len)
{
	char topic[MQTT_OUT_TOPIC + 16];

	if (!alert_topic(m, severity, topic, sizeof(topic)))
		return IDS_EINVAL;
	return publish(m, topic, json, len, 0, true);
}

int
mqtt_out_asset(struct mqtt_out *m, const char *ip, const char *json,
    size_t len)
{
	char topic[MQTT_OUT_TOPIC + 80];

	if (!is_level(ip, 64))
		return IDS_EINVAL;
	/* offline, alerts get the second half of the buffer to themselves */
	if (!atomic_load(&m->connected) &&
	    mqtt_out_queue_len(m) >= (size_t)(m->max_buffered / 2)) {
		atomic_fetch_add(&m->skipped, 1);
		return IDS_EAGAIN;
	}
	snprintf(topic, sizeof(topic), "%sasset/%s", m->prefix, ip);
	return publish(m, topic, json, len, 1, false);
}

int
mqtt_out_evidence(struct mqtt_out *m, uint64_t seq, const void *pcap,
    size_t len)
{
	char topic[MQTT_OUT_TOPIC + 40];

	evidence_topic(m, seq, topic, sizeof(topic));
	return publish(m, topic, (const char *)pcap, len, 0, false);
}

int
mqtt_out_alert_evidence(struct mqtt_out *m, const char *severity,
    const char *json, size_t len, uint64_t seq, const void *pcap,
    size_t pcap_len, int *ev_rc)
{
	char atopic[MQTT_OUT_TOPIC + 16], etopic[MQTT_OUT_TOPIC + 40];

	*ev_rc = 0;
	if (pcap == NULL)
		return mqtt_out_alert(m, severity, json, len);
	if (!alert_topic(m, severity, atopic, sizeof(atopic))) {
		*ev_rc = mqtt_out_evidence(m, seq, pcap, pcap_len);
		return IDS_EINVAL;
	}
	evidence_topic(m, seq, etopic, sizeof(etopic));
	return publish_pair(m, atopic, json, len, etopic, pcap, pcap_len,
	    ev_rc);
}

int
mqtt_out_stats(struct mqtt_out *m, const char *json, size_t len)
{
	char topic[MQTT_OUT_TOPIC + 8];

	if (!atomic_load(&m->connected)) {
		atomic_fetch_add(&m->skipped, 1);
		return IDS_EAGAIN;
	}
	snprintf(topic, sizeof(topic), "%sstats", m->prefix);
	return publish(m, topic, json, len, 0, false);
}

int
mqtt_out_intel(struct mqtt_out *m, const char *json, size_t len)
{
	char topic[MQTT_OUT_TOPIC + 8];

	snprintf(topic, sizeof(topic), "%sintel", m->prefix);
	return publish(m, topic, json, len, 1, false);
}

void
mqtt_out_counters(const struct mqtt_out *m, struct mqtt_out_counters *out)
{
	struct mqtt_out *mm = (struct mqtt_out *)m;
	struct qmsg *q;
	uint_fast64_t c;

	memset(out, 0, sizeof(*out));
	out->published = atomic_load(&mm->published);
	out->delivered = atomic_load(&mm->delivered);
	out->buffered = mqtt_out_queue_len(mm);
	out->dropped = atomic_load(&mm->dropped);
	out->refused = atomic_load(&mm->refused);
	out->skipped = atomic_load(&mm->skipped);
	c = atomic_load(&mm->connects);
	out->reconnects = c > 0 ? c - 1 : 0;
	out->acked = atomic_load(&mm->acked);
	out->resent = atomic_load(&mm->resent);
	out->syncs = atomic_load(&mm->syncs);
	out->spilled = atomic_load(&mm->spilled);
	pthread_mutex_lock(&mm->qmu);
	out->unacked = mm->nunacked;
	out->ack_seq = mm->ack_seq;
	for (q = mm->head; q != NULL; q = q->next)
		if (q->aseq >= 0) {
			out->oldest_unacked_s = (double)(mqtt_out_now_ms() - q->t_ms) /
			    1000.0;
			break;
		}
	pthread_mutex_unlock(&mm->qmu);
	out->connected = atomic_load(&mm->connected) ? 1 : 0;
	out->mqtt_version = c == 0 ? 0 : atomic_load(&mm->v5) ? 5 : 4;
}

static bool
valid_filter(const char *f)
{
	const char *p;

	if (f == NULL || f[0] == '\0' || strlen(f) >= MQTT_OUT_TOPIC)
		return false;
	for (p = f; *p != '\0'; p++) {
		if (*p == '#' && (p[1] != '\0' || (p != f && p[-1] != '/')))
			return false;
		if (*p == '+' && ((p != f && p[-1] != '/') ||
		    (p[1] != '\0' && p[1] != '/')))
			return false;
	}
	return true;
}

int
mqtt_out_subscribe(struct mqtt_out *m, const char *topic,
    void (*cb)(void *arg, const char *topic, const void *payload, size_t len),
    void *arg)
{
	char *f;

	if (!valid_filter(topic) || cb == NULL)
		return IDS_EINVAL;
	f = strdup(topic);
	if (f == NULL)
		return IDS_ENOMEM;
	pthread_mutex_lock(&m->smu);
	if (m->nsubs == MQTT_OUT_MAX_SUBS) {
		pthread_mutex_unlock(&m->smu);
		free(f);
		return IDS_EINVAL;
	}
	m->subs[m->nsubs].filter = f;
	m->subs[m->nsubs].cb = cb;
	m->subs[m->nsubs].arg = arg;
	m->nsubs++;
	pthread_mutex_unlock(&m->smu);
	/* connected now: subscribe at once (all again; the broker minds not) */
	if (atomic_load(&m->connected)) {
		atomic_store(&m->want_subscribe, true);
		mqtt_out_kick(m);
	}
	return 0;
}

int
mqtt_out_journal_last(const struct mqtt_out *m, uint64_t *seq,
    char hash[65])
{
	if (m->jl_seq == 0)
		return 0;
	*seq = m->jl_seq;
	memcpy(hash, m->jl_hash, 65);
	return 1;
}

/* Messages the broker has not taken yet (waiting or in flight). */
static size_t
not_brokered(struct mqtt_out *m)
{
	size_t n;

	pthread_mutex_lock(&m->qmu);
	n = m->nq - m->nbrokered;
	pthread_mutex_unlock(&m->qmu);
	return n;
}

static size_t
unacked(struct mqtt_out *m, int64_t *ack_seq)
{
	size_t n;

	pthread_mutex_lock(&m->qmu);
	n = m->nunacked;
	*ack_seq = m->ack_seq;
	pthread_mutex_unlock(&m->qmu);
	return n;
}

int
mqtt_out_close(struct mqtt_out *m, int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_disconnectOptions d5 =
	    MQTTAsync_disconnectOptions_initializer5;
	MQTTAsync_disconnectOptions d3 = MQTTAsync_disconnectOptions_initializer;
	int64_t end, ack_end, seq;
	size_t left, unack;
	int wait;

	if (m == NULL)
		return 0;
	end = mqtt_out_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/*
	 * Connected or not: a short replay can end before the first connect
	 * completes, and the queue should still go out if the broker comes
	 * within the time we were given (the supervisor keeps at it).
	 */
	while ((left = not_brokered(m)) > 0 && mqtt_out_now_ms() < end)
		mqtt_out_sleep_ms(10);
	/*
	 * With a collector answering (an ack was seen), give the central
	 * ack a moment; what it does not cover stays in the journal and is
	 * sent again on the next start (stored once).
	 */
	ack_end = mqtt_out_now_ms() + 3000 < end ? mqtt_out_now_ms() + 3000 : end;
	while (unacked(m, &seq) > 0 && seq >= 0 && mqtt_out_now_ms() < ack_end)
		mqtt_out_sleep_ms(10);
	atomic_store(&m->stop, true);
	mqtt_out_kick(m);
	if (m->sup_started)
		pthread_join(m->sup, NULL);
	/* the supervisor is gone: the handle is ours alone now */
	if (m->h != NULL && atomic_load(&m->connected)) {
		/* a clean goodbye: the will only covers a vanished agent */
		if (MQTTAsync_send(m->h, m->status_topic, 7, "offline", 1, 1,
		    &ro) == MQTTASYNC_SUCCESS) {
			wait = (int)(end - mqtt_out_now_ms());
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
			mqtt_out_sleep_ms(10);
	}
	left = not_brokered(m);
	unack = unacked(m, &seq);
	pthread_mutex_lock(&m->qmu);
	if (m->lat_durable.n > 0 || m->lat_brokered.n > 0) {
		char d[120], b[120];

		mqtt_out_lat_text(&m->lat_durable, d, sizeof(d));
		mqtt_out_lat_text(&m->lat_brokered, b, sizeof(b));
		pthread_mutex_unlock(&m->qmu);
		mqtt_out_say(m, "alert latency: queued -> durable %s; queued -> "
		    "broker ack %s", m->jdir != NULL ? d : "(no journal)", b);
	} else {
		pthread_mutex_unlock(&m->qmu);
	}
	if (left > 0)
		mqtt_out_say(m, "closing with %zu message(s) not acknowledged%s", left,
		    m->jdir != NULL ?
		    "; they stay in persist_dir for the next start" : "");
	if (unack > 0)
		mqtt_out_say(m, "closing with %zu alert(s) the central log has not "
		    "acknowledged yet (last ack %lld)%s", unack, (long long)seq,
		    m->jdir != NULL ? "; they stay in persist_dir and go again "
		    "on the next start" : "; without persist_dir they are "
		    "gone if the broker lost them");
	/* Paho's callbacks for what is still in flight come during destroy */
	if (m->h != NULL)
		MQTTAsync_destroy(&m->h);
	destroy(m);
	return left > 0 ? IDS_EAGAIN : 0;
}
