/*
 * alert.h - build, chain, aggregate and deliver alerts.
 *
 * An alert becomes one JSON object (DESIGN.md "Alert format"): seq and the
 * chain's last hash are persisted in a state file before the alert is
 * handed to any sink, so a restarted agent continues its chain.  Storms of
 * the same detector on the same src->dst are collapsed: the first alert
 * goes out, later ones within the window are counted and reported in one
 * summary alert when the window closes.
 */
#ifndef ICSENTRY_AGENT_ALERT_H
#define ICSENTRY_AGENT_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct det_alert;
struct flow;
struct asset_book;
struct evidence;

struct alert_opts {
	const char	*agent;		/* agent name, e.g. "gw-01" */
	const char	*site;		/* site name, e.g. "plant-a" */
	const char	*state_file;	/* seq + last hash; NULL/"" = none */
	bool		 state_by_journal;	/* loaded here, but written by
					   the MQTT journal's writer as a
					   checkpoint of the journal's head
					   (mqtt_out_state_head): no disk I/O
					   on the capture thread */
	uint64_t	 window_us;	/* aggregation window, 0 = off */
	size_t		 max_groups;	/* aggregation table cap */
};

/*
 * A sink gets the finished alert: severity name and the JSON text (no
 * newline).  Returns 0, or negative when it could not take the alert (the
 * alerter counts it).
 */
typedef int (*alert_sink_fn)(void *arg, const char *severity,
    const char *json, size_t len);

struct alert_counters {
	uint64_t	raised;		/* det_alert calls */
	uint64_t	emitted;	/* alerts sent to the sinks */
	uint64_t	aggregated;	/* suppressed into a summary */
	uint64_t	summaries;
	uint64_t	sink_errors;
	uint64_t	by_severity[5];
};

struct alerter;

/* NULL on failure with err filled (e.g. state file unreadable/corrupt). */
struct alerter *alerter_new(const struct alert_opts *o, char *err,
    size_t errlen);

/* Add a sink (at most 4).  Returns 0 or IDS_EINVAL. */
int alerter_add_sink(struct alerter *al, alert_sink_fn fn, void *arg);

/*
 * What is being processed now: the packet of time ts and its flow (NULL
 * when it has none: ARP), or a flow that ends (frame false).  Alerts
 * raised until the next alerter_context() whose endpoints are the flow's
 * carry its flow_id, community_id, vlan, transport and evidence; the
 * alerts one packet raised about one src/dst pair become one alert (the
 * others are listed in `reasons` and `correlated`).  NULL: nothing (the
 * pending alerts are emitted).
 */
struct alert_pktctx {
	uint64_t		 ts;
	const struct flow	*f;
	bool			 frame;		/* a packet, kept in evidence */
	bool			 has_icmp;
	uint8_t			 icmp_type, icmp_code;
};
void alerter_context(struct alerter *al, const struct alert_pktctx *c);

/*
 * The plant's assets (names, roles, grades; borrowed) and the evidence
 * rings (borrowed); either may be NULL.
 */
void alerter_set_enrich(struct alerter *al, const struct asset_book *b,
    struct evidence *ev);

/*
 * What the detectors learned of a host (det_engine_describe: the passive
 * inventory's vendor and model); fn returns false when nothing.
 */
struct det_asset_info;
typedef bool (*alert_describe_fn)(void *arg, uint8_t af, const uint8_t *ip,
    struct det_asset_info *out);
void alerter_set_describe(struct alerter *al, alert_describe_fn fn, void *arg);

/*
 * An evidence sink gets the pcap of the alert seq (after the alert itself
 * went to the alert sinks).  At most 2.
 */
typedef int (*alert_evidence_fn)(void *arg, uint64_t seq, const void *pcap,
    size_t len);
int alerter_add_evidence_sink(struct alerter *al, alert_evidence_fn fn,
    void *arg);

/*
 * The journal sink (one; the MQTT journal): an alert and its evidence
 * pcap (NULL, 0 when it has none) in one call, before every other sink,
 * so an alert any sink shows is in the journal already, and the two go
 * to disk in one write.  Returns the alert's result (0, or negative),
 * *ev_rc the evidence's.
 */
typedef int (*alert_journal_fn)(void *arg, const char *severity,
    const char *json, size_t len, uint64_t seq, const void *pcap,
    size_t pcap_len, int *ev_rc);
void alerter_set_journal(struct alerter *al, alert_journal_fn fn, void *arg);

/* Raise (see det_alert in detector.h); takes ownership of a->details. */
void alerter_raise(struct alerter *al, struct det_alert *a);

/* Close aggregation windows that ended before now (capture time). */
void alerter_tick(struct alerter *al, uint64_t now);

/* Emit every pending summary (end of capture / shutdown). */
void alerter_flush(struct alerter *al);

const struct alert_counters *alerter_counters(const struct alerter *al);

/* n alerts a sink took were lost after (the alerts file's flush). */
void alerter_sink_failed(struct alerter *al, uint64_t n);

/* The seq of the last alert emitted (0 before the first, ever). */
uint64_t alerter_last_seq(const struct alerter *al);

/*
 * Continue the chain after seq/hash when that is ahead of the state file
 * (the journal held later alerts than the state a crash left behind).
 */
void alerter_resume(struct alerter *al, uint64_t seq, const char *hash);

void alerter_free(struct alerter *al);

/* JSON-lines sink: arg is a FILE *; writes the line and flushes. */
int alert_sink_file(void *arg, const char *severity, const char *json,
    size_t len);

#endif
