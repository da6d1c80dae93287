/*
 * tls.h - the server_name (SNI, RFC 6066 3) of a TLS ClientHello
 * (RFC 8446 4.1.2, RFC 5246 7.4.1.2), for threat-intel domain
 * indicators.  Parsing only: no policy, no I/O.  Not an industrial
 * protocol, so no proto_desc: detectors/intel.c calls it.
 *
 *   record:     type 0x16 | version 3.x | length(2)
 *   handshake:  type 1 | length(3) | client_version(2) | random(32)
 *               | session_id<0..32> | cipher_suites<2..> (len 2)
 *               | compression<1..> | extensions<..> (len 2)
 *   extension:  type(2) | length(2) | data; server_name is type 0:
 *               list length(2) | name_type 0 | host length(2) | host
 *
 * Only what one TCP segment holds is read: a ClientHello whose SNI lies
 * past the end of the first segment (very large hellos, post-quantum key
 * shares) gives IDS_ETRUNC and is not matched.
 */
#ifndef ICSENTRY_DISSECTORS_TLS_H
#define ICSENTRY_DISSECTORS_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX	253

/*
 * Cheap test on the first bytes: could p[0..len) start a TLS record
 * carrying a ClientHello?  (handshake record, version 3.x, type 1)
 */
static inline int
tls_is_client_hello(const uint8_t *p, size_t len)
{
	return len >= 6 && p[0] == 0x16 && p[1] == 3 && p[5] == 1;
}

/*
 * The host name of the server_name extension of the ClientHello that
 * starts p[0..len), lower-cased into name (at least TLS_SNI_MAX + 1
 * bytes).  0; IDS_ENOTSUP when the hello has no server_name;
 * IDS_ETRUNC when p ends first; IDS_EMALFORMED when it is no
 * ClientHello or a length or the name is out of bounds.
 */
int tls_client_hello_sni(const uint8_t *p, size_t len, char *name);

#endif
