/*
 * remote_access.c - remote-access and IT protocols into the control
 * network (ATT&CK for ICS T0886 Remote Services), and credentials sent in
 * clear text.
 *
 * The control network is [policy] ot_networks when configured.  Without
 * it, the hosts seen *serving* an industrial protocol (PLCs, RTUs,
 * outstations) are the control network: an SSH or RDP session into a PLC
 * needs no configuration to be suspicious.  Hosts in
 * [policy] remote_access_allowed are never flagged.
 */
#include <cJSON.h>
#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "lib/ipmap.h"

struct remote_state {
	struct ipmap	*ot_hosts;	/* IPs seen serving an ICS protocol */
	struct ipmap	*alerted;	/* flow ids already reported */
	bool		 http;		/* also flag HTTP/FTP into OT */
};

static const struct cfg_key keys[] = {
	{ "include_http", CFG_BOOL, "false", 0, 0,
	  "also flag HTTP and FTP into the control network (many PLCs serve web pages)" },
	{ "max_hosts", CFG_INT, "16384", 16, 10000000, "OT hosts remembered" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

struct svc {
	uint16_t	ndpi;
	uint16_t	port;
	const char	*name;
	bool		web;
};

static const struct svc services[] = {
	{ NDPI_PROTOCOL_SSH, 22, "ssh", false },
	{ NDPI_PROTOCOL_RDP, 3389, "rdp", false },
	{ NDPI_PROTOCOL_TELNET, 23, "telnet", false },
	{ NDPI_PROTOCOL_VNC, 5900, "vnc", false },
	{ NDPI_PROTOCOL_SMBV1, 139, "smb", false },
	{ NDPI_PROTOCOL_SMBV23, 445, "smb", false },
	{ NDPI_PROTOCOL_HTTP, 80, "http", true },
	{ NDPI_PROTOCOL_FTP_CONTROL, 21, "ftp", true },
};

static int
remote_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct remote_state *s = calloc(1, sizeof(*s));
	size_t max = (size_t)cfg_int(c, sec, "max_hosts");

	if (s == NULL)
		return -1;
	s->ot_hosts = ipmap_new(max, 1);
	s->alerted = ipmap_new(4096, 1);
	if (s->ot_hosts == NULL || s->alerted == NULL) {
		ipmap_free(s->ot_hosts);
		ipmap_free(s->alerted);
		free(s);
		return -1;
	}
	s->http = cfg_bool(c, sec, "include_http");
	*state = s;
	return 0;
}

static void
remote_destroy(void *state)
{
	struct remote_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->ot_hosts);
	ipmap_free(s->alerted);
	free(s);
}

static void
remote_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct remote_state *s = state;
	const struct flow *f = pdu->flow;
	int fresh;

	(void)ctx;
	/*
	 * A response from the server side: that host serves an ICS protocol.
	 * The first replies of a flow say it; no need to look at every one.
	 */
	if (!pdu->from_client && f->pkts[0] + f->pkts[1] <= 16)
		ipmap_put(s->ot_hosts, pdu->sender_is_cli ? f->cli.ip : f->srv.ip,
		    f->af == 6 ? 16 : 4, pdu->ts, &fresh);
}

static const struct svc *
service_of(const struct remote_state *s, const struct flow *f)
{
	size_t i;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		if (services[i].web && !s->http)
			continue;
		if (f->ndpi_app == services[i].ndpi ||
		    f->ndpi_master == services[i].ndpi ||
		    f->srv.port == services[i].port)
			return &services[i];
	}
	return NULL;
}

static void judge_session(struct remote_state *s, struct det_ctx *ctx,
    const struct pkt *p, const struct flow *f);

static void
remote_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	/* decide once the server has answered with data (a real session) */
	if (f->transport != 6 || dir != FLOW_S2C || p->payload_len == 0 ||
	    f->ics_valid)
		return;
	judge_session(state, ctx, p, f);
}

/* out of line: the packets remote_packet returns on pay for no frame */
static __attribute__((noinline)) void
judge_session(struct remote_state *s, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f)
{
	const struct svc *svc;
	struct det_alert a;
	size_t alen = f->af == 6 ? 16 : 4;
	char title[160], sb[64], db[64];
	int fresh;

	svc = service_of(s, f);
	if (svc == NULL)
		return;
	if (ipmap_get(s->alerted, &f->id, sizeof(f->id)) != NULL)
		return;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, true);
	det_endpoint_from_flow(&a.dst, f, false);
	if (det_cfg(ctx) != NULL && cfg_is_set(det_cfg(ctx), "policy", "ot_networks")) {
		if (!det_in_ot_networks(ctx, &a.dst))
			return;
	} else if (ipmap_get(s->ot_hosts, f->srv.ip, alen) == NULL)
		return;
	if (det_policy(ctx, ICS_NONE, DET_ROLE_REMOTE, &a.src) == DET_ALLOWED)
		return;
	ipmap_put(s->alerted, &f->id, sizeof(f->id), p->ts, &fresh);
	a.detector = "net.remote_access";
	a.severity = SEV_HIGH;
	a.technique = "T0886";
	snprintf(title, sizeof(title), "%s session into the control network: %s -> %s",
	    svc->name, det_ip_str(&a.src, sb, sizeof(sb)),
	    det_ip_str(&a.dst, db, sizeof(db)));
	a.title = title;
	a.proto = svc->name;
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "service", svc->name);
	a.src.port = 0;
	det_alert(ctx, &a);
}

static void
remote_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct remote_state *s = state;
	struct det_alert a;
	char title[160], sb[64];

	ipmap_del(s->alerted, &f->id, sizeof(f->id));
	if (!f->cleartext_creds)
		return;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, true);
	det_endpoint_from_flow(&a.dst, f, false);
	a.detector = "net.cleartext_credentials";
	a.severity = SEV_MEDIUM;
	a.technique = NULL;
	snprintf(title, sizeof(title), "Credentials sent in clear text by %s",
	    det_ip_str(&a.src, sb, sizeof(sb)));
	a.title = title;
	a.proto = "tcp";
	a.ts = f->last_ts;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "server_port", f->srv.port);
	a.src.port = 0;
	det_alert(ctx, &a);
}

/* Entries the caps recycled: an attacker filling the tables shows here. */
static void
remote_counters(void *state, det_counter_fn add, void *arg)
{
	struct remote_state *s = state;

	add(arg, "hosts_recycled", ipmap_recycled(s->ot_hosts));
	add(arg, "alerted_recycled", ipmap_recycled(s->alerted));
}

const struct detector det_remote = {
	.name = "remote_access",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = remote_init,
	.on_packet = remote_packet,
	.on_pdu = remote_pdu,
	.on_flow_end = remote_flow_end,
	.destroy = remote_destroy,
	.counters = remote_counters,
};
