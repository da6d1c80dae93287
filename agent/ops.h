/*
 * ops.h - what an operator of a running agent needs beyond the pipeline:
 * the coverage banner (what is judged per protocol, and why not), the
 * effective configuration, --check-config, what a reload changed, and
 * reopening the output files for log rotation.
 */
#ifndef ICSENTRY_AGENT_OPS_H
#define ICSENTRY_AGENT_OPS_H

#include <stdio.h>

#include <cJSON.h>

#include "lib/cfg.h"

/*
 * Coverage of the configuration c, one sentence per protocol (and for
 * discovery and remote access): emit(arg, "iec104", "commands not
 * judged: no iec104_masters and no baseline").
 */
void	ops_coverage(const struct cfg *c,
	    void (*emit)(void *arg, const char *what, const char *text),
	    void *arg);
/* The same as log lines "coverage: iec104: ..." (level info). */
void	ops_coverage_log(const struct cfg *c);
/* The same as "coverage": {"iec104": "...", ...} in a stats object. */
void	ops_coverage_json(const struct cfg *c, cJSON *root);

/*
 * Log each key of the n schemas whose value differs between old and new
 * ("reload: ...").
 */
void	ops_config_diff(const struct cfg *old, const struct cfg *new,
	    const struct cfg_schema *const *all, size_t n);

/*
 * Every section and key with its effective value, each followed by where
 * it came from (file:line, an option, or "default").
 */
void	ops_print_effective(const struct cfg *c,
	    const struct cfg_schema *const *all, size_t n, FILE *fp);
/* "coverage: what: text" lines on fp (-t). */
void	ops_coverage_print(const struct cfg *c, FILE *fp);

/*
 * [mqtt] uri must be empty or one of Paho's schemes; the error names the
 * file and line (or the option) it came from.  0 or -1 with err.
 */
int	ops_check_mqtt(const struct cfg *c, char *err, size_t errlen);

/*
 * Log rotation: point the open stream fp at path again (a new file when
 * the old one was moved away; appended to when it is still there).  The
 * FILE stays the same object, so sinks holding it carry on.  stdout is
 * left alone; NULL with a path (set by a reload) is logged as needing a
 * restart.  0, or -1 (logged; fp still writes the old file).
 */
int	ops_reopen(FILE *fp, const char *path, const char *what);

#endif
