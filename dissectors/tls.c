/*
 * tls.c - the server_name of a TLS ClientHello (RFC 6066 3).  See tls.h.
 */
#include "dissectors/tls.h"

#include <ctype.h>
#include <stdbool.h>

#include "lib/ids.h"
#include "lib/rd.h"

#define TLS_HANDSHAKE		0x16
#define TLS_CLIENT_HELLO	1
#define TLS_EXT_SERVER_NAME	0
#define TLS_NAME_HOST		0

int
tls_client_hello_sni(const uint8_t *p, size_t len, char *name)
{
	struct rd r, ext, list, host;
	uint16_t rlen, elen, etype, n;
	uint32_t hlen;
	bool whole;
	uint8_t b;
	size_t i;

	rd_init(&r, p, len);
	if (len >= 1 && p[0] != TLS_HANDSHAKE)
		return IDS_EMALFORMED;
	if (len >= 2 && p[1] != 3)
		return IDS_EMALFORMED;
	(void)rd_skip(&r, 3);			/* type, version */
	rlen = rd_be16(&r);
	if (r.err)
		return IDS_ETRUNC;
	if (rlen < 4 || rlen > 16384 + 2048)
		return IDS_EMALFORMED;
	if (len >= 6 && p[5] != TLS_CLIENT_HELLO)
		return IDS_EMALFORMED;
	(void)rd_skip(&r, 1);
	hlen = rd_be24(&r);
	if (r.err)
		return IDS_ETRUNC;
	if (hlen + 4 > rlen)
		return IDS_EMALFORMED;		/* split over records: not read */
	/* the ClientHello body only; whole: all of it was captured */
	whole = rd_left(&r) >= hlen;
	if (whole)
		rd_init(&r, rd_ptr(&r), hlen);
	(void)rd_skip(&r, 2 + 32);		/* client_version, random */
	b = rd_u8(&r);				/* session_id */
	if (!r.err && b > 32)
		return IDS_EMALFORMED;
	(void)rd_skip(&r, b);
	n = rd_be16(&r);			/* cipher_suites */
	if (!r.err && (n < 2 || n % 2 != 0))
		return IDS_EMALFORMED;
	(void)rd_skip(&r, n);
	b = rd_u8(&r);				/* compression_methods */
	if (!r.err && b < 1)
		return IDS_EMALFORMED;
	(void)rd_skip(&r, b);
	if (r.err)
		return whole ? IDS_EMALFORMED : IDS_ETRUNC;
	if (rd_left(&r) == 0)
		return whole ? IDS_ENOTSUP : IDS_ETRUNC; /* no extensions */
	elen = rd_be16(&r);
	if (r.err)
		return whole ? IDS_EMALFORMED : IDS_ETRUNC;
	if (rd_left(&r) < elen) {
		if (whole)
			return IDS_EMALFORMED;
		rd_init(&ext, rd_ptr(&r), rd_left(&r));
	} else {
		rd_init(&ext, rd_ptr(&r), elen);
		whole = true;			/* every extension is here */
	}
	while (rd_left(&ext) > 0) {
		etype = rd_be16(&ext);
		n = rd_be16(&ext);
		if (ext.err || rd_left(&ext) < n)
			return whole ? IDS_EMALFORMED : IDS_ETRUNC;
		if (etype != TLS_EXT_SERVER_NAME) {
			(void)rd_skip(&ext, n);
			continue;
		}
		rd_init(&list, rd_ptr(&ext), n);
		n = rd_be16(&list);		/* server_name_list */
		if (list.err || rd_left(&list) < n)
			return IDS_EMALFORMED;
		rd_init(&host, rd_ptr(&list), n);
		if (rd_u8(&host) != TLS_NAME_HOST)
			return IDS_EMALFORMED;
		n = rd_be16(&host);
		if (host.err || n == 0 || n > TLS_SNI_MAX || !rd_need(&host, n))
			return IDS_EMALFORMED;
		for (i = 0; i < n; i++) {
			b = rd_u8(&host);
			/* a DNS host name: no NUL, no spaces, no controls */
			if (b <= 0x20 || b >= 0x7f)
				return IDS_EMALFORMED;
			name[i] = (char)tolower(b);
		}
		/* "example.com." and "example.com" are one name */
		if (n > 1 && name[n - 1] == '.')
			n--;
		name[n] = '\0';
		return 0;
	}
	return whole ? IDS_ENOTSUP : IDS_ETRUNC;
}
