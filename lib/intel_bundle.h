/*
 * intel_bundle.h - signed threat-intelligence bundles (issue 17): the
 * format, its canonical bytes, Ed25519 signatures (OpenSSL libcrypto),
 * key rings with several valid keys, and the lookup tables the agent
 * matches traffic against.
 *
 * A bundle (docs/intel.md has the full format):
 *
 *   {"format":"icsentry-intel/1","version":7,
 *    "issued":"2026-12-04T18:00:00Z","expires":"2026-12-11T18:00:00Z",
 *    "site":null,
 *    "indicators":[{"id":"soc-7-1","type":"ip","value":"10.0.0.66",
 *                   "severity":"high","technique":"T0846",
 *                   "description":"...","expires":null}, ...],
 *    "policy":[{"site":"plant-b","key":"modbus_writers",
 *               "value":"10.0.0.5"}, ...]}
 *
 * A signed bundle wraps it:
 *
 *   {"bundle":{...},"signatures":[{"alg":"ed25519","key_id":"<16 hex>",
 *                                  "sig":"<base64 of 64 bytes>"}, ...]}
 *
 * Each signature is over the canonical bytes of the "bundle" member:
 * RFC 8785 (JSON Canonicalization Scheme) for the subset a bundle may use
 * - members sorted by name (names are ASCII, so byte order equals JCS's
 * UTF-16 order), no insignificant white space, numbers only integers in
 * [-(2^53-1), 2^53-1] written in decimal, strings escaped as JCS does
 * (\" \\ \b \f \n \r \t, other control characters as \u00xx, everything
 * else as its UTF-8 bytes).  Duplicate member names, invalid UTF-8 and
 * fractions are refused, so every accepted bundle has exactly one
 * canonical form.  key_id is the hex of the first 8 bytes of the SHA-256
 * of the 32-byte raw public key.
 *
 * Everything here is thread-safe in the usual sense: objects are not
 * shared between threads while one is being changed; a built intel_set is
 * read-only and may be read from any thread.
 */
#ifndef ICSENTRY_LIB_INTEL_BUNDLE_H
#define ICSENTRY_LIB_INTEL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTEL_FORMAT		"icsentry-intel/1"
#define INTEL_KEY_ID_LEN	16	/* hex characters */
#define INTEL_MAX_BYTES		(64u << 20)	/* largest bundle accepted */

enum intel_kind {
	INTEL_IP,		/* "10.0.0.66", "fe80::1" */
	INTEL_CIDR,		/* "10.9.0.0/16" */
	INTEL_MAC,		/* "02:00:00:00:00:42" */
	INTEL_DOMAIN,		/* "evil.example" (and its subdomains) */
	INTEL_PORT,		/* "tcp/4444", "udp/47808", "4444" (both) */
	INTEL_FUNCTION,		/* "modbus:8", "s7comm:0x29", "dnp3:13" */
	INTEL_DEVICE,		/* "modbus:17" (unit), "dnp3:10" (dest) */
	INTEL_NKIND
};

/* "ip", "cidr", ...; NULL when out of range. */
const char *intel_kind_name(enum intel_kind k);
/* -1 when unknown */
int intel_kind_parse(const char *name);

/* Why a bundle was refused (intel_verify, intel_check_version). */
enum intel_status {
	INTEL_OK = 0,
	INTEL_MALFORMED,	/* not JSON, not the format, bad field */
	INTEL_UNSIGNED,		/* no signature at all */
	INTEL_BADSIG,		/* no signature by a key we hold verifies */
	INTEL_EXPIRED,		/* "expires" is in the past */
	INTEL_OLDER,		/* version not above the one applied */
	INTEL_WRONG_SITE	/* a site bundle for another site */
};

/* "ok", "malformed", "unsigned", "bad-signature", "expired", ... */
const char *intel_status_name(enum intel_status s);

struct intel_indicator {
	char		*id;
	enum intel_kind	 kind;
	char		*value;		/* as written in the bundle */
	int		 severity;	/* 0 info .. 4 critical */
	char		*technique;	/* ATT&CK for ICS id or NULL */
	char		*description;	/* "" when absent */
	int64_t		 expires_us;	/* 0: with the bundle */
	uint64_t	 version;	/* of the bundle it came in */
	/* the value, parsed */
	uint8_t		 af, bits;	/* IP, CIDR: 4 or 6, prefix */
	uint8_t		 addr[16];
	uint8_t		 mac[6];
	uint8_t		 transport;	/* PORT: 6, 17, or 0 = both */
	uint16_t	 port;
	char		 proto[16];	/* FUNCTION, DEVICE: "modbus" ... */
	uint32_t	 code;		/* function code or device id */
};

struct intel_policy {
	char		*site;		/* NULL: every site */
	char		*key;		/* a [policy] key */
	char		*value;
};

struct intel_bundle {
	uint64_t		 version;
	char			*site;		/* NULL: fleet-wide */
	int64_t			 issued_us, expires_us;	/* expires 0: never */
	char			*comment;	/* "" when absent */
	size_t			 nind;
	struct intel_indicator	*ind;
	size_t			 npol;
	struct intel_policy	*pol;
	char			 key_id[INTEL_KEY_ID_LEN + 1];	/* verified by */
};

void intel_bundle_free(struct intel_bundle *b);

/*
 * Parse and validate an unsigned bundle (the "bundle" object's text).
 * INTEL_OK with *out owned by the caller, or INTEL_MALFORMED with one
 * line in err naming the problem (e.g. "indicators[3].value: ...").
 */
enum intel_status intel_bundle_parse(const char *json, size_t len,
    struct intel_bundle **out, char *err, size_t errlen);

/*
 * The canonical bytes of a JSON text (see above).  0 with *out malloc'd
 * (NUL-terminated, *outlen without it), or IDS_EMALFORMED with err.
 */
int intel_canonical(const char *json, size_t len, char **out, size_t *outlen,
    char *err, size_t errlen);

/* ---- keys ------------------------------------------------------------ */

/*
 * Write a new Ed25519 key: path (private, PEM PKCS#8, mode 0600) and
 * path.pub (public, PEM SubjectPublicKeyInfo).  0 or IDS_EIO with err.
 * key_id receives the public key's id.
 */
int intel_keygen(const char *path, char key_id[INTEL_KEY_ID_LEN + 1],
    char *err, size_t errlen);

struct intel_keyring;

struct intel_keyring *intel_keyring_new(void);
void intel_keyring_free(struct intel_keyring *kr);

/*
 * Add the Ed25519 public key in a PEM file (a private key file is
 * accepted too: its public half is taken).  0 or IDS_EIO/IDS_EINVAL with
 * err naming the file.
 */
int intel_keyring_add_file(struct intel_keyring *kr, const char *path,
    char *err, size_t errlen);
size_t intel_keyring_count(const struct intel_keyring *kr);

/* ---- sign and verify ------------------------------------------------- */

/*
 * Sign: json is an unsigned bundle or an already signed one (then the
 * signature is added to those present: two keys sign during a rotation).
 * The bundle is validated first.  0 with *out malloc'd signed text
 * (one line plus '\n'), or a negative IDS_E* with err.
 */
int intel_sign(const char *json, size_t len, const char *key_path,
    char **out, size_t *outlen, char *err, size_t errlen);

/*
 * Verify a signed bundle against the ring at wall time now_us (expiry).
 * INTEL_OK with *out owned by the caller (its key_id says which key), or
 * the reason with one line in err.  Version and site are the caller's
 * (intel_check_scope).
 */
enum intel_status intel_verify(const char *data, size_t len,
    const struct intel_keyring *kr, int64_t now_us, struct intel_bundle **out,
    char *err, size_t errlen);

/*
 * May b replace the applied bundle of its scope (version applied_version,
 * 0 = none) at a gateway of site?  INTEL_OK, INTEL_OLDER or
 * INTEL_WRONG_SITE with err.
 */
enum intel_status intel_check_scope(const struct intel_bundle *b,
    const char *site, uint64_t applied_version, char *err, size_t errlen);

/* ---- matching --------------------------------------------------------- */

struct intel_set;

/*
 * Lookup tables over the indicators of up to n bundles (NULL entries
 * skipped): hash tables for addresses, MACs, ports, domains, function
 * codes and device ids, and one hash per CIDR prefix length present, so
 * a lookup costs at most one probe per distinct prefix length.
 * Indicators whose own expiry is before now_us are left out.  The set
 * keeps pointers into the bundles: free it before them.  NULL when out
 * of memory.
 */
struct intel_set *intel_set_build(const struct intel_bundle *const *b,
    size_t n, int64_t now_us);
void intel_set_free(struct intel_set *s);
size_t intel_set_count(const struct intel_set *s);

/* The indicator matching addr (IP entries first, then the longest CIDR). */
const struct intel_indicator *intel_match_ip(const struct intel_set *s,
    int af, const uint8_t *addr);
const struct intel_indicator *intel_match_mac(const struct intel_set *s,
    const uint8_t mac[6]);
/* transport 6 or 17 */
const struct intel_indicator *intel_match_port(const struct intel_set *s,
    uint8_t transport, uint16_t port);
/* name or any parent domain of it (case-insensitive) */
const struct intel_indicator *intel_match_domain(const struct intel_set *s,
    const char *name);
const struct intel_indicator *intel_match_function(const struct intel_set *s,
    const char *proto, uint32_t code);
const struct intel_indicator *intel_match_device(const struct intel_set *s,
    const char *proto, uint32_t id);
/* Does the set hold any indicator of kind k? (skip work when not) */
bool intel_set_has(const struct intel_set *s, enum intel_kind k);

/* ---- helpers ---------------------------------------------------------- */

/* Wall clock, microseconds since the epoch (expiry checks). */
int64_t intel_now_us(void);

#endif
