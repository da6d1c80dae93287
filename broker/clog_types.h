/*
 * clog_types.h - the central log's types, shared by central_log.h and
 * the code behind it (clog_pg.h, clog_query.h) without a cycle: they
 * include this, central_log.h includes them.  Documented in
 * central_log.h's terms; see there for the calls.
 */
#ifndef ICSENTRY_BROKER_CLOG_TYPES_H
#define ICSENTRY_BROKER_CLOG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CENTRAL_LOG_SCHEMA	3	/* PRAGMA user_version of this code;
				   icsentry_schema on PostgreSQL */
#define CENTRAL_LOG_TIME_LEN	32	/* "2026-11-23T08:15:02.123456Z" + NUL */

enum central_log_mode {
	CENTRAL_LOG_RDONLY,	/* the file must exist and carry our schema */
	CENTRAL_LOG_RDWR	/* create the file and schema when missing */
};

enum central_log_sync {
	CENTRAL_LOG_SYNC_NORMAL,	/* WAL commit survives a crash of the process */
	CENTRAL_LOG_SYNC_FULL		/* ... and a power loss (fsync per commit) */
};

/*
 * An alert's members, parsed and type-checked (DESIGN.md "Alert format").
 * Strings point into memory owned by the struct until
 * central_log_alert_free(); absent or null optional members are NULL (ports
 * -1).  technique, title, proto, src_ip and dst_ip are optional.
 */
struct central_log_alert {
	const char	*agent, *site, *ts, *severity, *detector, *technique;
	const char	*title, *proto, *src_ip, *dst_ip, *prev_hash, *hash;
	int64_t		 seq;		/* >= 0 */
	int64_t		 ts_us;		/* ts as microseconds since the epoch */
	int		 sev;		/* central_log_severity_rank(severity) */
	int		 src_port, dst_port;	/* -1 when absent */
	void		*tree_;		/* private */
	void		*buf_;		/* private */
};

enum central_log_stored {
	CENTRAL_LOG_NEW,	/* first time this (site, agent, seq) was seen */
	CENTRAL_LOG_DUPLICATE,	/* re-delivery of the same bytes: ignored */
	CENTRAL_LOG_CONFLICT,	/* same (site, agent, seq), different bytes:
				   the first is kept, this one goes to
				   conflicts */
	CENTRAL_LOG_QUEUED	/* deferred (central_log_defer_inserts): the
				   outcome comes later, to its callback */
};

/* The outcome of a deferred insert, in insert order. */
typedef void (*central_log_stored_fn)(void *ctx, const char *site,
    const char *agent, int64_t seq, enum central_log_stored res);

struct central_log_filter {
	int64_t		 since_us, until_us;	/* [since, until) on ts */
	int		 min_sev;		/* 0 = any */
	/* NULL = any; agent, site, detector, technique and proto are GLOB
	 * patterns ("s7.*"), ip matches src or dst exactly */
	const char	*agent, *site, *detector, *technique, *ip, *proto;
	int64_t		 after_id;		/* only rows with id > after_id */
	int64_t		 limit;			/* > 0: only the last limit rows */
	/*
	 * ip may also be a CIDR ("10.10.1.0/24": src or dst inside it);
	 * grep: a case-insensitive substring of the alert's text (title,
	 * details, any member); received: since/until are on the time the
	 * collector stored the alert, not its capture time (ts); state: a
	 * triage state, only for clog_triage_query() (clog_triage.h).
	 */
	const char	*grep, *state;
	bool		 received;
};

/* One stored alert; every pointer is valid only during the callback. */
struct central_log_row {
	int64_t		 id, seq, ts_us;
	int		 sev, src_port, dst_port;	/* ports -1 when NULL */
	const char	*agent, *site, *ts, *severity, *detector, *technique;
	const char	*title, *proto, *src_ip, *dst_ip, *prev_hash, *hash;
	const char	*received_at;
	const char	*raw;
	size_t		 raw_len;
};

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*central_log_row_fn)(void *ctx, const struct central_log_row *r);

enum central_log_group {
	CENTRAL_LOG_BY_SEVERITY,	/* most severe first */
	CENTRAL_LOG_BY_DETECTOR,	/* most frequent first */
	CENTRAL_LOG_BY_AGENT		/* key "site/agent", most frequent first */
};

typedef int (*central_log_count_fn)(void *ctx, const char *key, int64_t n);

struct central_log_agent_row {
	const char	*site, *agent, *status, *last_seen, *stats;
};

typedef int (*central_log_agent_fn)(void *ctx,
	    const struct central_log_agent_row *r);

/* One inventory entry (json as the agent published it). */
struct central_log_asset_row {
	const char	*site, *agent, *ip, *json, *last_seen;
};

typedef int (*central_log_asset_fn)(void *ctx,
	    const struct central_log_asset_row *r);

#endif
