/*
 * collector_out.h - what the collector gives to other systems: stored
 * alerts forwarded to syslog ([syslog], syslog_fwd.h) and a Prometheus
 * /metrics endpoint ([collector] metrics / --metrics).
 *
 * The collector reports each alert the central log took as new with
 * cout_pending() while its transaction is open; cout_commit() after the
 * commit forwards them (only stored alerts, each once) and counts them,
 * cout_rollback() forgets them (the agents send them again).  Every
 * function is thread-safe and accepts a NULL out (then does nothing).
 */
#ifndef ICSENTRY_BROKER_COLLECTOR_OUT_H
#define ICSENTRY_BROKER_COLLECTOR_OUT_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct prom;
struct collector_out;

/*
 * Start syslog forwarding when [syslog] target is set and /metrics when
 * metrics_addr is non-empty.  NULL with err filled.
 */
struct collector_out *cout_new(const struct cfg *c, const char *metrics_addr,
    char *err, size_t errlen);

void cout_pending(struct collector_out *o, const char *site,
    const char *agent, int64_t seq, const char *json, size_t len);
/* A deferred insert of (site, agent, seq) was not new after all. */
void cout_settled(struct collector_out *o, const char *site,
    const char *agent, int64_t seq, int conflict);
void cout_commit(struct collector_out *o);
void cout_rollback(struct collector_out *o);

/* A message from (site, agent) arrived now (us since 1970). */
void cout_seen(struct collector_out *o, const char *site, const char *agent,
    int64_t now_us);
/* reason: the central log's counter name, e.g. "rejected_topic" */
void cout_reject(struct collector_out *o, const char *reason);
void cout_conflict(struct collector_out *o);
void cout_duplicate(struct collector_out *o);

/* The /metrics text (also what the endpoint serves). */
void cout_render(struct collector_out *o, struct prom *p);

/* Give the syslog queue up to timeout_ms, stop, free. */
void cout_free(struct collector_out *o, int timeout_ms);

#endif
