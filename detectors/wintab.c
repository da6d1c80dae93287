/*
 * wintab.c - the fixed table of windowed per-key counters (wintab.h).
 */
#include "detectors/wintab.h"

#include <stdio.h>
#include <string.h>

#include "lib/restab.h"

int
wintab_init(struct wintab *t, size_t esize, size_t max, int64_t window_s)
{
	size_t cap = 16;
	void *p;

	while (cap < max * 2)
		cap <<= 1;
	/* resident from the start (live): RSS must not creep as keys appear */
	if ((p = restab_new(cap, esize)) == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	t->slots = p;
	t->esize = esize;
	t->cap = cap;
	t->max = max;
	t->window_us = (uint64_t)window_s * 1000000u;
	return 0;
}

void
wintab_free(struct wintab *t)
{
	restab_free(t->slots, t->cap, t->esize);
	t->slots = NULL;
}

bool
wintab_take(struct wintab *t)
{
	if (t->n >= t->max) {
		t->dropped++;
		return false;
	}
	t->n++;
	return true;
}

bool
wintab_once(uint64_t *last, uint64_t now, uint64_t window_us)
{
	if (*last != 0 && now < *last + window_us)
		return false;
	*last = now;
	return true;
}

int
wintab_stats(const struct wintab *t, const char *what, char *buf, size_t len)
{
	return snprintf(buf, len,
	    "\"%s\":%zu,\"capacity\":%zu,"
	    "\"dropped\":%llu,\"bytes\":%zu",
	    what, t->n, t->max, (unsigned long long)t->dropped,
	    t->cap * t->esize);
}
