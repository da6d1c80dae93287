/*
 * opcua_detect.c - rules on OPC UA binary messages (IEC 62541), judged by
 * what each service does (dissectors/opcua_svc.c decodes the bodies of
 * plaintext channels).
 *
 *   opcua.unencrypted_channel  OpenSecureChannel with SecurityPolicy#None
 *   opcua.unauthorized_write   Write/Call/HistoryUpdate from a host
 *                              [policy] opcua_writers does not allow:
 *                              Write T0855 (a numeric Value or another
 *                              attribute: + T0836), Call T0871 + T0855
 *   opcua.address_space        AddNodes/AddReferences (T0831) or
 *                              DeleteNodes/DeleteReferences (T0809) from
 *                              such a host; both + T0843
 *   opcua.browse               Browse/BrowseNext from a host not allowed
 *                              to discover                T0861 (+ T0846)
 *   opcua.discovery            FindServers / GetEndpoints from a host
 *                              neither in discovery_allowed nor in
 *                              opcua_writers                           T0846
 *   opcua.server_info          Read of the server's BuildInfo (vendor,
 *                              product, version: ns=0 i=2260-2266) from
 *                              such a host                             T0888
 *   opcua.session_guessing     failed ActivateSession answers (a
 *                              ServiceFault or a Bad result) to one client
 *                              from one server: failed_activations within
 *                              window_s                       T0859 + T0806
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/opcua.h"
#include "lib/ipmap.h"

/* Per (client, server): session activations answered, and how. */
struct ua_pair {
	uint64_t	start;		/* of the window */
	uint32_t	failed;		/* activations refused in the window */
	uint16_t	pending;	/* ActivateSession requests unanswered */
	uint8_t		alerted;	/* in this window */
};

struct ua_state {
	struct ipmap	*pairs;
	uint64_t	 window_us;
	uint32_t	 failed;
};

static const struct cfg_key keys[] = {
	{ "window_s", CFG_DOUBLE, "60", 1, 86400,
	  "seconds over which refused session activations are counted" },
	{ "failed_activations", CFG_INT, "5", 2, 100000,
	  "ActivateSession requests one server refuses one client within the window" },
	{ "max_pairs", CFG_INT, "4096", 16, 10000000, "client/server pairs tracked" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
ua_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct ua_state *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->pairs = ipmap_new((size_t)cfg_int(c, sec, "max_pairs"),
		    sizeof(struct ua_pair));
	if (s == NULL || s->pairs == NULL) {
		snprintf(err, errlen, "opcua: out of memory");
		free(s);
		return -1;
	}
	s->window_us = (uint64_t)(cfg_double(c, sec, "window_s") * 1e6);
	s->failed = (uint32_t)cfg_int(c, sec, "failed_activations");
	*state = s;
	return 0;
}

static void
ua_destroy(void *state)
{
	struct ua_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->pairs);
	free(s);
}

static void
raise_ua2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct opcua_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *tech3, const char *title)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	if (!pdu->from_client) {
		/* about an answer: the client it went to is who acted */
		struct det_endpoint t = a.src;

		a.src = a.dst;
		a.dst = t;
	}
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2;
	a.techniques[1] = tech2 != NULL ? tech3 : NULL;
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "message", opcua_msg_type_name(m->type));
	if (m->has_service) {
		cJSON_AddNumberToObject(a.details, "service_id", m->service_id);
		cJSON_AddStringToObject(a.details, "service_name",
		    opcua_service_name(m->service_id));
	}
	cJSON_AddNumberToObject(a.details, "secure_channel", m->channel_id);
	det_alert(ctx, &a);
}

static void
raise_ua(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct opcua_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *title)
{
	raise_ua2(ctx, pdu, m, det, sev, tech, NULL, NULL, title);
}

/* The pair (client, server) whatever side sent the message. */
static struct ua_pair *
pair_of(struct ua_state *s, const struct det_pdu *pdu)
{
	const struct flow *f = pdu->flow;
	bool cli_is_flow_cli = pdu->sender_is_cli == pdu->from_client;
	const uint8_t *c = cli_is_flow_cli ? f->cli.ip : f->srv.ip;
	const uint8_t *v = cli_is_flow_cli ? f->srv.ip : f->cli.ip;
	size_t w = f->af == 6 ? 16 : 4;
	uint8_t key[32];
	int fresh;

	memcpy(key, c, w);
	memcpy(key + w, v, w);
	return ipmap_put(s->pairs, key, 2 * w, pdu->ts, &fresh);
}

/*
 * Session activations and their answers: a client refused again and
 * again is guessing credentials (or replaying a stolen token).
 */
static void
check_activation(struct ua_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct opcua_pdu *m)
{
	struct ua_pair *p;
	char title[160];
	uint32_t st;

	if (m->service_id != OPCUA_SVC_ACTIVATE_SESSION_REQ &&
	    m->service_id != OPCUA_SVC_ACTIVATE_SESSION_RESP &&
	    m->service_id != OPCUA_SVC_SERVICE_FAULT)
		return;
	if (pdu->from_client != (m->service_id == OPCUA_SVC_ACTIVATE_SESSION_REQ))
		return;		/* a request from the server's side: not this */
	p = pair_of(s, pdu);
	if (p == NULL)
		return;
	if (pdu->ts > p->start + s->window_us) {
		p->start = pdu->ts;
		p->failed = 0;
		p->alerted = 0;
	}
	if (pdu->from_client) {
		if (p->pending < UINT16_MAX)
			p->pending++;
		return;
	}
	if (p->pending == 0)
		return;		/* a fault for another request */
	p->pending--;
	st = opcua_response_status(m);
	if ((st & 0x80000000u) == 0)
		return;		/* activated (a Good or Uncertain status) */
	if (++p->failed < s->failed || p->alerted)
		return;
	p->alerted = 1;
	snprintf(title, sizeof(title),
	    "OPC UA session activation refused %u times (last status 0x%08x): "
	    "credential guessing", p->failed, st);
	raise_ua2(ctx, pdu, m, "opcua.session_guessing", SEV_HIGH, "T0859",
	    "T0806", NULL, title);
}

/* Host neither allowed to discover nor a client the policy names. */
static bool
not_a_discoverer(struct det_ctx *ctx, const struct det_endpoint *src)
{
	return det_policy_listed(ctx, ICS_OPCUA, DET_ROLE_DISCOVERY, src) ==
	    DET_DENIED &&
	    det_policy_listed(ctx, ICS_OPCUA, DET_ROLE_MASTER, src) != DET_ALLOWED;
}

static void
on_write(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct opcua_pdu *m)
{
	enum opcua_write_kind k;

	switch (m->service_id) {
	case OPCUA_SVC_WRITE_REQ:
		/* a quantity or a node's attribute is a parameter; a
		 * Boolean a command */
		k = opcua_write_kind(m);
		raise_ua2(ctx, pdu, m, "opcua.unauthorized_write", SEV_HIGH, "T0855",
		    k == OPCUA_WRITE_NUMBER || k == OPCUA_WRITE_ATTRIBUTE ?
		    "T0836" : NULL, NULL,
		    "OPC UA write from a host not allowed");
		return;
	case OPCUA_SVC_CALL_REQ:
		raise_ua2(ctx, pdu, m, "opcua.unauthorized_write", SEV_HIGH, "T0871",
		    "T0855", NULL, "OPC UA method call from a host not allowed");
		return;
	case OPCUA_SVC_ADD_NODES_REQ:
	case OPCUA_SVC_ADD_REFERENCES_REQ:
		raise_ua2(ctx, pdu, m, "opcua.address_space", SEV_HIGH, "T0831",
		    "T0843", NULL,
		    "OPC UA address space extended by a host not allowed");
		return;
	case OPCUA_SVC_DELETE_NODES_REQ:
	case OPCUA_SVC_DELETE_REFERENCES_REQ:
		raise_ua2(ctx, pdu, m, "opcua.address_space", SEV_HIGH, "T0809",
		    "T0843", "T0831",
		    "OPC UA nodes deleted by a host not allowed");
		return;
	default:
		raise_ua(ctx, pdu, m, "opcua.unauthorized_write", SEV_HIGH,
		    "T0855", "OPC UA history update from a host not allowed");
	}
}

static void
opcua_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct opcua_pdu *m;
	struct det_endpoint src;
	enum det_verdict v;

	if (pdu->proto != ICS_OPCUA)
		return;
	m = pdu->u.opcua;
	if (m->type == OPCUA_MSG_MSG && m->has_service && m->service_ns == 0)
		check_activation(state, ctx, pdu, m);
	if (!pdu->from_client)
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (m->type == OPCUA_MSG_OPN && m->policy_none) {
		raise_ua(ctx, pdu, m, "opcua.unencrypted_channel", SEV_LOW, NULL,
		    "OPC UA secure channel without security (SecurityPolicy#None)");
		return;
	}
	if (m->type != OPCUA_MSG_MSG || !m->has_service || m->service_ns != 0)
		return;
	switch (m->service_id) {
	case OPCUA_SVC_WRITE_REQ:
	case OPCUA_SVC_CALL_REQ:
	case OPCUA_SVC_ADD_NODES_REQ:
	case OPCUA_SVC_ADD_REFERENCES_REQ:
	case OPCUA_SVC_DELETE_NODES_REQ:
	case OPCUA_SVC_DELETE_REFERENCES_REQ:
	case OPCUA_SVC_HISTORY_UPDATE_REQ:
		if (det_policy(ctx, ICS_OPCUA, DET_ROLE_WRITER, &src) == DET_DENIED)
			on_write(ctx, pdu, m);
		return;
	case OPCUA_SVC_FIND_SERVERS_REQ:
	case OPCUA_SVC_GET_ENDPOINTS_REQ:
		/* which servers and endpoints there are: discovery, unless a
		 * client the policy names gets its endpoint before connecting */
		if (not_a_discoverer(ctx, &src))
			raise_ua(ctx, pdu, m, "opcua.discovery", SEV_MEDIUM, "T0846",
			    "OPC UA FindServers/GetEndpoints from a host not "
			    "allowed to discover");
		return;
	case OPCUA_SVC_READ_REQ:
		/* who made the server, which product and release: what an
		 * exploit is chosen by (clients read State or CurrentTime to
		 * keep alive, NamespaceArray to connect: not these) */
		if (opcua_read_identity(m) > 0 && not_a_discoverer(ctx, &src))
			raise_ua(ctx, pdu, m, "opcua.server_info", SEV_MEDIUM,
			    "T0888", "OPC UA read of the server's build information "
			    "(vendor, product, version) from a host not allowed to "
			    "discover");
		return;
	case OPCUA_SVC_BROWSE_REQ:
	case OPCUA_SVC_BROWSE_NEXT_REQ:
		v = det_policy(ctx, ICS_OPCUA, DET_ROLE_DISCOVERY, &src);
		if (v == DET_DENIED)
			raise_ua2(ctx, pdu, m, "opcua.browse", SEV_MEDIUM, "T0861",
			    "T0846", NULL,
			    "OPC UA browse from a host not allowed to discover");
		return;
	}
}

/* Entries the cap recycled: an attacker filling the table shows here. */
static void
ua_counters(void *state, det_counter_fn add, void *arg)
{
	struct ua_state *s = state;

	add(arg, "pairs_recycled", ipmap_recycled(s->pairs));
}

const struct detector det_opcua = {
	.name = "opcua",
	.pdu_protos = DET_PROTO(ICS_OPCUA),
	.severity = SEV_HIGH,
	.keys = keys,
	.init = ua_init,
	.on_pdu = opcua_pdu,
	.destroy = ua_destroy,
	.counters = ua_counters,
};
