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

/* ---- MMS over several COTP DT TPDUs (end-of-TSDU 0, 0, 1) ------------- */

/* write LD0/XCBR1$CO$Pos$Oper := true, the user data of one COTP TSDU:
 * session GT+DT, presentation, confirmed-RequestPDU write (ISO 9506-2) */
static const uint8_t mms_write_tsdu[] = {
	0x01, 0x00, 0x01, 0x00, 0x61, 0x33, 0x30, 0x31, 0x02, 0x01, 0x03,
	0xa0, 0x2c, 0xa0, 0x2a, 0x02, 0x01, 0x07, 0xa5, 0x25, 0xa0, 0x1e,
	0x30, 0x1c, 0xa0, 0x1a, 0xa1, 0x18, 0x1a, 0x03, 0x4c, 0x44, 0x30,
	0x1a, 0x11, 0x58, 0x43, 0x42, 0x52, 0x31, 0x24, 0x43, 0x4f, 0x24, 0x50,
	0x6f, 0x73, 0x24, 0x4f, 0x70, 0x65, 0x72, 0xa0, 0x03, 0x83, 0x01, 0x01,
};

static void
be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

/*
 * A pcap of 10.20.1.99:40100 -> 10.20.1.10:102: the handshake, then the
 * client's stream cut into TCP segments of at most seg bytes.
 */
static void
write_cotp_pcap(const char *path, const uint8_t *stream, size_t n, size_t seg)
{
	static const uint8_t ghdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0
	};
	uint8_t pkt[54 + 1500], rec[16];
	uint32_t cseq = 7000, off = 0, k = 0;
	size_t plen, i;
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_le(seg, 1500);
	ck_assert_uint_eq(fwrite(ghdr, 1, sizeof(ghdr), f), sizeof(ghdr));
	for (k = 0; k < 3 || off < n; k++) {
		int c2s = k != 1;
		uint32_t sum = 0, len;

		plen = k < 3 ? 0 : (n - off < seg ? n - off : seg);
		len = (uint32_t)(54 + plen);
		memset(pkt, 0, len);
		memcpy(pkt, c2s ? "\x00\x0a\x35\x00\x00\x10\x02\x00\x00\x00\x00\x99" :
		    "\x02\x00\x00\x00\x00\x99\x00\x0a\x35\x00\x00\x10", 12);
		be16(pkt + 12, 0x0800);
		pkt[14] = 0x45;
		be16(pkt + 16, (unsigned)(40 + plen));
		pkt[22] = 64;
		pkt[23] = 6;
		memcpy(pkt + 26, c2s ? "\x0a\x14\x01\x63\x0a\x14\x01\x0a" :
		    "\x0a\x14\x01\x0a\x0a\x14\x01\x63", 8);
		for (i = 14; i < 34; i += 2)
			sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		be16(pkt + 24, ~sum & 0xffff);
		be16(pkt + 34, c2s ? 40100 : 102);
		be16(pkt + 36, c2s ? 102 : 40100);
		be32(pkt + 38, c2s ? cseq + (k >= 2) + off : 9000);
		be32(pkt + 42, k == 0 ? 0 : c2s ? 9001 : cseq + 1);
		pkt[46] = 0x50;
		pkt[47] = k == 0 ? 0x02 : k == 1 ? 0x12 : k == 2 ? 0x10 : 0x18;
		be16(pkt + 48, 64240);
		memcpy(pkt + 54, stream + off, plen);
		off += (uint32_t)plen;
		memset(rec, 0, sizeof(rec));
		rec[0] = 0x00; rec[1] = 0x60; rec[2] = 0x41; rec[3] = 0x66;
		rec[4] = (uint8_t)k;		/* usec: in order */
		for (i = 0; i < 4; i++) {
			rec[8 + i] = (uint8_t)(len >> (8 * i));
			rec[12 + i] = (uint8_t)(len >> (8 * i));
		}
		ck_assert_uint_eq(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
		ck_assert_uint_eq(fwrite(pkt, 1, len, f), len);
	}
	fclose(f);
}

/* Wrap data[0..n) in TPDUs of at most piece user bytes each; the stream. */
static size_t
cotp_pieces(const uint8_t *data, size_t n, size_t piece, uint8_t *out)
{
	size_t off = 0, len = 0, k;

	while (off < n) {
		k = n - off < piece ? n - off : piece;
		be16(out + len, 0x0300);
		be16(out + len + 2, (unsigned)(7 + k));
		out[len + 4] = 2;
		out[len + 5] = 0xf0;
		out[len + 6] = off + k == n ? 0x80 : 0x00;	/* EOT on the last */
		memcpy(out + len + 7, data + off, k);
		len += 7 + k;
		off += k;
	}
	return len;
}

START_TEST(test_mms_cotp_segments)
{
	uint8_t stream[8192], big[4000];
	char pcap[600], conf[600];
	cJSON *alerts, *stats = NULL, *a;
	size_t n;
	int writes = 0;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/mms.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = mms-split\nsite = test\nalert_window = 0\n"
	    "[policy]\nmms_writers = 10.20.1.30\n"
	    "[flows]\nmax_reasm_bytes = 1024\n");
	fclose(f);
	snprintf(pcap, sizeof(pcap), "%s/mms-split.pcap", dir);
	/* three TPDUs of 20, 20 and 17 user bytes; TCP segments of 30 bytes
	 * cut through the TPKT frames too */
	n = cotp_pieces(mms_write_tsdu, sizeof(mms_write_tsdu), 20, stream);
	ck_assert_uint_eq(n, sizeof(mms_write_tsdu) + 3 * 7);
	write_cotp_pcap(pcap, stream, n, 30);
	alerts = agent(pcap, conf, NULL, NULL, &stats);
	ck_assert_ptr_nonnull(stats);
	ck_assert_int_eq(tu_json_num(stats, "pdus.iec61850-mms", -1), 1);
	ck_assert_int_eq(tu_json_num(stats, "malformed.iec61850-mms", -1), 0);
	ck_assert_int_eq(tu_json_num(stats, "malformed.s7comm", -1), 0);
	cJSON_ArrayForEach(a, alerts)
		if (strcmp(tu_json_str(a, "detector"), "mms.unauthorized_write") == 0) {
			ck_assert_str_eq(tu_json_str(a, "details.domain"), "LD0");
			ck_assert_str_eq(tu_json_str(a, "details.name"),
			    "XCBR1$CO$Pos$Oper");
			ck_assert_str_eq(tu_json_str(a, "src.ip"), "10.20.1.99");
			writes++;
		}
	ck_assert_int_eq(writes, 1);
	cJSON_Delete(alerts);
	cJSON_Delete(stats);

	/* one byte per TPDU: 57 TPDUs, one segment each */
	n = cotp_pieces(mms_write_tsdu, sizeof(mms_write_tsdu), 1, stream);
	write_cotp_pcap(pcap, stream, n, 8);
	alerts = agent(pcap, conf, NULL, NULL, &stats);
	ck_assert_int_eq(tu_json_num(stats, "pdus.iec61850-mms", -1), 1);
	cJSON_Delete(alerts);
	cJSON_Delete(stats);

	/*
	 * Bounded: a TSDU larger than max_reasm_bytes (1024) is dropped and
	 * counted, its later pieces too (no malformed PDU from the tail), and
	 * the write after it still parses.
	 */
	memset(big, 0, sizeof(big));
	memcpy(big, mms_write_tsdu, sizeof(mms_write_tsdu));
	n = cotp_pieces(big, 3000, 500, stream);
	n += cotp_pieces(mms_write_tsdu, sizeof(mms_write_tsdu), 20, stream + n);
	write_cotp_pcap(pcap, stream, n, 400);
	alerts = agent(pcap, conf, NULL, NULL, &stats);
	ck_assert_int_eq(tu_json_num(stats, "reassembly.oversize", -1), 1);
	ck_assert_int_eq(tu_json_num(stats, "pdus.iec61850-mms", -1), 1);
	ck_assert_int_eq(tu_json_num(stats, "malformed.iec61850-mms", -1), 0);
	cJSON_Delete(alerts);
	cJSON_Delete(stats);
}
END_TEST

/* ---- the learned baseline covers layer 2 (baseline_l2.c) ------------ */

/* Alerts of the baseline.l2_* rules as "detector|changed|mac" lines. */
static char *
l2_alerts(cJSON *alerts, int *n)
{
	static char out[2048];
	cJSON *a;
	size_t len = 0;

	*n = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(a, alerts) {
		cJSON *f = a, *corr = cJSON_GetObjectItem(a, "correlated");
		int k = -1;

		/* the alert, then the findings folded into it (same packet) */
		for (; f != NULL; f = cJSON_GetArrayItem(corr, ++k)) {
			const char *d = tu_json_str(f, k < 0 ? "detector" : "rule");

			if (d == NULL || strncmp(d, "baseline.l2_", 12) != 0)
				continue;
			const char *c = tu_json_str(f, "details.changed");

			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    "%s|%s|%s\n", d, c != NULL ? c : "-",
			    tu_json_str(f, "details.mac"));
			(*n)++;
		}
	}
	return out;
}

START_TEST(test_baseline_l2)
{
	char conf[600], bl[600], pcap[600], *text, *again;
	cJSON *alerts, *root, *g;
	size_t len, len2;
	int n;
	FILE *f;

	generate(NULL);
	snprintf(bl, sizeof(bl), "%s/baseline.json", dir);
	snprintf(conf, sizeof(conf), "%s/learn.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = l2\nsite = test\nalert_window = 0\n"
	    "[detector.baseline]\nlearn = %s\n", bl);
	fclose(f);
	snprintf(pcap, sizeof(pcap), "%s/l2-benign.pcap", dir);
	cJSON_Delete(agent(pcap, conf, NULL, NULL, NULL));
	text = tu_read_file(bl, &len);
	ck_assert_ptr_nonnull(text);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	g = cJSON_GetObjectItem(root, "l2_goose");
	ck_assert_int_eq(cJSON_GetArraySize(g), 3);
	/* sorted by gocbRef: BAY1, IED1 (one trip in a window), IED2 */
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(g, 1), "gocb_ref"),
	    "IED1LD0/LLN0$GO$gcbTrip");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(g, 1), "publishers"), 0)->valuestring,
	    "00:30:a7:00:00:01");
	ck_assert_int_eq(tu_json_num(cJSON_GetArrayItem(g, 1), "appid", -1),
	    0x3001);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(g, 1), "dat_set"),
	    "IED1LD0/LLN0$DS1");
	ck_assert_int_eq(tu_json_num(cJSON_GetArrayItem(g, 1),
	    "max_state_changes_per_window", -1), 1);
	ck_assert_int_eq(tu_json_num(cJSON_GetArrayItem(g, 2),
	    "max_state_changes_per_window", -1), 0);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    root, "l2_sv"), 0), "sv_id"), "MU1SV");
	g = cJSON_GetObjectItem(root, "l2_dcp");
	ck_assert_int_eq(cJSON_GetArraySize(g), 2);
	ck_assert_str_eq(tu_json_str(cJSON_GetArrayItem(g, 0),
	    "name_of_station"), "plc-1");
	ck_assert_int_eq(tu_json_num(cJSON_GetArrayItem(g, 0), "device_id", -1),
	    0x010d);
	cJSON_Delete(root);
	/* learning the same traffic again into the file changes nothing
	 * but the times: the l2 member reads back and writes out the same */
	cJSON_Delete(agent(pcap, conf, NULL, NULL, NULL));
	again = tu_read_file(bl, &len2);
	ck_assert_ptr_nonnull(again);
	ck_assert_str_eq(strstr(again, "\"l2_goose\""), strstr(text,
	    "\"l2_goose\""));
	free(again);
	free(text);

	/* detecting against it */
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[agent]\nname = l2\nsite = test\nalert_window = 0\n"
	    "[detector.baseline]\nfile = %s\n", bl);
	fclose(f);
	alerts = agent(pcap, conf, NULL, NULL, NULL);
	l2_alerts(alerts, &n);
	ck_assert_int_eq(n, 0);			/* the learned traffic: quiet */
	cJSON_Delete(alerts);
	snprintf(pcap, sizeof(pcap), "%s/l2-attacks.pcap", dir);
	alerts = agent(pcap, conf, NULL, NULL, NULL);
	text = l2_alerts(alerts, &n);
	ck_assert_msg(n == 3, "%s", text);
	ck_assert(tu_contains(text, "baseline.l2_new_publisher|mac|02:00:00:00:00:66\n"));
	ck_assert(tu_contains(text, "baseline.l2_changed|conf_rev|02:00:00:00:00:66\n"));
	cJSON_Delete(alerts);
	/* a burst of valid-looking state changes, a renamed and a new station */
	snprintf(pcap, sizeof(pcap), "%s/l2-drift.pcap", dir);
	alerts = agent(pcap, conf, NULL, NULL, NULL);
	text = l2_alerts(alerts, &n);
	ck_assert_msg(n == 3, "%s", text);
	ck_assert_msg(tu_contains(text, "baseline.l2_state_rate|-|00:30:a7:00:00:02\n"), "%s", text);
	ck_assert(tu_contains(text, "baseline.l2_changed|name_of_station|00:1b:1b:00:00:0a\n"));
	ck_assert(tu_contains(text, "baseline.l2_new_station|-|02:00:00:00:00:66\n"));
	/* the GOOSE rules see nothing wrong in the burst: only the baseline */
	{
		cJSON *a;

		cJSON_ArrayForEach(a, alerts)
			ck_assert_msg(strncmp(tu_json_str(a, "detector"), "goose.",
			    6) != 0, "%s", tu_json_str(a, "detector"));
	}
	cJSON_Delete(alerts);

	/* a publisher the baseline never saw: another substation's GOOSE */
	tu_pcap_path(pcap, sizeof(pcap), "goose-icsnpp.pcap");
	alerts = agent(pcap, conf, NULL, NULL, NULL);
	text = l2_alerts(alerts, &n);
	ck_assert_msg(n >= 1, "%s", text);
	ck_assert(tu_contains(text, "baseline.l2_new_stream|"));
	cJSON_Delete(alerts);
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
	tcase_add_test(ts, test_mms_cotp_segments);
	tcase_add_test(ts, test_baseline_l2);
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
