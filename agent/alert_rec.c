/*
 * alert_rec.c - a detector's alert as its record (alert_int.h): the
 * endpoints with their assets, the flow's fields and community id, the
 * rule's text and ATT&CK technique, and what aggregation and correlation
 * need.  alert.c chains, aggregates and sends it.
 */
#include "agent/alert.h"
#include "agent/alert_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/enrich.h"
#include "agent/evidence.h"
#include "detectors/inventory.h"
#include "dissectors/flow.h"
#include "lib/community_id.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"

static void
mac_text(const struct det_endpoint *e, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0],
	    e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
}

void
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* The asset of an endpoint: the assets file, then the MAC's vendor. */
static cJSON *
asset_json(const struct alerter *al, const struct det_endpoint *e,
    const struct asset_entry **entry)
{
	const struct asset_entry *a = NULL;
	const char *vendor = NULL, *model = NULL;
	struct det_asset_info inv;
	cJSON *o;

	memset(&inv, 0, sizeof(inv));
	if (e->af == 4 || e->af == 6) {
		a = asset_book_find(al->book, e->af, e->ip);
		if (al->describe != NULL)
			(void)al->describe(al->describe_arg, e->af, e->ip, &inv);
	}
	*entry = a;
	/* the plant's file, then what the device said, then the MAC's OUI */
	if (a != NULL && a->vendor != NULL)
		vendor = a->vendor;
	else if (inv.vendor[0] != '\0')
		vendor = inv.vendor;
	else if (e->has_mac && al->oui)
		vendor = inv_oui_vendor(e->mac);
	if (a != NULL && a->model != NULL)
		model = a->model;
	else if (inv.model[0] != '\0')
		model = inv.model;
	if (a == NULL && vendor == NULL && model == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	add_str_or_null(o, "name", a != NULL ? a->name : NULL);
	add_str_or_null(o, "role", a != NULL ? a->role : NULL);
	add_str_or_null(o, "grade", a != NULL ? a->grade : NULL);
	add_str_or_null(o, "vendor", vendor);
	add_str_or_null(o, "model", model);
	return o;
}

static cJSON *
endpoint_json(const struct alerter *al, const struct det_endpoint *e,
    const struct asset_entry **entry)
{
	char buf[64];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	if (e->af != 0)
		cJSON_AddStringToObject(o, "ip", det_ip_str(e, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(o, "ip");
	if (e->port != 0)
		cJSON_AddNumberToObject(o, "port", e->port);
	else
		cJSON_AddNullToObject(o, "port");
	if (e->has_mac) {
		mac_text(e, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "mac", buf);
	} else
		cJSON_AddNullToObject(o, "mac");
	cJSON_AddItemToObject(o, "asset", asset_json(al, e, entry));
	return o;
}

/* "10.0.0.66" or "10.0.0.66 (eng-ws-1)": a host as the sentences name it. */
static const char *
host_text(const struct det_endpoint *e, const struct asset_entry *a,
    char *buf, size_t len)
{
	char ip[64];

	if (e->af == 4 || e->af == 6)
		det_ip_str(e, ip, sizeof(ip));
	else if (e->has_mac)
		mac_text(e, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "an unknown host");
	if (a != NULL && a->name != NULL)
		snprintf(buf, len, "%s (%s)", ip, a->name);
	else
		snprintf(buf, len, "%s", ip);
	return buf;
}

static bool
same_ip(const struct det_endpoint *e, uint8_t af, const uint8_t *ip)
{
	return e->af == af && memcmp(e->ip, ip, af == 4 ? 4 : 16) == 0;
}

/* Is the alert about the flow being processed? */
static bool
about_flow(const struct det_alert *a, const struct flow *f)
{
	if (f->af == 0)
		return a->src.af == 0;
	if (same_ip(&a->src, f->af, f->cli.ip))
		return a->dst.af == 0 || same_ip(&a->dst, f->af, f->srv.ip);
	if (same_ip(&a->src, f->af, f->srv.ip))
		return a->dst.af == 0 || same_ip(&a->dst, f->af, f->cli.ip);
	return false;
}

static const char *
transport_name(const struct flow *f)
{
	if (f->af == 0)
		return "l2";
	switch (f->transport) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	}
	return "other";
}

static void
flow_fields(struct alerter *al, cJSON *o, const struct det_alert *a,
    struct rec *r)
{
	const struct flow *f = al->has_ctx ? al->ctx.f : NULL;
	char cid[COMMUNITY_ID_LEN];
	uint16_t sp, dp;

	if (f == NULL || !about_flow(a, f)) {
		cJSON_AddNullToObject(o, "flow_id");
		cJSON_AddNullToObject(o, "community_id");
		if (al->has_ctx && al->ctx.f == NULL && al->ctx.frame &&
		    a->ts == al->ctx.ts) {
			r->want_pcap = al->ev != NULL;
			r->pcap_flow = 0;
		}
		cJSON_AddNullToObject(o, "vlan");
		cJSON_AddNullToObject(o, "transport");
		return;
	}
	cJSON_AddNumberToObject(o, "flow_id", (double)f->id);
	sp = f->cli.port;
	dp = f->srv.port;
	if ((f->transport == 1 || f->transport == 58) && al->ctx.has_icmp) {
		sp = al->ctx.icmp_type;
		dp = al->ctx.icmp_code;
	}
	if (f->af != 0 && community_id_v1(0, f->af, f->cli.ip, f->srv.ip,
	    f->transport, sp, dp, cid) == 0)
		cJSON_AddStringToObject(o, "community_id", cid);
	else
		cJSON_AddNullToObject(o, "community_id");
	cJSON_AddNumberToObject(o, "vlan", f->vlan);
	cJSON_AddStringToObject(o, "transport", transport_name(f));
	r->want_pcap = al->ev != NULL;
	r->pcap_flow = f->id;
}

int
rec_build(struct alerter *al, const struct det_alert *a, cJSON *details,
    struct rec *r)
{
	const struct asset_entry *sa = NULL, *da = NULL;
	const struct rule_info *ri = rule_lookup(a->detector);
	const struct attack_info *ti = attack_lookup(a->technique);
	char ts[40], s[128], d[128], text[768], tac[64], key[512];
	enum det_severity sev = a->severity;
	cJSON *o, *src, *dst, *techs;
	int k;

	memset(r, 0, sizeof(*r));
	o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(details);
		return IDS_ENOMEM;
	}
	src = endpoint_json(al, &a->src, &sa);
	dst = endpoint_json(al, &a->dst, &da);
	if (al->book != NULL && al->book->critical_step > 0 &&
	    ((sa != NULL && sa->grade != NULL &&
	    strcmp(sa->grade, "critical") == 0) ||
	    (da != NULL && da->grade != NULL &&
	    strcmp(da->grade, "critical") == 0))) {
		sev = (enum det_severity)(sev + al->book->critical_step);
		if (sev > SEV_CRITICAL)
			sev = SEV_CRITICAL;
	}
	cJSON_AddStringToObject(o, "ts", rfc3339_format(a->ts, ts, sizeof(ts)));
	cJSON_AddStringToObject(o, "severity", det_severity_name(sev));
	cJSON_AddStringToObject(o, "detector", a->detector);
	add_str_or_null(o, "technique", a->technique);
	cJSON_AddStringToObject(o, "title", a->title != NULL ? a->title : "");
	add_str_or_null(o, "proto", a->proto);
	cJSON_AddItemToObject(o, "src", src);
	cJSON_AddItemToObject(o, "dst", dst);
	cJSON_AddItemToObject(o, "details",
	    details != NULL ? details : cJSON_CreateObject());
	flow_fields(al, o, a, r);
	cJSON_AddStringToObject(o, "rule", a->detector);
	cJSON_AddNumberToObject(o, "rule_rev", ri != NULL ? ri->rev : 1);
	cJSON_AddNumberToObject(o, "sid", ri != NULL ? ri->sid : 0);
	add_str_or_null(o, "technique_name", ti != NULL ? ti->name : NULL);
	add_str_or_null(o, "tactic", ti != NULL ?
	    attack_tactic(ti, tac, sizeof(tac)) : NULL);
	techs = cJSON_AddArrayToObject(o, "techniques");
	/* the detector's secondary techniques (det_alert.techniques) */
	for (k = 0; techs != NULL && k < 3 && a->techniques[k] != NULL; k++)
		if (a->technique == NULL || strcmp(a->techniques[k],
		    a->technique) != 0)
			cJSON_AddItemToArray(techs,
			    cJSON_CreateString(a->techniques[k]));
	host_text(&a->src, sa, s, sizeof(s));
	host_text(&a->dst, da, d, sizeof(d));
	if (ri != NULL) {
		cJSON_AddStringToObject(o, "description", rule_fill(
		    ri->description, s, d, a->proto != NULL ? a->proto : "IP",
		    text, sizeof(text)));
		cJSON_AddStringToObject(o, "action", rule_fill(ri->action, s, d,
		    a->proto != NULL ? a->proto : "IP", text, sizeof(text)));
	} else {
		snprintf(text, sizeof(text), "%s: %s to %s.",
		    a->title != NULL ? a->title : a->detector, s, d);
		cJSON_AddStringToObject(o, "description", text);
		snprintf(text, sizeof(text), "Confirm with operations that the "
		    "traffic from %s to %s is expected; if not, isolate %s.", s,
		    d, s);
		cJSON_AddStringToObject(o, "action", text);
	}
	if (sev != a->severity)
		cJSON_AddStringToObject(o, "severity_raised_from",
		    det_severity_name(a->severity));
	snprintf(key, sizeof(key), "%s|%s|%s|%s", a->detector,
	    det_ip_str(&a->src, s, sizeof(s)),
	    a->agg_src_only ? "*" : det_ip_str(&a->dst, d, sizeof(d)),
	    a->agg_key != NULL ? a->agg_key : "");
	r->agg = strdup(key);
	r->core = o;
	r->severity = sev;
	r->ts = a->ts;
	r->baseline = strncmp(a->detector, "baseline.", 9) == 0;
	r->src = a->src;
	r->dst = a->dst;
	return 0;
}
