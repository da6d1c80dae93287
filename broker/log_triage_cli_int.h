/*
 * log_triage_cli_int.h - what the pieces of icsentry-log's triage
 * commands share (private to broker/log_triage_*.c): the parsed options
 * and the helpers log_triage_cli.c lends the others.
 *
 * Layered one way: log_triage_cli.c (the option parser, verify, the
 * agents' status for tail) is the base; log_triage_assets.c (assets)
 * sits on it, and log_triage_cmd.c (ack, close, note, reopen, incidents,
 * audit and triage_cli_main()) on both.  This header does not include
 * broker/log_triage_cli.h, so the pieces form no cycle.
 */

#ifndef ICSENTRY_BROKER_LOG_TRIAGE_CLI_INT_H
#define ICSENTRY_BROKER_LOG_TRIAGE_CLI_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/central_log.h"

struct targs {
	const char	*cmd, *db, *user, *text, *ip, *state, *alert;
	const char	*site, *agent, *sort;
	int64_t		 incident, since, until, limit, id;
	int		 min_sev;
	bool		 json, csv, have_incident;
	char		 alert_buf[512];
};

/* broker/log_triage_cli.c */
int	triage_open_db(const char *path, enum central_log_mode m,
	    struct central_log **db);
int	triage_split_alert(char *buf, const char *seq_arg, const char **site,
	    const char **agent, int64_t *seq);
/* Returns -1 to go on, else an exit code. */
int	triage_parse_targs(int argc, char **argv, struct targs *t,
	    const char *usage, const char *default_db);

/* broker/log_triage_assets.c */
int	triage_cmd_assets(int argc, char **argv, const char *default_db);

#endif /* ICSENTRY_BROKER_LOG_TRIAGE_CLI_INT_H */
