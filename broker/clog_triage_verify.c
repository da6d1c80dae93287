/*
 * clog_triage_verify.c - clog_triage_verify(): the audit trail's hash
 * chain and the states it leads to, checked against the triage table;
 * on clog_triage.c's helpers (clog_triage_int.h).
 */
#include "broker/clog_triage.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "broker/clog_exec.h"
#include "broker/clog_triage_int.h"
#include "lib/chain.h"
#include "lib/ids.h"

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
	const char *st = clog_tr_action_state(r->action);
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
	clog_tr_audit_row(vals, &r);
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
	line = clog_tr_audit_line(r.id, r.at, r.user, r.kind, r.target, r.action,
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
