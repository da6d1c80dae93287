/*
 * classify.h - application protocol of a flow: nDPI 4.2 plus icsentry's own
 * industrial protocol recognition (validated by the dissectors' probes).
 */
#ifndef ICSENTRY_AGENT_CLASSIFY_H
#define ICSENTRY_AGENT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "dissectors/proto.h"

struct flow;
struct pkt;

struct classifier;

struct cls_stats {
	uint64_t	live;		/* nDPI flow states allocated now */
	uint64_t	max_live;	/* ... at most */
	uint64_t	gave_up;	/* flows nDPI had not named by the end */
};

const struct cls_stats *cls_stats(const struct classifier *c);

/* max_packets: give up and take nDPI's guess after this many packets. */
struct classifier *cls_new(unsigned max_packets, char *err, size_t errlen);
void cls_free(struct classifier *c);

/*
 * Give one packet of flow f to nDPI while its answer is not final, and
 * pick the industrial dissector on the first payload.  Frees nDPI's flow
 * state as soon as the answer is final.
 */
void cls_packet(struct classifier *c, struct flow *f, const struct pkt *p,
    int dir);

/* Finish a flow that ends before nDPI decided: take its guess, free state. */
void cls_finish(struct classifier *c, struct flow *f);

/* nDPI's protocol name of the flow ("Modbus", "TLS.Google", "Unknown"). */
const char *cls_app_name(const struct classifier *c, const struct flow *f,
    char *buf, size_t len);

/* nDPI's category name ("IoT-Scada", "Unspecified"...). */
const char *cls_category_name(const struct classifier *c, const struct flow *f);

/*
 * The protocol name icsentry reports for a flow: the industrial protocol
 * when a dissector validated it, else nDPI's name in lower case.
 */
const char *cls_proto_name(const struct classifier *c, const struct flow *f,
    char *buf, size_t len);

/* Did nDPI flag clear-text credentials on this flow? */
int cls_has_cleartext_credentials(const struct flow *f);


#endif
