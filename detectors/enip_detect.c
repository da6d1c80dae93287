/*
 * enip_detect.c - rules on EtherNet/IP encapsulation and CIP requests
 * (ODVA CIP Vol 1/2).
 *
 *   enip.list_identity       ListIdentity, ListServices, ListInterfaces
 *                            from a host not allowed to discover   T0888
 *                                                                  + T0846
 *   cip.file_download        File object (0x37) Initiate Download /
 *                            Partial Write, Download Transfer, Clear File
 *                                                          T0839 + T0843
 *   cip.reset                CIP Reset service                     T0816
 *   cip.stop / cip.start     CIP Stop / Start services             T0858
 *   cip.unauthorized_write   Set_Attribute_* / Write Tag / Read-Modify-
 *                            Write from a host [policy] enip_writers
 *                            (or the baseline) does not allow      T0855
 */
#include <cJSON.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "dissectors/enip.h"

#define CIP_CLASS_FILE		0x37

static void
raise_cip2(struct det_ctx *ctx, const struct det_pdu *pdu, uint8_t service,
    const struct cip_path *path, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2;
	snprintf(title, sizeof(title), "CIP %s (%s)", what,
	    path != NULL && path->has_class ?
	    cip_service_name_for_class(service, path->class_id) :
	    cip_service_name(service));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "service", service);
	cJSON_AddStringToObject(a.details, "service_name", cip_service_name(service));
	if (path != NULL && path->has_class)
		cJSON_AddNumberToObject(a.details, "class", path->class_id);
	if (path != NULL && path->has_instance)
		cJSON_AddNumberToObject(a.details, "instance", path->instance);
	if (path != NULL && path->has_attribute)
		cJSON_AddNumberToObject(a.details, "attribute", path->attribute);
	snprintf(agg, sizeof(agg), "%u", service);
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
raise_cip(struct det_ctx *ctx, const struct det_pdu *pdu, uint8_t service,
    const struct cip_path *path, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	raise_cip2(ctx, pdu, service, path, det, sev, tech, NULL, what);
}

static bool
is_write(uint8_t svc, const struct cip_path *path)
{
	switch (svc) {
	case CIP_SVC_SET_ATTRIBUTES_ALL:
	case CIP_SVC_SET_ATTRIBUTE_LIST:
	case CIP_SVC_SET_ATTRIBUTE_SINGLE:
	case CIP_SVC_SET_MEMBER:
	case CIP_SVC_WRITE_TAG:
	case CIP_SVC_WRITE_TAG_FRAGMENTED:
		return true;
	case CIP_SVC_READ_MODIFY_WRITE:
		/* 0x4E on the Connection Manager (class 6) is Forward_Close */
		return !(path->has_class && path->class_id == 6);
	}
	return false;
}

static void
one_service(struct det_ctx *ctx, const struct det_pdu *pdu, uint8_t svc,
    const struct cip_path *path, const struct det_endpoint *src)
{
	/* the File object (0x37): a file, firmware or program, written
	 * into the device (Initiate Download / Partial Write, Download
	 * Transfer, Clear File) */
	if (path->has_class && path->class_id == CIP_CLASS_FILE &&
	    (svc == 0x4C || svc == 0x4E || svc == 0x50 || svc == 0x51)) {
		raise_cip2(ctx, pdu, svc, path, "cip.file_download", SEV_HIGH,
		    "T0839", "T0843", "file/firmware download (File object)");
		return;
	}
	switch (svc) {
	case CIP_SVC_RESET:
		raise_cip(ctx, pdu, svc, path, "cip.reset", SEV_CRITICAL, "T0816",
		    "device reset");
		return;
	case CIP_SVC_STOP:
		raise_cip(ctx, pdu, svc, path, "cip.stop", SEV_CRITICAL, "T0858",
		    "stop");
		return;
	case CIP_SVC_START:
		raise_cip(ctx, pdu, svc, path, "cip.start", SEV_HIGH, "T0858",
		    "start");
		return;
	}
	if (is_write(svc, path) &&
	    det_policy(ctx, ICS_ENIP, DET_ROLE_WRITER, src) == DET_DENIED)
		raise_cip(ctx, pdu, svc, path, "cip.unauthorized_write", SEV_HIGH,
		    "T0855", "write from a host not allowed");
}

static void
enip_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct enip_pdu *m;
	struct det_endpoint src;
	struct det_alert a;
	uint8_t i;

	(void)state;
	if (pdu->proto != ICS_ENIP || !pdu->from_client)
		return;
	m = pdu->u.enip;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (m->command == ENIP_CMD_LIST_IDENTITY ||
	    m->command == ENIP_CMD_LIST_SERVICES ||
	    m->command == ENIP_CMD_LIST_INTERFACES) {
		enum det_verdict v = det_policy(ctx, ICS_ENIP, DET_ROLE_DISCOVERY,
		    &src);

		if (v == DET_ALLOWED)
			return;
		det_alert_from_pdu(&a, pdu);
		a.detector = "enip.list_identity";
		a.severity = v == DET_DENIED ? SEV_MEDIUM : SEV_INFO;
		/* identity of the devices that answer; sent to a broadcast or
		 * from device to device, it also sweeps for them */
		a.technique = "T0888";
		a.techniques[0] = "T0846";
		a.title = m->command == ENIP_CMD_LIST_IDENTITY ?
		    "EtherNet/IP ListIdentity (device discovery)" :
		    "EtherNet/IP ListServices/ListInterfaces (device discovery)";
		det_alert(ctx, &a);
		return;
	}
	if (!m->has_cip || m->cip.response)
		return;
	if (m->cip.multi) {
		for (i = 0; i < m->cip.multi_kept; i++)
			one_service(ctx, pdu, m->cip.multi_entries[i].service,
			    &m->cip.multi_entries[i].path, &src);
		return;
	}
	one_service(ctx, pdu, m->cip.service, &m->cip.path, &src);
}

const struct detector det_enip = {
	.name = "enip",
	.pdu_protos = DET_PROTO(ICS_ENIP),
	.severity = SEV_HIGH,
	.on_pdu = enip_pdu,
};
