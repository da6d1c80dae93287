/*
 * check_enip.c - unit tests for the EtherNet/IP + CIP parser (dissectors/enip.c).
 *
 * The Unconnected Send and Set_Attribute_Single fixtures are messages from
 * enip-cip-controllogix-plant.pcap and enip-cip-set-attribute-single.pcapng;
 * the others follow tools/ics_traffic_gen.py's enip()/cip_request().
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/enip.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* RegisterSession request */
static const uint8_t register_req[] = {
	0x65, 0x00,		/* command: RegisterSession */
	0x04, 0x00,		/* length 4 */
	0x00, 0x00, 0x00, 0x00,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	'c', 't', 'x', '1', 0, 0, 0, 0,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x01, 0x00,		/* protocol version 1 */
	0x00, 0x00,		/* option flags */
};

/* ListIdentity request (UDP broadcast) */
static const uint8_t list_identity_req[] = {
	0x63, 0x00,		/* command: ListIdentity */
	0x00, 0x00,		/* length 0 */
	0x00, 0x00, 0x00, 0x00,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	1, 2, 3, 4, 5, 6, 7, 8,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
};

/* ListIdentity response with one CIP identity item */
static const uint8_t list_identity_resp[] = {
	0x63, 0x00,		/* command: ListIdentity */
	0x33, 0x00,		/* length 51 */
	0x00, 0x00, 0x00, 0x00,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	1, 2, 3, 4, 5, 6, 7, 8,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x01, 0x00,		/* item count */
	0x0C, 0x00,		/* item type: CIP identity */
	0x2D, 0x00,		/* item length 45 */
	0x01, 0x00,		/* encapsulation protocol version */
	0x00, 0x02,		/* sin_family (big endian) */
	0xAF, 0x12,		/* sin_port 44818 */
	0xC0, 0xA8, 0x0A, 0x0A,	/* sin_addr 192.168.10.10 */
	0, 0, 0, 0, 0, 0, 0, 0,	/* sin_zero */
	0x01, 0x00,		/* vendor id 1 (Rockwell) */
	0x0E, 0x00,		/* device type 14 (PLC) */
	0x37, 0x00,		/* product code 55 */
	0x20,			/* revision major 32 */
	0x0B,			/* revision minor 11 */
	0x60, 0x00,		/* status */
	0x78, 0x56, 0x34, 0x12,	/* serial number */
	0x0B,			/* product name length 11 */
	'1', '7', '5', '6', '-', 'L', '8', '3', 'E', '/', 'B',
	0x03,			/* state */
};

/* SendRRData: Get_Attribute_Single, Assembly 100 attribute 3 */
static const uint8_t get_attr_req[] = {
	0x6F, 0x00,		/* command: SendRRData */
	0x18, 0x00,		/* length 24 */
	0x01, 0x00, 0x02, 0x00,	/* session handle 0x00020001 */
	0x00, 0x00, 0x00, 0x00,	/* status */
	0, 0, 0, 0, 0, 0, 0, 9,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x00, 0x00, 0x00, 0x00,	/* interface handle */
	0x0A, 0x00,		/* timeout 10 */
	0x02, 0x00,		/* item count */
	0x00, 0x00, 0x00, 0x00,	/* null address item */
	0xB2, 0x00, 0x08, 0x00,	/* unconnected data item, 8 bytes */
	0x0E,			/* service: Get_Attribute_Single */
	0x03,			/* path size: 3 words */
	0x20, 0x04,		/* class 4 (assembly) */
	0x24, 0x64,		/* instance 100 */
	0x30, 0x03,		/* attribute 3 */
};

/* SendRRData reply: Get_Attribute_Single failed, one extended status word */
static const uint8_t get_attr_err[] = {
	0x6F, 0x00,		/* command: SendRRData */
	0x18, 0x00,		/* length 24 */
	0x01, 0x00, 0x02, 0x00,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	0, 0, 0, 0, 0, 0, 0, 9,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x00, 0x00, 0x00, 0x00,	/* interface handle */
	0x00, 0x00,		/* timeout */
	0x02, 0x00,		/* item count */
	0x00, 0x00, 0x00, 0x00,	/* null address item */
	0xB2, 0x00, 0x08, 0x00,	/* unconnected data item, 8 bytes */
	0x8E,			/* service: Get_Attribute_Single reply */
	0x00,			/* reserved */
	0x05,			/* general status: path destination unknown */
	0x01,			/* additional status: 1 word */
	0x34, 0x12,		/* additional status */
	0xAA, 0xBB,		/* data */
};

/* Unconnected Send carrying Get_Attributes_All (enip-cip-controllogix-plant.pcap) */
static const uint8_t ucs_req[] = {
	0x6F, 0x00,		/* command: SendRRData */
	0x26, 0x00,		/* length 38 */
	0x00, 0x05, 0x02, 0x13,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	0x6A, 0xC0, 0xBE, 0, 0, 0, 0, 0,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x00, 0x00, 0x00, 0x00,	/* interface handle */
	0x14, 0x00,		/* timeout 20 */
	0x02, 0x00,		/* item count */
	0x00, 0x00, 0x00, 0x00,	/* null address item */
	0xB2, 0x00, 0x16, 0x00,	/* unconnected data item, 22 bytes */
	0x52,			/* service: Unconnected Send */
	0x02,			/* path size 2 words */
	0x20, 0x06,		/* class 6 (connection manager) */
	0x24, 0x01,		/* instance 1 */
	0x07,			/* priority / time tick */
	0xE9,			/* time-out ticks */
	0x08, 0x00,		/* embedded message size 8 */
	0x01,			/* embedded service: Get_Attributes_All */
	0x02,			/* path size 2 words */
	0x20, 0xAC,		/* class 0xAC */
	0x24, 0x01,		/* instance 1 */
	0x01, 0x00,		/* embedded data */
	0x01,			/* route path size 1 word */
	0x00,			/* reserved */
	0x01, 0x00,		/* port 1, link address 0 */
};

/* SendUnitData: Multiple Service Packet with Read Tag and Write Tag */
static const uint8_t msp_req[] = {
	0x70, 0x00,		/* command: SendUnitData */
	0x3C, 0x00,		/* length 60 */
	0x01, 0x00, 0x02, 0x00,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	0, 0, 0, 0, 0, 0, 0, 0,	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x00, 0x00, 0x00, 0x00,	/* interface handle */
	0x00, 0x00,		/* timeout */
	0x02, 0x00,		/* item count */
	0xA1, 0x00, 0x04, 0x00,	/* connected address item */
	0x44, 0x33, 0x22, 0x11,	/* connection id */
	0xB1, 0x00, 0x28, 0x00,	/* connected data item, 40 bytes */
	0x07, 0x00,		/* sequence count 7 */
	0x0A,			/* service: Multiple Service Packet */
	0x02,			/* path size 2 words */
	0x20, 0x02,		/* class 2 (message router) */
	0x24, 0x01,		/* instance 1 */
	0x02, 0x00,		/* number of services */
	0x06, 0x00,		/* offset of service 1 */
	0x10, 0x00,		/* offset of service 2 */
	0x4C,			/* service 1: Read Tag */
	0x03,			/* path size 3 words */
	0x91, 0x04, 'T', 'a', 'g', '1',	/* symbolic segment "Tag1" */
	0x01, 0x00,		/* elements */
	0x4D,			/* service 2: Write Tag */
	0x03,			/* path size 3 words */
	0x91, 0x03, 'S', 'P', '1', 0x00,	/* "SP1" + pad */
	0xC4, 0x00,		/* type DINT */
	0x01, 0x00,		/* elements */
	0x2A, 0x00, 0x00, 0x00,	/* value 42 */
};

/* Set_Attribute_Single over SendUnitData (enip-cip-set-attribute-single.pcapng) */
static const uint8_t set_attr[] = {
	0x70, 0x00,		/* command: SendUnitData */
	0x1C, 0x00,		/* length 28 */
	0xF4, 0xFF, 0xCA, 0xB4,	/* session handle */
	0x00, 0x00, 0x00, 0x00,	/* status */
	'_', 'p', 'y', 'c', 'o', 'm', 'm', '_',	/* sender context */
	0x00, 0x00, 0x00, 0x00,	/* options */
	0x00, 0x00, 0x00, 0x00,	/* interface handle */
	0x0A, 0x00,		/* timeout */
	0x02, 0x00,		/* item count */
	0xA1, 0x00, 0x04, 0x00,	/* connected address item */
	0xBA, 0x62, 0x9A, 0xDA,	/* connection id */
	0xB1, 0x00, 0x08, 0x00,	/* connected data item, 8 bytes */
	0x0D, 0x00,		/* sequence count 13 */
	0x10,			/* service: Set_Attribute_Single */
	0x02,			/* path size 2 words */
	0x20, 0x01,		/* class 1 (identity) */
	0x24, 0x00,		/* instance 0 */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(register_req), FIX(list_identity_req), FIX(list_identity_resp),
	FIX(get_attr_req), FIX(get_attr_err), FIX(ucs_req), FIX(msp_req),
	FIX(set_attr),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, struct enip_pdu *e)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = enip_parse(c, n, e);

	free(c);
	return rc;
}

START_TEST(test_register)
{
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(register_req, sizeof register_req, &e), 0);
	ck_assert_uint_eq(e.command, ENIP_CMD_REGISTER_SESSION);
	ck_assert_uint_eq(e.length, 4);
	ck_assert_uint_eq(e.session, 0);
	ck_assert_uint_eq(e.status, 0);
	ck_assert_int_eq(memcmp(e.context, "ctx1", 4), 0);
	ck_assert_uint_eq(e.options, 0);
	ck_assert_uint_eq(e.frame_len, 28);
	ck_assert(e.has_register);
	ck_assert_uint_eq(e.protocol_version, 1);
	ck_assert(!e.has_cpf && !e.has_cip);
	ck_assert_str_eq(enip_cmd_name(e.command), "RegisterSession");
}
END_TEST

START_TEST(test_list_identity)
{
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(list_identity_req,
	    sizeof list_identity_req, &e), 0);
	ck_assert_uint_eq(e.command, ENIP_CMD_LIST_IDENTITY);
	ck_assert(!e.has_identity);

	ck_assert_int_eq(enip_parse(list_identity_resp,
	    sizeof list_identity_resp, &e), 0);
	ck_assert(e.has_identity);
	ck_assert_uint_eq(e.identity.encap_version, 1);
	ck_assert_uint_eq(e.identity.sin_port, 44818);
	ck_assert_uint_eq(e.identity.sin_addr, 0xC0A80A0A);
	ck_assert_uint_eq(e.identity.vendor_id, 1);
	ck_assert_uint_eq(e.identity.device_type, 14);
	ck_assert_uint_eq(e.identity.product_code, 55);
	ck_assert_uint_eq(e.identity.rev_major, 32);
	ck_assert_uint_eq(e.identity.rev_minor, 11);
	ck_assert_uint_eq(e.identity.status, 0x0060);
	ck_assert_uint_eq(e.identity.serial, 0x12345678);
	ck_assert_uint_eq(e.identity.product_name_len, 11);
	ck_assert_int_eq(memcmp(e.identity.product_name, "1756-L83E/B", 11),
	    0);
	ck_assert(e.identity.has_state);
	ck_assert_uint_eq(e.identity.state, 3);
}
END_TEST

START_TEST(test_get_attribute)
{
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(get_attr_req, sizeof get_attr_req, &e), 0);
	ck_assert_uint_eq(e.command, ENIP_CMD_SEND_RR_DATA);
	ck_assert_uint_eq(e.session, 0x00020001);
	ck_assert(e.has_cpf);
	ck_assert_uint_eq(e.timeout, 10);
	ck_assert_uint_eq(e.item_count, 2);
	ck_assert(e.has_cip);
	ck_assert(!e.cip.response);
	ck_assert_uint_eq(e.cip.service, CIP_SVC_GET_ATTRIBUTE_SINGLE);
	ck_assert(e.cip.path.has_class && e.cip.path.has_instance &&
	    e.cip.path.has_attribute);
	ck_assert_uint_eq(e.cip.path.class_id, CIP_CLASS_ASSEMBLY);
	ck_assert_uint_eq(e.cip.path.instance, 100);
	ck_assert_uint_eq(e.cip.path.attribute, 3);
	ck_assert_uint_eq(e.cip.path.nsegments, 3);
	ck_assert(!e.cip.path.unparsed);
	ck_assert_uint_eq(e.cip.data_len, 0);
	ck_assert(!e.cip.unconnected_send && !e.cip.multi);
}
END_TEST

START_TEST(test_error_reply)
{
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(get_attr_err, sizeof get_attr_err, &e), 0);
	ck_assert(e.has_cip && e.cip.response);
	ck_assert_uint_eq(e.cip.service, CIP_SVC_GET_ATTRIBUTE_SINGLE);
	ck_assert_uint_eq(e.cip.general_status, 0x05);
	ck_assert_uint_eq(e.cip.ext_status_words, 1);
	ck_assert_uint_eq(e.cip.data_len, 2);
}
END_TEST

START_TEST(test_unconnected_send)
{
	struct enip_pdu e;

	ck_assert_int_eq(enip_parse(ucs_req, sizeof ucs_req, &e), 0);
	ck_assert(e.has_cip);
	ck_assert(e.cip.unconnected_send);
	ck_assert_uint_eq(e.cip.ucs_path.class_id,
	    CIP_CLASS_CONNECTION_MANAGER);
	ck_assert_uint_eq(e.cip.ucs_path.instance, 1);
	ck_assert_uint_eq(e.cip.ucs_priority, 0x07);
	ck_assert_uint_eq(e.cip.ucs_timeout, 0xE9);
	/* the embedded request */
	ck_assert_uint_eq(e.cip.service, CIP_SVC_GET_ATTRIBUTES_ALL);
	ck_assert_uint_eq(e.cip.path.class_id, 0xAC);
	ck_assert_uint_eq(e.cip.path.instance, 1);
	ck_assert_uint_eq(e.cip.data_len, 2);
	ck_assert_uint_eq(e.cip.route_len, 2);
	ck_assert_ptr_eq(e.cip.route, ucs_req + sizeof ucs_req - 2);
}
END_TEST

START_TEST(test_multiple_service)
{
	struct enip_pdu e;

	ck_assert_int_eq(enip_parse(msp_req, sizeof msp_req, &e), 0);
	ck_assert_uint_eq(e.command, ENIP_CMD_SEND_UNIT_DATA);
	ck_assert(e.has_conn_id);
	ck_assert_uint_eq(e.conn_id, 0x11223344);
	ck_assert(e.has_seq);
	ck_assert_uint_eq(e.seq, 7);
	ck_assert(e.has_cip);
	ck_assert_uint_eq(e.cip.service, CIP_SVC_MULTIPLE_SERVICE_PACKET);
	ck_assert_uint_eq(e.cip.path.class_id, CIP_CLASS_MESSAGE_ROUTER);
	ck_assert(e.cip.multi);
	ck_assert_uint_eq(e.cip.multi_count, 2);
	ck_assert_uint_eq(e.cip.multi_kept, 2);
	ck_assert_uint_eq(e.cip.multi_entries[0].service, CIP_SVC_READ_TAG);
	ck_assert(e.cip.multi_entries[0].path.has_symbol);
	ck_assert_uint_eq(e.cip.multi_entries[0].path.symbol_len, 4);
	ck_assert_int_eq(memcmp(e.cip.multi_entries[0].path.symbol, "Tag1", 4),
	    0);
	ck_assert_uint_eq(e.cip.multi_entries[1].service, CIP_SVC_WRITE_TAG);
	ck_assert_uint_eq(e.cip.multi_entries[1].path.symbol_len, 3);
	ck_assert_int_eq(memcmp(e.cip.multi_entries[1].path.symbol, "SP1", 3),
	    0);
}
END_TEST

START_TEST(test_set_attribute)
{
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(set_attr, sizeof set_attr, &e), 0);
	ck_assert_uint_eq(e.session, 0xB4CAFFF4);
	ck_assert_uint_eq(e.conn_id, 0xDA9A62BA);
	ck_assert_uint_eq(e.seq, 13);
	ck_assert_uint_eq(e.cip.service, CIP_SVC_SET_ATTRIBUTE_SINGLE);
	ck_assert_uint_eq(e.cip.path.class_id, CIP_CLASS_IDENTITY);
	ck_assert(e.cip.path.has_instance);
	ck_assert_uint_eq(e.cip.path.instance, 0);
	ck_assert(!e.cip.path.has_attribute);
}
END_TEST

START_TEST(test_epath_forms)
{
	/* 16-bit class, 32-bit instance, 16-bit attribute, member, port */
	static const uint8_t req[] = {
		0x6F, 0x00,		/* SendRRData */
		0x26, 0x00,		/* length 38 */
		0, 0, 0, 0, 0, 0, 0, 0,	/* session, status */
		0, 0, 0, 0, 0, 0, 0, 0,	/* context */
		0, 0, 0, 0,		/* options */
		0, 0, 0, 0,		/* interface handle */
		0x00, 0x00,		/* timeout */
		0x02, 0x00,		/* item count */
		0x00, 0x00, 0x00, 0x00,	/* null address */
		0xB2, 0x00, 0x16, 0x00,	/* unconnected data, 22 bytes */
		0x0E,			/* Get_Attribute_Single */
		0x0A,			/* path size 10 words */
		0x01, 0x00,		/* port 1, link 0 (route hop) */
		0x21, 0x00, 0x34, 0x12,	/* class 0x1234 (16-bit) */
		0x26, 0x00, 0x78, 0x56, 0x34, 0x12,	/* instance (32-bit) */
		0x31, 0x00, 0x01, 0x01,	/* attribute 0x101 (16-bit) */
		0x28, 0x05,		/* member 5 */
		0x2C, 0x66,		/* connection point 0x66 */
	};
	struct enip_pdu e;

	ck_assert_int_eq(parse_copy(req, sizeof req, &e), 0);
	ck_assert_uint_eq(e.cip.path.class_id, 0x1234);
	ck_assert_uint_eq(e.cip.path.instance, 0x12345678);
	ck_assert_uint_eq(e.cip.path.attribute, 0x101);
	ck_assert(e.cip.path.has_member);
	ck_assert_uint_eq(e.cip.path.member, 5);
	ck_assert(e.cip.path.has_conn_point);
	ck_assert_uint_eq(e.cip.path.conn_point, 0x66);
	ck_assert_uint_eq(e.cip.path.nsegments, 6);
	ck_assert(!e.cip.path.unparsed);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct enip_pdu e;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = enip_parse(c, k, &e);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = enip_frame_len(c, k, &flen);
	if (k < 4)
		ck_assert_int_eq(rc, IDS_EAGAIN);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(flen, fixtures[i].len);
	}
	ck_assert(!enip_probe(c, k));
	free(c);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof get_attr_req];
	struct enip_pdu e;
	size_t len;

	memcpy(b, get_attr_req, sizeof b);
	b[0] = 0x99;				/* unknown command */
	ck_assert_int_eq(parse_copy(b, sizeof b, &e), IDS_EMALFORMED);
	ck_assert_int_eq(enip_frame_len(b, 1, &len), IDS_EMALFORMED);
	ck_assert(!enip_probe(b, sizeof b));
	memcpy(b, get_attr_req, sizeof b);
	b[1] = 0x01;				/* command 0x016F */
	ck_assert_int_eq(enip_frame_len(b, 2, &len), IDS_EMALFORMED);
	memcpy(b, get_attr_req, sizeof b);
	b[2] = 0xFF;				/* length 65535 > 65511 */
	b[3] = 0xFF;
	ck_assert_int_eq(enip_frame_len(b, 4, &len), IDS_EMALFORMED);
	memcpy(b, get_attr_req, sizeof b);
	b[38] = 0x09;				/* CPF item longer than data */
	ck_assert_int_eq(parse_copy(b, sizeof b, &e), IDS_EMALFORMED);
	memcpy(b, get_attr_req, sizeof b);
	b[41] = 0x04;				/* CIP path size past the item */
	ck_assert_int_eq(parse_copy(b, sizeof b, &e), IDS_EMALFORMED);
	memcpy(b, get_attr_req, sizeof b);
	b[20] = 0x01;				/* options != 0: not a probe hit */
	ck_assert(!enip_probe(b, sizeof b));
	ck_assert_int_eq(parse_copy(b, sizeof b, &e), 0);
	ck_assert_int_eq(enip_frame_len(b, sizeof b, NULL), IDS_EINVAL);
	ck_assert_int_eq(enip_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_bad_ucs)
{
	uint8_t b[sizeof ucs_req];
	struct enip_pdu e;

	memcpy(b, ucs_req, sizeof b);
	b[48] = 0x20;				/* embedded size 32 > item */
	ck_assert_int_eq(parse_copy(b, sizeof b, &e), IDS_EMALFORMED);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof register_req + sizeof get_attr_req];
	struct enip_pdu e;
	size_t len;

	ck_assert_int_eq(enip_frame_len(msp_req, sizeof msp_req, &len), 0);
	ck_assert_uint_eq(len, sizeof msp_req);
	ck_assert_int_eq(enip_frame_len(msp_req, 3, &len), IDS_EAGAIN);
	ck_assert_int_eq(enip_frame_len(msp_req, 4, &len), 0);
	ck_assert_uint_eq(len, sizeof msp_req);
	memcpy(two, register_req, sizeof register_req);
	memcpy(two + sizeof register_req, get_attr_req, sizeof get_attr_req);
	ck_assert_int_eq(enip_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof register_req);
	ck_assert_int_eq(enip_parse(two, sizeof two, &e), 0);
	ck_assert(e.has_register);
	ck_assert_int_eq(enip_parse(two + len, sizeof two - len, &e), 0);
	ck_assert_uint_eq(e.cip.service, CIP_SVC_GET_ATTRIBUTE_SINGLE);
	ck_assert(enip_probe(two, sizeof two));
	ck_assert(enip_probe(list_identity_req, sizeof list_identity_req));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(enip_cmd_name(0x0063), "ListIdentity");
	ck_assert_str_eq(enip_cmd_name(0x006F), "SendRRData");
	ck_assert_str_eq(enip_cmd_name(0x0070), "SendUnitData");
	ck_assert_str_eq(enip_cmd_name(0x1234), "Unknown");
	ck_assert_str_eq(cip_service_name(0x05), "Reset");
	ck_assert_str_eq(cip_service_name(0x10), "Set_Attribute_Single");
	ck_assert_str_eq(cip_service_name(0x8E), "Get_Attribute_Single");
	ck_assert_str_eq(cip_service_name(0x4B), "Execute_PCCC");
	ck_assert_str_eq(cip_service_name(0x4D), "Write_Tag");
	ck_assert_str_eq(cip_service_name(0x52), "Unconnected_Send");
	ck_assert_str_eq(cip_service_name(0x54), "Forward_Open");
	ck_assert_str_eq(cip_service_name(0x7F), "Unknown");
	ck_assert_str_eq(cip_service_name_for_class(0x4E, 6), "Forward_Close");
	ck_assert_str_eq(cip_service_name_for_class(0x4E, 0x6B),
	    "Read_Modify_Write");
	ck_assert_str_eq(cip_service_name_for_class(0x52, 0x6B),
	    "Read_Tag_Fragmented");
}
END_TEST

static Suite *
enip_suite(void)
{
	Suite *s = suite_create("enip_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_list_identity);
	tcase_add_test(tc, test_get_attribute);
	tcase_add_test(tc, test_error_reply);
	tcase_add_test(tc, test_unconnected_send);
	tcase_add_test(tc, test_multiple_service);
	tcase_add_test(tc, test_set_attribute);
	tcase_add_test(tc, test_epath_forms);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_ucs);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(enip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
