/*
 * web_alerts.c - the console's alert API: the filtered list, one alert
 * with its chain and audit trail, and verify (web.c).
 */

#include "web/web.h"
#include "web/web_int.h"

#include <cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/clog_triage.h"
#include "lib/ids.h"
#include "web/assets.h"
#include "web/users.h"

/* ---- alerts ------------------------------------------------------------- */

void
web_add_triage(cJSON *o, const struct clog_triage_info *t)
{
	cJSON *x = cJSON_AddObjectToObject(o, "triage");

	cJSON_AddStringToObject(x, "state", t->state);
	cJSON_AddStringToObject(x, "user", t->user);
	cJSON_AddStringToObject(x, "at", t->at);
	cJSON_AddNumberToObject(x, "incident", (double)t->incident);
}

/* One stored alert as JSON: the log's columns and the alert itself. */
cJSON *
web_row_json(const struct central_log_row *r)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char cur[48];

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddNumberToObject(o, "ts_us", (double)r->ts_us);
	snprintf(cur, sizeof(cur), "%" PRId64 ":%" PRId64, r->ts_us, r->id);
	cJSON_AddStringToObject(o, "cursor", cur);
	cJSON_AddStringToObject(o, "received_at",
	    r->received_at != NULL ? r->received_at : "");
	a = cJSON_ParseWithLength(r->raw, r->raw_len);
	if (a == NULL) {
		/* not JSON (verify says so): the columns alone */
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "site", r->site ? r->site : "");
		cJSON_AddStringToObject(a, "agent", r->agent ? r->agent : "");
		cJSON_AddNumberToObject(a, "seq", (double)r->seq);
		cJSON_AddStringToObject(a, "ts", r->ts ? r->ts : "");
		cJSON_AddStringToObject(a, "severity",
		    r->severity ? r->severity : "");
		cJSON_AddStringToObject(a, "detector",
		    r->detector ? r->detector : "");
		cJSON_AddStringToObject(a, "title", r->title ? r->title : "");
	}
	cJSON_AddItemToObject(o, "alert", a);
	return o;
}

static bool
cidr_has(const struct post_filter *p, const char *ip)
{
	unsigned char a[16];
	int full, rest;

	if (ip == NULL || inet_pton(p->family, ip, a) != 1)
		return false;
	full = p->bits / 8;
	rest = p->bits % 8;
	if (memcmp(a, p->net, (size_t)full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ p->net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool
post_match(const struct post_filter *p, const struct central_log_row *r)
{
	if (p->cidr && !cidr_has(p, r->src_ip) && !cidr_has(p, r->dst_ip))
		return false;
	if (p->text != NULL) {
		char *raw = strndup(r->raw, r->raw_len);
		bool hit = raw != NULL && strcasestr(raw, p->text) != NULL;

		free(raw);
		if (!hit)
			return false;
	}
	return true;
}

struct batch {
	cJSON	*rows;		/* array, in time order */
	int64_t	 n;
	const struct post_filter *pf;
	int64_t	 cur_ts, cur_id;	/* keyset: only rows before this */
	bool	 have_cur;
	int64_t	 before_cursor;	/* rows fetched that lie before the cursor */
	int64_t	 oldest_ts, oldest_id;
};

static int
batch_cb(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	struct batch *b = ctx;
	cJSON *o;

	b->n++;
	if (b->have_cur && !(r->ts_us < b->cur_ts ||
	    (r->ts_us == b->cur_ts && r->id < b->cur_id)))
		return 0;
	if (b->before_cursor++ == 0) {
		b->oldest_ts = r->ts_us;
		b->oldest_id = r->id;
	}
	if (!post_match(b->pf, r))
		return 0;
	o = web_row_json(r);
	web_add_triage(o, t);
	cJSON_AddItemToArray(b->rows, o);
	return 0;
}

/* Parse the filter arguments; false with a message on a bad one. */
bool
web_parse_filter(struct MHD_Connection *c, struct central_log_filter *f,
    struct post_filter *pf, const char **why)
{
	const char *v;

	central_log_filter_init(f);
	memset(pf, 0, sizeof(*pf));
	if ((v = web_arg(c, "min_severity")) != NULL) {
		f->min_sev = central_log_severity_rank(v);
		if (f->min_sev < 0) {
			*why = "min_severity: info, low, medium, high or critical";
			return false;
		}
	}
	f->site = web_arg(c, "site");
	f->agent = web_arg(c, "agent");
	f->detector = web_arg(c, "detector");
	f->technique = web_arg(c, "technique");
	f->proto = web_arg(c, "proto");
	if ((v = web_arg(c, "since")) != NULL &&
	    central_log_parse_time(v, &f->since_us) != 0) {
		*why = "since: an RFC 3339 time";
		return false;
	}
	if ((v = web_arg(c, "until")) != NULL &&
	    central_log_parse_time(v, &f->until_us) != 0) {
		*why = "until: an RFC 3339 time";
		return false;
	}
	pf->text = web_arg(c, "q");
	pf->state = web_arg(c, "state");
	if (pf->state != NULL && strcmp(pf->state, "new") != 0 &&
	    strcmp(pf->state, "acked") != 0 && strcmp(pf->state, "closed") != 0 &&
	    strcmp(pf->state, "open") != 0) {
		*why = "state: new, acked, closed or open";
		return false;
	}
	if ((v = web_arg(c, "host")) != NULL) {
		const char *slash = strchr(v, '/');
		char ip[64];

		if (slash == NULL) {
			f->ip = v;
		} else {
			snprintf(ip, sizeof(ip), "%.*s", (int)(slash - v), v);
			pf->family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
			pf->bits = atoi(slash + 1);
			if (inet_pton(pf->family, ip, pf->net) != 1 ||
			    pf->bits < 0 ||
			    pf->bits > (pf->family == AF_INET ? 32 : 128)) {
				*why = "host: an address or CIDR";
				return false;
			}
			pf->cidr = true;
		}
	}
	return true;
}

/*
 * Append to list (newest first) up to want rows matching f and pf that lie
 * before the cursor (when have_cur).  Each step reads one index range of
 * the log: the latest L rows up to the cursor's time; the free-text and
 * CIDR filters, which SQL does not do, only make it take more steps.
 * Returns the number appended, or a negative IDS_E*.  Call with db_lock.
 */
static int64_t
fetch(const struct central_log_filter *f, const struct post_filter *pf,
    bool have_cur, int64_t cur_ts, int64_t cur_id, int64_t want, cJSON *list)
{
	struct batch b;
	int64_t L = want + 2, got = 0;
	int rc, i, n;

	memset(&b, 0, sizeof(b));
	b.pf = pf;
	b.have_cur = have_cur;
	b.cur_ts = cur_ts;
	b.cur_id = cur_id;
	for (;;) {
		struct central_log_filter g = *f;

		if (b.have_cur && b.cur_ts < g.until_us)
			g.until_us = b.cur_ts + 1;
		g.limit = L;
		b.rows = cJSON_CreateArray();
		b.n = 0;
		b.before_cursor = 0;
		rc = clog_triage_query(web_db, &g, pf->state, batch_cb, &b);
		if (rc != 0) {
			cJSON_Delete(b.rows);
			return rc < 0 ? rc : IDS_EIO;
		}
		n = cJSON_GetArraySize(b.rows);
		for (i = n - 1; i >= 0 && got < want; i--, got++)
			cJSON_AddItemToArray(list,
			    cJSON_DetachItemFromArray(b.rows, i));
		cJSON_Delete(b.rows);
		if (got == want || b.n < L)
			return got;	/* full, or the log has nothing older */
		if (b.before_cursor == 0) {
			/* L rows share the cursor's time: read more at once */
			L *= 4;
			continue;
		}
		b.cur_ts = b.oldest_ts;
		b.cur_id = b.oldest_id;
		b.have_cur = true;
		if (L < 100000)
			L *= 2;
	}
}

/*
 * GET /api/alerts: newest first, limit per page, keyset paging: "next" is
 * the cursor "ts_us:id" of the page's last row, given back as "before"
 * for the next page; null when nothing older matches.
 */
enum MHD_Result
web_api_alerts(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct post_filter pf;
	const char *why = NULL, *v;
	int64_t limit = 100, cur_ts = 0, cur_id = 0, n, more = 0;
	bool have_cur = false;
	cJSON *out, *list, *last;

	if (!web_parse_filter(c, &f, &pf, &why))
		return web_send_error(c, 400, why);
	if ((v = web_arg(c, "limit")) != NULL) {
		limit = strtoll(v, NULL, 10);
		if (limit < 1 || limit > PAGE_MAX)
			return web_send_error(c, 400, "limit: 1 to 1000");
	}
	if ((v = web_arg(c, "before")) != NULL) {
		if (sscanf(v, "%" SCNd64 ":%" SCNd64, &cur_ts, &cur_id) != 2)
			return web_send_error(c, 400, "before: a cursor ts_us:id");
		have_cur = true;
	}
	out = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(out, "alerts");
	pthread_mutex_lock(&web_db_lock);
	n = fetch(&f, &pf, have_cur, cur_ts, cur_id, limit, list);
	last = n > 0 ? cJSON_GetArrayItem(list, (int)n - 1) : NULL;
	if (n == limit) {
		/* is there anything older?  one more row tells */
		cJSON *probe = cJSON_CreateArray();

		more = fetch(&f, &pf, true, (int64_t)cJSON_GetObjectItem(last,
		    "ts_us")->valuedouble, (int64_t)cJSON_GetObjectItem(last,
		    "id")->valuedouble, 1, probe);
		cJSON_Delete(probe);
	}
	pthread_mutex_unlock(&web_db_lock);
	if (n < 0 || more < 0) {
		cJSON_Delete(out);
		return web_send_error(c, 500, "central log query failed");
	}
	if (more > 0)
		cJSON_AddStringToObject(out, "next", cJSON_GetStringValue(
		    cJSON_GetObjectItem(last, "cursor")));
	else
		cJSON_AddNullToObject(out, "next");
	cJSON_AddNumberToObject(out, "count", (double)n);
	return web_send_json(c, 200, out, NULL);
}

/* ---- one alert and its chain ------------------------------------------- */

struct find {
	int64_t	 id;
	cJSON	*row;
	char	 site[128], agent[128];
	int64_t	 seq;
};

static int
find_cb(void *ctx, const struct central_log_row *r)
{
	struct find *f = ctx;

	if (r->id != f->id)
		return 0;
	f->row = web_row_json(r);
	snprintf(f->site, sizeof(f->site), "%s", r->site);
	snprintf(f->agent, sizeof(f->agent), "%s", r->agent);
	f->seq = r->seq;
	return 1;
}

struct chain_check {
	int64_t	 seq;
	cJSON	*issues;
	int64_t	 chain_alerts, chain_problems;
};

static int
issue_cb(void *ctx, const struct central_log_issue *i)
{
	struct chain_check *k = ctx;
	cJSON *o;

	if (k->seq >= 0 && !(i->seq <= k->seq && k->seq <= i->seq_to) &&
	    !(i->kind == CENTRAL_LOG_P_LINK && i->seq == k->seq + 1))
		return 0;
	if (cJSON_GetArraySize(k->issues) >= 200)
		return 0;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "site", i->site);
	cJSON_AddStringToObject(o, "agent", i->agent);
	cJSON_AddNumberToObject(o, "seq", (double)i->seq);
	cJSON_AddNumberToObject(o, "seq_to", (double)i->seq_to);
	cJSON_AddStringToObject(o, "problem",
	    central_log_problem_name(i->kind));
	cJSON_AddStringToObject(o, "detail", i->detail ? i->detail : "");
	cJSON_AddItemToArray(k->issues, o);
	return 0;
}

static int
chain_cb(void *ctx, const struct central_log_chain *ch)
{
	struct chain_check *k = ctx;

	k->chain_alerts += ch->alerts;
	k->chain_problems += ch->problems;
	return 0;
}

static int
audit_cb(void *ctx, const struct clog_audit_row *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddStringToObject(o, "ts", a->at);
	cJSON_AddStringToObject(o, "operator", a->user);
	cJSON_AddStringToObject(o, "kind", a->kind);
	cJSON_AddStringToObject(o, "target", a->target);
	cJSON_AddStringToObject(o, "action", a->action);
	cJSON_AddStringToObject(o, "note", a->text ? a->text : "");
	cJSON_AddStringToObject(o, "hash", a->hash);
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

/* GET /api/alert?id=ID&ts_us=TS: the alert, and its chain's verify. */
enum MHD_Result
web_api_alert(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct central_log_verify_ops ops;
	struct chain_check k;
	struct find fd;
	const char *id = web_arg(c, "id"), *ts = web_arg(c, "ts_us");
	int64_t problems = 0;
	cJSON *out, *ch, *audit = NULL;
	int rc;

	if (id == NULL || ts == NULL)
		return web_send_error(c, 400, "id and ts_us required");
	memset(&fd, 0, sizeof(fd));
	fd.id = strtoll(id, NULL, 10);
	central_log_filter_init(&f);
	f.since_us = strtoll(ts, NULL, 10);
	f.until_us = f.since_us + 1;
	f.after_id = fd.id - 1;
	pthread_mutex_lock(&web_db_lock);
	rc = central_log_query(web_db, &f, find_cb, &fd);
	if ((rc == 0 || rc == 1) && fd.row != NULL) {
		memset(&k, 0, sizeof(k));
		k.seq = fd.seq;
		k.issues = cJSON_CreateArray();
		ops.ctx = &k;
		ops.issue = issue_cb;
		ops.chain_done = chain_cb;
		rc = central_log_verify(web_db, fd.site, fd.agent, &ops, &problems);
	}
	if (fd.row != NULL) {
		struct clog_triage_info t;
		char target[300];

		audit = cJSON_CreateArray();
		memset(&t, 0, sizeof(t));
		snprintf(t.state, sizeof(t.state), "unknown");
		clog_triage_get(web_db, fd.site, fd.agent, fd.seq, &t);
		web_add_triage(fd.row, &t);
		snprintf(target, sizeof(target), "%s/%s/%" PRId64, fd.site,
		    fd.agent, fd.seq);
		clog_triage_audit(web_db, "alert", target, 200, audit_cb, audit);
	}
	pthread_mutex_unlock(&web_db_lock);
	if (fd.row == NULL)
		return web_send_error(c, 404, "no such alert");
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "audit", audit);
	cJSON_AddItemToObject(out, "row", fd.row);
	{
		char path[1024];
		void *pc = NULL;
		size_t plen = 0;
		bool have;

		pthread_mutex_lock(&web_db_lock);
		have = clog_evidence_get(web_db, fd.site, fd.agent, fd.seq, &pc,
		    &plen) == 0;
		pthread_mutex_unlock(&web_db_lock);
		free(pc);
		cJSON_AddBoolToObject(out, "evidence_available", have ||
		    web_evidence_path(fd.site, fd.agent, (long long)fd.seq, path,
		    sizeof(path)));
	}
	ch = cJSON_AddObjectToObject(out, "chain");
	if (rc != 0) {
		cJSON_Delete(k.issues);
		cJSON_AddStringToObject(ch, "status", "verify failed");
	} else {
		cJSON_AddStringToObject(ch, "status",
		    cJSON_GetArraySize(k.issues) == 0 ? "intact" : "broken");
		cJSON_AddNumberToObject(ch, "chain_alerts",
		    (double)k.chain_alerts);
		cJSON_AddNumberToObject(ch, "chain_problems",
		    (double)k.chain_problems);
		cJSON_AddItemToObject(ch, "issues", k.issues);
	}
	return web_send_json(c, 200, out, NULL);
}

static int
audit_problem_cb(void *ctx, const char *line)
{
	if (cJSON_GetArraySize(ctx) < 200)
		cJSON_AddItemToArray(ctx, cJSON_CreateString(line));
	return 0;
}

/* POST /api/verify: every alert chain, and the triage audit trail. */
enum MHD_Result
web_api_verify(struct MHD_Connection *c)
{
	struct central_log_verify_ops ops;
	struct chain_check k;
	int64_t problems = 0, audit_entries = 0, audit_problems = 0;
	cJSON *out, *audit, *o;
	int rc;

	memset(&k, 0, sizeof(k));
	k.seq = -1;
	k.issues = cJSON_CreateArray();
	ops.ctx = &k;
	ops.issue = issue_cb;
	ops.chain_done = chain_cb;
	audit = cJSON_CreateArray();
	pthread_mutex_lock(&web_db_lock);
	rc = central_log_verify(web_db, NULL, NULL, &ops, &problems);
	if (rc == 0)
		rc = clog_triage_verify(web_db, audit_problem_cb, audit,
		    &audit_entries, &audit_problems);
	pthread_mutex_unlock(&web_db_lock);
	if (rc != 0) {
		cJSON_Delete(k.issues);
		cJSON_Delete(audit);
		return web_send_error(c, 500, "verify failed");
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "status", problems == 0 &&
	    audit_problems == 0 ? "ok" : "problems");
	o = cJSON_AddObjectToObject(out, "audit");
	cJSON_AddNumberToObject(o, "entries", (double)audit_entries);
	cJSON_AddNumberToObject(o, "problems", (double)audit_problems);
	cJSON_AddItemToObject(o, "issues", audit);
	cJSON_AddNumberToObject(out, "alerts", (double)k.chain_alerts);
	cJSON_AddNumberToObject(out, "problems", (double)problems);
	cJSON_AddItemToObject(out, "issues", k.issues);
	return web_send_json(c, 200, out, NULL);
}
