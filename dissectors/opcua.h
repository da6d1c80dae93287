/*
 * opcua.h - OPC UA binary (UA TCP / UA Secure Conversation) parser.
 *
 * Spec: IEC 62541-6 (OPC 10000-6) 7.1.2 (message header, HEL/ACK/ERR/RHE),
 * 6.7.2 (OPN/MSG/CLO security headers, sequence header), 5.2.2 (built-in
 * type encodings: String, ByteString, NodeId).  Usually TCP port 4840.
 *
 * Message header (little endian):
 *
 *   +---+---+---+-------+---------------------------------+
 *   | message type  | chunk |        message size          |
 *   | "HEL" "ACK" "ERR" "RHE" "OPN" "MSG" "CLO" | F/C/A | (incl. header)
 *   +---+---+---+-------+---------------------------------+
 *
 *   HEL: version | recv buf | send buf | max msg | max chunks | endpoint URL
 *   ACK: version | recv buf | send buf | max msg | max chunks
 *   ERR: error (StatusCode) | reason (String)
 *   OPN: secure channel id | security policy URI (String) | sender
 *        certificate (ByteString) | receiver thumbprint (ByteString) |
 *        sequence number | request id | body (encrypted unless #None)
 *   MSG, CLO: secure channel id | token id | sequence number | request id |
 *        body (encrypted under SignAndEncrypt)
 *   body: type NodeId (e.g. i=631 ReadRequest) | service fields ...
 *
 *   String/ByteString: int32 length (-1 = null) | bytes
 *   NodeId: encoding byte | 0: id(1) 1: ns(1) id(2) 2: ns(2) id(4) ...
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_OPCUA_H
#define ICSENTRY_DISSECTORS_OPCUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPCUA_HDR_LEN		8
/* Largest chunk accepted: the spec lets peers negotiate up to 2^32-1, in
 * practice buffers are 8 KiB-2 MiB; beyond this it is not a sane stream. */
#define OPCUA_MSG_SIZE_MAX	(16u << 20)
#define OPCUA_URL_MAX		4096	/* EndpointUrl limit of HEL (7.1.2.3) */

#define OPCUA_POLICY_PREFIX	"http://opcfoundation.org/UA/SecurityPolicy#"

enum opcua_msg_type {
	OPCUA_MSG_NONE = 0,
	OPCUA_MSG_HEL,		/* Hello */
	OPCUA_MSG_ACK,		/* Acknowledge */
	OPCUA_MSG_ERR,		/* Error */
	OPCUA_MSG_RHE,		/* ReverseHello */
	OPCUA_MSG_OPN,		/* OpenSecureChannel */
	OPCUA_MSG_MSG,		/* service message */
	OPCUA_MSG_CLO		/* CloseSecureChannel */
};

/* opcua_parse() flags */
#define OPCUA_PARSE_PLAINTEXT	0x1	/* MSG/CLO bodies are readable: the
					   channel's policy is #None */
#define OPCUA_PARSE_CONTINUATION 0x2	/* a 'C' chunk of this message came
					   before: no type NodeId here */

/* Service type NodeIds (DefaultBinary encodings, namespace 0) */
enum opcua_service {
	OPCUA_SVC_SERVICE_FAULT = 397,
	OPCUA_SVC_FIND_SERVERS_REQ = 422,
	OPCUA_SVC_GET_ENDPOINTS_REQ = 428,
	OPCUA_SVC_OPEN_SECURE_CHANNEL_REQ = 446,
	OPCUA_SVC_OPEN_SECURE_CHANNEL_RESP = 449,
	OPCUA_SVC_CLOSE_SECURE_CHANNEL_REQ = 452,
	OPCUA_SVC_CREATE_SESSION_REQ = 461,
	OPCUA_SVC_ACTIVATE_SESSION_REQ = 467,
	OPCUA_SVC_ACTIVATE_SESSION_RESP = 470,
	OPCUA_SVC_CLOSE_SESSION_REQ = 473,
	OPCUA_SVC_ADD_NODES_REQ = 488,
	OPCUA_SVC_ADD_REFERENCES_REQ = 494,
	OPCUA_SVC_DELETE_NODES_REQ = 500,
	OPCUA_SVC_DELETE_REFERENCES_REQ = 506,
	OPCUA_SVC_BROWSE_REQ = 527,
	OPCUA_SVC_BROWSE_NEXT_REQ = 533,
	OPCUA_SVC_TRANSLATE_BROWSE_PATHS_REQ = 554,
	OPCUA_SVC_READ_REQ = 631,
	OPCUA_SVC_READ_RESP = 634,
	OPCUA_SVC_HISTORY_READ_REQ = 664,
	OPCUA_SVC_WRITE_REQ = 673,
	OPCUA_SVC_WRITE_RESP = 676,
	OPCUA_SVC_HISTORY_UPDATE_REQ = 700,
	OPCUA_SVC_CALL_REQ = 712,
	OPCUA_SVC_CREATE_MONITORED_ITEMS_REQ = 751,
	OPCUA_SVC_CREATE_SUBSCRIPTION_REQ = 787,
	OPCUA_SVC_PUBLISH_REQ = 826
};

struct opcua_pdu {
	/* Message header */
	enum opcua_msg_type type;
	uint8_t		 chunk;		/* 'F' final, 'C' intermediate, 'A' abort */
	uint32_t	 size;		/* message size incl. header */
	size_t		 frame_len;	/* == size */

	/* HEL / ACK */
	uint32_t	 version;
	uint32_t	 recv_buf_size;
	uint32_t	 send_buf_size;
	uint32_t	 max_msg_size;
	uint32_t	 max_chunk_count;
	/* HEL, RHE: endpoint URL; RHE: server URI */
	const uint8_t	*endpoint_url;	/* NULL when null or empty */
	size_t		 endpoint_url_len;
	const uint8_t	*server_uri;
	size_t		 server_uri_len;

	/* ERR */
	uint32_t	 error;		/* StatusCode */
	const uint8_t	*reason;
	size_t		 reason_len;

	/* OPN / MSG / CLO */
	uint32_t	 channel_id;
	/* OPN: asymmetric security header */
	const uint8_t	*policy_uri;
	size_t		 policy_uri_len;
	bool		 policy_none;	/* ...SecurityPolicy#None: unencrypted */
	const uint8_t	*sender_cert;	/* NULL when null */
	size_t		 sender_cert_len;
	size_t		 receiver_thumbprint_len;
	/* MSG / CLO: symmetric security header */
	uint32_t	 token_id;

	/* Sequence header: OPN with #None, MSG/CLO with PLAINTEXT */
	bool		 has_seq;
	uint32_t	 seq_num;
	uint32_t	 request_id;

	/* Body type NodeId (numeric encodings only) */
	bool		 has_service;
	uint16_t	 service_ns;
	uint32_t	 service_id;	/* e.g. 631 ReadRequest */
	const uint8_t	*body;		/* bytes after the sequence header
					   (and the NodeId when decoded) */
	size_t		 body_len;
};

/*
 * Frame the next message at the head of a stream.  Returns 0 and sets *len
 * to the message size (may exceed n), IDS_EAGAIN when n < 8 and the bytes
 * present could start a message, IDS_EMALFORMED for an unknown message
 * type or chunk type or a size below the type's minimum or above
 * OPCUA_MSG_SIZE_MAX, IDS_EINVAL on NULL len.
 */
int opcua_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * True when p holds a whole OPC UA message (HEL/ACK/ERR/RHE/OPN/MSG/CLO)
 * whose header and inner lengths are consistent.
 */
bool opcua_probe(const uint8_t *p, size_t n);

/*
 * Parse one message.  flags: OPCUA_PARSE_* (the caller tracks from each
 * channel's OPN whether its policy is #None, and whether a 'C' chunk is
 * pending).  Returns 0, IDS_ETRUNC when n is shorter than the message
 * size, IDS_EMALFORMED on a bad header or a string/field overrunning the
 * message, IDS_EINVAL on NULL out.  out is zeroed first.
 */
int opcua_parse(const uint8_t *p, size_t n, unsigned flags,
    struct opcua_pdu *out);

/* ---- opcua_svc.c: what a plaintext service body does --------------- */

#define OPCUA_ATTR_VALUE	13	/* AttributeId Value */
#define OPCUA_NODE_SERVER_STATUS 2256	/* Server_ServerStatus */
#define OPCUA_NODE_BUILD_INFO	2260	/* Server_ServerStatus_BuildInfo */
#define OPCUA_NODE_BUILD_DATE	2266	/* ..._BuildInfo_BuildDate */

/* Bad_UserAccessDenied, Bad_IdentityTokenInvalid / Rejected */
#define OPCUA_BAD_USER_ACCESS_DENIED	0x801F0000u
#define OPCUA_BAD_IDENTITY_TOKEN_INVALID 0x80200000u
#define OPCUA_BAD_IDENTITY_TOKEN_REJECTED 0x80210000u

/* ns=0;i=2260..2266: the server's BuildInfo (vendor, product, version). */
bool opcua_id_is_build_info(uint16_t ns, uint32_t id);

/*
 * ReadRequest: how many of its NodesToRead ask for the Value of a
 * BuildInfo node or of the whole ServerStatus (which holds BuildInfo; its
 * State 2259 and CurrentTime 2258, read as keep-alives, do not count): 0
 * for another service or a body that does not decode.
 */
int opcua_read_identity(const struct opcua_pdu *m);

enum opcua_write_kind {
	OPCUA_WRITE_UNKNOWN = 0,	/* not a WriteRequest, or undecodable */
	OPCUA_WRITE_NUMBER,		/* Value of a numeric type (2-11) */
	OPCUA_WRITE_OTHER,		/* Value of another type (Boolean ...) */
	OPCUA_WRITE_ATTRIBUTE		/* an attribute other than Value */
};

/* WriteRequest: what its first WriteValue writes. */
enum opcua_write_kind opcua_write_kind(const struct opcua_pdu *m);

/* A response (or ServiceFault): its ResponseHeader serviceResult, 0 when
 * Good or undecodable. */
uint32_t opcua_response_status(const struct opcua_pdu *m);

/*
 * A NodeId or ExpandedNodeId (OPC 10000-6 5.2.2.9/10) at r: its namespace,
 * and its numeric id with *numeric true (string, GUID and opaque ids are
 * skipped, *numeric false).  False when it does not decode.
 */
struct rd;
bool opcua_read_nodeid(struct rd *r, uint16_t *ns, uint32_t *id, bool *numeric);

/* Static name of a service type NodeId (e.g. 631 "ReadRequest"); never NULL. */
const char *opcua_service_name(uint32_t id);

/* Static three-letter name of a message type ("HEL", ...); never NULL. */
const char *opcua_msg_type_name(enum opcua_msg_type type);

#endif
