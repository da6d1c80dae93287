/*
 * decode.h - link, network and transport decoding (Ethernet, 802.1Q/QinQ,
 * Linux SLL/SLL2, raw IP, BSD loopback, ARP, IPv4, IPv6, TCP, UDP, ICMP).
 *
 * decode_packet() fills a struct pkt whose pointers borrow the caller's
 * bytes.  Every read is bounds-checked against caplen; a packet that ends
 * early or contradicts itself returns a negative code and names the layer
 * in *why so the statistics can count it by kind.
 */
#ifndef ICSENTRY_DISSECTORS_DECODE_H
#define ICSENTRY_DISSECTORS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a packet was not (fully) decoded: one statistics counter each. */
enum dec_why {
	DEC_OK = 0,
	DEC_TRUNC_LINK,		/* shorter than the link header */
	DEC_TRUNC_VLAN,
	DEC_TRUNC_ARP,
	DEC_BAD_ARP,		/* not Ethernet/IPv4 ARP */
	DEC_TRUNC_IPV4,
	DEC_BAD_IPV4,		/* version, IHL or total length wrong */
	DEC_IPV4_FRAGMENT,	/* counted, not reassembled */
	DEC_TRUNC_IPV6,
	DEC_BAD_IPV6_EXT,	/* extension header chain runs off the packet */
	DEC_TRUNC_TCP,
	DEC_BAD_TCP,		/* data offset < 5 or past the IP payload */
	DEC_TRUNC_UDP,
	DEC_BAD_UDP,		/* UDP length < 8 or past the IP payload */
	DEC_TRUNC_ICMP,
	DEC_BAD_LOOPBACK,	/* unknown address family in a DLT_NULL header */
	DEC_NWHY
};

/* Name of a dec_why counter for statistics ("trunc_ipv4"...). */
const char *decode_why_name(enum dec_why why);

enum pkt_layer {
	PKT_L2,		/* link layer only: non-IP ethertype (GOOSE, PROFINET...) */
	PKT_ARP,
	PKT_IP		/* IPv4 or IPv6; see ip_proto for the transport */
};

struct pkt_arp {
	uint16_t	op;		/* 1 request, 2 reply */
	uint8_t		sha[6];		/* sender MAC */
	uint8_t		spa[4];		/* sender IPv4 */
	uint8_t		tha[6];		/* target MAC */
	uint8_t		tpa[4];		/* target IPv4 */
};

struct pkt_memo;

struct pkt {
	uint64_t	 ts;		/* capture time, microseconds since epoch */
	uint32_t	 caplen, wirelen;
	enum pkt_layer	 layer;

	bool		 has_eth;	/* src/dst MAC are valid */
	uint8_t		 src_mac[6], dst_mac[6];
	uint16_t	 vlan;		/* outer 802.1Q VID, 0 = untagged */
	uint16_t	 vlan_inner;	/* inner VID of QinQ, 0 = none */
	uint16_t	 ethertype;	/* after VLAN tags */

	struct pkt_arp	 arp;		/* layer == PKT_ARP */

	/* layer == PKT_IP */
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 ttl;		/* TTL / hop limit */
	uint16_t	 ip_id;		/* IPv4 identification (0 for IPv6) */
	uint8_t		 src[16], dst[16];	/* IPv4 uses the first 4 bytes */
	uint8_t		 ip_proto;	/* 6 TCP, 17 UDP, 1/58 ICMP, other */
	const uint8_t	*l3;		/* IP header, for nDPI */
	uint32_t	 l3_len;	/* IP header + payload within caplen */
	bool		 fragment;	/* IPv4/IPv6 fragment: no transport decoded */

	bool		 has_ports;	/* TCP or UDP decoded */
	uint16_t	 sport, dport;
	uint8_t		 tcp_flags;	/* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint32_t	 tcp_seq, tcp_ack;
	uint16_t	 tcp_win;	/* window field as sent (unscaled) */
	uint32_t	 tcp_optsig;	/* SYN only: options layout, MSS, wscale */
	uint8_t		 icmp_type, icmp_code;

	const uint8_t	*payload;	/* transport payload (captured part) */
	uint32_t	 payload_len;

	/* what is computed once per packet (seghash.h); NULL: nothing kept */
	struct pkt_memo	*memo;
};

#define PKT_TCP_FIN	0x01
#define PKT_TCP_SYN	0x02
#define PKT_TCP_RST	0x04
#define PKT_TCP_PSH	0x08
#define PKT_TCP_ACK	0x10

/* Does p travel from or to port? */
static inline bool
pkt_on_port(const struct pkt *p, uint16_t port)
{
	return p->sport == port || p->dport == port;
}

/* Does p's payload start with a whole or partial frame per frame_len? */
static inline bool
pkt_frames(const struct pkt *p, int (*frame_len)(const uint8_t *, size_t,
    size_t *))
{
	size_t len;

	return frame_len(p->payload, p->payload_len, &len) == 0;
}

/* Is this libpcap DLT value one decode_packet() handles? */
bool decode_linktype_supported(int dlt);

/*
 * Decode one captured frame of link type dlt (a pcap_datalink() value).
 * Returns 0 with *p filled (at least through p->layer), or a negative
 * IDS_ETRUNC / IDS_EMALFORMED / IDS_ENOTSUP with *why saying which layer.
 * A non-IP ethertype is not an error (layer PKT_L2).  p borrows data.
 */
int decode_packet(int dlt, const uint8_t *data, uint32_t caplen,
    uint32_t wirelen, uint64_t ts, struct pkt *p, enum dec_why *why);

#endif
