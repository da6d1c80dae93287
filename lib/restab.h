/*
 * restab.h - zeroed tables in their own mappings, resident from the start
 * or not, one setting for the process.
 *
 * A live agent runs for months: its bounded tables (stackfp, roles,
 * channel, the windowed counters, the evidence rings) are touched page by
 * page when made, so the RSS does not creep as new hosts and flows show
 * up (check_live test_soak_short).  A capture file is read once and the
 * process ends: there, touching every page of tables it mostly leaves
 * empty is pure start-up cost (about 2,200 page faults, each one ~10 us on
 * this project's VM, for 9 MiB nobody reads), so `-r` leaves the fresh,
 * already zero pages of the mapping unfaulted until they are used.  The
 * tables' contents are the same either way: all zero.
 */
#ifndef ICSENTRY_LIB_RESTAB_H
#define ICSENTRY_LIB_RESTAB_H

#include <stdbool.h>
#include <stddef.h>

/* Tables made from now on are touched up front (true, the default) or not. */
void restab_set_resident(bool resident);
bool restab_resident(void);

/* A zeroed table of n entries of size bytes in its own mapping, or NULL. */
void *restab_new(size_t n, size_t size);
void restab_free(void *p, size_t n, size_t size);

#endif
