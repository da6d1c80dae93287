/*
 * check_broker_security.c - the production broker config under attack.
 *
 * broker/gen-certs.sh makes a CA and certificates in a temporary
 * directory (plus a second, foreign CA); mosquitto runs broker/mosquitto.conf
 * and broker/acl themselves, with only paths, port (127.0.0.1) and log
 * redirected.  Clients are Paho (the test client and the agent's
 * mqtt_out), the collector is the real binary.
 */
#include <check.h>

#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "lib/ids.h"
#include "agent/mqtt_out.h"
#include "tests/testutil_broker.h"

static struct tb_broker B;
static char certs[256], rogue[256], acl[PATH_MAX], uri[64];

#define REFUSED	0x87	/* MQTT v5 "not authorized" */

/* mqtt_out's connection lines: not needed on the test's stderr */
static void
quiet(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/* Copy broker/mosquitto.conf, pointing its files at the test directory. */
static int
conf_from_production(FILE *f, const struct tb_broker *b, void *ctx)
{
	char path[512], line[1024], key[64];
	struct passwd *pw = getpwuid(geteuid());
	FILE *in;
	int logged = 0;

	(void)ctx;
	in = fopen(tb_src_path(path, sizeof(path), "broker/mosquitto.conf"),
	    "r");
	if (in == NULL)
		return -1;
	while (fgets(line, sizeof(line), in) != NULL) {
		if (sscanf(line, "%63s", key) != 1 || key[0] == '#') {
			fputs(line, f);
			continue;
		}
		if (strcmp(key, "listener") == 0)
			fprintf(f, "listener %d 127.0.0.1\n", b->port);
		else if (strcmp(key, "cafile") == 0)
			fprintf(f, "cafile %s/ca.crt\n", certs);
		else if (strcmp(key, "certfile") == 0)
			fprintf(f, "certfile %s/broker.crt\n", certs);
		else if (strcmp(key, "keyfile") == 0)
			fprintf(f, "keyfile %s/broker.key\n", certs);
		else if (strcmp(key, "acl_file") == 0)
			fprintf(f, "acl_file %s\n", acl);
		else if (strcmp(key, "persistence_location") == 0)
			fprintf(f, "persistence_location %s/\n", b->dir);
		else if (strcmp(key, "log_dest") == 0) {
			if (!logged++)
				fprintf(f, "log_dest file %s\n", b->log);
		} else if (strcmp(key, "user") != 0)
			fputs(line, f);
	}
	fclose(in);
	/* as root, stay root: the mosquitto user cannot read our temp dir */
	fprintf(f, "user %s\n", pw != NULL ? pw->pw_name : "root");
	return 0;
}

/* sh broker/gen-certs.sh [opt val] outdir [agent] */
static void
gen(const char *outdir, const char *opt, const char *val, const char *agent)
{
	char script[512], log[600];
	char *argv[7];
	int rc, k = 0;

	tb_src_path(script, sizeof(script), "broker/gen-certs.sh");
	snprintf(log, sizeof(log), "%s.log", outdir);
	argv[k++] = (char *)"/bin/sh";
	argv[k++] = script;
	if (opt != NULL) {
		argv[k++] = (char *)opt;
		argv[k++] = (char *)val;
	}
	argv[k++] = (char *)outdir;
	if (agent != NULL)
		argv[k++] = (char *)agent;
	argv[k] = NULL;
	rc = tb_run(argv, log, 30000);
	ck_assert_msg(rc == 0, "gen-certs.sh failed (%d), see %s", rc, log);
}

/* Once for the test case, in Check's parent process: no Paho here. */
static void
setup_broker(void)
{
	char path[512];

	ck_assert_int_eq(tb_tmpdir(certs, sizeof(certs), "certs"), 0);
	ck_assert_int_eq(tb_tmpdir(rogue, sizeof(rogue), "rogue"), 0);
	gen(certs, "-n", "2", "plant-a/pulse");
	/* same names, another CA: a forged identity */
	gen(rogue, NULL, NULL, "plant-a/gw-01");
	ck_assert_ptr_nonnull(realpath(tb_src_path(path, sizeof(path),
	    "broker/acl"), acl));
	ck_assert_int_eq(tb_broker_start_with(&B, conf_from_production, NULL),
	    0);
	snprintf(uri, sizeof(uri), "ssl://127.0.0.1:%d", B.port);
}

static void
teardown_broker(void)
{
	tb_broker_cleanup(&B);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL) {
		tb_rmtree(certs);
		tb_rmtree(rogue);
		{
			char log[600];

			snprintf(log, sizeof(log), "%s.log", certs);
			unlink(log);
			snprintf(log, sizeof(log), "%s.log", rogue);
			unlink(log);
		}
	}
}

/* cert/key of an identity: "agents/plant-a/gw-01", "collector", ... */
struct ident {
	char	crt[600], key[600], ca[600];
};

static struct ident
ident(const char *base, const char *who)
{
	struct ident i;

	snprintf(i.crt, sizeof(i.crt), "%s/%s.crt", base, who);
	snprintf(i.key, sizeof(i.key), "%s/%s.key", base, who);
	snprintf(i.ca, sizeof(i.ca), "%s/ca.crt", certs);
	return i;
}

static struct tb_client_opts
client_opts(const struct ident *i, const char *id)
{
	struct tb_client_opts o = { .uri = uri, .client_id = id, .clean = 1,
	    .ca_file = i->ca, .cert_file = i->crt, .key_file = i->key };

	return o;
}

static struct tb_client *
connect_as(const char *who, const char *id)
{
	struct ident i = ident(certs, who);
	struct tb_client_opts o = client_opts(&i, id);
	struct tb_client *c = tb_client_new(&o);
	int rc;

	ck_assert_ptr_nonnull(c);
	rc = tb_client_connect(c, 3000);
	ck_assert_msg(rc == 0, "%s could not connect: %d", who, rc);
	return c;
}

/* Keep Paho's receive thread awake (see tb_pulse_start). */
static void
setup_pulse(void)
{
	static struct ident p;
	struct tb_client_opts po;

	p = ident(certs, "agents/plant-a/pulse");
	po = client_opts(&p, "pulse");
	ck_assert_int_eq(tb_pulse_start(&po, "icsentry/plant-a/pulse/stats"),
	    0);
}

static void
teardown_pulse(void)
{
	tb_pulse_stop();
}

/* Live messages a client received: no pulse, no retained leftovers of
 * earlier tests (the broker lives for the whole test case). */
static int
is_real(const struct tb_msg *m)
{
	return strstr(m->topic, "/pulse/") == NULL && !m->retained;
}

static int
real_count(struct tb_client *c)
{
	size_t i;
	int n = 0;

	for (i = 0; i < tb_client_count(c); i++)
		n += is_real(tb_client_msg(c, i));
	return n;
}

static int
wait_real(struct tb_client *c, int n, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	while (real_count(c) < n && tb_now_ms() < end)
		tb_sleep_ms(10);
	return real_count(c);
}

static const struct tb_msg *
real_msg(struct tb_client *c, int k)
{
	size_t i;

	for (i = 0; i < tb_client_count(c); i++)
		if (is_real(tb_client_msg(c, i)) && k-- == 0)
			return tb_client_msg(c, i);
	return NULL;
}

/* The collector's view: everything under icsentry/. */
static struct tb_client *
observer(void)
{
	struct tb_client *c = connect_as("collector", "observer");

	ck_assert_int_eq(tb_client_subscribe(c, "icsentry/#", 1, 3000), 1);
	return c;
}

static int
pub(struct tb_client *c, const char *topic, const char *payload)
{
	return tb_client_publish(c, topic, payload, (int)strlen(payload), 1, 0,
	    3000);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_production_files_are_strict)
{
	char path[512], *conf, *a;

	conf = tb_read_file(tb_src_path(path, sizeof(path),
	    "broker/mosquitto.conf"), NULL);
	ck_assert_ptr_nonnull(conf);
	ck_assert_ptr_nonnull(strstr(conf, "\nallow_anonymous false\n"));
	ck_assert_ptr_nonnull(strstr(conf, "\nrequire_certificate true\n"));
	ck_assert_ptr_nonnull(strstr(conf, "\nuse_identity_as_username true\n"));
	ck_assert_ptr_nonnull(strstr(conf, "\nacl_file "));
	ck_assert_ptr_null(strstr(conf, "\nallow_anonymous true"));
	ck_assert_ptr_null(strstr(conf, "\nlistener 1883"));
	a = tb_read_file(acl, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(strstr(a, "\npattern write icsentry/%u/alert/+\n"));
	ck_assert_ptr_null(strstr(a, "pattern read"));
	ck_assert_ptr_null(strstr(a, "readwrite"));
	free(conf);
	free(a);
}
END_TEST

/*
 * The agent's real publisher over TLS with identity i, as site plant-a
 * and the given agent name; n chained alerts queued at once.
 */
static struct mqtt_out *
tls_agent(const struct ident *i, const char *agent, int n)
{
	struct mqtt_out_opts o;
	struct mqtt_out *m;
	struct tb_chain ch;
	char err[256], *j;
	int k;

	memset(&o, 0, sizeof(o));
	o.uri = uri;
	o.site = "plant-a";
	o.agent = agent;
	o.ca_file = i->ca;
	o.cert_file = i->crt;
	o.key_file = i->key;
	o.keepalive = 10;
	o.mqtt_version = 5;
	o.max_buffered = 100;
	o.session_expiry = 60;
	o.connect_timeout = 3;
	o.reconnect_max = 1;
	o.log = quiet;
	m = mqtt_out_new(&o, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	tb_chain_init(&ch, "plant-a", agent, 1);
	for (k = 0; k < n; k++) {
		j = tb_chain_next(&ch, NULL);
		ck_assert_int_eq(mqtt_out_alert(m, "high", j, strlen(j)), 0);
		free(j);
	}
	return m;
}

START_TEST(test_agent_publishes_own_topic)
{
	struct ident i = ident(certs, "agents/plant-a/gw-01");
	struct mqtt_out_counters k;
	struct tb_client *obs;
	struct mqtt_out *m;
	int n;

	obs = connect_as("collector", "observer");
	/* the collector's shared subscription is allowed too */
	ck_assert_int_eq(tb_client_subscribe(obs,
	    "$share/icsentry/icsentry/+/+/alert/#", 1, 3000), 1);
	m = tls_agent(&i, "gw-01", 3);
	ck_assert_int_eq(wait_real(obs, 3, 8000), 3);
	ck_assert_str_eq(real_msg(obs, 0)->topic,
	    "icsentry/plant-a/gw-01/alert/high");
	for (n = 0; n < 300; n++) {
		mqtt_out_counters(m, &k);
		if (k.delivered == 3)
			break;
		tb_sleep_ms(10);
	}
	ck_assert_int_eq(k.delivered, 3);
	ck_assert_int_eq(k.refused, 0);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	tb_client_free(obs);
}
END_TEST

START_TEST(test_agent_cannot_publish_for_another)
{
	struct tb_client *obs, *a1;

	obs = observer();
	a1 = connect_as("agents/plant-a/gw-01", "gw-01");
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-02/alert/high", "forged"),
	    REFUSED);
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-02/status", "offline"),
	    REFUSED);
	ck_assert_int_eq(pub(a1, "icsentry/plant-b/gw-01/alert/high", "forged"),
	    REFUSED);
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-02/asset/10.0.0.1",
	    "{}"), REFUSED);
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-01/x/alert/high", "x"),
	    REFUSED);
	/* its own topic works, and is the only thing the collector sees */
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-01/alert/high", "own"), 0);
	ck_assert_int_eq(wait_real(obs, 1, 3000), 1);
	tb_sleep_ms(200);
	ck_assert_int_eq(real_count(obs), 1);
	ck_assert_str_eq(real_msg(obs, 0)->payload, "own");
	tb_client_free(a1);
	tb_client_free(obs);
}
END_TEST

START_TEST(test_agent_impersonation_delivers_nothing)
{
	struct ident i = ident(certs, "agents/plant-a/gw-01");
	struct mqtt_out_counters k;
	struct mqtt_out_opts o;
	struct tb_client *obs;
	struct mqtt_out *m;
	char err[256];

	/* gw-01's certificate, configured as gw-02 */
	obs = observer();
	memset(&o, 0, sizeof(o));
	o.uri = uri;
	o.site = "plant-a";
	o.agent = "gw-02";
	o.ca_file = i.ca;
	o.cert_file = i.crt;
	o.key_file = i.key;
	o.keepalive = 10;
	o.mqtt_version = 5;
	o.max_buffered = 100;
	o.connect_timeout = 3;
	o.reconnect_max = 1;
	o.log = quiet;
	m = mqtt_out_new(&o, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_int_eq(mqtt_out_alert(m, "critical", "{\"forged\":1}", 12),
	    0);
	tb_sleep_ms(1500);
	mqtt_out_counters(m, &k);
	ck_assert_int_eq(k.delivered, 0);
	ck_assert_int_eq(real_count(obs), 0);
	mqtt_out_close(m, 100);
	tb_client_free(obs);
}
END_TEST

START_TEST(test_agent_cannot_read)
{
	struct tb_client *obs, *a1, *a2;

	obs = observer();
	a1 = connect_as("agents/plant-a/gw-01", "gw-01");
	/* mosquitto 2.0 acknowledges the subscription and then checks read
	 * access per message: what counts is that nothing arrives */
	ck_assert_int_ge(tb_client_subscribe(a1, "icsentry/#", 1, 3000), 0);
	ck_assert_int_ge(tb_client_subscribe(a1,
	    "$share/icsentry/icsentry/+/+/alert/#", 1, 3000), 0);
	a2 = connect_as("agents/plant-a/gw-02", "gw-02");
	ck_assert_int_eq(pub(a2, "icsentry/plant-a/gw-02/alert/high", "a2"), 0);
	ck_assert_int_eq(wait_real(obs, 1, 3000), 1);
	tb_sleep_ms(200);
	ck_assert_int_eq(real_count(a1), 0);
	tb_client_free(a2);
	tb_client_free(a1);
	tb_client_free(obs);
}
END_TEST

START_TEST(test_anonymous_refused)
{
	char plain[64];
	struct tb_client_opts o = { .uri = plain, .client_id = "anon",
	    .clean = 1 };
	struct tb_client *c;

	/* no TLS at all, with and without a claimed user name */
	snprintf(plain, sizeof(plain), "tcp://127.0.0.1:%d", B.port);
	c = tb_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(tb_client_connect(c, 2000), 0);
	tb_client_free(c);
	o.username = "plant-a/gw-02";
	o.password = "guess";
	c = tb_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(tb_client_connect(c, 2000), 0);
	ck_assert_int_eq(tb_client_connected(c), 0);
	tb_client_free(c);
}
END_TEST

START_TEST(test_no_client_certificate_refused)
{
	char ca[600];
	struct tb_client_opts o = { .uri = uri, .client_id = "nocert",
	    .clean = 1, .ca_file = ca };
	struct tb_client *c;

	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	c = tb_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(tb_client_connect(c, 2000), 0);
	tb_client_free(c);
	o.username = "icsentry-collector";
	o.password = "x";
	c = tb_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(tb_client_connect(c, 2000), 0);
	ck_assert_int_eq(tb_client_connected(c), 0);
	tb_client_free(c);
}
END_TEST

START_TEST(test_foreign_ca_refused)
{
	struct ident i = ident(rogue, "agents/plant-a/gw-01");
	struct tb_client_opts o = client_opts(&i, "rogue");
	struct tb_client *c;

	/* trusts the right CA, presents a certificate from another one */
	c = tb_client_new(&o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(tb_client_connect(c, 2000), 0);
	ck_assert_int_eq(tb_client_connected(c), 0);
	tb_client_free(c);
}
END_TEST

START_TEST(test_soc_reads_but_cannot_publish)
{
	struct tb_client *obs, *soc, *a1;

	obs = observer();
	soc = connect_as("soc/soc-operator", "soc-1");
	ck_assert_int_eq(tb_client_subscribe(soc, "icsentry/+/+/alert/#", 1,
	    3000), 1);
	a1 = connect_as("agents/plant-a/gw-01", "gw-01");
	ck_assert_int_eq(pub(a1, "icsentry/plant-a/gw-01/alert/high", "real"),
	    0);
	ck_assert_int_eq(wait_real(soc, 1, 3000), 1);
	ck_assert_str_eq(real_msg(soc, 0)->payload, "real");
	/* not as an agent, not in its own name, not anywhere */
	ck_assert_int_eq(pub(soc, "icsentry/plant-a/gw-01/alert/high",
	    "forged"), REFUSED);
	ck_assert_int_eq(pub(soc, "icsentry/soc-operator/status", "x"),
	    REFUSED);
	ck_assert_int_eq(pub(soc, "icsentry/soc-operator/alert/high", "x"),
	    REFUSED);
	ck_assert_int_eq(pub(soc, "other/topic", "x"), REFUSED);
	tb_sleep_ms(200);
	ck_assert_int_eq(real_count(obs), 1);
	ck_assert_int_eq(real_count(soc), 1);
	tb_client_free(a1);
	tb_client_free(soc);
	tb_client_free(obs);
}
END_TEST

START_TEST(test_collector_over_tls)
{
	struct ident i = ident(certs, "agents/plant-a/gw-02");
	char dir[256], conf[320], db[320], out[320], bin[300], err[256];
	char *argv[] = { bin, (char *)"-c", conf, NULL };
	struct central_log *log = NULL;
	struct mqtt_out *m;
	int64_t stored = 0;
	FILE *f;
	pid_t pid;
	int n;

	ck_assert_int_eq(tb_tmpdir(dir, sizeof(dir), "tlscoll"), 0);
	snprintf(conf, sizeof(conf), "%s/collector.conf", dir);
	snprintf(db, sizeof(db), "%s/central.db", dir);
	snprintf(out, sizeof(out), "%s/collector.out", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s\nfsync = false\n[mqtt]\nuri = %s\n"
	    "client_id = tls-collector\nca_file = %s/ca.crt\n"
	    "cert_file = %s/collector.crt\nkey_file = %s/collector.key\n"
	    "reconnect_max = 1\n", db, uri, certs, certs, certs);
	fclose(f);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	pid = tb_spawn(argv, out);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(tb_wait_file_contains(out, "subscribed", 8000) == 0,
	    "collector did not subscribe, see %s", out);

	m = tls_agent(&i, "gw-02", 2);
	ck_assert_int_eq(central_log_open(db, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &log, err, sizeof(err)), 0);
	for (n = 0; n < 400 && stored < 2; n++) {
		ck_assert_int_eq(central_log_counter(log, "stored", &stored), 0);
		tb_sleep_ms(20);
	}
	ck_assert_int_eq(stored, 2);
	central_log_close(log);
	ck_assert_int_eq(mqtt_out_close(m, 2000), 0);
	ck_assert_int_eq(tb_stop_pid(pid, SIGTERM, 5000, NULL), 0);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(dir);
}
END_TEST

static Suite *
security_suite(void)
{
	Suite *s = suite_create("broker_security");
	TCase *tc = tcase_create("tls_acl");

	tcase_add_unchecked_fixture(tc, setup_broker, teardown_broker);
	tcase_add_checked_fixture(tc, setup_pulse, teardown_pulse);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_production_files_are_strict);
	tcase_add_test(tc, test_agent_publishes_own_topic);
	tcase_add_test(tc, test_agent_cannot_publish_for_another);
	tcase_add_test(tc, test_agent_impersonation_delivers_nothing);
	tcase_add_test(tc, test_agent_cannot_read);
	tcase_add_test(tc, test_anonymous_refused);
	tcase_add_test(tc, test_no_client_certificate_refused);
	tcase_add_test(tc, test_foreign_ca_refused);
	tcase_add_test(tc, test_soc_reads_but_cannot_publish);
	tcase_add_test(tc, test_collector_over_tls);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(security_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
