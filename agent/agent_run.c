/*
 * agent_run.c - the agent's capture loop and its once-a-second work
 * (stats, metrics, reload, the MQTT overflow and ack alerts);
 * agent_replay and agent_run (agent.c).
 */

#include "agent/agent.h"
#include "agent/agent_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
#include "lib/restab.h"
#include "lib/rfc3339.h"
#include "lib/log.h"

static void periodic(struct agent *a, double start);

/*
 * Stopping a live capture: what the kernel already captured is in the
 * ring - process it (bounded) rather than leave it uncounted.
 */
static void
drain(struct agent *a, double start)
{
	struct cap_frame fr;
	double until = agent_wall_now() + 2.0;
	uint64_t n = 0;

	(void)start;
	if (a->cap == NULL || !cap_is_live(a->cap))
		return;
	while (cap_next_nowait(a->cap, &fr) == 1) {
		agent_process(a, &fr);
		if ((++n & 0x3ff) == 0 && agent_wall_now() > until)
			break;
	}
}

/* What run_capture keeps across frames. */
struct run_state {
	struct agent	*a;
	double		 start;
	double		 next_show;
	uint64_t	 zero;		/* records with no captured bytes */
};

/* One frame: process it, then the work due every so many packets. */
static void
run_frame(struct run_state *r, const struct cap_frame *fr)
{
	struct agent *a = r->a;

	/* a record with no bytes is counted (trunc_link) and reported */
	if (fr->caplen == 0)
		r->zero++;
	agent_process(a, fr);
	if ((a->packets & 0x3ff) == 0)
		periodic(a, r->start);
	else if (a->metrics != NULL && a->now >= a->metrics_ts + 1000000)
		agent_snapshot_metrics(a);
	if (a->progress && (a->packets & 0x3fff) == 0 &&
	    agent_wall_now() >= r->next_show) {
		agent_show_progress(a, r->start, false);
		r->next_show = agent_wall_now() + 0.5;
	}
}

/*
 * A file read in batches (cap_dispatch): the signals and a new intel
 * bundle are looked at after every frame, as in the frame-by-frame loop,
 * and stop the batch before the next frame.
 */
static void
batch_frame(void *arg, const struct cap_frame *fr)
{
	struct run_state *r = arg;
	struct agent *a = r->a;

	run_frame(r, fr);
	if (agent_g_stop || agent_g_reload || agent_g_reopen ||
	    intel_feed_pending(a->intel))
		cap_break(a->cap);
}

/* Frames per cap_dispatch call; a break ends a batch early. */
#define RUN_BATCH	1024

/*
 * Read one capture to its end.  Returns 0, or the exit code for a capture
 * that could not be opened or ended in error.
 */
static int
run_capture(struct agent *a, const struct cap_opts *co, double start)
{
	struct run_state r = { .a = a, .start = start };
	struct cap_frame fr;
	char err[512];
	bool bad, batch;
	uint64_t cap0 = 0;
	double wall0 = 0;
	int rc;

	a->cap = cap_open(co, err, sizeof(err), &bad);
	if (a->cap == NULL) {
		log_err("%s\n", err);
		return bad ? EXIT_USAGE : EXIT_RUNTIME;
	}
	a->dlt = cap_datalink(a->cap);
	evidence_set_dlt(a->ev, a->dlt);
	if (cap_is_live(a->cap) &&
	    priv_drop(cfg_str(a->cfg, "agent", "user"),
	    cfg_bool(a->cfg, "agent", "allow_root"), err, sizeof(err)) != 0) {
		log_err("%s\n", err);
		return EXIT_USAGE;
	}
	/* what is judged and what is not: once; always live, -r on a terminal */
	if (!a->coverage_told && (cap_is_live(a->cap) || isatty(STDERR_FILENO))) {
		a->coverage_told = true;
		ops_coverage_log(a->cfg);
	}
	/* a file at full speed: batches; live or paced: frame by frame */
	batch = !cap_is_live(a->cap) && !a->o->realtime;
	for (;;) {
		agent_flush_alerts(a);
		if (agent_g_stop) {
			drain(a, start);
			break;
		}
		if (agent_g_reload) {
			agent_g_reload = 0;
			agent_reload(a);
		}
		if (agent_g_reopen) {
			agent_g_reopen = 0;
			agent_reopen_outputs(a);
		}
		if (intel_feed_pending(a->intel))
			agent_apply_intel(a);
		if (batch) {
			rc = cap_dispatch(a->cap, RUN_BATCH, batch_frame, &r);
			if (rc >= 0)
				continue;
		} else {
			rc = cap_next(a->cap, &fr);
			if (rc == 1) {
				if (a->o->realtime && !cap_is_live(a->cap))
					agent_pace(a, fr.ts, &cap0, &wall0);
				run_frame(&r, &fr);
				continue;
			}
			if (rc == 0) {	/* live timeout: let time move on */
				periodic(a, start);
				agent_snapshot_metrics(a);
				continue;
			}
		}
		if (rc == -1 || rc == -3)
			break;
		/* -2: read error; for a file, a truncated or corrupt record */
		log_err("%s (after %" PRIu64 " packets)\n",
		    cap_error(a->cap), a->packets);
		return cap_is_live(a->cap) ? EXIT_RUNTIME : EXIT_USAGE;
	}
	agent_flush_alerts(a);
	if (a->progress)
		agent_show_progress(a, start, true);
	agent_snapshot_metrics(a);
	if (r.zero > 0) {
		log_err("%s: %" PRIu64
		    " records with no captured bytes (skipped); the capture is damaged\n",
		    co->file != NULL ? co->file : co->iface, r.zero);
		return EXIT_USAGE;
	}
	return 0;
}

/* Alerts unacknowledged by the central log this long: raise an alert. */
#define ACK_STUCK_S	600.0

/*
 * Once a second of wall time: publish the stats when due, and turn an
 * overflow of the MQTT buffer into an alert (it also reaches the JSON
 * lines file, and MQTT once there is room again): never silent.
 */
static void
periodic(struct agent *a, double start)
{
	struct mqtt_out_counters mc;
	double now = agent_wall_now();
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if (a->metrics != NULL)
		agent_snapshot_metrics(a);
	if (a->mqtt == NULL || now < a->next_stats)
		return;
	mqtt_out_counters(a->mqtt, &mc);
	if (mc.dropped > a->mqtt_dropped) {
		struct det_alert al;
		char title[160];

		memset(&al, 0, sizeof(al));
		al.detector = "agent.mqtt_overflow";
		al.severity = SEV_HIGH;
		snprintf(title, sizeof(title),
		    "MQTT buffer full: %" PRIu64 " messages could not be queued",
		    mc.dropped - a->mqtt_dropped);
		al.title = title;
		al.ts = a->now;
		al.details = cJSON_CreateObject();
		cJSON_AddNumberToObject(al.details, "dropped_total", (double)mc.dropped);
		cJSON_AddNumberToObject(al.details, "queued", (double)mc.buffered);
		a->mqtt_dropped = mc.dropped;
		alerter_raise(a->al, &al);
	}
	/*
	 * The central log has acknowledged nothing for ACK_STUCK_S while
	 * alerts wait: no collector, or every copy lost on the way.  Say it
	 * once per episode as an alert (it reaches the JSON lines file at
	 * once, and the central log when the path heals).
	 */
	if (mc.unacked > 0 && mc.oldest_unacked_s >= ACK_STUCK_S) {
		if (!a->ack_stuck) {
			struct det_alert al;
			char title[200];

			memset(&al, 0, sizeof(al));
			al.detector = "agent.central_ack_stuck";
			al.severity = SEV_HIGH;
			snprintf(title, sizeof(title), "central log has not "
			    "acknowledged %" PRIu64 " alert(s) for %.0f s",
			    mc.unacked, mc.oldest_unacked_s);
			al.title = title;
			al.ts = a->now;
			al.details = cJSON_CreateObject();
			cJSON_AddNumberToObject(al.details, "unacked",
			    (double)mc.unacked);
			cJSON_AddNumberToObject(al.details, "oldest_unacked_s",
			    mc.oldest_unacked_s);
			cJSON_AddNumberToObject(al.details, "ack_seq",
			    (double)mc.ack_seq);
			a->ack_stuck = true;
			alerter_raise(a->al, &al);
		}
	} else {
		a->ack_stuck = false;
	}
	if (a->stats_every > 0 && now >= a->next_stats) {
		fp = open_memstream(&buf, &len);
		if (fp != NULL) {
			agent_print_stats(a, fp, now - start);
			fclose(fp);
			if (len > 0 && buf[len - 1] == '\n')
				len--;
			(void)mqtt_out_stats(a->mqtt, buf, len);
			free(buf);
		}
	}
	a->next_stats = now + (a->stats_every > 0 ? a->stats_every : 1.0);
}
int
agent_replay(struct agent *a, const char *file)
{
	struct cap_opts co;

	if (a->cap != NULL) {
		cap_close(a->cap);
		a->cap = NULL;
		agent_next_capture(a);
	}
	agent_capture_opts(a, &co);
	co.file = file;
	return run_capture(a, &co, agent_wall_now());
}

int
agent_run(const struct agent_opts *o)
{
	struct agent a;
	struct cap_opts co;
	struct sigaction sa;
	char err[1024] = "";
	double start;
	int rc, i;

	memset(&a, 0, sizeof(a));
	a.o = o;
	/*
	 * Live, the bounded tables are made resident up front (a steady RSS
	 * for months); reading files, pages are faulted in as they are used
	 * (lib/restab.h).
	 */
	restab_set_resident(o->nfiles == 0);
	rc = agent_setup(&a, o, err, sizeof(err));
	if (rc != 0) {
		log_err("%s\n", err);
		agent_teardown(&a);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = agent_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * SIGHUP and SIGUSR1 must not break a blocking read of a capture
	 * from a pipe (-r -): restart it; the flag is seen at the next packet.
	 */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = agent_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = agent_on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.progress = isatty(STDERR_FILENO) && !o->stats;

	agent_capture_opts(&a, &co);
	start = agent_wall_now();
	if (o->nfiles == 0) {
		co.iface = cfg_str(a.cfg, "capture", "interface");
		rc = run_capture(&a, &co, start);
	} else {
		for (i = 0; i < o->nfiles && rc == 0 && !agent_g_stop; i++) {
			co.file = o->files[i];
			if (a.cap != NULL) {
				cap_close(a.cap);
				a.cap = NULL;
			}
			if (i > 0) {
				agent_next_capture(&a);
				/* hand the freed flows' memory back */
				malloc_trim(0);
			}
			rc = run_capture(&a, &co, start);
		}
	}
	/* whatever happened, what was seen is reported: flush flows, alerts */
	flow_flush(a.flows);
	alerter_flush(a.al);
	if (det_engine_finish(a.det, err, sizeof(err)) != 0) {
		log_err("%s\n", err);
		if (rc == 0)
			rc = EXIT_RUNTIME;
	}
	agent_flush_alerts(&a);
	if (a.metrics != NULL) {
		/* a replay's end stays scrapable (and MQTT keeps draining) */
		double until = agent_wall_now() + cfg_double(a.cfg, "agent",
		    "metrics_linger");

		a.replay_done = o->nfiles > 0;
		agent_snapshot_metrics(&a);	/* flushed flows and alerts */
		while (o->nfiles > 0 && !agent_g_stop && agent_wall_now() < until) {
			nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
			periodic(&a, start);	/* takes a snapshot */
			agent_flush_alerts(&a);
		}
	}
	if (a.mqtt != NULL) {
		periodic(&a, start);
		mqtt_out_counters(a.mqtt, &a.mqtt_final);
		a.mqtt_final_set = true;
		/* deliver what is queued (bounded), publish offline, disconnect */
		int crc = mqtt_out_close(a.mqtt, 10000);

		/* the publisher is gone: keep its last counters for the stats */
		a.mqtt = NULL;
		if (crc == 0) {
			/* close returns 0 only once everything was acknowledged */
			a.mqtt_final.delivered = a.mqtt_final.published -
			    a.mqtt_final.refused;
			a.mqtt_final.buffered = 0;
		}
		if (crc != 0)
			log_warn("mqtt: not every message was "
			    "acknowledged; the rest stays in the persistent queue\n");
		if (o->stats)
			agent_print_stats(&a, stderr, agent_wall_now() - start);
	} else if (o->stats)
		agent_print_stats(&a, stderr, agent_wall_now() - start);
	agent_teardown(&a);
	return rc;
}
