/*
 * baseline_l2.h - the layer-2 part of the learned baseline (issue 16):
 * IEC 61850 GOOSE control blocks and SV streams (publisher MACs, APPID,
 * datSet, goID, confRev, how often the state number moves) and PROFINET
 * DCP stations (name of station, type, vendor/device id per MAC).
 * baseline.c learns and detects through it; baseline_file.c keeps it in
 * the baseline file's l2_goose, l2_sv and l2_dcp members, one entry per
 * line (docs/baseline.md).
 *
 *   baseline.l2_new_stream     a GOOSE gocbRef or SV svID never learned T0856
 *   baseline.l2_new_publisher  a learned stream from a MAC that never
 *                              published it                            T0856
 *   baseline.l2_changed        APPID, datSet, goID or confRev of a stream
 *                              (T0856), or a DCP station's name or type
 *                              (T0849), differs from the learned one
 *   baseline.l2_new_station    a DCP station (MAC) never learned       T0846
 *   baseline.l2_state_rate     GOOSE stNum changes in one rate window
 *                              above rate_factor x the learned maximum
 *                              (and at least 3 more)                   T0806
 *
 * Bounded: at most BL_L2_MAX entries per model; what does not fit is
 * counted.  Per PDU one hash probe.
 */
#ifndef ICSENTRY_DETECTORS_BASELINE_L2_H
#define ICSENTRY_DETECTORS_BASELINE_L2_H

#include <stddef.h>
#include <stdint.h>

#define BL_L2_MAX	4096

struct cJSON;
struct det_ctx;
struct det_pdu;
struct bl_l2;

struct bl_l2 *bl_l2_new(void);
void bl_l2_free(struct bl_l2 *l);

/* Learning: fold a GOOSE, SV or DCP PDU into l (window: rate_window). */
void bl_l2_learn(struct bl_l2 *l, const struct det_pdu *pdu,
    uint64_t window_us);

/* Detection against the learned det (its runtime state moves). */
void bl_l2_detect(struct bl_l2 *det, struct det_ctx *ctx,
    const struct det_pdu *pdu, uint64_t window_us, double factor);

/* Add l2_goose, l2_sv, l2_dcp to the file's root object (0, -1 out of
 * memory), and read them back from it (absent: nothing learned there);
 * 0 or -1 with err ("l2_goose[3]: bad MAC address").  */
int bl_l2_json(const struct bl_l2 *l, struct cJSON *root);
int bl_l2_load(struct bl_l2 *l, const struct cJSON *root, char *err,
    size_t errlen);

/* Entries kept, and those turned away by BL_L2_MAX. */
uint32_t bl_l2_count(const struct bl_l2 *l);
uint64_t bl_l2_dropped(const struct bl_l2 *l);

#endif
