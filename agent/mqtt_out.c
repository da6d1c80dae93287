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
 * Locking: qmu guards the queue and the journal; hmu guards the Paho
 * handle.  Paho may call our callbacks with its own mutex held: callbacks
 * take qmu only (never held while calling Paho) and never hmu.
 */
#include "agent/mqtt_out.h"

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
#include <time.h>
#include <unistd.h>

#include "lib/cfg.h"
#include "lib/ids.h"

/* QoS 1 messages handed to Paho and not acknowledged yet, at most. */
#define MQTT_OUT_WINDOW		200
#define MQTT_OUT_TOPIC		320
/* a connection lost sooner than this, with nothing acknowledged, is
 * "fruitless" (see went_down) */
#define MQTT_OUT_FRUITLESS_MS	10000
/* journal file: magic, then lengths, data and a checksum */
#define JOURNAL_MAGIC		0x51534349u	/* "ICSQ" */

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
	{ NULL, 0, NULL, 0, 0, NULL }
};

const struct cfg_schema mqtt_out_schema = { "mqtt", mqtt_keys };

static const char *const severities[] = {
	"info", "low", "medium", "high", "critical"
};

/* One queued message. */
struct qmsg {
	struct qmsg	*next, *prev;
	uint64_t	 qseq;		/* journal order */
	char		*topic;
	char		*payload;
	int		 len;
	int		 retained;
	bool		 inflight;	/* handed to the current Paho client */
};

/* What a publish callback needs to find its message again. */
struct sendctx {
	struct mqtt_out	*m;
	uint64_t	 qseq;
};

struct mqtt_out {
	/* the queue (qmu) */
	pthread_mutex_t			 qmu;
	struct qmsg			*head, *tail;
	size_t				 nq, ninflight;
	uint64_t			 next_qseq;
	char				*jdir;	/* journal; NULL: memory only */

	pthread_mutex_t			 hmu;
	MQTTAsync			 h;	/* hmu */

	char				*uri, *client_id, *persist_dir;
	char				*ca, *cert, *key, *username, *password;
	char				 prefix[MQTT_OUT_TOPIC];	/* .../<agent>/ */
	char				 status_topic[MQTT_OUT_TOPIC + 8];
	int				 max_buffered;
	int				 reconnect_max_ms;
	int				 create_version;
	MQTTAsync_connectOptions	 conn;	/* the supervisor's, once started */
	MQTTAsync_willOptions		 will;
	MQTTAsync_SSLOptions		 ssl;
	MQTTProperties			 props;

	/* connection state, set by callbacks */
	atomic_bool			 v5;	/* callbacks/options of v5 */
	atomic_bool			 allow_fallback, fallback_wanted;
	atomic_int			 connected, connecting;
	atomic_bool			 need_new_client, want_online;
	atomic_int_fast64_t		 next_attempt_ms;
	atomic_int			 backoff_ms;
	atomic_int_fast64_t		 up_since_ms;
	atomic_uint_fast64_t		 answered_at_up;
	atomic_int			 fruitless;

	/* counters */
	atomic_uint_fast64_t		 published, delivered, dropped;
	atomic_uint_fast64_t		 refused, skipped, connects;

	/* the supervisor */
	pthread_t			 sup;
	bool				 sup_started;
	pthread_mutex_t			 cvmu;
	pthread_cond_t			 cv;
	atomic_bool			 stop;

	void				(*log)(void *, const char *);
	void				*log_ctx;
	pthread_mutex_t			 log_mu;
	char				 last_fail[200];
};

static int64_t	now_ms(void);

/* Wake the supervisor. */
static void
kick(struct mqtt_out *m)
{
	pthread_mutex_lock(&m->cvmu);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->cvmu);
}

/* Messages the broker answered so far (delivered or refused). */
static uint64_t
answered(struct mqtt_out *m)
{
	return atomic_load(&m->delivered) + atomic_load(&m->refused);
}

static size_t
queue_len(struct mqtt_out *m)
{
	size_t n;

	pthread_mutex_lock(&m->qmu);
	n = m->nq;
	pthread_mutex_unlock(&m->qmu);
	return n;
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

/* ---- the journal ------------------------------------------------------ */

static uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0)
		h = (h ^ *c++) * 16777619u;
	return h;
}

static void
journal_path(const struct mqtt_out *m, uint64_t qseq, const char *ext,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/q%016" PRIx64 ".%s", m->jdir, qseq, ext);
}

/*
 * One file per message, written under a temporary name and renamed, so a
 * kill mid-write leaves no torn entry: magic, topic length, topic,
 * retained, payload length, payload, checksum (host order: the journal
 * does not travel).
 */
static int
journal_put(struct mqtt_out *m, const struct qmsg *q)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	uint32_t magic = JOURNAL_MAGIC, tl, pl, sum;
	uint8_t ret = (uint8_t)q->retained;
	FILE *f;
	int ok;

	if (m->jdir == NULL)
		return 0;
	tl = (uint32_t)strlen(q->topic);
	pl = (uint32_t)q->len;
	sum = fnv1a(2166136261u, q->topic, tl);
	sum = fnv1a(sum, q->payload, pl);
	journal_path(m, q->qseq, "tmp", tmp, sizeof(tmp));
	journal_path(m, q->qseq, "msg", path, sizeof(path));
	f = fopen(tmp, "wb");
	if (f == NULL)
		return -1;
	ok = fwrite(&magic, 4, 1, f) == 1 && fwrite(&tl, 4, 1, f) == 1 &&
	    fwrite(q->topic, 1, tl, f) == tl && fwrite(&ret, 1, 1, f) == 1 &&
	    fwrite(&pl, 4, 1, f) == 1 &&
	    (pl == 0 || fwrite(q->payload, 1, pl, f) == pl) &&
	    fwrite(&sum, 4, 1, f) == 1;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
journal_del(struct mqtt_out *m, uint64_t qseq)
{
	char path[PATH_MAX];

	if (m->jdir == NULL)
		return;
	journal_path(m, qseq, "msg", path, sizeof(path));
	unlink(path);
}

/* Read one journal file; NULL (and errno-less) when it is not sound. */
static struct qmsg *
journal_read(const char *path, uint64_t qseq)
{
	uint32_t magic, tl, pl, sum;
	uint8_t ret;
	struct qmsg *q;
	FILE *f;
	bool ok;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	q = calloc(1, sizeof(*q));
	ok = q != NULL && fread(&magic, 4, 1, f) == 1 &&
	    magic == JOURNAL_MAGIC && fread(&tl, 4, 1, f) == 1 &&
	    tl > 0 && tl < 65536 && (q->topic = calloc(1, tl + 1)) != NULL &&
	    fread(q->topic, 1, tl, f) == tl && fread(&ret, 1, 1, f) == 1 &&
	    fread(&pl, 4, 1, f) == 1 && pl < (1u << 28) &&
	    (q->payload = malloc(pl > 0 ? pl : 1)) != NULL &&
	    (pl == 0 || fread(q->payload, 1, pl, f) == pl) &&
	    fread(&sum, 4, 1, f) == 1 &&
	    sum == fnv1a(fnv1a(2166136261u, q->topic, tl), q->payload, pl) &&
	    fgetc(f) == EOF;
	fclose(f);
	if (!ok) {
		if (q != NULL) {
			free(q->topic);
			free(q->payload);
			free(q);
		}
		return NULL;
	}
	q->qseq = qseq;
	q->len = (int)pl;
	q->retained = ret;
	return q;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
queue_append(struct mqtt_out *m, struct qmsg *q)
{
	q->next = NULL;
	q->prev = m->tail;
	if (m->tail != NULL)
		m->tail->next = q;
	else
		m->head = q;
	m->tail = q;
	m->nq++;
}

static void
queue_unlink(struct mqtt_out *m, struct qmsg *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		m->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		m->tail = q->prev;
	m->nq--;
	if (q->inflight)
		m->ninflight--;
}

static void
qmsg_free(struct qmsg *q)
{
	free(q->topic);
	free(q->payload);
	free(q);
}

/*
 * Load what an earlier run left, oldest first.  A file that does not read
 * back sound is renamed *.bad (kept for inspection), counted as dropped
 * and reported: never silently gone.
 */
static int
journal_load(struct mqtt_out *m, char *err, size_t errlen)
{
	char path[PATH_MAX], bad[PATH_MAX + 8];
	uint64_t *seqs = NULL, *t, qs;
	size_t n = 0, cap = 0, i, nbad = 0;
	struct dirent *e;
	struct qmsg *q;
	DIR *d;

	d = opendir(m->jdir);
	if (d == NULL) {
		snprintf(err, errlen, "persist_dir %s: %s", m->jdir,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char tail[8] = "";

		if (sscanf(e->d_name, "q%16" SCNx64 ".%3s", &qs, tail) != 2)
			continue;
		if (strcmp(tail, "tmp") == 0) {	/* a write cut short */
			snprintf(path, sizeof(path), "%s/%s", m->jdir,
			    e->d_name);
			unlink(path);
			continue;
		}
		if (strcmp(tail, "msg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			t = realloc(seqs, cap * sizeof(*seqs));
			if (t == NULL)
				break;
			seqs = t;
		}
		seqs[n++] = qs;
	}
	closedir(d);
	if (n > 0)
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
	for (i = 0; i < n; i++) {
		journal_path(m, seqs[i], "msg", path, sizeof(path));
		q = journal_read(path, seqs[i]);
		if (q == NULL) {
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			nbad++;
			continue;
		}
		queue_append(m, q);
	}
	if (n > 0)
		m->next_qseq = seqs[n - 1] + 1;
	free(seqs);
	if (nbad > 0) {
		atomic_fetch_add(&m->dropped, nbad);
		say(m, "%zu unreadable message(s) in %s kept as *.bad", nbad,
		    m->jdir);
	}
	if (m->nq > 0)
		say(m, "%zu message(s) from an earlier run to send", m->nq);
	return 0;
}

/* ---- Paho callbacks (Paho's threads: qmu at most, never hmu) ---------- */

/* Find a queued message by qseq (qmu held); acks come mostly for the head. */
static struct qmsg *
queue_find(struct mqtt_out *m, uint64_t qseq)
{
	struct qmsg *q;

	for (q = m->head; q != NULL; q = q->next)
		if (q->qseq == qseq)
			return q;
	return NULL;
}

/* Acknowledged (refused: the broker answered, and will never take it). */
static void
settle(struct sendctx *c, bool refused)
{
	struct mqtt_out *m = c->m;
	struct qmsg *q;

	pthread_mutex_lock(&m->qmu);
	q = queue_find(m, c->qseq);
	if (q != NULL) {
		queue_unlink(m, q);
		journal_del(m, q->qseq);
		qmsg_free(q);
	}
	pthread_mutex_unlock(&m->qmu);
	if (q != NULL)
		atomic_fetch_add(refused ? &m->refused : &m->delivered, 1);
	free(c);
	kick(m);
}

/* Not sent or not answered: back to waiting, re-sent on the next client. */
static void
unsettle(struct sendctx *c)
{
	struct mqtt_out *m = c->m;
	struct qmsg *q;

	pthread_mutex_lock(&m->qmu);
	q = queue_find(m, c->qseq);
	if (q != NULL && q->inflight) {
		q->inflight = false;
		m->ninflight--;
	}
	pthread_mutex_unlock(&m->qmu);
	/* a write that failed mid-way: this client must not be reused */
	atomic_store(&m->need_new_client, true);
	free(c);
	kick(m);
}

static void
on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	settle(ctx, false);
}

static void
on_pub_ok3(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	settle(ctx, false);
}

static void
on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct sendctx *c = ctx;
	struct mqtt_out *m = c->m;
	uint_fast64_t n;

	/* A PUBACK refusal (ACL, quota): the broker will never take it. */
	if (r != NULL && r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		n = atomic_load(&m->refused) + 1;
		if (n == 1 || n % 100 == 0)
			say(m, "broker refused a publish: %s (%llu so far)",
			    MQTTReasonCode_toString(r->reasonCode),
			    (unsigned long long)n);
		settle(c, true);
		return;
	}
	unsettle(c);
}

static void
on_pub_fail3(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	unsettle(ctx);
}

/* The next connect attempt after a failure: 1 s, doubling to the max. */
static void
back_off(struct mqtt_out *m)
{
	int b = atomic_load(&m->backoff_ms);

	atomic_store(&m->next_attempt_ms, now_ms() + b);
	atomic_store(&m->backoff_ms, b * 2 < m->reconnect_max_ms ? b * 2 :
	    m->reconnect_max_ms);
}

static void
on_connected(void *ctx, char *cause)
{
	struct mqtt_out *m = ctx;
	uint_fast64_t n;

	(void)cause;
	atomic_store(&m->up_since_ms, now_ms());
	atomic_store(&m->answered_at_up, answered(m));
	atomic_store(&m->backoff_ms, 1000);
	atomic_store(&m->connected, 1);
	atomic_store(&m->connecting, 0);
	n = atomic_fetch_add(&m->connects, 1);
	pthread_mutex_lock(&m->log_mu);
	m->last_fail[0] = '\0';
	pthread_mutex_unlock(&m->log_mu);
	say(m, "%s %s (MQTT %s)", n == 0 ? "connected to" : "reconnected to",
	    m->uri, atomic_load(&m->v5) ? "5" : "3.1.1");
	atomic_store(&m->want_online, true);
	kick(m);
}

/*
 * The connection went down.  A broker that closes every connection soon
 * after it opens, before a single message was acknowledged, holds the
 * queue hostage while looking "reconnected" each time: say so, loudly and
 * with the backlog, so the operator looks in the broker's log (size limit,
 * broken packet) instead of at a quiet stall.  Returns 1 when it said so.
 */
static int
went_down(struct mqtt_out *m)
{
	size_t queued;
	int n = 0;

	atomic_store(&m->connected, 0);
	atomic_store(&m->connecting, 0);
	atomic_store(&m->need_new_client, true);
	queued = queue_len(m);
	if (now_ms() - atomic_load(&m->up_since_ms) < MQTT_OUT_FRUITLESS_MS &&
	    answered(m) == atomic_load(&m->answered_at_up) &&
	    queued > 0)
		n = atomic_fetch_add(&m->fruitless, 1) + 1;
	else
		atomic_store(&m->fruitless, 0);
	if (n >= 3 && (n == 3 || n % 20 == 0)) {
		say(m, "%s closed %d connections in a row before acknowledging "
		    "anything; %zu message(s) wait%s; see the broker's log",
		    m->uri, n, queued, m->jdir != NULL ? " in persist_dir" : "");
		return 1;
	}
	return 0;
}

static void
on_lost(void *ctx, char *cause)
{
	struct mqtt_out *m = ctx;

	if (!went_down(m))
		say(m, "connection to %s lost (%s); buffering", m->uri,
		    cause != NULL ? cause : "closed by the broker");
	/* the broker may be restarting: first retry after a second */
	atomic_store(&m->next_attempt_ms, now_ms() + 1000);
	kick(m);
}

/*
 * Paho reports a connection the broker closed right after CONNACK as a
 * failed connect, after on_connected: the same as a lost connection.
 */
static void
connect_failed(struct mqtt_out *m)
{
	if (atomic_load(&m->connected))
		(void)went_down(m);
	atomic_store(&m->connecting, 0);
	atomic_store(&m->need_new_client, true);
}

static void
on_connect_fail3(void *ctx, MQTTAsync_failureData *r)
{
	struct mqtt_out *m = ctx;

	connect_failed(m);
	say_failure(m, r != NULL && r->message != NULL ? r->message :
	    MQTTAsync_strerror(r != NULL ? r->code : MQTTASYNC_FAILURE));
	back_off(m);
	kick(m);
}

static void
on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;

	connect_failed(m);
	/*
	 * A 3.1.1 broker answers a v5 CONNECT with return code 1
	 * ("unacceptable protocol version"), a v5 one with reason 0x84.
	 */
	if (atomic_load(&m->allow_fallback) && r != NULL &&
	    (r->reasonCode == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION ||
	    r->code == 1)) {
		atomic_store(&m->allow_fallback, false);
		say(m, "%s refused MQTT 5; using 3.1.1", m->uri);
		atomic_store(&m->fallback_wanted, true);
		atomic_store(&m->next_attempt_ms, now_ms());
		kick(m);
		return;
	}
	say_failure(m, r == NULL ? "unknown error" : r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r->message != NULL ?
	    r->message : MQTTAsync_strerror(r->code));
	back_off(m);
	kick(m);
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

/* ---- the Paho client and the supervisor ------------------------------- */

/*
 * A fresh Paho client: no persistence (the journal is ours), nothing
 * buffered while disconnected (we only feed it while connected).  A v5
 * client stays one after a fallback to 3.1.1.
 */
static int
create_client(struct mqtt_out *m, MQTTAsync *h, char *err, size_t errlen)
{
	MQTTAsync_createOptions co5 = MQTTAsync_createOptions_initializer5;
	MQTTAsync_createOptions co3 = MQTTAsync_createOptions_initializer;
	MQTTAsync_createOptions *co = m->create_version == 5 ? &co5 : &co3;
	int rc;

	co->sendWhileDisconnected = 0;
	rc = MQTTAsync_createWithOptions(h, m->uri, m->client_id,
	    MQTTCLIENT_PERSISTENCE_NONE, NULL, co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "%s: %s", m->uri, MQTTAsync_strerror(rc));
		*h = NULL;
		return IDS_EIO;
	}
	MQTTAsync_setConnectionLostCallback(*h, m, on_lost);
	MQTTAsync_setConnected(*h, m, on_connected);
	return 0;
}

/* Destroy the client (its callbacks put in-flight messages back) and make
 * a new one. */
static void
renew_client(struct mqtt_out *m)
{
	MQTTAsync old;
	struct qmsg *q;
	char err[300];

	pthread_mutex_lock(&m->hmu);
	old = m->h;
	m->h = NULL;
	pthread_mutex_unlock(&m->hmu);
	if (old != NULL)
		MQTTAsync_destroy(&old);
	/* whatever Paho did not answer is waiting again */
	pthread_mutex_lock(&m->qmu);
	for (q = m->head; q != NULL; q = q->next)
		q->inflight = false;
	m->ninflight = 0;
	pthread_mutex_unlock(&m->qmu);
	if (create_client(m, &old, err, sizeof(err)) != 0) {
		say(m, "cannot create a client: %s; retrying", err);
		back_off(m);
		return;
	}
	pthread_mutex_lock(&m->hmu);
	m->h = old;
	pthread_mutex_unlock(&m->hmu);
	atomic_store(&m->need_new_client, false);
}

/* Hand one message to Paho (hmu held).  MQTTASYNC_* code. */
static int
send_locked(struct mqtt_out *m, const char *topic, const void *p, int len,
    int qos, int retained, struct sendctx *c)
{
	MQTTAsync_responseOptions ro;
	int rc, tries;

	/*
	 * Paho wants the callback flavour of the protocol the client last
	 * connected with: on a refusal, the other one (a v5 client that fell
	 * back to 3.1.1).
	 */
	for (tries = 0; tries < 2; tries++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		ro.context = c;
		if (c != NULL && atomic_load(&m->v5) == (tries == 0)) {
			ro.onSuccess5 = on_pub_ok5;
			ro.onFailure5 = on_pub_fail5;
		} else if (c != NULL) {
			ro.onSuccess = on_pub_ok3;
			ro.onFailure = on_pub_fail3;
		}
		rc = MQTTAsync_send(m->h, topic, len, len > 0 ? p : "", qos,
		    retained, &ro);
		if (rc != MQTTASYNC_BAD_MQTT_OPTION || c == NULL)
			break;
	}
	return rc;
}

/* Feed Paho while connected: oldest waiting first, within the window. */
static void
pump(struct mqtt_out *m)
{
	struct sendctx *c;
	struct qmsg *q;
	int rc;

	while (atomic_load(&m->connected) && !atomic_load(&m->stop)) {
		pthread_mutex_lock(&m->qmu);
		for (q = m->head; q != NULL && q->inflight; q = q->next)
			;
		if (q == NULL || m->ninflight >= MQTT_OUT_WINDOW) {
			pthread_mutex_unlock(&m->qmu);
			return;
		}
		q->inflight = true;
		m->ninflight++;
		pthread_mutex_unlock(&m->qmu);
		/* only settle() frees q, and only after this send */
		c = malloc(sizeof(*c));
		rc = MQTTASYNC_FAILURE;
		if (c != NULL) {
			c->m = m;
			c->qseq = q->qseq;
			pthread_mutex_lock(&m->hmu);
			rc = m->h != NULL ? send_locked(m, q->topic, q->payload,
			    q->len, 1, q->retained, c) : MQTTASYNC_DISCONNECTED;
			pthread_mutex_unlock(&m->hmu);
		}
		if (rc != MQTTASYNC_SUCCESS) {
			free(c);
			pthread_mutex_lock(&m->qmu);
			if (q->inflight) {
				q->inflight = false;
				m->ninflight--;
			}
			pthread_mutex_unlock(&m->qmu);
			return;		/* disconnected meanwhile */
		}
	}
}

static void
send_online(struct mqtt_out *m)
{
	/* retained, so a SOC operator subscribing later still sees it; QoS 0:
	 * a connection that dies first gets its own on the next connect */
	pthread_mutex_lock(&m->hmu);
	if (m->h != NULL)
		(void)send_locked(m, m->status_topic, "online", 6, 0, 1, NULL);
	pthread_mutex_unlock(&m->hmu);
}

static void
start_connect(struct mqtt_out *m)
{
	int rc;

	if (atomic_exchange(&m->fallback_wanted, false))
		use_v311(m);
	atomic_store(&m->connecting, 1);
	pthread_mutex_lock(&m->hmu);
	rc = m->h != NULL ? MQTTAsync_connect(m->h, &m->conn) :
	    MQTTASYNC_FAILURE;
	pthread_mutex_unlock(&m->hmu);
	if (rc != MQTTASYNC_SUCCESS) {
		atomic_store(&m->connecting, 0);
		say_failure(m, MQTTAsync_strerror(rc));
		back_off(m);
	}
}

/* Connects, reconnects (with a new client), says "online", feeds Paho. */
static void *
supervise(void *arg)
{
	struct mqtt_out *m = arg;
	struct timespec ts;

	while (!atomic_load(&m->stop)) {
		pthread_mutex_lock(&m->cvmu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!atomic_load(&m->stop))
			pthread_cond_timedwait(&m->cv, &m->cvmu, &ts);
		pthread_mutex_unlock(&m->cvmu);
		if (atomic_load(&m->stop))
			break;
		if (atomic_load(&m->connected)) {
			if (atomic_exchange(&m->want_online, false))
				send_online(m);
			pump(m);
			continue;
		}
		if (atomic_load(&m->connecting) ||
		    now_ms() < atomic_load(&m->next_attempt_ms))
			continue;
		if (atomic_load(&m->need_new_client))
			renew_client(m);
		if (!atomic_load(&m->need_new_client))
			start_connect(m);
	}
	return NULL;
}

/* ---- public ----------------------------------------------------------- */

static void
destroy(struct mqtt_out *m)
{
	struct qmsg *q, *next;

	if (m->h != NULL)
		MQTTAsync_destroy(&m->h);
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		qmsg_free(q);
	}
	MQTTProperties_free(&m->props);
	free(m->jdir);
	free_strings(m);
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
	struct mqtt_out *m;
	char id[300], jdir[PATH_MAX];
	bool fail = false;

	if (check_opts(o, err, errlen) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->log_mu, NULL);
	pthread_mutex_init(&m->qmu, NULL);
	pthread_mutex_init(&m->hmu, NULL);
	pthread_mutex_init(&m->cvmu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->log = o->log != NULL ? o->log : log_stderr;
	m->log_ctx = o->log_ctx;
	m->max_buffered = o->max_buffered;
	m->reconnect_max_ms = (o->reconnect_max > 0 ? o->reconnect_max : 30) *
	    1000;
	m->create_version = o->mqtt_version;
	m->next_qseq = 1;
	atomic_store(&m->backoff_ms, 1000);
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
	/* the journal: <persist_dir>/<client id>/ */
	if (m->persist_dir != NULL) {
		snprintf(jdir, sizeof(jdir), "%s/%s", m->persist_dir,
		    m->client_id);
		if (make_dirs(jdir) != 0) {
			snprintf(err, errlen, "persist_dir %s: %s",
			    m->persist_dir, strerror(errno));
			goto fail;
		}
		m->jdir = strdup(jdir);
		if (m->jdir == NULL || journal_load(m, err, errlen) != 0)
			goto fail;
	}
	if (create_client(m, &m->h, err, errlen) != 0)
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
		atomic_store(&m->allow_fallback, true);
		m->conn.cleanstart = 0;
		m->conn.onFailure5 = on_connect_fail5;
		p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
		p.value.integer4 = (unsigned int)o->session_expiry;
		MQTTProperties_add(&m->props, &p);
		m->conn.connectProperties = &m->props;
	} else {
		use_v311(m);
	}
	/* The first connect starts at once; the supervisor does the rest. */
	if (pthread_create(&m->sup, NULL, supervise, m) != 0) {
		snprintf(err, errlen, "cannot start the MQTT supervisor thread");
		goto fail;
	}
	m->sup_started = true;
	kick(m);
	return m;
fail:
	destroy(m);
	return NULL;
}

static int
publish(struct mqtt_out *m, const char *topic, const char *p, size_t len,
    int retained)
{
	struct qmsg *q;
	int rc = IDS_EIO;
	uint_fast64_t n;

	if (len > INT_MAX)
		return IDS_EINVAL;
	q = calloc(1, sizeof(*q));
	if (q != NULL) {
		q->topic = strdup(topic);
		q->payload = malloc(len > 0 ? len : 1);
	}
	if (q == NULL || q->topic == NULL || q->payload == NULL) {
		if (q != NULL)
			qmsg_free(q);
		q = NULL;
	} else {
		if (len > 0)
			memcpy(q->payload, p, len);
		q->len = (int)len;
		q->retained = retained;
	}
	pthread_mutex_lock(&m->qmu);
	if (q != NULL && m->nq >= (size_t)m->max_buffered) {
		rc = IDS_EAGAIN;	/* full: refuse, never overwrite */
	} else if (q != NULL) {
		q->qseq = m->next_qseq;
		if (journal_put(m, q) == 0) {
			m->next_qseq++;
			queue_append(m, q);
			q = NULL;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&m->qmu);
	if (rc == 0) {
		atomic_fetch_add(&m->published, 1);
		kick(m);
		return 0;
	}
	if (q != NULL)
		qmsg_free(q);
	n = atomic_fetch_add(&m->dropped, 1) + 1;
	if (n == 1 || n % 1000 == 0)
		say(m, "publish on %s dropped: %s (%llu dropped so far)", topic,
		    rc == IDS_EAGAIN ? "buffer full" : m->jdir != NULL ?
		    "cannot write to persist_dir" : "out of memory",
		    (unsigned long long)n);
	return rc;
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
	if (!atomic_load(&m->connected) &&
	    queue_len(m) >= (size_t)(m->max_buffered / 2)) {
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

	if (!atomic_load(&m->connected)) {
		atomic_fetch_add(&m->skipped, 1);
		return IDS_EAGAIN;
	}
	snprintf(topic, sizeof(topic), "%sstats", m->prefix);
	return publish(m, topic, json, len, 0);
}

void
mqtt_out_counters(const struct mqtt_out *m, struct mqtt_out_counters *out)
{
	struct mqtt_out *mm = (struct mqtt_out *)m;
	uint_fast64_t c;

	memset(out, 0, sizeof(*out));
	out->published = atomic_load(&mm->published);
	out->delivered = atomic_load(&mm->delivered);
	out->buffered = queue_len(mm);
	out->dropped = atomic_load(&mm->dropped);
	out->refused = atomic_load(&mm->refused);
	out->skipped = atomic_load(&mm->skipped);
	c = atomic_load(&mm->connects);
	out->reconnects = c > 0 ? c - 1 : 0;
	out->connected = atomic_load(&mm->connected) ? 1 : 0;
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
	size_t left;
	int wait;

	if (m == NULL)
		return 0;
	end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/*
	 * Connected or not: a short replay can end before the first connect
	 * completes, and the queue should still go out if the broker comes
	 * within the time we were given (the supervisor keeps at it).
	 */
	while ((left = queue_len(m)) > 0 && now_ms() < end)
		sleep_ms(10);
	atomic_store(&m->stop, true);
	kick(m);
	if (m->sup_started)
		pthread_join(m->sup, NULL);
	/* the supervisor is gone: the handle is ours alone now */
	if (m->h != NULL && atomic_load(&m->connected)) {
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
	left = queue_len(m);
	if (left > 0)
		say(m, "closing with %zu message(s) not acknowledged%s", left,
		    m->jdir != NULL ?
		    "; they stay in persist_dir for the next start" : "");
	/* Paho's callbacks for what is still in flight come during destroy */
	if (m->h != NULL)
		MQTTAsync_destroy(&m->h);
	destroy(m);
	return left > 0 ? IDS_EAGAIN : 0;
}
