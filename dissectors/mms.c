/*
 * mms.c - MMS over TPKT/COTP/session/presentation/ACSE (ISO 9506-2,
 * RFC 1006, X.224, X.225, X.226, X.227).
 */
#include "dissectors/mms.h"

#include <string.h>

#include "dissectors/ber.h"
#include "dissectors/proto.h"
#include "lib/ids.h"
#include "lib/rd.h"

#define COTP_DT		0xF0
#define COTP_EOT	0x80

/* Session SPDU identifiers (X.225 8.3) */
#define SPDU_GT_DT	0x01	/* Give Tokens, and Data Transfer */
#define SPDU_FINISH	0x09
#define SPDU_DISCONNECT	0x0A
#define SPDU_CONNECT	0x0D
#define SPDU_ACCEPT	0x0E
#define SPDU_REFUSE	0x0C
#define SPDU_ABORT	0x19
#define PGI_USER_DATA	0xC1	/* 193 */
#define PGI_EXT_DATA	0xC2	/* 194 Extended User Data */

/* Identifier octets: VisibleString / GraphicString */
#define BER_VISIBLESTRING	0x1A
#define BER_GRAPHICSTRING	0x19

/* An Identifier (VisibleString32 in 61850, up to 64 chars in 9506). */
#define MMS_IDENT_MAX		255

int
mms_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint16_t l;

	if (len == NULL)
		return IDS_EINVAL;
	rd_init(&r, p, n);
	if (n >= 1 && rd_peek(&r, 0) != 3)
		return IDS_EMALFORMED;
	if (n >= 2 && rd_peek(&r, 1) != 0)
		return IDS_EMALFORMED;
	if (n < MMS_TPKT_HDR_LEN)
		return IDS_EAGAIN;
	rd_skip(&r, 2);
	l = rd_be16(&r);
	if (l < MMS_TPKT_MIN_LEN)
		return IDS_EMALFORMED;
	*len = l;
	return 0;
}

/* ---- MMS PDU ------------------------------------------------------- */

static int
ident(const struct ber_tlv *t, const uint8_t **s, size_t *len)
{
	if (t->constructed || t->len > MMS_IDENT_MAX)
		return IDS_EMALFORMED;
	*s = ber_ptr(t);
	*len = t->len;
	return 0;
}

/* ObjectName ::= CHOICE { vmd-specific [0], domain-specific [1]
 * SEQUENCE { domainId, itemId }, aa-specific [2] } */
static int
object_name(const struct ber_tlv *t, struct mms_pdu *m)
{
	struct ber_tlv d, i;
	struct rd c = t->val;

	if (t->cls != BER_CLASS_CONTEXT)
		return IDS_EMALFORMED;
	switch (t->tag) {
	case 0:
	case 2:
		return ident(t, &m->name, &m->name_len);
	case 1:
		if (!t->constructed || ber_next(&c, &d) != 0 ||
		    ber_next(&c, &i) != 0)
			return IDS_EMALFORMED;
		if (ident(&d, &m->domain, &m->domain_len) != 0)
			return IDS_EMALFORMED;
		return ident(&i, &m->name, &m->name_len);
	}
	return IDS_EMALFORMED;
}

/* The first name of ObjectName wrapped in an explicit tag. */
static int
tagged_object_name(const struct ber_tlv *t, struct mms_pdu *m)
{
	struct rd c = t->val;
	struct ber_tlv o;

	if (!t->constructed || ber_next(&c, &o) != 0)
		return IDS_EMALFORMED;
	return object_name(&o, m);
}

/*
 * VariableAccessSpecification ::= CHOICE { listOfVariable [0] SEQUENCE OF
 * SEQUENCE { variableSpecification, alternateAccess [5] OPT },
 * variableListName [1] ObjectName }.  The first name is kept, all counted.
 */
static int
var_access(const struct ber_tlv *t, struct mms_pdu *m)
{
	struct ber_tlv e, spec;
	struct rd c = t->val, ec;

	if (t->cls != BER_CLASS_CONTEXT || !t->constructed)
		return IDS_EMALFORMED;
	if (t->tag == 1) {
		m->n_vars = 1;
		return tagged_object_name(t, m);
	}
	if (t->tag != 0)
		return IDS_EMALFORMED;
	while (rd_left(&c) > 0) {
		if (ber_next(&c, &e) != 0 || e.id != 0x30)
			return IDS_EMALFORMED;
		ec = e.val;
		if (ber_next(&ec, &spec) != 0)
			return IDS_EMALFORMED;
		/* variableSpecification: name [0] ObjectName; address,
		 * scattered access... carry no name */
		if (m->n_vars == 0 && ber_is(&spec, BER_CLASS_CONTEXT, 0) &&
		    tagged_object_name(&spec, m) != 0)
			return IDS_EMALFORMED;
		m->n_vars++;
	}
	return 0;
}

/* The first VisibleString/GraphicString or primitive context-tagged
 * printable string below t: a program invocation, domain or file name. */
static bool
first_string(const struct ber_tlv *t, unsigned depth, struct mms_pdu *m)
{
	struct rd c = t->val, s;
	struct ber_tlv e;
	size_t i;

	if (!t->constructed) {
		if (t->len == 0 || t->len > MMS_IDENT_MAX)
			return false;
		if (t->cls == BER_CLASS_UNIVERSAL && t->tag != 0x19 &&
		    t->tag != 0x1A)
			return false;
		s = t->val;
		for (i = 0; i < t->len; i++) {
			uint8_t ch = rd_u8(&s);

			if (ch < 0x20 || ch > 0x7E)
				return false;
		}
		m->name = ber_ptr(t);
		m->name_len = t->len;
		return true;
	}
	if (depth >= 4)
		return false;
	while (rd_left(&c) > 0 && ber_next(&c, &e) == 0)
		if (first_string(&e, depth + 1, m))
			return true;
	return false;
}

/* getNameList-Request ::= SEQUENCE { objectClass [0], objectScope [1]
 * CHOICE { vmdSpecific [0] NULL, domainSpecific [1] Identifier, aa [2] },
 * continueAfter [2] OPT } */
static int
get_name_list(struct rd *c, struct mms_pdu *m)
{
	struct ber_tlv t, v;
	struct rd in;
	int64_t cls;

	while (rd_left(c) > 0) {
		if (ber_next(c, &t) != 0)
			return IDS_EMALFORMED;
		if (ber_is(&t, BER_CLASS_CONTEXT, 0) && t.constructed) {
			in = t.val;
			if (ber_next(&in, &v) != 0 || v.constructed ||
			    ber_int(&v, &cls) != 0 || cls < 0 || cls > 255)
				return IDS_EMALFORMED;
			m->object_class = (int)cls;
		} else if (ber_is(&t, BER_CLASS_CONTEXT, 1) && t.constructed) {
			in = t.val;
			if (ber_next(&in, &v) != 0)
				return IDS_EMALFORMED;
			if (ber_is(&v, BER_CLASS_CONTEXT, 1) &&
			    ident(&v, &m->domain, &m->domain_len) != 0)
				return IDS_EMALFORMED;
		}
	}
	return 0;
}

/* The service of a confirmed request: tag in svc, contents in t. */
static int
request_service(const struct ber_tlv *t, struct mms_pdu *m)
{
	struct rd c = t->val;
	struct ber_tlv e;

	switch (t->tag) {
	case MMS_SVC_GET_NAME_LIST:
		return get_name_list(&c, m);
	case MMS_SVC_READ:
		/* [0] specificationWithResult OPT, [1] variableAccessSpec */
		while (rd_left(&c) > 0) {
			if (ber_next(&c, &e) != 0)
				return IDS_EMALFORMED;
			if (ber_is(&e, BER_CLASS_CONTEXT, 1)) {
				struct rd in = e.val;
				struct ber_tlv vas;

				if (ber_next(&in, &vas) != 0)
					return IDS_EMALFORMED;
				return var_access(&vas, m);
			}
		}
		return IDS_EMALFORMED;
	case MMS_SVC_WRITE:
		/* variableAccessSpecification first, then [0] listOfData */
		if (ber_next(&c, &e) != 0)
			return IDS_EMALFORMED;
		return var_access(&e, m);
	case MMS_SVC_GET_VAR_ATTR:
		/* CHOICE { name [0] ObjectName, address [1] } */
		if (ber_next(&c, &e) != 0)
			return IDS_EMALFORMED;
		if (ber_is(&e, BER_CLASS_CONTEXT, 0))
			return tagged_object_name(&e, m);
		return 0;
	case MMS_SVC_DEFINE_NVL:
		/* variableListName ObjectName, listOfVariable [0] */
		if (ber_next(&c, &e) != 0 || object_name(&e, m) != 0)
			return IDS_EMALFORMED;
		if (ber_next(&c, &e) != 0 ||
		    !ber_is(&e, BER_CLASS_CONTEXT, 0) || !e.constructed)
			return IDS_EMALFORMED;
		{
			struct rd l = e.val;
			struct ber_tlv v;

			while (rd_left(&l) > 0) {
				if (ber_next(&l, &v) != 0)
					return IDS_EMALFORMED;
				m->n_vars++;
			}
		}
		return 0;
	case MMS_SVC_DELETE_NVL:
		/* [0] scope, [1] listOfVariableListName, [2] domainName */
		while (rd_left(&c) > 0) {
			if (ber_next(&c, &e) != 0)
				return IDS_EMALFORMED;
			if (ber_is(&e, BER_CLASS_CONTEXT, 1) && e.constructed) {
				struct rd l = e.val;
				struct ber_tlv o;

				while (rd_left(&l) > 0) {
					if (ber_next(&l, &o) != 0)
						return IDS_EMALFORMED;
					if (m->n_vars++ == 0 &&
					    object_name(&o, m) != 0)
						return IDS_EMALFORMED;
				}
			}
		}
		return 0;
	default:
		/* domain, program invocation, file: the first name */
		(void)first_string(t, 0, m);
		return 0;
	}
}

/* Confirmed-RequestPDU / ResponsePDU ::= SEQUENCE { invokeID Unsigned32,
 * listOfModifier SEQUENCE OPT (requests), service [n] } */
static int
confirmed(const struct ber_tlv *pdu, bool request, struct mms_pdu *m)
{
	struct rd c = pdu->val;
	struct ber_tlv t;
	uint64_t id;

	if (!pdu->constructed || ber_next(&c, &t) != 0 || t.id != 0x02 ||
	    ber_uint(&t, &id) != 0 || id > UINT32_MAX)
		return IDS_EMALFORMED;
	m->has_invoke = true;
	m->invoke_id = (uint32_t)id;
	do {
		if (ber_next(&c, &t) != 0)
			return IDS_EMALFORMED;
	} while (t.cls == BER_CLASS_UNIVERSAL);
	if (t.cls != BER_CLASS_CONTEXT || t.tag > 255)
		return IDS_EMALFORMED;
	m->service = (int)t.tag;
	return request ? request_service(&t, m) : 0;
}

static int
pdu_parse(struct rd *r, struct mms_pdu *m)
{
	struct ber_tlv pdu, t;
	struct rd c;
	uint64_t id;

	if (ber_next(r, &pdu) != 0 || pdu.cls != BER_CLASS_CONTEXT ||
	    pdu.tag > MMS_PDU_CONCLUDE_ERR)
		return IDS_EMALFORMED;
	m->pdu = (uint8_t)pdu.tag;
	c = pdu.val;
	switch (pdu.tag) {
	case MMS_PDU_CONFIRMED_REQ:
		return confirmed(&pdu, true, m);
	case MMS_PDU_CONFIRMED_RESP:
		return confirmed(&pdu, false, m);
	case MMS_PDU_CONFIRMED_ERR:
		/* [0] IMPLICIT invokeID first */
		if (!pdu.constructed || ber_next(&c, &t) != 0 ||
		    !ber_is(&t, BER_CLASS_CONTEXT, 0) ||
		    ber_uint(&t, &id) != 0 || id > UINT32_MAX)
			return IDS_EMALFORMED;
		m->has_invoke = true;
		m->invoke_id = (uint32_t)id;
		return 0;
	case MMS_PDU_UNCONFIRMED:
		if (!pdu.constructed || ber_next(&c, &t) != 0 ||
		    t.cls != BER_CLASS_CONTEXT || t.tag > 255)
			return IDS_EMALFORMED;
		m->service = (int)t.tag;
		return 0;
	case MMS_PDU_CANCEL_REQ:
	case MMS_PDU_CANCEL_RESP:
		if (pdu.constructed || ber_uint(&pdu, &id) != 0 ||
		    id > UINT32_MAX)
			return IDS_EMALFORMED;
		m->has_invoke = true;
		m->invoke_id = (uint32_t)id;
		return 0;
	case MMS_PDU_CONCLUDE_REQ:
	case MMS_PDU_CONCLUDE_RESP:
		return pdu.constructed || pdu.len != 0 ? IDS_EMALFORMED : 0;
	default:
		return pdu.constructed ? 0 : IDS_EMALFORMED;
	}
}

/* ---- presentation and ACSE ----------------------------------------- */

/*
 * PDV-list ::= SEQUENCE { transfer-syntax-name OPT, presentation-context-
 * identifier INTEGER, presentation-data-values CHOICE { single-ASN1-type
 * [0], octet-aligned [1], arbitrary [2] } }: the data values into out.
 */
static int
pdv_values(struct rd *fully, struct rd *out)
{
	struct ber_tlv pdv, t;
	struct rd c;

	if (ber_next(fully, &pdv) != 0 || pdv.id != 0x30)
		return IDS_EMALFORMED;
	c = pdv.val;
	while (rd_left(&c) > 0) {
		if (ber_next(&c, &t) != 0)
			return IDS_EMALFORMED;
		if (t.cls == BER_CLASS_CONTEXT && t.tag <= 1) {
			*out = t.val;
			return 0;
		}
	}
	return IDS_EMALFORMED;
}

/* AARQ/AARE user-information [30] { EXTERNAL { ..., encoding [0]/[1] } } */
static int
acse(struct rd *r, struct mms_pdu *m)
{
	struct ber_tlv apdu, t, ext;
	struct rd c, e;

	if (ber_next(r, &apdu) != 0 || apdu.cls != BER_CLASS_APPLICATION)
		return IDS_EMALFORMED;
	/* AARQ [0], AARE [1] carry the MMS initiate; release and abort
	 * carry nothing MMS needs */
	if (apdu.tag > 1)
		return 0;
	c = apdu.val;
	while (rd_left(&c) > 0) {
		if (ber_next(&c, &t) != 0)
			return IDS_EMALFORMED;
		if (!ber_is(&t, BER_CLASS_CONTEXT, 30))
			continue;
		if (ber_next(&t.val, &ext) != 0 || ext.id != 0x28)
			return IDS_EMALFORMED;
		e = ext.val;
		while (rd_left(&e) > 0) {
			if (ber_next(&e, &t) != 0)
				return IDS_EMALFORMED;
			if (t.cls == BER_CLASS_CONTEXT && t.tag <= 1)
				return pdu_parse(&t.val, m);
		}
		return IDS_EMALFORMED;
	}
	return 0;
}

/* CP-type / CPA-type ::= SET { mode-selector [0], normal-mode-parameters
 * [2] SEQUENCE { ..., user-data fully-encoded-data [APPLICATION 1] } } */
static int
presentation_connect(struct rd *r, struct mms_pdu *m)
{
	struct ber_tlv set, t, u;
	struct rd c, v;

	if (ber_next(r, &set) != 0 || set.id != 0x31)
		return IDS_EMALFORMED;
	while (rd_left(&set.val) > 0) {
		if (ber_next(&set.val, &t) != 0)
			return IDS_EMALFORMED;
		if (!ber_is(&t, BER_CLASS_CONTEXT, 2) || !t.constructed)
			continue;
		c = t.val;
		while (rd_left(&c) > 0) {
			if (ber_next(&c, &u) != 0)
				return IDS_EMALFORMED;
			if (u.id == 0x61) {
				if (pdv_values(&u.val, &v) != 0)
					return IDS_EMALFORMED;
				return acse(&v, m);
			}
		}
		return 0;
	}
	return 0;
}

/* User-data in the data phase: fully-encoded-data [APPLICATION 1]. */
static int
presentation_data(struct rd *r, struct mms_pdu *m)
{
	struct ber_tlv u;
	struct rd v;

	if (ber_next(r, &u) != 0 || u.id != 0x61 ||
	    pdv_values(&u.val, &v) != 0)
		return IDS_EMALFORMED;
	return pdu_parse(&v, m);
}

/* ---- session ------------------------------------------------------- */

/* SPDU length indicator: one octet, or 0xFF and two (X.225 8.2.5). */
static size_t
session_li(struct rd *r)
{
	uint8_t li = rd_u8(r);

	return li == 0xFF ? rd_be16(r) : li;
}

/* CONNECT/ACCEPT parameters: find PGI 193/194 User Data. */
static int
session_connect(struct rd *params, struct mms_pdu *m)
{
	struct rd v;
	uint8_t code;
	size_t len;

	while (rd_left(params) > 0) {
		code = rd_u8(params);
		len = session_li(params);
		if (params->err || !rd_sub(params, len, &v))
			return IDS_EMALFORMED;
		if (code == PGI_USER_DATA || code == PGI_EXT_DATA)
			return presentation_connect(&v, m);
	}
	return 0;
}

static int
session(struct rd *r, struct mms_pdu *m)
{
	struct rd params;
	size_t li;

	m->spdu = rd_u8(r);
	li = session_li(r);
	if (r->err || !rd_sub(r, li, &params))
		return IDS_EMALFORMED;
	switch (m->spdu) {
	case SPDU_GT_DT:
		/* Give Tokens then Data Transfer, each normally empty */
		if (rd_u8(r) != SPDU_GT_DT)
			return IDS_EMALFORMED;
		li = session_li(r);
		if (r->err || !rd_skip(r, li))
			return IDS_EMALFORMED;
		return presentation_data(r, m);
	case SPDU_CONNECT:
	case SPDU_ACCEPT:
		return session_connect(&params, m);
	case SPDU_FINISH:
	case SPDU_DISCONNECT:
	case SPDU_REFUSE:
	case SPDU_ABORT:
		return 0;
	}
	return IDS_EMALFORMED;
}

int
mms_parse(const uint8_t *p, size_t n, struct mms_pdu *out)
{
	size_t len;
	uint8_t li;
	struct rd r, cotp;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	out->pdu = MMS_PDU_NONE;
	out->service = -1;
	out->object_class = -1;
	rc = mms_frame_len(p, n, &len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (len > n)
		return IDS_ETRUNC;
	out->frame_len = len;
	rd_init(&r, p + MMS_TPKT_HDR_LEN, len - MMS_TPKT_HDR_LEN);
	li = rd_u8(&r);
	if (li < 1 || !rd_sub(&r, li, &cotp))
		return IDS_EMALFORMED;
	out->cotp_type = rd_u8(&cotp) & 0xF0;
	if (out->cotp_type != COTP_DT)
		return 0;	/* CR, CC, DR, ...: no user data for us */
	if (li != 2)
		return IDS_EMALFORMED;
	if ((rd_u8(&cotp) & COTP_EOT) == 0) {
		out->segmented = true;
		return 0;
	}
	if (rd_left(&r) == 0)
		return 0;
	return session(&r, out);
}

bool
mms_probe(const uint8_t *p, size_t n)
{
	struct mms_pdu m;

	return mms_parse(p, n, &m) == 0 && m.cotp_type == COTP_DT &&
	    (m.pdu != MMS_PDU_NONE || m.spdu != 0);
}

/* ---- names ---------------------------------------------------------- */

struct tok {
	int		 v;
	const char	*s;
};

static const struct tok svc_names[] = {
	{ MMS_SVC_STATUS, "status" },
	{ MMS_SVC_GET_NAME_LIST, "getNameList" },
	{ MMS_SVC_IDENTIFY, "identify" },
	{ MMS_SVC_RENAME, "rename" },
	{ MMS_SVC_READ, "read" },
	{ MMS_SVC_WRITE, "write" },
	{ MMS_SVC_GET_VAR_ATTR, "getVariableAccessAttributes" },
	{ 7, "defineNamedVariable" },
	{ MMS_SVC_DEFINE_NVL, "defineNamedVariableList" },
	{ MMS_SVC_GET_NVL_ATTR, "getNamedVariableListAttributes" },
	{ MMS_SVC_DELETE_NVL, "deleteNamedVariableList" },
	{ MMS_SVC_INIT_DOWNLOAD, "initiateDownloadSequence" },
	{ MMS_SVC_DOWNLOAD_SEGMENT, "downloadSegment" },
	{ MMS_SVC_TERM_DOWNLOAD, "terminateDownloadSequence" },
	{ MMS_SVC_INIT_UPLOAD, "initiateUploadSequence" },
	{ MMS_SVC_UPLOAD_SEGMENT, "uploadSegment" },
	{ MMS_SVC_TERM_UPLOAD, "terminateUploadSequence" },
	{ MMS_SVC_REQ_DOMAIN_DOWNLOAD, "requestDomainDownload" },
	{ MMS_SVC_REQ_DOMAIN_UPLOAD, "requestDomainUpload" },
	{ MMS_SVC_LOAD_DOMAIN, "loadDomainContent" },
	{ MMS_SVC_STORE_DOMAIN, "storeDomainContent" },
	{ MMS_SVC_DELETE_DOMAIN, "deleteDomain" },
	{ MMS_SVC_GET_DOMAIN_ATTR, "getDomainAttributes" },
	{ MMS_SVC_CREATE_PI, "createProgramInvocation" },
	{ MMS_SVC_DELETE_PI, "deleteProgramInvocation" },
	{ MMS_SVC_START, "start" },
	{ MMS_SVC_STOP, "stop" },
	{ MMS_SVC_RESUME, "resume" },
	{ MMS_SVC_RESET, "reset" },
	{ MMS_SVC_KILL, "kill" },
	{ MMS_SVC_GET_PI_ATTR, "getProgramInvocationAttributes" },
	{ MMS_SVC_OBTAIN_FILE, "obtainFile" },
	{ MMS_SVC_FILE_OPEN, "fileOpen" },
	{ MMS_SVC_FILE_READ, "fileRead" },
	{ MMS_SVC_FILE_CLOSE, "fileClose" },
	{ MMS_SVC_FILE_RENAME, "fileRename" },
	{ MMS_SVC_FILE_DELETE, "fileDelete" },
	{ MMS_SVC_FILE_DIRECTORY, "fileDirectory" },
};

static const char *const pdu_names[] = {
	"confirmed-request", "confirmed-response", "confirmed-error",
	"unconfirmed", "reject", "cancel-request", "cancel-response",
	"cancel-error", "initiate-request", "initiate-response",
	"initiate-error", "conclude-request", "conclude-response",
	"conclude-error",
};

const char *
mms_service_name(int service)
{
	size_t i;

	for (i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++)
		if (svc_names[i].v == service)
			return svc_names[i].s;
	return "unknown";
}

const char *
mms_unconfirmed_name(int service)
{
	switch (service) {
	case 0:	return "informationReport";
	case 1:	return "unsolicitedStatus";
	case 2:	return "eventNotification";
	}
	return "unknown";
}

const char *
mms_pdu_name(uint8_t pdu)
{
	if (pdu < sizeof(pdu_names) / sizeof(pdu_names[0]))
		return pdu_names[pdu];
	return "none";
}

enum mms_class
mms_service_class(int service)
{
	switch (service) {
	case MMS_SVC_READ:
	case MMS_SVC_GET_VAR_ATTR:
	case MMS_SVC_GET_NVL_ATTR:
	case MMS_SVC_GET_DOMAIN_ATTR:
	case MMS_SVC_GET_PI_ATTR:
		return MMS_CLASS_READ;
	case MMS_SVC_WRITE:
		return MMS_CLASS_WRITE;
	case MMS_SVC_STATUS:
	case MMS_SVC_GET_NAME_LIST:
	case MMS_SVC_IDENTIFY:
		return MMS_CLASS_DISCOVERY;
	case MMS_SVC_DEFINE_NVL:
	case MMS_SVC_DELETE_NVL:
		return MMS_CLASS_NVL;
	case MMS_SVC_CREATE_PI:
	case MMS_SVC_DELETE_PI:
	case MMS_SVC_START:
	case MMS_SVC_STOP:
	case MMS_SVC_RESUME:
	case MMS_SVC_RESET:
	case MMS_SVC_KILL:
		return MMS_CLASS_PROGRAM;
	case MMS_SVC_INIT_DOWNLOAD:
	case MMS_SVC_DOWNLOAD_SEGMENT:
	case MMS_SVC_TERM_DOWNLOAD:
	case MMS_SVC_REQ_DOMAIN_DOWNLOAD:
	case MMS_SVC_LOAD_DOMAIN:
		return MMS_CLASS_DOWNLOAD;
	case MMS_SVC_INIT_UPLOAD:
	case MMS_SVC_UPLOAD_SEGMENT:
	case MMS_SVC_TERM_UPLOAD:
	case MMS_SVC_REQ_DOMAIN_UPLOAD:
	case MMS_SVC_STORE_DOMAIN:
		return MMS_CLASS_UPLOAD;
	case MMS_SVC_DELETE_DOMAIN:
		return MMS_CLASS_DOMAIN_DELETE;
	case MMS_SVC_OBTAIN_FILE:
	case MMS_SVC_FILE_OPEN:
	case MMS_SVC_FILE_READ:
	case MMS_SVC_FILE_CLOSE:
	case MMS_SVC_FILE_RENAME:
	case MMS_SVC_FILE_DELETE:
	case MMS_SVC_FILE_DIRECTORY:
		return MMS_CLASS_FILE;
	}
	return MMS_CLASS_OTHER;
}

/* ---- descriptor ------------------------------------------------------- */

/*
 * Reached through s7comm_desc: nDPI and the port cannot tell MMS from
 * S7comm on 102, the bytes after COTP DT can (s7comm.c hands them here).
 * A frame with only session or COTP traffic (connect, release) is no PDU.
 */
static void
mms_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct mms_pdu m;
	struct det_pdu pdu = { .proto = ICS_MMS, .u.mms = &m };
	int rc = mms_parse(p, n, &m);

	if (rc == 0 && m.pdu == MMS_PDU_NONE)
		return;
	dis_outcome(dc, rc, &pdu, partial,
	    "malformed MMS PDU (session, presentation or ISO 9506)");
}

static unsigned
mms_code_ops(uint16_t code)
{
	switch (mms_service_class(code)) {
	case MMS_CLASS_WRITE:
	case MMS_CLASS_NVL:
		return PROTO_OP_WRITE;
	case MMS_CLASS_DISCOVERY:
		return PROTO_OP_DISCOVERY;
	case MMS_CLASS_PROGRAM:
		return PROTO_OP_COMMAND | PROTO_OP_DANGEROUS;
	case MMS_CLASS_DOWNLOAD:
	case MMS_CLASS_DOMAIN_DELETE:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case MMS_CLASS_FILE:
		/* reading a file is not a change; deleting one is */
		return code == MMS_SVC_FILE_DELETE ||
		    code == MMS_SVC_FILE_RENAME ?
		    PROTO_OP_WRITE | PROTO_OP_DANGEROUS : 0;
	default:
		return 0;
	}
}

static const char *
mms_code_name(uint16_t code, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return mms_service_name(code);
}

/* The confirmed service of a request is its code. */
static void
mms_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct mms_pdu *m = pdu->u.mms;

	/* one service per request: set directly (proto.c's helper would
	 * make mms -> proto -> registry -> mms a cycle) */
	if (m->pdu == MMS_PDU_CONFIRMED_REQ && m->service >= 0 &&
	    r->nops < PROTO_MAX_OPS)
		r->code[r->nops++] = (uint16_t)m->service;
}

const struct proto_desc mms_desc = {
	.id = ICS_MMS,
	.name = "iec61850-mms",
	.transports = PROTO_TCP,
	.ports = { MMS_TCP_PORT },
	.policy_key = "mms_writers",
	.handle = mms_handle,
	.analyse = mms_analyse,
	.code_ops = mms_code_ops,
	.code_name = mms_code_name,
};
