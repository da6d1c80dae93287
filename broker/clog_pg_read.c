/*
 * clog_pg_read.c - reading the PostgreSQL central log: filtered queries
 * in single-row mode, follow, group counts, agents, assets (clog_pg.c).
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

/* ---- reading ----------------------------------------------------------- */

static const char *
col(PGresult *r, int i)
{
	return PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
}

int64_t
clog_pg_col_i64(PGresult *r, int i)
{
	return PQgetisnull(r, 0, i) ? -1 : strtoll(PQgetvalue(r, 0, i), NULL,
	    10);
}

static void
fill_row(PGresult *r, struct central_log_row *row)
{
	row->id = clog_pg_col_i64(r, 0);
	row->agent = col(r, 1);
	row->seq = clog_pg_col_i64(r, 2);
	row->site = col(r, 3);
	row->ts = col(r, 4);
	row->ts_us = clog_pg_col_i64(r, 5);
	row->severity = col(r, 6);
	row->sev = (int)clog_pg_col_i64(r, 7);
	row->detector = col(r, 8);
	row->technique = col(r, 9);
	row->title = col(r, 10);
	row->proto = col(r, 11);
	row->src_ip = col(r, 12);
	row->src_port = (int)clog_pg_col_i64(r, 13);
	row->dst_ip = col(r, 14);
	row->dst_port = (int)clog_pg_col_i64(r, 15);
	row->prev_hash = col(r, 16);
	row->hash = col(r, 17);
	row->raw = PQgetvalue(r, 0, 18);
	row->raw_len = (size_t)PQgetlength(r, 0, 18);
	row->received_at = col(r, 19);
}

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
		clog_pg_set_err(pg, "");
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
				clog_pg_set_res_err(pg, r);
				rc = IDS_EIO;
			}
		}
		PQclear(r);
	}
	return rc != 0 ? rc : stop;
}

int
clog_pg_walk_st(struct clog_pg *pg, enum st id, int n, const char *const *v,
    pg_row_fn fn, void *ctx)
{
	char name[16];

	if (clog_pg_ensure_conn(pg) != 0 || clog_pg_prepare(pg, id) != 0)
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

	if (clog_pg_ensure_conn(pg) != 0)
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
			clog_pg_set_res_err(pg, r);
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
			clog_pg_fmt_i64(vals[i], sizeof(vals[i]), q->p[i].i);
			v[i] = vals[i];
		}
	}
	return walk(pg, name, q->nparams, v, fn, ctx);
}

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

int
clog_pg_row_cb(void *ctx, PGresult *r)
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
	return walk_built(pg, &q, clog_pg_row_cb, &c);
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
	int64_t now = clog_pg_now_us(), settled = -1;
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
	rc = walk_built(pg, &q, clog_pg_row_cb, &c);
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

	return c->fn(c->ctx, PQgetvalue(r, 0, 0), clog_pg_col_i64(r, 1));
}

int
clog_pg_stats(struct clog_pg *pg, enum central_log_group g, int64_t since_us,
    int64_t until_us, central_log_count_fn fn, void *ctx)
{
	struct count_ctx c = { fn, ctx };
	char a[24], b[24];
	const char *p[2] = { a, b };

	clog_pg_fmt_i64(a, sizeof(a), since_us);
	clog_pg_fmt_i64(b, sizeof(b), until_us);
	return clog_pg_walk_st(pg, g == CENTRAL_LOG_BY_SEVERITY ? ST_BY_SEV :
	    g == CENTRAL_LOG_BY_DETECTOR ? ST_BY_DETECTOR : ST_BY_AGENT, 2, p,
	    count_cb, &c);
}

int
clog_pg_counters(struct clog_pg *pg, central_log_count_fn fn, void *ctx)
{
	struct count_ctx c = { fn, ctx };

	return clog_pg_walk_st(pg, ST_COUNTERS, 0, NULL, count_cb, &c);
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

	return clog_pg_walk_st(pg, ST_AGENTS, 0, NULL, agent_cb, &c);
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

	return clog_pg_walk_st(pg, ST_ASSETS, 0, NULL, asset_cb, &c);
}

int
clog_pg_alert_count(struct clog_pg *pg, int64_t *n)
{
	return clog_pg_one_int(pg, ST_ALERT_COUNT, 0, NULL, n);
}

int
clog_pg_asset_count(struct clog_pg *pg, int64_t *n)
{
	return clog_pg_one_int(pg, ST_ASSET_COUNT, 0, NULL, n);
}
