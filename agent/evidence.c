/*
 * evidence.c - per-flow rings of the last frames, written out as a classic
 * pcap file.  The rings live in one table allocated at start (touched then
 * when live, lib/restab.h), so the memory evidence takes is fixed from the
 * first packet on: flows x packets x snaplen.  Flow ids are handed out in
 * order, so the ring of flow id sits in slot id % flows and is taken over
 * only by a flow created `flows` flows later.
 */
#include "agent/evidence.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/restab.h"
#include "lib/ids.h"

static const struct cfg_key evidence_keys[] = {
	{ "packets", CFG_INT, "5", 0, 64, "packets of the flow kept as an alert's evidence pcap (0: no evidence)" },
	{ "snaplen", CFG_INT, "1518", 64, 65535, "bytes kept of each evidence packet" },
	{ "dir", CFG_STR, "", 0, 0, "directory where each alert's evidence is written as <seq>.pcap (empty: none; with MQTT it is sent on .../evidence/<seq>)" },
	{ "flows", CFG_INT, "512", 16, 1048576, "flows that keep their last packets at once (memory: flows x packets x snaplen, allocated at start; the ring of the oldest flow is taken over)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

const struct cfg_schema evidence_schema = { "evidence", evidence_keys };

struct frame_hdr {
	uint64_t	ts;
	uint32_t	caplen, wirelen;
};

/* ring header; packets * (frame_hdr + snaplen) follow */
struct ring {
	uint64_t	flow_id;	/* 0: free */
	uint32_t	next, count;
};

struct evidence {
	uint8_t		*tab;		/* nflows rings of ring_size bytes */
	size_t		 nflows, ring_size;
	unsigned	 packets, snaplen;
	size_t		 slot;
	int		 dlt;
	uint8_t		*lone;		/* flow 0: the last frame alone */
	uint8_t		 fhdr[24];	/* libpcap's file header for fhdr_dlt */
	size_t		 fhdr_len;	/* 0: not made yet */
	int		 fhdr_dlt;
};

static struct ring *
ring_at(const struct evidence *ev, uint64_t flow_id)
{
	return (struct ring *)(void *)(ev->tab +
	    (size_t)(flow_id % ev->nflows) * ev->ring_size);
}

struct evidence *
evidence_new(const struct cfg *c)
{
	struct evidence *ev;

	if (cfg_int(c, "evidence", "packets") <= 0)
		return NULL;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return NULL;
	ev->packets = (unsigned)cfg_int(c, "evidence", "packets");
	ev->snaplen = (unsigned)cfg_int(c, "evidence", "snaplen");
	/* 8-byte aligned slots: frame headers are copied, never cast */
	ev->slot = (sizeof(struct frame_hdr) + ev->snaplen + 7) & ~(size_t)7;
	ev->dlt = 1;
	ev->nflows = (size_t)cfg_int(c, "evidence", "flows");
	ev->ring_size = sizeof(struct ring) + ev->packets * ev->slot;
	/*
	 * Live, touched now, page by page, so the resident size does not grow
	 * with traffic; reading a file, its pages are faulted in as flows use
	 * them (lib/restab.h).
	 */
	ev->tab = restab_new(ev->nflows, ev->ring_size);
	ev->lone = calloc(1, sizeof(struct ring) + ev->slot);
	if (ev->tab == NULL || ev->lone == NULL) {
		evidence_free(ev);
		return NULL;
	}
	return ev;
}

void
evidence_free(struct evidence *ev)
{
	if (ev == NULL)
		return;
	restab_free(ev->tab, ev->nflows, ev->ring_size);
	free(ev->lone);
	free(ev);
}

void
evidence_set_dlt(struct evidence *ev, int dlt)
{
	if (ev != NULL)
		ev->dlt = dlt;
}

static uint8_t *
slot_at(const struct evidence *ev, struct ring *r, uint32_t i)
{
	return (uint8_t *)(r + 1) + (size_t)i * ev->slot;
}

void
evidence_add(struct evidence *ev, uint64_t flow_id, uint64_t ts,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct frame_hdr h;
	struct ring *r;
	uint32_t cap;
	uint8_t *s;

	if (ev == NULL)
		return;
	cap = caplen < ev->snaplen ? caplen : ev->snaplen;
	h.ts = ts;
	h.caplen = cap;
	h.wirelen = wirelen;
	if (flow_id == 0) {
		r = (struct ring *)(void *)ev->lone;
		r->next = 0;
		r->count = 1;
		s = (uint8_t *)(r + 1);
	} else {
		r = ring_at(ev, flow_id);
		if (r->flow_id != flow_id) {
			r->flow_id = flow_id;
			r->next = r->count = 0;
		}
		s = slot_at(ev, r, r->next);
		/* next < packets always: a compare, not a division */
		if (++r->next == ev->packets)
			r->next = 0;
		if (r->count < ev->packets)
			r->count++;
	}
	memcpy(s, &h, sizeof(h));
	memcpy(s + sizeof(h), data, cap);
}

/*
 * The savefile header libpcap writes for ev->dlt (24 bytes: magic,
 * version, snaplen 65535 and the LINKTYPE libpcap maps the DLT to), made
 * by libpcap once per link type; 0 or IDS_ENOMEM.
 */
static int
file_header(struct evidence *ev)
{
	pcap_dumper_t *d;
	char *buf = NULL;
	size_t blen = 0;
	pcap_t *dead;
	FILE *fp;

	if (ev->fhdr_len > 0 && ev->fhdr_dlt == ev->dlt)
		return 0;
	dead = pcap_open_dead(ev->dlt, 65535);
	if (dead == NULL)
		return IDS_ENOMEM;
	fp = open_memstream(&buf, &blen);
	d = fp != NULL ? pcap_dump_fopen(dead, fp) : NULL;
	if (d == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(buf);
		pcap_close(dead);
		return IDS_ENOMEM;
	}
	pcap_dump_close(d);	/* closes fp: buf and blen are final */
	pcap_close(dead);
	if (buf == NULL || blen != sizeof(ev->fhdr)) {
		free(buf);
		return IDS_ENOMEM;
	}
	memcpy(ev->fhdr, buf, blen);
	free(buf);
	ev->fhdr_len = blen;
	ev->fhdr_dlt = ev->dlt;
	return 0;
}

/*
 * The file is libpcap's header and, per packet, the record pcap_dump()
 * writes (tv_sec, tv_usec, caplen, len: 32 bits each, host order, as the
 * header's magic says) and the frame, written here into one buffer: a
 * dumper per alert (memstream, FILE buffer, pcap_t) was 3% of the capture
 * thread in an alert storm.
 */
int
evidence_pcap(struct evidence *ev, uint64_t flow_id, uint8_t **out,
    size_t *len, unsigned *npkts)
{
	struct frame_hdr h;
	struct ring *r;
	uint32_t i, first, k, rec[4];
	uint8_t *buf, *p;
	size_t blen;

	if (ev == NULL)
		return IDS_EINVAL;
	if (flow_id == 0)
		r = (struct ring *)(void *)ev->lone;
	else
		r = ring_at(ev, flow_id);
	if (r == NULL || r->count == 0 || (flow_id != 0 && r->flow_id != flow_id))
		return IDS_EINVAL;
	if (file_header(ev) != 0)
		return IDS_ENOMEM;
	first = flow_id == 0 ? 0 : (r->next + ev->packets - r->count) %
	    ev->packets;
	blen = ev->fhdr_len;
	for (k = 0; k < r->count; k++) {
		i = flow_id == 0 ? 0 : (first + k) % ev->packets;
		memcpy(&h, slot_at(ev, r, i), sizeof(h));
		blen += sizeof(rec) + h.caplen;
	}
	buf = malloc(blen);
	if (buf == NULL)
		return IDS_ENOMEM;
	memcpy(buf, ev->fhdr, ev->fhdr_len);
	p = buf + ev->fhdr_len;
	for (k = 0; k < r->count; k++) {
		i = flow_id == 0 ? 0 : (first + k) % ev->packets;
		memcpy(&h, slot_at(ev, r, i), sizeof(h));
		rec[0] = (uint32_t)(h.ts / 1000000u);
		rec[1] = (uint32_t)(h.ts % 1000000u);
		rec[2] = h.caplen;
		rec[3] = h.wirelen;
		memcpy(p, rec, sizeof(rec));
		memcpy(p + sizeof(rec), slot_at(ev, r, i) + sizeof(h),
		    h.caplen);
		p += sizeof(rec) + h.caplen;
	}
	*out = buf;
	*len = blen;
	*npkts = r->count;
	return 0;
}

void
evidence_forget(struct evidence *ev, uint64_t flow_id)
{
	struct ring *r;

	if (ev == NULL || flow_id == 0)
		return;
	r = ring_at(ev, flow_id);
	if (r->flow_id == flow_id)
		r->flow_id = 0;
}

int
evidence_sink_dir(void *arg, uint64_t seq, const void *pcap, size_t len)
{
	char path[4096];
	int n;

	n = snprintf(path, sizeof(path), "%s/%llu.pcap", (const char *)arg,
	    (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(path))
		return IDS_EINVAL;
	return atomic_write(path, pcap, len, false) == 0 ? 0 : IDS_EIO;
}
