/* ipmap.c - bounded hash map for detector state (linear probing). */
#include "lib/ipmap.h"

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
		w = 0;
		memcpy(&w, p + i, klen - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (uint32_t)h;
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
		if (s->klen == klen && memcmp(s->key, key, klen) == 0)
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

static void
evict_oldest(struct ipmap *m)
{
	struct slot *s, *old = NULL;
	size_t i;

	/* O(n) but only when full, which only an attack or a bad cap causes */
	for (i = 0; i < m->nslots; i++) {
		s = slot_at(m, i);
		if (s->klen != 0 && (old == NULL || s->touched < old->touched))
			old = s;
	}
	if (old != NULL) {
		old->klen = 0;
		old->tomb = 1;
		m->count--;
		m->tombs++;
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
	if (m->count >= m->cap)
		evict_oldest(m);
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
		}
	}
}

size_t
ipmap_count(const struct ipmap *m)
{
	return m->count;
}
