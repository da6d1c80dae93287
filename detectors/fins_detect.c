/*
 * fins_detect.c - rules on Omron FINS commands (Omron W342).
 *
 *   fins.stop / fins.run        STOP (0402) / RUN (0401)          T0858
 *   fins.program_write          program area write/clear          T0843
 *   fins.program_read           program area read                 T0845
 *   fins.unauthorized_write     memory/parameter writes, forced set/reset,
 *                               clock write, error clear, forced access
 *                               right from a host [policy] fins_writers
 *                               does not allow                    T0855
 *                               (parameter area: T0836; clock write:
 *                               T0849; error clear: T0878; + T0855)
 *   fins.controller_data        controller data read (model, version)
 *                               from a host not allowed to discover T0888
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/fins.h"

static void
raise_fins2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct fins_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2 != NULL && strcmp(tech2, tech) != 0 ? tech2 : NULL;
	snprintf(title, sizeof(title), "Omron FINS %s (%04x %s)", what, m->cmd,
	    fins_cmd_name(m->cmd));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "command", m->cmd);
	cJSON_AddStringToObject(a.details, "command_name", fins_cmd_name(m->cmd));
	cJSON_AddNumberToObject(a.details, "destination_node", m->da1);
	cJSON_AddNumberToObject(a.details, "source_node", m->sa1);
	if (m->has_area) {
		cJSON_AddNumberToObject(a.details, "area", m->area);
		cJSON_AddNumberToObject(a.details, "address", m->address);
		cJSON_AddNumberToObject(a.details, "count", m->count);
	}
	snprintf(agg, sizeof(agg), "%u", m->cmd);
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
raise_fins(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct fins_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	raise_fins2(ctx, pdu, m, det, sev, tech, NULL, what);
}

static void
fins_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct fins_pdu *m;
	struct det_endpoint src;
	enum det_verdict v;

	(void)state;
	if (pdu->proto != ICS_FINS)
		return;
	m = pdu->u.fins;
	/* the ICF bit, not the port, says which side commands */
	if (!m->has_frame || m->response)
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	switch (m->cmd) {
	case FINS_STOP:
		raise_fins(ctx, pdu, m, "fins.stop", SEV_CRITICAL, "T0858",
		    "PLC STOP command");
		return;
	case FINS_RUN:
		raise_fins(ctx, pdu, m, "fins.run", SEV_HIGH, "T0858",
		    "PLC RUN command");
		return;
	case FINS_PROGRAM_WRITE:
	case FINS_PROGRAM_CLEAR:
		raise_fins(ctx, pdu, m, "fins.program_write", SEV_HIGH, "T0843",
		    "program area change");
		return;
	case FINS_PROGRAM_READ:
		raise_fins(ctx, pdu, m, "fins.program_read", SEV_MEDIUM, "T0845",
		    "program upload");
		return;
	case FINS_PARAM_WRITE:
	case FINS_PARAM_CLEAR:
		/* PLC setup, I/O tables, routing: the device's parameters */
		if (det_policy(ctx, ICS_FINS, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_fins2(ctx, pdu, m, "fins.unauthorized_write",
			    SEV_HIGH, "T0836", "T0855",
			    "parameter area write from a host not allowed");
		return;
	case FINS_CLOCK_WRITE:
	case FINS_ERROR_CLEAR:
	case FINS_ACCESS_RIGHT_FORCED:
		/* the PLC's clock (time stamps of its events), its error log,
		 * another tool's access right: state only a writer changes */
		if (det_policy_listed(ctx, ICS_FINS, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_fins2(ctx, pdu, m, "fins.unauthorized_write",
			    SEV_HIGH, m->cmd == FINS_CLOCK_WRITE ? "T0849" :
			    m->cmd == FINS_ERROR_CLEAR ? "T0878" : "T0855",
			    "T0855", "state change from a host not allowed");
		return;
	case FINS_MEM_WRITE:
	case FINS_MEM_FILL:
	case FINS_MEM_TRANSFER:
	case FINS_FILE_WRITE:
	case FINS_FILE_DELETE:
	case FINS_FORCED_SET_RESET:
	case FINS_FORCED_CANCEL:
		if (det_policy(ctx, ICS_FINS, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_fins(ctx, pdu, m, "fins.unauthorized_write", SEV_HIGH,
			    "T0855", "write from a host not allowed");
		return;
	case FINS_CONTROLLER_DATA_READ:
		v = det_policy(ctx, ICS_FINS, DET_ROLE_DISCOVERY, &src);
		if (v != DET_ALLOWED)
			raise_fins(ctx, pdu, m, "fins.controller_data",
			    v == DET_DENIED ? SEV_MEDIUM : SEV_INFO, "T0888",
			    "controller identification read");
		return;
	}
}

const struct detector det_fins = {
	.name = "fins",
	.pdu_protos = DET_PROTO(ICS_FINS),
	.severity = SEV_HIGH,
	.on_pdu = fins_pdu,
};
