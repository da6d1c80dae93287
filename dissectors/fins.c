/*
 * fins.c - Omron FINS frames over UDP and FINS/TCP (Omron W342).
 */
#include "dissectors/fins.h"

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

static const struct {
	uint16_t	 cmd;
	const char	*name;
} names[] = {
	{ FINS_MEM_READ, "memory area read" },
	{ FINS_MEM_WRITE, "memory area write" },
	{ FINS_MEM_FILL, "memory area fill" },
	{ FINS_MEM_MULTI_READ, "multiple memory area read" },
	{ FINS_MEM_TRANSFER, "memory area transfer" },
	{ FINS_PARAM_WRITE, "parameter area write" },
	{ FINS_PARAM_CLEAR, "parameter area clear" },
	{ FINS_PROGRAM_READ, "program area read" },
	{ FINS_PROGRAM_WRITE, "program area write" },
	{ FINS_PROGRAM_CLEAR, "program area clear" },
	{ FINS_RUN, "RUN" },
	{ FINS_STOP, "STOP" },
	{ FINS_CONTROLLER_DATA_READ, "controller data read" },
	{ FINS_CONNECTION_DATA_READ, "connection data read" },
	{ FINS_STATUS_READ, "controller status read" },
	{ FINS_CLOCK_READ, "clock read" },
	{ FINS_CLOCK_WRITE, "clock write" },
	{ FINS_ACCESS_RIGHT_ACQUIRE, "access right acquire" },
	{ FINS_ACCESS_RIGHT_FORCED, "access right forced acquire" },
	{ FINS_ERROR_CLEAR, "error clear" },
	{ FINS_FILE_WRITE, "file write" },
	{ FINS_FILE_DELETE, "file delete" },
	{ FINS_FORCED_SET_RESET, "forced set/reset" },
	{ FINS_FORCED_CANCEL, "forced set/reset cancel" },
};

const char *
fins_cmd_name(uint16_t cmd)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd)
			return names[i].name;
	return "other";
}

int
fins_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint32_t l;

	if (len == NULL)
		return IDS_EINVAL;
	/* check the magic as far as we have it */
	if (memcmp(p, "FINS", n < 4 ? n : 4) != 0)
		return IDS_EMALFORMED;
	if (n < 8)
		return IDS_EAGAIN;
	rd_init(&r, p + 4, n - 4);
	l = rd_be32(&r);
	/* the length counts command + error code (8) + any FINS frame */
	if (l < 8 || l > FINS_TCP_MAX)
		return IDS_EMALFORMED;
	*len = (size_t)l + 8;
	return 0;
}

static bool
plausible_icf(uint8_t icf)
{
	/* bit 7 always set; bits 5-1 reserved zero */
	return (icf & 0x80) != 0 && (icf & 0x3e) == 0;
}

bool
fins_probe(const uint8_t *p, size_t n)
{
	struct rd r;
	uint8_t icf, rsv, gct, mrc;

	rd_init(&r, p, n);
	icf = rd_u8(&r);
	rsv = rd_u8(&r);
	gct = rd_u8(&r);
	rd_skip(&r, 7);
	mrc = rd_u8(&r);
	if (r.err)
		return false;
	return plausible_icf(icf) && rsv == 0 && gct <= 7 && mrc >= 0x01 &&
	    mrc <= 0x28;
}

static int
parse_frame(struct rd *r, struct fins_pdu *o)
{
	o->icf = rd_u8(r);
	rd_skip(r, 1);			/* RSV */
	rd_skip(r, 1);			/* GCT */
	o->dna = rd_u8(r);
	o->da1 = rd_u8(r);
	o->da2 = rd_u8(r);
	o->sna = rd_u8(r);
	o->sa1 = rd_u8(r);
	o->sa2 = rd_u8(r);
	o->sid = rd_u8(r);
	o->cmd = rd_be16(r);
	if (r->err)
		return IDS_ETRUNC;
	if (!plausible_icf(o->icf))
		return IDS_EMALFORMED;
	o->has_frame = true;
	o->response = (o->icf & 0x40) != 0;
	if (o->response) {
		o->end_code = rd_be16(r);
		if (r->err)
			return IDS_ETRUNC;
	}
	o->params = rd_ptr(r);
	o->params_len = rd_left(r);
	/* memory area read/write: area(1) address(2) bit(1) count(2) */
	if (!o->response && (o->cmd == FINS_MEM_READ || o->cmd == FINS_MEM_WRITE ||
	    o->cmd == FINS_MEM_FILL)) {
		struct rd a = *r;

		o->area = rd_u8(&a);
		o->address = rd_be16(&a);
		o->bit = rd_u8(&a);
		o->count = rd_be16(&a);
		o->has_area = !a.err;
	}
	return 0;
}

int
fins_parse(const uint8_t *p, size_t n, bool tcp, struct fins_pdu *out)
{
	struct rd r, body;
	uint32_t len;
	size_t flen;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	if (!tcp) {
		out->frame_len = n;
		return parse_frame(&r, out);
	}
	if ((rc = fins_frame_len(p, n, &flen)) != 0)
		return rc == IDS_EAGAIN ? IDS_ETRUNC : rc;
	if (flen > n)
		return IDS_ETRUNC;
	out->tcp = true;
	out->frame_len = flen;
	rd_skip(&r, 4);
	len = rd_be32(&r);
	out->tcp_cmd = rd_be32(&r);
	out->tcp_err = rd_be32(&r);
	if (r.err)
		return IDS_ETRUNC;
	/* command 2 carries a FINS frame; 0/1 exchange node addresses */
	if (out->tcp_cmd != 2 || len == 8)
		return 0;
	if (!rd_sub(&r, (size_t)len - 8, &body))
		return IDS_ETRUNC;
	return parse_frame(&body, out);
}

/* ---- requests: codes are MRC << 8 | SRC; write ranges per memory area -- */

static unsigned
fins_code_ops(uint16_t c)
{
	switch (c) {
	case FINS_MEM_WRITE:
	case FINS_MEM_FILL:
	case FINS_MEM_TRANSFER:
	case FINS_PARAM_WRITE:
	case FINS_PARAM_CLEAR:
	case FINS_FILE_WRITE:
	case FINS_FORCED_SET_RESET:
	case FINS_FORCED_CANCEL:
		return PROTO_OP_WRITE;
	case FINS_FILE_DELETE:
	case FINS_PROGRAM_WRITE:
	case FINS_PROGRAM_CLEAR:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case FINS_RUN:
	case FINS_CLOCK_WRITE:
	case FINS_ACCESS_RIGHT_FORCED:
	case FINS_ERROR_CLEAR:
		return PROTO_OP_COMMAND;
	case FINS_STOP:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case FINS_CONTROLLER_DATA_READ:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
fins_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return fins_cmd_name(c);
}

static void
fins_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct fins_pdu *m = pdu->u.fins;

	if (!m->has_frame || m->response)
		return;
	proto_req_code(r, m->cmd);
	if ((fins_code_ops(m->cmd) & PROTO_OP_WRITE) && m->has_area)
		proto_req_range(r, m->area, m->address, m->count);
}

static void
fins_space_json(uint32_t space, cJSON *o)
{
	cJSON_AddNumberToObject(o, "area", space);
}

static int
fins_space_parse(const cJSON *o, uint32_t *space, char *err, size_t errlen)
{
	double a;

	if (json_get_uint(o, "area", 0, 255, -1, &a, err, errlen) != 0)
		return -1;
	*space = (uint32_t)a;
	return 0;
}

static void
fins_range_text(const struct proto_range *r, char *buf, size_t len)
{
	snprintf(buf, len, "memory area 0x%02x words %u-%u", r->space, r->lo,
	    r->hi);
}

static const struct proto_addr_model fins_addr = {
	fins_space_json, fins_space_parse, fins_range_text
};

/* ---- descriptor ------------------------------------------------------- */

/* FINS/TCP frames carry a header of their own; a UDP datagram is one. */
static void
fins_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct fins_pdu m;
	struct det_pdu pdu = { .proto = ICS_FINS, .u.fins = &m };

	dis_outcome(dc, fins_parse(p, n, dc->flow->transport == 6, &m), &pdu,
	    partial, "malformed FINS frame");
}

/* nDPI 4.2 calls FINS on UDP RTP: port 9600 and the header decide. */
static bool
fins_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	if (!pkt_on_port(p, 9600))
		return false;
	if (!(p->ip_proto == 6 && pkt_frames(p, fins_frame_len)) &&
	    !(p->ip_proto == 17 && fins_probe(p->payload, p->payload_len)))
		return false;
	*srv_port = 9600;
	return true;
}

/* Memory Area Read: the area and word address read */
static bool
fins_read_target(const struct det_pdu *pdu, uint32_t *key)
{
	const struct fins_pdu *m = pdu->u.fins;

	if (!m->has_frame || m->response || m->cmd != FINS_MEM_READ ||
	    !m->has_area)
		return false;
	*key = (uint32_t)m->area << 16 | m->address;
	return true;
}

const struct proto_desc fins_desc = {
	.id = ICS_FINS,
	.name = "omron-fins",
	.transports = PROTO_TCP | PROTO_UDP,
	.ports = { 9600 },
	.policy_key = "fins_writers",
	.pick = fins_pick,
	.probe = fins_probe,
	.frame_len = fins_frame_len,
	.bad_header = "bad FINS/TCP header",
	.handle = fins_handle,
	.analyse = fins_analyse,
	.code_ops = fins_code_ops,
	.code_name = fins_code_name,
	.addr = &fins_addr,
	.read_target = fins_read_target,
};
