/*
 * dissect.h - the generic stream layer: choose a flow's industrial
 * protocol from the descriptors of registry.h, reassemble its TCP byte
 * stream enough to cut whole PDUs, let the descriptor parse them and hand
 * each decoded PDU (or a malformed one) to a sink (the detector engine).
 */
#ifndef ICSENTRY_DISSECTORS_DISSECT_H
#define ICSENTRY_DISSECTORS_DISSECT_H

#include <stddef.h>
#include <stdint.h>

#include "dissectors/proto.h"

struct flow;
struct pkt;

struct dissect_stats {
	uint64_t	pdus[ICS_NPROTO];	/* parsed PDUs per protocol */
	uint64_t	malformed[ICS_NPROTO];	/* rejected by the parser */
	uint64_t	gaps;		/* TCP sequence gaps (lost segments) */
	uint64_t	oversize;	/* PDUs larger than max_reasm, skipped */
	uint64_t	resyncs;	/* stream resynchronised after garbage */
};

struct dissector;

/* Where parsed and malformed PDUs go. */
struct dissect_sink {
	void	(*pdu)(void *arg, const struct det_pdu *pdu);
	void	(*malformed)(void *arg, const struct det_malformed *m);
	void	 *arg;
};

/* max_reasm: bytes buffered per flow direction for a split PDU. */
struct dissector *dissect_new(size_t max_reasm, const struct dissect_sink *s);
void dissect_free(struct dissector *d);

/* Hand PDUs to another sink from now on (configuration reload). */
void dissect_set_sink(struct dissector *d, const struct dissect_sink *s);

/* One packet of flow f (after classification has seen it). */
void dissect_packet(struct dissector *d, struct flow *f, const struct pkt *p,
    int dir);

/* Free a flow's dissector state. */
void dissect_flow_end(struct dissector *d, struct flow *f);

const struct dissect_stats *dissect_stats(const struct dissector *d);

#endif
