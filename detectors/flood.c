/*
 * flood.c - packet floods from one host to another (ATT&CK for ICS T0814
 * Denial of Service).
 *
 * Counts, per src->dst pair, the packets that cost the receiver work:
 * TCP segments carrying data or SYN, and UDP datagrams.  Pure ACKs do not
 * count, so a bulk transfer's acknowledgements do not look like a flood.
 * A pair above `rate` packets/s averaged over `interval` seconds alerts
 * (net.flood); a pair opening connections (SYN without ACK) faster than
 * `syn_rate`/s over `interval` alerts as net.connection_flood.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "lib/ipmap.h"

struct pair {
	uint64_t	start;		/* current interval's start */
	uint32_t	count;		/* packets in it */
	uint32_t	syns;
	uint64_t	syn_start;	/* connection-rate interval's start */
	uint32_t	syn_count;	/* connection requests in it */
	uint16_t	syn_port;	/* ... to this service port */
};

struct flood_state {
	struct ipmap	*pairs;
	uint64_t	 interval_us;
	double		 rate;
	double		 syn_rate;
};

static const struct cfg_key keys[] = {
	{ "rate", CFG_DOUBLE, "250", 1, 10000000,
	  "packets/s from one host to one host above which it is a flood" },
	{ "interval", CFG_DOUBLE, "2", 0.1, 3600, "seconds the rate is averaged over" },
	{ "syn_rate", CFG_DOUBLE, "20", 0, 10000000,
	  "connection requests (SYN)/s from one host to one host above which it "
	  "is a connection flood (0: off)" },
	{ "max_pairs", CFG_INT, "65536", 16, 10000000, "src->dst pairs tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
flood_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct flood_state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->pairs = ipmap_new((size_t)cfg_int(c, sec, "max_pairs"),
	    sizeof(struct pair));
	if (s->pairs == NULL) {
		free(s);
		return -1;
	}
	s->rate = cfg_double(c, sec, "rate");
	s->interval_us = (uint64_t)(cfg_double(c, sec, "interval") * 1e6);
	s->syn_rate = cfg_double(c, sec, "syn_rate");
	*state = s;
	return 0;
}

static void
flood_destroy(void *state)
{
	struct flood_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->pairs);
	free(s);
}

/*
 * An established flow sending far below the rate right now cannot be (a
 * real part of) a flood from this pair by itself.  The flow table keeps
 * each flow's packets of the last two seconds, so a session that suddenly
 * speeds up is counted again within a second.
 */
static bool
slow_session(const struct flood_state *s, const struct flow *f, uint64_t now)
{
	if (now < f->first_ts + 2000000u)
		return false;	/* new flows always count */
	return (double)flow_recent_rate(f, FLOW_C2S, now) < s->rate / 8;
}

static void count_pair(struct flood_state *s, struct det_ctx *ctx,
    const struct pkt *p, const struct flow *f, int dir);

static void
flood_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct flood_state *s = state;

	/* the side that opened the flow floods; the answers are its echo */
	if (dir != FLOW_C2S)
		return;
	if (p->ip_proto == 6) {
		if (p->payload_len == 0 && !(p->tcp_flags & PKT_TCP_SYN))
			return;
		/*
		 * A session well below the rate right now is not counted in
		 * the pair table.  New flows, SYNs and fast flows always are,
		 * so floods spread over many connections are still seen.
		 */
		if (!(p->tcp_flags & PKT_TCP_SYN) && slow_session(s, f, p->ts))
			return;
	} else if (p->ip_proto != 17)
		return;
	count_pair(s, ctx, p, f, dir);
}

/*
 * Connection requests from one host to one service port of another host
 * faster than syn_rate/s over `interval`: sessions opened to exhaust the device's connection
 * table (S7 / OPC UA / CIP servers take a handful), whatever each one
 * carries.  Returns true when it alerted.
 */
static bool
conn_flood(struct flood_state *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct pair *pr)
{
	struct det_alert a;
	double rate;
	char title[160], sb[64], db[64];

	/* one service port: a sweep over many ports is a scan (scan.c) */
	if (pr->syn_count == 0 || p->ts >= pr->syn_start + s->interval_us ||
	    p->dport != pr->syn_port) {
		pr->syn_start = p->ts;
		pr->syn_count = 0;
		pr->syn_port = p->dport;
	}
	pr->syn_count++;
	rate = (double)pr->syn_count / ((double)s->interval_us / 1e6);
	if (rate <= s->syn_rate)
		return false;
	pr->syn_count = 0;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, dir == FLOW_C2S);
	det_endpoint_from_flow(&a.dst, f, dir != FLOW_C2S);
	a.detector = "net.connection_flood";
	a.severity = SEV_HIGH;
	a.technique = "T0814";
	snprintf(title, sizeof(title),
	    "Connection flood: %s -> %s above %.0f connections/s",
	    det_ip_str(&a.src, sb, sizeof(sb)), det_ip_str(&a.dst, db, sizeof(db)),
	    s->syn_rate);
	a.title = title;
	a.proto = f->ics != ICS_NONE ? ics_proto_name((enum ics_proto)f->ics) :
	    "tcp";
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "connections_per_s", rate);
	cJSON_AddNumberToObject(a.details, "threshold", s->syn_rate);
	cJSON_AddNumberToObject(a.details, "interval_s",
	    (double)s->interval_us / 1e6);
	a.src.port = 0;
	det_alert(ctx, &a);
	return true;
}

/* out of line: the packets flood_packet returns on pay for no frame */
static __attribute__((noinline)) void
count_pair(struct flood_state *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct det_alert a;
	struct pair *pr;
	uint8_t key[33];
	size_t alen = p->af == 6 ? 16 : 4;
	double rate;
	int fresh;
	char title[160], sb[64], db[64];

	memcpy(key, p->src, alen);
	memcpy(key + alen, p->dst, alen);
	key[2 * alen] = p->af;
	pr = ipmap_put(s->pairs, key, 2 * alen + 1, p->ts, &fresh);
	if (pr == NULL)
		return;
	if (fresh || p->ts >= pr->start + s->interval_us) {
		pr->start = p->ts;
		pr->count = 0;
		pr->syns = 0;
	}
	pr->count++;
	if (p->tcp_flags & PKT_TCP_SYN)
		pr->syns++;
	if ((p->tcp_flags & PKT_TCP_SYN) && !(p->tcp_flags & PKT_TCP_ACK) &&
	    s->syn_rate > 0 && conn_flood(s, ctx, p, f, dir, pr))
		return;
	rate = (double)pr->count / ((double)s->interval_us / 1e6);
	if (rate <= s->rate)
		return;
	/* one alert per interval at most from here; storms fold in alert.c */
	pr->count = 0;
	pr->start = p->ts;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, dir == FLOW_C2S);
	det_endpoint_from_flow(&a.dst, f, dir != FLOW_C2S);
	a.detector = "net.flood";
	a.severity = SEV_HIGH;
	a.technique = "T0814";
	snprintf(title, sizeof(title), "Flood: %s -> %s above %.0f packets/s",
	    det_ip_str(&a.src, sb, sizeof(sb)), det_ip_str(&a.dst, db, sizeof(db)),
	    s->rate);
	a.title = title;
	a.proto = f->ics != ICS_NONE ? ics_proto_name((enum ics_proto)f->ics) :
	    p->ip_proto == 6 ? "tcp" : "udp";
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "rate_pps", rate);
	cJSON_AddNumberToObject(a.details, "threshold_pps", s->rate);
	cJSON_AddNumberToObject(a.details, "interval_s",
	    (double)s->interval_us / 1e6);
	cJSON_AddNumberToObject(a.details, "syns", pr->syns);
	/* the port changes with every SYN of a SYN flood: key on hosts */
	a.src.port = 0;
	det_alert(ctx, &a);
}

/* Entries the caps recycled: an attacker filling the tables shows here. */
static void
flood_counters(void *state, det_counter_fn add, void *arg)
{
	struct flood_state *s = state;

	add(arg, "recycled", ipmap_recycled(s->pairs));
}

const struct detector det_flood = {
	.name = "flood",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = flood_init,
	.on_packet = flood_packet,
	.destroy = flood_destroy,
	.counters = flood_counters,
};
