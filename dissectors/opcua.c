/*
 * opcua.c - OPC UA binary message parser.
 *
 * Spec: IEC 62541-6 / OPC 10000-6: 7.1.2 (UA TCP message header and
 * HEL/ACK/ERR/RHE bodies), 6.7.2.3 (asymmetric security header), 6.7.2.4
 * (symmetric security header), 6.7.2.5 (sequence header), 5.2.2.9 (NodeId
 * binary encoding).  Service NodeIds: the Opc.Ua NodeIds.csv.
 */
#include "dissectors/opcua.h"

#include <ndpi_protocol_ids.h>

#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/rd.h"
#include "lib/tok.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

#define NTOK(t)	(sizeof(t) / sizeof((t)[0]))

static const struct tok svc_names[] = {
	{ 397, "ServiceFault" },
	{ 422, "FindServersRequest" }, { 425, "FindServersResponse" },
	{ 428, "GetEndpointsRequest" }, { 431, "GetEndpointsResponse" },
	{ 437, "RegisterServerRequest" }, { 440, "RegisterServerResponse" },
	{ 446, "OpenSecureChannelRequest" },
	{ 449, "OpenSecureChannelResponse" },
	{ 452, "CloseSecureChannelRequest" },
	{ 455, "CloseSecureChannelResponse" },
	{ 461, "CreateSessionRequest" }, { 464, "CreateSessionResponse" },
	{ 467, "ActivateSessionRequest" }, { 470, "ActivateSessionResponse" },
	{ 473, "CloseSessionRequest" }, { 476, "CloseSessionResponse" },
	{ 479, "CancelRequest" }, { 482, "CancelResponse" },
	{ 488, "AddNodesRequest" }, { 491, "AddNodesResponse" },
	{ 494, "AddReferencesRequest" }, { 497, "AddReferencesResponse" },
	{ 500, "DeleteNodesRequest" }, { 503, "DeleteNodesResponse" },
	{ 506, "DeleteReferencesRequest" },
	{ 509, "DeleteReferencesResponse" },
	{ 527, "BrowseRequest" }, { 530, "BrowseResponse" },
	{ 533, "BrowseNextRequest" }, { 536, "BrowseNextResponse" },
	{ 554, "TranslateBrowsePathsToNodeIdsRequest" },
	{ 557, "TranslateBrowsePathsToNodeIdsResponse" },
	{ 560, "RegisterNodesRequest" }, { 563, "RegisterNodesResponse" },
	{ 566, "UnregisterNodesRequest" }, { 569, "UnregisterNodesResponse" },
	{ 615, "QueryFirstRequest" }, { 618, "QueryFirstResponse" },
	{ 621, "QueryNextRequest" }, { 624, "QueryNextResponse" },
	{ 631, "ReadRequest" }, { 634, "ReadResponse" },
	{ 664, "HistoryReadRequest" }, { 667, "HistoryReadResponse" },
	{ 673, "WriteRequest" }, { 676, "WriteResponse" },
	{ 700, "HistoryUpdateRequest" }, { 703, "HistoryUpdateResponse" },
	{ 712, "CallRequest" }, { 715, "CallResponse" },
	{ 751, "CreateMonitoredItemsRequest" },
	{ 754, "CreateMonitoredItemsResponse" },
	{ 763, "ModifyMonitoredItemsRequest" },
	{ 766, "ModifyMonitoredItemsResponse" },
	{ 769, "SetMonitoringModeRequest" },
	{ 772, "SetMonitoringModeResponse" },
	{ 775, "SetTriggeringRequest" }, { 778, "SetTriggeringResponse" },
	{ 781, "DeleteMonitoredItemsRequest" },
	{ 784, "DeleteMonitoredItemsResponse" },
	{ 787, "CreateSubscriptionRequest" },
	{ 790, "CreateSubscriptionResponse" },
	{ 793, "ModifySubscriptionRequest" },
	{ 796, "ModifySubscriptionResponse" },
	{ 799, "SetPublishingModeRequest" },
	{ 802, "SetPublishingModeResponse" },
	{ 826, "PublishRequest" }, { 829, "PublishResponse" },
	{ 832, "RepublishRequest" }, { 835, "RepublishResponse" },
	{ 841, "TransferSubscriptionsRequest" },
	{ 844, "TransferSubscriptionsResponse" },
	{ 847, "DeleteSubscriptionsRequest" },
	{ 850, "DeleteSubscriptionsResponse" },
	{ 12208, "FindServersOnNetworkRequest" },
	{ 12209, "FindServersOnNetworkResponse" },
	{ 12211, "RegisterServer2Request" },
	{ 12212, "RegisterServer2Response" },
};

/* Message types: the three ASCII letters, their enum, minimum size. */
static const struct {
	char			 name[4];
	enum opcua_msg_type	 type;
	uint32_t		 min_size;
	bool			 chunked;	/* may use 'C'/'A' chunks */
} msg_types[] = {
	{ "HEL", OPCUA_MSG_HEL, 32, false },	/* 5 x UInt32 + URL length */
	{ "ACK", OPCUA_MSG_ACK, 28, false },	/* 5 x UInt32 */
	{ "ERR", OPCUA_MSG_ERR, 16, false },	/* error + reason length */
	{ "RHE", OPCUA_MSG_RHE, 16, false },	/* two String lengths */
	{ "OPN", OPCUA_MSG_OPN, 24, true },	/* channel + 3 lengths */
	{ "MSG", OPCUA_MSG_MSG, 24, true },	/* channel, token, seq, req */
	{ "CLO", OPCUA_MSG_CLO, 24, true },
};

#define NTYPES	(sizeof(msg_types) / sizeof(msg_types[0]))

const char *
opcua_service_name(uint32_t id)
{
	size_t i;

	for (i = 0; i < NTOK(svc_names); i++)
		if (svc_names[i].v == id)
			return svc_names[i].s;
	return "Unknown";
}

const char *
opcua_msg_type_name(enum opcua_msg_type type)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (msg_types[i].type == type)
			return msg_types[i].name;
	return "???";
}

/*
 * Index of the message type whose letters agree with the first
 * min(n, 3) bytes, or -1.  With n < 3 several may agree: the first is
 * returned, which is all frame_len needs to say "could be".
 */
static int
match_type(const uint8_t *p, size_t n)
{
	struct rd r;
	size_t i, k;

	for (i = 0; i < NTYPES; i++) {
		rd_init(&r, p, n);
		for (k = 0; k < 3 && k < n; k++)
			if (rd_u8(&r) != (uint8_t)msg_types[i].name[k])
				break;
		if (k == 3 || k == n)
			return (int)i;
	}
	return -1;
}

static bool
chunk_ok(int t, uint8_t chunk)
{
	if (chunk == 'F')
		return true;
	return msg_types[t].chunked && (chunk == 'C' || chunk == 'A');
}

int
opcua_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint8_t chunk;
	uint32_t size;
	int t;

	if (len == NULL)
		return IDS_EINVAL;
	*len = 0;
	t = match_type(p, n);
	if (t < 0)
		return IDS_EMALFORMED;
	rd_init(&r, p, n);
	rd_skip(&r, 3);
	chunk = rd_u8(&r);
	if (!r.err && !chunk_ok(t, chunk))
		return IDS_EMALFORMED;
	size = rd_le32(&r);
	if (r.err)
		return IDS_EAGAIN;
	if (size < msg_types[t].min_size || size > OPCUA_MSG_SIZE_MAX)
		return IDS_EMALFORMED;
	*len = size;
	return 0;
}

/*
 * String / ByteString: int32 length, -1 for null.  *p is NULL for null or
 * empty.  False when the length is negative (other than -1), above max or
 * past the end.
 */
static bool
read_string(struct rd *r, size_t max, const uint8_t **p, size_t *len)
{
	int32_t l = (int32_t)rd_le32(r);

	*p = NULL;
	*len = 0;
	if (r->err || l < -1)
		return false;
	if (l <= 0)
		return true;
	if ((size_t)l > max || (size_t)l > rd_left(r))
		return false;
	*p = rd_ptr(r);
	*len = (size_t)l;
	return rd_skip(r, (size_t)l);
}

/* Compare a field that points into the message with a C string. */
static bool
field_equals(const uint8_t *f, size_t flen, const char *s)
{
	struct rd r;
	size_t i, slen = strlen(s);

	if (f == NULL || flen != slen)
		return false;
	rd_init(&r, f, flen);
	for (i = 0; i < slen; i++)
		if (rd_u8(&r) != (uint8_t)s[i])
			return false;
	return true;
}

/*
 * The body's type NodeId.  Numeric encodings (two-byte, four-byte,
 * numeric) set service_ns/service_id; string/GUID/opaque ones are skipped.
 */
static bool
read_type_nodeid(struct rd *r, struct opcua_pdu *out)
{
	uint16_t ns;
	uint32_t id;
	bool numeric;

	if (!opcua_read_nodeid(r, &ns, &id, &numeric))
		return false;
	if (numeric) {
		out->service_ns = ns;
		out->service_id = id;
	}
	out->has_service = numeric;
	return true;
}

/* Sequence header, then (unless continuing) the type NodeId. */
static int
read_seq_body(struct rd *r, unsigned flags, struct opcua_pdu *out)
{
	struct rd body;

	out->seq_num = rd_le32(r);
	out->request_id = rd_le32(r);
	if (r->err)
		return IDS_EMALFORMED;
	out->has_seq = true;
	out->body = rd_ptr(r);
	out->body_len = rd_left(r);
	if ((flags & OPCUA_PARSE_CONTINUATION) || rd_left(r) == 0)
		return 0;
	body = *r;
	if (!read_type_nodeid(&body, out)) {
		/* Not decodable: leave the body raw rather than fail. */
		out->has_service = false;
		out->service_ns = 0;
		out->service_id = 0;
		return 0;
	}
	out->body = rd_ptr(&body);
	out->body_len = rd_left(&body);
	return 0;
}

int
opcua_parse(const uint8_t *p, size_t n, unsigned flags, struct opcua_pdu *out)
{
	struct rd r;
	const uint8_t *thumb;
	int rc, t;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof *out);
	rc = opcua_frame_len(p, n, &out->frame_len);
	if (rc == IDS_EAGAIN)
		return IDS_ETRUNC;
	if (rc != 0)
		return rc;
	if (out->frame_len > n)
		return IDS_ETRUNC;
	t = match_type(p, n);
	out->type = msg_types[t].type;

	rd_init(&r, p, out->frame_len);
	rd_skip(&r, 3);
	out->chunk = rd_u8(&r);
	out->size = rd_le32(&r);

	switch (out->type) {
	case OPCUA_MSG_HEL:
	case OPCUA_MSG_ACK:
		out->version = rd_le32(&r);
		out->recv_buf_size = rd_le32(&r);
		out->send_buf_size = rd_le32(&r);
		out->max_msg_size = rd_le32(&r);
		out->max_chunk_count = rd_le32(&r);
		if (out->type == OPCUA_MSG_HEL &&
		    !read_string(&r, OPCUA_URL_MAX, &out->endpoint_url,
		    &out->endpoint_url_len))
			return IDS_EMALFORMED;
		return r.err ? IDS_EMALFORMED : 0;
	case OPCUA_MSG_ERR:
		out->error = rd_le32(&r);
		if (!read_string(&r, rd_left(&r), &out->reason,
		    &out->reason_len))
			return IDS_EMALFORMED;
		return 0;
	case OPCUA_MSG_RHE:
		if (!read_string(&r, OPCUA_URL_MAX, &out->server_uri,
		    &out->server_uri_len) ||
		    !read_string(&r, OPCUA_URL_MAX, &out->endpoint_url,
		    &out->endpoint_url_len))
			return IDS_EMALFORMED;
		return 0;
	case OPCUA_MSG_OPN:
		out->channel_id = rd_le32(&r);
		if (!read_string(&r, rd_left(&r), &out->policy_uri,
		    &out->policy_uri_len) ||
		    !read_string(&r, rd_left(&r), &out->sender_cert,
		    &out->sender_cert_len) ||
		    !read_string(&r, rd_left(&r), &thumb,
		    &out->receiver_thumbprint_len))
			return IDS_EMALFORMED;
		out->policy_none = field_equals(out->policy_uri,
		    out->policy_uri_len, OPCUA_POLICY_PREFIX "None");
		/* Under any other policy the rest is asymmetrically encrypted. */
		if (!out->policy_none)
			return 0;
		return read_seq_body(&r, flags & OPCUA_PARSE_CONTINUATION, out);
	case OPCUA_MSG_MSG:
	case OPCUA_MSG_CLO:
		out->channel_id = rd_le32(&r);
		out->token_id = rd_le32(&r);
		if (r.err)
			return IDS_EMALFORMED;
		if (!(flags & OPCUA_PARSE_PLAINTEXT)) {
			out->body = rd_ptr(&r);
			out->body_len = rd_left(&r);
			return 0;
		}
		return read_seq_body(&r, flags, out);
	default:
		return IDS_EMALFORMED;
	}
}

bool
opcua_probe(const uint8_t *p, size_t n)
{
	struct opcua_pdu m;
	size_t plen;

	if (opcua_parse(p, n, 0, &m) != 0)
		return false;
	switch (m.type) {
	case OPCUA_MSG_HEL:
		/* Protocol version 0 and an opc.tcp:// endpoint (or none). */
		return m.version == 0 && (m.endpoint_url == NULL ||
		    (m.endpoint_url_len >= 10 &&
		    field_equals(m.endpoint_url, 10, "opc.tcp://")));
	case OPCUA_MSG_ACK:
		return m.version == 0 && m.size == 28;
	case OPCUA_MSG_OPN:
		/* The policy URI must be one of OPC Foundation's. */
		plen = strlen(OPCUA_POLICY_PREFIX);
		return m.policy_uri_len >= plen &&
		    field_equals(m.policy_uri, plen, OPCUA_POLICY_PREFIX);
	default:
		/* ERR, RHE, MSG, CLO: header and lengths consistent. */
		return true;
	}
}

/* ---- requests: codes are service request NodeIds ----------------------- */

static unsigned
opcua_code_ops(uint16_t c)
{
	switch (c) {
	case OPCUA_SVC_WRITE_REQ:
	case OPCUA_SVC_ADD_NODES_REQ:
	case OPCUA_SVC_HISTORY_UPDATE_REQ:
		return PROTO_OP_WRITE;
	case OPCUA_SVC_CALL_REQ:	/* runs a method on the server */
		return PROTO_OP_WRITE | PROTO_OP_COMMAND;
	case OPCUA_SVC_DELETE_NODES_REQ:
		return PROTO_OP_WRITE | PROTO_OP_DANGEROUS;
	case OPCUA_SVC_BROWSE_REQ:
	case OPCUA_SVC_BROWSE_NEXT_REQ:
		return PROTO_OP_DISCOVERY;
	}
	return 0;
}

static const char *
opcua_code_name(uint16_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return opcua_service_name(c);
}

static void
opcua_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct opcua_pdu *m = pdu->u.opcua;

	if (m->type == OPCUA_MSG_MSG && m->has_service &&
	    m->service_id <= 0xFFFF)
		proto_req_code(r, (uint16_t)m->service_id);
}

/* ---- descriptor ------------------------------------------------------- */

/*
 * pstate bits: the channel is SecurityPolicy#None; a 'C' chunk pending;
 * an OpenSecureChannel was seen (its policy is then known).
 */
#define UA_PLAIN	0x1u
#define UA_CONT(cli)	((cli) ? 0x2u : 0x4u)
#define UA_OPN		0x8u

/*
 * A capture that starts after the secure channel opened never saw its
 * policy.  A MSG chunk that decodes as plaintext with a known service
 * type is then taken as plaintext (a signed-and-encrypted body does not
 * decode to one of these by chance often enough to matter, and an
 * encrypted channel still shows nothing readable).
 */
static bool
plaintext_guess(const uint8_t *p, size_t n, unsigned flags,
    struct opcua_pdu *m)
{
	if (opcua_parse(p, n, flags | OPCUA_PARSE_PLAINTEXT, m) != 0 ||
	    !m->has_service || m->service_ns != 0)
		return false;
	return strcmp(opcua_service_name(m->service_id), "Unknown") != 0;
}

static void
opcua_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct opcua_pdu m;
	struct det_pdu pdu;
	unsigned flags = 0;
	uint32_t cont = UA_CONT(dc->from_client);

	if (*dc->pstate & UA_PLAIN)
		flags |= OPCUA_PARSE_PLAINTEXT;
	if (*dc->pstate & cont)
		flags |= OPCUA_PARSE_CONTINUATION;
	if (opcua_parse(p, n, flags, &m) != 0) {
		if (!partial)
			dis_emit_malformed(dc, ICS_OPCUA, "malformed OPC UA message");
		return;
	}
	if (m.type == OPCUA_MSG_MSG && !(*dc->pstate & (UA_PLAIN | UA_OPN)) &&
	    !(flags & OPCUA_PARSE_CONTINUATION)) {
		struct opcua_pdu g;

		if (plaintext_guess(p, n, flags, &g)) {
			*dc->pstate |= UA_PLAIN;
			m = g;
		}
	}
	if (m.type == OPCUA_MSG_OPN) {
		*dc->pstate |= UA_OPN;
		if (m.policy_none)
			*dc->pstate |= UA_PLAIN;
		else
			*dc->pstate &= ~UA_PLAIN;
	}
	if (m.type == OPCUA_MSG_MSG) {
		if (m.chunk == 'C')
			*dc->pstate |= cont;
		else
			*dc->pstate &= ~cont;
	}
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = ICS_OPCUA;
	pdu.u.opcua = &m;
	dis_emit_pdu(dc, &pdu);
}

/* OPC UA opens with HEL (or a reverse RHE): strong enough on any port. */
static bool
opcua_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	(void)f;
	if (p->ip_proto != 6 || !(pkt_on_port(p, 4840) || pkt_on_port(p, 4843) ||
	    opcua_probe(p->payload, p->payload_len)) ||
	    !pkt_frames(p, opcua_frame_len))
		return false;
	*srv_port = pkt_on_port(p, 4840) ? 4840 : 0;
	return true;
}

const struct proto_desc opcua_desc = {
	.id = ICS_OPCUA,
	.name = "opcua",
	.transports = PROTO_TCP,
	.ports = { 4840, 4843 },
	.policy_key = "opcua_writers",
	.pick = opcua_pick,
	.probe = opcua_probe,
	.frame_len = opcua_frame_len,
	.bad_header = "bad OPC UA message header",
	.handle = opcua_handle,
	.analyse = opcua_analyse,
	.code_ops = opcua_code_ops,
	.code_name = opcua_code_name,
};
