/*
 * mms.h - IEC 61850 MMS parser (ISO 9506 Manufacturing Message
 * Specification) over the OSI upper layers on TCP port 102.
 *
 * Spec: RFC 1006 (TPKT), ISO 8073 / X.224 (COTP DT), ISO 8327-1 / X.225
 * (session: GT+DT, CONNECT/ACCEPT user data PGI 193), ISO 8823 / X.226
 * (presentation CP/CPA-type, fully-encoded-data, PDV-list), ISO 8650 /
 * X.227 (ACSE AARQ/AARE user-information [30]), ISO 9506-2 (MMS PDUs and
 * ConfirmedServiceRequest tags), IEC 61850-8-1 (the profile).
 *
 *   +------+------+-----------------+---------------+------------------+
 *   | TPKT | COTP | session         | presentation  | MMS PDU          |
 *   | 03 00| DT   | 01 00 01 00     | 61 { 30 { 02  | a0 { 02 invokeID |
 *   | len  | F0 80| (GT + DT)       | ctx, a0 {...  |   service [n] }} |
 *   +------+------+-----------------+---------------+------------------+
 *   Association: session CONNECT (0D) / ACCEPT (0E), PGI 193 user data ->
 *   presentation CP-type 31 { [2] normal-mode { 61 { 30 { a0 { ACSE AARQ
 *   60 / AARE 61 { [30] be { 28 EXTERNAL { a0 { MMS initiate a8/a9 }}}}}}}}}
 *
 * Only COTP DT TPDUs with the end-of-TSDU mark are parsed beyond COTP: a
 * TPDU without it is reported as segmented.  On a flow the stream layer
 * joins such TPDUs first (dissect.c deliver, s7comm.c cotp_segment:
 * bounded by [flows] max_reasm_bytes and the reassembly budget), so
 * mms_parse sees one frame holding the whole TSDU.
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_MMS_H
#define ICSENTRY_DISSECTORS_MMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMS_TCP_PORT		102
#define MMS_TPKT_HDR_LEN	4
#define MMS_TPKT_MIN_LEN	7	/* TPKT + the shortest COTP */

/* MMSpdu CHOICE tags (ISO 9506-2 7.2) */
enum mms_pdu_type {
	MMS_PDU_CONFIRMED_REQ = 0,
	MMS_PDU_CONFIRMED_RESP = 1,
	MMS_PDU_CONFIRMED_ERR = 2,
	MMS_PDU_UNCONFIRMED = 3,
	MMS_PDU_REJECT = 4,
	MMS_PDU_CANCEL_REQ = 5,
	MMS_PDU_CANCEL_RESP = 6,
	MMS_PDU_CANCEL_ERR = 7,
	MMS_PDU_INITIATE_REQ = 8,
	MMS_PDU_INITIATE_RESP = 9,
	MMS_PDU_INITIATE_ERR = 10,
	MMS_PDU_CONCLUDE_REQ = 11,
	MMS_PDU_CONCLUDE_RESP = 12,
	MMS_PDU_CONCLUDE_ERR = 13,
	MMS_PDU_NONE = 255	/* no MMS PDU in this TPKT */
};

/* ConfirmedServiceRequest/Response CHOICE tags (ISO 9506-2 7.4) */
enum mms_service {
	MMS_SVC_STATUS = 0,
	MMS_SVC_GET_NAME_LIST = 1,
	MMS_SVC_IDENTIFY = 2,
	MMS_SVC_RENAME = 3,
	MMS_SVC_READ = 4,
	MMS_SVC_WRITE = 5,
	MMS_SVC_GET_VAR_ATTR = 6,
	MMS_SVC_DEFINE_NVL = 11,
	MMS_SVC_GET_NVL_ATTR = 12,
	MMS_SVC_DELETE_NVL = 13,
	MMS_SVC_INIT_DOWNLOAD = 26,
	MMS_SVC_DOWNLOAD_SEGMENT = 27,
	MMS_SVC_TERM_DOWNLOAD = 28,
	MMS_SVC_INIT_UPLOAD = 29,
	MMS_SVC_UPLOAD_SEGMENT = 30,
	MMS_SVC_TERM_UPLOAD = 31,
	MMS_SVC_REQ_DOMAIN_DOWNLOAD = 32,
	MMS_SVC_REQ_DOMAIN_UPLOAD = 33,
	MMS_SVC_LOAD_DOMAIN = 34,
	MMS_SVC_STORE_DOMAIN = 35,
	MMS_SVC_DELETE_DOMAIN = 36,
	MMS_SVC_GET_DOMAIN_ATTR = 37,
	MMS_SVC_CREATE_PI = 38,
	MMS_SVC_DELETE_PI = 39,
	MMS_SVC_START = 40,
	MMS_SVC_STOP = 41,
	MMS_SVC_RESUME = 42,
	MMS_SVC_RESET = 43,
	MMS_SVC_KILL = 44,
	MMS_SVC_GET_PI_ATTR = 45,
	MMS_SVC_OBTAIN_FILE = 46,
	MMS_SVC_FILE_OPEN = 72,
	MMS_SVC_FILE_READ = 73,
	MMS_SVC_FILE_CLOSE = 74,
	MMS_SVC_FILE_RENAME = 75,
	MMS_SVC_FILE_DELETE = 76,
	MMS_SVC_FILE_DIRECTORY = 77
};

/* What a confirmed request does, for detectors and the baseline. */
enum mms_class {
	MMS_CLASS_OTHER = 0,
	MMS_CLASS_READ,		/* read, attributes */
	MMS_CLASS_WRITE,	/* write */
	MMS_CLASS_DISCOVERY,	/* getNameList, identify, status */
	MMS_CLASS_NVL,		/* define/delete named variable list */
	MMS_CLASS_PROGRAM,	/* create/delete/start/stop/resume/reset/kill PI */
	MMS_CLASS_DOWNLOAD,	/* initiate/segment/terminate download, load */
	MMS_CLASS_UPLOAD,	/* upload sequence, store domain */
	MMS_CLASS_DOMAIN_DELETE,
	MMS_CLASS_FILE		/* file open/read/close/rename/delete/dir, obtain */
};

/* getNameList ObjectClass values (ISO 9506-2 7.5.1) */
#define MMS_OBJCLASS_NAMED_VARIABLE	0
#define MMS_OBJCLASS_NVL		2
#define MMS_OBJCLASS_DOMAIN		9
#define MMS_OBJCLASS_PI			10

struct mms_pdu {
	size_t		 frame_len;	/* TPKT length */
	uint8_t		 cotp_type;	/* 0xF0 DT, 0xE0 CR, 0xD0 CC, ... */
	bool		 segmented;	/* DT without end-of-TSDU */
	uint8_t		 spdu;		/* session SI: 1 DT, 13 CN, 14 AC... */
	uint8_t		 pdu;		/* enum mms_pdu_type */
	bool		 has_invoke;
	uint32_t	 invoke_id;
	int		 service;	/* confirmed request/response: the
					   ConfirmedService tag; unconfirmed:
					   the UnconfirmedService tag (0
					   informationReport); -1 when none */
	/* The object the request names (first variable, domain, program
	 * invocation, file, list): domain is NULL unless domain-specific. */
	const uint8_t	*domain;
	size_t		 domain_len;
	const uint8_t	*name;
	size_t		 name_len;
	unsigned	 n_vars;	/* read/write/define NVL: variables */
	int		 object_class;	/* getNameList; -1 otherwise */
};

/*
 * Frame the TPKT at the head of a stream: 0 with *len = its length (may
 * exceed n), IDS_EAGAIN when n < 4, IDS_EMALFORMED for a version other
 * than 3 or a length below 7, IDS_EINVAL on NULL len.
 */
int mms_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * Parse one TPKT frame.  Returns 0 (out->pdu is MMS_PDU_NONE when the
 * frame carries no MMS PDU: COTP connect, session-only, segmented),
 * IDS_ETRUNC when n is shorter than the TPKT length, IDS_EMALFORMED for a
 * bad TPKT/COTP header, a session or presentation layer that overruns
 * the frame or an MMS PDU that does not decode, IDS_EINVAL on NULL out.
 * out is zeroed first.
 */
int mms_parse(const uint8_t *p, size_t n, struct mms_pdu *out);

/* Is this TPKT frame MMS (not S7comm)?  True when mms_parse() finds an
 * MMS PDU or an OSI session SPDU after COTP DT. */
bool mms_probe(const uint8_t *p, size_t n);

/* "read", "write", "getNameList", ...; never NULL ("unknown"). */
const char *mms_service_name(int service);
/* "informationReport", "unsolicitedStatus", "eventNotification". */
const char *mms_unconfirmed_name(int service);
/* "confirmed-request", ...; never NULL. */
const char *mms_pdu_name(uint8_t pdu);
enum mms_class mms_service_class(int service);

#endif
