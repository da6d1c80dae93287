/*
 * lldp.c - LLDP parser (IEEE 802.1AB-2016 8.4-8.5).
 */
#include "dissectors/lldp.h"

#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/proto.h"

#include "lib/ids.h"
#include "lib/rd.h"

enum {
	T_END = 0, T_CHASSIS = 1, T_PORT = 2, T_TTL = 3, T_PORT_DESC = 4,
	T_SYS_NAME = 5, T_SYS_DESC = 6, T_CAPS = 7, T_MGMT = 8
};

/* Chassis and Port ID: subtype(1) + 1..255 octets (8.5.2, 8.5.3). */
static int
id_tlv(struct rd *v, uint8_t *sub, const uint8_t **id, size_t *len)
{
	size_t n = rd_left(v);

	if (n < 2)
		return IDS_EMALFORMED;
	*sub = rd_u8(v);
	*id = rd_ptr(v);
	*len = n - 1;
	return 0;
}

static void
text(struct rd *v, const uint8_t **s, size_t *len)
{
	*len = rd_left(v);
	*s = *len > 0 ? rd_ptr(v) : NULL;
}

/* Management Address (8.5.9): only the address is kept. */
static int
mgmt_tlv(struct rd *v, struct lldp_pdu *d)
{
	uint8_t alen;
	struct rd a;

	alen = rd_u8(v);
	/* the length counts the subtype octet: 2..32 */
	if (v->err || alen < 2 || alen > 32 || !rd_sub(v, alen, &a) ||
	    rd_left(v) < 6)
		return IDS_EMALFORMED;
	if (d->has_mgmt)
		return 0;
	d->has_mgmt = true;
	d->mgmt_af = rd_u8(&a);
	d->mgmt_addr_len = rd_left(&a) > 16 ? 16 : rd_left(&a);
	rd_copy(&a, d->mgmt_addr, d->mgmt_addr_len);
	return 0;
}

int
lldp_parse(const uint8_t *p, size_t n, struct lldp_pdu *out)
{
	uint16_t th;
	unsigned type;
	struct rd r, v;
	int rc = 0;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	for (;;) {
		th = rd_be16(&r);
		if (r.err || !rd_sub(&r, th & 0x1FFu, &v))
			return IDS_ETRUNC;
		type = th >> 9;
		/* Chassis ID, Port ID and TTL open every LLDPDU, in order;
		 * none of them may come again (8.2). */
		if (out->n_tlvs < 3 ? type != out->n_tlvs + 1 :
		    type >= T_CHASSIS && type <= T_TTL)
			return IDS_EMALFORMED;
		out->n_tlvs++;
		switch (type) {
		case T_END:
			if (rd_left(&v) != 0)
				return IDS_EMALFORMED;
			out->frame_len = n - rd_left(&r);
			return 0;
		case T_CHASSIS:
			rc = id_tlv(&v, &out->chassis_subtype,
			    &out->chassis_id, &out->chassis_id_len);
			break;
		case T_PORT:
			rc = id_tlv(&v, &out->port_subtype, &out->port_id,
			    &out->port_id_len);
			break;
		case T_TTL:
			if (rd_left(&v) < 2)
				return IDS_EMALFORMED;
			out->ttl = rd_be16(&v);
			break;
		case T_PORT_DESC:
			text(&v, &out->port_desc, &out->port_desc_len);
			break;
		case T_SYS_NAME:
			text(&v, &out->sys_name, &out->sys_name_len);
			break;
		case T_SYS_DESC:
			text(&v, &out->sys_desc, &out->sys_desc_len);
			break;
		case T_CAPS:
			if (rd_left(&v) != 4)
				return IDS_EMALFORMED;
			out->has_caps = true;
			out->caps = rd_be16(&v);
			out->caps_enabled = rd_be16(&v);
			break;
		case T_MGMT:
			rc = mgmt_tlv(&v, out);
			break;
		}
		if (rc != 0)
			return rc;
	}
}

/* ---- descriptor ------------------------------------------------------- */

static void
lldp_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct lldp_pdu m;
	struct det_pdu pdu = { .proto = ICS_LLDP, .u.lldp = &m };

	dis_outcome(dc, lldp_parse(p, n, &m), &pdu, partial,
	    "malformed LLDPDU");
}

static bool
lldp_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	*srv_port = 0;
	return p->layer == PKT_L2 && p->ethertype == LLDP_ETHERTYPE;
}

/* Not an industrial protocol, but it tells which switch port each asset
 * hangs on: the inventory reads it. */
const struct proto_desc lldp_desc = {
	.id = ICS_LLDP,
	.name = "lldp",
	.transports = PROTO_L2,
	.ethertype = LLDP_ETHERTYPE,
	.pick = lldp_pick,
	.handle = lldp_handle,
};
