/*
 * evidence.h - the last packets of each flow, kept so that an alert can
 * carry the packets that triggered it as a small pcap ([evidence]
 * packets and snaplen bound one alert's capture; flows bounds how many
 * flows keep a ring: the least recently used ring is recycled).
 */
#ifndef ICSENTRY_AGENT_EVIDENCE_H
#define ICSENTRY_AGENT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/cfg.h"

extern const struct cfg_schema evidence_schema;

struct evidence;

/* From [evidence]; NULL when off (packets = 0) or out of memory. */
struct evidence *evidence_new(const struct cfg *c);
void evidence_free(struct evidence *ev);

/* The capture's link type (pcap DLT) for the files written. */
void evidence_set_dlt(struct evidence *ev, int dlt);

/* Keep one frame of flow flow_id (0: no flow, the frame is kept alone). */
void evidence_add(struct evidence *ev, uint64_t flow_id, uint64_t ts,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/*
 * A pcap file (microsecond, the capture's link type) of the flow's last
 * packets, oldest first; flow_id 0: the last frame given alone.  *out is
 * malloc'd; *npkts packets.  Returns 0, or negative (nothing kept,
 * memory).
 */
int evidence_pcap(struct evidence *ev, uint64_t flow_id, uint8_t **out,
    size_t *len, unsigned *npkts);

/* The flow left the table. */
void evidence_forget(struct evidence *ev, uint64_t flow_id);

/* Evidence sink (alert.h): arg is a directory; writes <seq>.pcap there. */
int evidence_sink_dir(void *arg, uint64_t seq, const void *pcap, size_t len);

#endif
