/* json.c - small cJSON helpers shared by the file loaders. */
#include "lib/json.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>

int
json_get_uint(const cJSON *o, const char *k, double lo, double hi, double dflt,
    double *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL) {
		if (dflt < 0) {
			snprintf(err, errlen, "missing member \"%s\"", k);
			return -1;
		}
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < lo || v->valuedouble > hi) {
		snprintf(err, errlen, "\"%s\": expected an integer %.0f..%.0f",
		    k, lo, hi);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}
