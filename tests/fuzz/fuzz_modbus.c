/*
 * fuzz_modbus.c - libFuzzer target for the Modbus/TCP parser (Modbus Application Protocol v1.1b3).
 *
 * Feeds the input to modbus_frame_len() and modbus_parse() in both
 * directions, then walks it as a TCP stream of back-to-back ADUs the way
 * the agent's reassembly does.  Invariants that must hold for any input
 * trap, so a broken one shows up as a crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/ids.h"
#include "dissectors/modbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pointer the parser returned must lie inside the input. */
static void
inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	if (p < data || n > size || (size_t)(p - data) > size - n)
		__builtin_trap();
}

static void
check(const uint8_t *data, size_t size, enum modbus_dir dir)
{
	struct modbus_pdu m;
	uint8_t i;
	int rc;

	rc = modbus_parse(data, size, dir, &m);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (m.adu_len > size || m.length < MODBUS_MBAP_LEN_MIN ||
	    m.length > MODBUS_MBAP_LEN_LIMIT || m.fc > 0x7F)
		__builtin_trap();
	inside(data, size, m.data, m.data_len);
	inside(data, size, m.values, m.values_len);
	inside(data, size, m.diag_data, m.diag_len);
	if (m.devid.nobjects > MODBUS_DEVID_MAX_OBJECTS)
		__builtin_trap();
	for (i = 0; i < m.devid.nobjects; i++)
		inside(data, size, m.devid.objects[i].value,
		    m.devid.objects[i].len);
	(void)modbus_fc_name(m.fc);
	(void)modbus_fc_is_write(m.fc);
	(void)modbus_umas_name(m.umas_func);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;
	int rc;

	check(data, size, MODBUS_REQUEST);
	check(data, size, MODBUS_RESPONSE);
	while (off < size) {
		rc = modbus_frame_len(data + off, size - off, &len);
		if (rc != 0 || len > size - off)
			break;
		if (len < 8)
			__builtin_trap();	/* 6 + minimum length 2 */
		check(data + off, len, MODBUS_REQUEST);
		check(data + off, len, MODBUS_RESPONSE);
		off += len;
	}
	return 0;
}
