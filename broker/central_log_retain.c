/*
 * central_log_retain.c - retention: deleting old alerts while keeping
 * each chain verifiable (central_log.c).
 */

#include "broker/central_log.h"
#include "broker/central_log_int.h"

#include <cJSON.h>
#include <sqlite3.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/clog_pg.h"
#include "broker/clog_query.h"
#include "lib/chain.h"
#include "lib/ids.h"
#include "lib/ipnet.h"

/* ---- retention --------------------------------------------------------- */

int
central_log_retain(struct central_log *db, int64_t before_us,
    int64_t *removed)
{
	sqlite3_stmt *s;
	int rc;

	*removed = 0;
	if (db->pg != NULL)
		return clog_pg_retain(db->pg, before_us, removed);
	rc = clog_sp_begin(db);
	if (rc != 0)
		return rc;
	s = clog_stmt(db, ST_RETAIN_ANCHORS);
	rc = s == NULL ? IDS_EIO : 0;
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, before_us);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		sqlite3_reset(s);
	}
	if (rc == 0) {
		s = clog_stmt(db, ST_RETAIN_DELETE);
		rc = s == NULL ? IDS_EIO : 0;
	}
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, before_us);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		*removed = sqlite3_changes(db->h);
		sqlite3_reset(s);
	}
	if (rc == 0)
		rc = clog_count(db, "retention_removed", *removed);
	return clog_sp_end(db, rc);
}

int
central_log_retention_cutoff(const char *spec, int64_t now_us,
    int64_t *cutoff)
{
	char *end;
	long long n;
	time_t t;
	struct tm tm;

	if (spec == NULL || spec[0] == '\0')
		return IDS_EINVAL;
	n = strtoll(spec, &end, 10);
	if (end == spec || n < 1 || n > 100000 || end[0] == '\0' ||
	    end[1] != '\0')
		return IDS_EINVAL;
	if (end[0] == 'd') {
		*cutoff = now_us - (int64_t)n * 86400 * 1000000;
		return 0;
	}
	if (end[0] != 'm')
		return IDS_EINVAL;
	/* whole months: this one and the n - 1 before it are kept */
	t = (time_t)(now_us / 1000000);
	if (gmtime_r(&t, &tm) == NULL)
		return IDS_EINVAL;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= (int)(n - 1);
	*cutoff = (int64_t)timegm(&tm) * 1000000;
	return 0;
}
