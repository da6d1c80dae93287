/*
 * check_intel_pg.c - the central record of which threat-intel bundle each
 * agent applied (issue 17, broker/intel_log.c) on a PostgreSQL log, with
 * a real server (tests/testutil_pg.h): the table through the API, the
 * `icsentry-log intel` listing, a server restart, and the whole path
 * (real mosquitto, a real agent applying a signed bundle, the real
 * collector writing to PostgreSQL).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "broker/intel_log.h"
#include "lib/ids.h"
#include "lib/intel_bundle.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_pg.h"

static struct tp_pg PG;		/* one server for the whole suite */
static int pg_ok;
static char dir[256], uri[400];

static void
setup(void)
{
	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "intelpg"), 0);
}

static void
teardown(void)
{
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(dir);
}

static void
use_db(const char *name)
{
	ck_assert_msg(pg_ok, "PostgreSQL did not start (see the log above)");
	ck_assert_int_eq(tp_pg_createdb(&PG, name), 0);
	tp_pg_uri(&PG, name, uri, sizeof(uri));
}

static long long
val(const char *db, const char *sql)
{
	return tp_pg_value(&PG, db, sql);
}

/* icsentry-log intel --db URI [--json] */
static void
log_intel(bool json, struct tu_result *r)
{
	char bin[300];
	char *argv[] = { bin, (char *)"intel", (char *)"--db", uri,
	    json ? (char *)"--json" : NULL, NULL };

	tu_build_path(bin, sizeof(bin), "icsentry-log");
	ck_assert_int_eq(tu_run(argv, NULL, 30000, r), 0);
	ck_assert_msg(r->exit_code == 0, "%s", r->err);
}

static const char st4[] = "{\"fleet\":{\"version\":4,\"indicators\":2,"
    "\"policy\":0,\"key_id\":\"05cd9725d9999eb6\"},\"site\":null,"
    "\"indicators\":2,\"at\":\"2026-12-05T05:00:00.000000Z\",\"refused\":0}";
static const char st5[] = "{\"fleet\":{\"version\":5,\"indicators\":3,"
    "\"policy\":0,\"key_id\":\"05cd9725d9999eb6\"},\"site\":{\"version\":2,"
    "\"indicators\":1,\"policy\":1,\"key_id\":\"05cd9725d9999eb6\"},"
    "\"indicators\":4,\"at\":\"2026-12-05T05:01:00.000000Z\",\"refused\":1,"
    "\"last_refusal\":{\"origin\":\"icsentry/intel/fleet\",\"reason\":"
    "\"older-version\",\"detail\":\"version 3 is not newer\"}}";

START_TEST(table_on_postgresql)
{
	struct intel_log *l = NULL;
	struct tu_result r;
	char err[512];

	use_db("intel_api");
	/* nothing written yet: the listing says so (no table) */
	log_intel(false, &r);
	ck_assert(tu_contains(r.out, "no agent has reported threat-intel status yet"));
	tu_result_free(&r);
	ck_assert_msg(intel_log_open(uri, true, &l, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(intel_log_status(l, "plant-b", "gw-b", st4,
	    strlen(st4), 1764910800000000LL), 0);
	ck_assert_int_eq(intel_log_status(l, "plant-a", "gw-a", st4,
	    strlen(st4), 1764910800000000LL), 0);
	/* not the status object: refused, nothing stored */
	ck_assert_int_eq(intel_log_status(l, "plant-c", "gw-c", "[1]", 3,
	    1764910800000000LL), IDS_EINVAL);
	ck_assert_int_eq(val("intel_api", "SELECT count(*) FROM intel_agents"), 2);
	/* a newer status replaces the agent's row */
	ck_assert_int_eq(intel_log_status(l, "plant-b", "gw-b", st5,
	    strlen(st5), 1764910860000000LL), 0);
	ck_assert_int_eq(val("intel_api", "SELECT count(*) FROM intel_agents"), 2);
	ck_assert_int_eq(val("intel_api", "SELECT fleet_version FROM intel_agents"
	    " WHERE site = 'plant-b' AND agent = 'gw-b'"), 5);
	ck_assert_int_eq(val("intel_api", "SELECT site_version FROM intel_agents"
	    " WHERE site = 'plant-b' AND agent = 'gw-b'"), 2);
	ck_assert_int_eq(val("intel_api", "SELECT indicators + 100 * refused FROM"
	    " intel_agents WHERE site = 'plant-b'"), 104);
	ck_assert_int_eq(val("intel_api", "SELECT count(*) FROM intel_agents"
	    " WHERE site = 'plant-a' AND site_version IS NULL AND"
	    " last_refusal IS NULL"), 1);
	/* the server restarts: the next write reconnects */
	ck_assert_int_eq(tp_pg_restart(&PG), 0);
	ck_assert_int_eq(intel_log_status(l, "plant-a", "gw-a", st5,
	    strlen(st5), 1764910900000000LL), 0);
	ck_assert_int_eq(val("intel_api", "SELECT fleet_version FROM intel_agents"
	    " WHERE site = 'plant-a'"), 5);
	intel_log_close(l);
	log_intel(false, &r);
	ck_assert_msg(tu_contains(r.out, "plant-b/gw-b                       5  "
	    "     2          4       1  2025-12-05T05:01:00Z  {\"origin\":"
	    "\"icsentry/intel/fleet\",\"reason\":\"older-version\""), "%s", r.out);
	ck_assert(tu_contains(r.out, "plant-a/gw-a"));
	ck_assert_int_eq((int)tu_count_lines(r.out), 3);
	tu_result_free(&r);
	log_intel(true, &r);
	ck_assert_int_eq((int)tu_count_lines(r.out), 2);
	ck_assert(tu_contains(r.out, "{\"site\":\"plant-a\",\"agent\":\"gw-a\","));
	ck_assert(tu_contains(r.out, "\"fleet\":{\"version\":5,"));
	tu_result_free(&r);
}
END_TEST

/* icsentry-intel ARGS > out */
static void
intel_tool(char *const args[], const char *out)
{
	char bin[300], *argv[16];
	struct tu_result r;
	int n = 0;

	tu_build_path(bin, sizeof(bin), "icsentry-intel");
	argv[n++] = bin;
	while (*args != NULL)
		argv[n++] = *args++;
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, 60000, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	if (out != NULL)
		ck_assert_int_eq(tu_write_file(out, r.out, r.out_len), 0);
	tu_result_free(&r);
}

/* A real agent applies a bundle; the collector records it in PostgreSQL. */
START_TEST(collector_records_agent_on_pg)
{
	struct tb_broker b;
	char mq[64], bin[300], key[300], pub[320], json[300], sig[300];
	char conf[300], cout[300], aout[300], pcap[300];
	char cconf[300];
	char *argv[] = { bin, (char *)"-c", cconf, NULL };
	pid_t coll, ag;
	long long got = -1;
	int64_t end;
	int st = -1;
	FILE *f;

	use_db("intel_e2e");
	snprintf(key, sizeof(key), "%s/soc.key", dir);
	snprintf(pub, sizeof(pub), "%s.pub", key);
	snprintf(json, sizeof(json), "%s/v9.json", dir);
	snprintf(sig, sizeof(sig), "%s/v9.signed", dir);
	{
		char *k[] = { (char *)"keygen", (char *)"--out", key, NULL };
		char *n[] = { (char *)"new", (char *)"--version", (char *)"9",
		    (char *)"--indicator", (char *)"ip:10.99.0.1:high:T0846",
		    (char *)"--indicator", (char *)"domain:evil.example", NULL };
		char *s[] = { (char *)"sign", (char *)"--key", key, json, NULL };

		intel_tool(k, NULL);
		intel_tool(n, json);
		intel_tool(s, sig);
	}
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, mq, sizeof(mq));
	snprintf(cout, sizeof(cout), "%s/collector.out", dir);
	snprintf(cconf, sizeof(cconf), "%s/collector.conf", dir);
	f = fopen(cconf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s\nfsync = false\npersist_dir = "
	    "%s/coll.mqtt\n[mqtt]\nuri = %s\nclient_id = intel-pg-collector\n"
	    "reconnect_max = 1\n", uri, dir, mq);
	ck_assert_int_eq(fclose(f), 0);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	coll = tb_spawn(argv, cout);
	ck_assert_int_gt(coll, 0);
	ck_assert_int_eq(tb_wait_file_contains(cout, "subscribed", 15000), 0);
	ck_assert_int_eq(tb_file_count(cout, "intel versions not recorded"), 0);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = gw-pg\nsite = plant-pg\nstate_file = "
	    "%s/gw.state\n[mqtt]\nuri = %s\npersist_dir = %s/mqtt\n"
	    "stats_interval = 0\nreconnect_max = 1\nkeepalive = 5\n"
	    "[intel]\nkeys = %s\n", dir, mq, dir, pub);
	fclose(f);
	tu_pcap_path(pcap, sizeof(pcap), "modbus-zeek-small.pcap");
	snprintf(aout, sizeof(aout), "%s/agent.out", dir);
	{
		char abin[300];
		char *av[] = { abin, (char *)"-c", conf, (char *)"-r", pcap,
		    (char *)"--intel", sig, (char *)"--alerts-out",
		    (char *)"/dev/null", NULL };

		tu_agent_path(abin, sizeof(abin));
		ag = tb_spawn(av, aout);
		ck_assert_int_gt(ag, 0);
		ck_assert_int_eq(tb_stop_pid(ag, 0, 60000, &st), 0);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	ck_assert_int_eq(tb_file_count(aout, "intel: applied fleet bundle "
	    "version 9"), 1);
	end = tb_now_ms() + 20000;
	while (tb_now_ms() < end && (got = val("intel_e2e", "SELECT "
	    "fleet_version * 1000 + indicators FROM intel_agents WHERE site = "
	    "'plant-pg' AND agent = 'gw-pg'")) != 9002)
		tb_sleep_ms(100);
	ck_assert_msg(got == 9002, "intel_agents: %lld; collector log %s", got,
	    cout);
	ck_assert_int_eq(tb_stop_pid(coll, SIGTERM, 8000, &st), 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	tb_broker_cleanup(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("intel_pg");
	TCase *t = tcase_create("pg");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 180);
	tcase_add_test(t, table_on_postgresql);
	tcase_add_test(t, collector_records_agent_on_pg);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	pg_ok = tp_pg_start(&PG) == 0;
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	tp_pg_cleanup(&PG);
	return failed == 0 ? 0 : 1;
}
