/*
 * check_detect.c - detectors end to end through the real agent binary:
 * labeled generated scenarios (every attack found, no false positive on
 * the benign one), real captures that carry dangerous commands, the alert
 * hash chain, storm aggregation and seq persistence across runs.
 */
#include <check.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/chain.h"
#include "tests/testutil.h"

#define POLICY	"tests/eval/factory.conf"

/* Run the agent with extra args; returns its alerts as a cJSON array. */
static cJSON *
run_alerts(const char *conf, const char *pcap, const char *extra1,
    const char *extra2, struct tu_result *res)
{
	char agent[4096];
	char *argv[12];
	int n = 0;
	cJSON *arr;

	argv[n++] = (char *)tu_agent_path(agent, sizeof(agent));
	if (conf != NULL) {
		argv[n++] = (char *)"-c";
		argv[n++] = (char *)conf;
	}
	argv[n++] = (char *)"-r";
	argv[n++] = (char *)pcap;
	argv[n++] = (char *)"--alerts-out";
	argv[n++] = (char *)"-";
	if (extra1 != NULL)
		argv[n++] = (char *)extra1;
	if (extra2 != NULL)
		argv[n++] = (char *)extra2;
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, 120000, res), 0);
	ck_assert_msg(res->exit_code == 0, "agent exit %d: %s", res->exit_code,
	    res->err);
	arr = tu_json_lines(res->out, NULL);
	ck_assert_ptr_nonnull(arr);
	return arr;
}

static double
ts_epoch(const char *ts)
{
	struct tm tm;
	const char *rest;
	double frac = 0;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_ptr_nonnull(rest);
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

static const char *
sev_str(const cJSON *a)
{
	const char *s = tu_json_str(a, "severity");

	return s != NULL ? s : "";
}

static void
scenario_path(char *buf, size_t len, const char *file)
{
	char dir[4096];

	snprintf(buf, len, "%s/%s", tu_build_path(dir, sizeof(dir), "scenarios"),
	    file);
}

/* Every labeled attack has an alert naming the attacker, right technique, in time. */
START_TEST(test_attacks_detected)
{
	char pcap[4200], labels[4200];
	struct tu_result res;
	cJSON *alerts, *lab, *l, *a;
	char *text;
	int found_all = 1, nlabels = 0;

	scenario_path(pcap, sizeof(pcap), "factory-attacks.pcap");
	scenario_path(labels, sizeof(labels), "factory-attacks.labels.json");
	text = tu_read_file(labels, NULL);
	ck_assert_msg(text != NULL, "no %s (make builds it)", labels);
	lab = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(lab);
	alerts = run_alerts(POLICY, pcap, NULL, NULL, &res);
	cJSON_ArrayForEach(l, lab) {
		const char *src = tu_json_str(l, "src_ip");
		const char *att = tu_json_str(l, "attacker_ip");
		const char *tech = tu_json_str(l, "attack_technique");
		double t0 = tu_json_num(l, "start_ts", 0);
		double t1 = tu_json_num(l, "end_ts", 0) + 1.0;
		int hit = 0;

		nlabels++;
		cJSON_ArrayForEach(a, alerts) {
			const char *aip = tu_json_str(a, "src.ip");
			const char *atech = tu_json_str(a, "technique");
			double t = ts_epoch(tu_json_str(a, "ts"));

			if (aip == NULL || atech == NULL || strcmp(atech, tech) != 0)
				continue;
			if (strcmp(aip, src) != 0 && (att == NULL || strcmp(aip, att) != 0))
				continue;
			if (t >= t0 - 1e-6 && t <= t1)
				hit = 1;
		}
		if (!hit) {
			fprintf(stderr, "missed: %s %s\n", tu_json_str(l, "id"), tech);
			found_all = 0;
		}
	}
	ck_assert_int_eq(nlabels, 7);
	ck_assert_msg(found_all, "a labeled attack was missed (see stderr)");
	cJSON_Delete(alerts);
	cJSON_Delete(lab);
	tu_result_free(&res);
}
END_TEST

/* The benign cell gives nothing of severity low or above, with or without policy. */
START_TEST(test_benign_quiet)
{
	char pcap[4200];
	struct tu_result res;
	cJSON *alerts, *a;
	int pass, loud = 0, total = 0;

	scenario_path(pcap, sizeof(pcap), "factory-benign.pcap");
	for (pass = 0; pass < 2; pass++) {
		alerts = run_alerts(pass == 0 ? POLICY : NULL, pcap, NULL, NULL, &res);
		cJSON_ArrayForEach(a, alerts) {
			total++;
			if (strcmp(sev_str(a), "info") != 0) {
				fprintf(stderr, "false positive: %s %s\n",
				    tu_json_str(a, "detector"), tu_json_str(a, "title"));
				loud++;
			}
		}
		cJSON_Delete(alerts);
		tu_result_free(&res);
	}
	ck_assert_int_eq(loud, 0);
	/* the only info alerts are the engineering station's ListIdentity */
	ck_assert_int_le(total, 4);
}
END_TEST

struct expect {
	const char	*pcap;
	const char	*detector;
	const char	*severity;
	const char	*technique;	/* NULL: none */
	const char	*src;
	int		 min;
};

/* Real captures from the manifest that carry dangerous commands. */
static const struct expect real[] = {
	{ "s7comm-snap7-s300-everything.pcap", "s7.plc_stop", "critical", "T0858", "134.217.61.131", 1 },
	{ "s7comm-snap7-s300-everything.pcap", "s7.upload", "medium", "T0845", "134.217.61.131", 1 },
	{ "fins-omron.pcap", "fins.stop", "critical", "T0858", NULL, 1 },
	{ "fins-tcp-commands.pcap", "fins.stop", "critical", "T0858", NULL, 1 },
	{ "fins-tcp-commands.pcap", "fins.run", "high", "T0858", NULL, 1 },
	{ "bacnet-icsnpp-example.pcap", "bacnet.reinitialize_device", "critical", "T0816", NULL, 1 },
	{ "dnp3-file-list-directory.pcap", "dnp3.file_operation", "medium", NULL, NULL, 1 },
	{ "modbus-icsnpp-example.pcap", "modbus.diagnostics", NULL, NULL, NULL, 1 },
	/* UMAS 0x33-0x35: Schneider's "download", the program read out of
	 * the PLC (the answers carry it): an ATT&CK program upload */
	{ "modbus-umas-modicon.pcap", "modbus.umas_upload", "medium", "T0845", NULL, 1 },
};

START_TEST(test_real_dangerous)
{
	const struct expect *e = &real[_i];
	char pcap[4200];
	struct tu_result res;
	cJSON *alerts, *a;
	int n = 0;

	tu_pcap_path(pcap, sizeof(pcap), e->pcap);
	alerts = run_alerts(NULL, pcap, NULL, NULL, &res);
	cJSON_ArrayForEach(a, alerts) {
		const char *tech = tu_json_str(a, "technique");

		if (strcmp(tu_json_str(a, "detector"), e->detector) != 0)
			continue;
		if (e->severity != NULL)
			ck_assert_str_eq(sev_str(a), e->severity);
		if (e->technique != NULL)
			ck_assert_msg(tech != NULL && strcmp(tech, e->technique) == 0,
			    "%s: technique %s", e->detector, tech ? tech : "null");
		if (e->src != NULL)
			ck_assert_str_eq(tu_json_str(a, "src.ip"), e->src);
		n++;
	}
	ck_assert_msg(n >= e->min, "%s: %d alerts of %s", e->pcap, n, e->detector);
	cJSON_Delete(alerts);
	tu_result_free(&res);
}
END_TEST

/* Policy matters: the same writes are silent without it, flagged with it. */
START_TEST(test_policy_no_opinion)
{
	char pcap[4200];
	struct tu_result res;
	cJSON *alerts, *a;
	int with = 0, without = 0, pass;

	scenario_path(pcap, sizeof(pcap), "factory-attacks.pcap");
	for (pass = 0; pass < 2; pass++) {
		alerts = run_alerts(pass == 0 ? POLICY : NULL, pcap, NULL, NULL, &res);
		cJSON_ArrayForEach(a, alerts)
			if (strcmp(tu_json_str(a, "detector"),
			    "modbus.unauthorized_write") == 0) {
				ck_assert_str_eq(tu_json_str(a, "src.ip"), "10.10.1.12");
				if (pass == 0)
					with++;
				else
					without++;
			}
		cJSON_Delete(alerts);
		tu_result_free(&res);
	}
	ck_assert_int_ge(with, 1);
	ck_assert_int_eq(without, 0);
}
END_TEST

/* Alerts chain: seq 1..n, prev_hash links, each hash verifies. */
START_TEST(test_chain)
{
	char pcap[4200], prev[CHAIN_HEX_LEN + 1] = CHAIN_GENESIS;
	struct tu_result res;
	const char *p, *nl;
	int seq = 0;

	scenario_path(pcap, sizeof(pcap), "factory-attacks.pcap");
	cJSON_Delete(run_alerts(POLICY, pcap, NULL, NULL, &res));
	for (p = res.out; *p != '\0'; p = nl + 1) {
		cJSON *o;
		char body[CHAIN_HEX_LEN + 1];
		size_t blen;

		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(chain_check(prev, p, (size_t)(nl - p)), 0);
		o = cJSON_ParseWithLength(p, (size_t)(nl - p));
		ck_assert_ptr_nonnull(o);
		ck_assert_int_eq((int)tu_json_num(o, "seq", -1), ++seq);
		ck_assert_str_eq(tu_json_str(o, "prev_hash"), prev);
		ck_assert_int_eq(chain_split(p, (size_t)(nl - p), &blen, body), 0);
		memcpy(prev, body, sizeof(prev));
		cJSON_Delete(o);
	}
	ck_assert_int_ge(seq, 10);
	tu_result_free(&res);
}
END_TEST

/* A flood is one alert plus one summary with the count, not thousands. */
START_TEST(test_aggregation)
{
	char pcap[4200];
	struct tu_result res;
	cJSON *alerts, *a;
	int first = 0, summaries = 0;
	double count = 0;

	scenario_path(pcap, sizeof(pcap), "factory-attacks.pcap");
	alerts = run_alerts(POLICY, pcap, NULL, NULL, &res);
	cJSON_ArrayForEach(a, alerts) {
		if (strcmp(tu_json_str(a, "detector"), "net.flood") != 0 ||
		    strcmp(tu_json_str(a, "src.ip"), "10.10.1.66") != 0)
			continue;
		if (cJSON_IsTrue(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(a, "details"), "summary"))) {
			summaries++;
			count += tu_json_num(a, "details.count", 0);
		} else
			first++;
	}
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(summaries, 1);
	ck_assert(count >= 3);
	cJSON_Delete(alerts);
	tu_result_free(&res);
}
END_TEST

/* seq and the chain continue across runs through [agent] state_file. */
START_TEST(test_state_persists)
{
	char dir[4096], conf[4200], state[4200], pcap[4200], text[8400];
	struct tu_result r1, r2;
	cJSON *a1, *a2, *last, *first;

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "state"), 0);
	snprintf(state, sizeof(state), "%s/agent.state", dir);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(text, sizeof(text), "[agent]\nname = gw-t\nsite = s\nstate_file = %s\n",
	    state);
	ck_assert_int_eq(tu_write_file(conf, text, strlen(text)), 0);
	tu_pcap_path(pcap, sizeof(pcap), "s7comm-snap7-s300-everything.pcap");
	a1 = run_alerts(conf, pcap, NULL, NULL, &r1);
	a2 = run_alerts(conf, pcap, NULL, NULL, &r2);
	ck_assert_int_gt(cJSON_GetArraySize(a1), 0);
	ck_assert_int_eq(cJSON_GetArraySize(a1), cJSON_GetArraySize(a2));
	last = cJSON_GetArrayItem(a1, cJSON_GetArraySize(a1) - 1);
	first = cJSON_GetArrayItem(a2, 0);
	ck_assert_int_eq((int)tu_json_num(first, "seq", -1),
	    (int)tu_json_num(last, "seq", -2) + 1);
	ck_assert_str_eq(tu_json_str(first, "prev_hash"), tu_json_str(last, "hash"));
	ck_assert_str_eq(tu_json_str(first, "agent"), "gw-t");
	cJSON_Delete(a1);
	cJSON_Delete(a2);
	tu_result_free(&r1);
	tu_result_free(&r2);
	/* a corrupt state file is refused, not silently restarted */
	ck_assert_int_eq(tu_write_file(state, "junk\n", 5), 0);
	{
		char agent[4096];
		char *argv[] = { (char *)tu_agent_path(agent, sizeof(agent)),
		    (char *)"-c", conf, (char *)"-r", pcap, NULL };
		struct tu_result r3;

		ck_assert_int_eq(tu_run(argv, NULL, 60000, &r3), 0);
		ck_assert_int_eq(r3.exit_code, 2);
		ck_assert(tu_contains(r3.err, "corrupt state file"));
		ck_assert_int_eq((int)tu_count_lines(r3.err), 1);
		tu_result_free(&r3);
	}
	tu_rmtree(dir);
}
END_TEST

static Suite *
detect_suite(void)
{
	Suite *s = suite_create("detect");
	TCase *tc = tcase_create("end-to-end");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_attacks_detected);
	tcase_add_test(tc, test_benign_quiet);
	tcase_add_loop_test(tc, test_real_dangerous, 0,
	    (int)(sizeof(real) / sizeof(real[0])));
	tcase_add_test(tc, test_policy_no_opinion);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_aggregation);
	tcase_add_test(tc, test_state_persists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(detect_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
