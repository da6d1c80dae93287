/*
 * seghash.h - a cheap hash of a TCP segment's payload, 8 bytes a step.
 * Not against attackers: it only tells an altered copy of a segment from
 * a plain retransmission (dissect.c) and two payloads for one sequence
 * number (stackfp.c).
 *
 * Both ask for the hash of the same packet's payload: pkt_payload_hash()
 * computes it once per packet when the packet carries a memo (the agent's
 * does; a struct pkt without one is hashed on every call).
 */
#ifndef ICSENTRY_DISSECTORS_SEGHASH_H
#define ICSENTRY_DISSECTORS_SEGHASH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dissectors/decode.h"
#include "lib/tail.h"

struct pkt_memo {
	bool		has_hash;
	uint32_t	hash;		/* seg_hash of the whole payload */
};

static inline uint32_t
seg_hash(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	w = tail_word(p, n);
	h = (h ^ w) * 0x100000001b3ull;
	return (uint32_t)(h ^ h >> 32);
}

/* seg_hash(p->payload, p->payload_len), once per packet with a memo */
static inline uint32_t
pkt_payload_hash(const struct pkt *p)
{
	uint32_t h;

	if (p->memo != NULL && p->memo->has_hash)
		return p->memo->hash;
	h = seg_hash(p->payload, p->payload_len);
	if (p->memo != NULL) {
		p->memo->has_hash = true;
		p->memo->hash = h;
	}
	return h;
}

#endif
