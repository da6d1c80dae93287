/*
 * metrics_http.h - a Prometheus /metrics endpoint (libmicrohttpd, its own
 * thread).  On each GET /metrics the render callback fills a struct prom
 * on that thread: it must only read what is safe to read concurrently
 * (a snapshot under a lock, or atomics).  Other paths answer 404.
 */
#ifndef ICSENTRY_LIB_METRICS_HTTP_H
#define ICSENTRY_LIB_METRICS_HTTP_H

#include <stddef.h>

struct prom;
struct metrics_http;

typedef void (*metrics_render_fn)(void *arg, struct prom *out);

/*
 * Listen on addr ("127.0.0.1:9187", "[::1]:9187", ":9187" = every
 * address).  NULL with err filled when addr is malformed or the port
 * cannot be bound.
 */
struct metrics_http *metrics_http_start(const char *addr,
    metrics_render_fn fn, void *arg, char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
unsigned metrics_http_port(const struct metrics_http *m);

void metrics_http_stop(struct metrics_http *m);

/* Parse "host:port" into a socket address; 0 or -1. */
struct sockaddr_storage;
int metrics_parse_addr(const char *addr, struct sockaddr_storage *ss,
    size_t *sslen);

#endif
