/*
 * proto_ops.c - per-protocol glue: framing, parsing into the protocol's
 * struct, reporting; and the choice of dissector for a flow.
 *
 * nDPI 4.2 facts that shape the choice (measured on the shared captures):
 * it never registers its EtherNet/IP dissector, names IEC 61850 MMS on
 * TCP 102 s7comm, CIP class-1 I/O on UDP 2222 SkypeCall and FINS on UDP
 * RTP, and cannot see DNP3 over UDP, BACnet or OPC UA.  So a port or an
 * nDPI label only nominates a dissector; the parser's own check of the
 * first bytes decides.
 */
#include "proto_ops.h"

#include <ndpi_protocol_ids.h>
#include <string.h>

#include "decode.h"
#include "detector.h"
#include "flow.h"
#include "ids.h"
#include "dnp3_parse.h"
#include "enip_parse.h"
#include "iec104_parse.h"
#include "bacnet_parse.h"
#include "opcua_parse.h"
#include "fins_parse.h"
#include "modbus_parse.h"
#include "s7comm_parse.h"

/*
 * One parse outcome: 0 hands the decoded PDU (pdu->u already points at
 * it) to the detectors; anything else is a malformed PDU, unless only the
 * head of a PDU larger than the reassembly cap was there to parse.
 */
static void
outcome(struct dis_ctx *dc, int rc, struct det_pdu *pdu, bool partial,
    const char *what)
{
	if (rc == 0)
		dissect_emit_pdu(dc, pdu);
	else if (!partial)
		dissect_emit_malformed(dc, pdu->proto, what);
}

/* ---- Modbus/TCP ---------------------------------------------------- */

static void
modbus_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct modbus_pdu m;
	struct det_pdu pdu = { .proto = ICS_MODBUS, .u.modbus = &m };

	outcome(dc, modbus_parse(p, n, dc->from_client ? MODBUS_REQUEST :
	    MODBUS_RESPONSE, &m), &pdu, partial, "malformed Modbus PDU");
}

static const struct proto_ops modbus_ops = {
	ICS_MODBUS, "bad MBAP header (protocol id or length)",
	modbus_frame_len, modbus_handle
};

/* ---- DNP3 (TCP and UDP) -------------------------------------------- */

static void
dnp3_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct dnp3_pdu m;
	struct det_pdu pdu = { .proto = ICS_DNP3, .u.dnp3 = &m };
	int rc;

	memset(&m, 0, sizeof(m));
	rc = dnp3_parse(p, n, &m);
	outcome(dc, rc, &pdu, partial,
	    m.bad_crc ? "bad DNP3 CRC" : "malformed DNP3 frame");
}

static const struct proto_ops dnp3_ops = {
	ICS_DNP3, "bad DNP3 link header (start bytes or length)",
	dnp3_frame_len, dnp3_handle
};

/* ---- TPKT/COTP on 102: S7comm, S7comm-plus, MMS ---------------------- */

static void
s7_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct s7_pdu m;
	struct det_pdu pdu;

	if (s7_parse(p, n, &m) != 0) {
		if (!partial)
			dissect_emit_malformed(dc, ICS_S7COMM,
			    "malformed TPKT/COTP/S7 PDU");
		return;
	}
	memset(&pdu, 0, sizeof(pdu));
	switch (m.payload) {
	case S7_PAYLOAD_NONE:
		return;		/* COTP connect/ack: nothing commanded yet */
	case S7_PAYLOAD_S7COMM:
		pdu.proto = ICS_S7COMM;
		break;
	case S7_PAYLOAD_S7PLUS:
		pdu.proto = ICS_S7COMMPLUS;
		break;
	case S7_PAYLOAD_OTHER:
		pdu.proto = ICS_MMS;
		break;
	}
	pdu.u.s7 = &m;
	dissect_emit_pdu(dc, &pdu);
}

static const struct proto_ops s7_ops = {
	ICS_S7COMM, "bad TPKT header (version or length)",
	s7_frame_len, s7_handle
};

/* ---- IEC 60870-5-104 ----------------------------------------------- */

static void
iec104_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct iec104_apdu m;
	struct det_pdu pdu = { .proto = ICS_IEC104, .u.iec104 = &m };

	outcome(dc, iec104_parse(p, n, &m), &pdu, partial,
	    "malformed IEC 104 APDU");
}

static const struct proto_ops iec104_ops = {
	ICS_IEC104, "bad IEC 104 APCI (start byte or length)",
	iec104_frame_len, iec104_handle
};

/* ---- EtherNet/IP + CIP (TCP and UDP 44818) --------------------------- */

static void
enip_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct enip_pdu m;
	struct det_pdu pdu = { .proto = ICS_ENIP, .u.enip = &m };

	outcome(dc, enip_parse(p, n, &m), &pdu, partial,
	    "malformed EtherNet/IP encapsulation");
}

static const struct proto_ops enip_ops = {
	ICS_ENIP, "bad EtherNet/IP encapsulation header",
	enip_frame_len, enip_handle
};

/* CIP class-1 I/O (UDP 2222): named, counted, not decoded further. */
static void
cipio_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	(void)dc;
	(void)p;
	(void)n;
	(void)partial;
}

static const struct proto_ops cipio_ops = {
	ICS_CIP_IO, "", NULL, cipio_handle
};

/* ---- BACnet/IP (UDP 47808) ------------------------------------------ */

static void
bacnet_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct bacnet_pdu m;
	struct det_pdu pdu = { .proto = ICS_BACNET, .u.bacnet = &m };

	outcome(dc, bacnet_parse(p, n, &m), &pdu, partial,
	    "malformed BACnet/IP frame");
}

static const struct proto_ops bacnet_ops = {
	ICS_BACNET, "", NULL, bacnet_handle
};

/* ---- OPC UA binary --------------------------------------------------- */

/* pstate bits: the channel is SecurityPolicy#None; a 'C' chunk pending */
#define UA_PLAIN	0x1u
#define UA_CONT(cli)	((cli) ? 0x2u : 0x4u)

static void
opcua_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct opcua_pdu m;
	struct det_pdu pdu;
	unsigned flags = 0;
	uint32_t cont = UA_CONT(dc->from_client);

	if (*dc->pstate & UA_PLAIN)
		flags |= OPCUA_PARSE_PLAINTEXT;
	if (*dc->pstate & cont)
		flags |= OPCUA_PARSE_CONTINUATION;
	if (opcua_parse(p, n, flags, &m) != 0) {
		if (!partial)
			dissect_emit_malformed(dc, ICS_OPCUA, "malformed OPC UA message");
		return;
	}
	if (m.type == OPCUA_MSG_OPN) {
		if (m.policy_none)
			*dc->pstate |= UA_PLAIN;
		else
			*dc->pstate &= ~UA_PLAIN;
	}
	if (m.type == OPCUA_MSG_MSG) {
		if (m.chunk == 'C')
			*dc->pstate |= cont;
		else
			*dc->pstate &= ~cont;
	}
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = ICS_OPCUA;
	pdu.u.opcua = &m;
	dissect_emit_pdu(dc, &pdu);
}

static const struct proto_ops opcua_ops = {
	ICS_OPCUA, "bad OPC UA message header",
	opcua_frame_len, opcua_handle
};

/* ---- Omron FINS (UDP and TCP 9600) --------------------------------- */

static void
fins_emit(struct dis_ctx *dc, const uint8_t *p, size_t n, bool tcp,
    bool partial)
{
	struct fins_pdu m;
	struct det_pdu pdu = { .proto = ICS_FINS, .u.fins = &m };

	outcome(dc, fins_parse(p, n, tcp, &m), &pdu, partial,
	    "malformed FINS frame");
}

static void
fins_tcp_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	fins_emit(dc, p, n, true, partial);
}

static void
fins_udp_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	fins_emit(dc, p, n, false, partial);
}

static const struct proto_ops fins_tcp_ops = {
	ICS_FINS, "bad FINS/TCP header", fins_frame_len, fins_tcp_handle
};

static const struct proto_ops fins_udp_ops = {
	ICS_FINS, "", NULL, fins_udp_handle
};

/* ---- choosing ------------------------------------------------------- */

/* Does the first payload frame as ops' protocol? */
static bool
frames(const struct proto_ops *ops, const struct pkt *p)
{
	size_t len;

	return ops->frame_len(p->payload, p->payload_len, &len) == 0;
}

static bool
on_port(const struct pkt *p, uint16_t port)
{
	return p->sport == port || p->dport == port;
}

const struct proto_ops *
proto_ops_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	uint16_t app = f->ndpi_app, master = f->ndpi_master;

	*srv_port = 0;
	if (p->ip_proto == 6) {
		if ((on_port(p, 502) || app == NDPI_PROTOCOL_MODBUS ||
		    master == NDPI_PROTOCOL_MODBUS) && frames(&modbus_ops, p)) {
			*srv_port = on_port(p, 502) ? 502 : 0;
			return &modbus_ops;
		}
		if (on_port(p, 102) && frames(&s7_ops, p)) {
			*srv_port = 102;
			return &s7_ops;
		}
		if ((app == NDPI_PROTOCOL_S7COMM || master == NDPI_PROTOCOL_S7COMM) &&
		    frames(&s7_ops, p))
			return &s7_ops;
		if ((on_port(p, 2404) || app == NDPI_PROTOCOL_IEC60870 ||
		    master == NDPI_PROTOCOL_IEC60870) && frames(&iec104_ops, p)) {
			*srv_port = on_port(p, 2404) ? 2404 : 0;
			return &iec104_ops;
		}
	}
	if ((p->ip_proto == 6 || p->ip_proto == 17) &&
	    (on_port(p, 44818) || app == NDPI_PROTOCOL_ETHERNET_IP) &&
	    enip_probe(p->payload, p->payload_len)) {
		*srv_port = on_port(p, 44818) ? 44818 : 0;
		return &enip_ops;
	}
	if (p->ip_proto == 17 && (on_port(p, 47808) || on_port(p, 47809)) &&
	    bacnet_probe(p->payload, p->payload_len)) {
		*srv_port = 0;	/* both sides use 47808: the APDU type tells */
		return &bacnet_ops;
	}
	/* OPC UA opens with HEL (or a reverse RHE): strong enough on any port */
	if (p->ip_proto == 6 && (on_port(p, 4840) || on_port(p, 4843) ||
	    opcua_probe(p->payload, p->payload_len)) && frames(&opcua_ops, p)) {
		*srv_port = on_port(p, 4840) ? 4840 : 0;
		return &opcua_ops;
	}
	if (on_port(p, 9600)) {
		*srv_port = 9600;
		if (p->ip_proto == 6 && frames(&fins_tcp_ops, p))
			return &fins_tcp_ops;
		if (p->ip_proto == 17 && fins_probe(p->payload, p->payload_len))
			return &fins_udp_ops;
		*srv_port = 0;
	}
	if (p->ip_proto == 17 && p->sport == 2222 && p->dport == 2222 &&
	    p->payload_len >= 6) {
		*srv_port = 2222;
		return &cipio_ops;
	}
	if (p->ip_proto == 6 || p->ip_proto == 17) {
		/* DNP3's start bytes and header CRC are a strong check */
		if (dnp3_probe(p->payload, p->payload_len)) {
			*srv_port = on_port(p, 20000) ? 20000 : 0;
			return &dnp3_ops;
		}
	}
	return NULL;
}
