/*
 * fuzz_mms.c - libFuzzer target for the MMS parser (ISO 9506 over RFC
 * 1006 TPKT, X.224 COTP, X.225 session, X.226 presentation, X.227 ACSE).
 *
 * Runs mms_probe() and mms_parse() over the input and walks it as a TCP
 * stream of TPKT frames.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/mms.h"
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
	struct mms_pdu m;
	int rc;

	rc = mms_parse(p, n, &m);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (m.frame_len > n || m.frame_len < MMS_TPKT_MIN_LEN ||
	    (m.pdu > MMS_PDU_CONCLUDE_ERR && m.pdu != MMS_PDU_NONE) ||
	    m.service > 255)
		__builtin_trap();
	inside(p, n, m.domain, m.domain_len);
	inside(p, n, m.name, m.name_len);
	(void)mms_service_name(m.service);
	(void)mms_unconfirmed_name(m.service);
	(void)mms_pdu_name(m.pdu);
	(void)mms_service_class(m.service);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;

	(void)mms_probe(data, size);
	check(data, size);
	while (off < size) {
		if (mms_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		check(data + off, len);
		off += len;
	}
	return 0;
}
