/*
 * testutil_pg.h - a real PostgreSQL server for tests (prefix tp_).
 *
 * tp_pg_start() runs Debian's initdb in a fresh directory under $TMPDIR and
 * starts postgres on a free loopback port with its socket in that
 * directory.  The server never runs as root: when the test is root it runs
 * as the unprivileged user "nobody" (runuser), otherwise as the caller.
 * Binaries come from env ICSENTRY_PG_BIN or /usr/lib/postgresql/<newest>/bin.
 * Each test takes its own database (tp_pg_createdb), so tests share one
 * server per suite.  Every wait is bounded; helpers return 0 or -1 with a
 * line on stderr.
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_PG_H
#define ICSENTRY_TESTS_TESTUTIL_PG_H

#include <stddef.h>

struct tp_pg {
	int	 running;
	int	 port;
	char	 dir[256];	/* private; data/ and the socket below it */
	char	 data[300];
	char	 log[300];
	char	 bin[256];
};

/*
 * initdb (trust authentication, superuser "postgres", UTF-8, C locale)
 * and start; fsync off unless env ICSENTRY_PG_FSYNC=1 (tests only need
 * crash safety of the process, not of the machine).
 */
int	tp_pg_start(struct tp_pg *p);
/* Fast shutdown (pg_ctl stop -m fast) and wait. */
int	tp_pg_stop(struct tp_pg *p);
/* Start again on the same port with the same data. */
int	tp_pg_restart(struct tp_pg *p);
/* Stop if running and remove the directory. */
void	tp_pg_cleanup(struct tp_pg *p);

/* "postgresql://postgres@127.0.0.1:<port>/<db>" into buf; returns buf. */
const char *tp_pg_uri(const struct tp_pg *p, const char *db, char *buf,
	    size_t len);
/* CREATE DATABASE name (dropped first when it exists). */
int	tp_pg_createdb(const struct tp_pg *p, const char *name);
/* Run one SQL text (no parameters; test set-up and tampering only). */
int	tp_pg_exec(const struct tp_pg *p, const char *db, const char *sql);
/* First column of the first row of a query as a long long, or -1. */
long long tp_pg_value(const struct tp_pg *p, const char *db, const char *sql);

#endif
