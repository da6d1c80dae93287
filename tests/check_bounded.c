/*
 * check_bounded.c - state an attacker drives stays bounded (issue 19).
 *
 * The real $ICSENTRY_BUILD/icsentry-agent replays the large captures of
 * tests/robust/gen_captures.py (made by `make tests` in $ICSENTRY_BUILD/
 * robust): 1,000,000 distinct flows, 100,000 Modbus points on one server,
 * 10,000 DNP3 link addresses, a reassembly hole in each of 20,000 flows.
 * The caps the configuration sets hold (flow table, reassembly memory,
 * detector tables), every overflow is counted in --stats, and peak RSS
 * stays under a bound derived from the caps.  RSS is not checked under
 * ASan (ICSENTRY_SAN set by `make asan-test`): its shadow memory and
 * quarantine have nothing to do with the agent's own.  Under ASan each run
 * still must print no sanitizer line.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

/*
 * What one live flow may cost: the flow's own state plus nDPI's (its flow
 * struct is about 2 KiB in libndpi 4.2; measured ~3 KiB per flow in all).
 */
#define FLOW_KB		4

/* 1M flows under ASan on a loaded 2-core machine: minutes, not seconds */
#define RUN_TIMEOUT_MS	(900 * 1000)

static char dir[256];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "bounded"), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

static const char *
tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* $ICSENTRY_BUILD/robust/name */
static const char *
gen(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/robust/%s", tu_build_dir(), name);
	return buf;
}

static bool
sanitized(void)
{
	const char *s = getenv("ICSENTRY_SAN");

	return s != NULL && s[0] != '\0' && strcmp(s, "0") != 0;
}

/* Run the agent with the NULL-terminated arguments. */
static void
agent(struct tu_result *r, ...)
{
	char path[512], *argv[40];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	va_start(ap, r);
	while (n < 39 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, r), 0);
	ck_assert_msg(!r->timed_out, "agent timed out");
}

/* Exit 0, no sanitizer output, and the --stats object (free it). */
static cJSON *
clean_stats(const struct tu_result *r, const char *what)
{
	const char *san = tu_sanitizer_line(r->err);
	cJSON *st;

	ck_assert_msg(san == NULL, "%s: sanitizer: %.400s", what, san);
	ck_assert_msg(r->exit_code == 0, "%s: exit %d: %.600s", what,
	    r->exit_code, r->err);
	st = tu_json_last_line(r->err);
	ck_assert_msg(st != NULL, "%s: no --stats line: %.400s", what, r->err);
	return st;
}

static uint64_t
num(const cJSON *st, const char *path)
{
	double v = tu_json_num(st, path, -1);

	ck_assert_msg(v >= 0, "--stats has no %s", path);
	return (uint64_t)v;
}

/*
 * Replay a generated capture with conf; check it is clean, return stats
 * and the peak RSS in KiB.
 */
static cJSON *
bounded_run(const char *capture, const char *conf_text, const char *learn,
    long *rss_kb)
{
	char conf[512], cap[512], what[600];
	struct tu_result r;
	cJSON *st;

	ck_assert_int_eq(tu_write_file(tmp(conf, sizeof(conf), "bounded.conf"),
	    conf_text, strlen(conf_text)), 0);
	gen(cap, sizeof(cap), capture);
	ck_assert_msg(tu_file_size(cap) > 0, "%s missing: run make tests", cap);
	if (learn != NULL)
		agent(&r, "-c", conf, "-r", cap, "--stats", "--alerts-out",
		    "/dev/null", "--learn", learn, NULL);
	else
		agent(&r, "-c", conf, "-r", cap, "--stats", "--alerts-out",
		    "/dev/null", NULL);
	snprintf(what, sizeof(what), "%s%s", capture, learn ? " (learn)" : "");
	st = clean_stats(&r, what);
	*rss_kb = r.maxrss_kb;
	printf("%s: peak RSS %ld KiB\n", what, r.maxrss_kb);
	tu_result_free(&r);
	return st;
}

static void
rss_below(long rss_kb, long bound_kb, const char *what)
{
	if (sanitized())
		return;
	ck_assert_msg(rss_kb > 0 && rss_kb < bound_kb,
	    "%s: peak RSS %ld KiB, bound %ld KiB", what, rss_kb, bound_kb);
}

/*
 * The agent's resident floor: nDPI's tables, the libraries.  Measured on
 * an empty capture in the same build, so the bounds below are what the
 * caps allow on top of it.
 */
static long
floor_kb(void)
{
	static const uint8_t hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 };
	char path[512];
	struct tu_result r;
	long kb;

	ck_assert_int_eq(tu_write_file(tmp(path, sizeof(path), "empty.pcap"),
	    hdr, sizeof(hdr)), 0);
	agent(&r, "-r", path, "--stats", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	kb = r.maxrss_kb;
	tu_result_free(&r);
	return kb;
}

/*
 * 1,000,000 flows into a table capped at 50,000: every flow is created,
 * all but the cap are evicted (counted), the table never holds more than
 * the cap, and memory is what 50,000 flows cost, not 1,000,000.
 */
START_TEST(test_million_flows)
{
	static const char conf[] = "[flows]\nmax_flows = 50000\n"
	    "[detector.assets]\nout = /dev/null\nmax_assets = 4096\n";
	long rss, base = floor_kb();
	cJSON *st;

	st = bounded_run("flows.pcap", conf, NULL, &rss);
	ck_assert_uint_eq(num(st, "packets"), 1000000);
	ck_assert_uint_eq(num(st, "flows.created"), 1000000);
	ck_assert_uint_eq(num(st, "flows.max_active"), 50000);
	ck_assert_uint_eq(num(st, "flows.evicted"), 1000000 - 50000);
	/*
	 * The inventory's table is full after 4096 hosts: each look-up of a
	 * host it could not keep is counted (at least once per such host).
	 */
	ck_assert_uint_ge(num(st, "detectors.assets.dropped"), 1000001 - 4096);
	/* scan (4096 sources) and flood (65536 pairs) recycle, counted */
	ck_assert_uint_eq(num(st, "detectors.scan.sources_recycled"),
	    1000000 - 4096);
	ck_assert_uint_eq(num(st, "detectors.flood.recycled"), 1000000 - 65536);
	cJSON_Delete(st);
	/* 50,000 flows, plus the detectors' capped tables (32 MiB) */
	rss_below(rss, base + 50000 * FLOW_KB + 32 * 1024, "1M flows");
}
END_TEST

/*
 * 100,000 Modbus points written on one server: the brute-force tracker
 * holds max_pairs points and recycles (counted); learning keeps a fixed
 * number of ranges per link and widens them (counted).
 */
START_TEST(test_modbus_points)
{
	static const char conf[] = "[detector.modbus]\nmax_pairs = 1024\n"
	    "[detector.baseline]\nmin_observation = 0\n";
	char learned[512];
	long rss, base = floor_kb();
	cJSON *st;

	st = bounded_run("modbus-points.pcap", conf,
	    tmp(learned, sizeof(learned), "points.json"), &rss);
	ck_assert_uint_eq(num(st, "pdus.modbus"), 100000);
	ck_assert_uint_eq(num(st, "detectors.modbus.points_recycled"),
	    100000 - 1024);
	/* one client -> server link: its range list filled and widened */
	ck_assert_uint_eq(num(st, "detectors.baseline.links_ranges_widened"), 1);
	ck_assert_uint_eq(num(st, "detectors.baseline.links_dropped"), 0);
	cJSON_Delete(st);
	rss_below(rss, base + 32 * 1024, "100,000 Modbus points");
	/* learning still wrote its file */
	ck_assert_int_gt(tu_file_size(learned), 0);
}
END_TEST

/* 10,000 DNP3 link addresses: every frame parsed, no per-address growth. */
START_TEST(test_dnp3_links)
{
	static const char conf[] = "[detector.baseline]\nmin_observation = 0\n";
	char learned[512];
	long rss, base = floor_kb();
	cJSON *st;

	st = bounded_run("dnp3-links.pcap", conf,
	    tmp(learned, sizeof(learned), "dnp3.json"), &rss);
	ck_assert_uint_eq(num(st, "pdus.dnp3"), 10000);
	ck_assert_uint_eq(num(st, "malformed.dnp3"), 0);
	cJSON_Delete(st);
	rss_below(rss, base + 16 * 1024, "10,000 DNP3 link addresses");
}
END_TEST

/*
 * A reassembly hole in each of 20,000 flows: each buffers the head of a
 * PDU it never completes.  The buffers stay within max_reasm_total (1 MiB
 * here); the flows that found the budget spent are counted.
 */
START_TEST(test_reassembly_holes)
{
	static const char conf[] = "[flows]\nmax_reasm_total_kb = 1024\n";
	long rss, base = floor_kb();
	cJSON *st;

	st = bounded_run("reasm-holes.pcap", conf, NULL, &rss);
	ck_assert_uint_eq(num(st, "flows.created"), 20000);
	ck_assert_uint_gt(num(st, "reassembly.no_buffer"), 0);
	ck_assert_uint_le(num(st, "reassembly.buffered_max_kb"), 1024);
	cJSON_Delete(st);
	/*
	 * 20,000 flows' state and nDPI's, the 1 MiB budget, 8 MiB for the
	 * rest.  Before the budget each flow held a 16 KiB buffer.
	 */
	rss_below(rss, base + 20000 * FLOW_KB + 1024 + 8 * 1024,
	    "20,000 reassembly holes");
}
END_TEST


static Suite *
bounded_suite(void)
{
	Suite *s = suite_create("bounded");
	TCase *bnd = tcase_create("bounded");

	tcase_add_checked_fixture(bnd, setup, teardown);
	tcase_set_timeout(bnd, 1000);
	tcase_add_test(bnd, test_million_flows);
	tcase_add_test(bnd, test_modbus_points);
	tcase_add_test(bnd, test_dnp3_links);
	tcase_add_test(bnd, test_reassembly_holes);
	suite_add_tcase(s, bnd);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bounded_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
