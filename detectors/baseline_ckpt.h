/*
 * baseline_ckpt.h - when --learn writes its checkpoints, and what it says
 * about them: progress on a terminal, convergence (new hosts and links
 * per hour of traffic) at each checkpoint.  Times are capture times, so a
 * live agent checkpoints by the clock and a replay by the capture's own.
 */
#ifndef ICSENTRY_DETECTORS_BASELINE_CKPT_H
#define ICSENTRY_DETECTORS_BASELINE_CKPT_H

#include <stdbool.h>
#include <stdint.h>

struct bl_ckpt {
	uint64_t	every_us;	/* 0: no checkpoints */
	uint64_t	start, last, next_show;
	uint32_t	last_items, show_items;
	uint64_t	written;	/* checkpoints written */
	bool		tty;		/* progress lines on stderr */
};

void	bl_ckpt_init(struct bl_ckpt *k, double minutes);
/* Once a second of capture time: true when a checkpoint is due now. */
bool	bl_ckpt_due(struct bl_ckpt *k, uint64_t now, uint32_t hosts,
	    uint32_t links);
/* After the checkpoint was written (or failed: err non-NULL). */
void	bl_ckpt_done(struct bl_ckpt *k, uint64_t now, const char *path,
	    uint32_t hosts, uint32_t links, const char *err);

#endif
