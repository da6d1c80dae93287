/*
 * central_log_batch.c - the per-alert bookkeeping of the SQLite central
 * log, kept in memory while an explicit transaction (the collector's
 * group commit) is open and written once at its commit.
 *
 * Each stored alert used to run, besides its INSERT, three more
 * statements: the "stored" counter (+1), "is this (site, agent) known"
 * (for the notice of a name at two sites) and the agents row's last_seen.
 * Inside a batch the counter is summed here, and an agent already written
 * in this transaction is only noted with its latest receive time; both go
 * to the database before COMMIT (clog_batch_flush()), in the same
 * transaction, so what commits is exactly what it was before.  A rollback
 * forgets them with the rest.  The first alert of each agent in a batch
 * still takes the full path, so the two-sites notice is unchanged.
 */
#include "broker/central_log.h"
#include "broker/central_log_int.h"

#include <sqlite3.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"

/* FNV-1a of "site/agent": the key of per-agent tables (here, collector.c) */
uint32_t
central_log_agent_hash(const char *site, const char *agent)
{
	uint32_t h = 2166136261u;

	for (; *site != '\0'; site++)
		h = (h ^ (uint8_t)*site) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (; *agent != '\0'; agent++)
		h = (h ^ (uint8_t)*agent) * 16777619u;
	return h;
}

static struct clog_seen *
find(struct central_log *db, uint32_t h, const char *site, const char *agent)
{
	int i;

	for (i = 0; i < db->nseen; i++)
		if (db->seen[i].h == h && strcmp(db->seen[i].site, site) == 0 &&
		    strcmp(db->seen[i].agent, agent) == 0)
			return &db->seen[i];
	return NULL;
}

bool
clog_batch_seen(struct central_log *db, const char *site, const char *agent,
    const char *received)
{
	struct clog_seen *e = find(db, central_log_agent_hash(site, agent), site, agent);

	if (e == NULL)
		return false;
	/* fixed-width RFC 3339 UTC text: text order is time order */
	if (strcmp(received, e->received) > 0) {
		memcpy(e->received, received, sizeof(e->received));
		e->received[sizeof(e->received) - 1] = '\0';
		e->dirty = true;
	}
	return true;
}

void
clog_batch_note(struct central_log *db, const char *site, const char *agent,
    const char *received)
{
	struct clog_seen *e;
	char *s, *a;

	if (db->nseen == CLOG_SEEN_MAX)
		return;		/* a big fleet: the rest take the full path */
	s = strdup(site);
	a = strdup(agent);
	if (s == NULL || a == NULL) {
		free(s);
		free(a);
		return;
	}
	e = &db->seen[db->nseen++];
	e->h = central_log_agent_hash(site, agent);
	e->site = s;
	e->agent = a;
	memcpy(e->received, received, sizeof(e->received));
	e->received[sizeof(e->received) - 1] = '\0';
	e->dirty = false;
}

void
clog_batch_forget(struct central_log *db)
{
	int i;

	for (i = 0; i < db->nseen; i++) {
		free(db->seen[i].site);
		free(db->seen[i].agent);
	}
	db->nseen = 0;
	db->pend_stored = 0;
}

/*
 * Its own two statements (the text of central_log.c's ST_COUNT and
 * ST_AGENT_SEEN): this file sits below central_log.c, which calls it.
 */
static sqlite3_stmt *
stmt(struct central_log *db, int i)
{
	static const char *const text[2] = {
		"INSERT INTO counters (name, value) VALUES ('stored', ?1)"
		" ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
		"INSERT INTO agents (site, agent, last_seen) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (site, agent) DO UPDATE"
		" SET last_seen = max(last_seen, excluded.last_seen)",
	};

	if (db->bst[i] == NULL && sqlite3_prepare_v3(db->h, text[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &db->bst[i], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(db->bst[i]);
	sqlite3_clear_bindings(db->bst[i]);
	return db->bst[i];
}

int
clog_batch_flush(struct central_log *db)
{
	sqlite3_stmt *s;
	int i, rc = 0;

	if (db->pend_stored != 0) {
		s = stmt(db, 0);
		if (s == NULL)
			return IDS_EIO;
		sqlite3_bind_int64(s, 1, db->pend_stored);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		sqlite3_reset(s);
		if (rc != 0)
			return rc;
		db->pend_stored = 0;
	}
	for (i = 0; i < db->nseen; i++) {
		if (!db->seen[i].dirty)
			continue;
		s = stmt(db, 1);
		if (s == NULL)
			return IDS_EIO;
		sqlite3_bind_text(s, 1, db->seen[i].site, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, db->seen[i].agent, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, db->seen[i].received, -1,
		    SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
		sqlite3_reset(s);
		if (rc != 0)
			return rc;
		db->seen[i].dirty = false;
	}
	return 0;
}

void
clog_batch_close(struct central_log *db)
{
	clog_batch_forget(db);
	sqlite3_finalize(db->bst[0]);
	sqlite3_finalize(db->bst[1]);
	db->bst[0] = db->bst[1] = NULL;
}
