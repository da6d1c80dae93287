/*
 * check_e2e.c - the whole alert path with real parts: icsentry-agent
 * replaying a labeled capture at its own pace (--realtime) over MQTT to a
 * real mosquitto, icsentry-collector storing into a real SQLite file, and
 * icsentry-log verify.  Outages on the way must lose nothing and store
 * nothing twice:
 *   - the broker stops during the replay and comes back;
 *   - the agent is killed (SIGKILL) while the broker is away, and a new
 *     agent process delivers what the old one had queued (Paho's
 *     persistence), continuing the same hash chain.
 */
#include <check.h>
#include <cJSON.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"
#include "tests/testutil_broker.h"

struct env {
	struct tb_broker	b;
	char			dir[256];
	char			db[300], conf[300], alerts[300], cout[300], aout[300];
	char			uri[64];
	pid_t			coll;
};

static struct env E;

static void
fast_pcap(char *buf, size_t len)
{
	char d[4096];

	snprintf(buf, len, "%s/fast-attacks.pcap",
	    tu_build_path(d, sizeof(d), "scenarios"));
}

static void
setup(void)
{
	char bin[300], text[1200];
	char *argv[] = { bin, (char *)"--mqtt", E.uri, (char *)"--db", E.db,
	    (char *)"--client-id", (char *)"e2e-collector", NULL };
	FILE *f;

	memset(&E, 0, sizeof(E));
	ck_assert_int_eq(tb_tmpdir(E.dir, sizeof(E.dir), "e2e"), 0);
	snprintf(E.db, sizeof(E.db), "%s/central.db", E.dir);
	snprintf(E.conf, sizeof(E.conf), "%s/agent.conf", E.dir);
	snprintf(E.alerts, sizeof(E.alerts), "%s/alerts.jsonl", E.dir);
	snprintf(E.cout, sizeof(E.cout), "%s/collector.out", E.dir);
	snprintf(E.aout, sizeof(E.aout), "%s/agent.out", E.dir);
	ck_assert_int_eq(tb_broker_start(&E.b), 0);
	tb_broker_uri(&E.b, E.uri, sizeof(E.uri));
	/* the eval policy (so the capture raises its alerts), plus state */
	snprintf(text, sizeof(text),
	    "[agent]\nname = gw-e2e\nsite = plant-e\nstate_file = %s/agent.state\n"
	    "alert_window = 60\n"
	    "[mqtt]\nuri = %s\npersist_dir = %s/mqtt\nstats_interval = 0\n"
	    "reconnect_max = 1\nkeepalive = 5\n"
	    "[policy]\nmodbus_writers = 10.10.1.30\ndnp3_masters = 10.10.1.20\n"
	    "iec104_masters = 10.10.1.20\ndiscovery_allowed = 10.10.1.30\n",
	    E.dir, E.uri, E.dir);
	f = fopen(E.conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	E.coll = tb_spawn(argv, E.cout);
	ck_assert_int_gt(E.coll, 0);
	ck_assert_int_eq(tb_wait_file_contains(E.cout, "subscribed", 8000), 0);
}

static void
teardown(void)
{
	if (E.coll > 0)
		tb_stop_pid(E.coll, SIGTERM, 5000, NULL);
	tb_broker_cleanup(&E.b);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(E.dir);
}

static pid_t
start_agent(const char *pcap, const char *alerts)
{
	char bin[300];
	char *argv[] = { bin, (char *)"-c", E.conf, (char *)"-r", (char *)pcap,
	    (char *)"--realtime", (char *)"--alerts-out", (char *)alerts, NULL };
	pid_t pid;

	tb_build_path(bin, sizeof(bin), "icsentry-agent");
	pid = tb_spawn(argv, E.aout);
	ck_assert_int_gt(pid, 0);
	return pid;
}

static int
wait_agent(pid_t pid, int timeout_ms)
{
	int st = -1;

	ck_assert_int_eq(tb_stop_pid(pid, 0, timeout_ms, &st), 0);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Number of alert lines the agent wrote (its JSON-lines sink). */
static int
alerts_written(void)
{
	char *t = tu_read_file(E.alerts, NULL);
	int n = t != NULL ? (int)tu_count_lines(t) : 0;

	free(t);
	return n;
}

static int64_t
db_count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_open_v2(E.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static void
wait_stored(int64_t n, int timeout_ms)
{
	int64_t t0 = tb_now_ms(), got = -1;

	while (tb_now_ms() - t0 < timeout_ms) {
		got = db_count("SELECT count(*) FROM alerts");
		if (got >= n)
			break;
		tb_sleep_ms(100);
	}
	ck_assert_msg(got == n, "stored %lld of %lld alerts",
	    (long long)got, (long long)n);
}

/*
 * Every line the agent wrote is in the log exactly once, byte for byte;
 * seq runs 1..n without a gap; rows were stored in seq order; verify is
 * clean.
 */
static void
check_log(int n)
{
	char *text = tu_read_file(E.alerts, NULL), *line, *save = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	int k = 0;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sqlite3_open_v2(E.db, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	    "SELECT count(*) FROM alerts WHERE agent = 'gw-e2e' AND raw = ?",
	    -1, &st, NULL), SQLITE_OK);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, line, -1, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
		k++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(text);
	ck_assert_int_eq(k, n);
	ck_assert_int_eq(db_count("SELECT min(seq) FROM alerts"), 1);
	ck_assert_int_eq(db_count("SELECT max(seq) FROM alerts"), n);
	ck_assert_int_eq(db_count("SELECT count(DISTINCT seq) FROM alerts"), n);
	ck_assert_int_eq(db_count("SELECT count(*) FROM conflicts"), 0);
	/* arrival order is seq order: no row with a smaller seq came later */
	ck_assert_int_eq(db_count("SELECT count(*) FROM alerts a JOIN alerts b "
	    "ON a.id < b.id AND a.seq > b.seq"), 0);
	{
		char bin[300];
		char *argv[] = { bin, (char *)"verify", (char *)"--db", E.db, NULL };
		struct tu_result r;

		tb_build_path(bin, sizeof(bin), "icsentry-log");
		ck_assert_int_eq(tu_run(argv, NULL, 20000, &r), 0);
		ck_assert_msg(r.exit_code == 0, "verify: %s%s", r.out, r.err);
		ck_assert(tu_contains(r.out, "0 problems"));
		tu_result_free(&r);
	}
}

START_TEST(test_straight_through)
{
	char pcap[4200];
	int n;

	fast_pcap(pcap, sizeof(pcap));
	ck_assert_int_eq(wait_agent(start_agent(pcap, E.alerts), 60000), 0);
	n = alerts_written();
	ck_assert_int_ge(n, 10);
	wait_stored(n, 10000);
	check_log(n);
}
END_TEST

START_TEST(test_broker_restart_mid_replay)
{
	char pcap[4200];
	pid_t agent;
	int n, before;

	fast_pcap(pcap, sizeof(pcap));
	agent = start_agent(pcap, E.alerts);
	/* let the first alerts through, then take the broker away */
	ck_assert_int_eq(tb_wait_file_count(E.alerts, "\"seq\":", 2, 15000), 0);
	ck_assert_int_eq(tb_broker_stop(&E.b), 0);
	before = alerts_written();
	tb_sleep_ms(3000);
	ck_assert_int_gt(alerts_written(), before);	/* raised while it was down */
	ck_assert_int_eq(tb_broker_restart(&E.b), 0);
	ck_assert_int_eq(wait_agent(agent, 60000), 0);
	n = alerts_written();
	wait_stored(n, 20000);
	check_log(n);
}
END_TEST

START_TEST(test_agent_killed_while_broker_away)
{
	char pcap[4200], small[4200], second[400], *text;
	pid_t agent;
	int n, first;

	fast_pcap(pcap, sizeof(pcap));
	/*
	 * A capture without alerts under this policy: MQTT only (a DNP3
	 * read from a master dnp3_masters does not list is a rogue master).
	 */
	tu_pcap_path(small, sizeof(small), "mqtt-zeek.pcap");
	agent = start_agent(pcap, E.alerts);
	ck_assert_int_eq(tb_wait_file_count(E.alerts, "\"seq\":", 2, 15000), 0);
	ck_assert_int_eq(tb_broker_stop(&E.b), 0);
	/* alerts raised now can only wait in the agent's persistent queue */
	ck_assert_int_eq(tb_wait_file_count(E.alerts, "\"seq\":", 6, 20000), 0);
	ck_assert_int_eq(tb_stop_pid(agent, SIGKILL, 2000, NULL), 0);
	first = alerts_written();
	ck_assert_int_eq(tb_broker_restart(&E.b), 0);
	/* a new agent process: same client id and queue; its own replay adds
	 * nothing (a capture without alerts) - it must deliver the old ones */
	snprintf(second, sizeof(second), "%s/second.jsonl", E.dir);
	ck_assert_int_eq(wait_agent(start_agent(small, second), 60000), 0);
	text = tu_read_file(second, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(tu_count_lines(text), 0);
	free(text);
	n = alerts_written();
	ck_assert_int_eq(n, first);
	wait_stored(n, 20000);
	check_log(n);
}
END_TEST

static Suite *
e2e_suite(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("outages");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_straight_through);
	tcase_add_test(tc, test_broker_restart_mid_replay);
	tcase_add_test(tc, test_agent_killed_while_broker_away);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(e2e_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
