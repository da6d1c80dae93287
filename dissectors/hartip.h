/*
 * hartip.h - HART-IP (HART over IP, FieldComm Group HCF_SPEC-085), TCP and
 * UDP port 5094: header recognition, and the HART command of a
 * token-passing PDU.
 *
 * HART-IP header (big endian), 8 bytes, then the body:
 *
 *   0         1          2        3        4..5       6..7
 *  +---------+----------+--------+--------+----------+------------+
 *  | version | msg type | msg id | status | sequence | byte count |
 *  +---------+----------+--------+--------+----------+------------+
 *  byte count is the whole message, header included.
 *
 * A token-passing PDU (msg id 3) carries a HART frame: delimiter (bit 7
 * set: 5-byte long address, else 1-byte short), address, command, byte
 * count, data.
 */
#ifndef ICSENTRY_DISSECTORS_HARTIP_H
#define ICSENTRY_DISSECTORS_HARTIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HARTIP_HDR_LEN		8
#define HARTIP_MAX_LEN		8192	/* larger byte counts: not HART-IP */

enum hartip_msg_type {
	HARTIP_REQUEST = 0,
	HARTIP_RESPONSE = 1,
	HARTIP_PUBLISH = 2,
	HARTIP_ERROR = 3,
	HARTIP_NAK = 15
};

enum hartip_msg_id {
	HARTIP_SESSION_INITIATE = 0,
	HARTIP_SESSION_CLOSE = 1,
	HARTIP_KEEP_ALIVE = 2,
	HARTIP_PASS_THROUGH = 3,	/* token-passing PDU */
	HARTIP_DIRECT_PDU = 4,
	HARTIP_READ_AUDIT_LOG = 5
};

struct hartip_pdu {
	uint8_t		 version;
	uint8_t		 msg_type;	/* enum hartip_msg_type */
	uint8_t		 msg_id;	/* enum hartip_msg_id */
	uint8_t		 status;
	uint16_t	 seq;
	uint16_t	 byte_count;
	/* msg id 3 with a HART frame in the body */
	bool		 has_command;
	bool		 long_address;
	uint8_t		 command;	/* HART command number */
};

/* Length of the HART-IP message at p: 0, IDS_EAGAIN or IDS_EMALFORMED. */
int hartip_frame_len(const uint8_t *p, size_t n, size_t *len);

/* Does p start with a plausible HART-IP header? */
bool hartip_probe(const uint8_t *p, size_t n);

/* Parse one whole message p[0..n): 0 or a negative IDS_E*. */
int hartip_parse(const uint8_t *p, size_t n, struct hartip_pdu *out);

/* "Session Initiate", "Token-Passing PDU"...; "Unknown" otherwise. */
const char *hartip_msg_id_name(uint8_t id);

#endif
