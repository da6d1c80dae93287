/*
 * iec104.h - IEC 60870-5-104 APDU parser (APCI + ASDU header).
 *
 * Spec: IEC 60870-5-104:2006 (APCI, section 5) and IEC 60870-5-101 /
 * 60870-5-5 (ASDU, type identifications) with the 104 field sizes:
 * 2-octet cause of transmission, 2-octet common address, 3-octet IOA.
 *
 * APDU (control fields little endian):
 *
 *   +------+--------+-----------+-----------+-----------+-----------+
 *   | 0x68 | length | control 1 | control 2 | control 3 | control 4 |
 *   +------+--------+-----------+-----------+-----------+-----------+
 *     I format: ctl1 bit0 = 0; N(S) = (ctl1 | ctl2 << 8) >> 1;
 *               N(R) = (ctl3 | ctl4 << 8) >> 1; an ASDU follows
 *     S format: ctl1 = 0x01; N(R) as above
 *     U format: ctl1 = 0x03 | function (STARTDT/STOPDT/TESTFR act/con)
 *
 * ASDU:
 *
 *   +---------+-----+---------------------+------------+-------------+
 *   | type id | VSQ | COT: T|PN|cause(6)  | originator | common addr |
 *   |    1    |  1  |          1          |     1      |   2 (LE)    |
 *   +---------+-----+---------------------+------------+-------------+
 *   | IOA (3, LE) | information elements ... (VSQ: SQ bit7, count 0-127)
 *   +-------------+
 *
 * Pure functions: no I/O, no allocation; thread safe.
 */
#ifndef ICSENTRY_DISSECTORS_IEC104_H
#define ICSENTRY_DISSECTORS_IEC104_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IEC104_START		0x68
#define IEC104_LEN_MIN		4	/* APCI control fields only */
#define IEC104_LEN_MAX		253
#define IEC104_ASDU_HDR_LEN	6

enum iec104_format {
	IEC104_FORMAT_I = 0,
	IEC104_FORMAT_S = 1,
	IEC104_FORMAT_U = 3
};

/* U-format functions (control octet 1 incl. the 0x03 format bits) */
enum iec104_u_func {
	IEC104_U_STARTDT_ACT = 0x07,
	IEC104_U_STARTDT_CON = 0x0B,
	IEC104_U_STOPDT_ACT = 0x13,
	IEC104_U_STOPDT_CON = 0x23,
	IEC104_U_TESTFR_ACT = 0x43,
	IEC104_U_TESTFR_CON = 0x83
};

/* Causes of transmission worth naming */
enum iec104_cot {
	IEC104_COT_PERIODIC = 1,
	IEC104_COT_BACKGROUND = 2,
	IEC104_COT_SPONTANEOUS = 3,
	IEC104_COT_INITIALIZED = 4,
	IEC104_COT_REQUEST = 5,
	IEC104_COT_ACTIVATION = 6,
	IEC104_COT_ACTIVATION_CON = 7,
	IEC104_COT_DEACTIVATION = 8,
	IEC104_COT_DEACTIVATION_CON = 9,
	IEC104_COT_ACTIVATION_TERM = 10,
	IEC104_COT_INROGEN = 20,	/* interrogated by station interrogation */
	IEC104_COT_UNKNOWN_TYPE = 44,
	IEC104_COT_UNKNOWN_CAUSE = 45,
	IEC104_COT_UNKNOWN_CA = 46,
	IEC104_COT_UNKNOWN_IOA = 47
};

/* Type identifications used by detectors */
enum iec104_type {
	IEC104_M_SP_NA_1 = 1,
	IEC104_M_DP_NA_1 = 3,
	IEC104_M_ME_NC_1 = 13,
	IEC104_M_ME_TF_1 = 36,
	IEC104_C_SC_NA_1 = 45,		/* single command */
	IEC104_C_DC_NA_1 = 46,		/* double command */
	IEC104_C_RC_NA_1 = 47,		/* regulating step command */
	IEC104_C_SE_NA_1 = 48,		/* set point, normalised */
	IEC104_C_SE_NB_1 = 49,		/* set point, scaled */
	IEC104_C_SE_NC_1 = 50,		/* set point, short float */
	IEC104_C_BO_NA_1 = 51,		/* bitstring of 32 bit */
	IEC104_C_SC_TA_1 = 58,
	IEC104_C_DC_TA_1 = 59,
	IEC104_C_RC_TA_1 = 60,
	IEC104_C_SE_TA_1 = 61,
	IEC104_C_SE_TB_1 = 62,
	IEC104_C_SE_TC_1 = 63,
	IEC104_C_BO_TA_1 = 64,
	IEC104_M_EI_NA_1 = 70,		/* end of initialisation */
	IEC104_C_IC_NA_1 = 100,		/* (general) interrogation */
	IEC104_C_CI_NA_1 = 101,		/* counter interrogation */
	IEC104_C_RD_NA_1 = 102,		/* read */
	IEC104_C_CS_NA_1 = 103,		/* clock synchronisation */
	IEC104_C_TS_NA_1 = 104,		/* test (101 only) */
	IEC104_C_RP_NA_1 = 105,		/* reset process */
	IEC104_C_CD_NA_1 = 106,		/* delay acquisition */
	IEC104_C_TS_TA_1 = 107		/* test with time tag */
};

/* Select/execute bit in SCO/DCO/RCO/QOS */
#define IEC104_SE_SELECT	0x80

struct iec104_apdu {
	/* APCI */
	uint8_t		 length;	/* APDU length field (4..253) */
	size_t		 frame_len;	/* 2 + length */
	enum iec104_format format;
	uint8_t		 u_func;	/* U: control octet 1 (enum iec104_u_func) */
	uint16_t	 ns;		/* I: send sequence number */
	uint16_t	 nr;		/* I, S: receive sequence number */

	/* ASDU (I format) */
	bool		 has_asdu;
	uint8_t		 type_id;
	uint8_t		 vsq;
	bool		 sq;		/* sequence of elements: one IOA */
	uint8_t		 num_objects;	/* VSQ & 0x7F */
	uint8_t		 cot;		/* cause (6 bits) */
	bool		 negative;	/* P/N bit */
	bool		 test;		/* T bit */
	uint8_t		 originator;
	uint16_t	 common_address;
	bool		 has_ioa;
	uint32_t	 ioa;		/* first information object address */
	const uint8_t	*objects;	/* information objects (from the first IOA) */
	size_t		 objects_len;

	/* Commands 45-50, 58-63: the qualifier of the first object. */
	bool		 has_qualifier;
	uint8_t		 qualifier;	/* SCO / DCO / RCO / QOS octet */
	bool		 select;	/* S/E bit: select (true) or execute */
	uint8_t		 command_state;	/* SCS (bit 0) / DCS, RCS (bits 0-1) */
	uint8_t		 qu;		/* qualifier of command (bits 2-6) */
};

/*
 * Frame the next APDU at the head of a stream.  Returns 0 and sets *len to
 * 2 + length (may exceed n), IDS_EAGAIN when n < 2 and the first byte is
 * 0x68 (or absent), IDS_EMALFORMED when the start byte is not 0x68 or the
 * length is outside 4..253, IDS_EINVAL on NULL len.
 */
int iec104_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * Parse one APDU.  Returns 0, IDS_ETRUNC when n is shorter than the APDU,
 * IDS_EMALFORMED on a bad start byte or length, an S/U frame that is not
 * exactly 4 control octets, a U frame without exactly one function bit or
 * an I frame too short for its ASDU header, IDS_EINVAL on NULL out.
 * out is zeroed first.
 */
int iec104_parse(const uint8_t *p, size_t n, struct iec104_apdu *out);

/* True for process information in control direction (types 45-69). */
bool iec104_type_is_command(uint8_t type);

/*
 * True for system information in control direction (types 100-107:
 * interrogation, counter interrogation, read, clock sync, test, reset
 * process, delay acquisition).
 */
bool iec104_type_is_system_command(uint8_t type);

/* One monitored value of an ASDU (iec104_values). */
enum iec104_value_kind {
	IEC104_VAL_BINARY,	/* single/double points */
	IEC104_VAL_ANALOG,	/* normalised, scaled, float, step position */
	IEC104_VAL_COUNTER	/* integrated totals (BCR) */
};

struct iec104_value {
	uint8_t		 type_id;
	uint8_t		 kind;		/* enum iec104_value_kind */
	bool		 is_float;
	bool		 invalid;	/* QDS/BCR IV or NT bit */
	uint32_t	 ioa;
	double		 value;
};

typedef void (*iec104_value_fn)(void *arg, const struct iec104_value *v);

/*
 * Walk the information objects of a monitor-direction ASDU (types 1-16,
 * 21, 30-37 but the bitstrings) and call fn for each value with its IOA
 * (SQ: consecutive IOAs).  Returns the number of values; stops where the
 * objects run out.
 */
size_t iec104_values(const struct iec104_apdu *m, iec104_value_fn fn, void *arg);

/* Static name (e.g. "C_SC_NA_1") of a type identification; never NULL. */
const char *iec104_type_name(uint8_t type);

/* Static name of a U-format function; never NULL. */
const char *iec104_u_name(uint8_t u_func);

/* Static name of a cause of transmission (6-bit value); never NULL. */
const char *iec104_cot_name(uint8_t cot);

#endif
