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
 *   cip.identity_read        a session that reads the Identity object
 *                            (class 1: vendor, product, revision, serial;
 *                            Get_Attributes_All / _Single / _List) and
 *                            nothing else, from a host neither allowed to
 *                            discover nor a writer of the device (medium
 *                            when [policy] names them, info otherwise).
 *                            HMIs and historians read the Identity object
 *                            when their session starts and then poll; a
 *                            scanner's session only identifies.  Judged
 *                            when the session ends, or IDENT_WAIT_S after
 *                            the read with no other request      T0888
 *
 * Memory: IDENT_SLOTS sessions with an Identity read pending, direct-
 * mapped by flow id (a collision forgets the older one: counted).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/enip.h"
#include "dissectors/flow.h"

#define IDENT_SLOTS	256	/* power of two */
#define IDENT_WAIT_S	10

/* A session whose first CIP requests were Identity reads only. */
struct ident {
	uint64_t		fid;	/* 0: free */
	uint64_t		ts;	/* the first Identity read */
	struct det_endpoint	src, dst;
	uint8_t			svc;
	uint8_t			listed;	/* the policy names who may */
	uint8_t			other;	/* the session did more: a client */
};

struct enip_state {
	struct ident	slot[IDENT_SLOTS];
	uint64_t	forgotten;
};

#define CIP_CLASS_IDENTITY	0x01
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
raise_identity(struct enip_state *st, struct det_ctx *ctx, struct ident *d)
{
	struct det_alert a;
	char title[160];

	memset(&a, 0, sizeof(a));
	a.detector = "cip.identity_read";
	a.severity = d->listed ? SEV_MEDIUM : SEV_INFO;
	a.technique = "T0888";
	a.proto = "enip";
	a.src = d->src;
	a.dst = d->dst;
	a.ts = d->ts;
	snprintf(title, sizeof(title),
	    "CIP %s of the Identity object in a session that did nothing else "
	    "(device identification)", cip_service_name(d->svc));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "service", d->svc);
	cJSON_AddNumberToObject(a.details, "class", CIP_CLASS_IDENTITY);
	if (st->forgotten)
		cJSON_AddNumberToObject(a.details, "sessions_forgotten",
		    (double)st->forgotten);
	d->fid = 0;
	det_alert(ctx, &a);
}

/*
 * The Identity object read: what ListIdentity tells, asked inside a
 * session.  Its writers and the asset tools may; anyone else is judged by
 * what the session does next.
 */
static void
identity_read(struct enip_state *st, struct det_ctx *ctx,
    const struct det_pdu *pdu, uint8_t svc, const struct det_endpoint *src)
{
	const struct flow *f = pdu->flow;
	struct ident *d = &st->slot[f->id & (IDENT_SLOTS - 1)];
	enum det_verdict v = det_policy(ctx, ICS_ENIP, DET_ROLE_DISCOVERY, src);

	if (d->fid == f->id)
		return;		/* judged already, or pending */
	if (v == DET_ALLOWED ||
	    det_policy(ctx, ICS_ENIP, DET_ROLE_WRITER, src) == DET_ALLOWED)
		return;
	if (d->fid != 0)
		st->forgotten++;
	memset(d, 0, sizeof(*d));
	d->fid = f->id;
	d->ts = pdu->ts;
	d->svc = svc;
	d->listed = v == DET_DENIED;
	d->src = *src;
	det_endpoint_from_flow(&d->dst, f, !pdu->sender_is_cli);
}

/* Any other request in the session: a client at work, not a scanner. */
static void
session_did_more(struct enip_state *st, const struct det_pdu *pdu)
{
	struct ident *d = &st->slot[pdu->flow->id & (IDENT_SLOTS - 1)];

	if (d->fid == pdu->flow->id)
		d->other = 1;
}

static bool
is_identity_read(uint8_t svc, const struct cip_path *path)
{
	return path->has_class && path->class_id == CIP_CLASS_IDENTITY &&
	    (svc == CIP_SVC_GET_ATTRIBUTES_ALL ||
	    svc == CIP_SVC_GET_ATTRIBUTE_SINGLE ||
	    svc == CIP_SVC_GET_ATTRIBUTE_LIST);
}

static void
one_service(struct enip_state *st, struct det_ctx *ctx,
    const struct det_pdu *pdu, uint8_t svc, const struct cip_path *path,
    const struct det_endpoint *src)
{
	if (is_identity_read(svc, path)) {
		identity_read(st, ctx, pdu, svc, src);
		return;
	}
	session_did_more(st, pdu);
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
			one_service(state, ctx, pdu, m->cip.multi_entries[i].service,
			    &m->cip.multi_entries[i].path, &src);
		return;
	}
	one_service(state, ctx, pdu, m->cip.service, &m->cip.path, &src);
}

static void
enip_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct enip_state *st = state;
	struct ident *d = &st->slot[f->id & (IDENT_SLOTS - 1)];

	if (d->fid != f->id)
		return;
	if (d->other)
		d->fid = 0;
	else
		raise_identity(st, ctx, d);
}

/* A session kept open that never did more: judged after IDENT_WAIT_S. */
static void
enip_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct enip_state *st = state;
	size_t i;

	for (i = 0; i < IDENT_SLOTS; i++) {
		struct ident *d = &st->slot[i];

		if (d->fid == 0 || d->other ||
		    now < d->ts + IDENT_WAIT_S * 1000000ull)
			continue;
		raise_identity(st, ctx, d);
		d->fid = 0;
	}
}

static int
enip_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	(void)c;
	(void)sec;
	*state = calloc(1, sizeof(struct enip_state));
	if (*state == NULL) {
		snprintf(err, errlen, "enip: out of memory");
		return -1;
	}
	return 0;
}

static void
enip_destroy(void *state)
{
	free(state);
}

const struct detector det_enip = {
	.name = "enip",
	.pdu_protos = DET_PROTO(ICS_ENIP),
	.severity = SEV_HIGH,
	.init = enip_init,
	.on_pdu = enip_pdu,
	.on_flow_end = enip_flow_end,
	.on_tick = enip_tick,
	.destroy = enip_destroy,
};
