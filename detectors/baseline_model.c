/*
 * baseline_model.c - the baseline's model: growable hash tables of hosts
 * and links, function codes and merged write ranges per link, and what
 * the protocol descriptors say about requests.
 */
#include "detectors/baseline_model.h"
#include "detectors/baseline_l2.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/inventory.h"
#include "lib/htab.h"
#include "dissectors/flow.h"

/* ---- table ------------------------------------------------------------------ */

/* The tables are lib/htab.h's; entries never move index (no deletes). */
void *
bl_tab_at(const struct htab *t, uint32_t i)
{
	return htab_at(t, i);
}

void *
bl_tab_get(const struct htab *t, const void *key)
{
	return htab_get(t, key);
}

/* The entry of key, added zeroed (key copied) when new; NULL when full. */
void *
bl_tab_put(struct htab *t, const void *key, bool *fresh)
{
	return htab_put(t, key, fresh);
}

uint32_t
bl_tab_index(const struct htab *t, const void *e)
{
	return htab_index(t, e);
}

struct model *
bl_model_new(uint32_t max_assets, uint32_t max_links)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	htab_init(&m->assets, sizeof(struct bl_asset), ASSET_KLEN, max_assets);
	htab_init(&m->links, sizeof(struct bl_link), sizeof(struct bl_key),
	    max_links);
	if ((m->l2 = bl_l2_new()) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
bl_model_free(struct model *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->links.n; i++)
		free(((struct bl_link *)bl_tab_at(&m->links, i))->rg);
	for (i = 0; i < ICS_NPROTO; i++)
		free(m->writers[i].v);
	free(m->discovery.v);
	free(m->remote.v);
	bl_l2_free(m->l2);
	cJSON_Delete(m->allowed_writers);
	cJSON_Delete(m->allowed_discovery);
	cJSON_Delete(m->allowed_remote);
	htab_free(&m->assets);
	htab_free(&m->links);
	free(m);
}

struct bl_asset *
bl_asset_put(struct model *m, uint8_t af, const uint8_t *ip, bool *fresh)
{
	uint8_t key[ASSET_KLEN];

	memset(key, 0, sizeof(key));
	key[0] = af;
	memcpy(key + 1, ip, af == 6 ? 16 : 4);
	return bl_tab_put(&m->assets, key, fresh);
}

struct bl_asset *
bl_asset_get(const struct model *m, uint8_t af, const uint8_t *ip)
{
	uint8_t key[ASSET_KLEN];

	memset(key, 0, sizeof(key));
	key[0] = af;
	memcpy(key + 1, ip, af == 6 ? 16 : 4);
	return bl_tab_get(&m->assets, key);
}

void
bl_make_key(struct bl_key *k, uint8_t af, uint8_t proto, uint8_t transport,
    uint16_t port, const uint8_t *cli, const uint8_t *srv)
{
	size_t alen = af == 6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	k->af = af;
	k->proto = proto;
	k->transport = transport;
	k->port = port;
	memcpy(k->cli, cli, alen);
	memcpy(k->srv, srv, alen);
}

void
bl_seen(uint64_t *first, uint64_t *last, uint64_t ts)
{
	if (*first == 0 || ts < *first)
		*first = ts;
	if (ts > *last)
		*last = ts;
}

bool
bl_fn_has(const struct bl_link *l, uint16_t code)
{
	uint8_t i;

	for (i = 0; i < l->nfn; i++)
		if (l->fn[i] == code)
			return true;
	return false;
}

bool
bl_fn_add(struct bl_link *l, uint16_t code)
{
	if (bl_fn_has(l, code))
		return false;
	if (l->nfn == MAX_FN) {
		l->fn_full = 1;
		return false;
	}
	l->fn[l->nfn++] = code;
	return true;
}

bool
bl_rg_contains(const struct bl_link *l, const struct proto_range *r)
{
	uint8_t i;

	for (i = 0; i < l->nrg; i++)
		if (l->rg[i].space == r->space && l->rg[i].lo <= r->lo &&
		    r->hi <= l->rg[i].hi)
			return true;
	return false;
}

/*
 * Detection's question: is r inside, or right next to, a learned written
 * block?  Setpoints come in blocks and a baseline learned over a short
 * time has seen only some of a block's registers written; a write within
 * RG_SLACK addresses (or the block's own width, if larger) of a learned
 * block is the same block.  Far away is a different parameter (T0836).
 */
#define RG_SLACK	8
bool
bl_rg_near(const struct bl_link *l, const struct proto_range *r)
{
	uint64_t slack, lo, hi;
	uint8_t i;

	for (i = 0; i < l->nrg; i++) {
		if (l->rg[i].space != r->space)
			continue;
		slack = (uint64_t)l->rg[i].hi - l->rg[i].lo + 1;
		if (slack < RG_SLACK)
			slack = RG_SLACK;
		lo = l->rg[i].lo > slack ? l->rg[i].lo - slack : 0;
		hi = (uint64_t)l->rg[i].hi + slack;
		if (lo <= r->lo && r->hi <= hi)
			return true;
	}
	return false;
}

/*
 * Add a written range, merging overlapping and adjacent ones; when the
 * link already has MAX_RG ranges it widens the closest one of the same
 * space (detection then errs towards silence).
 */
void
bl_rg_add(struct bl_link *l, const struct proto_range *r)
{
	struct proto_range *x;
	uint8_t i, j, best = 0;
	uint64_t gap, bgap = UINT64_MAX;
	bool merged;

	if (bl_rg_contains(l, r))
		return;
	if (l->rg == NULL && (l->rg = calloc(MAX_RG, sizeof(*l->rg))) == NULL)
		return;
	for (i = 0; i < l->nrg; i++) {
		x = &l->rg[i];
		if (x->space == r->space && (uint64_t)r->lo <= (uint64_t)x->hi + 1 &&
		    (uint64_t)r->hi + 1 >= x->lo)
			break;
	}
	if (i == l->nrg) {
		if (l->nrg < MAX_RG) {
			l->rg[l->nrg++] = *r;
			return;
		}
		for (i = 0; i < l->nrg; i++) {
			x = &l->rg[i];
			if (x->space != r->space)
				continue;
			gap = r->lo > x->hi ? (uint64_t)r->lo - x->hi : (uint64_t)x->lo - r->hi;
			if (gap < bgap) {
				bgap = gap;
				best = i;
			}
		}
		l->rg_full = 1;
		if (bgap == UINT64_MAX)
			return;
		i = best;
	}
	x = &l->rg[i];
	if (r->lo < x->lo)
		x->lo = r->lo;
	if (r->hi > x->hi)
		x->hi = r->hi;
	/* the widened range may now touch others of its space */
	do {
		merged = false;
		for (j = 0; j < l->nrg; j++) {
			struct proto_range *y = &l->rg[j];

			if (j == i || y->space != x->space ||
			    (uint64_t)y->lo > (uint64_t)x->hi + 1 ||
			    (uint64_t)y->hi + 1 < x->lo)
				continue;
			if (y->lo < x->lo)
				x->lo = y->lo;
			if (y->hi > x->hi)
				x->hi = y->hi;
			l->rg[j] = l->rg[--l->nrg];
			if (i == l->nrg)
				i = j;
			x = &l->rg[i];
			merged = true;
			break;
		}
	} while (merged);
}

/* ---- what a PDU asks for: the protocol's descriptor says ------------- */


unsigned
bl_code_flags(uint8_t proto, uint16_t c)
{
	const struct proto_desc *d = proto_desc_of((enum ics_proto)proto);

	return d != NULL && d->code_ops != NULL ? d->code_ops(c) : 0;
}

const char *
bl_code_name(uint8_t proto, uint16_t c, char *buf, size_t len)
{
	const struct proto_desc *d = proto_desc_of((enum ics_proto)proto);

	if (d != NULL && d->code_name != NULL)
		return d->code_name(c, buf, len);
	snprintf(buf, len, "%u", c);
	return buf;
}

/* The codes and write ranges of a request (a PDU its sender asks with). */
void
bl_analyse(const struct det_pdu *pdu, struct proto_req *r)
{
	const struct proto_desc *d = proto_desc_of(pdu->proto);

	memset(r, 0, sizeof(*r));
	if (d != NULL && d->analyse != NULL)
		d->analyse(pdu, r);
}

/* ---- names for the file --------------------------------------------------- */

const char *
bl_proto_name(uint8_t proto, uint8_t svc)
{
	if (proto != ICS_NONE)
		return ics_proto_name((enum ics_proto)proto);
	return inv_service_name(svc);
}

/* ICS protocol by name, or -1. */
int
bl_ics_by_name(const char *name)
{
	int i;

	for (i = 1; i < ICS_NPROTO; i++)
		if (strcmp(ics_proto_name((enum ics_proto)i), name) == 0)
			return i;
	return -1;
}

cJSON *
bl_range_json(uint8_t proto, const struct proto_range *r)
{
	const struct proto_desc *d = proto_desc_of((enum ics_proto)proto);
	cJSON *o = cJSON_CreateObject();

	if (d != NULL && d->addr != NULL)
		d->addr->space_json(r->space, o);
	else
		cJSON_AddNumberToObject(o, "space", r->space);
	cJSON_AddNumberToObject(o, "start", r->lo);
	cJSON_AddNumberToObject(o, "end", r->hi);
	return o;
}

const char *
bl_range_text(uint8_t proto, const struct proto_range *r, char *buf, size_t len)
{
	const struct proto_desc *d = proto_desc_of((enum ics_proto)proto);

	if (d != NULL && d->addr != NULL)
		d->addr->range_text(r, buf, len);
	else
		snprintf(buf, len, "space %u %u-%u", r->space, r->lo, r->hi);
	return buf;
}

/* Detection: what the links say about their clients. */
void
bl_derive(struct model *m)
{
	struct bl_link *l;
	struct bl_asset *a;
	uint32_t i, bit;
	uint8_t j, fl;
	bool fresh;

	for (i = 0; i < m->links.n; i++) {
		l = bl_tab_at(&m->links, i);
		l->nfn_learned = l->nfn;
		if (l->k.proto != ICS_NONE)
			m->covered |= 1u << l->k.proto;
		a = bl_asset_put(m, l->k.af, l->k.cli, &fresh);
		if (a == NULL)
			continue;
		if (fresh)
			a->learned = 1;
		if (l->k.proto == ICS_NONE) {
			if (inv_service_remote(l->svc))
				a->remote = 1;
			continue;
		}
		bit = 1u << l->k.proto;
		for (j = 0; j < l->nfn; j++) {
			fl = bl_code_flags(l->k.proto, l->fn[j]);
			if (fl & OP_WRITE)
				a->writer |= bit;
			if (fl & OP_DISC)
				a->discoverer |= bit;
		}
		if (l->nfn > 0)
			a->cli |= bit;
	}
}

