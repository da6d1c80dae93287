/*
 * baseline_ckpt.c - the learning baseline's checkpoints and progress
 * (baseline_ckpt.h).
 */
#include "detectors/baseline_ckpt.h"

#include <string.h>
#include <unistd.h>

#include "lib/log.h"

/* progress lines on a terminal, every this much capture time */
#define SHOW_US 60000000ull

void
bl_ckpt_init(struct bl_ckpt *k, double minutes)
{
	memset(k, 0, sizeof(*k));
	k->every_us = (uint64_t)(minutes * 60e6);
	k->tty = isatty(STDERR_FILENO) == 1;
}

bool
bl_ckpt_due(struct bl_ckpt *k, uint64_t now, uint32_t hosts, uint32_t links)
{
	uint32_t items = hosts + links;

	if (k->start == 0) {
		k->start = k->last = now;
		k->next_show = now + SHOW_US;
		k->last_items = k->show_items = items;
		return false;
	}
	if (k->tty && now >= k->next_show) {
		log_info("learning: %u hosts, %u links; %u new in the last "
			 "minute of traffic",
		    hosts, links, items - k->show_items);
		k->show_items = items;
		k->next_show = now + SHOW_US;
	}
	return k->every_us > 0 && now - k->last >= k->every_us;
}

void
bl_ckpt_done(struct bl_ckpt *k, uint64_t now, const char *path, uint32_t hosts,
    uint32_t links, const char *err)
{
	uint32_t items = hosts + links, fresh = items - k->last_items;
	double span_h = (double)(now - k->last) / 3600e6;

	if (err != NULL)
		log_warn("baseline: checkpoint failed: %s", err);
	else {
		k->written++;
		log_info(
		    "baseline: checkpoint %llu written to %s after %.1f min "
		    "of traffic: %u hosts, %u links; %u new in the last %.1f "
		    "min "
		    "(%.1f per hour)%s",
		    (unsigned long long)k->written, path,
		    (double)(now - k->start) / 60e6, hosts, links, fresh,
		    span_h * 60.0, span_h > 0 ? (double)fresh / span_h : 0.0,
		    fresh == 0 ? ": converged" : "");
	}
	k->last = now;
	k->last_items = items;
}
