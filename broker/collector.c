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
 *
 * This file holds the message handling, the end-to-end ack and the spool;
 * collector_main.c the configuration, the MQTT callbacks and main().
 */

#include "broker/collector.h"
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
#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/metrics_http.h"
#include "lib/version.h"
#include "lib/mqttconf.h"
#include "lib/log.h"

int64_t
collector_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
collector_logmsg(const char *fmt, ...)
{
	va_list ap;

	/* lib/log.c: level, and a timestamp or journald's <N> prefix */
	va_start(ap, fmt);
	log_vmsg(LOGL_INFO, fmt, ap);
	va_end(ap);
}

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

	cout_reject(c->out, counter);
	if (rc != 0)
		return rc;
	c->rejects++;
	if (c->rejects <= c->log_rejects || c->rejects % 100 == 0)
		collector_logmsg("rejected message on '%.*s': %s (%lld rejected so far)",
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

/* Find or add (site, agent) and put it on the dirty list (c->mu held). */
static int
peer_touch(struct collector *c, const char *site, const char *agent,
    bool resend)
{
	uint32_t b = central_log_agent_hash(site, agent) % PEER_BUCKETS;
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

/*
 * After a commit (c->mu held): advance each dirty agent's contiguous seq
 * from what is now in the log, step over a gap that stayed open too long,
 * keep the result, and list the acks to publish (done without c->mu: Paho
 * may hold its own lock while it waits for ours in on_message).
 */
size_t
collector_peers_settle(struct collector *c, struct ack_out **outp)
{
	struct peer *e, *next, *keep = NULL;
	struct ack_out *out = NULL, *t;
	size_t n = 0, cap = 0;
	int64_t cont, nx, now = collector_mono_ms();
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
			collector_logmsg("%s/%s: seq %" PRId64 "-%" PRId64 " still missing "
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

void
collector_publish_acks(struct collector *c, struct ack_out *a, size_t n)
{
	MQTTAsync_responseOptions ro;
	size_t i;
	int rc;

	/*
	 * QoS 0, retained.  Paho 1.3.12 (Debian 12) frees a QoS 1 PUBLISH's
	 * topic when its socket write fails (the connection dying) but keeps
	 * it in the outbound list, and its automatic reconnect then re-sends
	 * it from freed memory: ASan caught the collector's receive thread in
	 * strlen() of a freed "icsentry/<site>/<agent>/ack" after a broker
	 * restart (check_e2e), the same bug agent/mqtt_out.c works around.
	 * With QoS 0 Paho keeps nothing to re-send, and nothing is lost: an
	 * ack is the retained latest seq, a later one supersedes it, every
	 * peer's is sent again on each connect, and an agent whose ack got
	 * lost re-sends after ack_timeout, which marks the peer for a resend.
	 */
	for (i = 0; i < n; i++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		rc = MQTTAsync_send(c->h, a[i].topic, (int)strlen(a[i].payload),
		    a[i].payload, 0, 1, &ro);
		if (rc != MQTTASYNC_SUCCESS) {
			/* disconnected: every peer is sent again on connect */
			break;
		}
	}
}

/* ---- the spool of the open batch ------------------------------------- */

/* Append one message: u32 topic length, topic, u32 length, payload. */
void
collector_spool_put(struct collector *c, const char *t, size_t tl, const void *p,
    size_t len)
{
	uint32_t a = (uint32_t)tl, b = (uint32_t)len;
	struct iovec v[4] = { { &a, 4 }, { (void *)t, tl }, { &b, 4 },
	    { (void *)p, len } };

	if (c->spool < 0)
		return;
	/* a short write leaves a torn last record, which replay ignores */
	if (writev(c->spool, v, 4) < 0 && !c->db_failing)
		collector_logmsg("spool: %s", strerror(errno));
	c->spool_used = true;
}

static void
spool_clear(struct collector *c)
{
	if (c->spool >= 0 && c->spool_used) {
		if (ftruncate(c->spool, 0) != 0)
			collector_logmsg("spool: %s", strerror(errno));
		c->spool_used = false;
	}
}

/*
 * What a killed collector had taken but not committed: store it now
 * (duplicates of what did commit are recognised and counted).
 */
int
collector_spool_replay(struct collector *c, const char *path)
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
			collector_logmsg("spool %s: cannot read it", path);
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
		rc = collector_handle(c, t, tl, buf + off + 8 + tl, pl);
		off += 8 + tl + pl;
		n++;
	}
	if (rc == 0 && central_log_commit(c->db) == 0) {
		cout_commit(c->out);
		collector_logmsg("stored %zu message(s) of a batch a killed collector had "
		    "taken", n);
	} else {
		central_log_rollback(c->db);
		cout_rollback(c->out);
		rc = IDS_EIO;
	}
	free(buf);
	return rc;
}

/* Commit the open batch (c->mu held).  0 or IDS_EIO (rolled back). */
int
collector_batch_commit(struct collector *c)
{
	int n = c->batch_n;

	if (!c->in_tx)
		return 0;
	c->in_tx = false;
	c->batch_n = 0;
	if (clog_incident_flush(c->db, c->inc, c->incident_window_s) == 0 &&
	    central_log_commit(c->db) == 0) {
		c->batches++;
		c->batched += n;
		spool_clear(c);
		cout_commit(c->out);
		return 0;
	}
	collector_logmsg("commit failed: %s; the agents send the batch again",
	    central_log_errmsg(c->db));
	central_log_rollback(c->db);
	cout_rollback(c->out);
	return IDS_EIO;
}

/* Free the peers (at exit). */
void
collector_peers_free(struct collector *c)
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
void
collector_peers_all_dirty(struct collector *c)
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
	/* forwarded (syslog) once committed: see cout_commit; a queued one
	 * may still turn out a duplicate (on_stored) */
	if (rc == 0 && (res == CENTRAL_LOG_NEW || res == CENTRAL_LOG_QUEUED))
		cout_pending(c->out, a.site, a.agent, a.seq, p, len);
	else if (rc == 0 && res == CENTRAL_LOG_CONFLICT)
		cout_conflict(c->out);
	else if (rc == 0)
		cout_duplicate(c->out);
	if (rc == 0 && res == CENTRAL_LOG_CONFLICT)
		collector_logmsg("conflict: %s/%s seq %" PRId64 " arrived again with "
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
void
collector_on_stored(void *ctx, const char *site, const char *agent, int64_t seq,
    enum central_log_stored res)
{
	struct collector *c = ctx;

	if (res == CENTRAL_LOG_CONFLICT)
		collector_logmsg("conflict: %s/%s seq %" PRId64 " arrived again with "
		    "different content; kept the first", site, agent, seq);
	if (res != CENTRAL_LOG_NEW) {
		/* not forwarded to syslog either */
		cout_settled(c->out, site, agent, seq,
		    res == CENTRAL_LOG_CONFLICT);
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

int
collector_handle(struct collector *c, const char *topic, size_t tlen, const char *p,
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
	cout_seen(c->out, tp.site, tp.agent, central_log_now_us());
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
		if (collector_batch_commit(c) != 0)
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
	rc = collector_handle(&c, topic, tlen, payload, len);
	collector_peers_free(&c);
	return rc;
}
