/*
 * check_chanmodel.c - the learned channel models: polling cycles
 * (detectors/cycle.c) and value envelopes (detectors/envelope.c), with the
 * real agent on captures generated here with
 * $SHARED/tools/ics_traffic_gen.py: the advanced plant's benign twin
 * (learned), the same plant on another seed and day (judged, must stay
 * quiet), and tests/eval/factory-advanced-session.json (attacks inside
 * live sessions by an intruder whose stack copies the RTUs') and
 * tests/eval/factory-advanced-conv.json (known hosts opening conversations
 * never learned: detectors/conversations.c); tests/gen_claims.py writes
 * the BACnet I-Am and EtherNet/IP RegisterSession captures
 * (detectors/bacnet_iam.c, detectors/enip_session.c).  No
 * [policy]: what is normal comes from the baseline alone.
 *
 * The rules that the generated attacks do not reach (timing, order, a
 * written value out of range) are driven by editing the learned file so
 * that the benign traffic breaks it, which is what an attacker's would.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testutil.h"
#include "tests/testutil_agent.h"

#define RUN_MS		(180 * 1000)
#define CONF		"[agent]\nname = t\nsite = s\n" \
			"[detector.cycle]\nmin_requests = 30\nmiss_periods = 5\n"
#define SCN_BENIGN	"tools/scenarios/factory-advanced-benign.json"

static char dir[512], conf[600], base[600];
static const struct tu_agent ag = { conf, RUN_MS };
static char learnp[600], otherp[600], sessp[600], sess_labels[600];
static char convp[600], iamp[600], enipp[600], mbwp[600], mmsp[600];
static char pollp[600];
static char dnp3b[600], dnp3a[600], iecb[600], ieca[600], dnp3base[600];
static char iecbase[600];

static struct {
	int	 gen_rc[5], learn_rc, other_rc, sess_rc, conv_rc, iam_rc, enip_rc;
	int	 mbw_rc, mms_rc, poll_rc;
	char	*learn_err;
	cJSON	*baseline, *other_alerts, *sess_alerts, *conv_alerts;
	cJSON	*iam_alerts, *enip_alerts, *mbw_alerts, *mms_alerts;
	cJSON	*poll_alerts;
	int	 gv_rc, dnp3_learn_rc, iec_learn_rc, dnp3_rc, iec_rc, dnp3n_rc;
	int	 dnp3bn_rc;
	cJSON	*dnp3_base, *dnp3_alerts, *iec_alerts, *dnp3n_alerts;
	cJSON	*dnp3bn_alerts;
} fx;

/* ---- helpers ------------------------------------------------------------ */

/* Alerts of det (a prefix when it ends in '.') from src to dst, counted. */
static int
count_alerts(const cJSON *alerts, const char *det, const char *src,
    const char *dst, const char *tech)
{
	const cJSON *a;
	const char *v;
	size_t dl = strlen(det);
	int n = 0;

	cJSON_ArrayForEach(a, alerts) {
		const cJSON *f = a, *corr = cJSON_GetObjectItem(a, "correlated");
		int k = -1;

		if (src != NULL && ((v = tu_json_str(a, "src.ip")) == NULL ||
		    strcmp(v, src) != 0))
			continue;
		if (dst != NULL && ((v = tu_json_str(a, "dst.ip")) == NULL ||
		    strcmp(v, dst) != 0))
			continue;
		/* the alert, then the findings folded into it (same packet) */
		for (; f != NULL; f = cJSON_GetArrayItem(corr, ++k)) {
			if ((v = tu_json_str(f, k < 0 ? "detector" : "rule")) ==
			    NULL || (det[dl - 1] == '.' ? strncmp(v, det, dl) :
			    strcmp(v, det)) != 0)
				continue;
			if (tech != NULL && ((v = tu_json_str(f, "technique")) ==
			    NULL || strcmp(v, tech) != 0))
				continue;
			n++;
		}
	}
	return n;
}

static cJSON *
find_chan(const cJSON *b, const char *member, const char *cli,
    const char *srv, const char *proto)
{
	cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(b, member)) {
		const char *x = tu_json_str(c, "client"), *y = tu_json_str(c, "server");
		const char *p = tu_json_str(c, "proto");

		if (x && y && p && !strcmp(x, cli) && !strcmp(y, srv) &&
		    !strcmp(p, proto))
			return c;
	}
	return NULL;
}

static cJSON *
find_request(const cJSON *chan, const char *what)
{
	cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(chan, "requests")) {
		const char *w = tu_json_str(r, "what");

		if (w != NULL && strcmp(w, what) == 0)
			return r;
	}
	return NULL;
}

static cJSON *
find_point(const cJSON *chan, const char *kind, const char *table, int addr)
{
	cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(chan, "points")) {
		const char *k = tu_json_str(p, "kind"), *t = tu_json_str(p, "table");

		if (k && t && !strcmp(k, kind) && !strcmp(t, table) &&
		    (int)tu_json_num(p, "address", -1) == addr)
			return p;
	}
	return NULL;
}

static void
set_num(cJSON *o, const char *k, double v)
{
	cJSON_ReplaceItemInObject(o, k, cJSON_CreateNumber(v));
}

/* Write the learned file, edited by fn, to path; alerts on the other day. */
static cJSON *
edited_run(void (*fn)(cJSON *), const char *name, int *rc)
{
	char path[700];
	cJSON *b = tu_load_json(base), *al;

	ck_assert_ptr_nonnull(b);
	fn(b);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(tu_save_json(path, b), 0);
	cJSON_Delete(b);
	al = tu_detect(&ag, otherp, path, rc);
	return al;
}

/* ---- fixture -------------------------------------------------------------- */

static void
setup(void)
{
	char sc[600];

	if (tu_mkdtemp(dir, sizeof(dir), "chanmodel") != 0)
		return;
	snprintf(conf, sizeof(conf), "%s/nopolicy.conf", dir);
	/* 400 s of learning: edge-gw's 10 s poll gives 40 requests */
	tu_write_file(conf, CONF, strlen(CONF));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	snprintf(learnp, sizeof(learnp), "%s/learn.pcap", dir);
	snprintf(otherp, sizeof(otherp), "%s/other.pcap", dir);
	snprintf(sessp, sizeof(sessp), "%s/session.pcap", dir);
	snprintf(sess_labels, sizeof(sess_labels), "%s/session.labels.json", dir);
	snprintf(sc, sizeof(sc), "%s/%s", tu_shared_dir(), SCN_BENIGN);
	fx.gen_rc[0] = tu_generate(RUN_MS, sc, learnp, NULL, NULL, NULL, "400");
	fx.gen_rc[1] = tu_generate(RUN_MS, sc, otherp, NULL, "777",
	    "2024-08-20T09:00:00Z", "300");
	fx.gen_rc[2] = tu_generate(RUN_MS,
	    "tests/eval/factory-advanced-session.json", sessp, sess_labels, NULL,
	    NULL, "400");
	snprintf(convp, sizeof(convp), "%s/conv.pcap", dir);
	fx.gen_rc[3] = tu_generate(RUN_MS,
	    "tests/eval/factory-advanced-conv.json", convp, NULL, NULL, NULL,
	    "200");
	{
		char env[] = "/usr/bin/env", py[] = "python3";
		char *argv[] = { env, py, "tests/gen_claims.py", dir, NULL };
		struct tu_result r;

		tu_run(argv, NULL, RUN_MS, &r);
		fx.gen_rc[4] = r.exit_code;
		tu_result_free(&r);
	}
	snprintf(iamp, sizeof(iamp), "%s/bacnet-iam.pcap", dir);
	snprintf(enipp, sizeof(enipp), "%s/enip-sessions.pcap", dir);
	snprintf(mbwp, sizeof(mbwp), "%s/modbus-writes.pcap", dir);
	snprintf(mmsp, sizeof(mmsp), "%s/mms-continuation.pcap", dir);
	snprintf(pollp, sizeof(pollp), "%s/modbus-polls.pcap", dir);
	fx.learn_rc = tu_learn(&ag, learnp, base, &fx.learn_err);
	fx.baseline = tu_load_json(base);
	fx.other_alerts = tu_detect(&ag, otherp, base, &fx.other_rc);
	fx.sess_alerts = tu_detect(&ag, sessp, base, &fx.sess_rc);
	fx.conv_alerts = tu_detect(&ag, convp, base, &fx.conv_rc);
	/* no baseline needed: identities and sessions */
	fx.iam_alerts = tu_detect(&ag, iamp, NULL, &fx.iam_rc);
	fx.enip_alerts = tu_detect(&ag, enipp, NULL, &fx.enip_rc);
	fx.mbw_alerts = tu_detect(&ag, mbwp, NULL, &fx.mbw_rc);
	fx.mms_alerts = tu_detect(&ag, mmsp, NULL, &fx.mms_rc);
	fx.poll_alerts = tu_detect(&ag, pollp, NULL, &fx.poll_rc);
	/* DNP3 and IEC 104 values and replays (tests/gen_values.py) */
	{
		char env[] = "/usr/bin/env", py[] = "python3";
		char *argv[] = { env, py, "tests/gen_values.py", dir, NULL };
		struct tu_result r;

		tu_run(argv, NULL, RUN_MS, &r);
		fx.gv_rc = r.exit_code;
		tu_result_free(&r);
	}
	snprintf(dnp3b, sizeof(dnp3b), "%s/dnp3-benign.pcap", dir);
	snprintf(dnp3a, sizeof(dnp3a), "%s/dnp3-attack.pcap", dir);
	snprintf(iecb, sizeof(iecb), "%s/iec104-benign.pcap", dir);
	snprintf(ieca, sizeof(ieca), "%s/iec104-attack.pcap", dir);
	snprintf(dnp3base, sizeof(dnp3base), "%s/dnp3-base.json", dir);
	snprintf(iecbase, sizeof(iecbase), "%s/iec104-base.json", dir);
	fx.dnp3_learn_rc = tu_learn(&ag, dnp3b, dnp3base, NULL);
	fx.iec_learn_rc = tu_learn(&ag, iecb, iecbase, NULL);
	fx.dnp3_base = tu_load_json(dnp3base);
	fx.dnp3_alerts = tu_detect(&ag, dnp3a, dnp3base, &fx.dnp3_rc);
	fx.iec_alerts = tu_detect(&ag, ieca, iecbase, &fx.iec_rc);
	fx.dnp3n_alerts = tu_detect(&ag, dnp3a, NULL, &fx.dnp3n_rc);
	fx.dnp3bn_alerts = tu_detect(&ag, dnp3b, NULL, &fx.dnp3bn_rc);
}

static void
teardown(void)
{
	cJSON_Delete(fx.baseline);
	cJSON_Delete(fx.other_alerts);
	cJSON_Delete(fx.sess_alerts);
	cJSON_Delete(fx.conv_alerts);
	cJSON_Delete(fx.iam_alerts);
	cJSON_Delete(fx.enip_alerts);
	cJSON_Delete(fx.mbw_alerts);
	cJSON_Delete(fx.mms_alerts);
	cJSON_Delete(fx.poll_alerts);
	cJSON_Delete(fx.dnp3_base);
	cJSON_Delete(fx.dnp3_alerts);
	cJSON_Delete(fx.iec_alerts);
	cJSON_Delete(fx.dnp3n_alerts);
	cJSON_Delete(fx.dnp3bn_alerts);
	free(fx.learn_err);
	if (dir[0] != '\0')
		tu_rmtree(dir);
}

/* ---- learning ------------------------------------------------------------- */

START_TEST(learn_writes_cycles_and_envelopes)
{
	const cJSON *c, *r, *p;
	double g;

	ck_assert_int_eq(fx.gen_rc[0], 0);
	ck_assert_int_eq(fx.learn_rc, 0);
	ck_assert_str_eq(fx.learn_err, "");
	ck_assert_ptr_nonnull(fx.baseline);
	/* hmi-1 polls plc-mb-1 with fc 3 then fc 4, every 0.1 s */
	c = find_chan(fx.baseline, "cycles", "10.10.2.11", "10.10.2.101",
	    "modbus");
	ck_assert_ptr_nonnull(c);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "judged")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "requests")), 2);
	r = find_request(c, "fc 3 unit 1 0+16");
	ck_assert_ptr_nonnull(r);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "repeated")));
	g = tu_json_num(r, "min_gap_us", 0);
	ck_assert(g > 90000 && g < 100000);
	g = tu_json_num(r, "max_gap_us", 0);
	ck_assert(g > 100000 && g < 130000);
	ck_assert_ptr_nonnull(find_request(c, "fc 4 unit 1 100+8"));
	/* a strict alternation: two transitions */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c,
	    "transitions")), 2);
	/* the DNP3 master's class and integrity polls */
	c = find_chan(fx.baseline, "cycles", "10.10.2.20", "10.10.2.131", "dnp3");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(find_request(c, "fc 1 g60v2 g60v3 g60v4"));
	/* what ews-1 reads of plc-mb-1 (40-49) and what it writes (40-43) */
	c = find_chan(fx.baseline, "envelopes", "10.10.2.30", "10.10.2.101",
	    "modbus");
	ck_assert_ptr_nonnull(c);
	p = find_point(c, "read", "holding", 40);
	ck_assert_ptr_nonnull(p);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "stable")));
	ck_assert(tu_json_num(p, "max_step", -1) > 0);
	ck_assert(tu_json_num(p, "max_step", -1) <= 20);
	ck_assert(tu_json_num(p, "min", -1) <= tu_json_num(p, "max", -1));
	ck_assert_ptr_nonnull(find_point(c, "read", "holding", 49));
	ck_assert_ptr_null(find_point(c, "read", "holding", 50));
	ck_assert_ptr_nonnull(find_point(c, "written", "holding", 40));
}
END_TEST

START_TEST(relearning_the_same_traffic_changes_nothing)
{
	char copy[700], *a, *b;

	snprintf(copy, sizeof(copy), "%s/again.json", dir);
	a = tu_read_file(base, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(tu_write_file(copy, a, strlen(a)), 0);
	ck_assert_int_eq(tu_learn(&ag, learnp, copy, NULL), 0);
	b = tu_read_file(copy, NULL);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

/* ---- detection ------------------------------------------------------------ */

START_TEST(learn_writes_conversations)
{
	const cJSON *c = cJSON_GetObjectItem(fx.baseline, "conversations"), *o;
	bool rtu = false, ssh = false, mb = false;

	ck_assert_ptr_nonnull(c);
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(c, "ot_hosts"))
		rtu |= strcmp(o->valuestring, "10.10.2.131") == 0;
	ck_assert(rtu);
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(c, "seen")) {
		const char *cl = tu_json_str(o, "client"), *sv = tu_json_str(o, "server");
		int port = (int)tu_json_num(o, "port", -1);

		ssh |= !strcmp(sv, "10.10.2.131") && port == 22;
		mb |= !strcmp(cl, "10.10.2.11") && !strcmp(sv, "10.10.2.101") &&
		    port == 502 && !strcmp(tu_json_str(o, "transport"), "tcp");
	}
	ck_assert(!ssh);
	ck_assert(mb);
}
END_TEST

START_TEST(new_conversations_between_known_hosts)
{
	ck_assert_int_eq(fx.gen_rc[3], 0);
	ck_assert_int_eq(fx.conv_rc, 0);
	/* a shell from the engineering workstation into an RTU */
	ck_assert_int_eq(count_alerts(fx.conv_alerts, "conv.new_conversation",
	    "10.10.2.30", "10.10.2.131", "T0869"), 1);
	/* edge-gw reaching plc-mb-2's open port 4444 (its closed 22 is no
	 * conversation, its 502 an industrial link) */
	ck_assert_int_eq(count_alerts(fx.conv_alerts, "conv.new_conversation",
	    "10.10.2.150", "10.10.2.102", "T0869"), 1);
	ck_assert_int_eq(count_alerts(fx.conv_alerts, "conv.", NULL, NULL,
	    NULL), 2);
}
END_TEST

START_TEST(another_day_is_quiet)
{
	ck_assert_int_eq(fx.gen_rc[1], 0);
	ck_assert_int_eq(fx.other_rc, 0);
	ck_assert_ptr_nonnull(fx.other_alerts);
	ck_assert_int_eq(count_alerts(fx.other_alerts, "cycle.", NULL, NULL,
	    NULL), 0);
	ck_assert_int_eq(count_alerts(fx.other_alerts, "envelope.", NULL, NULL,
	    NULL), 0);
	ck_assert_int_eq(count_alerts(fx.other_alerts, "conv.", NULL, NULL,
	    NULL), 0);
}
END_TEST

START_TEST(command_injected_into_live_sessions)
{
	ck_assert_int_eq(fx.gen_rc[2], 0);
	ck_assert_int_eq(fx.sess_rc, 0);
	/* fc 6 inside hmi-1's own polling session to plc-mb-2 */
	ck_assert_int_eq(count_alerts(fx.sess_alerts, "cycle.out_of_cycle",
	    "10.10.2.11", "10.10.2.102", "T0855"), 1);
	/* a DNP3 freeze in the master's name into its session to rtu-dnp-2
	 * (no second technique: a freeze is neither restart nor write) */
	ck_assert_int_eq(count_alerts(fx.sess_alerts, "cycle.out_of_cycle",
	    "10.10.2.20", "10.10.2.132", "T0855"), 1);
}
END_TEST

START_TEST(sweep_of_never_polled_registers)
{
	/* edge-gw reads 200..219 one by one: 8 alerts at most per window */
	int n = count_alerts(fx.sess_alerts, "cycle.out_of_cycle",
	    "10.10.2.150", "10.10.2.103", "T0861");

	ck_assert_int_ge(n, 1);
	ck_assert_int_le(n, 8);
}
END_TEST

START_TEST(mitm_rewrites_the_answers)
{
	/* the historian's input register 100 read +900 through the MITM */
	ck_assert_int_ge(count_alerts(fx.sess_alerts, "envelope.jump",
	    "10.10.2.102", "10.10.2.40", "T0832"), 1);
	ck_assert_int_eq(count_alerts(fx.sess_alerts, "envelope.jump", NULL,
	    NULL, NULL), count_alerts(fx.sess_alerts, "envelope.jump",
	    "10.10.2.102", "10.10.2.40", NULL));
	/* a value shown that the process did not report: also T0856 */
	{
		const cJSON *a, *t;
		bool seen = false;

		cJSON_ArrayForEach(a, fx.sess_alerts) {
			const char *d = tu_json_str(a, "detector");

			if (d == NULL || strcmp(d, "envelope.jump") != 0)
				continue;
			t = cJSON_GetObjectItem(a, "techniques");
			ck_assert_int_eq(cJSON_GetArraySize(t), 1);
			ck_assert_str_eq(cJSON_GetArrayItem(t, 0)->valuestring,
			    "T0856");
			seen = true;
		}
		ck_assert(seen);
	}
}
END_TEST

START_TEST(bacnet_instance_announced_twice)
{
	const cJSON *a;

	ck_assert_int_eq(fx.gen_rc[4], 0);
	ck_assert_int_eq(fx.iam_rc, 0);
	/* 10.20.0.66 claims 1001 30 s after 10.20.0.10 announced it; 2002
	 * moved after 780 s of silence; 3003/3004 share a router */
	ck_assert_int_eq(count_alerts(fx.iam_alerts, "bacnet.iam_conflict",
	    "10.20.0.66", NULL, "T0849"), 1);
	ck_assert_int_eq(count_alerts(fx.iam_alerts, "bacnet.", NULL, NULL,
	    NULL), 1);
	a = cJSON_GetArrayItem(fx.iam_alerts, 0);
	ck_assert_int_eq((int)tu_json_num(a, "details.device_instance", 0), 1001);
	ck_assert_str_eq(tu_json_str(a, "details.established_announcer"),
	    "10.20.0.10:47808");
	ck_assert_str_eq(tu_json_str(a, "ts"), "2024-12-05T08:01:30.000000Z");
}
END_TEST

START_TEST(register_session_flood_and_scan)
{
	ck_assert_int_eq(fx.enip_rc, 0);
	ck_assert_int_eq(count_alerts(fx.enip_alerts, "enip.session_flood",
	    "10.30.0.66", "10.30.0.10", "T0814"), 1);
	ck_assert_int_eq(count_alerts(fx.enip_alerts, "enip.session_scan",
	    "10.30.0.66", NULL, "T0846"), 1);
	/* the scanner with one session each, the real client with one */
	ck_assert_int_eq(count_alerts(fx.enip_alerts, "enip.", "10.30.0.5",
	    NULL, NULL), 0);
	ck_assert_int_eq(count_alerts(fx.enip_alerts, "enip.", NULL,
	    NULL, NULL), 2);
}
END_TEST

START_TEST(brute_force_counts_changes_not_writes)
{
	ck_assert_int_eq(fx.mbw_rc, 0);
	/* 30 toggles of coil 3 in 6 s */
	ck_assert_int_eq(count_alerts(fx.mbw_alerts, "modbus.brute_force_io",
	    "10.40.0.6", "10.40.0.10", "T0806"), 1);
	/* 30 writes of the same setpoint in 6 s: a refresh */
	ck_assert_int_eq(count_alerts(fx.mbw_alerts, "modbus.brute_force_io",
	    "10.40.0.5", NULL, NULL), 0);
}
END_TEST

START_TEST(mms_continuation_is_not_s7comm)
{
	ck_assert_int_eq(fx.mms_rc, 0);
	ck_assert_ptr_nonnull(fx.mms_alerts);
	/*
	 * The second DT TPDU of each report starts with 0x32 mid-TSDU: the
	 * pieces are joined to EOT (dissect.c) and judged as one MMS TSDU
	 * (this one is junk MMS), never as S7comm
	 */
	ck_assert_int_eq(count_alerts(fx.mms_alerts, "s7comm.", NULL, NULL,
	    NULL), 0);
	ck_assert_int_ge(count_alerts(fx.mms_alerts, "iec61850-mms.malformed",
	    "10.50.0.10", NULL, NULL), 1);
}
END_TEST

START_TEST(long_poll_list_is_no_sweep_after_its_first_cycle)
{
	const cJSON *a;

	ck_assert_int_eq(fx.poll_rc, 0);
	/*
	 * 40 blocks every 20 s for 300 s: the first 60 s window cannot tell
	 * the first cycle from a sweep (an alert and its aggregate); every
	 * later window sees only blocks the client polled before
	 */
	ck_assert_int_eq(count_alerts(fx.poll_alerts, "modbus.address_scan",
	    "10.40.0.7", "10.40.0.11", "T0861"), 2);
	/* a summary goes out when its window closes: its repeats' times */
	cJSON_ArrayForEach(a, fx.poll_alerts)
		ck_assert_int_eq(strncmp(tu_json_str(a, cJSON_IsTrue(
		    cJSON_GetObjectItem(cJSON_GetObjectItem(a, "details"),
		    "summary")) ? "details.last_ts" : "ts"),
		    "2024-12-05T08:00:", 17), 0);
}
END_TEST

static void
slow_cycle(cJSON *b)
{
	cJSON *c = find_chan(b, "cycles", "10.10.2.11", "10.10.2.101", "modbus");
	cJSON *r = find_request(c, "fc 3 unit 1 0+16");

	/* as if hmi-1 had polled every second: 0.1 s is now out of cycle */
	set_num(r, "min_gap_us", 1000000);
	set_num(r, "max_gap_us", 1100000);
}

START_TEST(request_sooner_than_the_cycle)
{
	int rc;
	cJSON *al = edited_run(slow_cycle, "slow.json", &rc);

	ck_assert_int_eq(rc, 0);
	/* once per quiet_s (60 s) over the 300 s */
	ck_assert_int_eq(count_alerts(al, "cycle.timing", "10.10.2.11",
	    "10.10.2.101", "T0848"), 5);
	ck_assert_int_eq(count_alerts(al, "cycle.", NULL, NULL, NULL), 5);
	cJSON_Delete(al);
}
END_TEST

static void
drop_transition(cJSON *b)
{
	cJSON *c = find_chan(b, "cycles", "10.10.2.11", "10.10.2.101", "modbus");
	cJSON *tr = cJSON_GetObjectItem(c, "transitions");
	const char *a = tu_json_str(find_request(c, "fc 3 unit 1 0+16"), "sig");
	const char *z = tu_json_str(find_request(c, "fc 4 unit 1 100+8"), "sig");
	char t[32];
	int i;

	snprintf(t, sizeof(t), "%s>%s", a, z);
	for (i = 0; i < cJSON_GetArraySize(tr); i++)
		if (strcmp(cJSON_GetArrayItem(tr, i)->valuestring, t) == 0)
			cJSON_DeleteItemFromArray(tr, i--);
}

START_TEST(requests_in_an_order_never_used)
{
	int rc;
	cJSON *al = edited_run(drop_transition, "order.json", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(count_alerts(al, "cycle.sequence_break", "10.10.2.11",
	    "10.10.2.101", "T0848"), 5);
	ck_assert_int_eq(count_alerts(al, "cycle.", NULL, NULL, NULL), 5);
	cJSON_Delete(al);
}
END_TEST

static void
narrow_writes(cJSON *b)
{
	cJSON *c, *p;
	const char *k;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(b, "envelopes"))
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "points"))
			if ((k = tu_json_str(p, "kind")) != NULL &&
			    strcmp(k, "written") == 0) {
				set_num(p, "min", 0);
				set_num(p, "max", 10);
				cJSON_ReplaceItemInObject(p, "stable",
				    cJSON_CreateTrue());
			}
}

START_TEST(setpoint_outside_the_written_range)
{
	int rc;
	cJSON *al = edited_run(narrow_writes, "writes.json", &rc);

	ck_assert_int_eq(rc, 0);
	/* ews-1's writes (0..999) to both PLCs, beyond 10 + 64 */
	ck_assert_int_ge(count_alerts(al, "envelope.write_range", "10.10.2.30",
	    "10.10.2.101", "T0836"), 1);
	ck_assert_int_ge(count_alerts(al, "envelope.write_range", "10.10.2.30",
	    "10.10.2.102", "T0836"), 1);
	ck_assert_int_eq(count_alerts(al, "envelope.write_range", NULL, NULL,
	    NULL), count_alerts(al, "envelope.write_range", "10.10.2.30", NULL,
	    NULL));
	cJSON_Delete(al);
}
END_TEST


/* ---- DNP3 and IEC 104 point envelopes, replays (gen_values.py) ----------- */

/* The first alert led by det (or NULL). */
static const cJSON *
first_alert(const cJSON *alerts, const char *det)
{
	const cJSON *a;
	const char *v;

	cJSON_ArrayForEach(a, alerts)
		if ((v = tu_json_str(a, "detector")) != NULL && !strcmp(v, det))
			return a;
	return NULL;
}

static bool
has_technique(const cJSON *a, const char *t)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "techniques"))
		if (cJSON_IsString(x) && strcmp(x->valuestring, t) == 0)
			return true;
	return false;
}

START_TEST(learn_writes_point_envelopes)
{
	const cJSON *c, *p;
	int analog = 0, counter = 0;

	ck_assert_int_eq(fx.gv_rc, 0);
	ck_assert_int_eq(fx.dnp3_learn_rc, 0);
	ck_assert_int_eq(fx.iec_learn_rc, 0);
	c = find_chan(fx.dnp3_base, "point_envelopes", "10.60.0.1", "10.60.0.10",
	    "dnp3");
	ck_assert_ptr_nonnull(c);
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "points")) {
		const char *k = tu_json_str(p, "kind");

		ck_assert_int_eq((int)tu_json_num(p, "station", -1), 10);
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "stable")));
		if (strcmp(k, "analog") == 0) {
			analog++;
			/* a random walk of at most 10 a poll */
			ck_assert(tu_json_num(p, "max_step", -1) > 0);
			ck_assert(tu_json_num(p, "max_step", -1) <= 10);
		} else {
			ck_assert_str_eq(k, "counter");
			counter++;
			ck_assert_int_eq((int)tu_json_num(p, "bits", 0), 32);
			ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(p,
			    "went_back")));
		}
	}
	ck_assert_int_eq(analog, 4);
	ck_assert_int_eq(counter, 2);
	/* the Modbus envelopes keep their own member */
	ck_assert_ptr_null(find_chan(fx.dnp3_base, "envelopes", "10.60.0.1",
	    "10.60.0.10", "dnp3"));
}
END_TEST

START_TEST(dnp3_values_tampered_and_replayed)
{
	const cJSON *a;

	ck_assert_int_eq(fx.dnp3_rc, 0);
	/* t=40: analog 2 raised by 5000 for one answer */
	a = first_alert(fx.dnp3_alerts, "envelope.jump");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "ts"), "2024-12-05T08:00:40.016798Z");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0832");
	ck_assert(has_technique(a, "T0856"));
	ck_assert_int_eq((int)tu_json_num(a, "details.index", -1), 2);
	ck_assert_int_eq((int)tu_json_num(a, "details.outstation", -1), 10);
	ck_assert_int_eq((int)(tu_json_num(a, "details.value", 0) -
	    tu_json_num(a, "details.previous", 0)), 5007);
	/* and at t=141.5 the answer of 70 polls before (values back) */
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "envelope.jump",
	    "10.60.0.10", "10.60.0.1", "T0832"), 2);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "envelope.counter_back",
	    "10.60.0.10", "10.60.0.1", "T0856"), 1);
	/* the replayed time write (t=71.5) and the replayed answer */
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "replay.dnp3_time",
	    "10.60.0.1", "10.60.0.10", "T0855"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "replay.dnp3_time",
	    "10.60.0.10", "10.60.0.1", "T0856"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "replay.dnp3_sequence",
	    "10.60.0.1", "10.60.0.10", "T0855"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "replay.dnp3_sequence",
	    "10.60.0.10", "10.60.0.1", "T0856"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "envelope.", NULL, NULL,
	    NULL), 3);
	ck_assert_int_eq(count_alerts(fx.dnp3_alerts, "replay.", NULL, NULL,
	    NULL), 4);
	/* the write's two findings: one packet, one alert */
	a = first_alert(fx.dnp3_alerts, "replay.dnp3_time");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "ts"), "2024-12-05T08:01:11.706998Z");
	ck_assert(tu_json_num(a, "details.behind_s", 0) > 69.5);
	ck_assert(tu_json_num(a, "details.behind_s", 0) < 70.5);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "reasons")), 2);
}
END_TEST

START_TEST(dnp3_replay_needs_no_config)
{
	ck_assert_int_eq(fx.dnp3n_rc, 0);
	ck_assert_int_eq(fx.dnp3bn_rc, 0);
	ck_assert_int_eq(count_alerts(fx.dnp3n_alerts, "replay.dnp3_sequence",
	    "10.60.0.1", "10.60.0.10", "T0855"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3n_alerts, "replay.dnp3_sequence",
	    "10.60.0.10", "10.60.0.1", "T0856"), 1);
	ck_assert_int_eq(count_alerts(fx.dnp3n_alerts, "replay.dnp3_time",
	    NULL, NULL, NULL), 2);
	/* no baseline: no envelope */
	ck_assert_int_eq(count_alerts(fx.dnp3n_alerts, "envelope.", NULL, NULL,
	    NULL), 0);
	/* the benign twin: nothing replayed */
	ck_assert_ptr_nonnull(fx.dnp3bn_alerts);
	ck_assert_int_eq(count_alerts(fx.dnp3bn_alerts, "replay.", NULL, NULL,
	    NULL), 0);
}
END_TEST

START_TEST(iec104_values_forged)
{
	const cJSON *a;

	ck_assert_int_eq(fx.iec_rc, 0);
	a = first_alert(fx.iec_alerts, "envelope.jump");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "src.ip"), "10.61.0.10");
	ck_assert_int_eq((int)tu_json_num(a, "details.ioa", -1), 101);
	ck_assert_int_eq((int)tu_json_num(a, "details.common_address", -1), 7);
	ck_assert_str_eq(tu_json_str(a, "ts"), "2024-12-05T08:00:50.011610Z");
	a = first_alert(fx.iec_alerts, "envelope.counter_back");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0856");
	ck_assert(has_technique(a, "T0832"));
	ck_assert_int_eq((int)tu_json_num(a, "details.ioa", -1), 200);
	ck_assert_int_eq((int)(tu_json_num(a, "details.previous", 0) -
	    tu_json_num(a, "details.value", 0)), 1000);
	ck_assert_int_eq(count_alerts(fx.iec_alerts, "envelope.", NULL, NULL,
	    NULL), 2);
}
END_TEST

/* A folded finding's secondary technique stays in the alert's list. */
START_TEST(folded_finding_keeps_its_second_technique)
{
	const cJSON *a;
	bool seen = false;

	cJSON_ArrayForEach(a, fx.sess_alerts) {
		const cJSON *r;
		bool cyc = false;

		cJSON_ArrayForEach(r, cJSON_GetObjectItem(a, "reasons"))
			cyc |= strcmp(r->valuestring, "cycle.out_of_cycle") == 0;
		if (!cyc || strcmp(tu_json_str(a, "dst.ip"), "10.10.2.102") != 0)
			continue;
		/* fc 6 into hmi-1's session: led by another rule's T0855, the
		 * cycle's finding adds the setpoint write (T0836) */
		ck_assert_str_eq(tu_json_str(a, "technique"), "T0855");
		ck_assert_str_ne(tu_json_str(a, "detector"), "cycle.out_of_cycle");
		ck_assert(has_technique(a, "T0836"));
		seen = true;
	}
	ck_assert(seen);
}
END_TEST

static void
add_phantom_request(cJSON *b)
{
	cJSON *c = find_chan(b, "cycles", "10.10.2.11", "10.10.2.101", "modbus");
	cJSON *r = cJSON_CreateObject(), *tr = cJSON_GetObjectItem(c, "transitions");
	char t[32];

	/* in the loop of the two polls, as learning writes it: fc 3 -> it ->
	 * fc 4 (a request polled in no loop with the others is never judged
	 * missing: a master that swapped poll lists polls them apart) */
	snprintf(t, sizeof(t), "%s>0badf00d", tu_json_str(find_request(c,
	    "fc 3 unit 1 0+16"), "sig"));
	cJSON_AddItemToArray(tr, cJSON_CreateString(t));
	snprintf(t, sizeof(t), "0badf00d>%s", tu_json_str(find_request(c,
	    "fc 4 unit 1 100+8"), "sig"));
	cJSON_AddItemToArray(tr, cJSON_CreateString(t));
	/* a request polled every 0.1 s that this day never sends */
	cJSON_AddStringToObject(r, "sig", "0badf00d");
	cJSON_AddStringToObject(r, "what", "fc 4 unit 1 900+4");
	cJSON_AddNumberToObject(r, "ops", 0);
	cJSON_AddBoolToObject(r, "repeated", 1);
	cJSON_AddNumberToObject(r, "min_gap_us", 99000);
	cJSON_AddNumberToObject(r, "max_gap_us", 115000);
	cJSON_AddItemToArray(cJSON_GetObjectItem(c, "requests"), r);
}

START_TEST(poll_missing_from_the_cycle)
{
	int rc;
	cJSON *al = edited_run(add_phantom_request, "missing.json", &rc);
	const cJSON *a;

	ck_assert_int_eq(rc, 0);
	/* once: the request never comes back */
	ck_assert_int_eq(count_alerts(al, "cycle.missing_poll", "10.10.2.11",
	    "10.10.2.101", "T0804"), 1);
	ck_assert_int_eq(count_alerts(al, "cycle.", NULL, NULL, NULL), 1);
	a = first_alert(al, "cycle.missing_poll");
	ck_assert_ptr_nonnull(a);
	ck_assert(has_technique(a, "T0815"));
	ck_assert_str_eq(tu_json_str(a, "details.request"), "fc 4 unit 1 900+4");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "seen_in_this_run")));
	/* 5 x 115 ms after the channel's first request, at the next tick */
	ck_assert(tu_json_num(a, "details.missing_s", 0) > 0.575);
	ck_assert(tu_json_num(a, "details.missing_s", 0) < 1.6);
	cJSON_Delete(al);
}
END_TEST

/*
 * cycle.missing_poll judges a live channel only (tests/gen_missing.py
 * edits the other day from t = 150 s): hmi-1 (10.10.2.11) polls plc-mb-1
 * (10.10.2.101) with fc 3 and fc 4 every 0.1 s in one session, and
 * plc-mb-2..4 the same way.
 */
START_TEST(missing_poll_only_on_a_live_channel)
{
	static const struct {
		const char	*name, *missing, *tech, *second;
	} v[] = {
		{ "request", "request", "T0804", "T0815" },	/* fc 4 gone */
		{ "answers", "answers", "T0814", "T0815" },	/* server silent */
		{ "channel", "channel", "T0804", "T0815" },	/* session open */
		{ "reset", NULL, NULL, NULL },	/* the client reset it */
		{ "gone", NULL, NULL, NULL },	/* the client went away */
		{ "end", NULL, NULL, NULL },	/* the capture ended */
	};
	char out[700], path[760];
	char env[] = "/usr/bin/env", py[] = "python3";
	char sc[] = "tests/gen_missing.py", cli[] = "10.10.2.11";
	char srv[] = "10.10.2.101", cut[] = "150";
	char *argv[] = { env, py, sc, otherp, out, cli, srv, cut, NULL };
	struct tu_result r;
	size_t i;

	snprintf(out, sizeof(out), "%s/missing", dir);
	tu_run(argv, NULL, RUN_MS, &r);
	ck_assert_int_eq(r.exit_code, 0);
	tu_result_free(&r);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc;
		cJSON *al;
		const cJSON *a;

		snprintf(path, sizeof(path), "%s/%s.pcap", out, v[i].name);
		al = tu_detect(&ag, path, base, &rc);
		ck_assert_int_eq(rc, 0);
		if (v[i].missing == NULL) {
			ck_assert_msg(count_alerts(al, "cycle.missing_poll", NULL,
			    NULL, NULL) == 0, "%s raised cycle.missing_poll",
			    v[i].name);
			cJSON_Delete(al);
			continue;
		}
		/* once, for that channel only, with its technique */
		ck_assert_int_eq(count_alerts(al, "cycle.missing_poll", NULL,
		    NULL, NULL), 1);
		ck_assert_int_eq(count_alerts(al, "cycle.missing_poll",
		    "10.10.2.11", "10.10.2.101", v[i].tech), 1);
		a = first_alert(al, "cycle.missing_poll");
		ck_assert_str_eq(tu_json_str(a, "details.missing"), v[i].missing);
		ck_assert(has_technique(a, v[i].second));
		ck_assert_str_eq(tu_json_str(a, "details.request"),
		    strcmp(v[i].name, "request") == 0 ? "fc 4 unit 1 100+8" : "*");
		/* at the first tick after 5 x the learned ~115 ms */
		ck_assert(tu_json_num(a, "details.missing_s", 0) > 0.57);
		ck_assert(tu_json_num(a, "details.missing_s", 0) < 1.6);
		ck_assert(tu_json_num(a, "details.evidence_after_s", 0) > 0.57);
		cJSON_Delete(al);
	}
}
END_TEST

/* The number of packets in path (capinfos), 0 when unknown. */
static long
packets_of(const char *path)
{
	char a0[] = "capinfos", a1[] = "-c", a2[] = "-M";
	char *argv[] = { a0, a1, a2, (char *)path, NULL };
	struct tu_result r;
	const char *p;
	long n = 0;

	tu_run(argv, NULL, RUN_MS, &r);
	if (r.exit_code == 0 && (p = strstr(r.out, "Number of packets:")) != NULL)
		n = strtol(p + strlen("Number of packets:"), NULL, 10);
	tu_result_free(&r);
	return n;
}

/* editcap -r in out first-last */
static int
cut(const char *in, const char *out, long first, long last)
{
	char a0[] = "editcap", a1[] = "-r", range[64];
	char *argv[] = { a0, a1, (char *)in, (char *)out, range, NULL };
	struct tu_result r;
	int rc;

	snprintf(range, sizeof(range), "%ld-%ld", first, last);
	tu_run(argv, NULL, RUN_MS, &r);
	rc = r.exit_code;
	tu_result_free(&r);
	return rc;
}

/*
 * Default config (missing polls on): every real capture of a protocol
 * with a polling cycle in $SHARED/pcaps, learned on itself and judged
 * again, and learned on its first half and judged on the second, raises
 * no cycle.missing_poll.  With the channel-wide notion of alive it did on
 * dnp3-icsnpp-example (the class 0 poll session stops, select/operate
 * sessions follow) and modbus-iti-read-input-registers (a client polls
 * unit 2 for a minute, then unit 1).
 */
START_TEST(real_captures_raise_no_missing_poll)
{
	static const char *const protos[] = { "modbus", "dnp3", "iec104",
		"s7comm", "enip", "fins", NULL };
	char pdir[600], dconf[700], in[900], a[700], b[700], bl[700];
	struct tu_agent dag = { dconf, RUN_MS };
	struct dirent *de;
	DIR *d;
	int ncaps = 0, bad = 0;

	snprintf(dconf, sizeof(dconf), "%s/default.conf", dir);
	tu_write_file(dconf, "[agent]\nname = t\nsite = s\n",
	    strlen("[agent]\nname = t\nsite = s\n"));
	snprintf(a, sizeof(a), "%s/half-a.pcap", dir);
	snprintf(b, sizeof(b), "%s/half-b.pcap", dir);
	snprintf(bl, sizeof(bl), "%s/real.json", dir);
	d = opendir(tu_pcap_path(pdir, sizeof(pdir), NULL));
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t k;
		long n;
		int rc, m = 0;
		cJSON *al;

		for (k = 0; protos[k] != NULL; k++)
			if (strncmp(de->d_name, protos[k], strlen(protos[k])) == 0)
				break;
		if (protos[k] == NULL || strstr(de->d_name, ".pcap") == NULL)
			continue;
		snprintf(in, sizeof(in), "%s/%s", pdir, de->d_name);
		unlink(bl);
		ck_assert_int_eq(tu_learn(&dag, in, bl, NULL), 0);
		al = tu_detect(&dag, in, bl, &rc);
		ck_assert_int_eq(rc, 0);
		m += count_alerts(al, "cycle.missing_poll", NULL, NULL, NULL);
		cJSON_Delete(al);
		n = packets_of(in);
		if (n >= 4 && cut(in, a, 1, n / 2) == 0 &&
		    cut(in, b, n / 2 + 1, n) == 0) {
			unlink(bl);
			ck_assert_int_eq(tu_learn(&dag, a, bl, NULL), 0);
			al = tu_detect(&dag, b, bl, &rc);
			ck_assert_int_eq(rc, 0);
			m += count_alerts(al, "cycle.missing_poll", NULL, NULL,
			    NULL);
			cJSON_Delete(al);
		}
		if (m > 0)
			fprintf(stderr, "%s: %d x cycle.missing_poll\n",
			    de->d_name, m);
		bad += m;
		ncaps++;
	}
	closedir(d);
	ck_assert_int_ge(ncaps, 20);
	ck_assert_int_eq(bad, 0);
}
END_TEST

static void
fast_cycle(cJSON *b)
{
	cJSON *c = find_chan(b, "cycles", "10.10.2.11", "10.10.2.101", "modbus");
	cJSON *r = find_request(c, "fc 3 unit 1 0+16");

	/* as if hmi-1 had polled every 30-40 ms: 0.1 s is slower */
	set_num(r, "min_gap_us", 30000);
	set_num(r, "max_gap_us", 40000);
}

static void
slow_period(cJSON *b)
{
	cJSON *c = find_chan(b, "cycles", "10.10.2.11", "10.10.2.101", "modbus");
	cJSON *r = find_request(c, "fc 3 unit 1 0+16");

	/* as if hmi-1 had polled every 150-170 ms: 0.1 s is faster, but not
	 * fast enough for cycle.timing (0.5 x 150 ms) */
	set_num(r, "min_gap_us", 150000);
	set_num(r, "max_gap_us", 170000);
}

START_TEST(polling_period_changed)
{
	int rc;
	cJSON *al = edited_run(fast_cycle, "period-slow.json", &rc);
	const cJSON *a;

	ck_assert_int_eq(rc, 0);
	/* once per quiet_s (60 s) over the 300 s */
	ck_assert_int_eq(count_alerts(al, "cycle.period_change", "10.10.2.11",
	    "10.10.2.101", "T0804"), 5);
	ck_assert_int_eq(count_alerts(al, "cycle.", NULL, NULL, NULL), 5);
	a = first_alert(al, "cycle.period_change");
	ck_assert_str_eq(tu_json_str(a, "details.change"), "slower");
	ck_assert(has_technique(a, "T0815"));
	cJSON_Delete(al);
	al = edited_run(slow_period, "period-fast.json", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(count_alerts(al, "cycle.period_change", "10.10.2.11",
	    "10.10.2.101", "T0848"), 5);
	ck_assert_int_eq(count_alerts(al, "cycle.", NULL, NULL, NULL), 5);
	ck_assert_str_eq(tu_json_str(first_alert(al, "cycle.period_change"),
	    "details.change"), "faster");
	cJSON_Delete(al);
}
END_TEST

static void
corrupt_cycles(cJSON *b)
{
	cJSON_ReplaceItemInObject(b, "cycles", cJSON_CreateString("x"));
}

START_TEST(corrupt_cycles_are_refused)
{
	char path[700];
	struct tu_result r;
	cJSON *b = tu_load_json(base);

	corrupt_cycles(b);
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	ck_assert_int_eq(tu_save_json(path, b), 0);
	cJSON_Delete(b);
	tu_agent(&ag, &r, "-r", otherp, "--baseline", path, "--alerts-out",
	    "-");
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "\"cycles\"[0] is not a polling cycle"));
	tu_result_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("chanmodel");
	TCase *t = tcase_create("learn-detect");

	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, learn_writes_cycles_and_envelopes);
	tcase_add_test(t, relearning_the_same_traffic_changes_nothing);
	tcase_add_test(t, learn_writes_conversations);
	tcase_add_test(t, new_conversations_between_known_hosts);
	tcase_add_test(t, another_day_is_quiet);
	tcase_add_test(t, bacnet_instance_announced_twice);
	tcase_add_test(t, register_session_flood_and_scan);
	tcase_add_test(t, brute_force_counts_changes_not_writes);
	tcase_add_test(t, mms_continuation_is_not_s7comm);
	tcase_add_test(t, long_poll_list_is_no_sweep_after_its_first_cycle);
	tcase_add_test(t, command_injected_into_live_sessions);
	tcase_add_test(t, sweep_of_never_polled_registers);
	tcase_add_test(t, mitm_rewrites_the_answers);
	tcase_add_test(t, request_sooner_than_the_cycle);
	tcase_add_test(t, requests_in_an_order_never_used);
	tcase_add_test(t, setpoint_outside_the_written_range);
	tcase_add_test(t, corrupt_cycles_are_refused);
	tcase_add_test(t, learn_writes_point_envelopes);
	tcase_add_test(t, dnp3_values_tampered_and_replayed);
	tcase_add_test(t, dnp3_replay_needs_no_config);
	tcase_add_test(t, iec104_values_forged);
	tcase_add_test(t, folded_finding_keeps_its_second_technique);
	tcase_add_test(t, poll_missing_from_the_cycle);
	tcase_add_test(t, missing_poll_only_on_a_live_channel);
	tcase_add_test(t, real_captures_raise_no_missing_poll);
	tcase_add_test(t, polling_period_changed);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
