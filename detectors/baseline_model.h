/*
 * baseline_model.h - the learned plant model of the baseline detector:
 * hosts and links in growable tables, the function codes and write
 * ranges per link, and the per-protocol facts the descriptors give.
 * Read by baseline.c (the detector) and baseline_file.c (the file).
 */
#ifndef ICSENTRY_DETECTORS_BASELINE_MODEL_H
#define ICSENTRY_DETECTORS_BASELINE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "dissectors/proto.h"
#include "lib/cfg.h"
#include "lib/htab.h"

#define OP_WRITE	PROTO_OP_WRITE
#define OP_DISC		PROTO_OP_DISCOVERY

struct cJSON;
typedef struct cJSON cJSON;

#define BL_VERSION	1
#define BL_FORMAT	"icsentry-baseline"
#define MAX_FN		48	/* function codes kept per link */
#define MAX_RG		16	/* write ranges kept per link */
#define FILE_MAX	(256u << 20)
#define CACHE		1024

_Static_assert(ICS_NPROTO <= 32, "protocol sets are 32-bit masks");

/* ---- the model ------------------------------------------------------------ */

#define AL_IT		0x01	/* new_asset (info) raised */
#define AL_ICS		0x02	/* new_asset (low) raised */

struct bl_asset {
	uint8_t		af;
	uint8_t		ip[16];		/* key: af + ip */
	uint8_t		has_mac;
	uint8_t		mac[6];
	uint8_t		learned;	/* from the file (detection) */
	uint8_t		alerted;	/* AL_* */
	uint8_t		remote;		/* used remote access (derived) */
	uint64_t	first, last;
	uint32_t	cli, srv;	/* industrial protocols, by role */
	uint32_t	it_cli, it_srv;	/* IT services, by role */
	uint32_t	writer, discoverer;	/* derived from links */
};
#define ASSET_KLEN	17

/* A link: who asks whom, over which protocol and server port. */
struct bl_key {
	uint8_t		af;
	uint8_t		proto;		/* enum ics_proto; 0 = IT service */
	uint8_t		transport;	/* 6 tcp, 17 udp */
	uint8_t		pad;
	uint16_t	port;		/* the server's */
	uint8_t		cli[16], srv[16];
};

struct bl_link {
	struct bl_key	 k;
	uint8_t		 learned, alerted, svc;
	uint8_t		 nfn, nfn_learned, fn_full;
	uint8_t		 nrg, rg_full;
	uint16_t	 fn[MAX_FN];
	struct proto_range	*rg;		/* MAX_RG, allocated on the first write */
	uint64_t	 first, last;
	double		 max_rate;	/* requests/s, max over windows */
	/* the current window (learning: its maximum; detection: the alert) */
	uint64_t	 win_start;
	uint32_t	 win_count, win_max;
	uint8_t		 win_alerted;
};

struct cache_ent {
	uint64_t	flow_id;
	uint8_t		proto;
	uint32_t	link[2];	/* +1; [0]: client is flow->cli */
	uint32_t	asset[2];	/* +1; flow->cli, flow->srv */
};

struct model {
	struct htab	 assets, links;	/* key at offset 0 (lib/htab.h) */
	uint32_t	 covered;	/* protocols the baseline knows */
	struct cfg_nets	 writers[ICS_NPROTO];
	struct cfg_nets	 discovery, remote;
	cJSON		*allowed_writers, *allowed_discovery, *allowed_remote;
	uint64_t	 first, last;
	struct cache_ent cache[CACHE];
	struct bl_l2	*l2;		/* GOOSE, SV, DCP (baseline_l2.h) */
};


/* baseline_model.c */
void *bl_tab_at(const struct htab *t, uint32_t i);
void *bl_tab_get(const struct htab *t, const void *key);
void *bl_tab_put(struct htab *t, const void *key, bool *fresh);
uint32_t bl_tab_index(const struct htab *t, const void *e);
struct model *bl_model_new(uint32_t max_assets, uint32_t max_links);
void bl_model_free(struct model *m);
struct bl_asset *bl_asset_put(struct model *m, uint8_t af, const uint8_t *ip,
    bool *fresh);
struct bl_asset *bl_asset_get(const struct model *m, uint8_t af,
    const uint8_t *ip);
void bl_make_key(struct bl_key *k, uint8_t af, uint8_t proto,
    uint8_t transport, uint16_t port, const uint8_t *cli, const uint8_t *srv);
void bl_seen(uint64_t *first, uint64_t *last, uint64_t ts);
bool bl_fn_has(const struct bl_link *l, uint16_t code);
bool bl_fn_add(struct bl_link *l, uint16_t code);
bool bl_rg_contains(const struct bl_link *l, const struct proto_range *r);
/* inside or right next to a learned block (detection) */
bool bl_rg_near(const struct bl_link *l, const struct proto_range *r);
void bl_rg_add(struct bl_link *l, const struct proto_range *r);
unsigned bl_code_flags(uint8_t proto, uint16_t c);
const char *bl_code_name(uint8_t proto, uint16_t c, char *buf, size_t len);
void bl_analyse(const struct det_pdu *pdu, struct proto_req *r);
const char *bl_proto_name(uint8_t proto, uint8_t svc);
int bl_ics_by_name(const char *name);
cJSON *bl_range_json(uint8_t proto, const struct proto_range *r);
const char *bl_range_text(uint8_t proto, const struct proto_range *r,
    char *buf, size_t len);
void bl_derive(struct model *m);

#endif
