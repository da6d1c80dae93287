/*
 * clog_query.h - SQL for a central_log_filter, built from the filters given.
 *
 * A filter that is not set is left out of the WHERE clause instead of being
 * written "(?N IS NULL OR col GLOB ?N)": only then can SQLite's and
 * PostgreSQL's planners pick the index of the filter that is set.  The
 * text is assembled from constant fragments only; every value is a bound
 * parameter, so the statement is still prepared, never formatted with
 * data.  Each distinct text has a "shape" number, so a caller can cache one
 * prepared statement per shape.
 *
 * Pattern filters (agent, site, detector, technique, proto) are GLOBs: a
 * pattern without * ? [ becomes "col = ?", which uses an index fully; on
 * PostgreSQL a pattern becomes LIKE (or a POSIX regex for [...]) over
 * COLLATE "C" columns, so a literal prefix still uses the index.
 */
#ifndef ICSENTRY_BROKER_CLOG_QUERY_H
#define ICSENTRY_BROKER_CLOG_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/clog_types.h"

enum clog_dialect { CLOG_SQLITE, CLOG_PG };

enum clog_select {
	CLOG_Q_QUERY,	/* time order; with limit the latest limit rows */
	CLOG_Q_FOLLOW	/* arrival (id) order; with limit the last limit */
};

#define CLOG_Q_MAXPARAM	20
#define CLOG_Q_PATLEN	512

struct clog_param {
	bool		 is_text;
	int64_t		 i;
	const char	*s;
};

struct clog_sql {
	char			text[2048];
	uint32_t		shape;		/* same shape, same text */
	int			nparams;
	struct clog_param	p[CLOG_Q_MAXPARAM];
	/* converted patterns (LIKE / regex) live here */
	char			pat[5][CLOG_Q_PATLEN];
	/* received-time bounds as text (received_at is RFC 3339 text) */
	char			tbuf[2][CENTRAL_LOG_TIME_LEN];
};

/*
 * Build the SELECT of cols over table for f.  Returns 0, or IDS_EINVAL
 * when a pattern is too long to convert.
 */
int	clog_query_build(struct clog_sql *q, enum clog_dialect d,
	    enum clog_select kind, const char *cols, const char *table,
	    const struct central_log_filter *f);

/*
 * The same, where noindex (SQLite only) names filters written with a unary
 * plus ("+col GLOB ?", "+col = ?", "+sev IN (...)", "+received_at >= ?")
 * so that SQLite's planner cannot take their index: without statistics
 * it weighs two GLOB ranges alike and may walk the one that matches nearly
 * everything, and it prefers any equality to a narrow range of received
 * time (central_log_plan.c picks).  Slots: agent 0, site 1, detector 2,
 * technique 3, proto 4, severity 5, received time 6; slot 7 writes the
 * order "ORDER BY +ts_us, id" (or "+id"), so that the planner does not
 * walk the whole ts_us index (or the table) for its order when a one-sided
 * received range ("--since 1h") holds few rows: they are sorted instead.
 */
#define CLOG_Q_NOINDEX(slot)	(1u << (slot))
#define CLOG_Q_SLOT_SEV		5
#define CLOG_Q_SLOT_RECEIVED	6
#define CLOG_Q_SLOT_ORDER	7
#define CLOG_Q_SLOTS		8
int	clog_query_build_hint(struct clog_sql *q, enum clog_dialect d,
	    enum clog_select kind, const char *cols, const char *table,
	    const struct central_log_filter *f, unsigned noindex);

/* Does s contain a GLOB metacharacter (* ? [)? */
bool	clog_is_glob(const char *s);

#endif
