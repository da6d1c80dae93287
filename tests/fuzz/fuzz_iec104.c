/*
 * fuzz_iec104.c - libFuzzer target for the IEC 60870-5-104 parser.
 *
 * Runs iec104_frame_len() and iec104_parse() over the input and walks it
 * as a stream of APDUs.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/iec104.h"
#include "lib/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count_value(void *arg, const struct iec104_value *v)
{
	(void)arg;
	if (v->kind > IEC104_VAL_COUNTER)
		__builtin_trap();
}

static void
check(const uint8_t *data, size_t size)
{
	struct iec104_apdu a;
	int rc;

	rc = iec104_parse(data, size, &a);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (a.frame_len > size || a.length < IEC104_LEN_MIN ||
	    a.length > IEC104_LEN_MAX || a.frame_len != 2u + a.length)
		__builtin_trap();
	if (a.has_asdu && (a.objects == NULL ? a.objects_len != 0 :
	    a.objects < data || a.objects_len > size ||
	    (size_t)(a.objects - data) > size - a.objects_len))
		__builtin_trap();
	(void)iec104_type_name(a.type_id);
	(void)iec104_u_name(a.u_func);
	(void)iec104_cot_name(a.cot);
	(void)iec104_type_is_command(a.type_id);
	(void)iec104_type_is_system_command(a.type_id);
	if (iec104_values(&a, count_value, NULL) > a.num_objects)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;

	check(data, size);
	while (off < size) {
		if (iec104_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		check(data + off, len);
		off += len;
	}
	return 0;
}
