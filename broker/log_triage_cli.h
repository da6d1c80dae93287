/*
 * log_triage_cli.h - icsentry-log's triage commands (ack, close, note,
 * reopen, incidents, audit, assets), the audit part of verify and the
 * agent online/offline lines of tail.  log_cli.c hands them over.
 */
#ifndef ICSENTRY_BROKER_LOG_TRIAGE_CLI_H
#define ICSENTRY_BROKER_LOG_TRIAGE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "broker/clog_triage.h"

struct central_log;

/* Is name one of the commands below? */
bool	triage_cli_command(const char *name);
/* Run it: argv[0] is the command.  Returns the exit code. */
int	triage_cli_main(int argc, char **argv, const char *default_db);
extern const char triage_cli_usage[];	/* the commands, for usage_main */

/*
 * verify's second half: walk the audit trail, print each problem (not
 * when quiet) and a summary line (unless the log has no triage tables);
 * *problems gets the count.
 * Returns 0, or 1 when the walk itself failed.
 */
int	triage_cli_verify(struct central_log *db, bool quiet,
	    int64_t *problems);

/*
 * tail: print a line for every agent whose status changed since the last
 * call ("... agent plant-a/gw-01 offline"); the first call only learns.
 * *state is private (NULL at first; free with triage_tail_free()).
 */
struct triage_tail;
int	triage_tail_agents(struct central_log *db, bool json, FILE *out,
	    struct triage_tail **state);
void	triage_tail_free(struct triage_tail *t);

/* query's table line suffix for a triaged alert ("" for new). */
void	triage_state_suffix(const struct clog_triage_info *t, char *buf,
	    size_t len);

#endif
