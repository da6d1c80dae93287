/*
 * check_replay.c - the real agent ($ICSENTRY_BUILD/icsentry-agent) on the
 * real captures in $SHARED/pcaps.
 *
 * Every capture is replayed once, before the tests run (an unchecked
 * fixture, so the forked tests inherit the results), with
 *   icsentry-agent -r FILE --stats --flows-out -
 * keeping the exit code, the flows (stdout, JSON lines) and the statistics
 * (the JSON object on stderr).  The expected values come from
 * $SHARED/pcaps/MANIFEST.md (packet counts, nDPI 4.2's flow counts) and
 * from tshark 4.0 (conversation counts, expert errors) as noted per test.
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

#define MAX_CAPS	256
#define RUN_TIMEOUT_MS	(120 * 1000)

struct replay {
	char	 name[256];	/* a d_name fits */
	int	 exit_code;
	bool	 timed_out;
	char	*err;		/* stderr */
	size_t	 err_lines;
	cJSON	*stats;		/* last stderr line parsed, or NULL */
	cJSON	*flows;		/* array of flow objects (stdout) */
	int	 bad_lines;	/* stdout lines that are not JSON */
	long	 manifest_pkts;	/* from MANIFEST.md, -1 if not listed */
};

static struct replay caps[MAX_CAPS];
static size_t ncaps;

/* ---- manifest ----------------------------------------------------------- */

/* The "pkts" column of name's row in the overview table, or -1. */
static long
manifest_pkts(const char *manifest, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (manifest == NULL)
		return -1;
	/* a row: "| name | ICS protocols | pkts | bytes | ..." */
	for (p = strstr(manifest, "\n| "); p != NULL;
	    p = strstr(p + 1, "\n| ")) {
		if (strncmp(p + 3, name, n) != 0 || strncmp(p + 3 + n, " |", 2))
			continue;
		p = strchr(p + 3 + n + 2, '|');
		return p != NULL ? strtol(p + 1, NULL, 10) : -1;
	}
	return -1;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct replay *)a)->name,
	    ((const struct replay *)b)->name);
}

static bool
is_capture(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".pcap") == 0) ||
	    (n > 7 && strcmp(name + n - 7, ".pcapng") == 0);
}

static void
replay_one(struct replay *r)
{
	char agent[512], file[512];
	char *argv[] = { agent, "-r", file, "--stats", "--flows-out", "-", NULL };
	struct tu_result res;

	tu_agent_path(agent, sizeof(agent));
	tu_pcap_path(file, sizeof(file), r->name);
	tu_run(argv, NULL, RUN_TIMEOUT_MS, &res);
	r->exit_code = res.exit_code;
	r->timed_out = res.timed_out;
	r->err = res.err;
	res.err = NULL;
	r->err_lines = tu_count_lines(r->err);
	r->stats = tu_json_last_line(r->err);
	r->flows = tu_json_lines(res.out, &r->bad_lines);
	tu_result_free(&res);
}

/* Unchecked fixture: replay every capture once. */
static void
replay_all(void)
{
	char dir[512], mpath[600];
	struct dirent *de;
	char *manifest;
	DIR *d;
	size_t i;

	tu_pcap_path(dir, sizeof(dir), NULL);
	snprintf(mpath, sizeof(mpath), "%s/MANIFEST.md", dir);
	manifest = tu_read_file(mpath, NULL);
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "check_replay: cannot open %s\n", dir);
		free(manifest);
		return;
	}
	while ((de = readdir(d)) != NULL && ncaps < MAX_CAPS)
		if (is_capture(de->d_name))
			snprintf(caps[ncaps++].name, sizeof(caps[0].name), "%s",
			    de->d_name);
	closedir(d);
	qsort(caps, ncaps, sizeof(caps[0]), cmp_name);
	for (i = 0; i < ncaps; i++) {
		caps[i].manifest_pkts = manifest_pkts(manifest, caps[i].name);
		replay_one(&caps[i]);
	}
	free(manifest);
}

static void
free_all(void)
{
	size_t i;

	for (i = 0; i < ncaps; i++) {
		free(caps[i].err);
		cJSON_Delete(caps[i].stats);
		cJSON_Delete(caps[i].flows);
	}
	ncaps = 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const struct replay *
get(const char *name)
{
	size_t i;

	for (i = 0; i < ncaps; i++)
		if (strcmp(caps[i].name, name) == 0) {
			ck_assert_msg(caps[i].exit_code == 0,
			    "%s: exit %d, stderr: %s", name, caps[i].exit_code,
			    caps[i].err);
			ck_assert_msg(caps[i].stats != NULL,
			    "%s: no --stats JSON", name);
			return &caps[i];
		}
	ck_abort_msg("%s: not among the captures in %s/pcaps", name,
	    tu_shared_dir());
	return NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
port(const cJSON *flow, const char *side)
{
	char path[32];

	snprintf(path, sizeof(path), "%s.port", side);
	return (int)tu_json_num(flow, path, -1);
}

static bool
on_port(const cJSON *flow, int p)
{
	return port(flow, "src") == p || port(flow, "dst") == p;
}

static const char *
fstr(const cJSON *flow, const char *key)
{
	const char *s = tu_json_str(flow, key);

	return s != NULL ? s : "(missing)";
}

static long
fpkts(const cJSON *flow)
{
	return (long)(tu_json_num(flow, "pkts_c2s", 0) +
	    tu_json_num(flow, "pkts_s2c", 0));
}

/* Append a failure line to buf. */
static void
note(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 2 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	used = strlen(buf);
	if (used + 1 < len) {
		buf[used] = '\n';
		buf[used + 1] = '\0';
	}
}

static bool
str_in(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/*
 * For every capture whose name starts with prefix (except skip, which may
 * be NULL): every flow of transport
 * tr ("tcp", "udp" or NULL: any) on one of the ports has its "app" in apps
 * (NULL: not checked) and its "proto" in protos; there is at least one
 * such flow per file.  Returns the number of files checked.
 */
static int
check_family(const char *prefix, const char *skip, const char *tr,
    const int *ports, const char *const *apps, const char *const *protos)
{
	char fails[4096] = "";
	int files = 0;
	size_t i;
	int j, k;

	for (i = 0; i < ncaps; i++) {
		const struct replay *r;
		int hits = 0;

		if (!has_prefix(caps[i].name, prefix) ||
		    (skip != NULL && strcmp(caps[i].name, skip) == 0))
			continue;
		r = get(caps[i].name);
		files++;
		for (j = 0; j < cJSON_GetArraySize(r->flows); j++) {
			const cJSON *f = cJSON_GetArrayItem(r->flows, j);
			bool match = false;

			if (tr != NULL && strcmp(fstr(f, "transport"), tr) != 0)
				continue;
			for (k = 0; ports[k] != 0; k++)
				match = match || on_port(f, ports[k]);
			if (!match)
				continue;
			hits++;
			if (apps != NULL && !str_in(fstr(f, "app"), apps))
				note(fails, sizeof(fails), "%s: flow %d app %s",
				    r->name, (int)tu_json_num(f, "id", 0),
				    fstr(f, "app"));
			if (!str_in(fstr(f, "proto"), protos))
				note(fails, sizeof(fails), "%s: flow %d proto %s",
				    r->name, (int)tu_json_num(f, "id", 0),
				    fstr(f, "proto"));
		}
		if (hits == 0)
			note(fails, sizeof(fails), "%s: no flow on the port",
			    r->name);
	}
	ck_assert_msg(fails[0] == '\0', "%s", fails);
	return files;
}

/* Number of flows of name whose "proto" is proto. */
static int
count_proto(const char *name, const char *proto)
{
	const struct replay *r = get(name);
	int j, n = 0;

	for (j = 0; j < cJSON_GetArraySize(r->flows); j++)
		if (strcmp(fstr(cJSON_GetArrayItem(r->flows, j), "proto"),
		    proto) == 0)
			n++;
	return n;
}

/* The flow between ip_a:port_a and ip_b:port_b (either way) with the most
 * packets, or NULL. */
static const cJSON *
find_flow(const struct replay *r, const char *ip_a, int port_a,
    const char *ip_b, int port_b)
{
	const cJSON *best = NULL;
	int j;

	for (j = 0; j < cJSON_GetArraySize(r->flows); j++) {
		const cJSON *f = cJSON_GetArrayItem(r->flows, j);
		const char *si = fstr(f, "src.ip"), *di = fstr(f, "dst.ip");
		int sp = port(f, "src"), dp = port(f, "dst");

		if (!((strcmp(si, ip_a) == 0 && sp == port_a &&
		    strcmp(di, ip_b) == 0 && dp == port_b) ||
		    (strcmp(si, ip_b) == 0 && sp == port_b &&
		    strcmp(di, ip_a) == 0 && dp == port_a)))
			continue;
		if (best == NULL || fpkts(f) > fpkts(best))
			best = f;
	}
	return best;
}

static double
sum_members(const cJSON *obj)
{
	const cJSON *m;
	double s = 0;

	cJSON_ArrayForEach(m, obj)
		if (cJSON_IsNumber(m))
			s += m->valuedouble;
	return s;
}

/* ---- (a) every capture -------------------------------------------------- */

START_TEST(test_every_capture_replays)
{
	static char fails[16384];
	double created, ip, frag, nomem, noflow, fpk;
	size_t i;
	int j, listed = 0;

	fails[0] = '\0';
	ck_assert_msg(ncaps >= 1, "no captures in %s/pcaps", tu_shared_dir());
	for (i = 0; i < ncaps; i++) {
		const struct replay *r = &caps[i];

		if (r->timed_out || r->exit_code != 0) {
			note(fails, sizeof(fails), "%s: exit %d%s: %.300s",
			    r->name, r->exit_code,
			    r->timed_out ? " (timed out)" : "", r->err);
			continue;
		}
		if (r->stats == NULL) {
			note(fails, sizeof(fails), "%s: stderr is not a JSON "
			    "object: %.300s", r->name, r->err);
			continue;
		}
		/* nothing but the statistics on stderr (no progress when not
		 * a terminal, no warnings) */
		if (r->err_lines != 1)
			note(fails, sizeof(fails), "%s: %zu lines on stderr",
			    r->name, r->err_lines);
		if (r->manifest_pkts >= 0) {
			listed++;
			if (tu_json_num(r->stats, "packets", -1) !=
			    (double)r->manifest_pkts)
				note(fails, sizeof(fails), "%s: %.0f packets, the "
				    "manifest says %ld", r->name,
				    tu_json_num(r->stats, "packets", -1),
				    r->manifest_pkts);
		}
		if (r->bad_lines != 0)
			note(fails, sizeof(fails), "%s: %d --flows-out lines "
			    "are not JSON", r->name, r->bad_lines);
		/* every flow created is written exactly once */
		created = tu_json_num(r->stats, "flows.created", -1);
		if (created != (double)cJSON_GetArraySize(r->flows))
			note(fails, sizeof(fails), "%s: flows.created %.0f but %d "
			    "flow lines", r->name, created,
			    cJSON_GetArraySize(r->flows));
		if (sum_members(cJSON_GetObjectItem(r->stats, "protocols")) !=
		    created)
			note(fails, sizeof(fails), "%s: per-protocol flow counts "
			    "do not add up to %.0f", r->name, created);
		/*
		 * every IP packet is in exactly one flow, except fragments,
		 * packets met with the table out of memory and flowless TCP
		 * segments (the last ACK of a closed session, a stray RST)
		 */
		ip = tu_json_num(r->stats, "ip", -1);
		frag = tu_json_num(r->stats, "fragments", -1);
		nomem = tu_json_num(r->stats, "flows.no_memory", -1);
		noflow = tu_json_num(r->stats, "flows.tcp_without_flow", 0);
		fpk = 0;
		for (j = 0; j < cJSON_GetArraySize(r->flows); j++)
			fpk += (double)fpkts(cJSON_GetArrayItem(r->flows, j));
		if (fpk != ip - frag - nomem - noflow)
			note(fails, sizeof(fails), "%s: flows hold %.0f packets, "
			    "ip %.0f - fragments %.0f - no_memory %.0f - "
			    "tcp_without_flow %.0f", r->name, fpk, ip, frag,
			    nomem, noflow);
	}
	ck_assert_msg(fails[0] == '\0', "%s", fails);
	/* the manifest describes the directory */
	ck_assert_int_eq(listed, (int)ncaps);
}
END_TEST

/* ---- (b) classification ------------------------------------------------- */

START_TEST(test_modbus)
{
	static const int ports[] = { 502, 0 };
	static const char *const apps[] = { "Modbus", NULL };
	static const char *const protos[] = { "modbus", NULL };

	ck_assert_int_eq(check_family("modbus-", NULL, "tcp", ports, apps,
	    protos), 4);
	/* the flows a Modbus capture holds besides Modbus are DNS */
	ck_assert_int_eq(count_proto("modbus-zeek-small.pcap", "dns.gmail"), 2);
	ck_assert_int_eq(count_proto("modbus-zeek-small.pcap", "dns.ubuntuone"),
	    1);
}
END_TEST

START_TEST(test_dnp3)
{
	static const int ports[] = { 20000, 0 };
	static const char *const apps[] = { "DNP3", NULL };
	static const char *const protos[] = { "dnp3", NULL };
	const struct replay *r;
	const cJSON *f;

	/* TCP: nDPI and the dissector agree */
	ck_assert_int_eq(check_family("dnp3-", "dnp3-udp-read.pcap", "tcp", ports,
	    apps, protos), 8);
	/* UDP: nDPI 4.2 does not know it, the dissector does */
	r = get("dnp3-udp-read.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 1);
	f = cJSON_GetArrayItem(r->flows, 0);
	ck_assert_str_eq(fstr(f, "transport"), "udp");
	ck_assert(on_port(f, 20000));
	ck_assert_str_eq(fstr(f, "proto"), "dnp3");
	ck_assert_int_eq(fpkts(f), 23);
}
END_TEST

START_TEST(test_s7comm)
{
	static const int ports[] = { 102, 0 };
	static const char *const apps[] = { "s7comm", NULL };
	static const char *const protos[] = { "s7comm", "s7comm-plus", NULL };
	const struct replay *r;
	const cJSON *f;

	ck_assert_int_eq(check_family("s7comm-", NULL, "tcp", ports, apps,
	    protos), 5);
	ck_assert_int_ge(count_proto("s7comm-snap7-s300-everything.pcap",
	    "s7comm"), 1);
	ck_assert_int_ge(count_proto("s7comm-wincc-s400-production.pcapng",
	    "s7comm"), 1);
	/*
	 * The Linux SLL capture: tshark decodes S7comm (0x32) in the
	 * 192.168.0.33 connection, while the 192.168.0.3:49154 one carries
	 * protocol id 0x72 (S7comm-plus) and 49155 only keep-alives.
	 */
	r = get("s7comm-icsnpp-read-write.pcap");
	f = find_flow(r, "192.168.0.33", 54670, "192.168.0.1", 102);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fstr(f, "proto"), "s7comm");
	f = find_flow(r, "192.168.0.3", 49154, "192.168.0.1", 102);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fstr(f, "proto"), "s7comm-plus");
}
END_TEST

START_TEST(test_s7comm_plus)
{
	static const int ports[] = { 102, 0 };
	static const char *const apps[] = { "s7comm", NULL };
	static const char *const protos[] = { "s7comm-plus", NULL };

	ck_assert_int_eq(check_family("s7commplus-", NULL, "tcp", ports, apps,
	    protos), 1);
	ck_assert_int_eq(count_proto("s7commplus-s7-1200-hmi.pcap",
	    "s7comm-plus"), 1);
}
END_TEST

START_TEST(test_iec104)
{
	static const int ports[] = { 2404, 0 };
	static const char *const apps[] = { "IEC60870", NULL };
	/* "iec104" from icsentry's dissector, else nDPI's name */
	static const char *const protos[] = { "iec104", "iec60870", NULL };

	ck_assert_int_eq(check_family("iec104-", NULL, "tcp", ports, apps,
	    protos), 4);
}
END_TEST

START_TEST(test_enip)
{
	static const int ports[] = { 44818, 0 };
	static const char *const apps[] = { "EthernetIP", NULL };
	static const char *const protos[] = { "enip", "ethernetip", NULL };
	const struct replay *r;
	const cJSON *f;

	ck_assert_int_eq(check_family("enip-cip-", "enip-cip-io-ndpi.pcap", "tcp",
	    ports, apps, protos), 3);
	/* class-1 I/O on UDP 2222: nDPI says SkypeCall, icsentry knows */
	r = get("enip-cip-io-ndpi.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 1);
	f = cJSON_GetArrayItem(r->flows, 0);
	ck_assert_str_eq(fstr(f, "transport"), "udp");
	ck_assert_int_eq(port(f, "src"), 2222);
	ck_assert_int_eq(port(f, "dst"), 2222);
	ck_assert_str_eq(fstr(f, "proto"), "cip-io");
}
END_TEST

START_TEST(test_mqtt)
{
	static const int ports[] = { 1883, 0 };
	static const int nonstd[] = { 17501, 0 };
	static const char *const apps[] = { "MQTT", NULL };
	static const char *const protos[] = { "mqtt", NULL };

	ck_assert_int_eq(check_family("mqtt", NULL, "tcp", ports, apps, protos),
	    6);
	/* MQTT on a non-standard port: nDPI finds it by content (4 flows) */
	ck_assert_int_eq(check_family("coap-mqtt-ndpi", NULL, "tcp", nonstd, apps,
	    protos), 1);
	ck_assert_int_eq(count_proto("coap-mqtt-ndpi.pcap", "mqtt"), 4);
}
END_TEST

START_TEST(test_mms)
{
	static const int ports[] = { 102, 0 };
	static const char *const protos[] = { "iec61850-mms", NULL };
	const struct replay *r;
	const cJSON *f;

	/* nDPI 4.2 calls MMS on 102 "s7comm"; icsentry's dissector knows */
	ck_assert_int_eq(check_family("mms-client-server", NULL, "tcp", ports, NULL,
	    protos), 1);
	r = get("mms-goose-substation.pcap");
	f = find_flow(r, "172.16.0.101", 1345, "172.16.202.5", 102);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fstr(f, "proto"), "iec61850-mms");
	f = find_flow(r, "172.16.0.101", 1069, "172.16.201.2", 102);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(fstr(f, "proto"), "iec61850-mms");
}
END_TEST

/*
 * mms-goose-substation.pcap, 172.16.0.101:1089 <-> 172.16.201.7:102: the
 * first payload is a 1-byte TCP keep-alive (frame 44, "00"), then frame
 * 260 carries a whole TPKT/COTP/session/presentation MMS PDU (tshark:
 * PRES, 151 bytes).  The connection is MMS; a keep-alive must not decide.
 */
START_TEST(test_mms_after_keepalive)
{
	const struct replay *r = get("mms-goose-substation.pcap");
	const cJSON *f = find_flow(r, "172.16.0.101", 1089, "172.16.201.7", 102);

	ck_assert_ptr_nonnull(f);
	ck_assert_msg(strcmp(fstr(f, "proto"), "iec61850-mms") == 0,
	    "172.16.0.101:1089 <-> 172.16.201.7:102 proto %s, want iec61850-mms "
	    "(its first payload is a 1-byte keep-alive)", fstr(f, "proto"));
}
END_TEST

/* ---- exact flow counts -------------------------------------------------- */

/*
 * Flows per capture where the count is certain: tshark -z conv,tcp /
 * conv,udp list exactly this many conversations, nDPI 4.2 reports the
 * same number of flows in the manifest, no 5-tuple is reused and no
 * capture is longer than the idle timeouts with gaps that would split one.
 */
START_TEST(test_flow_counts)
{
	const struct replay *r;

	/* 11 TCP conversations, nDPI DNP3(11f/834p) */
	r = get("dnp3-icsnpp-example.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 11);
	ck_assert_int_eq(count_proto(r->name, "dnp3"), 11);
	ck_assert_int_eq(tu_json_num(r->stats, "packets", -1), 834);
	ck_assert_int_eq(tu_json_num(r->stats, "flows.created", -1), 11);

	/* 4 TCP conversations, nDPI EthernetIP(4f/10880p) */
	r = get("enip-cip-controllogix-plant.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 4);
	ck_assert_int_eq(tu_json_num(r->stats, "packets", -1), 10880);

	/* Linux SLL link type: 3 TCP conversations, nDPI s7comm(3f/262p) */
	r = get("s7comm-icsnpp-read-write.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 3);
	ck_assert_int_eq(tu_json_num(r->stats, "ip", -1), 262);

	/* 432 one-packet UDP conversations in 14.4 s (< udp_timeout 60 s),
	 * nDPI Unknown(432f/432p) */
	r = get("melsec-melsoft-udp.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 432);
	ck_assert_int_eq(tu_json_num(r->stats, "flows.max_active", -1), 432);

	/* layer-2 only (GOOSE, SV, PROFINET DCP): packets, no flows */
	r = get("goose-sample.pcap");
	ck_assert_int_eq(cJSON_GetArraySize(r->flows), 0);
	ck_assert_int_eq(tu_json_num(r->stats, "non_ip", -1), 451);
	r = get("sv-iec61850-9-2.pcap");
	ck_assert_int_eq(tu_json_num(r->stats, "non_ip", -1), 10161);
	ck_assert_int_eq(tu_json_num(r->stats, "flows.created", -1), 0);
}
END_TEST

/*
 * A TCP connection closed with FIN, FIN, ACK is one flow: the last ACK
 * must not open a new one.  modbus-zeek-small.pcap: 16 Modbus connections
 * of 10 packets each plus 3 DNS exchanges (tshark: 16 TCP + 3 UDP
 * conversations; nDPI Modbus(16f/160p) GMail(2f) UbuntuONE(1f)) = 19.
 * iec104-wireshark-testdissect.pcap: 6 TCP conversations, nDPI
 * IEC60870(6f/147p).
 */
START_TEST(test_no_flow_after_close)
{
	const struct replay *r = get("modbus-zeek-small.pcap");
	int j, small = 0;

	for (j = 0; j < cJSON_GetArraySize(r->flows); j++)
		if (fpkts(cJSON_GetArrayItem(r->flows, j)) == 1)
			small++;
	ck_assert_msg(cJSON_GetArraySize(r->flows) == 19,
	    "modbus-zeek-small.pcap: %d flows, want 19 (%d of them hold a "
	    "single packet: the last ACK of a closed connection)",
	    cJSON_GetArraySize(r->flows), small);
	ck_assert_int_eq(count_proto(r->name, "modbus"), 16);
	/* the 16 closing ACKs are counted, not made into flows */
	ck_assert_int_eq(tu_json_num(r->stats, "flows.tcp_without_flow", -1),
	    16);
	ck_assert_int_eq(tu_json_num(r->stats, "flows.ended", -1), 16);
	r = get("iec104-wireshark-testdissect.pcap");
	ck_assert_msg(cJSON_GetArraySize(r->flows) == 6,
	    "iec104-wireshark-testdissect.pcap: %d flows, want 6",
	    cJSON_GetArraySize(r->flows));
}
END_TEST

/* ---- (c) malformed and decode-error counters ---------------------------- */

/*
 * No capture here is cut or broken below the application layer (tshark:
 * no frame with caplen < len, no malformed Ethernet/IP/TCP/UDP), so every
 * decode_errors counter is 0 everywhere.  Application-level malformations
 * that really are in the captures (tshark 4.0 expert info):
 *   iec104-wireshark-testdissect.pcap: 9 frames ("APDU less than 4 bytes",
 *     malformed ASDU) -> malformed.iec104 = 9
 *   bacnet-icsnpp-example.pcap: 120 ReinitializeDevice requests whose
 *     BVLC length (17) is not the datagram's (25) -> malformed.bacnet = 120
 *   bacnet-error-reject-abort.pcap: 2 frames tshark cannot parse deep in
 *     the APDU -> malformed.bacnet 0..2 (icsentry need not go that deep)
 * Every other malformed counter of every capture is 0.
 */
struct expect_malformed {
	const char	*file, *proto;
	int		 min, max;
};

static const struct expect_malformed really_malformed[] = {
	{ "iec104-wireshark-testdissect.pcap", "iec104", 9, 9 },
	{ "bacnet-icsnpp-example.pcap", "bacnet", 120, 120 },
	{ "bacnet-error-reject-abort.pcap", "bacnet", 0, 2 },
	{ NULL, NULL, 0, 0 }
};

START_TEST(test_malformed_counters)
{
	static char fails[8192];
	const struct expect_malformed *e;
	const cJSON *m;
	size_t i;

	fails[0] = '\0';
	for (i = 0; i < ncaps; i++) {
		const struct replay *r = &caps[i];

		if (r->stats == NULL) {
			note(fails, sizeof(fails), "%s: no stats", r->name);
			continue;
		}
		m = cJSON_GetObjectItem(r->stats, "decode_errors");
		if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) < 10)
			note(fails, sizeof(fails), "%s: no decode_errors object",
			    r->name);
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(r->stats,
		    "decode_errors"))
			if (!cJSON_IsNumber(m) || m->valuedouble != 0)
				note(fails, sizeof(fails), "%s: decode_errors.%s = "
				    "%.0f", r->name, m->string, m->valuedouble);
		m = cJSON_GetObjectItem(r->stats, "malformed");
		if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) < 5)
			note(fails, sizeof(fails), "%s: no malformed object",
			    r->name);
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(r->stats, "malformed")) {
			int lo = 0, hi = 0;

			for (e = really_malformed; e->file != NULL; e++)
				if (strcmp(e->file, r->name) == 0 &&
				    strcmp(e->proto, m->string) == 0) {
					lo = e->min;
					hi = e->max;
				}
			if (!cJSON_IsNumber(m) || m->valuedouble < lo ||
			    m->valuedouble > hi)
				note(fails, sizeof(fails), "%s: malformed.%s = %.0f, "
				    "want %d..%d", r->name, m->string,
				    m->valuedouble, lo, hi);
		}
	}
	ck_assert_msg(fails[0] == '\0', "%s", fails);
	/* the expected ones are there (the counters can count) */
	ck_assert_int_eq(tu_json_num(get("iec104-wireshark-testdissect.pcap")->stats,
	    "malformed.iec104", -1), 9);
	ck_assert_int_eq(tu_json_num(get("bacnet-icsnpp-example.pcap")->stats,
	    "malformed.bacnet", -1), 120);
}
END_TEST

static Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("captures");

	tcase_add_unchecked_fixture(tc, replay_all, free_all);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_capture_replays);
	tcase_add_test(tc, test_modbus);
	tcase_add_test(tc, test_dnp3);
	tcase_add_test(tc, test_s7comm);
	tcase_add_test(tc, test_s7comm_plus);
	tcase_add_test(tc, test_iec104);
	tcase_add_test(tc, test_enip);
	tcase_add_test(tc, test_mqtt);
	tcase_add_test(tc, test_mms);
	tcase_add_test(tc, test_mms_after_keepalive);
	tcase_add_test(tc, test_flow_counts);
	tcase_add_test(tc, test_no_flow_after_close);
	tcase_add_test(tc, test_malformed_counters);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(replay_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
