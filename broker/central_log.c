/*
 * central_log.c - SQLite (WAL) central alert log (DESIGN.md "Central log").
 *
 * Rows keep the alert's exact bytes (raw) next to indexed columns derived
 * from them, so a query never parses JSON and verify can tell when the two
 * disagree.  All SQL is constant text prepared on first use and cached.
 */
#include "broker/central_log.h"

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
#include "lib/chain.h"
#include "lib/ids.h"
#include "lib/ipnet.h"

/*
 * Version 2.  Times are RFC 3339 text (sortable, readable in the sqlite3
 * shell); ts_us repeats ts as an integer for range queries.  sev is the
 * severity's rank so "at least medium" is one index range.  An agent is
 * known by (site, agent): two gateways named gw-01 at two plants are two
 * agents with two chains (version 1 keyed alerts on (agent, seq) alone, so
 * the second plant's alerts were filed as conflicts and never shown).
 */
#define SCHEMA_ALERTS \
	"CREATE TABLE alerts (" \
	" id          INTEGER PRIMARY KEY," \
	" agent       TEXT    NOT NULL," \
	" seq         INTEGER NOT NULL," \
	" site        TEXT    NOT NULL," \
	" ts          TEXT    NOT NULL," \
	" ts_us       INTEGER NOT NULL," \
	" severity    TEXT    NOT NULL," \
	" sev         INTEGER NOT NULL," \
	" detector    TEXT    NOT NULL," \
	" technique   TEXT," \
	" title       TEXT," \
	" proto       TEXT," \
	" src_ip      TEXT," \
	" src_port    INTEGER," \
	" dst_ip      TEXT," \
	" dst_port    INTEGER," \
	" prev_hash   TEXT    NOT NULL," \
	" hash        TEXT    NOT NULL," \
	" raw         TEXT    NOT NULL," \
	" received_at TEXT    NOT NULL," \
	" UNIQUE (site, agent, seq));" \
	"CREATE INDEX alerts_ts        ON alerts (ts_us);" \
	"CREATE INDEX alerts_sev       ON alerts (sev, ts_us);" \
	"CREATE INDEX alerts_detector  ON alerts (detector, ts_us);" \
	"CREATE INDEX alerts_technique ON alerts (technique, ts_us);" \
	"CREATE INDEX alerts_site      ON alerts (site, agent, ts_us);" \
	"CREATE INDEX alerts_proto     ON alerts (proto, ts_us);" \
	"CREATE INDEX alerts_src       ON alerts (src_ip);" \
	"CREATE INDEX alerts_dst       ON alerts (dst_ip);" \
	/* A different alert offered under a stored (site, agent, seq). */ \
	"CREATE TABLE conflicts (" \
	" id          INTEGER PRIMARY KEY," \
	" site        TEXT    NOT NULL," \
	" agent       TEXT    NOT NULL," \
	" seq         INTEGER NOT NULL," \
	" raw         TEXT    NOT NULL," \
	" received_at TEXT    NOT NULL);" \
	"CREATE INDEX conflicts_agent ON conflicts (site, agent, seq);"

static const char schema_v2[] =
	SCHEMA_ALERTS
	"CREATE TABLE agents ("
	" site        TEXT NOT NULL,"
	" agent       TEXT NOT NULL,"
	" status      TEXT,"
	" last_seen   TEXT NOT NULL,"
	" stats       TEXT,"
	" stats_at    TEXT,"
	/* highest seq with every seq 1..acked_seq stored (the end-to-end
	 * ack the collector publishes); the agent's own last seq, from its
	 * stats (what verify expects at least) */
	" acked_seq   INTEGER NOT NULL DEFAULT 0,"
	" reported_seq INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (site, agent)) WITHOUT ROWID;"
	"CREATE TABLE assets ("
	" site        TEXT NOT NULL,"
	" agent       TEXT NOT NULL,"
	" ip          TEXT NOT NULL,"
	" json        TEXT NOT NULL,"
	" last_seen   TEXT NOT NULL,"
	" PRIMARY KEY (site, agent, ip)) WITHOUT ROWID;"
	"CREATE TABLE counters ("
	" name        TEXT PRIMARY KEY,"
	" value       INTEGER NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 2;";

/*
 * Version 1 -> 2 in place: the alerts and conflicts tables are rebuilt
 * under the new key with every row and id kept (a tail's position stays
 * valid); agents, assets and counters were already keyed by site.  The
 * conflicts' site comes from their own JSON afterwards (migrate_v1()).
 */
static const char migrate_v1_sql[] =
	"DROP INDEX alerts_ts; DROP INDEX alerts_sev; DROP INDEX alerts_detector;"
	"DROP INDEX alerts_technique; DROP INDEX alerts_site;"
	"DROP INDEX alerts_proto; DROP INDEX alerts_src; DROP INDEX alerts_dst;"
	"DROP INDEX conflicts_agent;"
	"ALTER TABLE alerts RENAME TO alerts_v1;"
	"ALTER TABLE conflicts RENAME TO conflicts_v1;"
	SCHEMA_ALERTS
	"INSERT INTO alerts (id, agent, seq, site, ts, ts_us, severity, sev,"
	" detector, technique, title, proto, src_ip, src_port, dst_ip, dst_port,"
	" prev_hash, hash, raw, received_at)"
	" SELECT id, agent, seq, site, ts, ts_us, severity, sev, detector,"
	" technique, title, proto, src_ip, src_port, dst_ip, dst_port,"
	" prev_hash, hash, raw, received_at FROM alerts_v1 ORDER BY id;"
	"INSERT INTO conflicts (id, site, agent, seq, raw, received_at)"
	" SELECT id, '', agent, seq, raw, received_at FROM conflicts_v1"
	" ORDER BY id;"
	"DROP TABLE alerts_v1; DROP TABLE conflicts_v1;"
	"ALTER TABLE agents ADD COLUMN acked_seq INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE agents ADD COLUMN reported_seq INTEGER NOT NULL DEFAULT 0;";

/*
 * Version 2 -> 3: indexes for the queries clog_query.h builds (an agent
 * filter names the agent, usually without its site, often with a time:
 * (agent, ts_us) serves it, where (site, agent, ts_us) served no query;
 * a site is one of a few, and the unique (site, agent, seq) covers it),
 * per-agent verify checkpoints and the anchors retention leaves behind.
 */
static const char migrate_v2_sql[] =
	"DROP INDEX IF EXISTS alerts_site;"
	"CREATE INDEX alerts_agent ON alerts (agent, ts_us);"
	"CREATE TABLE verify_checkpoints ("
	" site        TEXT    NOT NULL,"
	" agent       TEXT    NOT NULL,"
	" seq         INTEGER NOT NULL,"
	" hash        TEXT    NOT NULL,"
	" verified_at TEXT    NOT NULL,"
	" PRIMARY KEY (site, agent)) WITHOUT ROWID;"
	"CREATE TABLE chain_anchors ("
	" site        TEXT    NOT NULL,"
	" agent       TEXT    NOT NULL,"
	" seq         INTEGER NOT NULL,"
	" hash        TEXT    NOT NULL,"
	" PRIMARY KEY (site, agent)) WITHOUT ROWID;"
	"PRAGMA user_version = 3;";

#define ALERT_COLS \
	"id, agent, seq, site, ts, ts_us, severity, sev, detector, technique," \
	" title, proto, src_ip, src_port, dst_ip, dst_port, prev_hash, hash," \
	" raw, received_at"

enum st {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_USER_VERSION,
	ST_INSERT, ST_SELECT_RAW, ST_INSERT_CONFLICT, ST_AGENT_SEEN,
	ST_STATUS, ST_STATS_JSON, ST_ASSET_PUT, ST_ASSET_DEL,
	ST_COUNT, ST_COUNTER,
	ST_BY_SEV, ST_BY_DETECTOR, ST_BY_AGENT,
	ST_COUNTERS, ST_AGENTS, ST_ALERT_COUNT, ST_ASSET_COUNT, ST_ASSETS,
	ST_CHAIN_FIRST, ST_CHAIN_NEXT, ST_CHAIN_ROWS, ST_CKPT_GET,
	ST_ANCHOR_GET, ST_CHECKPOINT, ST_RETAIN_ANCHORS, ST_RETAIN_DELETE,
	ST_CONFLICTS, ST_AGENT_KNOWN, ST_AGENT_OTHER_SITE,
	ST_V1_CONFLICTS, ST_CONFLICT_SITE, ST_CONFLICT_DEL,
	ST_SEQS_AFTER, ST_GET_ACKED, ST_SET_ACKED, ST_SET_REPORTED,
	ST_GET_REPORTED,
	ST_N
};

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

/* Statements built from filters (clog_query.h), one per shape. */
#define QCACHE	32

struct central_log {
	struct clog_pg	*pg;		/* non-NULL: PostgreSQL, h unused */
	sqlite3		*h;
	sqlite3_stmt	*st[ST_N];
	struct {
		uint32_t	 shape;
		sqlite3_stmt	*s;
	}		 q[QCACHE];
	int		 nq;
	char		 errbuf[256];
	char		 notice[512];	/* pending, for central_log_notice() */
};

static const char *const sev_names[] = {
	"info", "low", "medium", "high", "critical"
};

/* ---- statements ------------------------------------------------------- */

static sqlite3_stmt *
stmt(struct central_log *db, enum st id)
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
static int
run(struct central_log *db, enum st id)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc;

	if (s == NULL)
		return IDS_EIO;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : IDS_EIO;
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
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

static const char *
col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int
col_port(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, i);
}

/* ---- open / close ----------------------------------------------------- */

const char *
central_log_errmsg(const struct central_log *db)
{
	if (db != NULL && db->pg != NULL)
		return clog_pg_errmsg(db->pg);
	return db != NULL && db->h != NULL ? sqlite3_errmsg(db->h) :
	    "no database";
}

bool
central_log_is_url(const char *path)
{
	return clog_pg_is_uri(path);
}

static int
user_version(struct central_log *db, int *v)
{
	sqlite3_stmt *s = stmt(db, ST_USER_VERSION);

	if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
		return IDS_EIO;
	*v = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return 0;
}

static int	migrate_v1(struct central_log *db);

/* icsentry_in_cidr(ip, net): 1 when ip is inside net (lib/ipnet.h). */
static void
sql_in_cidr(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	const unsigned char *net = sqlite3_value_text(argv[1]);

	(void)argc;
	sqlite3_result_int(c, ip != NULL && net != NULL &&
	    ipnet_contains((const char *)net, (const char *)ip));
}

static int
migrate_v2(struct central_log *db)
{
	return sqlite3_exec(db->h, migrate_v2_sql, NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : IDS_EIO;
}

static int
create_schema(struct central_log *db, const char *path, char *err,
    size_t errlen)
{
	int v, rc;

	if (run(db, ST_BEGIN) != 0)
		goto fail;
	if (user_version(db, &v) != 0)
		goto fail_tx;
	if (v == 0) {
		rc = sqlite3_exec(db->h, schema_v2, NULL, NULL, NULL);
		if (rc != SQLITE_OK || migrate_v2(db) != 0)
			goto fail_tx;
	} else if (v == 1) {
		/* one transaction: a failed upgrade leaves version 1 intact */
		if (migrate_v1(db) != 0 || migrate_v2(db) != 0)
			goto fail_tx;
	} else if (v == 2) {
		if (migrate_v2(db) != 0)
			goto fail_tx;
	} else if (v > CENTRAL_LOG_SCHEMA) {
		run(db, ST_ROLLBACK);
		snprintf(err, errlen, "%s: schema version %d is newer than "
		    "this program's (%d)", path, v, CENTRAL_LOG_SCHEMA);
		return IDS_EINVAL;
	}
	if (run(db, ST_COMMIT) != 0)
		goto fail_tx;
	return 0;
fail_tx:
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->h));
	run(db, ST_ROLLBACK);
	return IDS_EIO;
fail:
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->h));
	return IDS_EIO;
}

int
central_log_open(const char *path, enum central_log_mode mode,
    enum central_log_sync sync, struct central_log **out, char *err,
    size_t errlen)
{
	struct central_log *db;
	int flags, v, rc;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return IDS_ENOMEM;
	}
	if (clog_pg_is_uri(path)) {
		rc = clog_pg_open(path, mode, sync, &db->pg, err, errlen);
		if (rc != 0) {
			free(db);
			return rc;
		}
		goto done;
	}
	flags = SQLITE_OPEN_FULLMUTEX | (mode == CENTRAL_LOG_RDWR ?
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db->h != NULL ?
		    sqlite3_errmsg(db->h) : "cannot open");
		rc = IDS_EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	/* Readers wait out a writer's checkpoint instead of failing. */
	sqlite3_busy_timeout(db->h, 10000);
	/* The file may have been edited by someone else: no trusted SQL. */
	sqlite3_exec(db->h, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
	/*
	 * Readers (query, stats, verify, tail) map the file instead of
	 * copying every page through pread: a full verify reads it all.
	 */
	if (mode != CENTRAL_LOG_RDWR)
		sqlite3_exec(db->h, "PRAGMA mmap_size = 2147418112", NULL,
		    NULL, NULL);
	if (mode == CENTRAL_LOG_RDWR) {
		if (sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL,
		    NULL) != SQLITE_OK ||
		    sqlite3_exec(db->h, sync == CENTRAL_LOG_SYNC_FULL ?
		    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
		    NULL, NULL, NULL) != SQLITE_OK ||
		    /* the kept WAL (below) shrinks back to this after use */
		    sqlite3_exec(db->h, "PRAGMA journal_size_limit = 16777216",
		    NULL, NULL, NULL) != SQLITE_OK ||
		    /*
		     * Each write's SAVEPOINT journals the pages it changes:
		     * in memory, not a temp file (perf: ~48 KB of pwrite per
		     * alert); and a batch's pages stay cached until commit.
		     * Durability is the WAL's, which neither touches.
		     */
		    sqlite3_exec(db->h, "PRAGMA temp_store = MEMORY", NULL,
		    NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db->h, "PRAGMA cache_size = -65536", NULL,
		    NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path,
			    sqlite3_errmsg(db->h));
			rc = IDS_EIO;
			goto fail;
		}
		rc = create_schema(db, path, err, errlen);
		if (rc != 0)
			goto fail;
		/*
		 * Keep -wal and -shm when we close: a reader without write
		 * access to the directory (a SOC operator) cannot create
		 * them, and cannot open a WAL database without them.
		 */
		v = 1;
		sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL,
		    &v);
	} else {
		if (user_version(db, &v) != 0) {
			snprintf(err, errlen, "%s: %s", path,
			    sqlite3_errmsg(db->h));
			rc = IDS_EIO;
			goto fail;
		}
		if (v != CENTRAL_LOG_SCHEMA) {
			snprintf(err, errlen, v == 0 ?
			    "%s: not an icsentry central log (no schema)" :
			    v < CENTRAL_LOG_SCHEMA ? "%s: schema version %d is "
			    "older than this program's: start icsentry-collector "
			    "once on it (it upgrades the log in place)" :
			    "%s: unsupported schema version %d", path, v);
			rc = IDS_EINVAL;
			goto fail;
		}
	}
	/* --ip 10.10.1.0/24 (clog_query.c); PostgreSQL: clog_triage_pg.c */
	if (sqlite3_create_function(db->h, "icsentry_in_cidr", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    sql_in_cidr, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->h));
		rc = IDS_EIO;
		goto fail;
	}
done:
	*out = db;
	return 0;
fail:
	central_log_close(db);
	return rc;
}

int
central_log_backend(struct central_log *db, void **sqlite, void **pgconn)
{
	*sqlite = NULL;
	*pgconn = NULL;
	if (db->pg == NULL) {
		*sqlite = db->h;
		return 0;
	}
	*pgconn = clog_pg_conn(db->pg);
	return *pgconn != NULL ? 1 : IDS_EIO;
}

void
central_log_close(struct central_log *db)
{
	size_t i;

	if (db == NULL)
		return;
	clog_pg_close(db->pg);
	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(db->st[i]);
	for (i = 0; i < (size_t)db->nq; i++)
		sqlite3_finalize(db->q[i].s);
	sqlite3_close(db->h);
	free(db);
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
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, CENTRAL_LOG_TIME_LEN, "(bad time)");
		return;
	}
	/* the modulos only tell the compiler the field widths */
	snprintf(out, CENTRAL_LOG_TIME_LEN,
	    "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000000u);
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
	const cJSON *root, *m, *n, *last = NULL;
	char hash[CHAIN_HEX_LEN + 1];
	const char *end = NULL;
	size_t body;
	int rc = IDS_EMALFORMED;

	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
	if (len == 0 || memchr(json, '\0', len) != NULL) {
		snprintf(why, whylen, len == 0 ? "empty payload" :
		    "payload contains a NUL byte");
		return IDS_EMALFORMED;
	}
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
	if (!get_int(cJSON_GetObjectItemCaseSensitive(root, "seq"), 0,
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
	if (last == NULL || last->string == NULL ||
	    strcmp(last->string, "hash") != 0 ||
	    chain_split(json, len, &body, hash) != 0 ||
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
	memset(a, 0, sizeof(*a));
	a->src_port = a->dst_port = -1;
}

/* ---- writing ---------------------------------------------------------- */

int
central_log_begin(struct central_log *db)
{
	if (db->pg != NULL)
		return clog_pg_begin(db->pg);
	return run(db, ST_BEGIN);
}

int
central_log_commit(struct central_log *db)
{
	if (db->pg != NULL)
		return clog_pg_commit(db->pg);
	return run(db, ST_COMMIT);
}

int
central_log_rollback(struct central_log *db)
{
	if (db->pg != NULL)
		return clog_pg_rollback(db->pg);
	return run(db, ST_ROLLBACK);
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
static int
sp_begin(struct central_log *db)
{
	return run(db, ST_SAVEPOINT);
}

static int
sp_end(struct central_log *db, int rc)
{
	if (rc == 0 && run(db, ST_RELEASE) == 0)
		return 0;
	run(db, ST_ROLLBACK_TO);
	run(db, ST_RELEASE);
	return rc != 0 ? rc : IDS_EIO;
}

static int
count(struct central_log *db, const char *name, int64_t delta)
{
	sqlite3_stmt *s = stmt(db, ST_COUNT);

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
static int
check_new_agent(struct central_log *db, const char *site, const char *agent)
{
	sqlite3_stmt *s = stmt(db, ST_AGENT_KNOWN);
	int rc;

	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return IDS_EIO;
	s = stmt(db, ST_AGENT_OTHER_SITE);
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(db->notice, sizeof(db->notice), "agent name '%s' "
		    "reports from site '%s' and also from '%s'; kept as two "
		    "agents, %s/%s and %s/%s", agent, site, col_str(s, 0),
		    col_str(s, 0), agent, site, agent);
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

static int
insert_row(struct central_log *db, const struct central_log_alert *a,
    const char *json, size_t len, const char *received,
    enum central_log_stored *res)
{
	sqlite3_stmt *s;
	const void *old;
	int rc;

	s = stmt(db, ST_INSERT);
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, a->agent);
	sqlite3_bind_int64(s, 2, a->seq);
	bind_str(s, 3, a->site);
	bind_str(s, 4, a->ts);
	sqlite3_bind_int64(s, 5, a->ts_us);
	bind_str(s, 6, a->severity);
	sqlite3_bind_int(s, 7, a->sev);
	bind_str(s, 8, a->detector);
	bind_str(s, 9, a->technique);
	bind_str(s, 10, a->title);
	bind_str(s, 11, a->proto);
	bind_str(s, 12, a->src_ip);
	bind_port(s, 13, a->src_port);
	bind_str(s, 14, a->dst_ip);
	bind_port(s, 15, a->dst_port);
	bind_str(s, 16, a->prev_hash);
	bind_str(s, 17, a->hash);
	sqlite3_bind_text(s, 18, json, (int)len, SQLITE_STATIC);
	bind_str(s, 19, received);
	if (sqlite3_step(s) != SQLITE_DONE)
		return IDS_EIO;
	sqlite3_reset(s);
	if (sqlite3_changes(db->h) == 1) {
		*res = CENTRAL_LOG_NEW;
		rc = count(db, "stored", 1);
		if (rc == 0 && chain_check(a->prev_hash, json, len) != 0)
			rc = count(db, "bad_hash", 1);
		if (rc == 0)
			rc = check_new_agent(db, a->site, a->agent);
		if (rc == 0) {
			s = stmt(db, ST_AGENT_SEEN);
			if (s == NULL)
				return IDS_EIO;
			bind_str(s, 1, a->site);
			bind_str(s, 2, a->agent);
			bind_str(s, 3, received);
			rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		}
		return rc;
	}
	/* Already there: the same bytes again, or a different alert. */
	s = stmt(db, ST_SELECT_RAW);
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, a->site);
	bind_str(s, 2, a->agent);
	sqlite3_bind_int64(s, 3, a->seq);
	if (sqlite3_step(s) != SQLITE_ROW)
		return IDS_EIO;
	old = sqlite3_column_blob(s, 0);
	if ((size_t)sqlite3_column_bytes(s, 0) == len &&
	    (len == 0 || memcmp(old, json, len) == 0)) {
		sqlite3_reset(s);
		*res = CENTRAL_LOG_DUPLICATE;
		return count(db, "duplicates", 1);
	}
	sqlite3_reset(s);
	*res = CENTRAL_LOG_CONFLICT;
	s = stmt(db, ST_INSERT_CONFLICT);
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, a->site);
	bind_str(s, 2, a->agent);
	sqlite3_bind_int64(s, 3, a->seq);
	sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
	bind_str(s, 5, received);
	if (sqlite3_step(s) != SQLITE_DONE)
		return IDS_EIO;
	return count(db, "conflicts", 1);
}

int
central_log_insert(struct central_log *db, const struct central_log_alert *a,
    const char *json, size_t len, int64_t received_us,
    enum central_log_stored *res)
{
	char received[CENTRAL_LOG_TIME_LEN];
	int rc;

	if (db->pg != NULL)
		return clog_pg_insert(db->pg, a, json, len, received_us, res);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	central_log_format_time(received_us, received);
	rc = sp_begin(db);
	if (rc != 0)
		return rc;
	return sp_end(db, insert_row(db, a, json, len, received, res));
}

struct v1_conflict {
	int64_t	 id;
	char	*raw, *received;
};

/*
 * The rest of the version 1 -> 2 upgrade, inside create_schema()'s
 * transaction.  A version 1 conflict whose JSON names another site than
 * the stored alert of its (agent, seq) was no conflict at all: it was a
 * second agent of the same name, refused by the old key.  It becomes the
 * stored alert of its own (site, agent, seq) now; a real conflict stays
 * a conflict and gets its site.
 */
static int
migrate_v1(struct central_log *db)
{
	struct v1_conflict *v = NULL, *nv;
	struct central_log_alert a;
	enum central_log_stored res;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *s;
	char why[128];
	int rc = 0, step;

	if (sqlite3_exec(db->h, migrate_v1_sql, NULL, NULL, NULL) != SQLITE_OK)
		return IDS_EIO;
	s = stmt(db, ST_V1_CONFLICTS);
	if (s == NULL)
		return IDS_EIO;
	/* read them all first: the loop below changes the table */
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = IDS_ENOMEM;
				break;
			}
			v = nv;
		}
		v[n].id = sqlite3_column_int64(s, 0);
		v[n].raw = strdup(col_str(s, 1) != NULL ? col_str(s, 1) : "");
		v[n].received = strdup(col_str(s, 2) != NULL ? col_str(s, 2) :
		    "");
		n++;
		if (v[n - 1].raw == NULL || v[n - 1].received == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
	}
	sqlite3_reset(s);
	if (rc == 0 && step != SQLITE_DONE)
		rc = IDS_EIO;
	for (i = 0; rc == 0 && i < n; i++) {
		if (central_log_alert_parse(v[i].raw, strlen(v[i].raw), &a, why,
		    sizeof(why)) != 0)
			continue;	/* cannot be: stays, site '' */
		s = stmt(db, ST_SELECT_RAW);
		if (s == NULL) {
			rc = IDS_EIO;
		} else {
			bind_str(s, 1, a.site);
			bind_str(s, 2, a.agent);
			sqlite3_bind_int64(s, 3, a.seq);
			step = sqlite3_step(s);
			sqlite3_reset(s);
			if (step == SQLITE_ROW) {
				s = stmt(db, ST_CONFLICT_SITE);
				if (s == NULL)
					rc = IDS_EIO;
				else {
					sqlite3_bind_int64(s, 1, v[i].id);
					bind_str(s, 2, a.site);
					rc = sqlite3_step(s) == SQLITE_DONE ?
					    0 : IDS_EIO;
				}
			} else if (step != SQLITE_DONE) {
				rc = IDS_EIO;
			} else {
				rc = insert_row(db, &a, v[i].raw,
				    strlen(v[i].raw), v[i].received, &res);
				if (rc == 0)
					rc = count(db, "conflicts", -1);
				if (rc == 0)
					rc = count(db, "recovered_by_upgrade",
					    1);
				s = rc == 0 ? stmt(db, ST_CONFLICT_DEL) : NULL;
				if (rc == 0 && s == NULL)
					rc = IDS_EIO;
				if (rc == 0) {
					sqlite3_bind_int64(s, 1, v[i].id);
					rc = sqlite3_step(s) == SQLITE_DONE ?
					    0 : IDS_EIO;
				}
			}
			if (s != NULL)
				sqlite3_reset(s);
		}
		central_log_alert_free(&a);
	}
	for (i = 0; i < n; i++) {
		free(v[i].raw);
		free(v[i].received);
	}
	free(v);
	if (rc == 0 && sqlite3_exec(db->h, "PRAGMA user_version = 2", NULL,
	    NULL, NULL) != SQLITE_OK)
		rc = IDS_EIO;
	return rc;
}

/* One statement inside its own savepoint. */
static int
step_one(struct central_log *db, sqlite3_stmt *s)
{
	int rc;

	rc = sp_begin(db);
	if (rc != 0)
		return rc;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_reset(s);
	return sp_end(db, rc);
}

int
central_log_agent_status(struct central_log *db, const char *site,
    const char *agent, const char *status, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_agent_status(db->pg, site, agent, status, at_us);
	if (check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = stmt(db, ST_STATUS);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(at_us, at);
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	bind_str(s, 3, status);
	bind_str(s, 4, at);
	return step_one(db, s);
}

int
central_log_agent_stats(struct central_log *db, const char *site,
    const char *agent, const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_agent_stats(db->pg, site, agent, json, len, at_us);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	if (check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = stmt(db, ST_STATS_JSON);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(at_us, at);
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	bind_str(s, 3, at);
	sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
	return step_one(db, s);
}

int
central_log_asset(struct central_log *db, const char *site, const char *agent,
    const char *ip, const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_asset(db->pg, site, agent, ip, json, len, at_us);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	s = stmt(db, json == NULL || len == 0 ? ST_ASSET_DEL : ST_ASSET_PUT);
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	bind_str(s, 3, ip);
	if (json != NULL && len > 0) {
		central_log_format_time(at_us, at);
		sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
		bind_str(s, 5, at);
	}
	return step_one(db, s);
}

int
central_log_count(struct central_log *db, const char *name, int64_t delta)
{
	int rc;

	if (db->pg != NULL)
		return clog_pg_count(db->pg, name, delta);
	rc = sp_begin(db);
	if (rc != 0)
		return rc;
	rc = count(db, name, delta);
	sqlite3_reset(db->st[ST_COUNT]);
	return sp_end(db, rc);
}

int
central_log_counter(struct central_log *db, const char *name, int64_t *value)
{
	sqlite3_stmt *s;
	int rc;

	if (db->pg != NULL)
		return clog_pg_counter(db->pg, name, value);
	s = stmt(db, ST_COUNTER);
	*value = 0;
	if (s == NULL)
		return IDS_EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/* ---- end-to-end acknowledgement -------------------------------------- */

int
central_log_contiguous(struct central_log *db, const char *site,
    const char *agent, int64_t from, int64_t *out)
{
	sqlite3_stmt *s;
	int64_t cur = from, seq;
	int rc, rows;

	if (db->pg != NULL)
		return clog_pg_contiguous(db->pg, site, agent, from, out);
	*out = from;
	for (;;) {
		s = stmt(db, ST_SEQS_AFTER);
		if (s == NULL)
			return IDS_EIO;
		bind_str(s, 1, site);
		bind_str(s, 2, agent);
		sqlite3_bind_int64(s, 3, cur);
		sqlite3_bind_int64(s, 4, 512);
		rows = 0;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			seq = sqlite3_column_int64(s, 0);
			if (seq != cur + 1)
				break;
			cur = seq;
			rows++;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return IDS_EIO;
		/* stopped at a gap, or at the end of what is stored */
		if (rc == SQLITE_ROW || rows < 512)
			break;
	}
	*out = cur;
	return 0;
}

int
central_log_next_seq(struct central_log *db, const char *site,
    const char *agent, int64_t after, int64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	if (db->pg != NULL)
		return clog_pg_next_seq(db->pg, site, agent, after, out);
	s = stmt(db, ST_SEQS_AFTER);
	*out = -1;
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	sqlite3_bind_int64(s, 3, after);
	sqlite3_bind_int64(s, 4, 1);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
get_agent_int(struct central_log *db, enum st id, const char *site,
    const char *agent, int64_t *out)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc;

	*out = 0;
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
set_agent_int(struct central_log *db, enum st id, const char *site,
    const char *agent, int64_t v)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = stmt(db, id);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(central_log_now_us(), at);
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	bind_str(s, 3, at);
	sqlite3_bind_int64(s, 4, v);
	return step_one(db, s);
}

int
central_log_acked(struct central_log *db, const char *site,
    const char *agent, int64_t *seq)
{
	if (db->pg != NULL)
		return clog_pg_agent_int(db->pg, false, site, agent, seq);
	return get_agent_int(db, ST_GET_ACKED, site, agent, seq);
}

int
central_log_set_acked(struct central_log *db, const char *site,
    const char *agent, int64_t seq)
{
	if (db->pg != NULL)
		return clog_pg_set_agent_int(db->pg, false, site, agent, seq);
	return set_agent_int(db, ST_SET_ACKED, site, agent, seq);
}

int
central_log_reported(struct central_log *db, const char *site,
    const char *agent, int64_t *seq)
{
	if (db->pg != NULL)
		return clog_pg_agent_int(db->pg, true, site, agent, seq);
	return get_agent_int(db, ST_GET_REPORTED, site, agent, seq);
}

int
central_log_set_reported(struct central_log *db, const char *site,
    const char *agent, int64_t seq)
{
	if (db->pg != NULL)
		return clog_pg_set_agent_int(db->pg, true, site, agent, seq);
	return set_agent_int(db, ST_SET_REPORTED, site, agent, seq);
}

/* ---- reading ---------------------------------------------------------- */

void
central_log_filter_init(struct central_log_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_us = INT64_MIN;
	f->until_us = INT64_MAX;
	f->after_id = -1;
}

static void
fill_row(sqlite3_stmt *s, struct central_log_row *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->agent = col_str(s, 1);
	r->seq = sqlite3_column_int64(s, 2);
	r->site = col_str(s, 3);
	r->ts = col_str(s, 4);
	r->ts_us = sqlite3_column_int64(s, 5);
	r->severity = col_str(s, 6);
	r->sev = sqlite3_column_int(s, 7);
	r->detector = col_str(s, 8);
	r->technique = col_str(s, 9);
	r->title = col_str(s, 10);
	r->proto = col_str(s, 11);
	r->src_ip = col_str(s, 12);
	r->src_port = col_port(s, 13);
	r->dst_ip = col_str(s, 14);
	r->dst_port = col_port(s, 15);
	r->prev_hash = col_str(s, 16);
	r->hash = col_str(s, 17);
	r->raw = (const char *)sqlite3_column_text(s, 18);
	r->raw_len = (size_t)sqlite3_column_bytes(s, 18);
	r->received_at = col_str(s, 19);
	if (r->raw == NULL) {
		r->raw = "";
		r->raw_len = 0;
	}
}

static int
walk_rows(sqlite3_stmt *s, central_log_row_fn fn, void *ctx, int64_t *last_id)
{
	struct central_log_row r;
	int rc, stop = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fill_row(s, &r);
		if (last_id != NULL && r.id > *last_id)
			*last_id = r.id;
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/* The prepared statement of a built query (cached by shape), bound. */
static sqlite3_stmt *
built_stmt(struct central_log *db, const struct clog_sql *q)
{
	sqlite3_stmt *s = NULL;
	int i;

	for (i = 0; i < db->nq; i++)
		if (db->q[i].shape == q->shape) {
			s = db->q[i].s;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			break;
		}
	if (s == NULL) {
		if (db->nq == QCACHE) {
			/* rare (many filter combinations): start over */
			for (i = 0; i < db->nq; i++)
				sqlite3_finalize(db->q[i].s);
			db->nq = 0;
		}
		if (sqlite3_prepare_v3(db->h, q->text, -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			return NULL;
		db->q[db->nq].shape = q->shape;
		db->q[db->nq].s = s;
		db->nq++;
	}
	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text)
			sqlite3_bind_text(s, i + 1, q->p[i].s, -1,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, q->p[i].i);
	}
	return s;
}

static int
walk_built(struct central_log *db, enum clog_select kind,
    const struct central_log_filter *f, central_log_row_fn fn, void *ctx,
    int64_t *last_id)
{
	struct clog_sql q;
	sqlite3_stmt *s;

	if (clog_query_build(&q, CLOG_SQLITE, kind, ALERT_COLS, "alerts",
	    f) != 0)
		return IDS_EINVAL;
	s = built_stmt(db, &q);
	if (s == NULL)
		return IDS_EIO;
	return walk_rows(s, fn, ctx, last_id);
}

int
central_log_query(struct central_log *db, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx)
{
	if (db->pg != NULL)
		return clog_pg_query(db->pg, f, fn, ctx);
	return walk_built(db, CLOG_Q_QUERY, f, fn, ctx, NULL);
}

/*
 * SQLite has one writer at a time and ids grow with commits, so "id >
 * after_id" never skips a row: a poll while idle is one index probe.
 */
int
central_log_follow(struct central_log *db, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx, int64_t *last_id)
{
	if (db->pg != NULL)
		return clog_pg_follow(db->pg, f, fn, ctx, last_id);
	return walk_built(db, CLOG_Q_FOLLOW, f, fn, ctx, last_id);
}

static int
walk_counts(sqlite3_stmt *s, central_log_count_fn fn, void *ctx)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		stop = fn(ctx, col_str(s, 0), sqlite3_column_int64(s, 1));
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

int
central_log_stats(struct central_log *db, enum central_log_group g,
    int64_t since_us, int64_t until_us, central_log_count_fn fn, void *ctx)
{
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_stats(db->pg, g, since_us, until_us, fn, ctx);
	s = stmt(db, g == CENTRAL_LOG_BY_SEVERITY ? ST_BY_SEV :
	    g == CENTRAL_LOG_BY_DETECTOR ? ST_BY_DETECTOR : ST_BY_AGENT);
	if (s == NULL)
		return IDS_EIO;
	sqlite3_bind_int64(s, 1, since_us);
	sqlite3_bind_int64(s, 2, until_us);
	return walk_counts(s, fn, ctx);
}

int
central_log_counters(struct central_log *db, central_log_count_fn fn,
    void *ctx)
{
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_counters(db->pg, fn, ctx);
	s = stmt(db, ST_COUNTERS);
	if (s == NULL)
		return IDS_EIO;
	return walk_counts(s, fn, ctx);
}

int
central_log_agents(struct central_log *db, central_log_agent_fn fn, void *ctx)
{
	struct central_log_agent_row r;
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (db->pg != NULL)
		return clog_pg_agents(db->pg, fn, ctx);
	s = stmt(db, ST_AGENTS);
	if (s == NULL)
		return IDS_EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.site = col_str(s, 0);
		r.agent = col_str(s, 1);
		r.status = col_str(s, 2);
		r.last_seen = col_str(s, 3);
		r.stats = col_str(s, 4);
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

int
central_log_assets(struct central_log *db, central_log_asset_fn fn, void *ctx)
{
	struct central_log_asset_row r;
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (db->pg != NULL)
		return clog_pg_assets(db->pg, fn, ctx);
	s = stmt(db, ST_ASSETS);
	if (s == NULL)
		return IDS_EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.site = col_str(s, 0);
		r.agent = col_str(s, 1);
		r.ip = col_str(s, 2);
		r.json = col_str(s, 3);
		r.last_seen = col_str(s, 4);
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
count_rows(struct central_log *db, enum st id, int64_t *n)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc;

	*n = 0;
	if (s == NULL)
		return IDS_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : IDS_EIO;
}

int
central_log_alert_count(struct central_log *db, int64_t *n)
{
	if (db->pg != NULL)
		return clog_pg_alert_count(db->pg, n);
	return count_rows(db, ST_ALERT_COUNT, n);
}

int
central_log_asset_count(struct central_log *db, int64_t *n)
{
	if (db->pg != NULL)
		return clog_pg_asset_count(db->pg, n);
	return count_rows(db, ST_ASSET_COUNT, n);
}

/* ---- verify ----------------------------------------------------------- */

const char *
central_log_problem_name(enum central_log_problem p)
{
	switch (p) {
	case CENTRAL_LOG_P_INVALID:	return "invalid";
	case CENTRAL_LOG_P_CHANGED:	return "changed";
	case CENTRAL_LOG_P_COLUMNS:	return "changed";
	case CENTRAL_LOG_P_MISSING:	return "missing";
	case CENTRAL_LOG_P_LINK:	return "broken link";
	case CENTRAL_LOG_P_HEAD:	return "missing";
	case CENTRAL_LOG_P_CONFLICT:	return "conflict";
	}
	return "problem";
}

struct vstate {
	struct central_log			*db;
	const struct central_log_verify_ops	*ops;
	struct central_log_chain		 c;
	char					*site, *agent;
	bool					 have_prev, prev_known;
	int64_t					 prev_seq;
	char					 prev_hash[CHAIN_HEX_LEN + 1];
	int64_t					 from_seq;	/* rows > this */
	bool					 incremental;
	int64_t					 total;
	int					 stop;
	/* rows read ahead, checked on a second thread (vbatch below) */
	struct vrow				*rows[2];
	size_t					 nrows[2];
	int					 cur;		/* filling */
	bool					 busy;		/* !cur checking */
	pthread_t				 th;
};

static void
report(struct vstate *v, enum central_log_problem kind, int64_t seq,
    int64_t seq_to, const char *detail)
{
	struct central_log_issue i;

	v->c.problems++;
	v->total++;
	if (v->stop != 0 || v->ops == NULL || v->ops->issue == NULL)
		return;
	i.site = v->site;
	i.agent = v->agent;
	i.seq = seq;
	i.seq_to = seq_to;
	i.kind = kind;
	i.detail = detail;
	v->stop = v->ops->issue(v->ops->ctx, &i);
}
static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Append name to the list of differing columns in buf. */
static void
differs(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", name);
}

/* The columns of r that differ from its parsed raw JSON a, into cols. */
static void
columns_diff(const struct central_log_row *r,
    const struct central_log_alert *a, char *cols, size_t len)
{
	cols[0] = '\0';
	if (!str_eq(r->agent, a->agent))
		differs(cols, len, "agent");
	if (r->seq != a->seq)
		differs(cols, len, "seq");
	if (!str_eq(r->site, a->site))
		differs(cols, len, "site");
	if (!str_eq(r->ts, a->ts) || r->ts_us != a->ts_us)
		differs(cols, len, "ts");
	if (!str_eq(r->severity, a->severity) || r->sev != a->sev)
		differs(cols, len, "severity");
	if (!str_eq(r->detector, a->detector))
		differs(cols, len, "detector");
	if (!str_eq(r->technique, a->technique))
		differs(cols, len, "technique");
	if (!str_eq(r->title, a->title))
		differs(cols, len, "title");
	if (!str_eq(r->proto, a->proto))
		differs(cols, len, "proto");
	if (!str_eq(r->src_ip, a->src_ip) || r->src_port != a->src_port)
		differs(cols, len, "src");
	if (!str_eq(r->dst_ip, a->dst_ip) || r->dst_port != a->dst_port)
		differs(cols, len, "dst");
	if (!str_eq(r->prev_hash, a->prev_hash))
		differs(cols, len, "prev_hash");
	if (!str_eq(r->hash, a->hash))
		differs(cols, len, "hash");
}

/*
 * One row read ahead, owned (its strings copied into buf), and what the
 * checking thread found in it: everything of verify_row that looks at
 * the row alone (parse, columns, hash); the chain's links are checked in
 * order afterwards on the reading thread.
 */
struct vrow {
	struct central_log_row	 r;
	char			*buf;
	size_t			 cap;
	bool			 invalid;	/* raw JSON not an alert: why */
	char			 why[128];
	char			 cols[256];	/* differing columns, "" none */
	int64_t			 a_seq;		/* seq in the raw JSON */
	int			 chain;		/* chain_check() */
	char			 prev_hash[CHAIN_HEX_LEN + 1];
	char			 hash[CHAIN_HEX_LEN + 1];
};

#define VBATCH	512

/* Copy r (whose strings live in a statement or result) into d. */
static int
vrow_copy(struct vrow *d, const struct central_log_row *r)
{
	const char *const *src[] = { &r->agent, &r->site, &r->ts,
	    &r->severity, &r->detector, &r->technique, &r->title, &r->proto,
	    &r->src_ip, &r->dst_ip, &r->prev_hash, &r->hash, &r->received_at };
	const char **dst[] = { &d->r.agent, &d->r.site, &d->r.ts,
	    &d->r.severity, &d->r.detector, &d->r.technique, &d->r.title,
	    &d->r.proto, &d->r.src_ip, &d->r.dst_ip, &d->r.prev_hash,
	    &d->r.hash, &d->r.received_at };
	size_t need = r->raw_len + 1, l[13], i;
	char *p;

	for (i = 0; i < 13; i++) {
		l[i] = *src[i] != NULL ? strlen(*src[i]) + 1 : 0;
		need += l[i];
	}
	if (need > d->cap) {
		p = realloc(d->buf, need);
		if (p == NULL)
			return IDS_ENOMEM;
		d->buf = p;
		d->cap = need;
	}
	p = d->buf;
	d->r = *r;
	for (i = 0; i < 13; i++) {
		if (*src[i] == NULL) {
			*dst[i] = NULL;
			continue;
		}
		memcpy(p, *src[i], l[i]);
		*dst[i] = p;
		p += l[i];
	}
	if (r->raw_len > 0)
		memcpy(p, r->raw, r->raw_len);
	p[r->raw_len] = '\0';
	d->r.raw = p;
	return 0;
}

/* The part of verify_row that needs the row only (any thread). */
static void
vrow_check(struct vrow *x)
{
	struct central_log_alert a;

	x->invalid = central_log_alert_parse(x->r.raw, x->r.raw_len, &a,
	    x->why, sizeof(x->why)) != 0;
	if (x->invalid)
		return;
	columns_diff(&x->r, &a, x->cols, sizeof(x->cols));
	x->a_seq = a.seq;
	x->chain = chain_check(a.prev_hash, x->r.raw, x->r.raw_len);
	snprintf(x->prev_hash, sizeof(x->prev_hash), "%s", a.prev_hash);
	snprintf(x->hash, sizeof(x->hash), "%s", a.hash);
	central_log_alert_free(&a);
}

static int
conflict_seen(void *ctx, int64_t seq, const char *received_at)
{
	struct vstate *v = ctx;
	char detail[96];

	/* incremental: what was before the checkpoint was reported then */
	if (seq <= v->from_seq)
		return 0;
	snprintf(detail, sizeof(detail), "a different alert with this seq "
	    "arrived at %s", received_at != NULL ? received_at : "?");
	report(v, CENTRAL_LOG_P_CONFLICT, seq, seq, detail);
	return 0;
}

static int
finish_agent(struct vstate *v)
{
	sqlite3_stmt *s;
	char detail[160];
	int64_t reported, last;
	int rc;

	if (v->db->pg != NULL) {
		rc = clog_pg_conflicts(v->db->pg, v->site, v->agent,
		    conflict_seen, v);
		if (rc != 0)
			return rc;
	} else {
		s = stmt(v->db, ST_CONFLICTS);
		if (s == NULL)
			return IDS_EIO;
		bind_str(s, 1, v->site);
		bind_str(s, 2, v->agent);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			conflict_seen(v, sqlite3_column_int64(s, 0),
			    col_str(s, 1));
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return IDS_EIO;
	}
	/*
	 * A lost tail leaves no hole in the chain: only the agent's own word
	 * (its stats' last seq) shows it.
	 */
	rc = central_log_reported(v->db, v->site, v->agent, &reported);
	if (rc != 0)
		return rc;
	last = v->c.alerts > 0 ? v->c.last_seq : v->have_prev ? v->prev_seq : 0;
	if (reported > last) {
		snprintf(detail, sizeof(detail), "%" PRId64 " alert(s) after "
		    "seq %" PRId64 " absent: the agent reported seq %" PRId64
		    " (missing tail)", reported - last, last, reported);
		report(v, CENTRAL_LOG_P_MISSING, last + 1, reported, detail);
	}
	v->c.site = v->site;
	v->c.agent = v->agent;
	/* incremental: a chain with nothing new and nothing wrong is quiet */
	if (v->incremental && v->c.alerts == 0 && v->c.problems == 0)
		return 0;
	if (v->stop == 0 && v->ops != NULL && v->ops->chain_done != NULL)
		v->stop = v->ops->chain_done(v->ops->ctx, &v->c);
	return 0;
}

/* The rest of verify_row, in seq order, on a checked row. */
static void
verify_row(struct vstate *v, const struct vrow *x)
{
	const struct central_log_row *r = &x->r;
	char detail[400];

	if (v->c.alerts == 0)
		v->c.first_seq = r->seq;
	v->c.alerts++;
	v->c.last_seq = r->seq;
	if (x->invalid) {
		snprintf(detail, sizeof(detail), "raw JSON is not a valid "
		    "alert: %s", x->why);
		report(v, CENTRAL_LOG_P_INVALID, r->seq, r->seq, detail);
		v->have_prev = true;
		v->prev_known = false;
		v->prev_seq = r->seq;
		return;
	}
	if (x->cols[0] != '\0') {
		if (r->seq != x->a_seq)
			snprintf(detail, sizeof(detail), "row holds the alert "
			    "with seq %" PRId64 " (reordered); columns differ "
			    "from the raw JSON: %s", x->a_seq, x->cols);
		else
			snprintf(detail, sizeof(detail), "columns differ from "
			    "the raw JSON: %s", x->cols);
		report(v, CENTRAL_LOG_P_COLUMNS, r->seq, r->seq, detail);
	}
	if (x->chain < 0)
		report(v, CENTRAL_LOG_P_INVALID, r->seq, r->seq,
		    "raw JSON does not end in its hash");
	else if (x->chain == 1)
		report(v, CENTRAL_LOG_P_CHANGED, r->seq, r->seq,
		    "hash does not match the alert's content");
	if (!v->have_prev) {
		if (strcmp(x->prev_hash, CHAIN_GENESIS) != 0) {
			snprintf(detail, sizeof(detail), "alerts before seq "
			    "%" PRId64 " are missing (prev_hash is not the "
			    "genesis hash)", r->seq);
			report(v, CENTRAL_LOG_P_HEAD, r->seq, r->seq, detail);
		}
	} else if (r->seq - v->prev_seq > 1) {
		snprintf(detail, sizeof(detail), "%" PRId64 " alert(s) absent "
		    "between seq %" PRId64 " and %" PRId64,
		    r->seq - v->prev_seq - 1, v->prev_seq, r->seq);
		report(v, CENTRAL_LOG_P_MISSING, v->prev_seq + 1, r->seq - 1,
		    detail);
	} else if (v->prev_known && strcmp(x->prev_hash, v->prev_hash) != 0) {
		snprintf(detail, sizeof(detail), "prev_hash is not the hash of "
		    "seq %" PRId64 " (reordered, replaced or inserted)",
		    v->prev_seq);
		report(v, CENTRAL_LOG_P_LINK, r->seq, r->seq, detail);
	}
	v->have_prev = true;
	v->prev_known = true;
	v->prev_seq = r->seq;
	memcpy(v->prev_hash, x->hash, sizeof(v->prev_hash));
}

/*
 * Rows are read into one batch while the other is checked on a second
 * thread (parsing and hashing are most of verify's time; the chain's
 * links and every report stay in seq order on this thread).
 */
struct vjob {
	struct vrow	*rows;
	size_t		 n;
};

static void *
vbatch_run(void *arg)
{
	struct vjob *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++)
		vrow_check(&j->rows[i]);
	free(j);
	return NULL;
}

/* Wait for the batch being checked and take its rows in order. */
static void
vbatch_settle(struct vstate *v)
{
	int b = !v->cur;
	size_t i;

	if (!v->busy)
		return;
	pthread_join(v->th, NULL);
	v->busy = false;
	for (i = 0; i < v->nrows[b] && v->stop == 0; i++)
		verify_row(v, &v->rows[b][i]);
	v->nrows[b] = 0;
}

/* Hand the filling batch to the checking thread (or check it here). */
static void
vbatch_launch(struct vstate *v)
{
	struct vjob *j;
	int b = v->cur;

	vbatch_settle(v);
	if (v->nrows[b] == 0)
		return;
	j = malloc(sizeof(*j));
	if (j != NULL) {
		j->rows = v->rows[b];
		j->n = v->nrows[b];
		if (pthread_create(&v->th, NULL, vbatch_run, j) == 0) {
			v->busy = true;
			v->cur = !b;
			return;
		}
		free(j);
	}
	/* no thread: check it here, then take it */
	for (size_t i = 0; i < v->nrows[b]; i++)
		vrow_check(&v->rows[b][i]);
	for (size_t i = 0; i < v->nrows[b] && v->stop == 0; i++)
		verify_row(v, &v->rows[b][i]);
	v->nrows[b] = 0;
}

/* Everything read so far checked and taken (at the end of a chain). */
static void
vbatch_drain(struct vstate *v)
{
	vbatch_launch(v);
	vbatch_settle(v);
}

static void
vbatch_free(struct vstate *v)
{
	size_t i;
	int b;

	vbatch_settle(v);
	for (b = 0; b < 2; b++) {
		for (i = 0; v->rows[b] != NULL && i < VBATCH; i++)
			free(v->rows[b][i].buf);
		free(v->rows[b]);
		v->rows[b] = NULL;
	}
}

static int
verify_row_cb(void *ctx, const struct central_log_row *r)
{
	struct vstate *v = ctx;
	int rc;

	if (r->agent == NULL || r->site == NULL)
		return 0;
	if (v->rows[v->cur] == NULL) {
		v->rows[v->cur] = calloc(VBATCH, sizeof(struct vrow));
		if (v->rows[v->cur] == NULL)
			return IDS_ENOMEM;
	}
	rc = vrow_copy(&v->rows[v->cur][v->nrows[v->cur]], r);
	if (rc != 0)
		return rc;
	if (++v->nrows[v->cur] == VBATCH)
		vbatch_launch(v);
	return v->stop != 0 ? 1 : 0;
}

/* A checkpoint is written with the time of the verify that made it. */
static int
save_checkpoint(struct vstate *v)
{
	char now[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;
	int rc;

	if (v->db->pg != NULL)
		return clog_pg_checkpoint(v->db->pg, v->site, v->agent,
		    v->prev_seq, v->prev_hash);
	s = stmt(v->db, ST_CHECKPOINT);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(central_log_now_us(), now);
	bind_str(s, 1, v->site);
	bind_str(s, 2, v->agent);
	sqlite3_bind_int64(s, 3, v->prev_seq);
	bind_str(s, 4, v->prev_hash);
	bind_str(s, 5, now);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_reset(s);
	return rc;
}

/*
 * One chain: start after retention's anchor (its last removed alert) or,
 * incremental, after the checkpoint of the last clean verify, whichever
 * is later; walk the rest in seq order; then its conflicts.
 */
static int
verify_chain(void *ctx, const struct clog_chain_ref *ref)
{
	struct vstate *v = ctx;
	sqlite3_stmt *s;
	struct central_log_row r;
	int rc = 0, step;

	memset(&v->c, 0, sizeof(v->c));
	free(v->site);
	free(v->agent);
	v->site = strdup(ref->site);
	v->agent = strdup(ref->agent);
	if (v->site == NULL || v->agent == NULL)
		return IDS_ENOMEM;
	v->have_prev = v->prev_known = false;
	v->from_seq = -1;
	if (ref->have_anchor) {
		v->have_prev = v->prev_known = true;
		v->from_seq = v->prev_seq = ref->anchor_seq;
		snprintf(v->prev_hash, sizeof(v->prev_hash), "%s",
		    ref->anchor_hash);
	}
	if (v->incremental && ref->have_ckpt && ref->ckpt_seq > v->from_seq) {
		v->have_prev = v->prev_known = true;
		v->from_seq = v->prev_seq = ref->ckpt_seq;
		snprintf(v->prev_hash, sizeof(v->prev_hash), "%s",
		    ref->ckpt_hash);
	}
	if (v->db->pg != NULL) {
		rc = clog_pg_chain_rows(v->db->pg, v->site, v->agent,
		    v->from_seq, verify_row_cb, v);
		if (rc == 1)
			rc = 0;		/* stopped by the caller */
	} else {
		s = stmt(v->db, ST_CHAIN_ROWS);
		if (s == NULL)
			return IDS_EIO;
		bind_str(s, 1, v->site);
		bind_str(s, 2, v->agent);
		sqlite3_bind_int64(s, 3, v->from_seq);
		while (v->stop == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
			fill_row(s, &r);
			rc = verify_row_cb(v, &r);
			if (rc != 0)
				break;
		}
		if (rc == 1)
			rc = 0;
		else if (rc == 0 && v->stop == 0 && step != SQLITE_DONE)
			rc = IDS_EIO;
		sqlite3_reset(s);
	}
	if (rc == 0)
		vbatch_drain(v);
	else
		vbatch_settle(v);
	v->nrows[0] = v->nrows[1] = 0;
	if (rc == 0)
		rc = finish_agent(v);
	if (rc == 0 && v->incremental && v->c.problems == 0 &&
	    v->c.alerts > 0 && v->prev_known)
		rc = save_checkpoint(v);
	return rc != 0 ? rc : v->stop;
}

/* A chain's checkpoint or anchor (seq, hash) from statement id. */
static int
chain_mark(struct central_log *db, enum st id, const char *site,
    const char *agent, bool *have, int64_t *seq, char *hash)
{
	sqlite3_stmt *s = stmt(db, id);
	int rc;

	*have = false;
	if (s == NULL)
		return IDS_EIO;
	bind_str(s, 1, site);
	bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && col_str(s, 1) != NULL) {
		*have = true;
		*seq = sqlite3_column_int64(s, 0);
		snprintf(hash, CHAIN_HEX_LEN + 1, "%s", col_str(s, 1));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/*
 * Every (site, agent) that has alerts, found in the alerts themselves
 * (one index seek per chain: a deleted agents row hides nothing), in
 * (site, agent) order.
 */
static int
sqlite_chains(struct central_log *db, const char *site, const char *agent,
    clog_chain_fn fn, void *ctx)
{
	char *cs = NULL, *ca = NULL, ckh[CHAIN_HEX_LEN + 1];
	char anh[CHAIN_HEX_LEN + 1];
	struct clog_chain_ref ref;
	sqlite3_stmt *s;
	int rc = 0, step;

	for (;;) {
		s = stmt(db, cs == NULL ? ST_CHAIN_FIRST : ST_CHAIN_NEXT);
		if (s == NULL) {
			rc = IDS_EIO;
			break;
		}
		if (cs != NULL) {
			bind_str(s, 1, cs);
			bind_str(s, 2, ca);
		}
		step = sqlite3_step(s);
		if (step != SQLITE_ROW) {
			sqlite3_reset(s);
			rc = step == SQLITE_DONE ? 0 : IDS_EIO;
			break;
		}
		free(cs);
		free(ca);
		cs = strdup(col_str(s, 0) != NULL ? col_str(s, 0) : "");
		ca = strdup(col_str(s, 1) != NULL ? col_str(s, 1) : "");
		sqlite3_reset(s);
		if (cs == NULL || ca == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		if ((site != NULL && strcmp(site, cs) != 0) ||
		    (agent != NULL && strcmp(agent, ca) != 0))
			continue;
		memset(&ref, 0, sizeof(ref));
		ref.site = cs;
		ref.agent = ca;
		rc = chain_mark(db, ST_CKPT_GET, cs, ca, &ref.have_ckpt,
		    &ref.ckpt_seq, ckh);
		if (rc == 0)
			rc = chain_mark(db, ST_ANCHOR_GET, cs, ca,
			    &ref.have_anchor, &ref.anchor_seq, anh);
		ref.ckpt_hash = ckh;
		ref.anchor_hash = anh;
		if (rc == 0)
			rc = fn(ctx, &ref);
		if (rc != 0)
			break;
	}
	free(cs);
	free(ca);
	return rc;
}

static int
verify_walk(struct central_log *db, const char *site, const char *agent,
    bool incremental, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	struct vstate v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.db = db;
	v.ops = ops;
	v.incremental = incremental;
	*problems = 0;
	if (db->pg != NULL)
		rc = clog_pg_chains(db->pg, site, agent, verify_chain, &v);
	else
		rc = sqlite_chains(db, site, agent, verify_chain, &v);
	if (rc > 0)
		rc = 0;		/* the caller stopped the walk */
	vbatch_free(&v);
	free(v.site);
	free(v.agent);
	*problems = v.total;
	return rc;
}

int
central_log_verify(struct central_log *db, const char *site,
    const char *agent, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	return verify_walk(db, site, agent, false, ops, problems);
}

int
central_log_verify_incremental(struct central_log *db, const char *site,
    const char *agent, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	return verify_walk(db, site, agent, true, ops, problems);
}

/* ---- retention --------------------------------------------------------- */

int
central_log_retain(struct central_log *db, int64_t before_us,
    int64_t *removed)
{
	sqlite3_stmt *s;
	int rc;

	*removed = 0;
	if (db->pg != NULL)
		return clog_pg_retain(db->pg, before_us, removed);
	rc = sp_begin(db);
	if (rc != 0)
		return rc;
	s = stmt(db, ST_RETAIN_ANCHORS);
	rc = s == NULL ? IDS_EIO : 0;
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, before_us);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		sqlite3_reset(s);
	}
	if (rc == 0) {
		s = stmt(db, ST_RETAIN_DELETE);
		rc = s == NULL ? IDS_EIO : 0;
	}
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, before_us);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		*removed = sqlite3_changes(db->h);
		sqlite3_reset(s);
	}
	if (rc == 0)
		rc = count(db, "retention_removed", *removed);
	return sp_end(db, rc);
}

int
central_log_retention_cutoff(const char *spec, int64_t now_us,
    int64_t *cutoff)
{
	char *end;
	long long n;
	time_t t;
	struct tm tm;

	if (spec == NULL || spec[0] == '\0')
		return IDS_EINVAL;
	n = strtoll(spec, &end, 10);
	if (end == spec || n < 1 || n > 100000 || end[0] == '\0' ||
	    end[1] != '\0')
		return IDS_EINVAL;
	if (end[0] == 'd') {
		*cutoff = now_us - (int64_t)n * 86400 * 1000000;
		return 0;
	}
	if (end[0] != 'm')
		return IDS_EINVAL;
	/* whole months: this one and the n - 1 before it are kept */
	t = (time_t)(now_us / 1000000);
	if (gmtime_r(&t, &tm) == NULL)
		return IDS_EINVAL;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= (int)(n - 1);
	*cutoff = (int64_t)timegm(&tm) * 1000000;
	return 0;
}
