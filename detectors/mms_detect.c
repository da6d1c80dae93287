/*
 * mms_detect.c - rules on IEC 61850 MMS requests (ISO 9506).
 *
 * A request that changes the IED, from a host [policy] mms_writers (or
 * the learned baseline) does not allow:
 *
 *   mms.unauthorized_write   write, define/delete named variable list   T0855
 *   mms.program_control      start/stop/resume/create/delete program
 *                            invocation                                 T0858
 *   mms.program_reset        reset/kill program invocation              T0816
 *   mms.program_download     initiate/segment/terminate download,
 *                            request domain download, load domain       T0843
 *   mms.delete_domain        delete domain (removes the IED's program)  T0816
 *   mms.file_operation       file open/delete/rename, obtain file       T0855
 *
 * and from a host not allowed to discover ([policy] discovery_allowed):
 *
 *   mms.discovery            getNameList, identify, status              T0888
 *
 * The technique follows what the request touches: writes to settings and
 * setpoints (FC SG/SE/SP, SGCB) T0836, to report/GOOSE/SV control block
 * enables T0878 (each + T0855); getNameList T0861 (+ T0888); kill T0858
 * (+ T0816); file delete T0809 (+ T0855).
 *
 * MMS is peer to peer (ICCP/TASE.2 servers send requests too), so the
 * sender of a confirmed request is judged whichever side opened the TCP
 * connection.  No policy and no baseline: no opinion, no alert.
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/mms.h"

struct rule {
	const char		*det;
	enum det_severity	 sev;
	const char		*tech;
	enum det_role		 role;
};

static const struct rule *
rule_of(int service)
{
	static const struct rule write = { "mms.unauthorized_write", SEV_HIGH,
	    "T0855", DET_ROLE_WRITER };
	static const struct rule control = { "mms.program_control",
	    SEV_CRITICAL, "T0858", DET_ROLE_WRITER };
	static const struct rule reset = { "mms.program_reset", SEV_CRITICAL,
	    "T0816", DET_ROLE_WRITER };
	static const struct rule download = { "mms.program_download",
	    SEV_CRITICAL, "T0843", DET_ROLE_WRITER };
	static const struct rule deldom = { "mms.delete_domain", SEV_CRITICAL,
	    "T0816", DET_ROLE_WRITER };
	static const struct rule file = { "mms.file_operation", SEV_HIGH,
	    "T0855", DET_ROLE_WRITER };
	static const struct rule disc = { "mms.discovery", SEV_MEDIUM,
	    "T0888", DET_ROLE_DISCOVERY };

	switch (service) {
	case MMS_SVC_RESET:
	case MMS_SVC_KILL:
		return &reset;
	case MMS_SVC_FILE_READ:
	case MMS_SVC_FILE_CLOSE:
	case MMS_SVC_FILE_DIRECTORY:
		return NULL;	/* follow a fileOpen, or only list */
	}
	switch (mms_service_class(service)) {
	case MMS_CLASS_WRITE:
	case MMS_CLASS_NVL:
		return &write;
	case MMS_CLASS_PROGRAM:
		return &control;
	case MMS_CLASS_DOWNLOAD:
		return &download;
	case MMS_CLASS_DOMAIN_DELETE:
		return &deldom;
	case MMS_CLASS_FILE:
		return &file;
	case MMS_CLASS_DISCOVERY:
		return &disc;
	default:
		return NULL;
	}
}

/* Does the object name contain sub? */
static bool
name_has(const struct mms_pdu *m, const char *sub)
{
	size_t n = strlen(sub), i;

	if (m->name == NULL || m->name_len < n)
		return false;
	for (i = 0; i + n <= m->name_len; i++)
		if (memcmp(m->name + i, sub, n) == 0)
			return true;
	return false;
}

/*
 * Technique by what the request touches (IEC 61850-8-1 names): a write to
 * settings or setpoints (functional constraints SG, SE, SP, the setting
 * group control block) modifies a parameter; a write to a report or GOOSE
 * control block's enable hides the events it reports; getNameList
 * enumerates the IED's variables (points and tags); killing a program
 * invocation stops it; a deleted file is destroyed.  Else the rule's own.
 */
static const char *
technique(const struct mms_pdu *m, const struct rule *r)
{
	if (mms_service_class(m->service) == MMS_CLASS_WRITE) {
		if (name_has(m, "$SG$") || name_has(m, "$SE$") ||
		    name_has(m, "$SP$") || name_has(m, "SGCB"))
			return "T0836";
		if (name_has(m, "RptEna") || name_has(m, "GoEna") ||
		    name_has(m, "SvEna"))
			return "T0878";
		return r->tech;
	}
	switch (m->service) {
	case MMS_SVC_GET_NAME_LIST:
		return "T0861";
	case MMS_SVC_KILL:
		return "T0858";
	case MMS_SVC_FILE_DELETE:
		return "T0809";
	}
	return r->tech;
}

static void
str_add(cJSON *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[256];

	if (p == NULL)
		return;
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	cJSON_AddStringToObject(o, k, buf);
}

static void
mms_pdu_fn(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct mms_pdu *m = pdu->u.mms;
	const struct rule *r;
	struct det_endpoint src;
	struct det_alert a;
	char title[200];

	(void)state;
	if (pdu->proto != ICS_MMS || m->pdu != MMS_PDU_CONFIRMED_REQ ||
	    (r = rule_of(m->service)) == NULL)
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (det_policy(ctx, ICS_MMS, r->role, &src) != DET_DENIED)
		return;
	det_alert_from_pdu(&a, pdu);
	a.detector = r->det;
	a.severity = r->sev;
	a.technique = technique(m, r);
	a.techniques[0] = strcmp(a.technique, r->tech) != 0 ? r->tech : NULL;
	snprintf(title, sizeof(title), "MMS %s from a host not allowed%s%.*s",
	    mms_service_name(m->service), m->name != NULL ? ": " : "",
	    (int)(m->name_len > 64 ? 64 : m->name_len),
	    m->name != NULL ? (const char *)m->name : "");
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "service", m->service);
	cJSON_AddStringToObject(a.details, "service_name",
	    mms_service_name(m->service));
	cJSON_AddNumberToObject(a.details, "invoke_id", m->invoke_id);
	str_add(a.details, "domain", m->domain, m->domain_len);
	str_add(a.details, "name", m->name, m->name_len);
	if (m->n_vars > 0)
		cJSON_AddNumberToObject(a.details, "variables", m->n_vars);
	if (m->object_class >= 0)
		cJSON_AddNumberToObject(a.details, "object_class",
		    m->object_class);
	a.agg_key = mms_service_name(m->service);
	det_alert(ctx, &a);
}

const struct detector det_mms = {
	.name = "mms",
	.severity = SEV_HIGH,
	.pdu_protos = DET_PROTO(ICS_MMS),
	.on_pdu = mms_pdu_fn,
};
