/*
 * clog_pg.c - PostgreSQL central alert log (clog_pg.h, DESIGN.md
 * "Central log").  libpq only; text parameters bound to prepared
 * statements, results in single-row mode so a walk over millions of
 * alerts holds one row at a time.
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

/* Execute prepared id with text parameters (NULL = SQL NULL). */

PGresult *
clog_pg_execp(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *lens)
{
	char name[16];

	/* what was queued runs first: statements keep their order */
	if (pg->nqrow > 0 && clog_pg_flush_queue(pg) != 0)
		return NULL;
	if (clog_pg_ensure_conn(pg) != 0 || clog_pg_prepare(pg, id) != 0)
		return NULL;
	snprintf(name, sizeof(name), "s%d", (int)id);
	return PQexecPrepared(pg->c, name, n, v, lens, NULL, 0);
}

/* A prepared statement returning no rows (or ignored ones). */
static int
run(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *lens, long *changed)
{
	PGresult *r = clog_pg_execp(pg, id, n, v, lens);
	ExecStatusType s;
	int rc = 0;

	if (r == NULL) {
		if (pg->errbuf[0] == '\0')
			clog_pg_set_err(pg, "");
		return IDS_EIO;
	}
	s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
	} else if (changed != NULL) {
		*changed = strtol(PQcmdTuples(r), NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* Month [lo, hi) in us (UTC) holding us. */
int64_t
clog_pg_month_start(int64_t us)
{
	time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm) * 1000000;
}

int
clog_pg_ensure_partition(struct clog_pg *pg, int64_t ts_us)
{
	int64_t m = clog_pg_month_start(ts_us);
	char v[24];
	const char *p[1] = { v };
	int i, rc;

	for (i = 0; i < pg->nmonths; i++)
		if (pg->months[i] == m)
			return 0;
	snprintf(v, sizeof(v), "%" PRId64, ts_us);
	rc = run(pg, ST_PARTITION, 1, p, NULL, NULL);
	if (rc != 0)
		return rc;
	if (pg->nmonths == (int)(sizeof(pg->months) / sizeof(pg->months[0])))
		pg->nmonths = 0;
	pg->months[pg->nmonths++] = m;
	return 0;
}

/* ---- writing ----------------------------------------------------------- */

const char *
clog_pg_notice(struct clog_pg *pg, char *buf, size_t len)
{
	if (pg->notice[0] == '\0')
		return NULL;
	snprintf(buf, len, "%s", pg->notice);
	pg->notice[0] = '\0';
	return buf;
}

/*
 * The first time this connection meets (site, agent): when it is new to
 * the log and the name is known at another site, leave a notice (both are
 * kept as two agents).  Checked once per pair per connection, not per
 * alert.
 */
int
clog_pg_check_new_agent(struct clog_pg *pg, const char *site, const char *agent)
{
	const char *p[2] = { site, agent };
	char key[300], **nk;
	PGresult *r;
	size_t i;
	bool known;
	int rc = 0;

	snprintf(key, sizeof(key), "%s/%s", site, agent);
	for (i = 0; i < pg->nknown; i++)
		if (strcmp(pg->known[i], key) == 0)
			return 0;
	r = clog_pg_execp(pg, ST_AGENT_KNOWN, 2, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	known = PQntuples(r) > 0;
	PQclear(r);
	if (!known) {
		r = clog_pg_execp(pg, ST_AGENT_OTHER_SITE, 2, p, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
			clog_pg_set_res_err(pg, r);
			rc = IDS_EIO;
		} else if (PQntuples(r) == 1) {
			const char *o = PQgetvalue(r, 0, 0);

			snprintf(pg->notice, sizeof(pg->notice), "agent name "
			    "'%s' reports from site '%s' and also from '%s'; "
			    "kept as two agents, %s/%s and %s/%s", agent, site,
			    o, o, agent, site, agent);
		}
		PQclear(r);
		if (rc != 0)
			return rc;
	}
	if (pg->nknown == pg->capknown) {
		size_t n = pg->capknown ? pg->capknown * 2 : 64;

		nk = realloc(pg->known, n * sizeof(*nk));
		if (nk == NULL)
			return IDS_ENOMEM;
		pg->known = nk;
		pg->capknown = n;
	}
	pg->known[pg->nknown] = strdup(key);
	if (pg->known[pg->nknown] == NULL)
		return IDS_ENOMEM;
	pg->nknown++;
	return 0;
}

static void
drop_pending(struct clog_pg *pg)
{
	size_t i;

	for (i = 0; i < pg->nseen; i++) {
		free(pg->seen[i].site);
		free(pg->seen[i].agent);
	}
	pg->nseen = 0;
	pg->ndeltas = 0;
}

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = strcmp(x->site, y->site);

	return c != 0 ? c : strcmp(x->agent, y->agent);
}

/*
 * Write what this transaction accumulated.  Agents in (site, agent) order
 * and counters in name order: two collectors lock rows in the same order
 * and cannot deadlock on them.
 */
static int
flush_pending(struct clog_pg *pg)
{
	char slot[16], val[24], now[CENTRAL_LOG_TIME_LEN], ack[24], rep[24];
	const char *p[6];
	size_t i;
	int k, rc = 0;

	if (pg->nseen > 1)
		qsort(pg->seen, pg->nseen, sizeof(pg->seen[0]), cmp_seen);
	clog_pg_fmt_time(clog_pg_now_us(), now);
	for (i = 0; i < pg->nseen && rc == 0; i++) {
		clog_pg_fmt_i64(ack, sizeof(ack), pg->seen[i].acked);
		clog_pg_fmt_i64(rep, sizeof(rep), pg->seen[i].reported);
		p[0] = pg->seen[i].site;
		p[1] = pg->seen[i].agent;
		p[2] = pg->seen[i].at[0] != '\0' ? pg->seen[i].at : now;
		p[3] = ack;
		p[4] = rep;
		p[5] = pg->seen[i].at[0] != '\0' ? "t" : "f";
		rc = run(pg, ST_AGENT_SEEN, 6, p, NULL, NULL);
	}
	snprintf(slot, sizeof(slot), "%d", pg->slot);
	for (k = 0; k < pg->ndeltas && rc == 0; k++) {
		if (pg->deltas[k].v == 0)
			continue;
		snprintf(val, sizeof(val), "%" PRId64, pg->deltas[k].v);
		p[0] = pg->deltas[k].name;
		p[1] = slot;
		p[2] = val;
		rc = run(pg, ST_COUNT, 3, p, NULL, NULL);
	}
	drop_pending(pg);
	return rc;
}

static int
cmp_delta(const void *a, const void *b)
{
	return strcmp(((const struct delta *)a)->name,
	    ((const struct delta *)b)->name);
}

int
clog_pg_add_delta(struct clog_pg *pg, const char *name, int64_t v)
{
	int k;

	for (k = 0; k < pg->ndeltas; k++)
		if (strcmp(pg->deltas[k].name, name) == 0) {
			pg->deltas[k].v += v;
			return 0;
		}
	if (pg->ndeltas == (int)(sizeof(pg->deltas) / sizeof(pg->deltas[0])) ||
	    strlen(name) >= sizeof(pg->deltas[0].name)) {
		/* unusual names are written at once */
		char slot[16], val[24];
		const char *p[3] = { name, slot, val };

		snprintf(slot, sizeof(slot), "%d", pg->slot);
		snprintf(val, sizeof(val), "%" PRId64, v);
		return run(pg, ST_COUNT, 3, p, NULL, NULL);
	}
	snprintf(pg->deltas[k].name, sizeof(pg->deltas[k].name), "%s", name);
	pg->deltas[k].v = v;
	pg->ndeltas++;
	qsort(pg->deltas, (size_t)pg->ndeltas, sizeof(pg->deltas[0]),
	    cmp_delta);
	return 0;
}

/* This transaction's pending change of (site, agent); NULL: no memory. */
struct seen *
clog_pg_pending(struct clog_pg *pg, const char *site, const char *agent)
{
	struct seen *s;
	size_t i;

	for (i = 0; i < pg->nseen; i++)
		if (strcmp(pg->seen[i].site, site) == 0 &&
		    strcmp(pg->seen[i].agent, agent) == 0)
			return &pg->seen[i];
	if (pg->nseen == pg->capseen) {
		size_t n = pg->capseen ? pg->capseen * 2 : 16;

		s = realloc(pg->seen, n * sizeof(*s));
		if (s == NULL)
			return NULL;
		pg->seen = s;
		pg->capseen = n;
	}
	s = &pg->seen[pg->nseen];
	s->site = strdup(site);
	s->agent = strdup(agent);
	if (s->site == NULL || s->agent == NULL) {
		free(s->site);
		free(s->agent);
		return NULL;
	}
	s->at[0] = '\0';
	s->acked = s->reported = -1;
	pg->nseen++;
	return s;
}

static int
add_seen(struct clog_pg *pg, const char *site, const char *agent,
    const char *at)
{
	struct seen *s = clog_pg_pending(pg, site, agent);

	if (s == NULL)
		return IDS_ENOMEM;
	if (strcmp(at, s->at) > 0)
		snprintf(s->at, sizeof(s->at), "%s", at);
	return 0;
}

int
clog_pg_begin(struct clog_pg *pg)
{
	int rc;

	if (pg->in_tx) {
		snprintf(pg->errbuf, sizeof(pg->errbuf),
		    "transaction already open");
		return IDS_EINVAL;
	}
	rc = clog_pg_ensure_conn(pg);
	if (rc == 0)
		rc = clog_pg_exec_simple(pg, "BEGIN");
	if (rc == 0)
		pg->in_tx = true;
	drop_pending(pg);
	return rc;
}

int
clog_pg_commit(struct clog_pg *pg)
{
	int rc;

	if (!pg->in_tx)
		return 0;
	rc = clog_pg_flush_queue(pg);
	if (rc == 0)
		rc = flush_pending(pg);
	else
		drop_pending(pg);
	if (rc == 0)
		rc = clog_pg_exec_simple(pg, "COMMIT");
	else
		clog_pg_exec_simple(pg, "ROLLBACK");
	pg->in_tx = false;
	return rc;
}

int
clog_pg_rollback(struct clog_pg *pg)
{
	clog_pg_drop_queue(pg);
	drop_pending(pg);
	/* a partition created in the transaction is gone with it */
	pg->nmonths = 0;
	if (!pg->in_tx)
		return 0;
	pg->in_tx = false;
	if (PQstatus(pg->c) != CONNECTION_OK)
		return 0;	/* the server dropped it already */
	return clog_pg_exec_simple(pg, "ROLLBACK");
}

/* Run body as a transaction of its own unless the caller has one open. */
int
clog_pg_auto_begin(struct clog_pg *pg, bool *mine)
{
	*mine = !pg->in_tx;
	return *mine ? clog_pg_begin(pg) : 0;
}

int
clog_pg_auto_end(struct clog_pg *pg, bool mine, int rc)
{
	if (!mine)
		return rc;
	if (rc == 0)
		return clog_pg_commit(pg);
	clog_pg_rollback(pg);
	return rc;
}

/*
 * What ST_INSERT changing n rows means for the alert of parameters p
 * (raw JSON json[0..len)): new, or a duplicate or a conflict of the row
 * already there.
 */
static int
settle_row(struct clog_pg *pg, const char *const *pin, const char *json,
    size_t len, long n, enum central_log_stored *res)
{
	const char *p[19];
	PGresult *r;
	bool same;
	int rc;

	memcpy(p, pin, sizeof(p));
	if (n == 1) {
		*res = CENTRAL_LOG_NEW;
		rc = clog_pg_add_delta(pg, "stored", 1);
		if (rc == 0 && chain_check(p[15], json, len) != 0)
			rc = clog_pg_add_delta(pg, "bad_hash", 1);
		if (rc == 0)
			rc = clog_pg_check_new_agent(pg, p[0], p[1]);
		if (rc == 0)
			rc = add_seen(pg, p[0], p[1], p[18]);
		return rc;
	}
	/* Already there: the same bytes again, or a different alert. */
	r = clog_pg_execp(pg, ST_SELECT_RAW, 3, p, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		PQclear(r);
		return IDS_EIO;
	}
	/* no row: the key's alert went with retention; count it seen */
	same = PQntuples(r) == 0 ||
	    ((size_t)PQgetlength(r, 0, 0) == len &&
	    memcmp(PQgetvalue(r, 0, 0), json, len) == 0);
	PQclear(r);
	if (same) {
		*res = CENTRAL_LOG_DUPLICATE;
		return clog_pg_add_delta(pg, "duplicates", 1);
	}
	*res = CENTRAL_LOG_CONFLICT;
	p[3] = p[17];
	p[4] = p[18];
	rc = run(pg, ST_INSERT_CONFLICT, 5, p, NULL, NULL);
	if (rc == 0)
		rc = clog_pg_add_delta(pg, "conflicts", 1);
	return rc;
}

void
clog_pg_drop_queue(struct clog_pg *pg)
{
	size_t i;

	for (i = 0; i < pg->nqrow; i++)
		free(pg->q[i].buf);
	pg->nqrow = 0;
}

/* Copy the parameters of one alert to the end of the queue. */
static int
queue_row(struct clog_pg *pg, const char *const *p, size_t len, int64_t seq)
{
	size_t need = 0, l[19], i;
	struct qrow *q;
	char *b;

	if (pg->nqrow == pg->capq) {
		size_t n = pg->capq ? pg->capq * 2 : 256;

		q = realloc(pg->q, n * sizeof(*q));
		if (q == NULL)
			return IDS_ENOMEM;
		pg->q = q;
		pg->capq = n;
	}
	for (i = 0; i < 19; i++) {
		l[i] = p[i] == NULL ? 0 : i == 17 ? len : strlen(p[i]);
		need += l[i] + 1;
	}
	q = &pg->q[pg->nqrow];
	q->buf = b = malloc(need);
	if (b == NULL)
		return IDS_ENOMEM;
	for (i = 0; i < 19; i++) {
		if (p[i] == NULL) {
			q->p[i] = NULL;
			continue;
		}
		memcpy(b, p[i], l[i]);
		b[l[i]] = '\0';
		q->p[i] = b;
		b += l[i] + 1;
	}
	q->len = len;
	q->seq = seq;
	pg->nqrow++;
	return 0;
}

/*
 * Send every queued insert as one statement (clog_pg_batch.c: one round
 * trip, one executor run), then settle each in order and tell qfn.  Any failure fails the
 * transaction, as a failed single insert does.
 */
int
clog_pg_flush_queue(struct clog_pg *pg)
{
	struct qrow *q = pg->q;
	size_t n = pg->nqrow, i;
	enum central_log_stored res;
	long *changed = NULL;
	int rc = 0;

	if (n == 0)
		return 0;
	/* detached: the statements settling runs below must not flush it */
	pg->q = NULL;
	pg->nqrow = pg->capq = 0;
	changed = calloc(n, sizeof(*changed));
	if (changed == NULL) {
		rc = IDS_ENOMEM;
		goto out;
	}
	/* one statement for the batch (clog_pg_batch.c) */
	rc = clog_pg_batch_insert(pg, q, n, changed);
	for (i = 0; i < n && rc == 0; i++) {
		rc = settle_row(pg, q[i].p, q[i].p[17], q[i].len, changed[i],
		    &res);
		if (rc == 0 && pg->qfn != NULL)
			pg->qfn(pg->qctx, q[i].p[0], q[i].p[1], q[i].seq, res);
	}
out:
	free(changed);
	for (i = 0; i < n; i++)
		free(q[i].buf);
	free(q);
	return rc;
}

int
clog_pg_defer_inserts(struct clog_pg *pg, int max, central_log_stored_fn fn,
    void *ctx)
{
	pg->qmax = max;
	pg->qfn = fn;
	pg->qctx = ctx;
	return 0;
}

static int
insert_row(struct clog_pg *pg, const struct central_log_alert *a,
    const char *json, size_t len, const char *received, bool defer,
    enum central_log_stored *res)
{
	char seq[24], tsus[24], sev[8], sport[8], dport[8], *raw;
	const char *p[19];
	long n = 0;
	int rc;

	/* the raw text is bound with its length: no copy needed unless it
	 * lacks a terminating NUL within len (libpq text wants C strings) */
	raw = malloc(len + 1);
	if (raw == NULL)
		return IDS_ENOMEM;
	memcpy(raw, json, len);
	raw[len] = '\0';
	clog_pg_fmt_i64(seq, sizeof(seq), a->seq);
	clog_pg_fmt_i64(tsus, sizeof(tsus), a->ts_us);
	snprintf(sev, sizeof(sev), "%d", a->sev);
	snprintf(sport, sizeof(sport), "%d", a->src_port);
	snprintf(dport, sizeof(dport), "%d", a->dst_port);
	p[0] = a->site;
	p[1] = a->agent;
	p[2] = seq;
	p[3] = a->ts;
	p[4] = tsus;
	p[5] = a->severity;
	p[6] = sev;
	p[7] = a->detector;
	p[8] = a->technique;
	p[9] = a->title;
	p[10] = a->proto;
	p[11] = a->src_ip;
	p[12] = a->src_port >= 0 ? sport : NULL;
	p[13] = a->dst_ip;
	p[14] = a->dst_port >= 0 ? dport : NULL;
	p[15] = a->prev_hash;
	p[16] = a->hash;
	p[17] = raw;
	p[18] = received;
	rc = clog_pg_ensure_partition(pg, a->ts_us);
	if (rc == 0 && defer) {
		/* deferred: settled when the queue is sent */
		rc = queue_row(pg, p, len, a->seq);
		if (rc == 0)
			*res = CENTRAL_LOG_QUEUED;
		if (rc == 0 && pg->nqrow >= (size_t)pg->qmax)
			rc = clog_pg_flush_queue(pg);
		goto out;
	}
	if (rc == 0)
		rc = run(pg, ST_INSERT, 19, p, NULL, &n);
	if (rc == 0)
		rc = settle_row(pg, p, raw, len, n, res);
out:
	free(raw);
	return rc;
}

int
clog_pg_insert(struct clog_pg *pg, const struct central_log_alert *a,
    const char *json, size_t len, int64_t received_us,
    enum central_log_stored *res)
{
	char received[CENTRAL_LOG_TIME_LEN];
	bool mine;
	int rc;

	clog_pg_fmt_time(received_us, received);
	rc = clog_pg_auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	/* only the caller's own transaction defers (its commit settles) */
	return clog_pg_auto_end(pg, mine, insert_row(pg, a, json, len, received,
	    !mine && pg->qmax > 0, res));
}

/* One statement as its own transaction (or within the caller's). */
int
clog_pg_write_one(struct clog_pg *pg, enum st id, int n, const char *const *v)
{
	bool mine;
	int rc;

	rc = clog_pg_auto_begin(pg, &mine);
	if (rc != 0)
		return rc;
	return clog_pg_auto_end(pg, mine, run(pg, id, n, v, NULL, NULL));
}

/* A copy of json[0..len) as a C string; the caller frees. */
char *
clog_pg_cstr(const char *json, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, json, len);
		s[len] = '\0';
	}
	return s;
}
