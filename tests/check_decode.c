/*
 * check_decode.c - unit suite for agent/decode.h (decode_packet).
 *
 * Every fixture is a hand-built frame, one comment per field.  Besides the
 * field checks, each fixture is decoded at every prefix length 0..len-1
 * from an exact-size malloc'd copy, so AddressSanitizer (make asan-test)
 * catches a single byte read past the capture.
 */
#include <check.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "lib/ids.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif

/* ---- fixtures ----------------------------------------------------------- */

/* Ethernet II / IPv4 / TCP 10.0.0.1:49152 -> 10.0.0.2:502, 6 data bytes. */
static const uint8_t f_eth_tcp[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC 00:11:22:33:44:55 */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC 66:77:88:99:aa:bb */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 (20 bytes) */
	0x00,					/* DSCP / ECN */
	0x00, 0x2e,				/* total length 46 = 20 + 20 + 6 */
	0x12, 0x34,				/* identification */
	0x40, 0x00,				/* flags DF, fragment offset 0 */
	0x40,					/* TTL 64 */
	0x06,					/* protocol TCP */
	0x00, 0x00,				/* header checksum (not checked) */
	0x0a, 0x00, 0x00, 0x01,			/* src 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x02,			/* dst 10.0.0.2 */
	/* TCP */
	0xc0, 0x00,				/* src port 49152 */
	0x01, 0xf6,				/* dst port 502 */
	0x01, 0x02, 0x03, 0x04,			/* sequence number */
	0x05, 0x06, 0x07, 0x08,			/* acknowledgment number */
	0x50,					/* data offset 5 (20 bytes) */
	0x18,					/* flags PSH|ACK */
	0xff, 0xff,				/* window */
	0x00, 0x00,				/* checksum */
	0x00, 0x00,				/* urgent pointer */
	/* payload: a Modbus/TCP MBAP header start */
	0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
};

/* Ethernet / IPv4 with a 4-byte option (IHL 6) / UDP 5353 -> 47808. */
static const uint8_t f_ipv4_opts_udp[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x46,					/* version 4, IHL 6 (24 bytes) */
	0x00,					/* DSCP / ECN */
	0x00, 0x24,				/* total length 36 = 24 + 8 + 4 */
	0x00, 0x01,				/* identification */
	0x00, 0x00,				/* no flags, offset 0 */
	0x01,					/* TTL 1 */
	0x11,					/* protocol UDP */
	0x00, 0x00,				/* header checksum */
	0xc0, 0xa8, 0x01, 0x0a,			/* src 192.168.1.10 */
	0xc0, 0xa8, 0x01, 0xff,			/* dst 192.168.1.255 */
	0x94, 0x04, 0x00, 0x00,			/* option: Router Alert, len 4 */
	/* UDP */
	0x14, 0xe9,				/* src port 5353 */
	0xba, 0xc0,				/* dst port 47808 */
	0x00, 0x0c,				/* length 12 = 8 + 4 */
	0x00, 0x00,				/* checksum (none) */
	/* payload */
	0x81, 0x0b, 0x00, 0x04,			/* BVLC header */
};

/* Ethernet / 802.1Q VID 100 / IPv4 / UDP 47808 -> 47808, 2 data bytes. */
static const uint8_t f_vlan_udp[] = {
	/* Ethernet */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* dst MAC broadcast */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* src MAC */
	0x81, 0x00,				/* TPID 802.1Q */
	0x20, 0x64,				/* TCI: PCP 1, DEI 0, VID 100 */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x1e,				/* total length 30 = 20 + 8 + 2 */
	0x00, 0x02,				/* identification */
	0x00, 0x00,				/* no flags, offset 0 */
	0x80,					/* TTL 128 */
	0x11,					/* protocol UDP */
	0x00, 0x00,				/* header checksum */
	0xac, 0x10, 0x00, 0x05,			/* src 172.16.0.5 */
	0xac, 0x10, 0x00, 0x06,			/* dst 172.16.0.6 */
	/* UDP */
	0xba, 0xc0,				/* src port 47808 */
	0xba, 0xc0,				/* dst port 47808 */
	0x00, 0x0a,				/* length 10 = 8 + 2 */
	0x00, 0x00,				/* checksum */
	/* payload */
	0x81, 0x0a,
};

/* Ethernet / QinQ (802.1ad VID 200, 802.1Q VID 300) / IPv4 / TCP SYN. */
static const uint8_t f_qinq_tcp[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x88, 0xa8,				/* TPID 802.1ad (service tag) */
	0x00, 0xc8,				/* TCI: VID 200 */
	0x81, 0x00,				/* TPID 802.1Q (customer tag) */
	0x61, 0x2c,				/* TCI: PCP 3, VID 300 */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x2a,				/* total length 42 = 20 + 20 + 2 */
	0x00, 0x03,				/* identification */
	0x40, 0x00,				/* DF */
	0x40,					/* TTL 64 */
	0x06,					/* protocol TCP */
	0x00, 0x00,				/* header checksum */
	0x0a, 0x01, 0x01, 0x01,			/* src 10.1.1.1 */
	0x0a, 0x01, 0x01, 0x02,			/* dst 10.1.1.2 */
	/* TCP */
	0x9c, 0x40,				/* src port 40000 */
	0x00, 0x66,				/* dst port 102 */
	0x00, 0x00, 0x00, 0x01,			/* sequence number */
	0x00, 0x00, 0x00, 0x00,			/* acknowledgment number */
	0x50,					/* data offset 5 */
	0x02,					/* flags SYN */
	0x72, 0x10,				/* window */
	0x00, 0x00,				/* checksum */
	0x00, 0x00,				/* urgent pointer */
	/* payload */
	0x03, 0x00,
};

/* Ethernet / ARP request who-has 10.0.0.2 tell 10.0.0.1. */
static const uint8_t f_arp[] = {
	/* Ethernet */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* dst MAC broadcast */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x08, 0x06,				/* ethertype ARP */
	/* ARP */
	0x00, 0x01,				/* hardware type Ethernet */
	0x08, 0x00,				/* protocol type IPv4 */
	0x06,					/* hardware address length */
	0x04,					/* protocol address length */
	0x00, 0x01,				/* operation: request */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* sender MAC */
	0x0a, 0x00, 0x00, 0x01,			/* sender IP 10.0.0.1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* target MAC (unknown) */
	0x0a, 0x00, 0x00, 0x02,			/* target IP 10.0.0.2 */
};

/* Ethernet / IPv6 / hop-by-hop options / UDP 20000 -> 20000, 4 bytes. */
static const uint8_t f_ipv6_hbh_udp[] = {
	/* Ethernet */
	0x33, 0x33, 0x00, 0x00, 0x00, 0x01,	/* dst MAC (IPv6 multicast) */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x86, 0xdd,				/* ethertype IPv6 */
	/* IPv6 */
	0x60, 0x00, 0x00, 0x00,			/* version 6, class 0, flow 0 */
	0x00, 0x14,				/* payload length 20 = 8 + 8 + 4 */
	0x00,					/* next header: hop-by-hop */
	0x40,					/* hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,	/* src 2001:db8::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,	/* dst 2001:db8::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	/* hop-by-hop options header */
	0x11,					/* next header: UDP */
	0x00,					/* length 0 (8 bytes) */
	0x01, 0x04, 0x00, 0x00, 0x00, 0x00,	/* PadN option, 4 bytes */
	/* UDP */
	0x4e, 0x20,				/* src port 20000 */
	0x4e, 0x20,				/* dst port 20000 */
	0x00, 0x0c,				/* length 12 = 8 + 4 */
	0x00, 0x00,				/* checksum */
	/* payload: DNP3 start bytes */
	0x05, 0x64, 0x05, 0xc9,
};

/* Ethernet / IPv6 / fragment header (offset 0, M=1) / start of UDP. */
static const uint8_t f_ipv6_frag[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x86, 0xdd,				/* ethertype IPv6 */
	/* IPv6 */
	0x60, 0x00, 0x00, 0x00,			/* version 6 */
	0x00, 0x18,				/* payload length 24 = 8 + 8 + 8 */
	0x2c,					/* next header: fragment (44) */
	0x40,					/* hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,	/* src 2001:db8::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,	/* dst 2001:db8::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	/* fragment header */
	0x11,					/* next header: UDP */
	0x00,					/* reserved */
	0x00, 0x01,				/* offset 0, M (more fragments) */
	0xde, 0xad, 0xbe, 0xef,			/* identification */
	/* first 16 bytes of the UDP datagram */
	0x00, 0x35,				/* src port 53 */
	0x00, 0x35,				/* dst port 53 */
	0x05, 0xdc,				/* length 1500 (whole datagram) */
	0x00, 0x00,				/* checksum */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* data */
};

/* Ethernet / IPv4 first fragment (MF, offset 0) / start of UDP. */
static const uint8_t f_ipv4_frag[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x24,				/* total length 36 = 20 + 16 */
	0xab, 0xcd,				/* identification */
	0x20, 0x00,				/* flags MF, fragment offset 0 */
	0x40,					/* TTL 64 */
	0x11,					/* protocol UDP */
	0x00, 0x00,				/* header checksum */
	0x0a, 0x00, 0x00, 0x01,			/* src 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x02,			/* dst 10.0.0.2 */
	/* first 16 bytes of the UDP datagram */
	0x30, 0x39,				/* src port 12345 */
	0x00, 0x45,				/* dst port 69 */
	0x05, 0xdc,				/* length 1500 (whole datagram) */
	0x00, 0x00,				/* checksum */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* data */
};

/* Ethernet / IPv4 / ICMP echo request. */
static const uint8_t f_icmp[] = {
	/* Ethernet */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x08, 0x00,				/* ethertype IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x20,				/* total length 32 = 20 + 8 + 4 */
	0x00, 0x04,				/* identification */
	0x00, 0x00,				/* no flags, offset 0 */
	0x3f,					/* TTL 63 */
	0x01,					/* protocol ICMP */
	0x00, 0x00,				/* header checksum */
	0x0a, 0x00, 0x00, 0x01,			/* src 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x63,			/* dst 10.0.0.99 */
	/* ICMP */
	0x08,					/* type 8 echo request */
	0x00,					/* code 0 */
	0x00, 0x00,				/* checksum */
	0x00, 0x01,				/* identifier */
	0x00, 0x02,				/* sequence */
	0x61, 0x62, 0x63, 0x64,			/* data "abcd" */
};

/* Linux cooked (SLL, DLT 113) / IPv4 / TCP 49153 -> 102, TPKT start. */
static const uint8_t f_sll_tcp[] = {
	/* SLL header */
	0x00, 0x00,				/* packet type: to us */
	0x00, 0x01,				/* ARPHRD_ETHER */
	0x00, 0x06,				/* link-layer address length */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x42,	/* address 02:00:00:00:00:42 */
	0x00, 0x00,				/* address padding to 8 */
	0x08, 0x00,				/* protocol IPv4 */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x2c,				/* total length 44 = 20 + 20 + 4 */
	0x00, 0x05,				/* identification */
	0x40, 0x00,				/* DF */
	0x40,					/* TTL 64 */
	0x06,					/* protocol TCP */
	0x00, 0x00,				/* header checksum */
	0xc0, 0xa8, 0x00, 0x21,			/* src 192.168.0.33 */
	0xc0, 0xa8, 0x00, 0x01,			/* dst 192.168.0.1 */
	/* TCP */
	0xc0, 0x01,				/* src port 49153 */
	0x00, 0x66,				/* dst port 102 */
	0x00, 0x00, 0x10, 0x00,			/* sequence number */
	0x00, 0x00, 0x20, 0x00,			/* acknowledgment number */
	0x50,					/* data offset 5 */
	0x11,					/* flags FIN|ACK */
	0x10, 0x00,				/* window */
	0x00, 0x00,				/* checksum */
	0x00, 0x00,				/* urgent pointer */
	/* payload: TPKT version 3 */
	0x03, 0x00, 0x00, 0x16,
};

/* Linux cooked v2 (SLL2, DLT 276) / IPv6 / TCP 2404 -> 50000, 6 bytes. */
static const uint8_t f_sll2_tcp6[] = {
	/* SLL2 header */
	0x86, 0xdd,				/* protocol IPv6 */
	0x00, 0x00,				/* reserved */
	0x00, 0x00, 0x00, 0x02,			/* interface index 2 */
	0x00, 0x01,				/* ARPHRD_ETHER */
	0x04,					/* packet type: outgoing */
	0x06,					/* link-layer address length */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x43,	/* address 02:00:00:00:00:43 */
	0x00, 0x00,				/* address padding to 8 */
	/* IPv6 */
	0x60, 0x00, 0x00, 0x00,			/* version 6 */
	0x00, 0x1a,				/* payload length 26 = 20 + 6 */
	0x06,					/* next header: TCP */
	0x80,					/* hop limit 128 */
	0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* src fe80::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* dst fe80::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	/* TCP */
	0x09, 0x64,				/* src port 2404 */
	0xc3, 0x50,				/* dst port 50000 */
	0x00, 0x00, 0x00, 0x64,			/* sequence number */
	0x00, 0x00, 0x00, 0xc8,			/* acknowledgment number */
	0x50,					/* data offset 5 */
	0x10,					/* flags ACK */
	0x20, 0x00,				/* window */
	0x00, 0x00,				/* checksum */
	0x00, 0x00,				/* urgent pointer */
	/* payload: IEC 104 S-frame */
	0x68, 0x04, 0x01, 0x00, 0x02, 0x00,
};

/* Raw IP (DLT_RAW) / IPv4 / UDP 9600 -> 9600, 4 bytes. */
static const uint8_t f_raw_udp[] = {
	/* IPv4 (no link header) */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x20,				/* total length 32 = 20 + 8 + 4 */
	0x00, 0x06,				/* identification */
	0x00, 0x00,				/* no flags */
	0x40,					/* TTL 64 */
	0x11,					/* protocol UDP */
	0x00, 0x00,				/* header checksum */
	0xc0, 0xa8, 0xfa, 0x01,			/* src 192.168.250.1 */
	0xc0, 0xa8, 0xfa, 0x02,			/* dst 192.168.250.2 */
	/* UDP */
	0x25, 0x80,				/* src port 9600 */
	0x25, 0x80,				/* dst port 9600 */
	0x00, 0x0c,				/* length 12 = 8 + 4 */
	0x00, 0x00,				/* checksum */
	/* payload: FINS header start */
	0x80, 0x00, 0x02, 0x00,
};

/* BSD loopback (DLT_NULL, family in host order) / IPv4 / TCP -> 4840. */
static const uint8_t f_null_tcp[] = {
	/* loopback header */
	0x02, 0x00, 0x00, 0x00,			/* AF_INET (2), little endian */
	/* IPv4 */
	0x45,					/* version 4, IHL 5 */
	0x00,					/* DSCP / ECN */
	0x00, 0x2c,				/* total length 44 = 20 + 20 + 4 */
	0x00, 0x07,				/* identification */
	0x40, 0x00,				/* DF */
	0x40,					/* TTL 64 */
	0x06,					/* protocol TCP */
	0x00, 0x00,				/* header checksum */
	0x7f, 0x00, 0x00, 0x01,			/* src 127.0.0.1 */
	0x7f, 0x00, 0x00, 0x01,			/* dst 127.0.0.1 */
	/* TCP */
	0xd4, 0x31,				/* src port 54321 */
	0x12, 0xe8,				/* dst port 4840 */
	0x00, 0x00, 0x00, 0x10,			/* sequence number */
	0x00, 0x00, 0x00, 0x20,			/* acknowledgment number */
	0x50,					/* data offset 5 */
	0x18,					/* flags PSH|ACK */
	0x80, 0x00,				/* window */
	0x00, 0x00,				/* checksum */
	0x00, 0x00,				/* urgent pointer */
	/* payload: OPC UA "HELF" */
	0x48, 0x45, 0x4c, 0x46,
};

struct fixture {
	const char	*name;
	int		 dlt;
	const uint8_t	*bytes;
	size_t		 len;
	size_t		 link_len;	/* prefixes shorter: DEC_TRUNC_LINK */
	size_t		 l4_end;	/* transport payload offset; 0: no ports */
};

#define FIX(n, dlt, link, l4)	{ #n, dlt, n, sizeof(n), link, l4 }

static const struct fixture fixtures[] = {
	FIX(f_eth_tcp, DLT_EN10MB, 14, 54),
	FIX(f_ipv4_opts_udp, DLT_EN10MB, 14, 46),
	FIX(f_vlan_udp, DLT_EN10MB, 14, 46),
	FIX(f_qinq_tcp, DLT_EN10MB, 14, 62),
	FIX(f_arp, DLT_EN10MB, 14, 0),
	FIX(f_ipv6_hbh_udp, DLT_EN10MB, 14, 70),
	FIX(f_ipv6_frag, DLT_EN10MB, 14, 0),
	FIX(f_ipv4_frag, DLT_EN10MB, 14, 0),
	FIX(f_icmp, DLT_EN10MB, 14, 0),
	FIX(f_sll_tcp, DLT_LINUX_SLL, 16, 56),
	FIX(f_sll2_tcp6, DLT_LINUX_SLL2, 20, 80),
	FIX(f_raw_udp, DLT_RAW, 1, 28),
	FIX(f_null_tcp, DLT_NULL, 4, 44),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

/* Decode a private exact-size copy (so ASan sees any over-read). */
static int
decode_copy(int dlt, const uint8_t *bytes, size_t len, struct pkt *p,
    enum dec_why *why, uint8_t **copy)
{
	*copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, bytes, len);
	return decode_packet(dlt, *copy, (uint32_t)len, (uint32_t)len + 4,
	    1700000000123456ull, p, why);
}

static const uint8_t ip4_10_0_0_1[4] = { 10, 0, 0, 1 };
static const uint8_t ip4_10_0_0_2[4] = { 10, 0, 0, 2 };
static const uint8_t ip6_db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ip6_db8_2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 2 };

/* ---- whole frames ------------------------------------------------------- */

START_TEST(test_fixture_sizes)
{
	/* the offsets in the table above rely on these lengths */
	ck_assert_uint_eq(sizeof(f_eth_tcp), 60);
	ck_assert_uint_eq(sizeof(f_ipv4_opts_udp), 50);
	ck_assert_uint_eq(sizeof(f_vlan_udp), 48);
	ck_assert_uint_eq(sizeof(f_qinq_tcp), 64);
	ck_assert_uint_eq(sizeof(f_arp), 42);
	ck_assert_uint_eq(sizeof(f_ipv6_hbh_udp), 74);
	ck_assert_uint_eq(sizeof(f_ipv6_frag), 78);
	ck_assert_uint_eq(sizeof(f_ipv4_frag), 50);
	ck_assert_uint_eq(sizeof(f_icmp), 46);
	ck_assert_uint_eq(sizeof(f_sll_tcp), 60);
	ck_assert_uint_eq(sizeof(f_sll2_tcp6), 86);
	ck_assert_uint_eq(sizeof(f_raw_udp), 32);
	ck_assert_uint_eq(sizeof(f_null_tcp), 48);
}
END_TEST

START_TEST(test_eth_ipv4_tcp)
{
	static const uint8_t dmac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t smac[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_eth_tcp, sizeof(f_eth_tcp),
	    &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_int_eq(p.layer, PKT_IP);
	ck_assert(p.has_eth);
	ck_assert_mem_eq(p.dst_mac, dmac, 6);
	ck_assert_mem_eq(p.src_mac, smac, 6);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.vlan, 0);
	ck_assert_uint_eq(p.vlan_inner, 0);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_uint_eq(p.ttl, 64);
	ck_assert_mem_eq(p.src, ip4_10_0_0_1, 4);
	ck_assert_mem_eq(p.dst, ip4_10_0_0_2, 4);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert(!p.fragment);
	ck_assert(p.l3 == b + 14);
	ck_assert_uint_eq(p.l3_len, 46);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 49152);
	ck_assert_uint_eq(p.dport, 502);
	ck_assert_uint_eq(p.tcp_flags, PKT_TCP_PSH | PKT_TCP_ACK);
	ck_assert_uint_eq(p.tcp_seq, 0x01020304u);
	ck_assert_uint_eq(p.tcp_ack, 0x05060708u);
	ck_assert(p.payload == b + 54);
	ck_assert_uint_eq(p.payload_len, 6);
	ck_assert_uint_eq(p.caplen, 60);
	ck_assert_uint_eq(p.wirelen, 64);
	ck_assert(p.ts == 1700000000123456ull);
	free(b);
}
END_TEST

START_TEST(test_ipv4_options_udp)
{
	static const uint8_t src[4] = { 192, 168, 1, 10 };
	static const uint8_t dst[4] = { 192, 168, 1, 255 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_ipv4_opts_udp,
	    sizeof(f_ipv4_opts_udp), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_uint_eq(p.ttl, 1);
	ck_assert_mem_eq(p.src, src, 4);
	ck_assert_mem_eq(p.dst, dst, 4);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 5353);
	ck_assert_uint_eq(p.dport, 47808);
	/* the option is skipped: UDP starts at 14 + 24 */
	ck_assert(p.payload == b + 46);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.payload[0], 0x81);
	ck_assert_uint_eq(p.l3_len, 36);
	free(b);
}
END_TEST

START_TEST(test_vlan)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_vlan_udp, sizeof(f_vlan_udp),
	    &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_uint_eq(p.vlan, 100);
	ck_assert_uint_eq(p.vlan_inner, 0);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.ttl, 128);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 47808);
	ck_assert_uint_eq(p.dport, 47808);
	ck_assert(p.payload == b + 46);
	ck_assert_uint_eq(p.payload_len, 2);
	free(b);
}
END_TEST

START_TEST(test_qinq)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_qinq_tcp, sizeof(f_qinq_tcp),
	    &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_uint_eq(p.vlan, 200);
	ck_assert_uint_eq(p.vlan_inner, 300);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 102);
	ck_assert_uint_eq(p.tcp_flags, PKT_TCP_SYN);
	ck_assert_uint_eq(p.tcp_seq, 1);
	ck_assert(p.payload == b + 62);
	ck_assert_uint_eq(p.payload_len, 2);
	free(b);
}
END_TEST

START_TEST(test_arp)
{
	static const uint8_t sha[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
	static const uint8_t zero[6] = { 0 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_arp, sizeof(f_arp), &p, &why,
	    &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_int_eq(p.layer, PKT_ARP);
	ck_assert_uint_eq(p.ethertype, 0x0806);
	ck_assert_uint_eq(p.arp.op, 1);
	ck_assert_mem_eq(p.arp.sha, sha, 6);
	ck_assert_mem_eq(p.arp.spa, ip4_10_0_0_1, 4);
	ck_assert_mem_eq(p.arp.tha, zero, 6);
	ck_assert_mem_eq(p.arp.tpa, ip4_10_0_0_2, 4);
	ck_assert(!p.has_ports);
	free(b);
}
END_TEST

START_TEST(test_ipv6_hop_by_hop_udp)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_ipv6_hbh_udp,
	    sizeof(f_ipv6_hbh_udp), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_int_eq(p.layer, PKT_IP);
	ck_assert_uint_eq(p.ethertype, 0x86dd);
	ck_assert_uint_eq(p.af, 6);
	ck_assert_uint_eq(p.ttl, 64);
	ck_assert_mem_eq(p.src, ip6_db8_1, 16);
	ck_assert_mem_eq(p.dst, ip6_db8_2, 16);
	/* the hop-by-hop header is walked: the transport is UDP */
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert(!p.fragment);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 20000);
	ck_assert_uint_eq(p.dport, 20000);
	ck_assert(p.payload == b + 70);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.payload[1], 0x64);
	ck_assert(p.l3 == b + 14);
	ck_assert_uint_eq(p.l3_len, 60);
	free(b);
}
END_TEST

START_TEST(test_ipv6_fragment)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;
	int rc;

	rc = decode_copy(DLT_EN10MB, f_ipv6_frag, sizeof(f_ipv6_frag), &p, &why,
	    &b);
	/* counted, not reassembled, not an error */
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(why, DEC_IPV4_FRAGMENT);
	ck_assert_str_eq(decode_why_name(why), "ip_fragment");
	ck_assert_int_eq(p.layer, PKT_IP);
	ck_assert_uint_eq(p.af, 6);
	ck_assert(p.fragment);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert(!p.has_ports);
	ck_assert_mem_eq(p.src, ip6_db8_1, 16);
	free(b);
}
END_TEST

START_TEST(test_ipv6_atomic_fragment_decodes)
{
	uint8_t f[sizeof(f_ipv6_frag)];
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	/* offset 0 and M=0 (RFC 6946 atomic fragment): the whole datagram */
	memcpy(f, f_ipv6_frag, sizeof(f));
	f[56] = 0x00;
	f[57] = 0x00;		/* offset 0, M=0 */
	f[66] = 0x00;
	f[67] = 0x10;		/* UDP length 16 = 8 + 8 */
	ck_assert_int_eq(decode_copy(DLT_EN10MB, f, sizeof(f), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert(!p.fragment);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 53);
	ck_assert_uint_eq(p.payload_len, 8);
	ck_assert(p.payload == b + 70);
	free(b);
}
END_TEST

START_TEST(test_ipv4_fragment)
{
	uint8_t f[sizeof(f_ipv4_frag)];
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_ipv4_frag,
	    sizeof(f_ipv4_frag), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_IPV4_FRAGMENT);
	ck_assert(p.fragment);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert(!p.has_ports);
	ck_assert_mem_eq(p.src, ip4_10_0_0_1, 4);
	free(b);

	/* a later fragment: offset 185 (1480 bytes), no MF */
	memcpy(f, f_ipv4_frag, sizeof(f));
	f[20] = 0x00;
	f[21] = 0xb9;
	ck_assert_int_eq(decode_copy(DLT_EN10MB, f, sizeof(f), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_IPV4_FRAGMENT);
	ck_assert(p.fragment);
	ck_assert(!p.has_ports);
	free(b);
}
END_TEST

START_TEST(test_icmp)
{
	static const uint8_t dst[4] = { 10, 0, 0, 99 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_EN10MB, f_icmp, sizeof(f_icmp), &p,
	    &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_uint_eq(p.ip_proto, 1);
	ck_assert_uint_eq(p.ttl, 63);
	ck_assert_mem_eq(p.dst, dst, 4);
	ck_assert_uint_eq(p.icmp_type, 8);
	ck_assert_uint_eq(p.icmp_code, 0);
	ck_assert(!p.has_ports);
	ck_assert_uint_eq(p.sport, 0);
	ck_assert_uint_eq(p.dport, 0);
	ck_assert(p.payload + p.payload_len == b + sizeof(f_icmp));
	free(b);
}
END_TEST

START_TEST(test_linux_sll)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	static const uint8_t src[4] = { 192, 168, 0, 33 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_LINUX_SLL, f_sll_tcp,
	    sizeof(f_sll_tcp), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_mem_eq(p.src_mac, mac, 6);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_mem_eq(p.src, src, 4);
	ck_assert(p.l3 == b + 16);
	ck_assert(p.has_ports);
	ck_assert_uint_eq(p.sport, 49153);
	ck_assert_uint_eq(p.dport, 102);
	ck_assert_uint_eq(p.tcp_flags, PKT_TCP_FIN | PKT_TCP_ACK);
	ck_assert(p.payload == b + 56);
	ck_assert_uint_eq(p.payload_len, 4);
	free(b);
}
END_TEST

START_TEST(test_linux_sll2)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x43 };
	static const uint8_t src[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_LINUX_SLL2, f_sll2_tcp6,
	    sizeof(f_sll2_tcp6), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_mem_eq(p.src_mac, mac, 6);
	ck_assert_uint_eq(p.af, 6);
	ck_assert_uint_eq(p.ttl, 128);
	ck_assert_mem_eq(p.src, src, 16);
	ck_assert(p.l3 == b + 20);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.sport, 2404);
	ck_assert_uint_eq(p.dport, 50000);
	ck_assert_uint_eq(p.tcp_seq, 100);
	ck_assert_uint_eq(p.tcp_ack, 200);
	ck_assert(p.payload == b + 80);
	ck_assert_uint_eq(p.payload_len, 6);
	ck_assert_uint_eq(p.payload[0], 0x68);
	free(b);
}
END_TEST

START_TEST(test_raw_ip)
{
	static const uint8_t src[4] = { 192, 168, 250, 1 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_RAW, f_raw_udp, sizeof(f_raw_udp), &p,
	    &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert(!p.has_eth);
	ck_assert(p.l3 == b);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_mem_eq(p.src, src, 4);
	ck_assert_uint_eq(p.sport, 9600);
	ck_assert_uint_eq(p.dport, 9600);
	ck_assert(p.payload == b + 28);
	ck_assert_uint_eq(p.payload_len, 4);
	free(b);

	/* raw IPv6: the version nibble picks the decoder */
	ck_assert_int_eq(decode_copy(DLT_RAW, f_ipv6_hbh_udp + 14,
	    sizeof(f_ipv6_hbh_udp) - 14, &p, &why, &b), 0);
	ck_assert_uint_eq(p.af, 6);
	ck_assert_uint_eq(p.sport, 20000);
	ck_assert_uint_eq(p.payload_len, 4);
	free(b);
}
END_TEST

START_TEST(test_bsd_loopback)
{
	uint8_t f6[4 + sizeof(f_ipv6_hbh_udp) - 14];
	static const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(DLT_NULL, f_null_tcp, sizeof(f_null_tcp),
	    &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert(!p.has_eth);
	ck_assert(p.l3 == b + 4);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_mem_eq(p.src, lo, 4);
	ck_assert_uint_eq(p.sport, 54321);
	ck_assert_uint_eq(p.dport, 4840);
	ck_assert(p.payload == b + 44);
	ck_assert_uint_eq(p.payload_len, 4);
	free(b);

	/* AF_INET6 as macOS writes it (30), host order */
	f6[0] = 30;
	f6[1] = f6[2] = f6[3] = 0;
	memcpy(f6 + 4, f_ipv6_hbh_udp + 14, sizeof(f_ipv6_hbh_udp) - 14);
	ck_assert_int_eq(decode_copy(DLT_NULL, f6, sizeof(f6), &p, &why, &b), 0);
	ck_assert_uint_eq(p.af, 6);
	ck_assert_uint_eq(p.dport, 20000);
	free(b);

	/* AF_INET written big-endian by a capture from the other byte order */
	f6[0] = f6[1] = f6[2] = 0;
	f6[3] = 2;
	memcpy(f6 + 4, f_null_tcp + 4, sizeof(f_null_tcp) - 4);
	ck_assert_int_eq(decode_copy(DLT_NULL, f6, sizeof(f_null_tcp), &p, &why,
	    &b), 0);
	ck_assert_uint_eq(p.af, 4);
	ck_assert_uint_eq(p.dport, 4840);
	free(b);

	/* an unknown address family */
	f6[0] = 7;
	f6[3] = 0;
	ck_assert_int_eq(decode_copy(DLT_NULL, f6, sizeof(f_null_tcp), &p, &why,
	    &b), IDS_EMALFORMED);
	ck_assert_int_eq(why, DEC_BAD_LOOPBACK);
	free(b);
}
END_TEST

START_TEST(test_ethernet_padding_not_payload)
{
	uint8_t f[sizeof(f_eth_tcp) + 8];
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	/* 8 bytes of trailer after the IP datagram (short-frame padding) */
	memcpy(f, f_eth_tcp, sizeof(f_eth_tcp));
	memset(f + sizeof(f_eth_tcp), 0xee, 8);
	ck_assert_int_eq(decode_copy(DLT_EN10MB, f, sizeof(f), &p, &why, &b), 0);
	ck_assert_uint_eq(p.payload_len, 6);
	ck_assert_uint_eq(p.l3_len, 46);
	free(b);
}
END_TEST

START_TEST(test_non_ip_ethertype)
{
	uint8_t f[14 + 8];
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	/* GOOSE (0x88b8): link layer only, not an error */
	memcpy(f, f_eth_tcp, 12);
	f[12] = 0x88;
	f[13] = 0xb8;
	memset(f + 14, 0x01, 8);
	ck_assert_int_eq(decode_copy(DLT_EN10MB, f, sizeof(f), &p, &why, &b), 0);
	ck_assert_int_eq(why, DEC_OK);
	ck_assert_int_eq(p.layer, PKT_L2);
	ck_assert_uint_eq(p.ethertype, 0x88b8);
	ck_assert(p.payload == b + 14);
	ck_assert_uint_eq(p.payload_len, 8);
	ck_assert(!p.has_ports);
	free(b);
}
END_TEST

/*
 * decode.c takes the usual frame (untagged Ethernet, IPv4 without
 * options, TCP without SYN or UDP) in one pass of its own.  The same
 * frame with an 802.1Q tag goes the general way: both must decode to the
 * same struct pkt (but for the tag, the offsets and caplen), at every
 * capture length and with every value of each IPv4, TCP and UDP header
 * byte (total length, flags, fragment, protocol, data offset, UDP
 * length...).
 */
static unsigned
same_as_tagged(const uint8_t *frame, size_t len, size_t caplen)
{
	uint8_t u[128], t[132];
	struct pkt pu, pt;
	enum dec_why wu, wt;
	int ru, rt;

	ck_assert_uint_le(len, sizeof(u));
	memcpy(u, frame, len);
	memcpy(t, frame, 12);
	t[12] = 0x81;
	t[13] = 0x00;
	t[14] = 0x00;
	t[15] = 0x00;			/* VID 0: p.vlan stays 0 */
	memcpy(t + 16, frame + 12, len - 12);
	ru = decode_packet(DLT_EN10MB, u, (uint32_t)caplen, 1000, 77, &pu, &wu);
	rt = decode_packet(DLT_EN10MB, t, (uint32_t)caplen + 4, 1000, 77, &pt,
	    &wt);
	ck_assert_int_eq(ru, rt);
	ck_assert_int_eq(wu, wt);
	ck_assert_uint_eq(pu.caplen + 4, pt.caplen);
	ck_assert((pu.l3 == NULL && pt.l3 == NULL) ||
	    (pu.l3 - u) + 4 == pt.l3 - t);
	ck_assert((pu.payload == NULL && pt.payload == NULL) ||
	    (pu.payload - u) + 4 == pt.payload - t);
	pt.caplen = pu.caplen;
	pt.l3 = pu.l3;
	pt.payload = pu.payload;
	ck_assert_msg(memcmp(&pu, &pt, sizeof(pu)) == 0,
	    "caplen %zu: untagged and tagged decodes differ", caplen);
	return pu.layer == PKT_IP && pu.has_ports;
}

START_TEST(test_fast_path_same_as_general)
{
	static const struct {
		const uint8_t	*f;
		size_t		 len;
	} frames[] = {
		{ f_eth_tcp, sizeof(f_eth_tcp) },
		{ NULL, 0 },	/* f_vlan_udp without its tag, below */
	};
	uint8_t udp[64], m[64];
	size_t i, pos, len, n;
	unsigned v, ports = 0;

	memcpy(udp, f_vlan_udp, 12);
	memcpy(udp + 12, f_vlan_udp + 16, sizeof(f_vlan_udp) - 16);
	for (i = 0; i < 2; i++) {
		const uint8_t *f = i == 0 ? frames[0].f : udp;

		n = i == 0 ? frames[0].len : sizeof(f_vlan_udp) - 4;
		/* from a whole Ethernet header on (shorter: the tag's own errors) */
		for (len = 14; len <= n; len++)
			ports += same_as_tagged(f, n, len);
		/* every value of every IPv4 and transport header byte */
		for (pos = 14; pos < (i == 0 ? 14 + 20 + 20 : 14 + 20 + 8);
		    pos++)
			for (v = 0; v < 256; v++) {
				memcpy(m, f, n);
				m[pos] = (uint8_t)v;
				ports += same_as_tagged(m, n, n);
				ports += same_as_tagged(m, n, n - 1);
			}
	}
	/* the unchanged frames and most mutations did decode to ports */
	ck_assert_uint_gt(ports, 10000);
}
END_TEST

START_TEST(test_linktypes)
{
	ck_assert(decode_linktype_supported(DLT_EN10MB));
	ck_assert(decode_linktype_supported(DLT_LINUX_SLL));
	ck_assert(decode_linktype_supported(DLT_LINUX_SLL2));
	ck_assert(decode_linktype_supported(DLT_RAW));
	ck_assert(decode_linktype_supported(DLT_NULL));
	ck_assert(!decode_linktype_supported(147));	/* DLT_USER0 */
	ck_assert(!decode_linktype_supported(105));	/* 802.11 */
}
END_TEST

START_TEST(test_unsupported_linktype)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;

	ck_assert_int_eq(decode_copy(147, f_eth_tcp, sizeof(f_eth_tcp), &p,
	    &why, &b), IDS_ENOTSUP);
	ck_assert_int_ne(why, DEC_OK);
	free(b);
}
END_TEST

/* ---- malformed ---------------------------------------------------------- */

/* Decode a bad frame: it must fail with rc_want and no ports; the reason. */
static enum dec_why
bad_why(int dlt, const uint8_t *f, size_t len, int rc_want)
{
	struct pkt p;
	enum dec_why why;
	uint8_t *b;
	int rc;

	rc = decode_copy(dlt, f, len, &p, &why, &b);
	ck_assert_int_eq(rc, rc_want);
	ck_assert(!p.has_ports);
	free(b);
	return why;
}

START_TEST(test_bad_ihl)
{
	uint8_t f[sizeof(f_eth_tcp)];

	memcpy(f, f_eth_tcp, sizeof(f));
	f[14] = 0x44;			/* IHL 4 = 16 bytes < 20 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_IPV4);
	f[14] = 0x40;			/* IHL 0 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_IPV4);
}
END_TEST

START_TEST(test_bad_ipv4_version_and_total)
{
	uint8_t f[sizeof(f_eth_tcp)];

	memcpy(f, f_eth_tcp, sizeof(f));
	f[14] = 0x55;			/* version 5 under ethertype IPv4 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_IPV4);
	memcpy(f, f_eth_tcp, sizeof(f));
	f[16] = 0x00;
	f[17] = 0x10;			/* total length 16 < IHL 20 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_IPV4);
	/* DLT_RAW with neither 4 nor 6 in the version nibble */
	memcpy(f, f_raw_udp, sizeof(f_raw_udp));
	f[0] = 0x75;
	ck_assert_int_eq(bad_why(DLT_RAW, f, sizeof(f_raw_udp), IDS_EMALFORMED), DEC_BAD_IPV4);
}
END_TEST

START_TEST(test_bad_tcp_offset)
{
	uint8_t f[sizeof(f_eth_tcp)];

	memcpy(f, f_eth_tcp, sizeof(f));
	f[46] = 0x40;			/* data offset 4 = 16 bytes < 20 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_TCP);
	f[46] = 0x00;			/* data offset 0 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_TCP);
	f[46] = 0xf0;			/* 60 bytes > 26 bytes of IP payload */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_TCP);
}
END_TEST

START_TEST(test_bad_udp_length)
{
	uint8_t f[sizeof(f_vlan_udp)];

	memcpy(f, f_vlan_udp, sizeof(f));
	f[42] = 0x00;
	f[43] = 0x04;			/* UDP length 4 < 8 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_UDP);
	f[43] = 0x00;			/* UDP length 0 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_UDP);
	f[43] = 0x40;			/* 64 > 10 bytes of IP payload */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_UDP);
}
END_TEST

START_TEST(test_bad_arp)
{
	uint8_t f[sizeof(f_arp)];

	memcpy(f, f_arp, sizeof(f));
	f[15] = 0x06;			/* hardware type IEEE 802 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_ARP);
	memcpy(f, f_arp, sizeof(f));
	f[19] = 16;			/* protocol address length 16 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_ARP);
}
END_TEST

START_TEST(test_bad_ipv6_ext_chain)
{
	uint8_t f[sizeof(f_ipv6_hbh_udp)];

	memcpy(f, f_ipv6_hbh_udp, sizeof(f));
	f[55] = 10;			/* hop-by-hop length 88 > payload 20 */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f, sizeof(f), IDS_EMALFORMED), DEC_BAD_IPV6_EXT);
}
END_TEST

START_TEST(test_short_frames)
{
	/* a few fixed truncations with the counter each must land in */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_eth_tcp, 13, IDS_ETRUNC), DEC_TRUNC_LINK);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_vlan_udp, 16, IDS_ETRUNC), DEC_TRUNC_VLAN);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_qinq_tcp, 20, IDS_ETRUNC), DEC_TRUNC_VLAN);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_arp, 41, IDS_ETRUNC), DEC_TRUNC_ARP);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_eth_tcp, 33, IDS_ETRUNC), DEC_TRUNC_IPV4);
	/* IHL 6 but only 20 header bytes captured */
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_ipv4_opts_udp, 34, IDS_ETRUNC), DEC_TRUNC_IPV4);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_ipv6_hbh_udp, 53, IDS_ETRUNC), DEC_TRUNC_IPV6);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_eth_tcp, 53, IDS_ETRUNC), DEC_TRUNC_TCP);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_vlan_udp, 45, IDS_ETRUNC), DEC_TRUNC_UDP);
	ck_assert_int_eq(bad_why(DLT_EN10MB, f_icmp, 35, IDS_ETRUNC), DEC_TRUNC_ICMP);
	ck_assert_int_eq(bad_why(DLT_LINUX_SLL, f_sll_tcp, 15, IDS_ETRUNC), DEC_TRUNC_LINK);
	ck_assert_int_eq(bad_why(DLT_LINUX_SLL2, f_sll2_tcp6, 19, IDS_ETRUNC), DEC_TRUNC_LINK);
	ck_assert_int_eq(bad_why(DLT_NULL, f_null_tcp, 3, IDS_ETRUNC), DEC_TRUNC_LINK);
	ck_assert_int_eq(bad_why(DLT_RAW, f_raw_udp, 0, IDS_ETRUNC), DEC_TRUNC_LINK);
}
END_TEST

START_TEST(test_why_names)
{
	ck_assert_str_eq(decode_why_name(DEC_OK), "ok");
	ck_assert_str_eq(decode_why_name(DEC_TRUNC_LINK), "trunc_link");
	ck_assert_str_eq(decode_why_name(DEC_BAD_TCP), "bad_tcp");
	ck_assert_str_eq(decode_why_name(DEC_BAD_UDP), "bad_udp");
	ck_assert_str_eq(decode_why_name(DEC_BAD_LOOPBACK), "bad_loopback");
	ck_assert_str_eq(decode_why_name(DEC_NWHY), "unknown");
}
END_TEST

/* ---- every prefix ------------------------------------------------------- */

/*
 * Decode the first len bytes of fixture fx from an exact-size copy: the
 * result is a clean negative code, or a decode that stops before the
 * transport, or (once the transport header is whole) ports with a payload
 * that ends inside the copy.
 */
static int
check_prefix(const struct fixture *fx, size_t len)
{
	struct pkt p;
	enum dec_why why = DEC_NWHY;
	uint8_t *b = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(b);
	memcpy(b, fx->bytes, len);
	rc = decode_packet(fx->dlt, b, (uint32_t)len, (uint32_t)fx->len, 1, &p,
	    &why);
	ck_assert_msg(rc == 0 || rc == IDS_ETRUNC || rc == IDS_EMALFORMED,
	    "%s[0..%zu): rc %d", fx->name, len, rc);
	ck_assert_msg(rc == 0 || why != DEC_OK,
	    "%s[0..%zu): error %d without a reason", fx->name, len, rc);
	if (len < fx->link_len) {
		ck_assert_msg(rc == IDS_ETRUNC && why == DEC_TRUNC_LINK,
		    "%s[0..%zu): rc %d why %s, want trunc_link", fx->name, len,
		    rc, decode_why_name(why));
	}
	if (rc == 0 && p.layer == PKT_IP) {
		ck_assert(p.l3 >= b);
		ck_assert_msg(p.l3 + p.l3_len <= b + len,
		    "%s[0..%zu): l3_len %u past the end", fx->name, len,
		    p.l3_len);
	}
	if (rc == 0 && p.payload != NULL && p.payload_len > 0) {
		ck_assert(p.payload >= b);
		ck_assert_msg(p.payload + p.payload_len <= b + len,
		    "%s[0..%zu): payload_len %u past the end", fx->name, len,
		    p.payload_len);
	}
	if (p.has_ports) {
		ck_assert_int_eq(rc, 0);
		/* only once the whole transport header was captured */
		ck_assert_msg(fx->l4_end != 0 && len >= fx->l4_end,
		    "%s[0..%zu): ports from a cut transport header", fx->name,
		    len);
		ck_assert(p.payload == b + fx->l4_end);
		ck_assert_uint_eq(p.payload_len, len - fx->l4_end);
	} else if (fx->l4_end != 0 && len >= fx->l4_end) {
		ck_abort_msg("%s[0..%zu): whole transport header but no ports",
		    fx->name, len);
	}
	free(b);
	return rc;
}

#define PREFIX_TEST(i)						\
START_TEST(test_prefix_##i)					\
{								\
	ck_assert_int_le(check_prefix(&fixtures[i], (size_t)_i), 0);	\
}								\
END_TEST

PREFIX_TEST(0)
PREFIX_TEST(1)
PREFIX_TEST(2)
PREFIX_TEST(3)
PREFIX_TEST(4)
PREFIX_TEST(5)
PREFIX_TEST(6)
PREFIX_TEST(7)
PREFIX_TEST(8)
PREFIX_TEST(9)
PREFIX_TEST(10)
PREFIX_TEST(11)
PREFIX_TEST(12)

static Suite *
decode_suite(void)
{
	const TTest *prefix[] = {
		test_prefix_0, test_prefix_1, test_prefix_2, test_prefix_3,
		test_prefix_4, test_prefix_5, test_prefix_6, test_prefix_7,
		test_prefix_8, test_prefix_9, test_prefix_10, test_prefix_11,
		test_prefix_12,
	};
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("frames");
	TCase *bad = tcase_create("malformed");
	TCase *pre = tcase_create("prefixes");
	size_t i;

	tcase_add_test(tc, test_fixture_sizes);
	tcase_add_test(tc, test_eth_ipv4_tcp);
	tcase_add_test(tc, test_ipv4_options_udp);
	tcase_add_test(tc, test_vlan);
	tcase_add_test(tc, test_qinq);
	tcase_add_test(tc, test_arp);
	tcase_add_test(tc, test_ipv6_hop_by_hop_udp);
	tcase_add_test(tc, test_ipv6_fragment);
	tcase_add_test(tc, test_ipv6_atomic_fragment_decodes);
	tcase_add_test(tc, test_ipv4_fragment);
	tcase_add_test(tc, test_icmp);
	tcase_add_test(tc, test_linux_sll);
	tcase_add_test(tc, test_linux_sll2);
	tcase_add_test(tc, test_raw_ip);
	tcase_add_test(tc, test_bsd_loopback);
	tcase_add_test(tc, test_ethernet_padding_not_payload);
	tcase_add_test(tc, test_non_ip_ethertype);
	tcase_add_test(tc, test_linktypes);
	tcase_add_test(tc, test_fast_path_same_as_general);
	tcase_add_test(tc, test_unsupported_linktype);
	tcase_add_test(tc, test_why_names);
	suite_add_tcase(s, tc);

	tcase_add_test(bad, test_bad_ihl);
	tcase_add_test(bad, test_bad_ipv4_version_and_total);
	tcase_add_test(bad, test_bad_tcp_offset);
	tcase_add_test(bad, test_bad_udp_length);
	tcase_add_test(bad, test_bad_arp);
	tcase_add_test(bad, test_bad_ipv6_ext_chain);
	tcase_add_test(bad, test_short_frames);
	suite_add_tcase(s, bad);

	_Static_assert(sizeof(prefix) / sizeof(prefix[0]) == NFIX,
	    "one prefix test per fixture");
	for (i = 0; i < NFIX; i++)
		tcase_add_loop_test(pre, prefix[i], 0, (int)fixtures[i].len);
	suite_add_tcase(s, pre);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
