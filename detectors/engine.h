/*
 * engine.h - the detector engine: runs every detector in det_registry
 * and routes events to the handlers each one has.  The services detectors
 * call (det_alert, det_policy...) are in services.c.
 */
#ifndef ICSENTRY_DETECTORS_ENGINE_H
#define ICSENTRY_DETECTORS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "detectors/ctx.h"
#include "detectors/detector.h"

/* The [policy] section and one [detector.NAME] section per detector. */
extern const struct cfg_schema det_policy_schema;

/*
 * Schemas of the detectors' sections: *n receives the count.  The array
 * is static and valid for the life of the program.
 */
const struct cfg_schema *const *det_engine_schemas(size_t *n);

struct det_engine;

/* NULL on failure with err filled (a detector's init failed). */
struct det_engine *det_engine_new(const struct cfg *c,
    const struct det_alert_sink *out, char *err, size_t errlen);
void det_engine_free(struct det_engine *e);

void det_engine_set_asset_sink(struct det_engine *e, det_asset_fn fn,
    void *arg);

/* Run every detector's finish hook; -1 if one failed (err says why). */
int det_engine_finish(struct det_engine *e, char *err, size_t errlen);

void det_engine_packet(struct det_engine *e, const struct pkt *p,
    const struct flow *f, int dir);
void det_engine_arp(struct det_engine *e, const struct pkt *p);
void det_engine_flow_start(struct det_engine *e, const struct flow *f);
void det_engine_flow_end(struct det_engine *e, const struct flow *f);
/* A flow open before this engine was built (see on_flow_open). */
void det_engine_flow_open(struct det_engine *e, const struct flow *f);

struct intel_set;
/* What det_intel() answers (borrowed: keep s alive while e uses it). */
void det_engine_set_intel(struct det_engine *e, const struct intel_set *s);
void det_engine_pdu(struct det_engine *e, const struct det_pdu *pdu);
void det_engine_malformed(struct det_engine *e, const struct det_malformed *m);
/*
 * Call with capture time; runs on_tick about once a second.  Returns the
 * time of the next tick: calls before it do nothing, so the caller may
 * skip them (until det_engine_time_reset or a new engine).
 */
uint64_t det_engine_time(struct det_engine *e, uint64_t now);

/* The capture clock restarts (next replay file): tick on its own time. */
void det_engine_time_reset(struct det_engine *e);

/*
 * The active detectors' overflow counters: section(arg, name) once per
 * detector that has any, then add(arg, counter, value) for each.
 */
void det_engine_counters(const struct det_engine *e,
    void (*section)(void *arg, const char *detector), det_counter_fn add,
    void *arg);

/* Number of detectors loaded. */
/* The detectors' models for --stats: "name":{...} members, comma-separated. */
void det_engine_stats(const struct det_engine *e, FILE *fp);

size_t det_engine_count(const struct det_engine *e);

/* The active detectors' knowledge of host ip (describe hooks); false: none. */
bool det_engine_describe(const struct det_engine *e, uint8_t af,
    const uint8_t *ip, struct det_asset_info *out);

#endif
