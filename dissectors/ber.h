/*
 * ber.h - bounds-checked BER (ASN.1 Basic Encoding Rules) reader.
 *
 * Spec: ITU-T X.690 (08/2015) 8.1 (identifier and length octets), 8.2
 * (BOOLEAN), 8.3 (INTEGER).  Used by the IEC 61850 GOOSE and Sampled
 * Values parsers (IEC 61850-8-1 Annex A, 61850-9-2 8.5) and MMS (ISO
 * 9506-2) with its session/presentation/ACSE wrapping.
 *
 *   +------------+------------------+---------------------+
 *   | identifier | length           | contents            |
 *   | cc p ttttt | 0lllllll         | len bytes           |
 *   | (+ 7-bit   | 1nnnnnnn + n     |                     |
 *   |  tag bytes | big-endian bytes |                     |
 *   |  if 11111) | (n = 1..4)       |                     |
 *   +------------+------------------+---------------------+
 *
 * Only the definite length form is accepted: GOOSE, SV and MMS encoders
 * never emit the indefinite form (0x80), and accepting it would need
 * end-of-contents scanning that an attacker could make quadratic.
 *
 * Pure functions over struct rd: no I/O, no allocation; thread safe.
 */
#ifndef ICSENTRY_DISSECTORS_BER_H
#define ICSENTRY_DISSECTORS_BER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rd.h"

/* Identifier classes (the top two bits of the first octet). */
#define BER_CLASS_UNIVERSAL	0
#define BER_CLASS_APPLICATION	1
#define BER_CLASS_CONTEXT	2
#define BER_CLASS_PRIVATE	3

/* Largest tag number accepted: four 7-bit continuation octets. */
#define BER_TAG_MAX		((1u << 28) - 1)
/* Deepest nesting any parser here walks (a guard for recursion). */
#define BER_DEPTH_MAX		16

struct ber_tlv {
	uint8_t		 id;		/* first identifier octet as sent */
	uint8_t		 cls;		/* BER_CLASS_* */
	bool		 constructed;
	uint32_t	 tag;		/* tag number */
	size_t		 hdr_len;	/* identifier + length octets */
	size_t		 len;		/* contents length */
	struct rd	 val;		/* the contents, a sub-reader */
};

/*
 * Read the next TLV from r and carve its contents into t->val; r moves
 * past it.  Returns 0, IDS_ETRUNC when r ends inside the header or the
 * contents, IDS_EMALFORMED for the indefinite length, a length of more
 * than four octets or a tag number above BER_TAG_MAX.  r is left in error
 * after a failure.
 */
int	ber_next(struct rd *r, struct ber_tlv *t);

/* Does t carry class cls, tag number tag? */
static inline bool
ber_is(const struct ber_tlv *t, uint8_t cls, uint32_t tag)
{
	return t->cls == cls && t->tag == tag;
}

/*
 * Contents as a non-negative INTEGER (or the unsigned types IEC 61850
 * encodes as one).  Returns 0, IDS_EMALFORMED for empty contents, a
 * negative value or one above UINT64_MAX.
 */
int	ber_uint(const struct ber_tlv *t, uint64_t *v);

/* Contents as a signed INTEGER of 1..8 octets; 0 or IDS_EMALFORMED. */
int	ber_int(const struct ber_tlv *t, int64_t *v);

/* Contents as a BOOLEAN (one octet, nonzero = true); 0 or IDS_EMALFORMED. */
int	ber_bool(const struct ber_tlv *t, bool *v);

/* Pointer to and length of the contents (for strings). */
static inline const uint8_t *
ber_ptr(const struct ber_tlv *t)
{
	return t->len > 0 ? t->val.p : NULL;
}

#endif
