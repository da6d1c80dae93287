/*
 * proto.h - what the rest of icsentry needs to know about an industrial
 * protocol, in one `const struct proto_desc` per protocol.
 *
 * Each dissectors/<proto>.c holds the protocol's parser and its
 * descriptor; dissectors/registry.h lists the descriptors.  The stream
 * layer (dissect.c) only walks that list: it asks each descriptor whether
 * a flow is its protocol, cuts frames with it and lets it parse them.
 * The detectors and the baseline read the descriptor for the facts that
 * are the protocol's own (which requests write, names of function codes,
 * how write addresses are grouped), so adding a protocol edits no
 * existing switch.
 */
#ifndef ICSENTRY_DISSECTORS_PROTO_H
#define ICSENTRY_DISSECTORS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/registry.h"

struct cJSON;
struct flow;
struct pkt;
struct modbus_pdu;
struct dnp3_pdu;
struct s7_pdu;
struct iec104_apdu;
struct enip_pdu;
struct bacnet_pdu;
struct opcua_pdu;
struct fins_pdu;
struct goose_pdu;
struct sv_pdu;
struct pndcp_pdu;
struct lldp_pdu;
struct mms_pdu;
struct mqtt_pdu;

/* "modbus", "dnp3", "s7comm", ... ; "" for ICS_NONE or out of range */
const char *ics_proto_name(enum ics_proto p);

/*
 * The flow key part of a layer-2 frame: *appid receives the APPID when a
 * PROTO_L2 descriptor with appid_key claims the EtherType (else 0).
 * Returns that descriptor or NULL.
 */
const struct proto_desc *proto_l2_of(uint16_t ethertype, const uint8_t *p,
    size_t n, uint16_t *appid);

/* An application PDU decoded by a dissector, with where it travelled. */
struct det_pdu {
	enum ics_proto		 proto;
	const struct flow	*flow;
	bool			 from_client;	/* client -> server (a request) */
	bool			 sender_is_cli;	/* sent by flow->cli (else flow->srv) */
	uint64_t		 ts;
	union {
		const void		*any;	/* a protocol's own struct */
		const struct modbus_pdu	*modbus;
		const struct dnp3_pdu	*dnp3;
		const struct s7_pdu	*s7;
		const struct iec104_apdu	*iec104;
		const struct enip_pdu	*enip;
		const struct bacnet_pdu	*bacnet;
		const struct opcua_pdu	*opcua;
		const struct fins_pdu	*fins;
		const struct goose_pdu	*goose;
		const struct sv_pdu	*sv;
		const struct pndcp_pdu	*pndcp;
		const struct lldp_pdu	*lldp;
		const struct mms_pdu	*mms;
		const struct mqtt_pdu	*mqtt;
	} u;
};

/* A PDU a dissector could not parse (bad length, bad CRC...). */
struct det_malformed {
	enum ics_proto		 proto;
	const struct flow	*flow;
	bool			 from_client;
	bool			 sender_is_cli;
	uint64_t		 ts;
	const char		*what;		/* "bad MBAP length", "bad DNP3 CRC" */
};

/*
 * Where the bytes a descriptor's handle() parses came from, and where its
 * outcome goes (the stream layer fills both).
 */
struct dis_ctx {
	struct flow		*flow;
	bool			 from_client;	/* request direction (by port) */
	bool			 sender_is_cli;	/* packet sent by flow->cli */
	uint64_t		 ts;
	uint32_t		*pstate;	/* per-flow word for the protocol */
	void			 (*pdu)(struct dis_ctx *dc, struct det_pdu *pdu);
	void			 (*malformed)(struct dis_ctx *dc,
				    enum ics_proto proto, const char *what);
	void			*arg;		/* the stream layer's own */
};

/* Report a parsed PDU (pdu->proto and pdu->u set) or a malformed one. */
static inline void
dis_emit_pdu(struct dis_ctx *dc, struct det_pdu *pdu)
{
	dc->pdu(dc, pdu);
}

static inline void
dis_emit_malformed(struct dis_ctx *dc, enum ics_proto proto, const char *what)
{
	dc->malformed(dc, proto, what);
}

/*
 * One parse outcome: 0 hands the decoded PDU to the detectors; anything
 * else is a malformed PDU, unless only the head of a PDU larger than the
 * reassembly cap was there to parse (partial).
 */
static inline void
dis_outcome(struct dis_ctx *dc, int rc, struct det_pdu *pdu, bool partial,
    const char *what)
{
	if (rc == 0)
		dc->pdu(dc, pdu);
	else if (!partial)
		dc->malformed(dc, pdu->proto, what);
}

/* ---- what a request does: codes, operations, write ranges ------------ */

/* Operation classes of a request code (proto_desc.code_ops). */
#define PROTO_OP_WRITE		0x01u	/* writes process data or settings */
#define PROTO_OP_DISCOVERY	0x02u	/* identifies devices or browses */
#define PROTO_OP_COMMAND	0x04u	/* operates, changes mode, restarts */
#define PROTO_OP_DANGEROUS	0x08u	/* stops, reprograms, erases */

/* Codes and ranges one request may carry (a CIP Multiple Service...). */
#define PROTO_MAX_OPS		8

/* A range of addresses in one address space (unit + table, DB...). */
struct proto_range {
	uint32_t	space;		/* protocol specific, see addr below */
	uint32_t	lo, hi;		/* inclusive */
};

/*
 * What a request asks for: its function codes in the protocol's own code
 * space (docs/baseline.md lists them) and the address ranges it writes.
 */
struct proto_req {
	uint8_t			nops, nrg;
	uint16_t		code[PROTO_MAX_OPS];
	struct proto_range	rg[PROTO_MAX_OPS];
};

/* Add a code to a request, once. */
static inline void
proto_req_code(struct proto_req *r, uint16_t c)
{
	uint8_t i;

	for (i = 0; i < r->nops; i++)
		if (r->code[i] == c)
			return;
	if (r->nops < PROTO_MAX_OPS)
		r->code[r->nops++] = c;
}

/* Add a write range of n addresses from lo (n == 0: just lo). */
static inline void
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

/*
 * How a protocol's write ranges read: `space` as JSON members in the
 * baseline file and as words in alert text.
 */
struct proto_addr_model {
	/* add the members naming r->space to o ("unit", "table") */
	void		 (*space_json)(uint32_t space, struct cJSON *o);
	/*
	 * Read them back from o.  0, or -1 with the problem in err (the
	 * caller adds file and position).
	 */
	int		 (*space_parse)(const struct cJSON *o, uint32_t *space,
			    char *err, size_t errlen);
	/* "unit 1 holding registers 100-109" */
	void		 (*range_text)(const struct proto_range *r, char *buf,
			    size_t len);
};

/* ---- the descriptor ---------------------------------------------------- */

#define PROTO_TCP	0x1u
#define PROTO_UDP	0x2u
/*
 * A layer-2 protocol (no IP): its frames carry `ethertype` and form flows
 * keyed by MAC pair + EtherType (+ APPID when appid_key: the first two
 * payload octets, as GOOSE and SV carry it).  See flow.h.
 */
#define PROTO_L2	0x4u

struct proto_desc {
	enum ics_proto	 id;
	const char	*name;		/* "modbus": alerts, stats, files */
	unsigned	 transports;	/* PROTO_TCP | PROTO_UDP | PROTO_L2 */
	uint16_t	 ethertype;	/* PROTO_L2: its EtherType */
	bool		 appid_key;	/* PROTO_L2: payload opens with an APPID */
	uint16_t	 ports[4];	/* well-known server ports, 0-ended */
	/* [policy] key listing the hosts allowed to write; NULL: none */
	const char	*policy_key;

	/*
	 * Is flow f this protocol, judged on its first payload p?  By port
	 * or nDPI's label, always confirmed by the parser's own check of the
	 * bytes (nDPI 4.2 mislabels several).  *srv_port receives the
	 * server's well-known port (0 when recognised by content alone).
	 * NULL: never picked for a flow (a protocol another descriptor
	 * reports, e.g. S7comm-plus behind TPKT).
	 */
	bool		 (*pick)(const struct flow *f, const struct pkt *p,
			    uint16_t *srv_port);
	/* the parser's own quick check of a first payload, or NULL */
	bool		 (*probe)(const uint8_t *p, size_t n);

	/*
	 * Frame cutting: the length of the PDU starting at p (0, IDS_EAGAIN
	 * for more bytes, other negatives: not a PDU boundary).  NULL: one
	 * PDU per datagram.  On UDP it is used only when frame_udp is set.
	 */
	int		 (*frame_len)(const uint8_t *p, size_t n, size_t *len);
	bool		 frame_udp;
	const char	*bad_header;	/* malformed text when framing fails */
	/* parse p[0..n) and emit; partial: only the head of a larger PDU */
	void		 (*handle)(struct dis_ctx *dc, const uint8_t *p, size_t n,
			    bool partial);
	/*
	 * Segmentation above the frames (ISO 8073 COTP DT TPDUs without the
	 * end-of-TSDU mark).  segment: does frame p[0..n) carry a piece of
	 * a longer unit?  1 with *hdr = its header bytes before the user
	 * data and *last = the end mark; 0 when not (handled as is).  The
	 * stream layer joins the pieces (the first frame's header, then
	 * every piece's user data, within max_reasm and the budget) and
	 * seal() rewrites that header for the whole (length, end mark;
	 * -1: too long for the header).  NULL: no such layer.
	 */
	int		 (*segment)(const uint8_t *p, size_t n, size_t *hdr,
			    bool *last);
	int		 (*seal)(uint8_t *p, size_t n);

	/*
	 * Requests: the codes and write ranges of a request PDU, what each
	 * code does (PROTO_OP_*), and its name ("Write Single Coil"; buf for
	 * names built on the fly).  NULL where the protocol has none.
	 */
	void		 (*analyse)(const struct det_pdu *pdu, struct proto_req *r);
	unsigned	 (*code_ops)(uint16_t code);
	const char	*(*code_name)(uint16_t code, char *buf, size_t len);
	/* write ranges (the baseline's address model); NULL: generic "space" */
	const struct proto_addr_model	*addr;
	/*
	 * The point a read request names (a tag or attribute path, an
	 * object and property, a memory address, an information object),
	 * hashed into *key: what points.read_sweep counts.  false when pdu
	 * is no such read.  NULL: none (Modbus has modbus.address_scan).
	 */
	bool		 (*read_target)(const struct det_pdu *pdu, uint32_t *key);
};

/* FNV-1a over n bytes, from h (2166136261u to start) */
static inline uint32_t
proto_hash(uint32_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#endif
