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

/*
 * central_log.c: the backend's handle.  Returns 0 with *sqlite set
 * (sqlite3 *), 1 with *pgconn set (PGconn *), IDS_EIO when a PostgreSQL
 * connection is lost and cannot be re-made.
 */
int	central_log_backend(struct central_log *db, void **sqlite,
	    void **pgconn);

/* Return non-zero to stop (that value is returned). */
typedef int (*clog_exec_fn)(void *ctx, int ncols, const char *const *v);

/* Run one statement; fn (may be NULL) gets each result row. */
int	clog_exec(struct central_log *db, const char *sql, int n,
	    const char *const *params, clog_exec_fn fn, void *ctx);
/* Is db PostgreSQL? */
bool	clog_exec_is_pg(struct central_log *db);
/* Is a transaction open on db? */
bool	clog_exec_in_tx(struct central_log *db);
/*
 * After central_log_open(): register SQL functions (SQLite) and, when
 * rdwr, create the triage tables (clog_triage.h) if missing.
 */
int	clog_exec_attach(struct central_log *db, bool rdwr);

/* Keep one line of error for clog_triage_errmsg(). */
void	clog_exec_set_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* ---- the PostgreSQL side (clog_triage_pg.c) ----------------------------- */

int	clog_exec_pg(void *conn, const char *sql, int n,
	    const char *const *params, clog_exec_fn fn, void *ctx);
bool	clog_exec_pg_in_tx(void *conn);
int	clog_exec_pg_schema(void *conn);

#endif
