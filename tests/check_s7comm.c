/*
 * check_s7comm.c - unit tests for the TPKT/COTP/S7comm parser (dissectors/s7comm.c).
 *
 * Several fixtures are frames from the shared captures (named in their
 * comments); the rest follow the same layouts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"
#include "dissectors/s7comm.h"
#include "tests/testutil.h"

/* COTP connection request (s7comm-libnodave-varservice.pcap) */
static const uint8_t cotp_cr[] = {
	0x03, 0x00, 0x00, 0x16,	/* TPKT: version 3, length 22 */
	0x11,			/* COTP LI 17 */
	0xE0,			/* CR */
	0x00, 0x00,		/* destination reference */
	0x00, 0x01,		/* source reference */
	0x00,			/* class 0 */
	0xC1, 0x02, 0x01, 0x00,	/* calling TSAP 0x0100 */
	0xC2, 0x02, 0x01, 0x02,	/* called TSAP 0x0102: rack 0 slot 2 */
	0xC0, 0x01, 0x09,	/* TPDU size 512 */
};

/* Setup communication job (s7comm-libnodave-varservice.pcap) */
static const uint8_t setup_job[] = {
	0x03, 0x00, 0x00, 0x19,	/* TPKT, length 25 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32,			/* S7 protocol id */
	0x01,			/* ROSCTR: job */
	0x00, 0x00,		/* redundancy id */
	0xFF, 0xFF,		/* PDU reference */
	0x00, 0x08,		/* parameter length */
	0x00, 0x00,		/* data length */
	0xF0,			/* function: setup communication */
	0x00,			/* reserved */
	0x00, 0x01,		/* max AmQ calling */
	0x00, 0x01,		/* max AmQ called */
	0x07, 0x80,		/* PDU size 1920 */
};

/* Read Var job, one S7ANY item: DB1.DBB4, 16 bytes */
static const uint8_t read_job[] = {
	0x03, 0x00, 0x00, 0x1F,	/* TPKT, length 31 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x05,		/* PDU reference 5 */
	0x00, 0x0E,		/* parameter length 14 */
	0x00, 0x00,		/* data length 0 */
	0x04,			/* function: read var */
	0x01,			/* item count */
	0x12,			/* variable specification */
	0x0A,			/* length of the address */
	0x10,			/* syntax id: S7ANY */
	0x02,			/* transport size: BYTE */
	0x00, 0x10,		/* length 16 */
	0x00, 0x01,		/* DB 1 */
	0x84,			/* area: data blocks */
	0x00, 0x00, 0x20,	/* address: byte 4, bit 0 */
};

/* Read Var ack-data with one 4-byte item */
static const uint8_t read_ack[] = {
	0x03, 0x00, 0x00, 0x1D,	/* TPKT, length 29 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x03,		/* S7, ack-data */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x05,		/* PDU reference 5 */
	0x00, 0x02,		/* parameter length 2 */
	0x00, 0x08,		/* data length 8 */
	0x00, 0x00,		/* error class, error code */
	0x04, 0x01,		/* function: read var, item count */
	0xFF,			/* return code: success */
	0x04,			/* transport size: bits */
	0x00, 0x20,		/* length: 32 bits */
	0xDE, 0xAD, 0xBE, 0xEF,	/* data */
};

/* PLC Stop (s7comm-snap7-s300-everything.pcap) */
static const uint8_t plc_stop[] = {
	0x03, 0x00, 0x00, 0x21,	/* TPKT, length 33 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x1C, 0x00,		/* PDU reference */
	0x00, 0x10,		/* parameter length 16 */
	0x00, 0x00,		/* data length 0 */
	0x29,			/* function: PLC stop */
	0x00, 0x00, 0x00, 0x00, 0x00,	/* unknown */
	0x09,			/* PI service name length */
	'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M',
};

/* PLC control (PI service) _INSE with one block argument */
static const uint8_t plc_control[] = {
	0x03, 0x00, 0x00, 0x29,	/* TPKT, length 41 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x21,		/* PDU reference */
	0x00, 0x18,		/* parameter length 24 */
	0x00, 0x00,		/* data length 0 */
	0x28,			/* function: PLC control */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD,	/* unknown */
	0x00, 0x08,		/* parameter block length */
	'0', 'A', '0', '0', '0', '0', '1', 'P',	/* DB1 into P */
	0x05,			/* PI service name length */
	'_', 'I', 'N', 'S', 'E',
};

/* Request download of OB1 */
static const uint8_t req_download[] = {
	0x03, 0x00, 0x00, 0x31,	/* TPKT, length 49 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x30,		/* PDU reference */
	0x00, 0x20,		/* parameter length 32 */
	0x00, 0x00,		/* data length 0 */
	0x1A,			/* function: request download */
	0x00,			/* function status */
	0x01, 0x00,		/* unknown */
	0x00, 0x00, 0x00, 0x00,	/* download id */
	0x09,			/* file name length */
	'_', '0', '8', '0', '0', '0', '0', '1', 'P',	/* OB 1, file system P */
	0x0D,			/* length part 2 */
	'1', '0', '0', '0', '2', '5', '6', '0', '0', '0', '1', '2', '8',
};

/* Userdata: read SZL 0x0011 (s7comm-snap7-s300-everything.pcap) */
static const uint8_t szl_req[] = {
	0x03, 0x00, 0x00, 0x21,	/* TPKT, length 33 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x07,		/* S7, userdata */
	0x00, 0x00,		/* redundancy id */
	0x01, 0x00,		/* PDU reference */
	0x00, 0x08,		/* parameter length 8 */
	0x00, 0x08,		/* data length 8 */
	0x00, 0x01, 0x12,	/* parameter head */
	0x04,			/* parameter length */
	0x11,			/* method: request */
	0x44,			/* type 4 request, group 4 CPU functions */
	0x01,			/* subfunction: read SZL */
	0x00,			/* sequence number */
	0xFF,			/* return code: success */
	0x09,			/* transport size: octet string */
	0x00, 0x04,		/* length */
	0x00, 0x11,		/* SZL id: module identification */
	0x00, 0x00,		/* SZL index */
};

/* Userdata: SZL 0x0011 response with one module record */
static const uint8_t szl_resp[] = {
	0x03, 0x00, 0x00, 0x45,	/* TPKT, length 69 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x07,		/* S7, userdata */
	0x00, 0x00,		/* redundancy id */
	0x01, 0x00,		/* PDU reference */
	0x00, 0x0C,		/* parameter length 12 */
	0x00, 0x28,		/* data length 40 */
	0x00, 0x01, 0x12,	/* parameter head */
	0x08,			/* parameter length */
	0x12,			/* method: response */
	0x84,			/* type 8 response, group 4 CPU functions */
	0x01,			/* subfunction: read SZL */
	0x02,			/* sequence number */
	0x00,			/* data unit reference */
	0x00,			/* last data unit: yes */
	0x00, 0x00,		/* error code */
	0xFF,			/* return code: success */
	0x09,			/* transport size: octet string */
	0x00, 0x24,		/* length 36 */
	0x00, 0x11,		/* SZL id */
	0x00, 0x00,		/* SZL index */
	0x00, 0x1C,		/* record length 28 */
	0x00, 0x01,		/* record count 1 */
	0x00, 0x01,		/* index: module */
	'6', 'E', 'S', '7', ' ', '3', '1', '5', '-', '2',	/* order no. */
	'E', 'H', '1', '4', '-', '0', 'A', 'B', '0', ' ',
	0x00, 0xC0,		/* module type id */
	0x00, 0x03,		/* version */
	0x00, 0x01,		/* release */
};

/* Ack with an error (s7comm-snap7-s300-everything.pcap) */
static const uint8_t ack_err[] = {
	0x03, 0x00, 0x00, 0x13,	/* TPKT, length 19 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x02,		/* S7, ack */
	0x00, 0x00,		/* redundancy id */
	0x15, 0x00,		/* PDU reference */
	0x00, 0x00,		/* parameter length */
	0x00, 0x00,		/* data length */
	0xD2, 0x0C,		/* error class, error code */
};

/* S7comm-plus V1 CreateObject request (layout as s7commplus-s7-1200-hmi.pcap) */
static const uint8_t plus_v1[] = {
	0x03, 0x00, 0x00, 0x1F,	/* TPKT, length 31 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x72,			/* S7comm-plus */
	0x01,			/* version 1 */
	0x00, 0x10,		/* data length 16 */
	0x31,			/* opcode: request */
	0x00, 0x00,		/* reserved */
	0x04, 0xCA,		/* function: CreateObject */
	0x00, 0x00,		/* reserved */
	0x00, 0x01,		/* sequence number */
	0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,	/* body */
	0x72, 0x01, 0x00, 0x00,	/* trailer */
};

/* S7comm-plus V3 with integrity digest (as s7comm-icsnpp-read-write.pcap) */
static const uint8_t plus_v3[] = {
	0x03, 0x00, 0x00, 0x3D,	/* TPKT, length 61 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x72,			/* S7comm-plus */
	0x03,			/* version 3 */
	0x00, 0x2E,		/* data length 46 */
	0x20,			/* digest length 32 */
	0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,	/* digest */
	0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
	0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7,
	0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF,
	0x31,			/* opcode: request */
	0x00, 0x00,		/* reserved */
	0x05, 0x42,		/* function: SetMultiVariables */
	0x00, 0x00,		/* reserved */
	0x00, 0x02,		/* sequence number */
	0x00, 0x00, 0x00, 0x00,	/* body */
	0x72, 0x03, 0x00, 0x00,	/* trailer */
};

/* ISO session DATA carrying MMS (as mms-client-server.pcap) */
static const uint8_t iso_data[] = {
	0x03, 0x00, 0x00, 0x0F,	/* TPKT, length 15 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x01, 0x00,		/* SPDU: give tokens, length 0 */
	0x01, 0x00,		/* SPDU: data transfer, length 0 */
	0x61, 0x02, 0x30, 0x00,	/* presentation user data (truncated PDV) */
};

/* First DT of a split S7 PDU: EOT clear */
static const uint8_t dt_frag[] = {
	0x03, 0x00, 0x00, 0x11,	/* TPKT, length 17 */
	0x02, 0xF0, 0x00,	/* COTP DT, no EOT, TPDU 0 */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x07,		/* PDU reference */
	0x00, 0x20,		/* parameter length 32 (in later TPDUs) */
	0x00, 0x00,		/* data length */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(cotp_cr), FIX(setup_job), FIX(read_job), FIX(read_ack),
	FIX(plc_stop), FIX(plc_control), FIX(req_download), FIX(szl_req),
	FIX(szl_resp), FIX(ack_err), FIX(plus_v1), FIX(plus_v3),
	FIX(iso_data), FIX(dt_frag),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, struct s7_pdu *s)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = s7_parse(c, n, s);

	free(c);
	return rc;
}

START_TEST(test_cotp_cr)
{
	struct s7_pdu s;

	ck_assert_int_eq(s7_parse(cotp_cr, sizeof cotp_cr, &s), 0);
	ck_assert_uint_eq(s.frame_len, 22);
	ck_assert_uint_eq(s.cotp.tpkt_version, 3);
	ck_assert_uint_eq(s.cotp.tpkt_len, 22);
	ck_assert_uint_eq(s.cotp.li, 17);
	ck_assert_uint_eq(s.cotp.type, S7_COTP_CR);
	ck_assert_uint_eq(s.cotp.dst_ref, 0);
	ck_assert_uint_eq(s.cotp.src_ref, 1);
	ck_assert_uint_eq(s.cotp.src_tsap_len, 2);
	ck_assert_uint_eq(s.cotp.src_tsap16, 0x0100);
	ck_assert_uint_eq(s.cotp.dst_tsap16, 0x0102);
	ck_assert_ptr_eq(s.cotp.dst_tsap, cotp_cr + 17);
	ck_assert_uint_eq(s.cotp.tpdu_size, 9);
	ck_assert_int_eq(s.payload, S7_PAYLOAD_NONE);
	ck_assert_str_eq(s7_cotp_type_name(s.cotp.type), "CR");
}
END_TEST

START_TEST(test_setup)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(setup_job, sizeof setup_job, &s), 0);
	ck_assert_uint_eq(s.cotp.type, S7_COTP_DT);
	ck_assert(s.cotp.eot);
	ck_assert_int_eq(s.payload, S7_PAYLOAD_S7COMM);
	ck_assert_uint_eq(s.proto_id, 0x32);
	ck_assert_uint_eq(s.s7.rosctr, S7_ROSCTR_JOB);
	ck_assert_uint_eq(s.s7.pdu_ref, 0xFFFF);
	ck_assert_uint_eq(s.s7.param_len, 8);
	ck_assert_uint_eq(s.s7.data_len, 0);
	ck_assert(!s.s7.has_error);
	ck_assert(s.s7.has_func);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_SETUP_COMM);
	ck_assert_uint_eq(s.s7.max_amq_calling, 1);
	ck_assert_uint_eq(s.s7.max_amq_called, 1);
	ck_assert_uint_eq(s.s7.pdu_size, 1920);
}
END_TEST

START_TEST(test_read_var)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(read_job, sizeof read_job, &s), 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_READ_VAR);
	ck_assert_uint_eq(s.s7.pdu_ref, 5);
	ck_assert_uint_eq(s.s7.item_count, 1);
	ck_assert_uint_eq(s.s7.nitems, 1);
	ck_assert_uint_eq(s.s7.items[0].spec_type, 0x12);
	ck_assert_uint_eq(s.s7.items[0].syntax_id, 0x10);
	ck_assert(s.s7.items[0].any);
	ck_assert_uint_eq(s.s7.items[0].transport_size, 2);
	ck_assert_uint_eq(s.s7.items[0].length, 16);
	ck_assert_uint_eq(s.s7.items[0].db, 1);
	ck_assert_uint_eq(s.s7.items[0].area, S7_AREA_DB);
	ck_assert_uint_eq(s.s7.items[0].address, 4u << 3);

	ck_assert_int_eq(parse_copy(read_ack, sizeof read_ack, &s), 0);
	ck_assert_uint_eq(s.s7.rosctr, S7_ROSCTR_ACK_DATA);
	ck_assert(s.s7.has_error);
	ck_assert_uint_eq(s.s7.error_class, 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_READ_VAR);
	ck_assert_uint_eq(s.s7.item_count, 1);
	ck_assert_uint_eq(s.s7.nitems, 0);
	ck_assert_uint_eq(s.s7.data_len, 8);
}
END_TEST

START_TEST(test_plc_stop)
{
	struct s7_pdu s;

	ck_assert_int_eq(s7_parse(plc_stop, sizeof plc_stop, &s), 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_PLC_STOP);
	ck_assert_uint_eq(s.s7.pi_service_len, 9);
	ck_assert_ptr_eq(s.s7.pi_service, plc_stop + 24);
	ck_assert_int_eq(memcmp(s.s7.pi_service, "P_PROGRAM", 9), 0);
	ck_assert_str_eq(s7_func_name(s.s7.func), "PLC Stop");
}
END_TEST

START_TEST(test_plc_control)
{
	struct s7_pdu s;

	ck_assert_int_eq(s7_parse(plc_control, sizeof plc_control, &s), 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_PLC_CONTROL);
	ck_assert_uint_eq(s.s7.pi_param_len, 8);
	ck_assert_int_eq(memcmp(s.s7.pi_param, "0A00001P", 8), 0);
	ck_assert_uint_eq(s.s7.pi_service_len, 5);
	ck_assert_int_eq(memcmp(s.s7.pi_service, "_INSE", 5), 0);
}
END_TEST

START_TEST(test_download)
{
	struct s7_pdu s;

	ck_assert_int_eq(s7_parse(req_download, sizeof req_download, &s), 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_REQUEST_DOWNLOAD);
	ck_assert_uint_eq(s.s7.block_name_len, 9);
	ck_assert_int_eq(memcmp(s.s7.block_name, "_0800001P", 9), 0);
	ck_assert(s.s7.has_block);
	ck_assert_uint_eq(s.s7.block_type, 0x08);
	ck_assert_uint_eq(s.s7.block_number, 1);
}
END_TEST

/*
 * The same job with a parameter block cut after the function status (3
 * bytes): the PLC acts on the function code, so it parses as a download
 * request without a block name instead of a malformed PDU.
 */
static const uint8_t req_download_short[] = {
	0x03, 0x00, 0x00, 0x14,	/* TPKT, length 20 */
	0x02, 0xF0, 0x80,	/* COTP DT, EOT */
	0x32, 0x01,		/* S7, job */
	0x00, 0x00,		/* redundancy id */
	0x00, 0x30,		/* PDU reference */
	0x00, 0x03,		/* parameter length 3 */
	0x00, 0x00,		/* data length 0 */
	0x1A,			/* function: request download */
	0x00,			/* function status */
	0x01,			/* (cut) */
};

START_TEST(test_download_short_param)
{
	struct s7_pdu s;

	ck_assert_int_eq(s7_parse(req_download_short, sizeof req_download_short,
	    &s), 0);
	ck_assert(s.s7.has_func);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_REQUEST_DOWNLOAD);
	ck_assert_ptr_null(s.s7.block_name);
	ck_assert(!s.s7.has_block);
}
END_TEST

START_TEST(test_szl)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(szl_req, sizeof szl_req, &s), 0);
	ck_assert_uint_eq(s.s7.rosctr, S7_ROSCTR_USERDATA);
	ck_assert(!s.s7.has_error && !s.s7.has_func);
	ck_assert(s.s7.has_ud);
	ck_assert_uint_eq(s.s7.ud_method, S7_UD_METHOD_REQUEST);
	ck_assert_uint_eq(s.s7.ud_type, S7_UD_TYPE_REQUEST);
	ck_assert_uint_eq(s.s7.ud_group, S7_UD_GROUP_CPU);
	ck_assert_uint_eq(s.s7.ud_subfunc, S7_UD_CPU_READ_SZL);
	ck_assert_uint_eq(s.s7.ud_seq, 0);
	ck_assert_uint_eq(s.s7.ud_return_code, 0xFF);
	ck_assert(s.s7.has_szl && !s.s7.has_szl_list);
	ck_assert_uint_eq(s.s7.szl_id, S7_SZL_MODULE_ID);
	ck_assert_uint_eq(s.s7.szl_index, 0);

	ck_assert_int_eq(s7_parse(szl_resp, sizeof szl_resp, &s), 0);
	ck_assert_uint_eq(s.s7.ud_method, S7_UD_METHOD_RESPONSE);
	ck_assert_uint_eq(s.s7.ud_type, S7_UD_TYPE_RESPONSE);
	ck_assert_uint_eq(s.s7.ud_seq, 2);
	ck_assert(s.s7.ud_last_unit && !s.s7.ud_fragmented);
	ck_assert_uint_eq(s.s7.ud_data_len, 36);
	ck_assert(s.s7.has_szl && s.s7.has_szl_list);
	ck_assert_uint_eq(s.s7.szl_id, S7_SZL_MODULE_ID);
	ck_assert_uint_eq(s.s7.szl_rec_len, 28);
	ck_assert_uint_eq(s.s7.szl_rec_count, 1);
	ck_assert_uint_eq(s.s7.szl_records_len, 28);
	ck_assert_int_eq(memcmp(s.s7.szl_records + 2, "6ES7 315-2EH14-0AB0",
	    19), 0);
}
END_TEST

START_TEST(test_szl_fragment)
{
	/* Same response marked as one of several: no SZL header decoded. */
	uint8_t b[sizeof szl_resp];
	struct s7_pdu s;

	memcpy(b, szl_resp, sizeof b);
	b[25] = 0x05;			/* data unit reference */
	b[26] = 0x01;			/* last data unit: no */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), 0);
	ck_assert(s.s7.ud_fragmented && !s.s7.ud_last_unit);
	ck_assert(!s.s7.has_szl);
	ck_assert_uint_eq(s.s7.ud_data_len, 36);
}
END_TEST

START_TEST(test_ack_error)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(ack_err, sizeof ack_err, &s), 0);
	ck_assert_uint_eq(s.s7.rosctr, S7_ROSCTR_ACK);
	ck_assert(s.s7.has_error);
	ck_assert_uint_eq(s.s7.error_class, 0xD2);
	ck_assert_uint_eq(s.s7.error_code, 0x0C);
	ck_assert(!s.s7.has_func);
	ck_assert_str_eq(s7_rosctr_name(s.s7.rosctr), "Ack");
}
END_TEST

START_TEST(test_s7plus)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(plus_v1, sizeof plus_v1, &s), 0);
	ck_assert_int_eq(s.payload, S7_PAYLOAD_S7PLUS);
	ck_assert_uint_eq(s.plus.version, 1);
	ck_assert_uint_eq(s.plus.data_len, 16);
	ck_assert(!s.plus.has_digest);
	ck_assert(s.plus.has_opcode && s.plus.has_function);
	ck_assert_uint_eq(s.plus.opcode, 0x31);
	ck_assert_uint_eq(s.plus.function, 0x04CA);
	ck_assert_uint_eq(s.plus.seq, 1);
	ck_assert_str_eq(s7_plus_func_name(s.plus.function), "CreateObject");

	ck_assert_int_eq(parse_copy(plus_v3, sizeof plus_v3, &s), 0);
	ck_assert_uint_eq(s.plus.version, 3);
	ck_assert(s.plus.has_digest);
	ck_assert_uint_eq(s.plus.opcode, 0x31);
	ck_assert_uint_eq(s.plus.function, 0x0542);
	ck_assert_uint_eq(s.plus.seq, 2);
	ck_assert_str_eq(s7_plus_func_name(s.plus.function),
	    "SetMultiVariables");
}
END_TEST

START_TEST(test_iso_other)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(iso_data, sizeof iso_data, &s), 0);
	ck_assert_int_eq(s.payload, S7_PAYLOAD_OTHER);
	ck_assert_uint_eq(s.proto_id, S7_SPDU_GIVE_TOKENS);
	ck_assert_uint_eq(s.user_len, 8);
	ck_assert_str_eq(s7_iso_spdu_name(s.proto_id),
	    "GIVE TOKENS/DATA TRANSFER");
	ck_assert_str_eq(s7_iso_spdu_name(S7_SPDU_CONNECT), "CONNECT");
	ck_assert_str_eq(s7_iso_spdu_name(S7_SPDU_ACCEPT), "ACCEPT");
}
END_TEST

START_TEST(test_dt_fragment)
{
	struct s7_pdu s;

	ck_assert_int_eq(parse_copy(dt_frag, sizeof dt_frag, &s), 0);
	ck_assert(!s.cotp.eot);
	ck_assert_int_eq(s.payload, S7_PAYLOAD_S7COMM);
	ck_assert(s.s7.fragment);
	ck_assert_uint_eq(s.s7.pdu_ref, 7);
	ck_assert(!s.s7.has_func);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i, flen;
	struct s7_pdu s;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = s7_parse(c, k, &s);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	rc = s7_frame_len(c, k, &flen);
	if (k < 4)
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
	uint8_t b[sizeof read_job];
	struct s7_pdu s;
	size_t len;

	memcpy(b, read_job, sizeof b);
	b[0] = 0x02;				/* TPKT version 2 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	ck_assert_int_eq(s7_frame_len(b, 1, &len), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[1] = 0x01;				/* reserved byte */
	ck_assert_int_eq(s7_frame_len(b, 2, &len), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[3] = 0x06;				/* TPKT length below 7 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[4] = 0x40;				/* COTP LI past the frame */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[14] = 0x0F;				/* parameter length overruns */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[8] = 0x05;				/* ROSCTR 5 does not exist */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	memcpy(b, read_job, sizeof b);
	b[20] = 0x0B;				/* item length past the params */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
	ck_assert_int_eq(s7_frame_len(b, sizeof b, NULL), IDS_EINVAL);
	ck_assert_int_eq(s7_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_bad_pi_name)
{
	uint8_t b[sizeof plc_stop];
	struct s7_pdu s;

	memcpy(b, plc_stop, sizeof b);
	b[23] = 0x0A;				/* name one byte longer */
	ck_assert_int_eq(parse_copy(b, sizeof b, &s), IDS_EMALFORMED);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof cotp_cr + sizeof setup_job];
	struct s7_pdu s;
	size_t len;

	ck_assert_int_eq(s7_frame_len(setup_job, sizeof setup_job, &len), 0);
	ck_assert_uint_eq(len, sizeof setup_job);
	ck_assert_int_eq(s7_frame_len(setup_job, 3, &len), IDS_EAGAIN);
	/* a bare TPKT header says how much is coming */
	ck_assert_int_eq(s7_frame_len(setup_job, 4, &len), 0);
	ck_assert_uint_eq(len, sizeof setup_job);
	memcpy(two, cotp_cr, sizeof cotp_cr);
	memcpy(two + sizeof cotp_cr, setup_job, sizeof setup_job);
	ck_assert_int_eq(s7_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof cotp_cr);
	ck_assert_int_eq(s7_parse(two, sizeof two, &s), 0);
	ck_assert_uint_eq(s.cotp.type, S7_COTP_CR);
	ck_assert_int_eq(s7_parse(two + len, sizeof two - len, &s), 0);
	ck_assert_uint_eq(s.s7.func, S7_FUNC_SETUP_COMM);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(s7_func_name(0x04), "Read Var");
	ck_assert_str_eq(s7_func_name(0x05), "Write Var");
	ck_assert_str_eq(s7_func_name(0x1A), "Request download");
	ck_assert_str_eq(s7_func_name(0x1D), "Start upload");
	ck_assert_str_eq(s7_func_name(0x28), "PLC Control");
	ck_assert_str_eq(s7_func_name(0xF0), "Setup communication");
	ck_assert_str_eq(s7_func_name(0x77), "Unknown");
	ck_assert_str_eq(s7_rosctr_name(7), "Userdata");
}
END_TEST

static Suite *
s7_suite(void)
{
	Suite *s = suite_create("s7comm_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_cotp_cr);
	tcase_add_test(tc, test_setup);
	tcase_add_test(tc, test_read_var);
	tcase_add_test(tc, test_plc_stop);
	tcase_add_test(tc, test_plc_control);
	tcase_add_test(tc, test_download);
	tcase_add_test(tc, test_download_short_param);
	tcase_add_test(tc, test_szl);
	tcase_add_test(tc, test_szl_fragment);
	tcase_add_test(tc, test_ack_error);
	tcase_add_test(tc, test_s7plus);
	tcase_add_test(tc, test_iso_other);
	tcase_add_test(tc, test_dt_fragment);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_pi_name);
	tcase_add_test(tc, test_frame_len);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(s7_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
