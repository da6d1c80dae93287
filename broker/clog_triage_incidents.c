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

int
clog_incident_flush(struct central_log *db, struct clog_incident_batch *b,
    int64_t window_s)
{
	struct central_log_alert a;
	size_t i;
	int rc = 0;

	/* deferred inserts are sent now: their outcomes may forget some */
	clog_exec_settle(db);
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), cmp_item);
	clog_exec_cache_begin(db);
	for (i = 0; i < b->n && rc == 0; i++) {
		if (b->v[i].dead)
			continue;
		memset(&a, 0, sizeof(a));
		a.site = b->v[i].site;
		a.agent = b->v[i].agent;
		a.src_ip = b->v[i].src;
		a.dst_ip = b->v[i].dst;
		a.technique = b->v[i].tech;
		a.seq = b->v[i].seq;
		a.ts_us = b->v[i].ts_us;
		a.sev = b->v[i].sev;
		rc = clog_incident_add(db, &a, window_s, NULL);
	}
	clog_exec_cache_end(db);
	clog_incident_batch_clear(b);
	return rc;
}
