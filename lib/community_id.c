/*
 * community_id.c - Community ID v1 (see community_id.h), SHA-1 through
 * OpenSSL's EVP interface.
 */
#include "lib/community_id.h"

#include <openssl/evp.h>
#include <string.h>

#include "lib/ids.h"

#define IPPROTO_ICMP_	1
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define IPPROTO_ICMP6_	58
#define IPPROTO_SCTP_	132

/* Message types and their counterparts (the spec's tables, from Zeek). */
static const uint8_t icmp4_pairs[][2] = {
	{ 8, 0 }, { 0, 8 },		/* echo, echo reply */
	{ 13, 14 }, { 14, 13 },		/* timestamp */
	{ 15, 16 }, { 16, 15 },		/* information */
	{ 10, 9 }, { 9, 10 },		/* router solicitation/advert */
	{ 17, 18 }, { 18, 17 },		/* address mask */
};

static const uint8_t icmp6_pairs[][2] = {
	{ 128, 129 }, { 129, 128 },	/* echo */
	{ 133, 134 }, { 134, 133 },	/* router solicitation/advert */
	{ 135, 136 }, { 136, 135 },	/* neighbor solicitation/advert */
	{ 130, 131 }, { 131, 130 },	/* MLD query/report */
	{ 139, 140 }, { 140, 139 },	/* who-are-you (node information) */
	{ 144, 145 }, { 145, 144 },	/* home agent address discovery */
};

void
community_id_icmp_ports(bool v6, uint8_t type, uint8_t code, uint16_t *p1,
    uint16_t *p2, bool *one_way)
{
	const uint8_t(*t)[2] = v6 ? icmp6_pairs : icmp4_pairs;
	size_t i, n = v6 ? sizeof(icmp6_pairs) / sizeof(icmp6_pairs[0]) :
			   sizeof(icmp4_pairs) / sizeof(icmp4_pairs[0]);

	*p1 = type;
	for (i = 0; i < n; i++)
		if (t[i][0] == type) {
			*p2 = t[i][1];
			*one_way = false;
			return;
		}
	*p2 = code;
	*one_way = true;
}

static void
b64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18 & 63];
		*out++ = tab[v >> 12 & 63];
		*out++ = tab[v >> 6 & 63];
		*out++ = tab[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = tab[v >> 18 & 63];
		*out++ = tab[v >> 12 & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = tab[v >> 18 & 63];
		*out++ = tab[v >> 12 & 63];
		*out++ = tab[v >> 6 & 63];
		*out++ = '=';
	}
	*out = '\0';
}

int
community_id_v1(uint16_t seed, uint8_t af, const uint8_t *saddr,
    const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport,
    char out[COMMUNITY_ID_LEN])
{
	unsigned char buf[2 + 16 + 16 + 2 + 4], md[EVP_MAX_MD_SIZE];
	const uint8_t *a = saddr, *b = daddr;
	uint16_t pa = sport, pb = dport;
	bool ports = true, one_way = false;
	unsigned int mdlen = 0;
	size_t alen, n = 0;
	int c;

	if (af != 4 && af != 6)
		return IDS_EINVAL;
	alen = af == 4 ? 4 : 16;
	switch (proto) {
	case IPPROTO_ICMP_:
	case IPPROTO_ICMP6_:
		community_id_icmp_ports(proto == IPPROTO_ICMP6_, (uint8_t)sport,
		    (uint8_t)dport, &pa, &pb, &one_way);
		break;
	case IPPROTO_TCP_:
	case IPPROTO_UDP_:
	case IPPROTO_SCTP_:
		break;
	default:
		ports = false;
		pa = pb = 0;
	}
	/* smaller address (then port) first, unless the message is one-way */
	c = memcmp(a, b, alen);
	if (!one_way && (c > 0 || (c == 0 && pa > pb))) {
		const uint8_t *t = a;
		uint16_t tp = pa;

		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}
	buf[n++] = (unsigned char)(seed >> 8);
	buf[n++] = (unsigned char)seed;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (unsigned char)(pa >> 8);
		buf[n++] = (unsigned char)pa;
		buf[n++] = (unsigned char)(pb >> 8);
		buf[n++] = (unsigned char)pb;
	}
	if (EVP_Digest(buf, n, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return IDS_EIO;
	out[0] = '1';
	out[1] = ':';
	b64(md, mdlen, out + 2);
	return 0;
}
