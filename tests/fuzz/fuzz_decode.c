/* fuzz_decode.c - libFuzzer target for the link/IP/transport decoder. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = { DLT_EN10MB, 113 /* SLL */, 276 /* SLL2 */,
	    DLT_RAW, DLT_NULL, DLT_LOOP, 228 /* IPv4 */, 229 /* IPv6 */ };
	enum dec_why why;
	struct pkt p;
	uint8_t *copy;
	size_t i;

	if (size < 1)
		return 0;
	/* first byte picks the link type; an exact-size copy for ASan */
	i = data[0] % (sizeof(dlts) / sizeof(dlts[0]));
	copy = malloc(size - 1 ? size - 1 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (decode_packet(dlts[i], copy, (uint32_t)(size - 1),
	    (uint32_t)(size - 1), 0, &p, &why) == 0 && p.payload_len > 0) {
		/* the payload must lie inside the frame */
		if (p.payload < copy || p.payload + p.payload_len > copy + size - 1)
			abort();
		(void)p.payload[p.payload_len - 1];
	}
	(void)decode_why_name(why);
	free(copy);
	return 0;
}
