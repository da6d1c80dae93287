/*
 * agent_metrics.h - the agent's Prometheus /metrics (--metrics ADDR:PORT).
 *
 * The capture thread owns its counters and never takes a lock per
 * packet: now and then (every 1024 packets, each second of capture time,
 * each live read timeout, at the end of a capture) it copies them into a
 * snapshot with agent_metrics_publish(), one short mutex hold.  The HTTP
 * thread renders only the last snapshot.
 */
#ifndef ICSENTRY_AGENT_AGENT_METRICS_H
#define ICSENTRY_AGENT_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/registry.h"

struct agent_metrics_snap {
	uint64_t	packets, bytes;
	uint64_t	decode_errors;
	uint64_t	cap_received, cap_dropped, cap_if_dropped;
	uint64_t	flows_created, flows_ended, flows_expired;
	uint64_t	flows_evicted, flows_active;
	uint64_t	pdus[ICS_NPROTO], malformed[ICS_NPROTO];
	uint64_t	alerts[5];	/* by severity: info .. critical */
	uint64_t	alerts_aggregated, alert_sink_errors;
	uint64_t	last_seq;
	bool		mqtt;		/* the mqtt_* members are set */
	int		mqtt_connected;
	uint64_t	mqtt_published, mqtt_delivered, mqtt_dropped;
	uint64_t	mqtt_buffered;	/* journal backlog */
	uint64_t	mqtt_unacked;	/* alerts the central log lacks */
	double		mqtt_oldest_unacked_s;
	double		capture_time;	/* seconds since 1970, last packet */
	bool		replay_done;	/* -r: every file read, alerts flushed */
};

struct agent_metrics;

/* Listen on addr; NULL with err filled. */
struct agent_metrics *agent_metrics_start(const char *addr,
    const char *site, const char *agent, char *err, size_t errlen);

void agent_metrics_publish(struct agent_metrics *m,
    const struct agent_metrics_snap *s);

unsigned agent_metrics_port(const struct agent_metrics *m);

void agent_metrics_stop(struct agent_metrics *m);

/* The exposition text of s (for tests); the caller frees p's buffer. */
struct prom;
void agent_metrics_render(struct prom *p, const char *site,
    const char *agent, const struct agent_metrics_snap *s);

#endif
