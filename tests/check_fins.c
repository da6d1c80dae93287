/* check_fins.c - unit tests of the Omron FINS parser (dissectors/fins.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/fins.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* FINS/TCP frame carrying a STOP command. */
static const uint8_t tcp_stop[] = {
	'F', 'I', 'N', 'S',		/* magic */
	0x00, 0x00, 0x00, 0x14,		/* length: 8 + 12 */
	0x00, 0x00, 0x00, 0x02,		/* command: FINS frame send */
	0x00, 0x00, 0x00, 0x00,		/* error code */
	0x80,				/* ICF: command, response required */
	0x00,				/* RSV */
	0x02,				/* GCT */
	0x00, 0x0a, 0x00,		/* DNA DA1 DA2 */
	0x00, 0x22, 0x00,		/* SNA SA1 SA2 */
	0x07,				/* SID */
	0x04, 0x02,			/* MRC SRC: STOP */
};

/* UDP FINS memory area write of one word to DM 100. */
static const uint8_t udp_write[] = {
	0x80, 0x00, 0x02,		/* ICF RSV GCT */
	0x00, 0x01, 0x00,		/* DNA DA1 DA2 */
	0x00, 0x05, 0x00,		/* SNA SA1 SA2 */
	0x11,				/* SID */
	0x01, 0x02,			/* MRC SRC: memory area write */
	0x82,				/* area: DM word */
	0x00, 0x64,			/* address 100 */
	0x00,				/* bit */
	0x00, 0x01,			/* count 1 */
	0x12, 0x34,			/* data */
};

/* UDP FINS response to a RUN command. */
static const uint8_t udp_run_resp[] = {
	0xc0, 0x00, 0x02,		/* ICF: response */
	0x00, 0x05, 0x00,		/* DNA DA1 DA2 */
	0x00, 0x01, 0x00,		/* SNA SA1 SA2 */
	0x11,				/* SID */
	0x04, 0x01,			/* MRC SRC: RUN */
	0x00, 0x00,			/* end code: normal */
};


START_TEST(test_tcp_stop)
{
	struct fins_pdu m;
	size_t len;

	ck_assert_int_eq(fins_frame_len(tcp_stop, sizeof(tcp_stop), &len), 0);
	ck_assert_uint_eq(len, sizeof(tcp_stop));
	ck_assert_int_eq(fins_parse(tcp_stop, sizeof(tcp_stop), true, &m), 0);
	ck_assert(m.tcp);
	ck_assert_uint_eq(m.tcp_cmd, 2);
	ck_assert(m.has_frame);
	ck_assert(!m.response);
	ck_assert_uint_eq(m.cmd, FINS_STOP);
	ck_assert_uint_eq(m.da1, 0x0a);
	ck_assert_uint_eq(m.sa1, 0x22);
	ck_assert_uint_eq(m.sid, 7);
	ck_assert_str_eq(fins_cmd_name(m.cmd), "STOP");
}
END_TEST

START_TEST(test_udp_write)
{
	struct fins_pdu m;

	ck_assert(fins_probe(udp_write, sizeof(udp_write)));
	ck_assert_int_eq(fins_parse(udp_write, sizeof(udp_write), false, &m), 0);
	ck_assert_uint_eq(m.cmd, FINS_MEM_WRITE);
	ck_assert(m.has_area);
	ck_assert_uint_eq(m.area, 0x82);
	ck_assert_uint_eq(m.address, 100);
	ck_assert_uint_eq(m.count, 1);
}
END_TEST

START_TEST(test_udp_response)
{
	struct fins_pdu m;

	ck_assert_int_eq(fins_parse(udp_run_resp, sizeof(udp_run_resp), false,
	    &m), 0);
	ck_assert(m.response);
	ck_assert_uint_eq(m.cmd, FINS_RUN);
	ck_assert_uint_eq(m.end_code, 0);
}
END_TEST

START_TEST(test_bad_magic)
{
	uint8_t b[sizeof(tcp_stop)];
	struct fins_pdu m;
	size_t len;

	memcpy(b, tcp_stop, sizeof(b));
	b[0] = 'X';
	ck_assert_int_eq(fins_frame_len(b, sizeof(b), &len), IDS_EMALFORMED);
	ck_assert_int_eq(fins_parse(b, sizeof(b), true, &m), IDS_EMALFORMED);
	ck_assert(!fins_probe((const uint8_t *)"GET / HTTP/1.0\r\n", 16));
}
END_TEST

/* Every strict prefix of each fixture is refused cleanly. */
START_TEST(test_prefixes)
{
	static const struct {
		const uint8_t	*p;
		size_t		 n;
		bool		 tcp;
	} fx[] = {
		{ tcp_stop, sizeof(tcp_stop), true },
		{ udp_run_resp, sizeof(udp_run_resp), false },
	};
	size_t k, len;

	for (k = 0; k < sizeof(fx) / sizeof(fx[0]); k++) {
		uint8_t *c;
		struct fins_pdu m;
		int rc;

		if ((size_t)_i >= fx[k].n)
			continue;
		c = tu_dup_exact(fx[k].p, (size_t)_i);
		rc = fins_parse(c, (size_t)_i, fx[k].tcp, &m);
		ck_assert_int_lt(rc, 0);
		if (fx[k].tcp) {
			rc = fins_frame_len(c, (size_t)_i, &len);
			ck_assert(rc == IDS_EAGAIN || (rc == 0 && len > (size_t)_i));
		}
		free(c);
	}
}
END_TEST

static Suite *
fins_suite(void)
{
	Suite *s = suite_create("fins");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_tcp_stop);
	tcase_add_test(tc, test_udp_write);
	tcase_add_test(tc, test_udp_response);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)sizeof(tcp_stop));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fins_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
