/*
 * alert.c - alert JSON, hash chain, persisted sequence, storm aggregation.
 */
#include "agent/alert.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/chain.h"
#include "lib/rfc3339.h"
#include "detectors/detector.h"
#include "lib/ids.h"
#include "lib/log.h"

#define MAX_SINKS	4

struct sink {
	alert_sink_fn	 fn;
	void		*arg;
};

/* One aggregation group: detector + src ip + dst ip + agg_key. */
struct group {
	char			*key;
	uint64_t		 window_end;
	uint64_t		 first_ts, last_ts;	/* of the suppressed ones */
	uint64_t		 count;			/* suppressed so far */
	/* what the summary alert repeats */
	char			*detector, *title, *proto, *technique;
	enum det_severity	 severity;
	struct det_endpoint	 src, dst;
	struct group		*next;
};

struct alerter {
	char			*agent, *site, *state_file;
	uint64_t		 window_us;
	size_t			 max_groups;
	uint64_t		 seq;		/* last seq used */
	char			 prev[CHAIN_HEX_LEN + 1];
	struct sink		 sinks[MAX_SINKS];
	int			 nsinks;
	struct group		**tab;
	size_t			 tabmask, ngroups;
	struct alert_counters	 ctr;
	bool			 state_warned;
	bool			 state_by_journal;
};

int
alert_sink_file(void *arg, const char *severity, const char *json, size_t len)
{
	FILE *fp = arg;

	(void)severity;
	if (fwrite(json, 1, len, fp) != len || fputc('\n', fp) == EOF ||
	    fflush(fp) != 0)
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

struct alerter *
alerter_new(const struct alert_opts *o, char *err, size_t errlen)
{
	struct alerter *al;
	size_t n = 256;

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
	memcpy(al->prev, CHAIN_GENESIS, CHAIN_HEX_LEN + 1);
	al->tab = calloc(n, sizeof(*al->tab));
	if (al->tab == NULL)
		goto nomem;
	al->tabmask = n - 1;
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

static cJSON *
endpoint_json(const struct det_endpoint *e)
{
	char buf[64];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	if (e->af != 0)
		cJSON_AddStringToObject(o, "ip", det_ip_str(e, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(o, "ip");
	if (e->port != 0)
		cJSON_AddNumberToObject(o, "port", e->port);
	else
		cJSON_AddNullToObject(o, "port");
	if (e->has_mac) {
		snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
		    e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
		    e->mac[5]);
		cJSON_AddStringToObject(o, "mac", buf);
	} else
		cJSON_AddNullToObject(o, "mac");
	return o;
}

static void
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* Build, chain, persist and deliver one alert.  Consumes details. */
static void
emit(struct alerter *al, const struct det_alert *a, cJSON *details)
{
	char ts[40], hash[CHAIN_HEX_LEN + 1], *body = NULL, *full = NULL;
	const char *sev = det_severity_name(a->severity);
	size_t blen;
	cJSON *o;
	int i;

	o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(details);
		al->ctr.sink_errors++;
		return;
	}
	cJSON_AddStringToObject(o, "agent", al->agent);
	cJSON_AddStringToObject(o, "site", al->site);
	cJSON_AddNumberToObject(o, "seq", (double)(al->seq + 1));
	cJSON_AddStringToObject(o, "ts", rfc3339_format(a->ts, ts, sizeof(ts)));
	cJSON_AddStringToObject(o, "severity", sev);
	cJSON_AddStringToObject(o, "detector", a->detector);
	add_str_or_null(o, "technique", a->technique);
	cJSON_AddStringToObject(o, "title", a->title != NULL ? a->title : "");
	add_str_or_null(o, "proto", a->proto);
	cJSON_AddItemToObject(o, "src", endpoint_json(&a->src));
	cJSON_AddItemToObject(o, "dst", endpoint_json(&a->dst));
	cJSON_AddItemToObject(o, "details",
	    details != NULL ? details : cJSON_CreateObject());
	cJSON_AddStringToObject(o, "prev_hash", al->prev);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (body == NULL)
		goto fail;
	blen = strlen(body);
	if (chain_hash(al->prev, body, blen, hash) != 0)
		goto fail;
	/* replace the closing '}' by ,"hash":"..."} */
	full = malloc(blen + CHAIN_HEX_LEN + 16);
	if (full == NULL)
		goto fail;
	memcpy(full, body, blen - 1);
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
	if ((unsigned)a->severity < 5)
		al->ctr.by_severity[a->severity]++;
	for (i = 0; i < al->nsinks; i++)
		if (al->sinks[i].fn(al->sinks[i].arg, sev, full, blen) != 0)
			al->ctr.sink_errors++;
	cJSON_free(body);
	free(full);
	return;
fail:
	al->ctr.sink_errors++;
	cJSON_free(body);
	free(full);
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
	free(g->detector);
	free(g->title);
	free(g->proto);
	free(g->technique);
	free(g);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
emit_summary(struct alerter *al, struct group *g)
{
	struct det_alert a;
	char title[512], first[40], last[40];
	cJSON *d;

	memset(&a, 0, sizeof(a));
	a.detector = g->detector;
	a.severity = g->severity;
	a.technique = g->technique;
	a.proto = g->proto;
	a.src = g->src;
	a.dst = g->dst;
	a.ts = g->last_ts;
	snprintf(title, sizeof(title), "%s (repeated %llu more times)",
	    g->title != NULL ? g->title : g->detector,
	    (unsigned long long)g->count);
	a.title = title;
	d = cJSON_CreateObject();
	cJSON_AddBoolToObject(d, "summary", 1);
	cJSON_AddNumberToObject(d, "count", (double)g->count);
	cJSON_AddStringToObject(d, "first_ts",
	    rfc3339_format(g->first_ts, first, sizeof(first)));
	cJSON_AddStringToObject(d, "last_ts",
	    rfc3339_format(g->last_ts, last, sizeof(last)));
	cJSON_AddNumberToObject(d, "window_s", (double)al->window_us / 1e6);
	al->ctr.summaries++;
	emit(al, &a, d);
}

void
alerter_raise(struct alerter *al, struct det_alert *a)
{
	char key[512], s[64], d[64];
	struct group *g, **pp;
	uint32_t h;

	al->ctr.raised++;
	if (al->window_us == 0) {
		emit(al, a, a->details);
		a->details = NULL;
		return;
	}
	snprintf(key, sizeof(key), "%s|%s|%s|%s", a->detector,
	    det_ip_str(&a->src, s, sizeof(s)),
	    a->agg_src_only ? "*" : det_ip_str(&a->dst, d, sizeof(d)),
	    a->agg_key != NULL ? a->agg_key : "");
	h = str_hash(key);
	for (pp = &al->tab[h & al->tabmask]; (g = *pp) != NULL; pp = &g->next)
		if (strcmp(g->key, key) == 0)
			break;
	if (g != NULL && a->ts < g->window_end) {
		if (g->count == 0)
			g->first_ts = a->ts;
		g->count++;
		if (a->ts > g->last_ts)
			g->last_ts = a->ts;
		al->ctr.aggregated++;
		cJSON_Delete(a->details);
		a->details = NULL;
		return;
	}
	emit(al, a, a->details);
	a->details = NULL;
	if (g != NULL) {
		/* window over: pending count was flushed by tick; restart it */
		if (g->count > 0)
			emit_summary(al, g);
		g->count = 0;
		g->window_end = a->ts + al->window_us;
		return;
	}
	if (al->ngroups >= al->max_groups)
		return;		/* no room to aggregate: alerts still go out */
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return;
	g->key = strdup(key);
	g->detector = dup_or_null(a->detector);
	g->title = dup_or_null(a->title);
	g->proto = dup_or_null(a->proto);
	g->technique = dup_or_null(a->technique);
	if (g->key == NULL || g->detector == NULL) {
		group_free(g);
		return;
	}
	g->severity = a->severity;
	g->src = a->src;
	g->dst = a->dst;
	g->window_end = a->ts + al->window_us;
	g->next = al->tab[h & al->tabmask];
	al->tab[h & al->tabmask] = g;
	al->ngroups++;
}

/* Summaries for closed windows; groups with nothing pending are dropped. */
static void
sweep(struct alerter *al, uint64_t now, bool all)
{
	struct group *g, **pp;
	size_t i;

	for (i = 0; i <= al->tabmask; i++) {
		pp = &al->tab[i];
		while ((g = *pp) != NULL) {
			if (!all && g->window_end > now) {
				pp = &g->next;
				continue;
			}
			if (g->count > 0)
				emit_summary(al, g);
			*pp = g->next;
			group_free(g);
			al->ngroups--;
		}
	}
}

void
alerter_tick(struct alerter *al, uint64_t now)
{
	if (al->ngroups > 0)
		sweep(al, now, false);
}

void
alerter_flush(struct alerter *al)
{
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
alerter_free(struct alerter *al)
{
	struct group *g, *next;
	size_t i;

	if (al == NULL)
		return;
	if (al->tab != NULL) {
		for (i = 0; i <= al->tabmask; i++)
			for (g = al->tab[i]; g != NULL; g = next) {
				next = g->next;
				group_free(g);
			}
		free(al->tab);
	}
	free(al->agent);
	free(al->site);
	free(al->state_file);
	free(al);
}
