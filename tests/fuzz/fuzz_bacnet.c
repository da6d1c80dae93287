/*
 * fuzz_bacnet.c - libFuzzer target for the BACnet/IP parser (ASHRAE 135 Annex J).
 *
 * BACnet/IP is one message per UDP datagram: the input is probed and
 * parsed whole.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/bacnet.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bacnet_pdu b;
	int rc;

	(void)bacnet_probe(data, size);
	rc = bacnet_parse(data, size, &b);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return 0;
	}
	if (b.bvlc_len > size || b.trailing != size - b.bvlc_len ||
	    b.bvlc_len < BACNET_BVLC_HDR_LEN)
		__builtin_trap();
	inside(data, size, b.service_data, b.service_len);
	inside(data, size, b.dadr, b.dlen);
	inside(data, size, b.sadr, b.slen);
	(void)bacnet_service_name(b.apdu_type, b.service);
	(void)bacnet_apdu_type_name(b.apdu_type);
	(void)bacnet_bvlc_func_name(b.bvlc_func);
	return 0;
}
