/*
 * intel_bundle_int.h - what the pieces of the threat-intel bundle code
 * share (private to lib/intel_bundle.c, lib/intel_sign.c,
 * lib/intel_set.c): the growing string buffer and the canonical-JSON and
 * parsing helpers signing needs.
 *
 * Layered one way: intel_bundle.c (names, canonical JSON, validation) is
 * the base; intel_sign.c (keys, sign, verify) and intel_set.c (lookup
 * tables) sit on it.  This header does not include lib/intel_bundle.h,
 * so the pieces form no cycle.
 */

#ifndef ICSENTRY_LIB_INTEL_BUNDLE_INT_H
#define ICSENTRY_LIB_INTEL_BUNDLE_INT_H

#include <cJSON.h>

#include <stdbool.h>
#include <stddef.h>

struct intel_bundle;

#define ED25519_RAW	32
#define ED25519_SIG	64
/* 2^53 - 1: the integers a double (and so cJSON and JCS) holds exactly */
#define JSON_INT_MAX	9007199254740991.0

struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 oom;
};


/* lib/intel_bundle.c */
void	intel_sb_put(struct sbuf *b, const void *data, size_t n);
void	intel_sb_str(struct sbuf *b, const char *s);
int	intel_canon_tree(const cJSON *v, char **out, size_t *outlen, char *err,
    size_t errlen);
cJSON *intel_parse_json(const char *json, size_t len, char *err, size_t errlen);
enum intel_status	intel_bundle_from_tree(const cJSON *o, struct intel_bundle **out, char *err,
    size_t errlen);

#endif /* ICSENTRY_LIB_INTEL_BUNDLE_INT_H */
