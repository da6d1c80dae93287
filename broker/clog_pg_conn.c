/*
 * clog_pg_conn.c - the PostgreSQL central log's statements, connection and
 * error text (clog_pg_int.h): the base every other clog_pg_*.c builds on,
 * so that the batch writer and the row writer do not depend on each other.
 */

#include "broker/clog_pg.h"
#include "broker/clog_pg_int.h"

#include <libpq-fe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ids.h"
#include "lib/rfc3339.h"
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
	/* a batch of ST_INSERT's rows, binary arrays (clog_pg_batch.c):
	 * first the keys, in queue order, then the rows of the new ones */
	[ST_KEYS_BATCH] =
	    "INSERT INTO alert_keys (site, agent, seq, id, ts_us)"
	    " SELECT site, agent, seq, nextval('alert_ids'), ts_us"
	    " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])"
	    " WITH ORDINALITY AS k(site, agent, seq, ts_us, o) ORDER BY o"
	    " ON CONFLICT DO NOTHING RETURNING site, agent, seq, id",
	[ST_ALERTS_BATCH] =
	    "INSERT INTO alerts (id, site, agent, seq, ts, ts_us, severity,"
	    " sev, detector, technique, title, proto, src_ip, src_port, dst_ip,"
	    " dst_port, prev_hash, hash, raw, received_at)"
	    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[],"
	    " $4::bigint[], $5::text[], $6::bigint[], $7::text[],"
	    " $8::smallint[], $9::text[], $10::text[], $11::text[],"
	    " $12::text[], $13::text[], $14::integer[], $15::text[],"
	    " $16::integer[], $17::text[], $18::text[], $19::text[],"
	    " $20::text[])",
};
/* ---- time (the same text as central_log_format_time) -------------------- */

int64_t
clog_pg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "YYYY-MM-DDThh:mm:ss.uuuuuuZ", as SQLite's received_at and last_seen */
void
clog_pg_fmt_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN])
{
	rfc3339_format_signed(us, out, CENTRAL_LOG_TIME_LEN);
}

/* ---- errors, connection ------------------------------------------------ */

void
clog_pg_fmt_i64(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
}

void
clog_pg_set_err(struct clog_pg *pg, const char *what)
{
	const char *m = pg->c != NULL ? PQerrorMessage(pg->c) : "";
	size_t n;

	snprintf(pg->errbuf, sizeof(pg->errbuf), "%s%s%s", what,
	    what[0] != '\0' && m[0] != '\0' ? ": " : "", m);
	n = strlen(pg->errbuf);
	while (n > 0 && (pg->errbuf[n - 1] == '\n' || pg->errbuf[n - 1] == ' '))
		pg->errbuf[--n] = '\0';
}

void
clog_pg_set_res_err(struct clog_pg *pg, PGresult *r)
{
	const char *m = r != NULL ? PQresultErrorMessage(r) : NULL;
	size_t n;

	if (m == NULL || m[0] == '\0') {
		clog_pg_set_err(pg, "");
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
void
clog_pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/*
 * Outside a transaction a broken connection is re-made on the next call
 * (the server restarted); inside one the transaction is lost anyway and
 * the caller must roll back and retry.
 */
int
clog_pg_ensure_conn(struct clog_pg *pg)
{
	if (PQstatus(pg->c) == CONNECTION_OK)
		return 0;
	if (pg->in_tx) {
		clog_pg_set_err(pg, "connection lost in a transaction");
		return IDS_EIO;
	}
	PQreset(pg->c);
	pg->prepared = 0;
	pg->nq = 0;
	if (PQstatus(pg->c) != CONNECTION_OK) {
		clog_pg_set_err(pg, "reconnect");
		return IDS_EIO;
	}
	PQsetNoticeProcessor(pg->c, clog_pg_quiet, NULL);
	return 0;
}

/* Run constant SQL with no parameters (transaction control, schema). */
int
clog_pg_exec_simple(struct clog_pg *pg, const char *text)
{
	PGresult *r = PQexec(pg->c, text);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
	}
	PQclear(r);
	return rc;
}

int
clog_pg_prepare(struct clog_pg *pg, enum st id)
{
	char name[16];
	PGresult *r;

	if (pg->prepared & (UINT64_C(1) << id))
		return 0;
	snprintf(name, sizeof(name), "s%d", (int)id);
	r = PQprepare(pg->c, name, sql[id], 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		clog_pg_set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	PQclear(r);
	pg->prepared |= UINT64_C(1) << id;
	return 0;
}
