/*
 * check_alert_record.c - the alert record of issue 14 with real parts:
 * icsentry-agent replaying shared captures, tshark reading its evidence,
 * mosquitto + icsentry-collector storing it in SQLite and PostgreSQL,
 * icsentry-log evidence reading it back.
 *   - golden files (tests/golden/NAME.jsonl): every alert of three captures,
 *     byte for byte (flow_id, community_id, vlan, transport, rule,
 *     rule_rev, sid, technique_name, tactic, techniques, src/dst.asset from
 *     the assets file and the OUI table, the critical-asset severity step,
 *     description, action, evidence, summaries, hash chain);
 *   - the same fields asserted one by one on the S7 STOP capture;
 *   - community_id equal to Wireshark's for every alert's flow;
 *   - evidence pcaps open in tshark and hold exactly the flow's last
 *     packets up to the alert (bytes and times of the original capture);
 *   - one packet, one alert (rule + baseline finding folded, reasons and
 *     secondary techniques), alerts in capture-time order, summaries that
 *     keep the first alert's details;
 *   - evidence over MQTT into the central log (both backends) and out of
 *     icsentry-log evidence, equal to the agent's file.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <cJSON.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/enrich.h"
#include "tests/testutil.h"
#include "tests/testutil_broker.h"
#include "tests/testutil_pg.h"

static const char *const golden[] = {
	"s7comm-snap7-s300-everything", "fins-tcp-commands",
	"modbus-umas-modicon",
};

static char tmp[512];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(tmp, sizeof(tmp), "record"), 0);
}

static void
teardown(void)
{
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tu_rmtree(tmp);
}

/* The golden runs' configuration, with evidence written below tmp. */
static void
write_conf(const char *conf, const char *evdir, const char *extra)
{
	char src[512], text[2048];

	tb_src_path(src, sizeof(src), "tests/golden/assets.csv");
	snprintf(text, sizeof(text),
	    "[agent]\nname = gw-golden\nsite = plant-g\nalert_window = 60\n"
	    "[assets]\nfile = %s\ncritical_step = 1\n"
	    "[evidence]\npackets = 5\nsnaplen = 1600\ndir = %s\n%s",
	    src, evdir, extra != NULL ? extra : "");
	ck_assert_int_eq(tu_write_file(conf, text, strlen(text)), 0);
	ck_assert_int_eq(mkdir(evdir, 0700) == 0 || errno == EEXIST, 1);
}

/* Replay pcap (a path) with conf; the alert lines as returned text. */
static char *
replay(const char *conf, const char *pcap)
{
	char agent[512];
	char *argv[] = { agent, (char *)"-c", (char *)conf, (char *)"-r",
	    (char *)pcap, (char *)"--no-mqtt", (char *)"--alerts-out",
	    (char *)"-", NULL };
	struct tu_result r;
	char *out;

	tu_agent_path(agent, sizeof(agent));
	ck_assert_int_eq(tu_run(argv, NULL, 120000, &r), 0);
	ck_assert_msg(r.exit_code == 0, "agent exit %d: %s", r.exit_code,
	    r.err);
	out = r.out;
	r.out = NULL;
	tu_result_free(&r);
	return out;
}

static cJSON *
parse_lines(const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = text, *nl;

	while (*p != '\0') {
		cJSON *o;

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		o = cJSON_ParseWithLength(p, (size_t)(nl - p));
		ck_assert_ptr_nonnull(o);
		cJSON_AddItemToArray(arr, o);
		p = *nl == '\n' ? nl + 1 : nl;
	}
	return arr;
}

static cJSON *
run_golden(const char *name, char *evdir, size_t evlen)
{
	char conf[600], pcap[600], file[600];
	char *out;
	cJSON *a;

	snprintf(conf, sizeof(conf), "%s/%s.conf", tmp, name);
	snprintf(evdir, evlen, "%s/ev-%s", tmp, name);
	write_conf(conf, evdir, NULL);
	snprintf(file, sizeof(file), "%s.pcap", name);
	tu_pcap_path(pcap, sizeof(pcap), file);
	out = replay(conf, pcap);
	a = parse_lines(out);
	free(out);
	return a;
}

START_TEST(test_golden_files)
{
	char conf[600], pcap[600], file[600], gold[600], evdir[600];
	char *out, *want;

	snprintf(conf, sizeof(conf), "%s/g.conf", tmp);
	snprintf(evdir, sizeof(evdir), "%s/ev", tmp);
	write_conf(conf, evdir, NULL);
	snprintf(file, sizeof(file), "%s.pcap", golden[_i]);
	tu_pcap_path(pcap, sizeof(pcap), file);
	out = replay(conf, pcap);
	snprintf(file, sizeof(file), "tests/golden/%s.jsonl", golden[_i]);
	want = tu_read_file(tb_src_path(gold, sizeof(gold), file), NULL);
	ck_assert_ptr_nonnull(want);
	ck_assert_uint_gt(tu_count_lines(want), 1);
	ck_assert_msg(strcmp(out, want) == 0, "%s: alerts differ from %s:\n%s",
	    golden[_i], gold, out);
	free(out);
	free(want);
}
END_TEST

static const cJSON *
find_rule(const cJSON *alerts, const char *rule, int nth)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, alerts) {
		const char *r = tu_json_str(a, "rule");

		if (r != NULL && strcmp(r, rule) == 0 && nth-- == 0)
			return a;
	}
	return NULL;
}

static void
sha256_file(const char *path, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	size_t len;
	char *d = tu_read_file(path, &len);

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(EVP_Digest(d, len, md, &n, EVP_sha256(), NULL), 1);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(d);
}

/* Every new field of one alert, asserted by value. */
START_TEST(test_fields_of_a_plc_stop)
{
	char evdir[600], path[700], sum[65];
	const cJSON *a, *t;
	cJSON *all;

	all = run_golden("s7comm-snap7-s300-everything", evdir, sizeof(evdir));
	a = find_rule(all, "s7.plc_stop", 0);
	ck_assert_ptr_nonnull(a);
	/* old fields keep their meaning */
	ck_assert_str_eq(tu_json_str(a, "detector"), "s7.plc_stop");
	ck_assert_str_eq(tu_json_str(a, "technique"), "T0858");
	ck_assert_str_eq(tu_json_str(a, "title"), "S7 PLC STOP command");
	ck_assert_str_eq(tu_json_str(a, "ts"), "2016-02-08T22:08:10.350892Z");
	ck_assert_str_eq(tu_json_str(a, "src.ip"), "134.217.61.131");
	ck_assert_int_eq((int)tu_json_num(a, "dst.port", 0), 102);
	/* flow */
	ck_assert_int_eq((int)tu_json_num(a, "flow_id", 0), 1);
	ck_assert_str_eq(tu_json_str(a, "community_id"),
	    "1:J2l9f4YrmSbWff3ILdntcGPgpDo=");
	ck_assert_int_eq((int)tu_json_num(a, "vlan", -1), 0);
	ck_assert_str_eq(tu_json_str(a, "transport"), "tcp");
	/* rule and ATT&CK */
	ck_assert_str_eq(tu_json_str(a, "rule"), "s7.plc_stop");
	ck_assert_int_eq((int)tu_json_num(a, "rule_rev", 0), 1);
	ck_assert_int_eq((int)tu_json_num(a, "sid", 0), 1001);
	ck_assert_str_eq(tu_json_str(a, "technique_name"),
	    "Change Operating Mode");
	ck_assert_str_eq(tu_json_str(a, "tactic"), "Execution");
	t = cJSON_GetObjectItem(a, "techniques");
	ck_assert(cJSON_IsArray(t));
	ck_assert_int_eq(cJSON_GetArraySize(t), 0);
	/* assets: the plant's file, and the MAC's vendor where it has none */
	ck_assert_str_eq(tu_json_str(a, "src.asset.name"), "eng-ws-1");
	ck_assert_str_eq(tu_json_str(a, "src.asset.role"),
	    "engineering station");
	ck_assert_str_eq(tu_json_str(a, "src.asset.grade"), "high");
	ck_assert_str_eq(tu_json_str(a, "src.asset.vendor"), "VMware, Inc.");
	ck_assert_str_eq(tu_json_str(a, "dst.asset.name"), "plc-s7-300");
	ck_assert_str_eq(tu_json_str(a, "dst.asset.grade"), "critical");
	ck_assert_str_eq(tu_json_str(a, "dst.asset.vendor"), "Siemens");
	ck_assert_str_eq(tu_json_str(a, "dst.asset.model"), "S7-300");
	/* sentences with the concrete hosts */
	ck_assert_str_eq(tu_json_str(a, "description"),
	    "134.217.61.131 (eng-ws-1) sent an S7 STOP command to the PLC "
	    "134.217.61.211 (plc-s7-300), halting its program.");
	ck_assert_str_eq(tu_json_str(a, "action"),
	    "Confirm with operations whether a stop of 134.217.61.211 "
	    "(plc-s7-300) was scheduled; if not, isolate 134.217.61.131 "
	    "(eng-ws-1) and restart the PLC under supervision.");
	/* critical already: no step; a medium upload to the PLC is raised */
	ck_assert_str_eq(tu_json_str(a, "severity"), "critical");
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "severity_raised_from"));
	a = find_rule(all, "s7.upload", 0);
	ck_assert_str_eq(tu_json_str(a, "severity"), "high");
	ck_assert_str_eq(tu_json_str(a, "severity_raised_from"), "medium");
	/* evidence: what the agent wrote, named by its hash in the record */
	a = find_rule(all, "s7.plc_stop", 0);
	ck_assert_int_eq((int)tu_json_num(a, "evidence.packets", 0), 5);
	snprintf(path, sizeof(path), "%s/%d.pcap", evdir,
	    (int)tu_json_num(a, "seq", 0));
	ck_assert_int_eq((int)tu_json_num(a, "evidence.bytes", 0),
	    (int)tu_file_size(path));
	sha256_file(path, sum);
	ck_assert_str_eq(tu_json_str(a, "evidence.sha256"), sum);
	cJSON_Delete(all);
}
END_TEST

/*
 * Without an assets file, the passive inventory names the PLC: vendor and
 * model from its own S7 SZL answer (module type), once it answered.
 */
START_TEST(test_inventory_names_the_plc)
{
	char conf[600], pcap[600], text[800];
	const cJSON *a;
	cJSON *all;
	char *out;

	snprintf(conf, sizeof(conf), "%s/inv.conf", tmp);
	snprintf(text, sizeof(text), "[agent]\nname = gw-inv\nsite = plant-g\n"
	    "[detector.assets]\nout = %s/inventory.json\n", tmp);
	ck_assert_int_eq(tu_write_file(conf, text, strlen(text)), 0);
	tu_pcap_path(pcap, sizeof(pcap), "s7comm-snap7-s300-everything.pcap");
	out = replay(conf, pcap);
	all = parse_lines(out);
	free(out);
	a = find_rule(all, "s7.plc_stop", 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "dst.asset.vendor"), "Siemens AG");
	ck_assert_str_eq(tu_json_str(a, "dst.asset.model"), "CPU 315-2 PN/DP");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a, "dst"), "asset"), "name")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a, "dst"), "asset"), "grade")));
	/* the first alert came before the PLC's answer: vendor from the OUI */
	a = find_rule(all, "s7.szl_identification", 0);
	ck_assert_str_eq(tu_json_str(a, "dst.asset.vendor"), "Siemens AG");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(a, "dst"), "asset"), "model")));
	/* no grade, no step: the STOP keeps its own severity */
	ck_assert_str_eq(tu_json_str(find_rule(all, "s7.upload", 0), "severity"),
	    "medium");
	cJSON_Delete(all);
}
END_TEST

/* Run tshark; its stdout (NULL when it failed). */
static char *
tshark(char *const argv[])
{
	struct tu_result r;
	char *out = NULL;

	ck_assert_int_eq(tu_run(argv, NULL, 60000, &r), 0);
	if (r.exit_code == 0) {
		out = r.out;
		r.out = NULL;
	}
	tu_result_free(&r);
	return out;
}

START_TEST(test_community_id_is_wiresharks)
{
	char evdir[600], pcap[600], file[600], cid[64];
	char *argv[] = { (char *)"/usr/bin/tshark", (char *)"-r", pcap,
	    (char *)"--enable-protocol", (char *)"communityid", (char *)"-T",
	    (char *)"fields", (char *)"-e", (char *)"communityid", NULL };
	const cJSON *a;
	cJSON *all;
	char *out;
	int n = 0;

	all = run_golden(golden[_i], evdir, sizeof(evdir));
	snprintf(file, sizeof(file), "%s.pcap", golden[_i]);
	tu_pcap_path(pcap, sizeof(pcap), file);
	out = tshark(argv);
	ck_assert_ptr_nonnull(out);
	cJSON_ArrayForEach(a, all) {
		const char *c = tu_json_str(a, "community_id");

		ck_assert_ptr_nonnull(c);
		snprintf(cid, sizeof(cid), "%s\n", c);
		ck_assert_msg(strstr(out, cid) != NULL, "%s: %s not among "
		    "Wireshark's community ids", golden[_i], c);
		n++;
	}
	ck_assert_int_gt(n, 1);
	free(out);
	cJSON_Delete(all);
}
END_TEST

struct frame {
	struct timeval	 ts;
	uint32_t	 caplen;
	unsigned char	*data;
};

static int last_dlt;

/* All frames of a pcap file (its link type in last_dlt). */
static size_t
read_frames(const char *path, struct frame **out)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct frame *v = NULL;
	size_t n = 0;
	pcap_t *p = pcap_open_offline(path, err);

	ck_assert_msg(p != NULL, "%s: %s", path, err);
	last_dlt = pcap_datalink(p);
	while (pcap_next_ex(p, &h, &d) == 1) {
		v = realloc(v, (n + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		v[n].ts = h->ts;
		v[n].caplen = h->caplen;
		v[n].data = malloc(h->caplen);
		memcpy(v[n].data, d, h->caplen);
		n++;
	}
	pcap_close(p);
	*out = v;
	return n;
}

static void
free_frames(struct frame *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

/*
 * The evidence of every alert that has one: tshark reads it, and its
 * frames are the last frames of the capture up to the alert's packet that
 * belong to the flow (all frames of these captures are of the one flow
 * alerts name, so: the N frames ending at the alert's time).
 */
START_TEST(test_evidence_is_the_triggering_packets)
{
	char evdir[600], pcap[600], file[700], sum[65];
	char *argv[] = { (char *)"/usr/bin/tshark", (char *)"-r", file,
	    (char *)"-T", (char *)"fields", (char *)"-e", (char *)"frame.number",
	    NULL };
	struct frame *orig, *ev;
	const struct frame **flow;
	size_t norig, nev, i, end, ip;
	int dlt;
	const cJSON *a;
	cJSON *all;
	int checked = 0;

	all = run_golden(golden[_i], evdir, sizeof(evdir));
	snprintf(file, sizeof(file), "%s.pcap", golden[_i]);
	tu_pcap_path(pcap, sizeof(pcap), file);
	norig = read_frames(pcap, &orig);
	dlt = last_dlt;
	ip = dlt == DLT_EN10MB ? 14 : 0;
	ck_assert(dlt == DLT_EN10MB || dlt == DLT_RAW || dlt == 12 ||
	    dlt == 228);
	flow = calloc(norig + 1, sizeof(*flow));
	ck_assert_ptr_nonnull(flow);
	cJSON_ArrayForEach(a, all) {
		long long ts_us;
		char *out;

		if (!cJSON_IsObject(cJSON_GetObjectItem(a, "evidence")))
			continue;
		snprintf(file, sizeof(file), "%s/%d.pcap", evdir,
		    (int)tu_json_num(a, "seq", 0));
		out = tshark(argv);
		ck_assert_msg(out != NULL, "tshark cannot read %s", file);
		ck_assert_uint_eq(tu_count_lines(out),
		    (size_t)tu_json_num(a, "evidence.packets", 0));
		free(out);
		sha256_file(file, sum);
		ck_assert_str_eq(tu_json_str(a, "evidence.sha256"), sum);
		nev = read_frames(file, &ev);
		ck_assert_int_eq(last_dlt, dlt);
		ck_assert_uint_eq(nev, (size_t)tu_json_num(a,
		    "evidence.packets", 0));
		/* the alert's packet: the last original frame at its time */
		{
			int y, mo, d, h, mi, s, us;
			struct tm tm;

			ck_assert_int_eq(sscanf(tu_json_str(a, "ts"),
			    "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s,
			    &us), 7);
			memset(&tm, 0, sizeof(tm));
			tm.tm_year = y - 1900;
			tm.tm_mon = mo - 1;
			tm.tm_mday = d;
			tm.tm_hour = h;
			tm.tm_min = mi;
			tm.tm_sec = s;
			ts_us = (long long)timegm(&tm) * 1000000 + us;
		}
		/* the flow's frames (Ethernet, IPv4: the alert's two hosts) */
		{
			uint8_t s4[4], d4[4];
			size_t nf = 0;

			ck_assert_int_eq(inet_pton(AF_INET, tu_json_str(a,
			    "src.ip"), s4), 1);
			ck_assert_int_eq(inet_pton(AF_INET, tu_json_str(a,
			    "dst.ip"), d4), 1);
			for (end = 0; end < norig; end++) {
				const unsigned char *f = orig[end].data;

				if ((long long)orig[end].ts.tv_sec * 1000000 +
				    orig[end].ts.tv_usec > ts_us)
					break;
				if (orig[end].caplen < ip + 20 || (ip == 14 &&
				    (f[12] != 8 || f[13] != 0)))
					continue;
				f += ip;
				if ((!memcmp(f + 12, s4, 4) &&
				    !memcmp(f + 16, d4, 4)) || (!memcmp(f + 12,
				    d4, 4) && !memcmp(f + 16, s4, 4)))
					flow[nf++] = &orig[end];
			}
			ck_assert_uint_ge(nf, nev);
			end = nf;
		}
		for (i = 0; i < nev; i++) {
			const struct frame *o = flow[end - nev + i];

			ck_assert_int_eq(ev[i].ts.tv_sec, o->ts.tv_sec);
			ck_assert_int_eq(ev[i].ts.tv_usec, o->ts.tv_usec);
			ck_assert_uint_eq(ev[i].caplen, o->caplen);
			ck_assert(memcmp(ev[i].data, o->data, o->caplen) == 0);
		}
		free_frames(ev, nev);
		checked++;
	}
	ck_assert_int_ge(checked, 1);
	free(flow);
	free_frames(orig, norig);
	cJSON_Delete(all);
}
END_TEST

/* Does any object below j name one key twice? The offending key, or NULL. */
static const char *
dup_key(const cJSON *j)
{
	const cJSON *a, *b;
	const char *d;

	cJSON_ArrayForEach(a, j) {
		if (cJSON_IsObject(j))
			for (b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return a->string;
		if ((cJSON_IsObject(a) || cJSON_IsArray(a)) &&
		    (d = dup_key(a)) != NULL)
			return d;
	}
	return NULL;
}

/*
 * Summaries of the factory attacks (a scan's details carry its own
 * window_s): every key once, the summary's window_s being the alert
 * window, as before the first alert's details were kept.
 */
START_TEST(test_summary_keys_once)
{
	char conf[600], pcap[600], evdir[600];
	const cJSON *a;
	cJSON *all;
	char *out;
	int sums = 0, scans = 0;

	snprintf(conf, sizeof(conf), "%s/f.conf", tmp);
	snprintf(evdir, sizeof(evdir), "%s/ev-f", tmp);
	write_conf(conf, evdir, "[policy]\nmodbus_writers = 10.10.1.30\n");
	tu_build_path(pcap, sizeof(pcap), "scenarios/factory-attacks.pcap");
	out = replay(conf, pcap);
	all = parse_lines(out);
	free(out);
	cJSON_ArrayForEach(a, all) {
		const char *d = dup_key(a);

		ck_assert_msg(d == NULL, "key %s twice in seq %d", d,
		    (int)tu_json_num(a, "seq", -1));
		if (!cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
		    "details"), "summary")))
			continue;
		sums++;
		ck_assert_int_eq((int)tu_json_num(a, "details.window_s", -1),
		    60);
		scans += strcmp(tu_json_str(a, "detector"), "net.port_scan") == 0;
	}
	ck_assert_int_ge(sums, 2);
	ck_assert_int_ge(scans, 1);
	cJSON_Delete(all);
}
END_TEST

/* A summary repeats the first alert: its details, flow, assets, rule. */
START_TEST(test_summary_keeps_the_first_alert)
{
	const cJSON *first, *sum, *it;
	char evdir[600];
	cJSON *all;

	all = run_golden("s7comm-snap7-s300-everything", evdir, sizeof(evdir));
	first = find_rule(all, "s7.upload", 0);
	sum = find_rule(all, "s7.upload", 1);
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(sum);
	ck_assert_str_eq(tu_json_str(sum, "title"),
	    "S7 program block upload (repeated 12 more times)");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(sum,
	    "details"), "summary")));
	ck_assert_int_eq((int)tu_json_num(sum, "details.count", 0), 12);
	ck_assert_str_eq(tu_json_str(sum, "details.first_ts"),
	    "2016-02-08T22:08:10.014330Z");
	ck_assert_str_eq(tu_json_str(sum, "details.last_ts"),
	    "2016-02-08T22:08:10.309923Z");
	ck_assert_int_eq((int)tu_json_num(sum, "details.summary_of", 0),
	    (int)tu_json_num(first, "seq", 0));
	/* the first alert's own details, unchanged */
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(first, "details"))
		ck_assert_msg(cJSON_Compare(it, cJSON_GetObjectItem(
		    cJSON_GetObjectItem(sum, "details"), it->string), 1),
		    "summary lost details.%s", it->string);
	ck_assert_str_eq(tu_json_str(sum, "details.function_name"),
	    "Start upload");
	/* and its context */
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(first, "src"),
	    cJSON_GetObjectItem(sum, "src"), 1));
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(first, "dst"),
	    cJSON_GetObjectItem(sum, "dst"), 1));
	ck_assert_str_eq(tu_json_str(sum, "community_id"),
	    tu_json_str(first, "community_id"));
	ck_assert_str_eq(tu_json_str(sum, "description"),
	    tu_json_str(first, "description"));
	ck_assert_str_eq(tu_json_str(sum, "severity"), "high");
	cJSON_Delete(all);
}
END_TEST

static int
ts_cmp(const cJSON *a, const cJSON *b)
{
	return strcmp(tu_json_str(a, "ts"), tu_json_str(b, "ts"));
}

/*
 * fast-attacks under the eval policy: the intruder's DNP3 cold restart is
 * also a request from a host that is no master of the RTU: one packet,
 * one alert with both reasons; no other packet raised two; time order.
 */
START_TEST(test_one_packet_one_alert_in_time_order)
{
	char conf[600], pcap[4096], evdir[600], src[512], extra[700];
	const cJSON *a, *b, *r;
	char *out;
	cJSON *all;
	int n = 0;

	snprintf(conf, sizeof(conf), "%s/fa.conf", tmp);
	snprintf(evdir, sizeof(evdir), "%s/ev-fa", tmp);
	tb_src_path(src, sizeof(src), "tests/eval/factory.conf");
	out = tu_read_file(src, NULL);
	ck_assert_ptr_nonnull(out);
	/* the eval's [policy] and detector sections, our [agent] */
	snprintf(extra, sizeof(extra), "%s", strstr(out, "[policy]"));
	free(out);
	write_conf(conf, evdir, extra);
	snprintf(pcap, sizeof(pcap), "%s/scenarios/fast-attacks.pcap",
	    tu_build_dir());
	out = replay(conf, pcap);
	all = parse_lines(out);
	free(out);
	ck_assert_int_ge(cJSON_GetArraySize(all), 10);
	a = find_rule(all, "dnp3.restart", 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(tu_json_str(a, "severity"), "critical");
	r = cJSON_GetObjectItem(a, "reasons");
	ck_assert_int_eq(cJSON_GetArraySize(r), 2);
	ck_assert_str_eq(cJSON_GetArrayItem(r, 0)->valuestring, "dnp3.restart");
	ck_assert_str_eq(cJSON_GetArrayItem(r, 1)->valuestring,
	    "roles.rogue_master");
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(a,
	    "correlated"), 0), "rule"), "roles.rogue_master");
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(a,
	    "correlated"), 0), "technique"), "T0848");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(a,
	    "techniques"), 0)->valuestring, "T0848");
	ck_assert_ptr_null(find_rule(all, "roles.rogue_master", 0));
	/* capture-time order, and never two alerts of one packet and pair */
	cJSON_ArrayForEach(a, all) {
		for (b = a->next; b != NULL; b = b->next) {
			const char *sa = tu_json_str(a, "src.ip"),
			    *sb = tu_json_str(b, "src.ip"),
			    *da = tu_json_str(a, "dst.ip"),
			    *db = tu_json_str(b, "dst.ip");

			if (ts_cmp(a, b) != 0 || cJSON_IsTrue(
			    cJSON_GetObjectItem(cJSON_GetObjectItem(b,
			    "details"), "summary")))
				continue;
			ck_assert_msg(!((sa == sb || (sa && sb && !strcmp(sa,
			    sb))) && (da == db || (da && db && !strcmp(da,
			    db)))), "two alerts of one packet: seq %d and %d",
			    (int)tu_json_num(a, "seq", 0),
			    (int)tu_json_num(b, "seq", 0));
		}
		if (a->next != NULL)
			ck_assert_msg(ts_cmp(a, a->next) <= 0, "seq %d at %s "
			    "after seq %d at %s", (int)tu_json_num(a->next,
			    "seq", 0), tu_json_str(a->next, "ts"),
			    (int)tu_json_num(a, "seq", 0), tu_json_str(a, "ts"));
		n++;
	}
	cJSON_Delete(all);
	/* the long factory capture too: time order across summaries */
	snprintf(pcap, sizeof(pcap), "%s/scenarios/factory-attacks.pcap",
	    tu_build_dir());
	out = replay(conf, pcap);
	all = parse_lines(out);
	free(out);
	ck_assert_int_ge(cJSON_GetArraySize(all), 15);
	cJSON_ArrayForEach(a, all)
		if (a->next != NULL)
			ck_assert_msg(ts_cmp(a, a->next) <= 0, "factory: seq %d "
			    "at %s after seq %d at %s", (int)tu_json_num(a->next,
			    "seq", 0), tu_json_str(a->next, "ts"),
			    (int)tu_json_num(a, "seq", 0), tu_json_str(a, "ts"));
	cJSON_Delete(all);
}
END_TEST

static struct tp_pg PG;
static int pg_ok;

/* icsentry-log evidence SITE/AGENT SEQ --db db into out; its exit code. */
static int
log_evidence(const char *db, int seq, const char *out)
{
	char bin[300], s[16];
	char *argv[] = { bin, (char *)"evidence", (char *)"--db", (char *)db,
	    (char *)"plant-g/gw-golden", s, NULL };

	snprintf(s, sizeof(s), "%d", seq);
	tb_build_path(bin, sizeof(bin), "icsentry-log");
	return tb_run(argv, out, 20000);
}

/*
 * The agent sends each evidence pcap over MQTT; collectors on SQLite and
 * on PostgreSQL store it; icsentry-log evidence writes the same bytes the
 * agent kept, and tshark opens them.
 */
START_TEST(test_evidence_over_mqtt_into_both_backends)
{
	char conf[600], evdir[600], pcap[600], db[600], pguri[300], uri[64];
	char bin[300], cout1[600], cout2[600], aout[600], mq[800], out[700];
	char want[700];
	char *c1[] = { bin, (char *)"--mqtt", uri, (char *)"--db", db,
	    (char *)"--client-id", (char *)"rec-sqlite", NULL };
	char *c2[] = { bin, (char *)"--mqtt", uri, (char *)"--db", pguri,
	    (char *)"--client-id", (char *)"rec-pg", NULL };
	char *ts[] = { (char *)"/usr/bin/tshark", (char *)"-r", out, NULL };
	const char *dbs[2];
	struct tb_broker b;
	pid_t p1, p2;
	char *text, *a, *e;
	size_t alen, elen;
	cJSON *all;
	int k, seq, t0;

	ck_assert_msg(pg_ok, "PostgreSQL did not start");
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(tb_broker_start(&b), 0);
	tb_broker_uri(&b, uri, sizeof(uri));
	snprintf(db, sizeof(db), "%s/central.db", tmp);
	ck_assert_int_eq(tp_pg_createdb(&PG, "record"), 0);
	tp_pg_uri(&PG, "record", pguri, sizeof(pguri));
	snprintf(cout1, sizeof(cout1), "%s/c1.out", tmp);
	snprintf(cout2, sizeof(cout2), "%s/c2.out", tmp);
	tb_build_path(bin, sizeof(bin), "icsentry-collector");
	p1 = tb_spawn(c1, cout1);
	p2 = tb_spawn(c2, cout2);
	ck_assert_int_eq(tb_wait_file_contains(cout1, "subscribed", 10000), 0);
	ck_assert_int_eq(tb_wait_file_contains(cout2, "subscribed", 10000), 0);
	ck_assert_int_eq(tb_file_count(cout1, "evidence/+"), 1);

	snprintf(conf, sizeof(conf), "%s/mqtt.conf", tmp);
	snprintf(evdir, sizeof(evdir), "%s/ev-mqtt", tmp);
	snprintf(mq, sizeof(mq), "[mqtt]\nuri = %s\npersist_dir = %s/mq\n"
	    "stats_interval = 0\n", uri, tmp);
	write_conf(conf, evdir, mq);
	tu_pcap_path(pcap, sizeof(pcap), "s7comm-snap7-s300-everything.pcap");
	snprintf(aout, sizeof(aout), "%s/agent.out", tmp);
	{
		char agent[300];
		char *av[] = { agent, (char *)"-c", conf, (char *)"-r", pcap,
		    (char *)"--alerts-out", out, NULL };

		snprintf(out, sizeof(out), "%s/alerts.jsonl", tmp);
		tu_agent_path(agent, sizeof(agent));
		ck_assert_int_eq(tb_run(av, aout, 60000), 0);
	}
	text = tu_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	all = parse_lines(text);
	free(text);
	dbs[0] = db;
	dbs[1] = pguri;
	for (k = 0; k < 2; k++) {
		const cJSON *al;
		int n = 0;

		cJSON_ArrayForEach(al, all) {
			if (!cJSON_IsObject(cJSON_GetObjectItem(al, "evidence")))
				continue;
			seq = (int)tu_json_num(al, "seq", 0);
			snprintf(out, sizeof(out), "%s/out-%d-%d.pcap", tmp, k,
			    seq);
			for (t0 = 0; t0 < 150; t0++) {
				if (log_evidence(dbs[k], seq, out) == 0)
					break;
				tb_sleep_ms(100);
			}
			ck_assert_msg(t0 < 150, "%s: no evidence for seq %d",
			    k == 0 ? "SQLite" : "PostgreSQL", seq);
			snprintf(want, sizeof(want), "%s/%d.pcap", evdir, seq);
			a = tu_read_file(out, &alen);
			e = tu_read_file(want, &elen);
			ck_assert_ptr_nonnull(a);
			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(alen, elen);
			ck_assert(memcmp(a, e, elen) == 0);
			free(a);
			free(e);
			text = tshark(ts);
			ck_assert_ptr_nonnull(text);
			ck_assert_uint_eq(tu_count_lines(text),
			    (size_t)tu_json_num(al, "evidence.packets", 0));
			free(text);
			n++;
		}
		ck_assert_int_eq(n, 5);
		/* a seq without evidence: exit 1 */
		snprintf(out, sizeof(out), "%s/none.pcap", tmp);
		ck_assert_int_eq(log_evidence(dbs[k], 999, out), 1);
	}
	cJSON_Delete(all);
	tb_stop_pid(p1, SIGTERM, 5000, NULL);
	tb_stop_pid(p2, SIGTERM, 5000, NULL);
	tb_broker_cleanup(&b);
}
END_TEST

/*
 * Every alert kind a detector raises has its rules.def line (sid,
 * description, action): the detectors' sources are scanned for the
 * quoted "family.rule" names they raise.
 */
static bool
is_rule_name(const char *p, size_t n)
{
	static const char *const fam[] = { "s7", "modbus", "dnp3", "iec104",
	    "cip", "enip", "bacnet", "opcua", "fins", "mms", "goose", "sv",
	    "profinet", "mqtt", "net", "roles", "stackfp", "channel",
	    "baseline", "intel", "cycle", "envelope", "conv", "replay" };
	const char *dot = memchr(p, '.', n);
	size_t i, k;

	if (dot == NULL || dot == p || dot + 1 == p + n)
		return false;
	for (k = 0; k < n; k++)
		if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') ||
		    p[k] == '_' || p + k == dot))
			return false;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (strlen(fam[i]) == (size_t)(dot - p) &&
		    memcmp(fam[i], p, (size_t)(dot - p)) == 0)
			return true;
	return false;
}

START_TEST(test_every_detector_name_has_a_rule)
{
	char cmd[] = "ls detectors/*.c", path[512], name[128], *text;
	FILE *ls = popen(cmd, "r");
	int files = 0, names = 0;

	ck_assert_ptr_nonnull(ls);
	while (fgets(path, sizeof(path), ls) != NULL) {
		size_t len;
		char *p, *q;

		path[strcspn(path, "\n")] = '\0';
		text = tu_read_file(path, &len);
		ck_assert_msg(text != NULL, "%s unreadable", path);
		files++;
		for (p = text; (p = strchr(p, '"')) != NULL; p = q + 1) {
			if ((q = strchr(p + 1, '"')) == NULL)
				break;
			if ((size_t)(q - p - 1) >= sizeof(name) ||
			    !is_rule_name(p + 1, (size_t)(q - p - 1)))
				continue;
			memcpy(name, p + 1, (size_t)(q - p - 1));
			name[q - p - 1] = '\0';
			names++;
			ck_assert_msg(rule_lookup(name) != NULL,
			    "%s raises %s, which has no line in agent/rules.def",
			    path, name);
		}
		free(text);
	}
	pclose(ls);
	ck_assert_int_gt(files, 30);
	ck_assert_int_gt(names, 100);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("alert_record");
	TCase *tc = tcase_create("record");
	int n = (int)(sizeof(golden) / sizeof(golden[0]));

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_golden_files, 0, n);
	tcase_add_test(tc, test_every_detector_name_has_a_rule);
	tcase_add_test(tc, test_fields_of_a_plc_stop);
	tcase_add_test(tc, test_inventory_names_the_plc);
	tcase_add_loop_test(tc, test_community_id_is_wiresharks, 0, n);
	tcase_add_loop_test(tc, test_evidence_is_the_triggering_packets, 0, n);
	tcase_add_test(tc, test_summary_keeps_the_first_alert);
	tcase_add_test(tc, test_summary_keys_once);
	tcase_add_test(tc, test_one_packet_one_alert_in_time_order);
	tcase_add_test(tc, test_evidence_over_mqtt_into_both_backends);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(record_suite());
	int failed;

	pg_ok = tp_pg_start(&PG) == 0;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tp_pg_cleanup(&PG);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
