/*
 * log_triage_cmd.c - icsentry-log ack, close, note, reopen, incidents and
 * audit, and triage_cli_main() that runs them and assets
 * (log_triage_assets.c); on log_triage_cli.c's option parser
 * (log_triage_cli_int.h).
 */
#include "broker/log_triage_cli.h"

#include <cJSON.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "broker/log_opts.h"
#include "broker/log_triage_cli_int.h"
#include "lib/ids.h"

#define PROG	LOG_PROG

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

static int
cmd_action(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct targs t;
	const char *site = NULL, *agent = NULL;
	char err[512];
	int64_t seq = 0;
	int rc;

	rc = triage_parse_targs(argc, argv, &t, usage_action, default_db);
	if (rc >= 0)
		return rc;
	if (t.user == NULL || t.user[0] == '\0')
		return log_bad_usage("no operator name: give --user NAME");
	if (t.have_incident) {
		if (optind != argc)
			return log_bad_usage("--incident N takes no alert");
	} else {
		if (optind >= argc || argc - optind > 2)
			return log_bad_usage("which alert? SITE/AGENT SEQ");
		snprintf(t.alert_buf, sizeof(t.alert_buf), "%s", argv[optind]);
		if (triage_split_alert(t.alert_buf, optind + 1 < argc ?
		    argv[optind + 1] : NULL, &site, &agent, &seq) != 0)
			return log_bad_usage(
			    "bad alert '%s%s%s' (SITE/AGENT SEQ)",
			    argv[optind], optind + 1 < argc ? " " : "",
			    optind + 1 < argc ? argv[optind + 1] : "");
	}
	if (strcmp(t.cmd, "note") == 0 && (t.text == NULL || t.text[0] == '\0'))
		return log_bad_usage("note needs -m TEXT");
	if (triage_open_db(t.db, CENTRAL_LOG_RDWR, &db) != 0)
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
	log_put_clean(out, i->site);
	fputc(' ', out);
	log_put_clean(out, i->src_ip);
	fprintf(out, " %s .. %s %" PRId64 " alert%s hosts ", i->first_ts,
	    i->last_ts, i->count, i->count == 1 ? "" : "s");
	log_put_clean(out, i->hosts[0] != '\0' ? i->hosts : "-");
	fputs(" techniques ", out);
	log_put_clean(out, i->techniques[0] != '\0' ? i->techniques : "-");
	if (i->user[0] != '\0') {
		fputs(" (", out);
		log_put_clean(out, i->user);
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
	log_put_csv(out, n, false);
	log_put_csv(out, i->state, false);
	log_put_csv(out, i->severity, false);
	log_put_csv(out, i->site, false);
	log_put_csv(out, i->src_ip, false);
	log_put_csv(out, i->first_ts, false);
	log_put_csv(out, i->last_ts, false);
	snprintf(n, sizeof(n), "%" PRId64, i->count);
	log_put_csv(out, n, false);
	log_put_csv(out, i->hosts, false);
	log_put_csv(out, i->techniques, false);
	log_put_csv(out, i->user, true);
	return ferror(out) ? IDS_EIO : 0;
}

static int
alert_line(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	FILE *out = ctx;
	char sfx[128];

	fprintf(out, "  %s %-8s ", r->ts, r->severity);
	log_put_clean(out, r->site);
	fputc('/', out);
	log_put_clean(out, r->agent);
	fprintf(out, " #%" PRId64 " ", r->seq);
	log_put_clean(out, r->detector);
	fputs(" -> ", out);
	log_put_clean(out, r->dst_ip != NULL ? r->dst_ip : "-");
	if (r->title != NULL) {
		fputs(" \"", out);
		log_put_clean(out, r->title);
		fputc('"', out);
	}
	triage_state_suffix(t, sfx, sizeof(sfx));
	log_put_clean(out, sfx);
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

	rc = triage_parse_targs(argc, argv, &t, usage_incidents, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return log_bad_usage("unexpected argument '%s'", argv[optind]);
	if (triage_open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
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
	log_put_clean(out, r->user);
	fputc(' ', out);
	log_put_clean(out, r->action);
	fputc(' ', out);
	log_put_clean(out, r->kind);
	fputc(' ', out);
	log_put_clean(out, r->target);
	if (r->text[0] != '\0') {
		fputs(" \"", out);
		log_put_clean(out, r->text);
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

	rc = triage_parse_targs(argc, argv, &t, usage_audit, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return log_bad_usage("unexpected argument '%s'", argv[optind]);
	if (t.alert != NULL && t.have_incident)
		return log_bad_usage("--alert and --incident together");
	if (t.alert != NULL) {
		kind = "alert";
		target = t.alert;
	} else if (t.have_incident) {
		snprintf(id, sizeof(id), "%" PRId64, t.incident);
		kind = "incident";
		target = id;
	}
	if (triage_open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
		return 1;
	rc = clog_triage_present(db) ? clog_triage_audit(db, kind, target,
	    t.limit, t.json ? audit_json : audit_line, stdout) : 0;
	if (rc != 0)
		fprintf(stderr, PROG ": audit: %s\n", clog_triage_errmsg());
	central_log_close(db);
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

int
triage_cli_main(int argc, char **argv, const char *default_db)
{
	if (strcmp(argv[0], "incidents") == 0)
		return cmd_incidents(argc, argv, default_db);
	if (strcmp(argv[0], "audit") == 0)
		return cmd_audit(argc, argv, default_db);
	if (strcmp(argv[0], "assets") == 0)
		return triage_cmd_assets(argc, argv, default_db);
	return cmd_action(argc, argv, default_db);
}
