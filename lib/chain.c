/* chain.c - SHA-256 hash chain over alerts (OpenSSL libcrypto EVP). */
#include "lib/chain.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"

static const char hexdig[] = "0123456789abcdef";
static const char hash_key[] = ",\"hash\":\"";

/*
 * SHA-256 fetched from the provider once: EVP_sha256() in
 * EVP_DigestInit_ex looks the algorithm up by name on every call, which
 * cost more than hashing a 700-byte alert (perf, verify).
 */
static int chain_hash2(const char *prev_hex, const char *a, size_t alen,
    const char *b, size_t blen, char out[CHAIN_HEX_LEN + 1]);

static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_md;

static void
sha_fetch(void)
{
	sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha_once, sha_fetch);
	return sha_md != NULL ? sha_md : EVP_sha256();
}

/* A 32-byte digest as 64 lower-case hex chars and a NUL. */
static void
hex32(const unsigned char md[32], char out[CHAIN_HEX_LEN + 1])
{
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hexdig[md[i] >> 4];
		out[2 * i + 1] = hexdig[md[i] & 0xf];
	}
	out[CHAIN_HEX_LEN] = '\0';
}

int
chain_sha256_hex(const void *p, size_t n, char out[CHAIN_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(p, n, md, &mdlen, sha256(), NULL) != 1 || mdlen != 32)
		return IDS_EIO;
	hex32(md, out);
	return 0;
}

int
chain_hash(const char *prev_hex, const char *obj, size_t len,
    char out[CHAIN_HEX_LEN + 1])
{
	return chain_hash2(prev_hex, obj, len, NULL, 0, out);
}

/* SHA-256 of prev_hex, a and b (b may be empty), as hex. */
static int
chain_hash2(const char *prev_hex, const char *a, size_t alen, const char *b,
    size_t blen, char out[CHAIN_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return IDS_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, prev_hex, CHAIN_HEX_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return IDS_EIO;
	hex32(md, out);
	return 0;
}

int
chain_split(const char *json, size_t len, size_t *body_len,
    char hash[CHAIN_HEX_LEN + 1])
{
	size_t klen = sizeof(hash_key) - 1, tail = klen + CHAIN_HEX_LEN + 2;
	const char *h;
	size_t i;

	if (len < tail + 2)
		return IDS_EMALFORMED;
	if (memcmp(json + len - tail, hash_key, klen) != 0 ||
	    json[len - 2] != '"' || json[len - 1] != '}')
		return IDS_EMALFORMED;
	h = json + len - tail + klen;
	for (i = 0; i < CHAIN_HEX_LEN; i++) {
		if (strchr(hexdig, h[i]) == NULL || h[i] == '\0')
			return IDS_EMALFORMED;
		hash[i] = h[i];
	}
	hash[CHAIN_HEX_LEN] = '\0';
	*body_len = len - tail;
	return 0;
}

int
chain_check(const char *prev_hex, const char *json, size_t len)
{
	char want[CHAIN_HEX_LEN + 1], got[CHAIN_HEX_LEN + 1];
	size_t body;
	int rc;

	rc = chain_split(json, len, &body, want);
	if (rc != 0)
		return rc;
	/* the object without its hash member: body, then '}' (no copy) */
	rc = chain_hash2(prev_hex, json, body, "}", 1, got);
	if (rc != 0)
		return rc;
	return strcmp(want, got) == 0 ? 0 : 1;
}
