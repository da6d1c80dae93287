/*
 * central_log_schema.c - opening the SQLite central log: the schema, its
 * migrations from versions 1 and 2, and closing it (central_log.c).
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
	sqlite3_stmt *s = clog_stmt(db, ST_USER_VERSION);

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

	if (clog_run(db, ST_BEGIN) != 0)
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
		clog_run(db, ST_ROLLBACK);
		snprintf(err, errlen, "%s: schema version %d is newer than "
		    "this program's (%d)", path, v, CENTRAL_LOG_SCHEMA);
		return IDS_EINVAL;
	}
	if (clog_run(db, ST_COMMIT) != 0)
		goto fail_tx;
	return 0;
fail_tx:
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->h));
	clog_run(db, ST_ROLLBACK);
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
	clog_ckpt_stop(db);
	clog_batch_close(db);
	clog_pg_close(db->pg);
	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(db->st[i]);
	for (i = 0; i < (size_t)db->nq; i++)
		sqlite3_finalize(db->q[i].s);
	sqlite3_close(db->h);
	free(db);
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
	s = clog_stmt(db, ST_V1_CONFLICTS);
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
		v[n].raw = strdup(clog_col_str(s, 1) != NULL ? clog_col_str(s, 1) : "");
		v[n].received = strdup(clog_col_str(s, 2) != NULL ? clog_col_str(s, 2) :
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
		s = clog_stmt(db, ST_SELECT_RAW);
		if (s == NULL) {
			rc = IDS_EIO;
		} else {
			clog_bind_str(s, 1, a.site);
			clog_bind_str(s, 2, a.agent);
			sqlite3_bind_int64(s, 3, a.seq);
			step = sqlite3_step(s);
			sqlite3_reset(s);
			if (step == SQLITE_ROW) {
				s = clog_stmt(db, ST_CONFLICT_SITE);
				if (s == NULL)
					rc = IDS_EIO;
				else {
					sqlite3_bind_int64(s, 1, v[i].id);
					clog_bind_str(s, 2, a.site);
					rc = sqlite3_step(s) == SQLITE_DONE ?
					    0 : IDS_EIO;
				}
			} else if (step != SQLITE_DONE) {
				rc = IDS_EIO;
			} else {
				rc = clog_insert_row(db, &a, v[i].raw,
				    strlen(v[i].raw), v[i].received, &res);
				if (rc == 0)
					rc = clog_count(db, "conflicts", -1);
				if (rc == 0)
					rc = clog_count(db, "recovered_by_upgrade",
					    1);
				s = rc == 0 ? clog_stmt(db, ST_CONFLICT_DEL) : NULL;
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
