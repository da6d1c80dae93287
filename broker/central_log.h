/*
 * central_log.h - the central alert log: one SQLite file in WAL mode, or a
 * PostgreSQL database when the path is a "postgresql://" (or
 * "postgres://") URI (clog_pg.h), with the same meaning for every call.
 *
 * The collector stores every alert once, unique on (site, agent, seq), as
 * its raw JSON plus indexed columns; an agent is always (site, agent), so
 * two gateways of one name at two sites are two agents with two chains; icsentry-log queries, follows and verifies it.
 * This module is the only code that touches sqlite3.  Every statement is
 * prepared once from constant text and bound; no SQL is ever formatted.
 * The schema is versioned with PRAGMA user_version (CENTRAL_LOG_SCHEMA).
 *
 * Thread safety: one struct central_log may be used by one thread at a
 * time; callers that share it serialise with their own lock.
 * Every function returns 0 or a negative IDS_E* (agent/ids.h).
 */
#ifndef ICSENTRY_BROKER_CENTRAL_LOG_H
#define ICSENTRY_BROKER_CENTRAL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the types both backends use (clog_pg.h, clog_query.h include only it) */
#include "broker/clog_types.h"

struct central_log;

/*
 * Open (and for RDWR create or upgrade) the log at path.  On failure
 * returns IDS_EIO / IDS_EINVAL / IDS_ENOMEM with one line in err.
 * Version 1 (keyed on (agent, seq)) is upgraded in place in one
 * transaction, every row and id kept; a version 1 "conflict" that was in
 * fact another site's alert of the same agent name becomes a stored alert.
 * RDONLY refuses any version but CENTRAL_LOG_SCHEMA.
 */
uint32_t central_log_agent_hash(const char *site, const char *agent);
int	central_log_open(const char *path, enum central_log_mode mode,
	    enum central_log_sync sync, struct central_log **out,
	    char *err, size_t errlen);
void	central_log_close(struct central_log *db);	/* accepts NULL */
/* Is path a PostgreSQL URI rather than a file? */
bool	central_log_is_url(const char *path);
/*
 * The backend's handle, for the modules beside this one (clog_exec.c):
 * 0 with *sqlite set (sqlite3 *), 1 with *pgconn set (PGconn *),
 * IDS_EIO when a PostgreSQL connection is lost and cannot be re-made.
 */
int	central_log_backend(struct central_log *db, void **sqlite,
	    void **pgconn);
/* Text of the last SQLite error on db (static until the next call). */
const char *central_log_errmsg(const struct central_log *db);

/* ---- alert text ------------------------------------------------------- */

/* "info".."critical" -> 0..4; -1 for anything else. */
int		 central_log_severity_rank(const char *name);
const char	*central_log_severity_name(int rank);	/* NULL if out of range */

/*
 * Parse json[0..len) as one alert: an object with unique member names,
 * agent/site/detector/ts/severity/prev_hash/hash strings, an integer seq,
 * a known severity, an RFC 3339 ts, technique a string or null, hash the
 * last member and both hashes 64 lower-case hex.  Returns 0, or
 * IDS_EMALFORMED with the reason in why.  Call central_log_alert_free()
 * after success.
 */
int	central_log_alert_parse(const char *json, size_t len,
	    struct central_log_alert *a, char *why, size_t whylen);
void	central_log_alert_free(struct central_log_alert *a);

/* RFC 3339 ("...Z" or "+hh:mm", optional fraction) -> us since epoch. */
int	central_log_parse_time(const char *text, int64_t *us);
/* us since epoch -> "YYYY-MM-DDThh:mm:ss.uuuuuuZ". */
void	central_log_format_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN]);
int64_t	central_log_now_us(void);

/* ---- writing (collector) ---------------------------------------------- */

/*
 * Explicit transactions batch several writes into one commit (group
 * commit: one fsync for the batch).  Without one, each write function
 * below commits on its own (atomically).  On PostgreSQL a failed write
 * inside a batch (server gone, deadlock with another collector) fails the
 * whole transaction: roll back and offer the batch again; nothing of it
 * was stored, and re-offered alerts are stored once.
 */
int	central_log_begin(struct central_log *db);
int	central_log_commit(struct central_log *db);
int	central_log_rollback(struct central_log *db);

/*
 * SQLite: checkpoint the WAL on a thread with its own connection
 * (PASSIVE) when a commit leaves soft_pages or more in it, instead of
 * inside the commit that crosses 1000 pages (SQLite's automatic
 * checkpoint); past hard_pages the committing writer checkpoints itself,
 * so the WAL stays bounded.  Every commit is still fsync'd.  Stopped by
 * central_log_close().  A no-op (0) on PostgreSQL; IDS_EINVAL for bad
 * bounds, IDS_EIO when the second connection cannot be opened.
 */
int	central_log_background_checkpoint(struct central_log *db,
	    int soft_pages, int hard_pages);
/* Checkpoints run by the thread, by the writer itself, the largest WAL. */
void	central_log_checkpoint_stats(struct central_log *db, int64_t *runs,
	    int64_t *inline_runs, int64_t *max_frames);

/*
 * Store one alert; a was parsed from exactly json[0..len).  Counts
 * "stored", "duplicates", "conflicts" and "bad_hash" (hash not matching
 * the content) in the counters table within the same transaction.
 */
int	central_log_insert(struct central_log *db,
	    const struct central_log_alert *a, const char *json, size_t len,
	    int64_t received_us, enum central_log_stored *res);

/*
 * Deferred inserts (PostgreSQL; on SQLite a no-op, every insert is
 * settled at once): inside an explicit transaction central_log_insert
 * queues the alert (*res = CENTRAL_LOG_QUEUED) and the queue goes to the
 * server as one pipeline (one round trip) when it holds max alerts,
 * before any other statement, and at commit; fn then learns each queued
 * alert's outcome, in order, before that call returns.  A failure fails
 * the transaction as a failed insert does (roll back, offer it again);
 * a rollback drops the queue unsettled.  max 0 turns it off.
 */
int	central_log_defer_inserts(struct central_log *db, int max,
	    central_log_stored_fn fn, void *ctx);

/*
 * A pending notice of the writes above, copied into buf and cleared; NULL
 * when there is none.  Today: an agent name seen at a second site (once,
 * when that (site, agent) first appears).
 */
const char *central_log_notice(struct central_log *db, char *buf, size_t len);

/* Upsert the agent's status ("online"/"offline") and last_seen. */
int	central_log_agent_status(struct central_log *db, const char *site,
	    const char *agent, const char *status, int64_t at_us);
/* Upsert the agent's latest stats JSON and last_seen. */
int	central_log_agent_stats(struct central_log *db, const char *site,
	    const char *agent, const char *json, size_t len, int64_t at_us);
/* Upsert one inventory entry; json NULL or len 0 removes it. */
int	central_log_asset(struct central_log *db, const char *site,
	    const char *agent, const char *ip, const char *json, size_t len,
	    int64_t at_us);

/* ---- end-to-end acknowledgement (collector) ---------------------------- */

/*
 * The highest seq s >= from such that every seq from + 1 .. s of (site,
 * agent) is stored; from must itself be known contiguous (0 at first).
 */
int	central_log_contiguous(struct central_log *db, const char *site,
	    const char *agent, int64_t from, int64_t *out);
/* The lowest stored seq > after, or -1 when there is none. */
int	central_log_next_seq(struct central_log *db, const char *site,
	    const char *agent, int64_t after, int64_t *out);
/* The acknowledged seq kept in agents (0 when none); set keeps the max. */
int	central_log_acked(struct central_log *db, const char *site,
	    const char *agent, int64_t *seq);
int	central_log_set_acked(struct central_log *db, const char *site,
	    const char *agent, int64_t seq);
/*
 * The agent's own last seq (from its stats), kept as the max seen; verify
 * reports alerts after the last stored one up to it as a missing tail.
 */
int	central_log_reported(struct central_log *db, const char *site,
	    const char *agent, int64_t *seq);
int	central_log_set_reported(struct central_log *db, const char *site,
	    const char *agent, int64_t seq);

/* Add delta to the named counter (created at 0). */
int	central_log_count(struct central_log *db, const char *name,
	    int64_t delta);
/* The named counter's value, 0 when it was never counted. */
int	central_log_counter(struct central_log *db, const char *name,
	    int64_t *value);

/* ---- reading (icsentry-log) ------------------------------------------- */

/* Everything open: all times, severities, agents, ids, no limit. */
void	central_log_filter_init(struct central_log_filter *f);

/* Matching rows in time order (ts, then arrival); limit keeps the latest. */
int	central_log_query(struct central_log *db,
	    const struct central_log_filter *f, central_log_row_fn fn,
	    void *ctx);
/*
 * Matching rows with id > f->after_id in arrival order (for tail);
 * *last_id receives the highest id seen (unchanged when none).
 */
int	central_log_follow(struct central_log *db,
	    const struct central_log_filter *f, central_log_row_fn fn,
	    void *ctx, int64_t *last_id);

/*
 * For a query of f built elsewhere (clog_query.h, over a view of alerts):
 * the CLOG_Q_NOINDEX bits of the filters SQLite's planner should check row
 * by row instead of walking their index (central_log_plan.c); 0 on
 * PostgreSQL, whose planner has statistics.
 */
unsigned central_log_plan_hint(struct central_log *db,
	    const struct central_log_filter *f);

/* Alert counts per group with ts in [since_us, until_us). */
int	central_log_stats(struct central_log *db, enum central_log_group g,
	    int64_t since_us, int64_t until_us, central_log_count_fn fn,
	    void *ctx);
/* Every counter, by name. */
int	central_log_counters(struct central_log *db, central_log_count_fn fn,
	    void *ctx);

int	central_log_agents(struct central_log *db, central_log_agent_fn fn,
	    void *ctx);
/* Every inventory entry, by site, agent and address. */
int	central_log_assets(struct central_log *db, central_log_asset_fn fn,
	    void *ctx);
/* Number of stored alerts, of inventory entries. */
int	central_log_alert_count(struct central_log *db, int64_t *n);
int	central_log_asset_count(struct central_log *db, int64_t *n);

/* ---- verify ------------------------------------------------------------ */

enum central_log_problem {
	CENTRAL_LOG_P_INVALID,	/* raw text is not a chained alert */
	CENTRAL_LOG_P_CHANGED,	/* hash does not match the alert's content */
	CENTRAL_LOG_P_COLUMNS,	/* indexed columns disagree with the raw JSON */
	CENTRAL_LOG_P_MISSING,	/* seq .. seq_to are absent (a gap, or a
				   tail the agent reported sending) */
	CENTRAL_LOG_P_LINK,	/* prev_hash is not the hash of seq - 1 */
	CENTRAL_LOG_P_HEAD,	/* first stored alert does not start the chain */
	CENTRAL_LOG_P_CONFLICT	/* a different alert with this seq arrived */
};
const char *central_log_problem_name(enum central_log_problem p);

struct central_log_issue {
	const char		*site, *agent;
	int64_t			 seq, seq_to;	/* seq_to == seq except MISSING */
	enum central_log_problem kind;
	const char		*detail;	/* one line of explanation */
};

struct central_log_chain {
	const char	*site, *agent;
	int64_t		 alerts, first_seq, last_seq, problems;
};

struct central_log_verify_ops {
	void	*ctx;
	/* Either may be NULL.  Non-zero return stops the walk. */
	int	(*issue)(void *ctx, const struct central_log_issue *i);
	int	(*chain_done)(void *ctx, const struct central_log_chain *c);
};

/*
 * Walk every (site, agent) chain in seq order with agent/chain.h and
 * report each problem; site and agent, when not NULL, keep only chains of
 * that exact site / agent name.  *problems receives the total.  Returns 0
 * when the walk completed (whatever it found).
 */
int	central_log_verify(struct central_log *db, const char *site,
	    const char *agent, const struct central_log_verify_ops *ops,
	    int64_t *problems);

/*
 * The same walk, each chain starting after its checkpoint (the last seq a
 * clean verify reached, with its hash, so the link is still checked); a
 * chain found clean gets a new checkpoint.  Needs a log opened RDWR.
 * Alerts before a checkpoint are not read again: a full verify is what
 * finds them changed.
 */
int	central_log_verify_incremental(struct central_log *db,
	    const char *site, const char *agent,
	    const struct central_log_verify_ops *ops, int64_t *problems);

/* ---- retention ---------------------------------------------------------- */

/*
 * Remove every alert with ts before before_us (PostgreSQL: whole months
 * are dropped as partitions, the rest deleted).  Each chain's last removed
 * alert is kept as its anchor, so verify starts the chain there instead of
 * reporting the removed head as missing.  *removed receives the count,
 * also added to the "retention_removed" counter.
 */
int	central_log_retain(struct central_log *db, int64_t before_us,
	    int64_t *removed);
/*
 * "90d": alerts older than 90 days; "12m": whole calendar months (UTC),
 * keeping this month and the 11 before.  IDS_EINVAL for anything else.
 */
int	central_log_retention_cutoff(const char *spec, int64_t now_us,
	    int64_t *cutoff);

#endif
