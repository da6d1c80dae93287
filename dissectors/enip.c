/*
 * enip.c - EtherNet/IP encapsulation, CPF and CIP request/response parser.
 *
 * Spec: CIP Networks Library Vol 2 (EtherNet/IP) 2-3 (encapsulation
 * header), 2-4 (commands), 2-6 (Common Packet Format); Vol 1 2-4 (message
 * router request/response format), 3-5.6 (Unconnected Send), A-4.10
 * (Multiple Service Packet), C-1 (EPATH segment types).
 */
#include "dissectors/enip.h"

#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/rd.h"
#include "lib/zero.h"
#include "lib/tok.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

#define NTOK(t)	(sizeof(t) / sizeof((t)[0]))

static const struct tok cmd_names[] = {
	{ ENIP_CMD_NOP, "NOP" },
	{ ENIP_CMD_LIST_SERVICES, "ListServices" },
	{ ENIP_CMD_LIST_IDENTITY, "ListIdentity" },
	{ ENIP_CMD_LIST_INTERFACES, "ListInterfaces" },
	{ ENIP_CMD_REGISTER_SESSION, "RegisterSession" },
	{ ENIP_CMD_UNREGISTER_SESSION, "UnRegisterSession" },
	{ ENIP_CMD_SEND_RR_DATA, "SendRRData" },
	{ ENIP_CMD_SEND_UNIT_DATA, "SendUnitData" },
	{ ENIP_CMD_INDICATE_STATUS, "IndicateStatus" },
	{ ENIP_CMD_CANCEL, "Cancel" },
};

static const struct tok svc_names[] = {
	{ CIP_SVC_GET_ATTRIBUTES_ALL, "Get_Attributes_All" },
	{ CIP_SVC_SET_ATTRIBUTES_ALL, "Set_Attributes_All" },
	{ CIP_SVC_GET_ATTRIBUTE_LIST, "Get_Attribute_List" },
	{ CIP_SVC_SET_ATTRIBUTE_LIST, "Set_Attribute_List" },
	{ CIP_SVC_RESET, "Reset" },
	{ CIP_SVC_START, "Start" },
	{ CIP_SVC_STOP, "Stop" },
	{ CIP_SVC_CREATE, "Create" },
	{ CIP_SVC_DELETE, "Delete" },
	{ CIP_SVC_MULTIPLE_SERVICE_PACKET, "Multiple_Service_Packet" },
	{ CIP_SVC_APPLY_ATTRIBUTES, "Apply_Attributes" },
	{ CIP_SVC_GET_ATTRIBUTE_SINGLE, "Get_Attribute_Single" },
	{ CIP_SVC_SET_ATTRIBUTE_SINGLE, "Set_Attribute_Single" },
	{ CIP_SVC_FIND_NEXT_OBJECT, "Find_Next_Object_Instance" },
	{ CIP_SVC_RESTORE, "Restore" },
	{ CIP_SVC_SAVE, "Save" },
	{ CIP_SVC_NOP, "Nop" },
	{ CIP_SVC_GET_MEMBER, "Get_Member" },
	{ CIP_SVC_SET_MEMBER, "Set_Member" },
	{ CIP_SVC_EXECUTE_PCCC, "Execute_PCCC" },
	{ CIP_SVC_READ_TAG, "Read_Tag" },
	{ CIP_SVC_WRITE_TAG, "Write_Tag" },
	{ CIP_SVC_READ_MODIFY_WRITE, "Read_Modify_Write" },
	{ CIP_SVC_UNCONNECTED_SEND, "Unconnected_Send" },
	{ CIP_SVC_WRITE_TAG_FRAGMENTED, "Write_Tag_Fragmented" },
	{ CIP_SVC_FORWARD_OPEN, "Forward_Open" },
	{ CIP_SVC_GET_INSTANCE_ATTR_LIST, "Get_Instance_Attribute_List" },
	{ CIP_SVC_LARGE_FORWARD_OPEN, "Large_Forward_Open" },
};

/* Connection Manager (class 6) object-specific services. */
static const struct tok cm_svc_names[] = {
	{ 0x4E, "Forward_Close" },
	{ 0x52, "Unconnected_Send" },
	{ 0x54, "Forward_Open" },
	{ 0x56, "Get_Connection_Data" },
	{ 0x57, "Search_Connection_Data" },
	{ 0x5A, "Get_Connection_Owner" },
	{ 0x5B, "Large_Forward_Open" },
};

const char *
enip_cmd_name(uint16_t cmd)
{
	return tok_name(cmd_names, NTOK(cmd_names), cmd, "Unknown");
}

const char *
cip_service_name(uint8_t service)
{
	return tok_name(svc_names, NTOK(svc_names), service & 0x7Fu,
	    "Unknown");
}

const char *
cip_service_name_for_class(uint8_t service, uint32_t class_id)
{
	const char *s;

	if (class_id == CIP_CLASS_CONNECTION_MANAGER) {
		s = tok_name(cm_svc_names, NTOK(cm_svc_names),
		    service & 0x7Fu, NULL);
		if (s != NULL)
			return s;
	}
	if (class_id == 0x6B && (service & 0x7F) == 0x52)
		return "Read_Tag_Fragmented";	/* Logix symbol object */
	return cip_service_name(service);
}

static bool
known_cmd(uint16_t cmd)
{
	return tok_name(cmd_names, NTOK(cmd_names), cmd, NULL) != NULL;
}

/* Could b be the low byte of a known command (all have a zero high byte)? */
static bool
known_cmd_low(uint8_t b)
{
	return known_cmd(b);
}

int
enip_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint16_t cmd, length;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	rd_init(&r, p, n);
	if (rd_left(&r) >= 1 && !known_cmd_low(rd_peek(&r, 0)))
		return IDS_EMALFORMED;
	if (rd_left(&r) >= 2 && rd_peek(&r, 1) != 0)
		return IDS_EMALFORMED;
	cmd = rd_le16(&r);
	length = rd_le16(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (!known_cmd(cmd) || length > ENIP_LEN_MAX)
		return IDS_EMALFORMED;
	*len = ENIP_HDR_LEN + (size_t)length;
	return 0;
}

bool
enip_probe(const uint8_t *p, size_t n)
{
	struct rd r;
	size_t flen;
	uint32_t options;

	if (enip_frame_len(p, n, &flen) != 0 || flen > n)
		return false;
	rd_init(&r, p, n);
	rd_skip(&r, 20);
	options = rd_le32(&r);
	return !r.err && options == 0;
}

/* Logical segment value in 8-, 16- or 32-bit form (C-1.4.2). */
static bool
logical_value(struct rd *r, uint8_t format, uint32_t *v)
{
	switch (format) {
	case 0:
		*v = rd_u8(r);
		break;
	case 1:
		rd_skip(r, 1);			/* pad */
		*v = rd_le16(r);
		break;
	case 2:
		rd_skip(r, 1);			/* pad */
		*v = rd_le32(r);
		break;
	default:
		return false;
	}
	return !r->err;
}

/*
 * Decode an EPATH: logical (class, instance, member, connection point,
 * attribute, electronic key), port, simple data and ANSI extended symbolic
 * segments.  The first of each kind is kept; anything else stops the walk
 * with unparsed set.
 */
static void
parse_epath(struct rd *r, struct cip_path *pa)
{
	uint8_t seg, len;
	uint32_t v;

	pa->raw = rd_ptr(r);
	pa->raw_len = rd_left(r);
	while (rd_left(r) > 0) {
		seg = rd_u8(r);
		if (seg == 0x91) {		/* ANSI extended symbolic */
			len = rd_u8(r);
			if (!pa->has_symbol && !r->err && len <= rd_left(r)) {
				pa->has_symbol = true;
				pa->symbol = rd_ptr(r);
				pa->symbol_len = len;
			}
			rd_skip(r, (size_t)len + (len & 1));
		} else if ((seg & 0xE0) == 0x20) {	/* logical */
			if (seg == 0x34) {	/* electronic key */
				if (rd_u8(r) != 4) {
					pa->unparsed = true;
					return;
				}
				rd_skip(r, 8);
			} else {
				if (!logical_value(r, seg & 0x03, &v)) {
					pa->unparsed = true;
					return;
				}
				switch (seg & 0x1C) {
				case 0x00:
					if (!pa->has_class) {
						pa->has_class = true;
						pa->class_id = v;
					}
					break;
				case 0x04:
					if (!pa->has_instance) {
						pa->has_instance = true;
						pa->instance = v;
					}
					break;
				case 0x08:
					if (!pa->has_member) {
						pa->has_member = true;
						pa->member = v;
					}
					break;
				case 0x0C:
					if (!pa->has_conn_point) {
						pa->has_conn_point = true;
						pa->conn_point = v;
					}
					break;
				case 0x10:
					if (!pa->has_attribute) {
						pa->has_attribute = true;
						pa->attribute = v;
					}
					break;
				default:	/* service id, reserved */
					break;
				}
			}
		} else if ((seg & 0xE0) == 0x00) {	/* port */
			if (seg & 0x10) {	/* extended link address */
				len = rd_u8(r);
				if ((seg & 0x0F) == 0x0F)
					rd_skip(r, 2);	/* extended port */
				/* Segment + size byte are even: pad odd addresses. */
				rd_skip(r, (size_t)len + (len & 1));
			} else {
				if ((seg & 0x0F) == 0x0F)
					rd_skip(r, 2);
				rd_skip(r, 1);	/* 1-byte link address */
			}
		} else if (seg == 0x80) {	/* simple data segment */
			len = rd_u8(r);
			rd_skip(r, (size_t)len * 2);
		} else {
			pa->unparsed = true;
			return;
		}
		if (r->err) {
			pa->unparsed = true;
			return;
		}
		pa->nsegments++;
	}
}

/*
 * Multiple Service Packet body: count (2) | offsets (2 each, from the
 * start of count) | embedded requests or replies.
 */
static void
parse_msp(const uint8_t *data, size_t len, bool response, struct cip_msg *m)
{
	struct rd r, e, path;
	struct cip_msp_entry *ent;
	uint16_t i, off, next;
	uint8_t psize;

	rd_init(&r, data, len);
	m->multi_count = rd_le16(&r);
	if (r.err)
		return;
	m->multi = true;
	for (i = 0; i < m->multi_count && m->multi_kept < ENIP_MSP_MAX; i++) {
		off = rd_le16(&r);
		if (r.err)
			return;
		/* The entry runs to the next offset, or to the end. */
		next = i + 1 < m->multi_count ? rd_peek(&r, 0) |
		    (uint16_t)(rd_peek(&r, 1) << 8) : 0;
		rd_init(&e, data, len);
		if (!rd_skip(&e, off))
			return;
		if (next > off && (size_t)(next - off) <= rd_left(&e))
			rd_init(&e, rd_ptr(&e), (size_t)(next - off));
		ent = &m->multi_entries[m->multi_kept];
		memset(ent, 0, sizeof *ent);
		ent->service = rd_u8(&e) & 0x7F;
		if (response) {
			rd_skip(&e, 1);
			ent->general_status = rd_u8(&e);
		} else {
			psize = rd_u8(&e);
			if (!e.err && rd_sub(&e, (size_t)psize * 2, &path))
				parse_epath(&path, &ent->path);
		}
		if (e.err)
			return;
		m->multi_kept++;
	}
}

static int parse_cip(struct rd *r, struct cip_msg *m, bool nested);

/*
 * Unconnected Send data: priority/tick | timeout ticks | message size (2) |
 * message | pad to even | route path size (words) | reserved | route path
 */
static int
unwrap_ucs(struct rd *r, struct cip_msg *m)
{
	struct rd emb;
	uint16_t size;
	uint8_t words;

	m->ucs_priority = rd_u8(r);
	m->ucs_timeout = rd_u8(r);
	size = rd_le16(r);
	if (r->err || !rd_sub(r, size, &emb))
		return IDS_EMALFORMED;
	if (size & 1)
		rd_skip(r, 1);
	words = rd_u8(r);
	rd_skip(r, 1);
	if (!r->err && (size_t)words * 2 <= rd_left(r)) {
		m->route = rd_ptr(r);
		m->route_len = (size_t)words * 2;
	}
	m->unconnected_send = true;
	m->ucs_path = m->path;
	memset(&m->path, 0, sizeof m->path);
	m->data = NULL;
	m->data_len = 0;
	return parse_cip(&emb, m, true);
}

static int
parse_cip(struct rd *r, struct cip_msg *m, bool nested)
{
	struct rd path;
	uint8_t svc, psize;

	svc = rd_u8(r);
	if (r->err)
		return IDS_EMALFORMED;
	m->service = svc & 0x7F;
	m->response = (svc & CIP_SERVICE_RESPONSE) != 0;
	if (m->response) {
		rd_skip(r, 1);			/* reserved */
		m->general_status = rd_u8(r);
		m->ext_status_words = rd_u8(r);
		if (r->err)
			return IDS_EMALFORMED;
		m->ext_status = rd_ptr(r);
		if (!rd_skip(r, (size_t)m->ext_status_words * 2))
			return IDS_EMALFORMED;
		m->data = rd_ptr(r);
		m->data_len = rd_left(r);
		/* 0x1E: one or more embedded services failed. */
		if (m->service == CIP_SVC_MULTIPLE_SERVICE_PACKET &&
		    (m->general_status == 0 || m->general_status == 0x1E))
			parse_msp(m->data, m->data_len, true, m);
		return 0;
	}
	psize = rd_u8(r);
	if (r->err || !rd_sub(r, (size_t)psize * 2, &path))
		return IDS_EMALFORMED;
	parse_epath(&path, &m->path);
	m->data = rd_ptr(r);
	m->data_len = rd_left(r);
	if (!nested && m->service == CIP_SVC_UNCONNECTED_SEND &&
	    m->path.has_class &&
	    m->path.class_id == CIP_CLASS_CONNECTION_MANAGER)
		return unwrap_ucs(r, m);
	if (m->service == CIP_SVC_MULTIPLE_SERVICE_PACKET &&
	    (!m->path.has_class ||
	    m->path.class_id == CIP_CLASS_MESSAGE_ROUTER))
		parse_msp(m->data, m->data_len, false, m);
	return 0;
}

/* The first non-empty data item holds the CIP message. */
static int
cpf_cip(struct rd *item, struct enip_pdu *out)
{
	int rc;

	if (out->has_cip || rd_left(item) == 0)
		return 0;
	rc = parse_cip(item, &out->cip, false);
	if (rc == 0)
		out->has_cip = true;
	return rc;
}

/* SendRRData / SendUnitData: interface handle, timeout, CPF items. */
static int
parse_cpf(struct rd *r, struct enip_pdu *out)
{
	struct rd item;
	uint16_t i, type, len;
	int rc;

	out->interface_handle = rd_le32(r);
	out->timeout = rd_le16(r);
	out->item_count = rd_le16(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_cpf = true;
	for (i = 0; i < out->item_count; i++) {
		type = rd_le16(r);
		len = rd_le16(r);
		if (r->err || !rd_sub(r, len, &item))
			return IDS_EMALFORMED;
		switch (type) {
		case ENIP_CPF_CONNECTED_ADDR:
			out->conn_id = rd_le32(&item);
			out->has_conn_id = !item.err;
			break;
		case ENIP_CPF_CONNECTED_DATA:
			/* Class 3: a sequence count precedes the CIP message. */
			out->seq = rd_le16(&item);
			if (item.err)
				return IDS_EMALFORMED;
			out->has_seq = true;
			rc = cpf_cip(&item, out);
			if (rc != 0)
				return rc;
			break;
		case ENIP_CPF_UNCONNECTED_DATA:
			rc = cpf_cip(&item, out);
			if (rc != 0)
				return rc;
			break;
		default:
			break;
		}
	}
	return 0;
}

/*
 * ListIdentity reply item 0x000C: encapsulation version | sockaddr (16,
 * big endian) | vendor | device type | product code | revision major,
 * minor | status | serial | product name (short string) | state
 */
static int
parse_identity(struct rd *r, struct enip_identity *id)
{
	uint8_t len;

	id->encap_version = rd_le16(r);
	rd_skip(r, 2);				/* sin_family */
	id->sin_port = rd_be16(r);
	id->sin_addr = rd_be32(r);
	rd_skip(r, 8);				/* sin_zero */
	id->vendor_id = rd_le16(r);
	id->device_type = rd_le16(r);
	id->product_code = rd_le16(r);
	id->rev_major = rd_u8(r);
	id->rev_minor = rd_u8(r);
	id->status = rd_le16(r);
	id->serial = rd_le32(r);
	len = rd_u8(r);
	if (r->err || len > rd_left(r))
		return IDS_EMALFORMED;
	id->product_name = rd_ptr(r);
	id->product_name_len = len;
	rd_skip(r, len);
	id->state = rd_u8(r);
	id->has_state = !r->err;
	return 0;
}

static int
parse_list_identity(struct rd *r, struct enip_pdu *out)
{
	struct rd item;
	uint16_t count, i, type, len;

	if (rd_left(r) == 0)
		return 0;			/* the request */
	count = rd_le16(r);
	for (i = 0; i < count; i++) {
		type = rd_le16(r);
		len = rd_le16(r);
		if (r->err || !rd_sub(r, len, &item))
			return IDS_EMALFORMED;
		if (type == ENIP_CPF_LIST_IDENTITY && !out->has_identity) {
			if (parse_identity(&item, &out->identity) != 0)
				return IDS_EMALFORMED;
			out->has_identity = true;
		}
	}
	return r->err ? IDS_EMALFORMED : 0;
}

int
enip_parse(const uint8_t *p, size_t n, struct enip_pdu *out)
{
	struct rd r, body;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	zero_fixed(out, sizeof *out);
	rc = enip_frame_len(p, n, &out->frame_len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (out->frame_len > n)
		return IDS_ETRUNC;

	rd_init(&r, p, n);
	out->command = rd_le16(&r);
	out->length = rd_le16(&r);
	out->session = rd_le32(&r);
	out->status = rd_le32(&r);
	rd_copy(&r, out->context, sizeof out->context);
	out->options = rd_le32(&r);
	rd_sub(&r, out->length, &body);
	out->data = rd_ptr(&body);
	if (r.err)
		return IDS_ETRUNC;

	switch (out->command) {
	case ENIP_CMD_REGISTER_SESSION:
		out->protocol_version = rd_le16(&body);
		out->option_flags = rd_le16(&body);
		if (body.err)
			return IDS_EMALFORMED;
		out->has_register = true;
		return 0;
	case ENIP_CMD_SEND_RR_DATA:
	case ENIP_CMD_SEND_UNIT_DATA:
		/* An error reply may carry no data at all. */
		if (out->length == 0 && out->status != 0)
			return 0;
		return parse_cpf(&body, out);
	case ENIP_CMD_LIST_IDENTITY:
		return parse_list_identity(&body, out);
	default:
		return 0;
	}
}

/*
 * ---- requests -----------------------------------------------------------
 * Codes: CIP service; 0x100 | encapsulation command (ListIdentity
 * 0x163...); 0x200 | service for Connection Manager services.
 */

static unsigned
enip_code_ops(uint16_t c)
{
	switch (c) {
	case CIP_SVC_SET_ATTRIBUTES_ALL:
	case CIP_SVC_SET_ATTRIBUTE_LIST:
	case CIP_SVC_SET_ATTRIBUTE_SINGLE:
	case CIP_SVC_SET_MEMBER:
	case CIP_SVC_WRITE_TAG:
	case CIP_SVC_WRITE_TAG_FRAGMENTED:
	case CIP_SVC_READ_MODIFY_WRITE:
		return PROTO_OP_WRITE;
	case CIP_SVC_START:
		return PROTO_OP_COMMAND;
	case CIP_SVC_RESET:
	case CIP_SVC_STOP:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case CIP_SVC_DELETE:
	case CIP_SVC_RESTORE:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case 0x100 | ENIP_CMD_LIST_IDENTITY:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
enip_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	if (c < 0x100)
		return cip_service_name((uint8_t)c);
	if (c < 0x200)
		return enip_cmd_name(c & 0xFF);
	return cip_service_name_for_class((uint8_t)c, CIP_CLASS_CONNECTION_MANAGER);
}

static uint16_t
cip_code(uint8_t svc, const struct cip_path *p)
{
	if (p->has_class && p->class_id == CIP_CLASS_CONNECTION_MANAGER &&
	    (svc == 0x4E || svc == 0x52 || svc == 0x54 || svc == 0x5B))
		return 0x200 | svc;
	return svc;
}

static void
enip_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct enip_pdu *m = pdu->u.enip;
	uint8_t i;

	if (m->command != ENIP_CMD_SEND_RR_DATA &&
	    m->command != ENIP_CMD_SEND_UNIT_DATA) {
		if (m->command < 0x100)
			proto_req_code(r, 0x100 | m->command);
		return;
	}
	if (!m->has_cip || m->cip.response)
		return;
	proto_req_code(r, cip_code(m->cip.service, &m->cip.path));
	if (m->cip.multi)
		for (i = 0; i < m->cip.multi_kept; i++)
			proto_req_code(r, cip_code(m->cip.multi_entries[i].service,
			    &m->cip.multi_entries[i].path));
}

/* ---- descriptor ------------------------------------------------------- */

static void
enip_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct enip_pdu m;
	struct det_pdu pdu = { .proto = ICS_ENIP, .u.enip = &m };

	dis_outcome(dc, enip_parse(p, n, &m), &pdu, partial,
	    "malformed EtherNet/IP encapsulation");
}

/* nDPI 4.2 never registers its EtherNet/IP dissector: port or probe. */
static bool
enip_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	if ((p->ip_proto != 6 && p->ip_proto != 17) ||
	    !(pkt_on_port(p, 44818) || f->ndpi_app == NDPI_PROTOCOL_ETHERNET_IP) ||
	    !enip_probe(p->payload, p->payload_len))
		return false;
	*srv_port = pkt_on_port(p, 44818) ? 44818 : 0;
	return true;
}

/*
 * A CIP read (Read Tag, Read Tag Fragmented, Get_Attribute_Single /
 * _All / _List) names its point by its request path; the first service
 * of a Multiple Service Packet stands for it.
 */
static bool
enip_read_target(const struct det_pdu *pdu, uint32_t *key)
{
	const struct enip_pdu *m = pdu->u.enip;
	const struct cip_path *path;
	uint8_t svc;

	if (!m->has_cip || m->cip.response)
		return false;
	if (m->cip.multi) {
		if (m->cip.multi_kept == 0)
			return false;
		svc = m->cip.multi_entries[0].service;
		path = &m->cip.multi_entries[0].path;
	} else {
		svc = m->cip.service;
		path = &m->cip.path;
	}
	switch (svc) {
	case CIP_SVC_READ_TAG:
	case CIP_SVC_GET_ATTRIBUTES_ALL:
	case CIP_SVC_GET_ATTRIBUTE_LIST:
	case CIP_SVC_GET_ATTRIBUTE_SINGLE:
		break;
	case CIP_SVC_READ_TAG_FRAGMENTED:
		/* 0x52 on the Connection Manager is Unconnected_Send */
		if (path->has_class && path->class_id == 6)
			return false;
		break;
	default:
		return false;
	}
	if (path->raw == NULL || path->raw_len == 0)
		return false;
	*key = proto_hash(proto_hash(2166136261u, &svc, 1), path->raw,
	    path->raw_len);
	return true;
}

const struct proto_desc enip_desc = {
	.id = ICS_ENIP,
	.name = "enip",
	.transports = PROTO_TCP | PROTO_UDP,
	.ports = { 44818 },
	.policy_key = "enip_writers",
	.pick = enip_pick,
	.probe = enip_probe,
	.frame_len = enip_frame_len,
	.frame_udp = true,
	.bad_header = "bad EtherNet/IP encapsulation header",
	.handle = enip_handle,
	.analyse = enip_analyse,
	.code_ops = enip_code_ops,
	.code_name = enip_code_name,
	.read_target = enip_read_target,
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

/* nDPI 4.2 calls it SkypeCall: both ports 2222 decide. */
static bool
cipio_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	if (p->ip_proto != 17 || p->sport != 2222 || p->dport != 2222 ||
	    p->payload_len < 6)
		return false;
	*srv_port = 2222;
	return true;
}

const struct proto_desc cipio_desc = {
	.id = ICS_CIP_IO,
	.name = "cip-io",
	.transports = PROTO_UDP,
	.ports = { 2222 },
	.pick = cipio_pick,
	.bad_header = "",
	.handle = cipio_handle,
};
