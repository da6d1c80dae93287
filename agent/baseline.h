/*
 * baseline.h - what normal looked like: learned from traffic (--learn),
 * consulted by detectors (--baseline) through det_policy().
 */
#ifndef ICSENTRY_AGENT_BASELINE_H
#define ICSENTRY_AGENT_BASELINE_H

#include "detector.h"

struct baseline;

/* DET_UNSET when the baseline knows nothing about proto (never learned). */
enum det_verdict baseline_verdict(const struct baseline *b,
    enum ics_proto proto, enum det_role role, const struct det_endpoint *src);

#endif
