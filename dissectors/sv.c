/*
 * sv.c - IEC 61850-9-2 Sampled Values parser (8.5).
 */
#include "dissectors/sv.h"

#include <string.h>

#include "dissectors/ber.h"
#include "dissectors/decode.h"
#include "dissectors/proto.h"
#include "lib/ids.h"
#include "lib/rd.h"

/* VisibleString129 (9-2 8.5.2: svID, datSet). */
#define SV_STR_MAX	129

/* A fixed-width unsigned field (smpCnt 2, confRev 4, smpSynch 1...). */
static int
fixed_uint(const struct ber_tlv *t, size_t maxlen, uint32_t *v)
{
	struct rd c = t->val;
	size_t i;

	if (t->constructed || t->len == 0 || t->len > maxlen)
		return IDS_EMALFORMED;
	for (*v = 0, i = 0; i < t->len; i++)
		*v = *v << 8 | rd_u8(&c);
	return 0;
}

static int
asdu_parse(struct rd *c, struct sv_asdu *a)
{
	enum { NEED = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 7 };
	struct ber_tlv t;
	unsigned seen = 0;
	uint32_t v;

	while (rd_left(c) > 0) {
		if (ber_next(c, &t) != 0)
			return IDS_EMALFORMED;
		if (t.cls != BER_CLASS_CONTEXT || t.tag > 9)
			continue;
		if (seen & 1u << t.tag)
			return IDS_EMALFORMED;
		seen |= 1u << t.tag;
		switch (t.tag) {
		case 0:
		case 1:
			if (t.constructed || t.len > SV_STR_MAX)
				return IDS_EMALFORMED;
			if (t.tag == 0) {
				a->sv_id = ber_ptr(&t);
				a->sv_id_len = t.len;
			} else {
				a->dat_set = ber_ptr(&t);
				a->dat_set_len = t.len;
			}
			break;
		case 2:
			if (fixed_uint(&t, 2, &v) != 0)
				return IDS_EMALFORMED;
			a->smp_cnt = (uint16_t)v;
			break;
		case 3:
			if (fixed_uint(&t, 4, &a->conf_rev) != 0)
				return IDS_EMALFORMED;
			break;
		case 5:
			if (fixed_uint(&t, 1, &v) != 0)
				return IDS_EMALFORMED;
			a->smp_synch = (uint8_t)v;
			break;
		case 6:
			if (fixed_uint(&t, 2, &v) != 0)
				return IDS_EMALFORMED;
			a->has_smp_rate = true;
			a->smp_rate = (uint16_t)v;
			break;
		case 7:
			if (t.constructed)
				return IDS_EMALFORMED;
			a->data_len = t.len;
			break;
		}
	}
	return (seen & NEED) == NEED ? 0 : IDS_EMALFORMED;
}

static int
seq_asdu(struct rd *c, struct sv_pdu *out)
{
	struct sv_asdu scratch;
	struct ber_tlv t;
	int rc;

	while (rd_left(c) > 0) {
		if (ber_next(c, &t) != 0 || t.id != 0x30)
			return IDS_EMALFORMED;
		if (out->n_asdu == UINT16_MAX)
			return IDS_EMALFORMED;
		/* ASDUs beyond SV_MAX_ASDU are still checked, not kept */
		memset(&scratch, 0, sizeof(scratch));
		rc = asdu_parse(&t.val, out->n_asdu < SV_MAX_ASDU ?
		    &out->asdu[out->n_asdu] : &scratch);
		if (rc != 0)
			return rc;
		out->n_asdu++;
	}
	return 0;
}

int
sv_parse(const uint8_t *p, size_t n, struct sv_pdu *out)
{
	struct ber_tlv pdu, t;
	bool have_no = false, have_seq = false;
	uint32_t v;
	struct rd r;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	if ((rc = goose_hdr(p, n, &out->hdr)) != 0)
		return rc;
	out->frame_len = out->hdr.length;
	rd_init(&r, p + IEC61850_HDR_LEN, out->hdr.length - IEC61850_HDR_LEN);
	if (ber_next(&r, &pdu) != 0 || pdu.id != 0x60 || rd_left(&r) != 0)
		return IDS_EMALFORMED;
	while (rd_left(&pdu.val) > 0) {
		if (ber_next(&pdu.val, &t) != 0)
			return IDS_EMALFORMED;
		if (t.id == 0x80 && !have_no) {
			if (fixed_uint(&t, 2, &v) != 0 || v == 0)
				return IDS_EMALFORMED;
			out->no_asdu = (uint16_t)v;
			have_no = true;
		} else if (t.id == 0xA2 && !have_seq) {
			if ((rc = seq_asdu(&t.val, out)) != 0)
				return rc;
			have_seq = true;
		} else if (t.id != 0x81)
			return IDS_EMALFORMED;
	}
	if (!have_no || !have_seq || out->n_asdu != out->no_asdu)
		return IDS_EMALFORMED;
	return 0;
}

/* ---- descriptor ------------------------------------------------------- */

static void
sv_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct sv_pdu m;
	struct det_pdu pdu = { .proto = ICS_SV, .u.sv = &m };

	dis_outcome(dc, sv_parse(p, n, &m), &pdu, partial,
	    "malformed Sampled Values frame");
}

static bool
sv_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	*srv_port = 0;
	return p->layer == PKT_L2 && p->ethertype == SV_ETHERTYPE;
}

const struct proto_desc sv_desc = {
	.id = ICS_SV,
	.name = "iec61850-sv",
	.transports = PROTO_L2,
	.ethertype = SV_ETHERTYPE,
	.appid_key = true,
	.pick = sv_pick,
	.handle = sv_handle,
};
