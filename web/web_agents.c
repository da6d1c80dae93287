/*
 * web_agents.c - the console's agents, assets, stats and incidents API,
 * and the sampler thread keeping each agent's recent history (web.c).
 */

#include "web/web.h"
#include "web/web_int.h"

#include <cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "broker/clog_evidence.h"
#include "broker/clog_triage.h"
#include "lib/ids.h"
#include "web/assets.h"
#include "web/users.h"

/* ---- agents, assets, stats, incidents ----------------------------------- */

#define HIST	360		/* samples per agent (an hour at 10 s) */
#define NHIST	64		/* agents with a history */

struct hist {
	char	 key[160];
	int	 n, head;
	int64_t	 t[HIST];
	double	 packets[HIST], dropped[HIST], backlog[HIST];
};

static struct hist hists[NHIST];
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;

static double
num_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int
sample_cb(void *ctx, const struct central_log_agent_row *r)
{
	int64_t now = *(int64_t *)ctx;
	cJSON *s = r->stats != NULL ? cJSON_Parse(r->stats) : NULL;
	char key[160];
	struct hist *h = NULL;
	int i, k;

	if (s == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s/%s", r->site, r->agent);
	pthread_mutex_lock(&hist_lock);
	for (i = 0; i < NHIST && h == NULL; i++)
		if (strcmp(hists[i].key, key) == 0)
			h = &hists[i];
	for (i = 0; i < NHIST && h == NULL; i++)
		if (hists[i].key[0] == '\0') {
			h = &hists[i];
			snprintf(h->key, sizeof(h->key), "%s", key);
		}
	if (h != NULL) {
		k = h->head;
		h->t[k] = now;
		h->packets[k] = num_at(s, "packets", NULL);
		h->dropped[k] = num_at(s, "capture", "dropped") +
		    num_at(s, "capture", "if_dropped");
		h->backlog[k] = num_at(s, "mqtt", "unacked") +
		    num_at(s, "mqtt", "queued");
		h->head = (k + 1) % HIST;
		if (h->n < HIST)
			h->n++;
	}
	pthread_mutex_unlock(&hist_lock);
	cJSON_Delete(s);
	return 0;
}

/* Every 10 s, every agent's counters, for the health charts. */
void *
web_sampler(void *unused)
{
	int i;

	while (!atomic_load(&web_stopping)) {
		int64_t now = central_log_now_us();

		pthread_mutex_lock(&web_db_lock);
		central_log_agents(web_db, sample_cb, &now);
		pthread_mutex_unlock(&web_db_lock);
		for (i = 0; i < 100 && !atomic_load(&web_stopping); i++)
			usleep(100 * 1000);
	}
	return NULL;
}

static cJSON *
history_json(const char *key)
{
	cJSON *o = cJSON_CreateArray();
	struct hist *h = NULL;
	int i, k, prev;

	pthread_mutex_lock(&hist_lock);
	for (i = 0; i < NHIST && h == NULL; i++)
		if (strcmp(hists[i].key, key) == 0)
			h = &hists[i];
	for (i = 0; h != NULL && i < h->n; i++) {
		cJSON *p = cJSON_CreateObject();
		double dt;

		k = (h->head - h->n + i + HIST) % HIST;
		prev = (k - 1 + HIST) % HIST;
		dt = i == 0 ? 0 : (double)(h->t[k] - h->t[prev]) / 1e6;
		cJSON_AddNumberToObject(p, "t_us", (double)h->t[k]);
		cJSON_AddNumberToObject(p, "pps", dt > 0 && h->packets[k] >=
		    h->packets[prev] ? (h->packets[k] - h->packets[prev]) / dt :
		    0);
		cJSON_AddNumberToObject(p, "dropped", h->dropped[k]);
		cJSON_AddNumberToObject(p, "backlog", h->backlog[k]);
		cJSON_AddItemToArray(o, p);
	}
	pthread_mutex_unlock(&hist_lock);
	return o;
}

static int
agent_cb(void *ctx, const struct central_log_agent_row *r)
{
	cJSON *list = ctx, *o = cJSON_CreateObject(), *s;
	char key[160];
	int64_t seen;

	cJSON_AddStringToObject(o, "site", r->site);
	cJSON_AddStringToObject(o, "agent", r->agent);
	cJSON_AddStringToObject(o, "status", r->status ? r->status : "unknown");
	cJSON_AddStringToObject(o, "last_seen", r->last_seen ? r->last_seen :
	    "");
	if (r->last_seen != NULL &&
	    central_log_parse_time(r->last_seen, &seen) == 0)
		cJSON_AddNumberToObject(o, "last_seen_age_s",
		    (double)((central_log_now_us() - seen) / 1000000));
	s = r->stats != NULL ? cJSON_Parse(r->stats) : NULL;
	if (s != NULL) {
		cJSON_AddNumberToObject(o, "packets", num_at(s, "packets", NULL));
		cJSON_AddNumberToObject(o, "dropped",
		    num_at(s, "capture", "dropped") +
		    num_at(s, "capture", "if_dropped"));
		cJSON_AddNumberToObject(o, "backlog",
		    num_at(s, "mqtt", "unacked") + num_at(s, "mqtt", "queued"));
		cJSON_AddItemToObject(o, "stats", s);
	}
	snprintf(key, sizeof(key), "%s/%s", r->site, r->agent);
	cJSON_AddItemToObject(o, "history", history_json(key));
	cJSON_AddItemToArray(list, o);
	return 0;
}

enum MHD_Result
web_api_agents(struct MHD_Connection *c)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(out, "agents");
	int rc;

	pthread_mutex_lock(&web_db_lock);
	rc = central_log_agents(web_db, agent_cb, list);
	pthread_mutex_unlock(&web_db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return web_send_error(c, 500, "central log read failed");
	}
	return web_send_json(c, 200, out, NULL);
}

static int
asset_cb(void *ctx, const struct central_log_asset_row *r)
{
	cJSON *list = ctx, *o = cJSON_CreateObject(), *j;

	cJSON_AddStringToObject(o, "site", r->site);
	cJSON_AddStringToObject(o, "agent", r->agent);
	cJSON_AddStringToObject(o, "ip", r->ip);
	cJSON_AddStringToObject(o, "last_seen", r->last_seen ? r->last_seen :
	    "");
	j = r->json != NULL ? cJSON_Parse(r->json) : NULL;
	cJSON_AddItemToObject(o, "asset", j != NULL ? j : cJSON_CreateNull());
	cJSON_AddItemToArray(list, o);
	return 0;
}

enum MHD_Result
web_api_assets(struct MHD_Connection *c)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(out, "assets");
	int rc;

	pthread_mutex_lock(&web_db_lock);
	rc = central_log_assets(web_db, asset_cb, list);
	pthread_mutex_unlock(&web_db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return web_send_error(c, 500, "central log read failed");
	}
	return web_send_json(c, 200, out, NULL);
}

struct latest {
	int64_t	ts_us;
};

static int
latest_cb(void *ctx, const struct central_log_row *r)
{
	((struct latest *)ctx)->ts_us = r->ts_us;
	return 0;
}

static int
count_cb(void *ctx, const char *key, int64_t n)
{
	cJSON_AddNumberToObject(ctx, key != NULL ? key : "", (double)n);
	return 0;
}

/*
 * GET /api/stats?hours=N: alerts per hour by severity over the N hours up
 * to the latest alert, and per detector and agent over the same window.
 */
enum MHD_Result
web_api_stats(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct latest l = { 0 };
	const char *v = web_arg(c, "hours");
	int64_t hours = v != NULL ? strtoll(v, NULL, 10) : 24, end, start, h;
	cJSON *out, *buckets;
	int rc = 0;

	if (hours < 1 || hours > 24 * 31)
		return web_send_error(c, 400, "hours: 1 to 744");
	central_log_filter_init(&f);
	f.limit = 1;
	out = cJSON_CreateObject();
	pthread_mutex_lock(&web_db_lock);
	rc = central_log_query(web_db, &f, latest_cb, &l);
	end = (l.ts_us / 3600000000LL + 1) * 3600000000LL;
	start = end - hours * 3600000000LL;
	buckets = cJSON_AddArrayToObject(out, "hours");
	for (h = 0; rc == 0 && h < hours; h++) {
		cJSON *b = cJSON_CreateObject();
		char t[CENTRAL_LOG_TIME_LEN];

		central_log_format_time(start + h * 3600000000LL, t);
		cJSON_AddStringToObject(b, "start", t);
		rc = central_log_stats(web_db, CENTRAL_LOG_BY_SEVERITY,
		    start + h * 3600000000LL, start + (h + 1) * 3600000000LL,
		    count_cb, cJSON_AddObjectToObject(b, "by_severity"));
		cJSON_AddItemToArray(buckets, b);
	}
	if (rc == 0)
		rc = central_log_stats(web_db, CENTRAL_LOG_BY_DETECTOR, start, end,
		    count_cb, cJSON_AddObjectToObject(out, "by_detector"));
	if (rc == 0)
		rc = central_log_stats(web_db, CENTRAL_LOG_BY_AGENT, start, end,
		    count_cb, cJSON_AddObjectToObject(out, "by_agent"));
	pthread_mutex_unlock(&web_db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return web_send_error(c, 500, "central log read failed");
	}
	return web_send_json(c, 200, out, NULL);
}

/*
 * GET /api/incidents: the latest 200 incidents (clog_triage.h: alerts of
 * one attacker grouped in time), newest first, each with its timeline:
 * the alerts from its source address between its first and last alert.
 */
struct inc_ctx {
	cJSON	*list;
};

static int
timeline_cb(void *ctx, const struct central_log_row *r)
{
	cJSON *inc = ctx, *a = cJSON_GetObjectItem(inc, "timeline"), *e;
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(inc,
	    "attacker"));

	if (r->src_ip == NULL || src == NULL || strcmp(r->src_ip, src) != 0 ||
	    cJSON_GetArraySize(a) >= 500)
		return 0;
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "id", (double)r->id);
	cJSON_AddNumberToObject(e, "ts_us", (double)r->ts_us);
	cJSON_AddStringToObject(e, "ts", r->ts);
	cJSON_AddStringToObject(e, "site", r->site);
	cJSON_AddStringToObject(e, "agent", r->agent);
	cJSON_AddNumberToObject(e, "seq", (double)r->seq);
	cJSON_AddStringToObject(e, "severity", r->severity);
	cJSON_AddStringToObject(e, "detector", r->detector);
	cJSON_AddStringToObject(e, "title", r->title ? r->title : "");
	if (r->technique != NULL)
		cJSON_AddStringToObject(e, "technique", r->technique);
	if (r->dst_ip != NULL)
		cJSON_AddStringToObject(e, "dst_ip", r->dst_ip);
	cJSON_AddItemToArray(a, e);
	return 0;
}

static int
inc_cb(void *ctx, const struct clog_incident *i)
{
	struct inc_ctx *x = ctx;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)i->id);
	cJSON_AddStringToObject(o, "attacker", i->src_ip ? i->src_ip : "");
	cJSON_AddStringToObject(o, "first", i->first_ts ? i->first_ts : "");
	cJSON_AddStringToObject(o, "last", i->last_ts ? i->last_ts : "");
	cJSON_AddNumberToObject(o, "first_us", (double)i->first_us);
	cJSON_AddNumberToObject(o, "last_us", (double)i->last_us);
	cJSON_AddNumberToObject(o, "count", (double)i->count);
	cJSON_AddNumberToObject(o, "max_sev", i->max_sev);
	cJSON_AddStringToObject(o, "hosts", i->hosts ? i->hosts : "");
	cJSON_AddStringToObject(o, "techniques", i->techniques ?
	    i->techniques : "");
	cJSON_AddStringToObject(o, "state", i->state ? i->state : "");
	cJSON_AddStringToObject(o, "user", i->user ? i->user : "");
	cJSON_AddArrayToObject(o, "timeline");
	/* newest first */
	cJSON_InsertItemInArray(x->list, 0, o);
	return 0;
}

enum MHD_Result
web_api_incidents(struct MHD_Connection *c)
{
	struct clog_incident_filter f;
	struct inc_ctx x;
	cJSON *out, *inc;
	int rc;

	clog_incident_filter_init(&f);
	f.limit = 200;
	out = cJSON_CreateObject();
	x.list = cJSON_AddArrayToObject(out, "incidents");
	pthread_mutex_lock(&web_db_lock);
	rc = clog_incidents(web_db, &f, inc_cb, &x);
	cJSON_ArrayForEach(inc, x.list) {
		struct central_log_filter g;

		if (rc != 0)
			break;
		central_log_filter_init(&g);
		g.ip = cJSON_GetStringValue(cJSON_GetObjectItem(inc, "attacker"));
		g.since_us = (int64_t)cJSON_GetObjectItem(inc,
		    "first_us")->valuedouble;
		g.until_us = (int64_t)cJSON_GetObjectItem(inc,
		    "last_us")->valuedouble + 1;
		if (g.ip == NULL || g.ip[0] == '\0')
			continue;
		rc = central_log_query(web_db, &g, timeline_cb, inc);
	}
	pthread_mutex_unlock(&web_db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return web_send_error(c, 500, "central log read failed");
	}
	return web_send_json(c, 200, out, NULL);
}

int
web_user_cb(void *ctx, const char *name, int role)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", name);
	cJSON_AddStringToObject(o, "role", web_role_name(role));
	cJSON_AddItemToArray(ctx, o);
	return 0;
}
