/*
 * check_central_pg.c - the same central log tests on both backends: a real
 * SQLite file and a real PostgreSQL server this suite starts itself (as
 * "nobody" when run as root; tests/testutil_pg.h) on a free loopback port.
 *
 * Every test is a loop test: _i == 0 runs it on SQLite, _i == 1 on
 * PostgreSQL, with the same assertions, so both give the same answers.
 * Each test gets its own database.  The collector tests run the real
 * icsentry-collector against a real mosquitto.
 */
#include <check.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include <libpq-fe.h>

#include "lib/chain.h"
#include "broker/clog_query.h"
#include "lib/ids.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_log.h"
#include "tests/testutil_pg.h"

static struct tl_log lg;

static enum central_log_stored
store(struct central_log *db, const char *json)
{
	struct central_log_alert a;
	enum central_log_stored res = CENTRAL_LOG_NEW;
	char why[128];

	ck_assert_msg(central_log_alert_parse(json, strlen(json), &a, why,
	    sizeof(why)) == 0, "parse: %s", why);
	ck_assert_msg(central_log_insert(db, &a, json, strlen(json),
	    central_log_now_us(), &res) == 0, "insert: %s",
	    central_log_errmsg(db));
	central_log_alert_free(&a);
	return res;
}

static void
store_n(struct central_log *db, struct tb_chain *c, int n,
    const struct tb_alert_spec *spec)
{
	int i;

	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(c, spec);

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
alerts(struct central_log *db)
{
	int64_t n = -1;

	ck_assert_int_eq(central_log_alert_count(db, &n), 0);
	return n;
}

struct rows {
	int	n;
	int64_t	seq[256], id[256];
	char	key[256][40];
};

static int
collect(void *ctx, const struct central_log_row *r)
{
	struct rows *x = ctx;

	if (x->n < 256) {
		x->seq[x->n] = r->seq;
		x->id[x->n] = r->id;
		snprintf(x->key[x->n], sizeof(x->key[0]), "%s/%s", r->site,
		    r->agent);
	}
	x->n++;
	return 0;
}

static int
query_n(struct central_log *db, const struct central_log_filter *f)
{
	struct rows x;

	memset(&x, 0, sizeof(x));
	ck_assert_msg(central_log_query(db, f, collect, &x) == 0, "query: %s",
	    central_log_errmsg(db));
	return x.n;
}

struct vres {
	int	problems, chains;
	int64_t	alerts;
	char	first[256];	/* first issue: "site/agent seq kind" */
	int	kinds[8];
};

static int
on_issue(void *ctx, const struct central_log_issue *i)
{
	struct vres *v = ctx;

	if (v->problems == 0)
		snprintf(v->first, sizeof(v->first), "%s/%s %" PRId64 " %s",
		    i->site, i->agent, i->seq,
		    central_log_problem_name(i->kind));
	if (getenv("CPG_DEBUG") != NULL)
		fprintf(stderr, "issue %s/%s %" PRId64 "-%" PRId64 " %s\n",
		    i->site, i->agent, i->seq, i->seq_to, i->detail);
	v->problems++;
	v->kinds[i->kind]++;
	return 0;
}

static int
on_chain(void *ctx, const struct central_log_chain *c)
{
	struct vres *v = ctx;

	v->chains++;
	v->alerts += c->alerts;
	return 0;
}

static int64_t
verify(struct central_log *db, bool incremental, struct vres *v)
{
	struct central_log_verify_ops ops = { v, on_issue, on_chain };
	int64_t problems = -1;

	memset(v, 0, sizeof(*v));
	ck_assert_msg((incremental ? central_log_verify_incremental(db, NULL,
	    NULL, &ops, &problems) : central_log_verify(db, NULL, NULL, &ops,
	    &problems)) == 0, "verify: %s", central_log_errmsg(db));
	ck_assert_int_eq(problems, v->problems);
	return problems;
}

/* ---- storage ------------------------------------------------------------ */

START_TEST(test_store_duplicate_conflict)
{
	struct central_log *db;
	struct tb_chain c;
	char *j[6], *forged;
	int i;

	tl_use_backend(&lg, "cpg", _i, "store");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (i = 0; i < 6; i++) {
		j[i] = tb_chain_next(&c, NULL);
		ck_assert_int_eq(store(db, j[i]), CENTRAL_LOG_NEW);
	}
	/* re-delivery of the same bytes: stored once */
	ck_assert_int_eq(store(db, j[2]), CENTRAL_LOG_DUPLICATE);
	ck_assert_int_eq(store(db, j[2]), CENTRAL_LOG_DUPLICATE);
	/* another alert under the same (site, agent, seq): kept aside */
	forged = strdup(j[2]);
	memcpy(strstr(forged, "test alert"), "TEST", 4);
	ck_assert_int_eq(store(db, forged), CENTRAL_LOG_CONFLICT);
	ck_assert_int_eq(alerts(db), 6);
	ck_assert_int_eq(counter(db, "stored"), 6);
	ck_assert_int_eq(counter(db, "duplicates"), 2);
	ck_assert_int_eq(counter(db, "conflicts"), 1);
	/* the same seq at another site is another agent's alert */
	tb_chain_init(&c, "plant-b", "gw-01", 3);
	store_n(db, &c, 2, NULL);
	ck_assert_int_eq(alerts(db), 8);
	for (i = 0; i < 6; i++)
		free(j[i]);
	free(forged);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* A batch in one transaction: all of it or none of it. */
START_TEST(test_batch_transaction)
{
	struct central_log *db;
	struct tb_chain c;

	tl_use_backend(&lg, "cpg", _i, "batch");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	ck_assert_int_eq(central_log_begin(db), 0);
	store_n(db, &c, 50, NULL);
	ck_assert_int_eq(central_log_rollback(db), 0);
	ck_assert_int_eq(alerts(db), 0);
	ck_assert_int_eq(counter(db, "stored"), 0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	ck_assert_int_eq(central_log_begin(db), 0);
	store_n(db, &c, 50, NULL);
	ck_assert_int_eq(central_log_commit(db), 0);
	ck_assert_int_eq(alerts(db), 50);
	ck_assert_int_eq(counter(db, "stored"), 50);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/*
 * Deferred inserts (the collector's pipeline on PostgreSQL): queued in a
 * transaction, sent when the queue is full and at commit, each outcome
 * (new, duplicate, conflict) told in order; a rollback stores none.
 */
struct outcomes {
	int			n;
	int64_t			seq[64];
	enum central_log_stored	res[64];
	char			key[64][40];
};

static void
on_outcome(void *ctx, const char *site, const char *agent, int64_t seq,
    enum central_log_stored res)
{
	struct outcomes *o = ctx;

	if (o->n < 64) {
		o->seq[o->n] = seq;
		o->res[o->n] = res;
		snprintf(o->key[o->n], sizeof(o->key[0]), "%s/%s", site, agent);
	}
	o->n++;
}

START_TEST(test_deferred_inserts)
{
	struct central_log *db;
	struct outcomes o;
	struct tb_chain c, d;
	char *j[12], *forged;
	int i;

	tl_use_backend(&lg, "cpg", 1, "defer");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(central_log_defer_inserts(db, 4, on_outcome, &o), 0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	tb_chain_init(&d, "plant-b", "gw-01", 2);
	for (i = 0; i < 12; i++)
		j[i] = tb_chain_next(i % 2 ? &d : &c, NULL);
	/* a rolled-back batch: queued, some sent (4 per pipeline), none kept */
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(store(db, j[i]), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(o.n, 4);
	ck_assert_int_eq(central_log_rollback(db), 0);
	ck_assert_int_eq(alerts(db), 0);
	ck_assert_int_eq(counter(db, "stored"), 0);
	/* the batch again, with a duplicate and a forged copy inside */
	memset(&o, 0, sizeof(o));
	forged = strdup(j[2]);
	memcpy(strstr(forged, "test alert"), "TEST", 4);
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(store(db, j[i]), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(store(db, j[5]), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(store(db, forged), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(o.n, 12);		/* 3 full pipelines sent */
	ck_assert_int_eq(central_log_commit(db), 0);
	ck_assert_int_eq(o.n, 14);
	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(o.res[i], CENTRAL_LOG_NEW);
		ck_assert_str_eq(o.key[i], i % 2 ? "plant-b/gw-01" :
		    "plant-a/gw-01");
		ck_assert_int_eq(o.seq[i], i % 2 ? 2 + i / 2 : 1 + i / 2);
	}
	ck_assert_int_eq(o.res[12], CENTRAL_LOG_DUPLICATE);
	ck_assert_int_eq(o.seq[12], 4);
	ck_assert_int_eq(o.res[13], CENTRAL_LOG_CONFLICT);
	ck_assert_str_eq(o.key[13], "plant-a/gw-01");
	ck_assert_int_eq(o.seq[13], 2);
	ck_assert_int_eq(alerts(db), 12);
	ck_assert_int_eq(counter(db, "stored"), 12);
	ck_assert_int_eq(counter(db, "duplicates"), 1);
	ck_assert_int_eq(counter(db, "conflicts"), 1);
	/* outside a transaction of the caller's, an insert settles at once */
	j[0] = (free(j[0]), tb_chain_next(&c, NULL));
	ck_assert_int_eq(store(db, j[0]), CENTRAL_LOG_NEW);
	ck_assert_int_eq(o.n, 14);
	ck_assert_int_eq(alerts(db), 13);
	for (i = 0; i < 12; i++)
		free(j[i]);
	free(forged);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* Every column of the rows, as text, for test_deferred_batch_keys. */
struct cols {
	int	n;
	char	key[16][40], raw[16][1200], tech[16][16], proto[16][16];
	char	src[16][20];
	int64_t	seq[16], id[16];
	int	sev[16], sport[16], dport[16];
};

static int
collect_cols(void *ctx, const struct central_log_row *r)
{
	struct cols *x = ctx;
	int i = x->n++;

	if (i >= 16)
		return 0;
	snprintf(x->key[i], sizeof(x->key[i]), "%s/%s", r->site, r->agent);
	snprintf(x->raw[i], sizeof(x->raw[i]), "%.*s", (int)r->raw_len,
	    r->raw);
	snprintf(x->tech[i], sizeof(x->tech[i]), "%s",
	    r->technique != NULL ? r->technique : "(null)");
	snprintf(x->proto[i], sizeof(x->proto[i]), "%s", r->proto);
	snprintf(x->src[i], sizeof(x->src[i]), "%s", r->src_ip);
	x->seq[i] = r->seq;
	x->id[i] = r->id;
	x->sev[i] = r->sev;
	x->sport[i] = r->src_port;
	x->dport[i] = r->dst_port;
	return 0;
}

/*
 * A batch sent as one set of statements (clog_pg_batch.c): a key twice in
 * the batch, a key of an earlier batch again (same bytes, other bytes),
 * the same agent name at two sites with one seq, a NULL technique: the
 * outcomes in arrival order, and each new row's columns as a single
 * insert stores them.
 */
START_TEST(test_deferred_batch_keys)
{
	static const struct tb_alert_spec s = { .severity = "critical",
	    .technique = "", .proto = "modbus", .src_ip = "10.9.9.9" };
	static const enum central_log_stored want[7] = { CENTRAL_LOG_NEW,
	    CENTRAL_LOG_DUPLICATE, CENTRAL_LOG_CONFLICT, CENTRAL_LOG_NEW,
	    CENTRAL_LOG_DUPLICATE, CENTRAL_LOG_CONFLICT, CENTRAL_LOG_NEW };
	static const int64_t wseq[7] = { 5, 2, 3, 6, 5, 6, 1 };
	struct central_log_filter f;
	struct central_log *db;
	struct outcomes o;
	struct tb_chain c, d;
	struct cols x;
	char *j[4], *k5, *k6, *e1, *f3, *f6, *in[7];
	int i;

	tl_use_backend(&lg, "cpg", 1, "batchkeys");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(central_log_defer_inserts(db, 64, on_outcome, &o), 0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	tb_chain_init(&d, "plant-b", "gw-01", 1);
	for (i = 0; i < 4; i++)
		j[i] = tb_chain_next(&c, NULL);
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(store(db, j[i]), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(o.n, 0);
	ck_assert_int_eq(central_log_commit(db), 0);
	ck_assert_int_eq(o.n, 4);
	k5 = tb_chain_next(&c, &s);
	k6 = tb_chain_next(&c, NULL);
	e1 = tb_chain_next(&d, &s);
	f3 = strdup(j[2]);
	memcpy(strstr(f3, "test alert"), "TEST", 4);
	f6 = strdup(k6);
	memcpy(strstr(f6, "test alert"), "TEST", 4);
	in[0] = k5;
	in[1] = j[1];
	in[2] = f3;
	in[3] = k6;
	in[4] = k5;
	in[5] = f6;
	in[6] = e1;
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(central_log_begin(db), 0);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(store(db, in[i]), CENTRAL_LOG_QUEUED);
	ck_assert_int_eq(o.n, 0);		/* one batch, at the commit */
	ck_assert_int_eq(central_log_commit(db), 0);
	ck_assert_int_eq(o.n, 7);
	for (i = 0; i < 7; i++) {
		ck_assert_msg(o.res[i] == want[i], "outcome %d: %d", i,
		    (int)o.res[i]);
		ck_assert_int_eq(o.seq[i], wseq[i]);
		ck_assert_str_eq(o.key[i], i == 6 ? "plant-b/gw-01" :
		    "plant-a/gw-01");
	}
	ck_assert_int_eq(alerts(db), 7);
	ck_assert_int_eq(counter(db, "stored"), 7);
	ck_assert_int_eq(counter(db, "duplicates"), 2);
	ck_assert_int_eq(counter(db, "conflicts"), 2);
	/* every row: the bytes that arrived first, ids in arrival order */
	central_log_filter_init(&f);
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(db, &f, collect_cols, &x), 0);
	ck_assert_int_eq(x.n, 7);
	for (i = 0; i < 7; i++) {
		const char *w = x.seq[i] <= 4 && strcmp(x.key[i],
		    "plant-a/gw-01") == 0 ? j[x.seq[i] - 1] :
		    strcmp(x.key[i], "plant-b/gw-01") == 0 ? e1 :
		    x.seq[i] == 5 ? k5 : k6;

		ck_assert_str_eq(x.raw[i], w);
	}
	f.ip = "10.9.9.9";
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(db, &f, collect_cols, &x), 0);
	ck_assert_int_eq(x.n, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_str_eq(x.tech[i], "(null)");
		ck_assert_str_eq(x.proto[i], "modbus");
		ck_assert_str_eq(x.src[i], "10.9.9.9");
		ck_assert_int_eq(x.sev[i], central_log_severity_rank("critical"));
		ck_assert_int_eq(x.sport[i], 49152);
		ck_assert_int_eq(x.dport[i], 102);
	}
	/* k5 arrived before e1: a lower id */
	ck_assert_str_eq(x.key[0], x.id[0] < x.id[1] ? "plant-a/gw-01" :
	    "plant-b/gw-01");
	ck_assert_int_eq(x.id[0] < x.id[1] ? x.seq[0] : x.seq[1], 5);
	for (i = 0; i < 4; i++)
		free(j[i]);
	free(k5);
	free(k6);
	free(e1);
	free(f3);
	free(f6);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/*
 * The end-to-end ack and the agent's reported last seq, kept per (site,
 * agent) as the maximum on both backends; verify reports a lost tail (the
 * stored chain ends before the reported seq) and stops once it arrives.
 */
START_TEST(test_acked_reported_seq)
{
	struct central_log *db;
	struct tb_chain c;
	struct vres v;
	int64_t x = -1;

	tl_use_backend(&lg, "cpg", _i, "ackrep");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	ck_assert_int_eq(central_log_acked(db, "plant-a", "gw-01", &x), 0);
	ck_assert_int_eq(x, 0);
	ck_assert_int_eq(central_log_set_acked(db, "plant-a", "gw-01", 7), 0);
	ck_assert_int_eq(central_log_set_acked(db, "plant-a", "gw-01", 5), 0);
	ck_assert_int_eq(central_log_acked(db, "plant-a", "gw-01", &x), 0);
	ck_assert_int_eq(x, 7);
	/* the same name at another site is another agent */
	ck_assert_int_eq(central_log_acked(db, "plant-b", "gw-01", &x), 0);
	ck_assert_int_eq(x, 0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	store_n(db, &c, 4, NULL);
	ck_assert_int_eq(central_log_set_reported(db, "plant-a", "gw-01", 6),
	    0);
	ck_assert_int_eq(central_log_set_reported(db, "plant-a", "gw-01", 3),
	    0);
	ck_assert_int_eq(central_log_reported(db, "plant-a", "gw-01", &x), 0);
	ck_assert_int_eq(x, 6);
	ck_assert_int_eq(verify(db, false, &v), 1);
	ck_assert_int_eq(v.kinds[CENTRAL_LOG_P_MISSING], 1);
	ck_assert_str_eq(v.first, "plant-a/gw-01 5 missing");
	store_n(db, &c, 2, NULL);
	ck_assert_int_eq(verify(db, false, &v), 0);
	ck_assert_int_eq(v.alerts, 6);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- verify --------------------------------------------------------------- */

START_TEST(test_verify_clean_and_tampered)
{
	struct central_log *db, *ro;
	struct tb_chain a, b;
	struct vres v;

	tl_use_backend(&lg, "cpg", _i, "verify");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	store_n(db, &a, 20, NULL);
	store_n(db, &b, 20, NULL);
	ro = tl_open(&lg, CENTRAL_LOG_RDONLY);
	ck_assert_int_eq(verify(ro, false, &v), 0);
	ck_assert_int_eq(v.chains, 2);
	ck_assert_int_eq(v.alerts, 40);

	/* content changed behind our back: found, by site and seq */
	tl_tamper(&lg, "UPDATE alerts SET raw = replace(raw, 'test alert 7',"
	    " 'test alert X') WHERE site = 'plant-b' AND seq = 7");
	/* the hash no longer matches, nor does the title column */
	ck_assert_int_eq(verify(ro, false, &v), 2);
	ck_assert_str_eq(v.first, "plant-b/gw-01 7 changed");
	ck_assert_int_eq(v.kinds[CENTRAL_LOG_P_CHANGED], 1);
	ck_assert_int_eq(v.kinds[CENTRAL_LOG_P_COLUMNS], 1);
	/* a row removed: a gap */
	tl_tamper(&lg,
	    "DELETE FROM alerts WHERE site = 'plant-a' AND seq = 11");
	ck_assert_int_eq(verify(ro, false, &v), 3);
	ck_assert_int_eq(v.kinds[CENTRAL_LOG_P_MISSING], 1);
	central_log_close(ro);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

START_TEST(test_verify_incremental)
{
	struct central_log *db;
	struct tb_chain a, b;
	struct vres v;

	tl_use_backend(&lg, "cpg", _i, "vinc");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-a", "gw-02", 1);
	store_n(db, &a, 30, NULL);
	store_n(db, &b, 30, NULL);
	ck_assert_int_eq(verify(db, true, &v), 0);
	ck_assert_int_eq(v.alerts, 60);
	/* nothing new: nothing read */
	ck_assert_int_eq(verify(db, true, &v), 0);
	ck_assert_int_eq(v.alerts, 0);
	ck_assert_int_eq(v.chains, 0);
	store_n(db, &a, 5, NULL);
	ck_assert_int_eq(verify(db, true, &v), 0);
	ck_assert_int_eq(v.alerts, 5);
	ck_assert_int_eq(v.chains, 1);
	/* the link from the checkpoint is still checked */
	store_n(db, &a, 1, NULL);
	tl_tamper(&lg, "UPDATE alerts SET prev_hash = hash, raw = raw"
	    " WHERE site = 'plant-a' AND agent = 'gw-01' AND seq = 36");
	ck_assert_int_eq(verify(db, true, &v), 1);
	ck_assert_str_eq(v.first, "plant-a/gw-01 36 changed");
	/* an old alert changed: only the full walk reads it again */
	tl_tamper(&lg, "UPDATE alerts SET raw = replace(raw, 'test alert 3',"
	    " 'test alert Y') WHERE agent = 'gw-02' AND seq = 3");
	ck_assert_int_eq(verify(db, true, &v), 1);	/* still 36 only */
	ck_assert_int_eq(verify(db, false, &v), 3);	/* + hash, title */
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- queries ------------------------------------------------------------- */

START_TEST(test_query_filters)
{
	struct tb_alert_spec s7 = { "critical", "s7.plc_stop", "T0858",
	    "s7comm", "10.9.9.9", "10.2.0.10" };
	struct tb_alert_spec mb = { "medium", "modbus.write", "T0855",
	    "modbus", "10.1.1.1", "10.2.0.20" };
	struct tb_alert_spec lo = { "low", "net.new_host", "", "arp",
	    "10.3.3.3", "10.3.3.4" };
	struct central_log_filter f;
	struct central_log *db, *ro;
	struct tb_chain a, b;
	struct rows x;

	tl_use_backend(&lg, "cpg", _i, "query");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	store_n(db, &a, 3, &s7);	/* a seq 1-3 */
	store_n(db, &a, 5, &mb);	/* a seq 4-8 */
	store_n(db, &b, 4, &lo);	/* b seq 1-4 */
	store_n(db, &b, 2, &s7);	/* b seq 5-6 */
	ro = tl_open(&lg, CENTRAL_LOG_RDONLY);

	central_log_filter_init(&f);
	ck_assert_int_eq(query_n(ro, &f), 14);
	f.agent = "gw-01";
	ck_assert_int_eq(query_n(ro, &f), 14);
	f.site = "plant-b";
	ck_assert_int_eq(query_n(ro, &f), 6);
	central_log_filter_init(&f);
	f.site = "plant-?";
	ck_assert_int_eq(query_n(ro, &f), 14);
	f.site = "plant-[^a]";		/* SQLite GLOB's negated class */
	ck_assert_int_eq(query_n(ro, &f), 6);
	central_log_filter_init(&f);
	f.detector = "s7.*";
	ck_assert_int_eq(query_n(ro, &f), 5);
	f.detector = "modbus.write";
	ck_assert_int_eq(query_n(ro, &f), 5);
	f.detector = "%";		/* LIKE's wildcard is a plain character */
	ck_assert_int_eq(query_n(ro, &f), 0);
	central_log_filter_init(&f);
	f.technique = "T0858";
	ck_assert_int_eq(query_n(ro, &f), 5);
	f.technique = "T08*";
	ck_assert_int_eq(query_n(ro, &f), 10);
	central_log_filter_init(&f);
	f.ip = "10.2.0.10";		/* destination */
	ck_assert_int_eq(query_n(ro, &f), 5);
	f.ip = "10.1.1.1";		/* source */
	ck_assert_int_eq(query_n(ro, &f), 5);
	central_log_filter_init(&f);
	f.proto = "arp";
	ck_assert_int_eq(query_n(ro, &f), 4);
	central_log_filter_init(&f);
	f.min_sev = central_log_severity_rank("medium");
	ck_assert_int_eq(query_n(ro, &f), 10);
	f.min_sev = central_log_severity_rank("critical");
	ck_assert_int_eq(query_n(ro, &f), 5);
	/* time: tb_chain puts seq n at base + n seconds */
	central_log_filter_init(&f);
	f.since_us = a.base_us + 4 * 1000000;
	f.until_us = a.base_us + 6 * 1000000;
	ck_assert_int_eq(query_n(ro, &f), 4);	/* seq 4, 5 of both */
	/* the latest n, oldest first */
	central_log_filter_init(&f);
	f.site = "plant-a";
	f.limit = 3;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_query(ro, &f, collect, &x), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(x.seq[0], 6);
	ck_assert_int_eq(x.seq[2], 8);
	central_log_close(ro);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* tail: the last n, then only what is new (by id) */
START_TEST(test_follow_by_id)
{
	struct central_log_filter f;
	struct central_log *db, *ro;
	struct tb_chain a;
	struct rows x;
	int64_t last = -1;

	tl_use_backend(&lg, "cpg", _i, "follow");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	store_n(db, &a, 10, NULL);
	ro = tl_open(&lg, CENTRAL_LOG_RDONLY);
	central_log_filter_init(&f);
	f.limit = 4;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(ro, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 4);
	ck_assert_int_eq(x.seq[0], 7);
	f.limit = 0;
	f.after_id = last;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(ro, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 0);
	store_n(db, &a, 3, NULL);
	f.after_id = last;
	ck_assert_int_eq(central_log_follow(ro, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 3);
	ck_assert_int_eq(x.seq[0], 11);
	ck_assert_int_eq(x.seq[2], 13);
	f.after_id = last;
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(central_log_follow(ro, &f, collect, &x, &last), 0);
	ck_assert_int_eq(x.n, 0);
	central_log_close(ro);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- schema, retention ------------------------------------------------------ */

START_TEST(test_other_schema_version)
{
	struct central_log *db;
	char err[512];
	int rc;

	tl_use_backend(&lg, "cpg", _i, "schema");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	central_log_close(db);
	tl_tamper(&lg, lg.backend == 1 ?
	    "UPDATE icsentry_schema SET version = 99" :
	    "PRAGMA user_version = 99");
	db = NULL;
	rc = central_log_open(lg.path, CENTRAL_LOG_RDWR,
	    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(err, "schema version 99") != NULL, "%s", err);
	rc = central_log_open(lg.path, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_msg(strstr(err, "99") != NULL, "%s", err);
	/* the commands say so and exit 1 (a runtime failure, DESIGN.md) */
	{
		char bin[300], out[320], *text;
		char *argv[] = { bin, (char *)"stats", (char *)"--db", lg.path,
		    NULL };
		char *cargv[] = { bin, (char *)"--db", lg.path,
		    (char *)"--mqtt", (char *)"tcp://127.0.0.1:1",
		    (char *)"--client-id",
		    (char *)"schema-test", NULL };

		snprintf(out, sizeof(out), "%s/cli.out", lg.dir);
		tb_build_path(bin, sizeof(bin), "icsentry-log");
		ck_assert_int_eq(tb_run(argv, out, 20000), 1);
		tb_build_path(bin, sizeof(bin), "icsentry-collector");
		ck_assert_int_eq(tb_run(cargv, out, 20000), 1);
		text = tb_read_file(out, NULL);
		ck_assert_ptr_nonnull(text);
		ck_assert_int_eq(tb_file_count(out, "schema version 99"), 2);
		free(text);
	}
	tl_done(&lg);
}
END_TEST

/* ts of the next alert of c: exactly at us */
static void
next_at(struct tb_chain *c, int64_t us)
{
	c->base_us = us - c->next_seq * 1000000 - 123456;
}

START_TEST(test_retention)
{
	struct central_log *db;
	struct tb_chain a, b;
	struct vres v;
	int64_t removed = -1, cut, m1, m2, m3;
	struct tm tm = { .tm_year = 126, .tm_mon = 8, .tm_mday = 1 };

	tl_use_backend(&lg, "cpg", _i, "retain");
	m1 = (int64_t)timegm(&tm) * 1000000;		/* 2026-09-01 */
	tm.tm_mon = 9;
	m2 = (int64_t)timegm(&tm) * 1000000;		/* 2026-10-01 */
	tm.tm_mon = 10;
	m3 = (int64_t)timegm(&tm) * 1000000;		/* 2026-11-01 */
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	/* 10 alerts a day for the first 3 days of three months, 2 agents */
	for (int m = 0; m < 3; m++)
		for (int d = 0; d < 3; d++)
			for (int k = 0; k < 5; k++) {
				int64_t t = (m == 0 ? m1 : m == 1 ? m2 : m3) +
				    (int64_t)d * 86400000000LL +
				    (int64_t)k * 60000000LL;

				next_at(&a, t);
				store_n(db, &a, 1, NULL);
				next_at(&b, t);
				store_n(db, &b, 1, NULL);
			}
	ck_assert_int_eq(alerts(db), 90);
	if (lg.backend == 1)
		ck_assert_int_ge(tp_pg_value(&lg.pg, lg.dbname,
		    "SELECT count(*) FROM pg_inherits"
		    " WHERE inhparent = 'alerts'::regclass"), 3);
	/* "2m" at 2026-11-20: keeps October and November */
	ck_assert_int_eq(central_log_retention_cutoff("2m",
	    m3 + 19 * 86400000000LL, &cut), 0);
	ck_assert_int_eq(cut, m2);
	ck_assert_int_eq(central_log_retain(db, cut, &removed), 0);
	ck_assert_int_eq(removed, 30);
	ck_assert_int_eq(alerts(db), 60);
	if (lg.backend == 1)
		ck_assert_int_eq(tp_pg_value(&lg.pg, lg.dbname,
		    "SELECT count(*) FROM pg_class"
		    " WHERE relname = 'alerts_2026_09'"), 0);
	/* by days: everything before the 2nd day of November */
	ck_assert_int_eq(central_log_retention_cutoff("19d",
	    m3 + 20 * 86400000000LL, &cut), 0);
	ck_assert_int_eq(cut, m3 + 86400000000LL);
	ck_assert_int_eq(central_log_retain(db, cut, &removed), 0);
	ck_assert_int_eq(removed, 40);		/* October, Nov 1 */
	ck_assert_int_eq(alerts(db), 20);
	ck_assert_int_eq(counter(db, "retention_removed"), 70);
	/* the kept chains start at their anchors: verify is clean */
	ck_assert_int_eq(verify(db, false, &v), 0);
	ck_assert_int_eq(v.chains, 2);
	ck_assert_int_eq(v.alerts, 20);
	/* and a gap after the anchor is still a gap */
	tl_tamper(&lg,
	    "DELETE FROM alerts WHERE site = 'plant-a' AND seq = 36");
	ck_assert_int_eq(verify(db, false, &v), 1);
	ck_assert_int_eq(v.kinds[CENTRAL_LOG_P_MISSING], 1);
	ck_assert_int_ne(central_log_retention_cutoff("12", 0, &cut), 0);
	ck_assert_int_ne(central_log_retention_cutoff("0d", 0, &cut), 0);
	ck_assert_int_ne(central_log_retention_cutoff("3w", 0, &cut), 0);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- the collector on each backend ------------------------------------------ */

struct coll {
	pid_t	pid;
	char	conf[320], out[320], id[32];
};

static void
coll_conf(struct coll *c, int n, const char *uri, const char *db)
{
	FILE *f;

	snprintf(c->id, sizeof(c->id), "coll-%d", n);
	snprintf(c->conf, sizeof(c->conf), "%s/%s.conf", lg.dir, c->id);
	snprintf(c->out, sizeof(c->out), "%s/%s.out", lg.dir, c->id);
	f = fopen(c->conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s\nfsync = false\n"
	    "persist_dir = %s/%s.mqtt\n"
	    "[mqtt]\nuri = %s\nclient_id = %s\nreconnect_max = 1\n"
	    "shared_subscription = true\n", db, lg.dir, c->id, uri, c->id);
	ck_assert_int_eq(fclose(f), 0);
}

static void
coll_start(struct coll *c, int nth)
{
	char bin[300];
	char *argv[] = { bin, (char *)"-c", c->conf, NULL };

	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	c->pid = tb_spawn(argv, c->out);
	ck_assert_int_gt(c->pid, 0);
	ck_assert_msg(tb_wait_file_count(c->out, "subscribed", nth, 15000) ==
	    0, "collector did not subscribe; see %s", c->out);
}

static void
coll_stop(struct coll *c)
{
	int st = -1;

	if (c->pid <= 0)
		return;
	ck_assert_int_eq(tb_stop_pid(c->pid, SIGTERM, 8000, &st), 0);
	c->pid = 0;
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}

static struct tb_client *
publisher(const char *uri, const char *id)
{
	struct tb_client_opts o = { .uri = uri, .client_id = id, .clean = 1 };
	struct tb_client *c = tb_client_new(&o);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(tb_client_connect(c, 5000), 0);
	return c;
}

static void
publish_n(struct tb_client *cl, struct tb_chain *c, int n)
{
	char topic[192];
	int i;

	snprintf(topic, sizeof(topic), "icsentry/%s/%s/alert/high", c->site,
	    c->agent);
	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(c, NULL);

		ck_assert_int_eq(tb_client_publish(cl, topic, j,
		    (int)strlen(j), 1, 0, 5000), 0);
		free(j);
	}
}

/* Poll a fresh read-only view until n alerts are stored; the count. */
static int64_t
wait_alerts(int64_t n, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms, have = -1;
	struct central_log *db = NULL;
	char err[512];

	for (;;) {
		if (db == NULL)
			central_log_open(lg.path, CENTRAL_LOG_RDONLY,
			    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err));
		if (db != NULL && central_log_alert_count(db, &have) != 0) {
			central_log_close(db);
			db = NULL;
		}
		if (have >= n || tb_now_ms() > end)
			break;
		tb_sleep_ms(100);
	}
	central_log_close(db);
	return have;
}

START_TEST(test_two_collectors)
{
	struct tb_broker b;
	struct coll c1, c2;
	struct tb_chain ch[8];
	struct tb_client *pub;
	struct central_log *db;
	struct vres v;
	char uri[64], name[16];
	int i;

	tl_use_backend(&lg, "cpg", _i, "twocoll");
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, uri, sizeof(uri));
	coll_conf(&c1, 1, uri, lg.path);
	coll_conf(&c2, 2, uri, lg.path);
	coll_start(&c1, 1);
	coll_start(&c2, 1);
	pub = publisher(uri, "sim-gws");
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "gw-%02d", i);
		tb_chain_init(&ch[i], i % 2 ? "plant-b" : "plant-a", name, 1);
	}
	for (int r = 0; r < 25; r++)
		for (i = 0; i < 8; i++)
			publish_n(pub, &ch[i], 10);
	ck_assert_int_eq(wait_alerts(2000, 60000), 2000);
	coll_stop(&c1);
	coll_stop(&c2);
	/* shared between the two (shared subscription): none twice, no gap */
	db = tl_open(&lg, CENTRAL_LOG_RDONLY);
	ck_assert_int_eq(alerts(db), 2000);
	ck_assert_int_eq(counter(db, "stored"), 2000);
	ck_assert_int_eq(verify(db, false, &v), 0);
	ck_assert_int_eq(v.chains, 8);
	central_log_close(db);
	tb_client_free(pub);
	tb_broker_cleanup(&b);
	tl_done(&lg);
}
END_TEST

/* PostgreSQL only: the server away at start, and restarted meanwhile. */
START_TEST(test_pg_unreachable_at_start)
{
	struct tb_broker b;
	struct coll c;
	struct tb_chain ch;
	struct tb_client *pub;
	char uri[64], bad[128], bin[300];
	char *argv[] = { bin, (char *)"-c", c.conf, NULL };
	int64_t t0;
	int st;

	tl_use_backend(&lg, "cpg", 1, "unreach");
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, uri, sizeof(uri));
	/* a session exists (the collector ran once), then alerts queue */
	coll_conf(&c, 1, uri, lg.path);
	coll_start(&c, 1);
	coll_stop(&c);
	pub = publisher(uri, "sim-gw");
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(pub, &ch, 20);
	/* nothing listens there */
	snprintf(bad, sizeof(bad), "postgresql://postgres@127.0.0.1:%d/x",
	    tb_free_port());
	coll_conf(&c, 1, uri, bad);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	t0 = tb_now_ms();
	st = tb_run(argv, c.out, 30000);
	ck_assert_int_eq(st, 1);
	ck_assert_int_lt(tb_now_ms() - t0, 20000);
	ck_assert_int_eq(tb_file_count(c.out, "cannot connect"), 1);
	ck_assert_int_eq(tb_file_count(c.out, "subscribed"), 1);	/* run 1 */
	/* nothing was taken from the broker: the right log gets it all */
	coll_conf(&c, 1, uri, lg.path);
	coll_start(&c, 2);
	ck_assert_int_eq(wait_alerts(20, 20000), 20);
	coll_stop(&c);
	tb_client_free(pub);
	tb_broker_cleanup(&b);
	tl_done(&lg);
}
END_TEST

START_TEST(test_pg_restart_while_collecting)
{
	struct tb_broker b;
	struct coll c;
	struct tb_chain ch;
	struct tb_client *pub;
	struct central_log *db;
	struct vres v;
	char uri[64];

	tl_use_backend(&lg, "cpg", 1, "restart");
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, uri, sizeof(uri));
	coll_conf(&c, 1, uri, lg.path);
	coll_start(&c, 1);
	pub = publisher(uri, "sim-gw");
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(pub, &ch, 50);
	ck_assert_int_eq(wait_alerts(50, 20000), 50);
	/* the server goes away; alerts keep coming and must wait */
	ck_assert_int_eq(tp_pg_stop(&lg.pg), 0);
	publish_n(pub, &ch, 50);
	ck_assert_int_eq(tb_wait_file_contains(c.out, "cannot store", 15000),
	    0);
	ck_assert_int_eq(tp_pg_restart(&lg.pg), 0);
	/* what waited arrives, once, in order, with nothing more sent */
	ck_assert_int_eq(wait_alerts(100, 30000), 100);
	coll_stop(&c);
	db = tl_open(&lg, CENTRAL_LOG_RDONLY);
	ck_assert_msg(verify(db, false, &v) == 0, "%d problems, first %s",
	    v.problems, v.first);
	ck_assert_int_eq(alerts(db), 100);
	ck_assert_int_eq(v.alerts, 100);
	ck_assert_int_eq(counter(db, "stored"), 100);
	central_log_close(db);
	tb_client_free(pub);
	tb_broker_cleanup(&b);
	tl_done(&lg);
}
END_TEST

/* icsentry-log prints the same on both backends. */
START_TEST(test_log_cli_same_output)
{
	struct tb_alert_spec s7 = { "critical", "s7.plc_stop", "T0858",
	    "s7comm", "10.9.9.9", "10.2.0.10" };
	static const char *const cmds[][4] = {
		{ "query", "--detector", "s7.*", NULL },
		{ "query", "--agent", "plant-b/gw-01", "--csv" },
		{ "stats", NULL, NULL, NULL },
		{ "verify", NULL, NULL, NULL },
	};
	char *out[2][4], bin[300], o[340];
	struct central_log *db;
	struct tb_chain a, b;
	size_t k;

	for (int i = 0; i < 2; i++) {
		tl_use_backend(&lg, "cpg", i, "cli");
		db = tl_open(&lg, CENTRAL_LOG_RDWR);
		tb_chain_init(&a, "plant-a", "gw-01", 1);
		tb_chain_init(&b, "plant-b", "gw-01", 1);
		store_n(db, &a, 4, NULL);
		store_n(db, &b, 3, &s7);
		central_log_close(db);
		for (k = 0; k < 4; k++) {
			char *argv[] = { bin, (char *)cmds[k][0],
			    (char *)"--db", lg.path, (char *)cmds[k][1],
			    (char *)cmds[k][2], (char *)cmds[k][3], NULL };

			tb_build_path(bin, sizeof(bin), "icsentry-log");
			snprintf(o, sizeof(o), "%s/out%zu", lg.dir, k);
			ck_assert_int_eq(tb_run(argv, o, 20000), 0);
			out[i][k] = tb_read_file(o, NULL);
			ck_assert_ptr_nonnull(out[i][k]);
		}
		tl_done(&lg);
	}
	for (k = 0; k < 4; k++) {
		if (k == 2) {
			/* stats: equal up to the agents' last-seen times */
			char *e0 = strstr(out[0][k], "agents:\n");
			char *e1 = strstr(out[1][k], "agents:\n");

			ck_assert_ptr_nonnull(e0);
			ck_assert_ptr_nonnull(e1);
			*e0 = *e1 = '\0';
			ck_assert_str_eq(out[0][k], out[1][k]);
			ck_assert_ptr_nonnull(strstr(out[1][k],
			    "  critical 3\n  high 4\n"));
			ck_assert_ptr_nonnull(strstr(out[1][k],
			    "  plant-a/gw-01 4\n  plant-b/gw-01 3\n"));
		} else {
			ck_assert_str_eq(out[0][k], out[1][k]);
		}
		free(out[0][k]);
		free(out[1][k]);
	}
}
END_TEST

/* ---- the built queries use the index of the filter given ------------------ */

/* The plan of q: SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN. */
static void
plan_of(const struct clog_sql *q, char *out, size_t len)
{
	char text[2200], vals[CLOG_Q_MAXPARAM][24];
	const char *v[CLOG_Q_MAXPARAM];
	size_t n = 0;
	int i;

	out[0] = '\0';
	snprintf(text, sizeof(text), "EXPLAIN %s%s", lg.backend == 0 ?
	    "QUERY PLAN " : "", q->text);
	if (lg.backend == 0) {
		sqlite3 *h;
		sqlite3_stmt *st;

		ck_assert_int_eq(sqlite3_open(lg.path, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(h, text, -1, &st, NULL),
		    SQLITE_OK);
		for (i = 0; i < q->nparams; i++)
			if (q->p[i].is_text)
				sqlite3_bind_text(st, i + 1, q->p[i].s, -1,
				    SQLITE_STATIC);
			else
				sqlite3_bind_int64(st, i + 1, q->p[i].i);
		while (sqlite3_step(st) == SQLITE_ROW && n + 2 < len)
			n += (size_t)snprintf(out + n, len - n, "%s\n",
			    (const char *)sqlite3_column_text(st, 3));
		sqlite3_finalize(st);
		sqlite3_close(h);
		return;
	} else {
		char uri[300];
		PGconn *c = PQconnectdb(tp_pg_uri(&lg.pg, lg.dbname, uri,
		    sizeof(uri)));
		PGresult *r;

		ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
		/* the question is whether the filter CAN use its index: a few
		 * rows would make a sequential scan cheaper */
		PQclear(PQexec(c, "SET enable_seqscan = off"));
		for (i = 0; i < q->nparams; i++) {
			if (q->p[i].is_text)
				v[i] = q->p[i].s;
			else {
				snprintf(vals[i], sizeof(vals[i]), "%lld",
				    (long long)q->p[i].i);
				v[i] = vals[i];
			}
		}
		r = PQexecParams(c, text, q->nparams, NULL, v, NULL, NULL, 0);
		ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s",
		    text, PQerrorMessage(c));
		for (i = 0; i < PQntuples(r) && n + 2 < len; i++)
			n += (size_t)snprintf(out + n, len - n, "%s\n",
			    PQgetvalue(r, i, 0));
		PQclear(r);
		PQfinish(c);
	}
}

START_TEST(test_plans_use_indexes)
{
	static const struct {
		const char *what, *sqlite, *pg;
	} want[] = {
		{ "agent", "alerts_agent", "_agent_" },
		{ "detector", "alerts_detector", "_detector_" },
		{ "detector glob", "alerts_detector", "_detector_" },
		{ "technique", "alerts_technique", "_technique_" },
		{ "ip", "alerts_src", "_src_ip_" },
		{ "ip (dst)", "alerts_dst", "_dst_ip_" },
		{ "min_sev", "alerts_sev", "_sev_" },
		{ "time", "alerts_ts", "_ts_us_" },
		{ "proto", "alerts_proto", "_proto_" },
		{ "after id", "INTEGER PRIMARY KEY", "_id_" },
	};
	struct central_log_filter f;
	struct central_log *db;
	struct tb_chain a;
	struct clog_sql q;
	char plan[4096];
	size_t k;

	tl_use_backend(&lg, "cpg", _i, "plans");
	db = tl_open(&lg, CENTRAL_LOG_RDWR);
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	store_n(db, &a, 20, NULL);
	central_log_close(db);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		central_log_filter_init(&f);
		switch (k) {
		case 0: f.agent = "gw-01"; break;
		case 1: f.detector = "s7.plc_stop"; break;
		case 2: f.detector = "s7.*"; break;
		case 3: f.technique = "T0858"; break;
		case 4: case 5: f.ip = "10.0.0.66"; break;
		case 6: f.min_sev = 4; break;
		case 7: f.since_us = a.base_us; f.until_us = a.base_us + 5000000;
			break;
		case 8: f.proto = "s7comm"; break;
		case 9: f.after_id = 10; break;
		}
		ck_assert_int_eq(clog_query_build(&q,
		    lg.backend == 0 ? CLOG_SQLITE : CLOG_PG,
		    k == 9 ? CLOG_Q_FOLLOW : CLOG_Q_QUERY,
		    "id, agent, seq, site, ts_us", "alerts", &f), 0);
		/* never the old "(? IS NULL OR col GLOB ?)" */
		ck_assert_ptr_null(strstr(q.text, "IS NULL"));
		plan_of(&q, plan, sizeof(plan));
		ck_assert_msg(strstr(plan, lg.backend == 0 ? want[k].sqlite :
		    want[k].pg) != NULL, "%s: %s\nplan:\n%s", want[k].what,
		    q.text, plan);
		if (lg.backend == 1)
			ck_assert_msg(strstr(plan, "Seq Scan") == NULL,
			    "%s: %s", want[k].what, plan);
		else
			ck_assert_msg(strstr(plan, "SCAN alerts\n") == NULL,
			    "%s: %s", want[k].what, plan);
	}
	tl_done(&lg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("central_pg");
	TCase *tc;

	tc = tcase_create("plans_use_indexes");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_plans_use_indexes, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("store_duplicate_conflict");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_store_duplicate_conflict, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("batch_transaction");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_batch_transaction, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("verify_clean_and_tampered");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_verify_clean_and_tampered, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("verify_incremental");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_verify_incremental, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("query_filters");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_query_filters, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("follow_by_id");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_follow_by_id, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("other_schema_version");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_other_schema_version, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("retention");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_retention, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("log_cli_same_output");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_log_cli_same_output);
	suite_add_tcase(s, tc);
	tc = tcase_create("two_collectors");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_two_collectors, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("pg_unreachable_at_start");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_pg_unreachable_at_start);
	suite_add_tcase(s, tc);
	tc = tcase_create("acked_reported_seq");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_acked_reported_seq, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("deferred_inserts");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_deferred_inserts);
	tcase_add_test(tc, test_deferred_batch_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("pg_restart_while_collecting");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_pg_restart_while_collecting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_main(&lg, suite());
}
