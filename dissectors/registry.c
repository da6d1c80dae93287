/*
 * registry.c - the descriptor list of registry.h, and lookups by id.
 */
#include "dissectors/registry.h"

#include <stddef.h>

const struct proto_desc *const proto_registry[] = {
#define ICS_X(id, desc)	&desc,
	ICS_PROTOCOLS(ICS_X)
#undef ICS_X
	NULL
};

/* By id: the list above has ids 1.. in order. */
_Static_assert(sizeof(proto_registry) / sizeof(proto_registry[0]) ==
    ICS_NPROTO, "one descriptor per protocol id");

const struct proto_desc *
proto_desc_of(enum ics_proto p)
{
	if (p == ICS_NONE || (unsigned)p >= ICS_NPROTO)
		return NULL;
	return proto_registry[p - 1];
}
