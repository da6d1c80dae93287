/* ipmap.c - bounded hash map for detector state (linear probing). */
#include "ipmap.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint8_t		key[IPMAP_KEY_MAX];
	uint8_t		klen;		/* 0 = empty */
	uint8_t		tomb;		/* deleted */
	uint64_t	touched;
};

struct ipmap {
	size_t		 cap, nslots, count, vsize, stride;
	uint8_t		*mem;
};

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
	size_t n = 16;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	while (n < cap * 2)
		n <<= 1;
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

static uint32_t
hash(const void *key, size_t klen)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

static struct slot *
find(const struct ipmap *m, const void *key, size_t klen)
{
	size_t i = hash(key, klen) & (m->nslots - 1), n;
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
	i = hash(key, klen) & (m->nslots - 1);
	for (n = 0; n < m->nslots; n++) {
		s = slot_at(m, i);
		if (s->klen == 0)
			break;
		i = (i + 1) & (m->nslots - 1);
	}
	if (s->klen != 0)
		return NULL;
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
		}
	}
}

size_t
ipmap_count(const struct ipmap *m)
{
	return m->count;
}
