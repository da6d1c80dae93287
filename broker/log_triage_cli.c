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
#include "lib/ids.h"

#define PROG	"icsentry-log"

const char triage_cli_usage[] =
"  ack|close|reopen SITE/AGENT SEQ   triage an alert (--incident N: an\n"
"           incident); note ... -m TEXT adds a note; --user NAME\n"
"           (default $USER); every action goes to the audit trail\n"
"  incidents  alerts of one src ip grouped in time (--id N: one, with\n"
"           its alerts and audit entries)\n"
"  audit    the triage audit trail (hash-chained; verify checks it)\n"
"  assets   the asset catalogue the agents report (--sort grade)\n";

static const char usage_action[] =
"usage: " PROG " ack|close|reopen|note SITE/AGENT SEQ [--user NAME] [-m TEXT]\n"
"       " PROG " ack|close|reopen|note --incident N [--user NAME] [-m TEXT]\n"
"Record a triage action (needs write access to the log): ack -> acked,\n"
"close -> closed, reopen -> open, note (-m required) keeps the state.\n"
"The alert may also be written SITE/AGENT/SEQ.\n"
"  --user NAME        operator (default $USER)\n"
"  -m, --text TEXT    a comment stored with the action\n";

static const char usage_incidents[] =
"usage: " PROG " incidents [--db FILE] [--since T] [--until T] [--ip ADDR|CIDR]\n"
"                   [--site NAME] [--state S] [--min-severity S] [--limit N]\n"
"                   [--id N] [--json | --csv]\n"
"Incidents (alerts of one src ip at one site whose capture times are within the\n"
"collector's incident_window of each other), oldest first.  Times are\n"
"capture times: --since T keeps incidents still active at or after T.\n";

static const char usage_audit[] =
"usage: " PROG " audit [--db FILE] [--alert SITE/AGENT/SEQ | --incident N]\n"
"                   [--limit N] [--json]\n"
"The triage audit trail, oldest first (with --limit, the latest N).\n";

static const char usage_assets[] =
"usage: " PROG " assets [--db FILE] [--site NAME] [--agent [SITE/]NAME]\n"
"                   [--sort grade|ip|first-seen|last-seen] [--json | --csv]\n"
"The asset catalogue: every address an agent reported, with its grade\n"
"(from the plant's assets file, when the agent has one), vendor, model,\n"
"firmware, protocol roles and first/last seen per site/agent.\n";

static int
bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return 2;
}

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

static void
put_clean(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* RFC 4180 field, a leading formula character defused (as query --csv). */
static void
put_csv(FILE *out, const char *s, bool last)
{
	const char *p;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") != NULL ||
	    (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)) {
		fputc('"', out);
		if (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)
			fputc('\'', out);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

static int
parse_i64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* RFC 3339 or an age ("90s", "30m", "1h", "7d", "2w") before now. */
static int
parse_when(const char *text, int64_t *us)
{
	char *end;
	double n;
	int64_t mult;

	if (central_log_parse_time(text, us) == 0)
		return 0;
	if (strlen(text) == 10) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%sT00:00:00Z", text);
		if (central_log_parse_time(buf, us) == 0)
			return 0;
	}
	n = strtod(text, &end);
	if (end == text || !(n >= 0))
		return -1;
	switch (*end) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 604800; break;
	default: return -1;
	}
	if (end[1] != '\0')
		return -1;
	*us = central_log_now_us() - (int64_t)(n * (double)mult * 1e6);
	return 0;
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

static int
open_db(const char *path, enum central_log_mode m, struct central_log **db)
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

struct targs {
	const char	*cmd, *db, *user, *text, *ip, *state, *alert;
	const char	*site, *agent, *sort;
	int64_t		 incident, since, until, limit, id;
	int		 min_sev;
	bool		 json, csv, have_incident;
	char		 alert_buf[512];
};

static bool
valid_state(const char *s)
{
	return strcmp(s, "new") == 0 || strcmp(s, "acked") == 0 ||
	    strcmp(s, "closed") == 0 || strcmp(s, "open") == 0;
}

/* "SITE/AGENT/SEQ" or "SITE/AGENT" + "SEQ" -> parts (in buf). */
static int
split_alert(char *buf, const char *seq_arg, const char **site,
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
	    parse_i64(seq_arg, seq) != 0)
		return -1;
	*site = buf;
	*agent = a;
	return 0;
}

static int
parse_targs(int argc, char **argv, struct targs *t, const char *usage,
    const char *default_db)
{
	const char *db_env = getenv("ICSENTRY_DB");
	int opt;

	memset(t, 0, sizeof(*t));
	t->cmd = argv[0];
	t->db = db_env != NULL && db_env[0] != '\0' ? db_env : default_db;
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
			if (parse_i64(optarg, &t->incident) != 0 ||
			    t->incident == 0)
				return bad("bad --incident '%s'", optarg);
			t->have_incident = true;
			break;
		case T_SINCE:
			if (parse_when(optarg, &t->since) != 0)
				return bad("bad time '%s'", optarg);
			break;
		case T_UNTIL:
			if (parse_when(optarg, &t->until) != 0)
				return bad("bad time '%s'", optarg);
			break;
		case T_IP:
			if (!clog_cidr_valid(optarg))
				return bad("bad --ip '%s' (an address or a "
				    "CIDR such as 10.10.1.0/24)", optarg);
			t->ip = optarg;
			break;
		case T_STATE:
			if (!valid_state(optarg))
				return bad("unknown state '%s' (new, acked, "
				    "open, closed)", optarg);
			t->state = optarg;
			break;
		case T_MINSEV:
			t->min_sev = central_log_severity_rank(optarg);
			if (t->min_sev < 0)
				return bad("unknown severity '%s'", optarg);
			break;
		case T_LIMIT:
			if (parse_i64(optarg, &t->limit) != 0 || t->limit == 0)
				return bad("bad --limit '%s'", optarg);
			break;
		case T_ID:
			if (parse_i64(optarg, &t->id) != 0 || t->id == 0)
				return bad("bad --id '%s'", optarg);
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
				return bad("bad --sort '%s' (grade, ip, "
				    "first-seen, last-seen)", optarg);
			t->sort = optarg;
			break;
		}
	}
	if (t->json && t->csv)
		return bad("--json and --csv together");
	if (t->since >= t->until)
		return bad("--since is not before --until");
	return -1;
}

static int
cmd_action(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct targs t;
	const char *site = NULL, *agent = NULL;
	char err[512];
	int64_t seq = 0;
	int rc;

	rc = parse_targs(argc, argv, &t, usage_action, default_db);
	if (rc >= 0)
		return rc;
	if (t.user == NULL || t.user[0] == '\0')
		return bad("no operator name: give --user NAME");
	if (t.have_incident) {
		if (optind != argc)
			return bad("--incident N takes no alert");
	} else {
		if (optind >= argc || argc - optind > 2)
			return bad("which alert? SITE/AGENT SEQ");
		snprintf(t.alert_buf, sizeof(t.alert_buf), "%s", argv[optind]);
		if (split_alert(t.alert_buf, optind + 1 < argc ?
		    argv[optind + 1] : NULL, &site, &agent, &seq) != 0)
			return bad("bad alert '%s%s%s' (SITE/AGENT SEQ)",
			    argv[optind], optind + 1 < argc ? " " : "",
			    optind + 1 < argc ? argv[optind + 1] : "");
	}
	if (strcmp(t.cmd, "note") == 0 && (t.text == NULL || t.text[0] == '\0'))
		return bad("note needs -m TEXT");
	if (open_db(t.db, CENTRAL_LOG_RDWR, &db) != 0)
		return 1;
	if (t.have_incident)
		rc = clog_triage_incident(db, t.incident, t.cmd, t.user, t.text,
		    err, sizeof(err));
	else
		rc = clog_triage(db, site, agent, seq, t.cmd, t.user, t.text,
		    err, sizeof(err));
	central_log_close(db);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s: %s\n", t.cmd, err);
		return rc == IDS_EINVAL ? 2 : 1;
	}
	if (t.have_incident)
		printf("incident %" PRId64 ": %s by %s\n", t.incident, t.cmd,
		    t.user);
	else
		printf("%s/%s #%" PRId64 ": %s by %s\n", site, agent, seq, t.cmd,
		    t.user);
	return 0;
}

/* ---- incidents ------------------------------------------------------------ */

static int
inc_line(void *ctx, const struct clog_incident *i)
{
	FILE *out = ctx;

	fprintf(out, "%-4" PRId64 " %-6s %-8s ", i->id, i->state, i->severity);
	put_clean(out, i->site);
	fputc(' ', out);
	put_clean(out, i->src_ip);
	fprintf(out, " %s .. %s %" PRId64 " alert%s hosts ", i->first_ts,
	    i->last_ts, i->count, i->count == 1 ? "" : "s");
	put_clean(out, i->hosts[0] != '\0' ? i->hosts : "-");
	fputs(" techniques ", out);
	put_clean(out, i->techniques[0] != '\0' ? i->techniques : "-");
	if (i->user[0] != '\0') {
		fputs(" (", out);
		put_clean(out, i->user);
		fputc(')', out);
	}
	fputc('\n', out);
	return ferror(out) ? IDS_EIO : 0;
}

static cJSON *
list_json(const char *csv)
{
	cJSON *a = cJSON_CreateArray();
	char *copy = strdup(csv), *save = NULL, *tok;

	if (copy == NULL)
		return a;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(a, cJSON_CreateString(tok));
	free(copy);
	return a;
}

static int
inc_json(void *ctx, const struct clog_incident *i)
{
	FILE *out = ctx;
	cJSON *o = cJSON_CreateObject();
	char *txt;

	cJSON_AddNumberToObject(o, "id", (double)i->id);
	cJSON_AddStringToObject(o, "site", i->site);
	cJSON_AddStringToObject(o, "src_ip", i->src_ip);
	cJSON_AddStringToObject(o, "first_ts", i->first_ts);
	cJSON_AddStringToObject(o, "last_ts", i->last_ts);
	cJSON_AddNumberToObject(o, "count", (double)i->count);
	cJSON_AddStringToObject(o, "severity", i->severity);
	cJSON_AddItemToObject(o, "hosts", list_json(i->hosts));
	cJSON_AddItemToObject(o, "techniques", list_json(i->techniques));
	cJSON_AddStringToObject(o, "state", i->state);
	if (i->user[0] != '\0') {
		cJSON_AddStringToObject(o, "user", i->user);
		cJSON_AddStringToObject(o, "updated_at", i->updated_at);
	}
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return IDS_ENOMEM;
	fprintf(out, "%s\n", txt);
	free(txt);
	return ferror(out) ? IDS_EIO : 0;
}

static int
inc_csv(void *ctx, const struct clog_incident *i)
{
	FILE *out = ctx;
	char n[24];

	snprintf(n, sizeof(n), "%" PRId64, i->id);
	put_csv(out, n, false);
	put_csv(out, i->state, false);
	put_csv(out, i->severity, false);
	put_csv(out, i->site, false);
	put_csv(out, i->src_ip, false);
	put_csv(out, i->first_ts, false);
	put_csv(out, i->last_ts, false);
	snprintf(n, sizeof(n), "%" PRId64, i->count);
	put_csv(out, n, false);
	put_csv(out, i->hosts, false);
	put_csv(out, i->techniques, false);
	put_csv(out, i->user, true);
	return ferror(out) ? IDS_EIO : 0;
}

void
triage_state_suffix(const struct clog_triage_info *t, char *buf, size_t len)
{
	if (t == NULL || strcmp(t->state, "new") == 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, " [%s by %s]", t->state, t->user);
}

static int
alert_line(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	FILE *out = ctx;
	char sfx[128];

	fprintf(out, "  %s %-8s ", r->ts, r->severity);
	put_clean(out, r->site);
	fputc('/', out);
	put_clean(out, r->agent);
	fprintf(out, " #%" PRId64 " ", r->seq);
	put_clean(out, r->detector);
	fputs(" -> ", out);
	put_clean(out, r->dst_ip != NULL ? r->dst_ip : "-");
	if (r->title != NULL) {
		fputs(" \"", out);
		put_clean(out, r->title);
		fputc('"', out);
	}
	triage_state_suffix(t, sfx, sizeof(sfx));
	put_clean(out, sfx);
	fputc('\n', out);
	return ferror(out) ? IDS_EIO : 0;
}

static int	audit_line(void *ctx, const struct clog_audit_row *r);

static int
cmd_incidents(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct clog_incident_filter f;
	struct targs t;
	char id[24];
	int rc;

	rc = parse_targs(argc, argv, &t, usage_incidents, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
		return 1;
	clog_incident_filter_init(&f);
	f.since_us = t.since;
	f.until_us = t.until;
	f.src_ip = t.ip;
	f.site = t.site;
	f.state = t.state;
	f.min_sev = t.min_sev;
	f.id = t.id;
	f.limit = t.limit;
	if (!clog_triage_present(db)) {
		central_log_close(db);
		return 0;	/* a log no collector of this version opened */
	}
	if (t.csv)
		fputs("id,state,severity,site,src_ip,first_ts,last_ts,count,hosts,"
		    "techniques,user\n", stdout);
	rc = clog_incidents(db, &f, t.json ? inc_json : t.csv ? inc_csv :
	    inc_line, stdout);
	if (rc == 0 && t.id > 0 && !t.json && !t.csv) {
		printf("alerts:\n");
		rc = clog_incident_alerts(db, t.id, alert_line, stdout);
		snprintf(id, sizeof(id), "%" PRId64, t.id);
		if (rc == 0) {
			printf("audit:\n");
			rc = clog_triage_audit(db, "incident", id, 0,
			    audit_line, stdout);
		}
	}
	if (rc != 0)
		fprintf(stderr, PROG ": incidents: %s\n", clog_triage_errmsg());
	central_log_close(db);
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

/* ---- audit ------------------------------------------------------------------ */

static int
audit_line(void *ctx, const struct clog_audit_row *r)
{
	FILE *out = ctx;

	fprintf(out, "%-4" PRId64 " %s ", r->id, r->at);
	put_clean(out, r->user);
	fputc(' ', out);
	put_clean(out, r->action);
	fputc(' ', out);
	put_clean(out, r->kind);
	fputc(' ', out);
	put_clean(out, r->target);
	if (r->text[0] != '\0') {
		fputs(" \"", out);
		put_clean(out, r->text);
		fputc('"', out);
	}
	fputc('\n', out);
	return ferror(out) ? IDS_EIO : 0;
}

static int
audit_json(void *ctx, const struct clog_audit_row *r)
{
	FILE *out = ctx;
	cJSON *o = cJSON_CreateObject();
	char *txt;

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "at", r->at);
	cJSON_AddStringToObject(o, "user", r->user);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddStringToObject(o, "target", r->target);
	cJSON_AddStringToObject(o, "action", r->action);
	cJSON_AddStringToObject(o, "text", r->text);
	cJSON_AddStringToObject(o, "prev_hash", r->prev_hash);
	cJSON_AddStringToObject(o, "hash", r->hash);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (txt == NULL)
		return IDS_ENOMEM;
	fprintf(out, "%s\n", txt);
	free(txt);
	return ferror(out) ? IDS_EIO : 0;
}

static int
cmd_audit(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct targs t;
	const char *kind = NULL, *target = NULL;
	char id[24];
	int rc;

	rc = parse_targs(argc, argv, &t, usage_audit, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (t.alert != NULL && t.have_incident)
		return bad("--alert and --incident together");
	if (t.alert != NULL) {
		kind = "alert";
		target = t.alert;
	} else if (t.have_incident) {
		snprintf(id, sizeof(id), "%" PRId64, t.incident);
		kind = "incident";
		target = id;
	}
	if (open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
		return 1;
	rc = clog_triage_present(db) ? clog_triage_audit(db, kind, target,
	    t.limit, t.json ? audit_json : audit_line, stdout) : 0;
	if (rc != 0)
		fprintf(stderr, PROG ": audit: %s\n", clog_triage_errmsg());
	central_log_close(db);
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

/* ---- assets ------------------------------------------------------------------- */

struct asset_item {
	char	*site, *agent, *ip, *grade, *vendor, *model, *firmware;
	char	*roles, *first, *last, *name;
	int	 grade_rank;	/* higher = more important; -1 none */
};

struct asset_list {
	struct asset_item	*v;
	size_t			 n, cap;
};

static char *
dup_or(const char *s, const char *dflt)
{
	return strdup(s != NULL && s[0] != '\0' ? s : dflt);
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* The first string found at one of the paths ("s7comm.firmware"). */
static const char *
jpath(const cJSON *root, const char *const *paths)
{
	char buf[128], *dot;
	const cJSON *o;
	const char *v;

	for (; *paths != NULL; paths++) {
		snprintf(buf, sizeof(buf), "%s", *paths);
		o = root;
		dot = strchr(buf, '.');
		if (dot != NULL) {
			*dot = '\0';
			o = cJSON_GetObjectItemCaseSensitive(root, buf);
			if (!cJSON_IsObject(o))
				continue;
			v = jstr(o, dot + 1);
		} else {
			v = jstr(o, buf);
		}
		if (v != NULL && v[0] != '\0')
			return v;
	}
	return NULL;
}

/*
 * Grade: a string or number member "grade" (the plant's assets file, via
 * the agent); "critical" > "high"/"important" > "medium" > "low"/"normal",
 * numbers as themselves (higher first).
 */
static int
grade_rank(const cJSON *o, char *text, size_t len)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "grade");
	static const char *const names[] = { "low", "normal", "medium",
	    "important", "high", "critical" };
	static const int ranks[] = { 1, 1, 2, 3, 3, 4 };
	size_t i;

	if (cJSON_IsObject(g))
		g = cJSON_GetObjectItemCaseSensitive(g, "level");
	if (cJSON_IsNumber(g)) {
		snprintf(text, len, "%g", g->valuedouble);
		return (int)g->valuedouble;
	}
	if (!cJSON_IsString(g)) {
		snprintf(text, len, "-");
		return -1;
	}
	snprintf(text, len, "%s", g->valuestring);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(g->valuestring, names[i]) == 0)
			return ranks[i];
	return atoi(g->valuestring);
}

static char *
roles_text(const cJSON *o)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "protocols"), *e,
	    *r;
	char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, p) {
		char roles[32] = "";

		cJSON_ArrayForEach(r, e)
			if (cJSON_IsString(r))
				snprintf(roles + strlen(roles), sizeof(roles) -
				    strlen(roles), "%s%c", roles[0] != '\0' ?
				    "+" : "", r->valuestring[0]);
		if (n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%s%s:%s", n > 0 ? "," : "", e->string, roles);
	}
	return strdup(n > 0 ? buf : "-");
}

static int
asset_collect(void *ctx, const struct clog_asset *a)
{
	struct asset_list *l = ctx;
	struct asset_item *it;
	cJSON *o = cJSON_Parse(a->json), *id;
	char grade[64];
	const char *model = NULL, *fw = NULL;

	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? l->cap * 2 : 64;
		struct asset_item *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			cJSON_Delete(o);
			return IDS_ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	id = cJSON_GetObjectItemCaseSensitive(o, "identity");
	/* model and firmware: the first identity the inventory found */
	if (cJSON_IsObject(id)) {
		model = jpath(id, (const char *const[]){ "s7comm.order_number",
		    "enip.product_name", "profinet.type_of_station",
		    "lldp.system_description", NULL });
		fw = jpath(id, (const char *const[]){ "s7comm.firmware",
		    "enip.revision", NULL });
	}
	if (model == NULL)
		model = jstr(o, "model");
	if (fw == NULL)
		fw = jstr(o, "firmware");
	it->grade_rank = grade_rank(o, grade, sizeof(grade));
	it->site = strdup(a->site);
	it->agent = strdup(a->agent);
	it->ip = strdup(a->ip);
	it->grade = strdup(grade);
	it->name = dup_or(jstr(o, "name"), "-");
	it->vendor = dup_or(jstr(o, "vendor"), "-");
	it->model = dup_or(model, "-");
	it->firmware = dup_or(fw, "-");
	it->roles = roles_text(o);
	it->first = dup_or(jstr(o, "first_seen"), "-");
	it->last = dup_or(jstr(o, "last_seen"), a->received_at);
	cJSON_Delete(o);
	return 0;
}

static const char *sort_key;

static int
ipcmp(const char *a, const char *b)
{
	unsigned x[4], y[4];
	int i;

	if (sscanf(a, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]) == 4 &&
	    sscanf(b, "%u.%u.%u.%u", &y[0], &y[1], &y[2], &y[3]) == 4) {
		for (i = 0; i < 4; i++)
			if (x[i] != y[i])
				return x[i] < y[i] ? -1 : 1;
		return 0;
	}
	return strcmp(a, b);
}

static int
asset_cmp(const void *pa, const void *pb)
{
	const struct asset_item *a = pa, *b = pb;
	int c = 0;

	if (strcmp(sort_key, "grade") == 0 && a->grade_rank != b->grade_rank)
		return a->grade_rank > b->grade_rank ? -1 : 1;
	if (strcmp(sort_key, "first-seen") == 0)
		c = strcmp(a->first, b->first);
	else if (strcmp(sort_key, "last-seen") == 0)
		c = -strcmp(a->last, b->last);
	if (c != 0)
		return c;
	c = ipcmp(a->ip, b->ip);
	if (c != 0)
		return c;
	c = strcmp(a->site, b->site);
	return c != 0 ? c : strcmp(a->agent, b->agent);
}

static int
cmd_assets(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct asset_list l = { NULL, 0, 0 };
	struct targs t;
	char *slash;
	size_t i;
	int rc;

	rc = parse_targs(argc, argv, &t, usage_assets, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (t.agent != NULL && (slash = strchr(t.agent, '/')) != NULL) {
		snprintf(t.alert_buf, sizeof(t.alert_buf), "%s", t.agent);
		slash = strchr(t.alert_buf, '/');
		*slash = '\0';
		t.site = t.alert_buf;
		t.agent = slash + 1;
	}
	if (open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
		return 1;
	rc = clog_assets(db, t.site, t.agent, asset_collect, &l);
	central_log_close(db);
	if (rc != 0) {
		fprintf(stderr, PROG ": assets: %s\n", clog_triage_errmsg());
		return 1;
	}
	sort_key = t.sort != NULL ? t.sort : "ip";
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), asset_cmp);
	if (t.csv)
		fputs("ip,site,agent,grade,name,vendor,model,firmware,roles,"
		    "first_seen,last_seen\n", stdout);
	else if (!t.json)
		printf("%-16s %-20s %-9s %-22s %-22s %-12s %-24s %s / %s\n",
		    "IP", "SITE/AGENT", "GRADE", "VENDOR", "MODEL", "FIRMWARE",
		    "ROLES", "FIRST SEEN", "LAST SEEN");
	for (i = 0; i < l.n; i++) {
		struct asset_item *a = &l.v[i];

		if (t.csv) {
			/* "-" (unknown) is an empty field in CSV */
#define CSV_V(v) (strcmp((v), "-") == 0 ? "" : (v))
			put_csv(stdout, a->ip, false);
			put_csv(stdout, a->site, false);
			put_csv(stdout, a->agent, false);
			put_csv(stdout, CSV_V(a->grade), false);
			put_csv(stdout, CSV_V(a->name), false);
			put_csv(stdout, CSV_V(a->vendor), false);
			put_csv(stdout, CSV_V(a->model), false);
			put_csv(stdout, CSV_V(a->firmware), false);
			put_csv(stdout, CSV_V(a->roles), false);
			put_csv(stdout, CSV_V(a->first), false);
			put_csv(stdout, CSV_V(a->last), true);
#undef CSV_V
		} else if (t.json) {
			cJSON *o = cJSON_CreateObject();
			char *txt;

			cJSON_AddStringToObject(o, "ip", a->ip);
			cJSON_AddStringToObject(o, "site", a->site);
			cJSON_AddStringToObject(o, "agent", a->agent);
			cJSON_AddStringToObject(o, "grade", a->grade);
			cJSON_AddStringToObject(o, "name", a->name);
			cJSON_AddStringToObject(o, "vendor", a->vendor);
			cJSON_AddStringToObject(o, "model", a->model);
			cJSON_AddStringToObject(o, "firmware", a->firmware);
			cJSON_AddStringToObject(o, "roles", a->roles);
			cJSON_AddStringToObject(o, "first_seen", a->first);
			cJSON_AddStringToObject(o, "last_seen", a->last);
			txt = cJSON_PrintUnformatted(o);
			cJSON_Delete(o);
			if (txt != NULL)
				printf("%s\n", txt);
			free(txt);
		} else {
			char sa[160];

			snprintf(sa, sizeof(sa), "%s/%s", a->site, a->agent);
			fputs("", stdout);
			printf("%-16s ", a->ip);
			put_clean(stdout, sa);
			printf("%*s", (int)(strlen(sa) < 20 ? 21 - strlen(sa) :
			    1), "");
			printf("%-9s ", a->grade);
			put_clean(stdout, a->vendor);
			printf("%*s", (int)(strlen(a->vendor) < 22 ? 23 -
			    strlen(a->vendor) : 1), "");
			put_clean(stdout, a->model);
			printf("%*s", (int)(strlen(a->model) < 22 ? 23 -
			    strlen(a->model) : 1), "");
			put_clean(stdout, a->firmware);
			printf("%*s", (int)(strlen(a->firmware) < 12 ? 13 -
			    strlen(a->firmware) : 1), "");
			put_clean(stdout, a->roles);
			printf("%*s", (int)(strlen(a->roles) < 24 ? 25 -
			    strlen(a->roles) : 1), "");
			printf("%s / %s\n", a->first, a->last);
		}
		free(a->site);
		free(a->agent);
		free(a->ip);
		free(a->grade);
		free(a->name);
		free(a->vendor);
		free(a->model);
		free(a->firmware);
		free(a->roles);
		free(a->first);
		free(a->last);
	}
	free(l.v);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
triage_cli_main(int argc, char **argv, const char *default_db)
{
	if (strcmp(argv[0], "incidents") == 0)
		return cmd_incidents(argc, argv, default_db);
	if (strcmp(argv[0], "audit") == 0)
		return cmd_audit(argc, argv, default_db);
	if (strcmp(argv[0], "assets") == 0)
		return cmd_assets(argc, argv, default_db);
	return cmd_action(argc, argv, default_db);
}

/* ---- verify ------------------------------------------------------------------- */

static int
print_problem(void *ctx, const char *line)
{
	if (*(bool *)ctx)
		return 0;	/* --quiet */
	fputs("audit: ", stdout);
	put_clean(stdout, line);
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
			put_clean(t->out, key);
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
