/*
 * bacnet.h - BACnet/IP parser: BVLC, NPDU, APDU header, I-Am, Who-Is.
 *
 * Spec: ANSI/ASHRAE Standard 135-2016, Annex J (BACnet/IP, BVLL), clause 6
 * (network layer, NPDU), clause 20.1 (APDU encoding) and 20.2 (tags).
 * UDP port 47808 (0xBAC0); one BVLC message per datagram.
 *
 * BVLC + NPDU (big endian):
 *
 *   +------+----------+----------------+
 *   | 0x81 | function | length (total) |   (Forwarded-NPDU: + B/IP addr 6)
 *   +------+----------+----------------+
 *   | version 1 | control | [DNET(2) DLEN DADR] [SNET(2) SLEN SADR] [hop]
 *   +-----------+---------+   control: NL msg 0x80, DNET 0x20, SNET 0x08,
 *                                      expecting reply 0x04, priority 0x03
 *   | [NL message type (vendor id(2) if >= 0x80)]  or  APDU ...
 *
 * APDU first octet: type (bits 7-4) | flags (SEG 0x08, MOR 0x04, SA 0x02;
 * segment ack: NAK 0x02, SRV 0x01).  Then per type:
 *   0 confirmed:   flags | max segs/max APDU | invoke id | [seq | window] |
 *                  service | request
 *   1 unconfirmed: flags | service | request
 *   2 simple ack:  flags | invoke id | service
 *   3 complex ack: flags | invoke id | [seq | window] | service | ack
 *   4 segment ack: flags | invoke id | seq | window
 *   5 error:       flags | invoke id | service | error class/code
 *   6 reject, 7 abort: flags | invoke id | reason
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_BACNET_H
#define ICSENTRY_DISSECTORS_BACNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACNET_BVLC_TYPE_BIP	0x81
#define BACNET_BVLC_HDR_LEN	4
#define BACNET_NPDU_VERSION	1
#define BACNET_UDP_PORT		47808

enum bacnet_bvlc_func {
	BACNET_BVLC_RESULT = 0x00,
	BACNET_BVLC_WRITE_BDT = 0x01,
	BACNET_BVLC_READ_BDT = 0x02,
	BACNET_BVLC_READ_BDT_ACK = 0x03,
	BACNET_BVLC_FORWARDED_NPDU = 0x04,
	BACNET_BVLC_REGISTER_FD = 0x05,
	BACNET_BVLC_READ_FDT = 0x06,
	BACNET_BVLC_READ_FDT_ACK = 0x07,
	BACNET_BVLC_DELETE_FDT_ENTRY = 0x08,
	BACNET_BVLC_DISTRIBUTE_BROADCAST = 0x09,
	BACNET_BVLC_ORIGINAL_UNICAST = 0x0A,
	BACNET_BVLC_ORIGINAL_BROADCAST = 0x0B,
	BACNET_BVLC_SECURE_BVLL = 0x0C
};

/* NPDU control bits */
#define BACNET_NPDU_NL_MSG	0x80
#define BACNET_NPDU_DNET	0x20
#define BACNET_NPDU_SNET	0x08
#define BACNET_NPDU_EXPECT_REPLY 0x04
#define BACNET_NPDU_PRIO_MASK	0x03

enum bacnet_apdu_type {
	BACNET_APDU_CONFIRMED_REQ = 0,
	BACNET_APDU_UNCONFIRMED_REQ = 1,
	BACNET_APDU_SIMPLE_ACK = 2,
	BACNET_APDU_COMPLEX_ACK = 3,
	BACNET_APDU_SEGMENT_ACK = 4,
	BACNET_APDU_ERROR = 5,
	BACNET_APDU_REJECT = 6,
	BACNET_APDU_ABORT = 7
};

/* Confirmed services of note */
enum bacnet_confirmed_service {
	BACNET_SVC_ACKNOWLEDGE_ALARM = 0,
	BACNET_SVC_SUBSCRIBE_COV = 5,
	BACNET_SVC_ATOMIC_READ_FILE = 6,
	BACNET_SVC_ATOMIC_WRITE_FILE = 7,
	BACNET_SVC_ADD_LIST_ELEMENT = 8,
	BACNET_SVC_REMOVE_LIST_ELEMENT = 9,
	BACNET_SVC_CREATE_OBJECT = 10,
	BACNET_SVC_DELETE_OBJECT = 11,
	BACNET_SVC_READ_PROPERTY = 12,
	BACNET_SVC_READ_PROPERTY_MULTIPLE = 14,
	BACNET_SVC_WRITE_PROPERTY = 15,
	BACNET_SVC_WRITE_PROPERTY_MULTIPLE = 16,
	BACNET_SVC_DEVICE_COMM_CONTROL = 17,
	BACNET_SVC_PRIVATE_TRANSFER = 18,
	BACNET_SVC_TEXT_MESSAGE = 19,
	BACNET_SVC_REINITIALIZE_DEVICE = 20,
	BACNET_SVC_READ_RANGE = 26
};

/* Unconfirmed services of note */
enum bacnet_unconfirmed_service {
	BACNET_USVC_I_AM = 0,
	BACNET_USVC_I_HAVE = 1,
	BACNET_USVC_COV_NOTIFICATION = 2,
	BACNET_USVC_PRIVATE_TRANSFER = 4,
	BACNET_USVC_TIME_SYNC = 6,
	BACNET_USVC_WHO_HAS = 7,
	BACNET_USVC_WHO_IS = 8,
	BACNET_USVC_UTC_TIME_SYNC = 9
};

struct bacnet_pdu {
	/* BVLC */
	uint8_t		 bvlc_type;	/* 0x81 */
	uint8_t		 bvlc_func;
	uint16_t	 bvlc_len;
	size_t		 trailing;	/* datagram bytes past bvlc_len */
	bool		 has_orig_addr;	/* Forwarded-NPDU */
	uint32_t	 orig_ip;	/* host byte order */
	uint16_t	 orig_port;

	/* NPDU */
	bool		 has_npdu;
	uint8_t		 npdu_control;
	bool		 nl_message;	/* network-layer message, no APDU */
	bool		 expecting_reply;
	uint8_t		 priority;
	bool		 has_dnet;
	uint16_t	 dnet;
	uint8_t		 dlen;		/* 0: broadcast on dnet */
	const uint8_t	*dadr;
	bool		 has_snet;
	uint16_t	 snet;
	uint8_t		 slen;
	const uint8_t	*sadr;
	uint8_t		 hop_count;
	uint8_t		 nl_msg_type;
	uint16_t	 nl_vendor;	/* for nl_msg_type >= 0x80 */

	/* APDU */
	bool		 has_apdu;
	uint8_t		 apdu_type;	/* enum bacnet_apdu_type */
	uint8_t		 apdu_flags;	/* low nibble of the first octet */
	bool		 segmented;	/* SEG */
	bool		 more_follows;	/* MOR */
	bool		 seg_accepted;	/* SA */
	uint8_t		 max_segs;	/* confirmed request: bits 6-4 */
	uint8_t		 max_apdu;	/* confirmed request: bits 3-0 */
	uint8_t		 invoke_id;
	uint8_t		 seq_num;	/* segmented messages, segment ack */
	uint8_t		 window;
	bool		 has_service;
	uint8_t		 service;	/* service choice */
	uint8_t		 reason;	/* reject / abort reason */
	const uint8_t	*service_data;	/* request/ack parameters */
	size_t		 service_len;

	/* Leading object identifier of many services (context tag 0) and
	 * property identifier (context tag 1): ReadProperty, WriteProperty,
	 * their -Multiple forms, CreateObject, DeleteObject, ... */
	bool		 has_object;
	uint16_t	 object_type;
	uint32_t	 object_instance;
	bool		 has_property;
	uint32_t	 property_id;

	/* ReinitializeDevice (20): reinitialized state (0 coldstart, ...) */
	bool		 has_reinit_state;
	uint8_t		 reinit_state;
	/* DeviceCommunicationControl (17): 0 enable, 1 disable, 2 disable-initiation */
	bool		 has_dcc_state;
	uint8_t		 dcc_state;

	/* I-Am */
	bool		 has_iam;
	uint32_t	 iam_device_instance;
	uint32_t	 iam_max_apdu;
	uint8_t		 iam_segmentation;
	uint16_t	 iam_vendor_id;

	/* Who-Is limits */
	bool		 has_whois_range;
	uint32_t	 whois_low;
	uint32_t	 whois_high;
};

/*
 * True when p looks like BACnet/IP: type 0x81, a defined BVLC function,
 * 4 <= BVLC length <= n and, for functions that carry one, an NPDU of
 * version 1 with the reserved control bits clear.
 */
bool bacnet_probe(const uint8_t *p, size_t n);

/*
 * Parse one BVLC message (a UDP payload).  Bytes past the BVLC length are
 * ignored (counted in out->trailing).  Returns 0, IDS_ETRUNC when n is
 * shorter than the BVLC length or than a header it announces,
 * IDS_EMALFORMED on a bad BVLC type/function/length, NPDU version or
 * address lengths, or an APDU header that does not fit, IDS_EINVAL on
 * NULL out.  out is zeroed first.
 */
int bacnet_parse(const uint8_t *p, size_t n, struct bacnet_pdu *out);

/*
 * Static name of a service choice for an APDU type (confirmed-service
 * names for types 0, 2, 3, 5; unconfirmed for 1); never NULL.
 */
const char *bacnet_service_name(uint8_t apdu_type, uint8_t service);

/* Static name of an APDU type; never NULL. */
const char *bacnet_apdu_type_name(uint8_t apdu_type);

/* Static name of a BVLC function; never NULL. */
const char *bacnet_bvlc_func_name(uint8_t func);

#endif
