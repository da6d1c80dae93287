/* ipmap.c - bounded hash map for detector state (linear probing). */
#include "lib/ipmap.h"
#include "lib/tail.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint8_t		key[IPMAP_KEY_MAX];
	uint8_t		klen;		/* 0 = empty */
	uint8_t		tomb;		/* deleted */
	uint64_t	touched;
};

struct ipmap {
	size_t		 cap, nslots, count, tombs, vsize, stride;
	uint64_t	 recycled;	/* entries reused because the map was full */
	uint64_t	 gen;		/* bumped when an entry moves or goes */
	size_t		 hand;		/* where the next eviction looks */
	uint8_t		*mem;
};

/* Start small; grow by doubling up to twice the cap (load <= 1/2). */
#define IPMAP_MIN_SLOTS	16

static struct slot *
slot_at(const struct ipmap *m, size_t i)
{
	return (struct slot *)(void *)(m->mem + i * m->stride);
}

static void *
val_of(struct slot *s)
{
	return (uint8_t *)s + sizeof(struct slot);
}

struct ipmap *
ipmap_new(size_t cap, size_t val_size)
{
	struct ipmap *m;
	size_t n;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	n = IPMAP_MIN_SLOTS;
	m->cap = cap;
	m->nslots = n;
	m->vsize = val_size;
	/* keep values 8-byte aligned */
	m->stride = (sizeof(struct slot) + val_size + 7) & ~(size_t)7;
	m->mem = calloc(n, m->stride);
	if (m->mem == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
ipmap_free(struct ipmap *m)
{
	if (m == NULL)
		return;
	free(m->mem);
	free(m);
}

uint32_t
ipmap_hash(const void *key, size_t klen)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15u ^ klen, w;
	size_t i = 0;

	for (; i + 8 <= klen; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (i < klen) {
		/* the same word memcpy into a zeroed one gave, without a call */
		w = tail_word(p + i, klen - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (uint32_t)h;
}

/*
 * The usual key sizes (an IPv4 or IPv6 address, a flow id, an address
 * pair) compared in fixed sizes the compiler inlines, not a memcmp call.
 */
static inline bool
key_eq(const uint8_t *a, const void *b, size_t klen)
{
	switch (klen) {
	case 4:
		return memcmp(a, b, 4) == 0;
	case 8:
		return memcmp(a, b, 8) == 0;
	case 16:
		return memcmp(a, b, 16) == 0;
	case 32:
		return memcmp(a, b, 32) == 0;
	default:
		return memcmp(a, b, klen) == 0;
	}
}

static struct slot *
find(const struct ipmap *m, const void *key, size_t klen)
{
	size_t i = ipmap_hash(key, klen) & (m->nslots - 1), n;
	struct slot *s;

	for (n = 0; n < m->nslots; n++) {
		s = slot_at(m, i);
		if (s->klen == 0 && !s->tomb)
			return NULL;
		if (s->klen == klen && key_eq(s->key, key, klen))
			return s;
		i = (i + 1) & (m->nslots - 1);
	}
	return NULL;
}

void *
ipmap_get(struct ipmap *m, const void *key, size_t klen)
{
	struct slot *s;

	if (klen == 0 || klen > IPMAP_KEY_MAX)
		return NULL;
	s = find(m, key, klen);
	return s != NULL ? val_of(s) : NULL;
}

/* Rehash into nslots slots (also drops tombstones).  0 or -1. */
static int
rehash(struct ipmap *m, size_t nslots)
{
	uint8_t *old = m->mem, *mem;
	size_t oldn = m->nslots, i, j;

	mem = calloc(nslots, m->stride);
	if (mem == NULL)
		return -1;
	m->mem = mem;
	m->nslots = nslots;
	m->tombs = 0;
	m->gen++;
	for (i = 0; i < oldn; i++) {
		struct slot *s = (struct slot *)(void *)(old + i * m->stride), *d;

		if (s->klen == 0)
			continue;
		j = ipmap_hash(s->key, s->klen) & (nslots - 1);
		for (;;) {
			d = slot_at(m, j);
			if (d->klen == 0)
				break;
			j = (j + 1) & (nslots - 1);
		}
		memcpy(d, s, m->stride);
	}
	free(old);
	return 0;
}

/*
 * Recycle the oldest of IPMAP_EVICT_SAMPLE live entries, taken from a
 * cursor that moves on with every eviction.  Scanning the whole table for
 * the oldest made each insert into a full map O(cap): an attacker who
 * keeps it full (a host sweep, a million spoofed sources) turned every
 * packet into a 100,000-slot scan.  The sample keeps recently touched
 * entries alive just as well: one touched now is never the oldest of
 * two.
 */
#define IPMAP_EVICT_SAMPLE	32

static void
evict_oldest(struct ipmap *m)
{
	struct slot *s, *old = NULL;
	size_t i = m->hand & (m->nslots - 1), n, live = 0;

	for (n = 0; n < m->nslots && live < IPMAP_EVICT_SAMPLE; n++) {
		s = slot_at(m, i);
		if (s->klen != 0) {
			live++;
			if (old == NULL || s->touched < old->touched)
				old = s;
		}
		i = (i + 1) & (m->nslots - 1);
	}
	m->hand = i;
	if (old != NULL) {
		old->klen = 0;
		old->tomb = 1;
		m->count--;
		m->tombs++;
		m->gen++;
	}
}

void *
ipmap_put(struct ipmap *m, const void *key, size_t klen, uint64_t now,
    int *fresh)
{
	size_t i, n;
	struct slot *s;

	*fresh = 0;
	if (klen == 0 || klen > IPMAP_KEY_MAX)
		return NULL;
	s = find(m, key, klen);
	if (s != NULL) {
		s->touched = now;
		return val_of(s);
	}
	if (m->count >= m->cap) {
		evict_oldest(m);
		m->recycled++;
	}
	/* keep (live + deleted) slots at most half full */
	if ((m->count + m->tombs + 1) * 2 > m->nslots) {
		size_t want = m->nslots;

		while ((m->count + 1) * 2 > want / 2 && want < 2 * m->cap + IPMAP_MIN_SLOTS)
			want <<= 1;
		if (rehash(m, want) != 0 && m->count + m->tombs + 1 >= m->nslots)
			return NULL;
	}
	i = ipmap_hash(key, klen) & (m->nslots - 1);
	for (n = 0; n < m->nslots; n++) {
		s = slot_at(m, i);
		if (s->klen == 0)
			break;
		i = (i + 1) & (m->nslots - 1);
	}
	if (s->klen != 0)
		return NULL;
	if (s->tomb)
		m->tombs--;
	memset(s, 0, m->stride);
	memcpy(s->key, key, klen);
	s->klen = (uint8_t)klen;
	s->touched = now;
	m->count++;
	*fresh = 1;
	return val_of(s);
}

void *
ipmap_memo_get(struct ipmap *m, const struct ipmap_memo *c, uint64_t id,
    uint64_t now)
{
	if (c->val == NULL || c->id != id || c->gen != m->gen)
		return NULL;
	/* what ipmap_put does for a key it finds */
	((struct slot *)(void *)((uint8_t *)c->val -
	    sizeof(struct slot)))->touched = now;
	return c->val;
}

void *
ipmap_put_memo(struct ipmap *m, struct ipmap_memo *c, uint64_t id,
    const void *key, size_t klen, uint64_t now, int *fresh)
{
	void *v = ipmap_memo_get(m, c, id, now);

	if (v != NULL) {
		*fresh = 0;
		return v;
	}
	v = ipmap_put(m, key, klen, now, fresh);
	/* after the put: an insert may have rehashed (a new gen) */
	c->id = id;
	c->gen = m->gen;
	c->val = v;
	return v;
}

void
ipmap_del(struct ipmap *m, const void *key, size_t klen)
{
	struct slot *s;

	if (klen == 0 || klen > IPMAP_KEY_MAX)
		return;
	s = find(m, key, klen);
	if (s != NULL) {
		s->klen = 0;
		s->tomb = 1;
		m->count--;
		m->tombs++;
		m->gen++;
	}
}

void
ipmap_each(struct ipmap *m, int (*fn)(void *, const void *, size_t, void *),
    void *arg)
{
	struct slot *s;
	size_t i;

	for (i = 0; i < m->nslots; i++) {
		s = slot_at(m, i);
		if (s->klen != 0 && fn(arg, s->key, s->klen, val_of(s))) {
			s->klen = 0;
			s->tomb = 1;
			m->count--;
			m->tombs++;
			m->gen++;
		}
	}
}

size_t
ipmap_count(const struct ipmap *m)
{
	return m->count;
}

uint64_t
ipmap_recycled(const struct ipmap *m)
{
	return m != NULL ? m->recycled : 0;
}
