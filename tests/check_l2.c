/*
 * check_l2.c - the plant floor below IP and beside it: GOOSE, SV,
 * PROFINET DCP, LLDP, MMS and MQTT through the real agent
 * ($ICSENTRY_BUILD/icsentry-agent).
 *
 *   counts      the shared captures ($SHARED/pcaps): PDUs per protocol
 *               (the same numbers as tshark 4.0's goose/sv/pn_dcp/lldp/
 *               mms/mqtt frame counts, see each row), nothing malformed,
 *               no alert (the four MQTT captures that send user "user",
 *               password "pass" in clear: exactly that one alert)
 *   inventory   DCP Identify answers, LLDP and GOOSE publishers in the
 *               inventory, keyed by MAC
 *   scenarios   tests/l2/gen_l2.py's labeled attacks: each detected by
 *               source, technique and time; its benign twin: no alert
 *   own broker  MQTT to the agent's own broker ([mqtt] uri, a real
 *               mosquitto) is never judged as plant traffic
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/testutil.h"
#include "tests/testutil_broker.h"

#define RUN_MS		(120 * 1000)

static char dir[512];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "l2"), 0);
}

static void
teardown(void)
{
	if (dir[0] != '\0')
		tu_rmtree(dir);
	dir[0] = '\0';
}

/*
 * Run the agent: -r pcap [-c conf] [extra...] --alerts-out - --stats.
 * Returns the alerts (array) and the stats in *stats (both to free).
 */
static cJSON *
agent(const char *pcap, const char *conf, const char *extra1,
    const char *extra2, cJSON **stats)
{
	char path[600];
	char *argv[16];
	struct tu_result r;
	cJSON *alerts;
	int n = 0;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	if (conf != NULL) {
		argv[n++] = "-c";
		argv[n++] = (char *)conf;
	}
	argv[n++] = "-r";
	argv[n++] = (char *)pcap;
	if (extra1 != NULL)
		argv[n++] = (char *)extra1;
	if (extra2 != NULL)
		argv[n++] = (char *)extra2;
	argv[n++] = "--alerts-out";
	argv[n++] = "-";
	argv[n++] = "--stats";
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_MS, &r), 0);
	ck_assert_msg(r.exit_code == 0, "%s: exit %d: %s", pcap, r.exit_code,
	    r.err);
	alerts = tu_json_lines(r.out, NULL);
	if (stats != NULL)
		*stats = tu_json_last_line(r.err);
	tu_result_free(&r);
	return alerts;
}

/* ---- shared captures: exact counts ---------------------------------- */

static const struct count_row {
	const char	*pcap;
	const char	*proto;		/* stats pdus.<proto> */
	double		 pdus;
	const char	*proto2;
	double		 pdus2;
	int		 alerts;
} counts[] = {
	/* tshark: goose(451), 3 publishers */
	{ "goose-sample.pcap", "goose", 451, NULL, 0, 0 },
	/* tshark: goose(8); a publisher restart at 27.8 s (stNum 1, sqNum 1) */
	{ "goose-icsnpp.pcap", "goose", 8, NULL, 0, 0 },
	/* tshark: sv(10161) */
	{ "sv-iec61850-9-2.pcap", "iec61850-sv", 10161, NULL, 0, 0 },
	/* tshark: pn_dcp(14), Identify requests filtered by name */
	{ "profinet-dcp-identify.pcap", "profinet-dcp", 14, NULL, 0, 0 },
	/* tshark: pn_dcp(19), lldp(201); RT/PTCP frames are passed over */
	{ "profinet-io-cm-mixed.pcap", "profinet-dcp", 19, "lldp", 201, 0 },
	/* tshark: mms(163) */
	{ "mms-client-server.pcap", "iec61850-mms", 163, NULL, 0, 0 },
	/* tshark: goose(34), mms(8): tshark leaves the 28 informationReports
	 * of connections whose association the capture missed undecoded */
	{ "mms-goose-substation.pcap", "iec61850-mms", 36, "goose", 34, 0 },
	/* tshark: mqtt(20) */
	{ "mqtt-zeek.pcap", "mqtt", 20, NULL, 0, 0 },
	/* tshark: mqtt(5): CONNECT with user "user" and password "pass" */
	{ "mqtt5-subscribe-props.pcap", "mqtt", 5, NULL, 0, 1 },
};

START_TEST(test_counts)
{
	const struct count_row *c = &counts[_i];
	char pcap[600], key[64];
	cJSON *alerts, *stats = NULL, *m;
	int i;

	tu_pcap_path(pcap, sizeof(pcap), c->pcap);
	alerts = agent(pcap, NULL, NULL, NULL, &stats);
	ck_assert_ptr_nonnull(stats);
	snprintf(key, sizeof(key), "pdus.%s", c->proto);
	ck_assert_msg(tu_json_num(stats, key, -1) == c->pdus, "%s: %s %.0f",
	    c->pcap, key, tu_json_num(stats, key, -1));
	if (c->proto2 != NULL) {
		snprintf(key, sizeof(key), "pdus.%s", c->proto2);
		ck_assert_msg(tu_json_num(stats, key, -1) == c->pdus2,
		    "%s: %s %.0f", c->pcap, key, tu_json_num(stats, key, -1));
	}
	m = cJSON_GetObjectItem(stats, "malformed");
	for (i = 0; i < cJSON_GetArraySize(m); i++)
		ck_assert_msg(cJSON_GetArrayItem(m, i)->valuedouble == 0,
		    "%s: malformed %s", c->pcap, cJSON_GetArrayItem(m, i)->string);
	ck_assert_msg(cJSON_GetArraySize(alerts) == c->alerts, "%s: %d alerts",
	    c->pcap, cJSON_GetArraySize(alerts));
	if (c->alerts == 1)
		ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(alerts, 0),
		    "detector"), "mqtt.cleartext_credentials");
	cJSON_Delete(alerts);
	cJSON_Delete(stats);
}
END_TEST

/* L2 frames have flows: MAC pair + EtherType + APPID */
START_TEST(test_layer2_flows)
{
	char pcap[600];
	cJSON *alerts, *stats = NULL;

	tu_pcap_path(pcap, sizeof(pcap), "goose-sample.pcap");
	alerts = agent(pcap, NULL, NULL, NULL, &stats);
	ck_assert_int_eq(tu_json_num(stats, "layer2_ics", -1), 451);
	ck_assert_int_eq(tu_json_num(stats, "flows.created", -1), 3);
	ck_assert_int_eq(tu_json_num(stats, "protocols.goose", -1), 3);
	cJSON_Delete(alerts);
	cJSON_Delete(stats);
}
END_TEST

/* ---- inventory ------------------------------------------------------ */

static const cJSON *
asset_by_mac(const cJSON *inv, const char *mac)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(inv, "assets"))
		if (tu_json_str(a, "mac") != NULL &&
		    strcmp(tu_json_str(a, "mac"), mac) == 0)
			return a;
	return NULL;
}

static cJSON *
inventory(const char *name)
{
	char pcap[600], path[600];
	char *argv[8];
	struct tu_result r;
	cJSON *j;

	argv[0] = (char *)tu_agent_path(path, sizeof(path));
	argv[1] = "-r";
	argv[2] = (char *)tu_pcap_path(pcap, sizeof(pcap), name);
	argv[3] = "--assets-out";
	argv[4] = "-";
	argv[5] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_MS, &r), 0);
	ck_assert_int_eq(r.exit_code, 0);
	j = cJSON_Parse(r.out);
	tu_result_free(&r);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(test_inventory)
{
	cJSON *inv = inventory("profinet-io-cm-mixed.pcap");
	const cJSON *a;

	/* the DCP Identify answer (tshark: versamax-pns11, 0x015a/0x0003) */
	a = asset_by_mac(inv, "00:09:91:43:e0:67");
	ck_assert_ptr_nonnull(a);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "ip")));
	ck_assert_str_eq(tu_json_str(a, "identity.profinet.name_of_station"),
	    "versamax-pns11");
	ck_assert_str_eq(tu_json_str(a, "identity.profinet.type_of_station"),
	    "IC200PNS001");
	ck_assert_int_eq(tu_json_num(a, "identity.profinet.vendor_id", -1), 0x015a);
	ck_assert_int_eq(tu_json_num(a, "identity.profinet.device_id", -1), 3);
	ck_assert_str_eq(tu_json_str(a, "identity.profinet.role"), "io-device");
	ck_assert_str_eq(tu_json_str(a, "identity.profinet.ip"), "192.168.1.2");
	/* LLDP from the SCALANCE switch's port 4 and the VersaMax */
	a = asset_by_mac(inv, "00:0e:8c:ef:75:c9");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "identity.lldp.chassis_id"),
	    "siemens-x208-switch");
	ck_assert_str_eq(tu_json_str(a, "identity.lldp.port_id"), "port-004");
	a = asset_by_mac(inv, "00:09:91:43:e0:68");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "identity.lldp.chassis_id"),
	    "versamax-pns11");
	ck_assert_str_eq(tu_json_str(a, "identity.lldp.management_address"),
	    "192.168.1.2");
	cJSON_Delete(inv);

	inv = inventory("goose-sample.pcap");
	a = asset_by_mac(inv, "0a:bb:fe:10:c9:02");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "identity.iec61850.gocb_ref"),
	    "AA1C1Q01A1LD0/LLN0$GO$gcb_A");
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "protocols"), "goose")));
	/* the multicast destination is no device */
	ck_assert_ptr_null(asset_by_mac(inv, "01:0c:cd:01:00:00"));
	ck_assert_int_eq(tu_json_num(inv, "count", -1), 3);
	cJSON_Delete(inv);
}
END_TEST

/* ---- generated scenarios --------------------------------------------- */

static void
generate(const char *broker)
{
	char *argv[8];
	struct tu_result r;
	int n = 0;

	argv[n++] = "/usr/bin/python3";
	argv[n++] = "tests/l2/gen_l2.py";
	argv[n++] = "--out";
	argv[n++] = dir;
	if (broker != NULL) {
		argv[n++] = "--broker";
		argv[n++] = (char *)broker;
	}
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_MS, &r), 0);
	ck_assert_msg(r.exit_code == 0, "gen_l2.py: %s", r.err);
	tu_result_free(&r);
}

static double
epoch(const char *ts)
{
	struct tm tm;
	int y, mo, d, h, mi, s, us;

	if (ts == NULL || sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h,
	    &mi, &s, &us) != 7)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (double)timegm(&tm) + us / 1e6;
}

/* An alert naming the attacker (IP, or MAC on layer 2) with the labeled
 * technique inside [start, end + 1 s]. */
static bool
detected(const cJSON *label, const cJSON *alerts)
{
	const char *ip = tu_json_str(label, "src_ip");
	const char *mac = tu_json_str(label, "src_mac");
	const char *tech = tu_json_str(label, "attack_technique");
	double start = tu_json_num(label, "start_ts", 0);
	double end = tu_json_num(label, "end_ts", 0);
	const cJSON *a;

	cJSON_ArrayForEach(a, alerts) {
		const char *at = tu_json_str(a, "technique");
		const char *src = ip != NULL ? tu_json_str(a, "src.ip") :
		    tu_json_str(a, "src.mac");
		double t = epoch(tu_json_str(a, "ts"));
		const cJSON *x;

		/* one alert per packet: a second finding's technique is a
		 * secondary one (DESIGN: `techniques`), as tests/eval.py reads */
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "techniques"))
			if (cJSON_IsString(x) && strcmp(x->valuestring, tech) == 0)
				at = x->valuestring;
		if (at != NULL && strcmp(at, tech) == 0 && src != NULL &&
		    strcmp(src, ip != NULL ? ip : mac) == 0 &&
		    t >= start - 1e-6 && t <= end + 1.0)
			return true;
	}
	return false;
}

START_TEST(test_scenarios)
{
	char pcap[600], lab[600];
	cJSON *alerts, *labels, *l;
	char *txt, missed[2048] = "";
	int n = 0;

	generate(NULL);
	snprintf(lab, sizeof(lab), "%s/l2-attacks.labels.json", dir);
	txt = tu_read_file(lab, NULL);
	ck_assert_ptr_nonnull(txt);
	labels = cJSON_Parse(txt);
	free(txt);
	ck_assert_int_eq(cJSON_GetArraySize(labels), 21);
	snprintf(pcap, sizeof(pcap), "%s/l2-attacks.pcap", dir);
	alerts = agent(pcap, "tests/eval/l2.conf", NULL, NULL, NULL);
	cJSON_ArrayForEach(l, labels) {
		if (detected(l, alerts))
			n++;
		else
			snprintf(missed + strlen(missed),
			    sizeof(missed) - strlen(missed), " %s",
			    tu_json_str(l, "kind"));
	}
	ck_assert_msg(n == 21, "missed:%s", missed);
	cJSON_Delete(alerts);
	cJSON_Delete(labels);

	/* the benign twins: allowed writer, known publisher, one typo */
	snprintf(pcap, sizeof(pcap), "%s/l2-benign.pcap", dir);
	alerts = agent(pcap, "tests/eval/l2.conf", NULL, NULL, NULL);
	ck_assert_msg(cJSON_GetArraySize(alerts) == 0, "benign: %d alerts, "
	    "first %s", cJSON_GetArraySize(alerts),
	    tu_json_str(cJSON_GetArrayItem(alerts, 0), "detector"));
	cJSON_Delete(alerts);
}
END_TEST

/* The attack cell with its broker on the agent's own broker address. */
START_TEST(test_own_broker)
{
	struct tb_broker b;
	char pcap[600], conf[600], uri[64], addr[64];
	cJSON *alerts, *a;
	int mqtt = 0, mms = 0;
	FILE *f;

	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(tb_broker_start(&b), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", b.port);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", b.port);
	generate(addr);
	snprintf(pcap, sizeof(pcap), "%s/l2-attacks.pcap", dir);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = l2-own\nsite = test\n"
	    "[mqtt]\npersist_dir = %s/mqtt\n"
	    "[policy]\nmms_writers = 10.20.1.30\n"
	    "[detector.mqtt]\nlearn_secs = 30\n", dir);
	fclose(f);

	/* without the agent's broker configured, the cell's MQTT is judged */
	alerts = agent(pcap, conf, NULL, NULL, NULL);
	cJSON_ArrayForEach(a, alerts)
		if (strncmp(tu_json_str(a, "detector"), "mqtt.", 5) == 0)
			mqtt++;
	ck_assert_int_ge(mqtt, 4);
	cJSON_Delete(alerts);

	/* the same broker as [mqtt] uri: the agent's own channel */
	mqtt = 0;
	alerts = agent(pcap, conf, "--mqtt", uri, NULL);
	cJSON_ArrayForEach(a, alerts) {
		if (strncmp(tu_json_str(a, "detector"), "mqtt.", 5) == 0)
			mqtt++;
		if (strcmp(tu_json_str(a, "detector"),
		    "mms.unauthorized_write") == 0)
			mms++;
	}
	ck_assert_int_eq(mqtt, 0);
	ck_assert_int_eq(mms, 1);
	cJSON_Delete(alerts);
	tb_broker_cleanup(&b);
}
END_TEST

static Suite *
l2_suite(void)
{
	Suite *s = suite_create("l2");
	TCase *tc = tcase_create("captures");
	TCase *ts = tcase_create("scenarios");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_counts, 0,
	    (int)(sizeof(counts) / sizeof(counts[0])));
	tcase_add_test(tc, test_layer2_flows);
	tcase_add_test(tc, test_inventory);
	suite_add_tcase(s, tc);
	tcase_set_timeout(ts, 300);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, test_scenarios);
	tcase_add_test(ts, test_own_broker);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(l2_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
