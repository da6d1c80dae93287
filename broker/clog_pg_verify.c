/*
 * clog_pg_verify.c - what central_log_verify needs from PostgreSQL: each
 * agent's chains, their rows, conflicts and checkpoints (clog_pg.c).
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

/* ---- verify support ---------------------------------------------------- */

/* A chain's checkpoint or anchor: (seq, hash) when there is one. */
static int
chain_mark(struct clog_pg *pg, enum st id, const char *site,
    const char *agent, int64_t *seq, char **hash)
{
	const char *p[2] = { site, agent };
	PGresult *r = clog_pg_execp(pg, id, 2, p, NULL);
	int rc = 0;

	*hash = NULL;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (PQntuples(r) == 1) {
		*seq = clog_pg_col_i64(r, 0);
		*hash = strdup(PQgetvalue(r, 0, 1));
		if (*hash == NULL)
			rc = IDS_ENOMEM;
	}
	PQclear(r);
	return rc;
}

struct chain_item {
	char	*site, *agent, *ckpt_hash, *anchor_hash;
	int64_t	 ckpt_seq, anchor_seq;
};

static int
cmp_chain(const void *a, const void *b)
{
	const struct chain_item *x = a, *y = b;
	int c = strcmp(x->site, y->site);

	return c != 0 ? c : strcmp(x->agent, y->agent);
}

/*
 * Every (site, agent) with alerts, found in the alerts themselves (a
 * deleted agents row hides nothing), handed over in (site, agent) byte
 * order like SQLite's.  The list is made first: each chain's rows are
 * walked on the same connection afterwards.
 */
int
clog_pg_chains(struct clog_pg *pg, const char *site, const char *agent,
    clog_chain_fn fn, void *ctx)
{
	struct chain_item *v = NULL, *nv;
	struct clog_chain_ref c;
	char *ca = NULL, *cs = NULL;
	size_t n = 0, cap = 0, i;
	const char *p[2];
	PGresult *r;
	int rc = 0;

	for (;;) {
		p[0] = ca;
		p[1] = cs;
		r = clog_pg_execp(pg, ca == NULL ? ST_CHAIN_FIRST : ST_CHAIN_NEXT,
		    ca == NULL ? 0 : 2, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			clog_pg_set_res_err(pg, r);
			PQclear(r);
			rc = IDS_EIO;
			break;
		}
		if (PQntuples(r) == 0) {
			PQclear(r);
			break;
		}
		free(ca);
		free(cs);
		ca = strdup(PQgetvalue(r, 0, 0));
		cs = strdup(PQgetvalue(r, 0, 1));
		PQclear(r);
		if (ca == NULL || cs == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		if ((site != NULL && strcmp(site, cs) != 0) ||
		    (agent != NULL && strcmp(agent, ca) != 0))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = IDS_ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].site = strdup(cs);
		v[n].agent = strdup(ca);
		n++;
		if (v[n - 1].site == NULL || v[n - 1].agent == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		rc = chain_mark(pg, ST_CKPT_GET, cs, ca, &v[n - 1].ckpt_seq,
		    &v[n - 1].ckpt_hash);
		if (rc == 0)
			rc = chain_mark(pg, ST_ANCHOR_GET, cs, ca,
			    &v[n - 1].anchor_seq, &v[n - 1].anchor_hash);
		if (rc != 0)
			break;
	}
	free(ca);
	free(cs);
	if (rc == 0 && n > 1)
		qsort(v, n, sizeof(*v), cmp_chain);
	for (i = 0; i < n && rc == 0; i++) {
		c.site = v[i].site;
		c.agent = v[i].agent;
		c.have_ckpt = v[i].ckpt_hash != NULL;
		c.ckpt_seq = v[i].ckpt_seq;
		c.ckpt_hash = v[i].ckpt_hash;
		c.have_anchor = v[i].anchor_hash != NULL;
		c.anchor_seq = v[i].anchor_seq;
		c.anchor_hash = v[i].anchor_hash;
		rc = fn(ctx, &c);
	}
	for (i = 0; i < n; i++) {
		free(v[i].site);
		free(v[i].agent);
		free(v[i].ckpt_hash);
		free(v[i].anchor_hash);
	}
	free(v);
	return rc;
}

int
clog_pg_chain_rows(struct clog_pg *pg, const char *site, const char *agent,
    int64_t after_seq, central_log_row_fn fn, void *ctx)
{
	struct rows_ctx c = { pg, fn, ctx, NULL, 0 };
	char a[24];
	const char *p[3] = { site, agent, a };

	clog_pg_fmt_i64(a, sizeof(a), after_seq);
	return clog_pg_walk_st(pg, ST_CHAIN_ROWS, 3, p, clog_pg_row_cb, &c);
}

struct conflict_ctx {
	clog_conflict_fn	 fn;
	void			*ctx;
};

static int
conflict_cb(void *ctx, PGresult *r)
{
	struct conflict_ctx *c = ctx;

	return c->fn(c->ctx, clog_pg_col_i64(r, 0), PQgetvalue(r, 0, 1));
}

int
clog_pg_conflicts(struct clog_pg *pg, const char *site, const char *agent,
    clog_conflict_fn fn, void *ctx)
{
	struct conflict_ctx c = { fn, ctx };
	const char *p[2] = { site, agent };

	return clog_pg_walk_st(pg, ST_CONFLICTS, 2, p, conflict_cb, &c);
}

int
clog_pg_checkpoint(struct clog_pg *pg, const char *site, const char *agent,
    int64_t seq, const char *hash)
{
	char s[24];
	const char *p[4] = { site, agent, s, hash };

	clog_pg_fmt_i64(s, sizeof(s), seq);
	return clog_pg_write_one(pg, ST_CHECKPOINT, 4, p);
}
