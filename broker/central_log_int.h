/*
 * central_log_int.h - what the pieces of the SQLite central log share
 * (private to broker/central_log*.c): struct central_log, the constant
 * statements and the helpers one piece calls in another.
 *
 * Layered one way: central_log.c (statements, severity and time, alert
 * parsing, the insert path) is the base; central_log_schema.c (open,
 * schema, migrations), central_log_agents.c (agents, assets, counters,
 * end-to-end ack), central_log_read.c (queries), central_log_verify.c and
 * central_log_retain.c sit on it.  Below it: central_log_batch.c (per-
 * batch bookkeeping, called by the insert path) and central_log_ckpt.c
 * (background checkpoints); central_log_plan.c (index choice for the
 * queries of central_log_read.c) sits on clog_query.c.  This header does not include
 * broker/central_log.h, so the pieces form no cycle.
 */

#ifndef ICSENTRY_BROKER_CENTRAL_LOG_INT_H
#define ICSENTRY_BROKER_CENTRAL_LOG_INT_H

#include <sqlite3.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/clog_types.h"

struct clog_pg;
struct clog_ckpt;

#define ALERT_COLS \
	"id, agent, seq, site, ts, ts_us, severity, sev, detector, technique," \
	" title, proto, src_ip, src_port, dst_ip, dst_port, prev_hash, hash," \
	" raw, received_at"

enum st {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_USER_VERSION,
	ST_INSERT, ST_SELECT_RAW, ST_INSERT_CONFLICT, ST_AGENT_SEEN,
	ST_STATUS, ST_STATS_JSON, ST_ASSET_PUT, ST_ASSET_DEL,
	ST_COUNT, ST_COUNTER,
	ST_BY_SEV, ST_BY_DETECTOR, ST_BY_AGENT,
	ST_COUNTERS, ST_AGENTS, ST_ALERT_COUNT, ST_ASSET_COUNT, ST_ASSETS,
	ST_CHAIN_FIRST, ST_CHAIN_NEXT, ST_CHAIN_ROWS, ST_CKPT_GET,
	ST_ANCHOR_GET, ST_CHECKPOINT, ST_RETAIN_ANCHORS, ST_RETAIN_DELETE,
	ST_CONFLICTS, ST_AGENT_KNOWN, ST_AGENT_OTHER_SITE,
	ST_V1_CONFLICTS, ST_CONFLICT_SITE, ST_CONFLICT_DEL,
	ST_SEQS_AFTER, ST_GET_ACKED, ST_SET_ACKED, ST_SET_REPORTED,
	ST_GET_REPORTED,
	ST_N
};

/* An agent written in the open transaction (central_log_batch.c). */
struct clog_seen {
	uint32_t	 h;
	char		*site, *agent;
	char		 received[CENTRAL_LOG_TIME_LEN];	/* latest */
	bool		 dirty;		/* received not yet in agents */
};

#define CLOG_SEEN_MAX	256

/* Statements built from filters (clog_query.h), one per shape. */
#define QCACHE	32

struct central_log {
	struct clog_pg	*pg;		/* non-NULL: PostgreSQL, h unused */
	sqlite3		*h;
	sqlite3_stmt	*st[ST_N];
	struct {
		uint32_t	 shape;
		sqlite3_stmt	*s;
	}		 q[QCACHE];
	int		 nq;
	char		 errbuf[256];
	char		 notice[512];	/* pending, for central_log_notice() */
	struct clog_ckpt *ckpt;		/* background checkpoints, or NULL */
	/* inside an explicit transaction: bookkeeping kept until commit */
	bool		 defer;		/* set by central_log_insert */
	int64_t		 pend_stored;
	struct clog_seen seen[CLOG_SEEN_MAX];
	int		 nseen;
	sqlite3_stmt	*bst[2];	/* central_log_batch.c's own */
};


/* broker/central_log.c */
sqlite3_stmt *clog_stmt(struct central_log *db, enum st id);
int	clog_run(struct central_log *db, enum st id);
void	clog_bind_str(sqlite3_stmt *s, int i, const char *v);
const char *clog_col_str(sqlite3_stmt *s, int i);
int	clog_col_port(sqlite3_stmt *s, int i);
int	clog_sp_begin(struct central_log *db);
int	clog_sp_end(struct central_log *db, int rc);
int	clog_count(struct central_log *db, const char *name, int64_t delta);
int	clog_check_new_agent(struct central_log *db, const char *site, const char *agent);
int	clog_insert_row(struct central_log *db, const struct central_log_alert *a,
    const char *json, size_t len, const char *received,
    enum central_log_stored *res);
/* broker/central_log_batch.c */
bool	clog_batch_seen(struct central_log *db, const char *site,
    const char *agent, const char *received);
void	clog_batch_note(struct central_log *db, const char *site,
    const char *agent, const char *received);
void	clog_batch_forget(struct central_log *db);
int	clog_batch_flush(struct central_log *db);
void	clog_batch_close(struct central_log *db);
/* broker/central_log_ckpt.c */
void	clog_ckpt_stop(struct central_log *db);
/* broker/central_log_plan.c: pattern filters to write "+col GLOB ?" */
unsigned clog_plan_noindex(struct central_log *db,
    const struct central_log_filter *f);
/* broker/central_log_read.c */
void	clog_fill_row(sqlite3_stmt *s, struct central_log_row *r);

#endif /* ICSENTRY_BROKER_CENTRAL_LOG_INT_H */
