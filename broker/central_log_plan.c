/*
 * central_log_plan.c - which index a query of several GLOB patterns walks
 * on SQLite (central_log_read.c).
 *
 * SQLite turns "col GLOB 's7.*'" into the range col >= 's7.' AND col <
 * 's7/' on col's index.  With two such patterns (--detector "s7.*" --agent
 * "gw-0*") and no statistics (the log is never ANALYZEd) both ranges cost
 * the same to the planner, and it took the agent index, whose range held
 * every alert of a fleet named gw-0N: 7.5 s at 1 M alerts (bench-central).
 * Here each candidate's range is counted on its index, up to a cap (a
 * covering index walk, milliseconds), and every pattern but the one with
 * the fewest rows is written "+col GLOB ?" (clog_query.h), so the planner
 * walks the narrowest range and checks the rest row by row.  The rows are
 * the same either way; only the order of work changes.
 */
#include "broker/central_log.h"
#include "broker/central_log_int.h"

#include <sqlite3.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "broker/clog_query.h"

/* Rows counted per candidate at most: past it a range is "wide". */
#define PROBE_CAP	20000

/* The literal text before the first * ? [ ("s7." of "s7.*"). */
static size_t
glob_prefix(const char *g)
{
	return strcspn(g, "*?[");
}

/*
 * Index entries in [prefix, prefix with its last byte + 1) of col, up to
 * PROBE_CAP; -1 when it cannot be told (then nothing is hinted).
 */
static int64_t
probe(struct central_log *db, int slot, const char *g)
{
	/* constant text per column: no SQL is formatted with data */
	static const char *const sql[5] = {
		"SELECT count(*) FROM (SELECT 1 FROM alerts WHERE agent >= ?1"
		" AND agent < ?2 LIMIT ?3)",
		"SELECT count(*) FROM (SELECT 1 FROM alerts WHERE site >= ?1"
		" AND site < ?2 LIMIT ?3)",
		"SELECT count(*) FROM (SELECT 1 FROM alerts WHERE detector >= ?1"
		" AND detector < ?2 LIMIT ?3)",
		"SELECT count(*) FROM (SELECT 1 FROM alerts WHERE technique >= ?1"
		" AND technique < ?2 LIMIT ?3)",
		"SELECT count(*) FROM (SELECT 1 FROM alerts WHERE proto >= ?1"
		" AND proto < ?2 LIMIT ?3)",
	};
	char lo[CLOG_Q_PATLEN], hi[CLOG_Q_PATLEN];
	size_t n = glob_prefix(g);
	sqlite3_stmt *s;
	int64_t v = -1;

	if (n == 0)
		return PROBE_CAP;	/* "*foo": the whole index */
	if (n >= sizeof(lo))
		return -1;
	memcpy(lo, g, n);
	lo[n] = '\0';
	memcpy(hi, lo, n + 1);
	while (n > 0 && (unsigned char)hi[n - 1] == 0xff)
		hi[--n] = '\0';
	if (n == 0)
		return -1;
	hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
	if (sqlite3_prepare_v2(db->h, sql[slot], -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, PROBE_CAP);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

unsigned
clog_plan_noindex(struct central_log *db, const struct central_log_filter *f)
{
	const char *pat[5] = { f->agent, f->site, f->detector, f->technique,
	    f->proto };
	int64_t cnt[5], best = -1;
	unsigned globs = 0;
	int i, n = 0, pick = -1;

	for (i = 0; i < 5; i++) {
		/* an equality (no * ? [) is the planner's first choice anyway */
		if (pat[i] != NULL && !clog_is_glob(pat[i]))
			return 0;
		if (pat[i] != NULL) {
			globs |= CLOG_Q_NOINDEX(i);
			n++;
		}
	}
	/* one pattern, or an ip / id filter with an index of its own */
	if (n < 2 || f->ip != NULL || f->after_id >= 0)
		return 0;
	for (i = 0; i < 5; i++) {
		if (!(globs & CLOG_Q_NOINDEX(i)))
			continue;
		cnt[i] = probe(db, i, pat[i]);
		if (cnt[i] < 0)
			return 0;
		if (best < 0 || cnt[i] < best) {
			best = cnt[i];
			pick = i;
		}
	}
	return pick < 0 ? 0 : globs & ~CLOG_Q_NOINDEX(pick);
}
