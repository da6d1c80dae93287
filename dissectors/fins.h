/*
 * fins.h - Omron FINS over UDP and TCP (port 9600).
 * Reference: Omron W342 "FINS Commands Reference Manual", section 3
 * (FINS frames) and section 7 (FINS/TCP).
 *
 * FINS frame (UDP payload, or after the FINS/TCP header):
 *
 *   0     1     2     3     4     5     6     7     8     9     10    11
 *  +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *  | ICF | RSV | GCT | DNA | DA1 | DA2 | SNA | SA1 | SA2 | SID | MRC | SRC |
 *  +-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+
 *  then parameters (command) or MRES SRES end code + data (response).
 *  ICF bit 7 = 1 always, bit 6 = 1 response / 0 command.
 *
 * FINS/TCP header (big endian):
 *
 *  +--------+--------+---------+------------+
 *  | "FINS" | length | command | error code |   length counts from command
 *  +--------+--------+---------+------------+
 *  command 0/1: node address data send (client/server), 2: FINS frame send.
 */
#ifndef ICSENTRY_DISSECTORS_FINS_H
#define ICSENTRY_DISSECTORS_FINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FINS_HDR_LEN		10
#define FINS_TCP_HDR_LEN	16
#define FINS_TCP_MAX		(2000 + FINS_TCP_HDR_LEN)

/* Command codes (MRC << 8 | SRC) that matter for security. */
enum fins_cmd {
	FINS_MEM_READ = 0x0101,
	FINS_MEM_WRITE = 0x0102,
	FINS_MEM_FILL = 0x0103,
	FINS_MEM_MULTI_READ = 0x0104,
	FINS_MEM_TRANSFER = 0x0105,
	FINS_PARAM_WRITE = 0x0202,
	FINS_PARAM_CLEAR = 0x0203,
	FINS_PROGRAM_READ = 0x0306,
	FINS_PROGRAM_WRITE = 0x0307,
	FINS_PROGRAM_CLEAR = 0x0308,
	FINS_RUN = 0x0401,
	FINS_STOP = 0x0402,
	FINS_CONTROLLER_DATA_READ = 0x0501,
	FINS_CONNECTION_DATA_READ = 0x0502,
	FINS_STATUS_READ = 0x0601,
	FINS_CLOCK_READ = 0x0701,
	FINS_CLOCK_WRITE = 0x0702,
	FINS_ACCESS_RIGHT_ACQUIRE = 0x0C01,
	FINS_ACCESS_RIGHT_FORCED = 0x0C02,
	FINS_ERROR_CLEAR = 0x2101,
	FINS_FILE_WRITE = 0x2203,
	FINS_FILE_DELETE = 0x2205,
	FINS_FORCED_SET_RESET = 0x2301,
	FINS_FORCED_CANCEL = 0x2302
};

struct fins_pdu {
	/* FINS/TCP, when the bytes came in one */
	bool		 tcp;
	uint32_t	 tcp_cmd;	/* 0, 1, 2 ... */
	uint32_t	 tcp_err;
	size_t		 frame_len;	/* bytes consumed */

	bool		 has_frame;	/* a FINS command/response follows */
	uint8_t		 icf;
	bool		 response;
	uint8_t		 dna, da1, da2, sna, sa1, sa2, sid;
	uint16_t	 cmd;		/* MRC << 8 | SRC */
	uint16_t	 end_code;	/* responses */
	const uint8_t	*params;	/* after MRC/SRC (and end code) */
	size_t		 params_len;
	/* memory area read/write */
	bool		 has_area;
	uint8_t		 area;
	uint16_t	 address;
	uint8_t		 bit;
	uint16_t	 count;
};

/* TCP framing: 0 with *len, IDS_EAGAIN, or IDS_EMALFORMED (no "FINS"). */
int fins_frame_len(const uint8_t *p, size_t n, size_t *len);

/* A UDP payload that is a plausible FINS frame (ICF, reserved, command). */
bool fins_probe(const uint8_t *p, size_t n);

/*
 * Parse one FINS/TCP frame (tcp true) or one UDP FINS frame.  Returns 0,
 * IDS_ETRUNC or IDS_EMALFORMED; out is zeroed first.
 */
int fins_parse(const uint8_t *p, size_t n, bool tcp, struct fins_pdu *out);

/* Static name of a command code; never NULL. */
const char *fins_cmd_name(uint16_t cmd);

#endif
