/*
 * inventory.h - what the asset inventory (assets.c) shares with the
 * baseline (baseline.c): the IEEE OUI vendor table and the names of the IT
 * and remote-access services a flow may carry.
 */
#ifndef ICSENTRY_DETECTORS_INVENTORY_H
#define ICSENTRY_DETECTORS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct det_pdu;
struct flow;

/* Vendor of a MAC from Debian's ieee-data (NULL when unknown/absent). */
const char *inv_oui_vendor(const uint8_t *mac);
/* Reference-count the lazily loaded OUI table. */
void inv_oui_hold(void);
void inv_oui_drop(void);
/* Use another OUI file; 0, or -1 with one line in err. */
int inv_oui_set_path(const char *path, char *err, size_t errlen);

/* IT service of a flow (index), -1 if none; *reversed: server is cli. */
int inv_service(const struct flow *f, bool *reversed);
const char *inv_service_name(int svc);
bool inv_service_remote(int svc);	/* SSH, RDP, Telnet, VNC, SMB... */
int inv_service_by_name(const char *name);
int inv_service_count(void);

/* 0 client/master, 1 server/slave: the role of a PDU's sender. */
int inv_pdu_sender_role(const struct det_pdu *pdu);

/* JSON pieces both files write: an address, a time, a protocol's roles. */
const char *inv_ip_text(uint8_t af, const uint8_t *ip, char *buf, size_t len);
void inv_json_ts(struct cJSON *o, const char *k, uint64_t ts);
void inv_json_roles(struct cJSON *protos, const char *name, bool cli, bool srv);

#endif
