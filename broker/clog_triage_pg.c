/*
 * clog_triage_pg.c - the PostgreSQL side of clog_exec.h: statements with
 * text parameters (PQexecParams, unnamed: nothing to re-prepare after a
 * reconnect), and the triage tables (clog_triage.h).
 */
#include "broker/clog_exec.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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
	/* unused (the state filter is COALESCE over the LEFT JOIN): removed */
	"DROP INDEX IF EXISTS triage_state_state;"
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

/*
 * Statements prepared on a connection during a cache session (the
 * collector filing a batch's incidents: four statements an alert, which
 * PQexecParams parsed and planned each time: ~370 us of server CPU per
 * alert in bench-central).  Keyed by the connection and its backend pid
 * (a re-made connection has a new one and none of these), the text's
 * address and its content; kept for the next batches.
 */
#define PCACHE	32

/* one table for the process: a connection may be used by several threads
 * in turn (the collector's receive and main threads, under its lock) */
static struct {
	PGconn	*c;
	int	 pid;
	const char *sql;
	char	*text;
	char	 name[24];
} pcache[PCACHE];
static pthread_mutex_t pcache_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned pnext;
static _Thread_local PGconn *psession;

void
clog_exec_pg_session(void *conn)
{
	psession = conn;
}

/* The prepared name of sql on c (prepared now if new), or NULL; pcache_mu
 * held. */
static const char *
prepared_locked(PGconn *c, const char *sql, int n)
{
	int pid = PQbackendPID(c), i, slot = -1;
	PGresult *r;
	bool ok;

	for (i = 0; i < PCACHE; i++) {
		if (pcache[i].c == c && pcache[i].pid == pid &&
		    pcache[i].sql == sql && strcmp(pcache[i].text, sql) == 0)
			return pcache[i].name;
		/* free, or of this connection before it was re-made (another
		 * live connection's statements are left alone) */
		if (slot < 0 && (pcache[i].c == NULL || (pcache[i].c == c &&
		    pcache[i].pid != pid)))
			slot = i;
	}
	/* else one of another connection (most likely closed: a PGconn of
	 * a lost server is replaced by a new one) */
	for (i = 0; slot < 0 && i < PCACHE; i++)
		if (pcache[i].c != c)
			slot = i;
	if (slot < 0)
		return NULL;	/* full: unprepared, as outside a session */
	free(pcache[slot].text);
	memset(&pcache[slot], 0, sizeof(pcache[slot]));
	pcache[slot].text = strdup(sql);
	if (pcache[slot].text == NULL)
		return NULL;
	snprintf(pcache[slot].name, sizeof(pcache[slot].name), "icsx_%u",
	    pnext++);
	r = PQprepare(c, pcache[slot].name, sql, n, NULL);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		free(pcache[slot].text);
		memset(&pcache[slot], 0, sizeof(pcache[slot]));
		return NULL;
	}
	pcache[slot].c = c;
	pcache[slot].pid = pid;
	pcache[slot].sql = sql;
	return pcache[slot].name;
}

static const char *
prepared(PGconn *c, const char *sql, int n, char *out, size_t len)
{
	const char *name;

	pthread_mutex_lock(&pcache_mu);
	name = prepared_locked(c, sql, n);
	if (name != NULL)
		snprintf(out, len, "%s", name);
	pthread_mutex_unlock(&pcache_mu);
	return name != NULL ? out : NULL;
}

int
clog_exec_pg(void *conn, const char *sql, int n, const char *const *params,
    clog_exec_fn fn, void *ctx)
{
	PGconn *c = conn;
	PGresult *r;
	const char *v[32], *name = NULL;
	char nbuf[24];
	int i, j, nr, nc, stop = 0;

	/* a failed PQprepare inside a transaction aborts it: only outside
	 * an error state, and the caller's batch fails as with any error */
	if (psession == c && PQtransactionStatus(c) != PQTRANS_INERROR)
		name = prepared(c, sql, n, nbuf, sizeof(nbuf));
	if (name != NULL)
		r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
	else
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
