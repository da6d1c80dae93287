/*
 * clog_triage_incidents.c - incidents (clog_triage.h): grouping alerts
 * by site and source, listing them and their alerts, and the collector's
 * batches filed at its commit; written once for both backends over
 * clog_exec.h, on clog_triage.c's helpers (clog_triage_int.h).
 */
#include "broker/clog_triage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "broker/clog_exec.h"
#include "broker/clog_triage_int.h"
#include "lib/ids.h"

/* ---- incidents ------------------------------------------------------------- */

void
clog_incident_filter_init(struct clog_incident_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_us = INT64_MIN;
	f->until_us = INT64_MAX;
}

/* Add item to the sorted "," list in buf (len), at most MAX_LIST items. */
static void
list_add(char *buf, size_t len, const char *item)
{
	char out[1024], *save = NULL, *tok, copy[1024];
	size_t n = 0;
	int items = 0;
	bool done = false;

	if (item == NULL || item[0] == '\0' || strchr(item, ',') != NULL)
		return;
	snprintf(copy, sizeof(copy), "%s", buf);
	out[0] = '\0';
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		int c = strcmp(tok, item);

		if (c == 0)
			return;	/* already there */
		if (c > 0 && !done) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
			    n > 0 ? "," : "", item);
			done = true;
			items++;
		}
		if (n < sizeof(out))
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
			    n > 0 ? "," : "", tok);
		items++;
	}
	if (!done) {
		if (items >= MAX_LIST)
			return;
		if (n < sizeof(out))
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
			    n > 0 ? "," : "", item);
		items++;
	}
	if (items > MAX_LIST || n >= sizeof(out) || n >= len)
		return;	/* full: keep the list as it was */
	snprintf(buf, len, "%s", out);
}

struct inc_row {
	char	v[7][1024];
	bool	found;
};

static int
inc_row_cb(void *ctx, int nc, const char *const *v)
{
	struct inc_row *r = ctx;
	int i;

	for (i = 0; i < nc && i < 7; i++)
		snprintf(r->v[i], sizeof(r->v[i]), "%s", v[i] != NULL ? v[i] :
		    "");
	r->found = true;
	return 1;
}

int
clog_incident_add(struct central_log *db, const struct central_log_alert *a,
    int64_t window_s, int64_t *incident)
{
	char ts[24], lo[24], hi[24], ids[24], seqs[24], cnt[24], sev[8];
	char first[24], last[24];
	const char *p[8];
	struct inc_row cur;
	int64_t id, w = (window_s > 0 ? window_s : CLOG_INCIDENT_WINDOW_S) *
	    1000000;
	int rc, msev;

	if (incident != NULL)
		*incident = 0;
	if (a->src_ip == NULL || a->src_ip[0] == '\0')
		return 0;
	/* several collectors: one at a time per attacker */
	p[0] = a->src_ip;
	p[1] = a->site;
	if (clog_exec_is_pg(db) && (rc = clog_exec(db,
	    "SELECT pg_advisory_xact_lock(hashtext(CAST($2 AS TEXT) || '/' ||"
	    " CAST($1 AS TEXT)))", 2, p,
	    NULL, NULL)) != 0)
		return rc;
	clog_tr_i64(ts, sizeof(ts), a->ts_us);
	clog_tr_i64(lo, sizeof(lo), a->ts_us - w);
	clog_tr_i64(hi, sizeof(hi), a->ts_us + w);
	p[1] = lo;
	p[2] = hi;
	p[3] = a->site;
	memset(&cur, 0, sizeof(cur));
	rc = clog_exec(db, "SELECT id, first_us, last_us, count, max_sev,"
	    " hosts, techniques FROM incidents WHERE site = $4 AND"
	    " src_ip = $1 AND last_us >= $2 AND first_us <= $3"
	    " ORDER BY last_us DESC LIMIT 1", 4, p, inc_row_cb, &cur);
	if (rc < 0)
		return rc;
	if (!cur.found) {
		/* a new incident */
		snprintf(cur.v[1], sizeof(cur.v[1]), "%s", ts);
		snprintf(cur.v[2], sizeof(cur.v[2]), "%s", ts);
		snprintf(cur.v[3], sizeof(cur.v[3]), "0");
		snprintf(cur.v[4], sizeof(cur.v[4]), "%d", a->sev);
	}
	list_add(cur.v[5], sizeof(cur.v[5]), a->dst_ip);
	list_add(cur.v[6], sizeof(cur.v[6]), a->technique);
	clog_tr_i64(first, sizeof(first), clog_tr_to_i64(cur.v[1]) < a->ts_us ?
	    clog_tr_to_i64(cur.v[1]) : a->ts_us);
	clog_tr_i64(last, sizeof(last), clog_tr_to_i64(cur.v[2]) > a->ts_us ?
	    clog_tr_to_i64(cur.v[2]) : a->ts_us);
	clog_tr_i64(cnt, sizeof(cnt), clog_tr_to_i64(cur.v[3]) + 1);
	msev = (int)clog_tr_to_i64(cur.v[4]);
	snprintf(sev, sizeof(sev), "%d", msev > a->sev ? msev : a->sev);
	p[1] = first;
	p[2] = last;
	p[3] = cnt;
	p[4] = sev;
	p[5] = cur.v[5];
	p[6] = cur.v[6];
	if (cur.found) {
		p[0] = cur.v[0];
		rc = clog_exec(db, "UPDATE incidents SET first_us = $2,"
		    " last_us = $3, count = $4, max_sev = $5, hosts = $6,"
		    " techniques = $7 WHERE id = $1", 7, p, NULL, NULL);
		id = clog_tr_to_i64(cur.v[0]);
	} else {
		struct first f;

		p[7] = a->site;
		rc = clog_tr_query_first(db, "INSERT INTO incidents (src_ip, first_us,"
		    " last_us, count, max_sev, hosts, techniques, site) VALUES"
		    " ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id", 8, p, &f);
		if (rc == 0 && !f.found)
			rc = IDS_EIO;
		id = rc == 0 ? clog_tr_to_i64(f.v[0]) : 0;
	}
	if (rc != 0)
		return rc;
	clog_tr_i64(ids, sizeof(ids), id);
	clog_tr_i64(seqs, sizeof(seqs), a->seq);
	p[0] = a->site;
	p[1] = a->agent;
	p[2] = seqs;
	p[3] = ids;
	rc = clog_exec(db, "INSERT INTO incident_alerts (site, agent, seq,"
	    " incident) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, p,
	    NULL, NULL);
	if (rc == 0 && incident != NULL)
		*incident = id;
	return rc;
}

struct inc_ctx {
	clog_incident_fn	 fn;
	void			*ctx;
};

static int
incidents_cb(void *ctx, int nc, const char *const *v)
{
	struct inc_ctx *c = ctx;
	struct clog_incident i;
	char first[CENTRAL_LOG_TIME_LEN], last[CENTRAL_LOG_TIME_LEN];

	if (nc < 12)
		return IDS_EIO;
	memset(&i, 0, sizeof(i));
	i.site = v[11] != NULL ? v[11] : "";
	i.id = clog_tr_to_i64(v[0]);
	i.src_ip = v[1] != NULL ? v[1] : "";
	i.first_us = clog_tr_to_i64(v[2]);
	i.last_us = clog_tr_to_i64(v[3]);
	central_log_format_time(i.first_us, first);
	central_log_format_time(i.last_us, last);
	i.first_ts = first;
	i.last_ts = last;
	i.count = clog_tr_to_i64(v[4]);
	i.max_sev = (int)clog_tr_to_i64(v[5]);
	i.severity = central_log_severity_name(i.max_sev);
	if (i.severity == NULL)
		i.severity = "?";
	i.hosts = v[6] != NULL ? v[6] : "";
	i.techniques = v[7] != NULL ? v[7] : "";
	i.state = v[8] != NULL ? v[8] : "new";
	i.user = v[9] != NULL ? v[9] : "";
	i.updated_at = v[10] != NULL ? v[10] : "";
	return c->fn(c->ctx, &i);
}

int
clog_incidents(struct central_log *db, const struct clog_incident_filter *f,
    clog_incident_fn fn, void *ctx)
{
	char id[24], since[24], until[24], sev[8], lim[24];
	const char *p[8];
	struct inc_ctx c = { fn, ctx };
	bool cidr = f->src_ip != NULL && strchr(f->src_ip, '/') != NULL;

	clog_tr_i64(id, sizeof(id), f->id);
	clog_tr_i64(since, sizeof(since), f->since_us);
	clog_tr_i64(until, sizeof(until), f->until_us);
	snprintf(sev, sizeof(sev), "%d", f->min_sev);
	clog_tr_i64(lim, sizeof(lim), f->limit > 0 ? f->limit : INT64_MAX);
	p[0] = f->id > 0 ? id : NULL;
	p[1] = since;
	p[2] = until;
	p[3] = sev;
	p[4] = f->state;
	p[5] = f->src_ip;
	p[6] = lim;
	p[7] = f->site;
	return clog_exec(db, cidr ?
	    "SELECT * FROM (SELECT id, src_ip, first_us, last_us, count,"
	    " max_sev, hosts, techniques, state, operator, updated_at, site"
	    " FROM incidents WHERE (CAST($1 AS BIGINT) IS NULL OR id = CAST($1 AS BIGINT))"
	    " AND last_us >= $2 AND first_us < $3 AND max_sev >= $4"
	    " AND (CAST($5 AS TEXT) IS NULL OR state = CAST($5 AS TEXT))"
	    " AND icsentry_in_cidr(src_ip, $6)"
	    " AND (CAST($8 AS TEXT) IS NULL OR site = CAST($8 AS TEXT))"
	    " ORDER BY first_us DESC, id DESC LIMIT $7) AS t"
	    " ORDER BY first_us, id" :
	    "SELECT * FROM (SELECT id, src_ip, first_us, last_us, count,"
	    " max_sev, hosts, techniques, state, operator, updated_at, site"
	    " FROM incidents WHERE (CAST($1 AS BIGINT) IS NULL OR id = CAST($1 AS BIGINT))"
	    " AND last_us >= $2 AND first_us < $3 AND max_sev >= $4"
	    " AND (CAST($5 AS TEXT) IS NULL OR state = CAST($5 AS TEXT))"
	    " AND (CAST($6 AS TEXT) IS NULL OR src_ip = CAST($6 AS TEXT))"
	    " AND (CAST($8 AS TEXT) IS NULL OR site = CAST($8 AS TEXT))"
	    " ORDER BY first_us DESC, id DESC LIMIT $7) AS t"
	    " ORDER BY first_us, id", 8, p, incidents_cb, &c);
}

int
clog_incident_alerts(struct central_log *db, int64_t incident,
    clog_triage_row_fn fn, void *ctx)
{
	char id[24];
	const char *p[1] = { id };
	struct query_ctx qc = { fn, ctx };

	clog_tr_i64(id, sizeof(id), incident);
	return clog_exec(db, "SELECT * FROM " TRIAGE_FROM " WHERE incident = $1"
	    " ORDER BY ts_us, id", 1, p, clog_tr_query_cb, &qc);
}

/* ---- the collector's batches ---------------------------------------------- */

struct inc_item {
	char			*site, *agent, *src, *dst, *tech;
	int64_t			 seq, ts_us;
	int			 sev;
	bool			 dead;	/* not stored after all */
};

struct clog_incident_batch {
	struct inc_item		*v;
	size_t			 n, cap;
};

struct clog_incident_batch *
clog_incident_batch_new(void)
{
	return calloc(1, sizeof(struct clog_incident_batch));
}

void
clog_incident_batch_clear(struct clog_incident_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->v[i].site);
		free(b->v[i].agent);
		free(b->v[i].src);
		free(b->v[i].dst);
		free(b->v[i].tech);
	}
	b->n = 0;
}

void
clog_incident_batch_free(struct clog_incident_batch *b)
{
	if (b == NULL)
		return;
	clog_incident_batch_clear(b);
	free(b->v);
	free(b);
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
clog_incident_defer(struct clog_incident_batch *b,
    const struct central_log_alert *a)
{
	struct inc_item *it;

	if (a->src_ip == NULL || a->src_ip[0] == '\0')
		return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap != 0 ? b->cap * 2 : 64;
		struct inc_item *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return IDS_ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	it = &b->v[b->n];
	memset(it, 0, sizeof(*it));
	it->site = strdup(a->site);
	it->agent = strdup(a->agent);
	it->src = strdup(a->src_ip);
	it->dst = dup_opt(a->dst_ip);
	it->tech = dup_opt(a->technique);
	it->seq = a->seq;
	it->ts_us = a->ts_us;
	it->sev = a->sev;
	b->n++;
	if (it->site == NULL || it->agent == NULL || it->src == NULL ||
	    (a->dst_ip != NULL && it->dst == NULL) ||
	    (a->technique != NULL && it->tech == NULL))
		return IDS_ENOMEM;
	return 0;
}

void
clog_incident_forget(struct clog_incident_batch *b, const char *site,
    const char *agent, int64_t seq)
{
	size_t i;

	for (i = b->n; i > 0; i--)
		if (b->v[i - 1].seq == seq && strcmp(b->v[i - 1].site, site) ==
		    0 && strcmp(b->v[i - 1].agent, agent) == 0) {
			b->v[i - 1].dead = true;
			return;
		}
}

static int
cmp_item(const void *pa, const void *pb)
{
	const struct inc_item *a = pa, *b = pb;
	int c = strcmp(a->site, b->site);

	if (c == 0)
		c = strcmp(a->src, b->src);
	if (c != 0)
		return c;
	return a->ts_us < b->ts_us ? -1 : a->ts_us > b->ts_us;
}

/*
 * A batch filed set-based: the items sorted by (site, source, time) form
 * one group per incident key; the key's incidents that any of its items
 * could join are read at once, the items are walked in memory exactly as
 * clog_incident_add() would one by one (same choice: the overlapping
 * incident of the latest last_us; same lists, counts, first/last), and
 * the result is written with a few statements: on PostgreSQL one lock
 * statement (every key's advisory lock, in the order of the lock values,
 * so two collectors never wait on each other in a cycle), one read, one
 * UPDATE and one INSERT of incidents, one INSERT of the links, all over
 * arrays (unnest); on SQLite (one writer) the same read per key and one
 * prepared statement per touched incident and per link.
 */
struct inc_cand {
	int64_t	 id;		/* 0: new in this batch */
	int64_t	 first_us, last_us, count;
	int	 max_sev;
	bool	 dirty;
	char	 hosts[1024], techs[1024];
};

struct inc_group {
	size_t		 lo, hi;	/* items [lo, hi) */
	int64_t		 min_ts, max_ts;
	struct inc_cand	**c;
	size_t		 nc, capc;
	bool		 live;
};

struct inc_walk {
	struct inc_group	*g;
	size_t			 ng;
	struct clog_incident_batch *b;
	size_t			*cand_of;	/* per item: index in its group */
};

static int
group_add_cand(struct inc_group *g, struct inc_cand *c)
{
	if (g->nc == g->capc) {
		size_t cap = g->capc != 0 ? g->capc * 2 : 4;
		struct inc_cand **v = realloc(g->c, cap * sizeof(*v));

		if (v == NULL)
			return IDS_ENOMEM;
		g->c = v;
		g->capc = cap;
	}
	g->c[g->nc++] = c;
	return 0;
}

static struct inc_group *
group_find(struct inc_walk *w, const char *site, const char *src)
{
	size_t lo = 0, hi = w->ng;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct inc_item *it = &w->b->v[w->g[mid].lo];
		int c = strcmp(it->site, site);

		if (c == 0)
			c = strcmp(it->src, src);
		if (c == 0)
			return &w->g[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* rows: id, site, src_ip, first_us, last_us, count, max_sev, hosts,
 * techniques */
static int
cand_row(struct inc_walk *w, struct inc_group *g, const char *const *v)
{
	struct inc_cand *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return IDS_ENOMEM;
	c->id = clog_tr_to_i64(v[0]);
	c->first_us = clog_tr_to_i64(v[3]);
	c->last_us = clog_tr_to_i64(v[4]);
	c->count = clog_tr_to_i64(v[5]);
	c->max_sev = (int)clog_tr_to_i64(v[6]);
	snprintf(c->hosts, sizeof(c->hosts), "%s", v[7] != NULL ? v[7] : "");
	snprintf(c->techs, sizeof(c->techs), "%s", v[8] != NULL ? v[8] : "");
	if (group_add_cand(g, c) != 0) {
		free(c);
		return IDS_ENOMEM;
	}
	(void)w;
	return 0;
}

static int
cand_cb(void *ctx, int nc, const char *const *v)
{
	struct inc_walk *w = ctx;
	struct inc_group *g;

	if (nc < 9)
		return IDS_EIO;
	g = group_find(w, v[1] != NULL ? v[1] : "", v[2] != NULL ? v[2] : "");
	if (g == NULL)
		return 0;
	return cand_row(w, g, v);
}

/* A growing text buffer (PostgreSQL array literals). */
struct sbuf {
	char	*s;
	size_t	 n, cap;
	bool	 oom;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Append one element (quoted, escaped) to the array literal in b. */
static void
sb_elem(struct sbuf *b, const char *v)
{
	const char *p;

	sb_put(b, b->n == 0 ? "{\"" : ",\"", 2);
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			sb_put(b, "\\", 1);
		sb_put(b, p, 1);
	}
	sb_put(b, "\"", 1);
}

static void
sb_i64(struct sbuf *b, int64_t v)
{
	char t[24];

	clog_tr_i64(t, sizeof(t), v);
	sb_elem(b, t);
}

static const char *
sb_done(struct sbuf *b)
{
	sb_put(b, b->n == 0 ? "{}" : "}", b->n == 0 ? 2 : 1);
	return b->oom ? NULL : b->s;
}

#define NARR	9

static void
arrs_free(struct sbuf *a, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(a[i].s);
	memset(a, 0, (size_t)n * sizeof(*a));
}

static int
arrs_params(struct sbuf *a, int n, const char **p)
{
	int i;

	for (i = 0; i < n; i++)
		if ((p[i] = sb_done(&a[i])) == NULL)
			return IDS_ENOMEM;
	return 0;
}

/* The key's locks and its incidents that the items may join. */
static int
load_pg(struct central_log *db, struct inc_walk *w, int64_t win)
{
	struct sbuf a[NARR];
	const char *p[NARR];
	size_t i;
	int rc;

	memset(a, 0, sizeof(a));
	for (i = 0; i < w->ng; i++) {
		const struct inc_item *it = &w->b->v[w->g[i].lo];

		if (!w->g[i].live)
			continue;
		sb_elem(&a[0], it->site);
		sb_elem(&a[1], it->src);
		sb_i64(&a[2], w->g[i].min_ts - win);
		sb_i64(&a[3], w->g[i].max_ts + win);
	}
	rc = arrs_params(a, 4, p);
	/* several collectors: one at a time per attacker (the lock of
	 * clog_incident_add()), taken in one order */
	if (rc == 0)
		rc = clog_exec(db, "SELECT count(pg_advisory_xact_lock(h)) FROM"
		    " (SELECT DISTINCT hashtext(k.site || '/' || k.src) AS h"
		    " FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]))"
		    " AS k(site, src) ORDER BY h) AS l", 2, p, NULL, NULL);
	if (rc == 0)
		rc = clog_exec(db, "SELECT i.id, i.site, i.src_ip, i.first_us,"
		    " i.last_us, i.count, i.max_sev, i.hosts, i.techniques"
		    " FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]),"
		    " CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[]))"
		    " AS k(site, src, lo, hi) JOIN incidents i"
		    " ON i.site = k.site AND i.src_ip = k.src"
		    " AND i.last_us >= k.lo AND i.first_us <= k.hi"
		    " ORDER BY i.id", 4, p, cand_cb, w);
	arrs_free(a, NARR);
	return rc < 0 ? rc : rc > 0 ? IDS_EIO : 0;
}

static int
load_sqlite(struct central_log *db, struct inc_walk *w, int64_t win)
{
	char lo[24], hi[24];
	const char *p[4];
	size_t i;
	int rc = 0;

	for (i = 0; i < w->ng && rc == 0; i++) {
		const struct inc_item *it = &w->b->v[w->g[i].lo];

		if (!w->g[i].live)
			continue;
		clog_tr_i64(lo, sizeof(lo), w->g[i].min_ts - win);
		clog_tr_i64(hi, sizeof(hi), w->g[i].max_ts + win);
		p[0] = it->site;
		p[1] = it->src;
		p[2] = lo;
		p[3] = hi;
		rc = clog_exec(db, "SELECT id, site, src_ip, first_us, last_us,"
		    " count, max_sev, hosts, techniques FROM incidents"
		    " WHERE site = $1 AND src_ip = $2 AND last_us >= $3 AND"
		    " first_us <= $4 ORDER BY id", 4, p, cand_cb, w);
	}
	return rc < 0 ? rc : rc > 0 ? IDS_EIO : 0;
}

/* Walk the items in memory as clog_incident_add() does, one by one. */
static int
walk(struct inc_walk *w, int64_t win)
{
	size_t gi, i, k;

	for (gi = 0; gi < w->ng; gi++) {
		struct inc_group *g = &w->g[gi];

		for (i = g->lo; i < g->hi; i++) {
			const struct inc_item *it = &w->b->v[i];
			struct inc_cand *c = NULL;
			size_t ci = 0;

			if (it->dead)
				continue;
			/* ORDER BY last_us DESC LIMIT 1 of the overlapping */
			for (k = 0; k < g->nc; k++) {
				struct inc_cand *x = g->c[k];

				if (x->last_us >= it->ts_us - win &&
				    x->first_us <= it->ts_us + win &&
				    (c == NULL || x->last_us > c->last_us)) {
					c = x;
					ci = k;
				}
			}
			if (c == NULL) {
				c = calloc(1, sizeof(*c));
				if (c == NULL || group_add_cand(g, c) != 0) {
					free(c);
					return IDS_ENOMEM;
				}
				ci = g->nc - 1;
				c->first_us = c->last_us = it->ts_us;
				c->max_sev = it->sev;
			}
			list_add(c->hosts, sizeof(c->hosts), it->dst);
			list_add(c->techs, sizeof(c->techs), it->tech);
			if (it->ts_us < c->first_us)
				c->first_us = it->ts_us;
			if (it->ts_us > c->last_us)
				c->last_us = it->ts_us;
			c->count++;
			if (it->sev > c->max_sev)
				c->max_sev = it->sev;
			c->dirty = true;
			w->cand_of[i] = ci;
		}
	}
	return 0;
}


/* INSERT ... RETURNING id, site, src_ip, first_us: the new incidents of
 * one key have distinct first_us (each began outside the others' window) */
static int
new_id_cb(void *ctx, int nc, const char *const *v)
{
	struct inc_walk *w = ctx;
	struct inc_group *g;
	int64_t first;
	size_t k;

	if (nc < 4)
		return IDS_EIO;
	g = group_find(w, v[1] != NULL ? v[1] : "", v[2] != NULL ? v[2] : "");
	if (g == NULL)
		return IDS_EIO;
	first = clog_tr_to_i64(v[3]);
	for (k = 0; k < g->nc; k++)
		if (g->c[k]->id == 0 && g->c[k]->first_us == first) {
			g->c[k]->id = clog_tr_to_i64(v[0]);
			return 0;
		}
	return IDS_EIO;
}

static int
store_pg(struct central_log *db, struct inc_walk *w)
{
	struct sbuf a[NARR];
	const char *p[NARR];
	size_t gi, k, i;
	int rc = 0, nu = 0, nn = 0;

	/* the touched incidents that were there */
	memset(a, 0, sizeof(a));
	for (gi = 0; gi < w->ng; gi++)
		for (k = 0; k < w->g[gi].nc; k++) {
			struct inc_cand *c = w->g[gi].c[k];

			if (!c->dirty || c->id == 0)
				continue;
			sb_i64(&a[0], c->id);
			sb_i64(&a[1], c->first_us);
			sb_i64(&a[2], c->last_us);
			sb_i64(&a[3], c->count);
			sb_i64(&a[4], c->max_sev);
			sb_elem(&a[5], c->hosts);
			sb_elem(&a[6], c->techs);
			nu++;
		}
	if (nu > 0 && (rc = arrs_params(a, 7, p)) == 0)
		rc = clog_exec(db, "UPDATE incidents AS i SET first_us = u.f,"
		    " last_us = u.l, count = u.c, max_sev = u.s, hosts = u.h,"
		    " techniques = u.t FROM unnest(CAST($1 AS BIGINT[]),"
		    " CAST($2 AS BIGINT[]), CAST($3 AS BIGINT[]),"
		    " CAST($4 AS BIGINT[]), CAST($5 AS SMALLINT[]),"
		    " CAST($6 AS TEXT[]), CAST($7 AS TEXT[]))"
		    " AS u(id, f, l, c, s, h, t) WHERE i.id = u.id", 7, p, NULL,
		    NULL);
	arrs_free(a, NARR);
	if (rc != 0)
		return rc < 0 ? rc : IDS_EIO;
	/* the new ones, in the order clog_incident_add() would make them */
	for (gi = 0; gi < w->ng; gi++)
		for (k = 0; k < w->g[gi].nc; k++) {
			struct inc_cand *c = w->g[gi].c[k];
			const struct inc_item *it = &w->b->v[w->g[gi].lo];

			if (c->id != 0)
				continue;
			sb_elem(&a[0], it->src);
			sb_i64(&a[1], c->first_us);
			sb_i64(&a[2], c->last_us);
			sb_i64(&a[3], c->count);
			sb_i64(&a[4], c->max_sev);
			sb_elem(&a[5], c->hosts);
			sb_elem(&a[6], c->techs);
			sb_elem(&a[7], it->site);
			nn++;
		}
	if (nn > 0 && (rc = arrs_params(a, 8, p)) == 0)
		rc = clog_exec(db, "INSERT INTO incidents (src_ip, first_us,"
		    " last_us, count, max_sev, hosts, techniques, site)"
		    " SELECT u.src, u.f, u.l, u.c, u.s, u.h, u.t, u.site FROM"
		    " unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[]),"
		    " CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[]),"
		    " CAST($5 AS SMALLINT[]), CAST($6 AS TEXT[]),"
		    " CAST($7 AS TEXT[]), CAST($8 AS TEXT[])) WITH ORDINALITY"
		    " AS u(src, f, l, c, s, h, t, site, o) ORDER BY u.o"
		    " RETURNING id, site, src_ip, first_us", 8, p, new_id_cb, w);
	arrs_free(a, NARR);
	if (rc != 0)
		return rc < 0 ? rc : IDS_EIO;
	/* the links */
	for (gi = 0; gi < w->ng; gi++)
		for (i = w->g[gi].lo; i < w->g[gi].hi; i++) {
			const struct inc_item *it = &w->b->v[i];

			if (it->dead)
				continue;
			sb_elem(&a[0], it->site);
			sb_elem(&a[1], it->agent);
			sb_i64(&a[2], it->seq);
			sb_i64(&a[3], w->g[gi].c[w->cand_of[i]]->id);
		}
	if ((rc = arrs_params(a, 4, p)) == 0)
		rc = clog_exec(db, "INSERT INTO incident_alerts (site, agent,"
		    " seq, incident) SELECT * FROM unnest(CAST($1 AS TEXT[]),"
		    " CAST($2 AS TEXT[]), CAST($3 AS BIGINT[]),"
		    " CAST($4 AS BIGINT[])) ON CONFLICT DO NOTHING", 4, p, NULL,
		    NULL);
	arrs_free(a, NARR);
	return rc < 0 ? rc : rc > 0 ? IDS_EIO : 0;
}

static int
store_sqlite(struct central_log *db, struct inc_walk *w)
{
	char v[5][24];
	const char *p[8];
	size_t gi, k, i;
	int rc = 0;

	for (gi = 0; gi < w->ng && rc == 0; gi++)
		for (k = 0; k < w->g[gi].nc && rc == 0; k++) {
			struct inc_cand *c = w->g[gi].c[k];
			const struct inc_item *it = &w->b->v[w->g[gi].lo];

			if (!c->dirty)
				continue;
			clog_tr_i64(v[0], sizeof(v[0]), c->id);
			clog_tr_i64(v[1], sizeof(v[1]), c->first_us);
			clog_tr_i64(v[2], sizeof(v[2]), c->last_us);
			clog_tr_i64(v[3], sizeof(v[3]), c->count);
			snprintf(v[4], sizeof(v[4]), "%d", c->max_sev);
			p[1] = v[1];
			p[2] = v[2];
			p[3] = v[3];
			p[4] = v[4];
			p[5] = c->hosts;
			p[6] = c->techs;
			if (c->id != 0) {
				p[0] = v[0];
				rc = clog_exec(db, "UPDATE incidents SET"
				    " first_us = $2, last_us = $3, count = $4,"
				    " max_sev = $5, hosts = $6, techniques = $7"
				    " WHERE id = $1", 7, p, NULL, NULL);
			} else {
				struct first f;

				p[0] = it->src;
				p[7] = it->site;
				rc = clog_tr_query_first(db, "INSERT INTO"
				    " incidents (src_ip, first_us, last_us,"
				    " count, max_sev, hosts, techniques, site)"
				    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
				    " RETURNING id", 8, p, &f);
				if (rc == 0 && !f.found)
					rc = IDS_EIO;
				if (rc == 0)
					c->id = clog_tr_to_i64(f.v[0]);
			}
		}
	for (gi = 0; gi < w->ng && rc == 0; gi++)
		for (i = w->g[gi].lo; i < w->g[gi].hi && rc == 0; i++) {
			const struct inc_item *it = &w->b->v[i];

			if (it->dead)
				continue;
			clog_tr_i64(v[0], sizeof(v[0]), it->seq);
			clog_tr_i64(v[1], sizeof(v[1]),
			    w->g[gi].c[w->cand_of[i]]->id);
			p[0] = it->site;
			p[1] = it->agent;
			p[2] = v[0];
			p[3] = v[1];
			rc = clog_exec(db, "INSERT INTO incident_alerts (site,"
			    " agent, seq, incident) VALUES ($1, $2, $3, $4)"
			    " ON CONFLICT DO NOTHING", 4, p, NULL, NULL);
		}
	return rc < 0 ? rc : rc > 0 ? IDS_EIO : 0;
}

int
clog_incident_flush(struct central_log *db, struct clog_incident_batch *b,
    int64_t window_s)
{
	struct inc_walk w;
	int64_t win = (window_s > 0 ? window_s : CLOG_INCIDENT_WINDOW_S) *
	    1000000;
	size_t i, k;
	int rc = 0;

	/* deferred inserts are sent now: their outcomes may forget some */
	clog_exec_settle(db);
	if (b->n == 0)
		return 0;
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), cmp_item);
	memset(&w, 0, sizeof(w));
	w.b = b;
	w.g = calloc(b->n, sizeof(*w.g));
	w.cand_of = calloc(b->n, sizeof(*w.cand_of));
	if (w.g == NULL || w.cand_of == NULL) {
		rc = IDS_ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		struct inc_group *g = w.ng > 0 ? &w.g[w.ng - 1] : NULL;

		if (g == NULL || strcmp(b->v[g->lo].site, b->v[i].site) != 0 ||
		    strcmp(b->v[g->lo].src, b->v[i].src) != 0) {
			g = &w.g[w.ng++];
			g->lo = i;
		}
		g->hi = i + 1;
		if (b->v[i].dead)
			continue;
		if (!g->live || b->v[i].ts_us < g->min_ts)
			g->min_ts = b->v[i].ts_us;
		if (!g->live || b->v[i].ts_us > g->max_ts)
			g->max_ts = b->v[i].ts_us;
		g->live = true;
	}
	clog_exec_cache_begin(db);
	rc = clog_exec_is_pg(db) ? load_pg(db, &w, win) :
	    load_sqlite(db, &w, win);
	if (rc == 0)
		rc = walk(&w, win);
	if (rc == 0)
		rc = clog_exec_is_pg(db) ? store_pg(db, &w) :
		    store_sqlite(db, &w);
	clog_exec_cache_end(db);
out:
	for (i = 0; w.g != NULL && i < w.ng; i++) {
		for (k = 0; k < w.g[i].nc; k++)
			free(w.g[i].c[k]);
		free(w.g[i].c);
	}
	free(w.g);
	free(w.cand_of);
	clog_incident_batch_clear(b);
	return rc;
}
