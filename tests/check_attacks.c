/*
 * check_attacks.c - attacks inside live sessions, caught with no config at
 * all: the real agent ($ICSENTRY_BUILD/icsentry-agent) on captures of the
 * advanced factory cell generated here with
 * $SHARED/tools/ics_traffic_gen.py (scenarios factory-advanced-attacks and
 * factory-advanced-benign), and on every real capture in $SHARED/pcaps.
 *
 * What is asserted is the principle each rule stands for: a request is
 * judged by its function code and transport role, not the DIR bit
 * (dnp3.crafted_frame, dnp3.restart); a second master for an outstation
 * (roles.*); a cloned IP and MAC still sends from its own stack
 * (stackfp.*).  The benign twin runs on another seed and day and must
 * raise none of these; neither may any real capture.
 *
 * The "variant" case does the same off the generator's numbers
 * (tests/gen_variant.py: other addresses, timings, link addresses, unit
 * id) with an attacker that copies the victim's whole stack, IP-ID series
 * included: only the sessions themselves give it away
 * (stackfp.tcp_desync, stackfp.session_takeover, modbus.replay).
 *
 * The unchecked fixtures generate and replay once; the forked tests
 * inherit the results.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"
#include "tests/testutil_agent.h"

#define RUN_MS		(180 * 1000)
#define MAX_CAPS	128

static char dir[512], conf[600];

static struct {
	int	 gen_rc, gen_benign_rc, attacks_rc, benign_rc;
	cJSON	*attacks, *benign, *labels;
	int	 ua_rc;
	cJSON	*ua;		/* OPC UA capture joined after its OPN */
	/* real captures: name and the new detectors' alerts (JSON lines) */
	size_t	 ncaps;
	char	 cap[MAX_CAPS][256];
	int	 cap_rc[MAX_CAPS];
	cJSON	*cap_alerts[MAX_CAPS];
} fx;

/* ---- helpers ------------------------------------------------------------ */

static cJSON *
replay(const char *pcap, int *rc)
{
	char path[600];
	char *argv[] = { (char *)tu_agent_path(path, sizeof(path)), "-c", conf,
	    "-r", (char *)pcap, "--alerts-out", "-", NULL };
	struct tu_result r;
	cJSON *arr = NULL;

	tu_run(argv, NULL, RUN_MS, &r);
	*rc = r.exit_code;
	if (r.exit_code == 0)
		arr = tu_json_lines(r.out, NULL);
	else
		fprintf(stderr, "%s: exit %d: %s\n", pcap, r.exit_code,
		    r.err != NULL ? r.err : "");
	tu_result_free(&r);
	return arr;
}

/* A scenario of the shared generator (by its name), as tu_generate. */
static int
generate(const char *scenario, const char *out, const char *labels,
    const char *seed, const char *start, const char *duration)
{
	char sc[600];

	snprintf(sc, sizeof(sc), "%s/tools/scenarios/%s", tu_shared_dir(),
	    scenario);
	return tu_generate(RUN_MS, sc, out, labels, seed, start,
	    seed != NULL ? duration : NULL);
}

static bool
prefix(const char *s, const char *p)
{
	return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

/* Alerts whose detector starts with det, from src to dst (NULL: any). */
static const cJSON *
find(const cJSON *alerts, const char *det, const char *src, const char *dst,
    const char *tech)
{
	const cJSON *a;
	const char *v;

	cJSON_ArrayForEach(a, alerts) {
		if (!prefix(tu_json_str(a, "detector"), det))
			continue;
		if (src != NULL && ((v = tu_json_str(a, "src.ip")) == NULL ||
		    strcmp(v, src) != 0))
			continue;
		if (dst != NULL && ((v = tu_json_str(a, "dst.ip")) == NULL ||
		    strcmp(v, dst) != 0))
			continue;
		if (tech != NULL && ((v = tu_json_str(a, "technique")) == NULL ||
		    strcmp(v, tech) != 0))
			continue;
		return a;
	}
	return NULL;
}

static int
count(const cJSON *alerts, const char *det)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, alerts)
		if (prefix(tu_json_str(a, "detector"), det))
			n++;
	return n;
}

/* The detectors and rules this suite is about. */
static const char *const new_rules[] = {
	"roles.", "stackfp.", "dnp3.crafted_frame", "dnp3.wrong_side",
	"modbus.replay", NULL
};

/*
 * Copy a classic pcap from record first (0-based) on: a capture that
 * starts after the session opened.  Returns 0 or -1.
 */
static int
pcap_from(const char *in, const char *out, size_t first)
{
	size_t len, off = 24, rec = 0, keep;
	char *t = tu_read_file(in, &len), *o;
	int rc;

	if (t == NULL || len < 24)
		return -1;
	o = malloc(len);
	if (o == NULL) {
		free(t);
		return -1;
	}
	memcpy(o, t, 24);
	keep = 24;
	while (off + 16 <= len) {
		uint32_t incl;

		memcpy(&incl, t + off + 8, 4);	/* host order, as written */
		if (off + 16 + incl > len)
			break;
		if (rec++ >= first) {
			memcpy(o + keep, t + off, 16 + incl);
			keep += 16 + incl;
		}
		off += 16 + incl;
	}
	rc = tu_write_file(out, o, keep);
	free(t);
	free(o);
	return rc;
}

/* ---- fixture -------------------------------------------------------------- */

static void
setup(void)
{
	char attacks[600], labels[600], benign[600], pdir[600];
	struct dirent *de;
	DIR *d;
	char *t;

	if (tu_mkdtemp(dir, sizeof(dir), "attacks") != 0)
		return;
	snprintf(conf, sizeof(conf), "%s/none.conf", dir);
	tu_write_file(conf, "[agent]\nname = t\nsite = s\n",
	    strlen("[agent]\nname = t\nsite = s\n"));
	snprintf(attacks, sizeof(attacks), "%s/adv.pcap", dir);
	snprintf(labels, sizeof(labels), "%s/adv.labels.json", dir);
	snprintf(benign, sizeof(benign), "%s/benign.pcap", dir);
	fx.gen_rc = generate("factory-advanced-attacks.json", attacks, labels,
	    NULL, NULL, NULL);
	/* the benign twin on another seed and another day, 10 minutes */
	fx.gen_benign_rc = generate("factory-advanced-benign.json", benign, NULL,
	    "31337", "2024-08-01T03:00:00Z", "600");
	fx.attacks = replay(attacks, &fx.attacks_rc);
	fx.benign = replay(benign, &fx.benign_rc);
	t = tu_read_file(labels, NULL);
	fx.labels = t != NULL ? cJSON_Parse(t) : NULL;
	free(t);
	{
		char in[700], cut[600], uaconf[600];
		const char *pol = "[agent]\nname = t\nsite = s\n[policy]\n"
		    "opcua_writers = 192.0.2.1\ndiscovery_allowed = 192.0.2.1\n";
		char path[600];
		char *argv[8];
		struct tu_result r;

		/* frames 13.. of the capture: after the first HEL/OPN */
		tu_pcap_path(in, sizeof(in), "opcua-open62541-browse.pcap");
		snprintf(cut, sizeof(cut), "%s/ua-mid.pcap", dir);
		snprintf(uaconf, sizeof(uaconf), "%s/ua.conf", dir);
		tu_write_file(uaconf, pol, strlen(pol));
		fx.ua_rc = pcap_from(in, cut, 12);
		if (fx.ua_rc == 0) {
			argv[0] = (char *)tu_agent_path(path, sizeof(path));
			argv[1] = "-c";
			argv[2] = uaconf;
			argv[3] = "-r";
			argv[4] = cut;
			argv[5] = "--alerts-out";
			argv[6] = "-";
			argv[7] = NULL;
			tu_run(argv, NULL, RUN_MS, &r);
			fx.ua_rc = r.exit_code;
			if (r.exit_code != 0)
				fprintf(stderr, "ua: %s\n", r.err);
			if (r.exit_code == 0)
				fx.ua = tu_json_lines(r.out, NULL);
			tu_result_free(&r);
		}
	}
	d = opendir(tu_pcap_path(pdir, sizeof(pdir), NULL));
	while (d != NULL && (de = readdir(d)) != NULL && fx.ncaps < MAX_CAPS) {
		char path[900];

		if (strstr(de->d_name, ".pcap") == NULL)
			continue;
		snprintf(fx.cap[fx.ncaps], sizeof(fx.cap[0]), "%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", pdir, de->d_name);
		fx.cap_alerts[fx.ncaps] = replay(path, &fx.cap_rc[fx.ncaps]);
		fx.ncaps++;
	}
	if (d != NULL)
		closedir(d);
}

static void
teardown(void)
{
	size_t i;

	cJSON_Delete(fx.attacks);
	cJSON_Delete(fx.benign);
	cJSON_Delete(fx.labels);
	cJSON_Delete(fx.ua);
	for (i = 0; i < fx.ncaps; i++)
		cJSON_Delete(fx.cap_alerts[i]);
	if (dir[0] != '\0')
		tu_rmtree(dir);
}

/* ---- the runs --------------------------------------------------------------- */

START_TEST(everything_ran)
{
	ck_assert_int_eq(fx.gen_rc, 0);
	ck_assert_int_eq(fx.gen_benign_rc, 0);
	ck_assert_int_eq(fx.attacks_rc, 0);
	ck_assert_int_eq(fx.benign_rc, 0);
	ck_assert_ptr_nonnull(fx.attacks);
	ck_assert_ptr_nonnull(fx.benign);
	ck_assert_int_eq(cJSON_GetArraySize(fx.labels), 10);
	ck_assert_int_ge((int)fx.ncaps, 50);
}
END_TEST

/* ---- item 1: the DIR bit is the sender's word, not a fact ------------------- */

START_TEST(injection_with_dir_clear_is_judged)
{
	const cJSON *a;

	/* the forged cold restart carries the master's address */
	a = find(fx.attacks, "dnp3.restart", "10.10.2.20", "10.10.2.131", "T0816");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "critical");
	ck_assert_int_eq((int)tu_json_num(a, "details.function", -1), 0x0D);
	a = find(fx.attacks, "dnp3.crafted_frame", "10.10.2.20", "10.10.2.131",
	    "T0855");
	ck_assert_ptr_nonnull(a);
	ck_assert(tu_contains(tu_json_str(a, "title"), "DIR bit clear"));
}
END_TEST

/* ---- item 3: who may speak ------------------------------------------------ */

START_TEST(second_master_and_address_scan)
{
	const cJSON *a, *m;

	a = find(fx.attacks, "roles.second_master", "10.10.2.66", "10.10.2.132",
	    "T0848");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "proto"), "dnp3");
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "established_masters"), 0);
	ck_assert(cJSON_IsString(m));
	ck_assert_str_eq(m->valuestring, "10.10.2.20");
	a = find(fx.attacks, "roles.dnp3_address_scan", "10.10.2.66",
	    "10.10.2.132", "T0846");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_ge((int)tu_json_num(a, "details.unanswered", 0), 6);
	/* the real master polls one address per outstation: no scan, no rival */
	ck_assert_ptr_null(find(fx.attacks, "roles.", "10.10.2.20", NULL, NULL));
}
END_TEST

/* ---- item 2: cloned identities -------------------------------------------- */

START_TEST(forged_reports_from_another_stack)
{
	const cJSON *a;

	/* unsolicited responses injected in rtu-dnp-1's name */
	a = find(fx.attacks, "stackfp.foreign_stack", "10.10.2.131", "10.10.2.20",
	    "T0856");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "details.mismatch"), "TTL 64, learned 60");
	/* the masquerading outstation: its session reset, then its answers */
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.foreign_stack",
	    "10.10.2.132", "10.10.2.20", "T0830"));
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.foreign_stack",
	    "10.10.2.132", "10.10.2.20", "T0856"));
}
END_TEST

START_TEST(cloned_master_and_writer)
{
	/* the hijacker polls rtu-dnp-1 as the master, from a Linux stack */
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.foreign_stack",
	    "10.10.2.20", "10.10.2.131", "T0848"));
	/* its SYN in the outstation's name carried data from port 20000 */
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.syn_payload",
	    "10.10.2.131", "10.10.2.20", "T0856"));
	/* the replayed writes, in the engineering station's name */
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.foreign_stack",
	    "10.10.2.30", "10.10.2.102", "T0855"));
}
END_TEST

START_TEST(mitm_altered_copies)
{
	const cJSON *a;

	/* the forwarded write request had register 42 rewritten */
	a = find(fx.attacks, "stackfp.tcp_conflict", "10.10.2.30", "10.10.2.101",
	    "T0831");
	ck_assert_ptr_nonnull(a);
	/* and the read responses on their way back */
	ck_assert_ptr_nonnull(find(fx.attacks, "stackfp.tcp_conflict",
	    "10.10.2.101", "10.10.2.30", "T0832"));
}
END_TEST

/* Every label but the one that needs a policy (a known client's write). */
START_TEST(every_session_attack_caught_without_config)
{
	const cJSON *l, *a;
	int missed = 0;

	cJSON_ArrayForEach(l, fx.labels) {
		const char *kind = tu_json_str(l, "kind");
		const char *tech = tu_json_str(l, "attack_technique");
		const char *src = tu_json_str(l, "src_ip");
		const char *att = tu_json_str(l, "attacker_ip");
		bool hit = false;

		if (strcmp(kind, "modbus_fake_command") == 0)
			continue;
		cJSON_ArrayForEach(a, fx.attacks) {
			const char *ip = tu_json_str(a, "src.ip");
			const char *t = tu_json_str(a, "technique");

			if (t != NULL && strcmp(t, tech) == 0 && ip != NULL &&
			    (strcmp(ip, src) == 0 || (att && strcmp(ip, att) == 0)))
				hit = true;
		}
		if (!hit) {
			fprintf(stderr, "missed %s (%s)\n", kind, tech);
			missed++;
		}
	}
	ck_assert_int_eq(missed, 0);
}
END_TEST

/* ---- item 8: a capture that joined after the secure channel opened ---------- */

START_TEST(opcua_without_its_opn_is_still_read)
{
	ck_assert_int_eq(fx.ua_rc, 0);
	/*
	 * The whole capture raises opcua.browse three times; joined after
	 * the first session's OPN, the first session's browsing is still
	 * read (before: once, from the second session only).
	 */
	ck_assert_int_eq(count(fx.ua, "opcua.browse"), 3);
	ck_assert_ptr_nonnull(find(fx.ua, "opcua.browse", NULL, NULL, "T0861"));
}
END_TEST

/* ---- no false positives ---------------------------------------------------- */

START_TEST(benign_twin_raises_nothing)
{
	const cJSON *a;
	int low = 0;

	cJSON_ArrayForEach(a, fx.benign) {
		const char *sev = tu_json_str(a, "severity");

		if (sev != NULL && strcmp(sev, "info") != 0) {
			fprintf(stderr, "benign: %s %s\n", tu_json_str(a, "detector"),
			    tu_json_str(a, "title"));
			low++;
		}
	}
	ck_assert_int_eq(low, 0);
	ck_assert_int_gt(cJSON_GetArraySize(fx.attacks), 0);
}
END_TEST

START_TEST(real_captures_raise_none_of_the_new_rules)
{
	size_t i, j;
	int bad = 0;

	for (i = 0; i < fx.ncaps; i++) {
		ck_assert_msg(fx.cap_rc[i] == 0, "%s: exit %d", fx.cap[i],
		    fx.cap_rc[i]);
		for (j = 0; new_rules[j] != NULL; j++) {
			int n = count(fx.cap_alerts[i], new_rules[j]);

			if (n > 0)
				fprintf(stderr, "%s: %d x %s\n", fx.cap[i], n,
				    new_rules[j]);
			bad += n;
		}
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* ---- off the generator's numbers: a stack-copying attacker ------------------ */

static struct {
	char	 dir[512];
	int	 gen_rc, gen_benign_rc, attacks_rc, benign_rc;
	int	 gen_accept_rc, accept_rc;
	cJSON	*attacks, *benign;
	cJSON	*accept;	/* the hijack with the reconnects accepted */
} vx;

/* tests/gen_variant.py SCENARIO OUT [args...] */
static int
gen_variant(const char *scenario, const char *out, const char *a1,
    const char *a2, const char *a3, const char *a4, const char *a5,
    const char *a6)
{
	char sc[600], script[600], env[] = "/usr/bin/env", py[] = "python3";
	const char *src = getenv("ICSENTRY_SRC");
	char *argv[] = { env, py, script, sc, (char *)out, (char *)a1,
	    (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6, NULL };
	struct tu_result r;
	int rc;

	snprintf(script, sizeof(script), "%s/tests/gen_variant.py",
	    src != NULL && src[0] != '\0' ? src : ".");
	snprintf(sc, sizeof(sc), "%s/tools/scenarios/%s", tu_shared_dir(),
	    scenario);
	setenv("SHARED", tu_shared_dir(), 1);
	tu_run(argv, NULL, RUN_MS, &r);
	rc = r.exit_code;
	if (rc != 0)
		fprintf(stderr, "gen_variant %s: exit %d: %s\n", scenario, rc,
		    r.err != NULL ? r.err : "");
	tu_result_free(&r);
	return rc;
}

static void
setup_variant(void)
{
	char attacks[600], labels[600], benign[600];

	if (tu_mkdtemp(vx.dir, sizeof(vx.dir), "variant") != 0)
		return;
	snprintf(conf, sizeof(conf), "%s/none.conf", vx.dir);
	tu_write_file(conf, "[agent]\nname = t\nsite = s\n",
	    strlen("[agent]\nname = t\nsite = s\n"));
	snprintf(attacks, sizeof(attacks), "%s/variant.pcap", vx.dir);
	snprintf(labels, sizeof(labels), "%s/variant.labels.json", vx.dir);
	snprintf(benign, sizeof(benign), "%s/variant-benign.pcap", vx.dir);
	vx.gen_rc = gen_variant("factory-advanced-attacks.json", attacks,
	    "--labels", labels, NULL, NULL, NULL, NULL);
	/* the benign twin on another seed and day, 10 minutes */
	vx.gen_benign_rc = gen_variant("factory-advanced-benign.json", benign,
	    "--seed", "31337", "--start-time", "2024-08-01T03:00:00Z",
	    "--duration", "600");
	vx.attacks = replay(attacks, &vx.attacks_rc);
	vx.benign = replay(benign, &vx.benign_rc);
	snprintf(attacks, sizeof(attacks), "%s/variant-accept.pcap", vx.dir);
	vx.gen_accept_rc = gen_variant("factory-advanced-attacks.json", attacks,
	    "--accept-reconnects", NULL, NULL, NULL, NULL, NULL);
	vx.accept = replay(attacks, &vx.accept_rc);
}

static void
teardown_variant(void)
{
	cJSON_Delete(vx.attacks);
	cJSON_Delete(vx.benign);
	cJSON_Delete(vx.accept);
	if (vx.dir[0] != '\0')
		tu_rmtree(vx.dir);
}

START_TEST(variant_ran)
{
	ck_assert_int_eq(vx.gen_rc, 0);
	ck_assert_int_eq(vx.gen_benign_rc, 0);
	ck_assert_int_eq(vx.attacks_rc, 0);
	ck_assert_int_eq(vx.benign_rc, 0);
	ck_assert_ptr_nonnull(vx.attacks);
	ck_assert_ptr_nonnull(vx.benign);
}
END_TEST

/*
 * Forged unsolicited responses in rtu-dnp-1's name (172.20.9.138), its
 * TTL, window and IP-ID series copied: the outstation's own bare ACKs
 * stay behind the bytes the master accepted from "it".
 */
START_TEST(variant_forged_reports_desync_the_session)
{
	const cJSON *a;

	a = find(vx.attacks, "stackfp.tcp_desync", "172.20.9.138", "172.20.9.27",
	    "T0856");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	/* three forged 49-byte responses */
	ck_assert_int_eq((int)tu_json_num(a, "details.bytes_behind", -1), 147);
	ck_assert_int_ge((int)tu_json_num(a, "details.acks_behind", -1), 2);
	/* nothing else desynchronised: the master's side stayed in step */
	ck_assert_int_eq(count(vx.attacks, "stackfp.tcp_desync"), 1);
}
END_TEST

/*
 * The hijacker holds scada-1's (172.20.9.27) session to rtu-dnp-1 from a
 * copy of its stack; the master's own reconnects are refused meanwhile.
 */
START_TEST(variant_hijacked_master_is_a_takeover)
{
	const cJSON *a;

	a = find(vx.attacks, "stackfp.session_takeover", "172.20.9.27",
	    "172.20.9.138", "T0848");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_int_eq((int)tu_json_num(a, "dst.port", -1), 20000);
	ck_assert_int_ge((int)tu_json_num(a, "details.refused", -1), 1);
	ck_assert_int_ne((int)tu_json_num(a, "details.live_session_port", -1),
	    (int)tu_json_num(a, "details.refused_port", -1));
	ck_assert_int_eq(count(vx.attacks, "stackfp.session_takeover"), 1);
}
END_TEST

/*
 * ews-1's (172.20.9.37) recorded writes replayed to plc-mb-2
 * (172.20.9.109) in a new session from a copy of its stack, while its own
 * polling session runs on.
 */
START_TEST(variant_replayed_writes)
{
	const cJSON *a;

	a = find(vx.attacks, "modbus.replay", "172.20.9.37", "172.20.9.109",
	    "T0855");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "medium");
	ck_assert_int_eq((int)tu_json_num(a, "details.unit", -1), 3);
	ck_assert_int_ne((int)tu_json_num(a, "details.transaction_id", -1),
	    (int)tu_json_num(a, "details.live_session_tid", -1));
	/* no other client replays anything */
	{
		const cJSON *x;

		cJSON_ArrayForEach(x, vx.attacks)
			if (prefix(tu_json_str(x, "detector"), "modbus.replay"))
				ck_assert_str_eq(tu_json_str(x, "src.ip"),
				    "172.20.9.37");
	}
}
END_TEST

/*
 * The same hijack, but rtu-dnp-1 accepts scada-1's reconnect: two
 * sessions from 172.20.9.27 poll link 101 -> 110 at once.
 */
START_TEST(variant_hijack_with_reconnect_accepted)
{
	const cJSON *a;

	ck_assert_int_eq(vx.gen_accept_rc, 0);
	ck_assert_int_eq(vx.accept_rc, 0);
	a = find(vx.accept, "stackfp.session_takeover", "172.20.9.27",
	    "172.20.9.138", "T0848");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq((int)tu_json_num(a, "details.refused", -1), 0);
	ck_assert_int_eq((int)tu_json_num(a, "details.link_master", -1), 101);
	ck_assert_int_eq((int)tu_json_num(a, "details.link_outstation", -1),
	    110);
	ck_assert_int_eq(count(vx.accept, "stackfp.session_takeover"), 1);
}
END_TEST

START_TEST(variant_benign_raises_none_of_them)
{
	ck_assert_ptr_nonnull(vx.benign);
	ck_assert_int_eq(count(vx.benign, "stackfp.tcp_desync"), 0);
	ck_assert_int_eq(count(vx.benign, "stackfp.session_takeover"), 0);
	ck_assert_int_eq(count(vx.benign, "modbus.replay"), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("attacks");
	TCase *t = tcase_create("no-config");

	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 900);
	tcase_add_test(t, everything_ran);
	tcase_add_test(t, injection_with_dir_clear_is_judged);
	tcase_add_test(t, second_master_and_address_scan);
	tcase_add_test(t, forged_reports_from_another_stack);
	tcase_add_test(t, cloned_master_and_writer);
	tcase_add_test(t, mitm_altered_copies);
	tcase_add_test(t, every_session_attack_caught_without_config);
	tcase_add_test(t, opcua_without_its_opn_is_still_read);
	tcase_add_test(t, benign_twin_raises_nothing);
	tcase_add_test(t, real_captures_raise_none_of_the_new_rules);
	suite_add_tcase(s, t);
	t = tcase_create("variant");
	tcase_add_unchecked_fixture(t, setup_variant, teardown_variant);
	tcase_set_timeout(t, 600);
	tcase_add_test(t, variant_ran);
	tcase_add_test(t, variant_forged_reports_desync_the_session);
	tcase_add_test(t, variant_hijacked_master_is_a_takeover);
	tcase_add_test(t, variant_replayed_writes);
	tcase_add_test(t, variant_hijack_with_reconnect_accepted);
	tcase_add_test(t, variant_benign_raises_none_of_them);
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
