/*
 * opcua_svc.c - what an OPC UA service request or response does: the
 * fields after the type NodeId of a plaintext MSG body (OPC 10000-4
 * 5.x service parameters, OPC 10000-6 5.2 encodings).
 *
 *   RequestHeader:  authenticationToken NodeId | timestamp (8) | handle
 *                   (4) | returnDiagnostics (4) | auditEntryId String |
 *                   timeoutHint (4) | additionalHeader ExtensionObject
 *   ResponseHeader: timestamp (8) | handle (4) | serviceResult (4) | ...
 *   ReadRequest:    maxAge (8) | timestampsToReturn (4) | nodesToRead[]:
 *                   NodeId | attributeId (4) | indexRange String |
 *                   dataEncoding QualifiedName (ns 2 | name String)
 *   WriteRequest:   nodesToWrite[]: NodeId | attributeId (4) | indexRange
 *                   String | DataValue (mask (1) | Variant type (1) ...)
 *
 * Pure functions over the caller's buffer; a field that does not decode
 * stops the walk with what was learned so far.
 */
#include "dissectors/opcua.h"

#include <string.h>

#include "lib/rd.h"

/* Skip a String / ByteString (int32 length, -1 null). */
static bool
skip_string(struct rd *r)
{
	int32_t l = (int32_t)rd_le32(r);

	if (r->err || l < -1)
		return false;
	return l <= 0 || ((size_t)l <= rd_left(r) && rd_skip(r, (size_t)l));
}

/* A NodeId (or ExpandedNodeId): ns and numeric id when it has one. */
bool
opcua_read_nodeid(struct rd *r, uint16_t *ns, uint32_t *id, bool *numeric)
{
	uint8_t enc = rd_u8(r);

	*ns = 0;
	*id = 0;
	*numeric = true;
	switch (enc & 0x3F) {
	case 0:
		*id = rd_u8(r);
		break;
	case 1:
		*ns = rd_u8(r);
		*id = rd_le16(r);
		break;
	case 2:
		*ns = rd_le16(r);
		*id = rd_le32(r);
		break;
	case 3:
	case 5:
		*numeric = false;
		*ns = rd_le16(r);
		if (!skip_string(r))
			return false;
		break;
	case 4:
		*numeric = false;
		*ns = rd_le16(r);
		rd_skip(r, 16);
		break;
	default:
		return false;
	}
	if ((enc & 0x80) && !skip_string(r))
		return false;
	if (enc & 0x40)
		rd_skip(r, 4);
	return !r->err;
}

/* ExtensionObject: type NodeId | encoding (0 none, 1/2 with a body). */
static bool
skip_extension(struct rd *r)
{
	uint16_t ns;
	uint32_t id;
	bool num;
	uint8_t enc;

	if (!opcua_read_nodeid(r, &ns, &id, &num))
		return false;
	enc = rd_u8(r);
	if (r->err || enc > 2)
		return false;
	return enc == 0 || skip_string(r);
}

static bool
skip_request_header(struct rd *r)
{
	uint16_t ns;
	uint32_t id;
	bool num;

	if (!opcua_read_nodeid(r, &ns, &id, &num) || !rd_skip(r, 8 + 4 + 4) ||
	    !skip_string(r) || !rd_skip(r, 4))
		return false;
	return skip_extension(r);
}

/* Array length: -1 (null) counts as empty. */
static bool
read_count(struct rd *r, uint32_t *n)
{
	int32_t c = (int32_t)rd_le32(r);

	if (r->err || c < -1)
		return false;
	*n = c < 0 ? 0 : (uint32_t)c;
	return true;
}

bool
opcua_id_is_build_info(uint16_t ns, uint32_t id)
{
	/* Server_ServerStatus_BuildInfo (2260) and its members ProductUri,
	 * ManufacturerName, ProductName, SoftwareVersion, BuildNumber,
	 * BuildDate (2261-2266): who made the server and which release */
	return ns == 0 && id >= OPCUA_NODE_BUILD_INFO &&
	    id <= OPCUA_NODE_BUILD_DATE;
}

int
opcua_read_identity(const struct opcua_pdu *m)
{
	uint32_t n, i, attr;
	uint16_t ns, qns;
	uint32_t id;
	bool num;
	struct rd r;
	int hits = 0;

	if (m == NULL || !m->has_service ||
	    m->service_id != OPCUA_SVC_READ_REQ || m->body == NULL)
		return 0;
	rd_init(&r, m->body, m->body_len);
	if (!skip_request_header(&r) || !rd_skip(&r, 8 + 4) ||
	    !read_count(&r, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (!opcua_read_nodeid(&r, &ns, &id, &num))
			break;
		attr = rd_le32(&r);
		if (r.err || !skip_string(&r)) /* indexRange */
			break;
		qns = rd_le16(&r); /* dataEncoding: ns, name */
		(void)qns;
		if (r.err || !skip_string(&r))
			break;
		/* the whole ServerStatus carries its BuildInfo too */
		if (num && attr == OPCUA_ATTR_VALUE &&
		    (opcua_id_is_build_info(ns, id) ||
			(ns == 0 && id == OPCUA_NODE_SERVER_STATUS)))
			hits++;
	}
	return hits;
}

enum opcua_write_kind
opcua_write_kind(const struct opcua_pdu *m)
{
	uint32_t n, attr, id;
	uint16_t ns;
	uint8_t mask, vt;
	bool num;
	struct rd r;

	if (m == NULL || !m->has_service ||
	    m->service_id != OPCUA_SVC_WRITE_REQ || m->body == NULL)
		return OPCUA_WRITE_UNKNOWN;
	rd_init(&r, m->body, m->body_len);
	/* the first WriteValue (a value's size depends on its type) */
	if (!skip_request_header(&r) || !read_count(&r, &n) || n == 0 ||
	    !opcua_read_nodeid(&r, &ns, &id, &num))
		return OPCUA_WRITE_UNKNOWN;
	attr = rd_le32(&r);
	if (r.err || !skip_string(&r))
		return OPCUA_WRITE_UNKNOWN;
	if (attr != OPCUA_ATTR_VALUE)
		return OPCUA_WRITE_ATTRIBUTE;
	mask = rd_u8(&r);
	vt = (mask & 0x01) ? rd_u8(&r) : 0;
	if (r.err)
		return OPCUA_WRITE_UNKNOWN;
	/* Boolean (1) is a state or a command; SByte..Double (2-11) a
	 * quantity: a setpoint, a limit, a parameter */
	vt &= 0x3F;
	if (vt >= 2 && vt <= 11)
		return OPCUA_WRITE_NUMBER;
	return OPCUA_WRITE_OTHER;
}

uint32_t
opcua_response_status(const struct opcua_pdu *m)
{
	struct rd r;
	uint32_t st;

	if (m == NULL || !m->has_service || m->body == NULL)
		return 0;
	rd_init(&r, m->body, m->body_len);
	rd_skip(&r, 8 + 4);
	st = rd_le32(&r);
	return r.err ? 0 : st;
}
