/*
 * agent_setup.c - building the agent's pipeline from its configuration
 * (outputs, engine, MQTT, intel), rebuilding it on SIGHUP, reopening
 * outputs on SIGUSR1, tearing it down; agent_open and agent_close
 * (agent.c).
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
#include "lib/rfc3339.h"
#include "lib/log.h"

static int
open_out_file(const char *path, FILE **fp, char *err, size_t errlen)
{
	*fp = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	if (strcmp(path, "-") == 0) {
		*fp = stdout;
		return 0;
	}
	*fp = fopen(path, "w");
	if (*fp == NULL) {
		snprintf(err, errlen, "%s: cannot open for writing: %s", path,
		    strerror(errno));
		return IDS_EIO;
	}
	return 0;
}

/* The stages meet here: dissector -> detector engine -> alerter. */
static void
pdu_to_engine(void *arg, const struct det_pdu *pdu)
{
	det_engine_pdu(arg, pdu);
}

static void
malformed_to_engine(void *arg, const struct det_malformed *m)
{
	det_engine_malformed(arg, m);
}

static void
raise_to_alerter(void *arg, struct det_alert *al)
{
	alerter_raise(arg, al);
}

static void
tick_to_alerter(void *arg, uint64_t now)
{
	alerter_tick(arg, now);
}

static struct det_engine *
engine_new(struct agent *a, const struct cfg *c, char *err, size_t errlen)
{
	struct det_alert_sink out = { raise_to_alerter, tick_to_alerter, a->al };

	return det_engine_new(c, &out, err, errlen);
}

static void
engine_sink(struct dissect_sink *s, struct det_engine *e)
{
	s->pdu = pdu_to_engine;
	s->malformed = malformed_to_engine;
	s->arg = e;
}

/* cfg_set for each policy fragment of the intel bundles (reload). */
struct intel_pol_ctx {
	struct cfg	*c;
	char		*err;
	size_t		 errlen;
	int		 rc;
};

static void
intel_pol(void *arg, const char *key, const char *value, uint64_t version)
{
	struct intel_pol_ctx *p = arg;
	char origin[64];

	if (p->rc != 0)
		return;
	snprintf(origin, sizeof(origin), "intel bundle v%" PRIu64, version);
	p->rc = cfg_set(p->c, "policy", key, value, origin, p->err, p->errlen);
}

static void
flow_open(void *arg, struct flow *f)
{
	det_engine_flow_open(arg, f);
}

/*
 * Read the configuration again, put the threat-intel bundles' policy
 * fragments on top ([policy] keys: the SOC's word replaces the local
 * value), and rebuild the detectors.  new_intel: take the bundles that
 * wait (intel_feed_begin was called) and check the flows already open
 * against their indicators.  Returns 0, or -1 with err (nothing changed).
 */
static int
rebuild(struct agent *a, bool new_intel, struct cfg **old, char *err,
    size_t errlen)
{
	struct intel_pol_ctx pc;
	struct dissect_sink ds;
	struct asset_book *nb;
	struct det_engine *ne;
	struct cfg *nc = NULL;

	if (agent_read_config(a->o, &nc, err, errlen) != 0) {
		cfg_free(nc);
		return -1;
	}
	/* the plant's assets file is read again too */
	if ((nb = asset_book_load(nc, err, errlen)) == NULL) {
		cfg_free(nc);
		return -1;
	}
	pc.c = nc;
	pc.err = err;
	pc.errlen = errlen;
	pc.rc = 0;
	intel_feed_each_policy(a->intel, new_intel, intel_pol, &pc);
	if (pc.rc != 0) {
		asset_book_free(nb);
		cfg_free(nc);
		return -1;
	}
	if (det_engine_finish(a->det, err, errlen) != 0)
		log_err("reload: %s\n", err);
	err[0] = '\0';
	ne = engine_new(a, nc, err, errlen);
	if (ne == NULL) {
		asset_book_free(nb);
		cfg_free(nc);
		return -1;
	}
	alerter_set_enrich(a->al, nb, a->ev);
	asset_book_free(a->book);
	a->book = nb;
	det_engine_set_intel(ne, intel_feed_set(a->intel, new_intel));
	if (a->mqtt != NULL)
		det_engine_set_asset_sink(ne, agent_asset_mqtt, a->mqtt);
	det_engine_free(a->det);
	a->det = ne;
	a->det_due = 0;
	engine_sink(&ds, ne);
	dissect_set_sink(a->dis, &ds);
	/* nothing else keeps pointers into the old configuration */
	if (old != NULL)
		*old = a->cfg;
	else
		cfg_free(a->cfg);
	a->cfg = nc;
	/* connections that began before the SOC knew the attacker */
	if (new_intel && a->flows != NULL)
		flow_each(a->flows, flow_open, ne);
	return 0;
}

/*
 * SIGHUP: read the configuration again and rebuild the detectors from it
 * (policy, thresholds, baseline) with the threat-intel bundles applied
 * now.  Flows, the capture, the alert chain and the MQTT session carry on
 * untouched.  Learned state is written out first (finish hooks), so a
 * learning baseline continues where it was.  A bad file is reported and
 * the running configuration kept.
 */
void
agent_reload(struct agent *a)
{
	char err[1024] = "";
	struct cfg *was = NULL;

	if (rebuild(a, false, &was, err, sizeof(err)) != 0) {
		log_err("reload refused, keeping the running "
		    "configuration: %s\n", err);
		return;
	}
	a->reloads++;
	log_notice("configuration reloaded from %s\n",
	    cfg_path(a->cfg));
	{
		size_t n;
		const struct cfg_schema *const *all = agent_schemas(&n);

		ops_config_diff(was, a->cfg, all, n);
	}
	cfg_free(was);
	/*
	 * the old engine's tables are freed now: hand their pages back, or
	 * glibc's raised mmap threshold keeps the next rebuild's tables on
	 * the heap and each reload leaves RSS a little higher (measured:
	 * +3.7 MB over the first 40 reloads of an idle agent, then flat)
	 */
	malloc_trim(0);
	agent_reopen_outputs(a);
}

/* SIGHUP and SIGUSR1: log rotation moved the output files away. */
void
agent_reopen_outputs(struct agent *a)
{
	(void)ops_reopen(a->alerts_fp, cfg_str(a->cfg, "agent", "alerts_out"),
	    "alerts_out");
	(void)ops_reopen(a->flows_fp, cfg_str(a->cfg, "agent", "flows_out"),
	    "flows_out");
}

/*
 * A verified bundle waits (intel_feed.c did the signature, version and
 * table work on the thread that received it): apply it like a reload.
 */
void
agent_apply_intel(struct agent *a)
{
	char err[1024] = "";

	if (!intel_feed_begin(a->intel))
		return;
	if (rebuild(a, true, NULL, err, sizeof(err)) != 0) {
		intel_feed_commit(a->intel, false, err);
		return;
	}
	intel_feed_commit(a->intel, true, NULL);
}

/*
 * Load the configuration and apply the command line on top of it: used
 * at start and again on SIGHUP, so a reload keeps the same overrides.
 * On success *out owns the config; on failure it may be set too (free it).
 */
int
agent_read_config(const struct agent_opts *o, struct cfg **out, char *err,
    size_t errlen)
{
	const struct cfg_schema *const *schemas;
	const char *path = o->config;
	struct cfg *c;
	size_t n;

	*out = NULL;
	schemas = agent_schemas(&n);
	/* a live agent reads the system config when none is named */
	if (path == NULL && o->nfiles == 0 && access(DEFAULT_CONFIG, R_OK) == 0)
		path = DEFAULT_CONFIG;
	if (cfg_load(path, schemas, n, &c, err, errlen) != 0)
		return EXIT_USAGE;
	*out = c;
	if (o->iface != NULL &&
	    cfg_set(c, "capture", "interface", o->iface, "-i", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->filter != NULL &&
	    cfg_set(c, "capture", "filter", o->filter, "-f", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->alerts_out != NULL &&
	    cfg_set(c, "agent", "alerts_out", o->alerts_out, "--alerts-out",
	    err, errlen) != 0)
		return EXIT_USAGE;
	if (o->flows_out != NULL &&
	    cfg_set(c, "agent", "flows_out", o->flows_out, "--flows-out",
	    err, errlen) != 0)
		return EXIT_USAGE;
	if ((o->alerts_format != NULL && cfg_set(c, "agent", "alerts_format",
	    o->alerts_format, "--alerts-format", err, errlen) != 0) ||
	    (o->metrics != NULL && cfg_set(c, "agent", "metrics", o->metrics,
	    "--metrics", err, errlen) != 0))
		return EXIT_USAGE;
	if (strcmp(cfg_str(c, "agent", "alerts_format"), "json") != 0 &&
	    strcmp(cfg_str(c, "agent", "alerts_format"), "eve") != 0) {
		snprintf(err, errlen, "%s: alerts_format '%s' is neither json "
		    "nor eve", o->alerts_format != NULL ? "--alerts-format" :
		    cfg_path(c), cfg_str(c, "agent", "alerts_format"));
		return EXIT_USAGE;
	}
	if (o->nfiles == 0 && !o->check_only &&
	    cfg_str(c, "capture", "interface")[0] == '\0') {
		snprintf(err, errlen, "nothing to capture: give -i IFACE or -r FILE (see --help)");
		return EXIT_USAGE;
	}
	if (o->nfiles > 0 && o->iface != NULL) {
		snprintf(err, errlen, "-i and -r exclude each other");
		return EXIT_USAGE;
	}
	/* learning, baselines and the inventory are detectors' keys */
	if (o->learn != NULL && cfg_set(c, "detector.baseline", "learn",
	    o->learn, "--learn", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->baseline != NULL && cfg_set(c, "detector.baseline", "file",
	    o->baseline, "--baseline", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->assets_out != NULL && cfg_set(c, "detector.assets", "out",
	    o->assets_out, "--assets-out", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->mqtt_uri != NULL && cfg_set(c, "mqtt", "uri", o->mqtt_uri,
	    "--mqtt", err, errlen) != 0)
		return EXIT_USAGE;
	if (o->no_mqtt)
		cfg_set(c, "mqtt", "uri", "", "--no-mqtt", err, errlen);
	if (o->intel != NULL && cfg_set(c, "intel", "bundle", o->intel,
	    "--intel", err, errlen) != 0)
		return EXIT_USAGE;
	return 0;
}

int
agent_load_config(const struct agent_opts *o, struct cfg **out, char *err,
    size_t errlen)
{
	return agent_read_config(o, out, err, errlen);
}

int
agent_setup(struct agent *a, const struct agent_opts *o, char *err, size_t errlen)
{
	struct flow_table_opts fo;
	struct dissect_sink ds;
	struct alert_opts ao;
	char host[256];
	const char *name;
	int rc;

	if ((rc = agent_read_config(o, &a->cfg, err, errlen)) != 0)
		return rc;
	if (open_out_file(cfg_str(a->cfg, "agent", "alerts_out"), &a->alerts_fp,
	    err, errlen) != 0 ||
	    open_out_file(cfg_str(a->cfg, "agent", "flows_out"), &a->flows_fp,
	    err, errlen) != 0)
		return EXIT_RUNTIME;
	/*
	 * alerts_out is written out per batch of frames (agent_flush_alerts):
	 * a buffer with room for a batch's alerts, not stdio's 4 KiB (glibc
	 * takes a size only with a buffer given)
	 */
	if (a->alerts_fp != NULL && a->alerts_fp != stdout &&
	    (a->alerts_buf = malloc(AGENT_ALERTS_BUF)) != NULL)
		(void)setvbuf(a->alerts_fp, a->alerts_buf, _IOFBF,
		    AGENT_ALERTS_BUF);

	name = cfg_str(a->cfg, "agent", "name");
	if (name[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "agent");
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		name = host;
	}
	memset(&ao, 0, sizeof(ao));
	ao.agent = name;
	ao.site = cfg_str(a->cfg, "agent", "site");
	ao.state_file = cfg_str(a->cfg, "agent", "state_file");
	ao.window_us = (uint64_t)(cfg_double(a->cfg, "agent", "alert_window") * 1e6);
	/* with an MQTT journal the state goes to disk with its batches */
	ao.state_by_journal = cfg_str(a->cfg, "mqtt", "uri")[0] != '\0' &&
	    cfg_str(a->cfg, "mqtt", "persist_dir")[0] != '\0' &&
	    ao.state_file[0] != '\0';
	a->al = alerter_new(&ao, err, errlen);
	if (a->al == NULL)
		return EXIT_USAGE;
	if (cfg_str(a->cfg, "agent", "metrics")[0] != '\0') {
		a->metrics = agent_metrics_start(cfg_str(a->cfg, "agent",
		    "metrics"), ao.site, ao.agent, err, errlen);
		if (a->metrics == NULL)
			return EXIT_USAGE;
	}
	a->book = asset_book_load(a->cfg, err, errlen);
	if (a->book == NULL)
		return EXIT_USAGE;
	a->ev = evidence_new(a->cfg);
	alerter_set_enrich(a->al, a->book, a->ev);
	alerter_set_describe(a->al, agent_describe_asset, a);
	/* a copy: a reload frees the configuration */
	if (a->ev != NULL && cfg_str(a->cfg, "evidence", "dir")[0] != '\0') {
		a->evdir = strdup(cfg_str(a->cfg, "evidence", "dir"));
		if (a->evdir == NULL) {
			snprintf(err, errlen, "out of memory");
			return EXIT_RUNTIME;
		}
	}

	if (cfg_str(a->cfg, "mqtt", "uri")[0] != '\0') {
		struct mqtt_out_opts mo;

		if (ops_check_mqtt(a->cfg, err, errlen) != 0)
			return EXIT_USAGE;
		if (mqtt_out_opts_from_cfg(a->cfg, ao.site, ao.agent, &mo) != 0) {
			snprintf(err, errlen, "%s: bad [mqtt] settings", cfg_path(a->cfg));
			return EXIT_USAGE;
		}
		mo.log = agent_mqtt_log;
		if (ao.state_by_journal)
			mo.state_file = ao.state_file;
		a->mqtt = mqtt_out_new(&mo, err, errlen);
		if (a->mqtt == NULL)
			return EXIT_USAGE;
		if (ao.state_by_journal) {
			uint64_t jseq;
			char jhash[65];
			bool ahead;

			/* a crash since the state file's last checkpoint */
			ahead = mqtt_out_journal_last(a->mqtt, &jseq, jhash) == 1 &&
			    jseq > alerter_last_seq(a->al);
			if (ahead) {
				log_warn("state file is at "
				    "seq %" PRIu64 ", the MQTT journal at %" PRIu64
				    ": continuing from the journal\n",
				    alerter_last_seq(a->al), jseq);
				alerter_resume(a->al, jseq, jhash);
			}
			if (mqtt_out_state_head(a->mqtt, alerter_last_seq(a->al),
			    jhash, ahead) != 0)
				log_warn("cannot write state file %s: %s (the "
				    "MQTT journal keeps the chain's head)\n",
				    ao.state_file, strerror(errno));
		}
		a->stats_every = (double)mo.stats_interval;
		/* an alert and its evidence: one journal write */
		alerter_set_journal(a->al, agent_journal_mqtt, a->mqtt);
	}
	/*
	 * The local sinks after the MQTT journal: an alert another sink shows
	 * is already in the journal (one write(2), survives SIGKILL), so an
	 * agent killed between two sinks cannot leave a line in --alerts-out
	 * that the central log never gets (seq gap).
	 */
	if (a->alerts_fp != NULL) {
		a->alerts_eve = strcmp(cfg_str(a->cfg, "agent",
		    "alerts_format"), "eve") == 0;
		alerter_add_sink(a->al, agent_sink_alerts_out, a);
	}
	if (a->evdir != NULL)
		alerter_add_evidence_sink(a->al, evidence_sink_dir, a->evdir);
	a->intel = intel_feed_new(a->cfg, ao.site, agent_intel_log, NULL, err, errlen);
	if (a->intel == NULL)
		return EXIT_USAGE;
	if (a->mqtt != NULL)
		intel_feed_set_status(a->intel, agent_intel_status_mqtt, a->mqtt);
	/* refused or not, the agent runs; applied before the first packet */
	if (cfg_str(a->cfg, "intel", "bundle")[0] != '\0')
		(void)intel_feed_offer_file(a->intel,
		    cfg_str(a->cfg, "intel", "bundle"));
	if ((rc = agent_intel_subscribe(a, ao.site, err, errlen)) != 0)
		return rc;
	a->det = engine_new(a, a->cfg, err, errlen);
	if (a->det == NULL)
		return EXIT_USAGE;	/* a detector refused its config or file */
	memset(&fo, 0, sizeof(fo));
	fo.max_flows = (size_t)cfg_int(a->cfg, "flows", "max_flows");
	fo.timeout_us[FLOW_CLS_TCP] = (uint64_t)(cfg_double(a->cfg, "flows", "tcp_timeout") * 1e6);
	fo.timeout_us[FLOW_CLS_UDP] = (uint64_t)(cfg_double(a->cfg, "flows", "udp_timeout") * 1e6);
	fo.timeout_us[FLOW_CLS_OTHER] = (uint64_t)(cfg_double(a->cfg, "flows", "other_timeout") * 1e6);
	if (a->mqtt != NULL)
		det_engine_set_asset_sink(a->det, agent_asset_mqtt, a->mqtt);
	a->flows = flow_table_new(&fo, agent_on_flow_end, a);
	a->cls = cls_new((unsigned)cfg_int(a->cfg, "flows", "ndpi_max_packets"),
	    err, errlen);
	engine_sink(&ds, a->det);
	a->dis = dissect_new((size_t)cfg_int(a->cfg, "flows", "max_reasm_bytes"),
	    &ds);
	if (a->flows == NULL || a->cls == NULL || a->dis == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		return EXIT_RUNTIME;
	}
	dissect_set_budget(a->dis,
	    (size_t)cfg_int(a->cfg, "flows", "max_reasm_total_kb") * 1024);
	return 0;
}

void
agent_teardown(struct agent *a)
{
	agent_metrics_stop(a->metrics);
	a->metrics = NULL;
	if (a->mqtt != NULL)
		mqtt_out_close(a->mqtt, 2000);
	if (a->flows != NULL)
		flow_table_free(a->flows);
	dissect_free(a->dis);
	cls_free(a->cls);
	det_engine_free(a->det);
	intel_feed_free(a->intel);
	agent_flush_alerts(a);		/* counted while the alerter is there */
	alerter_free(a->al);
	evidence_free(a->ev);
	free(a->evdir);
	asset_book_free(a->book);
	if (a->alerts_fp != NULL && a->alerts_fp != stdout)
		fclose(a->alerts_fp);
	free(a->alerts_buf);		/* after the fclose that used it */
	if (a->flows_fp != NULL && a->flows_fp != stdout)
		fclose(a->flows_fp);
	if (a->cap != NULL)
		cap_close(a->cap);
	cfg_free(a->cfg);
}

/*
 * Each file is a capture of its own: what the last one left open ends
 * with it, and the capture clock starts again (the next file may be older).
 */
void
agent_next_capture(struct agent *a)
{
	flow_flush(a->flows);
	alerter_flush(a->al);
	a->now = 0;
	a->last_expire = 0;
	a->metrics_ts = 0;
	det_engine_time_reset(a->det);
	a->det_due = 0;
}

void
agent_capture_opts(struct agent *a, struct cap_opts *co)
{
	memset(co, 0, sizeof(*co));
	co->filter = cfg_str(a->cfg, "capture", "filter");
	co->snaplen = (int)cfg_int(a->cfg, "capture", "snaplen");
	co->promisc = cfg_bool(a->cfg, "capture", "promisc");
	co->buffer_mb = (int)cfg_int(a->cfg, "capture", "buffer_mb");
	co->timeout_ms = (int)cfg_int(a->cfg, "capture", "timeout_ms");
}

int
agent_open(const struct agent_opts *o, struct agent **out, char *err,
    size_t errlen)
{
	struct agent *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return EXIT_RUNTIME;
	}
	a->o = o;
	err[0] = '\0';
	if ((rc = agent_setup(a, o, err, errlen)) != 0) {
		agent_teardown(a);
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

int
agent_restart_detectors(struct agent *a, char *err, size_t errlen)
{
	struct dissect_sink ds;
	struct det_engine *ne;
	int rc = 0;

	agent_next_capture(a);
	if (det_engine_finish(a->det, err, errlen) != 0)
		rc = EXIT_RUNTIME;
	if ((ne = engine_new(a, a->cfg, err, errlen)) == NULL)
		return EXIT_USAGE;
	det_engine_free(a->det);
	a->det = ne;
	a->det_due = 0;
	engine_sink(&ds, ne);
	dissect_set_sink(a->dis, &ds);
	return rc;
}

void
agent_close(struct agent *a)
{
	char err[1024];

	if (a == NULL)
		return;
	flow_flush(a->flows);
	alerter_flush(a->al);
	(void)det_engine_finish(a->det, err, sizeof(err));
	agent_teardown(a);
	free(a);
}
