/*
 * scan.c - port scans, host sweeps and ARP sweeps (ATT&CK for ICS T0846
 * Remote System Discovery).
 *
 * For each source we remember the distinct targets it tried to open
 * (TCP SYN without ACK, new UDP flows: dst ip + port) and the distinct
 * IPs it asked for by ARP, within a sliding window.  Crossing the
 * threshold raises an alert; every further new target raises it again and
 * the alert engine folds those into one summary per window.  A slow scan
 * is caught as long as it reaches the threshold within the window, which
 * is deliberately long (minutes, configurable).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "detector.h"
#include "flow.h"
#include "ipmap.h"

#define SCAN_SLOTS	64	/* targets remembered per source */

struct target {
	uint8_t		ip[16];
	uint16_t	port;
	uint64_t	ts;
};

struct src_state {
	struct target	t[SCAN_SLOTS];
	uint32_t	n;		/* used slots */
	uint32_t	ports_seen;	/* distinct ports among t (approx.) */
	uint64_t	total;		/* new targets ever */
};

struct scan_state {
	struct ipmap	*tcp;		/* src ip -> src_state (TCP/UDP) */
	struct ipmap	*arp;		/* src ip -> src_state (ARP targets) */
	uint64_t	 window_us;
	uint32_t	 threshold;
	uint32_t	 arp_threshold;
};

static const struct cfg_key keys[] = {
	{ "window", CFG_DOUBLE, "900", 1, 86400,
	  "seconds over which a source's distinct targets are counted (slow scans)" },
	{ "threshold", CFG_INT, "20", 2, 64,
	  "distinct ip:port targets a source may try to open within the window" },
	{ "arp_threshold", CFG_INT, "32", 2, 64,
	  "distinct IPs a source may ARP for within the window" },
	{ "max_sources", CFG_INT, "4096", 16, 1000000, "sources tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
scan_init(const struct cfg *c, const char *sec, void **state)
{
	struct scan_state *s = calloc(1, sizeof(*s));
	size_t max = (size_t)cfg_int(c, sec, "max_sources");

	if (s == NULL)
		return -1;
	s->tcp = ipmap_new(max, sizeof(struct src_state));
	s->arp = ipmap_new(max, sizeof(struct src_state));
	if (s->tcp == NULL || s->arp == NULL) {
		ipmap_free(s->tcp);
		ipmap_free(s->arp);
		free(s);
		return -1;
	}
	s->window_us = (uint64_t)(cfg_double(c, sec, "window") * 1e6);
	s->threshold = (uint32_t)cfg_int(c, sec, "threshold");
	s->arp_threshold = (uint32_t)cfg_int(c, sec, "arp_threshold");
	*state = s;
	return 0;
}

static void
scan_destroy(void *state)
{
	struct scan_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->tcp);
	ipmap_free(s->arp);
	free(s);
}

/*
 * Record target (ip, port) for a source at ts.  Returns the number of
 * distinct targets within the window after the insert, 0 if it was known.
 */
static uint32_t
record(struct src_state *ss, const uint8_t *ip, size_t alen, uint16_t port,
    uint64_t ts, uint64_t window)
{
	uint32_t i, live = 0, oldest = 0;

	for (i = 0; i < ss->n; i++) {
		if (ss->t[i].port == port && memcmp(ss->t[i].ip, ip, alen) == 0) {
			ss->t[i].ts = ts;
			return 0;
		}
	}
	/* drop expired targets, compacting */
	for (i = 0; i < ss->n; i++)
		if (ss->t[i].ts + window >= ts)
			ss->t[live++] = ss->t[i];
	ss->n = live;
	if (ss->n == SCAN_SLOTS) {
		for (i = 1; i < ss->n; i++)
			if (ss->t[i].ts < ss->t[oldest].ts)
				oldest = i;
		ss->t[oldest] = ss->t[--ss->n];
	}
	memset(&ss->t[ss->n], 0, sizeof(ss->t[0]));
	memcpy(ss->t[ss->n].ip, ip, alen);
	ss->t[ss->n].port = port;
	ss->t[ss->n].ts = ts;
	ss->n++;
	ss->total++;
	return ss->n;
}

static void
summarize(const struct src_state *ss, cJSON *d, bool with_ports, size_t alen)
{
	uint32_t i, j, hosts = 0, ports = 0;
	cJSON *pl = cJSON_CreateArray();

	for (i = 0; i < ss->n; i++) {
		for (j = 0; j < i; j++)
			if (memcmp(ss->t[j].ip, ss->t[i].ip, alen) == 0)
				break;
		if (j == i)
			hosts++;
		for (j = 0; j < i; j++)
			if (ss->t[j].port == ss->t[i].port)
				break;
		if (j == i) {
			ports++;
			if (with_ports && ports <= 16)
				cJSON_AddItemToArray(pl,
				    cJSON_CreateNumber(ss->t[i].port));
		}
	}
	cJSON_AddNumberToObject(d, "targets", ss->n);
	cJSON_AddNumberToObject(d, "hosts", hosts);
	if (with_ports) {
		cJSON_AddNumberToObject(d, "ports", ports);
		cJSON_AddItemToObject(d, "port_list", pl);
	} else
		cJSON_Delete(pl);
}

static void
scan_flow_start(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct scan_state *s = state;
	struct src_state *ss;
	struct det_alert a;
	struct det_endpoint src;
	size_t alen = f->af == 6 ? 16 : 4;
	uint32_t n;
	int fresh;
	char title[128], ipb[64];

	/* a connection attempt: TCP opened by a bare SYN, or a new UDP flow */
	if (f->transport == 6) {
		if ((f->tcp_flags[FLOW_C2S] & (PKT_TCP_SYN | PKT_TCP_ACK)) != PKT_TCP_SYN)
			return;
	} else if (f->transport != 17)
		return;
	ss = ipmap_put(s->tcp, f->cli.ip, alen, f->first_ts, &fresh);
	if (ss == NULL)
		return;
	n = record(ss, f->srv.ip, alen, f->srv.port, f->first_ts, s->window_us);
	if (n < s->threshold)
		return;
	det_endpoint_from_flow(&src, f, true);
	if (det_policy(ctx, ICS_NONE, DET_ROLE_DISCOVERY, &src) == DET_ALLOWED)
		return;
	memset(&a, 0, sizeof(a));
	a.detector = "net.port_scan";
	a.severity = SEV_HIGH;
	a.technique = "T0846";
	snprintf(title, sizeof(title), "Port scan / host sweep from %s",
	    det_ip_str(&src, ipb, sizeof(ipb)));
	a.title = title;
	a.proto = f->transport == 6 ? "tcp" : "udp";
	a.src = src;
	a.src.port = 0;
	det_endpoint_from_flow(&a.dst, f, false);
	a.ts = f->first_ts;
	a.details = cJSON_CreateObject();
	summarize(ss, a.details, true, alen);
	cJSON_AddNumberToObject(a.details, "window_s", (double)s->window_us / 1e6);
	/* one group per scanner, whatever host it reaches next */
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

static void
scan_arp(void *state, struct det_ctx *ctx, const struct pkt *p)
{
	static const uint8_t zero[4];
	struct scan_state *s = state;
	struct src_state *ss;
	struct det_alert a;
	uint32_t n;
	int fresh;
	char title[128];

	if (p->arp.op != 1 || memcmp(p->arp.spa, p->arp.tpa, 4) == 0 ||
	    memcmp(p->arp.spa, zero, 4) == 0)
		return;
	ss = ipmap_put(s->arp, p->arp.spa, 4, p->ts, &fresh);
	if (ss == NULL)
		return;
	n = record(ss, p->arp.tpa, 4, 0, p->ts, s->window_us);
	if (n < s->arp_threshold)
		return;
	memset(&a, 0, sizeof(a));
	a.src.af = 4;
	memcpy(a.src.ip, p->arp.spa, 4);
	if (det_policy(ctx, ICS_NONE, DET_ROLE_DISCOVERY, &a.src) == DET_ALLOWED)
		return;
	a.src.has_mac = true;
	memcpy(a.src.mac, p->arp.sha, 6);
	a.detector = "net.arp_sweep";
	a.severity = SEV_MEDIUM;
	a.technique = "T0846";
	snprintf(title, sizeof(title), "ARP sweep from %u.%u.%u.%u",
	    p->arp.spa[0], p->arp.spa[1], p->arp.spa[2], p->arp.spa[3]);
	a.title = title;
	a.proto = "arp";
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	summarize(ss, a.details, false, 4);
	cJSON_AddNumberToObject(a.details, "window_s", (double)s->window_us / 1e6);
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

const struct detector det_scan = {
	.name = "scan",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = scan_init,
	.on_flow_start = scan_flow_start,
	.on_arp = scan_arp,
	.destroy = scan_destroy,
};
