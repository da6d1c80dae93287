/*
 * intel_set.c - the lookup tables built from applied threat-intel bundles
 * at apply time, and the matches the detectors ask (intel_bundle.h).
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

/* ---- lookup tables ------------------------------------------------------ */

/* One key space for every kind: the first byte is the kind. */
#define KEY_MAX		300

struct slot {
	const struct intel_indicator	*ind;	/* NULL: empty */
	uint32_t			 hash;
	uint32_t			 off;	/* into keys */
	uint16_t			 klen;
};

struct intel_set {
	struct slot	*slot;
	size_t		 mask, used, count;
	uint8_t		*keys;
	size_t		 klen, kcap;
	bool		 has[INTEL_NKIND];
	/*
	 * IPv4, so that traffic the indicators do not touch costs one array
	 * read, whatever the prefix lengths: per /16 block, the longest
	 * prefix of /0../16 covering it, and a bit per length 17..32 (bit
	 * L - 17) that has an entry inside the block (then a hash probe per
	 * such length, longest first).  640 KiB, only with IPv4 indicators.
	 */
	const struct intel_indicator **short4;	/* [65536] */
	uint16_t	*lens4;			/* [65536] */
	/* IPv6 prefix lengths present, longest first */
	uint8_t		 bits6[129];
	size_t		 nbits6;
};

static uint32_t
khash(const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static const struct intel_indicator *
lookup(const struct intel_set *s, const uint8_t *k, size_t n)
{
	uint32_t h = khash(k, n);
	size_t i = h & s->mask;

	for (; s->slot[i].ind != NULL; i = (i + 1) & s->mask)
		if (s->slot[i].hash == h && s->slot[i].klen == n &&
		    memcmp(s->keys + s->slot[i].off, k, n) == 0)
			return s->slot[i].ind;
	return NULL;
}

static int
insert(struct intel_set *s, const uint8_t *k, size_t n,
    const struct intel_indicator *ind)
{
	const struct intel_indicator *old;
	uint32_t h;
	size_t i;

	old = lookup(s, k, n);
	if (old != NULL) {
		/* two bundles (fleet, site) name the same thing: keep the worse */
		if (ind->severity > old->severity) {
			h = khash(k, n);
			for (i = h & s->mask; s->slot[i].ind != old;
			    i = (i + 1) & s->mask)
				;
			s->slot[i].ind = ind;
		}
		return 0;
	}
	if (s->klen + n > s->kcap) {
		size_t nc = s->kcap == 0 ? 4096 : s->kcap;
		uint8_t *nk;

		while (nc < s->klen + n)
			nc *= 2;
		nk = realloc(s->keys, nc);
		if (nk == NULL)
			return -1;
		s->keys = nk;
		s->kcap = nc;
	}
	memcpy(s->keys + s->klen, k, n);
	h = khash(k, n);
	for (i = h & s->mask; s->slot[i].ind != NULL; i = (i + 1) & s->mask)
		;
	s->slot[i].ind = ind;
	s->slot[i].hash = h;
	s->slot[i].off = (uint32_t)s->klen;
	s->slot[i].klen = (uint16_t)n;
	s->klen += n;
	s->used++;
	return 0;
}

static size_t
key_ip(uint8_t *k, uint8_t kind, int af, uint8_t bits, const uint8_t *addr)
{
	size_t alen = af == 4 ? 4 : 16;

	k[0] = kind;
	k[1] = (uint8_t)af;
	k[2] = bits;
	memcpy(k + 3, addr, alen);
	return 3 + alen;
}

static size_t
key_port(uint8_t *k, uint8_t transport, uint16_t port)
{
	k[0] = INTEL_PORT;
	k[1] = transport;
	k[2] = (uint8_t)(port >> 8);
	k[3] = (uint8_t)port;
	return 4;
}

static size_t
key_code(uint8_t *k, uint8_t kind, const char *proto, uint32_t code)
{
	size_t n = strlen(proto);

	if (n > 15)
		n = 15;
	k[0] = kind;
	memcpy(k + 1, proto, n);
	k[1 + n] = '\0';
	k[2 + n] = (uint8_t)(code >> 24);
	k[3 + n] = (uint8_t)(code >> 16);
	k[4 + n] = (uint8_t)(code >> 8);
	k[5 + n] = (uint8_t)code;
	return 6 + n;
}

/* Enter an IPv4 prefix into the per-/16 tables. */
static int
add_v4(struct intel_set *s, const struct intel_indicator *ind)
{
	uint32_t top = (uint32_t)ind->addr[0] << 8 | ind->addr[1], i, span;

	if (s->short4 == NULL) {
		s->short4 = calloc(65536, sizeof(*s->short4));
		s->lens4 = calloc(65536, sizeof(*s->lens4));
		if (s->short4 == NULL || s->lens4 == NULL)
			return -1;
	}
	if (ind->bits > 16) {
		s->lens4[top] |= (uint16_t)(1u << (ind->bits - 17));
		return 0;
	}
	/* every /16 block the prefix covers; a longer prefix wins, then the
	 * more severe one */
	span = 1u << (16 - ind->bits);
	top &= ~(span - 1);
	for (i = top; i < top + span; i++) {
		const struct intel_indicator *o = s->short4[i];

		if (o == NULL || o->bits < ind->bits ||
		    (o->bits == ind->bits && o->severity < ind->severity))
			s->short4[i] = ind;
	}
	return 0;
}

static int
add_indicator(struct intel_set *s, const struct intel_indicator *ind)
{
	uint8_t k[KEY_MAX];
	size_t n;

	switch (ind->kind) {
	case INTEL_IP:
	case INTEL_CIDR:
		/* an address is a /32 (/128) prefix: same table, same probe */
		n = key_ip(k, INTEL_CIDR, ind->af, ind->bits, ind->addr);
		if (ind->af == 4) {
			if (add_v4(s, ind) != 0)
				return -1;
			if (ind->bits <= 16) {
				/* short4 answers it; no hash entry needed */
				s->has[INTEL_IP] = true;
				return 0;
			}
		} else
			s->bits6[ind->bits] = 1;
		break;
	case INTEL_MAC:
		k[0] = INTEL_MAC;
		memcpy(k + 1, ind->mac, 6);
		n = 7;
		break;
	case INTEL_DOMAIN:
		n = strlen(ind->value);
		k[0] = INTEL_DOMAIN;
		memcpy(k + 1, ind->value, n);
		n++;
		break;
	case INTEL_PORT:
		if (ind->transport == 0) {
			n = key_port(k, 6, ind->port);
			if (insert(s, k, n, ind) != 0)
				return -1;
			n = key_port(k, 17, ind->port);
		} else
			n = key_port(k, ind->transport, ind->port);
		break;
	case INTEL_FUNCTION:
	case INTEL_DEVICE:
		n = key_code(k, (uint8_t)ind->kind, ind->proto, ind->code);
		break;
	default:
		return 0;
	}
	s->has[ind->kind == INTEL_CIDR ? INTEL_IP : ind->kind] = true;
	return insert(s, k, n, ind);
}

struct intel_set *
intel_set_build(const struct intel_bundle *const *b, size_t n, int64_t now_us)
{
	struct intel_set *s;
	size_t total = 0, cap = 16, i, j;
	int bits;

	for (i = 0; i < n; i++)
		if (b[i] != NULL)
			total += b[i]->nind;
	/* ports may take two slots: keep the load under one half */
	while (cap < 4 * total + 16)
		cap *= 2;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL) {
		free(s);
		return NULL;
	}
	s->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if (b[i] == NULL)
			continue;
		for (j = 0; j < b[i]->nind; j++) {
			const struct intel_indicator *ind = &b[i]->ind[j];

			if (ind->expires_us != 0 && ind->expires_us <= now_us)
				continue;
			if (add_indicator(s, ind) != 0) {
				intel_set_free(s);
				return NULL;
			}
			s->count++;
		}
	}
	for (bits = 128; bits >= 0; bits--)
		if (s->bits6[bits])
			s->bits6[s->nbits6++] = (uint8_t)bits;
	return s;
}

void
intel_set_free(struct intel_set *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s->keys);
	free(s->short4);
	free(s->lens4);
	free(s);
}

size_t
intel_set_count(const struct intel_set *s)
{
	return s != NULL ? s->count : 0;
}

bool
intel_set_has(const struct intel_set *s, enum intel_kind k)
{
	if (s == NULL || (unsigned)k >= INTEL_NKIND)
		return false;
	return s->has[k == INTEL_CIDR ? INTEL_IP : k];
}

static void
mask_addr(uint8_t *m, const uint8_t *addr, size_t alen, unsigned bits)
{
	size_t j;

	for (j = 0; j < alen; j++) {
		unsigned keep = bits >= 8 * (j + 1) ? 8 :
		    bits > 8 * j ? (unsigned)(bits - 8 * j) : 0;

		m[j] = addr[j] & (uint8_t)(0xff00u >> keep);
	}
}

const struct intel_indicator *
intel_match_ip(const struct intel_set *s, int af, const uint8_t *addr)
{
	const struct intel_indicator *ind;
	uint8_t k[KEY_MAX], m[16];
	unsigned top, lens, bits;
	size_t i;

	if (s == NULL || !s->has[INTEL_IP])
		return NULL;
	if (af == 4) {
		if (s->short4 == NULL)
			return NULL;
		top = (unsigned)addr[0] << 8 | addr[1];
		/* lengths 17..32 inside this /16, longest first */
		for (lens = s->lens4[top]; lens != 0; lens &= ~(1u << (bits - 17))) {
			bits = 17 + (31 - (unsigned)__builtin_clz(lens));
			mask_addr(m, addr, 4, bits);
			ind = lookup(s, k, key_ip(k, INTEL_CIDR, 4, (uint8_t)bits, m));
			if (ind != NULL)
				return ind;
		}
		return s->short4[top];
	}
	/* IPv6: one probe per prefix length present, longest first */
	for (i = 0; i < s->nbits6; i++) {
		mask_addr(m, addr, 16, s->bits6[i]);
		ind = lookup(s, k, key_ip(k, INTEL_CIDR, af, s->bits6[i], m));
		if (ind != NULL)
			return ind;
	}
	return NULL;
}

const struct intel_indicator *
intel_match_mac(const struct intel_set *s, const uint8_t mac[6])
{
	uint8_t k[7];

	if (s == NULL || !s->has[INTEL_MAC])
		return NULL;
	k[0] = INTEL_MAC;
	memcpy(k + 1, mac, 6);
	return lookup(s, k, sizeof(k));
}

const struct intel_indicator *
intel_match_port(const struct intel_set *s, uint8_t transport, uint16_t port)
{
	uint8_t k[4];

	if (s == NULL || !s->has[INTEL_PORT])
		return NULL;
	return lookup(s, k, key_port(k, transport, port));
}

const struct intel_indicator *
intel_match_domain(const struct intel_set *s, const char *name)
{
	const struct intel_indicator *ind;
	uint8_t k[KEY_MAX];
	char low[256];
	size_t n = strlen(name), i;

	if (s == NULL || !s->has[INTEL_DOMAIN] || n == 0 || n > 254)
		return NULL;
	if (name[n - 1] == '.')
		n--;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	/* the name, then each parent: a.b.evil.example, b.evil.example ... */
	k[0] = INTEL_DOMAIN;
	for (i = 0; i < n; i++) {
		if (i > 0 && low[i - 1] != '.')
			continue;
		memcpy(k + 1, low + i, n - i);
		ind = lookup(s, k, 1 + n - i);
		if (ind != NULL)
			return ind;
	}
	return NULL;
}

const struct intel_indicator *
intel_match_function(const struct intel_set *s, const char *proto,
    uint32_t code)
{
	uint8_t k[32];

	if (s == NULL || !s->has[INTEL_FUNCTION])
		return NULL;
	return lookup(s, k, key_code(k, INTEL_FUNCTION, proto, code));
}

const struct intel_indicator *
intel_match_device(const struct intel_set *s, const char *proto, uint32_t id)
{
	uint8_t k[32];

	if (s == NULL || !s->has[INTEL_DEVICE])
		return NULL;
	return lookup(s, k, key_code(k, INTEL_DEVICE, proto, id));
}
