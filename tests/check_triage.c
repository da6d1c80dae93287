/*
 * check_triage.c - triage (broker/clog_triage.h) on both backends: a real
 * SQLite file and a real PostgreSQL server (tests/testutil_pg.h).  Every
 * test is a loop test: _i == 0 SQLite, _i == 1 PostgreSQL, with the same
 * assertions.  Tampering is done behind the program's back, with sqlite3
 * and libpq directly, and must be caught by clog_triage_verify() and by
 * `icsentry-log verify`.
 */
#include <check.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_triage.h"
#include "lib/chain.h"
#include "lib/ids.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_log.h"
#include "tests/testutil_pg.h"

static struct tl_log lg;

static struct central_log *
open_log(enum central_log_mode m)
{
	struct central_log *db = tl_open(&lg, m);

	if (m == CENTRAL_LOG_RDWR)
		ck_assert_msg(clog_triage_schema(db) == 0, "schema: %s",
		    clog_triage_errmsg());
	return db;
}

/* Store the next alert of c; received at received_us (0: now). */
static void
store(struct central_log *db, struct tb_chain *c,
    const struct tb_alert_spec *spec, int64_t received_us)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[128];
	char *j = tb_chain_next(c, spec);

	ck_assert_msg(central_log_alert_parse(j, strlen(j), &a, why,
	    sizeof(why)) == 0, "parse: %s", why);
	ck_assert_msg(central_log_insert(db, &a, j, strlen(j),
	    received_us != 0 ? received_us : central_log_now_us(), &res) == 0,
	    "insert: %s", central_log_errmsg(db));
	ck_assert_int_eq(res, CENTRAL_LOG_NEW);
	central_log_alert_free(&a);
	free(j);
}

/* Store the next alert and file it into an incident (as the collector). */
static int64_t
store_inc(struct central_log *db, struct tb_chain *c,
    const struct tb_alert_spec *spec, int64_t window_s)
{
	struct central_log_alert a;
	enum central_log_stored res;
	char why[128];
	char *j = tb_chain_next(c, spec);
	int64_t inc = -1;

	ck_assert_int_eq(central_log_alert_parse(j, strlen(j), &a, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(central_log_begin(db), 0);
	ck_assert_int_eq(central_log_insert(db, &a, j, strlen(j),
	    central_log_now_us(), &res), 0);
	ck_assert_int_eq(res, CENTRAL_LOG_NEW);
	ck_assert_msg(clog_incident_add(db, &a, window_s, &inc) == 0,
	    "incident: %s", clog_triage_errmsg());
	ck_assert_int_eq(central_log_commit(db), 0);
	central_log_alert_free(&a);
	free(j);
	return inc;
}

/* ---- triage actions and the audit chain ---------------------------------- */

struct audit_list {
	int		n;
	int64_t		id[16];
	char		action[16][16], target[16][64], user[16][32];
	char		text[16][64], prev[16][65], hash[16][65];
};

static int
audit_cb(void *ctx, const struct clog_audit_row *r)
{
	struct audit_list *l = ctx;

	ck_assert_int_lt(l->n, 16);
	l->id[l->n] = r->id;
	snprintf(l->action[l->n], 16, "%s", r->action);
	snprintf(l->target[l->n], 64, "%s", r->target);
	snprintf(l->user[l->n], 32, "%s", r->user);
	snprintf(l->text[l->n], 64, "%s", r->text);
	snprintf(l->prev[l->n], 65, "%s", r->prev_hash);
	snprintf(l->hash[l->n], 65, "%s", r->hash);
	l->n++;
	return 0;
}

struct states {
	int	n;
	int64_t	seq[16];
	char	state[16][16], user[16][72];
};

static int
state_cb(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	struct states *s = ctx;

	ck_assert_int_lt(s->n, 16);
	s->seq[s->n] = r->seq;
	snprintf(s->state[s->n], 16, "%s", t->state);
	snprintf(s->user[s->n], 72, "%s", t->user);
	s->n++;
	return 0;
}

struct problems {
	int	n;
	char	line[16][512];
};

static int
problem_cb(void *ctx, const char *line)
{
	struct problems *p = ctx;

	if (p->n < 16)
		snprintf(p->line[p->n], 512, "%s", line);
	p->n++;
	return 0;
}

static bool
has_problem(const struct problems *p, const char *a, const char *b)
{
	int i;

	for (i = 0; i < p->n && i < 16; i++)
		if (strstr(p->line[i], a) != NULL &&
		    (b == NULL || strstr(p->line[i], b) != NULL))
			return true;
	return false;
}

/* Three alerts; ack 2 (alice), note on 2 (bob), close 3 (alice). */
static struct central_log *
setup_three(int i, const char *tag)
{
	struct central_log *db;
	struct tb_chain c;
	char err[256];
	int k;

	tl_use_backend(&lg, "tri", i, tag);
	db = open_log(CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (k = 0; k < 3; k++)
		store(db, &c, NULL, 0);
	ck_assert_msg(clog_triage(db, "plant-a", "gw-01", 2, "ack", "alice",
	    NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(clog_triage(db, "plant-a", "gw-01", 2, "note", "bob",
	    "called operations: planned stop", err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_msg(clog_triage(db, "plant-a", "gw-01", 3, "close", "alice",
	    "false positive", err, sizeof(err)) == 0, "%s", err);
	return db;
}

static void
verify(struct central_log *db, struct problems *p, int64_t want_entries)
{
	int64_t entries = -1, n = -1;

	memset(p, 0, sizeof(*p));
	ck_assert_msg(clog_triage_verify(db, problem_cb, p, &entries, &n) == 0,
	    "verify: %s", clog_triage_errmsg());
	ck_assert_int_eq(n, p->n);
	if (want_entries >= 0)
		ck_assert_int_eq(entries, want_entries);
}

START_TEST(test_actions_and_chain)
{
	const char *tag[] = { "sqlite", "actions" };
	struct central_log *db = setup_three(_i, tag[_i]);
	struct central_log_filter f;
	struct clog_triage_info t;
	struct audit_list l;
	struct states s;
	struct problems p;
	char err[256];
	int k;

	/* state of each alert */
	ck_assert_int_eq(clog_triage_get(db, "plant-a", "gw-01", 1, &t), 0);
	ck_assert_str_eq(t.state, "new");
	ck_assert_str_eq(t.user, "");
	ck_assert_int_eq(clog_triage_get(db, "plant-a", "gw-01", 2, &t), 0);
	ck_assert_str_eq(t.state, "acked");
	ck_assert_str_eq(t.user, "alice");	/* a note leaves the state */
	ck_assert_int_eq(strlen(t.at), 27);
	ck_assert_int_eq(clog_triage_get(db, "plant-a", "gw-01", 3, &t), 0);
	ck_assert_str_eq(t.state, "closed");

	/* refused: no such alert, unknown action, note without text, no user */
	ck_assert_int_eq(clog_triage(db, "plant-a", "gw-01", 99, "ack",
	    "alice", NULL, err, sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "no alert plant-a/gw-01/99 is stored");
	ck_assert_int_eq(clog_triage(db, "plant-a", "gw-01", 1, "delete",
	    "alice", NULL, err, sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "unknown action 'delete' (ack, close, note, "
	    "reopen)");
	ck_assert_int_eq(clog_triage(db, "plant-a", "gw-01", 1, "note",
	    "alice", "", err, sizeof(err)), IDS_EINVAL);
	ck_assert_int_eq(clog_triage(db, "plant-a", "gw-01", 1, "ack",
	    "", NULL, err, sizeof(err)), IDS_EINVAL);

	/* queries carry the state; a state filter */
	central_log_filter_init(&f);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(clog_triage_query(db, &f, NULL, state_cb, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.state[0], "new");
	ck_assert_str_eq(s.state[1], "acked");
	ck_assert_str_eq(s.state[2], "closed");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(clog_triage_query(db, &f, "acked", state_cb, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.seq[0], 2);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(clog_triage_query(db, &f, "new", state_cb, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.seq[0], 1);

	/* the audit trail: 3 entries, chained from the genesis */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_triage_audit(db, NULL, NULL, 0, audit_cb, &l), 0);
	ck_assert_int_eq(l.n, 3);
	ck_assert_str_eq(l.action[0], "ack");
	ck_assert_str_eq(l.action[1], "note");
	ck_assert_str_eq(l.action[2], "close");
	ck_assert_str_eq(l.target[1], "plant-a/gw-01/2");
	ck_assert_str_eq(l.user[1], "bob");
	ck_assert_str_eq(l.text[1], "called operations: planned stop");
	ck_assert_str_eq(l.prev[0], CHAIN_GENESIS);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(l.id[k], k + 1);
		if (k > 0)
			ck_assert_str_eq(l.prev[k], l.hash[k - 1]);
	}
	/* one entry's hash recomputed here, by the documented formula */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_triage_audit(db, "alert", "plant-a/gw-01/3", 0,
	    audit_cb, &l), 0);
	ck_assert_int_eq(l.n, 1);
	/* limit keeps the last */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_triage_audit(db, NULL, NULL, 2, audit_cb, &l), 0);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.id[0], 2);

	verify(db, &p, 3);
	ck_assert_msg(p.n == 0, "clean trail reported: %s", p.line[0]);

	/* reopen, then verify again: 4 entries, clean */
	ck_assert_int_eq(clog_triage(db, "plant-a", "gw-01", 3, "reopen",
	    "carol", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(clog_triage_get(db, "plant-a", "gw-01", 3, &t), 0);
	ck_assert_str_eq(t.state, "open");
	verify(db, &p, 4);
	ck_assert_int_eq(p.n, 0);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

START_TEST(test_tamper_edit)
{
	const char *tag[] = { "sqlite", "tamper_edit" };
	struct central_log *db = setup_three(_i, tag[_i]);
	struct problems p;

	tl_tamper(&lg,
	    "UPDATE triage_audit SET text = 'nothing to see' WHERE id = 2");
	verify(db, &p, 3);
	ck_assert_msg(p.n == 1, "%d problems: %s", p.n, p.line[0]);
	ck_assert_str_eq(p.line[0], "audit entry 2 (note alert "
	    "plant-a/gw-01/2 by bob): hash does not match its content (the "
	    "entry was edited)");
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

START_TEST(test_tamper_delete_middle)
{
	const char *tag[] = { "sqlite", "tamper_del" };
	struct central_log *db = setup_three(_i, tag[_i]);
	struct problems p;

	tl_tamper(&lg, "DELETE FROM triage_audit WHERE id = 2");
	verify(db, &p, 2);
	ck_assert_msg(p.n == 3, "%d problems", p.n);
	ck_assert(has_problem(&p, "audit entries 2..2 are missing", NULL));
	ck_assert(has_problem(&p, "audit entry 3: prev_hash does not link",
	    NULL));
	ck_assert(has_problem(&p, "the audit trail has 2 entries, the log "
	    "counted 3 appended (entries were deleted)", NULL));
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

START_TEST(test_tamper_delete_last_and_state)
{
	const char *tag[] = { "sqlite", "tamper_last" };
	struct central_log *db = setup_three(_i, tag[_i]);
	struct problems p;

	/* the last entry gone: no link breaks, the count and state do */
	tl_tamper(&lg, "DELETE FROM triage_audit WHERE id = 3");
	/* and an alert's state set behind the trail's back */
	tl_tamper(&lg,
	    "UPDATE triage_state SET state = 'closed' WHERE seq = 2");
	verify(db, &p, 2);
	ck_assert_msg(p.n == 3, "%d problems: %s | %s | %s", p.n, p.line[0],
	    p.line[1], p.line[2]);
	ck_assert(has_problem(&p, "the audit trail has 2 entries, the log "
	    "counted 3", NULL));
	ck_assert(has_problem(&p, "alert plant-a/gw-01/2 is stored closed but "
	    "the audit trail leaves it acked (entry 1)", NULL));
	ck_assert(has_problem(&p, "alert plant-a/gw-01/3 is stored closed but "
	    "the audit trail has no action on it", NULL));
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- incidents -------------------------------------------------------------- */

struct inc_list {
	int	n;
	int64_t	id[8], count[8], first_us[8], last_us[8];
	char	src[8][32], hosts[8][128], techs[8][128], sev[8][16];
	char	state[8][16];
};

static int
inc_cb(void *ctx, const struct clog_incident *i)
{
	struct inc_list *l = ctx;

	ck_assert_int_lt(l->n, 8);
	l->id[l->n] = i->id;
	l->count[l->n] = i->count;
	l->first_us[l->n] = i->first_us;
	l->last_us[l->n] = i->last_us;
	snprintf(l->src[l->n], 32, "%s", i->src_ip);
	snprintf(l->hosts[l->n], 128, "%s", i->hosts);
	snprintf(l->techs[l->n], 128, "%s", i->techniques);
	snprintf(l->sev[l->n], 16, "%s", i->severity);
	snprintf(l->state[l->n], 16, "%s", i->state);
	l->n++;
	return 0;
}

START_TEST(test_incidents_grouping)
{
	const char *tag[] = { "sqlite", "incidents" };
	struct tb_alert_spec a1 = { "high", "s7.plc_stop", "T0858", "s7comm",
	    "10.0.0.66", "10.0.0.10" };
	struct tb_alert_spec a2 = { "medium", "modbus.unauthorized_write",
	    "T0836", "modbus", "10.0.0.66", "10.0.0.11" };
	struct tb_alert_spec b1 = { "critical", "dnp3.cold_restart", "T0816",
	    "dnp3", "192.168.5.7", "10.0.0.20" };
	struct central_log *db;
	struct clog_incident_filter f;
	struct clog_triage_info t;
	struct inc_list l;
	struct tb_chain c, c2;
	struct problems p;
	char err[256];
	int64_t inc[8];

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	db = open_log(CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	/* one second apart, 10 s window: A A B A, then A 60 s later */
	inc[0] = store_inc(db, &c, &a1, 10);
	inc[1] = store_inc(db, &c, &a2, 10);
	inc[2] = store_inc(db, &c, &b1, 10);
	inc[3] = store_inc(db, &c, &a1, 10);
	c.base_us += INT64_C(60) * 1000000;
	inc[4] = store_inc(db, &c, &a2, 10);
	/* the same address at another plant is another host */
	tb_chain_init(&c2, "plant-b", "gw-01", 1);
	inc[5] = store_inc(db, &c2, &a1, 10);
	ck_assert_int_gt(inc[0], 0);
	ck_assert_int_ne(inc[5], inc[0]);
	ck_assert_int_eq(inc[1], inc[0]);
	ck_assert_int_ne(inc[2], inc[0]);
	ck_assert_int_eq(inc[3], inc[0]);
	ck_assert_int_ne(inc[4], inc[0]);
	ck_assert_int_ne(inc[4], inc[2]);

	clog_incident_filter_init(&f);
	f.site = "plant-a";
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 3);
	/* first_us order: A (seq 1..4), B (seq 3), A (seq 5) */
	ck_assert_str_eq(l.src[0], "10.0.0.66");
	ck_assert_int_eq(l.count[0], 3);
	ck_assert_str_eq(l.hosts[0], "10.0.0.10,10.0.0.11");
	ck_assert_str_eq(l.techs[0], "T0836,T0858");
	ck_assert_str_eq(l.sev[0], "high");
	ck_assert_int_eq(l.last_us[0] - l.first_us[0], INT64_C(3) * 1000000);
	ck_assert_str_eq(l.src[1], "192.168.5.7");
	ck_assert_int_eq(l.count[1], 1);
	ck_assert_str_eq(l.sev[1], "critical");
	ck_assert_str_eq(l.hosts[1], "10.0.0.20");
	ck_assert_str_eq(l.src[2], "10.0.0.66");
	ck_assert_int_eq(l.count[2], 1);
	ck_assert_str_eq(l.techs[2], "T0836");
	ck_assert_str_eq(l.sev[2], "medium");

	/* the alerts know their incident */
	ck_assert_int_eq(clog_triage_get(db, "plant-a", "gw-01", 4, &t), 0);
	ck_assert_int_eq(t.incident, inc[0]);

	/* plant-b's 10.0.0.66: its own incident */
	f.site = "plant-b";
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.id[0], inc[5]);
	ck_assert_int_eq(l.count[0], 1);
	f.site = "plant-a";
	/* filters: CIDR, exact src, min severity */
	f.src_ip = "192.168.0.0/16";
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.id[0], inc[2]);
	f.src_ip = "10.0.0.66";
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 2);
	f.src_ip = NULL;
	f.min_sev = central_log_severity_rank("high");
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 2);

	/* triage an incident */
	ck_assert_int_eq(clog_triage_incident(db, inc[2], "ack", "alice",
	    "isolating 192.168.5.7", err, sizeof(err)), 0);
	ck_assert_int_eq(clog_triage_incident(db, 999, "ack", "alice", NULL,
	    err, sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "no incident 999");
	clog_incident_filter_init(&f);
	f.state = "acked";
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.id[0], inc[2]);
	verify(db, &p, 1);
	ck_assert_int_eq(p.n, 0);
	tl_tamper(&lg, "UPDATE incidents SET state = 'closed'");
	verify(db, &p, 1);
	ck_assert_msg(p.n == 4, "%d problems", p.n);
	ck_assert(has_problem(&p, "is stored closed but the audit trail "
	    "leaves it acked", NULL));
	ck_assert(has_problem(&p, "is stored closed but the audit trail has "
	    "no action on it", NULL));
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- filters: CIDR, grep, received vs capture time ------------------------- */

static int
count_cb(void *ctx, const struct central_log_row *r)
{
	(*(int *)ctx)++;
	(void)r;
	return 0;
}

static int
query_n(struct central_log *db, const struct central_log_filter *f)
{
	int n = 0;

	ck_assert_msg(central_log_query(db, f, count_cb, &n) == 0, "query: %s",
	    central_log_errmsg(db));
	return n;
}

START_TEST(test_filters)
{
	const char *tag[] = { "sqlite", "filters" };
	struct tb_alert_spec s1 = { "high", "s7.plc_stop", "T0858", "s7comm",
	    "10.10.1.5", "10.0.0.10" };
	struct tb_alert_spec s2 = { "low", "modbus.unauthorized_write",
	    "T0836", "modbus", "10.0.0.66", "10.10.1.200" };
	struct tb_alert_spec s3 = { "low", "dnp3.cold_restart", "T0816",
	    "dnp3", "10.10.2.5", "10.0.0.20" };
	struct central_log *db;
	struct central_log_filter f;
	struct tb_chain c;
	int64_t now = central_log_now_us(), h = INT64_C(3600) * 1000000;

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	db = open_log(CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	/* received: two 3 h ago, two now (capture time is Nov 2026) */
	store(db, &c, &s1, now - 3 * h);
	store(db, &c, &s2, now - 3 * h);
	store(db, &c, &s3, now);
	store(db, &c, &s1, now);

	central_log_filter_init(&f);
	f.ip = "10.10.1.0/24";	/* src 10.10.1.5 twice, dst 10.10.1.200 */
	ck_assert_int_eq(query_n(db, &f), 3);
	f.ip = "10.10.0.0/16";
	ck_assert_int_eq(query_n(db, &f), 4);
	f.ip = "10.10.1.5";	/* exact, as before */
	ck_assert_int_eq(query_n(db, &f), 2);
	f.ip = "10.10.1.5/32";
	ck_assert_int_eq(query_n(db, &f), 2);
	f.ip = "192.168.0.0/16";
	ck_assert_int_eq(query_n(db, &f), 0);

	central_log_filter_init(&f);
	f.grep = "COLD_RESTART";	/* case-insensitive, over the alert text */
	ck_assert_int_eq(query_n(db, &f), 1);
	f.grep = "test alert";		/* the titles */
	ck_assert_int_eq(query_n(db, &f), 4);
	f.grep = "no such text";
	ck_assert_int_eq(query_n(db, &f), 0);

	/* since 1 h: received time sees 2, capture time (Nov 2026) none */
	central_log_filter_init(&f);
	f.since_us = now - h;
	f.received = true;
	ck_assert_int_eq(query_n(db, &f), 2);
	f.received = false;
	ck_assert_int_eq(query_n(db, &f), 0);
	/* until 1 h ago on received time: the two older ones */
	central_log_filter_init(&f);
	f.until_us = now - h;
	f.received = true;
	ck_assert_int_eq(query_n(db, &f), 2);
	/* capture time: seq 1..2 are before base + 3 s */
	f.received = false;
	f.until_us = c.base_us + INT64_C(3) * 1000000;
	ck_assert_int_eq(query_n(db, &f), 2);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- icsentry-log ------------------------------------------------------------- */

static char outf[400];

/* Run icsentry-log CMD --db path ARGS...; exit code; *text its output. */
static int
run_log(char **text, const char *cmd, ...)
{
	char bin[300];
	char *argv[24];
	const char *a;
	va_list ap;
	int n = 0, rc;

	tb_build_path(bin, sizeof(bin), "icsentry-log");
	argv[n++] = bin;
	argv[n++] = (char *)cmd;
	argv[n++] = (char *)"--db";
	argv[n++] = lg.path;
	va_start(ap, cmd);
	while ((a = va_arg(ap, const char *)) != NULL && n < 23)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	snprintf(outf, sizeof(outf), "%s/out.txt", lg.dir);
	unlink(outf);
	rc = tb_run(argv, outf, 30000);
	*text = tb_read_file(outf, NULL);
	if (*text == NULL)
		*text = strdup("");
	return rc;
}

static int
lines(const char *t)
{
	int n = 0;

	for (; *t != '\0'; t++)
		n += *t == '\n';
	return n;
}

START_TEST(test_cli_triage)
{
	const char *tag[] = { "sqlite", "cli" };
	struct tb_alert_spec s1 = { "high", "s7.plc_stop", "T0858", "s7comm",
	    "10.10.1.5", "10.0.0.10" };
	struct central_log *db;
	struct tb_chain c;
	char *t;
	int k;

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	db = open_log(CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	for (k = 0; k < 3; k++)
		store_inc(db, &c, &s1, 1800);
	central_log_close(db);

	ck_assert_int_eq(run_log(&t, "ack", "plant-a/gw-01", "2", "--user",
	    "alice", NULL), 0);
	ck_assert_str_eq(t, "plant-a/gw-01 #2: ack by alice\n");
	free(t);
	ck_assert_int_eq(run_log(&t, "note", "plant-a/gw-01/2", "--user", "bob",
	    "-m", "called operations", NULL), 0);
	free(t);
	/* a note needs text; no such alert; a bad target */
	ck_assert_int_eq(run_log(&t, "note", "plant-a/gw-01", "2", "--user",
	    "bob", NULL), 2);
	ck_assert_ptr_nonnull(strstr(t, "note needs -m TEXT"));
	free(t);
	ck_assert_int_eq(run_log(&t, "ack", "plant-a/gw-01", "9", "--user",
	    "bob", NULL), 2);
	ck_assert_ptr_nonnull(strstr(t, "no alert plant-a/gw-01/9 is stored"));
	free(t);
	ck_assert_int_eq(run_log(&t, "ack", "gw-01", "9", NULL), 2);
	free(t);
	ck_assert_int_eq(run_log(&t, "close", "--incident", "1", "--user",
	    "alice", "-m", "planned maintenance", NULL), 0);
	ck_assert_str_eq(t, "incident 1: close by alice\n");
	free(t);

	/* query shows the state; --state filters */
	ck_assert_int_eq(run_log(&t, "query", NULL), 0);
	ck_assert_int_eq(lines(t), 3);
	ck_assert_int_eq(tb_file_count(outf, "[acked by alice]"), 1);
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--state", "acked", NULL), 0);
	ck_assert_int_eq(lines(t), 1);
	ck_assert_ptr_nonnull(strstr(t, " #2 "));
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--state", "new", NULL), 0);
	ck_assert_int_eq(lines(t), 2);
	free(t);
	/* CIDR, grep, time */
	ck_assert_int_eq(run_log(&t, "query", "--ip", "10.10.1.0/24", NULL), 0);
	ck_assert_int_eq(lines(t), 3);
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--ip", "10.10.2.0/24", NULL), 0);
	ck_assert_int_eq(lines(t), 0);
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--ip", "10.10.1.0/33", NULL), 2);
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--grep", "TEST ALERT 2", NULL),
	    0);
	ck_assert_int_eq(lines(t), 1);
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--since", "1h", NULL), 0);
	ck_assert_int_eq(lines(t), 3);	/* received just now */
	free(t);
	ck_assert_int_eq(run_log(&t, "query", "--since", "1h", "--time",
	    "capture", NULL), 0);
	ck_assert_int_eq(lines(t), 0);	/* captured in Nov 2026 */
	free(t);

	/* the audit trail */
	ck_assert_int_eq(run_log(&t, "audit", NULL), 0);
	ck_assert_int_eq(lines(t), 3);
	ck_assert_ptr_nonnull(strstr(t, " alice ack alert plant-a/gw-01/2\n"));
	ck_assert_ptr_nonnull(strstr(t, " bob note alert plant-a/gw-01/2 "
	    "\"called operations\"\n"));
	ck_assert_ptr_nonnull(strstr(t, " alice close incident 1 \"planned "
	    "maintenance\"\n"));
	free(t);
	ck_assert_int_eq(run_log(&t, "audit", "--json", "--limit", "1", NULL),
	    0);
	ck_assert_int_eq(lines(t), 1);
	ck_assert_ptr_nonnull(strstr(t, "\"action\":\"close\""));
	free(t);

	/* incidents */
	ck_assert_int_eq(run_log(&t, "incidents", NULL), 0);
	ck_assert_int_eq(lines(t), 1);
	ck_assert_ptr_nonnull(strstr(t, "1    closed high     plant-a 10.10.1.5 "));
	ck_assert_ptr_nonnull(strstr(t, " 3 alerts hosts 10.0.0.10 techniques "
	    "T0858 (alice)"));
	free(t);
	ck_assert_int_eq(run_log(&t, "incidents", "--id", "1", NULL), 0);
	ck_assert_int_eq(lines(t), 1 + 1 + 3 + 1 + 1);
	free(t);
	ck_assert_int_eq(run_log(&t, "incidents", "--csv", NULL), 0);
	ck_assert_ptr_nonnull(strstr(t, "id,state,severity,site,src_ip,"));
	ck_assert_ptr_nonnull(strstr(t, "\n1,closed,high,plant-a,10.10.1.5,"));
	free(t);

	/* verify: clean, then an edited entry */
	ck_assert_int_eq(run_log(&t, "verify", NULL), 0);
	ck_assert_ptr_nonnull(strstr(t, "audit trail: 3 entries: ok\n"));
	free(t);
	tl_tamper(&lg,
	    "UPDATE triage_audit SET operator = 'mallory' WHERE id = 1");
	ck_assert_int_eq(run_log(&t, "verify", NULL), 1);
	ck_assert_msg(strstr(t, "audit: audit entry 1 (ack alert "
	    "plant-a/gw-01/2 by mallory): hash does not match its content "
	    "(the entry was edited)\n") != NULL, "%s", t);
	ck_assert_ptr_nonnull(strstr(t, "audit trail: 3 entries: TAMPERED\n"));
	ck_assert_ptr_nonnull(strstr(t, "1 problem\n"));
	free(t);
	/* and one deleted */
	tl_tamper(&lg, "DELETE FROM triage_audit WHERE id = 2");
	ck_assert_int_eq(run_log(&t, "verify", NULL), 1);
	ck_assert_ptr_nonnull(strstr(t, "audit: audit entries 2..2 are missing "
	    "(deleted from the trail)\n"));
	free(t);
	tl_done(&lg);
}
END_TEST

START_TEST(test_cli_assets)
{
	const char *tag[] = { "sqlite", "assets" };
	static const char plc[] = "{\"ip\":\"10.0.0.10\",\"mac\":"
	    "\"00:1b:1b:00:00:10\",\"vendor\":\"Siemens\",\"grade\":"
	    "\"critical\",\"first_seen\":\"2026-11-23T08:00:00.000000Z\","
	    "\"last_seen\":\"2026-11-23T09:00:00.000000Z\",\"protocols\":"
	    "{\"s7comm\":[\"server\"]},\"identity\":{\"s7comm\":"
	    "{\"order_number\":\"6ES7 315-2EH14-0AB0\",\"firmware\":"
	    "\"V3.2.6\"}}}";
	static const char hmi[] = "{\"ip\":\"10.0.0.50\",\"vendor\":null,"
	    "\"grade\":\"low\",\"first_seen\":\"2026-11-23T07:00:00.000000Z\","
	    "\"last_seen\":\"2026-11-23T09:30:00.000000Z\",\"protocols\":"
	    "{\"s7comm\":[\"client\"],\"modbus\":[\"client\"]}}";
	static const char rtu[] = "{\"ip\":\"10.0.0.9\",\"vendor\":\"ABB\","
	    "\"first_seen\":\"2026-11-23T06:00:00.000000Z\",\"last_seen\":"
	    "\"2026-11-23T06:30:00.000000Z\",\"protocols\":{\"dnp3\":"
	    "[\"server\"]}}";
	struct central_log *db;
	int64_t now = central_log_now_us();
	char *t, *p1, *p2, *p3;

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	db = open_log(CENTRAL_LOG_RDWR);
	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.50",
	    hmi, strlen(hmi), now), 0);
	ck_assert_int_eq(central_log_asset(db, "plant-a", "gw-01", "10.0.0.10",
	    plc, strlen(plc), now), 0);
	ck_assert_int_eq(central_log_asset(db, "plant-b", "gw-02", "10.0.0.9",
	    rtu, strlen(rtu), now), 0);
	central_log_close(db);

	/* by ip (default): 10.0.0.9 < 10.0.0.10 < 10.0.0.50 numerically */
	ck_assert_int_eq(run_log(&t, "assets", NULL), 0);
	ck_assert_int_eq(lines(t), 4);
	p1 = strstr(t, "\n10.0.0.9 ");
	p2 = strstr(t, "\n10.0.0.10 ");
	p3 = strstr(t, "\n10.0.0.50 ");
	ck_assert(p1 != NULL && p2 != NULL && p3 != NULL);
	ck_assert(p1 < p2 && p2 < p3);
	ck_assert_ptr_nonnull(strstr(p2, "plant-a/gw-01        critical  "
	    "Siemens                6ES7 315-2EH14-0AB0    V3.2.6       "
	    "s7comm:s                 2026-11-23T08:00:00.000000Z / "
	    "2026-11-23T09:00:00.000000Z\n"));
	free(t);
	/* by grade: critical, low, then the ungraded */
	ck_assert_int_eq(run_log(&t, "assets", "--sort", "grade", NULL), 0);
	p1 = strstr(t, "\n10.0.0.10 ");
	p2 = strstr(t, "\n10.0.0.50 ");
	p3 = strstr(t, "\n10.0.0.9 ");
	ck_assert(p1 != NULL && p2 != NULL && p3 != NULL);
	ck_assert(p1 < p2 && p2 < p3);
	free(t);
	ck_assert_int_eq(run_log(&t, "assets", "--csv", "--agent",
	    "plant-a/gw-01", NULL), 0);
	ck_assert_int_eq(lines(t), 3);
	ck_assert_ptr_nonnull(strstr(t, "ip,site,agent,grade,name,vendor,model,"
	    "firmware,roles,first_seen,last_seen\n"));
	ck_assert_msg(strstr(t, "10.0.0.50,plant-a,gw-01,low,,,,,"
	    "\"s7comm:c,modbus:c\",2026-11-23T07:00:00.000000Z,"
	    "2026-11-23T09:30:00.000000Z\n") != NULL, "%s", t);
	free(t);
	ck_assert_int_eq(run_log(&t, "assets", "--json", "--site", "plant-b",
	    NULL), 0);
	ck_assert_str_eq(t, "{\"ip\":\"10.0.0.9\",\"site\":\"plant-b\","
	    "\"agent\":\"gw-02\",\"grade\":\"-\",\"name\":\"-\",\"vendor\":"
	    "\"ABB\",\"model\":\"-\",\"firmware\":\"-\",\"roles\":\"dnp3:s\","
	    "\"first_seen\":\"2026-11-23T06:00:00.000000Z\",\"last_seen\":"
	    "\"2026-11-23T06:30:00.000000Z\"}\n");
	free(t);
	tl_done(&lg);
}
END_TEST

START_TEST(test_tail_agent_status)
{
	const char *tag[] = { "sqlite", "tailst" };
	struct central_log *db;
	struct tb_chain c;
	char bin[300];
	char *argv[] = { bin, (char *)"tail", (char *)"--db", lg.path,
	    (char *)"--interval", (char *)"0.1", NULL };
	pid_t pid;

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	db = open_log(CENTRAL_LOG_RDWR);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	store(db, &c, NULL, 0);
	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "online", central_log_now_us()), 0);
	tb_build_path(bin, sizeof(bin), "icsentry-log");
	snprintf(outf, sizeof(outf), "%s/tail.txt", lg.dir);
	pid = tb_spawn(argv, outf);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(tb_wait_file_contains(outf, "test alert 1", 10000), 0);
	tb_sleep_ms(300);
	/* the broker's LWT, as the collector stores it */
	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "offline", central_log_now_us()), 0);
	ck_assert_int_eq(tb_wait_file_contains(outf,
	    " agent plant-a/gw-01 went offline\n", 10000), 0);
	ck_assert_int_eq(central_log_agent_status(db, "plant-a", "gw-01",
	    "online", central_log_now_us()), 0);
	ck_assert_int_eq(tb_wait_file_contains(outf,
	    " agent plant-a/gw-01 is online\n", 10000), 0);
	/* the status it had when tail started is not news */
	ck_assert_int_eq(tb_file_count(outf, "is online"), 1);
	ck_assert_int_eq(tb_stop_pid(pid, SIGTERM, 5000, NULL), 0);
	central_log_close(db);
	tl_done(&lg);
}
END_TEST

/* ---- the real collector files incidents ------------------------------------- */

static void
publish(struct tb_client *cl, struct tb_chain *c,
    const struct tb_alert_spec *spec)
{
	char topic[192];
	char *j = tb_chain_next(c, spec);

	snprintf(topic, sizeof(topic), "icsentry/%s/%s/alert/%s", c->site,
	    c->agent, spec->severity);
	ck_assert_int_eq(tb_client_publish(cl, topic, j, (int)strlen(j), 1, 0,
	    5000), 0);
	free(j);
}

static int
agent_cb(void *ctx, const struct central_log_agent_row *r)
{
	snprintf(ctx, 32, "%s", r->status != NULL ? r->status : "");
	return 0;
}

START_TEST(test_collector_incidents)
{
	const char *tag[] = { "sqlite", "coll" };
	struct tb_alert_spec a = { "high", "s7.plc_stop", "T0858", "s7comm",
	    "10.0.0.66", "10.0.0.10" };
	struct tb_alert_spec b = { "critical", "dnp3.cold_restart", "T0816",
	    "dnp3", "192.168.5.7", "10.0.0.20" };
	struct tb_broker br;
	struct tb_client_opts o = { .client_id = "sim-gw", .clean = 1 };
	struct tb_client *pub;
	struct clog_incident_filter f;
	struct central_log *db;
	struct inc_list l;
	struct tb_chain c;
	char uri[64], conf[320], out[320], bin[300], status[32] = "";
	char *argv[] = { bin, (char *)"-c", conf, NULL };
	int64_t n = 0, end;
	pid_t pid;
	FILE *fp;
	int st = -1, k;

	tl_use_backend(&lg, "tri", _i, tag[_i]);
	ck_assert_int_eq(tb_broker_start(&br), 0);
	tb_broker_uri(&br, uri, sizeof(uri));
	snprintf(conf, sizeof(conf), "%s/collector.conf", lg.dir);
	snprintf(out, sizeof(out), "%s/collector.out", lg.dir);
	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "[collector]\ndb = %s\nfsync = false\nincident_window = 10\n"
	    "persist_dir = %s/coll.mqtt\n[mqtt]\nuri = %s\nclient_id = coll\n",
	    lg.path, lg.dir, uri);
	ck_assert_int_eq(fclose(fp), 0);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	pid = tb_spawn(argv, out);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(tb_wait_file_contains(out, "subscribed", 15000) == 0,
	    "collector did not subscribe; see %s", out);
	o.uri = uri;
	pub = tb_client_new(&o);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(tb_client_connect(pub, 5000), 0);
	ck_assert_int_eq(tb_client_publish(pub, "icsentry/plant-a/gw-01/status",
	    "online", 6, 1, 1, 5000), 0);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	/* A x3, B x2 (one second apart), then A x2 a minute later */
	for (k = 0; k < 3; k++)
		publish(pub, &c, &a);
	for (k = 0; k < 2; k++)
		publish(pub, &c, &b);
	c.base_us += INT64_C(60) * 1000000;
	for (k = 0; k < 2; k++)
		publish(pub, &c, &a);
	/* the agent's last will, as the broker would send it */
	ck_assert_int_eq(tb_client_publish(pub, "icsentry/plant-a/gw-01/status",
	    "offline", 7, 1, 1, 5000), 0);
	end = tb_now_ms() + 20000;
	db = open_log(CENTRAL_LOG_RDONLY);
	while ((central_log_alert_count(db, &n) != 0 || n < 7 ||
	    strcmp(status, "offline") != 0) && tb_now_ms() < end) {
		tb_sleep_ms(100);
		central_log_agents(db, agent_cb, status);
	}
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(status, "offline");
	clog_incident_filter_init(&f);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(clog_incidents(db, &f, inc_cb, &l), 0);
	ck_assert_int_eq(l.n, 3);
	ck_assert_str_eq(l.src[0], "10.0.0.66");
	ck_assert_int_eq(l.count[0], 3);
	ck_assert_str_eq(l.src[1], "192.168.5.7");
	ck_assert_int_eq(l.count[1], 2);
	ck_assert_str_eq(l.sev[1], "critical");
	ck_assert_str_eq(l.src[2], "10.0.0.66");
	ck_assert_int_eq(l.count[2], 2);
	central_log_close(db);
	ck_assert_int_eq(tb_stop_pid(pid, SIGTERM, 8000, &st), 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tb_client_free(pub);
	tb_broker_cleanup(&br);
	tl_done(&lg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("triage");
	TCase *tc;

	tc = tcase_create("actions_and_chain");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_actions_and_chain, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("tamper_edit");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_tamper_edit, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("tamper_delete_middle");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_tamper_delete_middle, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("tamper_delete_last_and_state");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_tamper_delete_last_and_state, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("incidents_grouping");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_incidents_grouping, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("cli_triage");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_cli_triage, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("cli_assets");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_cli_assets, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("tail_agent_status");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_tail_agent_status, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("collector_incidents");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_collector_incidents, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("filters");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_filters, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_main(&lg, suite());
}
