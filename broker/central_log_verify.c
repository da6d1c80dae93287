/*
 * central_log_verify.c - verifying the central log: each agent's hash
 * chain, rows against their raw bytes, checkpoints (central_log.c).
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

/* ---- verify ----------------------------------------------------------- */

const char *
central_log_problem_name(enum central_log_problem p)
{
	switch (p) {
	case CENTRAL_LOG_P_INVALID:	return "invalid";
	case CENTRAL_LOG_P_CHANGED:	return "changed";
	case CENTRAL_LOG_P_COLUMNS:	return "changed";
	case CENTRAL_LOG_P_MISSING:	return "missing";
	case CENTRAL_LOG_P_LINK:	return "broken link";
	case CENTRAL_LOG_P_HEAD:	return "missing";
	case CENTRAL_LOG_P_CONFLICT:	return "conflict";
	}
	return "problem";
}

struct vstate {
	struct central_log			*db;
	const struct central_log_verify_ops	*ops;
	struct central_log_chain		 c;
	char					*site, *agent;
	bool					 have_prev, prev_known;
	int64_t					 prev_seq;
	char					 prev_hash[CHAIN_HEX_LEN + 1];
	int64_t					 from_seq;	/* rows > this */
	bool					 incremental;
	int64_t					 total;
	int					 stop;
	/* rows read ahead, checked on a second thread (vbatch below) */
	struct vrow				*rows[2];
	size_t					 nrows[2];
	int					 cur;		/* filling */
	bool					 busy;		/* !cur checking */
	pthread_t				 th;
};

static void
report(struct vstate *v, enum central_log_problem kind, int64_t seq,
    int64_t seq_to, const char *detail)
{
	struct central_log_issue i;

	v->c.problems++;
	v->total++;
	if (v->stop != 0 || v->ops == NULL || v->ops->issue == NULL)
		return;
	i.site = v->site;
	i.agent = v->agent;
	i.seq = seq;
	i.seq_to = seq_to;
	i.kind = kind;
	i.detail = detail;
	v->stop = v->ops->issue(v->ops->ctx, &i);
}
static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Append name to the list of differing columns in buf. */
static void
differs(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", name);
}

/* The columns of r that differ from its parsed raw JSON a, into cols. */
static void
columns_diff(const struct central_log_row *r,
    const struct central_log_alert *a, char *cols, size_t len)
{
	cols[0] = '\0';
	if (!str_eq(r->agent, a->agent))
		differs(cols, len, "agent");
	if (r->seq != a->seq)
		differs(cols, len, "seq");
	if (!str_eq(r->site, a->site))
		differs(cols, len, "site");
	if (!str_eq(r->ts, a->ts) || r->ts_us != a->ts_us)
		differs(cols, len, "ts");
	if (!str_eq(r->severity, a->severity) || r->sev != a->sev)
		differs(cols, len, "severity");
	if (!str_eq(r->detector, a->detector))
		differs(cols, len, "detector");
	if (!str_eq(r->technique, a->technique))
		differs(cols, len, "technique");
	if (!str_eq(r->title, a->title))
		differs(cols, len, "title");
	if (!str_eq(r->proto, a->proto))
		differs(cols, len, "proto");
	if (!str_eq(r->src_ip, a->src_ip) || r->src_port != a->src_port)
		differs(cols, len, "src");
	if (!str_eq(r->dst_ip, a->dst_ip) || r->dst_port != a->dst_port)
		differs(cols, len, "dst");
	if (!str_eq(r->prev_hash, a->prev_hash))
		differs(cols, len, "prev_hash");
	if (!str_eq(r->hash, a->hash))
		differs(cols, len, "hash");
}

/*
 * One row read ahead, owned (its strings copied into buf), and what the
 * checking thread found in it: everything of verify_row that looks at
 * the row alone (parse, columns, hash); the chain's links are checked in
 * order afterwards on the reading thread.
 */
struct vrow {
	struct central_log_row	 r;
	char			*buf;
	size_t			 cap;
	bool			 invalid;	/* raw JSON not an alert: why */
	char			 why[128];
	char			 cols[256];	/* differing columns, "" none */
	int64_t			 a_seq;		/* seq in the raw JSON */
	int			 chain;		/* chain_check() */
	char			 prev_hash[CHAIN_HEX_LEN + 1];
	char			 hash[CHAIN_HEX_LEN + 1];
};

#define VBATCH	512

/* Copy r (whose strings live in a statement or result) into d. */
static int
vrow_copy(struct vrow *d, const struct central_log_row *r)
{
	const char *const *src[] = { &r->agent, &r->site, &r->ts,
	    &r->severity, &r->detector, &r->technique, &r->title, &r->proto,
	    &r->src_ip, &r->dst_ip, &r->prev_hash, &r->hash, &r->received_at };
	const char **dst[] = { &d->r.agent, &d->r.site, &d->r.ts,
	    &d->r.severity, &d->r.detector, &d->r.technique, &d->r.title,
	    &d->r.proto, &d->r.src_ip, &d->r.dst_ip, &d->r.prev_hash,
	    &d->r.hash, &d->r.received_at };
	size_t need = r->raw_len + 1, l[13], i;
	char *p;

	for (i = 0; i < 13; i++) {
		l[i] = *src[i] != NULL ? strlen(*src[i]) + 1 : 0;
		need += l[i];
	}
	if (need > d->cap) {
		p = realloc(d->buf, need);
		if (p == NULL)
			return IDS_ENOMEM;
		d->buf = p;
		d->cap = need;
	}
	p = d->buf;
	d->r = *r;
	for (i = 0; i < 13; i++) {
		if (*src[i] == NULL) {
			*dst[i] = NULL;
			continue;
		}
		memcpy(p, *src[i], l[i]);
		*dst[i] = p;
		p += l[i];
	}
	if (r->raw_len > 0)
		memcpy(p, r->raw, r->raw_len);
	p[r->raw_len] = '\0';
	d->r.raw = p;
	return 0;
}

/* The part of verify_row that needs the row only (any thread). */
static void
vrow_check(struct vrow *x)
{
	struct central_log_alert a;

	x->invalid = central_log_alert_parse(x->r.raw, x->r.raw_len, &a,
	    x->why, sizeof(x->why)) != 0;
	if (x->invalid)
		return;
	columns_diff(&x->r, &a, x->cols, sizeof(x->cols));
	x->a_seq = a.seq;
	x->chain = chain_check(a.prev_hash, x->r.raw, x->r.raw_len);
	snprintf(x->prev_hash, sizeof(x->prev_hash), "%s", a.prev_hash);
	snprintf(x->hash, sizeof(x->hash), "%s", a.hash);
	central_log_alert_free(&a);
}

static int
conflict_seen(void *ctx, int64_t seq, const char *received_at)
{
	struct vstate *v = ctx;
	char detail[96];

	/* incremental: what was before the checkpoint was reported then */
	if (seq <= v->from_seq)
		return 0;
	snprintf(detail, sizeof(detail), "a different alert with this seq "
	    "arrived at %s", received_at != NULL ? received_at : "?");
	report(v, CENTRAL_LOG_P_CONFLICT, seq, seq, detail);
	return 0;
}

static int
finish_agent(struct vstate *v)
{
	sqlite3_stmt *s;
	char detail[160];
	int64_t reported, last;
	int rc;

	if (v->db->pg != NULL) {
		rc = clog_pg_conflicts(v->db->pg, v->site, v->agent,
		    conflict_seen, v);
		if (rc != 0)
			return rc;
	} else {
		s = clog_stmt(v->db, ST_CONFLICTS);
		if (s == NULL)
			return IDS_EIO;
		clog_bind_str(s, 1, v->site);
		clog_bind_str(s, 2, v->agent);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			conflict_seen(v, sqlite3_column_int64(s, 0),
			    clog_col_str(s, 1));
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return IDS_EIO;
	}
	/*
	 * A lost tail leaves no hole in the chain: only the agent's own word
	 * (its stats' last seq) shows it.
	 */
	rc = central_log_reported(v->db, v->site, v->agent, &reported);
	if (rc != 0)
		return rc;
	last = v->c.alerts > 0 ? v->c.last_seq : v->have_prev ? v->prev_seq : 0;
	if (reported > last) {
		snprintf(detail, sizeof(detail), "%" PRId64 " alert(s) after "
		    "seq %" PRId64 " absent: the agent reported seq %" PRId64
		    " (missing tail)", reported - last, last, reported);
		report(v, CENTRAL_LOG_P_MISSING, last + 1, reported, detail);
	}
	v->c.site = v->site;
	v->c.agent = v->agent;
	/* incremental: a chain with nothing new and nothing wrong is quiet */
	if (v->incremental && v->c.alerts == 0 && v->c.problems == 0)
		return 0;
	if (v->stop == 0 && v->ops != NULL && v->ops->chain_done != NULL)
		v->stop = v->ops->chain_done(v->ops->ctx, &v->c);
	return 0;
}

/* The rest of verify_row, in seq order, on a checked row. */
static void
verify_row(struct vstate *v, const struct vrow *x)
{
	const struct central_log_row *r = &x->r;
	char detail[400];

	if (v->c.alerts == 0)
		v->c.first_seq = r->seq;
	v->c.alerts++;
	v->c.last_seq = r->seq;
	if (x->invalid) {
		snprintf(detail, sizeof(detail), "raw JSON is not a valid "
		    "alert: %s", x->why);
		report(v, CENTRAL_LOG_P_INVALID, r->seq, r->seq, detail);
		v->have_prev = true;
		v->prev_known = false;
		v->prev_seq = r->seq;
		return;
	}
	if (x->cols[0] != '\0') {
		if (r->seq != x->a_seq)
			snprintf(detail, sizeof(detail), "row holds the alert "
			    "with seq %" PRId64 " (reordered); columns differ "
			    "from the raw JSON: %s", x->a_seq, x->cols);
		else
			snprintf(detail, sizeof(detail), "columns differ from "
			    "the raw JSON: %s", x->cols);
		report(v, CENTRAL_LOG_P_COLUMNS, r->seq, r->seq, detail);
	}
	if (x->chain < 0)
		report(v, CENTRAL_LOG_P_INVALID, r->seq, r->seq,
		    "raw JSON does not end in its hash");
	else if (x->chain == 1)
		report(v, CENTRAL_LOG_P_CHANGED, r->seq, r->seq,
		    "hash does not match the alert's content");
	if (!v->have_prev) {
		if (strcmp(x->prev_hash, CHAIN_GENESIS) != 0) {
			snprintf(detail, sizeof(detail), "alerts before seq "
			    "%" PRId64 " are missing (prev_hash is not the "
			    "genesis hash)", r->seq);
			report(v, CENTRAL_LOG_P_HEAD, r->seq, r->seq, detail);
		}
	} else if (r->seq - v->prev_seq > 1) {
		snprintf(detail, sizeof(detail), "%" PRId64 " alert(s) absent "
		    "between seq %" PRId64 " and %" PRId64,
		    r->seq - v->prev_seq - 1, v->prev_seq, r->seq);
		report(v, CENTRAL_LOG_P_MISSING, v->prev_seq + 1, r->seq - 1,
		    detail);
	} else if (v->prev_known && strcmp(x->prev_hash, v->prev_hash) != 0) {
		snprintf(detail, sizeof(detail), "prev_hash is not the hash of "
		    "seq %" PRId64 " (reordered, replaced or inserted)",
		    v->prev_seq);
		report(v, CENTRAL_LOG_P_LINK, r->seq, r->seq, detail);
	}
	v->have_prev = true;
	v->prev_known = true;
	v->prev_seq = r->seq;
	memcpy(v->prev_hash, x->hash, sizeof(v->prev_hash));
}

/*
 * Rows are read into one batch while the other is checked on a second
 * thread (parsing and hashing are most of verify's time; the chain's
 * links and every report stay in seq order on this thread).
 */
struct vjob {
	struct vrow	*rows;
	size_t		 n;
};

static void *
vbatch_run(void *arg)
{
	struct vjob *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++)
		vrow_check(&j->rows[i]);
	free(j);
	return NULL;
}

/* Wait for the batch being checked and take its rows in order. */
static void
vbatch_settle(struct vstate *v)
{
	int b = !v->cur;
	size_t i;

	if (!v->busy)
		return;
	pthread_join(v->th, NULL);
	v->busy = false;
	for (i = 0; i < v->nrows[b] && v->stop == 0; i++)
		verify_row(v, &v->rows[b][i]);
	v->nrows[b] = 0;
}

/* Hand the filling batch to the checking thread (or check it here). */
static void
vbatch_launch(struct vstate *v)
{
	struct vjob *j;
	int b = v->cur;

	vbatch_settle(v);
	if (v->nrows[b] == 0)
		return;
	j = malloc(sizeof(*j));
	if (j != NULL) {
		j->rows = v->rows[b];
		j->n = v->nrows[b];
		if (pthread_create(&v->th, NULL, vbatch_run, j) == 0) {
			v->busy = true;
			v->cur = !b;
			return;
		}
		free(j);
	}
	/* no thread: check it here, then take it */
	for (size_t i = 0; i < v->nrows[b]; i++)
		vrow_check(&v->rows[b][i]);
	for (size_t i = 0; i < v->nrows[b] && v->stop == 0; i++)
		verify_row(v, &v->rows[b][i]);
	v->nrows[b] = 0;
}

/* Everything read so far checked and taken (at the end of a chain). */
static void
vbatch_drain(struct vstate *v)
{
	vbatch_launch(v);
	vbatch_settle(v);
}

static void
vbatch_free(struct vstate *v)
{
	size_t i;
	int b;

	vbatch_settle(v);
	for (b = 0; b < 2; b++) {
		for (i = 0; v->rows[b] != NULL && i < VBATCH; i++)
			free(v->rows[b][i].buf);
		free(v->rows[b]);
		v->rows[b] = NULL;
	}
}

static int
verify_row_cb(void *ctx, const struct central_log_row *r)
{
	struct vstate *v = ctx;
	int rc;

	if (r->agent == NULL || r->site == NULL)
		return 0;
	if (v->rows[v->cur] == NULL) {
		v->rows[v->cur] = calloc(VBATCH, sizeof(struct vrow));
		if (v->rows[v->cur] == NULL)
			return IDS_ENOMEM;
	}
	rc = vrow_copy(&v->rows[v->cur][v->nrows[v->cur]], r);
	if (rc != 0)
		return rc;
	if (++v->nrows[v->cur] == VBATCH)
		vbatch_launch(v);
	return v->stop != 0 ? 1 : 0;
}

/* A checkpoint is written with the time of the verify that made it. */
static int
save_checkpoint(struct vstate *v)
{
	char now[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;
	int rc;

	if (v->db->pg != NULL)
		return clog_pg_checkpoint(v->db->pg, v->site, v->agent,
		    v->prev_seq, v->prev_hash);
	s = clog_stmt(v->db, ST_CHECKPOINT);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(central_log_now_us(), now);
	clog_bind_str(s, 1, v->site);
	clog_bind_str(s, 2, v->agent);
	sqlite3_bind_int64(s, 3, v->prev_seq);
	clog_bind_str(s, 4, v->prev_hash);
	clog_bind_str(s, 5, now);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_reset(s);
	return rc;
}

/*
 * One chain: start after retention's anchor (its last removed alert) or,
 * incremental, after the checkpoint of the last clean verify, whichever
 * is later; walk the rest in seq order; then its conflicts.
 */
static int
verify_chain(void *ctx, const struct clog_chain_ref *ref)
{
	struct vstate *v = ctx;
	sqlite3_stmt *s;
	struct central_log_row r;
	int rc = 0, step;

	memset(&v->c, 0, sizeof(v->c));
	free(v->site);
	free(v->agent);
	v->site = strdup(ref->site);
	v->agent = strdup(ref->agent);
	if (v->site == NULL || v->agent == NULL)
		return IDS_ENOMEM;
	v->have_prev = v->prev_known = false;
	v->from_seq = -1;
	if (ref->have_anchor) {
		v->have_prev = v->prev_known = true;
		v->from_seq = v->prev_seq = ref->anchor_seq;
		snprintf(v->prev_hash, sizeof(v->prev_hash), "%s",
		    ref->anchor_hash);
	}
	if (v->incremental && ref->have_ckpt && ref->ckpt_seq > v->from_seq) {
		v->have_prev = v->prev_known = true;
		v->from_seq = v->prev_seq = ref->ckpt_seq;
		snprintf(v->prev_hash, sizeof(v->prev_hash), "%s",
		    ref->ckpt_hash);
	}
	if (v->db->pg != NULL) {
		rc = clog_pg_chain_rows(v->db->pg, v->site, v->agent,
		    v->from_seq, verify_row_cb, v);
		if (rc == 1)
			rc = 0;		/* stopped by the caller */
	} else {
		s = clog_stmt(v->db, ST_CHAIN_ROWS);
		if (s == NULL)
			return IDS_EIO;
		clog_bind_str(s, 1, v->site);
		clog_bind_str(s, 2, v->agent);
		sqlite3_bind_int64(s, 3, v->from_seq);
		while (v->stop == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
			clog_fill_row(s, &r);
			rc = verify_row_cb(v, &r);
			if (rc != 0)
				break;
		}
		if (rc == 1)
			rc = 0;
		else if (rc == 0 && v->stop == 0 && step != SQLITE_DONE)
			rc = IDS_EIO;
		sqlite3_reset(s);
	}
	if (rc == 0)
		vbatch_drain(v);
	else
		vbatch_settle(v);
	v->nrows[0] = v->nrows[1] = 0;
	if (rc == 0)
		rc = finish_agent(v);
	if (rc == 0 && v->incremental && v->c.problems == 0 &&
	    v->c.alerts > 0 && v->prev_known)
		rc = save_checkpoint(v);
	return rc != 0 ? rc : v->stop;
}

/* A chain's checkpoint or anchor (seq, hash) from statement id. */
static int
chain_mark(struct central_log *db, enum st id, const char *site,
    const char *agent, bool *have, int64_t *seq, char *hash)
{
	sqlite3_stmt *s = clog_stmt(db, id);
	int rc;

	*have = false;
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && clog_col_str(s, 1) != NULL) {
		*have = true;
		*seq = sqlite3_column_int64(s, 0);
		snprintf(hash, CHAIN_HEX_LEN + 1, "%s", clog_col_str(s, 1));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/*
 * Every (site, agent) that has alerts, found in the alerts themselves
 * (one index seek per chain: a deleted agents row hides nothing), in
 * (site, agent) order.
 */
static int
sqlite_chains(struct central_log *db, const char *site, const char *agent,
    clog_chain_fn fn, void *ctx)
{
	char *cs = NULL, *ca = NULL, ckh[CHAIN_HEX_LEN + 1];
	char anh[CHAIN_HEX_LEN + 1];
	struct clog_chain_ref ref;
	sqlite3_stmt *s;
	int rc = 0, step;

	for (;;) {
		s = clog_stmt(db, cs == NULL ? ST_CHAIN_FIRST : ST_CHAIN_NEXT);
		if (s == NULL) {
			rc = IDS_EIO;
			break;
		}
		if (cs != NULL) {
			clog_bind_str(s, 1, cs);
			clog_bind_str(s, 2, ca);
		}
		step = sqlite3_step(s);
		if (step != SQLITE_ROW) {
			sqlite3_reset(s);
			rc = step == SQLITE_DONE ? 0 : IDS_EIO;
			break;
		}
		free(cs);
		free(ca);
		cs = strdup(clog_col_str(s, 0) != NULL ? clog_col_str(s, 0) : "");
		ca = strdup(clog_col_str(s, 1) != NULL ? clog_col_str(s, 1) : "");
		sqlite3_reset(s);
		if (cs == NULL || ca == NULL) {
			rc = IDS_ENOMEM;
			break;
		}
		if ((site != NULL && strcmp(site, cs) != 0) ||
		    (agent != NULL && strcmp(agent, ca) != 0))
			continue;
		memset(&ref, 0, sizeof(ref));
		ref.site = cs;
		ref.agent = ca;
		rc = chain_mark(db, ST_CKPT_GET, cs, ca, &ref.have_ckpt,
		    &ref.ckpt_seq, ckh);
		if (rc == 0)
			rc = chain_mark(db, ST_ANCHOR_GET, cs, ca,
			    &ref.have_anchor, &ref.anchor_seq, anh);
		ref.ckpt_hash = ckh;
		ref.anchor_hash = anh;
		if (rc == 0)
			rc = fn(ctx, &ref);
		if (rc != 0)
			break;
	}
	free(cs);
	free(ca);
	return rc;
}

static int
verify_walk(struct central_log *db, const char *site, const char *agent,
    bool incremental, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	struct vstate v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.db = db;
	v.ops = ops;
	v.incremental = incremental;
	*problems = 0;
	if (db->pg != NULL)
		rc = clog_pg_chains(db->pg, site, agent, verify_chain, &v);
	else
		rc = sqlite_chains(db, site, agent, verify_chain, &v);
	if (rc > 0)
		rc = 0;		/* the caller stopped the walk */
	vbatch_free(&v);
	free(v.site);
	free(v.agent);
	*problems = v.total;
	return rc;
}

int
central_log_verify(struct central_log *db, const char *site,
    const char *agent, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	return verify_walk(db, site, agent, false, ops, problems);
}

int
central_log_verify_incremental(struct central_log *db, const char *site,
    const char *agent, const struct central_log_verify_ops *ops,
    int64_t *problems)
{
	return verify_walk(db, site, agent, true, ops, problems);
}
