/*
 * proto.c - protocol names, from the descriptors.
 */
#include "dissectors/proto.h"

const char *
ics_proto_name(enum ics_proto p)
{
	const struct proto_desc *d = proto_desc_of(p);

	return d != NULL ? d->name : "";
}
