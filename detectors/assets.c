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
 * Also home of two small services shared with baseline.c (which declares
 * them itself): the OUI vendor table, loaded lazily, and the names of the
 * IT services a flow carries.
 */
#include <cJSON.h>
#include <errno.h>
#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/bacnet.h"
#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/enip.h"
#include "dissectors/flow.h"
#include "lib/ids.h"
#include "detectors/inventory.h"
#include "lib/ipmap.h"
#include "lib/rfc3339.h"
#include "dissectors/modbus.h"
#include "lib/rd.h"
#include "dissectors/s7comm.h"

/* ---- OUI vendor table (ieee-data) --------------------------------------- */

#define OUI_TXT		"/usr/share/ieee-data/oui.txt"
#define OUI_CSV		"/usr/share/ieee-data/oui.csv"
#define OUI_NAME_MAX	96

struct oui_ent {
	uint32_t	oui;
	uint32_t	name;		/* offset into pool */
};

static struct {
	struct oui_ent	*v;
	size_t		 n, cap;
	char		*pool;
	size_t		 pool_len, pool_cap;
	int		 refs;
	bool		 tried;
	char		 path[512];	/* configured path ("" = defaults) */
} oui;

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Six hex digits at s (no separators): the OUI, or -1. */
static long
parse_oui6(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 6; i++) {
		if ((h = hexval((unsigned char)s[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static int
oui_add(uint32_t o, const char *name, size_t len)
{
	struct oui_ent *nv;
	char *np;

	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t' ||
	    name[len - 1] == '\r' || name[len - 1] == '\n'))
		len--;
	if (len == 0)
		return 0;
	if (len > OUI_NAME_MAX)
		len = OUI_NAME_MAX;
	if (oui.n == oui.cap) {
		size_t c = oui.cap ? oui.cap * 2 : 4096;

		if ((nv = realloc(oui.v, c * sizeof(*nv))) == NULL)
			return -1;
		oui.v = nv;
		oui.cap = c;
	}
	if (oui.pool_len + len + 1 > oui.pool_cap) {
		size_t c = oui.pool_cap ? oui.pool_cap * 2 : 65536;

		while (c < oui.pool_len + len + 1)
			c *= 2;
		if ((np = realloc(oui.pool, c)) == NULL)
			return -1;
		oui.pool = np;
		oui.pool_cap = c;
	}
	memcpy(oui.pool + oui.pool_len, name, len);
	oui.pool[oui.pool_len + len] = '\0';
	oui.v[oui.n].oui = o;
	oui.v[oui.n].name = (uint32_t)oui.pool_len;
	oui.n++;
	oui.pool_len += len + 1;
	return 0;
}

/* "002272     (base 16)		American Micro-Fuel Device Corp." */
static int
oui_line_txt(const char *l)
{
	const char *p;
	long o = parse_oui6(l);

	if (o < 0 || (p = strstr(l + 6, "(base 16)")) == NULL)
		return 0;
	p += 9;
	while (*p == ' ' || *p == '\t')
		p++;
	return oui_add((uint32_t)o, p, strlen(p));
}

/* "MA-L,002272,American Micro-Fuel Device Corp.,2181 Buchanan Loop ..." */
static int
oui_line_csv(const char *l)
{
	char name[OUI_NAME_MAX + 1];
	const char *p;
	size_t n = 0;
	long o;

	if (strncmp(l, "MA-L,", 5) != 0 || (o = parse_oui6(l + 5)) < 0 ||
	    l[11] != ',')
		return 0;
	p = l + 12;
	if (*p == '"') {
		for (p++; *p != '\0'; p++) {
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				break;
			if (n < OUI_NAME_MAX)
				name[n++] = *p;
		}
	} else
		for (; *p != '\0' && *p != ',' && n < OUI_NAME_MAX; p++)
			name[n++] = *p;
	return oui_add((uint32_t)o, name, n);
}

static int
oui_cmp(const void *a, const void *b)
{
	const struct oui_ent *x = a, *y = b;

	return x->oui < y->oui ? -1 : x->oui > y->oui;
}

static void
oui_unload(void)
{
	free(oui.v);
	free(oui.pool);
	oui.v = NULL;
	oui.pool = NULL;
	oui.n = oui.cap = oui.pool_len = oui.pool_cap = 0;
	oui.tried = false;
}

/* Read one registry file; 0, or -1 when it cannot be opened. */
static int
oui_read(const char *path)
{
	char *line = NULL;
	size_t cap = 0, i, k;
	bool csv = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".csv") == 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return -1;
	while (getline(&line, &cap, fp) > 0)
		if ((csv ? oui_line_csv(line) : oui_line_txt(line)) != 0)
			break;
	free(line);
	fclose(fp);
	if (oui.n == 0)
		return 0;
	qsort(oui.v, oui.n, sizeof(oui.v[0]), oui_cmp);
	/* the registry lists a few OUIs twice: keep the first */
	for (i = 1, k = 1; i < oui.n; i++)
		if (oui.v[i].oui != oui.v[k - 1].oui)
			oui.v[k++] = oui.v[i];
	oui.n = k;
	return 0;
}

static void
oui_load(void)
{
	oui.tried = true;
	if (oui.path[0] != '\0') {
		(void)oui_read(oui.path);
		return;
	}
	if (oui_read(OUI_TXT) != 0)
		(void)oui_read(OUI_CSV);
}

/*
 * Use a non-default registry file.  Checked now so a typo is a config
 * error rather than an inventory without vendors.
 */
int
inv_oui_set_path(const char *path, char *err, size_t errlen)
{
	FILE *fp;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot read the OUI registry: %s", path,
		    strerror(errno));
		return IDS_EIO;
	}
	fclose(fp);
	if (strcmp(oui.path, path) != 0 && oui.tried)
		oui_unload();
	snprintf(oui.path, sizeof(oui.path), "%s", path);
	return 0;
}

void
inv_oui_hold(void)
{
	oui.refs++;
}

void
inv_oui_drop(void)
{
	if (oui.refs > 0 && --oui.refs == 0) {
		oui_unload();
		oui.path[0] = '\0';
	}
}

/*
 * Vendor of a MAC address from the IEEE MA-L registry, or NULL (unknown,
 * locally administered, multicast, or ieee-data not installed).  The
 * registry is read on the first call.
 */
const char *
inv_oui_vendor(const uint8_t *mac)
{
	struct oui_ent key, *e;

	if (mac[0] & 0x03)		/* multicast or locally administered */
		return NULL;
	if (!oui.tried)
		oui_load();
	if (oui.n == 0)
		return NULL;
	key.oui = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
	e = bsearch(&key, oui.v, oui.n, sizeof(oui.v[0]), oui_cmp);
	return e != NULL ? oui.pool + e->name : NULL;
}

/* ---- IT services of a flow ---------------------------------------------- */

struct service {
	const char	*name;
	uint16_t	 ndpi[2];
	uint16_t	 port[2];
	uint8_t		 transport;	/* 6, 17, 0 = either */
	bool		 remote;	/* remote access (ATT&CK for ICS T0886) */
};

#define SVC_TCP		(int)(sizeof(services) / sizeof(services[0]) - 2)
#define SVC_UDP		(int)(sizeof(services) / sizeof(services[0]) - 1)

/* At most 32 (roles are bitmasks); "tcp" and "udp" last: the fallbacks. */
static const struct service services[] = {
	{ "dns", { NDPI_PROTOCOL_DNS, 0 }, { 53, 0 }, 0, false },
	{ "mdns", { NDPI_PROTOCOL_MDNS, 0 }, { 5353, 0 }, 17, false },
	{ "llmnr", { NDPI_PROTOCOL_LLMNR, 0 }, { 5355, 0 }, 17, false },
	{ "ntp", { NDPI_PROTOCOL_NTP, 0 }, { 123, 0 }, 17, false },
	{ "dhcp", { NDPI_PROTOCOL_DHCP, NDPI_PROTOCOL_DHCPV6 }, { 67, 547 }, 17, false },
	{ "netbios", { NDPI_PROTOCOL_NETBIOS, 0 }, { 137, 138 }, 17, false },
	{ "ssdp", { NDPI_PROTOCOL_SSDP, 0 }, { 1900, 0 }, 17, false },
	{ "snmp", { NDPI_PROTOCOL_SNMP, 0 }, { 161, 162 }, 17, false },
	{ "syslog", { NDPI_PROTOCOL_SYSLOG, 0 }, { 514, 0 }, 0, false },
	{ "quic", { NDPI_PROTOCOL_QUIC, 0 }, { 443, 0 }, 17, false },
	{ "http", { NDPI_PROTOCOL_HTTP, 0 }, { 80, 8080 }, 6, false },
	{ "tls", { NDPI_PROTOCOL_TLS, 0 }, { 443, 0 }, 6, false },
	{ "ssh", { NDPI_PROTOCOL_SSH, 0 }, { 22, 0 }, 6, true },
	{ "telnet", { NDPI_PROTOCOL_TELNET, 0 }, { 23, 0 }, 6, true },
	{ "rdp", { NDPI_PROTOCOL_RDP, 0 }, { 3389, 0 }, 6, true },
	{ "vnc", { NDPI_PROTOCOL_VNC, 0 }, { 5900, 5901 }, 6, true },
	{ "smb", { NDPI_PROTOCOL_SMBV1, NDPI_PROTOCOL_SMBV23 }, { 445, 139 }, 6, true },
	{ "teamviewer", { NDPI_PROTOCOL_TEAMVIEWER, 0 }, { 5938, 0 }, 0, true },
	{ "anydesk", { NDPI_PROTOCOL_ANYDESK, 0 }, { 7070, 0 }, 6, true },
	{ "winrm", { 0, 0 }, { 5985, 5986 }, 6, true },
	{ "ftp", { NDPI_PROTOCOL_FTP_CONTROL, 0 }, { 21, 0 }, 6, false },
	{ "ldap", { NDPI_PROTOCOL_LDAP, 0 }, { 389, 636 }, 0, false },
	{ "kerberos", { NDPI_PROTOCOL_KERBEROS, 0 }, { 88, 0 }, 0, false },
	{ "mssql", { NDPI_PROTOCOL_MSSQL_TDS, 0 }, { 1433, 0 }, 6, false },
	{ "mqtt", { NDPI_PROTOCOL_MQTT, 0 }, { 1883, 8883 }, 6, false },
	{ "amqp", { NDPI_PROTOCOL_AMQP, 0 }, { 5672, 0 }, 6, false },
	{ "coap", { NDPI_PROTOCOL_COAP, 0 }, { 5683, 0 }, 17, false },
	{ "tcp", { 0, 0 }, { 0, 0 }, 6, false },
	{ "udp", { 0, 0 }, { 0, 0 }, 17, false },
};

_Static_assert(sizeof(services) / sizeof(services[0]) <= 32,
    "IT service roles are 32-bit masks");

static int
svc_by_ndpi(uint16_t id, uint8_t transport)
{
	int i;

	if (id == 0)
		return -1;
	for (i = 0; i < SVC_TCP; i++)
		if ((services[i].ndpi[0] == id || services[i].ndpi[1] == id) &&
		    (services[i].transport == 0 || services[i].transport == transport))
			return i;
	return -1;
}

static int
svc_by_port(uint16_t port, uint8_t transport)
{
	int i;

	if (port == 0)
		return -1;
	for (i = 0; i < SVC_TCP; i++)
		if ((services[i].port[0] == port || services[i].port[1] == port) &&
		    (services[i].transport == 0 || services[i].transport == transport))
			return i;
	return -1;
}

/*
 * The IT service a TCP/UDP flow carries: nDPI's answer when it names one
 * of ours, else the server's well-known port, else "tcp"/"udp".
 * *reversed is set when the flow's first packet came from the server (a
 * capture that starts mid-session): the service's port is on flow->cli.
 * Returns -1 for other transports.
 */
int
inv_service(const struct flow *f, bool *reversed)
{
	int s;

	*reversed = false;
	if (f->transport != 6 && f->transport != 17)
		return -1;
	if ((s = svc_by_ndpi(f->ndpi_app, f->transport)) >= 0 ||
	    (s = svc_by_ndpi(f->ndpi_master, f->transport)) >= 0) {
		*reversed = svc_by_port(f->srv.port, f->transport) != s &&
		    svc_by_port(f->cli.port, f->transport) == s;
		return s;
	}
	if ((s = svc_by_port(f->srv.port, f->transport)) >= 0)
		return s;
	if ((s = svc_by_port(f->cli.port, f->transport)) >= 0) {
		*reversed = true;
		return s;
	}
	/* no name: the side with the lower port is taken as the server */
	if (f->cli.port < f->srv.port && f->cli.port < 32768)
		*reversed = true;
	return f->transport == 6 ? SVC_TCP : SVC_UDP;
}

const char *
inv_service_name(int svc)
{
	return svc >= 0 && svc <= SVC_UDP ? services[svc].name : "?";
}

bool
inv_service_remote(int svc)
{
	return svc >= 0 && svc <= SVC_UDP && services[svc].remote;
}

int
inv_service_by_name(const char *name)
{
	int i;

	for (i = 0; i <= SVC_UDP; i++)
		if (strcmp(services[i].name, name) == 0)
			return i;
	return -1;
}

int
inv_service_count(void)
{
	return SVC_UDP + 1;
}

/*
 * Role of a PDU's sender: 1 client/master (it asks), 2 server/slave (it
 * answers or announces itself).  Most protocols say it by the port the
 * dissector saw; BACnet peers share 47808 and FINS says it in the ICF.
 */
int
inv_pdu_sender_role(const struct det_pdu *pdu)
{
	if (pdu->proto == ICS_BACNET) {
		const struct bacnet_pdu *b = pdu->u.bacnet;

		if (!b->has_apdu)
			return 0;
		if (b->apdu_type == BACNET_APDU_CONFIRMED_REQ)
			return 1;
		if (b->apdu_type != BACNET_APDU_UNCONFIRMED_REQ)
			return 2;
		switch (b->service) {
		case BACNET_USVC_I_AM:
		case BACNET_USVC_I_HAVE:
		case BACNET_USVC_COV_NOTIFICATION:
		case 3:		/* unconfirmedEventNotification */
			return 2;
		}
		return 1;
	}
	return pdu->from_client ? 1 : 2;
}

/* ---- the inventory ------------------------------------------------------- */

#define INV_STR		64
#define S7_FRAG_MAX	2048
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

/* A growable open-addressing table; entries never move index, never evicted. */
struct slot {
	uint32_t	e;		/* entry index + 1; 0 = empty */
	uint32_t	h;		/* its key's hash */
};

struct tab {
	struct asset	*v;
	uint32_t	 n, cap, max;
	struct slot	*idx;
	uint32_t	 mask;
};

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
	struct tab	 t;
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

/* Keys are a few dozen bytes of addresses: the bounded maps' hash. */
static uint32_t
hash_key(const uint8_t *k, size_t n)
{
	return ipmap_hash(k, n);
}

static struct asset *
tab_get(const struct tab *t, const uint8_t *key)
{
	uint32_t h, i, e;

	if (t->idx == NULL)
		return NULL;
	h = hash_key(key, ASSET_KLEN);
	for (i = h & t->mask; (e = t->idx[i].e) != 0; i = (i + 1) & t->mask)
		if (t->idx[i].h == h && memcmp(&t->v[e - 1].af, key, ASSET_KLEN) == 0)
			return &t->v[e - 1];
	return NULL;
}

static void
tab_link(struct tab *t, uint32_t e, uint32_t h)
{
	uint32_t i;

	for (i = h & t->mask; t->idx[i].e; i = (i + 1) & t->mask)
		;
	t->idx[i].e = e + 1;
	t->idx[i].h = h;
}

static int
tab_grow(struct tab *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 64, j, size;
	struct asset *nv;
	struct slot *ni;

	if (cap > t->max)
		cap = t->max;
	if ((nv = realloc(t->v, (size_t)cap * sizeof(*nv))) == NULL)
		return -1;
	t->v = nv;
	for (size = 16; size < cap * 2; size <<= 1)
		;
	if ((ni = calloc(size, sizeof(*ni))) == NULL)
		return -1;
	free(t->idx);
	t->idx = ni;
	t->mask = size - 1;
	t->cap = cap;
	for (j = 0; j < t->n; j++)
		tab_link(t, j, hash_key(&t->v[j].af, ASSET_KLEN));
	return 0;
}

/* The entry of key, inserted zeroed when new; NULL when full. */
static struct asset *
tab_put(struct tab *t, const uint8_t *key, bool *fresh)
{
	struct asset *a;

	*fresh = false;
	if ((a = tab_get(t, key)) != NULL)
		return a;
	if (t->n == t->max || (t->n == t->cap && tab_grow(t) != 0))
		return NULL;
	a = &t->v[t->n];
	memset(a, 0, sizeof(*a));
	memcpy(&a->af, key, ASSET_KLEN);
	tab_link(t, t->n++, hash_key(key, ASSET_KLEN));
	*fresh = true;
	return a;
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
	s->t.max = (uint32_t)cfg_int(c, sec, "max_assets");
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
		free(s->t.v[i].id);
	free(s->t.v);
	free(s->t.idx);
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
	s->dirty[s->ndirty++] = (uint32_t)(a - s->t.v);
}

static bool
unspecified(uint8_t af, const uint8_t *ip)
{
	static const uint8_t zero[16];

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
		a = &s->t.v[c->a[side] - 1];
		goto seen;
	}
	if (unspecified(f->af, e->ip))
		return NULL;
	memset(key, 0, sizeof(key));
	key[0] = f->af;
	memcpy(key + 1, e->ip, f->af == 6 ? 16 : 4);
	a = tab_put(&s->t, key, &fresh);
	if (a == NULL) {
		s->dropped++;
		return NULL;
	}
	if (c->flow_id != f->id) {
		c->flow_id = f->id;
		c->a[0] = c->a[1] = 0;
	}
	c->a[side] = (uint32_t)(a - s->t.v) + 1;
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

/*
 * SZL records (S7 system status list).  0x0011 module identification,
 * 28 bytes each: index(2) | MlfB order number(20) | BGTyp(2) | Ausbg(2) |
 * Ausbe(2); index 1 is the module, 7 the firmware ('V' major | minor patch
 * in Ausbg/Ausbe).  0x001C component identification, 34 bytes each:
 * index(2) | text(32); 1 PLC name, 2 module name, 3 plant id,
 * 4 copyright, 5 serial number, 7 module type, 8 memory card serial.
 */
static bool
s7_szl_records(struct ident *id, uint16_t szl_id, uint16_t rec_len,
    uint16_t count, const uint8_t *recs, size_t len)
{
	struct rd r, rec;
	uint16_t idx, ausbg, ausbe, i;
	const uint8_t *text;
	char fw[24];
	bool ch = false;

	rd_init(&r, recs, len);
	for (i = 0; i < count; i++) {
		if (!rd_sub(&r, rec_len, &rec))
			break;
		idx = rd_be16(&rec);
		if ((szl_id & 0xff) == 0x11 && rec_len >= 28) {
			text = rd_ptr(&rec);
			rd_skip(&rec, 22);	/* MlfB + BGTyp */
			ausbg = rd_be16(&rec);
			ausbe = rd_be16(&rec);
			if (rec.err)
				break;
			if (idx == 1)
				ch |= set_str(id->s7_order, INV_STR, text, 20);
			else if (idx == 7 && (ausbg >> 8) == 'V') {
				snprintf(fw, sizeof(fw), "V%u.%u.%u", ausbg & 0xff,
				    ausbe >> 8, ausbe & 0xff);
				ch |= set_str(id->s7_firmware, sizeof(id->s7_firmware),
				    (const uint8_t *)fw, strlen(fw));
			}
		} else if ((szl_id & 0xff) == 0x1c && rec_len >= 34 &&
		    idx >= 1 && idx < 12 && idx != 6) {
			ch |= set_str(id->s7_comp[idx], INV_STR, rd_ptr(&rec), 32);
		}
	}
	if (ch)
		id->has_s7 = true;
	return ch;
}

/* Reassembled SZL response data: id(2) index(2) rec_len(2) count(2) recs. */
static bool
s7_szl_data(struct ident *id, const uint8_t *p, size_t n)
{
	struct rd r;
	uint16_t szl, rl, cnt;

	rd_init(&r, p, n);
	szl = rd_be16(&r);
	rd_skip(&r, 2);
	rl = rd_be16(&r);
	cnt = rd_be16(&r);
	if (r.err)
		return false;
	return s7_szl_records(id, szl, rl, cnt, rd_ptr(&r), rd_left(&r));
}

static bool
s7_ident(struct inv_state *s, struct ident **idp, struct asset *a,
    const struct det_pdu *pdu)
{
	const struct s7_comm *m = &pdu->u.s7->s7;
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
		return s7_szl_records(*idp, m->szl_id, m->szl_rec_len,
		    m->szl_rec_count, m->szl_records, m->szl_records_len);
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
		ch = s7_szl_data(*idp, fr->buf, fr->len);
	ipmap_del(s->frags, &pdu->flow->id, sizeof(pdu->flow->id));
	return ch;
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
	default:
		break;
	}
	if (ch)
		mark_dirty(s, a);
}

/* ---- JSON helpers shared with baseline.c (inventory.h) ------------------- */

const char *
inv_ip_text(uint8_t af, const uint8_t *ip, char *buf, size_t len)
{
	struct det_endpoint e;

	memset(&e, 0, sizeof(e));
	e.af = af;
	memcpy(e.ip, ip, 16);
	return det_ip_str(&e, buf, len);
}

void
inv_json_ts(cJSON *o, const char *k, uint64_t ts)
{
	char b[40];

	cJSON_AddStringToObject(o, k, rfc3339_format(ts, b, sizeof(b)));
}

void
inv_json_roles(cJSON *protos, const char *name, bool cli, bool srv)
{
	cJSON *r;

	if (!cli && !srv)
		return;
	r = cJSON_AddArrayToObject(protos, name);
	if (cli)
		cJSON_AddItemToArray(r, cJSON_CreateString("client"));
	if (srv)
		cJSON_AddItemToArray(r, cJSON_CreateString("server"));
}

/* ---- JSON ---------------------------------------------------------------- */


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
	return o;
}

static cJSON *
asset_json(const struct asset *a)
{
	cJSON *o = cJSON_CreateObject(), *p;
	char b[64];
	const char *v;
	int i;

	cJSON_AddStringToObject(o, "ip", inv_ip_text(a->af, a->ip, b, sizeof(b)));
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

static void
publish(struct inv_state *s, struct det_ctx *ctx, struct asset *a)
{
	char ipb[64], *txt;
	cJSON *o = asset_json(a);

	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return;
	det_publish_asset(ctx, inv_ip_text(a->af, a->ip, ipb, sizeof(ipb)), txt, strlen(txt));
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
		struct asset *a = &s->t.v[s->dirty[i]];

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
	uint32_t i;

	if (s->ndirty == 0 && (s->republish_us == 0 || now < s->next_sweep))
		return;
	/* once a minute: entries quiet on the broker but still active */
	if (s->republish_us > 0 && now >= s->next_sweep && publishing(ctx)) {
		s->next_sweep = now + 60000000u;
		for (i = 0; i < s->t.n; i++)
			if (s->t.v[i].last > s->t.v[i].published &&
			    s->t.v[i].last - s->t.v[i].published >= s->republish_us)
				mark_dirty(s, &s->t.v[i]);
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
	FILE *fp;
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
		v[i] = &s->t.v[i];
	qsort(v, s->t.n, sizeof(*v), cmp_asset);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddNumberToObject(root, "count", s->t.n);
	cJSON_AddNumberToObject(root, "dropped", (double)s->dropped);
	arr = cJSON_AddArrayToObject(root, "assets");
	for (i = 0; i < s->t.n; i++)
		cJSON_AddItemToArray(arr, asset_json(v[i]));
	free(v);
	txt = cJSON_Print(root);
	cJSON_Delete(root);
	if (txt == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->out);
		return -1;
	}
	fp = strcmp(s->out, "-") == 0 ? stdout : fopen(s->out, "w");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot write the inventory: %s", s->out,
		    strerror(errno));
		free(txt);
		return -1;
	}
	if (fputs(txt, fp) == EOF || fputc('\n', fp) == EOF)
		rc = -1;
	if (fp == stdout ? fflush(fp) != 0 : fclose(fp) != 0)
		rc = -1;
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
};
