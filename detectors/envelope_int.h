/*
 * envelope_int.h - private to envelope.c and envelope_pts.c: the state of
 * the envelope detector (Modbus registers in envelope.c, DNP3 points and
 * IEC 104 IOAs in envelope_pts.c).
 */
#ifndef ICSENTRY_DETECTORS_ENVELOPE_INT_H
#define ICSENTRY_DETECTORS_ENVELOPE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "detectors/chantab.h"

struct det_ctx;
struct det_pdu;
struct cJSON;

struct envelope {
	struct chantab	 learn, det;	/* Modbus: "envelopes" */
	struct chantab	 plearn, pdet;	/* DNP3, IEC 104: "point_envelopes" */
	bool		 learning, detecting;
	uint32_t	 min_samples, min_writes, step_min;
	double		 step_factor, margin, float_step_min, read_margin;
	uint64_t	 quiet_us;
};

/* envelope_pts.c */
int evp_open(struct envelope *s, const char *lp, const char *fp, size_t max,
    char *err, size_t errlen);
void evp_pdu(struct envelope *s, struct det_ctx *ctx,
    const struct det_pdu *pdu);
uint64_t evp_points_full(const struct envelope *s);

#endif
