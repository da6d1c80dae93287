/*
 * clog_triage.h - triage in the central log: each alert's and incident's
 * state, an append-only hash-chained audit trail of every triage action,
 * and incidents (alerts of one attacker grouped in time).
 *
 * Same two backends as central_log.h (SQLite file or PostgreSQL URI), the
 * same handle and the same meaning on both; one implementation over
 * clog_exec.h (SQLite in clog_exec.c, PostgreSQL in clog_triage_pg.c).
 * Tables (created by clog_triage_schema(), IF NOT EXISTS, so a log of an
 * older build gains them in place):
 *
 *   triage_state (site, agent, seq, state, user, updated_at)
 *   incidents    (id, site, src_ip, first_us, last_us, first_ts, last_ts,
 *                 count, max_sev, hosts, techniques, state, user,
 *                 updated_at)
 *   incident_alerts (incident, site, agent, seq)
 *   triage_audit (id, at, user, kind, target, action, text, prev_hash,
 *                 hash)
 * and the index alerts_received_sev (--since/--until on received time).
 * clog_triage_query() reads every alerts column plus triage_state,
 * triage_user, triage_at and incident (a join written as a subquery, so
 * no stored view pins the alerts table).
 *
 * States: "new" (never triaged), "acked", "closed", "open" (reopened).
 * Actions: "ack" -> acked, "close" -> closed, "reopen" -> open, "note"
 * (text required) leaves the state.  Acking an incident does not change
 * its alerts' states (each alert keeps its own).
 *
 * Audit chain (like the alert chain, lib/chain.h):
 *   hash = hex(SHA-256(prev_hash || line)), line =
 *   "<id>\t<at>\t<user>\t<kind>\t<target>\t<action>\t<text>"
 * with the first entry's prev_hash CHAIN_GENESIS and the number of
 * entries also kept in the counters table ("triage_audit"), so an
 * edited, deleted, inserted or reordered entry, and a removed tail, are
 * all reported by clog_triage_verify().
 *
 * Every function returns 0 or a negative IDS_E* (lib/ids.h); those with
 * err put one line of explanation there.
 */
#ifndef ICSENTRY_BROKER_CLOG_TRIAGE_H
#define ICSENTRY_BROKER_CLOG_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/clog_types.h"

struct central_log;

#define CLOG_TRIAGE_TEXT_MAX	4096	/* note text, bytes */
#define CLOG_TRIAGE_USER_MAX	64	/* operator name, bytes */
#define CLOG_INCIDENT_WINDOW_S	1800	/* default grouping window */

/*
 * Create the triage tables when missing (and on PostgreSQL the SQL
 * function icsentry_in_cidr() that --ip CIDR queries use): call it once
 * after a read-write central_log_open() (the collector does); the
 * triage actions call it themselves.
 */
int	clog_triage_schema(struct central_log *db);

/*
 * One triage action on the alert (site, agent, seq) by user: the state
 * changes and one audit entry is appended, in one transaction.  text is
 * optional except for "note".  IDS_EINVAL for an unknown action, an empty
 * or over-long user, a note without text, and when no such alert is
 * stored ("no alert plant-a/gw-01/42").
 */
int	clog_triage(struct central_log *db, const char *site,
	    const char *agent, int64_t seq, const char *action,
	    const char *user, const char *text, char *err, size_t errlen);
/* The same for an incident (IDS_EINVAL when there is no such id). */
int	clog_triage_incident(struct central_log *db, int64_t incident,
	    const char *action, const char *user, const char *text, char *err,
	    size_t errlen);

/* An alert's state, "new" when never triaged; user/at "" then. */
struct clog_triage_info {
	char	state[16];
	char	user[CLOG_TRIAGE_USER_MAX + 1];
	char	at[CENTRAL_LOG_TIME_LEN];
	int64_t	incident;	/* 0 when the alert is in none */
};
int	clog_triage_get(struct central_log *db, const char *site,
	    const char *agent, int64_t seq, struct clog_triage_info *out);

/*
 * Alerts matching f (as central_log_query(): time order, limit keeps the
 * latest) and, when state is not NULL, in that triage state; each with
 * its triage state.
 */
typedef int (*clog_triage_row_fn)(void *ctx, const struct central_log_row *r,
	    const struct clog_triage_info *t);
int	clog_triage_query(struct central_log *db,
	    const struct central_log_filter *f, const char *state,
	    clog_triage_row_fn fn, void *ctx);

/* ---- audit trail ------------------------------------------------------- */

struct clog_audit_row {
	int64_t		 id;
	const char	*at;		/* RFC 3339 UTC */
	const char	*user;
	const char	*kind;		/* "alert" | "incident" */
	const char	*target;	/* "site/agent/seq" | incident id */
	const char	*action;
	const char	*text;		/* "" when none */
	const char	*prev_hash, *hash;
};
typedef int (*clog_audit_fn)(void *ctx, const struct clog_audit_row *r);

/*
 * Audit entries in id order; kind and target, when not NULL, keep only
 * that target's entries ("alert", "plant-a/gw-01/42").  limit > 0 keeps
 * the last limit.
 */
int	clog_triage_audit(struct central_log *db, const char *kind,
	    const char *target, int64_t limit, clog_audit_fn fn, void *ctx);

/*
 * Walk the whole audit chain: every entry's hash, every link, ids without
 * gaps, the count against the counters table, and each stored state
 * against the one the trail leads to.  fn (may be NULL) receives each
 * problem as one line ("audit entry 3: hash does not match its content
 * (edited?)"); *problems the total.  Returns 0 when the walk completed.
 */
typedef int (*clog_audit_problem_fn)(void *ctx, const char *line);
int	clog_triage_verify(struct central_log *db, clog_audit_problem_fn fn,
	    void *ctx, int64_t *entries, int64_t *problems);

/* ---- incidents --------------------------------------------------------- */

/*
 * File a newly stored alert (the collector calls it after
 * central_log_insert() said CENTRAL_LOG_NEW, inside the same transaction):
 * an alert with a src ip joins the incident of that src at its site
 * (10.0.0.66 at two plants is two hosts) whose alerts are within
 * window_s of its capture time, or starts a new one.  Alerts
 * without a src ip are in no incident.  *incident (may be NULL) receives
 * the id, 0 for none.
 */
int	clog_incident_add(struct central_log *db,
	    const struct central_log_alert *a, int64_t window_s,
	    int64_t *incident);

/*
 * A collector's batch: alerts to file just before its commit, sorted by
 * (site, src ip, time), so every collector takes the per-attacker locks
 * (PostgreSQL advisory locks, incident rows) in one global order and two
 * collectors' batches never deadlock on them.  defer copies what it
 * needs; flush files them all (clog_incident_add) and empties the batch;
 * clear drops them (the batch was rolled back).
 */
struct clog_incident_batch;
struct clog_incident_batch *clog_incident_batch_new(void);
void	clog_incident_batch_free(struct clog_incident_batch *b);
int	clog_incident_defer(struct clog_incident_batch *b,
	    const struct central_log_alert *a);
int	clog_incident_flush(struct central_log *db,
	    struct clog_incident_batch *b, int64_t window_s);
void	clog_incident_batch_clear(struct clog_incident_batch *b);
/*
 * A deferred insert (central_log_defer_inserts) turned out not NEW (a
 * duplicate or conflict): drop its alert from the batch.  flush settles
 * the insert queue first, so every outcome is known before it files.
 */
void	clog_incident_forget(struct clog_incident_batch *b, const char *site,
	    const char *agent, int64_t seq);

struct clog_incident {
	int64_t		 id;
	const char	*site, *src_ip;
	const char	*first_ts, *last_ts;	/* capture time */
	int64_t		 first_us, last_us;
	int64_t		 count;
	int		 max_sev;
	const char	*severity;		/* max_sev's name */
	const char	*hosts;			/* dst ips, "," sorted */
	const char	*techniques;		/* "," sorted, "" when none */
	const char	*state, *user, *updated_at;
};
typedef int (*clog_incident_fn)(void *ctx, const struct clog_incident *i);

struct clog_incident_filter {
	int64_t		 since_us, until_us;	/* last_us >= since, first_us < until */
	const char	*src_ip;		/* exact, or a CIDR; NULL any */
	const char	*site;			/* exact; NULL any */
	const char	*state;			/* NULL any */
	int		 min_sev;
	int64_t		 id;			/* > 0: only this one */
	int64_t		 limit;			/* > 0: the latest limit */
};
void	clog_incident_filter_init(struct clog_incident_filter *f);

/* Incidents in first_us order. */
int	clog_incidents(struct central_log *db,
	    const struct clog_incident_filter *f, clog_incident_fn fn,
	    void *ctx);

/* The last error of a clog_triage/clog_incident call (static text). */
const char *clog_triage_errmsg(void);

/* The alerts of one incident, in capture-time order. */
int	clog_incident_alerts(struct central_log *db, int64_t incident,
	    clog_triage_row_fn fn, void *ctx);

/* ---- assets (the inventory the agents publish) ------------------------- */

struct clog_asset {
	const char	*site, *agent, *ip;
	const char	*json;		/* the agent's inventory entry */
	const char	*received_at;	/* when the collector last stored it */
};
typedef int (*clog_asset_fn)(void *ctx, const struct clog_asset *a);
/* Every entry (site, agent exact when not NULL), by site, agent, ip. */
int	clog_assets(struct central_log *db, const char *site,
	    const char *agent, clog_asset_fn fn, void *ctx);

/* Does the log hold the triage tables (an older read-only log may not)? */
bool	clog_triage_present(struct central_log *db);

/* ---- helpers both backends and icsentry-log use ------------------------ */

/* Is ip inside cidr ("10.1.0.0/16", "fd00::/8", or a plain address)? */
bool	clog_ip_in_cidr(const char *ip, const char *cidr);
/* Is text a valid address or CIDR? */
bool	clog_cidr_valid(const char *text);

#endif
