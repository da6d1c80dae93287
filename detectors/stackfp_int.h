/*
 * stackfp_int.h - the state of the stackfp detector (stackfp.c), shared
 * with the alerts it raises (stackfp_alert.c).  Not for other detectors.
 */
#ifndef ICSENTRY_STACKFP_INT_H
#define ICSENTRY_STACKFP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "detectors/detector.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"

#define EST_PKTS	20		/* packets before a fingerprint counts */
#define EST_US		10000000u	/* ... over at least 10 s */

struct host {
	uint8_t		used;
	uint8_t		af;
	uint8_t		l4;		/* 6 TCP, 17 UDP, 0 other */
	uint8_t		mac[6];
	uint8_t		ip[16];
	uint8_t		ttl;		/* first TTL seen */
	uint8_t		ttl_varies;	/* learned packets had other TTLs */
	uint8_t		has_syn, has_synack;
	uint16_t	syn_win, synack_win;
	uint32_t	syn_opt, synack_opt;
	uint32_t	n;
	uint64_t	first, last;
	/*
	 * IP-ID: a stack with one counter for all its packets (most embedded
	 * stacks, Windows) numbers them in order.  Series A is the host's
	 * own; a packet far off it starts series B.  A packet of A after one
	 * of B, while B is live, means two stacks send as this host.
	 */
	uint16_t	ida, idb;
	uint16_t	id_good, id_bad;	/* while learning the counter */
	uint16_t	id_maxd;		/* largest in-order step seen */
	uint8_t		b_live, b_alerted, b_kind;
	uint32_t	b_pkts;
	uint64_t	b_first, b_last, a_last;
	uint8_t		b_peer[16];		/* whom series B talked to */
	uint16_t	b_port;
};

/* Per TCP session: the last data segment each way, and flags. */
struct seg {
	uint32_t	seq;
	uint32_t	len;
	uint32_t	hash;		/* whole payload */
	uint32_t	head;		/* first 16 bytes */
};

struct sess {
	uint64_t	id;		/* flow id, 0 = free */
	struct seg	last[2];	/* by flow direction */
	/* per direction: the end of the data sent (next unsent byte) */
	uint32_t	nxt[2];
	uint64_t	data_ts[2];	/* last data segment, 0: none yet */
	uint64_t	behind_ts[2];	/* first bare ACK behind nxt */
	uint8_t		behind[2];	/* bare ACKs behind nxt, in a row */
	uint8_t		desync_alerted[2];
	uint8_t		linked;		/* its channel knows it (chan_link) */
	uint8_t		has_link;	/* DNP3 link addresses of its first data */
	uint16_t	link_m, link_o;	/* master, outstation */
	uint8_t		foreign[2];	/* a foreign stack sent in this direction */
	uint8_t		alerted[2];	/* ... and was reported */
	uint8_t		conflict_alerted[2];
	/* the sender's fingerprint each way, cached (hosts never move) */
	struct host	*h[2];
	char		why[2][40];
};

/* What the PDUs of the packet being processed were (on_pdu runs first). */
struct cur {
	const struct flow *f;
	uint64_t	ts;
	int		kind;		/* K_* */
	const char	*what;
	uint8_t		has_link;	/* a DNP3 PDU: its link addresses */
	uint16_t	link_m, link_o;
};

/* Two sessions of one channel with the same DNP3 link addresses. */
#define MAX_TWINS	16

struct twin {
	uint64_t	a, b;		/* flow ids: the live one, the new one */
	uint64_t	since;		/* the new one's first data */
	struct chan	*c;
};

enum { K_NONE, K_READ, K_COMMAND, K_REPORT };

/*
 * Per (client address, server address, server port) of an industrial
 * TCP service: the latest session that carried data, and the connection
 * attempts the server refused while it was live.
 */
struct chan {
	uint8_t		used;
	uint8_t		af;
	uint16_t	port;
	uint8_t		cli[16], srv[16];
	uint64_t	live;		/* flow id of the latest session */
	uint64_t	last;		/* last use */
	uint64_t	alerted;	/* flow id of the session reported */
	uint32_t	refused;	/* attempts refused while live ran */
	uint16_t	live_port;	/* its client port */
};

#define SESS_MEMO	64	/* power of two */

struct stackfp {
	struct host	*hosts;
	size_t		 hcap, hused;
	struct sess	*sess;
	size_t		 scap, sused;
	struct chan	*chan;
	size_t		 ccap, cused;
	uint64_t	 hosts_dropped, sessions_dropped, chans_dropped;
	uint64_t	 relearn_us, live_us, desync_us, twin_us;
	unsigned	 desync_acks, refusals;
	struct twin	 twins[MAX_TWINS];
	unsigned	 ntwins;
	uint64_t	 twins_dropped;
	uint64_t	 pending;	/* sessions ever marked foreign */
	struct cur	 cur;
	char		 why[40];	/* sfp_packet's mismatch text */
	/*
	 * Last session found per flow id (direct-mapped): a hit is checked
	 * against the slot's id, so a session moved or freed by sess_del
	 * just misses and is looked up again.
	 */
	struct sess	*memo[SESS_MEMO];
};

/* The well-known ports of the industrial protocols icsentry dissects. */
static inline bool
is_ics_port(uint16_t port)
{
	switch (port) {
	case 102: case 502: case 2404: case 20000: case 44818: case 47808:
	case 4840: case 9600: case 1911: case 789: case 18245: case 5094:
		return true;
	}
	return false;
}

/* stackfp_alert.c: the alerts, cold and out of the packet path */
#define SFP_COLD	__attribute__((cold))
SFP_COLD void	sfp_raise_foreign(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir,
		    struct sess *x, int kind, const char *fn);
SFP_COLD void	sfp_raise_interleave(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, struct host *h);
SFP_COLD void	sfp_raise_conflict(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir);
SFP_COLD void	sfp_raise_syn_payload(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir);
SFP_COLD void	sfp_raise_desync(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir,
		    struct sess *x);
SFP_COLD void	sfp_raise_takeover(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, struct chan *c);
SFP_COLD void	sfp_raise_datagram(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir,
		    const char *why);
SFP_COLD void	sfp_foreign_frame(struct stackfp *s, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir,
		    struct sess *x, bool here);
SFP_COLD void	sfp_raise_pending(struct stackfp *s, struct det_ctx *ctx,
		    const struct det_pdu *pdu, struct sess *x, int dir, int kind,
		    const char *what);
SFP_COLD void	sfp_raise_twin(struct stackfp *s, struct det_ctx *ctx,
		    const struct twin *t, const struct sess *a, uint64_t now);

#endif
