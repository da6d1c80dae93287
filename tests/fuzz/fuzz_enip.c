/*
 * fuzz_enip.c - libFuzzer target for the EtherNet/IP + CIP parser (CIP Vol 2).
 *
 * Runs enip_probe(), enip_frame_len() and enip_parse() over the input and
 * walks it as a stream of encapsulation messages.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/enip.h"
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
check_path(const uint8_t *data, size_t size, const struct cip_path *pa)
{
	inside(data, size, pa->raw, pa->raw_len);
	inside(data, size, pa->symbol, pa->symbol_len);
}

static void
check(const uint8_t *data, size_t size)
{
	struct enip_pdu e;
	uint8_t i;
	int rc;

	rc = enip_parse(data, size, &e);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (e.frame_len > size || e.frame_len != ENIP_HDR_LEN + (size_t)e.length ||
	    e.cip.multi_kept > ENIP_MSP_MAX)
		__builtin_trap();
	inside(data, size, e.data, e.length);
	check_path(data, size, &e.cip.path);
	check_path(data, size, &e.cip.ucs_path);
	inside(data, size, e.cip.data, e.cip.data_len);
	inside(data, size, e.cip.route, e.cip.route_len);
	inside(data, size, e.cip.ext_status, (size_t)e.cip.ext_status_words * 2);
	inside(data, size, e.identity.product_name, e.identity.product_name_len);
	for (i = 0; i < e.cip.multi_kept; i++)
		check_path(data, size, &e.cip.multi_entries[i].path);
	(void)enip_cmd_name(e.command);
	(void)cip_service_name(e.cip.service);
	(void)cip_service_name_for_class(e.cip.service, e.cip.path.class_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;

	(void)enip_probe(data, size);
	check(data, size);
	while (off < size) {
		if (enip_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		if (len < ENIP_HDR_LEN)
			__builtin_trap();
		check(data + off, len);
		off += len;
	}
	return 0;
}
