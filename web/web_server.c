/*
 * web_server.c - the console's server: server-sent events, login, triage,
 * evidence downloads, routing, and web_run (web.h) starting and stopping
 * libmicrohttpd over TLS (web.c).
 */

#include "web/web.h"
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

/* ---- server-sent events ------------------------------------------------- */

struct sse {
	char	 sid[TOKEN_HEX + 1];
	struct central_log_filter f;
	char	 site[128];
	struct central_log *own;	/* PostgreSQL: its own connection */
	int64_t	 last_id;
	char	*buf;
	size_t	 len, off, cap;
};

static int
sse_cb(void *ctx, const struct central_log_row *r)
{
	struct sse *s = ctx;
	cJSON *j = web_row_json(r);
	char *txt = cJSON_PrintUnformatted(j);
	size_t need;
	int n;

	cJSON_Delete(j);
	if (txt == NULL)
		return 0;
	need = strlen(txt) + 64;
	if (s->len + need > s->cap) {
		size_t cap = (s->len + need) * 2;
		char *nb = realloc(s->buf, cap);

		if (nb == NULL) {
			free(txt);
			return 0;
		}
		s->buf = nb;
		s->cap = cap;
	}
	n = snprintf(s->buf + s->len, s->cap - s->len,
	    "id: %" PRId64 "\nevent: alert\ndata: %s\n\n", r->id, txt);
	if (n > 0)
		s->len += (size_t)n;
	free(txt);
	return 0;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse *s = cls;
	int waited = 0;

	while (s->off == s->len) {
		struct central_log_filter g = s->f;
		int64_t last = s->last_id;

		s->off = s->len = 0;
		if (atomic_load(&web_stopping) || !web_session_alive(s->sid))
			return MHD_CONTENT_READER_END_OF_STREAM;
		g.after_id = s->last_id;
		if (s->own != NULL) {
			central_log_follow(s->own, &g, sse_cb, s, &last);
		} else {
			pthread_mutex_lock(&web_db_lock);
			central_log_follow(web_db, &g, sse_cb, s, &last);
			pthread_mutex_unlock(&web_db_lock);
		}
		s->last_id = last;
		if (s->len > 0)
			break;
		if (waited >= SSE_PING_S * 1000) {
			s->len = (size_t)snprintf(s->buf, s->cap, ": ping\n\n");
			break;
		}
		usleep((useconds_t)web_cfg->poll_ms * 1000);
		waited += web_cfg->poll_ms;
	}
	if (max > s->len - s->off)
		max = s->len - s->off;
	memcpy(out, s->buf + s->off, max);
	s->off += max;
	return (ssize_t)max;
}

static void
sse_free(void *cls)
{
	struct sse *s = cls;

	central_log_close(s->own);
	free(s->buf);
	free(s);
}

static int
last_cb(void *ctx, const struct central_log_row *r)
{
	*(int64_t *)ctx = r->id;
	return 0;
}

static enum MHD_Result
api_stream(struct MHD_Connection *c, const struct session *se)
{
	struct post_filter pf;
	struct MHD_Response *r;
	struct sse *s;
	const char *why = NULL, *v;
	enum MHD_Result ret;

	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->buf = malloc(4096)) == NULL) {
		free(s);
		return web_send_error(c, 500, "out of memory");
	}
	s->cap = 4096;
	memcpy(s->sid, se->sid, sizeof(s->sid));
	if (!web_parse_filter(c, &s->f, &pf, &why) || pf.cidr || pf.text ||
	    pf.state) {
		sse_free(s);
		return web_send_error(c, 400, why ? why :
		    "the stream takes no q, state or CIDR filter");
	}
	/* the strings point into the connection: copy what is kept */
	s->f.site = s->f.agent = s->f.detector = s->f.technique = NULL;
	s->f.proto = s->f.ip = NULL;
	if ((v = web_arg(c, "site")) != NULL) {
		snprintf(s->site, sizeof(s->site), "%s", v);
		s->f.site = s->site;
	}
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	if (v == NULL)
		v = web_arg(c, "after");
	if (v != NULL) {
		s->last_id = strtoll(v, NULL, 10);
	} else {
		struct central_log_filter f;
		int64_t seen = 0;

		central_log_filter_init(&f);
		f.limit = 1;
		s->last_id = 0;
		pthread_mutex_lock(&web_db_lock);
		central_log_follow(web_db, &f, last_cb, &s->last_id, &seen);
		pthread_mutex_unlock(&web_db_lock);
	}
	/*
	 * PostgreSQL's follow remembers what it showed (ids commit out of
	 * order): one connection per stream, so streams do not share that.
	 */
	if (central_log_is_url(web_cfg->db)) {
		struct central_log_filter none;
		int64_t start = s->last_id;
		char e[256];

		if (central_log_open(web_cfg->db, CENTRAL_LOG_RDONLY,
		    CENTRAL_LOG_SYNC_NORMAL, &s->own, e, sizeof(e)) != 0) {
			sse_free(s);
			return web_send_error(c, 503, "central log unavailable");
		}
		/*
		 * Start its tail at last_id: a new tail (after_id < 0) that
		 * matches nothing leaves the floor at the id given, so the
		 * first poll shows what came after it and nothing before.
		 */
		central_log_filter_init(&none);
		none.until_us = INT64_MIN + 1;
		central_log_follow(s->own, &none, last_cb, &start, &start);
	}
	s->len = (size_t)snprintf(s->buf, s->cap, "retry: 2000\n: from id %"
	    PRId64 "\n\n", s->last_id);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read,
	    s, sse_free);
	if (r == NULL) {
		sse_free(s);
		return MHD_NO;
	}
	web_headers(r, "text/event-stream", true);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- login -------------------------------------------------------------- */

static cJSON *
session_json(const struct session *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", s->user);
	cJSON_AddStringToObject(o, "role", web_role_name(s->role));
	cJSON_AddStringToObject(o, "csrf", s->csrf);
	return o;
}

static enum MHD_Result
api_login(struct MHD_Connection *c, const struct req *q)
{
	char addr[INET6_ADDRSTRLEN], cookie[160], retry[16];
	const char *user, *pass;
	struct session s;
	cJSON *j;
	int role = 0, rc, wait;

	web_client_addr(c, addr, sizeof(addr));
	if ((wait = web_rate_wait(addr)) > 0) {
		struct MHD_Response *r;
		enum MHD_Result ret;
		static const char msg[] = "{\"error\":\"too many failed logins; "
		    "try again later\"}";

		r = MHD_create_response_from_buffer(sizeof(msg) - 1,
		    (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
		web_headers(r, "application/json", true);
		snprintf(retry, sizeof(retry), "%d", wait);
		MHD_add_response_header(r, "Retry-After", retry);
		ret = MHD_queue_response(c, 429, r);
		MHD_destroy_response(r);
		return ret;
	}
	j = cJSON_ParseWithLength(q->body != NULL ? q->body : "", q->len);
	user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "user"));
	pass = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
	    "password"));
	if (user == NULL || pass == NULL || !web_name_ok(user) ||
	    strlen(pass) > 1024) {
		cJSON_Delete(j);
		web_rate_fail(addr);
		return web_send_error(c, 401, "bad user or password");
	}
	rc = web_user_check(web_cfg->users, user, pass, &role);
	if (rc != 0) {
		if (rc > 0) {
			web_rate_fail(addr);
			fprintf(stderr, "icsentry-web: failed login for \"%s\" "
			    "from %s\n", user, addr);
		}
		cJSON_Delete(j);
		if (rc < 0)
			return web_send_error(c, 500, "users file unreadable");
		return web_send_error(c, 401, "bad user or password");
	}
	rc = web_session_new(user, role, &s);
	cJSON_Delete(j);
	if (rc != 0)
		return web_send_error(c, 500, "no randomness");
	snprintf(cookie, sizeof(cookie), "sid=%s; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=%d", s.sid, SESS_MAX_S);
	fprintf(stderr, "icsentry-web: %s (%s) logged in from %s\n", s.user,
	    web_role_name(s.role), addr);
	return web_send_json(c, 200, session_json(&s), cookie);
}

/* ---- triage ------------------------------------------------------------- */

static bool
action_ok(const char *a)
{
	return strcmp(a, "ack") == 0 || strcmp(a, "close") == 0 ||
	    strcmp(a, "note") == 0 || strcmp(a, "reopen") == 0;
}

/* The optional {"note": "..."} of a triage request; NULL when none. */
static const char *
req_note(const struct req *q, cJSON **j)
{
	*j = cJSON_ParseWithLength(q->body != NULL ? q->body : "", q->len);
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*j,
	    "note"));
}

/*
 * POST /api/alerts/SITE/AGENT/SEQ/ack|close|reopen|note (analyst and up),
 * body {"note": "..."} (required for note): the state changes and one
 * entry with the operator's name goes into the hash-chained audit trail
 * (broker/clog_triage.h).
 */
static enum MHD_Result
api_triage(struct MHD_Connection *c, const struct session *s,
    const char *rest, const struct req *q)
{
	char site[128], agent[128], action[16], err[256];
	struct clog_triage_info t;
	const char *note;
	long long seq;
	cJSON *j, *out;
	int n = 0, rc;

	if (sscanf(rest, "%127[^/]/%127[^/]/%lld/%15[a-z]%n", site, agent, &seq,
	    action, &n) != 4 || rest[n] != '\0' || !web_name_ok(site) ||
	    !web_name_ok(agent) || seq < 0)
		return web_send_error(c, 404, "no such endpoint");
	if (!action_ok(action))
		return web_send_error(c, 404, "no such action");
	if (s->role < WEB_ANALYST)
		return web_send_error(c, 403, "analyst role required");
	note = req_note(q, &j);
	if (note != NULL && strlen(note) > CLOG_TRIAGE_TEXT_MAX) {
		cJSON_Delete(j);
		return web_send_error(c, 400, "note too long");
	}
	if (strcmp(action, "note") == 0 && (note == NULL || note[0] == '\0')) {
		cJSON_Delete(j);
		return web_send_error(c, 400, "a note needs text");
	}
	err[0] = '\0';
	memset(&t, 0, sizeof(t));
	pthread_mutex_lock(&web_db_lock);
	rc = clog_triage(web_db, site, agent, seq, action, s->user,
	    note != NULL && note[0] != '\0' ? note : NULL, err, sizeof(err));
	if (rc == 0)
		rc = clog_triage_get(web_db, site, agent, seq, &t);
	pthread_mutex_unlock(&web_db_lock);
	cJSON_Delete(j);
	if (rc == IDS_EINVAL)
		return web_send_error(c, strncmp(err, "no alert", 8) == 0 ? 404 : 400,
		    err[0] ? err : "refused");
	if (rc != 0)
		return web_send_error(c, 500, err[0] ? err : "triage failed");
	fprintf(stderr, "icsentry-web: %s %s %s/%s/%lld\n", s->user, action,
	    site, agent, seq);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "action", action);
	cJSON_AddStringToObject(out, "operator", s->user);
	web_add_triage(out, &t);
	return web_send_json(c, 200, out, NULL);
}

/* POST /api/incidents/ID/ack|close|reopen|note (analyst and up). */
static enum MHD_Result
api_incident_triage(struct MHD_Connection *c, const struct session *s,
    const char *rest, const struct req *q)
{
	char action[16], err[256];
	const char *note;
	long long id;
	cJSON *j, *out;
	int n = 0, rc;

	if (sscanf(rest, "%lld/%15[a-z]%n", &id, action, &n) != 2 ||
	    rest[n] != '\0' || id <= 0)
		return web_send_error(c, 404, "no such endpoint");
	if (!action_ok(action))
		return web_send_error(c, 404, "no such action");
	if (s->role < WEB_ANALYST)
		return web_send_error(c, 403, "analyst role required");
	note = req_note(q, &j);
	if (strcmp(action, "note") == 0 && (note == NULL || note[0] == '\0')) {
		cJSON_Delete(j);
		return web_send_error(c, 400, "a note needs text");
	}
	err[0] = '\0';
	pthread_mutex_lock(&web_db_lock);
	rc = clog_triage_incident(web_db, id, action, s->user,
	    note != NULL && note[0] != '\0' ? note : NULL, err, sizeof(err));
	pthread_mutex_unlock(&web_db_lock);
	cJSON_Delete(j);
	if (rc == IDS_EINVAL)
		return web_send_error(c, 404, err[0] ? err : "no such incident");
	if (rc != 0)
		return web_send_error(c, 500, err[0] ? err : "triage failed");
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "action", action);
	cJSON_AddStringToObject(out, "operator", s->user);
	return web_send_json(c, 200, out, NULL);
}

static enum MHD_Result
api_evidence(struct MHD_Connection *c, const char *rest)
{
	char site[128], agent[128], path[1024], disp[300];
	struct MHD_Response *r;
	enum MHD_Result ret;
	long long seq;
	size_t len = 0;
	char *data;
	int n = 0;

	if (sscanf(rest, "%127[^/]/%127[^/]/%lld/evidence%n", site, agent, &seq,
	    &n) != 3 || rest[n] != '\0')
		return web_send_error(c, 404, "no such endpoint");
	if (!web_name_ok(site) || !web_name_ok(agent) || seq < 0)
		return web_send_error(c, 404, "no such alert");
	/* the central log's copy (clog_evidence.h), else --evidence-dir */
	{
		void *p = NULL;
		int rc;

		pthread_mutex_lock(&web_db_lock);
		rc = clog_evidence_get(web_db, site, agent, seq, &p, &len);
		pthread_mutex_unlock(&web_db_lock);
		data = rc == 0 ? p : NULL;
		if (rc != 0)
			free(p);
	}
	if (data == NULL && (!web_evidence_path(site, agent, seq, path,
	    sizeof(path)) || (data = web_slurp(path, &len)) == NULL))
		return web_send_error(c, 404, "no evidence pcap stored for this "
		    "alert");
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	web_headers(r, "application/vnd.tcpdump.pcap", true);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s_%s_%lld.pcap\"",
	    site, agent, seq);
	MHD_add_response_header(r, "Content-Disposition", disp);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routing ------------------------------------------------------------ */

static enum MHD_Result
serve_static(struct MHD_Connection *c, const char *url)
{
	size_t i;

	if (strcmp(url, "/js/chart.js") == 0) {
		if (web_chartjs == NULL)
			return web_send_error(c, 404, "Chart.js not installed "
			    "(libjs-chart.js)");
		return web_send_buf(c, 200, "text/javascript; charset=utf-8",
		    web_chartjs, web_chartjs_len, MHD_RESPMEM_PERSISTENT, NULL);
	}
	for (i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].path, url) == 0)
			return web_send_buf(c, 200, web_assets[i].type,
			    web_assets[i].data, web_assets[i].len,
			    MHD_RESPMEM_PERSISTENT, NULL);
	return web_send_error(c, 404, "not found");
}

static enum MHD_Result
route(struct MHD_Connection *c, const char *url, const char *method,
    const struct req *q)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	struct session s;
	const char *tok;

	if (strncmp(url, "/api/", 5) != 0) {
		if (!get)
			return web_send_error(c, 405, "method not allowed");
		return serve_static(c, url);
	}
	if (q->too_big)
		return web_send_error(c, 413, "request body too large");
	if (strcmp(url, "/api/login") == 0) {
		if (!post)
			return web_send_error(c, 405, "POST only");
		return api_login(c, q);
	}
	/* everything else: a session first */
	if (!web_session_get(c, &s))
		return web_send_error(c, 401, "login required");
	if (!get && !post)
		return web_send_error(c, 405, "method not allowed");
	if (post) {
		tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-CSRF-Token");
		if (!web_token_eq(tok, s.csrf))
			return web_send_error(c, 403, "CSRF token missing or wrong");
	}
	if (strcmp(url, "/api/session") == 0 && get)
		return web_send_json(c, 200, session_json(&s), NULL);
	if (strcmp(url, "/api/logout") == 0 && post) {
		web_session_end(s.sid);
		return web_send_json(c, 200, cJSON_CreateObject(),
		    "sid=; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=0");
	}
	if (strcmp(url, "/api/alerts") == 0 && get)
		return web_api_alerts(c);
	if (strcmp(url, "/api/alerts/stream") == 0 && get)
		return api_stream(c, &s);
	if (strcmp(url, "/api/alert") == 0 && get)
		return web_api_alert(c);
	if (strcmp(url, "/api/agents") == 0 && get)
		return web_api_agents(c);
	if (strcmp(url, "/api/assets") == 0 && get)
		return web_api_assets(c);
	if (strcmp(url, "/api/stats") == 0 && get)
		return web_api_stats(c);
	if (strcmp(url, "/api/incidents") == 0 && get)
		return web_api_incidents(c);
	if (strcmp(url, "/api/verify") == 0 && post)
		return web_api_verify(c);
	if (strcmp(url, "/api/users") == 0 && get) {
		cJSON *out, *list;

		if (s.role < WEB_ADMIN)
			return web_send_error(c, 403, "admin role required");
		out = cJSON_CreateObject();
		list = cJSON_AddArrayToObject(out, "users");
		web_user_list(web_cfg->users, web_user_cb, list);
		return web_send_json(c, 200, out, NULL);
	}
	if (strncmp(url, "/api/alerts/", 12) == 0 && post)
		return api_triage(c, &s, url + 12, q);
	if (strncmp(url, "/api/incidents/", 15) == 0 && post)
		return api_incident_triage(c, &s, url + 15, q);
	if (strncmp(url, "/api/alerts/", 12) == 0 && get)
		return api_evidence(c, url + 12);
	return web_send_error(c, 404, "no such endpoint");
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct req *q = *con_cls;

	if (q == NULL) {
		q = calloc(1, sizeof(*q));
		if (q == NULL)
			return MHD_NO;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_len > 0) {
		if (q->len + *upload_len > MAX_BODY) {
			q->too_big = true;
		} else {
			char *nb = realloc(q->body, q->len + *upload_len + 1);

			if (nb == NULL)
				return MHD_NO;
			q->body = nb;
			memcpy(q->body + q->len, upload, *upload_len);
			q->len += *upload_len;
			q->body[q->len] = '\0';
		}
		*upload_len = 0;
		return MHD_YES;
	}
	return route(c, url, method, q);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	fputs("icsentry-web: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int
web_run(const struct web_config *c, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	struct MHD_Daemon *d;
	struct sigaction sa;
	char host[256], *port, *cert, *key, dberr[256];
	size_t len;
	pthread_t th;
	sigset_t set;
	int rc, sig;

	web_cfg = c;
	snprintf(host, sizeof(host), "%s", c->listen);
	port = strrchr(host, ':');
	if (port == NULL) {
		snprintf(err, errlen, "--listen %s: ADDR:PORT", c->listen);
		return IDS_EINVAL;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "--listen %s: %s", c->listen,
		    gai_strerror(rc));
		return IDS_EINVAL;
	}
	cert = web_slurp(c->cert, &len);
	key = web_slurp(c->key, &len);
	if (cert == NULL || key == NULL) {
		snprintf(err, errlen, "%s: %s", cert == NULL ? c->cert : c->key,
		    strerror(errno));
		free(cert);
		free(key);
		freeaddrinfo(ai);
		return IDS_EIO;
	}
	if (access(c->users, R_OK) != 0) {
		snprintf(err, errlen, "%s: %s (add a user with --add-user)",
		    c->users, strerror(errno));
		free(cert);
		free(key);
		freeaddrinfo(ai);
		return IDS_EIO;
	}
	/* read-write: triage writes its state and audit trail */
	if (central_log_open(c->db, CENTRAL_LOG_RDWR, CENTRAL_LOG_SYNC_FULL,
	    &web_db, dberr, sizeof(dberr)) != 0) {
		snprintf(err, errlen, "%s", dberr);
		free(cert);
		free(key);
		freeaddrinfo(ai);
		return IDS_EIO;
	}
	/* the triage tables (a log the collector has not opened since) */
	if (clog_triage_schema(web_db) != 0) {
		snprintf(err, errlen, "%s: triage tables: %s", c->db,
		    clog_triage_errmsg());
		central_log_close(web_db);
		free(cert);
		free(key);
		return IDS_EIO;
	}
	web_chartjs = web_slurp(c->chartjs, &web_chartjs_len);
	if (web_chartjs == NULL)
		fprintf(stderr, "icsentry-web: %s: %s: the charts are off "
		    "(apt-get install libjs-chart.js)\n", c->chartjs,
		    strerror(errno));
	/* signals to this thread only, the server's threads block them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_PRIORITIES, "SECURE256:+SECURE128:-VERS-ALL:"
	    "+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_NOTIFY_COMPLETED, web_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)200,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL) {
		snprintf(err, errlen, "cannot serve HTTPS on %s (port in use, "
		    "or a bad certificate or key)", c->listen);
		central_log_close(web_db);
		free(cert);
		free(key);
		return IDS_EIO;
	}
	pthread_create(&th, NULL, web_sampler, NULL);
	fprintf(stderr, "icsentry-web: serving https://%s/ from %s\n",
	    c->listen, c->db);
	sigwait(&set, &sig);
	atomic_store(&web_stopping, true);
	fprintf(stderr, "icsentry-web: stopping (signal %d)\n", sig);
	MHD_stop_daemon(d);
	pthread_join(th, NULL);
	central_log_close(web_db);
	OPENSSL_cleanse(key, strlen(key));
	free(cert);
	free(key);
	free(web_chartjs);
	return 0;
}
