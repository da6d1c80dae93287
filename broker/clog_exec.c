/*
 * clog_exec.c - the SQLite side of clog_exec.h, the dispatch to the
 * PostgreSQL side (clog_triage_pg.c), and the triage schema for SQLite.
 */
#include "broker/clog_exec.h"

#include <sqlite3.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "lib/ids.h"

static _Thread_local char errbuf[512];

void
clog_exec_set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *
clog_exec_errmsg(void)
{
	return errbuf[0] != '\0' ? errbuf : "no error";
}

/*
 * The triage tables on SQLite (clog_triage.h).  alerts_received_sev serves
 * --since/--until on received time (received_at is fixed-width RFC 3339
 * UTC text, so text order is time order).
 */
static const char schema_sqlite[] =
	"CREATE TABLE IF NOT EXISTS triage_state ("
	" site TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" state TEXT NOT NULL, operator TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" PRIMARY KEY (site, agent, seq)) WITHOUT ROWID;"
	/* no query used it (a state filter goes through the LEFT JOIN of
	 * TRIAGE_FROM, EXPLAIN QUERY PLAN: SCAN alerts_ts): removed */
	"DROP INDEX IF EXISTS triage_state_state;"
	"CREATE TABLE IF NOT EXISTS incidents ("
	" id INTEGER PRIMARY KEY, site TEXT NOT NULL DEFAULT '',"
	" src_ip TEXT NOT NULL,"
	" first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	" count INTEGER NOT NULL, max_sev INTEGER NOT NULL,"
	" hosts TEXT NOT NULL, techniques TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'new', operator TEXT, updated_at TEXT);"
	"CREATE INDEX IF NOT EXISTS incidents_site_src"
	" ON incidents (site, src_ip, last_us);"
	"CREATE INDEX IF NOT EXISTS incidents_first ON incidents (first_us);"
	"CREATE TABLE IF NOT EXISTS incident_alerts ("
	" site TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" incident INTEGER NOT NULL,"
	" PRIMARY KEY (site, agent, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS incident_alerts_incident"
	" ON incident_alerts (incident);"
	"CREATE TABLE IF NOT EXISTS triage_audit ("
	" id INTEGER PRIMARY KEY, at TEXT NOT NULL, operator TEXT NOT NULL,"
	" kind TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL,"
	" text TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS triage_audit_target"
	" ON triage_audit (kind, target);"
	/* with sev: "critical alerts of the last day" checks the severity in
	 * the index, not in 30,000 critical rows (central_log_plan.c); the
	 * index of earlier versions (received_at alone) is replaced once */
	"DROP INDEX IF EXISTS alerts_received;"
	"CREATE INDEX IF NOT EXISTS alerts_received_sev"
	" ON alerts (received_at, sev);";

/* Does s look like an integer that round-trips as text? */
static bool
int_text(const char *s, long long *v)
{
	const char *p = s;
	char *end;

	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 19 || (p[0] == '0' && p[1] != '\0'))
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && strcmp(s, "-0") != 0;
}

/*
 * Prepared statements kept between clog_exec_cache_begin() and _end() on
 * one connection (a batch of incidents), keyed by the SQL text (found by
 * its address, confirmed by its content), so filing a batch parses each
 * statement once.  Outside a session nothing is kept.
 */
#define SCACHE	48

static struct {
	sqlite3		*h;
	const char	*sql;
	char		*text;		/* a copy of sql */
	sqlite3_stmt	*s;
} scache[SCACHE];
static pthread_mutex_t scache_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local sqlite3 *session;	/* caching for this connection */

static sqlite3_stmt *
cached(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *s = NULL;
	char *text;
	int i, free_slot = -1;

	if (session != h) {
		text = strdup(sql);
		if (text == NULL)
			return NULL;
		for (i = 0; text[i] != '\0'; i++)
			if (text[i] == '$')
				text[i] = '?';
		if (sqlite3_prepare_v2(h, text, -1, &s, NULL) != SQLITE_OK)
			s = NULL;
		free(text);
		return s;
	}
	pthread_mutex_lock(&scache_mu);
	for (i = 0; i < SCACHE; i++) {
		if (scache[i].h == h && scache[i].sql == sql) {
			if (strcmp(scache[i].text, sql) == 0) {
				s = scache[i].s;
				pthread_mutex_unlock(&scache_mu);
				return s;
			}
			/* the same buffer, another query: drop the old one */
			sqlite3_finalize(scache[i].s);
			free(scache[i].text);
			scache[i].h = NULL;
			scache[i].sql = NULL;
			scache[i].text = NULL;
			scache[i].s = NULL;
		}
		if (scache[i].h == NULL && free_slot < 0)
			free_slot = i;
	}
	pthread_mutex_unlock(&scache_mu);
	text = strdup(sql);
	if (text == NULL)
		return NULL;
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] == '$')
			text[i] = '?';
	if (sqlite3_prepare_v3(h, text, -1, free_slot >= 0 ?
	    SQLITE_PREPARE_PERSISTENT : 0, &s, NULL) != SQLITE_OK)
		s = NULL;
	free(text);
	if (s == NULL || free_slot < 0)
		return s;	/* full: the caller finalizes it */
	text = strdup(sql);
	pthread_mutex_lock(&scache_mu);
	if (text != NULL && scache[free_slot].h == NULL) {
		scache[free_slot].h = h;
		scache[free_slot].sql = sql;
		scache[free_slot].text = text;
		scache[free_slot].s = s;
		text = NULL;
	}
	pthread_mutex_unlock(&scache_mu);
	free(text);	/* not kept: s is not cached either */
	return s;
}

static bool
is_cached(const sqlite3_stmt *s)
{
	bool yes = false;
	int i;

	pthread_mutex_lock(&scache_mu);
	for (i = 0; i < SCACHE && !yes; i++)
		yes = scache[i].s == s;
	pthread_mutex_unlock(&scache_mu);
	return yes;
}

void
clog_exec_cache_begin(struct central_log *db)
{
	void *h, *c;

	int b = central_log_backend(db, &h, &c);

	if (b == 0)
		session = h;
	else if (b == 1)
		clog_exec_pg_session(c);
}

void
clog_exec_cache_end(struct central_log *db)
{
	sqlite3 *h = session;
	int i;

	(void)db;
	session = NULL;
	clog_exec_pg_session(NULL);
	if (h == NULL)
		return;
	pthread_mutex_lock(&scache_mu);
	for (i = 0; i < SCACHE; i++)
		if (scache[i].h == h) {
			sqlite3_finalize(scache[i].s);
			free(scache[i].text);
			scache[i].h = NULL;
			scache[i].sql = NULL;
			scache[i].text = NULL;
			scache[i].s = NULL;
		}
	pthread_mutex_unlock(&scache_mu);
}

static int
exec_sqlite(sqlite3 *h, const char *sql, int n, const char *const *params,
    clog_exec_fn fn, void *ctx)
{
	const char *v[32];
	sqlite3_stmt *s;
	long long iv;
	int i, nc, rc, stop = 0;

	s = cached(h, sql);
	if (s == NULL) {
		clog_exec_set_err("%s", sqlite3_errmsg(h));
		return IDS_EIO;
	}
	for (i = 0; i < n; i++) {
		if (params[i] == NULL)
			sqlite3_bind_null(s, i + 1);
		else if (int_text(params[i], &iv))
			sqlite3_bind_int64(s, i + 1, iv);
		else
			sqlite3_bind_text(s, i + 1, params[i], -1,
			    SQLITE_TRANSIENT);
	}
	nc = sqlite3_column_count(s);
	if (nc > 32)
		nc = 32;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn == NULL)
			continue;
		for (i = 0; i < nc; i++)
			v[i] = (const char *)sqlite3_column_text(s, i);
		stop = fn(ctx, nc, v);
		if (stop != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		clog_exec_set_err("%s", sqlite3_errmsg(h));
		stop = IDS_EIO;
	}
	if (is_cached(s)) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	} else {
		sqlite3_finalize(s);
	}
	return stop;
}

int
clog_exec(struct central_log *db, const char *sql, int n,
    const char *const *params, clog_exec_fn fn, void *ctx)
{
	void *h, *c;
	int b = central_log_backend(db, &h, &c);

	if (b < 0) {
		clog_exec_set_err("PostgreSQL connection lost");
		return b;
	}
	if (b == 1) {
		int rc = clog_exec_pg(c, sql, n, params, fn, ctx);

		if (rc < 0)
			clog_exec_set_err("%s", clog_exec_pg_errmsg());
		return rc;
	}
	return exec_sqlite(h, sql, n, params, fn, ctx);
}

void
clog_exec_settle(struct central_log *db)
{
	void *h, *c;

	/* the PostgreSQL handle is handed out after the queue is sent */
	(void)central_log_backend(db, &h, &c);
}

bool
clog_exec_is_pg(struct central_log *db)
{
	void *h, *c;

	return central_log_backend(db, &h, &c) != 0;
}

bool
clog_exec_in_tx(struct central_log *db)
{
	void *h, *c;
	int b = central_log_backend(db, &h, &c);

	if (b == 1)
		return clog_exec_pg_in_tx(c);
	if (b == 0)
		return sqlite3_get_autocommit(h) == 0;
	return false;
}

int
clog_exec_schema(struct central_log *db)
{
	void *h, *c;
	char *msg = NULL;
	int b = central_log_backend(db, &h, &c);

	if (b < 0) {
		clog_exec_set_err("PostgreSQL connection lost");
		return b;
	}
	if (b == 1) {
		if (clog_exec_pg_schema(c) != 0) {
			clog_exec_set_err("%s", clog_exec_pg_errmsg());
			return IDS_EIO;
		}
		return 0;
	}
	/* incidents of the first triage build had no site: add it (an
	 * error means the column is there already) */
	if (sqlite3_exec(h, "SELECT 1 FROM incidents LIMIT 0", NULL, NULL,
	    NULL) == SQLITE_OK &&
	    sqlite3_exec(h, "ALTER TABLE incidents ADD COLUMN site TEXT NOT"
	    " NULL DEFAULT ''", NULL, NULL, NULL) == SQLITE_OK)
		sqlite3_exec(h, "UPDATE incidents SET site = COALESCE((SELECT"
		    " site FROM incident_alerts WHERE incident = incidents.id"
		    " LIMIT 1), '')", NULL, NULL, NULL);
	if (sqlite3_exec(h, schema_sqlite, NULL, NULL, &msg) != SQLITE_OK) {
		clog_exec_set_err("%s", msg != NULL ? msg : sqlite3_errmsg(h));
		sqlite3_free(msg);
		return IDS_EIO;
	}
	return 0;
}
