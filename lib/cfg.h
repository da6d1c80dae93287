/*
 * cfg.h - table-driven INI configuration (libinih underneath).
 *
 * Every program declares the sections and keys it accepts as cfg_schema
 * tables; cfg_load() reads a file, rejects an unknown section or key or a
 * bad value with "file:line: problem", and fills in every default.  Values
 * are validated once at load time, so the typed getters below never fail:
 * asking for a key that no schema declares is a programming error
 * (assert) and returns the type's zero value in release builds.
 */
#ifndef ICSENTRY_LIB_CFG_H
#define ICSENTRY_LIB_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cfg_type {
	CFG_STR,	/* any text */
	CFG_INT,	/* integer, strtoll, within [min, max] */
	CFG_DOUBLE,	/* number, strtod, within [min, max] */
	CFG_BOOL,	/* true/false, yes/no, on/off, 1/0 */
	CFG_NETS,	/* comma/space list of IPv4/IPv6 addresses or CIDRs */
	CFG_LIST	/* comma/space list of words */
};

struct cfg_key {
	const char	*name;
	enum cfg_type	 type;
	const char	*def;		/* default as text; NULL = empty */
	double		 min, max;	/* CFG_INT, CFG_DOUBLE (both 0: no bound) */
	const char	*help;		/* one line, for docs and --help */
};

struct cfg_schema {
	const char		*section;	/* e.g. "agent", "detector.scan" */
	const struct cfg_key	*keys;		/* ends with a {NULL} row */
};

/* One network: af is 4 or 6, addr in network order, bits the prefix. */
struct cfg_net {
	uint8_t	af;
	uint8_t	bits;
	uint8_t	addr[16];
};

struct cfg_nets {
	size_t		 n;
	struct cfg_net	*v;
};

struct cfg_list {
	size_t		  n;
	char		**v;
};

struct cfg;

/*
 * Load path (NULL: defaults only) against the n schemas.  On success *out
 * owns the result (free with cfg_free).  On failure returns IDS_EINVAL or
 * IDS_EIO and writes one line "path:line: problem" (no newline) to err.
 */
int cfg_load(const char *path, const struct cfg_schema *const *schemas,
    size_t n, struct cfg **out, char *err, size_t errlen);

/*
 * Override one value after loading (command-line options).  origin names
 * where it came from for the error text, e.g. "--mqtt".  Returns 0 or
 * IDS_EINVAL with err filled.
 */
int cfg_set(struct cfg *c, const char *section, const char *key,
    const char *value, const char *origin, char *err, size_t errlen);

void cfg_free(struct cfg *c);

/* Typed getters; section and key must be declared by a schema. */
const char		*cfg_str(const struct cfg *c, const char *section, const char *key);
long long		 cfg_int(const struct cfg *c, const char *section, const char *key);
double			 cfg_double(const struct cfg *c, const char *section, const char *key);
bool			 cfg_bool(const struct cfg *c, const char *section, const char *key);
const struct cfg_nets	*cfg_nets(const struct cfg *c, const char *section, const char *key);
const struct cfg_list	*cfg_list(const struct cfg *c, const char *section, const char *key);

/* True when the key was given in the file or by cfg_set (not a default). */
bool cfg_is_set(const struct cfg *c, const char *section, const char *key);

/* The value as text (what the file or default said); NULL: undeclared. */
const char *cfg_text(const struct cfg *c, const char *section, const char *key);

/*
 * Where the value came from, for messages: "path:line" for a key read from
 * the file, cfg_set's origin ("--mqtt") for an override, else the path.
 */
const char *cfg_where(const struct cfg *c, const char *section,
    const char *key, char *buf, size_t len);

/* The path given to cfg_load, or "(defaults)". */
const char *cfg_path(const struct cfg *c);

/* Parse one address or CIDR ("10.0.0.0/8", "fe80::1").  0 or IDS_EINVAL. */
int cfg_net_parse(const char *text, struct cfg_net *out);

/* Does any entry of nets contain addr (af 4: 4 bytes, af 6: 16 bytes)? */
bool cfg_nets_contains(const struct cfg_nets *nets, int af, const uint8_t *addr);

#endif
