/*
 * registry.c - every detector the agent runs.  A new detector is one new
 * file and one line here.
 */
#include "detector.h"

extern const struct detector det_arp;
extern const struct detector det_scan;
extern const struct detector det_flood;
extern const struct detector det_remote;

const struct detector *const det_registry[] = {
	&det_arp,
	&det_scan,
	&det_flood,
	&det_remote,
	NULL
};
