/*
 * intel_bundle.c - threat-intelligence bundles: canonical JSON (RFC 8785
 * subset), Ed25519 with OpenSSL 3 (EVP_PKEY_ED25519, EVP_DigestSign with
 * a NULL digest: Ed25519 hashes internally, RFC 8032), validation, and
 * the lookup tables built at apply time.  See intel_bundle.h.
 */

#include "lib/intel_bundle.h"
#include "lib/intel_bundle_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "lib/ids.h"
#include "lib/rfc3339.h"

static const char *const kind_names[INTEL_NKIND] = {
	"ip", "cidr", "mac", "domain", "port", "function", "device"
};

const char *
intel_kind_name(enum intel_kind k)
{
	return (unsigned)k < INTEL_NKIND ? kind_names[k] : NULL;
}

int
intel_kind_parse(const char *name)
{
	int i;

	for (i = 0; i < INTEL_NKIND; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
intel_status_name(enum intel_status s)
{
	switch (s) {
	case INTEL_OK: return "ok";
	case INTEL_MALFORMED: return "malformed";
	case INTEL_UNSIGNED: return "unsigned";
	case INTEL_BADSIG: return "bad-signature";
	case INTEL_EXPIRED: return "expired";
	case INTEL_OLDER: return "older-version";
	case INTEL_WRONG_SITE: return "wrong-site";
	}
	return "?";
}

static const char *const sev_names[] = {
	"info", "low", "medium", "high", "critical"
};

static int
sev_parse(const char *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

/* ---- time ------------------------------------------------------------- */

int64_t
intel_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- canonical JSON (RFC 8785 subset) ---------------------------------- */

void
intel_sb_put(struct sbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap == 0 ? 256 : b->cap;
		char *np;

		while (nc < b->len + n + 1)
			nc *= 2;
		np = realloc(b->p, nc);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
intel_sb_str(struct sbuf *b, const char *s)
{
	intel_sb_put(b, s, strlen(s));
}

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? */
static bool
utf8_valid(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned c = *s, n, cp, i;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return false;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static void
sb_jstr(struct sbuf *b, const char *s)
{
	const unsigned char *p;
	char esc[8];

	intel_sb_put(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': intel_sb_put(b, "\\\"", 2); break;
		case '\\': intel_sb_put(b, "\\\\", 2); break;
		case '\b': intel_sb_put(b, "\\b", 2); break;
		case '\f': intel_sb_put(b, "\\f", 2); break;
		case '\n': intel_sb_put(b, "\\n", 2); break;
		case '\r': intel_sb_put(b, "\\r", 2); break;
		case '\t': intel_sb_put(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				intel_sb_put(b, esc, 6);
			} else
				intel_sb_put(b, p, 1);
		}
	}
	intel_sb_put(b, "\"", 1);
}

static int
name_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static int
canon(struct sbuf *b, const cJSON *v, int depth, char *err, size_t errlen)
{
	const cJSON *c;
	const cJSON **kids;
	size_t n, i;
	char num[32];
	int rc = 0;

	if (depth > 16) {
		snprintf(err, errlen, "nested deeper than 16 levels");
		return IDS_EMALFORMED;
	}
	if (cJSON_IsNull(v))
		intel_sb_str(b, "null");
	else if (cJSON_IsTrue(v))
		intel_sb_str(b, "true");
	else if (cJSON_IsFalse(v))
		intel_sb_str(b, "false");
	else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d != d || d > JSON_INT_MAX || d < -JSON_INT_MAX ||
		    (double)(int64_t)d != d) {
			snprintf(err, errlen, "number %g is not an integer within "
			    "+-(2^53-1)", d);
			return IDS_EMALFORMED;
		}
		snprintf(num, sizeof(num), "%" PRId64, (int64_t)d);
		intel_sb_str(b, num);
	} else if (cJSON_IsString(v)) {
		if (!utf8_valid((const unsigned char *)v->valuestring)) {
			snprintf(err, errlen, "a string is not valid UTF-8");
			return IDS_EMALFORMED;
		}
		sb_jstr(b, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		intel_sb_put(b, "[", 1);
		for (c = v->child, i = 0; c != NULL; c = c->next, i++) {
			if (i > 0)
				intel_sb_put(b, ",", 1);
			if ((rc = canon(b, c, depth + 1, err, errlen)) != 0)
				return rc;
		}
		intel_sb_put(b, "]", 1);
	} else if (cJSON_IsObject(v)) {
		for (c = v->child, n = 0; c != NULL; c = c->next)
			n++;
		kids = calloc(n + 1, sizeof(*kids));
		if (kids == NULL)
			return IDS_ENOMEM;
		for (c = v->child, i = 0; c != NULL; c = c->next) {
			const unsigned char *s = (const unsigned char *)c->string;

			for (; *s != '\0'; s++)
				if (*s >= 0x80) {
					snprintf(err, errlen, "member name \"%s\" is not ASCII",
					    c->string);
					free(kids);
					return IDS_EMALFORMED;
				}
			kids[i++] = c;
		}
		qsort(kids, n, sizeof(*kids), name_cmp);
		intel_sb_put(b, "{", 1);
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0 && strcmp(kids[i - 1]->string, kids[i]->string) == 0) {
				snprintf(err, errlen, "member \"%s\" appears twice",
				    kids[i]->string);
				rc = IDS_EMALFORMED;
				break;
			}
			if (i > 0)
				intel_sb_put(b, ",", 1);
			sb_jstr(b, kids[i]->string);
			intel_sb_put(b, ":", 1);
			rc = canon(b, kids[i], depth + 1, err, errlen);
		}
		free(kids);
		if (rc != 0)
			return rc;
		intel_sb_put(b, "}", 1);
	} else {
		snprintf(err, errlen, "invalid JSON value");
		return IDS_EMALFORMED;
	}
	return b->oom ? IDS_ENOMEM : 0;
}

int
intel_canon_tree(const cJSON *v, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct sbuf b = { NULL, 0, 0, false };
	int rc;

	rc = canon(&b, v, 0, err, errlen);
	if (rc != 0) {
		if (rc == IDS_ENOMEM)
			snprintf(err, errlen, "out of memory");
		free(b.p);
		return rc;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

cJSON *
intel_parse_json(const char *json, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *v;

	if (len > INTEL_MAX_BYTES) {
		snprintf(err, errlen, "larger than %u bytes", INTEL_MAX_BYTES);
		return NULL;
	}
	if (memchr(json, '\0', len) != NULL) {
		snprintf(err, errlen, "contains a NUL byte");
		return NULL;
	}
	v = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (v == NULL) {
		snprintf(err, errlen, "not JSON (at byte %zu)",
		    end != NULL && end >= json ? (size_t)(end - json) : (size_t)0);
		return NULL;
	}
	/* only white space may follow the value */
	if (end != NULL)
		for (; end < json + len; end++)
			if (!isspace((unsigned char)*end)) {
				snprintf(err, errlen, "text after the JSON value (at "
				    "byte %zu)", (size_t)(end - json));
				cJSON_Delete(v);
				return NULL;
			}
	return v;
}

int
intel_canonical(const char *json, size_t len, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	cJSON *v = intel_parse_json(json, len, err, errlen);
	int rc;

	if (v == NULL)
		return IDS_EMALFORMED;
	rc = intel_canon_tree(v, out, outlen, err, errlen);
	cJSON_Delete(v);
	return rc;
}

/* ---- bundle validation ------------------------------------------------ */

void
intel_bundle_free(struct intel_bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nind; i++) {
		free(b->ind[i].id);
		free(b->ind[i].value);
		free(b->ind[i].technique);
		free(b->ind[i].description);
	}
	for (i = 0; i < b->npol; i++) {
		free(b->pol[i].site);
		free(b->pol[i].key);
		free(b->pol[i].value);
	}
	free(b->ind);
	free(b->pol);
	free(b->site);
	free(b->comment);
	free(b);
}

/* A site or policy key: a topic level / INI key, nothing surprising. */
static bool
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-_.", s[i]) == NULL)
			return false;
	return true;
}

static bool
only_members(const cJSON *o, const char *const *allowed, const char *where,
    char *err, size_t errlen)
{
	const cJSON *c;
	size_t i;

	for (c = o->child; c != NULL; c = c->next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(c->string, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(err, errlen, "%s: unknown member \"%s\"", where,
			    c->string);
			return false;
		}
	}
	return true;
}

/* Optional string member: NULL when absent or null; *bad on a non-string. */
static const char *
opt_str(const cJSON *o, const char *name, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

static int
parse_code(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > 0xffffffffUL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Parse ind->value by kind into the binary fields.  0 or -1 with err. */
static int
parse_value(struct intel_indicator *ind, char *err, size_t errlen)
{
	char tmp[300], *slash, *colon, *end;
	const char *v = ind->value;
	unsigned m[6];
	unsigned long n;
	size_t i, len = strlen(v);

	if (len == 0 || len >= sizeof(tmp)) {
		snprintf(err, errlen, "empty or longer than %zu bytes",
		    sizeof(tmp) - 1);
		return -1;
	}
	memcpy(tmp, v, len + 1);
	switch (ind->kind) {
	case INTEL_IP:
		if (inet_pton(AF_INET, v, ind->addr) == 1)
			ind->af = 4, ind->bits = 32;
		else if (inet_pton(AF_INET6, v, ind->addr) == 1)
			ind->af = 6, ind->bits = 128;
		else
			goto bad;
		return 0;
	case INTEL_CIDR:
		slash = strchr(tmp, '/');
		if (slash == NULL)
			goto bad;
		*slash++ = '\0';
		if (inet_pton(AF_INET, tmp, ind->addr) == 1)
			ind->af = 4;
		else if (inet_pton(AF_INET6, tmp, ind->addr) == 1)
			ind->af = 6;
		else
			goto bad;
		errno = 0;
		n = strtoul(slash, &end, 10);
		if (!isdigit((unsigned char)*slash) || *end != '\0' ||
		    n > (ind->af == 4 ? 32u : 128u))
			goto bad;
		ind->bits = (uint8_t)n;
		/* host bits off: 10.9.1.2/16 is 10.9.0.0/16 */
		for (i = 0; i < 16; i++) {
			unsigned keep = n >= 8 * (i + 1) ? 8 :
			    n > 8 * i ? (unsigned)(n - 8 * i) : 0;

			ind->addr[i] &= (uint8_t)(0xff00u >> keep);
		}
		return 0;
	case INTEL_MAC:
		if (len != 17 || sscanf(v, "%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%*[:-]"
		    "%2x%*[:-]%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
			goto bad;
		for (i = 0; i < 6; i++)
			ind->mac[i] = (uint8_t)m[i];
		return 0;
	case INTEL_DOMAIN:
		if (tmp[len - 1] == '.')
			tmp[--len] = '\0';
		if (len == 0 || len > 253 || tmp[0] == '.')
			goto bad;
		for (i = 0; i < len; i++) {
			tmp[i] = (char)tolower((unsigned char)tmp[i]);
			if (!isalnum((unsigned char)tmp[i]) &&
			    strchr("-_.", tmp[i]) == NULL)
				goto bad;
			if (tmp[i] == '.' && i > 0 && tmp[i - 1] == '.')
				goto bad;
		}
		/* matched in lower case, so keep the normalised name */
		memcpy(ind->value, tmp, len + 1);
		return 0;
	case INTEL_PORT:
		end = tmp;
		if (strncasecmp(tmp, "tcp/", 4) == 0)
			ind->transport = 6, end += 4;
		else if (strncasecmp(tmp, "udp/", 4) == 0)
			ind->transport = 17, end += 4;
		if (!isdigit((unsigned char)*end))
			goto bad;
		errno = 0;
		n = strtoul(end, &slash, 10);
		if (*slash != '\0' || n == 0 || n > 65535)
			goto bad;
		ind->port = (uint16_t)n;
		return 0;
	case INTEL_FUNCTION:
	case INTEL_DEVICE:
		colon = strchr(tmp, ':');
		if (colon == NULL || colon == tmp ||
		    (size_t)(colon - tmp) >= sizeof(ind->proto))
			goto bad;
		*colon++ = '\0';
		for (i = 0; tmp[i] != '\0'; i++)
			tmp[i] = (char)tolower((unsigned char)tmp[i]);
		if (!name_ok(tmp, sizeof(ind->proto) - 1) ||
		    parse_code(colon, &ind->code) != 0)
			goto bad;
		/* name_ok bounded it to sizeof(proto) - 1 */
		memcpy(ind->proto, tmp, strlen(tmp) + 1);
		return 0;
	case INTEL_NKIND:
		break;
	}
bad:
	snprintf(err, errlen, "\"%s\" is not a valid %s", v,
	    intel_kind_name(ind->kind));
	return -1;
}

static char *
xstrdup(const char *s, bool *oom)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		*oom = true;
	return d;
}

static int
parse_indicator(const cJSON *o, size_t idx, uint64_t version,
    struct intel_indicator *ind, char *err, size_t errlen)
{
	static const char *const allowed[] = { "id", "type", "value",
	    "severity", "technique", "description", "expires", NULL };
	const char *id, *type, *value, *sev, *tech, *desc, *exp;
	char where[48], why[200];
	bool bad = false, oom = false;
	int k;

	snprintf(where, sizeof(where), "indicators[%zu]", idx);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -1;
	}
	if (!only_members(o, allowed, where, err, errlen))
		return -1;
	id = opt_str(o, "id", &bad);
	type = opt_str(o, "type", &bad);
	value = opt_str(o, "value", &bad);
	sev = opt_str(o, "severity", &bad);
	tech = opt_str(o, "technique", &bad);
	desc = opt_str(o, "description", &bad);
	exp = opt_str(o, "expires", &bad);
	if (bad) {
		snprintf(err, errlen, "%s: a member is not a string", where);
		return -1;
	}
	if (id == NULL || id[0] == '\0' || strlen(id) > 128) {
		snprintf(err, errlen, "%s: \"id\" missing or longer than 128", where);
		return -1;
	}
	if (type == NULL || (k = intel_kind_parse(type)) < 0) {
		snprintf(err, errlen, "%s (%s): \"type\" must be one of ip, cidr, "
		    "mac, domain, port, function, device", where, id);
		return -1;
	}
	if (value == NULL) {
		snprintf(err, errlen, "%s (%s): \"value\" missing", where, id);
		return -1;
	}
	ind->kind = (enum intel_kind)k;
	ind->severity = 3;	/* high: the SOC named it a threat */
	if (sev != NULL && (ind->severity = sev_parse(sev)) < 0) {
		snprintf(err, errlen, "%s (%s): severity \"%s\" is not info, low, "
		    "medium, high or critical", where, id, sev);
		return -1;
	}
	if (tech != NULL && (tech[0] != 'T' || strlen(tech) > 16)) {
		snprintf(err, errlen, "%s (%s): technique \"%s\" is not an ATT&CK "
		    "id (T0846)", where, id, tech);
		return -1;
	}
	if (exp != NULL && rfc3339_parse_any(exp, &ind->expires_us) != 0) {
		snprintf(err, errlen, "%s (%s): expires \"%s\" is not RFC 3339",
		    where, id, exp);
		return -1;
	}
	ind->version = version;
	ind->id = xstrdup(id, &oom);
	ind->value = xstrdup(value, &oom);
	ind->description = xstrdup(desc, &oom);
	if (tech != NULL)
		ind->technique = xstrdup(tech, &oom);
	if (oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (parse_value(ind, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s (%s): value %s", where, id, why);
		return -1;
	}
	return 0;
}

static int
parse_policy(const cJSON *o, size_t idx, struct intel_policy *p, char *err,
    size_t errlen)
{
	static const char *const allowed[] = { "site", "key", "value", NULL };
	const char *site, *key, *value;
	char where[48];
	bool bad = false, oom = false;

	snprintf(where, sizeof(where), "policy[%zu]", idx);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -1;
	}
	if (!only_members(o, allowed, where, err, errlen))
		return -1;
	site = opt_str(o, "site", &bad);
	key = opt_str(o, "key", &bad);
	value = opt_str(o, "value", &bad);
	if (bad || key == NULL || value == NULL || !name_ok(key, 64) ||
	    (site != NULL && !name_ok(site, 64))) {
		snprintf(err, errlen, "%s: needs string \"key\" and \"value\" "
		    "(and an optional \"site\" name)", where);
		return -1;
	}
	if (site != NULL)
		p->site = xstrdup(site, &oom);
	p->key = xstrdup(key, &oom);
	p->value = xstrdup(value, &oom);
	if (oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	const struct intel_indicator *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

enum intel_status
intel_bundle_from_tree(const cJSON *o, struct intel_bundle **out, char *err,
    size_t errlen)
{
	static const char *const allowed[] = { "format", "version", "issued",
	    "expires", "site", "comment", "indicators", "policy", NULL };
	const cJSON *fmt, *ver, *inds, *pols, *c;
	const char *issued, *expires, *site, *comment;
	struct intel_indicator **sorted = NULL;
	struct intel_bundle *b;
	bool bad = false, oom = false;
	size_t i;

	*out = NULL;
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "a bundle is a JSON object");
		return INTEL_MALFORMED;
	}
	if (!only_members(o, allowed, "bundle", err, errlen))
		return INTEL_MALFORMED;
	fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
	if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, INTEL_FORMAT) != 0) {
		snprintf(err, errlen, "\"format\" is not \"%s\"", INTEL_FORMAT);
		return INTEL_MALFORMED;
	}
	ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	if (!cJSON_IsNumber(ver) || ver->valuedouble < 1 ||
	    ver->valuedouble > JSON_INT_MAX ||
	    (double)(int64_t)ver->valuedouble != ver->valuedouble) {
		snprintf(err, errlen, "\"version\" must be an integer >= 1");
		return INTEL_MALFORMED;
	}
	issued = opt_str(o, "issued", &bad);
	expires = opt_str(o, "expires", &bad);
	site = opt_str(o, "site", &bad);
	comment = opt_str(o, "comment", &bad);
	if (bad) {
		snprintf(err, errlen, "issued, expires, site and comment are strings "
		    "(or null)");
		return INTEL_MALFORMED;
	}
	if (site != NULL && !name_ok(site, 64)) {
		snprintf(err, errlen, "\"site\" \"%s\" is not a site name", site);
		return INTEL_MALFORMED;
	}
	inds = cJSON_GetObjectItemCaseSensitive(o, "indicators");
	pols = cJSON_GetObjectItemCaseSensitive(o, "policy");
	if (!cJSON_IsArray(inds) || (pols != NULL && !cJSON_IsArray(pols))) {
		snprintf(err, errlen, "\"indicators\" (and \"policy\") must be "
		    "arrays");
		return INTEL_MALFORMED;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto nomem;
	b->version = (uint64_t)ver->valuedouble;
	if ((issued != NULL && rfc3339_parse_any(issued, &b->issued_us) != 0) ||
	    (expires != NULL && rfc3339_parse_any(expires, &b->expires_us) != 0)) {
		snprintf(err, errlen, "\"issued\"/\"expires\" are not RFC 3339 times");
		goto fail;
	}
	if (site != NULL)
		b->site = xstrdup(site, &oom);
	b->comment = xstrdup(comment, &oom);
	if (oom)
		goto nomem;
	b->nind = (size_t)cJSON_GetArraySize(inds);
	b->ind = calloc(b->nind + 1, sizeof(*b->ind));
	if (b->ind == NULL)
		goto nomem;
	for (c = inds->child, i = 0; c != NULL; c = c->next, i++)
		if (parse_indicator(c, i, b->version, &b->ind[i], err, errlen) != 0) {
			b->nind = i + 1;	/* free what was filled */
			goto fail;
		}
	if (pols != NULL) {
		b->npol = (size_t)cJSON_GetArraySize(pols);
		b->pol = calloc(b->npol + 1, sizeof(*b->pol));
		if (b->pol == NULL)
			goto nomem;
		for (c = pols->child, i = 0; c != NULL; c = c->next, i++)
			if (parse_policy(c, i, &b->pol[i], err, errlen) != 0) {
				b->npol = i + 1;
				goto fail;
			}
	}
	/* alerts name an indicator by id: ids must be unique */
	sorted = calloc(b->nind + 1, sizeof(*sorted));
	if (sorted == NULL)
		goto nomem;
	for (i = 0; i < b->nind; i++)
		sorted[i] = &b->ind[i];
	qsort(sorted, b->nind, sizeof(*sorted), id_cmp);
	for (i = 1; i < b->nind; i++)
		if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0) {
			snprintf(err, errlen, "indicator id \"%s\" appears twice",
			    sorted[i]->id);
			free(sorted);
			goto fail;
		}
	free(sorted);
	*out = b;
	return INTEL_OK;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	intel_bundle_free(b);
	return INTEL_MALFORMED;
}

enum intel_status
intel_bundle_parse(const char *json, size_t len, struct intel_bundle **out,
    char *err, size_t errlen)
{
	enum intel_status st;
	char *canonical;
	size_t clen;
	cJSON *v;

	*out = NULL;
	v = intel_parse_json(json, len, err, errlen);
	if (v == NULL)
		return INTEL_MALFORMED;
	/* refuses what has no single canonical form (duplicates, fractions) */
	if (intel_canon_tree(v, &canonical, &clen, err, errlen) != 0) {
		cJSON_Delete(v);
		return INTEL_MALFORMED;
	}
	free(canonical);
	st = intel_bundle_from_tree(v, out, err, errlen);
	cJSON_Delete(v);
	return st;
}
