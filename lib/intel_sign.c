/*
 * intel_sign.c - threat-intel bundle keys (Ed25519 with OpenSSL 3), signing
 * and verifying signed bundles, and the scope check (intel_bundle.h).
 */

#include "lib/intel_bundle.h"
#include "lib/intel_bundle_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "lib/ids.h"
#include "lib/rfc3339.h"

/* ---- keys -------------------------------------------------------------- */

struct intel_key {
	EVP_PKEY	*pkey;
	char		 id[INTEL_KEY_ID_LEN + 1];
};

struct intel_keyring {
	size_t		 n, cap;
	struct intel_key *k;
};

static int
key_id_of(EVP_PKEY *pkey, char id[INTEL_KEY_ID_LEN + 1])
{
	unsigned char raw[ED25519_RAW], md[SHA256_DIGEST_LENGTH];
	size_t rlen = sizeof(raw);
	int i;

	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rlen) != 1 ||
	    rlen != ED25519_RAW)
		return -1;
	SHA256(raw, rlen, md);
	for (i = 0; i < INTEL_KEY_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
intel_keygen(const char *path, char key_id[INTEL_KEY_ID_LEN + 1], char *err,
    size_t errlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	char pub[4096];
	FILE *fp = NULL;
	int fd = -1, rc = IDS_EIO;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub)) {
		snprintf(err, errlen, "%s: path too long", path);
		return IDS_EINVAL;
	}
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1 || key_id_of(pkey, key_id) != 0) {
		snprintf(err, errlen, "Ed25519 key generation failed");
		goto out;
	}
	/* never readable by others, not even for a moment */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "%s: cannot write the key", path);
		goto out;
	}
	fp = fopen(pub, "w");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", pub, strerror(errno));
		goto out;
	}
	if (PEM_write_PUBKEY(fp, pkey) != 1 || fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "%s: cannot write the public key", pub);
		goto out;
	}
	fp = NULL;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

struct intel_keyring *
intel_keyring_new(void)
{
	return calloc(1, sizeof(struct intel_keyring));
}

void
intel_keyring_free(struct intel_keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->n; i++)
		EVP_PKEY_free(kr->k[i].pkey);
	free(kr->k);
	free(kr);
}

size_t
intel_keyring_count(const struct intel_keyring *kr)
{
	return kr != NULL ? kr->n : 0;
}

/* A PEM file with an Ed25519 public key, or a private key (then priv). */
static EVP_PKEY *
read_key(const char *path, bool want_private, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"");
	if (pkey == NULL && !want_private) {
		rewind(fp);
		pkey = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	}
	fclose(fp);
	if (pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM %s key", path,
		    want_private ? "private" : "public or private");
		return NULL;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

int
intel_keyring_add_file(struct intel_keyring *kr, const char *path, char *err,
    size_t errlen)
{
	struct intel_key k;

	k.pkey = read_key(path, false, err, errlen);
	if (k.pkey == NULL)
		return IDS_EIO;
	if (key_id_of(k.pkey, k.id) != 0) {
		snprintf(err, errlen, "%s: cannot read the public key", path);
		EVP_PKEY_free(k.pkey);
		return IDS_EINVAL;
	}
	if (kr->n == kr->cap) {
		size_t nc = kr->cap == 0 ? 4 : kr->cap * 2;
		struct intel_key *nk = realloc(kr->k, nc * sizeof(*nk));

		if (nk == NULL) {
			snprintf(err, errlen, "out of memory");
			EVP_PKEY_free(k.pkey);
			return IDS_ENOMEM;
		}
		kr->k = nk;
		kr->cap = nc;
	}
	kr->k[kr->n++] = k;
	return 0;
}

/* ---- sign / verify ---------------------------------------------------- */

static char *
b64_encode(const unsigned char *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Exactly want bytes from standard base64 with padding; -1 otherwise. */
static int
b64_decode(const char *in, unsigned char *out, size_t want)
{
	unsigned char buf[128];
	size_t n = strlen(in), pad = 0;
	int got;

	if (n == 0 || n % 4 != 0 || n > sizeof(buf) / 3 * 4)
		return -1;
	if (in[n - 1] == '=')
		pad++;
	if (in[n - 2] == '=')
		pad++;
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (got < 0 || (size_t)got - pad != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

/* Split a signed document into its bundle and signatures (may be NULL). */
static void
split_signed(const cJSON *doc, const cJSON **bundle, const cJSON **sigs)
{
	*bundle = NULL;
	*sigs = NULL;
	if (!cJSON_IsObject(doc))
		return;
	if (cJSON_GetObjectItemCaseSensitive(doc, "format") != NULL) {
		*bundle = doc;	/* a bare bundle: unsigned */
		return;
	}
	*bundle = cJSON_GetObjectItemCaseSensitive(doc, "bundle");
	*sigs = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
}

int
intel_sign(const char *json, size_t len, const char *key_path, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	const cJSON *bundle, *sigs, *s;
	struct intel_bundle *parsed = NULL;
	struct sbuf b = { NULL, 0, 0, false };
	unsigned char sig[ED25519_SIG];
	size_t clen, siglen = sizeof(sig), slen;
	char *canonical = NULL, *b64 = NULL, *sc = NULL, id[INTEL_KEY_ID_LEN + 1];
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	cJSON *doc;
	int rc = IDS_EMALFORMED;

	doc = intel_parse_json(json, len, err, errlen);
	if (doc == NULL)
		return IDS_EMALFORMED;
	split_signed(doc, &bundle, &sigs);
	if (bundle == NULL || (sigs != NULL && !cJSON_IsArray(sigs))) {
		snprintf(err, errlen, "neither a bundle (\"format\") nor a signed "
		    "bundle (\"bundle\", \"signatures\")");
		goto out;
	}
	if (intel_canon_tree(bundle, &canonical, &clen, err, errlen) != 0 ||
	    intel_bundle_from_tree(bundle, &parsed, err, errlen) != INTEL_OK)
		goto out;
	pkey = read_key(key_path, true, err, errlen);
	if (pkey == NULL) {
		rc = IDS_EIO;
		goto out;
	}
	if (key_id_of(pkey, id) != 0)
		goto out;
	md = EVP_MD_CTX_new();
	/* Ed25519 is "pure": no digest, one shot over the message */
	if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)canonical,
	    clen) != 1 || siglen != ED25519_SIG) {
		snprintf(err, errlen, "Ed25519 signing failed");
		rc = IDS_EIO;
		goto out;
	}
	b64 = b64_encode(sig, siglen);
	if (b64 == NULL)
		goto nomem;
	intel_sb_str(&b, "{\"bundle\":");
	intel_sb_put(&b, canonical, clen);
	intel_sb_str(&b, ",\"signatures\":[");
	if (sigs != NULL)
		for (s = sigs->child; s != NULL; s = s->next) {
			const cJSON *kid = cJSON_GetObjectItemCaseSensitive(s, "key_id");

			if (cJSON_IsString(kid) && strcmp(kid->valuestring, id) == 0) {
				snprintf(err, errlen, "already signed by key %s", id);
				rc = IDS_EINVAL;
				goto out;
			}
			if (intel_canon_tree(s, &sc, &slen, err, errlen) != 0)
				goto out;
			intel_sb_put(&b, sc, slen);
			intel_sb_put(&b, ",", 1);
			free(sc);
			sc = NULL;
		}
	intel_sb_str(&b, "{\"alg\":\"ed25519\",\"key_id\":\"");
	intel_sb_str(&b, id);
	intel_sb_str(&b, "\",\"sig\":\"");
	intel_sb_str(&b, b64);
	intel_sb_str(&b, "\"}]}\n");
	if (b.oom)
		goto nomem;
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = IDS_ENOMEM;
out:
	free(b.p);
	free(sc);
	free(b64);
	free(canonical);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	intel_bundle_free(parsed);
	cJSON_Delete(doc);
	return rc;
}

static bool
sig_verifies(EVP_PKEY *pkey, const unsigned char *sig, const char *msg,
    size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, ED25519_SIG, (const unsigned char *)msg,
	    len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

enum intel_status
intel_verify(const char *data, size_t len, const struct intel_keyring *kr,
    int64_t now_us, struct intel_bundle **out, char *err, size_t errlen)
{
	const cJSON *bundle, *sigs, *s;
	enum intel_status st = INTEL_MALFORMED;
	char *canonical = NULL, ts[32];
	const char *by = NULL;
	size_t clen, i, nsig = 0;
	unsigned char sig[ED25519_SIG];
	cJSON *doc;

	*out = NULL;
	doc = intel_parse_json(data, len, err, errlen);
	if (doc == NULL)
		return INTEL_MALFORMED;
	/* the envelope must have one reading too (no twin "bundle") */
	if (cJSON_IsObject(doc)) {
		const cJSON *x, *y;

		for (x = doc->child; x != NULL; x = x->next)
			for (y = x->next; y != NULL; y = y->next)
				if (strcmp(x->string, y->string) == 0) {
					snprintf(err, errlen, "member \"%s\" appears twice",
					    x->string);
					goto out;
				}
	}
	split_signed(doc, &bundle, &sigs);
	if (bundle == NULL) {
		snprintf(err, errlen, "not a signed bundle (no \"bundle\" member)");
		goto out;
	}
	if (sigs == NULL || !cJSON_IsArray(sigs) || sigs->child == NULL) {
		snprintf(err, errlen, "the bundle carries no signature");
		st = INTEL_UNSIGNED;
		goto out;
	}
	if (intel_canon_tree(bundle, &canonical, &clen, err, errlen) != 0)
		goto out;
	for (s = sigs->child; s != NULL && by == NULL; s = s->next) {
		const cJSON *alg = cJSON_GetObjectItemCaseSensitive(s, "alg");
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(s, "key_id");
		const cJSON *sv = cJSON_GetObjectItemCaseSensitive(s, "sig");

		nsig++;
		if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ed25519") != 0 ||
		    !cJSON_IsString(kid) || !cJSON_IsString(sv) ||
		    b64_decode(sv->valuestring, sig, sizeof(sig)) != 0)
			continue;
		for (i = 0; kr != NULL && i < kr->n; i++)
			if (strcmp(kr->k[i].id, kid->valuestring) == 0 &&
			    sig_verifies(kr->k[i].pkey, sig, canonical, clen)) {
				by = kr->k[i].id;
				break;
			}
	}
	if (by == NULL) {
		snprintf(err, errlen, "none of its %zu signature(s) verifies with "
		    "the %zu key(s) held", nsig, intel_keyring_count(kr));
		st = INTEL_BADSIG;
		goto out;
	}
	st = intel_bundle_from_tree(bundle, out, err, errlen);
	if (st != INTEL_OK)
		goto out;
	snprintf((*out)->key_id, sizeof((*out)->key_id), "%s", by);
	if ((*out)->expires_us != 0 && (*out)->expires_us <= now_us) {
		snprintf(err, errlen, "version %" PRIu64 " expired at %s",
		    (*out)->version, rfc3339_format((uint64_t)((*out)->expires_us), ts,
		    sizeof(ts)));
		intel_bundle_free(*out);
		*out = NULL;
		st = INTEL_EXPIRED;
	}
out:
	free(canonical);
	cJSON_Delete(doc);
	return st;
}

enum intel_status
intel_check_scope(const struct intel_bundle *b, const char *site,
    uint64_t applied_version, char *err, size_t errlen)
{
	if (b->site != NULL && (site == NULL || strcmp(b->site, site) != 0)) {
		snprintf(err, errlen, "version %" PRIu64 " is for site %s, this is "
		    "site %s", b->version, b->site, site != NULL ? site : "(none)");
		return INTEL_WRONG_SITE;
	}
	if (b->version <= applied_version) {
		snprintf(err, errlen, "version %" PRIu64 " is not newer than the "
		    "applied version %" PRIu64, b->version, applied_version);
		return INTEL_OLDER;
	}
	return INTEL_OK;
}
