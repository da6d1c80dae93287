/*
 * clog_pg.h - the PostgreSQL central log behind central_log.h (private).
 *
 * central_log.c hands every call on a "postgresql://" or "postgres://"
 * log to these functions; they have central_log.h's meaning exactly.
 * Only central_log.c includes this header.
 *
 * Layout (DESIGN.md "Central log"): alerts is partitioned by month on
 * ts_us (a partition is created when its first alert arrives, and old
 * months are dropped whole by retention); uniqueness on (site, agent, seq)
 * across partitions is kept by the small unpartitioned alert_keys table,
 * which every insert claims first with ON CONFLICT DO NOTHING.  Counters
 * are spread over slots (one per connection, summed on read) and agents'
 * last_seen is written once per transaction, so several collectors
 * writing at once do not queue behind one hot row.  Every statement is
 * constant text (or clog_query.h text) prepared once per connection.
 */
#ifndef ICSENTRY_BROKER_CLOG_PG_H
#define ICSENTRY_BROKER_CLOG_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/clog_types.h"

struct clog_pg;

/* Is path a PostgreSQL connection URI? */
bool	clog_pg_is_uri(const char *path);

int	clog_pg_open(const char *uri, enum central_log_mode mode,
	    enum central_log_sync sync, struct clog_pg **out, char *err,
	    size_t errlen);
void	clog_pg_close(struct clog_pg *pg);
/* The PGconn (reconnected when lost outside a transaction), or NULL. */
void	*clog_pg_conn(struct clog_pg *pg);
const char *clog_pg_errmsg(const struct clog_pg *pg);

int	clog_pg_begin(struct clog_pg *pg);
int	clog_pg_commit(struct clog_pg *pg);
int	clog_pg_rollback(struct clog_pg *pg);
int	clog_pg_insert(struct clog_pg *pg, const struct central_log_alert *a,
	    const char *json, size_t len, int64_t received_us,
	    enum central_log_stored *res);
/* central_log_defer_inserts */
int	clog_pg_defer_inserts(struct clog_pg *pg, int max,
	    central_log_stored_fn fn, void *ctx);
const char *clog_pg_notice(struct clog_pg *pg, char *buf, size_t len);
int	clog_pg_agent_status(struct clog_pg *pg, const char *site,
	    const char *agent, const char *status, int64_t at_us);
int	clog_pg_agent_stats(struct clog_pg *pg, const char *site,
	    const char *agent, const char *json, size_t len, int64_t at_us);
int	clog_pg_asset(struct clog_pg *pg, const char *site, const char *agent,
	    const char *ip, const char *json, size_t len, int64_t at_us);
int	clog_pg_contiguous(struct clog_pg *pg, const char *site,
	    const char *agent, int64_t from, int64_t *out);
int	clog_pg_next_seq(struct clog_pg *pg, const char *site,
	    const char *agent, int64_t after, int64_t *out);
/* acked_seq (reported false) or reported_seq of the agent; set keeps max */
int	clog_pg_agent_int(struct clog_pg *pg, bool reported, const char *site,
	    const char *agent, int64_t *out);
int	clog_pg_set_agent_int(struct clog_pg *pg, bool reported,
	    const char *site, const char *agent, int64_t v);
int	clog_pg_count(struct clog_pg *pg, const char *name, int64_t delta);
int	clog_pg_counter(struct clog_pg *pg, const char *name, int64_t *value);
int	clog_pg_retain(struct clog_pg *pg, int64_t before_us, int64_t *removed);

int	clog_pg_query(struct clog_pg *pg, const struct central_log_filter *f,
	    central_log_row_fn fn, void *ctx);
int	clog_pg_follow(struct clog_pg *pg, const struct central_log_filter *f,
	    central_log_row_fn fn, void *ctx, int64_t *last_id);
int	clog_pg_stats(struct clog_pg *pg, enum central_log_group g,
	    int64_t since_us, int64_t until_us, central_log_count_fn fn,
	    void *ctx);
int	clog_pg_counters(struct clog_pg *pg, central_log_count_fn fn,
	    void *ctx);
int	clog_pg_agents(struct clog_pg *pg, central_log_agent_fn fn, void *ctx);
int	clog_pg_assets(struct clog_pg *pg, central_log_asset_fn fn, void *ctx);
int	clog_pg_alert_count(struct clog_pg *pg, int64_t *n);
int	clog_pg_asset_count(struct clog_pg *pg, int64_t *n);

/* ---- what verify (in central_log.c) reads ------------------------------- */

/* One chain to verify, and where to start it. */
struct clog_chain_ref {
	const char	*site, *agent;
	bool		 have_ckpt;	/* verified up to ckpt_seq */
	int64_t		 ckpt_seq;
	const char	*ckpt_hash;
	bool		 have_anchor;	/* retention removed up to anchor_seq */
	int64_t		 anchor_seq;
	const char	*anchor_hash;
};
typedef int (*clog_chain_fn)(void *ctx, const struct clog_chain_ref *c);
typedef int (*clog_conflict_fn)(void *ctx, int64_t seq,
	    const char *received_at);

/* Every (site, agent) with stored alerts (or only the matching ones). */
int	clog_pg_chains(struct clog_pg *pg, const char *site, const char *agent,
	    clog_chain_fn fn, void *ctx);
/* One chain's rows with seq > after_seq, in seq order. */
int	clog_pg_chain_rows(struct clog_pg *pg, const char *site,
	    const char *agent, int64_t after_seq, central_log_row_fn fn,
	    void *ctx);
int	clog_pg_conflicts(struct clog_pg *pg, const char *site,
	    const char *agent, clog_conflict_fn fn, void *ctx);
int	clog_pg_checkpoint(struct clog_pg *pg, const char *site,
	    const char *agent, int64_t seq, const char *hash);

#endif
