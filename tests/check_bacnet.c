/*
 * check_bacnet.c - unit tests for the BACnet/IP parser (dissectors/bacnet.c).
 *
 * I-Am, ReadProperty, DeviceCommunicationControl, Reject and Abort come
 * from bacnet-icsnpp-example.pcap and bacnet-error-reject-abort.pcap.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/bacnet.h"
#include "lib/ids.h"
#include "tests/testutil.h"

/* Who-Is with device instance limits 1024..4000 */
static const uint8_t whois[] = {
	0x81,			/* BVLC type: BACnet/IP */
	0x0B,			/* Original-Broadcast-NPDU */
	0x00, 0x0E,		/* BVLC length 14 */
	0x01,			/* NPDU version */
	0x00,			/* control */
	0x10,			/* APDU: unconfirmed request */
	0x08,			/* service: who-Is */
	0x0A, 0x04, 0x00,	/* [0] low limit 1024 */
	0x1A, 0x0F, 0xA0,	/* [1] high limit 4000 */
};

/* I-Am (bacnet-icsnpp-example.pcap) */
static const uint8_t iam[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x14,		/* BVLC length 20 */
	0x01, 0x00,		/* NPDU version, control */
	0x10,			/* APDU: unconfirmed request */
	0x00,			/* service: i-Am */
	0xC4, 0x02, 0x00, 0x02, 0xD1,	/* object id: device 721 */
	0x22, 0x04, 0x00,	/* max APDU 1024 */
	0x91, 0x03,		/* segmentation: none */
	0x21, 0x0F,		/* vendor id 15 */
};

/* ReadProperty request (bacnet-icsnpp-example.pcap) */
static const uint8_t read_prop[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x11,		/* BVLC length 17 */
	0x01,			/* NPDU version */
	0x04,			/* control: expecting reply */
	0x00,			/* APDU: confirmed request */
	0x05,			/* max segments 0, max APDU 1476 */
	0x01,			/* invoke id */
	0x0C,			/* service: readProperty */
	0x0C, 0x00, 0x00, 0x00, 0x01,	/* [0] analog-input 1 */
	0x19, 0x4D,		/* [1] property: object-name */
};

/* ComplexACK to it (bacnet-icsnpp-example.pcap) */
static const uint8_t read_ack[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x21,		/* BVLC length 33 */
	0x01, 0x00,		/* NPDU version, control */
	0x30,			/* APDU: complex ack */
	0x01,			/* invoke id */
	0x0C,			/* service: readProperty */
	0x0C, 0x00, 0x00, 0x00, 0x01,	/* [0] analog-input 1 */
	0x19, 0x4D,		/* [1] object-name */
	0x3E,			/* [3] opening */
	0x75, 0x0D, 0x00,	/* character string, 13 bytes, UTF-8 */
	'S', 'e', 'n', 's', 'o', 'r', '_', '4', '5', '3', '1', '2',
	0x3F,			/* [3] closing */
};

/* ReinitializeDevice warmstart with password */
static const uint8_t reinit[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x17,		/* BVLC length 23 */
	0x01, 0x04,		/* NPDU version, control: expecting reply */
	0x00,			/* APDU: confirmed request */
	0x05,			/* max APDU 1476 */
	0x02,			/* invoke id */
	0x14,			/* service: reinitializeDevice */
	0x09, 0x01,		/* [0] reinitialized state: warmstart */
	0x1D, 0x09, 0x00,	/* [1] password: string, 9 bytes, UTF-8 */
	'p', 'a', 's', 's', 'w', 'o', 'r', 'd',
};

/* WriteProperty routed to a remote network */
static const uint8_t write_prop[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x23,		/* BVLC length 35 */
	0x01,			/* NPDU version */
	0x2C,			/* control: DNET, SNET, expecting reply */
	0x00, 0x05,		/* DNET 5 */
	0x01, 0x0A,		/* DLEN 1, DADR 0x0A */
	0x00, 0x07,		/* SNET 7 */
	0x01, 0x03,		/* SLEN 1, SADR 0x03 */
	0xFF,			/* hop count */
	0x00,			/* APDU: confirmed request */
	0x05,			/* max APDU 1476 */
	0x07,			/* invoke id */
	0x0F,			/* service: writeProperty */
	0x0C, 0x00, 0x80, 0x00, 0x05,	/* [0] analog-value 5 */
	0x19, 0x55,		/* [1] present-value */
	0x3E,			/* [3] opening */
	0x44, 0x42, 0xC8, 0x00, 0x00,	/* real 100.0 */
	0x3F,			/* [3] closing */
	0x49, 0x08,		/* [4] priority 8 */
};

/* DeviceCommunicationControl disable (bacnet-error-reject-abort.pcap) */
static const uint8_t dcc[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x19,		/* BVLC length 25 */
	0x01, 0x04,		/* NPDU version, control */
	0x00, 0x05,		/* confirmed request, max APDU */
	0x01,			/* invoke id */
	0x11,			/* service: deviceCommunicationControl */
	0x09, 0x3C,		/* [0] duration 60 min */
	0x19, 0x01,		/* [1] disable */
	0x2D, 0x09, 0x00,	/* [2] password, 9 bytes, UTF-8 */
	'f', 'i', 'l', 'i', 's', 't', 'e', 'r',
};

/* Forwarded-NPDU carrying Who-Is */
static const uint8_t forwarded[] = {
	0x81, 0x04,		/* BVLC: Forwarded-NPDU */
	0x00, 0x0E,		/* BVLC length 14 */
	0xC0, 0xA8, 0x01, 0x05,	/* originating address 192.168.1.5 */
	0xBA, 0xC0,		/* originating port 47808 */
	0x01, 0x00,		/* NPDU version, control */
	0x10, 0x08,		/* unconfirmed who-Is */
};

/* Segmented ComplexACK, second segment */
static const uint8_t seg_ack2[] = {
	0x81, 0x0A,		/* BVLC: Original-Unicast-NPDU */
	0x00, 0x10,		/* BVLC length 16 */
	0x01, 0x00,		/* NPDU version, control */
	0x3C,			/* complex ack, SEG, MOR */
	0x5E,			/* invoke id */
	0x01,			/* sequence number 1 */
	0x03,			/* proposed window size */
	0x0C,			/* service: readProperty */
	0xC4, 0x00, 0xC0, 0x00, 0x04,	/* segment data */
};

/* SegmentACK (bacnet-segmented-data.pcap) */
static const uint8_t segment_ack[] = {
	0x81, 0x0A, 0x00, 0x0A,	/* BVLC: Original-Unicast-NPDU, length 10 */
	0x01, 0x00,		/* NPDU version, control */
	0x40,			/* segment ack */
	0x5E,			/* invoke id */
	0x00,			/* sequence number */
	0x03,			/* actual window size */
};

/* Error: reinitializeDevice, services / password-failure */
static const uint8_t error_pdu[] = {
	0x81, 0x0A, 0x00, 0x0D,	/* BVLC: Original-Unicast-NPDU, length 13 */
	0x01, 0x04,		/* NPDU version, control */
	0x50,			/* error */
	0x01,			/* invoke id */
	0x14,			/* service: reinitializeDevice */
	0x91, 0x05,		/* error class: services */
	0x91, 0x1A,		/* error code: password-failure */
};

/* Reject from a remote network (bacnet-error-reject-abort.pcap) */
static const uint8_t reject[] = {
	0x81, 0x0A, 0x00, 0x0E,	/* BVLC: Original-Unicast-NPDU, length 14 */
	0x01, 0x20,		/* NPDU version, control: DNET */
	0x00, 0x0D,		/* DNET 13 */
	0x01, 0x3D,		/* DLEN 1, DADR 0x3D */
	0xFF,			/* hop count */
	0x60,			/* reject */
	0x3A,			/* invoke id */
	0x09,			/* reason: unrecognized service */
};

/* Abort from the server (bacnet-error-reject-abort.pcap) */
static const uint8_t abort_pdu[] = {
	0x81, 0x0B, 0x00, 0x09,	/* BVLC: Original-Broadcast-NPDU, length 9 */
	0x01, 0x00,		/* NPDU version, control */
	0x71,			/* abort, SRV */
	0x01,			/* invoke id */
	0x00,			/* reason: other */
};

/* BVLC-Result: no NPDU */
static const uint8_t bvlc_result[] = {
	0x81, 0x00, 0x00, 0x06,	/* BVLC-Result, length 6 */
	0x00, 0x00,		/* result: successful completion */
};

/* Network layer message: Who-Is-Router-To-Network */
static const uint8_t nl_msg[] = {
	0x81, 0x0B, 0x00, 0x07,	/* BVLC: Original-Broadcast-NPDU, length 7 */
	0x01,			/* NPDU version */
	0x80,			/* control: network layer message */
	0x00,			/* message type: Who-Is-Router-To-Network */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
};

#define FIX(a)	{ #a, a, sizeof(a) }
static const struct fixture fixtures[] = {
	FIX(whois), FIX(iam), FIX(read_prop), FIX(read_ack), FIX(reinit),
	FIX(write_prop), FIX(dcc), FIX(forwarded), FIX(seg_ack2),
	FIX(segment_ack), FIX(error_pdu), FIX(reject), FIX(abort_pdu),
	FIX(bvlc_result), FIX(nl_msg),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))


static int
parse_copy(const uint8_t *p, size_t n, struct bacnet_pdu *b)
{
	uint8_t *c = tu_dup_exact(p, n);
	int rc = bacnet_parse(c, n, b);

	free(c);
	return rc;
}

START_TEST(test_whois)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(whois, sizeof whois, &b), 0);
	ck_assert_uint_eq(b.bvlc_type, BACNET_BVLC_TYPE_BIP);
	ck_assert_uint_eq(b.bvlc_func, BACNET_BVLC_ORIGINAL_BROADCAST);
	ck_assert_uint_eq(b.bvlc_len, 14);
	ck_assert_uint_eq(b.trailing, 0);
	ck_assert(b.has_npdu && !b.nl_message && !b.expecting_reply);
	ck_assert(b.has_apdu);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_UNCONFIRMED_REQ);
	ck_assert_uint_eq(b.service, BACNET_USVC_WHO_IS);
	ck_assert(b.has_whois_range);
	ck_assert_uint_eq(b.whois_low, 1024);
	ck_assert_uint_eq(b.whois_high, 4000);
	ck_assert_str_eq(bacnet_service_name(b.apdu_type, b.service),
	    "who-Is");
}
END_TEST

START_TEST(test_iam)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(iam, sizeof iam, &b), 0);
	ck_assert_uint_eq(b.bvlc_func, BACNET_BVLC_ORIGINAL_UNICAST);
	ck_assert_uint_eq(b.service, BACNET_USVC_I_AM);
	ck_assert(b.has_iam);
	ck_assert_uint_eq(b.iam_device_instance, 721);
	ck_assert_uint_eq(b.object_type, 8);
	ck_assert_uint_eq(b.iam_max_apdu, 1024);
	ck_assert_uint_eq(b.iam_segmentation, 3);
	ck_assert_uint_eq(b.iam_vendor_id, 15);
	ck_assert_str_eq(bacnet_service_name(1, 0), "i-Am");
}
END_TEST

START_TEST(test_read_property)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(read_prop, sizeof read_prop, &b), 0);
	ck_assert(b.expecting_reply);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_CONFIRMED_REQ);
	ck_assert(!b.segmented && !b.more_follows && !b.seg_accepted);
	ck_assert_uint_eq(b.max_segs, 0);
	ck_assert_uint_eq(b.max_apdu, 5);
	ck_assert_uint_eq(b.invoke_id, 1);
	ck_assert(b.has_service);
	ck_assert_uint_eq(b.service, BACNET_SVC_READ_PROPERTY);
	ck_assert(b.has_object && b.has_property);
	ck_assert_uint_eq(b.object_type, 0);
	ck_assert_uint_eq(b.object_instance, 1);
	ck_assert_uint_eq(b.property_id, 77);
	ck_assert_uint_eq(b.service_len, 7);

	ck_assert_int_eq(parse_copy(read_ack, sizeof read_ack, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_COMPLEX_ACK);
	ck_assert_uint_eq(b.invoke_id, 1);
	ck_assert_uint_eq(b.service, BACNET_SVC_READ_PROPERTY);
	ck_assert(b.has_object);
	ck_assert_uint_eq(b.property_id, 77);
}
END_TEST

START_TEST(test_reinit)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(reinit, sizeof reinit, &b), 0);
	ck_assert_uint_eq(b.service, BACNET_SVC_REINITIALIZE_DEVICE);
	ck_assert(b.has_reinit_state);
	ck_assert_uint_eq(b.reinit_state, 1);
	ck_assert_str_eq(bacnet_service_name(0, 20), "reinitializeDevice");
}
END_TEST

START_TEST(test_trailing)
{
	/*
	 * bacnet-icsnpp-example.pcap: ReinitializeDevice whose BVLC length
	 * (17) is shorter than the datagram (25): parsed within 17 bytes.
	 */
	static const uint8_t icsnpp[] = {
		0x81, 0x0A, 0x00, 0x11,	/* BVLC length 17 */
		0x01, 0x04,		/* NPDU */
		0x00, 0x05, 0x01, 0x14,	/* confirmed reinitializeDevice */
		0x09, 0x06,		/* [0] state 6 */
		0x1D, 0x0B, 0x00,	/* [1] string, 11 bytes ... */
		'D', 'e', 'l', 'c', 'a', 't', 't', 'y', '7', '0',
	};
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(icsnpp, sizeof icsnpp, &b), 0);
	ck_assert_uint_eq(b.trailing, 8);
	ck_assert_uint_eq(b.service, BACNET_SVC_REINITIALIZE_DEVICE);
	ck_assert(b.has_reinit_state);
	ck_assert_uint_eq(b.reinit_state, 6);
	ck_assert_uint_eq(b.service_len, 7);
	ck_assert(bacnet_probe(icsnpp, sizeof icsnpp));
}
END_TEST

START_TEST(test_write_property_routed)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(write_prop, sizeof write_prop, &b), 0);
	ck_assert(b.has_dnet && b.has_snet);
	ck_assert_uint_eq(b.dnet, 5);
	ck_assert_uint_eq(b.dlen, 1);
	ck_assert_uint_eq(b.snet, 7);
	ck_assert_uint_eq(b.slen, 1);
	ck_assert_uint_eq(b.hop_count, 0xFF);
	ck_assert(b.expecting_reply);
	ck_assert_uint_eq(b.invoke_id, 7);
	ck_assert_uint_eq(b.service, BACNET_SVC_WRITE_PROPERTY);
	ck_assert(b.has_object && b.has_property);
	ck_assert_uint_eq(b.object_type, 2);
	ck_assert_uint_eq(b.object_instance, 5);
	ck_assert_uint_eq(b.property_id, 85);
	ck_assert_str_eq(bacnet_service_name(0, 15), "writeProperty");
}
END_TEST

START_TEST(test_dcc)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(dcc, sizeof dcc, &b), 0);
	ck_assert_uint_eq(b.service, BACNET_SVC_DEVICE_COMM_CONTROL);
	ck_assert(b.has_dcc_state);
	ck_assert_uint_eq(b.dcc_state, 1);
}
END_TEST

START_TEST(test_forwarded)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(forwarded, sizeof forwarded, &b), 0);
	ck_assert_uint_eq(b.bvlc_func, BACNET_BVLC_FORWARDED_NPDU);
	ck_assert(b.has_orig_addr);
	ck_assert_uint_eq(b.orig_ip, 0xC0A80105);
	ck_assert_uint_eq(b.orig_port, 47808);
	ck_assert_uint_eq(b.service, BACNET_USVC_WHO_IS);
	ck_assert(!b.has_whois_range);
}
END_TEST

START_TEST(test_segmentation)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(seg_ack2, sizeof seg_ack2, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_COMPLEX_ACK);
	ck_assert(b.segmented && b.more_follows);
	ck_assert_uint_eq(b.invoke_id, 0x5E);
	ck_assert_uint_eq(b.seq_num, 1);
	ck_assert_uint_eq(b.window, 3);
	ck_assert_uint_eq(b.service, BACNET_SVC_READ_PROPERTY);
	ck_assert(!b.has_object);		/* not the first segment */

	ck_assert_int_eq(parse_copy(segment_ack, sizeof segment_ack, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_SEGMENT_ACK);
	ck_assert(!b.has_service);
	ck_assert_uint_eq(b.invoke_id, 0x5E);
	ck_assert_uint_eq(b.seq_num, 0);
	ck_assert_uint_eq(b.window, 3);
}
END_TEST

START_TEST(test_error_reject_abort)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(error_pdu, sizeof error_pdu, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_ERROR);
	ck_assert_uint_eq(b.invoke_id, 1);
	ck_assert_uint_eq(b.service, BACNET_SVC_REINITIALIZE_DEVICE);
	ck_assert_uint_eq(b.service_len, 4);

	ck_assert_int_eq(parse_copy(reject, sizeof reject, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_REJECT);
	ck_assert(b.has_dnet && !b.has_snet);
	ck_assert_uint_eq(b.dnet, 13);
	ck_assert_uint_eq(b.invoke_id, 0x3A);
	ck_assert_uint_eq(b.reason, 9);
	ck_assert(!b.has_service);

	ck_assert_int_eq(parse_copy(abort_pdu, sizeof abort_pdu, &b), 0);
	ck_assert_uint_eq(b.apdu_type, BACNET_APDU_ABORT);
	ck_assert_uint_eq(b.apdu_flags, 1);
	ck_assert_uint_eq(b.invoke_id, 1);
	ck_assert_uint_eq(b.reason, 0);
	ck_assert_str_eq(bacnet_apdu_type_name(b.apdu_type), "Abort");
}
END_TEST

START_TEST(test_bvll_and_network)
{
	struct bacnet_pdu b;

	ck_assert_int_eq(parse_copy(bvlc_result, sizeof bvlc_result, &b), 0);
	ck_assert_uint_eq(b.bvlc_func, BACNET_BVLC_RESULT);
	ck_assert(!b.has_npdu && !b.has_apdu);

	ck_assert_int_eq(parse_copy(nl_msg, sizeof nl_msg, &b), 0);
	ck_assert(b.has_npdu && b.nl_message && !b.has_apdu);
	ck_assert_uint_eq(b.nl_msg_type, 0);
	ck_assert_str_eq(bacnet_bvlc_func_name(0x0B),
	    "Original-Broadcast-NPDU");
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i;
	struct bacnet_pdu b;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = bacnet_parse(c, k, &b);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	ck_assert(!bacnet_probe(c, k));
	free(c);
}
END_TEST

START_TEST(test_probe)
{
	size_t i;

	for (i = 0; i < NFIX; i++)
		ck_assert_msg(bacnet_probe(fixtures[i].bytes, fixtures[i].len),
		    "%s", fixtures[i].name);
	ck_assert(!bacnet_probe(NULL, 0));
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[sizeof read_prop];
	struct bacnet_pdu m;

	memcpy(b, read_prop, sizeof b);
	b[0] = 0x82;				/* not BACnet/IP */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	ck_assert_int_eq(parse_copy(b, 1, &m), IDS_EMALFORMED);
	ck_assert(!bacnet_probe(b, sizeof b));
	memcpy(b, read_prop, sizeof b);
	b[1] = 0x0D;				/* no such BVLC function */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, read_prop, sizeof b);
	b[3] = 0x03;				/* BVLC length below 4 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, read_prop, sizeof b);
	b[4] = 0x02;				/* NPDU version 2 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	ck_assert(!bacnet_probe(b, sizeof b));
	memcpy(b, read_prop, sizeof b);
	b[5] = 0x44;				/* reserved control bit */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, read_prop, sizeof b);
	b[6] = 0x80;				/* APDU type 8 */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
	memcpy(b, read_prop, sizeof b);
	b[3] = 0x08;				/* APDU cut after 2 octets */
	ck_assert_int_eq(parse_copy(b, 8, &m), IDS_EMALFORMED);
	ck_assert_int_eq(bacnet_parse(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_bad_snet)
{
	uint8_t b[sizeof write_prop];
	struct bacnet_pdu m;

	memcpy(b, write_prop, sizeof b);
	b[12] = 0x00;				/* SLEN 0 is invalid */
	ck_assert_int_eq(parse_copy(b, sizeof b, &m), IDS_EMALFORMED);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(bacnet_service_name(0, 7), "atomicWriteFile");
	ck_assert_str_eq(bacnet_service_name(0, 16), "writePropertyMultiple");
	ck_assert_str_eq(bacnet_service_name(0, 17),
	    "deviceCommunicationControl");
	ck_assert_str_eq(bacnet_service_name(2, 15), "writeProperty");
	ck_assert_str_eq(bacnet_service_name(5, 20), "reinitializeDevice");
	ck_assert_str_eq(bacnet_service_name(1, 8), "who-Is");
	ck_assert_str_eq(bacnet_service_name(0, 200), "unknown");
	ck_assert_str_eq(bacnet_service_name(7, 0), "none");
	ck_assert_str_eq(bacnet_apdu_type_name(9), "unknown");
}
END_TEST

static Suite *
bacnet_suite(void)
{
	Suite *s = suite_create("bacnet_parse");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_whois);
	tcase_add_test(tc, test_iam);
	tcase_add_test(tc, test_read_property);
	tcase_add_test(tc, test_reinit);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_write_property_routed);
	tcase_add_test(tc, test_dcc);
	tcase_add_test(tc, test_forwarded);
	tcase_add_test(tc, test_segmentation);
	tcase_add_test(tc, test_error_reject_abort);
	tcase_add_test(tc, test_bvll_and_network);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_snet);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bacnet_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
