/*
 * chantab.c - a bounded table of control channels (see chantab.h).
 */
#include "detectors/chantab.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/blext.h"
#include "detectors/detector.h"
#include "dissectors/flow.h"

int
chantab_init(struct chantab *t, size_t max, size_t esz)
{
	size_t cap = 16;

	memset(t, 0, sizeof(*t));
	while (cap < max * 2)
		cap <<= 1;
	if ((t->slot = calloc(cap, sizeof(*t->slot))) == NULL)
		return -1;
	t->cap = cap;
	t->max = max;
	t->esz = esz;
	return 0;
}

void
chantab_free(struct chantab *t)
{
	size_t i;

	if (t->slot != NULL)
		for (i = 0; i < t->cap; i++)
			free(t->slot[i]);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static uint32_t
key_hash(const struct chan_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

void *
chantab_get(struct chantab *t, const struct chan_key *k, bool create)
{
	size_t i, n;

	for (i = key_hash(k) & (t->cap - 1), n = 0; n < t->cap;
	    n++, i = (i + 1) & (t->cap - 1)) {
		void *e = t->slot[i];

		if (e == NULL) {
			if (!create)
				return NULL;
			if (t->n >= t->max) {
				t->dropped++;
				return NULL;
			}
			if ((e = calloc(1, t->esz)) == NULL) {
				t->dropped++;
				return NULL;
			}
			memcpy(e, k, sizeof(*k));
			t->slot[i] = e;
			t->n++;
			return e;
		}
		if (!memcmp(e, k, sizeof(*k)))
			return e;
	}
	return NULL;
}

void
chantab_key(struct chan_key *k, const struct det_pdu *pdu)
{
	const struct flow *f = pdu->flow;
	/* the server is who listens: the receiver of a request */
	bool srv_is_cli = pdu->from_client ? !pdu->sender_is_cli :
	    pdu->sender_is_cli;

	memset(k, 0, sizeof(*k));
	k->af = f->af;
	k->proto = (uint8_t)pdu->proto;
	memcpy(k->cli, srv_is_cli ? f->srv.ip : f->cli.ip, 16);
	memcpy(k->srv, srv_is_cli ? f->cli.ip : f->srv.ip, 16);
}

int
chantab_cmp(const void *a, const void *b)
{
	const struct chan_key *x = *(const struct chan_key *const *)a;
	const struct chan_key *y = *(const struct chan_key *const *)b;

	return memcmp(x, y, sizeof(*x));
}

void
chantab_key_json(const struct chan_key *k, cJSON *o)
{
	char buf[64];

	inet_ntop(k->af == 6 ? AF_INET6 : AF_INET, k->cli, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "client", buf);
	inet_ntop(k->af == 6 ? AF_INET6 : AF_INET, k->srv, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "server", buf);
	cJSON_AddStringToObject(o, "proto", ics_proto_name((enum ics_proto)k->proto));
}

static int
parse_ip(const char *s, uint8_t *af, uint8_t *ip)
{
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, ip) == 1) {
		*af = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip) == 1) {
		*af = 6;
		return 0;
	}
	return -1;
}

int
chantab_key_parse(const cJSON *o, struct chan_key *k)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "client");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "server");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "proto");
	uint8_t af2;
	int i;

	memset(k, 0, sizeof(*k));
	if (!cJSON_IsString(c) || !cJSON_IsString(s) || !cJSON_IsString(p) ||
	    parse_ip(c->valuestring, &k->af, k->cli) != 0 ||
	    parse_ip(s->valuestring, &af2, k->srv) != 0 || af2 != k->af)
		return -1;
	for (i = 1; i < ICS_NPROTO; i++)
		if (strcmp(ics_proto_name((enum ics_proto)i), p->valuestring) == 0) {
			k->proto = (uint8_t)i;
			return 0;
		}
	return -1;
}

size_t
chantab_bytes(const struct chantab *t)
{
	return t->cap * sizeof(*t->slot) + t->n * t->esz;
}

int
chantab_open_pair(struct chantab *learn, struct chantab *det, const char *lp,
    const char *fp, size_t max, size_t esz, const char *member,
    chantab_load_fn load, struct cJSON *(*dump)(void *state), void *state,
    const char *name, char *err, size_t errlen)
{
	bool learning = lp[0] != '\0', detecting = fp[0] != '\0';
	cJSON *m = NULL;
	int rc;

	if (chantab_init(learn, learning ? max : 1, esz) != 0 ||
	    chantab_init(det, detecting ? max : 1, esz) != 0)
		goto fail;
	if (learning) {
		if (blext_read(lp, member, 1, &m, err, errlen) != 0)
			goto fail;
		rc = load(learn, m, lp, err, errlen);
		cJSON_Delete(m);
		if (rc != 0 || blext_register(member, dump, state) != 0)
			goto fail;
	}
	if (detecting) {
		if (blext_read(fp, member, 0, &m, err, errlen) != 0)
			goto fail;
		rc = load(det, m, fp, err, errlen);
		cJSON_Delete(m);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "%s: out of memory", name);
	return -1;
}

int
chantab_pair_stats(const struct chantab *learn, const struct chantab *det,
    bool learning, bool detecting, char *buf, size_t len)
{
	return snprintf(buf, len, "\"channels\":%zu,\"capacity\":%zu,"
	    "\"dropped\":%llu,\"bytes\":%zu", learn->n + det->n,
	    (learning ? learn->max : 0) + (detecting ? det->max : 0),
	    (unsigned long long)(learn->dropped + det->dropped),
	    chantab_bytes(learn) + chantab_bytes(det));
}
