/*
 * check_metrics.c - the Prometheus /metrics endpoints: the exposition
 * text itself (HELP/TYPE lines, label escaping), the agent's and the
 * collector's endpoints read directly, and both scraped by a real
 * Prometheus server (Debian's) on loopback, its query API giving back
 * the values the agent's --stats and the central log report.
 */
#include <check.h>
#include <cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_metrics.h"
#include "lib/metrics_http.h"
#include "lib/prom.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_http.h"

START_TEST(test_prom_text_format)
{
	struct prom p;
	const char *l[] = { "site", "a\"b\\c\nd", "agent", "gw-01", NULL };

	memset(&p, 0, sizeof(p));
	prom_family(&p, "x_total", "counter", "Help with \\ and\nnewline.");
	prom_u64(&p, "x_total", l, 18446744073709551615ull);
	prom_family(&p, "y", "gauge", "A gauge.");
	prom_dbl(&p, "y", NULL, 0.5);
	prom_dbl(&p, "y", NULL, NAN);
	prom_dbl(&p, "y", NULL, -INFINITY);
	ck_assert_int_eq(p.oom, 0);
	ck_assert_str_eq(p.buf,
	    "# HELP x_total Help with \\\\ and\\nnewline.\n"
	    "# TYPE x_total counter\n"
	    "x_total{site=\"a\\\"b\\\\c\\nd\",agent=\"gw-01\"} "
	    "18446744073709551615\n"
	    "# HELP y A gauge.\n"
	    "# TYPE y gauge\n"
	    "y 0.5\n"
	    "y NaN\n"
	    "y -Inf\n");
	prom_free(&p);
}
END_TEST

/*
 * Check text against the format's rules: every sample's family has its
 * HELP then TYPE line before it, once; names and label syntax are valid.
 * Returns the number of samples.
 */
static int
check_exposition(const char *text)
{
	char fam[64][128], *copy = strdup(text), *save = NULL, *line;
	int nfam = 0, samples = 0, i;
	char help[128] = "";

	ck_assert_ptr_nonnull(copy);
	ck_assert_msg(text[0] != '\0' && text[strlen(text) - 1] == '\n',
	    "exposition must end with a newline");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			for (i = 0; i < nfam; i++)
				ck_assert_msg(strcmp(fam[i], name) != 0,
				    "family %s twice", name);
			snprintf(help, sizeof(help), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			ck_assert_msg(strcmp(help, name) == 0,
			    "TYPE %s without its HELP just before", name);
			ck_assert(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0);
			ck_assert_int_lt(nfam, 64);
			snprintf(fam[nfam++], sizeof(fam[0]), "%s", name);
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment: %s", line);
		/* name{labels} value */
		{
			size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
			const char *v;

			ck_assert_msg(n > 0 && nfam > 0 &&
			    strncmp(line, fam[nfam - 1], n) == 0 &&
			    fam[nfam - 1][n] == '\0',
			    "sample outside its family: %s", line);
			v = line + n;
			if (*v == '{') {
				v = strstr(v, "} ");
				ck_assert_ptr_nonnull(v);
				v++;
			}
			ck_assert_msg(*v == ' ' && v[1] != '\0', "bad: %s",
			    line);
		}
		samples++;
	}
	free(copy);
	return samples;
}

START_TEST(test_agent_render)
{
	struct agent_metrics_snap s;
	struct prom p;
	int n;

	memset(&s, 0, sizeof(s));
	s.packets = 8897;
	s.alerts[3] = 10;	/* high */
	s.pdus[1] = 5;
	s.mqtt = true;
	s.mqtt_buffered = 3;
	s.mqtt_unacked = 2;
	s.mqtt_oldest_unacked_s = 1.5;
	memset(&p, 0, sizeof(p));
	agent_metrics_render(&p, "plant \"a\"", "gw-01", &s);
	n = check_exposition(p.buf);
	ck_assert_int_gt(n, 30);
	ck_assert(tu_contains(p.buf, "icsentry_agent_packets_total{site="
	    "\"plant \\\"a\\\"\",agent=\"gw-01\"} 8897\n"));
	ck_assert(tu_contains(p.buf, "icsentry_agent_alerts_total{site="
	    "\"plant \\\"a\\\"\",agent=\"gw-01\",severity=\"high\"} 10\n"));
	ck_assert(tu_contains(p.buf, "icsentry_agent_journal_backlog{site="
	    "\"plant \\\"a\\\"\",agent=\"gw-01\"} 3\n"));
	ck_assert(tu_contains(p.buf, "icsentry_agent_oldest_unacked_age_"
	    "seconds{site=\"plant \\\"a\\\"\",agent=\"gw-01\"} 1.5\n"));
	prom_free(&p);
	/* without MQTT, no MQTT families */
	s.mqtt = false;
	agent_metrics_render(&p, "s", "a", &s);
	ck_assert(!tu_contains(p.buf, "journal_backlog"));
	prom_free(&p);
}
END_TEST

/* A sample's value in exposition text: name{labels} exactly; NaN if none. */
static double
sample(const char *text, const char *name_labels)
{
	char key[512];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name_labels);
	p = strstr(text, key);
	return p != NULL ? strtod(p + strlen(key), NULL) : NAN;
}

struct agent_run {
	pid_t	pid;
	int	port;
	char	dir[256], stats[320], conf[320], alerts[320];
};

/* Replay fast-attacks with --metrics, lingering linger s afterwards. */
static void
agent_start(struct agent_run *a, const char *extra_conf, const char *mqtt)
{
	char agent[300], pcap[300], port[64];
	char *argv[] = { agent, (char *)"-c", a->conf, (char *)"-r", pcap,
	    (char *)"--metrics", port, (char *)"--stats", (char *)"--alerts-out",
	    a->alerts, mqtt != NULL ? (char *)"--mqtt" : (char *)"--no-mqtt",
	    (char *)mqtt, NULL };
	FILE *f;

	ck_assert_int_eq(tb_tmpdir(a->dir, sizeof(a->dir), "metrics"), 0);
	tu_agent_path(agent, sizeof(agent));
	tu_build_path(pcap, sizeof(pcap), "scenarios/fast-attacks.pcap");
	ck_assert_msg(access(pcap, R_OK) == 0, "%s missing: make tests", pcap);
	snprintf(a->conf, sizeof(a->conf), "%s/agent.conf", a->dir);
	snprintf(a->stats, sizeof(a->stats), "%s/stats.err", a->dir);
	snprintf(a->alerts, sizeof(a->alerts), "%s/alerts.json", a->dir);
	f = fopen(a->conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n[agent]\nmetrics_linger = 60\n", extra_conf != NULL ?
	    extra_conf : "");
	fclose(f);
	a->port = tb_free_port();
	snprintf(port, sizeof(port), "127.0.0.1:%d", a->port);
	a->pid = tb_spawn(argv, a->stats);
	ck_assert_int_gt(a->pid, 0);
}

/* The --stats line the agent printed when it stopped. */
static cJSON *
agent_stats(struct agent_run *a)
{
	char *t = tb_read_file(a->stats, NULL);
	cJSON *j = t != NULL ? tu_json_last_line(t) : NULL;

	ck_assert_msg(j != NULL, "agent printed no stats; see %s", a->stats);
	free(t);
	return j;
}

/* SIGTERM the lingering agent: it stops at once, exit 0. */
static void
agent_stop(struct agent_run *a)
{
	int st = -1;
	int64_t t0 = tb_now_ms();

	ck_assert_int_eq(tb_stop_pid(a->pid, SIGTERM, 15000, &st), 0);
	ck_assert_int_lt(tb_now_ms() - t0, 12000);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	a->pid = 0;
}

static void
agent_clean(struct agent_run *a)
{
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(a->dir);
}

/* Poll /metrics until the replay ended (all 8897 packets, alerts flushed). */
static char *
scrape_replayed(int port)
{
	int64_t end = tb_now_ms() + 60000;
	char *body = NULL;

	while (tb_now_ms() < end) {
		if (th_get(port, "/metrics", &body) == 200 && body != NULL &&
		    tu_contains(body, "icsentry_agent_packets_total{") &&
		    tu_contains(body, "icsentry_agent_replay_done{site=\"") &&
		    strtod(strchr(strstr(body,
		    "icsentry_agent_replay_done{"), '}') + 2, NULL) == 1 &&
		    strtod(strchr(strstr(body,
		    "icsentry_agent_packets_total{"), '}') + 2, NULL) == 8897)
			return body;
		free(body);
		body = NULL;
		tb_sleep_ms(100);
	}
	ck_abort_msg("/metrics never showed the whole replay");
	return NULL;
}

START_TEST(test_agent_endpoint)
{
	struct agent_run a;
	cJSON *st;
	char *body, key[256];
	static const char *const sev[] = { "info", "low", "medium", "high",
	    "critical" };
	size_t i;

	agent_start(&a, NULL, NULL);
	body = scrape_replayed(a.port);
	check_exposition(body);
	ck_assert_int_eq(th_get(a.port, "/nothing", NULL), 404);
	agent_stop(&a);
	st = agent_stats(&a);
	ck_assert(tu_json_num(st, "packets", -1) == 8897);
	/* every value as --stats reports it */
	for (i = 0; i < 5; i++) {
		char *p;

		snprintf(key, sizeof(key), ",severity=\"%s\"} ", sev[i]);
		p = strstr(body, key);
		ck_assert_ptr_nonnull(p);
		snprintf(key, sizeof(key), "alerts.%s", sev[i]);
		ck_assert(strtod(p + strlen(sev[i]) + 14, NULL) ==
		    tu_json_num(st, key, -1));
	}
	ck_assert(tu_json_num(st, "alerts.high", -1) == 10);
	{
		char *p = strstr(body, ",protocol=\"modbus\"} ");

		ck_assert_ptr_nonnull(p);
		ck_assert(strtod(p + 20, NULL) ==
		    tu_json_num(st, "pdus.modbus", -1));
		ck_assert(tu_json_num(st, "pdus.modbus", -1) > 0);
	}
	{
		char *p = strstr(body, "icsentry_agent_flows_created_total{");

		ck_assert_ptr_nonnull(p);
		ck_assert(strtod(strchr(p, '}') + 2, NULL) ==
		    tu_json_num(st, "flows.created", -1));
	}
	free(body);
	cJSON_Delete(st);
	agent_clean(&a);
}
END_TEST

START_TEST(test_bad_metrics_address)
{
	char agent[300], pcap[300];
	char *argv[] = { agent, (char *)"-r", pcap, (char *)"--no-mqtt",
	    (char *)"--metrics", (char *)"localhost", NULL };
	struct tu_result r;

	tu_agent_path(agent, sizeof(agent));
	tu_build_path(pcap, sizeof(pcap), "scenarios/fast-attacks.pcap");
	ck_assert_int_eq(tu_run(argv, NULL, 30000, &r), 0);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(tu_contains(r.err, "metrics address 'localhost' is not "
	    "HOST:PORT"), "%s", r.err);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_agent_scraped_by_prometheus)
{
	struct agent_run a;
	struct th_prom p;
	char target[64], q[256];
	const char *targets[] = { target, NULL };
	double v, want, high, modbus, flows;
	cJSON *st;

	agent_start(&a, NULL, NULL);
	snprintf(target, sizeof(target), "agent=127.0.0.1:%d", a.port);
	ck_assert_int_eq(th_prom_start(&p, targets), 0);
	free(scrape_replayed(a.port));
	want = 8897;
	ck_assert_msg(th_prom_query(&p, "icsentry_agent_packets_total"
	    "{job=\"agent\",site=\"default\"}", &want, 30000, &v) == 0,
	    "prometheus has packets %g, want %g", v, want);
	ck_assert(th_prom_query(&p, "icsentry_agent_alerts_total"
	    "{severity=\"high\"}", NULL, 10000, &high) == 0);
	ck_assert(th_prom_query(&p, "icsentry_agent_pdus_total"
	    "{protocol=\"modbus\"}", NULL, 10000, &modbus) == 0);
	ck_assert(th_prom_query(&p, "icsentry_agent_flows_created_total",
	    NULL, 10000, &flows) == 0);
	/* the scrape itself was healthy */
	want = 1;
	snprintf(q, sizeof(q), "up{instance=\"127.0.0.1:%d\"}", a.port);
	ck_assert(th_prom_query(&p, q, &want, 10000, &v) == 0);
	th_prom_stop(&p);
	agent_stop(&a);
	/* what Prometheus stored is what the agent counted */
	st = agent_stats(&a);
	ck_assert(high == tu_json_num(st, "alerts.high", -1));
	ck_assert(high == 10);
	ck_assert(modbus == tu_json_num(st, "pdus.modbus", -1));
	ck_assert(flows == tu_json_num(st, "flows.created", -1));
	cJSON_Delete(st);
	agent_clean(&a);
}
END_TEST

/* The collector, with a broker and an agent publishing over MQTT. */
START_TEST(test_collector_scraped_by_prometheus)
{
	struct tb_broker b;
	struct agent_run a;
	struct th_prom p;
	struct tb_client_opts co = { 0 };
	struct tb_client *pub;
	char uri[64], dir[256], conf[320], out[320], coll[300], mport[64];
	char atarget[64], ctarget[64], src[512], *demo, *alerts, *body;
	const char *targets[] = { atarget, ctarget, NULL };
	char *argv[] = { coll, (char *)"-c", conf, (char *)"--metrics", mport,
	    NULL };
	double v, want;
	int cport, nalerts, st = -1;
	pid_t cpid;
	FILE *f;

	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, uri, sizeof(uri));
	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "cmetrics"), 0);
	snprintf(conf, sizeof(conf), "%s/collector.conf", dir);
	snprintf(out, sizeof(out), "%s/collector.out", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s/central.db\nfsync = false\n"
	    "[mqtt]\nuri = %s\nclient_id = metrics-collector\n"
	    "reconnect_max = 1\n", dir, uri);
	fclose(f);
	cport = tb_free_port();
	snprintf(mport, sizeof(mport), "127.0.0.1:%d", cport);
	tb_build_path(coll, sizeof(coll), "icsentry-collector");
	cpid = tb_spawn(argv, out);
	ck_assert_int_gt(cpid, 0);
	ck_assert_msg(tb_wait_file_contains(out, "subscribed", 8000) == 0,
	    "collector did not subscribe; see %s", out);

	/* the agent under demo.conf (plant-a/gw-01) publishes its alerts */
	demo = tb_read_file(tb_src_path(src, sizeof(src), "config/demo.conf"),
	    NULL);
	ck_assert_ptr_nonnull(demo);
	agent_start(&a, demo, uri);
	free(demo);
	snprintf(atarget, sizeof(atarget), "agent=127.0.0.1:%d", a.port);
	snprintf(ctarget, sizeof(ctarget), "collector=127.0.0.1:%d", cport);
	ck_assert_int_eq(th_prom_start(&p, targets), 0);
	free(scrape_replayed(a.port));
	alerts = tb_read_file(a.alerts, NULL);
	ck_assert_ptr_nonnull(alerts);
	nalerts = (int)tu_count_lines(alerts);
	free(alerts);
	ck_assert_int_gt(nalerts, 10);

	/* a message the collector must refuse */
	co.uri = uri;
	co.client_id = "metrics-bad";
	co.clean = 1;
	pub = tb_client_new(&co);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(tb_client_connect(pub, 5000), 0);
	ck_assert_int_eq(tb_client_publish(pub, "icsentry/plant-a/gw-01/alert/"
	    "high", "{not json", 9, 1, 0, 5000), 0);
	tb_client_free(pub);

	want = nalerts;
	ck_assert_msg(th_prom_query(&p, "icsentry_collector_alerts_stored_total",
	    &want, 30000, &v) == 0, "stored %g, want %g", v, want);
	ck_assert(th_prom_query(&p, "icsentry_collector_agent_alerts_stored_total"
	    "{site=\"plant-a\",agent=\"gw-01\"}", &want, 10000, &v) == 0);
	want = 1;
	ck_assert(th_prom_query(&p, "icsentry_collector_rejected_total"
	    "{reason=\"invalid\"}", &want, 10000, &v) == 0);
	want = 0;
	ck_assert(th_prom_query(&p, "icsentry_collector_conflicts_total",
	    &want, 10000, &v) == 0);
	ck_assert(th_prom_query(&p, "time() - icsentry_collector_agent_last_"
	    "seen_timestamp_seconds{site=\"plant-a\",agent=\"gw-01\"}", NULL,
	    10000, &v) == 0);
	ck_assert_msg(v >= 0 && v < 60, "last seen %g s ago", v);
	/* the agent's end-to-end backlog: everything acknowledged */
	want = 0;
	ck_assert(th_prom_query(&p, "icsentry_agent_unacked_alerts{site="
	    "\"plant-a\",agent=\"gw-01\"}", &want, 20000, &v) == 0);
	/* and the collector's text directly */
	ck_assert_int_eq(th_get(cport, "/metrics", &body), 200);
	check_exposition(body);
	ck_assert(sample(body, "icsentry_collector_rejected_total{reason="
	    "\"invalid\"}") == 1);
	ck_assert(sample(body, "icsentry_collector_alerts_stored_total") ==
	    nalerts);
	free(body);

	th_prom_stop(&p);
	agent_stop(&a);
	agent_clean(&a);
	ck_assert_int_eq(tb_stop_pid(cpid, SIGTERM, 5000, &st), 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tb_broker_cleanup(&b);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(dir);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("text");
	TCase *te = tcase_create("scrape");

	tcase_add_test(tc, test_prom_text_format);
	tcase_add_test(tc, test_agent_render);
	suite_add_tcase(s, tc);
	tcase_set_timeout(te, 180);
	tcase_add_test(te, test_agent_endpoint);
	tcase_add_test(te, test_bad_metrics_address);
	tcase_add_test(te, test_agent_scraped_by_prometheus);
	tcase_add_test(te, test_collector_scraped_by_prometheus);
	suite_add_tcase(s, te);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
