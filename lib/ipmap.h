/*
 * ipmap.h - small open-addressing hash map keyed on bytes (IP pairs, flow
 * ids...) with a fixed capacity and LRU-free eviction by age, for the
 * per-host state of detectors.  Capacity is a hard cap on memory an
 * attacker can make a detector use; when full, the oldest entry is reused.
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
 * map is full the entry touched longest ago is recycled.  now orders age.
 */
void *ipmap_put(struct ipmap *m, const void *key, size_t klen, uint64_t now,
    int *fresh);

void ipmap_del(struct ipmap *m, const void *key, size_t klen);

/* Visit every entry; fn returns 1 to delete the entry. */
void ipmap_each(struct ipmap *m, int (*fn)(void *arg, const void *key,
    size_t klen, void *val), void *arg);

size_t ipmap_count(const struct ipmap *m);

#endif
