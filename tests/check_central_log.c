/*
 * check_central_log.c - the central log against real SQLite files.
 *
 * The tamper tests edit the database with sqlite3 directly, the way an
 * intruder with file access would; everything else goes through
 * central_log.h.
 */
#include <check.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "lib/chain.h"
#include "lib/ids.h"
#include "tests/testutil_broker.h"

static char dir[256];
static char dbpath[320];

static void
setup(void)
{
	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "clog"), 0);
	snprintf(dbpath, sizeof(dbpath), "%s/central.db", dir);
}

static void
teardown(void)
{
	tb_rmtree(dir);
}

static struct central_log *
open_rw(void)
{
	struct central_log *db = NULL;
	char err[256];
	int rc;

	rc = central_log_open(dbpath, CENTRAL_LOG_RDWR, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err));
	ck_assert_msg(rc == 0, "open: %s", err);
	return db;
}

/* Parse and store; returns the stored kind. */
static enum central_log_stored
store(struct central_log *db, const char *json)
{
	struct central_log_alert a;
	enum central_log_stored res = CENTRAL_LOG_NEW;
	char why[128];
	int rc;

	rc = central_log_alert_parse(json, strlen(json), &a, why, sizeof(why));
	ck_assert_msg(rc == 0, "parse: %s: %s", why, json);
	rc = central_log_insert(db, &a, json, strlen(json), 1000, &res);
	ck_assert_int_eq(rc, 0);
	central_log_alert_free(&a);
	return res;
}

/* Store count alerts of a chain; returns the last one (malloc'd). */
static void
store_chain(struct central_log *db, struct tb_chain *c, int count,
    const struct tb_alert_spec *spec)
{
	int i;

	for (i = 0; i < count; i++) {
		char *j = tb_chain_next(c, spec);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
		free(j);
	}
}

static int64_t
counter(struct central_log *db, const char *name)
{
	int64_t v = -1;

	ck_assert_int_eq(central_log_counter(db, name, &v), 0);
	return v;
}

static int64_t
alert_count(struct central_log *db)
{
	int64_t n = -1;

	ck_assert_int_eq(central_log_alert_count(db, &n), 0);
	return n;
}

/* ---- collecting query results ----------------------------------------- */

struct rows {
	int	n;
	int64_t	seq[64];
	int64_t	ts[64];
	char	agent[64][16], site[64][16], severity[64][16];
	int64_t	last_id;
};

static int
collect(void *ctx, const struct central_log_row *r)
{
	struct rows *x = ctx;

	if (x->n < 64) {
		x->seq[x->n] = r->seq;
		x->ts[x->n] = r->ts_us;
		snprintf(x->agent[x->n], sizeof(x->agent[0]), "%s", r->agent);
		snprintf(x->site[x->n], sizeof(x->site[0]), "%s", r->site);
		snprintf(x->severity[x->n], sizeof(x->severity[0]), "%s",
		    r->severity);
	}
	x->n++;
	return 0;
}

static int
query_n(struct central_log *db, const struct central_log_filter *f)
{
	struct rows x;

	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(db, f, collect, &x), 0);
	return x.n;
}

/* ---- collecting verify results ---------------------------------------- */

struct issues {
	int	n;
	int	kind[32];
	int64_t	seq[32], seq_to[32];
	char	agent[32][16], site[32][16];
	int	chains;
	int64_t	chain_alerts[8], chain_problems[8];
	char	chain_key[8][40];	/* "site/agent" */
};

static int
on_issue(void *ctx, const struct central_log_issue *i)
{
	struct issues *x = ctx;

	if (x->n < 32) {
		x->kind[x->n] = i->kind;
		x->seq[x->n] = i->seq;
		x->seq_to[x->n] = i->seq_to;
		snprintf(x->agent[x->n], sizeof(x->agent[0]), "%s", i->agent);
		snprintf(x->site[x->n], sizeof(x->site[0]), "%s", i->site);
	}
	x->n++;
	return 0;
}

static int
on_chain(void *ctx, const struct central_log_chain *c)
{
	struct issues *x = ctx;

	if (x->chains < 8) {
		x->chain_alerts[x->chains] = c->alerts;
		x->chain_problems[x->chains] = c->problems;
		snprintf(x->chain_key[x->chains], sizeof(x->chain_key[0]),
		    "%s/%s", c->site, c->agent);
	}
	x->chains++;
	return 0;
}

static int64_t
verify(struct central_log *db, struct issues *x)
{
	struct central_log_verify_ops ops = { x, on_issue, on_chain };
	int64_t problems = -1;

	memset(x, 0, sizeof(*x));
	ck_assert_int_eq(central_log_verify(db, NULL, NULL, &ops, &problems),
	    0);
	ck_assert_int_eq(problems, x->n);
	return problems;
}

/* Does x hold an issue of kind for agent at seq? */
static int
has_issue(const struct issues *x, const char *agent, int kind, int64_t seq)
{
	int i;

	for (i = 0; i < x->n && i < 32; i++)
		if (x->kind[i] == kind && x->seq[i] == seq &&
		    strcmp(x->agent[i], agent) == 0)
			return 1;
	return 0;
}

/* One integer from the file, read behind the log's back. */
static int64_t
sql_int(const char *q)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* ... of site/agent at seq? */
static int
has_issue_at(const struct issues *x, const char *site, const char *agent,
    int kind, int64_t seq)
{
	int i;

	for (i = 0; i < x->n && i < 32; i++)
		if (x->kind[i] == kind && x->seq[i] == seq &&
		    strcmp(x->agent[i], agent) == 0 &&
		    strcmp(x->site[i], site) == 0)
			return 1;
	return 0;
}

/* Run one SQL statement on the file behind the log's back. */
static void
tamper(const char *sqltext)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc;

	ck_assert_int_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	rc = sqlite3_exec(h, sqltext, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sqltext, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(h);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_open_creates_schema)
{
	struct central_log *db = open_rw(), *ro = NULL;
	char err[256];
	int rc;

	ck_assert_int_eq(alert_count(db), 0);
	central_log_close(db);
	/* the second open finds the schema and does not recreate it */
	db = open_rw();
	ck_assert_int_eq(alert_count(db), 0);
	central_log_close(db);
	rc = central_log_open(dbpath, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &ro, err, sizeof(err));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(alert_count(ro), 0);
	central_log_close(ro);
}
END_TEST

START_TEST(test_wal_kept_for_readers)
{
	struct central_log *db = open_rw();
	char path[400];

	central_log_close(db);
	/* a read-only reader cannot create these itself */
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s-shm", dbpath);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_open_errors)
{
	struct central_log *db = NULL;
	char err[256], path[400];
	sqlite3 *h;
	int rc;

	snprintf(path, sizeof(path), "%s/none.db", dir);
	rc = central_log_open(path, CENTRAL_LOG_RDONLY, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EIO);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(strstr(err, "none.db"));
	/* an SQLite file that is not ours */
	snprintf(path, sizeof(path), "%s/other.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE t(x)", 0, 0, 0), 0);
	sqlite3_close(h);
	rc = central_log_open(path, CENTRAL_LOG_RDONLY, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not an icsentry central log"));
	/* a newer schema than ours is refused, not downgraded */
	db = open_rw();
	central_log_close(db);
	db = NULL;
	tamper("PRAGMA user_version = 99");
	rc = central_log_open(dbpath, CENTRAL_LOG_RDWR, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(strstr(err, "99"));
}
END_TEST

START_TEST(test_insert_fields)
{
	struct central_log *db = open_rw();
	struct central_log_filter f;
	struct tb_chain c;
	struct rows x;
	char *j;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	j = tb_chain_next(&c, NULL);
	ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
	ck_assert_int_eq(alert_count(db), 1);
	ck_assert_int_eq(counter(db, "stored"), 1);
	ck_assert_int_eq(counter(db, "bad_hash"), 0);
	central_log_filter_init(&f);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(db, &f, collect, &x), 0);
	ck_assert_int_eq(x.n, 1);
	ck_assert_int_eq(x.seq[0], 1);
	ck_assert_str_eq(x.agent[0], "gw-01");
	/* 2026-11-23T08:00:01.123456Z */
	ck_assert_int_eq(x.ts[0], INT64_C(1795420801123456));
	free(j);
	central_log_close(db);
}
END_TEST

static int
check_row_fields(void *ctx, const struct central_log_row *r)
{
	const char *want = ctx;

	ck_assert_str_eq(r->agent, "gw-01");
	ck_assert_str_eq(r->site, "plant-a");
	ck_assert_str_eq(r->severity, "critical");
	ck_assert_int_eq(r->sev, 4);
	ck_assert_str_eq(r->detector, "modbus.write");
	ck_assert_ptr_null(r->technique);
	ck_assert_str_eq(r->proto, "modbus");
	ck_assert_str_eq(r->src_ip, "10.1.1.1");
	ck_assert_int_eq(r->src_port, 49152);
	ck_assert_str_eq(r->dst_ip, "10.1.1.2");
	ck_assert_int_eq(r->dst_port, 102);
	ck_assert_str_eq(r->ts, "2026-11-23T08:00:07.123456Z");
	ck_assert_str_eq(r->prev_hash, CHAIN_GENESIS);
	ck_assert_uint_eq(r->raw_len, strlen(want));
	ck_assert_mem_eq(r->raw, want, r->raw_len);
	ck_assert_str_eq(r->received_at, "1970-01-01T00:00:00.001000Z");
	return 0;
}

START_TEST(test_columns_from_json)
{
	struct tb_alert_spec spec = { "critical", "modbus.write", "",
	    "modbus", "10.1.1.1", "10.1.1.2" };
	struct central_log *db = open_rw();
	struct central_log_filter f;
	struct tb_chain c;
	char *j;

	tb_chain_init(&c, "plant-a", "gw-01", 7);
	j = tb_chain_next(&c, &spec);
	ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
	central_log_filter_init(&f);
	ck_assert_int_eq(central_log_query(db, &f, check_row_fields, j), 0);
	free(j);
	central_log_close(db);
}
END_TEST

START_TEST(test_duplicate_stored_once)
{
	struct central_log *db = open_rw();
	struct tb_chain c;
	char *a[5];
	int i;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (i = 0; i < 5; i++) {
		a[i] = tb_chain_next(&c, NULL);
		ck_assert_int_eq(store(db, a[i]), CENTRAL_LOG_NEW);
	}
	/* a QoS 1 re-delivery of every alert, twice */
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(store(db, a[i]), CENTRAL_LOG_DUPLICATE);
		ck_assert_int_eq(store(db, a[i]), CENTRAL_LOG_DUPLICATE);
	}
	ck_assert_int_eq(alert_count(db), 5);
	ck_assert_int_eq(counter(db, "stored"), 5);
	ck_assert_int_eq(counter(db, "duplicates"), 10);
	ck_assert_int_eq(counter(db, "conflicts"), 0);
	for (i = 0; i < 5; i++)
		free(a[i]);
	central_log_close(db);
}
END_TEST

static int
first_raw(void *ctx, const struct central_log_row *r)
{
	char **out = ctx;

	*out = strndup(r->raw, r->raw_len);
	return 1;
}

START_TEST(test_conflict_keeps_first)
{
	struct tb_alert_spec low = { .severity = "low" };
	struct central_log *db = open_rw();
	struct central_log_filter f;
	struct tb_chain c1, c2;
	struct issues x;
	char *a, *b, *got = NULL;

	tb_chain_init(&c1, "plant-a", "gw-01", 1);
	tb_chain_init(&c2, "plant-a", "gw-01", 1);
	a = tb_chain_next(&c1, NULL);
	b = tb_chain_next(&c2, &low);	/* same agent and seq, other bytes */
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(store(db, a), CENTRAL_LOG_NEW);
	ck_assert_int_eq(store(db, b), CENTRAL_LOG_CONFLICT);
	ck_assert_int_eq(alert_count(db), 1);
	ck_assert_int_eq(counter(db, "conflicts"), 1);
	ck_assert_int_eq(counter(db, "duplicates"), 0);
	central_log_filter_init(&f);
	ck_assert_int_eq(central_log_query(db, &f, first_raw, &got), 1);
	ck_assert_str_eq(got, a);
	/* verify names the conflict by agent and seq */
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_CONFLICT, 1));
	free(got);
	free(a);
	free(b);
	central_log_close(db);
}
END_TEST

/* Valid alert text with one thing wrong each. */
static const char *const bad_alerts[] = {
	"",
	"not json",
	"[1,2,3]",
	"{\"agent\":\"gw-01\"}",
	/* seq is a string */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":\"1\",\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* negative seq */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":-1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* unknown severity */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"urgent\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* ts not RFC 3339 */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"yesterday\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* hash not the last member */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\","
	"\"x\":1}",
	/* agent repeated */
	"{\"agent\":\"a\",\"agent\":\"b\",\"site\":\"s\",\"seq\":1,"
	"\"ts\":\"2026-11-23T08:15:02Z\",\"severity\":\"high\",\"detector\":\"d\","
	"\"technique\":null,\"prev_hash\":\"" CHAIN_GENESIS "\","
	"\"hash\":\"" CHAIN_GENESIS "\"}",
	/* agent with a topic separator */
	"{\"agent\":\"a/b\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* hash too short */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"00\"}",
	/* technique a number */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":858,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* port out of range */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"src\":{\"ip\":\"10.0.0.1\",\"port\":70000},"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	/* trailing garbage after the object */
	"{\"agent\":\"a\",\"site\":\"s\",\"seq\":1,\"ts\":\"2026-11-23T08:15:02Z\","
	"\"severity\":\"high\",\"detector\":\"d\",\"technique\":null,"
	"\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}{}",
};

START_TEST(test_parse_rejects)
{
	struct central_log_alert a;
	const char *j = bad_alerts[_i];
	char why[128] = "";

	ck_assert_int_eq(central_log_alert_parse(j, strlen(j), &a, why,
	    sizeof(why)), IDS_EMALFORMED);
	ck_assert_int_ne(why[0], '\0');
	ck_assert_ptr_null(a.tree_);
}
END_TEST

START_TEST(test_parse_accepts_minimal)
{
	static const char j[] =
	    "{\"agent\":\"a\",\"site\":\"s\",\"seq\":3,"
	    "\"ts\":\"2026-11-23T09:15:02+01:00\",\"severity\":\"medium\","
	    "\"detector\":\"d\",\"technique\":null,"
	    "\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}";
	struct central_log_alert a;
	char why[128];

	ck_assert_int_eq(central_log_alert_parse(j, strlen(j), &a, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(a.seq, 3);
	ck_assert_int_eq(a.sev, 2);
	ck_assert_ptr_null(a.technique);
	ck_assert_ptr_null(a.src_ip);
	ck_assert_int_eq(a.src_port, -1);
	/* 08:15:02Z */
	ck_assert_int_eq(a.ts_us, INT64_C(1795421702) * 1000000);
	central_log_alert_free(&a);
}
END_TEST

/*
 * The same alert written plainly (read by clog_scan.c without a tree) and
 * in forms only cJSON takes (an escape, 7.0 for 7, other whitespace): the
 * same fields either way.
 */
static const struct {
	const char	*text;
	bool		 plain;		/* taken by the scanner */
} same_alert[] = {
	{ "{\"agent\":\"gw\",\"site\":\"s1\",\"seq\":7,"
	  "\"ts\":\"2026-11-23T08:15:02Z\",\"severity\":\"high\","
	  "\"detector\":\"s7.plc_stop\",\"technique\":\"T0881\","
	  "\"title\":\"PLC \\\"stop\\\"\",\"proto\":null,"
	  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":50211},\"dst\":null,"
	  "\"extra\":[1,-2.5e3,true,false,null,{\"a\":[]}],"
	  "\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	  false },
	{ "{\"agent\":\"gw\",\"site\":\"s1\",\"seq\":7,"
	  "\"ts\":\"2026-11-23T08:15:02Z\",\"severity\":\"high\","
	  "\"detector\":\"s7.plc_stop\",\"technique\":\"T0881\","
	  "\"title\":\"PLC 'stop'\",\"proto\":null,"
	  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":50211},\"dst\":null,"
	  "\"extra\":[1,-2.5e3,true,false,null,{\"a\":[]}],"
	  "\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	  true },
	{ "{ \"agent\" : \"gw\" ,\n\t\"site\":\"s1\",\"seq\":7.0,"
	  "\"ts\":\"2026-11-23T08:15:02Z\",\"severity\":\"high\","
	  "\"detector\":\"s7.plc_stop\",\"technique\":\"T0881\","
	  "\"title\":\"PLC 'stop'\",\"proto\":null,"
	  "\"src\":{\"port\":50211.0,\"ip\":\"10.0.0.1\"},"
	  "\"prev_hash\":\"" CHAIN_GENESIS "\",\"hash\":\"" CHAIN_GENESIS "\"}",
	  false },
	{ "{\"hash\":\"" CHAIN_GENESIS "\",\"agent\":\"gw\",\"site\":\"s1\","
	  "\"seq\":7,\"ts\":\"2026-11-23T08:15:02Z\",\"severity\":\"high\","
	  "\"detector\":\"s7.plc_stop\",\"technique\":\"T0881\","
	  "\"title\":\"PLC 'stop'\","
	  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":50211},\"dst\":{},"
	  "\"prev_hash\":\"" CHAIN_GENESIS "\"}", true },
};

START_TEST(test_parse_plain_and_cjson_agree)
{
	struct central_log_alert a;
	const char *j = same_alert[_i].text;
	char why[128] = "";
	int rc;

	rc = central_log_alert_parse(j, strlen(j), &a, why, sizeof(why));
	if (_i == 3) {
		/* hash not last: refused on both paths, same words */
		ck_assert_int_eq(rc, IDS_EMALFORMED);
		ck_assert_str_eq(why, "hash is not the last member");
		return;
	}
	ck_assert_msg(rc == 0, "%s", why);
	ck_assert(same_alert[_i].plain ? a.buf_ != NULL && a.tree_ == NULL :
	    a.tree_ != NULL && a.buf_ == NULL);
	ck_assert_str_eq(a.agent, "gw");
	ck_assert_str_eq(a.site, "s1");
	ck_assert_int_eq(a.seq, 7);
	ck_assert_int_eq(a.ts_us, INT64_C(1795421702) * 1000000);
	ck_assert_str_eq(a.severity, "high");
	ck_assert_int_eq(a.sev, 3);
	ck_assert_str_eq(a.detector, "s7.plc_stop");
	ck_assert_str_eq(a.technique, "T0881");
	ck_assert_str_eq(a.title, _i == 0 ? "PLC \"stop\"" : "PLC 'stop'");
	ck_assert_ptr_null(a.proto);
	ck_assert_str_eq(a.src_ip, "10.0.0.1");
	ck_assert_int_eq(a.src_port, 50211);
	ck_assert_ptr_null(a.dst_ip);
	ck_assert_int_eq(a.dst_port, -1);
	ck_assert_str_eq(a.prev_hash, CHAIN_GENESIS);
	ck_assert_str_eq(a.hash, CHAIN_GENESIS);
	central_log_alert_free(&a);
	ck_assert_ptr_null(a.buf_);
}
END_TEST

START_TEST(test_time_round_trip)
{
	char buf[CENTRAL_LOG_TIME_LEN];
	int64_t us = 0;

	ck_assert_int_eq(central_log_parse_time("2026-11-23T08:15:02.123456Z",
	    &us), 0);
	ck_assert_int_eq(us, INT64_C(1795421702123456));
	central_log_format_time(us, buf);
	ck_assert_str_eq(buf, "2026-11-23T08:15:02.123456Z");
	ck_assert_int_eq(central_log_parse_time("2026-11-23", &us), 0);
	ck_assert_int_eq(us, INT64_C(1795392000) * 1000000);
	ck_assert_int_eq(central_log_parse_time("2026-02-30T00:00:00Z", &us),
	    IDS_EINVAL);
	ck_assert_int_eq(central_log_parse_time("2026-11-23T08:15Z", &us),
	    IDS_EINVAL);
	ck_assert_int_eq(central_log_parse_time("2026-11-23T08:15:02", &us),
	    IDS_EINVAL);
}
END_TEST

/*
 * Three agents: gw-01 (plant-a) 6 high s7, gw-02 (plant-a) 4 low modbus
 * from 10.0.0.77, gw-03 (plant-b) 3 critical dnp3 to 10.0.0.77.
 */
static struct central_log *
filter_fixture(void)
{
	struct tb_alert_spec s2 = { "low", "modbus.scan", "T0846", "modbus",
	    "10.0.0.77", "10.0.0.20" };
	struct tb_alert_spec s3 = { "critical", "dnp3.restart", "T0816",
	    "dnp3", "10.0.0.30", "10.0.0.77" };
	struct central_log *db = open_rw();
	struct tb_chain c1, c2, c3;

	tb_chain_init(&c1, "plant-a", "gw-01", 1);
	tb_chain_init(&c2, "plant-a", "gw-02", 1);
	tb_chain_init(&c3, "plant-b", "gw-03", 1);
	ck_assert_int_eq(central_log_begin(db), 0);	/* one batch */
	store_chain(db, &c1, 6, NULL);
	store_chain(db, &c2, 4, &s2);
	store_chain(db, &c3, 3, &s3);
	ck_assert_int_eq(central_log_commit(db), 0);
	return db;
}

START_TEST(test_query_filters)
{
	struct central_log *db = filter_fixture();
	struct central_log_filter f;

	central_log_filter_init(&f);
	ck_assert_int_eq(query_n(db, &f), 13);
	f.min_sev = central_log_severity_rank("high");
	ck_assert_int_eq(query_n(db, &f), 9);
	f.min_sev = central_log_severity_rank("critical");
	ck_assert_int_eq(query_n(db, &f), 3);

	central_log_filter_init(&f);
	f.agent = "gw-02";
	ck_assert_int_eq(query_n(db, &f), 4);
	f.agent = "gw-0*";
	ck_assert_int_eq(query_n(db, &f), 13);

	central_log_filter_init(&f);
	f.site = "plant-b";
	ck_assert_int_eq(query_n(db, &f), 3);
	f.site = "plant-c";
	ck_assert_int_eq(query_n(db, &f), 0);

	central_log_filter_init(&f);
	f.detector = "s7.*";
	ck_assert_int_eq(query_n(db, &f), 6);
	f.detector = "modbus.scan";
	ck_assert_int_eq(query_n(db, &f), 4);

	central_log_filter_init(&f);
	f.technique = "T0816";
	ck_assert_int_eq(query_n(db, &f), 3);

	central_log_filter_init(&f);
	f.ip = "10.0.0.77";	/* src of gw-02's, dst of gw-03's */
	ck_assert_int_eq(query_n(db, &f), 7);
	f.ip = "10.0.0.7";	/* exact match only */
	ck_assert_int_eq(query_n(db, &f), 0);

	central_log_filter_init(&f);
	f.proto = "dnp3";
	ck_assert_int_eq(query_n(db, &f), 3);

	/* ts: seq n is 08:00:0n.123456; [08:00:02, 08:00:04) holds seq 2, 3
	 * of each agent */
	central_log_filter_init(&f);
	ck_assert_int_eq(central_log_parse_time("2026-11-23T08:00:02Z",
	    &f.since_us), 0);
	ck_assert_int_eq(central_log_parse_time("2026-11-23T08:00:04Z",
	    &f.until_us), 0);
	ck_assert_int_eq(query_n(db, &f), 6);

	/* combined */
	central_log_filter_init(&f);
	f.site = "plant-a";
	f.min_sev = 3;
	f.proto = "s7comm";
	ck_assert_int_eq(query_n(db, &f), 6);
	central_log_close(db);
}
END_TEST

START_TEST(test_query_limit_latest_in_order)
{
	struct central_log *db = filter_fixture();
	struct central_log_filter f;
	struct rows x;

	central_log_filter_init(&f);
	f.agent = "gw-01";
	f.limit = 2;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(db, &f, collect, &x), 0);
	ck_assert_int_eq(x.n, 2);
	ck_assert_int_eq(x.seq[0], 5);		/* the latest two, oldest first */
	ck_assert_int_eq(x.seq[1], 6);
	central_log_close(db);
}
END_TEST

START_TEST(test_follow)
{
	struct central_log *db = filter_fixture();
	struct central_log_filter f;
	struct tb_chain c;
	struct rows x;
	int64_t last = -1;

	central_log_filter_init(&f);
	f.limit = 3;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(db, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 3);		/* -n 3: the last three arrived */
	ck_assert_str_eq(x.agent[0], "gw-03");
	ck_assert_int_eq(last, 13);
	/* nothing new */
	f.limit = 0;
	f.after_id = last;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(db, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 0);
	ck_assert_int_eq(last, 13);
	/* two arrive */
	tb_chain_init(&c, "plant-c", "gw-09", 1);
	store_chain(db, &c, 2, NULL);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(db, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 2);
	ck_assert_str_eq(x.agent[1], "gw-09");
	ck_assert_int_eq(x.seq[1], 2);
	ck_assert_int_eq(last, 15);
	central_log_close(db);
}
END_TEST

struct kv {
	int	n;
	char	key[16][32];
	int64_t	val[16];
};

static int
collect_kv(void *ctx, const char *key, int64_t n)
{
	struct kv *x = ctx;

	if (x->n < 16) {
		snprintf(x->key[x->n], sizeof(x->key[0]), "%s", key);
		x->val[x->n] = n;
	}
	x->n++;
	return 0;
}

START_TEST(test_stats)
{
	struct central_log *db = filter_fixture();
	struct kv x;

	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_stats(db, CENTRAL_LOG_BY_SEVERITY,
	    INT64_MIN, INT64_MAX, collect_kv, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_str_eq(x.key[0], "critical");
	ck_assert_int_eq(x.val[0], 3);
	ck_assert_str_eq(x.key[1], "high");
	ck_assert_int_eq(x.val[1], 6);
	ck_assert_str_eq(x.key[2], "low");
	ck_assert_int_eq(x.val[2], 4);

	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_stats(db, CENTRAL_LOG_BY_DETECTOR,
	    INT64_MIN, INT64_MAX, collect_kv, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_str_eq(x.key[0], "s7.plc_stop");
	ck_assert_int_eq(x.val[0], 6);

	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_stats(db, CENTRAL_LOG_BY_AGENT,
	    INT64_MIN, INT64_MAX, collect_kv, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_str_eq(x.key[0], "plant-a/gw-01");
	ck_assert_str_eq(x.key[2], "plant-b/gw-03");
	ck_assert_int_eq(x.val[2], 3);

	/* a period: seq 1 only (08:00:01.123456) */
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_stats(db, CENTRAL_LOG_BY_AGENT,
	    INT64_C(1795420801) * 1000000, INT64_C(1795420802) * 1000000,
	    collect_kv, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(x.val[0], 1);

	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_counters(db, collect_kv, &x), 0);
	ck_assert_int_eq(x.n, 1);
	ck_assert_str_eq(x.key[0], "stored");
	ck_assert_int_eq(x.val[0], 13);
	central_log_close(db);
}
END_TEST

struct agents {
	int	n;
	char	line[8][160];
};

static int
collect_agent(void *ctx, const struct central_log_agent_row *r)
{
	struct agents *x = ctx;

	if (x->n < 8)
		snprintf(x->line[x->n], sizeof(x->line[0]), "%s/%s %s %s %s",
		    r->site, r->agent, r->status ? r->status : "-",
		    r->last_seen, r->stats ? r->stats : "-");
	x->n++;
	return 0;
}

START_TEST(test_status_stats_assets)
{
	struct central_log *db = open_rw();
	struct agents x;
	int64_t n = -1;

	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "online", 1000000), 0);
	ck_assert_int_eq(central_log_agent_stats(db, "plant-a", "gw-01",
	    "{\"packets\":5}", 13, 2000000), 0);
	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "offline", 3000000), 0);
	ck_assert_int_eq(central_log_agent_status(db, "plant-b", "gw-02",
	    "online", 4000000), 0);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_agents(db, collect_agent, &x), 0);
	ck_assert_int_eq(x.n, 2);
	ck_assert_str_eq(x.line[0], "plant-a/gw-01 offline "
	    "1970-01-01T00:00:03.000000Z {\"packets\":5}");
	ck_assert_str_eq(x.line[1], "plant-b/gw-02 online "
	    "1970-01-01T00:00:04.000000Z -");

	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.1",
	    "{\"ip\":\"10.0.0.1\"}", 16, 1), 0);
	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.1",
	    "{\"ip\":\"10.0.0.1\",\"v\":2}", 23, 2), 0);
	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.2",
	    "{\"ip\":\"10.0.0.2\"}", 16, 3), 0);
	ck_assert_int_eq(central_log_asset_count(db, &n), 0);
	ck_assert_int_eq(n, 2);
	/* an empty retained message clears the entry */
	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.1",
	    NULL, 0, 4), 0);
	ck_assert_int_eq(central_log_asset_count(db, &n), 0);
	ck_assert_int_eq(n, 1);
	central_log_close(db);
}
END_TEST

START_TEST(test_counters_and_rollback)
{
	struct central_log *db = open_rw();
	struct tb_chain c;

	ck_assert_int_eq(central_log_count(db, "rejected_size", 2), 0);
	ck_assert_int_eq(central_log_count(db, "rejected_size", 1), 0);
	ck_assert_int_eq(counter(db, "rejected_size"), 3);
	ck_assert_int_eq(counter(db, "never"), 0);
	/* a rolled back batch leaves nothing behind, counters included */
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	ck_assert_int_eq(central_log_begin(db), 0);
	store_chain(db, &c, 3, NULL);
	ck_assert_int_eq(central_log_rollback(db), 0);
	ck_assert_int_eq(alert_count(db), 0);
	ck_assert_int_eq(counter(db, "stored"), 0);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_clean)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	ck_assert_int_eq(verify(db, &x), 0);
	ck_assert_int_eq(x.chains, 3);
	ck_assert_int_eq(x.chain_alerts[0], 6);
	ck_assert_int_eq(x.chain_alerts[1], 4);
	ck_assert_int_eq(x.chain_alerts[2], 3);
	ck_assert_int_eq(x.chain_problems[0], 0);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_changed_raw)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	/* the intruder turns a critical alert into an info one everywhere */
	tamper("UPDATE alerts SET raw = replace(raw, '\"critical\"', '\"info\"'),"
	    " severity = 'info', sev = 0 WHERE agent = 'gw-03' AND seq = 2");
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-03", CENTRAL_LOG_P_CHANGED, 2));
	ck_assert_int_eq(x.chain_problems[0], 0);
	ck_assert_int_eq(x.chain_problems[2], 1);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_changed_column)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	/* only the indexed column: queries would hide the alert */
	tamper("UPDATE alerts SET sev = 0, severity = 'info'"
	    " WHERE agent = 'gw-01' AND seq = 4");
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_COLUMNS, 4));
	tamper("UPDATE alerts SET src_ip = '1.2.3.4'"
	    " WHERE agent = 'gw-02' AND seq = 1");
	ck_assert_int_eq(verify(db, &x), 2);
	ck_assert(has_issue(&x, "gw-02", CENTRAL_LOG_P_COLUMNS, 1));
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_deleted)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	tamper("DELETE FROM alerts WHERE agent = 'gw-01' AND seq IN (3, 4)");
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert_int_eq(x.kind[0], CENTRAL_LOG_P_MISSING);
	ck_assert_str_eq(x.agent[0], "gw-01");
	ck_assert_int_eq(x.seq[0], 3);
	ck_assert_int_eq(x.seq_to[0], 4);
	ck_assert_int_eq(x.chain_alerts[0], 4);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_deleted_head)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	tamper("DELETE FROM alerts WHERE agent = 'gw-02' AND seq = 1");
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-02", CENTRAL_LOG_P_HEAD, 2));
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_swapped)
{
	struct central_log *db = filter_fixture();
	struct issues x;

	/* swap the content of seq 2 and 3, keeping the seq column */
	tamper("CREATE TEMP TABLE t AS SELECT * FROM alerts"
	    " WHERE agent = 'gw-01' AND seq IN (2, 3);"
	    "UPDATE alerts SET raw = (SELECT raw FROM t WHERE t.seq = 5 -"
	    " alerts.seq), hash = (SELECT hash FROM t WHERE t.seq = 5 -"
	    " alerts.seq), prev_hash = (SELECT prev_hash FROM t WHERE"
	    " t.seq = 5 - alerts.seq), ts = (SELECT ts FROM t WHERE"
	    " t.seq = 5 - alerts.seq), ts_us = (SELECT ts_us FROM t WHERE"
	    " t.seq = 5 - alerts.seq)"
	    " WHERE agent = 'gw-01' AND seq IN (2, 3)");
	ck_assert_int_gt(verify(db, &x), 0);
	/* both rows are named, and nothing outside the chain of gw-01 */
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_COLUMNS, 2));
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_COLUMNS, 3));
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_LINK, 2));
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_LINK, 3));
	ck_assert_int_eq(x.chain_problems[1], 0);
	ck_assert_int_eq(x.chain_problems[2], 0);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_replaced_with_rehash)
{
	struct central_log *db = open_rw();
	struct tb_chain c, forged;
	struct issues x;
	char *a[4], *f;
	int i;

	/*
	 * The intruder replaces seq 2 with a self-consistent forgery (right
	 * hash for its own content): only the link from seq 3 gives it away.
	 */
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (i = 0; i < 4; i++)
		a[i] = tb_chain_next(&c, NULL);
	tb_chain_init(&forged, "plant-a", "gw-01", 1);
	free(tb_chain_next(&forged, NULL));
	{
		struct tb_alert_spec low = { .severity = "low" };

		f = tb_chain_next(&forged, &low);	/* seq 2, other content */
	}
	ck_assert_int_eq(store(db, a[0]), CENTRAL_LOG_NEW);
	ck_assert_int_eq(store(db, f), CENTRAL_LOG_NEW);
	ck_assert_int_eq(store(db, a[2]), CENTRAL_LOG_NEW);
	ck_assert_int_eq(store(db, a[3]), CENTRAL_LOG_NEW);
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_LINK, 3));
	for (i = 0; i < 4; i++)
		free(a[i]);
	free(f);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_bad_hash_counted)
{
	struct central_log *db = open_rw();
	struct tb_chain c;
	struct issues x;
	char *j, *p;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	j = tb_chain_next(&c, NULL);
	p = strstr(j, "test alert");
	ck_assert_ptr_nonnull(p);
	p[0] = 'T';		/* altered in transit: still valid JSON */
	ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
	ck_assert_int_eq(counter(db, "bad_hash"), 1);
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue(&x, "gw-01", CENTRAL_LOG_P_CHANGED, 1));
	free(j);
	central_log_close(db);
}
END_TEST

/* ---- identity: (site, agent) ------------------------------------------ */

START_TEST(test_same_name_two_sites)
{
	struct tb_alert_spec stop = { "critical", "s7.plc_stop", "T0858",
	    "s7comm", "10.9.9.9", "10.2.0.10" };
	struct central_log *db = open_rw();
	struct central_log_filter f;
	struct tb_chain a, b;
	struct issues x;
	struct rows r;
	char note[512];

	/* a routine naming choice: every plant's first gateway is gw-01 */
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	store_chain(db, &a, 5, NULL);
	ck_assert_ptr_null(central_log_notice(db, note, sizeof(note)));
	store_chain(db, &b, 4, NULL);
	/* the second site is noted once, when it first appears */
	ck_assert_ptr_nonnull(central_log_notice(db, note, sizeof(note)));
	ck_assert_ptr_nonnull(strstr(note, "plant-a/gw-01"));
	ck_assert_ptr_nonnull(strstr(note, "plant-b/gw-01"));
	ck_assert_ptr_null(central_log_notice(db, note, sizeof(note)));
	store_chain(db, &b, 1, &stop);		/* plant-b seq 5: PLC STOP */
	ck_assert_ptr_null(central_log_notice(db, note, sizeof(note)));
	ck_assert_int_eq(central_log_agent_status(db, "plant-b", "gw-01",
	    "online", 5000), 0);
	ck_assert_ptr_null(central_log_notice(db, note, sizeof(note)));

	ck_assert_int_eq(alert_count(db), 10);
	ck_assert_int_eq(counter(db, "stored"), 10);
	ck_assert_int_eq(counter(db, "conflicts"), 0);
	/* plant-b's PLC STOP is there for query (and so tail) */
	central_log_filter_init(&f);
	f.min_sev = central_log_severity_rank("critical");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(central_log_query(db, &f, collect, &r), 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert_str_eq(r.site[0], "plant-b");
	ck_assert_str_eq(r.agent[0], "gw-01");
	ck_assert_int_eq(r.seq[0], 5);
	memset(&r, 0, sizeof(r));
	central_log_filter_init(&f);
	ck_assert_int_eq(central_log_follow(db, &f, collect, &r, &r.last_id),
	    0);
	ck_assert_int_eq(r.n, 10);
	ck_assert_str_eq(r.site[9], "plant-b");
	ck_assert_int_eq(r.seq[9], 5);
	central_log_filter_init(&f);
	f.site = "plant-a";
	f.agent = "gw-01";
	ck_assert_int_eq(query_n(db, &f), 5);
	/* both chains complete and clean, named by site */
	ck_assert_int_eq(verify(db, &x), 0);
	ck_assert_int_eq(x.chains, 2);
	ck_assert_str_eq(x.chain_key[0], "plant-a/gw-01");
	ck_assert_str_eq(x.chain_key[1], "plant-b/gw-01");
	ck_assert_int_eq(x.chain_alerts[0], 5);
	ck_assert_int_eq(x.chain_alerts[1], 5);
	central_log_close(db);
}
END_TEST

static int
stats_collect(void *ctx, const char *key, int64_t n)
{
	struct rows *x = ctx;

	if (x->n < 64) {
		snprintf(x->agent[x->n], sizeof(x->agent[0]), "%s", key);
		x->seq[x->n] = n;
	}
	x->n++;
	return 0;
}

START_TEST(test_same_name_stats_and_verify_filter)
{
	struct central_log_verify_ops ops;
	struct central_log *db = open_rw();
	struct tb_chain a, b;
	struct issues x;
	struct rows r;
	int64_t problems = -1;

	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	store_chain(db, &a, 3, NULL);
	store_chain(db, &b, 2, NULL);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(central_log_stats(db, CENTRAL_LOG_BY_AGENT, INT64_MIN,
	    INT64_MAX, stats_collect, &r), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.agent[0], "plant-a/gw-01");
	ck_assert_int_eq(r.seq[0], 3);
	ck_assert_str_eq(r.agent[1], "plant-b/gw-01");
	ck_assert_int_eq(r.seq[1], 2);
	/* verify of one site's gw-01 walks only that chain */
	memset(&x, 0, sizeof(x));
	ops.ctx = &x;
	ops.issue = on_issue;
	ops.chain_done = on_chain;
	ck_assert_int_eq(central_log_verify(db, "plant-b", "gw-01", &ops,
	    &problems), 0);
	ck_assert_int_eq(problems, 0);
	ck_assert_int_eq(x.chains, 1);
	ck_assert_str_eq(x.chain_key[0], "plant-b/gw-01");
	ck_assert_int_eq(x.chain_alerts[0], 2);
	/* the name alone: both sites' chains */
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_verify(db, NULL, "gw-01", &ops,
	    &problems), 0);
	ck_assert_int_eq(x.chains, 2);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_verify(db, "plant-a", NULL, &ops,
	    &problems), 0);
	ck_assert_int_eq(x.chains, 1);
	ck_assert_int_eq(x.chain_alerts[0], 3);
	central_log_close(db);
}
END_TEST

START_TEST(test_forged_seq_other_site)
{
	struct tb_alert_spec info = { .severity = "info" };
	struct tb_alert_spec stop = { "critical", "s7.plc_stop", "T0858",
	    "s7comm", "10.9.9.9", "10.2.0.10" };
	struct central_log *db = open_rw();
	struct central_log_filter f;
	struct tb_chain forged, real;
	struct issues x;
	struct rows r;
	char *j;
	int i;

	/*
	 * An agent allowed to publish only under plant-a claims gw-01's
	 * seq 1..3 first, hoping plant-b's gw-01 alerts with those seqs are
	 * filed as conflicts.  Under (site, agent, seq) they are not.
	 */
	tb_chain_init(&forged, "plant-a", "gw-01", 1);
	store_chain(db, &forged, 3, &info);
	tb_chain_init(&real, "plant-b", "gw-01", 1);
	for (i = 0; i < 3; i++) {
		j = tb_chain_next(&real, i == 1 ? &stop : NULL);
		ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
		free(j);
	}
	ck_assert_int_eq(counter(db, "conflicts"), 0);
	central_log_filter_init(&f);
	f.min_sev = central_log_severity_rank("critical");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(central_log_query(db, &f, collect, &r), 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert_str_eq(r.site[0], "plant-b");
	ck_assert_int_eq(r.seq[0], 2);
	ck_assert_int_eq(verify(db, &x), 0);
	ck_assert_int_eq(x.chains, 2);
	ck_assert_int_eq(x.chain_alerts[1], 3);
	central_log_close(db);
}
END_TEST

/*
 * A version 1 log as the collector before (site, agent) left it: the old
 * schema written verbatim, with plant-b's gw-01 alert filed as a conflict
 * of plant-a's (the bug) and one genuine conflict.
 */
static const char to_v1[] =
	"DROP INDEX alerts_ts; DROP INDEX alerts_sev; DROP INDEX alerts_detector;"
	"DROP INDEX alerts_technique; DROP INDEX alerts_agent;"
	"DROP INDEX alerts_proto; DROP INDEX alerts_src; DROP INDEX alerts_dst;"
	"DROP INDEX conflicts_agent;"
	/* version 3's tables, which version 1 did not have */
	"DROP TABLE verify_checkpoints; DROP TABLE chain_anchors;"
	"ALTER TABLE alerts RENAME TO a2; ALTER TABLE conflicts RENAME TO c2;"
	"CREATE TABLE alerts ("
	" id          INTEGER PRIMARY KEY,"
	" agent       TEXT    NOT NULL,"
	" seq         INTEGER NOT NULL,"
	" site        TEXT    NOT NULL,"
	" ts          TEXT    NOT NULL,"
	" ts_us       INTEGER NOT NULL,"
	" severity    TEXT    NOT NULL,"
	" sev         INTEGER NOT NULL,"
	" detector    TEXT    NOT NULL,"
	" technique   TEXT,"
	" title       TEXT,"
	" proto       TEXT,"
	" src_ip      TEXT,"
	" src_port    INTEGER,"
	" dst_ip      TEXT,"
	" dst_port    INTEGER,"
	" prev_hash   TEXT    NOT NULL,"
	" hash        TEXT    NOT NULL,"
	" raw         TEXT    NOT NULL,"
	" received_at TEXT    NOT NULL,"
	" UNIQUE (agent, seq));"
	"CREATE INDEX alerts_ts        ON alerts (ts_us);"
	"CREATE INDEX alerts_sev       ON alerts (sev, ts_us);"
	"CREATE INDEX alerts_detector  ON alerts (detector, ts_us);"
	"CREATE INDEX alerts_technique ON alerts (technique, ts_us);"
	"CREATE INDEX alerts_site      ON alerts (site, agent, ts_us);"
	"CREATE INDEX alerts_proto     ON alerts (proto, ts_us);"
	"CREATE INDEX alerts_src       ON alerts (src_ip);"
	"CREATE INDEX alerts_dst       ON alerts (dst_ip);"
	"CREATE TABLE conflicts ("
	" id          INTEGER PRIMARY KEY,"
	" agent       TEXT    NOT NULL,"
	" seq         INTEGER NOT NULL,"
	" raw         TEXT    NOT NULL,"
	" received_at TEXT    NOT NULL);"
	"CREATE INDEX conflicts_agent ON conflicts (agent, seq);"
	"INSERT INTO alerts SELECT id, agent, seq, site, ts, ts_us, severity,"
	" sev, detector, technique, title, proto, src_ip, src_port, dst_ip,"
	" dst_port, prev_hash, hash, raw, received_at FROM a2"
	" WHERE site = 'plant-a';"
	"INSERT INTO conflicts (agent, seq, raw, received_at)"
	" SELECT agent, seq, raw, received_at FROM c2;"
	"INSERT INTO conflicts (agent, seq, raw, received_at)"
	" SELECT agent, seq, raw, received_at FROM a2 WHERE site = 'plant-b';"
	"DROP TABLE a2; DROP TABLE c2;"
	"DELETE FROM agents WHERE site = 'plant-b';"
	"ALTER TABLE agents DROP COLUMN acked_seq;"
	"ALTER TABLE agents DROP COLUMN reported_seq;"
	"UPDATE counters SET value = 4 WHERE name = 'stored';"
	"UPDATE counters SET value = 2 WHERE name = 'conflicts';"
	"PRAGMA user_version = 1;";

START_TEST(test_migrate_v1)
{
	struct tb_alert_spec low = { .severity = "low" };
	struct tb_alert_spec stop = { "critical", "s7.plc_stop", "T0858",
	    "s7comm", "10.9.9.9", "10.2.0.10" };
	struct central_log *db = open_rw(), *ro = NULL;
	struct central_log_filter f;
	struct tb_chain a, a2, b;
	struct issues x;
	struct rows r;
	char err[256], note[512], *j;
	int rc;

	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&a2, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	store_chain(db, &a, 4, NULL);			/* ids 1-4 */
	store_chain(db, &b, 1, &stop);			/* id 5 */
	free(tb_chain_next(&a2, NULL));
	j = tb_chain_next(&a2, &low);			/* plant-a seq 2 again */
	ck_assert_int_eq(store(db, j), CENTRAL_LOG_CONFLICT);
	free(j);
	central_log_close(db);
	tamper(to_v1);

	/* a reader is told what to do, and changes nothing */
	rc = central_log_open(dbpath, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &ro, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "older"));

	/* the old log as it was: plant-b's PLC STOP lost among conflicts */
	ck_assert_int_eq(sql_int("PRAGMA user_version"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM alerts"), 4);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM conflicts"), 2);

	db = open_rw();		/* upgrades in place */
	ck_assert_int_eq(sql_int("PRAGMA user_version"), CENTRAL_LOG_SCHEMA);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM conflicts"), 1);
	ck_assert_int_eq(sql_int("SELECT max(id) FROM alerts WHERE"
	    " site = 'plant-a'"), 4);
	ck_assert_int_eq(alert_count(db), 5);
	ck_assert_int_eq(counter(db, "stored"), 5);
	ck_assert_int_eq(counter(db, "conflicts"), 1);
	ck_assert_int_eq(counter(db, "recovered_by_upgrade"), 1);
	ck_assert_ptr_nonnull(central_log_notice(db, note, sizeof(note)));
	ck_assert_ptr_nonnull(strstr(note, "plant-b/gw-01"));
	central_log_filter_init(&f);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(central_log_follow(db, &f, collect, &r, &r.last_id),
	    0);
	ck_assert_int_eq(r.n, 5);
	/* the old rows kept their ids 1-4 (a tail's position stays right),
	 * the recovered one comes after them */
	ck_assert_int_eq(r.last_id, 5);
	ck_assert_str_eq(r.site[3], "plant-a");
	ck_assert_int_eq(r.seq[3], 4);
	ck_assert_str_eq(r.site[4], "plant-b");
	ck_assert_str_eq(r.severity[4], "critical");
	/* the genuine conflict stays one, now under its site */
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert(has_issue_at(&x, "plant-a", "gw-01", CENTRAL_LOG_P_CONFLICT,
	    2));
	ck_assert_int_eq(x.chains, 2);
	ck_assert_int_eq(x.chain_alerts[0], 4);
	ck_assert_int_eq(x.chain_alerts[1], 1);
	ck_assert_int_eq(x.chain_problems[1], 0);
	/* the new key is in force: plant-b seq 2 is new, not a conflict */
	j = tb_chain_next(&b, NULL);
	ck_assert_int_eq(store(db, j), CENTRAL_LOG_NEW);
	free(j);
	central_log_close(db);
	/* and it opens as version 2 for readers, twice over for writers */
	ck_assert_int_eq(central_log_open(dbpath, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &ro, err, sizeof(err)), 0);
	ck_assert_int_eq(alert_count(ro), 6);
	central_log_close(ro);
	db = open_rw();
	ck_assert_int_eq(alert_count(db), 6);
	ck_assert_int_eq(counter(db, "recovered_by_upgrade"), 1);
	central_log_close(db);
}
END_TEST

START_TEST(test_contiguous_and_acked)
{
	struct central_log *db = open_rw();
	struct tb_chain a, b;
	int64_t v = -1;
	char *j[8];
	int i;

	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	for (i = 0; i < 8; i++)
		j[i] = tb_chain_next(&a, NULL);
	/* seq 1, 2, 3, 5, 6 stored: contiguous to 3 */
	for (i = 0; i < 6; i++)
		if (i != 3)
			ck_assert_int_eq(store(db, j[i]), CENTRAL_LOG_NEW);
	store_chain(db, &b, 1, NULL);	/* the other site changes nothing */
	ck_assert_int_eq(central_log_contiguous(db, "plant-a", "gw-01", 0, &v),
	    0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(central_log_next_seq(db, "plant-a", "gw-01", 3, &v),
	    0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(central_log_next_seq(db, "plant-a", "gw-01", 6, &v),
	    0);
	ck_assert_int_eq(v, -1);
	/* seq 4 arrives: contiguous to 6 */
	ck_assert_int_eq(store(db, j[3]), CENTRAL_LOG_NEW);
	ck_assert_int_eq(central_log_contiguous(db, "plant-a", "gw-01", 3, &v),
	    0);
	ck_assert_int_eq(v, 6);
	ck_assert_int_eq(central_log_contiguous(db, "plant-c", "gw-01", 0, &v),
	    0);
	ck_assert_int_eq(v, 0);
	/* the kept ack only grows */
	ck_assert_int_eq(central_log_set_acked(db, "plant-a", "gw-01", 6), 0);
	ck_assert_int_eq(central_log_set_acked(db, "plant-a", "gw-01", 2), 0);
	ck_assert_int_eq(central_log_acked(db, "plant-a", "gw-01", &v), 0);
	ck_assert_int_eq(v, 6);
	ck_assert_int_eq(central_log_acked(db, "plant-b", "gw-01", &v), 0);
	ck_assert_int_eq(v, 0);
	for (i = 0; i < 8; i++)
		free(j[i]);
	central_log_close(db);
}
END_TEST

START_TEST(test_verify_missing_tail)
{
	struct central_log *db = open_rw();
	struct tb_chain a;
	struct issues x;

	tb_chain_init(&a, "plant-a", "gw-01", 1);
	store_chain(db, &a, 5, NULL);
	ck_assert_int_eq(central_log_set_reported(db, "plant-a", "gw-01", 5),
	    0);
	ck_assert_int_eq(verify(db, &x), 0);
	/* the agent says it sent 8: 6-8 never arrived, and no hash shows it */
	ck_assert_int_eq(central_log_set_reported(db, "plant-a", "gw-01", 8),
	    0);
	ck_assert_int_eq(verify(db, &x), 1);
	ck_assert_int_eq(x.kind[0], CENTRAL_LOG_P_MISSING);
	ck_assert_int_eq(x.seq[0], 6);
	ck_assert_int_eq(x.seq_to[0], 8);
	ck_assert_str_eq(x.site[0], "plant-a");
	central_log_close(db);
}
END_TEST

static Suite *
central_log_suite(void)
{
	Suite *s = suite_create("central_log");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_open_creates_schema);
	tcase_add_test(tc, test_wal_kept_for_readers);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_insert_fields);
	tcase_add_test(tc, test_columns_from_json);
	tcase_add_test(tc, test_duplicate_stored_once);
	tcase_add_test(tc, test_conflict_keeps_first);
	tcase_add_loop_test(tc, test_parse_rejects, 0,
	    (int)(sizeof(bad_alerts) / sizeof(bad_alerts[0])));
	tcase_add_test(tc, test_parse_accepts_minimal);
	tcase_add_loop_test(tc, test_parse_plain_and_cjson_agree, 0,
	    (int)(sizeof(same_alert) / sizeof(same_alert[0])));
	tcase_add_test(tc, test_time_round_trip);
	tcase_add_test(tc, test_query_filters);
	tcase_add_test(tc, test_query_limit_latest_in_order);
	tcase_add_test(tc, test_follow);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_status_stats_assets);
	tcase_add_test(tc, test_counters_and_rollback);
	tcase_add_test(tc, test_verify_clean);
	tcase_add_test(tc, test_verify_changed_raw);
	tcase_add_test(tc, test_verify_changed_column);
	tcase_add_test(tc, test_verify_deleted);
	tcase_add_test(tc, test_verify_deleted_head);
	tcase_add_test(tc, test_verify_swapped);
	tcase_add_test(tc, test_verify_replaced_with_rehash);
	tcase_add_test(tc, test_verify_bad_hash_counted);
	tcase_add_test(tc, test_same_name_two_sites);
	tcase_add_test(tc, test_same_name_stats_and_verify_filter);
	tcase_add_test(tc, test_forged_seq_other_site);
	tcase_add_test(tc, test_migrate_v1);
	tcase_add_test(tc, test_contiguous_and_acked);
	tcase_add_test(tc, test_verify_missing_tail);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(central_log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
