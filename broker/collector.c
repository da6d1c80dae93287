/*
 * collector.c - icsentry-collector: MQTT -> SQLite central log.
 *
 *   icsentry-collector [-c FILE] [--mqtt URI] [--db FILE] [--client-id ID]
 *
 * Subscribes (MQTT v5, persistent session) to the alerts (plain, or the
 * shared subscription $share/<group>/icsentry/+/+/alert/# when several
 * collectors share the load) and to every agent's status, stats and asset
 * topics (DESIGN.md "MQTT"), and stores what arrives through
 * central_log.h.
 *
 * End-to-end acknowledgement: after a commit, the collector publishes per
 * agent, retained, on icsentry/<site>/<agent>/ack the highest seq s such
 * that every seq 1..s of that (site, agent) is in the log.  The agent keeps
 * each alert until that ack covers it, whatever the broker said, and sends
 * again what stays unacknowledged.  So the broker's PUBACK no longer has
 * to wait for our commit: messages are taken at once and committed in
 * batches (group commit: one transaction, one fsync, per batch_ms or
 * batch_max messages).  Each message of the open batch is first appended
 * to a spool file in persist_dir (one write, no fsync): a collector that
 * is killed finds the batch there on restart, so even a publisher without
 * the end-to-end ack loses nothing to a crashed collector; after a power
 * loss the agents' end-to-end ack makes them send it again.
 *
 * A gap that stays open longer than gap_timeout (the agent no longer has
 * those alerts: lost before this scheme, or its journal overflowed) is
 * stepped over, logged and counted, so the ack does not stall for good;
 * verify still reports the missing seq numbers.
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
#include <fcntl.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/clog_triage.h"
#include "broker/collector.h"
#include "broker/intel_log.h"
#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/version.h"
#include "lib/mqttconf.h"
#include "lib/log.h"

#define PROG		"icsentry-collector"
#define VERSION		ICSENTRY_VERSION
#define DEFAULT_CONF	"/etc/icsentry/collector.conf"
#define MAX_TOPIC	512

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
	    "Paho persistence for received, not yet stored messages "
	    "(empty: <db>.mqtt; for a postgresql:// log "
	    "/var/lib/icsentry/<client_id>.mqtt)" },
	{ "log_rejects", CFG_INT, "20", 0, 1000000,
	    "log the first N rejected messages, then every 100th" },
	{ "batch_ms", CFG_INT, "50", 0, 10000,
	    "group commit: commit (and fsync) at most this many ms after the "
	    "first message of a batch; 0: every message on its own" },
	{ "batch_max", CFG_INT, "1000", 1, 1000000,
	    "group commit: commit at once when a batch holds this many" },
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
    &collector_mqtt_schema };

/* One (site, agent) the collector has stored alerts of. */
struct peer {
	struct peer	*next;		/* hash chain */
	struct peer	*dnext;		/* dirty list */
	char		*site, *agent;
	int64_t		 acked;		/* every seq 1..acked is stored */
	int64_t		 published;	/* last ack sent; -1: none yet */
	int64_t		 gap_since_ms;	/* a gap after acked seen; 0: none */
	bool		 dirty, resend;
};

#define PEER_BUCKETS	1024

struct collector {
	MQTTAsync		 h;
	struct central_log	*db;
	struct intel_log	*intel;		/* NULL: not kept (open failed) */
	pthread_mutex_t		 mu;		/* db, closing, batch, peers */
	bool			 closing;
	size_t			 max_payload;
	long long		 log_rejects;
	long long		 rejects;	/* this run, for log pacing */
	bool			 db_failing;
	char			 alert_filter[256];
	const char		*uri;
	/* group commit */
	bool			 in_tx;
	int			 batch_n, batch_max;
	int64_t			 batch_start_ms, batch_ms;
	/* end-to-end ack */
	struct peer		*peers[PEER_BUCKETS];
	struct peer		*dirty;
	int64_t			 gap_timeout_ms;
	int64_t			 incident_window_s;	/* 0: none */
	struct clog_incident_batch *inc;	/* filed at batch commit */
	bool			 connected;
	int			 spool;		/* fd, -1: none */
	bool			 spool_used;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logmsg(const char *fmt, ...)
{
	va_list ap;

	/* lib/log.c: level, and a timestamp or journald's <N> prefix */
	va_start(ap, fmt);
	log_vmsg(LOGL_INFO, fmt, ap);
	va_end(ap);
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

enum kind { K_ALERT, K_STATUS, K_STATS, K_ASSET, K_INTEL, K_EVIDENCE };

struct topic {
	char		 buf[MAX_TOPIC];
	enum kind	 kind;
	const char	*site, *agent, *rest;	/* rest: severity or ip */
};

/*
 * icsentry/<site>/<agent>/alert/<severity> | status | stats | asset/<ip> |
 * evidence/<seq>;
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
	} else if (n == 4 && strcmp(lv[3], "intel") == 0) {
		tp->kind = K_INTEL;
	} else if (n == 5 && strcmp(lv[3], "asset") == 0 && lv[4][0] != '\0') {
		tp->kind = K_ASSET;
		tp->rest = lv[4];
	} else if (n == 5 && strcmp(lv[3], "evidence") == 0 &&
	    lv[4][0] >= '1' && lv[4][0] <= '9' && strlen(lv[4]) < 19 &&
	    strspn(lv[4], "0123456789") == strlen(lv[4])) {
		tp->kind = K_EVIDENCE;
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

/* ---- end-to-end acknowledgement ---------------------------------------- */

static uint32_t
peer_hash(const char *site, const char *agent)
{
	uint32_t h = 2166136261u;

	for (; *site != '\0'; site++)
		h = (h ^ (uint8_t)*site) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (; *agent != '\0'; agent++)
		h = (h ^ (uint8_t)*agent) * 16777619u;
	return h;
}

/* Find or add (site, agent) and put it on the dirty list (c->mu held). */
static int
peer_touch(struct collector *c, const char *site, const char *agent,
    bool resend)
{
	uint32_t b = peer_hash(site, agent) % PEER_BUCKETS;
	struct peer *e;

	for (e = c->peers[b]; e != NULL; e = e->next)
		if (strcmp(e->site, site) == 0 && strcmp(e->agent, agent) == 0)
			break;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return IDS_ENOMEM;
		e->site = strdup(site);
		e->agent = strdup(agent);
		if (e->site == NULL || e->agent == NULL ||
		    central_log_acked(c->db, site, agent, &e->acked) != 0) {
			int rc = e->site == NULL || e->agent == NULL ?
			    IDS_ENOMEM : IDS_EIO;

			free(e->site);
			free(e->agent);
			free(e);
			return rc;
		}
		e->published = -1;
		e->next = c->peers[b];
		c->peers[b] = e;
	}
	if (resend)
		e->resend = true;
	if (!e->dirty) {
		e->dirty = true;
		e->dnext = c->dirty;
		c->dirty = e;
	}
	return 0;
}

struct ack_out {
	char	topic[MAX_TOPIC];
	char	payload[24];
};

/*
 * After a commit (c->mu held): advance each dirty agent's contiguous seq
 * from what is now in the log, step over a gap that stayed open too long,
 * keep the result, and list the acks to publish (done without c->mu: Paho
 * may hold its own lock while it waits for ours in on_message).
 */
static size_t
peers_settle(struct collector *c, struct ack_out **outp)
{
	struct peer *e, *next, *keep = NULL;
	struct ack_out *out = NULL, *t;
	size_t n = 0, cap = 0;
	int64_t cont, nx, now = mono_ms();
	bool tx;

	*outp = NULL;
	tx = central_log_begin(c->db) == 0;
	for (e = c->dirty; e != NULL; e = next) {
		next = e->dnext;
		e->dirty = false;
		if (central_log_contiguous(c->db, e->site, e->agent, e->acked,
		    &cont) != 0)
			goto again;
		if (central_log_next_seq(c->db, e->site, e->agent, cont,
		    &nx) != 0)
			goto again;
		if (nx < 0) {
			e->gap_since_ms = 0;
		} else if (e->gap_since_ms == 0) {
			e->gap_since_ms = now;
		} else if (now - e->gap_since_ms >= c->gap_timeout_ms) {
			logmsg("%s/%s: seq %" PRId64 "-%" PRId64 " still missing "
			    "after %" PRId64 " s; the ack steps over them (verify "
			    "reports them)", e->site, e->agent, cont + 1, nx - 1,
			    c->gap_timeout_ms / 1000);
			(void)central_log_count(c->db, "ack_gaps_skipped", 1);
			e->gap_since_ms = 0;
			if (central_log_contiguous(c->db, e->site, e->agent,
			    nx, &cont) != 0)
				goto again;
		}
		if (cont > e->acked) {
			if (central_log_set_acked(c->db, e->site, e->agent,
			    cont) != 0)
				goto again;
			e->acked = cont;
		}
		if (e->acked != e->published || e->resend) {
			if (n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				t = realloc(out, cap * sizeof(*out));
				if (t == NULL)
					goto again;
				out = t;
			}
			snprintf(out[n].topic, sizeof(out[n].topic),
			    "icsentry/%s/%s/ack", e->site, e->agent);
			snprintf(out[n].payload, sizeof(out[n].payload),
			    "%" PRId64, e->acked);
			n++;
			e->published = e->acked;
			e->resend = false;
		}
		/* an open gap is looked at again until it closes or times out */
		if (e->gap_since_ms == 0)
			continue;
again:
		e->dirty = true;
		e->dnext = keep;
		keep = e;
	}
	c->dirty = keep;
	if (tx && central_log_commit(c->db) != 0)
		central_log_rollback(c->db);
	*outp = out;
	return n;
}

static void
publish_acks(struct collector *c, struct ack_out *a, size_t n)
{
	MQTTAsync_responseOptions ro;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		rc = MQTTAsync_send(c->h, a[i].topic, (int)strlen(a[i].payload),
		    a[i].payload, 1, 1, &ro);
		if (rc != MQTTASYNC_SUCCESS) {
			/* disconnected: every peer is sent again on connect */
			break;
		}
	}
}

/* ---- the spool of the open batch ------------------------------------- */

/* Append one message: u32 topic length, topic, u32 length, payload. */
static void
spool_put(struct collector *c, const char *t, size_t tl, const void *p,
    size_t len)
{
	uint32_t a = (uint32_t)tl, b = (uint32_t)len;
	struct iovec v[4] = { { &a, 4 }, { (void *)t, tl }, { &b, 4 },
	    { (void *)p, len } };

	if (c->spool < 0)
		return;
	/* a short write leaves a torn last record, which replay ignores */
	if (writev(c->spool, v, 4) < 0 && !c->db_failing)
		logmsg("spool: %s", strerror(errno));
	c->spool_used = true;
}

static void
spool_clear(struct collector *c)
{
	if (c->spool >= 0 && c->spool_used) {
		if (ftruncate(c->spool, 0) != 0)
			logmsg("spool: %s", strerror(errno));
		c->spool_used = false;
	}
}

static int	handle(struct collector *c, const char *topic, size_t tlen,
		    const char *p, size_t len);

/*
 * What a killed collector had taken but not committed: store it now
 * (duplicates of what did commit are recognised and counted).
 */
static int
spool_replay(struct collector *c, const char *path)
{
	size_t len = 0, off = 0, n = 0;
	uint32_t tl, pl;
	struct stat st;
	char *buf = NULL, *t;
	int rc = 0, fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;		/* none: nothing was left */
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		len = (size_t)st.st_size;
		buf = malloc(len);
		if (buf == NULL || read(fd, buf, len) != (ssize_t)len) {
			close(fd);
			free(buf);
			logmsg("spool %s: cannot read it", path);
			return IDS_EIO;
		}
	}
	close(fd);
	if (len == 0)
		return 0;
	if (central_log_begin(c->db) != 0) {
		free(buf);
		return IDS_EIO;
	}
	while (rc == 0 && off + 8 <= len) {
		memcpy(&tl, buf + off, 4);
		if (tl == 0 || tl > MAX_TOPIC || off + 8 + tl > len)
			break;
		memcpy(&pl, buf + off + 4 + tl, 4);
		if (off + 8 + tl + pl > len)
			break;
		t = buf + off + 4;
		rc = handle(c, t, tl, buf + off + 8 + tl, pl);
		off += 8 + tl + pl;
		n++;
	}
	if (rc == 0 && central_log_commit(c->db) == 0) {
		logmsg("stored %zu message(s) of a batch a killed collector had "
		    "taken", n);
	} else {
		central_log_rollback(c->db);
		rc = IDS_EIO;
	}
	free(buf);
	return rc;
}

/* Commit the open batch (c->mu held).  0 or IDS_EIO (rolled back). */
static int
batch_commit(struct collector *c)
{
	if (!c->in_tx)
		return 0;
	c->in_tx = false;
	c->batch_n = 0;
	if (clog_incident_flush(c->db, c->inc, c->incident_window_s) == 0 &&
	    central_log_commit(c->db) == 0) {
		spool_clear(c);
		return 0;
	}
	logmsg("commit failed: %s; the agents send the batch again",
	    central_log_errmsg(c->db));
	central_log_rollback(c->db);
	return IDS_EIO;
}

/* Free the peers (at exit). */
static void
peers_free(struct collector *c)
{
	struct peer *e, *next;
	size_t b;

	for (b = 0; b < PEER_BUCKETS; b++)
		for (e = c->peers[b]; e != NULL; e = next) {
			next = e->next;
			free(e->site);
			free(e->agent);
			free(e);
		}
}

/* On (re)connect every known agent gets its ack again (c->mu held). */
static void
peers_all_dirty(struct collector *c)
{
	struct peer *e;
	size_t b;

	for (b = 0; b < PEER_BUCKETS; b++)
		for (e = c->peers[b]; e != NULL; e = e->next) {
			e->resend = true;
			if (!e->dirty) {
				e->dirty = true;
				e->dnext = c->dirty;
				c->dirty = e;
			}
		}
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
	/* group it with the same attacker's alerts (clog_triage.h); in a
	 * batch, at its commit, in lock order */
	if (rc == 0 && (res == CENTRAL_LOG_NEW || res == CENTRAL_LOG_QUEUED) &&
	    c->incident_window_s > 0)
		rc = c->in_tx || res == CENTRAL_LOG_QUEUED ?
		    clog_incident_defer(c->inc, &a) :
		    clog_incident_add(c->db, &a, c->incident_window_s, NULL);
	if (rc == 0 && res == CENTRAL_LOG_CONFLICT)
		logmsg("conflict: %s/%s seq %" PRId64 " arrived again with "
		    "different content; kept the first", a.site, a.agent,
		    a.seq);
	/* a re-sent alert means the agent lacks our ack: send it again
	 * (a queued one is settled in on_stored) */
	if (rc == 0)
		rc = peer_touch(c, a.site, a.agent, res != CENTRAL_LOG_NEW &&
		    res != CENTRAL_LOG_QUEUED);
	central_log_alert_free(&a);
	return rc;
}

/*
 * The outcome of a deferred insert (PostgreSQL pipeline; c->mu held, from
 * within an insert or commit).  Its peer was touched when it was queued,
 * so marking it for a resend allocates nothing and cannot fail.
 */
static void
on_stored(void *ctx, const char *site, const char *agent, int64_t seq,
    enum central_log_stored res)
{
	struct collector *c = ctx;

	if (res == CENTRAL_LOG_CONFLICT)
		logmsg("conflict: %s/%s seq %" PRId64 " arrived again with "
		    "different content; kept the first", site, agent, seq);
	if (res != CENTRAL_LOG_NEW) {
		(void)peer_touch(c, site, agent, true);
		/* not stored after all: no incident for it */
		clog_incident_forget(c->inc, site, agent, seq);
	}
}

/* The agent's own last seq: stats {"alerts":{"last_seq":N}}. */
static bool
stats_last_seq(const char *p, size_t len, int64_t *seq)
{
	cJSON *j = cJSON_ParseWithLength(p, len), *a, *s;
	bool ok = false;

	a = cJSON_GetObjectItemCaseSensitive(j, "alerts");
	s = cJSON_GetObjectItemCaseSensitive(a, "last_seq");
	if (cJSON_IsNumber(s) && s->valuedouble >= 0 &&
	    s->valuedouble < 9007199254740992.0) {
		*seq = (int64_t)s->valuedouble;
		ok = true;
	}
	cJSON_Delete(j);
	return ok;
}

static int
handle(struct collector *c, const char *topic, size_t tlen, const char *p,
    size_t len)
{
	struct topic tp;
	int64_t seq;
	int rc;

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
		rc = central_log_agent_stats(c->db, tp.site, tp.agent, p, len,
		    central_log_now_us());
		if (rc == 0 && stats_last_seq(p, len, &seq))
			rc = central_log_set_reported(c->db, tp.site, tp.agent,
			    seq);
		return rc;
	case K_ASSET:
		if (len > 0 && !is_json_object(p, len))
			return reject(c, "rejected_invalid", topic, tlen,
			    "asset is not a JSON object");
		return central_log_asset(c->db, tp.site, tp.agent, tp.rest,
		    len > 0 ? p : NULL, len, central_log_now_us());
	case K_EVIDENCE:
		/* the pcap of an alert's triggering packets (clog_evidence.c) */
		rc = clog_evidence_put(c->db, tp.site, tp.agent,
		    strtoll(tp.rest, NULL, 10), p, len, central_log_now_us());
		if (rc == IDS_EINVAL)
			return reject(c, "rejected_invalid", topic, tlen,
			    "evidence is not a pcap file");
		return rc;
	case K_INTEL:
		/* which threat-intel bundle the agent runs (intel_log.c) */
		if (len == 0 || c->intel == NULL)
			return 0;
		/* its own connection: an open batch would hold the write lock */
		if (batch_commit(c) != 0)
			return IDS_EIO;
		switch (intel_log_status(c->intel, tp.site, tp.agent, p, len,
		    central_log_now_us())) {
		case 0:
			return 0;
		case IDS_EINVAL:
			return reject(c, "rejected_invalid", topic, tlen,
			    "intel status is not the status object");
		default:
			return IDS_EIO;
		}
	}
	return 0;
}

int
collector_handle_message(struct central_log *db, size_t max_payload,
    const char *topic, size_t tlen, const char *payload, size_t len)
{
	struct collector c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.db = db;
	c.max_payload = max_payload;
	c.spool = -1;
	rc = handle(&c, topic, tlen, payload, len);
	peers_free(&c);
	return rc;
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
	/* group commit: the batch's transaction opens with its first message */
	if (c->batch_ms > 0 && !c->in_tx) {
		if (central_log_begin(c->db) == 0) {
			c->in_tx = true;
			c->batch_start_ms = mono_ms();
		}
	}
	if (c->in_tx)
		spool_put(c, topic, tl, m->payload, m->payloadlen > 0 ?
		    (size_t)m->payloadlen : 0);
	rc = handle(c, topic, tl, m->payload, m->payloadlen > 0 ?
	    (size_t)m->payloadlen : 0);
	if (central_log_notice(c->db, note, sizeof(note)) != NULL)
		logmsg("note: %s", note);
	if (rc == 0 && c->in_tx && ++c->batch_n >= c->batch_max)
		rc = batch_commit(c);
	if (rc != 0 && c->in_tx) {
		/* the batch goes; its agents send it again (no ack for it) */
		central_log_rollback(c->db);
		clog_incident_batch_clear(c->inc);
		c->in_tx = false;
		c->batch_n = 0;
	}
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
		logmsg("subscribed to %s and icsentry/+/+/{status,stats,asset/#,intel,evidence/+}",
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
	static const int qos[6] = { 1, 1, 1, 1, 1, 1 };
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct collector *c = ctx;
	char *topics[6];
	int rc;

	logmsg("connected to %s (%s)", c->uri, cause != NULL ? cause : "");
	pthread_mutex_lock(&c->mu);
	c->connected = true;
	peers_all_dirty(c);
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
		logmsg("subscribe: %s", MQTTAsync_strerror(rc));
}

static void
on_lost(void *ctx, char *cause)
{
	struct collector *c = ctx;

	pthread_mutex_lock(&c->mu);
	c->connected = false;
	pthread_mutex_unlock(&c->mu);
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

struct opts {
	const char	*config, *mqtt, *db, *client_id;
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
		logmsg("retention: %s", central_log_errmsg(c->db));
	pthread_mutex_unlock(&c->mu);
	if (rc == 0 && removed > 0)
		logmsg("retention %s: removed %" PRId64 " alerts", spec,
		    removed);
}

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
	if (cfg_load(path, schemas, 2, &c, err, sizeof(err)) != 0) {
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
		snprintf(persist, sizeof(persist), "/var/lib/icsentry/%s.mqtt",
		    client_id);
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
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (central_log_open(cfg_str(cfg, "collector", "db"), CENTRAL_LOG_RDWR,
	    cfg_bool(cfg, "collector", "fsync") ? CENTRAL_LOG_SYNC_FULL :
	    CENTRAL_LOG_SYNC_NORMAL, &c.db, err, sizeof(err)) != 0) {
		logmsg("%s", err);
		goto out_cfg;
	}
	/* triage and incident tables (clog_triage.h), created in place */
	if (clog_triage_schema(c.db) != 0) {
		logmsg("%s: triage tables: %s", cfg_str(cfg, "collector", "db"),
		    clog_triage_errmsg());
		goto out_db;
	}
	/*
	 * PostgreSQL: a batch's alerts go to the server pipelined, one round
	 * trip per batch instead of per alert (bench-central).
	 */
	if (c.batch_ms > 0)
		(void)central_log_defer_inserts(c.db, c.batch_max < 1000 ?
		    c.batch_max : 1000, on_stored, &c);
	if (intel_log_open(cfg_str(cfg, "collector", "db"), true, &c.intel, err,
	    sizeof(err)) != 0)
		logmsg("intel versions not recorded: %s", err);
	if (mkdir(persist, 0700) != 0 && errno != EEXIST) {
		logmsg("persist_dir %s: %s", persist, strerror(errno));
		goto out_db;
	}
	snprintf(spool, sizeof(spool), "%s/batch.spool", persist);
	if (spool_replay(&c, spool) != 0) {
		logmsg("%s: cannot store what it holds (kept): %s", spool,
		    central_log_errmsg(c.db));
		goto out_db;
	}
	c.spool = open(spool, O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600);
	if (c.spool < 0)
		logmsg("%s: %s (a killed collector may then lose its open "
		    "batch to publishers without end-to-end ack)", spool,
		    strerror(errno));

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
	logmsg("starting: %s as %s, log %s", c.uri, client_id,
	    cfg_str(cfg, "collector", "db"));
	rc = MQTTAsync_connect(c.h, &conn);
	if (rc != MQTTASYNC_SUCCESS) {
		logmsg("connect %s: %s", c.uri, MQTTAsync_strerror(rc));
		goto out_mqtt;
	}

	/*
	 * Paho's thread stores; main closes batches that are due and
	 * publishes the acks of what is committed, until a stop signal.
	 */
	tick.tv_sec = 0;
	tick.tv_nsec = (c.batch_ms > 0 && c.batch_ms < 100 ?
	    (c.batch_ms + 1) / 2 : 50) * 1000000L;
	for (;;) {
		/* retention at start and then hourly, between messages */
		if (cfg_str(cfg, "collector", "retention")[0] != '\0' &&
		    central_log_now_us() >= next_retain) {
			apply_retention(&c, cfg_str(cfg, "collector",
			    "retention"));
			next_retain = central_log_now_us() + 3600LL * 1000000;
		}
		sig = sigtimedwait(&stop_signals, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		pthread_mutex_lock(&c.mu);
		if (c.in_tx && mono_ms() - c.batch_start_ms >= c.batch_ms)
			(void)batch_commit(&c);
		nacks = 0;
		if (!c.in_tx && c.connected && c.dirty != NULL)
			nacks = peers_settle(&c, &acks);
		pthread_mutex_unlock(&c.mu);
		if (nacks > 0)
			publish_acks(&c, acks, nacks);
		free(acks);
		acks = NULL;
	}
	logmsg("stopping on signal %d", sig);
	status = 0;

	pthread_mutex_lock(&c.mu);
	c.closing = true;
	if (batch_commit(&c) == 0 && c.connected && c.dirty != NULL)
		nacks = peers_settle(&c, &acks);
	else
		nacks = 0;
	pthread_mutex_unlock(&c.mu);
	if (nacks > 0)
		publish_acks(&c, acks, nacks);
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
		logmsg("alerts stored (all runs): %" PRId64, n);
	intel_log_close(c.intel);
	central_log_close(c.db);
	peers_free(&c);
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
