/*
 * fuzz_s7comm.c - libFuzzer target for the TPKT/COTP/S7comm parser (RFC 1006, ISO 8073).
 *
 * Runs s7_frame_len() and s7_parse() over the input and walks it as a
 * stream of TPKT frames.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/ids.h"
#include "dissectors/s7comm.h"

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
check(const uint8_t *data, size_t size)
{
	struct s7_pdu s;
	int rc;

	rc = s7_parse(data, size, &s);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (s.frame_len > size || s.frame_len < S7_TPKT_LEN_MIN ||
	    s.s7.nitems > S7_MAX_ITEMS)
		__builtin_trap();
	inside(data, size, s.user, s.user_len);
	inside(data, size, s.cotp.src_tsap, s.cotp.src_tsap_len);
	inside(data, size, s.cotp.dst_tsap, s.cotp.dst_tsap_len);
	inside(data, size, s.s7.param, s.s7.param_len);
	inside(data, size, s.s7.data, s.s7.data_len);
	inside(data, size, s.s7.pi_service, s.s7.pi_service_len);
	inside(data, size, s.s7.pi_param, s.s7.pi_param_len);
	inside(data, size, s.s7.block_name, s.s7.block_name_len);
	inside(data, size, s.s7.ud_data, s.s7.ud_data_len);
	inside(data, size, s.s7.szl_records, s.s7.szl_records_len);
	(void)s7_func_name(s.s7.func);
	(void)s7_rosctr_name(s.s7.rosctr);
	(void)s7_cotp_type_name(s.cotp.type);
	(void)s7_plus_func_name(s.plus.function);
	(void)s7_iso_spdu_name(s.proto_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;

	check(data, size);
	while (off < size) {
		if (s7_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		if (len < S7_TPKT_LEN_MIN)
			__builtin_trap();
		check(data + off, len);
		off += len;
	}
	return 0;
}
