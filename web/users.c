/* users.c - accounts and PBKDF2 password hashes (users.h). */
#include "web/users.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ids.h"

#define SALT_LEN	16
#define HASH_LEN	32
#define LINE_MAX_	512

static const char *const roles[] = { NULL, "viewer", "analyst", "admin" };

int
web_role_parse(const char *s)
{
	int i;

	for (i = 1; i <= WEB_ADMIN; i++)
		if (s != NULL && strcmp(s, roles[i]) == 0)
			return i;
	return 0;
}

const char *
web_role_name(int role)
{
	return role >= WEB_VIEWER && role <= WEB_ADMIN ? roles[role] : "none";
}

bool
web_name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n >= WEB_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int
derive(const char *password, const unsigned char *salt, int iter,
    unsigned char out[HASH_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	    SALT_LEN, iter, EVP_sha256(), HASH_LEN, out) == 1 ? 0 : IDS_EIO;
}

/* One parsed line; fields point into line. */
struct uline {
	char	*name, *role, *alg, *iter, *salt, *hash;
};

static bool
split(char *line, struct uline *u)
{
	char *save = NULL;

	line[strcspn(line, "\r\n")] = '\0';
	u->name = strtok_r(line, " \t", &save);
	u->role = strtok_r(NULL, " \t", &save);
	u->alg = strtok_r(NULL, " \t", &save);
	u->iter = strtok_r(NULL, " \t", &save);
	u->salt = strtok_r(NULL, " \t", &save);
	u->hash = strtok_r(NULL, " \t", &save);
	return u->hash != NULL && u->name[0] != '#';
}

int
web_user_set(const char *path, const char *name, int role,
    const char *password, char *err, size_t errlen)
{
	unsigned char salt[SALT_LEN], h[HASH_LEN];
	char tmp[4096], line[LINE_MAX_], copy[LINE_MAX_];
	char salthex[2 * SALT_LEN + 1], hashhex[2 * HASH_LEN + 1];
	FILE *in, *out;
	struct uline u;
	int fd;

	if (!web_name_ok(name) || web_role_name(role)[0] == 'n') {
		snprintf(err, errlen, "bad user name or role");
		return IDS_EINVAL;
	}
	if (strlen(password) < 8) {
		snprintf(err, errlen, "password shorter than 8 characters");
		return IDS_EINVAL;
	}
	if (RAND_bytes(salt, SALT_LEN) != 1 ||
	    derive(password, salt, WEB_PBKDF2_ITER, h) != 0) {
		snprintf(err, errlen, "libcrypto failed");
		return IDS_EIO;
	}
	hex(salt, SALT_LEN, salthex);
	hex(h, HASH_LEN, hashhex);
	OPENSSL_cleanse(h, sizeof(h));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return IDS_EINVAL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return IDS_EIO;
	}
	if ((in = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), in) != NULL) {
			memcpy(copy, line, sizeof(line));
			if (split(copy, &u) && strcmp(u.name, name) == 0)
				continue;	/* replaced below */
			fputs(line, out);
		}
		fclose(in);
	}
	fprintf(out, "%s %s pbkdf2-sha256 %d %s %s\n", name,
	    web_role_name(role), WEB_PBKDF2_ITER, salthex, hashhex);
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(out);
		unlink(tmp);
		return IDS_EIO;
	}
	fclose(out);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return IDS_EIO;
	}
	return 0;
}

int
web_user_check(const char *path, const char *name, const char *password,
    int *role)
{
	static const unsigned char dummy_salt[SALT_LEN];
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	char line[LINE_MAX_];
	bool found = false;
	struct uline u;
	int iter = WEB_PBKDF2_ITER, r = 0, ok;
	FILE *fp;

	*role = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return IDS_EIO;
	memset(want, 0, sizeof(want));
	memcpy(salt, dummy_salt, SALT_LEN);
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (!split(line, &u) || strcmp(u.name, name) != 0)
			continue;
		iter = atoi(u.iter);
		r = web_role_parse(u.role);
		if (strcmp(u.alg, "pbkdf2-sha256") != 0 || iter < 1 ||
		    iter > 10000000 || r == 0 ||
		    unhex(u.salt, salt, SALT_LEN) != 0 ||
		    unhex(u.hash, want, HASH_LEN) != 0) {
			iter = WEB_PBKDF2_ITER;
			r = 0;
			continue;
		}
		found = true;
	}
	fclose(fp);
	if (derive(password, salt, iter, got) != 0)
		return IDS_EIO;
	ok = found && CRYPTO_memcmp(got, want, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	if (!ok)
		return 1;
	*role = r;
	return 0;
}

int
web_user_list(const char *path,
    int (*fn)(void *ctx, const char *name, int role), void *ctx)
{
	char line[LINE_MAX_];
	struct uline u;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return IDS_EIO;
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL)
		if (split(line, &u))
			rc = fn(ctx, u.name, web_role_parse(u.role));
	fclose(fp);
	return rc;
}
