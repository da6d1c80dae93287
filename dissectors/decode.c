/*
 * decode.c - link/network/transport decoding.
 * References: IEEE 802.3 / 802.1Q, RFC 826 (ARP), RFC 791 (IPv4),
 * RFC 8200 (IPv6), RFC 9293 (TCP), RFC 768 (UDP), tcpdump's
 * LINKTYPE_LINUX_SLL / LINUX_SLL2 / NULL / LOOP descriptions.
 */
#include "dissectors/decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/rd.h"
#include "lib/zero.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif

#define ETH_IPV4	0x0800
#define ETH_ARP		0x0806
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_QINQ_OLD	0x9100
#define ETH_IPV6	0x86dd

static const char *const why_names[DEC_NWHY] = {
	[DEC_OK] = "ok",
	[DEC_TRUNC_LINK] = "trunc_link",
	[DEC_TRUNC_VLAN] = "trunc_vlan",
	[DEC_TRUNC_ARP] = "trunc_arp",
	[DEC_BAD_ARP] = "bad_arp",
	[DEC_TRUNC_IPV4] = "trunc_ipv4",
	[DEC_BAD_IPV4] = "bad_ipv4",
	[DEC_IPV4_FRAGMENT] = "ip_fragment",
	[DEC_TRUNC_IPV6] = "trunc_ipv6",
	[DEC_BAD_IPV6_EXT] = "bad_ipv6_ext",
	[DEC_TRUNC_TCP] = "trunc_tcp",
	[DEC_BAD_TCP] = "bad_tcp",
	[DEC_TRUNC_UDP] = "trunc_udp",
	[DEC_BAD_UDP] = "bad_udp",
	[DEC_TRUNC_ICMP] = "trunc_icmp",
	[DEC_BAD_LOOPBACK] = "bad_loopback",
};

const char *
decode_why_name(enum dec_why why)
{
	if ((unsigned)why >= DEC_NWHY)
		return "unknown";
	return why_names[why];
}

bool
decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	}
	/* LINKTYPE_RAW (101) is mapped to DLT_RAW by libpcap, but be safe */
	return dlt == 101;
}

static int
fail(enum dec_why *why, enum dec_why w, int rc)
{
	*why = w;
	return rc;
}

/*
 * Fixed-offset reads for headers already known to be captured whole (the
 * common case): the same values the rd.h reads give, without a bounds
 * check per field.  Anything shorter takes the rd.h path.
 */
static inline uint16_t
get_be16(const uint8_t *b)
{
	return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline uint32_t
get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/*
 * A SYN's options as one number: the kinds in their order, with the MSS
 * and window scale values.  Stacks differ here (and in TTL and window)
 * while the bytes an impersonator cares about are the same, so it is
 * part of a sending stack's fingerprint.  0 = no options.
 */
static uint32_t
syn_options(const struct rd *r, size_t doff)
{
	struct rd o = *r;
	uint32_t h = 0;
	size_t n = doff - 20;
	uint8_t kind, len;

	if (!rd_skip(&o, 20) || rd_left(&o) < n)
		return 0;
	while (n > 0) {
		kind = rd_u8(&o);
		n--;
		h = h * 31 + kind + 1;
		if (kind == 0)
			break;
		if (kind == 1)
			continue;
		if (n == 0)
			break;
		len = rd_u8(&o);
		n--;
		if (len < 2 || (size_t)(len - 2) > n)
			break;
		if (kind == 2 && len == 4)
			h = h * 31 + rd_be16(&o);
		else if (kind == 3 && len == 3)
			h = h * 31 + rd_u8(&o);
		else
			rd_skip(&o, (size_t)len - 2);
		n -= (size_t)len - 2;
	}
	return h;
}

/*
 * TCP / UDP / ICMP on top of an IP payload of exactly len bytes (the
 * captured part may be shorter: r holds what was captured).
 */
static int
decode_transport(struct rd *r, size_t iplen, struct pkt *p, enum dec_why *why)
{
	struct rd hdr;
	size_t cap = rd_left(r), doff, ulen;
	uint8_t b;

	switch (p->ip_proto) {
	case 6:
		/*
		 *  0      2      4          8          12   13     14
		 * +------+------+----------+----------+----+------+-----+--
		 * |sport |dport | seq      | ack      |doff|flags |win..|
		 */
		if (cap >= 16) {
			const uint8_t *t = rd_ptr(r);

			p->sport = get_be16(t);
			p->dport = get_be16(t + 2);
			p->tcp_seq = get_be32(t + 4);
			p->tcp_ack = get_be32(t + 8);
			b = t[12];
			p->tcp_flags = t[13] & 0x3f;
			p->tcp_win = get_be16(t + 14);
		} else {
			hdr = *r;
			p->sport = rd_be16(&hdr);
			p->dport = rd_be16(&hdr);
			p->tcp_seq = rd_be32(&hdr);
			p->tcp_ack = rd_be32(&hdr);
			b = rd_u8(&hdr);
			p->tcp_flags = rd_u8(&hdr) & 0x3f;
			p->tcp_win = rd_be16(&hdr);
			if (hdr.err)
				return fail(why, DEC_TRUNC_TCP, IDS_ETRUNC);
		}
		doff = (size_t)(b >> 4) * 4;
		if (doff < 20 || doff > iplen)
			return fail(why, DEC_BAD_TCP, IDS_EMALFORMED);
		if (p->tcp_flags & 0x02)
			p->tcp_optsig = syn_options(r, doff);
		if (!rd_skip(r, doff))
			return fail(why, DEC_TRUNC_TCP, IDS_ETRUNC);
		p->has_ports = true;
		p->payload = rd_ptr(r);
		/* payload is what IP says minus the header, clipped to capture */
		ulen = iplen - doff;
		p->payload_len = (uint32_t)(ulen < cap - doff ? ulen : cap - doff);
		return 0;
	case 17:
		if (cap >= 8) {
			const uint8_t *u = rd_ptr(r);

			p->sport = get_be16(u);
			p->dport = get_be16(u + 2);
			ulen = get_be16(u + 4);
			rd_skip(r, 8);
		} else {
			hdr = *r;
			p->sport = rd_be16(&hdr);
			p->dport = rd_be16(&hdr);
			ulen = rd_be16(&hdr);
			if (hdr.err || !rd_skip(r, 8))
				return fail(why, DEC_TRUNC_UDP, IDS_ETRUNC);
		}
		if (ulen < 8 || ulen > iplen)
			return fail(why, DEC_BAD_UDP, IDS_EMALFORMED);
		p->has_ports = true;
		p->payload = rd_ptr(r);
		ulen -= 8;
		p->payload_len = (uint32_t)(ulen < cap - 8 ? ulen : cap - 8);
		return 0;
	case 1:
	case 58:
		p->icmp_type = rd_u8(r);
		p->icmp_code = rd_u8(r);
		if (r->err)
			return fail(why, DEC_TRUNC_ICMP, IDS_ETRUNC);
		p->payload = rd_ptr(r);
		p->payload_len = (uint32_t)rd_left(r);
		return 0;
	default:
		p->payload = rd_ptr(r);
		p->payload_len = (uint32_t)rd_left(r);
		return 0;
	}
}

static int
decode_ipv4(struct rd *r, struct pkt *p, enum dec_why *why)
{
	struct rd hdr = *r, ip;
	uint8_t vihl;
	uint16_t total, frag;
	size_t ihl, cap = rd_left(r);

	/*
	 * +-------+-------+-------+-------+-----+-----+-----+-------+
	 * |ver/ihl| tos   |total length   |id   |flags/frag |ttl|proto|cksum|src|dst
	 */
	p->l3 = rd_ptr(r);
	if (cap >= 20) {
		const uint8_t *h = rd_ptr(r);

		vihl = h[0];
		total = get_be16(h + 2);
		p->ip_id = get_be16(h + 4);
		frag = get_be16(h + 6);
		p->ttl = h[8];
		p->ip_proto = h[9];
		memcpy(p->src, h + 12, 4);
		memcpy(p->dst, h + 16, 4);
	} else {
		vihl = rd_u8(&hdr);
		rd_skip(&hdr, 1);
		total = rd_be16(&hdr);
		p->ip_id = rd_be16(&hdr);
		frag = rd_be16(&hdr);
		p->ttl = rd_u8(&hdr);
		p->ip_proto = rd_u8(&hdr);
		rd_skip(&hdr, 2);
		rd_copy(&hdr, p->src, 4);
		rd_copy(&hdr, p->dst, 4);
		if (hdr.err)
			return fail(why, DEC_TRUNC_IPV4, IDS_ETRUNC);
	}
	ihl = (size_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < 20 || total < ihl)
		return fail(why, DEC_BAD_IPV4, IDS_EMALFORMED);
	p->af = 4;
	p->layer = PKT_IP;
	/* a capture may lack the tail (snaplen) but not the IP options */
	if (ihl > cap)
		return fail(why, DEC_TRUNC_IPV4, IDS_ETRUNC);
	p->l3_len = (uint32_t)(total < cap ? total : cap);
	if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) {
		p->fragment = true;
		return fail(why, DEC_IPV4_FRAGMENT, 0);
	}
	rd_init(&ip, r->p, p->l3_len);
	rd_skip(&ip, ihl);
	return decode_transport(&ip, (size_t)total - ihl, p, why);
}

static int
decode_ipv6(struct rd *r, struct pkt *p, enum dec_why *why)
{
	struct rd hdr = *r, ip;
	uint16_t plen;
	uint8_t nh, hl, extlen;
	size_t cap = rd_left(r), used = 0;
	int hops;

	p->l3 = rd_ptr(r);
	if ((rd_peek(&hdr, 0) >> 4) != 6 && rd_left(&hdr) >= 1)
		return fail(why, DEC_TRUNC_IPV6, IDS_EMALFORMED);
	rd_skip(&hdr, 4);
	plen = rd_be16(&hdr);
	nh = rd_u8(&hdr);
	hl = rd_u8(&hdr);
	rd_copy(&hdr, p->src, 16);
	rd_copy(&hdr, p->dst, 16);
	if (hdr.err)
		return fail(why, DEC_TRUNC_IPV6, IDS_ETRUNC);
	p->af = 6;
	p->ttl = hl;
	p->layer = PKT_IP;
	p->l3_len = (uint32_t)(40u + plen < cap ? 40u + plen : cap);
	rd_init(&ip, hdr.p, p->l3_len - 40u);
	/* walk extension headers: hop-by-hop 0, routing 43, frag 44, dst 60 */
	for (hops = 0; hops < 8; hops++) {
		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			uint8_t next = rd_u8(&ip);

			extlen = rd_u8(&ip);
			/* AH (51) counts 4-octet units minus 2; others 8-octet minus 1 */
			size_t len = nh == 51 ? ((size_t)extlen + 2) * 4 :
			    ((size_t)extlen + 1) * 8;
			if (ip.err || !rd_skip(&ip, len - 2))
				return fail(why, DEC_BAD_IPV6_EXT, IDS_EMALFORMED);
			used += len;
			nh = next;
		} else if (nh == 44) {
			uint8_t next = rd_u8(&ip);
			uint16_t off;

			rd_skip(&ip, 1);
			off = rd_be16(&ip);
			rd_skip(&ip, 4);
			if (ip.err)
				return fail(why, DEC_BAD_IPV6_EXT, IDS_EMALFORMED);
			used += 8;
			nh = next;
			if ((off & 0xfff9) != 0) {	/* offset != 0 or M flag */
				p->fragment = true;
				p->ip_proto = nh;
				return fail(why, DEC_IPV4_FRAGMENT, 0);
			}
		} else
			break;
	}
	p->ip_proto = nh;
	if (used > plen)
		return fail(why, DEC_BAD_IPV6_EXT, IDS_EMALFORMED);
	return decode_transport(&ip, (size_t)plen - used, p, why);
}

static int
decode_ether_payload(struct rd *r, uint16_t type, struct pkt *p,
    enum dec_why *why)
{
	int tags = 0;

	/* 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 */
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		uint16_t tci = rd_be16(r);

		type = rd_be16(r);
		if (r->err)
			return fail(why, DEC_TRUNC_VLAN, IDS_ETRUNC);
		if (tags == 0)
			p->vlan = tci & 0x0fff;
		else if (tags == 1)
			p->vlan_inner = tci & 0x0fff;
		if (++tags > 4)
			break;
	}
	p->ethertype = type;
	switch (type) {
	case ETH_IPV4:
		return decode_ipv4(r, p, why);
	case ETH_IPV6:
		return decode_ipv6(r, p, why);
	case ETH_ARP: {
		uint16_t htype = rd_be16(r), ptype = rd_be16(r);
		uint8_t hlen = rd_u8(r), plen = rd_u8(r);

		p->arp.op = rd_be16(r);
		rd_copy(r, p->arp.sha, 6);
		rd_copy(r, p->arp.spa, 4);
		rd_copy(r, p->arp.tha, 6);
		rd_copy(r, p->arp.tpa, 4);
		if (r->err)
			return fail(why, DEC_TRUNC_ARP, IDS_ETRUNC);
		if (htype != 1 || ptype != ETH_IPV4 || hlen != 6 || plen != 4)
			return fail(why, DEC_BAD_ARP, IDS_EMALFORMED);
		p->layer = PKT_ARP;
		return 0;
	}
	default:
		p->layer = PKT_L2;
		p->payload = rd_ptr(r);
		p->payload_len = (uint32_t)rd_left(r);
		return 0;
	}
}

/*
 * The usual frame in one pass: untagged Ethernet, IPv4 without options,
 * not a fragment, a TCP segment without SYN or a UDP datagram, headers
 * captured whole.  Everything is checked before p is written; false
 * leaves p as it was and decode_packet takes the general path, which
 * gives the same struct pkt for these frames (check_decode compares).
 */
static inline bool
fast_ether_ipv4(const uint8_t *data, uint32_t caplen, struct pkt *p)
{
	const uint8_t *h = data + 14, *t = h + 20;
	uint32_t cap, total, tcap, iplen, doff, ulen;

	if (caplen < 14 + 20 + 8 || get_be16(data + 12) != ETH_IPV4 ||
	    h[0] != 0x45 || (get_be16(h + 6) & 0x3fff) != 0)
		return false;
	total = get_be16(h + 2);
	if (total < 20)
		return false;
	cap = caplen - 14;
	if (total < cap)
		cap = total;		/* l3_len */
	tcap = cap - 20;		/* transport bytes captured */
	iplen = total - 20;		/* transport bytes IP says */
	if (h[9] == 6) {
		if (tcap < 20 || (t[13] & 0x02) != 0)
			return false;
		doff = (uint32_t)(t[12] >> 4) * 4;
		if (doff < 20 || doff > iplen || doff > tcap)
			return false;
		p->tcp_seq = get_be32(t + 4);
		p->tcp_ack = get_be32(t + 8);
		p->tcp_flags = t[13] & 0x3f;
		p->tcp_win = get_be16(t + 14);
	} else if (h[9] == 17) {
		if (tcap < 8)
			return false;
		ulen = get_be16(t + 4);
		if (ulen < 8 || ulen > iplen)
			return false;
		doff = 8;
		iplen = ulen;
	} else
		return false;
	memcpy(p->dst_mac, data, 6);
	memcpy(p->src_mac, data + 6, 6);
	p->has_eth = true;
	p->ethertype = ETH_IPV4;
	p->l3 = h;
	p->ip_id = get_be16(h + 4);
	p->ttl = h[8];
	p->ip_proto = h[9];
	memcpy(p->src, h + 12, 4);
	memcpy(p->dst, h + 16, 4);
	p->af = 4;
	p->layer = PKT_IP;
	p->l3_len = cap;
	p->sport = get_be16(t);
	p->dport = get_be16(t + 2);
	p->has_ports = true;
	p->payload = t + doff;
	p->payload_len = iplen - doff < tcap - doff ? iplen - doff :
	    tcap - doff;
	return true;
}

/* Every other frame, p zeroed with its times and lengths set. */
static __attribute__((noinline)) int
decode_general(int dlt, const uint8_t *data, uint32_t caplen, struct pkt *p,
    enum dec_why *why)
{
	struct rd r;
	uint16_t type;
	uint32_t fam;
	uint8_t v;

	rd_init(&r, data, caplen);
	switch (dlt) {
	case DLT_EN10MB:
		if (rd_left(&r) >= 14) {
			memcpy(p->dst_mac, data, 6);
			memcpy(p->src_mac, data + 6, 6);
			type = get_be16(data + 12);
			rd_skip(&r, 14);
		} else {
			rd_copy(&r, p->dst_mac, 6);
			rd_copy(&r, p->src_mac, 6);
			type = rd_be16(&r);
			if (r.err)
				return fail(why, DEC_TRUNC_LINK, IDS_ETRUNC);
		}
		p->has_eth = true;
		if (type <= 1500) {	/* 802.3 length field: LLC, not IP */
			p->ethertype = 0;
			p->payload = rd_ptr(&r);
			p->payload_len = (uint32_t)rd_left(&r);
			return 0;
		}
		return decode_ether_payload(&r, type, p, why);
	case DLT_LINUX_SLL:
		/* type(2) arphrd(2) addrlen(2) addr(8) protocol(2) */
		rd_skip(&r, 6);
		rd_copy(&r, p->src_mac, 6);
		rd_skip(&r, 2);
		type = rd_be16(&r);
		if (r.err)
			return fail(why, DEC_TRUNC_LINK, IDS_ETRUNC);
		return decode_ether_payload(&r, type, p, why);
	case DLT_LINUX_SLL2:
		/* protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) alen(1) addr(8) */
		type = rd_be16(&r);
		rd_skip(&r, 10);
		rd_copy(&r, p->src_mac, 6);
		rd_skip(&r, 2);
		if (r.err)
			return fail(why, DEC_TRUNC_LINK, IDS_ETRUNC);
		return decode_ether_payload(&r, type, p, why);
	case DLT_NULL:
	case DLT_LOOP:
		/* 4-byte address family: host order for NULL, network for LOOP */
		fam = dlt == DLT_LOOP ? rd_be32(&r) : rd_le32(&r);
		if (r.err)
			return fail(why, DEC_TRUNC_LINK, IDS_ETRUNC);
		if (dlt == DLT_NULL && fam > 0xffff)	/* written big-endian */
			fam = (fam >> 24) | ((fam >> 8) & 0xff00);
		if (fam == 2)
			return decode_ether_payload(&r, ETH_IPV4, p, why);
		/* AF_INET6 is 24 (BSD), 28 (FreeBSD), 30 (macOS), 10 (Linux) */
		if (fam == 24 || fam == 28 || fam == 30 || fam == 10)
			return decode_ether_payload(&r, ETH_IPV6, p, why);
		return fail(why, DEC_BAD_LOOPBACK, IDS_EMALFORMED);
	case DLT_RAW:
	case 101:
	case DLT_IPV4:
	case DLT_IPV6:
		v = rd_peek(&r, 0) >> 4;
		if (rd_left(&r) == 0)
			return fail(why, DEC_TRUNC_LINK, IDS_ETRUNC);
		if (v == 4)
			return decode_ether_payload(&r, ETH_IPV4, p, why);
		if (v == 6)
			return decode_ether_payload(&r, ETH_IPV6, p, why);
		return fail(why, DEC_BAD_IPV4, IDS_EMALFORMED);
	}
	return fail(why, DEC_TRUNC_LINK, IDS_ENOTSUP);
}

int
decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
    uint64_t ts, struct pkt *p, enum dec_why *why)
{
	zero_fixed(p, sizeof(*p));
	p->ts = ts;
	p->caplen = caplen;
	p->wirelen = wirelen;
	p->layer = PKT_L2;
	*why = DEC_OK;
	/* the usual frame keeps to this function's small frame */
	if (dlt == DLT_EN10MB && fast_ether_ipv4(data, caplen, p))
		return 0;
	return decode_general(dlt, data, caplen, p, why);
}
