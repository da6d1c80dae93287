/*
 * dnp3_file.c - the file command object of a DNP3 file request (IEEE
 * 1815-2012 A.44, group 70 variation 3), carried by OPEN_FILE (0x19) and
 * DELETE_FILE (0x1B) with qualifier 0x5B (a one-octet count, each object
 * preceded by its two-octet size):
 *
 *   name offset (2) | name size (2) | time of creation (6) | permissions
 *   (2) | authentication key (4) | file size (4) | operational mode (2:
 *   0 null, 1 read, 2 write, 3 append) | maximum block size (2) | request
 *   id (2) | file name (name size octets at name offset)
 *
 * Pure function over the parsed fragment (user[] of struct dnp3_pdu).
 */
#include "dissectors/dnp3.h"

#include <string.h>

#include "lib/rd.h"

#define G70V3_FIXED 26 /* octets before the name */

bool
dnp3_file_command(const struct dnp3_pdu *m, struct dnp3_file_cmd *out)
{
	const struct dnp3_obj_header *h;
	uint16_t size, noff, nlen;
	size_t at;
	struct rd r;
	uint8_t i;

	if (m == NULL || out == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->nobj; i++) {
		h = &m->obj[i];
		if (h->group == 70 && h->variation == 3 &&
		    h->prefix_code == 5 && h->range_code == 0xB &&
		    h->has_count && h->count > 0)
			break;
	}
	if (i == m->nobj)
		return false;
	/* group, variation, qualifier, one-octet count */
	at = h->offset + 4;
	if (at >= m->user_len)
		return false;
	rd_init(&r, m->user + at, m->user_len - at);
	size = rd_le16(&r);
	if (r.err || size < G70V3_FIXED || size > rd_left(&r))
		return false;
	rd_init(&r, m->user + at + 2, size);
	noff = rd_le16(&r);
	nlen = rd_le16(&r);
	rd_skip(&r, 6 + 2 + 4);
	out->file_size = rd_le32(&r);
	out->mode = rd_le16(&r);
	if (r.err)
		return false;
	if (noff >= G70V3_FIXED && nlen > 0 && (size_t)noff + nlen <= size) {
		out->name = m->user + at + 2 + noff;
		out->name_len = nlen;
	}
	return true;
}
