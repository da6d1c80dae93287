/*
 * clog_triage_int.h - what the pieces of the triage storage share
 * (private to broker/clog_triage*.c): the alerts-with-state subquery,
 * the audit columns and the helpers clog_triage.c lends the others.
 *
 * Layered one way: clog_triage.c (actions, states, queries, the audit
 * trail, assets) is the base; clog_triage_verify.c (the audit trail
 * checked) and clog_triage_incidents.c (incidents and the collector's
 * batches) sit on it.  This header does not include broker/clog_triage.h
 * (include it first), so the pieces form no cycle.
 */

#ifndef ICSENTRY_BROKER_CLOG_TRIAGE_INT_H
#define ICSENTRY_BROKER_CLOG_TRIAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct central_log;
struct clog_audit_row;

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

#define AUDIT_COLS \
	"id, at, operator, kind, target, action, text, prev_hash, hash"

/* Copy the first column of the first row (NULL stays "" with *found). */
struct first {
	char	v[2][128];
	bool	found;
};

/* The rows of a TRIAGE_FROM query, handed to fn (clog_tr_query_cb). */
struct query_ctx {
	clog_triage_row_fn	 fn;
	void			*ctx;
};

/* broker/clog_triage.c */
void	clog_tr_i64(char *buf, size_t len, int64_t v);
int64_t	clog_tr_to_i64(const char *s);
int	clog_tr_query_first(struct central_log *db, const char *sql, int n,
	    const char *const *p, struct first *f);
const char *clog_tr_action_state(const char *action);
char	*clog_tr_audit_line(int64_t id, const char *at, const char *user,
	    const char *kind, const char *target, const char *action,
	    const char *text, size_t *len);
void	clog_tr_audit_row(const char *const *v, struct clog_audit_row *r);
int	clog_tr_query_cb(void *ctx, int nc, const char *const *v);

#endif /* ICSENTRY_BROKER_CLOG_TRIAGE_INT_H */
