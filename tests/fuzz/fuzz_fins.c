/* fuzz_fins.c - libFuzzer target for the Omron FINS parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/fins.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fins_pdu m;
	size_t len;
	uint8_t *copy;

	/* exact-size copy: ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	(void)fins_probe(copy, size);
	if (fins_frame_len(copy, size, &len) == 0 && len <= size)
		(void)fins_parse(copy, len, true, &m);
	(void)fins_parse(copy, size, false, &m);
	(void)fins_parse(copy, size, true, &m);
	(void)fins_cmd_name(m.cmd);
	free(copy);
	return 0;
}
