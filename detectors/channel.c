/*
 * channel.c - how each control channel behaves, learned while it runs.
 *
 * A control channel is (client IP, server IP, protocol).  For its first
 * learn_s seconds (and at least min_samples exchanges) the detector
 * learns how fast the server answers a request (the least and the
 * greatest response time) and the most requests the client sent in one
 * second.  Then:
 *
 *   channel.fast_responder  fast_run responses in a row arrive in less than
 *                           half the quickest answer the server ever gave:
 *                           a different device answers in its name (a
 *                           masquerading outstation on a hijacked session
 *                           answers from memory, the real one from its
 *                           I/O scan)                                T0856
 *   channel.rate            requests in one second above rate_factor x the
 *                           channel's learned peak (and at least
 *                           rate_min): a flood judged against this
 *                           channel, not against a global packet rate T0814
 *                           A channel still learning (a new client) is
 *                           judged against its server instead: two
 *                           seconds in a row above rate_factor x the
 *                           most requests per second the server got
 *                           from all its clients before this one
 *                           appeared (and above new_rate_min), when the
 *                           server had been polled for new_history_s:
 *                           a flood from a new host at 200 messages/s
 *                           on a device polled at 2/s, with no packet
 *                           rate anywhere near a flood
 *
 * Each is raised once per episode and again after quiet_s without it.
 * Memory: max_channels entries in a fixed table; what does not fit is
 * counted and shown in the details of every alert.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "lib/restab.h"

struct chan {
	uint8_t		used;
	uint8_t		af;
	uint8_t		proto;
	uint8_t		ip_cli[16], ip_srv[16];
	uint64_t	first;
	/* request / response pairing */
	uint64_t	req_ts;		/* last unanswered request, 0 = none */
	uint32_t	samples;
	uint64_t	lat_min, lat_max;
	uint8_t		fast_run;
	uint64_t	fast_alert;	/* ts of the last fast_responder alert */
	/* requests per second */
	uint64_t	sec;		/* current second */
	uint32_t	in_sec;
	uint32_t	peak;		/* learned */
	uint64_t	rate_alert;
	/* a new channel judged against its server (see the head) */
	struct chan	*agg;		/* the server's all-clients entry */
	uint32_t	new_thr;	/* 0: no history to judge against */
	uint32_t	ref;		/* the server's peak when it appeared */
	uint8_t		prev_over;	/* the previous second was above */
	uint8_t		is_agg;
};

#define CHAN_MEMO	64	/* power of two */

struct channels {
	/*
	 * The channel last used per flow id and side (direct-mapped):
	 * channels are never freed nor moved, and a flow's addresses and
	 * protocol fix its channel, so a hit needs no hashing.
	 */
	struct {
		uint64_t	fid;
		uint8_t		key;	/* proto << 1 | srv_is_cli */
		struct chan	*c;
	} memo[CHAN_MEMO];
	struct chan	*tab;
	size_t		 cap, used;
	uint64_t	 dropped;
	uint64_t	 learn_us, quiet_us, history_us;
	size_t		 aggs;		/* entries that are a server's total */
	unsigned	 min_samples, fast_run_len, rate_min, new_rate_min;
	double		 rate_factor;
};

static const struct cfg_key keys[] = {
	{ "max_channels", CFG_INT, "2048", 16, 1 << 22,
	  "control channels (client, server, protocol) modelled" },
	{ "learn_s", CFG_INT, "60", 1, 86400 * 30,
	  "seconds a channel is learned before it is judged" },
	{ "min_samples", CFG_INT, "30", 1, 1000000,
	  "request/response pairs needed before response times are judged" },
	{ "fast_run", CFG_INT, "3", 1, 100,
	  "responses in a row below half the learned minimum that make an alert" },
	{ "rate_factor", CFG_DOUBLE, "4", 1.5, 1000,
	  "requests per second above this many times the learned peak is a flood" },
	{ "rate_min", CFG_INT, "10", 1, 1000000,
	  "... and at least this many requests in the second" },
	{ "quiet_s", CFG_INT, "60", 1, 86400,
	  "an alert is raised again after this many seconds without it" },
	{ "new_rate_min", CFG_INT, "40", 1, 1000000,
	  "a channel still learning: requests in a second (two in a row) at least this many and above rate_factor x its server's peak is a flood" },
	{ "new_history_s", CFG_INT, "2", 1, 86400,
	  "... judged only when the server had requests this many seconds before the channel appeared" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
ch_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct channels *s = calloc(1, sizeof(*s));
	size_t want, cap = 16;

	if (s == NULL) {
		snprintf(err, errlen, "channel: out of memory");
		return -1;
	}
	want = (size_t)cfg_int(c, sec, "max_channels");
	while (cap < want * 2)
		cap <<= 1;
	if ((s->tab = restab_new(cap, sizeof(*s->tab))) == NULL) {
		free(s);
		snprintf(err, errlen, "channel: out of memory");
		return -1;
	}
	s->cap = cap;
	s->learn_us = (uint64_t)cfg_int(c, sec, "learn_s") * 1000000u;
	s->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	s->min_samples = (unsigned)cfg_int(c, sec, "min_samples");
	s->fast_run_len = (unsigned)cfg_int(c, sec, "fast_run");
	s->rate_min = (unsigned)cfg_int(c, sec, "rate_min");
	s->rate_factor = cfg_double(c, sec, "rate_factor");
	s->new_rate_min = (unsigned)cfg_int(c, sec, "new_rate_min");
	s->history_us = (uint64_t)cfg_int(c, sec, "new_history_s") * 1000000u;
	*state = s;
	return 0;
}

static void
ch_destroy(void *state)
{
	struct channels *s = state;

	if (s != NULL)
		restab_free(s->tab, s->cap, sizeof(*s->tab));
	free(s);
}

static struct chan *
chan_get(struct channels *s, uint8_t af, uint8_t proto, const uint8_t *cli,
    const uint8_t *srv, uint64_t ts)
{
	uint32_t h = 2166136261u ^ proto;
	size_t i, n;
	int k, len = af == 6 ? 16 : 4;

	for (k = 0; k < len; k++)
		h = ((h ^ cli[k]) * 16777619u ^ srv[k]) * 16777619u;
	for (i = h & (s->cap - 1), n = 0; n < s->cap; n++, i = (i + 1) & (s->cap - 1)) {
		struct chan *c = &s->tab[i];

		if (!c->used) {
			if (s->used * 2 >= s->cap) {
				s->dropped++;
				return NULL;
			}
			memset(c, 0, sizeof(*c));
			c->used = 1;
			c->af = af;
			c->proto = proto;
			memcpy(c->ip_cli, cli, 16);
			memcpy(c->ip_srv, srv, 16);
			c->first = ts;
			s->used++;
			return c;
		}
		if (c->proto == proto && c->af == af && !memcmp(c->ip_cli, cli, 16) &&
		    !memcmp(c->ip_srv, srv, 16))
			return c;
	}
	return NULL;
}

/* Does this PDU answer a request (not a spontaneous report)? */
static bool
is_answer(const struct det_pdu *pdu)
{
	switch (pdu->proto) {
	case ICS_DNP3:
		return pdu->u.dnp3->has_app &&
		    pdu->u.dnp3->app_fc == DNP3_FC_RESPONSE;
	case ICS_MODBUS:
	case ICS_S7COMM:
	case ICS_ENIP:
	case ICS_FINS:
		return true;
	default:
		return false;	/* IEC 104, BACnet, OPC UA: reports come unasked */
	}
}

static bool
is_request(const struct det_pdu *pdu)
{
	if (pdu->proto == ICS_DNP3)
		return pdu->u.dnp3->has_app && pdu->u.dnp3->app_fc != 0 &&
		    pdu->u.dnp3->app_fc < DNP3_FC_RESPONSE;
	/* IEC 104: commands and interrogations; S and U frames keep the link */
	if (pdu->proto == ICS_IEC104)
		return pdu->u.iec104->format == IEC104_FORMAT_I;
	return true;
}

static void
raise(struct channels *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const char *det, const char *tech, const char *title, cJSON *d)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = SEV_HIGH;
	a.technique = tech;
	a.title = title;
	if (s->dropped)
		cJSON_AddNumberToObject(d, "channels_dropped", (double)s->dropped);
	a.details = d;
	det_alert(ctx, &a);
}

static __attribute__((noinline, cold)) void
raise_fast(struct channels *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct chan *c, uint64_t lat)
{
	char title[200];
	cJSON *d;

	snprintf(title, sizeof(title),
	    "%s answers in %.2f ms, %u times in a row, where it never answered "
	    "in less than %.2f ms (another device answers in its name)",
	    ics_proto_name(pdu->proto), (double)lat / 1000.0, c->fast_run,
	    (double)c->lat_min / 1000.0);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "response_ms", (double)lat / 1000.0);
	cJSON_AddNumberToObject(d, "learned_min_ms", (double)c->lat_min / 1000.0);
	cJSON_AddNumberToObject(d, "learned_max_ms", (double)c->lat_max / 1000.0);
	cJSON_AddNumberToObject(d, "learned_samples", c->samples);
	raise(s, ctx, pdu, "channel.fast_responder", "T0856", title, d);
}

/* the alert text out of line: the per-PDU part keeps a small frame */
static inline void
on_answer(struct channels *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct chan *c)
{
	uint64_t lat;

	if (c->req_ts == 0 || pdu->ts < c->req_ts)
		return;
	lat = pdu->ts - c->req_ts;
	c->req_ts = 0;
	if (pdu->ts - c->first < s->learn_us || c->samples < s->min_samples) {
		if (c->samples == 0 || lat < c->lat_min)
			c->lat_min = lat;
		if (lat > c->lat_max)
			c->lat_max = lat;
		c->samples++;
		return;
	}
	/* under 200 us the capture point, not the device, decides */
	if (c->lat_min < 200 || lat * 2 >= c->lat_min) {
		c->fast_run = 0;
		return;
	}
	if (++c->fast_run < s->fast_run_len ||
	    (c->fast_alert != 0 && pdu->ts - c->fast_alert < s->quiet_us)) {
		if (c->fast_run >= s->fast_run_len)
			c->fast_alert = pdu->ts;	/* same episode */
		return;
	}
	c->fast_alert = pdu->ts;
	raise_fast(s, ctx, pdu, c, lat);
}

static __attribute__((noinline, cold)) void
raise_new_rate(struct channels *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct chan *c)
{
	char title[200];
	cJSON *d;

	snprintf(title, sizeof(title),
	    "%s: %u requests in this second so far from a new client, the "
	    "second before above %u too; its server never got more than %u/s "
	    "from all its clients", ics_proto_name(pdu->proto), c->in_sec,
	    c->new_thr, c->ref);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "requests_in_second", c->in_sec);
	cJSON_AddNumberToObject(d, "server_peak", c->ref);
	cJSON_AddNumberToObject(d, "threshold", c->new_thr);
	raise(s, ctx, pdu, "channel.rate", "T0814", title, d);
}

static __attribute__((noinline, cold)) void
raise_rate(struct channels *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct chan *c)
{
	char title[200];
	cJSON *d;

	snprintf(title, sizeof(title),
	    "%s requests at %u/s on a channel whose peak was %u/s",
	    ics_proto_name(pdu->proto), c->in_sec, c->peak);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "requests_in_second", c->in_sec);
	cJSON_AddNumberToObject(d, "learned_peak", c->peak);
	raise(s, ctx, pdu, "channel.rate", "T0814", title, d);
}

/*
 * Seconds counted from the entry's first packet, not from the epoch: a
 * live capture and the file it was replayed from then cut the same
 * seconds out of the same traffic (their clocks differ by any fraction).
 */
static inline uint64_t
sec_of(const struct chan *c, uint64_t ts)
{
	return ts > c->first ? (ts - c->first) / 1000000u : 0;
}

static inline void
on_request(struct channels *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct chan *c)
{
	uint64_t sec = sec_of(c, pdu->ts);
	double thr;

	c->req_ts = pdu->ts;
	if (sec != c->sec) {
		c->prev_over = c->new_thr != 0 && sec == c->sec + 1 &&
		    c->in_sec > c->new_thr;
		c->sec = sec;
		c->in_sec = 0;
	}
	c->in_sec++;
	if (pdu->ts - c->first < s->learn_us) {
		if (c->new_thr != 0 && c->in_sec > c->new_thr) {
			/* a flood is not learned as this channel's peak */
			if (c->prev_over && (c->rate_alert == 0 ||
			    pdu->ts - c->rate_alert >= s->quiet_us)) {
				c->rate_alert = pdu->ts;
				raise_new_rate(s, ctx, pdu, c);
			} else if (c->prev_over)
				c->rate_alert = pdu->ts;	/* same episode */
			return;
		}
		if (c->in_sec > c->peak)
			c->peak = c->in_sec;
		return;
	}
	thr = s->rate_factor * c->peak;
	if (thr < s->rate_min)
		thr = s->rate_min;
	if (c->in_sec <= thr || c->peak == 0 ||
	    (c->rate_alert != 0 && pdu->ts - c->rate_alert < s->quiet_us)) {
		if (c->in_sec > thr && c->peak != 0)
			c->rate_alert = pdu->ts;	/* same episode */
		return;
	}
	c->rate_alert = pdu->ts;
	raise_rate(s, ctx, pdu, c);
}

/*
 * The server's all-clients entry counts its requests per REF_S seconds
 * (its sec, in_sec and peak are in those units); a new channel takes the
 * peak so far, per second (over less than REF_S when the server has not
 * been seen that long) and rounded, as its reference.  Over
 * several poll cycles the count moves by a request or two when the window
 * falls elsewhere (a live capture's clock against its file's), which the
 * rounding absorbs; one-second counts of a poll cycle move by one in
 * twenty-five and with them the threshold.
 */
#define REF_S	10
static void
server_count(struct channels *s, struct chan *c, const struct det_pdu *pdu)
{
	static const uint8_t all[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	struct chan *a = c->agg;
	uint64_t sec;
	double thr, span;

	if (a == NULL) {
		a = chan_get(s, c->af, c->proto, all, c->ip_srv, pdu->ts);
		if (a == NULL)
			return;
		if (!a->is_agg) {
			a->is_agg = 1;
			s->aggs++;
		}
		c->agg = a;
		if (a != c && pdu->ts - a->first >= s->history_us) {
			/* per second over a window, or over what was seen */
			span = (double)(pdu->ts - a->first) / 1e6;
			if (span > REF_S)
				span = REF_S;
			c->ref = (uint32_t)(a->peak / span + 0.5);
			thr = s->rate_factor * c->ref;
			c->new_thr = thr < s->new_rate_min ? s->new_rate_min :
			    (uint32_t)thr;
		}
	}
	sec = sec_of(a, pdu->ts) / REF_S;
	if (sec != a->sec) {
		a->sec = sec;
		a->in_sec = 0;
	}
	if (++a->in_sec > a->peak)
		a->peak = a->in_sec;
}

static void
ch_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct channels *s = state;
	const struct flow *f = pdu->flow;
	/* the server is who listens: the receiver of a request */
	bool srv_is_cli = pdu->from_client ? !pdu->sender_is_cli :
	    pdu->sender_is_cli;
	struct chan *c;

	uint8_t key = (uint8_t)((unsigned)pdu->proto << 1 | srv_is_cli);
	size_t m = (size_t)(f->id * 2 + srv_is_cli) & (CHAN_MEMO - 1);

	if (f->cli.port == f->srv.port)
		return;
	if (s->memo[m].c != NULL && s->memo[m].fid == f->id &&
	    s->memo[m].key == key)
		c = s->memo[m].c;
	else {
		c = chan_get(s, f->af, (uint8_t)pdu->proto,
		    srv_is_cli ? f->srv.ip : f->cli.ip,
		    srv_is_cli ? f->cli.ip : f->srv.ip, pdu->ts);
		if (c == NULL)
			return;
		s->memo[m].fid = f->id;
		s->memo[m].key = key;
		s->memo[m].c = c;
	}
	if (pdu->from_client) {
		if (is_request(pdu)) {
			server_count(s, c, pdu);
			on_request(s, ctx, pdu, c);
		}
	} else if (is_answer(pdu))
		on_answer(s, ctx, pdu, c);
}

static int
ch_stats(void *state, char *buf, size_t len)
{
	const struct channels *s = state;

	return snprintf(buf, len, "\"channels\":%zu,\"servers\":%zu,\"capacity\":%zu,"
	    "\"dropped\":%llu,\"bytes_reserved\":%zu", s->used - s->aggs, s->aggs, s->cap / 2,
	    (unsigned long long)s->dropped, s->cap * sizeof(*s->tab));
}

const struct detector det_channel = {
	.name = "channel",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_MODBUS) | DET_PROTO(ICS_DNP3) |
	    DET_PROTO(ICS_S7COMM) | DET_PROTO(ICS_ENIP) | DET_PROTO(ICS_FINS) |
	    DET_PROTO(ICS_IEC104),
	.init = ch_init,
	.on_pdu = ch_pdu,
	.stats = ch_stats,
	.destroy = ch_destroy,
};
