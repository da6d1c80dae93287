/*
 * clog_exec.h - one small SQL executor over both central log backends,
 * for the modules beside central_log.c (clog_triage.c).  Private.
 *
 * SQL is written once with $1..$N placeholders (PostgreSQL's); on SQLite
 * each '$' becomes '?', so ?N binds the same parameter.  Parameters and
 * result columns are text (NULL = SQL NULL); SQLite's column affinity
 * and PostgreSQL's parameter type inference turn "42" into 42 where the
 * column is an integer.  Statements are constant text, never formatted
 * with data.
 */
#ifndef ICSENTRY_BROKER_CLOG_EXEC_H
#define ICSENTRY_BROKER_CLOG_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct central_log;

/* Return non-zero to stop (that value is returned). */
typedef int (*clog_exec_fn)(void *ctx, int ncols, const char *const *v);

/* Run one statement; fn (may be NULL) gets each result row. */
int	clog_exec(struct central_log *db, const char *sql, int n,
	    const char *const *params, clog_exec_fn fn, void *ctx);
/* Send db's deferred inserts (PostgreSQL pipeline) and learn outcomes. */
void	clog_exec_settle(struct central_log *db);
/* Is db PostgreSQL? */
bool	clog_exec_is_pg(struct central_log *db);
/* Is a transaction open on db? */
bool	clog_exec_in_tx(struct central_log *db);
/* Create the triage tables if missing (clog_triage_schema()). */
int	clog_exec_schema(struct central_log *db);
/*
 * Cache statements of this thread on db until _end (a batch): SQLite
 * statements are prepared once per batch; on PostgreSQL each text is
 * prepared once per connection (PQprepare) and kept for later batches.
 */
void	clog_exec_cache_begin(struct central_log *db);
void	clog_exec_cache_end(struct central_log *db);

/* One line of error, read by clog_triage_errmsg(). */
void	clog_exec_set_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
const char *clog_exec_errmsg(void);

/* ---- the PostgreSQL side (clog_triage_pg.c) ----------------------------- */

int	clog_exec_pg(void *conn, const char *sql, int n,
	    const char *const *params, clog_exec_fn fn, void *ctx);
bool	clog_exec_pg_in_tx(void *conn);
int	clog_exec_pg_schema(void *conn);
const char *clog_exec_pg_errmsg(void);	/* after a failure of the two */
/* The connection whose statements this thread caches; NULL: none. */
void	clog_exec_pg_session(void *conn);

#endif
