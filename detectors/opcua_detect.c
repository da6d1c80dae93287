/*
 * opcua_detect.c - rules on OPC UA binary messages (IEC 62541).
 *
 *   opcua.unencrypted_channel  OpenSecureChannel with SecurityPolicy#None
 *   opcua.unauthorized_write   Write/Call/AddNodes/DeleteNodes from a host
 *                              [policy] opcua_writers does not allow   T0855
 *   opcua.browse               Browse from a host not allowed to
 *                              discover                                T0861
 *   opcua.discovery            FindServers / GetEndpoints from a host
 *                              neither in discovery_allowed nor in
 *                              opcua_writers                           T0846
 */
#include <cJSON.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "dissectors/opcua.h"

static void
raise_ua(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct opcua_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *title)
{
	struct det_alert a;

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
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
opcua_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct opcua_pdu *m;
	struct det_endpoint src;
	enum det_verdict v;

	(void)state;
	if (pdu->proto != ICS_OPCUA || !pdu->from_client)
		return;
	m = pdu->u.opcua;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (m->type == OPCUA_MSG_OPN && m->policy_none) {
		raise_ua(ctx, pdu, m, "opcua.unencrypted_channel", SEV_LOW, NULL,
		    "OPC UA secure channel without security (SecurityPolicy#None)");
		return;
	}
	if (m->type != OPCUA_MSG_MSG || !m->has_service)
		return;
	switch (m->service_id) {
	case OPCUA_SVC_WRITE_REQ:
	case OPCUA_SVC_CALL_REQ:
	case OPCUA_SVC_ADD_NODES_REQ:
	case OPCUA_SVC_DELETE_NODES_REQ:
	case OPCUA_SVC_HISTORY_UPDATE_REQ:
		if (det_policy(ctx, ICS_OPCUA, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_ua(ctx, pdu, m, "opcua.unauthorized_write", SEV_HIGH,
			    "T0855", "OPC UA write/call from a host not allowed");
		return;
	case OPCUA_SVC_FIND_SERVERS_REQ:
	case OPCUA_SVC_GET_ENDPOINTS_REQ:
		/* which servers and endpoints there are: discovery, unless a
		 * client the policy names gets its endpoint before connecting */
		if (det_policy_listed(ctx, ICS_OPCUA, DET_ROLE_DISCOVERY, &src) ==
		    DET_DENIED &&
		    det_policy_listed(ctx, ICS_OPCUA, DET_ROLE_MASTER, &src) != DET_ALLOWED)
			raise_ua(ctx, pdu, m, "opcua.discovery", SEV_MEDIUM, "T0846",
			    "OPC UA FindServers/GetEndpoints from a host not "
			    "allowed to discover");
		return;
	case OPCUA_SVC_BROWSE_REQ:
		v = det_policy(ctx, ICS_OPCUA, DET_ROLE_DISCOVERY, &src);
		if (v == DET_DENIED)
			raise_ua(ctx, pdu, m, "opcua.browse", SEV_MEDIUM, "T0861",
			    "OPC UA browse from a host not allowed to discover");
		return;
	}
}

const struct detector det_opcua = {
	.name = "opcua",
	.pdu_protos = DET_PROTO(ICS_OPCUA),
	.severity = SEV_HIGH,
	.on_pdu = opcua_pdu,
};
