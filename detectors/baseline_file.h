/*
 * baseline_file.h - the baseline file (docs/baseline.md): load one into a
 * model, turn a model into its JSON text, write it atomically.
 */
#ifndef ICSENTRY_DETECTORS_BASELINE_FILE_H
#define ICSENTRY_DETECTORS_BASELINE_FILE_H

#include <stddef.h>

#include "detectors/baseline_model.h"

/* The last loading error: file, position and problem (one line). */
extern char bl_err[1200];

int bl_model_load(struct model *m, const char *path);
cJSON *bl_model_json(double window_s, struct model *m);
char *bl_model_text(const cJSON *root);
int bl_write_file(const char *path, const char *txt, char *err, size_t errlen);

#endif
