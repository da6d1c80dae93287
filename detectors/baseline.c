/*
 * baseline.c - learn what normal looks like, then flag what is new.
 *
 * [detector.baseline] learn = FILE learns from this run and writes FILE at
 * the end (an existing FILE is loaded first and extended, so learning more
 * traffic into a baseline only ever adds to it).  file = FILE detects
 * against a baseline learned before:
 *
 *   baseline.new_asset            a host the baseline does not know: info
 *                                 when it only speaks IT protocols, low when
 *                                 it speaks an industrial protocol
 *   baseline.new_link             an industrial client->server link (or a
 *                                 protocol between two hosts) never seen;
 *                                 high + T0855 when its first request is a
 *                                 write by a host that never wrote, high +
 *                                 T0848 for any other request to a server
 *                                 whose clients were learned (rogue master)
 *   baseline.new_function         a function code / service / type id never
 *                                 seen on a known link; T0855 (high) for a
 *                                 write by a host that never wrote, T0888
 *                                 for device identification by a host that
 *                                 never identified devices
 *   baseline.write_outside_range  a write to addresses outside those the
 *                                 link wrote while learning          T0836
 *   baseline.rate                 requests on a link far above the learned
 *                                 rate (max over rate_window windows) T0814
 *   baseline.remote_service       SSH/RDP/Telnet/VNC/SMB/... on a link the
 *                                 baseline never saw                 T0886
 *
 * The verdict hook answers det_policy() for the other detectors from the
 * loaded baseline: a host that wrote (identified devices, used remote
 * access) while learning, or is listed in the file's allowed_* lists, is
 * allowed; one that did not is denied, but only for protocols the baseline
 * covers.  [policy] wins over it (detectors/services.c).
 *
 * Everything is bounded: max_assets / max_links entries, a fixed number of
 * function codes and write ranges per link; what does not fit is counted.
 * Per packet the detector does nothing but for remote-access ports; the
 * work is per PDU (one cached table slot per flow) and per flow.
 *
 * The model is baseline_model.c, the file (format in docs/baseline.md)
 * baseline_file.c.
 */
#include "detectors/baseline_model.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "lib/ids.h"
#include "lib/ipmap.h"
#include "detectors/baseline_ckpt.h"
#include "detectors/baseline_file.h"
#include "detectors/baseline_l2.h"
#include "detectors/blext.h"
#include "detectors/inventory.h"


struct bl_state {
	char		 learn_path[1024], file_path[1024];
	struct model	*learn;		/* extended and written at the end */
	struct model	*det;		/* detected against; read only */
	uint64_t	 window_us;
	double		 window_s, factor, min_obs_s;
	uint32_t	 min_requests;
	uint32_t	 asset_alerts;	/* per minute */
	uint64_t	 bucket_start;
	uint32_t	 bucket_used;
	uint64_t	 suppressed;
	bool		 full_reported;
	struct bl_ckpt	 ckpt;		/* --learn checkpoints */
};

static const struct cfg_key keys[] = {
	{ "learn", CFG_STR, NULL, 0, 0,
	  "learn from this run and write the baseline to FILE at the end (an existing FILE is extended)" },
	{ "file", CFG_STR, NULL, 0, 0,
	  "detect deviations from the baseline in FILE" },
	{ "checkpoint_minutes", CFG_DOUBLE, "10", 0, 10080,
	  "while learning, write the learn FILE (atomically) every this many minutes of traffic (0: only at the end)" },
	{ "rate_window", CFG_DOUBLE, "10", 1, 3600,
	  "seconds per window over which request rates are measured" },
	{ "rate_factor", CFG_DOUBLE, "4", 1, 1000000,
	  "a link's requests per window above this many times its learned maximum raise baseline.rate" },
	{ "rate_min_requests", CFG_INT, "50", 1, 1000000000,
	  "never raise baseline.rate for fewer requests than this in one window" },
	{ "min_observation", CFG_DOUBLE, "60", 0, 31536000,
	  "seconds a link must have been seen while learning before its rate is trusted" },
	{ "max_assets", CFG_INT, "65536", 16, 10000000,
	  "hosts kept (learned and new); beyond it they are counted as dropped" },
	{ "max_links", CFG_INT, "65536", 16, 100000000,
	  "links kept (learned and new); beyond it they are counted as dropped" },
	{ "new_asset_alerts", CFG_INT, "30", 1, 1000000,
	  "baseline.new_asset alerts per minute at most (the rest are counted)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* ---- state ------------------------------------------------------------------- */

static void
bl_destroy(void *state)
{
	struct bl_state *s = state;

	if (s == NULL)
		return;
	bl_model_free(s->learn);
	bl_model_free(s->det);
	free(s);
	inv_oui_drop();
}

static int
bl_init_inner(const struct cfg *c, const char *sec, void **state)
{
	struct bl_state *s;
	uint32_t ma = (uint32_t)cfg_int(c, sec, "max_assets");
	uint32_t ml = (uint32_t)cfg_int(c, sec, "max_links");
	int rc;

	bl_err[0] = '\0';
	*state = NULL;
	snprintf(bl_err, sizeof(bl_err), "baseline: out of memory");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return IDS_ENOMEM;
	inv_oui_hold();
	snprintf(s->learn_path, sizeof(s->learn_path), "%s", cfg_str(c, sec, "learn"));
	snprintf(s->file_path, sizeof(s->file_path), "%s", cfg_str(c, sec, "file"));
	s->window_s = cfg_double(c, sec, "rate_window");
	s->window_us = (uint64_t)(s->window_s * 1e6);
	s->factor = cfg_double(c, sec, "rate_factor");
	s->min_requests = (uint32_t)cfg_int(c, sec, "rate_min_requests");
	s->min_obs_s = cfg_double(c, sec, "min_observation");
	s->asset_alerts = (uint32_t)cfg_int(c, sec, "new_asset_alerts");
	bl_ckpt_init(&s->ckpt, cfg_double(c, sec, "checkpoint_minutes"));
	if (s->learn_path[0] != '\0') {
		if ((s->learn = bl_model_new(ma, ml)) == NULL) {
			bl_destroy(s);
			return IDS_ENOMEM;
		}
		/* extend an existing baseline; never clobber a bad one */
		if (strcmp(s->learn_path, "-") != 0 && access(s->learn_path, F_OK) == 0 &&
		    (rc = bl_model_load(s->learn, s->learn_path)) != 0) {
			bl_destroy(s);
			return rc;
		}
	}
	if (s->file_path[0] != '\0') {
		if ((s->det = bl_model_new(ma, ml)) == NULL) {
			bl_destroy(s);
			return IDS_ENOMEM;
		}
		if ((rc = bl_model_load(s->det, s->file_path)) != 0) {
			bl_destroy(s);
			return rc;
		}
		bl_derive(s->det);
	}
	bl_err[0] = '\0';
	*state = s;
	/* neither learning nor detecting: no work per packet */
	return s->learn == NULL && s->det == NULL ? DET_INACTIVE : 0;
}

/* ---- learning ------------------------------------------------------------------ */

static const uint8_t zero_mac[6];

/* 0.0.0.0 or :: (a DHCP client): not a host of its own */
static bool
unspecified(uint8_t af, const uint8_t *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip, zero, af == 6 ? 16 : 4) == 0;
}

static struct bl_asset *
flow_asset(struct model *m, const struct flow *f, bool client)
{
	struct cache_ent *c = &m->cache[f->id % CACHE];
	const struct flow_endpoint *e = client ? &f->cli : &f->srv;
	struct bl_asset *a;
	bool fresh;
	int side = client ? 0 : 1;

	if (c->flow_id == f->id && c->asset[side] != 0)
		return bl_tab_at(&m->assets, c->asset[side] - 1);
	if (unspecified(f->af, e->ip))
		return NULL;
	a = bl_asset_put(m, f->af, e->ip, &fresh);
	if (a == NULL)
		return NULL;
	if (c->flow_id != f->id) {
		memset(c, 0, sizeof(*c));
		c->flow_id = f->id;
	}
	c->asset[side] = bl_tab_index(&m->assets, a) + 1;
	if (!a->has_mac && e->has_mac && memcmp(e->mac, zero_mac, 6) != 0) {
		a->has_mac = 1;
		memcpy(a->mac, e->mac, 6);
	}
	return a;
}

/* The link of a PDU: orient 0 when its client is flow->cli. */
static struct bl_link *
pdu_link(struct model *m, const struct det_pdu *pdu, int orient, bool *fresh)
{
	const struct flow *f = pdu->flow;
	struct cache_ent *c = &m->cache[f->id % CACHE];
	const struct flow_endpoint *cli = orient == 0 ? &f->cli : &f->srv;
	const struct flow_endpoint *srv = orient == 0 ? &f->srv : &f->cli;
	struct bl_link *l;
	struct bl_key k;

	*fresh = false;
	if (c->flow_id == f->id && c->proto == pdu->proto && c->link[orient] != 0)
		return bl_tab_at(&m->links, c->link[orient] - 1);
	bl_make_key(&k, f->af, (uint8_t)pdu->proto, f->transport, srv->port, cli->ip,
	    srv->ip);
	if ((l = bl_tab_put(&m->links, &k, fresh)) == NULL)
		return NULL;
	if (c->flow_id != f->id) {
		memset(c, 0, sizeof(*c));
		c->flow_id = f->id;
	}
	if (c->proto != pdu->proto) {
		c->link[0] = c->link[1] = 0;
		c->proto = (uint8_t)pdu->proto;
	}
	c->link[orient] = bl_tab_index(&m->links, l) + 1;
	return l;
}

static bool
is_group_addr(uint8_t af, const uint8_t *ip)
{
	if (af == 4)
		return ip[0] >= 224 || ip[3] == 255;
	return ip[0] == 0xff;
}

/* Who asks and who answers in a PDU; false when it has no link (an announce). */
static bool
orient_pdu(const struct det_pdu *pdu, int role, int *orient)
{
	const struct flow *f = pdu->flow;
	const uint8_t *rcv = pdu->sender_is_cli ? f->srv.ip : f->cli.ip;

	if (role == 0)
		return false;
	/* the client is the sender of a request, the receiver of an answer */
	*orient = (role == 1) == pdu->sender_is_cli ? 0 : 1;
	/* an answer to a broadcast address is an announcement (I-Am) */
	return !(role == 2 && is_group_addr(f->af, rcv));
}

static void
window_learn(struct bl_link *l, uint64_t ts, uint64_t w)
{
	if (ts >= l->win_start + w) {
		if (l->win_count > l->win_max)
			l->win_max = l->win_count;
		l->win_start = ts;
		l->win_count = 0;
	}
	l->win_count++;
}

static void
learn_pdu(struct bl_state *s, struct model *m, const struct det_pdu *pdu,
    int role, const struct proto_req *r)
{
	struct bl_asset *a;
	struct bl_link *l;
	uint8_t i;
	int orient;
	bool fresh;

	a = flow_asset(m, pdu->flow, pdu->sender_is_cli);
	if (a != NULL) {
		bl_seen(&a->first, &a->last, pdu->ts);
		if (role == 1)
			a->cli |= 1u << pdu->proto;
		else if (role == 2)
			a->srv |= 1u << pdu->proto;
	}
	bl_seen(&m->first, &m->last, pdu->ts);
	if (!orient_pdu(pdu, role, &orient))
		return;
	if ((l = pdu_link(m, pdu, orient, &fresh)) == NULL)
		return;
	bl_seen(&l->first, &l->last, pdu->ts);
	if (role != 1)
		return;
	for (i = 0; i < r->nops; i++)
		bl_fn_add(l, r->code[i]);
	for (i = 0; i < r->nrg; i++)
		bl_rg_add(l, &r->rg[i]);
	window_learn(l, pdu->ts, s->window_us);
}

/* A TCP server that answered with more than a reset, or any UDP reply. */
static bool
answered(const struct flow *f)
{
	if (f->pkts[FLOW_S2C] == 0)
		return false;
	if (f->transport == 6)
		return (f->tcp_flags[FLOW_S2C] & (PKT_TCP_SYN | PKT_TCP_PSH)) != 0 ||
		    (f->tcp_flags[FLOW_S2C] & PKT_TCP_RST) == 0;
	return true;
}

static void
learn_flow(struct model *m, const struct flow *f)
{
	struct bl_asset *c, *v;
	struct bl_link *l;
	struct bl_key k;
	bool rev, fresh;
	int svc;

	c = flow_asset(m, f, true);
	if (c != NULL) {
		bl_seen(&c->first, &c->last, f->first_ts);
		bl_seen(&c->first, &c->last, f->last_ts);
	}
	bl_seen(&m->first, &m->last, f->first_ts);
	bl_seen(&m->first, &m->last, f->last_ts);
	if (!answered(f))
		return;
	/* the server answered soon after the flow began */
	v = flow_asset(m, f, false);
	if (v != NULL) {
		bl_seen(&v->first, &v->last, f->first_ts);
		bl_seen(&v->first, &v->last, f->last_ts);
	}
	/*
	 * Adding the server may have grown (moved) the asset table: take the
	 * client again, by the index flow_asset cached, not the old pointer.
	 */
	c = flow_asset(m, f, true);
	if (f->ics != ICS_NONE || (svc = inv_service(f, &rev)) < 0)
		return;
	if (rev) {
		struct bl_asset *t = c;

		c = v;
		v = t;
	}
	if (rev)
		bl_make_key(&k, f->af, ICS_NONE, f->transport, f->cli.port, f->srv.ip,
		    f->cli.ip);
	else
		bl_make_key(&k, f->af, ICS_NONE, f->transport, f->srv.port, f->cli.ip,
		    f->srv.ip);
	if ((l = bl_tab_put(&m->links, &k, &fresh)) != NULL) {
		if (fresh)
			l->svc = (uint8_t)svc;
		bl_seen(&l->first, &l->last, f->first_ts);
		bl_seen(&l->first, &l->last, f->last_ts);
	}
	if (c != NULL)
		c->it_cli |= 1u << svc;
	if (v != NULL)
		v->it_srv |= 1u << svc;
}

/* ---- detection ---------------------------------------------------------------- */

static void
endpoints(struct det_alert *a, const struct flow *f, int orient)
{
	det_endpoint_from_flow(&a->src, f, orient == 0);
	det_endpoint_from_flow(&a->dst, f, orient != 0);
}

static bool
in_nets(const struct cfg_nets *n, uint8_t af, const uint8_t *ip)
{
	return n->n > 0 && cfg_nets_contains(n, af, ip);
}

static bool
is_writer(const struct model *m, uint8_t proto, uint8_t af, const uint8_t *ip)
{
	const struct bl_asset *a;

	if (in_nets(&m->writers[proto], af, ip))
		return true;
	a = bl_asset_get(m, af, ip);
	return a != NULL && a->learned && (a->writer >> proto & 1);
}

static bool
is_discoverer(const struct model *m, uint8_t proto, uint8_t af,
    const uint8_t *ip)
{
	const struct bl_asset *a;

	if (in_nets(&m->discovery, af, ip))
		return true;
	a = bl_asset_get(m, af, ip);
	return a != NULL && a->learned && (a->discoverer >> proto & 1);
}

/* At most new_asset_alerts a minute; true when this one may go out. */
static bool
asset_budget(struct bl_state *s, uint64_t ts)
{
	if (ts >= s->bucket_start + 60000000u) {
		s->bucket_start = ts;
		s->bucket_used = 0;
	}
	if (s->bucket_used >= s->asset_alerts) {
		s->suppressed++;
		return false;
	}
	s->bucket_used++;
	return true;
}

static void
raise_new_asset(struct bl_state *s, struct det_ctx *ctx, const struct flow *f,
    bool client, uint64_t ts, const char *proto, bool ics)
{
	struct det_alert a;
	const char *vendor;
	char title[200], ipb[64];

	if (!asset_budget(s, ts))
		return;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, client);
	det_endpoint_from_flow(&a.dst, f, !client);
	a.detector = "baseline.new_asset";
	a.severity = ics ? SEV_LOW : SEV_INFO;
	a.ts = ts;
	a.proto = proto;
	if (ics)
		snprintf(title, sizeof(title),
		    "Host %s not in the baseline speaks %s",
		    det_ip_str(&a.src, ipb, sizeof(ipb)), proto);
	else
		snprintf(title, sizeof(title), "Host %s not in the baseline",
		    det_ip_str(&a.src, ipb, sizeof(ipb)));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "ip", ipb);
	cJSON_AddBoolToObject(a.details, "industrial", ics);
	if (a.src.has_mac && (vendor = inv_oui_vendor(a.src.mac)) != NULL)
		cJSON_AddStringToObject(a.details, "vendor", vendor);
	if (s->suppressed > 0) {
		cJSON_AddNumberToObject(a.details, "suppressed_before",
		    (double)s->suppressed);
		s->suppressed = 0;
	}
	a.agg_key = ics ? "ics" : "it";
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

static void
raise_pdu_alert(struct det_ctx *ctx, const struct det_pdu *pdu, int orient,
    const char *det, enum det_severity sev, const char *tech,
    const char *title, cJSON *d, const char *agg)
{
	struct det_alert a;

	memset(&a, 0, sizeof(a));
	endpoints(&a, pdu->flow, orient);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	a.proto = ics_proto_name(pdu->proto);
	a.ts = pdu->ts;
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
detect_new_link(struct bl_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, int orient, int role, const struct proto_req *r)
{
	const struct flow *f = pdu->flow;
	const uint8_t *cip = orient == 0 ? f->cli.ip : f->srv.ip;
	const uint8_t *sip = orient == 0 ? f->srv.ip : f->cli.ip;
	const struct bl_asset *ca = bl_asset_get(s->det, f->af, cip);
	const struct bl_asset *sa = bl_asset_get(s->det, f->af, sip);
	enum det_severity sev = SEV_MEDIUM;
	const char *tech = NULL, *pn = ics_proto_name(pdu->proto);
	char title[220], cb[64], sb[64], nb[64];
	bool write = false;
	uint8_t i;
	cJSON *d;

	for (i = 0; role == 1 && i < r->nops; i++)
		if (bl_code_flags((uint8_t)pdu->proto, r->code[i]) & OP_WRITE)
			write = true;
	if (write && (s->det->covered >> pdu->proto & 1) &&
	    !is_writer(s->det, (uint8_t)pdu->proto, f->af, cip)) {
		sev = SEV_HIGH;
		tech = "T0855";
	} else if (role == 1 && sa != NULL && sa->learned &&
	    (sa->srv >> pdu->proto & 1)) {
		/*
		 * Any request, a read or an identification too, to a server
		 * whose clients were learned, from a host that was not one of
		 * them: a rogue master.
		 */
		sev = SEV_HIGH;
		tech = "T0848";
	}
	snprintf(title, sizeof(title), "New %s link %s -> %s:%u not in the baseline%s",
	    pn, inv_ip_text(f->af, cip, cb, sizeof(cb)),
	    inv_ip_text(f->af, sip, sb, sizeof(sb)),
	    orient == 0 ? f->srv.port : f->cli.port,
	    tech == NULL ? "" : tech[4] == '5' ?
	    " (write by a host that never wrote)" :
	    " (request from a host that is not a known client: rogue master)");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "protocol", pn);
	cJSON_AddNumberToObject(d, "port", orient == 0 ? f->srv.port : f->cli.port);
	cJSON_AddBoolToObject(d, "client_known", ca != NULL && ca->learned);
	cJSON_AddBoolToObject(d, "server_known", sa != NULL && sa->learned);
	cJSON_AddBoolToObject(d, "protocol_new_to_server",
	    sa == NULL || !sa->learned || !((sa->srv | sa->cli) >> pdu->proto & 1));
	if (role == 1 && r->nops > 0) {
		cJSON_AddNumberToObject(d, "function", r->code[0]);
		cJSON_AddStringToObject(d, "function_name",
		    bl_code_name((uint8_t)pdu->proto, r->code[0], nb, sizeof(nb)));
	}
	raise_pdu_alert(ctx, pdu, orient, "baseline.new_link", sev, tech, title, d,
	    NULL);
}

static void
detect_new_function(struct bl_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, int orient, struct bl_link *l, uint16_t code)
{
	const struct flow *f = pdu->flow;
	const uint8_t *cip = orient == 0 ? f->cli.ip : f->srv.ip;
	uint8_t fl = bl_code_flags((uint8_t)pdu->proto, code);
	enum det_severity sev = SEV_MEDIUM;
	const char *tech = NULL, *pn = ics_proto_name(pdu->proto), *name;
	char title[240], cb[64], sb[64], nb[64], agg[16];
	cJSON *d, *known;
	uint8_t i;

	if ((fl & OP_WRITE) && !is_writer(s->det, (uint8_t)pdu->proto, f->af, cip)) {
		sev = SEV_HIGH;
		tech = "T0855";
	} else if ((fl & OP_DISC) &&
	    !is_discoverer(s->det, (uint8_t)pdu->proto, f->af, cip))
		tech = "T0888";
	name = bl_code_name((uint8_t)pdu->proto, code, nb, sizeof(nb));
	snprintf(title, sizeof(title), "New %s function %u (%s) on %s -> %s%s", pn,
	    code, name, inv_ip_text(f->af, cip, cb, sizeof(cb)),
	    inv_ip_text(f->af, orient == 0 ? f->srv.ip : f->cli.ip, sb, sizeof(sb)),
	    sev == SEV_HIGH ? " from a host that never wrote" : "");
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "function", code);
	cJSON_AddStringToObject(d, "function_name", name);
	cJSON_AddBoolToObject(d, "write", (fl & OP_WRITE) != 0);
	known = cJSON_AddArrayToObject(d, "learned_functions");
	for (i = 0; i < l->nfn_learned; i++)
		cJSON_AddItemToArray(known, cJSON_CreateNumber(l->fn[i]));
	snprintf(agg, sizeof(agg), "%u", code);
	raise_pdu_alert(ctx, pdu, orient, "baseline.new_function", sev, tech,
	    title, d, agg);
}

static void
detect_range(struct det_ctx *ctx, const struct det_pdu *pdu, int orient,
    const struct bl_link *l, const struct proto_range *r)
{
	char title[240], rb[96], agg[32];
	cJSON *d, *w;
	uint8_t i;

	snprintf(title, sizeof(title), "%s write to %s outside the learned ranges",
	    ics_proto_name(pdu->proto), bl_range_text((uint8_t)pdu->proto, r, rb,
	    sizeof(rb)));
	d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "write", bl_range_json((uint8_t)pdu->proto, r));
	w = cJSON_AddArrayToObject(d, "learned");
	for (i = 0; i < l->nrg; i++)
		cJSON_AddItemToArray(w, bl_range_json((uint8_t)pdu->proto, &l->rg[i]));
	snprintf(agg, sizeof(agg), "%u:%u", r->space, r->lo);
	raise_pdu_alert(ctx, pdu, orient, "baseline.write_outside_range", SEV_HIGH,
	    "T0836", title, d, agg);
}

static void
detect_rate(struct bl_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    int orient, struct bl_link *l)
{
	double thr, rate;
	char title[240];
	cJSON *d;

	if (pdu->ts >= l->win_start + s->window_us) {
		l->win_start = pdu->ts;
		l->win_count = 0;
		l->win_alerted = 0;
	}
	l->win_count++;
	if (l->win_alerted || l->max_rate <= 0 ||
	    (double)(l->last - l->first) / 1e6 < s->min_obs_s)
		return;
	thr = s->factor * l->max_rate * s->window_s;
	if (thr < s->min_requests)
		thr = s->min_requests;
	if (l->win_count <= thr)
		return;
	l->win_alerted = 1;
	rate = l->win_count / s->window_s;
	snprintf(title, sizeof(title),
	    "%s request rate %.1f/s on a link that peaked at %.1f/s while learning",
	    ics_proto_name(pdu->proto), rate, l->max_rate);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "requests", l->win_count);
	cJSON_AddNumberToObject(d, "window_s", s->window_s);
	cJSON_AddNumberToObject(d, "learned_max_rate", l->max_rate);
	cJSON_AddNumberToObject(d, "factor", s->factor);
	raise_pdu_alert(ctx, pdu, orient, "baseline.rate", SEV_HIGH, "T0814",
	    title, d, NULL);
}

static void
detect_pdu(struct bl_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    int role, const struct proto_req *r)
{
	struct model *m = s->det;
	struct bl_asset *a;
	struct bl_link *l;
	uint8_t i;
	int orient;
	bool fresh;

	/* a host speaking an industrial protocol the baseline never saw */
	a = flow_asset(m, pdu->flow, pdu->sender_is_cli);
	if ((a == NULL && !unspecified(pdu->flow->af, pdu->sender_is_cli ?
	    pdu->flow->cli.ip : pdu->flow->srv.ip)) ||
	    (a != NULL && !a->learned && !(a->alerted & AL_ICS))) {
		if (a != NULL)
			a->alerted |= AL_ICS | AL_IT;
		raise_new_asset(s, ctx, pdu->flow, pdu->sender_is_cli, pdu->ts,
		    ics_proto_name(pdu->proto), true);
	}
	if (!orient_pdu(pdu, role, &orient))
		return;
	l = pdu_link(m, pdu, orient, &fresh);
	if (l == NULL || (fresh && !l->learned)) {
		if (l != NULL)
			l->alerted = 1;
		detect_new_link(s, ctx, pdu, orient, role, r);
		return;
	}
	if (!l->learned || role != 1)
		return;
	for (i = 0; i < r->nops; i++) {
		if (bl_fn_has(l, r->code[i]))
			continue;
		bl_fn_add(l, r->code[i]);		/* once per link and code */
		if (!l->fn_full)
			detect_new_function(s, ctx, pdu, orient, l, r->code[i]);
	}
	/* only links that wrote while learning have ranges to compare with */
	for (i = 0; i < r->nrg && l->nrg > 0; i++)
		if (!bl_rg_near(l, &r->rg[i]))
			detect_range(ctx, pdu, orient, l, &r->rg[i]);
	detect_rate(s, ctx, pdu, orient, l);
}

static void
bl_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct bl_state *s = state;
	struct proto_req r;
	int role;

	if ((s->learn == NULL && s->det == NULL) || pdu->proto == ICS_NONE ||
	    (unsigned)pdu->proto >= ICS_NPROTO)
		return;
	/* layer-2 flows (af 0) have no IP hosts: GOOSE/SV streams and DCP
	 * stations are learned apart (baseline_l2.c) */
	if (pdu->flow->af == 0) {
		bl_l2_learn(s->learn != NULL ? s->learn->l2 : NULL, pdu,
		    s->window_us);
		bl_l2_detect(s->det != NULL ? s->det->l2 : NULL, ctx, pdu,
		    s->window_us, s->factor);
		return;
	}
	role = inv_pdu_sender_role(pdu);
	if (role == 1)
		bl_analyse(pdu, &r);
	else
		memset(&r, 0, sizeof(r));
	if (s->learn != NULL)
		learn_pdu(s, s->learn, pdu, role, &r);
	if (s->det != NULL)
		detect_pdu(s, ctx, pdu, role, &r);
}

/* Remote access (by port or nDPI) without the loop over every service. */
static bool
maybe_remote(const struct flow *f)
{
	switch (f->srv.port) {
	case 22: case 23: case 139: case 445: case 3389: case 5900: case 5901:
	case 5938: case 5985: case 5986: case 7070:
		return true;
	}
	switch (f->ndpi_app) {
	case NDPI_PROTOCOL_SSH: case NDPI_PROTOCOL_TELNET: case NDPI_PROTOCOL_RDP:
	case NDPI_PROTOCOL_VNC: case NDPI_PROTOCOL_SMBV1: case NDPI_PROTOCOL_SMBV23:
	case NDPI_PROTOCOL_TEAMVIEWER: case NDPI_PROTOCOL_ANYDESK:
		return true;
	}
	return false;
}

static void
bl_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct bl_state *s = state;
	const struct bl_asset *sa;
	struct bl_link *l;
	struct det_alert a;
	struct bl_key k;
	char title[200], cb[64], sb[64];
	bool rev, fresh;
	int svc;

	/* a remote-access session once the server has answered with data */
	if (s->det == NULL || dir != FLOW_S2C || f->transport != 6 ||
	    p->payload_len == 0 || f->ics != ICS_NONE || !maybe_remote(f))
		return;
	svc = inv_service(f, &rev);
	if (!inv_service_remote(svc) || rev)
		return;
	bl_make_key(&k, f->af, ICS_NONE, 6, f->srv.port, f->cli.ip, f->srv.ip);
	l = bl_tab_put(&s->det->links, &k, &fresh);
	if (l != NULL && (l->learned || l->alerted))
		return;
	if (l != NULL) {
		l->alerted = 1;
		l->svc = (uint8_t)svc;
	}
	sa = bl_asset_get(s->det, f->af, f->srv.ip);
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, true);
	det_endpoint_from_flow(&a.dst, f, false);
	a.detector = "baseline.remote_service";
	/* into a host that serves an industrial protocol: the control network */
	a.severity = sa != NULL && sa->learned && sa->srv != 0 ? SEV_HIGH :
	    SEV_MEDIUM;
	a.technique = "T0886";
	snprintf(title, sizeof(title), "%s session %s -> %s:%u never seen in the baseline",
	    inv_service_name(svc), det_ip_str(&a.src, cb, sizeof(cb)),
	    det_ip_str(&a.dst, sb, sizeof(sb)), f->srv.port);
	a.title = title;
	a.proto = inv_service_name(svc);
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "service", inv_service_name(svc));
	cJSON_AddNumberToObject(a.details, "port", f->srv.port);
	cJSON_AddBoolToObject(a.details, "server_is_industrial",
	    sa != NULL && sa->learned && sa->srv != 0);
	a.src.port = 0;
	det_alert(ctx, &a);
}

static void
bl_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct bl_state *s = state;
	struct bl_asset *a;
	int side;

	if (s->learn != NULL)
		learn_flow(s->learn, f);
	if (s->det == NULL)
		return;
	/* hosts the baseline does not know, that only spoke IT protocols */
	for (side = 0; side < 2; side++) {
		if (side == 1 && !answered(f))
			break;
		if (unspecified(f->af, side == 0 ? f->cli.ip : f->srv.ip))
			continue;
		a = flow_asset(s->det, f, side == 0);
		if (a != NULL && (a->learned || a->alerted))
			continue;
		if (a != NULL)
			a->alerted |= AL_IT;
		raise_new_asset(s, ctx, f, side == 0, f->last_ts, f->transport == 6 ?
		    "tcp" : f->transport == 17 ? "udp" : "ip", false);
	}
	if (!s->full_reported && (s->det->assets.dropped || s->det->links.dropped)) {
		struct det_alert al;

		s->full_reported = true;
		memset(&al, 0, sizeof(al));
		det_endpoint_from_flow(&al.src, f, true);
		det_endpoint_from_flow(&al.dst, f, false);
		al.detector = "baseline.table_full";
		al.severity = SEV_INFO;
		al.title = "Baseline tables full: new hosts or links are no longer tracked";
		al.ts = f->last_ts;
		al.details = cJSON_CreateObject();
		cJSON_AddNumberToObject(al.details, "assets_dropped",
		    (double)s->det->assets.dropped);
		cJSON_AddNumberToObject(al.details, "links_dropped",
		    (double)s->det->links.dropped);
		det_alert(ctx, &al);
	}
}

/* ---- verdicts for det_policy() ------------------------------------------------ */

static enum det_verdict
bl_verdict(void *state, enum ics_proto proto, enum det_role role,
    const struct det_endpoint *src)
{
	const struct bl_state *s = state;
	const struct model *m = s != NULL ? s->det : NULL;
	const struct bl_asset *a;
	uint8_t p = (uint8_t)proto;

	if (m == NULL || (unsigned)proto >= ICS_NPROTO)
		return DET_UNSET;
	/* S7comm-plus shares S7comm's writers (as [policy] s7_writers does) */
	if (proto == ICS_S7COMMPLUS && !(m->covered >> p & 1))
		p = ICS_S7COMM;
	a = bl_asset_get(m, src->af, src->ip);
	if (a != NULL && !a->learned)
		a = NULL;
	switch (role) {
	case DET_ROLE_REMOTE:
		return in_nets(&m->remote, src->af, src->ip) || (a != NULL && a->remote) ?
		    DET_ALLOWED : DET_DENIED;
	case DET_ROLE_DISCOVERY:
		if (in_nets(&m->discovery, src->af, src->ip))
			return DET_ALLOWED;
		/* a port scan is not something a baseline learns */
		if (p == ICS_NONE || !(m->covered >> p & 1))
			return DET_UNSET;
		return a != NULL && (a->discoverer >> p & 1) ? DET_ALLOWED : DET_DENIED;
	case DET_ROLE_WRITER:
	case DET_ROLE_MASTER:
		if (p == ICS_NONE || !(m->covered >> p & 1))
			return DET_UNSET;
		if (in_nets(&m->writers[p], src->af, src->ip) ||
		    (a != NULL && (a->writer >> p & 1)))
			return DET_ALLOWED;
		if (role == DET_ROLE_MASTER && a != NULL && (a->cli >> p & 1))
			return DET_ALLOWED;
		return DET_DENIED;
	}
	return DET_UNSET;
}

/* ---- end of the run ------------------------------------------------------------- */

static int
bl_write(struct bl_state *s, char *err, size_t errlen)
{
	cJSON *root;
	char *txt;
	int rc;

	root = bl_model_json(s->window_s, s->learn);
	if (root != NULL)
		blext_dump(root);	/* cycles, envelopes (blext.h) */
	txt = root != NULL ? bl_model_text(root) : NULL;
	cJSON_Delete(root);
	if (txt == NULL) {
		snprintf(err, errlen, "%s: out of memory writing the baseline",
		    s->learn_path);
		return -1;
	}
	rc = bl_write_file(s->learn_path, txt, err, errlen);
	free(txt);
	return rc;
}

static int
bl_finish(void *state, struct det_ctx *ctx, char *err, size_t errlen)
{
	struct bl_state *s = state;

	(void)ctx;
	return s->learn != NULL ? bl_write(s, err, errlen) : 0;
}

/* --learn: a checkpoint of the learn file every checkpoint_minutes */
static void
bl_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct bl_state *s = state;
	char err[512];
	uint32_t h, l;

	(void)ctx;
	if (s->learn == NULL || strcmp(s->learn_path, "-") == 0)
		return;
	h = s->learn->assets.n;
	l = s->learn->links.n;
	if (bl_ckpt_due(&s->ckpt, now, h, l))
		bl_ckpt_done(&s->ckpt, now, s->learn_path, h, l,
		    bl_write(s, err, sizeof(err)) == 0 ? NULL : err);
}

static int
bl_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	int rc = bl_init_inner(c, sec, state);

	if (rc < 0)
		snprintf(err, errlen, "%s", bl_err);
	return rc;
}

/*
 * Overflow counters, both models summed: hosts and links the tables
 * turned away, and links whose fixed range or function lists filled up
 * (ranges are then widened, functions no longer told apart).
 */
static void
model_counters(const struct model *m, uint64_t c[4])
{
	uint32_t i;

	if (m == NULL)
		return;
	c[0] += m->assets.dropped;
	c[1] += m->links.dropped;
	for (i = 0; i < m->links.n; i++) {
		const struct bl_link *l = (const struct bl_link *)(void *)
		    (m->links.v + (size_t)i * m->links.esz);

		c[2] += l->rg_full;
		c[3] += l->fn_full;
	}
}

static void
bl_counters(void *state, det_counter_fn add, void *arg)
{
	struct bl_state *s = state;
	uint64_t c[4] = { 0, 0, 0, 0 };

	model_counters(s->learn, c);
	model_counters(s->det, c);
	add(arg, "assets_dropped", c[0]);
	add(arg, "links_dropped", c[1]);
	add(arg, "links_ranges_widened", c[2]);
	add(arg, "links_functions_full", c[3]);
}

const struct detector det_baseline = {
	.name = "baseline",
	.severity = SEV_MEDIUM,
	.keys = keys,
	.init = bl_init,
	.on_packet = bl_packet,
	.on_flow_end = bl_flow_end,
	.on_pdu = bl_pdu,
	.on_tick = bl_tick,
	.verdict = bl_verdict,
	.finish = bl_finish,
	.destroy = bl_destroy,
	.counters = bl_counters,
};

