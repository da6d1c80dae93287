/*
 * intel_bundle.c - threat-intelligence bundles: canonical JSON (RFC 8785
 * subset), Ed25519 with OpenSSL 3 (EVP_PKEY_ED25519, EVP_DigestSign with
 * a NULL digest: Ed25519 hashes internally, RFC 8032), validation, and
 * the lookup tables built at apply time.  See intel_bundle.h.
 */
#include "lib/intel_bundle.h"

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

#define ED25519_RAW	32
#define ED25519_SIG	64
/* 2^53 - 1: the integers a double (and so cJSON and JCS) holds exactly */
#define JSON_INT_MAX	9007199254740991.0

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

struct sbuf {
	char	*p;
	size_t	 len, cap;
	bool	 oom;
};

static void
sb_put(struct sbuf *b, const void *data, size_t n)
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

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
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

	sb_put(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': sb_put(b, "\\\"", 2); break;
		case '\\': sb_put(b, "\\\\", 2); break;
		case '\b': sb_put(b, "\\b", 2); break;
		case '\f': sb_put(b, "\\f", 2); break;
		case '\n': sb_put(b, "\\n", 2); break;
		case '\r': sb_put(b, "\\r", 2); break;
		case '\t': sb_put(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				sb_put(b, esc, 6);
			} else
				sb_put(b, p, 1);
		}
	}
	sb_put(b, "\"", 1);
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
		sb_str(b, "null");
	else if (cJSON_IsTrue(v))
		sb_str(b, "true");
	else if (cJSON_IsFalse(v))
		sb_str(b, "false");
	else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d != d || d > JSON_INT_MAX || d < -JSON_INT_MAX ||
		    (double)(int64_t)d != d) {
			snprintf(err, errlen, "number %g is not an integer within "
			    "+-(2^53-1)", d);
			return IDS_EMALFORMED;
		}
		snprintf(num, sizeof(num), "%" PRId64, (int64_t)d);
		sb_str(b, num);
	} else if (cJSON_IsString(v)) {
		if (!utf8_valid((const unsigned char *)v->valuestring)) {
			snprintf(err, errlen, "a string is not valid UTF-8");
			return IDS_EMALFORMED;
		}
		sb_jstr(b, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		sb_put(b, "[", 1);
		for (c = v->child, i = 0; c != NULL; c = c->next, i++) {
			if (i > 0)
				sb_put(b, ",", 1);
			if ((rc = canon(b, c, depth + 1, err, errlen)) != 0)
				return rc;
		}
		sb_put(b, "]", 1);
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
		sb_put(b, "{", 1);
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0 && strcmp(kids[i - 1]->string, kids[i]->string) == 0) {
				snprintf(err, errlen, "member \"%s\" appears twice",
				    kids[i]->string);
				rc = IDS_EMALFORMED;
				break;
			}
			if (i > 0)
				sb_put(b, ",", 1);
			sb_jstr(b, kids[i]->string);
			sb_put(b, ":", 1);
			rc = canon(b, kids[i], depth + 1, err, errlen);
		}
		free(kids);
		if (rc != 0)
			return rc;
		sb_put(b, "}", 1);
	} else {
		snprintf(err, errlen, "invalid JSON value");
		return IDS_EMALFORMED;
	}
	return b->oom ? IDS_ENOMEM : 0;
}

static int
canon_tree(const cJSON *v, char **out, size_t *outlen, char *err,
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

static cJSON *
parse_json(const char *json, size_t len, char *err, size_t errlen)
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
	cJSON *v = parse_json(json, len, err, errlen);
	int rc;

	if (v == NULL)
		return IDS_EMALFORMED;
	rc = canon_tree(v, out, outlen, err, errlen);
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

static enum intel_status
bundle_from_tree(const cJSON *o, struct intel_bundle **out, char *err,
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
	v = parse_json(json, len, err, errlen);
	if (v == NULL)
		return INTEL_MALFORMED;
	/* refuses what has no single canonical form (duplicates, fractions) */
	if (canon_tree(v, &canonical, &clen, err, errlen) != 0) {
		cJSON_Delete(v);
		return INTEL_MALFORMED;
	}
	free(canonical);
	st = bundle_from_tree(v, out, err, errlen);
	cJSON_Delete(v);
	return st;
}

/* ---- keys -------------------------------------------------------------- */

struct intel_key {
	EVP_PKEY	*pkey;
	char		 id[INTEL_KEY_ID_LEN + 1];
};

struct intel_keyring {
	size_t		 n, cap;
	struct intel_key *k;
};

static int
key_id_of(EVP_PKEY *pkey, char id[INTEL_KEY_ID_LEN + 1])
{
	unsigned char raw[ED25519_RAW], md[SHA256_DIGEST_LENGTH];
	size_t rlen = sizeof(raw);
	int i;

	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rlen) != 1 ||
	    rlen != ED25519_RAW)
		return -1;
	SHA256(raw, rlen, md);
	for (i = 0; i < INTEL_KEY_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
intel_keygen(const char *path, char key_id[INTEL_KEY_ID_LEN + 1], char *err,
    size_t errlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	char pub[4096];
	FILE *fp = NULL;
	int fd = -1, rc = IDS_EIO;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub)) {
		snprintf(err, errlen, "%s: path too long", path);
		return IDS_EINVAL;
	}
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1 || key_id_of(pkey, key_id) != 0) {
		snprintf(err, errlen, "Ed25519 key generation failed");
		goto out;
	}
	/* never readable by others, not even for a moment */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "%s: cannot write the key", path);
		goto out;
	}
	fp = fopen(pub, "w");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", pub, strerror(errno));
		goto out;
	}
	if (PEM_write_PUBKEY(fp, pkey) != 1 || fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "%s: cannot write the public key", pub);
		goto out;
	}
	fp = NULL;
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

struct intel_keyring *
intel_keyring_new(void)
{
	return calloc(1, sizeof(struct intel_keyring));
}

void
intel_keyring_free(struct intel_keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->n; i++)
		EVP_PKEY_free(kr->k[i].pkey);
	free(kr->k);
	free(kr);
}

size_t
intel_keyring_count(const struct intel_keyring *kr)
{
	return kr != NULL ? kr->n : 0;
}

/* A PEM file with an Ed25519 public key, or a private key (then priv). */
static EVP_PKEY *
read_key(const char *path, bool want_private, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"");
	if (pkey == NULL && !want_private) {
		rewind(fp);
		pkey = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	}
	fclose(fp);
	if (pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM %s key", path,
		    want_private ? "private" : "public or private");
		return NULL;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

int
intel_keyring_add_file(struct intel_keyring *kr, const char *path, char *err,
    size_t errlen)
{
	struct intel_key k;

	k.pkey = read_key(path, false, err, errlen);
	if (k.pkey == NULL)
		return IDS_EIO;
	if (key_id_of(k.pkey, k.id) != 0) {
		snprintf(err, errlen, "%s: cannot read the public key", path);
		EVP_PKEY_free(k.pkey);
		return IDS_EINVAL;
	}
	if (kr->n == kr->cap) {
		size_t nc = kr->cap == 0 ? 4 : kr->cap * 2;
		struct intel_key *nk = realloc(kr->k, nc * sizeof(*nk));

		if (nk == NULL) {
			snprintf(err, errlen, "out of memory");
			EVP_PKEY_free(k.pkey);
			return IDS_ENOMEM;
		}
		kr->k = nk;
		kr->cap = nc;
	}
	kr->k[kr->n++] = k;
	return 0;
}

/* ---- sign / verify ---------------------------------------------------- */

static char *
b64_encode(const unsigned char *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Exactly want bytes from standard base64 with padding; -1 otherwise. */
static int
b64_decode(const char *in, unsigned char *out, size_t want)
{
	unsigned char buf[128];
	size_t n = strlen(in), pad = 0;
	int got;

	if (n == 0 || n % 4 != 0 || n > sizeof(buf) / 3 * 4)
		return -1;
	if (in[n - 1] == '=')
		pad++;
	if (in[n - 2] == '=')
		pad++;
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (got < 0 || (size_t)got - pad != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

/* Split a signed document into its bundle and signatures (may be NULL). */
static void
split_signed(const cJSON *doc, const cJSON **bundle, const cJSON **sigs)
{
	*bundle = NULL;
	*sigs = NULL;
	if (!cJSON_IsObject(doc))
		return;
	if (cJSON_GetObjectItemCaseSensitive(doc, "format") != NULL) {
		*bundle = doc;	/* a bare bundle: unsigned */
		return;
	}
	*bundle = cJSON_GetObjectItemCaseSensitive(doc, "bundle");
	*sigs = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
}

int
intel_sign(const char *json, size_t len, const char *key_path, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	const cJSON *bundle, *sigs, *s;
	struct intel_bundle *parsed = NULL;
	struct sbuf b = { NULL, 0, 0, false };
	unsigned char sig[ED25519_SIG];
	size_t clen, siglen = sizeof(sig), slen;
	char *canonical = NULL, *b64 = NULL, *sc = NULL, id[INTEL_KEY_ID_LEN + 1];
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	cJSON *doc;
	int rc = IDS_EMALFORMED;

	doc = parse_json(json, len, err, errlen);
	if (doc == NULL)
		return IDS_EMALFORMED;
	split_signed(doc, &bundle, &sigs);
	if (bundle == NULL || (sigs != NULL && !cJSON_IsArray(sigs))) {
		snprintf(err, errlen, "neither a bundle (\"format\") nor a signed "
		    "bundle (\"bundle\", \"signatures\")");
		goto out;
	}
	if (canon_tree(bundle, &canonical, &clen, err, errlen) != 0 ||
	    bundle_from_tree(bundle, &parsed, err, errlen) != INTEL_OK)
		goto out;
	pkey = read_key(key_path, true, err, errlen);
	if (pkey == NULL) {
		rc = IDS_EIO;
		goto out;
	}
	if (key_id_of(pkey, id) != 0)
		goto out;
	md = EVP_MD_CTX_new();
	/* Ed25519 is "pure": no digest, one shot over the message */
	if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)canonical,
	    clen) != 1 || siglen != ED25519_SIG) {
		snprintf(err, errlen, "Ed25519 signing failed");
		rc = IDS_EIO;
		goto out;
	}
	b64 = b64_encode(sig, siglen);
	if (b64 == NULL)
		goto nomem;
	sb_str(&b, "{\"bundle\":");
	sb_put(&b, canonical, clen);
	sb_str(&b, ",\"signatures\":[");
	if (sigs != NULL)
		for (s = sigs->child; s != NULL; s = s->next) {
			const cJSON *kid = cJSON_GetObjectItemCaseSensitive(s, "key_id");

			if (cJSON_IsString(kid) && strcmp(kid->valuestring, id) == 0) {
				snprintf(err, errlen, "already signed by key %s", id);
				rc = IDS_EINVAL;
				goto out;
			}
			if (canon_tree(s, &sc, &slen, err, errlen) != 0)
				goto out;
			sb_put(&b, sc, slen);
			sb_put(&b, ",", 1);
			free(sc);
			sc = NULL;
		}
	sb_str(&b, "{\"alg\":\"ed25519\",\"key_id\":\"");
	sb_str(&b, id);
	sb_str(&b, "\",\"sig\":\"");
	sb_str(&b, b64);
	sb_str(&b, "\"}]}\n");
	if (b.oom)
		goto nomem;
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = IDS_ENOMEM;
out:
	free(b.p);
	free(sc);
	free(b64);
	free(canonical);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	intel_bundle_free(parsed);
	cJSON_Delete(doc);
	return rc;
}

static bool
sig_verifies(EVP_PKEY *pkey, const unsigned char *sig, const char *msg,
    size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, ED25519_SIG, (const unsigned char *)msg,
	    len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

enum intel_status
intel_verify(const char *data, size_t len, const struct intel_keyring *kr,
    int64_t now_us, struct intel_bundle **out, char *err, size_t errlen)
{
	const cJSON *bundle, *sigs, *s;
	enum intel_status st = INTEL_MALFORMED;
	char *canonical = NULL, ts[32];
	const char *by = NULL;
	size_t clen, i, nsig = 0;
	unsigned char sig[ED25519_SIG];
	cJSON *doc;

	*out = NULL;
	doc = parse_json(data, len, err, errlen);
	if (doc == NULL)
		return INTEL_MALFORMED;
	/* the envelope must have one reading too (no twin "bundle") */
	if (cJSON_IsObject(doc)) {
		const cJSON *x, *y;

		for (x = doc->child; x != NULL; x = x->next)
			for (y = x->next; y != NULL; y = y->next)
				if (strcmp(x->string, y->string) == 0) {
					snprintf(err, errlen, "member \"%s\" appears twice",
					    x->string);
					goto out;
				}
	}
	split_signed(doc, &bundle, &sigs);
	if (bundle == NULL) {
		snprintf(err, errlen, "not a signed bundle (no \"bundle\" member)");
		goto out;
	}
	if (sigs == NULL || !cJSON_IsArray(sigs) || sigs->child == NULL) {
		snprintf(err, errlen, "the bundle carries no signature");
		st = INTEL_UNSIGNED;
		goto out;
	}
	if (canon_tree(bundle, &canonical, &clen, err, errlen) != 0)
		goto out;
	for (s = sigs->child; s != NULL && by == NULL; s = s->next) {
		const cJSON *alg = cJSON_GetObjectItemCaseSensitive(s, "alg");
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(s, "key_id");
		const cJSON *sv = cJSON_GetObjectItemCaseSensitive(s, "sig");

		nsig++;
		if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ed25519") != 0 ||
		    !cJSON_IsString(kid) || !cJSON_IsString(sv) ||
		    b64_decode(sv->valuestring, sig, sizeof(sig)) != 0)
			continue;
		for (i = 0; kr != NULL && i < kr->n; i++)
			if (strcmp(kr->k[i].id, kid->valuestring) == 0 &&
			    sig_verifies(kr->k[i].pkey, sig, canonical, clen)) {
				by = kr->k[i].id;
				break;
			}
	}
	if (by == NULL) {
		snprintf(err, errlen, "none of its %zu signature(s) verifies with "
		    "the %zu key(s) held", nsig, intel_keyring_count(kr));
		st = INTEL_BADSIG;
		goto out;
	}
	st = bundle_from_tree(bundle, out, err, errlen);
	if (st != INTEL_OK)
		goto out;
	snprintf((*out)->key_id, sizeof((*out)->key_id), "%s", by);
	if ((*out)->expires_us != 0 && (*out)->expires_us <= now_us) {
		snprintf(err, errlen, "version %" PRIu64 " expired at %s",
		    (*out)->version, rfc3339_format((uint64_t)((*out)->expires_us), ts,
		    sizeof(ts)));
		intel_bundle_free(*out);
		*out = NULL;
		st = INTEL_EXPIRED;
	}
out:
	free(canonical);
	cJSON_Delete(doc);
	return st;
}

enum intel_status
intel_check_scope(const struct intel_bundle *b, const char *site,
    uint64_t applied_version, char *err, size_t errlen)
{
	if (b->site != NULL && (site == NULL || strcmp(b->site, site) != 0)) {
		snprintf(err, errlen, "version %" PRIu64 " is for site %s, this is "
		    "site %s", b->version, b->site, site != NULL ? site : "(none)");
		return INTEL_WRONG_SITE;
	}
	if (b->version <= applied_version) {
		snprintf(err, errlen, "version %" PRIu64 " is not newer than the "
		    "applied version %" PRIu64, b->version, applied_version);
		return INTEL_OLDER;
	}
	return INTEL_OK;
}

/* ---- lookup tables ------------------------------------------------------ */

/* One key space for every kind: the first byte is the kind. */
#define KEY_MAX		300

struct slot {
	const struct intel_indicator	*ind;	/* NULL: empty */
	uint32_t			 hash;
	uint32_t			 off;	/* into keys */
	uint16_t			 klen;
};

struct intel_set {
	struct slot	*slot;
	size_t		 mask, used, count;
	uint8_t		*keys;
	size_t		 klen, kcap;
	bool		 has[INTEL_NKIND];
	/*
	 * IPv4, so that traffic the indicators do not touch costs one array
	 * read, whatever the prefix lengths: per /16 block, the longest
	 * prefix of /0../16 covering it, and a bit per length 17..32 (bit
	 * L - 17) that has an entry inside the block (then a hash probe per
	 * such length, longest first).  640 KiB, only with IPv4 indicators.
	 */
	const struct intel_indicator **short4;	/* [65536] */
	uint16_t	*lens4;			/* [65536] */
	/* IPv6 prefix lengths present, longest first */
	uint8_t		 bits6[129];
	size_t		 nbits6;
};

static uint32_t
khash(const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static const struct intel_indicator *
lookup(const struct intel_set *s, const uint8_t *k, size_t n)
{
	uint32_t h = khash(k, n);
	size_t i = h & s->mask;

	for (; s->slot[i].ind != NULL; i = (i + 1) & s->mask)
		if (s->slot[i].hash == h && s->slot[i].klen == n &&
		    memcmp(s->keys + s->slot[i].off, k, n) == 0)
			return s->slot[i].ind;
	return NULL;
}

static int
insert(struct intel_set *s, const uint8_t *k, size_t n,
    const struct intel_indicator *ind)
{
	const struct intel_indicator *old;
	uint32_t h;
	size_t i;

	old = lookup(s, k, n);
	if (old != NULL) {
		/* two bundles (fleet, site) name the same thing: keep the worse */
		if (ind->severity > old->severity) {
			h = khash(k, n);
			for (i = h & s->mask; s->slot[i].ind != old;
			    i = (i + 1) & s->mask)
				;
			s->slot[i].ind = ind;
		}
		return 0;
	}
	if (s->klen + n > s->kcap) {
		size_t nc = s->kcap == 0 ? 4096 : s->kcap;
		uint8_t *nk;

		while (nc < s->klen + n)
			nc *= 2;
		nk = realloc(s->keys, nc);
		if (nk == NULL)
			return -1;
		s->keys = nk;
		s->kcap = nc;
	}
	memcpy(s->keys + s->klen, k, n);
	h = khash(k, n);
	for (i = h & s->mask; s->slot[i].ind != NULL; i = (i + 1) & s->mask)
		;
	s->slot[i].ind = ind;
	s->slot[i].hash = h;
	s->slot[i].off = (uint32_t)s->klen;
	s->slot[i].klen = (uint16_t)n;
	s->klen += n;
	s->used++;
	return 0;
}

static size_t
key_ip(uint8_t *k, uint8_t kind, int af, uint8_t bits, const uint8_t *addr)
{
	size_t alen = af == 4 ? 4 : 16;

	k[0] = kind;
	k[1] = (uint8_t)af;
	k[2] = bits;
	memcpy(k + 3, addr, alen);
	return 3 + alen;
}

static size_t
key_port(uint8_t *k, uint8_t transport, uint16_t port)
{
	k[0] = INTEL_PORT;
	k[1] = transport;
	k[2] = (uint8_t)(port >> 8);
	k[3] = (uint8_t)port;
	return 4;
}

static size_t
key_code(uint8_t *k, uint8_t kind, const char *proto, uint32_t code)
{
	size_t n = strlen(proto);

	if (n > 15)
		n = 15;
	k[0] = kind;
	memcpy(k + 1, proto, n);
	k[1 + n] = '\0';
	k[2 + n] = (uint8_t)(code >> 24);
	k[3 + n] = (uint8_t)(code >> 16);
	k[4 + n] = (uint8_t)(code >> 8);
	k[5 + n] = (uint8_t)code;
	return 6 + n;
}

/* Enter an IPv4 prefix into the per-/16 tables. */
static int
add_v4(struct intel_set *s, const struct intel_indicator *ind)
{
	uint32_t top = (uint32_t)ind->addr[0] << 8 | ind->addr[1], i, span;

	if (s->short4 == NULL) {
		s->short4 = calloc(65536, sizeof(*s->short4));
		s->lens4 = calloc(65536, sizeof(*s->lens4));
		if (s->short4 == NULL || s->lens4 == NULL)
			return -1;
	}
	if (ind->bits > 16) {
		s->lens4[top] |= (uint16_t)(1u << (ind->bits - 17));
		return 0;
	}
	/* every /16 block the prefix covers; a longer prefix wins, then the
	 * more severe one */
	span = 1u << (16 - ind->bits);
	top &= ~(span - 1);
	for (i = top; i < top + span; i++) {
		const struct intel_indicator *o = s->short4[i];

		if (o == NULL || o->bits < ind->bits ||
		    (o->bits == ind->bits && o->severity < ind->severity))
			s->short4[i] = ind;
	}
	return 0;
}

static int
add_indicator(struct intel_set *s, const struct intel_indicator *ind)
{
	uint8_t k[KEY_MAX];
	size_t n;

	switch (ind->kind) {
	case INTEL_IP:
	case INTEL_CIDR:
		/* an address is a /32 (/128) prefix: same table, same probe */
		n = key_ip(k, INTEL_CIDR, ind->af, ind->bits, ind->addr);
		if (ind->af == 4) {
			if (add_v4(s, ind) != 0)
				return -1;
			if (ind->bits <= 16) {
				/* short4 answers it; no hash entry needed */
				s->has[INTEL_IP] = true;
				return 0;
			}
		} else
			s->bits6[ind->bits] = 1;
		break;
	case INTEL_MAC:
		k[0] = INTEL_MAC;
		memcpy(k + 1, ind->mac, 6);
		n = 7;
		break;
	case INTEL_DOMAIN:
		n = strlen(ind->value);
		k[0] = INTEL_DOMAIN;
		memcpy(k + 1, ind->value, n);
		n++;
		break;
	case INTEL_PORT:
		if (ind->transport == 0) {
			n = key_port(k, 6, ind->port);
			if (insert(s, k, n, ind) != 0)
				return -1;
			n = key_port(k, 17, ind->port);
		} else
			n = key_port(k, ind->transport, ind->port);
		break;
	case INTEL_FUNCTION:
	case INTEL_DEVICE:
		n = key_code(k, (uint8_t)ind->kind, ind->proto, ind->code);
		break;
	default:
		return 0;
	}
	s->has[ind->kind == INTEL_CIDR ? INTEL_IP : ind->kind] = true;
	return insert(s, k, n, ind);
}

struct intel_set *
intel_set_build(const struct intel_bundle *const *b, size_t n, int64_t now_us)
{
	struct intel_set *s;
	size_t total = 0, cap = 16, i, j;
	int bits;

	for (i = 0; i < n; i++)
		if (b[i] != NULL)
			total += b[i]->nind;
	/* ports may take two slots: keep the load under one half */
	while (cap < 4 * total + 16)
		cap *= 2;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL) {
		free(s);
		return NULL;
	}
	s->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if (b[i] == NULL)
			continue;
		for (j = 0; j < b[i]->nind; j++) {
			const struct intel_indicator *ind = &b[i]->ind[j];

			if (ind->expires_us != 0 && ind->expires_us <= now_us)
				continue;
			if (add_indicator(s, ind) != 0) {
				intel_set_free(s);
				return NULL;
			}
			s->count++;
		}
	}
	for (bits = 128; bits >= 0; bits--)
		if (s->bits6[bits])
			s->bits6[s->nbits6++] = (uint8_t)bits;
	return s;
}

void
intel_set_free(struct intel_set *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s->keys);
	free(s->short4);
	free(s->lens4);
	free(s);
}

size_t
intel_set_count(const struct intel_set *s)
{
	return s != NULL ? s->count : 0;
}

bool
intel_set_has(const struct intel_set *s, enum intel_kind k)
{
	if (s == NULL || (unsigned)k >= INTEL_NKIND)
		return false;
	return s->has[k == INTEL_CIDR ? INTEL_IP : k];
}

static void
mask_addr(uint8_t *m, const uint8_t *addr, size_t alen, unsigned bits)
{
	size_t j;

	for (j = 0; j < alen; j++) {
		unsigned keep = bits >= 8 * (j + 1) ? 8 :
		    bits > 8 * j ? (unsigned)(bits - 8 * j) : 0;

		m[j] = addr[j] & (uint8_t)(0xff00u >> keep);
	}
}

const struct intel_indicator *
intel_match_ip(const struct intel_set *s, int af, const uint8_t *addr)
{
	const struct intel_indicator *ind;
	uint8_t k[KEY_MAX], m[16];
	unsigned top, lens, bits;
	size_t i;

	if (s == NULL || !s->has[INTEL_IP])
		return NULL;
	if (af == 4) {
		if (s->short4 == NULL)
			return NULL;
		top = (unsigned)addr[0] << 8 | addr[1];
		/* lengths 17..32 inside this /16, longest first */
		for (lens = s->lens4[top]; lens != 0; lens &= ~(1u << (bits - 17))) {
			bits = 17 + (31 - (unsigned)__builtin_clz(lens));
			mask_addr(m, addr, 4, bits);
			ind = lookup(s, k, key_ip(k, INTEL_CIDR, 4, (uint8_t)bits, m));
			if (ind != NULL)
				return ind;
		}
		return s->short4[top];
	}
	/* IPv6: one probe per prefix length present, longest first */
	for (i = 0; i < s->nbits6; i++) {
		mask_addr(m, addr, 16, s->bits6[i]);
		ind = lookup(s, k, key_ip(k, INTEL_CIDR, af, s->bits6[i], m));
		if (ind != NULL)
			return ind;
	}
	return NULL;
}

const struct intel_indicator *
intel_match_mac(const struct intel_set *s, const uint8_t mac[6])
{
	uint8_t k[7];

	if (s == NULL || !s->has[INTEL_MAC])
		return NULL;
	k[0] = INTEL_MAC;
	memcpy(k + 1, mac, 6);
	return lookup(s, k, sizeof(k));
}

const struct intel_indicator *
intel_match_port(const struct intel_set *s, uint8_t transport, uint16_t port)
{
	uint8_t k[4];

	if (s == NULL || !s->has[INTEL_PORT])
		return NULL;
	return lookup(s, k, key_port(k, transport, port));
}

const struct intel_indicator *
intel_match_domain(const struct intel_set *s, const char *name)
{
	const struct intel_indicator *ind;
	uint8_t k[KEY_MAX];
	char low[256];
	size_t n = strlen(name), i;

	if (s == NULL || !s->has[INTEL_DOMAIN] || n == 0 || n > 254)
		return NULL;
	if (name[n - 1] == '.')
		n--;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	/* the name, then each parent: a.b.evil.example, b.evil.example ... */
	k[0] = INTEL_DOMAIN;
	for (i = 0; i < n; i++) {
		if (i > 0 && low[i - 1] != '.')
			continue;
		memcpy(k + 1, low + i, n - i);
		ind = lookup(s, k, 1 + n - i);
		if (ind != NULL)
			return ind;
	}
	return NULL;
}

const struct intel_indicator *
intel_match_function(const struct intel_set *s, const char *proto,
    uint32_t code)
{
	uint8_t k[32];

	if (s == NULL || !s->has[INTEL_FUNCTION])
		return NULL;
	return lookup(s, k, key_code(k, INTEL_FUNCTION, proto, code));
}

const struct intel_indicator *
intel_match_device(const struct intel_set *s, const char *proto, uint32_t id)
{
	uint8_t k[32];

	if (s == NULL || !s->has[INTEL_DEVICE])
		return NULL;
	return lookup(s, k, key_code(k, INTEL_DEVICE, proto, id));
}
