/*
 * collector_int.h - what the two halves of icsentry-collector share
 * (private to broker/collector.c and broker/collector_main.c): struct
 * collector, the peers and the functions main() and the MQTT callbacks
 * call in the message handling.
 *
 * Layered one way: collector.c (message handling, end-to-end ack, the
 * spool; in libicsbroker, so the fuzzer links it) is the base and
 * collector_main.c (configuration, MQTT callbacks, main) sits on it.
 * This header does not include broker/collector.h, so they form no cycle.
 */

#ifndef ICSENTRY_BROKER_COLLECTOR_INT_H
#define ICSENTRY_BROKER_COLLECTOR_INT_H

#include <MQTTAsync.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/clog_types.h"
#include "lib/version.h"

struct central_log;
struct collector_out;

#define PROG		"icsentry-collector"
#define VERSION		ICSENTRY_VERSION
#define DEFAULT_CONF	"/etc/icsentry/collector.conf"
#define MAX_TOPIC	512

/* One (site, agent) the collector has stored alerts of. */
struct peer {
	struct peer	*next;		/* hash chain */
	struct peer	*dnext;		/* dirty list */
	char		*site, *agent;
	int64_t		 acked;		/* every seq 1..acked is stored */
	int64_t		 published;	/* last ack sent; -1: none yet */
	int64_t		 gap_since_ms;	/* a gap after acked seen; 0: none */
	bool		 dirty, resend;
};

#define PEER_BUCKETS	1024

struct collector {
	MQTTAsync		 h;
	struct central_log	*db;
	struct intel_log	*intel;		/* NULL: not kept (open failed) */
	pthread_mutex_t		 mu;		/* db, closing, batch, peers */
	bool			 closing;
	size_t			 max_payload;
	long long		 log_rejects;
	long long		 rejects;	/* this run, for log pacing */
	bool			 db_failing;
	char			 alert_filter[256];
	const char		*uri;
	/* group commit */
	bool			 in_tx;
	int			 batch_n, batch_max;
	int64_t			 batch_start_ms, batch_ms;
	/* adaptive: commit once no message came for batch_idle_ms */
	int64_t			 batch_idle_ms, last_msg_ms;
	pthread_t		 main_th;	/* woken (SIGUSR1) by a batch */
	int64_t			 batches, batched;	/* committed, this run */
	/* end-to-end ack */
	struct peer		*peers[PEER_BUCKETS];
	struct peer		*dirty;
	int64_t			 gap_timeout_ms;
	int64_t			 incident_window_s;	/* 0: none */
	struct clog_incident_batch *inc;	/* filed at batch commit */
	bool			 connected;
	int			 spool;		/* fd, -1: none */
	struct collector_out	*out;		/* syslog, /metrics */
	bool			 spool_used;
};

struct ack_out {
	char	topic[MAX_TOPIC];
	char	payload[24];
};


/* broker/collector.c */
int64_t	collector_mono_ms(void);
void	collector_logmsg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
size_t	collector_peers_settle(struct collector *c, struct ack_out **outp);
void	collector_publish_acks(struct collector *c, struct ack_out *a, size_t n);
void	collector_spool_put(struct collector *c, const char *t, size_t tl, const void *p,
    size_t len);
int	collector_spool_replay(struct collector *c, const char *path);
int	collector_batch_commit(struct collector *c);
void	collector_peers_free(struct collector *c);
void	collector_peers_all_dirty(struct collector *c);
void	collector_on_stored(void *ctx, const char *site, const char *agent, int64_t seq,
    enum central_log_stored res);
int	collector_handle(struct collector *c, const char *topic, size_t tlen, const char *p,
    size_t len);

#endif /* ICSENTRY_BROKER_COLLECTOR_INT_H */
