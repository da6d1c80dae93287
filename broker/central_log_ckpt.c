/*
 * central_log_ckpt.c - WAL checkpoints of the SQLite central log off the
 * insert path (central_log_background_checkpoint(), central_log.h).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past 1000 pages: that commit copies every page back into the database
 * file and fsyncs it, on the collector's writer (9% of its samples in the
 * bench-central profile).  Here the writer's connection has no automatic
 * checkpoint; a WAL hook (called after each commit with the WAL's frame
 * count) wakes a thread of its own connection at soft_pages, which runs a
 * PASSIVE checkpoint (never blocks the writer or readers; the next write
 * then starts the WAL again from its beginning).  A hot index page written
 * by many commits is copied back once per soft_pages instead of once per
 * 1000.  The WAL stays bounded: past hard_pages (the thread fell behind)
 * the committing writer checkpoints itself, as SQLite's default does.
 *
 * Durability is unchanged: every commit still reaches the WAL with its
 * fsync (synchronous FULL); a checkpoint fsyncs the WAL before it copies
 * and the database file after.
 */
#include "broker/central_log.h"
#include "broker/central_log_int.h"

#include <sqlite3.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ids.h"

struct clog_ckpt {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	sqlite3		*h;		/* the thread's own connection */
	int		 soft, hard;
	bool		 want, stop;
	/* counted under mu, read by central_log_checkpoint_stats() */
	int64_t		 runs, inline_runs, max_frames;
};

/* After each commit of the writer (its thread, its connection). */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct clog_ckpt *k = arg;
	bool inline_ckpt = false;

	pthread_mutex_lock(&k->mu);
	if (frames > k->max_frames)
		k->max_frames = frames;
	if (frames >= k->hard) {
		inline_ckpt = true;
		k->inline_runs++;
	} else if (frames >= k->soft && !k->want) {
		k->want = true;
		pthread_cond_signal(&k->cv);
	}
	pthread_mutex_unlock(&k->mu);
	if (inline_ckpt)
		(void)sqlite3_wal_checkpoint_v2(h, name,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static void *
ckpt_main(void *arg)
{
	struct clog_ckpt *k = arg;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->want && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop)
			break;
		k->want = false;
		k->runs++;
		pthread_mutex_unlock(&k->mu);
		(void)sqlite3_wal_checkpoint_v2(k->h, "main",
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

int
central_log_background_checkpoint(struct central_log *db, int soft_pages,
    int hard_pages)
{
	struct clog_ckpt *k;
	const char *path;
	int v = 1;

	if (db->pg != NULL || db->ckpt != NULL)
		return 0;
	if (soft_pages < 1 || hard_pages < soft_pages)
		return IDS_EINVAL;
	path = sqlite3_db_filename(db->h, "main");
	if (path == NULL || path[0] == '\0')
		return IDS_EINVAL;	/* in memory: no WAL */
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return IDS_ENOMEM;
	k->soft = soft_pages;
	k->hard = hard_pages;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (sqlite3_open_v2(path, &k->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	/* like the writer's: a close here must not remove -wal and -shm */
	sqlite3_file_control(k->h, "main", SQLITE_FCNTL_PERSIST_WAL, &v);
	if (sqlite3_exec(k->h, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	if (pthread_create(&k->th, NULL, ckpt_main, k) != 0)
		goto fail;
	db->ckpt = k;
	/* replaces SQLite's automatic checkpoint on the writer */
	sqlite3_wal_hook(db->h, wal_hook, k);
	return 0;
fail:
	sqlite3_close(k->h);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
	return IDS_EIO;
}

void
central_log_checkpoint_stats(struct central_log *db, int64_t *runs,
    int64_t *inline_runs, int64_t *max_frames)
{
	struct clog_ckpt *k = db->ckpt;

	*runs = *inline_runs = *max_frames = 0;
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	*runs = k->runs;
	*inline_runs = k->inline_runs;
	*max_frames = k->max_frames;
	pthread_mutex_unlock(&k->mu);
}

/* From central_log_close(), before the writer's connection closes. */
void
clog_ckpt_stop(struct central_log *db)
{
	struct clog_ckpt *k = db->ckpt;

	if (k == NULL)
		return;
	sqlite3_wal_hook(db->h, NULL, NULL);
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	sqlite3_close(k->h);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
	db->ckpt = NULL;
}
