/*
 * flow.h - bidirectional flow table keyed on the 5-tuple plus VLAN.
 *
 * Lookups are O(1) (chained hash, power-of-two buckets sized for max_flows).
 * Each transport class keeps its flows on an LRU list ordered by last
 * activity, so expiring idle flows and evicting the oldest-idle flow when
 * the table is full only ever look at list heads.
 */
#ifndef ICSENTRY_DISSECTORS_FLOW_H
#define ICSENTRY_DISSECTORS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt;

/* Direction of a packet within its flow. */
#define FLOW_C2S	0	/* from the side that sent the first packet */
#define FLOW_S2C	1

enum flow_end_reason {
	FLOW_END_IDLE,		/* idle timeout */
	FLOW_END_FIN,		/* TCP FIN both ways (or RST) */
	FLOW_END_EVICTED,	/* table full: oldest-idle flow pushed out */
	FLOW_END_FLUSH		/* end of capture / shutdown */
};

enum flow_class { FLOW_CLS_TCP, FLOW_CLS_UDP, FLOW_CLS_OTHER, FLOW_NCLS };

struct flow_endpoint {
	uint8_t		ip[16];
	uint16_t	port;
	uint8_t		mac[6];
	bool		has_mac;
};

struct flow {
	/* identity */
	uint64_t		 id;		/* 1, 2, ... in creation order */
	uint8_t			 af;		/* 4 or 6 */
	uint8_t			 transport;	/* IP protocol number */
	uint16_t		 vlan;
	struct flow_endpoint	 cli, srv;	/* cli sent the first packet */

	/* counters, [FLOW_C2S] and [FLOW_S2C] */
	uint64_t		 first_ts, last_ts;
	uint64_t		 pkts[2], bytes[2];
	uint8_t			 tcp_flags[2];	/* union of flags seen each way */
	/* recent rate each way: packets in this and the previous second */
	uint32_t		 rate_sec[2];	/* capture second of rate_cur */
	uint32_t		 rate_cur[2], rate_prev[2];
	bool			 fin[2];
	bool			 rst;
	bool			 ended;		/* reported finished (FIN/RST) */

	/* classification, filled by classify.c */
	uint16_t		 ndpi_master, ndpi_app;
	uint16_t		 ndpi_category;
	uint8_t			 cls_done;	/* nDPI answer is final */
	uint8_t			 ndpi_pkts;	/* packets given to nDPI */
	uint8_t			 ics;		/* enum ics_proto (classify.h) */
	uint8_t			 ics_tries;	/* payloads offered to the picker */
	uint8_t			 cleartext_creds; /* nDPI saw credentials in clear */
	uint8_t			 ics_valid;	/* a dissector parsed a PDU */
	struct ndpi_flow_struct	*ndpi;		/* freed once cls_done */

	/* per-flow state of the dissector layer (dissect.c), may be NULL */
	void			*dis;

	/* table plumbing */
	struct flow		*hnext;
	struct flow		*lru_prev, *lru_next;
	uint32_t		 hash;
	uint8_t			 cls;		/* enum flow_class */
};

struct flow_table_opts {
	size_t		max_flows;		/* hard cap */
	uint64_t	timeout_us[FLOW_NCLS];	/* idle timeout per class */
};

struct flow_stats {
	uint64_t	created;
	uint64_t	evicted;	/* pushed out by the cap */
	uint64_t	expired;	/* idle timeout */
	uint64_t	ended;		/* FIN/RST */
	uint64_t	active;
	uint64_t	max_active;
};

/* Called for every flow that leaves the table; the flow is freed after. */
typedef void (*flow_end_fn)(void *arg, struct flow *f, enum flow_end_reason why);

struct flow_table;

struct flow_table *flow_table_new(const struct flow_table_opts *o,
    flow_end_fn on_end, void *arg);
void flow_table_free(struct flow_table *t);	/* frees without callbacks */

/*
 * Find or create the flow of an IP packet with ports (or of any IP packet:
 * ports are 0 then).  *dir receives FLOW_C2S or FLOW_S2C, *created whether
 * the flow is new.  Counters and the LRU position are updated.  Returns
 * NULL only when memory is exhausted.  Creating a flow in a full table
 * first evicts the oldest-idle flow (reported with FLOW_END_EVICTED).
 */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int *dir,
    bool *created);

/* Like flow_lookup, but never creates: NULL when p has no flow. */
struct flow *flow_find(struct flow_table *t, const struct pkt *p, int *dir);

/* Report and remove flows idle longer than their timeout at time now. */
void flow_expire(struct flow_table *t, uint64_t now);

/* Report (FLOW_END_FLUSH) and remove every flow. */
void flow_flush(struct flow_table *t);

/* Remove one flow now (after FIN/RST), reporting it with why. */
void flow_remove(struct flow_table *t, struct flow *f, enum flow_end_reason why);

const struct flow_stats *flow_table_stats(const struct flow_table *t);

/* Packets per second in direction dir lately (max of the last two seconds). */
uint32_t flow_recent_rate(const struct flow *f, int dir, uint64_t now);

/* "idle", "fin", "evicted", "flush" */
const char *flow_end_name(enum flow_end_reason why);

#endif
