/*
 * prom.h - Prometheus text exposition format 0.0.4, built into a growing
 * buffer: one HELP and TYPE line per family, then its samples, label
 * values escaped (backslash, double quote, newline) as the format says.
 */
#ifndef ICSENTRY_LIB_PROM_H
#define ICSENTRY_LIB_PROM_H

#include <stddef.h>
#include <stdint.h>

struct prom {
	char	*buf;
	size_t	 len, cap;
	int	 oom;		/* an allocation failed: the text is cut */
};

/* "# HELP name help\n# TYPE name type\n" (type: counter, gauge). */
void prom_family(struct prom *p, const char *name, const char *type,
    const char *help);

/*
 * One sample: name{k1="v1",...} value.  labels is NULL or a NULL-ended
 * list of key, value pairs; a NULL value is written as "".
 */
void prom_u64(struct prom *p, const char *name, const char *const *labels,
    uint64_t v);
void prom_dbl(struct prom *p, const char *name, const char *const *labels,
    double v);

/* Append a label value with \\, \" and \n escaped. */
void prom_escape(struct prom *p, const char *v);

void prom_free(struct prom *p);

#endif
