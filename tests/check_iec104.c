/*
 * check_iec104.c - unit tests for the IEC 60870-5-104 parser (dissectors/iec104.c).
 *
 * The command fixtures are APDUs from iec104-iti-diverse.pcap and
 * iec104-wireshark-testdissect.pcap.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/iec104.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* U format STARTDT act */
static const uint8_t startdt_act[] = {
	0x68,			/* start */
	0x04,			/* length */
	0x07,			/* control 1: STARTDT act | U format */
	0x00, 0x00, 0x00,	/* control 2-4 */
};

/* U format TESTFR con */
static const uint8_t testfr_con[] = {
	0x68, 0x04,		/* start, length */
	0x83,			/* control 1: TESTFR con */
	0x00, 0x00, 0x00,	/* control 2-4 */
};

/* S format, N(R) = 78 */
static const uint8_t s_frame[] = {
	0x68, 0x04,		/* start, length */
	0x01, 0x00,		/* control 1-2: S format */
	0x9C, 0x00,		/* control 3-4: N(R) 78 << 1 */
};

/* C_SC_NA_1 single command, select, ON (iec104-iti-diverse.pcap) */
static const uint8_t sc_select[] = {
	0x68, 0x0E,		/* start, length 14 */
	0x2C, 0x00,		/* N(S) 22 */
	0xA2, 0x00,		/* N(R) 81 */
	0x2D,			/* type 45 C_SC_NA_1 */
	0x01,			/* VSQ: 1 object */
	0x06,			/* COT: activation */
	0x00,			/* originator address */
	0x03, 0x00,		/* common address 3 */
	0x94, 0x11, 0x00,	/* IOA 4500 */
	0x81,			/* SCO: select, SCS on */
};

/* C_IC_NA_1 station interrogation (iec104-wireshark-testdissect.pcap) */
static const uint8_t interrogation[] = {
	0x68, 0x0E,		/* start, length 14 */
	0x00, 0x00,		/* N(S) 0 */
	0x00, 0x00,		/* N(R) 0 */
	0x64,			/* type 100 C_IC_NA_1 */
	0x01,			/* VSQ: 1 object */
	0x06,			/* COT: activation */
	0x01,			/* originator address 1 */
	0x0D, 0x91,		/* common address 37133 */
	0x00, 0x00, 0x00,	/* IOA 0 */
	0x14,			/* QOI: station interrogation */
};

/* C_SE_NC_1 set point (short float), select (iec104-iti-diverse.pcap) */
static const uint8_t setpoint[] = {
	0x68, 0x12,		/* start, length 18 */
	0x34, 0x00,		/* N(S) 26 */
	0xB0, 0x00,		/* N(R) 88 */
	0x32,			/* type 50 C_SE_NC_1 */
	0x01,			/* VSQ */
	0x06,			/* COT: activation */
	0x00,			/* originator */
	0x03, 0x00,		/* common address 3 */
	0x9C, 0x13, 0x00,	/* IOA 5020 */
	0x00, 0x00, 0x40, 0x41,	/* value 12.0 */
	0x80,			/* QOS: select */
};

/* C_DC_TA_1 double command with time tag (iec104-iti-diverse.pcap) */
static const uint8_t dc_time[] = {
	0x68, 0x15,		/* start, length 21 */
	0x42, 0x00,		/* N(S) 33 */
	0xDC, 0x00,		/* N(R) 110 */
	0x3B,			/* type 59 C_DC_TA_1 */
	0x01,			/* VSQ */
	0x06,			/* COT: activation */
	0x00,			/* originator */
	0x03, 0x00,		/* common address 3 */
	0xF9, 0x11, 0x00,	/* IOA 4601 */
	0x82,			/* DCO: select, DCS on */
	0xD8, 0x00, 0x19, 0x13,	/* CP56Time2a ... */
	0x0D, 0x08, 0x6D,
};

/* M_ME_NC_1 with SQ: one IOA, two consecutive elements, negative + test */
static const uint8_t measured_sq[] = {
	0x68, 0x17,		/* start, length 23 */
	0x02, 0x00,		/* N(S) 1 */
	0x04, 0x00,		/* N(R) 2 */
	0x0D,			/* type 13 M_ME_NC_1 */
	0x82,			/* VSQ: SQ, 2 elements */
	0xC3,			/* COT: test, negative, spontaneous */
	0x00,			/* originator */
	0x01, 0x00,		/* common address 1 */
	0xE9, 0x03, 0x00,	/* IOA 1001 */
	0x00, 0x00, 0x80, 0x3F, 0x00,	/* 1.0, QDS */
	0x00, 0x00, 0x00, 0x40, 0x00,	/* 2.0, QDS */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(startdt_act), FIX(testfr_con), FIX(s_frame), FIX(sc_select),
	FIX(interrogation), FIX(setpoint), FIX(dc_time), FIX(measured_sq),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, struct iec104_apdu *a)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = iec104_parse(c, n, a);

	free(c);
	return rc;
}

START_TEST(test_u_frames)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(startdt_act, sizeof startdt_act, &a), 0);
	ck_assert_int_eq(a.format, IEC104_FORMAT_U);
	ck_assert_uint_eq(a.u_func, IEC104_U_STARTDT_ACT);
	ck_assert_uint_eq(a.length, 4);
	ck_assert_uint_eq(a.frame_len, 6);
	ck_assert(!a.has_asdu);
	ck_assert_str_eq(iec104_u_name(a.u_func), "STARTDT act");

	ck_assert_int_eq(parse_copy(testfr_con, sizeof testfr_con, &a), 0);
	ck_assert_uint_eq(a.u_func, IEC104_U_TESTFR_CON);
	ck_assert_str_eq(iec104_u_name(a.u_func), "TESTFR con");
}
END_TEST

START_TEST(test_s_frame)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(s_frame, sizeof s_frame, &a), 0);
	ck_assert_int_eq(a.format, IEC104_FORMAT_S);
	ck_assert_uint_eq(a.nr, 78);
	ck_assert(!a.has_asdu);
}
END_TEST

START_TEST(test_single_command)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(sc_select, sizeof sc_select, &a), 0);
	ck_assert_int_eq(a.format, IEC104_FORMAT_I);
	ck_assert_uint_eq(a.ns, 22);
	ck_assert_uint_eq(a.nr, 81);
	ck_assert(a.has_asdu);
	ck_assert_uint_eq(a.type_id, IEC104_C_SC_NA_1);
	ck_assert(!a.sq);
	ck_assert_uint_eq(a.num_objects, 1);
	ck_assert_uint_eq(a.cot, IEC104_COT_ACTIVATION);
	ck_assert(!a.negative && !a.test);
	ck_assert_uint_eq(a.originator, 0);
	ck_assert_uint_eq(a.common_address, 3);
	ck_assert(a.has_ioa);
	ck_assert_uint_eq(a.ioa, 4500);
	ck_assert(a.has_qualifier);
	ck_assert_uint_eq(a.qualifier, 0x81);
	ck_assert(a.select);
	ck_assert_uint_eq(a.command_state, 1);
	ck_assert_uint_eq(a.qu, 0);
	ck_assert_uint_eq(a.objects_len, 4);
	ck_assert(iec104_type_is_command(a.type_id));
	ck_assert_str_eq(iec104_type_name(a.type_id), "C_SC_NA_1");
}
END_TEST

START_TEST(test_interrogation)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(interrogation, sizeof interrogation, &a),
	    0);
	ck_assert_uint_eq(a.type_id, IEC104_C_IC_NA_1);
	ck_assert_uint_eq(a.originator, 1);
	ck_assert_uint_eq(a.common_address, 37133);
	ck_assert_uint_eq(a.ioa, 0);
	ck_assert(!a.has_qualifier);
	ck_assert(!iec104_type_is_command(a.type_id));
	ck_assert(iec104_type_is_system_command(a.type_id));
}
END_TEST

START_TEST(test_setpoint)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(setpoint, sizeof setpoint, &a), 0);
	ck_assert_uint_eq(a.ns, 26);
	ck_assert_uint_eq(a.nr, 88);
	ck_assert_uint_eq(a.type_id, IEC104_C_SE_NC_1);
	ck_assert_uint_eq(a.ioa, 5020);
	ck_assert(a.has_qualifier && a.select);
	ck_assert_uint_eq(a.qualifier, 0x80);
}
END_TEST

START_TEST(test_double_command_time)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(dc_time, sizeof dc_time, &a), 0);
	ck_assert_uint_eq(a.type_id, IEC104_C_DC_TA_1);
	ck_assert_uint_eq(a.ioa, 4601);
	ck_assert(a.has_qualifier && a.select);
	ck_assert_uint_eq(a.command_state, 2);
	ck_assert_str_eq(iec104_type_name(a.type_id), "C_DC_TA_1");
}
END_TEST

START_TEST(test_measured_sq)
{
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(measured_sq, sizeof measured_sq, &a), 0);
	ck_assert_uint_eq(a.type_id, IEC104_M_ME_NC_1);
	ck_assert(a.sq);
	ck_assert_uint_eq(a.num_objects, 2);
	ck_assert(a.test && a.negative);
	ck_assert_uint_eq(a.cot, IEC104_COT_SPONTANEOUS);
	ck_assert_uint_eq(a.ioa, 1001);
	ck_assert_uint_eq(a.objects_len, 13);
	ck_assert(!a.has_qualifier);
	ck_assert(!iec104_type_is_command(a.type_id));
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct iec104_apdu a;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = iec104_parse(c, k, &a);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = iec104_frame_len(c, k, &flen);
	if (k < 2)
		ck_assert_int_eq(rc, IDS_EAGAIN);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(flen, fixtures[i].len);
	}
	free(c);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof sc_select];
	struct iec104_apdu a;
	size_t len;

	memcpy(b, sc_select, sizeof b);
	b[0] = 0x69;				/* bad start byte */
	ck_assert_int_eq(parse_copy(b, sizeof b, &a), IDS_EMALFORMED);
	ck_assert_int_eq(iec104_frame_len(b, 1, &len), IDS_EMALFORMED);
	b[0] = 0x68;
	b[1] = 0x03;				/* length below 4 */
	ck_assert_int_eq(iec104_frame_len(b, 2, &len), IDS_EMALFORMED);
	b[1] = 0xFE;				/* length above 253 */
	ck_assert_int_eq(iec104_frame_len(b, 2, &len), IDS_EMALFORMED);
	ck_assert_int_eq(parse_copy(b, sizeof b, &a), IDS_EMALFORMED);
	/* I frame with a 4-byte ASDU: shorter than its header */
	memcpy(b, sc_select, sizeof b);
	b[1] = 0x08;
	ck_assert_int_eq(parse_copy(b, 10, &a), IDS_EMALFORMED);
	/* I frame whose IOA is cut after two octets */
	b[1] = 0x0C;
	ck_assert_int_eq(parse_copy(b, 14, &a), IDS_EMALFORMED);
	ck_assert_int_eq(iec104_frame_len(b, 2, NULL), IDS_EINVAL);
	ck_assert_int_eq(iec104_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_malformed_su)
{
	static const uint8_t s_long[] = {
		0x68, 0x05,		/* length 5: S frames have 4 */
		0x01, 0x00, 0x02, 0x00,	/* S format */
		0x00,
	};
	static const uint8_t u_two[] = {
		0x68, 0x04,
		0x0F, 0x00, 0x00, 0x00,	/* STARTDT act + con at once */
	};
	static const uint8_t u_none[] = {
		0x68, 0x04,
		0x03, 0x00, 0x00, 0x00,	/* U format, no function */
	};
	struct iec104_apdu a;

	ck_assert_int_eq(parse_copy(s_long, sizeof s_long, &a),
	    IDS_EMALFORMED);
	ck_assert_int_eq(parse_copy(u_two, sizeof u_two, &a), IDS_EMALFORMED);
	ck_assert_int_eq(parse_copy(u_none, sizeof u_none, &a),
	    IDS_EMALFORMED);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof startdt_act + sizeof interrogation];
	struct iec104_apdu a;
	size_t len;

	ck_assert_int_eq(iec104_frame_len(sc_select, sizeof sc_select, &len),
	    0);
	ck_assert_uint_eq(len, sizeof sc_select);
	ck_assert_int_eq(iec104_frame_len(sc_select, 1, &len), IDS_EAGAIN);
	ck_assert_int_eq(iec104_frame_len(sc_select, 2, &len), 0);
	ck_assert_uint_eq(len, 16);
	memcpy(two, startdt_act, sizeof startdt_act);
	memcpy(two + sizeof startdt_act, interrogation, sizeof interrogation);
	ck_assert_int_eq(iec104_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(iec104_parse(two, sizeof two, &a), 0);
	ck_assert_int_eq(a.format, IEC104_FORMAT_U);
	ck_assert_int_eq(iec104_parse(two + len, sizeof two - len, &a), 0);
	ck_assert_uint_eq(a.type_id, IEC104_C_IC_NA_1);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(iec104_type_name(13), "M_ME_NC_1");
	ck_assert_str_eq(iec104_type_name(36), "M_ME_TF_1");
	ck_assert_str_eq(iec104_type_name(103), "C_CS_NA_1");
	ck_assert_str_eq(iec104_type_name(105), "C_RP_NA_1");
	ck_assert_str_eq(iec104_type_name(200), "unknown");
	ck_assert(iec104_type_is_command(45));
	ck_assert(iec104_type_is_command(64));
	ck_assert(iec104_type_is_command(69));
	ck_assert(!iec104_type_is_command(44));
	ck_assert(!iec104_type_is_command(70));
	ck_assert(!iec104_type_is_command(100));
	ck_assert(iec104_type_is_system_command(105));
	ck_assert(iec104_type_is_system_command(107));
	ck_assert(!iec104_type_is_system_command(70));
	ck_assert_str_eq(iec104_cot_name(6), "activation");
	ck_assert_str_eq(iec104_cot_name(20), "inrogen");
	ck_assert_str_eq(iec104_cot_name(25), "inro");
	ck_assert_str_eq(iec104_u_name(0x55), "unknown");
}
END_TEST

static Suite *
iec104_suite(void)
{
	Suite *s = suite_create("iec104_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_u_frames);
	tcase_add_test(tc, test_s_frame);
	tcase_add_test(tc, test_single_command);
	tcase_add_test(tc, test_interrogation);
	tcase_add_test(tc, test_setpoint);
	tcase_add_test(tc, test_double_command_time);
	tcase_add_test(tc, test_measured_sq);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_malformed_su);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(iec104_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
