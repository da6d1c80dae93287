/*
 * enip_session.c - EtherNet/IP RegisterSession requests per client.
 *
 * A CIP client registers one encapsulation session per TCP connection and
 * keeps it; adapters hold a few dozen sessions at most.  So:
 *
 *   enip.session_flood  a client sending flood RegisterSession requests to
 *                       one server within window_s: session exhaustion
 *                       (the adapter refuses its real scanners)   T0814
 *   enip.session_scan   a client registering sessions with scan distinct
 *                       servers within window_s: a sweep for CIP
 *                       devices                                   T0846
 *
 * Each is raised once per client (and server) per window.  Memory:
 * max_clients clients in a fixed table, SCAN_MAX servers remembered per
 * client; what does not fit is counted.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/wintab.h"
#include "dissectors/enip.h"
#include "dissectors/flow.h"

#define SCAN_MAX	32

struct cli {
	uint8_t		used, af;
	uint8_t		ip[16];
	uint64_t	start;		/* of the window */
	uint32_t	nsrv;
	uint8_t		srv[SCAN_MAX][16];
	uint16_t	count[SCAN_MAX];
	uint64_t	scan_alerted, flood_alerted;
};

struct esess {
	struct wintab	 t;	/* of struct cli */
	uint32_t	 flood, scan;
};

static const struct cfg_key keys[] = {
	{ "max_clients", CFG_INT, "128", 16, 1 << 20,
	  "clients whose RegisterSession requests are counted" },
	{ "window_s", CFG_INT, "10", 1, 3600, "seconds per window" },
	{ "flood", CFG_INT, "20", 2, 1000000,
	  "RegisterSession requests to one server within window_s that make a flood" },
	{ "scan", CFG_INT, "8", 2, SCAN_MAX,
	  "servers a client registers sessions with within window_s that make a scan" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static struct cli *
cli_get(struct esess *s, uint8_t af, const uint8_t *ip)
{
	struct cli *tab = s->t.slots;
	uint32_t h = 2166136261u;
	size_t i, k;
	int j;

	for (j = 0; j < 16; j++)
		h = (h ^ ip[j]) * 16777619u;
	for (i = h & (s->t.cap - 1), k = 0; k < s->t.cap;
	    k++, i = (i + 1) & (s->t.cap - 1)) {
		struct cli *c = &tab[i];

		if (!c->used) {
			if (!wintab_take(&s->t))
				return NULL;
			memset(c, 0, sizeof(*c));
			c->used = 1;
			c->af = af;
			memcpy(c->ip, ip, 16);
			return c;
		}
		if (c->af == af && !memcmp(c->ip, ip, 16))
			return c;
	}
	return NULL;
}

static void
raise(struct det_ctx *ctx, const struct det_pdu *pdu, const char *det,
    const char *tech, const char *title, uint32_t n, bool src_only)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = SEV_HIGH;
	a.technique = tech;
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, src_only ? "servers" : "requests", n);
	a.agg_src_only = src_only;
	det_alert(ctx, &a);
}

static void
es_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct esess *s = state;
	const struct enip_pdu *m = pdu->u.enip;
	const struct flow *f = pdu->flow;
	const uint8_t *cip, *sip;
	struct cli *c;
	uint32_t i;
	char title[200];

	if (m->command != ENIP_CMD_REGISTER_SESSION || !pdu->from_client ||
	    f == NULL || f->af == 0)
		return;
	cip = pdu->sender_is_cli ? f->cli.ip : f->srv.ip;
	sip = pdu->sender_is_cli ? f->srv.ip : f->cli.ip;
	if ((c = cli_get(s, f->af, cip)) == NULL)
		return;
	if (c->start == 0 || pdu->ts >= c->start + s->t.window_us) {
		c->start = pdu->ts;
		c->nsrv = 0;
	}
	for (i = 0; i < c->nsrv; i++)
		if (!memcmp(c->srv[i], sip, 16))
			break;
	if (i == c->nsrv) {
		if (c->nsrv == SCAN_MAX)
			return;
		memcpy(c->srv[c->nsrv], sip, 16);
		c->count[c->nsrv++] = 0;
	}
	if (c->count[i] < UINT16_MAX)
		c->count[i]++;
	if (c->count[i] == s->flood &&
	    wintab_once(&c->flood_alerted, pdu->ts, s->t.window_us)) {
		snprintf(title, sizeof(title),
		    "%u EtherNet/IP RegisterSession requests to one device in %u s "
		    "(session exhaustion)", c->count[i],
		    (unsigned)(s->t.window_us / 1000000u));
		raise(ctx, pdu, "enip.session_flood", "T0814", title, c->count[i],
		    false);
	}
	if (i + 1 == c->nsrv && c->nsrv == s->scan &&
	    wintab_once(&c->scan_alerted, pdu->ts, s->t.window_us)) {
		snprintf(title, sizeof(title),
		    "EtherNet/IP sessions registered with %u devices in %u s "
		    "(a sweep for CIP devices)", c->nsrv,
		    (unsigned)(s->t.window_us / 1000000u));
		raise(ctx, pdu, "enip.session_scan", "T0846", title, c->nsrv, true);
	}
}

static int
es_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct esess *s = calloc(1, sizeof(*s));

	if (s == NULL || wintab_init(&s->t, sizeof(struct cli),
	    (size_t)cfg_int(c, sec, "max_clients"),
	    cfg_int(c, sec, "window_s")) != 0) {
		free(s);
		snprintf(err, errlen, "enip_session: out of memory");
		return -1;
	}
	s->flood = (uint32_t)cfg_int(c, sec, "flood");
	s->scan = (uint32_t)cfg_int(c, sec, "scan");
	*state = s;
	return 0;
}

static void
es_destroy(void *state)
{
	struct esess *s = state;

	if (s != NULL)
		wintab_free(&s->t);
	free(s);
}

static int
es_stats(void *state, char *buf, size_t len)
{
	return wintab_stats(&((const struct esess *)state)->t, "clients", buf,
	    len);
}

static void
es_counters(void *state, det_counter_fn add, void *arg)
{
	add(arg, "clients_dropped", ((const struct esess *)state)->t.dropped);
}

const struct detector det_enip_session = {
	.name = "enip_session",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_ENIP),
	.init = es_init,
	.on_pdu = es_pdu,
	.stats = es_stats,
	.counters = es_counters,
	.destroy = es_destroy,
};
