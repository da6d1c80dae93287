/*
 * modbus_detect.c - rules on decoded Modbus/TCP PDUs (Modbus Application
 * Protocol v1.1b3; Schneider UMAS over function 90).
 *
 *   modbus.unauthorized_write  write fc 5/6/15/16/21/22/23 (or UMAS write)
 *                              from a host [policy] modbus_writers / the
 *                              baseline does not allow          T0855
 *                              (holding registers: + T0836)
 *   modbus.diagnostics         fc 8 restart comms (T0816), listen-only,
 *                              clear counters ...                 T0814
 *   modbus.unit_id_scan        one client trying many unit ids    T0846
 *   modbus.address_scan        one client reading many ranges     T0861
 *   modbus.brute_force_io      rapid changes written to one point T0806
 *   modbus.replay              a write request identical to one the same
 *                              client sent the same server earlier (unit,
 *                              function, address, values and transaction
 *                              id: every byte), now from another TCP
 *                              session, while the session that first
 *                              carried it is still live (a request within
 *                              replay_live_s) and has numbered other
 *                              requests since: a recorded write sent
 *                              again (medium)                     T0855
 *   modbus.device_id           fc 43/14, fc 17 from a host not
 *                              allowed to discover                T0888
 *   modbus.umas_*              UMAS stop/start (T0858); program
 *                              written into the PLC (Schneider "upload"
 *                              0x30-0x32: T0843), read out of it
 *                              ("download" 0x33-0x35: T0845); requests
 *                              only, the request being what is sent to
 *                              the port the PLC listens on (502)
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "lib/ipmap.h"
#include "dissectors/modbus.h"

#define UNIT_SLOTS	32
#define ADDR_SLOTS	64
#define PAIR_MEMO	64	/* power of two */

/* Per client->server pair: unit ids and read ranges tried recently. */
struct pair {
	uint64_t	unit_start;
	uint8_t		units[UNIT_SLOTS];	/* unit ids requested */
	uint8_t		nunits;
	uint8_t		failed[UNIT_SLOTS];	/* unit ids a gateway refused */
	uint8_t		nfailed;
	uint64_t	addr_start;
	uint32_t	addrs[ADDR_SLOTS];	/* fc << 16 | address */
	uint8_t		naddrs;
	/* ranges read in earlier windows: the client's poll set (a 512-bit
	 * hash set; a false hit only hides one range of a sweep) */
	uint64_t	known[8];
	/* the client's two latest sessions: flow id, last request, its tid */
	struct {
		uint64_t	flow, ts;
		uint16_t	tid;
	} ses[2];
};

/*
 * A write request as sent (pair, unit, function, transaction id and
 * data: hash h), where it was first seen.  Direct-mapped: writes are
 * rare; a collision forgets the older one.
 */
#define WRITE_SLOTS	1024	/* power of two */

struct wseen {
	uint32_t	h;
	uint16_t	tid;
	uint64_t	flow;
};

/* Per (client, server, unit, address) written. */
struct point {
	uint64_t	start;
	uint32_t	writes;		/* value changes in the window */
	uint32_t	last;		/* fingerprint of the last value written */
	uint8_t		has_last;
};

struct mb_state {
	struct ipmap	*pairs;
	struct ipmap	*points;
	uint64_t	 window_us;
	uint32_t	 unit_threshold;
	uint32_t	 failed_unit_threshold;
	uint32_t	 addr_threshold;
	uint32_t	 brute_writes;
	uint64_t	 brute_window_us;
	uint64_t	 replay_live_us;
	struct wseen	 wseen[WRITE_SLOTS];
	/* the pair last used per flow and side (direct-mapped) */
	struct ipmap_memo pair_memo[PAIR_MEMO];
};

static const struct cfg_key keys[] = {
	{ "window", CFG_DOUBLE, "60", 1, 86400,
	  "seconds over which unit ids and read ranges of one client are counted" },
	{ "unit_id_threshold", CFG_INT, "32", 2, 32,
	  "distinct unit ids one client may poll on one server within the window" },
	{ "failed_unit_id_threshold", CFG_INT, "5", 2, 32,
	  "distinct unit ids answered with gateway exceptions (0x0A/0x0B) within the window" },
	{ "address_threshold", CFG_INT, "32", 2, 64,
	  "distinct read start addresses one client may use on one server within the window" },
	{ "brute_force_writes", CFG_INT, "20", 2, 1000000,
	  "value changes written to one point within brute_force_window that make it brute force I/O (the same value written again does not count)" },
	{ "brute_force_window", CFG_DOUBLE, "10", 0.1, 3600, "seconds" },
	{ "max_pairs", CFG_INT, "16384", 16, 10000000, "client/server pairs tracked" },
	{ "replay_live_s", CFG_DOUBLE, "120", 1, 86400,
	  "a session whose client sent a request within this many seconds is live (modbus.replay)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
mb_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct mb_state *s = calloc(1, sizeof(*s));
	size_t max = (size_t)cfg_int(c, sec, "max_pairs");

	if (s == NULL)
		return -1;
	s->pairs = ipmap_new(max, sizeof(struct pair));
	s->points = ipmap_new(max, sizeof(struct point));
	if (s->pairs == NULL || s->points == NULL) {
		ipmap_free(s->pairs);
		ipmap_free(s->points);
		free(s);
		return -1;
	}
	s->window_us = (uint64_t)(cfg_double(c, sec, "window") * 1e6);
	s->unit_threshold = (uint32_t)cfg_int(c, sec, "unit_id_threshold");
	s->failed_unit_threshold = (uint32_t)cfg_int(c, sec, "failed_unit_id_threshold");
	s->addr_threshold = (uint32_t)cfg_int(c, sec, "address_threshold");
	s->brute_writes = (uint32_t)cfg_int(c, sec, "brute_force_writes");
	s->brute_window_us = (uint64_t)(cfg_double(c, sec, "brute_force_window") * 1e6);
	s->replay_live_us = (uint64_t)(cfg_double(c, sec, "replay_live_s") * 1e6);
	*state = s;
	return 0;
}

static void
mb_destroy(void *state)
{
	struct mb_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->pairs);
	ipmap_free(s->points);
	free(s);
}

static void
raise_pdu2(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *title, cJSON *extra,
    const char *agg)
{
	struct det_alert a;
	cJSON *d = extra != NULL ? extra : cJSON_CreateObject();

	det_alert_from_pdu(&a, pdu);
	a.techniques[0] = tech2;
	if (!pdu->from_client) {
		/* about a reply: the client it went to is who acted */
		struct det_endpoint t = a.src;

		a.src = a.dst;
		a.dst = t;
	}
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	cJSON_AddNumberToObject(d, "unit", m->unit);
	cJSON_AddNumberToObject(d, "function", m->fc);
	cJSON_AddStringToObject(d, "function_name", modbus_fc_name(m->fc));
	if (m->has_range) {
		cJSON_AddNumberToObject(d, "address", m->address);
		cJSON_AddNumberToObject(d, "quantity", m->quantity);
	}
	if (m->has_write_range) {
		cJSON_AddNumberToObject(d, "write_address", m->write_address);
		cJSON_AddNumberToObject(d, "write_quantity", m->write_quantity);
	}
	if (m->has_value)
		cJSON_AddNumberToObject(d, "value", m->value);
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static void
raise_pdu(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, const char *det, enum det_severity sev,
    const char *tech, const char *title, cJSON *extra, const char *agg)
{
	raise_pdu2(ctx, pdu, m, det, sev, tech, NULL, title, extra, agg);
}

/*
 * A write into holding registers (fc 6, 16, 22, 23): registers hold the
 * device's setpoints and parameters, coils its commands.  Without a
 * learned range for the register (envelope.write_range) that is all the
 * context there is: the write is also a parameter change, T0836.
 */
static bool
writes_registers(uint8_t fc)
{
	return fc == MODBUS_FC_WRITE_SINGLE_REGISTER ||
	    fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS ||
	    fc == MODBUS_FC_MASK_WRITE_REGISTER ||
	    fc == MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS;
}

/* Key of the pair as seen from the client (request) side. */
static size_t
pair_key(const struct det_pdu *pdu, uint8_t *key)
{
	const struct flow *f = pdu->flow;
	/* the Modbus client is the sender of requests, the receiver of replies */
	bool cli_is_flow_cli = pdu->sender_is_cli == pdu->from_client;
	const uint8_t *c = cli_is_flow_cli ? f->cli.ip : f->srv.ip;
	const uint8_t *s = cli_is_flow_cli ? f->srv.ip : f->cli.ip;

	/* fixed sizes: a few moves instead of a byte loop per PDU */
	if (f->af == 6) {
		memcpy(key, c, 16);
		memcpy(key + 16, s, 16);
		return 32;
	}
	memcpy(key, c, 4);
	memcpy(key + 4, s, 4);
	return 8;
}

/* Add v to a small set; true when it was new. */
static bool
set_add(uint8_t *set, uint8_t *n, uint8_t v)
{
	uint8_t i;

	for (i = 0; i < *n; i++)
		if (set[i] == v)
			return false;
	if (*n < UNIT_SLOTS)
		set[(*n)++] = v;
	return true;
}

/*
 * A unit id sweep: one client trying many unit ids on one server.  Polling
 * many slaves behind a gateway is normal, so the strong sign is unit ids
 * the gateway refuses (exception 0x0A path unavailable / 0x0B target
 * failed to respond); a very wide spread of unit ids counts too.
 */
static void raise_unit_sweep(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, const struct pair *p);

static void
check_unit_sweep(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m, struct pair *p)
{
	bool gw_fail;

	if (pdu->ts > p->unit_start + s->window_us) {
		p->unit_start = pdu->ts;
		p->nunits = 0;
		p->nfailed = 0;
	}
	gw_fail = !pdu->from_client && m->exception &&
	    (m->exception_code == 0x0A || m->exception_code == 0x0B);
	if (pdu->from_client) {
		if (!set_add(p->units, &p->nunits, m->unit) ||
		    p->nunits < s->unit_threshold)
			return;
	} else if (!gw_fail || !set_add(p->failed, &p->nfailed, m->unit) ||
	    p->nfailed < s->failed_unit_threshold)
		return;
	raise_unit_sweep(ctx, pdu, m, p);
}

static __attribute__((noinline, cold)) void
raise_unit_sweep(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, const struct pair *p)
{
	char title[128];
	cJSON *d;

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "distinct_units", p->nunits);
	cJSON_AddNumberToObject(d, "refused_units", p->nfailed);
	snprintf(title, sizeof(title),
	    "Modbus unit id sweep (%u unit ids tried, %u refused)", p->nunits,
	    p->nfailed);
	raise_pdu(ctx, pdu, m, "modbus.unit_id_scan", SEV_HIGH, "T0846", title,
	    d, NULL);
}

static void raise_address_sweep(struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m,
    const struct pair *p);

static void
check_address_sweep(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m, struct pair *p)
{
	uint32_t v = (uint32_t)m->fc << 16 | m->address, h;
	uint8_t i;

	if (!m->has_range || m->fc > 4)
		return;
	if (pdu->ts > p->addr_start + s->window_us) {
		for (i = 0; i < p->naddrs; i++) {
			h = (p->addrs[i] * 2654435761u) >> 23;
			p->known[h >> 6] |= 1ull << (h & 63);
		}
		p->addr_start = pdu->ts;
		p->naddrs = 0;
	}
	/* what the client polled before is its poll list, not a sweep */
	h = (v * 2654435761u) >> 23;
	if (p->known[h >> 6] >> (h & 63) & 1)
		return;
	for (i = 0; i < p->naddrs; i++)
		if (p->addrs[i] == v)
			return;
	if (p->naddrs < ADDR_SLOTS)
		p->addrs[p->naddrs++] = v;
	if (p->naddrs < s->addr_threshold)
		return;
	raise_address_sweep(ctx, pdu, m, p);
}

static __attribute__((noinline, cold)) void
raise_address_sweep(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, const struct pair *p)
{
	char title[128];
	cJSON *d;

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "distinct_ranges", p->naddrs);
	snprintf(title, sizeof(title),
	    "Modbus address range sweep (%u distinct ranges read)", p->naddrs);
	raise_pdu(ctx, pdu, m, "modbus.address_scan", SEV_MEDIUM, "T0861",
	    title, d, NULL);
}

static void
check_brute_force(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m)
{
	uint8_t key[40];
	size_t k = pair_key(pdu, key);
	struct point *pt;
	char title[128];
	uint32_t fp;
	size_t i;
	int fresh;

	key[k++] = m->unit;
	key[k++] = (uint8_t)(m->address >> 8);
	key[k++] = (uint8_t)m->address;
	pt = ipmap_put(s->points, key, k, pdu->ts, &fresh);
	if (pt == NULL)
		return;
	/*
	 * Brute force I/O toggles or changes a point; an HMI that refreshes
	 * a setpoint by writing the same value over and over does not.
	 * Count value changes, not writes.
	 */
	fp = 2166136261u;
	if (m->has_value)
		fp = (fp ^ m->value) * 16777619u;
	if (m->has_masks)
		fp = ((fp ^ m->and_mask) * 16777619u ^ m->or_mask) * 16777619u;
	if (m->has_values)
		for (i = 0; i < m->values_len; i++)
			fp = (fp ^ m->values[i]) * 16777619u;
	if (pt->has_last && pt->last == fp)
		return;
	pt->last = fp;
	pt->has_last = 1;
	if (pdu->ts > pt->start + s->brute_window_us) {
		pt->start = pdu->ts;
		pt->writes = 0;
	}
	if (++pt->writes < s->brute_writes)
		return;
	pt->writes = 0;
	pt->start = pdu->ts;
	snprintf(title, sizeof(title), "Rapid repeated Modbus writes to address %u",
	    m->address);
	raise_pdu(ctx, pdu, m, "modbus.brute_force_io", SEV_HIGH, "T0806", title,
	    NULL, NULL);
}

static void
on_umas(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m)
{
	const char *det = NULL, *tech = NULL;
	enum det_severity sev = SEV_HIGH;
	char title[128];
	cJSON *d;

	switch (m->umas_func) {
	case MODBUS_UMAS_STOP_PLC:
		det = "modbus.umas_stop"; tech = "T0858"; sev = SEV_CRITICAL;
		break;
	case MODBUS_UMAS_START_PLC:
		det = "modbus.umas_start"; tech = "T0858";
		break;
	/* Schneider's "upload" writes the PLC's program (ATT&CK download) */
	case MODBUS_UMAS_INIT_UPLOAD:
	case MODBUS_UMAS_UPLOAD_BLOCK:
	case MODBUS_UMAS_END_UPLOAD:
		det = "modbus.umas_download"; tech = "T0843";
		break;
	/* ... and its "download" reads it out (ATT&CK upload) */
	case MODBUS_UMAS_INIT_DOWNLOAD:
	case MODBUS_UMAS_DOWNLOAD_BLOCK:
	case MODBUS_UMAS_END_DOWNLOAD:
		det = "modbus.umas_upload"; tech = "T0845"; sev = SEV_MEDIUM;
		break;
	default:
		return;
	}
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "umas_function", m->umas_func);
	cJSON_AddStringToObject(d, "umas_name", modbus_umas_name(m->umas_func));
	snprintf(title, sizeof(title), "Modbus UMAS %s", modbus_umas_name(m->umas_func));
	raise_pdu(ctx, pdu, m, det, sev, tech, title, d, NULL);
}

/* The pair's key built and looked up: a memo miss (its own frame). */
static __attribute__((noinline)) struct pair *
pair_miss(struct mb_state *s, struct ipmap_memo *c, uint64_t mid,
    const struct det_pdu *pdu)
{
	uint8_t key[40];
	int fresh;

	return ipmap_put_memo(s->pairs, c, mid, key, pair_key(pdu, key),
	    pdu->ts, &fresh);
}

static void on_client_rare(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m, struct pair *p,
    bool write);

/* The client's request in session fid: its two latest sessions. */
static inline void
note_session(struct pair *p, uint64_t fid, uint64_t ts, uint16_t tid)
{
	int i;

	if (p->ses[0].flow == fid) {
		p->ses[0].ts = ts;
		p->ses[0].tid = tid;
		return;
	}
	i = p->ses[1].flow == fid ? 1 : p->ses[0].ts <= p->ses[1].ts ? 0 : 1;
	p->ses[i].flow = fid;
	p->ses[i].ts = ts;
	p->ses[i].tid = tid;
}

static __attribute__((noinline, cold)) void
raise_replay(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct modbus_pdu *m, uint16_t orig_tid)
{
	char title[200];
	cJSON *d = cJSON_CreateObject();

	snprintf(title, sizeof(title),
	    "Modbus %s replayed: the same request (transaction 0x%04x) the client "
	    "sent in a session that is still live, again from another session",
	    modbus_fc_name(m->fc), m->tid);
	cJSON_AddNumberToObject(d, "transaction_id", m->tid);
	cJSON_AddNumberToObject(d, "live_session_tid", orig_tid);
	/*
	 * Medium: the bytes are the evidence, not who sent them; a foreign
	 * stack found on the same packet leads the alert it is folded into.
	 */
	raise_pdu(ctx, pdu, m, "modbus.replay", SEV_MEDIUM, "T0855", title, d,
	    NULL);
}

/*
 * A write request: the same bytes, transaction id included, first seen
 * in another session of this client that is still live and has numbered
 * other requests since?  A client numbers its requests; it does not send
 * an old request again from a second connection.
 */
static void
check_replay(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m, struct pair *p)
{
	uint8_t buf[IPMAP_KEY_MAX + 4 + 256];
	size_t n = pair_key(pdu, buf), dl = m->data_len < 252 ? m->data_len : 252;
	uint64_t fid = pdu->flow->id;
	struct wseen *w;
	uint32_t h;
	int i;

	buf[n++] = m->unit;
	buf[n++] = m->fc;
	buf[n++] = (uint8_t)(m->tid >> 8);
	buf[n++] = (uint8_t)m->tid;
	if (dl > 0 && m->data != NULL)
		memcpy(buf + n, m->data, dl);
	h = ipmap_hash(buf, n + dl) | 1;	/* 0: an empty slot */
	w = &s->wseen[h & (WRITE_SLOTS - 1)];
	if (w->h != h || w->tid != m->tid) {
		w->h = h;
		w->tid = m->tid;
		w->flow = fid;
		return;
	}
	if (w->flow == fid)
		return;		/* the same session sent it again: a retry */
	for (i = 0; i < 2; i++)
		if (p->ses[i].flow == w->flow &&
		    pdu->ts - p->ses[i].ts <= s->replay_live_us &&
		    p->ses[i].tid != m->tid) {
			raise_replay(ctx, pdu, m, p->ses[i].tid);
			return;
		}
}

static void
mb_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct mb_state *s = state;
	const struct modbus_pdu *m;
	struct ipmap_memo *c;
	struct pair *p;
	uint64_t mid;
	bool write;

	if (pdu->proto != ICS_MODBUS)
		return;
	m = pdu->u.modbus;
	/* a flow and the side its client is on fix the pair's key */
	mid = pdu->flow->id * 2 + (pdu->sender_is_cli == pdu->from_client);
	c = &s->pair_memo[mid & (PAIR_MEMO - 1)];
	p = ipmap_memo_get(s->pairs, c, mid, pdu->ts);
	if (p == NULL)
		p = pair_miss(s, c, mid, pdu);
	if (p != NULL)
		check_unit_sweep(s, ctx, pdu, m, p);
	if (!pdu->from_client)
		return;
	if (p != NULL) {
		check_address_sweep(s, ctx, pdu, m, p);
		note_session(p, pdu->flow->id, pdu->ts, m->tid);
	}
	write = modbus_fc_is_write(m->fc) ||
	    (m->fc == MODBUS_FC_UMAS && m->has_umas &&
	    m->umas_func == MODBUS_UMAS_WRITE_VARIABLES);
	/* what follows concerns writes, diagnostics, UMAS and device id only */
	if (write || m->fc == MODBUS_FC_DIAGNOSTICS || m->fc == MODBUS_FC_UMAS ||
	    m->fc == MODBUS_FC_ENCAPSULATED_INTERFACE ||
	    m->fc == MODBUS_FC_REPORT_SERVER_ID)
		on_client_rare(s, ctx, pdu, m, p, write);
}

/* A request that writes or asks something unusual: its own frame. */
static __attribute__((noinline)) void
on_client_rare(struct mb_state *s, struct det_ctx *ctx,
    const struct det_pdu *pdu, const struct modbus_pdu *m, struct pair *p,
    bool write)
{
	struct det_endpoint src;
	char title[160];

	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	if (write) {
		check_brute_force(s, ctx, pdu, m);
		if (p != NULL)
			check_replay(s, ctx, pdu, m, p);
		if (det_policy(ctx, ICS_MODBUS, DET_ROLE_WRITER, &src) == DET_DENIED) {
			snprintf(title, sizeof(title),
			    "Modbus %s from a host not allowed to write",
			    modbus_fc_name(m->fc));
			raise_pdu2(ctx, pdu, m, "modbus.unauthorized_write",
			    SEV_HIGH, "T0855", writes_registers(m->fc) ?
			    "T0836" : NULL, title, NULL, NULL);
		}
	}

	if (m->fc == MODBUS_FC_DIAGNOSTICS && m->has_diag) {
		enum det_severity sev = SEV_LOW;
		cJSON *d = cJSON_CreateObject();
		char agg[16];

		if (m->diag_sub == MODBUS_DIAG_RESTART_COMM ||
		    m->diag_sub == MODBUS_DIAG_FORCE_LISTEN_ONLY)
			sev = SEV_HIGH;
		else if (m->diag_sub == MODBUS_DIAG_CLEAR_COUNTERS ||
		    m->diag_sub == MODBUS_DIAG_CHANGE_ASCII_DELIM)
			sev = SEV_MEDIUM;
		cJSON_AddNumberToObject(d, "subfunction", m->diag_sub);
		cJSON_AddStringToObject(d, "subfunction_name",
		    m->diag_sub == MODBUS_DIAG_RESTART_COMM ? "restart communications" :
		    m->diag_sub == MODBUS_DIAG_FORCE_LISTEN_ONLY ? "force listen only mode" :
		    m->diag_sub == MODBUS_DIAG_CLEAR_COUNTERS ? "clear counters" :
		    m->diag_sub == MODBUS_DIAG_RETURN_QUERY_DATA ? "return query data" :
		    "other diagnostic");
		snprintf(title, sizeof(title), "Modbus diagnostics sub-function 0x%04x",
		    m->diag_sub);
		snprintf(agg, sizeof(agg), "%u", m->diag_sub);
		/*
		 * Restart communications restarts the device's port (and
		 * leaves listen-only mode): a device restart, T0816; listen
		 * only and the rest silence or disturb it, T0814.
		 */
		raise_pdu(ctx, pdu, m, "modbus.diagnostics", sev,
		    sev < SEV_MEDIUM ? NULL :
		    m->diag_sub == MODBUS_DIAG_RESTART_COMM ? "T0816" : "T0814",
		    title, d, agg);
	}

	if (m->fc == MODBUS_FC_UMAS && m->has_umas)
		on_umas(ctx, pdu, m);

	if ((m->fc == MODBUS_FC_ENCAPSULATED_INTERFACE && m->has_mei &&
	    m->mei_type == MODBUS_MEI_READ_DEVICE_ID) ||
	    m->fc == MODBUS_FC_REPORT_SERVER_ID) {
		enum det_verdict v = det_policy(ctx, ICS_MODBUS, DET_ROLE_DISCOVERY,
		    &src);

		if (v != DET_ALLOWED)
			raise_pdu(ctx, pdu, m, "modbus.device_id",
			    v == DET_DENIED ? SEV_MEDIUM : SEV_INFO, "T0888",
			    "Modbus device identification request", NULL, NULL);
	}
}

/* Entries the caps recycled: an attacker filling the tables shows here. */
static void
mb_counters(void *state, det_counter_fn add, void *arg)
{
	struct mb_state *s = state;

	add(arg, "pairs_recycled", ipmap_recycled(s->pairs));
	add(arg, "points_recycled", ipmap_recycled(s->points));
}

const struct detector det_modbus = {
	.name = "modbus",
	.pdu_protos = DET_PROTO(ICS_MODBUS),
	.severity = SEV_HIGH,
	.keys = keys,
	.init = mb_init,
	.on_pdu = mb_pdu,
	.destroy = mb_destroy,
	.counters = mb_counters,
};
