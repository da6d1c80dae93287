/*
 * web.c - icsentry-web's HTTPS server: sessions, CSRF, login rate limit,
 * security headers, static files, and the JSON API over the central log
 * (web.h).  libmicrohttpd runs one thread per connection, so a server-sent
 * event stream may block in its reader; the central log handle is shared
 * under db_lock (central_log.h: one thread at a time).
 */
#include "web/web.h"

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

#define MAX_BODY	(64 * 1024)
#define NSESS		256
#define SESS_IDLE_S	(30 * 60)
#define SESS_MAX_S	(12 * 3600)
#define TOKEN_HEX	64
#define NRATE		256
#define RATE_FAILS	5	/* failed logins per address ... */
#define RATE_WINDOW_S	60	/* ... per this many seconds */
#define PAGE_MAX	1000
#define SSE_PING_S	15

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; "
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct session {
	bool	used;
	char	sid[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1];
	char	user[WEB_NAME_MAX];
	int	role;
	time_t	created, seen;
};

struct rate {
	char	addr[INET6_ADDRSTRLEN];
	time_t	start;
	int	fails;
};

static const struct web_config *cfg;
static struct central_log *db;
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sess_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[NSESS];
static struct rate rates[NRATE];
static atomic_bool stopping;
static char *chartjs;
static size_t chartjs_len;

static char	*slurp(const char *path, size_t *len);
static bool	evidence_path(const char *site, const char *agent, long long seq,
	    char *out, size_t len);

/* ---- small helpers ------------------------------------------------------ */

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
token(char out[TOKEN_HEX + 1])
{
	static const char d[] = "0123456789abcdef";
	unsigned char b[TOKEN_HEX / 2];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return IDS_EIO;
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[TOKEN_HEX] = '\0';
	return 0;
}

static bool
token_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strlen(a) == TOKEN_HEX &&
	    strlen(b) == TOKEN_HEX && CRYPTO_memcmp(a, b, TOKEN_HEX) == 0;
}

static void
client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(out, len, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, out, (socklen_t)len);
}

static const char *
arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* ---- responses ---------------------------------------------------------- */

static void
headers(struct MHD_Response *r, const char *type, bool nocache)
{
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Strict-Transport-Security",
	    "max-age=31536000");
	if (nocache)
		MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result
send_buf(struct MHD_Connection *c, unsigned status, const char *type,
    const void *data, size_t len, enum MHD_ResponseMemoryMode mode,
    const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, mode);
	if (r == NULL)
		return MHD_NO;
	headers(r, type, true);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send j (freed) as the JSON body. */
static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, cJSON *j,
    const char *cookie)
{
	char *txt = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
	enum MHD_Result ret;

	cJSON_Delete(j);
	if (txt == NULL)
		return send_buf(c, 500, "application/json", "{\"error\":"
		    "\"out of memory\"}", 26, MHD_RESPMEM_PERSISTENT, NULL);
	ret = send_buf(c, status, "application/json", txt, strlen(txt),
	    MHD_RESPMEM_MUST_FREE, cookie);
	return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "error", msg);
	return send_json(c, status, j, NULL);
}

/* ---- sessions and login rate limit ------------------------------------- */

/* The session of the request's cookie, copied; false when none is valid. */
static bool
session_get(struct MHD_Connection *c, struct session *out)
{
	const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sid");
	time_t now = now_s();
	bool ok = false;
	int i;

	if (sid == NULL)
		return false;
	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++) {
		struct session *s = &sessions[i];

		if (!s->used || !token_eq(s->sid, sid))
			continue;
		if (now - s->seen > SESS_IDLE_S || now - s->created > SESS_MAX_S) {
			memset(s, 0, sizeof(*s));
			break;
		}
		s->seen = now;
		*out = *s;
		ok = true;
		break;
	}
	pthread_mutex_unlock(&sess_lock);
	return ok;
}

static int
session_new(const char *user, int role, struct session *out)
{
	time_t now = now_s();
	int i, victim = 0;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++) {
		if (!sessions[i].used ||
		    now - sessions[i].seen > SESS_IDLE_S) {
			victim = i;
			break;
		}
		if (sessions[i].seen < sessions[victim].seen)
			victim = i;	/* all in use: the least recent goes */
	}
	memset(&sessions[victim], 0, sizeof(sessions[victim]));
	if (token(sessions[victim].sid) != 0 ||
	    token(sessions[victim].csrf) != 0) {
		pthread_mutex_unlock(&sess_lock);
		return IDS_EIO;
	}
	sessions[victim].used = true;
	snprintf(sessions[victim].user, sizeof(sessions[victim].user), "%s",
	    user);
	sessions[victim].role = role;
	sessions[victim].created = sessions[victim].seen = now;
	*out = sessions[victim];
	pthread_mutex_unlock(&sess_lock);
	return 0;
}

static void
session_end(const char *sid)
{
	int i;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++)
		if (sessions[i].used && token_eq(sessions[i].sid, sid))
			memset(&sessions[i], 0, sizeof(sessions[i]));
	pthread_mutex_unlock(&sess_lock);
}

/*
 * Is the session of an event stream still there?  A stream is activity
 * (a console left showing the live feed stays logged in) up to the
 * session's absolute limit; logging out ends it.
 */
static bool
session_alive(const char *sid)
{
	time_t now = now_s();
	bool ok = false;
	int i;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++)
		if (sessions[i].used && token_eq(sessions[i].sid, sid) &&
		    now - sessions[i].created <= SESS_MAX_S) {
			sessions[i].seen = now;
			ok = true;
		}
	pthread_mutex_unlock(&sess_lock);
	return ok;
}

/* Seconds until addr may try again; 0 when it may now. */
static int
rate_wait(const char *addr)
{
	time_t now = now_s();
	int i, wait = 0;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NRATE; i++)
		if (strcmp(rates[i].addr, addr) == 0 &&
		    now - rates[i].start < RATE_WINDOW_S &&
		    rates[i].fails >= RATE_FAILS)
			wait = (int)(RATE_WINDOW_S - (now - rates[i].start));
	pthread_mutex_unlock(&sess_lock);
	return wait;
}

static void
rate_fail(const char *addr)
{
	time_t now = now_s();
	int i, slot = -1, oldest = 0;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NRATE; i++) {
		if (strcmp(rates[i].addr, addr) == 0) {
			slot = i;
			break;
		}
		if (rates[i].start < rates[oldest].start)
			oldest = i;
	}
	if (slot < 0) {
		slot = oldest;
		snprintf(rates[slot].addr, sizeof(rates[slot].addr), "%s", addr);
		rates[slot].fails = 0;
		rates[slot].start = now;
	}
	if (now - rates[slot].start >= RATE_WINDOW_S) {
		rates[slot].fails = 0;
		rates[slot].start = now;
	}
	rates[slot].fails++;
	pthread_mutex_unlock(&sess_lock);
}

/* ---- request state ------------------------------------------------------ */

struct req {
	char	*body;
	size_t	 len;
	bool	 too_big;
};

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (q != NULL) {
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

/* ---- alerts ------------------------------------------------------------- */

/* One stored alert as JSON: the log's columns and the alert itself. */
static cJSON *
row_json(const struct central_log_row *r);

static void
add_triage(cJSON *o, const struct clog_triage_info *t)
{
	cJSON *x = cJSON_AddObjectToObject(o, "triage");

	cJSON_AddStringToObject(x, "state", t->state);
	cJSON_AddStringToObject(x, "user", t->user);
	cJSON_AddStringToObject(x, "at", t->at);
	cJSON_AddNumberToObject(x, "incident", (double)t->incident);
}

static cJSON *
row_json(const struct central_log_row *r)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char cur[48];

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddNumberToObject(o, "ts_us", (double)r->ts_us);
	snprintf(cur, sizeof(cur), "%" PRId64 ":%" PRId64, r->ts_us, r->id);
	cJSON_AddStringToObject(o, "cursor", cur);
	cJSON_AddStringToObject(o, "received_at",
	    r->received_at != NULL ? r->received_at : "");
	a = cJSON_ParseWithLength(r->raw, r->raw_len);
	if (a == NULL) {
		/* not JSON (verify says so): the columns alone */
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "site", r->site ? r->site : "");
		cJSON_AddStringToObject(a, "agent", r->agent ? r->agent : "");
		cJSON_AddNumberToObject(a, "seq", (double)r->seq);
		cJSON_AddStringToObject(a, "ts", r->ts ? r->ts : "");
		cJSON_AddStringToObject(a, "severity",
		    r->severity ? r->severity : "");
		cJSON_AddStringToObject(a, "detector",
		    r->detector ? r->detector : "");
		cJSON_AddStringToObject(a, "title", r->title ? r->title : "");
	}
	cJSON_AddItemToObject(o, "alert", a);
	return o;
}

/* Filters the SQL cannot do: free text, CIDR. */
struct post_filter {
	const char	*state;		/* triage state (SQL, clog_triage.h) */
	const char	*text;		/* case-insensitive substring of raw */
	bool		 cidr;
	int		 family;
	unsigned char	 net[16];
	int		 bits;
};

static bool
cidr_has(const struct post_filter *p, const char *ip)
{
	unsigned char a[16];
	int full, rest;

	if (ip == NULL || inet_pton(p->family, ip, a) != 1)
		return false;
	full = p->bits / 8;
	rest = p->bits % 8;
	if (memcmp(a, p->net, (size_t)full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ p->net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static bool
post_match(const struct post_filter *p, const struct central_log_row *r)
{
	if (p->cidr && !cidr_has(p, r->src_ip) && !cidr_has(p, r->dst_ip))
		return false;
	if (p->text != NULL) {
		char *raw = strndup(r->raw, r->raw_len);
		bool hit = raw != NULL && strcasestr(raw, p->text) != NULL;

		free(raw);
		if (!hit)
			return false;
	}
	return true;
}

struct batch {
	cJSON	*rows;		/* array, in time order */
	int64_t	 n;
	const struct post_filter *pf;
	int64_t	 cur_ts, cur_id;	/* keyset: only rows before this */
	bool	 have_cur;
	int64_t	 before_cursor;	/* rows fetched that lie before the cursor */
	int64_t	 oldest_ts, oldest_id;
};

static int
batch_cb(void *ctx, const struct central_log_row *r,
    const struct clog_triage_info *t)
{
	struct batch *b = ctx;
	cJSON *o;

	b->n++;
	if (b->have_cur && !(r->ts_us < b->cur_ts ||
	    (r->ts_us == b->cur_ts && r->id < b->cur_id)))
		return 0;
	if (b->before_cursor++ == 0) {
		b->oldest_ts = r->ts_us;
		b->oldest_id = r->id;
	}
	if (!post_match(b->pf, r))
		return 0;
	o = row_json(r);
	add_triage(o, t);
	cJSON_AddItemToArray(b->rows, o);
	return 0;
}

/* Parse the filter arguments; false with a message on a bad one. */
static bool
parse_filter(struct MHD_Connection *c, struct central_log_filter *f,
    struct post_filter *pf, const char **why)
{
	const char *v;

	central_log_filter_init(f);
	memset(pf, 0, sizeof(*pf));
	if ((v = arg(c, "min_severity")) != NULL) {
		f->min_sev = central_log_severity_rank(v);
		if (f->min_sev < 0) {
			*why = "min_severity: info, low, medium, high or critical";
			return false;
		}
	}
	f->site = arg(c, "site");
	f->agent = arg(c, "agent");
	f->detector = arg(c, "detector");
	f->technique = arg(c, "technique");
	f->proto = arg(c, "proto");
	if ((v = arg(c, "since")) != NULL &&
	    central_log_parse_time(v, &f->since_us) != 0) {
		*why = "since: an RFC 3339 time";
		return false;
	}
	if ((v = arg(c, "until")) != NULL &&
	    central_log_parse_time(v, &f->until_us) != 0) {
		*why = "until: an RFC 3339 time";
		return false;
	}
	pf->text = arg(c, "q");
	pf->state = arg(c, "state");
	if (pf->state != NULL && strcmp(pf->state, "new") != 0 &&
	    strcmp(pf->state, "acked") != 0 && strcmp(pf->state, "closed") != 0 &&
	    strcmp(pf->state, "open") != 0) {
		*why = "state: new, acked, closed or open";
		return false;
	}
	if ((v = arg(c, "host")) != NULL) {
		const char *slash = strchr(v, '/');
		char ip[64];

		if (slash == NULL) {
			f->ip = v;
		} else {
			snprintf(ip, sizeof(ip), "%.*s", (int)(slash - v), v);
			pf->family = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
			pf->bits = atoi(slash + 1);
			if (inet_pton(pf->family, ip, pf->net) != 1 ||
			    pf->bits < 0 ||
			    pf->bits > (pf->family == AF_INET ? 32 : 128)) {
				*why = "host: an address or CIDR";
				return false;
			}
			pf->cidr = true;
		}
	}
	return true;
}

/*
 * Append to list (newest first) up to want rows matching f and pf that lie
 * before the cursor (when have_cur).  Each step reads one index range of
 * the log: the latest L rows up to the cursor's time; the free-text and
 * CIDR filters, which SQL does not do, only make it take more steps.
 * Returns the number appended, or a negative IDS_E*.  Call with db_lock.
 */
static int64_t
fetch(const struct central_log_filter *f, const struct post_filter *pf,
    bool have_cur, int64_t cur_ts, int64_t cur_id, int64_t want, cJSON *list)
{
	struct batch b;
	int64_t L = want + 2, got = 0;
	int rc, i, n;

	memset(&b, 0, sizeof(b));
	b.pf = pf;
	b.have_cur = have_cur;
	b.cur_ts = cur_ts;
	b.cur_id = cur_id;
	for (;;) {
		struct central_log_filter g = *f;

		if (b.have_cur && b.cur_ts < g.until_us)
			g.until_us = b.cur_ts + 1;
		g.limit = L;
		b.rows = cJSON_CreateArray();
		b.n = 0;
		b.before_cursor = 0;
		rc = clog_triage_query(db, &g, pf->state, batch_cb, &b);
		if (rc != 0) {
			cJSON_Delete(b.rows);
			return rc < 0 ? rc : IDS_EIO;
		}
		n = cJSON_GetArraySize(b.rows);
		for (i = n - 1; i >= 0 && got < want; i--, got++)
			cJSON_AddItemToArray(list,
			    cJSON_DetachItemFromArray(b.rows, i));
		cJSON_Delete(b.rows);
		if (got == want || b.n < L)
			return got;	/* full, or the log has nothing older */
		if (b.before_cursor == 0) {
			/* L rows share the cursor's time: read more at once */
			L *= 4;
			continue;
		}
		b.cur_ts = b.oldest_ts;
		b.cur_id = b.oldest_id;
		b.have_cur = true;
		if (L < 100000)
			L *= 2;
	}
}

/*
 * GET /api/alerts: newest first, limit per page, keyset paging: "next" is
 * the cursor "ts_us:id" of the page's last row, given back as "before"
 * for the next page; null when nothing older matches.
 */
static enum MHD_Result
api_alerts(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct post_filter pf;
	const char *why = NULL, *v;
	int64_t limit = 100, cur_ts = 0, cur_id = 0, n, more = 0;
	bool have_cur = false;
	cJSON *out, *list, *last;

	if (!parse_filter(c, &f, &pf, &why))
		return send_error(c, 400, why);
	if ((v = arg(c, "limit")) != NULL) {
		limit = strtoll(v, NULL, 10);
		if (limit < 1 || limit > PAGE_MAX)
			return send_error(c, 400, "limit: 1 to 1000");
	}
	if ((v = arg(c, "before")) != NULL) {
		if (sscanf(v, "%" SCNd64 ":%" SCNd64, &cur_ts, &cur_id) != 2)
			return send_error(c, 400, "before: a cursor ts_us:id");
		have_cur = true;
	}
	out = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(out, "alerts");
	pthread_mutex_lock(&db_lock);
	n = fetch(&f, &pf, have_cur, cur_ts, cur_id, limit, list);
	last = n > 0 ? cJSON_GetArrayItem(list, (int)n - 1) : NULL;
	if (n == limit) {
		/* is there anything older?  one more row tells */
		cJSON *probe = cJSON_CreateArray();

		more = fetch(&f, &pf, true, (int64_t)cJSON_GetObjectItem(last,
		    "ts_us")->valuedouble, (int64_t)cJSON_GetObjectItem(last,
		    "id")->valuedouble, 1, probe);
		cJSON_Delete(probe);
	}
	pthread_mutex_unlock(&db_lock);
	if (n < 0 || more < 0) {
		cJSON_Delete(out);
		return send_error(c, 500, "central log query failed");
	}
	if (more > 0)
		cJSON_AddStringToObject(out, "next", cJSON_GetStringValue(
		    cJSON_GetObjectItem(last, "cursor")));
	else
		cJSON_AddNullToObject(out, "next");
	cJSON_AddNumberToObject(out, "count", (double)n);
	return send_json(c, 200, out, NULL);
}

/* ---- one alert and its chain ------------------------------------------- */

struct find {
	int64_t	 id;
	cJSON	*row;
	char	 site[128], agent[128];
	int64_t	 seq;
};

static int
find_cb(void *ctx, const struct central_log_row *r)
{
	struct find *f = ctx;

	if (r->id != f->id)
		return 0;
	f->row = row_json(r);
	snprintf(f->site, sizeof(f->site), "%s", r->site);
	snprintf(f->agent, sizeof(f->agent), "%s", r->agent);
	f->seq = r->seq;
	return 1;
}

struct chain_check {
	int64_t	 seq;
	cJSON	*issues;
	int64_t	 chain_alerts, chain_problems;
};

static int
issue_cb(void *ctx, const struct central_log_issue *i)
{
	struct chain_check *k = ctx;
	cJSON *o;

	if (k->seq >= 0 && !(i->seq <= k->seq && k->seq <= i->seq_to) &&
	    !(i->kind == CENTRAL_LOG_P_LINK && i->seq == k->seq + 1))
		return 0;
	if (cJSON_GetArraySize(k->issues) >= 200)
		return 0;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "site", i->site);
	cJSON_AddStringToObject(o, "agent", i->agent);
	cJSON_AddNumberToObject(o, "seq", (double)i->seq);
	cJSON_AddNumberToObject(o, "seq_to", (double)i->seq_to);
	cJSON_AddStringToObject(o, "problem",
	    central_log_problem_name(i->kind));
	cJSON_AddStringToObject(o, "detail", i->detail ? i->detail : "");
	cJSON_AddItemToArray(k->issues, o);
	return 0;
}

static int
chain_cb(void *ctx, const struct central_log_chain *ch)
{
	struct chain_check *k = ctx;

	k->chain_alerts += ch->alerts;
	k->chain_problems += ch->problems;
	return 0;
}

static int
audit_cb(void *ctx, const struct clog_audit_row *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddStringToObject(o, "ts", a->at);
	cJSON_AddStringToObject(o, "operator", a->user);
	cJSON_AddStringToObject(o, "kind", a->kind);
	cJSON_AddStringToObject(o, "target", a->target);
	cJSON_AddStringToObject(o, "action", a->action);
	cJSON_AddStringToObject(o, "note", a->text ? a->text : "");
	cJSON_AddStringToObject(o, "hash", a->hash);
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

/* GET /api/alert?id=ID&ts_us=TS: the alert, and its chain's verify. */
static enum MHD_Result
api_alert(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct central_log_verify_ops ops;
	struct chain_check k;
	struct find fd;
	const char *id = arg(c, "id"), *ts = arg(c, "ts_us");
	int64_t problems = 0;
	cJSON *out, *ch, *audit = NULL;
	int rc;

	if (id == NULL || ts == NULL)
		return send_error(c, 400, "id and ts_us required");
	memset(&fd, 0, sizeof(fd));
	fd.id = strtoll(id, NULL, 10);
	central_log_filter_init(&f);
	f.since_us = strtoll(ts, NULL, 10);
	f.until_us = f.since_us + 1;
	f.after_id = fd.id - 1;
	pthread_mutex_lock(&db_lock);
	rc = central_log_query(db, &f, find_cb, &fd);
	if ((rc == 0 || rc == 1) && fd.row != NULL) {
		memset(&k, 0, sizeof(k));
		k.seq = fd.seq;
		k.issues = cJSON_CreateArray();
		ops.ctx = &k;
		ops.issue = issue_cb;
		ops.chain_done = chain_cb;
		rc = central_log_verify(db, fd.site, fd.agent, &ops, &problems);
	}
	if (fd.row != NULL) {
		struct clog_triage_info t;
		char target[300];

		audit = cJSON_CreateArray();
		memset(&t, 0, sizeof(t));
		snprintf(t.state, sizeof(t.state), "unknown");
		clog_triage_get(db, fd.site, fd.agent, fd.seq, &t);
		add_triage(fd.row, &t);
		snprintf(target, sizeof(target), "%s/%s/%" PRId64, fd.site,
		    fd.agent, fd.seq);
		clog_triage_audit(db, "alert", target, 200, audit_cb, audit);
	}
	pthread_mutex_unlock(&db_lock);
	if (fd.row == NULL)
		return send_error(c, 404, "no such alert");
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "audit", audit);
	cJSON_AddItemToObject(out, "row", fd.row);
	{
		char path[1024];
		void *pc = NULL;
		size_t plen = 0;
		bool have;

		pthread_mutex_lock(&db_lock);
		have = clog_evidence_get(db, fd.site, fd.agent, fd.seq, &pc,
		    &plen) == 0;
		pthread_mutex_unlock(&db_lock);
		free(pc);
		cJSON_AddBoolToObject(out, "evidence_available", have ||
		    evidence_path(fd.site, fd.agent, (long long)fd.seq, path,
		    sizeof(path)));
	}
	ch = cJSON_AddObjectToObject(out, "chain");
	if (rc != 0) {
		cJSON_Delete(k.issues);
		cJSON_AddStringToObject(ch, "status", "verify failed");
	} else {
		cJSON_AddStringToObject(ch, "status",
		    cJSON_GetArraySize(k.issues) == 0 ? "intact" : "broken");
		cJSON_AddNumberToObject(ch, "chain_alerts",
		    (double)k.chain_alerts);
		cJSON_AddNumberToObject(ch, "chain_problems",
		    (double)k.chain_problems);
		cJSON_AddItemToObject(ch, "issues", k.issues);
	}
	return send_json(c, 200, out, NULL);
}

static int
audit_problem_cb(void *ctx, const char *line)
{
	if (cJSON_GetArraySize(ctx) < 200)
		cJSON_AddItemToArray(ctx, cJSON_CreateString(line));
	return 0;
}

/* POST /api/verify: every alert chain, and the triage audit trail. */
static enum MHD_Result
api_verify(struct MHD_Connection *c)
{
	struct central_log_verify_ops ops;
	struct chain_check k;
	int64_t problems = 0, audit_entries = 0, audit_problems = 0;
	cJSON *out, *audit, *o;
	int rc;

	memset(&k, 0, sizeof(k));
	k.seq = -1;
	k.issues = cJSON_CreateArray();
	ops.ctx = &k;
	ops.issue = issue_cb;
	ops.chain_done = chain_cb;
	audit = cJSON_CreateArray();
	pthread_mutex_lock(&db_lock);
	rc = central_log_verify(db, NULL, NULL, &ops, &problems);
	if (rc == 0)
		rc = clog_triage_verify(db, audit_problem_cb, audit,
		    &audit_entries, &audit_problems);
	pthread_mutex_unlock(&db_lock);
	if (rc != 0) {
		cJSON_Delete(k.issues);
		cJSON_Delete(audit);
		return send_error(c, 500, "verify failed");
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "status", problems == 0 &&
	    audit_problems == 0 ? "ok" : "problems");
	o = cJSON_AddObjectToObject(out, "audit");
	cJSON_AddNumberToObject(o, "entries", (double)audit_entries);
	cJSON_AddNumberToObject(o, "problems", (double)audit_problems);
	cJSON_AddItemToObject(o, "issues", audit);
	cJSON_AddNumberToObject(out, "alerts", (double)k.chain_alerts);
	cJSON_AddNumberToObject(out, "problems", (double)problems);
	cJSON_AddItemToObject(out, "issues", k.issues);
	return send_json(c, 200, out, NULL);
}

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
static void *
sampler(void *unused)
{
	int i;

	while (!atomic_load(&stopping)) {
		int64_t now = central_log_now_us();

		pthread_mutex_lock(&db_lock);
		central_log_agents(db, sample_cb, &now);
		pthread_mutex_unlock(&db_lock);
		for (i = 0; i < 100 && !atomic_load(&stopping); i++)
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

static enum MHD_Result
api_agents(struct MHD_Connection *c)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(out, "agents");
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = central_log_agents(db, agent_cb, list);
	pthread_mutex_unlock(&db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return send_error(c, 500, "central log read failed");
	}
	return send_json(c, 200, out, NULL);
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

static enum MHD_Result
api_assets(struct MHD_Connection *c)
{
	cJSON *out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(out, "assets");
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = central_log_assets(db, asset_cb, list);
	pthread_mutex_unlock(&db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return send_error(c, 500, "central log read failed");
	}
	return send_json(c, 200, out, NULL);
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
static enum MHD_Result
api_stats(struct MHD_Connection *c)
{
	struct central_log_filter f;
	struct latest l = { 0 };
	const char *v = arg(c, "hours");
	int64_t hours = v != NULL ? strtoll(v, NULL, 10) : 24, end, start, h;
	cJSON *out, *buckets;
	int rc = 0;

	if (hours < 1 || hours > 24 * 31)
		return send_error(c, 400, "hours: 1 to 744");
	central_log_filter_init(&f);
	f.limit = 1;
	out = cJSON_CreateObject();
	pthread_mutex_lock(&db_lock);
	rc = central_log_query(db, &f, latest_cb, &l);
	end = (l.ts_us / 3600000000LL + 1) * 3600000000LL;
	start = end - hours * 3600000000LL;
	buckets = cJSON_AddArrayToObject(out, "hours");
	for (h = 0; rc == 0 && h < hours; h++) {
		cJSON *b = cJSON_CreateObject();
		char t[CENTRAL_LOG_TIME_LEN];

		central_log_format_time(start + h * 3600000000LL, t);
		cJSON_AddStringToObject(b, "start", t);
		rc = central_log_stats(db, CENTRAL_LOG_BY_SEVERITY,
		    start + h * 3600000000LL, start + (h + 1) * 3600000000LL,
		    count_cb, cJSON_AddObjectToObject(b, "by_severity"));
		cJSON_AddItemToArray(buckets, b);
	}
	if (rc == 0)
		rc = central_log_stats(db, CENTRAL_LOG_BY_DETECTOR, start, end,
		    count_cb, cJSON_AddObjectToObject(out, "by_detector"));
	if (rc == 0)
		rc = central_log_stats(db, CENTRAL_LOG_BY_AGENT, start, end,
		    count_cb, cJSON_AddObjectToObject(out, "by_agent"));
	pthread_mutex_unlock(&db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return send_error(c, 500, "central log read failed");
	}
	return send_json(c, 200, out, NULL);
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

static enum MHD_Result
api_incidents(struct MHD_Connection *c)
{
	struct clog_incident_filter f;
	struct inc_ctx x;
	cJSON *out, *inc;
	int rc;

	clog_incident_filter_init(&f);
	f.limit = 200;
	out = cJSON_CreateObject();
	x.list = cJSON_AddArrayToObject(out, "incidents");
	pthread_mutex_lock(&db_lock);
	rc = clog_incidents(db, &f, inc_cb, &x);
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
		rc = central_log_query(db, &g, timeline_cb, inc);
	}
	pthread_mutex_unlock(&db_lock);
	if (rc != 0) {
		cJSON_Delete(out);
		return send_error(c, 500, "central log read failed");
	}
	return send_json(c, 200, out, NULL);
}

static int
user_cb(void *ctx, const char *name, int role)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", name);
	cJSON_AddStringToObject(o, "role", web_role_name(role));
	cJSON_AddItemToArray(ctx, o);
	return 0;
}

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
	cJSON *j = row_json(r);
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
		if (atomic_load(&stopping) || !session_alive(s->sid))
			return MHD_CONTENT_READER_END_OF_STREAM;
		g.after_id = s->last_id;
		if (s->own != NULL) {
			central_log_follow(s->own, &g, sse_cb, s, &last);
		} else {
			pthread_mutex_lock(&db_lock);
			central_log_follow(db, &g, sse_cb, s, &last);
			pthread_mutex_unlock(&db_lock);
		}
		s->last_id = last;
		if (s->len > 0)
			break;
		if (waited >= SSE_PING_S * 1000) {
			s->len = (size_t)snprintf(s->buf, s->cap, ": ping\n\n");
			break;
		}
		usleep((useconds_t)cfg->poll_ms * 1000);
		waited += cfg->poll_ms;
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
		return send_error(c, 500, "out of memory");
	}
	s->cap = 4096;
	memcpy(s->sid, se->sid, sizeof(s->sid));
	if (!parse_filter(c, &s->f, &pf, &why) || pf.cidr || pf.text ||
	    pf.state) {
		sse_free(s);
		return send_error(c, 400, why ? why :
		    "the stream takes no q, state or CIDR filter");
	}
	/* the strings point into the connection: copy what is kept */
	s->f.site = s->f.agent = s->f.detector = s->f.technique = NULL;
	s->f.proto = s->f.ip = NULL;
	if ((v = arg(c, "site")) != NULL) {
		snprintf(s->site, sizeof(s->site), "%s", v);
		s->f.site = s->site;
	}
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	if (v == NULL)
		v = arg(c, "after");
	if (v != NULL) {
		s->last_id = strtoll(v, NULL, 10);
	} else {
		struct central_log_filter f;
		int64_t seen = 0;

		central_log_filter_init(&f);
		f.limit = 1;
		s->last_id = 0;
		pthread_mutex_lock(&db_lock);
		central_log_follow(db, &f, last_cb, &s->last_id, &seen);
		pthread_mutex_unlock(&db_lock);
	}
	/*
	 * PostgreSQL's follow remembers what it showed (ids commit out of
	 * order): one connection per stream, so streams do not share that.
	 */
	if (central_log_is_url(cfg->db)) {
		struct central_log_filter none;
		int64_t start = s->last_id;
		char e[256];

		if (central_log_open(cfg->db, CENTRAL_LOG_RDONLY,
		    CENTRAL_LOG_SYNC_NORMAL, &s->own, e, sizeof(e)) != 0) {
			sse_free(s);
			return send_error(c, 503, "central log unavailable");
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
	headers(r, "text/event-stream", true);
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

	client_addr(c, addr, sizeof(addr));
	if ((wait = rate_wait(addr)) > 0) {
		struct MHD_Response *r;
		enum MHD_Result ret;
		static const char msg[] = "{\"error\":\"too many failed logins; "
		    "try again later\"}";

		r = MHD_create_response_from_buffer(sizeof(msg) - 1,
		    (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
		headers(r, "application/json", true);
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
		rate_fail(addr);
		return send_error(c, 401, "bad user or password");
	}
	rc = web_user_check(cfg->users, user, pass, &role);
	if (rc != 0) {
		if (rc > 0) {
			rate_fail(addr);
			fprintf(stderr, "icsentry-web: failed login for \"%s\" "
			    "from %s\n", user, addr);
		}
		cJSON_Delete(j);
		if (rc < 0)
			return send_error(c, 500, "users file unreadable");
		return send_error(c, 401, "bad user or password");
	}
	rc = session_new(user, role, &s);
	cJSON_Delete(j);
	if (rc != 0)
		return send_error(c, 500, "no randomness");
	snprintf(cookie, sizeof(cookie), "sid=%s; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=%d", s.sid, SESS_MAX_S);
	fprintf(stderr, "icsentry-web: %s (%s) logged in from %s\n", s.user,
	    web_role_name(s.role), addr);
	return send_json(c, 200, session_json(&s), cookie);
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
		return send_error(c, 404, "no such endpoint");
	if (!action_ok(action))
		return send_error(c, 404, "no such action");
	if (s->role < WEB_ANALYST)
		return send_error(c, 403, "analyst role required");
	note = req_note(q, &j);
	if (note != NULL && strlen(note) > CLOG_TRIAGE_TEXT_MAX) {
		cJSON_Delete(j);
		return send_error(c, 400, "note too long");
	}
	if (strcmp(action, "note") == 0 && (note == NULL || note[0] == '\0')) {
		cJSON_Delete(j);
		return send_error(c, 400, "a note needs text");
	}
	err[0] = '\0';
	memset(&t, 0, sizeof(t));
	pthread_mutex_lock(&db_lock);
	rc = clog_triage(db, site, agent, seq, action, s->user,
	    note != NULL && note[0] != '\0' ? note : NULL, err, sizeof(err));
	if (rc == 0)
		rc = clog_triage_get(db, site, agent, seq, &t);
	pthread_mutex_unlock(&db_lock);
	cJSON_Delete(j);
	if (rc == IDS_EINVAL)
		return send_error(c, strncmp(err, "no alert", 8) == 0 ? 404 : 400,
		    err[0] ? err : "refused");
	if (rc != 0)
		return send_error(c, 500, err[0] ? err : "triage failed");
	fprintf(stderr, "icsentry-web: %s %s %s/%s/%lld\n", s->user, action,
	    site, agent, seq);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "action", action);
	cJSON_AddStringToObject(out, "operator", s->user);
	add_triage(out, &t);
	return send_json(c, 200, out, NULL);
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
		return send_error(c, 404, "no such endpoint");
	if (!action_ok(action))
		return send_error(c, 404, "no such action");
	if (s->role < WEB_ANALYST)
		return send_error(c, 403, "analyst role required");
	note = req_note(q, &j);
	if (strcmp(action, "note") == 0 && (note == NULL || note[0] == '\0')) {
		cJSON_Delete(j);
		return send_error(c, 400, "a note needs text");
	}
	err[0] = '\0';
	pthread_mutex_lock(&db_lock);
	rc = clog_triage_incident(db, id, action, s->user,
	    note != NULL && note[0] != '\0' ? note : NULL, err, sizeof(err));
	pthread_mutex_unlock(&db_lock);
	cJSON_Delete(j);
	if (rc == IDS_EINVAL)
		return send_error(c, 404, err[0] ? err : "no such incident");
	if (rc != 0)
		return send_error(c, 500, err[0] ? err : "triage failed");
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "action", action);
	cJSON_AddStringToObject(out, "operator", s->user);
	return send_json(c, 200, out, NULL);
}

/* ---- evidence ----------------------------------------------------------- */

/*
 * The evidence pcap of (site, agent, seq): --evidence-dir/SITE/AGENT/SEQ.pcap
 * (the agent's [evidence] directory sink writes SEQ.pcap).  False when
 * there is no such directory or file, or a name is not a plain name.
 */
static bool
evidence_path(const char *site, const char *agent, long long seq,
    char *out, size_t len)
{
	if (cfg->evidence_dir == NULL || !web_name_ok(site) ||
	    !web_name_ok(agent) || seq < 0)
		return false;
	if ((size_t)snprintf(out, len, "%s/%s/%s/%lld.pcap", cfg->evidence_dir,
	    site, agent, seq) >= len)
		return false;
	return access(out, R_OK) == 0;
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
		return send_error(c, 404, "no such endpoint");
	if (!web_name_ok(site) || !web_name_ok(agent) || seq < 0)
		return send_error(c, 404, "no such alert");
	/* the central log's copy (clog_evidence.h), else --evidence-dir */
	{
		void *p = NULL;
		int rc;

		pthread_mutex_lock(&db_lock);
		rc = clog_evidence_get(db, site, agent, seq, &p, &len);
		pthread_mutex_unlock(&db_lock);
		data = rc == 0 ? p : NULL;
		if (rc != 0)
			free(p);
	}
	if (data == NULL && (!evidence_path(site, agent, seq, path,
	    sizeof(path)) || (data = slurp(path, &len)) == NULL))
		return send_error(c, 404, "no evidence pcap stored for this "
		    "alert");
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	headers(r, "application/vnd.tcpdump.pcap", true);
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
		if (chartjs == NULL)
			return send_error(c, 404, "Chart.js not installed "
			    "(libjs-chart.js)");
		return send_buf(c, 200, "text/javascript; charset=utf-8",
		    chartjs, chartjs_len, MHD_RESPMEM_PERSISTENT, NULL);
	}
	for (i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].path, url) == 0)
			return send_buf(c, 200, web_assets[i].type,
			    web_assets[i].data, web_assets[i].len,
			    MHD_RESPMEM_PERSISTENT, NULL);
	return send_error(c, 404, "not found");
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
			return send_error(c, 405, "method not allowed");
		return serve_static(c, url);
	}
	if (q->too_big)
		return send_error(c, 413, "request body too large");
	if (strcmp(url, "/api/login") == 0) {
		if (!post)
			return send_error(c, 405, "POST only");
		return api_login(c, q);
	}
	/* everything else: a session first */
	if (!session_get(c, &s))
		return send_error(c, 401, "login required");
	if (!get && !post)
		return send_error(c, 405, "method not allowed");
	if (post) {
		tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-CSRF-Token");
		if (!token_eq(tok, s.csrf))
			return send_error(c, 403, "CSRF token missing or wrong");
	}
	if (strcmp(url, "/api/session") == 0 && get)
		return send_json(c, 200, session_json(&s), NULL);
	if (strcmp(url, "/api/logout") == 0 && post) {
		session_end(s.sid);
		return send_json(c, 200, cJSON_CreateObject(),
		    "sid=; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=0");
	}
	if (strcmp(url, "/api/alerts") == 0 && get)
		return api_alerts(c);
	if (strcmp(url, "/api/alerts/stream") == 0 && get)
		return api_stream(c, &s);
	if (strcmp(url, "/api/alert") == 0 && get)
		return api_alert(c);
	if (strcmp(url, "/api/agents") == 0 && get)
		return api_agents(c);
	if (strcmp(url, "/api/assets") == 0 && get)
		return api_assets(c);
	if (strcmp(url, "/api/stats") == 0 && get)
		return api_stats(c);
	if (strcmp(url, "/api/incidents") == 0 && get)
		return api_incidents(c);
	if (strcmp(url, "/api/verify") == 0 && post)
		return api_verify(c);
	if (strcmp(url, "/api/users") == 0 && get) {
		cJSON *out, *list;

		if (s.role < WEB_ADMIN)
			return send_error(c, 403, "admin role required");
		out = cJSON_CreateObject();
		list = cJSON_AddArrayToObject(out, "users");
		web_user_list(cfg->users, user_cb, list);
		return send_json(c, 200, out, NULL);
	}
	if (strncmp(url, "/api/alerts/", 12) == 0 && post)
		return api_triage(c, &s, url + 12, q);
	if (strncmp(url, "/api/incidents/", 15) == 0 && post)
		return api_incident_triage(c, &s, url + 15, q);
	if (strncmp(url, "/api/alerts/", 12) == 0 && get)
		return api_evidence(c, url + 12);
	return send_error(c, 404, "no such endpoint");
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

/* ---- start and stop ----------------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
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

	cfg = c;
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
	cert = slurp(c->cert, &len);
	key = slurp(c->key, &len);
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
	    &db, dberr, sizeof(dberr)) != 0) {
		snprintf(err, errlen, "%s", dberr);
		free(cert);
		free(key);
		freeaddrinfo(ai);
		return IDS_EIO;
	}
	/* the triage tables (a log the collector has not opened since) */
	if (clog_triage_schema(db) != 0) {
		snprintf(err, errlen, "%s: triage tables: %s", c->db,
		    clog_triage_errmsg());
		central_log_close(db);
		free(cert);
		free(key);
		return IDS_EIO;
	}
	chartjs = slurp(c->chartjs, &chartjs_len);
	if (chartjs == NULL)
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
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)200,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL) {
		snprintf(err, errlen, "cannot serve HTTPS on %s (port in use, "
		    "or a bad certificate or key)", c->listen);
		central_log_close(db);
		free(cert);
		free(key);
		return IDS_EIO;
	}
	pthread_create(&th, NULL, sampler, NULL);
	fprintf(stderr, "icsentry-web: serving https://%s/ from %s\n",
	    c->listen, c->db);
	sigwait(&set, &sig);
	atomic_store(&stopping, true);
	fprintf(stderr, "icsentry-web: stopping (signal %d)\n", sig);
	MHD_stop_daemon(d);
	pthread_join(th, NULL);
	central_log_close(db);
	OPENSSL_cleanse(key, strlen(key));
	free(cert);
	free(key);
	free(chartjs);
	return 0;
}
