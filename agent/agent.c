/*
 * agent.c - icsentry-agent's pipeline and capture loop.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "detect.h"
#include "dissect.h"
#include "flow.h"
#include "ids.h"

static const struct cfg_key agent_keys[] = {
	{ "name", CFG_STR, NULL, 0, 0, "agent name in alerts and topics (default: host name)" },
	{ "site", CFG_STR, "default", 0, 0, "site name in alerts and topics" },
	{ "state_file", CFG_STR, NULL, 0, 0, "where seq and the chain's last hash persist (empty: not persisted)" },
	{ "alert_window", CFG_DOUBLE, "60", 0, 86400, "seconds in which repeats of one detector on one src->dst collapse into a summary (0: off)" },
	{ "alerts_out", CFG_STR, NULL, 0, 0, "JSON-lines file for alerts ('-' = stdout)" },
	{ "flows_out", CFG_STR, NULL, 0, 0, "JSON-lines file for finished flows ('-' = stdout)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static const struct cfg_key capture_keys[] = {
	{ "interface", CFG_STR, NULL, 0, 0, "live capture interface" },
	{ "filter", CFG_STR, NULL, 0, 0, "BPF capture filter" },
	{ "snaplen", CFG_INT, "65535", 64, 262144, "bytes captured per packet" },
	{ "promisc", CFG_BOOL, "true", 0, 0, "promiscuous mode" },
	{ "buffer_mb", CFG_INT, "32", 1, 4096, "kernel capture buffer (MiB)" },
	{ "timeout_ms", CFG_INT, "100", 1, 10000, "live read timeout (ms)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static const struct cfg_key flows_keys[] = {
	{ "max_flows", CFG_INT, "262144", 16, 16777216, "flow table cap; the oldest-idle flow is evicted beyond it" },
	{ "tcp_timeout", CFG_DOUBLE, "300", 1, 86400, "idle seconds before a TCP flow ends" },
	{ "udp_timeout", CFG_DOUBLE, "60", 1, 86400, "idle seconds before a UDP flow ends" },
	{ "other_timeout", CFG_DOUBLE, "30", 1, 86400, "idle seconds for ICMP and other IP" },
	{ "ndpi_max_packets", CFG_INT, "32", 1, 255, "packets given to nDPI before taking its guess" },
	{ "max_reasm_bytes", CFG_INT, "16384", 512, 1048576, "bytes buffered per flow direction for a PDU split across segments" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static const struct cfg_schema agent_schema = { "agent", agent_keys };
static const struct cfg_schema capture_schema = { "capture", capture_keys };
static const struct cfg_schema flows_schema = { "flows", flows_keys };

#define MAX_SCHEMAS	80
#define MAX_PROTO_NAMES	256
#define DEFAULT_CONFIG	"/etc/icsentry/agent.conf"

const struct cfg_schema *const *
agent_schemas(size_t *n)
{
	static const struct cfg_schema *all[MAX_SCHEMAS];
	const struct cfg_schema *const *det;
	size_t i, nd, k = 0;

	all[k++] = &agent_schema;
	all[k++] = &capture_schema;
	all[k++] = &flows_schema;
	all[k++] = &det_policy_schema;
	det = det_engine_schemas(&nd);
	for (i = 0; i < nd && k < MAX_SCHEMAS; i++)
		all[k++] = det[i];
	*n = k;
	return all;
}

struct proto_count {
	char		name[48];
	uint64_t	flows;
};

struct agent {
	const struct agent_opts	*o;
	struct cfg		*cfg;
	struct cap		*cap;
	struct flow_table	*flows;
	struct classifier	*cls;
	struct dissector	*dis;
	struct det_engine	*det;
	struct alerter		*al;
	FILE			*alerts_fp, *flows_fp;
	int			 dlt;

	/* statistics */
	uint64_t		 packets, bytes, non_ip, arp, ip, fragments;
	uint64_t		 decode_err[DEC_NWHY];
	uint64_t		 no_flow_mem;
	struct proto_count	 protos[MAX_PROTO_NAMES];
	size_t			 nprotos;
	uint64_t		 last_expire;
	uint64_t		 now;		/* capture time */
	bool			 progress;	/* stderr is a terminal */
};

static volatile sig_atomic_t g_stop;
static struct cap *volatile g_cap;

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_cap != NULL)
		cap_break(g_cap);
}

static void
count_proto(struct agent *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nprotos; i++)
		if (strcmp(a->protos[i].name, name) == 0) {
			a->protos[i].flows++;
			return;
		}
	if (a->nprotos == MAX_PROTO_NAMES)
		return;
	snprintf(a->protos[a->nprotos].name, sizeof(a->protos[0].name), "%s",
	    name);
	a->protos[a->nprotos++].flows = 1;
}

static const char *
ip_str(const struct flow *f, const uint8_t *ip, char *buf, size_t len)
{
	inet_ntop(f->af == 6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)len);
	return buf;
}

static const char *
transport_name(uint8_t t)
{
	switch (t) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	}
	return "other";
}

static void
write_flow(struct agent *a, const struct flow *f, enum flow_end_reason why)
{
	char first[40], last[40], cip[64], sip[64], app[64], proto[64];

	alert_format_ts(f->first_ts, first, sizeof(first));
	alert_format_ts(f->last_ts, last, sizeof(last));
	cls_app_name(a->cls, f, app, sizeof(app));
	cls_proto_name(a->cls, f, proto, sizeof(proto));
	fprintf(a->flows_fp,
	    "{\"id\":%" PRIu64 ",\"first_ts\":\"%s\",\"last_ts\":\"%s\","
	    "\"src\":{\"ip\":\"%s\",\"port\":%u},\"dst\":{\"ip\":\"%s\",\"port\":%u},"
	    "\"vlan\":%u,\"transport\":\"%s\",\"app\":\"%s\",\"category\":\"%s\","
	    "\"proto\":\"%s\",\"pkts_c2s\":%" PRIu64 ",\"pkts_s2c\":%" PRIu64 ","
	    "\"bytes_c2s\":%" PRIu64 ",\"bytes_s2c\":%" PRIu64 ",\"end\":\"%s\"}\n",
	    f->id, first, last, ip_str(f, f->cli.ip, cip, sizeof(cip)),
	    f->cli.port, ip_str(f, f->srv.ip, sip, sizeof(sip)), f->srv.port,
	    f->vlan, transport_name(f->transport), app,
	    cls_category_name(a->cls, f), proto, f->pkts[0], f->pkts[1],
	    f->bytes[0], f->bytes[1], flow_end_name(why));
}

/* flow table callback: a flow leaves the table. */
static void
on_flow_end(void *arg, struct flow *f, enum flow_end_reason why)
{
	struct agent *a = arg;
	char proto[64];

	cls_finish(a->cls, f);
	det_engine_flow_end(a->det, f);
	dissect_flow_end(a->dis, f);
	count_proto(a, cls_proto_name(a->cls, f, proto, sizeof(proto)));
	if (a->flows_fp != NULL)
		write_flow(a, f, why);
}

static void
advance_time(struct agent *a, uint64_t ts)
{
	if (ts <= a->now)
		return;
	a->now = ts;
	det_engine_time(a->det, ts);
	if (ts - a->last_expire >= 1000000u) {
		a->last_expire = ts;
		flow_expire(a->flows, ts);
	}
}

static void
process(struct agent *a, const struct cap_frame *fr)
{
	enum dec_why why;
	struct pkt p;
	struct flow *f;
	bool created;
	int rc, dir;

	a->packets++;
	a->bytes += fr->wirelen;
	advance_time(a, fr->ts);
	rc = decode_packet(a->dlt, fr->data, fr->caplen, fr->wirelen, fr->ts,
	    &p, &why);
	if (why != DEC_OK)
		a->decode_err[why]++;
	if (rc != 0)
		return;
	if (p.layer == PKT_ARP) {
		a->arp++;
		det_engine_arp(a->det, &p);
		return;
	}
	if (p.layer != PKT_IP) {
		a->non_ip++;
		return;
	}
	a->ip++;
	if (p.fragment) {
		a->fragments++;
		return;
	}
	f = flow_lookup(a->flows, &p, &dir, &created);
	if (f == NULL) {
		a->no_flow_mem++;
		return;
	}
	if (created)
		det_engine_flow_start(a->det, f);
	cls_packet(a->cls, f, &p, dir);
	dissect_packet(a->dis, f, &p, dir);
	det_engine_packet(a->det, &p, f, dir);
	/* a TCP flow ends on RST or once both sides sent FIN */
	if (f->transport == 6 && (f->rst || (f->fin[0] && f->fin[1])))
		flow_remove(a->flows, f, FLOW_END_FIN);
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
show_progress(struct agent *a, double start, bool final)
{
	uint64_t pos, size;
	double el = wall_now() - start;

	cap_progress(a->cap, &pos, &size);
	fprintf(stderr, "\r%" PRIu64 " packets", a->packets);
	if (size > 0)
		fprintf(stderr, "  %5.1f%%", 100.0 * (double)pos / (double)size);
	if (el > 0)
		fprintf(stderr, "  %.0f pkt/s", (double)a->packets / el);
	fprintf(stderr, final ? "\n" : "   ");
	fflush(stderr);
}

/* --realtime: sleep until the capture's own pace catches up. */
static void
pace(uint64_t ts, uint64_t *cap0, double *wall0)
{
	double due, now;

	if (*cap0 == 0) {
		*cap0 = ts;
		*wall0 = wall_now();
		return;
	}
	due = *wall0 + (double)(ts - *cap0) / 1e6;
	now = wall_now();
	if (due > now + 0.0005) {
		struct timespec d;
		double s = due - now;

		d.tv_sec = (time_t)s;
		d.tv_nsec = (long)((s - (double)d.tv_sec) * 1e9);
		nanosleep(&d, NULL);
	}
}

/*
 * Read one capture to its end.  Returns 0, or the exit code for a capture
 * that could not be opened or ended in error.
 */
static int
run_capture(struct agent *a, const struct cap_opts *co, double start)
{
	struct cap_frame fr;
	char err[512];
	bool bad;
	uint64_t cap0 = 0;
	double wall0 = 0, next_show = 0;
	int rc;

	a->cap = cap_open(co, err, sizeof(err), &bad);
	if (a->cap == NULL) {
		fprintf(stderr, "icsentry-agent: %s\n", err);
		return bad ? EXIT_USAGE : EXIT_RUNTIME;
	}
	a->dlt = cap_datalink(a->cap);
	g_cap = a->cap;
	for (;;) {
		if (g_stop)
			break;
		rc = cap_next(a->cap, &fr);
		if (rc == 1) {
			if (a->o->realtime && !cap_is_live(a->cap))
				pace(fr.ts, &cap0, &wall0);
			process(a, &fr);
			if (a->progress && (a->packets & 0x3fff) == 0 &&
			    wall_now() >= next_show) {
				show_progress(a, start, false);
				next_show = wall_now() + 0.5;
			}
			continue;
		}
		if (rc == 0) {		/* live timeout: let time move on */
			continue;
		}
		if (rc == -1 || rc == -3)
			break;
		/* -2: read error; for a file, a truncated or corrupt record */
		fprintf(stderr, "icsentry-agent: %s (after %" PRIu64 " packets)\n",
		    cap_error(a->cap), a->packets);
		g_cap = NULL;
		return cap_is_live(a->cap) ? EXIT_RUNTIME : EXIT_USAGE;
	}
	if (a->progress)
		show_progress(a, start, true);
	g_cap = NULL;
	return 0;
}

static void
json_kv(FILE *fp, const char *k, uint64_t v, bool comma)
{
	fprintf(fp, "%s\"%s\":%" PRIu64, comma ? "," : "", k, v);
}

static void
print_stats(struct agent *a, double elapsed)
{
	const struct flow_stats *fs = flow_table_stats(a->flows);
	const struct dissect_stats *ds = dissect_stats(a->dis);
	const struct alert_counters *ac = alerter_counters(a->al);
	struct cap_stats cs = { 0, 0, 0 };
	FILE *fp = stderr;
	bool comma = false;
	size_t i;

	if (a->cap != NULL)
		cap_stats(a->cap, &cs);
	fprintf(fp, "{");
	json_kv(fp, "packets", a->packets, false);
	json_kv(fp, "bytes", a->bytes, true);
	json_kv(fp, "ip", a->ip, true);
	json_kv(fp, "arp", a->arp, true);
	json_kv(fp, "non_ip", a->non_ip, true);
	json_kv(fp, "fragments", a->fragments, true);
	fprintf(fp, ",\"decode_errors\":{");
	for (i = 1; i < DEC_NWHY; i++) {
		if (i == DEC_IPV4_FRAGMENT)
			continue;
		json_kv(fp, decode_why_name((enum dec_why)i), a->decode_err[i],
		    comma);
		comma = true;
	}
	fprintf(fp, "},\"flows\":{");
	json_kv(fp, "created", fs->created, false);
	json_kv(fp, "ended", fs->ended, true);
	json_kv(fp, "expired", fs->expired, true);
	json_kv(fp, "evicted", fs->evicted, true);
	json_kv(fp, "max_active", fs->max_active, true);
	json_kv(fp, "no_memory", a->no_flow_mem, true);
	fprintf(fp, "},\"protocols\":{");
	for (i = 0; i < a->nprotos; i++)
		json_kv(fp, a->protos[i].name, a->protos[i].flows, i > 0);
	fprintf(fp, "},\"pdus\":{");
	comma = false;
	for (i = 1; i < ICS_NPROTO; i++) {
		json_kv(fp, ics_proto_name((enum ics_proto)i), ds->pdus[i], comma);
		comma = true;
	}
	fprintf(fp, "},\"malformed\":{");
	comma = false;
	for (i = 1; i < ICS_NPROTO; i++) {
		json_kv(fp, ics_proto_name((enum ics_proto)i), ds->malformed[i],
		    comma);
		comma = true;
	}
	fprintf(fp, "},\"reassembly\":{");
	json_kv(fp, "gaps", ds->gaps, false);
	json_kv(fp, "oversize", ds->oversize, true);
	json_kv(fp, "resyncs", ds->resyncs, true);
	fprintf(fp, "},\"alerts\":{");
	json_kv(fp, "emitted", ac->emitted, false);
	json_kv(fp, "aggregated", ac->aggregated, true);
	json_kv(fp, "summaries", ac->summaries, true);
	json_kv(fp, "sink_errors", ac->sink_errors, true);
	for (i = 0; i < 5; i++)
		json_kv(fp, det_severity_name((enum det_severity)i),
		    ac->by_severity[i], true);
	fprintf(fp, "},\"capture\":{");
	json_kv(fp, "received", cs.received, false);
	json_kv(fp, "dropped", cs.dropped, true);
	json_kv(fp, "if_dropped", cs.if_dropped, true);
	fprintf(fp, "},\"elapsed_s\":%.6f,\"pps\":%.0f}\n", elapsed,
	    elapsed > 0 ? (double)a->packets / elapsed : 0.0);
}

static int
open_out_file(const char *path, FILE **fp, char *err, size_t errlen)
{
	*fp = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	if (strcmp(path, "-") == 0) {
		*fp = stdout;
		return 0;
	}
	*fp = fopen(path, "w");
	if (*fp == NULL) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", path,
		    strerror(errno));
		return IDS_EIO;
	}
	return 0;
}

static int
setup(struct agent *a, const struct agent_opts *o, char *err, size_t errlen)
{
	const struct cfg_schema *const *schemas;
	struct flow_table_opts fo;
	struct alert_opts ao;
	char host[256];
	const char *path = o->config, *name;
	size_t n;
	int rc;

	schemas = agent_schemas(&n);
	/* a live agent reads the system config when none is named */
	if (path == NULL && o->nfiles == 0 && access(DEFAULT_CONFIG, R_OK) == 0)
		path = DEFAULT_CONFIG;
	if ((rc = cfg_load(path, schemas, n, &a->cfg, err, errlen)) != 0)
		return EXIT_USAGE;
	if (o->iface != NULL &&
	    cfg_set(a->cfg, "capture", "interface", o->iface, "-i", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->filter != NULL &&
	    cfg_set(a->cfg, "capture", "filter", o->filter, "-f", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->alerts_out != NULL &&
	    cfg_set(a->cfg, "agent", "alerts_out", o->alerts_out, "--alerts-out",
	    err, errlen) != 0)
		return EXIT_USAGE;
	if (o->flows_out != NULL &&
	    cfg_set(a->cfg, "agent", "flows_out", o->flows_out, "--flows-out",
	    err, errlen) != 0)
		return EXIT_USAGE;
	if (o->nfiles == 0 && cfg_str(a->cfg, "capture", "interface")[0] == '\0') {
		snprintf(err, errlen, "nothing to capture: give -i IFACE or -r FILE (see --help)");
		return EXIT_USAGE;
	}
	if (o->nfiles > 0 && o->iface != NULL) {
		snprintf(err, errlen, "-i and -r exclude each other");
		return EXIT_USAGE;
	}
	if (o->learn != NULL || o->baseline != NULL || o->assets_out != NULL) {
		snprintf(err, errlen, "--learn, --baseline and --assets-out are not available in this build yet");
		return EXIT_USAGE;
	}
	if (open_out_file(cfg_str(a->cfg, "agent", "alerts_out"), &a->alerts_fp,
	    err, errlen) != 0 ||
	    open_out_file(cfg_str(a->cfg, "agent", "flows_out"), &a->flows_fp,
	    err, errlen) != 0)
		return EXIT_RUNTIME;

	name = cfg_str(a->cfg, "agent", "name");
	if (name[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "agent");
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		name = host;
	}
	memset(&ao, 0, sizeof(ao));
	ao.agent = name;
	ao.site = cfg_str(a->cfg, "agent", "site");
	ao.state_file = cfg_str(a->cfg, "agent", "state_file");
	ao.window_us = (uint64_t)(cfg_double(a->cfg, "agent", "alert_window") * 1e6);
	a->al = alerter_new(&ao, err, errlen);
	if (a->al == NULL)
		return EXIT_USAGE;
	if (a->alerts_fp != NULL)
		alerter_add_sink(a->al, alert_sink_file, a->alerts_fp);

	a->det = det_engine_new(a->cfg, a->al, err, errlen);
	if (a->det == NULL)
		return EXIT_RUNTIME;
	memset(&fo, 0, sizeof(fo));
	fo.max_flows = (size_t)cfg_int(a->cfg, "flows", "max_flows");
	fo.timeout_us[FLOW_CLS_TCP] = (uint64_t)(cfg_double(a->cfg, "flows", "tcp_timeout") * 1e6);
	fo.timeout_us[FLOW_CLS_UDP] = (uint64_t)(cfg_double(a->cfg, "flows", "udp_timeout") * 1e6);
	fo.timeout_us[FLOW_CLS_OTHER] = (uint64_t)(cfg_double(a->cfg, "flows", "other_timeout") * 1e6);
	a->flows = flow_table_new(&fo, on_flow_end, a);
	a->cls = cls_new((unsigned)cfg_int(a->cfg, "flows", "ndpi_max_packets"),
	    err, errlen);
	a->dis = dissect_new((size_t)cfg_int(a->cfg, "flows", "max_reasm_bytes"),
	    a->det);
	if (a->flows == NULL || a->cls == NULL || a->dis == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		return EXIT_RUNTIME;
	}
	return 0;
}

static void
teardown(struct agent *a)
{
	if (a->flows != NULL)
		flow_table_free(a->flows);
	dissect_free(a->dis);
	cls_free(a->cls);
	det_engine_free(a->det);
	alerter_free(a->al);
	if (a->alerts_fp != NULL && a->alerts_fp != stdout)
		fclose(a->alerts_fp);
	if (a->flows_fp != NULL && a->flows_fp != stdout)
		fclose(a->flows_fp);
	if (a->cap != NULL)
		cap_close(a->cap);
	cfg_free(a->cfg);
}

int
agent_run(const struct agent_opts *o)
{
	struct agent a;
	struct cap_opts co;
	struct sigaction sa;
	char err[1024] = "";
	double start;
	int rc, i;

	memset(&a, 0, sizeof(a));
	a.o = o;
	rc = setup(&a, o, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "icsentry-agent: %s\n", err);
		teardown(&a);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.progress = isatty(STDERR_FILENO) && !o->stats;

	memset(&co, 0, sizeof(co));
	co.filter = cfg_str(a.cfg, "capture", "filter");
	co.snaplen = (int)cfg_int(a.cfg, "capture", "snaplen");
	co.promisc = cfg_bool(a.cfg, "capture", "promisc");
	co.buffer_mb = (int)cfg_int(a.cfg, "capture", "buffer_mb");
	co.timeout_ms = (int)cfg_int(a.cfg, "capture", "timeout_ms");
	start = wall_now();
	if (o->nfiles == 0) {
		co.iface = cfg_str(a.cfg, "capture", "interface");
		rc = run_capture(&a, &co, start);
	} else {
		for (i = 0; i < o->nfiles && rc == 0 && !g_stop; i++) {
			co.file = o->files[i];
			if (a.cap != NULL) {
				cap_close(a.cap);
				a.cap = NULL;
			}
			rc = run_capture(&a, &co, start);
		}
	}
	/* whatever happened, what was seen is reported: flush flows, alerts */
	flow_flush(a.flows);
	alerter_flush(a.al);
	if (o->stats)
		print_stats(&a, wall_now() - start);
	teardown(&a);
	return rc;
}
