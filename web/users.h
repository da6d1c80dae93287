/*
 * users.h - icsentry-web's accounts: one line per user in a file kept
 * mode 0600,
 *
 *     NAME ROLE pbkdf2-sha256 ITERATIONS SALT_HEX HASH_HEX
 *
 * The password hash is PBKDF2-HMAC-SHA-256 (libcrypto) with a random
 * 16-byte salt and WEB_PBKDF2_ITER iterations, compared in constant time.
 * Roles are ordered: a viewer reads, an analyst also triages, an admin
 * also manages accounts.
 */
#ifndef ICSENTRY_WEB_USERS_H
#define ICSENTRY_WEB_USERS_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_PBKDF2_ITER	200000
#define WEB_NAME_MAX	64

enum web_role { WEB_VIEWER = 1, WEB_ANALYST = 2, WEB_ADMIN = 3 };

/* "viewer" -> WEB_VIEWER ..; 0 when unknown. */
int		 web_role_parse(const char *s);
const char	*web_role_name(int role);
/* Letters, digits, '.', '_', '-'; 1..WEB_NAME_MAX-1 chars. */
bool		 web_name_ok(const char *name);

/*
 * Add name with role and password to the users file at path, or replace
 * the line of an existing name (written to path.tmp, fsynced, renamed).
 * Returns 0 or a negative IDS_E* with one line in err.
 */
int	web_user_set(const char *path, const char *name, int role,
	    const char *password, char *err, size_t errlen);

/*
 * Check name's password against the file (read again on every call, so an
 * account added while the server runs can log in).  *role receives the
 * role.  Returns 0 when it matches, 1 when not (or no such user), a
 * negative IDS_E* when the file cannot be read.  Costs one PBKDF2 even for
 * an unknown name, so timing does not tell which names exist.
 */
int	web_user_check(const char *path, const char *name,
	    const char *password, int *role);

/* Call fn for every account (name, role); for the admin's list. */
int	web_user_list(const char *path,
	    int (*fn)(void *ctx, const char *name, int role), void *ctx);

#endif
