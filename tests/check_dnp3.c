/*
 * check_dnp3.c - unit tests for the DNP3 parser (dissectors/dnp3.c).
 *
 * The class-poll fixture is a frame from dnp3-read-and-response.pcap; the
 * others were built with the CRC-16/DNP of tools/ics_traffic_gen.py so the
 * parser's CRC is checked against an independent implementation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/dnp3.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* READ class 1, 2, 3, 0 (master -> outstation 10) */
static const uint8_t read_req[] = {
	0x05, 0x64,		/* start */
	0x14,			/* length 20 */
	0xC4,			/* control: DIR PRM, unconfirmed user data */
	0x0A, 0x00,		/* destination 10 */
	0x01, 0x00,		/* source 1 */
	0x8F, 0xED,		/* header CRC */
	0xC0,			/* transport: FIN FIR, seq 0 */
	0xC0,			/* app control: FIR FIN, seq 0 */
	0x01,			/* function: READ */
	0x3C, 0x02, 0x06,	/* g60v2 class 1, all */
	0x3C, 0x03, 0x06,	/* g60v3 class 2, all */
	0x3C, 0x04, 0x06,	/* g60v4 class 3, all */
	0x3C, 0x01, 0x06,	/* g60v1 class 0, all */
	0x8A, 0x51,		/* block CRC */
};

/* RESPONSE with binary inputs and analog inputs, two data blocks */
static const uint8_t resp[] = {
	0x05, 0x64,		/* start */
	0x22,			/* length 34 */
	0x44,			/* control: PRM, unconfirmed user data */
	0x01, 0x00,		/* destination 1 */
	0x0A, 0x00,		/* source 10 */
	0x30, 0x4E,		/* header CRC */
	0xC3,			/* transport: FIN FIR, seq 3 */
	0xC5,			/* app control: FIR FIN, seq 5 */
	0x81,			/* function: RESPONSE */
	0x90, 0x00,		/* IIN1: device restart, need time; IIN2 */
	0x01, 0x02, 0x00,	/* g1v2, qualifier 0x00 */
	0x00, 0x03,		/* start 0, stop 3 */
	0x81, 0x01, 0x81, 0x01,	/* four flag octets */
	0x1E, 0x01,		/* g30v1 ... */
	0xD8, 0xE9,		/* block 1 CRC */
	0x00,			/* ... qualifier 0x00 */
	0x00, 0x01,		/* start 0, stop 1 */
	0x01, 0xD2, 0x04, 0x00, 0x00,	/* flags, 1234 */
	0x01, 0xFB, 0xFF, 0xFF, 0xFF,	/* flags, -5 */
	0x02, 0x78,		/* block 2 CRC */
};

/* DIRECT_OPERATE, CROB with 2-byte count and index prefix (0x28) */
static const uint8_t crob_req[] = {
	0x05, 0x64,		/* start */
	0x1A,			/* length 26 */
	0xC4,			/* control */
	0x0A, 0x00,		/* destination 10 */
	0x01, 0x00,		/* source 1 */
	0x8A, 0x1C,		/* header CRC */
	0xC0,			/* transport: FIN FIR, seq 0 */
	0xC0,			/* app control */
	0x05,			/* function: DIRECT_OPERATE */
	0x0C, 0x01, 0x28,	/* g12v1, qualifier 0x28 */
	0x01, 0x00,		/* count 1 */
	0x07, 0x00,		/* index 7 */
	0x03,			/* control code: latch on */
	0x01,			/* count */
	0x64, 0x00, 0x00, 0x00,	/* on time 100 ... */
	0xA3, 0x8F,		/* block 1 CRC */
	0x64, 0x00, 0x00, 0x00,	/* off time 100 */
	0x00,			/* status */
	0x00, 0x5B,		/* block 2 CRC */
};

/* COLD_RESTART, no objects */
static const uint8_t cold_req[] = {
	0x05, 0x64,		/* start */
	0x08,			/* length 8 */
	0xC4,			/* control */
	0x0A, 0x00,		/* destination 10 */
	0x01, 0x00,		/* source 1 */
	0xFC, 0x42,		/* header CRC */
	0xC1,			/* transport: FIN FIR, seq 1 */
	0xC2,			/* app control: FIR FIN, seq 2 */
	0x0D,			/* function: COLD_RESTART */
	0xC1, 0x84,		/* block CRC */
};

/* A middle transport segment: no application header */
static const uint8_t cont_seg[] = {
	0x05, 0x64,		/* start */
	0x16,			/* length 22 */
	0x44,			/* control */
	0x01, 0x00,		/* destination 1 */
	0x0A, 0x00,		/* source 10 */
	0x1D, 0x8A,		/* header CRC */
	0x02,			/* transport: not FIR, not FIN, seq 2 */
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,	/* fragment bytes */
	0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E,
	0x7B, 0xE2,		/* block 1 CRC */
	0x1F,			/* fragment byte */
	0x87, 0x31,		/* block 2 CRC */
};

/* Link-only: REQUEST_LINK_STATUS (dnp3-udp-read.pcap) */
static const uint8_t link_status[] = {
	0x05, 0x64,		/* start */
	0x05,			/* length 5: no user data */
	0x49,			/* control: PRM, FC 9 request link status */
	0x64, 0x00,		/* destination 100 */
	0x01, 0x00,		/* source 1 */
	0x7E, 0x5F,		/* header CRC */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(read_req), FIX(resp), FIX(crob_req), FIX(cold_req),
	FIX(cont_seg), FIX(link_status),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, struct dnp3_pdu *d)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = dnp3_parse(c, n, d);

	free(c);
	return rc;
}

START_TEST(test_crc)
{
	ck_assert_uint_eq(dnp3_crc((const uint8_t *)"123456789", 9), 0xEA82);
	ck_assert_uint_eq(dnp3_crc(read_req, 8), 0xED8F);
}
END_TEST

START_TEST(test_read_request)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(read_req, sizeof read_req, &d), 0);
	ck_assert_uint_eq(d.length, 20);
	ck_assert_uint_eq(d.frame_len, sizeof read_req);
	ck_assert(d.dir && d.prm && !d.fcb && !d.fcv);
	ck_assert_uint_eq(d.link_fc, DNP3_LINK_UNCONFIRMED_USER_DATA);
	ck_assert_uint_eq(d.dst, 10);
	ck_assert_uint_eq(d.src, 1);
	ck_assert_uint_eq(d.hdr_crc, 0xED8F);
	ck_assert(!d.bad_crc);
	ck_assert_uint_eq(d.user_len, 15);
	ck_assert(d.has_transport && d.tp_fir && d.tp_fin);
	ck_assert_uint_eq(d.tp_seq, 0);
	ck_assert(d.has_app && d.app_fir && d.app_fin);
	ck_assert(!d.app_con && !d.app_uns);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_READ);
	ck_assert(!d.has_iin);
	ck_assert_uint_eq(d.nobj, 4);
	ck_assert(!d.objects_truncated && !d.objects_more);
	ck_assert_uint_eq(d.obj[0].group, 60);
	ck_assert_uint_eq(d.obj[0].variation, 2);
	ck_assert_uint_eq(d.obj[0].qualifier, 0x06);
	ck_assert_uint_eq(d.obj[0].range_code, 6);
	ck_assert(!d.obj[0].has_range && !d.obj[0].has_count);
	ck_assert_uint_eq(d.obj[3].variation, 1);
	ck_assert_uint_eq(d.objects_off, 3);
	ck_assert_uint_eq(d.obj[1].offset, 6);
}
END_TEST

START_TEST(test_response)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(resp, sizeof resp, &d), 0);
	ck_assert(!d.dir && d.prm);
	ck_assert_uint_eq(d.src, 10);
	ck_assert_uint_eq(d.user_len, 29);
	ck_assert_uint_eq(d.tp_seq, 3);
	ck_assert_uint_eq(d.app_seq, 5);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_RESPONSE);
	ck_assert(d.has_iin);
	ck_assert_uint_eq(d.iin, DNP3_IIN_DEVICE_RESTART | DNP3_IIN_NEED_TIME);
	ck_assert_uint_eq(d.nobj, 2);
	ck_assert(!d.objects_truncated);
	ck_assert_uint_eq(d.obj[0].group, 1);
	ck_assert_uint_eq(d.obj[0].variation, 2);
	ck_assert(d.obj[0].has_range);
	ck_assert_uint_eq(d.obj[0].start, 0);
	ck_assert_uint_eq(d.obj[0].stop, 3);
	ck_assert_uint_eq(d.obj[0].count, 4);
	ck_assert_uint_eq(d.obj[1].group, 30);
	ck_assert_uint_eq(d.obj[1].count, 2);
	/* The CRC-free user data holds the second analog's value. */
	ck_assert_uint_eq(d.user[d.user_len - 4], 0xFB);
}
END_TEST

START_TEST(test_crob)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(crob_req, sizeof crob_req, &d), 0);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_DIRECT_OPERATE);
	ck_assert_uint_eq(d.nobj, 1);
	ck_assert(!d.objects_truncated);
	ck_assert_uint_eq(d.obj[0].group, 12);
	ck_assert_uint_eq(d.obj[0].variation, 1);
	ck_assert_uint_eq(d.obj[0].qualifier, 0x28);
	ck_assert_uint_eq(d.obj[0].prefix_code, 2);
	ck_assert_uint_eq(d.obj[0].range_code, 8);
	ck_assert(d.obj[0].has_count && !d.obj[0].has_range);
	ck_assert_uint_eq(d.obj[0].count, 1);
}
END_TEST

START_TEST(test_cold_restart)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(cold_req, sizeof cold_req, &d), 0);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_COLD_RESTART);
	ck_assert_uint_eq(d.tp_seq, 1);
	ck_assert_uint_eq(d.app_seq, 2);
	ck_assert_uint_eq(d.nobj, 0);
	ck_assert_str_eq(dnp3_fc_name(d.app_fc), "COLD_RESTART");
}
END_TEST

START_TEST(test_continuation)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(cont_seg, sizeof cont_seg, &d), 0);
	ck_assert(d.has_transport);
	ck_assert(!d.tp_fir && !d.tp_fin);
	ck_assert_uint_eq(d.tp_seq, 2);
	ck_assert(!d.has_app);
	ck_assert_uint_eq(d.user_len, 17);
	ck_assert_uint_eq(d.user[16], 0x1F);
}
END_TEST

START_TEST(test_link_only)
{
	struct dnp3_pdu d;

	ck_assert_int_eq(parse_copy(link_status, sizeof link_status, &d), 0);
	ck_assert(!d.dir && d.prm);
	ck_assert_uint_eq(d.link_fc, DNP3_LINK_REQUEST_LINK_STATUS);
	ck_assert_uint_eq(d.dst, 100);
	ck_assert_uint_eq(d.user_len, 0);
	ck_assert(!d.has_transport && !d.has_app);
	ck_assert_str_eq(dnp3_link_fc_name(true, 9), "REQUEST_LINK_STATUS");
	ck_assert_str_eq(dnp3_link_fc_name(false, 11), "LINK_STATUS");
}
END_TEST

START_TEST(test_fragment_first_segment)
{
	/* FIR without FIN: objects run on into the next segment. */
	uint8_t b[sizeof read_req];
	struct dnp3_pdu d;
	uint16_t crc;

	memcpy(b, read_req, sizeof b);
	b[10] = 0x40;				/* transport: FIR only */
	crc = dnp3_crc(b + 10, 15);
	b[25] = (uint8_t)crc;
	b[26] = (uint8_t)(crc >> 8);
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), 0);
	ck_assert(d.tp_fir && !d.tp_fin && d.has_app);
	ck_assert_uint_eq(d.nobj, 4);
	ck_assert(d.objects_truncated);
}
END_TEST

START_TEST(test_bad_crc)
{
	uint8_t b[sizeof resp];
	struct dnp3_pdu d;

	/* header CRC */
	memcpy(b, resp, sizeof b);
	b[8] ^= 0x01;
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert(d.bad_crc);
	ck_assert_uint_eq(d.bad_crc_block, DNP3_CRC_HEADER);
	/* a data byte in the second block */
	memcpy(b, resp, sizeof b);
	b[30] ^= 0x80;
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert(d.bad_crc);
	ck_assert_uint_eq(d.bad_crc_block, 2);
	/* the first block's CRC */
	memcpy(b, resp, sizeof b);
	b[27] ^= 0xFF;
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert_uint_eq(d.bad_crc_block, 1);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof link_status];
	struct dnp3_pdu d;
	size_t len;

	memcpy(b, link_status, sizeof b);
	b[1] = 0x65;				/* bad second start byte */
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert_int_eq(dnp3_frame_len(b, 2, &len), IDS_EMALFORMED);
	ck_assert(!d.bad_crc);
	b[1] = 0x64;
	b[0] = 0x06;				/* bad first start byte */
	ck_assert_int_eq(dnp3_frame_len(b, 1, &len), IDS_EMALFORMED);
	b[0] = 0x05;
	b[2] = 0x04;				/* length below 5 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &d), IDS_EMALFORMED);
	ck_assert_int_eq(dnp3_frame_len(b, 3, &len), IDS_EMALFORMED);
	ck_assert_int_eq(dnp3_frame_len(b, 3, NULL), IDS_EINVAL);
	ck_assert_int_eq(dnp3_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct dnp3_pdu d;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = dnp3_parse(c, k, &d);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = dnp3_frame_len(c, k, &flen);
	if (k < 3)
		ck_assert_int_eq(rc, IDS_EAGAIN);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(flen, fixtures[i].len);
	}
	ck_assert(!dnp3_probe(c, k));
	free(c);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof link_status + sizeof read_req];
	struct dnp3_pdu d;
	size_t len;

	ck_assert_int_eq(dnp3_frame_len(resp, sizeof resp, &len), 0);
	ck_assert_uint_eq(len, sizeof resp);
	ck_assert_int_eq(dnp3_frame_len(resp, 2, &len), IDS_EAGAIN);
	ck_assert_int_eq(dnp3_frame_len(resp, 3, &len), 0);
	ck_assert_uint_eq(len, sizeof resp);
	/* the largest frame: length 255 */
	{
		static const uint8_t big[] = { 0x05, 0x64, 0xFF };
		ck_assert_int_eq(dnp3_frame_len(big, 3, &len), 0);
		ck_assert_uint_eq(len, DNP3_FRAME_MAX);
	}
	memcpy(two, link_status, sizeof link_status);
	memcpy(two + sizeof link_status, read_req, sizeof read_req);
	ck_assert_int_eq(dnp3_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof link_status);
	ck_assert_int_eq(dnp3_parse(two, sizeof two, &d), 0);
	ck_assert_uint_eq(d.frame_len, len);
	ck_assert_int_eq(dnp3_parse(two + len, sizeof two - len, &d), 0);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_READ);
	ck_assert(dnp3_probe(two, sizeof two));
}
END_TEST

START_TEST(test_probe)
{
	uint8_t b[sizeof read_req];

	ck_assert(dnp3_probe(read_req, sizeof read_req));
	ck_assert(dnp3_probe(link_status, sizeof link_status));
	memcpy(b, read_req, sizeof b);
	b[4] ^= 1;				/* header CRC no longer matches */
	ck_assert(!dnp3_probe(b, sizeof b));
	ck_assert(!dnp3_probe(NULL, 0));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(dnp3_fc_name(0x01), "READ");
	ck_assert_str_eq(dnp3_fc_name(0x05), "DIRECT_OPERATE");
	ck_assert_str_eq(dnp3_fc_name(0x0E), "WARM_RESTART");
	ck_assert_str_eq(dnp3_fc_name(0x12), "STOP_APPL");
	ck_assert_str_eq(dnp3_fc_name(0x15), "DISABLE_UNSOLICITED");
	ck_assert_str_eq(dnp3_fc_name(0x82), "UNSOLICITED_RESPONSE");
	ck_assert_str_eq(dnp3_fc_name(0x7F), "UNKNOWN");
}
END_TEST

/* A link frame (CRC per 16-octet block) around user data u. */
static size_t
wrap(const uint8_t *u, size_t n, uint8_t *out)
{
	size_t o = 10, i, k;
	uint16_t crc;

	out[0] = 0x05;
	out[1] = 0x64;
	out[2] = (uint8_t)(5 + n);
	out[3] = 0xC4;				/* DIR, PRM, unconfirmed data */
	out[4] = 10;
	out[5] = 0;
	out[6] = 1;
	out[7] = 0;
	crc = dnp3_crc(out, 8);
	out[8] = (uint8_t)crc;
	out[9] = (uint8_t)(crc >> 8);
	for (i = 0; i < n; i += 16) {
		k = n - i < 16 ? n - i : 16;
		memcpy(out + o, u + i, k);
		crc = dnp3_crc(u + i, k);
		out[o + k] = (uint8_t)crc;
		out[o + k + 1] = (uint8_t)(crc >> 8);
		o += k + 2;
	}
	return o;
}

/* OPEN_FILE: g70v3, qualifier 0x5B, one object of 26 + 8 octets */
static const uint8_t open_write[] = {
	0xC0, 0xC3, 0x19,			/* transport, app control, fc */
	70, 3, 0x5B, 1, 34, 0,			/* header, count, object size */
	26, 0, 8, 0,				/* name offset, name size */
	0, 0, 0, 0, 0, 0,			/* time of creation */
	0xFF, 0x01, 0, 0, 0, 0,			/* permissions, auth key */
	0x00, 0x10, 0, 0,			/* file size 4096 */
	0x02, 0x00, 0x00, 0x04, 0x07, 0x00,	/* mode write, block, req */
	'/', 'f', 'w', '/', 'a', '.', 'h', 'x',
};

START_TEST(test_file_command)
{
	uint8_t u[sizeof open_write], f[128];
	struct dnp3_file_cmd fc;
	struct dnp3_pdu d;
	size_t n;

	n = wrap(open_write, sizeof open_write, f);
	ck_assert_int_eq(parse_copy(f, n, &d), 0);
	ck_assert_uint_eq(d.app_fc, DNP3_FC_OPEN_FILE);
	ck_assert(dnp3_file_command(&d, &fc));
	ck_assert_uint_eq(fc.mode, DNP3_FILE_WRITE);
	ck_assert_uint_eq(fc.file_size, 4096);
	ck_assert_uint_eq(fc.name_len, 8);
	ck_assert_mem_eq(fc.name, "/fw/a.hx", 8);

	/* mode read; a name offset past the object leaves no name */
	memcpy(u, open_write, sizeof u);
	u[29] = 0x01;				/* mode: read */
	u[9] = 40;
	n = wrap(u, sizeof u, f);
	ck_assert_int_eq(parse_copy(f, n, &d), 0);
	ck_assert(dnp3_file_command(&d, &fc));
	ck_assert_uint_eq(fc.mode, DNP3_FILE_READ);
	ck_assert_ptr_null(fc.name);

	/* an object size beyond the fragment: not decoded */
	memcpy(u, open_write, sizeof u);
	u[7] = 60;
	n = wrap(u, sizeof u, f);
	ck_assert_int_eq(parse_copy(f, n, &d), 0);
	ck_assert(!dnp3_file_command(&d, &fc));
	ck_assert_uint_eq(fc.mode, 0);

	/* no g70 object at all */
	n = wrap(open_write, 3, f);
	ck_assert_int_eq(parse_copy(f, n, &d), 0);
	ck_assert(!dnp3_file_command(&d, &fc));
	ck_assert(!dnp3_file_command(NULL, &fc));
}
END_TEST

static Suite *
dnp3_suite(void)
{
	Suite *s = suite_create("dnp3_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_crc);
	tcase_add_test(tc, test_read_request);
	tcase_add_test(tc, test_response);
	tcase_add_test(tc, test_crob);
	tcase_add_test(tc, test_cold_restart);
	tcase_add_test(tc, test_continuation);
	tcase_add_test(tc, test_link_only);
	tcase_add_test(tc, test_fragment_first_segment);
	tcase_add_test(tc, test_bad_crc);
	tcase_add_test(tc, test_malformed);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_file_command);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dnp3_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
