/*
 * s7comm.h - ISO-on-TCP parser: TPKT, COTP, S7comm, S7comm-plus, ISO session.
 *
 * Specs: RFC 1006 (TPKT), ISO 8073 / X.224 (COTP class 0), ISO 8327-1
 * (session SPDU codes, for MMS/IEC 61850 on port 102).  S7comm and
 * S7comm-plus are proprietary (Siemens); layouts follow the Wireshark
 * s7comm / s7comm_plus dissectors and the Snap7 sources.
 *
 * TPKT + COTP (big endian):
 *
 *   +---------+----------+-------------------+
 *   | vers 3  | reserved | length (incl. hdr)|   TPKT, 4 bytes
 *   +---------+----------+-------------------+
 *   | LI      | PDU type | ...LI bytes of COTP header (type incl.)
 *   +---------+----------+
 *     DT (0xF0): LI=2 | 0xF0 | EOT(0x80) + TPDU nr | user data...
 *     CR (0xE0)/CC (0xD0): LI | type | dst ref(2) | src ref(2) | class |
 *                          params { code | len | value }  (0xC0 TPDU size,
 *                          0xC1 calling/src TSAP, 0xC2 called/dst TSAP)
 *
 * S7comm header in a DT payload (protocol id 0x32):
 *
 *   +------+--------+-------------+---------+-----------+----------+
 *   | 0x32 | ROSCTR | redundancy  | PDU ref | param len | data len |
 *   |  1   |   1    |     2       |    2    |     2     |    2     |
 *   +------+--------+-------------+---------+-----------+----------+
 *   | error class | error code |   (ROSCTR 2 ack and 3 ack-data only)
 *   +-------------+------------+
 *   | parameters (param len) ... | data (data len) ...
 *
 *   Read/Write Var item (syntax id 0x10, S7ANY):
 *   | 0x12 | len 10 | 0x10 | transport size | length(2) | DB(2) | area | address(3) |
 *
 *   Userdata parameters (ROSCTR 7):
 *   | 0x00 0x01 0x12 | len | method | type<<4 | group | subfunction | seq |
 *     [ data unit ref | last data unit | error code(2) ]   (len 8)
 *   Userdata data: | return code | transport size | length(2) | data... |
 *
 * S7comm-plus (protocol id 0x72):
 *   | 0x72 | version | data length(2) | [digest len | digest] (v3) |
 *   | opcode | reserved(2) | function(2) | reserved(2) | sequence(2) | ...
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_S7COMM_H
#define ICSENTRY_DISSECTORS_S7COMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S7_TPKT_VERSION		3
#define S7_TPKT_LEN_MIN		7	/* TPKT 4 + smallest COTP (LI, type, x) */
#define S7_MAX_ITEMS		8	/* Read/Write Var items kept */

/* COTP TPDU codes (high nibble of the type byte, low nibble for some) */
enum s7_cotp_type {
	S7_COTP_ED = 0x10,	/* expedited data */
	S7_COTP_EA = 0x20,	/* expedited data ack */
	S7_COTP_RJ = 0x50,	/* reject */
	S7_COTP_AK = 0x60,	/* data ack */
	S7_COTP_ER = 0x70,	/* TPDU error */
	S7_COTP_DR = 0x80,	/* disconnect request */
	S7_COTP_DC = 0xC0,	/* disconnect confirm */
	S7_COTP_CC = 0xD0,	/* connection confirm */
	S7_COTP_CR = 0xE0,	/* connection request */
	S7_COTP_DT = 0xF0	/* data */
};

/* What a COTP DT carries. */
enum s7_payload {
	S7_PAYLOAD_NONE = 0,	/* no DT, or an empty one */
	S7_PAYLOAD_S7COMM,	/* 0x32 */
	S7_PAYLOAD_S7PLUS,	/* 0x72 */
	S7_PAYLOAD_OTHER	/* e.g. ISO 8327 session (MMS, IEC 61850) */
};

#define S7_PROTO_S7COMM		0x32
#define S7_PROTO_S7PLUS		0x72

enum s7_rosctr {
	S7_ROSCTR_JOB = 1,
	S7_ROSCTR_ACK = 2,
	S7_ROSCTR_ACK_DATA = 3,
	S7_ROSCTR_USERDATA = 7
};

enum s7_func {
	S7_FUNC_CPU_SERVICES = 0x00,
	S7_FUNC_READ_VAR = 0x04,
	S7_FUNC_WRITE_VAR = 0x05,
	S7_FUNC_REQUEST_DOWNLOAD = 0x1A,
	S7_FUNC_DOWNLOAD_BLOCK = 0x1B,
	S7_FUNC_DOWNLOAD_ENDED = 0x1C,
	S7_FUNC_START_UPLOAD = 0x1D,
	S7_FUNC_UPLOAD = 0x1E,
	S7_FUNC_END_UPLOAD = 0x1F,
	S7_FUNC_PLC_CONTROL = 0x28,	/* PI service: start, compress, ... */
	S7_FUNC_PLC_STOP = 0x29,
	S7_FUNC_SETUP_COMM = 0xF0
};

/* Memory areas in a Read/Write Var item. */
enum s7_area {
	S7_AREA_SYSINFO = 0x03,
	S7_AREA_SYSFLAGS = 0x05,
	S7_AREA_ANAIN = 0x06,
	S7_AREA_ANAOUT = 0x07,
	S7_AREA_P = 0x80,	/* peripheral I/O */
	S7_AREA_INPUTS = 0x81,
	S7_AREA_OUTPUTS = 0x82,
	S7_AREA_FLAGS = 0x83,	/* merker */
	S7_AREA_DB = 0x84,
	S7_AREA_DI = 0x85,
	S7_AREA_LOCAL = 0x86,
	S7_AREA_V = 0x87,
	S7_AREA_COUNTER = 0x1C,
	S7_AREA_TIMER = 0x1D
};

/* Userdata */
#define S7_UD_METHOD_REQUEST	0x11
#define S7_UD_METHOD_RESPONSE	0x12
enum s7_ud_type {
	S7_UD_TYPE_PUSH = 0x0,
	S7_UD_TYPE_REQUEST = 0x4,
	S7_UD_TYPE_RESPONSE = 0x8
};
enum s7_ud_group {
	S7_UD_GROUP_MODE_TRANSITION = 0x0,
	S7_UD_GROUP_PROG = 0x1,		/* programmer commands */
	S7_UD_GROUP_CYCLIC = 0x2,
	S7_UD_GROUP_BLOCK = 0x3,
	S7_UD_GROUP_CPU = 0x4,
	S7_UD_GROUP_SECURITY = 0x5,
	S7_UD_GROUP_PBC = 0x6,
	S7_UD_GROUP_TIME = 0x7,
	S7_UD_GROUP_NC = 0xF
};
#define S7_UD_CPU_READ_SZL	0x01	/* subfunction in group 4 */
#define S7_SZL_MODULE_ID	0x0011	/* module identification (order no.) */
#define S7_SZL_COMPONENT_ID	0x001C	/* component identification */

/* ISO 8327 session SPDU types (first byte of a non-S7 DT payload). */
enum s7_iso_spdu {
	S7_SPDU_GIVE_TOKENS = 0x01,	/* also DATA TRANSFER: 01 00 01 00 */
	S7_SPDU_FINISH = 0x09,
	S7_SPDU_DISCONNECT = 0x0A,
	S7_SPDU_REFUSE = 0x0C,
	S7_SPDU_CONNECT = 0x0D,
	S7_SPDU_ACCEPT = 0x0E,
	S7_SPDU_ABORT = 0x19
};

/* TPKT + COTP fields. */
struct s7_cotp {
	uint8_t		 tpkt_version;
	uint16_t	 tpkt_len;	/* whole TPKT incl. its header */
	uint8_t		 li;		/* COTP length indicator */
	uint8_t		 type;		/* enum s7_cotp_type (CR/CC/... nibble) */
	uint8_t		 type_raw;	/* the byte as sent (low nibble = credit) */
	/* DT */
	bool		 eot;		/* last data unit */
	uint8_t		 tpdu_nr;
	/* CR, CC, DR, DC */
	uint16_t	 dst_ref;
	uint16_t	 src_ref;
	uint8_t		 class_opt;	/* CR/CC class + options; DR reason */
	uint8_t		 tpdu_size;	/* CR/CC param 0xC0, 0 if absent */
	const uint8_t	*src_tsap;	/* CR/CC param 0xC1 */
	uint8_t		 src_tsap_len;
	const uint8_t	*dst_tsap;	/* CR/CC param 0xC2 */
	uint8_t		 dst_tsap_len;
	uint16_t	 src_tsap16;	/* first two TSAP bytes, big endian */
	uint16_t	 dst_tsap16;	/* (S7 rack/slot live in the dst TSAP) */
};

/* One Read/Write Var item. */
struct s7_item {
	uint8_t		 spec_type;	/* 0x12 variable specification */
	uint8_t		 syntax_id;	/* 0x10 S7ANY, 0xB0 DBREAD, ... */
	bool		 any;		/* syntax 0x10: fields below are valid */
	uint8_t		 transport_size;
	uint16_t	 length;
	uint16_t	 db;
	uint8_t		 area;
	uint32_t	 address;	/* bit address: byte << 3 | bit */
};

/* S7comm (0x32) PDU. */
struct s7_comm {
	uint8_t		 rosctr;
	uint16_t	 redundancy;
	uint16_t	 pdu_ref;
	uint16_t	 param_len;
	uint16_t	 data_len;
	bool		 has_error;	/* ROSCTR 2/3 */
	uint8_t		 error_class;
	uint8_t		 error_code;
	bool		 fragment;	/* COTP EOT not set: only header parsed */
	const uint8_t	*param;
	const uint8_t	*data;

	/* Job / ack-data parameters */
	bool		 has_func;
	uint8_t		 func;		/* first parameter byte */
	uint8_t		 item_count;	/* Read/Write Var, as announced */
	uint8_t		 nitems;	/* kept in items[] */
	struct s7_item	 items[S7_MAX_ITEMS];
	/* Setup communication */
	uint16_t	 max_amq_calling;
	uint16_t	 max_amq_called;
	uint16_t	 pdu_size;
	/* PLC control (0x28) / PLC stop (0x29): PI service name */
	const uint8_t	*pi_service;	/* e.g. "P_PROGRAM", "_INSE", "_DELE" */
	uint8_t		 pi_service_len;
	const uint8_t	*pi_param;	/* 0x28 parameter block (block list) */
	uint16_t	 pi_param_len;
	/* Up/download (0x1A-0x1D) requests: file name like "_0A00001P" */
	const uint8_t	*block_name;
	uint8_t		 block_name_len;
	bool		 has_block;	/* block_type/number decoded */
	uint8_t		 block_type;	/* 0x08 OB, 0x0A DB, 0x0B SDB, 0x0C FC,
					   0x0D SFC, 0x0E FB, 0x0F SFB */
	uint32_t	 block_number;

	/* Userdata (ROSCTR 7) */
	bool		 has_ud;
	uint8_t		 ud_method;	/* 0x11 request, 0x12 response */
	uint8_t		 ud_type;	/* enum s7_ud_type */
	uint8_t		 ud_group;	/* enum s7_ud_group */
	uint8_t		 ud_subfunc;
	uint8_t		 ud_seq;
	uint8_t		 ud_data_unit_ref;
	bool		 ud_last_unit;	/* 8-byte param form: no more follow */
	/*
	 * Response split over several PDUs (data unit ref != 0).  Only the
	 * first fragment starts with the SZL header, and that cannot be told
	 * without state, so has_szl stays false on all of them; ud_data has
	 * the bytes for a caller that reassembles.
	 */
	bool		 ud_fragmented;
	uint16_t	 ud_error;
	uint8_t		 ud_return_code;	/* data: 0xFF success */
	uint8_t		 ud_transport_size;
	const uint8_t	*ud_data;	/* after the 4-byte data header */
	size_t		 ud_data_len;
	/* SZL read (group 4, subfunction 1), unfragmented */
	bool		 has_szl;
	uint16_t	 szl_id;
	uint16_t	 szl_index;
	/* SZL response: record length/count and the records themselves */
	bool		 has_szl_list;
	uint16_t	 szl_rec_len;
	uint16_t	 szl_rec_count;
	const uint8_t	*szl_records;
	size_t		 szl_records_len;
};

/* S7comm-plus (0x72) header. */
struct s7_plus {
	uint8_t		 version;	/* 1, 2, 3 (0xFE keep-alive) */
	uint16_t	 data_len;
	bool		 has_digest;	/* v3 integrity digest present */
	bool		 has_opcode;
	uint8_t		 opcode;	/* 0x31 request, 0x32 response, 0x33 notification */
	bool		 has_function;
	uint16_t	 function;	/* e.g. 0x04CA CreateObject */
	uint16_t	 seq;
};

/* Parsed TPKT frame. */
struct s7_pdu {
	size_t		 frame_len;	/* == cotp.tpkt_len */
	struct s7_cotp	 cotp;
	enum s7_payload	 payload;
	const uint8_t	*user;		/* DT user data */
	size_t		 user_len;
	uint8_t		 proto_id;	/* first user byte (0x32, 0x72, SPDU type) */
	struct s7_comm	 s7;		/* payload == S7_PAYLOAD_S7COMM */
	struct s7_plus	 plus;		/* payload == S7_PAYLOAD_S7PLUS */
};

/*
 * Frame the next TPKT at the head of a stream.  Returns 0 and sets *len
 * (may exceed n), IDS_EAGAIN when n < 4 and the bytes present agree with
 * TPKT, IDS_EMALFORMED on version != 3, a non-zero reserved byte or
 * length < 7, IDS_EINVAL on NULL len.
 */
int s7_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * Parse one TPKT frame.  Returns 0, IDS_ETRUNC when n is shorter than the
 * TPKT length, IDS_EMALFORMED when TPKT/COTP/S7 headers are inconsistent
 * (lengths overrun the frame, unknown ROSCTR ...), IDS_EINVAL on NULL out.
 * A DT whose payload is neither S7comm nor S7comm-plus parses fine with
 * payload S7_PAYLOAD_OTHER.  out is zeroed first.
 */
int s7_parse(const uint8_t *p, size_t n, struct s7_pdu *out);

/* Static name of an S7comm job function code; never NULL. */
const char *s7_func_name(uint8_t func);

/* Static name of a ROSCTR value; never NULL. */
const char *s7_rosctr_name(uint8_t rosctr);

/* Static name of a COTP TPDU type (high nibble); never NULL. */
const char *s7_cotp_type_name(uint8_t type);

/* Static name of an S7comm-plus function code; never NULL. */
const char *s7_plus_func_name(uint16_t func);

/* Static name of an ISO 8327 SPDU type; never NULL. */
const char *s7_iso_spdu_name(uint8_t spdu);

#endif
