/*
 * central_log_read.c - reading the SQLite central log: filtered queries,
 * follow, group counts, agents, assets and counters (central_log.c).
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

/* ---- reading ---------------------------------------------------------- */

void
central_log_filter_init(struct central_log_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_us = INT64_MIN;
	f->until_us = INT64_MAX;
	f->after_id = -1;
}

void
clog_fill_row(sqlite3_stmt *s, struct central_log_row *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->agent = clog_col_str(s, 1);
	r->seq = sqlite3_column_int64(s, 2);
	r->site = clog_col_str(s, 3);
	r->ts = clog_col_str(s, 4);
	r->ts_us = sqlite3_column_int64(s, 5);
	r->severity = clog_col_str(s, 6);
	r->sev = sqlite3_column_int(s, 7);
	r->detector = clog_col_str(s, 8);
	r->technique = clog_col_str(s, 9);
	r->title = clog_col_str(s, 10);
	r->proto = clog_col_str(s, 11);
	r->src_ip = clog_col_str(s, 12);
	r->src_port = clog_col_port(s, 13);
	r->dst_ip = clog_col_str(s, 14);
	r->dst_port = clog_col_port(s, 15);
	r->prev_hash = clog_col_str(s, 16);
	r->hash = clog_col_str(s, 17);
	r->raw = (const char *)sqlite3_column_text(s, 18);
	r->raw_len = (size_t)sqlite3_column_bytes(s, 18);
	r->received_at = clog_col_str(s, 19);
	if (r->raw == NULL) {
		r->raw = "";
		r->raw_len = 0;
	}
}

static int
walk_rows(sqlite3_stmt *s, central_log_row_fn fn, void *ctx, int64_t *last_id)
{
	struct central_log_row r;
	int rc, stop = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		clog_fill_row(s, &r);
		if (last_id != NULL && r.id > *last_id)
			*last_id = r.id;
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/* The prepared statement of a built query (cached by shape), bound. */
static sqlite3_stmt *
built_stmt(struct central_log *db, const struct clog_sql *q)
{
	sqlite3_stmt *s = NULL;
	int i;

	for (i = 0; i < db->nq; i++)
		if (db->q[i].shape == q->shape) {
			s = db->q[i].s;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			break;
		}
	if (s == NULL) {
		if (db->nq == QCACHE) {
			/* rare (many filter combinations): start over */
			for (i = 0; i < db->nq; i++)
				sqlite3_finalize(db->q[i].s);
			db->nq = 0;
		}
		if (sqlite3_prepare_v3(db->h, q->text, -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			return NULL;
		db->q[db->nq].shape = q->shape;
		db->q[db->nq].s = s;
		db->nq++;
	}
	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text)
			sqlite3_bind_text(s, i + 1, q->p[i].s, -1,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, q->p[i].i);
	}
	return s;
}

static int
walk_built(struct central_log *db, enum clog_select kind,
    const struct central_log_filter *f, central_log_row_fn fn, void *ctx,
    int64_t *last_id)
{
	struct clog_sql q;
	sqlite3_stmt *s;

	if (clog_query_build_hint(&q, CLOG_SQLITE, kind, ALERT_COLS, "alerts",
	    f, clog_plan_noindex(db, f)) != 0)
		return IDS_EINVAL;
	s = built_stmt(db, &q);
	if (s == NULL)
		return IDS_EIO;
	return walk_rows(s, fn, ctx, last_id);
}

int
central_log_query(struct central_log *db, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx)
{
	if (db->pg != NULL)
		return clog_pg_query(db->pg, f, fn, ctx);
	return walk_built(db, CLOG_Q_QUERY, f, fn, ctx, NULL);
}

/*
 * SQLite has one writer at a time and ids grow with commits, so "id >
 * after_id" never skips a row: a poll while idle is one index probe.
 */
int
central_log_follow(struct central_log *db, const struct central_log_filter *f,
    central_log_row_fn fn, void *ctx, int64_t *last_id)
{
	if (db->pg != NULL)
		return clog_pg_follow(db->pg, f, fn, ctx, last_id);
	return walk_built(db, CLOG_Q_FOLLOW, f, fn, ctx, last_id);
}

static int
walk_counts(sqlite3_stmt *s, central_log_count_fn fn, void *ctx)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		stop = fn(ctx, clog_col_str(s, 0), sqlite3_column_int64(s, 1));
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

int
central_log_stats(struct central_log *db, enum central_log_group g,
    int64_t since_us, int64_t until_us, central_log_count_fn fn, void *ctx)
{
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_stats(db->pg, g, since_us, until_us, fn, ctx);
	s = clog_stmt(db, g == CENTRAL_LOG_BY_SEVERITY ? ST_BY_SEV :
	    g == CENTRAL_LOG_BY_DETECTOR ? ST_BY_DETECTOR : ST_BY_AGENT);
	if (s == NULL)
		return IDS_EIO;
	sqlite3_bind_int64(s, 1, since_us);
	sqlite3_bind_int64(s, 2, until_us);
	return walk_counts(s, fn, ctx);
}

int
central_log_counters(struct central_log *db, central_log_count_fn fn,
    void *ctx)
{
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_counters(db->pg, fn, ctx);
	if (clog_batch_flush(db) != 0)	/* an open batch's counts first */
		return IDS_EIO;
	s = clog_stmt(db, ST_COUNTERS);
	if (s == NULL)
		return IDS_EIO;
	return walk_counts(s, fn, ctx);
}

int
central_log_agents(struct central_log *db, central_log_agent_fn fn, void *ctx)
{
	struct central_log_agent_row r;
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (db->pg != NULL)
		return clog_pg_agents(db->pg, fn, ctx);
	if (clog_batch_flush(db) != 0)	/* an open batch's last_seen first */
		return IDS_EIO;
	s = clog_stmt(db, ST_AGENTS);
	if (s == NULL)
		return IDS_EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.site = clog_col_str(s, 0);
		r.agent = clog_col_str(s, 1);
		r.status = clog_col_str(s, 2);
		r.last_seen = clog_col_str(s, 3);
		r.stats = clog_col_str(s, 4);
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

int
central_log_assets(struct central_log *db, central_log_asset_fn fn, void *ctx)
{
	struct central_log_asset_row r;
	sqlite3_stmt *s;
	int rc, stop = 0;

	if (db->pg != NULL)
		return clog_pg_assets(db->pg, fn, ctx);
	s = clog_stmt(db, ST_ASSETS);
	if (s == NULL)
		return IDS_EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.site = clog_col_str(s, 0);
		r.agent = clog_col_str(s, 1);
		r.ip = clog_col_str(s, 2);
		r.json = clog_col_str(s, 3);
		r.last_seen = clog_col_str(s, 4);
		stop = fn(ctx, &r);
		if (stop != 0)
			break;
	}
	sqlite3_reset(s);
	if (stop != 0)
		return stop;
	return rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
count_rows(struct central_log *db, enum st id, int64_t *n)
{
	sqlite3_stmt *s = clog_stmt(db, id);
	int rc;

	*n = 0;
	if (s == NULL)
		return IDS_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : IDS_EIO;
}

int
central_log_alert_count(struct central_log *db, int64_t *n)
{
	if (db->pg != NULL)
		return clog_pg_alert_count(db->pg, n);
	return count_rows(db, ST_ALERT_COUNT, n);
}

int
central_log_asset_count(struct central_log *db, int64_t *n)
{
	if (db->pg != NULL)
		return clog_pg_asset_count(db->pg, n);
	return count_rows(db, ST_ASSET_COUNT, n);
}
