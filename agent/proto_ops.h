/*
 * proto_ops.h - the glue between the stream layer (dissect.c) and each
 * protocol's pure parser (detectors/<proto>_parse.c): how to frame a PDU,
 * how to parse one and report it, and which flows get which dissector.
 */
#ifndef ICSENTRY_AGENT_PROTO_OPS_H
#define ICSENTRY_AGENT_PROTO_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"

struct dissector;
struct flow;
struct pkt;
struct det_pdu;

/* Where the PDU being handled came from. */
struct dis_ctx {
	struct dissector	*d;
	struct flow		*flow;
	bool			 from_client;	/* request direction (by port) */
	bool			 sender_is_cli;	/* packet sent by flow->cli */
	uint64_t		 ts;
	uint32_t		*pstate;	/* per-flow word for the adapter */
};

struct proto_ops {
	enum ics_proto	 proto;
	const char	*bad_header;	/* malformed text when framing fails */
	/* NULL: one PDU per datagram */
	int		(*frame_len)(const uint8_t *p, size_t n, size_t *len);
	/* parse p[0..n) and emit; partial: only the head of a larger PDU */
	void		(*handle)(struct dis_ctx *dc, const uint8_t *p, size_t n,
			    bool partial);
};

/*
 * The dissector for a flow, judged on its first payload packet p: by the
 * protocol's port or nDPI's label, always confirmed by the parser's own
 * check of the bytes.  *srv_port receives the server's well-known port
 * (0 when recognised by content alone).  NULL: not an industrial flow.
 */
const struct proto_ops *proto_ops_pick(const struct flow *f,
    const struct pkt *p, uint16_t *srv_port);

/* Report a parsed PDU (fills flow, direction, time) or a malformed one. */
void dissect_emit_pdu(struct dis_ctx *dc, struct det_pdu *pdu);
void dissect_emit_malformed(struct dis_ctx *dc, enum ics_proto proto,
    const char *what);

#endif
