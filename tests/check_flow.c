/*
 * check_flow.c - unit suite for agent/flow.h: the bidirectional flow table.
 *
 * Packets are struct pkt values built by hand (what decode_packet would
 * fill in); the end callback records every flow that leaves the table.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/flow.h"

#define SEC	1000000ull
#define T0	(1700000000ull * SEC)

/* ---- helpers ------------------------------------------------------------ */

struct ended {
	uint64_t		id;
	enum flow_end_reason	why;
	uint64_t		pkts[2], bytes[2];
	uint16_t		cli_port, srv_port;
	uint8_t			transport;
};

static struct ended ends[64];
static size_t nends;

static void
on_end(void *arg, struct flow *f, enum flow_end_reason why)
{
	int *calls = arg;

	(*calls)++;
	if (nends < sizeof(ends) / sizeof(ends[0])) {
		ends[nends].id = f->id;
		ends[nends].why = why;
		memcpy(ends[nends].pkts, f->pkts, sizeof(f->pkts));
		memcpy(ends[nends].bytes, f->bytes, sizeof(f->bytes));
		ends[nends].cli_port = f->cli.port;
		ends[nends].srv_port = f->srv.port;
		ends[nends].transport = f->transport;
		nends++;
	}
}

static int calls;

static struct flow_table *
table(size_t max_flows)
{
	struct flow_table_opts o;
	struct flow_table *t;

	memset(&o, 0, sizeof(o));
	o.max_flows = max_flows;
	o.timeout_us[FLOW_CLS_TCP] = 300 * SEC;
	o.timeout_us[FLOW_CLS_UDP] = 60 * SEC;
	o.timeout_us[FLOW_CLS_OTHER] = 30 * SEC;
	nends = 0;
	calls = 0;
	t = flow_table_new(&o, on_end, &calls);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* An IP packet as decode_packet fills it; src/dst are v4 or v6 text. */
static struct pkt
mk(uint8_t proto, const char *src, uint16_t sport, const char *dst,
    uint16_t dport, uint64_t ts)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.ts = ts;
	p.caplen = p.wirelen = 100;
	p.layer = PKT_IP;
	if (inet_pton(AF_INET, src, p.src) == 1) {
		if (inet_pton(AF_INET, dst, p.dst) != 1)
			ck_abort_msg("bad address %s", dst);
		p.af = 4;
		p.ethertype = 0x0800;
	} else {
		if (inet_pton(AF_INET6, src, p.src) != 1 ||
		    inet_pton(AF_INET6, dst, p.dst) != 1)
			ck_abort_msg("bad address %s or %s", src, dst);
		p.af = 6;
		p.ethertype = 0x86dd;
	}
	p.ttl = 64;
	p.ip_proto = proto;
	if (proto == 6 || proto == 17) {
		p.has_ports = true;
		p.sport = sport;
		p.dport = dport;
	}
	return p;
}

static struct pkt
tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
    uint8_t flags, uint64_t ts)
{
	struct pkt p = mk(6, src, sport, dst, dport, ts);

	p.tcp_flags = flags;
	return p;
}

static struct flow *
look(struct flow_table *t, const struct pkt *p, int *dir, bool *created)
{
	struct flow *f = flow_lookup(t, p, dir, created);

	if (f == NULL)
		ck_abort_msg("flow_lookup returned NULL");
	return f;
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_bidirectional_merge)
{
	struct flow_table *t = table(100);
	struct pkt a = tcp("10.0.0.1", 40000, "10.0.0.2", 502, PKT_TCP_SYN, T0);
	struct pkt b = tcp("10.0.0.2", 502, "10.0.0.1", 40000,
	    PKT_TCP_SYN | PKT_TCP_ACK, T0 + 10);
	struct pkt c = tcp("10.0.0.1", 40000, "10.0.0.2", 502, PKT_TCP_ACK,
	    T0 + 20);
	const struct flow_stats *st;
	struct flow *f1, *f2, *f3;
	uint8_t ip1[4] = { 10, 0, 0, 1 }, ip2[4] = { 10, 0, 0, 2 };
	bool created;
	int dir;

	b.wirelen = 60;
	f1 = look(t, &a, &dir, &created);
	ck_assert(created);
	ck_assert_int_eq(dir, FLOW_C2S);
	ck_assert_uint_eq(f1->id, 1);
	f2 = look(t, &b, &dir, &created);
	ck_assert(!created);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert_ptr_eq(f1, f2);
	f3 = look(t, &c, &dir, &created);
	ck_assert(!created);
	ck_assert_int_eq(dir, FLOW_C2S);
	ck_assert_ptr_eq(f1, f3);

	ck_assert_uint_eq(f1->af, 4);
	ck_assert_uint_eq(f1->transport, 6);
	ck_assert_mem_eq(f1->cli.ip, ip1, 4);
	ck_assert_mem_eq(f1->srv.ip, ip2, 4);
	ck_assert_uint_eq(f1->cli.port, 40000);
	ck_assert_uint_eq(f1->srv.port, 502);
	ck_assert_uint_eq(f1->pkts[FLOW_C2S], 2);
	ck_assert_uint_eq(f1->pkts[FLOW_S2C], 1);
	ck_assert_uint_eq(f1->bytes[FLOW_C2S], 200);
	ck_assert_uint_eq(f1->bytes[FLOW_S2C], 60);
	ck_assert(f1->first_ts == T0);
	ck_assert(f1->last_ts == T0 + 20);
	ck_assert_uint_eq(f1->tcp_flags[FLOW_C2S], PKT_TCP_SYN | PKT_TCP_ACK);
	ck_assert_uint_eq(f1->tcp_flags[FLOW_S2C], PKT_TCP_SYN | PKT_TCP_ACK);

	st = flow_table_stats(t);
	ck_assert_uint_eq(st->created, 1);
	ck_assert_uint_eq(st->active, 1);
	ck_assert_uint_eq(st->max_active, 1);
	flow_table_free(t);
	ck_assert_int_eq(calls, 0);	/* free reports nothing */
}
END_TEST

START_TEST(test_synack_first_names_the_client)
{
	struct flow_table *t = table(100);
	/* the SYN was missed: the SYN-ACK comes from the server */
	struct pkt sa = tcp("10.0.0.2", 502, "10.0.0.1", 40000,
	    PKT_TCP_SYN | PKT_TCP_ACK, T0);
	struct pkt ack = tcp("10.0.0.1", 40000, "10.0.0.2", 502, PKT_TCP_ACK,
	    T0 + 1);
	struct flow *f;
	bool created;
	int dir;

	f = look(t, &sa, &dir, &created);
	ck_assert(created);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert_uint_eq(f->cli.port, 40000);
	ck_assert_uint_eq(f->srv.port, 502);
	ck_assert_ptr_eq(look(t, &ack, &dir, &created), f);
	ck_assert_int_eq(dir, FLOW_C2S);
	ck_assert_uint_eq(f->pkts[FLOW_C2S], 1);
	ck_assert_uint_eq(f->pkts[FLOW_S2C], 1);
	flow_table_free(t);
}
END_TEST

START_TEST(test_vlan_separates)
{
	struct flow_table *t = table(100);
	struct pkt a = mk(17, "10.0.0.1", 47808, "10.0.0.2", 47808, T0);
	struct pkt b = a, c = a;
	struct flow *fa, *fb, *fc;
	bool created;
	int dir;

	a.vlan = 10;
	b.vlan = 20;
	c.vlan = 0;
	fa = look(t, &a, &dir, &created);
	ck_assert(created);
	fb = look(t, &b, &dir, &created);
	ck_assert(created);
	fc = look(t, &c, &dir, &created);
	ck_assert(created);
	ck_assert_ptr_ne(fa, fb);
	ck_assert_ptr_ne(fb, fc);
	ck_assert_uint_eq(fa->vlan, 10);
	ck_assert_uint_eq(fb->vlan, 20);
	ck_assert_uint_eq(fc->vlan, 0);
	/* the reply on VLAN 20 joins the VLAN 20 flow */
	b = mk(17, "10.0.0.2", 47808, "10.0.0.1", 47808, T0 + 5);
	b.vlan = 20;
	ck_assert_ptr_eq(look(t, &b, &dir, &created), fb);
	ck_assert(!created);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert_uint_eq(flow_table_stats(t)->created, 3);
	ck_assert_uint_eq(flow_table_stats(t)->active, 3);
	flow_table_free(t);
}
END_TEST

START_TEST(test_key_fields_separate)
{
	struct flow_table *t = table(100);
	struct pkt tc = tcp("10.0.0.1", 1000, "10.0.0.2", 2000, PKT_TCP_ACK, T0);
	struct pkt ud = mk(17, "10.0.0.1", 1000, "10.0.0.2", 2000, T0);
	struct pkt p2 = tcp("10.0.0.1", 1001, "10.0.0.2", 2000, PKT_TCP_ACK, T0);
	struct pkt v6 = tcp("2001:db8::1", 1000, "2001:db8::2", 2000,
	    PKT_TCP_ACK, T0);
	struct pkt v6r = tcp("2001:db8::2", 2000, "2001:db8::1", 1000,
	    PKT_TCP_ACK, T0 + 1);
	struct pkt ic = mk(1, "10.0.0.1", 0, "10.0.0.2", 0, T0);
	struct pkt icr = mk(1, "10.0.0.2", 0, "10.0.0.1", 0, T0 + 1);
	struct flow *f6, *fi;
	bool created;
	int dir;

	look(t, &tc, &dir, &created);
	ck_assert(created);
	look(t, &ud, &dir, &created);
	ck_assert(created);		/* other transport, same ports */
	look(t, &p2, &dir, &created);
	ck_assert(created);		/* other source port */
	f6 = look(t, &v6, &dir, &created);
	ck_assert(created);
	ck_assert_uint_eq(f6->af, 6);
	ck_assert_ptr_eq(look(t, &v6r, &dir, &created), f6);
	ck_assert_int_eq(dir, FLOW_S2C);
	fi = look(t, &ic, &dir, &created);
	ck_assert(created);
	ck_assert_uint_eq(fi->cls, FLOW_CLS_OTHER);
	/* ICMP both ways is one flow (ports are 0) */
	ck_assert_ptr_eq(look(t, &icr, &dir, &created), fi);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert_uint_eq(flow_table_stats(t)->created, 5);
	flow_table_free(t);
}
END_TEST

START_TEST(test_idle_timeouts_per_class)
{
	struct flow_table *t = table(100);
	struct pkt tc = tcp("10.0.0.1", 1000, "10.0.0.2", 502, PKT_TCP_ACK, T0);
	struct pkt ud = mk(17, "10.0.0.1", 1000, "10.0.0.2", 20000, T0);
	struct pkt u2 = mk(17, "10.0.0.1", 1001, "10.0.0.2", 20000, T0);
	struct pkt ic = mk(1, "10.0.0.1", 0, "10.0.0.2", 0, T0);
	const struct flow_stats *st;
	uint64_t id_tcp, id_udp, id_u2, id_icmp;
	bool created;
	int dir;

	id_tcp = look(t, &tc, &dir, &created)->id;
	id_udp = look(t, &ud, &dir, &created)->id;
	id_u2 = look(t, &u2, &dir, &created)->id;
	id_icmp = look(t, &ic, &dir, &created)->id;
	/* u2 stays busy: a packet 50 s in */
	u2.ts = T0 + 50 * SEC;
	look(t, &u2, &dir, &created);
	ck_assert(!created);

	flow_expire(t, T0 + 29 * SEC);
	ck_assert_int_eq(calls, 0);
	flow_expire(t, T0 + 31 * SEC);		/* other: 30 s */
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(ends[0].id, id_icmp);
	ck_assert_int_eq(ends[0].why, FLOW_END_IDLE);
	flow_expire(t, T0 + 59 * SEC);
	ck_assert_int_eq(calls, 1);
	flow_expire(t, T0 + 61 * SEC);		/* udp: 60 s */
	ck_assert_int_eq(calls, 2);
	ck_assert_uint_eq(ends[1].id, id_udp);
	ck_assert_int_eq(ends[1].why, FLOW_END_IDLE);
	flow_expire(t, T0 + 111 * SEC);	/* u2 idle since T0 + 50 s */
	ck_assert_int_eq(calls, 3);
	ck_assert_uint_eq(ends[2].id, id_u2);
	ck_assert_uint_eq(ends[2].pkts[FLOW_C2S], 2);
	flow_expire(t, T0 + 299 * SEC);
	ck_assert_int_eq(calls, 3);
	flow_expire(t, T0 + 301 * SEC);	/* tcp: 300 s */
	ck_assert_int_eq(calls, 4);
	ck_assert_uint_eq(ends[3].id, id_tcp);
	ck_assert_int_eq(ends[3].why, FLOW_END_IDLE);

	st = flow_table_stats(t);
	ck_assert_uint_eq(st->created, 4);
	ck_assert_uint_eq(st->expired, 4);
	ck_assert_uint_eq(st->evicted, 0);
	ck_assert_uint_eq(st->ended, 0);
	ck_assert_uint_eq(st->active, 0);
	ck_assert_uint_eq(st->max_active, 4);
	flow_table_free(t);
}
END_TEST

START_TEST(test_cap_evicts_oldest_idle)
{
	struct flow_table *t = table(3);
	struct pkt f1 = tcp("10.0.0.1", 1001, "10.0.0.9", 502, PKT_TCP_ACK,
	    T0 + 1 * SEC);
	struct pkt f2 = mk(17, "10.0.0.2", 1002, "10.0.0.9", 20000,
	    T0 + 2 * SEC);
	struct pkt f3 = tcp("10.0.0.3", 1003, "10.0.0.9", 502, PKT_TCP_ACK,
	    T0 + 3 * SEC);
	struct pkt f4 = mk(1, "10.0.0.4", 0, "10.0.0.9", 0, T0 + 5 * SEC);
	struct pkt f5 = mk(17, "10.0.0.5", 1005, "10.0.0.9", 20000,
	    T0 + 6 * SEC);
	const struct flow_stats *st;
	uint64_t id1, id2, id3;
	bool created;
	int dir;

	id1 = look(t, &f1, &dir, &created)->id;
	id2 = look(t, &f2, &dir, &created)->id;
	id3 = look(t, &f3, &dir, &created)->id;
	ck_assert_int_eq(calls, 0);
	/* f1 is active again: f2 (UDP, last seen at 2 s) is now oldest-idle */
	f1.ts = T0 + 4 * SEC;
	look(t, &f1, &dir, &created);
	ck_assert(!created);
	look(t, &f4, &dir, &created);
	ck_assert(created);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(ends[0].id, id2);
	ck_assert_int_eq(ends[0].why, FLOW_END_EVICTED);
	ck_assert_uint_eq(ends[0].transport, 17);
	/* next the TCP flow last seen at 3 s */
	look(t, &f5, &dir, &created);
	ck_assert(created);
	ck_assert_int_eq(calls, 2);
	ck_assert_uint_eq(ends[1].id, id3);
	ck_assert_int_eq(ends[1].why, FLOW_END_EVICTED);

	st = flow_table_stats(t);
	ck_assert_uint_eq(st->created, 5);
	ck_assert_uint_eq(st->evicted, 2);
	ck_assert_uint_eq(st->active, 3);
	ck_assert_uint_eq(st->max_active, 3);
	ck_assert_uint_eq(st->expired, 0);

	/* f1 survived: its next packet finds it */
	f1.ts = T0 + 7 * SEC;
	ck_assert_uint_eq(look(t, &f1, &dir, &created)->id, id1);
	ck_assert(!created);
	flow_flush(t);
	ck_assert_int_eq(calls, 5);
	flow_table_free(t);
}
END_TEST

START_TEST(test_fin_rst_bookkeeping)
{
	struct flow_table *t = table(100);
	struct pkt c = tcp("10.0.0.1", 40000, "10.0.0.2", 102,
	    PKT_TCP_FIN | PKT_TCP_ACK, T0);
	struct pkt s = tcp("10.0.0.2", 102, "10.0.0.1", 40000,
	    PKT_TCP_FIN | PKT_TCP_ACK, T0 + 1);
	struct pkt r = tcp("10.0.0.1", 40001, "10.0.0.2", 102, PKT_TCP_RST,
	    T0 + 2);
	const struct flow_stats *st;
	struct flow *f, *fr;
	bool created;
	int dir;

	f = look(t, &c, &dir, &created);
	ck_assert(f->fin[FLOW_C2S]);
	ck_assert(!f->fin[FLOW_S2C]);
	ck_assert(!f->rst);
	look(t, &s, &dir, &created);
	ck_assert(f->fin[FLOW_C2S]);
	ck_assert(f->fin[FLOW_S2C]);
	ck_assert_uint_eq(f->tcp_flags[FLOW_S2C], PKT_TCP_FIN | PKT_TCP_ACK);
	fr = look(t, &r, &dir, &created);
	ck_assert(created);
	ck_assert(fr->rst);
	ck_assert(!fr->fin[0] && !fr->fin[1]);

	flow_remove(t, f, FLOW_END_FIN);
	flow_remove(t, fr, FLOW_END_FIN);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(ends[0].why, FLOW_END_FIN);
	ck_assert_uint_eq(ends[0].pkts[FLOW_C2S], 1);
	ck_assert_uint_eq(ends[0].pkts[FLOW_S2C], 1);
	ck_assert_int_eq(ends[1].why, FLOW_END_FIN);
	st = flow_table_stats(t);
	ck_assert_uint_eq(st->ended, 2);
	ck_assert_uint_eq(st->active, 0);

	/* the same 5-tuple again is a new flow */
	c.ts = T0 + 10;
	c.tcp_flags = PKT_TCP_SYN;
	f = look(t, &c, &dir, &created);
	ck_assert(created);
	ck_assert_uint_eq(f->id, 3);
	ck_assert(!f->fin[0] && !f->fin[1]);
	ck_assert_uint_eq(f->pkts[FLOW_C2S], 1);
	ck_assert_uint_eq(flow_table_stats(t)->created, 3);
	flow_table_free(t);
}
END_TEST

START_TEST(test_flush)
{
	struct flow_table *t = table(100);
	struct pkt a = tcp("10.0.0.1", 1, "10.0.0.2", 2, PKT_TCP_ACK, T0);
	struct pkt b = mk(17, "10.0.0.1", 1, "10.0.0.2", 2, T0);
	struct pkt c = mk(1, "10.0.0.1", 0, "10.0.0.2", 0, T0);
	const struct flow_stats *st;
	bool created;
	int dir, seen = 0;
	size_t i;

	look(t, &a, &dir, &created);
	look(t, &b, &dir, &created);
	look(t, &c, &dir, &created);
	flow_flush(t);
	ck_assert_int_eq(calls, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ends[i].why, FLOW_END_FLUSH);
		seen |= 1 << (ends[i].id - 1);
	}
	ck_assert_int_eq(seen, 7);	/* ids 1, 2, 3 once each */
	st = flow_table_stats(t);
	ck_assert_uint_eq(st->active, 0);
	ck_assert_uint_eq(st->expired + st->evicted + st->ended, 0);
	flow_flush(t);			/* nothing left to report */
	ck_assert_int_eq(calls, 3);
	flow_table_free(t);
	ck_assert_int_eq(calls, 3);
}
END_TEST

START_TEST(test_macs_per_endpoint)
{
	static const uint8_t ma[6] = { 2, 0, 0, 0, 0, 0xa };
	static const uint8_t mb[6] = { 2, 0, 0, 0, 0, 0xb };
	struct flow_table *t = table(100);
	struct pkt a = tcp("10.0.0.1", 1, "10.0.0.2", 2, PKT_TCP_SYN, T0);
	struct pkt b = tcp("10.0.0.2", 2, "10.0.0.1", 1,
	    PKT_TCP_SYN | PKT_TCP_ACK, T0 + 1);
	struct flow *f;
	bool created;
	int dir;

	a.has_eth = b.has_eth = true;
	memcpy(a.src_mac, ma, 6);
	memcpy(b.src_mac, mb, 6);
	f = look(t, &a, &dir, &created);
	ck_assert(f->cli.has_mac);
	ck_assert(!f->srv.has_mac);
	look(t, &b, &dir, &created);
	ck_assert(f->srv.has_mac);
	ck_assert_mem_eq(f->cli.mac, ma, 6);
	ck_assert_mem_eq(f->srv.mac, mb, 6);
	flow_table_free(t);
}
END_TEST

START_TEST(test_time_steps_back)
{
	struct flow_table *t = table(100);
	struct pkt a = mk(17, "10.0.0.1", 1, "10.0.0.2", 2, T0 + 10 * SEC);
	struct flow *f;
	bool created;
	int dir;

	f = look(t, &a, &dir, &created);
	a.ts = T0 + 5 * SEC;		/* merged captures go back in time */
	look(t, &a, &dir, &created);
	ck_assert(f->last_ts == T0 + 10 * SEC);
	ck_assert(f->first_ts == T0 + 10 * SEC);
	ck_assert_uint_eq(f->pkts[FLOW_C2S], 2);
	flow_table_free(t);
}
END_TEST

START_TEST(test_many_flows)
{
	struct flow_table *t = table(100000);
	struct flow *f;
	char ip[32];
	struct pkt p;
	bool created;
	int dir, i;

	for (i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		p = tcp(ip, (uint16_t)(1024 + i % 5000), "192.168.0.1", 502,
		    PKT_TCP_SYN, T0 + (uint64_t)i);
		f = look(t, &p, &dir, &created);
		if (f->id != (uint64_t)i + 1 || !created)
			ck_abort_msg("flow %d: id %llu created %d", i,
			    (unsigned long long)f->id, created);
	}
	for (i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		p = tcp("192.168.0.1", 502, ip, (uint16_t)(1024 + i % 5000),
		    PKT_TCP_ACK, T0 + 20000 + (uint64_t)i);
		f = look(t, &p, &dir, &created);
		if (f->id != (uint64_t)i + 1 || created || dir != FLOW_S2C)
			ck_abort_msg("reply %d: id %llu created %d dir %d", i,
			    (unsigned long long)f->id, created, dir);
	}
	ck_assert_uint_eq(flow_table_stats(t)->active, 20000);
	ck_assert_uint_eq(flow_table_stats(t)->created, 20000);
	flow_table_free(t);
}
END_TEST

START_TEST(test_end_names)
{
	ck_assert_str_eq(flow_end_name(FLOW_END_IDLE), "idle");
	ck_assert_str_eq(flow_end_name(FLOW_END_FIN), "fin");
	ck_assert_str_eq(flow_end_name(FLOW_END_EVICTED), "evicted");
	ck_assert_str_eq(flow_end_name(FLOW_END_FLUSH), "flush");
}
END_TEST

static Suite *
flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_bidirectional_merge);
	tcase_add_test(tc, test_synack_first_names_the_client);
	tcase_add_test(tc, test_vlan_separates);
	tcase_add_test(tc, test_key_fields_separate);
	tcase_add_test(tc, test_idle_timeouts_per_class);
	tcase_add_test(tc, test_cap_evicts_oldest_idle);
	tcase_add_test(tc, test_fin_rst_bookkeeping);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_macs_per_endpoint);
	tcase_add_test(tc, test_time_steps_back);
	tcase_add_test(tc, test_many_flows);
	tcase_add_test(tc, test_end_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
