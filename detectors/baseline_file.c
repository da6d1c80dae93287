/*
 * baseline_file.c - loading and writing the baseline file
 * (docs/baseline.md).  A file is read whole, checked member by member
 * (errors name the file, the position and the problem) and merged into a
 * model; a model is written sorted, so the same traffic gives the same
 * bytes.
 */
#include "detectors/baseline_file.h"
#include "detectors/baseline_l2.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detectors/inventory.h"
#include "lib/atomic.h"
#include "lib/ids.h"
#include "lib/json.h"
#include "lib/rfc3339.h"

char bl_err[1200];

/* ---- loading ------------------------------------------------------------------ */

struct loader {
	const char	*path;
	char		 where[96];
};

static int fail(const struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(const struct loader *ld, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->where[0] != '\0')
		snprintf(bl_err, sizeof(bl_err), "%s: %s: %s", ld->path, ld->where,
		    msg);
	else
		snprintf(bl_err, sizeof(bl_err), "%s: %s", ld->path, msg);
	return IDS_EMALFORMED;
}

static int
parse_ip(const char *s, uint8_t *af, uint8_t *ip)
{
	struct cfg_net n;

	if (s == NULL || cfg_net_parse(s, &n) != 0 ||
	    n.bits != (n.af == 6 ? 128 : 32))
		return -1;
	*af = n.af;
	memset(ip, 0, 16);
	memcpy(ip, n.addr, n.af == 6 ? 16 : 4);
	return 0;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	int n = 0, i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &n) != 6 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int
get_ts(struct loader *ld, const cJSON *o, const char *k, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || rfc3339_parse(v->valuestring, out) != 0)
		return fail(ld, "\"%s\": expected a time like 2024-05-13T06:00:00.000000Z", k);
	return 0;
}

/* An integer member in [lo, hi]; absent: *out = dflt (or an error if dflt < 0). */
static int
get_uint(struct loader *ld, const cJSON *o, const char *k, double lo,
    double hi, double dflt, double *out)
{
	char msg[160];

	if (json_get_uint(o, k, lo, hi, dflt, out, msg, sizeof(msg)) != 0)
		return fail(ld, "%s", msg);
	return 0;
}

static int
get_nets(struct loader *ld, const cJSON *arr, struct cfg_nets *out)
{
	const cJSON *v;
	struct cfg_net *nv;
	int n = cJSON_GetArraySize(arr), i = 0;

	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "expected an array of IP addresses or CIDRs");
	if (n == 0)
		return 0;
	if ((nv = calloc((size_t)n, sizeof(*nv))) == NULL)
		return fail(ld, "%s", "out of memory");
	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v) || cfg_net_parse(v->valuestring, &nv[i]) != 0) {
			free(nv);
			return fail(ld, "bad address \"%s\" (expected an IP or CIDR)",
			    cJSON_IsString(v) ? v->valuestring : "?");
		}
		i++;
	}
	free(out->v);
	out->v = nv;
	out->n = (size_t)n;
	return 0;
}

static int
load_allowed(struct loader *ld, struct model *m, const cJSON *root)
{
	const cJSON *aw = cJSON_GetObjectItemCaseSensitive(root, "allowed_writers");
	const cJSON *ad = cJSON_GetObjectItemCaseSensitive(root, "allowed_discovery");
	const cJSON *ar = cJSON_GetObjectItemCaseSensitive(root, "allowed_remote");
	const cJSON *v;
	int p, rc;

	if (aw != NULL) {
		if (!cJSON_IsObject(aw))
			return fail(ld, "%s", "\"allowed_writers\": expected an object of protocol: [addresses]");
		cJSON_ArrayForEach(v, aw) {
			snprintf(ld->where, sizeof(ld->where), "allowed_writers.%s",
			    v->string);
			if ((p = bl_ics_by_name(v->string)) < 0)
				return fail(ld, "unknown industrial protocol \"%s\"",
				    v->string);
			if ((rc = get_nets(ld, v, &m->writers[p])) != 0)
				return rc;
			m->covered |= 1u << p;
		}
		m->allowed_writers = cJSON_Duplicate(aw, 1);
	}
	snprintf(ld->where, sizeof(ld->where), "allowed_discovery");
	if (ad != NULL && (rc = get_nets(ld, ad, &m->discovery)) != 0)
		return rc;
	if (ad != NULL)
		m->allowed_discovery = cJSON_Duplicate(ad, 1);
	snprintf(ld->where, sizeof(ld->where), "allowed_remote");
	if (ar != NULL && (rc = get_nets(ld, ar, &m->remote)) != 0)
		return rc;
	if (ar != NULL)
		m->allowed_remote = cJSON_Duplicate(ar, 1);
	ld->where[0] = '\0';
	return 0;
}

static int
load_roles(struct loader *ld, struct bl_asset *a, const cJSON *protos)
{
	const cJSON *p, *r;
	int ics, svc;
	bool cli, srv;

	if (protos == NULL)
		return 0;
	if (!cJSON_IsObject(protos))
		return fail(ld, "%s", "\"protocols\": expected an object of protocol: [roles]");
	cJSON_ArrayForEach(p, protos) {
		ics = bl_ics_by_name(p->string);
		svc = ics < 0 ? inv_service_by_name(p->string) : -1;
		if (ics < 0 && svc < 0)
			return fail(ld, "unknown protocol \"%s\"", p->string);
		if (!cJSON_IsArray(p))
			return fail(ld, "\"%s\": expected [\"client\"], [\"server\"] or both",
			    p->string);
		cli = srv = false;
		cJSON_ArrayForEach(r, p) {
			if (cJSON_IsString(r) && strcmp(r->valuestring, "client") == 0)
				cli = true;
			else if (cJSON_IsString(r) && strcmp(r->valuestring, "server") == 0)
				srv = true;
			else
				return fail(ld, "\"%s\": a role is \"client\" or \"server\"",
				    p->string);
		}
		if (ics > 0) {
			a->cli |= cli ? 1u << ics : 0;
			a->srv |= srv ? 1u << ics : 0;
		} else {
			a->it_cli |= cli ? 1u << svc : 0;
			a->it_srv |= srv ? 1u << svc : 0;
		}
	}
	return 0;
}

static int
load_assets(struct loader *ld, struct model *m, const cJSON *arr)
{
	const cJSON *o, *v;
	struct bl_asset *a;
	uint8_t af, ip[16];
	uint64_t first, last;
	bool fresh;
	int i = 0, rc;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "\"assets\": expected an array");
	cJSON_ArrayForEach(o, arr) {
		snprintf(ld->where, sizeof(ld->where), "assets[%d]", i++);
		if (!cJSON_IsObject(o))
			return fail(ld, "%s", "expected an object");
		v = cJSON_GetObjectItemCaseSensitive(o, "ip");
		if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af, ip) != 0)
			return fail(ld, "%s", "\"ip\": expected an IPv4 or IPv6 address");
		a = bl_asset_put(m, af, ip, &fresh);
		if (a == NULL)
			return fail(ld, "%s", "more assets than max_assets; raise [detector.baseline] max_assets");
		a->learned = 1;
		v = cJSON_GetObjectItemCaseSensitive(o, "mac");
		if (v != NULL && !cJSON_IsNull(v)) {
			if (!cJSON_IsString(v) || parse_mac(v->valuestring, a->mac) != 0)
				return fail(ld, "%s", "\"mac\": expected aa:bb:cc:dd:ee:ff");
			a->has_mac = 1;
		}
		if ((rc = get_ts(ld, o, "first_seen", &first)) != 0 ||
		    (rc = get_ts(ld, o, "last_seen", &last)) != 0)
			return rc;
		if (first != 0)
			bl_seen(&a->first, &a->last, first);
		if (last != 0)
			bl_seen(&a->first, &a->last, last);
		if ((rc = load_roles(ld, a, cJSON_GetObjectItemCaseSensitive(o,
		    "protocols"))) != 0)
			return rc;
	}
	ld->where[0] = '\0';
	return 0;
}

/* A range object back to its space, per protocol (see range_json). */
static int
load_range(struct loader *ld, uint8_t proto, const cJSON *o,
    struct proto_range *r)
{
	const struct proto_desc *d = proto_desc_of((enum ics_proto)proto);
	double a, lo, hi;
	char msg[200];
	int rc;

	if (!cJSON_IsObject(o))
		return fail(ld, "%s", "\"writes\": expected objects");
	if (d != NULL && d->addr != NULL) {
		if (d->addr->space_parse(o, &r->space, msg, sizeof(msg)) != 0)
			return fail(ld, "%s", msg);
	} else {
		if ((rc = get_uint(ld, o, "space", 0, 4294967295.0, -1, &a)) != 0)
			return rc;
		r->space = (uint32_t)a;
	}
	if ((rc = get_uint(ld, o, "start", 0, 4294967295.0, -1, &lo)) != 0 ||
	    (rc = get_uint(ld, o, "end", 0, 4294967295.0, -1, &hi)) != 0)
		return rc;
	if (hi < lo)
		return fail(ld, "%s", "\"end\" is below \"start\"");
	r->lo = (uint32_t)lo;
	r->hi = (uint32_t)hi;
	return 0;
}

static int
load_link(struct loader *ld, struct model *m, const cJSON *o)
{
	const cJSON *v, *f;
	struct bl_link *l;
	struct bl_key k;
	struct proto_range r;
	uint8_t af, af2, cli[16], srv[16], transport;
	uint64_t first, last;
	double port, rate;
	unsigned long code;
	char *end;
	int ics, svc = -1, rc;
	bool fresh;

	if (!cJSON_IsObject(o))
		return fail(ld, "%s", "expected an object");
	v = cJSON_GetObjectItemCaseSensitive(o, "src");
	if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af, cli) != 0)
		return fail(ld, "%s", "\"src\": expected an IPv4 or IPv6 address");
	v = cJSON_GetObjectItemCaseSensitive(o, "dst");
	if (!cJSON_IsString(v) || parse_ip(v->valuestring, &af2, srv) != 0 ||
	    af2 != af)
		return fail(ld, "%s", "\"dst\": expected an address of the same family as \"src\"");
	v = cJSON_GetObjectItemCaseSensitive(o, "proto");
	if (!cJSON_IsString(v))
		return fail(ld, "%s", "\"proto\": expected a protocol name");
	if ((ics = bl_ics_by_name(v->valuestring)) < 0 &&
	    (svc = inv_service_by_name(v->valuestring)) < 0)
		return fail(ld, "unknown protocol \"%s\"", v->valuestring);
	if (ics < 0)
		ics = ICS_NONE;
	v = cJSON_GetObjectItemCaseSensitive(o, "transport");
	if (v == NULL)
		transport = ics == ICS_BACNET ? 17 : 6;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "tcp") == 0)
		transport = 6;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "udp") == 0)
		transport = 17;
	else
		return fail(ld, "%s", "\"transport\": expected \"tcp\" or \"udp\"");
	if ((rc = get_uint(ld, o, "port", 0, 65535, -1, &port)) != 0)
		return rc;
	bl_make_key(&k, af, (uint8_t)ics, transport, (uint16_t)port, cli, srv);
	if ((l = bl_tab_put(&m->links, &k, &fresh)) == NULL)
		return fail(ld, "%s", "more links than max_links; raise [detector.baseline] max_links");
	l->learned = 1;
	if (svc >= 0)
		l->svc = (uint8_t)svc;
	if ((rc = get_ts(ld, o, "first_seen", &first)) != 0 ||
	    (rc = get_ts(ld, o, "last_seen", &last)) != 0)
		return rc;
	if (first != 0)
		bl_seen(&l->first, &l->last, first);
	if (last != 0)
		bl_seen(&l->first, &l->last, last);
	f = cJSON_GetObjectItemCaseSensitive(o, "functions");
	if (f != NULL && !cJSON_IsObject(f))
		return fail(ld, "%s", "\"functions\": expected an object of \"code\": \"name\"");
	cJSON_ArrayForEach(v, f) {
		errno = 0;
		code = strtoul(v->string, &end, 0);
		if (errno != 0 || *end != '\0' || end == v->string || code > 0xFFFF)
			return fail(ld, "\"functions\": bad code \"%s\" (expected 0..65535)",
			    v->string);
		bl_fn_add(l, (uint16_t)code);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "functions_truncated");
	if (cJSON_IsTrue(v))
		l->fn_full = 1;
	f = cJSON_GetObjectItemCaseSensitive(o, "writes");
	if (f != NULL && !cJSON_IsArray(f))
		return fail(ld, "%s", "\"writes\": expected an array of ranges");
	cJSON_ArrayForEach(v, f) {
		if ((rc = load_range(ld, (uint8_t)ics, v, &r)) != 0)
			return rc;
		bl_rg_add(l, &r);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "max_rate");
	if (v != NULL) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
		    v->valuedouble > 1e9)
			return fail(ld, "%s", "\"max_rate\": expected requests per second >= 0");
		rate = v->valuedouble;
		if (rate > l->max_rate)
			l->max_rate = rate;
	}
	return 0;
}

static int
load_links(struct loader *ld, struct model *m, const cJSON *arr)
{
	const cJSON *o;
	int i = 0, rc;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return fail(ld, "%s", "\"links\": expected an array");
	cJSON_ArrayForEach(o, arr) {
		snprintf(ld->where, sizeof(ld->where), "links[%d]", i++);
		if ((rc = load_link(ld, m, o)) != 0)
			return rc;
	}
	ld->where[0] = '\0';
	return 0;
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 262144;
			if (cap > FILE_MAX + 65536 + 1 ||
			    (nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(fp);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 65536, fp);
		n += r;
		if (r < 65536)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		errno = EIO;
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Load path into m.  0, or IDS_E* with bl_err naming the file and problem. */
int
bl_model_load(struct model *m, const char *path)
{
	struct loader ld;
	const cJSON *v, *learned;
	const char *errp, *p;
	char *text;
	size_t len;
	cJSON *root;
	uint64_t a, b;
	int line, rc;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if ((text = read_all(path, &len)) == NULL) {
		snprintf(bl_err, sizeof(bl_err), "%s: cannot read the baseline: %s",
		    path, strerror(errno));
		return IDS_EIO;
	}
	root = cJSON_ParseWithLength(text, len);
	if (root == NULL) {
		errp = cJSON_GetErrorPtr();
		line = 1;
		if (errp != NULL && errp >= text && errp <= text + len)
			for (p = text; p < errp; p++)
				line += *p == '\n';
		snprintf(bl_err, sizeof(bl_err),
		    "%s:%d: corrupt baseline: not valid JSON", path, line);
		free(text);
		return IDS_EMALFORMED;
	}
	free(text);
	rc = IDS_EMALFORMED;
	if (!cJSON_IsObject(root)) {
		fail(&ld, "%s", "not an icsentry baseline (expected a JSON object)");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (v == NULL) {
		fail(&ld, "%s", "not an icsentry baseline (no \"version\" member)");
		goto out;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != BL_VERSION) {
		char got[64];

		if (cJSON_IsNumber(v))
			snprintf(got, sizeof(got), "%g", v->valuedouble);
		else
			snprintf(got, sizeof(got), "a non-number");
		snprintf(bl_err, sizeof(bl_err),
		    "%s: baseline version %s is not supported (this agent reads version %d)",
		    path, got, BL_VERSION);
		goto out;
	}
	learned = cJSON_GetObjectItemCaseSensitive(root, "learned");
	if (learned != NULL) {
		snprintf(ld.where, sizeof(ld.where), "learned");
		if ((rc = get_ts(&ld, learned, "from", &a)) != 0 ||
		    (rc = get_ts(&ld, learned, "until", &b)) != 0)
			goto out;
		ld.where[0] = '\0';
		if (a != 0)
			bl_seen(&m->first, &m->last, a);
		if (b != 0)
			bl_seen(&m->first, &m->last, b);
	}
	if ((rc = load_allowed(&ld, m, root)) != 0 ||
	    (rc = load_assets(&ld, m, cJSON_GetObjectItemCaseSensitive(root,
	    "assets"))) != 0 ||
	    (rc = load_links(&ld, m, cJSON_GetObjectItemCaseSensitive(root,
	    "links"))) != 0)
		goto out;
	if (bl_l2_load(m->l2, root, ld.where, sizeof(ld.where)) != 0) {
		char why[sizeof(ld.where)];

		snprintf(why, sizeof(why), "%s", ld.where);
		ld.where[0] = '\0';
		fail(&ld, "%s", why);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- writing ------------------------------------------------------------------ */


static cJSON *
asset_json(const struct bl_asset *a)
{
	cJSON *o = cJSON_CreateObject(), *p;
	const char *v;
	char b[64];
	int i;

	cJSON_AddStringToObject(o, "ip", inv_ip_text(a->af, a->ip, b, sizeof(b)));
	if (a->has_mac) {
		snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", a->mac[0],
		    a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5]);
		cJSON_AddStringToObject(o, "mac", b);
		if ((v = inv_oui_vendor(a->mac)) != NULL)
			cJSON_AddStringToObject(o, "vendor", v);
		else
			cJSON_AddNullToObject(o, "vendor");
	} else {
		cJSON_AddNullToObject(o, "mac");
		cJSON_AddNullToObject(o, "vendor");
	}
	inv_json_ts(o, "first_seen", a->first);
	inv_json_ts(o, "last_seen", a->last);
	p = cJSON_AddObjectToObject(o, "protocols");
	for (i = 1; i < ICS_NPROTO; i++)
		inv_json_roles(p, ics_proto_name((enum ics_proto)i), (a->cli >> i) & 1,
		    (a->srv >> i) & 1);
	for (i = 0; i < inv_service_count(); i++)
		inv_json_roles(p, inv_service_name(i), (a->it_cli >> i) & 1,
		    (a->it_srv >> i) & 1);
	return o;
}

static int
cmp_u16(const void *x, const void *y)
{
	uint16_t a = *(const uint16_t *)x, b = *(const uint16_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_range(const void *x, const void *y)
{
	const struct proto_range *a = x, *b = y;

	if (a->space != b->space)
		return a->space < b->space ? -1 : 1;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static cJSON *
link_json(struct bl_link *l, double max_rate)
{
	cJSON *o = cJSON_CreateObject(), *f, *w;
	char b[64], code[16];
	uint16_t fn[MAX_FN];
	struct proto_range rg[MAX_RG];
	uint8_t i;

	cJSON_AddStringToObject(o, "src", inv_ip_text(l->k.af, l->k.cli, b, sizeof(b)));
	cJSON_AddStringToObject(o, "dst", inv_ip_text(l->k.af, l->k.srv, b, sizeof(b)));
	cJSON_AddStringToObject(o, "proto", bl_proto_name(l->k.proto, l->svc));
	cJSON_AddStringToObject(o, "transport", l->k.transport == 17 ? "udp" : "tcp");
	cJSON_AddNumberToObject(o, "port", l->k.port);
	inv_json_ts(o, "first_seen", l->first);
	inv_json_ts(o, "last_seen", l->last);
	if (l->k.proto == ICS_NONE)
		return o;
	memcpy(fn, l->fn, l->nfn * sizeof(fn[0]));
	qsort(fn, l->nfn, sizeof(fn[0]), cmp_u16);
	f = cJSON_AddObjectToObject(o, "functions");
	for (i = 0; i < l->nfn; i++) {
		snprintf(code, sizeof(code), "%u", fn[i]);
		cJSON_AddStringToObject(f, code, bl_code_name(l->k.proto, fn[i], b,
		    sizeof(b)));
	}
	if (l->fn_full)
		cJSON_AddTrueToObject(o, "functions_truncated");
	if (l->nrg > 0) {
		memcpy(rg, l->rg, l->nrg * sizeof(rg[0]));
		qsort(rg, l->nrg, sizeof(rg[0]), cmp_range);
		w = cJSON_AddArrayToObject(o, "writes");
		for (i = 0; i < l->nrg; i++)
			cJSON_AddItemToArray(w, bl_range_json(l->k.proto, &rg[i]));
	}
	cJSON_AddNumberToObject(o, "max_rate", max_rate);
	return o;
}

static int
cmp_asset(const void *x, const void *y)
{
	const struct bl_asset *a = *(const struct bl_asset *const *)x;
	const struct bl_asset *b = *(const struct bl_asset *const *)y;

	return memcmp(&a->af, &b->af, ASSET_KLEN);
}

static int
cmp_link(const void *x, const void *y)
{
	const struct bl_key *a = &(*(const struct bl_link *const *)x)->k;
	const struct bl_key *b = &(*(const struct bl_link *const *)y)->k;
	int c;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if ((c = memcmp(a->cli, b->cli, 16)) != 0 ||
	    (c = memcmp(a->srv, b->srv, 16)) != 0)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->transport != b->transport)
		return a->transport < b->transport ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* The learned rate of a link: its windows so far, in requests/s. */
static double
link_rate(const struct bl_link *l, double window_s)
{
	uint32_t mx = l->win_max > l->win_count ? l->win_max : l->win_count;
	double r = mx / window_s;

	/* two decimals: a re-learned file reads back exactly the same */
	r = floor(r * 100 + 0.5) / 100;
	return r > l->max_rate ? r : l->max_rate;
}

cJSON *
bl_model_json(double window_s, struct model *m)
{
	cJSON *root = cJSON_CreateObject(), *o, *arr, *aw;
	void **v;
	uint32_t i, n = m->assets.n > m->links.n ? m->assets.n : m->links.n;
	int p;

	cJSON_AddStringToObject(root, "format", BL_FORMAT);
	cJSON_AddNumberToObject(root, "version", BL_VERSION);
	o = cJSON_AddObjectToObject(root, "learned");
	inv_json_ts(o, "from", m->first);
	inv_json_ts(o, "until", m->last);
	cJSON_AddNumberToObject(root, "rate_window_s", window_s);
	/* every protocol seen gets an (empty) list an engineer can fill */
	aw = m->allowed_writers != NULL ? cJSON_Duplicate(m->allowed_writers, 1) :
	    cJSON_CreateObject();
	for (i = 0; i < m->links.n; i++)
		m->covered |= 1u << ((struct bl_link *)bl_tab_at(&m->links, i))->k.proto;
	for (p = 1; p < ICS_NPROTO; p++)
		if ((m->covered >> p & 1) &&
		    !cJSON_HasObjectItem(aw, ics_proto_name((enum ics_proto)p)))
			cJSON_AddItemToObject(aw, ics_proto_name((enum ics_proto)p),
			    cJSON_CreateArray());
	cJSON_AddItemToObject(root, "allowed_writers", aw);
	cJSON_AddItemToObject(root, "allowed_discovery",
	    m->allowed_discovery != NULL ? cJSON_Duplicate(m->allowed_discovery, 1) :
	    cJSON_CreateArray());
	cJSON_AddItemToObject(root, "allowed_remote",
	    m->allowed_remote != NULL ? cJSON_Duplicate(m->allowed_remote, 1) :
	    cJSON_CreateArray());
	if ((v = malloc(((size_t)n + 1) * sizeof(*v))) == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	for (i = 0; i < m->assets.n; i++)
		v[i] = bl_tab_at(&m->assets, i);
	qsort(v, m->assets.n, sizeof(*v), cmp_asset);
	arr = cJSON_AddArrayToObject(root, "assets");
	for (i = 0; i < m->assets.n; i++)
		cJSON_AddItemToArray(arr, asset_json(v[i]));
	for (i = 0; i < m->links.n; i++)
		v[i] = bl_tab_at(&m->links, i);
	qsort(v, m->links.n, sizeof(*v), cmp_link);
	arr = cJSON_AddArrayToObject(root, "links");
	for (i = 0; i < m->links.n; i++)
		cJSON_AddItemToArray(arr, link_json(v[i], link_rate(v[i],
		    window_s)));
	free(v);
	if (bl_l2_json(m->l2, root) != 0) {
		cJSON_Delete(root);
		return NULL;
	}
	o = cJSON_AddObjectToObject(root, "dropped");
	cJSON_AddNumberToObject(o, "assets", (double)m->assets.refused);
	cJSON_AddNumberToObject(o, "links", (double)m->links.refused);
	return root;
}

struct buf {
	char	*p;
	size_t	 n, cap;
	bool	 oom;
};

static void
buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap * 2 : 65536;

		while (c < b->n + n + 1)
			c *= 2;
		if ((np = realloc(b->p, c)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = c;
	}
	memcpy(b->p + b->n, s, n + 1);
	b->n += n;
}

static void
buf_json(struct buf *b, const cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);

	if (t == NULL) {
		b->oom = true;
		return;
	}
	buf_add(b, t);
	free(t);
}

/*
 * The file's text: one member per line, and one line per asset and per
 * link, so it reads, greps, edits and diffs well.  NULL when out of memory.
 */
char *
bl_model_text(const cJSON *root)
{
	struct buf b = { NULL, 0, 0, false };
	const cJSON *m, *e;
	char key[128];

	buf_add(&b, "{\n");
	cJSON_ArrayForEach(m, root) {
		snprintf(key, sizeof(key), "  \"%s\": ", m->string);
		buf_add(&b, key);
		if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0 &&
		    cJSON_IsObject(m->child)) {
			buf_add(&b, "[\n");
			cJSON_ArrayForEach(e, m) {
				buf_add(&b, "    ");
				buf_json(&b, e);
				buf_add(&b, e->next != NULL ? ",\n" : "\n");
			}
			buf_add(&b, "  ]");
		} else
			buf_json(&b, m);
		buf_add(&b, m->next != NULL ? ",\n" : "\n");
	}
	buf_add(&b, "}");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Atomically (lib/atomic.c): a crash never leaves half a baseline. */
int
bl_write_file(const char *path, const char *txt, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0) {
		if (fputs(txt, stdout) == EOF || fputc('\n', stdout) == EOF ||
		    fflush(stdout) != 0) {
			snprintf(err, errlen, "-: cannot write the baseline: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (atomic_write(path, txt, strlen(txt), true) != 0) {
		snprintf(err, errlen, "%s: cannot write the baseline: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

