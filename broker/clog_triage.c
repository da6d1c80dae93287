/*
 * clog_triage.c - triage state, the hash-chained audit trail and
 * incidents (clog_triage.h), written once for both backends over
 * clog_exec.h.
 */
#include "broker/clog_triage.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "broker/clog_exec.h"
#include "broker/clog_query.h"
#include "broker/clog_triage_int.h"
#include "lib/chain.h"
#include "lib/ids.h"
#include "lib/ipnet.h"

void
clog_tr_i64(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
}

int64_t
clog_tr_to_i64(const char *s)
{
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

static int
first_cb(void *ctx, int nc, const char *const *v)
{
	struct first *f = ctx;
	int i;

	for (i = 0; i < nc && i < 2; i++)
		snprintf(f->v[i], sizeof(f->v[i]), "%s", v[i] != NULL ?
		    v[i] : "");
	f->found = true;
	return 1;
}

int
clog_tr_query_first(struct central_log *db, const char *sql, int n,
    const char *const *p, struct first *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rc = clog_exec(db, sql, n, p, first_cb, f);
	return rc == 1 ? 0 : rc;
}

const char *
clog_triage_errmsg(void)
{
	return clog_exec_errmsg();
}

bool
clog_ip_in_cidr(const char *ip, const char *cidr)
{
	return ipnet_contains(cidr, ip);
}

bool
clog_cidr_valid(const char *text)
{
	return text != NULL && ipnet_valid(text);
}

int
clog_triage_schema(struct central_log *db)
{
	return clog_exec_schema(db);
}

/* ---- actions ------------------------------------------------------------- */

const char *
clog_tr_action_state(const char *action)
{
	if (strcmp(action, "ack") == 0)
		return "acked";
	if (strcmp(action, "close") == 0)
		return "closed";
	if (strcmp(action, "reopen") == 0)
		return "open";
	if (strcmp(action, "note") == 0)
		return "";	/* no change */
	return NULL;
}

static int
check_args(const char *action, const char *user, const char *text,
    char *err, size_t errlen)
{
	const char *p;

	if (action == NULL || clog_tr_action_state(action) == NULL) {
		snprintf(err, errlen, "unknown action '%s' (ack, close, note, "
		    "reopen)", action != NULL ? action : "");
		return IDS_EINVAL;
	}
	if (user == NULL || user[0] == '\0' ||
	    strlen(user) > CLOG_TRIAGE_USER_MAX) {
		snprintf(err, errlen, "an operator name (1..%d bytes) is "
		    "required", CLOG_TRIAGE_USER_MAX);
		return IDS_EINVAL;
	}
	for (p = user; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "operator name has a control "
			    "character");
			return IDS_EINVAL;
		}
	if (strcmp(action, "note") == 0 && (text == NULL || text[0] == '\0')) {
		snprintf(err, errlen, "a note needs its text");
		return IDS_EINVAL;
	}
	if (text != NULL && strlen(text) > CLOG_TRIAGE_TEXT_MAX) {
		snprintf(err, errlen, "text is longer than %d bytes",
		    CLOG_TRIAGE_TEXT_MAX);
		return IDS_EINVAL;
	}
	return 0;
}

/* The line an audit entry's hash covers (clog_triage.h). */
char *
clog_tr_audit_line(int64_t id, const char *at, const char *user,
    const char *kind, const char *target, const char *action, const char *text,
    size_t *len)
{
	size_t n = 64 + strlen(at) + strlen(user) + strlen(kind) +
	    strlen(target) + strlen(action) + strlen(text);
	char *s = malloc(n);
	int w;

	if (s == NULL)
		return NULL;
	w = snprintf(s, n, "%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s", id, at, user,
	    kind, target, action, text);
	*len = (size_t)w;
	return s;
}

static int
audit_append(struct central_log *db, const char *at, const char *user,
    const char *kind, const char *target, const char *action,
    const char *text)
{
	char ids[24], hash[CHAIN_HEX_LEN + 1], prev[CHAIN_HEX_LEN + 1];
	const char *p[9];
	struct first f;
	int64_t id;
	size_t len;
	char *line;
	int rc;

	if (clog_exec_is_pg(db) && (rc = clog_exec(db,
	    "SELECT pg_advisory_xact_lock(7213003)", 0, NULL, NULL,
	    NULL)) != 0)
		return rc;
	rc = clog_tr_query_first(db, "SELECT id, hash FROM triage_audit"
	    " ORDER BY id DESC LIMIT 1", 0, NULL, &f);
	if (rc != 0)
		return rc;
	id = f.found ? clog_tr_to_i64(f.v[0]) + 1 : 1;
	if (f.found && strlen(f.v[1]) != CHAIN_HEX_LEN) {
		clog_exec_set_err("the last audit entry's hash is damaged: "
		    "run icsentry-log verify");
		return IDS_EIO;
	}
	memcpy(prev, f.found ? f.v[1] : CHAIN_GENESIS, CHAIN_HEX_LEN + 1);
	line = clog_tr_audit_line(id, at, user, kind, target, action, text, &len);
	if (line == NULL)
		return IDS_ENOMEM;
	rc = chain_hash(prev, line, len, hash);
	free(line);
	if (rc != 0)
		return rc;
	clog_tr_i64(ids, sizeof(ids), id);
	p[0] = ids;
	p[1] = at;
	p[2] = user;
	p[3] = kind;
	p[4] = target;
	p[5] = action;
	p[6] = text;
	p[7] = prev;
	p[8] = hash;
	rc = clog_exec(db, "INSERT INTO triage_audit (id, at, operator, kind,"
	    " target, action, text, prev_hash, hash)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, p, NULL, NULL);
	if (rc == 0)
		rc = central_log_count(db, "triage_audit", 1);
	return rc;
}

static int
finish(struct central_log *db, bool mine, int rc)
{
	if (!mine)
		return rc;
	if (rc == 0)
		return central_log_commit(db);
	central_log_rollback(db);
	return rc;
}

int
clog_triage(struct central_log *db, const char *site, const char *agent,
    int64_t seq, const char *action, const char *user, const char *text,
    char *err, size_t errlen)
{
	char seqs[24], at[CENTRAL_LOG_TIME_LEN], target[512];
	const char *p[6], *state;
	struct first f;
	bool mine;
	int rc;

	clog_exec_set_err("%s", "");
	if ((rc = check_args(action, user, text, err, errlen)) != 0)
		return rc;
	if (site == NULL || agent == NULL || seq < 0) {
		snprintf(err, errlen, "an alert is SITE/AGENT SEQ");
		return IDS_EINVAL;
	}
	state = clog_tr_action_state(action);
	clog_tr_i64(seqs, sizeof(seqs), seq);
	snprintf(target, sizeof(target), "%s/%s/%s", site, agent, seqs);
	central_log_format_time(central_log_now_us(), at);
	if (!clog_exec_in_tx(db) && (rc = clog_exec_schema(db)) != 0) {
		snprintf(err, errlen, "%s", clog_exec_errmsg());
		return rc;
	}
	mine = !clog_exec_in_tx(db);
	if (mine && (rc = central_log_begin(db)) != 0) {
		snprintf(err, errlen, "%s", central_log_errmsg(db));
		return rc;
	}
	p[0] = site;
	p[1] = agent;
	p[2] = seqs;
	rc = clog_tr_query_first(db, "SELECT seq FROM alerts WHERE site = $1 AND"
	    " agent = $2 AND seq = $3", 3, p, &f);
	if (rc == 0 && !f.found) {
		finish(db, mine, IDS_EINVAL);
		snprintf(err, errlen, "no alert %s is stored", target);
		return IDS_EINVAL;
	}
	if (rc == 0 && state[0] != '\0') {
		p[3] = state;
		p[4] = user;
		p[5] = at;
		rc = clog_exec(db, "INSERT INTO triage_state (site, agent, seq,"
		    " state, operator, updated_at) VALUES ($1, $2, $3, $4, $5,"
		    " $6) ON CONFLICT (site, agent, seq) DO UPDATE SET"
		    " state = excluded.state, operator = excluded.operator,"
		    " updated_at = excluded.updated_at", 6, p, NULL, NULL);
	}
	if (rc == 0)
		rc = audit_append(db, at, user, "alert", target, action,
		    text != NULL ? text : "");
	rc = finish(db, mine, rc);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", target, clog_triage_errmsg());
	return rc;
}

int
clog_triage_incident(struct central_log *db, int64_t incident,
    const char *action, const char *user, const char *text, char *err,
    size_t errlen)
{
	char ids[24], at[CENTRAL_LOG_TIME_LEN];
	const char *p[4], *state;
	struct first f;
	bool mine;
	int rc;

	clog_exec_set_err("%s", "");
	if ((rc = check_args(action, user, text, err, errlen)) != 0)
		return rc;
	state = clog_tr_action_state(action);
	clog_tr_i64(ids, sizeof(ids), incident);
	central_log_format_time(central_log_now_us(), at);
	if (!clog_exec_in_tx(db) && (rc = clog_exec_schema(db)) != 0) {
		snprintf(err, errlen, "%s", clog_exec_errmsg());
		return rc;
	}
	mine = !clog_exec_in_tx(db);
	if (mine && (rc = central_log_begin(db)) != 0) {
		snprintf(err, errlen, "%s", central_log_errmsg(db));
		return rc;
	}
	p[0] = ids;
	rc = clog_tr_query_first(db, "SELECT id FROM incidents WHERE id = $1", 1, p,
	    &f);
	if (rc == 0 && !f.found) {
		finish(db, mine, IDS_EINVAL);
		snprintf(err, errlen, "no incident %s", ids);
		return IDS_EINVAL;
	}
	if (rc == 0 && state[0] != '\0') {
		p[1] = state;
		p[2] = user;
		p[3] = at;
		rc = clog_exec(db, "UPDATE incidents SET state = $2,"
		    " operator = $3, updated_at = $4 WHERE id = $1", 4, p, NULL,
		    NULL);
	}
	if (rc == 0)
		rc = audit_append(db, at, user, "incident", ids, action,
		    text != NULL ? text : "");
	rc = finish(db, mine, rc);
	if (rc != 0)
		snprintf(err, errlen, "incident %s: %s", ids,
		    clog_triage_errmsg());
	return rc;
}

/* ---- state ---------------------------------------------------------------- */

static void
info_fill(struct clog_triage_info *t, const char *state, const char *user,
    const char *at, const char *incident)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->state, sizeof(t->state), "%s", state != NULL ? state :
	    "new");
	snprintf(t->user, sizeof(t->user), "%s", user != NULL ? user : "");
	snprintf(t->at, sizeof(t->at), "%s", at != NULL ? at : "");
	t->incident = clog_tr_to_i64(incident);
}

struct get_ctx {
	struct clog_triage_info	*out;
	bool			 found;
};

static int
get_cb(void *ctx, int nc, const char *const *v)
{
	struct get_ctx *g = ctx;

	if (nc < 4)
		return IDS_EIO;
	info_fill(g->out, v[0], v[1], v[2], v[3]);
	g->found = true;
	return 1;
}

int
clog_triage_get(struct central_log *db, const char *site, const char *agent,
    int64_t seq, struct clog_triage_info *out)
{
	char seqs[24];
	const char *p[3] = { site, agent, seqs };
	struct get_ctx g = { out, false };
	int rc;

	clog_tr_i64(seqs, sizeof(seqs), seq);
	info_fill(out, NULL, NULL, NULL, NULL);
	rc = clog_exec(db, "SELECT triage_state, triage_user, triage_at,"
	    " incident FROM " TRIAGE_FROM " WHERE site = $1 AND agent = $2"
	    " AND seq = $3", 3, p, get_cb, &g);
	if (rc == 1)
		rc = 0;
	if (rc == 0 && !g.found) {
		clog_exec_set_err("no alert %s/%s/%s is stored", site, agent,
		    seqs);
		return IDS_EINVAL;
	}
	return rc;
}

static int
port_of(const char *s)
{
	return s != NULL ? atoi(s) : -1;
}

int
clog_tr_query_cb(void *ctx, int nc, const char *const *v)
{
	struct query_ctx *q = ctx;
	struct central_log_row r;
	struct clog_triage_info t;

	if (nc < 24)
		return IDS_EIO;
	memset(&r, 0, sizeof(r));
	r.id = clog_tr_to_i64(v[0]);
	r.agent = v[1];
	r.seq = clog_tr_to_i64(v[2]);
	r.site = v[3];
	r.ts = v[4];
	r.ts_us = clog_tr_to_i64(v[5]);
	r.severity = v[6];
	r.sev = (int)clog_tr_to_i64(v[7]);
	r.detector = v[8];
	r.technique = v[9];
	r.title = v[10];
	r.proto = v[11];
	r.src_ip = v[12];
	r.src_port = port_of(v[13]);
	r.dst_ip = v[14];
	r.dst_port = port_of(v[15]);
	r.prev_hash = v[16];
	r.hash = v[17];
	r.raw = v[18] != NULL ? v[18] : "";
	r.raw_len = strlen(r.raw);
	r.received_at = v[19];
	info_fill(&t, v[20], v[21], v[22], v[23]);
	return q->fn(q->ctx, &r, &t);
}

int
clog_triage_query(struct central_log *db, const struct central_log_filter *f,
    const char *state, clog_triage_row_fn fn, void *ctx)
{
	struct central_log_filter g = *f;
	struct clog_sql *q;
	struct query_ctx qc = { fn, ctx };
	const char *p[CLOG_Q_MAXPARAM];
	char nums[CLOG_Q_MAXPARAM][24];
	int i, rc;

	g.state = state;
	q = malloc(sizeof(*q));
	if (q == NULL)
		return IDS_ENOMEM;
	/* the view's columns are the table's: the same index hints apply */
	rc = clog_query_build_hint(q, clog_exec_is_pg(db) ? CLOG_PG :
	    CLOG_SQLITE, CLOG_Q_QUERY, "*", TRIAGE_FROM, &g,
	    central_log_plan_hint(db, &g));
	if (rc != 0) {
		free(q);
		clog_exec_set_err("filter too long");
		return rc;
	}
	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text) {
			p[i] = q->p[i].s;
		} else {
			clog_tr_i64(nums[i], sizeof(nums[i]), q->p[i].i);
			p[i] = nums[i];
		}
	}
	rc = clog_exec(db, q->text, q->nparams, p, clog_tr_query_cb, &qc);
	free(q);
	return rc;
}

/* ---- audit trail ------------------------------------------------------------ */

struct audit_ctx {
	clog_audit_fn	 fn;
	void		*ctx;
};

void
clog_tr_audit_row(const char *const *v, struct clog_audit_row *r)
{
	r->id = clog_tr_to_i64(v[0]);
	r->at = v[1] != NULL ? v[1] : "";
	r->user = v[2] != NULL ? v[2] : "";
	r->kind = v[3] != NULL ? v[3] : "";
	r->target = v[4] != NULL ? v[4] : "";
	r->action = v[5] != NULL ? v[5] : "";
	r->text = v[6] != NULL ? v[6] : "";
	r->prev_hash = v[7] != NULL ? v[7] : "";
	r->hash = v[8] != NULL ? v[8] : "";
}

static int
audit_cb(void *ctx, int nc, const char *const *v)
{
	struct audit_ctx *a = ctx;
	struct clog_audit_row r;

	if (nc < 9)
		return IDS_EIO;
	clog_tr_audit_row(v, &r);
	return a->fn(a->ctx, &r);
}

int
clog_triage_audit(struct central_log *db, const char *kind,
    const char *target, int64_t limit, clog_audit_fn fn, void *ctx)
{
	char lim[24];
	const char *p[3] = { kind, target, lim };
	struct audit_ctx a = { fn, ctx };

	clog_tr_i64(lim, sizeof(lim), limit > 0 ? limit : INT64_MAX);
	return clog_exec(db, "SELECT " AUDIT_COLS " FROM (SELECT " AUDIT_COLS
	    " FROM triage_audit WHERE (CAST($1 AS TEXT) IS NULL OR kind = CAST($1 AS TEXT))"
	    " AND (CAST($2 AS TEXT) IS NULL OR target = CAST($2 AS TEXT))"
	    " ORDER BY id DESC LIMIT $3) AS t ORDER BY id", 3, p, audit_cb,
	    &a);
}

struct asset_ctx {
	clog_asset_fn	 fn;
	void		*ctx;
};

static int
asset_cb(void *ctx, int nc, const char *const *v)
{
	struct asset_ctx *c = ctx;
	struct clog_asset a;

	if (nc < 5)
		return IDS_EIO;
	a.site = v[0] != NULL ? v[0] : "";
	a.agent = v[1] != NULL ? v[1] : "";
	a.ip = v[2] != NULL ? v[2] : "";
	a.json = v[3] != NULL ? v[3] : "{}";
	a.received_at = v[4] != NULL ? v[4] : "";
	return c->fn(c->ctx, &a);
}

int
clog_assets(struct central_log *db, const char *site, const char *agent,
    clog_asset_fn fn, void *ctx)
{
	const char *p[2] = { site, agent };
	struct asset_ctx c = { fn, ctx };

	return clog_exec(db, "SELECT site, agent, ip, json, last_seen"
	    " FROM assets WHERE (CAST($1 AS TEXT) IS NULL OR site = $1)"
	    " AND (CAST($2 AS TEXT) IS NULL OR agent = $2)"
	    " ORDER BY site, agent, ip", 2, p, asset_cb, &c);
}

bool
clog_triage_present(struct central_log *db)
{
	struct first f;

	if (clog_tr_query_first(db, clog_exec_is_pg(db) ?
	    "SELECT 1 WHERE to_regclass('triage_audit') IS NOT NULL" :
	    "SELECT 1 FROM sqlite_master WHERE name = 'triage_audit'", 0,
	    NULL, &f) != 0)
		return false;
	return f.found;
}
