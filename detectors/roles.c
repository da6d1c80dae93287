/*
 * roles.c - who may speak to an outstation at all.
 *
 *   roles.second_master   a host sends requests to a DNP3 / IEC 104
 *                         outstation that already has an established master
 *                         (no config needed; those protocols have one master
 *                         per outstation)                          T0848
 *   roles.rogue_master    any request, reads and discovery included, from a
 *                         host [policy] dnp3_masters / iec104_masters does
 *                         not list                                  T0848
 *                         Both are raised once per client and outstation,
 *                         and again when it resumes after quiet_s silence.
 *   roles.dnp3_address_scan  one client tries many DNP3 link addresses at one
 *                         outstation IP, most of them unanswered (a poll
 *                         list is answered; a sweep is not)          T0846
 *   roles.iec104_address_scan  the same with IEC 104 common addresses: a
 *                         CA counts as answered when the station sends
 *                         an ASDU for it that is no negative confirm and
 *                         no "unknown" cause (44-47)                 T0846
 * A rogue or second master's interrogation or read (IEC 104 C_IC, C_CI,
 * C_RD; DNP3 READ) also lists T0861: it enumerates the station's points.
 *
 * Roles come from the transport (the request travels toward the port the
 * server listens on) and from what was seen, never from a flag the sender
 * sets.  A master is "established" once it has sent min_requests requests
 * over at least establish_s seconds and is still active (last request
 * within idle_s).  Redundant IEC 104 front ends keep their standby link
 * alive with U-format TESTFR only, so only I-format frames count there.
 *
 * Memory: max_servers outstation entries (protocol + IP), MAX_MASTERS
 * clients each; what does not fit is counted (--stats via the summary
 * alert is not needed: the counters are in the detector's state and the
 * cap is reported in details of the first alert that hits it).
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "lib/restab.h"

#define MAX_MASTERS	6
#define MAX_ADDRS	16	/* DNP3 link / IEC 104 common addresses per client */

struct addr_try {
	uint16_t	addr;
	uint8_t		answered;
};

struct client {
	uint8_t		ip[16];
	uint64_t	first, last;
	uint32_t	reqs;
	uint8_t		alerted;	/* second/rogue master raised once */
	uint8_t		scan_alerted;
	/* DNP3 link or IEC 104 common addresses it addressed in the window */
	uint64_t	win_start;
	uint8_t		naddr;
	struct addr_try	 addr[MAX_ADDRS];
};

struct server {
	uint8_t		used;
	uint8_t		af;
	uint8_t		proto;
	uint8_t		ip[16];
	uint8_t		nc;
	struct client	c[MAX_MASTERS];
};

struct roles {
	struct server	*tab;
	size_t		 cap;		/* power of two */
	size_t		 used;
	uint64_t	 servers_dropped, clients_dropped;
	uint64_t	 establish_us, idle_us, quiet_us, scan_window_us;
	unsigned	 min_requests, scan_addrs, scan_unanswered;
};

static const struct cfg_key keys[] = {
	{ "max_servers", CFG_INT, "1024", 16, 1u << 20,
	  "outstations (protocol + IP) whose masters are tracked" },
	{ "min_requests", CFG_INT, "5", 1, 1000000,
	  "requests before a master counts as established" },
	{ "establish_s", CFG_INT, "10", 0, 86400,
	  "seconds of polling before a master counts as established" },
	{ "idle_s", CFG_INT, "300", 1, 864000,
	  "an established master silent this long no longer counts" },
	{ "quiet_s", CFG_INT, "60", 1, 86400,
	  "a flagged host that resumes after this many silent seconds is flagged again" },
	{ "scan_window_s", CFG_INT, "60", 1, 3600,
	  "window of the DNP3 link-address / IEC 104 common-address scan rules" },
	{ "scan_addresses", CFG_INT, "8", 2, MAX_ADDRS,
	  "distinct DNP3 link addresses / IEC 104 common addresses in the window that make a scan" },
	{ "scan_unanswered", CFG_INT, "6", 1, MAX_ADDRS,
	  "of which at least this many got no answer" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
roles_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct roles *r;
	size_t want = (size_t)cfg_int(c, sec, "max_servers"), cap = 16;

	while (cap < want * 2)
		cap <<= 1;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->tab = restab_new(cap, sizeof(*r->tab))) == NULL) {
		free(r);
		snprintf(err, errlen, "roles: out of memory");
		return -1;
	}
	r->cap = cap;
	r->min_requests = (unsigned)cfg_int(c, sec, "min_requests");
	r->establish_us = (uint64_t)cfg_int(c, sec, "establish_s") * 1000000u;
	r->idle_us = (uint64_t)cfg_int(c, sec, "idle_s") * 1000000u;
	r->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	r->scan_window_us = (uint64_t)cfg_int(c, sec, "scan_window_s") * 1000000u;
	r->scan_addrs = (unsigned)cfg_int(c, sec, "scan_addresses");
	r->scan_unanswered = (unsigned)cfg_int(c, sec, "scan_unanswered");
	*state = r;
	return 0;
}

static void
roles_destroy(void *state)
{
	struct roles *r = state;

	if (r != NULL)
		restab_free(r->tab, r->cap, sizeof(*r->tab));
	free(r);
}

static uint32_t
hash_key(uint8_t af, uint8_t proto, const uint8_t *ip)
{
	uint32_t h = 2166136261u ^ af ^ ((uint32_t)proto << 8);
	int i, n = af == 6 ? 16 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h;
}

/* The outstation entry, created on first use; NULL when the table is full. */
static struct server *
server_get(struct roles *r, uint8_t af, uint8_t proto, const uint8_t *ip)
{
	size_t i = hash_key(af, proto, ip) & (r->cap - 1), n;

	for (n = 0; n < r->cap; n++, i = (i + 1) & (r->cap - 1)) {
		struct server *s = &r->tab[i];

		if (!s->used) {
			/* keep the table at most half full: probes stay short */
			if (r->used * 2 >= r->cap) {
				r->servers_dropped++;
				return NULL;
			}
			s->used = 1;
			s->af = af;
			s->proto = proto;
			memcpy(s->ip, ip, 16);
			r->used++;
			return s;
		}
		if (s->af == af && s->proto == proto && memcmp(s->ip, ip, 16) == 0)
			return s;
	}
	return NULL;
}

static struct client *
client_get(struct roles *r, struct server *s, const uint8_t *ip, uint64_t ts)
{
	struct client *c;
	uint8_t i;

	for (i = 0; i < s->nc; i++)
		if (memcmp(s->c[i].ip, ip, 16) == 0)
			return &s->c[i];
	if (s->nc == MAX_MASTERS) {
		r->clients_dropped++;
		return NULL;
	}
	c = &s->c[s->nc++];
	memset(c, 0, sizeof(*c));
	memcpy(c->ip, ip, 16);
	c->first = c->last = ts;
	return c;
}

static bool
established(const struct roles *r, const struct client *c, uint64_t now)
{
	return c->reqs >= r->min_requests &&
	    c->last - c->first >= r->establish_us &&
	    now - c->last <= r->idle_us;
}

/* Is this PDU an application request that makes its sender a master? */
static bool
counts_as_request(const struct det_pdu *pdu)
{
	if (!pdu->from_client)
		return false;
	switch (pdu->proto) {
	case ICS_DNP3:
		/* link-layer only frames (request link status) are requests too */
		return !pdu->u.dnp3->has_app ||
		    pdu->u.dnp3->app_fc < DNP3_FC_RESPONSE;
	case ICS_IEC104:
		return pdu->u.iec104->format == IEC104_FORMAT_I;
	default:
		return false;
	}
}

/* An interrogation or read: the whole station's points, enumerated. */
static bool
reads_points(const struct det_pdu *pdu)
{
	const struct iec104_apdu *m;

	if (pdu->proto == ICS_DNP3)
		return pdu->u.dnp3->has_app && pdu->u.dnp3->app_fc == DNP3_FC_READ;
	m = pdu->u.iec104;
	return m->has_asdu && (m->type_id == IEC104_C_IC_NA_1 ||
	    m->type_id == IEC104_C_CI_NA_1 || m->type_id == IEC104_C_RD_NA_1);
}

static void
raise_master(struct roles *r, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct server *s, const struct client *who, bool policy)
{
	struct det_alert a;
	char title[200], mb[64], sb[64];
	cJSON *list;
	uint8_t i;

	det_alert_from_pdu(&a, pdu);
	a.detector = policy ? "roles.rogue_master" : "roles.second_master";
	a.severity = SEV_HIGH;
	a.technique = "T0848";
	if (reads_points(pdu))
		a.techniques[0] = "T0861";
	snprintf(title, sizeof(title), policy ?
	    "%s request to %s from %s, not a known master (rogue master)" :
	    "%s request to %s from %s while it has an established master (second master)",
	    ics_proto_name(pdu->proto), det_ip_str(&a.dst, sb, sizeof(sb)),
	    det_ip_str(&a.src, mb, sizeof(mb)));
	a.title = title;
	a.details = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(a.details, "established_masters");
	for (i = 0; i < s->nc; i++) {
		struct det_endpoint e;

		if (&s->c[i] == who || !established(r, &s->c[i], pdu->ts))
			continue;
		memset(&e, 0, sizeof(e));
		e.af = s->af;
		memcpy(e.ip, s->c[i].ip, 16);
		cJSON_AddItemToArray(list, cJSON_CreateString(det_ip_str(&e, mb,
		    sizeof(mb))));
	}
	if (pdu->proto == ICS_DNP3) {
		cJSON_AddNumberToObject(a.details, "function",
		    pdu->u.dnp3->has_app ? pdu->u.dnp3->app_fc : -1);
		cJSON_AddNumberToObject(a.details, "destination_address",
		    pdu->u.dnp3->dst);
	} else if (pdu->proto == ICS_IEC104 && pdu->u.iec104->has_asdu)
		cJSON_AddNumberToObject(a.details, "type_id",
		    pdu->u.iec104->type_id);
	if (r->servers_dropped || r->clients_dropped) {
		cJSON_AddNumberToObject(a.details, "servers_dropped",
		    (double)r->servers_dropped);
		cJSON_AddNumberToObject(a.details, "clients_dropped",
		    (double)r->clients_dropped);
	}
	det_alert(ctx, &a);
}

/*
 * DNP3 link-address or IEC 104 common-address sweep: a poll list is a few
 * addresses, each polled again and again and answered; a sweep tries many
 * once and most stay silent or are refused (only the station's own
 * address, or none, answers).
 */
static void
addr_scan(struct roles *r, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct client *c, uint16_t dst)
{
	bool dnp3 = pdu->proto == ICS_DNP3;
	struct det_alert a;
	unsigned unanswered = 0;
	char title[200];
	cJSON *tried;
	uint8_t i;

	if (pdu->ts - c->win_start > r->scan_window_us) {
		c->win_start = pdu->ts;
		c->naddr = 0;
		c->scan_alerted = 0;
	}
	for (i = 0; i < c->naddr; i++)
		if (c->addr[i].addr == dst)
			return;
	if (c->naddr == MAX_ADDRS)
		return;
	c->addr[c->naddr].addr = dst;
	c->addr[c->naddr].answered = 0;
	c->naddr++;
	for (i = 0; i < c->naddr; i++)
		unanswered += !c->addr[i].answered;
	if (c->scan_alerted || c->naddr < r->scan_addrs ||
	    unanswered < r->scan_unanswered)
		return;
	c->scan_alerted = 1;
	det_alert_from_pdu(&a, pdu);
	a.detector = dnp3 ? "roles.dnp3_address_scan" :
	    "roles.iec104_address_scan";
	a.severity = SEV_HIGH;
	a.technique = "T0846";
	snprintf(title, sizeof(title),
	    "%s scan: %u addresses tried, %u unanswered",
	    dnp3 ? "DNP3 link address" : "IEC 104 common address",
	    c->naddr, unanswered);
	a.title = title;
	a.details = cJSON_CreateObject();
	tried = cJSON_AddArrayToObject(a.details, "addresses");
	for (i = 0; i < c->naddr; i++)
		cJSON_AddItemToArray(tried, cJSON_CreateNumber(c->addr[i].addr));
	cJSON_AddNumberToObject(a.details, "unanswered", unanswered);
	if (dnp3)
		cJSON_AddNumberToObject(a.details, "source_address",
		    pdu->u.dnp3->src);
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

/* A station answered for address src: mark it in its client. */
static void
addr_answered(struct client *c, uint16_t src)
{
	uint8_t i;

	for (i = 0; i < c->naddr; i++)
		if (c->addr[i].addr == src)
			c->addr[i].answered = 1;
}

static void
roles_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct roles *r = state;
	const struct flow *f = pdu->flow;
	/* the server is who listens: the receiver of a request */
	bool srv_is_cli = pdu->from_client ? !pdu->sender_is_cli :
	    pdu->sender_is_cli;
	const struct flow_endpoint *se = srv_is_cli ? &f->cli : &f->srv;
	const struct flow_endpoint *ce = srv_is_cli ? &f->srv : &f->cli;
	struct det_endpoint src;
	struct server *s;
	struct client *c;
	enum det_verdict v;
	uint8_t i;
	bool other = false;

	if (f->cli.port == f->srv.port)
		return;		/* no transport role to go by */
	s = server_get(r, f->af, (uint8_t)pdu->proto, se->ip);
	if (s == NULL)
		return;
	c = client_get(r, s, ce->ip, pdu->ts);
	if (c == NULL)
		return;
	if (!pdu->from_client) {
		const struct iec104_apdu *m = pdu->u.iec104;

		if (pdu->proto == ICS_DNP3)
			addr_answered(c, pdu->u.dnp3->src);
		else if (m->has_asdu && !m->negative &&
		    (m->cot < IEC104_COT_UNKNOWN_TYPE ||
		    m->cot > IEC104_COT_UNKNOWN_IOA))
			addr_answered(c, m->common_address);
		return;
	}
	if (!counts_as_request(pdu)) {
		/* an IEC 104 master keeps its link with S and U frames */
		if (pdu->proto == ICS_IEC104) {
			c->reqs++;
			c->last = pdu->ts;
		}
		return;
	}
	if (pdu->proto == ICS_DNP3)
		addr_scan(r, ctx, pdu, c, pdu->u.dnp3->dst);
	else if (pdu->u.iec104->has_asdu)
		addr_scan(r, ctx, pdu, c, pdu->u.iec104->common_address);
	for (i = 0; i < s->nc; i++)
		if (&s->c[i] != c && established(r, &s->c[i], pdu->ts))
			other = true;
	/*
	 * A new episode after quiet is reported again, and the client has to
	 * establish itself again: a slow sweep (one address every 0.4 s for
	 * 12 s) is no established master when it comes back later to poll.
	 */
	if (pdu->ts - c->last > r->quiet_us) {
		c->alerted = 0;
		c->reqs = 0;
		c->first = pdu->ts;
	}
	if (!c->alerted) {
		det_endpoint_from_flow(&src, f, pdu->sender_is_cli);
		/* [policy] names the masters of these two protocols */
		v = det_policy(ctx, pdu->proto, DET_ROLE_MASTER, &src);
		if (v == DET_DENIED) {
			c->alerted = 1;
			raise_master(r, ctx, pdu, s, c, true);
		} else if (v != DET_ALLOWED && other && !established(r, c,
		    pdu->ts)) {
			c->alerted = 1;
			raise_master(r, ctx, pdu, s, c, false);
		}
	}
	c->reqs++;
	c->last = pdu->ts;
}

static int
roles_stats(void *state, char *buf, size_t len)
{
	const struct roles *r = state;

	return snprintf(buf, len, "\"outstations\":%zu,\"capacity\":%zu,"
	    "\"outstations_dropped\":%llu,\"clients_dropped\":%llu,\"bytes_reserved\":%zu",
	    r->used, r->cap / 2, (unsigned long long)r->servers_dropped,
	    (unsigned long long)r->clients_dropped, r->cap * sizeof(*r->tab));
}

const struct detector det_roles = {
	.name = "roles",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_DNP3) | DET_PROTO(ICS_IEC104),
	.init = roles_init,
	.on_pdu = roles_pdu,
	.stats = roles_stats,
	.destroy = roles_destroy,
};
