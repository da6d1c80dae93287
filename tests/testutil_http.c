/*
 * testutil_http.c - HTTP GET and a real Prometheus for the tests.
 */
#include "tests/testutil_http.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "tests/testutil_broker.h"

int
th_get(int port, const char *path, char **body)
{
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	char req[1024], *buf = NULL, *nb, *p;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, code = -1;

	if (body != NULL)
		*body = NULL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "\r\n", path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 4097 > cap) {
			cap = cap == 0 ? 16384 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return -1;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/%*s %d", &code) != 1)
		code = -1;
	p = strstr(buf, "\r\n\r\n");
	if (body != NULL && p != NULL)
		*body = strdup(p + 4);
	free(buf);
	return code;
}

int
th_prom_start(struct th_prom *p, const char *const *targets)
{
	char conf[320], data[320], listen[64], log[320], cf[400], df[400];
	char *argv[] = { (char *)TH_PROMETHEUS, cf, df, listen, NULL };
	FILE *f;
	size_t i;
	int k;

	memset(p, 0, sizeof(*p));
	if (access(TH_PROMETHEUS, X_OK) != 0) {
		fprintf(stderr, "%s missing: make deps installs prometheus\n",
		    TH_PROMETHEUS);
		return -1;
	}
	if (tb_tmpdir(p->dir, sizeof(p->dir), "prom") != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", p->dir);
	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", p->dir);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	    "scrape_configs:\n");
	for (i = 0; targets[i] != NULL; i++) {
		const char *eq = strchr(targets[i], '=');

		if (eq == NULL)
			break;
		fprintf(f, "  - job_name: '%.*s'\n    static_configs:\n"
		    "      - targets: ['%s']\n", (int)(eq - targets[i]),
		    targets[i], eq + 1);
	}
	fclose(f);
	p->port = tb_free_port();
	snprintf(cf, sizeof(cf), "--config.file=%s", conf);
	snprintf(df, sizeof(df), "--storage.tsdb.path=%s", data);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d",
	    p->port);
	p->pid = tb_spawn(argv, log);
	if (p->pid <= 0)
		return -1;
	for (k = 0; k < 300; k++) {
		if (th_get(p->port, "/-/ready", NULL) == 200)
			return 0;
		tb_sleep_ms(100);
	}
	fprintf(stderr, "prometheus not ready; see %s\n", log);
	return -1;
}

/* Percent-encode q for a query string. */
static void
urlenc(const char *q, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *q != '\0' && o + 4 < outlen; q++) {
		unsigned char c = (unsigned char)*q;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

int
th_prom_query(const struct th_prom *p, const char *q, const double *want,
    int timeout_ms, double *out)
{
	char path[2048], enc[1800], *body;
	int64_t end = tb_now_ms() + timeout_ms;
	cJSON *j, *r, *v;

	*out = NAN;
	urlenc(q, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
	do {
		if (th_get(p->port, path, &body) == 200 && body != NULL) {
			j = cJSON_Parse(body);
			r = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"),
			    "result");
			v = cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0),
			    "value");
			if (cJSON_IsString(cJSON_GetArrayItem(v, 1)))
				*out = strtod(cJSON_GetArrayItem(v, 1)
				    ->valuestring, NULL);
			cJSON_Delete(j);
		}
		free(body);
		if (!isnan(*out) && (want == NULL || *out == *want))
			return 0;
		tb_sleep_ms(250);
	} while (tb_now_ms() < end);
	return -1;
}

void
th_prom_stop(struct th_prom *p)
{
	if (p->pid > 0)
		tb_stop_pid(p->pid, SIGTERM, 10000, NULL);
	p->pid = 0;
	if (p->dir[0] != '\0' && getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(p->dir);
	p->dir[0] = '\0';
}
