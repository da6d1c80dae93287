/*
 * proto.c - protocol names, from the descriptors.
 */
#include "dissectors/proto.h"

#include "lib/rd.h"

const char *
ics_proto_name(enum ics_proto p)
{
	const struct proto_desc *d = proto_desc_of(p);

	return d != NULL ? d->name : "";
}

const struct proto_desc *
proto_l2_of(uint16_t ethertype, const uint8_t *p, size_t n, uint16_t *appid)
{
	const struct proto_desc *const *dp;

	*appid = 0;
	for (dp = proto_registry; *dp != NULL; dp++) {
		if (!((*dp)->transports & PROTO_L2) ||
		    (*dp)->ethertype != ethertype)
			continue;
		/* APPID: the first two octets (61850-8-1 A.3, 9-2 8.4) */
		if ((*dp)->appid_key) {
			struct rd r;

			rd_init(&r, p, n);
			*appid = rd_be16(&r);
		}
		return *dp;
	}
	return NULL;
}
