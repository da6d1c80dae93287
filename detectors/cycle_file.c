/*
 * cycle_file.c - the polling cycles in the baseline file (member
 * "cycles"): one object per channel, written by cy_dump and read back by
 * cy_load (docs/baseline.md).
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/chantab.h"
#include "detectors/cycle_int.h"

/* ---- the file -------------------------------------------------------- */

static int
cmp_sig(const void *a, const void *b)
{
	const struct cy_sig *x = a, *y = b;

	return x->sig < y->sig ? -1 : x->sig > y->sig;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static cJSON *
chan_json(struct cy_chan *c)
{
	cJSON *o = cJSON_CreateObject(), *arr, *e;
	char hex[20];
	uint16_t i;

	chantab_key_json(&c->k, o);
	cJSON_AddBoolToObject(o, "judged", c->judged);
	qsort(c->sig, c->nsig, sizeof(c->sig[0]), cmp_sig);
	qsort(c->tr, c->ntr, sizeof(c->tr[0]), cmp_u64);
	arr = cJSON_AddArrayToObject(o, "requests");
	for (i = 0; i < c->nsig; i++) {
		const struct cy_sig *g = &c->sig[i];

		e = cJSON_CreateObject();
		snprintf(hex, sizeof(hex), "%08x", g->sig);
		cJSON_AddStringToObject(e, "sig", hex);
		cJSON_AddStringToObject(e, "what", g->what);
		cJSON_AddNumberToObject(e, "ops", g->ops);
		cJSON_AddBoolToObject(e, "repeated", g->repeated);
		cJSON_AddNumberToObject(e, "min_gap_us", (double)g->min_gap);
		cJSON_AddNumberToObject(e, "max_gap_us", (double)g->max_gap);
		cJSON_AddItemToArray(arr, e);
	}
	if (c->sig_full)
		cJSON_AddBoolToObject(o, "requests_truncated", 1);
	arr = cJSON_AddArrayToObject(o, "transitions");
	for (i = 0; i < c->ntr; i++) {
		snprintf(hex, sizeof(hex), "%08x>%08x",
		    (uint32_t)(c->tr[i] >> 32), (uint32_t)c->tr[i]);
		cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
	}
	if (c->tr_full)
		cJSON_AddBoolToObject(o, "transitions_truncated", 1);
	return o;
}

static cJSON *
any_chan_json(void *c)
{
	return chan_json(c);
}

cJSON *
cy_dump(void *state)
{
	struct cycle *s = state;

	return chantab_json(&s->learn, NULL, any_chan_json);
}

static bool
hex32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	v = strtoul(s, &end, 16);
	if (end == s || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : 0;
}

static int
fill(void *ent, const cJSON *o)
{
	struct cy_chan *c = ent;
	const cJSON *r, *e;
	struct cy_sig *g;

	c->judged |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "judged"));
	c->sig_full |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "requests_truncated"));
	c->tr_full |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "transitions_truncated"));
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o,
	    "requests")) {
		uint32_t sig;
		uint64_t mn, mx;

		e = cJSON_GetObjectItemCaseSensitive(r, "sig");
		if (!cJSON_IsString(e) || !hex32(e->valuestring, &sig))
			return -1;
		if ((g = sig_add(c, sig)) == NULL)
			continue;
		g->ops |= (uint8_t)num(r, "ops");
		g->repeated |= cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(r, "repeated"));
		e = cJSON_GetObjectItemCaseSensitive(r, "what");
		if (cJSON_IsString(e))
			snprintf(g->what, sizeof(g->what), "%s",
			    e->valuestring);
		mn = (uint64_t)num(r, "min_gap_us");
		mx = (uint64_t)num(r, "max_gap_us");
		if (mn != 0 && (g->min_gap == 0 || mn < g->min_gap))
			g->min_gap = mn;
		if (mx > g->max_gap)
			g->max_gap = mx;
	}
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o,
	    "transitions")) {
		uint32_t a, b;
		char buf[24], *gt;

		if (!cJSON_IsString(r) || strlen(r->valuestring) >= sizeof(buf))
			return -1;
		snprintf(buf, sizeof(buf), "%s", r->valuestring);
		if ((gt = strchr(buf, '>')) == NULL)
			return -1;
		*gt = '\0';
		if (!hex32(buf, &a) || !hex32(gt + 1, &b))
			return -1;
		tr_add(c, a, b);
	}
	return 0;
}

int
cy_load(struct chantab *t, const cJSON *arr, const char *path, char *err,
    size_t errlen)
{
	return chantab_load(t, arr, fill, path, MEMBER, "polling cycle", err,
	    errlen);
}
