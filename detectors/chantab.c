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
	memset(t, 0, sizeof(*t));
	t->max = max;
	return htab_init(&t->h, esz, sizeof(struct chan_key),
	    max > UINT32_MAX ? UINT32_MAX : (uint32_t)max);
}

void
chantab_free(struct chantab *t)
{
	htab_free(&t->h);
	memset(t, 0, sizeof(*t));
}

void *
chantab_get(struct chantab *t, const struct chan_key *k, bool create)
{
	bool fresh;
	void *e;

	if (!create)
		return htab_get(&t->h, k);
	if ((e = htab_put(&t->h, k, &fresh)) == NULL)
		t->dropped++;
	t->n = htab_count(&t->h);
	return e;
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

int
chantab_load(struct chantab *t, const cJSON *arr, chantab_fill_fn fill,
    const char *path, const char *member, const char *what, char *err,
    size_t errlen)
{
	const cJSON *o;
	struct chan_key k;
	void *e;
	int idx = 0;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		goto bad;
	cJSON_ArrayForEach(o, arr) {
		if (chantab_key_parse(o, &k) != 0)
			goto bad;
		if ((e = chantab_get(t, &k, true)) == NULL)
			return 0;	/* counted as dropped */
		if (fill(e, o) != 0)
			goto bad;
		idx++;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: corrupt baseline: \"%s\"[%d] is not a %s",
	    path, member, idx, what);
	return -1;
}

static uint64_t
point_key(const uint8_t *e, size_t ksz)
{
	uint32_t k32;
	uint64_t k64;

	if (ksz == sizeof(k32)) {
		memcpy(&k32, e, sizeof(k32));
		return k32;
	}
	memcpy(&k64, e, sizeof(k64));
	return k64;
}

void *
chantab_point(void *arr, uint16_t *n, uint16_t max, size_t esz, size_t ksz,
    uint64_t key, bool create, uint8_t *full)
{
	uint8_t *a = arr;
	int lo = 0, hi = (int)*n - 1, mid;
	uint64_t km;

	while (lo <= hi) {
		mid = (lo + hi) / 2;
		km = point_key(a + (size_t)mid * esz, ksz);
		if (km == key)
			return a + (size_t)mid * esz;
		if (km < key)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (!create)
		return NULL;
	if (*n == max) {
		*full = 1;
		return NULL;
	}
	memmove(a + (size_t)(lo + 1) * esz, a + (size_t)lo * esz,
	    (size_t)(*n - lo) * esz);
	memset(a + (size_t)lo * esz, 0, esz);
	if (ksz == sizeof(uint32_t)) {
		uint32_t k32 = (uint32_t)key;

		memcpy(a + (size_t)lo * esz, &k32, sizeof(k32));
	} else
		memcpy(a + (size_t)lo * esz, &key, sizeof(key));
	(*n)++;
	return a + (size_t)lo * esz;
}

size_t
chantab_bytes(const struct chantab *t)
{
	return htab_bytes(&t->h);
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

cJSON *
chantab_json(const struct chantab *t, bool (*keep)(const void *),
    cJSON *(*json)(void *))
{
	void **v;
	cJSON *arr;
	size_t i, n = 0;

	if ((v = calloc(t->n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < t->n; i++) {
		void *e = chantab_at(t, i);

		if (keep == NULL || keep(e))
			v[n++] = e;
	}
	qsort(v, n, sizeof(*v), chantab_cmp);
	if ((arr = cJSON_CreateArray()) != NULL)
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, json(v[i]));
	free(v);
	return arr;
}
