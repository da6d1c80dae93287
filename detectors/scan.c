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

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "lib/ipmap.h"

#define SCAN_SLOTS	64	/* targets remembered per source */

enum tstate { T_PENDING, T_FAILED, T_ANSWERED };

struct target {
	uint8_t		ip[16];
	uint16_t	port;
	uint8_t		state;		/* enum tstate */
	uint64_t	ts;
};

struct src_state {
	struct target	t[SCAN_SLOTS];
	uint32_t	n;		/* used slots */
	uint32_t	alerted;	/* failed count at the last alert */
	uint8_t		mac[6];
	uint8_t		af;
	uint8_t		has_mac;
	uint8_t		ip[16];
};

struct scan_state {
	struct ipmap	*tcp;		/* src ip -> src_state (TCP/UDP) */
	struct ipmap	*arp;		/* src ip -> src_state (ARP targets) */
	uint64_t	 window_us;
	uint64_t	 grace_us;
	uint32_t	 threshold;
	uint32_t	 arp_threshold;
	uint64_t	 now;
};

static const struct cfg_key keys[] = {
	{ "window", CFG_DOUBLE, "900", 1, 86400,
	  "seconds over which a source's failed targets are counted (slow scans)" },
	{ "threshold", CFG_INT, "12", 2, 64,
	  "distinct ip:port targets a source may fail to talk to within the window" },
	{ "arp_threshold", CFG_INT, "24", 2, 64,
	  "distinct IPs a source may ARP for without an answer within the window" },
	{ "grace", CFG_DOUBLE, "2", 0.01, 600,
	  "seconds a target has to answer before the attempt counts as failed" },
	{ "max_sources", CFG_INT, "4096", 16, 1000000, "sources tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
scan_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
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
	s->grace_us = (uint64_t)(cfg_double(c, sec, "grace") * 1e6);
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
 * a == b over alen bytes (4 or 16), in fixed-size loads: a memcmp call
 * per stored target was most of this detector's cost on many short flows.
 */
static inline bool
ip_eq(const uint8_t *a, const uint8_t *b, size_t alen)
{
	uint64_t a0, a1, b0, b1;
	uint32_t x, y;

	if (alen == 4) {
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static struct target *
find_target(struct src_state *ss, const uint8_t *ip, size_t alen, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < ss->n; i++)
		if (ss->t[i].port == port && ip_eq(ss->t[i].ip, ip, alen))
			return &ss->t[i];
	return NULL;
}

/* Remember an attempt on (ip, port); known targets are refreshed. */
static void
record(struct src_state *ss, const uint8_t *ip, size_t alen, uint16_t port,
    uint64_t ts, uint64_t window)
{
	struct target *t = find_target(ss, ip, alen, port);
	uint32_t i, live = 0, oldest = 0;

	if (t != NULL) {
		if (t->state == T_ANSWERED)
			return;
		t->ts = ts;
		return;
	}
	/* drop targets older than the window, compacting */
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
	ss->t[ss->n].state = T_PENDING;
	ss->n++;
}

/* Failed targets (failed, or pending past the grace time) and the newest. */
static uint32_t
failed(const struct src_state *ss, uint64_t now, uint64_t grace,
    uint64_t *newest)
{
	uint32_t i, n = 0;

	*newest = 0;
	for (i = 0; i < ss->n; i++) {
		const struct target *t = &ss->t[i];

		if (t->state == T_FAILED ||
		    (t->state == T_PENDING && t->ts + grace <= now)) {
			n++;
			if (t->ts > *newest)
				*newest = t->ts;
		}
	}
	return n;
}

/* Targets not answered (yet), whatever their age. */
static uint32_t
unanswered(const struct src_state *ss)
{
	uint32_t i, n = 0;

	for (i = 0; i < ss->n; i++)
		if (ss->t[i].state != T_ANSWERED)
			n++;
	return n;
}

static void
summarize(const struct src_state *ss, cJSON *d, bool with_ports, size_t alen)
{
	uint32_t i, j, hosts = 0, ports = 0;
	cJSON *pl = cJSON_CreateArray();

	for (i = 0; i < ss->n; i++) {
		if (ss->t[i].state == T_ANSWERED)
			continue;
		for (j = 0; j < i; j++)
			if (ss->t[j].state != T_ANSWERED &&
			    memcmp(ss->t[j].ip, ss->t[i].ip, alen) == 0)
				break;
		if (j == i)
			hosts++;
		for (j = 0; j < i; j++)
			if (ss->t[j].state != T_ANSWERED &&
			    ss->t[j].port == ss->t[i].port)
				break;
		if (j == i) {
			ports++;
			if (with_ports && ports <= 16)
				cJSON_AddItemToArray(pl,
				    cJSON_CreateNumber(ss->t[i].port));
		}
	}
	cJSON_AddNumberToObject(d, "hosts", hosts);
	if (with_ports) {
		cJSON_AddNumberToObject(d, "ports", ports);
		cJSON_AddItemToObject(d, "port_list", pl);
	} else
		cJSON_Delete(pl);
}

static bool
is_broadcast(const struct flow *f)
{
	if (f->af == 4)
		return f->srv.ip[0] >= 224 || f->srv.ip[3] == 255;
	return f->srv.ip[0] == 0xff;
}

/* Raise (again) when a source's failed targets reached the threshold. */
static void
evaluate(struct scan_state *s, struct det_ctx *ctx, struct src_state *ss,
    bool arp, uint64_t now)
{
	uint32_t thr = arp ? s->arp_threshold : s->threshold, n;
	size_t alen = ss->af == 6 ? 16 : 4;
	struct det_alert a;
	uint64_t newest;
	char title[160], ipb[64];

	n = failed(ss, now, s->grace_us, &newest);
	if (n < thr || n <= ss->alerted)
		return;
	ss->alerted = n;
	memset(&a, 0, sizeof(a));
	a.src.af = ss->af;
	memcpy(a.src.ip, ss->ip, alen);
	a.src.has_mac = ss->has_mac;
	memcpy(a.src.mac, ss->mac, 6);
	if (det_policy(ctx, ICS_NONE, DET_ROLE_DISCOVERY, &a.src) == DET_ALLOWED)
		return;
	a.detector = arp ? "net.arp_sweep" : "net.port_scan";
	a.severity = arp ? SEV_MEDIUM : SEV_HIGH;
	a.technique = "T0846";
	snprintf(title, sizeof(title), "%s from %s",
	    arp ? "ARP sweep" : "Port scan / host sweep",
	    det_ip_str(&a.src, ipb, sizeof(ipb)));
	a.title = title;
	a.proto = arp ? "arp" : "tcp";
	/* the probe that made the count: inside the scan's own time span */
	a.ts = newest;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "failed_targets", n);
	summarize(ss, a.details, !arp, alen);
	cJSON_AddNumberToObject(a.details, "window_s", (double)s->window_us / 1e6);
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

static void
scan_flow_start(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct scan_state *s = state;
	struct src_state *ss;
	size_t alen = f->af == 6 ? 16 : 4;
	int fresh;

	(void)ctx;
	/*
	 * A connection attempt: TCP opened by a bare SYN or by a probe without
	 * ACK (NULL, FIN, Xmas scans), or a new UDP flow.
	 */
	if (f->transport == 6) {
		if (f->tcp_flags[FLOW_C2S] & PKT_TCP_ACK)
			return;
	} else if (f->transport != 17 || is_broadcast(f))
		return;
	ss = ipmap_put(s->tcp, f->cli.ip, alen, f->first_ts, &fresh);
	if (ss == NULL)
		return;
	if (fresh) {
		ss->af = f->af;
		memcpy(ss->ip, f->cli.ip, alen);
	}
	if (f->cli.has_mac) {
		ss->has_mac = 1;
		memcpy(ss->mac, f->cli.mac, 6);
	}
	record(ss, f->srv.ip, alen, f->srv.port, f->first_ts, s->window_us);
}

/* Data from the server (or data on an open TCP session): not a probe. */
static void
scan_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct scan_state *s = state;
	struct src_state *ss;
	struct target *t;
	size_t alen = f->af == 6 ? 16 : 4;

	(void)ctx;
	if (p->payload_len == 0 || (f->transport != 6 && f->transport != 17))
		return;
	if (f->transport == 17 && dir != FLOW_S2C)
		return;
	/* only the first few data packets of a flow can change anything */
	if (f->pkts[0] + f->pkts[1] > 8)
		return;
	ss = ipmap_get(s->tcp, f->cli.ip, alen);
	if (ss == NULL)
		return;
	t = find_target(ss, f->srv.ip, alen, f->srv.port);
	if (t != NULL)
		t->state = T_ANSWERED;
}

static void
scan_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct scan_state *s = state;
	struct src_state *ss;
	struct target *t;
	size_t alen = f->af == 6 ? 16 : 4;

	ss = ipmap_get(s->tcp, f->cli.ip, alen);
	if (ss == NULL)
		return;
	t = find_target(ss, f->srv.ip, alen, f->srv.port);
	if (t == NULL || t->state == T_ANSWERED)
		return;
	t->state = T_FAILED;
	evaluate(s, ctx, ss, false, f->last_ts);
}

static int
tick_one(void *arg, const void *key, size_t klen, void *val)
{
	void **a = arg;

	(void)key;
	(void)klen;
	evaluate(a[0], a[1], val, a[2] != NULL, ((struct scan_state *)a[0])->now);
	return 0;
}

static void
scan_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct scan_state *s = state;
	void *args[3] = { s, ctx, NULL };

	s->now = now;
	ipmap_each(s->tcp, tick_one, args);
	args[2] = s;
	ipmap_each(s->arp, tick_one, args);
}

static void
scan_arp(void *state, struct det_ctx *ctx, const struct pkt *p)
{
	static const uint8_t zero[4];
	struct scan_state *s = state;
	struct src_state *ss;
	struct target *t;
	int fresh;

	(void)ctx;
	if (memcmp(p->arp.spa, zero, 4) == 0)
		return;
	if (p->arp.op == 2) {
		/* an answer: the asker's target exists */
		ss = ipmap_get(s->arp, p->arp.tpa, 4);
		if (ss != NULL && (t = find_target(ss, p->arp.spa, 4, 0)) != NULL)
			t->state = T_ANSWERED;
		return;
	}
	if (p->arp.op != 1 || memcmp(p->arp.spa, p->arp.tpa, 4) == 0)
		return;
	ss = ipmap_put(s->arp, p->arp.spa, 4, p->ts, &fresh);
	if (ss == NULL)
		return;
	if (fresh) {
		ss->af = 4;
		memcpy(ss->ip, p->arp.spa, 4);
	}
	ss->has_mac = 1;
	memcpy(ss->mac, p->arp.sha, 6);
	record(ss, p->arp.tpa, 4, 0, p->ts, s->window_us);
	/*
	 * A burst of twice the threshold still unanswered is a sweep already:
	 * hosts that exist answer an ARP request within milliseconds, so do
	 * not wait for the grace time to say so.
	 */
	if (unanswered(ss) >= 2 * s->arp_threshold)
		evaluate(s, ctx, ss, true, p->ts + s->grace_us);
}

/* Entries the caps recycled: an attacker filling the tables shows here. */
static void
scan_counters(void *state, det_counter_fn add, void *arg)
{
	struct scan_state *s = state;

	add(arg, "sources_recycled", ipmap_recycled(s->tcp));
	add(arg, "arp_sources_recycled", ipmap_recycled(s->arp));
}

const struct detector det_scan = {
	.name = "scan",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = scan_init,
	.on_flow_start = scan_flow_start,
	.on_packet = scan_packet,
	.on_flow_end = scan_flow_end,
	.on_arp = scan_arp,
	.on_tick = scan_tick,
	.destroy = scan_destroy,
	.counters = scan_counters,
};
