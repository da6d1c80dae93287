/*
 * fuzz_opcua.c - libFuzzer target for the OPC UA binary parser (IEC 62541-6).
 *
 * Runs opcua_probe(), opcua_frame_len() and opcua_parse() with every flag
 * combination over the input and walks it as a stream of messages.
 * Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/ids.h"
#include "dissectors/opcua.h"

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
check(const uint8_t *data, size_t size, unsigned flags)
{
	struct opcua_pdu o;
	int rc;

	rc = opcua_parse(data, size, flags, &o);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (o.frame_len > size || o.frame_len < OPCUA_HDR_LEN ||
	    o.frame_len > OPCUA_MSG_SIZE_MAX || o.type == OPCUA_MSG_NONE)
		__builtin_trap();
	inside(data, size, o.endpoint_url, o.endpoint_url_len);
	inside(data, size, o.server_uri, o.server_uri_len);
	inside(data, size, o.reason, o.reason_len);
	inside(data, size, o.policy_uri, o.policy_uri_len);
	inside(data, size, o.sender_cert, o.sender_cert_len);
	inside(data, size, o.body, o.body_len);
	(void)opcua_service_name(o.service_id);
	(void)opcua_msg_type_name(o.type);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;
	unsigned f;

	(void)opcua_probe(data, size);
	for (f = 0; f < 4; f++)
		check(data, size, f);
	while (off < size) {
		if (opcua_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		check(data + off, len, OPCUA_PARSE_PLAINTEXT);
		off += len;
	}
	return 0;
}
