/*
 * flow.c - bidirectional flow table with per-class LRU lists.
 *
 * Flows are kept on one doubly-linked list per transport class in order
 * of last activity (a packet moves its flow to the tail), so the heads are
 * the oldest-idle flows: expiry and cap eviction never scan the table.
 */
#include "dissectors/flow.h"

#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"

struct lru {
	struct flow	*head, *tail;
};

struct flow_table {
	struct flow_table_opts	 o;
	struct flow		**buckets;
	size_t			 mask;
	struct lru		 lru[FLOW_NCLS];
	struct flow_stats	 st;
	uint64_t		 next_id;
	flow_end_fn		 on_end;
	void			*arg;
	struct flow		*free_list;	/* recycled flow structs */
	size_t			 free_n;
};

/* Keep a few structs for reuse: avoids malloc/free per short flow. */
#define FLOW_FREE_KEEP	1024

const char *
flow_end_name(enum flow_end_reason why)
{
	switch (why) {
	case FLOW_END_IDLE:	return "idle";
	case FLOW_END_FIN:	return "fin";
	case FLOW_END_EVICTED:	return "evicted";
	case FLOW_END_FLUSH:	return "flush";
	}
	return "unknown";
}

struct flow_table *
flow_table_new(const struct flow_table_opts *o, flow_end_fn on_end, void *arg)
{
	struct flow_table *t;
	size_t n = 1024;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->o = *o;
	if (t->o.max_flows == 0)
		t->o.max_flows = 1;
	/*
	 * Start small and double with the number of active flows: a small
	 * table of a few polling sessions stays in cache (grow_buckets).
	 */
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->on_end = on_end;
	t->arg = arg;
	t->next_id = 1;
	return t;
}

static void
lru_unlink(struct lru *l, struct flow *f)
{
	if (f->lru_prev != NULL)
		f->lru_prev->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next != NULL)
		f->lru_next->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void
lru_append(struct lru *l, struct flow *f)
{
	f->lru_next = NULL;
	f->lru_prev = l->tail;
	if (l->tail != NULL)
		l->tail->lru_next = f;
	else
		l->head = f;
	l->tail = f;
}

static void
flow_release(struct flow_table *t, struct flow *f)
{
	if (t->free_n < FLOW_FREE_KEEP) {
		f->hnext = t->free_list;
		t->free_list = f;
		t->free_n++;
	} else
		free(f);
}

void
flow_table_free(struct flow_table *t)
{
	struct flow *f, *next;
	int c;

	if (t == NULL)
		return;
	for (c = 0; c < FLOW_NCLS; c++)
		for (f = t->lru[c].head; f != NULL; f = next) {
			next = f->lru_next;
			free(f);
		}
	for (f = t->free_list; f != NULL; f = next) {
		next = f->hnext;
		free(f);
	}
	free(t->buckets);
	free(t);
}

/*
 * Order-independent hash of the key: both directions of a flow must land
 * in one bucket, so the addresses and ports are combined with xor and
 * sum before mixing.  Addresses are 16 bytes, zero past an IPv4 one.
 */
static inline __attribute__((always_inline)) uint32_t
key_hash(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb,
    uint8_t proto, uint16_t vlan, size_t alen)
{
	uint64_t a0, a1, b0, b1, h;

	(void)alen;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	h = (a0 ^ b0) * 0x9e3779b97f4a7c15u;
	h ^= ((a1 ^ b1) + (a0 + b0)) * 0xc2b2ae3d27d4eb4fu;
	h ^= ((uint64_t)(pa ^ pb) << 32 | (uint64_t)(uint16_t)(pa + pb) << 16 |
	    (uint64_t)proto << 8) ^ ((uint64_t)vlan << 48);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 29;
	return (uint32_t)h;
}

/*
 * Addresses are stored in 16 bytes, zero past an IPv4 address (pkt and
 * flow are zeroed before they are filled), so one fixed-size compare the
 * compiler inlines serves both families.
 */
static bool
endpoint_is(const struct flow_endpoint *e, const uint8_t *ip, uint16_t port,
    size_t alen)
{
	uint64_t a[2], b[2];

	(void)alen;
	if (e->port != port)
		return false;
	memcpy(a, e->ip, 16);
	memcpy(b, ip, 16);
	return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

static void
unlink_and_report(struct flow_table *t, struct flow *f,
    enum flow_end_reason why)
{
	struct flow **pp = &t->buckets[f->hash & t->mask];

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp == f)
		*pp = f->hnext;
	lru_unlink(&t->lru[f->cls], f);
	t->st.active--;
	switch (why) {
	case FLOW_END_IDLE:	t->st.expired++; break;
	case FLOW_END_FIN:	t->st.ended++; break;
	case FLOW_END_EVICTED:	t->st.evicted++; break;
	case FLOW_END_FLUSH:	break;
	}
	if (t->on_end != NULL)
		t->on_end(t->arg, f, why);
	flow_release(t, f);
}

void
flow_remove(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	unlink_and_report(t, f, why);
}

static void
evict_oldest(struct flow_table *t)
{
	struct flow *old = NULL;
	int c;

	for (c = 0; c < FLOW_NCLS; c++) {
		struct flow *h = t->lru[c].head;

		if (h != NULL && (old == NULL || h->last_ts < old->last_ts))
			old = h;
	}
	if (old != NULL)
		unlink_and_report(t, old, FLOW_END_EVICTED);
}

/*
 * The flow of p (dir set) or NULL; *h receives the key hash.  Inlined in
 * its two callers (once per packet): a call and a second frame cost as
 * much as the bucket walk.
 */
static inline __attribute__((always_inline)) struct flow *
find(const struct flow_table *t, const struct pkt *p, int *dir, uint32_t *h)
{
	/* layer-2 keys (af 0) hold a MAC: compare all 16 bytes */
	size_t alen = p->af == 4 ? 4 : 16;
	struct flow *f;

	*h = key_hash(p->src, p->sport, p->dst, p->dport, p->ip_proto, p->vlan,
	    alen);
	for (f = t->buckets[*h & t->mask]; f != NULL; f = f->hnext) {
		if (f->hash != *h || f->af != p->af ||
		    f->transport != p->ip_proto || f->vlan != p->vlan)
			continue;
		if (endpoint_is(&f->cli, p->src, p->sport, alen) &&
		    endpoint_is(&f->srv, p->dst, p->dport, alen)) {
			*dir = FLOW_C2S;
			return f;
		}
		if (endpoint_is(&f->srv, p->src, p->sport, alen) &&
		    endpoint_is(&f->cli, p->dst, p->dport, alen)) {
			*dir = FLOW_S2C;
			return f;
		}
	}
	return NULL;
}

static inline __attribute__((always_inline)) struct flow *flow_touch(
    struct flow_table *t, struct flow *f, const struct pkt *p, int dir);

struct flow *
flow_find(struct flow_table *t, const struct pkt *p, int *dir)
{
	struct flow *f;
	uint32_t h;

	f = find(t, p, dir, &h);
	return f != NULL ? flow_touch(t, f, p, *dir) : NULL;
}

/* Double the bucket array (at most 2^22 buckets); on failure keep it. */
static void
grow_buckets(struct flow_table *t)
{
	size_t n = (t->mask + 1) * 2, i;
	struct flow **nb, *f, *next;

	if (n > (1u << 22) || (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i <= t->mask; i++)
		for (f = t->buckets[i]; f != NULL; f = next) {
			next = f->hnext;
			f->hnext = nb[f->hash & (n - 1)];
			nb[f->hash & (n - 1)] = f;
		}
	free(t->buckets);
	t->buckets = nb;
	t->mask = n - 1;
}

struct flow *
flow_lookup(struct flow_table *t, const struct pkt *p, int *dir, bool *created)
{
	/* layer-2 keys (af 0) hold a MAC: compare all 16 bytes */
	size_t alen = p->af == 4 ? 4 : 16;
	uint32_t h;
	struct flow *f;

	*created = false;
	f = find(t, p, dir, &h);
	if (f != NULL)
		return flow_touch(t, f, p, *dir);

	if (t->st.active >= t->o.max_flows)
		evict_oldest(t);
	else if (t->st.active >= t->mask + 1)
		grow_buckets(t);
	if (t->free_list != NULL) {
		f = t->free_list;
		t->free_list = f->hnext;
		t->free_n--;
	} else {
		f = malloc(sizeof(*f));
		if (f == NULL)
			return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->id = t->next_id++;
	f->af = p->af;
	f->transport = p->ip_proto;
	f->vlan = p->vlan;
	memcpy(f->cli.ip, p->src, alen);
	memcpy(f->srv.ip, p->dst, alen);
	f->cli.port = p->sport;
	f->srv.port = p->dport;
	/*
	 * A SYN-ACK seen first means we missed the SYN: the sender of the
	 * SYN-ACK is the server, so swap to keep cli = the initiator.
	 */
	*dir = FLOW_C2S;
	if (p->ip_proto == 6 &&
	    (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK)) {
		struct flow_endpoint tmp = f->cli;

		f->cli = f->srv;
		f->srv = tmp;
		*dir = FLOW_S2C;
	}
	f->first_ts = p->ts;
	f->hash = h;
	f->cls = p->ip_proto == 6 ? FLOW_CLS_TCP :
	    p->ip_proto == 17 ? FLOW_CLS_UDP : FLOW_CLS_OTHER;
	f->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = f;
	lru_append(&t->lru[f->cls], f);
	t->st.created++;
	if (++t->st.active > t->st.max_active)
		t->st.max_active = t->st.active;
	*created = true;
	return flow_touch(t, f, p, *dir);
}

/* Count p in f and move f to the tail of its LRU list. */
static inline __attribute__((always_inline)) struct flow *
flow_touch(struct flow_table *t, struct flow *f, const struct pkt *p, int dir)
{
	/* captures can step back in time (merged files): keep last_ts monotonic */
	if (p->ts > f->last_ts)
		f->last_ts = p->ts;
	if (f->lru_next != NULL) {
		lru_unlink(&t->lru[f->cls], f);
		lru_append(&t->lru[f->cls], f);
	}
	f->pkts[dir]++;
	f->bytes[dir] += p->wirelen;
	{
		uint32_t sec = (uint32_t)(p->ts / 1000000u);

		if (sec != f->rate_sec[dir]) {
			f->rate_prev[dir] = sec == f->rate_sec[dir] + 1 ?
			    f->rate_cur[dir] : 0;
			f->rate_cur[dir] = 0;
			f->rate_sec[dir] = sec;
		}
		f->rate_cur[dir]++;
	}
	if (p->has_eth) {
		struct flow_endpoint *e = dir == FLOW_C2S ? &f->cli : &f->srv;

		if (!e->has_mac) {
			memcpy(e->mac, p->src_mac, 6);
			e->has_mac = true;
		}
	}
	if (p->ip_proto == 6) {
		f->tcp_flags[dir] |= p->tcp_flags;
		if (p->tcp_flags & PKT_TCP_FIN)
			f->fin[dir] = true;
		if (p->tcp_flags & PKT_TCP_RST)
			f->rst = true;
	}
	return f;
}

void
flow_expire(struct flow_table *t, uint64_t now)
{
	int c;

	for (c = 0; c < FLOW_NCLS; c++) {
		struct flow *f;

		while ((f = t->lru[c].head) != NULL &&
		    f->last_ts + t->o.timeout_us[c] < now)
			unlink_and_report(t, f, FLOW_END_IDLE);
	}
}

void
flow_flush(struct flow_table *t)
{
	int c;

	for (c = 0; c < FLOW_NCLS; c++)
		while (t->lru[c].head != NULL)
			unlink_and_report(t, t->lru[c].head, FLOW_END_FLUSH);
}

void
flow_each(struct flow_table *t, void (*fn)(void *arg, struct flow *f),
    void *arg)
{
	struct flow *f;
	int c;

	for (c = 0; c < FLOW_NCLS; c++)
		for (f = t->lru[c].head; f != NULL; f = f->lru_next)
			fn(arg, f);
}

uint32_t
flow_recent_rate(const struct flow *f, int dir, uint64_t now)
{
	uint32_t sec = (uint32_t)(now / 1000000u);

	if (sec == f->rate_sec[dir])
		return f->rate_cur[dir] > f->rate_prev[dir] ? f->rate_cur[dir] :
		    f->rate_prev[dir];
	if (sec == f->rate_sec[dir] + 1)
		return f->rate_cur[dir];
	return 0;
}

const struct flow_stats *
flow_table_stats(const struct flow_table *t)
{
	return &t->st;
}

void
flow_l2_key(struct pkt *p, uint16_t appid)
{
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
	memcpy(p->src, p->src_mac, 6);
	memcpy(p->dst, p->dst_mac, 6);
	p->af = 0;
	p->ip_proto = 0;
	p->sport = appid;
	p->dport = p->ethertype;
}
