/*
 * bacnet_detect.c - rules on BACnet/IP confirmed requests (ASHRAE 135).
 *
 *   bacnet.reinitialize_device   ReinitializeDevice (warm/cold start) T0816
 *   bacnet.device_comm_control   DeviceCommunicationControl disable   T0814
 *   bacnet.unauthorized_write    WriteProperty(Multiple), AtomicWriteFile,
 *                                Create/DeleteObject from a host
 *                                [policy] bacnet_writers does not allow T0855
 */
#include <cJSON.h>
#include <stdio.h>

#include "dissectors/bacnet.h"
#include "detectors/detector.h"

static void
raise_svc(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct bacnet_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	snprintf(title, sizeof(title), "BACnet %s", what);
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "service", m->service);
	cJSON_AddStringToObject(a.details, "service_name",
	    bacnet_service_name(m->apdu_type, m->service));
	if (m->has_object) {
		cJSON_AddNumberToObject(a.details, "object_type", m->object_type);
		cJSON_AddNumberToObject(a.details, "object_instance",
		    m->object_instance);
	}
	if (m->has_reinit_state)
		cJSON_AddNumberToObject(a.details, "reinitialized_state",
		    m->reinit_state);
	if (m->has_dcc_state)
		cJSON_AddNumberToObject(a.details, "enable_disable", m->dcc_state);
	snprintf(agg, sizeof(agg), "%u", m->service);
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
bacnet_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct bacnet_pdu *m;
	struct det_endpoint src;

	(void)state;
	if (pdu->proto != ICS_BACNET)
		return;
	m = pdu->u.bacnet;
	if (!m->has_apdu || !m->has_service ||
	    m->apdu_type != BACNET_APDU_CONFIRMED_REQ)
		return;
	switch (m->service) {
	case BACNET_SVC_REINITIALIZE_DEVICE:
		raise_svc(ctx, pdu, m, "bacnet.reinitialize_device", SEV_CRITICAL,
		    "T0816", "ReinitializeDevice (device restart)");
		return;
	case BACNET_SVC_DEVICE_COMM_CONTROL:
		/* 0 enable; 1 disable, 2 disable-initiation: the device goes quiet */
		raise_svc(ctx, pdu, m, "bacnet.device_comm_control",
		    m->has_dcc_state && m->dcc_state == 0 ? SEV_LOW : SEV_HIGH,
		    "T0814", "DeviceCommunicationControl");
		return;
	case BACNET_SVC_WRITE_PROPERTY:
	case BACNET_SVC_WRITE_PROPERTY_MULTIPLE:
	case BACNET_SVC_ATOMIC_WRITE_FILE:
	case BACNET_SVC_CREATE_OBJECT:
	case BACNET_SVC_DELETE_OBJECT:
		det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
		if (det_policy(ctx, ICS_BACNET, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_svc(ctx, pdu, m, "bacnet.unauthorized_write", SEV_HIGH,
			    "T0855", "write from a host not allowed");
		return;
	}
}

const struct detector det_bacnet = {
	.name = "bacnet",
	.pdu_protos = DET_PROTO(ICS_BACNET),
	.severity = SEV_HIGH,
	.on_pdu = bacnet_pdu,
};
