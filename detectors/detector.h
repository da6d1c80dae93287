/*
 * detector.h - the one interface every icsentry detector implements.
 *
 * A detector is one `const struct detector` in its own file and one line
 * in registry.c.  The agent calls its handlers for the events it cares
 * about (NULL handlers are skipped); the detector never parses raw bytes a
 * dissector already parsed and never prints: it raises alerts with
 * det_alert() and nothing else.  All times are packet capture times in
 * microseconds since the epoch, so a replay gives the same alerts as the
 * live run of the same traffic.
 */
#ifndef ICSENTRY_DETECTORS_DETECTOR_H
#define ICSENTRY_DETECTORS_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/proto.h"
#include "lib/cfg.h"

struct cJSON;
struct intel_set;
struct pkt;
struct flow;

enum det_severity {
	SEV_INFO,
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_CRITICAL
};

/* "info" ... "critical" */
const char *det_severity_name(enum det_severity s);
/* parse a severity name; -1 if unknown */
int det_severity_parse(const char *name);

/* One side of an alert: address family 0 means "no IP" (pure L2). */
struct det_endpoint {
	uint8_t		af;
	uint8_t		ip[16];
	uint16_t	port;
	bool		has_mac;
	uint8_t		mac[6];
};

/* struct det_pdu and struct det_malformed: dissectors/proto.h */

/* What a detector fills to raise an alert (see det_alert). */
struct det_alert {
	const char		*detector;	/* "s7.plc_stop": family.rule */
	enum det_severity	 severity;
	const char		*technique;	/* ATT&CK for ICS id or NULL */
	/*
	 * Secondary techniques that also apply (NULL-ended): a restart
	 * injected into a session is T0855 and T0816.  For the alert
	 * record's "techniques" list.
	 */
	const char		*techniques[3];
	const char		*title;		/* one line for a human */
	const char		*proto;		/* "s7comm", "arp"... or NULL */
	struct det_endpoint	 src, dst;
	uint64_t		 ts;
	struct cJSON		*details;	/* object or NULL; det_alert takes it */
	/*
	 * Alerts with the same detector, src ip, dst ip and agg_key within
	 * the aggregation window collapse into one plus a summary count.
	 * NULL = aggregate on detector+src+dst only.
	 */
	const char		*agg_key;
	/* aggregate on detector + src (+ agg_key) only: scans, sweeps */
	bool			 agg_src_only;
};

struct det_ctx;

/*
 * Raise an alert.  Takes ownership of a->details (freed even on error).
 * [detector.NAME] severity = ... replaces a->severity; aggregation of storms
 * happens here, not in detectors.
 */
void det_alert(struct det_ctx *ctx, struct det_alert *a);

/* Fill an endpoint from a flow side (client or server). */
void det_endpoint_from_flow(struct det_endpoint *e, const struct flow *f,
    bool client);

/*
 * Start an alert about a PDU: zeroes a, sets src = the sender, dst = the
 * receiver, ts and proto.  The caller fills the rest.
 */
void det_alert_from_pdu(struct det_alert *a, const struct det_pdu *pdu);

/* Address helpers for details: "10.0.0.1" (buf >= 46 bytes). */
const char *det_ip_str(const struct det_endpoint *e, char *buf, size_t len);

/*
 * Policy and baseline, as one answer to "is src allowed to do this?".
 * POL_UNSET: neither [policy] nor a baseline says anything, so a detector
 * of unauthorized use stays silent ("no policy, no opinion").
 */
enum det_verdict { DET_UNSET, DET_ALLOWED, DET_DENIED };

enum det_role {
	DET_ROLE_WRITER,	/* may write / operate / control */
	DET_ROLE_MASTER,	/* may poll as master/client at all */
	DET_ROLE_REMOTE,	/* may use remote access (SSH, RDP...) */
	DET_ROLE_DISCOVERY	/* may identify devices / scan */
};

enum det_verdict det_policy(const struct det_ctx *ctx, enum ics_proto proto,
    enum det_role role, const struct det_endpoint *src);
/* The same from [policy] alone (DET_UNSET without the role's list). */
enum det_verdict det_policy_listed(const struct det_ctx *ctx,
    enum ics_proto proto, enum det_role role, const struct det_endpoint *src);

/*
 * Publish an inventory entry for ip (JSON object text): retained on
 * icsentry/<site>/<agent>/asset/<ip> when MQTT is on; a no-op otherwise.
 */
void det_publish_asset(struct det_ctx *ctx, const char *ip, const char *json,
    size_t len);

/* Does anyone take det_publish_asset() entries (MQTT on)? */
bool det_publishing(const struct det_ctx *ctx);

/* Is addr inside [policy] ot_networks?  With none configured: false. */
bool det_in_ot_networks(const struct det_ctx *ctx, const struct det_endpoint *e);

/*
 * The threat-intelligence indicators applied now (signed bundles from the
 * SOC, lib/intel_bundle.h), or NULL when none is.
 */
const struct intel_set *det_intel(const struct det_ctx *ctx);

/* The loaded configuration (for detectors that read other sections). */
const struct cfg *det_cfg(const struct det_ctx *ctx);

/* What a detector learned of a host (the inventory), for alerts. */
struct det_asset_info {
	char	vendor[64];
	char	model[64];
};

/* What a detector's counters hook calls for each counter. */
typedef void (*det_counter_fn)(void *arg, const char *name, uint64_t value);

#define DET_PROTO(p)	(1u << (p))
#define DET_INACTIVE	1	/* init: configured off, no hooks */

/* A detector's entry in the registry. */
struct detector {
	const char		*name;		/* section [detector.NAME] */
	/* its usual severity (--print-config shows it beside severity =) */
	enum det_severity	 severity;
	const struct cfg_key	*keys;		/* its config keys, {NULL}-ended */
	/* on_pdu only for these protocols: DET_PROTO(ICS_x) | ...; 0 = all */
	uint32_t		 pdu_protos;
	/*
	 * state receives the detector's private state (may stay NULL).  On
	 * failure return negative and write one line to err naming the file
	 * and the problem (e.g. a corrupt baseline); the agent exits 2.
	 * Return DET_INACTIVE when the configuration leaves the detector with
	 * nothing to do: it then gets no events at all (only destroy).
	 */
	int	(*init)(const struct cfg *c, const char *section, void **state,
		    char *err, size_t errlen);
	void	(*on_packet)(void *state, struct det_ctx *ctx,
		    const struct pkt *p, const struct flow *f, int dir);
	void	(*on_arp)(void *state, struct det_ctx *ctx, const struct pkt *p);
	void	(*on_flow_start)(void *state, struct det_ctx *ctx,
		    const struct flow *f);
	void	(*on_flow_end)(void *state, struct det_ctx *ctx,
		    const struct flow *f);
	/*
	 * A flow that was already open when this detector was created (the
	 * engine was rebuilt by a reload or a threat-intel bundle): once per
	 * such flow, right after the rebuild.
	 */
	void	(*on_flow_open)(void *state, struct det_ctx *ctx,
		    const struct flow *f);
	void	(*on_pdu)(void *state, struct det_ctx *ctx,
		    const struct det_pdu *pdu);
	void	(*on_malformed)(void *state, struct det_ctx *ctx,
		    const struct det_malformed *m);
	/* about once a second of capture time, for windows and summaries */
	void	(*on_tick)(void *state, struct det_ctx *ctx, uint64_t now);
	/*
	 * Optional: answer det_policy() from learned state (the baseline
	 * detector).  DET_UNSET when it has no opinion.  [policy] wins.
	 */
	enum det_verdict (*verdict)(void *state, enum ics_proto proto,
		    enum det_role role, const struct det_endpoint *src);
	/*
	 * Optional: end of the run, before destroy (write a learned file, an
	 * inventory).  Returns 0, or negative with one line in err; the agent
	 * then exits 1.
	 */
	int	(*finish)(void *state, struct det_ctx *ctx, char *err,
		    size_t errlen);
	/*
	 * Optional: the memory of the detector's model for --stats, written
	 * into buf as the members of one JSON object ("entries":12,
	 * "capacity":4096,"dropped":0,"bytes":...).  Returns the length.
	 */
	int	(*stats)(void *state, char *buf, size_t len);
	void	(*destroy)(void *state);
	/*
	 * Optional: report overflow counters for --stats ("detectors":
	 * {"NAME": {"counter": n}}): call add(arg, name, value) for each.
	 * Every table an attacker can fill is capped, and what the cap turned
	 * away or recycled is counted here, so it is never silent.
	 */
	void	(*counters)(void *state, det_counter_fn add, void *arg);
	/*
	 * Optional: what the detector learned of host ip (af 4 or 6): vendor
	 * and model as the device itself reported them.  Returns true and
	 * fills out (empty strings for what it does not know) when it knows
	 * the host.
	 */
	bool	(*describe)(void *state, uint8_t af, const uint8_t *ip,
		    struct det_asset_info *out);
};

/* The registry (registry.c): every detector, NULL-terminated. */
extern const struct detector *const det_registry[];

#endif
