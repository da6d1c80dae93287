/*
 * clog_pg_agents.c - the PostgreSQL central log's per-agent state: status,
 * stats, assets, counters, the end-to-end acknowledgement, and retention
 * (clog_pg.c).
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

int
clog_pg_agent_status(struct clog_pg *pg, const char *site, const char *agent,
    const char *status, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	const char *p[4] = { site, agent, status, at };

	if (clog_pg_check_new_agent(pg, site, agent) != 0)
		return IDS_EIO;
	clog_pg_fmt_time(at_us, at);
	return clog_pg_write_one(pg, ST_STATUS, 4, p);
}

int
clog_pg_agent_stats(struct clog_pg *pg, const char *site, const char *agent,
    const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN], *s = clog_pg_cstr(json, len);
	const char *p[4] = { site, agent, at, s };
	int rc;

	if (s == NULL)
		return IDS_ENOMEM;
	if (clog_pg_check_new_agent(pg, site, agent) != 0) {
		free(s);
		return IDS_EIO;
	}
	clog_pg_fmt_time(at_us, at);
	rc = clog_pg_write_one(pg, ST_STATS_JSON, 4, p);
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
		return clog_pg_write_one(pg, ST_ASSET_DEL, 3, p);
	s = clog_pg_cstr(json, len);
	if (s == NULL)
		return IDS_ENOMEM;
	p[3] = s;
	clog_pg_fmt_time(at_us, at);
	rc = clog_pg_write_one(pg, ST_ASSET_PUT, 5, p);
	free(s);
	return rc;
}

int
clog_pg_count(struct clog_pg *pg, const char *name, int64_t delta)
{
	bool mine;
	int rc;

	rc = clog_pg_auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	return clog_pg_auto_end(pg, mine, clog_pg_add_delta(pg, name, delta));
}

/* First column of the only row of a prepared query, as an integer. */
int
clog_pg_one_int(struct clog_pg *pg, enum st id, int n, const char *const *v,
    int64_t *out)
{
	PGresult *r = clog_pg_execp(pg, id, n, v, NULL);
	int rc = 0;

	*out = 0;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1) {
		clog_pg_set_res_err(pg, r);
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

	return clog_pg_one_int(pg, ST_COUNTER, 1, p, value);
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
		clog_pg_fmt_i64(after, sizeof(after), cur);
		r = clog_pg_execp(pg, ST_SEQS_AFTER, 4, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			clog_pg_set_res_err(pg, r);
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
	clog_pg_fmt_i64(a, sizeof(a), after);
	r = clog_pg_execp(pg, ST_SEQS_AFTER, 4, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
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
	PGresult *r = clog_pg_execp(pg, reported ? ST_GET_REPORTED : ST_GET_ACKED, 2,
	    p, NULL);
	int rc = 0;

	size_t i;

	*out = 0;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
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

	if (clog_pg_check_new_agent(pg, site, agent) != 0)
		return IDS_EIO;
	rc = clog_pg_auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	s = clog_pg_pending(pg, site, agent);
	if (s == NULL)
		rc = IDS_ENOMEM;
	else if (reported && v > s->reported)
		s->reported = v;
	else if (!reported && v > s->acked)
		s->acked = v;
	return clog_pg_auto_end(pg, mine, rc);
}

int
clog_pg_retain(struct clog_pg *pg, int64_t before_us, int64_t *removed)
{
	char v[24];
	const char *p[1] = { v };
	bool mine;
	int rc;

	*removed = 0;
	clog_pg_fmt_i64(v, sizeof(v), before_us);
	rc = clog_pg_auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	rc = clog_pg_one_int(pg, ST_RETAIN, 1, p, removed);
	if (rc == 0)
		rc = clog_pg_add_delta(pg, "retention_removed", *removed);
	rc = clog_pg_auto_end(pg, mine, rc);
	/* dropped months may come back (a late alert): ask again */
	pg->nmonths = 0;
	return rc;
}
