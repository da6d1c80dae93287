/*
 * pndcp.h - PROFINET DCP parser (Discovery and Configuration Protocol,
 * EtherType 0x8892, acyclic real-time frames 0xFEFC-0xFEFF).
 *
 * Spec: IEC 61158-6-10:2014 4.3 (DCP PDU, blocks, options), IEC
 * 61158-6-10 Table 209 (FrameID ranges).
 *
 * The bytes after the EtherType (and any 802.1Q tag):
 *
 *   +---------+-----------+-------------+-----+---------------+---------+
 *   | FrameID | ServiceID | ServiceType | Xid | ResponseDelay | DataLen |
 *   | 2       | 1         | 1           | 4   | 2 (or 0)      | 2       |
 *   +---------+-----------+-------------+-----+---------------+---------+
 *   | blocks (DataLen bytes), Ethernet padding may follow               |
 *   +-------------------------------------------------------------------+
 *
 *   block: Option(1) Suboption(1) BlockLength(2) [BlockInfo or
 *          BlockQualifier(2)] data; padded to an even length.  The two
 *          extra octets are there in Identify/Get responses and Set
 *          requests, not in Identify requests (a filter) or Hello.
 *          A Get request is a bare list of Option/Suboption pairs.
 *
 *   FrameID 0xFEFC Hello, 0xFEFD Get/Set (unicast), 0xFEFE Identify
 *   request (multicast 01:0e:cf:00:00:00), 0xFEFF Identify response.
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_PNDCP_H
#define ICSENTRY_DISSECTORS_PNDCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PNIO_ETHERTYPE		0x8892
#define PNDCP_HDR_LEN		12	/* FrameID .. DataLength */

#define PNDCP_FRAME_HELLO	0xFEFC
#define PNDCP_FRAME_GETSET	0xFEFD
#define PNDCP_FRAME_IDENT_REQ	0xFEFE
#define PNDCP_FRAME_IDENT_RESP	0xFEFF

enum pndcp_service {
	PNDCP_SVC_GET = 3,
	PNDCP_SVC_SET = 4,
	PNDCP_SVC_IDENTIFY = 5,
	PNDCP_SVC_HELLO = 6
};

enum pndcp_service_type {
	PNDCP_REQUEST = 0,
	PNDCP_RESPONSE_OK = 1,
	PNDCP_RESPONSE_UNSUPPORTED = 5
};

/* Options and the suboptions that matter */
#define PNDCP_OPT_IP		0x01	/* 1 MAC, 2 IP parameter, 3 full suite */
#define PNDCP_OPT_DEVICE	0x02	/* 1 vendor, 2 name, 3 id, 4 role,
					   5 options, 6 alias, 7 instance */
#define PNDCP_OPT_DHCP		0x03
#define PNDCP_OPT_CONTROL	0x05	/* 1 start, 2 stop, 3 signal, 4
					   response, 5 factory reset, 6 reset
					   to factory */
#define PNDCP_OPT_INITIATIVE	0x06
#define PNDCP_OPT_ALL		0xFF	/* 0xFF/0xFF: Identify all */

/* What a Set request (or a Get request) touches: bits of .set */
#define PNDCP_SET_IP		0x01
#define PNDCP_SET_NAME		0x02
#define PNDCP_SET_FACTORY_RESET	0x04	/* control 5 or 6 */
#define PNDCP_SET_SIGNAL	0x08	/* control 3: flash the LED */
#define PNDCP_SET_START		0x10	/* control 1 */
#define PNDCP_SET_STOP		0x20	/* control 2 */
#define PNDCP_SET_DHCP		0x40
#define PNDCP_SET_OTHER		0x80

/* NameOfStation: 240 octets (61158-6-10 4.3.1.3.4). */
#define PNDCP_NAME_MAX		240

struct pndcp_pdu {
	uint16_t	 frame_id;
	uint8_t		 service;	/* enum pndcp_service */
	uint8_t		 type;		/* enum pndcp_service_type */
	uint32_t	 xid;
	uint16_t	 response_delay;	/* Identify request only */
	uint16_t	 data_len;
	unsigned	 n_blocks;

	/* Identify request */
	bool		 identify_all;	/* the 0xFF/0xFF filter */
	/* Set request */
	uint8_t		 set;		/* PNDCP_SET_* */
	/* Identify filter, Identify/Get response, Set request, Hello */
	const uint8_t	*name;		/* NameOfStation */
	size_t		 name_len;
	const uint8_t	*vendor;	/* TypeOfStation ("S7-300") */
	size_t		 vendor_len;
	bool		 has_id;
	uint16_t	 vendor_id;
	uint16_t	 device_id;
	bool		 has_role;
	uint8_t		 role;		/* 1 IO device, 2 controller, 4 multi,
					   8 supervisor */
	bool		 has_ip;
	uint8_t		 ip[4], mask[4], gw[4];
	bool		 has_mac;
	uint8_t		 mac[6];
	size_t		 frame_len;	/* header + data */
};

/* Is frame_id a DCP frame (0xFEFC..0xFEFF)? */
static inline bool
pndcp_is_dcp(uint16_t frame_id)
{
	return frame_id >= PNDCP_FRAME_HELLO && frame_id <= PNDCP_FRAME_IDENT_RESP;
}

/*
 * Parse the bytes after EtherType 0x8892.  Returns 0, IDS_ENOTSUP when the
 * FrameID is not DCP (cyclic RT, alarms, PTCP: *out holds only the
 * FrameID), IDS_ETRUNC when n is shorter than the header or its data
 * length, IDS_EMALFORMED for an unknown service, a block overrunning the
 * data, a bad IP block or a too-long name, IDS_EINVAL on NULL out.  out
 * is zeroed first.
 */
int pndcp_parse(const uint8_t *p, size_t n, struct pndcp_pdu *out);

/* "Identify", "Set", ...; never NULL. */
const char *pndcp_service_name(uint8_t service);

/* "io-device", "io-controller", ... for a role bit set; never NULL. */
const char *pndcp_role_name(uint8_t role);

#endif
