/*
 * intel_log.c - the intel_agents table of the central log (see
 * intel_log.h).  Prepared statements only.
 */
#include "broker/intel_log.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <sqlite3.h>

#include "lib/ids.h"

struct intel_log {
	sqlite3		*db;
	sqlite3_stmt	*put;
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

int
intel_log_open(const char *path, bool rw, struct intel_log **out, char *err,
    size_t errlen)
{
	struct intel_log *l;

	*out = NULL;
	if (strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0) {
		snprintf(err, errlen, "intel versions are kept in SQLite logs only "
		    "for now");
		return IDS_ENOTSUP;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return IDS_ENOMEM;
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
	free(l);
}

static void
bind_version(sqlite3_stmt *s, int i, const cJSON *scope)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(scope, "version");

	if (cJSON_IsNumber(v))
		sqlite3_bind_int64(s, i, (sqlite3_int64)v->valuedouble);
	else
		sqlite3_bind_null(s, i);
}

int
intel_log_status(struct intel_log *l, const char *site, const char *agent,
    const char *json, size_t len, int64_t at_us)
{
	const cJSON *ind, *ref, *last;
	char at[40], *lr = NULL;
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
	sqlite3_reset(l->put);
	sqlite3_bind_text(l->put, 1, site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(l->put, 2, agent, -1, SQLITE_TRANSIENT);
	bind_version(l->put, 3, cJSON_GetObjectItemCaseSensitive(o, "fleet"));
	bind_version(l->put, 4, cJSON_GetObjectItemCaseSensitive(o, "site"));
	sqlite3_bind_int64(l->put, 5, cJSON_IsNumber(ind) ?
	    (sqlite3_int64)ind->valuedouble : 0);
	sqlite3_bind_int64(l->put, 6, cJSON_IsNumber(ref) ?
	    (sqlite3_int64)ref->valuedouble : 0);
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
	sqlite3_stmt *s = NULL;
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
	rc = sqlite3_prepare_v2(l->db, "SELECT site, agent, fleet_version,"
	    " site_version, indicators, refused, last_refusal, status, updated_at"
	    " FROM intel_agents ORDER BY site, agent", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		/* a log no collector with intel support wrote to yet */
		if (strstr(sqlite3_errmsg(l->db), "no such table") != NULL) {
			if (!json)
				printf("no agent has reported threat-intel status yet\n");
			intel_log_close(l);
			return 0;
		}
		fprintf(stderr, "icsentry-log: %s: %s\n", path,
		    sqlite3_errmsg(l->db));
		intel_log_close(l);
		return 1;
	}
	if (!json)
		printf("%-28s %7s %7s %10s %7s  %-20s  %s\n", "SITE/AGENT", "FLEET",
		    "SITE", "INDICATORS", "REFUSED", "UPDATED", "LAST REFUSAL");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char who[160], fv[24], sv[24];
		const char *lr = (const char *)sqlite3_column_text(s, 6);

		n++;
		if (json) {
			cJSON *o = cJSON_CreateObject();
			char *text;

			cJSON_AddStringToObject(o, "site",
			    (const char *)sqlite3_column_text(s, 0));
			cJSON_AddStringToObject(o, "agent",
			    (const char *)sqlite3_column_text(s, 1));
			cJSON_AddStringToObject(o, "updated_at",
			    (const char *)sqlite3_column_text(s, 8));
			cJSON_AddItemToObject(o, "status", cJSON_Parse(
			    (const char *)sqlite3_column_text(s, 7)));
			text = cJSON_PrintUnformatted(o);
			if (text != NULL)
				printf("%s\n", text);
			cJSON_free(text);
			cJSON_Delete(o);
			continue;
		}
		snprintf(who, sizeof(who), "%s/%s", sqlite3_column_text(s, 0),
		    sqlite3_column_text(s, 1));
		snprintf(fv, sizeof(fv), "%s", sqlite3_column_type(s, 2) ==
		    SQLITE_NULL ? "-" : (const char *)sqlite3_column_text(s, 2));
		snprintf(sv, sizeof(sv), "%s", sqlite3_column_type(s, 3) ==
		    SQLITE_NULL ? "-" : (const char *)sqlite3_column_text(s, 3));
		printf("%-28s %7s %7s %10lld %7lld  %-20s  %s\n", who, fv, sv,
		    (long long)sqlite3_column_int64(s, 4),
		    (long long)sqlite3_column_int64(s, 5), sqlite3_column_text(s, 8),
		    lr != NULL ? lr : "-");
	}
	sqlite3_finalize(s);
	intel_log_close(l);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "icsentry-log: %s: query failed\n", path);
		return 1;
	}
	if (!json && n == 0)
		printf("no agent has reported threat-intel status yet\n");
	return 0;
}
