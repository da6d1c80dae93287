/*
 * iec104_detect.c - rules on decoded IEC 60870-5-104 ASDUs.
 *
 *   iec104.reset_process         C_RP_NA_1 (105)                   T0816
 *   iec104.unauthorized_command  control-direction command (45-69)
 *                                from a host [policy] iec104_masters
 *                                (or the baseline) does not allow   T0855
 *                                (set-points 48-50, 61-63: + T0836)
 *   iec104.stopdt                STOPDT act from the controlling side:
 *                                the RTU stops sending data.  At once
 *                                from a host that is not a master
 *                                ([policy] or baseline); from a master
 *                                (which sends it before an orderly
 *                                close too) when the link is still
 *                                open 10 s later without STARTDT    T0881
 *   iec104.parameter_change      P_ME_NA/NB/NC_1 (110-112): thresholds,
 *                                smoothing, limits of a measurement T0838
 *   iec104.parameter_deactivation P_AC_NA_1 (113) deactivating a
 *                                parameter/cyclic transmission      T0878
 *   iec104.clock_sync            C_CS_NA_1 (103) from a host that is not
 *                                a known master                     T0849
 *   iec104.crafted_frame         a control-direction ASDU whose cause of
 *                                transmission is not activation or
 *                                deactivation: the RTU acts on the type,
 *                                the cause only hides it            T0855
 *   iec104.wrong_side            a monitor-direction ASDU (1-44: a
 *                                measurement, a status) sent toward the
 *                                RTU's port                         T0856
 *
 * The type identification and the transport role (who listens on 2404)
 * say what a frame is; the cause of transmission is the sender's word.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"

#define IEC104_C_RP_NA_1	105

/* set-point commands: C_SE_NA/NB/NC_1 (48-50) and with time (61-63) */
static bool
is_setpoint(uint8_t type)
{
	return (type >= 48 && type <= 50) || (type >= 61 && type <= 63);
}

static void
raise_asdu2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct iec104_apdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2;
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
raise_asdu(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct iec104_apdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	raise_asdu2(ctx, pdu, m, det, sev, tech, NULL, what);
}

/*
 * STOPDT: a master sends it before an orderly close, so it is judged by
 * what follows.  A host that is not a master ([policy] or baseline) is
 * reported at once; otherwise the connection must close (or STARTDT
 * resume) within STOPDT_GRACE, else the station was silenced on a live
 * link.
 */
#define STOPDT_PENDING	32
#define STOPDT_GRACE	10000000u	/* us */

struct stopdt {
	uint64_t		 flow_id;	/* 0 = free */
	uint64_t		 ts;
	struct det_alert	 a;
};

struct iec104_state {
	struct stopdt	 p[STOPDT_PENDING];
	uint64_t	 dropped;
};

static int
iec104_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	(void)c;
	(void)sec;
	if ((*state = calloc(1, sizeof(struct iec104_state))) == NULL) {
		snprintf(err, errlen, "iec104: out of memory");
		return -1;
	}
	return 0;
}

static void
iec104_destroy(void *state)
{
	free(state);
}

static void
stopdt_clear(struct iec104_state *st, uint64_t id)
{
	int i;

	for (i = 0; i < STOPDT_PENDING; i++)
		if (st->p[i].flow_id == id)
			st->p[i].flow_id = 0;
}

static void
stopdt_seen(struct iec104_state *st, struct det_ctx *ctx,
    const struct det_pdu *pdu)
{
	struct det_endpoint src;
	struct det_alert a;
	int i;

	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	det_alert_from_pdu(&a, pdu);
	a.detector = "iec104.stopdt";
	a.technique = "T0881";
	if (det_policy(ctx, ICS_IEC104, DET_ROLE_MASTER, &src) == DET_DENIED) {
		a.severity = SEV_HIGH;
		a.title = "IEC 104 STOPDT act from a host that is not a master";
		det_alert(ctx, &a);
		return;
	}
	a.severity = SEV_HIGH;
	a.title = "IEC 104 STOPDT act on a link that stays open: the station "
	    "stopped sending data";
	for (i = 0; i < STOPDT_PENDING; i++)
		if (st->p[i].flow_id == 0 || st->p[i].flow_id == pdu->flow->id)
			break;
	if (i == STOPDT_PENDING) {
		st->dropped++;
		return;
	}
	st->p[i].flow_id = pdu->flow->id;
	st->p[i].ts = pdu->ts;
	st->p[i].a = a;
}

static void
iec104_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct iec104_state *st = state;
	int i;

	for (i = 0; i < STOPDT_PENDING; i++) {
		if (st->p[i].flow_id == 0 || now - st->p[i].ts < STOPDT_GRACE)
			continue;
		st->p[i].flow_id = 0;
		det_alert(ctx, &st->p[i].a);
	}
}

static void
iec104_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	(void)ctx;
	stopdt_clear(state, f->id);
}

static void
iec104_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct iec104_state *st = state;
	const struct iec104_apdu *m;
	struct det_endpoint src;

	if (pdu->proto != ICS_IEC104 || !pdu->from_client)
		return;
	m = pdu->u.iec104;
	if (m->format == IEC104_FORMAT_U && pdu->flow->cli.port !=
	    pdu->flow->srv.port) {
		if (m->u_func == IEC104_U_STOPDT_ACT)
			stopdt_seen(st, ctx, pdu);
		else if (m->u_func == IEC104_U_STARTDT_ACT)
			stopdt_clear(st, pdu->flow->id);
		return;
	}
	if (!m->has_asdu)
		return;
	if (m->type_id >= 1 && m->type_id <= 44 &&
	    pdu->flow->cli.port != pdu->flow->srv.port) {
		raise_asdu(ctx, pdu, m, "iec104.wrong_side", SEV_HIGH, "T0856",
		    "monitor-direction information sent toward the RTU");
		return;
	}
	/*
	 * A command is a command whatever cause it claims: activation (6),
	 * deactivation (8), or request (5) for a read command are the only
	 * causes a controlling station sends with one.
	 */
	if ((iec104_type_is_command(m->type_id) || (m->type_id >= 100 &&
	    m->type_id <= 113)) && m->cot != 6 && m->cot != 8 &&
	    !(m->type_id == 102 && m->cot == 5)) {
		raise_asdu(ctx, pdu, m, "iec104.crafted_frame", SEV_HIGH, "T0855",
		    "command with a cause other than activation");
		return;
	}
	if (m->cot != 6 && m->cot != 8)
		return;
	switch (m->type_id) {
	case 110: case 111: case 112:
		raise_asdu(ctx, pdu, m, "iec104.parameter_change", SEV_HIGH,
		    "T0838", "measurement parameter change");
		return;
	case 113:
		if (m->cot == 8)
			raise_asdu(ctx, pdu, m, "iec104.parameter_deactivation",
			    SEV_HIGH, "T0878", "parameter activation: deactivate");
		else
			raise_asdu(ctx, pdu, m, "iec104.parameter_change", SEV_MEDIUM,
			    "T0838", "parameter activation");
		return;
	case 103:
		det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
		if (det_policy(ctx, ICS_IEC104, DET_ROLE_MASTER, &src) == DET_DENIED)
			raise_asdu(ctx, pdu, m, "iec104.clock_sync", SEV_HIGH,
			    "T0849", "clock synchronisation from a host that is not a master");
		return;
	}
	if (m->type_id == IEC104_C_RP_NA_1) {
		raise_asdu(ctx, pdu, m, "iec104.reset_process", SEV_CRITICAL,
		    "T0816", "reset process command");
		return;
	}
	if (!iec104_type_is_command(m->type_id))
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (det_policy(ctx, ICS_IEC104, DET_ROLE_WRITER, &src) == DET_DENIED)
		raise_asdu2(ctx, pdu, m, "iec104.unauthorized_command", SEV_HIGH,
		    "T0855", is_setpoint(m->type_id) ? "T0836" : NULL,
		    "command from a host not allowed");
}

const struct detector det_iec104 = {
	.name = "iec104",
	.pdu_protos = DET_PROTO(ICS_IEC104),
	.severity = SEV_HIGH,
	.init = iec104_init,
	.on_pdu = iec104_pdu,
	.on_tick = iec104_tick,
	.on_flow_end = iec104_flow_end,
	.destroy = iec104_destroy,
};
