/*
 * check_baseline.c - learn mode and detection against a learned baseline,
 * with the real agent ($ICSENTRY_BUILD/icsentry-agent) on the generated
 * factory scenarios (build/scenarios, `make build/scenarios.stamp`) and
 * tests/eval/factory-more-attacks.json (generated here with
 * $SHARED/tools/ics_traffic_gen.py).  No [policy] anywhere: what is
 * allowed comes from the baseline alone.
 *
 * The unchecked fixture learns the benign scenario once and replays every
 * scenario against it; the forked tests inherit the results.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detectors/baseline_model.h"
#include "detectors/detector.h"
#include "dissectors/proto.h"
#include "tests/testutil.h"
#include "tests/testutil_agent.h"

#define RUN_MS		(120 * 1000)

static char dir[512], conf[600], base[600];
static const struct tu_agent ag = { conf, RUN_MS };
static char benign[600], attacks[600], attacks_labels[600];
static char more[600], more_labels[600];

static struct {
	int	 learn_rc, benign_rc, attacks_rc, more_rc, gen_rc;
	char	*learn_err;
	cJSON	*baseline;		/* the learned file */
	cJSON	*benign_alerts, *attacks_alerts, *more_alerts;
} fx;

/* ---- helpers ------------------------------------------------------------ */

static double
epoch(const char *ts)
{
	struct tm tm;
	int y, mo, d, h, mi, s;
	double frac = 0;
	const char *dot;

	if (ts == NULL || sscanf(ts, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi,
	    &s) != 6)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	if ((dot = strchr(ts, '.')) != NULL)
		frac = strtod(dot, NULL);
	return (double)timegm(&tm) + frac;
}

/* tests/eval.py's rule: attacker, technique, inside [start, end + 1 s]. */
static bool
label_found(const cJSON *label, const cJSON *alerts)
{
	const char *src = tu_json_str(label, "src_ip");
	const char *att = tu_json_str(label, "attacker_ip");
	const char *tech = tu_json_str(label, "attack_technique");
	double lo = tu_json_num(label, "start_ts", 0) - 1e-6;
	double hi = tu_json_num(label, "end_ts", 0) + 1.0;
	const cJSON *a;
	const char *ip, *t;
	double ts;

	cJSON_ArrayForEach(a, alerts) {
		ip = tu_json_str(a, "src.ip");
		t = tu_json_str(a, "technique");
		if (ip == NULL || t == NULL || tech == NULL || strcmp(t, tech) != 0)
			continue;
		if (!((src != NULL && strcmp(ip, src) == 0) ||
		    (att != NULL && strcmp(ip, att) == 0)))
			continue;
		ts = epoch(tu_json_str(a, "ts"));
		if (ts >= lo && ts <= hi)
			return true;
	}
	return false;
}

/*
 * The finding of det in alert a: a itself, or the entry of `correlated`
 * when another finding of the same packet leads the alert (one packet,
 * one alert).  NULL when a has none.
 */
static const cJSON *
finding(const cJSON *a, const char *det)
{
	const cJSON *c;
	const char *v;

	if ((v = tu_json_str(a, "detector")) != NULL && strcmp(v, det) == 0)
		return a;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(a, "correlated"))
		if ((v = tu_json_str(c, "rule")) != NULL && strcmp(v, det) == 0)
			return c;
	return NULL;
}

static bool
pair_is(const cJSON *a, const char *src, const char *dst)
{
	const char *v;

	if (src != NULL && ((v = tu_json_str(a, "src.ip")) == NULL ||
	    strcmp(v, src) != 0))
		return false;
	if (dst != NULL && ((v = tu_json_str(a, "dst.ip")) == NULL ||
	    strcmp(v, dst) != 0))
		return false;
	return true;
}

/* Findings of det from src to dst (NULL: any), counted. */
static int
count_alerts(const cJSON *alerts, const char *det, const char *src,
    const char *dst)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, alerts)
		if (finding(a, det) != NULL && pair_is(a, src, dst))
			n++;
	return n;
}

/* The finding of det from src to dst: an alert or its correlated entry. */
static const cJSON *
find_alert(const cJSON *alerts, const char *det, const char *src,
    const char *dst)
{
	const cJSON *a, *f;

	cJSON_ArrayForEach(a, alerts)
		if ((f = finding(a, det)) != NULL && pair_is(a, src, dst))
			return f;
	return NULL;
}

/* The alert (not a correlated entry) holding det's finding. */
static const cJSON *
alert_with(const cJSON *alerts, const char *det, const char *src,
    const char *dst)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, alerts)
		if (finding(a, det) != NULL && pair_is(a, src, dst))
			return a;
	return NULL;
}

static const cJSON *
find_asset(const cJSON *b, const char *ip)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(b, "assets")) {
		const char *v = tu_json_str(a, "ip");

		if (v != NULL && strcmp(v, ip) == 0)
			return a;
	}
	return NULL;
}

static cJSON *
find_link(const cJSON *b, const char *src, const char *dst, const char *proto)
{
	cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItem(b, "links")) {
		const char *s = tu_json_str(l, "src"), *d = tu_json_str(l, "dst");
		const char *p = tu_json_str(l, "proto");

		if (s && d && p && !strcmp(s, src) && !strcmp(d, dst) &&
		    !strcmp(p, proto))
			return l;
	}
	return NULL;
}

static bool
has_role(const cJSON *asset, const char *proto, const char *role)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(cJSON_GetObjectItem(asset,
	    "protocols"), proto))
		if (cJSON_IsString(r) && strcmp(r->valuestring, role) == 0)
			return true;
	return false;
}

/* ---- fixture -------------------------------------------------------------- */

static void
setup(void)
{
	char sc[600];

	if (tu_mkdtemp(dir, sizeof(dir), "baseline") != 0)
		return;
	snprintf(conf, sizeof(conf), "%s/nopolicy.conf", dir);
	tu_write_file(conf, "[agent]\nname = t\nsite = s\n",
	    strlen("[agent]\nname = t\nsite = s\n"));
	snprintf(base, sizeof(base), "%s/base.json", dir);
	tu_build_path(benign, sizeof(benign), "scenarios/factory-benign.pcap");
	tu_build_path(attacks, sizeof(attacks), "scenarios/factory-attacks.pcap");
	tu_build_path(attacks_labels, sizeof(attacks_labels),
	    "scenarios/factory-attacks.labels.json");
	snprintf(more, sizeof(more), "%s/more.pcap", dir);
	snprintf(more_labels, sizeof(more_labels), "%s/more.labels.json", dir);
	snprintf(sc, sizeof(sc), "tests/eval/factory-more-attacks.json");
	fx.gen_rc = tu_generate(RUN_MS, sc, more, more_labels, NULL, NULL,
	    NULL);
	fx.learn_rc = tu_learn(&ag, benign, base, &fx.learn_err);
	fx.baseline = tu_load_json(base);
	fx.benign_alerts = tu_detect(&ag, benign, base, &fx.benign_rc);
	fx.attacks_alerts = tu_detect(&ag, attacks, base, &fx.attacks_rc);
	fx.more_alerts = tu_detect(&ag, more, base, &fx.more_rc);
}

static void
teardown(void)
{
	cJSON_Delete(fx.baseline);
	cJSON_Delete(fx.benign_alerts);
	cJSON_Delete(fx.attacks_alerts);
	cJSON_Delete(fx.more_alerts);
	free(fx.learn_err);
	if (dir[0] != '\0')
		tu_rmtree(dir);
}

/* ---- learning ------------------------------------------------------------- */

START_TEST(learn_writes_the_baseline)
{
	const cJSON *b = fx.baseline, *a, *l, *w;

	ck_assert_int_eq(fx.learn_rc, 0);
	ck_assert_str_eq(fx.learn_err, "");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(tu_json_str(b, "format"), "icsentry-baseline");
	ck_assert_int_eq((int)tu_json_num(b, "version", 0), 1);
	ck_assert_str_eq(tu_json_str(b, "learned.from"), "2024-05-13T06:00:00.080514Z");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "assets")), 26);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "links")), 59);
	ck_assert_int_eq((int)tu_json_num(b, "dropped.links", -1), 0);
	/* an editable, empty writer list per industrial protocol seen (the
	 * cell's MQTT sensor gateway is one since MQTT is dissected) */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b,
	    "allowed_writers")), 6);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
	    "allowed_writers"), "mqtt")));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
	    "allowed_writers"), "modbus")));

	/* the engineering workstation: a Dell, Modbus/ENIP client, IT client */
	a = find_asset(b, "10.10.1.30");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "mac"), "18:66:da:10:00:30");
	if (access("/usr/share/ieee-data/oui.txt", R_OK) == 0)
		ck_assert_str_eq(tu_json_str(a, "vendor"), "Dell Inc.");
	ck_assert(has_role(a, "modbus", "client"));
	ck_assert(!has_role(a, "modbus", "server"));
	ck_assert(has_role(a, "enip", "client"));
	ck_assert(has_role(a, "dns", "client"));
	ck_assert(has_role(a, "http", "client"));
	a = find_asset(b, "10.10.1.101");
	ck_assert(has_role(a, "modbus", "server"));
	a = find_asset(b, "10.0.0.53");
	ck_assert(has_role(a, "dns", "server"));

	/* ews-1 wrote registers 40-43 of unit 1 with fc 6 and 16 */
	l = find_link(b, "10.10.1.30", "10.10.1.101", "modbus");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq((int)tu_json_num(l, "port", 0), 502);
	ck_assert_str_eq(tu_json_str(l, "transport"), "tcp");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "functions")), 3);
	ck_assert_str_eq(tu_json_str(l, "functions.3"), "Read Holding Registers");
	ck_assert_str_eq(tu_json_str(l, "functions.6"), "Write Single Register");
	ck_assert_str_eq(tu_json_str(l, "functions.16"), "Write Multiple Registers");
	w = cJSON_GetObjectItem(l, "writes");
	ck_assert_int_eq(cJSON_GetArraySize(w), 1);
	ck_assert_int_eq((int)tu_json_num(cJSON_GetArrayItem(w, 0), "unit", -1), 1);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(w, 0), "table"),
	    "holding_registers");
	ck_assert_int_eq((int)tu_json_num(cJSON_GetArrayItem(w, 0), "start", -1), 40);
	ck_assert_int_eq((int)tu_json_num(cJSON_GetArrayItem(w, 0), "end", -1), 43);

	/* hmi-1 polls fc 3 and 4 every 0.1 s: about 19 requests/s */
	l = find_link(b, "10.10.1.11", "10.10.1.101", "modbus");
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_null(cJSON_GetObjectItem(l, "writes"));
	ck_assert_double_eq_tol(tu_json_num(l, "max_rate", 0), 18.8, 0.001);
	/* an S7 reader: setup communication and read var */
	l = find_link(b, "10.10.1.11", "10.10.1.111", "s7comm");
	ck_assert_str_eq(tu_json_str(l, "functions.4"), "Read Var");
	ck_assert_str_eq(tu_json_str(l, "functions.240"), "Setup communication");
	/* ListIdentity to the broadcast address is ews-1's discovery */
	l = find_link(b, "10.10.1.30", "255.255.255.255", "enip");
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(tu_json_str(l, "functions.355"), "ListIdentity");
	/* an IT link */
	l = find_link(b, "10.10.1.40", "10.10.1.60", "mqtt");
	ck_assert_int_eq((int)tu_json_num(l, "port", 0), 1883);
}

START_TEST(one_line_per_asset_and_link)
{
	char *t = tu_read_file(base, NULL);

	ck_assert_ptr_nonnull(t);
	ck_assert(strncmp(t, "{\n  \"format\": \"icsentry-baseline\",\n"
	    "  \"version\": 1,\n", 47) == 0);
	ck_assert(tu_contains(t, "\n    {\"ip\":\"10.10.1.101\",\"mac\":"
	    "\"00:80:f4:10:01:01\","));
	ck_assert(tu_contains(t, "\n    {\"src\":\"10.10.1.30\",\"dst\":"
	    "\"10.10.1.101\",\"proto\":\"modbus\",\"transport\":\"tcp\","
	    "\"port\":502,"));
	/*
	 * 26 assets + 59 links + 14 lines of members and brackets + the
	 * three (empty) layer-2 lists, then the channel models
	 * (docs/baseline.md): 41 polling cycles, 26 Modbus envelope channels
	 * and 4 DNP3/IEC 104 point-envelope channels, one line each plus
	 * their two bracket lines, and the conversations member on one line
	 */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fx.baseline,
	    "cycles")), 41);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fx.baseline,
	    "envelopes")), 26);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fx.baseline,
	    "point_envelopes")), 4);
	ck_assert_uint_eq(tu_count_lines(t),
	    26 + 59 + 14 + 3 + (41 + 2) + (26 + 2) + (4 + 2) + 1);
	ck_assert(tu_contains(t, "\n  \"l2_goose\": [],\n  \"l2_sv\": [],\n"
	    "  \"l2_dcp\": [],\n"));
	ck_assert(tu_contains(t, "\n    {\"client\":\"10.10.1.11\",\"server\":"
	    "\"10.10.1.101\",\"proto\":\"modbus\",\"judged\":true,"));
	ck_assert(tu_contains(t, "\n  \"conversations\": {\"ot_hosts\":["));
	free(t);
}
END_TEST
END_TEST

START_TEST(relearning_the_same_traffic_changes_nothing)
{
	char copy[700], *a, *b;
	size_t na, nb;

	snprintf(copy, sizeof(copy), "%s/relearn.json", dir);
	a = tu_read_file(base, &na);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(tu_write_file(copy, a, na), 0);
	ck_assert_int_eq(tu_learn(&ag, benign, copy, NULL), 0);
	b = tu_read_file(copy, &nb);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(na, nb);
	ck_assert(memcmp(a, b, na) == 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(learning_more_traffic_extends)
{
	char copy[700], again[700], *x, *y;
	const cJSON *l, *e;
	cJSON *ext, *orig = fx.baseline;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s/extend.json", dir);
	x = tu_read_file(base, NULL);
	tu_write_file(copy, x, strlen(x));
	free(x);
	ck_assert_int_eq(tu_learn(&ag, attacks, copy, NULL), 0);
	ext = tu_load_json(copy);
	ck_assert_ptr_nonnull(ext);
	/* everything learned before is still there, and the attack's hosts */
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(orig, "links")) {
		e = find_link(ext, tu_json_str(l, "src"), tu_json_str(l, "dst"),
		    tu_json_str(l, "proto"));
		ck_assert_ptr_nonnull(e);
		ck_assert(cJSON_GetArraySize(cJSON_GetObjectItem(e, "functions")) >=
		    cJSON_GetArraySize(cJSON_GetObjectItem(l, "functions")));
		n++;
	}
	ck_assert_int_eq(n, 59);
	ck_assert_ptr_nonnull(find_asset(ext, "10.10.1.66"));
	ck_assert_ptr_nonnull(find_asset(ext, "10.10.1.77"));
	ck_assert_ptr_null(find_asset(orig, "10.10.1.66"));
	/* hmi-2's writes are in now */
	ck_assert_str_eq(tu_json_str(find_link(ext, "10.10.1.12", "10.10.1.103",
	    "modbus"), "functions.6"), "Write Single Register");
	ck_assert_str_eq(tu_json_str(ext, "learned.from"),
	    "2024-05-13T06:00:00.080514Z");
	/* and the extended file is stable too */
	snprintf(again, sizeof(again), "%s/extend2.json", dir);
	x = tu_read_file(copy, NULL);
	tu_write_file(again, x, strlen(x));
	ck_assert_int_eq(tu_learn(&ag, attacks, again, NULL), 0);
	y = tu_read_file(again, NULL);
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
	cJSON_Delete(ext);
}
END_TEST

/* ---- detection ------------------------------------------------------------ */

START_TEST(benign_against_its_own_baseline_is_quiet)
{
	const cJSON *a;
	int low = 0;

	ck_assert_int_eq(fx.benign_rc, 0);
	ck_assert_ptr_nonnull(fx.benign_alerts);
	cJSON_ArrayForEach(a, fx.benign_alerts)
		if (strcmp(tu_json_str(a, "severity"), "info") != 0)
			low++;
	ck_assert_int_eq(low, 0);
	/* not even the ListIdentity of ews-1: it was learned as its habit */
	ck_assert_int_eq(cJSON_GetArraySize(fx.benign_alerts), 0);
}
END_TEST

static void
check_labels(const char *labels, const cJSON *alerts, int expect)
{
	cJSON *l, *lab = tu_load_json(labels);
	int n = 0;

	ck_assert_ptr_nonnull(lab);
	cJSON_ArrayForEach(l, lab) {
		ck_assert_msg(label_found(l, alerts), "missed %s (%s from %s)",
		    tu_json_str(l, "id"), tu_json_str(l, "attack_technique"),
		    tu_json_str(l, "src_ip"));
		n++;
	}
	ck_assert_int_eq(n, expect);
	cJSON_Delete(lab);
}

START_TEST(every_attack_is_found)
{
	ck_assert_int_eq(fx.attacks_rc, 0);
	check_labels(attacks_labels, fx.attacks_alerts, 7);
}
END_TEST

START_TEST(every_more_attack_is_found)
{
	ck_assert_int_eq(fx.gen_rc, 0);
	ck_assert_int_eq(fx.more_rc, 0);
	check_labels(more_labels, fx.more_alerts, 9);
}
END_TEST

START_TEST(write_by_a_host_that_never_wrote)
{
	const cJSON *a;

	/* hmi-2 polls plc-mb-3 with fc 3 only, then writes fc 6 and 16 */
	a = find_alert(fx.attacks_alerts, "baseline.new_function", "10.10.1.12",
	    "10.10.1.103");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0855");
	ck_assert_int_eq((int)tu_json_num(a, "details.function", 0), 6);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "write")));
	ck_assert_int_eq(count_alerts(fx.attacks_alerts, "baseline.new_function",
	    "10.10.1.12", "10.10.1.103"), 2);
	/* the Modbus detector asked the baseline (det_policy) and got "denied" */
	a = find_alert(fx.attacks_alerts, "modbus.unauthorized_write",
	    "10.10.1.12", "10.10.1.103");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0855");
	/* one packet, one alert: the write leads, the baseline's new function
	 * is its second reason */
	a = alert_with(fx.attacks_alerts, "baseline.new_function", "10.10.1.12",
	    "10.10.1.103");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "detector"), "modbus.unauthorized_write");
	ck_assert_str_eq(tu_json_str(a, "rule"), "modbus.unauthorized_write");
	/* (the channel models may add a third reason: cycle.out_of_cycle) */
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(a, "reasons")), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "reasons"),
	    0)->valuestring, "modbus.unauthorized_write");
	ck_assert_ptr_nonnull(finding(a, "baseline.new_function"));
	ck_assert_ptr_nonnull(finding(a, "modbus.unauthorized_write"));
	/*
	 * the first fc 6 and the first fc 16 write, each with the new
	 * function as second reason; then the later writes alone (a storm of
	 * its own: one alert, one summary)
	 */
	ck_assert_int_eq(count_alerts(fx.attacks_alerts,
	    "modbus.unauthorized_write", "10.10.1.12", "10.10.1.103"), 4);
	/* ews-1 wrote while learning: never flagged */
	ck_assert_int_eq(count_alerts(fx.attacks_alerts,
	    "modbus.unauthorized_write", "10.10.1.30", NULL), 0);
}
END_TEST

START_TEST(new_hosts_and_links)
{
	const cJSON *a;

	/* the intruder polls plc-mb-1 (unit id sweep): new host, new link */
	a = find_alert(fx.attacks_alerts, "baseline.new_asset", "10.10.1.66",
	    "10.10.1.101");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "low");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "industrial")));
	a = find_alert(fx.attacks_alerts, "baseline.new_link", "10.10.1.66",
	    "10.10.1.101");
	ck_assert_ptr_nonnull(a);
	/* a request to a server whose clients were learned: rogue master */
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0848");
	ck_assert_str_eq(tu_json_str(a, "details.protocol"), "modbus");
	ck_assert_int_eq((int)tu_json_num(a, "details.port", 0), 502);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "client_known")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "details"), "server_known")));
	/* the vendor laptop stopping plc-s7-1 */
	ck_assert_int_eq(count_alerts(fx.attacks_alerts, "baseline.new_link",
	    "10.10.1.77", "10.10.1.111"), 1);
	/* one new-asset alert per host and level, not one per packet */
	ck_assert_int_eq(count_alerts(fx.attacks_alerts, "baseline.new_asset",
	    "10.10.1.66", NULL), 2);
	/* more attacks: the intruder's first Modbus request is a coil write */
	a = find_alert(fx.more_alerts, "baseline.new_link", "10.10.1.66",
	    "10.10.1.106");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0855");
	ck_assert_int_eq((int)tu_json_num(a, "details.function", 0), 5);
}
END_TEST

START_TEST(iec104_command_and_ssh_into_the_plc_network)
{
	const cJSON *a;

	/* scada-1 was the only IEC 104 client: the intruder's command is denied */
	a = find_alert(fx.more_alerts, "iec104.unauthorized_command", "10.10.1.66",
	    "10.10.1.141");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0855");
	/* SSH into plc-s7-2, RDP into rtu-104-2: links the baseline never saw */
	a = find_alert(fx.more_alerts, "baseline.remote_service", "10.10.1.66",
	    "10.10.1.112");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0886");
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "details.service"), "ssh");
	ck_assert_int_eq((int)tu_json_num(a, "details.port", 0), 22);
	a = find_alert(fx.more_alerts, "baseline.remote_service", "10.10.1.77",
	    "10.10.1.142");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "details.service"), "rdp");
	ck_assert_int_eq(count_alerts(fx.more_alerts, "baseline.remote_service",
	    NULL, NULL), 2);
}
END_TEST

START_TEST(no_baseline_no_unauthorized_alerts)
{
	const cJSON *a;
	cJSON *al;
	int rc, n = 0;

	al = tu_detect(&ag, attacks, NULL, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(al);
	cJSON_ArrayForEach(a, al) {
		const char *d = tu_json_str(a, "detector");

		if (strstr(d, "unauthorized") != NULL || strncmp(d, "baseline.", 9) == 0)
			n++;
	}
	ck_assert_int_eq(n, 0);
	/* the rules that need no allow-list still fire */
	ck_assert_int_eq(count_alerts(al, "s7.plc_stop", "10.10.1.77",
	    "10.10.1.111"), 1);
	cJSON_Delete(al);
}
END_TEST

/* Edit the learned baseline, save it as name, replay pcap against it. */
static cJSON *
edited(const char *name, const char *pcap, void (*edit)(cJSON *))
{
	char path[700];
	cJSON *b = tu_load_json(base), *al;
	int rc;

	ck_assert_ptr_nonnull(b);
	edit(b);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(tu_save_json(path, b), 0);
	cJSON_Delete(b);
	al = tu_detect(&ag, pcap, path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(al);
	return al;
}

static void
allow_hmi2(cJSON *b)
{
	cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "allowed_writers"),
	    "modbus");

	cJSON_AddItemToArray(m, cJSON_CreateString("10.10.1.12/32"));
}

START_TEST(allowed_writers_edited_by_hand)
{
	const cJSON *a;
	cJSON *al = edited("allowed.json", attacks, allow_hmi2);

	ck_assert_int_eq(count_alerts(al, "modbus.unauthorized_write",
	    "10.10.1.12", NULL), 0);
	/* still new on that link, but no longer an unauthorized command */
	a = find_alert(al, "baseline.new_function", "10.10.1.12", "10.10.1.103");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "medium");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "technique")));
	cJSON_Delete(al);
}
END_TEST

/*
 * The link learned writes to 20-21 only: the benign writes to 40-43 are
 * more than the slack (8 addresses, or the block's width) away.
 */
static void
move_ews_range(cJSON *b)
{
	cJSON *l = find_link(b, "10.10.1.30", "10.10.1.101", "modbus");
	cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "writes"), 0);

	cJSON_ReplaceItemInObject(w, "start", cJSON_CreateNumber(20));
	cJSON_ReplaceItemInObject(w, "end", cJSON_CreateNumber(21));
}

START_TEST(write_outside_the_learned_range)
{
	const cJSON *a;
	cJSON *al = edited("moved.json", benign, move_ews_range);

	a = find_alert(al, "baseline.write_outside_range", "10.10.1.30",
	    "10.10.1.101");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0836");
	ck_assert_str_eq(tu_json_str(a, "details.write.table"), "holding_registers");
	ck_assert_int_ge((int)tu_json_num(a, "details.write.start", 0), 40);
	ck_assert_int_eq((int)tu_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a, "details"), "learned"), 0), "end", 0), 21);
	/* plc-mb-2's range was left alone */
	ck_assert_int_eq(count_alerts(al, "baseline.write_outside_range",
	    "10.10.1.30", "10.10.1.102"), 0);
	cJSON_Delete(al);
}
END_TEST

static void
narrow_ews_range(cJSON *b)
{
	cJSON *l = find_link(b, "10.10.1.30", "10.10.1.101", "modbus");
	cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "writes"), 0);

	cJSON_ReplaceItemInObject(w, "end", cJSON_CreateNumber(41));
}

/*
 * A baseline that saw 40-41 written but not 42-43 (a short learning run)
 * takes the neighbours as the same setpoint block: no T0836 for them.
 */
START_TEST(write_next_to_the_learned_range)
{
	cJSON *al = edited("narrow.json", benign, narrow_ews_range);

	ck_assert_int_eq(count_alerts(al, "baseline.write_outside_range",
	    "10.10.1.30", "10.10.1.101"), 0);
	cJSON_Delete(al);
}
END_TEST

static void
slow_hmi1(cJSON *b)
{
	cJSON *l = find_link(b, "10.10.1.11", "10.10.1.101", "modbus");

	cJSON_ReplaceItemInObject(l, "max_rate", cJSON_CreateNumber(1));
}

START_TEST(rate_far_above_the_learned_one)
{
	const cJSON *a;
	cJSON *al = edited("slow.json", benign, slow_hmi1);

	a = find_alert(al, "baseline.rate", "10.10.1.11", "10.10.1.101");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0814");
	ck_assert_double_eq_tol(tu_json_num(a, "details.learned_max_rate", 0), 1, 1e-9);
	/* above max(4 x 1/s x 10 s, 50 requests) */
	ck_assert_int_eq((int)tu_json_num(a, "details.requests", 0), 51);
	ck_assert_int_eq(count_alerts(al, "baseline.rate", "10.10.1.11",
	    "10.10.1.102"), 0);
	cJSON_Delete(al);
}
END_TEST

/* ---- bad baselines ---------------------------------------------------------- */

/*
 * Replay against a bad baseline: no alerts, one stderr line naming the
 * file and the problem.  Returns the exit code.
 */
static int
refused_exit(const char *name, const char *text, const char *problem)
{
	int code;

	char path[700];
	struct tu_result r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
	tu_agent(&ag, &r, "-r", benign, "--baseline", path, "--alerts-out",
	    "-");
	code = r.exit_code;
	ck_assert_str_eq(r.out, "");
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	/* the one line names the file and the problem */
	ck_assert_msg(tu_contains(r.err, path), "no file name in: %s", r.err);
	ck_assert_msg(tu_contains(r.err, problem), "no \"%s\" in: %s", problem,
	    r.err);
	tu_result_free(&r);
	return code;
}

START_TEST(corrupt_baseline_is_refused)
{
	char *t = tu_read_file(base, NULL);

	ck_assert_ptr_nonnull(t);
	t[strlen(t) / 2] = '\0';	/* cut in the middle */
	ck_assert_int_eq(refused_exit("cut.json", t, "corrupt baseline: not valid JSON"), 2);
	free(t);
	ck_assert_int_eq(refused_exit("garbage.json", "\x01\x02 not json", "not valid JSON"), 2);
}
END_TEST

START_TEST(wrong_version_is_refused)
{
	ck_assert_int_eq(refused_exit("v2.json",
	    "{\"format\":\"icsentry-baseline\",\"version\":2,\"assets\":[]}",
	    "baseline version 2 is not supported (this agent reads version 1)"), 2);
	ck_assert_int_eq(refused_exit("noversion.json", "{\"assets\":[]}",
	    "not an icsentry baseline (no \"version\" member)"), 2);
	ck_assert_int_eq(refused_exit("array.json", "[1,2]", "not an icsentry baseline"), 2);
}
END_TEST

START_TEST(bad_members_are_refused)
{
	ck_assert_int_eq(refused_exit("badip.json",
	    "{\"version\":1,\"assets\":[{\"ip\":\"10.10.1.999\"}]}",
	    "assets[0]: \"ip\": expected an IPv4 or IPv6 address"), 2);
	ck_assert_int_eq(refused_exit("badproto.json",
	    "{\"version\":1,\"links\":[{\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	    "\"proto\":\"gopher\",\"port\":70}]}",
	    "links[0]: unknown protocol \"gopher\""), 2);
	ck_assert_int_eq(refused_exit("badwriter.json",
	    "{\"version\":1,\"allowed_writers\":{\"modbus\":[\"hmi-7\"]}}",
	    "allowed_writers.modbus: bad address \"hmi-7\""), 2);
	ck_assert_int_eq(refused_exit("badrange.json",
	    "{\"version\":1,\"links\":[{\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	    "\"proto\":\"modbus\",\"port\":502,\"writes\":[{\"unit\":1,"
	    "\"table\":\"coils\",\"start\":9,\"end\":3}]}]}",
	    "links[0]: \"end\" is below \"start\""), 2);
}
END_TEST

START_TEST(missing_baseline_is_refused)
{
	char path[700];
	struct tu_result r;

	snprintf(path, sizeof(path), "%s/does-not-exist.json", dir);
	tu_agent(&ag, &r, "-r", benign, "--baseline", path, NULL, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	ck_assert(tu_contains(r.err, path));
	ck_assert(tu_contains(r.err, "No such file or directory"));
	tu_result_free(&r);
}
END_TEST

START_TEST(learning_never_clobbers_a_corrupt_baseline)
{
	char path[700], *t;
	const char *bad = "{\"version\":1,\"assets\":[{\"ip\":";
	struct tu_result r;

	snprintf(path, sizeof(path), "%s/keep.json", dir);
	tu_write_file(path, bad, strlen(bad));
	tu_agent(&ag, &r, "-r", benign, "--learn", path, NULL, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	tu_result_free(&r);
	t = tu_read_file(path, NULL);
	ck_assert_str_eq(t, bad);
	free(t);
}
END_TEST

START_TEST(unwritable_learn_file_fails)
{
	char path[700];
	struct tu_result r;

	snprintf(path, sizeof(path), "%s/no-such-dir/base.json", dir);
	tu_agent(&ag, &r, "-r", benign, "--learn", path, NULL, NULL);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	ck_assert(tu_contains(r.err, "no-such-dir/base.json"));
	ck_assert(tu_contains(r.err, "cannot write the baseline"));
	tu_result_free(&r);
}
END_TEST

/*
 * The descriptors say what each request code does (write, command,
 * dangerous, discovery): the baseline's new-function rule and the cycle
 * model read it through bl_code_flags.
 */
START_TEST(descriptors_classify_commands)
{
	enum { W = PROTO_OP_WRITE, C = PROTO_OP_COMMAND,
	    D = PROTO_OP_DANGEROUS, Q = PROTO_OP_DISCOVERY };
	static const struct { uint8_t proto; uint16_t code; unsigned ops; } t[] = {
		{ ICS_MODBUS, 0x03, 0 },	/* read holding registers */
		{ ICS_MODBUS, 0x10, W },	/* write multiple registers */
		{ ICS_MODBUS, 0x08, C },	/* diagnostics */
		{ ICS_MODBUS, 0x2B, Q },	/* device identification */
		{ ICS_MODBUS, 0x141, C | D },	/* UMAS stop PLC */
		{ ICS_MODBUS, 0x134, W | D },	/* UMAS download block */
		{ ICS_DNP3, 0x01, 0 },		/* read */
		{ ICS_DNP3, 0x02, W },		/* write */
		{ ICS_DNP3, 0x05, W | C },	/* direct operate */
		{ ICS_DNP3, 0x07, C },		/* immediate freeze */
		{ ICS_DNP3, 0x0D, C | D },	/* cold restart */
		{ ICS_DNP3, 0x12, C | D },	/* stop application */
		{ ICS_DNP3, 0x14, C },		/* enable unsolicited */
		{ ICS_IEC104, 45, W | C },	/* C_SC_NA_1 */
		{ ICS_IEC104, 100, 0 },		/* C_IC_NA_1 interrogation */
		{ ICS_IEC104, 103, C },		/* C_CS_NA_1 clock sync */
		{ ICS_IEC104, 105, C | D },	/* C_RP_NA_1 reset process */
		{ ICS_IEC104, 112, W },		/* P_ME_NC_1 */
		{ ICS_IEC104, 113, W | C },	/* P_AC_NA_1 */
		{ ICS_S7COMM, 0x04, 0 },	/* read var */
		{ ICS_S7COMM, 0x05, W },	/* write var */
		{ ICS_S7COMM, 0x1B, W | D },	/* download block */
		{ ICS_S7COMM, 0x29, C | D },	/* PLC stop */
		{ ICS_S7COMM, 0x1E, 0 },	/* upload */
		{ ICS_ENIP, 0x4D, W },		/* write tag */
		{ ICS_ENIP, 0x05, C | D },	/* reset */
		{ ICS_ENIP, 0x07, C | D },	/* stop */
		{ ICS_ENIP, 0x4C, 0 },		/* read tag */
		{ ICS_BACNET, 15, W },		/* WriteProperty */
		{ ICS_BACNET, 20, C | D },	/* ReinitializeDevice */
		{ ICS_BACNET, 17, C | D },	/* DeviceCommunicationControl */
		{ ICS_BACNET, 7, W | D },	/* AtomicWriteFile */
		{ ICS_BACNET, 12, 0 },		/* ReadProperty */
		{ ICS_OPCUA, 673, W },		/* Write */
		{ ICS_OPCUA, 712, W | C },	/* Call */
		{ ICS_OPCUA, 631, 0 },		/* Read */
		{ ICS_FINS, 0x0101, 0 },	/* memory area read */
		{ ICS_FINS, 0x0102, W },	/* memory area write */
		{ ICS_FINS, 0x0401, C },	/* RUN */
		{ ICS_FINS, 0x0402, C | D },	/* STOP */
		{ ICS_FINS, 0x0307, W | D },	/* program area write */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(bl_code_flags(t[i].proto, t[i].code) == t[i].ops,
		    "%s code 0x%x: ops 0x%x, want 0x%x",
		    ics_proto_name(t[i].proto), t[i].code,
		    bl_code_flags(t[i].proto, t[i].code), t[i].ops);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("baseline");
	TCase *t = tcase_create("learn-detect");

	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, descriptors_classify_commands);
	tcase_add_test(t, learn_writes_the_baseline);
	tcase_add_test(t, one_line_per_asset_and_link);
	tcase_add_test(t, relearning_the_same_traffic_changes_nothing);
	tcase_add_test(t, learning_more_traffic_extends);
	tcase_add_test(t, benign_against_its_own_baseline_is_quiet);
	tcase_add_test(t, every_attack_is_found);
	tcase_add_test(t, every_more_attack_is_found);
	tcase_add_test(t, write_by_a_host_that_never_wrote);
	tcase_add_test(t, new_hosts_and_links);
	tcase_add_test(t, iec104_command_and_ssh_into_the_plc_network);
	tcase_add_test(t, no_baseline_no_unauthorized_alerts);
	tcase_add_test(t, allowed_writers_edited_by_hand);
	tcase_add_test(t, write_outside_the_learned_range);
	tcase_add_test(t, write_next_to_the_learned_range);
	tcase_add_test(t, rate_far_above_the_learned_one);
	tcase_add_test(t, corrupt_baseline_is_refused);
	tcase_add_test(t, wrong_version_is_refused);
	tcase_add_test(t, bad_members_are_refused);
	tcase_add_test(t, missing_baseline_is_refused);
	tcase_add_test(t, learning_never_clobbers_a_corrupt_baseline);
	tcase_add_test(t, unwritable_learn_file_fails);
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
