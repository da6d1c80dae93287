/*
 * log_triage_assets.c - icsentry-log assets: the asset catalogue the
 * agents report, graded and sorted (log_triage_cli.h), on
 * log_triage_cli.c's option parser (log_triage_cli_int.h).
 */
#include "broker/log_triage_cli.h"

#include <cJSON.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/central_log.h"
#include "broker/log_opts.h"
#include "broker/log_triage_cli_int.h"
#include "lib/ids.h"

#define PROG	LOG_PROG

static const char usage_assets[] =
"usage: " PROG " assets [--db FILE] [--site NAME] [--agent [SITE/]NAME]\n"
"                   [--sort grade|ip|first-seen|last-seen] [--json | --csv]\n"
"The asset catalogue: every address an agent reported, with its grade\n"
"(from the plant's assets file, when the agent has one), vendor, model,\n"
"firmware, protocol roles and first/last seen per site/agent.\n";

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

int
triage_cmd_assets(int argc, char **argv, const char *default_db)
{
	struct central_log *db = NULL;
	struct asset_list l = { NULL, 0, 0 };
	struct targs t;
	char *slash;
	size_t i;
	int rc;

	rc = triage_parse_targs(argc, argv, &t, usage_assets, default_db);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return log_bad_usage("unexpected argument '%s'", argv[optind]);
	if (t.agent != NULL && (slash = strchr(t.agent, '/')) != NULL) {
		snprintf(t.alert_buf, sizeof(t.alert_buf), "%s", t.agent);
		slash = strchr(t.alert_buf, '/');
		*slash = '\0';
		t.site = t.alert_buf;
		t.agent = slash + 1;
	}
	if (triage_open_db(t.db, CENTRAL_LOG_RDONLY, &db) != 0)
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
			log_put_csv(stdout, a->ip, false);
			log_put_csv(stdout, a->site, false);
			log_put_csv(stdout, a->agent, false);
			log_put_csv(stdout, CSV_V(a->grade), false);
			log_put_csv(stdout, CSV_V(a->name), false);
			log_put_csv(stdout, CSV_V(a->vendor), false);
			log_put_csv(stdout, CSV_V(a->model), false);
			log_put_csv(stdout, CSV_V(a->firmware), false);
			log_put_csv(stdout, CSV_V(a->roles), false);
			log_put_csv(stdout, CSV_V(a->first), false);
			log_put_csv(stdout, CSV_V(a->last), true);
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
			log_put_clean(stdout, sa);
			printf("%*s", (int)(strlen(sa) < 20 ? 21 - strlen(sa) :
			    1), "");
			printf("%-9s ", a->grade);
			log_put_clean(stdout, a->vendor);
			printf("%*s", (int)(strlen(a->vendor) < 22 ? 23 -
			    strlen(a->vendor) : 1), "");
			log_put_clean(stdout, a->model);
			printf("%*s", (int)(strlen(a->model) < 22 ? 23 -
			    strlen(a->model) : 1), "");
			log_put_clean(stdout, a->firmware);
			printf("%*s", (int)(strlen(a->firmware) < 12 ? 13 -
			    strlen(a->firmware) : 1), "");
			log_put_clean(stdout, a->roles);
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
