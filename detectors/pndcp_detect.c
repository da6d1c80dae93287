/*
 * pndcp_detect.c - PROFINET DCP configuration and discovery (layer 2).
 *
 * DCP Set renames a device, moves it to another IP or wipes it; the IO
 * controller then loses its device.  Identify-all lists every PROFINET
 * device on the segment.  Both come from the engineering station or the
 * controller, whose MACs [policy] profinet_writers lists:
 *
 *   profinet.set_ip          Set IP parameter / DHCP                 T0855
 *   profinet.set_name        Set NameOfStation                       T0855
 *   profinet.factory_reset   Set control: (reset to) factory         T0816
 *   profinet.identify_sweep  Identify all, from a MAC neither listed
 *                            nor seen answering as an IO controller  T0846
 *
 * DCP frames carry no IP, so the list holds MAC addresses.  An empty list
 * means no policy: no alert (as for every "not allowed" rule).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/pndcp.h"
#include "lib/ipmap.h"

#define MAX_WRITERS	64

struct dcp_state {
	uint8_t		 writers[MAX_WRITERS][6];
	size_t		 nwriters;
	struct ipmap	*controllers;	/* MACs answering as IO controller */
};

/* "00:1b:1b:00:00:0a" or with '-'; 0 or -1. */
static int
parse_mac(const char *s, size_t n, uint8_t mac[6])
{
	unsigned v[6];
	char buf[24];
	int used = 0;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &used) != 6 &&
	    sscanf(buf, "%2x-%2x-%2x-%2x-%2x-%2x%n", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &used) != 6) || (size_t)used != n)
		return -1;
	for (n = 0; n < 6; n++)
		mac[n] = (uint8_t)v[n];
	return 0;
}

static int
dcp_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	const char *list = cfg_str(c, "policy", "profinet_writers"), *p, *e;
	struct dcp_state *s = calloc(1, sizeof(*s));

	(void)sec;
	if (s == NULL)
		return -1;
	for (p = list; *p != '\0'; p = e) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		for (e = p; *e != '\0' && *e != ' ' && *e != ',' && *e != '\t';
		    e++)
			;
		if (e == p)
			break;
		if (s->nwriters == MAX_WRITERS ||
		    parse_mac(p, (size_t)(e - p), s->writers[s->nwriters]) != 0) {
			snprintf(err, errlen, "[policy] profinet_writers: "
			    "'%.*s' is not a MAC address (or more than %d)",
			    (int)(e - p), p, MAX_WRITERS);
			free(s);
			return -1;
		}
		s->nwriters++;
	}
	s->controllers = ipmap_new(1024, 1);
	if (s->controllers == NULL) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void
dcp_destroy(void *state)
{
	struct dcp_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->controllers);
	free(s);
}

static bool
writer(const struct dcp_state *s, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < s->nwriters; i++)
		if (memcmp(s->writers[i], mac, 6) == 0)
			return true;
	return false;
}

static void
raise_dcp(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct pndcp_pdu *d, const char *det, enum det_severity sev,
    const char *tech, const char *title)
{
	struct det_alert a;
	char buf[PNDCP_NAME_MAX + 1], ip[20];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "service",
	    pndcp_service_name(d->service));
	cJSON_AddNumberToObject(a.details, "xid", d->xid);
	if (d->name != NULL) {
		snprintf(buf, sizeof(buf), "%.*s", (int)d->name_len,
		    (const char *)d->name);
		cJSON_AddStringToObject(a.details, "name_of_station", buf);
	}
	if (d->has_ip) {
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", d->ip[0], d->ip[1],
		    d->ip[2], d->ip[3]);
		cJSON_AddStringToObject(a.details, "ip", ip);
	}
	a.agg_key = det;
	det_alert(ctx, &a);
}

static void
dcp_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct dcp_state *s = state;
	const struct pndcp_pdu *d = pdu->u.pndcp;
	const struct flow_endpoint *src = pdu->sender_is_cli ?
	    &pdu->flow->cli : &pdu->flow->srv;
	int fresh;

	if (pdu->proto != ICS_PNDCP || !src->has_mac)
		return;
	if (d->type == PNDCP_RESPONSE_OK && d->has_role && (d->role & 0x02))
		(void)ipmap_put(s->controllers, src->mac, 6, pdu->ts, &fresh);
	if (d->type != PNDCP_REQUEST || s->nwriters == 0 ||
	    writer(s, src->mac))
		return;
	if (d->service == PNDCP_SVC_SET) {
		if (d->set & PNDCP_SET_FACTORY_RESET)
			raise_dcp(ctx, pdu, d, "profinet.factory_reset",
			    SEV_CRITICAL, "T0816",
			    "PROFINET DCP factory reset from a host not allowed");
		if (d->set & (PNDCP_SET_IP | PNDCP_SET_DHCP))
			raise_dcp(ctx, pdu, d, "profinet.set_ip", SEV_HIGH,
			    "T0855",
			    "PROFINET DCP Set IP from a host not allowed");
		if (d->set & PNDCP_SET_NAME)
			raise_dcp(ctx, pdu, d, "profinet.set_name", SEV_HIGH,
			    "T0855",
			    "PROFINET DCP Set NameOfStation from a host not allowed");
		return;
	}
	if (d->service == PNDCP_SVC_IDENTIFY && d->identify_all &&
	    ipmap_get(s->controllers, src->mac, 6) == NULL)
		raise_dcp(ctx, pdu, d, "profinet.identify_sweep", SEV_MEDIUM,
		    "T0846", "PROFINET DCP Identify all from an unexpected host");
}

const struct detector det_profinet = {
	.name = "profinet",
	.severity = SEV_HIGH,
	.pdu_protos = DET_PROTO(ICS_PNDCP),
	.init = dcp_init,
	.on_pdu = dcp_pdu,
	.destroy = dcp_destroy,
};
