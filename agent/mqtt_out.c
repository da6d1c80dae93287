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

#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/mqttconf.h"

/* QoS 1 messages handed to Paho and not acknowledged yet, at most. */
#define MQTT_OUT_WINDOW		200
#define MQTT_OUT_TOPIC		320
/* a connection lost sooner than this, with nothing acknowledged, is
 * "fruitless" (see went_down) */
#define MQTT_OUT_FRUITLESS_MS	10000
/* journal file: magic, then lengths, data and a checksum */
#define JOURNAL_MAGIC		0x51534349u	/* "ICSQ" */
#define MQTT_OUT_MAX_SUBS	16
/* after the ack subscription is granted, its retained value's head start */
#define MQTT_OUT_ACK_GRACE_MS	300
#define MQTT_OUT_RESEND_MAX_MS	3600000

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

/* One queued message. */
struct qmsg {
	struct qmsg	*next, *prev;
	uint64_t	 qseq;		/* journal order */
	char		*topic;
	char		*payload;
	int		 len;
	int		 retained;
	bool		 inflight;	/* handed to the current Paho client */
	bool		 brokered;	/* PUBACKed, waiting for the central ack */
	bool		 counted;	/* counted as delivered */
	int64_t		 aseq;		/* alert seq under central_ack; else -1 */
	int64_t		 t_ms;		/* queued at (monotonic) */
	int64_t		 brokered_ms;
	/* the journal (persist_dir only) */
	struct seg	*seg;		/* its segment; NULL: legacy .msg file */
	uint64_t	 off;		/* payload's offset in the segment */
	bool		 durable;	/* fdatasync'd (so it may be sent) */
	bool		 acked;		/* central ack came while in flight */
	bool		 legacy;	/* one .msg file of an older version */
};

/*
 * A journal segment: the messages one group commit made durable, appended
 * by publish() (one write(2), survives a killed process at once) and
 * fdatasync'd by the writer thread (survives a power loss a few ms later).
 * It goes when its last message is settled.
 */
struct seg {
	struct seg	*next;
	uint64_t	 id;		/* file s<id>.seg, id = first qseq */
	int		 fd;		/* open for appending; -1 once synced */
	uint64_t	 bytes;
	size_t		 live;		/* messages not settled yet */
};

struct sub {
	char		*filter;
	void		(*cb)(void *, const char *, const void *, size_t);
	void		*arg;
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
	int				 dirfd;	/* jdir, for fsync */
	struct seg			*segs, *segs_tail, *cur;
	uint64_t			 jbytes, max_jbytes;
	size_t				 nmem;	/* payloads held in memory */
	struct qmsg			*wfirst;	/* first not durable */
	pthread_cond_t			 wcv;	/* the writer's (with qmu) */
	pthread_t			 wr;
	bool				 wr_started, wstop;
	/* the chain state, kept with the journal (mqtt_out_state_file) */
	char				*state_path;
	uint64_t			 st_seq, jl_seq;
	char				 st_hash[65], jl_hash[65];
	bool				 state_dirty;
	atomic_uint_fast64_t		 syncs, spilled;

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
	atomic_uint_fast64_t		 acked, resent;

	/* end-to-end ack (qmu) */
	bool				 central_ack;
	int64_t				 ack_seq;	/* -1: none yet */
	size_t				 nunacked;
	int64_t				 ack_timeout_ms, resend_ms;
	int64_t				 next_stuck_check_ms;
	atomic_int_fast64_t		 pump_after_ms;
	atomic_bool			 want_subscribe;
	atomic_int			 nsub_sent;
	char				 ack_topic[MQTT_OUT_TOPIC + 8];

	/* subscriptions (smu) */
	pthread_mutex_t			 smu;
	struct sub			 subs[MQTT_OUT_MAX_SUBS];
	int				 nsubs;

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
	log_info("mqtt: %s", line);
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

/*
 * The seq of an alert's JSON: the first ,"seq": is the top-level member
 * (a quote inside a string value is always escaped, and seq comes before
 * the nested members).  -1 when absent.
 */
static int64_t
alert_seq(const char *p, size_t len)
{
	static const char key[] = ",\"seq\":";
	const char *k = memmem(p, len, key, sizeof(key) - 1);
	int64_t v = 0;
	size_t i;

	if (k == NULL)
		return -1;
	i = (size_t)(k - p) + sizeof(key) - 1;
	if (i >= len || p[i] < '0' || p[i] > '9')
		return -1;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool
is_alert_topic(const char *topic)
{
	return strstr(topic, "/alert/") != NULL;
}

static void
journal_path(const struct mqtt_out *m, uint64_t qseq, const char *ext,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/q%016" PRIx64 ".%s", m->jdir, qseq, ext);
}

static void
seg_path(const struct mqtt_out *m, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/s%016" PRIx64 ".seg", m->jdir, id);
}

/* The seq and hash of an alert's JSON (the hash is its last member). */
static bool
alert_state(const char *p, size_t len, uint64_t *seq, char hash[65])
{
	static const char key[] = "\"hash\":\"";
	int64_t v = alert_seq(p, len);

	if (v < 0 || len < sizeof(key) - 1 + 64 + 2 ||
	    memcmp(p + len - 66 - (sizeof(key) - 1), key, sizeof(key) - 1) != 0)
		return false;
	memcpy(hash, p + len - 66, 64);
	hash[64] = '\0';
	*seq = (uint64_t)v;
	return true;
}

/*
 * Append one record to the current segment (qmu held), opening a new one
 * after each group commit: magic, topic length, topic, retained, payload
 * length, payload, checksum (host order: the journal does not travel).
 * One write(2): a killed agent leaves it complete or torn, and a torn
 * record (the last one) fails its checksum when loaded.
 */
static int
journal_append(struct mqtt_out *m, struct qmsg *q)
{
	char path[PATH_MAX];
	uint32_t magic = JOURNAL_MAGIC, tl, pl, sum;
	uint8_t ret = (uint8_t)q->retained;
	struct iovec v[7];
	struct seg *sg;
	ssize_t w;
	size_t total;

	tl = (uint32_t)strlen(q->topic);
	pl = (uint32_t)q->len;
	total = 4 + 4 + tl + 1 + 4 + pl + 4;
	if (m->jbytes + total > m->max_jbytes)
		return IDS_EAGAIN;
	if (m->cur == NULL) {
		sg = calloc(1, sizeof(*sg));
		if (sg == NULL)
			return IDS_EIO;
		sg->id = q->qseq;
		seg_path(m, sg->id, path, sizeof(path));
		sg->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
		    O_CLOEXEC, 0600);
		if (sg->fd < 0) {
			free(sg);
			return IDS_EIO;
		}
		if (m->segs_tail != NULL)
			m->segs_tail->next = sg;
		else
			m->segs = sg;
		m->segs_tail = sg;
		m->cur = sg;
	}
	sg = m->cur;
	sum = fnv1a(2166136261u, q->topic, tl);
	sum = fnv1a(sum, q->payload, pl);
	v[0] = (struct iovec){ &magic, 4 };
	v[1] = (struct iovec){ &tl, 4 };
	v[2] = (struct iovec){ q->topic, tl };
	v[3] = (struct iovec){ &ret, 1 };
	v[4] = (struct iovec){ &pl, 4 };
	v[5] = (struct iovec){ q->payload, pl };
	v[6] = (struct iovec){ &sum, 4 };
	w = writev(sg->fd, v, 7);
	if (w != (ssize_t)total) {
		/* take a short write back, so the segment stays readable */
		if (w > 0 && ftruncate(sg->fd, (off_t)sg->bytes) != 0)
			m->cur = NULL;
		return IDS_EIO;
	}
	q->seg = sg;
	q->off = sg->bytes + 4 + 4 + tl + 1 + 4;
	sg->bytes += total;
	sg->live++;
	m->jbytes += total;
	return 0;
}

/* A segment whose last message is settled goes (qmu held). */
static void
seg_release(struct mqtt_out *m, struct seg *sg)
{
	char path[PATH_MAX];
	struct seg **pp, *prev = NULL;

	if (sg->live > 0 || sg->fd >= 0 || sg == m->cur)
		return;
	seg_path(m, sg->id, path, sizeof(path));
	unlink(path);
	for (pp = &m->segs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sg) {
			*pp = sg->next;
			if (m->segs_tail == sg)
				m->segs_tail = prev;
			break;
		}
		prev = *pp;
	}
	m->jbytes -= sg->bytes;
	free(sg);
}

/* Settled: out of the journal (qmu held). */
static void
journal_del(struct mqtt_out *m, struct qmsg *q)
{
	char path[PATH_MAX];

	if (m->jdir == NULL)
		return;
	if (q->legacy) {
		journal_path(m, q->qseq, "msg", path, sizeof(path));
		unlink(path);
	} else if (q->seg != NULL) {
		q->seg->live--;
		seg_release(m, q->seg);
		q->seg = NULL;
	}
}

/* A spilled payload back from its segment (qmu held). */
static int
unspill(struct mqtt_out *m, struct qmsg *q)
{
	char path[PATH_MAX];
	int fd;

	if (q->payload != NULL)
		return 0;
	if (q->seg == NULL)
		return IDS_EIO;
	q->payload = malloc(q->len > 0 ? (size_t)q->len : 1);
	if (q->payload == NULL)
		return IDS_ENOMEM;
	seg_path(m, q->seg->id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, q->payload, (size_t)q->len, (off_t)q->off) !=
	    q->len) {
		if (fd >= 0)
			close(fd);
		free(q->payload);
		q->payload = NULL;
		return IDS_EIO;
	}
	close(fd);
	m->nmem++;
	return 0;
}

/*
 * Memory holds at most max_buffered payloads: the newest durable ones
 * that are not in flight wait on disk only (qmu held).
 */
static void
spill(struct mqtt_out *m)
{
	struct qmsg *q;
	size_t n = 0;

	for (q = m->tail; q != NULL && m->nmem > (size_t)m->max_buffered;
	    q = q->prev) {
		if (!q->durable || q->inflight || q->payload == NULL ||
		    q->seg == NULL)
			continue;
		free(q->payload);
		q->payload = NULL;
		m->nmem--;
		n++;
	}
	if (n > 0)
		atomic_fetch_add(&m->spilled, n);
}

/* fsync a file by name, then its directory (the rename or creation). */
static int
write_state(const char *path, uint64_t seq, const char *hash)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX], text[128], *slash;
	int fd, ok, n;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n = snprintf(text, sizeof(text), "icsentry-state 1\nseq %llu\n"
	    "hash %s\n", (unsigned long long)seq, hash);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* one write(2): also what tests/syncshim.c sees */
	ok = write(fd, text, (size_t)n) == n;
	ok = fsync(fd) == 0 && ok;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * The writer thread: group commit.  Each round takes the segment being
 * appended to (publish() starts a new one), makes it durable with one
 * fdatasync plus one fsync of the directory (a new file's name), then
 * writes the chain state (file fsync, rename, directory fsync), and only
 * then lets its messages be sent.  So nothing reaches the broker that a
 * power loss could take back, and the state on disk is never behind a
 * sent alert; it may be behind the journal after a crash between the
 * two, which the agent repairs from the journal at start
 * (mqtt_out_journal_last).  The capture thread never waits for a disk.
 */
static void *
writer(void *arg)
{
	struct mqtt_out *m = arg;
	struct qmsg *q, *mark;
	struct seg *sg;
	uint64_t seq = 0;
	char hash[65];
	bool st;
	int fd;

	pthread_mutex_lock(&m->qmu);
	for (;;) {
		while (!m->wstop && m->wfirst == NULL && !m->state_dirty)
			pthread_cond_wait(&m->wcv, &m->qmu);
		if (m->wfirst == NULL && !m->state_dirty)
			break;		/* stopping, all done */
		sg = m->cur;
		m->cur = NULL;
		mark = m->tail;
		st = m->state_dirty && m->state_path != NULL;
		if (st) {
			seq = m->st_seq;
			memcpy(hash, m->st_hash, sizeof(hash));
		}
		m->state_dirty = false;
		fd = sg != NULL ? sg->fd : -1;
		pthread_mutex_unlock(&m->qmu);

		if (fd >= 0) {
			if (fdatasync(fd) != 0)
				say(m, "journal fdatasync: %s", strerror(errno));
			close(fd);
			if (fsync(m->dirfd) != 0)
				say(m, "journal directory fsync: %s",
				    strerror(errno));
			atomic_fetch_add(&m->syncs, 1);
		}
		if (st && write_state(m->state_path, seq, hash) != 0)
			say(m, "cannot write state file %s: %s", m->state_path,
			    strerror(errno));

		pthread_mutex_lock(&m->qmu);
		if (sg != NULL) {
			sg->fd = -1;
			seg_release(m, sg);	/* all settled meanwhile? */
		}
		for (q = m->wfirst; q != NULL; q = q->next) {
			q->durable = true;
			if (q == mark) {
				q = q->next;
				break;
			}
		}
		m->wfirst = q;
		spill(m);
		pthread_mutex_unlock(&m->qmu);
		kick(m);
		pthread_mutex_lock(&m->qmu);
	}
	pthread_mutex_unlock(&m->qmu);
	return NULL;
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
	if (q->aseq >= 0)
		m->nunacked++;
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
	if (q->aseq >= 0)
		m->nunacked--;
}

static void
qmsg_free(struct qmsg *q)
{
	free(q->topic);
	free(q->payload);
	free(q);
}

static void	journal_del(struct mqtt_out *m, struct qmsg *q);

/* Settled: out of the queue, the journal and memory (qmu held). */
static void
drop_msg(struct mqtt_out *m, struct qmsg *q)
{
	queue_unlink(m, q);
	journal_del(m, q);
	if (q->payload != NULL)
		m->nmem--;
	qmsg_free(q);
}

/* A message read back from the journal joins the queue, durable. */
static void
loaded(struct mqtt_out *m, struct qmsg *q)
{
	uint64_t seq;
	char hash[65];

	q->t_ms = now_ms();
	q->durable = true;
	q->aseq = m->central_ack && is_alert_topic(q->topic) ?
	    alert_seq(q->payload, (size_t)q->len) : -1;
	if (is_alert_topic(q->topic) && alert_state(q->payload,
	    (size_t)q->len, &seq, hash) && seq > m->jl_seq) {
		m->jl_seq = seq;
		memcpy(m->jl_hash, hash, sizeof(hash));
	}
	if (q->payload != NULL)
		m->nmem++;
	queue_append(m, q);
	/* past the memory bound, payloads stay on disk */
	if (m->nmem > (size_t)m->max_buffered && q->seg != NULL) {
		free(q->payload);
		q->payload = NULL;
		m->nmem--;
	}
}

/*
 * One segment: its records in order up to the first that does not read
 * back sound (a torn last write of a killed agent); the rest of the file
 * is reported and counted as dropped.  Returns the records lost.
 */
static size_t
seg_load(struct mqtt_out *m, uint64_t id)
{
	char path[PATH_MAX];
	uint32_t magic, tl, pl, sum;
	size_t len = 0, off = 0, lost = 0;
	struct stat st;
	struct qmsg *q;
	struct seg *sg;
	char *buf = NULL;
	int fd;

	seg_path(m, id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		len = (size_t)st.st_size;
		buf = malloc(len);
		if (buf == NULL || read(fd, buf, len) != (ssize_t)len) {
			free(buf);
			buf = NULL;
			len = 0;
		}
	}
	close(fd);
	sg = calloc(1, sizeof(*sg));
	if (sg == NULL) {
		free(buf);
		return 0;
	}
	sg->id = id;
	sg->fd = -1;
	while (off + 13 <= len) {
		memcpy(&magic, buf + off, 4);
		memcpy(&tl, buf + off + 4, 4);
		if (magic != JOURNAL_MAGIC || tl == 0 || tl >= 65536 ||
		    off + 13 + tl > len)
			break;
		memcpy(&pl, buf + off + 9 + tl, 4);
		if (pl >= (1u << 28) || off + 17 + tl + pl > len)
			break;
		memcpy(&sum, buf + off + 13 + tl + pl, 4);
		if (sum != fnv1a(fnv1a(2166136261u, buf + off + 8, tl),
		    buf + off + 13 + tl, pl))
			break;
		q = calloc(1, sizeof(*q));
		if (q == NULL || (q->topic = strndup(buf + off + 8, tl)) ==
		    NULL || (q->payload = malloc(pl > 0 ? pl : 1)) == NULL) {
			if (q != NULL)
				qmsg_free(q);
			break;
		}
		memcpy(q->payload, buf + off + 13 + tl, pl);
		q->len = (int)pl;
		q->retained = buf[off + 8 + tl];
		q->qseq = m->next_qseq++;
		q->seg = sg;
		q->off = off + 13 + tl;
		sg->live++;
		loaded(m, q);
		off += 17 + tl + pl;
	}
	if (off < len) {
		say(m, "%s: %zu byte(s) after the last sound record "
		    "(a write cut short) ignored", path, len - off);
		lost = 1;
	}
	free(buf);
	sg->bytes = len;
	m->jbytes += len;
	if (m->segs_tail != NULL)
		m->segs_tail->next = sg;
	else
		m->segs = sg;
	m->segs_tail = sg;
	if (m->next_qseq <= id)
		m->next_qseq = id + 1;
	seg_release(m, sg);	/* nothing sound in it: gone */
	return lost;
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
	uint64_t *seqs = NULL, *t, qs, *segids = NULL;
	size_t n = 0, cap = 0, i, nbad = 0, nsegs = 0, capsegs = 0;
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

		if (sscanf(e->d_name, "s%16" SCNx64 ".%3s", &qs, tail) == 2 &&
		    strcmp(tail, "seg") == 0) {
			if (nsegs == capsegs) {
				capsegs = capsegs ? capsegs * 2 : 64;
				t = realloc(segids, capsegs * sizeof(*segids));
				if (t == NULL)
					break;
				segids = t;
			}
			segids[nsegs++] = qs;
			continue;
		}
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
	/* the one-file-per-message journal of an older version first */
	for (i = 0; i < n; i++) {
		journal_path(m, seqs[i], "msg", path, sizeof(path));
		q = journal_read(path, seqs[i]);
		if (q == NULL) {
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			nbad++;
			continue;
		}
		q->legacy = true;
		loaded(m, q);
	}
	if (n > 0)
		m->next_qseq = seqs[n - 1] + 1;
	free(seqs);
	if (nsegs > 0)
		qsort(segids, nsegs, sizeof(*segids), cmp_u64);
	for (i = 0; i < nsegs; i++)
		nbad += seg_load(m, segids[i]);
	free(segids);
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

	bool count = false;

	pthread_mutex_lock(&m->qmu);
	q = queue_find(m, c->qseq);
	if (q != NULL && q->acked) {
		/* the central ack came first; now Paho is done with it */
		count = !q->counted;
		drop_msg(m, q);
	} else if (q != NULL && !refused && q->aseq >= 0) {
		/* the broker has it; the central log's ack will settle it */
		if (q->inflight) {
			q->inflight = false;
			m->ninflight--;
		}
		q->brokered = true;
		q->brokered_ms = now_ms();
		count = !q->counted;
		q->counted = true;
	} else if (q != NULL) {
		count = refused || !q->counted;
		drop_msg(m, q);
	}
	pthread_mutex_unlock(&m->qmu);
	if (count)
		atomic_fetch_add(refused ? &m->refused : &m->delivered, 1);
	free(c);
	kick(m);
}

/*
 * The central log holds every alert up to seq (a collector's retained
 * ack): they leave the queue and the journal.  Any ack also means the
 * subscription works, so sending may go on.
 */
static void
on_ack(void *arg, const char *topic, const void *payload, size_t len)
{
	struct mqtt_out *m = arg;
	const char *p = payload;
	struct qmsg *q, *next;
	int64_t v = 0;
	size_t i, n = 0;

	(void)topic;
	if (len == 0 || len > 18)
		return;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return;
		v = v * 10 + (p[i] - '0');
	}
	pthread_mutex_lock(&m->qmu);
	if (v > m->ack_seq) {
		m->ack_seq = v;
		m->resend_ms = m->ack_timeout_ms;
		m->next_stuck_check_ms = now_ms() + m->resend_ms;
	}
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		if (q->aseq < 0 || q->aseq > v || !q->durable || q->acked)
			continue;
		n++;
		if (q->inflight) {
			/* Paho still holds its topic and payload: settle()
			 * or unsettle() frees it */
			q->acked = true;
			continue;
		}
		drop_msg(m, q);
	}
	pthread_mutex_unlock(&m->qmu);
	if (n > 0)
		atomic_fetch_add(&m->acked, n);
	atomic_store(&m->pump_after_ms, 0);
	kick(m);
}

/* MQTT filter matching: '+' one level, '#' the rest. */
static bool
topic_matches(const char *f, const char *t)
{
	for (;;) {
		if (f[0] == '#' && f[1] == '\0')
			return true;
		if (f[0] == '+') {
			while (*t != '\0' && *t != '/')
				t++;
			f++;
		} else {
			while (*f != '\0' && *f != '/' && *f == *t) {
				f++;
				t++;
			}
			if ((*f == '\0' || *f == '/') != (*t == '\0' ||
			    *t == '/'))
				return false;
		}
		if (*f == '\0' || *t == '\0')
			return *f == '\0' && *t == '\0';
		if (*f != '/' || *t != '/')
			return false;
		f++;
		t++;
		/* "a/#" also matches "a" itself: handled by the caller's
		 * topics always having the level */
	}
}

static int
on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *msg)
{
	struct mqtt_out *m = ctx;
	struct sub hit[MQTT_OUT_MAX_SUBS];
	char *t;
	int i, n = 0;

	t = tlen > 0 ? strndup(topic, (size_t)tlen) : strdup(topic);
	if (t != NULL) {
		pthread_mutex_lock(&m->smu);
		for (i = 0; i < m->nsubs; i++)
			if (topic_matches(m->subs[i].filter, t))
				hit[n++] = m->subs[i];
		pthread_mutex_unlock(&m->smu);
		for (i = 0; i < n; i++)
			hit[i].cb(hit[i].arg, t, msg->payload,
			    msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
		free(t);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* Not sent or not answered: back to waiting, re-sent on the next client. */
static void
unsettle(struct sendctx *c)
{
	struct mqtt_out *m = c->m;
	struct qmsg *q;

	pthread_mutex_lock(&m->qmu);
	q = queue_find(m, c->qseq);
	if (q != NULL && q->acked) {
		drop_msg(m, q);
	} else if (q != NULL && q->inflight) {
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
	/* alerts wait for the ack subscription (see the top of the file) */
	if (m->central_ack)
		atomic_store(&m->pump_after_ms, INT64_MAX);
	pthread_mutex_lock(&m->qmu);
	m->next_stuck_check_ms = now_ms() + m->resend_ms;
	pthread_mutex_unlock(&m->qmu);
	atomic_store(&m->want_subscribe, true);
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
	MQTTAsync_setCallbacks(*h, m, on_lost, on_message, NULL);
	MQTTAsync_setConnected(*h, m, on_connected);
	return 0;
}

/* Destroy the client (its callbacks put in-flight messages back) and make
 * a new one. */
static void
renew_client(struct mqtt_out *m)
{
	MQTTAsync old;
	struct qmsg *q, *next;
	char err[300];

	pthread_mutex_lock(&m->hmu);
	old = m->h;
	m->h = NULL;
	pthread_mutex_unlock(&m->hmu);
	if (old != NULL)
		MQTTAsync_destroy(&old);
	/* whatever Paho did not answer is waiting again */
	pthread_mutex_lock(&m->qmu);
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		q->inflight = false;
		if (q->acked) {
			drop_msg(m, q);
			continue;
		}
		/* the broker may have lost it (restart without persistence,
		 * a bridge's queue): unless acked meanwhile, it goes again */
		if (q->brokered) {
			q->brokered = false;
			atomic_fetch_add(&m->resent, 1);
		}
	}
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

	if (now_ms() < atomic_load(&m->pump_after_ms))
		return;
	while (atomic_load(&m->connected) && !atomic_load(&m->stop)) {
		pthread_mutex_lock(&m->qmu);
		for (q = m->head; q != NULL && (q->inflight || q->brokered ||
		    q->acked); q = q->next)
			;
		/* in order: never past one the disk does not hold yet */
		if (q == NULL || !q->durable ||
		    m->ninflight >= MQTT_OUT_WINDOW) {
			pthread_mutex_unlock(&m->qmu);
			return;
		}
		if (q->payload == NULL && unspill(m, q) != 0) {
			pthread_mutex_unlock(&m->qmu);
			say(m, "cannot read a spilled message back from %s",
			    m->jdir);
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

static void
on_sub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_out *m = ctx;
	int i;

	/* Paho gives one subscription's answer in reasonCode alone (alt is
	 * not filled in then) */
	if (r != NULL && atomic_load(&m->nsub_sent) == 1 &&
	    r->reasonCode >= 0x80)
		say(m, "subscription refused: %s",
		    MQTTReasonCode_toString(r->reasonCode));
	for (i = 0; r != NULL && atomic_load(&m->nsub_sent) > 1 &&
	    i < r->alt.sub.reasonCodeCount; i++)
		if (r->alt.sub.reasonCodes[i] >= 0x80)
			say(m, "subscription %d refused: %s", i,
			    MQTTReasonCode_toString(r->alt.sub.reasonCodes[i]));
	if (m->central_ack)
		atomic_store(&m->pump_after_ms, now_ms() +
		    MQTT_OUT_ACK_GRACE_MS);
	kick(m);
}

static void
on_sub_ok3(void *ctx, MQTTAsync_successData *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	if (m->central_ack)
		atomic_store(&m->pump_after_ms, now_ms() +
		    MQTT_OUT_ACK_GRACE_MS);
	kick(m);
}

static void
on_sub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;

	say(m, "subscribe failed: %s", r != NULL && r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : "no answer");
	/* send anyway: the ack timeout re-sends what is never acknowledged */
	atomic_store(&m->pump_after_ms, 0);
	kick(m);
}

static void
on_sub_fail3(void *ctx, MQTTAsync_failureData *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	say(m, "subscribe failed");
	atomic_store(&m->pump_after_ms, 0);
	kick(m);
}

/* Every subscription, on every connect (the session may be new). */
static void
subscribe_all(struct mqtt_out *m)
{
	MQTTAsync_responseOptions ro;
	char *filters[MQTT_OUT_MAX_SUBS];
	int qos[MQTT_OUT_MAX_SUBS], n, i, rc = MQTTASYNC_FAILURE, tries;

	pthread_mutex_lock(&m->smu);
	for (n = 0; n < m->nsubs; n++) {
		filters[n] = strdup(m->subs[n].filter);
		qos[n] = 1;
		if (filters[n] == NULL)
			break;
	}
	pthread_mutex_unlock(&m->smu);
	if (n == 0) {
		atomic_store(&m->pump_after_ms, 0);
		return;
	}
	atomic_store(&m->nsub_sent, n);
	pthread_mutex_lock(&m->hmu);
	for (tries = 0; m->h != NULL && tries < 2; tries++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		ro.context = m;
		if (atomic_load(&m->v5) == (tries == 0)) {
			ro.onSuccess5 = on_sub_ok5;
			ro.onFailure5 = on_sub_fail5;
		} else {
			ro.onSuccess = on_sub_ok3;
			ro.onFailure = on_sub_fail3;
		}
		rc = MQTTAsync_subscribeMany(m->h, n, filters, qos, &ro);
		if (rc != MQTTASYNC_BAD_MQTT_OPTION)
			break;
	}
	pthread_mutex_unlock(&m->hmu);
	for (i = 0; i < n; i++)
		free(filters[i]);
	if (rc != MQTTASYNC_SUCCESS) {
		say(m, "subscribe: %s", MQTTAsync_strerror(rc));
		atomic_store(&m->pump_after_ms, 0);
	}
}

/*
 * Connected, yet the central log has not acknowledged what the broker
 * took for resend_ms: the broker, a bridge or a subscription lost it, or
 * no collector runs.  Send it again, say so, and wait twice as long next
 * time (a collector that is merely away should not get a flood).
 */
static void
check_stuck(struct mqtt_out *m)
{
	struct qmsg *q, *oldest = NULL;
	size_t n = 0;
	int64_t now = now_ms(), age = 0, seq = -1;

	if (!m->central_ack)
		return;
	pthread_mutex_lock(&m->qmu);
	if (now < m->next_stuck_check_ms) {
		pthread_mutex_unlock(&m->qmu);
		return;
	}
	for (q = m->head; q != NULL; q = q->next) {
		if (!q->brokered)
			continue;
		if (oldest == NULL || q->brokered_ms < oldest->brokered_ms)
			oldest = q;
	}
	if (oldest != NULL && now - oldest->brokered_ms >= m->resend_ms) {
		for (q = m->head; q != NULL; q = q->next)
			if (q->brokered && now - q->brokered_ms >= m->resend_ms) {
				q->brokered = false;
				n++;
			}
		age = now - oldest->brokered_ms;
		seq = oldest->aseq;
		m->resend_ms = m->resend_ms * 2 < MQTT_OUT_RESEND_MAX_MS ?
		    m->resend_ms * 2 : MQTT_OUT_RESEND_MAX_MS;
	}
	m->next_stuck_check_ms = now + 1000;
	pthread_mutex_unlock(&m->qmu);
	if (n > 0) {
		atomic_fetch_add(&m->resent, n);
		say(m, "the central log has not acknowledged %zu alert(s) for "
		    "%lld s (oldest seq %lld; last ack %lld): sending them again",
		    n, (long long)(age / 1000), (long long)seq,
		    (long long)m->ack_seq);
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
			if (atomic_exchange(&m->want_subscribe, false))
				subscribe_all(m);
			check_stuck(m);
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
		qmsg_free(q);
	}
	while (m->segs != NULL) {
		struct seg *sg = m->segs;

		m->segs = sg->next;
		if (sg->fd >= 0)
			close(sg->fd);
		free(sg);
	}
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
	pthread_cond_init(&m->wcv, NULL);
	m->dirfd = -1;
	m->max_jbytes = (uint64_t)(o->max_journal_mb > 0 ? o->max_journal_mb :
	    1024) << 20;
	m->log = o->log != NULL ? o->log : log_stderr;
	m->log_ctx = o->log_ctx;
	m->max_buffered = o->max_buffered;
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
		m->subs[0].cb = on_ack;
		m->subs[0].arg = m;
		if (m->subs[0].filter == NULL)
			fail = true;
		else
			m->nsubs = 1;
	}
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
		if (make_dirs(jdir) != 0) {
			snprintf(err, errlen, "persist_dir %s: %s",
			    m->persist_dir, strerror(errno));
			goto fail;
		}
		m->jdir = strdup(jdir);
		if (m->jdir == NULL || journal_load(m, err, errlen) != 0)
			goto fail;
		m->dirfd = open(m->jdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->dirfd < 0) {
			snprintf(err, errlen, "persist_dir %s: %s", m->jdir,
			    strerror(errno));
			goto fail;
		}
		if (pthread_create(&m->wr, NULL, writer, m) != 0) {
			snprintf(err, errlen, "cannot start the journal writer");
			goto fail;
		}
		m->wr_started = true;
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
    int retained, bool alert)
{
	struct qmsg *q;
	int rc = IDS_EIO;
	uint_fast64_t n;
	uint64_t sseq;
	char shash[65];

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
		q->t_ms = now_ms();
		q->aseq = alert && m->central_ack ? alert_seq(p, len) : -1;
	}
	pthread_mutex_lock(&m->qmu);
	if (q != NULL && m->jdir == NULL) {
		/* memory only: full means refused, never overwritten */
		if (m->nq >= (size_t)m->max_buffered) {
			rc = IDS_EAGAIN;
		} else {
			q->qseq = m->next_qseq++;
			q->durable = true;
			queue_append(m, q);
			m->nmem++;
			q = NULL;
			rc = 0;
		}
	} else if (q != NULL) {
		/* the journal: memory spills to it, only its bound refuses */
		q->qseq = m->next_qseq;
		rc = journal_append(m, q);
		if (rc == 0) {
			m->next_qseq++;
			queue_append(m, q);
			m->nmem++;
			if (m->wfirst == NULL)
				m->wfirst = q;
			if (alert && m->state_path != NULL &&
			    alert_state(q->payload, (size_t)q->len, &sseq,
			    shash)) {
				m->st_seq = sseq;
				memcpy(m->st_hash, shash, sizeof(shash));
				m->state_dirty = true;
			}
			pthread_cond_signal(&m->wcv);
			q = NULL;
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
		    rc == IDS_EAGAIN ? (m->jdir != NULL ? "journal full "
		    "(max_journal_mb)" : "buffer full") : m->jdir != NULL ?
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
	    queue_len(m) >= (size_t)(m->max_buffered / 2)) {
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

	snprintf(topic, sizeof(topic), "%sevidence/%llu", m->prefix,
	    (unsigned long long)seq);
	return publish(m, topic, (const char *)pcap, len, 0, false);
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
	out->buffered = queue_len(mm);
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
			out->oldest_unacked_s = (double)(now_ms() - q->t_ms) /
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
		kick(m);
	}
	return 0;
}

int
mqtt_out_state_file(struct mqtt_out *m, const char *path)
{
	char *p;

	if (m->jdir == NULL)
		return IDS_EINVAL;
	p = strdup(path);
	if (p == NULL)
		return IDS_ENOMEM;
	pthread_mutex_lock(&m->qmu);
	free(m->state_path);
	m->state_path = p;
	pthread_mutex_unlock(&m->qmu);
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
	struct qmsg *q;
	size_t n = 0;

	pthread_mutex_lock(&m->qmu);
	for (q = m->head; q != NULL; q = q->next)
		n += !q->brokered;
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
	end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/*
	 * Connected or not: a short replay can end before the first connect
	 * completes, and the queue should still go out if the broker comes
	 * within the time we were given (the supervisor keeps at it).
	 */
	while ((left = not_brokered(m)) > 0 && now_ms() < end)
		sleep_ms(10);
	/*
	 * With a collector answering (an ack was seen), give the central
	 * ack a moment; what it does not cover stays in the journal and is
	 * sent again on the next start (stored once).
	 */
	ack_end = now_ms() + 3000 < end ? now_ms() + 3000 : end;
	while (unacked(m, &seq) > 0 && seq >= 0 && now_ms() < ack_end)
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
	left = not_brokered(m);
	unack = unacked(m, &seq);
	if (left > 0)
		say(m, "closing with %zu message(s) not acknowledged%s", left,
		    m->jdir != NULL ?
		    "; they stay in persist_dir for the next start" : "");
	if (unack > 0)
		say(m, "closing with %zu alert(s) the central log has not "
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
