/*
 * stackfp_alert.c - the alerts of the stackfp detector: what each one
 * says, its technique and details.  Cold code, out of the packet path
 * (stackfp.c decides when; this file says what).
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/stackfp_int.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"

/* One line into a cJSON object: the caps. */
static void
sfp_add_caps(const struct stackfp *s, cJSON *d)
{
	if (s->hosts_dropped || s->sessions_dropped) {
		cJSON_AddNumberToObject(d, "hosts_dropped", (double)s->hosts_dropped);
		cJSON_AddNumberToObject(d, "sessions_dropped",
		    (double)s->sessions_dropped);
	}
}

/*
 * Every stackfp alert is high, and storms collapse per technique: a reset
 * must not hide the reports.
 */
static void
sfp_emit(struct stackfp *s, struct det_ctx *ctx, struct det_alert *a,
    const char *det, const char *tech, const char *title, uint64_t ts,
    cJSON *d)
{
	sfp_add_caps(s, d);
	a->detector = det;
	a->severity = SEV_HIGH;
	a->technique = tech;
	a->title = title;
	a->agg_key = tech;
	a->ts = ts;
	a->details = d;
	det_alert(ctx, a);
}

static void
sfp_raise_pkt(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, const char *det, const char *tech,
    const char *title, cJSON *d)
{
	struct det_alert a;

	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, dir == FLOW_C2S);
	det_endpoint_from_flow(&a.dst, f, dir != FLOW_C2S);
	/* the frame's own MAC: the flow keeps the first one seen */
	if (p->has_eth) {
		a.src.has_mac = true;
		memcpy(a.src.mac, p->src_mac, 6);
	}
	a.proto = f->ics != ICS_NONE ? ics_proto_name((enum ics_proto)f->ics) :
	    NULL;
	sfp_emit(s, ctx, &a, det, tech, title, p->ts, d);
}

/* Technique and words for what a foreign stack's frame carried. */
static const char *
sfp_kind_technique(int kind, const char **what)
{
	switch (kind) {
	case K_COMMAND:
		*what = "sent a command";
		return "T0855";
	case K_READ:
		*what = "polled as a master";
		return "T0848";
	case K_REPORT:
		*what = "sent responses/reports";
		return "T0856";
	}
	*what = "reset an industrial session";
	return "T0830";
}

void
sfp_raise_foreign(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct sess *x, int kind, const char *fn)
{
	const char *what, *tech = sfp_kind_technique(kind, &what);
	char title[200], ib[64];
	struct det_endpoint e;
	cJSON *d;

	det_endpoint_from_flow(&e, f, dir == FLOW_C2S);
	snprintf(title, sizeof(title),
	    "%s %s from a different sending stack than its own (%s)",
	    det_ip_str(&e, ib, sizeof(ib)), what, x->why[dir]);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "mismatch", x->why[dir]);
	cJSON_AddNumberToObject(d, "ttl", p->ttl);
	if (fn != NULL)
		cJSON_AddStringToObject(d, "function", fn);
	sfp_raise_pkt(s, ctx, p, f, dir, "stackfp.foreign_stack", tech,
	    title, d);
}

void
sfp_raise_interleave(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    struct host *h)
{
	const char *what, *tech = sfp_kind_technique(h->b_kind, &what);
	struct det_alert a;
	char title[240], ib[64], pb[64];
	cJSON *d;

	h->b_alerted = 1;
	memset(&a, 0, sizeof(a));
	a.src.af = h->af;
	memcpy(a.src.ip, h->ip, 16);
	a.src.has_mac = true;
	memcpy(a.src.mac, h->mac, 6);
	a.dst.af = h->af;
	memcpy(a.dst.ip, h->b_peer, 16);
	a.dst.port = h->b_port;
	if (h->b_kind == K_NONE)
		what = "sent segments";
	snprintf(title, sizeof(title),
	    "Two IP-ID series from %s: another stack %s in its name to %s",
	    det_ip_str(&a.src, ib, sizeof(ib)), what,
	    det_ip_str(&a.dst, pb, sizeof(pb)));
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "mismatch", "IP-ID series interleaved");
	cJSON_AddNumberToObject(d, "own_ip_id", p->ip_id);
	cJSON_AddNumberToObject(d, "other_ip_id", h->idb);
	cJSON_AddNumberToObject(d, "other_packets", h->b_pkts);
	sfp_emit(s, ctx, &a, "stackfp.foreign_stack", tech, title, p->ts, d);
}

void
sfp_raise_conflict(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	/* the packet's PDUs say who it went to; else the flow's direction */
	bool here = s->cur.f == f && s->cur.ts == p->ts;
	bool toward_server = here ? s->cur.kind != K_REPORT : dir == FLOW_C2S;
	char title[200];
	cJSON *d;

	snprintf(title, sizeof(title),
	    "Two different payloads for TCP sequence %u %s (injected or altered in transit)",
	    p->tcp_seq, toward_server ? "toward the server" : "from the server");
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "seq", p->tcp_seq);
	cJSON_AddNumberToObject(d, "length", p->payload_len);
	cJSON_AddNumberToObject(d, "ttl", p->ttl);
	sfp_raise_pkt(s, ctx, p, f, dir, "stackfp.tcp_conflict",
	    toward_server ? "T0831" : "T0832", title, d);
}

void
sfp_raise_syn_payload(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	char title[160];

	snprintf(title, sizeof(title),
	    "SYN carrying %u bytes of data from service port %u",
	    p->payload_len, p->sport);
	sfp_raise_pkt(s, ctx, p, f, dir, "stackfp.syn_payload",
	    "T0856", title, cJSON_CreateObject());
}

void
sfp_raise_desync(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct sess *x)
{
	uint16_t sport = dir == FLOW_C2S ? f->cli.port : f->srv.port;
	uint16_t dport = dir == FLOW_C2S ? f->srv.port : f->cli.port;
	bool server = is_ics_port(sport) || (!is_ics_port(dport) &&
	    dir == FLOW_S2C);
	/* bytes in the server's name are reports, in the client's commands */
	const char *what, *tech = sfp_kind_technique(server ? K_REPORT : K_COMMAND,
	    &what);
	struct det_endpoint e;
	char title[240], ib[64];
	cJSON *d;

	x->desync_alerted[dir] = 1;
	det_endpoint_from_flow(&e, f, dir == FLOW_C2S);
	snprintf(title, sizeof(title),
	    "%s's own segments stay %u bytes behind what the session carried in "
	    "its name: another stack %s in its name (injected)",
	    det_ip_str(&e, ib, sizeof(ib)), x->nxt[dir] - p->tcp_seq, what);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "seq", p->tcp_seq);
	cJSON_AddNumberToObject(d, "data_end", x->nxt[dir]);
	cJSON_AddNumberToObject(d, "bytes_behind", x->nxt[dir] - p->tcp_seq);
	cJSON_AddNumberToObject(d, "acks_behind", x->behind[dir]);
	sfp_raise_pkt(s, ctx, p, f, dir, "stackfp.tcp_desync", tech,
	    title, d);
}

void
sfp_raise_takeover(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, struct chan *c)
{
	struct det_alert a;
	char title[240], cb[64], sb[64];
	cJSON *d;

	c->alerted = c->live;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, true);
	det_endpoint_from_flow(&a.dst, f, false);
	snprintf(title, sizeof(title),
	    "%s's connections to %s port %u refused while a session from its "
	    "address (port %u) runs: another stack holds its session (hijacked "
	    "master)", det_ip_str(&a.src, cb, sizeof(cb)),
	    det_ip_str(&a.dst, sb, sizeof(sb)), f->srv.port, c->live_port);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "refused", c->refused);
	cJSON_AddNumberToObject(d, "refused_port", f->cli.port);
	cJSON_AddNumberToObject(d, "live_session_port", c->live_port);
	a.proto = f->ics != ICS_NONE ? ics_proto_name((enum ics_proto)f->ics) :
	    NULL;
	sfp_emit(s, ctx, &a, "stackfp.session_takeover", "T0848", title, p->ts,
	    d);
}

/* a datagram: judged on its own */
void
sfp_raise_datagram(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, const char *why)
{
	struct sess tmp;

	memset(&tmp, 0, sizeof(tmp));
	snprintf(tmp.why[dir], sizeof(tmp.why[dir]), "%s", why);
	sfp_raise_foreign(s, ctx, p, f, dir, &tmp, s->cur.kind, s->cur.what);
}

/* A frame of session x that differs from its sender's fingerprint. */
void
sfp_foreign_frame(struct stackfp *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir, struct sess *x, bool here)
{
	if (!x->foreign[dir]) {
		x->foreign[dir] = 1;
		s->pending++;
		snprintf(x->why[dir], sizeof(x->why[dir]), "%s", s->why);
	}
	if (!x->alerted[dir] && (here || (p->tcp_flags & PKT_TCP_RST))) {
		x->alerted[dir] = 1;
		sfp_raise_foreign(s, ctx, p, f, dir, x, here ? s->cur.kind : K_NONE,
		    here ? s->cur.what : NULL);
	}
}

/* a foreign stack seen earlier in this session (its SYN): report now */
void
sfp_raise_pending(struct stackfp *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, struct sess *x, int dir, int kind,
    const char *what)
{
	struct det_alert a;
	const char *w, *tech = sfp_kind_technique(kind, &w);
	char title[200], ib[64];
	cJSON *d;

	x->alerted[dir] = 1;
	det_alert_from_pdu(&a, pdu);
	snprintf(title, sizeof(title),
	    "%s %s in a session opened by a different sending stack (%s)",
	    det_ip_str(&a.src, ib, sizeof(ib)), w, x->why[dir]);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "mismatch", x->why[dir]);
	if (what != NULL)
		cJSON_AddStringToObject(d, "function", what);
	sfp_emit(s, ctx, &a, "stackfp.foreign_stack", tech, title, a.ts, d);
}

void
sfp_raise_twin(struct stackfp *s, struct det_ctx *ctx, const struct twin *t,
    const struct sess *a, uint64_t now)
{
	struct chan *c = t->c;
	struct det_alert a_;
	char title[260], cb[64], sb[64];
	cJSON *d;

	c->alerted = c->live;
	memset(&a_, 0, sizeof(a_));
	a_.src.af = a_.dst.af = c->af;
	memcpy(a_.src.ip, c->cli, 16);
	memcpy(a_.dst.ip, c->srv, 16);
	a_.dst.port = c->port;
	snprintf(title, sizeof(title),
	    "Two DNP3 sessions from %s to %s port %u poll link %u -> %u at once "
	    "for %llu s: another stack holds a session in its name (hijacked "
	    "master)", det_ip_str(&a_.src, cb, sizeof(cb)),
	    det_ip_str(&a_.dst, sb, sizeof(sb)), c->port, a->link_m, a->link_o,
	    (unsigned long long)((now - t->since) / 1000000u));
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "link_master", a->link_m);
	cJSON_AddNumberToObject(d, "link_outstation", a->link_o);
	cJSON_AddNumberToObject(d, "refused", 0);
	a_.proto = "dnp3";
	sfp_emit(s, ctx, &a_, "stackfp.session_takeover", "T0848", title, now,
	    d);
}
