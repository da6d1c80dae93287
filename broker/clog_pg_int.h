/*
 * clog_pg_int.h - what the pieces of the PostgreSQL central log share
 * (private to broker/clog_pg*.c): struct clog_pg, the prepared statements
 * and the helpers one piece calls in another.
 *
 * Layered one way: clog_pg.c (connection, statements, the insert path and
 * its queue) is the base; clog_pg_schema.c (open, schema, close),
 * clog_pg_agents.c (agents, assets, counters, end-to-end ack, retention),
 * clog_pg_read.c (queries) and clog_pg_verify.c (chains, checkpoints) sit
 * on it.  This header does not include broker/clog_pg.h, so the pieces
 * form no cycle.
 */

#ifndef ICSENTRY_BROKER_CLOG_PG_INT_H
#define ICSENTRY_BROKER_CLOG_PG_INT_H

#include <libpq-fe.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/clog_types.h"

#define ALERT_COLS \
	"id, agent, seq, site, ts, ts_us, severity, sev, detector, technique," \
	" title, proto, src_ip, src_port, dst_ip, dst_port, prev_hash, hash," \
	" raw, received_at"

enum st {
	ST_INSERT, ST_SELECT_RAW, ST_INSERT_CONFLICT, ST_AGENT_SEEN,
	ST_STATUS, ST_STATS_JSON, ST_ASSET_PUT, ST_ASSET_DEL,
	ST_COUNT, ST_COUNTER, ST_PARTITION, ST_RETAIN,
	ST_BY_SEV, ST_BY_DETECTOR, ST_BY_AGENT,
	ST_COUNTERS, ST_AGENTS, ST_ALERT_COUNT, ST_ASSET_COUNT, ST_ASSETS,
	ST_CHAIN_FIRST, ST_CHAIN_NEXT, ST_CKPT_GET, ST_ANCHOR_GET,
	ST_CHAIN_ROWS, ST_CONFLICTS, ST_CHECKPOINT,
	ST_AGENT_KNOWN, ST_AGENT_OTHER_SITE,
	ST_SEQS_AFTER, ST_GET_ACKED, ST_GET_REPORTED,
	ST_KEYS_BATCH, ST_ALERTS_BATCH,
	ST_N
};


/* Built queries (clog_query.h), prepared once per shape. */
#define QCACHE	64

/*
 * An agent's row as this transaction changes it (latest arrival, ack,
 * reported seq), written at commit: every agents row a transaction writes
 * is written then, in (site, agent) order, so two collectors never lock
 * two agents in opposite orders (a deadlock fails a whole batch).
 */
struct seen {
	char	*site, *agent;
	char	 at[CENTRAL_LOG_TIME_LEN];	/* "" when unchanged */
	int64_t	 acked, reported;		/* -1 when unchanged */
};

/* A counter change in this transaction, written at commit. */
struct delta {
	char	 name[32];
	int64_t	 v;
};

/*
 * One alert queued for the batch statement: its 19 ST_INSERT parameters, copied
 * into buf (p[i] NULL for SQL NULL; p[17] is the raw JSON, len bytes).
 */
struct qrow {
	const char	*p[19];
	size_t		 len;
	int64_t		 seq;
	char		*buf;
};

/* tail: how far back to look again for rows committed out of id order */
#define SETTLE_US	10000000

struct clog_pg {
	PGconn		*c;
	char		*uri;
	bool		 rdwr;
	bool		 in_tx;
	uint64_t	 prepared;		/* bit per enum st */
	uint32_t	 qshape[QCACHE];	/* prepared built queries */
	int		 nq;
	int		 slot;			/* counters slot */
	int64_t		 months[32];		/* partitions known to exist */
	int		 nmonths;
	struct seen	*seen;
	size_t		 nseen, capseen;
	struct delta	 deltas[8];
	int		 ndeltas;
	/* follow (tail): ids delivered lately, and poll history */
	int64_t		*sent;
	size_t		 nsent, capsent;
	int64_t		 hist_us[64], hist_id[64];
	int		 nhist;
	int64_t		 floor;		/* the first poll's last id */
	/* (site, agent) pairs already checked for a name at two sites */
	char		**known;
	size_t		 nknown, capknown;
	char		 notice[512];
	char		 errbuf[512];
	/* deferred inserts (clog_pg_defer_inserts): one statement a batch */
	struct qrow	*q;
	size_t		 nqrow, capq;
	int		 qmax;
	central_log_stored_fn qfn;
	void		*qctx;
};

/* Per-row callback of a single-row-mode walk. */
typedef int (*pg_row_fn)(void *ctx, PGresult *r);

struct rows_ctx {
	struct clog_pg		*pg;
	central_log_row_fn	 fn;
	void			*ctx;
	int64_t			*last_id;
	int64_t			 skip_upto;	/* follow: already sent? */
};


/* broker/clog_pg.c */
int64_t	clog_pg_now_us(void);
void	clog_pg_fmt_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN]);
void	clog_pg_fmt_i64(char *buf, size_t len, int64_t v);
void	clog_pg_set_err(struct clog_pg *pg, const char *what);
void	clog_pg_set_res_err(struct clog_pg *pg, PGresult *r);
void	clog_pg_quiet(void *arg, const char *msg);
int	clog_pg_ensure_conn(struct clog_pg *pg);
int	clog_pg_exec_simple(struct clog_pg *pg, const char *text);
int	clog_pg_prepare(struct clog_pg *pg, enum st id);
PGresult *clog_pg_execp(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *lens);
int64_t	clog_pg_month_start(int64_t us);
int	clog_pg_ensure_partition(struct clog_pg *pg, int64_t ts_us);
int	clog_pg_check_new_agent(struct clog_pg *pg, const char *site, const char *agent);
int	clog_pg_add_delta(struct clog_pg *pg, const char *name, int64_t v);
struct seen *clog_pg_pending(struct clog_pg *pg, const char *site, const char *agent);
int	clog_pg_auto_begin(struct clog_pg *pg, bool *mine);
int	clog_pg_auto_end(struct clog_pg *pg, bool mine, int rc);
void	clog_pg_drop_queue(struct clog_pg *pg);
int	clog_pg_flush_queue(struct clog_pg *pg);
int	clog_pg_write_one(struct clog_pg *pg, enum st id, int n, const char *const *v);
char *clog_pg_cstr(const char *json, size_t len);
/* broker/clog_pg_batch.c */
int	clog_pg_batch_insert(struct clog_pg *pg, const struct qrow *q, size_t n,
    long *changed);
/* broker/clog_pg_agents.c */
int	clog_pg_one_int(struct clog_pg *pg, enum st id, int n, const char *const *v,
    int64_t *out);
/* broker/clog_pg_read.c */
int64_t	clog_pg_col_i64(PGresult *r, int i);
int	clog_pg_walk_st(struct clog_pg *pg, enum st id, int n, const char *const *v,
    pg_row_fn fn, void *ctx);
int	clog_pg_row_cb(void *ctx, PGresult *r);

#endif /* ICSENTRY_BROKER_CLOG_PG_INT_H */
