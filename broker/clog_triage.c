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
#include "lib/chain.h"
#include "lib/ids.h"
#include "lib/ipnet.h"

/*
 * Every alert with its triage state and incident, as a subquery (not a
 * stored view: a view would pin the alerts table against the schema
 * upgrades central_log.c makes by renaming it).  Both planners flatten
 * it, so the filters still use the alerts indexes.
 */
#define TRIAGE_FROM \
	"(SELECT a.id, a.agent, a.seq, a.site, a.ts, a.ts_us, a.severity," \
	" a.sev, a.detector, a.technique, a.title, a.proto, a.src_ip," \
	" a.src_port, a.dst_ip, a.dst_port, a.prev_hash, a.hash, a.raw," \
	" a.received_at, COALESCE(t.state, 'new') AS triage_state," \
	" t.operator AS triage_user, t.updated_at AS triage_at," \
	" COALESCE(i.incident, 0) AS incident FROM alerts a" \
	" LEFT JOIN triage_state t" \
	"  ON t.site = a.site AND t.agent = a.agent AND t.seq = a.seq" \
	" LEFT JOIN incident_alerts i" \
	"  ON i.site = a.site AND i.agent = a.agent AND i.seq = a.seq)" \
	" AS alerts_triage"

#define MAX_LIST	60	/* hosts / techniques kept per incident */

static void
i64(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
}

static int64_t
to_i64(const char *s)
{
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

/* Copy the first column of the first row (NULL stays "" with *found). */
struct first {
	char	v[2][128];
	bool	found;
};

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

static int
query_first(struct central_log *db, const char *sql, int n,
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

static const char *
action_state(const char *action)
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

	if (action == NULL || action_state(action) == NULL) {
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
static char *
audit_line(int64_t id, const char *at, const char *user, const char *kind,
    const char *target, const char *action, const char *text, size_t *len)
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
	rc = query_first(db, "SELECT id, hash FROM triage_audit"
	    " ORDER BY id DESC LIMIT 1", 0, NULL, &f);
	if (rc != 0)
		return rc;
	id = f.found ? to_i64(f.v[0]) + 1 : 1;
	if (f.found && strlen(f.v[1]) != CHAIN_HEX_LEN) {
		clog_exec_set_err("the last audit entry's hash is damaged: "
		    "run icsentry-log verify");
		return IDS_EIO;
	}
	memcpy(prev, f.found ? f.v[1] : CHAIN_GENESIS, CHAIN_HEX_LEN + 1);
	line = audit_line(id, at, user, kind, target, action, text, &len);
	if (line == NULL)
		return IDS_ENOMEM;
	rc = chain_hash(prev, line, len, hash);
	free(line);
	if (rc != 0)
		return rc;
	i64(ids, sizeof(ids), id);
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
	state = action_state(action);
	i64(seqs, sizeof(seqs), seq);
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
	rc = query_first(db, "SELECT seq FROM alerts WHERE site = $1 AND"
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
	state = action_state(action);
	i64(ids, sizeof(ids), incident);
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
	rc = query_first(db, "SELECT id FROM incidents WHERE id = $1", 1, p,
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
	t->incident = to_i64(incident);
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

	i64(seqs, sizeof(seqs), seq);
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

struct query_ctx {
	clog_triage_row_fn	 fn;
	void			*ctx;
};

static int
port_of(const char *s)
{
	return s != NULL ? atoi(s) : -1;
}

static int
query_cb(void *ctx, int nc, const char *const *v)
{
	struct query_ctx *q = ctx;
	struct central_log_row r;
	struct clog_triage_info t;

	if (nc < 24)
		return IDS_EIO;
	memset(&r, 0, sizeof(r));
	r.id = to_i64(v[0]);
	r.agent = v[1];
	r.seq = to_i64(v[2]);
	r.site = v[3];
	r.ts = v[4];
	r.ts_us = to_i64(v[5]);
	r.severity = v[6];
	r.sev = (int)to_i64(v[7]);
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
	rc = clog_query_build(q, clog_exec_is_pg(db) ? CLOG_PG : CLOG_SQLITE,
	    CLOG_Q_QUERY, "*", TRIAGE_FROM, &g);
	if (rc != 0) {
		free(q);
		clog_exec_set_err("filter too long");
		return rc;
	}
	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text) {
			p[i] = q->p[i].s;
		} else {
			i64(nums[i], sizeof(nums[i]), q->p[i].i);
			p[i] = nums[i];
		}
	}
	rc = clog_exec(db, q->text, q->nparams, p, query_cb, &qc);
	free(q);
	return rc;
}

/* ---- audit trail ------------------------------------------------------------ */

#define AUDIT_COLS \
	"id, at, operator, kind, target, action, text, prev_hash, hash"

struct audit_ctx {
	clog_audit_fn	 fn;
	void		*ctx;
};

static void
audit_row(const char *const *v, struct clog_audit_row *r)
{
	r->id = to_i64(v[0]);
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
	audit_row(v, &r);
	return a->fn(a->ctx, &r);
}

int
clog_triage_audit(struct central_log *db, const char *kind,
    const char *target, int64_t limit, clog_audit_fn fn, void *ctx)
{
	char lim[24];
	const char *p[3] = { kind, target, lim };
	struct audit_ctx a = { fn, ctx };

	i64(lim, sizeof(lim), limit > 0 ? limit : INT64_MAX);
	return clog_exec(db, "SELECT " AUDIT_COLS " FROM (SELECT " AUDIT_COLS
	    " FROM triage_audit WHERE (CAST($1 AS TEXT) IS NULL OR kind = CAST($1 AS TEXT))"
	    " AND (CAST($2 AS TEXT) IS NULL OR target = CAST($2 AS TEXT))"
	    " ORDER BY id DESC LIMIT $3) AS t ORDER BY id", 3, p, audit_cb,
	    &a);
}

/* What the trail leads to: one (key, state) per state-changing entry. */
struct replay {
	char	*key;		/* "alert plant-a/gw-01/42" */
	char	 state[16];
	int64_t	 id;
};

struct verify_ctx {
	struct central_log	*db;
	clog_audit_problem_fn	 fn;
	void			*ctx;
	int64_t			 entries, problems, last_id;
	char			 prev[CHAIN_HEX_LEN + 1];
	struct replay		*rp;
	size_t			 nrp, caprp;
	int			 err;
};

static int
problem(struct verify_ctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
problem(struct verify_ctx *v, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->problems++;
	return v->fn != NULL ? v->fn(v->ctx, line) : 0;
}

static int
remember(struct verify_ctx *v, const struct clog_audit_row *r)
{
	const char *st = action_state(r->action);
	struct replay *n;
	size_t len;

	if (st == NULL || st[0] == '\0')
		return 0;
	if (v->nrp == v->caprp) {
		v->caprp = v->caprp != 0 ? v->caprp * 2 : 64;
		n = realloc(v->rp, v->caprp * sizeof(*n));
		if (n == NULL)
			return IDS_ENOMEM;
		v->rp = n;
	}
	len = strlen(r->kind) + strlen(r->target) + 2;
	n = &v->rp[v->nrp];
	n->key = malloc(len);
	if (n->key == NULL)
		return IDS_ENOMEM;
	snprintf(n->key, len, "%s %s", r->kind, r->target);
	snprintf(n->state, sizeof(n->state), "%s", st);
	n->id = r->id;
	v->nrp++;
	return 0;
}

static int
verify_cb(void *ctx, int nc, const char *const *vals)
{
	struct verify_ctx *v = ctx;
	struct clog_audit_row r;
	char hash[CHAIN_HEX_LEN + 1];
	size_t len;
	char *line;
	int rc;

	if (nc < 9)
		return IDS_EIO;
	audit_row(vals, &r);
	v->entries++;
	if (r.id != v->last_id + 1) {
		if (r.id > v->last_id + 1)
			rc = problem(v, "audit entries %" PRId64 "..%" PRId64
			    " are missing (deleted from the trail)",
			    v->last_id + 1, r.id - 1);
		else
			rc = problem(v, "audit entry %" PRId64 " is out of "
			    "order", r.id);
		if (rc != 0)
			return rc;
	}
	if (strcmp(r.prev_hash, v->prev) != 0 &&
	    (rc = problem(v, "audit entry %" PRId64 ": prev_hash does not "
	    "link to the entry before it (an entry was removed, inserted or "
	    "rewritten)", r.id)) != 0)
		return rc;
	line = audit_line(r.id, r.at, r.user, r.kind, r.target, r.action,
	    r.text, &len);
	if (line == NULL)
		return IDS_ENOMEM;
	rc = strlen(r.prev_hash) == CHAIN_HEX_LEN ?
	    chain_hash(r.prev_hash, line, len, hash) : IDS_EINVAL;
	free(line);
	if ((rc != 0 || strcmp(hash, r.hash) != 0) &&
	    (rc = problem(v, "audit entry %" PRId64 " (%s %s %s by %s): hash "
	    "does not match its content (the entry was edited)", r.id,
	    r.action, r.kind, r.target, r.user)) != 0)
		return rc;
	snprintf(v->prev, sizeof(v->prev), "%s", r.hash);
	v->last_id = r.id;
	return remember(v, &r);
}

static int
cmp_replay(const void *a, const void *b)
{
	const struct replay *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The trail's last state of key, or NULL (rp sorted, deduplicated). */
static struct replay *
replay_find(struct verify_ctx *v, const char *key)
{
	size_t lo = 0, hi = v->nrp;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v->rp[mid].key, key);

		if (c == 0)
			return &v->rp[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
state_cb(void *ctx, int nc, const char *const *vals)
{
	struct verify_ctx *v = ctx;
	struct replay *r;
	char key[600];
	int rc;

	if (nc < 3)
		return IDS_EIO;
	snprintf(key, sizeof(key), "%s %s", vals[0] != NULL ? vals[0] : "",
	    vals[1] != NULL ? vals[1] : "");
	r = replay_find(v, key);
	if (r == NULL)
		return problem(v, "%s is stored %s but the audit trail has no "
		    "action on it", key, vals[2] != NULL ? vals[2] : "?");
	if (strcmp(r->state, vals[2] != NULL ? vals[2] : "") != 0 &&
	    (rc = problem(v, "%s is stored %s but the audit trail leaves it "
	    "%s (entry %" PRId64 ")", key, vals[2] != NULL ? vals[2] : "?",
	    r->state, r->id)) != 0)
		return rc;
	r->state[0] = '\0';	/* seen */
	return 0;
}

int
clog_triage_verify(struct central_log *db, clog_audit_problem_fn fn,
    void *ctx, int64_t *entries, int64_t *problems)
{
	struct verify_ctx v;
	int64_t counted = 0;
	size_t i, j;
	int rc;

	memset(&v, 0, sizeof(v));
	v.db = db;
	v.fn = fn;
	v.ctx = ctx;
	snprintf(v.prev, sizeof(v.prev), "%s", CHAIN_GENESIS);
	*entries = *problems = 0;
	rc = clog_exec(db, "SELECT " AUDIT_COLS " FROM triage_audit ORDER BY id",
	    0, NULL, verify_cb, &v);
	if (rc == 0 && (rc = central_log_counter(db, "triage_audit",
	    &counted)) == 0 && counted != v.entries)
		rc = problem(&v, "the audit trail has %" PRId64 " entries, the "
		    "log counted %" PRId64 " appended (entries %s)", v.entries,
		    counted, counted > v.entries ? "were deleted" :
		    "were added behind its back");
	/* sort, keep the last entry per key */
	if (v.nrp > 0)
		qsort(v.rp, v.nrp, sizeof(*v.rp), cmp_replay);
	for (i = 0, j = 0; i < v.nrp; i++) {
		if (j > 0 && strcmp(v.rp[j - 1].key, v.rp[i].key) == 0) {
			free(v.rp[j - 1].key);
			v.rp[j - 1] = v.rp[i];
		} else {
			v.rp[j++] = v.rp[i];
		}
	}
	v.nrp = j;
	if (rc == 0)
		rc = clog_exec(db, "SELECT 'alert', site || '/' || agent || '/'"
		    " || CAST(seq AS TEXT), state FROM triage_state", 0, NULL,
		    state_cb, &v);
	if (rc == 0)
		rc = clog_exec(db, "SELECT 'incident', CAST(id AS TEXT), state"
		    " FROM incidents WHERE state <> 'new'", 0, NULL, state_cb,
		    &v);
	for (i = 0; rc == 0 && i < v.nrp; i++)
		if (v.rp[i].state[0] != '\0')
			rc = problem(&v, "the audit trail leaves %s %s (entry %"
			    PRId64 ") but it is stored without that state",
			    v.rp[i].key, v.rp[i].state, v.rp[i].id);
	for (i = 0; i < v.nrp; i++)
		free(v.rp[i].key);
	free(v.rp);
	*entries = v.entries;
	*problems = v.problems;
	return rc < 0 ? rc : 0;
}

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
	i64(ts, sizeof(ts), a->ts_us);
	i64(lo, sizeof(lo), a->ts_us - w);
	i64(hi, sizeof(hi), a->ts_us + w);
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
	i64(first, sizeof(first), to_i64(cur.v[1]) < a->ts_us ?
	    to_i64(cur.v[1]) : a->ts_us);
	i64(last, sizeof(last), to_i64(cur.v[2]) > a->ts_us ?
	    to_i64(cur.v[2]) : a->ts_us);
	i64(cnt, sizeof(cnt), to_i64(cur.v[3]) + 1);
	msev = (int)to_i64(cur.v[4]);
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
		id = to_i64(cur.v[0]);
	} else {
		struct first f;

		p[7] = a->site;
		rc = query_first(db, "INSERT INTO incidents (src_ip, first_us,"
		    " last_us, count, max_sev, hosts, techniques, site) VALUES"
		    " ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id", 8, p, &f);
		if (rc == 0 && !f.found)
			rc = IDS_EIO;
		id = rc == 0 ? to_i64(f.v[0]) : 0;
	}
	if (rc != 0)
		return rc;
	i64(ids, sizeof(ids), id);
	i64(seqs, sizeof(seqs), a->seq);
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
	i.id = to_i64(v[0]);
	i.src_ip = v[1] != NULL ? v[1] : "";
	i.first_us = to_i64(v[2]);
	i.last_us = to_i64(v[3]);
	central_log_format_time(i.first_us, first);
	central_log_format_time(i.last_us, last);
	i.first_ts = first;
	i.last_ts = last;
	i.count = to_i64(v[4]);
	i.max_sev = (int)to_i64(v[5]);
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

	i64(id, sizeof(id), f->id);
	i64(since, sizeof(since), f->since_us);
	i64(until, sizeof(until), f->until_us);
	snprintf(sev, sizeof(sev), "%d", f->min_sev);
	i64(lim, sizeof(lim), f->limit > 0 ? f->limit : INT64_MAX);
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

	i64(id, sizeof(id), incident);
	return clog_exec(db, "SELECT * FROM " TRIAGE_FROM " WHERE incident = $1"
	    " ORDER BY ts_us, id", 1, p, query_cb, &qc);
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

	if (query_first(db, clog_exec_is_pg(db) ?
	    "SELECT 1 WHERE to_regclass('triage_audit') IS NOT NULL" :
	    "SELECT 1 FROM sqlite_master WHERE name = 'triage_audit'", 0,
	    NULL, &f) != 0)
		return false;
	return f.found;
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
