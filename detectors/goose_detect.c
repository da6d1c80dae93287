/*
 * goose_detect.c - IEC 61850 GOOSE and Sampled Values streams (layer 2).
 *
 * Each GOOSE control block (gocbRef) is one stream: the publisher raises
 * stNum by one on every state change and restarts sqNum at 0, then counts
 * sqNum up on each retransmission; it repeats the state at least every
 * timeAllowedToLive (TAL) ms.  Frames that break this order are injected
 * or replayed (IEC 62351-6 names exactly these checks).  Learned per
 * stream: the publisher MACs, stNum/sqNum, confRev, TAL.
 *
 *   goose.stnum_jump          stNum ahead by more than max_stnum_step   T0856
 *   goose.stnum_regression    stNum back (not a wrap, not a restart)    T0830
 *   goose.sqnum_reset         sqNum back without a state change         T0830
 *   goose.new_publisher       a state change from a MAC never seen
 *                             publishing that gocbRef                   T0856
 *   goose.simulation          simulation/test flag set                  T0856
 *   goose.confrev_change      confRev differs from the learned one      T0856
 *   goose.heartbeat_missing   no frame for tal_factor x TAL             T0814
 *   sv.second_source          an SV stream (svID) from a second MAC     T0856
 *
 * Streams are keyed by a 64-bit hash of gocbRef/svID plus APPID: the
 * names are up to 129 octets, and a hash collision only merges two
 * streams' state.  The tables are capped (max_streams).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/goose.h"
#include "dissectors/sv.h"
#include "lib/ipmap.h"

#define MAX_PUBLISHERS	4	/* MACs kept per stream (PRP/HSR, spares) */
#define REF_KEEP	64	/* octets of gocbRef kept for alert text */

struct gstream {
	uint64_t	last_ts;
	uint64_t	data_hash;
	uint32_t	st, sq, conf_rev, tal_ms;
	uint8_t		mac[MAX_PUBLISHERS][6];
	uint8_t		nmac;
	uint8_t		missing;	/* heartbeat alert raised */
	uint16_t	appid;
	char		ref[REF_KEEP + 1];
};

struct svstream {
	uint8_t		mac[6];
	uint16_t	appid;
};

struct goose_state {
	struct ipmap	*streams;	/* GOOSE, struct gstream */
	struct ipmap	*sv;		/* SV, struct svstream */
	uint32_t	 max_step;
	double		 tal_factor;
	struct det_ctx	*tick_ctx;	/* for the ipmap_each callback */
	uint64_t	 tick_now;
};

static const struct cfg_key keys[] = {
	{ "max_stnum_step", CFG_INT, "1", 1, 1000000,
	  "largest stNum increase between two frames that is not a jump" },
	{ "tal_factor", CFG_DOUBLE, "2", 1, 100,
	  "a publisher is missing after this many TALs without a frame" },
	{ "max_streams", CFG_INT, "4096", 16, 1000000,
	  "GOOSE control blocks and SV streams tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
goose_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct goose_state *s = calloc(1, sizeof(*s));
	size_t cap = (size_t)cfg_int(c, sec, "max_streams");

	(void)err;
	(void)errlen;
	if (s == NULL)
		return -1;
	s->streams = ipmap_new(cap, sizeof(struct gstream));
	s->sv = ipmap_new(cap, sizeof(struct svstream));
	if (s->streams == NULL || s->sv == NULL) {
		ipmap_free(s->streams);
		ipmap_free(s->sv);
		free(s);
		return -1;
	}
	s->max_step = (uint32_t)cfg_int(c, sec, "max_stnum_step");
	s->tal_factor = cfg_double(c, sec, "tal_factor");
	*state = s;
	return 0;
}

static void
goose_destroy(void *state)
{
	struct goose_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->streams);
	ipmap_free(s->sv);
	free(s);
}

/* Stream key: FNV-1a of the name, then the APPID. */
static size_t
stream_key(uint8_t key[10], const uint8_t *name, size_t len, uint16_t appid)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ name[i]) * 0x100000001b3ULL;
	memcpy(key, &h, 8);
	key[8] = (uint8_t)(appid >> 8);
	key[9] = (uint8_t)appid;
	return 10;
}

static void
str_add(cJSON *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[REF_KEEP * 2 + 1];

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, p != NULL ? p : (const uint8_t *)"", n);
	buf[n] = '\0';
	cJSON_AddStringToObject(o, k, buf);
}

static void
raise_goose(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct goose_pdu *g, const struct gstream *st, const char *det,
    enum det_severity sev, const char *tech, const char *what)
{
	struct det_alert a;
	char title[200];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	snprintf(title, sizeof(title), "GOOSE %s: %.*s", what,
	    (int)(g->gocb_ref_len > REF_KEEP ? REF_KEEP : g->gocb_ref_len),
	    (const char *)g->gocb_ref);
	a.title = title;
	a.details = cJSON_CreateObject();
	str_add(a.details, "gocb_ref", g->gocb_ref, g->gocb_ref_len);
	cJSON_AddNumberToObject(a.details, "appid", g->hdr.appid);
	cJSON_AddNumberToObject(a.details, "st_num", g->st_num);
	cJSON_AddNumberToObject(a.details, "sq_num", g->sq_num);
	cJSON_AddNumberToObject(a.details, "conf_rev", g->conf_rev);
	cJSON_AddBoolToObject(a.details, "simulation",
	    g->simulation || g->hdr.simulated);
	if (st != NULL) {
		cJSON_AddNumberToObject(a.details, "learned_st_num", st->st);
		cJSON_AddNumberToObject(a.details, "learned_sq_num", st->sq);
		cJSON_AddNumberToObject(a.details, "learned_conf_rev",
		    st->conf_rev);
	}
	a.agg_key = det;
	det_alert(ctx, &a);
}

static bool
known_mac(const struct gstream *st, const uint8_t *mac)
{
	uint8_t i;

	for (i = 0; i < st->nmac; i++)
		if (memcmp(st->mac[i], mac, 6) == 0)
			return true;
	return false;
}

/* Sequence checks for a frame of a known publisher (state is updated). */
static void
order(struct goose_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct goose_pdu *g, struct gstream *st)
{
	char what[96];
	/*
	 * A restarted publisher begins again at stNum 1 with sqNum 0 (Ed. 2)
	 * or 1 (several Ed. 1 IEDs: goose-icsnpp.pcap's F650 does).
	 */
	bool restart = g->st_num == 1 && g->sq_num <= 1;

	if (g->st_num == st->st) {
		/* sqNum wraps to 1 after its maximum (61850-8-1 Ed. 2) */
		if (g->sq_num < st->sq && st->sq < UINT32_MAX - 16 && !restart)
			raise_goose(ctx, pdu, g, st, "goose.sqnum_reset",
			    SEV_HIGH, "T0830",
			    "sqNum back without a state change (replay)");
	} else if (g->st_num > st->st) {
		if (g->st_num - st->st > s->max_step) {
			snprintf(what, sizeof(what), "stNum jumps by %u",
			    g->st_num - st->st);
			raise_goose(ctx, pdu, g, st, "goose.stnum_jump",
			    SEV_HIGH, "T0856", what);
		}
	} else if (!restart && !(st->st > UINT32_MAX - 16 && g->st_num < 16)) {
		raise_goose(ctx, pdu, g, st, "goose.stnum_regression", SEV_HIGH,
		    "T0830", "stNum goes back (replayed or injected frames)");
	}
	st->st = g->st_num;
	st->sq = g->sq_num;
	st->data_hash = g->data_hash;
}

static void
on_goose(struct goose_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct goose_pdu *g)
{
	const struct flow_endpoint *src = pdu->sender_is_cli ?
	    &pdu->flow->cli : &pdu->flow->srv;
	uint8_t key[10];
	struct gstream *st;
	size_t klen;
	int fresh;

	if (!src->has_mac)
		return;
	if (g->simulation || g->hdr.simulated)
		raise_goose(ctx, pdu, g, NULL, "goose.simulation", SEV_MEDIUM,
		    "T0856", "simulation flag set on the production network");
	klen = stream_key(key, g->gocb_ref, g->gocb_ref_len, g->hdr.appid);
	st = ipmap_put(s->streams, key, klen, pdu->ts, &fresh);
	if (st == NULL)
		return;
	if (fresh) {
		st->st = g->st_num;
		st->sq = g->sq_num;
		st->conf_rev = g->conf_rev;
		st->data_hash = g->data_hash;
		st->appid = g->hdr.appid;
		memcpy(st->mac[0], src->mac, 6);
		st->nmac = 1;
		snprintf(st->ref, sizeof(st->ref), "%.*s",
		    (int)(g->gocb_ref_len > REF_KEEP ? REF_KEEP :
		    g->gocb_ref_len), (const char *)g->gocb_ref);
		st->tal_ms = g->tal_ms;
		st->last_ts = pdu->ts;
		return;
	}
	if (g->conf_rev != st->conf_rev)
		raise_goose(ctx, pdu, g, st, "goose.confrev_change", SEV_MEDIUM,
		    "T0856", "confRev differs from the publisher's");
	if (!known_mac(st, src->mac)) {
		/*
		 * A new state from a MAC that never published this block is
		 * what a GOOSE injection looks like; its frames never move
		 * the learned stream.
		 */
		if (g->st_num != st->st || g->data_hash != st->data_hash)
			raise_goose(ctx, pdu, g, st, "goose.new_publisher",
			    SEV_HIGH, "T0856",
			    "state change from a MAC never seen publishing it");
		return;
	}
	if (g->conf_rev == st->conf_rev || st->conf_rev == 0)
		st->conf_rev = g->conf_rev;
	order(s, ctx, pdu, g, st);
	st->tal_ms = g->tal_ms;
	st->last_ts = pdu->ts;
	st->missing = 0;
}

static void
on_sv(struct goose_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct sv_pdu *m)
{
	const struct flow_endpoint *src = pdu->sender_is_cli ?
	    &pdu->flow->cli : &pdu->flow->srv;
	struct svstream *st;
	struct det_alert a;
	uint8_t key[10];
	char title[200], mac[24];
	size_t klen;
	int fresh;

	if (!src->has_mac || m->n_asdu == 0)
		return;
	klen = stream_key(key, m->asdu[0].sv_id, m->asdu[0].sv_id_len,
	    m->hdr.appid);
	st = ipmap_put(s->sv, key, klen, pdu->ts, &fresh);
	if (st == NULL)
		return;
	if (fresh) {
		memcpy(st->mac, src->mac, 6);
		st->appid = m->hdr.appid;
		return;
	}
	if (memcmp(st->mac, src->mac, 6) == 0)
		return;
	det_alert_from_pdu(&a, pdu);
	a.detector = "sv.second_source";
	a.severity = SEV_HIGH;
	a.technique = "T0856";
	snprintf(title, sizeof(title),
	    "Sampled Values stream %.*s from a second source",
	    (int)(m->asdu[0].sv_id_len > REF_KEEP ? REF_KEEP :
	    m->asdu[0].sv_id_len), (const char *)m->asdu[0].sv_id);
	a.title = title;
	a.details = cJSON_CreateObject();
	str_add(a.details, "sv_id", m->asdu[0].sv_id, m->asdu[0].sv_id_len);
	cJSON_AddNumberToObject(a.details, "appid", m->hdr.appid);
	cJSON_AddNumberToObject(a.details, "smp_cnt", m->asdu[0].smp_cnt);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
	    st->mac[0], st->mac[1], st->mac[2], st->mac[3], st->mac[4],
	    st->mac[5]);
	cJSON_AddStringToObject(a.details, "first_source", mac);
	a.agg_key = "sv.second_source";
	det_alert(ctx, &a);
}

static void
goose_pdu_fn(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	if (pdu->proto == ICS_GOOSE)
		on_goose(state, ctx, pdu, pdu->u.goose);
	else if (pdu->proto == ICS_SV)
		on_sv(state, ctx, pdu, pdu->u.sv);
}

/* One stream on a tick: has its publisher fallen silent beyond TAL? */
static int
check_heartbeat(void *arg, const void *key, size_t klen, void *val)
{
	struct goose_state *s = arg;
	struct gstream *st = val;
	struct det_alert a;
	char title[160];
	uint64_t limit;

	(void)key;
	(void)klen;
	if (st->missing || st->tal_ms == 0)
		return 0;
	limit = (uint64_t)((double)st->tal_ms * 1000.0 * s->tal_factor);
	if (s->tick_now <= st->last_ts + limit)
		return 0;
	st->missing = 1;
	memset(&a, 0, sizeof(a));
	a.detector = "goose.heartbeat_missing";
	a.severity = SEV_HIGH;
	a.technique = "T0814";
	a.proto = ics_proto_name(ICS_GOOSE);
	a.ts = s->tick_now;
	a.src.has_mac = true;
	memcpy(a.src.mac, st->mac[0], 6);
	snprintf(title, sizeof(title), "GOOSE publisher silent beyond TAL: %s",
	    st->ref);
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "gocb_ref", st->ref);
	cJSON_AddNumberToObject(a.details, "appid", st->appid);
	cJSON_AddNumberToObject(a.details, "tal_ms", st->tal_ms);
	cJSON_AddNumberToObject(a.details, "silent_ms",
	    (double)((s->tick_now - st->last_ts) / 1000));
	cJSON_AddNumberToObject(a.details, "last_st_num", st->st);
	det_alert(s->tick_ctx, &a);
	return 0;
}

static void
goose_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct goose_state *s = state;

	s->tick_ctx = ctx;
	s->tick_now = now;
	ipmap_each(s->streams, check_heartbeat, s);
}

const struct detector det_goose = {
	.name = "goose",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_GOOSE) | DET_PROTO(ICS_SV),
	.init = goose_init,
	.on_pdu = goose_pdu_fn,
	.on_tick = goose_tick,
	.destroy = goose_destroy,
};
