/*
 * tail.h - the last 0..7 bytes of a buffer as one 64-bit word, without a
 * variable-length memcpy (a libc call on the packet path).
 *
 * The bytes go in little-endian order: on x86 and other little-endian
 * hosts the value is exactly that of memcpy() into a zeroed uint64_t, so
 * a hash that used memcpy keeps its values.  Two overlapping fixed-size
 * loads instead of a byte loop.
 */
#ifndef ICSENTRY_LIB_TAIL_H
#define ICSENTRY_LIB_TAIL_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
tail_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* p[0..n-1], n < 8, as a little-endian word (upper bytes zero) */
static inline uint64_t
tail_word(const uint8_t *p, size_t n)
{
	if (n >= 4)
		return (uint64_t)tail_le32(p) |
		    ((uint64_t)tail_le32(p + n - 4) >> (8 * (8 - n))) << 32;
	if (n >= 2)
		return (uint64_t)(p[0] | p[1] << 8) |
		    ((uint64_t)(p[n - 2] | p[n - 1] << 8) >> (8 * (4 - n)))
		    << 16;
	return n == 1 ? p[0] : 0;
}

#endif
