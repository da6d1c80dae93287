/*
 * goose.h - IEC 61850 GOOSE parser (Generic Object Oriented Substation
 * Event, EtherType 0x88B8).
 *
 * Spec: IEC 61850-8-1:2011 Annex A (A.3 frame, A.3.2 IECGoosePdu), C.2
 * (Ed. 2 simulation bit in Reserved 1); MMS Data CHOICE tags from ISO
 * 9506-2 (boolean [3], bit-string [4], integer [5], unsigned [6],
 * floating-point [7]).
 *
 * The bytes after the EtherType (and any 802.1Q tag):
 *
 *   +--------+--------+------------+------------+---------------------+
 *   | APPID  | Length | Reserved 1 | Reserved 2 | goosePdu (BER)      |
 *   | 2      | 2      | 2 (S bit)  | 2          | Length - 8 bytes    |
 *   +--------+--------+------------+------------+---------------------+
 *   Length counts from APPID; Ethernet padding may follow.
 *
 *   goosePdu [APPLICATION 1] 0x61 {
 *     [0] gocbRef VisibleString      [6] sqNum INTEGER
 *     [1] timeAllowedtoLive (ms)     [7] simulation (Ed.1 "test") BOOLEAN
 *     [2] datSet VisibleString       [8] confRev INTEGER
 *     [3] goID VisibleString OPT     [9] ndsCom BOOLEAN
 *     [4] t UtcTime (8 octets)       [10] numDatSetEntries INTEGER
 *     [5] stNum INTEGER              [11] allData SEQUENCE OF Data
 *   }
 *
 * The SV parser (sv.h) shares the 8-byte header (goose_hdr()).
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_GOOSE_H
#define ICSENTRY_DISSECTORS_GOOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOOSE_ETHERTYPE		0x88B8
#define IEC61850_HDR_LEN	8
/* Reserved 1, bit 15: the frame is simulated (61850-8-1 Ed. 2, C.2). */
#define IEC61850_RES1_SIMULATED	0x8000
/* Values kept per frame; the data hash still covers all of them. */
#define GOOSE_MAX_VALUES	32

/* The 8-byte header GOOSE and SV share. */
struct iec61850_hdr {
	uint16_t	 appid;
	uint16_t	 length;	/* from APPID to the end of the PDU */
	uint16_t	 reserved1;
	uint16_t	 reserved2;
	bool		 simulated;	/* reserved1 & IEC61850_RES1_SIMULATED */
};

/* MMS Data CHOICE tags a data set entry may carry (context class). */
enum goose_data_type {
	GOOSE_DATA_ARRAY = 1,
	GOOSE_DATA_STRUCTURE = 2,
	GOOSE_DATA_BOOLEAN = 3,
	GOOSE_DATA_BITSTRING = 4,
	GOOSE_DATA_INTEGER = 5,
	GOOSE_DATA_UNSIGNED = 6,
	GOOSE_DATA_FLOAT = 7,
	GOOSE_DATA_OCTETSTRING = 9,
	GOOSE_DATA_VISIBLESTRING = 10,
	GOOSE_DATA_BINARYTIME = 12,
	GOOSE_DATA_UTCTIME = 17
};

struct goose_value {
	uint8_t		 type;		/* enum goose_data_type (tag number) */
	int64_t		 i;		/* boolean 0/1, integer, unsigned,
					   bit-string bits (left-aligned bytes
					   as an integer, up to 8 octets),
					   element count for array/structure */
	double		 f;		/* floating-point */
};

struct goose_pdu {
	struct iec61850_hdr hdr;
	const uint8_t	*gocb_ref;	/* [0], required */
	size_t		 gocb_ref_len;
	uint32_t	 tal_ms;	/* [1] timeAllowedtoLive */
	const uint8_t	*dat_set;	/* [2] */
	size_t		 dat_set_len;
	const uint8_t	*go_id;		/* [3], NULL when absent */
	size_t		 go_id_len;
	uint32_t	 t_sec;		/* [4] UtcTime: seconds since 1970 */
	uint32_t	 t_frac;	/* 24-bit fraction of a second */
	uint8_t		 t_quality;
	uint32_t	 st_num;	/* [5], required */
	uint32_t	 sq_num;	/* [6], required */
	bool		 simulation;	/* [7] (Ed. 1: test) */
	uint32_t	 conf_rev;	/* [8] */
	bool		 nds_com;	/* [9] needs commissioning */
	uint32_t	 num_entries;	/* [10] as announced */
	uint32_t	 n_values;	/* [11] entries actually present */
	struct goose_value values[GOOSE_MAX_VALUES];	/* first ones */
	uint64_t	 data_hash;	/* FNV-1a over allData's contents */
	size_t		 frame_len;	/* == hdr.length */
};

/*
 * Read the 8-byte header at p.  Returns 0, IDS_ETRUNC when n < 8 or n is
 * shorter than the Length field, IDS_EMALFORMED when Length < 8, IDS_EINVAL
 * on NULL out.
 */
int goose_hdr(const uint8_t *p, size_t n, struct iec61850_hdr *out);

/*
 * Parse one GOOSE frame (the bytes after the EtherType).  Returns 0,
 * IDS_ETRUNC when n is shorter than the header's Length, IDS_EMALFORMED
 * on a bad BER encoding, a missing or empty gocbRef, a missing stNum/sqNum,
 * an out-of-range number, IDS_EINVAL on NULL out.  out is zeroed first.
 */
int goose_parse(const uint8_t *p, size_t n, struct goose_pdu *out);

/* Static name of a data type ("boolean", ...); never NULL. */
const char *goose_data_type_name(uint8_t type);

#endif
