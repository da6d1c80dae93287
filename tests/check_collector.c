/*
 * check_collector.c - icsentry-collector and icsentry-log end to end:
 * a real mosquitto on a loopback port, the real binaries from
 * $ICSENTRY_BUILD, a Paho client playing the agent, a real SQLite file.
 */
#include <check.h>
#include <cJSON.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "tests/testutil_broker.h"

struct env {
	struct tb_broker	 b;
	char			 dir[256], db[320], conf[320], out[320];
	char			 uri[64];
	pid_t			 coll;
	struct tb_client	*pub;
	struct central_log	*ro;
};

static struct env E;

static void
write_conf(const char *extra)
{
	FILE *f = fopen(E.conf, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "# written by check_collector\n"
	    "[collector]\ndb = %s\nmax_payload = 4096\nfsync = false\n"
	    "log_rejects = 1000\n%s\n"
	    "[mqtt]\nuri = %s\nclient_id = test-collector\n"
	    "reconnect_max = 1\nkeepalive = 10\n"
	    /* these tests exercise DESIGN's shared subscription; the shipped
	     * default (plain) is checked by test_example_config */
	    "shared_subscription = true\n", E.db, extra != NULL ?
	    extra : "", E.uri);
	ck_assert_int_eq(fclose(f), 0);
}

/* Start the collector and wait for its subscription (n-th time). */
static void
start_collector(int nth)
{
	char bin[300];
	char *argv[] = { bin, (char *)"-c", E.conf, NULL };

	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	E.coll = tb_spawn(argv, E.out);
	ck_assert_int_gt(E.coll, 0);
	ck_assert_msg(tb_wait_file_count(E.out, "subscribed", nth, 8000) == 0,
	    "collector did not subscribe; see %s", E.out);
}

/* SIGTERM the collector: it must exit 0. */
static void
stop_collector(void)
{
	int st = -1;

	ck_assert_int_eq(tb_stop_pid(E.coll, SIGTERM, 5000, &st), 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	E.coll = 0;
}

static struct tb_client *
new_publisher(const char *id)
{
	struct tb_client_opts o = { .uri = E.uri, .client_id = id,
	    .clean = 1 };
	struct tb_client *c = tb_client_new(&o);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(tb_client_connect(c, 5000), 0);
	return c;
}

static void
setup(void)
{
	memset(&E, 0, sizeof(E));
	ck_assert_int_eq(tb_broker_start(&E.b), 0);
	tb_broker_uri(&E.b, E.uri, sizeof(E.uri));
	ck_assert_int_eq(tb_tmpdir(E.dir, sizeof(E.dir), "coll"), 0);
	snprintf(E.db, sizeof(E.db), "%s/central.db", E.dir);
	snprintf(E.conf, sizeof(E.conf), "%s/collector.conf", E.dir);
	snprintf(E.out, sizeof(E.out), "%s/collector.out", E.dir);
	write_conf(NULL);
	start_collector(1);
	E.pub = new_publisher("sim-gw-01");
}

static void
teardown(void)
{
	central_log_close(E.ro);
	tb_client_free(E.pub);
	if (E.coll > 0)
		tb_stop_pid(E.coll, SIGTERM, 5000, NULL);
	tb_broker_cleanup(&E.b);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(E.dir);
}

static struct central_log *
ro(void)
{
	char err[256];

	if (E.ro == NULL)
		ck_assert_msg(central_log_open(E.db, CENTRAL_LOG_RDONLY,
		    CENTRAL_LOG_SYNC_NORMAL, &E.ro, err, sizeof(err)) == 0,
		    "%s", err);
	return E.ro;
}

static int64_t
counter(const char *name)
{
	int64_t v = -1;

	ck_assert_int_eq(central_log_counter(ro(), name, &v), 0);
	return v;
}

/* Poll the log until the counter reaches want; its final value. */
static int64_t
wait_counter(const char *name, int64_t want, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms, v;

	for (;;) {
		v = counter(name);
		if (v >= want || tb_now_ms() >= end)
			return v;
		tb_sleep_ms(20);
	}
}

static void
publish(struct tb_client *c, const char *topic, const char *payload,
    int retained)
{
	ck_assert_int_eq(tb_client_publish(c, topic, payload,
	    (int)strlen(payload), 1, retained, 5000), 0);
}

/* Publish n chained alerts of c, keeping their text in out[]. */
static void
publish_chain(struct tb_client *cl, struct tb_chain *c, int n, char **out)
{
	char topic[192];
	int i;

	snprintf(topic, sizeof(topic), "icsentry/%s/%s/alert/high", c->site,
	    c->agent);
	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(c, NULL);

		ck_assert_ptr_nonnull(j);
		publish(cl, topic, j, 0);
		if (out != NULL)
			out[i] = j;
		else
			free(j);
	}
}

/* Run icsentry-log with args; its exit code, output in *text. */
static int
run_log(char **text, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	char bin[300], out[340];
	char *argv[] = { bin, (char *)a1, (char *)"--db", E.db, (char *)a2,
	    (char *)a3, (char *)a4, NULL };
	int rc;

	tb_build_path(bin, sizeof(bin), "icsentry-log");
	snprintf(out, sizeof(out), "%s/log.out", E.dir);
	unlink(out);
	rc = tb_run(argv, out, 10000);
	*text = tb_read_file(out, NULL);
	ck_assert_ptr_nonnull(*text);
	return rc;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
free_all(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_alerts_stored_once)
{
	char *sent[20], *text, *line, *save = NULL;
	struct tb_chain c;
	int i;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 20, sent);
	/* QoS 1 re-delivery of the first five */
	for (i = 0; i < 5; i++)
		publish(E.pub, "icsentry/plant-a/gw-01/alert/high", sent[i], 0);
	ck_assert_int_eq(wait_counter("duplicates", 5, 8000), 5);
	ck_assert_int_eq(counter("stored"), 20);
	ck_assert_int_eq(counter("conflicts"), 0);

	/* icsentry-log query --json gives back exactly the bytes sent */
	ck_assert_int_eq(run_log(&text, "query", "--json", NULL, NULL), 0);
	ck_assert_int_eq(count_lines(text), 20);
	line = strtok_r(text, "\n", &save);
	for (i = 0; i < 20; i++) {
		ck_assert_ptr_nonnull(line);
		ck_assert_str_eq(line, sent[i]);
		line = strtok_r(NULL, "\n", &save);
	}
	free(text);
	ck_assert_int_eq(run_log(&text, "verify", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text,
	    "agent plant-a/gw-01: 20 alerts, seq 1-20: ok"));
	ck_assert_ptr_nonnull(strstr(text, "verify: 1 agent, 20 alerts, 0 "
	    "problems"));
	free(text);
	/* filters go through to the query */
	ck_assert_int_eq(run_log(&text, "query", "--agent", "gw-01", "--csv"),
	    0);
	ck_assert_int_eq(count_lines(text), 21);
	ck_assert_ptr_nonnull(strstr(text, "ts,site,agent,seq,severity,"));
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--min-severity", "critical",
	    NULL), 0);
	ck_assert_int_eq(count_lines(text), 0);
	free(text);
	free_all(sent, 20);
}
END_TEST

START_TEST(test_bad_input_rejected)
{
	static const char alert_topic[] = "icsentry/plant-a/gw-01/alert/high";
	char *good[6], *big, *text;
	struct tb_chain c;
	cJSON *j, *col;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 3, good);
	/* not JSON, JSON but not an alert */
	publish(E.pub, alert_topic, "hello", 0);
	publish(E.pub, alert_topic, "{\"agent\":\"gw-01\"}", 0);
	/* larger than max_payload (4096) */
	big = malloc(5001);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	publish(E.pub, alert_topic, big, 0);
	free(big);
	/* a valid alert of gw-01 under gw-02's topic, under the wrong
	 * severity, under an unknown severity */
	good[3] = tb_chain_next(&c, NULL);
	publish(E.pub, "icsentry/plant-a/gw-02/alert/high", good[3], 0);
	publish(E.pub, "icsentry/plant-a/gw-01/alert/low", good[3], 0);
	publish(E.pub, "icsentry/plant-a/gw-01/alert/urgent", good[3], 0);
	/* bad status and stats */
	publish(E.pub, "icsentry/plant-a/gw-01/status", "maybe", 0);
	publish(E.pub, "icsentry/plant-a/gw-01/stats", "not json", 0);
	/* the collector is still there and stores good ones */
	publish(E.pub, alert_topic, good[3], 0);
	good[4] = tb_chain_next(&c, NULL);
	good[5] = tb_chain_next(&c, NULL);
	publish(E.pub, alert_topic, good[4], 0);
	publish(E.pub, alert_topic, good[5], 0);

	ck_assert_int_eq(wait_counter("stored", 6, 8000), 6);
	ck_assert_int_eq(wait_counter("rejected_invalid", 4, 2000), 4);
	ck_assert_int_eq(counter("rejected_size"), 1);
	ck_assert_int_eq(counter("rejected_topic"), 3);
	ck_assert_int_eq(kill(E.coll, 0), 0);

	ck_assert_int_eq(run_log(&text, "stats", "--json", NULL, NULL), 0);
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	col = cJSON_GetObjectItem(j, "collector");
	ck_assert_int_eq(cJSON_GetObjectItem(col, "rejected_size")->valueint,
	    1);
	ck_assert_int_eq(cJSON_GetObjectItem(col, "rejected_topic")->valueint,
	    3);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "alerts_stored")->valueint, 6);
	cJSON_Delete(j);
	free(text);
	ck_assert_int_eq(run_log(&text, "verify", NULL, NULL, NULL), 0);
	free(text);
	free_all(good, 6);
}
END_TEST

START_TEST(test_status_stats_assets)
{
	char *text;
	int64_t n = -1;
	cJSON *j, *a0;

	publish(E.pub, "icsentry/plant-a/gw-01/status", "online", 1);
	publish(E.pub, "icsentry/plant-a/gw-01/stats",
	    "{\"packets\":10,\"alerts\":2}", 0);
	publish(E.pub, "icsentry/plant-a/gw-01/asset/10.0.0.5",
	    "{\"ip\":\"10.0.0.5\",\"vendor\":\"Siemens\"}", 1);
	publish(E.pub, "icsentry/plant-a/gw-01/asset/10.0.0.6",
	    "{\"ip\":\"10.0.0.6\"}", 1);
	for (int i = 0; i < 400; i++) {
		ck_assert_int_eq(central_log_asset_count(ro(), &n), 0);
		if (n == 2)
			break;
		tb_sleep_ms(20);
	}
	ck_assert_int_eq(n, 2);
	/* clearing a retained asset removes the entry */
	publish(E.pub, "icsentry/plant-a/gw-01/asset/10.0.0.5", "", 1);
	for (int i = 0; i < 400; i++) {
		ck_assert_int_eq(central_log_asset_count(ro(), &n), 0);
		if (n == 1)
			break;
		tb_sleep_ms(20);
	}
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(run_log(&text, "stats", "--json", NULL, NULL), 0);
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "agents")),
	    1);
	a0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "agents"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(a0, "status")->valuestring,
	    "online");
	ck_assert_str_eq(cJSON_GetObjectItem(a0, "agent")->valuestring,
	    "gw-01");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(a0, "stats"),
	    "packets")->valueint, 10);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "assets")->valueint, 1);
	cJSON_Delete(j);
	free(text);
	/* retained offline replaces online */
	publish(E.pub, "icsentry/plant-a/gw-01/status", "offline", 1);
	for (int i = 0; i < 250; i++) {
		ck_assert_int_eq(run_log(&text, "stats", NULL, NULL, NULL), 0);
		if (strstr(text, "plant-a/gw-01 offline last seen") != NULL)
			break;
		free(text);
		text = NULL;
		tb_sleep_ms(20);
	}
	ck_assert_ptr_nonnull(text);
	free(text);
}
END_TEST

START_TEST(test_collector_away_session_kept)
{
	struct tb_chain c;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 5, NULL);
	ck_assert_int_eq(wait_counter("stored", 5, 8000), 5);
	stop_collector();
	/* alerts published while the collector is away ... */
	publish_chain(E.pub, &c, 10, NULL);
	/* ... are kept by the broker across its own restart ... */
	tb_client_free(E.pub);
	E.pub = NULL;
	ck_assert_int_eq(tb_broker_stop(&E.b), 0);
	ck_assert_int_eq(tb_broker_restart(&E.b), 0);
	/* ... and delivered when the collector returns */
	start_collector(2);
	ck_assert_int_eq(wait_counter("stored", 15, 8000), 15);
	ck_assert_int_eq(counter("conflicts"), 0);
	E.pub = new_publisher("sim-gw-01");
	publish_chain(E.pub, &c, 1, NULL);
	ck_assert_int_eq(wait_counter("stored", 16, 8000), 16);
}
END_TEST

START_TEST(test_broker_restart_reconnects)
{
	struct tb_chain c;
	char *text;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 5, NULL);
	ck_assert_int_eq(wait_counter("stored", 5, 8000), 5);
	tb_client_free(E.pub);
	E.pub = NULL;
	ck_assert_int_eq(tb_broker_stop(&E.b), 0);
	ck_assert_int_eq(tb_broker_restart(&E.b), 0);
	/* the collector notices, reconnects and subscribes again */
	ck_assert_int_eq(tb_wait_file_count(E.out, "subscribed", 2, 8000), 0);
	ck_assert_int_ge(tb_file_count(E.out, "connection lost"), 1);
	E.pub = new_publisher("sim-gw-01");
	publish_chain(E.pub, &c, 5, NULL);
	ck_assert_int_eq(wait_counter("stored", 10, 8000), 10);
	ck_assert_int_eq(kill(E.coll, 0), 0);
	ck_assert_int_eq(run_log(&text, "verify", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "10 alerts, seq 1-10: ok"));
	free(text);
}
END_TEST

/*
 * Alerts published after a broker restart but before the collector is
 * back.  mosquitto 2.0 restores a kept session's plain subscriptions but
 * not its shared ones (the broker then answers PUBACK 0x10 "no matching
 * subscribers" and drops them); with shared_subscription = false they are
 * queued for the collector and arrive.
 */
START_TEST(test_restart_plain_subscription_queues)
{
	struct tb_chain c;
	FILE *f;

	stop_collector();
	f = fopen(E.conf, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "shared_subscription = false\n");
	fclose(f);
	start_collector(2);
	ck_assert_int_eq(tb_file_count(E.out, "subscribed to icsentry/+/+/"
	    "alert/#"), 1);
	stop_collector();
	tb_client_free(E.pub);
	E.pub = NULL;
	ck_assert_int_eq(tb_broker_stop(&E.b), 0);
	ck_assert_int_eq(tb_broker_restart(&E.b), 0);
	E.pub = new_publisher("sim-gw-01");
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 5, NULL);
	start_collector(3);
	ck_assert_int_eq(wait_counter("stored", 5, 8000), 5);
}
END_TEST

START_TEST(test_collector_killed_loses_nothing)
{
	struct tb_chain c;
	char *text;

	/* SIGKILL in the middle of a burst; whatever the broker already
	 * handed over must come back from Paho's persistence or the broker */
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 40, NULL);
	tb_stop_pid(E.coll, SIGKILL, 2000, NULL);
	E.coll = 0;
	publish_chain(E.pub, &c, 10, NULL);
	start_collector(2);
	ck_assert_int_eq(wait_counter("stored", 50, 10000), 50);
	ck_assert_int_eq(run_log(&text, "verify", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "50 alerts, seq 1-50: ok"));
	free(text);
}
END_TEST

/* Wait for an ack message whose payload is want; its arrival time or -1. */
static int64_t
wait_ack(struct tb_client *w, const char *want, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;
	size_t seen = 0, i, n;

	while (tb_now_ms() < end) {
		n = tb_client_count(w);
		for (i = seen; i < n; i++)
			if (strcmp(tb_client_msg(w, i)->payload, want) == 0)
				return tb_now_ms();
		seen = n;
		tb_sleep_ms(5);
	}
	return -1;
}

/*
 * Adaptive group commit: with batch_ms 5000 a lone burst is committed and
 * acknowledged once messages stop coming (batch_idle_ms, 2 ms), long
 * before the timer, and the ack never comes before the commit.  With
 * batch_idle_ms = 0 the same burst waits for the 5 s timer.
 */
START_TEST(test_adaptive_commit_acks_early)
{
	struct tb_client_opts o = { .uri = E.uri, .client_id = "ack-watch",
	    .clean = 1 };
	struct tb_client *w;
	struct tb_chain c;
	int64_t t0, t;

	stop_collector();
	write_conf("batch_ms = 5000");
	start_collector(2);
	w = tb_client_new(&o);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(tb_client_connect(w, 5000), 0);
	ck_assert_int_eq(tb_client_subscribe(w, "icsentry/plant-a/gw-01/ack",
	    1, 5000), 1);
	tb_chain_init(&c, "plant-a", "gw-01", 1);
	t0 = tb_now_ms();
	publish_chain(E.pub, &c, 3, NULL);
	t = wait_ack(w, "3", 4000);
	ck_assert_msg(t > 0 && t - t0 < 4000, "no ack before the 5 s timer");
	/* acknowledged means committed */
	ck_assert_int_eq(counter("stored"), 3);

	stop_collector();
	write_conf("batch_ms = 5000\nbatch_idle_ms = 0");
	start_collector(3);
	t0 = tb_now_ms();
	publish_chain(E.pub, &c, 2, NULL);
	/* timer only: nothing for a while, then all of it */
	ck_assert_int_eq(wait_ack(w, "5", 2000), -1);
	ck_assert_int_eq(counter("stored"), 3);
	t = wait_ack(w, "5", 10000);
	ck_assert_int_gt(t, 0);
	ck_assert_int_ge(t - t0, 4000);
	ck_assert_int_eq(counter("stored"), 5);
	tb_client_free(w);
}
END_TEST

START_TEST(test_tail_follows)
{
	char bin[300], out[340];
	char *argv[] = { bin, (char *)"tail", (char *)"--db", E.db,
	    (char *)"-n", (char *)"2", (char *)"--json", (char *)"--interval",
	    (char *)"0.05", NULL };
	char *sent[6], *text;
	struct tb_chain c;
	pid_t pid;
	int st = -1;

	tb_chain_init(&c, "plant-a", "gw-01", 1);
	publish_chain(E.pub, &c, 3, sent);
	ck_assert_int_eq(wait_counter("stored", 3, 8000), 3);
	tb_build_path(bin, sizeof(bin), "icsentry-log");
	snprintf(out, sizeof(out), "%s/tail.out", E.dir);
	pid = tb_spawn(argv, out);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(tb_wait_file_count(out, "\n", 2, 5000), 0);
	publish_chain(E.pub, &c, 3, sent + 3);
	ck_assert_int_eq(tb_wait_file_count(out, "\n", 5, 5000), 0);
	tb_sleep_ms(200);
	ck_assert_int_eq(tb_stop_pid(pid, SIGTERM, 3000, &st), 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	text = tb_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	/* the last two old ones, then the three new ones, once each */
	ck_assert_int_eq(count_lines(text), 5);
	ck_assert_ptr_null(strstr(text, sent[0]));
	ck_assert_ptr_nonnull(strstr(text, sent[1]));
	ck_assert_ptr_nonnull(strstr(text, sent[5]));
	free(text);
	free_all(sent, 6);
}
END_TEST

/* Run the collector with args; its exit code and stderr. */
static int
run_collector(char **text, const char *a1, const char *a2, const char *a3)
{
	char bin[300], out[340];
	char *argv[] = { bin, (char *)a1, (char *)a2, (char *)a3, NULL };
	int rc;

	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	snprintf(out, sizeof(out), "%s/run.out", E.dir);
	unlink(out);
	rc = tb_run(argv, out, 10000);
	*text = tb_read_file(out, NULL);
	ck_assert_ptr_nonnull(*text);
	return rc;
}

START_TEST(test_exit_codes)
{
	char bad[340], *text;
	FILE *f;

	ck_assert_int_eq(run_collector(&text, "--help", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "usage: icsentry-collector"));
	free(text);
	ck_assert_int_eq(run_collector(&text, "--version", NULL, NULL), 0);
	free(text);
	ck_assert_int_eq(run_collector(&text, "--bogus", NULL, NULL), 2);
	free(text);
	ck_assert_int_eq(run_collector(&text, "-c", "/nonexistent/c.conf",
	    NULL), 2);
	ck_assert_ptr_nonnull(strstr(text, "/nonexistent/c.conf"));
	free(text);
	/* an unknown key is named with file:line */
	snprintf(bad, sizeof(bad), "%s/bad.conf", E.dir);
	f = fopen(bad, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\n\ndb = /tmp/x.db\nbogus = 1\n");
	fclose(f);
	ck_assert_int_eq(run_collector(&text, "-c", bad, NULL), 2);
	ck_assert_ptr_nonnull(strstr(text, "bad.conf:4"));
	ck_assert_int_eq(count_lines(text), 1);
	free(text);
	ck_assert_int_eq(run_collector(&text, "--mqtt", "http://x", NULL), 2);
	free(text);
	/* a database that cannot be created is a runtime failure */
	ck_assert_int_eq(run_collector(&text, "--db", "/nonexistent/dir/c.db",
	    "--mqtt=tcp://127.0.0.1:1"), 1);
	free(text);
	/* icsentry-log: usage, and a missing database */
	ck_assert_int_eq(run_log(&text, "frobnicate", NULL, NULL, NULL), 2);
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--min-severity", "urgent",
	    NULL), 2);
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--since", "yesterday", NULL),
	    2);
	free(text);
	ck_assert_int_eq(run_log(&text, "verify", "--csv", NULL, NULL), 2);
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--help", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "--min-severity"));
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--since", "1h", NULL), 0);
	free(text);
}
END_TEST

START_TEST(test_example_config_runs)
{
	char bin[300], conf[512], db[340], out[340];
	char *argv[] = { bin, (char *)"-c", conf, (char *)"--db", db,
	    (char *)"--mqtt", E.uri, (char *)"--client-id",
	    (char *)"example-conf", NULL };
	pid_t pid;
	int st = -1;

	/* config/collector.conf, as shipped, with only db and broker
	 * overridden on the command line */
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	tb_src_path(conf, sizeof(conf), "config/collector.conf");
	snprintf(db, sizeof(db), "%s/example.db", E.dir);
	snprintf(out, sizeof(out), "%s/example.out", E.dir);
	pid = tb_spawn(argv, out);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(tb_wait_file_contains(out, "subscribed", 8000) == 0,
	    "see %s", out);
	/* the shipped default is the lossless plain subscription */
	ck_assert_int_eq(tb_file_count(out, "$share/"), 0);
	ck_assert_int_ge(tb_file_count(out, "icsentry/+/+/alert/#"), 1);
	ck_assert_int_eq(tb_stop_pid(pid, SIGTERM, 5000, &st), 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split text into its lines (in place), sorted; returns the count. */
static int
sorted_lines(char *text, char **v, int max)
{
	char *save = NULL, *line;
	int n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save))
		v[n++] = line;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_str);
	return n;
}

START_TEST(test_agent_replay_end_to_end)
{
	char agent[300], pcap[300], conf[340], alerts[340], out[340];
	char src[512], *demo, *sent, *got;
	char *argv[] = { agent, (char *)"-c", conf, (char *)"-r", pcap,
	    (char *)"--mqtt", E.uri, (char *)"--alerts-out", alerts, NULL };
	static char *a[4096], *b[4096];
	int n, m, i;
	FILE *f;

	/* the real agent replays the generated attack capture (make tests
	 * builds both) with MQTT on */
	tb_build_path(agent, sizeof(agent), "icsentry-agent");
	tb_build_path(pcap, sizeof(pcap), "scenarios/factory-attacks.pcap");
	ck_assert_msg(access(agent, X_OK) == 0 && access(pcap, R_OK) == 0,
	    "%s or %s missing: build them with make tests", agent, pcap);
	snprintf(conf, sizeof(conf), "%s/agent.conf", E.dir);
	snprintf(alerts, sizeof(alerts), "%s/alerts.jsonl", E.dir);
	snprintf(out, sizeof(out), "%s/agent.out", E.dir);
	demo = tb_read_file(tb_src_path(src, sizeof(src), "config/demo.conf"),
	    NULL);
	ck_assert_ptr_nonnull(demo);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n[mqtt]\npersist_dir = %s/agent-mqtt\nreconnect_max = 1\n"
	    "[agent]\nstate_file = %s/agent.state\n", demo, E.dir, E.dir);
	fclose(f);
	free(demo);
	ck_assert_int_eq(tb_run(argv, out, 120000), 0);

	sent = tb_read_file(alerts, NULL);
	ck_assert_ptr_nonnull(sent);
	n = sorted_lines(sent, a, 4096);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(wait_counter("stored", n, 10000), n);
	ck_assert_int_eq(counter("duplicates") + counter("conflicts"), 0);
	ck_assert_int_eq(counter("rejected_invalid") + counter("rejected_topic")
	    + counter("rejected_size"), 0);
	/* exactly once each, byte for byte the agent's own lines */
	ck_assert_int_eq(run_log(&got, "query", "--json", NULL, NULL), 0);
	m = sorted_lines(got, b, 4096);
	ck_assert_int_eq(m, n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(a[i], b[i]);
	free(got);
	ck_assert_int_eq(run_log(&got, "verify", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(got, "agent plant-a/gw-01: "));
	ck_assert_ptr_nonnull(strstr(got, " 0 problems"));
	free(got);
	free(sent);
}
END_TEST

START_TEST(test_same_name_two_sites)
{
	struct tb_client *pb = new_publisher("sim-plant-b-gw-01");
	char *text, *p;
	struct tb_chain a, b, forged;
	char topic[128], *j;

	/*
	 * Two gateways named gw-01 at plant-a and plant-b.  Before (site,
	 * agent) identity, plant-b's critical PLC STOP (its seq 3) was filed
	 * as a conflict of plant-a's seq 3 and never shown.
	 */
	tb_chain_init(&a, "plant-a", "gw-01", 1);
	tb_chain_init(&b, "plant-b", "gw-01", 1);
	publish_chain(E.pub, &a, 5, NULL);
	ck_assert_int_eq(wait_counter("stored", 5, 8000), 5);
	publish_chain(pb, &b, 2, NULL);
	j = tb_chain_next(&b, &(struct tb_alert_spec){ "critical",
	    "s7.plc_stop", "T0858", "s7comm", "10.9.9.9", "10.2.0.10" });
	publish(pb, "icsentry/plant-b/gw-01/alert/critical", j, 0);
	free(j);
	publish_chain(pb, &b, 2, NULL);
	ck_assert_int_eq(wait_counter("stored", 10, 8000), 10);
	ck_assert_int_eq(counter("conflicts"), 0);
	/* a publisher may forge plant-a's gw-01 ahead of plant-a's own
	 * numbers: it still cannot touch plant-b's */
	tb_chain_init(&forged, "plant-a", "gw-01", 6);
	snprintf(topic, sizeof(topic), "icsentry/plant-a/gw-01/alert/high");
	publish_chain(E.pub, &forged, 3, NULL);
	ck_assert_int_eq(wait_counter("stored", 13, 8000), 13);

	ck_assert_int_eq(run_log(&text, "query", "--min-severity", "critical",
	    NULL), 0);
	ck_assert_int_eq(count_lines(text), 1);
	ck_assert_ptr_nonnull(strstr(text, " plant-b/gw-01 #3 s7.plc_stop "));
	free(text);
	ck_assert_int_eq(run_log(&text, "query", "--agent", "plant-b/gw-01",
	    NULL), 0);
	ck_assert_int_eq(count_lines(text), 5);
	free(text);
	ck_assert_int_eq(run_log(&text, "verify", "--agent", "plant-b/gw-01",
	    NULL), 0);
	ck_assert_ptr_nonnull(strstr(text,
	    "agent plant-b/gw-01: 5 alerts, seq 1-5: ok"));
	ck_assert_ptr_null(strstr(text, "plant-a"));
	free(text);
	/* plant-a's chain shows the forgery (a second head at seq 6);
	 * plant-b's stays clean */
	ck_assert_int_eq(run_log(&text, "verify", NULL, NULL, NULL), 1);
	ck_assert_ptr_nonnull(strstr(text, "plant-a/gw-01 seq 6: broken link"));
	ck_assert_ptr_nonnull(strstr(text,
	    "agent plant-b/gw-01: 5 alerts, seq 1-5: ok"));
	free(text);
	ck_assert_int_eq(run_log(&text, "stats", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "  plant-a/gw-01 8\n"));
	ck_assert_ptr_nonnull(strstr(text, "  plant-b/gw-01 5\n"));
	free(text);
	/* the repeated name is noted once, naming both */
	p = tb_read_file(E.out, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(tb_file_count(E.out, "note: agent name 'gw-01'"), 1);
	ck_assert_ptr_nonnull(strstr(p, "plant-b/gw-01"));
	free(p);
	tb_client_free(pb);
}
END_TEST

static Suite *
collector_suite(void)
{
	Suite *s = suite_create("collector");
	TCase *tc = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_alerts_stored_once);
	tcase_add_test(tc, test_bad_input_rejected);
	tcase_add_test(tc, test_status_stats_assets);
	tcase_add_test(tc, test_collector_away_session_kept);
	tcase_add_test(tc, test_broker_restart_reconnects);
	tcase_add_test(tc, test_restart_plain_subscription_queues);
	tcase_add_test(tc, test_collector_killed_loses_nothing);
	tcase_add_test(tc, test_adaptive_commit_acks_early);
	tcase_add_test(tc, test_tail_follows);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_example_config_runs);
	tcase_add_test(tc, test_agent_replay_end_to_end);
	tcase_add_test(tc, test_same_name_two_sites);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(collector_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
