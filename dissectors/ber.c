/*
 * ber.c - BER TLV reader (ITU-T X.690 8.1-8.3).
 */
#include "dissectors/ber.h"

#include "lib/ids.h"

int
ber_next(struct rd *r, struct ber_tlv *t)
{
	size_t start = rd_left(r), len, n, i;
	uint8_t b;

	t->id = rd_u8(r);
	t->cls = (uint8_t)(t->id >> 6);
	t->constructed = (t->id & 0x20) != 0;
	t->tag = t->id & 0x1Fu;
	if (t->tag == 0x1F) {
		/* High tag number form: base-128, at most four octets. */
		t->tag = 0;
		for (i = 0;; i++) {
			if (i == 4)
				goto malformed;
			b = rd_u8(r);
			if (r->err)
				return IDS_ETRUNC;
			t->tag = t->tag << 7 | (b & 0x7Fu);
			if ((b & 0x80) == 0)
				break;
		}
		if (t->tag > BER_TAG_MAX)
			goto malformed;
	}
	b = rd_u8(r);
	if (r->err)
		return IDS_ETRUNC;
	if (b < 0x80)
		len = b;
	else {
		n = b & 0x7Fu;
		/* 0x80 is the indefinite form; more than four octets would
		 * describe contents beyond any frame we accept. */
		if (n == 0 || n > 4)
			goto malformed;
		for (len = 0, i = 0; i < n; i++)
			len = len << 8 | rd_u8(r);
		if (r->err)
			return IDS_ETRUNC;
	}
	t->hdr_len = start - rd_left(r);
	t->len = len;
	if (!rd_sub(r, len, &t->val))
		return IDS_ETRUNC;
	return 0;
malformed:
	r->err = true;
	rd_init(&t->val, NULL, 0);
	return IDS_EMALFORMED;
}

int
ber_uint(const struct ber_tlv *t, uint64_t *v)
{
	struct rd c = t->val;
	size_t n = t->len;
	uint64_t x = 0;

	if (n == 0 || (rd_peek(&c, 0) & 0x80) != 0)
		return IDS_EMALFORMED;
	if (n == 9) {
		/* a leading zero octet keeps the top bit of 2^63.. positive */
		if (rd_u8(&c) != 0)
			return IDS_EMALFORMED;
		n--;
	}
	if (n > 8)
		return IDS_EMALFORMED;
	while (n-- > 0)
		x = x << 8 | rd_u8(&c);
	*v = x;
	return 0;
}

int
ber_int(const struct ber_tlv *t, int64_t *v)
{
	struct rd c = t->val;
	size_t n = t->len;
	uint64_t x;

	if (n == 0 || n > 8)
		return IDS_EMALFORMED;
	/* sign-extend from the first octet */
	x = (rd_peek(&c, 0) & 0x80) != 0 ? UINT64_MAX : 0;
	while (n-- > 0)
		x = x << 8 | rd_u8(&c);
	*v = (int64_t)x;
	return 0;
}

int
ber_bool(const struct ber_tlv *t, bool *v)
{
	if (t->len != 1)
		return IDS_EMALFORMED;
	*v = rd_peek(&t->val, 0) != 0;
	return 0;
}
