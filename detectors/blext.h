/*
 * blext.h - models of other detectors carried in the baseline file.
 *
 * The baseline file (docs/baseline.md) is the one thing --learn writes
 * and --baseline reads.  A detector that learns a model of its own (the
 * polling cycles of detectors/cycle.c, the value envelopes of
 * detectors/envelope.c) keeps it as one top-level member of that file:
 * it reads the member back with blext_read() when it starts, and
 * registers a dump function that the baseline detector calls when it
 * writes the file (blext_dump()).  The baseline loader ignores members it
 * does not know, so the file stays readable by the baseline alone.
 */
#ifndef ICSENTRY_DETECTORS_BLEXT_H
#define ICSENTRY_DETECTORS_BLEXT_H

#include <stddef.h>

struct cJSON;
struct cfg;

/* Returns the member's JSON (the caller owns it), or NULL. */
typedef struct cJSON *(*blext_dump_fn)(void *state);

/* Register / drop a dump function for a member (a few at most). */
int blext_register(const char *member, blext_dump_fn fn, void *state);
void blext_unregister(void *state);

/* The baseline detector: add every registered member to root. */
void blext_dump(struct cJSON *root);

/*
 * Read member from the baseline file at path.  Returns 0 with *out the
 * member (the caller frees it) or NULL when the file or the member is
 * absent (missing_ok: a --learn file that does not exist yet); negative
 * with one line in err when the file cannot be read or parsed.
 */
int blext_read(const char *path, const char *member, int missing_ok,
    struct cJSON **out, char *err, size_t errlen);

/* The --learn and --baseline files ([detector.baseline] learn, file). */
const char *blext_learn_path(const struct cfg *c);
const char *blext_file_path(const struct cfg *c);

#endif
