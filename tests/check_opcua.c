/*
 * check_opcua.c - unit tests for the OPC UA binary parser (dissectors/opcua.c)
 * and the service body decoders (dissectors/opcua_svc.c).
 *
 * HEL and ACK are messages from opcua-open62541-client-server.pcap; the
 * others follow the same captures' layouts, shortened.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"
#include "dissectors/opcua.h"
#include "tests/testutil.h"

#define POLICY_NONE	"http://opcfoundation.org/UA/SecurityPolicy#None"
#define POLICY_B256	"http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"

/* Hello (opcua-open62541-client-server.pcap) */
static const uint8_t hel[] = {
	'H', 'E', 'L', 'F',	/* message type, chunk type */
	0x38, 0x00, 0x00, 0x00,	/* message size 56 */
	0x00, 0x00, 0x00, 0x00,	/* protocol version 0 */
	0xFF, 0xFF, 0x00, 0x00,	/* receive buffer size */
	0xFF, 0xFF, 0x00, 0x00,	/* send buffer size */
	0x00, 0x00, 0x00, 0x00,	/* max message size: no limit */
	0x00, 0x00, 0x00, 0x00,	/* max chunk count: no limit */
	0x18, 0x00, 0x00, 0x00,	/* endpoint URL length 24 */
	'o', 'p', 'c', '.', 't', 'c', 'p', ':', '/', '/', 'l', 'o',
	'c', 'a', 'l', 'h', 'o', 's', 't', ':', '4', '8', '4', '0',
};

/* Acknowledge (opcua-open62541-client-server.pcap) */
static const uint8_t ack[] = {
	'A', 'C', 'K', 'F',	/* message type, chunk type */
	0x1C, 0x00, 0x00, 0x00,	/* message size 28 */
	0x00, 0x00, 0x00, 0x00,	/* protocol version */
	0xFF, 0xFF, 0x00, 0x00,	/* receive buffer size */
	0xFF, 0xFF, 0x00, 0x00,	/* send buffer size */
	0x00, 0x00, 0x00, 0x00,	/* max message size */
	0x00, 0x00, 0x00, 0x00,	/* max chunk count */
};

/* OpenSecureChannel request, policy None */
static const uint8_t opn_none[] = {
	'O', 'P', 'N', 'F',	/* message type, chunk type */
	0x57, 0x00, 0x00, 0x00,	/* message size 87 */
	0x00, 0x00, 0x00, 0x00,	/* secure channel id 0 (new) */
	0x2F, 0x00, 0x00, 0x00,	/* policy URI length 47 */
	'h', 't', 't', 'p', ':', '/', '/', 'o', 'p', 'c', 'f', 'o',
	'u', 'n', 'd', 'a', 't', 'i', 'o', 'n', '.', 'o', 'r', 'g',
	'/', 'U', 'A', '/', 'S', 'e', 'c', 'u', 'r', 'i', 't', 'y',
	'P', 'o', 'l', 'i', 'c', 'y', '#', 'N', 'o', 'n', 'e',
	0xFF, 0xFF, 0xFF, 0xFF,	/* sender certificate: null */
	0xFF, 0xFF, 0xFF, 0xFF,	/* receiver thumbprint: null */
	0x01, 0x00, 0x00, 0x00,	/* sequence number 1 */
	0x01, 0x00, 0x00, 0x00,	/* request id 1 */
	0x01, 0x00, 0xBE, 0x01,	/* NodeId i=446 (four-byte encoding) */
	0x00, 0x00, 0x00, 0x00,	/* body ... */
};

/* OpenSecureChannel request, Basic256Sha256: body encrypted */
static const uint8_t opn_b256[] = {
	'O', 'P', 'N', 'F',	/* message type, chunk type */
	0x5F, 0x00, 0x00, 0x00,	/* message size 95 */
	0x00, 0x00, 0x00, 0x00,	/* secure channel id */
	0x39, 0x00, 0x00, 0x00,	/* policy URI length 57 */
	'h', 't', 't', 'p', ':', '/', '/', 'o', 'p', 'c', 'f', 'o',
	'u', 'n', 'd', 'a', 't', 'i', 'o', 'n', '.', 'o', 'r', 'g',
	'/', 'U', 'A', '/', 'S', 'e', 'c', 'u', 'r', 'i', 't', 'y',
	'P', 'o', 'l', 'i', 'c', 'y', '#', 'B', 'a', 's', 'i', 'c',
	'2', '5', '6', 'S', 'h', 'a', '2', '5', '6',
	0x04, 0x00, 0x00, 0x00,	/* sender certificate, 4 bytes */
	0x30, 0x82, 0x01, 0x0A,	/* (DER start) */
	0x02, 0x00, 0x00, 0x00,	/* receiver thumbprint, 2 bytes */
	0xAB, 0xCD,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* ciphertext */
};

/* MSG ReadRequest */
static const uint8_t msg_read[] = {
	'M', 'S', 'G', 'F',	/* message type, chunk type */
	0x24, 0x00, 0x00, 0x00,	/* message size 36 */
	0x08, 0x00, 0x00, 0x00,	/* secure channel id 8 */
	0x09, 0x00, 0x00, 0x00,	/* token id 9 */
	0x0A, 0x00, 0x00, 0x00,	/* sequence number 10 */
	0x0B, 0x00, 0x00, 0x00,	/* request id 11 */
	0x01, 0x00, 0x77, 0x02,	/* NodeId i=631 ReadRequest */
	0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0x00, 0x00,	/* body */
};

/* MSG WriteRequest, NodeId in the full numeric encoding */
static const uint8_t msg_write[] = {
	'M', 'S', 'G', 'F',	/* message type, chunk type */
	0x1F, 0x00, 0x00, 0x00,	/* message size 31 */
	0x08, 0x00, 0x00, 0x00,	/* secure channel id */
	0x09, 0x00, 0x00, 0x00,	/* token id */
	0x0C, 0x00, 0x00, 0x00,	/* sequence number */
	0x0C, 0x00, 0x00, 0x00,	/* request id */
	0x02,			/* NodeId: numeric */
	0x00, 0x00,		/* namespace 0 */
	0xA1, 0x02, 0x00, 0x00,	/* i=673 WriteRequest */
};

/* CloseSecureChannel */
static const uint8_t clo[] = {
	'C', 'L', 'O', 'F',	/* message type, chunk type */
	0x1C, 0x00, 0x00, 0x00,	/* message size 28 */
	0x03, 0x00, 0x00, 0x00,	/* secure channel id */
	0x03, 0x00, 0x00, 0x00,	/* token id */
	0x05, 0x00, 0x00, 0x00,	/* sequence number */
	0x05, 0x00, 0x00, 0x00,	/* request id */
	0x01, 0x00, 0xC4, 0x01,	/* NodeId i=452 */
};

/* Error */
static const uint8_t err[] = {
	'E', 'R', 'R', 'F',	/* message type, chunk type */
	0x13, 0x00, 0x00, 0x00,	/* message size 19 */
	0x00, 0x00, 0x01, 0x80,	/* error: BadUnexpectedError */
	0x03, 0x00, 0x00, 0x00,	/* reason length 3 */
	'b', 'a', 'd',
};

/* ReverseHello */
static const uint8_t rhe[] = {
	'R', 'H', 'E', 'F',	/* message type, chunk type */
	0x22, 0x00, 0x00, 0x00,	/* message size 34 */
	0x05, 0x00, 0x00, 0x00,	/* server URI length 5 */
	'u', 'r', 'n', ':', 'a',
	0x0D, 0x00, 0x00, 0x00,	/* endpoint URL length 13 */
	'o', 'p', 'c', '.', 't', 'c', 'p', ':', '/', '/', 'h', ':', '1',
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(hel), FIX(ack), FIX(opn_none), FIX(opn_b256), FIX(msg_read),
	FIX(msg_write), FIX(clo), FIX(err), FIX(rhe),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, unsigned flags, struct opcua_pdu *o)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = opcua_parse(c, n, flags, o);

	free(c);
	return rc;
}

START_TEST(test_hello)
{
	struct opcua_pdu o;

	ck_assert_int_eq(opcua_parse(hel, sizeof hel, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_HEL);
	ck_assert_uint_eq(o.chunk, 'F');
	ck_assert_uint_eq(o.size, 56);
	ck_assert_uint_eq(o.frame_len, 56);
	ck_assert_uint_eq(o.version, 0);
	ck_assert_uint_eq(o.recv_buf_size, 0xFFFF);
	ck_assert_uint_eq(o.send_buf_size, 0xFFFF);
	ck_assert_uint_eq(o.max_msg_size, 0);
	ck_assert_uint_eq(o.max_chunk_count, 0);
	ck_assert_uint_eq(o.endpoint_url_len, 24);
	ck_assert_ptr_eq(o.endpoint_url, hel + 32);
	ck_assert_int_eq(memcmp(o.endpoint_url, "opc.tcp://localhost:4840",
	    24), 0);
	ck_assert_str_eq(opcua_msg_type_name(o.type), "HEL");
}
END_TEST

START_TEST(test_ack)
{
	struct opcua_pdu o;

	ck_assert_int_eq(parse_copy(ack, sizeof ack, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_ACK);
	ck_assert_uint_eq(o.recv_buf_size, 0xFFFF);
	ck_assert(o.endpoint_url == NULL);
}
END_TEST

START_TEST(test_open_none)
{
	struct opcua_pdu o;

	ck_assert_int_eq(parse_copy(opn_none, sizeof opn_none, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_OPN);
	ck_assert_uint_eq(o.channel_id, 0);
	ck_assert_uint_eq(o.policy_uri_len, strlen(POLICY_NONE));
	ck_assert(o.policy_none);
	ck_assert(o.sender_cert == NULL);
	ck_assert_uint_eq(o.receiver_thumbprint_len, 0);
	ck_assert(o.has_seq);
	ck_assert_uint_eq(o.seq_num, 1);
	ck_assert_uint_eq(o.request_id, 1);
	ck_assert(o.has_service);
	ck_assert_uint_eq(o.service_ns, 0);
	ck_assert_uint_eq(o.service_id, OPCUA_SVC_OPEN_SECURE_CHANNEL_REQ);
	ck_assert_uint_eq(o.body_len, 4);
}
END_TEST

START_TEST(test_open_encrypted)
{
	struct opcua_pdu o;

	ck_assert_int_eq(opcua_parse(opn_b256, sizeof opn_b256, 0, &o), 0);
	ck_assert(!o.policy_none);
	ck_assert_uint_eq(o.policy_uri_len, strlen(POLICY_B256));
	ck_assert_int_eq(memcmp(o.policy_uri, POLICY_B256,
	    strlen(POLICY_B256)), 0);
	ck_assert_uint_eq(o.sender_cert_len, 4);
	ck_assert_ptr_eq(o.sender_cert, opn_b256 + 77);
	ck_assert_uint_eq(o.receiver_thumbprint_len, 2);
	ck_assert(!o.has_seq && !o.has_service);
}
END_TEST

START_TEST(test_msg_plaintext)
{
	struct opcua_pdu o;

	ck_assert_int_eq(parse_copy(msg_read, sizeof msg_read,
	    OPCUA_PARSE_PLAINTEXT, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_MSG);
	ck_assert_uint_eq(o.channel_id, 8);
	ck_assert_uint_eq(o.token_id, 9);
	ck_assert(o.has_seq);
	ck_assert_uint_eq(o.seq_num, 10);
	ck_assert_uint_eq(o.request_id, 11);
	ck_assert(o.has_service);
	ck_assert_uint_eq(o.service_id, OPCUA_SVC_READ_REQ);
	ck_assert_uint_eq(o.body_len, 8);
	ck_assert_str_eq(opcua_service_name(o.service_id), "ReadRequest");

	ck_assert_int_eq(parse_copy(msg_write, sizeof msg_write,
	    OPCUA_PARSE_PLAINTEXT, &o), 0);
	ck_assert(o.has_service);
	ck_assert_uint_eq(o.service_id, OPCUA_SVC_WRITE_REQ);
	ck_assert_uint_eq(o.body_len, 0);
}
END_TEST

START_TEST(test_msg_encrypted)
{
	struct opcua_pdu o;

	/* Without PLAINTEXT only the symmetric header is read. */
	ck_assert_int_eq(parse_copy(msg_read, sizeof msg_read, 0, &o), 0);
	ck_assert_uint_eq(o.channel_id, 8);
	ck_assert_uint_eq(o.token_id, 9);
	ck_assert(!o.has_seq && !o.has_service);
	ck_assert_uint_eq(o.body_len, 20);
}
END_TEST

START_TEST(test_msg_continuation)
{
	struct opcua_pdu o;

	ck_assert_int_eq(parse_copy(msg_read, sizeof msg_read,
	    OPCUA_PARSE_PLAINTEXT | OPCUA_PARSE_CONTINUATION, &o), 0);
	ck_assert(o.has_seq && !o.has_service);
	ck_assert_uint_eq(o.body_len, 12);
}
END_TEST

START_TEST(test_close_error_rhe)
{
	struct opcua_pdu o;

	ck_assert_int_eq(parse_copy(clo, sizeof clo, OPCUA_PARSE_PLAINTEXT,
	    &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_CLO);
	ck_assert_uint_eq(o.service_id, OPCUA_SVC_CLOSE_SECURE_CHANNEL_REQ);

	ck_assert_int_eq(parse_copy(err, sizeof err, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_ERR);
	ck_assert_uint_eq(o.error, 0x80010000);
	ck_assert_uint_eq(o.reason_len, 3);

	ck_assert_int_eq(parse_copy(rhe, sizeof rhe, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_RHE);
	ck_assert_uint_eq(o.server_uri_len, 5);
	ck_assert_uint_eq(o.endpoint_url_len, 13);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct opcua_pdu o;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = opcua_parse(c, k, OPCUA_PARSE_PLAINTEXT, &o);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = opcua_frame_len(c, k, &flen);
	if (k < 8)
		ck_assert_int_eq(rc, IDS_EAGAIN);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(flen, fixtures[i].len);
	}
	ck_assert(!opcua_probe(c, k));
	free(c);
}
END_TEST

START_TEST(test_probe)
{
	uint8_t b[sizeof hel];

	ck_assert(opcua_probe(hel, sizeof hel));
	ck_assert(opcua_probe(ack, sizeof ack));
	ck_assert(opcua_probe(opn_none, sizeof opn_none));
	ck_assert(opcua_probe(opn_b256, sizeof opn_b256));
	ck_assert(opcua_probe(msg_read, sizeof msg_read));
	memcpy(b, hel, sizeof b);
	b[8] = 0x01;				/* protocol version 1 */
	ck_assert(!opcua_probe(b, sizeof b));
	memcpy(b, hel, sizeof b);
	b[32] = 'h';				/* endpoint not opc.tcp:// */
	ck_assert(!opcua_probe(b, sizeof b));
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof hel];
	struct opcua_pdu o;
	size_t len;

	memcpy(b, hel, sizeof b);
	b[0] = 'X';				/* unknown message type */
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	ck_assert_int_eq(opcua_frame_len(b, 1, &len), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[2] = 'X';				/* "HEX" */
	ck_assert_int_eq(opcua_frame_len(b, 3, &len), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[3] = 'C';				/* HEL is never chunked */
	ck_assert_int_eq(opcua_frame_len(b, 4, &len), IDS_EMALFORMED);
	b[3] = 'Z';
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[4] = 0x1F;				/* size 31 < HEL minimum */
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[7] = 0x10;				/* size beyond the cap */
	ck_assert_int_eq(opcua_frame_len(b, 8, &len), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[28] = 0x19;				/* URL one byte too long */
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	memcpy(b, hel, sizeof b);
	b[28] = 0xFE;				/* URL length -2 */
	b[29] = b[30] = b[31] = 0xFF;
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	ck_assert_int_eq(opcua_frame_len(b, 8, NULL), IDS_EINVAL);
	ck_assert_int_eq(opcua_parse(b, sizeof b, 0, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_bad_policy_length)
{
	uint8_t b[sizeof opn_none];
	struct opcua_pdu o;

	memcpy(b, opn_none, sizeof b);
	b[12] = 0x70;				/* policy URI past the message */
	ck_assert_int_eq(parse_copy(b, sizeof b, 0, &o), IDS_EMALFORMED);
	ck_assert(!opcua_probe(b, sizeof b));
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof hel + sizeof ack];
	struct opcua_pdu o;
	size_t len;

	ck_assert_int_eq(opcua_frame_len(hel, sizeof hel, &len), 0);
	ck_assert_uint_eq(len, sizeof hel);
	ck_assert_int_eq(opcua_frame_len(hel, 7, &len), IDS_EAGAIN);
	ck_assert_int_eq(opcua_frame_len(hel, 8, &len), 0);
	ck_assert_uint_eq(len, sizeof hel);
	memcpy(two, hel, sizeof hel);
	memcpy(two + sizeof hel, ack, sizeof ack);
	ck_assert_int_eq(opcua_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof hel);
	ck_assert_int_eq(opcua_parse(two, sizeof two, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_HEL);
	ck_assert_int_eq(opcua_parse(two + len, sizeof two - len, 0, &o), 0);
	ck_assert_int_eq(o.type, OPCUA_MSG_ACK);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(opcua_service_name(631), "ReadRequest");
	ck_assert_str_eq(opcua_service_name(673), "WriteRequest");
	ck_assert_str_eq(opcua_service_name(527), "BrowseRequest");
	ck_assert_str_eq(opcua_service_name(461), "CreateSessionRequest");
	ck_assert_str_eq(opcua_service_name(467), "ActivateSessionRequest");
	ck_assert_str_eq(opcua_service_name(712), "CallRequest");
	ck_assert_str_eq(opcua_service_name(1), "Unknown");
	ck_assert_str_eq(opcua_msg_type_name(OPCUA_MSG_CLO), "CLO");
	ck_assert_str_eq(opcua_msg_type_name(OPCUA_MSG_NONE), "???");
}
END_TEST

/* ---- opcua_svc.c: service bodies ------------------------------------ */

/* RequestHeader: token i=0, timestamp, handle 5, diagnostics, null audit
 * id, timeout hint, null additional header */
#define REQ_HDR \
	0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0x05, 0, 0, 0, 0, 0, 0, 0, \
	0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x27, 0, 0, 0x00, 0x00, 0x00

/* ReadRequest: ns=2;s="T" Value, then ns=0;i=2264 (SoftwareVersion, a
 * four-byte NodeId) Value with an index range and an encoding name, then
 * i=2262 DisplayName (attribute 4) */
static const uint8_t read_body[] = {
	REQ_HDR,
	0, 0, 0, 0, 0, 0, 0, 0,	/* maxAge */
	0x02, 0, 0, 0,		/* timestampsToReturn */
	0x03, 0, 0, 0,		/* 3 nodes */
	0x03, 0x02, 0x00, 0x01, 0, 0, 0, 'T', 13, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
	0x01, 0x00, 0xD8, 0x08, 13, 0, 0, 0,
	0x01, 0, 0, 0, '0', 0x00, 0x00, 0x02, 0, 0, 0, 'x', 'y',
	0x01, 0x00, 0xD6, 0x08, 4, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
};

/* ReadRequest: the Value of ServerStatus (i=2256, a four-byte NodeId) */
static const uint8_t read_status[] = {
	REQ_HDR,
	0, 0, 0, 0, 0, 0, 0, 0,	/* maxAge */
	0x00, 0, 0, 0,		/* timestampsToReturn */
	0x01, 0, 0, 0,		/* 1 node */
	0x01, 0x00, 0xD0, 0x08, 13, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
};

/* WriteRequest: ns=2;i=7 Value = Double / Boolean; DisplayName */
static const uint8_t write_double[] = {
	REQ_HDR, 0x01, 0, 0, 0, 0x02, 0x02, 0x00, 0x07, 0, 0, 0, 13, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x0B, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,
};
static const uint8_t write_bool[] = {
	REQ_HDR, 0x01, 0, 0, 0, 0x02, 0x02, 0x00, 0x07, 0, 0, 0, 13, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x01, 0x01,
};
static const uint8_t write_attr[] = {
	REQ_HDR, 0x01, 0, 0, 0, 0x02, 0x02, 0x00, 0x07, 0, 0, 0, 4, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x15, 0x00, 0x00,
};

/* ResponseHeader: timestamp, handle, serviceResult Bad_UserAccessDenied */
static const uint8_t fault_body[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 0x05, 0, 0, 0, 0x00, 0x00, 0x1F, 0x80,
	0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
};

static struct opcua_pdu
svc(uint32_t id, const uint8_t *body, size_t len)
{
	struct opcua_pdu m;

	memset(&m, 0, sizeof(m));
	m.type = OPCUA_MSG_MSG;
	m.has_service = true;
	m.service_id = id;
	m.body = body;
	m.body_len = len;
	return m;
}

START_TEST(test_read_identity)
{
	struct opcua_pdu m = svc(OPCUA_SVC_READ_REQ, read_body, sizeof read_body);
	uint8_t st[sizeof read_status];
	size_t i;

	/* the Value of SoftwareVersion counts; a tag and a DisplayName not */
	ck_assert_int_eq(opcua_read_identity(&m), 1);
	ck_assert(opcua_id_is_build_info(0, 2260));
	ck_assert(opcua_id_is_build_info(0, 2266));
	ck_assert(!opcua_id_is_build_info(0, 2259));	/* State: keep-alive */
	ck_assert(!opcua_id_is_build_info(0, 2255));	/* NamespaceArray */
	ck_assert(!opcua_id_is_build_info(2, 2264));
	/* another service, or any cut of the body: no more than the whole */
	m.service_id = OPCUA_SVC_WRITE_REQ;
	ck_assert_int_eq(opcua_read_identity(&m), 0);
	m.service_id = OPCUA_SVC_READ_REQ;
	for (i = 0; i < sizeof read_body; i++) {
		m.body_len = i;
		ck_assert_int_le(opcua_read_identity(&m), 1);
	}
	m.body_len = 70;	/* up to the first node only */
	ck_assert_int_eq(opcua_read_identity(&m), 0);
	/* the whole ServerStatus; its State (2259) is a keep-alive */
	m = svc(OPCUA_SVC_READ_REQ, read_status, sizeof read_status);
	ck_assert_int_eq(opcua_read_identity(&m), 1);
	memcpy(st, read_status, sizeof st);
	st[47] = 0xD3;			/* i=2259 */
	m = svc(OPCUA_SVC_READ_REQ, st, sizeof st);
	ck_assert_int_eq(opcua_read_identity(&m), 0);
	ck_assert_int_eq(opcua_read_identity(NULL), 0);
}
END_TEST

START_TEST(test_write_kind)
{
	struct opcua_pdu m = svc(OPCUA_SVC_WRITE_REQ, write_double,
	    sizeof write_double);

	ck_assert_int_eq(opcua_write_kind(&m), OPCUA_WRITE_NUMBER);
	m = svc(OPCUA_SVC_WRITE_REQ, write_bool, sizeof write_bool);
	ck_assert_int_eq(opcua_write_kind(&m), OPCUA_WRITE_OTHER);
	m = svc(OPCUA_SVC_WRITE_REQ, write_attr, sizeof write_attr);
	ck_assert_int_eq(opcua_write_kind(&m), OPCUA_WRITE_ATTRIBUTE);
	m.body_len = 30;	/* cut in the array length */
	ck_assert_int_eq(opcua_write_kind(&m), OPCUA_WRITE_UNKNOWN);
	m = svc(OPCUA_SVC_CALL_REQ, write_double, sizeof write_double);
	ck_assert_int_eq(opcua_write_kind(&m), OPCUA_WRITE_UNKNOWN);
}
END_TEST

START_TEST(test_response_status)
{
	struct opcua_pdu m = svc(OPCUA_SVC_SERVICE_FAULT, fault_body,
	    sizeof fault_body);

	ck_assert_uint_eq(opcua_response_status(&m), OPCUA_BAD_USER_ACCESS_DENIED);
	m.body_len = 15;
	ck_assert_uint_eq(opcua_response_status(&m), 0);
	m.has_service = false;
	m.body_len = sizeof fault_body;
	ck_assert_uint_eq(opcua_response_status(&m), 0);
}
END_TEST

static Suite *
opcua_suite(void)
{
	Suite *s = suite_create("opcua_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_open_none);
	tcase_add_test(tc, test_open_encrypted);
	tcase_add_test(tc, test_msg_plaintext);
	tcase_add_test(tc, test_msg_encrypted);
	tcase_add_test(tc, test_msg_continuation);
	tcase_add_test(tc, test_close_error_rhe);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_policy_length);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_read_identity);
	tcase_add_test(tc, test_write_kind);
	tcase_add_test(tc, test_response_status);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(opcua_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
