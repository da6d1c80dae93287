/*
 * check_eve.c - --alerts-format eve: icsentry alerts as Suricata EVE
 * "alert" records, each checked against a JSON schema of EVE's alert
 * record (tests/eve/alert.schema.json) with tests/testutil_schema.c, and
 * field by field against the agent's own JSON alert.
 */
#include <check.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/eve.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_schema.h"

static cJSON *
schema(void)
{
	char path[512], *text;
	cJSON *s;

	text = tb_read_file(tb_src_path(path, sizeof(path),
	    "tests/eve/alert.schema.json"), NULL);
	ck_assert_msg(text != NULL, "%s missing", path);
	s = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* An alert with every member item 1 of issue 14 adds. */
static const char full_alert[] =
    "{\"agent\":\"gw-01\",\"site\":\"plant-a\",\"seq\":42,"
    "\"ts\":\"2026-11-23T08:15:02.123456Z\",\"severity\":\"critical\","
    "\"detector\":\"s7.plc_stop\",\"technique\":\"T0858\","
    "\"technique_name\":\"Change Operating Mode\",\"tactic\":\"Execution\","
    "\"techniques\":[\"T0816\"],\"rule\":\"icsentry.s7.plc_stop\","
    "\"rule_rev\":3,\"sid\":2101,\"flow_id\":1234567890123,"
    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
    "\"vlan\":12,\"transport\":\"tcp\","
    "\"title\":\"S7 PLC STOP command\",\"proto\":\"s7comm\","
    "\"src\":{\"ip\":\"10.0.0.66\",\"port\":49152,"
    "\"mac\":\"02:00:00:00:00:42\"},"
    "\"dst\":{\"ip\":\"10.0.0.10\",\"port\":102,"
    "\"mac\":\"02:00:00:00:00:10\"},"
    "\"details\":{\"function\":41},"
    "\"prev_hash\":\"00\",\"hash\":\"11\"}";

/* Today's alert: none of the new members. */
static const char old_alert[] =
    "{\"agent\":\"gw-01\",\"site\":\"plant-a\",\"seq\":7,"
    "\"ts\":\"2026-11-23T08:15:02.000001Z\",\"severity\":\"low\","
    "\"detector\":\"modbus.unauthorized_write\",\"technique\":null,"
    "\"title\":\"Modbus write\",\"proto\":\"modbus\","
    "\"src\":{\"ip\":\"10.0.0.66\",\"port\":49152,\"mac\":null},"
    "\"dst\":{\"ip\":\"10.0.0.10\",\"port\":502,\"mac\":null},"
    "\"details\":{},\"prev_hash\":\"00\",\"hash\":\"11\"}";

static cJSON *
eve_of(const char *alert)
{
	char *e = eve_from_alert(alert, strlen(alert));
	cJSON *j;

	ck_assert_ptr_nonnull(e);
	j = cJSON_Parse(e);
	free(e);
	ck_assert_ptr_nonnull(j);
	return j;
}

static void
assert_valid(const cJSON *s, const cJSON *v)
{
	char err[512];
	char *t;

	if (ts_validate(s, v, err, sizeof(err)) != 0) {
		t = cJSON_PrintUnformatted(v);
		ck_abort_msg("schema: %s in %s", err, t);
	}
}

START_TEST(test_eve_full_record)
{
	cJSON *s = schema(), *e = eve_of(full_alert);

	assert_valid(s, e);
	ck_assert_str_eq(tu_json_str(e, "timestamp"),
	    "2026-11-23T08:15:02.123456+0000");
	ck_assert_str_eq(tu_json_str(e, "event_type"), "alert");
	ck_assert(tu_json_num(e, "flow_id", -1) == 1234567890123.0);
	ck_assert_str_eq(tu_json_str(e, "community_id"),
	    "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	ck_assert_str_eq(tu_json_str(e, "src_ip"), "10.0.0.66");
	ck_assert(tu_json_num(e, "src_port", -1) == 49152);
	ck_assert_str_eq(tu_json_str(e, "dest_ip"), "10.0.0.10");
	ck_assert(tu_json_num(e, "dest_port", -1) == 102);
	ck_assert_str_eq(tu_json_str(e, "proto"), "TCP");
	ck_assert_str_eq(tu_json_str(e, "app_proto"), "s7comm");
	ck_assert_str_eq(tu_json_str(e, "ether.src_mac"), "02:00:00:00:00:42");
	ck_assert(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "vlan"), 0)
	    ->valuedouble == 12);
	ck_assert_str_eq(tu_json_str(e, "alert.action"), "allowed");
	ck_assert_str_eq(tu_json_str(e, "alert.signature"),
	    "S7 PLC STOP command");
	ck_assert(tu_json_num(e, "alert.signature_id", -1) == 2101);
	ck_assert(tu_json_num(e, "alert.rev", -1) == 3);
	ck_assert(tu_json_num(e, "alert.severity", -1) == 1);
	ck_assert_str_eq(tu_json_str(e, "alert.category"), "Execution");
	{
		cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "alert"),
		    "metadata");
		cJSON *t = cJSON_GetObjectItem(m, "mitre_technique_id");

		ck_assert_int_eq(cJSON_GetArraySize(t), 2);
		ck_assert_str_eq(cJSON_GetArrayItem(t, 0)->valuestring, "T0858");
		ck_assert_str_eq(cJSON_GetArrayItem(t, 1)->valuestring, "T0816");
		ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(m,
		    "mitre_technique_name"), 0)->valuestring,
		    "Change Operating Mode");
		ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(m,
		    "mitre_tactic_name"), 0)->valuestring, "Execution");
		ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(m,
		    "icsentry_seq"), 0)->valuestring, "42");
	}
	ck_assert(tu_json_num(e, "icsentry.function", -1) == 41);
	cJSON_Delete(e);
	cJSON_Delete(s);
}
END_TEST

START_TEST(test_eve_leaves_out_what_is_missing)
{
	cJSON *s = schema(), *e = eve_of(old_alert);

	assert_valid(s, e);
	ck_assert(!cJSON_HasObjectItem(e, "flow_id"));
	ck_assert(!cJSON_HasObjectItem(e, "community_id"));
	ck_assert(!cJSON_HasObjectItem(e, "proto"));
	ck_assert(!cJSON_HasObjectItem(e, "vlan"));
	ck_assert(!cJSON_HasObjectItem(e, "ether"));
	ck_assert_str_eq(tu_json_str(e, "app_proto"), "modbus");
	ck_assert(tu_json_num(e, "alert.severity", -1) == 3);
	ck_assert(tu_json_num(e, "alert.signature_id", -1) ==
	    eve_signature_id("modbus.unauthorized_write"));
	ck_assert(tu_json_num(e, "alert.rev", -1) == 1);
	ck_assert(!cJSON_HasObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    e, "alert"), "metadata"), "mitre_technique_id"));
	/* stable ids: a numeric rule id is used as it is */
	ck_assert_uint_eq(eve_signature_id("2100498"), 2100498u);
	ck_assert_uint_eq(eve_signature_id("s7.plc_stop"),
	    eve_signature_id("s7.plc_stop"));
	ck_assert_uint_ne(eve_signature_id("s7.plc_stop"),
	    eve_signature_id("s7.plc_start"));
	ck_assert_uint_ge(eve_signature_id("s7.plc_stop"), 9000000u);
	ck_assert_int_eq(eve_severity("high"), 1);
	ck_assert_int_eq(eve_severity("medium"), 2);
	ck_assert_int_eq(eve_severity("info"), 3);
	ck_assert_ptr_null(eve_from_alert("[1]", 3));
	ck_assert_ptr_null(eve_from_alert("{\"seq\":1}", 9));
	cJSON_Delete(e);
	cJSON_Delete(s);
}
END_TEST

/* The validator and schema reject what EVE consumers would choke on. */
START_TEST(test_schema_catches_bad_records)
{
	static const char *const bad[] = {
		"{\"timestamp\":\"2026-11-23T08:15:02.123456Z\","
		"\"event_type\":\"alert\",\"alert\":{\"action\":\"allowed\","
		"\"gid\":1,\"signature_id\":1,\"rev\":1,\"signature\":\"x\","
		"\"category\":\"c\",\"severity\":1}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"flow\",\"alert\":{\"action\":\"allowed\","
		"\"gid\":1,\"signature_id\":1,\"rev\":1,\"signature\":\"x\","
		"\"category\":\"c\",\"severity\":1}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"alert\",\"alert\":{\"action\":\"allowed\","
		"\"gid\":1,\"signature_id\":1,\"rev\":1,\"signature\":\"x\","
		"\"category\":\"c\",\"severity\":4}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"alert\",\"alert\":{\"action\":\"allowed\","
		"\"gid\":1,\"rev\":1,\"signature\":\"x\","
		"\"category\":\"c\",\"severity\":1}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"alert\",\"community_id\":\"abc\","
		"\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":1,"
		"\"rev\":1,\"signature\":\"x\",\"category\":\"c\","
		"\"severity\":1}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"alert\",\"src_port\":70000,"
		"\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":1,"
		"\"rev\":1,\"signature\":\"x\",\"category\":\"c\","
		"\"severity\":1}}",
		"{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
		"\"event_type\":\"alert\",\"alert\":{\"action\":\"allowed\","
		"\"gid\":1,\"signature_id\":1,\"rev\":1,\"signature\":\"x\","
		"\"category\":\"c\",\"severity\":1,\"metadata\":"
		"{\"mitre_technique_id\":[\"0858\"]}}}",
	};
	static const char good[] =
	    "{\"timestamp\":\"2026-11-23T08:15:02.123456+0000\","
	    "\"event_type\":\"alert\",\"alert\":{\"action\":\"allowed\","
	    "\"gid\":1,\"signature_id\":1,\"rev\":1,\"signature\":\"x\","
	    "\"category\":\"c\",\"severity\":1}}";
	cJSON *s = schema(), *v;
	char err[512];
	size_t i;

	v = cJSON_Parse(good);
	ck_assert_int_eq(ts_validate(s, v, err, sizeof(err)), 0);
	cJSON_Delete(v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = cJSON_Parse(bad[i]);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(ts_validate(s, v, err, sizeof(err)) != 0,
		    "bad record %zu passed", i);
		cJSON_Delete(v);
	}
	cJSON_Delete(s);
}
END_TEST

static char *
run_agent(const char *format, const char *dir, const char *name)
{
	char agent[300], pcap[300], out[400];
	char *argv[] = { agent, (char *)"-r", pcap, (char *)"--no-mqtt",
	    (char *)"--alerts-out", out, (char *)"--alerts-format",
	    (char *)format, NULL };
	struct tu_result r;
	char *text;

	tu_agent_path(agent, sizeof(agent));
	tu_build_path(pcap, sizeof(pcap), "scenarios/fast-attacks.pcap");
	ck_assert_msg(access(pcap, R_OK) == 0, "%s missing: make tests", pcap);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	ck_assert_int_eq(tu_run(argv, NULL, 120000, &r), 0);
	ck_assert_msg(r.exit_code == 0, "agent: %s", r.err);
	tu_result_free(&r);
	text = tu_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(test_agent_writes_eve)
{
	char dir[256], *js, *ev;
	cJSON *s = schema(), *a, *e, *ai, *ei, *m;
	int bad = 0, n, i;

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "eve"), 0);
	js = run_agent("json", dir, "alerts.json");
	ev = run_agent("eve", dir, "eve.json");
	a = tu_json_lines(js, &bad);
	ck_assert_int_eq(bad, 0);
	e = tu_json_lines(ev, &bad);
	ck_assert_int_eq(bad, 0);
	n = cJSON_GetArraySize(a);
	/* fast-attacks under the defaults: 14 alerts, one record each */
	ck_assert_int_eq(n, 14);
	ck_assert_int_eq(cJSON_GetArraySize(e), n);
	for (i = 0; i < n; i++) {
		char ts[48];
		const char *t;

		ai = cJSON_GetArrayItem(a, i);
		ei = cJSON_GetArrayItem(e, i);
		assert_valid(s, ei);
		t = tu_json_str(ai, "ts");
		snprintf(ts, sizeof(ts), "%.*s+0000", (int)strlen(t) - 1, t);
		ck_assert_str_eq(tu_json_str(ei, "timestamp"), ts);
		ck_assert_str_eq(tu_json_str(ei, "alert.signature"),
		    tu_json_str(ai, "title"));
		ck_assert(tu_json_num(ei, "alert.severity", 0) ==
		    eve_severity(tu_json_str(ai, "severity")));
		if (cJSON_IsNumber(cJSON_GetObjectItem(ai, "sid")))
			ck_assert(tu_json_num(ei, "alert.signature_id", 0) ==
			    tu_json_num(ai, "sid", -1));
		else
			ck_assert(tu_json_num(ei, "alert.signature_id", 0) ==
			    eve_signature_id(tu_json_str(ai, "rule") != NULL ?
			    tu_json_str(ai, "rule") :
			    tu_json_str(ai, "detector")));
		if (tu_json_str(ai, "transport") != NULL)
			ck_assert(strcasecmp(tu_json_str(ei, "proto"),
			    tu_json_str(ai, "transport")) == 0);
		if (tu_json_str(ai, "src.ip") != NULL)
			ck_assert_str_eq(tu_json_str(ei, "src_ip"),
			    tu_json_str(ai, "src.ip"));
		if (tu_json_str(ai, "dst.ip") != NULL)
			ck_assert_str_eq(tu_json_str(ei, "dest_ip"),
			    tu_json_str(ai, "dst.ip"));
		m = cJSON_GetObjectItem(cJSON_GetObjectItem(ei, "alert"),
		    "metadata");
		if (tu_json_str(ai, "technique") != NULL)
			ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(
			    m, "mitre_technique_id"), 0)->valuestring,
			    tu_json_str(ai, "technique"));
		/* the record fields (issue 14 item 1) when the alert has them */
		if (cJSON_HasObjectItem(ai, "community_id") &&
		    tu_json_str(ai, "community_id") != NULL)
			ck_assert_str_eq(tu_json_str(ei, "community_id"),
			    tu_json_str(ai, "community_id"));
		else
			ck_assert(!cJSON_HasObjectItem(ei, "community_id"));
		if (cJSON_IsNumber(cJSON_GetObjectItem(ai, "flow_id")))
			ck_assert(tu_json_num(ei, "flow_id", -1) ==
			    tu_json_num(ai, "flow_id", -2));
		else if (!cJSON_IsString(cJSON_GetObjectItem(ai, "flow_id")))
			ck_assert(!cJSON_HasObjectItem(ei, "flow_id"));
	}
	/* the first alert of fast-attacks, in full */
	ei = cJSON_GetArrayItem(e, 0);
	ck_assert_str_eq(tu_json_str(ei, "timestamp"),
	    "2024-05-13T06:00:01.059464+0000");
	ck_assert_str_eq(tu_json_str(ei, "src_ip"), "10.10.1.66");
	ck_assert_str_eq(tu_json_str(ei, "alert.signature"),
	    "ARP sweep from 10.10.1.66");
	ck_assert(tu_json_num(ei, "alert.severity", 0) == 2);
	cJSON_Delete(a);
	cJSON_Delete(e);
	cJSON_Delete(s);
	free(js);
	free(ev);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_alerts_format_checked)
{
	char agent[300], pcap[300], conf[400], dir[256], out[400];
	char *argv[] = { agent, (char *)"-r", pcap, (char *)"--no-mqtt",
	    (char *)"--alerts-out", (char *)"-", (char *)"--alerts-format",
	    (char *)"xml", NULL };
	char *argv2[] = { agent, (char *)"-c", conf, (char *)"-r", pcap,
	    (char *)"--no-mqtt", NULL };
	struct tu_result r;
	FILE *f;
	cJSON *l;
	int bad = 0;

	tu_agent_path(agent, sizeof(agent));
	tu_build_path(pcap, sizeof(pcap), "scenarios/fast-attacks.pcap");
	ck_assert_int_eq(tu_run(argv, NULL, 30000, &r), 0);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(tu_contains(r.err, "--alerts-format: alerts_format "
	    "'xml' is neither json nor eve"), "stderr: %s", r.err);
	tu_result_free(&r);
	/* the config key does the same as the option */
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "eve"), 0);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(out, sizeof(out), "%s/eve.json", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nalerts_out = %s\nalerts_format = eve\n", out);
	fclose(f);
	ck_assert_int_eq(tu_run(argv2, NULL, 120000, &r), 0);
	ck_assert_int_eq(r.exit_code, 0);
	tu_result_free(&r);
	{
		char *t = tu_read_file(out, NULL);

		ck_assert_ptr_nonnull(t);
		l = tu_json_lines(t, &bad);
		ck_assert_int_eq(bad, 0);
		ck_assert_int_eq(cJSON_GetArraySize(l), 14);
		ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(l, 13),
		    "event_type"), "alert");
		cJSON_Delete(l);
		free(t);
	}
	tu_rmtree(dir);
}
END_TEST

static Suite *
eve_suite(void)
{
	Suite *s = suite_create("eve");
	TCase *tc = tcase_create("eve");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_eve_full_record);
	tcase_add_test(tc, test_eve_leaves_out_what_is_missing);
	tcase_add_test(tc, test_schema_catches_bad_records);
	tcase_add_test(tc, test_agent_writes_eve);
	tcase_add_test(tc, test_alerts_format_checked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(eve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
