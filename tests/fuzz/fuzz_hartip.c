/* fuzz_hartip.c - libFuzzer target for the HART-IP header dissector. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/hartip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hartip_pdu m;
	size_t len;
	uint8_t *copy;

	/* exact-size copy: ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	(void)hartip_probe(copy, size);
	if (hartip_frame_len(copy, size, &len) == 0 && len <= size)
		(void)hartip_parse(copy, len, &m);
	if (hartip_parse(copy, size, &m) == 0)
		(void)hartip_msg_id_name(m.msg_id);
	free(copy);
	return 0;
}
