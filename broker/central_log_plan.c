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

/* The literal text before the first * ? [ ("s7." of "s7.*"). */
static size_t
glob_prefix(const char *g)
{
	return strcspn(g, "*?[");
}

/* The count of the cursor s (bound, with LIMIT PROBE_CAP as ?3); -1 if not. */
static int64_t
probe_step(sqlite3_stmt *s)
{
	int64_t v = -1;

	sqlite3_bind_int(s, 3, PROBE_CAP);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
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
	return probe_step(s);
}

/* Alerts of severity min_sev or higher on (sev, ts_us), up to PROBE_CAP. */
static int64_t
probe_sev(struct central_log *db, int min_sev)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM (SELECT 1 FROM"
	    " alerts WHERE sev >= ?1 AND sev <= ?2 LIMIT ?3)", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(s, 1, min_sev);
	sqlite3_bind_int(s, 2, 4);
	return probe_step(s);
}

/*
 * Alerts received in [since, until) on alerts_received, up to PROBE_CAP;
 * -1 when the log has no such index (a log no collector has opened since
 * it was added: clog_triage.h), so nothing is hinted.
 */
static int64_t
probe_received(struct central_log *db, const struct central_log_filter *f)
{
	char lo[CENTRAL_LOG_TIME_LEN] = "", hi[CENTRAL_LOG_TIME_LEN] = "~";
	sqlite3_stmt *s;

	if (f->since_us != INT64_MIN)
		central_log_format_time(f->since_us, lo);
	if (f->until_us != INT64_MAX)
		central_log_format_time(f->until_us, hi);
	if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM (SELECT 1 FROM"
	    " alerts INDEXED BY alerts_received WHERE received_at >= ?1 AND"
	    " received_at < ?2 LIMIT ?3)", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hi, -1, SQLITE_STATIC);
	return probe_step(s);
}

/*
 * With --since/--until on received time, every filter with an index is a
 * candidate: the patterns (an equality too, since without statistics the
 * planner takes "agent = ?" over any range, and one agent of a fleet is
 * an eighth of a 10 M log), the severity and the received range.  The
 * narrowest one is walked and the rest are checked row by row.  agent and
 * site both given as equalities stay together: alerts_site is (site,
 * agent, ts_us).
 */
static unsigned
pick_received(struct central_log *db, const struct central_log_filter *f,
    const char *const pat[5], unsigned have, unsigned eq)
{
	const unsigned pair = CLOG_Q_NOINDEX(0) | CLOG_Q_NOINDEX(1);
	int64_t cnt, best = -1;
	unsigned keep = 0, hide;
	int i;

	for (i = 0; i <= CLOG_Q_SLOT_RECEIVED; i++) {
		if (!(have & CLOG_Q_NOINDEX(i)))
			continue;
		if (i == CLOG_Q_SLOT_SEV)
			cnt = probe_sev(db, f->min_sev);
		else if (i == CLOG_Q_SLOT_RECEIVED)
			cnt = probe_received(db, f);
		else
			cnt = probe(db, i, pat[i]);
		if (cnt < 0)
			return 0;
		if (best < 0 || cnt < best) {
			best = cnt;
			keep = CLOG_Q_NOINDEX(i);
			if (i < 2 && (eq & pair) == pair)
				keep = pair;
		}
	}
	/* all wide: the planner's choice, as without a time filter */
	if (best >= PROBE_CAP)
		return 0;
	hide = have & ~keep;
	/* a narrow received range walked: its rows are sorted, rather than
	 * the whole ts_us index walked for its order */
	if (keep == CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED))
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

unsigned
central_log_plan_hint(struct central_log *db,
    const struct central_log_filter *f)
{
	return db->pg != NULL ? 0 : clog_plan_noindex(db, f);
}
