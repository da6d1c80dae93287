/*
 * hartip.c - HART-IP header recognition (FieldComm Group HCF_SPEC-085).
 *
 * Added as the demonstration of what a new protocol costs: this file, its
 * header and one line in registry.h.  It names HART-IP flows, counts their
 * messages and reports the HART command of token-passing PDUs (the
 * request code the baseline learns); no detector of its own yet.
 */
#include "dissectors/hartip.h"

#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"
#include "lib/ids.h"
#include "lib/rd.h"

#define HARTIP_PORT 5094

static bool
header_ok(uint8_t version, uint8_t type, uint8_t id)
{
	return (version == 1 || version == 2) &&
	    (type <= HARTIP_ERROR || type == HARTIP_NAK) &&
	    id <= HARTIP_READ_AUDIT_LOG;
}

int
hartip_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint8_t version, type, id;
	uint16_t count;

	rd_init(&r, p, n);
	version = rd_u8(&r);
	type = rd_u8(&r);
	id = rd_u8(&r);
	(void)rd_u8(&r);
	(void)rd_be16(&r);
	count = rd_be16(&r);
	if (r.err)
		return n > 0 && (p[0] < 1 || p[0] > 2) ? IDS_EMALFORMED :
							 IDS_EAGAIN;
	if (!header_ok(version, type, id) || count < HARTIP_HDR_LEN ||
	    count > HARTIP_MAX_LEN)
		return IDS_EMALFORMED;
	*len = count;
	return 0;
}

bool
hartip_probe(const uint8_t *p, size_t n)
{
	size_t len;

	return n >= HARTIP_HDR_LEN && hartip_frame_len(p, n, &len) == 0 &&
	    len <= n;
}

int
hartip_parse(const uint8_t *p, size_t n, struct hartip_pdu *out)
{
	struct rd r;
	uint8_t delim;

	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	out->version = rd_u8(&r);
	out->msg_type = rd_u8(&r);
	out->msg_id = rd_u8(&r);
	out->status = rd_u8(&r);
	out->seq = rd_be16(&r);
	out->byte_count = rd_be16(&r);
	if (r.err)
		return IDS_ETRUNC;
	if (!header_ok(out->version, out->msg_type, out->msg_id) ||
	    out->byte_count < HARTIP_HDR_LEN || out->byte_count > n)
		return IDS_EMALFORMED;
	if (out->msg_id != HARTIP_PASS_THROUGH ||
	    out->byte_count == HARTIP_HDR_LEN)
		return 0;
	/* the HART frame: delimiter, address, command */
	rd_init(&r, p + HARTIP_HDR_LEN, out->byte_count - HARTIP_HDR_LEN);
	delim = rd_u8(&r);
	out->long_address = (delim & 0x80) != 0;
	(void)rd_skip(&r, out->long_address ? 5 : 1);
	out->command = rd_u8(&r);
	if (r.err)
		return IDS_EMALFORMED;
	out->has_command = true;
	return 0;
}

static const char *const msg_id_names[] = { "Session Initiate", "Session Close",
	"Keep Alive", "Token-Passing PDU", "Direct PDU", "Read Audit Log" };

const char *
hartip_msg_id_name(uint8_t id)
{
	return id < sizeof(msg_id_names) / sizeof(msg_id_names[0]) ?
	    msg_id_names[id] :
	    "Unknown";
}

/* ---- requests: codes are 0x100 | message id, or the HART command ----- */

static const char *
hartip_code_name(uint16_t c, char *buf, size_t len)
{
	if (c >= 0x100)
		return hartip_msg_id_name((uint8_t)c);
	snprintf(buf, len, "HART command %u", c);
	return buf;
}

static void
hartip_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct hartip_pdu *m = pdu->u.any;

	if (m->msg_type != HARTIP_REQUEST)
		return;
	if (m->has_command)
		proto_req_code(r, m->command);
	else
		proto_req_code(r, 0x100 | m->msg_id);
}

/* ---- descriptor ------------------------------------------------------- */

static void
hartip_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct hartip_pdu m;
	struct det_pdu pdu = { .proto = ICS_HARTIP, .u.any = &m };

	dis_outcome(dc, hartip_parse(p, n, &m), &pdu, partial,
	    "malformed HART-IP message");
}

/*
 * On 5094, or on UDP anywhere when the datagram is exactly one HART-IP
 * message: a UDP server answers Session Initiate from a new port of its
 * own (5095 in the shared capture) and the session continues there.
 */
static bool
hartip_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	size_t len;

	(void)f;
	if (p->ip_proto == 17 && !pkt_on_port(p, HARTIP_PORT) &&
	    hartip_frame_len(p->payload, p->payload_len, &len) == 0 &&
	    len == p->payload_len) {
		*srv_port = 0;
		return true;
	}
	if ((p->ip_proto != 6 && p->ip_proto != 17) ||
	    !pkt_on_port(p, HARTIP_PORT) ||
	    !hartip_probe(p->payload, p->payload_len))
		return false;
	*srv_port = HARTIP_PORT;
	return true;
}

const struct proto_desc hartip_desc = {
	.id = ICS_HARTIP,
	.name = "hart-ip",
	.transports = PROTO_TCP | PROTO_UDP,
	.ports = { HARTIP_PORT },
	.pick = hartip_pick,
	.probe = hartip_probe,
	.frame_len = hartip_frame_len,
	.frame_udp = true,
	.bad_header = "bad HART-IP header (version, type, id or byte count)",
	.handle = hartip_handle,
	.analyse = hartip_analyse,
	.code_name = hartip_code_name,
};
