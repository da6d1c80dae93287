/*
 * ipmap.h - small open-addressing hash map keyed on bytes (IP pairs, flow
 * ids...) with a fixed capacity and LRU-free eviction by age, for the
 * per-host state of detectors.  Capacity is a hard cap on memory an
 * attacker can make a detector use; when full, an old entry is reused.
 */
#ifndef ICSENTRY_LIB_IPMAP_H
#define ICSENTRY_LIB_IPMAP_H

#include <stddef.h>
#include <stdint.h>

#define IPMAP_KEY_MAX	40

struct ipmap;

/*
 * The hash of the map, for other tables of short byte keys: eight bytes
 * at a time, multiply-xorshift mixing.
 */
uint32_t ipmap_hash(const void *key, size_t klen);

/* cap entries of val_size bytes each (zeroed on insert). */
struct ipmap *ipmap_new(size_t cap, size_t val_size);
void ipmap_free(struct ipmap *m);

/* Value of key, or NULL. */
void *ipmap_get(struct ipmap *m, const void *key, size_t klen);

/*
 * Value of key, inserting a zeroed one when absent (*fresh = 1).  When the
 * map is full the oldest of a sample of 32 entries (the next ones after
 * the previous eviction) is recycled, in O(1): never an entry touched
 * later than all others.  now orders age.
 */
void *ipmap_put(struct ipmap *m, const void *key, size_t klen, uint64_t now,
    int *fresh);

/*
 * ipmap_put through a one-entry memo owned by the caller: id must name
 * the key alone and forever (a flow id and side: flow ids are never
 * reused).  A hit (same id, and no entry of the map moved or went since,
 * which the map's generation says) returns the remembered value and
 * touches it, with no hash or probe; a miss does ipmap_put and remembers
 * its answer.  The same value and side effects as ipmap_put.
 */
struct ipmap_memo {
	uint64_t	 id;
	uint64_t	 gen;
	void		*val;
};

void *ipmap_put_memo(struct ipmap *m, struct ipmap_memo *c, uint64_t id,
    const void *key, size_t klen, uint64_t now, int *fresh);

/*
 * The hit half alone, for a caller that builds the key only on a miss:
 * the remembered value (touched, not fresh), or NULL.
 */
void *ipmap_memo_get(struct ipmap *m, const struct ipmap_memo *c, uint64_t id,
    uint64_t now);

void ipmap_del(struct ipmap *m, const void *key, size_t klen);

/* Visit every entry; fn returns 1 to delete the entry. */
void ipmap_each(struct ipmap *m, int (*fn)(void *arg, const void *key,
    size_t klen, void *val), void *arg);

size_t ipmap_count(const struct ipmap *m);

/* Entries recycled because the map was full (0 for NULL): for --stats. */
uint64_t ipmap_recycled(const struct ipmap *m);

#endif
