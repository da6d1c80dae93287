/*
 * central_log_agents.c - the central log's per-agent state: status, stats,
 * assets, counters and the end-to-end acknowledgement (central_log.c).
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

/* One statement inside its own savepoint. */
static int
step_one(struct central_log *db, sqlite3_stmt *s)
{
	int rc;

	rc = clog_sp_begin(db);
	if (rc != 0)
		return rc;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_reset(s);
	return clog_sp_end(db, rc);
}

int
central_log_agent_status(struct central_log *db, const char *site,
    const char *agent, const char *status, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_agent_status(db->pg, site, agent, status, at_us);
	if (clog_check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = clog_stmt(db, ST_STATUS);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(at_us, at);
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	clog_bind_str(s, 3, status);
	clog_bind_str(s, 4, at);
	return step_one(db, s);
}

int
central_log_agent_stats(struct central_log *db, const char *site,
    const char *agent, const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_agent_stats(db->pg, site, agent, json, len, at_us);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	if (clog_check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = clog_stmt(db, ST_STATS_JSON);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(at_us, at);
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	clog_bind_str(s, 3, at);
	sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
	return step_one(db, s);
}

int
central_log_asset(struct central_log *db, const char *site, const char *agent,
    const char *ip, const char *json, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (db->pg != NULL)
		return clog_pg_asset(db->pg, site, agent, ip, json, len, at_us);
	if (len > INT32_MAX)
		return IDS_EINVAL;
	s = clog_stmt(db, json == NULL || len == 0 ? ST_ASSET_DEL : ST_ASSET_PUT);
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	clog_bind_str(s, 3, ip);
	if (json != NULL && len > 0) {
		central_log_format_time(at_us, at);
		sqlite3_bind_text(s, 4, json, (int)len, SQLITE_STATIC);
		clog_bind_str(s, 5, at);
	}
	return step_one(db, s);
}

int
central_log_count(struct central_log *db, const char *name, int64_t delta)
{
	int rc;

	if (db->pg != NULL)
		return clog_pg_count(db->pg, name, delta);
	rc = clog_sp_begin(db);
	if (rc != 0)
		return rc;
	rc = clog_count(db, name, delta);
	sqlite3_reset(db->st[ST_COUNT]);
	return clog_sp_end(db, rc);
}

int
central_log_counter(struct central_log *db, const char *name, int64_t *value)
{
	sqlite3_stmt *s;
	int rc;

	if (db->pg != NULL)
		return clog_pg_counter(db->pg, name, value);
	/* an open batch's pending counts first (central_log_batch.c) */
	if (clog_batch_flush(db) != 0)
		return IDS_EIO;
	s = clog_stmt(db, ST_COUNTER);
	*value = 0;
	if (s == NULL)
		return IDS_EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

/* ---- end-to-end acknowledgement -------------------------------------- */

int
central_log_contiguous(struct central_log *db, const char *site,
    const char *agent, int64_t from, int64_t *out)
{
	sqlite3_stmt *s;
	int64_t cur = from, seq;
	int rc, rows;

	if (db->pg != NULL)
		return clog_pg_contiguous(db->pg, site, agent, from, out);
	*out = from;
	for (;;) {
		s = clog_stmt(db, ST_SEQS_AFTER);
		if (s == NULL)
			return IDS_EIO;
		clog_bind_str(s, 1, site);
		clog_bind_str(s, 2, agent);
		sqlite3_bind_int64(s, 3, cur);
		sqlite3_bind_int64(s, 4, 512);
		rows = 0;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			seq = sqlite3_column_int64(s, 0);
			if (seq != cur + 1)
				break;
			cur = seq;
			rows++;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return IDS_EIO;
		/* stopped at a gap, or at the end of what is stored */
		if (rc == SQLITE_ROW || rows < 512)
			break;
	}
	*out = cur;
	return 0;
}

int
central_log_next_seq(struct central_log *db, const char *site,
    const char *agent, int64_t after, int64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	if (db->pg != NULL)
		return clog_pg_next_seq(db->pg, site, agent, after, out);
	s = clog_stmt(db, ST_SEQS_AFTER);
	*out = -1;
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	sqlite3_bind_int64(s, 3, after);
	sqlite3_bind_int64(s, 4, 1);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
get_agent_int(struct central_log *db, enum st id, const char *site,
    const char *agent, int64_t *out)
{
	sqlite3_stmt *s = clog_stmt(db, id);
	int rc;

	*out = 0;
	if (s == NULL)
		return IDS_EIO;
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : IDS_EIO;
}

static int
set_agent_int(struct central_log *db, enum st id, const char *site,
    const char *agent, int64_t v)
{
	char at[CENTRAL_LOG_TIME_LEN];
	sqlite3_stmt *s;

	if (clog_check_new_agent(db, site, agent) != 0)
		return IDS_EIO;
	s = clog_stmt(db, id);
	if (s == NULL)
		return IDS_EIO;
	central_log_format_time(central_log_now_us(), at);
	clog_bind_str(s, 1, site);
	clog_bind_str(s, 2, agent);
	clog_bind_str(s, 3, at);
	sqlite3_bind_int64(s, 4, v);
	return step_one(db, s);
}

int
central_log_acked(struct central_log *db, const char *site,
    const char *agent, int64_t *seq)
{
	if (db->pg != NULL)
		return clog_pg_agent_int(db->pg, false, site, agent, seq);
	return get_agent_int(db, ST_GET_ACKED, site, agent, seq);
}

int
central_log_set_acked(struct central_log *db, const char *site,
    const char *agent, int64_t seq)
{
	if (db->pg != NULL)
		return clog_pg_set_agent_int(db->pg, false, site, agent, seq);
	return set_agent_int(db, ST_SET_ACKED, site, agent, seq);
}

int
central_log_reported(struct central_log *db, const char *site,
    const char *agent, int64_t *seq)
{
	if (db->pg != NULL)
		return clog_pg_agent_int(db->pg, true, site, agent, seq);
	return get_agent_int(db, ST_GET_REPORTED, site, agent, seq);
}

int
central_log_set_reported(struct central_log *db, const char *site,
    const char *agent, int64_t seq)
{
	if (db->pg != NULL)
		return clog_pg_set_agent_int(db->pg, true, site, agent, seq);
	return set_agent_int(db, ST_SET_REPORTED, site, agent, seq);
}
