/*
 * collector_out.c - syslog forwarding and /metrics of the collector (see
 * collector_out.h).
 */
#include "broker/collector_out.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/syslog_fwd.h"
#include "lib/cfg.h"
#include "lib/metrics_http.h"
#include "lib/prom.h"

/* One (site, agent) seen: its last message and its stored alerts. */
struct seen {
	struct seen	*next;
	char		*site, *agent;
	int64_t		 last_us;
	uint64_t	 stored;
};

struct pend {
	struct pend	*next;
	struct seen	*who;
	int64_t		 seq;
	size_t		 len;
	char		 json[];
};

#define NREASON	4

struct collector_out {
	pthread_mutex_t		 mu;
	struct syslog_fwd	*fwd;
	struct metrics_http	*http;
	struct seen		*seen;		/* list; fleets are small */
	struct pend		*pend, **pend_tail;
	uint64_t		 stored, conflicts, duplicates;
	uint64_t		 rejected[NREASON];
};

static const char *const reasons[NREASON] = { "invalid", "topic", "size",
    "other" };

static void render(void *arg, struct prom *p);

struct collector_out *
cout_new(const struct cfg *c, const char *metrics_addr, char *err,
    size_t errlen)
{
	struct collector_out *o = calloc(1, sizeof(*o));
	struct syslog_fwd_opts so;

	if (o == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&o->mu, NULL);
	o->pend_tail = &o->pend;
	if (syslog_fwd_opts_from_cfg(c, &so, err, errlen) != 0)
		goto bad;
	if (so.target[0] != '\0' &&
	    (o->fwd = syslog_fwd_new(&so, err, errlen)) == NULL)
		goto bad;
	if (metrics_addr != NULL && metrics_addr[0] != '\0' &&
	    (o->http = metrics_http_start(metrics_addr, render, o, err,
	    errlen)) == NULL)
		goto bad;
	return o;
bad:
	cout_free(o, 0);
	return NULL;
}

/* o->mu held */
static struct seen *
who(struct collector_out *o, const char *site, const char *agent)
{
	struct seen *s;

	for (s = o->seen; s != NULL; s = s->next)
		if (strcmp(s->site, site) == 0 && strcmp(s->agent, agent) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->site = strdup(site);
	s->agent = strdup(agent);
	if (s->site == NULL || s->agent == NULL) {
		free(s->site);
		free(s->agent);
		free(s);
		return NULL;
	}
	s->next = o->seen;
	o->seen = s;
	return s;
}

void
cout_pending(struct collector_out *o, const char *site, const char *agent,
    int64_t seq, const char *json, size_t len)
{
	struct pend *p;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	p = malloc(sizeof(*p) + len + 1);
	if (p != NULL) {
		p->next = NULL;
		p->who = who(o, site, agent);
		p->seq = seq;
		p->len = len;
		memcpy(p->json, json, len);
		p->json[len] = '\0';
		*o->pend_tail = p;
		o->pend_tail = &p->next;
	}
	pthread_mutex_unlock(&o->mu);
}

void
cout_settled(struct collector_out *o, const char *site, const char *agent,
    int64_t seq, int conflict)
{
	struct pend **pp, *p;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	for (pp = &o->pend; (p = *pp) != NULL; pp = &p->next)
		if (p->seq == seq && p->who != NULL &&
		    strcmp(p->who->site, site) == 0 &&
		    strcmp(p->who->agent, agent) == 0) {
			*pp = p->next;
			if (o->pend_tail == &p->next)
				o->pend_tail = pp;
			free(p);
			break;
		}
	if (conflict)
		o->conflicts++;
	else
		o->duplicates++;
	pthread_mutex_unlock(&o->mu);
}

static struct pend *
take(struct collector_out *o)
{
	struct pend *p = o->pend;

	o->pend = NULL;
	o->pend_tail = &o->pend;
	return p;
}

void
cout_commit(struct collector_out *o)
{
	struct pend *p, *next;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	p = take(o);
	for (next = p; next != NULL; next = next->next) {
		o->stored++;
		if (next->who != NULL)
			next->who->stored++;
	}
	pthread_mutex_unlock(&o->mu);
	for (; p != NULL; p = next) {
		next = p->next;
		syslog_fwd_offer(o->fwd, p->json, p->len);
		free(p);
	}
}

void
cout_rollback(struct collector_out *o)
{
	struct pend *p, *next;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	p = take(o);
	pthread_mutex_unlock(&o->mu);
	for (; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
}

void
cout_seen(struct collector_out *o, const char *site, const char *agent,
    int64_t now_us)
{
	struct seen *s;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	if ((s = who(o, site, agent)) != NULL)
		s->last_us = now_us;
	pthread_mutex_unlock(&o->mu);
}

void
cout_reject(struct collector_out *o, const char *reason)
{
	size_t i;

	if (o == NULL)
		return;
	if (strncmp(reason, "rejected_", 9) == 0)
		reason += 9;
	for (i = 0; i < NREASON - 1; i++)
		if (strcmp(reasons[i], reason) == 0)
			break;
	pthread_mutex_lock(&o->mu);
	o->rejected[i]++;
	pthread_mutex_unlock(&o->mu);
}

void
cout_conflict(struct collector_out *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->conflicts++;
	pthread_mutex_unlock(&o->mu);
}

void
cout_duplicate(struct collector_out *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->duplicates++;
	pthread_mutex_unlock(&o->mu);
}

static void
counter(struct prom *p, const char *name, const char *help, uint64_t v)
{
	prom_family(p, name, "counter", help);
	prom_u64(p, name, NULL, v);
}

void
cout_render(struct collector_out *o, struct prom *p)
{
	struct syslog_fwd_counters sc;
	const char *l[] = { "site", NULL, "agent", NULL, NULL };
	const char *lr[] = { "reason", NULL, NULL };
	struct seen *s;
	size_t i;

	pthread_mutex_lock(&o->mu);
	counter(p, "icsentry_collector_alerts_stored_total",
	    "Alerts committed to the central log as new.", o->stored);
	counter(p, "icsentry_collector_duplicates_total",
	    "Alerts that were stored already (re-deliveries).", o->duplicates);
	counter(p, "icsentry_collector_conflicts_total",
	    "Alerts that arrived again with different content (the first "
	    "kept).", o->conflicts);
	prom_family(p, "icsentry_collector_rejected_total", "counter",
	    "Messages refused, by reason.");
	for (i = 0; i < NREASON; i++) {
		lr[1] = reasons[i];
		prom_u64(p, "icsentry_collector_rejected_total", lr,
		    o->rejected[i]);
	}
	prom_family(p, "icsentry_collector_agent_last_seen_timestamp_seconds",
	    "gauge", "When the collector last received a message of the "
	    "agent (Unix seconds).");
	for (s = o->seen; s != NULL; s = s->next) {
		l[1] = s->site;
		l[3] = s->agent;
		prom_dbl(p,
		    "icsentry_collector_agent_last_seen_timestamp_seconds", l,
		    (double)s->last_us / 1e6);
	}
	prom_family(p, "icsentry_collector_agent_alerts_stored_total",
	    "counter", "Alerts stored, by agent.");
	for (s = o->seen; s != NULL; s = s->next) {
		l[1] = s->site;
		l[3] = s->agent;
		prom_u64(p, "icsentry_collector_agent_alerts_stored_total", l,
		    s->stored);
	}
	pthread_mutex_unlock(&o->mu);
	if (o->fwd == NULL)
		return;
	syslog_fwd_counters(o->fwd, &sc);
	counter(p, "icsentry_collector_syslog_sent_total",
	    "Alerts written to the syslog receiver.", sc.sent);
	counter(p, "icsentry_collector_syslog_dropped_total",
	    "Alerts dropped: the queue was full while the receiver was down.",
	    sc.dropped);
	counter(p, "icsentry_collector_syslog_errors_total",
	    "Failed connects and sends (each retried).", sc.errors);
	prom_family(p, "icsentry_collector_syslog_queued", "gauge",
	    "Alerts waiting for the syslog receiver.");
	prom_u64(p, "icsentry_collector_syslog_queued", NULL, sc.queued);
	prom_family(p, "icsentry_collector_syslog_connected", "gauge",
	    "1 while connected to the syslog receiver (TCP, TLS).");
	prom_u64(p, "icsentry_collector_syslog_connected", NULL,
	    (uint64_t)sc.connected);
}

static void
render(void *arg, struct prom *p)
{
	cout_render(arg, p);
}

void
cout_free(struct collector_out *o, int timeout_ms)
{
	struct seen *s, *next;

	if (o == NULL)
		return;
	metrics_http_stop(o->http);
	cout_rollback(o);
	syslog_fwd_free(o->fwd, timeout_ms);
	for (s = o->seen; s != NULL; s = next) {
		next = s->next;
		free(s->site);
		free(s->agent);
		free(s);
	}
	pthread_mutex_destroy(&o->mu);
	free(o);
}
