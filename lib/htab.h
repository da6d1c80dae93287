/*
 * htab.h - the one growable hash table: entries of a fixed size in one
 * dense array (index 0 .. n - 1, so iteration is a plain loop), found
 * through an open-addressing index of (hash, entry) slots with linear
 * probing.  The entry array doubles up to the caller's cap and the index
 * is kept at most half full; a put beyond the cap is refused and counted
 * (every model has a memory cap).
 *
 * Keys are either the first klen bytes of the entry (htab_init: the
 * table hashes and compares them), or anything the caller hashes and
 * compares itself (htab_init_eq: pass the hash to htab_get_h and
 * htab_put_h).  Hot paths may walk the candidates of a hash with
 * htab_next and compare keys inline.
 *
 * Entries move: when the array grows (realloc) and when htab_del moves
 * the last entry into the deleted one's place.  Hold indexes, not
 * pointers, across puts and deletes.
 */
#ifndef ICSENTRY_LIB_HTAB_H
#define ICSENTRY_LIB_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct htab_slot {
	uint32_t h; /* the entry's hash */
	uint32_t e; /* entry index + 1; 0 = empty */
};

/* Compare an entry with a key: nonzero when they are equal. */
typedef int (*htab_eq_fn)(const void *entry, const void *key);

struct htab {
	uint8_t *v; /* entries, esz bytes each */
	uint32_t *hv; /* hash of each entry */
	struct htab_slot *idx;
	uint32_t n, cap, max, mask;
	size_t esz, klen;
	htab_eq_fn eq;
	uint64_t refused; /* puts refused: cap or memory */
};

/* Bytes of key hashed eight at a time, multiply-xorshift mixing. */
uint32_t htab_hash(const void *key, size_t len);

/*
 * An empty table of entries of esz bytes whose key is their first klen
 * bytes, holding at most max entries.  Allocates nothing yet (the index
 * is a shared empty slot until the first put): 0.  A zeroed table that
 * was never initialised is empty for the functions of htab.c, but the
 * inline htab_next and htab_get_h need htab_init or htab_init_eq.
 */
int htab_init(struct htab *t, size_t esz, size_t klen, uint32_t max);
/* The same, for keys the caller hashes and eq compares. */
int htab_init_eq(struct htab *t, size_t esz, htab_eq_fn eq, uint32_t max);
void htab_free(struct htab *t);
/* Remove every entry (memory kept). */
void htab_clear(struct htab *t);

static inline uint32_t
htab_count(const struct htab *t)
{
	return t->n;
}

static inline void *
htab_at(const struct htab *t, uint32_t i)
{
	return t->v + (size_t)i * t->esz;
}

static inline uint32_t
htab_index(const struct htab *t, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - t->v) / t->esz);
}

/*
 * The next entry whose hash is h: start with *it = h and call until NULL;
 * the caller compares the key.
 */
static inline void *
htab_next(const struct htab *t, uint32_t h, uint32_t *it)
{
	/* locals: a store to *it must not reload the table's fields */
	const struct htab_slot *idx = t->idx;
	uint32_t i = *it, mask = t->mask, e;

	for (; (e = idx[i & mask].e) != 0; i++)
		if (idx[i & mask].h == h) {
			*it = i + 1;
			return t->v + (size_t)(e - 1) * t->esz;
		}
	return NULL;
}

/* The entry of key with hash h, or NULL. */
static inline void *
htab_get_h(const struct htab *t, const void *key, uint32_t h)
{
	uint32_t it = h;
	void *e;

	while ((e = htab_next(t, h, &it)) != NULL)
		if (t->eq != NULL ? t->eq(e, key) != 0 :
				    memcmp(e, key, t->klen) == 0)
			return e;
	return NULL;
}

/* The entry of key (klen-byte keys), or NULL. */
void *htab_get(const struct htab *t, const void *key);

/*
 * The entry of key, added when new (*fresh set): zeroed, with the key
 * copied in for klen-byte keys (the caller fills it in for htab_init_eq).
 * NULL, counted in refused, when the table holds max entries or memory
 * runs out.
 */
void *htab_put_h(struct htab *t, const void *key, uint32_t h, bool *fresh);
void *htab_put(struct htab *t, const void *key, bool *fresh);
/*
 * A new zeroed entry of hash h, for a key the caller knows is absent (no
 * lookup; the caller fills the key in).  NULL, counted, as htab_put_h.
 */
void *htab_add_h(struct htab *t, uint32_t h);

/*
 * Remove entry i; the last entry, if another, moves to index i.  When
 * deleting while iterating, iterate from the end.
 */
void htab_del(struct htab *t, uint32_t i);

/* Bytes the table holds (entries, hashes and index). */
size_t htab_bytes(const struct htab *t);

#endif
