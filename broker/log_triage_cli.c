/*
 * log_triage_cli.c - icsentry-log ack|close|note|reopen|incidents|audit|
 * assets, the audit trail in verify and agent status in tail
 * (log_triage_cli.h, clog_triage.h).
 */
#include "broker/log_triage_cli.h"

#include <cJSON.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/log_opts.h"
#include "broker/log_triage_cli_int.h"
#include "lib/ids.h"

#define PROG	LOG_PROG

const char triage_cli_usage[] =
"  ack|close|reopen SITE/AGENT SEQ   triage an alert (--incident N: an\n"
"           incident); note ... -m TEXT adds a note; --user NAME\n"
"           (default $USER); every action goes to the audit trail\n"
"  incidents  alerts of one src ip grouped in time (--id N: one, with\n"
"           its alerts and audit entries)\n"
"  audit    the triage audit trail (hash-chained; verify checks it)\n"
"  assets   the asset catalogue the agents report (--sort grade)\n";

bool
triage_cli_command(const char *name)
{
	static const char *const names[] = { "ack", "close", "note", "reopen",
	    "incidents", "audit", "assets" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static const char *
default_user(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u != NULL && u[0] != '\0')
		return u;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : NULL;
}

int
triage_open_db(const char *path, enum central_log_mode m, struct central_log **db)
{
	char err[512];

	if (central_log_open(path, m, CENTRAL_LOG_SYNC_NORMAL, db, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	return 0;
}

/* ---- ack / close / note / reopen ---------------------------------------- */

enum {
	T_DB = 256, T_USER, T_INCIDENT, T_SINCE, T_UNTIL, T_IP, T_STATE,
	T_MINSEV, T_LIMIT, T_ID, T_JSON, T_CSV, T_ALERT, T_SITE, T_AGENT,
	T_SORT, T_HELP
};

static const struct option topts[] = {
	{ "db", required_argument, NULL, T_DB },
	{ "user", required_argument, NULL, T_USER },
	{ "text", required_argument, NULL, 'm' },
	{ "incident", required_argument, NULL, T_INCIDENT },
	{ "since", required_argument, NULL, T_SINCE },
	{ "until", required_argument, NULL, T_UNTIL },
	{ "ip", required_argument, NULL, T_IP },
	{ "state", required_argument, NULL, T_STATE },
	{ "min-severity", required_argument, NULL, T_MINSEV },
	{ "limit", required_argument, NULL, T_LIMIT },
	{ "id", required_argument, NULL, T_ID },
	{ "json", no_argument, NULL, T_JSON },
	{ "csv", no_argument, NULL, T_CSV },
	{ "alert", required_argument, NULL, T_ALERT },
	{ "site", required_argument, NULL, T_SITE },
	{ "agent", required_argument, NULL, T_AGENT },
	{ "sort", required_argument, NULL, T_SORT },
	{ "help", no_argument, NULL, T_HELP },
	{ NULL, 0, NULL, 0 }
};

/* "SITE/AGENT/SEQ" or "SITE/AGENT" + "SEQ" -> parts (in buf). */
int
triage_split_alert(char *buf, const char *seq_arg, const char **site,
    const char **agent, int64_t *seq)
{
	char *a = strchr(buf, '/'), *s;

	if (a == NULL || a == buf)
		return -1;
	*a++ = '\0';
	s = strchr(a, '/');
	if (s != NULL) {
		if (seq_arg != NULL)
			return -1;
		*s++ = '\0';
		seq_arg = s;
	}
	if (seq_arg == NULL || *a == '\0' || strchr(a, '/') != NULL ||
	    log_parse_count(seq_arg, seq) != 0)
		return -1;
	*site = buf;
	*agent = a;
	return 0;
}

int
triage_parse_targs(int argc, char **argv, struct targs *t, const char *usage,
    const char *default_db)
{
	int opt;

	memset(t, 0, sizeof(*t));
	t->cmd = argv[0];
	t->db = log_default_db(default_db);
	t->user = default_user();
	t->since = INT64_MIN;
	t->until = INT64_MAX;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "m:h", topts, NULL)) != -1) {
		switch (opt) {
		case 'h':
		case T_HELP:
			fputs(usage, stdout);
			return 0;
		case '?':
			return 2;
		case T_DB:
			t->db = optarg;
			break;
		case T_USER:
			t->user = optarg;
			break;
		case 'm':
			t->text = optarg;
			break;
		case T_INCIDENT:
			if (log_parse_count(optarg, &t->incident) != 0 ||
			    t->incident == 0)
				return log_bad_usage("bad --incident '%s'",
				    optarg);
			t->have_incident = true;
			break;
		case T_SINCE:
			if (log_opt_time(optarg, &t->since) != 0)
				return 2;
			break;
		case T_UNTIL:
			if (log_opt_time(optarg, &t->until) != 0)
				return 2;
			break;
		case T_IP:
			if (!clog_cidr_valid(optarg))
				return log_bad_usage("bad --ip '%s' (an "
				    "address or a CIDR such as 10.10.1.0/24)",
				    optarg);
			t->ip = optarg;
			break;
		case T_STATE:
			if (log_opt_state(optarg, &t->state) != 0)
				return 2;
			break;
		case T_MINSEV:
			if (log_opt_severity(optarg, &t->min_sev) != 0)
				return 2;
			break;
		case T_LIMIT:
			if (log_opt_limit(optarg, &t->limit) != 0)
				return 2;
			break;
		case T_ID:
			if (log_parse_count(optarg, &t->id) != 0 || t->id == 0)
				return log_bad_usage("bad --id '%s'", optarg);
			break;
		case T_JSON:
			t->json = true;
			break;
		case T_CSV:
			t->csv = true;
			break;
		case T_ALERT:
			t->alert = optarg;
			break;
		case T_SITE:
			t->site = optarg;
			break;
		case T_AGENT:
			t->agent = optarg;
			break;
		case T_SORT:
			if (strcmp(optarg, "grade") != 0 &&
			    strcmp(optarg, "ip") != 0 &&
			    strcmp(optarg, "first-seen") != 0 &&
			    strcmp(optarg, "last-seen") != 0)
				return log_bad_usage("bad --sort '%s' (grade, "
				    "ip, first-seen, last-seen)", optarg);
			t->sort = optarg;
			break;
		}
	}
	if (t->json && t->csv)
		return log_bad_usage("--json and --csv together");
	if (t->since >= t->until)
		return log_bad_usage("--since is not before --until");
	return -1;
}

void
triage_state_suffix(const struct clog_triage_info *t, char *buf, size_t len)
{
	if (t == NULL || strcmp(t->state, "new") == 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, " [%s by %s]", t->state, t->user);
}

/* ---- verify ------------------------------------------------------------------- */

static int
print_problem(void *ctx, const char *line)
{
	if (*(bool *)ctx)
		return 0;	/* --quiet */
	fputs("audit: ", stdout);
	log_put_clean(stdout, line);
	fputc('\n', stdout);
	return 0;
}

int
triage_cli_verify(struct central_log *db, bool quiet, int64_t *problems)
{
	int64_t entries = 0;

	*problems = 0;
	if (!clog_triage_present(db))
		return 0;
	if (clog_triage_verify(db, print_problem, &quiet, &entries,
	    problems) != 0) {
		fprintf(stderr, PROG ": verify: audit trail: %s\n",
		    clog_triage_errmsg());
		return 1;
	}
	printf("audit trail: %" PRId64 " entr%s: %s\n", entries,
	    entries == 1 ? "y" : "ies", *problems == 0 ? "ok" : "TAMPERED");
	return 0;
}

/* ---- tail: agents going offline / online ------------------------------------ */

struct triage_tail {
	char	**key, **status;
	size_t	  n, cap;
	bool	  learned;
	bool	  json;
	FILE	 *out;
};

static int
tail_agent(void *ctx, const struct central_log_agent_row *r)
{
	struct triage_tail *t = ctx;
	const char *st = r->status != NULL ? r->status : "";
	char key[300];
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", r->site, r->agent);
	for (i = 0; i < t->n; i++)
		if (strcmp(t->key[i], key) == 0)
			break;
	if (i == t->n) {
		if (t->n == t->cap) {
			size_t cap = t->cap != 0 ? t->cap * 2 : 16;
			char **k = realloc(t->key, cap * sizeof(*k));

			if (k == NULL)
				return IDS_ENOMEM;
			t->key = k;
			k = realloc(t->status, cap * sizeof(*k));
			if (k == NULL)
				return IDS_ENOMEM;
			t->status = k;
			t->cap = cap;
		}
		t->key[t->n] = strdup(key);
		t->status[t->n] = strdup("");
		if (t->key[t->n] == NULL || t->status[t->n] == NULL)
			return IDS_ENOMEM;
		t->n++;
	}
	if (strcmp(t->status[i], st) == 0)
		return 0;
	if (t->learned && st[0] != '\0') {
		if (t->json) {
			cJSON *o = cJSON_CreateObject();
			char *txt;

			cJSON_AddStringToObject(o, "event", "agent_status");
			cJSON_AddStringToObject(o, "site", r->site);
			cJSON_AddStringToObject(o, "agent", r->agent);
			cJSON_AddStringToObject(o, "status", st);
			cJSON_AddStringToObject(o, "at", r->last_seen != NULL ?
			    r->last_seen : "");
			txt = cJSON_PrintUnformatted(o);
			cJSON_Delete(o);
			if (txt != NULL)
				fprintf(t->out, "%s\n", txt);
			free(txt);
		} else {
			fprintf(t->out, "%s agent ", r->last_seen != NULL ?
			    r->last_seen : "-");
			log_put_clean(t->out, key);
			fputs(strcmp(st, "offline") == 0 ? " went offline\n" :
			    " is online\n", t->out);
		}
	}
	free(t->status[i]);
	t->status[i] = strdup(st);
	return t->status[i] != NULL ? 0 : IDS_ENOMEM;
}

int
triage_tail_agents(struct central_log *db, bool json, FILE *out,
    struct triage_tail **state)
{
	struct triage_tail *t = *state;
	int rc;

	if (t == NULL) {
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			return IDS_ENOMEM;
		*state = t;
	}
	t->json = json;
	t->out = out;
	rc = central_log_agents(db, tail_agent, t);
	t->learned = true;
	return rc;
}

void
triage_tail_free(struct triage_tail *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->key[i]);
		free(t->status[i]);
	}
	free(t->key);
	free(t->status);
	free(t);
}
