/*
 * lldp.h - LLDP parser (Link Layer Discovery Protocol, EtherType 0x88CC).
 *
 * Spec: IEEE 802.1AB-2016 8.4-8.5 (LLDPDU, basic TLVs), 8.5.9
 * (Management Address TLV).
 *
 * The bytes after the EtherType: a sequence of TLVs ending with End.
 *
 *   +-----------+-------------+---------------------+
 *   | type (7b) | length (9b) | value (length)      |
 *   +-----------+-------------+---------------------+
 *   0 End  1 Chassis ID  2 Port ID  3 TTL  (the first three, in order)
 *   4 Port Description  5 System Name  6 System Description
 *   7 System Capabilities (caps 2, enabled 2)
 *   8 Management Address: addr len(1) subtype(1) addr | if subtype(1)
 *     if number(4) | OID len(1) OID
 *   127 organisation specific (OUI 3, subtype 1, ...)
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer.
 */
#ifndef ICSENTRY_DISSECTORS_LLDP_H
#define ICSENTRY_DISSECTORS_LLDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLDP_ETHERTYPE		0x88CC

/* Chassis/port ID subtypes that are addresses rather than text. */
#define LLDP_CHASSIS_MAC	4
#define LLDP_CHASSIS_NETADDR	5
#define LLDP_PORT_MAC		3
#define LLDP_PORT_NETADDR	4

/* IANA address family numbers in a management address */
#define LLDP_AF_IPV4		1
#define LLDP_AF_IPV6		2

struct lldp_pdu {
	uint8_t		 chassis_subtype;
	const uint8_t	*chassis_id;	/* 1..255 octets */
	size_t		 chassis_id_len;
	uint8_t		 port_subtype;
	const uint8_t	*port_id;
	size_t		 port_id_len;
	uint16_t	 ttl;		/* seconds; 0 = shutdown */
	const uint8_t	*port_desc;	/* NULL when absent */
	size_t		 port_desc_len;
	const uint8_t	*sys_name;
	size_t		 sys_name_len;
	const uint8_t	*sys_desc;
	size_t		 sys_desc_len;
	bool		 has_caps;
	uint16_t	 caps;		/* 0x04 bridge, 0x10 router, 0x80 station */
	uint16_t	 caps_enabled;
	/* the first management address */
	bool		 has_mgmt;
	uint8_t		 mgmt_af;	/* LLDP_AF_* or another IANA number */
	uint8_t		 mgmt_addr[16];
	size_t		 mgmt_addr_len;	/* 1..31 on the wire, kept up to 16 */
	unsigned	 n_tlvs;
	size_t		 frame_len;	/* up to and including the End TLV */
};

/*
 * Parse an LLDPDU.  Returns 0, IDS_ETRUNC when the bytes end before the
 * End TLV, IDS_EMALFORMED when the first three TLVs are not Chassis ID,
 * Port ID and TTL, a TLV is shorter than its type needs, or one of those
 * three appears again, IDS_EINVAL on NULL out.  out is zeroed first.
 */
int lldp_parse(const uint8_t *p, size_t n, struct lldp_pdu *out);

#endif
