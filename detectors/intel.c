/*
 * intel.c - intel.match: traffic that touches an indicator of the
 * threat-intelligence bundles the SOC signed (issue 17).
 *
 * The lookup tables are built once when a bundle is applied
 * (intel_set_build), so matching is hash probes: per flow at its start
 * (addresses, MACs, server port; once per flow, not per packet) and per
 * ICS PDU for function codes and device ids that must not be used, and
 * per DNS query (UDP or TCP to port 53) and per TLS ClientHello
 * (server_name, any TCP port) for domains.
 * Flows already open when a bundle arrives are checked once at apply
 * time (on_flow_open), so a connection that started before the SOC knew
 * the attacker is still reported.  The alert names the indicator id and
 * the version of the bundle it came in; its severity and technique are
 * the indicator's.
 */
#include "detectors/detector.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "dissectors/proto.h"
#include "dissectors/decode.h"
#include "dissectors/dnp3.h"
#include "dissectors/dns.h"
#include "lib/ids.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "lib/intel_bundle.h"
#include "dissectors/modbus.h"
#include "dissectors/s7comm.h"
#include "dissectors/tls.h"

static const struct cfg_key keys[] = {
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static void
raise(struct det_ctx *ctx, const struct intel_indicator *ind,
    const struct det_endpoint *src, const struct det_endpoint *dst,
    const char *proto, uint64_t ts, const char *side, bool retro)
{
	struct det_alert a;
	char title[200];

	/* an indicator past its own expiry says nothing any more */
	if (ind->expires_us != 0 && (int64_t)ts >= ind->expires_us)
		return;
	memset(&a, 0, sizeof(a));
	a.detector = "intel.match";
	a.severity = (enum det_severity)ind->severity;
	a.technique = ind->technique;
	snprintf(title, sizeof(title), "Threat intel match: %s %s (%s, bundle v%llu)",
	    intel_kind_name(ind->kind), ind->value, ind->id,
	    (unsigned long long)ind->version);
	a.title = title;
	a.proto = proto;
	a.src = *src;
	a.dst = *dst;
	a.ts = ts;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "indicator", ind->id);
	cJSON_AddStringToObject(a.details, "type", intel_kind_name(ind->kind));
	cJSON_AddStringToObject(a.details, "value", ind->value);
	cJSON_AddNumberToObject(a.details, "bundle_version", (double)ind->version);
	cJSON_AddStringToObject(a.details, "matched", side);
	if (ind->description[0] != '\0')
		cJSON_AddStringToObject(a.details, "description", ind->description);
	if (retro)
		cJSON_AddBoolToObject(a.details, "retroactive", true);
	/* one attacker, many flows: one alert per indicator and source */
	a.agg_key = ind->id;
	a.agg_src_only = strcmp(side, "src") == 0;
	det_alert(ctx, &a);
}

/* Addresses, MACs and the server port of a flow: once per flow. */
static void
check_flow(struct det_ctx *ctx, const struct flow *f, bool retro)
{
	const struct intel_set *s = det_intel(ctx);
	const struct intel_indicator *ind;
	struct det_endpoint src, dst;
	const char *side = NULL;
	uint64_t ts = retro ? f->last_ts : f->first_ts;

	if (s == NULL)
		return;
	if ((ind = intel_match_ip(s, f->af, f->cli.ip)) != NULL)
		side = "src";
	else if ((ind = intel_match_ip(s, f->af, f->srv.ip)) != NULL)
		side = "dst";
	else if (f->cli.has_mac && (ind = intel_match_mac(s, f->cli.mac)) != NULL)
		side = "src";
	else if (f->srv.has_mac && (ind = intel_match_mac(s, f->srv.mac)) != NULL)
		side = "dst";
	else if ((f->transport == 6 || f->transport == 17) &&
	    (ind = intel_match_port(s, f->transport, f->srv.port)) != NULL)
		side = "dst_port";
	if (ind == NULL)
		return;
	det_endpoint_from_flow(&src, f, true);
	det_endpoint_from_flow(&dst, f, false);
	raise(ctx, ind, &src, &dst, f->ics != ICS_NONE ?
	    ics_proto_name((enum ics_proto)f->ics) : NULL, ts, side, retro);
}

static void
intel_flow_start(void *state, struct det_ctx *ctx, const struct flow *f)
{
	(void)state;
	check_flow(ctx, f, false);
}

static void
intel_flow_open(void *state, struct det_ctx *ctx, const struct flow *f)
{
	(void)state;
	check_flow(ctx, f, true);
}

/*
 * Domains: in the question of DNS queries (UDP or TCP to port 53) and
 * in the server_name of TLS ClientHellos from the client (any TCP port:
 * a TLS channel on 8883 or 4840 names its server too).  Only with
 * domain indicators; every other packet costs a byte compare or two.
 * One segment is read, no reassembly (see dns.h, tls.h).  This is the
 * slow path of intel_packet: a DNS query or a ClientHello to read.
 */
static __attribute__((noinline)) void
intel_domain(struct det_ctx *ctx, const struct pkt *p, const struct flow *f,
    int dir)
{
	const struct intel_set *s = det_intel(ctx);
	const struct intel_indicator *ind;
	struct det_endpoint src, dst;
	char name[DNS_NAME_MAX + TLS_SNI_MAX + 2];
	const char *proto = "dns", *side = "dns_query";
	int rc;

	if (!intel_set_has(s, INTEL_DOMAIN))
		return;
	if (p->ip_proto == 17)
		rc = dns_query_name(p->payload, p->payload_len, name);
	else if (p->dport == 53)
		rc = dns_tcp_query_name(p->payload, p->payload_len, name);
	else {
		rc = tls_client_hello_sni(p->payload, p->payload_len, name);
		proto = "tls";
		side = "tls_sni";
	}
	if (rc != 0 || (ind = intel_match_domain(s, name)) == NULL)
		return;
	det_endpoint_from_flow(&src, f, dir == FLOW_C2S);
	det_endpoint_from_flow(&dst, f, dir != FLOW_C2S);
	raise(ctx, ind, &src, &dst, proto, p->ts, side, false);
}

static void
intel_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	(void)state;
	/*
	 * The common case first, in about as few compares as the UDP-only
	 * check took: neither DNS nor the first byte of a TLS handshake.
	 */
	if (p->ip_proto == 17) {
		if (p->dport != 53 || f == NULL)
			return;
	} else if (p->ip_proto != 6 || p->payload_len < 6 || f == NULL ||
	    (p->dport != 53 && (p->payload[0] != 0x16 || dir != FLOW_C2S ||
	    !tls_is_client_hello(p->payload, p->payload_len))))
		return;
	intel_domain(ctx, p, f, dir);
}

/* out of line: the per-PDU function keeps a small frame */
static __attribute__((noinline, cold)) void
raise_pdu(struct det_ctx *ctx, const struct intel_indicator *ind,
    const struct det_pdu *pdu, const char *proto)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	raise(ctx, ind, &a.src, &a.dst, proto, pdu->ts,
	    ind->kind == INTEL_FUNCTION ? "function" : "device", false);
}

/* Function codes and device ids, per request PDU. */
static void
intel_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct intel_set *s = det_intel(ctx);
	const struct intel_indicator *ind = NULL;
	const char *proto;
	bool fn = false, dev = false;
	uint32_t code = 0, id = 0;

	(void)state;
	if (s == NULL || !pdu->from_client || (!intel_set_has(s, INTEL_FUNCTION) &&
	    !intel_set_has(s, INTEL_DEVICE)))
		return;
	proto = ics_proto_name(pdu->proto);
	switch (pdu->proto) {
	case ICS_MODBUS:
		fn = dev = true;
		code = pdu->u.modbus->fc;
		id = pdu->u.modbus->unit;
		break;
	case ICS_DNP3:
		fn = pdu->u.dnp3->has_app;
		code = pdu->u.dnp3->app_fc;
		dev = true;
		id = pdu->u.dnp3->dst;
		break;
	case ICS_S7COMM:
		fn = pdu->u.s7->payload == S7_PAYLOAD_S7COMM &&
		    pdu->u.s7->s7.has_func;
		code = pdu->u.s7->s7.func;
		break;
	case ICS_IEC104:
		fn = dev = pdu->u.iec104->has_asdu;
		code = pdu->u.iec104->type_id;
		id = pdu->u.iec104->common_address;
		break;
	default:
		return;
	}
	if (fn)
		ind = intel_match_function(s, proto, code);
	if (ind == NULL && dev)
		ind = intel_match_device(s, proto, id);
	if (ind != NULL)
		raise_pdu(ctx, ind, pdu, proto);
}

const struct detector det_intel_match = {
	.name = "intel",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_MODBUS) | DET_PROTO(ICS_DNP3) |
	    DET_PROTO(ICS_S7COMM) | DET_PROTO(ICS_IEC104),
	.on_packet = intel_packet,
	.on_flow_start = intel_flow_start,
	.on_flow_open = intel_flow_open,
	.on_pdu = intel_pdu,
};
