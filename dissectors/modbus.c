/*
 * modbus.c - Modbus/TCP ADU parser.
 *
 * Spec: MODBUS Application Protocol Specification V1.1b3 (PDU layouts per
 * function code, section 6) and MODBUS Messaging on TCP/IP Implementation
 * Guide V1.0b (MBAP header, section 3.1.3).
 */
#include "dissectors/modbus.h"

#include <cJSON.h>
#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/json.h"
#include "lib/rd.h"
#include "lib/zero.h"
#include "lib/tok.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

static const struct tok fc_names[] = {
	{ MODBUS_FC_READ_COILS, "Read Coils" },
	{ MODBUS_FC_READ_DISCRETE_INPUTS, "Read Discrete Inputs" },
	{ MODBUS_FC_READ_HOLDING_REGISTERS, "Read Holding Registers" },
	{ MODBUS_FC_READ_INPUT_REGISTERS, "Read Input Registers" },
	{ MODBUS_FC_WRITE_SINGLE_COIL, "Write Single Coil" },
	{ MODBUS_FC_WRITE_SINGLE_REGISTER, "Write Single Register" },
	{ MODBUS_FC_READ_EXCEPTION_STATUS, "Read Exception Status" },
	{ MODBUS_FC_DIAGNOSTICS, "Diagnostics" },
	{ MODBUS_FC_GET_COMM_EVENT_COUNTER, "Get Comm Event Counter" },
	{ MODBUS_FC_GET_COMM_EVENT_LOG, "Get Comm Event Log" },
	{ MODBUS_FC_WRITE_MULTIPLE_COILS, "Write Multiple Coils" },
	{ MODBUS_FC_WRITE_MULTIPLE_REGISTERS, "Write Multiple Registers" },
	{ MODBUS_FC_REPORT_SERVER_ID, "Report Server ID" },
	{ MODBUS_FC_READ_FILE_RECORD, "Read File Record" },
	{ MODBUS_FC_WRITE_FILE_RECORD, "Write File Record" },
	{ MODBUS_FC_MASK_WRITE_REGISTER, "Mask Write Register" },
	{ MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS,
	    "Read/Write Multiple Registers" },
	{ MODBUS_FC_READ_FIFO_QUEUE, "Read FIFO Queue" },
	{ MODBUS_FC_ENCAPSULATED_INTERFACE, "Encapsulated Interface Transport" },
	{ MODBUS_FC_UMAS, "UMAS" },
};

static const struct tok umas_names[] = {
	{ MODBUS_UMAS_INIT_COMM, "Init Comm" },
	{ MODBUS_UMAS_READ_ID, "Read ID" },
	{ MODBUS_UMAS_READ_PROJECT_INFO, "Read Project Info" },
	{ MODBUS_UMAS_READ_PLC_INFO, "Read PLC Info" },
	{ 0x06, "Read Card Info" },
	{ 0x0A, "Repeat" },
	{ MODBUS_UMAS_TAKE_RESERVATION, "Take PLC Reservation" },
	{ MODBUS_UMAS_RELEASE_RESERVATION, "Release PLC Reservation" },
	{ MODBUS_UMAS_KEEP_ALIVE, "Keep Alive" },
	{ MODBUS_UMAS_READ_MEMORY_BLOCK, "Read Memory Block" },
	{ MODBUS_UMAS_READ_VARIABLES, "Read Variables" },
	{ MODBUS_UMAS_WRITE_VARIABLES, "Write Variables" },
	{ 0x24, "Read Coils Registers" },
	{ 0x25, "Write Coils Registers" },
	{ MODBUS_UMAS_INIT_UPLOAD, "Initialize Upload (to the PLC)" },
	{ MODBUS_UMAS_UPLOAD_BLOCK, "Upload Block (to the PLC)" },
	{ MODBUS_UMAS_END_UPLOAD, "End Upload (to the PLC)" },
	{ MODBUS_UMAS_INIT_DOWNLOAD, "Initialize Download (from the PLC)" },
	{ MODBUS_UMAS_DOWNLOAD_BLOCK, "Download Block (from the PLC)" },
	{ MODBUS_UMAS_END_DOWNLOAD, "End Download (from the PLC)" },
	{ 0x39, "Read Ethernet Master Data" },
	{ MODBUS_UMAS_START_PLC, "Start PLC" },
	{ MODBUS_UMAS_STOP_PLC, "Stop PLC" },
	{ 0x50, "Monitor PLC" },
	{ 0x58, "Check PLC" },
	{ 0x70, "Read IO Object" },
	{ 0x71, "Write IO Object" },
	{ 0x73, "Get Status Module" },
	{ MODBUS_UMAS_RESPONSE_ERROR, "Response Error" },
	{ MODBUS_UMAS_RESPONSE_OK, "Response OK" },
};

const char *
modbus_fc_name(uint8_t fc)
{
	return tok_name(fc_names, sizeof fc_names / sizeof fc_names[0],
	    fc & 0x7Fu, "Unknown");
}

const char *
modbus_umas_name(uint8_t func)
{
	return tok_name(umas_names, sizeof umas_names / sizeof umas_names[0],
	    func, "Unknown");
}

bool
modbus_fc_is_write(uint8_t fc)
{
	switch (fc & 0x7F) {
	case MODBUS_FC_WRITE_SINGLE_COIL:
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
	case MODBUS_FC_WRITE_MULTIPLE_COILS:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
	case MODBUS_FC_WRITE_FILE_RECORD:
	case MODBUS_FC_MASK_WRITE_REGISTER:
	case MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS:
		return true;
	default:
		return false;
	}
}

/* A non-zero protocol id byte, even in a short buffer, is not MBAP. */
static bool
bad_proto_id(const uint8_t *p, size_t n)
{
	struct rd r;

	rd_init(&r, p, n);
	return rd_peek(&r, 2) != 0 || rd_peek(&r, 3) != 0;
}

int
modbus_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint16_t proto, length;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	if (bad_proto_id(p, n))
		return IDS_EMALFORMED;
	rd_init(&r, p, n);
	(void)rd_be16(&r);			/* transaction id */
	proto = rd_be16(&r);
	length = rd_be16(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (proto != 0 || length < MODBUS_MBAP_LEN_MIN ||
	    length > MODBUS_MBAP_LEN_LIMIT)
		return IDS_EMALFORMED;
	*len = 6 + (size_t)length;
	return 0;
}

/*
 * Byte-counted value block: "byte count (1) + byte count bytes".
 * A count larger than what the PDU holds is malformed.
 */
static int
read_values(struct rd *r, struct modbus_pdu *out)
{
	out->byte_count = rd_u8(r);
	if (r->err || out->byte_count > rd_left(r))
		return IDS_EMALFORMED;
	out->has_values = true;
	out->values = rd_ptr(r);
	out->values_len = out->byte_count;
	rd_skip(r, out->byte_count);
	return 0;
}

/*
 * Read Device Identification response (MEI 0x0E), spec 6.21:
 *
 *   MEI | read code | conformity | more follows | next obj id | count |
 *   { object id | object length | object value } * count
 */
static void
read_devid_objects(struct rd *r, struct modbus_devid *d)
{
	uint8_t i, id, len;

	for (i = 0; i < d->count; i++) {
		id = rd_u8(r);
		len = rd_u8(r);
		if (r->err || len > rd_left(r)) {
			d->objects_truncated = true;
			return;
		}
		if (d->nobjects < MODBUS_DEVID_MAX_OBJECTS) {
			d->objects[d->nobjects].id = id;
			d->objects[d->nobjects].len = len;
			d->objects[d->nobjects].value = rd_ptr(r);
			d->nobjects++;
		} else
			d->objects_truncated = true;
		rd_skip(r, len);
	}
}

static int
parse_mei(struct rd *r, enum modbus_dir dir, struct modbus_pdu *out)
{
	struct modbus_devid *d = &out->devid;

	out->mei_type = rd_u8(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_mei = true;
	if (out->mei_type != MODBUS_MEI_READ_DEVICE_ID)
		return 0;		/* CANopen etc.: bytes left in data */
	d->read_code = rd_u8(r);
	if (dir == MODBUS_REQUEST) {
		d->object_id = rd_u8(r);
		if (r->err)
			return IDS_EMALFORMED;
		out->has_devid = true;
		return 0;
	}
	d->conformity = rd_u8(r);
	d->more_follows = rd_u8(r) == 0xFF;
	d->next_object_id = rd_u8(r);
	d->count = rd_u8(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_devid = true;
	read_devid_objects(r, d);
	return 0;
}

static void
set_range(struct modbus_pdu *out, uint16_t addr, uint16_t qty)
{
	out->has_range = true;
	out->address = addr;
	out->quantity = qty;
}

/* Start address and quantity: reads, multiple writes (request and echo). */
static int
parse_range(struct rd *r, struct modbus_pdu *out)
{
	uint16_t a = rd_be16(r), q = rd_be16(r);

	if (r->err)
		return IDS_EMALFORMED;
	set_range(out, a, q);
	return 0;
}

/* fc 5/6: address and value; the response echoes the request. */
static int
parse_single_write(struct rd *r, struct modbus_pdu *out)
{
	uint16_t a = rd_be16(r);

	out->value = rd_be16(r);
	if (r->err)
		return IDS_EMALFORMED;
	set_range(out, a, 1);
	out->has_value = true;
	return 0;
}

/* fc 8: sub-function and its data; the response echoes the request. */
static int
parse_diag(struct rd *r, struct modbus_pdu *out)
{
	out->diag_sub = rd_be16(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_diag = true;
	out->diag_data = rd_ptr(r);
	out->diag_len = rd_left(r);
	return 0;
}

static int
parse_request(struct rd *r, struct modbus_pdu *out)
{
	uint16_t a, q;

	switch (out->fc) {
	case MODBUS_FC_READ_COILS:
	case MODBUS_FC_READ_DISCRETE_INPUTS:
	case MODBUS_FC_READ_HOLDING_REGISTERS:
	case MODBUS_FC_READ_INPUT_REGISTERS:
		return parse_range(r, out);
	case MODBUS_FC_WRITE_SINGLE_COIL:
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
		return parse_single_write(r, out);
	case MODBUS_FC_DIAGNOSTICS:
		return parse_diag(r, out);
	case MODBUS_FC_WRITE_MULTIPLE_COILS:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
		if (parse_range(r, out) != 0)
			return IDS_EMALFORMED;
		return read_values(r, out);
	case MODBUS_FC_READ_FILE_RECORD:
	case MODBUS_FC_WRITE_FILE_RECORD:
		return read_values(r, out);
	case MODBUS_FC_MASK_WRITE_REGISTER:
		a = rd_be16(r);
		out->and_mask = rd_be16(r);
		out->or_mask = rd_be16(r);
		if (r->err)
			return IDS_EMALFORMED;
		set_range(out, a, 1);
		out->has_masks = true;
		return 0;
	case MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS:
		a = rd_be16(r);
		q = rd_be16(r);
		out->write_address = rd_be16(r);
		out->write_quantity = rd_be16(r);
		if (r->err)
			return IDS_EMALFORMED;
		set_range(out, a, q);
		out->has_write_range = true;
		return read_values(r, out);
	case MODBUS_FC_READ_FIFO_QUEUE:
		a = rd_be16(r);
		if (r->err)
			return IDS_EMALFORMED;
		set_range(out, a, 0);
		return 0;
	case MODBUS_FC_ENCAPSULATED_INTERFACE:
		return parse_mei(r, MODBUS_REQUEST, out);
	case MODBUS_FC_UMAS:
		out->umas_session = rd_u8(r);
		out->umas_func = rd_u8(r);
		if (r->err)
			return IDS_EMALFORMED;
		out->has_umas = true;
		return 0;
	default:
		/* 7, 11, 12, 17 carry no data; unknown codes stay in data. */
		return 0;
	}
}

static int
parse_response(struct rd *r, struct modbus_pdu *out)
{
	uint16_t a;

	switch (out->fc) {
	case MODBUS_FC_READ_COILS:
	case MODBUS_FC_READ_DISCRETE_INPUTS:
	case MODBUS_FC_READ_HOLDING_REGISTERS:
	case MODBUS_FC_READ_INPUT_REGISTERS:
	case MODBUS_FC_GET_COMM_EVENT_LOG:
	case MODBUS_FC_REPORT_SERVER_ID:
	case MODBUS_FC_READ_FILE_RECORD:
	case MODBUS_FC_WRITE_FILE_RECORD:
	case MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS:
		return read_values(r, out);
	case MODBUS_FC_WRITE_SINGLE_COIL:
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
		return parse_single_write(r, out);
	case MODBUS_FC_READ_EXCEPTION_STATUS:
		out->value = rd_u8(r);
		if (r->err)
			return IDS_EMALFORMED;
		out->has_value = true;
		return 0;
	case MODBUS_FC_DIAGNOSTICS:
		return parse_diag(r, out);
	case MODBUS_FC_WRITE_MULTIPLE_COILS:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
		return parse_range(r, out);
	case MODBUS_FC_MASK_WRITE_REGISTER:
		a = rd_be16(r);
		out->and_mask = rd_be16(r);
		out->or_mask = rd_be16(r);
		if (r->err)
			return IDS_EMALFORMED;
		set_range(out, a, 1);
		out->has_masks = true;
		return 0;
	case MODBUS_FC_ENCAPSULATED_INTERFACE:
		return parse_mei(r, MODBUS_RESPONSE, out);
	case MODBUS_FC_UMAS:
		out->umas_session = rd_u8(r);
		out->umas_func = rd_u8(r);
		if (r->err)
			return IDS_EMALFORMED;
		out->has_umas = true;
		return 0;
	default:
		/* 11 (status + count), 24 (2-byte counts): left in data. */
		return 0;
	}
}

int
modbus_parse(const uint8_t *p, size_t n, enum modbus_dir dir,
    struct modbus_pdu *out)
{
	struct rd r, pdu;
	uint8_t fc;

	if (out == NULL)
		return IDS_EINVAL;
	zero_fixed(out, sizeof *out);
	out->dir = dir;

	rd_init(&r, p, n);
	out->tid = rd_be16(&r);
	out->proto_id = rd_be16(&r);
	out->length = rd_be16(&r);
	if (r.err)
		return bad_proto_id(p, n) ? IDS_EMALFORMED : IDS_ETRUNC;
	if (out->proto_id != 0 || out->length < MODBUS_MBAP_LEN_MIN ||
	    out->length > MODBUS_MBAP_LEN_LIMIT)
		return IDS_EMALFORMED;
	out->oversize = out->length > MODBUS_MBAP_LEN_MAX;
	/* The length field covers the unit id and the whole PDU. */
	if (!rd_sub(&r, out->length, &pdu))
		return IDS_ETRUNC;
	out->adu_len = 6 + (size_t)out->length;

	out->unit = rd_u8(&pdu);
	fc = rd_u8(&pdu);
	out->fc = fc & 0x7F;
	out->exception = (fc & MODBUS_EXCEPTION_BIT) != 0;
	out->data = rd_ptr(&pdu);
	out->data_len = rd_left(&pdu);
	if (out->exception) {
		/* Function codes 128-255 are reserved for exceptions. */
		if (dir == MODBUS_REQUEST)
			return IDS_EMALFORMED;
		out->exception_code = rd_u8(&pdu);
		return pdu.err ? IDS_EMALFORMED : 0;
	}
	if (out->fc == 0)
		return IDS_EMALFORMED;
	if (dir == MODBUS_REQUEST)
		return parse_request(&pdu, out);
	return parse_response(&pdu, out);
}

/* ---- requests: codes (fc; UMAS 0x100 | function), write ranges -------- */

static unsigned
modbus_code_ops(uint16_t c)
{
	if (c < 0x100)
		return modbus_fc_is_write((uint8_t)c) ? PROTO_OP_WRITE :
		    c == MODBUS_FC_ENCAPSULATED_INTERFACE ||
		    c == MODBUS_FC_REPORT_SERVER_ID ? PROTO_OP_DISCOVERY :
		    /* sub-functions restart communications, force listen-only */
		    c == 0x08 ? PROTO_OP_COMMAND : 0;
	switch (c & 0xff) {
	case MODBUS_UMAS_WRITE_VARIABLES:
		return PROTO_OP_WRITE;
	case MODBUS_UMAS_INIT_DOWNLOAD:
	case MODBUS_UMAS_DOWNLOAD_BLOCK:
	case MODBUS_UMAS_END_DOWNLOAD:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case MODBUS_UMAS_START_PLC:
		return PROTO_OP_COMMAND;
	case MODBUS_UMAS_STOP_PLC:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	}
	return 0;
}

static const char *
modbus_code_name(uint16_t c, char *buf, size_t len)
{
	if (c < 0x100)
		return modbus_fc_name((uint8_t)c);
	snprintf(buf, len, "UMAS %s", modbus_umas_name((uint8_t)c));
	return buf;
}

/* Write ranges live in unit << 8 | table (0 coils, 1 holding registers). */
static void
modbus_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct modbus_pdu *m = pdu->u.modbus;
	uint32_t space;

	if (m->fc == MODBUS_FC_UMAS && m->has_umas) {
		proto_req_code(r, 0x100 | m->umas_func);
		return;
	}
	proto_req_code(r, m->fc);
	if (!modbus_fc_is_write(m->fc))
		return;
	space = (uint32_t)m->unit << 8 |
	    (m->fc == MODBUS_FC_WRITE_SINGLE_COIL ||
	    m->fc == MODBUS_FC_WRITE_MULTIPLE_COILS ? 0 : 1);
	if (m->has_write_range)
		proto_req_range(r, space, m->write_address, m->write_quantity);
	else if (m->has_range)
		proto_req_range(r, space, m->address, m->quantity);
}

static void
modbus_space_json(uint32_t space, cJSON *o)
{
	cJSON_AddNumberToObject(o, "unit", space >> 8);
	cJSON_AddStringToObject(o, "table", (space & 0xff) == 0 ? "coils" :
	    "holding_registers");
}

static int
modbus_space_parse(const cJSON *o, uint32_t *space, char *err, size_t errlen)
{
	const cJSON *v;
	double a;

	if (json_get_uint(o, "unit", 0, 255, -1, &a, err, errlen) != 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(o, "table");
	if (!cJSON_IsString(v) || (strcmp(v->valuestring, "coils") != 0 &&
	    strcmp(v->valuestring, "holding_registers") != 0)) {
		snprintf(err, errlen, "%s",
		    "\"table\": expected \"coils\" or \"holding_registers\"");
		return -1;
	}
	*space = (uint32_t)a << 8 | (strcmp(v->valuestring, "coils") == 0 ? 0 : 1);
	return 0;
}

static void
modbus_range_text(const struct proto_range *r, char *buf, size_t len)
{
	snprintf(buf, len, "unit %u %s %u-%u", r->space >> 8,
	    (r->space & 0xff) == 0 ? "coils" : "holding registers", r->lo, r->hi);
}

static const struct proto_addr_model modbus_addr = {
	modbus_space_json, modbus_space_parse, modbus_range_text
};

/* ---- descriptor ------------------------------------------------------- */

static void
modbus_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct modbus_pdu m;
	struct det_pdu pdu = { .proto = ICS_MODBUS, .u.modbus = &m };

	dis_outcome(dc, modbus_parse(p, n, dc->from_client ? MODBUS_REQUEST :
	    MODBUS_RESPONSE, &m), &pdu, partial, "malformed Modbus PDU");
}

static bool
modbus_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	if (p->ip_proto != 6 || !(pkt_on_port(p, 502) ||
	    f->ndpi_app == NDPI_PROTOCOL_MODBUS ||
	    f->ndpi_master == NDPI_PROTOCOL_MODBUS) ||
	    !pkt_frames(p, modbus_frame_len))
		return false;
	*srv_port = pkt_on_port(p, 502) ? 502 : 0;
	return true;
}

const struct proto_desc modbus_desc = {
	.id = ICS_MODBUS,
	.name = "modbus",
	.transports = PROTO_TCP,
	.ports = { 502 },
	.policy_key = "modbus_writers",
	.pick = modbus_pick,
	.frame_len = modbus_frame_len,
	.bad_header = "bad MBAP header (protocol id or length)",
	.handle = modbus_handle,
	.analyse = modbus_analyse,
	.code_ops = modbus_code_ops,
	.code_name = modbus_code_name,
	.addr = &modbus_addr,
};
