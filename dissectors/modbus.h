/*
 * modbus.h - Modbus/TCP ADU parser (MBAP + PDU), pure and allocation free.
 *
 * Spec: MODBUS Application Protocol Specification V1.1b3 and MODBUS
 * Messaging on TCP/IP Implementation Guide V1.0b (MBAP header).
 * Function code 90 is Schneider Electric's UMAS, recognised but not decoded.
 *
 * MBAP header + PDU, as carried in one TCP stream (all fields big endian):
 *
 *    0               1               2               3
 *   +---------------+---------------+---------------+---------------+
 *   |        transaction id         |   protocol id (always 0)      |
 *   +---------------+---------------+---------------+---------------+
 *   |   length (unit + PDU bytes)   |    unit id    | function code |
 *   +---------------+---------------+---------------+---------------+
 *   |  PDU data ... (length - 2 bytes)                              |
 *   +---------------------------------------------------------------+
 *
 * All functions are pure: no I/O, no allocation, no global state; they are
 * safe to call from any thread.  Pointers stored in the output structs point
 * into the caller's buffer and are valid only as long as that buffer is.
 */
#ifndef ICSENTRY_DISSECTORS_MODBUS_H
#define ICSENTRY_DISSECTORS_MODBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODBUS_MBAP_LEN		7	/* header bytes incl. unit id */
#define MODBUS_MBAP_LEN_MIN	2	/* length field: unit + fc */
#define MODBUS_MBAP_LEN_MAX	254	/* spec: ADU <= 260 bytes */
/*
 * Largest length field accepted.  Schneider Modicon PLCs send UMAS
 * (fc 90) responses with length 255 (a 261-byte ADU, one byte over the
 * spec); such PDUs parse with modbus_pdu.oversize set.
 */
#define MODBUS_MBAP_LEN_LIMIT	255

#define MODBUS_EXCEPTION_BIT	0x80
#define MODBUS_DEVID_MAX_OBJECTS 8	/* device-id objects kept per PDU */

enum modbus_dir {
	MODBUS_REQUEST = 0,	/* client -> server */
	MODBUS_RESPONSE = 1	/* server -> client */
};

enum modbus_fc {
	MODBUS_FC_READ_COILS = 1,
	MODBUS_FC_READ_DISCRETE_INPUTS = 2,
	MODBUS_FC_READ_HOLDING_REGISTERS = 3,
	MODBUS_FC_READ_INPUT_REGISTERS = 4,
	MODBUS_FC_WRITE_SINGLE_COIL = 5,
	MODBUS_FC_WRITE_SINGLE_REGISTER = 6,
	MODBUS_FC_READ_EXCEPTION_STATUS = 7,
	MODBUS_FC_DIAGNOSTICS = 8,
	MODBUS_FC_GET_COMM_EVENT_COUNTER = 11,
	MODBUS_FC_GET_COMM_EVENT_LOG = 12,
	MODBUS_FC_WRITE_MULTIPLE_COILS = 15,
	MODBUS_FC_WRITE_MULTIPLE_REGISTERS = 16,
	MODBUS_FC_REPORT_SERVER_ID = 17,
	MODBUS_FC_READ_FILE_RECORD = 20,
	MODBUS_FC_WRITE_FILE_RECORD = 21,
	MODBUS_FC_MASK_WRITE_REGISTER = 22,
	MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS = 23,
	MODBUS_FC_READ_FIFO_QUEUE = 24,
	MODBUS_FC_ENCAPSULATED_INTERFACE = 43,
	MODBUS_FC_UMAS = 90
};

/* Diagnostics (fc 8) sub-functions a monitor cares about. */
enum modbus_diag_sub {
	MODBUS_DIAG_RETURN_QUERY_DATA = 0x0000,
	MODBUS_DIAG_RESTART_COMM = 0x0001,
	MODBUS_DIAG_RETURN_DIAG_REGISTER = 0x0002,
	MODBUS_DIAG_CHANGE_ASCII_DELIM = 0x0003,
	MODBUS_DIAG_FORCE_LISTEN_ONLY = 0x0004,
	MODBUS_DIAG_CLEAR_COUNTERS = 0x000A
};

/* Encapsulated Interface Transport (fc 43) MEI types. */
#define MODBUS_MEI_CANOPEN		0x0D
#define MODBUS_MEI_READ_DEVICE_ID	0x0E

/* Read Device Identification object ids (fc 43 / MEI 0x0E). */
enum modbus_devid_obj {
	MODBUS_DEVID_VENDOR_NAME = 0x00,
	MODBUS_DEVID_PRODUCT_CODE = 0x01,
	MODBUS_DEVID_REVISION = 0x02,
	MODBUS_DEVID_VENDOR_URL = 0x03,
	MODBUS_DEVID_PRODUCT_NAME = 0x04,
	MODBUS_DEVID_MODEL_NAME = 0x05,
	MODBUS_DEVID_USER_APP_NAME = 0x06
};

/*
 * UMAS (fc 90) function codes with a security meaning.  Schneider names
 * the transfers from the PLC's side: an "upload" (0x30-0x32) copies a
 * program from the engineering station INTO the PLC (ATT&CK: program
 * download, T0843), a "download" (0x33-0x35) copies it OUT of the PLC
 * (ATT&CK: program upload, T0845).
 */
enum modbus_umas_func {
	MODBUS_UMAS_INIT_COMM = 0x01,
	MODBUS_UMAS_READ_ID = 0x02,
	MODBUS_UMAS_READ_PROJECT_INFO = 0x03,
	MODBUS_UMAS_READ_PLC_INFO = 0x04,
	MODBUS_UMAS_TAKE_RESERVATION = 0x10,
	MODBUS_UMAS_RELEASE_RESERVATION = 0x11,
	MODBUS_UMAS_KEEP_ALIVE = 0x12,
	MODBUS_UMAS_READ_MEMORY_BLOCK = 0x20,
	MODBUS_UMAS_READ_VARIABLES = 0x22,
	MODBUS_UMAS_WRITE_VARIABLES = 0x23,
	MODBUS_UMAS_INIT_UPLOAD = 0x30,
	MODBUS_UMAS_UPLOAD_BLOCK = 0x31,
	MODBUS_UMAS_END_UPLOAD = 0x32,
	MODBUS_UMAS_INIT_DOWNLOAD = 0x33,
	MODBUS_UMAS_DOWNLOAD_BLOCK = 0x34,
	MODBUS_UMAS_END_DOWNLOAD = 0x35,
	MODBUS_UMAS_START_PLC = 0x40,
	MODBUS_UMAS_STOP_PLC = 0x41,
	MODBUS_UMAS_RESPONSE_OK = 0xFE,
	MODBUS_UMAS_RESPONSE_ERROR = 0xFD
};

/* One Read Device Identification object: value points into the buffer. */
struct modbus_devid_object {
	uint8_t		 id;
	uint8_t		 len;
	const uint8_t	*value;		/* len bytes, not NUL terminated */
};

/* fc 43 / MEI 0x0E Read Device Identification. */
struct modbus_devid {
	uint8_t		 read_code;	/* 1 basic, 2 regular, 3 extended, 4 one */
	uint8_t		 object_id;	/* request: first object asked for */
	/* response only: */
	uint8_t		 conformity;
	bool		 more_follows;	/* 0xFF on the wire */
	uint8_t		 next_object_id;
	uint8_t		 count;		/* number of objects announced */
	uint8_t		 nobjects;	/* kept in objects[] */
	bool		 objects_truncated; /* announced more than could be read/kept */
	struct modbus_devid_object objects[MODBUS_DEVID_MAX_OBJECTS];
};

/*
 * One decoded Modbus/TCP ADU.  The has_* flags say which groups of fields
 * the function code and direction filled in; everything else is zero.
 */
struct modbus_pdu {
	/* MBAP */
	uint16_t	 tid;
	uint16_t	 proto_id;	/* always 0 once parsed */
	uint16_t	 length;	/* unit id + PDU bytes */
	uint8_t		 unit;
	bool		 oversize;	/* length > MODBUS_MBAP_LEN_MAX */
	size_t		 adu_len;	/* bytes consumed: 6 + length */

	enum modbus_dir	 dir;
	uint8_t		 fc;		/* without the exception bit */
	bool		 exception;
	uint8_t		 exception_code;

	/* PDU bytes after the function code (whatever the fc). */
	const uint8_t	*data;
	size_t		 data_len;

	/* Reads 1-4 (request), writes 5/6/15/16 (request and echo),
	 * 22, 23 (read part), 24 (FIFO pointer address, quantity 0). */
	bool		 has_range;
	uint16_t	 address;
	uint16_t	 quantity;

	/* fc 5/6: the value written (0xFF00/0x0000 for a coil). */
	bool		 has_value;
	uint16_t	 value;

	/* fc 22 mask write */
	bool		 has_masks;
	uint16_t	 and_mask;
	uint16_t	 or_mask;

	/* fc 23: the write half (address/quantity above is the read half) */
	bool		 has_write_range;
	uint16_t	 write_address;
	uint16_t	 write_quantity;

	/* Byte-counted payload: write values (15/16/23 requests), read data
	 * (1-4/23 responses), file records (20/21), server id (17). */
	bool		 has_values;
	uint8_t		 byte_count;
	const uint8_t	*values;
	size_t		 values_len;

	/* fc 8 diagnostics */
	bool		 has_diag;
	uint16_t	 diag_sub;
	const uint8_t	*diag_data;
	size_t		 diag_len;

	/* fc 43 encapsulated interface */
	bool		 has_mei;
	uint8_t		 mei_type;
	bool		 has_devid;	/* mei_type 0x0E decoded */
	struct modbus_devid devid;

	/* fc 90 UMAS: session key and UMAS function (0xFE/0xFD in replies) */
	bool		 has_umas;
	uint8_t		 umas_session;
	uint8_t		 umas_func;
};

/*
 * Frame the next Modbus/TCP ADU at the head of a stream.
 * Returns 0 and sets *len to the ADU size (6 + MBAP length; may exceed n),
 * IDS_EAGAIN when n < 6, IDS_EMALFORMED when the protocol id is not 0 or
 * the length is outside 2..MODBUS_MBAP_LEN_LIMIT, IDS_EINVAL on NULL len.
 */
int modbus_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * Parse the ADU at p (n bytes; bytes past the ADU are ignored).  dir says
 * who sent it: Modbus PDUs do not carry their direction.
 * Returns 0, IDS_ETRUNC when n is shorter than the ADU, IDS_EMALFORMED when
 * the MBAP header or the PDU layout for the function code is invalid, or
 * IDS_EINVAL on NULL out.  out is zeroed first; on error it holds what was
 * decoded before the failure.
 */
int modbus_parse(const uint8_t *p, size_t n, enum modbus_dir dir,
    struct modbus_pdu *out);

/* True for function codes that change device state (5,6,15,16,21,22,23). */
bool modbus_fc_is_write(uint8_t fc);

/* Static name of a function code (exception bit ignored); never NULL. */
const char *modbus_fc_name(uint8_t fc);

/* Static name of a UMAS (fc 90) function code; never NULL. */
const char *modbus_umas_name(uint8_t func);

#endif
