/*
 * ctx.h - what the detector services (services.c) know of the engine
 * that calls the detectors (engine.c): the context a detector receives.
 * Private to detectors/: detectors themselves see only struct det_ctx's
 * name, through detector.h.
 */
#ifndef ICSENTRY_DETECTORS_CTX_H
#define ICSENTRY_DETECTORS_CTX_H

#include <stddef.h>

#include "detectors/detector.h"

/* Where det_publish_asset() goes (the MQTT publisher). */
typedef void (*det_asset_fn)(void *arg, const char *ip, const char *json,
    size_t len);

/*
 * Where raised alerts go (the agent's alerter): raise takes ownership of
 * a->details; tick closes aggregation windows (capture time).
 */
struct det_alert_sink {
	void	(*raise)(void *arg, struct det_alert *a);
	void	(*tick)(void *arg, uint64_t now);
	void	 *arg;
};

struct det_ctx {
	const struct cfg	*cfg;
	struct det_alert_sink	 out;		/* where alerts go */
	/* the detector that answers from learned state, if any */
	enum det_verdict	(*verdict_fn)(void *, enum ics_proto, enum det_role,
				    const struct det_endpoint *);
	void			*verdict_state;
	det_asset_fn		 asset_fn;
	void			*asset_arg;
	/* per-protocol writer lists, NULL where not configured */
	const struct cfg_nets	*writers[ICS_NPROTO];
	const struct cfg_nets	*discovery, *remote, *ot;
};

#endif
