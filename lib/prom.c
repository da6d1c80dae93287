/*
 * prom.c - Prometheus text exposition format (see prom.h).
 */
#include "lib/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
put(struct prom *p, const char *s, size_t n)
{
	char *nb;
	size_t ncap;

	if (p->oom)
		return;
	if (p->len + n + 1 > p->cap) {
		ncap = p->cap == 0 ? 4096 : p->cap;
		while (ncap < p->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(p->buf, ncap)) == NULL) {
			p->oom = 1;
			return;
		}
		p->buf = nb;
		p->cap = ncap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void
puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* HELP text escapes backslash and newline only. */
static void
help_escape(struct prom *p, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			put(p, "\\\\", 2);
		else if (*s == '\n')
			put(p, "\\n", 2);
		else
			put(p, s, 1);
	}
}

void
prom_escape(struct prom *p, const char *v)
{
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\')
			put(p, "\\\\", 2);
		else if (*v == '"')
			put(p, "\\\"", 2);
		else if (*v == '\n')
			put(p, "\\n", 2);
		else
			put(p, v, 1);
	}
}

void
prom_family(struct prom *p, const char *name, const char *type,
    const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	help_escape(p, help);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

static void
head(struct prom *p, const char *name, const char *const *labels)
{
	size_t i;

	puts_(p, name);
	if (labels != NULL && labels[0] != NULL) {
		put(p, "{", 1);
		for (i = 0; labels[i] != NULL; i += 2) {
			if (i > 0)
				put(p, ",", 1);
			puts_(p, labels[i]);
			put(p, "=\"", 2);
			prom_escape(p, labels[i + 1]);
			put(p, "\"", 1);
		}
		put(p, "}", 1);
	}
	put(p, " ", 1);
}

void
prom_u64(struct prom *p, const char *name, const char *const *labels,
    uint64_t v)
{
	char b[32];

	head(p, name, labels);
	snprintf(b, sizeof(b), "%" PRIu64 "\n", v);
	puts_(p, b);
}

void
prom_dbl(struct prom *p, const char *name, const char *const *labels,
    double v)
{
	char b[48];

	head(p, name, labels);
	if (isnan(v))
		snprintf(b, sizeof(b), "NaN\n");
	else if (isinf(v))
		snprintf(b, sizeof(b), "%s\n", v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(b, sizeof(b), "%.17g\n", v);
	puts_(p, b);
}

void
prom_free(struct prom *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}
