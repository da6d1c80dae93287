/*
 * assets_int.h - what assets.c (the inventory detector) and assets_json.c
 * (an entry as JSON) share; private to the two.
 */
#ifndef ICSENTRY_DETECTORS_ASSETS_INT_H
#define ICSENTRY_DETECTORS_ASSETS_INT_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;

#define INV_STR		64
#define MB_NOBJ		7

/* What devices say about themselves. */
struct ident {
	bool		has_mb;
	char		mb[MB_NOBJ][INV_STR];	/* Modbus objects 0..6 */
	bool		has_enip;
	uint16_t	enip_vendor, enip_type, enip_product, enip_status;
	uint8_t		enip_rev_major, enip_rev_minor;
	uint32_t	enip_serial;
	bool		enip_has_state;
	uint8_t		enip_state;
	char		enip_name[INV_STR];
	bool		has_s7;
	char		s7_order[INV_STR];
	char		s7_firmware[24];
	char		s7_comp[12][INV_STR];	/* SZL 0x1C by index 1..11 */
	bool		has_bacnet;
	uint32_t	bac_instance, bac_max_apdu;
	uint16_t	bac_vendor;
	uint8_t		bac_segmentation;
	/* PROFINET DCP Identify/Hello answer */
	bool		has_pn;
	char		pn_name[INV_STR], pn_type[INV_STR];
	bool		pn_has_id, pn_has_role, pn_has_ip;
	uint16_t	pn_vendor_id, pn_device_id;
	uint8_t		pn_role;
	uint8_t		pn_ip[4];
	/* LLDP: who the device says it is, on which port */
	bool		has_lldp;
	char		lldp_chassis[INV_STR], lldp_port[INV_STR];
	char		lldp_port_desc[INV_STR], lldp_sys_name[INV_STR];
	char		lldp_sys_desc[INV_STR], lldp_mgmt[48];
	/* IEC 61850: the first GOOSE control block / SV stream published */
	char		goose_ref[INV_STR], sv_id[INV_STR];
};

struct asset {
	uint8_t		 af;
	uint8_t		 ip[16];		/* key: af + ip (17 bytes) */
	bool		 has_mac;
	uint8_t		 mac[6];
	uint8_t		 macs;			/* distinct MACs seen (capped) */
	bool		 dirty;
	uint64_t	 first, last, published;
	uint32_t	 cli, srv;		/* ICS protocols (enum ics_proto bits) */
	uint32_t	 it_cli, it_srv;	/* IT services (services[] bits) */
	struct ident	*id;
};

#define ASSET_KLEN	17

/* The inventory entry of a as JSON (assets_json.c). */
struct cJSON *inv_asset_json(const struct asset *a);

#endif
