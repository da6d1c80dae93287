/*
 * bacnet_iam.c - who announces a BACnet device instance.
 *
 * A BACnet device instance is unique on an internetwork (ASHRAE 135
 * 12.11.1); a device announces it with I-Am, and Who-Has/Who-Is answers,
 * alarms and trends are routed by it.  The announcer is the address the
 * I-Am came from: the BVLC originator of a Forwarded-NPDU, else the
 * sender's IP and port, plus the NPDU source network and MAC when a
 * router relays it for a device behind it.
 *
 *   bacnet.iam_conflict  an instance announced from a second address
 *                        while the first still announced it within
 *                        window_s: another device claims its identity
 *                        (spoofed I-Am to capture its traffic or hide
 *                        it)                                 T0849 (T0856)
 *
 * A device that moves (a new DHCP lease) stops announcing from the old
 * address: once the first announcer has been silent for window_s the new
 * one simply takes over.  Memory: max_devices instances in a fixed table;
 * what does not fit is counted.
 */
#include <arpa/inet.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/wintab.h"
#include "dissectors/bacnet.h"
#include "dissectors/flow.h"

struct who {
	uint8_t		af;
	uint8_t		ip[16];
	uint16_t	port;
	uint16_t	snet;
	uint8_t		slen;
	uint8_t		sadr[8];
};

struct dev {
	uint32_t	instance;
	uint8_t		used;
	struct who	a;
	uint64_t	last, alerted;
};

struct iam {
	struct wintab	 t;	/* of struct dev */
};

static const struct cfg_key keys[] = {
	{ "max_devices", CFG_INT, "1024", 16, 1 << 22,
	  "BACnet device instances whose announcer is kept" },
	{ "window_s", CFG_INT, "600", 1, 86400 * 7,
	  "a second announcer within this many seconds of the first one's last I-Am is a conflict" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static void
announcer(const struct det_pdu *pdu, const struct bacnet_pdu *m, struct who *w)
{
	const struct flow *f = pdu->flow;
	const struct flow_endpoint *e = pdu->sender_is_cli ? &f->cli : &f->srv;

	memset(w, 0, sizeof(*w));
	if (m->has_orig_addr) {
		uint32_t ip = htonl(m->orig_ip);

		w->af = 4;
		memcpy(w->ip, &ip, 4);
		w->port = m->orig_port;
	} else {
		w->af = f->af;
		memcpy(w->ip, e->ip, 16);
		w->port = e->port;
	}
	if (m->has_snet) {
		w->snet = m->snet;
		w->slen = m->slen < sizeof(w->sadr) ? m->slen : sizeof(w->sadr);
		if (m->sadr != NULL)
			memcpy(w->sadr, m->sadr, w->slen);
	}
}

static const char *
who_str(const struct who *w, char *buf, size_t len)
{
	char ip[64];
	size_t n;
	int i;

	inet_ntop(w->af == 6 ? AF_INET6 : AF_INET, w->ip, ip, sizeof(ip));
	n = (size_t)snprintf(buf, len, "%s:%u", ip, w->port);
	if (w->slen > 0 && n < len) {
		n += (size_t)snprintf(buf + n, len - n, " net %u mac ", w->snet);
		for (i = 0; i < w->slen && n + 3 < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%02x", w->sadr[i]);
	}
	return buf;
}

static struct dev *
dev_get(struct iam *s, uint32_t inst)
{
	struct dev *tab = s->t.slots;
	size_t i, k;

	for (i = (inst * 2654435761u) & (s->t.cap - 1), k = 0; k < s->t.cap;
	    k++, i = (i + 1) & (s->t.cap - 1)) {
		struct dev *d = &tab[i];

		if (!d->used) {
			if (!wintab_take(&s->t))
				return NULL;
			d->used = 1;
			d->instance = inst;
			return d;
		}
		if (d->instance == inst)
			return d;
	}
	return NULL;
}

static void
iam_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct iam *s = state;
	const struct bacnet_pdu *m = pdu->u.bacnet;
	struct who w;
	struct dev *d;
	struct det_alert a;
	char title[256], was[96], now[96], agg[16];
	cJSON *det;

	if (!m->has_iam || pdu->flow == NULL || pdu->flow->af == 0)
		return;
	announcer(pdu, m, &w);
	if ((d = dev_get(s, m->iam_device_instance)) == NULL)
		return;
	if (d->last == 0 || !memcmp(&d->a, &w, sizeof(w))) {
		d->a = w;
		d->last = pdu->ts;
		return;
	}
	if (pdu->ts >= d->last + s->t.window_us) {
		/* the old announcer went quiet: the device moved */
		d->a = w;
		d->last = pdu->ts;
		return;
	}
	/* the first announcer keeps the instance; the newcomer is judged */
	if (!wintab_once(&d->alerted, pdu->ts, s->t.window_us))
		return;
	who_str(&d->a, was, sizeof(was));
	who_str(&w, now, sizeof(now));
	det_alert_from_pdu(&a, pdu);
	snprintf(title, sizeof(title),
	    "BACnet device %u announced by %s while %s announces it (%.0f s ago)",
	    m->iam_device_instance, now, was,
	    (double)(pdu->ts - d->last) / 1e6);
	det = cJSON_CreateObject();
	cJSON_AddNumberToObject(det, "device_instance", m->iam_device_instance);
	cJSON_AddStringToObject(det, "announcer", now);
	cJSON_AddStringToObject(det, "established_announcer", was);
	cJSON_AddNumberToObject(det, "vendor_id", m->iam_vendor_id);
	if (s->t.dropped)
		cJSON_AddNumberToObject(det, "devices_dropped",
		    (double)s->t.dropped);
	snprintf(agg, sizeof(agg), "%u", m->iam_device_instance);
	a.detector = "bacnet.iam_conflict";
	a.severity = SEV_HIGH;
	a.technique = "T0849";
	a.techniques[0] = "T0856";	/* what it then reports is spoofed */
	a.title = title;
	a.details = det;
	a.agg_key = agg;
	det_alert(ctx, &a);
}

static int
iam_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct iam *s = calloc(1, sizeof(*s));

	if (s == NULL || wintab_init(&s->t, sizeof(struct dev),
	    (size_t)cfg_int(c, sec, "max_devices"),
	    cfg_int(c, sec, "window_s")) != 0) {
		free(s);
		snprintf(err, errlen, "bacnet_iam: out of memory");
		return -1;
	}
	*state = s;
	return 0;
}

static void
iam_destroy(void *state)
{
	struct iam *s = state;

	if (s != NULL)
		wintab_free(&s->t);
	free(s);
}

static int
iam_stats(void *state, char *buf, size_t len)
{
	return wintab_stats(&((const struct iam *)state)->t, "devices", buf,
	    len);
}

static void
iam_counters(void *state, det_counter_fn add, void *arg)
{
	add(arg, "devices_dropped", ((const struct iam *)state)->t.dropped);
}

const struct detector det_bacnet_iam = {
	.name = "bacnet_iam",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_BACNET),
	.init = iam_init,
	.on_pdu = iam_pdu,
	.stats = iam_stats,
	.counters = iam_counters,
	.destroy = iam_destroy,
};
