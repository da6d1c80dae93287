/*
 * baseline_l2.c - GOOSE, SV and PROFINET DCP in the learned baseline.
 * See baseline_l2.h.
 *
 * One open-addressing table of entries keyed by (kind, name): gocbRef
 * for GOOSE, svID for SV, the station's MAC for DCP.  Names longer than
 * NAME_KEEP octets are cut (the key hash covers the whole name).
 */
#include "detectors/baseline_l2.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/goose.h"
#include "dissectors/pndcp.h"
#include "dissectors/sv.h"
#include "lib/htab.h"

#define NAME_KEEP	129	/* VisibleString 129 (IEC 61850-8-1) */
#define MAX_MACS	4	/* publishers per stream (PRP/HSR, spares) */

enum kind { K_GOOSE = 1, K_SV = 2, K_DCP = 3 };

/* alerted bits: each alert once per entry */
#define AL_NEW		0x01
#define AL_PUB		0x02
#define AL_CHANGED	0x04

struct l2e {
	uint64_t	h;		/* key (lib/htab): key_hash of kind, name */
	uint8_t		kind, learned, alerted, nmac;
	uint8_t		mac[MAX_MACS][6];
	uint16_t	appid;
	uint8_t		has_conf, has_st;
	uint32_t	conf_rev;
	uint32_t	last_st;
	/* stNum changes per rate window: learning keeps the maximum */
	uint64_t	win_start;
	uint32_t	win_changes, max_changes;
	uint64_t	rate_alerted_win;
	char		name[NAME_KEEP + 1];	/* gocbRef, svID, DCP MAC text */
	char		a[NAME_KEEP + 1];	/* datSet; DCP name of station */
	char		b[NAME_KEEP + 1];	/* goID; DCP type of station */
	uint16_t	vendor_id, device_id;	/* DCP */
	uint8_t		has_id;
};

struct bl_l2 {
	struct htab	 t;		/* struct l2e by h */
	uint32_t	 n;
	uint64_t	 dropped;
};

struct bl_l2 *
bl_l2_new(void)
{
	struct bl_l2 *l = calloc(1, sizeof(struct bl_l2));

	if (l != NULL)
		htab_init(&l->t, sizeof(struct l2e), sizeof(uint64_t),
		    BL_L2_MAX);
	return l;
}

void
bl_l2_free(struct bl_l2 *l)
{
	if (l == NULL)
		return;
	htab_free(&l->t);
	free(l);
}

uint32_t
bl_l2_count(const struct bl_l2 *l)
{
	return l != NULL ? l->n : 0;
}

uint64_t
bl_l2_dropped(const struct bl_l2 *l)
{
	return l != NULL ? l->dropped : 0;
}

static uint64_t
key_hash(int kind, const uint8_t *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ name[i]) * 0x100000001b3ULL;
	return h != 0 ? h : 1;
}

static struct l2e *
find(const struct bl_l2 *l, uint64_t h)
{
	return htab_get(&l->t, &h);
}

/* The entry of h, made (kind, name) when missing; NULL when full. */
static struct l2e *
put(struct bl_l2 *l, uint64_t h, int kind, const char *name, size_t nlen,
    bool *fresh)
{
	struct l2e *e = htab_put(&l->t, &h, fresh);

	if (e == NULL) {
		l->dropped++;
		return NULL;
	}
	if (!*fresh)
		return e;
	e->kind = (uint8_t)kind;
	snprintf(e->name, sizeof(e->name), "%.*s",
	    (int)(nlen > NAME_KEEP ? NAME_KEEP : nlen), name);
	l->n++;
	return e;
}

static void
text(char *dst, const uint8_t *p, size_t n)
{
	if (p == NULL)
		n = 0;
	if (n > NAME_KEEP)
		n = NAME_KEEP;
	memcpy(dst, p != NULL ? p : (const uint8_t *)"", n);
	dst[n] = '\0';
}

static void
mac_text(char *dst, size_t len, const uint8_t *m)
{
	snprintf(dst, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

static bool
has_mac(const struct l2e *e, const uint8_t *m)
{
	uint8_t i;

	for (i = 0; i < e->nmac; i++)
		if (memcmp(e->mac[i], m, 6) == 0)
			return true;
	return false;
}

static void
add_mac(struct l2e *e, const uint8_t *m)
{
	if (!has_mac(e, m) && e->nmac < MAX_MACS)
		memcpy(e->mac[e->nmac++], m, 6);
}

/* What one PDU says, whatever its kind. */
struct obs {
	int		 kind;
	uint64_t	 h;
	const char	*name;
	size_t		 nlen;
	char		 a[NAME_KEEP + 1], b[NAME_KEEP + 1];
	char		 mtext[18];
	uint16_t	 appid;
	bool		 has_conf, has_st, has_id;
	uint32_t	 conf_rev, st;
	uint16_t	 vendor_id, device_id;
	const uint8_t	*mac;		/* the sender's (publisher, station) */
};

static bool
observe(const struct det_pdu *pdu, struct obs *o)
{
	const struct flow_endpoint *src;

	if (pdu->flow == NULL)
		return false;
	src = pdu->sender_is_cli ? &pdu->flow->cli : &pdu->flow->srv;
	if (!src->has_mac)
		return false;
	memset(o, 0, sizeof(*o));
	o->mac = src->mac;
	switch (pdu->proto) {
	case ICS_GOOSE: {
		const struct goose_pdu *g = pdu->u.goose;

		o->kind = K_GOOSE;
		o->name = (const char *)g->gocb_ref;
		o->nlen = g->gocb_ref_len;
		text(o->a, g->dat_set, g->dat_set_len);
		text(o->b, g->go_id, g->go_id_len);
		o->appid = g->hdr.appid;
		o->has_conf = o->has_st = true;
		o->conf_rev = g->conf_rev;
		o->st = g->st_num;
		break;
	}
	case ICS_SV: {
		const struct sv_pdu *v = pdu->u.sv;

		if (v->n_asdu == 0)
			return false;
		o->kind = K_SV;
		o->name = (const char *)v->asdu[0].sv_id;
		o->nlen = v->asdu[0].sv_id_len;
		text(o->a, v->asdu[0].dat_set, v->asdu[0].dat_set_len);
		o->appid = v->hdr.appid;
		o->has_conf = true;
		o->conf_rev = v->asdu[0].conf_rev;
		break;
	}
	case ICS_PNDCP: {
		const struct pndcp_pdu *d = pdu->u.pndcp;

		/* a station speaks of itself in Identify responses and Hello */
		if (!((d->service == PNDCP_SVC_IDENTIFY &&
		    d->type == PNDCP_RESPONSE_OK) || d->service == PNDCP_SVC_HELLO))
			return false;
		o->kind = K_DCP;
		mac_text(o->mtext, sizeof(o->mtext), src->mac);
		o->name = o->mtext;
		o->nlen = strlen(o->mtext);
		text(o->a, d->name, d->name_len);
		text(o->b, d->vendor, d->vendor_len);
		o->has_id = d->has_id;
		o->vendor_id = d->vendor_id;
		o->device_id = d->device_id;
		break;
	}
	default:
		return false;
	}
	if (o->name == NULL || o->nlen == 0)
		return false;
	o->h = key_hash(o->kind, (const uint8_t *)o->name, o->nlen);
	return true;
}

/* A state change: count it in the current window; true when counted. */
static bool
state_moved(struct l2e *e, const struct obs *o, uint64_t ts,
    uint64_t window_us)
{
	bool moved;

	if (!o->has_st)
		return false;
	moved = e->has_st && o->st != e->last_st;
	e->has_st = 1;
	e->last_st = o->st;
	if (window_us == 0)
		return moved;
	if (e->win_start == 0 || ts - e->win_start >= window_us) {
		e->win_start = ts;
		e->win_changes = 0;
	}
	if (moved)
		e->win_changes++;
	return moved;
}

void
bl_l2_learn(struct bl_l2 *l, const struct det_pdu *pdu, uint64_t window_us)
{
	struct obs o;
	struct l2e *e;
	bool fresh;

	if (l == NULL || !observe(pdu, &o))
		return;
	e = put(l, o.h, o.kind, o.name, o.nlen, &fresh);
	if (e == NULL)
		return;
	add_mac(e, o.mac);
	if (fresh || e->a[0] == '\0')
		snprintf(e->a, sizeof(e->a), "%s", o.a);
	if (fresh || e->b[0] == '\0')
		snprintf(e->b, sizeof(e->b), "%s", o.b);
	if (fresh)
		e->appid = o.appid;
	if (o.has_conf) {
		e->has_conf = 1;
		e->conf_rev = o.conf_rev;
	}
	if (o.has_id) {
		e->has_id = 1;
		e->vendor_id = o.vendor_id;
		e->device_id = o.device_id;
	}
	(void)state_moved(e, &o, pdu->ts, window_us);
	if (e->win_changes > e->max_changes)
		e->max_changes = e->win_changes;
}

static const char *
kind_name(int k)
{
	return k == K_GOOSE ? "goose" : k == K_SV ? "sv" : "dcp";
}

static void
raise_l2(struct det_ctx *ctx, const struct det_pdu *pdu, const struct obs *o,
    const struct l2e *e, const char *det, enum det_severity sev,
    const char *tech, const char *what, const char *field)
{
	struct det_alert a;
	char title[256], m[18], key[NAME_KEEP + 8];
	cJSON *lm;
	uint8_t i;

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	snprintf(title, sizeof(title), "%s %s: %.*s", o->kind == K_GOOSE ?
	    "GOOSE" : o->kind == K_SV ? "SV" : "PROFINET DCP station", what,
	    (int)(o->nlen > 120 ? 120 : o->nlen), o->name);
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "kind", kind_name(o->kind));
	cJSON_AddStringToObject(a.details, o->kind == K_GOOSE ? "gocb_ref" :
	    o->kind == K_SV ? "sv_id" : "station_mac", e != NULL ? e->name :
	    o->mtext);
	mac_text(m, sizeof(m), o->mac);
	cJSON_AddStringToObject(a.details, "mac", m);
	if (o->kind != K_DCP) {
		cJSON_AddNumberToObject(a.details, "appid", o->appid);
		cJSON_AddStringToObject(a.details, "dat_set", o->a);
		cJSON_AddNumberToObject(a.details, "conf_rev", o->conf_rev);
		if (o->kind == K_GOOSE) {
			cJSON_AddStringToObject(a.details, "go_id", o->b);
			cJSON_AddNumberToObject(a.details, "st_num", o->st);
		}
	} else {
		cJSON_AddStringToObject(a.details, "name_of_station", o->a);
		cJSON_AddStringToObject(a.details, "type_of_station", o->b);
	}
	if (field != NULL)
		cJSON_AddStringToObject(a.details, "changed", field);
	if (e != NULL) {
		lm = cJSON_AddArrayToObject(a.details, "learned_macs");
		for (i = 0; i < e->nmac; i++) {
			mac_text(m, sizeof(m), e->mac[i]);
			cJSON_AddItemToArray(lm, cJSON_CreateString(m));
		}
		if (o->kind != K_DCP) {
			cJSON_AddNumberToObject(a.details, "learned_appid", e->appid);
			cJSON_AddStringToObject(a.details, "learned_dat_set", e->a);
			cJSON_AddNumberToObject(a.details, "learned_conf_rev",
			    e->conf_rev);
		} else {
			cJSON_AddStringToObject(a.details, "learned_name", e->a);
			cJSON_AddStringToObject(a.details, "learned_type", e->b);
		}
		if (o->kind == K_GOOSE) {
			cJSON_AddNumberToObject(a.details, "learned_max_changes",
			    e->max_changes);
			cJSON_AddNumberToObject(a.details, "window_changes",
			    e->win_changes);
		}
	}
	/* one summary per stream or station, not per detector */
	snprintf(key, sizeof(key), "%s:%.*s", kind_name(o->kind),
	    (int)(o->nlen > NAME_KEEP ? NAME_KEEP : o->nlen), o->name);
	a.agg_key = key;
	det_alert(ctx, &a);
}

/* The first field of o that differs from the learned e, or NULL. */
static const char *
changed_field(const struct l2e *e, const struct obs *o)
{
	if (o->kind == K_DCP) {
		if (e->a[0] != '\0' && o->a[0] != '\0' && strcmp(e->a, o->a) != 0)
			return "name_of_station";
		if (e->b[0] != '\0' && o->b[0] != '\0' && strcmp(e->b, o->b) != 0)
			return "type_of_station";
		if (e->has_id && o->has_id && (e->vendor_id != o->vendor_id ||
		    e->device_id != o->device_id))
			return "device_id";
		return NULL;
	}
	if (o->appid != e->appid)
		return "appid";
	if (strcmp(o->a, e->a) != 0)
		return "dat_set";
	if (o->kind == K_GOOSE && strcmp(o->b, e->b) != 0)
		return "go_id";
	if (e->has_conf && o->conf_rev != e->conf_rev)
		return "conf_rev";
	return NULL;
}

void
bl_l2_detect(struct bl_l2 *det, struct det_ctx *ctx,
    const struct det_pdu *pdu, uint64_t window_us, double factor)
{
	const char *field;
	struct l2e *e;
	struct obs o;
	uint32_t limit;
	bool fresh;

	if (det == NULL || !observe(pdu, &o))
		return;
	e = find(det, o.h);
	if (e == NULL) {
		/* keep it, so it alerts once; unlearned (learned = 0) */
		e = put(det, o.h, o.kind, o.name, o.nlen, &fresh);
		if (o.kind == K_DCP)
			raise_l2(ctx, pdu, &o, NULL, "baseline.l2_new_station",
			    SEV_LOW, "T0846", "never seen", NULL);
		else
			raise_l2(ctx, pdu, &o, NULL, "baseline.l2_new_stream",
			    SEV_MEDIUM, "T0856", "stream never seen", NULL);
		if (e != NULL)
			e->alerted = AL_NEW | AL_PUB | AL_CHANGED;
		return;
	}
	if (!e->learned)
		return;			/* new: said once */
	if (!has_mac(e, o.mac) && !(e->alerted & AL_PUB)) {
		e->alerted |= AL_PUB;
		raise_l2(ctx, pdu, &o, e, o.kind == K_DCP ?
		    "baseline.l2_changed" : "baseline.l2_new_publisher",
		    SEV_HIGH, o.kind == K_DCP ? "T0849" : "T0856",
		    "published by a MAC never seen for it", "mac");
	}
	if (!(e->alerted & AL_CHANGED) && (field = changed_field(e, &o)) != NULL) {
		e->alerted |= AL_CHANGED;
		raise_l2(ctx, pdu, &o, e, "baseline.l2_changed", SEV_MEDIUM,
		    o.kind == K_DCP ? "T0849" : "T0856",
		    "differs from the baseline", field);
	}
	if (o.kind != K_GOOSE || !state_moved(e, &o, pdu->ts, window_us))
		return;
	limit = (uint32_t)(e->max_changes * factor);
	if (limit < e->max_changes + 3)
		limit = e->max_changes + 3;
	if (e->win_changes > limit && e->rate_alerted_win != e->win_start) {
		e->rate_alerted_win = e->win_start;
		raise_l2(ctx, pdu, &o, e, "baseline.l2_state_rate", SEV_HIGH,
		    "T0806", "state (stNum) changes far above the baseline",
		    NULL);
	}
}

/* ---- the file ---------------------------------------------------------- */

static int
cmp_entry(const void *x, const void *y)
{
	const struct l2e *a = *(const struct l2e *const *)x;
	const struct l2e *b = *(const struct l2e *const *)y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->name, b->name);
}

static cJSON *
entry_json(const struct l2e *e)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char m[18];
	uint8_t i;

	cJSON_AddStringToObject(o, e->kind == K_GOOSE ? "gocb_ref" :
	    e->kind == K_SV ? "sv_id" : "mac", e->name);
	arr = cJSON_AddArrayToObject(o, e->kind == K_DCP ? "macs" : "publishers");
	for (i = 0; i < e->nmac; i++) {
		mac_text(m, sizeof(m), e->mac[i]);
		cJSON_AddItemToArray(arr, cJSON_CreateString(m));
	}
	if (e->kind == K_DCP) {
		cJSON_AddStringToObject(o, "name_of_station", e->a);
		cJSON_AddStringToObject(o, "type_of_station", e->b);
		if (e->has_id) {
			cJSON_AddNumberToObject(o, "vendor_id", e->vendor_id);
			cJSON_AddNumberToObject(o, "device_id", e->device_id);
		}
		return o;
	}
	cJSON_AddNumberToObject(o, "appid", e->appid);
	cJSON_AddStringToObject(o, "dat_set", e->a);
	if (e->kind == K_GOOSE)
		cJSON_AddStringToObject(o, "go_id", e->b);
	cJSON_AddNumberToObject(o, "conf_rev", e->conf_rev);
	if (e->kind == K_GOOSE)
		cJSON_AddNumberToObject(o, "max_state_changes_per_window",
		    e->max_changes);
	return o;
}

int
bl_l2_json(const struct bl_l2 *l, cJSON *root)
{
	cJSON *arr[4];
	const struct l2e **v;
	uint32_t i, n = 0;

	arr[K_GOOSE] = cJSON_AddArrayToObject(root, "l2_goose");
	arr[K_SV] = cJSON_AddArrayToObject(root, "l2_sv");
	arr[K_DCP] = cJSON_AddArrayToObject(root, "l2_dcp");
	if (arr[K_GOOSE] == NULL || arr[K_SV] == NULL || arr[K_DCP] == NULL)
		return -1;
	if (l == NULL || l->n == 0)
		return 0;
	v = malloc(l->n * sizeof(*v));
	if (v == NULL)
		return -1;
	for (i = 0; i < l->n; i++)
		v[n++] = htab_at(&l->t, i);
	qsort(v, n, sizeof(*v), cmp_entry);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr[v[i]->kind], entry_json(v[i]));
	free(v);
	return 0;
}

static int
parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];
	int i;

	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1],
	    &v[2], &v[3], &v[4], &v[5]) != 6 || strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
jnum(const cJSON *o, const char *k, double max, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble)
		return false;
	*out = (uint32_t)v->valuedouble;
	return true;
}

static int
load_kind(struct bl_l2 *l, const cJSON *arr, int kind, char *err,
    size_t errlen)
{
	const char *kn = kind_name(kind);
	const char *keyname = kind == K_GOOSE ? "gocb_ref" : kind == K_SV ?
	    "sv_id" : "mac";
	const cJSON *it, *macs, *m;
	struct l2e *e;
	uint32_t u;
	bool fresh;
	int idx = 0;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "l2_%s: expected an array", kn);
		return -1;
	}
	cJSON_ArrayForEach(it, arr) {
		const char *name = jstr(it, keyname), *s;

		if (name == NULL || name[0] == '\0') {
			snprintf(err, errlen, "l2_%s[%d].%s: expected a string",
			    kn, idx, keyname);
			return -1;
		}
		e = put(l, key_hash(kind, (const uint8_t *)name, strlen(name)),
		    kind, name, strlen(name), &fresh);
		if (e == NULL) {
			snprintf(err, errlen, "l2_%s[%d]: more than %d layer-2 "
			    "entries", kn, idx, BL_L2_MAX);
			return -1;
		}
		e->learned = 1;
		macs = cJSON_GetObjectItemCaseSensitive(it, kind == K_DCP ?
		    "macs" : "publishers");
		cJSON_ArrayForEach(m, macs) {
			uint8_t mac[6];

			if (parse_mac(cJSON_IsString(m) ? m->valuestring : NULL,
			    mac) != 0) {
				snprintf(err, errlen, "l2_%s[%d]: bad MAC address",
				    kn, idx);
				return -1;
			}
			add_mac(e, mac);
		}
		if (kind == K_DCP && parse_mac(name, e->mac[0]) == 0 &&
		    e->nmac == 0)
			e->nmac = 1;
		if ((s = jstr(it, kind == K_DCP ? "name_of_station" :
		    "dat_set")) != NULL)
			snprintf(e->a, sizeof(e->a), "%.*s", NAME_KEEP, s);
		if ((s = jstr(it, kind == K_DCP ? "type_of_station" :
		    "go_id")) != NULL)
			snprintf(e->b, sizeof(e->b), "%.*s", NAME_KEEP, s);
		if (jnum(it, "appid", 65535, &u))
			e->appid = (uint16_t)u;
		if (jnum(it, "conf_rev", 4294967295.0, &u)) {
			e->has_conf = 1;
			e->conf_rev = u;
		}
		if (jnum(it, "max_state_changes_per_window", 4294967295.0, &u) &&
		    u > e->max_changes)
			e->max_changes = u;
		if (jnum(it, "vendor_id", 65535, &u)) {
			e->has_id = 1;
			e->vendor_id = (uint16_t)u;
			if (jnum(it, "device_id", 65535, &u))
				e->device_id = (uint16_t)u;
		}
		idx++;
	}
	return 0;
}

/* Absent members (a baseline from before layer 2) load nothing. */
int
bl_l2_load(struct bl_l2 *l, const cJSON *root, char *err, size_t errlen)
{
	if (load_kind(l, cJSON_GetObjectItemCaseSensitive(root, "l2_goose"),
	    K_GOOSE, err, errlen) != 0 ||
	    load_kind(l, cJSON_GetObjectItemCaseSensitive(root, "l2_sv"), K_SV,
	    err, errlen) != 0 ||
	    load_kind(l, cJSON_GetObjectItemCaseSensitive(root, "l2_dcp"), K_DCP,
	    err, errlen) != 0)
		return -1;
	return 0;
}
