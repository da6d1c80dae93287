/*
 * mqtt_out.h - the agent's MQTT publisher (Eclipse Paho C, MQTTAsync).
 *
 * Topics (DESIGN.md "MQTT"), all under icsentry/<site>/<agent>/:
 *   alert/<severity>  QoS 1, one alert JSON per message
 *   status            retained "online" (QoS 0) on every connect,
 *                     "offline" (QoS 1) on a clean close and as the will
 *   stats             QoS 1, only while connected
 *   asset/<ip>        retained inventory entry, QoS 1
 *   evidence/<seq>    QoS 1, the pcap of alert seq's triggering packets
 *   intel             retained threat-intel status (applied versions), QoS 1
 *   ack               (read) retained, written by collectors: the highest
 *                     seq s such that the central log holds every alert
 *                     1..s of this agent (end-to-end acknowledgement)
 *
 * With central_ack on, an alert stays in the queue and the journal after
 * the broker's PUBACK until the central log's ack covers it; what stays
 * unacknowledged is sent again after a reconnect, and while connected
 * after ack_timeout (doubling up to an hour), so no broker, bridge or
 * subscription behaviour can lose an alert silently.  Stats, assets and
 * status still count as delivered at PUBACK.
 *
 * Nothing here blocks on the broker or the disk.  Every message goes into
 * our own FIFO and, with persist_dir set, is appended to a journal there
 * (segment files, one write(2) per message on the caller's thread, so an
 * agent killed with SIGKILL loses nothing it accepted); a writer thread
 * makes each batch durable with one fdatasync and one directory fsync
 * (group commit) before any of it is sent, and keeps the chain state file
 * with it (mqtt_out_state_file).  A restarted agent with the same client
 * id and persist_dir sends what was not acknowledged, in order.  Memory
 * holds max_buffered payloads; the rest wait on disk only (spilled), up to
 * max_journal_mb; past that, and without persist_dir past max_buffered, a
 * publish is refused and counted as dropped.  A
 * supervisor thread connects and reconnects with backoff and feeds Paho
 * while connected; after a lost connection it uses a fresh Paho client
 * (see mqtt_out.c for the Paho 1.3.12 bug that makes this necessary).
 * Delivery is at least once: a message in flight when the link broke is
 * sent again.
 *
 * Thread safety: mqtt_out_alert/asset/stats/counters may be called from
 * any thread; mqtt_out_close from one thread once, after all other calls.
 */
#ifndef ICSENTRY_AGENT_MQTT_OUT_H
#define ICSENTRY_AGENT_MQTT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct cfg_schema;

/*
 * The [mqtt] section: uri (default empty = MQTT off), client_id,
 * ca_file, cert_file, key_file, username, password_file, keepalive,
 * mqtt_version, max_buffered, persist_dir, stats_interval,
 * session_expiry, connect_timeout, reconnect_max.  Site and agent names
 * live in [agent] and are passed to mqtt_out_opts_from_cfg().
 */
extern const struct cfg_schema mqtt_out_schema;

struct mqtt_out_opts {
	const char	*uri;		/* tcp://host:1883 or ssl://host:8883;
					   "" or NULL: MQTT is off */
	const char	*client_id;	/* "" or NULL: icsentry-<site>-<agent>;
					   keep it stable (session, persistence) */
	const char	*site, *agent;	/* topic levels: no '/', '+', '#' */
	const char	*ca_file;	/* ssl://: CA to trust ("": system's) */
	const char	*cert_file;	/* ssl://: our certificate (PEM) */
	const char	*key_file;	/* ssl://: its key (PEM) */
	const char	*username;	/* "" or NULL: none */
	const char	*password_file;	/* first line is the password */
	int		 keepalive;	/* seconds */
	int		 mqtt_version;	/* 5: v5, 3.1.1 when the broker refuses
					   v5; 4: 3.1.1 only */
	int		 max_buffered;	/* messages held while disconnected */
	const char	*persist_dir;	/* journal of unacknowledged messages;
					   "" = memory only */
	int		 stats_interval;	/* seconds; for the caller's timer */
	int		 session_expiry;	/* seconds the broker keeps our
						   session after a disconnect */
	int		 connect_timeout;	/* seconds */
	int		 reconnect_max;	/* longest pause between reconnects, s */
	int		 central_ack;	/* 1: keep alerts until the central
					   log's ack (above); 0: PUBACK */
	int		 ack_timeout;	/* seconds before unacknowledged alerts
					   are sent again while connected
					   (0: 60) */
	int		 max_journal_mb;	/* persist_dir bound (0: 1024) */
	const char	*state_file;	/* with persist_dir: the chain state
					   file kept with the journal (see
					   mqtt_out_state_head); "" or NULL:
					   none */
	/* Where connection events and errors go (one line, no newline);
	 * NULL: stderr.  Called from Paho's threads too. */
	void		(*log)(void *ctx, const char *line);
	void		*log_ctx;
};

struct mqtt_out_counters {
	uint64_t	published;	/* accepted by alert/asset/stats */
	uint64_t	delivered;	/* of those, acknowledged by the broker */
	uint64_t	buffered;	/* accepted, not acknowledged yet (now) */
	uint64_t	dropped;	/* refused: buffer full, journal write
					   error, unreadable journal file */
	uint64_t	refused;	/* rejected by the broker (PUBACK reason
					   >= 0x80, e.g. not authorized) */
	uint64_t	skipped;	/* stats/assets not sent while offline */
	uint64_t	reconnects;	/* connections after the first */
	uint64_t	acked;		/* alerts the central log acknowledged */
	uint64_t	unacked;	/* alerts waiting for that ack (now) */
	double		oldest_unacked_s;	/* age of the oldest of them */
	int64_t		ack_seq;	/* highest ack received; -1: none */
	uint64_t	resent;		/* alerts sent again for want of it */
	uint64_t	syncs;		/* journal group commits (fdatasync) */
	uint64_t	spilled;	/* payloads left on disk only (past
					   max_buffered) */
	int		connected;	/* 1 while connected */
	int		mqtt_version;	/* in use: 5 or 4; 0 before connecting */
};

/*
 * Fill o from the [mqtt] section of c plus the site and agent names.
 * Pointers borrow from c and site/agent: keep them alive until
 * mqtt_out_new() returned.  Returns 0; o->uri[0] == '\0' means MQTT is
 * off.
 */
int	mqtt_out_opts_from_cfg(const struct cfg *c, const char *site,
	    const char *agent, struct mqtt_out_opts *o);

struct mqtt_out;

/*
 * Create the publisher and start connecting in the background; returns at
 * once even when the broker is down.  NULL on a bad option (site, agent,
 * uri scheme, unreadable password_file, persist_dir that cannot be
 * created) with one line in err.
 */
struct mqtt_out	*mqtt_out_new(const struct mqtt_out_opts *o, char *err,
		    size_t errlen);

/*
 * Queue one alert (QoS 1) on icsentry/<site>/<agent>/alert/<severity>.
 * json[0..len) is copied.  Never waits for the broker.  Returns 0,
 * IDS_EAGAIN when max_buffered messages wait already (counted as
 * dropped), IDS_EINVAL for an unknown severity, IDS_EIO when the journal
 * file cannot be written or memory runs out (counted as dropped).
 */
int	mqtt_out_alert(struct mqtt_out *m, const char *severity,
	    const char *json, size_t len);

/*
 * An alert and, when pcap is not NULL, its evidence (as mqtt_out_alert,
 * then mqtt_out_evidence) with one journal write for both.  Returns the
 * alert's result; *ev_rc the evidence's.
 */
int	mqtt_out_alert_evidence(struct mqtt_out *m, const char *severity,
	    const char *json, size_t len, uint64_t seq, const void *pcap,
	    size_t pcap_len, int *ev_rc);
/*
 * The evidence pcap of alert seq on icsentry/<site>/<agent>/evidence/<seq>
 * (QoS 1, journaled like an alert; delivered at PUBACK).  Returns as
 * mqtt_out_alert.
 */
int	mqtt_out_evidence(struct mqtt_out *m, uint64_t seq, const void *pcap,
    size_t len);

/*
 * Retained inventory entry on icsentry/<site>/<agent>/asset/<ip>; len 0
 * clears it.  While disconnected, assets may use only half the buffer
 * (the rest stays free for alerts); beyond that they are skipped.
 * Returns 0, IDS_EAGAIN (skipped or dropped), IDS_EINVAL, IDS_EIO.
 */
int	mqtt_out_asset(struct mqtt_out *m, const char *ip, const char *json,
	    size_t len);

/*
 * Periodic counters on icsentry/<site>/<agent>/stats; sent only while
 * connected (a stale snapshot is worth nothing), else skipped and
 * IDS_EAGAIN.
 */
int	mqtt_out_stats(struct mqtt_out *m, const char *json, size_t len);

/*
 * The threat-intel status (intel_feed.c): retained, QoS 1, on
 * icsentry/<site>/<agent>/intel - which bundle versions are applied and
 * the last refusal.  Returns as mqtt_out_asset.
 */
int	mqtt_out_intel(struct mqtt_out *m, const char *json, size_t len);

/*
 * Subscribe (QoS 1) to topic, an MQTT filter ('+' and '#' allowed); cb
 * gets every message that matches, on Paho's thread (keep it short, do
 * not call mqtt_out_close from it).  Subscribed again on every
 * (re)connect.  At most 16 subscriptions.  Returns 0, IDS_EINVAL (bad
 * filter, too many), IDS_ENOMEM.
 */
int	mqtt_out_subscribe(struct mqtt_out *m, const char *topic,
	    void (*cb)(void *arg, const char *topic, const void *payload,
	    size_t len), void *arg);

/*
 * With state_file: this object keeps the chain state file
 * ("icsentry-state 1 / seq / hash", the alerter's format) off the capture
 * thread.  The journal, synced every group commit, holds the chain's head
 * (the newest alert's seq and hash) before any alert is sent; the file is
 * its checkpoint, rewritten (file fsync, rename, directory fsync) at most
 * every MQTT_OUT_STATE_US and at the end.  A journal segment holding an
 * alert newer than the file on disk does not go, so the file or the
 * journal always has the head: after a crash the file may be behind, and
 * the caller continues from the newer of the two.
 *
 * mqtt_out_journal_last: the highest alert seq in the journal loaded at
 * start, and its hash: 1 when there is one.
 *
 * mqtt_out_state_head: at start, the head the caller goes on from (the
 * newer of its state file and mqtt_out_journal_last); write: the journal
 * was newer, so the file is written now (on the caller's thread).  Until
 * this call no journal segment holding an alert goes.  0, IDS_EINVAL
 * without state_file, IDS_EIO when the file cannot be written.
 */
int	mqtt_out_journal_last(const struct mqtt_out *m, uint64_t *seq,
	    char hash[65]);
int	mqtt_out_state_head(struct mqtt_out *m, uint64_t seq,
	    const char hash[65], bool write);

/* Snapshot of the counters (messages published through this object). */
void	mqtt_out_counters(const struct mqtt_out *m,
	    struct mqtt_out_counters *out);

/*
 * Wait up to timeout_ms for everything buffered or in flight to be
 * acknowledged (also while a connect is still under way; with the broker
 * down this takes the whole timeout), publish the retained "offline"
 * status, disconnect and free m.  Returns 0 when nothing was left
 * undelivered, IDS_EAGAIN when messages remain (they stay in the journal
 * for the next start).
 * Accepts NULL.
 */
int	mqtt_out_close(struct mqtt_out *m, int timeout_ms);

#endif
