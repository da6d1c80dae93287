/*
 * community_id.h - Community ID v1 flow hashes, the value Zeek and
 * Suricata log as community_id (https://github.com/corelight/
 * community-id-spec): "1:" + base64(SHA-1(seed, the ordered addresses,
 * protocol, 0, the ordered ports)).  The same flow seen by another tool
 * hashes to the same string, so an analyst can pivot on it.
 */
#ifndef ICSENTRY_LIB_COMMUNITY_ID_H
#define ICSENTRY_LIB_COMMUNITY_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_LEN	31

/*
 * The port equivalents of an ICMP (v6 false) or ICMPv6 (v6 true) message:
 * *p1 = type, *p2 = the type of its counterpart (echo <-> echo reply...),
 * or the code with *one_way = true when the type has none.
 */
void community_id_icmp_ports(bool v6, uint8_t type, uint8_t code,
    uint16_t *p1, uint16_t *p2, bool *one_way);

/*
 * Hash one flow: af 4 or 6, addresses of 4 or 16 bytes, IP protocol,
 * ports (for ICMP/ICMPv6 the type and code: the equivalents are derived
 * here).  Protocols without ports (not TCP, UDP, SCTP, ICMP, ICMPv6) hash
 * the addresses and protocol only.  out receives "1:...=".  Returns 0, or
 * negative when af is not 4/6 or SHA-1 fails.
 */
int community_id_v1(uint16_t seed, uint8_t af, const uint8_t *saddr,
    const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport,
    char out[COMMUNITY_ID_LEN]);

#endif
