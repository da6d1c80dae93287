/*
 * bacnet_detect.c - rules on BACnet/IP confirmed requests (ASHRAE 135).
 *
 *   bacnet.reinitialize_device   ReinitializeDevice (warm/cold start) T0816
 *   bacnet.device_comm_control   DeviceCommunicationControl disable   T0814
 *   bacnet.unauthorized_write    WriteProperty(Multiple), AtomicWriteFile,
 *                                Create/DeleteObject from a host
 *                                [policy] bacnet_writers does not allow T0855
 *                                (AtomicWriteFile T0843; event-enable,
 *                                limit-enable, notify-type, notification-
 *                                class T0878; analog present-value T0836;
 *                                each + T0855)
 *   bacnet.time_sync             (UTC)TimeSynchronization from a host
 *                                bacnet_writers does not allow  T0849
 *   bacnet.discovery             Who-Is / Who-Has from a host neither in
 *                                discovery_allowed nor bacnet_writers T0846
 *   bacnet.identification        ReadProperty(Multiple) of the device
 *                                object's vendor, model, firmware, software
 *                                version from such a host        T0888
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "dissectors/bacnet.h"
#include "detectors/detector.h"


/* BACnet object types and properties (ASHRAE 135 clause 21) */
#define BACNET_OBJ_ANALOG_OUTPUT	1
#define BACNET_OBJ_ANALOG_VALUE		2
#define BACNET_OBJ_DEVICE		8
#define BACNET_PROP_APP_SOFTWARE_VERSION 12
#define BACNET_PROP_EVENT_ENABLE	35
#define BACNET_PROP_FIRMWARE_REVISION	44
#define BACNET_PROP_LIMIT_ENABLE	52
#define BACNET_PROP_MODEL_NAME		70
#define BACNET_PROP_NOTIFY_TYPE		72
#define BACNET_PROP_PRESENT_VALUE	85
#define BACNET_PROP_NOTIFICATION_CLASS	17
#define BACNET_PROP_VENDOR_IDENTIFIER	120
#define BACNET_PROP_VENDOR_NAME		121

static bool
is_identity_property(uint32_t p)
{
	return p == BACNET_PROP_VENDOR_NAME || p == BACNET_PROP_VENDOR_IDENTIFIER ||
	    p == BACNET_PROP_MODEL_NAME || p == BACNET_PROP_FIRMWARE_REVISION ||
	    p == BACNET_PROP_APP_SOFTWARE_VERSION;
}

/*
 * Technique by what a write changes: a file (program/configuration
 * download), the intrinsic reporting of an object (its alarms), an
 * analog setpoint, else a command.
 */
static const char *
write_technique(const struct bacnet_pdu *m)
{
	if (m->service == BACNET_SVC_ATOMIC_WRITE_FILE)
		return "T0843";
	if (m->service != BACNET_SVC_WRITE_PROPERTY || !m->has_property)
		return "T0855";
	switch (m->property_id) {
	case BACNET_PROP_EVENT_ENABLE:
	case BACNET_PROP_LIMIT_ENABLE:
	case BACNET_PROP_NOTIFY_TYPE:
	case BACNET_PROP_NOTIFICATION_CLASS:
		return "T0878";
	case BACNET_PROP_PRESENT_VALUE:
		if (m->has_object && (m->object_type == BACNET_OBJ_ANALOG_OUTPUT ||
		    m->object_type == BACNET_OBJ_ANALOG_VALUE))
			return "T0836";
		break;
	}
	return "T0855";
}

static void
raise_svc2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct bacnet_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2 != NULL && strcmp(tech2, tech) != 0 ? tech2 : NULL;
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
raise_svc(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct bacnet_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	raise_svc2(ctx, pdu, m, det, sev, tech, NULL, what);
}

/*
 * Unconfirmed requests: Who-Is / Who-Has sweep the network for devices
 * (discovery); a time synchronisation sets every receiver's clock, which
 * only a writer does.
 */
static void
unconfirmed(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct bacnet_pdu *m, const struct det_endpoint *src)
{
	switch (m->service) {
	case BACNET_USVC_WHO_IS:
	case BACNET_USVC_WHO_HAS:
		if (det_policy_listed(ctx, ICS_BACNET, DET_ROLE_DISCOVERY, src) ==
		    DET_DENIED &&
		    det_policy_listed(ctx, ICS_BACNET, DET_ROLE_MASTER, src) != DET_ALLOWED)
			raise_svc2(ctx, pdu, m, "bacnet.discovery", SEV_MEDIUM,
			    "T0846", NULL, "device discovery (Who-Is/Who-Has)");
		return;
	case BACNET_USVC_TIME_SYNC:
	case BACNET_USVC_UTC_TIME_SYNC:
		if (det_policy_listed(ctx, ICS_BACNET, DET_ROLE_WRITER, src) == DET_DENIED)
			raise_svc2(ctx, pdu, m, "bacnet.time_sync", SEV_HIGH,
			    "T0849", "T0855",
			    "time synchronisation from a host not allowed");
		return;
	}
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
	if (!m->has_apdu || !m->has_service)
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (m->apdu_type == BACNET_APDU_UNCONFIRMED_REQ) {
		unconfirmed(ctx, pdu, m, &src);
		return;
	}
	if (m->apdu_type != BACNET_APDU_CONFIRMED_REQ)
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
		if (det_policy(ctx, ICS_BACNET, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_svc2(ctx, pdu, m, "bacnet.unauthorized_write", SEV_HIGH,
			    write_technique(m), "T0855",
			    "write from a host not allowed");
		return;
	case BACNET_SVC_READ_PROPERTY:
	case BACNET_SVC_READ_PROPERTY_MULTIPLE:
		/* the device object's vendor, model, firmware: identification */
		if (m->has_object && m->object_type == BACNET_OBJ_DEVICE &&
		    m->has_property && is_identity_property(m->property_id) &&
		    det_policy_listed(ctx, ICS_BACNET, DET_ROLE_DISCOVERY, &src) ==
		    DET_DENIED &&
		    det_policy_listed(ctx, ICS_BACNET, DET_ROLE_MASTER, &src) != DET_ALLOWED)
			raise_svc2(ctx, pdu, m, "bacnet.identification", SEV_MEDIUM,
			    "T0888", NULL, "device identification read");
		return;
	}
}

const struct detector det_bacnet = {
	.name = "bacnet",
	.pdu_protos = DET_PROTO(ICS_BACNET),
	.severity = SEV_HIGH,
	.on_pdu = bacnet_pdu,
};
