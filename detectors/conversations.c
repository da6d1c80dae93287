/*
 * conversations.c - every conversation among the control network's hosts,
 * learned with --learn and carried in the baseline file
 * ("conversations", docs/baseline.md).
 *
 * A conversation is (client IP, server IP, transport, server port).  The
 * server is who answered a SYN; for a flow whose start was not seen (the
 * capture joined mid-stream) and for UDP, the side on the lower port.
 * While learning: every answered conversation, and the hosts that spoke an
 * industrial protocol (OT hosts).  With --baseline:
 *
 *   conv.new_conversation  a conversation never seen between two hosts
 *                          the baseline knows, at least one of them an OT
 *                          host (or inside [policy] ot_networks): a
 *                          covert or command-and-control channel between
 *                          field hosts, a shell on an odd port after an
 *                          exploit.  High when its server is an OT host,
 *                          medium otherwise; raised when the server first
 *                          answers, and again when the conversation
 *                          resumes after quiet_s without it      T0869
 *
 * Industrial protocol conversations are baseline.new_link's, new hosts
 * baseline.new_asset's; multicast and broadcast are nobody's
 * conversation.  Memory: max_conversations learned conversations,
 * max_hosts hosts, max_new new conversations remembered for quiet_s;
 * what does not fit is counted.
 */
#include <arpa/inet.h>
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/blext.h"
#include "detectors/detector.h"
#include "detectors/inventory.h"
#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/registry.h"
#include "lib/htab.h"

#define MEMBER		"conversations"
#define HOST_OT		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04

struct cv_key {
	uint8_t		af, transport;
	uint16_t	port;
	uint8_t		cli[16], srv[16];
};

struct cv_ent {
	struct cv_key	k;
	uint8_t		used;
	uint64_t	last, alerted;	/* new conversations (detection) */
};

struct hkey {
	uint8_t		af;
	uint8_t		ip[16];
};

struct host_ent {
	struct hkey	k;
	uint8_t		used, flags;
};

/* lib/htab keyed by the entry's first ksz bytes, a used byte after it */
struct tab {
	struct htab	 h;
	size_t		 ksz, n, max;
	uint64_t	 dropped;
};

struct conv {
	struct tab	 learn, learn_hosts;	/* --learn */
	struct tab	 known, hosts;		/* --baseline */
	struct tab	 fresh;			/* new ones seen while detecting */
	bool		 learning, detecting;
	uint64_t	 quiet_us;
};

static const struct cfg_key keys[] = {
	{ "max_conversations", CFG_INT, "16384", 16, 1 << 24,
	  "conversations (client, server, transport, port) learned" },
	{ "max_hosts", CFG_INT, "4096", 16, 1 << 22,
	  "hosts learned" },
	{ "max_new", CFG_INT, "4096", 16, 1 << 20,
	  "new conversations remembered while detecting (for quiet_s)" },
	{ "quiet_s", CFG_INT, "3600", 1, 86400 * 30,
	  "a new conversation is raised again when it resumes after this many seconds without it" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* ---- tables: lib/htab, key first, a used byte after it --------------- */

static int
tab_init(struct tab *t, size_t max, size_t esz, size_t ksz)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->ksz = ksz;
	return htab_init(&t->h, esz, ksz,
	    max > UINT32_MAX ? UINT32_MAX : (uint32_t)max);
}

static void
tab_free(struct tab *t)
{
	htab_free(&t->h);
	memset(t, 0, sizeof(*t));
}

/* Entry i < t->n. */
static void *
tab_at(const struct tab *t, size_t i)
{
	return htab_at(&t->h, (uint32_t)i);
}

static void *
tab_get(struct tab *t, const void *k, bool create)
{
	uint8_t *e;
	bool fresh;

	if (t->h.idx == NULL)
		return NULL;	/* a table never initialised: not in use */
	if (!create)
		return htab_get(&t->h, k);
	if ((e = htab_put(&t->h, k, &fresh)) == NULL) {
		t->dropped++;
		return NULL;
	}
	e[t->ksz] = 1;
	t->n = htab_count(&t->h);
	return e;
}

/* ---- orientation ------------------------------------------------------- */

static bool
group_addr(uint8_t af, const uint8_t *ip)
{
	if (af == 4)
		return ip[0] >= 224 || ip[3] == 255;
	return ip[0] == 0xff;
}

/*
 * The conversation of a flow; false when it has none (not IP, multicast).
 * The server answered the client's SYN; without a SYN seen, or for UDP,
 * the lower port serves.
 */
static bool
ics_port(uint16_t port)
{
	int p, i;

	for (p = 1; p < ICS_NPROTO; p++) {
		const struct proto_desc *d = proto_desc_of((enum ics_proto)p);

		for (i = 0; d != NULL && i < 4 && d->ports[i] != 0; i++)
			if (d->ports[i] == port)
				return true;
	}
	return false;
}

/* a port a server listens on: below 1024 or an industrial protocol's */
static bool
service_port(uint16_t port)
{
	return port < 1024 || ics_port(port);
}

/*
 * The conversation of a flow; false when it has none (not IP, multicast,
 * a host talking to itself).  The server answered the client's SYN;
 * without a SYN seen, or for UDP, the side on a service port, else the
 * lower port.
 */
static bool
flow_key(const struct flow *f, struct cv_key *k)
{
	bool swap;

	if ((f->af != 4 && f->af != 6) || (f->transport != 6 && f->transport != 17))
		return false;
	if (group_addr(f->af, f->srv.ip) || group_addr(f->af, f->cli.ip) ||
	    !memcmp(f->cli.ip, f->srv.ip, 16))
		return false;
	if (f->transport == 6 && (f->tcp_flags[FLOW_C2S] & TCP_SYN))
		swap = false;	/* the first sender's SYN opened it */
	else if (service_port(f->srv.port) != service_port(f->cli.port))
		swap = service_port(f->cli.port);
	else
		swap = f->cli.port < f->srv.port;
	memset(k, 0, sizeof(*k));
	k->af = f->af;
	k->transport = f->transport;
	k->port = swap ? f->cli.port : f->srv.port;
	memcpy(k->cli, swap ? f->srv.ip : f->cli.ip, 16);
	memcpy(k->srv, swap ? f->cli.ip : f->srv.ip, 16);
	return true;
}

static struct host_ent *
host(struct tab *t, uint8_t af, const uint8_t *ip, bool create)
{
	struct hkey k;

	memset(&k, 0, sizeof(k));
	k.af = af;
	memcpy(k.ip, ip, 16);
	return tab_get(t, &k, create);
}

/* ---- learning ----------------------------------------------------------- */

static void
cv_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct conv *s = state;
	struct cv_key k;
	struct cv_ent *e;

	(void)ctx;
	if (!flow_key(f, &k))
		return;
	if (s->detecting && (e = tab_get(&s->fresh, &k, false)) != NULL &&
	    f->last_ts > e->last)
		e->last = f->last_ts;
	if (!s->learning || f->pkts[FLOW_C2S] == 0 || f->pkts[FLOW_S2C] == 0)
		return;
	tab_get(&s->learn, &k, true);
	host(&s->learn_hosts, k.af, k.cli, true);
	host(&s->learn_hosts, k.af, k.srv, true);
}

static void
cv_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct conv *s = state;
	const struct flow *f = pdu->flow;
	struct host_ent *h;

	(void)ctx;
	if (!s->learning || f == NULL || (f->af != 4 && f->af != 6))
		return;
	if ((h = host(&s->learn_hosts, f->af, f->cli.ip, true)) != NULL)
		h->flags |= HOST_OT;
	if ((h = host(&s->learn_hosts, f->af, f->srv.ip, true)) != NULL)
		h->flags |= HOST_OT;
}

/* ---- detection ---------------------------------------------------------- */

static bool
ot(struct conv *s, struct det_ctx *ctx, const struct host_ent *h, uint8_t af,
    const uint8_t *ip)
{
	struct det_endpoint e;

	if (h->flags & HOST_OT)
		return true;
	memset(&e, 0, sizeof(e));
	e.af = af;
	memcpy(e.ip, ip, 16);
	return det_in_ot_networks(ctx, &e);
}

static void
cv_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct conv *s = state;
	struct host_ent *hc, *hs;
	struct cv_key k;
	struct cv_ent *e;
	struct det_alert a;
	bool srv_ot, cli_ot, swap;
	char title[256], cb[64], sb[64];
	bool rev;
	int svc;
	cJSON *d;

	/*
	 * Judged once per flow: the first packet of its second side, unless
	 * that is a reset (a closed port answers no conversation: scans are
	 * scan.c's).
	 */
	if (f->pkts[dir] != 1 || f->pkts[!dir] == 0 || f->ics != ICS_NONE ||
	    (p->ip_proto == 6 && (p->tcp_flags & TCP_RST)))
		return;
	if (!flow_key(f, &k) || ics_port(k.port) ||
	    tab_get(&s->known, &k, false) != NULL)
		return;
	if ((hc = host(&s->hosts, k.af, k.cli, false)) == NULL ||
	    (hs = host(&s->hosts, k.af, k.srv, false)) == NULL)
		return;		/* a new host: baseline.new_asset's */
	cli_ot = ot(s, ctx, hc, k.af, k.cli);
	srv_ot = ot(s, ctx, hs, k.af, k.srv);
	if (!cli_ot && !srv_ot)
		return;
	if ((e = tab_get(&s->fresh, &k, true)) != NULL) {
		uint64_t last = e->last;

		e->last = f->first_ts;
		if (e->alerted != 0 && f->first_ts < last + s->quiet_us)
			return;
		e->alerted = f->first_ts;
	}
	swap = memcmp(k.cli, f->cli.ip, 16) != 0;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, !swap);
	det_endpoint_from_flow(&a.dst, f, swap);
	inet_ntop(k.af == 6 ? AF_INET6 : AF_INET, k.cli, cb, sizeof(cb));
	inet_ntop(k.af == 6 ? AF_INET6 : AF_INET, k.srv, sb, sizeof(sb));
	svc = inv_service(f, &rev);
	if (svc >= 0 && (!strcmp(inv_service_name(svc), "tcp") ||
	    !strcmp(inv_service_name(svc), "udp")))
		svc = -1;
	snprintf(title, sizeof(title),
	    "New conversation %s -> %s %s/%u%s%s not in the baseline%s", cb, sb,
	    k.transport == 6 ? "tcp" : "udp", k.port, svc >= 0 ? " " : "",
	    svc >= 0 ? inv_service_name(svc) : "",
	    cli_ot && srv_ot ? " (between two OT hosts)" : "");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "transport", k.transport == 6 ? "tcp" : "udp");
	cJSON_AddNumberToObject(d, "port", k.port);
	if (svc >= 0)
		cJSON_AddStringToObject(d, "service", inv_service_name(svc));
	cJSON_AddBoolToObject(d, "client_ot", cli_ot);
	cJSON_AddBoolToObject(d, "server_ot", srv_ot);
	if (s->known.dropped)
		cJSON_AddNumberToObject(d, "conversations_dropped",
		    (double)s->known.dropped);
	a.detector = "conv.new_conversation";
	a.severity = srv_ot ? SEV_HIGH : SEV_MEDIUM;
	a.technique = "T0869";
	a.title = title;
	a.proto = NULL;
	a.ts = p->ts;
	a.details = d;
	det_alert(ctx, &a);
}

/* ---- the file ----------------------------------------------------------- */

static int
cmp_key(const void *x, const void *y)
{
	return memcmp(*(const void *const *)x, *(const void *const *)y,
	    sizeof(struct cv_key));
}

static int
cmp_hkey(const void *x, const void *y)
{
	return memcmp(*(const void *const *)x, *(const void *const *)y,
	    sizeof(struct hkey));
}

static cJSON *
cv_dump(void *state)
{
	struct conv *s = state;
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	void **v;
	size_t i, n = 0, m = s->learn.n > s->learn_hosts.n ? s->learn.n :
	    s->learn_hosts.n;
	char buf[64];

	if ((v = calloc(m + 1, sizeof(*v))) == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (i = 0; i < s->learn_hosts.n; i++) {
		struct host_ent *h = tab_at(&s->learn_hosts, i);

		if (h->used)
			v[n++] = h;
	}
	qsort(v, n, sizeof(*v), cmp_hkey);
	arr = cJSON_AddArrayToObject(root, "ot_hosts");
	for (i = 0; i < n; i++) {
		struct host_ent *h = v[i];

		if (!(h->flags & HOST_OT))
			continue;
		inet_ntop(h->k.af == 6 ? AF_INET6 : AF_INET, h->k.ip, buf,
		    sizeof(buf));
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
	}
	for (n = 0, i = 0; i < s->learn.n; i++) {
		struct cv_ent *e = tab_at(&s->learn, i);

		if (e->used)
			v[n++] = e;
	}
	qsort(v, n, sizeof(*v), cmp_key);
	arr = cJSON_AddArrayToObject(root, "seen");
	for (i = 0; i < n; i++) {
		struct cv_ent *e = v[i];

		o = cJSON_CreateObject();
		inet_ntop(e->k.af == 6 ? AF_INET6 : AF_INET, e->k.cli, buf,
		    sizeof(buf));
		cJSON_AddStringToObject(o, "client", buf);
		inet_ntop(e->k.af == 6 ? AF_INET6 : AF_INET, e->k.srv, buf,
		    sizeof(buf));
		cJSON_AddStringToObject(o, "server", buf);
		cJSON_AddStringToObject(o, "transport", e->k.transport == 6 ?
		    "tcp" : "udp");
		cJSON_AddNumberToObject(o, "port", e->k.port);
		cJSON_AddItemToArray(arr, o);
	}
	free(v);
	if (s->learn.dropped || s->learn_hosts.dropped) {
		o = cJSON_AddObjectToObject(root, "dropped");
		cJSON_AddNumberToObject(o, "conversations", (double)s->learn.dropped);
		cJSON_AddNumberToObject(o, "hosts", (double)s->learn_hosts.dropped);
	}
	return root;
}

static int
parse_ip(const char *str, uint8_t *af, uint8_t *ip)
{
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, str, ip) == 1) {
		*af = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, str, ip) == 1) {
		*af = 6;
		return 0;
	}
	return -1;
}

static int
load(struct tab *convs, struct tab *hosts, const cJSON *root, const char *path,
    char *err, size_t errlen)
{
	const cJSON *o, *c, *sv, *t, *p;
	struct host_ent *h;
	struct cv_key k;
	uint8_t af2;
	int idx = 0;

	if (root == NULL)
		return 0;
	if (!cJSON_IsObject(root))
		goto bad;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "ot_hosts")) {
		uint8_t af, ip[16];

		if (!cJSON_IsString(o) || parse_ip(o->valuestring, &af, ip) != 0)
			goto bad;
		if ((h = host(hosts, af, ip, true)) != NULL)
			h->flags |= HOST_OT;
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "seen")) {
		c = cJSON_GetObjectItemCaseSensitive(o, "client");
		sv = cJSON_GetObjectItemCaseSensitive(o, "server");
		t = cJSON_GetObjectItemCaseSensitive(o, "transport");
		p = cJSON_GetObjectItemCaseSensitive(o, "port");
		memset(&k, 0, sizeof(k));
		if (!cJSON_IsString(c) || !cJSON_IsString(sv) || !cJSON_IsString(t) ||
		    !cJSON_IsNumber(p) || p->valuedouble < 0 ||
		    p->valuedouble > 65535 ||
		    parse_ip(c->valuestring, &k.af, k.cli) != 0 ||
		    parse_ip(sv->valuestring, &af2, k.srv) != 0 || af2 != k.af ||
		    (strcmp(t->valuestring, "tcp") && strcmp(t->valuestring, "udp")))
			goto bad;
		k.transport = strcmp(t->valuestring, "tcp") == 0 ? 6 : 17;
		k.port = (uint16_t)p->valuedouble;
		tab_get(convs, &k, true);
		host(hosts, k.af, k.cli, true);
		host(hosts, k.af, k.srv, true);
		idx++;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: corrupt baseline: \"%s\" entry %d is not a "
	    "conversation", path, MEMBER, idx);
	return -1;
}

/* ---- life cycle ------------------------------------------------------- */

static void
cv_destroy(void *state)
{
	struct conv *s = state;

	if (s == NULL)
		return;
	blext_unregister(s);
	tab_free(&s->learn);
	tab_free(&s->learn_hosts);
	tab_free(&s->known);
	tab_free(&s->hosts);
	tab_free(&s->fresh);
	free(s);
}

static int
cv_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct conv *s = calloc(1, sizeof(*s));
	const char *lp = blext_learn_path(c), *fp = blext_file_path(c);
	size_t mc = (size_t)cfg_int(c, sec, "max_conversations");
	size_t mh = (size_t)cfg_int(c, sec, "max_hosts");
	cJSON *m;
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "conv: out of memory");
		return -1;
	}
	err[0] = '\0';
	*state = s;
	s->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	s->learning = lp[0] != '\0';
	s->detecting = fp[0] != '\0';
	if (!s->learning && !s->detecting)
		return DET_INACTIVE;
	if (s->learning) {
		if (tab_init(&s->learn, mc, sizeof(struct cv_ent),
		    sizeof(struct cv_key)) != 0 ||
		    tab_init(&s->learn_hosts, mh, sizeof(struct host_ent),
		    sizeof(struct hkey)) != 0)
			goto fail;
		if (blext_read(lp, MEMBER, 1, &m, err, errlen) != 0)
			goto fail;
		rc = load(&s->learn, &s->learn_hosts, m, lp, err, errlen);
		cJSON_Delete(m);
		if (rc != 0 || blext_register(MEMBER, cv_dump, s) != 0)
			goto fail;
	}
	if (s->detecting) {
		if (tab_init(&s->known, mc, sizeof(struct cv_ent),
		    sizeof(struct cv_key)) != 0 ||
		    tab_init(&s->hosts, mh, sizeof(struct host_ent),
		    sizeof(struct hkey)) != 0 ||
		    tab_init(&s->fresh, (size_t)cfg_int(c, sec, "max_new"),
		    sizeof(struct cv_ent), sizeof(struct cv_key)) != 0)
			goto fail;
		if (blext_read(fp, MEMBER, 0, &m, err, errlen) != 0)
			goto fail;
		rc = load(&s->known, &s->hosts, m, fp, err, errlen);
		cJSON_Delete(m);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "conv: out of memory");
	cv_destroy(s);
	*state = NULL;
	return -1;
}

static int
cv_stats(void *state, char *buf, size_t len)
{
	const struct conv *s = state;

	return snprintf(buf, len, "\"conversations\":%zu,\"hosts\":%zu,"
	    "\"new\":%zu,\"dropped\":%llu,\"bytes\":%zu",
	    s->learn.n + s->known.n, s->learn_hosts.n + s->hosts.n, s->fresh.n,
	    (unsigned long long)(s->learn.dropped + s->known.dropped +
	    s->fresh.dropped), htab_bytes(&s->learn.h) +
	    htab_bytes(&s->known.h) + htab_bytes(&s->fresh.h) +
	    htab_bytes(&s->learn_hosts.h) + htab_bytes(&s->hosts.h));
}

static void
cv_counters(void *state, det_counter_fn add, void *arg)
{
	const struct conv *s = state;

	add(arg, "conversations_dropped", s->learn.dropped + s->known.dropped);
	add(arg, "hosts_dropped", s->learn_hosts.dropped + s->hosts.dropped);
	add(arg, "new_dropped", s->fresh.dropped);
}

const struct detector det_conv = {
	.name = "conv",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = cv_init,
	.on_packet = cv_packet,
	.on_flow_end = cv_flow_end,
	.on_pdu = cv_pdu,
	.stats = cv_stats,
	.counters = cv_counters,
	.destroy = cv_destroy,
};
