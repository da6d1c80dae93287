/*
 * check_goose.c - unit tests for the BER reader and the IEC 61850 GOOSE
 * and Sampled Values parsers (dissectors/ber.c, goose.c, sv.c).
 *
 * The GOOSE fixture is frame 1 of goose-icsnpp.pcap, the SV fixture frame
 * 1 of sv-iec61850-9-2.pcap (bytes after the EtherType).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/ber.h"
#include "dissectors/goose.h"
#include "dissectors/sv.h"
#include "lib/ids.h"
#include "testutil.h"

/* GOOSE, goose-icsnpp.pcap frame 1 (GE F650) */
static const uint8_t goose[] = {
	0x00, 0x01,		/* APPID 1 */
	0x00, 0x91,		/* Length 145 */
	0x00, 0x00,		/* Reserved 1 (not simulated) */
	0x00, 0x00,		/* Reserved 2 */
	0x61, 0x81, 0x86,	/* goosePdu, 134 octets */
	0x80, 0x1a,		/* [0] gocbRef, 26 */
	'G', 'E', 'D', 'e', 'v', 'i', 'c', 'e', 'F', '6', '5', '0', '/',
	'L', 'L', 'N', '0', '$', 'G', 'O', '$', 'g', 'c', 'b', '0', '1',
	0x81, 0x03, 0x00, 0x9c, 0x40,	/* [1] timeAllowedtoLive 40000 */
	0x82, 0x18,		/* [2] datSet, 24 */
	'G', 'E', 'D', 'e', 'v', 'i', 'c', 'e', 'F', '6', '5', '0', '/',
	'L', 'L', 'N', '0', '$', 'G', 'O', 'O', 'S', 'E', '1',
	0x83, 0x0b,		/* [3] goID, 11 */
	'F', '6', '5', '0', '_', 'G', 'O', 'O', 'S', 'E', '1',
	0x84, 0x08,		/* [4] t: seconds, fraction, quality */
	0x38, 0x6e, 0xbb, 0xf3, 0x42, 0x17, 0x28, 0x0a,
	0x85, 0x01, 0x01,	/* [5] stNum 1 */
	0x86, 0x01, 0x0a,	/* [6] sqNum 10 */
	0x87, 0x01, 0x00,	/* [7] simulation false */
	0x88, 0x01, 0x01,	/* [8] confRev 1 */
	0x89, 0x01, 0x00,	/* [9] ndsCom false */
	0x8a, 0x01, 0x08,	/* [10] numDatSetEntries 8 */
	0xab, 0x20,		/* [11] allData, 32 octets */
	0x83, 0x01, 0x00,	/* boolean false */
	0x84, 0x03, 0x03, 0x00, 0x00,	/* bit-string, 3 unused bits */
	0x83, 0x01, 0x00,
	0x84, 0x03, 0x03, 0x00, 0x00,
	0x83, 0x01, 0x00,
	0x84, 0x03, 0x03, 0x00, 0x00,
	0x83, 0x01, 0x00,
	0x84, 0x03, 0x03, 0x00, 0x00,
};

/* A hand-made GOOSE with numbers, simulation and a trip (Ed. 2 S bit) */
static const uint8_t goose_num[] = {
	0x30, 0x01,		/* APPID 0x3001 */
	0x00, 0x3a,		/* Length 58 */
	0x80, 0x00,		/* Reserved 1: simulated */
	0x00, 0x00,		/* Reserved 2 */
	0x61, 0x30,		/* goosePdu, 48 octets */
	0x80, 0x03, 'I', 'E', 'D',	/* [0] gocbRef "IED" */
	0x85, 0x04, 0x00, 0x80, 0x00, 0x00,	/* [5] stNum 8388608 */
	0x86, 0x01, 0x00,	/* [6] sqNum 0 */
	0x87, 0x01, 0xff,	/* [7] simulation true */
	0x88, 0x02, 0x01, 0x00,	/* [8] confRev 256 */
	0x8a, 0x01, 0x04,	/* [10] numDatSetEntries 4 */
	0xab, 0x16,		/* [11] allData */
	0x83, 0x01, 0x01,	/* boolean true */
	0x85, 0x01, 0xfe,	/* integer -2 */
	0x86, 0x02, 0x00, 0xff,	/* unsigned 255 */
	0x87, 0x05, 0x08, 0x3f, 0xc0, 0x00, 0x00,	/* float 1.5 */
	0xa2, 0x03, 0x83, 0x01, 0x00,	/* structure { false } */
};

/* SV, sv-iec61850-9-2.pcap frame 1 */
static const uint8_t sv[] = {
	0x40, 0x01,		/* APPID 0x4001 */
	0x00, 0x66,		/* Length 102 */
	0x00, 0x00, 0x00, 0x00,	/* Reserved 1, 2 */
	0x60, 0x5c,		/* savPdu, 92 */
	0x80, 0x01, 0x01,	/* [0] noASDU 1 */
	0xa2, 0x57,		/* [2] seqASDU */
	0x30, 0x55,		/* ASDU */
	0x80, 0x04, '4', '0', '0', '1',	/* [0] svID "4001" */
	0x82, 0x02, 0x01, 0x18,	/* [2] smpCnt 280 */
	0x83, 0x04, 0x00, 0x00, 0x00, 0x01,	/* [3] confRev 1 */
	0x85, 0x01, 0x02,	/* [5] smpSynch global */
	0x87, 0x40,		/* [7] seqData, 64 octets (8 x value+q) */
	0xff, 0xfe, 0x59, 0x82, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x04, 0x3d, 0xdc, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xfd, 0x6f, 0x5c, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x06, 0xba, 0x00, 0x00, 0x20, 0x00,
	0xff, 0x8d, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x1d, 0xfb, 0xc2, 0x00, 0x00, 0x00, 0x00,
	0xff, 0x55, 0x60, 0x0c, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x4f, 0xce, 0x00, 0x00, 0x20, 0x00,
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	int		 kind;	/* 0 GOOSE, 1 SV */
};

static const struct fixture fixtures[] = {
	{ "goose", goose, sizeof goose, 0 },
	{ "goose_num", goose_num, sizeof goose_num, 0 },
	{ "sv", sv, sizeof sv, 1 },
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

static bool
streq(const uint8_t *p, size_t n, const char *s)
{
	return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

START_TEST(test_ber)
{
	static const uint8_t high[] = { 0xbf, 0x81, 0x00, 0x02, 0x01, 0x02 };
	static const uint8_t longlen[] = { 0x04, 0x82, 0x00, 0x01, 0xaa };
	static const uint8_t indef[] = { 0x30, 0x80, 0x00, 0x00 };
	static const uint8_t five[] = { 0x04, 0x85, 0, 0, 0, 0, 1, 0 };
	static const uint8_t bigtag[] = { 0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t u9[] = { 0x02, 0x09, 0x00, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t neg[] = { 0x02, 0x01, 0x80 };
	struct ber_tlv t;
	uint64_t u;
	int64_t i;
	struct rd r;

	rd_init(&r, high, sizeof high);
	ck_assert_int_eq(ber_next(&r, &t), 0);
	ck_assert_uint_eq(t.cls, BER_CLASS_CONTEXT);
	ck_assert(t.constructed);
	ck_assert_uint_eq(t.tag, 128);
	ck_assert_uint_eq(t.hdr_len, 4);
	ck_assert_uint_eq(t.len, 2);
	ck_assert_uint_eq(rd_left(&r), 0);

	rd_init(&r, longlen, sizeof longlen);
	ck_assert_int_eq(ber_next(&r, &t), 0);
	ck_assert_uint_eq(t.len, 1);
	ck_assert_uint_eq(t.hdr_len, 4);
	rd_init(&r, longlen, 4);
	ck_assert_int_eq(ber_next(&r, &t), IDS_ETRUNC);
	rd_init(&r, longlen, 3);
	ck_assert_int_eq(ber_next(&r, &t), IDS_ETRUNC);
	rd_init(&r, indef, sizeof indef);
	ck_assert_int_eq(ber_next(&r, &t), IDS_EMALFORMED);
	rd_init(&r, five, sizeof five);
	ck_assert_int_eq(ber_next(&r, &t), IDS_EMALFORMED);
	rd_init(&r, bigtag, sizeof bigtag);
	ck_assert_int_eq(ber_next(&r, &t), IDS_EMALFORMED);

	rd_init(&r, u9, sizeof u9);
	ck_assert_int_eq(ber_next(&r, &t), 0);
	ck_assert_int_eq(ber_uint(&t, &u), 0);
	ck_assert(u == UINT64_MAX);
	ck_assert_int_eq(ber_int(&t, &i), IDS_EMALFORMED);
	rd_init(&r, neg, sizeof neg);
	ck_assert_int_eq(ber_next(&r, &t), 0);
	ck_assert_int_eq(ber_uint(&t, &u), IDS_EMALFORMED);
	ck_assert_int_eq(ber_int(&t, &i), 0);
	ck_assert_int_eq(i, -128);
}
END_TEST

START_TEST(test_goose_fields)
{
	struct goose_pdu g;
	uint8_t *c = tu_dup_exact(goose, sizeof goose);
	unsigned k;

	ck_assert_int_eq(goose_parse(c, sizeof goose, &g), 0);
	ck_assert_uint_eq(g.hdr.appid, 1);
	ck_assert_uint_eq(g.hdr.length, 145);
	ck_assert_uint_eq(g.frame_len, 145);
	ck_assert(!g.hdr.simulated);
	ck_assert(streq(g.gocb_ref, g.gocb_ref_len,
	    "GEDeviceF650/LLN0$GO$gcb01"));
	ck_assert(streq(g.dat_set, g.dat_set_len,
	    "GEDeviceF650/LLN0$GOOSE1"));
	ck_assert(streq(g.go_id, g.go_id_len, "F650_GOOSE1"));
	ck_assert_uint_eq(g.tal_ms, 40000);
	ck_assert_uint_eq(g.t_sec, 0x386ebbf3);
	ck_assert_uint_eq(g.t_frac, 0x421728);
	ck_assert_uint_eq(g.t_quality, 0x0a);
	ck_assert_uint_eq(g.st_num, 1);
	ck_assert_uint_eq(g.sq_num, 10);
	ck_assert(!g.simulation);
	ck_assert_uint_eq(g.conf_rev, 1);
	ck_assert(!g.nds_com);
	ck_assert_uint_eq(g.num_entries, 8);
	ck_assert_uint_eq(g.n_values, 8);
	for (k = 0; k < 8; k++)
		ck_assert_uint_eq(g.values[k].type, k % 2 == 0 ?
		    GOOSE_DATA_BOOLEAN : GOOSE_DATA_BITSTRING);
	ck_assert_int_eq(g.values[0].i, 0);
	ck_assert_int_eq(g.values[1].i, 0);
	ck_assert_str_eq(goose_data_type_name(g.values[1].type), "bit-string");
	free(c);
}
END_TEST

START_TEST(test_goose_numbers)
{
	struct goose_pdu g, g2;
	uint8_t b[sizeof goose_num];

	ck_assert_int_eq(goose_parse(goose_num, sizeof goose_num, &g), 0);
	ck_assert_uint_eq(g.hdr.appid, 0x3001);
	ck_assert(g.hdr.simulated);
	ck_assert(g.simulation);
	ck_assert(g.go_id == NULL);
	ck_assert_uint_eq(g.st_num, 8388608);
	ck_assert_uint_eq(g.sq_num, 0);
	ck_assert_uint_eq(g.conf_rev, 256);
	ck_assert_uint_eq(g.n_values, 5);
	ck_assert_uint_eq(g.num_entries, 4);
	ck_assert_int_eq(g.values[0].i, 1);
	ck_assert_int_eq(g.values[1].type, GOOSE_DATA_INTEGER);
	ck_assert_int_eq(g.values[1].i, -2);
	ck_assert_int_eq(g.values[2].i, 255);
	ck_assert(g.values[3].f == 1.5);
	ck_assert_int_eq(g.values[4].type, GOOSE_DATA_STRUCTURE);
	ck_assert_int_eq(g.values[4].i, 1);
	/* the data hash follows the values, not the header */
	memcpy(b, goose_num, sizeof b);
	b[17] = 0x05;			/* another stNum */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g2), 0);
	ck_assert(g2.data_hash == g.data_hash);
	b[38] = 0x00;			/* the boolean goes false: a trip */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g2), 0);
	ck_assert(g2.data_hash != g.data_hash);
}
END_TEST

START_TEST(test_goose_malformed)
{
	uint8_t b[sizeof goose_num];
	struct goose_pdu g;
	struct iec61850_hdr h;

	memcpy(b, goose_num, sizeof b);
	b[3] = 0x07;			/* Length 7 < header */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	ck_assert_int_eq(goose_hdr(b, sizeof b, &h), IDS_EMALFORMED);
	memcpy(b, goose_num, sizeof b);
	b[8] = 0x60;			/* not [APPLICATION 1] */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	memcpy(b, goose_num, sizeof b);
	b[9] = 0x31;			/* PDU longer than Length */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	memcpy(b, goose_num, sizeof b);
	b[10] = 0x81;			/* gocbRef missing ([1] twice...) */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	memcpy(b, goose_num, sizeof b);
	b[15] = 0x86;			/* stNum missing, sqNum twice */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	memcpy(b, goose_num, sizeof b);
	b[16] = 0x05;			/* stNum 5 octets: above 2^32 */
	b[15] = 0x85;
	ck_assert_int_ne(goose_parse(b, sizeof b, &g), 0);
	memcpy(b, goose_num, sizeof b);
	b[48] = 0x06;			/* float with exponent width 6 */
	ck_assert_int_eq(goose_parse(b, sizeof b, &g), IDS_EMALFORMED);
	ck_assert_int_eq(goose_parse(b, sizeof b, NULL), IDS_EINVAL);
	/* Ethernet padding after Length is ignored */
	{
		uint8_t pad[sizeof goose_num + 6];

		memset(pad, 0, sizeof pad);
		memcpy(pad, goose_num, sizeof goose_num);
		ck_assert_int_eq(goose_parse(pad, sizeof pad, &g), 0);
		ck_assert_uint_eq(g.frame_len, sizeof goose_num);
	}
}
END_TEST

START_TEST(test_sv_fields)
{
	uint8_t *c = tu_dup_exact(sv, sizeof sv);
	struct sv_pdu s;

	ck_assert_int_eq(sv_parse(c, sizeof sv, &s), 0);
	ck_assert_uint_eq(s.hdr.appid, 0x4001);
	ck_assert_uint_eq(s.frame_len, 102);
	ck_assert_uint_eq(s.no_asdu, 1);
	ck_assert_uint_eq(s.n_asdu, 1);
	ck_assert(streq(s.asdu[0].sv_id, s.asdu[0].sv_id_len, "4001"));
	ck_assert(s.asdu[0].dat_set == NULL);
	ck_assert_uint_eq(s.asdu[0].smp_cnt, 280);
	ck_assert_uint_eq(s.asdu[0].conf_rev, 1);
	ck_assert_uint_eq(s.asdu[0].smp_synch, 2);
	ck_assert(!s.asdu[0].has_smp_rate);
	ck_assert_uint_eq(s.asdu[0].data_len, 64);
	free(c);
}
END_TEST

START_TEST(test_sv_malformed)
{
	uint8_t b[sizeof sv];
	struct sv_pdu s;

	memcpy(b, sv, sizeof b);
	b[12] = 0x02;			/* noASDU 2, one present */
	ck_assert_int_eq(sv_parse(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, sv, sizeof b);
	b[12] = 0x00;			/* noASDU 0 */
	ck_assert_int_eq(sv_parse(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, sv, sizeof b);
	b[23] = 0x8f;			/* smpCnt tag -> unknown: missing */
	ck_assert_int_eq(sv_parse(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, sv, sizeof b);
	b[8] = 0x61;			/* a GOOSE PDU tag */
	ck_assert_int_eq(sv_parse(b, sizeof b, &s), IDS_EMALFORMED);
	ck_assert_int_eq(sv_parse(sv, sizeof sv, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i;
	struct goose_pdu g;
	struct sv_pdu s;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = fixtures[i].kind == 0 ? goose_parse(c, k, &g) :
	    sv_parse(c, k, &s);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	free(c);
}
END_TEST

static Suite *
goose_suite(void)
{
	Suite *s = suite_create("goose_sv");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_ber);
	tcase_add_test(tc, test_goose_fields);
	tcase_add_test(tc, test_goose_numbers);
	tcase_add_test(tc, test_goose_malformed);
	tcase_add_test(tc, test_sv_fields);
	tcase_add_test(tc, test_sv_malformed);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(goose_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
