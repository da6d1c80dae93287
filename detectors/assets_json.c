/*
 * assets_json.c - an inventory entry (assets.c) as JSON: address, MAC and
 * its vendor, first/last seen, protocols by role, and the identity the
 * device gave (Modbus, EtherNet/IP, S7, BACnet, PROFINET, LLDP, IEC 61850).
 */
#include "detectors/assets_int.h"

#include <cJSON.h>
#include <stdio.h>

#include "detectors/inventory.h"
#include "dissectors/pndcp.h"
#include "dissectors/proto.h"

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v[0] != '\0')
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *
ident_json(const struct ident *id)
{
	static const char *const mb_names[MB_NOBJ] = { "vendor_name",
	    "product_code", "revision", "vendor_url", "product_name",
	    "model_name", "user_application_name" };
	static const char *const s7_names[12] = { NULL, "plc_name",
	    "module_name", "plant_id", "copyright", "serial_number", NULL,
	    "module_type", "memory_card_serial", "manufacturer", "oem_id",
	    "location" };
	cJSON *o = cJSON_CreateObject(), *p;
	char b[40];
	int i;

	if (id->has_mb) {
		p = cJSON_AddObjectToObject(o, "modbus");
		for (i = 0; i < MB_NOBJ; i++)
			add_str(p, mb_names[i], id->mb[i]);
	}
	if (id->has_enip) {
		p = cJSON_AddObjectToObject(o, "enip");
		cJSON_AddNumberToObject(p, "vendor_id", id->enip_vendor);
		cJSON_AddNumberToObject(p, "device_type", id->enip_type);
		cJSON_AddNumberToObject(p, "product_code", id->enip_product);
		snprintf(b, sizeof(b), "%u.%u", id->enip_rev_major, id->enip_rev_minor);
		cJSON_AddStringToObject(p, "revision", b);
		snprintf(b, sizeof(b), "0x%08x", id->enip_serial);
		cJSON_AddStringToObject(p, "serial_number", b);
		add_str(p, "product_name", id->enip_name);
		cJSON_AddNumberToObject(p, "status", id->enip_status);
		if (id->enip_has_state)
			cJSON_AddNumberToObject(p, "state", id->enip_state);
	}
	if (id->has_s7) {
		p = cJSON_AddObjectToObject(o, "s7comm");
		add_str(p, "order_number", id->s7_order);
		add_str(p, "firmware", id->s7_firmware);
		for (i = 1; i < 12; i++)
			if (s7_names[i] != NULL)
				add_str(p, s7_names[i], id->s7_comp[i]);
	}
	if (id->has_bacnet) {
		p = cJSON_AddObjectToObject(o, "bacnet");
		cJSON_AddNumberToObject(p, "device_instance", id->bac_instance);
		cJSON_AddNumberToObject(p, "vendor_id", id->bac_vendor);
		cJSON_AddNumberToObject(p, "max_apdu", id->bac_max_apdu);
		cJSON_AddNumberToObject(p, "segmentation", id->bac_segmentation);
	}
	if (id->has_pn) {
		p = cJSON_AddObjectToObject(o, "profinet");
		add_str(p, "name_of_station", id->pn_name);
		add_str(p, "type_of_station", id->pn_type);
		if (id->pn_has_id) {
			cJSON_AddNumberToObject(p, "vendor_id", id->pn_vendor_id);
			cJSON_AddNumberToObject(p, "device_id", id->pn_device_id);
		}
		if (id->pn_has_role)
			cJSON_AddStringToObject(p, "role",
			    pndcp_role_name(id->pn_role));
		if (id->pn_has_ip) {
			snprintf(b, sizeof(b), "%u.%u.%u.%u", id->pn_ip[0],
			    id->pn_ip[1], id->pn_ip[2], id->pn_ip[3]);
			cJSON_AddStringToObject(p, "ip", b);
		}
	}
	if (id->has_lldp) {
		p = cJSON_AddObjectToObject(o, "lldp");
		add_str(p, "chassis_id", id->lldp_chassis);
		add_str(p, "port_id", id->lldp_port);
		add_str(p, "port_description", id->lldp_port_desc);
		add_str(p, "system_name", id->lldp_sys_name);
		add_str(p, "system_description", id->lldp_sys_desc);
		add_str(p, "management_address", id->lldp_mgmt);
	}
	if (id->goose_ref[0] != '\0' || id->sv_id[0] != '\0') {
		p = cJSON_AddObjectToObject(o, "iec61850");
		add_str(p, "gocb_ref", id->goose_ref);
		add_str(p, "sv_id", id->sv_id);
	}
	return o;
}

cJSON *
inv_asset_json(const struct asset *a)
{
	cJSON *o = cJSON_CreateObject(), *p;
	char b[64];
	const char *v;
	int i;

	if (a->af != 0)
		cJSON_AddStringToObject(o, "ip",
		    inv_ip_text(a->af, a->ip, b, sizeof(b)));
	else
		cJSON_AddNullToObject(o, "ip");	/* seen on layer 2 only */
	if (a->has_mac) {
		snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", a->mac[0],
		    a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5]);
		cJSON_AddStringToObject(o, "mac", b);
		v = inv_oui_vendor(a->mac);
		if (v != NULL)
			cJSON_AddStringToObject(o, "vendor", v);
		else
			cJSON_AddNullToObject(o, "vendor");
		if (a->macs > 1)
			cJSON_AddNumberToObject(o, "macs_seen", a->macs);
	}
	inv_json_ts(o, "first_seen", a->first);
	inv_json_ts(o, "last_seen", a->last);
	p = cJSON_AddObjectToObject(o, "protocols");
	for (i = 1; i < ICS_NPROTO && i < 32; i++)
		inv_json_roles(p, ics_proto_name((enum ics_proto)i),
		    (a->cli >> i) & 1, (a->srv >> i) & 1);
	for (i = 0; i < inv_service_count(); i++)
		inv_json_roles(p, inv_service_name(i), (a->it_cli >> i) & 1,
		    (a->it_srv >> i) & 1);
	if (a->id != NULL)
		cJSON_AddItemToObject(o, "identity", ident_json(a->id));
	return o;
}
