/*
 * points.c - who maps the points of a device.
 *
 *   points.read_sweep   one client reads many distinct points (tags,
 *                       attribute paths, objects and properties, memory
 *                       addresses, information objects: what the
 *                       protocol's descriptor says a read names, see
 *                       read_target in dissectors/proto.h) of one server
 *                       within window_s, none of them part of what it
 *                       read in earlier windows (its poll set)      T0861
 *
 * A master or an HMI reads the same points again and again; a sweep reads
 * each once.  Who may: a host [policy] (or the baseline) allows as master
 * or writer of the protocol, or allows to discover, is never judged.  A
 * host the policy does not list raises at reads (16) distinct new points;
 * with no policy at all (nothing says who the masters are) it takes
 * unknown_reads (48), a sweep far beyond any screen an HMI opens.  Raised
 * once per window and pair.  Modbus has its own modbus.address_scan.
 *
 * Memory: max_pairs (client, server, protocol) entries of SLOTS points and
 * a 512-bit poll set each; the oldest entry is recycled when full (counted).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"
#include "lib/ipmap.h"

#define SLOTS	48

struct rpair {
	uint64_t	start;
	uint32_t	seen[SLOTS];	/* new points read in this window */
	uint8_t		n;
	uint8_t		alerted;
	uint64_t	known[8];	/* points of earlier windows (hash set) */
};

struct points {
	struct ipmap	*pairs;
	uint64_t	 window_us;
	unsigned	 reads, unknown_reads;
};

static const struct cfg_key keys[] = {
	{ "window_s", CFG_INT, "60", 1, 86400,
	  "seconds over which one client's new points on one server are counted" },
	{ "reads", CFG_INT, "16", 2, SLOTS,
	  "distinct new points read within the window by a host [policy] does not allow" },
	{ "unknown_reads", CFG_INT, "48", 2, SLOTS,
	  "... by any host when no policy or baseline says who the masters are" },
	{ "max_pairs", CFG_INT, "4096", 16, 10000000,
	  "client/server/protocol entries tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
pt_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct points *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->pairs = ipmap_new((size_t)cfg_int(c, sec,
	    "max_pairs"), sizeof(struct rpair))) == NULL) {
		free(s);
		snprintf(err, errlen, "points: out of memory");
		return -1;
	}
	s->window_us = (uint64_t)cfg_int(c, sec, "window_s") * 1000000u;
	s->reads = (unsigned)cfg_int(c, sec, "reads");
	s->unknown_reads = (unsigned)cfg_int(c, sec, "unknown_reads");
	*state = s;
	return 0;
}

static void
pt_destroy(void *state)
{
	struct points *s = state;

	if (s != NULL)
		ipmap_free(s->pairs);
	free(s);
}

static uint32_t
bit_of(uint32_t k)
{
	return (k * 2654435761u) >> 23;	/* 0..511 */
}

static __attribute__((noinline, cold)) void
raise_sweep(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct rpair *p, bool listed)
{
	struct det_alert a;
	char title[160];

	det_alert_from_pdu(&a, pdu);
	a.detector = "points.read_sweep";
	a.severity = SEV_MEDIUM;
	a.technique = "T0861";
	snprintf(title, sizeof(title),
	    "%s read sweep: %u distinct points read in %.1f s, none of them "
	    "polled before", ics_proto_name(pdu->proto), p->n,
	    (double)(pdu->ts - p->start) / 1e6);
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "distinct_points", p->n);
	cJSON_AddBoolToObject(a.details, "policy_names_masters", listed);
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

static void
pt_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct points *s = state;
	const struct proto_desc *d = proto_desc_of(pdu->proto);
	const struct flow *f = pdu->flow;
	/* the reader is whoever sent the read request */
	bool cli = pdu->sender_is_cli;
	struct det_endpoint src;
	enum det_verdict v;
	struct rpair *p;
	uint8_t key[33];
	size_t n = f->af == 6 ? 16 : 4;
	uint32_t k, b;
	uint8_t i;
	int fresh;

	if (d == NULL || d->read_target == NULL || !d->read_target(pdu, &k))
		return;
	key[0] = (uint8_t)pdu->proto;
	memcpy(key + 1, cli ? f->cli.ip : f->srv.ip, n);
	memcpy(key + 1 + n, cli ? f->srv.ip : f->cli.ip, n);
	p = ipmap_put(s->pairs, key, 1 + 2 * n, pdu->ts, &fresh);
	if (p == NULL)
		return;
	if (fresh)
		p->start = pdu->ts;
	if (pdu->ts - p->start > s->window_us) {
		/* what it read before is its poll set, not a sweep */
		for (i = 0; i < p->n; i++) {
			b = bit_of(p->seen[i]);
			p->known[b >> 6] |= 1ull << (b & 63);
		}
		p->start = pdu->ts;
		p->n = 0;
		p->alerted = 0;
	}
	b = bit_of(k);
	if (p->known[b >> 6] >> (b & 63) & 1)
		return;
	for (i = 0; i < p->n; i++)
		if (p->seen[i] == k)
			return;
	if (p->n == SLOTS)
		return;
	p->seen[p->n++] = k;
	if (p->alerted || p->n < s->reads)
		return;
	det_endpoint_from_flow(&src, f, cli);
	if (det_policy(ctx, pdu->proto, DET_ROLE_DISCOVERY, &src) == DET_ALLOWED)
		return;
	v = det_policy(ctx, pdu->proto, DET_ROLE_MASTER, &src);
	if (v == DET_ALLOWED || (v == DET_UNSET && p->n < s->unknown_reads))
		return;
	p->alerted = 1;
	raise_sweep(ctx, pdu, p, v == DET_DENIED);
}

static void
pt_counters(void *state, det_counter_fn add, void *arg)
{
	struct points *s = state;

	add(arg, "pairs_recycled", ipmap_recycled(s->pairs));
}

const struct detector det_points = {
	.name = "points",
	.severity = SEV_MEDIUM,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_ENIP) | DET_PROTO(ICS_BACNET) |
	    DET_PROTO(ICS_FINS) | DET_PROTO(ICS_IEC104),
	.init = pt_init,
	.on_pdu = pt_pdu,
	.counters = pt_counters,
	.destroy = pt_destroy,
};
