/*
 * sv.h - IEC 61850-9-2 Sampled Values parser (EtherType 0x88BA).
 *
 * Spec: IEC 61850-9-2:2011 8.5 (savPdu ASN.1), 8.4 (frame: the 8-byte
 * APPID/Length/Reserved header shared with GOOSE, see goose.h).
 *
 *   savPdu [APPLICATION 0] 0x60 {
 *     [0] noASDU INTEGER (1..65535)
 *     [1] security OPTIONAL
 *     [2] seqASDU SEQUENCE OF ASDU {
 *           [0] svID VisibleString      [5] smpSynch INTEGER (0..255)
 *           [1] datSet OPTIONAL         [6] smpRate OPTIONAL
 *           [2] smpCnt (2 octets)       [7] seqData OCTET STRING
 *           [3] confRev (4 octets)      [8] smpMod OPTIONAL
 *           [4] refrTm OPTIONAL         [9] t OPTIONAL
 *     }
 *   }
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_SV_H
#define ICSENTRY_DISSECTORS_SV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/goose.h"

#define SV_ETHERTYPE	0x88BA

/* One ASDU (a set of samples of one stream). */
struct sv_asdu {
	const uint8_t	*sv_id;		/* required */
	size_t		 sv_id_len;
	const uint8_t	*dat_set;	/* NULL when absent */
	size_t		 dat_set_len;
	uint16_t	 smp_cnt;
	uint32_t	 conf_rev;
	uint8_t		 smp_synch;	/* 0 none, 1 local, 2 global */
	bool		 has_smp_rate;
	uint16_t	 smp_rate;
	size_t		 data_len;	/* seqData octets */
};

#define SV_MAX_ASDU	8	/* kept per frame; 9-2LE sends 1 or 8 */

struct sv_pdu {
	struct iec61850_hdr hdr;
	uint16_t	 no_asdu;	/* as announced */
	uint16_t	 n_asdu;	/* ASDUs present */
	struct sv_asdu	 asdu[SV_MAX_ASDU];	/* the first ones */
	size_t		 frame_len;
};

/*
 * Parse one SV frame (the bytes after the EtherType).  Returns 0,
 * IDS_ETRUNC when n is shorter than the header's Length, IDS_EMALFORMED
 * on a bad encoding, an ASDU without svID/smpCnt/confRev/seqData, noASDU
 * 0 or different from the ASDUs present, IDS_EINVAL on NULL out.  out is
 * zeroed first.
 */
int sv_parse(const uint8_t *p, size_t n, struct sv_pdu *out);

#endif
