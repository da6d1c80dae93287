/*
 * replay.c - DNP3 messages replayed into a channel: application sequence
 * numbers and absolute times that go back.  Needs no baseline and no
 * [policy].
 *
 * DNP3 (IEEE 1815 4.2.2.4) numbers each master request (0-15, +1 per new
 * request, the same number for a retry), the outstation echoes it in its
 * solicited response, and numbers its unsolicited responses in a series
 * of its own.  Per channel (client, server, dnp3) and per (master,
 * outstation) link-address pair, inside one transport session (a new
 * TCP connection, a DNP3 link RESET_LINK_STATES or an outstation that
 * reports IIN1.7 device restart starts over):
 *
 *   replay.dnp3_sequence  a request whose sequence number is neither the
 *                         last one (a retry repeats it) nor the next, with
 *                         the bytes (number included) of one of the last
 *                         128 distinct requests: a recorded request sent
 *                         again                                T0855;
 *                         a solicited response whose number is not the
 *                         request's, or an unsolicited one out of its
 *                         series, with the bytes of an earlier report:
 *                         a recorded report sent again         T0856
 *   replay.dnp3_time      a time written to the outstation (g50v1/v3 in
 *                         a WRITE) or reported by it (g50, g51 common
 *                         time of occurrence in responses) more than
 *                         time_slack_s older than the newest one seen on
 *                         the channel, across sessions      T0855 / T0856
 *
 * A master seen sending new content under an old number (a test tool
 * alternating SELECT 7 / OPERATE 8 on ever new points, in
 * ../shared/pcaps/dnp3-icsnpp-example.pcap) does not number its requests:
 * its requests and the answers to them are not judged in that session.  Memory: max_channels channels of 2
 * link-address pairs; what does not fit is counted.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/chantab.h"
#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"

#define MAX_STN		2
#define RING		128

/* the hashes (number included) of the last RING distinct fragments */
struct ring {
	uint8_t		 n, i;
	uint32_t	 h[RING];
};

static bool
ring_has(const struct ring *r, uint32_t h)
{
	uint8_t i;

	for (i = 0; i < r->n; i++)
		if (r->h[i] == h)
			return true;
	return false;
}

static void
ring_add(struct ring *r, uint32_t h)
{
	if (ring_has(r, h))
		return;
	r->h[r->i] = h;
	r->i = (uint8_t)((r->i + 1) % RING);
	if (r->n < RING)
		r->n++;
}

struct rp_stn {
	uint16_t	 master, outstation;
	uint8_t		 used, has_req, req_seq, has_uns, uns_seq;
	uint8_t		 sloppy;	/* numbers requests its own way */
	struct ring	 req, rsp;	/* recent distinct fragments */
};

struct rp_chan {
	struct chan_key	 k;		/* first: chantab */
	uint64_t	 flow;
	uint8_t		 stn_full;
	struct rp_stn	 st[MAX_STN];
	uint64_t	 time_req, time_rsp;	/* ms since 1970, newest seen */
	uint64_t	 alerted[2];
};

struct replay {
	struct chantab	 tab;
	uint64_t	 slack_ms, quiet_us, stn_full;
};

static const struct cfg_key keys[] = {
	{ "max_channels", CFG_INT, "1024", 16, 1 << 20,
	  "DNP3 channels whose sequence numbers and times are followed" },
	{ "time_slack_s", CFG_INT, "60", 1, 86400 * 365,
	  "a DNP3 absolute time this many seconds older than the newest seen on the channel is replayed" },
	{ "quiet_s", CFG_INT, "60", 1, 86400,
	  "per channel and rule, an alert is raised again after this many seconds" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static uint32_t
frag_hash(const struct dnp3_pdu *d)
{
	uint32_t h = 2166136261u;
	size_t i;

	/* the application fragment: after the transport header */
	for (i = 1; i < d->user_len; i++)
		h = (h ^ d->user[i]) * 16777619u;
	return h;
}

static struct rp_stn *
station(struct replay *s, struct rp_chan *c, uint16_t master,
    uint16_t outstation)
{
	int i;

	for (i = 0; i < MAX_STN; i++)
		if (c->st[i].used && c->st[i].master == master &&
		    c->st[i].outstation == outstation)
			return &c->st[i];
	for (i = 0; i < MAX_STN; i++)
		if (!c->st[i].used) {
			memset(&c->st[i], 0, sizeof(c->st[i]));
			c->st[i].used = 1;
			c->st[i].master = master;
			c->st[i].outstation = outstation;
			return &c->st[i];
		}
	if (!c->stn_full) {
		c->stn_full = 1;
		s->stn_full++;
	}
	return NULL;
}

static bool
quiet(struct replay *s, struct rp_chan *c, int rule, uint64_t ts)
{
	if (c->alerted[rule] != 0 && ts - c->alerted[rule] < s->quiet_us)
		return true;
	c->alerted[rule] = ts;
	return false;
}

static void
raise(struct det_ctx *ctx, const struct det_pdu *pdu, const char *det,
    const char *tech, const char *title, cJSON *d)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = SEV_HIGH;
	a.technique = tech;
	a.title = title;
	a.details = d;
	det_alert(ctx, &a);
}

static void
seq_alert(struct replay *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct rp_chan *c, const char *kind, uint8_t expected, unsigned back)
{
	const struct dnp3_pdu *d = pdu->u.dnp3;
	char title[256];
	cJSON *o;

	if (quiet(s, c, 0, pdu->ts))
		return;
	snprintf(title, sizeof(title), "DNP3 %s (%s) with sequence number %u, "
	    "%u behind the %u the session is at, with the bytes of an earlier "
	    "one: a recorded message sent again", kind,
	    dnp3_fc_name(d->app_fc), d->app_seq, back, expected);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "message", kind);
	cJSON_AddStringToObject(o, "function", dnp3_fc_name(d->app_fc));
	cJSON_AddNumberToObject(o, "seq", d->app_seq);
	cJSON_AddNumberToObject(o, "expected_seq", expected);
	cJSON_AddNumberToObject(o, "link_src", d->src);
	cJSON_AddNumberToObject(o, "link_dst", d->dst);
	cJSON_AddBoolToObject(o, "identical", 1);
	raise(ctx, pdu, "replay.dnp3_sequence", d->app_fc < 0x80 ? "T0855" :
	    "T0856", title, o);
}

struct tw {
	uint64_t	 max;
	bool		 any;
	bool		 request;
};

static void
time_value(void *arg, const struct dnp3_value *v)
{
	struct tw *t = arg;

	/* g50v3 is a master's "last recorded time"; both are writes */
	if (v->kind != DNP3_VAL_TIME || (t->request && v->group != 50))
		return;
	if (!t->any || (uint64_t)v->value > t->max)
		t->max = (uint64_t)v->value;
	t->any = true;
}

static void
times(struct replay *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct rp_chan *c, bool request)
{
	const struct dnp3_pdu *d = pdu->u.dnp3;
	struct tw t = { 0, false, request };
	uint64_t *newest = request ? &c->time_req : &c->time_rsp;
	char title[256];
	cJSON *o;

	(void)dnp3_values(d, time_value, &t);
	if (!t.any || t.max == 0)
		return;
	if (*newest != 0 && t.max + s->slack_ms < *newest) {
		if (!quiet(s, c, 1, pdu->ts)) {
			snprintf(title, sizeof(title), "DNP3 %s carries a time "
			    "%.1f s older than one the channel already %s: a "
			    "recorded message sent again", dnp3_fc_name(d->app_fc),
			    (double)(*newest - t.max) / 1000.0, request ?
			    "wrote" : "reported");
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "function",
			    dnp3_fc_name(d->app_fc));
			cJSON_AddNumberToObject(o, "time_ms", (double)t.max);
			cJSON_AddNumberToObject(o, "newest_ms", (double)*newest);
			cJSON_AddNumberToObject(o, "behind_s",
			    (double)(*newest - t.max) / 1000.0);
			raise(ctx, pdu, "replay.dnp3_time", request ? "T0855" :
			    "T0856", title, o);
		}
		return;
	}
	if (t.max > *newest)
		*newest = t.max;
}

static void
rp_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct replay *s = state;
	const struct dnp3_pdu *d = pdu->u.dnp3;
	struct chan_key k;
	struct rp_chan *c;
	struct rp_stn *st;
	bool request;
	uint32_t h;
	int i;

	if (pdu->flow == NULL || pdu->flow->af == 0 || pdu->proto != ICS_DNP3)
		return;
	/* a link reset starts the session over: forget its numbers */
	if (!d->has_app) {
		if (d->prm && d->link_fc == DNP3_LINK_RESET_LINK_STATES) {
			chantab_key(&k, pdu);
			if ((c = chantab_get(&s->tab, &k, false)) != NULL)
				for (i = 0; i < MAX_STN; i++)
					if (c->st[i].used && (c->st[i].outstation ==
					    d->dst || c->st[i].outstation == d->src))
						c->st[i].used = 0;
		}
		return;
	}
	if (d->app_fc == DNP3_FC_CONFIRM || (d->app_fc >= 0x80 &&
	    d->app_fc != DNP3_FC_RESPONSE &&
	    d->app_fc != DNP3_FC_UNSOLICITED_RESPONSE))
		return;
	request = d->app_fc < 0x80;
	chantab_key(&k, pdu);
	if ((c = chantab_get(&s->tab, &k, true)) == NULL)
		return;
	if (c->flow != pdu->flow->id) {
		c->flow = pdu->flow->id;
		for (i = 0; i < MAX_STN; i++)
			c->st[i].used = 0;
		c->stn_full = 0;
	}
	if (request && d->app_fc == DNP3_FC_WRITE)
		times(s, ctx, pdu, c, true);
	else if (!request)
		times(s, ctx, pdu, c, false);
	st = request ? station(s, c, d->src, d->dst) :
	    station(s, c, d->dst, d->src);
	if (st == NULL)
		return;
	h = frag_hash(d);
	if (request) {
		if (st->has_req && !st->sloppy && d->app_seq != st->req_seq &&
		    d->app_seq != ((st->req_seq + 1) & 15)) {
			if (ring_has(&st->req, h)) {
				seq_alert(s, ctx, pdu, c, "request", st->req_seq,
				    (unsigned)(st->req_seq - d->app_seq) & 15u);
				return;
			}
			/* new content under an old number: this master does
			 * not number its requests, they tell nothing */
			st->sloppy = 1;
		}
		st->has_req = 1;
		st->req_seq = d->app_seq;
		ring_add(&st->req, h);
		return;
	}
	if (d->has_iin && (d->iin & DNP3_IIN_DEVICE_RESTART)) {
		st->has_uns = 0;
		return;
	}
	if (d->app_fc == DNP3_FC_UNSOLICITED_RESPONSE) {
		if (st->has_uns && d->app_seq != st->uns_seq &&
		    d->app_seq != ((st->uns_seq + 1) & 15) &&
		    ring_has(&st->rsp, h)) {
			seq_alert(s, ctx, pdu, c, "unsolicited response",
			    st->uns_seq, (unsigned)(st->uns_seq - d->app_seq) & 15u);
			return;
		}
		st->has_uns = 1;
		st->uns_seq = d->app_seq;
		ring_add(&st->rsp, h);
		return;
	}
	/* a solicited response: the first fragment echoes the request */
	if (d->app_fir && st->has_req && !st->sloppy &&
	    d->app_seq != st->req_seq && ring_has(&st->rsp, h)) {
		seq_alert(s, ctx, pdu, c, "response", st->req_seq,
		    (unsigned)(st->req_seq - d->app_seq) & 15u);
		return;
	}
	ring_add(&st->rsp, h);
}

static void
rp_destroy(void *state)
{
	struct replay *s = state;

	if (s == NULL)
		return;
	chantab_free(&s->tab);
	free(s);
}

static int
rp_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct replay *s = calloc(1, sizeof(*s));

	if (s == NULL || chantab_init(&s->tab, (size_t)cfg_int(c, sec,
	    "max_channels"), sizeof(struct rp_chan)) != 0) {
		free(s);
		snprintf(err, errlen, "replay: out of memory");
		return -1;
	}
	s->slack_ms = (uint64_t)cfg_int(c, sec, "time_slack_s") * 1000u;
	s->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	*state = s;
	return 0;
}

static int
rp_stats(void *state, char *buf, size_t len)
{
	const struct replay *s = state;

	return snprintf(buf, len, "\"channels\":%zu,\"capacity\":%zu,"
	    "\"dropped\":%llu,\"bytes\":%zu", s->tab.n, s->tab.max,
	    (unsigned long long)s->tab.dropped, chantab_bytes(&s->tab));
}

static void
rp_counters(void *state, det_counter_fn add, void *arg)
{
	const struct replay *s = state;

	add(arg, "channels_dropped", s->tab.dropped);
	add(arg, "stations_full", s->stn_full);
}

const struct detector det_replay = {
	.name = "replay",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_DNP3),
	.init = rp_init,
	.on_pdu = rp_pdu,
	.stats = rp_stats,
	.counters = rp_counters,
	.destroy = rp_destroy,
};
