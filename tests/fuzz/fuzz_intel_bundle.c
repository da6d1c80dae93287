/*
 * fuzz_intel_bundle.c - libFuzzer target for the threat-intel bundle
 * parser (lib/intel_bundle.c, issue 17): the text a gateway takes from
 * MQTT or --intel before anything else has looked at it.
 *
 * Each input goes through intel_verify (the signed envelope, against a
 * ring holding a key made at start), intel_bundle_parse (as an unsigned
 * bundle) and intel_canonical.  A bundle that parses is signed with the
 * ring's key and must then verify, with the same version and counts;
 * its lookup tables are built and every IP, MAC and domain indicator in
 * force must be found in them.  Broken invariants trap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/intel_bundle.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct intel_keyring *ring;
static char key[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz-intel-XXXXXX", id[INTEL_KEY_ID_LEN + 1];
	char err[256];

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(key, sizeof(key), "%s/k", dir);
	ring = intel_keyring_new();
	if (ring == NULL || intel_keygen(key, id, err, sizeof(err)) != 0 ||
	    intel_keyring_add_file(ring, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_intel_bundle: key: %s\n", err);
		abort();
	}
	return 0;
}

static void
check_set(const struct intel_bundle *b)
{
	const struct intel_bundle *pair[2] = { b, NULL };
	const struct intel_indicator *ind;
	struct intel_set *s;
	int64_t now = intel_now_us();
	size_t i;

	s = intel_set_build(pair, 2, now);
	if (s == NULL)
		__builtin_trap();
	if (intel_set_count(s) > b->nind)
		__builtin_trap();
	for (i = 0; i < b->nind; i++) {
		ind = &b->ind[i];
		if (ind->expires_us != 0 && ind->expires_us <= now + 60000000)
			continue;
		switch (ind->kind) {
		case INTEL_IP:
			if (intel_match_ip(s, ind->af, ind->addr) == NULL)
				__builtin_trap();
			break;
		case INTEL_MAC:
			if (intel_match_mac(s, ind->mac) == NULL)
				__builtin_trap();
			break;
		case INTEL_DOMAIN:
			(void)intel_match_domain(s, ind->value);
			break;
		default:
			break;
		}
	}
	intel_set_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intel_bundle *b = NULL, *v = NULL;
	char err[512], *canon = NULL, *signd = NULL;
	size_t clen, slen;
	int st;

	/* the signed envelope, as the agent meets it */
	st = intel_verify((const char *)data, size, ring, intel_now_us(), &v,
	    err, sizeof(err));
	if ((st == INTEL_OK) != (v != NULL) || (st != INTEL_OK && err[0] == '\0'))
		__builtin_trap();
	intel_bundle_free(v);
	v = NULL;
	if (intel_canonical((const char *)data, size, &canon, &clen, err,
	    sizeof(err)) == 0) {
		if (canon == NULL || strlen(canon) != clen)
			__builtin_trap();
		free(canon);
	}
	/* the bundle itself, as the SOC's tool meets it */
	st = intel_bundle_parse((const char *)data, size, &b, err, sizeof(err));
	if (st != INTEL_OK) {
		if (b != NULL || err[0] == '\0')
			__builtin_trap();
		return 0;
	}
	check_set(b);
	/* what parses can be signed, and then verifies (unless expired) */
	if (intel_sign((const char *)data, size, key, &signd, &slen, err,
	    sizeof(err)) == 0) {
		st = intel_verify(signd, slen, ring, intel_now_us(), &v, err,
		    sizeof(err));
		if (st == INTEL_OK) {
			if (v->version != b->version || v->nind != b->nind ||
			    v->npol != b->npol)
				__builtin_trap();
		} else if (st != INTEL_EXPIRED)
			__builtin_trap();
		intel_bundle_free(v);
		free(signd);
	}
	intel_bundle_free(b);
	return 0;
}
