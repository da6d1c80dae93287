/*
 * envelope.c - the value envelope of each polled or written point, learned
 * with --learn and carried in the baseline file ("envelopes",
 * docs/baseline.md).
 *
 * A point is a register of one control channel (client IP, server IP,
 * protocol): Modbus unit + table + address, read from the answers to
 * fc 3 / 4 (paired with their request by transaction id) or written with
 * fc 6 / 16 / 23.  While learning, per point: the least and the greatest
 * value and the greatest change between two consecutive readings (16-bit
 * registers wrap, so a counter rolling over is a step of one).  With
 * --baseline, for a point learned with at least min_samples values:
 *
 *   envelope.jump         a read value that changed by more than
 *                         step_factor x the greatest learned step (and at
 *                         least step_min): what the master is shown is
 *                         not what the process does (a MITM rewriting
 *                         answers, a forged answer)              T0832
 *   envelope.write_range  a written value (min_writes learned) outside
 *                         the learned range widened by margin x its span
 *                         or its greatest value (and at least step_min):
 *                         a setpoint no operator ever used
 *                                                                 T0836

 * A read value outside the learned range is not judged on its own: a
 * process legitimately moves to states never seen while learning (another
 * season, another batch); a reading that leaps there between two polls
 * is.
 *
 * Memory: max_channels channels and MAX_PTS points per channel; what does
 * not fit is counted, and a point not learned is never judged.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/blext.h"
#include "detectors/chantab.h"
#include "detectors/detector.h"
#include "detectors/envelope_int.h"
#include "dissectors/flow.h"
#include "dissectors/modbus.h"

#define MAX_PTS		256
#define MAX_PEND	4
#define MEMBER		"envelopes"

struct ev_pt {
	uint32_t	key;		/* write << 24 | unit << 16 ... see pt_key */
	uint16_t	min, max;
	uint16_t	max_step;
	uint8_t		stable;		/* >= min_samples learned */
	uint8_t		has_last;	/* this run */
	uint8_t		seen;		/* min, max hold a value */
	uint16_t	last;
	uint32_t	n;		/* this run */
};

struct ev_pend {
	uint64_t	flow;
	uint16_t	tid, addr, qty;
	uint8_t		unit, fc, used;
};

struct ev_chan {
	struct chan_key	 k;		/* first: chantab */
	uint16_t	 npts;
	uint8_t		 full, pend_next;
	struct ev_pend	 pend[MAX_PEND];
	uint64_t	 alerted[3];
	struct ev_pt	 pts[MAX_PTS];	/* sorted by key */
};

static const struct cfg_key keys[] = {
	{ "max_channels", CFG_INT, "2048", 16, 1 << 20,
	  "control channels whose point values are learned" },
	{ "min_samples", CFG_INT, "20", 2, 1000000000,
	  "values a point needs while learning before it is judged" },
	{ "min_writes", CFG_INT, "8", 2, 1000000000,
	  "values written to a point while learning before its written range is judged" },
	{ "step_factor", CFG_DOUBLE, "4", 1, 1000,
	  "a read value changing by more than this times the greatest learned step is a jump" },
	{ "step_min", CFG_INT, "64", 1, 65535,
	  "never judge a change (or a widened range) smaller than this" },
	{ "margin", CFG_DOUBLE, "1", 0, 100,
	  "the written range is widened on each side by this share of its span or of its greatest value, whichever is more" },
	{ "float_step_min", CFG_DOUBLE, "1", 0, 1e9,
	  "DNP3 / IEC 104 floating-point points: never judge a change (or a widened range) smaller than this" },
	{ "read_margin", CFG_DOUBLE, "0", 0, 100,
	  "DNP3 / IEC 104 analogs: a reading outside the learned range widened by this share of max(span, |min|, |max|) is envelope.range; 0 = off" },
	{ "quiet_s", CFG_INT, "60", 1, 86400,
	  "per channel and rule, an alert is raised again after this many seconds" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* written 1 bit, unit 8 bits, table (fc) 7 bits, address 16 bits */
static uint32_t
pt_key(bool write, uint8_t unit, uint8_t table, uint16_t addr)
{
	return (uint32_t)write << 31 | (uint32_t)unit << 23 |
	    (uint32_t)(table & 0x7f) << 16 | addr;
}

static struct ev_pt *
pt_find(struct ev_chan *c, uint32_t key, bool create)
{
	return chantab_point(c->pts, &c->npts, MAX_PTS, sizeof(c->pts[0]),
	    sizeof(c->pts[0].key), key, create, &c->full);
}

static uint16_t
step(uint16_t a, uint16_t b)
{
	uint16_t d = (uint16_t)(a - b), e = (uint16_t)(b - a);

	return d < e ? d : e;
}

static bool
quiet(struct envelope *s, struct ev_chan *c, int rule, uint64_t ts)
{
	if (c->alerted[rule] != 0 && ts - c->alerted[rule] < s->quiet_us)
		return true;
	c->alerted[rule] = ts;
	return false;
}

static const char *
table_name(uint8_t t)
{
	return t == MODBUS_FC_READ_INPUT_REGISTERS ? "input register" :
	    "holding register";
}

static void
raise(struct det_ctx *ctx, const struct det_pdu *pdu, const char *det,
    enum det_severity sev, const char *tech, const char *title,
    const struct ev_pt *p, uint16_t v, const char *agg)
{
	struct det_alert a;
	cJSON *d = cJSON_CreateObject();

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	/* a value shown that is not the process's is a spoofed report; a
	 * setpoint never used changes how the process is controlled */
	a.techniques[0] = strcmp(tech, "T0832") == 0 ? "T0856" : "T0831";
	a.title = title;
	cJSON_AddNumberToObject(d, "unit", p->key >> 23 & 0xff);
	cJSON_AddNumberToObject(d, "address", p->key & 0xffff);
	cJSON_AddNumberToObject(d, "value", v);
	if (p->has_last)
		cJSON_AddNumberToObject(d, "previous", p->last);
	cJSON_AddNumberToObject(d, "learned_min", p->min);
	cJSON_AddNumberToObject(d, "learned_max", p->max);
	cJSON_AddNumberToObject(d, "learned_max_step", p->max_step);
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

/* One value of a point: learn it, or judge it against the learned one. */
static void
value(struct envelope *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct ev_chan *c, bool learning, uint32_t key, uint16_t v)
{
	struct ev_pt *p = pt_find(c, key, learning);
	bool write = key >> 31;
	double span, lo, hi, lim;
	char title[256], agg[16];

	if (p == NULL)
		return;
	if (learning) {
		if (!p->seen) {
			p->min = p->max = v;
			p->seen = 1;
		} else {
			if (v < p->min)
				p->min = v;
			if (v > p->max)
				p->max = v;
		}
		if (p->has_last && step(v, p->last) > p->max_step)
			p->max_step = step(v, p->last);
		if (++p->n >= ((key >> 31) ? s->min_writes : s->min_samples))
			p->stable = 1;
		p->has_last = 1;
		p->last = v;
		return;
	}
	if (!p->stable)
		goto out;
	snprintf(agg, sizeof(agg), "%08x", key);
	span = (double)p->max - p->min;
	if (span < p->max)
		span = p->max;
	lim = span * s->margin > s->step_min ? span * s->margin : s->step_min;
	lo = p->min - lim;
	hi = p->max + lim;
	if (write) {
		if ((v < lo || v > hi) && !quiet(s, c, 0, pdu->ts)) {
			snprintf(title, sizeof(title),
			    "unit %u %s %u written with %u, outside the %u..%u "
			    "ever written", key >> 23 & 0xff,
			    table_name(key >> 16 & 0x7f), key & 0xffff, v,
			    p->min, p->max);
			raise(ctx, pdu, "envelope.write_range", SEV_HIGH, "T0836",
			    title, p, v, agg);
		}
		goto out;
	}
	lim = s->step_factor * p->max_step;
	if (lim < s->step_min)
		lim = s->step_min;
	if (p->has_last && step(v, p->last) > lim) {
		if (!quiet(s, c, 1, pdu->ts)) {
			snprintf(title, sizeof(title),
			    "unit %u %s %u reads %u after %u: a change of %u where "
			    "it never changed by more than %u between two readings",
			    key >> 23 & 0xff, table_name(key >> 16 & 0x7f),
			    key & 0xffff, v, p->last, step(v, p->last),
			    p->max_step);
			raise(ctx, pdu, "envelope.jump", SEV_HIGH, "T0832", title,
			    p, v, agg);
		}
	}
out:
	p->has_last = 1;
	p->last = v;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
modbus(struct envelope *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct ev_chan *c, bool learning)
{
	const struct modbus_pdu *m = pdu->u.modbus;
	struct ev_pend *q;
	size_t i, n;
	int j;

	if (m->dir == MODBUS_REQUEST) {
		if (!pdu->from_client)
			return;
		switch (m->fc) {
		case MODBUS_FC_READ_HOLDING_REGISTERS:
		case MODBUS_FC_READ_INPUT_REGISTERS:
		case MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS:
			if (!m->has_range)
				break;
			q = &c->pend[c->pend_next];
			c->pend_next = (uint8_t)((c->pend_next + 1) % MAX_PEND);
			q->flow = pdu->flow->id;
			q->tid = m->tid;
			q->unit = m->unit;
			q->fc = m->fc;
			q->addr = m->address;
			q->qty = m->quantity;
			q->used = 1;
			break;
		default:
			break;
		}
		if (m->fc == MODBUS_FC_WRITE_SINGLE_REGISTER && m->has_value &&
		    m->has_range)
			value(s, ctx, pdu, c, learning, pt_key(true, m->unit,
			    MODBUS_FC_READ_HOLDING_REGISTERS, m->address), m->value);
		if ((m->fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS ||
		    m->fc == MODBUS_FC_READ_WRITE_MULTIPLE_REGISTERS) &&
		    m->has_values) {
			uint16_t a = m->fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS ?
			    m->address : m->write_address;

			n = m->values_len / 2;
			for (i = 0; i < n && i < 125; i++)
				value(s, ctx, pdu, c, learning, pt_key(true,
				    m->unit, MODBUS_FC_READ_HOLDING_REGISTERS,
				    (uint16_t)(a + i)), be16(m->values + 2 * i));
		}
		return;
	}
	if (pdu->from_client || m->exception || !m->has_values)
		return;
	for (j = 0; j < MAX_PEND; j++) {
		q = &c->pend[j];
		if (q->used && q->tid == m->tid && q->fc == m->fc &&
		    q->unit == m->unit && q->flow == pdu->flow->id)
			break;
	}
	/* kept: an altered copy of the answer (dissect.c) pairs with it too */
	if (j == MAX_PEND)
		return;
	n = m->values_len / 2;
	if (n > q->qty)
		n = q->qty;
	for (i = 0; i < n; i++)
		value(s, ctx, pdu, c, learning, pt_key(false, q->unit,
		    q->fc == MODBUS_FC_READ_INPUT_REGISTERS ?
		    MODBUS_FC_READ_INPUT_REGISTERS :
		    MODBUS_FC_READ_HOLDING_REGISTERS, (uint16_t)(q->addr + i)),
		    be16(m->values + 2 * i));
}

static void
ev_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct envelope *s = state;
	struct chan_key k;
	struct ev_chan *c;

	if (pdu->flow == NULL || pdu->flow->af == 0)
		return;
	if (pdu->proto != ICS_MODBUS) {
		evp_pdu(s, ctx, pdu);
		return;
	}
	chantab_key(&k, pdu);
	if (s->learning && (c = chantab_get(&s->learn, &k, true)) != NULL)
		modbus(s, ctx, pdu, c, true);
	if (s->detecting && (c = chantab_get(&s->det, &k, false)) != NULL)
		modbus(s, ctx, pdu, c, false);
}

/* ---- the file -------------------------------------------------------- */

static cJSON *
chan_json(const struct ev_chan *c)
{
	cJSON *o = cJSON_CreateObject(), *arr, *e;
	uint16_t i;

	chantab_key_json(&c->k, o);
	arr = cJSON_AddArrayToObject(o, "points");
	for (i = 0; i < c->npts; i++) {
		const struct ev_pt *p = &c->pts[i];

		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "kind", p->key >> 31 ? "written" :
		    "read");
		cJSON_AddNumberToObject(e, "unit", p->key >> 23 & 0xff);
		cJSON_AddStringToObject(e, "table", (p->key >> 16 & 0x7f) ==
		    MODBUS_FC_READ_INPUT_REGISTERS ? "input" : "holding");
		cJSON_AddNumberToObject(e, "address", p->key & 0xffff);
		cJSON_AddNumberToObject(e, "min", p->min);
		cJSON_AddNumberToObject(e, "max", p->max);
		cJSON_AddNumberToObject(e, "max_step", p->max_step);
		cJSON_AddBoolToObject(e, "stable", p->stable);
		cJSON_AddItemToArray(arr, e);
	}
	if (c->full)
		cJSON_AddBoolToObject(o, "points_truncated", 1);
	return o;
}

static bool
has_points(const void *c)
{
	return ((const struct ev_chan *)c)->npts > 0;
}

static cJSON *
any_chan_json(void *c)
{
	return chan_json(c);
}

static cJSON *
ev_dump(void *state)
{
	struct envelope *s = state;

	return chantab_json(&s->learn, has_points, any_chan_json);
}

static bool
u16(const cJSON *o, const char *k, uint16_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 65535)
		return false;
	*out = (uint16_t)v->valuedouble;
	return true;
}

static int
fill(void *e, const cJSON *o)
{
	struct ev_chan *c = e;
	const cJSON *r, *v;
	struct ev_pt *p;

	c->full |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "points_truncated"));
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "points")) {
		uint16_t unit, addr, mn, mx, st;
		bool written;

		v = cJSON_GetObjectItemCaseSensitive(r, "kind");
		if (!cJSON_IsString(v) || !u16(r, "unit", &unit) ||
		    unit > 255 || !u16(r, "address", &addr) ||
		    !u16(r, "min", &mn) || !u16(r, "max", &mx) ||
		    !u16(r, "max_step", &st) || mn > mx)
			return -1;
		written = strcmp(v->valuestring, "written") == 0;
		v = cJSON_GetObjectItemCaseSensitive(r, "table");
		if ((p = pt_find(c, pt_key(written, (uint8_t)unit,
		    cJSON_IsString(v) && !strcmp(v->valuestring, "input") ?
		    MODBUS_FC_READ_INPUT_REGISTERS :
		    MODBUS_FC_READ_HOLDING_REGISTERS, addr), true)) == NULL)
			continue;
		if (p->seen) {
			if (mn < p->min)
				p->min = mn;
			if (mx > p->max)
				p->max = mx;
		} else {
			p->min = mn;
			p->max = mx;
			p->seen = 1;
		}
		if (st > p->max_step)
			p->max_step = st;
		p->stable |= cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(r, "stable"));
	}
	return 0;
}

static int
load(struct chantab *t, const cJSON *arr, const char *path, char *err,
    size_t errlen)
{
	return chantab_load(t, arr, fill, path, MEMBER, "value envelope", err,
	    errlen);
}

/* ---- life cycle ------------------------------------------------------ */

static void
ev_destroy(void *state)
{
	struct envelope *s = state;

	if (s == NULL)
		return;
	blext_unregister(s);
	chantab_free(&s->learn);
	chantab_free(&s->det);
	chantab_free(&s->plearn);
	chantab_free(&s->pdet);
	free(s);
}

static int
ev_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct envelope *s = calloc(1, sizeof(*s));
	const char *lp = blext_learn_path(c), *fp = blext_file_path(c);
	size_t max = (size_t)cfg_int(c, sec, "max_channels");

	if (s == NULL) {
		snprintf(err, errlen, "envelope: out of memory");
		return -1;
	}
	err[0] = '\0';
	*state = s;
	s->min_samples = (uint32_t)cfg_int(c, sec, "min_samples");
	s->step_min = (uint32_t)cfg_int(c, sec, "step_min");
	s->min_writes = (uint32_t)cfg_int(c, sec, "min_writes");
	s->step_factor = cfg_double(c, sec, "step_factor");
	s->margin = cfg_double(c, sec, "margin");
	s->float_step_min = cfg_double(c, sec, "float_step_min");
	s->read_margin = cfg_double(c, sec, "read_margin");
	s->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	s->learning = lp[0] != '\0';
	s->detecting = fp[0] != '\0';
	if (!s->learning && !s->detecting)
		return DET_INACTIVE;
	if (chantab_open_pair(&s->learn, &s->det, lp, fp, max,
	    sizeof(struct ev_chan), MEMBER, load, ev_dump, s, "envelope", err,
	    errlen) != 0 || evp_open(s, lp, fp, max, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "envelope: out of memory");
	ev_destroy(s);
	*state = NULL;
	return -1;
}

static int
ev_stats(void *state, char *buf, size_t len)
{
	const struct envelope *s = state;

	int n = chantab_pair_stats(&s->learn, &s->det, s->learning,
	    s->detecting, buf, len);

	if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ",\"point_channels\":%zu,"
		    "\"point_bytes\":%zu", s->plearn.n + s->pdet.n,
		    chantab_bytes(&s->plearn) + chantab_bytes(&s->pdet));
	return n;
}

static void
ev_counters(void *state, det_counter_fn add, void *arg)
{
	const struct envelope *s = state;
	uint64_t full = 0;
	size_t i;

	for (i = 0; i < s->learn.n; i++) {
		const struct ev_chan *c = chantab_at(&s->learn, i);

		if (c != NULL)
			full += c->full;
	}
	add(arg, "channels_dropped", s->learn.dropped + s->det.dropped +
	    s->plearn.dropped + s->pdet.dropped);
	add(arg, "channels_points_full", full + evp_points_full(s));
}

const struct detector det_envelope = {
	.name = "envelope",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_MODBUS) | DET_PROTO(ICS_DNP3) |
	    DET_PROTO(ICS_IEC104),
	.init = ev_init,
	.on_pdu = ev_pdu,
	.stats = ev_stats,
	.counters = ev_counters,
	.destroy = ev_destroy,
};
