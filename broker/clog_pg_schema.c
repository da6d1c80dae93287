/*
 * clog_pg_schema.c - opening the PostgreSQL central log: the schema and
 * its version, the connection's first checks, and closing it (clog_pg.c).
 */

#include "broker/clog_pg.h"
#include "broker/clog_pg_int.h"

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

static int
schema_version(struct clog_pg *pg, int *v)
{
	PGresult *r;
	int rc = 0;

	*v = 0;
	r = PQexec(pg->c, "SELECT to_regclass('icsentry_schema') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
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
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*v = atoi(PQgetvalue(r, 0, 0));
	} else {
		*v = -1;	/* the table is there but says nothing */
	}
	PQclear(r);
	return rc;
}

static int
create_schema(struct clog_pg *pg, const char *uri, char *err, size_t errlen)
{
	char ins[64];
	int v;

	/* two collectors starting on an empty database: one creates */
	if (clog_pg_exec_simple(pg, "BEGIN") != 0 ||
	    clog_pg_exec_simple(pg, "SELECT pg_advisory_xact_lock(7213001)") != 0)
		goto fail;
	if (schema_version(pg, &v) != 0)
		goto fail;
	if (v == 0) {
		snprintf(ins, sizeof(ins), "INSERT INTO icsentry_schema "
		    "VALUES (%d)", CENTRAL_LOG_SCHEMA);
		if (clog_pg_exec_simple(pg, schema_sql) != 0 ||
		    clog_pg_exec_simple(pg, ins) != 0)
			goto fail;
	} else if (v != CENTRAL_LOG_SCHEMA) {
		clog_pg_exec_simple(pg, "ROLLBACK");
		snprintf(err, errlen, "%s: schema version %d, this program "
		    "reads version %d only", uri, v, CENTRAL_LOG_SCHEMA);
		return IDS_EINVAL;
	}
	if (clog_pg_exec_simple(pg, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot create the schema: %s", uri,
	    clog_pg_errmsg(pg));
	clog_pg_exec_simple(pg, "ROLLBACK");
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
		clog_pg_set_err(pg, "");
		snprintf(err, errlen, "%s: cannot connect: %s", shown,
		    clog_pg_errmsg(pg));
		rc = IDS_EIO;
		goto fail;
	}
	PQsetNoticeProcessor(pg->c, clog_pg_quiet, NULL);
	/* a slot per backend, so concurrent writers rarely share a row */
	pg->slot = PQbackendPID(pg->c) % 16;
	if (pg->rdwr) {
		/* off: a commit survives a crash of the server process (the
		 * WAL is written) but not of the machine */
		if (clog_pg_exec_simple(pg, sync == CENTRAL_LOG_SYNC_FULL ?
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
		if (clog_pg_ensure_partition(pg, clog_pg_now_us()) != 0 ||
		    clog_pg_ensure_partition(pg, clog_pg_month_start(clog_pg_now_us()) +
		    32LL * 86400 * 1000000) != 0) {
			snprintf(err, errlen, "%s: %s", shown,
			    clog_pg_errmsg(pg));
			rc = IDS_EIO;
			goto fail;
		}
	} else {
		if (clog_pg_exec_simple(pg, "SET default_transaction_read_only = on")
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

void *
clog_pg_conn(struct clog_pg *pg)
{
	/* deferred inserts go first: the caller's statements follow them */
	if (pg->nqrow > 0 && clog_pg_flush_queue(pg) != 0)
		return NULL;
	return clog_pg_ensure_conn(pg) == 0 ? pg->c : NULL;
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
	clog_pg_drop_queue(pg);
	free(pg->q);
	free(pg->uri);
	free(pg);
}
