/*
 * fuzz_pndcp.c - libFuzzer target for the PROFINET DCP (IEC 61158-6-10)
 * and LLDP (IEEE 802.1AB) parsers, the layer-2 discovery protocols.
 *
 * Seeds are a 2-byte EtherType followed by the frame after it (see
 * seed.py); both parsers see the bytes after those two and the whole
 * input.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/lldp.h"
#include "dissectors/pndcp.h"
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
check(const uint8_t *p, size_t n)
{
	struct pndcp_pdu d;
	struct lldp_pdu l;
	int rc;

	rc = pndcp_parse(p, n, &d);
	if (rc == 0) {
		if (!pndcp_is_dcp(d.frame_id) || d.frame_len > n ||
		    d.name_len > PNDCP_NAME_MAX)
			__builtin_trap();
		inside(p, n, d.name, d.name_len);
		inside(p, n, d.vendor, d.vendor_len);
		(void)pndcp_service_name(d.service);
		(void)pndcp_role_name(d.role);
	} else if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED &&
	    rc != IDS_ENOTSUP)
		__builtin_trap();
	rc = lldp_parse(p, n, &l);
	if (rc == 0) {
		if (l.frame_len > n || l.n_tlvs < 4 || l.chassis_id == NULL ||
		    l.mgmt_addr_len > sizeof(l.mgmt_addr))
			__builtin_trap();
		inside(p, n, l.chassis_id, l.chassis_id_len);
		inside(p, n, l.port_id, l.port_id_len);
		inside(p, n, l.sys_name, l.sys_name_len);
		inside(p, n, l.sys_desc, l.sys_desc_len);
		inside(p, n, l.port_desc, l.port_desc_len);
	} else if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	if (size >= 2)
		check(data + 2, size - 2);
	return 0;
}
