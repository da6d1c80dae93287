/*
 * check_mms.c - unit tests for the MMS parser (dissectors/mms.c): TPKT,
 * COTP, session, presentation and ACSE down to the MMS PDU.
 *
 * mms_initiate and mms_read are frames 110 and 128 of
 * mms-goose-substation.pcap; the other requests are built to ISO 9506-2
 * with the same wrapping (the comments show the BER nesting).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/mms.h"
#include "lib/ids.h"
#include "testutil.h"

/* initiate-RequestPDU inside session CONNECT, presentation CP-type and
 * ACSE AARQ (mms-goose-substation.pcap frame 110) */
static const uint8_t mms_initiate[] = {
	0x03, 0x00, 0x00, 0xa7,	/* TPKT, length 167 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x0d, 0x9e,		/* session CONNECT, 158 */
	0x05, 0x06, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02,	/* connect accept */
	0x14, 0x02, 0x00, 0x02,	/* session requirement */
	0x33, 0x02, 0x00, 0x01,	/* calling session selector */
	0x34, 0x02, 0x00, 0x01,	/* called session selector */
	0xc1, 0x88,		/* PGI 193 user data, 136 */
	0x31, 0x81, 0x85,	/* presentation CP-type SET */
	0xa0, 0x03, 0x80, 0x01, 0x01,	/* mode-selector normal */
	0xa2, 0x7e,		/* normal-mode-parameters */
	0x81, 0x04, 0x00, 0x00, 0x00, 0x01,	/* calling selector */
	0x82, 0x04, 0x00, 0x00, 0x00, 0x01,	/* called selector */
	0xa4, 0x23,		/* context definition list: ACSE, MMS */
	0x30, 0x0f, 0x02, 0x01, 0x01, 0x06, 0x04, 0x52, 0x01, 0x00, 0x01,
	0x30, 0x04, 0x06, 0x02, 0x51, 0x01,
	0x30, 0x10, 0x02, 0x01, 0x03, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x01,
	0x30, 0x04, 0x06, 0x02, 0x51, 0x01,
	0x88, 0x02, 0x06, 0x00,	/* presentation requirements */
	0x61, 0x47,		/* user data: fully-encoded-data */
	0x30, 0x45, 0x02, 0x01, 0x01,	/* PDV-list, context 1 (ACSE) */
	0xa0, 0x40,		/* single-ASN1-type */
	0x60, 0x3e,		/* ACSE AARQ */
	0x80, 0x02, 0x07, 0x80,	/* protocol version */
	0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03,	/* MMS context */
	0xbe, 0x2f,		/* [30] user-information */
	0x28, 0x2d,		/* EXTERNAL */
	0x02, 0x01, 0x03,	/* indirect reference 3 (MMS) */
	0xa0, 0x28,		/* single-ASN1-type */
	0xa8, 0x26,		/* initiate-RequestPDU */
	0x80, 0x03, 0x00, 0xfa, 0x00,	/* localDetailCalling 64000 */
	0x81, 0x01, 0x0a,	/* proposedMaxServOutstandingCalling */
	0x82, 0x01, 0x0a,	/* proposedMaxServOutstandingCalled */
	0x83, 0x01, 0x05,	/* proposedDataStructureNestingLevel */
	0xa4, 0x16,		/* mmsInitRequestDetail */
	0x80, 0x01, 0x01, 0x81, 0x03, 0x05, 0xe1, 0x00, 0x82, 0x0c, 0x03, 0xa0,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe1, 0x10,
};

/* read request (mms-goose-substation.pcap frame 128) */
static const uint8_t mms_read[] = {
	0x03, 0x00, 0x00, 0x48,	/* TPKT, length 72 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x3b,		/* presentation fully-encoded-data */
	0x30, 0x39,		/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x34,		/*     single-ASN1-type */
	0xa0, 0x32,		/*       confirmed-RequestPDU */
	0x02, 0x03, 0x04, 0xa2, 0x74,	/* invokeID 303732 */
	0xa4, 0x2b,		/*         read */
	0xa1, 0x29,		/*           variableAccessSpecification */
	0xa0, 0x27,		/*             listOfVariable */
	0x30, 0x25,		/*               variable */
	0xa0, 0x23,		/*                 name */
	0xa1, 0x21,		/*                   domain-specific */
	0x1a, 0x0e,		/*                     "AA1E1Q01FP2LD0" */
	'A', 'A', '1', 'E', '1', 'Q', '0', '1', 'F', 'P', '2', 'L', 'D', '0',
	0x1a, 0x0f,		/*                     "LLN0$BR$rcb_B02" */
	'L', 'L', 'N', '0', '$', 'B', 'R', '$', 'r', 'c', 'b', '_', 'B', '0',
	'2',
};

/* conclude-RequestPDU (mms-goose-substation.pcap frame 136) */
static const uint8_t mms_conclude[] = {
	0x03, 0x00, 0x00, 0x16,	/* TPKT, length 22 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x09, 0x30, 0x07, 0x02, 0x01, 0x03,	/* presentation */
	0xa0, 0x02,		/* single-ASN1-type */
	0x8b, 0x00,		/* conclude-RequestPDU */
};

/* COTP connection request: no MMS yet */
static const uint8_t cotp_cr[] = {
	0x03, 0x00, 0x00, 0x16,	/* TPKT, length 22 */
	0x11, 0xe0,		/* COTP CR, LI 17 */
	0x00, 0x00, 0x00, 0x01, 0x00,	/* dst ref, src ref, class 0 */
	0xc1, 0x02, 0x00, 0x01,	/* calling TSAP */
	0xc2, 0x02, 0x00, 0x01,	/* called TSAP */
	0xc0, 0x01, 0x0a,	/* TPDU size 1024 */
};

static const uint8_t mms_write[] = {
	0x03, 0x00, 0x00, 0x40,	/* TPKT, length 64 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x33,	/* presentation fully-encoded-data */
	0x30, 0x31,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x2c,	/*     single-ASN1-type */
	0xa0, 0x2a,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x07,	/*         invokeID 7 */
	0xa5, 0x25,	/*         write */
	0xa0, 0x1e,	/*           listOfVariable */
	0x30, 0x1c,	/*             variable */
	0xa0, 0x1a,	/*               name */
	0xa1, 0x18,	/*                 domain-specific */
	0x1a, 0x03, 0x4c, 0x44, 0x30,	/*                   "LD0" */
	/*                   "XCBR1$CO$Pos$Oper" */
	0x1a, 0x11, 0x58, 0x43, 0x42, 0x52, 0x31, 0x24, 0x43, 0x4f, 0x24, 0x50,
	0x6f, 0x73, 0x24, 0x4f, 0x70, 0x65, 0x72,
	0xa0, 0x03,	/*           listOfData */
	0x83, 0x01, 0x01,	/*             boolean true */
};

static const uint8_t mms_gnl[] = {
	0x03, 0x00, 0x00, 0x24,	/* TPKT, length 36 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x17,	/* presentation fully-encoded-data */
	0x30, 0x15,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x10,	/*     single-ASN1-type */
	0xa0, 0x0e,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x08,	/*         invokeID 8 */
	0xa1, 0x09,	/*         getNameList */
	0xa0, 0x03,	/*           objectClass */
	0x80, 0x01, 0x09,	/*             domain (9) */
	0xa1, 0x02,	/*           objectScope */
	0x80, 0x00,	/*             vmdSpecific */
};

static const uint8_t mms_gnl_dom[] = {
	0x03, 0x00, 0x00, 0x27,	/* TPKT, length 39 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x1a,	/* presentation fully-encoded-data */
	0x30, 0x18,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x13,	/*     single-ASN1-type */
	0xa0, 0x11,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x09,	/*         invokeID 9 */
	0xa1, 0x0c,	/*         getNameList */
	0xa0, 0x03,	/*           objectClass */
	0x80, 0x01, 0x00,	/*             namedVariable (0) */
	0xa1, 0x05,	/*           objectScope */
	0x81, 0x03, 0x4c, 0x44, 0x30,	/*             domainSpecific "LD0" */
};

static const uint8_t mms_deldom[] = {
	0x03, 0x00, 0x00, 0x1f,	/* TPKT, length 31 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x12,	/* presentation fully-encoded-data */
	0x30, 0x10,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x0b,	/*     single-ASN1-type */
	0xa0, 0x09,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0a,	/*         invokeID 10 */
	0x9f, 0x24, 0x03, 0x4c, 0x44, 0x30,	/*         deleteDomain [36] "LD0" */
};

static const uint8_t mms_start[] = {
	0x03, 0x00, 0x00, 0x23,	/* TPKT, length 35 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x16,	/* presentation fully-encoded-data */
	0x30, 0x14,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x0f,	/*     single-ASN1-type */
	0xa0, 0x0d,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0b,	/*         invokeID 11 */
	0xbf, 0x28, 0x07,	/*         start [40] */
	/*           programInvocationName "PROG1" */
	0x80, 0x05, 0x50, 0x52, 0x4f, 0x47, 0x31,
};

static const uint8_t mms_kill[] = {
	0x03, 0x00, 0x00, 0x23,	/* TPKT, length 35 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x16,	/* presentation fully-encoded-data */
	0x30, 0x14,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x0f,	/*     single-ASN1-type */
	0xa0, 0x0d,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0c,	/*         invokeID 12 */
	0xbf, 0x2c, 0x07,	/*         kill [44] */
	/*           programInvocationName "PROG1" */
	0x80, 0x05, 0x50, 0x52, 0x4f, 0x47, 0x31,
};

static const uint8_t mms_fdel[] = {
	0x03, 0x00, 0x00, 0x26,	/* TPKT, length 38 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x19,	/* presentation fully-encoded-data */
	0x30, 0x17,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x12,	/*     single-ASN1-type */
	0xa0, 0x10,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0d,	/*         invokeID 13 */
	0xbf, 0x4c, 0x0a,	/*         fileDelete [76] */
	/*           "/cfg.scd" */
	0x19, 0x08, 0x2f, 0x63, 0x66, 0x67, 0x2e, 0x73, 0x63, 0x64,
};

static const uint8_t mms_fopen[] = {
	0x03, 0x00, 0x00, 0x2a,	/* TPKT, length 42 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x1d,	/* presentation fully-encoded-data */
	0x30, 0x1b,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x16,	/*     single-ASN1-type */
	0xa0, 0x14,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0e,	/*         invokeID 14 */
	0xbf, 0x48, 0x0e,	/*         fileOpen [72] */
	0xa0, 0x09,	/*           fileName */
	/*             "cfg.scd" */
	0x19, 0x07, 0x63, 0x66, 0x67, 0x2e, 0x73, 0x63, 0x64,
	0x81, 0x01, 0x00,	/*           initialPosition 0 */
};

static const uint8_t mms_dl[] = {
	0x03, 0x00, 0x00, 0x2b,	/* TPKT, length 43 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x1e,	/* presentation fully-encoded-data */
	0x30, 0x1c,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x17,	/*     single-ASN1-type */
	0xa0, 0x15,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x0f,	/*         invokeID 15 */
	0xbf, 0x1a, 0x0f,	/*         initiateDownloadSequence [26] */
	0x80, 0x03, 0x4c, 0x44, 0x30,	/*           domainName "LD0" */
	0xa1, 0x05,	/*           listOfCapabilities */
	0x1a, 0x03, 0x63, 0x61, 0x70,	/*             "cap" */
	0x82, 0x01, 0x00,	/*           sharable false */
};

static const uint8_t mms_defnvl[] = {
	0x03, 0x00, 0x00, 0x53,	/* TPKT, length 83 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x46,	/* presentation fully-encoded-data */
	0x30, 0x44,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x3f,	/*     single-ASN1-type */
	0xa0, 0x3d,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x10,	/*         invokeID 16 */
	0xab, 0x38,	/*         defineNamedVariableList [11] */
	0xa1, 0x0a,	/*           domain-specific */
	0x1a, 0x03, 0x4c, 0x44, 0x30,	/*             "LD0" */
	0x1a, 0x03, 0x44, 0x53, 0x31,	/*             "DS1" */
	0xa0, 0x2a,	/*           listOfVariable */
	0x30, 0x13,	/*             variable */
	0xa0, 0x11,	/*               name */
	0xa1, 0x0f,	/*                 domain-specific */
	0x1a, 0x03, 0x4c, 0x44, 0x30,	/*                   "LD0" */
	/*                   "MMXU1$MX" */
	0x1a, 0x08, 0x4d, 0x4d, 0x58, 0x55, 0x31, 0x24, 0x4d, 0x58,
	0x30, 0x13,	/*             variable */
	0xa0, 0x11,	/*               name */
	0xa1, 0x0f,	/*                 domain-specific */
	0x1a, 0x03, 0x4c, 0x44, 0x30,	/*                   "LD0" */
	/*                   "XCBR1$ST" */
	0x1a, 0x08, 0x58, 0x43, 0x42, 0x52, 0x31, 0x24, 0x53, 0x54,
};

static const uint8_t mms_delnvl[] = {
	0x03, 0x00, 0x00, 0x2c,	/* TPKT, length 44 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x1f,	/* presentation fully-encoded-data */
	0x30, 0x1d,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x18,	/*     single-ASN1-type */
	0xa0, 0x16,	/*       confirmed-RequestPDU */
	0x02, 0x01, 0x11,	/*         invokeID 17 */
	0xad, 0x11,	/*         deleteNamedVariableList [13] */
	0x80, 0x01, 0x00,	/*           scopeOfDelete specific */
	0xa1, 0x0c,	/*           listOfVariableListName */
	0xa1, 0x0a,	/*             domain-specific */
	0x1a, 0x03, 0x4c, 0x44, 0x30,	/*               "LD0" */
	0x1a, 0x03, 0x44, 0x53, 0x31,	/*               "DS1" */
};

static const uint8_t mms_report[] = {
	0x03, 0x00, 0x00, 0x24,	/* TPKT, length 36 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x17,	/* presentation fully-encoded-data */
	0x30, 0x15,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x10,	/*     single-ASN1-type */
	0xa3, 0x0e,	/*       unconfirmed-PDU */
	0xa0, 0x0c,	/*         informationReport */
	0xa1, 0x05,	/*           variableListName */
	0x80, 0x03, 0x52, 0x50, 0x54,	/*             vmd-specific */
	0xa0, 0x03,	/*           listOfAccessResult */
	0x83, 0x01, 0x00,	/*             boolean */
};

static const uint8_t mms_resp[] = {
	0x03, 0x00, 0x00, 0x1d,	/* TPKT, length 29 */
	0x02, 0xf0, 0x80,	/* COTP DT, end of TSDU */
	0x01, 0x00, 0x01, 0x00,	/* session Give Tokens + Data Transfer */
	0x61, 0x10,	/* presentation fully-encoded-data */
	0x30, 0x0e,	/*   PDV-list */
	0x02, 0x01, 0x03,	/*     context 3 (MMS) */
	0xa0, 0x09,	/*     single-ASN1-type */
	0xa1, 0x07,	/*       confirmed-ResponsePDU */
	0x02, 0x01, 0x07,	/*         invokeID 7 */
	0xa5, 0x02,	/*         write */
	0x81, 0x00,	/*           success */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(mms_initiate), FIX(mms_read), FIX(mms_conclude), FIX(cotp_cr),
	FIX(mms_write), FIX(mms_gnl), FIX(mms_gnl_dom), FIX(mms_deldom),
	FIX(mms_start), FIX(mms_kill), FIX(mms_fdel), FIX(mms_fopen),
	FIX(mms_dl), FIX(mms_defnvl), FIX(mms_delnvl), FIX(mms_report),
	FIX(mms_resp),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

static bool
streq(const uint8_t *p, size_t n, const char *s)
{
	return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

/*
 * Parse from an exact-size copy (ASan sees over-reads).  The copy lives
 * until the next call, since m points into it.
 */
static int
parse_copy(const uint8_t *p, size_t n, struct mms_pdu *m)
{
	static uint8_t *last;

	free(last);
	last = tu_dup_exact(p, n);
	return mms_parse(last, n, m);
}

START_TEST(test_initiate)
{
	struct mms_pdu m;

	ck_assert_int_eq(parse_copy(mms_initiate, sizeof mms_initiate, &m), 0);
	ck_assert_uint_eq(m.frame_len, 167);
	ck_assert_uint_eq(m.cotp_type, 0xf0);
	ck_assert_uint_eq(m.spdu, 13);
	ck_assert_uint_eq(m.pdu, MMS_PDU_INITIATE_REQ);
	ck_assert_int_eq(m.service, -1);
	ck_assert(!m.has_invoke);
	ck_assert_str_eq(mms_pdu_name(m.pdu), "initiate-request");
	ck_assert(mms_probe(mms_initiate, sizeof mms_initiate));
}
END_TEST

START_TEST(test_read)
{
	struct mms_pdu m;

	ck_assert_int_eq(parse_copy(mms_read, sizeof mms_read, &m), 0);
	ck_assert_uint_eq(m.spdu, 1);
	ck_assert_uint_eq(m.pdu, MMS_PDU_CONFIRMED_REQ);
	ck_assert(m.has_invoke);
	ck_assert_uint_eq(m.invoke_id, 303732);
	ck_assert_int_eq(m.service, MMS_SVC_READ);
	ck_assert(streq(m.domain, m.domain_len, "AA1E1Q01FP2LD0"));
	ck_assert(streq(m.name, m.name_len, "LLN0$BR$rcb_B02"));
	ck_assert_uint_eq(m.n_vars, 1);
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_READ);
	ck_assert_str_eq(mms_service_name(m.service), "read");
}
END_TEST

START_TEST(test_no_mms)
{
	struct mms_pdu m;

	ck_assert_int_eq(parse_copy(mms_conclude, sizeof mms_conclude, &m), 0);
	ck_assert_uint_eq(m.pdu, MMS_PDU_CONCLUDE_REQ);
	ck_assert_int_eq(parse_copy(cotp_cr, sizeof cotp_cr, &m), 0);
	ck_assert_uint_eq(m.cotp_type, 0xe0);
	ck_assert_uint_eq(m.pdu, MMS_PDU_NONE);
	ck_assert(!mms_probe(cotp_cr, sizeof cotp_cr));
}
END_TEST

START_TEST(test_services)
{
	struct mms_pdu m;

	ck_assert_int_eq(parse_copy(mms_write, sizeof mms_write, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_WRITE);
	ck_assert_uint_eq(m.invoke_id, 7);
	ck_assert(streq(m.domain, m.domain_len, "LD0"));
	ck_assert(streq(m.name, m.name_len, "XCBR1$CO$Pos$Oper"));
	ck_assert_uint_eq(m.n_vars, 1);
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_WRITE);

	ck_assert_int_eq(parse_copy(mms_gnl, sizeof mms_gnl, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_GET_NAME_LIST);
	ck_assert_int_eq(m.object_class, MMS_OBJCLASS_DOMAIN);
	ck_assert(m.domain == NULL);
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_DISCOVERY);
	ck_assert_int_eq(parse_copy(mms_gnl_dom, sizeof mms_gnl_dom, &m), 0);
	ck_assert_int_eq(m.object_class, MMS_OBJCLASS_NAMED_VARIABLE);
	ck_assert(streq(m.domain, m.domain_len, "LD0"));

	ck_assert_int_eq(parse_copy(mms_deldom, sizeof mms_deldom, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_DELETE_DOMAIN);
	ck_assert(streq(m.name, m.name_len, "LD0"));
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_DOMAIN_DELETE);

	ck_assert_int_eq(parse_copy(mms_start, sizeof mms_start, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_START);
	ck_assert(streq(m.name, m.name_len, "PROG1"));
	ck_assert_int_eq(parse_copy(mms_kill, sizeof mms_kill, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_KILL);
	ck_assert(streq(m.name, m.name_len, "PROG1"));
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_PROGRAM);

	ck_assert_int_eq(parse_copy(mms_fdel, sizeof mms_fdel, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_FILE_DELETE);
	ck_assert(streq(m.name, m.name_len, "/cfg.scd"));
	ck_assert_int_eq(parse_copy(mms_fopen, sizeof mms_fopen, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_FILE_OPEN);
	ck_assert(streq(m.name, m.name_len, "cfg.scd"));
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_FILE);

	ck_assert_int_eq(parse_copy(mms_dl, sizeof mms_dl, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_INIT_DOWNLOAD);
	ck_assert(streq(m.name, m.name_len, "LD0"));
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_DOWNLOAD);

	ck_assert_int_eq(parse_copy(mms_defnvl, sizeof mms_defnvl, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_DEFINE_NVL);
	ck_assert(streq(m.domain, m.domain_len, "LD0"));
	ck_assert(streq(m.name, m.name_len, "DS1"));
	ck_assert_uint_eq(m.n_vars, 2);
	ck_assert_int_eq(parse_copy(mms_delnvl, sizeof mms_delnvl, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_DELETE_NVL);
	ck_assert(streq(m.name, m.name_len, "DS1"));
	ck_assert_uint_eq(m.n_vars, 1);
	ck_assert_int_eq(mms_service_class(m.service), MMS_CLASS_NVL);

	ck_assert_int_eq(parse_copy(mms_report, sizeof mms_report, &m), 0);
	ck_assert_uint_eq(m.pdu, MMS_PDU_UNCONFIRMED);
	ck_assert_int_eq(m.service, 0);
	ck_assert_str_eq(mms_unconfirmed_name(m.service), "informationReport");
	ck_assert(!m.has_invoke);

	ck_assert_int_eq(parse_copy(mms_resp, sizeof mms_resp, &m), 0);
	ck_assert_uint_eq(m.pdu, MMS_PDU_CONFIRMED_RESP);
	ck_assert_int_eq(m.service, MMS_SVC_WRITE);
	ck_assert_uint_eq(m.invoke_id, 7);
	ck_assert(m.name == NULL);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof mms_write];
	struct mms_pdu m;
	size_t len;

	memcpy(b, mms_write, sizeof b);
	b[0] = 0x04;			/* TPKT version 4 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	ck_assert_int_eq(mms_frame_len(b, 1, &len), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[3] = 0x06;			/* TPKT length 6 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[4] = 0x03;			/* COTP DT with LI 3 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[7] = 0x05;			/* unknown SPDU */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[12] = 0x34;			/* presentation past the frame */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[20] = 0xae;			/* MMS PDU tag [14] */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[22] = 0x04;			/* invokeID OCTET STRING */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, mms_write, sizeof b);
	b[6] = 0x00;			/* COTP DT without end of TSDU */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), 0);
	ck_assert(m.segmented);
	ck_assert_uint_eq(m.pdu, MMS_PDU_NONE);
	ck_assert_int_eq(mms_parse(b, sizeof b, NULL), IDS_EINVAL);
	ck_assert_int_eq(mms_frame_len(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof mms_read + sizeof mms_conclude];
	struct mms_pdu m;
	size_t len;

	memcpy(two, mms_read, sizeof mms_read);
	memcpy(two + sizeof mms_read, mms_conclude, sizeof mms_conclude);
	ck_assert_int_eq(mms_frame_len(two, 3, &len), IDS_EAGAIN);
	ck_assert_int_eq(mms_frame_len(two, sizeof two, &len), 0);
	ck_assert_uint_eq(len, sizeof mms_read);
	ck_assert_int_eq(mms_parse(two, sizeof two, &m), 0);
	ck_assert_int_eq(m.service, MMS_SVC_READ);
	ck_assert_int_eq(mms_parse(two + len, sizeof two - len, &m), 0);
	ck_assert_uint_eq(m.pdu, MMS_PDU_CONCLUDE_REQ);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i;
	struct mms_pdu m;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = mms_parse(c, k, &m);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	ck_assert(!mms_probe(c, k));
	free(c);
}
END_TEST

static Suite *
mms_suite(void)
{
	Suite *s = suite_create("mms");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_initiate);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_no_mms);
	tcase_add_test(tc, test_services);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_frame_len);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mms_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
