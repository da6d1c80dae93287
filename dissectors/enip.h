/*
 * enip.h - EtherNet/IP encapsulation + CIP explicit message parser.
 *
 * Spec: ODVA The CIP Networks Library Vol 2 (EtherNet/IP Adaptation of
 * CIP) chapter 2 (encapsulation, Common Packet Format), Vol 1 chapters 2-3
 * (message router request/response, Connection Manager Unconnected Send)
 * and appendix C (EPATH segments).  TCP and UDP port 44818.
 *
 * Encapsulation header (24 bytes, little endian):
 *
 *    0               1               2               3
 *   +---------------+---------------+---------------+---------------+
 *   |           command             |      length (data bytes)      |
 *   +---------------+---------------+---------------+---------------+
 *   |                        session handle                         |
 *   +---------------+---------------+---------------+---------------+
 *   |                            status                             |
 *   +---------------+---------------+---------------+---------------+
 *   |                   sender context (8 bytes)                    |
 *   +---------------+---------------+---------------+---------------+
 *   |                            options                            |
 *   +---------------+---------------+---------------+---------------+
 *
 * SendRRData / SendUnitData data: interface handle (4) | timeout (2) |
 *   CPF: item count (2) | { type id (2) | length (2) | data } ...
 *   items: 0x0000 null address, 0x00A1 connected address (conn id),
 *          0x00B2 unconnected data (CIP), 0x00B1 connected data
 *          (sequence count (2) + CIP), 0x000C ListIdentity CIP identity
 *
 * CIP request:  service | path size (words) | EPATH | data
 * CIP response: service|0x80 | reserved | general status |
 *               additional status size (words) | additional status | data
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_ENIP_H
#define ICSENTRY_DISSECTORS_ENIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENIP_HDR_LEN		24
#define ENIP_LEN_MAX		65511	/* 65535 - 24 */
#define ENIP_MSP_MAX		8	/* Multiple Service Packet entries kept */

enum enip_cmd {
	ENIP_CMD_NOP = 0x0000,
	ENIP_CMD_LIST_SERVICES = 0x0004,
	ENIP_CMD_LIST_IDENTITY = 0x0063,
	ENIP_CMD_LIST_INTERFACES = 0x0064,
	ENIP_CMD_REGISTER_SESSION = 0x0065,
	ENIP_CMD_UNREGISTER_SESSION = 0x0066,
	ENIP_CMD_SEND_RR_DATA = 0x006F,
	ENIP_CMD_SEND_UNIT_DATA = 0x0070,
	ENIP_CMD_INDICATE_STATUS = 0x0072,
	ENIP_CMD_CANCEL = 0x0073
};

enum enip_cpf_type {
	ENIP_CPF_NULL = 0x0000,
	ENIP_CPF_LIST_IDENTITY = 0x000C,
	ENIP_CPF_CONNECTED_ADDR = 0x00A1,
	ENIP_CPF_CONNECTED_DATA = 0x00B1,
	ENIP_CPF_UNCONNECTED_DATA = 0x00B2,
	ENIP_CPF_LIST_SERVICES = 0x0100,
	ENIP_CPF_SOCKADDR_O2T = 0x8000,
	ENIP_CPF_SOCKADDR_T2O = 0x8001,
	ENIP_CPF_SEQUENCED_ADDR = 0x8002
};

#define CIP_SERVICE_RESPONSE	0x80
enum cip_service {
	CIP_SVC_GET_ATTRIBUTES_ALL = 0x01,
	CIP_SVC_SET_ATTRIBUTES_ALL = 0x02,
	CIP_SVC_GET_ATTRIBUTE_LIST = 0x03,
	CIP_SVC_SET_ATTRIBUTE_LIST = 0x04,
	CIP_SVC_RESET = 0x05,
	CIP_SVC_START = 0x06,
	CIP_SVC_STOP = 0x07,
	CIP_SVC_CREATE = 0x08,
	CIP_SVC_DELETE = 0x09,
	CIP_SVC_MULTIPLE_SERVICE_PACKET = 0x0A,
	CIP_SVC_APPLY_ATTRIBUTES = 0x0D,
	CIP_SVC_GET_ATTRIBUTE_SINGLE = 0x0E,
	CIP_SVC_SET_ATTRIBUTE_SINGLE = 0x10,
	CIP_SVC_FIND_NEXT_OBJECT = 0x11,
	CIP_SVC_RESTORE = 0x15,
	CIP_SVC_SAVE = 0x16,
	CIP_SVC_NOP = 0x17,
	CIP_SVC_GET_MEMBER = 0x18,
	CIP_SVC_SET_MEMBER = 0x19,
	CIP_SVC_EXECUTE_PCCC = 0x4B,
	CIP_SVC_READ_TAG = 0x4C,
	CIP_SVC_WRITE_TAG = 0x4D,
	CIP_SVC_READ_MODIFY_WRITE = 0x4E,	/* Forward_Close on class 6 */
	CIP_SVC_READ_TAG_FRAGMENTED = 0x52,	/* Unconnected_Send on class 6 */
	CIP_SVC_UNCONNECTED_SEND = 0x52,
	CIP_SVC_WRITE_TAG_FRAGMENTED = 0x53,
	CIP_SVC_FORWARD_OPEN = 0x54,
	CIP_SVC_GET_INSTANCE_ATTR_LIST = 0x55,
	CIP_SVC_LARGE_FORWARD_OPEN = 0x5B
};

#define CIP_CLASS_IDENTITY	0x01
#define CIP_CLASS_MESSAGE_ROUTER 0x02
#define CIP_CLASS_ASSEMBLY	0x04
#define CIP_CLASS_CONNECTION_MANAGER 0x06
#define CIP_CLASS_PCCC		0x67

/* Decoded request path (EPATH), first segment of each kind. */
struct cip_path {
	const uint8_t	*raw;		/* the EPATH bytes */
	size_t		 raw_len;
	bool		 has_class;
	uint32_t	 class_id;
	bool		 has_instance;
	uint32_t	 instance;
	bool		 has_attribute;
	uint32_t	 attribute;
	bool		 has_member;
	uint32_t	 member;
	bool		 has_conn_point;
	uint32_t	 conn_point;
	bool		 has_symbol;	/* ANSI extended symbolic (0x91) */
	const uint8_t	*symbol;	/* tag name, not NUL terminated */
	uint8_t		 symbol_len;
	unsigned	 nsegments;
	bool		 unparsed;	/* stopped at a segment not decoded */
};

/* One request inside a Multiple Service Packet. */
struct cip_msp_entry {
	uint8_t		 service;
	struct cip_path	 path;		/* requests only */
	uint8_t		 general_status; /* responses only */
};

/* A CIP explicit message (the embedded one after Unconnected Send). */
struct cip_msg {
	uint8_t		 service;	/* without the response bit */
	bool		 response;
	struct cip_path	 path;		/* requests */
	uint8_t		 general_status;	/* responses */
	uint8_t		 ext_status_words;
	const uint8_t	*ext_status;
	const uint8_t	*data;		/* request/response data */
	size_t		 data_len;

	/* Unconnected Send (0x52 to class 6) unwrapped into the fields above */
	bool		 unconnected_send;
	struct cip_path	 ucs_path;	/* the outer path (class 6 inst 1) */
	uint8_t		 ucs_priority;	/* priority/time tick */
	uint8_t		 ucs_timeout;	/* time-out ticks */
	const uint8_t	*route;		/* route path bytes */
	size_t		 route_len;

	/* Multiple Service Packet (0x0A to the Message Router) */
	bool		 multi;
	uint16_t	 multi_count;	/* as announced */
	uint8_t		 multi_kept;	/* decoded into multi_entries[] */
	struct cip_msp_entry multi_entries[ENIP_MSP_MAX];
};

/* ListIdentity response item (CPF type 0x000C). */
struct enip_identity {
	uint16_t	 encap_version;
	uint16_t	 sin_port;	/* host byte order */
	uint32_t	 sin_addr;	/* host byte order */
	uint16_t	 vendor_id;
	uint16_t	 device_type;
	uint16_t	 product_code;
	uint8_t		 rev_major;
	uint8_t		 rev_minor;
	uint16_t	 status;
	uint32_t	 serial;
	const uint8_t	*product_name;	/* not NUL terminated */
	uint8_t		 product_name_len;
	bool		 has_state;
	uint8_t		 state;
};

struct enip_pdu {
	/* Encapsulation header */
	uint16_t	 command;
	uint16_t	 length;
	uint32_t	 session;
	uint32_t	 status;
	uint8_t		 context[8];
	uint32_t	 options;
	size_t		 frame_len;	/* 24 + length */
	const uint8_t	*data;		/* the length bytes after the header */

	/* RegisterSession */
	bool		 has_register;
	uint16_t	 protocol_version;
	uint16_t	 option_flags;

	/* SendRRData / SendUnitData: interface handle, timeout, CPF */
	bool		 has_cpf;
	uint32_t	 interface_handle;
	uint16_t	 timeout;
	uint16_t	 item_count;
	bool		 has_conn_id;	/* CPF 0x00A1 */
	uint32_t	 conn_id;
	bool		 has_seq;	/* CPF 0x00B1 sequence count */
	uint16_t	 seq;
	bool		 has_cip;
	struct cip_msg	 cip;

	/* ListIdentity response */
	bool		 has_identity;
	struct enip_identity identity;
};

/*
 * Frame the next encapsulation message at the head of a stream.  Returns 0
 * and sets *len = 24 + length (may exceed n), IDS_EAGAIN when n < 4 and the
 * bytes present agree with a known command, IDS_EMALFORMED for an unknown
 * command or length > 65511, IDS_EINVAL on NULL len.
 */
int enip_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * True when p starts with a whole encapsulation message of a known
 * command, options 0, and a length that fits in n.
 */
bool enip_probe(const uint8_t *p, size_t n);

/*
 * Parse one encapsulation message and, for SendRRData/SendUnitData, its
 * CPF items and the CIP message (unwrapping Unconnected Send, listing a
 * Multiple Service Packet).  Requests and responses are told apart by the
 * CIP response bit.  Returns 0, IDS_ETRUNC when n is shorter than 24 +
 * length, IDS_EMALFORMED for an unknown command, CPF items overrunning the
 * data or a CIP header that does not fit its item, IDS_EINVAL on NULL out.
 * out is zeroed first.
 */
int enip_parse(const uint8_t *p, size_t n, struct enip_pdu *out);

/* Static name of an encapsulation command; never NULL. */
const char *enip_cmd_name(uint16_t cmd);

/* Static name of a CIP service (response bit ignored); never NULL. */
const char *cip_service_name(uint8_t service);

/*
 * Like cip_service_name() but with the class the request addressed, for
 * the object-specific codes (0x4E/0x52/0x54/0x5B mean Forward_Close,
 * Unconnected_Send, Forward_Open, Large_Forward_Open on class 6).
 */
const char *cip_service_name_for_class(uint8_t service, uint32_t class_id);

#endif
