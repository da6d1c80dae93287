/*
 * s7comm.c - TPKT/COTP/S7comm/S7comm-plus parser.
 *
 * Specs: RFC 1006 section 6 (TPKT), ISO 8073 section 13 (COTP TPDU
 * structure), ISO 8327-1 (SPDU codes).  S7comm layouts: Wireshark
 * epan/dissectors/packet-s7comm.c; S7comm-plus: packet-s7comm_plus.c.
 */
#include "dissectors/s7comm.h"

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

static const struct tok func_names[] = {
	{ S7_FUNC_CPU_SERVICES, "CPU services" },
	{ S7_FUNC_READ_VAR, "Read Var" },
	{ S7_FUNC_WRITE_VAR, "Write Var" },
	{ S7_FUNC_REQUEST_DOWNLOAD, "Request download" },
	{ S7_FUNC_DOWNLOAD_BLOCK, "Download block" },
	{ S7_FUNC_DOWNLOAD_ENDED, "Download ended" },
	{ S7_FUNC_START_UPLOAD, "Start upload" },
	{ S7_FUNC_UPLOAD, "Upload" },
	{ S7_FUNC_END_UPLOAD, "End upload" },
	{ S7_FUNC_PLC_CONTROL, "PLC Control" },
	{ S7_FUNC_PLC_STOP, "PLC Stop" },
	{ S7_FUNC_SETUP_COMM, "Setup communication" },
};

static const struct tok rosctr_names[] = {
	{ S7_ROSCTR_JOB, "Job" },
	{ S7_ROSCTR_ACK, "Ack" },
	{ S7_ROSCTR_ACK_DATA, "Ack_Data" },
	{ S7_ROSCTR_USERDATA, "Userdata" },
};

static const struct tok cotp_names[] = {
	{ S7_COTP_ED, "ED" }, { S7_COTP_EA, "EA" }, { S7_COTP_RJ, "RJ" },
	{ S7_COTP_AK, "AK" }, { S7_COTP_ER, "ER" }, { S7_COTP_DR, "DR" },
	{ S7_COTP_DC, "DC" }, { S7_COTP_CC, "CC" }, { S7_COTP_CR, "CR" },
	{ S7_COTP_DT, "DT" },
};

static const struct tok plus_names[] = {
	{ 0x04B1, "Error" },
	{ 0x04BB, "Explore" },
	{ 0x04CA, "CreateObject" },
	{ 0x04D4, "DeleteObject" },
	{ 0x04F2, "SetVariable" },
	{ 0x04FC, "GetVariable" },
	{ 0x0506, "AddLink" },
	{ 0x051A, "RemoveLink" },
	{ 0x0524, "GetLink" },
	{ 0x0542, "SetMultiVariables" },
	{ 0x054C, "GetMultiVariables" },
	{ 0x0556, "BeginSequence" },
	{ 0x0560, "EndSequence" },
	{ 0x056B, "Invoke" },
	{ 0x057C, "SetVarSubStreamed" },
	{ 0x0586, "GetVarSubStreamed" },
	{ 0x0590, "GetVariablesAddress" },
	{ 0x059A, "Abort" },
	{ 0x05A9, "Error2" },
	{ 0x05B3, "InitSsl" },
};

static const struct tok spdu_names[] = {
	{ S7_SPDU_GIVE_TOKENS, "GIVE TOKENS/DATA TRANSFER" },
	{ 0x07, "PREPARE" },
	{ 0x08, "NOT FINISHED" },
	{ S7_SPDU_FINISH, "FINISH" },
	{ S7_SPDU_DISCONNECT, "DISCONNECT" },
	{ S7_SPDU_REFUSE, "REFUSE" },
	{ S7_SPDU_CONNECT, "CONNECT" },
	{ S7_SPDU_ACCEPT, "ACCEPT" },
	{ S7_SPDU_ABORT, "ABORT" },
	{ 0x1A, "ABORT ACCEPT" },
};

const char *
s7_func_name(uint8_t func)
{
	return tok_name(func_names, NTOK(func_names), func, "Unknown");
}

const char *
s7_rosctr_name(uint8_t rosctr)
{
	return tok_name(rosctr_names, NTOK(rosctr_names), rosctr, "Unknown");
}

const char *
s7_cotp_type_name(uint8_t type)
{
	return tok_name(cotp_names, NTOK(cotp_names), type & 0xF0u, "Unknown");
}

const char *
s7_plus_func_name(uint16_t func)
{
	return tok_name(plus_names, NTOK(plus_names), func, "Unknown");
}

const char *
s7_iso_spdu_name(uint8_t spdu)
{
	return tok_name(spdu_names, NTOK(spdu_names), spdu, "Unknown");
}

int
s7_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint16_t tlen;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	rd_init(&r, p, n);
	/* Version 3 and a zero reserved byte are all TPKT has for magic. */
	if ((rd_left(&r) >= 1 && rd_peek(&r, 0) != S7_TPKT_VERSION) ||
	    (rd_left(&r) >= 2 && rd_peek(&r, 1) != 0))
		return IDS_EMALFORMED;
	rd_skip(&r, 2);
	tlen = rd_be16(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (tlen < S7_TPKT_LEN_MIN)
		return IDS_EMALFORMED;
	*len = tlen;
	return 0;
}

/* CR/CC variable part: { code | length | value } parameters. */
static int
parse_cotp_params(struct rd *h, struct s7_cotp *c)
{
	struct rd v;
	uint8_t code, len;

	while (rd_left(h) > 0) {
		code = rd_u8(h);
		len = rd_u8(h);
		if (h->err || !rd_sub(h, len, &v))
			return IDS_EMALFORMED;
		switch (code) {
		case 0xC0:			/* TPDU size (2^n) */
			c->tpdu_size = rd_u8(&v);
			break;
		case 0xC1:			/* calling (source) TSAP */
			c->src_tsap = rd_ptr(&v);
			c->src_tsap_len = len;
			c->src_tsap16 = rd_be16(&v);
			break;
		case 0xC2:			/* called (destination) TSAP */
			c->dst_tsap = rd_ptr(&v);
			c->dst_tsap_len = len;
			c->dst_tsap16 = rd_be16(&v);
			break;
		default:
			break;
		}
	}
	return 0;
}

/*
 * Block file name of up/download jobs, e.g. "_0A00001P":
 * '_' | block type (2 hex digits) | block number (5 digits) | file system.
 */
static void
decode_block_name(struct s7_comm *s)
{
	struct rd r;
	unsigned i, c, type = 0;
	uint32_t num = 0;

	if (s->block_name_len < 8)
		return;
	rd_init(&r, s->block_name, s->block_name_len);
	if (rd_u8(&r) != '_')
		return;
	for (i = 0; i < 2; i++) {
		c = rd_u8(&r);
		if (c >= '0' && c <= '9')
			type = type << 4 | (c - '0');
		else if (c >= 'A' && c <= 'F')
			type = type << 4 | (c - 'A' + 10);
		else
			return;
	}
	for (i = 0; i < 5; i++) {
		c = rd_u8(&r);
		if (c < '0' || c > '9')
			return;
		num = num * 10 + (c - '0');
	}
	s->has_block = true;
	s->block_type = (uint8_t)type;
	s->block_number = num;
}

/* Read/Write Var job items: { 0x12 | len | syntax id | ... } */
static int
parse_items(struct rd *par, struct s7_comm *s)
{
	struct rd it;
	struct s7_item *item;
	uint8_t i, spec, len;

	s->item_count = rd_u8(par);
	if (par->err)
		return IDS_EMALFORMED;
	for (i = 0; i < s->item_count; i++) {
		spec = rd_u8(par);
		len = rd_u8(par);
		if (par->err || !rd_sub(par, len, &it))
			return IDS_EMALFORMED;
		if (s->nitems == S7_MAX_ITEMS)
			continue;
		item = &s->items[s->nitems++];
		item->spec_type = spec;
		item->syntax_id = rd_u8(&it);
		if (item->syntax_id == 0x10 && len >= 10) {
			item->transport_size = rd_u8(&it);
			item->length = rd_be16(&it);
			item->db = rd_be16(&it);
			item->area = rd_u8(&it);
			item->address = rd_be24(&it);
			item->any = !it.err;
		}
	}
	return 0;
}

/* Job / ack-data parameter block: function code and its arguments. */
static int
parse_params(struct rd *par, struct s7_comm *s)
{
	struct rd name;
	uint8_t len;

	s->func = rd_u8(par);
	if (par->err)
		return 0;
	s->has_func = true;
	switch (s->func) {
	case S7_FUNC_SETUP_COMM:
		rd_skip(par, 1);		/* reserved */
		s->max_amq_calling = rd_be16(par);
		s->max_amq_called = rd_be16(par);
		s->pdu_size = rd_be16(par);
		return par->err ? IDS_EMALFORMED : 0;
	case S7_FUNC_READ_VAR:
	case S7_FUNC_WRITE_VAR:
		if (s->rosctr != S7_ROSCTR_JOB) {
			s->item_count = rd_u8(par);
			return par->err ? IDS_EMALFORMED : 0;
		}
		return parse_items(par, s);
	case S7_FUNC_PLC_STOP:
		if (s->rosctr != S7_ROSCTR_JOB)
			return 0;
		rd_skip(par, 5);		/* unknown */
		len = rd_u8(par);
		if (par->err || !rd_sub(par, len, &name))
			return IDS_EMALFORMED;
		s->pi_service = rd_ptr(&name);
		s->pi_service_len = len;
		return 0;
	case S7_FUNC_PLC_CONTROL:
		if (s->rosctr != S7_ROSCTR_JOB)
			return 0;
		rd_skip(par, 7);		/* unknown, 0xFD last */
		s->pi_param_len = rd_be16(par);
		if (par->err || s->pi_param_len > rd_left(par))
			return IDS_EMALFORMED;
		s->pi_param = rd_ptr(par);
		rd_skip(par, s->pi_param_len);
		len = rd_u8(par);
		if (par->err || !rd_sub(par, len, &name))
			return IDS_EMALFORMED;
		s->pi_service = rd_ptr(&name);
		s->pi_service_len = len;
		return 0;
	case S7_FUNC_REQUEST_DOWNLOAD:
	case S7_FUNC_DOWNLOAD_BLOCK:
	case S7_FUNC_DOWNLOAD_ENDED:
	case S7_FUNC_START_UPLOAD:
		if (s->rosctr != S7_ROSCTR_JOB)
			return 0;
		/*
		 * function status, 2 unknown, 4-byte up/download id, then the
		 * block name.  A short parameter block (no or a cut name) is
		 * still that job: the PLC acts on the function code, so the
		 * PDU is reported without a block name, not as malformed.
		 */
		rd_skip(par, 7);
		len = rd_u8(par);
		if (par->err || !rd_sub(par, len, &name))
			return 0;
		s->block_name = rd_ptr(&name);
		s->block_name_len = len;
		decode_block_name(s);
		return 0;
	default:
		return 0;
	}
}

/* ROSCTR 7: userdata parameter head, data header, SZL id/index. */
static int
parse_userdata(struct rd *par, struct rd *dat, struct s7_comm *s)
{
	uint8_t plen, tg, last;
	uint16_t dlen;

	rd_skip(par, 3);			/* parameter head 00 01 12 */
	plen = rd_u8(par);
	s->ud_method = rd_u8(par);
	tg = rd_u8(par);
	s->ud_subfunc = rd_u8(par);
	s->ud_seq = rd_u8(par);
	if (par->err)
		return IDS_EMALFORMED;
	s->ud_type = tg >> 4;
	s->ud_group = tg & 0x0F;
	s->has_ud = true;
	if (plen >= 8) {
		s->ud_data_unit_ref = rd_u8(par);
		last = rd_u8(par);
		s->ud_error = rd_be16(par);
		if (par->err)
			return IDS_EMALFORMED;
		s->ud_last_unit = last == 0;
		s->ud_fragmented = s->ud_data_unit_ref != 0;
	}

	s->ud_return_code = rd_u8(dat);
	s->ud_transport_size = rd_u8(dat);
	dlen = rd_be16(dat);
	if (dat->err)
		return 0;			/* no data part */
	if (dlen > rd_left(dat))
		return IDS_EMALFORMED;
	s->ud_data = rd_ptr(dat);
	s->ud_data_len = dlen;

	if (s->ud_group != S7_UD_GROUP_CPU ||
	    s->ud_subfunc != S7_UD_CPU_READ_SZL ||
	    s->ud_return_code != 0xFF || s->ud_fragmented)
		return 0;
	s->szl_id = rd_be16(dat);
	s->szl_index = rd_be16(dat);
	if (dat->err || dlen < 4)
		return 0;
	s->has_szl = true;
	if (s->ud_type != S7_UD_TYPE_RESPONSE)
		return 0;
	/* Response: record length, record count, then the records. */
	s->szl_rec_len = rd_be16(dat);
	s->szl_rec_count = rd_be16(dat);
	if (dat->err || dlen < 8)
		return 0;
	s->has_szl_list = true;
	s->szl_records = rd_ptr(dat);
	s->szl_records_len = dlen - 8u;
	return 0;
}

static int
parse_s7comm(struct rd *u, bool eot, struct s7_comm *s)
{
	struct rd par, dat;

	rd_skip(u, 1);				/* 0x32 */
	s->rosctr = rd_u8(u);
	s->redundancy = rd_be16(u);
	s->pdu_ref = rd_be16(u);
	s->param_len = rd_be16(u);
	s->data_len = rd_be16(u);
	if (s->rosctr == S7_ROSCTR_ACK || s->rosctr == S7_ROSCTR_ACK_DATA) {
		s->error_class = rd_u8(u);
		s->error_code = rd_u8(u);
		s->has_error = true;
	}
	if (!eot) {
		/* First of several DT TPDUs: the rest arrives later. */
		s->fragment = true;
		return 0;
	}
	if (u->err)
		return IDS_EMALFORMED;
	if (s->rosctr != S7_ROSCTR_JOB && s->rosctr != S7_ROSCTR_ACK &&
	    s->rosctr != S7_ROSCTR_ACK_DATA && s->rosctr != S7_ROSCTR_USERDATA)
		return IDS_EMALFORMED;
	/* Both lengths must fit in what the TPKT carried. */
	if ((size_t)s->param_len + s->data_len > rd_left(u))
		return IDS_EMALFORMED;
	rd_sub(u, s->param_len, &par);
	rd_sub(u, s->data_len, &dat);
	s->param = s->param_len ? rd_ptr(&par) : NULL;
	s->data = s->data_len ? rd_ptr(&dat) : NULL;
	if (s->rosctr == S7_ROSCTR_USERDATA)
		return parse_userdata(&par, &dat, s);
	return parse_params(&par, s);
}

static void
parse_plus(struct rd *u, struct s7_plus *sp)
{
	uint8_t dlen;

	rd_skip(u, 1);				/* 0x72 */
	sp->version = rd_u8(u);
	sp->data_len = rd_be16(u);
	if (u->err)
		return;
	if (sp->version == 3) {
		/* V3 puts an integrity digest before the opcode. */
		dlen = rd_u8(u);
		if (!rd_skip(u, dlen))
			return;
		sp->has_digest = true;
	}
	sp->opcode = rd_u8(u);
	if (u->err)
		return;
	sp->has_opcode = true;
	if (sp->opcode != 0x31 && sp->opcode != 0x32)
		return;
	rd_skip(u, 2);				/* reserved */
	sp->function = rd_be16(u);
	rd_skip(u, 2);				/* reserved */
	sp->seq = rd_be16(u);
	sp->has_function = !u->err;
}

int
s7_parse(const uint8_t *p, size_t n, struct s7_pdu *out)
{
	struct rd r, h;
	struct s7_cotp *c;
	uint8_t nr;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof *out);
	c = &out->cotp;
	rc = s7_frame_len(p, n, &out->frame_len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (out->frame_len > n)
		return IDS_ETRUNC;

	rd_init(&r, p, out->frame_len);
	c->tpkt_version = rd_u8(&r);
	rd_skip(&r, 1);
	c->tpkt_len = rd_be16(&r);

	/* COTP: LI counts the header bytes after itself. */
	c->li = rd_u8(&r);
	if (c->li < 2 || c->li == 255 || !rd_sub(&r, c->li, &h))
		return IDS_EMALFORMED;
	c->type_raw = rd_u8(&h);
	c->type = c->type_raw & 0xF0;
	switch (c->type) {
	case S7_COTP_DT:
		nr = rd_u8(&h);
		c->eot = (nr & 0x80) != 0;
		c->tpdu_nr = nr & 0x7F;
		break;
	case S7_COTP_CR:
	case S7_COTP_CC:
		c->dst_ref = rd_be16(&h);
		c->src_ref = rd_be16(&h);
		c->class_opt = rd_u8(&h);
		if (h.err)
			return IDS_EMALFORMED;
		if (parse_cotp_params(&h, c) != 0)
			return IDS_EMALFORMED;
		return 0;
	case S7_COTP_DR:
	case S7_COTP_DC:
		c->dst_ref = rd_be16(&h);
		c->src_ref = rd_be16(&h);
		if (c->type == S7_COTP_DR)
			c->class_opt = rd_u8(&h);	/* reason */
		return h.err ? IDS_EMALFORMED : 0;
	default:
		return 0;
	}

	out->user = rd_ptr(&r);
	out->user_len = rd_left(&r);
	if (out->user_len == 0)
		return 0;
	out->proto_id = rd_peek(&r, 0);
	switch (out->proto_id) {
	case S7_PROTO_S7COMM:
		out->payload = S7_PAYLOAD_S7COMM;
		return parse_s7comm(&r, c->eot, &out->s7);
	case S7_PROTO_S7PLUS:
		out->payload = S7_PAYLOAD_S7PLUS;
		parse_plus(&r, &out->plus);
		return 0;
	default:
		out->payload = S7_PAYLOAD_OTHER;
		return 0;
	}
}

/* ---- SZL identification records --------------------------------------- */

void
s7_szl_iter_init(struct s7_szl_iter *it, uint16_t szl_id, uint16_t rec_len,
    uint16_t count, const uint8_t *recs, size_t len)
{
	rd_init(&it->r, recs, len);
	it->szl_id = szl_id;
	it->rec_len = rec_len;
	it->left = count;
}

int
s7_szl_iter_data(struct s7_szl_iter *it, const uint8_t *p, size_t n)
{
	struct rd r;
	uint16_t szl, rl, cnt;

	rd_init(&r, p, n);
	szl = rd_be16(&r);
	(void)rd_skip(&r, 2);
	rl = rd_be16(&r);
	cnt = rd_be16(&r);
	if (r.err) {
		s7_szl_iter_init(it, 0, 0, 0, NULL, 0);
		return IDS_ETRUNC;
	}
	s7_szl_iter_init(it, szl, rl, cnt, rd_ptr(&r), rd_left(&r));
	return 0;
}

bool
s7_szl_next(struct s7_szl_iter *it, struct s7_szl_rec *out)
{
	struct rd rec;
	uint16_t ausbg, ausbe;

	if (it->left == 0 || !rd_sub(&it->r, it->rec_len, &rec))
		return false;
	it->left--;
	memset(out, 0, sizeof(*out));
	out->index = rd_be16(&rec);
	if ((it->szl_id & 0xff) == 0x11 && it->rec_len >= 28) {
		out->text = rd_ptr(&rec);
		out->text_len = 20;
		(void)rd_skip(&rec, 22);	/* MlfB + BGTyp */
		ausbg = rd_be16(&rec);
		ausbe = rd_be16(&rec);
		if (rec.err)
			return false;
		if ((ausbg >> 8) == 'V') {
			out->has_version = true;
			out->version[0] = (uint8_t)(ausbg & 0xff);
			out->version[1] = (uint8_t)(ausbe >> 8);
			out->version[2] = (uint8_t)(ausbe & 0xff);
		}
	} else if ((it->szl_id & 0xff) == 0x1c && it->rec_len >= 34) {
		out->text = rd_ptr(&rec);
		out->text_len = 32;
	}
	return true;
}

/*
 * ---- requests -----------------------------------------------------------
 * S7comm codes: job function; userdata 0x1000 | group << 8 | subfunction;
 * SZL reads of 0x0011 / 0x001C: 0x2011 / 0x201C.  Write ranges live in
 * area << 16 | DB, in bytes.
 */

static unsigned
s7_code_ops(uint16_t c)
{
	switch (c) {
	case S7_FUNC_WRITE_VAR:
		return PROTO_OP_WRITE;
	case S7_FUNC_REQUEST_DOWNLOAD:
	case S7_FUNC_DOWNLOAD_BLOCK:
	case S7_FUNC_DOWNLOAD_ENDED:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case S7_FUNC_PLC_CONTROL:	/* PI services: start, delete block */
	case S7_FUNC_PLC_STOP:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case 0x2011:
	case 0x201C:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
s7_code_name(uint16_t c, char *buf, size_t len)
{
	if (c < 0x100)
		return s7_func_name((uint8_t)c);
	if (c == 0x2011)
		return "Read SZL 0x0011 (module identification)";
	if (c == 0x201C)
		return "Read SZL 0x001C (component identification)";
	snprintf(buf, len, "Userdata group %u subfunction %u",
	    (c >> 8) & 0x0F, c & 0xFF);
	return buf;
}

static uint32_t
s7_elem_size(uint8_t ts)
{
	switch (ts) {
	case 4: case 5: case 0x1C: case 0x1D:
		return 2;
	case 6: case 7: case 8:
		return 4;
	}
	return 1;
}

static void
s7_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct s7_comm *s = &pdu->u.s7->s7;
	uint8_t i;

	if (s->rosctr == S7_ROSCTR_JOB && s->has_func) {
		proto_req_code(r, s->func);
		if (s->func != S7_FUNC_WRITE_VAR)
			return;
		for (i = 0; i < s->nitems; i++)
			if (s->items[i].any)
				proto_req_range(r, (uint32_t)s->items[i].area << 16 |
				    s->items[i].db, s->items[i].address >> 3,
				    s->items[i].transport_size == 1 ? 1 :
				    s->items[i].length *
				    s7_elem_size(s->items[i].transport_size));
	} else if (s->rosctr == S7_ROSCTR_USERDATA && s->has_ud &&
	    s->ud_type == S7_UD_TYPE_REQUEST) {
		if (s->ud_group == S7_UD_GROUP_CPU &&
		    s->ud_subfunc == S7_UD_CPU_READ_SZL && s->has_szl &&
		    ((s->szl_id & 0xff) == 0x11 || (s->szl_id & 0xff) == 0x1c))
			proto_req_code(r, 0x2000 | (s->szl_id & 0xff));
		else
			proto_req_code(r, 0x1000 | (s->ud_group & 0x0F) << 8 |
			    s->ud_subfunc);
	}
}

static const struct {
	uint8_t		 area;
	const char	*name;
} s7_areas[] = {
	{ S7_AREA_P, "P" }, { S7_AREA_INPUTS, "I" }, { S7_AREA_OUTPUTS, "Q" },
	{ S7_AREA_FLAGS, "M" }, { S7_AREA_DB, "DB" }, { S7_AREA_DI, "DI" },
	{ S7_AREA_LOCAL, "L" }, { S7_AREA_V, "V" }, { S7_AREA_COUNTER, "C" },
	{ S7_AREA_TIMER, "T" },
};

#define S7_NAREAS	(sizeof(s7_areas) / sizeof(s7_areas[0]))

static void
s7_space_json(uint32_t space, cJSON *o)
{
	size_t i;

	for (i = 0; i < S7_NAREAS; i++)
		if (s7_areas[i].area == space >> 16)
			break;
	if (i < S7_NAREAS)
		cJSON_AddStringToObject(o, "area", s7_areas[i].name);
	else
		cJSON_AddNumberToObject(o, "area", space >> 16);
	cJSON_AddNumberToObject(o, "db", space & 0xffff);
}

static int
s7_space_parse(const cJSON *o, uint32_t *space, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "area");
	double a = -1, b;
	size_t i;

	if (cJSON_IsString(v)) {
		for (i = 0; i < S7_NAREAS; i++)
			if (strcmp(s7_areas[i].name, v->valuestring) == 0)
				a = s7_areas[i].area;
	} else if (json_get_uint(o, "area", 0, 255, -1, &a, err, errlen) != 0)
		return -1;
	if (a < 0) {
		snprintf(err, errlen, "%s", "\"area\": expected I, Q, M, DB, DI, L, V, P, C, T or a number");
		return -1;
	}
	if (json_get_uint(o, "db", 0, 65535, 0, &b, err, errlen) != 0)
		return -1;
	*space = (uint32_t)a << 16 | (uint32_t)b;
	return 0;
}

static void
s7_range_text(const struct proto_range *r, char *buf, size_t len)
{
	snprintf(buf, len, "area 0x%02x db %u bytes %u-%u", r->space >> 16,
	    r->space & 0xffff, r->lo, r->hi);
}

static const struct proto_addr_model s7_addr = {
	s7_space_json, s7_space_parse, s7_range_text
};

/* S7comm-plus: the function of a request (opcode 0x31). */
static unsigned
s7plus_code_ops(uint16_t c)
{
	return c == 0x04F2 || c == 0x0542 ? PROTO_OP_WRITE : 0;
}

static const char *
s7plus_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return s7_plus_func_name(c);
}

static void
s7plus_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct s7_plus *p = &pdu->u.s7->plus;

	if (p->has_function && p->has_opcode && p->opcode == 0x31)
		proto_req_code(r, p->function);
}

/* ---- descriptor ------------------------------------------------------- */

/* TPKT/COTP on 102 carries S7comm, S7comm-plus and MMS: one dissector. */
static void
s7_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct s7_pdu m;
	struct det_pdu pdu;
	if (s7_parse(p, n, &m) != 0) {
		if (!partial)
			dis_emit_malformed(dc, ICS_S7COMM,
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
		/* OSI session/presentation on 102: IEC 61850 MMS (mms.c) */
		mms_desc.handle(dc, p, n, partial);
		return;
	}
	pdu.u.s7 = &m;
	dis_emit_pdu(dc, &pdu);
}

/*
 * COTP DT TPDUs without the end-of-TSDU mark (ISO 8073 13.7): the
 * stream layer joins them (dissect.c deliver) into one TPKT frame.
 * TPKT(4) + COTP DT li=2, 0xF0, EOT|nr: 7 bytes of header each.
 */
static int
cotp_segment(const uint8_t *p, size_t n, size_t *hdr, bool *last)
{
	if (n < 7 || p[4] != 2 || (p[5] & 0xF0) != 0xF0)
		return 0;
	*hdr = 7;
	*last = (p[6] & 0x80) != 0;
	return 1;
}

static int
cotp_seal(uint8_t *p, size_t n)
{
	if (n > 0xffff)
		return -1;	/* TPKT length is 16 bits */
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[6] |= 0x80;
	return 0;
}

/* nDPI 4.2 names MMS on 102 s7comm too: the payload tells them apart. */
static bool
s7_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	if (p->ip_proto != 6 || !(pkt_on_port(p, 102) ||
	    f->ndpi_app == NDPI_PROTOCOL_S7COMM ||
	    f->ndpi_master == NDPI_PROTOCOL_S7COMM) ||
	    !pkt_frames(p, s7_frame_len))
		return false;
	*srv_port = pkt_on_port(p, 102) ? 102 : 0;
	return true;
}

const struct proto_desc s7comm_desc = {
	.id = ICS_S7COMM,
	.name = "s7comm",
	.transports = PROTO_TCP,
	.ports = { 102 },
	.policy_key = "s7_writers",
	.pick = s7_pick,
	.frame_len = s7_frame_len,
	.bad_header = "bad TPKT header (version or length)",
	.handle = s7_handle,
	.segment = cotp_segment,
	.seal = cotp_seal,
	.analyse = s7_analyse,
	.code_ops = s7_code_ops,
	.code_name = s7_code_name,
	.addr = &s7_addr,
};

/* Reported by s7comm_desc's dissector; never picked on its own. */
const struct proto_desc s7commplus_desc = {
	.id = ICS_S7COMMPLUS,
	.name = "s7comm-plus",
	.transports = PROTO_TCP,
	.ports = { 102 },
	.policy_key = "s7_writers",
	.analyse = s7plus_analyse,
	.code_ops = s7plus_code_ops,
	.code_name = s7plus_code_name,
};

