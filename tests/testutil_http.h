/*
 * testutil_http.h - a plain HTTP/1.0 GET for the tests, and a real
 * Prometheus server (Debian's /usr/bin/prometheus) on a loopback port
 * scraping given targets every second, with its query API.
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_HTTP_H
#define ICSENTRY_TESTS_TESTUTIL_HTTP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * GET http://127.0.0.1:port/path; the status code (or -1) and the body
 * (malloc'd, NUL-terminated) in *body when body is not NULL.
 */
int th_get(int port, const char *path, char **body);

#define TH_PROMETHEUS	"/usr/bin/prometheus"

struct th_prom {
	pid_t	pid;
	int	port;
	char	dir[256];
};

/*
 * Start prometheus in a new temporary dir scraping each "job=host:port"
 * of targets (NULL-ended) every second; waits for /-/ready.  0 or -1.
 */
int th_prom_start(struct th_prom *p, const char *const *targets);

/*
 * Poll instant query q (PromQL) until it returns at least one sample
 * and, when want is not NULL, its first sample equals *want; the value
 * in *out.  0, or -1 after timeout_ms (*out: the last value, or NaN).
 */
int th_prom_query(const struct th_prom *p, const char *q, const double *want,
    int timeout_ms, double *out);

void th_prom_stop(struct th_prom *p);

#endif
