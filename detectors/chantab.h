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
