/*
 * intel_log.c - the intel_agents table of the central log (see
 * intel_log.h), in SQLite or PostgreSQL.  Prepared statements only.
 */
#include "broker/intel_log.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "lib/ids.h"

struct intel_log {
	sqlite3		*db;
	sqlite3_stmt	*put;
	PGconn		*pg;		/* a postgresql:// log instead */
	bool		 pg_prepared;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS intel_agents ("
    " site TEXT NOT NULL, agent TEXT NOT NULL,"
    " fleet_version INTEGER, site_version INTEGER,"
    " indicators INTEGER NOT NULL DEFAULT 0,"
    " refused INTEGER NOT NULL DEFAULT 0, last_refusal TEXT,"
    " status TEXT NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (site, agent))";

static const char put_sql[] =
    "INSERT INTO intel_agents (site, agent, fleet_version, site_version,"
    " indicators, refused, last_refusal, status, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    " ON CONFLICT (site, agent) DO UPDATE SET"
    " fleet_version = excluded.fleet_version,"
    " site_version = excluded.site_version, indicators = excluded.indicators,"
    " refused = excluded.refused, last_refusal = excluded.last_refusal,"
    " status = excluded.status, updated_at = excluded.updated_at";

/*
 * PostgreSQL: the same table, its own connection (as the SQLite side
 * has its own), created under the advisory lock clog_pg.c takes for its
 * schema so that two collectors starting at once do not race.  Integers
 * are BIGINT, updated_at the same text as SQLite's.
 */
static const char pg_schema[] =
    "CREATE TABLE IF NOT EXISTS intel_agents ("
    " site TEXT NOT NULL, agent TEXT NOT NULL,"
    " fleet_version BIGINT, site_version BIGINT,"
    " indicators BIGINT NOT NULL DEFAULT 0,"
    " refused BIGINT NOT NULL DEFAULT 0, last_refusal TEXT,"
    " status TEXT NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (site, agent))";

static const char pg_put_sql[] =
    "INSERT INTO intel_agents (site, agent, fleet_version, site_version,"
    " indicators, refused, last_refusal, status, updated_at)"
    " VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7,"
    " $8, $9)"
    " ON CONFLICT (site, agent) DO UPDATE SET"
    " fleet_version = excluded.fleet_version,"
    " site_version = excluded.site_version, indicators = excluded.indicators,"
    " refused = excluded.refused, last_refusal = excluded.last_refusal,"
    " status = excluded.status, updated_at = excluded.updated_at";

static const char pg_list_sql[] =
    "SELECT site, agent, fleet_version, site_version, indicators, refused,"
    " last_refusal, status, updated_at FROM intel_agents ORDER BY site, agent";

static bool
is_pg_uri(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0;
}

static void
pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* "relation already exists, skipping" */
}

static int
pg_simple(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok ? 0 : -1;
}

/* Connected, the table there (rw) and the upsert prepared.  0 or -1. */
static int
pg_ready(struct intel_log *l, bool rw)
{
	PGresult *r;

	if (PQstatus(l->pg) != CONNECTION_OK) {
		PQreset(l->pg);
		l->pg_prepared = false;
		if (PQstatus(l->pg) != CONNECTION_OK)
			return -1;
	}
	if (!rw || l->pg_prepared)
		return 0;
	if (pg_simple(l->pg, "BEGIN") != 0 ||
	    pg_simple(l->pg, "SELECT pg_advisory_xact_lock(7213001)") != 0 ||
	    pg_simple(l->pg, pg_schema) != 0 ||
	    pg_simple(l->pg, "COMMIT") != 0) {
		(void)pg_simple(l->pg, "ROLLBACK");
		return -1;
	}
	r = PQprepare(l->pg, "intel_put", pg_put_sql, 9, NULL);
	l->pg_prepared = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return l->pg_prepared ? 0 : -1;
}

static int
pg_open(struct intel_log *l, const char *uri, bool rw, char *err,
    size_t errlen)
{
	l->pg = PQconnectdb(uri);
	if (l->pg == NULL) {
		snprintf(err, errlen, "out of memory");
		return IDS_ENOMEM;
	}
	PQsetNoticeProcessor(l->pg, pg_quiet, NULL);
	if (pg_ready(l, rw) != 0) {
		char msg[400];
		const char *at = strchr(uri, '@');

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(l->pg));
		msg[strcspn(msg, "\n")] = '\0';
		/* no password in the message: the part after '@' only */
		snprintf(err, errlen, "postgresql://...%s: intel_agents: %s",
		    at != NULL ? at : "", msg);
		return IDS_EIO;
	}
	return 0;
}

int
intel_log_open(const char *path, bool rw, struct intel_log **out, char *err,
    size_t errlen)
{
	struct intel_log *l;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return IDS_ENOMEM;
	}
	if (is_pg_uri(path)) {
		if ((rc = pg_open(l, path, rw, err, errlen)) != 0) {
			intel_log_close(l);
			return rc;
		}
		*out = l;
		return 0;
	}
	if (sqlite3_open_v2(path, &l->db, rw ? SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto fail;
	/* the collector's own connection writes alerts meanwhile */
	sqlite3_busy_timeout(l->db, 5000);
	if (rw && (sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, put_sql, -1, &l->put, NULL) != SQLITE_OK))
		goto fail;
	*out = l;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, l->db != NULL ?
	    sqlite3_errmsg(l->db) : "cannot open");
	intel_log_close(l);
	return IDS_EIO;
}

void
intel_log_close(struct intel_log *l)
{
	if (l == NULL)
		return;
	sqlite3_finalize(l->put);
	sqlite3_close(l->db);
	if (l->pg != NULL)
		PQfinish(l->pg);
	free(l);
}

/* A scope's "version" as decimal text, or NULL (none applied). */
static const char *
version_text(const cJSON *scope, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(scope, "version");

	if (!cJSON_IsNumber(v))
		return NULL;
	snprintf(buf, len, "%lld", (long long)v->valuedouble);
	return buf;
}

/* The upsert on PostgreSQL; one reconnect when the server went away. */
static int
pg_put(struct intel_log *l, const char *const v[9])
{
	PGresult *r;
	int tries, ok = 0;

	for (tries = 0; tries < 2 && !ok; tries++) {
		if (pg_ready(l, true) != 0) {
			l->pg_prepared = false;
			continue;
		}
		r = PQexecPrepared(l->pg, "intel_put", 9, v, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok && PQstatus(l->pg) == CONNECTION_OK)
			break;		/* the statement failed, not the link */
		if (!ok)
			l->pg_prepared = false;
	}
	return ok ? 0 : IDS_EIO;
}

int
intel_log_status(struct intel_log *l, const char *site, const char *agent,
    const char *json, size_t len, int64_t at_us)
{
	const cJSON *ind, *ref, *last;
	char at[40], *lr = NULL, fv[24], sv[24], iv[24], rv[24], *st = NULL;
	const char *v[9];
	time_t t = (time_t)(at_us / 1000000);
	struct tm tm;
	cJSON *o;
	int rc;

	o = cJSON_ParseWithLength(json, len);
	if (o == NULL || !cJSON_IsObject(o) ||
	    !cJSON_HasObjectItem(o, "fleet") || !cJSON_HasObjectItem(o, "site")) {
		cJSON_Delete(o);
		return IDS_EINVAL;
	}
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ind = cJSON_GetObjectItemCaseSensitive(o, "indicators");
	ref = cJSON_GetObjectItemCaseSensitive(o, "refused");
	last = cJSON_GetObjectItemCaseSensitive(o, "last_refusal");
	if (cJSON_IsObject(last))
		lr = cJSON_PrintUnformatted(last);
	snprintf(iv, sizeof(iv), "%lld", cJSON_IsNumber(ind) ?
	    (long long)ind->valuedouble : 0LL);
	snprintf(rv, sizeof(rv), "%lld", cJSON_IsNumber(ref) ?
	    (long long)ref->valuedouble : 0LL);
	v[0] = site;
	v[1] = agent;
	v[2] = version_text(cJSON_GetObjectItemCaseSensitive(o, "fleet"), fv,
	    sizeof(fv));
	v[3] = version_text(cJSON_GetObjectItemCaseSensitive(o, "site"), sv,
	    sizeof(sv));
	v[4] = iv;
	v[5] = rv;
	v[6] = lr;
	v[7] = NULL;
	v[8] = at;
	if (l->pg != NULL) {
		/* text parameters end at a NUL: the status as a string */
		st = strndup(json, len);
		if (st == NULL) {
			cJSON_free(lr);
			cJSON_Delete(o);
			return IDS_ENOMEM;
		}
		v[7] = st;
		rc = pg_put(l, v);
		free(st);
		cJSON_free(lr);
		cJSON_Delete(o);
		return rc;
	}
	sqlite3_reset(l->put);
	sqlite3_bind_text(l->put, 1, site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(l->put, 2, agent, -1, SQLITE_TRANSIENT);
	if (v[2] != NULL)
		sqlite3_bind_int64(l->put, 3, strtoll(v[2], NULL, 10));
	else
		sqlite3_bind_null(l->put, 3);
	if (v[3] != NULL)
		sqlite3_bind_int64(l->put, 4, strtoll(v[3], NULL, 10));
	else
		sqlite3_bind_null(l->put, 4);
	sqlite3_bind_int64(l->put, 5, strtoll(iv, NULL, 10));
	sqlite3_bind_int64(l->put, 6, strtoll(rv, NULL, 10));
	if (lr != NULL)
		sqlite3_bind_text(l->put, 7, lr, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(l->put, 7);
	sqlite3_bind_text(l->put, 8, json, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_text(l->put, 9, at, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(l->put) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_reset(l->put);
	cJSON_free(lr);
	cJSON_Delete(o);
	return rc;
}

/* One row of intel_agents, as text (NULL: SQL NULL), in the list order. */
static void
cli_row(const char *const c[9], bool json)
{
	char who[160];

	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(o, "site", c[0]);
		cJSON_AddStringToObject(o, "agent", c[1]);
		cJSON_AddStringToObject(o, "updated_at", c[8]);
		cJSON_AddItemToObject(o, "status", cJSON_Parse(c[7]));
		text = cJSON_PrintUnformatted(o);
		if (text != NULL)
			printf("%s\n", text);
		cJSON_free(text);
		cJSON_Delete(o);
		return;
	}
	snprintf(who, sizeof(who), "%s/%s", c[0], c[1]);
	printf("%-28s %7s %7s %10lld %7lld  %-20s  %s\n", who,
	    c[2] != NULL ? c[2] : "-", c[3] != NULL ? c[3] : "-",
	    strtoll(c[4], NULL, 10), strtoll(c[5], NULL, 10), c[8],
	    c[6] != NULL ? c[6] : "-");
}

/* Rows printed into *n; 0, or -1 when the query failed. */
static int
cli_rows_sqlite(struct intel_log *l, bool json, int *n)
{
	sqlite3_stmt *s = NULL;
	const char *c[9];
	int rc, i;

	rc = sqlite3_prepare_v2(l->db, pg_list_sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		/* a log no collector with intel support wrote to yet */
		if (strstr(sqlite3_errmsg(l->db), "no such table") != NULL)
			return 0;
		fprintf(stderr, "icsentry-log: %s\n", sqlite3_errmsg(l->db));
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < 9; i++)
			c[i] = sqlite3_column_type(s, i) == SQLITE_NULL ? NULL :
			    (const char *)sqlite3_column_text(s, i);
		cli_row(c, json);
		(*n)++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
cli_rows_pg(struct intel_log *l, bool json, int *n)
{
	const char *c[9];
	PGresult *r;
	int row, i;

	r = PQexec(l->pg, pg_list_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* 42P01 undefined_table: no collector wrote to it yet */
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		i = code != NULL && strcmp(code, "42P01") == 0 ? 0 : -1;
		if (i != 0)
			fprintf(stderr, "icsentry-log: %s", PQerrorMessage(l->pg));
		PQclear(r);
		return i;
	}
	for (row = 0; row < PQntuples(r); row++) {
		for (i = 0; i < 9; i++)
			c[i] = PQgetisnull(r, row, i) ? NULL :
			    PQgetvalue(r, row, i);
		cli_row(c, json);
		(*n)++;
	}
	PQclear(r);
	return 0;
}

static void
cli_usage(FILE *fp)
{
	fprintf(fp, "usage: icsentry-log intel [--db FILE] [--json]\n"
	    "  which threat-intel bundle version each agent applied, and its\n"
	    "  last refusal (from the agents' icsentry/<site>/<agent>/intel)\n");
}

int
intel_log_cli(int argc, char **argv, const char *default_db)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = default_db;
	struct intel_log *l;
	char err[512];
	bool json = false;
	int ch, rc, n = 0;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': path = optarg; break;
		case 'j': json = true; break;
		case 'h': cli_usage(stdout); return 0;
		default:
			fprintf(stderr, "icsentry-log: intel: bad option '%s' (see "
			    "--help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		cli_usage(stderr);
		return 2;
	}
	if (intel_log_open(path, false, &l, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-log: %s\n", err);
		return 1;
	}
	if (!json)
		printf("%-28s %7s %7s %10s %7s  %-20s  %s\n", "SITE/AGENT", "FLEET",
		    "SITE", "INDICATORS", "REFUSED", "UPDATED", "LAST REFUSAL");
	rc = l->pg != NULL ? cli_rows_pg(l, json, &n) : cli_rows_sqlite(l, json,
	    &n);
	intel_log_close(l);
	if (rc < 0) {
		fprintf(stderr, "icsentry-log: %s: query failed\n",
		    is_pg_uri(path) ? "postgresql log" : path);
		return 1;
	}
	if (!json && n == 0)
		printf("no agent has reported threat-intel status yet\n");
	return 0;
}
