/*
 * chantab.h - a bounded table of control channels (client IP, server IP,
 * protocol) for the learned channel models (cycle.c, envelope.c): a
 * lib/htab of entries that begin with struct chan_key; what does not fit
 * under the cap is counted.  Entries move when the table grows: hold no
 * pointer across a chantab_get that may create.
 */
#ifndef ICSENTRY_DETECTORS_CHANTAB_H
#define ICSENTRY_DETECTORS_CHANTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/htab.h"

struct cJSON;
struct det_pdu;

struct chan_key {
	uint8_t		af, proto;
	uint8_t		cli[16], srv[16];
};

struct chantab {
	struct htab	 h;
	size_t		 n, max;
	uint64_t	 dropped;
};

int chantab_init(struct chantab *t, size_t max, size_t esz);
void chantab_free(struct chantab *t);
/* The entry for k; created (zeroed but for its key) when create is set. */
void *chantab_get(struct chantab *t, const struct chan_key *k, bool create);
/* Entries in no particular order: i < t->n. */
static inline void *
chantab_at(const struct chantab *t, size_t i)
{
	return htab_at(&t->h, (uint32_t)i);
}
/* The channel of a PDU: the client is who sends requests (by port). */
void chantab_key(struct chan_key *k, const struct det_pdu *pdu);
/* Sort order for files: af, proto, client, server. */
int chantab_cmp(const void *a, const void *b);
/*
 * The entries as a JSON array in chantab_cmp order, each made by json();
 * keep (NULL: all) leaves out the ones it returns false for.  NULL when
 * out of memory.
 */
struct cJSON *chantab_json(const struct chantab *t, bool (*keep)(const void *),
    struct cJSON *(*json)(void *));
/*
 * Read a channel array from a baseline file (what chantab_json wrote)
 * into t: each element's key, its entry (created; when the table is full
 * the rest is counted as dropped and skipped), then fill(entry, element)
 * for the model's members, 0 or -1 when they are corrupt.  arr NULL (the
 * member is absent): nothing.  0, or -1 with err set to "PATH: corrupt
 * baseline: "MEMBER"[i] is not a WHAT".
 */
typedef int (*chantab_fill_fn)(void *entry, const struct cJSON *o);
int chantab_load(struct chantab *t, const struct cJSON *arr,
    chantab_fill_fn fill, const char *path, const char *member,
    const char *what, char *err, size_t errlen);
/*
 * A per-channel array of points sorted by key (cycle/envelope models):
 * *n elements of esz bytes, each beginning with its key, a uint32_t when
 * ksz is 4, a uint64_t when 8.  The element with key, or NULL; with
 * create, a missing one is inserted zeroed but for its key, unless *n is
 * max, which sets *full and gives NULL.
 */
void *chantab_point(void *arr, uint16_t *n, uint16_t max, size_t esz,
    size_t ksz, uint64_t key, bool create, uint8_t *full);
/* Key <-> JSON members "client", "server", "proto". */
void chantab_key_json(const struct chan_key *k, struct cJSON *o);
int chantab_key_parse(const struct cJSON *o, struct chan_key *k);
/* Bytes an entry uses (for --stats). */
size_t chantab_bytes(const struct chantab *t);

/*
 * A model with a learning table and a detecting one (cycle.c, envelope.c):
 * both sized (max entries when in use, 1 when not), the learning one
 * loaded from lp's member and registered for dumping, the detecting one
 * loaded from fp.  0, or -1 with err set ("NAME: out of memory" when
 * nothing more precise was said); the caller frees both on failure.
 */
typedef int (*chantab_load_fn)(struct chantab *t, const struct cJSON *arr,
    const char *path, char *err, size_t errlen);
int chantab_open_pair(struct chantab *learn, struct chantab *det,
    const char *lp, const char *fp, size_t max, size_t esz,
    const char *member, chantab_load_fn load,
    struct cJSON *(*dump)(void *state), void *state, const char *name,
    char *err, size_t errlen);
/* The --stats text of such a pair. */
int chantab_pair_stats(const struct chantab *learn, const struct chantab *det,
    bool learning, bool detecting, char *buf, size_t len);

#endif
