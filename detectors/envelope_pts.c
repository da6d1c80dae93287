/*
 * envelope_pts.c - value envelopes of DNP3 points and IEC 104 information
 * objects (see envelope.c for the Modbus registers and the rules), carried
 * in the baseline file as "point_envelopes" (docs/baseline.md).
 *
 * A point is (channel, outstation link address or common address, kind,
 * index or IOA).  Values come from what the outstation reports: DNP3
 * responses and unsolicited responses (analog inputs g30/g32, counters
 * g20/g22; frozen counters g21/g23 are learned but not judged for
 * monotonicity, a freeze-and-clear resets them) and IEC 104 monitor ASDUs
 * with a cause periodic, background, spontaneous, requested or
 * interrogated (measured values 5, 9-14, 21, 32, 34-36; integrated totals
 * 15, 16, 37; invalid values skipped).  Binary states are not modelled: a
 * switch that did not move while learning may move any day.  While
 * learning: least, greatest, greatest step between two readings, and for
 * counters whether they ever went back.  With --baseline, for a point
 * learned with min_samples values:
 *
 *   envelope.jump         an analog that changed by more than step_factor
 *                         x its greatest learned step (at least step_min,
 *                         float_step_min for floating point)      T0832
 *   envelope.range        only with read_margin > 0 (default off): an
 *                         analog outside its learned range widened by
 *                         read_margin x max(span, |min|, |max|)   T0832
 *                         (off by default: a process moves to states
 *                         never seen while learning, another season)
 *   envelope.counter_back a counter that never went back while learning
 *                         reads less than before on the same channel (not
 *                         a wrap of its 16/32 bits, not after a DNP3
 *                         device restart): an old report replayed or
 *                         forged                                  T0856
 *
 * Memory: the envelope's max_channels channels, MAX_PTS points each.
 */
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/blext.h"
#include "detectors/chantab.h"
#include "detectors/detector.h"
#include "detectors/envelope_int.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"

#define MAX_PTS		256
#define MEMBER		"point_envelopes"

enum { K_ANALOG, K_COUNTER, K_FROZEN };
static const char *const kind_names[] = { "analog", "counter",
	"frozen_counter" };

struct evp_pt {
	uint64_t	key;		/* kind << 48 | station << 32 | index */
	double		min, max, max_step, last;
	uint32_t	n;		/* this run */
	uint8_t		bits;		/* counter width, 0 = analog */
	uint8_t		is_float, stable, seen, has_last, back;
};

struct evp_chan {
	struct chan_key	 k;		/* first: chantab */
	uint16_t	 npts;
	uint8_t		 full;
	uint64_t	 alerted[3];
	struct evp_pt	 pts[MAX_PTS];	/* sorted by key */
};

static uint64_t
pt_key(unsigned kind, uint16_t station, uint32_t index)
{
	return (uint64_t)kind << 48 | (uint64_t)station << 32 | index;
}

static struct evp_pt *
pt_find(struct evp_chan *c, uint64_t key, bool create)
{
	return chantab_point(c->pts, &c->npts, MAX_PTS, sizeof(c->pts[0]),
	    sizeof(c->pts[0].key), key, create, &c->full);
}

/* a counter of `bits` bits rolled over from a to b */
static bool
wrapped(double a, double b, uint8_t bits)
{
	double top = bits >= 32 ? 4294967296.0 : 65536.0;

	return a > 0.75 * top && b < 0.25 * top;
}

/* one reading being judged */
struct reading {
	struct envelope		*s;
	struct det_ctx		*ctx;
	const struct det_pdu	*pdu;
	struct evp_chan		*c;
	bool			 learning, restarted;
	uint16_t		 station;
	const char		*what;	/* "DNP3 outstation 10" ... */
};

static bool
quiet(struct envelope *s, struct evp_chan *c, int rule, uint64_t ts)
{
	if (c->alerted[rule] != 0 && ts - c->alerted[rule] < s->quiet_us)
		return true;
	c->alerted[rule] = ts;
	return false;
}

static void
raise(struct reading *r, const struct evp_pt *p, const char *det,
    const char *tech, const char *second, const char *title, double v)
{
	struct det_alert a;
	cJSON *d = cJSON_CreateObject();
	char agg[24];

	det_alert_from_pdu(&a, r->pdu);
	a.detector = det;
	a.severity = SEV_HIGH;
	a.technique = tech;
	a.techniques[0] = second;
	a.title = title;
	cJSON_AddStringToObject(d, "kind", kind_names[p->key >> 48 & 3]);
	cJSON_AddNumberToObject(d, r->pdu->proto == ICS_DNP3 ?
	    "outstation" : "common_address", r->station);
	cJSON_AddNumberToObject(d, r->pdu->proto == ICS_DNP3 ? "index" : "ioa",
	    (double)(p->key & 0xffffffffu));
	cJSON_AddNumberToObject(d, "value", v);
	if (p->has_last)
		cJSON_AddNumberToObject(d, "previous", p->last);
	cJSON_AddNumberToObject(d, "learned_min", p->min);
	cJSON_AddNumberToObject(d, "learned_max", p->max);
	cJSON_AddNumberToObject(d, "learned_max_step", p->max_step);
	snprintf(agg, sizeof(agg), "%016llx", (unsigned long long)p->key);
	a.details = d;
	a.agg_key = agg;
	det_alert(r->ctx, &a);
}

static void
judge(struct reading *r, struct evp_pt *p, double v)
{
	struct envelope *s = r->s;
	double lim, w, floor_ = p->is_float ? s->float_step_min : s->step_min;
	unsigned kind = p->key >> 48 & 3;
	char title[256];
	uint32_t idx = (uint32_t)(p->key & 0xffffffffu);

	if (kind == K_COUNTER) {
		if (!p->back && p->has_last && v < p->last &&
		    !wrapped(p->last, v, p->bits) && !r->restarted &&
		    !quiet(s, r->c, 2, r->pdu->ts)) {
			snprintf(title, sizeof(title), "%s counter %u reads %.0f "
			    "after %.0f: a counter that never went back while "
			    "learning went back", r->what, idx, v, p->last);
			raise(r, p, "envelope.counter_back", "T0856", "T0832",
			    title, v);
		}
		return;
	}
	if (kind != K_ANALOG)
		return;
	lim = s->step_factor * p->max_step;
	if (lim < floor_)
		lim = floor_;
	if (p->has_last && fabs(v - p->last) > lim) {
		if (!quiet(s, r->c, 0, r->pdu->ts)) {
			snprintf(title, sizeof(title), "%s point %u reads %g after "
			    "%g: a change of %g where it never changed by more "
			    "than %g between two readings", r->what, idx, v,
			    p->last, fabs(v - p->last), p->max_step);
			raise(r, p, "envelope.jump", "T0832", "T0856", title, v);
		}
		return;
	}
	w = p->max - p->min;
	if (w < fabs(p->max))
		w = fabs(p->max);
	if (w < fabs(p->min))
		w = fabs(p->min);
	if (s->read_margin <= 0)
		return;
	lim = w * s->read_margin > floor_ ? w * s->read_margin : floor_;
	if ((v < p->min - lim || v > p->max + lim) &&
	    !quiet(s, r->c, 1, r->pdu->ts)) {
		snprintf(title, sizeof(title), "%s point %u reads %g, outside "
		    "the %g..%g it ever read (widened by %g)", r->what, idx, v,
		    p->min, p->max, lim);
		raise(r, p, "envelope.range", "T0832", "T0856", title, v);
	}
}

static void
value(struct reading *r, unsigned kind, uint32_t index, double v,
    uint8_t bits, bool is_float)
{
	struct evp_pt *p;
	double st;

	if (!isfinite(v))
		return;
	if ((p = pt_find(r->c, pt_key(kind, r->station, index),
	    r->learning)) == NULL)
		return;
	if (r->learning) {
		if (!p->seen) {
			p->min = p->max = v;
			p->seen = 1;
			p->bits = bits;
			p->is_float = is_float;
		} else {
			if (v < p->min)
				p->min = v;
			if (v > p->max)
				p->max = v;
		}
		if (p->has_last) {
			st = fabs(v - p->last);
			if (kind != K_ANALOG && v < p->last &&
			    !wrapped(p->last, v, bits))
				p->back = 1;
			else if (st > p->max_step && !(kind != K_ANALOG &&
			    v < p->last))
				p->max_step = st;
		}
		if (++p->n >= r->s->min_samples)
			p->stable = 1;
	} else if (p->stable)
		judge(r, p, v);
	p->has_last = 1;
	p->last = v;
}

static void
dnp3_value(void *arg, const struct dnp3_value *v)
{
	struct reading *r = arg;

	switch (v->kind) {
	case DNP3_VAL_ANALOG:
		value(r, K_ANALOG, v->index, v->value, 0, v->is_float);
		break;
	case DNP3_VAL_COUNTER:
		value(r, K_COUNTER, v->index, v->value, v->bits, false);
		break;
	case DNP3_VAL_FROZEN:
		value(r, K_FROZEN, v->index, v->value, v->bits, false);
		break;
	default:
		break;
	}
}

static void
iec104_value(void *arg, const struct iec104_value *v)
{
	struct reading *r = arg;

	if (v->invalid || v->kind == IEC104_VAL_BINARY)
		return;
	value(r, v->kind == IEC104_VAL_COUNTER ? K_COUNTER : K_ANALOG, v->ioa,
	    v->value, v->kind == IEC104_VAL_COUNTER ? 32 : 0, v->is_float);
}

/* What the outstation reports, by cause: not commands or their echoes. */
static bool
monitor_cot(uint8_t cot)
{
	return (cot >= IEC104_COT_PERIODIC && cot <= IEC104_COT_SPONTANEOUS) ||
	    cot == IEC104_COT_REQUEST || (cot >= 20 && cot <= 41);
}

static void
walk(struct reading *r)
{
	const struct det_pdu *pdu = r->pdu;

	if (pdu->proto == ICS_DNP3)
		(void)dnp3_values(pdu->u.dnp3, dnp3_value, r);
	else
		(void)iec104_values(pdu->u.iec104, iec104_value, r);
}

void
evp_pdu(struct envelope *s, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct reading r;
	struct chan_key k;
	char what[48];

	memset(&r, 0, sizeof(r));
	/* reports come from the server side only */
	if (pdu->from_client)
		return;
	if (pdu->proto == ICS_DNP3) {
		const struct dnp3_pdu *d = pdu->u.dnp3;

		if (!d->has_app || (d->app_fc != DNP3_FC_RESPONSE &&
		    d->app_fc != DNP3_FC_UNSOLICITED_RESPONSE))
			return;
		r.station = d->src;
		r.restarted = d->has_iin && (d->iin & DNP3_IIN_DEVICE_RESTART);
		snprintf(what, sizeof(what), "DNP3 outstation %u", d->src);
	} else if (pdu->proto == ICS_IEC104) {
		const struct iec104_apdu *m = pdu->u.iec104;

		if (!m->has_asdu || m->test || m->negative || m->type_id > 40 ||
		    !monitor_cot(m->cot))
			return;
		r.station = m->common_address;
		snprintf(what, sizeof(what), "IEC 104 station %u",
		    m->common_address);
	} else
		return;
	r.s = s;
	r.ctx = ctx;
	r.pdu = pdu;
	r.what = what;
	chantab_key(&k, pdu);
	if (s->learning && (r.c = chantab_get(&s->plearn, &k, true)) != NULL) {
		r.learning = true;
		walk(&r);
	}
	if (s->detecting && (r.c = chantab_get(&s->pdet, &k, false)) != NULL) {
		r.learning = false;
		walk(&r);
	}
}

/* ---- the file -------------------------------------------------------- */

static cJSON *
chan_json(const struct evp_chan *c)
{
	cJSON *o = cJSON_CreateObject(), *arr, *e;
	uint16_t i;

	chantab_key_json(&c->k, o);
	arr = cJSON_AddArrayToObject(o, "points");
	for (i = 0; i < c->npts; i++) {
		const struct evp_pt *p = &c->pts[i];

		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "kind", kind_names[p->key >> 48 & 3]);
		cJSON_AddNumberToObject(e, "station", p->key >> 32 & 0xffff);
		cJSON_AddNumberToObject(e, "index",
		    (double)(p->key & 0xffffffffu));
		cJSON_AddNumberToObject(e, "min", p->min);
		cJSON_AddNumberToObject(e, "max", p->max);
		cJSON_AddNumberToObject(e, "max_step", p->max_step);
		if (p->bits)
			cJSON_AddNumberToObject(e, "bits", p->bits);
		if (p->is_float)
			cJSON_AddBoolToObject(e, "float", 1);
		if (p->bits)
			cJSON_AddBoolToObject(e, "went_back", p->back);
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
	return ((const struct evp_chan *)c)->npts > 0;
}

static cJSON *
any_chan_json(void *c)
{
	return chan_json(c);
}

static cJSON *
evp_dump(void *state)
{
	struct envelope *s = state;

	return chantab_json(&s->plearn, has_points, any_chan_json);
}

static bool
num(const cJSON *o, const char *k, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < lo || v->valuedouble > hi)
		return false;
	*out = v->valuedouble;
	return true;
}

static int
fill(void *ent, const cJSON *o)
{
	struct evp_chan *c = ent;
	const cJSON *r, *e;
	struct evp_pt *p;

	c->full |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "points_truncated"));
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "points")) {
		double st, ix, mn, mx, step, bits = 0;
		unsigned kind;

		e = cJSON_GetObjectItemCaseSensitive(r, "kind");
		if (!cJSON_IsString(e))
			return -1;
		for (kind = 0; kind < 3; kind++)
			if (strcmp(e->valuestring, kind_names[kind]) == 0)
				break;
		if (kind == 3 || !num(r, "station", 0, 65535, &st) ||
		    !num(r, "index", 0, 4294967295.0, &ix) ||
		    !num(r, "min", -1e308, 1e308, &mn) ||
		    !num(r, "max", -1e308, 1e308, &mx) ||
		    !num(r, "max_step", 0, 1e308, &step) || mn > mx)
			return -1;
		if (cJSON_GetObjectItemCaseSensitive(r, "bits") != NULL &&
		    !num(r, "bits", 16, 32, &bits))
			return -1;
		if ((p = pt_find(c, pt_key(kind, (uint16_t)st, (uint32_t)ix),
		    true)) == NULL)
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
		if (step > p->max_step)
			p->max_step = step;
		if (bits > p->bits)
			p->bits = (uint8_t)bits;
		p->is_float |= cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(r, "float"));
		p->back |= cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(r, "went_back"));
		p->stable |= cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(r, "stable"));
	}
	return 0;
}

static int
load(struct chantab *t, const cJSON *arr, const char *path, char *err,
    size_t errlen)
{
	return chantab_load(t, arr, fill, path, MEMBER, "point envelope", err,
	    errlen);
}

int
evp_open(struct envelope *s, const char *lp, const char *fp, size_t max,
    char *err, size_t errlen)
{
	return chantab_open_pair(&s->plearn, &s->pdet, lp, fp, max,
	    sizeof(struct evp_chan), MEMBER, load, evp_dump, s, "envelope",
	    err, errlen);
}

uint64_t
evp_points_full(const struct envelope *s)
{
	uint64_t full = 0;
	size_t i;

	for (i = 0; i < s->plearn.n; i++) {
		const struct evp_chan *c = chantab_at(&s->plearn, i);

		if (c != NULL)
			full += c->full;
	}
	return full;
}
