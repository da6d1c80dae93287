/*
 * central_log.c - SQLite (WAL) central alert log (DESIGN.md "Central log").
 *
 * Rows keep the alert's exact bytes (raw) next to indexed columns derived
 * from them, so a query never parses JSON and verify can tell when the two
 * disagree.  All SQL is constant text prepared on first use and cached.
 */

#include "broker/central_log.h"
#include "broker/central_log_int.h"

#include <cJSON.h>
#include <sqlite3.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/clog_pg.h"
#include "broker/clog_query.h"
#include "broker/clog_scan.h"
#include "lib/chain.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"
#include "lib/ipnet.h"

static const char *const sql[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT cl",
	[ST_RELEASE] = "RELEASE cl",
	[ST_ROLLBACK_TO] = "ROLLBACK TO cl",
	[ST_USER_VERSION] = "PRAGMA user_version",
	[ST_INSERT] =
	    "INSERT OR IGNORE INTO alerts (agent, seq, site, ts, ts_us,"
	    " severity, sev, detector, technique, title, proto, src_ip,"
	    " src_port, dst_ip, dst_port, prev_hash, hash, raw, received_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18, ?19)",
	[ST_SELECT_RAW] =
	    "SELECT raw FROM alerts WHERE site = ?1 AND agent = ?2 AND seq = ?3",
	[ST_INSERT_CONFLICT] =
	    "INSERT INTO conflicts (site, agent, seq, raw, received_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_AGENT_SEEN] =
	    "INSERT INTO agents (site, agent, last_seen) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (site, agent) DO UPDATE"
	    " SET last_seen = max(last_seen, excluded.last_seen)",
	[ST_STATUS] =
	    "INSERT INTO agents (site, agent, status, last_seen)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site, agent) DO UPDATE"
	    " SET status = excluded.status,"
	    " last_seen = max(last_seen, excluded.last_seen)",
	[ST_STATS_JSON] =
	    "INSERT INTO agents (site, agent, last_seen, stats, stats_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT (site, agent) DO UPDATE"
	    " SET stats = excluded.stats, stats_at = excluded.stats_at,"
	    " last_seen = max(last_seen, excluded.last_seen)",
	[ST_ASSET_PUT] =
	    "INSERT INTO assets (site, agent, ip, json, last_seen)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (site, agent, ip) DO UPDATE"
	    " SET json = excluded.json, last_seen = excluded.last_seen",
	[ST_ASSET_DEL] =
	    "DELETE FROM assets WHERE site = ?1 AND agent = ?2 AND ip = ?3",
	[ST_COUNT] =
	    "INSERT INTO counters (name, value) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
	[ST_COUNTER] = "SELECT value FROM counters WHERE name = ?1",
	[ST_BY_SEV] =
	    "SELECT severity, count(*) FROM alerts"
	    " WHERE ts_us >= ?1 AND ts_us < ?2 GROUP BY sev ORDER BY sev DESC",
	[ST_BY_DETECTOR] =
	    "SELECT detector, count(*) AS n FROM alerts"
	    " WHERE ts_us >= ?1 AND ts_us < ?2 GROUP BY detector"
	    " ORDER BY n DESC, detector",
	[ST_BY_AGENT] =
	    "SELECT site || '/' || agent AS k, count(*) AS n FROM alerts"
	    " WHERE ts_us >= ?1 AND ts_us < ?2 GROUP BY site, agent"
	    " ORDER BY n DESC, k",
	[ST_COUNTERS] = "SELECT name, value FROM counters ORDER BY name",
	[ST_AGENTS] =
	    "SELECT site, agent, status, last_seen, stats FROM agents"
	    " ORDER BY site, agent",
	[ST_ALERT_COUNT] = "SELECT count(*) FROM alerts",
	[ST_ASSET_COUNT] = "SELECT count(*) FROM assets",
	[ST_ASSETS] =
	    "SELECT site, agent, ip, json, last_seen FROM assets"
	    " ORDER BY site, agent, ip",
	/* chains one index seek each, rows of one chain in seq order */
	[ST_CHAIN_FIRST] =
	    "SELECT site, agent FROM alerts ORDER BY site, agent LIMIT 1",
	[ST_CHAIN_NEXT] =
	    "SELECT site, agent FROM alerts WHERE (site, agent) > (?1, ?2)"
	    " ORDER BY site, agent LIMIT 1",
	[ST_CHAIN_ROWS] =
	    "SELECT " ALERT_COLS " FROM alerts WHERE site = ?1 AND agent = ?2"
	    " AND seq > ?3 ORDER BY seq",
	[ST_CKPT_GET] =
	    "SELECT seq, hash FROM verify_checkpoints WHERE site = ?1"
	    " AND agent = ?2",
	[ST_ANCHOR_GET] =
	    "SELECT seq, hash FROM chain_anchors WHERE site = ?1 AND agent = ?2",
	[ST_CHECKPOINT] =
	    "INSERT INTO verify_checkpoints (site, agent, seq, hash, verified_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (site, agent) DO UPDATE"
	    " SET seq = excluded.seq, hash = excluded.hash,"
	    " verified_at = excluded.verified_at",
	/* the last alert of each chain that retention removes */
	[ST_RETAIN_ANCHORS] =
	    "INSERT INTO chain_anchors (site, agent, seq, hash)"
	    " SELECT site, agent, max(seq), hash FROM alerts WHERE ts_us < ?1"
	    " GROUP BY site, agent ON CONFLICT (site, agent) DO UPDATE"
	    " SET seq = excluded.seq, hash = excluded.hash"
	    " WHERE excluded.seq > chain_anchors.seq",
	[ST_RETAIN_DELETE] = "DELETE FROM alerts WHERE ts_us < ?1",
	[ST_CONFLICTS] =
	    "SELECT seq, received_at FROM conflicts WHERE site = ?1"
	    " AND agent = ?2 ORDER BY seq, id",
	[ST_AGENT_KNOWN] = "SELECT 1 FROM agents WHERE site = ?1 AND agent = ?2",
	[ST_AGENT_OTHER_SITE] =
	    "SELECT site FROM agents WHERE agent = ?2 AND site <> ?1"
	    " ORDER BY site LIMIT 1",
	[ST_V1_CONFLICTS] =
	    "SELECT id, raw, received_at FROM conflicts WHERE site = ''"
	    " ORDER BY id",
	[ST_CONFLICT_SITE] = "UPDATE conflicts SET site = ?2 WHERE id = ?1",
	[ST_CONFLICT_DEL] = "DELETE FROM conflicts WHERE id = ?1",
	[ST_SEQS_AFTER] =
	    "SELECT seq FROM alerts WHERE site = ?1 AND agent = ?2 AND seq > ?3"
	    " ORDER BY seq LIMIT ?4",
	[ST_GET_ACKED] =
	    "SELECT acked_seq FROM agents WHERE site = ?1 AND agent = ?2",
	[ST_SET_ACKED] =
	    "INSERT INTO agents (site, agent, last_seen, acked_seq)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site, agent) DO UPDATE"
	    " SET acked_seq = max(acked_seq, excluded.acked_seq)",
	[ST_SET_REPORTED] =
	    "INSERT INTO agents (site, agent, last_seen, reported_seq)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site, agent) DO UPDATE"
	    " SET reported_seq = max(reported_seq, excluded.reported_seq)",
	[ST_GET_REPORTED] =
	    "SELECT reported_seq FROM agents WHERE site = ?1 AND agent = ?2",
};

static const char *const sev_names[] = {
	"info", "low", "medium", "high", "critical"
};

/* ---- statements ------------------------------------------------------- */

sqlite3_stmt *
clog_stmt(struct central_log *db, enum st id)
{
	sqlite3_stmt *s = db->st[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(db->h, sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			return NULL;
		db->st[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows. */
int
clog_run(struct central_log *db, enum st id)
{
	sqlite3_stmt *s = clog_stmt(db, id);
	int rc;

	if (s == NULL)
		return IDS_EIO;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : IDS_EIO;
}

void
clog_bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_port(sqlite3_stmt *s, int i, int port)
{
	if (port < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int(s, i, port);
}

const char *
clog_col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
clog_col_port(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, i);
}

/* ---- severity and time ------------------------------------------------ */

int
central_log_severity_rank(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(sev_names) / sizeof(sev_names[0]); i++)
		if (strcmp(name, sev_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
central_log_severity_name(int rank)
{
	if (rank < 0 || rank >= (int)(sizeof(sev_names) / sizeof(sev_names[0])))
		return NULL;
	return sev_names[rank];
}

/* n decimal digits at *p into *v; advances *p. */
static bool
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

int
central_log_parse_time(const char *text, int64_t *us)
{
	const char *p = text;
	struct tm tm;
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0, n;
	int64_t frac = 0, secs;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		return IDS_EINVAL;
	if (*p == '\0') {
		h = mi = s = 0;		/* a bare date means its midnight UTC */
		goto done;
	}
	if (*p != 'T' && *p != 't' && *p != ' ')
		return IDS_EINVAL;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &s))
		return IDS_EINVAL;
	if (*p == '.') {
		p++;
		for (n = 0; isdigit((unsigned char)*p); n++, p++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		if (n == 0)
			return IDS_EINVAL;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return IDS_EINVAL;
	} else {
		return IDS_EINVAL;
	}
	if (*p != '\0')
		return IDS_EINVAL;
done:
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return IDS_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	/* timegm normalises Feb 30 into March: reject what moved */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return IDS_EINVAL;
	secs = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
	*us = secs * 1000000 + frac;
	return 0;
}

void
central_log_format_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN])
{
	rfc3339_format_signed(us, out, CENTRAL_LOG_TIME_LEN);
}

int64_t
central_log_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- alert parsing ---------------------------------------------------- */

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < CHAIN_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[CHAIN_HEX_LEN] == '\0';
}

/* A site or agent name is one topic level: no separators or wildcards. */
static bool
is_topic_level(const char *s)
{
	return s[0] != '\0' && strlen(s) <= 128 && strpbrk(s, "/+#") == NULL;
}

/*
 * Member name of o as a string: required (must exist and be a string),
 * or optional (absent or null gives NULL).
 */
static int
get_str(const cJSON *o, const char *name, bool required, const char **out,
    char *why, size_t whylen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (m == NULL || cJSON_IsNull(m)) {
		if (!required)
			return 0;
		snprintf(why, whylen, "member \"%s\" missing", name);
		return IDS_EMALFORMED;
	}
	if (!cJSON_IsString(m) || m->valuestring == NULL) {
		snprintf(why, whylen, "member \"%s\" is not a string", name);
		return IDS_EMALFORMED;
	}
	*out = m->valuestring;
	return 0;
}

/* Integral number within [lo, hi]. */
static bool
get_int(const cJSON *m, double lo, double hi, int64_t *v)
{
	double d;

	if (!cJSON_IsNumber(m))
		return false;
	d = m->valuedouble;
	if (!(d >= lo && d <= hi) || floor(d) != d)
		return false;
	*v = (int64_t)d;
	return true;
}

/* "src" / "dst": absent, null, or an object with optional ip and port. */
static int
get_endpoint(const cJSON *root, const char *name, const char **ip, int *port,
    char *why, size_t whylen)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, name), *p;
	int64_t v;
	int rc;

	*ip = NULL;
	*port = -1;
	if (o == NULL || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o)) {
		snprintf(why, whylen, "member \"%s\" is not an object", name);
		return IDS_EMALFORMED;
	}
	rc = get_str(o, "ip", false, ip, why, whylen);
	if (rc != 0)
		return rc;
	p = cJSON_GetObjectItemCaseSensitive(o, "port");
	if (p != NULL && !cJSON_IsNull(p)) {
		if (!get_int(p, 0, 65535, &v)) {
			snprintf(why, whylen, "%s.port is not a port number",
			    name);
			return IDS_EMALFORMED;
		}
		*port = (int)v;
	}
	return 0;
}

int
central_log_alert_parse(const char *json, size_t len,
    struct central_log_alert *a, char *why, size_t whylen)
{
	const cJSON *root = NULL, *m, *n, *last = NULL;
	char hash[CHAIN_HEX_LEN + 1];
	const char *end = NULL;
	bool hash_last = false;
	size_t body;
	int rc = IDS_EMALFORMED;

	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
	if (len == 0 || memchr(json, '\0', len) != NULL) {
		snprintf(why, whylen, len == 0 ? "empty payload" :
		    "payload contains a NUL byte");
		return IDS_EMALFORMED;
	}
	/* the plain case without a tree (clog_scan.c); else cJSON */
	rc = clog_alert_scan(json, len, a, &hash_last);
	if (rc == 0)
		goto check;
	if (rc != CLOG_SCAN_OTHER)
		return rc;
	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
	rc = IDS_EMALFORMED;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL) {
		snprintf(why, whylen, "not JSON");
		return IDS_EMALFORMED;
	}
	a->tree_ = (void *)root;
	if (end == NULL || (size_t)(end - json) != len) {
		snprintf(why, whylen, "text after the JSON object");
		goto fail;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(why, whylen, "not a JSON object");
		goto fail;
	}
	/* Two members of one name could show the topic check one value
	 * and a reader another: refuse them. */
	for (m = root->child; m != NULL; m = m->next) {
		for (n = m->next; n != NULL; n = n->next)
			if (m->string != NULL && n->string != NULL &&
			    strcmp(m->string, n->string) == 0) {
				snprintf(why, whylen, "member \"%s\" repeated",
				    m->string);
				goto fail;
			}
		last = m;
	}
	if ((rc = get_str(root, "agent", true, &a->agent, why, whylen)) ||
	    (rc = get_str(root, "site", true, &a->site, why, whylen)) ||
	    (rc = get_str(root, "ts", true, &a->ts, why, whylen)) ||
	    (rc = get_str(root, "severity", true, &a->severity, why, whylen)) ||
	    (rc = get_str(root, "detector", true, &a->detector, why, whylen)) ||
	    (rc = get_str(root, "technique", false, &a->technique, why,
	    whylen)) ||
	    (rc = get_str(root, "title", false, &a->title, why, whylen)) ||
	    (rc = get_str(root, "proto", false, &a->proto, why, whylen)) ||
	    (rc = get_str(root, "prev_hash", true, &a->prev_hash, why,
	    whylen)) ||
	    (rc = get_str(root, "hash", true, &a->hash, why, whylen)) ||
	    (rc = get_endpoint(root, "src", &a->src_ip, &a->src_port, why,
	    whylen)) ||
	    (rc = get_endpoint(root, "dst", &a->dst_ip, &a->dst_port, why,
	    whylen)))
		goto fail;
	hash_last = last != NULL && last->string != NULL &&
	    strcmp(last->string, "hash") == 0;
check:
	rc = IDS_EMALFORMED;
	if (!is_topic_level(a->agent) || !is_topic_level(a->site)) {
		snprintf(why, whylen, "agent or site is empty, too long or "
		    "contains '/', '+' or '#'");
		goto fail;
	}
	if (a->detector[0] == '\0') {
		snprintf(why, whylen, "detector is empty");
		goto fail;
	}
	/* (the scanner read seq already) */
	if (root != NULL && !get_int(cJSON_GetObjectItemCaseSensitive(root,
	    "seq"), 0,
	    9007199254740992.0, &a->seq)) {
		snprintf(why, whylen, "seq is not a non-negative integer");
		goto fail;
	}
	if (central_log_parse_time(a->ts, &a->ts_us) != 0) {
		snprintf(why, whylen, "ts is not an RFC 3339 time");
		goto fail;
	}
	a->sev = central_log_severity_rank(a->severity);
	if (a->sev < 0) {
		snprintf(why, whylen, "unknown severity");
		goto fail;
	}
	if (!is_hex64(a->prev_hash) || !is_hex64(a->hash)) {
		snprintf(why, whylen, "prev_hash or hash is not 64 hex digits");
		goto fail;
	}
	if (!hash_last || chain_split(json, len, &body, hash) != 0 ||
	    strcmp(hash, a->hash) != 0) {
		snprintf(why, whylen, "hash is not the last member");
		goto fail;
	}
	return 0;
fail:
	central_log_alert_free(a);
	return rc;
}

void
central_log_alert_free(struct central_log_alert *a)
{
	if (a == NULL)
		return;
	cJSON_Delete(a->tree_);
	free(a->buf_);
	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
}

/* ---- writing ---------------------------------------------------------- */

int
central_log_begin(struct central_log *db)
{
	if (db->pg != NULL)
		return clog_pg_begin(db->pg);
	return clog_run(db, ST_BEGIN);
}

int
central_log_commit(struct central_log *db)
{
	int rc;

	if (db->pg != NULL)
		return clog_pg_commit(db->pg);
	/* what the batch's inserts left for its end, in its transaction */
	rc = clog_batch_flush(db);
	if (rc == 0)
		rc = clog_run(db, ST_COMMIT);
	clog_batch_forget(db);
	return rc;
}

int
central_log_rollback(struct central_log *db)
{
	if (db->pg != NULL)
		return clog_pg_rollback(db->pg);
	clog_batch_forget(db);
	return clog_run(db, ST_ROLLBACK);
}

int
central_log_defer_inserts(struct central_log *db, int max,
    central_log_stored_fn fn, void *ctx)
{
	if (db->pg != NULL)
		return clog_pg_defer_inserts(db->pg, max, fn, ctx);
	return 0;
}

/*
 * Each write runs inside SAVEPOINT cl: atomic on its own, and nested
 * inside the caller's transaction when there is one.
 */
int
clog_sp_begin(struct central_log *db)
{
	return clog_run(db, ST_SAVEPOINT);
}

int
clog_sp_end(struct central_log *db, int rc)
{
	if (rc == 0 && clog_run(db, ST_RELEASE) == 0)
		return 0;
	clog_run(db, ST_ROLLBACK_TO);
	clog_run(db, ST_RELEASE);
	return rc != 0 ? rc : IDS_EIO;
}

int
clog_count(struct central_log *db, const char *name, int64_t delta)
{
	sqlite3_stmt *s = clog_stmt(db, ST_COUNT);

	if (s == NULL)
		return IDS_EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, delta);
	return sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
}

/*
 * Before (site, agent) first appears in agents: when the same agent name is
 * already known at another site, leave a notice for the caller.  Both are
 * kept as distinct agents; the operator should hear that names repeat.
 */
int
clog_check_new_agent(struct central_log *db, const char *site, const char *agent)
{
	sqlite3_stmt *s = clog_stmt(db, ST_AGENT_KNOWN);
	int rc;

	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return IDS_EIO;
	s = clog_stmt(db, ST_AGENT_OTHER_SITE);
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(db->notice, sizeof(db->notice), "agent name '%s' "
		    "reports from site '%s' and also from '%s'; kept as two "
		    "agents, %s/%s and %s/%s", agent, site, clog_col_str(s, 0),
		    clog_col_str(s, 0), agent, site, agent);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

const char *
central_log_notice(struct central_log *db, char *buf, size_t len)
{
	if (db->pg != NULL)
		return clog_pg_notice(db->pg, buf, len);
	if (db->notice[0] == '\0')
		return NULL;
	snprintf(buf, len, "%s", db->notice);
	db->notice[0] = '\0';
	return buf;
}

int
clog_insert_row(struct central_log *db, const struct central_log_alert *a,
    const char *json, size_t len, const char *received,
    enum central_log_stored *res)
{
	sqlite3_stmt *s;
	const void *old;
	int rc;

	s = clog_stmt(db, ST_INSERT);
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, a->agent);
	sqlite3_bind_int64(s, 2, a->seq);
	clog_bind_str(s, 3, a->site);
	clog_bind_str(s, 4, a->ts);
	sqlite3_bind_int64(s, 5, a->ts_us);
	clog_bind_str(s, 6, a->severity);
	sqlite3_bind_int(s, 7, a->sev);
	clog_bind_str(s, 8, a->detector);
	clog_bind_str(s, 9, a->technique);
	clog_bind_str(s, 10, a->title);
	clog_bind_str(s, 11, a->proto);
	clog_bind_str(s, 12, a->src_ip);
	bind_port(s, 13, a->src_port);
	clog_bind_str(s, 14, a->dst_ip);
	bind_port(s, 15, a->dst_port);
	clog_bind_str(s, 16, a->prev_hash);
	clog_bind_str(s, 17, a->hash);
	sqlite3_bind_text(s, 18, json, (int)len, SQLITE_STATIC);
	clog_bind_str(s, 19, received);
	if (sqlite3_step(s) != SQLITE_DONE)
		return IDS_EIO;
	sqlite3_reset(s);
	if (sqlite3_changes(db->h) == 1) {
		*res = CENTRAL_LOG_NEW;
		/* in a batch: counted and noted at commit (central_log_batch.c) */
		if (db->defer) {
			db->pend_stored++;
			rc = 0;
		} else {
			rc = clog_count(db, "stored", 1);
		}
		if (rc == 0 && chain_check(a->prev_hash, json, len) != 0)
			rc = clog_count(db, "bad_hash", 1);
		if (rc == 0 && db->defer && clog_batch_seen(db, a->site, a->agent,
		    received))
			return 0;
		if (rc == 0)
			rc = clog_check_new_agent(db, a->site, a->agent);
		if (rc == 0) {
			s = clog_stmt(db, ST_AGENT_SEEN);
			if (s == NULL)
				return IDS_EIO;
			clog_bind_str(s, 1, a->site);
			clog_bind_str(s, 2, a->agent);
			clog_bind_str(s, 3, received);
			rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		}
		if (rc == 0 && db->defer)
			clog_batch_note(db, a->site, a->agent, received);
		return rc;
	}
	/* Already there: the same bytes again, or a different alert. */
	s = clog_stmt(db, ST_SELECT_RAW);
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, a->site);
	clog_bind_str(s, 2, a->agent);
	sqlite3_bind_int64(s, 3, a->seq);
	if (sqlite3_step(s) != SQLITE_ROW)
		return IDS_EIO;
	old = sqlite3_column_blob(s, 0);
	if ((size_t)sqlite3_column_bytes(s, 0) == len &&
	    (len == 0 || memcmp(old, json, len) == 0)) {
		sqlite3_reset(s);
		*res = CENTRAL_LOG_DUPLICATE;
		return clog_count(db, "duplicates", 1);
	}
	sqlite3_reset(s);
	*res = CENTRAL_LOG_CONFLICT;
	s = clog_stmt(db, ST_INSERT_CONFLICT);
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, a->site);
	clog_bind_str(s, 2, a->agent);
	sqlite3_bind_int64(s, 3, a->seq);
	sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
	clog_bind_str(s, 5, received);
	if (sqlite3_step(s) != SQLITE_DONE)
		return IDS_EIO;
	return clog_count(db, "conflicts", 1);
}

int
central_log_insert(struct central_log *db, const struct central_log_alert *a,
    const char *json, size_t len, int64_t received_us,
    enum central_log_stored *res)
{
	char received[CENTRAL_LOG_TIME_LEN];
	int64_t pend;
	bool outer;
	int rc;

	if (db->pg != NULL)
		return clog_pg_insert(db->pg, a, json, len, received_us, res);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	central_log_format_time(received_us, received);
	/* inside the caller's transaction (the savepoint nests in it)? */
	outer = !sqlite3_get_autocommit(db->h);
	rc = clog_sp_begin(db);
	if (rc != 0)
		return rc;
	db->defer = outer;
	pend = db->pend_stored;
	rc = clog_sp_end(db, clog_insert_row(db, a, json, len, received, res));
	if (rc != 0 && db->defer) {
		/* rolled back to the savepoint: nothing of it was counted */
		clog_batch_forget(db);
		db->pend_stored = pend;
	}
	db->defer = false;
	return rc;
}
