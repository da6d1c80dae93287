/*
 * check_pndcp.c - unit tests for the PROFINET DCP and LLDP parsers
 * (dissectors/pndcp.c, lldp.c): the layer-2 discovery protocols.
 *
 * Fixtures are the bytes after the EtherType: an Identify request from
 * profinet-dcp-identify.pcap frame 1, an Identify response and an LLDPDU
 * from profinet-io-cm-mixed.pcap; the Set requests are hand-made.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/lldp.h"
#include "dissectors/pndcp.h"
#include "lib/ids.h"
#include "testutil.h"

/* Identify request filtered by NameOfStation "switch3" */
static const uint8_t ident_req[] = {
	0xfe, 0xfe,		/* FrameID: Identify multicast request */
	0x05, 0x00,		/* Identify, request */
	0x03, 0x00, 0xbf, 0x9a,	/* Xid */
	0x00, 0x01,		/* ResponseDelay 1 */
	0x00, 0x0c,		/* DCPDataLength 12 */
	0x02, 0x02, 0x00, 0x07,	/* Device/NameOfStation, 7 */
	's', 'w', 'i', 't', 'c', 'h', '3',
	0x00,			/* block padding */
};

/* Identify response of a VersaMax PNS (GE, vendor 0x015a) */
static const uint8_t ident_resp[] = {
	0xfe, 0xff,		/* FrameID: Identify response */
	0x05, 0x01,		/* Identify, response success */
	0x00, 0x00, 0x00, 0x01,	/* Xid */
	0x00, 0x00,		/* reserved */
	0x00, 0x64,		/* DCPDataLength 100 */
	0x02, 0x02, 0x00, 0x10,	/* Device/NameOfStation, 16 */
	0x00, 0x00,		/* BlockInfo */
	'v', 'e', 'r', 's', 'a', 'm', 'a', 'x', '-', 'p', 'n', 's', '1', '1',
	0x02, 0x05, 0x00, 0x0e,	/* Device/DeviceOptions, 14 */
	0x00, 0x00,
	0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x02, 0x03, 0x02, 0x04, 0x06, 0x01,
	0x02, 0x01, 0x00, 0x0d,	/* Device/TypeOfStation, 13 */
	0x00, 0x00,
	'I', 'C', '2', '0', '0', 'P', 'N', 'S', '0', '0', '1',
	0x00,			/* padding */
	0x02, 0x03, 0x00, 0x06,	/* Device/DeviceID, 6 */
	0x00, 0x00,
	0x01, 0x5a, 0x00, 0x03,	/* vendor 0x015a, device 0x0003 */
	0x02, 0x04, 0x00, 0x04,	/* Device/DeviceRole, 4 */
	0x00, 0x00,
	0x01, 0x00,		/* IO-Device */
	0x01, 0x02, 0x00, 0x0e,	/* IP/IP parameter, 14 */
	0x00, 0x01,		/* BlockInfo: IP set */
	0xc0, 0xa8, 0x01, 0x02,	/* 192.168.1.2 */
	0xff, 0xff, 0xff, 0x00,	/* 255.255.255.0 */
	0xc0, 0xa8, 0x01, 0x02,	/* gateway */
	0x06, 0x01, 0x00, 0x04,	/* DeviceInitiative, 4 */
	0x00, 0x00, 0x00, 0x01,
};

/* Set request: NameOfStation "plc-evil" then IP 10.0.0.66 */
static const uint8_t set_req[] = {
	0xfe, 0xfd,		/* FrameID: Get/Set */
	0x04, 0x00,		/* Set, request */
	0x00, 0x00, 0x10, 0x01,	/* Xid */
	0x00, 0x00,		/* reserved */
	0x00, 0x20,		/* DCPDataLength 32 */
	0x02, 0x02, 0x00, 0x0a,	/* Device/NameOfStation, 10 */
	0x00, 0x01,		/* BlockQualifier: permanent */
	'p', 'l', 'c', '-', 'e', 'v', 'i', 'l',
	0x01, 0x02, 0x00, 0x0e,	/* IP/IP parameter, 14 */
	0x00, 0x01,		/* BlockQualifier */
	0x0a, 0x00, 0x00, 0x42, 0xff, 0xff, 0xff, 0x00, 0x0a, 0x00, 0x00, 0x01,
};

/* Set request: reset to factory */
static const uint8_t set_reset[] = {
	0xfe, 0xfd,		/* FrameID */
	0x04, 0x00,		/* Set, request */
	0x00, 0x00, 0x10, 0x02,	/* Xid */
	0x00, 0x00,		/* reserved */
	0x00, 0x06,		/* DCPDataLength 6 */
	0x05, 0x06, 0x00, 0x02,	/* Control/ResetToFactory, 2 */
	0x00, 0x02,		/* BlockQualifier: mode */
};

/* Identify all */
static const uint8_t ident_all[] = {
	0xfe, 0xfe,		/* FrameID */
	0x05, 0x00,		/* Identify, request */
	0x00, 0x00, 0x00, 0x07,	/* Xid */
	0x00, 0x80,		/* ResponseDelay 128 */
	0x00, 0x04,		/* DCPDataLength 4 */
	0xff, 0xff, 0x00, 0x00,	/* All selector */
};

/* LLDPDU from a Siemens SCALANCE X208 */
static const uint8_t lldp[] = {
	0x02, 0x14,		/* Chassis ID, 20 */
	0x07,			/* subtype: locally assigned */
	's', 'i', 'e', 'm', 'e', 'n', 's', '-', 'x', '2', '0', '8', '-',
	's', 'w', 'i', 't', 'c', 'h',
	0x04, 0x09,		/* Port ID, 9 */
	0x07,			/* subtype: locally assigned */
	'p', 'o', 'r', 't', '-', '0', '0', '4',
	0x06, 0x02, 0x00, 0x14,	/* TTL 20 */
	0x0c, 0x32,		/* System Description, 50 */
	'S', 'i', 'e', 'm', 'e', 'n', 's', ' ', 'A', 'G', ' ', 'S', 'I',
	'M', 'A', 'T', 'I', 'C', ' ', 'S', '7', ' ', 'M', 'U', 'L', 'T',
	'I', 'P', 'O', 'R', 'T', ' ', 'S', 'C', 'A', 'L', 'A', 'N', 'C',
	'E', ' ', 'X', ' ', '2', '0', '0', ' ', 'F', 'A', 'M',
	0x0e, 0x04, 0x00, 0x80, 0x00, 0x80,	/* Capabilities: station */
	0x10, 0x14,		/* Management Address, 20 */
	0x05, 0x01,		/* address length 5, IPv4 */
	0x00, 0x00, 0x00, 0x00,	/* 0.0.0.0 */
	0x02, 0x00, 0x00, 0x00, 0x04,	/* ifIndex 4 */
	0x08, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc0, 0x6e,	/* OID */
	0xfe, 0x08,		/* org specific, 8: PROFINET */
	0x00, 0x0e, 0xcf, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00,		/* End */
};

/* LLDPDU with a system name and an IPv4 management address */
static const uint8_t lldp_name[] = {
	0x02, 0x07, 0x04,	/* Chassis ID, 7: MAC */
	0x00, 0x1b, 0x1b, 0x02, 0x9a, 0xc3,
	0x04, 0x05, 0x05,	/* Port ID, 5: interface name */
	'X', '1', 'P', '1',
	0x06, 0x02, 0x00, 0x78,	/* TTL 120 */
	0x0a, 0x04, 'p', 'l', 'c', '1',	/* System Name */
	0x08, 0x03, 'e', 't', 'h',	/* Port Description */
	0x10, 0x0c,		/* Management Address, 12 */
	0x05, 0x01, 0x0a, 0x00, 0x00, 0x0a,	/* IPv4 10.0.0.10 */
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00,	/* ifIndex 1, no OID */
	0x00, 0x00,		/* End */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	bool		 is_lldp;
};

#define FIX(a, l)	{ #a, a, sizeof(a), l }
static const struct fixture fixtures[] = {
	FIX(ident_req, false), FIX(ident_resp, false), FIX(set_req, false),
	FIX(set_reset, false), FIX(ident_all, false), FIX(lldp, true),
	FIX(lldp_name, true),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

static bool
streq(const uint8_t *p, size_t n, const char *s)
{
	return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

START_TEST(test_identify_request)
{
	uint8_t *c = tu_dup_exact(ident_req, sizeof ident_req);
	struct pndcp_pdu d;

	ck_assert_int_eq(pndcp_parse(c, sizeof ident_req, &d), 0);
	ck_assert_uint_eq(d.frame_id, PNDCP_FRAME_IDENT_REQ);
	ck_assert_uint_eq(d.service, PNDCP_SVC_IDENTIFY);
	ck_assert_uint_eq(d.type, PNDCP_REQUEST);
	ck_assert_uint_eq(d.xid, 0x0300bf9a);
	ck_assert_uint_eq(d.response_delay, 1);
	ck_assert_uint_eq(d.data_len, 12);
	ck_assert_uint_eq(d.n_blocks, 1);
	ck_assert(!d.identify_all);
	ck_assert(streq(d.name, d.name_len, "switch3"));
	ck_assert_uint_eq(d.set, 0);
	ck_assert_uint_eq(d.frame_len, 24);
	ck_assert_str_eq(pndcp_service_name(d.service), "Identify");
	free(c);
}
END_TEST

START_TEST(test_identify_response)
{
	struct pndcp_pdu d;

	ck_assert_int_eq(pndcp_parse(ident_resp, sizeof ident_resp, &d), 0);
	ck_assert_uint_eq(d.type, PNDCP_RESPONSE_OK);
	ck_assert_uint_eq(d.n_blocks, 7);
	ck_assert(streq(d.name, d.name_len, "versamax-pns11"));
	ck_assert(streq(d.vendor, d.vendor_len, "IC200PNS001"));
	ck_assert(d.has_id);
	ck_assert_uint_eq(d.vendor_id, 0x015a);
	ck_assert_uint_eq(d.device_id, 0x0003);
	ck_assert(d.has_role);
	ck_assert_uint_eq(d.role, 1);
	ck_assert_str_eq(pndcp_role_name(d.role), "io-device");
	ck_assert(d.has_ip);
	ck_assert_uint_eq(d.ip[0], 192);
	ck_assert_uint_eq(d.ip[3], 2);
	ck_assert_uint_eq(d.mask[3], 0);
	ck_assert_uint_eq(d.response_delay, 0);
}
END_TEST

START_TEST(test_set)
{
	struct pndcp_pdu d;

	ck_assert_int_eq(pndcp_parse(set_req, sizeof set_req, &d), 0);
	ck_assert_uint_eq(d.service, PNDCP_SVC_SET);
	ck_assert_uint_eq(d.set, PNDCP_SET_NAME | PNDCP_SET_IP);
	ck_assert(streq(d.name, d.name_len, "plc-evil"));
	ck_assert(d.has_ip);
	ck_assert_uint_eq(d.ip[3], 0x42);
	ck_assert_int_eq(pndcp_parse(set_reset, sizeof set_reset, &d), 0);
	ck_assert_uint_eq(d.set, PNDCP_SET_FACTORY_RESET);
	ck_assert_int_eq(pndcp_parse(ident_all, sizeof ident_all, &d), 0);
	ck_assert(d.identify_all);
	ck_assert_uint_eq(d.response_delay, 128);
}
END_TEST

START_TEST(test_dcp_malformed)
{
	static const uint8_t rt[] = { 0xc0, 0x00, 0x01, 0x02 };
	static const uint8_t ptcp[] = { 0xff, 0x40, 0x00, 0x00 };
	uint8_t b[sizeof set_req];
	struct pndcp_pdu d;

	ck_assert_int_eq(pndcp_parse(rt, sizeof rt, &d), IDS_ENOTSUP);
	ck_assert_uint_eq(d.frame_id, 0xc000);
	ck_assert_int_eq(pndcp_parse(ptcp, sizeof ptcp, &d), IDS_ENOTSUP);
	memcpy(b, set_req, sizeof b);
	b[2] = 0x09;			/* unknown service */
	ck_assert_int_eq(pndcp_parse(b, sizeof b, &d), IDS_EMALFORMED);
	memcpy(b, set_req, sizeof b);
	b[3] = 0x02;			/* unknown service type */
	ck_assert_int_eq(pndcp_parse(b, sizeof b, &d), IDS_EMALFORMED);
	memcpy(b, set_req, sizeof b);
	b[15] = 0x30;			/* block past the data */
	ck_assert_int_eq(pndcp_parse(b, sizeof b, &d), IDS_EMALFORMED);
	memcpy(b, set_req, sizeof b);
	b[29] = 0x0c;			/* IP block 12: no qualifier room */
	ck_assert_int_eq(pndcp_parse(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert_int_eq(pndcp_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_lldp_fields)
{
	uint8_t *c = tu_dup_exact(lldp, sizeof lldp);
	struct lldp_pdu l;

	ck_assert_int_eq(lldp_parse(c, sizeof lldp, &l), 0);
	ck_assert_uint_eq(l.chassis_subtype, 7);
	ck_assert(streq(l.chassis_id, l.chassis_id_len, "siemens-x208-switch"));
	ck_assert_uint_eq(l.port_subtype, 7);
	ck_assert(streq(l.port_id, l.port_id_len, "port-004"));
	ck_assert_uint_eq(l.ttl, 20);
	ck_assert(l.sys_name == NULL);
	ck_assert_uint_eq(l.sys_desc_len, 50);
	ck_assert(l.has_caps);
	ck_assert_uint_eq(l.caps, 0x80);
	ck_assert(l.has_mgmt);
	ck_assert_uint_eq(l.mgmt_af, LLDP_AF_IPV4);
	ck_assert_uint_eq(l.mgmt_addr_len, 4);
	ck_assert_uint_eq(l.n_tlvs, 8);
	ck_assert_uint_eq(l.frame_len, sizeof lldp);
	free(c);

	ck_assert_int_eq(lldp_parse(lldp_name, sizeof lldp_name, &l), 0);
	ck_assert_uint_eq(l.chassis_subtype, LLDP_CHASSIS_MAC);
	ck_assert_uint_eq(l.chassis_id_len, 6);
	ck_assert(streq(l.sys_name, l.sys_name_len, "plc1"));
	ck_assert(streq(l.port_desc, l.port_desc_len, "eth"));
	ck_assert_uint_eq(l.mgmt_addr[0], 10);
	ck_assert_uint_eq(l.mgmt_addr[3], 10);
}
END_TEST

START_TEST(test_lldp_malformed)
{
	uint8_t b[sizeof lldp_name];
	struct lldp_pdu l;

	memcpy(b, lldp_name, sizeof b);
	b[0] = 0x04;			/* Port ID first */
	ck_assert_int_eq(lldp_parse(b, sizeof b, &l), IDS_EMALFORMED);
	memcpy(b, lldp_name, sizeof b);
	b[20] = 0x02;			/* a second Chassis ID */
	ck_assert_int_eq(lldp_parse(b, sizeof b, &l), IDS_EMALFORMED);
	memcpy(b, lldp_name, sizeof b);
	b[33] = 0x22;			/* management address length 34 */
	ck_assert_int_eq(lldp_parse(b, sizeof b, &l), IDS_EMALFORMED);
	memcpy(b, lldp_name, sizeof b);
	b[sizeof b - 1] = 0x01;		/* End with a length */
	ck_assert_int_ne(lldp_parse(b, sizeof b, &l), 0);
	ck_assert_int_eq(lldp_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i;
	struct pndcp_pdu d;
	struct lldp_pdu l;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = fixtures[i].is_lldp ? lldp_parse(c, k, &l) :
	    pndcp_parse(c, k, &d);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	free(c);
}
END_TEST

static Suite *
pndcp_suite(void)
{
	Suite *s = suite_create("pndcp_lldp");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_identify_request);
	tcase_add_test(tc, test_identify_response);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_dcp_malformed);
	tcase_add_test(tc, test_lldp_fields);
	tcase_add_test(tc, test_lldp_malformed);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pndcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
