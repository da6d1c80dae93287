/*
 * agent.h - the agent's run loop, separate from main() so it is a library
 * piece: configuration, pipeline set-up, the capture loop, statistics.
 */
#ifndef ICSENTRY_AGENT_AGENT_H
#define ICSENTRY_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/cfg.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2


/* What the command line asked for; NULL = not given. */
struct agent_opts {
	const char	 *config;
	const char	 *iface;
	const char	**files;	/* -r, in order */
	int		  nfiles;
	const char	 *filter;
	const char	 *alerts_out;
	const char	 *flows_out;
	const char	 *mqtt_uri;
	bool		  no_mqtt;
	const char	 *learn;
	const char	 *baseline;
	const char	 *assets_out;
	bool		  realtime;
	bool		  stats;
	const char	 *intel;	/* --intel FILE: a signed bundle */
	bool		  check_only;	/* -t, --print-config: no capture needed */
};

/*
 * The configuration as a run would use it: the file (or the system one),
 * the command line on top.  0 or an exit code with err; *out may be set
 * either way (free it).
 */
int agent_load_config(const struct agent_opts *o, struct cfg **out,
    char *err, size_t errlen);

/* Every section the agent accepts; *n receives the count. */
const struct cfg_schema *const *agent_schemas(size_t *n);

/* Write every section and key with its default and help as an INI file. */
void agent_print_config(FILE *fp);

/* Run to the end of the capture (or a signal); returns the exit code. */
int agent_run(const struct agent_opts *o);

/*
 * The same pipeline without main()'s loop, for the pipeline fuzzer and
 * tests.  agent_open() sets it up from o (o must outlive it) and returns
 * 0 or an exit code with err filled.  agent_replay() reads one capture
 * file as -r does (flows a previous file left open end first) and returns
 * 0 or the exit code -r would give.  agent_restart_detectors() ends every
 * flow, runs the detectors' finish hooks (a --learn file is written) and
 * starts fresh detectors from the same configuration (a --baseline file
 * is read again); 0 or an exit code with err filled.  agent_close() ends
 * flows and detectors and frees everything.  No signal handlers, no
 * --stats.
 */
struct agent;
int agent_open(const struct agent_opts *o, struct agent **out, char *err,
    size_t errlen);
int agent_replay(struct agent *a, const char *file);
int agent_restart_detectors(struct agent *a, char *err, size_t errlen);
void agent_close(struct agent *a);

#endif
