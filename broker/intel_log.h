/*
 * intel_log.h - which agent runs which threat-intel bundle (issue 17), in
 * the central log's database: table intel_agents, one row per (site,
 * agent) with the fleet and site bundle versions it applied, how many
 * indicators are in force, and its last refusal.  The collector fills it
 * from the agents' retained icsentry/<site>/<agent>/intel status;
 * `icsentry-log intel` prints it.
 *
 * Kept apart from central_log.c (its own connection to the same SQLite
 * file, its own table) so the alert store's schema and versioning are not
 * touched.  On a postgresql:// log the same table lives in the same
 * database, on its own libpq connection (created under the advisory
 * lock of the log's schema; one reconnect when the server went away).
 */
#ifndef ICSENTRY_BROKER_INTEL_LOG_H
#define ICSENTRY_BROKER_INTEL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intel_log;

/*
 * Open the table in the log at path, a SQLite file or a postgresql://
 * URI (rw: create it when missing).  0, or IDS_EIO with one line in err.
 */
int	intel_log_open(const char *path, bool rw, struct intel_log **out,
	    char *err, size_t errlen);
void	intel_log_close(struct intel_log *l);	/* accepts NULL */

/*
 * Store an agent's intel status JSON (as intel_feed.c publishes it).
 * 0, IDS_EINVAL (not the status object), or IDS_EIO.
 */
int	intel_log_status(struct intel_log *l, const char *site,
	    const char *agent, const char *json, size_t len, int64_t at_us);

/* `icsentry-log intel [--db FILE] [--json]`: argv[0] is "intel". */
int	intel_log_cli(int argc, char **argv, const char *default_db);

#endif
