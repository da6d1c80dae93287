/*
 * cycle_int.h - the state of the polling-cycle detector (cycle.c), shared
 * with its baseline-file member (cycle_file.c).  Not for other detectors.
 */
#ifndef ICSENTRY_CYCLE_INT_H
#define ICSENTRY_CYCLE_INT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detectors/chantab.h"
#include "detectors/detector.h"

#define MAX_SIG		32
#define MAX_TR		128
#define WHAT_LEN	40
#define BURST		8
#define NOVEL_MAX	64
#define MEMBER		"cycles"
#define CY_PROTOS	(DET_PROTO(ICS_MODBUS) | DET_PROTO(ICS_DNP3) | \
			DET_PROTO(ICS_S7COMM) | DET_PROTO(ICS_ENIP) | \
			DET_PROTO(ICS_FINS) | DET_PROTO(ICS_IEC104))
/* a DNP3 function other than READ: freeze, restart, operate, enable... */
#define OP_ACTS		0x80u

struct cy_sig {
	uint32_t	sig;
	uint8_t		ops;		/* PROTO_OP_* */
	uint8_t		repeated;	/* >= min_gaps gaps learned */
	uint32_t	ngaps;		/* this run */
	uint64_t	min_gap, max_gap;	/* us; 0 = none yet */
	uint64_t	last;		/* this run: last request */
	uint64_t	last_flow;
	/* this run, detecting: consecutive slow / fast gaps, missing */
	uint16_t	nslow, nfast;
	uint8_t		missing;
	uint8_t		ended;		/* the session of its last time ended */
	char		what[WHAT_LEN];
};

struct cy_chan {
	struct chan_key	 k;		/* first: chantab */
	uint8_t		 judged;	/* >= min_requests learned */
	uint8_t		 sig_full, tr_full;
	uint16_t	 nsig, ntr;
	uint64_t	 nreq;		/* this run */
	struct cy_sig	 sig[MAX_SIG];
	uint64_t	 tr[MAX_TR];	/* prev << 32 | next */
	/* this run */
	uint64_t	 flow;
	uint32_t	 prev;
	uint8_t		 has_prev;
	uint64_t	 alerted[5];
	uint64_t	 first_req, last_req;	/* this run, detecting */
	uint64_t	 resumed;	/* first request after a silence */
	uint64_t	 cycle_gap;	/* longest periodic max_gap, cached */
	uint32_t	 novel;		/* out_of_cycle alerts in this window */
	uint32_t	 nread;		/* distinct novel reads in this window */
	uint32_t	 reads[NOVEL_MAX];
	uint64_t	 reads_start;
	/* this run, detecting: is the channel alive (cycle.missing_poll) */
	uint8_t		 loops_done, flow_ended, chan_said, noans_said;
	uint32_t	 unans;		/* requests since the last answer */
	uint64_t	 last_resp;	/* the server's last PDU */
	uint32_t	 loop[MAX_SIG];	/* sigs polled in one loop with sig i */
};

struct cycle {
	struct chantab	 learn, det;
	bool		 learning, detecting;
	uint32_t	 min_requests, min_gaps;
	double		 fast_factor, max_jitter;
	uint32_t	 novel_reads;
	uint64_t	 quiet_us;
	uint32_t	 miss_periods, period_gaps;
	double		 slow_factor, faster_factor;
	uint64_t	 next_sweep;
};

/* ---- a channel's requests and transitions ----------------------------- */

static inline struct cy_sig *
sig_find(struct cy_chan *c, uint32_t sig)
{
	uint16_t i;

	for (i = 0; i < c->nsig; i++)
		if (c->sig[i].sig == sig)
			return &c->sig[i];
	return NULL;
}

static inline struct cy_sig *
sig_add(struct cy_chan *c, uint32_t sig)
{
	struct cy_sig *s = sig_find(c, sig);

	if (s != NULL)
		return s;
	if (c->nsig == MAX_SIG) {
		c->sig_full = 1;
		return NULL;
	}
	s = &c->sig[c->nsig++];
	memset(s, 0, sizeof(*s));
	s->sig = sig;
	return s;
}

static inline bool
tr_has(const struct cy_chan *c, uint32_t a, uint32_t b)
{
	uint64_t t = (uint64_t)a << 32 | b;
	uint16_t i;

	for (i = 0; i < c->ntr; i++)
		if (c->tr[i] == t)
			return true;
	return false;
}

static inline void
tr_add(struct cy_chan *c, uint32_t a, uint32_t b)
{
	if (tr_has(c, a, b))
		return;
	if (c->ntr == MAX_TR) {
		c->tr_full = 1;
		return;
	}
	c->tr[c->ntr++] = (uint64_t)a << 32 | b;
}

/* cycle_file.c: the "cycles" member of the baseline file */
cJSON	*cy_dump(void *state);
int	 cy_load(struct chantab *t, const cJSON *arr, const char *path,
	    char *err, size_t errlen);

#endif
