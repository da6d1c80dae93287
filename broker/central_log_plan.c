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
 *
 * The same for --since/--until on received time (the default), whose index
 * alerts_received lost to any equality ("--agent gw-03 --since 1h" walked
 * all of gw-03's rows) and, one-sided, to a walk of the whole alerts_ts
 * index for the ORDER BY; both queries went through the triage view
 * (clog_triage_query), which took no hint at all (central_log_plan_hint).
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
/* ... against a wide received range (about 15 ms of index entries) */
#define PROBE_BIG	200000
/* Index entries walked for the cost of one row looked up (measured on a
 * 10 M log: 170,000 entries in 11 ms, 30,000 rows in 115 ms, warm). */
#define INDEX_ONLY	20

/* The literal text before the first * ? [ ("s7." of "s7.*"). */
static size_t
glob_prefix(const char *g)
{
	return strcspn(g, "*?[");
}

/* The count of the cursor s (bound but for its LIMIT, ?3); -1 if not. */
static int64_t
probe_step(sqlite3_stmt *s, int64_t cap)
{
	int64_t v = -1;

	sqlite3_bind_int64(s, 3, cap);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * Index entries in [prefix, prefix with its last byte + 1) of col, up to
 * cap; -1 when it cannot be told (then nothing is hinted).  An equality
 * is counted as the prefix it is.
 */
static int64_t
probe(struct central_log *db, int slot, const char *g, int64_t cap)
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

	if (n == 0)
		return cap;	/* "*foo": the whole index */
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
	return probe_step(s, cap);
}

/* Alerts of severity min_sev or higher on (sev, ts_us), up to cap. */
static int64_t
probe_sev(struct central_log *db, int min_sev, int64_t cap)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM (SELECT 1 FROM"
	    " alerts WHERE sev >= ?1 AND sev <= ?2 LIMIT ?3)", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(s, 1, min_sev);
	sqlite3_bind_int(s, 2, 4);
	return probe_step(s, cap);
}

/*
 * The id of the first alert received at or after t on alerts_received_sev
 * into *id (-1: none); -1 on error.
 */
static int
first_id(struct central_log *db, const char *t, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db->h, "SELECT id FROM alerts INDEXED BY"
	    " alerts_received_sev WHERE received_at >= ?1 ORDER BY received_at"
	    " LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, t, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Alerts received in [since, until): counted on alerts_received_sev up to
 * PROBE_CAP, past it estimated from the ids at the range's two ends (ids
 * grow in arrival order, so a day of a 10 M log costs two lookups, not a
 * walk of its 170,000 entries).  -1 when the log has no such index (no
 * collector has opened it since it came: clog_triage.h): nothing hinted.
 */
static int64_t
probe_received(struct central_log *db, const struct central_log_filter *f)
{
	char lo[CENTRAL_LOG_TIME_LEN] = "", hi[CENTRAL_LOG_TIME_LEN] = "~";
	int64_t n, a, b;
	sqlite3_stmt *s;

	if (f->since_us != INT64_MIN)
		central_log_format_time(f->since_us, lo);
	if (f->until_us != INT64_MAX)
		central_log_format_time(f->until_us, hi);
	if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM (SELECT 1 FROM"
	    " alerts INDEXED BY alerts_received_sev WHERE received_at >= ?1"
	    " AND received_at < ?2 LIMIT ?3)", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
	n = probe_step(s, PROBE_CAP);
	if (n < PROBE_CAP)
		return n;
	if (first_id(db, lo, &a) != 0 || a < 0)
		return n;
	if (f->until_us == INT64_MAX || first_id(db, hi, &b) != 0 || b < 0) {
		if (sqlite3_prepare_v2(db->h, "SELECT max(id) + 1 FROM alerts",
		    -1, &s, NULL) != SQLITE_OK)
			return n;
		b = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) :
		    0;
		sqlite3_finalize(s);
	}
	return b - a > n ? b - a : n;
}

/*
 * With --since/--until on received time, every filter with an index is a
 * candidate: the patterns (an equality too, since without statistics the
 * planner takes "agent = ?" over any range, and one agent of a fleet is
 * an eighth of a 10 M log), the severity and the received range.  The
 * cheapest walk is taken and the rest are checked row by row.  A rival is
 * counted up to the received range's size (at most PROBE_BIG), enough to
 * tell which is smaller.  The severity is in alerts_received_sev, so when
 * it is the only other filter the received walk checks it in the index
 * and looks up only the rows that match: such an entry costs about a
 * twentieth of a row (INDEX_ONLY; at 10 M alerts, critical alerts of the
 * last day: 170,000 entries walked, 500 rows read, instead of all 30,000
 * critical rows).  agent and site both given as equalities stay together:
 * alerts_site is (site, agent, ts_us).
 */
static unsigned
pick_received(struct central_log *db, const struct central_log_filter *f,
    const char *const pat[5], unsigned have, unsigned eq)
{
	const unsigned pair = CLOG_Q_NOINDEX(0) | CLOG_Q_NOINDEX(1);
	const unsigned recv = CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED);
	const unsigned sev = CLOG_Q_NOINDEX(CLOG_Q_SLOT_SEV);
	int64_t est, cap, cnt, best;
	unsigned keep = recv, hide;
	int i;

	est = probe_received(db, f);
	if (est < 0)
		return 0;
	cap = est < PROBE_CAP ? PROBE_CAP : est < PROBE_BIG ? est + 1 :
	    PROBE_BIG;
	best = (have & ~recv) == sev ? est / INDEX_ONLY : est;
	for (i = 0; i < CLOG_Q_SLOT_RECEIVED; i++) {
		if (!(have & CLOG_Q_NOINDEX(i)))
			continue;
		cnt = i == CLOG_Q_SLOT_SEV ? probe_sev(db, f->min_sev, cap) :
		    probe(db, i, pat[i], cap);
		if (cnt < 0)
			return 0;
		if (cnt < best) {
			best = cnt;
			keep = CLOG_Q_NOINDEX(i);
			if (i < 2 && (eq & pair) == pair)
				keep = pair;
		}
	}
	/*
	 * Every walk long: the planner's choice, as without a time filter.
	 * With a limit too, unless the walk is short: the planner's walk in
	 * time order (alerts_ts, or (agent, ts_us) and the like) stops at the
	 * limit, the latest alerts of "the last day" among the first it sees.
	 */
	if (best >= PROBE_BIG || (f->limit > 0 && best > PROBE_CAP / 4))
		return 0;
	hide = have & ~keep;
	/* the received range walked: its rows are sorted, rather than the
	 * whole ts_us index walked for its order */
	if (keep == recv)
		hide |= CLOG_Q_NOINDEX(CLOG_Q_SLOT_ORDER);
	return hide;
}

unsigned
clog_plan_noindex(struct central_log *db, const struct central_log_filter *f)
{
	const char *pat[5] = { f->agent, f->site, f->detector, f->technique,
	    f->proto };
	int64_t cnt[5], best = -1;
	unsigned globs = 0, eq = 0, have;
	int i, n = 0, pick = -1;

	/* an ip / id filter has an index of its own */
	if (f->ip != NULL || f->after_id >= 0)
		return 0;
	for (i = 0; i < 5; i++) {
		if (pat[i] == NULL)
			continue;
		if (clog_is_glob(pat[i]))
			globs |= CLOG_Q_NOINDEX(i);
		else
			eq |= CLOG_Q_NOINDEX(i);
		n++;
	}
	if (f->received && (f->since_us != INT64_MIN ||
	    f->until_us != INT64_MAX)) {
		have = globs | eq | CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED);
		if (f->min_sev > 0 && f->min_sev <= 4)
			have |= CLOG_Q_NOINDEX(CLOG_Q_SLOT_SEV);
		return pick_received(db, f, pat, have, eq);
	}
	/* an equality (no * ? [) is the planner's first choice anyway; one
	 * pattern alone has no rival */
	if (eq != 0 || n < 2)
		return 0;
	for (i = 0; i < 5; i++) {
		if (!(globs & CLOG_Q_NOINDEX(i)))
			continue;
		cnt[i] = probe(db, i, pat[i], PROBE_CAP);
		if (cnt[i] < 0)
			return 0;
		if (best < 0 || cnt[i] < best) {
			best = cnt[i];
			pick = i;
		}
	}
	return pick < 0 ? 0 : globs & ~CLOG_Q_NOINDEX(pick);
}

unsigned
central_log_plan_hint(struct central_log *db,
    const struct central_log_filter *f)
{
	return db->pg != NULL ? 0 : clog_plan_noindex(db, f);
}
