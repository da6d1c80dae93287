/*
 * engine.c - the detector engine: starts every detector of det_registry
 * with its [detector.NAME] section and routes each event only to the
 * detectors that handle it.  The services detectors call are in
 * services.c.
 */
#include "detectors/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detectors/ctx.h"
#include "lib/ids.h"

#define MAX_DETECTORS	64
#define TICK_US		1000000u

static const struct cfg_key policy_keys[] = {
	{ "modbus_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send Modbus writes (fc 5/6/15/16/22/23)" },
	{ "dnp3_masters", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send DNP3 operate/direct operate/write" },
	{ "iec104_masters", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send IEC 104 commands (type 45-69)" },
	{ "s7_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send S7 write var" },
	{ "enip_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send CIP Set_Attribute / Write Tag" },
	{ "bacnet_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send BACnet WriteProperty" },
	{ "opcua_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send OPC UA Write/Call" },
	{ "fins_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send Omron FINS memory/parameter writes" },
	{ "mms_writers", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to send IEC 61850 MMS writes, program control, "
	  "downloads, domain and file operations" },
	{ "profinet_writers", CFG_STR, "", 0, 0,
	  "MAC addresses allowed to send PROFINET DCP Set and Identify all "
	  "(engineering station, IO controller)" },
	{ "discovery_allowed", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to identify devices and scan (asset tools)" },
	{ "remote_access_allowed", CFG_NETS, NULL, 0, 0,
	  "hosts allowed to use SSH/RDP/Telnet/VNC/SMB into ot_networks" },
	{ "ot_networks", CFG_NETS, NULL, 0, 0,
	  "the control networks (IPs/CIDRs) remote access is watched into" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

const struct cfg_schema det_policy_schema = { "policy", policy_keys };

/* Per event, only the detectors that handle it: no NULL checks per packet. */
/* the list's handler of one detector (the list says which member) */
#define HOOK_FN(m)	__typeof__(((struct detector *)0)->m) m
union hook_fn {
	HOOK_FN(on_packet);
	HOOK_FN(on_arp);
	HOOK_FN(on_flow_start);
	HOOK_FN(on_flow_end);
	HOOK_FN(on_flow_open);
	HOOK_FN(on_pdu);
	HOOK_FN(on_malformed);
	HOOK_FN(on_tick);
};

/* the handler itself, not its detector: one load less per call */
struct hook {
	union hook_fn		 fn;
	void			*state;
	struct det_ctx		*ctx;
};

struct hook_list {
	size_t			 n;
	struct hook		 h[MAX_DETECTORS];	/* a call's operands together */
};

struct det_engine {
	struct det_common	 common;
	struct det_ctx		 ctx[MAX_DETECTORS];	/* one per detector */
	size_t			 n;
	const struct detector	*d[MAX_DETECTORS];
	void			*state[MAX_DETECTORS];
	bool			 inactive[MAX_DETECTORS];
	bool			 disabled[MAX_DETECTORS];	/* enabled = false */
	uint64_t		 next_tick;
	struct hook_list	 packet, arp, flow_start, flow_end, flow_open, malformed;
	struct hook_list	 tick;
	struct hook_list	 pdu[ICS_NPROTO];	/* by protocol */
};

static void
hook_add(struct hook_list *l, union hook_fn fn, void *state,
    struct det_ctx *ctx)
{
	l->h[l->n].fn = fn;
	l->h[l->n].state = state;
	l->h[l->n].ctx = ctx;
	l->n++;
}

static void
build_hooks(struct det_engine *e)
{
	size_t i;
	int p;

	for (i = 0; i < e->n; i++) {
		const struct detector *d = e->d[i];
		void *st = e->state[i];
		struct det_ctx *cx = &e->ctx[i];

		if (e->inactive[i])
			continue;
		if (d->on_packet != NULL)
			hook_add(&e->packet, (union hook_fn){ .on_packet = d->on_packet }, st,
			    cx);
		if (d->on_arp != NULL)
			hook_add(&e->arp, (union hook_fn){ .on_arp = d->on_arp }, st,
			    cx);
		if (d->on_flow_start != NULL)
			hook_add(&e->flow_start, (union hook_fn){ .on_flow_start = d->on_flow_start }, st,
			    cx);
		if (d->on_flow_end != NULL)
			hook_add(&e->flow_end, (union hook_fn){ .on_flow_end = d->on_flow_end }, st,
			    cx);
		if (d->on_flow_open != NULL)
			hook_add(&e->flow_open, (union hook_fn){ .on_flow_open = d->on_flow_open }, st,
			    cx);
		if (d->on_malformed != NULL)
			hook_add(&e->malformed, (union hook_fn){ .on_malformed = d->on_malformed }, st,
			    cx);
		if (d->on_tick != NULL)
			hook_add(&e->tick, (union hook_fn){ .on_tick = d->on_tick }, st,
			    cx);
		if (d->on_pdu == NULL)
			continue;
		for (p = 0; p < ICS_NPROTO; p++)
			if (d->pdu_protos == 0 || (d->pdu_protos & (1u << p)))
				hook_add(&e->pdu[p],
				    (union hook_fn){ .on_pdu = d->on_pdu }, st, cx);
	}
}

static const struct cfg_nets *
configured(const struct cfg *c, const char *key)
{
	return cfg_is_set(c, "policy", key) ? cfg_nets(c, "policy", key) : NULL;
}

/* Keys every [detector.NAME] section has, before the detector's own. */
static const struct cfg_key common_keys[] = {
	{ "enabled", CFG_BOOL, "true", 0, 0,
	  "false: the detector is not started and sees no events" },
	{ "severity", CFG_STR, NULL, 0, 0,
	  "info, low, medium, high or critical: every alert of this detector gets it" },
};

#define NCOMMON		(sizeof(common_keys) / sizeof(common_keys[0]))
#define MAX_KEYS	48

/* Detector section names "detector.<name>" and their keys, built once. */
static char sec_names[MAX_DETECTORS][64];
static char sev_help[MAX_DETECTORS][160];
static struct cfg_key det_keys[MAX_DETECTORS][NCOMMON + MAX_KEYS + 1];
static struct cfg_schema det_schemas[MAX_DETECTORS];
static const struct cfg_schema *det_schema_ptrs[MAX_DETECTORS + 1];

const struct cfg_schema *const *
det_engine_schemas(size_t *n)
{
	const struct cfg_key *k;
	size_t i, j;

	for (i = 0; det_registry[i] != NULL && i < MAX_DETECTORS; i++) {
		snprintf(sec_names[i], sizeof(sec_names[i]), "detector.%s",
		    det_registry[i]->name);
		for (j = 0; j < NCOMMON; j++)
			det_keys[i][j] = common_keys[j];
		/* the detector's default severity, said where it can be changed */
		snprintf(sev_help[i], sizeof(sev_help[i]), "%s (default: the "
		    "detector's own per alert, mostly %s)", common_keys[1].help,
		    det_severity_name(det_registry[i]->severity));
		det_keys[i][1].help = sev_help[i];
		for (k = det_registry[i]->keys; k != NULL && k->name != NULL &&
		    j < NCOMMON + MAX_KEYS; k++)
			det_keys[i][j++] = *k;
		memset(&det_keys[i][j], 0, sizeof(det_keys[i][j]));
		det_schemas[i].section = sec_names[i];
		det_schemas[i].keys = det_keys[i];
		det_schema_ptrs[i] = &det_schemas[i];
	}
	det_schema_ptrs[i] = NULL;
	*n = i;
	return det_schema_ptrs;
}

struct det_engine *
det_engine_new(const struct cfg *c, const struct det_alert_sink *out, char *err,
    size_t errlen)
{
	const struct proto_desc *const *pd;
	struct det_engine *e;
	size_t i;
	int rc;

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->common.cfg = c;
	e->common.out = *out;
	/* each protocol names its own [policy] key (S7comm-plus shares s7's) */
	for (pd = proto_registry; *pd != NULL; pd++)
		if ((*pd)->policy_key != NULL)
			e->common.writers[(*pd)->id] = configured(c, (*pd)->policy_key);
	e->common.discovery = configured(c, "discovery_allowed");
	e->common.remote = configured(c, "remote_access_allowed");
	e->common.ot = configured(c, "ot_networks");
	for (i = 0; det_registry[i] != NULL && i < MAX_DETECTORS; i++) {
		const struct detector *d = det_registry[i];
		char sec[80], derr[512];
		const char *sev;

		snprintf(sec, sizeof(sec), "detector.%s", d->name);
		e->ctx[i].c = &e->common;
		e->ctx[i].severity = -1;
		e->d[i] = d;
		if (!cfg_bool(c, sec, "enabled")) {
			/* never started: no state, no events, no destroy */
			e->inactive[i] = e->disabled[i] = true;
			continue;
		}
		sev = cfg_str(c, sec, "severity");
		if (sev[0] != '\0' &&
		    (e->ctx[i].severity = det_severity_parse(sev)) < 0) {
			snprintf(err, errlen, "%s: [%s] severity = %s: expected "
			    "info, low, medium, high or critical", cfg_path(c),
			    sec, sev);
			e->n = i;
			det_engine_free(e);
			return NULL;
		}
		derr[0] = '\0';
		rc = d->init != NULL ?
		    d->init(c, sec, &e->state[i], derr, sizeof(derr)) : 0;
		if (rc == DET_INACTIVE) {
			e->inactive[i] = true;
			rc = 0;
		}
		if (rc != 0) {
			if (derr[0] != '\0')
				snprintf(err, errlen, "%s", derr);
			else
				snprintf(err, errlen, "detector %s: cannot start: %s",
				    d->name, ids_strerror(rc));
			e->n = i;
			det_engine_free(e);
			return NULL;
		}
		if (d->verdict != NULL && !e->inactive[i] &&
		    e->common.verdict_fn == NULL) {
			e->common.verdict_fn = d->verdict;
			e->common.verdict_state = e->state[i];
		}
	}
	e->n = i;
	build_hooks(e);
	return e;
}

void
det_engine_free(struct det_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		if (e->d[i]->destroy != NULL && !e->disabled[i])
			e->d[i]->destroy(e->state[i]);
	free(e);
}

void
det_engine_set_asset_sink(struct det_engine *e, det_asset_fn fn, void *arg)
{
	e->common.asset_fn = fn;
	e->common.asset_arg = arg;
}

void
det_engine_set_intel(struct det_engine *e, const struct intel_set *s)
{
	e->common.intel = s;
}

int
det_engine_finish(struct det_engine *e, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < e->n; i++)
		if (e->d[i]->finish != NULL && !e->inactive[i] &&
		    e->d[i]->finish(e->state[i], &e->ctx[i], err, errlen) != 0)
			rc = -1;
	return rc;
}

void
det_engine_stats(const struct det_engine *e, FILE *fp)
{
	char buf[512];
	bool comma = false;
	size_t i;
	int n;

	for (i = 0; i < e->n; i++) {
		if (e->inactive[i] || e->d[i]->stats == NULL)
			continue;
		n = e->d[i]->stats(e->state[i], buf, sizeof(buf));
		if (n < 0 || (size_t)n >= sizeof(buf))
			continue;
		fprintf(fp, "%s\"%s\":{%s}", comma ? "," : "", e->d[i]->name, buf);
		comma = true;
	}
}

size_t
det_engine_count(const struct det_engine *e)
{
	return e->n;
}

/*
 * The bounds in locals: the handlers may write through any pointer, and
 * the list's count (or the PDU's protocol) would be read again per call.
 */
#define EACH(list, handler, ...)					\
	do {								\
		const struct hook *h_ = (list)->h;			\
		const struct hook *end_ = h_ + (list)->n;		\
		for (; h_ < end_; h_++)					\
			h_->fn.handler(h_->state, h_->ctx, __VA_ARGS__);	\
	} while (0)

void
det_engine_packet(struct det_engine *e, const struct pkt *p,
    const struct flow *f, int dir)
{
	EACH(&e->packet, on_packet, p, f, dir);
}

void
det_engine_arp(struct det_engine *e, const struct pkt *p)
{
	EACH(&e->arp, on_arp, p);
}

void
det_engine_flow_start(struct det_engine *e, const struct flow *f)
{
	EACH(&e->flow_start, on_flow_start, f);
}

void
det_engine_flow_end(struct det_engine *e, const struct flow *f)
{
	EACH(&e->flow_end, on_flow_end, f);
}

void
det_engine_flow_open(struct det_engine *e, const struct flow *f)
{
	EACH(&e->flow_open, on_flow_open, f);
}

void
det_engine_pdu(struct det_engine *e, const struct det_pdu *pdu)
{
	if ((unsigned)pdu->proto < ICS_NPROTO)
		EACH(&e->pdu[pdu->proto], on_pdu, pdu);
}

void
det_engine_malformed(struct det_engine *e, const struct det_malformed *m)
{
	EACH(&e->malformed, on_malformed, m);
}

void
det_engine_time_reset(struct det_engine *e)
{
	e->next_tick = 0;
}

uint64_t
det_engine_time(struct det_engine *e, uint64_t now)
{
	if (now < e->next_tick)
		return e->next_tick;
	e->next_tick = now + TICK_US;
	EACH(&e->tick, on_tick, now);
	e->common.out.tick(e->common.out.arg, now);
	return e->next_tick;
}

void
det_engine_counters(const struct det_engine *e,
    void (*section)(void *arg, const char *detector), det_counter_fn add,
    void *arg)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (e->inactive[i] || e->d[i]->counters == NULL)
			continue;
		section(arg, e->d[i]->name);
		e->d[i]->counters(e->state[i], add, arg);
	}
}

bool
det_engine_describe(const struct det_engine *e, uint8_t af, const uint8_t *ip,
    struct det_asset_info *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (e == NULL)
		return false;
	for (i = 0; i < e->n; i++)
		if (!e->inactive[i] && !e->disabled[i] &&
		    e->d[i]->describe != NULL &&
		    e->d[i]->describe(e->state[i], af, ip, out))
			return true;
	return false;
}
