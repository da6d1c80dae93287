/*
 * testutil_schema.c - JSON Schema subset validator (see testutil_schema.h).
 */
#include "tests/testutil_schema.h"

#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const known[] = { "$schema", "$id", "title",
    "description", "type", "required", "properties", "additionalProperties",
    "enum", "const", "minimum", "maximum", "minLength", "pattern", "items",
    "minItems", NULL };

static bool
type_is(const cJSON *v, const char *t)
{
	if (strcmp(t, "object") == 0)
		return cJSON_IsObject(v);
	if (strcmp(t, "array") == 0)
		return cJSON_IsArray(v);
	if (strcmp(t, "string") == 0)
		return cJSON_IsString(v);
	if (strcmp(t, "number") == 0)
		return cJSON_IsNumber(v);
	if (strcmp(t, "integer") == 0)
		return cJSON_IsNumber(v) && floor(v->valuedouble) ==
		    v->valuedouble && fabs(v->valuedouble) < 9.1e18;
	if (strcmp(t, "boolean") == 0)
		return cJSON_IsBool(v);
	if (strcmp(t, "null") == 0)
		return cJSON_IsNull(v);
	return false;
}

static int
fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

static int
check(const cJSON *s, const cJSON *v, const char *path, char *err,
    size_t errlen)
{
	const cJSON *k, *e, *props, *addl;
	char sub[512], msg[300];
	bool ok;
	size_t i;

	if (cJSON_IsTrue(s))
		return 0;
	if (!cJSON_IsObject(s))
		return fail(err, errlen, path, "schema is not an object");
	cJSON_ArrayForEach(k, s) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], k->string) == 0)
				break;
		if (known[i] == NULL) {
			snprintf(msg, sizeof(msg), "schema keyword '%s' is not "
			    "supported", k->string);
			return fail(err, errlen, path, msg);
		}
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "type")) != NULL) {
		ok = false;
		if (cJSON_IsString(k))
			ok = type_is(v, k->valuestring);
		else
			cJSON_ArrayForEach(e, k)
				ok = ok || type_is(v, e->valuestring);
		if (!ok) {
			char *t = cJSON_PrintUnformatted(k);

			snprintf(msg, sizeof(msg), "not of type %s", t);
			cJSON_free(t);
			return fail(err, errlen, path, msg);
		}
	}
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "const")) != NULL &&
	    !cJSON_Compare(k, v, true))
		return fail(err, errlen, path, "differs from const");
	if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum")) != NULL) {
		ok = false;
		cJSON_ArrayForEach(e, k)
			ok = ok || cJSON_Compare(e, v, true);
		if (!ok)
			return fail(err, errlen, path, "not one of enum");
	}
	if (cJSON_IsNumber(v)) {
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minimum")) &&
		    v->valuedouble < k->valuedouble) {
			snprintf(msg, sizeof(msg), "%g < minimum %g",
			    v->valuedouble, k->valuedouble);
			return fail(err, errlen, path, msg);
		}
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "maximum")) &&
		    v->valuedouble > k->valuedouble) {
			snprintf(msg, sizeof(msg), "%g > maximum %g",
			    v->valuedouble, k->valuedouble);
			return fail(err, errlen, path, msg);
		}
	}
	if (cJSON_IsString(v)) {
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minLength")) &&
		    strlen(v->valuestring) < (size_t)k->valuedouble)
			return fail(err, errlen, path, "shorter than minLength");
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "pattern"))) {
			regex_t re;
			int rc;

			if (regcomp(&re, k->valuestring, REG_EXTENDED |
			    REG_NOSUB) != 0)
				return fail(err, errlen, path, "bad pattern");
			rc = regexec(&re, v->valuestring, 0, NULL, 0);
			regfree(&re);
			if (rc != 0) {
				snprintf(msg, sizeof(msg), "'%.80s' does not "
				    "match %s", v->valuestring,
				    k->valuestring);
				return fail(err, errlen, path, msg);
			}
		}
	}
	if (cJSON_IsArray(v)) {
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "minItems")) &&
		    cJSON_GetArraySize(v) < (int)k->valuedouble)
			return fail(err, errlen, path, "fewer than minItems");
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "items"))) {
			i = 0;
			cJSON_ArrayForEach(e, v) {
				snprintf(sub, sizeof(sub), "%s[%zu]", path, i++);
				if (check(k, e, sub, err, errlen) != 0)
					return -1;
			}
		}
	}
	if (cJSON_IsObject(v)) {
		if ((k = cJSON_GetObjectItemCaseSensitive(s, "required"))) {
			cJSON_ArrayForEach(e, k)
				if (!cJSON_HasObjectItem(v, e->valuestring)) {
					snprintf(msg, sizeof(msg), "missing "
					    "required member '%s'",
					    e->valuestring);
					return fail(err, errlen, path, msg);
				}
		}
		props = cJSON_GetObjectItemCaseSensitive(s, "properties");
		addl = cJSON_GetObjectItemCaseSensitive(s,
		    "additionalProperties");
		cJSON_ArrayForEach(e, v) {
			const cJSON *ps = props != NULL ?
			    cJSON_GetObjectItemCaseSensitive(props, e->string) :
			    NULL;

			snprintf(sub, sizeof(sub), "%s.%s", path, e->string);
			if (ps == NULL && cJSON_IsFalse(addl))
				return fail(err, errlen, sub,
				    "member not allowed");
			if (ps == NULL && addl != NULL && !cJSON_IsBool(addl))
				ps = addl;
			if (ps != NULL && check(ps, e, sub, err, errlen) != 0)
				return -1;
		}
	}
	return 0;
}

int
ts_validate(const cJSON *schema, const cJSON *v, char *err, size_t errlen)
{
	return check(schema, v, "$", err, errlen);
}
