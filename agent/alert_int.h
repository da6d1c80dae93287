/*
 * alert_int.h - what alert.c (chain, sinks, aggregation) and alert_rec.c
 * (a detector's alert as its JSON record) share; private to the two.
 */
#ifndef ICSENTRY_AGENT_ALERT_INT_H
#define ICSENTRY_AGENT_ALERT_INT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detectors/detector.h"
#include "lib/chain.h"
#include "lib/htab.h"

#define MAX_SINKS	4
#define MAX_EV_SINKS	2
#define MAX_PENDING	32	/* alerts one packet may raise */

struct sink {
	alert_sink_fn	 fn;
	void		*arg;
};

struct ev_sink {
	alert_evidence_fn	 fn;
	void			*arg;
};

/*
 * One alert on its way: the record from ts on (everything but agent,
 * site, seq and the chain), its evidence pcap, and what aggregation and
 * correlation need.
 */
struct rec {
	cJSON			*core;
	enum det_severity	 severity;
	uint64_t		 ts;
	char			*agg;		/* aggregation key */
	bool			 baseline;	/* a baseline.* finding */
	struct det_endpoint	 src, dst;
	bool			 want_pcap;	/* evidence of pcap_flow */
	uint64_t		 pcap_flow;	/* 0: the lone frame */
	uint8_t			*pcap;		/* made when it is emitted */
	size_t			 pcap_len;
	unsigned		 pcap_pkts;
};

/* One aggregation group: detector + src ip + dst ip + agg_key. */
struct group {
	char			*key;
	uint64_t		 window_end;
	uint64_t		 first_ts, last_ts;	/* of the suppressed ones */
	uint64_t		 count;			/* suppressed so far */
	uint64_t		 first_seq;		/* the alert repeated */
	cJSON			*first;			/* its record (core) */
	enum det_severity	 severity;
};

struct alerter {
	char			*agent, *site, *state_file;
	uint64_t		 window_us;
	size_t			 max_groups;
	uint64_t		 seq;		/* last seq used */
	char			 prev[CHAIN_HEX_LEN + 1];
	struct sink		 sinks[MAX_SINKS];
	int			 nsinks;
	struct htab		 groups;	/* struct group, by key */
	struct alert_counters	 ctr;
	bool			 state_warned;
	bool			 state_by_journal;
	struct ev_sink		 ev_sinks[MAX_EV_SINKS];
	int			 nev_sinks;
	alert_journal_fn	 journal;	/* first: alert and evidence */
	void			*journal_arg;
	const struct asset_book	*book;
	struct evidence		*ev;
	alert_describe_fn	 describe;
	void			*describe_arg;
	bool			 oui;		/* holds the OUI table */
	bool			 has_ctx;
	struct alert_pktctx	 ctx;
	struct rec		 pend[MAX_PENDING];
	size_t			 npend;
	uint64_t		 next_end;	/* earliest window end */
	uint64_t		 last_ts;	/* of the last alert emitted */
	char			*jbuf;		/* emit_core's print buffer */
	size_t			 jcap;
};

/* o[k] = v, or null when v is NULL or empty (alert_rec.c). */
void add_str_or_null(cJSON *o, const char *k, const char *v);
/* The record of a detector's alert (consumes details): 0 or -1. */
int rec_build(struct alerter *al, const struct det_alert *a, cJSON *details,
    struct rec *r);

#endif
