/*
 * log_cli.c - icsentry-log: read the central log (DESIGN.md "Central log").
 *
 *   icsentry-log tail|query|verify|stats [--db FILE] [filters]
 *
 * Every read goes through central_log.h; the database is opened read-only,
 * so a SOC operator needs no write access to it.
 */
#include <cJSON.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/intel_log.h"
#include "broker/log_opts.h"
#include "broker/log_triage_cli.h"
#include "lib/ids.h"
#include "lib/version.h"

#define PROG		"icsentry-log"
#define VERSION		ICSENTRY_VERSION
#define DEFAULT_DB	"/var/lib/icsentry/central.db"

enum cmd { CMD_TAIL, CMD_QUERY, CMD_STATS, CMD_VERIFY };
enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

struct args {
	enum cmd			 cmd;
	const char			*db;
	struct central_log_filter	 f;
	enum fmt			 fmt;
	int64_t				 lines;		/* tail -n */
	bool				 quiet;		/* verify */
	bool				 incremental;	/* verify */
	double				 interval;	/* tail poll, seconds */
	const char			*state;		/* query: triage state */
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage_main[] =
"usage: " PROG " COMMAND [--db FILE] [options]\n"
"Read the icsentry central log (written by icsentry-collector).\n"
"\n"
"commands:\n"
"  tail     follow new alerts, one line each\n"
"  query    alerts matching filters, as a table, JSON lines or CSV\n"
"  stats    alert counts by severity, detector and agent; agent status\n"
"  verify   check every agent's hash chain; exit 1 on any problem\n"
"  intel    which threat-intel bundle version each agent applied\n"
"  evidence the pcap of one alert's triggering packets: SITE/AGENT SEQ\n"
"%s"
"\n"
"  --db FILE   the log (default $ICSENTRY_DB or " DEFAULT_DB ")\n"
"  " PROG " COMMAND --help   options of one command\n"
"exit: 0 ok, 1 failure (or verify found a problem), 2 bad usage\n";

static const char usage_filters[] =
"filters:\n"
"  --since T          alerts from T on         --until T   before T\n"
"                     T: RFC 3339 (2026-11-23T08:00:00Z, 2026-11-23) or an\n"
"                     age before now: 90s, 30m, 1h, 7d, 2w\n"
"  --time received|capture\n"
"                     which time --since/--until mean: when the collector\n"
"                     stored the alert (default: --since 1h is the last\n"
"                     hour's arrivals) or the packet's capture time (ts)\n"
"  --min-severity S   info, low, medium, high or critical\n"
"  --agent GLOB  --site GLOB  --detector GLOB  --technique GLOB  --proto GLOB\n"
"                     exact names or patterns such as 's7.*'; an agent is\n"
"                     known by its site too: --agent plant-a/gw-01 is\n"
"                     --site plant-a --agent gw-01\n"
"  --ip ADDR|CIDR     source or destination address, or inside a network\n"
"                     (--ip 10.10.1.0/24)\n"
"  --grep TEXT        TEXT anywhere in the alert (title, details; any case)\n"
"  --state S          query: triage state new, acked, open or closed\n";

static const char usage_tail[] =
"usage: " PROG " tail [--db FILE] [-n N] [--json] [filters]\n"
"Print the last N alerts (default 10) then every new one as it arrives;\n"
"stop with Ctrl-C.\n"
"  -n, --lines N      initial lines\n"
"  --json             the raw alert JSON, one per line\n"
"  --interval SEC     poll interval (default 0.5)\n";

static const char usage_query[] =
"usage: " PROG " query [--db FILE] [filters] [--limit N] [--json | --csv]\n"
"Alerts matching every filter, oldest first (with --limit, the latest N).\n"
"  --limit N          at most N alerts\n"
"  --json             raw alert JSON lines     --csv   CSV with a header\n";

static const char usage_stats[] =
"usage: " PROG " stats [--db FILE] [--since T] [--until T] [--json]\n"
"Alert counts by severity, detector and agent over a period (default: all),\n"
"agent status, inventory size and the collector's counters.\n";

static const char usage_verify[] =
"usage: " PROG " verify [--db FILE] [--site NAME] [--agent [SITE/]NAME] [--quiet]\n"
"                   [--incremental]\n"
"Walk every agent's hash chain in seq order and report each changed alert\n"
"(content or indexed columns), missing seq, broken link (reordered or\n"
"replaced alert) and conflicting re-delivery, by site/agent and seq.  An\n"
"agent is a (site, agent name) pair: gw-01 at two sites is two chains.\n"
"One summary line per agent.  Exit 1 on any problem, 0 when clean.\n"
"  --site NAME        only agents of this site\n"
"  --agent NAME       only agents of this name (SITE/NAME: only that one)\n"
"  --quiet            only the summary lines\n"
"  --incremental      start each chain at its checkpoint (the last seq a\n"
"                     clean verify --incremental reached) and move the\n"
"                     checkpoint on; needs write access to the log.  Only\n"
"                     the full walk re-reads alerts before a checkpoint\n";

static void
usage(FILE *out, enum cmd c, bool all)
{
	if (all) {
		fprintf(out, usage_main, triage_cli_usage);
		return;
	}
	switch (c) {
	case CMD_TAIL:
		fputs(usage_tail, out);
		fputs(usage_filters, out);
		break;
	case CMD_QUERY:
		fputs(usage_query, out);
		fputs(usage_filters, out);
		break;
	case CMD_STATS:
		fputs(usage_stats, out);
		break;
	case CMD_VERIFY:
		fputs(usage_verify, out);
		break;
	}
}

enum {
	O_DB = 256, O_SINCE, O_UNTIL, O_MINSEV, O_AGENT, O_SITE, O_DETECTOR,
	O_TECHNIQUE, O_IP, O_PROTO, O_LIMIT, O_JSON, O_CSV, O_QUIET,
	O_INCREMENTAL,
	O_INTERVAL, O_HELP, O_VERSION, O_GREP, O_TIME, O_STATE
};

static const struct option longopts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "min-severity", required_argument, NULL, O_MINSEV },
	{ "agent", required_argument, NULL, O_AGENT },
	{ "site", required_argument, NULL, O_SITE },
	{ "detector", required_argument, NULL, O_DETECTOR },
	{ "technique", required_argument, NULL, O_TECHNIQUE },
	{ "ip", required_argument, NULL, O_IP },
	{ "proto", required_argument, NULL, O_PROTO },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "lines", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, O_JSON },
	{ "csv", no_argument, NULL, O_CSV },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "incremental", no_argument, NULL, O_INCREMENTAL },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ "grep", required_argument, NULL, O_GREP },
	{ "time", required_argument, NULL, O_TIME },
	{ "state", required_argument, NULL, O_STATE },
	{ NULL, 0, NULL, 0 }
};

/* Which options each command accepts. */
static bool
allowed(enum cmd c, int opt)
{
	switch (opt) {
	case O_DB: case O_HELP: case O_VERSION:
		return true;
	case O_SINCE: case O_UNTIL:
		return c != CMD_VERIFY;
	case O_SITE:
		return c != CMD_STATS;
	case O_MINSEV: case O_DETECTOR: case O_TECHNIQUE:
	case O_IP: case O_PROTO: case O_GREP: case O_TIME:
		return c == CMD_TAIL || c == CMD_QUERY;
	case O_STATE:
		return c == CMD_QUERY;
	case O_AGENT:
		return c != CMD_STATS;
	case O_LIMIT: case O_CSV:
		return c == CMD_QUERY;
	case O_JSON:
		return c != CMD_VERIFY;
	case 'n': case O_INTERVAL:
		return c == CMD_TAIL;
	case O_QUIET: case O_INCREMENTAL:
		return c == CMD_VERIFY;
	}
	return false;
}

/* Returns -1 to go on, else an exit code. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	static const char *const names[] = { "tail", "query", "stats",
	    "verify" };
	size_t i;
	int opt;
	char *end;

	memset(a, 0, sizeof(*a));
	central_log_filter_init(&a->f);
	a->f.received = true;	/* --since 1h: what arrived in the last hour */
	a->db = log_default_db(DEFAULT_DB);
	a->lines = 10;
	a->interval = 0.5;
	if (argc < 2) {
		usage(stderr, CMD_QUERY, true);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout, CMD_QUERY, true);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf(PROG " " VERSION "\n");
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(argv[1], names[i]) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]))
		return log_bad_usage("unknown command '%s'", argv[1]);
	a->cmd = (enum cmd)i;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			opt = O_HELP;
		if (opt == '?')
			return 2;
		if (!allowed(a->cmd, opt)) {
			const char *name = argv[optind - 1];
			int k;

			/* with a separate value, argv[optind - 1] is the value */
			for (k = 0; longopts[k].name != NULL; k++)
				if (longopts[k].val == opt)
					break;
			if (longopts[k].name != NULL)
				return log_bad_usage("option '--%s' does not "
				    "apply to this command", longopts[k].name);
			return log_bad_usage("option '%s' does not apply to "
			    "this command", name);
		}
		switch (opt) {
		case O_HELP:
			usage(stdout, a->cmd, false);
			return 0;
		case O_VERSION:
			printf(PROG " " VERSION "\n");
			return 0;
		case O_DB:
			a->db = optarg;
			break;
		case O_SINCE:
			if (log_opt_time(optarg, &a->f.since_us) != 0)
				return 2;
			break;
		case O_UNTIL:
			if (log_opt_time(optarg, &a->f.until_us) != 0)
				return 2;
			break;
		case O_MINSEV:
			if (log_opt_severity(optarg, &a->f.min_sev) != 0)
				return 2;
			break;
		case O_AGENT:
			a->f.agent = optarg;
			break;
		case O_SITE:
			a->f.site = optarg;
			break;
		case O_DETECTOR:
			a->f.detector = optarg;
			break;
		case O_TECHNIQUE:
			a->f.technique = optarg;
			break;
		case O_IP:
			if (strchr(optarg, '/') != NULL &&
			    !clog_cidr_valid(optarg))
				return log_bad_usage("bad --ip '%s' (an address "
				    "or a CIDR such as 10.10.1.0/24)", optarg);
			a->f.ip = optarg;
			break;
		case O_GREP:
			a->f.grep = optarg;
			break;
		case O_TIME:
			if (strcmp(optarg, "received") != 0 &&
			    strcmp(optarg, "capture") != 0)
				return log_bad_usage("bad --time '%s' (received "
				    "or capture)", optarg);
			a->f.received = strcmp(optarg, "received") == 0;
			break;
		case O_STATE:
			if (log_opt_state(optarg, &a->state) != 0)
				return 2;
			break;
		case O_PROTO:
			a->f.proto = optarg;
			break;
		case O_LIMIT:
			if (log_opt_limit(optarg, &a->f.limit) != 0)
				return 2;
			break;
		case 'n':
			if (log_parse_count(optarg, &a->lines) != 0)
				return log_bad_usage("bad -n '%s'", optarg);
			break;
		case O_INTERVAL:
			a->interval = strtod(optarg, &end);
			if (end == optarg || *end != '\0' ||
			    !(a->interval >= 0.01 && a->interval <= 60))
				return log_bad_usage("bad --interval '%s'",
				    optarg);
			break;
		case O_JSON:
			a->fmt = FMT_JSON;
			break;
		case O_CSV:
			a->fmt = FMT_CSV;
			break;
		case O_INCREMENTAL:
			a->incremental = true;
			break;
		case O_QUIET:
			a->quiet = true;
			break;
		}
	}
	if (optind < argc)
		return log_bad_usage("unexpected argument '%s'", argv[optind]);
	/* "plant-a/gw-01": names cannot hold '/', so the split is exact */
	if (a->f.agent != NULL && (end = strchr(a->f.agent, '/')) != NULL) {
		if (a->f.site != NULL)
			return log_bad_usage(
			    "--agent SITE/NAME and --site together");
		if (end == a->f.agent || end[1] == '\0' ||
		    strchr(end + 1, '/') != NULL)
			return log_bad_usage(
			    "bad --agent '%s' (NAME or SITE/NAME)", a->f.agent);
		*end = '\0';
		a->f.site = a->f.agent;
		a->f.agent = end + 1;
	}
	if (a->f.since_us >= a->f.until_us)
		return log_bad_usage("--since is not before --until");
	if (a->cmd == CMD_STATS)
		a->f.received = false;	/* stats count by capture time */
	return -1;
}

/* ---- output ----------------------------------------------------------- */

static void
put_endpoint(FILE *out, const char *ip, int port)
{
	log_put_clean(out, ip != NULL ? ip : "-");
	if (port >= 0)
		fprintf(out, ":%d", port);
}

/* The triage state of the row being printed (query), or NULL. */
static const struct clog_triage_info *row_state;

/* One readable line (tail, and query's table rows). */
static int
print_line(void *ctx, const struct central_log_row *r)
{
	FILE *out = ctx;
	char sfx[128];

	fprintf(out, "%s %-8s ", r->ts, r->severity);
	log_put_clean(out, r->site);
	fputc('/', out);
	log_put_clean(out, r->agent);
	fprintf(out, " #%" PRId64 " ", r->seq);
	log_put_clean(out, r->detector);
	fputc(' ', out);
	log_put_clean(out, r->technique != NULL ? r->technique : "-");
	fputc(' ', out);
	put_endpoint(out, r->src_ip, r->src_port);
	fputs(" -> ", out);
	put_endpoint(out, r->dst_ip, r->dst_port);
	fputc(' ', out);
	log_put_clean(out, r->proto != NULL ? r->proto : "-");
	if (r->title != NULL) {
		fputs(" \"", out);
		log_put_clean(out, r->title);
		fputc('"', out);
	}
	triage_state_suffix(row_state, sfx, sizeof(sfx));
	log_put_clean(out, sfx);
	fputc('\n', out);
	return ferror(out) ? IDS_EIO : 0;
}

static int
print_json(void *ctx, const struct central_log_row *r)
{
	FILE *out = ctx;

	fwrite(r->raw, 1, r->raw_len, out);
	fputc('\n', out);
	return ferror(out) ? IDS_EIO : 0;
}

static void
put_csv_int(FILE *out, int64_t v, bool present)
{
	if (present)
		fprintf(out, "%" PRId64, v);
	fputc(',', out);
}

static int
print_csv(void *ctx, const struct central_log_row *r)
{
	FILE *out = ctx;

	log_put_csv(out, r->ts, false);
	log_put_csv(out, r->site, false);
	log_put_csv(out, r->agent, false);
	put_csv_int(out, r->seq, true);
	log_put_csv(out, r->severity, false);
	log_put_csv(out, r->detector, false);
	log_put_csv(out, r->technique, false);
	log_put_csv(out, r->proto, false);
	log_put_csv(out, r->src_ip, false);
	put_csv_int(out, r->src_port, r->src_port >= 0);
	log_put_csv(out, r->dst_ip, false);
	put_csv_int(out, r->dst_port, r->dst_port >= 0);
	log_put_csv(out, r->title, false);
	log_put_csv(out, r->hash, true);
	return ferror(out) ? IDS_EIO : 0;
}

/* ---- commands --------------------------------------------------------- */

struct state_row {
	central_log_row_fn	 fn;
};

static int
with_state(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	struct state_row *s = ctx;
	int rc;

	row_state = t;
	rc = s->fn(stdout, r);
	row_state = NULL;
	return rc;
}

static int
cmd_query(struct central_log *db, const struct args *a)
{
	central_log_row_fn fn = print_line;
	struct state_row sr;
	int rc;

	if (a->fmt == FMT_JSON)
		fn = print_json;
	else if (a->fmt == FMT_CSV) {
		fn = print_csv;
		fputs("ts,site,agent,seq,severity,detector,technique,proto,"
		    "src_ip,src_port,dst_ip,dst_port,title,hash\n", stdout);
	}
	/* with each alert's triage state, when the log has triage tables */
	sr.fn = fn;
	if (clog_triage_present(db)) {
		rc = clog_triage_query(db, &a->f, a->state, with_state, &sr);
		if (rc != 0) {
			fprintf(stderr, PROG ": query: %s\n", rc == IDS_EIO &&
			    ferror(stdout) ? strerror(errno) :
			    clog_triage_errmsg());
			return 1;
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (a->state != NULL && strcmp(a->state, "new") != 0)
		return fflush(stdout) == 0 ? 0 : 1;	/* nothing triaged */
	rc = central_log_query(db, &a->f, fn, stdout);
	if (rc != 0) {
		fprintf(stderr, PROG ": query: %s\n", rc == IDS_EIO &&
		    ferror(stdout) ? strerror(errno) : central_log_errmsg(db));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
skip_row(void *ctx, const struct central_log_row *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static int
cmd_tail(struct central_log *db, const struct args *a)
{
	central_log_row_fn fn = a->fmt == FMT_JSON ? print_json : print_line;
	struct central_log_filter f = a->f;
	struct triage_tail *agents = NULL;
	struct timespec ts;
	int64_t last = -1;
	int rc;

	/* the last N existing alerts first, then everything newer */
	f.limit = a->lines;
	if (a->lines == 0) {
		/* -n 0: skip what is there, only the highest id matters */
		f.limit = 1;
		if (central_log_follow(db, &f, skip_row, NULL, &last) != 0) {
			fprintf(stderr, PROG ": tail: %s\n",
			    central_log_errmsg(db));
			return 1;
		}
		f.limit = 0;
		f.after_id = last;
	}
	ts.tv_sec = (time_t)a->interval;
	ts.tv_nsec = (long)((a->interval - (double)ts.tv_sec) * 1e9);
	while (!stop) {
		rc = central_log_follow(db, &f, fn, stdout, &last);
		if (rc != 0) {
			if (ferror(stdout))
				return 0;	/* reader went away */
			fprintf(stderr, PROG ": tail: %s\n",
			    central_log_errmsg(db));
			return 1;
		}
		/* agents going offline / online (their LWT status) */
		if (triage_tail_agents(db, a->fmt == FMT_JSON, stdout,
		    &agents) != 0) {
			triage_tail_free(agents);
			fprintf(stderr, PROG ": tail: %s\n",
			    central_log_errmsg(db));
			return 1;
		}
		if (fflush(stdout) != 0)
			break;
		f.limit = 0;
		f.after_id = last;
		nanosleep(&ts, NULL);
	}
	triage_tail_free(agents);
	return 0;
}

static int
print_count(void *ctx, const char *key, int64_t n)
{
	(void)ctx;
	fputs("  ", stdout);
	log_put_clean(stdout, key);
	printf(" %" PRId64 "\n", n);
	return 0;
}

static int
json_count(void *ctx, const char *key, int64_t n)
{
	cJSON_AddItemToObject(ctx, key, cJSON_CreateNumber((double)n));
	return 0;
}

static int
print_agent(void *ctx, const struct central_log_agent_row *r)
{
	cJSON *st, *mq, *un, *age, *last;

	(void)ctx;
	fputs("  ", stdout);
	log_put_clean(stdout, r->site);
	fputc('/', stdout);
	log_put_clean(stdout, r->agent);
	printf(" %s last seen %s", r->status != NULL ? r->status : "-",
	    r->last_seen);
	/* the agent's own word (its last stats): end-to-end backlog */
	st = r->stats != NULL ? cJSON_Parse(r->stats) : NULL;
	mq = cJSON_GetObjectItemCaseSensitive(st, "mqtt");
	un = cJSON_GetObjectItemCaseSensitive(mq, "unacked");
	age = cJSON_GetObjectItemCaseSensitive(mq, "oldest_unacked_s");
	last = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(st, "alerts"), "last_seq");
	if (cJSON_IsNumber(last))
		printf(", last seq %.0f", last->valuedouble);
	if (cJSON_IsNumber(un))
		printf(", unacknowledged %.0f (oldest %.0f s)", un->valuedouble,
		    cJSON_IsNumber(age) ? age->valuedouble : 0.0);
	cJSON_Delete(st);
	fputc('\n', stdout);
	return 0;
}

static int
json_agent(void *ctx, const struct central_log_agent_row *r)
{
	cJSON *o = cJSON_CreateObject(), *st;

	cJSON_AddStringToObject(o, "site", r->site);
	cJSON_AddStringToObject(o, "agent", r->agent);
	if (r->status != NULL)
		cJSON_AddStringToObject(o, "status", r->status);
	else
		cJSON_AddNullToObject(o, "status");
	cJSON_AddStringToObject(o, "last_seen", r->last_seen);
	st = r->stats != NULL ? cJSON_Parse(r->stats) : NULL;
	cJSON_AddItemToObject(o, "stats", st != NULL ? st : cJSON_CreateNull());
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

static int
cmd_stats(struct central_log *db, const struct args *a)
{
	static const struct {
		enum central_log_group	g;
		const char		*key, *title;
	} groups[] = {
		{ CENTRAL_LOG_BY_SEVERITY, "severity", "alerts by severity" },
		{ CENTRAL_LOG_BY_DETECTOR, "detector", "alerts by detector" },
		{ CENTRAL_LOG_BY_AGENT, "agent", "alerts by agent" },
	};
	char since[CENTRAL_LOG_TIME_LEN] = "-", until[CENTRAL_LOG_TIME_LEN] = "-";
	int64_t total = 0, assets = 0;
	cJSON *root = NULL, *o;
	size_t i;
	char *text;
	int rc;

	if (a->f.since_us != INT64_MIN)
		central_log_format_time(a->f.since_us, since);
	if (a->f.until_us != INT64_MAX)
		central_log_format_time(a->f.until_us, until);
	rc = central_log_alert_count(db, &total);
	if (rc == 0)
		rc = central_log_asset_count(db, &assets);
	if (rc != 0)
		goto fail;
	if (a->fmt == FMT_JSON) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "since", since);
		cJSON_AddStringToObject(root, "until", until);
		cJSON_AddNumberToObject(root, "alerts_stored", (double)total);
		cJSON_AddNumberToObject(root, "assets", (double)assets);
	} else {
		printf("period: %s .. %s\nalerts stored: %" PRId64
		    "\ninventory entries: %" PRId64 "\n", since, until, total,
		    assets);
	}
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (root != NULL) {
			o = cJSON_AddObjectToObject(root, groups[i].key);
			rc = central_log_stats(db, groups[i].g, a->f.since_us,
			    a->f.until_us, json_count, o);
		} else {
			printf("%s:\n", groups[i].title);
			rc = central_log_stats(db, groups[i].g, a->f.since_us,
			    a->f.until_us, print_count, NULL);
		}
		if (rc != 0)
			goto fail;
	}
	if (root != NULL) {
		rc = central_log_agents(db, json_agent,
		    cJSON_AddArrayToObject(root, "agents"));
		if (rc == 0)
			rc = central_log_counters(db, json_count,
			    cJSON_AddObjectToObject(root, "collector"));
		if (rc != 0)
			goto fail;
		text = cJSON_PrintUnformatted(root);
		if (text != NULL)
			puts(text);
		cJSON_free(text);
		cJSON_Delete(root);
	} else {
		printf("agents:\n");
		rc = central_log_agents(db, print_agent, NULL);
		if (rc == 0) {
			printf("collector counters:\n");
			rc = central_log_counters(db, print_count, NULL);
		}
		if (rc != 0)
			goto fail;
	}
	return fflush(stdout) == 0 ? 0 : 1;
fail:
	cJSON_Delete(root);
	fprintf(stderr, PROG ": stats: %s\n", central_log_errmsg(db));
	return 1;
}

struct vctx {
	bool	quiet;
	int64_t	agents, alerts;
};

static int
print_issue(void *ctx, const struct central_log_issue *i)
{
	struct vctx *v = ctx;

	if (v->quiet)
		return 0;
	log_put_clean(stdout, i->site);
	fputc('/', stdout);
	log_put_clean(stdout, i->agent);
	if (i->seq_to != i->seq)
		printf(" seq %" PRId64 "-%" PRId64, i->seq, i->seq_to);
	else
		printf(" seq %" PRId64, i->seq);
	printf(": %s: ", central_log_problem_name(i->kind));
	log_put_clean(stdout, i->detail);
	fputc('\n', stdout);
	return 0;
}

static int
print_chain(void *ctx, const struct central_log_chain *c)
{
	struct vctx *v = ctx;

	v->agents++;
	v->alerts += c->alerts;
	printf("agent ");
	log_put_clean(stdout, c->site);
	fputc('/', stdout);
	log_put_clean(stdout, c->agent);
	printf(": %" PRId64 " alerts, seq %" PRId64 "-%" PRId64 ": ",
	    c->alerts, c->first_seq, c->last_seq);
	if (c->problems == 0)
		printf("ok\n");
	else
		printf("%" PRId64 " problem%s\n", c->problems,
		    c->problems == 1 ? "" : "s");
	return 0;
}

static int
cmd_verify(struct central_log *db, const struct args *a)
{
	struct vctx v = { a->quiet, 0, 0 };
	struct central_log_verify_ops ops = { &v, print_issue, print_chain };
	int64_t problems = 0, audit = 0;
	int rc;

	rc = a->incremental ? central_log_verify_incremental(db, a->f.site,
	    a->f.agent, &ops, &problems) : central_log_verify(db, a->f.site,
	    a->f.agent, &ops, &problems);
	if (rc != 0) {
		fprintf(stderr, PROG ": verify: %s\n", rc == IDS_ENOMEM ?
		    "out of memory" : central_log_errmsg(db));
		return 1;
	}
	/* the triage audit trail (clog_triage.h) */
	if (triage_cli_verify(db, a->quiet, &audit) != 0)
		return 1;
	problems += audit;
	printf("verify: %" PRId64 " agent%s, %" PRId64 " alerts, %" PRId64
	    " problem%s\n", v.agents, v.agents == 1 ? "" : "s", v.alerts,
	    problems, problems == 1 ? "" : "s");
	if (fflush(stdout) != 0)
		return 1;
	return problems == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct central_log *db = NULL;
	struct sigaction sa;
	struct args a;
	char err[512];
	int rc;

	/* intel: which agent runs which threat-intel bundle (intel_log.c) */
	if (argc >= 2 && strcmp(argv[1], "intel") == 0) {
		return intel_log_cli(argc - 1, argv + 1,
		    log_default_db(DEFAULT_DB));
	}
	/* evidence: one alert's triggering packets (clog_evidence.c) */
	if (argc >= 2 && strcmp(argv[1], "evidence") == 0) {
		return clog_evidence_cli(argc - 1, argv + 1,
		    log_default_db(DEFAULT_DB));
	}
	/* ack, close, note, reopen, incidents, audit, assets */
	if (argc >= 2 && triage_cli_command(argv[1])) {
		signal(SIGPIPE, SIG_IGN);
		return triage_cli_main(argc - 1, argv + 1,
		    log_default_db(DEFAULT_DB));
	}
	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (a.cmd == CMD_TAIL)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (central_log_open(a.db, CENTRAL_LOG_RDONLY, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	/* checkpoints are written: read-write, once the schema is known good */
	if (a.cmd == CMD_VERIFY && a.incremental) {
		central_log_close(db);
		db = NULL;
		if (central_log_open(a.db, CENTRAL_LOG_RDWR,
		    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return 1;
		}
	}
	switch (a.cmd) {
	case CMD_TAIL:
		rc = cmd_tail(db, &a);
		break;
	case CMD_QUERY:
		rc = cmd_query(db, &a);
		break;
	case CMD_STATS:
		rc = cmd_stats(db, &a);
		break;
	case CMD_VERIFY:
		rc = cmd_verify(db, &a);
		break;
	}
	central_log_close(db);
	return rc;
}
