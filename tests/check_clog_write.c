/*
 * check_clog_write.c - the SQLite central log's write path and plans
 * (bench-central round): checkpoints off the commit, the index a query of
 * two GLOB patterns walks, the unused index removed.
 * Real SQLite files in a temporary directory.
 */
#include <check.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/central_log_int.h"
#include "broker/clog_query.h"
#include "broker/clog_triage.h"
#include "broker/clog_triage_int.h"
#include "lib/ids.h"
#include "tests/testutil_broker.h"

static char dir[256];
static char dbpath[320];

static void
setup(void)
{
	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "clogw"), 0);
	snprintf(dbpath, sizeof(dbpath), "%s/central.db", dir);
}

static void
teardown(void)
{
	tb_rmtree(dir);
}

static struct central_log *
open_rw(enum central_log_sync sync)
{
	struct central_log *db = NULL;
	char err[256];
	int rc;

	rc = central_log_open(dbpath, CENTRAL_LOG_RDWR, sync, &db, err,
	    sizeof(err));
	ck_assert_msg(rc == 0, "open: %s", err);
	return db;
}

static void
store_chain_at(struct central_log *db, struct tb_chain *c, int count,
    const struct tb_alert_spec *spec, int64_t received_us)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[128];
	int i;

	for (i = 0; i < count; i++) {
		char *j = tb_chain_next(c, spec);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(central_log_alert_parse(j, strlen(j), &a, why,
		    sizeof(why)), 0);
		ck_assert_int_eq(central_log_insert(db, &a, j, strlen(j),
		    received_us, &res), 0);
		ck_assert_int_eq(res, CENTRAL_LOG_NEW);
		central_log_alert_free(&a);
		free(j);
	}
}

static void
store_chain(struct central_log *db, struct tb_chain *c, int count,
    const struct tb_alert_spec *spec)
{
	store_chain_at(db, c, count, spec, central_log_now_us());
}

/* Bind q's parameters to s (from 1). */
static void
bind_all(sqlite3_stmt *s, const struct clog_sql *q)
{
	int i;

	for (i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text)
			sqlite3_bind_text(s, i + 1, q->p[i].s, -1,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, q->p[i].i);
	}
}

/* EXPLAIN QUERY PLAN of q on a connection of its own, one line a step. */
static void
plan_of(const struct clog_sql *q, char *out, size_t len)
{
	char text[sizeof(q->text) + 32];
	sqlite3 *h;
	sqlite3_stmt *s;
	size_t n = 0;

	ck_assert_int_eq(sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	snprintf(text, sizeof(text), "EXPLAIN QUERY PLAN %s", q->text);
	ck_assert_int_eq(sqlite3_prepare_v2(h, text, -1, &s, NULL), SQLITE_OK);
	bind_all(s, q);
	out[0] = '\0';
	while (sqlite3_step(s) == SQLITE_ROW && n + 1 < len)
		n += (size_t)snprintf(out + n, len - n, "%s\n",
		    (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	sqlite3_close(h);
}

/* The ids q returns, comma separated, in order. */
static char *
ids_of(const struct clog_sql *q)
{
	size_t cap = 65536, n = 0;
	char *out = malloc(cap);
	sqlite3 *h;
	sqlite3_stmt *s;

	ck_assert_ptr_nonnull(out);
	out[0] = '\0';
	ck_assert_int_eq(sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, q->text, -1, &s, NULL),
	    SQLITE_OK);
	bind_all(s, q);
	while (sqlite3_step(s) == SQLITE_ROW && n + 32 < cap)
		n += (size_t)snprintf(out + n, cap - n, "%lld,",
		    (long long)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(h);
	return out;
}

struct rows {
	char	ids[65536];
	size_t	n, count;
};

static int
row_cb(void *ctx, const struct central_log_row *r)
{
	struct rows *w = ctx;

	if (w->n + 32 < sizeof(w->ids))
		w->n += (size_t)snprintf(w->ids + w->n, sizeof(w->ids) - w->n,
		    "%lld,", (long long)r->id);
	w->count++;
	return 0;
}

/* The two kinds of alert the fills store. */
static const struct tb_alert_spec modbus = { "medium", "modbus.write_single",
    "T0855", "modbus", "10.0.0.66", "10.0.0.10" };
static const struct tb_alert_spec s7 = { "critical", "s7.plc_stop", "T0858",
    "s7comm", "10.0.0.66", "10.0.0.20" };

/*
 * 8 agents gw-01..gw-08, 300 alerts each: 295 modbus.write_single and 5
 * s7.plc_stop.  "gw-0*" matches all 2400, "s7.*" 40.
 */
static void
fill_fleet(void)
{
	struct central_log *db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	struct tb_chain c;
	char agent[16];
	int i, k;

	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 1; i <= 8; i++) {
		snprintf(agent, sizeof(agent), "gw-%02d", i);
		tb_chain_init(&c, "plant-a", agent, 1);
		for (k = 0; k < 5; k++) {
			store_chain(db, &c, 59, &modbus);
			store_chain(db, &c, 1, &s7);
		}
	}
	ck_assert_int_eq(central_log_commit(db), 0);
	central_log_close(db);
}

/*
 * --detector "s7.*" --agent "gw-0*": the plan walks the detector index
 * (the narrow range), the rows are the ones the unhinted query returns,
 * and central_log_query returns them too.
 */
START_TEST(test_two_globs_use_narrow_index)
{
	struct central_log_filter f;
	struct central_log *db;
	struct clog_sql q, plain;
	struct rows w;
	char plan[4096], *want, *got;
	unsigned hint;

	fill_fleet();
	db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	central_log_filter_init(&f);
	f.detector = "s7.*";
	f.agent = "gw-0*";
	hint = clog_plan_noindex(db, &f);
	/* the agent pattern is the one hidden from the planner */
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(0));
	ck_assert_int_eq(clog_query_build_hint(&q, CLOG_SQLITE, CLOG_Q_QUERY,
	    "id, agent, detector, ts_us", "alerts", &f, hint), 0);
	ck_assert_ptr_nonnull(strstr(q.text, "+agent GLOB"));
	plan_of(&q, plan, sizeof(plan));
	ck_assert_msg(strstr(plan, "alerts_detector (detector>? AND "
	    "detector<?)") != NULL, "%s\nplan:\n%s", q.text, plan);
	ck_assert_msg(strstr(plan, "alerts_agent") == NULL, "plan:\n%s", plan);
	ck_assert_msg(strstr(plan, "SCAN alerts") == NULL, "plan:\n%s", plan);
	/* the same rows as the query without the hint, in the same order */
	ck_assert_int_eq(clog_query_build(&plain, CLOG_SQLITE, CLOG_Q_QUERY,
	    "id, agent, detector, ts_us", "alerts", &f), 0);
	ck_assert_ptr_null(strstr(plain.text, "+agent"));
	want = ids_of(&plain);
	got = ids_of(&q);
	ck_assert_str_eq(got, want);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(central_log_query(db, &f, row_cb, &w), 0);
	ck_assert_uint_eq(w.count, 40);
	ck_assert_str_eq(w.ids, want);
	free(want);
	free(got);

	/* the other way round: a wide detector, one agent's prefix */
	f.detector = "*.*";
	f.agent = "gw-03*";
	hint = clog_plan_noindex(db, &f);
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(2));
	ck_assert_int_eq(clog_query_build_hint(&q, CLOG_SQLITE, CLOG_Q_QUERY,
	    "id, agent, detector, ts_us", "alerts", &f, hint), 0);
	plan_of(&q, plan, sizeof(plan));
	ck_assert_msg(strstr(plan, "alerts_agent (agent>? AND agent<?)") !=
	    NULL, "%s\nplan:\n%s", q.text, plan);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(central_log_query(db, &f, row_cb, &w), 0);
	ck_assert_uint_eq(w.count, 300);

	/* an equality or a single pattern: no hint, the planner's choice */
	f.agent = "gw-03";
	ck_assert_uint_eq(clog_plan_noindex(db, &f), 0);
	f.agent = NULL;
	ck_assert_uint_eq(clog_plan_noindex(db, &f), 0);
	central_log_close(db);
}
END_TEST

/* 2026-12-01T00:00:00Z: the first alert's received time in fill_received */
#define RECV_BASE_US	1764547200000000LL
#define MINUTE_US	60000000LL

/*
 * 8 agents gw-01..gw-08 taking turns, 300 alerts each, the n-th alert of
 * the log (id n + 1) received n minutes after RECV_BASE_US (2,400 minutes
 * in all); every 25th round (k % 25 == 24) critical, 96 in all.
 */
static void
fill_received(void)
{
	struct central_log *db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	struct tb_chain c[8];
	char agent[16];
	int i, k, n = 0;

	for (i = 0; i < 8; i++) {
		snprintf(agent, sizeof(agent), "gw-%02d", i + 1);
		tb_chain_init(&c[i], "plant-a", agent, 1);
	}
	ck_assert_int_eq(central_log_begin(db), 0);
	for (k = 0; k < 300; k++)
		for (i = 0; i < 8; i++, n++)
			store_chain_at(db, &c[i], 1, k % 25 == 24 ? &s7 :
			    &modbus, RECV_BASE_US + n * MINUTE_US);
	ck_assert_int_eq(central_log_commit(db), 0);
	central_log_close(db);
}

static int
triage_row_cb(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	(void)t;
	return row_cb(ctx, r);
}

/*
 * f's query (cols of table) built with hint into q; its plan holds has and
 * not hasnt (NULL: not checked).
 */
static void
check_plan(struct clog_sql *q, const struct central_log_filter *f,
    unsigned hint, const char *cols, const char *table, const char *has,
    const char *hasnt)
{
	char plan[4096];

	ck_assert_int_eq(clog_query_build_hint(q, CLOG_SQLITE, CLOG_Q_QUERY,
	    cols, table, f, hint), 0);
	plan_of(q, plan, sizeof(plan));
	ck_assert_msg(strstr(plan, has) != NULL && (hasnt == NULL ||
	    strstr(plan, hasnt) == NULL), "%s\nplan:\n%s", q->text, plan);
}

/* The rows central_log_query returns for f, into w. */
static void
query_rows(struct central_log *db, const struct central_log_filter *f,
    struct rows *w)
{
	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(central_log_query(db, f, row_cb, w), 0);
}

#define RECV_PLAN	"alerts_received_sev (received_at>?)"

/*
 * --agent gw-03 --since (the last hour received): without statistics
 * SQLite walks every gw-03 row on alerts_agent, an eighth of the log; the
 * hint hides the agent index and sorts the hour's rows instead of walking
 * alerts_ts, through the triage view too.  A wide hour loses to the agent.
 */
START_TEST(test_received_range_beats_equality)
{
	struct central_log_filter f;
	struct central_log *db;
	struct clog_sql q, plain;
	struct rows w;
	char *want, *got;
	unsigned hint;

	fill_received();
	db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	central_log_filter_init(&f);
	f.received = true;
	/* alerts 2341..2399: gw-03's are those with n % 8 == 2 */
	f.since_us = RECV_BASE_US + 2340 * MINUTE_US + MINUTE_US / 2;
	f.agent = "gw-03";
	/* a log without alerts_received_sev (no collector since it came) */
	ck_assert_uint_eq(clog_plan_noindex(db, &f), 0);
	ck_assert_int_eq(clog_triage_schema(db), 0);
	hint = clog_plan_noindex(db, &f);
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(0) |
	    CLOG_Q_NOINDEX(CLOG_Q_SLOT_ORDER));
	ck_assert_uint_eq(central_log_plan_hint(db, &f), hint);
	check_plan(&q, &f, hint, "id, agent, ts_us", "alerts", RECV_PLAN,
	    "alerts_agent");
	check_plan(&q, &f, hint, "id, agent, ts_us", "alerts", RECV_PLAN,
	    "SCAN");
	check_plan(&q, &f, hint, "id, agent, ts_us", "alerts", RECV_PLAN,
	    "alerts_ts");
	ck_assert_ptr_nonnull(strstr(q.text, "+agent = "));
	ck_assert_ptr_nonnull(strstr(q.text, "ORDER BY +ts_us, id"));
	ck_assert_int_eq(clog_query_build(&plain, CLOG_SQLITE, CLOG_Q_QUERY,
	    "id, agent, ts_us", "alerts", &f), 0);
	want = ids_of(&plain);
	got = ids_of(&q);
	ck_assert_str_eq(got, want);
	/* 2346, 2354, ..., 2394: ids are n + 1 */
	ck_assert_str_eq(want, "2347,2355,2363,2371,2379,2387,2395,");
	query_rows(db, &f, &w);
	ck_assert_str_eq(w.ids, want);
	/* the triage view (icsentry-log query, the console) takes the hint */
	check_plan(&q, &f, central_log_plan_hint(db, &f), "*", TRIAGE_FROM,
	    RECV_PLAN, "SCAN");
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(clog_triage_query(db, &f, NULL, triage_row_cb, &w),
	    0);
	ck_assert_uint_eq(w.count, 7);
	ck_assert_str_eq(w.ids, want);
	free(want);
	free(got);

	/* the hour alone: its 59 rows sorted, not alerts_ts walked */
	f.agent = NULL;
	hint = clog_plan_noindex(db, &f);
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(CLOG_Q_SLOT_ORDER));
	check_plan(&q, &f, hint, "id", "alerts", RECV_PLAN, "SCAN");
	query_rows(db, &f, &w);
	ck_assert_uint_eq(w.count, 59);

	/* critical ones of the hour: the severity checked in the index (59
	 * entries) rather than the 96 critical rows walked */
	f.min_sev = 4;
	hint = clog_plan_noindex(db, &f);
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(CLOG_Q_SLOT_SEV) |
	    CLOG_Q_NOINDEX(CLOG_Q_SLOT_ORDER));
	check_plan(&q, &f, hint, "id", "alerts", RECV_PLAN, "alerts_sev");
	ck_assert_ptr_nonnull(strstr(q.text, "+sev IN ("));
	query_rows(db, &f, &w);
	/* round 299: n 2392..2399 */
	ck_assert_str_eq(w.ids, "2393,2394,2395,2396,2397,2398,2399,2400,");
	f.min_sev = 0;

	/* 30 hours (1,800 rows) against gw-03's 300: the agent index */
	f.agent = "gw-03";
	f.since_us = RECV_BASE_US + 600 * MINUTE_US;
	f.until_us = RECV_BASE_US + 2400 * MINUTE_US;
	hint = clog_plan_noindex(db, &f);
	ck_assert_uint_eq(hint, CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED));
	check_plan(&q, &f, hint, "id", "alerts", "alerts_agent (agent=?)",
	    NULL);
	ck_assert_ptr_nonnull(strstr(q.text, "+received_at >= "));
	ck_assert_ptr_nonnull(strstr(q.text, "+received_at < "));
	query_rows(db, &f, &w);
	ck_assert_uint_eq(w.count, 225);	/* n 602..2394, n % 8 == 2 */
	central_log_close(db);
}
END_TEST

/*
 * Background checkpoints: the writer's commits never checkpoint (the
 * thread does, PASSIVE), the WAL stays near the soft bound, every row is
 * there for a reader and after a reopen.
 */
START_TEST(test_background_checkpoint)
{
	struct central_log *db = open_rw(CENTRAL_LOG_SYNC_FULL), *rd;
	int64_t runs, inl, maxf, n = -1;
	struct tb_chain c;
	char err[256], wal[340];
	struct stat st;
	int i;

	ck_assert_int_eq(central_log_background_checkpoint(db, 0, 10),
	    IDS_EINVAL);
	ck_assert_int_eq(central_log_background_checkpoint(db, 64, 32),
	    IDS_EINVAL);
	ck_assert_int_eq(central_log_background_checkpoint(db, 64, 1 << 20),
	    0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (i = 0; i < 60; i++) {
		ck_assert_int_eq(central_log_begin(db), 0);
		store_chain(db, &c, 50, NULL);
		ck_assert_int_eq(central_log_commit(db), 0);
		tb_sleep_ms(5);	/* a busy machine: let the thread run */
	}
	/* let the thread finish what the last commit asked for */
	tb_sleep_ms(300);
	central_log_checkpoint_stats(db, &runs, &inl, &maxf);
	ck_assert_int_gt(runs, 0);
	ck_assert_int_eq(inl, 0);
	/* restarted after checkpoints: never the 3000 alerts' whole WAL
	 * (~5 pages an alert) */
	ck_assert_int_lt(maxf, 4000);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_int_lt(st.st_size, 4000 * 4200);
	ck_assert_int_eq(central_log_open(dbpath, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &rd, err, sizeof(err)), 0);
	ck_assert_int_eq(central_log_alert_count(rd, &n), 0);
	ck_assert_int_eq(n, 3000);
	central_log_close(rd);
	central_log_close(db);
	/* the hard bound: a thread that never keeps up (soft = hard) */
	db = open_rw(CENTRAL_LOG_SYNC_FULL);
	ck_assert_int_eq(central_log_background_checkpoint(db, 40, 40), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(central_log_begin(db), 0);
		store_chain(db, &c, 50, NULL);
		ck_assert_int_eq(central_log_commit(db), 0);
	}
	central_log_checkpoint_stats(db, &runs, &inl, &maxf);
	ck_assert_int_gt(inl, 0);
	central_log_close(db);
	db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	ck_assert_int_eq(central_log_alert_count(db, &n), 0);
	ck_assert_int_eq(n, 3500);
	central_log_close(db);
}
END_TEST

/* Store one alert of c received at recv_us (inside the caller's batch). */
static void
store_at(struct central_log *db, struct tb_chain *c, int64_t recv_us)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[128], *j = tb_chain_next(c, NULL);

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(central_log_alert_parse(j, strlen(j), &a, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(central_log_insert(db, &a, j, strlen(j), recv_us,
	    &res), 0);
	ck_assert_int_eq(res, CENTRAL_LOG_NEW);
	central_log_alert_free(&a);
	free(j);
}

struct agents {
	char	text[1024];
	size_t	n;
};

static int
agent_cb(void *ctx, const struct central_log_agent_row *r)
{
	struct agents *w = ctx;

	w->n += (size_t)snprintf(w->text + w->n, sizeof(w->text) - w->n,
	    "%s/%s %s\n", r->site, r->agent, r->last_seen);
	return 0;
}

static int64_t
counter_of(struct central_log *db, const char *name)
{
	int64_t v = -1;

	ck_assert_int_eq(central_log_counter(db, name, &v), 0);
	return v;
}

/*
 * Inside a batch the "stored" counter and the agents' last_seen are kept
 * in memory and written at commit: what commits is the same as one write
 * per alert (counter, last_seen of the latest alert, the two-sites
 * notice), a read inside the batch sees them, a rollback drops them.
 */
START_TEST(test_batch_bookkeeping)
{
	struct central_log *db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	struct tb_chain a, b, other;
	struct agents w;
	char note[512];
	int64_t t0 = 1700000000000000LL;
	int i;

	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-a", "gw-02", 1);
	tb_chain_init(&other, "plant-b", "gw-01", 1);
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 10; i++) {
		store_at(db, &a, t0 + i * 1000000);
		store_at(db, &b, t0 + i * 1000000 + 500000);
	}
	/* a read inside the batch counts what it holds */
	ck_assert_int_eq(counter_of(db, "stored"), 20);
	/* the same name at a second site, later in the same batch */
	ck_assert_ptr_null(central_log_notice(db, note, sizeof(note)));
	store_at(db, &other, t0 + 20000000);
	ck_assert_ptr_nonnull(central_log_notice(db, note, sizeof(note)));
	ck_assert_ptr_nonnull(strstr(note, "agent name 'gw-01' reports from "
	    "site 'plant-b' and also from 'plant-a'"));
	store_at(db, &a, t0 + 30000000);
	ck_assert_int_eq(central_log_commit(db), 0);
	ck_assert_int_eq(counter_of(db, "stored"), 22);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(central_log_agents(db, agent_cb, &w), 0);
	/* each agent's last_seen is its latest alert's receive time */
	ck_assert_str_eq(w.text,
	    "plant-a/gw-01 2023-11-14T22:13:50.000000Z\n"
	    "plant-a/gw-02 2023-11-14T22:13:29.500000Z\n"
	    "plant-b/gw-01 2023-11-14T22:13:40.000000Z\n");
	/* a rolled back batch leaves nothing of its bookkeeping */
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 5; i++)
		store_at(db, &b, t0 + 100000000);
	ck_assert_int_eq(central_log_rollback(db), 0);
	ck_assert_int_eq(counter_of(db, "stored"), 22);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(central_log_agents(db, agent_cb, &w), 0);
	ck_assert_ptr_nonnull(strstr(w.text,
	    "plant-a/gw-02 2023-11-14T22:13:29.500000Z\n"));
	/* outside a batch: written at once, as before */
	tb_chain_init(&b, "plant-a", "gw-02", 20);
	store_at(db, &b, t0 + 200000000);
	ck_assert_int_eq(counter_of(db, "stored"), 23);
	central_log_close(db);
	db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	ck_assert_int_eq(counter_of(db, "stored"), 23);
	central_log_close(db);
}
END_TEST

/* Indexes of a table, one name a line, from sqlite_master. */
static void
indexes_of(const char *table, char *out, size_t len)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	size_t n = 0;

	ck_assert_int_eq(sqlite3_open_v2(dbpath, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master"
	    " WHERE type = 'index' AND tbl_name = ?1 ORDER BY name", -1, &s,
	    NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	out[0] = '\0';
	while (sqlite3_step(s) == SQLITE_ROW && n + 1 < len)
		n += (size_t)snprintf(out + n, len - n, "%s\n",
		    (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(h);
}

/*
 * The index audit: triage_state (state) served no query and is dropped
 * from a log that has it (the triage rows stay); the alerts indexes are
 * each used by a filter (check_central_pg test_plans_use_indexes).
 */
START_TEST(test_unused_index_dropped)
{
	struct central_log *db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	char idx[1024];
	sqlite3 *h;

	ck_assert_int_eq(clog_triage_schema(db), 0);
	central_log_close(db);
	/* a log of the previous build: the index and a triage row */
	ck_assert_int_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "CREATE INDEX triage_state_state ON"
	    " triage_state (state); INSERT INTO triage_state VALUES ('plant-a',"
	    " 'gw-01', 1, 'acked', 'ana', '2026-12-05T00:00:00Z');"
	    " DROP INDEX alerts_received_sev;"
	    " CREATE INDEX alerts_received ON alerts (received_at);", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	indexes_of("triage_state", idx, sizeof(idx));
	ck_assert_ptr_nonnull(strstr(idx, "triage_state_state\n"));
	indexes_of("alerts", idx, sizeof(idx));
	ck_assert_ptr_nonnull(strstr(idx, "alerts_received\n"));
	db = open_rw(CENTRAL_LOG_SYNC_NORMAL);
	ck_assert_int_eq(clog_triage_schema(db), 0);
	central_log_close(db);
	indexes_of("triage_state", idx, sizeof(idx));
	ck_assert_ptr_null(strstr(idx, "triage_state_state"));
	ck_assert_int_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	{
		sqlite3_stmt *s;

		ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM"
		    " triage_state WHERE state = 'acked'", -1, &s, NULL),
		    SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(s, 0), 1);
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	/* the alerts table keeps the nine the filters use */
	indexes_of("alerts", idx, sizeof(idx));
	ck_assert_str_eq(idx, "alerts_agent\nalerts_detector\nalerts_dst\n"
	    "alerts_proto\nalerts_received_sev\nalerts_sev\nalerts_src\n"
	    "alerts_technique\nalerts_ts\nsqlite_autoindex_alerts_1\n");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("clog_write");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_two_globs_use_narrow_index);
	tcase_add_test(tc, test_received_range_beats_equality);
	tcase_add_test(tc, test_background_checkpoint);
	tcase_add_test(tc, test_batch_bookkeeping);
	tcase_add_test(tc, test_unused_index_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
