/*
 * opscli.h - -t / --check-config and -c FILE --print-config.
 */
#ifndef ICSENTRY_AGENT_OPSCLI_H
#define ICSENTRY_AGENT_OPSCLI_H

#include "agent/agent.h"

/*
 * Load the configuration as a run would, check the MQTT URI, start and
 * free the detectors, print "FILE: configuration OK" and the coverage.
 * Returns 0, or EXIT_USAGE with one "file:line: problem" log line.
 */
int	agent_check_config(const struct agent_opts *o);
/* Print the effective configuration (ops_print_effective); exit code. */
int	agent_print_effective(const struct agent_opts *o);

#endif
