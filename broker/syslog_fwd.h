/*
 * syslog_fwd.h - forward stored alerts to a SIEM over syslog.
 *
 * RFC 5424 messages over UDP (RFC 5426: one message per datagram), TCP
 * (RFC 6587 octet-counting: "LEN SP MSG") or TLS (RFC 5425, OpenSSL, the
 * same framing).  The body is the alert's JSON or an ArcSight CEF line.
 *
 * The collector offers an alert once it is committed to the central log
 * (so only stored alerts go out, each once per collector run).  offer()
 * never blocks on the network: it copies into a bounded queue; a thread
 * sends, reconnects with backoff when the receiver is down and keeps the
 * unsent alert at the head of the queue.  A full queue drops the oldest
 * alert (counted): storage is never held up by a SIEM.
 */
#ifndef ICSENTRY_BROKER_SYSLOG_FWD_H
#define ICSENTRY_BROKER_SYSLOG_FWD_H

#include <stddef.h>
#include <stdint.h>

struct cfg_schema;
struct cfg;
extern const struct cfg_schema syslog_fwd_schema;	/* [syslog] */

enum syslog_fmt { SYSLOG_JSON, SYSLOG_CEF };

struct syslog_fwd_opts {
	const char	*target;	/* udp://h:p, tcp://h:p, tls://h:p */
	enum syslog_fmt	 format;
	const char	*hostname;	/* HOSTNAME field; NULL: gethostname */
	const char	*app_name;	/* default "icsentry" */
	int		 facility;	/* default 13 (log audit)... 0..23 */
	size_t		 queue_max;	/* alerts held while the receiver is down */
	const char	*ca_file;	/* TLS: verify the receiver against it */
	const char	*cert_file;	/* TLS client certificate (optional) */
	const char	*key_file;
	int		 verify;	/* TLS: verify peer certificate */
};

struct syslog_fwd_counters {
	uint64_t	offered, sent, dropped, errors, reconnects;
	uint64_t	queued;		/* now */
	int		connected;
};

struct syslog_fwd;

/* Fill o from [syslog] of c; 0, or -1 with err (bad target or format). */
int syslog_fwd_opts_from_cfg(const struct cfg *c, struct syslog_fwd_opts *o,
    char *err, size_t errlen);

/* Start the sender thread; NULL with err filled. */
struct syslog_fwd *syslog_fwd_new(const struct syslog_fwd_opts *o, char *err,
    size_t errlen);

/* Queue one stored alert (its JSON text); never blocks on the network. */
void syslog_fwd_offer(struct syslog_fwd *f, const char *json, size_t len);

void syslog_fwd_counters(struct syslog_fwd *f, struct syslog_fwd_counters *c);

/* Try up to timeout_ms to send what is queued, then stop and free. */
void syslog_fwd_free(struct syslog_fwd *f, int timeout_ms);

/*
 * Format one message (no framing): "<PRI>1 TS HOST APP - MSGID - BODY".
 * Returns a malloc'd string, NULL when json is not an alert.
 */
char *syslog_fwd_format(const struct syslog_fwd_opts *o, const char *host,
    const char *json, size_t len);

/* The CEF line of an alert (exposed for tests); malloc'd or NULL. */
char *syslog_cef(const char *json, size_t len);

#endif
