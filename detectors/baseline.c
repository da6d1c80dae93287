/*
 * baseline.c - learn what normal looks like, then flag what is new.
 *
 * [detector.baseline] learn = FILE learns from this run and writes FILE at
 * the end (an existing FILE is loaded first and extended, so learning more
 * traffic into a baseline only ever adds to it).  file = FILE detects
 * against a baseline learned before:
 *
 *   baseline.new_asset            a host the baseline does not know: info
 *                                 when it only speaks IT protocols, low when
 *                                 it speaks an industrial protocol
 *   baseline.new_link             an industrial client->server link (or a
 *                                 protocol between two hosts) never seen;
 *                                 high + T0855 when its first request is a
 *                                 write by a host that never wrote, high +
 *                                 T0848 for any other request to a server
 *                                 whose clients were learned (rogue master)
 *   baseline.new_function         a function code / service / type id never
 *                                 seen on a known link; T0855 (high) for a
 *                                 write by a host that never wrote, T0888
 *                                 for device identification by a host that
 *                                 never identified devices
 *   baseline.write_outside_range  a write to addresses outside those the
 *                                 link wrote while learning          T0836
 *   baseline.rate                 requests on a link far above the learned
 *                                 rate (max over rate_window windows) T0814
 *   baseline.remote_service       SSH/RDP/Telnet/VNC/SMB/... on a link the
 *                                 baseline never saw                 T0886
 *
 * The verdict hook answers det_policy() for the other detectors from the
 * loaded baseline: a host that wrote (identified devices, used remote
 * access) while learning, or is listed in the file's allowed_* lists, is
 * allowed; one that did not is denied, but only for protocols the baseline
 * covers.  [policy] wins over it (detectors/services.c).
 *
 * Everything is bounded: max_assets / max_links entries, a fixed number of
 * function codes and write ranges per link; what does not fit is counted.
 * Per packet the detector does nothing but for remote-access ports; the
 * work is per PDU (one cached table slot per flow) and per flow.
 *
 * The file format is documented in docs/baseline.md.
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <ndpi_protocol_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dissectors/bacnet.h"
#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/enip.h"
#include "dissectors/fins.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "lib/ids.h"
#include "lib/ipmap.h"
#include "detectors/inventory.h"
#include "dissectors/modbus.h"
#include "dissectors/opcua.h"
#include "dissectors/s7comm.h"


#define BL_VERSION	1
#define BL_FORMAT	"icsentry-baseline"
#define MAX_FN		48	/* function codes kept per link */
#define MAX_RG		16	/* write ranges kept per link */
#define MAX_OPS		8	/* codes / ranges taken from one PDU */
#define FILE_MAX	(256u << 20)
#define CACHE		1024

_Static_assert(ICS_NPROTO <= 32, "protocol sets are 32-bit masks");

/* ---- the model ------------------------------------------------------------ */

#define AL_IT		0x01	/* new_asset (info) raised */
#define AL_ICS		0x02	/* new_asset (low) raised */

struct bl_asset {
	uint8_t		af;
	uint8_t		ip[16];		/* key: af + ip */
	uint8_t		has_mac;
	uint8_t		mac[6];
	uint8_t		learned;	/* from the file (detection) */
	uint8_t		alerted;	/* AL_* */
	uint8_t		remote;		/* used remote access (derived) */
	uint64_t	first, last;
	uint32_t	cli, srv;	/* industrial protocols, by role */
	uint32_t	it_cli, it_srv;	/* IT services, by role */
	uint32_t	writer, discoverer;	/* derived from links */
};
#define ASSET_KLEN	17

/* A link: who asks whom, over which protocol and server port. */
struct bl_key {
	uint8_t		af;
	uint8_t		proto;		/* enum ics_proto; 0 = IT service */
	uint8_t		transport;	/* 6 tcp, 17 udp */
	uint8_t		pad;
	uint16_t	port;		/* the server's */
	uint8_t		cli[16], srv[16];
};

struct bl_range {
	uint32_t	space;		/* per protocol: unit+table, area+db... */
	uint32_t	lo, hi;
};

struct bl_link {
	struct bl_key	 k;
	uint8_t		 learned, alerted, svc;
	uint8_t		 nfn, nfn_learned, fn_full;
	uint8_t		 nrg, rg_full;
	uint16_t	 fn[MAX_FN];
	struct bl_range	*rg;		/* MAX_RG, allocated on the first write */
	uint64_t	 first, last;
	double		 max_rate;	/* requests/s, max over windows */
	/* the current window (learning: its maximum; detection: the alert) */
	uint64_t	 win_start;
	uint32_t	 win_count, win_max;
	uint8_t		 win_alerted;
};

/* Growable open-addressing table, key at offset 0; entries never move index. */
struct slot {
	uint32_t	e;		/* entry index + 1, 0 = empty */
	uint32_t	h;		/* its key's hash */
};

struct tab {
	uint8_t		*v;
	size_t		 esz, klen;
	uint32_t	 n, cap, max, mask;
	struct slot	*idx;
	uint64_t	 dropped;
};

struct cache_ent {
	uint64_t	flow_id;
	uint8_t		proto;
	uint32_t	link[2];	/* +1; [0]: client is flow->cli */
	uint32_t	asset[2];	/* +1; flow->cli, flow->srv */
};

struct model {
	struct tab	 assets, links;
	uint32_t	 covered;	/* protocols the baseline knows */
	struct cfg_nets	 writers[ICS_NPROTO];
	struct cfg_nets	 discovery, remote;
	cJSON		*allowed_writers, *allowed_discovery, *allowed_remote;
	uint64_t	 first, last;
	struct cache_ent cache[CACHE];
};

struct bl_state {
	char		 learn_path[1024], file_path[1024];
	struct model	*learn;		/* extended and written at the end */
	struct model	*det;		/* detected against; read only */
	uint64_t	 window_us;
	double		 window_s, factor, min_obs_s;
	uint32_t	 min_requests;
	uint32_t	 asset_alerts;	/* per minute */
	uint64_t	 bucket_start;
	uint32_t	 bucket_used;
	uint64_t	 suppressed;
	bool		 full_reported;
};

static char bl_err[1200];

static const struct cfg_key keys[] = {
	{ "learn", CFG_STR, NULL, 0, 0,
	  "learn from this run and write the baseline to FILE at the end (an existing FILE is extended)" },
	{ "file", CFG_STR, NULL, 0, 0,
	  "detect deviations from the baseline in FILE" },
	{ "rate_window", CFG_DOUBLE, "10", 1, 3600,
	  "seconds per window over which request rates are measured" },
	{ "rate_factor", CFG_DOUBLE, "4", 1, 1000000,
	  "a link's requests per window above this many times its learned maximum raise baseline.rate" },
	{ "rate_min_requests", CFG_INT, "50", 1, 1000000000,
	  "never raise baseline.rate for fewer requests than this in one window" },
	{ "min_observation", CFG_DOUBLE, "60", 0, 31536000,
	  "seconds a link must have been seen while learning before its rate is trusted" },
	{ "max_assets", CFG_INT, "65536", 16, 10000000,
	  "hosts kept (learned and new); beyond it they are counted as dropped" },
	{ "max_links", CFG_INT, "65536", 16, 100000000,
	  "links kept (learned and new); beyond it they are counted as dropped" },
	{ "new_asset_alerts", CFG_INT, "30", 1, 1000000,
	  "baseline.new_asset alerts per minute at most (the rest are counted)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* ---- table ------------------------------------------------------------------ */

/* Keys are a few dozen bytes of addresses: the bounded maps' hash. */
static uint32_t
hash_key(const uint8_t *k, size_t n)
{
	return ipmap_hash(k, n);
}

static void *
tab_at(const struct tab *t, uint32_t i)
{
	return t->v + (size_t)i * t->esz;
}

static void *
tab_get(const struct tab *t, const void *key)
{
	uint32_t h, i, e;

	if (t->idx == NULL)
		return NULL;
	h = hash_key(key, t->klen);
	for (i = h & t->mask; (e = t->idx[i].e) != 0; i = (i + 1) & t->mask)
		if (t->idx[i].h == h && memcmp(tab_at(t, e - 1), key, t->klen) == 0)
			return tab_at(t, e - 1);
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
	uint32_t cap = t->cap ? t->cap * 2 : 64, size, j;
	struct slot *ni;
	uint8_t *nv;

	if (cap > t->max)
		cap = t->max;
	if ((nv = realloc(t->v, (size_t)cap * t->esz)) == NULL)
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
		tab_link(t, j, hash_key(tab_at(t, j), t->klen));
	return 0;
}

/* The entry of key, added zeroed (key copied) when new; NULL when full. */
static void *
tab_put(struct tab *t, const void *key, bool *fresh)
{
	void *e;

	*fresh = false;
	if ((e = tab_get(t, key)) != NULL)
		return e;
	if (t->n == t->max || (t->n == t->cap && tab_grow(t) != 0)) {
		t->dropped++;
		return NULL;
	}
	e = tab_at(t, t->n);
	memset(e, 0, t->esz);
	memcpy(e, key, t->klen);
	tab_link(t, t->n++, hash_key(key, t->klen));
	*fresh = true;
	return e;
}

static uint32_t
tab_index(const struct tab *t, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - t->v) / t->esz);
}

static struct model *
model_new(uint32_t max_assets, uint32_t max_links)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->assets.esz = sizeof(struct bl_asset);
	m->assets.klen = ASSET_KLEN;
	m->assets.max = max_assets;
	m->links.esz = sizeof(struct bl_link);
	m->links.klen = sizeof(struct bl_key);
	m->links.max = max_links;
	return m;
}

static void
model_free(struct model *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->links.n; i++)
		free(((struct bl_link *)tab_at(&m->links, i))->rg);
	for (i = 0; i < ICS_NPROTO; i++)
		free(m->writers[i].v);
	free(m->discovery.v);
	free(m->remote.v);
	cJSON_Delete(m->allowed_writers);
	cJSON_Delete(m->allowed_discovery);
	cJSON_Delete(m->allowed_remote);
	free(m->assets.v);
	free(m->assets.idx);
	free(m->links.v);
	free(m->links.idx);
	free(m);
}

static struct bl_asset *
asset_put(struct model *m, uint8_t af, const uint8_t *ip, bool *fresh)
{
	uint8_t key[ASSET_KLEN];

	memset(key, 0, sizeof(key));
	key[0] = af;
	memcpy(key + 1, ip, af == 6 ? 16 : 4);
	return tab_put(&m->assets, key, fresh);
}

static struct bl_asset *
asset_get(const struct model *m, uint8_t af, const uint8_t *ip)
{
	uint8_t key[ASSET_KLEN];

	memset(key, 0, sizeof(key));
	key[0] = af;
	memcpy(key + 1, ip, af == 6 ? 16 : 4);
	return tab_get(&m->assets, key);
}

static void
make_key(struct bl_key *k, uint8_t af, uint8_t proto, uint8_t transport,
    uint16_t port, const uint8_t *cli, const uint8_t *srv)
{
	size_t alen = af == 6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	k->af = af;
	k->proto = proto;
	k->transport = transport;
	k->port = port;
	memcpy(k->cli, cli, alen);
	memcpy(k->srv, srv, alen);
}

static void
seen(uint64_t *first, uint64_t *last, uint64_t ts)
{
	if (*first == 0 || ts < *first)
		*first = ts;
	if (ts > *last)
		*last = ts;
}

static bool
fn_has(const struct bl_link *l, uint16_t code)
{
	uint8_t i;

	for (i = 0; i < l->nfn; i++)
		if (l->fn[i] == code)
			return true;
	return false;
}

static bool
fn_add(struct bl_link *l, uint16_t code)
{
	if (fn_has(l, code))
		return false;
	if (l->nfn == MAX_FN) {
		l->fn_full = 1;
		return false;
	}
	l->fn[l->nfn++] = code;
	return true;
}

static bool
rg_contains(const struct bl_link *l, const struct bl_range *r)
{
	uint8_t i;

	for (i = 0; i < l->nrg; i++)
		if (l->rg[i].space == r->space && l->rg[i].lo <= r->lo &&
		    r->hi <= l->rg[i].hi)
			return true;
	return false;
}

/*
 * Detection's question: is r inside, or right next to, a learned written
 * block?  Setpoints come in blocks and a baseline learned over a short
 * time has seen only some of a block's registers written; a write within
 * RG_SLACK addresses (or the block's own width, if larger) of a learned
 * block is the same block.  Far away is a different parameter (T0836).
 */
#define RG_SLACK	8
static bool
rg_near(const struct bl_link *l, const struct bl_range *r)
{
	uint64_t slack, lo, hi;
	uint8_t i;

	for (i = 0; i < l->nrg; i++) {
		if (l->rg[i].space != r->space)
			continue;
		slack = (uint64_t)l->rg[i].hi - l->rg[i].lo + 1;
		if (slack < RG_SLACK)
			slack = RG_SLACK;
		lo = l->rg[i].lo > slack ? l->rg[i].lo - slack : 0;
		hi = (uint64_t)l->rg[i].hi + slack;
		if (lo <= r->lo && r->hi <= hi)
			return true;
	}
	return false;
}

/*
 * Add a written range, merging overlapping and adjacent ones; when the
 * link already has MAX_RG ranges it widens the closest one of the same
 * space (detection then errs towards silence).
 */
static void
rg_add(struct bl_link *l, const struct bl_range *r)
{
	struct bl_range *x;
	uint8_t i, j, best = 0;
	uint64_t gap, bgap = UINT64_MAX;
	bool merged;

	if (rg_contains(l, r))
		return;
	if (l->rg == NULL && (l->rg = calloc(MAX_RG, sizeof(*l->rg))) == NULL)
		return;
	for (i = 0; i < l->nrg; i++) {
		x = &l->rg[i];
		if (x->space == r->space && (uint64_t)r->lo <= (uint64_t)x->hi + 1 &&
		    (uint64_t)r->hi + 1 >= x->lo)
			break;
	}
	if (i == l->nrg) {
		if (l->nrg < MAX_RG) {
			l->rg[l->nrg++] = *r;
			return;
		}
		for (i = 0; i < l->nrg; i++) {
			x = &l->rg[i];
			if (x->space != r->space)
				continue;
			gap = r->lo > x->hi ? (uint64_t)r->lo - x->hi : (uint64_t)x->lo - r->hi;
			if (gap < bgap) {
				bgap = gap;
				best = i;
			}
		}
		l->rg_full = 1;
		if (bgap == UINT64_MAX)
			return;
		i = best;
	}
	x = &l->rg[i];
	if (r->lo < x->lo)
		x->lo = r->lo;
	if (r->hi > x->hi)
		x->hi = r->hi;
	/* the widened range may now touch others of its space */
	do {
		merged = false;
		for (j = 0; j < l->nrg; j++) {
			struct bl_range *y = &l->rg[j];

			if (j == i || y->space != x->space ||
			    (uint64_t)y->lo > (uint64_t)x->hi + 1 ||
			    (uint64_t)y->hi + 1 < x->lo)
				continue;
			if (y->lo < x->lo)
				x->lo = y->lo;
			if (y->hi > x->hi)
				x->hi = y->hi;
			l->rg[j] = l->rg[--l->nrg];
			if (i == l->nrg)
				i = j;
			x = &l->rg[i];
			merged = true;
			break;
		}
	} while (merged);
}

/* ---- what a PDU asks for ------------------------------------------------- */

#define OP_WRITE	0x01
#define OP_DISC		0x02

struct req {
	uint8_t		nops, nrg;
	uint16_t	code[MAX_OPS];
	struct bl_range	rg[MAX_OPS];
};

/*
 * Function codes are per protocol (docs/baseline.md):
 *   modbus   function code; UMAS (fc 90) 0x100 | UMAS function
 *   dnp3     application function code
 *   s7comm   job function; userdata 0x1000 | group << 8 | subfunction;
 *            SZL reads of 0x0011 / 0x001C: 0x2011 / 0x201C
 *   s7comm-plus function; iec104 type id; opcua service NodeId;
 *   omron-fins command (MRC << 8 | SRC)
 *   enip     CIP service; 0x100 | encapsulation command (ListIdentity
 *            0x163...); 0x200 | service for Connection Manager services
 *   bacnet   confirmed service; 0x100 | unconfirmed service
 */
static uint8_t
code_flags(uint8_t proto, uint16_t c)
{
	switch (proto) {
	case ICS_MODBUS:
		if (c < 0x100)
			return modbus_fc_is_write((uint8_t)c) ? OP_WRITE :
			    c == MODBUS_FC_ENCAPSULATED_INTERFACE ||
			    c == MODBUS_FC_REPORT_SERVER_ID ? OP_DISC : 0;
		return c == (0x100 | MODBUS_UMAS_WRITE_VARIABLES) ? OP_WRITE : 0;
	case ICS_DNP3:
		return c >= DNP3_FC_WRITE && c <= DNP3_FC_DIRECT_OPERATE_NR ?
		    OP_WRITE : 0;
	case ICS_S7COMM:
		return c == S7_FUNC_WRITE_VAR ? OP_WRITE :
		    c == 0x2011 || c == 0x201C ? OP_DISC : 0;
	case ICS_S7COMMPLUS:
		return c == 0x04F2 || c == 0x0542 ? OP_WRITE : 0;
	case ICS_IEC104:
		return c < 0x100 && iec104_type_is_command((uint8_t)c) ? OP_WRITE : 0;
	case ICS_ENIP:
		switch (c) {
		case CIP_SVC_SET_ATTRIBUTES_ALL:
		case CIP_SVC_SET_ATTRIBUTE_LIST:
		case CIP_SVC_SET_ATTRIBUTE_SINGLE:
		case CIP_SVC_SET_MEMBER:
		case CIP_SVC_WRITE_TAG:
		case CIP_SVC_WRITE_TAG_FRAGMENTED:
		case CIP_SVC_READ_MODIFY_WRITE:
			return OP_WRITE;
		case 0x100 | ENIP_CMD_LIST_IDENTITY:
			return OP_DISC;
		}
		return 0;
	case ICS_BACNET:
		switch (c) {
		case BACNET_SVC_ATOMIC_WRITE_FILE:
		case BACNET_SVC_CREATE_OBJECT:
		case BACNET_SVC_DELETE_OBJECT:
		case BACNET_SVC_WRITE_PROPERTY:
		case BACNET_SVC_WRITE_PROPERTY_MULTIPLE:
			return OP_WRITE;
		case 0x100 | BACNET_USVC_WHO_IS:
		case 0x100 | BACNET_USVC_WHO_HAS:
			return OP_DISC;
		}
		return 0;
	case ICS_OPCUA:
		switch (c) {
		case OPCUA_SVC_WRITE_REQ:
		case OPCUA_SVC_CALL_REQ:
		case OPCUA_SVC_ADD_NODES_REQ:
		case OPCUA_SVC_DELETE_NODES_REQ:
		case OPCUA_SVC_HISTORY_UPDATE_REQ:
			return OP_WRITE;
		case OPCUA_SVC_BROWSE_REQ:
		case OPCUA_SVC_BROWSE_NEXT_REQ:
			return OP_DISC;
		}
		return 0;
	case ICS_FINS:
		switch (c) {
		case FINS_MEM_WRITE:
		case FINS_MEM_FILL:
		case FINS_MEM_TRANSFER:
		case FINS_PARAM_WRITE:
		case FINS_PARAM_CLEAR:
		case FINS_FILE_WRITE:
		case FINS_FILE_DELETE:
		case FINS_FORCED_SET_RESET:
		case FINS_FORCED_CANCEL:
			return OP_WRITE;
		case FINS_CONTROLLER_DATA_READ:
			return OP_DISC;
		}
		return 0;
	}
	return 0;
}

static const char *
code_name(uint8_t proto, uint16_t c, char *buf, size_t len)
{
	switch (proto) {
	case ICS_MODBUS:
		if (c < 0x100)
			return modbus_fc_name((uint8_t)c);
		snprintf(buf, len, "UMAS %s", modbus_umas_name((uint8_t)c));
		return buf;
	case ICS_DNP3:
		return dnp3_fc_name((uint8_t)c);
	case ICS_S7COMM:
		if (c < 0x100)
			return s7_func_name((uint8_t)c);
		if (c == 0x2011)
			return "Read SZL 0x0011 (module identification)";
		if (c == 0x201C)
			return "Read SZL 0x001C (component identification)";
		snprintf(buf, len, "Userdata group %u subfunction %u",
		    (c >> 8) & 0x0F, c & 0xFF);
		return buf;
	case ICS_S7COMMPLUS:
		return s7_plus_func_name(c);
	case ICS_IEC104:
		return iec104_type_name((uint8_t)c);
	case ICS_ENIP:
		if (c < 0x100)
			return cip_service_name((uint8_t)c);
		if (c < 0x200)
			return enip_cmd_name(c & 0xFF);
		return cip_service_name_for_class((uint8_t)c, CIP_CLASS_CONNECTION_MANAGER);
	case ICS_BACNET:
		return bacnet_service_name(c < 0x100 ? BACNET_APDU_CONFIRMED_REQ :
		    BACNET_APDU_UNCONFIRMED_REQ, (uint8_t)c);
	case ICS_OPCUA:
		return opcua_service_name(c);
	case ICS_FINS:
		return fins_cmd_name(c);
	}
	snprintf(buf, len, "%u", c);
	return buf;
}

static void
req_code(struct req *r, uint16_t c)
{
	uint8_t i;

	for (i = 0; i < r->nops; i++)
		if (r->code[i] == c)
			return;
	if (r->nops < MAX_OPS)
		r->code[r->nops++] = c;
}

static void
req_range(struct req *r, uint32_t space, uint32_t lo, uint32_t n)
{
	struct bl_range *g;

	if (r->nrg == MAX_OPS)
		return;
	g = &r->rg[r->nrg++];
	g->space = space;
	g->lo = lo;
	g->hi = n > 0 ? lo + n - 1 : lo;
}

static uint16_t
cip_code(uint8_t svc, const struct cip_path *p)
{
	if (p->has_class && p->class_id == CIP_CLASS_CONNECTION_MANAGER &&
	    (svc == 0x4E || svc == 0x52 || svc == 0x54 || svc == 0x5B))
		return 0x200 | svc;
	return svc;
}

static uint32_t
s7_elem_size(uint8_t ts)
{
	switch (ts) {
	case 4: case 5: case 0x1C: case 0x1D:
		return 2;
	case 6: case 7: case 8:
		return 4;
	}
	return 1;
}

/* The codes and write ranges of a request (a PDU its sender asks with). */
static void
analyse(const struct det_pdu *pdu, struct req *r)
{
	uint8_t i;

	memset(r, 0, sizeof(*r));
	switch (pdu->proto) {
	case ICS_MODBUS: {
		const struct modbus_pdu *m = pdu->u.modbus;
		uint32_t space;

		if (m->fc == MODBUS_FC_UMAS && m->has_umas) {
			req_code(r, 0x100 | m->umas_func);
			return;
		}
		req_code(r, m->fc);
		if (!modbus_fc_is_write(m->fc))
			return;
		space = (uint32_t)m->unit << 8 |
		    (m->fc == MODBUS_FC_WRITE_SINGLE_COIL ||
		    m->fc == MODBUS_FC_WRITE_MULTIPLE_COILS ? 0 : 1);
		if (m->has_write_range)
			req_range(r, space, m->write_address, m->write_quantity);
		else if (m->has_range)
			req_range(r, space, m->address, m->quantity);
		return;
	}
	case ICS_DNP3:
		if (pdu->u.dnp3->has_app && pdu->u.dnp3->app_fc < 0x80)
			req_code(r, pdu->u.dnp3->app_fc);
		return;
	case ICS_S7COMM: {
		const struct s7_comm *s = &pdu->u.s7->s7;

		if (s->rosctr == S7_ROSCTR_JOB && s->has_func) {
			req_code(r, s->func);
			if (s->func != S7_FUNC_WRITE_VAR)
				return;
			for (i = 0; i < s->nitems; i++)
				if (s->items[i].any)
					req_range(r, (uint32_t)s->items[i].area << 16 |
					    s->items[i].db, s->items[i].address >> 3,
					    s->items[i].transport_size == 1 ? 1 :
					    s->items[i].length *
					    s7_elem_size(s->items[i].transport_size));
		} else if (s->rosctr == S7_ROSCTR_USERDATA && s->has_ud &&
		    s->ud_type == S7_UD_TYPE_REQUEST) {
			if (s->ud_group == S7_UD_GROUP_CPU &&
			    s->ud_subfunc == S7_UD_CPU_READ_SZL && s->has_szl &&
			    ((s->szl_id & 0xff) == 0x11 || (s->szl_id & 0xff) == 0x1c))
				req_code(r, 0x2000 | (s->szl_id & 0xff));
			else
				req_code(r, 0x1000 | (s->ud_group & 0x0F) << 8 |
				    s->ud_subfunc);
		}
		return;
	}
	case ICS_S7COMMPLUS: {
		const struct s7_plus *p = &pdu->u.s7->plus;

		if (p->has_function && p->has_opcode && p->opcode == 0x31)
			req_code(r, p->function);
		return;
	}
	case ICS_IEC104: {
		const struct iec104_apdu *m = pdu->u.iec104;

		if (!m->has_asdu)
			return;
		req_code(r, m->type_id);
		if (iec104_type_is_command(m->type_id) && m->has_ioa)
			req_range(r, m->common_address, m->ioa, 1);
		return;
	}
	case ICS_ENIP: {
		const struct enip_pdu *m = pdu->u.enip;

		if (m->command != ENIP_CMD_SEND_RR_DATA &&
		    m->command != ENIP_CMD_SEND_UNIT_DATA) {
			if (m->command < 0x100)
				req_code(r, 0x100 | m->command);
			return;
		}
		if (!m->has_cip || m->cip.response)
			return;
		req_code(r, cip_code(m->cip.service, &m->cip.path));
		if (m->cip.multi)
			for (i = 0; i < m->cip.multi_kept; i++)
				req_code(r, cip_code(m->cip.multi_entries[i].service,
				    &m->cip.multi_entries[i].path));
		return;
	}
	case ICS_BACNET: {
		const struct bacnet_pdu *b = pdu->u.bacnet;

		if (!b->has_apdu || !b->has_service)
			return;
		if (b->apdu_type == BACNET_APDU_CONFIRMED_REQ) {
			req_code(r, b->service);
			if ((code_flags(ICS_BACNET, b->service) & OP_WRITE) &&
			    b->has_object)
				req_range(r, b->object_type, b->object_instance, 1);
		} else if (b->apdu_type == BACNET_APDU_UNCONFIRMED_REQ)
			req_code(r, 0x100 | b->service);
		return;
	}
	case ICS_OPCUA: {
		const struct opcua_pdu *m = pdu->u.opcua;

		if (m->type == OPCUA_MSG_MSG && m->has_service &&
		    m->service_id <= 0xFFFF)
			req_code(r, (uint16_t)m->service_id);
		return;
	}
	case ICS_FINS: {
		const struct fins_pdu *m = pdu->u.fins;

		if (!m->has_frame || m->response)
			return;
		req_code(r, m->cmd);
		if ((code_flags(ICS_FINS, m->cmd) & OP_WRITE) && m->has_area)
			req_range(r, m->area, m->address, m->count);
		return;
	}
	default:
		return;
	}
}

/* ---- names for the file --------------------------------------------------- */

static const char *
proto_name(uint8_t proto, uint8_t svc)
{
	if (proto != ICS_NONE)
		return ics_proto_name((enum ics_proto)proto);
	return inv_service_name(svc);
}

/* ICS protocol by name, or -1. */
static int
ics_by_name(const char *name)
{
	int i;

	for (i = 1; i < ICS_NPROTO; i++)
		if (strcmp(ics_proto_name((enum ics_proto)i), name) == 0)
			return i;
	return -1;
}

static const struct {
	uint8_t		 area;
	const char	*name;
} s7_areas[] = {
	{ S7_AREA_P, "P" }, { S7_AREA_INPUTS, "I" }, { S7_AREA_OUTPUTS, "Q" },
	{ S7_AREA_FLAGS, "M" }, { S7_AREA_DB, "DB" }, { S7_AREA_DI, "DI" },
	{ S7_AREA_LOCAL, "L" }, { S7_AREA_V, "V" }, { S7_AREA_COUNTER, "C" },
	{ S7_AREA_TIMER, "T" },
};

static cJSON *
range_json(uint8_t proto, const struct bl_range *r)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	switch (proto) {
	case ICS_MODBUS:
		cJSON_AddNumberToObject(o, "unit", r->space >> 8);
		cJSON_AddStringToObject(o, "table", (r->space & 0xff) == 0 ? "coils" :
		    "holding_registers");
		break;
	case ICS_S7COMM:
		for (i = 0; i < sizeof(s7_areas) / sizeof(s7_areas[0]); i++)
			if (s7_areas[i].area == r->space >> 16)
				break;
		if (i < sizeof(s7_areas) / sizeof(s7_areas[0]))
			cJSON_AddStringToObject(o, "area", s7_areas[i].name);
		else
			cJSON_AddNumberToObject(o, "area", r->space >> 16);
		cJSON_AddNumberToObject(o, "db", r->space & 0xffff);
		break;
	case ICS_IEC104:
		cJSON_AddNumberToObject(o, "common_address", r->space);
		break;
	case ICS_BACNET:
		cJSON_AddNumberToObject(o, "object_type", r->space);
		break;
	case ICS_FINS:
		cJSON_AddNumberToObject(o, "area", r->space);
		break;
	default:
		cJSON_AddNumberToObject(o, "space", r->space);
		break;
	}
	cJSON_AddNumberToObject(o, "start", r->lo);
	cJSON_AddNumberToObject(o, "end", r->hi);
	return o;
}

static const char *
range_text(uint8_t proto, const struct bl_range *r, char *buf, size_t len)
{
	switch (proto) {
	case ICS_MODBUS:
		snprintf(buf, len, "unit %u %s %u-%u", r->space >> 8,
		    (r->space & 0xff) == 0 ? "coils" : "holding registers", r->lo,
		    r->hi);
		break;
	case ICS_S7COMM:
		snprintf(buf, len, "area 0x%02x db %u bytes %u-%u", r->space >> 16,
		    r->space & 0xffff, r->lo, r->hi);
		break;
	case ICS_IEC104:
		snprintf(buf, len, "common address %u IOA %u-%u", r->space, r->lo,
		    r->hi);
		break;
	default:
		snprintf(buf, len, "space %u %u-%u", r->space, r->lo, r->hi);
		break;
	}
	return buf;
}

/* ---- loading ------------------------------------------------------------------ */

struct loader {
	const char	*path;
	char		 where[96];
};

static int fail(const struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(const struct loader *ld, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->where[0] != '\0')
		snprintf(bl_err, sizeof(bl_err), "%s: %s: %s", ld->path, ld->where,
		    msg);
	else
		snprintf(bl_err, sizeof(bl_err), "%s: %s", ld->path, msg);
	return IDS_EMALFORMED;
}

static int
parse_ip(const char *s, uint8_t *af, uint8_t *ip)
{
	struct cfg_net n;

	if (s == NULL || cfg_net_parse(s, &n) != 0 ||
	    n.bits != (n.af == 6 ? 128 : 32))
		return -1;
	*af = n.af;
	memset(ip, 0, 16);
	memcpy(ip, n.addr, n.af == 6 ? 16 : 4);
	return 0;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	int n = 0, i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &n) != 6 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* "2024-05-13T06:00:00.080514Z" (fraction optional) -> microseconds. */
static int
parse_ts(const char *s, uint64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, k;
	unsigned long us = 0;
	time_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
	    &mi, &sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		for (k = 0, s++; *s >= '0' && *s <= '9'; s++, k++)
			if (k < 6)
				us = us * 10 + (unsigned long)(*s - '0');
		for (; k < 6; k++)
			us *= 10;
	}
	if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t < 0)
		return -1;
	*out = (uint64_t)t * 1000000u + us;
	return 0;
}

static int
get_ts(struct loader *ld, const cJSON *o, const char *k, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || parse_ts(v->valuestring, out) != 0)
		return fail(ld, "\"%s\": expected a time like 2024-05-13T06:00:00.000000Z", k);
	return 0;
}

/* An integer member in [lo, hi]; absent: *out = dflt (or an error if dflt < 0). */
static int
get_uint(struct loader *ld, const cJSON *o, const char *k, double lo,
    double hi, double dflt, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	char msg[160];

	if (v == NULL) {
		if (dflt < 0)
			return fail(ld, "missing member \"%s\"", k);
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < lo || v->valuedouble > hi) {
		snprintf(msg, sizeof(msg), "\"%s\": expected an integer %.0f..%.0f",
		    k, lo, hi);
		return fail(ld, "%s", msg);
	}
	*out = v->valuedouble;
	return 0;
}

static int
get_nets(struct loader *ld, const cJSON *arr, struct cfg_nets *out)
{
	const cJSON *v;
	struct cfg_net *nv;
	int n = cJSON_GetArraySize(arr), i = 0;

	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "expected an array of IP addresses or CIDRs");
	if (n == 0)
		return 0;
	if ((nv = calloc((size_t)n, sizeof(*nv))) == NULL)
		return fail(ld, "%s", "out of memory");
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v) || cfg_net_parse(v->valuestring, &nv[i]) != 0) {
			free(nv);
			return fail(ld, "bad address \"%s\" (expected an IP or CIDR)",
			    cJSON_IsString(v) ? v->valuestring : "?");
		}
		i++;
	}
	free(out->v);
	out->v = nv;
	out->n = (size_t)n;
	return 0;
}

static int
load_allowed(struct loader *ld, struct model *m, const cJSON *root)
{
	const cJSON *aw = cJSON_GetObjectItemCaseSensitive(root, "allowed_writers");
	const cJSON *ad = cJSON_GetObjectItemCaseSensitive(root, "allowed_discovery");
	const cJSON *ar = cJSON_GetObjectItemCaseSensitive(root, "allowed_remote");
	const cJSON *v;
	int p, rc;

	if (aw != NULL) {
		if (!cJSON_IsObject(aw))
			return fail(ld, "%s", "\"allowed_writers\": expected an object of protocol: [addresses]");
		cJSON_ArrayForEach(v, aw) {
			snprintf(ld->where, sizeof(ld->where), "allowed_writers.%s",
			    v->string);
			if ((p = ics_by_name(v->string)) < 0)
				return fail(ld, "unknown industrial protocol \"%s\"",
				    v->string);
			if ((rc = get_nets(ld, v, &m->writers[p])) != 0)
				return rc;
			m->covered |= 1u << p;
		}
		m->allowed_writers = cJSON_Duplicate(aw, 1);
	}
	snprintf(ld->where, sizeof(ld->where), "allowed_discovery");
	if (ad != NULL && (rc = get_nets(ld, ad, &m->discovery)) != 0)
		return rc;
	if (ad != NULL)
		m->allowed_discovery = cJSON_Duplicate(ad, 1);
	snprintf(ld->where, sizeof(ld->where), "allowed_remote");
	if (ar != NULL && (rc = get_nets(ld, ar, &m->remote)) != 0)
		return rc;
	if (ar != NULL)
		m->allowed_remote = cJSON_Duplicate(ar, 1);
	ld->where[0] = '\0';
	return 0;
}

static int
load_roles(struct loader *ld, struct bl_asset *a, const cJSON *protos)
{
	const cJSON *p, *r;
	int ics, svc;
	bool cli, srv;

	if (protos == NULL)
		return 0;
	if (!cJSON_IsObject(protos))
		return fail(ld, "%s", "\"protocols\": expected an object of protocol: [roles]");
	cJSON_ArrayForEach(p, protos) {
		ics = ics_by_name(p->string);
		svc = ics < 0 ? inv_service_by_name(p->string) : -1;
		if (ics < 0 && svc < 0)
			return fail(ld, "unknown protocol \"%s\"", p->string);
		if (!cJSON_IsArray(p))
			return fail(ld, "\"%s\": expected [\"client\"], [\"server\"] or both",
			    p->string);
		cli = srv = false;
		cJSON_ArrayForEach(r, p) {
			if (cJSON_IsString(r) && strcmp(r->valuestring, "client") == 0)
				cli = true;
			else if (cJSON_IsString(r) && strcmp(r->valuestring, "server") == 0)
				srv = true;
			else
				return fail(ld, "\"%s\": a role is \"client\" or \"server\"",
				    p->string);
		}
		if (ics > 0) {
			a->cli |= cli ? 1u << ics : 0;
			a->srv |= srv ? 1u << ics : 0;
		} else {
			a->it_cli |= cli ? 1u << svc : 0;
			a->it_srv |= srv ? 1u << svc : 0;
		}
	}
	return 0;
}

static int
load_assets(struct loader *ld, struct model *m, const cJSON *arr)
{
	const cJSON *o, *v;
	struct bl_asset *a;
	uint8_t af, ip[16];
	uint64_t first, last;
	bool fresh;
	int i = 0, rc;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "\"assets\": expected an array");
	cJSON_ArrayForEach(o, arr) {
		snprintf(ld->where, sizeof(ld->where), "assets[%d]", i++);
		if (!cJSON_IsObject(o))
			return fail(ld, "%s", "expected an object");
		v = cJSON_GetObjectItemCaseSensitive(o, "ip");
		if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af, ip) != 0)
			return fail(ld, "%s", "\"ip\": expected an IPv4 or IPv6 address");
		a = asset_put(m, af, ip, &fresh);
		if (a == NULL)
			return fail(ld, "%s", "more assets than max_assets; raise [detector.baseline] max_assets");
		a->learned = 1;
		v = cJSON_GetObjectItemCaseSensitive(o, "mac");
		if (v != NULL && !cJSON_IsNull(v)) {
			if (!cJSON_IsString(v) || parse_mac(v->valuestring, a->mac) != 0)
				return fail(ld, "%s", "\"mac\": expected aa:bb:cc:dd:ee:ff");
			a->has_mac = 1;
		}
		if ((rc = get_ts(ld, o, "first_seen", &first)) != 0 ||
		    (rc = get_ts(ld, o, "last_seen", &last)) != 0)
			return rc;
		if (first != 0)
			seen(&a->first, &a->last, first);
		if (last != 0)
			seen(&a->first, &a->last, last);
		if ((rc = load_roles(ld, a, cJSON_GetObjectItemCaseSensitive(o,
		    "protocols"))) != 0)
			return rc;
	}
	ld->where[0] = '\0';
	return 0;
}

/* A range object back to its space, per protocol (see range_json). */
static int
load_range(struct loader *ld, uint8_t proto, const cJSON *o, struct bl_range *r)
{
	double a, b, lo, hi;
	const cJSON *v;
	size_t i;
	int rc;

	if (!cJSON_IsObject(o))
		return fail(ld, "%s", "\"writes\": expected objects");
	switch (proto) {
	case ICS_MODBUS:
		if ((rc = get_uint(ld, o, "unit", 0, 255, -1, &a)) != 0)
			return rc;
		v = cJSON_GetObjectItemCaseSensitive(o, "table");
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "coils") != 0 &&
		    strcmp(v->valuestring, "holding_registers") != 0))
			return fail(ld, "%s", "\"table\": expected \"coils\" or \"holding_registers\"");
		r->space = (uint32_t)a << 8 |
		    (strcmp(v->valuestring, "coils") == 0 ? 0 : 1);
		break;
	case ICS_S7COMM:
		v = cJSON_GetObjectItemCaseSensitive(o, "area");
		a = -1;
		if (cJSON_IsString(v)) {
			for (i = 0; i < sizeof(s7_areas) / sizeof(s7_areas[0]); i++)
				if (strcmp(s7_areas[i].name, v->valuestring) == 0)
					a = s7_areas[i].area;
		} else if ((rc = get_uint(ld, o, "area", 0, 255, -1, &a)) != 0)
			return rc;
		if (a < 0)
			return fail(ld, "%s", "\"area\": expected I, Q, M, DB, DI, L, V, P, C, T or a number");
		if ((rc = get_uint(ld, o, "db", 0, 65535, 0, &b)) != 0)
			return rc;
		r->space = (uint32_t)a << 16 | (uint32_t)b;
		break;
	case ICS_IEC104:
		if ((rc = get_uint(ld, o, "common_address", 0, 65535, -1, &a)) != 0)
			return rc;
		r->space = (uint32_t)a;
		break;
	case ICS_BACNET:
		if ((rc = get_uint(ld, o, "object_type", 0, 1023, -1, &a)) != 0)
			return rc;
		r->space = (uint32_t)a;
		break;
	case ICS_FINS:
		if ((rc = get_uint(ld, o, "area", 0, 255, -1, &a)) != 0)
			return rc;
		r->space = (uint32_t)a;
		break;
	default:
		if ((rc = get_uint(ld, o, "space", 0, 4294967295.0, -1, &a)) != 0)
			return rc;
		r->space = (uint32_t)a;
		break;
	}
	if ((rc = get_uint(ld, o, "start", 0, 4294967295.0, -1, &lo)) != 0 ||
	    (rc = get_uint(ld, o, "end", 0, 4294967295.0, -1, &hi)) != 0)
		return rc;
	if (hi < lo)
		return fail(ld, "%s", "\"end\" is below \"start\"");
	r->lo = (uint32_t)lo;
	r->hi = (uint32_t)hi;
	return 0;
}

static int
load_link(struct loader *ld, struct model *m, const cJSON *o)
{
	const cJSON *v, *f;
	struct bl_link *l;
	struct bl_key k;
	struct bl_range r;
	uint8_t af, af2, cli[16], srv[16], transport;
	uint64_t first, last;
	double port, rate;
	unsigned long code;
	char *end;
	int ics, svc = -1, rc;
	bool fresh;

	if (!cJSON_IsObject(o))
		return fail(ld, "%s", "expected an object");
	v = cJSON_GetObjectItemCaseSensitive(o, "src");
	if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af, cli) != 0)
		return fail(ld, "%s", "\"src\": expected an IPv4 or IPv6 address");
	v = cJSON_GetObjectItemCaseSensitive(o, "dst");
	if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af2, srv) != 0 ||
	    af2 != af)
		return fail(ld, "%s", "\"dst\": expected an address of the same family as \"src\"");
	v = cJSON_GetObjectItemCaseSensitive(o, "proto");
	if (!cJSON_IsString(v))
		return fail(ld, "%s", "\"proto\": expected a protocol name");
	if ((ics = ics_by_name(v->valuestring)) < 0 &&
	    (svc = inv_service_by_name(v->valuestring)) < 0)
		return fail(ld, "unknown protocol \"%s\"", v->valuestring);
	if (ics < 0)
		ics = ICS_NONE;
	v = cJSON_GetObjectItemCaseSensitive(o, "transport");
	if (v == NULL)
		transport = ics == ICS_BACNET ? 17 : 6;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "tcp") == 0)
		transport = 6;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "udp") == 0)
		transport = 17;
	else
		return fail(ld, "%s", "\"transport\": expected \"tcp\" or \"udp\"");
	if ((rc = get_uint(ld, o, "port", 0, 65535, -1, &port)) != 0)
		return rc;
	make_key(&k, af, (uint8_t)ics, transport, (uint16_t)port, cli, srv);
	if ((l = tab_put(&m->links, &k, &fresh)) == NULL)
		return fail(ld, "%s", "more links than max_links; raise [detector.baseline] max_links");
	l->learned = 1;
	if (svc >= 0)
		l->svc = (uint8_t)svc;
	if ((rc = get_ts(ld, o, "first_seen", &first)) != 0 ||
	    (rc = get_ts(ld, o, "last_seen", &last)) != 0)
		return rc;
	if (first != 0)
		seen(&l->first, &l->last, first);
	if (last != 0)
		seen(&l->first, &l->last, last);
	f = cJSON_GetObjectItemCaseSensitive(o, "functions");
	if (f != NULL && !cJSON_IsObject(f))
		return fail(ld, "%s", "\"functions\": expected an object of \"code\": \"name\"");
	cJSON_ArrayForEach(v, f) {
		errno = 0;
		code = strtoul(v->string, &end, 0);
		if (errno != 0 || *end != '\0' || end == v->string || code > 0xFFFF)
			return fail(ld, "\"functions\": bad code \"%s\" (expected 0..65535)",
			    v->string);
		fn_add(l, (uint16_t)code);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "functions_truncated");
	if (cJSON_IsTrue(v))
		l->fn_full = 1;
	f = cJSON_GetObjectItemCaseSensitive(o, "writes");
	if (f != NULL && !cJSON_IsArray(f))
		return fail(ld, "%s", "\"writes\": expected an array of ranges");
	cJSON_ArrayForEach(v, f) {
		if ((rc = load_range(ld, (uint8_t)ics, v, &r)) != 0)
			return rc;
		rg_add(l, &r);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "max_rate");
	if (v != NULL) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
		    v->valuedouble > 1e9)
			return fail(ld, "%s", "\"max_rate\": expected requests per second >= 0");
		rate = v->valuedouble;
		if (rate > l->max_rate)
			l->max_rate = rate;
	}
	return 0;
}

static int
load_links(struct loader *ld, struct model *m, const cJSON *arr)
{
	const cJSON *o;
	int i = 0, rc;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "\"links\": expected an array");
	cJSON_ArrayForEach(o, arr) {
		snprintf(ld->where, sizeof(ld->where), "links[%d]", i++);
		if ((rc = load_link(ld, m, o)) != 0)
			return rc;
	}
	ld->where[0] = '\0';
	return 0;
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 262144;
			if (cap > FILE_MAX + 65536 + 1 ||
			    (nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(fp);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 65536, fp);
		n += r;
		if (r < 65536)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		errno = EIO;
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Load path into m.  0, or IDS_E* with bl_err naming the file and problem. */
static int
model_load(struct model *m, const char *path)
{
	struct loader ld;
	const cJSON *v, *learned;
	const char *errp, *p;
	char *text;
	size_t len;
	cJSON *root;
	uint64_t a, b;
	int line, rc;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if ((text = read_all(path, &len)) == NULL) {
		snprintf(bl_err, sizeof(bl_err), "%s: cannot read the baseline: %s",
		    path, strerror(errno));
		return IDS_EIO;
	}
	root = cJSON_ParseWithLength(text, len);
	if (root == NULL) {
		errp = cJSON_GetErrorPtr();
		line = 1;
		if (errp != NULL && errp >= text && errp <= text + len)
			for (p = text; p < errp; p++)
				line += *p == '\n';
		snprintf(bl_err, sizeof(bl_err),
		    "%s:%d: corrupt baseline: not valid JSON", path, line);
		free(text);
		return IDS_EMALFORMED;
	}
	free(text);
	rc = IDS_EMALFORMED;
	if (!cJSON_IsObject(root)) {
		fail(&ld, "%s", "not an icsentry baseline (expected a JSON object)");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (v == NULL) {
		fail(&ld, "%s", "not an icsentry baseline (no \"version\" member)");
		goto out;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != BL_VERSION) {
		char got[64];

		if (cJSON_IsNumber(v))
			snprintf(got, sizeof(got), "%g", v->valuedouble);
		else
			snprintf(got, sizeof(got), "a non-number");
		snprintf(bl_err, sizeof(bl_err),
		    "%s: baseline version %s is not supported (this agent reads version %d)",
		    path, got, BL_VERSION);
		goto out;
	}
	learned = cJSON_GetObjectItemCaseSensitive(root, "learned");
	if (learned != NULL) {
		snprintf(ld.where, sizeof(ld.where), "learned");
		if ((rc = get_ts(&ld, learned, "from", &a)) != 0 ||
		    (rc = get_ts(&ld, learned, "until", &b)) != 0)
			goto out;
		ld.where[0] = '\0';
		if (a != 0)
			seen(&m->first, &m->last, a);
		if (b != 0)
			seen(&m->first, &m->last, b);
	}
	if ((rc = load_allowed(&ld, m, root)) != 0 ||
	    (rc = load_assets(&ld, m, cJSON_GetObjectItemCaseSensitive(root,
	    "assets"))) != 0 ||
	    (rc = load_links(&ld, m, cJSON_GetObjectItemCaseSensitive(root,
	    "links"))) != 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* Detection: what the links say about their clients. */
static void
derive(struct model *m)
{
	struct bl_link *l;
	struct bl_asset *a;
	uint32_t i, bit;
	uint8_t j, fl;
	bool fresh;

	for (i = 0; i < m->links.n; i++) {
		l = tab_at(&m->links, i);
		l->nfn_learned = l->nfn;
		if (l->k.proto != ICS_NONE)
			m->covered |= 1u << l->k.proto;
		a = asset_put(m, l->k.af, l->k.cli, &fresh);
		if (a == NULL)
			continue;
		if (fresh)
			a->learned = 1;
		if (l->k.proto == ICS_NONE) {
			if (inv_service_remote(l->svc))
				a->remote = 1;
			continue;
		}
		bit = 1u << l->k.proto;
		for (j = 0; j < l->nfn; j++) {
			fl = code_flags(l->k.proto, l->fn[j]);
			if (fl & OP_WRITE)
				a->writer |= bit;
			if (fl & OP_DISC)
				a->discoverer |= bit;
		}
		if (l->nfn > 0)
			a->cli |= bit;
	}
}

/* ---- writing ------------------------------------------------------------------ */


static cJSON *
asset_json(const struct bl_asset *a)
{
	cJSON *o = cJSON_CreateObject(), *p;
	const char *v;
	char b[64];
	int i;

	cJSON_AddStringToObject(o, "ip", inv_ip_text(a->af, a->ip, b, sizeof(b)));
	if (a->has_mac) {
		snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", a->mac[0],
		    a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5]);
		cJSON_AddStringToObject(o, "mac", b);
		if ((v = inv_oui_vendor(a->mac)) != NULL)
			cJSON_AddStringToObject(o, "vendor", v);
		else
			cJSON_AddNullToObject(o, "vendor");
	} else {
		cJSON_AddNullToObject(o, "mac");
		cJSON_AddNullToObject(o, "vendor");
	}
	inv_json_ts(o, "first_seen", a->first);
	inv_json_ts(o, "last_seen", a->last);
	p = cJSON_AddObjectToObject(o, "protocols");
	for (i = 1; i < ICS_NPROTO; i++)
		inv_json_roles(p, ics_proto_name((enum ics_proto)i), (a->cli >> i) & 1,
		    (a->srv >> i) & 1);
	for (i = 0; i < inv_service_count(); i++)
		inv_json_roles(p, inv_service_name(i), (a->it_cli >> i) & 1,
		    (a->it_srv >> i) & 1);
	return o;
}

static int
cmp_u16(const void *x, const void *y)
{
	uint16_t a = *(const uint16_t *)x, b = *(const uint16_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_range(const void *x, const void *y)
{
	const struct bl_range *a = x, *b = y;

	if (a->space != b->space)
		return a->space < b->space ? -1 : 1;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static cJSON *
link_json(struct bl_link *l, double max_rate)
{
	cJSON *o = cJSON_CreateObject(), *f, *w;
	char b[64], code[16];
	uint16_t fn[MAX_FN];
	struct bl_range rg[MAX_RG];
	uint8_t i;

	cJSON_AddStringToObject(o, "src", inv_ip_text(l->k.af, l->k.cli, b, sizeof(b)));
	cJSON_AddStringToObject(o, "dst", inv_ip_text(l->k.af, l->k.srv, b, sizeof(b)));
	cJSON_AddStringToObject(o, "proto", proto_name(l->k.proto, l->svc));
	cJSON_AddStringToObject(o, "transport", l->k.transport == 17 ? "udp" : "tcp");
	cJSON_AddNumberToObject(o, "port", l->k.port);
	inv_json_ts(o, "first_seen", l->first);
	inv_json_ts(o, "last_seen", l->last);
	if (l->k.proto == ICS_NONE)
		return o;
	memcpy(fn, l->fn, l->nfn * sizeof(fn[0]));
	qsort(fn, l->nfn, sizeof(fn[0]), cmp_u16);
	f = cJSON_AddObjectToObject(o, "functions");
	for (i = 0; i < l->nfn; i++) {
		snprintf(code, sizeof(code), "%u", fn[i]);
		cJSON_AddStringToObject(f, code, code_name(l->k.proto, fn[i], b,
		    sizeof(b)));
	}
	if (l->fn_full)
		cJSON_AddTrueToObject(o, "functions_truncated");
	if (l->nrg > 0) {
		memcpy(rg, l->rg, l->nrg * sizeof(rg[0]));
		qsort(rg, l->nrg, sizeof(rg[0]), cmp_range);
		w = cJSON_AddArrayToObject(o, "writes");
		for (i = 0; i < l->nrg; i++)
			cJSON_AddItemToArray(w, range_json(l->k.proto, &rg[i]));
	}
	cJSON_AddNumberToObject(o, "max_rate", max_rate);
	return o;
}

static int
cmp_asset(const void *x, const void *y)
{
	const struct bl_asset *a = *(const struct bl_asset *const *)x;
	const struct bl_asset *b = *(const struct bl_asset *const *)y;

	return memcmp(&a->af, &b->af, ASSET_KLEN);
}

static int
cmp_link(const void *x, const void *y)
{
	const struct bl_key *a = &(*(const struct bl_link *const *)x)->k;
	const struct bl_key *b = &(*(const struct bl_link *const *)y)->k;
	int c;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if ((c = memcmp(a->cli, b->cli, 16)) != 0 ||
	    (c = memcmp(a->srv, b->srv, 16)) != 0)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->transport != b->transport)
		return a->transport < b->transport ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* The learned rate of a link: its windows so far, in requests/s. */
static double
link_rate(const struct bl_link *l, double window_s)
{
	uint32_t mx = l->win_max > l->win_count ? l->win_max : l->win_count;
	double r = mx / window_s;

	/* two decimals: a re-learned file reads back exactly the same */
	r = floor(r * 100 + 0.5) / 100;
	return r > l->max_rate ? r : l->max_rate;
}

static cJSON *
model_json(struct bl_state *s, struct model *m)
{
	cJSON *root = cJSON_CreateObject(), *o, *arr, *aw;
	void **v;
	uint32_t i, n = m->assets.n > m->links.n ? m->assets.n : m->links.n;
	int p;

	cJSON_AddStringToObject(root, "format", BL_FORMAT);
	cJSON_AddNumberToObject(root, "version", BL_VERSION);
	o = cJSON_AddObjectToObject(root, "learned");
	inv_json_ts(o, "from", m->first);
	inv_json_ts(o, "until", m->last);
	cJSON_AddNumberToObject(root, "rate_window_s", s->window_s);
	/* every protocol seen gets an (empty) list an engineer can fill */
	aw = m->allowed_writers != NULL ? cJSON_Duplicate(m->allowed_writers, 1) :
	    cJSON_CreateObject();
	for (i = 0; i < m->links.n; i++)
		m->covered |= 1u << ((struct bl_link *)tab_at(&m->links, i))->k.proto;
	for (p = 1; p < ICS_NPROTO; p++)
		if ((m->covered >> p & 1) &&
		    !cJSON_HasObjectItem(aw, ics_proto_name((enum ics_proto)p)))
			cJSON_AddItemToObject(aw, ics_proto_name((enum ics_proto)p),
			    cJSON_CreateArray());
	cJSON_AddItemToObject(root, "allowed_writers", aw);
	cJSON_AddItemToObject(root, "allowed_discovery",
	    m->allowed_discovery != NULL ? cJSON_Duplicate(m->allowed_discovery, 1) :
	    cJSON_CreateArray());
	cJSON_AddItemToObject(root, "allowed_remote",
	    m->allowed_remote != NULL ? cJSON_Duplicate(m->allowed_remote, 1) :
	    cJSON_CreateArray());
	if ((v = malloc(((size_t)n + 1) * sizeof(*v))) == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (i = 0; i < m->assets.n; i++)
		v[i] = tab_at(&m->assets, i);
	qsort(v, m->assets.n, sizeof(*v), cmp_asset);
	arr = cJSON_AddArrayToObject(root, "assets");
	for (i = 0; i < m->assets.n; i++)
		cJSON_AddItemToArray(arr, asset_json(v[i]));
	for (i = 0; i < m->links.n; i++)
		v[i] = tab_at(&m->links, i);
	qsort(v, m->links.n, sizeof(*v), cmp_link);
	arr = cJSON_AddArrayToObject(root, "links");
	for (i = 0; i < m->links.n; i++)
		cJSON_AddItemToArray(arr, link_json(v[i], link_rate(v[i],
		    s->window_s)));
	free(v);
	o = cJSON_AddObjectToObject(root, "dropped");
	cJSON_AddNumberToObject(o, "assets", (double)m->assets.dropped);
	cJSON_AddNumberToObject(o, "links", (double)m->links.dropped);
	return root;
}

struct buf {
	char	*p;
	size_t	 n, cap;
	bool	 oom;
};

static void
buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap * 2 : 65536;

		while (c < b->n + n + 1)
			c *= 2;
		if ((np = realloc(b->p, c)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = c;
	}
	memcpy(b->p + b->n, s, n + 1);
	b->n += n;
}

static void
buf_json(struct buf *b, const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);

	if (t == NULL) {
		b->oom = true;
		return;
	}
	buf_add(b, t);
	free(t);
}

/*
 * The file's text: one member per line, and one line per asset and per
 * link, so it reads, greps, edits and diffs well.  NULL when out of memory.
 */
static char *
model_text(const cJSON *root)
{
	struct buf b = { NULL, 0, 0, false };
	const cJSON *m, *e;
	char key[128];

	buf_add(&b, "{\n");
	cJSON_ArrayForEach(m, root) {
		snprintf(key, sizeof(key), "  \"%s\": ", m->string);
		buf_add(&b, key);
		if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0 &&
		    cJSON_IsObject(m->child)) {
			buf_add(&b, "[\n");
			cJSON_ArrayForEach(e, m) {
				buf_add(&b, "    ");
				buf_json(&b, e);
				buf_add(&b, e->next != NULL ? ",\n" : "\n");
			}
			buf_add(&b, "  ]");
		} else
			buf_json(&b, m);
		buf_add(&b, m->next != NULL ? ",\n" : "\n");
	}
	buf_add(&b, "}");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Write to path.tmp, then rename: a crash never leaves half a baseline. */
static int
write_file(const char *path, const char *txt, char *err, size_t errlen)
{
	char tmp[1100];
	FILE *fp;
	int bad;

	if (strcmp(path, "-") == 0) {
		if (fputs(txt, stdout) == EOF || fputc('\n', stdout) == EOF ||
		    fflush(stdout) != 0) {
			snprintf(err, errlen, "-: cannot write the baseline: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "%s: cannot write the baseline: %s", tmp,
		    strerror(errno));
		return -1;
	}
	bad = fputs(txt, fp) == EOF || fputc('\n', fp) == EOF;
	bad |= fflush(fp) != 0 || fsync(fileno(fp)) != 0;
	bad |= fclose(fp) != 0;
	if (bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write the baseline: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- state ------------------------------------------------------------------- */

static void
bl_destroy(void *state)
{
	struct bl_state *s = state;

	if (s == NULL)
		return;
	model_free(s->learn);
	model_free(s->det);
	free(s);
	inv_oui_drop();
}

static int
bl_init_inner(const struct cfg *c, const char *sec, void **state)
{
	struct bl_state *s;
	uint32_t ma = (uint32_t)cfg_int(c, sec, "max_assets");
	uint32_t ml = (uint32_t)cfg_int(c, sec, "max_links");
	int rc;

	bl_err[0] = '\0';
	*state = NULL;
	snprintf(bl_err, sizeof(bl_err), "baseline: out of memory");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return IDS_ENOMEM;
	inv_oui_hold();
	snprintf(s->learn_path, sizeof(s->learn_path), "%s", cfg_str(c, sec, "learn"));
	snprintf(s->file_path, sizeof(s->file_path), "%s", cfg_str(c, sec, "file"));
	s->window_s = cfg_double(c, sec, "rate_window");
	s->window_us = (uint64_t)(s->window_s * 1e6);
	s->factor = cfg_double(c, sec, "rate_factor");
	s->min_requests = (uint32_t)cfg_int(c, sec, "rate_min_requests");
	s->min_obs_s = cfg_double(c, sec, "min_observation");
	s->asset_alerts = (uint32_t)cfg_int(c, sec, "new_asset_alerts");
	if (s->learn_path[0] != '\0') {
		if ((s->learn = model_new(ma, ml)) == NULL) {
			bl_destroy(s);
			return IDS_ENOMEM;
		}
		/* extend an existing baseline; never clobber a bad one */
		if (strcmp(s->learn_path, "-") != 0 && access(s->learn_path, F_OK) == 0 &&
		    (rc = model_load(s->learn, s->learn_path)) != 0) {
			bl_destroy(s);
			return rc;
		}
	}
	if (s->file_path[0] != '\0') {
		if ((s->det = model_new(ma, ml)) == NULL) {
			bl_destroy(s);
			return IDS_ENOMEM;
		}
		if ((rc = model_load(s->det, s->file_path)) != 0) {
			bl_destroy(s);
			return rc;
		}
		derive(s->det);
	}
	bl_err[0] = '\0';
	*state = s;
	/* neither learning nor detecting: no work per packet */
	return s->learn == NULL && s->det == NULL ? DET_INACTIVE : 0;
}

/* ---- learning ------------------------------------------------------------------ */

static const uint8_t zero_mac[6];

/* 0.0.0.0 or :: (a DHCP client): not a host of its own */
static bool
unspecified(uint8_t af, const uint8_t *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip, zero, af == 6 ? 16 : 4) == 0;
}

static struct bl_asset *
flow_asset(struct model *m, const struct flow *f, bool client)
{
	struct cache_ent *c = &m->cache[f->id % CACHE];
	const struct flow_endpoint *e = client ? &f->cli : &f->srv;
	struct bl_asset *a;
	bool fresh;
	int side = client ? 0 : 1;

	if (c->flow_id == f->id && c->asset[side] != 0)
		return tab_at(&m->assets, c->asset[side] - 1);
	if (unspecified(f->af, e->ip))
		return NULL;
	a = asset_put(m, f->af, e->ip, &fresh);
	if (a == NULL)
		return NULL;
	if (c->flow_id != f->id) {
		memset(c, 0, sizeof(*c));
		c->flow_id = f->id;
	}
	c->asset[side] = tab_index(&m->assets, a) + 1;
	if (!a->has_mac && e->has_mac && memcmp(e->mac, zero_mac, 6) != 0) {
		a->has_mac = 1;
		memcpy(a->mac, e->mac, 6);
	}
	return a;
}

/* The link of a PDU: orient 0 when its client is flow->cli. */
static struct bl_link *
pdu_link(struct model *m, const struct det_pdu *pdu, int orient, bool *fresh)
{
	const struct flow *f = pdu->flow;
	struct cache_ent *c = &m->cache[f->id % CACHE];
	const struct flow_endpoint *cli = orient == 0 ? &f->cli : &f->srv;
	const struct flow_endpoint *srv = orient == 0 ? &f->srv : &f->cli;
	struct bl_link *l;
	struct bl_key k;

	*fresh = false;
	if (c->flow_id == f->id && c->proto == pdu->proto && c->link[orient] != 0)
		return tab_at(&m->links, c->link[orient] - 1);
	make_key(&k, f->af, (uint8_t)pdu->proto, f->transport, srv->port, cli->ip,
	    srv->ip);
	if ((l = tab_put(&m->links, &k, fresh)) == NULL)
		return NULL;
	if (c->flow_id != f->id) {
		memset(c, 0, sizeof(*c));
		c->flow_id = f->id;
	}
	if (c->proto != pdu->proto) {
		c->link[0] = c->link[1] = 0;
		c->proto = (uint8_t)pdu->proto;
	}
	c->link[orient] = tab_index(&m->links, l) + 1;
	return l;
}

static bool
is_group_addr(uint8_t af, const uint8_t *ip)
{
	if (af == 4)
		return ip[0] >= 224 || ip[3] == 255;
	return ip[0] == 0xff;
}

/* Who asks and who answers in a PDU; false when it has no link (an announce). */
static bool
orient_pdu(const struct det_pdu *pdu, int role, int *orient)
{
	const struct flow *f = pdu->flow;
	const uint8_t *rcv = pdu->sender_is_cli ? f->srv.ip : f->cli.ip;

	if (role == 0)
		return false;
	/* the client is the sender of a request, the receiver of an answer */
	*orient = (role == 1) == pdu->sender_is_cli ? 0 : 1;
	/* an answer to a broadcast address is an announcement (I-Am) */
	return !(role == 2 && is_group_addr(f->af, rcv));
}

static void
window_learn(struct bl_link *l, uint64_t ts, uint64_t w)
{
	if (ts >= l->win_start + w) {
		if (l->win_count > l->win_max)
			l->win_max = l->win_count;
		l->win_start = ts;
		l->win_count = 0;
	}
	l->win_count++;
}

static void
learn_pdu(struct bl_state *s, struct model *m, const struct det_pdu *pdu,
    int role, const struct req *r)
{
	struct bl_asset *a;
	struct bl_link *l;
	uint8_t i;
	int orient;
	bool fresh;

	a = flow_asset(m, pdu->flow, pdu->sender_is_cli);
	if (a != NULL) {
		seen(&a->first, &a->last, pdu->ts);
		if (role == 1)
			a->cli |= 1u << pdu->proto;
		else if (role == 2)
			a->srv |= 1u << pdu->proto;
	}
	seen(&m->first, &m->last, pdu->ts);
	if (!orient_pdu(pdu, role, &orient))
		return;
	if ((l = pdu_link(m, pdu, orient, &fresh)) == NULL)
		return;
	seen(&l->first, &l->last, pdu->ts);
	if (role != 1)
		return;
	for (i = 0; i < r->nops; i++)
		fn_add(l, r->code[i]);
	for (i = 0; i < r->nrg; i++)
		rg_add(l, &r->rg[i]);
	window_learn(l, pdu->ts, s->window_us);
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
learn_flow(struct model *m, const struct flow *f)
{
	struct bl_asset *c, *v;
	struct bl_link *l;
	struct bl_key k;
	bool rev, fresh;
	int svc;

	c = flow_asset(m, f, true);
	if (c != NULL) {
		seen(&c->first, &c->last, f->first_ts);
		seen(&c->first, &c->last, f->last_ts);
	}
	seen(&m->first, &m->last, f->first_ts);
	seen(&m->first, &m->last, f->last_ts);
	if (!answered(f))
		return;
	/* the server answered soon after the flow began */
	v = flow_asset(m, f, false);
	if (v != NULL) {
		seen(&v->first, &v->last, f->first_ts);
		seen(&v->first, &v->last, f->last_ts);
	}
	if (f->ics != ICS_NONE || (svc = inv_service(f, &rev)) < 0)
		return;
	if (rev) {
		struct bl_asset *t = c;

		c = v;
		v = t;
	}
	if (rev)
		make_key(&k, f->af, ICS_NONE, f->transport, f->cli.port, f->srv.ip,
		    f->cli.ip);
	else
		make_key(&k, f->af, ICS_NONE, f->transport, f->srv.port, f->cli.ip,
		    f->srv.ip);
	if ((l = tab_put(&m->links, &k, &fresh)) != NULL) {
		if (fresh)
			l->svc = (uint8_t)svc;
		seen(&l->first, &l->last, f->first_ts);
		seen(&l->first, &l->last, f->last_ts);
	}
	if (c != NULL)
		c->it_cli |= 1u << svc;
	if (v != NULL)
		v->it_srv |= 1u << svc;
}

/* ---- detection ---------------------------------------------------------------- */

static void
endpoints(struct det_alert *a, const struct flow *f, int orient)
{
	det_endpoint_from_flow(&a->src, f, orient == 0);
	det_endpoint_from_flow(&a->dst, f, orient != 0);
}

static bool
in_nets(const struct cfg_nets *n, uint8_t af, const uint8_t *ip)
{
	return n->n > 0 && cfg_nets_contains(n, af, ip);
}

static bool
is_writer(const struct model *m, uint8_t proto, uint8_t af, const uint8_t *ip)
{
	const struct bl_asset *a;

	if (in_nets(&m->writers[proto], af, ip))
		return true;
	a = asset_get(m, af, ip);
	return a != NULL && a->learned && (a->writer >> proto & 1);
}

static bool
is_discoverer(const struct model *m, uint8_t proto, uint8_t af,
    const uint8_t *ip)
{
	const struct bl_asset *a;

	if (in_nets(&m->discovery, af, ip))
		return true;
	a = asset_get(m, af, ip);
	return a != NULL && a->learned && (a->discoverer >> proto & 1);
}

/* At most new_asset_alerts a minute; true when this one may go out. */
static bool
asset_budget(struct bl_state *s, uint64_t ts)
{
	if (ts >= s->bucket_start + 60000000u) {
		s->bucket_start = ts;
		s->bucket_used = 0;
	}
	if (s->bucket_used >= s->asset_alerts) {
		s->suppressed++;
		return false;
	}
	s->bucket_used++;
	return true;
}

static void
raise_new_asset(struct bl_state *s, struct det_ctx *ctx, const struct flow *f,
    bool client, uint64_t ts, const char *proto, bool ics)
{
	struct det_alert a;
	const char *vendor;
	char title[200], ipb[64];

	if (!asset_budget(s, ts))
		return;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, client);
	det_endpoint_from_flow(&a.dst, f, !client);
	a.detector = "baseline.new_asset";
	a.severity = ics ? SEV_LOW : SEV_INFO;
	a.ts = ts;
	a.proto = proto;
	if (ics)
		snprintf(title, sizeof(title),
		    "Host %s not in the baseline speaks %s",
		    det_ip_str(&a.src, ipb, sizeof(ipb)), proto);
	else
		snprintf(title, sizeof(title), "Host %s not in the baseline",
		    det_ip_str(&a.src, ipb, sizeof(ipb)));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "ip", ipb);
	cJSON_AddBoolToObject(a.details, "industrial", ics);
	if (a.src.has_mac && (vendor = inv_oui_vendor(a.src.mac)) != NULL)
		cJSON_AddStringToObject(a.details, "vendor", vendor);
	if (s->suppressed > 0) {
		cJSON_AddNumberToObject(a.details, "suppressed_before",
		    (double)s->suppressed);
		s->suppressed = 0;
	}
	a.agg_key = ics ? "ics" : "it";
	a.agg_src_only = true;
	det_alert(ctx, &a);
}

static void
raise_pdu_alert(struct det_ctx *ctx, const struct det_pdu *pdu, int orient,
    const char *det, enum det_severity sev, const char *tech,
    const char *title, cJSON *d, const char *agg)
{
	struct det_alert a;

	memset(&a, 0, sizeof(a));
	endpoints(&a, pdu->flow, orient);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	a.proto = ics_proto_name(pdu->proto);
	a.ts = pdu->ts;
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
detect_new_link(struct bl_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, int orient, int role, const struct req *r)
{
	const struct flow *f = pdu->flow;
	const uint8_t *cip = orient == 0 ? f->cli.ip : f->srv.ip;
	const uint8_t *sip = orient == 0 ? f->srv.ip : f->cli.ip;
	const struct bl_asset *ca = asset_get(s->det, f->af, cip);
	const struct bl_asset *sa = asset_get(s->det, f->af, sip);
	enum det_severity sev = SEV_MEDIUM;
	const char *tech = NULL, *pn = ics_proto_name(pdu->proto);
	char title[220], cb[64], sb[64], nb[64];
	bool write = false;
	uint8_t i;
	cJSON *d;

	for (i = 0; role == 1 && i < r->nops; i++)
		if (code_flags((uint8_t)pdu->proto, r->code[i]) & OP_WRITE)
			write = true;
	if (write && (s->det->covered >> pdu->proto & 1) &&
	    !is_writer(s->det, (uint8_t)pdu->proto, f->af, cip)) {
		sev = SEV_HIGH;
		tech = "T0855";
	} else if (role == 1 && sa != NULL && sa->learned &&
	    (sa->srv >> pdu->proto & 1)) {
		/*
		 * Any request, a read or an identification too, to a server
		 * whose clients were learned, from a host that was not one of
		 * them: a rogue master.
		 */
		sev = SEV_HIGH;
		tech = "T0848";
	}
	snprintf(title, sizeof(title), "New %s link %s -> %s:%u not in the baseline%s",
	    pn, inv_ip_text(f->af, cip, cb, sizeof(cb)),
	    inv_ip_text(f->af, sip, sb, sizeof(sb)),
	    orient == 0 ? f->srv.port : f->cli.port,
	    tech == NULL ? "" : tech[4] == '5' ?
	    " (write by a host that never wrote)" :
	    " (request from a host that is not a known client: rogue master)");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "protocol", pn);
	cJSON_AddNumberToObject(d, "port", orient == 0 ? f->srv.port : f->cli.port);
	cJSON_AddBoolToObject(d, "client_known", ca != NULL && ca->learned);
	cJSON_AddBoolToObject(d, "server_known", sa != NULL && sa->learned);
	cJSON_AddBoolToObject(d, "protocol_new_to_server",
	    sa == NULL || !sa->learned || !((sa->srv | sa->cli) >> pdu->proto & 1));
	if (role == 1 && r->nops > 0) {
		cJSON_AddNumberToObject(d, "function", r->code[0]);
		cJSON_AddStringToObject(d, "function_name",
		    code_name((uint8_t)pdu->proto, r->code[0], nb, sizeof(nb)));
	}
	raise_pdu_alert(ctx, pdu, orient, "baseline.new_link", sev, tech, title, d,
	    NULL);
}

static void
detect_new_function(struct bl_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, int orient, struct bl_link *l, uint16_t code)
{
	const struct flow *f = pdu->flow;
	const uint8_t *cip = orient == 0 ? f->cli.ip : f->srv.ip;
	uint8_t fl = code_flags((uint8_t)pdu->proto, code);
	enum det_severity sev = SEV_MEDIUM;
	const char *tech = NULL, *pn = ics_proto_name(pdu->proto), *name;
	char title[240], cb[64], sb[64], nb[64], agg[16];
	cJSON *d, *known;
	uint8_t i;

	if ((fl & OP_WRITE) && !is_writer(s->det, (uint8_t)pdu->proto, f->af, cip)) {
		sev = SEV_HIGH;
		tech = "T0855";
	} else if ((fl & OP_DISC) &&
	    !is_discoverer(s->det, (uint8_t)pdu->proto, f->af, cip))
		tech = "T0888";
	name = code_name((uint8_t)pdu->proto, code, nb, sizeof(nb));
	snprintf(title, sizeof(title), "New %s function %u (%s) on %s -> %s%s", pn,
	    code, name, inv_ip_text(f->af, cip, cb, sizeof(cb)),
	    inv_ip_text(f->af, orient == 0 ? f->srv.ip : f->cli.ip, sb, sizeof(sb)),
	    sev == SEV_HIGH ? " from a host that never wrote" : "");
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "function", code);
	cJSON_AddStringToObject(d, "function_name", name);
	cJSON_AddBoolToObject(d, "write", (fl & OP_WRITE) != 0);
	known = cJSON_AddArrayToObject(d, "learned_functions");
	for (i = 0; i < l->nfn_learned; i++)
		cJSON_AddItemToArray(known, cJSON_CreateNumber(l->fn[i]));
	snprintf(agg, sizeof(agg), "%u", code);
	raise_pdu_alert(ctx, pdu, orient, "baseline.new_function", sev, tech,
	    title, d, agg);
}

static void
detect_range(struct det_ctx *ctx, const struct det_pdu *pdu, int orient,
    const struct bl_link *l, const struct bl_range *r)
{
	char title[240], rb[96], agg[32];
	cJSON *d, *w;
	uint8_t i;

	snprintf(title, sizeof(title), "%s write to %s outside the learned ranges",
	    ics_proto_name(pdu->proto), range_text((uint8_t)pdu->proto, r, rb,
	    sizeof(rb)));
	d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "write", range_json((uint8_t)pdu->proto, r));
	w = cJSON_AddArrayToObject(d, "learned");
	for (i = 0; i < l->nrg; i++)
		cJSON_AddItemToArray(w, range_json((uint8_t)pdu->proto, &l->rg[i]));
	snprintf(agg, sizeof(agg), "%u:%u", r->space, r->lo);
	raise_pdu_alert(ctx, pdu, orient, "baseline.write_outside_range", SEV_HIGH,
	    "T0836", title, d, agg);
}

static void
detect_rate(struct bl_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    int orient, struct bl_link *l)
{
	double thr, rate;
	char title[240];
	cJSON *d;

	if (pdu->ts >= l->win_start + s->window_us) {
		l->win_start = pdu->ts;
		l->win_count = 0;
		l->win_alerted = 0;
	}
	l->win_count++;
	if (l->win_alerted || l->max_rate <= 0 ||
	    (double)(l->last - l->first) / 1e6 < s->min_obs_s)
		return;
	thr = s->factor * l->max_rate * s->window_s;
	if (thr < s->min_requests)
		thr = s->min_requests;
	if (l->win_count <= thr)
		return;
	l->win_alerted = 1;
	rate = l->win_count / s->window_s;
	snprintf(title, sizeof(title),
	    "%s request rate %.1f/s on a link that peaked at %.1f/s while learning",
	    ics_proto_name(pdu->proto), rate, l->max_rate);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "requests", l->win_count);
	cJSON_AddNumberToObject(d, "window_s", s->window_s);
	cJSON_AddNumberToObject(d, "learned_max_rate", l->max_rate);
	cJSON_AddNumberToObject(d, "factor", s->factor);
	raise_pdu_alert(ctx, pdu, orient, "baseline.rate", SEV_HIGH, "T0814",
	    title, d, NULL);
}

static void
detect_pdu(struct bl_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    int role, const struct req *r)
{
	struct model *m = s->det;
	struct bl_asset *a;
	struct bl_link *l;
	uint8_t i;
	int orient;
	bool fresh;

	/* a host speaking an industrial protocol the baseline never saw */
	a = flow_asset(m, pdu->flow, pdu->sender_is_cli);
	if ((a == NULL && !unspecified(pdu->flow->af, pdu->sender_is_cli ?
	    pdu->flow->cli.ip : pdu->flow->srv.ip)) ||
	    (a != NULL && !a->learned && !(a->alerted & AL_ICS))) {
		if (a != NULL)
			a->alerted |= AL_ICS | AL_IT;
		raise_new_asset(s, ctx, pdu->flow, pdu->sender_is_cli, pdu->ts,
		    ics_proto_name(pdu->proto), true);
	}
	if (!orient_pdu(pdu, role, &orient))
		return;
	l = pdu_link(m, pdu, orient, &fresh);
	if (l == NULL || (fresh && !l->learned)) {
		if (l != NULL)
			l->alerted = 1;
		detect_new_link(s, ctx, pdu, orient, role, r);
		return;
	}
	if (!l->learned || role != 1)
		return;
	for (i = 0; i < r->nops; i++) {
		if (fn_has(l, r->code[i]))
			continue;
		fn_add(l, r->code[i]);		/* once per link and code */
		if (!l->fn_full)
			detect_new_function(s, ctx, pdu, orient, l, r->code[i]);
	}
	/* only links that wrote while learning have ranges to compare with */
	for (i = 0; i < r->nrg && l->nrg > 0; i++)
		if (!rg_near(l, &r->rg[i]))
			detect_range(ctx, pdu, orient, l, &r->rg[i]);
	detect_rate(s, ctx, pdu, orient, l);
}

static void
bl_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct bl_state *s = state;
	struct req r;
	int role;

	if ((s->learn == NULL && s->det == NULL) || pdu->proto == ICS_NONE ||
	    (unsigned)pdu->proto >= ICS_NPROTO)
		return;
	role = inv_pdu_sender_role(pdu);
	if (role == 1)
		analyse(pdu, &r);
	else
		memset(&r, 0, sizeof(r));
	if (s->learn != NULL)
		learn_pdu(s, s->learn, pdu, role, &r);
	if (s->det != NULL)
		detect_pdu(s, ctx, pdu, role, &r);
}

/* Remote access (by port or nDPI) without the loop over every service. */
static bool
maybe_remote(const struct flow *f)
{
	switch (f->srv.port) {
	case 22: case 23: case 139: case 445: case 3389: case 5900: case 5901:
	case 5938: case 5985: case 5986: case 7070:
		return true;
	}
	switch (f->ndpi_app) {
	case NDPI_PROTOCOL_SSH: case NDPI_PROTOCOL_TELNET: case NDPI_PROTOCOL_RDP:
	case NDPI_PROTOCOL_VNC: case NDPI_PROTOCOL_SMBV1: case NDPI_PROTOCOL_SMBV23:
	case NDPI_PROTOCOL_TEAMVIEWER: case NDPI_PROTOCOL_ANYDESK:
		return true;
	}
	return false;
}

static void
bl_packet(void *state, struct det_ctx *ctx, const struct pkt *p,
    const struct flow *f, int dir)
{
	struct bl_state *s = state;
	const struct bl_asset *sa;
	struct bl_link *l;
	struct det_alert a;
	struct bl_key k;
	char title[200], cb[64], sb[64];
	bool rev, fresh;
	int svc;

	/* a remote-access session once the server has answered with data */
	if (s->det == NULL || dir != FLOW_S2C || f->transport != 6 ||
	    p->payload_len == 0 || f->ics != ICS_NONE || !maybe_remote(f))
		return;
	svc = inv_service(f, &rev);
	if (!inv_service_remote(svc) || rev)
		return;
	make_key(&k, f->af, ICS_NONE, 6, f->srv.port, f->cli.ip, f->srv.ip);
	l = tab_put(&s->det->links, &k, &fresh);
	if (l != NULL && (l->learned || l->alerted))
		return;
	if (l != NULL) {
		l->alerted = 1;
		l->svc = (uint8_t)svc;
	}
	sa = asset_get(s->det, f->af, f->srv.ip);
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, f, true);
	det_endpoint_from_flow(&a.dst, f, false);
	a.detector = "baseline.remote_service";
	/* into a host that serves an industrial protocol: the control network */
	a.severity = sa != NULL && sa->learned && sa->srv != 0 ? SEV_HIGH :
	    SEV_MEDIUM;
	a.technique = "T0886";
	snprintf(title, sizeof(title), "%s session %s -> %s:%u never seen in the baseline",
	    inv_service_name(svc), det_ip_str(&a.src, cb, sizeof(cb)),
	    det_ip_str(&a.dst, sb, sizeof(sb)), f->srv.port);
	a.title = title;
	a.proto = inv_service_name(svc);
	a.ts = p->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "service", inv_service_name(svc));
	cJSON_AddNumberToObject(a.details, "port", f->srv.port);
	cJSON_AddBoolToObject(a.details, "server_is_industrial",
	    sa != NULL && sa->learned && sa->srv != 0);
	a.src.port = 0;
	det_alert(ctx, &a);
}

static void
bl_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct bl_state *s = state;
	struct bl_asset *a;
	int side;

	if (s->learn != NULL)
		learn_flow(s->learn, f);
	if (s->det == NULL)
		return;
	/* hosts the baseline does not know, that only spoke IT protocols */
	for (side = 0; side < 2; side++) {
		if (side == 1 && !answered(f))
			break;
		if (unspecified(f->af, side == 0 ? f->cli.ip : f->srv.ip))
			continue;
		a = flow_asset(s->det, f, side == 0);
		if (a != NULL && (a->learned || a->alerted))
			continue;
		if (a != NULL)
			a->alerted |= AL_IT;
		raise_new_asset(s, ctx, f, side == 0, f->last_ts, f->transport == 6 ?
		    "tcp" : f->transport == 17 ? "udp" : "ip", false);
	}
	if (!s->full_reported && (s->det->assets.dropped || s->det->links.dropped)) {
		struct det_alert al;

		s->full_reported = true;
		memset(&al, 0, sizeof(al));
		det_endpoint_from_flow(&al.src, f, true);
		det_endpoint_from_flow(&al.dst, f, false);
		al.detector = "baseline.table_full";
		al.severity = SEV_INFO;
		al.title = "Baseline tables full: new hosts or links are no longer tracked";
		al.ts = f->last_ts;
		al.details = cJSON_CreateObject();
		cJSON_AddNumberToObject(al.details, "assets_dropped",
		    (double)s->det->assets.dropped);
		cJSON_AddNumberToObject(al.details, "links_dropped",
		    (double)s->det->links.dropped);
		det_alert(ctx, &al);
	}
}

/* ---- verdicts for det_policy() ------------------------------------------------ */

static enum det_verdict
bl_verdict(void *state, enum ics_proto proto, enum det_role role,
    const struct det_endpoint *src)
{
	const struct bl_state *s = state;
	const struct model *m = s != NULL ? s->det : NULL;
	const struct bl_asset *a;
	uint8_t p = (uint8_t)proto;

	if (m == NULL || (unsigned)proto >= ICS_NPROTO)
		return DET_UNSET;
	/* S7comm-plus shares S7comm's writers (as [policy] s7_writers does) */
	if (proto == ICS_S7COMMPLUS && !(m->covered >> p & 1))
		p = ICS_S7COMM;
	a = asset_get(m, src->af, src->ip);
	if (a != NULL && !a->learned)
		a = NULL;
	switch (role) {
	case DET_ROLE_REMOTE:
		return in_nets(&m->remote, src->af, src->ip) || (a != NULL && a->remote) ?
		    DET_ALLOWED : DET_DENIED;
	case DET_ROLE_DISCOVERY:
		if (in_nets(&m->discovery, src->af, src->ip))
			return DET_ALLOWED;
		/* a port scan is not something a baseline learns */
		if (p == ICS_NONE || !(m->covered >> p & 1))
			return DET_UNSET;
		return a != NULL && (a->discoverer >> p & 1) ? DET_ALLOWED : DET_DENIED;
	case DET_ROLE_WRITER:
	case DET_ROLE_MASTER:
		if (p == ICS_NONE || !(m->covered >> p & 1))
			return DET_UNSET;
		if (in_nets(&m->writers[p], src->af, src->ip) ||
		    (a != NULL && (a->writer >> p & 1)))
			return DET_ALLOWED;
		if (role == DET_ROLE_MASTER && a != NULL && (a->cli >> p & 1))
			return DET_ALLOWED;
		return DET_DENIED;
	}
	return DET_UNSET;
}

/* ---- end of the run ------------------------------------------------------------- */

static int
bl_finish(void *state, struct det_ctx *ctx, char *err, size_t errlen)
{
	struct bl_state *s = state;
	cJSON *root;
	char *txt;
	int rc;

	(void)ctx;
	if (s->learn == NULL)
		return 0;
	root = model_json(s, s->learn);
	txt = root != NULL ? model_text(root) : NULL;
	cJSON_Delete(root);
	if (txt == NULL) {
		snprintf(err, errlen, "%s: out of memory writing the baseline",
		    s->learn_path);
		return -1;
	}
	rc = write_file(s->learn_path, txt, err, errlen);
	free(txt);
	return rc;
}

static int
bl_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	int rc = bl_init_inner(c, sec, state);

	if (rc < 0)
		snprintf(err, errlen, "%s", bl_err);
	return rc;
}

const struct detector det_baseline = {
	.name = "baseline",
	.severity = SEV_MEDIUM,
	.keys = keys,
	.init = bl_init,
	.on_packet = bl_packet,
	.on_flow_end = bl_flow_end,
	.on_pdu = bl_pdu,
	.verdict = bl_verdict,
	.finish = bl_finish,
	.destroy = bl_destroy,
};
