/*
 * assets.c - passive asset inventory: every host seen sending, with its
 * MAC, the vendor of the MAC's OUI (Debian's ieee-data), the protocols it
 * speaks and in which role, first/last seen, and what the traffic reveals
 * about the device itself:
 *
 *   Modbus 43/14 Read Device Identification responses (VendorName,
 *     ProductCode, MajorMinorRevision, VendorUrl, ProductName, ModelName)
 *   EtherNet/IP ListIdentity responses (vendor id, device type, product
 *     code, revision, status, serial number, product name, state)
 *   S7comm SZL 0x0011 module identification (order number, firmware) and
 *     0x001C component identification (PLC/module name, serial...),
 *     reassembling responses split over several userdata PDUs
 *   BACnet I-Am (device instance, vendor id, max APDU, segmentation)
 *
 * [detector.assets] out = FILE|- writes the inventory as JSON at the end
 * of the run; each entry is also published with det_publish_asset() when
 * it changes (new host, role, identity or MAC), at most once a second of
 * capture time per entry, never per packet.
 *
 * The OUI vendor table and the IT service names it shares with the
 * baseline are inventory.c.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/bacnet.h"
#include "dissectors/decode.h"
#include "detectors/assets_int.h"
#include "detectors/detector.h"
#include "dissectors/enip.h"
#include "dissectors/flow.h"
#include "lib/atomic.h"
#include "dissectors/goose.h"
#include "dissectors/lldp.h"
#include "dissectors/pndcp.h"
#include "dissectors/sv.h"
#include "lib/ids.h"
#include "detectors/inventory.h"
#include "lib/htab.h"
#include "lib/ipmap.h"
#include "lib/rfc3339.h"
#include "dissectors/modbus.h"
#include "dissectors/s7comm.h"

/* ---- the inventory ------------------------------------------------------- */

#define S7_FRAG_MAX	2048

/* Reassembly of an S7 SZL response split over several userdata PDUs. */
struct s7frag {
	uint8_t		ref;
	uint16_t	len;
	uint8_t		buf[S7_FRAG_MAX];
};

/* Last assets of a few flows, so a PDU costs no hash lookup. */
#define FCACHE		1024
struct fcache {
	uint64_t	flow_id;
	uint32_t	a[2];		/* asset index + 1 of flow cli, flow srv */
};

struct inv_state {
	struct htab	 t;		/* key: af + ip, at offset 0 */
	char		 out[1024];
	uint32_t	 max_ident, nident;
	uint64_t	 dropped, ident_dropped;
	uint64_t	 republish_us, next_sweep;
	uint32_t	*dirty;		/* indexes of dirty entries */
	uint32_t	 ndirty, dirty_cap;
	struct ipmap	*frags;		/* flow id -> struct s7frag */
	struct fcache	 fc[FCACHE];
};

static const struct cfg_key keys[] = {
	{ "out", CFG_STR, NULL, 0, 0,
	  "write the inventory as JSON to this file at the end ('-' = stdout)" },
	{ "oui_file", CFG_STR, NULL, 0, 0,
	  "IEEE OUI registry (oui.txt or oui.csv); default /usr/share/ieee-data/oui.txt, then oui.csv" },
	{ "max_assets", CFG_INT, "65536", 16, 10000000,
	  "hosts kept; beyond it new hosts are counted as dropped" },
	{ "max_identities", CFG_INT, "4096", 0, 1000000,
	  "hosts whose device identification is kept" },
	{ "republish", CFG_DOUBLE, "3600", 0, 864000,
	  "seconds after which an unchanged entry is published again with its last_seen (0: only on change)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* The table (lib/htab.h): entries never move index, never evicted. */
static inline struct asset *
asset_at(const struct htab *t, uint32_t i)
{
	return htab_at(t, i);
}

static char inv_err[700];

static int
inv_init_inner(const struct cfg *c, const char *sec, void **state)
{
	struct inv_state *s;

	inv_err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return IDS_ENOMEM;
	if (inv_oui_set_path(cfg_str(c, sec, "oui_file"), inv_err,
	    sizeof(inv_err)) != 0) {
		free(s);
		return IDS_EIO;
	}
	inv_oui_hold();
	snprintf(s->out, sizeof(s->out), "%s", cfg_str(c, sec, "out"));
	htab_init(&s->t, sizeof(struct asset), ASSET_KLEN,
	    (uint32_t)cfg_int(c, sec, "max_assets"));
	s->max_ident = (uint32_t)cfg_int(c, sec, "max_identities");
	s->republish_us = (uint64_t)(cfg_double(c, sec, "republish") * 1e6);
	*state = s;
	/* no inventory file and no MQTT to publish it on: nothing to do */
	return s->out[0] == '\0' && cfg_str(c, "mqtt", "uri")[0] == '\0' ?
	    DET_INACTIVE : 0;
}

static void
inv_destroy(void *state)
{
	struct inv_state *s = state;
	uint32_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->t.n; i++)
		free(asset_at(&s->t, i)->id);
	htab_free(&s->t);
	free(s->dirty);
	ipmap_free(s->frags);
	free(s);
	inv_oui_drop();
}

static void
mark_dirty(struct inv_state *s, struct asset *a)
{
	uint32_t *nd, c;

	if (a->dirty)
		return;
	if (s->ndirty == s->dirty_cap) {
		c = s->dirty_cap ? s->dirty_cap * 2 : 64;
		if ((nd = realloc(s->dirty, c * sizeof(*nd))) == NULL)
			return;		/* published at the next change */
		s->dirty = nd;
		s->dirty_cap = c;
	}
	a->dirty = true;
	s->dirty[s->ndirty++] = htab_index(&s->t, a);
}

static bool
unspecified(uint8_t af, const uint8_t *ip)
{
	static const uint8_t zero[16];

	/* af 0: a layer-2 asset keyed by its MAC; a group MAC is no device */
	if (af == 0)
		return memcmp(ip, zero, 6) == 0 || (ip[0] & 0x01) != 0;
	return memcmp(ip, zero, af == 6 ? 16 : 4) == 0;
}

/* A MAC worth keeping: loopback and some tunnels carry 00:00:00:00:00:00. */
static bool
real_mac(const struct flow_endpoint *e)
{
	static const uint8_t zero[6];

	return e->has_mac && memcmp(e->mac, zero, 6) != 0;
}

/* The asset of one side of a flow (client true: f->cli), created on need. */
static struct asset *
side_asset(struct inv_state *s, const struct flow *f, bool client,
    uint64_t ts)
{
	const struct flow_endpoint *e = client ? &f->cli : &f->srv;
	struct fcache *c = &s->fc[f->id % FCACHE];
	uint8_t key[ASSET_KLEN];
	struct asset *a;
	bool fresh;
	int side = client ? 0 : 1;

	if (c->flow_id == f->id && c->a[side] != 0) {
		a = asset_at(&s->t, c->a[side] - 1);
		goto seen;
	}
	if (unspecified(f->af, e->ip))
		return NULL;
	memset(key, 0, sizeof(key));
	key[0] = f->af;
	memcpy(key + 1, e->ip, f->af == 6 ? 16 : f->af == 0 ? 6 : 4);
	a = htab_put(&s->t, key, &fresh);
	if (a == NULL) {
		s->dropped++;
		return NULL;
	}
	if (c->flow_id != f->id) {
		c->flow_id = f->id;
		c->a[0] = c->a[1] = 0;
	}
	c->a[side] = htab_index(&s->t, a) + 1;
	if (fresh) {
		a->first = a->last = ts;
		mark_dirty(s, a);
	}
seen:
	if (real_mac(e) && (!a->has_mac || memcmp(a->mac, e->mac, 6) != 0)) {
		if (a->macs < 255)
			a->macs++;
		a->has_mac = true;
		memcpy(a->mac, e->mac, 6);
		mark_dirty(s, a);
	}
	if (ts < a->first)
		a->first = ts;
	if (ts > a->last)
		a->last = ts;
	return a;
}

/*
 * Is anyone taking det_publish_asset() entries (an MQTT sink)?  services.c
 * answers when this build has det_publishing(); without it, nothing is
 * published.  With neither an out file nor a sink the inventory costs
 * nothing per packet.
 */
static bool
publishing(const struct det_ctx *ctx)
{
	return det_publishing(ctx);
}

static bool
active(const struct inv_state *s, const struct det_ctx *ctx)
{
	return s->out[0] != '\0' || publishing(ctx);
}

static void
inv_flow_start(void *state, struct det_ctx *ctx, const struct flow *f)
{
	if (active(state, ctx))
		side_asset(state, f, true, f->first_ts);
}

static void
inv_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	/* the server's first answer: it exists */
	if (dir == FLOW_S2C && f->pkts[FLOW_S2C] == 1 && active(state, ctx))
		side_asset(state, f, false, p->ts);
}

/* A TCP server that answered with more than a reset, or any UDP reply. */
static bool
answered(const struct flow *f)
{
	if (f->pkts[FLOW_S2C] == 0)
		return false;
	if (f->transport == 6)
		return (f->tcp_flags[FLOW_S2C] & (PKT_TCP_SYN | PKT_TCP_PSH)) != 0 ||
		    (f->tcp_flags[FLOW_S2C] & PKT_TCP_RST) == 0;
	return true;
}

static void
inv_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct inv_state *s = state;
	struct asset *c, *v;
	bool rev;
	int svc;

	if (s->frags != NULL)
		ipmap_del(s->frags, &f->id, sizeof(f->id));
	if (!active(s, ctx))
		return;
	c = side_asset(s, f, true, f->last_ts);
	if (!answered(f))
		return;
	v = side_asset(s, f, false, f->last_ts);
	if (f->ics != ICS_NONE || (svc = inv_service(f, &rev)) < 0)
		return;
	if (rev) {
		struct asset *t = c;

		c = v;
		v = t;
	}
	if (c != NULL && !(c->it_cli & 1u << svc)) {
		c->it_cli |= 1u << svc;
		mark_dirty(s, c);
	}
	if (v != NULL && !(v->it_srv & 1u << svc)) {
		v->it_srv |= 1u << svc;
		mark_dirty(s, v);
	}
}

static struct ident *
ident_of(struct inv_state *s, struct asset *a)
{
	if (a->id != NULL)
		return a->id;
	if (s->nident >= s->max_ident) {
		s->ident_dropped++;
		return NULL;
	}
	if ((a->id = calloc(1, sizeof(*a->id))) != NULL)
		s->nident++;
	return a->id;
}

/* Copy printable ASCII, trimmed; true when dst changed. */
static bool
set_str(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	char tmp[INV_STR];
	size_t i, k = 0;

	if (cap > sizeof(tmp))
		cap = sizeof(tmp);
	for (i = 0; i < n && src[i] != '\0' && k + 1 < cap; i++)
		tmp[k++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	while (k > 0 && tmp[k - 1] == ' ')
		k--;
	tmp[k] = '\0';
	if (k == 0 || strcmp(dst, tmp) == 0)
		return false;
	memcpy(dst, tmp, k + 1);
	return true;
}

static bool
modbus_ident(struct ident *id, const struct modbus_pdu *m)
{
	const struct modbus_devid *d = &m->devid;
	bool ch = false;
	uint8_t i;

	for (i = 0; i < d->nobjects; i++)
		if (d->objects[i].id < MB_NOBJ &&
		    set_str(id->mb[d->objects[i].id], INV_STR, d->objects[i].value,
		    d->objects[i].len))
			ch = true;
	if (ch)
		id->has_mb = true;
	return ch;
}

static bool
enip_ident(struct ident *id, const struct enip_identity *e)
{
	struct ident o = *id;

	id->has_enip = true;
	id->enip_vendor = e->vendor_id;
	id->enip_type = e->device_type;
	id->enip_product = e->product_code;
	id->enip_status = e->status;
	id->enip_rev_major = e->rev_major;
	id->enip_rev_minor = e->rev_minor;
	id->enip_serial = e->serial;
	id->enip_has_state = e->has_state;
	id->enip_state = e->state;
	set_str(id->enip_name, INV_STR, e->product_name, e->product_name_len);
	/* status bits and state change with the device's mode: not news */
	return !o.has_enip || o.enip_vendor != id->enip_vendor ||
	    o.enip_type != id->enip_type || o.enip_product != id->enip_product ||
	    o.enip_rev_major != id->enip_rev_major ||
	    o.enip_rev_minor != id->enip_rev_minor ||
	    o.enip_serial != id->enip_serial ||
	    strcmp(o.enip_name, id->enip_name) != 0;
}

/* Module and component identification from SZL records (s7comm.h). */
static bool
s7_szl_apply(struct ident *id, struct s7_szl_iter *it)
{
	struct s7_szl_rec rec;
	char fw[24];
	bool ch = false;

	while (s7_szl_next(it, &rec)) {
		if ((it->szl_id & 0xff) == 0x11 && rec.text != NULL) {
			if (rec.index == 1)
				ch |= set_str(id->s7_order, INV_STR, rec.text, 20);
			else if (rec.index == 7 && rec.has_version) {
				snprintf(fw, sizeof(fw), "V%u.%u.%u", rec.version[0],
				    rec.version[1], rec.version[2]);
				ch |= set_str(id->s7_firmware, sizeof(id->s7_firmware),
				    (const uint8_t *)fw, strlen(fw));
			}
		} else if ((it->szl_id & 0xff) == 0x1c && rec.text != NULL &&
		    rec.index >= 1 && rec.index < 12 && rec.index != 6) {
			ch |= set_str(id->s7_comp[rec.index], INV_STR, rec.text, 32);
		}
	}
	if (ch)
		id->has_s7 = true;
	return ch;
}

static bool
s7_ident(struct inv_state *s, struct ident **idp, struct asset *a,
    const struct det_pdu *pdu)
{
	const struct s7_comm *m = &pdu->u.s7->s7;
	struct s7_szl_iter it;
	struct s7frag *fr;
	uint16_t szl;
	int fresh;
	bool ch;

	if (m->rosctr != S7_ROSCTR_USERDATA || !m->has_ud ||
	    m->ud_type != S7_UD_TYPE_RESPONSE || m->ud_group != S7_UD_GROUP_CPU ||
	    m->ud_subfunc != S7_UD_CPU_READ_SZL)
		return false;
	if (m->has_szl_list) {
		szl = m->szl_id & 0xff;
		if (szl != 0x11 && szl != 0x1c)
			return false;
		if ((*idp = ident_of(s, a)) == NULL)
			return false;
		s7_szl_iter_init(&it, m->szl_id, m->szl_rec_len,
		    m->szl_rec_count, m->szl_records, m->szl_records_len);
		return s7_szl_apply(*idp, &it);
	}
	if (!m->ud_fragmented || m->ud_data == NULL)
		return false;
	/* several PDUs: the first starts with the SZL header */
	if (s->frags == NULL && (s->frags = ipmap_new(64, sizeof(*fr))) == NULL)
		return false;
	fr = ipmap_put(s->frags, &pdu->flow->id, sizeof(pdu->flow->id), pdu->ts,
	    &fresh);
	if (fr == NULL)
		return false;
	if (fresh || fr->ref != m->ud_data_unit_ref) {
		fr->ref = m->ud_data_unit_ref;
		fr->len = 0;
	}
	if (m->ud_data_len <= (size_t)(S7_FRAG_MAX - fr->len)) {
		memcpy(fr->buf + fr->len, m->ud_data, m->ud_data_len);
		fr->len = (uint16_t)(fr->len + m->ud_data_len);
	}
	if (!m->ud_last_unit)
		return false;
	ch = false;
	szl = fr->len >= 2 ? (uint16_t)(fr->buf[1]) : 0;
	if ((szl == 0x11 || szl == 0x1c) && (*idp = ident_of(s, a)) != NULL)
		ch = s7_szl_iter_data(&it, fr->buf, fr->len) == 0 &&
		    s7_szl_apply(*idp, &it);
	ipmap_del(s->frags, &pdu->flow->id, sizeof(pdu->flow->id));
	return ch;
}

/* Chassis/port IDs: text, or a MAC / address shown as hex. */
static bool
lldp_id(char *dst, size_t cap, uint8_t subtype, const uint8_t *id, size_t n,
    bool is_mac)
{
	char b[INV_STR];
	size_t i, o = 0;

	if (!is_mac && subtype != LLDP_CHASSIS_NETADDR)
		return set_str(dst, cap, id, n);
	for (i = 0; i < n && o + 3 < sizeof(b); i++)
		o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%02x",
		    i > 0 ? ":" : "", id[i]);
	b[o] = '\0';
	return set_str(dst, cap, (const uint8_t *)b, o);
}

/* What GOOSE, SV, PROFINET DCP and LLDP frames say about their sender. */
static bool
l2_ident(struct ident *id, const struct det_pdu *pdu)
{
	bool ch = false;

	switch (pdu->proto) {
	case ICS_PNDCP: {
		const struct pndcp_pdu *d = pdu->u.pndcp;

		if (d->type != PNDCP_RESPONSE_OK &&
		    d->service != PNDCP_SVC_HELLO)
			return false;
		ch = !id->has_pn;
		id->has_pn = true;
		ch |= set_str(id->pn_name, sizeof(id->pn_name), d->name,
		    d->name_len);
		ch |= set_str(id->pn_type, sizeof(id->pn_type), d->vendor,
		    d->vendor_len);
		if (d->has_id && (!id->pn_has_id ||
		    id->pn_vendor_id != d->vendor_id ||
		    id->pn_device_id != d->device_id)) {
			id->pn_has_id = true;
			id->pn_vendor_id = d->vendor_id;
			id->pn_device_id = d->device_id;
			ch = true;
		}
		if (d->has_role && (!id->pn_has_role || id->pn_role != d->role)) {
			id->pn_has_role = true;
			id->pn_role = d->role;
			ch = true;
		}
		if (d->has_ip && (!id->pn_has_ip ||
		    memcmp(id->pn_ip, d->ip, 4) != 0)) {
			id->pn_has_ip = true;
			memcpy(id->pn_ip, d->ip, 4);
			ch = true;
		}
		return ch;
	}
	case ICS_LLDP: {
		const struct lldp_pdu *l = pdu->u.lldp;
		char m[48];

		ch = !id->has_lldp;
		id->has_lldp = true;
		ch |= lldp_id(id->lldp_chassis, sizeof(id->lldp_chassis),
		    l->chassis_subtype, l->chassis_id, l->chassis_id_len,
		    l->chassis_subtype == LLDP_CHASSIS_MAC);
		ch |= lldp_id(id->lldp_port, sizeof(id->lldp_port),
		    l->port_subtype, l->port_id, l->port_id_len,
		    l->port_subtype == LLDP_PORT_MAC);
		ch |= set_str(id->lldp_port_desc, sizeof(id->lldp_port_desc),
		    l->port_desc, l->port_desc_len);
		ch |= set_str(id->lldp_sys_name, sizeof(id->lldp_sys_name),
		    l->sys_name, l->sys_name_len);
		ch |= set_str(id->lldp_sys_desc, sizeof(id->lldp_sys_desc),
		    l->sys_desc, l->sys_desc_len);
		if (l->has_mgmt && l->mgmt_af == LLDP_AF_IPV4 &&
		    l->mgmt_addr_len == 4) {
			snprintf(m, sizeof(m), "%u.%u.%u.%u", l->mgmt_addr[0],
			    l->mgmt_addr[1], l->mgmt_addr[2], l->mgmt_addr[3]);
			ch |= set_str(id->lldp_mgmt, sizeof(id->lldp_mgmt),
			    (const uint8_t *)m, strlen(m));
		}
		return ch;
	}
	case ICS_GOOSE:
		return id->goose_ref[0] == '\0' && set_str(id->goose_ref,
		    sizeof(id->goose_ref), pdu->u.goose->gocb_ref,
		    pdu->u.goose->gocb_ref_len);
	case ICS_SV:
		return id->sv_id[0] == '\0' && pdu->u.sv->n_asdu > 0 &&
		    set_str(id->sv_id, sizeof(id->sv_id),
		    pdu->u.sv->asdu[0].sv_id, pdu->u.sv->asdu[0].sv_id_len);
	default:
		return false;
	}
}

static void
inv_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct inv_state *s = state;
	struct ident *id = NULL;
	struct asset *a;
	uint32_t bit;
	int role;
	bool ch = false;

	if ((unsigned)pdu->proto >= 32 || pdu->proto == ICS_NONE ||
	    !active(s, ctx))
		return;
	a = side_asset(s, pdu->flow, pdu->sender_is_cli, pdu->ts);
	if (a == NULL)
		return;
	bit = 1u << pdu->proto;
	role = inv_pdu_sender_role(pdu);
	if (role == 1 && !(a->cli & bit)) {
		a->cli |= bit;
		mark_dirty(s, a);
	} else if (role == 2 && !(a->srv & bit)) {
		a->srv |= bit;
		mark_dirty(s, a);
	}
	if (role != 2)
		return;
	switch (pdu->proto) {
	case ICS_MODBUS:
		if (pdu->u.modbus->has_devid && pdu->u.modbus->devid.nobjects > 0 &&
		    !pdu->u.modbus->exception && (id = ident_of(s, a)) != NULL)
			ch = modbus_ident(id, pdu->u.modbus);
		break;
	case ICS_ENIP:
		if (pdu->u.enip->has_identity && (id = ident_of(s, a)) != NULL)
			ch = enip_ident(id, &pdu->u.enip->identity);
		break;
	case ICS_S7COMM:
		ch = s7_ident(s, &id, a, pdu);
		break;
	case ICS_BACNET:
		if (pdu->u.bacnet->has_iam && (id = ident_of(s, a)) != NULL) {
			const struct bacnet_pdu *b = pdu->u.bacnet;

			ch = !id->has_bacnet || id->bac_instance != b->iam_device_instance ||
			    id->bac_vendor != b->iam_vendor_id;
			id->has_bacnet = true;
			id->bac_instance = b->iam_device_instance;
			id->bac_vendor = b->iam_vendor_id;
			id->bac_max_apdu = b->iam_max_apdu;
			id->bac_segmentation = b->iam_segmentation;
		}
		break;
	case ICS_PNDCP:
	case ICS_LLDP:
	case ICS_GOOSE:
	case ICS_SV:
		if ((id = ident_of(s, a)) != NULL)
			ch = l2_ident(id, pdu);
		break;
	default:
		break;
	}
	if (ch)
		mark_dirty(s, a);
}

/* ---- JSON ---------------------------------------------------------------- */


static void
publish(struct inv_state *s, struct det_ctx *ctx, struct asset *a)
{
	char ipb[64], *txt;
	cJSON *o = inv_asset_json(a);

	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return;
	/* a layer-2 asset is published under its MAC */
	if (a->af == 0)
		snprintf(ipb, sizeof(ipb), "%02x:%02x:%02x:%02x:%02x:%02x",
		    a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->ip[4], a->ip[5]);
	else
		inv_ip_text(a->af, a->ip, ipb, sizeof(ipb));
	det_publish_asset(ctx, ipb, txt, strlen(txt));
	free(txt);
	a->published = a->last;
	(void)s;
}

static void
flush_dirty(struct inv_state *s, struct det_ctx *ctx)
{
	bool pub = publishing(ctx);
	uint32_t i;

	for (i = 0; i < s->ndirty; i++) {
		struct asset *a = asset_at(&s->t, s->dirty[i]);

		a->dirty = false;
		if (pub)
			publish(s, ctx, a);
	}
	s->ndirty = 0;
}

static void
inv_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct inv_state *s = state;
	struct asset *a;
	uint32_t i;

	if (s->ndirty == 0 && (s->republish_us == 0 || now < s->next_sweep))
		return;
	/* once a minute: entries quiet on the broker but still active */
	if (s->republish_us > 0 && now >= s->next_sweep && publishing(ctx)) {
		s->next_sweep = now + 60000000u;
		for (i = 0; i < s->t.n; i++) {
			a = asset_at(&s->t, i);
			if (a->last > a->published &&
			    a->last - a->published >= s->republish_us)
				mark_dirty(s, a);
		}
	}
	flush_dirty(s, ctx);
}

static int
cmp_asset(const void *x, const void *y)
{
	const struct asset *a = *(const struct asset *const *)x;
	const struct asset *b = *(const struct asset *const *)y;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->ip, b->ip, 16);
}

static int
inv_finish(void *state, struct det_ctx *ctx, char *err, size_t errlen)
{
	struct inv_state *s = state;
	struct asset **v;
	cJSON *root, *arr;
	char *txt;
	uint32_t i;
	int rc = 0;

	flush_dirty(s, ctx);
	if (s->out[0] == '\0')
		return 0;
	v = malloc(((size_t)s->t.n + 1) * sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->out);
		return -1;
	}
	for (i = 0; i < s->t.n; i++)
		v[i] = asset_at(&s->t, i);
	qsort(v, s->t.n, sizeof(*v), cmp_asset);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddNumberToObject(root, "count", s->t.n);
	cJSON_AddNumberToObject(root, "dropped", (double)s->dropped);
	arr = cJSON_AddArrayToObject(root, "assets");
	for (i = 0; i < s->t.n; i++)
		cJSON_AddItemToArray(arr, inv_asset_json(v[i]));
	free(v);
	txt = cJSON_Print(root);
	cJSON_Delete(root);
	if (txt == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->out);
		return -1;
	}
	if (strcmp(s->out, "-") == 0) {
		if (fputs(txt, stdout) == EOF || fputc('\n', stdout) == EOF ||
		    fflush(stdout) != 0)
			rc = -1;
	} else
		rc = atomic_write(s->out, txt, strlen(txt), true);
	if (rc != 0)
		snprintf(err, errlen, "%s: cannot write the inventory: %s", s->out,
		    strerror(errno));
	free(txt);
	return rc;
}

static int
inv_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	int rc = inv_init_inner(c, sec, state);

	if (rc < 0)
		snprintf(err, errlen, "%s", inv_err);
	return rc;
}

/* Hosts and identities the caps turned away. */
static void
inv_counters(void *state, det_counter_fn add, void *arg)
{
	struct inv_state *s = state;

	add(arg, "dropped", s->dropped);
	add(arg, "identities_dropped", s->ident_dropped);
}

static void
first_of(char *dst, size_t cap, const char *const *cands, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cands[i] != NULL && cands[i][0] != '\0') {
			snprintf(dst, cap, "%s", cands[i]);
			return;
		}
}

/* Vendor and model as the device reported them (for alerts' assets). */
static bool
inv_describe(void *state, uint8_t af, const uint8_t *ip,
    struct det_asset_info *out)
{
	struct inv_state *s = state;
	uint8_t key[ASSET_KLEN];
	const struct ident *id;
	const struct asset *a;

	if (af != 4 && af != 6)
		return false;
	memset(key, 0, sizeof(key));
	key[0] = af;
	memcpy(key + 1, ip, af == 6 ? 16 : 4);
	a = htab_get(&s->t, key);
	if (a == NULL || (id = a->id) == NULL)
		return false;
	{
		const char *vendors[] = {
			id->has_mb ? id->mb[0] : NULL,		/* vendor_name */
			id->has_s7 ? id->s7_comp[9] : NULL,	/* manufacturer */
		};
		const char *models[] = {
			id->has_mb ? id->mb[5] : NULL,		/* model_name */
			id->has_mb ? id->mb[4] : NULL,		/* product_name */
			id->has_enip ? id->enip_name : NULL,
			id->has_s7 ? id->s7_comp[7] : NULL,	/* module_type */
			id->has_s7 ? id->s7_order : NULL,
			id->has_pn ? id->pn_type : NULL,
		};

		first_of(out->vendor, sizeof(out->vendor), vendors,
		    sizeof(vendors) / sizeof(vendors[0]));
		first_of(out->model, sizeof(out->model), models,
		    sizeof(models) / sizeof(models[0]));
	}
	return out->vendor[0] != '\0' || out->model[0] != '\0';
}

const struct detector det_assets = {
	.name = "assets",
	.severity = SEV_INFO,
	.keys = keys,
	.init = inv_init,
	.on_packet = inv_packet,
	.on_flow_start = inv_flow_start,
	.on_flow_end = inv_flow_end,
	.on_pdu = inv_pdu,
	.on_tick = inv_tick,
	.finish = inv_finish,
	.destroy = inv_destroy,
	.counters = inv_counters,
	.describe = inv_describe,
};
