/*
 * iec104_detect.c - rules on decoded IEC 60870-5-104 ASDUs.
 *
 *   iec104.reset_process         C_RP_NA_1 (105)                   T0816
 *   iec104.unauthorized_command  control-direction command (45-69)
 *                                from a host [policy] iec104_masters
 *                                (or the baseline) does not allow   T0855
 */
#include <cJSON.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "dissectors/iec104.h"

#define IEC104_C_RP_NA_1	105

static void
raise_asdu(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct iec104_apdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	snprintf(title, sizeof(title), "IEC 104 %s: %s", what,
	    iec104_type_name(m->type_id));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "type_id", m->type_id);
	cJSON_AddStringToObject(a.details, "type_name", iec104_type_name(m->type_id));
	cJSON_AddNumberToObject(a.details, "cause", m->cot);
	cJSON_AddStringToObject(a.details, "cause_name", iec104_cot_name(m->cot));
	cJSON_AddNumberToObject(a.details, "common_address", m->common_address);
	if (m->has_ioa)
		cJSON_AddNumberToObject(a.details, "ioa", m->ioa);
	if (m->has_qualifier) {
		cJSON_AddBoolToObject(a.details, "select", m->select);
		cJSON_AddNumberToObject(a.details, "state", m->command_state);
	}
	snprintf(agg, sizeof(agg), "%u", m->type_id);
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
iec104_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct iec104_apdu *m;
	struct det_endpoint src;

	(void)state;
	if (pdu->proto != ICS_IEC104 || !pdu->from_client)
		return;
	m = pdu->u.iec104;
	if (!m->has_asdu)
		return;
	/* activation (6) or deactivation (8) from the controlling side */
	if (m->cot != 6 && m->cot != 8)
		return;
	if (m->type_id == IEC104_C_RP_NA_1) {
		raise_asdu(ctx, pdu, m, "iec104.reset_process", SEV_CRITICAL,
		    "T0816", "reset process command");
		return;
	}
	if (!iec104_type_is_command(m->type_id))
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (det_policy(ctx, ICS_IEC104, DET_ROLE_WRITER, &src) == DET_DENIED)
		raise_asdu(ctx, pdu, m, "iec104.unauthorized_command", SEV_HIGH,
		    "T0855", "command from a host not allowed");
}

const struct detector det_iec104 = {
	.name = "iec104",
	.pdu_protos = DET_PROTO(ICS_IEC104),
	.severity = SEV_HIGH,
	.on_pdu = iec104_pdu,
};
