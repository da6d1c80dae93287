/* testutil_pg.c - a throwaway PostgreSQL server started by the test. */
#include "tests/testutil_pg.h"

#include <libpq-fe.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/testutil_broker.h"

/* Newest /usr/lib/postgresql/N/bin (glob sorts, so the last). */
static int
find_bin(char *buf, size_t len)
{
	const char *env = getenv("ICSENTRY_PG_BIN");
	glob_t g;
	int rc = -1;

	if (env != NULL && env[0] != '\0') {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) == 0 &&
	    g.gl_pathc > 0) {
		snprintf(buf, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
		buf[strlen(buf) - strlen("/pg_ctl")] = '\0';
		rc = 0;
	}
	globfree(&g);
	if (rc != 0)
		fprintf(stderr, "testutil_pg: no /usr/lib/postgresql/*/bin "
		    "(apt-get install postgresql)\n");
	return rc;
}

/*
 * Run argv as the server's user, output appended to log; bounded.  As
 * root the command goes through runuser: postgres refuses to run as root.
 */
static int
run_as(const struct tp_pg *p, char *const argv[], int timeout_ms)
{
	char *av[32];
	size_t i, n = 0;

	if (geteuid() == 0) {
		av[n++] = (char *)"/usr/sbin/runuser";
		av[n++] = (char *)"-u";
		av[n++] = (char *)"nobody";
		av[n++] = (char *)"--";
	}
	for (i = 0; argv[i] != NULL && n < 31; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	return tb_run(av, p->log, timeout_ms);
}

static int
pg_ctl_start(struct tp_pg *p)
{
	char ctl[300], opts[512];
	char *argv[] = { ctl, (char *)"-D", p->data, (char *)"-l", p->log,
	    (char *)"-o", opts, (char *)"-w", (char *)"-t", (char *)"120",
	    (char *)"start", NULL };
	const char *fs = getenv("ICSENTRY_PG_FSYNC");

	snprintf(ctl, sizeof(ctl), "%s/pg_ctl", p->bin);
	snprintf(opts, sizeof(opts), "-p %d -k %s -c listen_addresses=127.0.0.1"
	    " -c fsync=%s -c max_connections=60 -c shared_buffers=64MB",
	    p->port, p->dir, fs != NULL && strcmp(fs, "1") == 0 ? "on" : "off");
	if (run_as(p, argv, 150000) != 0)
		return -1;
	p->running = 1;
	return 0;
}

int
tp_pg_start(struct tp_pg *p)
{
	char initdb[300];
	char *argv[] = { initdb, (char *)"-D", p->data, (char *)"-U",
	    (char *)"postgres", (char *)"--auth=trust", (char *)"-E",
	    (char *)"UTF8", (char *)"--locale=C", (char *)"--no-sync", NULL };
	struct passwd *pw;
	int tries, fd;

	memset(p, 0, sizeof(*p));
	if (find_bin(p->bin, sizeof(p->bin)) != 0 ||
	    tb_tmpdir(p->dir, sizeof(p->dir), "pg") != 0)
		return -1;
	snprintf(p->data, sizeof(p->data), "%s/data", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/server.log", p->dir);
	/* the log exists before runuser appends to it, owned by the server */
	fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		if (pw == NULL || chown(p->dir, pw->pw_uid, pw->pw_gid) != 0 ||
		    chown(p->log, pw->pw_uid, pw->pw_gid) != 0) {
			fprintf(stderr, "testutil_pg: chown %s to nobody: %s\n",
			    p->dir, strerror(errno));
			return -1;
		}
	}
	snprintf(initdb, sizeof(initdb), "%s/initdb", p->bin);
	if (run_as(p, argv, 180000) != 0) {
		fprintf(stderr, "testutil_pg: initdb failed (see %s)\n", p->log);
		return -1;
	}
	/* the port was free a moment ago; another test may take it first */
	for (tries = 0; tries < 3; tries++) {
		p->port = tb_free_port();
		if (p->port > 0 && pg_ctl_start(p) == 0)
			return 0;
	}
	fprintf(stderr, "testutil_pg: postgres did not start (see %s)\n",
	    p->log);
	return -1;
}

int
tp_pg_stop(struct tp_pg *p)
{
	char ctl[300];
	char *argv[] = { ctl, (char *)"-D", p->data, (char *)"-m",
	    (char *)"fast", (char *)"-w", (char *)"-t", (char *)"60",
	    (char *)"stop", NULL };

	if (!p->running)
		return 0;
	snprintf(ctl, sizeof(ctl), "%s/pg_ctl", p->bin);
	p->running = 0;
	return run_as(p, argv, 90000) == 0 ? 0 : -1;
}

int
tp_pg_restart(struct tp_pg *p)
{
	if (p->running && tp_pg_stop(p) != 0)
		return -1;
	return pg_ctl_start(p);
}

void
tp_pg_cleanup(struct tp_pg *p)
{
	if (p->dir[0] == '\0')
		return;
	tp_pg_stop(p);
	tb_rmtree(p->dir);
	p->dir[0] = '\0';
}

const char *
tp_pg_uri(const struct tp_pg *p, const char *db, char *buf, size_t len)
{
	snprintf(buf, len, "postgresql://postgres@127.0.0.1:%d/%s", p->port,
	    db);
	return buf;
}

static PGconn *
connect_db(const struct tp_pg *p, const char *db)
{
	char uri[300];
	PGconn *c;

	c = PQconnectdb(tp_pg_uri(p, db, uri, sizeof(uri)));
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "testutil_pg: %s: %s", uri, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

int
tp_pg_exec(const struct tp_pg *p, const char *db, const char *sql)
{
	PGconn *c = connect_db(p, db);
	PGresult *r;
	int rc = -1;

	if (c == NULL)
		return -1;
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK)
		rc = 0;
	else
		fprintf(stderr, "testutil_pg: %s: %s", sql,
		    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

long long
tp_pg_value(const struct tp_pg *p, const char *db, const char *sql)
{
	PGconn *c = connect_db(p, db);
	PGresult *r;
	long long v = -1;

	if (c == NULL)
		return -1;
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "testutil_pg: %s: %s", sql,
		    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return v;
}

int
tp_pg_createdb(const struct tp_pg *p, const char *name)
{
	char sql[256];

	/* names come from the tests themselves: plain identifiers */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
	if (tp_pg_exec(p, "postgres", sql) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	return tp_pg_exec(p, "postgres", sql);
}
