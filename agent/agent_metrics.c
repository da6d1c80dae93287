/*
 * agent_metrics.c - the agent's /metrics (see agent_metrics.h).
 */
#include "agent/agent_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/proto.h"
#include "lib/metrics_http.h"
#include "lib/prom.h"

struct agent_metrics {
	pthread_mutex_t			 mu;
	struct agent_metrics_snap	 snap;
	char				*site, *agent;
	struct metrics_http		*http;
};

static void
counter(struct prom *p, const char *name, const char *help,
    const char *const *l, uint64_t v)
{
	prom_family(p, name, "counter", help);
	prom_u64(p, name, l, v);
}

static void
gauge(struct prom *p, const char *name, const char *help,
    const char *const *l, double v)
{
	prom_family(p, name, "gauge", help);
	prom_dbl(p, name, l, v);
}

void
agent_metrics_render(struct prom *p, const char *site, const char *agent,
    const struct agent_metrics_snap *s)
{
	const char *l[] = { "site", site, "agent", agent, NULL };
	const char *lp[] = { "site", site, "agent", agent, "protocol", NULL,
	    NULL };
	const char *ls[] = { "site", site, "agent", agent, "severity", NULL,
	    NULL };
	size_t i;

	counter(p, "icsentry_agent_packets_total",
	    "Packets read from the capture.", l, s->packets);
	counter(p, "icsentry_agent_bytes_total",
	    "Bytes of the packets read (wire length).", l, s->bytes);
	counter(p, "icsentry_agent_capture_dropped_total",
	    "Packets the kernel dropped for want of buffer (pcap ps_drop).",
	    l, s->cap_dropped);
	counter(p, "icsentry_agent_interface_dropped_total",
	    "Packets the interface dropped (pcap ps_ifdrop).", l,
	    s->cap_if_dropped);
	counter(p, "icsentry_agent_decode_errors_total",
	    "Short or malformed packets (every decode error kind).", l,
	    s->decode_errors);
	counter(p, "icsentry_agent_flows_created_total",
	    "Flows created in the flow table.", l, s->flows_created);
	counter(p, "icsentry_agent_flows_evicted_total",
	    "Flows pushed out by the max_flows cap.", l, s->flows_evicted);
	gauge(p, "icsentry_agent_flows_active",
	    "Flows in the table now.", l, (double)s->flows_active);
	prom_family(p, "icsentry_agent_pdus_total", "counter",
	    "Industrial protocol PDUs parsed, by protocol.");
	for (i = 1; i < ICS_NPROTO; i++) {
		lp[5] = ics_proto_name((enum ics_proto)i);
		prom_u64(p, "icsentry_agent_pdus_total", lp, s->pdus[i]);
	}
	prom_family(p, "icsentry_agent_malformed_pdus_total", "counter",
	    "PDUs a protocol parser rejected, by protocol.");
	for (i = 1; i < ICS_NPROTO; i++) {
		lp[5] = ics_proto_name((enum ics_proto)i);
		prom_u64(p, "icsentry_agent_malformed_pdus_total", lp,
		    s->malformed[i]);
	}
	prom_family(p, "icsentry_agent_alerts_total", "counter",
	    "Alerts sent to the sinks, by severity.");
	for (i = 0; i < 5; i++) {
		ls[5] = det_severity_name((enum det_severity)i);
		prom_u64(p, "icsentry_agent_alerts_total", ls, s->alerts[i]);
	}
	counter(p, "icsentry_agent_alerts_aggregated_total",
	    "Repeats folded into summary alerts.", l, s->alerts_aggregated);
	counter(p, "icsentry_agent_alert_sink_errors_total",
	    "Alerts a sink could not take.", l, s->alert_sink_errors);
	gauge(p, "icsentry_agent_alert_last_seq",
	    "Sequence number of the last alert emitted.", l,
	    (double)s->last_seq);
	gauge(p, "icsentry_agent_last_packet_timestamp_seconds",
	    "Capture time of the last packet (Unix seconds).", l,
	    s->capture_time);
	gauge(p, "icsentry_agent_replay_done",
	    "1 once a replay (-r) has read every file and flushed its alerts "
	    "(the agent then lingers for metrics_linger seconds).", l,
	    s->replay_done ? 1.0 : 0.0);
	if (!s->mqtt)
		return;
	gauge(p, "icsentry_agent_mqtt_connected",
	    "1 while connected to the MQTT broker.", l,
	    (double)s->mqtt_connected);
	counter(p, "icsentry_agent_mqtt_published_total",
	    "Messages accepted for MQTT.", l, s->mqtt_published);
	counter(p, "icsentry_agent_mqtt_delivered_total",
	    "Messages the broker acknowledged.", l, s->mqtt_delivered);
	counter(p, "icsentry_agent_mqtt_dropped_total",
	    "Messages refused: buffer full or journal error.", l,
	    s->mqtt_dropped);
	gauge(p, "icsentry_agent_journal_backlog",
	    "Messages queued in the MQTT journal, not yet acknowledged by "
	    "the broker.", l, (double)s->mqtt_buffered);
	gauge(p, "icsentry_agent_unacked_alerts",
	    "Alerts the central log has not acknowledged yet.", l,
	    (double)s->mqtt_unacked);
	gauge(p, "icsentry_agent_oldest_unacked_age_seconds",
	    "Age of the oldest alert the central log has not acknowledged "
	    "(0: none).", l, s->mqtt_oldest_unacked_s);
}

static void
render(void *arg, struct prom *p)
{
	struct agent_metrics *m = arg;
	struct agent_metrics_snap s;

	pthread_mutex_lock(&m->mu);
	s = m->snap;
	pthread_mutex_unlock(&m->mu);
	agent_metrics_render(p, m->site, m->agent, &s);
}

struct agent_metrics *
agent_metrics_start(const char *addr, const char *site, const char *agent,
    char *err, size_t errlen)
{
	struct agent_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	if ((m->site = strdup(site)) == NULL ||
	    (m->agent = strdup(agent)) == NULL) {
		snprintf(err, errlen, "out of memory");
		agent_metrics_stop(m);
		return NULL;
	}
	m->http = metrics_http_start(addr, render, m, err, errlen);
	if (m->http == NULL) {
		agent_metrics_stop(m);
		return NULL;
	}
	return m;
}

void
agent_metrics_publish(struct agent_metrics *m,
    const struct agent_metrics_snap *s)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->snap = *s;
	pthread_mutex_unlock(&m->mu);
}

unsigned
agent_metrics_port(const struct agent_metrics *m)
{
	return m->http != NULL ? metrics_http_port(m->http) : 0;
}

void
agent_metrics_stop(struct agent_metrics *m)
{
	if (m == NULL)
		return;
	metrics_http_stop(m->http);	/* joins its thread first */
	pthread_mutex_destroy(&m->mu);
	free(m->site);
	free(m->agent);
	free(m);
}
