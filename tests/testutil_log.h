/*
 * testutil_log.h - the central log under test on either backend (prefix
 * tl_), for the suites that run every test as a loop test: _i == 0 a real
 * SQLite file, _i == 1 a real PostgreSQL server the suite starts itself
 * (tests/testutil_pg.h), each test with its own database and the same
 * assertions (check_central_pg.c, check_triage.c).
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_LOG_H
#define ICSENTRY_TESTS_TESTUTIL_LOG_H

#include <check.h>

#include "broker/central_log.h"
#include "tests/testutil_pg.h"

struct tl_log {
	struct tp_pg pg; /* one server for the whole suite */
	int pg_ok;
	int backend; /* 0 SQLite, 1 PostgreSQL */
	char dir[256];
	char path[400]; /* file or postgresql:// URI */
	char dbname[64];
};

/*
 * Backend i for the test named tag: a fresh temporary directory (named
 * after prefix), and the SQLite file in it or the database "t_<tag>".
 */
void
tl_use_backend(struct tl_log *l, const char *prefix, int i, const char *tag);
/* The test's directory removed (kept when ICSENTRY_KEEP_TMP is set). */
void tl_done(struct tl_log *l);
/* The log opened (the test fails when it cannot be). */
struct central_log *tl_open(struct tl_log *l, enum central_log_mode m);
/* Change the stored data behind the program's back (an intruder). */
void tl_tamper(struct tl_log *l, const char *sql);
/* Start PostgreSQL, run suite s, stop it: main()'s exit code. */
int tl_main(struct tl_log *l, Suite *s);

#endif /* ICSENTRY_TESTS_TESTUTIL_LOG_H */
