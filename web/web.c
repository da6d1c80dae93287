/*
 * web.c - icsentry-web's HTTPS server: sessions, CSRF, login rate limit,
 * security headers, static files, and the JSON API over the central log
 * (web.h).  libmicrohttpd runs one thread per connection, so a server-sent
 * event stream may block in its reader; the central log handle is shared
 * under db_lock (central_log.h: one thread at a time).
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

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; "
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const struct web_config *web_cfg;
struct central_log *web_db;
pthread_mutex_t web_db_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sess_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[NSESS];
static struct rate rates[NRATE];
atomic_bool web_stopping;
char *web_chartjs;
size_t web_chartjs_len;

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

bool
web_token_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strlen(a) == TOKEN_HEX &&
	    strlen(b) == TOKEN_HEX && CRYPTO_memcmp(a, b, TOKEN_HEX) == 0;
}

void
web_client_addr(struct MHD_Connection *c, char *out, size_t len)
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

const char *
web_arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* ---- responses ---------------------------------------------------------- */

void
web_headers(struct MHD_Response *r, const char *type, bool nocache)
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

enum MHD_Result
web_send_buf(struct MHD_Connection *c, unsigned status, const char *type,
    const void *data, size_t len, enum MHD_ResponseMemoryMode mode,
    const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, mode);
	if (r == NULL)
		return MHD_NO;
	web_headers(r, type, true);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send j (freed) as the JSON body. */
enum MHD_Result
web_send_json(struct MHD_Connection *c, unsigned status, cJSON *j,
    const char *cookie)
{
	char *txt = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
	enum MHD_Result ret;

	cJSON_Delete(j);
	if (txt == NULL)
		return web_send_buf(c, 500, "application/json", "{\"error\":"
		    "\"out of memory\"}", 26, MHD_RESPMEM_PERSISTENT, NULL);
	ret = web_send_buf(c, status, "application/json", txt, strlen(txt),
	    MHD_RESPMEM_MUST_FREE, cookie);
	return ret;
}

enum MHD_Result
web_send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "error", msg);
	return web_send_json(c, status, j, NULL);
}

/* ---- sessions and login rate limit ------------------------------------- */

/* The session of the request's cookie, copied; false when none is valid. */
bool
web_session_get(struct MHD_Connection *c, struct session *out)
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

		if (!s->used || !web_token_eq(s->sid, sid))
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

int
web_session_new(const char *user, int role, struct session *out)
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

void
web_session_end(const char *sid)
{
	int i;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++)
		if (sessions[i].used && web_token_eq(sessions[i].sid, sid))
			memset(&sessions[i], 0, sizeof(sessions[i]));
	pthread_mutex_unlock(&sess_lock);
}

/*
 * Is the session of an event stream still there?  A stream is activity
 * (a console left showing the live feed stays logged in) up to the
 * session's absolute limit; logging out ends it.
 */
bool
web_session_alive(const char *sid)
{
	time_t now = now_s();
	bool ok = false;
	int i;

	pthread_mutex_lock(&sess_lock);
	for (i = 0; i < NSESS; i++)
		if (sessions[i].used && web_token_eq(sessions[i].sid, sid) &&
		    now - sessions[i].created <= SESS_MAX_S) {
			sessions[i].seen = now;
			ok = true;
		}
	pthread_mutex_unlock(&sess_lock);
	return ok;
}

/* Seconds until addr may try again; 0 when it may now. */
int
web_rate_wait(const char *addr)
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

void
web_rate_fail(const char *addr)
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

void
web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (q != NULL) {
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

/* ---- evidence ----------------------------------------------------------- */

/*
 * The evidence pcap of (site, agent, seq): --evidence-dir/SITE/AGENT/SEQ.pcap
 * (the agent's [evidence] directory sink writes SEQ.pcap).  False when
 * there is no such directory or file, or a name is not a plain name.
 */
bool
web_evidence_path(const char *site, const char *agent, long long seq,
    char *out, size_t len)
{
	if (web_cfg->evidence_dir == NULL || !web_name_ok(site) ||
	    !web_name_ok(agent) || seq < 0)
		return false;
	if ((size_t)snprintf(out, len, "%s/%s/%s/%lld.pcap", web_cfg->evidence_dir,
	    site, agent, seq) >= len)
		return false;
	return access(out, R_OK) == 0;
}

/* ---- start and stop ----------------------------------------------------- */

char *
web_slurp(const char *path, size_t *len)
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
