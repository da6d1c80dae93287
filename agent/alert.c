/*
 * alert.c - alert JSON, hash chain, persisted sequence, storm aggregation.
 */
#include "agent/alert.h"
#include "agent/alert_int.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/enrich.h"
#include "agent/evidence.h"
#include "detectors/detector.h"
#include "detectors/inventory.h"
#include "dissectors/flow.h"
#include "lib/atomic.h"
#include "lib/chain.h"
#include "lib/community_id.h"
#include "lib/htab.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/rfc3339.h"


/*
 * Into the file's buffer: the agent flushes it once per batch of frames
 * (agent_flush_alerts), not per alert.
 */
int
alert_sink_file(void *arg, const char *severity, const char *json, size_t len)
{
	FILE *fp = arg;

	(void)severity;
	if (fwrite(json, 1, len, fp) != len || fputc('\n', fp) == EOF)
		return IDS_EIO;
	return 0;
}

/* State file: "icsentry-state 1\nseq <n>\nhash <64 hex>\n" */
static int
state_load(struct alerter *al, char *err, size_t errlen)
{
	unsigned long long seq;
	char hash[CHAIN_HEX_LEN + 2];
	int version;
	FILE *fp;

	fp = fopen(al->state_file, "r");
	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;	/* first run: genesis */
		snprintf(err, errlen, "%s: cannot open state file: %s",
		    al->state_file, strerror(errno));
		return IDS_EIO;
	}
	if (fscanf(fp, "icsentry-state %d seq %llu hash %65s", &version, &seq,
	    hash) != 3 || version != 1 || strlen(hash) != CHAIN_HEX_LEN ||
	    strspn(hash, "0123456789abcdef") != CHAIN_HEX_LEN) {
		fclose(fp);
		snprintf(err, errlen,
		    "%s: corrupt state file (expected icsentry-state 1, seq, hash)",
		    al->state_file);
		return IDS_EINVAL;
	}
	fclose(fp);
	al->seq = seq;
	memcpy(al->prev, hash, CHAIN_HEX_LEN + 1);
	return 0;
}

/* Atomically (lib/atomic.c): a crash leaves the old or the new state. */
static int
state_save(const struct alerter *al)
{
	char buf[256];
	int n;

	if (al->state_file == NULL || al->state_by_journal)
		return 0;
	n = snprintf(buf, sizeof(buf), "icsentry-state 1\nseq %llu\nhash %s\n",
	    (unsigned long long)al->seq, al->prev);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    atomic_write(al->state_file, buf, (size_t)n, false) != 0)
		return IDS_EIO;
	return 0;
}

static int
group_eq(const void *e, const void *key)
{
	return strcmp(((const struct group *)e)->key, key) == 0;
}

struct alerter *
alerter_new(const struct alert_opts *o, char *err, size_t errlen)
{
	struct alerter *al;

	al = calloc(1, sizeof(*al));
	if (al == NULL)
		goto nomem;
	al->agent = strdup(o->agent != NULL ? o->agent : "agent");
	al->site = strdup(o->site != NULL ? o->site : "site");
	if (al->agent == NULL || al->site == NULL)
		goto nomem;
	if (o->state_file != NULL && o->state_file[0] != '\0') {
		al->state_file = strdup(o->state_file);
		if (al->state_file == NULL)
			goto nomem;
	}
	al->window_us = o->window_us;
	al->state_by_journal = o->state_by_journal;
	al->max_groups = o->max_groups ? o->max_groups : 65536;
	al->next_end = UINT64_MAX;
	memcpy(al->prev, CHAIN_GENESIS, CHAIN_HEX_LEN + 1);
	htab_init_eq(&al->groups, sizeof(struct group), group_eq,
	    al->max_groups > UINT32_MAX ? UINT32_MAX : (uint32_t)al->max_groups);
	if (al->state_file != NULL && state_load(al, err, errlen) != 0) {
		alerter_free(al);
		return NULL;
	}
	return al;
nomem:
	snprintf(err, errlen, "out of memory");
	alerter_free(al);
	return NULL;
}

int
alerter_add_sink(struct alerter *al, alert_sink_fn fn, void *arg)
{
	if (al->nsinks >= MAX_SINKS)
		return IDS_EINVAL;
	al->sinks[al->nsinks].fn = fn;
	al->sinks[al->nsinks].arg = arg;
	al->nsinks++;
	return 0;
}

int
alerter_add_evidence_sink(struct alerter *al, alert_evidence_fn fn, void *arg)
{
	if (al->nev_sinks >= MAX_EV_SINKS)
		return IDS_EINVAL;
	al->ev_sinks[al->nev_sinks].fn = fn;
	al->ev_sinks[al->nev_sinks].arg = arg;
	al->nev_sinks++;
	return 0;
}

void
alerter_set_journal(struct alerter *al, alert_journal_fn fn, void *arg)
{
	al->journal = fn;
	al->journal_arg = arg;
}

void
alerter_set_enrich(struct alerter *al, const struct asset_book *b,
    struct evidence *ev)
{
	al->book = b;
	al->ev = ev;
	if (!al->oui) {
		static const uint8_t any[6] = { 0x00, 0x00, 0x0c, 0, 0, 1 };

		inv_oui_hold();
		al->oui = true;
		/* read the registry now, not at the first alert: a steady RSS */
		(void)inv_oui_vendor(any);
	}
}

void
alerter_set_describe(struct alerter *al, alert_describe_fn fn, void *arg)
{
	al->describe = fn;
	al->describe_arg = arg;
}

static void
rec_free(struct rec *r)
{
	cJSON_Delete(r->core);
	free(r->agg);
	free(r->pcap);
	memset(r, 0, sizeof(*r));
}

/*
 * A member of the core as it goes into the alert: objects, arrays and
 * strings by reference (no deep copy per alert; printed the same, and
 * cJSON_Delete of the alert leaves the core alone), numbers, booleans
 * and null copied (one item each).
 */
static cJSON *
core_ref(const cJSON *it)
{
	switch (it->type & 0xFF) {
	case cJSON_Object:
		return cJSON_CreateObjectReference(it->child);
	case cJSON_Array:
		return cJSON_CreateArrayReference(it->child);
	case cJSON_String:
		return cJSON_CreateStringReference(it->valuestring);
	default:
		return cJSON_Duplicate(it, false);
	}
}

/*
 * Chain, persist and deliver one record (core is referenced, not copied:
 * the alert object lives only in here; pcap, when given, becomes the
 * alert's evidence).
 */
static void
emit_core(struct alerter *al, const cJSON *core, enum det_severity sev,
    const uint8_t *pcap, size_t pcap_len, unsigned pcap_pkts)
{
	char hash[CHAIN_HEX_LEN + 1], *full, sum[65];
	const char *sevname = det_severity_name(sev);
	const cJSON *it;
	size_t blen;
	cJSON *o, *e;
	int i, ev_rc = 0;

	o = cJSON_CreateObject();
	if (o == NULL) {
		al->ctr.sink_errors++;
		return;
	}
	cJSON_AddStringToObject(o, "agent", al->agent);
	cJSON_AddStringToObject(o, "site", al->site);
	cJSON_AddNumberToObject(o, "seq", (double)(al->seq + 1));
	/* the keys too: the core outlives o */
	for (it = core->child; it != NULL; it = it->next)
		cJSON_AddItemToObjectCS(o, it->string, core_ref(it));
	if (pcap != NULL) {
		e = cJSON_AddObjectToObject(o, "evidence");
		cJSON_AddNumberToObject(e, "packets", pcap_pkts);
		cJSON_AddNumberToObject(e, "bytes", (double)pcap_len);
		(void)chain_sha256_hex(pcap, pcap_len, sum);
		cJSON_AddStringToObject(e, "sha256", sum);
	} else
		cJSON_AddNullToObject(o, "evidence");
	cJSON_AddStringToObject(o, "prev_hash", al->prev);
	/*
	 * Printed into the alerter's buffer (kept across alerts, doubled
	 * when too small) with room for the hash member after it.
	 */
	for (;;) {
		if (al->jbuf != NULL && cJSON_PrintPreallocated(o, al->jbuf,
		    (int)(al->jcap - CHAIN_HEX_LEN - 16), false))
			break;
		free(al->jbuf);
		al->jcap = al->jcap > 0 ? al->jcap * 2 : 4096;
		al->jbuf = al->jcap <= INT_MAX ? malloc(al->jcap) : NULL;
		if (al->jbuf == NULL) {
			al->jcap = 0;
			cJSON_Delete(o);
			goto fail;
		}
	}
	cJSON_Delete(o);
	full = al->jbuf;
	blen = strlen(full);
	if (blen < 2 || chain_hash(al->prev, full, blen, hash) != 0)
		goto fail;
	/* replace the closing '}' by ,"hash":"..."} */
	blen = blen - 1 + (size_t)sprintf(full + blen - 1, ",\"hash\":\"%s\"}",
	    hash);
	al->seq++;
	memcpy(al->prev, hash, sizeof(hash));
	if (state_save(al) != 0) {
		al->ctr.sink_errors++;
		/* once: seq would restart after a restart, the chain would break */
		if (!al->state_warned)
			log_err("cannot write state file "
			    "%s: %s (seq will not survive a restart)\n",
			    al->state_file, strerror(errno));
		al->state_warned = true;
	}
	al->ctr.emitted++;
	if ((unsigned)sev < 5)
		al->ctr.by_severity[sev]++;
	if (al->journal != NULL) {
		if (al->journal(al->journal_arg, sevname, full, blen, al->seq,
		    pcap, pcap != NULL ? pcap_len : 0, &ev_rc) != 0)
			al->ctr.sink_errors++;
		if (ev_rc != 0)
			al->ctr.sink_errors++;
	}
	for (i = 0; i < al->nsinks; i++)
		if (al->sinks[i].fn(al->sinks[i].arg, sevname, full, blen) != 0)
			al->ctr.sink_errors++;
	if (pcap != NULL)
		for (i = 0; i < al->nev_sinks; i++)
			if (al->ev_sinks[i].fn(al->ev_sinks[i].arg, al->seq,
			    pcap, pcap_len) != 0)
				al->ctr.sink_errors++;
	return;
fail:
	al->ctr.sink_errors++;
}

static uint32_t
str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void
group_free(struct group *g)
{
	free(g->key);
	cJSON_Delete(g->first);
}

/* Take group i out of the table into *g (the caller frees it). */
static void
group_take(struct alerter *al, uint32_t i, struct group *g)
{
	*g = *(struct group *)htab_at(&al->groups, i);
	htab_del(&al->groups, i);
}

/*
 * The summary of a group: the first alert's record (its details too) at
 * time ts, its title saying how often it repeated, and count, first_ts,
 * last_ts of the repeats in details.
 */
static const char *const summary_keys[] = { "summary", "count", "first_ts",
	"last_ts", "window_s", "summary_of" };

static void
emit_summary(struct alerter *al, struct group *g, uint64_t ts)
{
	char title[600], t[40];
	cJSON *core, *d, *it;

	core = cJSON_Duplicate(g->first, true);
	if (core == NULL) {
		al->ctr.sink_errors++;
		return;
	}
	if (ts < g->last_ts)
		ts = g->last_ts;
	it = cJSON_GetObjectItemCaseSensitive(core, "title");
	snprintf(title, sizeof(title), "%s (repeated %llu more times)",
	    cJSON_IsString(it) ? it->valuestring : "alert",
	    (unsigned long long)g->count);
	cJSON_ReplaceItemInObjectCaseSensitive(core, "title",
	    cJSON_CreateString(title));
	cJSON_ReplaceItemInObjectCaseSensitive(core, "ts",
	    cJSON_CreateString(rfc3339_format(ts, t, sizeof(t))));
	d = cJSON_GetObjectItemCaseSensitive(core, "details");
	if (!cJSON_IsObject(d)) {
		d = cJSON_CreateObject();
		cJSON_ReplaceItemInObjectCaseSensitive(core, "details", d);
	}
	/*
	 * The summary's own keys replace the first alert's (a scan's
	 * details carry its detector's window_s): one key, one value; the
	 * first alert itself, with all its details, is summary_of.
	 */
	for (size_t k = 0; k < sizeof(summary_keys) / sizeof(summary_keys[0]);
	    k++)
		cJSON_DeleteItemFromObjectCaseSensitive(d, summary_keys[k]);
	cJSON_AddBoolToObject(d, "summary", 1);
	cJSON_AddNumberToObject(d, "count", (double)g->count);
	cJSON_AddStringToObject(d, "first_ts",
	    rfc3339_format(g->first_ts, t, sizeof(t)));
	cJSON_AddStringToObject(d, "last_ts",
	    rfc3339_format(g->last_ts, t, sizeof(t)));
	cJSON_AddNumberToObject(d, "window_s", (double)al->window_us / 1e6);
	cJSON_AddNumberToObject(d, "summary_of", (double)g->first_seq);
	al->ctr.summaries++;
	emit_core(al, core, g->severity, NULL, 0, 0);
	cJSON_Delete(core);
}

/* Summaries for windows closed by now (all: every one); ts order. */
static void
sweep(struct alerter *al, uint64_t now, bool all)
{
	struct group *g, *best, out;
	uint64_t next;
	uint32_t i;

	for (;;) {
		best = NULL;
		next = UINT64_MAX;
		for (i = 0; i < htab_count(&al->groups); i++) {
			g = htab_at(&al->groups, i);
			if (!all && g->window_end > now) {
				if (g->window_end < next)
					next = g->window_end;
				continue;
			}
			if (best == NULL || g->window_end < best->window_end)
				best = g;
		}
		if (best == NULL) {
			al->next_end = next;
			return;
		}
		group_take(al, htab_index(&al->groups, best), &out);
		if (out.count > 0)
			emit_summary(al, &out, all ? al->last_ts : out.window_end);
		group_free(&out);
	}
}

static void
catch_up(struct alerter *al, uint64_t ts)
{
	if (htab_count(&al->groups) > 0 && ts >= al->next_end)
		sweep(al, ts, false);
}

/*
 * The evidence pcap, made only for alerts that go out (a storm's
 * suppressed repeats never copy their packets).
 */
static void
make_pcap(struct alerter *al, struct rec *r)
{
	if (r->want_pcap && r->pcap == NULL)
		(void)evidence_pcap(al->ev, r->pcap_flow, &r->pcap,
		    &r->pcap_len, &r->pcap_pkts);
}

/* Aggregate or emit one finished record (consumed). */
static void
deliver(struct alerter *al, struct rec *r)
{
	struct group *g, out;
	uint32_t h;
	bool fresh;

	catch_up(al, r->ts);
	if (al->window_us == 0 || r->agg == NULL) {
		make_pcap(al, r);
		emit_core(al, r->core, r->severity, r->pcap, r->pcap_len,
		    r->pcap_pkts);
		if (r->ts > al->last_ts)
			al->last_ts = r->ts;
		rec_free(r);
		return;
	}
	h = str_hash(r->agg);
	g = htab_get_h(&al->groups, r->agg, h);
	if (g != NULL && r->ts < g->window_end) {
		if (g->count == 0)
			g->first_ts = r->ts;
		g->count++;
		if (r->ts > g->last_ts)
			g->last_ts = r->ts;
		al->ctr.aggregated++;
		rec_free(r);
		return;
	}
	if (g != NULL) {
		/* window over (the sweep did not run yet): summary first */
		group_take(al, htab_index(&al->groups, g), &out);
		if (out.count > 0)
			emit_summary(al, &out, out.window_end);
		group_free(&out);
	}
	make_pcap(al, r);
	emit_core(al, r->core, r->severity, r->pcap, r->pcap_len,
	    r->pcap_pkts);
	if (r->ts > al->last_ts)
		al->last_ts = r->ts;
	g = htab_put_h(&al->groups, r->agg, h, &fresh);
	if (g == NULL) {
		rec_free(r);
		return;		/* no room to aggregate: alerts still go out */
	}
	g->key = r->agg;
	r->agg = NULL;
	g->first = r->core;
	r->core = NULL;
	g->first_seq = al->seq;
	g->severity = r->severity;
	g->window_end = r->ts + al->window_us;
	if (g->window_end < al->next_end || htab_count(&al->groups) == 1)
		al->next_end = g->window_end;
	rec_free(r);
}

static bool
same_pair(const struct rec *a, const struct rec *b)
{
	return a->src.af == b->src.af && a->dst.af == b->dst.af &&
	    memcmp(a->src.ip, b->src.ip, 16) == 0 &&
	    memcmp(a->dst.ip, b->dst.ip, 16) == 0;
}

static const char *
core_str(const cJSON *core, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(core, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Add t to the alert's techniques unless it is the lead pt or listed. */
static void
add_technique(cJSON *techs, const char *pt, const char *t)
{
	cJSON *it;

	if (techs == NULL || t == NULL || (pt != NULL && strcmp(t, pt) == 0))
		return;
	cJSON_ArrayForEach(it, techs)
		if (cJSON_IsString(it) && strcmp(it->valuestring, t) == 0)
			return;
	cJSON_AddItemToArray(techs, cJSON_CreateString(t));
}

/*
 * Fold other into into: one packet, one src/dst, one alert.  The
 * severity is the higher one; the other finding goes to `reasons`,
 * `correlated` and its technique to `techniques`.
 */
static void
fold(struct rec *into, struct rec *other)
{
	cJSON *reasons, *corr, *techs, *c, *it;
	const char *pt;

	reasons = cJSON_GetObjectItemCaseSensitive(into->core, "reasons");
	if (reasons == NULL) {
		reasons = cJSON_AddArrayToObject(into->core, "reasons");
		cJSON_AddItemToArray(reasons, cJSON_CreateString(
		    core_str(into->core, "rule")));
		cJSON_AddArrayToObject(into->core, "correlated");
	}
	corr = cJSON_GetObjectItemCaseSensitive(into->core, "correlated");
	cJSON_AddItemToArray(reasons, cJSON_CreateString(
	    core_str(other->core, "rule")));
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "rule", core_str(other->core, "rule"));
	cJSON_AddStringToObject(c, "severity",
	    det_severity_name(other->severity));
	add_str_or_null(c, "technique", core_str(other->core, "technique"));
	add_str_or_null(c, "title", core_str(other->core, "title"));
	add_str_or_null(c, "description",
	    core_str(other->core, "description"));
	it = cJSON_DetachItemFromObjectCaseSensitive(other->core, "details");
	cJSON_AddItemToObject(c, "details", it != NULL ? it :
	    cJSON_CreateObject());
	cJSON_AddItemToArray(corr, c);
	pt = core_str(into->core, "technique");
	techs = cJSON_GetObjectItemCaseSensitive(into->core, "techniques");
	add_technique(techs, pt, core_str(other->core, "technique"));
	/* and the folded finding's own secondary techniques */
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(other->core,
	    "techniques"))
		if (cJSON_IsString(it))
			add_technique(techs, pt, it->valuestring);
	/* a storm of the lead alone must not swallow the second finding */
	if (into->agg != NULL && other->agg != NULL) {
		size_t n = strlen(into->agg) + strlen(other->agg) + 2;
		char *k = malloc(n);

		if (k != NULL) {
			snprintf(k, n, "%s+%s", into->agg, other->agg);
			free(into->agg);
			into->agg = k;
		}
	}
	if (other->severity > into->severity) {
		into->severity = other->severity;
		cJSON_ReplaceItemInObjectCaseSensitive(into->core, "severity",
		    cJSON_CreateString(det_severity_name(other->severity)));
	}
	if (!into->want_pcap && other->want_pcap) {
		into->want_pcap = true;
		into->pcap_flow = other->pcap_flow;
	}
	rec_free(other);
}

/* The rule finding leads; a baseline finding of the same packet follows. */
static int
rank(const struct rec *r)
{
	return (int)r->severity * 2 + (r->baseline ? 0 : 1);
}

/* Correlate and deliver what the last packet raised. */
static void
flush_pending(struct alerter *al)
{
	size_t i, j;

	for (i = 0; i < al->npend; i++) {
		struct rec *lead = &al->pend[i];

		if (lead->core == NULL)
			continue;
		/* the best-ranked of the pair leads */
		for (j = i + 1; j < al->npend; j++)
			if (al->pend[j].core != NULL &&
			    same_pair(lead, &al->pend[j]) &&
			    rank(&al->pend[j]) > rank(lead)) {
				struct rec t = *lead;

				*lead = al->pend[j];
				al->pend[j] = t;
			}
		for (j = i + 1; j < al->npend; j++)
			if (al->pend[j].core != NULL &&
			    same_pair(lead, &al->pend[j]))
				fold(lead, &al->pend[j]);
		deliver(al, lead);
	}
	al->npend = 0;
}

/* alerter_context after a packet that raised alerts (out of line) */
static __attribute__((noinline)) void
context_flush(struct alerter *al, const struct alert_pktctx *c)
{
	flush_pending(al);
	al->has_ctx = c != NULL;
	if (c == NULL)
		return;
	al->ctx = *c;
	catch_up(al, c->ts);
}

/* twice per packet: the usual path keeps no frame (no pending alerts) */
void
alerter_context(struct alerter *al, const struct alert_pktctx *c)
{
	if (al->npend > 0) {
		context_flush(al, c);
		return;
	}
	al->has_ctx = c != NULL;
	if (c == NULL)
		return;
	al->ctx = *c;
	catch_up(al, c->ts);
}

void
alerter_raise(struct alerter *al, struct det_alert *a)
{
	struct rec r;

	al->ctr.raised++;
	if (rec_build(al, a, a->details, &r) != 0) {
		a->details = NULL;
		al->ctr.sink_errors++;
		return;
	}
	a->details = NULL;
	if (al->has_ctx && al->ctx.frame && a->ts == al->ctx.ts) {
		if (al->npend == MAX_PENDING)
			flush_pending(al);
		al->pend[al->npend++] = r;
		return;
	}
	deliver(al, &r);
}

void
alerter_tick(struct alerter *al, uint64_t now)
{
	if (al->npend > 0)
		flush_pending(al);
	catch_up(al, now);
}

void
alerter_flush(struct alerter *al)
{
	if (al->npend > 0)
		flush_pending(al);
	sweep(al, 0, true);
}

uint64_t
alerter_last_seq(const struct alerter *al)
{
	return al->seq;
}

void
alerter_resume(struct alerter *al, uint64_t seq, const char *hash)
{
	if (seq <= al->seq || strlen(hash) != CHAIN_HEX_LEN)
		return;
	al->seq = seq;
	memcpy(al->prev, hash, CHAIN_HEX_LEN + 1);
}

const struct alert_counters *
alerter_counters(const struct alerter *al)
{
	return &al->ctr;
}

void
alerter_sink_failed(struct alerter *al, uint64_t n)
{
	al->ctr.sink_errors += n;
}

void
alerter_free(struct alerter *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->npend; i++)
		rec_free(&al->pend[i]);
	if (al->oui)
		inv_oui_drop();
	for (i = 0; i < htab_count(&al->groups); i++)
		group_free(htab_at(&al->groups, i));
	htab_free(&al->groups);
	free(al->agent);
	free(al->site);
	free(al->state_file);
	free(al->jbuf);
	free(al);
}
