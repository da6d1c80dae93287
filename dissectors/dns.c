/*
 * dns.c - the question name of a DNS query (RFC 1035 4.1.1, 4.1.2).
 */
#include "dissectors/dns.h"

#include <ctype.h>
#include <stdbool.h>

#include "lib/ids.h"
#include "lib/rd.h"

#define DNS_HEADER_LEN	12
#define DNS_QR		0x8000
#define DNS_LABEL_MAX	63

int
dns_query_name(const uint8_t *p, size_t len, char *name)
{
	struct rd r;
	uint16_t flags, qdcount;
	size_t n = 0;
	uint8_t l;

	rd_init(&r, p, len);
	(void)rd_be16(&r);			/* ID */
	flags = rd_be16(&r);
	qdcount = rd_be16(&r);
	if (!rd_skip(&r, DNS_HEADER_LEN - 6))	/* AN, NS, AR counts */
		return IDS_ETRUNC;
	if ((flags & DNS_QR) != 0 || qdcount == 0)
		return IDS_EMALFORMED;
	name[0] = '\0';
	for (;;) {
		l = rd_u8(&r);
		if (r.err)
			return IDS_ETRUNC;
		if (l == 0)
			break;
		/* a query's question has no compression (0xc0) or other types */
		if (l > DNS_LABEL_MAX)
			return IDS_EMALFORMED;
		if (n + (n > 0) + l > DNS_NAME_MAX)
			return IDS_EMALFORMED;
		if (!rd_need(&r, l))
			return IDS_ETRUNC;
		if (n > 0)
			name[n++] = '.';
		for (; l > 0; l--)
			name[n++] = (char)tolower(rd_u8(&r));
		name[n] = '\0';
	}
	(void)rd_be16(&r);			/* QTYPE */
	(void)rd_be16(&r);			/* QCLASS */
	return r.err ? IDS_ETRUNC : 0;
}

int
dns_tcp_query_name(const uint8_t *p, size_t len, char *name)
{
	size_t mlen;

	if (len < 2)
		return IDS_ETRUNC;
	mlen = (size_t)p[0] << 8 | p[1];
	if (mlen < DNS_HEADER_LEN)
		return IDS_EMALFORMED;
	/* the question comes first: what this segment holds may do */
	if (len - 2 > mlen)
		len = mlen + 2;
	return dns_query_name(p + 2, len - 2, name);
}
