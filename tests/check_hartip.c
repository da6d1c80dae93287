/*
 * check_hartip.c - unit tests of the HART-IP header dissector
 * (dissectors/hartip.c), and the agent naming the shared capture's
 * HART-IP sessions through the descriptor alone.
 */
#include <check.h>
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/hartip.h"
#include "dissectors/proto.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* Session Initiate request, as in frame 1 of hart-ip.pcap. */
static const uint8_t initiate[] = {
	0x01, 0x00, 0x00, 0x00, /* version 1, request, initiate, status */
	0x00, 0x02, 0x00, 0x0d, /* sequence 2, byte count 13 */
	0x01, 0x00, 0x00, 0x75, 0x30, /* master type, inactivity timer */
};

/* Token-passing PDU: HART command 13 (Read Tag) to a long address. */
static const uint8_t cmd13[] = {
	0x01, 0x00, 0x03, 0x00, /* version 1, request, token-passing */
	0x00, 0x05, 0x00, 0x11, /* sequence 5, byte count 17 */
	0x82, /* delimiter: STX, long address */
	0xa6, 0x4e, 0x0b, 0x2c, 0x91, /* address */
	0x0d, /* command 13 */
	0x00, /* byte count */
	0x5c, /* check byte */
};

START_TEST(test_initiate)
{
	struct hartip_pdu m;
	size_t len = 0;

	ck_assert(hartip_probe(initiate, sizeof(initiate)));
	ck_assert_int_eq(hartip_frame_len(initiate, sizeof(initiate), &len), 0);
	ck_assert_uint_eq(len, 13);
	ck_assert_int_eq(hartip_parse(initiate, sizeof(initiate), &m), 0);
	ck_assert_uint_eq(m.version, 1);
	ck_assert_uint_eq(m.msg_type, HARTIP_REQUEST);
	ck_assert_uint_eq(m.msg_id, HARTIP_SESSION_INITIATE);
	ck_assert_uint_eq(m.seq, 2);
	ck_assert_uint_eq(m.byte_count, 13);
	ck_assert(!m.has_command);
	ck_assert_str_eq(hartip_msg_id_name(m.msg_id), "Session Initiate");
}
END_TEST

START_TEST(test_command)
{
	struct hartip_pdu m;

	ck_assert_int_eq(hartip_parse(cmd13, sizeof(cmd13), &m), 0);
	ck_assert_uint_eq(m.msg_id, HARTIP_PASS_THROUGH);
	ck_assert(m.has_command);
	ck_assert(m.long_address);
	ck_assert_uint_eq(m.command, 13);
	ck_assert_str_eq(hartip_msg_id_name(m.msg_id), "Token-Passing PDU");
}
END_TEST

/* Anything shorter than the header asks for more bytes, exactly sized. */
START_TEST(test_prefixes)
{
	uint8_t *p = tu_dup_exact(cmd13, (size_t)_i);
	struct hartip_pdu m;
	size_t len;

	if (_i < 8)
		ck_assert_int_eq(
		    hartip_frame_len(p, (size_t)_i, &len), IDS_EAGAIN);
	else
		ck_assert_int_eq(hartip_frame_len(p, (size_t)_i, &len), 0);
	ck_assert_int_ne(hartip_parse(p, (size_t)_i, &m), 0);
	ck_assert(!hartip_probe(p, (size_t)_i));
	free(p);
}
END_TEST

START_TEST(test_bad_headers)
{
	uint8_t b[sizeof(initiate)];
	struct hartip_pdu m;
	size_t len;

	memcpy(b, initiate, sizeof(b));
	b[0] = 0x45; /* an IPv4 header, not version 1/2 */
	ck_assert_int_eq(hartip_frame_len(b, sizeof(b), &len), IDS_EMALFORMED);
	ck_assert_int_eq(hartip_frame_len(b, 3, &len), IDS_EMALFORMED);
	memcpy(b, initiate, sizeof(b));
	b[1] = 7; /* no such message type */
	ck_assert_int_eq(hartip_frame_len(b, sizeof(b), &len), IDS_EMALFORMED);
	memcpy(b, initiate, sizeof(b));
	b[2] = 9; /* no such message id */
	ck_assert(!hartip_probe(b, sizeof(b)));
	memcpy(b, initiate, sizeof(b));
	b[7] = 7; /* byte count below the header */
	ck_assert_int_eq(hartip_frame_len(b, sizeof(b), &len), IDS_EMALFORMED);
	memcpy(b, initiate, sizeof(b));
	b[7] = 20; /* more than there is */
	ck_assert_int_eq(hartip_parse(b, sizeof(b), &m), IDS_EMALFORMED);
	ck_assert(!hartip_probe(b, sizeof(b)));
}
END_TEST

/* The descriptor is in the registry under its own id and name. */
START_TEST(test_descriptor)
{
	const struct proto_desc *d = proto_desc_of(ICS_HARTIP);
	struct det_pdu pdu;
	struct proto_req r;
	struct hartip_pdu m;
	char buf[64];

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_eq(d, &hartip_desc);
	ck_assert_str_eq(d->name, "hart-ip");
	ck_assert_str_eq(ics_proto_name(ICS_HARTIP), "hart-ip");
	ck_assert_uint_eq(d->ports[0], 5094);
	ck_assert_int_eq(hartip_parse(cmd13, sizeof(cmd13), &m), 0);
	memset(&pdu, 0, sizeof(pdu));
	pdu.proto = ICS_HARTIP;
	pdu.u.any = &m;
	memset(&r, 0, sizeof(r));
	d->analyse(&pdu, &r);
	ck_assert_uint_eq(r.nops, 1);
	ck_assert_uint_eq(r.code[0], 13);
	ck_assert_str_eq(d->code_name(13, buf, sizeof(buf)), "HART command 13");
	ck_assert_str_eq(
	    d->code_name(0x100, buf, sizeof(buf)), "Session Initiate");
}
END_TEST

/*
 * hart-ip.pcap: a TCP session on 5094, and a UDP session initiated on
 * 5094 that the server continues from 5095.  nDPI 4.2 names none of them
 * (it calls the TCP one cassandra).
 */
START_TEST(test_replay)
{
	char agent[512], pcap[512];
	struct tu_result r;
	cJSON *stats;

	tu_agent_path(agent, sizeof(agent));
	tu_pcap_path(pcap, sizeof(pcap), "hart-ip.pcap");
	{
		char *argv[] = { agent, "-r", pcap, "--no-mqtt", "--stats",
			NULL };

		ck_assert_int_eq(tu_run(argv, NULL, 60000, &r), 0);
	}
	ck_assert_int_eq(r.exit_code, 0);
	stats = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(stats);
	ck_assert_double_eq(tu_json_num(stats, "protocols.hart-ip", -1), 3);
	ck_assert_double_eq(tu_json_num(stats, "pdus.hart-ip", -1), 48);
	ck_assert_double_eq(tu_json_num(stats, "malformed.hart-ip", -1), 0);
	cJSON_Delete(stats);
	tu_result_free(&r);
}
END_TEST

static Suite *
hartip_suite(void)
{
	Suite *s = suite_create("hartip");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_initiate);
	tcase_add_test(tc, test_command);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)sizeof(cmd13));
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_descriptor);
	tcase_add_test(tc, test_replay);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(hartip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
