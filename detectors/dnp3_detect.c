/*
 * dnp3_detect.c - rules on decoded DNP3 application requests (IEEE 1815).
 *
 *   dnp3.restart               cold/warm restart             T0816
 *   dnp3.stop_application      stop application              T0881
 *   dnp3.disable_unsolicited   disable unsolicited responses T0815 (+T0878)
 *   dnp3.file_operation        open file for write/append (g70v3 mode)
 *                              T0843 (a firmware name: T0839 + T0843);
 *                              for read T0845 + T0882 (a directory
 *                              listed: none); delete T0809;
 *                              other file functions            (none)
 *   dnp3.config_change         initialize/start application T0881; save/
 *                              activate configuration, initialize data T0836
 *   dnp3.unauthorized_command  write/select/operate/direct operate/freeze
 *                              from a host [policy] dnp3_masters does not
 *                              allow T0855 (time write g50: T0849 + T0855;
 *                              analog output g41: T0855 + T0836)
 *   dnp3.crafted_frame         link header contradicts the frame's role: a
 *                              request with DIR clear, a response with DIR
 *                              set                             T0855 / T0856
 *   dnp3.wrong_side            a response or unsolicited report sent toward
 *                              the outstation's port, a request sent from
 *                              it                              T0856 / T0855
 *
 * Who sent a frame is decided by the application function code's class
 * (0x01-0x21 requests come from a master, 0x81-0x83 from an outstation)
 * and by the transport role (who listens on the service port), never by
 * the link-layer DIR bit: the sender sets that bit, injection tools clear
 * it, and the outstation executes the request all the same.
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"

static void
raise_fc2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct dnp3_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *what)
{
	struct det_alert a;
	char title[160], agg[8];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2;
	snprintf(title, sizeof(title), "DNP3 %s (%s)", what,
	    dnp3_fc_name(m->app_fc));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "function", m->app_fc);
	cJSON_AddStringToObject(a.details, "function_name", dnp3_fc_name(m->app_fc));
	cJSON_AddNumberToObject(a.details, "source_address", m->src);
	cJSON_AddNumberToObject(a.details, "destination_address", m->dst);
	if (m->nobj > 0) {
		cJSON_AddNumberToObject(a.details, "object_group", m->obj[0].group);
		cJSON_AddNumberToObject(a.details, "object_variation",
		    m->obj[0].variation);
	}
	snprintf(agg, sizeof(agg), "%u", m->app_fc);
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
raise_fc(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct dnp3_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *what)
{
	raise_fc2(ctx, pdu, m, det, sev, tech, NULL, what);
}

/* 0x01-0x21: sent by a master; CONFIRM (0x00) is sent by both sides. */
static bool
is_request(uint8_t fc)
{
	return fc >= DNP3_FC_READ && fc <= DNP3_FC_AUTH_REQ_NO_ACK;
}

static bool
is_response(uint8_t fc)
{
	return fc >= DNP3_FC_RESPONSE && fc <= DNP3_FC_AUTHENTICATE_RESP;
}

/*
 * The frame's header against its role.  A DIR bit that contradicts the
 * function code is what a hand-made frame looks like (stacks set it from
 * their configuration, injection tools leave it clear); a report sent
 * toward the port the outstation listens on, or a request sent from it,
 * speaks for the wrong side of the channel.
 */
static void
check_role(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct dnp3_pdu *m)
{
	const struct flow *f = pdu->flow;
	bool req = is_request(m->app_fc), rsp = is_response(m->app_fc);
	/* the transport says who is who only when the ports differ */
	bool known = f->cli.port != f->srv.port;

	if ((req && !m->dir) || (rsp && m->dir)) {
		raise_fc(ctx, pdu, m, "dnp3.crafted_frame", SEV_HIGH,
		    req ? "T0855" : "T0856", req ?
		    "request with the link DIR bit clear (crafted frame)" :
		    "response with the link DIR bit set (crafted frame)");
		return;
	}
	if (known && rsp && pdu->from_client)
		raise_fc(ctx, pdu, m, "dnp3.wrong_side", SEV_HIGH, "T0856",
		    "report sent toward the outstation's port (spoofed report)");
	else if (known && req && !pdu->from_client)
		raise_fc(ctx, pdu, m, "dnp3.wrong_side", SEV_HIGH, "T0855",
		    "request sent from the outstation's port");
}

/* A name that says firmware: "firmware", "fw" as a word, an image. */
static bool
firmware_name(const uint8_t *n, size_t len)
{
	static const char *const ext[] = { ".hex", ".img", ".fw", ".srec",
		".s19", ".dfu", NULL };
	char low[256];
	size_t i, k;

	if (n == NULL || len == 0)
		return false;
	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (i = 0; i < len; i++)
		low[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
	low[len] = '\0';
	if (strstr(low, "firmware") != NULL || strstr(low, "/fw") != NULL ||
	    strncmp(low, "fw", 2) == 0)
		return true;
	for (k = 0; ext[k] != NULL; k++) {
		size_t el = strlen(ext[k]);

		if (len >= el && strcmp(low + len - el, ext[k]) == 0)
			return true;
	}
	return false;
}

/* A directory opened to list it ("." as Wireshark's sample, "...\/"). */
static bool
directory(const struct dnp3_file_cmd *fc)
{
	return fc->name == NULL ||
	    (fc->name_len == 1 && fc->name[0] == '.') ||
	    (fc->name_len == 2 && memcmp(fc->name, "..", 2) == 0) ||
	    fc->name[fc->name_len - 1] == '/';
}

/*
 * Open and delete file by what the file command object (g70v3) asks:
 * opened for writing or appending, a file goes INTO the outstation (a
 * program or configuration download, T0843; firmware, T0839); opened for
 * reading it comes out (T0845 program upload, T0882 theft of operational
 * information; a directory opened to list it is not judged so); deleted,
 * it is gone (T0809).
 */
static void
on_file(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct dnp3_pdu *m)
{
	struct dnp3_file_cmd fc;
	bool known = dnp3_file_command(m, &fc);

	if (m->app_fc == DNP3_FC_DELETE_FILE)
		raise_fc(ctx, pdu, m, "dnp3.file_operation", SEV_HIGH, "T0809",
		    "file deleted");
	else if (known && (fc.mode == DNP3_FILE_WRITE ||
	    fc.mode == DNP3_FILE_APPEND)) {
		if (firmware_name(fc.name, fc.name_len))
			raise_fc2(ctx, pdu, m, "dnp3.file_operation", SEV_HIGH,
			    "T0839", "T0843", "firmware file opened for writing");
		else
			raise_fc(ctx, pdu, m, "dnp3.file_operation", SEV_HIGH,
			    "T0843", "file opened for writing");
	} else if (known && fc.mode == DNP3_FILE_READ && !directory(&fc))
		raise_fc2(ctx, pdu, m, "dnp3.file_operation", SEV_MEDIUM, "T0845",
		    "T0882", "file opened for reading");
	else
		raise_fc(ctx, pdu, m, "dnp3.file_operation", SEV_MEDIUM, NULL,
		    "file operation");
}

static void
dnp3_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct dnp3_pdu *m;
	struct det_endpoint src;

	(void)state;
	if (pdu->proto != ICS_DNP3)
		return;
	m = pdu->u.dnp3;
	if (!m->has_app)
		return;
	check_role(ctx, pdu, m);
	/* requests only, whatever the DIR bit says */
	if (!is_request(m->app_fc))
		return;
	switch (m->app_fc) {
	case DNP3_FC_COLD_RESTART:
		raise_fc(ctx, pdu, m, "dnp3.restart", SEV_CRITICAL, "T0816",
		    "cold restart");
		return;
	case DNP3_FC_WARM_RESTART:
		raise_fc(ctx, pdu, m, "dnp3.restart", SEV_HIGH, "T0816",
		    "warm restart");
		return;
	case DNP3_FC_STOP_APPL:
		raise_fc(ctx, pdu, m, "dnp3.stop_application", SEV_HIGH, "T0881",
		    "stop application");
		return;
	case DNP3_FC_DISABLE_UNSOLICITED:
		raise_fc2(ctx, pdu, m, "dnp3.disable_unsolicited", SEV_HIGH,
		    "T0815", "T0878", "disable unsolicited responses");
		return;
	case DNP3_FC_OPEN_FILE:
	case DNP3_FC_DELETE_FILE:
		on_file(ctx, pdu, m);
		return;
	case DNP3_FC_CLOSE_FILE:
	case DNP3_FC_GET_FILE_INFO:
	case DNP3_FC_AUTHENTICATE_FILE:
	case DNP3_FC_ABORT_FILE:
		raise_fc(ctx, pdu, m, "dnp3.file_operation", SEV_MEDIUM, NULL,
		    "file operation");
		return;
	case DNP3_FC_INITIALIZE_APPL:
	case DNP3_FC_START_APPL:
		/* the application restarts: its service is interrupted */
		raise_fc(ctx, pdu, m, "dnp3.config_change", SEV_MEDIUM, "T0881",
		    "application/configuration change");
		return;
	case DNP3_FC_INITIALIZE_DATA:
	case DNP3_FC_SAVE_CONFIG:
	case DNP3_FC_ACTIVATE_CONFIG:
		/* data back to defaults, a new configuration: parameters */
		raise_fc(ctx, pdu, m, "dnp3.config_change", SEV_MEDIUM, "T0836",
		    "application/configuration change");
		return;
	case DNP3_FC_WRITE:
	case DNP3_FC_SELECT:
	case DNP3_FC_OPERATE:
	case DNP3_FC_DIRECT_OPERATE:
	case DNP3_FC_DIRECT_OPERATE_NR:
	case DNP3_FC_IMMED_FREEZE:
	case DNP3_FC_IMMED_FREEZE_NR:
	case DNP3_FC_FREEZE_CLEAR:
	case DNP3_FC_FREEZE_CLEAR_NR:
	case DNP3_FC_FREEZE_AT_TIME:
	case DNP3_FC_FREEZE_AT_TIME_NR:
		det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
		if (det_policy(ctx, ICS_DNP3, DET_ROLE_WRITER, &src) != DET_DENIED)
			return;
		/* technique by what is written: the time (g50), an analog
		 * output setpoint (g41), else a command */
		if (m->app_fc == DNP3_FC_WRITE && m->nobj > 0 &&
		    m->obj[0].group == 50)
			raise_fc2(ctx, pdu, m, "dnp3.unauthorized_command",
			    SEV_HIGH, "T0849", "T0855",
			    "time set by a host not allowed");
		else if (m->nobj > 0 && m->obj[0].group == 41)
			raise_fc2(ctx, pdu, m, "dnp3.unauthorized_command",
			    SEV_HIGH, "T0855", "T0836",
			    "analog output (setpoint) from a host not allowed");
		else
			raise_fc(ctx, pdu, m, "dnp3.unauthorized_command", SEV_HIGH,
			    "T0855", "control command from a host not allowed");
		return;
	}
}

const struct detector det_dnp3 = {
	.name = "dnp3",
	.pdu_protos = DET_PROTO(ICS_DNP3),
	.severity = SEV_HIGH,
	.on_pdu = dnp3_pdu,
};
