/*
 * services.c - the services of detector.h that detectors call: raising
 * alerts, endpoints, policy answers, the asset feed.
 */
#include "detectors/detector.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "detectors/ctx.h"
#include "dissectors/flow.h"

const char *
det_severity_name(enum det_severity s)
{
	static const char *const names[] = { "info", "low", "medium", "high",
		"critical" };

	return (unsigned)s < 5 ? names[s] : "info";
}

int
det_severity_parse(const char *name)
{
	int i;

	for (i = 0; i < 5; i++)
		if (strcasecmp(name, det_severity_name((enum det_severity)i)) ==
		    0)
			return i;
	return -1;
}

const char *
det_ip_str(const struct det_endpoint *e, char *buf, size_t len)
{
	if (e->af == 4)
		inet_ntop(AF_INET, e->ip, buf, (socklen_t)len);
	else if (e->af == 6)
		inet_ntop(AF_INET6, e->ip, buf, (socklen_t)len);
	else
		snprintf(buf, len, "-");
	return buf;
}

void
det_endpoint_from_flow(
    struct det_endpoint *e, const struct flow *f, bool client)
{
	const struct flow_endpoint *s = client ? &f->cli : &f->srv;

	memset(e, 0, sizeof(*e));
	e->af = f->af;
	/* a layer-2 flow (af 0) keeps MACs and EtherType there: no IP */
	if (f->af != 0) {
		memcpy(e->ip, s->ip, sizeof(e->ip));
		e->port = s->port;
	}
	e->has_mac = s->has_mac;
	memcpy(e->mac, s->mac, 6);
}

void
det_alert_from_pdu(struct det_alert *a, const struct det_pdu *pdu)
{
	memset(a, 0, sizeof(*a));
	det_endpoint_from_flow(&a->src, pdu->flow, pdu->sender_is_cli);
	det_endpoint_from_flow(&a->dst, pdu->flow, !pdu->sender_is_cli);
	a->ts = pdu->ts;
	a->proto = ics_proto_name(pdu->proto);
}

void
det_alert(struct det_ctx *ctx, struct det_alert *a)
{
	/* [detector.NAME] severity = ... wins over the detector's choice */
	if (ctx->severity >= 0)
		a->severity = (enum det_severity)ctx->severity;
	ctx->c->out.raise(ctx->c->out.arg, a);
}

const struct intel_set *
det_intel(const struct det_ctx *ctx)
{
	return ctx->c->intel;
}

const struct cfg *
det_cfg(const struct det_ctx *ctx)
{
	return ctx->c->cfg;
}

bool
det_in_ot_networks(const struct det_ctx *ctx, const struct det_endpoint *e)
{
	return ctx->c->ot != NULL &&
	    cfg_nets_contains(ctx->c->ot, e->af, e->ip);
}

enum det_verdict
det_policy(const struct det_ctx *ctx, enum ics_proto proto, enum det_role role,
    const struct det_endpoint *src)
{
	const struct cfg_nets *list = NULL;

	switch (role) {
	case DET_ROLE_WRITER:
	case DET_ROLE_MASTER:
		if ((unsigned)proto < ICS_NPROTO)
			list = ctx->c->writers[proto];
		break;
	case DET_ROLE_DISCOVERY:
		list = ctx->c->discovery;
		break;
	case DET_ROLE_REMOTE:
		list = ctx->c->remote;
		break;
	}
	/* an explicit allow-list wins over what was learned */
	if (list != NULL)
		return cfg_nets_contains(list, src->af, src->ip) ? DET_ALLOWED :
								   DET_DENIED;
	if (ctx->c->verdict_fn != NULL)
		return ctx->c->verdict_fn(
		    ctx->c->verdict_state, proto, role, src);
	return DET_UNSET;
}

/*
 * det_policy() from [policy] alone: DET_UNSET when the role's list is not
 * configured, whatever the baseline learned (it learns writes and polls,
 * not clocks, discovery or block lists: a learned plant has no opinion).
 */
enum det_verdict
det_policy_listed(const struct det_ctx *ctx, enum ics_proto proto,
    enum det_role role, const struct det_endpoint *src)
{
	const struct cfg_nets *list = NULL;

	if (role == DET_ROLE_DISCOVERY)
		list = ctx->c->discovery;
	else if (role != DET_ROLE_REMOTE && (unsigned)proto < ICS_NPROTO)
		list = ctx->c->writers[proto];
	if (list == NULL)
		return DET_UNSET;
	return cfg_nets_contains(list, src->af, src->ip) ? DET_ALLOWED :
							   DET_DENIED;
}

bool
det_publishing(const struct det_ctx *ctx)
{
	return ctx->c->asset_fn != NULL;
}

void
det_publish_asset(
    struct det_ctx *ctx, const char *ip, const char *json, size_t len)
{
	if (ctx->c->asset_fn != NULL)
		ctx->c->asset_fn(ctx->c->asset_arg, ip, json, len);
}
