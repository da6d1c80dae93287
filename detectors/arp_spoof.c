/*
 * arp_spoof.c - ARP spoofing / IP-MAC conflicts (ATT&CK for ICS T0830
 * Adversary-in-the-Middle), RFC 826.
 *
 * The first MAC seen claiming an IP (as ARP sender) is its binding.  An
 * ARP packet in which another MAC claims that IP - a forged reply, or a
 * gratuitous ARP - is a conflict.  A binding whose MAC has not been heard
 * for rebind_after seconds is replaced without an alert (a replaced NIC).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "detectors/detector.h"
#include "lib/ipmap.h"

struct binding {
	uint8_t		mac[6];
	uint64_t	last_seen;	/* when the bound MAC last claimed it */
};

struct arp_state {
	struct ipmap	*by_ip;		/* IPv4 -> binding */
	uint64_t	 rebind_us;
};

static const struct cfg_key keys[] = {
	{ "max_hosts", CFG_INT, "16384", 16, 10000000, "IP bindings remembered" },
	{ "rebind_after", CFG_DOUBLE, "3600", 1, 31536000,
	  "seconds after which an IP whose MAC went silent may move without alert" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
arp_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct arp_state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->by_ip = ipmap_new((size_t)cfg_int(c, sec, "max_hosts"),
	    sizeof(struct binding));
	if (s->by_ip == NULL) {
		free(s);
		return -1;
	}
	s->rebind_us = (uint64_t)(cfg_double(c, sec, "rebind_after") * 1e6);
	*state = s;
	return 0;
}

static void
arp_destroy(void *state)
{
	struct arp_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->by_ip);
	free(s);
}

static void
fmt_mac(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}

static void
arp_packet(void *state, struct det_ctx *ctx, const struct pkt *p)
{
	static const uint8_t zero[4];
	struct arp_state *s = state;
	struct binding *b;
	struct det_alert a;
	char oldm[24], newm[24], ip[20], title[160];
	int fresh;

	/* 0.0.0.0 senders are ARP probes (RFC 5227), they claim nothing */
	if (memcmp(p->arp.spa, zero, 4) == 0)
		return;
	b = ipmap_put(s->by_ip, p->arp.spa, 4, p->ts, &fresh);
	if (b == NULL)
		return;
	if (fresh || memcmp(b->mac, p->arp.sha, 6) == 0) {
		memcpy(b->mac, p->arp.sha, 6);
		b->last_seen = p->ts;
		return;
	}
	if (p->ts > b->last_seen + s->rebind_us) {
		memcpy(b->mac, p->arp.sha, 6);
		b->last_seen = p->ts;
		return;
	}
	fmt_mac(b->mac, oldm, sizeof(oldm));
	fmt_mac(p->arp.sha, newm, sizeof(newm));
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", p->arp.spa[0], p->arp.spa[1],
	    p->arp.spa[2], p->arp.spa[3]);
	memset(&a, 0, sizeof(a));
	a.detector = "net.arp_spoof";
	a.severity = SEV_HIGH;
	a.technique = "T0830";
	snprintf(title, sizeof(title), "ARP spoofing: %s claimed by %s (bound to %s)",
	    ip, newm, oldm);
	a.title = title;
	a.proto = "arp";
	a.ts = p->ts;
	/* src: the claimed IP with the MAC that claimed it */
	a.src.af = 4;
	memcpy(a.src.ip, p->arp.spa, 4);
	a.src.has_mac = true;
	memcpy(a.src.mac, p->arp.sha, 6);
	a.dst.af = 4;
	memcpy(a.dst.ip, p->arp.tpa, 4);
	a.dst.has_mac = memcmp(p->arp.tha, "\0\0\0\0\0\0", 6) != 0;
	memcpy(a.dst.mac, p->arp.tha, 6);
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "ip", ip);
	cJSON_AddStringToObject(a.details, "bound_mac", oldm);
	cJSON_AddStringToObject(a.details, "claiming_mac", newm);
	cJSON_AddStringToObject(a.details, "arp_op",
	    p->arp.op == 2 ? "reply" : p->arp.op == 1 ? "request" : "other");
	cJSON_AddBoolToObject(a.details, "gratuitous",
	    memcmp(p->arp.spa, p->arp.tpa, 4) == 0);
	a.agg_key = newm;
	det_alert(ctx, &a);
}

const struct detector det_arp = {
	.name = "arp",
	.severity = SEV_HIGH,
	.keys = keys,
	.init = arp_init,
	.on_arp = arp_packet,
	.destroy = arp_destroy,
};
