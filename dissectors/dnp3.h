/*
 * dnp3.h - DNP3 frame parser (link, transport, application layers).
 *
 * Spec: IEEE Std 1815-2012 (DNP3), clauses 9 (data link), 8 (transport
 * function) and 4/A (application layer, object headers).  The same bytes
 * travel over TCP and UDP port 20000.
 *
 * Data link frame (multi-byte fields little endian):
 *
 *    0               1               2               3
 *   +---------------+---------------+---------------+---------------+
 *   |  start 0x05   |  start 0x64   |    length     |    control    |
 *   +---------------+---------------+---------------+---------------+
 *   |          destination          |            source             |
 *   +---------------+---------------+---------------+---------------+
 *   |          header CRC           |  user data: length - 5 bytes in
 *   +---------------+---------------+  blocks of 16, each + 2-byte CRC
 *
 *   control: DIR(0x80) PRM(0x40) FCB(0x20) FCV/DFC(0x10) function(0x0F)
 *
 * User data = transport header (FIN 0x80, FIR 0x40, seq 0x3F) followed by a
 * fragment of the application layer; the first segment (FIR) starts with:
 *
 *   +--------------+--------------+------------------------+----------
 *   | app control  | function     | IIN (2, responses only) | object
 *   | FIR FIN CON  | code         | IIN1 | IIN2             | headers...
 *   | UNS seq(4)   |              |                          |
 *   +--------------+--------------+------------------------+----------
 *
 *   object header: group | variation | qualifier | range/count (0-8 bytes)
 *   qualifier: object prefix code (bits 6-4) | range specifier (bits 3-0)
 *
 * Pure functions: no I/O, no allocation; thread safe.  The user data is
 * copied (without CRCs) into the output struct, so it stays valid after the
 * input buffer is gone.
 */
#ifndef ICSENTRY_DISSECTORS_DNP3_H
#define ICSENTRY_DISSECTORS_DNP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNP3_START_0		0x05
#define DNP3_START_1		0x64
#define DNP3_LINK_HDR_LEN	10	/* incl. header CRC */
#define DNP3_LEN_MIN		5	/* control + dst + src */
#define DNP3_USER_MAX		250	/* length 255 - 5 */
#define DNP3_FRAME_MAX		292	/* 10 + 250 + 16 block CRCs */
#define DNP3_MAX_OBJ_HEADERS	16	/* object headers kept per fragment */

/* Link control byte */
#define DNP3_LINK_DIR		0x80	/* 1: from the master */
#define DNP3_LINK_PRM		0x40	/* 1: primary (initiating) frame */
#define DNP3_LINK_FCB		0x20
#define DNP3_LINK_FCV		0x10	/* DFC on secondary frames */
#define DNP3_LINK_FC_MASK	0x0F

/* Link function codes, primary (PRM=1) */
enum dnp3_link_fc_prm {
	DNP3_LINK_RESET_LINK_STATES = 0,
	DNP3_LINK_TEST_LINK_STATES = 2,
	DNP3_LINK_CONFIRMED_USER_DATA = 3,
	DNP3_LINK_UNCONFIRMED_USER_DATA = 4,
	DNP3_LINK_REQUEST_LINK_STATUS = 9
};
/* Link function codes, secondary (PRM=0) */
enum dnp3_link_fc_sec {
	DNP3_LINK_ACK = 0,
	DNP3_LINK_NACK = 1,
	DNP3_LINK_STATUS = 11,
	DNP3_LINK_NOT_SUPPORTED = 15
};

/* Transport header (note: FIN is the top bit here, unlike app control) */
#define DNP3_TP_FIN		0x80
#define DNP3_TP_FIR		0x40
#define DNP3_TP_SEQ_MASK	0x3F

/* Application control */
#define DNP3_AC_FIR		0x80
#define DNP3_AC_FIN		0x40
#define DNP3_AC_CON		0x20
#define DNP3_AC_UNS		0x10
#define DNP3_AC_SEQ_MASK	0x0F

enum dnp3_fc {
	DNP3_FC_CONFIRM = 0x00,
	DNP3_FC_READ = 0x01,
	DNP3_FC_WRITE = 0x02,
	DNP3_FC_SELECT = 0x03,
	DNP3_FC_OPERATE = 0x04,
	DNP3_FC_DIRECT_OPERATE = 0x05,
	DNP3_FC_DIRECT_OPERATE_NR = 0x06,
	DNP3_FC_IMMED_FREEZE = 0x07,
	DNP3_FC_IMMED_FREEZE_NR = 0x08,
	DNP3_FC_FREEZE_CLEAR = 0x09,
	DNP3_FC_FREEZE_CLEAR_NR = 0x0A,
	DNP3_FC_FREEZE_AT_TIME = 0x0B,
	DNP3_FC_FREEZE_AT_TIME_NR = 0x0C,
	DNP3_FC_COLD_RESTART = 0x0D,
	DNP3_FC_WARM_RESTART = 0x0E,
	DNP3_FC_INITIALIZE_DATA = 0x0F,
	DNP3_FC_INITIALIZE_APPL = 0x10,
	DNP3_FC_START_APPL = 0x11,
	DNP3_FC_STOP_APPL = 0x12,
	DNP3_FC_SAVE_CONFIG = 0x13,
	DNP3_FC_ENABLE_UNSOLICITED = 0x14,
	DNP3_FC_DISABLE_UNSOLICITED = 0x15,
	DNP3_FC_ASSIGN_CLASS = 0x16,
	DNP3_FC_DELAY_MEASURE = 0x17,
	DNP3_FC_RECORD_CURRENT_TIME = 0x18,
	DNP3_FC_OPEN_FILE = 0x19,
	DNP3_FC_CLOSE_FILE = 0x1A,
	DNP3_FC_DELETE_FILE = 0x1B,
	DNP3_FC_GET_FILE_INFO = 0x1C,
	DNP3_FC_AUTHENTICATE_FILE = 0x1D,
	DNP3_FC_ABORT_FILE = 0x1E,
	DNP3_FC_ACTIVATE_CONFIG = 0x1F,
	DNP3_FC_AUTHENTICATE_REQ = 0x20,
	DNP3_FC_AUTH_REQ_NO_ACK = 0x21,
	DNP3_FC_RESPONSE = 0x81,
	DNP3_FC_UNSOLICITED_RESPONSE = 0x82,
	DNP3_FC_AUTHENTICATE_RESP = 0x83
};

/* IIN as (IIN1 << 8 | IIN2) */
#define DNP3_IIN_BROADCAST	0x0100
#define DNP3_IIN_CLASS1_EVENTS	0x0200
#define DNP3_IIN_CLASS2_EVENTS	0x0400
#define DNP3_IIN_CLASS3_EVENTS	0x0800
#define DNP3_IIN_NEED_TIME	0x1000
#define DNP3_IIN_LOCAL_CONTROL	0x2000
#define DNP3_IIN_DEVICE_TROUBLE	0x4000
#define DNP3_IIN_DEVICE_RESTART	0x8000
#define DNP3_IIN_NO_FUNC_CODE	0x0001
#define DNP3_IIN_OBJECT_UNKNOWN	0x0002
#define DNP3_IIN_PARAM_ERROR	0x0004
#define DNP3_IIN_EVENT_OVERFLOW	0x0008
#define DNP3_IIN_ALREADY_EXEC	0x0010
#define DNP3_IIN_CONFIG_CORRUPT	0x0020

/* Where a CRC failed (dnp3_pdu.bad_crc_block). */
#define DNP3_CRC_HEADER		0	/* else 1-based data block number */

/* One application object header. */
struct dnp3_obj_header {
	uint8_t		 group;
	uint8_t		 variation;
	uint8_t		 qualifier;
	uint8_t		 prefix_code;	/* (qualifier >> 4) & 7 */
	uint8_t		 range_code;	/* qualifier & 0x0F */
	bool		 has_range;	/* start/stop valid (range codes 0-5) */
	uint32_t	 start;
	uint32_t	 stop;
	bool		 has_count;	/* count valid (ranges 0-5, 7-9, 0xB) */
	uint32_t	 count;		/* objects in this header */
	size_t		 offset;	/* of the header within user[] */
};

struct dnp3_pdu {
	/* Link layer */
	uint8_t		 length;	/* link length field */
	uint8_t		 control;
	bool		 dir;		/* DIR: true = from master */
	bool		 prm;		/* PRM: primary frame */
	bool		 fcb;
	bool		 fcv;		/* FCV (primary) or DFC (secondary) */
	uint8_t		 link_fc;
	uint16_t	 dst;
	uint16_t	 src;
	uint16_t	 hdr_crc;
	size_t		 frame_len;	/* bytes of the whole frame incl. CRCs */

	/* CRC failure: parse returns IDS_EMALFORMED with bad_crc set. */
	bool		 bad_crc;
	unsigned	 bad_crc_block;	/* DNP3_CRC_HEADER or block number */

	/* User data with the block CRCs removed. */
	uint8_t		 user[DNP3_USER_MAX];
	size_t		 user_len;

	/* Transport (present when user_len > 0 on a user-data frame) */
	bool		 has_transport;
	bool		 tp_fir;
	bool		 tp_fin;
	uint8_t		 tp_seq;

	/* Application (present on the FIR segment only) */
	bool		 has_app;
	uint8_t		 app_control;
	bool		 app_fir;
	bool		 app_fin;
	bool		 app_con;
	bool		 app_uns;
	uint8_t		 app_seq;
	uint8_t		 app_fc;
	bool		 has_iin;	/* responses 0x81-0x83 */
	uint16_t	 iin;		/* IIN1 << 8 | IIN2 */
	size_t		 objects_off;	/* offset of the first object header in user[] */

	/* Object headers, walked as far as their sizes are known. */
	struct dnp3_obj_header obj[DNP3_MAX_OBJ_HEADERS];
	uint8_t		 nobj;
	bool		 objects_more;	/* more than DNP3_MAX_OBJ_HEADERS */
	/*
	 * The walk stopped early: object size unknown for a group/variation/
	 * qualifier, a range or count runs past the data, or the fragment
	 * continues in a later segment (FIR without FIN).  Not an error.
	 */
	bool		 objects_truncated;
};

/* CRC-16/DNP over n bytes (poly 0x3D65 reflected, complemented). */
uint16_t dnp3_crc(const uint8_t *p, size_t n);

/*
 * Frame the next DNP3 link frame at the head of a stream.  Returns 0 and
 * sets *len to the whole frame size incl. CRCs (may exceed n), IDS_EAGAIN
 * when fewer than 3 bytes are present and those agree with 0x05 0x64,
 * IDS_EMALFORMED when the start bytes are wrong or the length field is < 5,
 * IDS_EINVAL on NULL len.  CRCs are checked by dnp3_parse(), not here.
 */
int dnp3_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * True when p holds one or more whole DNP3 frames and the first one has a
 * valid header CRC (UDP classification).
 */
bool dnp3_probe(const uint8_t *p, size_t n);

/*
 * Parse the link frame at p (bytes past the frame are ignored) and, for
 * user-data frames, the transport and application headers and object
 * headers.  Returns 0, IDS_ETRUNC when n is shorter than the frame,
 * IDS_EMALFORMED on bad start bytes, a length below 5, a CRC failure
 * (out->bad_crc set, see bad_crc_block) or an application header that does
 * not fit, IDS_EINVAL on NULL out.  out is zeroed first.
 */
int dnp3_parse(const uint8_t *p, size_t n, struct dnp3_pdu *out);

/* A file command object (g70v3) of OPEN_FILE / DELETE_FILE. */
enum dnp3_file_mode {
	DNP3_FILE_NULL = 0,
	DNP3_FILE_READ = 1,
	DNP3_FILE_WRITE = 2,
	DNP3_FILE_APPEND = 3
};

struct dnp3_file_cmd {
	uint16_t	 mode;		/* enum dnp3_file_mode */
	uint32_t	 file_size;
	const uint8_t	*name;		/* into m->user, NULL when absent */
	size_t		 name_len;
};

/*
 * The first g70v3 object of a request (dnp3_file.c).  False when there is
 * none or it does not fit the fragment; out is zeroed first.
 */
bool dnp3_file_command(const struct dnp3_pdu *m, struct dnp3_file_cmd *out);

/* One value carried in an object of a fragment (dnp3_values). */
enum dnp3_value_kind {
	DNP3_VAL_BINARY,	/* g1, g2: state (bit 7 of the flags) */
	DNP3_VAL_COUNTER,	/* g20, g22: running counters */
	DNP3_VAL_FROZEN,	/* g21, g23: frozen counters */
	DNP3_VAL_ANALOG,	/* g30, g32 */
	DNP3_VAL_TIME		/* g50v1/v3, g51v1/v2: ms since 1970 */
};

struct dnp3_value {
	uint8_t		 group, variation;
	uint8_t		 kind;		/* enum dnp3_value_kind */
	uint8_t		 bits;		/* counters: 16 or 32 (wrap width) */
	bool		 is_float;
	uint32_t	 index;		/* point index (0 for time objects) */
	double		 value;
};

typedef void (*dnp3_value_fn)(void *arg, const struct dnp3_value *v);

/*
 * Walk the object data of a parsed fragment (out of dnp3_parse, has_app)
 * and call fn for each binary, counter, analog and absolute-time value it
 * carries, with its point index.  Objects whose layout is not known end
 * the walk.  Returns the number of values; bounds-checked like the parse.
 */
size_t dnp3_values(const struct dnp3_pdu *d, dnp3_value_fn fn, void *arg);

/* Static name of an application function code; never NULL. */
const char *dnp3_fc_name(uint8_t fc);

/* Static name of a link function code given the PRM bit; never NULL. */
const char *dnp3_link_fc_name(bool prm, uint8_t fc);

#endif
