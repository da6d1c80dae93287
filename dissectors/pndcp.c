/*
 * pndcp.c - PROFINET DCP parser (IEC 61158-6-10 4.3).
 */
#include "dissectors/pndcp.h"

#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/proto.h"

#include "lib/ids.h"
#include "lib/rd.h"

/*
 * Do this frame's blocks carry the 2-octet BlockInfo/BlockQualifier
 * before their data?  Identify/Get responses and Hello carry BlockInfo,
 * Set requests a BlockQualifier; Identify request filters carry neither.
 */
static bool
has_qualifier(const struct pndcp_pdu *d)
{
	bool req = d->type == PNDCP_REQUEST;

	switch (d->service) {
	case PNDCP_SVC_IDENTIFY:
	case PNDCP_SVC_GET:
		return !req;
	case PNDCP_SVC_HELLO:
	case PNDCP_SVC_SET:
		return req;
	}
	return false;
}

static int
device_block(struct pndcp_pdu *d, uint8_t sub, struct rd *b)
{
	size_t n = rd_left(b);

	switch (sub) {
	case 1:		/* TypeOfStation (vendor text) */
		if (n > PNDCP_NAME_MAX)
			return IDS_EMALFORMED;
		d->vendor = n > 0 ? rd_ptr(b) : NULL;
		d->vendor_len = n;
		break;
	case 2:		/* NameOfStation */
		if (n > PNDCP_NAME_MAX)
			return IDS_EMALFORMED;
		d->name = n > 0 ? rd_ptr(b) : NULL;
		d->name_len = n;
		break;
	case 3:		/* DeviceID */
		if (n != 4)
			return IDS_EMALFORMED;
		d->has_id = true;
		d->vendor_id = rd_be16(b);
		d->device_id = rd_be16(b);
		break;
	case 4:		/* DeviceRole: role, reserved */
		if (n != 2)
			return IDS_EMALFORMED;
		d->has_role = true;
		d->role = rd_u8(b);
		break;
	}
	return 0;
}

static int
ip_block(struct pndcp_pdu *d, uint8_t sub, struct rd *b)
{
	size_t n = rd_left(b);

	switch (sub) {
	case 1:		/* MAC address */
		if (n != 6)
			return IDS_EMALFORMED;
		d->has_mac = true;
		rd_copy(b, d->mac, 6);
		break;
	case 2:		/* IP, mask, gateway */
	case 3:		/* the same + 4 DNS servers */
		if (n != (sub == 2 ? 12u : 28u))
			return IDS_EMALFORMED;
		d->has_ip = true;
		rd_copy(b, d->ip, 4);
		rd_copy(b, d->mask, 4);
		rd_copy(b, d->gw, 4);
		break;
	}
	return 0;
}

/* What a Set request's block changes. */
static uint8_t
set_bit(uint8_t opt, uint8_t sub)
{
	switch (opt) {
	case PNDCP_OPT_IP:
		return sub == 2 || sub == 3 ? PNDCP_SET_IP : PNDCP_SET_OTHER;
	case PNDCP_OPT_DEVICE:
		return sub == 2 ? PNDCP_SET_NAME : PNDCP_SET_OTHER;
	case PNDCP_OPT_DHCP:
		return PNDCP_SET_DHCP;
	case PNDCP_OPT_CONTROL:
		switch (sub) {
		case 1:	return PNDCP_SET_START;
		case 2:	return PNDCP_SET_STOP;
		case 3:	return PNDCP_SET_SIGNAL;
		case 5:
		case 6:	return PNDCP_SET_FACTORY_RESET;
		}
		break;
	}
	return PNDCP_SET_OTHER;
}

static int
blocks(struct rd *r, struct pndcp_pdu *d)
{
	bool qual = has_qualifier(d);
	uint8_t opt, sub;
	uint16_t len;
	struct rd b;
	int rc = 0;

	if (d->service == PNDCP_SVC_GET && d->type == PNDCP_REQUEST) {
		/* a bare list of Option/Suboption pairs */
		if (rd_left(r) % 2 != 0)
			return IDS_EMALFORMED;
		d->n_blocks = (unsigned)(rd_left(r) / 2);
		return 0;
	}
	while (rd_left(r) > 0) {
		opt = rd_u8(r);
		sub = rd_u8(r);
		len = rd_be16(r);
		if (r->err || !rd_sub(r, len, &b))
			return IDS_EMALFORMED;
		d->n_blocks++;
		/* odd blocks are padded to even, except possibly the last */
		if (len % 2 != 0 && rd_left(r) > 0)
			rd_skip(r, 1);
		if (opt == PNDCP_OPT_ALL && sub == 0xFF) {
			if (d->service == PNDCP_SVC_IDENTIFY &&
			    d->type == PNDCP_REQUEST)
				d->identify_all = true;
			continue;
		}
		if (qual && !rd_skip(&b, 2))
			return IDS_EMALFORMED;
		if (d->service == PNDCP_SVC_SET && d->type == PNDCP_REQUEST)
			d->set |= set_bit(opt, sub);
		if (opt == PNDCP_OPT_DEVICE)
			rc = device_block(d, sub, &b);
		else if (opt == PNDCP_OPT_IP)
			rc = ip_block(d, sub, &b);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
pndcp_parse(const uint8_t *p, size_t n, struct pndcp_pdu *out)
{
	struct rd r, data;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	out->frame_id = rd_be16(&r);
	if (r.err)
		return IDS_ETRUNC;
	if (!pndcp_is_dcp(out->frame_id))
		return IDS_ENOTSUP;
	out->service = rd_u8(&r);
	out->type = rd_u8(&r);
	out->xid = rd_be32(&r);
	out->response_delay = rd_be16(&r);
	out->data_len = rd_be16(&r);
	if (r.err)
		return IDS_ETRUNC;
	if (out->service < PNDCP_SVC_GET || out->service > PNDCP_SVC_HELLO)
		return IDS_EMALFORMED;
	if (out->type != PNDCP_REQUEST && out->type != PNDCP_RESPONSE_OK &&
	    out->type != PNDCP_RESPONSE_UNSUPPORTED)
		return IDS_EMALFORMED;
	if (out->service != PNDCP_SVC_IDENTIFY || out->type != PNDCP_REQUEST)
		out->response_delay = 0;
	if (!rd_sub(&r, out->data_len, &data))
		return IDS_ETRUNC;
	out->frame_len = PNDCP_HDR_LEN + (size_t)out->data_len;
	return blocks(&data, out);
}

const char *
pndcp_service_name(uint8_t service)
{
	switch (service) {
	case PNDCP_SVC_GET:		return "Get";
	case PNDCP_SVC_SET:		return "Set";
	case PNDCP_SVC_IDENTIFY:	return "Identify";
	case PNDCP_SVC_HELLO:		return "Hello";
	}
	return "Unknown";
}

const char *
pndcp_role_name(uint8_t role)
{
	if (role & 0x02)
		return "io-controller";
	if (role & 0x08)
		return "io-supervisor";
	if (role & 0x04)
		return "io-multidevice";
	if (role & 0x01)
		return "io-device";
	return "unknown";
}

/* ---- descriptor ------------------------------------------------------- */

static void
pndcp_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct pndcp_pdu m;
	struct det_pdu pdu = { .proto = ICS_PNDCP, .u.pndcp = &m };
	int rc = pndcp_parse(p, n, &m);

	/* cyclic RT, alarms, PTCP share the EtherType: not ours to judge */
	if (rc == IDS_ENOTSUP)
		return;
	dis_outcome(dc, rc, &pdu, partial, "malformed PROFINET DCP frame");
}

static bool
pndcp_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	*srv_port = 0;
	return p->layer == PKT_L2 && p->ethertype == PNIO_ETHERTYPE;
}

static unsigned
pndcp_code_ops(uint16_t code)
{
	switch (code) {
	case PNDCP_SVC_SET:
		return PROTO_OP_WRITE | PROTO_OP_COMMAND;
	case PNDCP_SVC_IDENTIFY:
	case PNDCP_SVC_GET:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
pndcp_code_name(uint16_t code, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return pndcp_service_name((uint8_t)code);
}

/*
 * PROFINET (EtherType 0x8892): DCP is decoded; cyclic real-time I/O,
 * alarms and PTCP frames are recognised and passed over.
 */
const struct proto_desc pndcp_desc = {
	.id = ICS_PNDCP,
	.name = "profinet-dcp",
	.transports = PROTO_L2,
	.ethertype = PNIO_ETHERTYPE,
	.pick = pndcp_pick,
	.handle = pndcp_handle,
	.code_ops = pndcp_code_ops,
	.code_name = pndcp_code_name,
};
