/*
 * iec104.c - IEC 60870-5-104 APCI/ASDU parser.
 *
 * Spec: IEC 60870-5-104 section 5 (APCI formats), IEC 60870-5-101
 * section 7.2 (ASDU data unit identifier) and 7.2.6 (command qualifiers).
 */
#include "dissectors/iec104.h"

#include <cJSON.h>
#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/json.h"
#include "lib/rd.h"
#include "lib/tok.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

#define NTOK(t)	(sizeof(t) / sizeof((t)[0]))

static const struct tok type_names[] = {
	{ 1, "M_SP_NA_1" }, { 2, "M_SP_TA_1" }, { 3, "M_DP_NA_1" },
	{ 4, "M_DP_TA_1" }, { 5, "M_ST_NA_1" }, { 6, "M_ST_TA_1" },
	{ 7, "M_BO_NA_1" }, { 8, "M_BO_TA_1" }, { 9, "M_ME_NA_1" },
	{ 10, "M_ME_TA_1" }, { 11, "M_ME_NB_1" }, { 12, "M_ME_TB_1" },
	{ 13, "M_ME_NC_1" }, { 14, "M_ME_TC_1" }, { 15, "M_IT_NA_1" },
	{ 16, "M_IT_TA_1" }, { 17, "M_EP_TA_1" }, { 18, "M_EP_TB_1" },
	{ 19, "M_EP_TC_1" }, { 20, "M_PS_NA_1" }, { 21, "M_ME_ND_1" },
	{ 30, "M_SP_TB_1" }, { 31, "M_DP_TB_1" }, { 32, "M_ST_TB_1" },
	{ 33, "M_BO_TB_1" }, { 34, "M_ME_TD_1" }, { 35, "M_ME_TE_1" },
	{ 36, "M_ME_TF_1" }, { 37, "M_IT_TB_1" }, { 38, "M_EP_TD_1" },
	{ 39, "M_EP_TE_1" }, { 40, "M_EP_TF_1" },
	{ 45, "C_SC_NA_1" }, { 46, "C_DC_NA_1" }, { 47, "C_RC_NA_1" },
	{ 48, "C_SE_NA_1" }, { 49, "C_SE_NB_1" }, { 50, "C_SE_NC_1" },
	{ 51, "C_BO_NA_1" },
	{ 58, "C_SC_TA_1" }, { 59, "C_DC_TA_1" }, { 60, "C_RC_TA_1" },
	{ 61, "C_SE_TA_1" }, { 62, "C_SE_TB_1" }, { 63, "C_SE_TC_1" },
	{ 64, "C_BO_TA_1" },
	{ 70, "M_EI_NA_1" },
	{ 100, "C_IC_NA_1" }, { 101, "C_CI_NA_1" }, { 102, "C_RD_NA_1" },
	{ 103, "C_CS_NA_1" }, { 104, "C_TS_NA_1" }, { 105, "C_RP_NA_1" },
	{ 106, "C_CD_NA_1" }, { 107, "C_TS_TA_1" },
	{ 110, "P_ME_NA_1" }, { 111, "P_ME_NB_1" }, { 112, "P_ME_NC_1" },
	{ 113, "P_AC_NA_1" },
	{ 120, "F_FR_NA_1" }, { 121, "F_SR_NA_1" }, { 122, "F_SC_NA_1" },
	{ 123, "F_LS_NA_1" }, { 124, "F_AF_NA_1" }, { 125, "F_SG_NA_1" },
	{ 126, "F_DR_TA_1" }, { 127, "F_SC_NB_1" },
};

static const struct tok u_names[] = {
	{ IEC104_U_STARTDT_ACT, "STARTDT act" },
	{ IEC104_U_STARTDT_CON, "STARTDT con" },
	{ IEC104_U_STOPDT_ACT, "STOPDT act" },
	{ IEC104_U_STOPDT_CON, "STOPDT con" },
	{ IEC104_U_TESTFR_ACT, "TESTFR act" },
	{ IEC104_U_TESTFR_CON, "TESTFR con" },
};

static const struct tok cot_names[] = {
	{ 1, "periodic" }, { 2, "background" }, { 3, "spontaneous" },
	{ 4, "initialized" }, { 5, "request" }, { 6, "activation" },
	{ 7, "activation con" }, { 8, "deactivation" },
	{ 9, "deactivation con" }, { 10, "activation term" },
	{ 11, "return remote" }, { 12, "return local" }, { 13, "file" },
	{ 20, "inrogen" }, { 37, "reqcogen" },
	{ 44, "unknown type" }, { 45, "unknown cause" },
	{ 46, "unknown common address" }, { 47, "unknown IOA" },
};

const char *
iec104_type_name(uint8_t type)
{
	return tok_name(type_names, NTOK(type_names), type, "unknown");
}

const char *
iec104_u_name(uint8_t u_func)
{
	return tok_name(u_names, NTOK(u_names), u_func, "unknown");
}

const char *
iec104_cot_name(uint8_t cot)
{
	if (cot >= 21 && cot <= 36)
		return "inro";		/* interrogated by group 1-16 */
	if (cot >= 38 && cot <= 41)
		return "reqco";		/* counter group 1-4 */
	return tok_name(cot_names, NTOK(cot_names), cot, "unknown");
}

bool
iec104_type_is_command(uint8_t type)
{
	return type >= 45 && type <= 69;
}

bool
iec104_type_is_system_command(uint8_t type)
{
	return type >= 100 && type <= 107;
}

int
iec104_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint8_t start, length;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	rd_init(&r, p, n);
	if (rd_left(&r) >= 1 && rd_peek(&r, 0) != IEC104_START)
		return IDS_EMALFORMED;
	start = rd_u8(&r);
	length = rd_u8(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (start != IEC104_START || length < IEC104_LEN_MIN ||
	    length > IEC104_LEN_MAX)
		return IDS_EMALFORMED;
	*len = 2 + (size_t)length;
	return 0;
}

/* Offset of the command qualifier after the IOA, or -1 for no qualifier. */
static int
qualifier_offset(uint8_t type)
{
	switch (type) {
	case IEC104_C_SC_NA_1: case IEC104_C_DC_NA_1: case IEC104_C_RC_NA_1:
	case IEC104_C_SC_TA_1: case IEC104_C_DC_TA_1: case IEC104_C_RC_TA_1:
		return 0;		/* SCO / DCO / RCO */
	case IEC104_C_SE_NA_1: case IEC104_C_SE_NB_1:
	case IEC104_C_SE_TA_1: case IEC104_C_SE_TB_1:
		return 2;		/* 16-bit value, then QOS */
	case IEC104_C_SE_NC_1: case IEC104_C_SE_TC_1:
		return 4;		/* short float, then QOS */
	default:
		return -1;
	}
}

static void
parse_qualifier(struct rd *r, struct iec104_apdu *out)
{
	int off = qualifier_offset(out->type_id);
	uint8_t q;

	if (off < 0 || !rd_skip(r, (size_t)off))
		return;
	q = rd_u8(r);
	if (r->err)
		return;
	out->has_qualifier = true;
	out->qualifier = q;
	out->select = (q & IEC104_SE_SELECT) != 0;
	switch (out->type_id) {
	case IEC104_C_SC_NA_1: case IEC104_C_SC_TA_1:
		out->command_state = q & 0x01;
		out->qu = (q >> 2) & 0x1F;
		break;
	case IEC104_C_DC_NA_1: case IEC104_C_DC_TA_1:
	case IEC104_C_RC_NA_1: case IEC104_C_RC_TA_1:
		out->command_state = q & 0x03;
		out->qu = (q >> 2) & 0x1F;
		break;
	default:
		out->qu = q & 0x7F;	/* QL of a set-point command */
		break;
	}
}

static int
parse_asdu(struct rd *r, struct iec104_apdu *out)
{
	struct rd ob;
	uint8_t cot;

	out->type_id = rd_u8(r);
	out->vsq = rd_u8(r);
	cot = rd_u8(r);
	out->originator = rd_u8(r);
	out->common_address = rd_le16(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_asdu = true;
	out->sq = (out->vsq & 0x80) != 0;
	out->num_objects = out->vsq & 0x7F;
	out->test = (cot & 0x80) != 0;
	out->negative = (cot & 0x40) != 0;
	out->cot = cot & 0x3F;
	out->objects = rd_ptr(r);
	out->objects_len = rd_left(r);
	if (out->objects_len == 0)
		return 0;
	ob = *r;
	out->ioa = rd_le24(&ob);
	if (ob.err)
		return IDS_EMALFORMED;	/* a partial IOA cannot be right */
	out->has_ioa = true;
	parse_qualifier(&ob, out);
	return 0;
}

int
iec104_parse(const uint8_t *p, size_t n, struct iec104_apdu *out)
{
	struct rd r, a;
	uint8_t c1, c2, c3, c4, fn;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof *out);
	rc = iec104_frame_len(p, n, &out->frame_len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (out->frame_len > n)
		return IDS_ETRUNC;

	rd_init(&r, p, n);
	rd_skip(&r, 1);
	out->length = rd_u8(&r);
	rd_sub(&r, out->length, &a);
	c1 = rd_u8(&a);
	c2 = rd_u8(&a);
	c3 = rd_u8(&a);
	c4 = rd_u8(&a);
	out->nr = (uint16_t)(((unsigned)c4 << 8 | c3) >> 1);

	if ((c1 & 0x01) == 0) {
		out->format = IEC104_FORMAT_I;
		out->ns = (uint16_t)(((unsigned)c2 << 8 | c1) >> 1);
		/* An I frame carries at least the 6-octet ASDU header. */
		if (rd_left(&a) < IEC104_ASDU_HDR_LEN)
			return IDS_EMALFORMED;
		return parse_asdu(&a, out);
	}
	if ((c1 & 0x03) == 0x01) {
		out->format = IEC104_FORMAT_S;
		return out->length == IEC104_LEN_MIN ? 0 : IDS_EMALFORMED;
	}
	out->format = IEC104_FORMAT_U;
	out->nr = 0;
	out->u_func = c1;
	fn = c1 & 0xFC;
	/* Exactly one of STARTDT/STOPDT/TESTFR act/con may be set. */
	if (out->length != IEC104_LEN_MIN || fn == 0 || (fn & (fn - 1)) != 0)
		return IDS_EMALFORMED;
	return 0;
}


/* ---- monitored values ------------------------------------------------- */

/* Element size (without IOA), value kind and time tag of type t; 0 = none. */
static size_t
value_elem(uint8_t t, uint8_t *kind, size_t *tag)
{
	*tag = 0;
	switch (t) {
	case 1: case 3:
		*kind = IEC104_VAL_BINARY;
		return 1;
	case 2: case 4:
		*kind = IEC104_VAL_BINARY;
		*tag = 3;
		return 4;
	case 30: case 31:
		*kind = IEC104_VAL_BINARY;
		*tag = 7;
		return 8;
	case 5:
		*kind = IEC104_VAL_ANALOG;
		return 2;
	case 6:
		*kind = IEC104_VAL_ANALOG;
		*tag = 3;
		return 5;
	case 32:
		*kind = IEC104_VAL_ANALOG;
		*tag = 7;
		return 9;
	case 9: case 11:
		*kind = IEC104_VAL_ANALOG;
		return 3;
	case 10: case 12:
		*kind = IEC104_VAL_ANALOG;
		*tag = 3;
		return 6;
	case 34: case 35:
		*kind = IEC104_VAL_ANALOG;
		*tag = 7;
		return 10;
	case 13:
		*kind = IEC104_VAL_ANALOG;
		return 5;
	case 14:
		*kind = IEC104_VAL_ANALOG;
		*tag = 3;
		return 8;
	case 36:
		*kind = IEC104_VAL_ANALOG;
		*tag = 7;
		return 12;
	case 21:
		*kind = IEC104_VAL_ANALOG;
		return 2;
	case 15:
		*kind = IEC104_VAL_COUNTER;
		return 5;
	case 16:
		*kind = IEC104_VAL_COUNTER;
		*tag = 3;
		return 8;
	case 37:
		*kind = IEC104_VAL_COUNTER;
		*tag = 7;
		return 12;
	default:
		return 0;
	}
}

static void
read_elem(struct rd *r, uint8_t t, struct iec104_value *v)
{
	uint32_t u;
	uint8_t q;
	float f;

	switch (t) {
	case 1: case 2: case 30:
		q = rd_u8(r);
		v->value = q & 0x01;
		v->invalid = (q & 0xC0) != 0;
		break;
	case 3: case 4: case 31:
		q = rd_u8(r);
		v->value = q & 0x03;
		v->invalid = (q & 0xC0) != 0;
		break;
	case 5: case 6: case 32:
		q = rd_u8(r);		/* VTI: 7-bit signed */
		v->value = (q & 0x40) ? (int)(q & 0x7F) - 128 : (q & 0x7F);
		v->invalid = (rd_u8(r) & 0xC0) != 0;
		break;
	case 9: case 10: case 11: case 12: case 34: case 35: case 21:
		v->value = (int16_t)rd_le16(r);
		if (t != 21)
			v->invalid = (rd_u8(r) & 0xC0) != 0;
		break;
	case 13: case 14: case 36:
		u = rd_le32(r);
		memcpy(&f, &u, sizeof(f));
		v->value = f;
		v->is_float = true;
		v->invalid = (rd_u8(r) & 0xC0) != 0;
		break;
	default:			/* 15, 16, 37: BCR */
		v->value = (int32_t)rd_le32(r);
		v->invalid = (rd_u8(r) & 0x80) != 0;
		break;
	}
}

size_t
iec104_values(const struct iec104_apdu *m, iec104_value_fn fn, void *arg)
{
	struct iec104_value v;
	struct rd r;
	uint8_t kind = 0;
	size_t esz, tag, n = 0;
	uint32_t ioa = 0, i;

	if (m == NULL || !m->has_asdu || m->objects == NULL ||
	    (esz = value_elem(m->type_id, &kind, &tag)) == 0)
		return 0;
	rd_init(&r, m->objects, m->objects_len);
	for (i = 0; i < m->num_objects; i++) {
		if (!m->sq || i == 0)
			ioa = rd_le24(&r);
		else
			ioa = (ioa + 1) & 0xFFFFFF;
		if (r.err || rd_left(&r) < esz)
			return n;
		memset(&v, 0, sizeof(v));
		v.type_id = m->type_id;
		v.kind = kind;
		v.ioa = ioa;
		read_elem(&r, m->type_id, &v);
		if (tag != 0 && !rd_skip(&r, tag))
			return n;
		if (r.err)
			return n;
		fn(arg, &v);
		n++;
	}
	return n;
}

/* ---- requests: codes are ASDU type ids; ranges IOAs per common address */

static unsigned
iec104_code_ops(uint16_t c)
{
	if (c >= 0x100)
		return 0;
	/* control direction: single/double/step commands, set points */
	if (iec104_type_is_command((uint8_t)c))
		return PROTO_OP_WRITE | PROTO_OP_COMMAND;
	switch (c) {
	case 103:	/* C_CS_NA_1 clock synchronisation */
		return PROTO_OP_COMMAND;
	case 105:	/* C_RP_NA_1 reset process */
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case 110:	/* P_ME_NA_1, P_ME_NB_1, P_ME_NC_1: parameters */
	case 111:
	case 112:
		return PROTO_OP_WRITE;
	case 113:	/* P_AC_NA_1 parameter activation */
		return PROTO_OP_WRITE | PROTO_OP_COMMAND;
	}
	return 0;
}

static const char *
iec104_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return iec104_type_name((uint8_t)c);
}

static void
iec104_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct iec104_apdu *m = pdu->u.iec104;

	if (!m->has_asdu)
		return;
	proto_req_code(r, m->type_id);
	if (iec104_type_is_command(m->type_id) && m->has_ioa)
		proto_req_range(r, m->common_address, m->ioa, 1);
}

static void
iec104_space_json(uint32_t space, cJSON *o)
{
	cJSON_AddNumberToObject(o, "common_address", space);
}

static int
iec104_space_parse(const cJSON *o, uint32_t *space, char *err, size_t errlen)
{
	double a;

	if (json_get_uint(o, "common_address", 0, 65535, -1, &a, err,
	    errlen) != 0)
		return -1;
	*space = (uint32_t)a;
	return 0;
}

static void
iec104_range_text(const struct proto_range *r, char *buf, size_t len)
{
	snprintf(buf, len, "common address %u IOA %u-%u", r->space, r->lo,
	    r->hi);
}

static const struct proto_addr_model iec104_addr = {
	iec104_space_json, iec104_space_parse, iec104_range_text
};

/* ---- descriptor ------------------------------------------------------- */

static void
iec104_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct iec104_apdu m;
	struct det_pdu pdu = { .proto = ICS_IEC104, .u.iec104 = &m };

	dis_outcome(dc, iec104_parse(p, n, &m), &pdu, partial,
	    "malformed IEC 104 APDU");
}

static bool
iec104_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	if (p->ip_proto != 6 || !(pkt_on_port(p, 2404) ||
	    f->ndpi_app == NDPI_PROTOCOL_IEC60870 ||
	    f->ndpi_master == NDPI_PROTOCOL_IEC60870) ||
	    !pkt_frames(p, iec104_frame_len))
		return false;
	*srv_port = pkt_on_port(p, 2404) ? 2404 : 0;
	return true;
}

/* Read command C_RD_NA_1: the common address and object read */
static bool
iec104_read_target(const struct det_pdu *pdu, uint32_t *key)
{
	const struct iec104_apdu *m = pdu->u.iec104;

	if (m->format != IEC104_FORMAT_I || !m->has_asdu ||
	    m->type_id != IEC104_C_RD_NA_1 || !m->has_ioa)
		return false;
	*key = (uint32_t)m->common_address * 2654435761u ^ m->ioa;
	return true;
}

const struct proto_desc iec104_desc = {
	.id = ICS_IEC104,
	.name = "iec104",
	.transports = PROTO_TCP,
	.ports = { 2404 },
	.policy_key = "iec104_masters",
	.pick = iec104_pick,
	.frame_len = iec104_frame_len,
	.bad_header = "bad IEC 104 APCI (start byte or length)",
	.handle = iec104_handle,
	.analyse = iec104_analyse,
	.code_ops = iec104_code_ops,
	.code_name = iec104_code_name,
	.addr = &iec104_addr,
	.read_target = iec104_read_target,
};
