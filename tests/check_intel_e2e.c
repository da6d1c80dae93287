/*
 * check_intel_e2e.c - threat-intelligence sharing end to end (issue 17),
 * with real parts only: mosquitto, icsentry-collector on a SQLite log,
 * icsentry-agent replaying a generated attack capture, icsentry-intel
 * with real Ed25519 keys.
 *
 *   early_warning: site A's agent sees the attacks and its alerts reach
 *     the central log; the SOC builds a bundle from the log
 *     (icsentry-intel new --from-log), signs and publishes it; site B's
 *     agent takes it from MQTT and, replaying traffic with the same
 *     attacker, raises intel.match naming the indicator id and version;
 *     the central log records that B runs that version.
 *   live_updates: an agent already running gets bundles over MQTT: a new
 *     version is applied while flows are open (retroactive matches),
 *     a rollback, an unsigned, a wrongly signed and an expired bundle are
 *     refused with a log line and a status message, and the applied
 *     version stays.
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

#include "lib/intel_bundle.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"

struct env {
	struct tb_broker	b;
	char			dir[256];
	char			db[300], cout[300], uri[64], pcap[300];
	char			key[300], pub[320], key2[300], pub2[320];
	pid_t			coll;
};

static struct env E;

static void
setup(void)
{
	char bin[300], d[300], id[INTEL_KEY_ID_LEN + 1], err[256];
	char *argv[] = { bin, (char *)"--mqtt", E.uri, (char *)"--db", E.db,
	    (char *)"--client-id", (char *)"intel-collector", NULL };

	memset(&E, 0, sizeof(E));
	ck_assert_int_eq(tb_tmpdir(E.dir, sizeof(E.dir), "intel-e2e"), 0);
	snprintf(E.db, sizeof(E.db), "%s/central.db", E.dir);
	snprintf(E.cout, sizeof(E.cout), "%s/collector.out", E.dir);
	snprintf(E.pcap, sizeof(E.pcap), "%s/fast-attacks.pcap",
	    tu_build_path(d, sizeof(d), "scenarios"));
	snprintf(E.key, sizeof(E.key), "%s/soc.key", E.dir);
	snprintf(E.pub, sizeof(E.pub), "%s.pub", E.key);
	snprintf(E.key2, sizeof(E.key2), "%s/rogue.key", E.dir);
	snprintf(E.pub2, sizeof(E.pub2), "%s.pub", E.key2);
	ck_assert_msg(intel_keygen(E.key, id, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(intel_keygen(E.key2, id, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tb_broker_start(&E.b), 0);
	tb_broker_uri(&E.b, E.uri, sizeof(E.uri));
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

/* An agent config for site/name: MQTT, and (keys) the SOC's key. */
static void
agent_conf(const char *path, const char *site, const char *name, bool keys)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = %s\nsite = %s\nstate_file = %s/%s.state\n"
	    "alert_window = 60\n"
	    "[mqtt]\nuri = %s\npersist_dir = %s/mqtt-%s\nstats_interval = 0\n"
	    "reconnect_max = 1\nkeepalive = 5\n",
	    name, site, E.dir, name, E.uri, E.dir, name);
	/* a loaded machine may take seconds to connect: the wait ends as soon
	 * as the retained bundle is verified */
	if (keys)
		fprintf(f, "[intel]\nkeys = %s\nstartup_wait = 20\n", E.pub);
	fclose(f);
}

static pid_t
start_agent(const char *conf, const char *alerts, const char *out,
    bool realtime)
{
	char bin[300];
	char *argv[] = { bin, (char *)"-c", (char *)conf, (char *)"-r", E.pcap,
	    (char *)"--alerts-out", (char *)alerts, NULL, NULL };
	pid_t pid;

	if (realtime)
		argv[7] = (char *)"--realtime";
	tb_build_path(bin, sizeof(bin), "icsentry-agent");
	pid = tb_spawn(argv, out);
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

static int64_t
db_count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_open_v2(E.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

static int64_t
wait_count(const char *sql, int64_t want, int timeout_ms)
{
	int64_t t0 = tb_now_ms(), got = -1;

	while (tb_now_ms() - t0 < timeout_ms) {
		got = db_count(sql);
		if (got >= want)
			break;
		tb_sleep_ms(100);
	}
	return got;
}

/* Run icsentry-intel with args; stdout into out_file when given. */
static int
intel(char *const args[], const char *out_file, char **err_text)
{
	char bin[300];
	char *argv[24];
	struct tu_result r;
	int n = 0, i, rc;

	tb_build_path(bin, sizeof(bin), "icsentry-intel");
	argv[n++] = bin;
	for (i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, 60000, &r), 0);
	if (out_file != NULL)
		ck_assert_int_eq(tu_write_file(out_file, r.out, r.out_len), 0);
	if (err_text != NULL)
		*err_text = strdup(r.err);
	rc = r.exit_code;
	tu_result_free(&r);
	return rc;
}

/* new (extra args) | sign with key | publish: the signed file's path. */
static void
soc_publish(const char *name, const char *key, char *const new_args[])
{
	char json[400], sig[400];
	char *a[20];
	int n = 0, i;

	snprintf(json, sizeof(json), "%s/%s.json", E.dir, name);
	snprintf(sig, sizeof(sig), "%s/%s.signed", E.dir, name);
	a[n++] = (char *)"new";
	for (i = 0; new_args[i] != NULL; i++)
		a[n++] = new_args[i];
	a[n] = NULL;
	ck_assert_int_eq(intel(a, json, NULL), 0);
	{
		char *s[] = { (char *)"sign", (char *)"--key", (char *)key, json,
		    NULL };

		ck_assert_int_eq(intel(s, sig, NULL), 0);
	}
	{
		char *p[] = { (char *)"publish", (char *)"--mqtt", E.uri, sig,
		    NULL };

		ck_assert_int_eq(intel(p, NULL, NULL), 0);
	}
}

/* The id of the indicator for ip in a bundle file (or NULL). */
static char *
indicator_id(const char *bundle_json, const char *ip, cJSON **desc_out)
{
	char *text = tu_read_file(bundle_json, NULL), *id = NULL;
	cJSON *b, *ind;

	ck_assert_ptr_nonnull(text);
	b = cJSON_Parse(text);
	ck_assert_ptr_nonnull(b);
	cJSON_ArrayForEach(ind, cJSON_GetObjectItem(b, "indicators")) {
		if (strcmp(cJSON_GetObjectItem(ind, "value")->valuestring, ip) == 0) {
			id = strdup(cJSON_GetObjectItem(ind, "id")->valuestring);
			if (desc_out != NULL)
				*desc_out = cJSON_Duplicate(ind, 1);
		}
	}
	cJSON_Delete(b);
	free(text);
	return id;
}

/* intel.match alerts (not summaries) in a JSON-lines file for id. */
static int
matches(const char *alerts, const char *id, double version, int *retro)
{
	char *text = tu_read_file(alerts, NULL);
	cJSON *all, *a;
	int bad = 0, n = 0;

	if (retro != NULL)
		*retro = 0;
	if (text == NULL)
		return 0;
	all = tu_json_lines(text, &bad);
	ck_assert_int_eq(bad, 0);
	cJSON_ArrayForEach(a, all) {
		const char *ind = tu_json_str(a, "details.indicator");

		/* summaries of aggregated repeats carry no indicator */
		if (strcmp(tu_json_str(a, "detector"), "intel.match") != 0 ||
		    ind == NULL || strcmp(ind, id) != 0)
			continue;
		ck_assert_int_eq((int)tu_json_num(a, "details.bundle_version", 0),
		    (int)version);
		if (retro != NULL && cJSON_IsTrue(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(a, "details"), "retroactive")))
			(*retro)++;
		n++;
	}
	cJSON_Delete(all);
	free(text);
	return n;
}

START_TEST(early_warning)
{
	char confa[300], confb[300], alertsa[300], alertsb[300], outa[300];
	char outb[300], json[400], sql[300], *id66, *id77, *err = NULL;
	char bin[300];
	cJSON *ind = NULL;
	struct tu_result r;
	int64_t stored;
	pid_t a;

	/* site A: the attack happens there first */
	snprintf(confa, sizeof(confa), "%s/a.conf", E.dir);
	snprintf(alertsa, sizeof(alertsa), "%s/a.jsonl", E.dir);
	snprintf(outa, sizeof(outa), "%s/a.out", E.dir);
	/* no intel there yet (and only the ack subscription) */
	agent_conf(confa, "plant-a", "gw-a", false);
	a = start_agent(confa, alertsa, outa, false);
	ck_assert_int_eq(wait_agent(a, 60000), 0);
	stored = wait_count("SELECT count(*) FROM alerts WHERE site = 'plant-a'"
	    " AND src_ip = '10.10.1.77'", 2, 15000);
	ck_assert_int_ge(stored, 2);	/* S7 stop and start */
	ck_assert_int_ge(db_count("SELECT count(*) FROM alerts WHERE site = "
	    "'plant-a' AND src_ip = '10.10.1.66'"), 5);

	/* the SOC: every attacker of the log into a bundle; the spoofed ARP
	 * victim is left out by the analyst */
	{
		char *n[] = { (char *)"new", (char *)"--version", (char *)"1",
		    (char *)"--from-log", E.db, (char *)"--since",
		    (char *)"2024-05-13T00:00:00Z", (char *)"--until",
		    (char *)"2024-05-14T00:00:00Z", (char *)"--exclude",
		    (char *)"10.10.1.102", NULL };

		snprintf(json, sizeof(json), "%s/v1.json", E.dir);
		ck_assert_int_eq(intel(n, json, &err), 0);
		ck_assert_ptr_nonnull(strstr(err, "bundle version 1:"));
		free(err);
	}
	id66 = indicator_id(json, "10.10.1.66", &ind);
	id77 = indicator_id(json, "10.10.1.77", NULL);
	ck_assert_ptr_nonnull(id66);
	ck_assert_ptr_nonnull(id77);
	ck_assert_ptr_null(indicator_id(json, "10.10.1.102", NULL));
	/* what the log knew: site, severity, technique of its worst alert */
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(ind, "description")->
	    valuestring, "attacker seen at plant-a/gw-a"));
	ck_assert_str_eq(cJSON_GetObjectItem(ind, "severity")->valuestring,
	    "critical");
	cJSON_Delete(ind);
	{
		char sig[400];
		char *s[] = { (char *)"sign", (char *)"--key", E.key, json, NULL };
		char *p[] = { (char *)"publish", (char *)"--mqtt", E.uri,
		    (char *)"--pub", E.pub, sig, NULL };

		snprintf(sig, sizeof(sig), "%s/v1.signed", E.dir);
		ck_assert_int_eq(intel(s, sig, NULL), 0);
		ck_assert_int_eq(intel(p, NULL, &err), 0);
		free(err);
	}

	/* site B: a fresh gateway; the same attacker shows up there */
	snprintf(confb, sizeof(confb), "%s/b.conf", E.dir);
	snprintf(alertsb, sizeof(alertsb), "%s/b.jsonl", E.dir);
	snprintf(outb, sizeof(outb), "%s/b.out", E.dir);
	agent_conf(confb, "plant-b", "gw-b", true);
	a = start_agent(confb, alertsb, outb, false);
	ck_assert_int_eq(wait_agent(a, 60000), 0);
	ck_assert_int_ge(matches(alertsb, id66, 1, NULL), 1);
	ck_assert_int_ge(matches(alertsb, id77, 1, NULL), 1);
	/* site A's gateway ran without the bundle: no match there */
	ck_assert_int_eq(matches(alertsa, id66, 1, NULL), 0);
	ck_assert_int_eq(tb_file_count(outb, "intel: applied fleet bundle "
	    "version 1"), 1);
	/* the alerts reached the central log under plant-b */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE site = "
	    "'plant-b' AND detector = 'intel.match' AND src_ip = '10.10.1.66'");
	ck_assert_int_ge(wait_count(sql, 1, 15000), 1);
	/* which agent runs which version */
	ck_assert_int_eq(wait_count("SELECT count(*) FROM intel_agents WHERE "
	    "site = 'plant-b' AND agent = 'gw-b' AND fleet_version = 1", 1,
	    15000), 1);
	tb_build_path(bin, sizeof(bin), "icsentry-log");
	{
		char *argv[] = { bin, (char *)"intel", (char *)"--db", E.db, NULL };

		ck_assert_int_eq(tu_run(argv, NULL, 30000, &r), 0);
		ck_assert_int_eq(r.exit_code, 0);
		ck_assert_msg(tu_contains(r.out, "plant-b/gw-b"), "%s", r.out);
		ck_assert(!tu_contains(r.out, "plant-a/gw-a    "));
		tu_result_free(&r);
	}
	free(id66);
	free(id77);
}
END_TEST

/* Publish a file as is (no new/sign) to the fleet topic. */
static void
publish_raw(const char *file)
{
	char *p[] = { (char *)"publish", (char *)"--mqtt", E.uri, (char *)file,
	    NULL };

	ck_assert_int_eq(intel(p, NULL, NULL), 0);
}

START_TEST(live_updates)
{
	char conf[300], alerts[300], out[300], path[400], *text;
	struct tb_client_opts o;
	struct tb_client *c;
	pid_t a;
	size_t i;
	const char *st;
	char *v2[] = { (char *)"--version", (char *)"2", (char *)"--indicator",
	    (char *)"ip:10.10.1.66:high:T0846", NULL };
	char *v3[] = { (char *)"--version", (char *)"3", (char *)"--indicator",
	    (char *)"ip:10.10.1.11:medium:T0848", (char *)"--id-prefix",
	    (char *)"hmi", NULL };
	char *v1[] = { (char *)"--version", (char *)"1", (char *)"--indicator",
	    (char *)"ip:10.10.1.12", NULL };
	char *v9[] = { (char *)"--version", (char *)"9", (char *)"--expires",
	    (char *)"2021-01-01T00:00:00Z", (char *)"--indicator",
	    (char *)"ip:10.10.1.12", NULL };
	char *v8[] = { (char *)"--version", (char *)"8", (char *)"--indicator",
	    (char *)"ip:10.10.1.12", NULL };

	/* the status topic as the SOC sees it */
	memset(&o, 0, sizeof(o));
	o.uri = E.uri;
	o.client_id = "watcher";
	o.clean = 1;
	c = tb_client_new(&o);
	ck_assert_int_eq(tb_client_connect(c, 5000), 0);
	ck_assert_int_eq(tb_client_subscribe(c, "icsentry/plant-c/gw-c/intel", 1,
	    5000), 1);

	soc_publish("v2", E.key, v2);
	snprintf(conf, sizeof(conf), "%s/c.conf", E.dir);
	snprintf(alerts, sizeof(alerts), "%s/c.jsonl", E.dir);
	snprintf(out, sizeof(out), "%s/c.out", E.dir);
	agent_conf(conf, "plant-c", "gw-c", true);
	/* the capture at its own pace (10 s): the agent is there to update */
	a = start_agent(conf, alerts, out, true);
	ck_assert_int_eq(tb_wait_file_contains(out, "intel: applied fleet bundle "
	    "version 2", 10000), 0);
	tb_sleep_ms(2500);
	/* v3 while the HMI's polling connection is open: a retroactive match */
	soc_publish("v3", E.key, v3);
	ck_assert_int_eq(tb_wait_file_contains(out, "intel: applied fleet bundle "
	    "version 3", 5000), 0);
	/* a SIGHUP reload keeps the applied bundles (and their versions) */
	ck_assert_int_eq(kill(a, SIGHUP), 0);
	ck_assert_int_eq(tb_wait_file_contains(out, "configuration reloaded",
	    5000), 0);
	/* rollback to v1, correctly signed: refused */
	soc_publish("v1", E.key, v1);
	ck_assert_int_eq(tb_wait_file_contains(out, "older-version: version 1 "
	    "is not newer than the applied version 3", 5000), 0);
	/* v8 signed by a key the gateway does not hold */
	soc_publish("v8", E.key2, v8);
	ck_assert_int_eq(tb_wait_file_contains(out, "bad-signature", 5000), 0);
	/* v9, expired */
	soc_publish("v9", E.key, v9);
	ck_assert_int_eq(tb_wait_file_contains(out, "expired: version 9 expired",
	    5000), 0);
	/* v8 unsigned (the JSON as `new` wrote it) */
	snprintf(path, sizeof(path), "%s/v8.json", E.dir);
	publish_raw(path);
	ck_assert_int_eq(tb_wait_file_contains(out, "unsigned: the bundle carries "
	    "no signature", 5000), 0);
	ck_assert_int_eq(tb_file_count(out, "the running policy stays"), 4);
	ck_assert_int_eq(wait_agent(a, 60000), 0);
	/* v2 matched 10.10.1.66 from the start, v3 the HMI retroactively */
	ck_assert_int_ge(matches(alerts, "soc-2-1", 2, NULL), 1);
	{
		int retro = 0;

		ck_assert_int_ge(matches(alerts, "hmi-3-1", 3, &retro), 1);
		ck_assert_int_ge(retro, 1);
	}
	/* nothing of the refused bundles matched: 10.10.1.12 never alerted */
	text = tu_read_file(alerts, NULL);
	ck_assert_ptr_null(strstr(text, "\"value\":\"10.10.1.12\""));
	free(text);
	/* the status: v3 applied; the last refusal named (unsigned) */
	ck_assert_int_eq(tb_client_wait(c, 6, 5000), 0);
	st = NULL;
	for (i = 0; i < tb_client_count(c); i++)
		st = tb_client_msg(c, i)->payload;
	ck_assert_ptr_nonnull(st);
	{
		cJSON *j = cJSON_Parse(st);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq((int)tu_json_num(j, "fleet.version", 0), 3);
		ck_assert_int_eq((int)tu_json_num(j, "refused", 0), 4);
		ck_assert_str_eq(tu_json_str(j, "last_refusal.reason"), "unsigned");
		cJSON_Delete(j);
	}
	tb_client_free(c);
}
END_TEST

static Suite *
intel_e2e_suite(void)
{
	Suite *s = suite_create("intel_e2e");
	TCase *t = tcase_create("story");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 240);
	tcase_add_test(t, early_warning);
	tcase_add_test(t, live_updates);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(intel_e2e_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
