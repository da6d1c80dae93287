/*
 * check_detector_config.c - the keys every [detector.NAME] section has:
 * enabled = false keeps a detector from starting, severity = ... sets the
 * severity of every alert it raises, a bad severity is a usage error.
 * Through the real agent on the shared S7 capture (PLC stop, start,
 * control, SZL reads, uploads).
 */
#include <check.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

#define S7_PCAP "s7comm-snap7-s300-everything.pcap"

struct counts {
	int s7, s7_low, s7_stop_critical, other;
};

/* Run the agent with conf (NULL: none) on S7_PCAP; count its alerts. */
static int
run(const char *conf_text, struct counts *c, char *err, size_t errlen)
{
	char agent[512], pcap[512], dir[512], conf[600];
	struct tu_result r;
	cJSON *all, *a;
	int rc;

	memset(c, 0, sizeof(*c));
	tu_agent_path(agent, sizeof(agent));
	tu_pcap_path(pcap, sizeof(pcap), S7_PCAP);
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "detcfg"), 0);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	ck_assert_int_eq(tu_write_file(conf, conf_text, strlen(conf_text)), 0);
	{
		char *argv[] = { agent, "-c", conf, "-r", pcap, "--no-mqtt",
			"--alerts-out", "-", NULL };

		ck_assert_int_eq(tu_run(argv, NULL, 60000, &r), 0);
	}
	rc = r.exit_code;
	snprintf(err, errlen, "%s", r.err != NULL ? r.err : "");
	all = tu_json_lines(r.out, NULL);
	cJSON_ArrayForEach(a, all)
	{
		const char *det = tu_json_str(a, "detector");
		const char *sev = tu_json_str(a, "severity");

		if (det == NULL || sev == NULL)
			continue;
		if (strncmp(det, "s7.", 3) != 0) {
			c->other++;
			continue;
		}
		c->s7++;
		if (strcmp(sev, "low") == 0)
			c->s7_low++;
		if (strcmp(det, "s7.plc_stop") == 0 &&
		    strcmp(sev, "critical") == 0)
			c->s7_stop_critical++;
	}
	cJSON_Delete(all);
	tu_result_free(&r);
	tu_rmtree(dir);
	return rc;
}

START_TEST(test_defaults)
{
	struct counts c;
	char err[2048];

	ck_assert_int_eq(run("[agent]\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.s7, 8);
	ck_assert_int_eq(c.s7_low, 0);
	ck_assert_int_eq(c.s7_stop_critical, 1);
}
END_TEST

START_TEST(test_severity_override)
{
	struct counts c;
	char err[2048];

	ck_assert_int_eq(
	    run("[detector.s7]\nseverity = low\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.s7, 8);
	ck_assert_int_eq(c.s7_low, 8);
	ck_assert_int_eq(c.s7_stop_critical, 0);
}
END_TEST

START_TEST(test_disabled)
{
	struct counts c, d;
	char err[2048];

	ck_assert_int_eq(run("[agent]\n", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    run("[detector.s7]\nenabled = false\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.s7, 0);
	/* the other detectors are untouched */
	ck_assert_int_eq(c.other, d.other);
}
END_TEST

START_TEST(test_bad_severity)
{
	struct counts c;
	char err[2048];

	ck_assert_int_eq(
	    run("[detector.s7]\nseverity = urgent\n", &c, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err,
			  "[detector.s7] severity = urgent: expected "
			  "info, low, medium, high or critical") != NULL,
	    "stderr: %s", err);
	ck_assert_int_eq(c.s7, 0);
}
END_TEST

START_TEST(test_bad_enabled)
{
	struct counts c;
	char err[2048];

	ck_assert_int_eq(
	    run("[detector.s7]\nenabled = maybe\n", &c, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "agent.conf:2") != NULL, "stderr: %s", err);
}
END_TEST

/* Every detector section offers both keys in --print-config. */
START_TEST(test_print_config)
{
	char agent[512];
	struct tu_result r;
	const char *p;
	int sections = 0;

	tu_agent_path(agent, sizeof(agent));
	{
		char *argv[] = { agent, "--print-config", NULL };

		ck_assert_int_eq(tu_run(argv, NULL, 30000, &r), 0);
	}
	ck_assert_int_eq(r.exit_code, 0);
	for (p = strstr(r.out, "\n[detector."); p != NULL;
	     p = strstr(p + 1, "\n[detector.")) {
		const char *next = strstr(p + 1, "\n[");
		const char *en = strstr(p, "\nenabled = true\n");
		const char *sv = strstr(p, "\n#severity =\n");

		ck_assert_ptr_nonnull(en);
		ck_assert_ptr_nonnull(sv);
		if (next != NULL) {
			ck_assert(en < next);
			ck_assert(sv < next);
		}
		sections++;
	}
	ck_assert_int_ge(sections, 15);
	tu_result_free(&r);
}
END_TEST

static Suite *
detcfg_suite(void)
{
	Suite *s = suite_create("detector_config");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_severity_override);
	tcase_add_test(tc, test_disabled);
	tcase_add_test(tc, test_bad_severity);
	tcase_add_test(tc, test_bad_enabled);
	tcase_add_test(tc, test_print_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(detcfg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
