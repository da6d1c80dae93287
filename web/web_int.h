/*
 * web_int.h - what the pieces of the console server share (private to
 * web/web*.c): sessions, the request state, the shared globals and the
 * helpers one piece calls in another.
 *
 * Layered one way: web.c (helpers, responses, sessions and the login
 * rate limit, evidence paths) is the base; web_alerts.c (alerts, one
 * alert and its chain, verify) and web_agents.c (agents, assets, stats,
 * incidents) sit on it, and web_server.c (server-sent events, login,
 * triage, evidence, routing, web_run) on all of them.  This header does
 * not include web/web.h, so the pieces form no cycle.
 */

#ifndef ICSENTRY_WEB_WEB_INT_H
#define ICSENTRY_WEB_WEB_INT_H

#include <cJSON.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "broker/central_log.h"
#include "broker/clog_triage.h"
#include "web/users.h"

struct web_config;

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

struct req {
	char	*body;
	size_t	 len;
	bool	 too_big;
};

/* Filters the SQL cannot do: free text, CIDR. */
struct post_filter {
	const char	*state;		/* triage state (SQL, clog_triage.h) */
	const char	*text;		/* case-insensitive substring of raw */
	bool		 cidr;
	int		 family;
	unsigned char	 net[16];
	int		 bits;
};


/* web/web.c */
extern const struct web_config *web_cfg;
extern struct central_log *web_db;
extern pthread_mutex_t web_db_lock;
extern atomic_bool web_stopping;
extern char *web_chartjs;
extern size_t web_chartjs_len;
bool	web_token_eq(const char *a, const char *b);
void	web_client_addr(struct MHD_Connection *c, char *out, size_t len);
const char *web_arg(struct MHD_Connection *c, const char *name);
void	web_headers(struct MHD_Response *r, const char *type, bool nocache);
enum MHD_Result	web_send_buf(struct MHD_Connection *c, unsigned status, const char *type,
    const void *data, size_t len, enum MHD_ResponseMemoryMode mode,
    const char *cookie);
enum MHD_Result	web_send_json(struct MHD_Connection *c, unsigned status, cJSON *j,
    const char *cookie);
enum MHD_Result	web_send_error(struct MHD_Connection *c, unsigned status, const char *msg);
bool	web_session_get(struct MHD_Connection *c, struct session *out);
int	web_session_new(const char *user, int role, struct session *out);
void	web_session_end(const char *sid);
bool	web_session_alive(const char *sid);
int	web_rate_wait(const char *addr);
void	web_rate_fail(const char *addr);
void	web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe);
bool	web_evidence_path(const char *site, const char *agent, long long seq,
    char *out, size_t len);
char *web_slurp(const char *path, size_t *len);
/* web/web_alerts.c */
void	web_add_triage(cJSON *o, const struct clog_triage_info *t);
cJSON *web_row_json(const struct central_log_row *r);
bool	web_parse_filter(struct MHD_Connection *c, struct central_log_filter *f,
    struct post_filter *pf, const char **why);
enum MHD_Result	web_api_alerts(struct MHD_Connection *c);
enum MHD_Result	web_api_alert(struct MHD_Connection *c);
enum MHD_Result	web_api_verify(struct MHD_Connection *c);
/* web/web_agents.c */
void *web_sampler(void *unused);
enum MHD_Result	web_api_agents(struct MHD_Connection *c);
enum MHD_Result	web_api_assets(struct MHD_Connection *c);
enum MHD_Result	web_api_stats(struct MHD_Connection *c);
enum MHD_Result	web_api_incidents(struct MHD_Connection *c);
int	web_user_cb(void *ctx, const char *name, int role);

#endif /* ICSENTRY_WEB_WEB_INT_H */
