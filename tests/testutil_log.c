/*
 * testutil_log.c - the central log under test on either backend
 * (testutil_log.h).
 */
#include "tests/testutil_log.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>

#include "tests/testutil_broker.h"

void
tl_use_backend(struct tl_log *l, const char *prefix, int i, const char *tag)
{
	l->backend = i;
	ck_assert_int_eq(tb_tmpdir(l->dir, sizeof(l->dir), prefix), 0);
	if (i == 0) {
		snprintf(l->path, sizeof(l->path), "%s/central.db", l->dir);
		return;
	}
	ck_assert_msg(l->pg_ok, "PostgreSQL did not start (see the log above)");
	snprintf(l->dbname, sizeof(l->dbname), "t_%s", tag);
	ck_assert_int_eq(tp_pg_createdb(&l->pg, l->dbname), 0);
	tp_pg_uri(&l->pg, l->dbname, l->path, sizeof(l->path));
}

void
tl_done(struct tl_log *l)
{
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(l->dir);
}

struct central_log *
tl_open(struct tl_log *l, enum central_log_mode m)
{
	struct central_log *db = NULL;
	char err[512];
	int rc;

	rc = central_log_open(
	    l->path, m, CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err));
	ck_assert_msg(rc == 0, "open %s: %s", l->path, err);
	return db;
}

void
tl_tamper(struct tl_log *l, const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;

	if (l->backend == 1) {
		ck_assert_int_eq(tp_pg_exec(&l->pg, l->dbname, sql), 0);
		return;
	}
	ck_assert_int_eq(sqlite3_open(l->path, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg != NULL ? msg : "?");
	sqlite3_close(h);
}

int
tl_main(struct tl_log *l, Suite *s)
{
	SRunner *r = srunner_create(s);
	int failed;

	l->pg_ok = tp_pg_start(&l->pg) == 0;
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	tp_pg_cleanup(&l->pg);
	return failed == 0 ? 0 : 1;
}
