/*
 * wintab.h - the fixed table a windowed per-key counter keeps its slots
 * in (bacnet_iam.c per device instance, enip_session.c per client): at
 * most max slots, open addressing over a power-of-two capacity of twice
 * that, in its own mapping touched at once (resident from the start, as
 * channel.c's, and back to the system after a reload); what does not fit
 * is counted, not stored.  Each slot's window starts at its first event
 * and something is raised at most once per window.
 */
#ifndef ICSENTRY_DETECTORS_WINTAB_H
#define ICSENTRY_DETECTORS_WINTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wintab {
	void *slots; /* cap slots of esize bytes, zeroed */
	size_t esize, cap, n, max;
	uint64_t dropped, window_us;
};

/* 0, or -1 when the mapping fails. */
int wintab_init(struct wintab *t, size_t esize, size_t max, int64_t window_s);
void wintab_free(struct wintab *t);

/* May one more slot be used?  false (and counted dropped) when full. */
bool wintab_take(struct wintab *t);

/*
 * Is it time to raise again: never raised (*last 0), or a window since?
 * Then *last becomes now.
 */
bool wintab_once(uint64_t *last, uint64_t now, uint64_t window_us);

/* "\"<what>\":n,\"capacity\":max,\"dropped\":d,\"bytes\":b" */
int
wintab_stats(const struct wintab *t, const char *what, char *buf, size_t len);

#endif /* ICSENTRY_DETECTORS_WINTAB_H */
