/*
 * fuzz_goose.c - libFuzzer target for the BER reader and the IEC 61850
 * GOOSE (61850-8-1 Annex A) and Sampled Values (61850-9-2) parsers.
 *
 * Seeds are a 2-byte EtherType followed by the frame after it (see
 * seed.py); both parsers see the bytes after those two and the whole
 * input.  A BER walk of the input checks ber_next() on its own.  Broken
 * invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/ber.h"
#include "dissectors/goose.h"
#include "dissectors/sv.h"
#include "lib/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	if (p < data || n > size || (size_t)(p - data) > size - n)
		__builtin_trap();
}

static void
expected(int rc)
{
	if (rc != 0 && rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
		__builtin_trap();
}

static void
check(const uint8_t *p, size_t n)
{
	struct goose_pdu g;
	struct sv_pdu s;
	unsigned i;
	int rc;

	rc = goose_parse(p, n, &g);
	expected(rc);
	if (rc == 0) {
		if (g.frame_len > n || g.frame_len < IEC61850_HDR_LEN ||
		    g.gocb_ref == NULL || g.gocb_ref_len > 129)
			__builtin_trap();
		inside(p, n, g.gocb_ref, g.gocb_ref_len);
		inside(p, n, g.dat_set, g.dat_set_len);
		inside(p, n, g.go_id, g.go_id_len);
		for (i = 0; i < g.n_values && i < GOOSE_MAX_VALUES; i++)
			(void)goose_data_type_name(g.values[i].type);
	}
	rc = sv_parse(p, n, &s);
	expected(rc);
	if (rc == 0) {
		if (s.frame_len > n || s.n_asdu == 0 || s.n_asdu != s.no_asdu)
			__builtin_trap();
		for (i = 0; i < s.n_asdu && i < SV_MAX_ASDU; i++) {
			inside(p, n, s.asdu[i].sv_id, s.asdu[i].sv_id_len);
			inside(p, n, s.asdu[i].dat_set, s.asdu[i].dat_set_len);
			if (s.asdu[i].data_len > n)
				__builtin_trap();
		}
	}
}

/* Walk the input as nested BER, checking every TLV lies inside. */
static void
walk(struct rd *r, const uint8_t *data, size_t size, unsigned depth)
{
	struct ber_tlv t;
	uint64_t u;
	int64_t v;
	bool b;

	while (rd_left(r) > 0) {
		if (ber_next(r, &t) != 0) {
			if (rd_left(r) != 0)
				__builtin_trap();	/* sticky error */
			return;
		}
		inside(data, size, ber_ptr(&t), t.len);
		(void)ber_uint(&t, &u);
		(void)ber_int(&t, &v);
		(void)ber_bool(&t, &b);
		if (t.constructed && depth < BER_DEPTH_MAX)
			walk(&t.val, data, size, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r;

	check(data, size);
	if (size >= 2)
		check(data + 2, size - 2);
	rd_init(&r, data, size);
	walk(&r, data, size, 0);
	return 0;
}
