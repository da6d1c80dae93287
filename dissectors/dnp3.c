/*
 * dnp3.c - DNP3 link/transport/application parser.
 *
 * Spec: IEEE Std 1815-2012: 9.2 (link frame, CRC), 8.2 (transport header),
 * 4.2.2 (application header), 4.2.2.7 (object headers, qualifier codes),
 * Annex A (object group/variation sizes).
 */
#include "dissectors/dnp3.h"

#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/rd.h"
#include "lib/tok.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

static const struct tok fc_names[] = {
	{ DNP3_FC_CONFIRM, "CONFIRM" },
	{ DNP3_FC_READ, "READ" },
	{ DNP3_FC_WRITE, "WRITE" },
	{ DNP3_FC_SELECT, "SELECT" },
	{ DNP3_FC_OPERATE, "OPERATE" },
	{ DNP3_FC_DIRECT_OPERATE, "DIRECT_OPERATE" },
	{ DNP3_FC_DIRECT_OPERATE_NR, "DIRECT_OPERATE_NR" },
	{ DNP3_FC_IMMED_FREEZE, "IMMED_FREEZE" },
	{ DNP3_FC_IMMED_FREEZE_NR, "IMMED_FREEZE_NR" },
	{ DNP3_FC_FREEZE_CLEAR, "FREEZE_CLEAR" },
	{ DNP3_FC_FREEZE_CLEAR_NR, "FREEZE_CLEAR_NR" },
	{ DNP3_FC_FREEZE_AT_TIME, "FREEZE_AT_TIME" },
	{ DNP3_FC_FREEZE_AT_TIME_NR, "FREEZE_AT_TIME_NR" },
	{ DNP3_FC_COLD_RESTART, "COLD_RESTART" },
	{ DNP3_FC_WARM_RESTART, "WARM_RESTART" },
	{ DNP3_FC_INITIALIZE_DATA, "INITIALIZE_DATA" },
	{ DNP3_FC_INITIALIZE_APPL, "INITIALIZE_APPL" },
	{ DNP3_FC_START_APPL, "START_APPL" },
	{ DNP3_FC_STOP_APPL, "STOP_APPL" },
	{ DNP3_FC_SAVE_CONFIG, "SAVE_CONFIG" },
	{ DNP3_FC_ENABLE_UNSOLICITED, "ENABLE_UNSOLICITED" },
	{ DNP3_FC_DISABLE_UNSOLICITED, "DISABLE_UNSOLICITED" },
	{ DNP3_FC_ASSIGN_CLASS, "ASSIGN_CLASS" },
	{ DNP3_FC_DELAY_MEASURE, "DELAY_MEASURE" },
	{ DNP3_FC_RECORD_CURRENT_TIME, "RECORD_CURRENT_TIME" },
	{ DNP3_FC_OPEN_FILE, "OPEN_FILE" },
	{ DNP3_FC_CLOSE_FILE, "CLOSE_FILE" },
	{ DNP3_FC_DELETE_FILE, "DELETE_FILE" },
	{ DNP3_FC_GET_FILE_INFO, "GET_FILE_INFO" },
	{ DNP3_FC_AUTHENTICATE_FILE, "AUTHENTICATE_FILE" },
	{ DNP3_FC_ABORT_FILE, "ABORT_FILE" },
	{ DNP3_FC_ACTIVATE_CONFIG, "ACTIVATE_CONFIG" },
	{ DNP3_FC_AUTHENTICATE_REQ, "AUTHENTICATE_REQ" },
	{ DNP3_FC_AUTH_REQ_NO_ACK, "AUTH_REQ_NO_ACK" },
	{ DNP3_FC_RESPONSE, "RESPONSE" },
	{ DNP3_FC_UNSOLICITED_RESPONSE, "UNSOLICITED_RESPONSE" },
	{ DNP3_FC_AUTHENTICATE_RESP, "AUTHENTICATE_RESP" },
};

static const struct tok link_prm_names[] = {
	{ DNP3_LINK_RESET_LINK_STATES, "RESET_LINK_STATES" },
	{ DNP3_LINK_TEST_LINK_STATES, "TEST_LINK_STATES" },
	{ DNP3_LINK_CONFIRMED_USER_DATA, "CONFIRMED_USER_DATA" },
	{ DNP3_LINK_UNCONFIRMED_USER_DATA, "UNCONFIRMED_USER_DATA" },
	{ DNP3_LINK_REQUEST_LINK_STATUS, "REQUEST_LINK_STATUS" },
};

static const struct tok link_sec_names[] = {
	{ DNP3_LINK_ACK, "ACK" },
	{ DNP3_LINK_NACK, "NACK" },
	{ DNP3_LINK_STATUS, "LINK_STATUS" },
	{ DNP3_LINK_NOT_SUPPORTED, "NOT_SUPPORTED" },
};

#define NTOK(t)	(sizeof(t) / sizeof((t)[0]))

const char *
dnp3_fc_name(uint8_t fc)
{
	return tok_name(fc_names, NTOK(fc_names), fc, "UNKNOWN");
}

const char *
dnp3_link_fc_name(bool prm, uint8_t fc)
{
	if (prm)
		return tok_name(link_prm_names, NTOK(link_prm_names), fc,
		    "UNKNOWN");
	return tok_name(link_sec_names, NTOK(link_sec_names), fc, "UNKNOWN");
}

/* CRC-16/DNP table: reflected polynomial 0x3D65 (0xA6BC). */
static const uint16_t crc_table[256] = {
	0x0000, 0x365E, 0x6CBC, 0x5AE2, 0xD978, 0xEF26, 0xB5C4, 0x839A,
	0xFF89, 0xC9D7, 0x9335, 0xA56B, 0x26F1, 0x10AF, 0x4A4D, 0x7C13,
	0xB26B, 0x8435, 0xDED7, 0xE889, 0x6B13, 0x5D4D, 0x07AF, 0x31F1,
	0x4DE2, 0x7BBC, 0x215E, 0x1700, 0x949A, 0xA2C4, 0xF826, 0xCE78,
	0x29AF, 0x1FF1, 0x4513, 0x734D, 0xF0D7, 0xC689, 0x9C6B, 0xAA35,
	0xD626, 0xE078, 0xBA9A, 0x8CC4, 0x0F5E, 0x3900, 0x63E2, 0x55BC,
	0x9BC4, 0xAD9A, 0xF778, 0xC126, 0x42BC, 0x74E2, 0x2E00, 0x185E,
	0x644D, 0x5213, 0x08F1, 0x3EAF, 0xBD35, 0x8B6B, 0xD189, 0xE7D7,
	0x535E, 0x6500, 0x3FE2, 0x09BC, 0x8A26, 0xBC78, 0xE69A, 0xD0C4,
	0xACD7, 0x9A89, 0xC06B, 0xF635, 0x75AF, 0x43F1, 0x1913, 0x2F4D,
	0xE135, 0xD76B, 0x8D89, 0xBBD7, 0x384D, 0x0E13, 0x54F1, 0x62AF,
	0x1EBC, 0x28E2, 0x7200, 0x445E, 0xC7C4, 0xF19A, 0xAB78, 0x9D26,
	0x7AF1, 0x4CAF, 0x164D, 0x2013, 0xA389, 0x95D7, 0xCF35, 0xF96B,
	0x8578, 0xB326, 0xE9C4, 0xDF9A, 0x5C00, 0x6A5E, 0x30BC, 0x06E2,
	0xC89A, 0xFEC4, 0xA426, 0x9278, 0x11E2, 0x27BC, 0x7D5E, 0x4B00,
	0x3713, 0x014D, 0x5BAF, 0x6DF1, 0xEE6B, 0xD835, 0x82D7, 0xB489,
	0xA6BC, 0x90E2, 0xCA00, 0xFC5E, 0x7FC4, 0x499A, 0x1378, 0x2526,
	0x5935, 0x6F6B, 0x3589, 0x03D7, 0x804D, 0xB613, 0xECF1, 0xDAAF,
	0x14D7, 0x2289, 0x786B, 0x4E35, 0xCDAF, 0xFBF1, 0xA113, 0x974D,
	0xEB5E, 0xDD00, 0x87E2, 0xB1BC, 0x3226, 0x0478, 0x5E9A, 0x68C4,
	0x8F13, 0xB94D, 0xE3AF, 0xD5F1, 0x566B, 0x6035, 0x3AD7, 0x0C89,
	0x709A, 0x46C4, 0x1C26, 0x2A78, 0xA9E2, 0x9FBC, 0xC55E, 0xF300,
	0x3D78, 0x0B26, 0x51C4, 0x679A, 0xE400, 0xD25E, 0x88BC, 0xBEE2,
	0xC2F1, 0xF4AF, 0xAE4D, 0x9813, 0x1B89, 0x2DD7, 0x7735, 0x416B,
	0xF5E2, 0xC3BC, 0x995E, 0xAF00, 0x2C9A, 0x1AC4, 0x4026, 0x7678,
	0x0A6B, 0x3C35, 0x66D7, 0x5089, 0xD313, 0xE54D, 0xBFAF, 0x89F1,
	0x4789, 0x71D7, 0x2B35, 0x1D6B, 0x9EF1, 0xA8AF, 0xF24D, 0xC413,
	0xB800, 0x8E5E, 0xD4BC, 0xE2E2, 0x6178, 0x5726, 0x0DC4, 0x3B9A,
	0xDC4D, 0xEA13, 0xB0F1, 0x86AF, 0x0535, 0x336B, 0x6989, 0x5FD7,
	0x23C4, 0x159A, 0x4F78, 0x7926, 0xFABC, 0xCCE2, 0x9600, 0xA05E,
	0x6E26, 0x5878, 0x029A, 0x34C4, 0xB75E, 0x8100, 0xDBE2, 0xEDBC,
	0x91AF, 0xA7F1, 0xFD13, 0xCB4D, 0x48D7, 0x7E89, 0x246B, 0x1235,
};

uint16_t
dnp3_crc(const uint8_t *p, size_t n)
{
	struct rd r;
	uint16_t crc = 0;

	rd_init(&r, p, n);
	while (rd_left(&r) > 0)
		crc = (uint16_t)((crc >> 8) ^
		    crc_table[(crc ^ rd_u8(&r)) & 0xFF]);
	return (uint16_t)~crc;
}

/* Frame bytes for a link length field: header + user data + block CRCs. */
static size_t
frame_size(uint8_t length)
{
	size_t ulen = (size_t)length - DNP3_LEN_MIN;

	return DNP3_LINK_HDR_LEN + ulen + 2 * ((ulen + 15) / 16);
}

int
dnp3_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint8_t s0, s1, length;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	rd_init(&r, p, n);
	/* Check whatever start bytes are present before asking for more. */
	if (rd_left(&r) >= 1 && rd_peek(&r, 0) != DNP3_START_0)
		return IDS_EMALFORMED;
	if (rd_left(&r) >= 2 && rd_peek(&r, 1) != DNP3_START_1)
		return IDS_EMALFORMED;
	s0 = rd_u8(&r);
	s1 = rd_u8(&r);
	length = rd_u8(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (s0 != DNP3_START_0 || s1 != DNP3_START_1 || length < DNP3_LEN_MIN)
		return IDS_EMALFORMED;
	*len = frame_size(length);
	return 0;
}

bool
dnp3_probe(const uint8_t *p, size_t n)
{
	struct rd r, hdr;
	size_t flen;
	uint16_t crc;

	if (dnp3_frame_len(p, n, &flen) != 0 || flen > n)
		return false;
	rd_init(&r, p, n);
	if (!rd_sub(&r, 8, &hdr))
		return false;
	crc = rd_le16(&r);
	return !r.err && crc == dnp3_crc(rd_ptr(&hdr), 8);
}

/*
 * Object sizes (IEEE 1815 Annex A) for walking past object data.
 * kind: FIXED = size bytes per object, BITS = size bits per object packed
 * (only without an index prefix), NONE = header carries no objects
 * (class data), VARLEN = variation is the object length (g110-g113).
 */
enum osize_kind { OS_UNKNOWN, OS_FIXED, OS_BITS, OS_NONE, OS_VARLEN };

struct osize {
	uint8_t	 group;
	uint8_t	 var;		/* 0 = any variation of the group */
	uint8_t	 kind;
	uint8_t	 size;
};

static const struct osize osizes[] = {
	{ 1, 1, OS_BITS, 1 }, { 1, 2, OS_FIXED, 1 },
	{ 2, 1, OS_FIXED, 1 }, { 2, 2, OS_FIXED, 7 }, { 2, 3, OS_FIXED, 3 },
	{ 3, 1, OS_BITS, 2 }, { 3, 2, OS_FIXED, 1 },
	{ 4, 1, OS_FIXED, 1 }, { 4, 2, OS_FIXED, 7 }, { 4, 3, OS_FIXED, 3 },
	{ 10, 1, OS_BITS, 1 }, { 10, 2, OS_FIXED, 1 },
	{ 11, 1, OS_FIXED, 1 }, { 11, 2, OS_FIXED, 7 },
	{ 12, 1, OS_FIXED, 11 }, { 12, 2, OS_FIXED, 11 }, { 12, 3, OS_BITS, 1 },
	{ 13, 1, OS_FIXED, 1 }, { 13, 2, OS_FIXED, 7 },
	{ 20, 1, OS_FIXED, 5 }, { 20, 2, OS_FIXED, 3 }, { 20, 3, OS_FIXED, 5 },
	{ 20, 4, OS_FIXED, 3 }, { 20, 5, OS_FIXED, 4 }, { 20, 6, OS_FIXED, 2 },
	{ 20, 7, OS_FIXED, 4 }, { 20, 8, OS_FIXED, 2 },
	{ 21, 1, OS_FIXED, 5 }, { 21, 2, OS_FIXED, 3 }, { 21, 3, OS_FIXED, 5 },
	{ 21, 4, OS_FIXED, 3 }, { 21, 5, OS_FIXED, 11 }, { 21, 6, OS_FIXED, 9 },
	{ 21, 7, OS_FIXED, 11 }, { 21, 8, OS_FIXED, 9 }, { 21, 9, OS_FIXED, 4 },
	{ 21, 10, OS_FIXED, 2 }, { 21, 11, OS_FIXED, 4 }, { 21, 12, OS_FIXED, 2 },
	{ 22, 1, OS_FIXED, 5 }, { 22, 2, OS_FIXED, 3 }, { 22, 3, OS_FIXED, 5 },
	{ 22, 4, OS_FIXED, 3 }, { 22, 5, OS_FIXED, 11 }, { 22, 6, OS_FIXED, 9 },
	{ 22, 7, OS_FIXED, 11 }, { 22, 8, OS_FIXED, 9 },
	{ 23, 1, OS_FIXED, 5 }, { 23, 2, OS_FIXED, 3 }, { 23, 3, OS_FIXED, 5 },
	{ 23, 4, OS_FIXED, 3 }, { 23, 5, OS_FIXED, 11 }, { 23, 6, OS_FIXED, 9 },
	{ 23, 7, OS_FIXED, 11 }, { 23, 8, OS_FIXED, 9 },
	{ 30, 1, OS_FIXED, 5 }, { 30, 2, OS_FIXED, 3 }, { 30, 3, OS_FIXED, 4 },
	{ 30, 4, OS_FIXED, 2 }, { 30, 5, OS_FIXED, 5 }, { 30, 6, OS_FIXED, 9 },
	{ 31, 1, OS_FIXED, 5 }, { 31, 2, OS_FIXED, 3 }, { 31, 3, OS_FIXED, 11 },
	{ 31, 4, OS_FIXED, 9 }, { 31, 5, OS_FIXED, 4 }, { 31, 6, OS_FIXED, 2 },
	{ 31, 7, OS_FIXED, 5 }, { 31, 8, OS_FIXED, 9 },
	{ 32, 1, OS_FIXED, 5 }, { 32, 2, OS_FIXED, 3 }, { 32, 3, OS_FIXED, 11 },
	{ 32, 4, OS_FIXED, 9 }, { 32, 5, OS_FIXED, 5 }, { 32, 6, OS_FIXED, 9 },
	{ 32, 7, OS_FIXED, 11 }, { 32, 8, OS_FIXED, 15 },
	{ 33, 1, OS_FIXED, 5 }, { 33, 2, OS_FIXED, 3 }, { 33, 3, OS_FIXED, 11 },
	{ 33, 4, OS_FIXED, 9 }, { 33, 5, OS_FIXED, 5 }, { 33, 6, OS_FIXED, 9 },
	{ 33, 7, OS_FIXED, 11 }, { 33, 8, OS_FIXED, 15 },
	{ 34, 1, OS_FIXED, 2 }, { 34, 2, OS_FIXED, 4 }, { 34, 3, OS_FIXED, 4 },
	{ 40, 1, OS_FIXED, 5 }, { 40, 2, OS_FIXED, 3 }, { 40, 3, OS_FIXED, 5 },
	{ 40, 4, OS_FIXED, 9 },
	{ 41, 1, OS_FIXED, 5 }, { 41, 2, OS_FIXED, 3 }, { 41, 3, OS_FIXED, 5 },
	{ 41, 4, OS_FIXED, 9 },
	{ 42, 1, OS_FIXED, 5 }, { 42, 2, OS_FIXED, 3 }, { 42, 3, OS_FIXED, 11 },
	{ 42, 4, OS_FIXED, 9 }, { 42, 5, OS_FIXED, 5 }, { 42, 6, OS_FIXED, 9 },
	{ 42, 7, OS_FIXED, 11 }, { 42, 8, OS_FIXED, 15 },
	{ 43, 1, OS_FIXED, 5 }, { 43, 2, OS_FIXED, 3 }, { 43, 3, OS_FIXED, 11 },
	{ 43, 4, OS_FIXED, 9 }, { 43, 5, OS_FIXED, 5 }, { 43, 6, OS_FIXED, 9 },
	{ 43, 7, OS_FIXED, 11 }, { 43, 8, OS_FIXED, 15 },
	{ 50, 1, OS_FIXED, 6 }, { 50, 2, OS_FIXED, 10 }, { 50, 3, OS_FIXED, 6 },
	{ 50, 4, OS_FIXED, 11 },
	{ 51, 1, OS_FIXED, 6 }, { 51, 2, OS_FIXED, 6 },
	{ 52, 1, OS_FIXED, 2 }, { 52, 2, OS_FIXED, 2 },
	{ 60, 0, OS_NONE, 0 },
	{ 80, 1, OS_BITS, 1 },
	{ 110, 0, OS_VARLEN, 0 }, { 111, 0, OS_VARLEN, 0 },
	{ 112, 0, OS_VARLEN, 0 }, { 113, 0, OS_VARLEN, 0 },
};

static const struct osize *
osize_of(uint8_t group, uint8_t var)
{
	size_t i;

	for (i = 0; i < NTOK(osizes); i++)
		if (osizes[i].group == group &&
		    (osizes[i].var == 0 || osizes[i].var == var))
			return &osizes[i];
	return NULL;
}

/*
 * Request function codes whose object headers only name points (no object
 * data follows a header): reads, freezes, restarts, (un)solicited control,
 * class assignment, time measurement.
 */
static bool
fc_has_no_object_data(uint8_t fc)
{
	switch (fc) {
	case DNP3_FC_CONFIRM:
	case DNP3_FC_READ:
	case DNP3_FC_IMMED_FREEZE:
	case DNP3_FC_IMMED_FREEZE_NR:
	case DNP3_FC_FREEZE_CLEAR:
	case DNP3_FC_FREEZE_CLEAR_NR:
	case DNP3_FC_COLD_RESTART:
	case DNP3_FC_WARM_RESTART:
	case DNP3_FC_INITIALIZE_DATA:
	case DNP3_FC_ENABLE_UNSOLICITED:
	case DNP3_FC_DISABLE_UNSOLICITED:
	case DNP3_FC_ASSIGN_CLASS:
	case DNP3_FC_DELAY_MEASURE:
	case DNP3_FC_RECORD_CURRENT_TIME:
		return true;
	default:
		return false;
	}
}

/* Bytes of the object prefix for prefix codes 1-6; 0 for code 0. */
static size_t
prefix_size(uint8_t code)
{
	static const uint8_t sz[8] = { 0, 1, 2, 4, 1, 2, 4, 0 };

	return sz[code & 7];
}

static uint32_t
rd_uint(struct rd *r, size_t size)
{
	switch (size) {
	case 1:
		return rd_u8(r);
	case 2:
		return rd_le16(r);
	default:
		return rd_le32(r);
	}
}

/* Read the range/count field of an object header; false if unknown. */
static bool
read_range(struct rd *r, struct dnp3_obj_header *h)
{
	static const uint8_t width[16] = {
		1, 2, 4, 1, 2, 4, 0, 1, 2, 4, 0, 1, 0, 0, 0, 0
	};
	size_t w = width[h->range_code];

	switch (h->range_code) {
	case 0: case 1: case 2:		/* start-stop indexes */
	case 3: case 4: case 5:		/* start-stop virtual addresses */
		h->start = rd_uint(r, w);
		h->stop = rd_uint(r, w);
		if (r->err || h->stop < h->start)
			return false;
		h->has_range = true;
		/* Saturates at 2^32-1 objects: far beyond any frame anyway. */
		h->count = h->stop - h->start == UINT32_MAX ? UINT32_MAX :
		    h->stop - h->start + 1;
		h->has_count = true;
		return true;
	case 6:				/* all objects, no range field */
		return true;
	case 7: case 8: case 9:		/* object count */
	case 0xB:			/* count of variable-format objects */
		h->count = rd_uint(r, w);
		if (r->err)
			return false;
		h->has_count = true;
		return true;
	default:
		return false;
	}
}

/*
 * Skip the objects that follow header h.  Returns false when the size is
 * unknown or the data runs out; the walk then stops.
 */
static bool
skip_objects(struct rd *r, const struct dnp3_obj_header *h, bool has_data)
{
	const struct osize *os;
	size_t psz = prefix_size(h->prefix_code);
	size_t per, i;
	uint64_t total;

	if (h->range_code == 6 || h->count == 0)
		return true;
	if (h->prefix_code >= 4 && h->prefix_code <= 6) {
		/* Each object is preceded by its own size. */
		for (i = 0; i < h->count; i++) {
			size_t sz = rd_uint(r, psz);

			if (r->err || !rd_skip(r, sz))
				return false;
		}
		return true;
	}
	if (h->prefix_code == 7)
		return false;
	os = osize_of(h->group, h->variation);
	if (!has_data || (os != NULL && os->kind == OS_NONE))
		per = psz;
	else if (os == NULL || os->kind == OS_UNKNOWN)
		return false;
	else if (os->kind == OS_BITS) {
		if (psz != 0)
			return false;
		total = ((uint64_t)h->count * os->size + 7) / 8;
		return total <= rd_left(r) && rd_skip(r, (size_t)total);
	} else if (os->kind == OS_VARLEN) {
		if (h->variation == 0)
			return false;
		per = psz + h->variation;
	} else
		per = psz + os->size;
	total = (uint64_t)h->count * per;
	return total <= rd_left(r) && rd_skip(r, (size_t)total);
}

static void
walk_objects(struct rd *r, struct dnp3_pdu *out)
{
	bool has_data = !fc_has_no_object_data(out->app_fc);
	struct dnp3_obj_header *h;
	size_t base = out->user_len;

	while (rd_left(r) > 0) {
		if (out->nobj == DNP3_MAX_OBJ_HEADERS) {
			out->objects_more = true;
			return;
		}
		h = &out->obj[out->nobj];
		memset(h, 0, sizeof *h);
		h->offset = base - rd_left(r);
		h->group = rd_u8(r);
		h->variation = rd_u8(r);
		h->qualifier = rd_u8(r);
		h->prefix_code = (h->qualifier >> 4) & 7;
		h->range_code = h->qualifier & 0x0F;
		if (r->err || !read_range(r, h)) {
			out->objects_truncated = true;
			return;
		}
		out->nobj++;
		if (!skip_objects(r, h, has_data)) {
			out->objects_truncated = true;
			return;
		}
	}
}

/* Transport + application layers over the CRC-free user data. */
static int
parse_user_data(struct dnp3_pdu *out)
{
	struct rd r;
	uint8_t th, ac;

	rd_init(&r, out->user, out->user_len);
	th = rd_u8(&r);
	if (r.err)
		return 0;
	out->has_transport = true;
	out->tp_fir = (th & DNP3_TP_FIR) != 0;
	out->tp_fin = (th & DNP3_TP_FIN) != 0;
	out->tp_seq = th & DNP3_TP_SEQ_MASK;
	/* Only the first segment of a fragment starts with the app header. */
	if (!out->tp_fir)
		return 0;

	ac = rd_u8(&r);
	out->app_fc = rd_u8(&r);
	if (r.err)
		return IDS_EMALFORMED;
	out->has_app = true;
	out->app_control = ac;
	out->app_fir = (ac & DNP3_AC_FIR) != 0;
	out->app_fin = (ac & DNP3_AC_FIN) != 0;
	out->app_con = (ac & DNP3_AC_CON) != 0;
	out->app_uns = (ac & DNP3_AC_UNS) != 0;
	out->app_seq = ac & DNP3_AC_SEQ_MASK;
	if (out->app_fc == DNP3_FC_RESPONSE ||
	    out->app_fc == DNP3_FC_UNSOLICITED_RESPONSE ||
	    out->app_fc == DNP3_FC_AUTHENTICATE_RESP) {
		out->iin = rd_be16(&r);	/* IIN1 first: keep it the high byte */
		if (r.err)
			return out->tp_fin ? IDS_EMALFORMED : 0;
		out->has_iin = true;
	}
	out->objects_off = out->user_len - rd_left(&r);
	walk_objects(&r, out);
	/* A fragment continued in later segments is cut mid-objects. */
	if (!out->tp_fin)
		out->objects_truncated = true;
	return 0;
}

int
dnp3_parse(const uint8_t *p, size_t n, struct dnp3_pdu *out)
{
	struct rd r, hdr, blk;
	size_t ulen, take;
	unsigned block;
	uint16_t crc;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof *out);
	rc = dnp3_frame_len(p, n, &out->frame_len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (out->frame_len > n)
		return IDS_ETRUNC;

	rd_init(&r, p, n);
	rd_sub(&r, 8, &hdr);
	out->hdr_crc = rd_le16(&r);
	if (dnp3_crc(rd_ptr(&hdr), 8) != out->hdr_crc) {
		out->bad_crc = true;
		out->bad_crc_block = DNP3_CRC_HEADER;
		return IDS_EMALFORMED;
	}
	rd_skip(&hdr, 2);			/* start bytes */
	out->length = rd_u8(&hdr);
	out->control = rd_u8(&hdr);
	out->dst = rd_le16(&hdr);
	out->src = rd_le16(&hdr);
	out->dir = (out->control & DNP3_LINK_DIR) != 0;
	out->prm = (out->control & DNP3_LINK_PRM) != 0;
	out->fcb = (out->control & DNP3_LINK_FCB) != 0;
	out->fcv = (out->control & DNP3_LINK_FCV) != 0;
	out->link_fc = out->control & DNP3_LINK_FC_MASK;

	/* Data blocks: 16 bytes (the last may be shorter) + CRC each. */
	ulen = (size_t)out->length - DNP3_LEN_MIN;
	for (block = 1; out->user_len < ulen; block++) {
		take = ulen - out->user_len < 16 ? ulen - out->user_len : 16;
		if (!rd_sub(&r, take, &blk))
			return IDS_ETRUNC;	/* frame_len said it fits */
		crc = rd_le16(&r);
		if (r.err)
			return IDS_ETRUNC;
		if (dnp3_crc(rd_ptr(&blk), take) != crc) {
			out->bad_crc = true;
			out->bad_crc_block = block;
			return IDS_EMALFORMED;
		}
		rd_copy(&blk, out->user + out->user_len, take);
		out->user_len += take;
	}

	/* Only primary user-data frames carry transport segments. */
	if (out->user_len == 0 || !out->prm ||
	    (out->link_fc != DNP3_LINK_CONFIRMED_USER_DATA &&
	    out->link_fc != DNP3_LINK_UNCONFIRMED_USER_DATA))
		return 0;
	return parse_user_data(out);
}


/* ---- values ------------------------------------------------------------ */

/*
 * Layout of one value object: flags byte first, value width (bytes), float
 * (4 or 8 bytes), time after the value (6 bytes), kind.  0 width: not a
 * value this walker reads (the walk then sizes it with osize or stops).
 */
struct vlayout {
	uint8_t	 flags, width, is_float, time, kind, bits;
};

static bool
value_layout(uint8_t g, uint8_t v, struct vlayout *l)
{
	memset(l, 0, sizeof(*l));
	switch (g) {
	case 1:
		if (v != 2)
			return false;
		l->flags = 1;
		l->kind = DNP3_VAL_BINARY;
		return true;
	case 2:
		if (v < 1 || v > 3)
			return false;
		l->flags = 1;
		l->time = v == 2 ? 6 : v == 3 ? 2 : 0;
		l->kind = DNP3_VAL_BINARY;
		return true;
	case 20: case 21: case 22: case 23:
		if (v < 1 || v > (g == 21 ? 12 : 8))
			return false;
		l->kind = g == 20 || g == 22 ? DNP3_VAL_COUNTER : DNP3_VAL_FROZEN;
		if (g == 21 && v >= 9) {
			l->width = v % 2 ? 4 : 2;
			l->bits = (uint8_t)(l->width * 8);
			return true;
		}
		l->width = v % 2 ? 4 : 2;
		l->bits = (uint8_t)(l->width * 8);
		l->flags = g == 20 && v >= 5 ? 0 : 1;
		l->time = (g != 20 && v >= 5) ? 6 : 0;
		return true;
	case 30:
		if (v < 1 || v > 6)
			return false;
		l->kind = DNP3_VAL_ANALOG;
		l->flags = v == 3 || v == 4 ? 0 : 1;
		l->width = v == 5 ? 4 : v == 6 ? 8 : v % 2 ? 4 : 2;
		l->is_float = v >= 5;
		return true;
	case 32:
		if (v < 1 || v > 8)
			return false;
		l->kind = DNP3_VAL_ANALOG;
		l->flags = 1;
		l->width = v == 5 || v == 7 ? 4 : v == 6 || v == 8 ? 8 :
		    v % 2 ? 4 : 2;
		l->is_float = v >= 5;
		l->time = v == 3 || v == 4 || v >= 7 ? 6 : 0;
		return true;
	case 50:
		if (v != 1 && v != 3)
			return false;
		l->width = 6;
		l->kind = DNP3_VAL_TIME;
		return true;
	case 51:
		if (v != 1 && v != 2)
			return false;
		l->width = 6;
		l->kind = DNP3_VAL_TIME;
		return true;
	default:
		return false;
	}
}

static double
read_value(struct rd *r, const struct vlayout *l, uint8_t v, uint8_t g)
{
	uint32_t u;
	uint64_t t;

	if (l->kind == DNP3_VAL_TIME) {
		t = rd_le32(r);
		t |= (uint64_t)rd_le16(r) << 32;
		return (double)t;
	}
	if (l->is_float) {
		if (l->width == 4) {
			float f;

			u = rd_le32(r);
			memcpy(&f, &u, sizeof(f));
			return f;
		} else {
			double dv;

			t = rd_le32(r);
			t |= (uint64_t)rd_le32(r) << 32;
			memcpy(&dv, &t, sizeof(dv));
			return dv;
		}
	}
	if (l->width == 4) {
		u = rd_le32(r);
		/* analogs are signed, counters are not */
		return g == 30 || g == 32 ? (double)(int32_t)u : (double)u;
	}
	u = rd_le16(r);
	(void)v;
	return g == 30 || g == 32 ? (double)(int16_t)u : (double)u;
}

size_t
dnp3_values(const struct dnp3_pdu *d, dnp3_value_fn fn, void *arg)
{
	bool has_data;
	struct rd r;
	struct dnp3_obj_header h;
	struct dnp3_value out;
	struct vlayout l;
	size_t n = 0, psz;
	uint32_t i;

	if (d == NULL || !d->has_app || d->objects_off > d->user_len)
		return 0;
	has_data = !fc_has_no_object_data(d->app_fc);
	if (!has_data)
		return 0;
	rd_init(&r, d->user + d->objects_off, d->user_len - d->objects_off);
	while (rd_left(&r) > 0) {
		memset(&h, 0, sizeof(h));
		h.group = rd_u8(&r);
		h.variation = rd_u8(&r);
		h.qualifier = rd_u8(&r);
		h.prefix_code = (h.qualifier >> 4) & 7;
		h.range_code = h.qualifier & 0x0F;
		if (r.err || !read_range(&r, &h))
			return n;
		psz = prefix_size(h.prefix_code);
		/* a value object with an index prefix or none */
		if (h.prefix_code <= 3 && h.range_code != 6 &&
		    value_layout(h.group, h.variation, &l) &&
		    (h.prefix_code != 0 || h.has_range || h.count <= 1)) {
			size_t per = psz + l.flags + l.width + l.time;

			if ((uint64_t)h.count * per > rd_left(&r))
				return n;
			for (i = 0; i < h.count; i++) {
				memset(&out, 0, sizeof(out));
				out.group = h.group;
				out.variation = h.variation;
				out.kind = l.kind;
				out.bits = l.bits;
				out.is_float = l.is_float;
				out.index = psz != 0 ? rd_uint(&r, psz) :
				    h.has_range ? h.start + i : i;
				if (l.kind == DNP3_VAL_BINARY) {
					out.value = (rd_u8(&r) & 0x80) ? 1 : 0;
				} else {
					if (l.flags)
						(void)rd_u8(&r);
					out.value = read_value(&r, &l,
					    h.variation, h.group);
				}
				if (l.time && !rd_skip(&r, l.time))
					return n;
				if (r.err)
					return n;
				fn(arg, &out);
				n++;
			}
			continue;
		}
		if (!skip_objects(&r, &h, has_data))
			return n;
	}
	return n;
}

/* ---- requests: codes are application function codes ------------------ */

static unsigned
dnp3_code_ops(uint16_t c)
{
	switch (c) {
	case DNP3_FC_WRITE:
	case DNP3_FC_SAVE_CONFIG:
	case DNP3_FC_ACTIVATE_CONFIG:
		return PROTO_OP_WRITE;
	case DNP3_FC_SELECT:
	case DNP3_FC_OPERATE:
	case DNP3_FC_DIRECT_OPERATE:
	case DNP3_FC_DIRECT_OPERATE_NR:
		return PROTO_OP_WRITE | PROTO_OP_COMMAND;
	case DNP3_FC_IMMED_FREEZE:
	case DNP3_FC_IMMED_FREEZE_NR:
	case DNP3_FC_FREEZE_CLEAR:
	case DNP3_FC_FREEZE_CLEAR_NR:
	case DNP3_FC_FREEZE_AT_TIME:
	case DNP3_FC_FREEZE_AT_TIME_NR:
	case DNP3_FC_INITIALIZE_APPL:
	case DNP3_FC_START_APPL:
	case DNP3_FC_ENABLE_UNSOLICITED:
	case DNP3_FC_DISABLE_UNSOLICITED:
	case DNP3_FC_ASSIGN_CLASS:
	case DNP3_FC_RECORD_CURRENT_TIME:
		return PROTO_OP_COMMAND;
	case DNP3_FC_COLD_RESTART:
	case DNP3_FC_WARM_RESTART:
	case DNP3_FC_INITIALIZE_DATA:
	case DNP3_FC_STOP_APPL:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case DNP3_FC_DELETE_FILE:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	}
	return 0;
}

static const char *
dnp3_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return dnp3_fc_name((uint8_t)c);
}

static void
dnp3_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	if (pdu->u.dnp3->has_app && pdu->u.dnp3->app_fc < 0x80)
		proto_req_code(r, pdu->u.dnp3->app_fc);
}

/* ---- descriptor ------------------------------------------------------- */

static void
dnp3_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct dnp3_pdu m;
	struct det_pdu pdu = { .proto = ICS_DNP3, .u.dnp3 = &m };
	int rc;

	memset(&m, 0, sizeof(m));
	rc = dnp3_parse(p, n, &m);
	dis_outcome(dc, rc, &pdu, partial,
	    m.bad_crc ? "bad DNP3 CRC" : "malformed DNP3 frame");
}

/* The start bytes and header CRC are a strong check: any port. */
static bool
dnp3_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	if ((p->ip_proto != 6 && p->ip_proto != 17) ||
	    !dnp3_probe(p->payload, p->payload_len))
		return false;
	*srv_port = pkt_on_port(p, 20000) ? 20000 : 0;
	return true;
}

const struct proto_desc dnp3_desc = {
	.id = ICS_DNP3,
	.name = "dnp3",
	.transports = PROTO_TCP | PROTO_UDP,
	.ports = { 20000 },
	.policy_key = "dnp3_masters",
	.pick = dnp3_pick,
	.probe = dnp3_probe,
	.frame_len = dnp3_frame_len,
	.frame_udp = true,
	.bad_header = "bad DNP3 link header (start bytes or length)",
	.handle = dnp3_handle,
	.analyse = dnp3_analyse,
	.code_ops = dnp3_code_ops,
	.code_name = dnp3_code_name,
};
