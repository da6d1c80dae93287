/*
 * chain.h - the per-agent SHA-256 hash chain over alerts (DESIGN.md).
 *
 *   hash = hex(SHA-256(prev_hash_hex || alert JSON without its hash member))
 *
 * The alert JSON ends with ,"hash":"<64 hex>"} and hash is always the last
 * member, so the object "without its hash member" is the text up to the
 * comma followed by "}".  The agent (which builds the chain) and
 * icsentry-log verify (which checks it) both use these two functions.
 */
#ifndef ICSENTRY_LIB_CHAIN_H
#define ICSENTRY_LIB_CHAIN_H

#include <stddef.h>

#define CHAIN_HEX_LEN	64
/* prev_hash of the first alert an agent ever sends */
#define CHAIN_GENESIS	"0000000000000000000000000000000000000000000000000000000000000000"

/*
 * Hash prev_hex (64 hex chars) followed by obj[0..len), the complete alert
 * object without its hash member.  Writes 64 lower-case hex chars and a NUL
 * to out.  Returns 0 or IDS_EIO if libcrypto fails.
 */
int chain_hash(const char *prev_hex, const char *obj, size_t len,
    char out[CHAIN_HEX_LEN + 1]);

/*
 * SHA-256 of p[0..n) as 64 lower-case hex chars and a NUL (the evidence's
 * digest); the algorithm is fetched once, as for chain_hash.  Returns 0
 * or IDS_EIO (then out is empty).
 */
int chain_sha256_hex(const void *p, size_t n, char out[CHAIN_HEX_LEN + 1]);

/*
 * Split a complete alert JSON text: *body_len receives the length of the
 * text before ,"hash":" (so body + "}" is the object without hash) and
 * hash receives the 64 hex chars.  Returns 0, or IDS_EMALFORMED when the
 * text does not end in ,"hash":"<64 lower-case hex>"}.
 */
int chain_split(const char *json, size_t len, size_t *body_len,
    char hash[CHAIN_HEX_LEN + 1]);

/*
 * Check one alert text against its predecessor's hash: recompute and
 * compare.  Returns 0 when json's hash is right for prev_hex, 1 when it is
 * not, a negative IDS_E* when json is not a chained alert.
 */
int chain_check(const char *prev_hex, const char *json, size_t len);

#endif
