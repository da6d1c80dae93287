/* htab.c - the growable hash table (see htab.h). */
#include "lib/htab.h"

#include <stdlib.h>
#include <string.h>

/* Entries allocated first; the array doubles from here up to max. */
#define HTAB_MIN 16

/* The index of an empty table: one empty slot, never written. */
static struct htab_slot htab_empty[1];

uint32_t
htab_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, p + i, len - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (uint32_t)h;
}

int
htab_init(struct htab *t, size_t esz, size_t klen, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	t->esz = esz;
	t->klen = klen;
	t->max = max;
	t->idx = htab_empty;
	return 0;
}

int
htab_init_eq(struct htab *t, size_t esz, htab_eq_fn eq, uint32_t max)
{
	htab_init(t, esz, 0, max);
	t->eq = eq;
	return 0;
}

void
htab_free(struct htab *t)
{
	free(t->v);
	free(t->hv);
	if (t->idx != htab_empty)
		free(t->idx);
	t->v = NULL;
	t->hv = NULL;
	t->idx = htab_empty;
	t->n = t->cap = t->mask = 0;
}

void
htab_clear(struct htab *t)
{
	if (t->cap != 0)
		memset(t->idx, 0, ((size_t)t->mask + 1) * sizeof(*t->idx));
	t->n = 0;
}

static void
link_slot(struct htab *t, uint32_t e, uint32_t h)
{
	uint32_t i;

	for (i = h & t->mask; t->idx[i].e != 0; i = (i + 1) & t->mask)
		;
	t->idx[i].e = e + 1;
	t->idx[i].h = h;
}

/* Double the entries (at most max) and rebuild the index: 0 or -1. */
static int
grow(struct htab *t)
{
	uint32_t cap = t->cap != 0 ? t->cap * 2 : HTAB_MIN, j;
	size_t size;
	struct htab_slot *ni;
	uint32_t *nh;
	uint8_t *nv;

	if (cap > t->max || cap < t->cap)
		cap = t->max;
	if ((nv = realloc(t->v, (size_t)cap * t->esz)) == NULL)
		return -1;
	t->v = nv;
	if ((nh = realloc(t->hv, (size_t)cap * sizeof(*nh))) == NULL)
		return -1;
	t->hv = nh;
	for (size = 2 * HTAB_MIN; size < (size_t)cap * 2; size <<= 1)
		;
	if ((ni = calloc(size, sizeof(*ni))) == NULL)
		return -1;
	if (t->idx != htab_empty)
		free(t->idx);
	t->idx = ni;
	t->mask = (uint32_t)(size - 1);
	t->cap = cap;
	for (j = 0; j < t->n; j++)
		link_slot(t, j, t->hv[j]);
	return 0;
}

void *
htab_get(const struct htab *t, const void *key)
{
	if (t->idx == NULL) /* zeroed, never initialised: empty */
		return NULL;
	return htab_get_h(t, key, htab_hash(key, t->klen));
}

void *
htab_add_h(struct htab *t, uint32_t h)
{
	void *e;

	if (t->n >= t->max || (t->n == t->cap && grow(t) != 0)) {
		t->refused++;
		return NULL;
	}
	e = htab_at(t, t->n);
	memset(e, 0, t->esz);
	t->hv[t->n] = h;
	link_slot(t, t->n, h);
	t->n++;
	return e;
}

void *
htab_put_h(struct htab *t, const void *key, uint32_t h, bool *fresh)
{
	void *e;

	*fresh = false;
	if (t->idx != NULL && (e = htab_get_h(t, key, h)) != NULL)
		return e;
	if ((e = htab_add_h(t, h)) == NULL)
		return NULL;
	if (t->eq == NULL)
		memcpy(e, key, t->klen);
	*fresh = true;
	return e;
}

void *
htab_put(struct htab *t, const void *key, bool *fresh)
{
	return htab_put_h(t, key, htab_hash(key, t->klen), fresh);
}

/* The index slot that points at entry i. */
static uint32_t
slot_of(const struct htab *t, uint32_t i)
{
	uint32_t s;

	for (s = t->hv[i] & t->mask; t->idx[s].e != i + 1;
	     s = (s + 1) & t->mask)
		;
	return s;
}

void
htab_del(struct htab *t, uint32_t i)
{
	uint32_t s, k, home, last;

	if (i >= t->n)
		return;
	/* empty the slot, shifting later slots of the run back */
	s = slot_of(t, i);
	for (k = (s + 1) & t->mask; t->idx[k].e != 0; k = (k + 1) & t->mask) {
		home = t->idx[k].h & t->mask;
		if (((k - home) & t->mask) >= ((k - s) & t->mask)) {
			t->idx[s] = t->idx[k];
			s = k;
		}
	}
	t->idx[s].e = 0;
	last = t->n - 1;
	if (i != last) {
		t->idx[slot_of(t, last)].e = i + 1;
		memcpy(htab_at(t, i), htab_at(t, last), t->esz);
		t->hv[i] = t->hv[last];
	}
	t->n--;
}

size_t
htab_bytes(const struct htab *t)
{
	return (size_t)t->cap * (t->esz + sizeof(*t->hv)) +
	    (t->cap != 0 ? ((size_t)t->mask + 1) * sizeof(*t->idx) : 0);
}
