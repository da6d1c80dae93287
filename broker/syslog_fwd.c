/*
 * syslog_fwd.c - stored alerts to syslog: RFC 5424 over UDP, TCP, TLS,
 * body JSON or CEF (see syslog_fwd.h).
 */
#include "broker/syslog_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/cfg.h"
#include "lib/rfc3339.h"
#include "lib/version.h"

static const struct cfg_key syslog_keys[] = {
	{ "target", CFG_STR, NULL, 0, 0,
	    "forward stored alerts to syslog: udp://HOST:PORT, tcp://HOST:PORT "
	    "(octet-counting) or tls://HOST:PORT (empty: off)" },
	{ "format", CFG_STR, "json", 0, 0,
	    "message body: json (the alert) or cef (ArcSight CEF)" },
	{ "facility", CFG_INT, "13", 0, 23,
	    "syslog facility (13: log audit, 16..23: local0..local7)" },
	{ "app_name", CFG_STR, "icsentry", 0, 0, "RFC 5424 APP-NAME" },
	{ "hostname", CFG_STR, NULL, 0, 0,
	    "RFC 5424 HOSTNAME (empty: this host's name)" },
	{ "queue_max", CFG_INT, "10000", 1, 10000000,
	    "alerts held while the receiver is down; beyond it the oldest "
	    "is dropped (counted)" },
	{ "ca_file", CFG_STR, NULL, 0, 0,
	    "tls://: CA certificate (PEM) the receiver's certificate must "
	    "chain to (empty: the system store)" },
	{ "cert_file", CFG_STR, NULL, 0, 0, "tls://: client certificate (PEM)" },
	{ "key_file", CFG_STR, NULL, 0, 0, "tls://: client private key (PEM)" },
	{ "verify", CFG_BOOL, "true", 0, 0,
	    "tls://: verify the receiver's certificate and name" },
	{ NULL, 0, NULL, 0, 0, NULL }
};

const struct cfg_schema syslog_fwd_schema = { "syslog", syslog_keys };

enum transport { T_UDP, T_TCP, T_TLS };

struct syslog_fwd {
	struct syslog_fwd_opts	 o;
	char			*target, *app;
	char			 host[256], port[16], me[256];
	enum transport		 t;
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	char			**q;		/* ring of formatted messages */
	size_t			 qcap, qhead, qlen;
	int			 inflight;	/* 1: the sender holds one */
	int			 said;		/* last state logged: 1 up, -1 down */
	bool			 stop;
	struct syslog_fwd_counters n;
	/* sender thread only */
	int			 fd;
	SSL_CTX			*ctx;
	SSL			*ssl;
};

/* --- formatting ------------------------------------------------------ */

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The severity of an alert as a syslog severity (RFC 5424 6.2.1). */
static int
sys_sev(const char *s)
{
	if (s == NULL)
		return 6;
	if (strcmp(s, "critical") == 0)
		return 2;
	if (strcmp(s, "high") == 0)
		return 3;
	if (strcmp(s, "medium") == 0)
		return 4;
	if (strcmp(s, "low") == 0)
		return 5;
	return 6;
}

static int
cef_sev(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "critical") == 0)
		return 10;
	if (strcmp(s, "high") == 0)
		return 8;
	if (strcmp(s, "medium") == 0)
		return 5;
	if (strcmp(s, "low") == 0)
		return 3;
	return 1;
}

/* CEF header field: escape \ and |. */
static void
cef_hdr(FILE *fp, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '|')
			fputc('\\', fp);
		if (*v == '\n' || *v == '\r')
			fputc(' ', fp);
		else
			fputc(*v, fp);
	}
}

/* CEF extension: " key=value", value with \ and = escaped, \n as \n. */
static void
cef_ext(FILE *fp, const char *k, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	fprintf(fp, " %s=", k);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '=')
			fputc('\\', fp);
		if (*v == '\n')
			fputs("\\n", fp);
		else if (*v == '\r')
			fputs("\\r", fp);
		else
			fputc(*v, fp);
	}
}

static void
cef_num(FILE *fp, const char *k, const cJSON *v)
{
	char b[32];

	if (cJSON_IsNumber(v)) {
		snprintf(b, sizeof(b), "%.0f", v->valuedouble);
		cef_ext(fp, k, b);
	} else if (cJSON_IsString(v))
		cef_ext(fp, k, v->valuestring);
}

static void
cef_label(FILE *fp, const char *k, const char *label, const char *v)
{
	char lk[32];

	if (v == NULL || v[0] == '\0')
		return;
	snprintf(lk, sizeof(lk), "%sLabel", k);
	cef_ext(fp, lk, label);
	cef_ext(fp, k, v);
}

char *
syslog_cef(const char *json, size_t len)
{
	cJSON *a = cJSON_ParseWithLength(json, len), *src, *dst, *v;
	const char *rule, *det, *sev;
	char *buf = NULL, b[64];
	size_t blen = 0;
	uint64_t us;
	FILE *fp;

	if (!cJSON_IsObject(a) || (fp = open_memstream(&buf, &blen)) == NULL) {
		cJSON_Delete(a);
		return NULL;
	}
	det = jstr(a, "detector");
	sev = jstr(a, "severity");
	v = cJSON_GetObjectItemCaseSensitive(a, "rule");
	rule = cJSON_IsString(v) ? v->valuestring : NULL;
	if (cJSON_IsNumber(v)) {
		snprintf(b, sizeof(b), "%.0f", v->valuedouble);
		rule = b;
	}
	fputs("CEF:0|icsentry|icsentry|", fp);
	cef_hdr(fp, ICSENTRY_VERSION);
	fputc('|', fp);
	cef_hdr(fp, rule != NULL ? rule : det != NULL ? det : "alert");
	fputc('|', fp);
	cef_hdr(fp, jstr(a, "title") != NULL ? jstr(a, "title") : det);
	fprintf(fp, "|%d|", cef_sev(sev));
	/* rt: the capture time, ms since 1970 */
	if (jstr(a, "ts") != NULL && rfc3339_parse(jstr(a, "ts"), &us) == 0)
		fprintf(fp, "rt=%" PRIu64, us / 1000);
	else
		fputs("rt=0", fp);
	src = cJSON_GetObjectItemCaseSensitive(a, "src");
	dst = cJSON_GetObjectItemCaseSensitive(a, "dst");
	cef_ext(fp, "src", jstr(src, "ip"));
	cef_num(fp, "spt", cJSON_GetObjectItemCaseSensitive(src, "port"));
	cef_ext(fp, "smac", jstr(src, "mac"));
	cef_ext(fp, "dst", jstr(dst, "ip"));
	cef_num(fp, "dpt", cJSON_GetObjectItemCaseSensitive(dst, "port"));
	cef_ext(fp, "dmac", jstr(dst, "mac"));
	cef_ext(fp, "proto", jstr(a, "transport"));
	cef_ext(fp, "app", jstr(a, "proto"));
	cef_ext(fp, "dvchost", jstr(a, "agent"));
	cef_ext(fp, "cat", det);
	cef_ext(fp, "msg", jstr(a, "title"));
	cef_label(fp, "cs1", "site", jstr(a, "site"));
	cef_label(fp, "cs2", "technique", jstr(a, "technique"));
	cef_label(fp, "cs3", "techniqueName", jstr(a, "technique_name"));
	cef_label(fp, "cs4", "tactic", jstr(a, "tactic"));
	cef_label(fp, "cs5", "communityId", jstr(a, "community_id"));
	cef_label(fp, "cs6", "severity", sev);
	v = cJSON_GetObjectItemCaseSensitive(a, "seq");
	if (cJSON_IsNumber(v)) {
		snprintf(b, sizeof(b), "%.0f", v->valuedouble);
		cef_label(fp, "cn1", "seq", b);
		if (jstr(a, "site") != NULL && jstr(a, "agent") != NULL) {
			fputs(" externalId=", fp);
			fprintf(fp, "%s/%s/%s", jstr(a, "site"),
			    jstr(a, "agent"), b);
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(a, "flow_id");
	if (cJSON_IsNumber(v)) {
		snprintf(b, sizeof(b), "%.0f", v->valuedouble);
		cef_label(fp, "cn2", "flowId", b);
	} else if (cJSON_IsString(v))
		cef_label(fp, "cn2", "flowId", v->valuestring);
	fclose(fp);
	cJSON_Delete(a);
	return buf;
}

/* SD-PARAM value: escape ", \ and ]. */
static void
sd_val(FILE *fp, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			fputc('\\', fp);
		fputc(*v, fp);
	}
}

/* PRINTUSASCII without space, at most n chars; "-" when empty. */
static void
header_field(FILE *fp, const char *v, size_t n)
{
	size_t i = 0;

	for (; v != NULL && v[i] != '\0' && i < n; i++)
		fputc(v[i] > 32 && v[i] < 127 ? v[i] : '_', fp);
	if (i == 0)
		fputc('-', fp);
}

char *
syslog_fwd_format(const struct syslog_fwd_opts *o, const char *host,
    const char *json, size_t len)
{
	cJSON *a = cJSON_ParseWithLength(json, len), *v;
	char *buf = NULL, *cef = NULL;
	size_t blen = 0;
	FILE *fp;

	if (!cJSON_IsObject(a))
		goto bad;
	if (o->format == SYSLOG_CEF && (cef = syslog_cef(json, len)) == NULL)
		goto bad;
	if ((fp = open_memstream(&buf, &blen)) == NULL)
		goto bad;
	fprintf(fp, "<%d>1 ", o->facility * 8 + sys_sev(jstr(a, "severity")));
	header_field(fp, jstr(a, "ts"), 48);
	fputc(' ', fp);
	header_field(fp, host, 255);
	fputc(' ', fp);
	header_field(fp, o->app_name != NULL ? o->app_name : "icsentry", 48);
	fputs(" - ", fp);
	header_field(fp, o->format == SYSLOG_CEF ? "cef" : "alert", 32);
	/* 32473: the example enterprise number RFC 5612 reserves */
	fputs(" [icsentry@32473 site=\"", fp);
	sd_val(fp, jstr(a, "site"));
	fputs("\" agent=\"", fp);
	sd_val(fp, jstr(a, "agent"));
	fputs("\" seq=\"", fp);
	v = cJSON_GetObjectItemCaseSensitive(a, "seq");
	if (cJSON_IsNumber(v))
		fprintf(fp, "%.0f", v->valuedouble);
	fputs("\"] ", fp);
	if (cef != NULL)
		fputs(cef, fp);
	else
		fwrite(json, 1, len, fp);
	fclose(fp);
	free(cef);
	cJSON_Delete(a);
	return buf;
bad:
	free(cef);
	cJSON_Delete(a);
	return NULL;
}

/* --- configuration --------------------------------------------------- */

static int
parse_target(const char *t, enum transport *tr, char *host, size_t hl,
    char *port, size_t pl)
{
	const char *rest, *colon, *h;
	size_t n;

	if (strncmp(t, "udp://", 6) == 0)
		*tr = T_UDP;
	else if (strncmp(t, "tcp://", 6) == 0)
		*tr = T_TCP;
	else if (strncmp(t, "tls://", 6) == 0)
		*tr = T_TLS;
	else
		return -1;
	rest = t + 6;
	colon = strrchr(rest, ':');
	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= pl ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	h = rest;
	n = (size_t)(colon - rest);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n == 0 || n >= hl)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, pl, "%s", colon + 1);
	return 0;
}

int
syslog_fwd_opts_from_cfg(const struct cfg *c, struct syslog_fwd_opts *o,
    char *err, size_t errlen)
{
	enum transport t;
	char h[256], p[16];
	const char *f;

	memset(o, 0, sizeof(*o));
	o->target = cfg_str(c, "syslog", "target");
	f = cfg_str(c, "syslog", "format");
	if (strcmp(f, "json") == 0)
		o->format = SYSLOG_JSON;
	else if (strcmp(f, "cef") == 0)
		o->format = SYSLOG_CEF;
	else {
		snprintf(err, errlen, "%s: [syslog] format '%s' is neither "
		    "json nor cef", cfg_path(c), f);
		return -1;
	}
	if (o->target[0] != '\0' && parse_target(o->target, &t, h, sizeof(h),
	    p, sizeof(p)) != 0) {
		snprintf(err, errlen, "%s: [syslog] target '%s' is not "
		    "udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT",
		    cfg_path(c), o->target);
		return -1;
	}
	o->facility = (int)cfg_int(c, "syslog", "facility");
	o->app_name = cfg_str(c, "syslog", "app_name");
	o->hostname = cfg_str(c, "syslog", "hostname");
	o->queue_max = (size_t)cfg_int(c, "syslog", "queue_max");
	o->ca_file = cfg_str(c, "syslog", "ca_file");
	o->cert_file = cfg_str(c, "syslog", "cert_file");
	o->key_file = cfg_str(c, "syslog", "key_file");
	o->verify = cfg_bool(c, "syslog", "verify");
	return 0;
}

/* --- the sender ------------------------------------------------------ */

static void
disconnect_(struct syslog_fwd *f)
{
	if (f->ssl != NULL) {
		SSL_shutdown(f->ssl);
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static bool
is_ip(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* connect() that gives up after ms (an unreachable host blocks minutes). */
static int
connect_timeout(int fd, const struct sockaddr *sa, socklen_t sl, int ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, sl) != 0) {
		if (errno != EINPROGRESS || poll(&p, 1, ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0)
			return -1;
	}
	return fcntl(fd, F_SETFL, fl);
}

static int
connect_(struct syslog_fwd *f)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { 5, 0 };
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = f->t == T_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(f->host, f->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, 5000) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	f->fd = fd;
	if (f->t != T_TLS)
		return 0;
	f->ssl = SSL_new(f->ctx);
	if (f->ssl == NULL)
		goto tls_bad;
	SSL_set_fd(f->ssl, fd);
	if (is_ip(f->host)) {
		/* an address is checked against the certificate's IP SANs */
		if (f->o.verify && X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(f->ssl), f->host) != 1)
			goto tls_bad;
	} else {
		SSL_set_tlsext_host_name(f->ssl, f->host);
		if (f->o.verify)
			SSL_set1_host(f->ssl, f->host);
	}
	if (SSL_connect(f->ssl) != 1)
		goto tls_bad;
	return 0;
tls_bad:
	ERR_clear_error();
	disconnect_(f);
	return -1;
}

/*
 * A TLS stream with something to read: the peer's close_notify or a TCP
 * EOF (closed), or only records that are no data, like TLS 1.3's session
 * tickets sent after the handshake (open).  Read without blocking: a
 * blocking SSL_read went on to wait for data that never comes, for the
 * socket's 5 s timeout, then called the stream closed, so every alert
 * cost a 5 s wait and a new handshake (check_syslog test_tls_json got 4
 * of 16 alerts in 20 s, under ASan).
 */
static bool
tls_closed(struct syslog_fwd *f)
{
	int fl = fcntl(f->fd, F_GETFL), r, e;
	char b[256];

	if (fl < 0 || fcntl(f->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return true;
	r = SSL_read(f->ssl, b, sizeof(b));
	e = SSL_get_error(f->ssl, r);
	ERR_clear_error();
	(void)fcntl(f->fd, F_SETFL, fl);
	return r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
}

/* A stream the peer closed reads EOF: find out before writing into it. */
static bool
peer_closed(struct syslog_fwd *f)
{
	struct pollfd p = { f->fd, POLLIN, 0 };
	char b[256];

	if (f->t == T_UDP)
		return false;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR))
		return true;
	if (f->ssl != NULL)
		return tls_closed(f);
	return recv(f->fd, b, sizeof(b), MSG_DONTWAIT) <= 0;
}

static int
write_all(struct syslog_fwd *f, const char *p, size_t n)
{
	ssize_t w;

	if (f->t == T_UDP)
		return send(f->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
	while (n > 0) {
		if (f->ssl != NULL) {
			int r = SSL_write(f->ssl, p, n > 1 << 30 ? 1 << 30 :
			    (int)n);

			if (r <= 0)
				return -1;
			w = r;
		} else {
			w = send(f->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_one(struct syslog_fwd *f, const char *msg)
{
	size_t n = strlen(msg);
	char hdr[24];
	int hl;

	if (f->fd >= 0 && peer_closed(f))
		disconnect_(f);
	if (f->fd < 0) {
		if (connect_(f) != 0) {
			if (f->said != -1)
				fprintf(stderr, "icsentry-collector: syslog: "
				    "cannot reach %s; retrying (up to %zu alerts "
				    "wait)\n", f->o.target, f->qcap);
			f->said = -1;
			return -1;
		}
		if (f->said != 1)
			fprintf(stderr, "icsentry-collector: syslog: connected "
			    "to %s\n", f->o.target);
		f->said = 1;
		pthread_mutex_lock(&f->mu);
		f->n.connected = 1;
		f->n.reconnects++;
		pthread_mutex_unlock(&f->mu);
	}
	if (f->t == T_UDP)
		return write_all(f, msg, n);
	/* RFC 6587 3.4.1 octet counting */
	hl = snprintf(hdr, sizeof(hdr), "%zu ", n);
	if (write_all(f, hdr, (size_t)hl) != 0 || write_all(f, msg, n) != 0)
		return -1;
	return 0;
}

static void *
sender(void *arg)
{
	struct syslog_fwd *f = arg;
	struct timespec until;
	int backoff_ms = 250;
	char *msg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->qlen == 0 && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)	/* syslog_fwd_free gave the queue its time */
			break;
		/* out of the queue while we send it: offer() may fill it */
		msg = f->q[f->qhead];
		f->q[f->qhead] = NULL;
		f->qhead = (f->qhead + 1) % f->qcap;
		f->qlen--;
		f->inflight = 1;
		pthread_mutex_unlock(&f->mu);
		if (send_one(f, msg) == 0) {
			pthread_mutex_lock(&f->mu);
			f->inflight = 0;
			f->n.sent++;
			free(msg);
			backoff_ms = 250;
			continue;
		}
		disconnect_(f);
		pthread_mutex_lock(&f->mu);
		f->inflight = 0;
		f->n.errors++;
		f->n.connected = 0;
		/* back at the head; when the queue filled meanwhile, it is
		 * the oldest and the one to drop */
		if (f->qlen < f->qcap) {
			f->qhead = (f->qhead + f->qcap - 1) % f->qcap;
			f->q[f->qhead] = msg;
			f->qlen++;
		} else {
			free(msg);
			f->n.dropped++;
		}
		if (f->stop)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)backoff_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		/* new alerts do not cut the pause short, a stop does */
		while (!f->stop && pthread_cond_timedwait(&f->cv, &f->mu,
		    &until) != ETIMEDOUT)
			;
		backoff_ms = backoff_ms >= 2500 ? 5000 : backoff_ms * 2;
	}
	pthread_mutex_unlock(&f->mu);
	disconnect_(f);
	return NULL;
}

struct syslog_fwd *
syslog_fwd_new(const struct syslog_fwd_opts *o, char *err, size_t errlen)
{
	struct syslog_fwd *f = calloc(1, sizeof(*f));

	if (f == NULL)
		goto oom;
	f->fd = -1;
	f->o = *o;
	if (parse_target(o->target, &f->t, f->host, sizeof(f->host), f->port,
	    sizeof(f->port)) != 0) {
		snprintf(err, errlen, "syslog target '%s' is not "
		    "udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT",
		    o->target);
		free(f);
		return NULL;
	}
	f->app = strdup(o->app_name != NULL && o->app_name[0] != '\0' ?
	    o->app_name : "icsentry");
	f->o.app_name = f->app;
	f->target = strdup(o->target);
	f->o.target = f->target;
	if (o->hostname != NULL && o->hostname[0] != '\0')
		snprintf(f->me, sizeof(f->me), "%s", o->hostname);
	else if (gethostname(f->me, sizeof(f->me)) != 0)
		snprintf(f->me, sizeof(f->me), "-");
	f->me[sizeof(f->me) - 1] = '\0';
	f->qcap = o->queue_max > 0 ? o->queue_max : 10000;
	f->q = calloc(f->qcap, sizeof(*f->q));
	if (f->app == NULL || f->target == NULL || f->q == NULL)
		goto oom;
	if (f->t == T_TLS) {
		f->ctx = SSL_CTX_new(TLS_client_method());
		if (f->ctx == NULL)
			goto tls;
		SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION);
		if (o->ca_file != NULL && o->ca_file[0] != '\0') {
			if (SSL_CTX_load_verify_locations(f->ctx, o->ca_file,
			    NULL) != 1)
				goto tls;
		} else
			SSL_CTX_set_default_verify_paths(f->ctx);
		if (o->cert_file != NULL && o->cert_file[0] != '\0' &&
		    (SSL_CTX_use_certificate_chain_file(f->ctx,
		    o->cert_file) != 1 || SSL_CTX_use_PrivateKey_file(f->ctx,
		    o->key_file != NULL && o->key_file[0] != '\0' ?
		    o->key_file : o->cert_file, SSL_FILETYPE_PEM) != 1))
			goto tls;
		SSL_CTX_set_verify(f->ctx, o->verify ? SSL_VERIFY_PEER :
		    SSL_VERIFY_NONE, NULL);
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, sender, f) != 0) {
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
		goto oom;
	}
	return f;
tls:
	snprintf(err, errlen, "syslog TLS set-up failed (ca_file, cert_file, "
	    "key_file?): %s", ERR_reason_error_string(ERR_get_error()) != NULL ?
	    ERR_reason_error_string(ERR_get_error()) : "unknown error");
	SSL_CTX_free(f->ctx);
	free(f->q);
	free(f->app);
	free(f->target);
	free(f);
	return NULL;
oom:
	snprintf(err, errlen, "out of memory");
	if (f != NULL) {
		free(f->q);
		free(f->app);
		free(f->target);
		SSL_CTX_free(f->ctx);
	}
	free(f);
	return NULL;
}

void
syslog_fwd_offer(struct syslog_fwd *f, const char *json, size_t len)
{
	char *msg;
	size_t tail;

	if (f == NULL)
		return;
	msg = syslog_fwd_format(&f->o, f->me, json, len);
	pthread_mutex_lock(&f->mu);
	f->n.offered++;
	if (msg == NULL) {
		f->n.dropped++;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	if (f->qlen == f->qcap) {
		/* full: the oldest goes */
		free(f->q[f->qhead]);
		f->q[f->qhead] = NULL;
		f->qhead = (f->qhead + 1) % f->qcap;
		f->qlen--;
		f->n.dropped++;
	}
	tail = (f->qhead + f->qlen) % f->qcap;
	f->q[tail] = msg;
	f->qlen++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
syslog_fwd_counters(struct syslog_fwd *f, struct syslog_fwd_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	*c = f->n;
	c->queued = f->qlen + (size_t)f->inflight;
	pthread_mutex_unlock(&f->mu);
}

void
syslog_fwd_free(struct syslog_fwd *f, int timeout_ms)
{
	int waited = 0;
	size_t i;

	if (f == NULL)
		return;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		i = f->qlen + (size_t)f->inflight;
		pthread_mutex_unlock(&f->mu);
		if (i == 0 || waited >= timeout_ms)
			break;
		nanosleep(&(struct timespec){ 0, 20000000L }, NULL);
		waited += 20;
	}
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	if (f->qlen > 0 || f->n.dropped > 0)
		fprintf(stderr, "icsentry-collector: syslog: %zu stored alert(s) "
		    "not forwarded at exit, %llu dropped while %s was away "
		    "(all are in the central log)\n", f->qlen,
		    (unsigned long long)f->n.dropped, f->o.target);
	for (i = 0; i < f->qcap; i++)
		free(f->q[i]);
	free(f->q);
	free(f->app);
	free(f->target);
	SSL_CTX_free(f->ctx);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}
