/*
 * metrics_http.c - GET /metrics over libmicrohttpd (see metrics_http.h).
 */
#include "lib/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "lib/prom.h"

struct metrics_http {
	struct MHD_Daemon	*d;
	metrics_render_fn	 fn;
	void			*arg;
	unsigned		 port;
};

#define CT_PROM	"text/plain; version=0.0.4; charset=utf-8"

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct metrics_http *m = cls;
	struct MHD_Response *r;
	struct prom p;
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	memset(&p, 0, sizeof(p));
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics") != 0) {
		static const char nf[] = "not found: try /metrics\n";

		code = MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(sizeof(nf) - 1, (void *)nf,
		    MHD_RESPMEM_PERSISTENT);
	} else {
		m->fn(m->arg, &p);
		if (p.oom) {
			prom_free(&p);
			code = MHD_HTTP_INTERNAL_SERVER_ERROR;
			r = MHD_create_response_from_buffer(0, (void *)"",
			    MHD_RESPMEM_PERSISTENT);
		} else {
			r = MHD_create_response_from_buffer(p.len,
			    p.buf != NULL ? p.buf : (void *)"",
			    p.buf != NULL ? MHD_RESPMEM_MUST_FREE :
			    MHD_RESPMEM_PERSISTENT);
			p.buf = NULL;
			MHD_add_response_header(r, "Content-Type", CT_PROM);
		}
	}
	if (r == NULL) {
		prom_free(&p);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

int
metrics_parse_addr(const char *addr, struct sockaddr_storage *ss,
    size_t *sslen)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL)
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port > 65535)
		return -1;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		*sslen = sizeof(*s6);
		return 0;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (hl == 0 || strcmp(host, "*") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		*sslen = sizeof(*s4);
	}
	return 0;
}

struct metrics_http *
metrics_http_start(const char *addr, metrics_render_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics_http *m;
	const union MHD_DaemonInfo *di;
	size_t sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (metrics_parse_addr(addr, &ss, &sslen) != 0) {
		snprintf(err, errlen, "metrics address '%s' is not HOST:PORT "
		    "(127.0.0.1:9187, [::1]:9187, :9187)", addr);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->fn = fn;
	m->arg = arg;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, m,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_END);
	if (m->d == NULL) {
		snprintf(err, errlen, "metrics: cannot listen on %s", addr);
		free(m);
		return NULL;
	}
	di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	m->port = di != NULL ? di->port : 0;
	return m;
}

unsigned
metrics_http_port(const struct metrics_http *m)
{
	return m->port;
}

void
metrics_http_stop(struct metrics_http *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
