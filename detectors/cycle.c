/*
 * cycle.c - the polling cycle of each control channel, learned with
 * --learn and carried in the baseline file ("cycles", docs/baseline.md).
 *
 * A control channel is (client IP, server IP, protocol).  A master repeats
 * a small set of requests: each is a signature (function codes, Modbus
 * unit and read range, DNP3 object headers of a read; writes by function
 * and unit only, since their addresses are baseline.write_outside_range's
 * business).  While learning, per channel: the signatures, the shortest
 * and longest gap between two requests of one signature (its period and
 * jitter), and which signature follows which inside one TCP session (a
 * first-order DFA of the cycle, as Goldenberg & Wool learn for Modbus).
 * With --baseline, on a channel learned with at least min_requests
 * requests:
 *
 *   cycle.out_of_cycle    a request whose signature was never part of the
 *                         channel's cycle: a command injected into a live
 *                         session or sent by an impersonator in the
 *                         master's name (T0855 for writes and commands,
 *                         T0888 for identification); reads only as a
 *                         sweep, novel_reads distinct never-polled reads
 *                         within quiet_s (T0861: one new read is an HMI
 *                         screen opened)
 * Periodic: a request repeated min_gaps times while learning whose
 * longest gap is at most max_jitter x its shortest.
 *
 *   cycle.sequence_break  two periodic requests in an order the master
 *                         never used inside one session (T0855 / T0848)
 *   cycle.timing          a periodic request repeated inside one session
 *                         sooner than fast_factor x the shortest gap ever
 *                         learned for it (T0855 / T0848)
 *
 *   cycle.period_change   period_gaps (8) gaps in a row of a periodic
 *                         request, in one session, all longer than
 *                         slow_factor x its longest learned gap (T0804,
 *                         T0803 for writes; T0815) or all shorter than
 *                         faster_factor x its shortest but not so short
 *                         that cycle.timing judges them (T0848)
 *   cycle.missing_poll    on a live channel only (see missing_alert): a
 *                         periodic request not seen for miss_periods x
 *                         its longest learned gap while a request of its
 *                         learned loop goes on (T0804 / T0815 for reads,
 *                         T0803 for writes and commands); the channel
 *                         silent with its session open while the client
 *                         polls others (T0804); the server silent while
 *                         its client polls (T0814 / T0815)
 *
 * Identity fields (addresses, TTL, even the whole stack) can be copied by
 * an attacker; the order and timing of a master's cycle are much harder
 * to copy while injecting into the session.  Nothing is learned or judged
 * in the detection run itself: channels the baseline does not know are
 * baseline.new_link's.  Memory: max_channels channels, MAX_SIG signatures
 * and MAX_TR transitions per channel; what does not fit is counted and a
 * full list is never judged.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/baseline_model.h"
#include "detectors/blext.h"
#include "detectors/chantab.h"
#include "detectors/detector.h"
#include "dissectors/dnp3.h"
#include "dissectors/flow.h"
#include "dissectors/iec104.h"
#include "dissectors/modbus.h"

#include "detectors/cycle_int.h"


static const struct cfg_key keys[] = {
	{ "max_channels", CFG_INT, "4096", 16, 1 << 20,
	  "control channels whose polling cycle is learned" },
	{ "min_requests", CFG_INT, "50", 1, 1000000000,
	  "requests a channel needs while learning before its cycle is judged" },
	{ "min_gaps", CFG_INT, "20", 2, 1000000000,
	  "repeats a request needs while learning to count as periodic (timing, order)" },
	{ "max_jitter", CFG_DOUBLE, "4", 1.1, 1000,
	  "a request is periodic when its longest learned gap is at most this times its shortest" },
	{ "novel_reads", CFG_INT, "3", 1, 64,
	  "distinct never-polled reads on a channel within quiet_s that make a sweep" },
	{ "fast_factor", CFG_DOUBLE, "0.5", 0.01, 1,
	  "a periodic request sooner than this times its shortest learned gap is out of cycle" },
	{ "quiet_s", CFG_INT, "60", 1, 86400,
	  "per channel and rule, an alert is raised again after this many seconds" },
	{ "miss_periods", CFG_INT, "5", 0, 1000000,
	  "a periodic request not seen for this many times its longest learned gap while requests of its learned loop go on, a channel silent that long while its session is open and its client polls others, or a server silent that long while its client sent this many requests, is missing (0: off)" },
	{ "period_gaps", CFG_INT, "8", 0, 1000000,
	  "consecutive gaps of a periodic request beyond slow_factor / faster_factor that make a changed period (0: off)" },
	{ "slow_factor", CFG_DOUBLE, "1.5", 1.01, 1000,
	  "a gap longer than this times the longest learned gap is slow" },
	{ "faster_factor", CFG_DOUBLE, "0.8", 0.01, 0.99,
	  "a gap shorter than this times the shortest learned gap is fast" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* ---- signatures ------------------------------------------------------ */

static uint32_t
mix(uint32_t h, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * 16777619u;
	return h;
}

/* append prefix and v (and, when sep is set, sep and v2) to w */
static void
what_add(char *w, const char *prefix, unsigned v, const char *sep, unsigned v2)
{
	size_t n = strlen(w);

	if (n < WHAT_LEN - 1) {
		if (sep != NULL)
			snprintf(w + n, WHAT_LEN - n, "%s%u%s%u", prefix, v, sep, v2);
		else
			snprintf(w + n, WHAT_LEN - n, "%s%u", prefix, v);
	}
}

/*
 * The signature of a request, or false when pdu is not a request that
 * belongs to a cycle (responses, confirms, IEC 104 S/U frames).
 */
static bool
signature(const struct det_pdu *pdu, uint32_t *sig, uint8_t *ops, char *what)
{
	struct proto_req r;
	uint32_t h = 2166136261u ^ pdu->proto;
	uint8_t i;

	if (!pdu->from_client)
		return false;
	if (pdu->proto == ICS_MODBUS && pdu->u.modbus->dir != MODBUS_REQUEST)
		return false;
	if (pdu->proto == ICS_DNP3 && (!pdu->u.dnp3->has_app ||
	    pdu->u.dnp3->app_fc == 0 || pdu->u.dnp3->app_fc >= 0x80))
		return false;
	bl_analyse(pdu, &r);
	if (r.nops == 0)
		return false;
	*ops = 0;
	what[0] = '\0';
	for (i = 0; i < r.nops; i++) {
		*ops |= (uint8_t)bl_code_flags(pdu->proto, r.code[i]);
		if (pdu->proto == ICS_DNP3 && r.code[i] != DNP3_FC_READ)
			*ops |= OP_ACTS;
		h = mix(h, r.code[i]);
		what_add(what, i ? "," : "fc ", r.code[i], NULL, 0);
	}
	if (pdu->proto == ICS_MODBUS) {
		const struct modbus_pdu *m = pdu->u.modbus;

		h = mix(h, m->unit);
		what_add(what, " unit ", m->unit, NULL, 0);
		/* a read's range is part of the cycle; a write's is not */
		if (!(*ops & PROTO_OP_WRITE) && m->has_range) {
			h = mix(h, (uint32_t)m->address << 16 | m->quantity);
			what_add(what, " ", m->address, "+", m->quantity);
		}
	} else if (pdu->proto == ICS_DNP3 && !(*ops & PROTO_OP_WRITE)) {
		const struct dnp3_pdu *d = pdu->u.dnp3;

		for (i = 0; i < d->nobj; i++) {
			h = mix(h, (uint32_t)d->obj[i].group << 16 |
			    (uint32_t)d->obj[i].variation << 8);
			what_add(what, " g", d->obj[i].group, "v",
			    d->obj[i].variation);
		}
	}
	*sig = h;
	return true;
}

/* ---- learning -------------------------------------------------------- */

static void
learn_req(struct cycle *s, const struct det_pdu *pdu, uint32_t sig,
    uint8_t ops, const char *what)
{
	struct chan_key k;
	struct cy_chan *c;
	struct cy_sig *g;
	uint64_t gap;

	chantab_key(&k, pdu);
	if ((c = chantab_get(&s->learn, &k, true)) == NULL)
		return;
	if (++c->nreq >= s->min_requests)
		c->judged = 1;
	if (c->flow != pdu->flow->id) {
		c->flow = pdu->flow->id;
		c->has_prev = 0;
	}
	if (c->has_prev)
		tr_add(c, c->prev, sig);
	c->prev = sig;
	c->has_prev = 1;
	if ((g = sig_add(c, sig)) == NULL)
		return;
	g->ops |= ops;
	if (g->what[0] == '\0')
		snprintf(g->what, sizeof(g->what), "%s", what);
	/* a gap is measured inside one session: a reconnect is no period */
	if (g->last != 0 && g->last_flow == pdu->flow->id && pdu->ts > g->last) {
		gap = pdu->ts - g->last;
		if (g->min_gap == 0 || gap < g->min_gap)
			g->min_gap = gap;
		if (gap > g->max_gap)
			g->max_gap = gap;
		if (++g->ngaps >= s->min_gaps)
			g->repeated = 1;
	}
	g->last = pdu->ts;
	g->last_flow = pdu->flow->id;
}

/* ---- detection ------------------------------------------------------- */

/*
 * Periodic: repeated often while learning and always at about the same
 * pace.  Requests sent on demand (screens opened, browsing, bursts of
 * services) have gaps from sub-millisecond to minutes and no cycle to
 * break; only periodic requests are judged on timing and order.
 */
static bool
periodic(const struct cycle *s, const struct cy_sig *g)
{
	return g->repeated && g->min_gap > 0 &&
	    (double)g->max_gap <= s->max_jitter * (double)g->min_gap;
}

/*
 * A read never polled on this channel: a screen opened on an HMI, or the
 * first step of a sweep.  True once novel_reads distinct ones came within
 * quiet_s.
 */
static bool
read_sweep(struct cycle *s, struct cy_chan *c, uint32_t sig, uint64_t ts)
{
	uint32_t i;

	if (c->reads_start == 0 || ts - c->reads_start >= s->quiet_us) {
		c->reads_start = ts;
		c->nread = 0;
	}
	for (i = 0; i < c->nread; i++)
		if (c->reads[i] == sig)
			return c->nread >= s->novel_reads;
	if (c->nread < NOVEL_MAX)
		c->reads[c->nread++] = sig;
	return c->nread >= s->novel_reads;
}

static const char *
technique(uint8_t ops, bool novel)
{
	if (ops & (PROTO_OP_WRITE | PROTO_OP_COMMAND | PROTO_OP_DANGEROUS |
	    OP_ACTS))
		return "T0855";
	if (ops & PROTO_OP_DISCOVERY)
		return "T0888";
	return novel ? "T0861" : "T0848";
}

static bool
quiet(struct cycle *s, struct cy_chan *c, int rule, uint64_t ts)
{
	if (c->alerted[rule] != 0 && ts - c->alerted[rule] < s->quiet_us)
		return true;
	c->alerted[rule] = ts;
	return false;
}

/* out_of_cycle: at most BURST distinct alerts per channel per quiet_s */
static bool
burst(struct cycle *s, struct cy_chan *c, uint64_t ts)
{
	if (c->alerted[0] == 0 || ts - c->alerted[0] >= s->quiet_us) {
		c->alerted[0] = ts;
		c->novel = 0;
	}
	return ++c->novel > BURST;
}

/* What else an injected request does, by its function (secondary). */
static const char *
second_technique(const struct det_pdu *pdu, uint8_t ops)
{
	if (pdu->proto == ICS_DNP3 && pdu->u.dnp3->has_app)
		switch (pdu->u.dnp3->app_fc) {
		case DNP3_FC_COLD_RESTART:
		case DNP3_FC_WARM_RESTART:
			return "T0816";
		case DNP3_FC_STOP_APPL:
			return "T0881";
		default:
			break;
		}
	return (ops & PROTO_OP_WRITE) ? "T0836" : NULL;
}

static void
raise(struct det_ctx *ctx, const struct det_pdu *pdu, const char *det,
    enum det_severity sev, const char *tech, const char *title,
    const char *agg, cJSON *d)
{
	struct det_alert a;
	uint8_t ops = 0;
	uint32_t sig;
	char what[WHAT_LEN];

	det_alert_from_pdu(&a, pdu);
	if (signature(pdu, &sig, &ops, what) && strcmp(tech, "T0855") == 0)
		a.techniques[0] = second_technique(pdu, ops);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

/*
 * cycle.period_change: period_gaps gaps in a row, inside one session, all
 * longer than slow_factor x the longest learned gap (the master, or what
 * reaches the wire of it, polls less often: polls dropped on the way,
 * T0804) or all shorter than faster_factor x the shortest and at least
 * fast_factor x it (another poller's cycle in the master's name, T0848;
 * sooner still is cycle.timing's).
 */
static void
period(struct cycle *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    struct cy_chan *c, struct cy_sig *g, uint8_t ops)
{
	double gap;
	bool slow;
	char title[256], agg[16];
	cJSON *d;

	if (s->period_gaps == 0 || !periodic(s, g) || g->last == 0 ||
	    g->last_flow != pdu->flow->id || pdu->ts <= g->last)
		return;
	gap = (double)(pdu->ts - g->last);
	g->nslow = gap > s->slow_factor * (double)g->max_gap ?
	    (uint16_t)(g->nslow + 1) : 0;
	/* sooner than fast_factor x: cycle.timing's, one request at a time */
	g->nfast = gap < s->faster_factor * (double)g->min_gap &&
	    gap >= s->fast_factor * (double)g->min_gap ?
	    (uint16_t)(g->nfast + 1) : 0;
	if (g->nslow < s->period_gaps && g->nfast < s->period_gaps)
		return;
	slow = g->nslow >= s->period_gaps;
	g->nslow = g->nfast = 0;
	if (quiet(s, c, 4, pdu->ts))
		return;
	snprintf(title, sizeof(title), "%s request (%s) now every %.1f ms "
	    "where the master's cycle repeated it every %.1f to %.1f ms "
	    "(%u gaps in a row %s)", ics_proto_name(pdu->proto), g->what,
	    gap / 1000.0, (double)g->min_gap / 1000.0,
	    (double)g->max_gap / 1000.0, s->period_gaps,
	    slow ? "longer" : "shorter");
	snprintf(agg, sizeof(agg), "%08x", g->sig);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "request", g->what);
	cJSON_AddStringToObject(d, "change", slow ? "slower" : "faster");
	cJSON_AddNumberToObject(d, "gap_ms", gap / 1000.0);
	cJSON_AddNumberToObject(d, "gaps", s->period_gaps);
	cJSON_AddNumberToObject(d, "learned_min_gap_ms",
	    (double)g->min_gap / 1000.0);
	cJSON_AddNumberToObject(d, "learned_max_gap_ms",
	    (double)g->max_gap / 1000.0);
	{
		struct det_alert a;

		det_alert_from_pdu(&a, pdu);
		a.detector = "cycle.period_change";
		a.severity = SEV_HIGH;
		if (slow) {
			a.technique = (ops & (PROTO_OP_WRITE | PROTO_OP_COMMAND |
			    OP_ACTS)) ? "T0803" : "T0804";
			a.techniques[0] = "T0815";
		} else
			a.technique = "T0848";
		a.title = title;
		a.details = d;
		a.agg_key = agg;
		det_alert(ctx, &a);
	}
}

/*
 * cycle.missing_poll judges only a channel that is alive, and only on
 * evidence seen after the poll was due; a channel that ended is never
 * judged:
 *
 *   a request missing     a periodic request not seen for miss_periods x
 *                         its longest learned gap (since its last time,
 *                         or the channel's first request in this run)
 *                         while another periodic request of the same
 *                         learned loop (the two are mutually reachable in
 *                         the learned DFA: the master polled them in one
 *                         loop) was sent after it was due.  A master that
 *                         swaps one poll list for another (an HMI screen
 *                         changed) polls the two in separate loops.
 *   the channel silent    every request of the channel stopped for
 *                         miss_periods x its cycle while its session is
 *                         still open, and the same client goes on polling
 *                         another server it was polling before the
 *                         channel went quiet.
 *   answers missing       the server's last PDU is older than
 *                         miss_periods x the channel's cycle while the
 *                         client sent at least miss_periods requests
 *                         after it, the last one after that time (the
 *                         server stopped answering, or its answers are
 *                         blocked; T0814 + T0815).
 *
 * Ended: the session that carried the request (or the channel's last
 * one) closed (FIN, RST, idle timeout, eviction, end of capture); a
 * client that went away sends no evidence; at the end of a capture
 * nothing comes after the due time.  Reads: T0804 (T0815), writes and
 * commands T0803.  Once per request (channel) until it comes again, at
 * most one alert per channel per quiet_s.
 */
enum miss_kind { MISS_REQUEST, MISS_CHANNEL, MISS_ANSWERS };

static void
missing_alert(struct det_ctx *ctx, struct cy_chan *c, struct cy_sig *g,
    enum miss_kind kind, uint64_t now, uint64_t since, uint64_t evidence)
{
	static const char *const kinds[] = { "request", "channel", "answers" };
	struct det_alert a;
	char title[320], agg[16];
	cJSON *d;

	memset(&a, 0, sizeof(a));
	a.src.af = a.dst.af = c->k.af;
	memcpy(a.src.ip, c->k.cli, 16);
	memcpy(a.dst.ip, c->k.srv, 16);
	a.ts = now;
	a.proto = ics_proto_name((enum ics_proto)c->k.proto);
	if (kind == MISS_REQUEST)
		snprintf(title, sizeof(title), "%s request (%s) of the polling "
		    "cycle not seen for %.1f s (learned every %.1f to %.1f ms) "
		    "while the channel's other requests go on", a.proto,
		    g->what, (double)(now - since) / 1e6,
		    (double)g->min_gap / 1000.0, (double)g->max_gap / 1000.0);
	else if (kind == MISS_CHANNEL)
		snprintf(title, sizeof(title), "%s polling cycle stopped for "
		    "%.1f s (learned every %.1f ms at most) while its session "
		    "is open and the client goes on polling another server",
		    a.proto, (double)(now - since) / 1e6,
		    (double)c->cycle_gap / 1000.0);
	else
		snprintf(title, sizeof(title), "%s server silent for %.1f s "
		    "while its client sent %u requests (learned cycle %.1f ms)",
		    a.proto, (double)(now - since) / 1e6, c->unans,
		    (double)c->cycle_gap / 1000.0);
	snprintf(agg, sizeof(agg), "%08x", g != NULL ? g->sig : 0u);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "missing", kinds[kind]);
	cJSON_AddStringToObject(d, "request", g != NULL ? g->what : "*");
	cJSON_AddNumberToObject(d, "missing_s", (double)(now - since) / 1e6);
	cJSON_AddNumberToObject(d, "evidence_after_s",
	    (double)(evidence - since) / 1e6);
	if (kind == MISS_ANSWERS)
		cJSON_AddNumberToObject(d, "unanswered", c->unans);
	if (g != NULL) {
		cJSON_AddBoolToObject(d, "seen_in_this_run", g->last != 0);
		cJSON_AddNumberToObject(d, "learned_max_gap_ms",
		    (double)g->max_gap / 1000.0);
	} else
		cJSON_AddNumberToObject(d, "learned_max_gap_ms",
		    (double)c->cycle_gap / 1000.0);
	a.detector = "cycle.missing_poll";
	a.severity = SEV_HIGH;
	if (kind == MISS_ANSWERS) {
		a.technique = "T0814";
		a.techniques[0] = "T0815";
	} else if (g != NULL &&
	    (g->ops & (PROTO_OP_WRITE | PROTO_OP_COMMAND | OP_ACTS)))
		a.technique = "T0803";
	else {
		a.technique = "T0804";
		a.techniques[0] = "T0815";
	}
	a.title = title;
	a.details = d;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

/*
 * loop[i]: the periodic signatures polled in one loop with signature i,
 * each reachable from the other through learned transitions (the strongly
 * connected part of the DFA that holds i).
 */
static void
loops(struct cycle *s, struct cy_chan *c)
{
	uint32_t reach[MAX_SIG] = { 0 };
	uint16_t i, j;

	c->loops_done = 1;
	for (i = 0; i < c->ntr; i++) {
		struct cy_sig *a = sig_find(c, (uint32_t)(c->tr[i] >> 32));
		struct cy_sig *b = sig_find(c, (uint32_t)c->tr[i]);

		if (a != NULL && b != NULL)
			reach[a - c->sig] |= 1u << (b - c->sig);
	}
	for (j = 0; j < c->nsig; j++)		/* transitive closure */
		for (i = 0; i < c->nsig; i++)
			if (reach[i] >> j & 1)
				reach[i] |= reach[j];
	for (i = 0; i < c->nsig; i++) {
		c->loop[i] = 0;
		for (j = 0; j < c->nsig; j++)
			if (j != i && (reach[i] >> j & 1) && (reach[j] >> i & 1) &&
			    periodic(s, &c->sig[j]))
				c->loop[i] |= 1u << j;
	}
}

/* The start of the channel's current run of requests. */
static uint64_t
run_start(const struct cy_chan *c)
{
	return c->resumed > c->first_req ? c->resumed : c->first_req;
}

/* A request of c polled in one loop with g, sent after t: its time, or 0. */
static uint64_t
loop_evidence(const struct cy_chan *c, const struct cy_sig *g, uint64_t t)
{
	uint32_t m = c->loop[g - c->sig];
	uint64_t best = 0;
	uint16_t k;

	for (k = 0; k < c->nsig; k++)
		if ((m >> k & 1) && c->sig[k].last > t && c->sig[k].last > best)
			best = c->sig[k].last;
	return best;
}

/*
 * Another channel of c's client that was polling for a cycle before t0
 * and still polls after t: its last request, or 0.
 */
static uint64_t
client_evidence(struct cycle *s, const struct cy_chan *c, uint64_t t0,
    uint64_t t)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < s->det.n; i++) {
		const struct cy_chan *o = chantab_at(&s->det, i);

		if (o == NULL || o == c || o->k.af != c->k.af ||
		    memcmp(o->k.cli, c->k.cli, 16) != 0 || o->first_req == 0 ||
		    o->cycle_gap <= 1 || o->last_req <= t ||
		    run_start(o) + o->cycle_gap > t0)
			continue;
		if (o->last_req > best)
			best = o->last_req;
	}
	return best;
}

static void
cy_tick(void *state, struct det_ctx *ctx, uint64_t now)
{
	struct cycle *s = state;
	size_t i;
	uint16_t j;

	if (!s->detecting || s->miss_periods == 0 || now < s->next_sweep)
		return;
	s->next_sweep = now + 1000000u;
	for (i = 0; i < s->det.n; i++) {
		struct cy_chan *c = chantab_at(&s->det, i);
		uint64_t due_c, since, ev;

		if (c == NULL || !c->judged || c->first_req == 0 ||
		    c->sig_full || c->cycle_gap <= 1)
			continue;
		due_c = s->miss_periods * c->cycle_gap;
		/* answers missing */
		if (!c->noans_said && c->last_resp != 0 &&
		    c->unans >= s->miss_periods &&
		    c->last_req > c->last_resp + due_c) {
			c->noans_said = 1;
			if (!quiet(s, c, 3, now))
				missing_alert(ctx, c, NULL, MISS_ANSWERS, now,
				    c->last_resp, c->last_req);
		}
		/* the whole channel silent, its session open */
		if (!c->chan_said && !c->flow_ended && now - c->last_req > due_c &&
		    (ev = client_evidence(s, c, c->last_req,
		    c->last_req + due_c)) != 0) {
			c->chan_said = 1;
			if (!quiet(s, c, 3, now))
				missing_alert(ctx, c, NULL, MISS_CHANNEL, now,
				    c->last_req, ev);
		}
		/* one request of a loop that goes on */
		for (j = 0; j < c->nsig; j++) {
			struct cy_sig *g = &c->sig[j];
			uint64_t due = s->miss_periods * g->max_gap;

			if (g->missing || g->ended || !periodic(s, g))
				continue;
			since = g->last != 0 ? g->last : c->first_req;
			if (c->resumed > since)
				since = c->resumed;
			if (now - since <= due ||
			    (ev = loop_evidence(c, g, since + due)) == 0)
				continue;
			g->missing = 1;
			if (!quiet(s, c, 3, now))
				missing_alert(ctx, c, g, MISS_REQUEST, now, since,
				    ev);
			else
				g->missing = 0;	/* said after the quiet */
		}
	}
}

/* The server's PDU (an answer, a report): the channel's server is alive. */
static void
detect_resp(struct cycle *s, const struct det_pdu *pdu)
{
	struct chan_key k;
	struct cy_chan *c;

	chantab_key(&k, pdu);
	if ((c = chantab_get(&s->det, &k, false)) == NULL)
		return;
	c->last_resp = pdu->ts;
	c->unans = 0;
	c->noans_said = 0;
}

/* A session of a channel ended: its requests are not missing from it. */
static void
cy_flow_end(void *state, struct det_ctx *ctx, const struct flow *f)
{
	struct cycle *s = state;
	struct chan_key k;
	struct cy_chan *c;
	uint16_t j;
	int side;

	if (!s->detecting || s->miss_periods == 0 || f->ics == 0 ||
	    f->ics >= 32 || !(DET_PROTO(f->ics) & CY_PROTOS))
		return;
	for (side = 0; side < 2; side++) {
		memset(&k, 0, sizeof(k));
		k.af = f->af;
		k.proto = f->ics;
		memcpy(k.cli, side ? f->srv.ip : f->cli.ip, 16);
		memcpy(k.srv, side ? f->cli.ip : f->srv.ip, 16);
		if ((c = chantab_get(&s->det, &k, false)) == NULL)
			continue;
		if (c->flow == f->id)
			c->flow_ended = 1;
		for (j = 0; j < c->nsig; j++)
			if (c->sig[j].last_flow == f->id)
				c->sig[j].ended = 1;
	}
}

static void
detect_req(struct cycle *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    uint32_t sig, uint8_t ops, const char *what)
{
	struct chan_key k;
	struct cy_chan *c;
	struct cy_sig *g, *p;
	bool same_flow;
	char title[256], agg[16];
	cJSON *d;

	chantab_key(&k, pdu);
	if ((c = chantab_get(&s->det, &k, false)) == NULL || !c->judged)
		return;
	if (c->first_req == 0)
		c->first_req = pdu->ts;
	if (!c->loops_done)
		loops(s, c);
	c->unans++;
	c->flow_ended = 0;
	c->chan_said = 0;
	if (c->cycle_gap == 0) {
		uint16_t j;

		c->cycle_gap = 1;
		for (j = 0; j < c->nsig; j++)
			if (periodic(s, &c->sig[j]) &&
			    c->sig[j].max_gap > c->cycle_gap)
				c->cycle_gap = c->sig[j].max_gap;
	}
	/* the whole channel was silent for longer than its cycle: it went
	 * down (a reconnect, a restart), no request was missing from it */
	if (c->last_req != 0 && pdu->ts > c->last_req &&
	    pdu->ts - c->last_req > c->cycle_gap)
		c->resumed = pdu->ts;
	c->last_req = pdu->ts;
	same_flow = c->flow == pdu->flow->id;
	p = same_flow && c->has_prev ? sig_find(c, c->prev) : NULL;
	c->flow = pdu->flow->id;
	c->prev = sig;
	c->has_prev = 1;
	snprintf(agg, sizeof(agg), "%08x", sig);
	if ((g = sig_find(c, sig)) == NULL) {
		if (c->sig_full)
			return;
		/* a read: only a sweep of them */
		if (ops == 0 && !read_sweep(s, c, sig, pdu->ts))
			return;
		if (burst(s, c, pdu->ts))
			return;
		snprintf(title, sizeof(title),
		    "%s request (%s) never part of this channel's polling cycle "
		    "(%u kinds of request learned)", ics_proto_name(pdu->proto),
		    what, c->nsig);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "request", what);
		cJSON_AddNumberToObject(d, "learned_requests", c->nsig);
		if (ops == 0)
			cJSON_AddNumberToObject(d, "novel_reads", c->nread);
		raise(ctx, pdu, "cycle.out_of_cycle", SEV_HIGH,
		    technique(ops, true), title, agg, d);
		return;
	}
	if (periodic(s, g) && g->last != 0 && g->last_flow == pdu->flow->id &&
	    pdu->ts > g->last && g->min_gap > 0 &&
	    (double)(pdu->ts - g->last) < s->fast_factor * (double)g->min_gap &&
	    !quiet(s, c, 1, pdu->ts)) {
		snprintf(title, sizeof(title),
		    "%s request (%s) %.1f ms after the last one where the "
		    "master's cycle never repeated it in less than %.1f ms",
		    ics_proto_name(pdu->proto), what,
		    (double)(pdu->ts - g->last) / 1000.0,
		    (double)g->min_gap / 1000.0);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "request", what);
		cJSON_AddNumberToObject(d, "gap_ms",
		    (double)(pdu->ts - g->last) / 1000.0);
		cJSON_AddNumberToObject(d, "learned_min_gap_ms",
		    (double)g->min_gap / 1000.0);
		cJSON_AddNumberToObject(d, "learned_max_gap_ms",
		    (double)g->max_gap / 1000.0);
		raise(ctx, pdu, "cycle.timing", SEV_HIGH, technique(ops, false),
		    title, agg, d);
	} else if (p != NULL && periodic(s, p) && periodic(s, g) && !c->tr_full &&
	    !tr_has(c, p->sig, sig) && !quiet(s, c, 2, pdu->ts)) {
		snprintf(title, sizeof(title),
		    "%s request (%s) after (%s): an order the master never used",
		    ics_proto_name(pdu->proto), what, p->what);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "request", what);
		cJSON_AddStringToObject(d, "after", p->what);
		cJSON_AddNumberToObject(d, "learned_transitions", c->ntr);
		raise(ctx, pdu, "cycle.sequence_break", SEV_HIGH,
		    technique(ops, false), title, agg, d);
	}
	period(s, ctx, pdu, c, g, ops);
	g->missing = 0;
	g->ended = 0;
	g->last = pdu->ts;
	g->last_flow = pdu->flow->id;
}

static void
cy_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct cycle *s = state;
	uint32_t sig;
	uint8_t ops;
	char what[WHAT_LEN];

	if (pdu->flow == NULL || pdu->flow->af == 0)
		return;
	if (!pdu->from_client) {
		if (s->detecting && s->miss_periods != 0)
			detect_resp(s, pdu);
		return;
	}
	if (!signature(pdu, &sig, &ops, what))
		return;
	if (s->learning)
		learn_req(s, pdu, sig, ops, what);
	if (s->detecting)
		detect_req(s, ctx, pdu, sig, ops, what);
}

/* ---- life cycle ------------------------------------------------------ */

static void
cy_destroy(void *state)
{
	struct cycle *s = state;

	if (s == NULL)
		return;
	blext_unregister(s);
	chantab_free(&s->learn);
	chantab_free(&s->det);
	free(s);
}

static int
cy_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct cycle *s = calloc(1, sizeof(*s));
	const char *lp = blext_learn_path(c), *fp = blext_file_path(c);
	size_t max = (size_t)cfg_int(c, sec, "max_channels");

	if (s == NULL) {
		snprintf(err, errlen, "cycle: out of memory");
		return -1;
	}
	err[0] = '\0';
	*state = s;
	s->min_requests = (uint32_t)cfg_int(c, sec, "min_requests");
	s->min_gaps = (uint32_t)cfg_int(c, sec, "min_gaps");
	s->fast_factor = cfg_double(c, sec, "fast_factor");
	s->max_jitter = cfg_double(c, sec, "max_jitter");
	s->novel_reads = (uint32_t)cfg_int(c, sec, "novel_reads");
	s->quiet_us = (uint64_t)cfg_int(c, sec, "quiet_s") * 1000000u;
	s->miss_periods = (uint32_t)cfg_int(c, sec, "miss_periods");
	s->period_gaps = (uint32_t)cfg_int(c, sec, "period_gaps");
	s->slow_factor = cfg_double(c, sec, "slow_factor");
	s->faster_factor = cfg_double(c, sec, "faster_factor");
	s->learning = lp[0] != '\0';
	s->detecting = fp[0] != '\0';
	if (!s->learning && !s->detecting)
		return DET_INACTIVE;
	if (chantab_open_pair(&s->learn, &s->det, lp, fp, max,
	    sizeof(struct cy_chan), MEMBER, cy_load, cy_dump, s, "cycle", err,
	    errlen) != 0)
		goto fail;
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "cycle: out of memory");
	cy_destroy(s);
	*state = NULL;
	return -1;
}

static int
cy_stats(void *state, char *buf, size_t len)
{
	const struct cycle *s = state;

	return chantab_pair_stats(&s->learn, &s->det, s->learning,
	    s->detecting, buf, len);
}

static void
cy_counters(void *state, det_counter_fn add, void *arg)
{
	const struct cycle *s = state;

	add(arg, "channels_dropped", s->learn.dropped + s->det.dropped);
}

const struct detector det_cycle = {
	.name = "cycle",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = CY_PROTOS,
	.init = cy_init,
	.on_pdu = cy_pdu,
	.on_flow_end = cy_flow_end,
	.on_tick = cy_tick,
	.stats = cy_stats,
	.counters = cy_counters,
	.destroy = cy_destroy,
};
