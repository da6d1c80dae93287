/*
 * check_modbus.c - unit tests for the Modbus/TCP parser (dissectors/modbus.c).
 *
 * Fixtures follow the examples of the MODBUS Application Protocol
 * Specification V1.1b3 where it has one; each byte array carries one
 * comment per field.  Every fixture is also fed to the parser at every
 * shorter length from an exact-size heap copy, so ASan catches over-reads.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"
#include "dissectors/modbus.h"
#include "tests/testutil.h"

/* Read Holding Registers request (spec 6.3 example) */
static const uint8_t read_req[] = {
	0x00, 0x01,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x06,		/* length */
	0x11,			/* unit id */
	0x03,			/* fc: read holding registers */
	0x00, 0x6B,		/* starting address 107 */
	0x00, 0x03,		/* quantity 3 */
};

/* ... and its response */
static const uint8_t read_resp[] = {
	0x00, 0x01,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x09,		/* length */
	0x11,			/* unit id */
	0x03,			/* fc */
	0x06,			/* byte count */
	0x02, 0x2B,		/* register 107 */
	0x00, 0x00,		/* register 108 */
	0x00, 0x64,		/* register 109 */
};

/* Write Single Coil request (spec 6.5) */
static const uint8_t coil_req[] = {
	0x12, 0x34,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x06,		/* length */
	0x01,			/* unit id */
	0x05,			/* fc: write single coil */
	0x00, 0xAC,		/* output address 172 */
	0xFF, 0x00,		/* value: ON */
};

/* Write Multiple Registers request (spec 6.12) */
static const uint8_t wmr_req[] = {
	0x00, 0x02,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x0B,		/* length */
	0x01,			/* unit id */
	0x10,			/* fc: write multiple registers */
	0x00, 0x01,		/* starting address 1 */
	0x00, 0x02,		/* quantity 2 */
	0x04,			/* byte count */
	0x00, 0x0A,		/* register 1 */
	0x01, 0x02,		/* register 2 */
};

/* Write Multiple Coils request (spec 6.11) */
static const uint8_t wmc_req[] = {
	0x00, 0x03,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x09,		/* length */
	0x01,			/* unit id */
	0x0F,			/* fc: write multiple coils */
	0x00, 0x13,		/* starting address 19 */
	0x00, 0x0A,		/* quantity 10 */
	0x02,			/* byte count */
	0xCD, 0x01,		/* outputs */
};

/* Mask Write Register request (spec 6.16) */
static const uint8_t mask_req[] = {
	0x00, 0x04,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x08,		/* length */
	0x01,			/* unit id */
	0x16,			/* fc: mask write register */
	0x00, 0x04,		/* reference address 4 */
	0x00, 0xF2,		/* AND mask */
	0x00, 0x25,		/* OR mask */
};

/* Read/Write Multiple Registers request (spec 6.17) */
static const uint8_t rw_req[] = {
	0x00, 0x05,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x11,		/* length */
	0x01,			/* unit id */
	0x17,			/* fc: read/write multiple registers */
	0x00, 0x03,		/* read starting address 3 */
	0x00, 0x06,		/* quantity to read 6 */
	0x00, 0x0E,		/* write starting address 14 */
	0x00, 0x03,		/* quantity to write 3 */
	0x06,			/* write byte count */
	0x00, 0xFF,		/* write register 14 */
	0x00, 0xFF,		/* write register 15 */
	0x00, 0xFF,		/* write register 16 */
};

/* Diagnostics: force listen only mode */
static const uint8_t diag_req[] = {
	0x00, 0x06,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x06,		/* length */
	0x01,			/* unit id */
	0x08,			/* fc: diagnostics */
	0x00, 0x04,		/* sub-function: force listen only */
	0x00, 0x00,		/* data */
};

/* Exception response to fc 3: illegal data address */
static const uint8_t exc_resp[] = {
	0x00, 0x07,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x03,		/* length */
	0x0A,			/* unit id */
	0x83,			/* fc 3 | exception bit */
	0x02,			/* exception code */
};

/* Read Device Identification request, basic category */
static const uint8_t devid_req[] = {
	0x00, 0x08,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x05,		/* length */
	0x01,			/* unit id */
	0x2B,			/* fc 43 */
	0x0E,			/* MEI: read device identification */
	0x01,			/* read device id code: basic */
	0x00,			/* object id: vendor name */
};

/* ... and its response with three objects */
static const uint8_t devid_resp[] = {
	0x00, 0x08,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x1C,		/* length 28 */
	0x01,			/* unit id */
	0x2B,			/* fc 43 */
	0x0E,			/* MEI */
	0x01,			/* read device id code */
	0x01,			/* conformity level */
	0x00,			/* more follows: no */
	0x00,			/* next object id */
	0x03,			/* number of objects */
	0x00, 0x07,		/* object 0 (vendor name), length 7 */
	'S', 'c', 'h', 'n', 'e', 'i', 'd',
	0x01, 0x03,		/* object 1 (product code), length 3 */
	'M', '3', '4',
	0x02, 0x04,		/* object 2 (revision), length 4 */
	'v', '3', '.', '1',
};

/* UMAS (fc 90) Stop PLC request */
static const uint8_t umas_req[] = {
	0x00, 0x09,		/* transaction id */
	0x00, 0x00,		/* protocol id */
	0x00, 0x06,		/* length */
	0x00,			/* unit id */
	0x5A,			/* fc 90: UMAS */
	0x1F,			/* session key */
	0x41,			/* UMAS function: stop PLC */
	0xFF, 0xFF,		/* block number */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	enum modbus_dir	 dir;
};

#define FIX(a, d)	{ #a, a, sizeof(a), d }
static const struct fixture fixtures[] = {
	FIX(read_req, MODBUS_REQUEST), FIX(read_resp, MODBUS_RESPONSE),
	FIX(coil_req, MODBUS_REQUEST), FIX(wmr_req, MODBUS_REQUEST),
	FIX(wmc_req, MODBUS_REQUEST), FIX(mask_req, MODBUS_REQUEST),
	FIX(rw_req, MODBUS_REQUEST), FIX(diag_req, MODBUS_REQUEST),
	FIX(exc_resp, MODBUS_RESPONSE), FIX(devid_req, MODBUS_REQUEST),
	FIX(devid_resp, MODBUS_RESPONSE), FIX(umas_req, MODBUS_REQUEST),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, enum modbus_dir dir,
    struct modbus_pdu *m)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = modbus_parse(c, n, dir, m);

	free(c);
	return rc;
}

START_TEST(test_read_request)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(read_req, sizeof read_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.tid, 1);
	ck_assert_uint_eq(m.proto_id, 0);
	ck_assert_uint_eq(m.length, 6);
	ck_assert_uint_eq(m.unit, 0x11);
	ck_assert_uint_eq(m.fc, MODBUS_FC_READ_HOLDING_REGISTERS);
	ck_assert(!m.exception);
	ck_assert(m.has_range);
	ck_assert_uint_eq(m.address, 107);
	ck_assert_uint_eq(m.quantity, 3);
	ck_assert(!m.has_values);
	ck_assert_uint_eq(m.adu_len, sizeof read_req);
	ck_assert(!m.oversize);
}
END_TEST

START_TEST(test_read_response)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(read_resp, sizeof read_resp,
	    MODBUS_RESPONSE, &m), 0);
	ck_assert_uint_eq(m.fc, 3);
	ck_assert(m.has_values);
	ck_assert_uint_eq(m.byte_count, 6);
	ck_assert_uint_eq(m.values_len, 6);
	ck_assert(!m.has_range);
	/* values point into the input: check against the fixture itself */
	ck_assert_int_eq(modbus_parse(read_resp, sizeof read_resp,
	    MODBUS_RESPONSE, &m), 0);
	ck_assert_ptr_eq(m.values, read_resp + 9);
}
END_TEST

START_TEST(test_write_single_coil)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(coil_req, sizeof coil_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.tid, 0x1234);
	ck_assert_uint_eq(m.fc, MODBUS_FC_WRITE_SINGLE_COIL);
	ck_assert(m.has_range && m.has_value);
	ck_assert_uint_eq(m.address, 172);
	ck_assert_uint_eq(m.quantity, 1);
	ck_assert_uint_eq(m.value, 0xFF00);
	/* The echo response has the same layout. */
	ck_assert_int_eq(parse_copy(coil_req, sizeof coil_req,
	    MODBUS_RESPONSE, &m), 0);
	ck_assert_uint_eq(m.value, 0xFF00);
}
END_TEST

START_TEST(test_write_multiple)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(wmr_req, sizeof wmr_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, 16);
	ck_assert_uint_eq(m.address, 1);
	ck_assert_uint_eq(m.quantity, 2);
	ck_assert_uint_eq(m.byte_count, 4);
	ck_assert_uint_eq(m.values_len, 4);

	ck_assert_int_eq(parse_copy(wmc_req, sizeof wmc_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, 15);
	ck_assert_uint_eq(m.address, 19);
	ck_assert_uint_eq(m.quantity, 10);
	ck_assert_uint_eq(m.byte_count, 2);

	/* fc 16 response: address + quantity only */
	{
		static const uint8_t resp[] = {
			0x00, 0x02, 0x00, 0x00, 0x00, 0x06, /* MBAP, length 6 */
			0x01,		/* unit */
			0x10,		/* fc 16 */
			0x00, 0x01,	/* address */
			0x00, 0x02,	/* quantity */
		};
		ck_assert_int_eq(parse_copy(resp, sizeof resp,
		    MODBUS_RESPONSE, &m), 0);
		ck_assert(m.has_range && !m.has_values);
		ck_assert_uint_eq(m.quantity, 2);
	}
}
END_TEST

START_TEST(test_mask_write)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(mask_req, sizeof mask_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, MODBUS_FC_MASK_WRITE_REGISTER);
	ck_assert(m.has_masks);
	ck_assert_uint_eq(m.address, 4);
	ck_assert_uint_eq(m.and_mask, 0x00F2);
	ck_assert_uint_eq(m.or_mask, 0x0025);
}
END_TEST

START_TEST(test_read_write_multiple)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(rw_req, sizeof rw_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, 23);
	ck_assert(m.has_range && m.has_write_range && m.has_values);
	ck_assert_uint_eq(m.address, 3);
	ck_assert_uint_eq(m.quantity, 6);
	ck_assert_uint_eq(m.write_address, 14);
	ck_assert_uint_eq(m.write_quantity, 3);
	ck_assert_uint_eq(m.byte_count, 6);
}
END_TEST

START_TEST(test_diagnostics)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(diag_req, sizeof diag_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, MODBUS_FC_DIAGNOSTICS);
	ck_assert(m.has_diag);
	ck_assert_uint_eq(m.diag_sub, MODBUS_DIAG_FORCE_LISTEN_ONLY);
	ck_assert_uint_eq(m.diag_len, 2);
}
END_TEST

START_TEST(test_exception)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(exc_resp, sizeof exc_resp,
	    MODBUS_RESPONSE, &m), 0);
	ck_assert_uint_eq(m.unit, 0x0A);
	ck_assert_uint_eq(m.fc, 3);
	ck_assert(m.exception);
	ck_assert_uint_eq(m.exception_code, 2);
	/* A request cannot carry the exception bit. */
	ck_assert_int_eq(parse_copy(exc_resp, sizeof exc_resp,
	    MODBUS_REQUEST, &m), IDS_EMALFORMED);
}
END_TEST

START_TEST(test_device_id)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(devid_req, sizeof devid_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert(m.has_mei && m.has_devid);
	ck_assert_uint_eq(m.mei_type, MODBUS_MEI_READ_DEVICE_ID);
	ck_assert_uint_eq(m.devid.read_code, 1);
	ck_assert_uint_eq(m.devid.object_id, 0);

	ck_assert_int_eq(modbus_parse(devid_resp, sizeof devid_resp,
	    MODBUS_RESPONSE, &m), 0);
	ck_assert(m.has_devid);
	ck_assert_uint_eq(m.devid.conformity, 1);
	ck_assert(!m.devid.more_follows);
	ck_assert_uint_eq(m.devid.count, 3);
	ck_assert_uint_eq(m.devid.nobjects, 3);
	ck_assert(!m.devid.objects_truncated);
	ck_assert_uint_eq(m.devid.objects[0].id, MODBUS_DEVID_VENDOR_NAME);
	ck_assert_uint_eq(m.devid.objects[0].len, 7);
	ck_assert_int_eq(memcmp(m.devid.objects[0].value, "Schneid", 7), 0);
	ck_assert_uint_eq(m.devid.objects[1].id, MODBUS_DEVID_PRODUCT_CODE);
	ck_assert_int_eq(memcmp(m.devid.objects[1].value, "M34", 3), 0);
	ck_assert_uint_eq(m.devid.objects[2].id, MODBUS_DEVID_REVISION);
	ck_assert_int_eq(memcmp(m.devid.objects[2].value, "v3.1", 4), 0);
}
END_TEST

START_TEST(test_device_id_cut_objects)
{
	/* Announces 2 objects but the second runs past the PDU. */
	static const uint8_t resp[] = {
		0x00, 0x01, 0x00, 0x00,	/* tid, protocol id */
		0x00, 0x0E,		/* length 14 */
		0x01,			/* unit */
		0x2B, 0x0E,		/* fc 43, MEI 0x0E */
		0x01, 0x01, 0x00, 0x00,	/* code, conformity, more, next */
		0x02,			/* number of objects */
		0x00, 0x02, 'A', 'B',	/* object 0 */
		0x01, 0x09,		/* object 1: length 9, missing */
	};
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(resp, sizeof resp, MODBUS_RESPONSE, &m),
	    0);
	ck_assert_uint_eq(m.devid.nobjects, 1);
	ck_assert(m.devid.objects_truncated);
}
END_TEST

START_TEST(test_umas)
{
	struct modbus_pdu m;

	ck_assert_int_eq(parse_copy(umas_req, sizeof umas_req,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, MODBUS_FC_UMAS);
	ck_assert(m.has_umas);
	ck_assert_uint_eq(m.umas_session, 0x1F);
	ck_assert_uint_eq(m.umas_func, MODBUS_UMAS_STOP_PLC);
	ck_assert_str_eq(modbus_umas_name(MODBUS_UMAS_STOP_PLC), "Stop PLC");
}
END_TEST

START_TEST(test_oversize_umas)
{
	/* Modicon sends length 255 (ADU 261): accepted, flagged. */
	uint8_t *buf = calloc(1, 261);
	struct modbus_pdu m;
	size_t len;

	ck_assert_ptr_nonnull(buf);
	buf[5] = 0xFF;			/* length 255 */
	buf[7] = 0x5A;			/* fc 90 */
	buf[9] = 0xFE;			/* UMAS OK */
	ck_assert_int_eq(modbus_frame_len(buf, 261, &len), 0);
	ck_assert_uint_eq(len, 261);
	ck_assert_int_eq(modbus_parse(buf, 261, MODBUS_RESPONSE, &m), 0);
	ck_assert(m.oversize);
	ck_assert_uint_eq(m.umas_func, MODBUS_UMAS_RESPONSE_OK);
	/* 256 is too much. */
	buf[4] = 0x01;
	buf[5] = 0x00;
	ck_assert_int_eq(modbus_frame_len(buf, 261, &len), IDS_EMALFORMED);
	ck_assert_int_eq(modbus_parse(buf, 261, MODBUS_RESPONSE, &m),
	    IDS_EMALFORMED);
	free(buf);
}
END_TEST

/* Every proper prefix of every fixture is a clean "need more". */
START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct modbus_pdu m;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = modbus_parse(c, k, fixtures[i].dir, &m);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = modbus_frame_len(c, k, &flen);
	if (k < 6)
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
	uint8_t b[sizeof read_req];
	struct modbus_pdu m;
	size_t len;

	/* protocol id 1 */
	memcpy(b, read_req, sizeof b);
	b[3] = 0x01;
	ck_assert_int_eq(parse_copy(b, sizeof b, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
	/* seen already in a 4-byte prefix */
	ck_assert_int_eq(parse_copy(b, 4, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(modbus_frame_len(b, 4, &len), IDS_EMALFORMED);
	/* length 1 (unit only) and 0 */
	memcpy(b, read_req, sizeof b);
	b[5] = 0x01;
	ck_assert_int_eq(parse_copy(b, sizeof b, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
	b[5] = 0x00;
	ck_assert_int_eq(modbus_frame_len(b, sizeof b, &len), IDS_EMALFORMED);
	/* fc 3 request with a 2-byte PDU body: address but no quantity */
	memcpy(b, read_req, sizeof b);
	b[5] = 0x04;
	ck_assert_int_eq(parse_copy(b, 10, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
	/* function code 0 */
	memcpy(b, read_req, sizeof b);
	b[7] = 0x00;
	ck_assert_int_eq(parse_copy(b, sizeof b, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(modbus_frame_len(b, sizeof b, NULL), IDS_EINVAL);
	ck_assert_int_eq(modbus_parse(b, sizeof b, MODBUS_REQUEST, NULL),
	    IDS_EINVAL);
}
END_TEST

START_TEST(test_bad_byte_count)
{
	uint8_t b[sizeof wmr_req];
	struct modbus_pdu m;

	/* byte count 5 but only 4 value bytes in the PDU */
	memcpy(b, wmr_req, sizeof b);
	b[12] = 0x05;
	ck_assert_int_eq(parse_copy(b, sizeof b, MODBUS_REQUEST, &m),
	    IDS_EMALFORMED);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof read_req + sizeof coil_req];
	struct modbus_pdu m;
	size_t len;

	ck_assert_int_eq(modbus_frame_len(read_req, sizeof read_req, &len),
	    0);
	ck_assert_uint_eq(len, sizeof read_req);
	/* short: header not complete, then header complete, body missing */
	ck_assert_int_eq(modbus_frame_len(read_req, 5, &len), IDS_EAGAIN);
	ck_assert_int_eq(modbus_frame_len(read_req, 7, &len), 0);
	ck_assert_uint_eq(len, sizeof read_req);
	/* two ADUs back to back */
	memcpy(two, read_req, sizeof read_req);
	memcpy(two + sizeof read_req, coil_req, sizeof coil_req);
	ck_assert_int_eq(modbus_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof read_req);
	ck_assert_int_eq(modbus_parse(two, sizeof two, MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, 3);
	ck_assert_uint_eq(m.adu_len, len);
	ck_assert_int_eq(modbus_frame_len(two + len, sizeof two - len, &len),
	    0);
	ck_assert_uint_eq(len, sizeof coil_req);
	ck_assert_int_eq(modbus_parse(two + sizeof read_req, len,
	    MODBUS_REQUEST, &m), 0);
	ck_assert_uint_eq(m.fc, 5);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(modbus_fc_name(3), "Read Holding Registers");
	ck_assert_str_eq(modbus_fc_name(0x83), "Read Holding Registers");
	ck_assert_str_eq(modbus_fc_name(8), "Diagnostics");
	ck_assert_str_eq(modbus_fc_name(90), "UMAS");
	ck_assert_str_eq(modbus_fc_name(99), "Unknown");
	ck_assert(modbus_fc_is_write(5));
	ck_assert(modbus_fc_is_write(6));
	ck_assert(modbus_fc_is_write(15));
	ck_assert(modbus_fc_is_write(16));
	ck_assert(modbus_fc_is_write(21));
	ck_assert(modbus_fc_is_write(22));
	ck_assert(modbus_fc_is_write(23));
	ck_assert(!modbus_fc_is_write(1));
	ck_assert(!modbus_fc_is_write(3));
	ck_assert(!modbus_fc_is_write(8));
	ck_assert(!modbus_fc_is_write(43));
	ck_assert_str_eq(modbus_umas_name(0x99), "Unknown");
}
END_TEST

static Suite *
modbus_suite(void)
{
	Suite *s = suite_create("modbus_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_read_request);
	tcase_add_test(tc, test_read_response);
	tcase_add_test(tc, test_write_single_coil);
	tcase_add_test(tc, test_write_multiple);
	tcase_add_test(tc, test_mask_write);
	tcase_add_test(tc, test_read_write_multiple);
	tcase_add_test(tc, test_diagnostics);
	tcase_add_test(tc, test_exception);
	tcase_add_test(tc, test_device_id);
	tcase_add_test(tc, test_device_id_cut_objects);
	tcase_add_test(tc, test_umas);
	tcase_add_test(tc, test_oversize_umas);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_byte_count);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(modbus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
