/*
 * goose.c - IEC 61850-8-1 GOOSE parser (Annex A).
 */
#include "dissectors/goose.h"

#include <string.h>

#include "dissectors/ber.h"
#include "dissectors/decode.h"
#include "dissectors/proto.h"
#include "lib/ids.h"
#include "lib/rd.h"

/* VisibleString129 (61850-8-1 A.3.2: gocbRef, datSet, goID). */
#define GOOSE_STR_MAX	129

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

int
goose_hdr(const uint8_t *p, size_t n, struct iec61850_hdr *out)
{
	struct rd r;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	out->appid = rd_be16(&r);
	out->length = rd_be16(&r);
	out->reserved1 = rd_be16(&r);
	out->reserved2 = rd_be16(&r);
	if (r.err)
		return IDS_ETRUNC;
	out->simulated = (out->reserved1 & IEC61850_RES1_SIMULATED) != 0;
	if (out->length < IEC61850_HDR_LEN)
		return IDS_EMALFORMED;
	if (out->length > n)
		return IDS_ETRUNC;
	return 0;
}

/* A string field: at most GOOSE_STR_MAX octets. */
static int
str_field(const struct ber_tlv *t, const uint8_t **s, size_t *len)
{
	if (t->constructed || t->len > GOOSE_STR_MAX)
		return IDS_EMALFORMED;
	*s = ber_ptr(t);
	*len = t->len;
	return 0;
}

/* An unsigned field that must fit 32 bits (INT32U in 61850-7-2). */
static int
u32_field(const struct ber_tlv *t, uint32_t *v)
{
	uint64_t x;

	if (t->constructed || ber_uint(t, &x) != 0 || x > UINT32_MAX)
		return IDS_EMALFORMED;
	*v = (uint32_t)x;
	return 0;
}

/* IEEE 754 single or double behind the exponent-width octet (ISO 9506-2
 * FloatingPoint: 0x08 + 4 octets, 0x0B + 8 octets). */
static int
float_value(struct rd *c, size_t len, double *f)
{
	union { uint32_t u; float f; } s;
	union { uint64_t u; double d; } d;
	uint8_t ew = rd_u8(c);

	if (len == 5 && ew == 8) {
		s.u = rd_be32(c);
		*f = (double)s.f;
		return 0;
	}
	if (len == 9 && ew == 11) {
		d.u = (uint64_t)rd_be32(c) << 32;
		d.u |= rd_be32(c);
		*f = d.d;
		return 0;
	}
	return IDS_EMALFORMED;
}

/* One top-level data set entry. */
static int
data_value(const struct ber_tlv *t, struct goose_value *v)
{
	struct rd c = t->val;
	struct ber_tlv e;
	uint64_t u;
	bool b;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (t->cls != BER_CLASS_CONTEXT)
		return IDS_EMALFORMED;
	v->type = (uint8_t)(t->tag > 0xFF ? 0xFF : t->tag);
	switch (t->tag) {
	case GOOSE_DATA_ARRAY:
	case GOOSE_DATA_STRUCTURE:
		if (!t->constructed)
			return IDS_EMALFORMED;
		/* count the elements; their contents are in the hash */
		while (rd_left(&c) > 0) {
			if (ber_next(&c, &e) != 0)
				return IDS_EMALFORMED;
			v->i++;
		}
		return 0;
	case GOOSE_DATA_BOOLEAN:
		if (t->constructed || ber_bool(t, &b) != 0)
			return IDS_EMALFORMED;
		v->i = b;
		return 0;
	case GOOSE_DATA_BITSTRING:
		/* first octet: unused bits in the last one */
		if (t->constructed || t->len < 1 || rd_u8(&c) > 7)
			return IDS_EMALFORMED;
		for (i = 1; i < t->len && i <= 8; i++)
			v->i = (int64_t)((uint64_t)v->i << 8 | rd_u8(&c));
		return 0;
	case GOOSE_DATA_INTEGER:
		return t->constructed || ber_int(t, &v->i) != 0 ?
		    IDS_EMALFORMED : 0;
	case GOOSE_DATA_UNSIGNED:
		if (t->constructed || ber_uint(t, &u) != 0 || u > INT64_MAX)
			return IDS_EMALFORMED;
		v->i = (int64_t)u;
		return 0;
	case GOOSE_DATA_FLOAT:
		return t->constructed ? IDS_EMALFORMED :
		    float_value(&c, t->len, &v->f);
	default:
		/* strings, times, BCD...: kept as a type only */
		return 0;
	}
}

static int
all_data(struct rd *c, struct goose_pdu *out)
{
	struct ber_tlv t;
	uint64_t h = FNV_OFFSET;
	struct rd all = *c;
	int rc;

	while (rd_left(&all) > 0)
		h = (h ^ rd_u8(&all)) * FNV_PRIME;
	out->data_hash = h;
	while (rd_left(c) > 0) {
		if (ber_next(c, &t) != 0)
			return IDS_EMALFORMED;
		if (out->n_values < GOOSE_MAX_VALUES) {
			rc = data_value(&t, &out->values[out->n_values]);
			if (rc != 0)
				return rc;
		}
		if (out->n_values == UINT32_MAX)
			return IDS_EMALFORMED;
		out->n_values++;
	}
	return 0;
}

/* The fields of the goosePdu, in any order; unknown tags are skipped. */
static int
pdu_fields(struct rd *c, struct goose_pdu *out)
{
	struct ber_tlv t;
	unsigned seen = 0;
	struct rd v;
	int rc = 0;

	while (rd_left(c) > 0 && rc == 0) {
		if (ber_next(c, &t) != 0)
			return IDS_EMALFORMED;
		if (t.cls != BER_CLASS_CONTEXT || t.tag > 12)
			continue;
		if (seen & 1u << t.tag)
			return IDS_EMALFORMED;	/* a field twice */
		seen |= 1u << t.tag;
		switch (t.tag) {
		case 0:
			rc = str_field(&t, &out->gocb_ref, &out->gocb_ref_len);
			break;
		case 1:
			rc = u32_field(&t, &out->tal_ms);
			break;
		case 2:
			rc = str_field(&t, &out->dat_set, &out->dat_set_len);
			break;
		case 3:
			rc = str_field(&t, &out->go_id, &out->go_id_len);
			break;
		case 4:
			if (t.constructed || t.len != 8)
				return IDS_EMALFORMED;
			v = t.val;
			out->t_sec = rd_be32(&v);
			out->t_frac = rd_be24(&v);
			out->t_quality = rd_u8(&v);
			break;
		case 5:
			rc = u32_field(&t, &out->st_num);
			break;
		case 6:
			rc = u32_field(&t, &out->sq_num);
			break;
		case 7:
			rc = t.constructed ? IDS_EMALFORMED :
			    ber_bool(&t, &out->simulation);
			break;
		case 8:
			rc = u32_field(&t, &out->conf_rev);
			break;
		case 9:
			rc = t.constructed ? IDS_EMALFORMED :
			    ber_bool(&t, &out->nds_com);
			break;
		case 10:
			rc = u32_field(&t, &out->num_entries);
			break;
		case 11:
			rc = t.constructed ? all_data(&t.val, out) :
			    IDS_EMALFORMED;
			break;
		}
	}
	if (rc != 0)
		return rc;
	/* gocbRef, stNum and sqNum identify and order the stream */
	if ((seen & (1u << 0 | 1u << 5 | 1u << 6)) !=
	    (1u << 0 | 1u << 5 | 1u << 6) || out->gocb_ref_len == 0)
		return IDS_EMALFORMED;
	return 0;
}

int
goose_parse(const uint8_t *p, size_t n, struct goose_pdu *out)
{
	struct ber_tlv pdu;
	struct rd r;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = goose_hdr(p, n, &out->hdr)) != 0)
		return rc;
	out->frame_len = out->hdr.length;
	rd_init(&r, p + IEC61850_HDR_LEN, out->hdr.length - IEC61850_HDR_LEN);
	/* The Length field says the frame is all here: from now on a BER
	 * length past its container is malformed, not truncated. */
	if (ber_next(&r, &pdu) != 0 || pdu.id != 0x61 || rd_left(&r) != 0)
		return IDS_EMALFORMED;
	return pdu_fields(&pdu.val, out);
}

const char *
goose_data_type_name(uint8_t type)
{
	switch (type) {
	case GOOSE_DATA_ARRAY:		return "array";
	case GOOSE_DATA_STRUCTURE:	return "structure";
	case GOOSE_DATA_BOOLEAN:	return "boolean";
	case GOOSE_DATA_BITSTRING:	return "bit-string";
	case GOOSE_DATA_INTEGER:	return "integer";
	case GOOSE_DATA_UNSIGNED:	return "unsigned";
	case GOOSE_DATA_FLOAT:		return "floating-point";
	case GOOSE_DATA_OCTETSTRING:	return "octet-string";
	case GOOSE_DATA_VISIBLESTRING:	return "visible-string";
	case GOOSE_DATA_BINARYTIME:	return "binary-time";
	case GOOSE_DATA_UTCTIME:	return "utc-time";
	}
	return "other";
}

/* ---- descriptor ------------------------------------------------------- */

static void
goose_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct goose_pdu m;
	struct det_pdu pdu = { .proto = ICS_GOOSE, .u.goose = &m };

	dis_outcome(dc, goose_parse(p, n, &m), &pdu, partial,
	    "malformed GOOSE frame");
}

static bool
goose_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	*srv_port = 0;
	return p->layer == PKT_L2 && p->ethertype == GOOSE_ETHERTYPE;
}

/* Publisher -> multicast: every frame is the publisher's report. */
const struct proto_desc goose_desc = {
	.id = ICS_GOOSE,
	.name = "goose",
	.transports = PROTO_L2,
	.ethertype = GOOSE_ETHERTYPE,
	.appid_key = true,
	.pick = goose_pick,
	.handle = goose_handle,
};
