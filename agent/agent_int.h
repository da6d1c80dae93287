/*
 * agent_int.h - what the pieces of the agent's pipeline share (private to
 * agent/agent*.c): struct agent, the signal flags and the functions one
 * piece calls in another.
 *
 * Layered one way: agent.c (configuration keys, signals, the per-packet
 * pipeline, flow records, statistics, the MQTT glue) is the base;
 * agent_setup.c (building, reloading and tearing down the pipeline,
 * agent_open/close) sits on it, and agent_run.c (the capture loop, the
 * periodic work, agent_replay, agent_run) on both.  This header does not
 * include agent/agent.h, so the pieces form no cycle.
 */

#ifndef ICSENTRY_AGENT_AGENT_INT_H
#define ICSENTRY_AGENT_AGENT_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>
#include "agent/agent_metrics.h"
#include "agent/alert.h"
#include "agent/eve.h"
#include "agent/capture.h"
#include "agent/classify.h"
#include "dissectors/decode.h"
#include "detectors/engine.h"
#include "dissectors/dissect.h"
#include "dissectors/flow.h"
#include "lib/ids.h"
#include "agent/intel_feed.h"
#include "agent/mqtt_out.h"
#include "agent/ops.h"
#include "agent/privdrop.h"
#include "agent/enrich.h"
#include "agent/evidence.h"
#include "lib/rfc3339.h"
#include "lib/log.h"

struct agent_opts;

#define MAX_SCHEMAS	80
#define MAX_PROTO_NAMES	256
#define DEFAULT_CONFIG	"/etc/icsentry/agent.conf"
/* nDPI packets to wait for its own name once a dissector validated a flow */
#define ICS_NDPI_PACKETS	8

struct proto_count {
	char		name[48];
	uint64_t	flows;
};

/* stdio buffer of alerts_out, flushed per batch of frames */
#define AGENT_ALERTS_BUF	(64 * 1024)

struct agent {
	const struct agent_opts	*o;
	struct cfg		*cfg;
	struct cap		*cap;
	struct flow_table	*flows;
	struct classifier	*cls;
	struct dissector	*dis;
	struct det_engine	*det;
	struct alerter		*al;
	struct asset_book	*book;		/* [assets] file */
	struct evidence		*ev;		/* last packets per flow */
	char			*evdir;		/* [evidence] dir, or NULL */
	FILE			*alerts_fp, *flows_fp;
	char			*alerts_buf;	/* alerts_fp's (AGENT_ALERTS_BUF) */
	struct mqtt_out		*mqtt;
	struct intel_feed	*intel;		/* threat-intel bundles */
	struct agent_metrics	*metrics;	/* --metrics; NULL: off */
	uint64_t		 metrics_ts;	/* capture time of the last snapshot */
	bool			 replay_done;	/* shown on /metrics */
	double			 stats_every;	/* seconds, 0 = never */
	double			 next_stats;	/* wall clock */
	uint64_t		 mqtt_dropped;	/* last seen overflow count */
	bool			 ack_stuck;	/* alerted, until unstuck */
	struct mqtt_out_counters mqtt_final;	/* just before closing */
	bool			 mqtt_final_set;
	double			 wall0;		/* realtime wall clock of cap0 */
	uint64_t		 cap0;		/* first packet's capture time */
	int			 dlt;

	/* statistics */
	uint64_t		 packets, bytes, non_ip, arp, ip, fragments;
	uint64_t		 l2;		/* frames of a layer-2 ICS protocol */
	uint64_t		 decode_err[DEC_NWHY];
	uint64_t		 no_flow_mem;
	uint64_t		 bad_ts;	/* record stamps out of range */
	uint64_t		 tcp_no_flow;	/* flowless ACK/FIN/RST */
	uint64_t		 reloads;	/* SIGHUP reloads done */
	struct proto_count	 protos[MAX_PROTO_NAMES];
	size_t			 nprotos;
	uint64_t		 last_expire;
	uint64_t		 now;		/* capture time */
	uint64_t		 det_due;	/* det_engine_time's next tick; 0 = ask */
	bool			 progress;	/* stderr is a terminal */
	bool			 coverage_told;	/* the coverage banner was logged */
	bool			 alerts_out_failed;	/* said once */
	bool			 alerts_eve;	/* alerts_format = eve */
	uint64_t		 alerts_pending;	/* in alerts_fp's buffer */
};


/* agent/agent.c */
extern volatile sig_atomic_t agent_g_stop;
extern volatile sig_atomic_t agent_g_reload;
extern volatile sig_atomic_t agent_g_reopen;	/* SIGUSR1: reopen outputs only */
void	agent_on_usr1(int sig);
void	agent_on_hup(int sig);
void	agent_on_signal(int sig);
void	agent_on_flow_end(void *arg, struct flow *f, enum flow_end_reason why);
void	agent_process(struct agent *a, const struct cap_frame *fr);
double	agent_wall_now(void);
void	agent_show_progress(struct agent *a, double start, bool final);
void	agent_pace(struct agent *a, uint64_t ts, uint64_t *cap0, double *wall0);
void	agent_snapshot_metrics(struct agent *a);
void	agent_print_stats(struct agent *a, FILE *fp, double elapsed);
int	agent_journal_mqtt(void *arg, const char *severity, const char *json,
	    size_t len, uint64_t seq, const void *pcap, size_t pcap_len,
	    int *ev_rc);
int	agent_sink_alerts_out(void *arg, const char *severity, const char *json,
	    size_t len);
void	agent_flush_alerts(struct agent *a);
bool	agent_describe_asset(void *arg, uint8_t af, const uint8_t *ip,
    struct det_asset_info *out);
void	agent_asset_mqtt(void *arg, const char *ip, const char *json, size_t len);
void	agent_intel_log(void *ctx, const char *line);
void	agent_intel_status_mqtt(void *arg, const char *json, size_t len);
int	agent_intel_subscribe(struct agent *a, const char *site, char *err, size_t errlen);
void	agent_mqtt_log(void *ctx, const char *line);
/* agent/agent_setup.c */
void	agent_reload(struct agent *a);
void	agent_reopen_outputs(struct agent *a);
void	agent_apply_intel(struct agent *a);
int	agent_read_config(const struct agent_opts *o, struct cfg **out, char *err,
    size_t errlen);
int	agent_setup(struct agent *a, const struct agent_opts *o, char *err, size_t errlen);
void	agent_teardown(struct agent *a);
void	agent_next_capture(struct agent *a);
void	agent_capture_opts(struct agent *a, struct cap_opts *co);

#endif /* ICSENTRY_AGENT_AGENT_INT_H */
