/*
 * clog_triage_pg.c - the PostgreSQL side of clog_exec.h: statements with
 * text parameters (PQexecParams, unnamed: nothing to re-prepare after a
 * reconnect), and the triage tables (clog_triage.h).
 */
#include "broker/clog_exec.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"

#define T	"text COLLATE \"C\""

/*
 * Created IF NOT EXISTS under an advisory lock (two collectors starting
 * at once).  icsentry_in_cidr() is false, not an error, for text that is
 * no address (src_ip is the agent's text, unchecked).
 */
static const char schema_pg[] =
	"SELECT pg_advisory_xact_lock(7213002);"
	"CREATE TABLE IF NOT EXISTS triage_state ("
	" site " T " NOT NULL, agent " T " NOT NULL, seq bigint NOT NULL,"
	" state " T " NOT NULL, operator " T " NOT NULL,"
	" updated_at " T " NOT NULL, PRIMARY KEY (site, agent, seq));"
	"CREATE INDEX IF NOT EXISTS triage_state_state ON triage_state (state);"
	"CREATE TABLE IF NOT EXISTS incidents ("
	" id bigserial PRIMARY KEY, site " T " NOT NULL DEFAULT '',"
	" src_ip " T " NOT NULL,"
	" first_us bigint NOT NULL, last_us bigint NOT NULL,"
	" count bigint NOT NULL, max_sev smallint NOT NULL,"
	" hosts " T " NOT NULL, techniques " T " NOT NULL,"
	" state " T " NOT NULL DEFAULT 'new', operator " T ","
	" updated_at " T ");"
	"CREATE INDEX IF NOT EXISTS incidents_first ON incidents (first_us);"
	"CREATE TABLE IF NOT EXISTS incident_alerts ("
	" site " T " NOT NULL, agent " T " NOT NULL, seq bigint NOT NULL,"
	" incident bigint NOT NULL, PRIMARY KEY (site, agent, seq));"
	"CREATE INDEX IF NOT EXISTS incident_alerts_incident"
	" ON incident_alerts (incident);"
	/* incidents of the first triage build had no site */
	"ALTER TABLE incidents ADD COLUMN IF NOT EXISTS"
	" site " T " NOT NULL DEFAULT '';"
	"UPDATE incidents SET site = COALESCE((SELECT site FROM"
	" incident_alerts WHERE incident = incidents.id LIMIT 1), '')"
	" WHERE site = '';"
	"CREATE INDEX IF NOT EXISTS incidents_site_src"
	" ON incidents (site, src_ip, last_us);"
	"CREATE TABLE IF NOT EXISTS triage_audit ("
	" id bigint PRIMARY KEY, at " T " NOT NULL, operator " T " NOT NULL,"
	" kind " T " NOT NULL, target " T " NOT NULL, action " T " NOT NULL,"
	" text " T " NOT NULL, prev_hash " T " NOT NULL, hash " T " NOT NULL);"
	"CREATE INDEX IF NOT EXISTS triage_audit_target"
	" ON triage_audit (kind, target);"
	"CREATE INDEX IF NOT EXISTS alerts_received ON alerts (received_at);"
	"CREATE OR REPLACE FUNCTION icsentry_in_cidr(ip text, net text)"
	" RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $f$"
	" BEGIN"
	"  IF ip IS NULL OR net IS NULL OR strpos(ip, '/') > 0 THEN"
	"   RETURN false; END IF;"
	"  RETURN ip::inet <<= net::cidr;"
	" EXCEPTION WHEN others THEN RETURN false;"
	" END $f$;";

static _Thread_local char pg_err[512];

const char *
clog_exec_pg_errmsg(void)
{
	return pg_err;
}

static void
res_err(PGconn *c, PGresult *r)
{
	const char *m = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c);
	size_t n = strlen(m);

	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	snprintf(pg_err, sizeof(pg_err), "%.*s", (int)n, m);
}

int
clog_exec_pg(void *conn, const char *sql, int n, const char *const *params,
    clog_exec_fn fn, void *ctx)
{
	PGconn *c = conn;
	PGresult *r;
	const char *v[32];
	int i, j, nr, nc, stop = 0;

	r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (r == NULL || (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)) {
		res_err(c, r);
		PQclear(r);
		return IDS_EIO;
	}
	nr = PQntuples(r);
	nc = PQnfields(r);
	if (nc > 32)
		nc = 32;
	for (i = 0; fn != NULL && i < nr && stop == 0; i++) {
		for (j = 0; j < nc; j++)
			v[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
		stop = fn(ctx, nc, v);
	}
	PQclear(r);
	return stop;
}

bool
clog_exec_pg_in_tx(void *conn)
{
	PGTransactionStatusType s = PQtransactionStatus(conn);

	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

int
clog_exec_pg_schema(void *conn)
{
	PGresult *r;
	bool ok;

	r = PQexec(conn, "BEGIN");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		res_err(conn, NULL);
		return IDS_EIO;
	}
	r = PQexec(conn, schema_pg);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		res_err(conn, r);
	PQclear(r);
	r = PQexec(conn, ok ? "COMMIT" : "ROLLBACK");
	if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
		res_err(conn, r);
		ok = false;
	}
	PQclear(r);
	return ok ? 0 : IDS_EIO;
}
