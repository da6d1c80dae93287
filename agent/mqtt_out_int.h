/*
 * mqtt_out_int.h - what the pieces of the MQTT publisher share (private to
 * agent/mqtt_out*.c): the queue, journal and connection state of struct
 * mqtt_out and the functions one piece calls in another.  Layered one way:
 * mqtt_out.c (public API) -> mqtt_out_conn.c (Paho callbacks, client,
 * supervisor) -> mqtt_out_journal.c (queue, journal, logging, helpers).
 * It does not include agent/mqtt_out.h, so the pieces form no cycle.
 */

#ifndef ICSENTRY_AGENT_MQTT_OUT_INT_H
#define ICSENTRY_AGENT_MQTT_OUT_INT_H

#include <MQTTAsync.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mqtt_out;

/* A journal segment takes records until it holds this much (a 16th of
 * max_journal_mb when that is smaller): one file made, named durably and
 * unlinked per MiB, not per group commit. */
#define MQTT_OUT_SEG_BYTES	(1u << 20)
/*
 * The writer's group commit gathers for GROUP_US before it syncs, longer
 * (PER_MSG_US per message of the last group, up to GROUP_MAX_US) when
 * groups are large: in an alert storm, fewer syncs, wakeups and disk
 * interrupts on the capture thread's core, for a few ms of latency.
 */
#define MQTT_OUT_GROUP_US	1000
#define MQTT_OUT_GROUP_MAX_US	4000
#define MQTT_OUT_GROUP_PER_MSG_US	20
/*
 * The chain state file is a checkpoint: the journal, synced every group,
 * holds the newest alert's seq and hash too, and the agent continues from
 * the newer of the two at start.  So the writer rewrites the file (file
 * fsync, rename, directory fsync: three syncs) at most this often, after
 * a group, not in every group; a segment holding an alert newer than the
 * file on disk waits for the next checkpoint to go.
 */
#define MQTT_OUT_STATE_US	100000
/* how much lower the sending threads' priority is than capture's */
#define MQTT_OUT_SEND_NICE	10
/* QoS 1 messages handed to Paho and not acknowledged yet, at most. */
#define MQTT_OUT_WINDOW		200
#define MQTT_OUT_TOPIC		320
/* a connection lost sooner than this, with nothing acknowledged, is
 * "fruitless" (see went_down) */
#define MQTT_OUT_FRUITLESS_MS	10000
/*
 * A journal record: magic, then lengths, data and a checksum.  "ICSQ"
 * records (legacy .msg files, segments of earlier versions) carry a 32-bit
 * FNV-1a of topic and payload, byte by byte; "ICS2" records, written since,
 * a word-at-a-time sum (sum2 in mqtt_out_journal.c: the byte loop was 5%
 * of the capture thread in an alert storm).  Both are read.
 */
#define JOURNAL_MAGIC		0x51534349u	/* "ICSQ" */
#define JOURNAL_MAGIC2		0x32534349u	/* "ICS2" */
#define MQTT_OUT_MAX_SUBS	16
/* after the ack subscription is granted, its retained value's head start */
#define MQTT_OUT_ACK_GRACE_MS	300
#define MQTT_OUT_RESEND_MAX_MS	3600000
/* A latency histogram (mqtt_out_latency.c). */
#define MQTT_OUT_LAT_BUCKETS	560
struct mqtt_out_lat {
	uint64_t	n, max_us;
	uint64_t	b[MQTT_OUT_LAT_BUCKETS];
};

/* One queued message. */
struct qmsg {
	struct qmsg	*next, *prev;
	struct qmsg	*hnext;		/* the qseq index's chain */
	uint64_t	 qseq;		/* journal order */
	char		*payload;
	int		 len;
	int		 retained;
	bool		 inflight;	/* handed to the current Paho client */
	bool		 brokered;	/* PUBACKed, waiting for the central ack */
	bool		 counted;	/* counted as delivered */
	int64_t		 aseq;		/* alert seq under central_ack; else -1 */
	int64_t		 t_ms;		/* queued at (monotonic) */
	int64_t		 t_us;		/* the same in us; 0: loaded */
	bool		 alert;		/* on an alert topic */
	int64_t		 brokered_ms;
	/* the journal (persist_dir only) */
	struct seg	*seg;		/* its segment; NULL: legacy .msg file */
	uint64_t	 off;		/* payload's offset in the segment */
	bool		 durable;	/* fdatasync'd (so it may be sent) */
	bool		 acked;		/* central ack came while in flight */
	bool		 legacy;	/* one .msg file of an older version */
	/* in the same allocation (mqtt_out_qmsg_new): one malloc less per
	 * message on the capture thread */
	char		 topic[];
};

/*
 * A journal segment: the messages of several group commits, appended by
 * publish() (one write(2), survives a killed process at once) and
 * fdatasync'd by the writer thread (survives a power loss a few ms later).
 * publish() starts a new one when it is full (seg_cap); one whose messages
 * are all settled is retired too (journal_del); the writer closes a
 * retired one at its next round.
 * It goes when it is closed and its last message is settled.
 */
struct seg {
	struct seg	*next;
	uint64_t	 id;		/* file s<id>.seg, id = first qseq */
	int		 fd;		/* open for appending; -1 once closed */
	uint64_t	 bytes;
	size_t		 live;		/* messages not settled yet */
	bool		 named;		/* its directory entry is durable */
	uint64_t	 head;		/* its newest alert's seq, with a state
					   file: it stays while the file on
					   disk is older (seg_release) */
	/* the writer's round (writer only) */
	struct seg	*wnext;
	int		 wfd;
	bool		 wclose;
};

struct sub {
	char		*filter;
	void		(*cb)(void *, const char *, const void *, size_t);
	void		*arg;
};

/* What a publish callback needs to find its message again. */
struct sendctx {
	struct mqtt_out	*m;
	uint64_t	 qseq;
};

struct mqtt_out {
	/* the queue (qmu) */
	pthread_mutex_t			 qmu;
	struct qmsg			*head, *tail;
	size_t				 nq, ninflight;
	/* mqtt_out_index.c: qseq -> message, the send cursor (every
	 * message before it is in flight, brokered or acked), counts */
	struct qmsg			**buckets;
	size_t				 nbuckets;
	struct qmsg			*scan;
	size_t				 nbrokered;
	int64_t				 aseq_last;	/* last alert queued */
	bool				 aseq_unsorted;	/* queued out of order */
	/* alerts: queued -> durable, queued -> PUBACK (qmu) */
	struct mqtt_out_lat		 lat_durable, lat_brokered;
	uint64_t			 next_qseq;
	char				*jdir;	/* journal; NULL: memory only */
	int				 dirfd;	/* jdir, for fsync */
	struct seg			*segs, *segs_tail, *cur;
	uint64_t			 jbytes, max_jbytes;
	size_t				 nmem;	/* payloads held in memory */
	/* nmem < max_buffered at the last publish (set under qmu, read
	 * before it): with the journal, a message that would be spilled
	 * gets no copy in memory at all */
	atomic_bool			 mem_room;
	/* unspill's read fd, kept for the segment it read last (valid
	 * while rseg != NULL; closed when that segment goes and at the end
	 * of each pump, mqtt_out_unspill_end) */
	struct seg			*rseg;
	int				 rfd;
	struct qmsg			*wfirst;	/* first not durable */
	pthread_cond_t			 wcv;	/* the writer's (with qmu) */
	pthread_t			 wr;
	bool				 wr_started, wstop;
	bool				 wretired;	/* a segment to close */
	/* the chain state, kept with the journal (mqtt_out_state_file) */
	char				*state_path;
	uint64_t			 st_seq, jl_seq;
	char				 st_hash[65], jl_hash[65];
	bool				 state_dirty;
	int64_t				 st_due_us;	/* next checkpoint */
	uint64_t			 st_disk;	/* seq in the file on disk */
	atomic_uint_fast64_t		 syncs, spilled;

	pthread_mutex_t			 hmu;
	MQTTAsync			 h;	/* hmu */

	char				*uri, *client_id, *persist_dir;
	char				*ca, *cert, *key, *username, *password;
	char				 prefix[MQTT_OUT_TOPIC];	/* .../<agent>/ */
	char				 status_topic[MQTT_OUT_TOPIC + 8];
	int				 max_buffered;
	int				 reconnect_max_ms;
	int				 create_version;
	MQTTAsync_connectOptions	 conn;	/* the supervisor's, once started */
	MQTTAsync_willOptions		 will;
	MQTTAsync_SSLOptions		 ssl;
	MQTTProperties			 props;

	/* connection state, set by callbacks */
	atomic_bool			 v5;	/* callbacks/options of v5 */
	atomic_bool			 allow_fallback, fallback_wanted;
	atomic_int			 connected, connecting;
	atomic_bool			 need_new_client, want_online;
	atomic_int_fast64_t		 next_attempt_ms;
	atomic_int			 backoff_ms;
	atomic_int_fast64_t		 up_since_ms;
	atomic_uint_fast64_t		 answered_at_up;
	atomic_int			 fruitless;

	/* counters */
	atomic_uint_fast64_t		 published, delivered, dropped;
	atomic_uint_fast64_t		 refused, skipped, connects;
	atomic_uint_fast64_t		 acked, resent;

	/* end-to-end ack (qmu) */
	bool				 central_ack;
	int64_t				 ack_seq;	/* -1: none yet */
	size_t				 nunacked;
	int64_t				 ack_timeout_ms, resend_ms;
	int64_t				 next_stuck_check_ms;
	atomic_int_fast64_t		 pump_after_ms;
	atomic_bool			 want_subscribe;
	char				 ack_topic[MQTT_OUT_TOPIC + 8];

	/* subscriptions (smu) */
	pthread_mutex_t			 smu;
	struct sub			 subs[MQTT_OUT_MAX_SUBS];
	int				 nsubs;

	/* the supervisor */
	pthread_t			 sup;
	bool				 sup_started;
	pthread_mutex_t			 cvmu;
	pthread_cond_t			 cv;
	atomic_bool			 stop;

	void				(*log)(void *, const char *);
	void				*log_ctx;
	pthread_mutex_t			 log_mu;
	char				 last_fail[200];
};


/* agent/mqtt_out_journal.c */
void	mqtt_out_kick(struct mqtt_out *m);
uint64_t	mqtt_out_answered(struct mqtt_out *m);
size_t	mqtt_out_queue_len(struct mqtt_out *m);
void	mqtt_out_log_stderr(void *ctx, const char *line);
void	mqtt_out_say(struct mqtt_out *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void	mqtt_out_say_failure(struct mqtt_out *m, const char *what);
int64_t	mqtt_out_alert_seq(const char *p, size_t len);
bool	mqtt_out_alert_state(const char *p, size_t len, uint64_t *seq, char hash[65]);
int	mqtt_out_journal_append(struct mqtt_out *m, struct qmsg *const *q,
	    const char *const *payload, int n);
int	mqtt_out_unspill(struct mqtt_out *m, struct qmsg *q);
void	mqtt_out_unspill_end(struct mqtt_out *m);
void	mqtt_out_journal_close(struct mqtt_out *m);
void *mqtt_out_writer(void *arg);
void	mqtt_out_queue_append(struct mqtt_out *m, struct qmsg *q);
/* A zeroed message with room for a topic of tl bytes (+ NUL); topic, when
 * not NULL, is copied there. */
struct qmsg *mqtt_out_qmsg_new(const char *topic, size_t tl);
void	mqtt_out_qmsg_free(struct qmsg *q);
void	mqtt_out_drop_msg(struct mqtt_out *m, struct qmsg *q);
int	mqtt_out_journal_load(struct mqtt_out *m, char *err, size_t errlen);
int64_t	mqtt_out_now_ms(void);
void	mqtt_out_sleep_ms(int ms);
void	mqtt_out_sleep_us(long us);
/* agent/mqtt_out_index.c */
void	mqtt_out_index_add(struct mqtt_out *m, struct qmsg *q);
void	mqtt_out_index_del(struct mqtt_out *m, struct qmsg *q);
struct qmsg	*mqtt_out_index_find(struct mqtt_out *m, uint64_t qseq);
void	mqtt_out_index_free(struct mqtt_out *m);
void	mqtt_out_rewind(struct mqtt_out *m, struct qmsg *q);
void	mqtt_out_set_brokered(struct mqtt_out *m, struct qmsg *q, bool brokered);
/* agent/mqtt_out_latency.c */
int64_t	mqtt_out_now_us(void);
void	mqtt_out_lat_add(struct mqtt_out_lat *l, int64_t us);
uint64_t	mqtt_out_lat_pct(const struct mqtt_out_lat *l, double p);
void	mqtt_out_lat_text(const struct mqtt_out_lat *l, char *buf, size_t len);
/* agent/mqtt_out_conn.c */
void	mqtt_out_on_ack(void *arg, const char *topic, const void *payload, size_t len);
void	mqtt_out_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r);
void	mqtt_out_use_v311(struct mqtt_out *m);
int	mqtt_out_create_client(struct mqtt_out *m, MQTTAsync *h, char *err, size_t errlen);
void *mqtt_out_supervise(void *arg);

#endif /* ICSENTRY_AGENT_MQTT_OUT_INT_H */
