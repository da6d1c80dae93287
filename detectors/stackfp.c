/*
 * stackfp.c - who really sent it: the sending stack behind an address.
 *
 * An attacker that clones a device's IP and MAC (no ARP change) is
 * invisible to address checks.  Its frames still come from its own stack.
 * Per (IP, MAC, transport) this keeps a fingerprint of the sender: the
 * exact TTL (a host on the segment never changes it; when it does vary the
 * initial-TTL class is compared instead), the window and options of its
 * SYNs as a client and of its SYN-ACKs as a server.  Per TCP session and
 * direction it keeps the last segment (sequence, length, content hash).
 *
 *   stackfp.foreign_stack  a frame whose TTL or SYN/SYN-ACK fingerprint is
 *                          not the established one of its (IP, MAC), with
 *                          no link reset (silence of relearn_s) between.
 *                          Judged by what the frame carries:
 *                            a command toward the server          T0855
 *                            a poll/read toward the server        T0848
 *                            a response or report from the server T0856
 *                            a reset of an industrial session     T0830
 *   stackfp.syn_payload    a SYN that carries data from a service port
 *                          (below 1024 or an industrial port): a
 *                          crafted segment meant to make a peer reset T0856
 *   stackfp.tcp_conflict   two different payloads for the same TCP
 *                          sequence number in one direction (an injected
 *                          segment, or a copy altered in transit)
 *                            toward the server  T0831   from it  T0832
 *   stackfp.tcp_desync     a sender whose own bare ACKs stay behind data
 *                          the session already carried in its name: at
 *                          least desync_acks of them over at least
 *                          desync_ms, with no segment in step between (a
 *                          stack puts its next unsent byte in every bare
 *                          ACK; a keep-alive is one byte behind, a copy
 *                          of a frame captured twice comes at once and
 *                          the sender's next frame is in step again).
 *                          The bytes were injected: in the server's name
 *                          reports T0856, in the client's commands T0855
 *   stackfp.session_takeover  a client's connection attempts to a server's
 *                          industrial port refused (RST, no SYN-ACK) while
 *                          a session from the same address to that port
 *                          is live (data both ways within live_s): one
 *                          stack holds the session the other is kept out
 *                          of, a hijacked master                 T0848;
 *                          and with its reconnects accepted: a new DNP3
 *                          session from the address with the same link
 *                          addresses as the live one while that one is
 *                          live, both then carrying data both ways for
 *                          twin_s more (a reconnect ends the old one; a
 *                          master polls one link address pair over one
 *                          connection)                            T0848
 *
 * Not TTL alone: a careful impersonator copies it, and then its SYN or
 * SYN-ACK options, or the sequence space it has to share with the real
 * sender, give it away.
 *
 * Memory: max_hosts fingerprints and max_sessions TCP sessions, both in
 * fixed open-addressing tables; what does not fit is counted and shown in
 * the details of every alert.  Per packet: one host lookup and, for TCP
 * with payload, one session lookup.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "dissectors/modbus.h"
#include "dissectors/s7comm.h"
#include "dissectors/seghash.h"

#include "detectors/stackfp_int.h"
#include "lib/restab.h"

static const struct cfg_key keys[] = {
	{ "max_hosts", CFG_INT, "4096", 16, 1 << 22,
	  "sending-stack fingerprints kept ((IP, MAC, transport) each)" },
	{ "max_sessions", CFG_INT, "4096", 16, 1 << 22,
	  "TCP sessions whose last segment each way is kept" },
	{ "relearn_s", CFG_INT, "600", 1, 864000,
	  "a host silent this long is learned again (replaced or rebooted)" },
	{ "desync_acks", CFG_INT, "2", 1, 255,
	  "bare ACKs behind data sent in the sender's name that make a desynchronised session" },
	{ "desync_ms", CFG_INT, "100", 0, 600000,
	  "... spread over at least this many milliseconds" },
	{ "max_channels", CFG_INT, "2048", 16, 1 << 22,
	  "(client, server, port) channels whose live session is kept (session_takeover)" },
	{ "live_s", CFG_INT, "30", 1, 86400,
	  "a session with data both ways within this many seconds is live" },
	{ "takeover_refusals", CFG_INT, "1", 1, 1000,
	  "refused connection attempts while another session of the client is live" },
	{ "twin_s", CFG_INT, "10", 1, 3600,
	  "seconds two DNP3 sessions of one client address and link address pair both carry data before they are a takeover" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static size_t
pow2(size_t want)
{
	size_t cap = 16;

	while (cap < want * 2)
		cap <<= 1;
	return cap;
}

static int
sfp_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct stackfp *s = calloc(1, sizeof(*s));

	if (s == NULL)
		goto oom;
	s->hcap = pow2((size_t)cfg_int(c, sec, "max_hosts"));
	s->scap = pow2((size_t)cfg_int(c, sec, "max_sessions"));
	s->ccap = pow2((size_t)cfg_int(c, sec, "max_channels"));
	s->hosts = restab_new(s->hcap, sizeof(*s->hosts));
	s->sess = restab_new(s->scap, sizeof(*s->sess));
	s->chan = restab_new(s->ccap, sizeof(*s->chan));
	if (s->hosts == NULL || s->sess == NULL || s->chan == NULL)
		goto oom;
	s->relearn_us = (uint64_t)cfg_int(c, sec, "relearn_s") * 1000000u;
	s->live_us = (uint64_t)cfg_int(c, sec, "live_s") * 1000000u;
	s->desync_us = (uint64_t)cfg_int(c, sec, "desync_ms") * 1000u;
	s->desync_acks = (unsigned)cfg_int(c, sec, "desync_acks");
	s->refusals = (unsigned)cfg_int(c, sec, "takeover_refusals");
	s->twin_us = (uint64_t)cfg_int(c, sec, "twin_s") * 1000000u;
	*state = s;
	return 0;
oom:
	if (s != NULL) {
		restab_free(s->hosts, s->hcap, sizeof(*s->hosts));
		restab_free(s->sess, s->scap, sizeof(*s->sess));
		restab_free(s->chan, s->ccap, sizeof(*s->chan));
	}
	free(s);
	snprintf(err, errlen, "stackfp: out of memory");
	return -1;
}

static void
sfp_destroy(void *state)
{
	struct stackfp *s = state;

	if (s == NULL)
		return;
	restab_free(s->hosts, s->hcap, sizeof(*s->hosts));
	restab_free(s->sess, s->scap, sizeof(*s->sess));
	restab_free(s->chan, s->ccap, sizeof(*s->chan));
	free(s);
}

static uint32_t
fnv(uint32_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/*
 * A hash of the first 16 bytes of a payload of at least 16 (the whole
 * payload's is seg_hash, shared with the dissector: pkt_payload_hash).
 */
static uint32_t
head_hash(const uint8_t *p)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	a = (a ^ 0x9E3779B97F4A7C15ull) * 0xff51afd7ed558ccdull;
	a ^= a >> 29;
	a = (a ^ b) * 0xff51afd7ed558ccdull;
	a ^= a >> 29;
	return (uint32_t)(a >> 32) ^ (uint32_t)a;
}

static struct host *
host_get(struct stackfp *s, const struct pkt *p)
{
	uint8_t l4 = p->ip_proto == 6 || p->ip_proto == 17 ? p->ip_proto : 0;
	uint32_t h = fnv(fnv(2166136261u ^ l4, p->src, p->af == 6 ? 16 : 4),
	    p->src_mac, 6);
	size_t i = h & (s->hcap - 1), n;

	for (n = 0; n < s->hcap; n++, i = (i + 1) & (s->hcap - 1)) {
		struct host *x = &s->hosts[i];

		if (!x->used) {
			if (s->hused * 2 >= s->hcap) {
				s->hosts_dropped++;
				return NULL;
			}
			memset(x, 0, sizeof(*x));
			x->used = 1;
			x->af = p->af;
			x->l4 = l4;
			memcpy(x->ip, p->src, 16);
			memcpy(x->mac, p->src_mac, 6);
			x->ttl = p->ttl;
			x->first = x->last = p->ts;
			s->hused++;
			return x;
		}
		if (x->l4 == l4 && x->af == p->af &&
		    memcmp(x->ip, p->src, 16) == 0 &&
		    memcmp(x->mac, p->src_mac, 6) == 0)
			return x;
	}
	return NULL;
}

/* Session of flow id, created when create; NULL when full or absent. */
static struct sess *
sess_lookup(struct stackfp *s, uint64_t id, bool create)
{
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ull >> 20) & (s->scap - 1), n;

	for (n = 0; n < s->scap; n++, i = (i + 1) & (s->scap - 1)) {
		struct sess *x = &s->sess[i];

		if (x->id == id)
			return x;
		if (x->id == 0) {
			if (!create)
				return NULL;
			if (s->sused * 2 >= s->scap) {
				s->sessions_dropped++;
				return NULL;
			}
			memset(x, 0, sizeof(*x));
			x->id = id;
			s->sused++;
			return x;
		}
	}
	return NULL;
}

/* sess_lookup, through the memo of the last session per flow id */
static inline struct sess *
sess_get(struct stackfp *s, uint64_t id, bool create)
{
	struct sess **m = &s->memo[id & (SESS_MEMO - 1)], *x = *m;

	if (x != NULL && x->id == id)
		return x;
	x = sess_lookup(s, id, create);
	if (x != NULL)
		*m = x;
	return x;
}

/* Linear probing removal by shifting the cluster back (no tombstones). */
static void
sess_del(struct stackfp *s, uint64_t id)
{
	size_t mask = s->scap - 1, i, j, k;
	struct sess *x = sess_get(s, id, false);

	if (x == NULL)
		return;
	i = (size_t)(x - s->sess);
	x->id = 0;
	s->sused--;
	for (j = (i + 1) & mask; s->sess[j].id != 0; j = (j + 1) & mask) {
		k = (size_t)(s->sess[j].id * 0x9E3779B97F4A7C15ull >> 20) & mask;
		/* move j back to i unless its home slot lies in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->sess[i] = s->sess[j];
			s->sess[j].id = 0;
			i = j;
		}
	}
}

static uint8_t
ttl_class(uint8_t ttl)
{
	return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

static bool
is_service_port(uint16_t port)
{
	return port < 1024 || is_ics_port(port);
}






/*
 * Compare p with the established fingerprint of its sender.  Returns the
 * mismatch as text in why (empty: none).  Learns while not established.
 */
static void
judge_host_slow(struct stackfp *s, struct host *h, const struct pkt *p,
    char *why, size_t len)
{
	bool est, syn = p->ip_proto == 6 && (p->tcp_flags & PKT_TCP_SYN),
	    synack = syn && (p->tcp_flags & PKT_TCP_ACK);

	why[0] = '\0';
	if (p->ts - h->last > s->relearn_us) {
		/* a link reset: the device may have been replaced or rebooted */
		h->n = 0;
		h->first = p->ts;
		h->ttl = p->ttl;
		h->ttl_varies = 0;
		h->has_syn = h->has_synack = 0;
	}
	est = h->n >= EST_PKTS && p->ts - h->first >= EST_US;
	if (est && (h->ttl_varies ? ttl_class(p->ttl) != ttl_class(h->ttl) :
	    p->ttl != h->ttl)) {
		snprintf(why, len, "TTL %u, learned %u", p->ttl, h->ttl);
		return;
	}
	if (syn && !synack && h->has_syn && (p->tcp_win != h->syn_win ||
	    p->tcp_optsig != h->syn_opt)) {
		snprintf(why, len, "SYN window %u/options", p->tcp_win);
		return;
	}
	if (synack && h->has_synack && (p->tcp_win != h->synack_win ||
	    p->tcp_optsig != h->synack_opt)) {
		snprintf(why, len, "SYN-ACK window %u/options", p->tcp_win);
		return;
	}
	/* only frames that match teach: a foreign one must not move the model */
	if (!est && p->ttl != h->ttl)
		h->ttl_varies = 1;
	if (syn && !synack && !h->has_syn && est) {
		h->has_syn = 1;
		h->syn_win = p->tcp_win;
		h->syn_opt = p->tcp_optsig;
	}
	if (synack && !h->has_synack && est) {
		h->has_synack = 1;
		h->synack_win = p->tcp_win;
		h->synack_opt = p->tcp_optsig;
	}
	h->n++;
	h->last = p->ts;
}

/* judge_host_slow; true when the frame differs (text in why) */
static inline bool
judge_host(struct stackfp *s, struct host *h, const struct pkt *p,
    char *why, size_t len)
{
	/*
	 * The usual frame: no SYN, its learned TTL, no link reset since the
	 * last one.  Nothing can differ or learn from it.
	 */
	if (!(p->ip_proto == 6 && (p->tcp_flags & PKT_TCP_SYN)) &&
	    p->ttl == h->ttl && p->ts - h->last <= s->relearn_us) {
		h->n++;
		h->last = p->ts;
		return false;
	}
	judge_host_slow(s, h, p, why, len);
	return why[0] != '\0';
}

#define ID_LEARN	32	/* in-order steps before the counter is trusted */
#define ID_B_LIVE_US	60000000u	/* series B counts this long after its last packet */

static uint16_t
id_window(const struct host *h)
{
	unsigned w = 4u * h->id_maxd + 256u;

	return (uint16_t)(w > 16384u ? 16384u : w);
}

/*
 * The IP-ID series of the host.  Returns true when this packet is the
 * host's own series coming back while another series (series B) is live:
 * two stacks are sending as this host.  Packets with ID 0 (stacks that
 * don't number DF packets) and repeats (same ID: a copy) say nothing.
 */
static bool
judge_ipid(const struct stackfp *s, struct host *h, const struct pkt *p,
    const struct flow *f, int dir)
{
	int kind;

	uint16_t d;

	if (p->af != 4 || p->ip_id == 0)
		return false;
	d = (uint16_t)(p->ip_id - h->ida);
	if (h->id_good + h->id_bad < ID_LEARN + ID_LEARN / 8) {
		/* learning whether this host has one running counter */
		if (h->id_good + h->id_bad > 0 && d == 0)
			return false;
		if (h->id_good + h->id_bad > 0) {
			if (d <= 16384u) {
				h->id_good++;
				if (d > h->id_maxd)
					h->id_maxd = d;
			} else
				h->id_bad++;
		} else
			h->id_good = 1;
		h->ida = p->ip_id;
		h->a_last = p->ts;
		return false;
	}
	if (h->id_bad * 16 > h->id_good)
		return false;		/* random or per-connection IDs */
	if (d == 0)
		return false;
	if (d <= id_window(h)) {
		bool back = h->b_live && p->ts - h->b_last <= ID_B_LIVE_US &&
		    h->b_first > h->a_last;

		h->ida = p->ip_id;
		h->a_last = p->ts;
		return back;
	}
	/* a little behind: a packet of series A captured out of order */
	if ((uint16_t)(h->ida - p->ip_id) <= id_window(h))
		return false;
	if (h->b_live && (uint16_t)(p->ip_id - h->idb) <= id_window(h) &&
	    p->ip_id != h->idb) {
		h->idb = p->ip_id;
	} else {
		/* a new series: a second stack, or this one restarted */
		h->b_live = 1;
		h->b_alerted = 0;
		h->b_kind = K_NONE;
		h->b_pkts = 0;
		h->idb = p->ip_id;
		h->b_first = p->ts;
	}
	h->b_pkts++;
	h->b_last = p->ts;
	/* what this packet's PDUs were (on_pdu ran first) */
	kind = s->cur.f == f && s->cur.ts == p->ts ? s->cur.kind : K_NONE;
	if (kind > h->b_kind)
		h->b_kind = (uint8_t)kind;
	memcpy(h->b_peer, dir == FLOW_C2S ? f->srv.ip : f->cli.ip, 16);
	h->b_port = dir == FLOW_C2S ? f->srv.port : f->cli.port;
	/*
	 * A restarted stack: the old series never comes back.  Once series B
	 * has gone on alone for a while it is the host's series.
	 */
	if (h->b_pkts >= 8 && p->ts - h->a_last > ID_B_LIVE_US) {
		h->ida = h->idb;
		h->a_last = p->ts;
		h->b_live = 0;
	}
	return false;
}


static void
check_conflict(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct sess *x)
{
	struct seg *g = &x->last[dir];
	uint32_t hash = pkt_payload_hash(p);
	/* only compared between two payloads of 16 bytes or more */
	uint32_t head = p->payload_len >= 16 ? head_hash(p->payload) : 0;
	bool differ = false;

	if (g->len != 0 && g->seq == p->tcp_seq) {
		if (g->len == p->payload_len)
			differ = g->hash != hash;
		else if (g->len >= 16 && p->payload_len >= 16)
			differ = g->head != head;
	}
	g->seq = p->tcp_seq;
	g->len = p->payload_len;
	g->hash = hash;
	g->head = head;
	if (!differ || x->conflict_alerted[dir])
		return;
	x->conflict_alerted[dir] = 1;
	sfp_raise_conflict(s, ctx, p, f, dir);
}



/* ---- desynchronised sessions and taken-over channels ---------------------- */

#define BEHIND_MAX	(1u << 20)	/* farther behind: not this session's bytes */

/* Client and server ends of an industrial session, by port. */
static void
chan_ends(const struct flow *f, const uint8_t **cli, const uint8_t **srv,
    uint16_t *port)
{
	if (!is_ics_port(f->srv.port) && is_ics_port(f->cli.port)) {
		*cli = f->srv.ip;
		*srv = f->cli.ip;
		*port = f->cli.port;
	} else {
		*cli = f->cli.ip;
		*srv = f->srv.ip;
		*port = f->srv.port;
	}
}

/* A channel no live session holds any more: its slot may be reused. */
static bool
chan_stale(struct stackfp *s, const struct chan *c, uint64_t now)
{
	return now - c->last > s->live_us &&
	    (c->live == 0 || sess_get(s, c->live, false) == NULL);
}

/*
 * The channel (cli, srv, port); created when create (reusing a stale
 * slot of its probe sequence first).  NULL when absent or full.  Called
 * once per session and per refused connection, never per packet.
 */
static struct chan *
chan_get(struct stackfp *s, uint8_t af, const uint8_t *cli, const uint8_t *srv,
    uint16_t port, uint64_t now, bool create)
{
	uint32_t h = fnv(fnv(2166136261u ^ port, cli, 16), srv, 16);
	size_t i = h & (s->ccap - 1), n;
	struct chan *stale = NULL;

	for (n = 0; n < s->ccap; n++, i = (i + 1) & (s->ccap - 1)) {
		struct chan *c = &s->chan[i];

		if (!c->used)
			break;
		if (c->port == port && c->af == af && memcmp(c->cli, cli, 16) == 0 &&
		    memcmp(c->srv, srv, 16) == 0)
			return c;
		if (create && stale == NULL && chan_stale(s, c, now))
			stale = c;
	}
	if (!create)
		return NULL;
	if (stale == NULL) {
		if (n == s->ccap || s->cused * 2 >= s->ccap) {
			s->chans_dropped++;
			return NULL;
		}
		stale = &s->chan[i];
		s->cused++;
	}
	memset(stale, 0, sizeof(*stale));
	stale->used = 1;
	stale->af = af;
	stale->port = port;
	memcpy(stale->cli, cli, 16);
	memcpy(stale->srv, srv, 16);
	return stale;
}

/*
 * A new session of channel c with DNP3 link addresses: the same pair as
 * the live session's, while that one is live?  Then watch both (on_tick).
 */
static void
twin_candidate(struct stackfp *s, const struct pkt *p, const struct flow *f,
    const struct sess *x, struct chan *c)
{
	struct sess *a = c->live != 0 ? sess_get(s, c->live, false) : NULL;
	struct twin *t;

	if (a == NULL || !a->has_link || a->link_m != x->link_m ||
	    a->link_o != x->link_o || p->ts - a->data_ts[0] > s->live_us ||
	    p->ts - a->data_ts[1] > s->live_us || c->alerted == c->live)
		return;
	if (s->ntwins == MAX_TWINS) {
		s->twins_dropped++;
		return;
	}
	t = &s->twins[s->ntwins++];
	t->a = c->live;
	t->b = f->id;
	t->since = p->ts;
	t->c = c;
}


/* The first data of a session: it is now its channel's live session. */
static __attribute__((noinline)) void
chan_link(struct stackfp *s, const struct pkt *p, const struct flow *f,
    struct sess *x)
{
	const uint8_t *cli, *srv;
	uint16_t port;
	struct chan *c;

	x->linked = 1;
	if (s->cur.f == f && s->cur.ts == p->ts && s->cur.has_link) {
		x->has_link = 1;
		x->link_m = s->cur.link_m;
		x->link_o = s->cur.link_o;
	}
	chan_ends(f, &cli, &srv, &port);
	c = chan_get(s, f->af, cli, srv, port, p->ts, true);
	if (c == NULL)
		return;
	if (c->live != f->id && x->has_link)
		twin_candidate(s, p, f, x, c);
	if (c->live != f->id) {
		c->live = f->id;
		c->live_port = cli == f->cli.ip ? f->cli.port : f->srv.port;
		c->refused = 0;
	}
	c->last = p->ts;
}

/* A data segment: where the sender's bytes end now. */
static inline void
track_data(struct stackfp *s, const struct pkt *p, const struct flow *f,
    int dir, struct sess *x)
{
	uint32_t end = p->tcp_seq + p->payload_len;

	if ((int32_t)(end - x->nxt[dir]) > 0 || x->data_ts[dir] == 0) {
		x->nxt[dir] = end;
		x->behind[dir] = 0;
	}
	x->data_ts[dir] = p->ts;
	if (!x->linked)
		chan_link(s, p, f, x);
}


/*
 * A bare ACK (no data, SYN, FIN or RST): every stack puts its next unsent
 * byte in it.  One below the data already sent in its name, again and
 * again, never in step between: the sender never sent those bytes.
 */
static inline void
check_bare(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct sess *x)
{
	uint32_t gap;

	if (x->data_ts[dir] == 0)
		return;		/* no data from this side yet */
	gap = x->nxt[dir] - p->tcp_seq;
	if (gap <= 1 || gap > BEHIND_MAX) {
		/* in step (or a keep-alive, or ahead after a capture loss) */
		x->behind[dir] = 0;
		return;
	}
	if (x->behind[dir] == 0)
		x->behind_ts[dir] = p->ts;
	if (x->behind[dir] < 255)
		x->behind[dir]++;
	if (x->behind[dir] >= s->desync_acks &&
	    p->ts - x->behind_ts[dir] >= s->desync_us && !x->desync_alerted[dir])
		sfp_raise_desync(s, ctx, p, f, dir, x);
}


/*
 * A RST from the server of a connection it never accepted (no SYN-ACK):
 * refused.  While another session from the same client address to the
 * same port is live, two stacks claim that address.
 */
static __attribute__((noinline)) void
check_refused(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f)
{
	struct sess *live;
	struct chan *c;

	if ((f->tcp_flags[FLOW_S2C] & PKT_TCP_SYN) ||
	    !(f->tcp_flags[FLOW_C2S] & PKT_TCP_SYN) || !is_ics_port(f->srv.port))
		return;
	c = chan_get(s, f->af, f->cli.ip, f->srv.ip, f->srv.port, p->ts, false);
	if (c == NULL || c->live == f->id)
		return;
	live = sess_get(s, c->live, false);
	if (live == NULL || p->ts - live->data_ts[0] > s->live_us ||
	    p->ts - live->data_ts[1] > s->live_us)
		return;
	c->refused++;
	c->last = p->ts;
	if (c->refused >= s->refusals && c->alerted != c->live)
		sfp_raise_takeover(s, ctx, p, f, c);
}



static void
sfp_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct stackfp *s = state;
	struct host *h = NULL;
	struct sess *x = NULL;
	char *why = s->why;
	bool tcp = p->ip_proto == 6 && p->has_ports;
	bool here;

	if (p->layer != PKT_IP || !p->has_eth || p->fragment)
		return;
	if (tcp && (p->tcp_flags & PKT_TCP_SYN) && !(p->tcp_flags & PKT_TCP_ACK) &&
	    p->payload_len > 0 && is_service_port(p->sport) &&
	    !is_service_port(p->dport))
		sfp_raise_syn_payload(s, ctx, p, f, dir);
	/*
	 * Only industrial flows are judged (by dissector, or by port: a SYN
	 * comes before any payload names the protocol); that is where a
	 * cloned identity does harm, and it keeps IT traffic free of cost.
	 */
	if (f->ics == ICS_NONE && !(p->has_ports && (is_ics_port(p->sport) ||
	    is_ics_port(p->dport))))
		return;
	if (tcp)
		x = sess_get(s, f->id, true);
	if (x != NULL && x->h[dir] != NULL &&
	    memcmp(x->h[dir]->mac, p->src_mac, 6) == 0)
		h = x->h[dir];
	else if ((h = host_get(s, p)) != NULL && x != NULL)
		x->h[dir] = h;
	if (h == NULL)
		return;
	if (!judge_host(s, h, p, why, sizeof(s->why))) {
		/* (a frame that differs in TTL/SYN is not the host's counter) */
		if (judge_ipid(s, h, p, f, dir) && !h->b_alerted)
			sfp_raise_interleave(s, ctx, p, h);
	} else {
		here = s->cur.f == f && s->cur.ts == p->ts;
		if (x == NULL) {
			/* a datagram: judged on its own */
			if (here)
				sfp_raise_datagram(s, ctx, p, f, dir, why);
			return;
		}
		sfp_foreign_frame(s, ctx, p, f, dir, x, here);
	}
	if (x == NULL)
		return;
	if (p->payload_len > 0) {
		track_data(s, p, f, dir, x);
		check_conflict(s, ctx, p, f, dir, x);
	} else if (!(p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)))
		check_bare(s, ctx, p, f, dir, x);
	else if ((p->tcp_flags & PKT_TCP_RST) && dir == FLOW_S2C)
		check_refused(s, ctx, p, f);
}

/* Class of a PDU: a report (from the server), a read, or a command. */
static int
pdu_kind(const struct det_pdu *pdu, const char **what)
{
	*what = NULL;
	if (!pdu->from_client)
		return K_REPORT;
	switch (pdu->proto) {
	case ICS_MODBUS:
		return pdu->u.modbus->fc >= 1 && pdu->u.modbus->fc <= 4 ?
		    K_READ : K_COMMAND;
	case ICS_DNP3:
		if (!pdu->u.dnp3->has_app)
			return K_READ;
		*what = dnp3_fc_name(pdu->u.dnp3->app_fc);
		return pdu->u.dnp3->app_fc <= DNP3_FC_READ ? K_READ : K_COMMAND;
	case ICS_IEC104:
		if (!pdu->u.iec104->has_asdu)
			return K_READ;
		return pdu->u.iec104->type_id >= 45 && pdu->u.iec104->type_id <= 69 ?
		    K_COMMAND : K_READ;
	default:
		return K_READ;
	}
}


/*
 * A session marked foreign before any PDU: report it with this one.  Out
 * of line: sfp_pdu itself stays a leaf on the usual path.
 */
static __attribute__((noinline)) void
check_pending(struct stackfp *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, int kind, const char *what)
{
	int dir = pdu->sender_is_cli ? FLOW_C2S : FLOW_S2C;
	struct sess *x = sess_get(s, pdu->flow->id, false);

	if (x != NULL && x->foreign[dir] && !x->alerted[dir])
		sfp_raise_pending(s, ctx, pdu, x, dir, kind, what);
}

static void
sfp_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct stackfp *s = state;
	const char *what;
	int kind = pdu_kind(pdu, &what);

	/* the strongest class wins when one packet carries several PDUs */
	if (s->cur.f != pdu->flow || s->cur.ts != pdu->ts || kind > s->cur.kind) {
		s->cur.f = pdu->flow;
		s->cur.ts = pdu->ts;
		s->cur.kind = kind;
		s->cur.what = what;
		s->cur.has_link = 0;
		if (pdu->proto == ICS_DNP3) {
			/* the master's address is the request's source */
			s->cur.has_link = 1;
			s->cur.link_m = pdu->from_client ? pdu->u.dnp3->src :
			    pdu->u.dnp3->dst;
			s->cur.link_o = pdu->from_client ? pdu->u.dnp3->dst :
			    pdu->u.dnp3->src;
		}
	}
	if (s->pending != 0)
		check_pending(s, ctx, pdu, kind, what);
}


/* About once a second: do both sessions of a twin still carry data? */
static void
sfp_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct stackfp *s = state;
	unsigned i = 0;

	while (i < s->ntwins) {
		struct twin *t = &s->twins[i];
		struct sess *a = sess_get(s, t->a, false);
		struct sess *b = sess_get(s, t->b, false);
		/* (a channel slot reused, or a third session: no longer ours) */
		bool drop = a == NULL || b == NULL || t->c->live != t->b ||
		    t->c->alerted == t->c->live || now - t->since > 4 * s->twin_us;

		if (!drop && now - t->since >= s->twin_us) {
			uint64_t after = t->since + s->twin_us / 2;

			if (a->data_ts[0] >= after && a->data_ts[1] >= after &&
			    b->data_ts[0] >= after && b->data_ts[1] >= after) {
				sfp_raise_twin(s, ctx, t, a, now);
				drop = true;
			}
		}
		if (drop)
			s->twins[i] = s->twins[--s->ntwins];
		else
			i++;
	}
}

static void
sfp_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct stackfp *s = state;

	(void)ctx;
	if (f->transport == 6)
		sess_del(s, f->id);
	if (s->cur.f == f)
		s->cur.f = NULL;
}

static int
sfp_stats(void *state, char *buf, size_t len)
{
	const struct stackfp *s = state;

	return snprintf(buf, len, "\"hosts\":%zu,\"hosts_capacity\":%zu,"
	    "\"hosts_dropped\":%llu,\"sessions\":%zu,\"sessions_capacity\":%zu,"
	    "\"sessions_dropped\":%llu,\"channels\":%zu,\"channels_capacity\":%zu,"
	    "\"channels_dropped\":%llu,\"twins_dropped\":%llu,"
	    "\"bytes_reserved\":%zu", s->hused, s->hcap / 2,
	    (unsigned long long)s->hosts_dropped, s->sused, s->scap / 2,
	    (unsigned long long)s->sessions_dropped, s->cused, s->ccap / 2,
	    (unsigned long long)s->chans_dropped,
	    (unsigned long long)s->twins_dropped,
	    s->hcap * sizeof(*s->hosts) + s->scap * sizeof(*s->sess) +
	    s->ccap * sizeof(*s->chan));
}

const struct detector det_stackfp = {
	.name = "stackfp",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = sfp_init,
	.on_packet = sfp_packet,
	.on_pdu = sfp_pdu,
	.on_flow_end = sfp_flow_end,
	.on_tick = sfp_tick,
	.stats = sfp_stats,
	.destroy = sfp_destroy,
};
