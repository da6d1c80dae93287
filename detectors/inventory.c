/*
 * inventory.c - what the asset inventory (assets.c) and the baseline
 * (baseline*.c) share: the IEEE OUI vendor table (Debian's ieee-data,
 * loaded lazily and reference-counted), the IT and remote-access services
 * a flow may carry, the role of a PDU's sender, and the JSON pieces both
 * write.
 */
#include "detectors/inventory.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detectors/detector.h"
#include "dissectors/bacnet.h"
#include "dissectors/pndcp.h"
#include "dissectors/flow.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"

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

/* The registry's lines, from a stream (a pipe, a special file). */
static void
oui_read_stream(FILE *fp, bool csv)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, fp) > 0)
		if ((csv ? oui_line_csv(line) : oui_line_txt(line)) != 0)
			break;
	free(line);
}

/*
 * The same lines from the mapped file: only those that can hold an entry
 * (six hex digits first, or "MA-L,") are copied out and parsed, so the
 * ~195,000 lines of oui.txt cost no getline() each and no 4 KiB reads.
 * false: not mapped (the caller reads it as a stream).
 */
static bool
oui_read_mapped(int fd, bool csv)
{
	const char *m, *p, *end, *nl;
	char *line = NULL;
	size_t cap = 0, len;
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return false;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return false;
	end = m + st.st_size;
	for (p = m; p < end; p += len) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl + 1 : end) - p);
		if (csv ? len < 5 || memcmp(p, "MA-L,", 5) != 0 :
		    len < 6 || parse_oui6(p) < 0)
			continue;
		if (len + 1 > cap) {
			char *nb = realloc(line, len + 1);

			if (nb == NULL)
				break;
			line = nb;
			cap = len + 1;
		}
		memcpy(line, p, len);	/* as getline() hands it over */
		line[len] = '\0';
		if ((csv ? oui_line_csv(line) : oui_line_txt(line)) != 0)
			break;
	}
	free(line);
	munmap((void *)m, (size_t)st.st_size);
	return true;
}

/*
 * By OUI, the file's order kept among equal ones (as glibc's merge sort
 * in qsort() did): two stable counting passes over the 24-bit key.
 */
static void
oui_sort(void)
{
	struct oui_ent *tmp = malloc(oui.n * sizeof(*tmp));
	uint32_t cnt[4096], sum, c;
	size_t i;
	int pass, shift;

	if (tmp == NULL) {
		qsort(oui.v, oui.n, sizeof(oui.v[0]), oui_cmp);
		return;
	}
	for (pass = 0; pass < 2; pass++) {
		struct oui_ent *from = pass == 0 ? oui.v : tmp;
		struct oui_ent *to = pass == 0 ? tmp : oui.v;

		shift = pass * 12;
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < oui.n; i++)
			cnt[from[i].oui >> shift & 0xfff]++;
		for (i = 0, sum = 0; i < 4096; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < oui.n; i++)
			to[cnt[from[i].oui >> shift & 0xfff]++] = from[i];
	}
	free(tmp);
}

/* Read one registry file; 0, or -1 when it cannot be opened. */
static int
oui_read(const char *path)
{
	size_t i, k;
	bool csv = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".csv") == 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FILE *fp;

	if (fd < 0)
		return -1;
	if (!oui_read_mapped(fd, csv)) {
		if ((fp = fdopen(fd, "r")) == NULL) {
			close(fd);
			return -1;
		}
		oui_read_stream(fp, csv);
		fclose(fp);
	} else
		close(fd);
	if (oui.n == 0)
		return 0;
	oui_sort();
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
	/*
	 * Layer-2 frames have no client/server: GOOSE, SV and LLDP report
	 * about their sender; a DCP request asks, its answer reports.
	 */
	switch (pdu->proto) {
	case ICS_GOOSE:
	case ICS_SV:
	case ICS_LLDP:
		return 2;
	case ICS_PNDCP:
		return pdu->u.pndcp->type == PNDCP_REQUEST &&
		    pdu->u.pndcp->service != PNDCP_SVC_HELLO ? 1 : 2;
	default:
		break;
	}
	return pdu->from_client ? 1 : 2;
}

/* ---- JSON pieces both files write ------------------------------------- */

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
