/*
 * dns.h - the question name of a DNS query (RFC 1035 4.1), for
 * threat-intel domain indicators.  Parsing only: no policy, no I/O.  Not
 * an industrial protocol, so no proto_desc: detectors/intel.c calls it.
 *
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-------------------------------+
 *   |              ID               |
 *   |QR| Opcode |AA|TC|RD|RA| Z |RCODE|
 *   |            QDCOUNT            |
 *   |            ANCOUNT            |
 *   |            NSCOUNT            |
 *   |            ARCOUNT            |
 *   +-------------------------------+
 *   | QNAME: (len, label)... 0      |
 *   | QTYPE           | QCLASS      |
 *   +-------------------------------+
 */
#ifndef ICSENTRY_DISSECTORS_DNS_H
#define ICSENTRY_DISSECTORS_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	253	/* dotted text, RFC 1035 2.3.4 */

/*
 * The first question's name of a DNS query (QR = 0, QDCOUNT >= 1) in
 * p[0..len), as lower-case dotted text in name (at least
 * DNS_NAME_MAX + 1 bytes; the root is "").  0, IDS_ETRUNC when the
 * message ends early, IDS_EMALFORMED for a response, no question, a
 * compression pointer or a label type other than 0, or a name too long.
 */
int dns_query_name(const uint8_t *p, size_t len, char *name);

/*
 * The same over TCP (RFC 1035 4.2.2, RFC 7766): p starts with the
 * two-byte message length.  Only what p holds is read (one segment);
 * the question is at the front, so a query longer than the segment
 * still gives its name when the name is inside.  As dns_query_name,
 * and IDS_EMALFORMED for a length shorter than a DNS header.
 */
int dns_tcp_query_name(const uint8_t *p, size_t len, char *name);

#endif
