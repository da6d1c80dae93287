/*
 * check_syslog.c - the collector forwards stored alerts to syslog: the
 * RFC 5424 and CEF text itself, then end to end with the real parts -
 * mosquitto, icsentry-agent replaying fast-attacks with MQTT on, the
 * collector, and a real rsyslogd (our own config, imtcp/imudp on free
 * loopback ports, TLS through rsyslog's ossl driver, omfile into a temp
 * file) - asserting what rsyslog wrote: every stored alert once, its
 * CEF or JSON fields, nothing lost to a receiver that was down.
 */
#include <check.h>
#include <cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/syslog_fwd.h"
#include "lib/version.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_http.h"

#define RSYSLOGD	"/usr/sbin/rsyslogd"

/* ---- the text ---------------------------------------------------------- */

static const char alert[] =
    "{\"agent\":\"gw-01\",\"site\":\"plant-a\",\"seq\":42,"
    "\"ts\":\"2026-11-23T08:15:02.123456Z\",\"severity\":\"critical\","
    "\"detector\":\"s7.plc_stop\",\"technique\":\"T0858\","
    "\"technique_name\":\"Change Operating Mode\",\"tactic\":\"Execution\","
    "\"rule\":\"s7.plc_stop\",\"flow_id\":77,"
    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
    "\"transport\":\"tcp\","
    "\"title\":\"S7 PLC STOP | a=b \\\\ c\",\"proto\":\"s7comm\","
    "\"src\":{\"ip\":\"10.0.0.66\",\"port\":49152,"
    "\"mac\":\"02:00:00:00:00:42\"},"
    "\"dst\":{\"ip\":\"10.0.0.10\",\"port\":102,\"mac\":null},"
    "\"details\":{},\"prev_hash\":\"00\",\"hash\":\"11\"}";

START_TEST(test_cef_text)
{
	char *c = syslog_cef(alert, strlen(alert)), want[2048];

	ck_assert_ptr_nonnull(c);
	snprintf(want, sizeof(want),
	    "CEF:0|icsentry|icsentry|%s|s7.plc_stop|S7 PLC STOP \\| a=b \\\\ c|10|"
	    "rt=1795421702123 src=10.0.0.66 spt=49152 smac=02:00:00:00:00:42 "
	    "dst=10.0.0.10 dpt=102 proto=tcp app=s7comm dvchost=gw-01 "
	    "cat=s7.plc_stop msg=S7 PLC STOP | a\\=b \\\\ c "
	    "cs1Label=site cs1=plant-a cs2Label=technique cs2=T0858 "
	    "cs3Label=techniqueName cs3=Change Operating Mode "
	    "cs4Label=tactic cs4=Execution "
	    "cs5Label=communityId cs5=1:LQU9qZlK+B5F3KDmev6m5PMibrg\\= "
	    "cs6Label=severity cs6=critical cn1Label=seq cn1=42 "
	    "externalId=plant-a/gw-01/42 cn2Label=flowId cn2=77",
	    ICSENTRY_VERSION);
	ck_assert_str_eq(c, want);
	free(c);
	ck_assert_ptr_null(syslog_cef("[]", 2));
}
END_TEST

START_TEST(test_rfc5424_text)
{
	static const char small[] = "{\"seq\":1,\"site\":\"a\\\"]\","
	    "\"agent\":\"b\",\"severity\":\"low\",\"ts\":\"x\"}";
	struct syslog_fwd_opts o;
	char *m;

	memset(&o, 0, sizeof(o));
	o.facility = 13;
	o.app_name = "icsentry";
	o.format = SYSLOG_JSON;
	m = syslog_fwd_format(&o, "central 1", alert, strlen(alert));
	ck_assert_ptr_nonnull(m);
	/* PRI 13*8+2 (critical), capture time, host (no spaces), SD */
	ck_assert_str_eq(m, "<106>1 2026-11-23T08:15:02.123456Z central_1 "
	    "icsentry - alert [icsentry@32473 site=\"plant-a\" agent=\"gw-01\" "
	    "seq=\"42\"] "
	    "{\"agent\":\"gw-01\",\"site\":\"plant-a\",\"seq\":42,"
	    "\"ts\":\"2026-11-23T08:15:02.123456Z\",\"severity\":\"critical\","
	    "\"detector\":\"s7.plc_stop\",\"technique\":\"T0858\","
	    "\"technique_name\":\"Change Operating Mode\","
	    "\"tactic\":\"Execution\",\"rule\":\"s7.plc_stop\",\"flow_id\":77,"
	    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
	    "\"transport\":\"tcp\","
	    "\"title\":\"S7 PLC STOP | a=b \\\\ c\",\"proto\":\"s7comm\","
	    "\"src\":{\"ip\":\"10.0.0.66\",\"port\":49152,"
	    "\"mac\":\"02:00:00:00:00:42\"},"
	    "\"dst\":{\"ip\":\"10.0.0.10\",\"port\":102,\"mac\":null},"
	    "\"details\":{},\"prev_hash\":\"00\",\"hash\":\"11\"}");
	free(m);
	o.format = SYSLOG_CEF;
	o.facility = 16;
	m = syslog_fwd_format(&o, "c", small, strlen(small));
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strncmp(m, "<133>1 x c icsentry - cef [icsentry@32473 "
	    "site=\"a\\\"\\]\" agent=\"b\" seq=\"1\"] CEF:0|", 71) == 0,
	    "%s", m);
	free(m);
}
END_TEST

/* ---- the real parts ---------------------------------------------------- */

struct rs {
	pid_t	pid;
	int	port;
	char	dir[256], out[320], conf[320], pidf[320], log[320];
	char	cert[320], key[320];
};

/* A self-signed certificate for 127.0.0.1 (and localhost). */
static void
make_cert(struct rs *r)
{
	char subj[] = "/CN=localhost", days[] = "2";
	char *argv[] = { (char *)"/usr/bin/openssl", (char *)"req", (char *)"-x509",
	    (char *)"-newkey", (char *)"rsa:2048", (char *)"-nodes",
	    (char *)"-subj", subj, (char *)"-addext",
	    (char *)"subjectAltName=DNS:localhost,IP:127.0.0.1",
	    (char *)"-days", days, (char *)"-keyout", r->key, (char *)"-out",
	    r->cert, NULL };

	snprintf(r->cert, sizeof(r->cert), "%s/cert.pem", r->dir);
	snprintf(r->key, sizeof(r->key), "%s/key.pem", r->dir);
	ck_assert_int_eq(tb_run(argv, NULL, 60000), 0);
}

/*
 * rsyslogd on 127.0.0.1:port (TCP and UDP, or TLS), writing
 * "PRI|TIMESTAMP|HOST|APP|MSGID|SD|MSG" lines to r->out.  port 0: a
 * free one.  A dir already set is reused (a restart).
 */
static void
rs_start(struct rs *r, int port, int tls)
{
	char *argv[] = { (char *)RSYSLOGD, (char *)"-f", r->conf, (char *)"-i",
	    r->pidf, (char *)"-n", NULL };
	FILE *f;

	ck_assert_msg(access(RSYSLOGD, X_OK) == 0,
	    RSYSLOGD " missing: make deps installs rsyslog");
	if (r->dir[0] == '\0') {
		ck_assert_int_eq(tb_tmpdir(r->dir, sizeof(r->dir), "rsyslog"),
		    0);
		if (tls)
			make_cert(r);
	}
	r->port = port > 0 ? port : tb_free_port();
	snprintf(r->out, sizeof(r->out), "%s/received.log", r->dir);
	snprintf(r->conf, sizeof(r->conf), "%s/rsyslog.conf", r->dir);
	snprintf(r->pidf, sizeof(r->pidf), "%s/rsyslogd.pid", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/rsyslogd.out", r->dir);
	f = fopen(r->conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "global(workDirectory=\"%s\" maxMessageSize=\"64k\"", r->dir);
	if (tls)
		fprintf(f, "\n  defaultNetstreamDriver=\"ossl\"\n"
		    "  defaultNetstreamDriverCAFile=\"%s\"\n"
		    "  defaultNetstreamDriverCertFile=\"%s\"\n"
		    "  defaultNetstreamDriverKeyFile=\"%s\"", r->cert, r->cert,
		    r->key);
	fprintf(f, ")\n");
	if (tls)
		fprintf(f, "module(load=\"imtcp\" streamDriver.name=\"ossl\" "
		    "streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n");
	else
		fprintf(f, "module(load=\"imtcp\")\nmodule(load=\"imudp\")\n"
		    "input(type=\"imudp\" port=\"%d\" address=\"127.0.0.1\" "
		    "ruleset=\"fwd\")\n", r->port);
	fprintf(f, "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\" "
	    "ruleset=\"fwd\")\n"
	    "template(name=\"t\" type=\"string\" string=\"%%pri%%|"
	    "%%timereported:::date-rfc3339%%|%%hostname%%|%%app-name%%|"
	    "%%msgid%%|%%structured-data%%|%%msg%%\\n\")\n"
	    "ruleset(name=\"fwd\") { action(type=\"omfile\" file=\"%s\" "
	    "template=\"t\") }\n", r->port, r->out);
	fclose(f);
	r->pid = tb_spawn(argv, r->log);
	ck_assert_int_gt(r->pid, 0);
	{
		int i;

		for (i = 0; i < 100 && !tb_port_open(r->port); i++)
			tb_sleep_ms(50);
		ck_assert_msg(tb_port_open(r->port), "rsyslogd did not listen; "
		    "see %s", r->log);
	}
}

static void
rs_stop(struct rs *r)
{
	if (r->pid > 0)
		tb_stop_pid(r->pid, SIGTERM, 5000, NULL);
	r->pid = 0;
}

static void
rs_clean(struct rs *r)
{
	rs_stop(r);
	if (r->dir[0] != '\0' && getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(r->dir);
}

struct env {
	struct tb_broker	 b;
	char			 uri[64], dir[256], conf[320], out[320];
	char			 alerts[320];
	pid_t			 coll;
	int			 mport;
};

static struct env E;

static void
env_setup(void)
{
	memset(&E, 0, sizeof(E));
	ck_assert_int_eq(tb_broker_start(&E.b), 0);
	tb_broker_uri(&E.b, E.uri, sizeof(E.uri));
	ck_assert_int_eq(tb_tmpdir(E.dir, sizeof(E.dir), "syslog"), 0);
	snprintf(E.conf, sizeof(E.conf), "%s/collector.conf", E.dir);
	snprintf(E.out, sizeof(E.out), "%s/collector.out", E.dir);
	snprintf(E.alerts, sizeof(E.alerts), "%s/alerts.json", E.dir);
}

static void
env_teardown(void)
{
	if (E.coll > 0)
		tb_stop_pid(E.coll, SIGTERM, 5000, NULL);
	tb_broker_cleanup(&E.b);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(E.dir);
}

/* The collector with [syslog] syslog_conf and /metrics. */
static void
collector_start(const char *syslog_conf)
{
	char bin[300], mport[64];
	char *argv[] = { bin, (char *)"-c", E.conf, (char *)"--metrics", mport,
	    NULL };
	FILE *f = fopen(E.conf, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s/central.db\nfsync = false\n"
	    "[mqtt]\nuri = %s\nclient_id = syslog-collector\n"
	    "reconnect_max = 1\n[syslog]\n%s\n", E.dir, E.uri, syslog_conf);
	fclose(f);
	E.mport = tb_free_port();
	snprintf(mport, sizeof(mport), "127.0.0.1:%d", E.mport);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	E.coll = tb_spawn(argv, E.out);
	ck_assert_int_gt(E.coll, 0);
	ck_assert_msg(tb_wait_file_contains(E.out, "subscribed", 8000) == 0,
	    "collector did not subscribe; see %s", E.out);
}

/* Replay fast-attacks under demo.conf (plant-a/gw-01) with MQTT on. */
static cJSON *
agent_replay(void)
{
	char agent[300], pcap[300], conf[320], out[320], src[512], *demo, *t;
	char *argv[] = { agent, (char *)"-c", conf, (char *)"-r", pcap,
	    (char *)"--mqtt", E.uri, (char *)"--alerts-out", E.alerts, NULL };
	cJSON *a;
	int bad = 0;
	FILE *f;

	tb_build_path(agent, sizeof(agent), "icsentry-agent");
	tb_build_path(pcap, sizeof(pcap), "scenarios/fast-attacks.pcap");
	ck_assert_msg(access(pcap, R_OK) == 0, "%s missing: make tests", pcap);
	snprintf(conf, sizeof(conf), "%s/agent.conf", E.dir);
	snprintf(out, sizeof(out), "%s/agent.out", E.dir);
	demo = tb_read_file(tb_src_path(src, sizeof(src), "config/demo.conf"),
	    NULL);
	ck_assert_ptr_nonnull(demo);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n[mqtt]\npersist_dir = %s/agent-mqtt\nreconnect_max = 1\n",
	    demo, E.dir);
	fclose(f);
	free(demo);
	ck_assert_int_eq(tb_run(argv, out, 120000), 0);
	t = tb_read_file(E.alerts, NULL);
	ck_assert_ptr_nonnull(t);
	a = tu_json_lines(t, &bad);
	free(t);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_gt(cJSON_GetArraySize(a), 10);
	return a;
}

/* A value on the collector's /metrics; -1 when absent. */
static double
cmetric(const char *name)
{
	char *body = NULL, key[256], *p;
	double v = -1;

	if (th_get(E.mport, "/metrics", &body) == 200 && body != NULL) {
		snprintf(key, sizeof(key), "\n%s ", name);
		if ((p = strstr(body, key)) != NULL)
			v = strtod(p + strlen(key), NULL);
	}
	free(body);
	return v;
}

static int
wait_cmetric(const char *name, double want, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	do {
		if (cmetric(name) == want)
			return 0;
		tb_sleep_ms(100);
	} while (tb_now_ms() < end);
	return -1;
}

/* Split rsyslog's file into fields; the line of seq (NULL: none). */
struct line {
	int	pri;
	char	ts[64], host[128], app[64], msgid[32];
	char	*sd, *msg;
};

static int
parse_line(char *l, struct line *o)
{
	char *f[7], *save = NULL;
	int i;

	for (i = 0; i < 6; i++) {
		f[i] = strtok_r(i == 0 ? l : NULL, "|", &save);
		if (f[i] == NULL)
			return -1;
	}
	/* the SD has no '|', the message may: it is the rest */
	f[6] = save;
	o->pri = atoi(f[0]);
	snprintf(o->ts, sizeof(o->ts), "%s", f[1]);
	snprintf(o->host, sizeof(o->host), "%s", f[2]);
	snprintf(o->app, sizeof(o->app), "%s", f[3]);
	snprintf(o->msgid, sizeof(o->msgid), "%s", f[4]);
	o->sd = f[5];
	o->msg = f[6];
	return 0;
}

/* The received lines, split (lines[i] owns nothing: text is kept). */
static int
received(const char *path, char **text, struct line *lines, int max)
{
	char *save = NULL, *l;
	int n = 0;

	*text = tb_read_file(path, NULL);
	if (*text == NULL)
		return 0;
	for (l = strtok_r(*text, "\n", &save); l != NULL && n < max;
	    l = strtok_r(NULL, "\n", &save))
		if (parse_line(l, &lines[n]) == 0)
			n++;
	return n;
}

static int
sev_num(const char *s)
{
	static const char *const n[] = { "", "", "critical", "high", "medium",
	    "low", "info" };
	int i;

	for (i = 2; i < 7; i++)
		if (strcmp(n[i], s) == 0)
			return i;
	return -1;
}

static const cJSON *
alert_of_seq(const cJSON *alerts, int seq)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, alerts)
		if (tu_json_num(a, "seq", -1) == seq)
			return a;
	return NULL;
}

/* The CEF extension value of key (to the next " k=" or the end). */
static void
cef_value(const char *cef, const char *key, char *out, size_t outlen)
{
	char k[64];
	const char *p, *e;
	size_t n;

	snprintf(k, sizeof(k), " %s=", key);
	out[0] = '\0';
	if ((p = strstr(cef, k)) == NULL) {
		snprintf(k, sizeof(k), "|%s=", key);
		if ((p = strstr(cef, k)) == NULL)
			return;
	}
	p += strlen(k);
	for (e = p; *e != '\0'; e++) {
		const char *eq;

		if (*e != ' ')
			continue;
		eq = e + 1 + strspn(e + 1, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		if (*eq == '=' && eq[-1] != '\\')
			break;
	}
	n = (size_t)(e - p) < outlen - 1 ? (size_t)(e - p) : outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

START_TEST(test_tcp_cef_every_stored_alert_once)
{
	struct rs r;
	struct line l[256];
	cJSON *alerts;
	char conf[256], *text, v[256], sd[256], hdr[512];
	int n, got, i, seen[256];
	struct tb_client_opts co = { 0 };
	struct tb_client *pub;

	memset(&r, 0, sizeof(r));
	rs_start(&r, 0, 0);
	snprintf(conf, sizeof(conf), "target = tcp://127.0.0.1:%d\n"
	    "format = cef\nhostname = central-1\n", r.port);
	collector_start(conf);
	alerts = agent_replay();
	n = cJSON_GetArraySize(alerts);
	ck_assert_msg(tb_wait_file_count(r.out, "|cef|", n, 20000) == 0,
	    "rsyslog got %d of %d; see %s", tb_file_count(r.out, "|cef|"), n,
	    r.out);
	/* only stored alerts, each once: a re-delivery and a bad message */
	co.uri = E.uri;
	co.client_id = "syslog-redeliver";
	co.clean = 1;
	pub = tb_client_new(&co);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(tb_client_connect(pub, 5000), 0);
	text = cJSON_PrintUnformatted(cJSON_GetArrayItem(alerts, 0));
	{
		char topic[128];

		snprintf(topic, sizeof(topic), "icsentry/plant-a/gw-01/alert/%s",
		    tu_json_str(cJSON_GetArrayItem(alerts, 0), "severity"));
		/* the agent's own bytes: cJSON prints them the same */
		ck_assert_int_eq(tb_client_publish(pub, topic, text,
		    (int)strlen(text), 1, 0, 5000), 0);
		ck_assert_int_eq(tb_client_publish(pub, topic, "{\"seq\":1}", 9,
		    1, 0, 5000), 0);
	}
	free(text);
	tb_client_free(pub);
	ck_assert_int_eq(wait_cmetric("icsentry_collector_rejected_total"
	    "{reason=\"invalid\"}", 1, 10000), 0);
	ck_assert(cmetric("icsentry_collector_alerts_stored_total") == n);
	ck_assert(cmetric("icsentry_collector_syslog_sent_total") == n);
	tb_sleep_ms(500);

	got = received(r.out, &text, l, 256);
	ck_assert_int_eq(got, n);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < got; i++) {
		const cJSON *a;
		int seq;

		/* RFC 5424 header as rsyslog parsed it */
		ck_assert_str_eq(l[i].host, "central-1");
		ck_assert_str_eq(l[i].app, "icsentry");
		ck_assert_str_eq(l[i].msgid, "cef");
		ck_assert_msg(sscanf(l[i].sd, "[icsentry@32473 site=\"plant-a\" "
		    "agent=\"gw-01\" seq=\"%d\"]", &seq) == 1, "sd %s", l[i].sd);
		ck_assert(seq >= 1 && seq <= n);
		seen[seq]++;
		a = alert_of_seq(alerts, seq);
		ck_assert_ptr_nonnull(a);
		ck_assert_int_eq(l[i].pri, 13 * 8 +
		    sev_num(tu_json_str(a, "severity")));
		/* the capture time, as rsyslog re-formats it */
		ck_assert_msg(strncmp(l[i].ts, tu_json_str(a, "ts"), 19) == 0,
		    "%s vs %s", l[i].ts, tu_json_str(a, "ts"));
		/* the CEF header and fields */
		snprintf(hdr, sizeof(hdr), "CEF:0|icsentry|icsentry|%s|%s|",
		    ICSENTRY_VERSION, tu_json_str(a, "rule") != NULL ?
		    tu_json_str(a, "rule") : tu_json_str(a, "detector"));
		ck_assert_msg(strncmp(l[i].msg, hdr, strlen(hdr)) == 0,
		    "%s", l[i].msg);
		cef_value(l[i].msg, "cn1", v, sizeof(v));
		ck_assert_int_eq(atoi(v), seq);
		cef_value(l[i].msg, "externalId", v, sizeof(v));
		snprintf(sd, sizeof(sd), "plant-a/gw-01/%d", seq);
		ck_assert_str_eq(v, sd);
		cef_value(l[i].msg, "cs1", v, sizeof(v));
		ck_assert_str_eq(v, "plant-a");
		cef_value(l[i].msg, "dvchost", v, sizeof(v));
		ck_assert_str_eq(v, "gw-01");
		cef_value(l[i].msg, "cs6", v, sizeof(v));
		ck_assert_str_eq(v, tu_json_str(a, "severity"));
		cef_value(l[i].msg, "cat", v, sizeof(v));
		ck_assert_str_eq(v, tu_json_str(a, "detector"));
		if (tu_json_str(a, "technique") != NULL) {
			cef_value(l[i].msg, "cs2", v, sizeof(v));
			ck_assert_str_eq(v, tu_json_str(a, "technique"));
		}
		if (tu_json_str(a, "src.ip") != NULL) {
			cef_value(l[i].msg, "src", v, sizeof(v));
			ck_assert_str_eq(v, tu_json_str(a, "src.ip"));
		}
		if (tu_json_str(a, "dst.ip") != NULL) {
			cef_value(l[i].msg, "dst", v, sizeof(v));
			ck_assert_str_eq(v, tu_json_str(a, "dst.ip"));
		}
		if (tu_json_str(a, "community_id") != NULL) {
			cef_value(l[i].msg, "cs5", v, sizeof(v));
			ck_assert(strncmp(v, tu_json_str(a, "community_id"),
			    strlen(v) - 2) == 0);
		}
	}
	for (i = 1; i <= n; i++)
		ck_assert_msg(seen[i] == 1, "seq %d arrived %d times", i,
		    seen[i]);
	free(text);
	cJSON_Delete(alerts);
	rs_clean(&r);
}
END_TEST

/* UDP and TLS, body JSON: the body is the stored alert, byte for byte. */
/* Returns how many stored alerts rsyslog received, each body equal. */
static int
json_body_case(int tls)
{
	struct rs r;
	struct line l[256];
	cJSON *alerts;
	char conf[1024], *text, *stored, *save = NULL, *line;
	char *want[256];
	int n, got, i, k;

	memset(&r, 0, sizeof(r));
	rs_start(&r, 0, tls);
	if (tls)
		snprintf(conf, sizeof(conf), "target = tls://127.0.0.1:%d\n"
		    "format = json\nca_file = %s\n", r.port, r.cert);
	else
		snprintf(conf, sizeof(conf), "target = udp://127.0.0.1:%d\n"
		    "format = json\n", r.port);
	collector_start(conf);
	alerts = agent_replay();
	n = cJSON_GetArraySize(alerts);
	ck_assert_msg(tb_wait_file_count(r.out, "|alert|", n, 20000) == 0,
	    "rsyslog got %d of %d; see %s", tb_file_count(r.out, "|alert|"), n,
	    r.out);
	if (tls)
		ck_assert(cmetric("icsentry_collector_syslog_connected") == 1);
	stored = tb_read_file(E.alerts, NULL);
	ck_assert_ptr_nonnull(stored);
	k = 0;
	for (line = strtok_r(stored, "\n", &save); line != NULL && k < 256;
	    line = strtok_r(NULL, "\n", &save))
		want[k++] = line;
	ck_assert_int_eq(k, n);
	got = received(r.out, &text, l, 256);
	ck_assert_int_eq(got, n);
	for (i = 0; i < got; i++) {
		cJSON *j = cJSON_Parse(l[i].msg);
		int seq, m, found = 0;

		ck_assert_msg(j != NULL, "not JSON: %s", l[i].msg);
		seq = (int)tu_json_num(j, "seq", -1);
		for (m = 0; m < k; m++)
			if (strcmp(want[m], l[i].msg) == 0)
				found++;
		ck_assert_msg(found == 1, "seq %d: body differs from the "
		    "stored alert", seq);
		ck_assert_str_eq(tu_json_str(j, "site"), "plant-a");
		ck_assert_str_eq(l[i].msgid, "alert");
		ck_assert_int_eq(l[i].pri, 13 * 8 +
		    sev_num(tu_json_str(j, "severity")));
		cJSON_Delete(j);
	}
	free(text);
	free(stored);
	cJSON_Delete(alerts);
	rs_clean(&r);
	return got;
}

START_TEST(test_udp_json_body_is_the_stored_alert)
{
	/* the replay's stored alerts, every one received (checked inside) */
	ck_assert_int_ge(json_body_case(0), 10);
}
END_TEST

START_TEST(test_tls_json)
{
	ck_assert_int_ge(json_body_case(1), 10);
}
END_TEST

/* A TLS receiver whose certificate we do not trust gets nothing. */
START_TEST(test_tls_untrusted_refused)
{
	struct rs r;
	cJSON *alerts;
	char conf[512];
	int n;

	memset(&r, 0, sizeof(r));
	rs_start(&r, 0, 1);
	/* the system store does not know our self-signed certificate */
	snprintf(conf, sizeof(conf), "target = tls://127.0.0.1:%d\n", r.port);
	collector_start(conf);
	alerts = agent_replay();
	n = cJSON_GetArraySize(alerts);
	ck_assert_int_eq(wait_cmetric("icsentry_collector_alerts_stored_total",
	    n, 20000), 0);
	tb_sleep_ms(1500);
	ck_assert_int_eq(tb_file_count(r.out, "|alert|"), 0);
	ck_assert(cmetric("icsentry_collector_syslog_errors_total") >= 1);
	ck_assert(cmetric("icsentry_collector_syslog_sent_total") == 0);
	ck_assert(cmetric("icsentry_collector_syslog_queued") == n);
	cJSON_Delete(alerts);
	rs_clean(&r);
}
END_TEST

/*
 * The receiver is down while the alerts come: storage goes on (all
 * stored), the queue holds queue_max (the oldest beyond it dropped and
 * counted); once rsyslog is up the queued ones arrive, each once.
 */
START_TEST(test_receiver_down_bounded_queue)
{
	struct rs r;
	struct line l[64];
	cJSON *alerts;
	char conf[256], *text;
	int n, got, i, port = tb_free_port(), seq;

	snprintf(conf, sizeof(conf), "target = tcp://127.0.0.1:%d\n"
	    "format = json\nqueue_max = 5\n", port);
	collector_start(conf);
	alerts = agent_replay();
	n = cJSON_GetArraySize(alerts);
	ck_assert_int_eq(wait_cmetric("icsentry_collector_alerts_stored_total",
	    n, 20000), 0);
	ck_assert_int_eq(wait_cmetric("icsentry_collector_syslog_dropped_total",
	    n - 5, 5000), 0);
	ck_assert(cmetric("icsentry_collector_syslog_queued") == 5);
	ck_assert(cmetric("icsentry_collector_syslog_errors_total") >= 1);
	ck_assert(cmetric("icsentry_collector_syslog_connected") == 0);
	/* now the receiver comes up on that port: the retry delivers */
	memset(&r, 0, sizeof(r));
	rs_start(&r, port, 0);
	ck_assert_msg(tb_wait_file_count(r.out, "|alert|", 5, 20000) == 0,
	    "rsyslog got %d of 5; see %s", tb_file_count(r.out, "|alert|"),
	    r.out);
	ck_assert_int_eq(wait_cmetric("icsentry_collector_syslog_queued", 0,
	    5000), 0);
	ck_assert(cmetric("icsentry_collector_syslog_sent_total") == 5);
	tb_sleep_ms(500);
	got = received(r.out, &text, l, 64);
	ck_assert_int_eq(got, 5);
	/* the newest five, in order */
	for (i = 0; i < got; i++) {
		ck_assert(sscanf(l[i].sd, "[icsentry@32473 site=\"plant-a\" "
		    "agent=\"gw-01\" seq=\"%d\"]", &seq) == 1);
		ck_assert_int_eq(seq, n - 4 + i);
	}
	free(text);
	cJSON_Delete(alerts);
	rs_clean(&r);
}
END_TEST

START_TEST(test_bad_syslog_config)
{
	char bin[300], conf[320];
	char *argv[] = { bin, (char *)"-c", conf, NULL };
	char out[320], *t;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/bad.conf", E.dir);
	snprintf(out, sizeof(out), "%s/bad.out", E.dir);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s/c.db\n[syslog]\n"
	    "target = http://127.0.0.1:514\n", E.dir);
	fclose(f);
	ck_assert_int_eq(tb_run(argv, out, 10000), 2);
	t = tb_read_file(out, NULL);
	ck_assert_msg(t != NULL && strstr(t, "[syslog] target "
	    "'http://127.0.0.1:514' is not udp://HOST:PORT") != NULL, "%s", t);
	free(t);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[collector]\ndb = %s/c.db\n[syslog]\n"
	    "target = tcp://127.0.0.1:514\nformat = leef\n", E.dir);
	fclose(f);
	ck_assert_int_eq(tb_run(argv, out, 10000), 2);
	t = tb_read_file(out, NULL);
	ck_assert_msg(t != NULL && strstr(t, "[syslog] format 'leef' is "
	    "neither json nor cef") != NULL, "%s", t);
	free(t);
}
END_TEST

static Suite *
syslog_suite(void)
{
	Suite *s = suite_create("syslog");
	TCase *tc = tcase_create("text");
	TCase *te = tcase_create("rsyslog");

	tcase_add_test(tc, test_cef_text);
	tcase_add_test(tc, test_rfc5424_text);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(te, env_setup, env_teardown);
	tcase_set_timeout(te, 180);
	tcase_add_test(te, test_tcp_cef_every_stored_alert_once);
	tcase_add_test(te, test_udp_json_body_is_the_stored_alert);
	tcase_add_test(te, test_tls_json);
	tcase_add_test(te, test_tls_untrusted_refused);
	tcase_add_test(te, test_receiver_down_bounded_queue);
	tcase_add_test(te, test_bad_syslog_config);
	suite_add_tcase(s, te);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(syslog_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
