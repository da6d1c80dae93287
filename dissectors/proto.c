/*
 * proto.c - the helpers of proto.h shared by every descriptor.
 */
#include "dissectors/proto.h"

const char *
ics_proto_name(enum ics_proto p)
{
	const struct proto_desc *d = proto_desc_of(p);

	return d != NULL ? d->name : "";
}

void
proto_req_code(struct proto_req *r, uint16_t c)
{
	uint8_t i;

	for (i = 0; i < r->nops; i++)
		if (r->code[i] == c)
			return;
	if (r->nops < PROTO_MAX_OPS)
		r->code[r->nops++] = c;
}

void
proto_req_range(struct proto_req *r, uint32_t space, uint32_t lo, uint32_t n)
{
	struct proto_range *g;

	if (r->nrg == PROTO_MAX_OPS)
		return;
	g = &r->rg[r->nrg++];
	g->space = space;
	g->lo = lo;
	g->hi = n > 0 ? lo + n - 1 : lo;
}
