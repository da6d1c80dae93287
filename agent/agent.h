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

#ifndef ICSENTRY_VERSION
#define ICSENTRY_VERSION "0.1.0"
#endif

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
};

/* Every section the agent accepts; *n receives the count. */
const struct cfg_schema *const *agent_schemas(size_t *n);

/* Write every section and key with its default and help as an INI file. */
void agent_print_config(FILE *fp);

/* Run to the end of the capture (or a signal); returns the exit code. */
int agent_run(const struct agent_opts *o);

#endif
