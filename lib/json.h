/* json.h - small cJSON helpers shared by the file loaders. */
#ifndef ICSENTRY_LIB_JSON_H
#define ICSENTRY_LIB_JSON_H

#include <stddef.h>

struct cJSON;

/*
 * An integer member k of o in [lo, hi]; absent: *out = dflt, or an error
 * when dflt < 0.  Returns 0, or -1 with the problem in err ("missing
 * member \"unit\"", "\"unit\": expected an integer 0..255").
 */
int json_get_uint(const struct cJSON *o, const char *k, double lo, double hi,
    double dflt, double *out, char *err, size_t errlen);

#endif
