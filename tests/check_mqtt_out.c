/*
 * check_mqtt_out.c - the agent's publisher against a real mosquitto:
 * order, offline buffering with the broker down at start and mid-stream,
 * overflow, SIGKILL + restart from persist_dir, the last will, assets,
 * stats, option checking.  The "SOC side" is a Paho test client.
 */
#include <check.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/cfg.h"
#include "lib/ids.h"
#include "agent/mqtt_out.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"

static struct tb_broker B;
static char dir[256], pdir[320], uri[64];
/* the SOC side's broker when a test runs its own (else uri) */
static const char *uri_override;

/* log lines from mqtt_out, kept for assertions and off stderr */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];
static int64_t t_start;

static void
capture_log(void *ctx, const char *line)
{
	size_t n;

	(void)ctx;
	pthread_mutex_lock(&log_mu);
	n = strlen(log_text);
	snprintf(log_text + n, sizeof(log_text) - n, "%s\n", line);
	pthread_mutex_unlock(&log_mu);
}

static int
log_has(const char *text)
{
	int found;

	pthread_mutex_lock(&log_mu);
	found = strstr(log_text, text) != NULL;
	pthread_mutex_unlock(&log_mu);
	return found;
}

/* Wait until the log has text: 1, or 0 on timeout. */
static int
wait_log(const char *text, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	while (!log_has(text) && tb_now_ms() < end)
		tb_sleep_ms(20);
	return log_has(text);
}

static void
setup(void)
{
	memset(&B, 0, sizeof(B));
	log_text[0] = '\0';
	t_start = tb_now_ms();
	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "mqo"), 0);
	snprintf(pdir, sizeof(pdir), "%s/persist", dir);
	ck_assert_int_eq(tb_broker_start(&B), 0);
	tb_broker_uri(&B, uri, sizeof(uri));
}

/* Keep Paho's receive thread awake (see tb_pulse_start); only after any
 * fork(), since Paho's threads do not survive one. */
static void
pulse_on(void)
{
	struct tb_client_opts o = { .uri = uri, .client_id = "pulse",
	    .clean = 1 };

	ck_assert_int_eq(tb_pulse_start(&o, "tb/pulse"), 0);
}

static void
teardown(void)
{
	tb_pulse_stop();
	if (getenv("TB_TIMING") != NULL)
		fprintf(stderr, "test took %lld ms\n",
		    (long long)(tb_now_ms() - t_start));
	tb_broker_cleanup(&B);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(dir);
}

static struct mqtt_out_opts
opts(const char *persist)
{
	struct mqtt_out_opts o;

	memset(&o, 0, sizeof(o));
	o.uri = uri;
	o.site = "plant-a";
	o.agent = "gw-01";
	o.keepalive = 10;
	o.mqtt_version = 5;
	o.max_buffered = 1000;
	o.persist_dir = persist;
	o.session_expiry = 300;
	o.connect_timeout = 2;
	o.reconnect_max = 1;
	o.log = capture_log;
	return o;
}

static struct mqtt_out *
new_out(const struct mqtt_out_opts *o)
{
	char err[256] = "";
	struct mqtt_out *m = mqtt_out_new(o, err, sizeof(err));

	ck_assert_msg(m != NULL, "mqtt_out_new: %s", err);
	return m;
}

static struct mqtt_out_counters
counters(struct mqtt_out *m)
{
	struct mqtt_out_counters c;

	mqtt_out_counters(m, &c);
	return c;
}

/* Poll until the delivered counter reaches n. */
static uint64_t
wait_delivered(struct mqtt_out *m, uint64_t n, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	while (counters(m).delivered < n && tb_now_ms() < end)
		tb_sleep_ms(10);
	return counters(m).delivered;
}

/* Poll until nothing is buffered or in flight (the status included). */
static uint64_t
wait_drained(struct mqtt_out *m, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	while (counters(m).buffered > 0 && tb_now_ms() < end)
		tb_sleep_ms(10);
	return counters(m).buffered;
}

static struct tb_client *
subscriber(const char *id, int persistent)
{
	struct tb_client_opts o = { .uri = uri_override != NULL ?
	    uri_override : uri, .client_id = id, .clean = !persistent, .session_expiry = persistent ? 300 : 0 };
	struct tb_client *c = tb_client_new(&o);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(tb_client_connect(c, 5000), 0);
	ck_assert_int_eq(tb_client_subscribe(c, "icsentry/#", 1, 5000), 1);
	return c;
}

/* Reconnect a persistent subscriber after a broker restart. */
static struct tb_client *
resubscribe(const char *id)
{
	struct tb_client_opts o = { .uri = uri_override != NULL ?
	    uri_override : uri, .client_id = id, .clean = 0,
	    .session_expiry = 300 };
	struct tb_client *c = tb_client_new(&o);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(tb_client_connect(c, 5000), 0);
	return c;
}

/* Alerts seen by a subscriber, by seq, first occurrence order. */
struct seen {
	int	n, dups;
	int	next;		/* the seq expected next */
	int	disorder;
	char	*text[256];
};

static void
collect(struct tb_client *c, struct seen *s, size_t *from)
{
	const struct tb_msg *m;
	const char *p;
	int seq;

	for (; *from < tb_client_count(c); (*from)++) {
		m = tb_client_msg(c, *from);
		if (strstr(m->topic, "/alert/") == NULL)
			continue;
		p = strstr(m->payload, "\"seq\":");
		ck_assert_ptr_nonnull(p);
		seq = atoi(p + 6);
		if (seq < s->next) {
			s->dups++;	/* QoS 1 may repeat; never reorder */
		} else if (seq == s->next) {
			if (s->n < 256)
				s->text[s->n] = m->payload;
			s->n++;
			s->next++;
		} else {
			s->disorder++;
		}
	}
}

/* Wait until s has n alerts in order. */
static int
wait_seen(struct tb_client *c, struct seen *s, size_t *from, int n,
    int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	for (;;) {
		collect(c, s, from);
		if (s->n >= n || tb_now_ms() >= end)
			return s->n;
		tb_sleep_ms(10);
	}
}

static void
publish_n(struct mqtt_out *m, struct tb_chain *ch, int n, char **out)
{
	int i;

	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(ch, NULL);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(mqtt_out_alert(m, "high", j, strlen(j)), 0);
		if (out != NULL)
			out[i] = j;
		else
			free(j);
	}
}

static void
free_all(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_in_order_and_counted)
{
	struct mqtt_out_opts o = opts(NULL);
	struct seen s = { .next = 1 };
	struct mqtt_out_counters k;
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	char *sent[50];
	size_t from = 0, i;
	int offline = 0, j;

	pulse_on();
	sub = subscriber("soc", 0);
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 50, sent);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 50, 8000), 50);
	ck_assert_int_eq(s.disorder, 0);
	for (j = 0; j < 50; j++)
		ck_assert_str_eq(s.text[j], sent[j]);
	ck_assert_int_eq(wait_delivered(m, 50, 5000), 50);
	k = counters(m);
	ck_assert_int_eq(k.published, 50);
	ck_assert_int_eq(k.dropped, 0);
	ck_assert_int_eq(k.refused, 0);
	ck_assert_int_eq(k.buffered, 0);
	ck_assert_int_eq(k.connected, 1);
	ck_assert_int_eq(k.mqtt_version, 5);
	ck_assert_int_eq(k.reconnects, 0);
	ck_assert(log_has("connected to tcp://127.0.0.1:"));
	/* every alert went to its severity topic */
	for (i = 0; i < tb_client_count(sub); i++) {
		const struct tb_msg *msg = tb_client_msg(sub, i);

		if (strstr(msg->topic, "/alert/") != NULL)
			ck_assert_str_eq(msg->topic,
			    "icsentry/plant-a/gw-01/alert/high");
	}
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	/* a clean close says offline */
	for (j = 0; j < 200 && !offline; j++) {
		for (i = 0; i < tb_client_count(sub); i++) {
			const struct tb_msg *msg = tb_client_msg(sub, i);

			if (strcmp(msg->topic, "icsentry/plant-a/gw-01/status")
			    == 0 && strcmp(msg->payload, "offline") == 0)
				offline = 1;
		}
		tb_sleep_ms(10);
	}
	ck_assert_int_eq(offline, 1);
	tb_client_free(sub);
	free_all(sent, 50);
}
END_TEST

START_TEST(test_close_flushes_before_first_connect)
{
	struct mqtt_out_opts o = opts(NULL);
	struct seen s = { .next = 1 };
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	size_t from = 0;

	/* a replay can end before the first connect completes: close() must
	 * still flush what it was given, within its timeout */
	pulse_on();
	sub = subscriber("soc", 0);
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 16, NULL);
	ck_assert_int_eq(mqtt_out_close(m, 5000), 0);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 16, 5000), 16);
	ck_assert_int_eq(s.disorder, 0);
	tb_client_free(sub);
}
END_TEST

START_TEST(test_broker_down_at_start)
{
	struct mqtt_out_opts o = opts(pdir);
	struct seen s = { .next = 1 };
	struct mqtt_out_counters k;
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	char *sent[20];
	size_t from = 0;
	int64_t t0;
	int j;

	pulse_on();
	/* the SOC side's kept session queues what arrives while it is away */
	tb_client_free(subscriber("soc", 1));
	ck_assert_int_eq(tb_broker_stop(&B), 0);

	t0 = tb_now_ms();
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 20, sent);
	/* neither creating nor publishing waited for the broker */
	ck_assert_int_lt(tb_now_ms() - t0, 1000);
	k = counters(m);
	ck_assert_int_eq(k.published, 20);
	ck_assert_int_eq(k.buffered, 20);
	ck_assert_int_eq(k.delivered, 0);
	ck_assert_int_eq(k.connected, 0);
	ck_assert_int_eq(k.dropped, 0);
	/* the failed connect is reported, and it keeps trying */
	ck_assert_int_eq(wait_log("cannot connect to", 10000), 1);

	ck_assert_int_eq(tb_broker_restart(&B), 0);
	sub = resubscribe("soc");
	ck_assert_int_eq(wait_seen(sub, &s, &from, 20, 10000), 20);
	ck_assert_int_eq(s.disorder, 0);
	for (j = 0; j < 20; j++)
		ck_assert_str_eq(s.text[j], sent[j]);
	ck_assert_int_eq(wait_delivered(m, 20, 5000), 20);
	ck_assert_int_eq(wait_drained(m, 5000), 0);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
	free_all(sent, 20);
}
END_TEST

START_TEST(test_broker_down_midway)
{
	struct mqtt_out_opts o = opts(pdir);
	struct seen s = { .next = 1 };
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	size_t from = 0;

	pulse_on();
	sub = subscriber("soc", 1);
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 10, NULL);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 10, 8000), 10);

	ck_assert_int_eq(tb_broker_stop(&B), 0);
	publish_n(m, &ch, 10, NULL);		/* buffered */
	ck_assert_int_ge(counters(m).buffered, 10);
	ck_assert_int_eq(tb_broker_restart(&B), 0);
	tb_client_free(sub);			/* its connection died */
	from = 0;
	sub = resubscribe("soc");
	publish_n(m, &ch, 10, NULL);		/* after the restart */

	ck_assert_int_eq(wait_seen(sub, &s, &from, 30, 10000), 30);
	ck_assert_int_eq(s.disorder, 0);
	ck_assert_int_eq(wait_delivered(m, 30, 5000), 30);
	ck_assert_int_ge(counters(m).reconnects, 1);
	ck_assert_int_eq(counters(m).dropped, 0);
	ck_assert(log_has("lost"));
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
}
END_TEST

/*
 * 4000 alerts through an outage, far more than a socket buffer holds:
 * 100 go through, then the broker goes away (stall: it is frozen with
 * SIGSTOP first, so writes stop half way through a packet, then stopped)
 * while the rest are published, and comes back.  Every alert arrives, in
 * order, nothing is dropped, and the broker never sees a broken packet.
 * Returns how many arrived in order.
 */
static int
outage_backlog(bool stall)
{
	struct mqtt_out_opts o = opts(pdir);
	struct seen s = { .next = 1 };
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	size_t from = 0;
	char *log;
	int n = 4000;

	pulse_on();
	sub = subscriber("soc", 1);
	o.max_buffered = 10000;
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 100, NULL);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 100, 8000), 100);
	if (stall) {
		ck_assert_int_eq(kill(B.pid, SIGSTOP), 0);
		publish_n(m, &ch, n - 100, NULL);
		tb_sleep_ms(1500);
		ck_assert_int_eq(kill(B.pid, SIGTERM), 0);
		ck_assert_int_eq(kill(B.pid, SIGCONT), 0);
		ck_assert_int_eq(tb_broker_stop(&B), 0);
	} else {
		ck_assert_int_eq(tb_broker_stop(&B), 0);
		publish_n(m, &ch, n - 100, NULL);
		ck_assert_int_ge(counters(m).buffered, (uint64_t)(n - 100));
	}
	tb_client_free(sub);
	ck_assert_int_eq(tb_broker_restart(&B), 0);
	from = 0;
	sub = resubscribe("soc");
	ck_assert_int_eq(wait_seen(sub, &s, &from, n, 60000), n);
	ck_assert_int_eq(s.disorder, 0);
	ck_assert_int_eq(wait_delivered(m, (uint64_t)n, 10000), (uint64_t)n);
	ck_assert_int_eq(counters(m).dropped, 0);
	log = tu_read_file(B.log, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(strstr(log, "malformed"));
	free(log);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
	return s.n;
}

START_TEST(test_long_outage_backlog)
{
	ck_assert_int_eq(outage_backlog(false), 4000);
}
END_TEST

START_TEST(test_stalled_broker_partial_write)
{
	ck_assert_int_eq(outage_backlog(true), 4000);
}
END_TEST

/* The demo config with a small packet limit (ctx: "max_packet_size N"). */
static int
conf_small_packets(FILE *f, const struct tb_broker *b, void *ctx)
{
	if (tb_conf_demo(f, b, NULL) != 0)
		return -1;
	fprintf(f, "%s\n", (const char *)ctx);
	return 0;
}

/*
 * A broker that drops every connection at once (here: each time the
 * buffered backlog starts with a message over its packet limit) must not
 * look like a healthy reconnect loop: the publisher says that nothing gets
 * acknowledged and how much waits.
 */
START_TEST(test_fruitless_reconnects_reported)
{
	struct mqtt_out_opts o = opts(pdir);
	struct tb_broker small;
	struct mqtt_out *m;
	char big[3000], suri[64];

	memset(&small, 0, sizeof(small));
	ck_assert_int_eq(tb_broker_start_with(&small, conf_small_packets,
	    (void *)"max_packet_size 1024"), 0);
	tb_broker_uri(&small, suri, sizeof(suri));
	o.uri = suri;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m = new_out(&o);
	ck_assert_int_eq(mqtt_out_alert(m, "high", big, strlen(big)), 0);
	(void)wait_log("connections in a row", 20000);
	ck_assert_msg(log_has("closed 3 connections in a row before "
	    "acknowledging anything; 1 message(s) wait in persist_dir"),
	    "log: %s", log_text);
	ck_assert_int_eq(counters(m).delivered, 0);
	ck_assert_int_eq(mqtt_out_close(m, 100), IDS_EAGAIN);
	tb_broker_cleanup(&small);
}
END_TEST

/*
 * Writes that fail half way: a broker that drops the connection at the
 * first (oversize) alert, again and again, while 300 more wait behind it;
 * Paho's writes into the dead socket fail.  (Paho 1.3.12 then leaves a
 * dangling copy of the message in memory; the publisher rebuilds the
 * client from persist_dir - under ASan this test catches a re-send of
 * freed memory.)  Once the broker's limit is lifted, every alert arrives
 * byte for byte, in order, and the broker never saw a malformed packet.
 */
START_TEST(test_failed_writes_recover)
{
	struct mqtt_out_opts o = opts(pdir);
	struct tb_alert_spec spec = { 0 };
	struct seen s = { .next = 1 };
	struct tb_broker small;
	struct tb_client *sub;
	struct tb_chain ch;
	struct mqtt_out *m;
	char suri[64], det[400], *sent[256], *log;
	size_t from = 0;
	FILE *f;
	int i, n = 301;

	memset(&small, 0, sizeof(small));
	ck_assert_int_eq(tb_broker_start_with(&small, conf_small_packets,
	    (void *)"max_packet_size 700"), 0);
	tb_broker_uri(&small, suri, sizeof(suri));
	uri_override = suri;
	tb_client_free(subscriber("soc", 1));
	ck_assert_int_eq(tb_broker_stop(&small), 0);

	o.uri = suri;
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	memset(det, 'd', 300);
	det[300] = '\0';
	spec.detector = det;
	for (i = 0; i < n; i++) {
		char *j = tb_chain_next(&ch, i == 0 ? &spec : NULL);

		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(mqtt_out_alert(m, "high", j, strlen(j)), 0);
		if (i < 256)
			sent[i] = j;
		else
			free(j);
	}
	ck_assert_int_gt(strlen(sent[0]), 700);
	ck_assert_int_eq(tb_broker_restart(&small), 0);
	ck_assert_int_eq(wait_log("connections in a row", 30000), 1);

	/* lift the limit: the same broker, persistence and port */
	ck_assert_int_eq(tb_broker_stop(&small), 0);
	f = fopen(small.conf, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(tb_conf_demo(f, &small, NULL), 0);
	fclose(f);
	ck_assert_int_eq(tb_broker_restart(&small), 0);
	sub = resubscribe("soc");
	ck_assert_int_eq(wait_seen(sub, &s, &from, n, 30000), n);
	ck_assert_int_eq(s.disorder, 0);
	for (i = 0; i < 256; i++)
		ck_assert_str_eq(s.text[i], sent[i]);
	ck_assert_int_eq(wait_delivered(m, (uint64_t)n, 10000), (uint64_t)n);
	ck_assert_int_eq(counters(m).dropped, 0);
	log = tu_read_file(small.log, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(strstr(log, "oversize packet"));
	ck_assert_ptr_null(strstr(log, "malformed"));
	free(log);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
	free_all(sent, 256);
	uri_override = NULL;
	tb_broker_cleanup(&small);
}
END_TEST

START_TEST(test_overflow_counted)
{
	struct mqtt_out_opts o = opts(NULL);
	struct mqtt_out_counters k;
	struct mqtt_out *m;
	struct tb_chain ch;
	char *j;
	int i, rc;

	ck_assert_int_eq(tb_broker_stop(&B), 0);	/* nobody listening */
	o.max_buffered = 5;
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	for (i = 0; i < 8; i++) {
		j = tb_chain_next(&ch, NULL);
		rc = mqtt_out_alert(m, "critical", j, strlen(j));
		ck_assert_int_eq(rc, i < 5 ? 0 : IDS_EAGAIN);
		free(j);
	}
	k = counters(m);
	ck_assert_int_eq(k.published, 5);
	ck_assert_int_eq(k.dropped, 3);
	ck_assert_int_eq(k.buffered, 5);
	ck_assert(log_has("dropped"));
	/* stats are not buffered; assets leave the buffer to alerts */
	ck_assert_int_eq(mqtt_out_stats(m, "{}", 2), IDS_EAGAIN);
	ck_assert_int_eq(mqtt_out_asset(m, "10.0.0.1", "{}", 2), IDS_EAGAIN);
	k = counters(m);
	ck_assert_int_eq(k.skipped, 2);
	ck_assert_int_eq(k.dropped, 3);
	/* closing with undelivered messages says so */
	ck_assert_int_eq(mqtt_out_close(m, 100), IDS_EAGAIN);
}
END_TEST

/* Files Paho keeps under persist_dir (recursively, one level deep). */
static int
persisted_files(const char *path)
{
	char sub[600];
	struct dirent *d, *e;
	DIR *top, *in;
	int n = 0;

	top = opendir(path);
	if (top == NULL)
		return 0;
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		in = opendir(sub);
		if (in == NULL)
			continue;
		while ((e = readdir(in)) != NULL)
			n += e->d_name[0] != '.';
		closedir(in);
	}
	closedir(top);
	return n;
}

/* Times the n (binary) bytes at p occur in the journal files under path. */
static int
journal_has(const char *path, const void *p, size_t n)
{
	char sub[600], file[900], *text, *at;
	struct dirent *d, *e;
	DIR *top, *in;
	size_t len;
	int count = 0;

	top = opendir(path);
	if (top == NULL)
		return 0;
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		in = opendir(sub);
		if (in == NULL)
			continue;
		while ((e = readdir(in)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", sub, e->d_name);
			text = tb_read_file(file, &len);
			for (at = text; at != NULL && (at = memmem(at, len -
			    (size_t)(at - text), p, n)) != NULL; at += n)
				count++;
			free(text);
		}
		closedir(in);
	}
	closedir(top);
	return count;
}

/* Alerts held by the journal files under persist_dir: their "seq": keys. */
static int
journal_alerts(const char *path)
{
	return journal_has(path, "\"seq\":", 6);
}

/*
 * sub sees sent[0..n) in order, of which m published `published` itself;
 * m closes with nothing left in the journal.  Frees sub and sent.
 */
static void
expect_in_order_then_close(struct tb_client *sub, struct mqtt_out *m,
    char **sent, int n, uint64_t published)
{
	struct seen s = { .next = 1 };
	size_t from = 0;
	int j;

	ck_assert_int_eq(wait_seen(sub, &s, &from, n, 10000), n);
	ck_assert_int_eq(s.disorder, 0);
	for (j = 0; j < n; j++)
		ck_assert_str_eq(s.text[j], sent[j]);
	ck_assert_int_eq(counters(m).published, published);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	ck_assert_int_eq(persisted_files(pdir), 0);
	tb_client_free(sub);
	free_all(sent, n);
}

/*
 * A child process accepts sent[0..n) (with pcap as each one's evidence
 * when not NULL, seq i + 1) into a new mqtt_out on o, then is SIGKILLed.
 * No Paho in this process before the fork: its threads would not survive
 * it.
 */
static void
accept_then_killed(const struct mqtt_out_opts *o, char **sent, int n,
    const void *pcap, size_t plen)
{
	int fds[2], j, st, ev = 0;
	struct mqtt_out *m;
	char ok;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256];

		close(fds[0]);
		m = mqtt_out_new(o, err, sizeof(err));
		if (m == NULL)
			_exit(1);
		for (j = 0; j < n; j++)
			if ((pcap != NULL ? mqtt_out_alert_evidence(m, "high",
			    sent[j], strlen(sent[j]), (uint64_t)j + 1, pcap, plen,
			    &ev) : mqtt_out_alert(m, "high", sent[j],
			    strlen(sent[j]))) != 0 || ev != 0)
				_exit(2);
		ok = 'k';
		if (write(fds[1], &ok, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ok, 1), 1);
	close(fds[0]);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
}

START_TEST(test_sigkill_restart_redelivers)
{
	struct mqtt_out_opts o = opts(pdir);
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	char *sent[15];
	int j;

	/* The agent buffers 15 alerts with the broker down and is killed. */
	ck_assert_int_eq(tb_broker_stop(&B), 0);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	for (j = 0; j < 15; j++)
		sent[j] = tb_chain_next(&ch, NULL);
	accept_then_killed(&o, sent, 15, NULL, 0);
	/* every accepted alert is in the journal (segment files now, one
	 * write(2) each: a killed process cannot lose them) */
	ck_assert_int_ge(persisted_files(pdir), 1);
	ck_assert_int_eq(journal_alerts(pdir), 15);

	/* restarted with the same client id and persist_dir */
	ck_assert_int_eq(tb_broker_restart(&B), 0);
	pulse_on();
	sub = subscriber("soc", 0);
	m = new_out(&o);
	/* nothing new was published by this instance */
	expect_in_order_then_close(sub, m, sent, 15, 0);
}
END_TEST

START_TEST(test_alert_and_evidence_together)
{
	/* a pcap-like payload: binary, with NULs */
	static const unsigned char pcap[] = { 0xd4, 0xc3, 0xb2, 0xa1, 0, 2, 0,
	    4, 'E', 'V', '-', 'M', 'A', 'R', 'K', 0, 0, 0xff, 0x01, 0 };
	struct mqtt_out_opts o = opts(pdir);
	struct tb_client *sub;
	const struct tb_msg *msg;
	struct mqtt_out *m;
	struct tb_chain ch;
	char *sent[5], topic[96];
	int j, alerts = 0, evidence = 0;
	size_t i;

	/*
	 * An alert and its evidence go to the journal in one write and out
	 * as two messages.  Broker down, 5 pairs accepted, the agent killed:
	 * both halves of every pair are in the journal, and a restart sends
	 * them as given (evidence/<seq>, the pcap byte for byte).
	 */
	ck_assert_int_eq(tb_broker_stop(&B), 0);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	for (j = 0; j < 5; j++)
		sent[j] = tb_chain_next(&ch, NULL);
	accept_then_killed(&o, sent, 5, pcap, sizeof(pcap));
	ck_assert_int_eq(journal_alerts(pdir), 5);
	ck_assert_int_eq(journal_has(pdir, pcap, sizeof(pcap)), 5);

	ck_assert_int_eq(tb_broker_restart(&B), 0);
	pulse_on();
	sub = subscriber("soc", 0);
	m = new_out(&o);
	ck_assert_int_eq(tb_client_wait(sub, 10, 8000), 0);
	tb_sleep_ms(200);
	for (i = 0; i < tb_client_count(sub); i++) {
		msg = tb_client_msg(sub, i);
		if (strcmp(msg->topic, "icsentry/plant-a/gw-01/alert/high") == 0) {
			ck_assert_str_eq(msg->payload, sent[alerts]);
			alerts++;
			continue;
		}
		snprintf(topic, sizeof(topic), "icsentry/plant-a/gw-01/"
		    "evidence/%d", evidence + 1);
		if (strcmp(msg->topic, topic) == 0) {
			ck_assert_int_eq(msg->len, (int)sizeof(pcap));
			ck_assert_int_eq(memcmp(msg->payload, pcap, sizeof(pcap)),
			    0);
			evidence++;
		}
	}
	ck_assert_int_eq(alerts, 5);
	ck_assert_int_eq(evidence, 5);
	ck_assert_int_eq(mqtt_out_close(m, 3000), 0);
	tb_client_free(sub);
	free_all(sent, 5);
}
END_TEST

/* One "ICSQ" record (the format before "ICS2"): FNV-1a over topic, data. */
static void
put_old_record(FILE *f, const char *topic, const char *payload)
{
	uint32_t magic = 0x51534349u, tl = (uint32_t)strlen(topic);
	uint32_t pl = (uint32_t)strlen(payload), h = 2166136261u;
	uint8_t ret = 0;
	size_t i;

	for (i = 0; i < tl; i++)
		h = (h ^ (uint8_t)topic[i]) * 16777619u;
	for (i = 0; i < pl; i++)
		h = (h ^ (uint8_t)payload[i]) * 16777619u;
	ck_assert_uint_eq(fwrite(&magic, 4, 1, f), 1);
	ck_assert_uint_eq(fwrite(&tl, 4, 1, f), 1);
	ck_assert_uint_eq(fwrite(topic, 1, tl, f), tl);
	ck_assert_uint_eq(fwrite(&ret, 1, 1, f), 1);
	ck_assert_uint_eq(fwrite(&pl, 4, 1, f), 1);
	ck_assert_uint_eq(fwrite(payload, 1, pl, f), pl);
	ck_assert_uint_eq(fwrite(&h, 4, 1, f), 1);
}

/*
 * A journal segment of an earlier version ("ICSQ" records) after an
 * upgrade: its 5 alerts are sent first, then 5 new ones ("ICS2"), all in
 * order; a garbled old record ends the sound part as before.
 */
START_TEST(test_old_segment_format_loads)
{
	struct mqtt_out_opts o = opts(pdir);
	char jdir[400], path[500], *sent[10];
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	FILE *f;
	int j;

	o.client_id = "gw-old";
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	for (j = 0; j < 10; j++)
		sent[j] = tb_chain_next(&ch, NULL);
	snprintf(jdir, sizeof(jdir), "%s/gw-old", pdir);
	ck_assert_int_eq(atomic_mkdirs(jdir, 0700), 0);
	snprintf(path, sizeof(path), "%s/s%016x.seg", jdir, 1u);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (j = 0; j < 5; j++)
		put_old_record(f, "icsentry/plant-a/gw-01/alert/high", sent[j]);
	/* a torn sixth record: ignored and reported, as before */
	ck_assert_uint_eq(fwrite("ICSQ\x22", 1, 5, f), 5);
	ck_assert_int_eq(fclose(f), 0);

	pulse_on();
	sub = subscriber("soc", 0);
	m = new_out(&o);
	ck_assert(log_has("after the last sound record"));
	for (j = 5; j < 10; j++)
		ck_assert_int_eq(mqtt_out_alert(m, "high", sent[j],
		    strlen(sent[j])), 0);
	expect_in_order_then_close(sub, m, sent, 10, 5);
}
END_TEST

START_TEST(test_last_will_offline)
{
	struct mqtt_out_opts o = opts(NULL);
	struct tb_client *sub;
	const struct tb_msg *msg;
	struct mqtt_out *m;
	char ok;
	int fds[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[256];
		int i;

		close(fds[0]);
		m = mqtt_out_new(&o, err, sizeof(err));
		for (i = 0; m != NULL && i < 500; i++) {
			struct mqtt_out_counters k;

			mqtt_out_counters(m, &k);
			if (k.connected)
				break;
			tb_sleep_ms(10);
		}
		ok = 'k';
		if (write(fds[1], &ok, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ok, 1), 1);
	close(fds[0]);
	tb_sleep_ms(200);	/* let "online" reach the broker */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	tb_sleep_ms(200);
	pulse_on();
	/* the retained status is now the will */
	sub = subscriber("soc", 0);
	ck_assert_int_eq(tb_client_wait(sub, 1, 3000), 0);
	msg = tb_client_msg(sub, 0);
	ck_assert_str_eq(msg->topic, "icsentry/plant-a/gw-01/status");
	ck_assert_str_eq(msg->payload, "offline");
	ck_assert_int_eq(msg->retained, 1);
	tb_client_free(sub);
}
END_TEST

START_TEST(test_assets_and_stats)
{
	static const char asset[] = "{\"ip\":\"10.0.0.5\",\"vendor\":\"Siemens\"}";
	struct mqtt_out_opts o = opts(NULL);
	struct tb_client *live, *late;
	const struct tb_msg *msg;
	struct mqtt_out *m;
	int i, stats = 0, assets = 0, online = 0;

	pulse_on();
	live = subscriber("live", 0);
	m = new_out(&o);
	for (i = 0; i < 500 && !counters(m).connected; i++)
		tb_sleep_ms(10);
	ck_assert_int_eq(mqtt_out_asset(m, "10.0.0.5", asset, strlen(asset)),
	    0);
	ck_assert_int_eq(mqtt_out_stats(m, "{\"packets\":7}", 13), 0);
	ck_assert_int_eq(wait_delivered(m, 2, 5000), 2);
	ck_assert_int_eq(tb_client_wait(live, 3, 3000), 0);
	for (i = 0; i < (int)tb_client_count(live); i++) {
		msg = tb_client_msg(live, (size_t)i);
		if (strcmp(msg->topic, "icsentry/plant-a/gw-01/stats") == 0) {
			ck_assert_str_eq(msg->payload, "{\"packets\":7}");
			stats++;
		}
	}
	ck_assert_int_eq(stats, 1);
	/* a late subscriber gets the retained inventory and status only */
	late = subscriber("late", 0);
	ck_assert_int_eq(tb_client_wait(late, 2, 3000), 0);
	tb_sleep_ms(100);
	ck_assert_int_eq(tb_client_count(late), 2);
	for (i = 0; i < 2; i++) {
		msg = tb_client_msg(late, (size_t)i);
		ck_assert_int_eq(msg->retained, 1);
		if (strcmp(msg->topic, "icsentry/plant-a/gw-01/asset/10.0.0.5")
		    == 0 && strcmp(msg->payload, asset) == 0)
			assets++;
		if (strcmp(msg->topic, "icsentry/plant-a/gw-01/status") == 0 &&
		    strcmp(msg->payload, "online") == 0)
			online++;
	}
	ck_assert_int_eq(assets, 1);
	ck_assert_int_eq(online, 1);
	tb_client_free(late);
	/* an empty asset message clears the retained entry */
	ck_assert_int_eq(mqtt_out_asset(m, "10.0.0.5", NULL, 0), 0);
	ck_assert_int_eq(wait_delivered(m, 3, 5000), 3);
	late = subscriber("late2", 0);
	ck_assert_int_eq(tb_client_wait(late, 1, 3000), 0);
	tb_sleep_ms(150);
	ck_assert_int_eq(tb_client_count(late), 1);
	ck_assert_str_eq(tb_client_msg(late, 0)->topic,
	    "icsentry/plant-a/gw-01/status");
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(late);
	tb_client_free(live);
}
END_TEST

START_TEST(test_mqtt_311)
{
	struct mqtt_out_opts o = opts(NULL);
	struct seen s = { .next = 1 };
	struct tb_client *sub;
	struct mqtt_out *m;
	struct tb_chain ch;
	size_t from = 0;

	pulse_on();
	o.mqtt_version = 4;
	sub = subscriber("soc", 0);
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 5, NULL);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 5, 8000), 5);
	ck_assert_int_eq(wait_delivered(m, 5, 5000), 5);
	ck_assert_int_eq(counters(m).mqtt_version, 4);
	ck_assert(log_has("(MQTT 3.1.1)"));
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
}
END_TEST

/*
 * A broker without MQTT 5 (a 3.1.1-only front on the real mosquitto)
 * refuses the v5 CONNECT: the publisher falls back to 3.1.1 by itself,
 * delivers what it had buffered meanwhile, in order, and stays on 3.1.1
 * across a broker restart.
 */
START_TEST(test_fallback_to_311)
{
	struct mqtt_out_opts o = opts(pdir);
	struct seen s = { .next = 1 };
	struct tb_client *sub;
	struct tb_gate *gate;
	struct mqtt_out *m;
	struct tb_chain ch;
	char guri[64];
	size_t from = 0;

	pulse_on();
	sub = subscriber("soc", 1);
	gate = tb_gate_v311_start(B.port);
	ck_assert_ptr_nonnull(gate);
	snprintf(guri, sizeof(guri), "tcp://127.0.0.1:%d", tb_gate_port(gate));
	o.uri = guri;
	m = new_out(&o);
	tb_chain_init(&ch, "plant-a", "gw-01", 1);
	publish_n(m, &ch, 10, NULL);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 10, 10000), 10);
	ck_assert_int_eq(s.disorder, 0);
	ck_assert_int_eq(wait_delivered(m, 10, 5000), 10);
	ck_assert_int_eq(counters(m).mqtt_version, 4);
	ck_assert_int_eq(tb_gate_refused(gate), 1);
	ck_assert_int_ge(tb_gate_relayed(gate), 1);
	ck_assert(log_has("refused MQTT 5; using 3.1.1"));
	ck_assert(log_has("(MQTT 3.1.1)"));

	/* the broker goes away and returns: still 3.1.1, nothing lost */
	ck_assert_int_eq(tb_broker_stop(&B), 0);
	tb_client_free(sub);
	publish_n(m, &ch, 10, NULL);
	ck_assert_int_eq(tb_broker_restart(&B), 0);
	from = 0;
	sub = resubscribe("soc");
	publish_n(m, &ch, 5, NULL);
	ck_assert_int_eq(wait_seen(sub, &s, &from, 25, 15000), 25);
	ck_assert_int_eq(s.disorder, 0);
	ck_assert_int_eq(wait_delivered(m, 25, 5000), 25);
	ck_assert_int_ge(counters(m).reconnects, 1);
	ck_assert_int_eq(counters(m).mqtt_version, 4);
	ck_assert_int_eq(counters(m).dropped, 0);
	ck_assert_int_eq(tb_gate_refused(gate), 1);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(sub);
	tb_gate_stop(gate);
}
END_TEST

START_TEST(test_bad_options)
{
	struct mqtt_out_opts o = opts(NULL);
	char err[256], path[400];
	struct mqtt_out *m;
	FILE *f;

	o.site = "plant/a";
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "plant/a"));
	o = opts(NULL);
	o.agent = "";
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	o = opts(NULL);
	o.uri = "http://127.0.0.1:1";
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "http://"));
	o = opts(NULL);
	o.mqtt_version = 3;
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	o = opts(NULL);
	o.client_id = "../x";
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	/* persist_dir below a regular file cannot be created */
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/persist", dir);
	o = opts(path);
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "persist_dir"));
	o = opts(NULL);
	o.password_file = "/nonexistent/pw";
	ck_assert_ptr_null(mqtt_out_new(&o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pw"));

	o = opts(NULL);
	m = new_out(&o);
	ck_assert_int_eq(mqtt_out_alert(m, "urgent", "{}", 2), IDS_EINVAL);
	ck_assert_int_eq(mqtt_out_alert(m, NULL, "{}", 2), IDS_EINVAL);
	ck_assert_int_eq(mqtt_out_asset(m, "10.0.0.0/8", "{}", 2), IDS_EINVAL);
	ck_assert_int_eq(mqtt_out_asset(m, "#", "{}", 2), IDS_EINVAL);
	ck_assert_int_eq(counters(m).published, 0);
	ck_assert_int_eq(mqtt_out_close(m, 1000), 0);
	ck_assert_int_eq(mqtt_out_close(NULL, 0), 0);
}
END_TEST

START_TEST(test_opts_from_cfg)
{
	const struct cfg_schema *schemas[] = { &mqtt_out_schema };
	struct mqtt_out_opts o;
	struct cfg *c = NULL;
	char path[400], err[512];
	FILE *f;

	/* every key has a default; MQTT is off without a uri */
	ck_assert_int_eq(cfg_load(NULL, schemas, 1, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(mqtt_out_opts_from_cfg(c, "plant-a", "gw-01", &o), 0);
	ck_assert_str_eq(o.uri, "");
	ck_assert_int_eq(o.mqtt_version, 5);
	ck_assert_int_eq(o.max_buffered, 10000);
	ck_assert_int_eq(o.keepalive, 30);
	ck_assert_int_eq(o.stats_interval, 60);
	ck_assert_str_eq(o.persist_dir, "/var/lib/icsentry/mqtt");
	ck_assert_str_eq(o.site, "plant-a");
	cfg_free(c);

	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[mqtt]\nuri = ssl://broker:8883\nmax_buffered = 7\n"
	    "mqtt_version = 4\npersist_dir = /tmp/p\nca_file = /etc/ca.pem\n"
	    "cert_file = /etc/a.crt\nkey_file = /etc/a.key\n");
	fclose(f);
	ck_assert_int_eq(cfg_load(path, schemas, 1, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(mqtt_out_opts_from_cfg(c, "s", "a", &o), 0);
	ck_assert_str_eq(o.uri, "ssl://broker:8883");
	ck_assert_int_eq(o.max_buffered, 7);
	ck_assert_int_eq(o.mqtt_version, 4);
	ck_assert_str_eq(o.persist_dir, "/tmp/p");
	ck_assert_str_eq(o.cert_file, "/etc/a.crt");
	cfg_free(c);

	/* out of range: named with file:line */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[mqtt]\n\nmax_buffered = 0\n");
	fclose(f);
	ck_assert_int_ne(cfg_load(path, schemas, 1, &c, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "agent.conf:3"));
}
END_TEST

static Suite *
mqtt_out_suite(void)
{
	Suite *s = suite_create("mqtt_out");
	TCase *tc = tcase_create("broker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_in_order_and_counted);
	tcase_add_test(tc, test_close_flushes_before_first_connect);
	tcase_add_test(tc, test_broker_down_at_start);
	tcase_add_test(tc, test_broker_down_midway);
	tcase_add_test(tc, test_long_outage_backlog);
	tcase_add_test(tc, test_stalled_broker_partial_write);
	tcase_add_test(tc, test_fruitless_reconnects_reported);
	tcase_add_test(tc, test_failed_writes_recover);
	tcase_add_test(tc, test_overflow_counted);
	tcase_add_test(tc, test_sigkill_restart_redelivers);
	tcase_add_test(tc, test_alert_and_evidence_together);
	tcase_add_test(tc, test_old_segment_format_loads);
	tcase_add_test(tc, test_last_will_offline);
	tcase_add_test(tc, test_assets_and_stats);
	tcase_add_test(tc, test_mqtt_311);
	tcase_add_test(tc, test_fallback_to_311);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_opts_from_cfg);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mqtt_out_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
