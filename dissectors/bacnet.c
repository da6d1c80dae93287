/*
 * bacnet.c - BACnet/IP BVLC/NPDU/APDU parser.
 *
 * Spec: ANSI/ASHRAE 135-2016: J.2 (BVLL messages), 6.2 (NPDU), 20.1.2-
 * 20.1.9 (APDU headers), 20.2.1 (tag encoding), 16.10 (Who-Is/I-Am),
 * 21 (service productions).
 */
#include "dissectors/bacnet.h"

#include <cJSON.h>
#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/json.h"
#include "lib/rd.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

#define NTOK(t)	(sizeof(t) / sizeof((t)[0]))

static const char *const confirmed_names[] = {
	"acknowledgeAlarm", "confirmedCOVNotification",
	"confirmedEventNotification", "getAlarmSummary",
	"getEnrollmentSummary", "subscribeCOV", "atomicReadFile",
	"atomicWriteFile", "addListElement", "removeListElement",
	"createObject", "deleteObject", "readProperty",
	"readPropertyConditional", "readPropertyMultiple", "writeProperty",
	"writePropertyMultiple", "deviceCommunicationControl",
	"confirmedPrivateTransfer", "confirmedTextMessage",
	"reinitializeDevice", "vtOpen", "vtClose", "vtData", "authenticate",
	"requestKey", "readRange", "lifeSafetyOperation",
	"subscribeCOVProperty", "getEventInformation",
	"subscribeCOVPropertyMultiple", "confirmedCOVNotificationMultiple",
	"confirmedAuditNotification", "auditLogQuery",
};

static const char *const unconfirmed_names[] = {
	"i-Am", "i-Have", "unconfirmedCOVNotification",
	"unconfirmedEventNotification", "unconfirmedPrivateTransfer",
	"unconfirmedTextMessage", "timeSynchronization", "who-Has", "who-Is",
	"utcTimeSynchronization", "writeGroup",
	"unconfirmedCOVNotificationMultiple", "unconfirmedAuditNotification",
	"who-Am-I", "you-Are",
};

static const char *const apdu_type_names[] = {
	"Confirmed-REQ", "Unconfirmed-REQ", "SimpleACK", "ComplexACK",
	"SegmentACK", "Error", "Reject", "Abort",
};

static const char *const bvlc_names[] = {
	"BVLC-Result", "Write-Broadcast-Distribution-Table",
	"Read-Broadcast-Distribution-Table",
	"Read-Broadcast-Distribution-Table-Ack", "Forwarded-NPDU",
	"Register-Foreign-Device", "Read-Foreign-Device-Table",
	"Read-Foreign-Device-Table-Ack", "Delete-Foreign-Device-Table-Entry",
	"Distribute-Broadcast-To-Network", "Original-Unicast-NPDU",
	"Original-Broadcast-NPDU", "Secure-BVLL",
};

const char *
bacnet_service_name(uint8_t apdu_type, uint8_t service)
{
	switch (apdu_type) {
	case BACNET_APDU_CONFIRMED_REQ:
	case BACNET_APDU_SIMPLE_ACK:
	case BACNET_APDU_COMPLEX_ACK:
	case BACNET_APDU_ERROR:
		if (service < NTOK(confirmed_names))
			return confirmed_names[service];
		return "unknown";
	case BACNET_APDU_UNCONFIRMED_REQ:
		if (service < NTOK(unconfirmed_names))
			return unconfirmed_names[service];
		return "unknown";
	default:
		return "none";
	}
}

const char *
bacnet_apdu_type_name(uint8_t apdu_type)
{
	if (apdu_type < NTOK(apdu_type_names))
		return apdu_type_names[apdu_type];
	return "unknown";
}

const char *
bacnet_bvlc_func_name(uint8_t func)
{
	if (func < NTOK(bvlc_names))
		return bvlc_names[func];
	return "unknown";
}

/* BVLC functions that carry an NPDU, and where it starts. */
static size_t
npdu_offset(uint8_t func)
{
	switch (func) {
	case BACNET_BVLC_FORWARDED_NPDU:
		return BACNET_BVLC_HDR_LEN + 6;	/* + originating B/IP address */
	case BACNET_BVLC_DISTRIBUTE_BROADCAST:
	case BACNET_BVLC_ORIGINAL_UNICAST:
	case BACNET_BVLC_ORIGINAL_BROADCAST:
		return BACNET_BVLC_HDR_LEN;
	default:
		return 0;
	}
}

bool
bacnet_probe(const uint8_t *p, size_t n)
{
	struct rd r;
	uint8_t type, func, ver, ctl;
	uint16_t len;
	size_t off;

	rd_init(&r, p, n);
	type = rd_u8(&r);
	func = rd_u8(&r);
	len = rd_be16(&r);
	if (r.err || type != BACNET_BVLC_TYPE_BIP ||
	    func > BACNET_BVLC_SECURE_BVLL || len < BACNET_BVLC_HDR_LEN ||
	    len > n)
		return false;
	off = npdu_offset(func);
	if (off == 0)
		return true;
	rd_init(&r, p, len);
	rd_skip(&r, off);
	ver = rd_u8(&r);
	ctl = rd_u8(&r);
	/* Control bits 6 and 4 are reserved and shall be zero. */
	return !r.err && ver == BACNET_NPDU_VERSION && (ctl & 0x50) == 0;
}

/* One encoded tag (20.2.1): number, class, length/value/type. */
struct tag {
	uint8_t	 num;
	bool	 context;
	bool	 opening;
	bool	 closing;
	uint32_t len;
};

static bool
read_tag(struct rd *r, struct tag *t)
{
	uint8_t b, lvt;

	b = rd_u8(r);
	t->num = b >> 4;
	t->context = (b & 0x08) != 0;
	lvt = b & 0x07;
	if (t->num == 15)
		t->num = rd_u8(r);		/* extended tag number */
	t->opening = t->context && lvt == 6;
	t->closing = t->context && lvt == 7;
	if (t->opening || t->closing)
		t->len = 0;
	else if (lvt == 5) {			/* extended length */
		t->len = rd_u8(r);
		if (t->len == 254)
			t->len = rd_be16(r);
		else if (t->len == 255)
			t->len = rd_be32(r);
	} else
		t->len = lvt;
	return !r->err;
}

/* Unsigned/enumerated contents of 1-4 octets. */
static bool
read_uint(struct rd *r, uint32_t len, uint32_t *v)
{
	uint32_t i;

	if (len < 1 || len > 4)
		return false;
	*v = 0;
	for (i = 0; i < len; i++)
		*v = *v << 8 | rd_u8(r);
	return !r->err;
}

/* A tagged unsigned value with the expected tag number and class. */
static bool
read_tagged_uint(struct rd *r, uint8_t num, bool context, uint32_t *v)
{
	struct tag t;

	return read_tag(r, &t) && t.num == num && t.context == context &&
	    !t.opening && !t.closing && read_uint(r, t.len, v);
}

/* I-Am: objectIdentifier, maxAPDULength, segmentation, vendorID (app tags). */
static void
decode_iam(struct rd *r, struct bacnet_pdu *out)
{
	uint32_t oid, maxapdu, seg, vendor;

	if (!read_tagged_uint(r, 12, false, &oid) ||
	    !read_tagged_uint(r, 2, false, &maxapdu) ||
	    !read_tagged_uint(r, 9, false, &seg) ||
	    !read_tagged_uint(r, 2, false, &vendor))
		return;
	out->has_iam = true;
	out->object_type = (uint16_t)(oid >> 22);
	out->has_object = true;
	out->object_instance = oid & 0x3FFFFF;
	out->iam_device_instance = out->object_instance;
	out->iam_max_apdu = maxapdu;
	out->iam_segmentation = (uint8_t)seg;
	out->iam_vendor_id = (uint16_t)vendor;
}

/* Who-Is: optional [0] low and [1] high device instance limits. */
static void
decode_whois(struct rd *r, struct bacnet_pdu *out)
{
	if (rd_left(r) == 0)
		return;
	if (read_tagged_uint(r, 0, true, &out->whois_low) &&
	    read_tagged_uint(r, 1, true, &out->whois_high))
		out->has_whois_range = true;
}

/*
 * Leading object identifier ([0] or application tag 12) and, when it
 * follows, property identifier ([1]).
 */
static void
decode_object_property(struct rd *r, struct bacnet_pdu *out)
{
	struct tag t;
	uint32_t oid, prop;

	if (!read_tag(r, &t) || t.opening || t.closing || t.len != 4 ||
	    !(t.context ? t.num == 0 : t.num == 12) || !read_uint(r, 4, &oid))
		return;
	out->has_object = true;
	out->object_type = (uint16_t)(oid >> 22);
	out->object_instance = oid & 0x3FFFFF;
	if (read_tagged_uint(r, 1, true, &prop)) {
		out->has_property = true;
		out->property_id = prop;
	}
}

static void
decode_service(struct rd *r, struct bacnet_pdu *out)
{
	struct rd s = *r;
	uint32_t v;

	if (out->apdu_type == BACNET_APDU_UNCONFIRMED_REQ) {
		if (out->service == BACNET_USVC_I_AM)
			decode_iam(&s, out);
		else if (out->service == BACNET_USVC_WHO_IS)
			decode_whois(&s, out);
		return;
	}
	/* Only the first segment starts with the service parameters. */
	if (out->segmented && out->seq_num != 0)
		return;
	switch (out->service) {
	case BACNET_SVC_REINITIALIZE_DEVICE:
		if (out->apdu_type == BACNET_APDU_CONFIRMED_REQ &&
		    read_tagged_uint(&s, 0, true, &v)) {
			out->has_reinit_state = true;
			out->reinit_state = (uint8_t)v;
		}
		break;
	case BACNET_SVC_DEVICE_COMM_CONTROL:
		if (out->apdu_type != BACNET_APDU_CONFIRMED_REQ)
			break;
		/* [0] timeDuration is optional, [1] enable-disable is not. */
		if (!read_tagged_uint(&s, 0, true, &v))
			s = *r;
		if (read_tagged_uint(&s, 1, true, &v)) {
			out->has_dcc_state = true;
			out->dcc_state = (uint8_t)v;
		}
		break;
	case BACNET_SVC_ATOMIC_READ_FILE:
	case BACNET_SVC_ATOMIC_WRITE_FILE:
	case BACNET_SVC_DELETE_OBJECT:
	case BACNET_SVC_READ_PROPERTY:
	case BACNET_SVC_READ_PROPERTY_MULTIPLE:
	case BACNET_SVC_WRITE_PROPERTY:
	case BACNET_SVC_WRITE_PROPERTY_MULTIPLE:
	case BACNET_SVC_READ_RANGE:
		if (out->apdu_type == BACNET_APDU_CONFIRMED_REQ ||
		    out->apdu_type == BACNET_APDU_COMPLEX_ACK)
			decode_object_property(&s, out);
		break;
	default:
		break;
	}
}

static int
parse_apdu(struct rd *r, struct bacnet_pdu *out)
{
	uint8_t b0, b1;

	b0 = rd_u8(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_apdu = true;
	out->apdu_type = b0 >> 4;
	out->apdu_flags = b0 & 0x0F;
	out->segmented = (b0 & 0x08) != 0;
	out->more_follows = (b0 & 0x04) != 0;
	out->seg_accepted = (b0 & 0x02) != 0;
	switch (out->apdu_type) {
	case BACNET_APDU_CONFIRMED_REQ:
		b1 = rd_u8(r);
		out->max_segs = (b1 >> 4) & 0x07;
		out->max_apdu = b1 & 0x0F;
		out->invoke_id = rd_u8(r);
		if (out->segmented) {
			out->seq_num = rd_u8(r);
			out->window = rd_u8(r);
		}
		out->service = rd_u8(r);
		out->has_service = true;
		break;
	case BACNET_APDU_UNCONFIRMED_REQ:
		out->service = rd_u8(r);
		out->has_service = true;
		break;
	case BACNET_APDU_SIMPLE_ACK:
	case BACNET_APDU_ERROR:
		out->invoke_id = rd_u8(r);
		out->service = rd_u8(r);
		out->has_service = true;
		break;
	case BACNET_APDU_COMPLEX_ACK:
		out->invoke_id = rd_u8(r);
		if (out->segmented) {
			out->seq_num = rd_u8(r);
			out->window = rd_u8(r);
		}
		out->service = rd_u8(r);
		out->has_service = true;
		break;
	case BACNET_APDU_SEGMENT_ACK:
		/* Flags here are NAK (0x02) and SRV (0x01), not SEG/MOR/SA. */
		out->segmented = out->more_follows = out->seg_accepted = false;
		out->invoke_id = rd_u8(r);
		out->seq_num = rd_u8(r);
		out->window = rd_u8(r);
		break;
	case BACNET_APDU_REJECT:
	case BACNET_APDU_ABORT:
		out->segmented = out->more_follows = out->seg_accepted = false;
		out->invoke_id = rd_u8(r);
		out->reason = rd_u8(r);
		break;
	default:
		return IDS_EMALFORMED;
	}
	if (r->err)
		return IDS_EMALFORMED;
	out->service_data = rd_ptr(r);
	out->service_len = rd_left(r);
	if (out->has_service)
		decode_service(r, out);
	return 0;
}

static int
parse_npdu(struct rd *r, struct bacnet_pdu *out)
{
	uint8_t ver, ctl;

	ver = rd_u8(r);
	ctl = rd_u8(r);
	if (r->err || ver != BACNET_NPDU_VERSION || (ctl & 0x50) != 0)
		return IDS_EMALFORMED;
	out->has_npdu = true;
	out->npdu_control = ctl;
	out->nl_message = (ctl & BACNET_NPDU_NL_MSG) != 0;
	out->expecting_reply = (ctl & BACNET_NPDU_EXPECT_REPLY) != 0;
	out->priority = ctl & BACNET_NPDU_PRIO_MASK;
	if (ctl & BACNET_NPDU_DNET) {
		out->has_dnet = true;
		out->dnet = rd_be16(r);
		out->dlen = rd_u8(r);
		out->dadr = rd_ptr(r);
		rd_skip(r, out->dlen);
	}
	if (ctl & BACNET_NPDU_SNET) {
		out->has_snet = true;
		out->snet = rd_be16(r);
		out->slen = rd_u8(r);
		out->sadr = rd_ptr(r);
		/* SLEN = 0 is invalid: a source is never a broadcast. */
		if (!r->err && out->slen == 0)
			return IDS_EMALFORMED;
		rd_skip(r, out->slen);
	}
	if (ctl & BACNET_NPDU_DNET)
		out->hop_count = rd_u8(r);
	if (r->err)
		return IDS_EMALFORMED;
	if (out->nl_message) {
		out->nl_msg_type = rd_u8(r);
		if (out->nl_msg_type >= 0x80)
			out->nl_vendor = rd_be16(r);
		return r->err ? IDS_EMALFORMED : 0;
	}
	return parse_apdu(r, out);
}

int
bacnet_parse(const uint8_t *p, size_t n, struct bacnet_pdu *out)
{
	struct rd r;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof *out);
	rd_init(&r, p, n);
	out->bvlc_type = rd_u8(&r);
	out->bvlc_func = rd_u8(&r);
	out->bvlc_len = rd_be16(&r);
	if (r.err) {
		/* Say malformed as soon as a visible byte rules BVLC out. */
		if ((n >= 1 && out->bvlc_type != BACNET_BVLC_TYPE_BIP) ||
		    (n >= 2 && out->bvlc_func > BACNET_BVLC_SECURE_BVLL))
			return IDS_EMALFORMED;
		return IDS_ETRUNC;
	}
	if (out->bvlc_type != BACNET_BVLC_TYPE_BIP ||
	    out->bvlc_func > BACNET_BVLC_SECURE_BVLL ||
	    out->bvlc_len < BACNET_BVLC_HDR_LEN)
		return IDS_EMALFORMED;
	if (out->bvlc_len > n)
		return IDS_ETRUNC;
	out->trailing = n - out->bvlc_len;

	/* Parse within the BVLC length only. */
	rd_init(&r, p, out->bvlc_len);
	rd_skip(&r, BACNET_BVLC_HDR_LEN);
	if (npdu_offset(out->bvlc_func) == 0)
		return 0;			/* BVLL control message */
	if (out->bvlc_func == BACNET_BVLC_FORWARDED_NPDU) {
		out->orig_ip = rd_be32(&r);
		out->orig_port = rd_be16(&r);
		if (r.err)
			return IDS_EMALFORMED;
		out->has_orig_addr = true;
	}
	return parse_npdu(&r, out);
}

/*
 * ---- requests: codes are confirmed services, 0x100 | unconfirmed ones;
 * write ranges are object instances per object type.
 */

static unsigned
bacnet_code_ops(uint16_t c)
{
	switch (c) {
	case BACNET_SVC_CREATE_OBJECT:
	case BACNET_SVC_WRITE_PROPERTY:
	case BACNET_SVC_WRITE_PROPERTY_MULTIPLE:
		return PROTO_OP_WRITE;
	case BACNET_SVC_ATOMIC_WRITE_FILE:	/* program, firmware transfer */
	case BACNET_SVC_DELETE_OBJECT:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case BACNET_SVC_DEVICE_COMM_CONTROL:
	case BACNET_SVC_REINITIALIZE_DEVICE:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case 0x100 | BACNET_USVC_TIME_SYNC:
	case 0x100 | BACNET_USVC_UTC_TIME_SYNC:
		return PROTO_OP_COMMAND;
	case 0x100 | BACNET_USVC_WHO_IS:
	case 0x100 | BACNET_USVC_WHO_HAS:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
bacnet_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return bacnet_service_name(c < 0x100 ? BACNET_APDU_CONFIRMED_REQ :
	    BACNET_APDU_UNCONFIRMED_REQ, (uint8_t)c);
}

static void
bacnet_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct bacnet_pdu *b = pdu->u.bacnet;

	if (!b->has_apdu || !b->has_service)
		return;
	if (b->apdu_type == BACNET_APDU_CONFIRMED_REQ) {
		proto_req_code(r, b->service);
		if ((bacnet_code_ops(b->service) & PROTO_OP_WRITE) && b->has_object)
			proto_req_range(r, b->object_type, b->object_instance, 1);
	} else if (b->apdu_type == BACNET_APDU_UNCONFIRMED_REQ)
		proto_req_code(r, 0x100 | b->service);
}

static void
bacnet_space_json(uint32_t space, cJSON *o)
{
	cJSON_AddNumberToObject(o, "object_type", space);
}

static int
bacnet_space_parse(const cJSON *o, uint32_t *space, char *err, size_t errlen)
{
	double a;

	if (json_get_uint(o, "object_type", 0, 1023, -1, &a, err, errlen) != 0)
		return -1;
	*space = (uint32_t)a;
	return 0;
}

static void
bacnet_range_text(const struct proto_range *r, char *buf, size_t len)
{
	snprintf(buf, len, "object type %u instances %u-%u", r->space, r->lo,
	    r->hi);
}

static const struct proto_addr_model bacnet_addr = {
	bacnet_space_json, bacnet_space_parse, bacnet_range_text
};

/* ---- descriptor ------------------------------------------------------- */

static void
bacnet_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct bacnet_pdu m;
	struct det_pdu pdu = { .proto = ICS_BACNET, .u.bacnet = &m };

	dis_outcome(dc, bacnet_parse(p, n, &m), &pdu, partial,
	    "malformed BACnet/IP frame");
}

static bool
bacnet_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	if (p->ip_proto != 17 || !(pkt_on_port(p, 47808) ||
	    pkt_on_port(p, 47809)) || !bacnet_probe(p->payload, p->payload_len))
		return false;
	*srv_port = 0;	/* both sides use 47808: the APDU type tells */
	return true;
}

/* ReadProperty / -Multiple / ReadRange: the object (and property) read */
static bool
bacnet_read_target(const struct det_pdu *pdu, uint32_t *key)
{
	const struct bacnet_pdu *b = pdu->u.bacnet;
	uint8_t k[10];

	if (!b->has_apdu || b->apdu_type != BACNET_APDU_CONFIRMED_REQ ||
	    !b->has_service || !b->has_object ||
	    (b->service != BACNET_SVC_READ_PROPERTY &&
	    b->service != BACNET_SVC_READ_PROPERTY_MULTIPLE &&
	    b->service != BACNET_SVC_READ_RANGE))
		return false;
	k[0] = (uint8_t)(b->object_type >> 8);
	k[1] = (uint8_t)b->object_type;
	memcpy(k + 2, &b->object_instance, 4);
	memcpy(k + 6, &b->property_id, 4);
	if (!b->has_property)
		memset(k + 6, 0xff, 4);
	*key = proto_hash(2166136261u, k, sizeof(k));
	return true;
}

const struct proto_desc bacnet_desc = {
	.id = ICS_BACNET,
	.name = "bacnet",
	.transports = PROTO_UDP,
	.ports = { 47808, 47809 },
	.policy_key = "bacnet_writers",
	.pick = bacnet_pick,
	.probe = bacnet_probe,
	.bad_header = "",
	.handle = bacnet_handle,
	.analyse = bacnet_analyse,
	.code_ops = bacnet_code_ops,
	.code_name = bacnet_code_name,
	.addr = &bacnet_addr,
	.read_target = bacnet_read_target,
};
