/*
 * fuzz_dnp3.c - libFuzzer target for the DNP3 parser (IEEE 1815).
 *
 * Runs dnp3_probe(), dnp3_parse() and dnp3_frame_len() over the input and
 * walks it as a stream of link frames (TCP, or a UDP datagram holding
 * several frames).  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/dnp3.h"
#include "lib/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count_value(void *arg, const struct dnp3_value *v)
{
	(void)arg;
	if (v->kind > DNP3_VAL_TIME)
		__builtin_trap();
}

static void
check(const uint8_t *data, size_t size)
{
	struct dnp3_pdu d;
	uint8_t i;
	int rc;

	rc = dnp3_parse(data, size, &d);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		if (d.bad_crc && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (d.frame_len > size || d.frame_len > DNP3_FRAME_MAX ||
	    d.user_len > DNP3_USER_MAX || d.bad_crc ||
	    d.nobj > DNP3_MAX_OBJ_HEADERS || d.objects_off > d.user_len)
		__builtin_trap();
	if (d.user_len + DNP3_LEN_MIN != d.length)
		__builtin_trap();
	for (i = 0; i < d.nobj; i++)
		if (d.obj[i].offset >= d.user_len)
			__builtin_trap();
	(void)dnp3_fc_name(d.app_fc);
	(void)dnp3_link_fc_name(d.prm, d.link_fc);
	/* the point values the envelopes read: never more than fit */
	if (dnp3_values(&d, count_value, NULL) > d.user_len)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;

	(void)dnp3_probe(data, size);
	(void)dnp3_crc(data, size);
	check(data, size);
	while (off < size) {
		if (dnp3_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		if (len < DNP3_LINK_HDR_LEN || len > DNP3_FRAME_MAX)
			__builtin_trap();
		check(data + off, len);
		off += len;
	}
	return 0;
}
