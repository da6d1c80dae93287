/*
 * clog_pg.c - PostgreSQL central alert log (clog_pg.h, DESIGN.md
 * "Central log").  libpq only; text parameters bound to prepared
 * statements, results in single-row mode so a walk over millions of
 * alerts holds one row at a time.
 */
#include "broker/clog_pg.h"

#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/clog_query.h"
#include "lib/chain.h"
#include "lib/ids.h"

/*
 * Every text column is COLLATE "C": byte order, the same as SQLite's
 * BINARY (so both backends sort output alike), and a LIKE with a literal
 * prefix can use a plain btree index.
 */
#define T	"text COLLATE \"C\""

static const char schema_sql[] =
	"CREATE TABLE icsentry_schema (version integer NOT NULL);"
	"CREATE SEQUENCE alert_ids;"
	/* the uniqueness a partitioned table cannot give across months */
	"CREATE TABLE alert_keys ("
	" site " T " NOT NULL, agent " T " NOT NULL, seq bigint NOT NULL,"
	" id bigint NOT NULL, ts_us bigint NOT NULL,"
	" PRIMARY KEY (site, agent, seq));"
	"CREATE TABLE alerts ("
	" id bigint NOT NULL, site " T " NOT NULL, agent " T " NOT NULL,"
	" seq bigint NOT NULL, ts " T " NOT NULL, ts_us bigint NOT NULL,"
	" severity " T " NOT NULL, sev smallint NOT NULL,"
	" detector " T " NOT NULL, technique " T ", title " T ", proto " T ","
	" src_ip " T ", src_port integer, dst_ip " T ", dst_port integer,"
	" prev_hash " T " NOT NULL, hash " T " NOT NULL, raw " T " NOT NULL,"
	" received_at " T " NOT NULL) PARTITION BY RANGE (ts_us);"
	/* one index per filter (clog_query.h); each used, see README */
	"CREATE INDEX alerts_id ON alerts (id);"
	"CREATE INDEX alerts_ts ON alerts (ts_us);"
	/* (agent, site, seq): a chain in seq order (verify, acks) */
	"CREATE INDEX alerts_agent ON alerts (agent, site, seq);"
	"CREATE INDEX alerts_agent_ts ON alerts (agent, ts_us);"
	"CREATE INDEX alerts_sev ON alerts (sev, ts_us);"
	"CREATE INDEX alerts_detector ON alerts (detector, ts_us);"
	"CREATE INDEX alerts_technique ON alerts (technique, ts_us);"
	"CREATE INDEX alerts_proto ON alerts (proto, ts_us);"
	"CREATE INDEX alerts_src ON alerts (src_ip);"
	"CREATE INDEX alerts_dst ON alerts (dst_ip);"
	"CREATE TABLE conflicts ("
	" id bigserial PRIMARY KEY, site " T " NOT NULL, agent " T " NOT NULL,"
	" seq bigint NOT NULL, raw " T " NOT NULL, received_at " T " NOT NULL);"
	"CREATE INDEX conflicts_chain ON conflicts (site, agent, seq);"
	"CREATE TABLE agents ("
	" site " T " NOT NULL, agent " T " NOT NULL, status " T ","
	" last_seen " T " NOT NULL, stats " T ", stats_at " T ","
	/* the end-to-end ack published, and the agent's own last seq */
	" acked_seq bigint NOT NULL DEFAULT 0,"
	" reported_seq bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (site, agent));"
	"CREATE TABLE assets ("
	" site " T " NOT NULL, agent " T " NOT NULL, ip " T " NOT NULL,"
	" json " T " NOT NULL, last_seen " T " NOT NULL,"
	" PRIMARY KEY (site, agent, ip));"
	"CREATE TABLE counters ("
	" name " T " NOT NULL, slot integer NOT NULL, value bigint NOT NULL,"
	" PRIMARY KEY (name, slot));"
	/* verify --incremental starts each chain here */
	"CREATE TABLE verify_checkpoints ("
	" site " T " NOT NULL, agent " T " NOT NULL, seq bigint NOT NULL,"
	" hash " T " NOT NULL, verified_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (site, agent));"
	/* the last alert retention removed: where the kept chain begins */
	"CREATE TABLE chain_anchors ("
	" site " T " NOT NULL, agent " T " NOT NULL, seq bigint NOT NULL,"
	" hash " T " NOT NULL, PRIMARY KEY (site, agent));"
	/*
	 * The partition of one month (UTC), created when missing.  Two
	 * collectors may race to create it: the loser's error is harmless.
	 * Partition names are made from integers only.
	 */
	"CREATE FUNCTION icsentry_partition(us bigint) RETURNS void"
	" LANGUAGE plpgsql AS $f$"
	" DECLARE"
	"  m timestamp := date_trunc('month',"
	"   to_timestamp(us / 1000000.0) AT TIME ZONE 'UTC');"
	"  lo bigint := (extract(epoch FROM m AT TIME ZONE 'UTC')"
	"   * 1000000)::bigint;"
	"  hi bigint := (extract(epoch FROM (m + interval '1 month')"
	"   AT TIME ZONE 'UTC') * 1000000)::bigint;"
	"  name text := 'alerts_' || to_char(m, 'YYYY_MM');"
	" BEGIN"
	"  IF to_regclass(name) IS NULL THEN"
	"   BEGIN"
	"    EXECUTE format('CREATE TABLE %I PARTITION OF alerts"
	"     FOR VALUES FROM (%s) TO (%s)', name, lo, hi);"
	"   EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;"
	"   END;"
	"  END IF;"
	" END $f$;"
	/*
	 * Retention: remember each chain's last removed alert, drop every
	 * month that ends by cutoff, delete the rest of the rows before
	 * cutoff (within one month).  Returns the alerts removed.
	 */
	"CREATE FUNCTION icsentry_retain(cutoff bigint) RETURNS bigint"
	" LANGUAGE plpgsql AS $f$"
	" DECLARE r record; n bigint := 0; k bigint; m timestamp; hi bigint;"
	" BEGIN"
	"  INSERT INTO chain_anchors (site, agent, seq, hash)"
	"   SELECT DISTINCT ON (site, agent) site, agent, seq, hash"
	"   FROM alerts WHERE ts_us < cutoff ORDER BY site, agent, seq DESC"
	"   ON CONFLICT (site, agent) DO UPDATE"
	"   SET seq = excluded.seq, hash = excluded.hash"
	"   WHERE excluded.seq > chain_anchors.seq;"
	"  FOR r IN SELECT c.relname FROM pg_inherits i"
	"   JOIN pg_class c ON c.oid = i.inhrelid"
	"   WHERE i.inhparent = 'alerts'::regclass"
	"   AND c.relname ~ '^alerts_[0-9]{4}_[0-9]{2}$' LOOP"
	"   m := make_timestamp(substr(r.relname, 8, 4)::int,"
	"    substr(r.relname, 13, 2)::int, 1, 0, 0, 0);"
	"   hi := (extract(epoch FROM (m + interval '1 month')"
	"    AT TIME ZONE 'UTC') * 1000000)::bigint;"
	"   IF hi <= cutoff THEN"
	"    EXECUTE format('SELECT count(*) FROM %I', r.relname) INTO k;"
	"    EXECUTE format('DROP TABLE %I', r.relname);"
	"    n := n + k;"
	"   END IF;"
	"  END LOOP;"
	"  DELETE FROM alerts WHERE ts_us < cutoff;"
	"  GET DIAGNOSTICS k = ROW_COUNT;"
	"  n := n + k;"
	"  DELETE FROM alert_keys WHERE ts_us < cutoff;"
	"  RETURN n;"
	" END $f$;";

#define ALERT_COLS \
	"id, agent, seq, site, ts, ts_us, severity, sev, detector, technique," \
	" title, proto, src_ip, src_port, dst_ip, dst_port, prev_hash, hash," \
	" raw, received_at"

enum st {
	ST_INSERT, ST_SELECT_RAW, ST_INSERT_CONFLICT, ST_AGENT_SEEN,
	ST_STATUS, ST_STATS_JSON, ST_ASSET_PUT, ST_ASSET_DEL,
	ST_COUNT, ST_COUNTER, ST_PARTITION, ST_RETAIN,
	ST_BY_SEV, ST_BY_DETECTOR, ST_BY_AGENT,
	ST_COUNTERS, ST_AGENTS, ST_ALERT_COUNT, ST_ASSET_COUNT, ST_ASSETS,
	ST_CHAIN_FIRST, ST_CHAIN_NEXT, ST_CKPT_GET, ST_ANCHOR_GET,
	ST_CHAIN_ROWS, ST_CONFLICTS, ST_CHECKPOINT,
	ST_AGENT_KNOWN, ST_AGENT_OTHER_SITE,
	ST_SEQS_AFTER, ST_GET_ACKED, ST_GET_REPORTED,
	ST_N
};

static const char *const sql[ST_N] = {
	[ST_INSERT] =
	    "WITH k AS (INSERT INTO alert_keys (site, agent, seq, id, ts_us)"
	    " VALUES ($1, $2, $3::bigint, nextval('alert_ids'), $5::bigint)"
	    " ON CONFLICT DO NOTHING RETURNING id)"
	    " INSERT INTO alerts (id, site, agent, seq, ts, ts_us, severity,"
	    " sev, detector, technique, title, proto, src_ip, src_port, dst_ip,"
	    " dst_port, prev_hash, hash, raw, received_at)"
	    " SELECT k.id, $1, $2, $3::bigint, $4, $5::bigint, $6,"
	    " $7::smallint, $8, $9, $10, $11, $12, $13::integer, $14,"
	    " $15::integer, $16, $17, $18, $19 FROM k",
	[ST_SELECT_RAW] =
	    "SELECT raw FROM alerts WHERE agent = $2 AND site = $1"
	    " AND seq = $3::bigint",
	[ST_INSERT_CONFLICT] =
	    "INSERT INTO conflicts (site, agent, seq, raw, received_at)"
	    " VALUES ($1, $2, $3::bigint, $4, $5)",
	[ST_AGENT_SEEN] =
	    "INSERT INTO agents (site, agent, last_seen, acked_seq, reported_seq)"
	    " VALUES ($1, $2, $3, greatest($4::bigint, 0),"
	    " greatest($5::bigint, 0)) ON CONFLICT (site, agent) DO UPDATE"
	    " SET last_seen = CASE WHEN $6::boolean"
	    " THEN greatest(agents.last_seen, excluded.last_seen)"
	    " ELSE agents.last_seen END,"
	    " acked_seq = greatest(agents.acked_seq, $4::bigint),"
	    " reported_seq = greatest(agents.reported_seq, $5::bigint)",
	[ST_STATUS] =
	    "INSERT INTO agents (site, agent, status, last_seen)"
	    " VALUES ($1, $2, $3, $4) ON CONFLICT (site, agent) DO UPDATE"
	    " SET status = excluded.status,"
	    " last_seen = greatest(agents.last_seen, excluded.last_seen)",
	[ST_STATS_JSON] =
	    "INSERT INTO agents (site, agent, last_seen, stats, stats_at)"
	    " VALUES ($1, $2, $3, $4, $3) ON CONFLICT (site, agent) DO UPDATE"
	    " SET stats = excluded.stats, stats_at = excluded.stats_at,"
	    " last_seen = greatest(agents.last_seen, excluded.last_seen)",
	[ST_ASSET_PUT] =
	    "INSERT INTO assets (site, agent, ip, json, last_seen)"
	    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (site, agent, ip)"
	    " DO UPDATE SET json = excluded.json,"
	    " last_seen = excluded.last_seen",
	[ST_ASSET_DEL] =
	    "DELETE FROM assets WHERE site = $1 AND agent = $2 AND ip = $3",
	[ST_COUNT] =
	    "INSERT INTO counters (name, slot, value)"
	    " VALUES ($1, $2::integer, $3::bigint) ON CONFLICT (name, slot)"
	    " DO UPDATE SET value = counters.value + excluded.value",
	[ST_COUNTER] =
	    "SELECT coalesce(sum(value), 0)::bigint FROM counters"
	    " WHERE name = $1",
	[ST_PARTITION] = "SELECT icsentry_partition($1::bigint)",
	[ST_RETAIN] = "SELECT icsentry_retain($1::bigint)",
	[ST_BY_SEV] =
	    "SELECT severity, count(*) FROM alerts"
	    " WHERE ts_us >= $1::bigint AND ts_us < $2::bigint"
	    " GROUP BY sev, severity ORDER BY sev DESC",
	[ST_BY_DETECTOR] =
	    "SELECT detector, count(*) AS n FROM alerts"
	    " WHERE ts_us >= $1::bigint AND ts_us < $2::bigint"
	    " GROUP BY detector ORDER BY n DESC, detector",
	[ST_BY_AGENT] =
	    "SELECT site || '/' || agent AS k, count(*) AS n FROM alerts"
	    " WHERE ts_us >= $1::bigint AND ts_us < $2::bigint"
	    " GROUP BY site, agent ORDER BY n DESC, k",
	[ST_COUNTERS] =
	    "SELECT name, sum(value)::bigint FROM counters GROUP BY name"
	    " ORDER BY name",
	[ST_AGENTS] =
	    "SELECT site, agent, status, last_seen, stats FROM agents"
	    " ORDER BY site, agent",
	[ST_ALERT_COUNT] = "SELECT count(*) FROM alert_keys",
	[ST_ASSET_COUNT] = "SELECT count(*) FROM assets",
	[ST_ASSETS] =
	    "SELECT site, agent, ip, json, last_seen FROM assets"
	    " ORDER BY site, agent, ip",
	/* chains, from the alerts themselves: one index seek each */
	[ST_CHAIN_FIRST] =
	    "SELECT agent, site FROM alerts ORDER BY agent, site LIMIT 1",
	[ST_CHAIN_NEXT] =
	    "SELECT agent, site FROM alerts WHERE (agent, site) > ($1, $2)"
	    " ORDER BY agent, site LIMIT 1",
	[ST_CKPT_GET] =
	    "SELECT seq, hash FROM verify_checkpoints WHERE site = $1"
	    " AND agent = $2",
	[ST_ANCHOR_GET] =
	    "SELECT seq, hash FROM chain_anchors WHERE site = $1 AND agent = $2",
	[ST_AGENT_KNOWN] = "SELECT 1 FROM agents WHERE site = $1 AND agent = $2",
	/* alert_keys: one btree for a chain's seqs, whatever the month */
	[ST_SEQS_AFTER] =
	    "SELECT seq FROM alert_keys WHERE site = $1 AND agent = $2"
	    " AND seq > $3::bigint ORDER BY seq LIMIT $4::bigint",
	[ST_GET_ACKED] =
	    "SELECT acked_seq FROM agents WHERE site = $1 AND agent = $2",
	[ST_GET_REPORTED] =
	    "SELECT reported_seq FROM agents WHERE site = $1 AND agent = $2",

	[ST_AGENT_OTHER_SITE] =
	    "SELECT site FROM agents WHERE agent = $2 AND site <> $1"
	    " ORDER BY site LIMIT 1",
	[ST_CHAIN_ROWS] =
	    "SELECT " ALERT_COLS " FROM alerts WHERE agent = $2 AND site = $1"
	    " AND seq > $3::bigint ORDER BY seq",
	[ST_CONFLICTS] =
	    "SELECT seq, received_at FROM conflicts WHERE site = $1"
	    " AND agent = $2 ORDER BY seq, id",
	[ST_CHECKPOINT] =
	    "INSERT INTO verify_checkpoints (site, agent, seq, hash)"
	    " VALUES ($1, $2, $3::bigint, $4) ON CONFLICT (site, agent)"
	    " DO UPDATE SET seq = excluded.seq, hash = excluded.hash,"
	    " verified_at = now()",
};

/* Built queries (clog_query.h), prepared once per shape. */
#define QCACHE	64

/*
 * An agent's row as this transaction changes it (latest arrival, ack,
 * reported seq), written at commit: every agents row a transaction writes
 * is written then, in (site, agent) order, so two collectors never lock
 * two agents in opposite orders (a deadlock fails a whole batch).
 */
struct seen {
	char	*site, *agent;
	char	 at[CENTRAL_LOG_TIME_LEN];	/* "" when unchanged */
	int64_t	 acked, reported;		/* -1 when unchanged */
};

/* A counter change in this transaction, written at commit. */
struct delta {
	char	 name[32];
	int64_t	 v;
};

/*
 * One alert queued for the pipeline: its 19 ST_INSERT parameters, copied
 * into buf (p[i] NULL for SQL NULL; p[17] is the raw JSON, len bytes).
 */
struct qrow {
	const char	*p[19];
	size_t		 len;
	int64_t		 seq;
	char		*buf;
};

/* tail: how far back to look again for rows committed out of id order */
#define SETTLE_US	10000000

struct clog_pg {
	PGconn		*c;
	char		*uri;
	bool		 rdwr;
	bool		 in_tx;
	uint64_t	 prepared;		/* bit per enum st */
	uint32_t	 qshape[QCACHE];	/* prepared built queries */
	int		 nq;
	int		 slot;			/* counters slot */
	int64_t		 months[32];		/* partitions known to exist */
	int		 nmonths;
	struct seen	*seen;
	size_t		 nseen, capseen;
	struct delta	 deltas[8];
	int		 ndeltas;
	/* follow (tail): ids delivered lately, and poll history */
	int64_t		*sent;
	size_t		 nsent, capsent;
	int64_t		 hist_us[64], hist_id[64];
	int		 nhist;
	int64_t		 floor;		/* the first poll's last id */
	/* (site, agent) pairs already checked for a name at two sites */
	char		**known;
	size_t		 nknown, capknown;
	char		 notice[512];
	char		 errbuf[512];
	/* deferred inserts (clog_pg_defer_inserts): sent pipelined */
	struct qrow	*q;
	size_t		 nqrow, capq;
	int		 qmax;
	central_log_stored_fn qfn;
	void		*qctx;
};

/* ---- time (the same text as central_log_format_time) -------------------- */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "YYYY-MM-DDThh:mm:ss.uuuuuuZ", as SQLite's received_at and last_seen */
static void
fmt_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN])
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
	snprintf(out, CENTRAL_LOG_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000000u);
}

/* ---- errors, connection ------------------------------------------------ */

static void
fmt_i64(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
}


static void
set_err(struct clog_pg *pg, const char *what)
{
	const char *m = pg->c != NULL ? PQerrorMessage(pg->c) : "";
	size_t n;

	snprintf(pg->errbuf, sizeof(pg->errbuf), "%s%s%s", what,
	    what[0] != '\0' && m[0] != '\0' ? ": " : "", m);
	n = strlen(pg->errbuf);
	while (n > 0 && (pg->errbuf[n - 1] == '\n' || pg->errbuf[n - 1] == ' '))
		pg->errbuf[--n] = '\0';
}

static void
set_res_err(struct clog_pg *pg, PGresult *r)
{
	const char *m = r != NULL ? PQresultErrorMessage(r) : NULL;
	size_t n;

	if (m == NULL || m[0] == '\0') {
		set_err(pg, "");
		return;
	}
	snprintf(pg->errbuf, sizeof(pg->errbuf), "%s", m);
	n = strlen(pg->errbuf);
	while (n > 0 && (pg->errbuf[n - 1] == '\n' || pg->errbuf[n - 1] == ' '))
		pg->errbuf[--n] = '\0';
}

const char *
clog_pg_errmsg(const struct clog_pg *pg)
{
	return pg != NULL && pg->errbuf[0] != '\0' ? pg->errbuf :
	    "no database";
}

bool
clog_pg_is_uri(const char *path)
{
	return path != NULL && (strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0);
}

/* Notices (CREATE ... IF NOT EXISTS and the like) are not for the user. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/*
 * Outside a transaction a broken connection is re-made on the next call
 * (the server restarted); inside one the transaction is lost anyway and
 * the caller must roll back and retry.
 */
static int
ensure_conn(struct clog_pg *pg)
{
	if (PQstatus(pg->c) == CONNECTION_OK)
		return 0;
	if (pg->in_tx) {
		set_err(pg, "connection lost in a transaction");
		return IDS_EIO;
	}
	PQreset(pg->c);
	pg->prepared = 0;
	pg->nq = 0;
	if (PQstatus(pg->c) != CONNECTION_OK) {
		set_err(pg, "reconnect");
		return IDS_EIO;
	}
	PQsetNoticeProcessor(pg->c, quiet, NULL);
	return 0;
}

/* Run constant SQL with no parameters (transaction control, schema). */
static int
exec_simple(struct clog_pg *pg, const char *text)
{
	PGresult *r = PQexec(pg->c, text);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	}
	PQclear(r);
	return rc;
}

static int
prepare(struct clog_pg *pg, enum st id)
{
	char name[16];
	PGresult *r;

	if (pg->prepared & (UINT64_C(1) << id))
		return 0;
	snprintf(name, sizeof(name), "s%d", (int)id);
	r = PQprepare(pg->c, name, sql[id], 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	PQclear(r);
	pg->prepared |= UINT64_C(1) << id;
	return 0;
}

/* Execute prepared id with text parameters (NULL = SQL NULL). */
static int	flush_queue(struct clog_pg *pg);

static PGresult *
execp(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *lens)
{
	char name[16];

	/* what was queued runs first: statements keep their order */
	if (pg->nqrow > 0 && flush_queue(pg) != 0)
		return NULL;
	if (ensure_conn(pg) != 0 || prepare(pg, id) != 0)
		return NULL;
	snprintf(name, sizeof(name), "s%d", (int)id);
	return PQexecPrepared(pg->c, name, n, v, lens, NULL, 0);
}

/* A prepared statement returning no rows (or ignored ones). */
static int
run(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *lens, long *changed)
{
	PGresult *r = execp(pg, id, n, v, lens);
	ExecStatusType s;
	int rc = 0;

	if (r == NULL) {
		if (pg->errbuf[0] == '\0')
			set_err(pg, "");
		return IDS_EIO;
	}
	s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (changed != NULL) {
		*changed = strtol(PQcmdTuples(r), NULL, 10);
	}
	PQclear(r);
	return rc;
}

static int
schema_version(struct clog_pg *pg, int *v)
{
	PGresult *r;
	int rc = 0;

	*v = 0;
	r = PQexec(pg->c, "SELECT to_regclass('icsentry_schema') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	r = PQexec(pg->c, "SELECT max(version) FROM icsentry_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*v = atoi(PQgetvalue(r, 0, 0));
	} else {
		*v = -1;	/* the table is there but says nothing */
	}
	PQclear(r);
	return rc;
}

/* Month [lo, hi) in us (UTC) holding us. */
static int64_t
month_start(int64_t us)
{
	time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm) * 1000000;
}

static int
ensure_partition(struct clog_pg *pg, int64_t ts_us)
{
	int64_t m = month_start(ts_us);
	char v[24];
	const char *p[1] = { v };
	int i, rc;

	for (i = 0; i < pg->nmonths; i++)
		if (pg->months[i] == m)
			return 0;
	snprintf(v, sizeof(v), "%" PRId64, ts_us);
	rc = run(pg, ST_PARTITION, 1, p, NULL, NULL);
	if (rc != 0)
		return rc;
	if (pg->nmonths == (int)(sizeof(pg->months) / sizeof(pg->months[0])))
		pg->nmonths = 0;
	pg->months[pg->nmonths++] = m;
	return 0;
}

static int
create_schema(struct clog_pg *pg, const char *uri, char *err, size_t errlen)
{
	char ins[64];
	int v;

	/* two collectors starting on an empty database: one creates */
	if (exec_simple(pg, "BEGIN") != 0 ||
	    exec_simple(pg, "SELECT pg_advisory_xact_lock(7213001)") != 0)
		goto fail;
	if (schema_version(pg, &v) != 0)
		goto fail;
	if (v == 0) {
		snprintf(ins, sizeof(ins), "INSERT INTO icsentry_schema "
		    "VALUES (%d)", CENTRAL_LOG_SCHEMA);
		if (exec_simple(pg, schema_sql) != 0 ||
		    exec_simple(pg, ins) != 0)
			goto fail;
	} else if (v != CENTRAL_LOG_SCHEMA) {
		exec_simple(pg, "ROLLBACK");
		snprintf(err, errlen, "%s: schema version %d, this program "
		    "reads version %d only", uri, v, CENTRAL_LOG_SCHEMA);
		return IDS_EINVAL;
	}
	if (exec_simple(pg, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot create the schema: %s", uri,
	    clog_pg_errmsg(pg));
	exec_simple(pg, "ROLLBACK");
	return IDS_EIO;
}

/* Password-free form of the URI for messages. */
static void
safe_uri(const char *uri, char *out, size_t len)
{
	const char *at = strchr(uri, '@'), *colon;
	const char *start = strstr(uri, "://");

	if (at == NULL || start == NULL || at < start) {
		snprintf(out, len, "%s", uri);
		return;
	}
	start += 3;
	colon = memchr(start, ':', (size_t)(at - start));
	if (colon == NULL) {
		snprintf(out, len, "%s", uri);
		return;
	}
	snprintf(out, len, "%.*s:***%s", (int)(colon - uri), uri, at);
}

int
clog_pg_open(const char *uri, enum central_log_mode mode,
    enum central_log_sync sync, struct clog_pg **out, char *err,
    size_t errlen)
{
	struct clog_pg *pg;
	char shown[256];
	int v, rc;

	*out = NULL;
	safe_uri(uri, shown, sizeof(shown));
	pg = calloc(1, sizeof(*pg));
	if (pg == NULL || (pg->uri = strdup(uri)) == NULL) {
		free(pg);
		snprintf(err, errlen, "%s: out of memory", shown);
		return IDS_ENOMEM;
	}
	pg->rdwr = mode == CENTRAL_LOG_RDWR;
	pg->c = PQconnectdb(uri);
	if (pg->c == NULL || PQstatus(pg->c) != CONNECTION_OK) {
		set_err(pg, "");
		snprintf(err, errlen, "%s: cannot connect: %s", shown,
		    clog_pg_errmsg(pg));
		rc = IDS_EIO;
		goto fail;
	}
	PQsetNoticeProcessor(pg->c, quiet, NULL);
	/* a slot per backend, so concurrent writers rarely share a row */
	pg->slot = PQbackendPID(pg->c) % 16;
	if (pg->rdwr) {
		/* off: a commit survives a crash of the server process (the
		 * WAL is written) but not of the machine */
		if (exec_simple(pg, sync == CENTRAL_LOG_SYNC_FULL ?
		    "SET synchronous_commit = on" :
		    "SET synchronous_commit = off") != 0) {
			snprintf(err, errlen, "%s: %s", shown,
			    clog_pg_errmsg(pg));
			rc = IDS_EIO;
			goto fail;
		}
		rc = create_schema(pg, shown, err, errlen);
		if (rc != 0)
			goto fail;
		/* this month and the next exist before any batch needs them,
		 * so creating one rarely happens inside a transaction */
		if (ensure_partition(pg, now_us()) != 0 ||
		    ensure_partition(pg, month_start(now_us()) +
		    32LL * 86400 * 1000000) != 0) {
			snprintf(err, errlen, "%s: %s", shown,
			    clog_pg_errmsg(pg));
			rc = IDS_EIO;
			goto fail;
		}
	} else {
		if (exec_simple(pg, "SET default_transaction_read_only = on")
		    != 0 || schema_version(pg, &v) != 0) {
			snprintf(err, errlen, "%s: %s", shown,
			    clog_pg_errmsg(pg));
			rc = IDS_EIO;
			goto fail;
		}
		if (v != CENTRAL_LOG_SCHEMA) {
			snprintf(err, errlen, v == 0 ?
			    "%s: not an icsentry central log (no schema)" :
			    "%s: schema version %d, this program reads version "
			    "%d only", shown, v, CENTRAL_LOG_SCHEMA);
			rc = IDS_EINVAL;
			goto fail;
		}
	}
	*out = pg;
	return 0;
fail:
	clog_pg_close(pg);
	return rc;
}

static void	drop_queue(struct clog_pg *pg);

void *
clog_pg_conn(struct clog_pg *pg)
{
	/* deferred inserts go first: the caller's statements follow them */
	if (pg->nqrow > 0 && flush_queue(pg) != 0)
		return NULL;
	return ensure_conn(pg) == 0 ? pg->c : NULL;
}

void
clog_pg_close(struct clog_pg *pg)
{
	size_t i;

	if (pg == NULL)
		return;
	PQfinish(pg->c);
	for (i = 0; i < pg->nseen; i++) {
		free(pg->seen[i].site);
		free(pg->seen[i].agent);
	}
	free(pg->seen);
	free(pg->sent);
	for (i = 0; i < pg->nknown; i++)
		free(pg->known[i]);
	free(pg->known);
	drop_queue(pg);
	free(pg->q);
	free(pg->uri);
	free(pg);
}

/* ---- writing ----------------------------------------------------------- */

const char *
clog_pg_notice(struct clog_pg *pg, char *buf, size_t len)
{
	if (pg->notice[0] == '\0')
		return NULL;
	snprintf(buf, len, "%s", pg->notice);
	pg->notice[0] = '\0';
	return buf;
}

/*
 * The first time this connection meets (site, agent): when it is new to
 * the log and the name is known at another site, leave a notice (both are
 * kept as two agents).  Checked once per pair per connection, not per
 * alert.
 */
static int
check_new_agent(struct clog_pg *pg, const char *site, const char *agent)
{
	const char *p[2] = { site, agent };
	char key[300], **nk;
	PGresult *r;
	size_t i;
	bool known;
	int rc = 0;

	snprintf(key, sizeof(key), "%s/%s", site, agent);
	for (i = 0; i < pg->nknown; i++)
		if (strcmp(pg->known[i], key) == 0)
			return 0;
	r = execp(pg, ST_AGENT_KNOWN, 2, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	known = PQntuples(r) > 0;
	PQclear(r);
	if (!known) {
		r = execp(pg, ST_AGENT_OTHER_SITE, 2, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			set_res_err(pg, r);
			rc = IDS_EIO;
		} else if (PQntuples(r) == 1) {
			const char *o = PQgetvalue(r, 0, 0);

			snprintf(pg->notice, sizeof(pg->notice), "agent name "
			    "'%s' reports from site '%s' and also from '%s'; "
			    "kept as two agents, %s/%s and %s/%s", agent, site,
			    o, o, agent, site, agent);
		}
		PQclear(r);
		if (rc != 0)
			return rc;
	}
	if (pg->nknown == pg->capknown) {
		size_t n = pg->capknown ? pg->capknown * 2 : 64;

		nk = realloc(pg->known, n * sizeof(*nk));
		if (nk == NULL)
			return IDS_ENOMEM;
		pg->known = nk;
		pg->capknown = n;
	}
	pg->known[pg->nknown] = strdup(key);
	if (pg->known[pg->nknown] == NULL)
		return IDS_ENOMEM;
	pg->nknown++;
	return 0;
}

static void
drop_pending(struct clog_pg *pg)
{
	size_t i;

	for (i = 0; i < pg->nseen; i++) {
		free(pg->seen[i].site);
		free(pg->seen[i].agent);
	}
	pg->nseen = 0;
	pg->ndeltas = 0;
}

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = strcmp(x->site, y->site);

	return c != 0 ? c : strcmp(x->agent, y->agent);
}

/*
 * Write what this transaction accumulated.  Agents in (site, agent) order
 * and counters in name order: two collectors lock rows in the same order
 * and cannot deadlock on them.
 */
static int
flush_pending(struct clog_pg *pg)
{
	char slot[16], val[24], now[CENTRAL_LOG_TIME_LEN], ack[24], rep[24];
	const char *p[6];
	size_t i;
	int k, rc = 0;

	if (pg->nseen > 1)
		qsort(pg->seen, pg->nseen, sizeof(pg->seen[0]), cmp_seen);
	fmt_time(now_us(), now);
	for (i = 0; i < pg->nseen && rc == 0; i++) {
		fmt_i64(ack, sizeof(ack), pg->seen[i].acked);
		fmt_i64(rep, sizeof(rep), pg->seen[i].reported);
		p[0] = pg->seen[i].site;
		p[1] = pg->seen[i].agent;
		p[2] = pg->seen[i].at[0] != '\0' ? pg->seen[i].at : now;
		p[3] = ack;
		p[4] = rep;
		p[5] = pg->seen[i].at[0] != '\0' ? "t" : "f";
		rc = run(pg, ST_AGENT_SEEN, 6, p, NULL, NULL);
	}
	snprintf(slot, sizeof(slot), "%d", pg->slot);
	for (k = 0; k < pg->ndeltas && rc == 0; k++) {
		if (pg->deltas[k].v == 0)
			continue;
		snprintf(val, sizeof(val), "%" PRId64, pg->deltas[k].v);
		p[0] = pg->deltas[k].name;
		p[1] = slot;
		p[2] = val;
		rc = run(pg, ST_COUNT, 3, p, NULL, NULL);
	}
	drop_pending(pg);
	return rc;
}

static int
cmp_delta(const void *a, const void *b)
{
	return strcmp(((const struct delta *)a)->name,
	    ((const struct delta *)b)->name);
}

static int
add_delta(struct clog_pg *pg, const char *name, int64_t v)
{
	int k;

	for (k = 0; k < pg->ndeltas; k++)
		if (strcmp(pg->deltas[k].name, name) == 0) {
			pg->deltas[k].v += v;
			return 0;
		}
	if (pg->ndeltas == (int)(sizeof(pg->deltas) / sizeof(pg->deltas[0])) ||
	    strlen(name) >= sizeof(pg->deltas[0].name)) {
		/* unusual names are written at once */
		char slot[16], val[24];
		const char *p[3] = { name, slot, val };

		snprintf(slot, sizeof(slot), "%d", pg->slot);
		snprintf(val, sizeof(val), "%" PRId64, v);
		return run(pg, ST_COUNT, 3, p, NULL, NULL);
	}
	snprintf(pg->deltas[k].name, sizeof(pg->deltas[k].name), "%s", name);
	pg->deltas[k].v = v;
	pg->ndeltas++;
	qsort(pg->deltas, (size_t)pg->ndeltas, sizeof(pg->deltas[0]),
	    cmp_delta);
	return 0;
}

/* This transaction's pending change of (site, agent); NULL: no memory. */
static struct seen *
pending(struct clog_pg *pg, const char *site, const char *agent)
{
	struct seen *s;
	size_t i;

	for (i = 0; i < pg->nseen; i++)
		if (strcmp(pg->seen[i].site, site) == 0 &&
		    strcmp(pg->seen[i].agent, agent) == 0)
			return &pg->seen[i];
	if (pg->nseen == pg->capseen) {
		size_t n = pg->capseen ? pg->capseen * 2 : 16;

		s = realloc(pg->seen, n * sizeof(*s));
		if (s == NULL)
			return NULL;
		pg->seen = s;
		pg->capseen = n;
	}
	s = &pg->seen[pg->nseen];
	s->site = strdup(site);
	s->agent = strdup(agent);
	if (s->site == NULL || s->agent == NULL) {
		free(s->site);
		free(s->agent);
		return NULL;
	}
	s->at[0] = '\0';
	s->acked = s->reported = -1;
	pg->nseen++;
	return s;
}

static int
add_seen(struct clog_pg *pg, const char *site, const char *agent,
    const char *at)
{
	struct seen *s = pending(pg, site, agent);

	if (s == NULL)
		return IDS_ENOMEM;
	if (strcmp(at, s->at) > 0)
		snprintf(s->at, sizeof(s->at), "%s", at);
	return 0;
}

int
clog_pg_begin(struct clog_pg *pg)
{
	int rc;

	if (pg->in_tx) {
		snprintf(pg->errbuf, sizeof(pg->errbuf),
		    "transaction already open");
		return IDS_EINVAL;
	}
	rc = ensure_conn(pg);
	if (rc == 0)
		rc = exec_simple(pg, "BEGIN");
	if (rc == 0)
		pg->in_tx = true;
	drop_pending(pg);
	return rc;
}

int
clog_pg_commit(struct clog_pg *pg)
{
	int rc;

	if (!pg->in_tx)
		return 0;
	rc = flush_queue(pg);
	if (rc == 0)
		rc = flush_pending(pg);
	else
		drop_pending(pg);
	if (rc == 0)
		rc = exec_simple(pg, "COMMIT");
	else
		exec_simple(pg, "ROLLBACK");
	pg->in_tx = false;
	return rc;
}

int
clog_pg_rollback(struct clog_pg *pg)
{
	drop_queue(pg);
	drop_pending(pg);
	/* a partition created in the transaction is gone with it */
	pg->nmonths = 0;
	if (!pg->in_tx)
		return 0;
	pg->in_tx = false;
	if (PQstatus(pg->c) != CONNECTION_OK)
		return 0;	/* the server dropped it already */
	return exec_simple(pg, "ROLLBACK");
}

/* Run body as a transaction of its own unless the caller has one open. */
static int
auto_begin(struct clog_pg *pg, bool *mine)
{
	*mine = !pg->in_tx;
	return *mine ? clog_pg_begin(pg) : 0;
}

static int
auto_end(struct clog_pg *pg, bool mine, int rc)
{
	if (!mine)
		return rc;
	if (rc == 0)
		return clog_pg_commit(pg);
	clog_pg_rollback(pg);
	return rc;
}

/*
 * What ST_INSERT changing n rows means for the alert of parameters p
 * (raw JSON json[0..len)): new, or a duplicate or a conflict of the row
 * already there.
 */
static int
settle_row(struct clog_pg *pg, const char *const *pin, const char *json,
    size_t len, long n, enum central_log_stored *res)
{
	const char *p[19];
	PGresult *r;
	bool same;
	int rc;

	memcpy(p, pin, sizeof(p));
	if (n == 1) {
		*res = CENTRAL_LOG_NEW;
		rc = add_delta(pg, "stored", 1);
		if (rc == 0 && chain_check(p[15], json, len) != 0)
			rc = add_delta(pg, "bad_hash", 1);
		if (rc == 0)
			rc = check_new_agent(pg, p[0], p[1]);
		if (rc == 0)
			rc = add_seen(pg, p[0], p[1], p[18]);
		return rc;
	}
	/* Already there: the same bytes again, or a different alert. */
	r = execp(pg, ST_SELECT_RAW, 3, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	/* no row: the key's alert went with retention; count it seen */
	same = PQntuples(r) == 0 ||
	    ((size_t)PQgetlength(r, 0, 0) == len &&
	    memcmp(PQgetvalue(r, 0, 0), json, len) == 0);
	PQclear(r);
	if (same) {
		*res = CENTRAL_LOG_DUPLICATE;
		return add_delta(pg, "duplicates", 1);
	}
	*res = CENTRAL_LOG_CONFLICT;
	p[3] = p[17];
	p[4] = p[18];
	rc = run(pg, ST_INSERT_CONFLICT, 5, p, NULL, NULL);
	if (rc == 0)
		rc = add_delta(pg, "conflicts", 1);
	return rc;
}

static void
drop_queue(struct clog_pg *pg)
{
	size_t i;

	for (i = 0; i < pg->nqrow; i++)
		free(pg->q[i].buf);
	pg->nqrow = 0;
}

/* Copy the parameters of one alert to the end of the queue. */
static int
queue_row(struct clog_pg *pg, const char *const *p, size_t len, int64_t seq)
{
	size_t need = 0, l[19], i;
	struct qrow *q;
	char *b;

	if (pg->nqrow == pg->capq) {
		size_t n = pg->capq ? pg->capq * 2 : 256;

		q = realloc(pg->q, n * sizeof(*q));
		if (q == NULL)
			return IDS_ENOMEM;
		pg->q = q;
		pg->capq = n;
	}
	for (i = 0; i < 19; i++) {
		l[i] = p[i] == NULL ? 0 : i == 17 ? len : strlen(p[i]);
		need += l[i] + 1;
	}
	q = &pg->q[pg->nqrow];
	q->buf = b = malloc(need);
	if (b == NULL)
		return IDS_ENOMEM;
	for (i = 0; i < 19; i++) {
		if (p[i] == NULL) {
			q->p[i] = NULL;
			continue;
		}
		memcpy(b, p[i], l[i]);
		b[l[i]] = '\0';
		q->p[i] = b;
		b += l[i] + 1;
	}
	q->len = len;
	q->seq = seq;
	pg->nqrow++;
	return 0;
}

/*
 * Send every queued insert in one pipeline (one round trip, one server
 * sync), then settle each in order and tell qfn.  Any failure fails the
 * transaction, as a failed single insert does.
 */
static int
flush_queue(struct clog_pg *pg)
{
	struct qrow *q = pg->q;
	size_t n = pg->nqrow, sent = 0, i;
	enum central_log_stored res;
	long *changed = NULL;
	PGresult *r;
	ExecStatusType st;
	int rc = 0;

	if (n == 0)
		return 0;
	/* detached: the statements settling runs below must not flush it */
	pg->q = NULL;
	pg->nqrow = pg->capq = 0;
	changed = calloc(n, sizeof(*changed));
	if (changed == NULL) {
		rc = IDS_ENOMEM;
		goto out;
	}
	if (ensure_conn(pg) != 0 || prepare(pg, ST_INSERT) != 0) {
		rc = IDS_EIO;
		goto out;
	}
	if (PQenterPipelineMode(pg->c) != 1) {
		set_err(pg, "pipeline mode");
		rc = IDS_EIO;
		goto out;
	}
	for (sent = 0; sent < n; sent++)
		if (PQsendQueryPrepared(pg->c, "s0", 19, q[sent].p, NULL,
		    NULL, 0) != 1)
			break;
	if (sent < n) {
		set_err(pg, "pipeline send");
		rc = IDS_EIO;
	}
	if (PQpipelineSync(pg->c) != 1) {
		set_err(pg, "pipeline sync");
		rc = IDS_EIO;
		sent = 0;	/* nothing to read: the connection is gone */
	}
	for (i = 0; i < sent; i++) {
		r = PQgetResult(pg->c);
		if (r == NULL) {
			set_err(pg, "pipeline result");
			rc = IDS_EIO;
			break;
		}
		st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK) {
			changed[i] = strtol(PQcmdTuples(r), NULL, 10);
		} else if (rc == 0) {
			set_res_err(pg, r);
			rc = IDS_EIO;
		}
		PQclear(r);
		/* the NULL that ends this query's results */
		while ((r = PQgetResult(pg->c)) != NULL)
			PQclear(r);
	}
	if (i == sent) {
		/* the sync point */
		while ((r = PQgetResult(pg->c)) != NULL) {
			st = PQresultStatus(r);
			PQclear(r);
			if (st == PGRES_PIPELINE_SYNC)
				break;
		}
	}
	if (PQexitPipelineMode(pg->c) != 1 && rc == 0) {
		set_err(pg, "pipeline exit");
		rc = IDS_EIO;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = settle_row(pg, q[i].p, q[i].p[17], q[i].len, changed[i],
		    &res);
		if (rc == 0 && pg->qfn != NULL)
			pg->qfn(pg->qctx, q[i].p[0], q[i].p[1], q[i].seq, res);
	}
out:
	free(changed);
	for (i = 0; i < n; i++)
		free(q[i].buf);
	free(q);
	return rc;
}

int
clog_pg_defer_inserts(struct clog_pg *pg, int max, central_log_stored_fn fn,
    void *ctx)
{
	pg->qmax = max;
	pg->qfn = fn;
	pg->qctx = ctx;
	return 0;
}

static int
insert_row(struct clog_pg *pg, const struct central_log_alert *a,
    const char *json, size_t len, const char *received, bool defer,
    enum central_log_stored *res)
{
	char seq[24], tsus[24], sev[8], sport[8], dport[8], *raw;
	const char *p[19];
	long n = 0;
	int rc;

	/* the raw text is bound with its length: no copy needed unless it
	 * lacks a terminating NUL within len (libpq text wants C strings) */
	raw = malloc(len + 1);
	if (raw == NULL)
		return IDS_ENOMEM;
	memcpy(raw, json, len);
	raw[len] = '\0';
	fmt_i64(seq, sizeof(seq), a->seq);
	fmt_i64(tsus, sizeof(tsus), a->ts_us);
	snprintf(sev, sizeof(sev), "%d", a->sev);
	snprintf(sport, sizeof(sport), "%d", a->src_port);
	snprintf(dport, sizeof(dport), "%d", a->dst_port);
	p[0] = a->site;
	p[1] = a->agent;
	p[2] = seq;
	p[3] = a->ts;
	p[4] = tsus;
	p[5] = a->severity;
	p[6] = sev;
	p[7] = a->detector;
	p[8] = a->technique;
	p[9] = a->title;
	p[10] = a->proto;
	p[11] = a->src_ip;
	p[12] = a->src_port >= 0 ? sport : NULL;
	p[13] = a->dst_ip;
	p[14] = a->dst_port >= 0 ? dport : NULL;
	p[15] = a->prev_hash;
	p[16] = a->hash;
	p[17] = raw;
	p[18] = received;
	rc = ensure_partition(pg, a->ts_us);
	if (rc == 0 && defer) {
		/* deferred: settled when the queue is sent */
		rc = queue_row(pg, p, len, a->seq);
		if (rc == 0)
			*res = CENTRAL_LOG_QUEUED;
		if (rc == 0 && pg->nqrow >= (size_t)pg->qmax)
			rc = flush_queue(pg);
		goto out;
	}
	if (rc == 0)
		rc = run(pg, ST_INSERT, 19, p, NULL, &n);
	if (rc == 0)
		rc = settle_row(pg, p, raw, len, n, res);
out:
	free(raw);
	return rc;
}

int
clog_pg_insert(struct clog_pg *pg, const struct central_log_alert *a,
    const char *json, size_t len, int64_t received_us,
    enum central_log_stored *res)
{
	char received[CENTRAL_LOG_TIME_LEN];
	bool mine;
	int rc;

	fmt_time(received_us, received);
	rc = auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	/* only the caller's own transaction defers (its commit settles) */
	return auto_end(pg, mine, insert_row(pg, a, json, len, received,
	    !mine && pg->qmax > 0, res));
}

/* One statement as its own transaction (or within the caller's). */
static int
write_one(struct clog_pg *pg, enum st id, int n, const char *const *v)
{
	bool mine;
	int rc;

	rc = auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	return auto_end(pg, mine, run(pg, id, n, v, NULL, NULL));
}

/* A copy of json[0..len) as a C string; the caller frees. */
static char *
cstr(const char *json, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, json, len);
		s[len] = '\0';
	}
	return s;
}

int
clog_pg_agent_status(struct clog_pg *pg, const char *site, const char *agent,
    const char *status, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	const char *p[4] = { site, agent, status, at };

	if (check_new_agent(pg, site, agent) != 0)
		return IDS_EIO;
	fmt_time(at_us, at);
	return write_one(pg, ST_STATUS, 4, p);
}

int
clog_pg_agent_stats(struct clog_pg *pg, const char *site, const char *agent,
    const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN], *s = cstr(json, len);
	const char *p[4] = { site, agent, at, s };
	int rc;

	if (s == NULL)
		return IDS_ENOMEM;
	if (check_new_agent(pg, site, agent) != 0) {
		free(s);
		return IDS_EIO;
	}
	fmt_time(at_us, at);
	rc = write_one(pg, ST_STATS_JSON, 4, p);
	free(s);
	return rc;
}

int
clog_pg_asset(struct clog_pg *pg, const char *site, const char *agent,
    const char *ip, const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN], *s;
	const char *p[5] = { site, agent, ip, NULL, at };
	int rc;

	if (json == NULL || len == 0)
		return write_one(pg, ST_ASSET_DEL, 3, p);
	s = cstr(json, len);
	if (s == NULL)
		return IDS_ENOMEM;
	p[3] = s;
	fmt_time(at_us, at);
	rc = write_one(pg, ST_ASSET_PUT, 5, p);
	free(s);
	return rc;
}

int
clog_pg_count(struct clog_pg *pg, const char *name, int64_t delta)
{
	bool mine;
	int rc;

	rc = auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	return auto_end(pg, mine, add_delta(pg, name, delta));
}

/* First column of the only row of a prepared query, as an integer. */
static int
one_int(struct clog_pg *pg, enum st id, int n, const char *const *v,
    int64_t *out)
{
	PGresult *r = execp(pg, id, n, v, NULL);
	int rc = 0;

	*out = 0;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (!PQgetisnull(r, 0, 0)) {
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return rc;
}

int
clog_pg_counter(struct clog_pg *pg, const char *name, int64_t *value)
{
	const char *p[1] = { name };

	return one_int(pg, ST_COUNTER, 1, p, value);
}

/* ---- end-to-end acknowledgement ------------------------------------------ */

int
clog_pg_contiguous(struct clog_pg *pg, const char *site, const char *agent,
    int64_t from, int64_t *out)
{
	char after[24];
	const char *p[4] = { site, agent, after, "512" };
	int64_t cur = from, seq;
	PGresult *r;
	int i, n;

	*out = from;
	for (;;) {
		fmt_i64(after, sizeof(after), cur);
		r = execp(pg, ST_SEQS_AFTER, 4, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			set_res_err(pg, r);
			PQclear(r);
			return IDS_EIO;
		}
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
			if (seq != cur + 1)
				break;
			cur = seq;
		}
		PQclear(r);
		/* stopped at a gap, or at the end of what is stored */
		if (i < n || n < 512)
			break;
	}
	*out = cur;
	return 0;
}

int
clog_pg_next_seq(struct clog_pg *pg, const char *site, const char *agent,
    int64_t after, int64_t *out)
{
	char a[24];
	const char *p[4] = { site, agent, a, "1" };
	PGresult *r;

	*out = -1;
	fmt_i64(a, sizeof(a), after);
	r = execp(pg, ST_SEQS_AFTER, 4, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	if (PQntuples(r) == 1)
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int
clog_pg_agent_int(struct clog_pg *pg, bool reported, const char *site,
    const char *agent, int64_t *out)
{
	const char *p[2] = { site, agent };
	PGresult *r = execp(pg, reported ? ST_GET_REPORTED : ST_GET_ACKED, 2,
	    p, NULL);
	int rc = 0;

	size_t i;

	*out = 0;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (PQntuples(r) == 1) {
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	/* what this transaction set and has not written yet */
	for (i = 0; rc == 0 && i < pg->nseen; i++)
		if (strcmp(pg->seen[i].site, site) == 0 &&
		    strcmp(pg->seen[i].agent, agent) == 0) {
			int64_t v = reported ? pg->seen[i].reported :
			    pg->seen[i].acked;

			if (v > *out)
				*out = v;
		}
	return rc;
}

int
clog_pg_set_agent_int(struct clog_pg *pg, bool reported, const char *site,
    const char *agent, int64_t v)
{
	struct seen *s;
	bool mine;
	int rc;

	if (check_new_agent(pg, site, agent) != 0)
		return IDS_EIO;
	rc = auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	s = pending(pg, site, agent);
	if (s == NULL)
		rc = IDS_ENOMEM;
	else if (reported && v > s->reported)
		s->reported = v;
	else if (!reported && v > s->acked)
		s->acked = v;
	return auto_end(pg, mine, rc);
}

int
clog_pg_retain(struct clog_pg *pg, int64_t before_us, int64_t *removed)
{
	char v[24];
	const char *p[1] = { v };
	bool mine;
	int rc;

	*removed = 0;
	fmt_i64(v, sizeof(v), before_us);
	rc = auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	rc = one_int(pg, ST_RETAIN, 1, p, removed);
	if (rc == 0)
		rc = add_delta(pg, "retention_removed", *removed);
	rc = auto_end(pg, mine, rc);
	/* dropped months may come back (a late alert): ask again */
	pg->nmonths = 0;
	return rc;
}

/* ---- reading ----------------------------------------------------------- */

static const char *
col(PGresult *r, int i)
{
	return PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
}

static int64_t
col_i64(PGresult *r, int i)
{
	return PQgetisnull(r, 0, i) ? -1 : strtoll(PQgetvalue(r, 0, i), NULL,
	    10);
}

static void
fill_row(PGresult *r, struct central_log_row *row)
{
	row->id = col_i64(r, 0);
	row->agent = col(r, 1);
	row->seq = col_i64(r, 2);
	row->site = col(r, 3);
	row->ts = col(r, 4);
	row->ts_us = col_i64(r, 5);
	row->severity = col(r, 6);
	row->sev = (int)col_i64(r, 7);
	row->detector = col(r, 8);
	row->technique = col(r, 9);
	row->title = col(r, 10);
	row->proto = col(r, 11);
	row->src_ip = col(r, 12);
	row->src_port = (int)col_i64(r, 13);
	row->dst_ip = col(r, 14);
	row->dst_port = (int)col_i64(r, 15);
	row->prev_hash = col(r, 16);
	row->hash = col(r, 17);
	row->raw = PQgetvalue(r, 0, 18);
	row->raw_len = (size_t)PQgetlength(r, 0, 18);
	row->received_at = col(r, 19);
}

/* Per-row callback of a single-row-mode walk. */
typedef int (*pg_row_fn)(void *ctx, PGresult *r);

/*
 * Send a prepared statement (by name) and hand its rows over one at a
 * time.  A callback's non-zero return stops the walk (the rest of the
 * result is drained) and is returned.
 */
static int
walk(struct clog_pg *pg, const char *name, int n, const char *const *v,
    pg_row_fn fn, void *ctx)
{
	PGresult *r;
	int rc = 0, stop = 0;

	if (!PQsendQueryPrepared(pg->c, name, n, v, NULL, NULL, 0)) {
		set_err(pg, "");
		return IDS_EIO;
	}
	PQsetSingleRowMode(pg->c);
	while ((r = PQgetResult(pg->c)) != NULL) {
		switch (PQresultStatus(r)) {
		case PGRES_SINGLE_TUPLE:
			if (stop == 0 && rc == 0)
				stop = fn(ctx, r);
			break;
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			break;
		default:
			if (rc == 0) {
				set_res_err(pg, r);
				rc = IDS_EIO;
			}
		}
		PQclear(r);
	}
	return rc != 0 ? rc : stop;
}

static int
walk_st(struct clog_pg *pg, enum st id, int n, const char *const *v,
    pg_row_fn fn, void *ctx)
{
	char name[16];

	if (ensure_conn(pg) != 0 || prepare(pg, id) != 0)
		return IDS_EIO;
	snprintf(name, sizeof(name), "s%d", (int)id);
	return walk(pg, name, n, v, fn, ctx);
}

/* Prepare (once per shape) and walk a built query. */
static int
walk_built(struct clog_pg *pg, const struct clog_sql *q, pg_row_fn fn,
    void *ctx)
{
	char name[24], vals[CLOG_Q_MAXPARAM][24];
	const char *v[CLOG_Q_MAXPARAM];
	PGresult *r;
	int i;

	if (ensure_conn(pg) != 0)
		return IDS_EIO;
	snprintf(name, sizeof(name), "q%" PRIu32, q->shape);
	for (i = 0; i < pg->nq && pg->qshape[i] != q->shape; i++)
		;
	if (i == pg->nq) {
		if (pg->nq == QCACHE) {
			/* rare: forget them all */
			r = PQexec(pg->c, "DEALLOCATE ALL");
			PQclear(r);
			pg->nq = 0;
			pg->prepared = 0;
		}
		r = PQprepare(pg->c, name, q->text, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			set_res_err(pg, r);
			PQclear(r);
			return IDS_EIO;
		}
		PQclear(r);
		pg->qshape[pg->nq++] = q->shape;
	}
	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text) {
			v[i] = q->p[i].s;
		} else {
			fmt_i64(vals[i], sizeof(vals[i]), q->p[i].i);
			v[i] = vals[i];
		}
	}
	return walk(pg, name, q->nparams, v, fn, ctx);
}

struct rows_ctx {
	struct clog_pg		*pg;
	central_log_row_fn	 fn;
	void			*ctx;
	int64_t			*last_id;
	int64_t			 skip_upto;	/* follow: already sent? */
};

static bool
was_sent(const struct clog_pg *pg, int64_t id)
{
	size_t lo = 0, hi = pg->nsent;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;

		if (pg->sent[m] == id)
			return true;
		if (pg->sent[m] < id)
			lo = m + 1;
		else
			hi = m;
	}
	return false;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
row_cb(void *ctx, PGresult *r)
{
	struct rows_ctx *c = ctx;
	struct central_log_row row;

	fill_row(r, &row);
	if (c->last_id != NULL) {
		if (row.id <= c->skip_upto && was_sent(c->pg, row.id))
			return 0;
		if (c->pg->nsent == c->pg->capsent) {
			size_t n = c->pg->capsent ? c->pg->capsent * 2 : 256;
			int64_t *s = realloc(c->pg->sent, n * sizeof(*s));

			if (s == NULL)
				return IDS_ENOMEM;
			c->pg->sent = s;
			c->pg->capsent = n;
		}
		c->pg->sent[c->pg->nsent++] = row.id;
		if (row.id > *c->last_id)
			*c->last_id = row.id;
	}
	return c->fn(c->ctx, &row);
}

int
clog_pg_query(struct clog_pg *pg, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx)
{
	struct rows_ctx c = { pg, fn, ctx, NULL, 0 };
	struct clog_sql q;

	if (clog_query_build(&q, CLOG_PG, CLOG_Q_QUERY, ALERT_COLS, "alerts",
	    f) != 0) {
		snprintf(pg->errbuf, sizeof(pg->errbuf), "filter too long");
		return IDS_EINVAL;
	}
	return walk_built(pg, &q, row_cb, &c);
}

/*
 * Ids come from one sequence but several collectors commit in any order:
 * a row with a lower id can become visible after a higher one was shown.
 * So each poll looks again at ids above the highest one shown at least
 * SETTLE_US ago and skips those already shown; a transaction that takes
 * longer than that to commit is the only way to be missed.
 */
int
clog_pg_follow(struct clog_pg *pg, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx, int64_t *last_id)
{
	struct rows_ctx c = { pg, fn, ctx, last_id, -1 };
	struct central_log_filter g = *f;
	int64_t now = now_us(), settled = -1;
	struct clog_sql q;
	size_t i, k;
	int rc, h;

	if (f->after_id < 0) {
		/* a new tail: what is older than its first rows is not due */
		pg->nsent = 0;
		pg->nhist = 0;
		pg->floor = -1;
	} else {
		settled = pg->floor < f->after_id ? pg->floor : f->after_id;
		for (h = 0; h < pg->nhist; h++)
			if (now - pg->hist_us[h] >= SETTLE_US &&
			    pg->hist_id[h] > settled)
				settled = pg->hist_id[h];
		if (settled < f->after_id) {
			c.skip_upto = f->after_id;
			g.after_id = settled;
		}
		/* what is settled need not be remembered */
		for (i = k = 0; i < pg->nsent; i++)
			if (pg->sent[i] > settled)
				pg->sent[k++] = pg->sent[i];
		pg->nsent = k;
	}
	if (clog_query_build(&q, CLOG_PG, CLOG_Q_FOLLOW, ALERT_COLS, "alerts",
	    &g) != 0) {
		snprintf(pg->errbuf, sizeof(pg->errbuf), "filter too long");
		return IDS_EINVAL;
	}
	rc = walk_built(pg, &q, row_cb, &c);
	if (f->after_id < 0)
		pg->floor = *last_id;
	if (pg->nsent > 1)	/* sent is NULL before the first row */
		qsort(pg->sent, pg->nsent, sizeof(pg->sent[0]), cmp_i64);
	/* history of (time, highest id shown), oldest dropped */
	if (pg->nhist == 64) {
		memmove(pg->hist_us, pg->hist_us + 1, 63 * sizeof(int64_t));
		memmove(pg->hist_id, pg->hist_id + 1, 63 * sizeof(int64_t));
		pg->nhist = 63;
	}
	/* keep only one entry already past the settle time */
	while (pg->nhist >= 2 && now - pg->hist_us[1] >= SETTLE_US) {
		memmove(pg->hist_us, pg->hist_us + 1,
		    (size_t)(pg->nhist - 1) * sizeof(int64_t));
		memmove(pg->hist_id, pg->hist_id + 1,
		    (size_t)(pg->nhist - 1) * sizeof(int64_t));
		pg->nhist--;
	}
	if (pg->nhist == 0 || pg->hist_id[pg->nhist - 1] != *last_id ||
	    now - pg->hist_us[pg->nhist - 1] >= SETTLE_US / 4) {
		pg->hist_us[pg->nhist] = now;
		pg->hist_id[pg->nhist] = *last_id;
		pg->nhist++;
	}
	return rc;
}

struct count_ctx {
	central_log_count_fn	 fn;
	void			*ctx;
};

static int
count_cb(void *ctx, PGresult *r)
{
	struct count_ctx *c = ctx;

	return c->fn(c->ctx, PQgetvalue(r, 0, 0), col_i64(r, 1));
}

int
clog_pg_stats(struct clog_pg *pg, enum central_log_group g, int64_t since_us,
    int64_t until_us, central_log_count_fn fn, void *ctx)
{
	struct count_ctx c = { fn, ctx };
	char a[24], b[24];
	const char *p[2] = { a, b };

	fmt_i64(a, sizeof(a), since_us);
	fmt_i64(b, sizeof(b), until_us);
	return walk_st(pg, g == CENTRAL_LOG_BY_SEVERITY ? ST_BY_SEV :
	    g == CENTRAL_LOG_BY_DETECTOR ? ST_BY_DETECTOR : ST_BY_AGENT, 2, p,
	    count_cb, &c);
}

int
clog_pg_counters(struct clog_pg *pg, central_log_count_fn fn, void *ctx)
{
	struct count_ctx c = { fn, ctx };

	return walk_st(pg, ST_COUNTERS, 0, NULL, count_cb, &c);
}

struct agent_ctx {
	central_log_agent_fn	 fn;
	void			*ctx;
};

static int
agent_cb(void *ctx, PGresult *r)
{
	struct agent_ctx *c = ctx;
	struct central_log_agent_row a;

	a.site = col(r, 0);
	a.agent = col(r, 1);
	a.status = col(r, 2);
	a.last_seen = col(r, 3);
	a.stats = col(r, 4);
	return c->fn(c->ctx, &a);
}

int
clog_pg_agents(struct clog_pg *pg, central_log_agent_fn fn, void *ctx)
{
	struct agent_ctx c = { fn, ctx };

	return walk_st(pg, ST_AGENTS, 0, NULL, agent_cb, &c);
}

struct asset_ctx {
	central_log_asset_fn	 fn;
	void			*ctx;
};

static int
asset_cb(void *ctx, PGresult *r)
{
	struct asset_ctx *c = ctx;
	struct central_log_asset_row a;

	a.site = col(r, 0);
	a.agent = col(r, 1);
	a.ip = col(r, 2);
	a.json = col(r, 3);
	a.last_seen = col(r, 4);
	return c->fn(c->ctx, &a);
}

int
clog_pg_assets(struct clog_pg *pg, central_log_asset_fn fn, void *ctx)
{
	struct asset_ctx c = { fn, ctx };

	return walk_st(pg, ST_ASSETS, 0, NULL, asset_cb, &c);
}

int
clog_pg_alert_count(struct clog_pg *pg, int64_t *n)
{
	return one_int(pg, ST_ALERT_COUNT, 0, NULL, n);
}

int
clog_pg_asset_count(struct clog_pg *pg, int64_t *n)
{
	return one_int(pg, ST_ASSET_COUNT, 0, NULL, n);
}

/* ---- verify support ---------------------------------------------------- */

/* A chain's checkpoint or anchor: (seq, hash) when there is one. */
static int
chain_mark(struct clog_pg *pg, enum st id, const char *site,
    const char *agent, int64_t *seq, char **hash)
{
	const char *p[2] = { site, agent };
	PGresult *r = execp(pg, id, 2, p, NULL);
	int rc = 0;

	*hash = NULL;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (PQntuples(r) == 1) {
		*seq = col_i64(r, 0);
		*hash = strdup(PQgetvalue(r, 0, 1));
		if (*hash == NULL)
			rc = IDS_ENOMEM;
	}
	PQclear(r);
	return rc;
}

struct chain_item {
	char	*site, *agent, *ckpt_hash, *anchor_hash;
	int64_t	 ckpt_seq, anchor_seq;
};

static int
cmp_chain(const void *a, const void *b)
{
	const struct chain_item *x = a, *y = b;
	int c = strcmp(x->site, y->site);

	return c != 0 ? c : strcmp(x->agent, y->agent);
}

/*
 * Every (site, agent) with alerts, found in the alerts themselves (a
 * deleted agents row hides nothing), handed over in (site, agent) byte
 * order like SQLite's.  The list is made first: each chain's rows are
 * walked on the same connection afterwards.
 */
int
clog_pg_chains(struct clog_pg *pg, const char *site, const char *agent,
    clog_chain_fn fn, void *ctx)
{
	struct chain_item *v = NULL, *nv;
	struct clog_chain_ref c;
	char *ca = NULL, *cs = NULL;
	size_t n = 0, cap = 0, i;
	const char *p[2];
	PGresult *r;
	int rc = 0;

	for (;;) {
		p[0] = ca;
		p[1] = cs;
		r = execp(pg, ca == NULL ? ST_CHAIN_FIRST : ST_CHAIN_NEXT,
		    ca == NULL ? 0 : 2, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			set_res_err(pg, r);
			PQclear(r);
			rc = IDS_EIO;
			break;
		}
		if (PQntuples(r) == 0) {
			PQclear(r);
			break;
		}
		free(ca);
		free(cs);
		ca = strdup(PQgetvalue(r, 0, 0));
		cs = strdup(PQgetvalue(r, 0, 1));
		PQclear(r);
		if (ca == NULL || cs == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		if ((site != NULL && strcmp(site, cs) != 0) ||
		    (agent != NULL && strcmp(agent, ca) != 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = IDS_ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].site = strdup(cs);
		v[n].agent = strdup(ca);
		n++;
		if (v[n - 1].site == NULL || v[n - 1].agent == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		rc = chain_mark(pg, ST_CKPT_GET, cs, ca, &v[n - 1].ckpt_seq,
		    &v[n - 1].ckpt_hash);
		if (rc == 0)
			rc = chain_mark(pg, ST_ANCHOR_GET, cs, ca,
			    &v[n - 1].anchor_seq, &v[n - 1].anchor_hash);
		if (rc != 0)
			break;
	}
	free(ca);
	free(cs);
	if (rc == 0 && n > 1)
		qsort(v, n, sizeof(*v), cmp_chain);
	for (i = 0; i < n && rc == 0; i++) {
		c.site = v[i].site;
		c.agent = v[i].agent;
		c.have_ckpt = v[i].ckpt_hash != NULL;
		c.ckpt_seq = v[i].ckpt_seq;
		c.ckpt_hash = v[i].ckpt_hash;
		c.have_anchor = v[i].anchor_hash != NULL;
		c.anchor_seq = v[i].anchor_seq;
		c.anchor_hash = v[i].anchor_hash;
		rc = fn(ctx, &c);
	}
	for (i = 0; i < n; i++) {
		free(v[i].site);
		free(v[i].agent);
		free(v[i].ckpt_hash);
		free(v[i].anchor_hash);
	}
	free(v);
	return rc;
}

int
clog_pg_chain_rows(struct clog_pg *pg, const char *site, const char *agent,
    int64_t after_seq, central_log_row_fn fn, void *ctx)
{
	struct rows_ctx c = { pg, fn, ctx, NULL, 0 };
	char a[24];
	const char *p[3] = { site, agent, a };

	fmt_i64(a, sizeof(a), after_seq);
	return walk_st(pg, ST_CHAIN_ROWS, 3, p, row_cb, &c);
}

struct conflict_ctx {
	clog_conflict_fn	 fn;
	void			*ctx;
};

static int
conflict_cb(void *ctx, PGresult *r)
{
	struct conflict_ctx *c = ctx;

	return c->fn(c->ctx, col_i64(r, 0), PQgetvalue(r, 0, 1));
}

int
clog_pg_conflicts(struct clog_pg *pg, const char *site, const char *agent,
    clog_conflict_fn fn, void *ctx)
{
	struct conflict_ctx c = { fn, ctx };
	const char *p[2] = { site, agent };

	return walk_st(pg, ST_CONFLICTS, 2, p, conflict_cb, &c);
}

int
clog_pg_checkpoint(struct clog_pg *pg, const char *site, const char *agent,
    int64_t seq, const char *hash)
{
	char s[24];
	const char *p[4] = { site, agent, s, hash };

	fmt_i64(s, sizeof(s), seq);
	return write_one(pg, ST_CHECKPOINT, 4, p);
}
