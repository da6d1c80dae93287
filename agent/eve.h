/*
 * eve.h - an icsentry alert as a Suricata EVE JSON "alert" record, for
 * SIEM pipelines that already ingest Suricata (--alerts-format eve).
 */
#ifndef ICSENTRY_AGENT_EVE_H
#define ICSENTRY_AGENT_EVE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Map one alert (DESIGN.md "Alert format", JSON text) to one EVE line
 * (no newline).  Members the alert lacks (flow_id, community_id, rule,
 * transport, technique_name, tactic ...) are left out of the record.
 * Returns a malloc'd string, or NULL when json is not an alert object.
 */
char *eve_from_alert(const char *json, size_t len);

/* EVE severity: 1 (critical, high), 2 (medium), 3 (low, info). */
int eve_severity(const char *severity);

/*
 * The signature_id of an alert without a numeric "sid": rule ids that
 * are numbers are used as they are; named ones (and detectors) map to 9,000,000 + a stable
 * 24-bit FNV-1a hash of the name, so a name keeps its id across builds.
 */
uint32_t eve_signature_id(const char *name);

/* JSON-lines sink writing EVE (alert_sink_fn); arg is a FILE *. */
int alert_sink_eve(void *arg, const char *severity, const char *json,
    size_t len);

#endif
