/*
 * dissect.c - pick a flow's industrial protocol by walking the descriptor
 * list (registry.h), cut its TCP byte stream into PDUs, let the
 * descriptor parse them and hand them to the sink.  Nothing here knows a
 * protocol by name.
 *
 * Reassembly is "enough to cut PDUs": per direction we follow the TCP
 * sequence number, drop retransmitted bytes, and buffer only the tail of a
 * PDU that continues in the next segment (bounded by max_reasm).  A gap
 * (lost segment) discards the partial PDU and resynchronises at the next
 * segment that starts with a valid header.  Whole PDUs inside one segment
 * are parsed in place: the common case costs no copy.
 *
 * The sender controls how many flows hold a partial PDU, so buffers are
 * sized to what they hold, freed as soon as they are empty, and all of
 * them together stay within a budget (dissect_set_budget).
 */
#include "dissectors/dissect.h"

#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"
#include "dissectors/seghash.h"
#include "lib/ids.h"

/* Payload packets a flow gets to show it speaks an industrial protocol. */
#define DISSECT_PICK_TRIES	4

struct stream {
	uint32_t	 next_seq;
	uint8_t		 seq_ok;	/* next_seq is known */
	uint8_t		 resync;	/* after a gap: drop until a valid header */
	uint32_t	 skip;		/* bytes of an oversize PDU still to skip */
	uint32_t	 len;		/* bytes buffered */
	uint32_t	 cap;		/* bytes allocated for buf */
	uint8_t		*buf;		/* at most max_reasm, allocated on need */
	/* the last segment fed: an altered copy of it is parsed too */
	uint32_t	 last_seq, last_len, last_hash;
};

struct dis_flow {
	const struct proto_desc	*ops;
	uint16_t		 srv_port;	/* well-known port, 0 if by probe */
	uint32_t		 pstate;	/* protocol adapter's own state */
	struct stream		 s[2];
	/*
	 * Units segmented over several frames (ops->segment): the pieces so
	 * far, per direction; resync here means "dropping the rest of a
	 * unit too large to hold".  Only len, cap, buf and resync are used.
	 */
	struct stream		 t[2];
};

/* Descriptors that may pick a flow, per transport: [0] TCP, [1] UDP, [2] layer 2. */
#define DISSECT_MAX_PICK	32

struct dissector {
	size_t			 max_reasm;
	const struct proto_desc	*pick[3][DISSECT_MAX_PICK + 1];
	size_t			 budget;	/* all flows' buffers together */
	struct dissect_sink	 sink;
	struct dissect_stats	 st;
};

/*
 * The descriptors a TCP, a UDP and a layer-2 flow are offered to, in registry order:
 * a new flow's first payloads try only those of its transport.
 */
static void
pick_lists(struct dissector *d)
{
	const struct proto_desc *const *dp;
	static const unsigned tr[3] = { PROTO_TCP, PROTO_UDP, PROTO_L2 };
	size_t n[3] = { 0, 0, 0 };
	int t;

	for (dp = proto_registry; *dp != NULL; dp++) {
		if ((*dp)->pick == NULL)
			continue;
		for (t = 0; t < 3; t++)
			if (((*dp)->transports & tr[t]) && n[t] < DISSECT_MAX_PICK)
				d->pick[t][n[t]++] = *dp;
	}
}

struct dissector *
dissect_new(size_t max_reasm, const struct dissect_sink *s)
{
	struct dissector *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->max_reasm = max_reasm;
	d->budget = SIZE_MAX;
	d->sink = *s;
	pick_lists(d);
	return d;
}

void
dissect_set_budget(struct dissector *d, size_t bytes)
{
	d->budget = bytes;
}

/* Give a stream's buffer back (to the budget too). */
static void
buf_release(struct dissector *d, struct stream *s)
{
	free(s->buf);
	s->buf = NULL;
	d->st.buffered -= s->cap;
	s->cap = 0;
	s->len = 0;
}

/*
 * Room for need bytes in s->buf (need <= max_reasm).  Grows by doubling
 * from 512 bytes; false when the budget or malloc says no (counted).
 */
static bool
buf_reserve(struct dissector *d, struct stream *s, size_t need)
{
	size_t cap = s->cap > 0 ? s->cap : 512;
	uint8_t *nb;

	if (need <= s->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > d->max_reasm)
		cap = d->max_reasm;
	if (cap - s->cap > d->budget - d->st.buffered ||
	    (nb = realloc(s->buf, cap)) == NULL) {
		d->st.no_buffer++;
		return false;
	}
	s->buf = nb;
	d->st.buffered += cap - s->cap;
	s->cap = (uint32_t)cap;
	if (d->st.buffered > d->st.buffered_max)
		d->st.buffered_max = d->st.buffered;
	return true;
}

void
dissect_set_sink(struct dissector *d, const struct dissect_sink *s)
{
	d->sink = *s;
}

void
dissect_free(struct dissector *d)
{
	free(d);
}

const struct dissect_stats *
dissect_stats(const struct dissector *d)
{
	return &d->st;
}

void
dissect_flow_end(struct dissector *d, struct flow *f)
{
	struct dis_flow *df = f->dis;

	if (df == NULL)
		return;
	buf_release(d, &df->s[0]);
	buf_release(d, &df->s[1]);
	buf_release(d, &df->t[0]);
	buf_release(d, &df->t[1]);
	free(df);
	f->dis = NULL;
}

/* The descriptors' handle() report each outcome through these. */
static void
emit_pdu(struct dis_ctx *dc, struct det_pdu *pdu)
{
	struct dissector *d = dc->arg;

	pdu->flow = dc->flow;
	pdu->from_client = dc->from_client;
	pdu->sender_is_cli = dc->sender_is_cli;
	pdu->ts = dc->ts;
	if ((unsigned)pdu->proto < ICS_NPROTO)
		d->st.pdus[pdu->proto]++;
	/* the parser validated the bytes: now the flow is that protocol */
	if (dc->flow->ics != (uint8_t)pdu->proto)
		dc->flow->ics = (uint8_t)pdu->proto;
	dc->flow->ics_valid = 1;
	d->sink.pdu(d->sink.arg, pdu);
}

static void
emit_malformed(struct dis_ctx *dc, enum ics_proto proto, const char *what)
{
	struct dissector *d = dc->arg;
	struct det_malformed m;

	if ((unsigned)proto < ICS_NPROTO)
		d->st.malformed[proto]++;
	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.flow = dc->flow;
	m.from_client = dc->from_client;
	m.sender_is_cli = dc->sender_is_cli;
	m.ts = dc->ts;
	m.what = what;
	d->sink.malformed(d->sink.arg, &m);
}

/*
 * One whole frame of stream s.  Frames that carry a piece of a segmented
 * unit (ops->segment) are joined in the stream's t buffer, bounded like
 * the TCP reassembly (max_reasm per direction, the shared budget), and
 * the whole unit is handed on when its last piece arrives.  A unit that
 * does not fit is counted in oversize (or no_buffer) and its remaining
 * pieces are dropped up to the end mark.  The common case (a frame with
 * the end mark and nothing held) is handed on in place.
 */
static __attribute__((noinline)) void
deliver(struct dis_ctx *dc, struct stream *s, const uint8_t *p, size_t len)
{
	struct dissector *d = dc->arg;
	struct dis_flow *df = dc->flow->dis;
	const struct proto_desc *ops = df->ops;
	struct stream *t;
	size_t hdr, add;
	bool last;

	if (ops->segment(p, len, &hdr, &last) != 1 || hdr > len) {
		ops->handle(dc, p, len, false);
		return;
	}
	t = &df->t[s == &df->s[0] ? 0 : 1];
	if (t->resync) {
		if (last)
			t->resync = 0;
		return;
	}
	if (last && t->len == 0) {
		ops->handle(dc, p, len, false);
		return;
	}
	/* the first piece with its header, the others without */
	add = t->len == 0 ? len : len - hdr;
	if (t->len + add > d->max_reasm) {
		d->st.oversize++;
		buf_release(d, t);
		t->resync = !last;
		return;
	}
	if (!buf_reserve(d, t, t->len + add)) {
		buf_release(d, t);
		t->resync = !last;
		return;
	}
	memcpy(t->buf + t->len, t->len == 0 ? p : p + hdr, add);
	t->len += (uint32_t)add;
	if (!last)
		return;
	if (ops->seal(t->buf, t->len) == 0)
		ops->handle(dc, t->buf, t->len, false);
	else
		d->st.oversize++;
	buf_release(d, t);
}

/* Cut whole PDUs from p[0..n); returns bytes consumed. */
static size_t
extract(struct dis_ctx *dc, struct stream *s, const uint8_t *p, size_t n)
{
	struct dissector *d = dc->arg;
	const struct proto_desc *ops = ((struct dis_flow *)dc->flow->dis)->ops;
	size_t used = 0, len;
	int rc;

	while (used < n) {
		rc = ops->frame_len(p + used, n - used, &len);
		if (rc == IDS_EAGAIN)
			break;
		if (rc != 0 || len == 0) {
			/* not a PDU boundary: after a gap that is expected */
			if (s->resync)
				d->st.resyncs++;
			else
				emit_malformed(dc, ops->id, ops->bad_header);
			s->resync = 1;
			return n;
		}
		s->resync = 0;
		if (len > n - used) {
			if (len > d->max_reasm) {
				/* larger than we buffer: parse the head, skip the rest */
				d->st.oversize++;
				ops->handle(dc, p + used, n - used, true);
				s->skip = (uint32_t)(len - (n - used));
				return n;
			}
			break;
		}
		/* most protocols have no layer above the frames */
		if (ops->segment == NULL)
			ops->handle(dc, p + used, len, false);
		else
			deliver(dc, s, p + used, len);
		used += len;
	}
	return used;
}

static void
feed(struct dis_ctx *dc, struct stream *s, const uint8_t *p, size_t n)
{
	struct dissector *d = dc->arg;
	size_t k, used;

	if (s->skip > 0) {
		k = n < s->skip ? n : s->skip;
		s->skip -= (uint32_t)k;
		p += k;
		n -= k;
		if (n == 0)
			return;
	}
	if (s->len == 0) {
		used = extract(dc, s, p, n);
		p += used;
		n -= used;
		if (n == 0 || s->skip > 0)
			return;
		/* keep the beginning of a PDU that continues later */
		if (n > d->max_reasm)
			n = d->max_reasm;
		if (!buf_reserve(d, s, n)) {
			/* no room: the rest of this PDU will not parse */
			s->resync = 1;
			return;
		}
		memcpy(s->buf, p, n);
		s->len = (uint32_t)n;
		return;
	}
	/* append to the partial PDU, then cut what is complete */
	k = d->max_reasm - s->len;
	if (n > k) {
		/* cannot hold it: the PDU is bigger than the cap allows */
		d->st.oversize++;
		buf_release(d, s);
		s->resync = 1;
		return;
	}
	if (!buf_reserve(d, s, s->len + n)) {
		buf_release(d, s);
		s->resync = 1;
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += (uint32_t)n;
	used = extract(dc, s, s->buf, s->len);
	if (s->skip > 0)
		used = s->len;
	memmove(s->buf, s->buf + used, s->len - used);
	s->len -= (uint32_t)used;
	if (s->len == 0)
		buf_release(d, s);
}

/*
 * The protocol of a flow, judged on a payload packet: the first
 * descriptor whose pick() takes it.  The picks check distinct magic bytes
 * or ports, so the order of the list does not change the answer.
 */
static const struct proto_desc *
pick(const struct dissector *d, const struct flow *f, const struct pkt *p,
    uint16_t *srv_port)
{
	const struct proto_desc *const *dp;

	*srv_port = 0;
	if (p->layer == PKT_L2)
		dp = d->pick[2];
	else if (p->ip_proto == 6 || p->ip_proto == 17)
		dp = d->pick[p->ip_proto == 17];
	else
		return NULL;
	for (; *dp != NULL; dp++) {
		if ((*dp)->pick(f, p, srv_port))
			return *dp;
		*srv_port = 0;
	}
	return NULL;
}

static void
tcp_segment(struct dissector *d, struct dis_ctx *dc, struct stream *s,
    const struct pkt *p)
{
	const uint8_t *data = p->payload;
	uint32_t n = p->payload_len, seq = p->tcp_seq, ahead, behind;

	if (!s->seq_ok) {
		s->seq_ok = 1;
		s->next_seq = seq;
	}
	/*
	 * Serial-number arithmetic (RFC 1982) in uint32_t only: the sender
	 * picks seq, so no signed difference may overflow.  A segment exactly
	 * 2^31 away is taken as old data.
	 */
	ahead = seq - s->next_seq;
	behind = s->next_seq - seq;
	if (ahead != 0 && ahead >= 0x80000000u) {
		/* retransmission or overlap: keep only bytes not seen yet */
		if (behind >= n) {
			/*
			 * The last segment again, but with other bytes: a copy
			 * altered in transit (a MITM forwarding what it
			 * rewrote) or injected.  Its receiver may get only this
			 * one, so the detectors see it too.
			 */
			uint32_t h;

			if (seq == s->last_seq && n == s->last_len &&
			    s->len == 0 && !s->resync && s->skip == 0 &&
			    (h = pkt_payload_hash(p)) != s->last_hash) {
				s->last_hash = h;
				feed(dc, s, data, n);
			}
			return;
		}
		data += behind;
		n -= behind;
		seq += behind;
	} else if (ahead != 0) {
		/* lost segment(s): the partial PDU can't be completed */
		struct dis_flow *df = dc->flow->dis;

		d->st.gaps++;
		buf_release(d, s);
		/* nor a unit segmented over frames (deliver) */
		buf_release(d, &df->t[s == &df->s[0] ? 0 : 1]);
		s->skip = 0;
		s->resync = 1;
	}
	s->next_seq = seq + n;
	s->last_seq = seq;
	s->last_len = n;
	/* the whole payload unless an overlap was cut off its front */
	s->last_hash = data == p->payload ? pkt_payload_hash(p) :
	    seg_hash(data, n);
	feed(dc, s, data, n);
}

void
dissect_packet(struct dissector *d, struct flow *f, const struct pkt *p,
    int dir)
{
	struct dis_flow *df = f->dis;
	struct dis_ctx dc;
	int side;

	/* layer-2 frames (GOOSE, SV, PROFINET, LLDP) come without ports */
	if (p->payload_len == 0 || (!p->has_ports && p->layer != PKT_L2))
		return;
	if (df == NULL) {
		const struct proto_desc *ops;
		uint16_t port = 0;

		/*
		 * Judge on the first few payloads, not just one: a keep-alive
		 * byte or a capture that starts mid-PDU must not hide the
		 * protocol for the rest of the flow.
		 */
		if (f->ics_tries >= DISSECT_PICK_TRIES)
			return;
		f->ics_tries++;
		ops = pick(d, f, p, &port);
		if (ops == NULL)
			return;
		df = calloc(1, sizeof(*df));
		if (df == NULL)
			return;
		df->ops = ops;
		df->srv_port = port;
		f->dis = df;
		f->ics = (uint8_t)ops->id;
	}
	if (df == NULL)
		return;
	/* every member set: no memset per packet */
	dc.arg = d;
	dc.pdu = emit_pdu;
	dc.malformed = emit_malformed;
	dc.flow = f;
	dc.ts = p->ts;
	dc.sender_is_cli = dir == FLOW_C2S;
	dc.pstate = &df->pstate;
	/* the server is who listens on the protocol's port, whoever spoke first */
	if (df->srv_port != 0 && p->sport != p->dport)
		dc.from_client = p->dport == df->srv_port;
	else
		dc.from_client = dir == FLOW_C2S;
	side = dc.from_client ? 0 : 1;
	if (p->ip_proto == 6 && df->ops->frame_len != NULL)
		tcp_segment(d, &dc, &df->s[side], p);
	else if (df->ops->frame_len != NULL && df->ops->frame_udp)
		/* datagram: may still hold several PDUs back to back */
		extract(&dc, &df->s[side], p->payload, p->payload_len);
	else
		df->ops->handle(&dc, p->payload, p->payload_len, false);
}
