/*
 * log_opts.c - the option values and field output icsentry-log's two
 * parsers share (log_opts.h).
 */
#include "broker/log_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"

int
log_bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs(LOG_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return 2;
}

const char *
log_default_db(const char *dflt)
{
	const char *db_env = getenv("ICSENTRY_DB");

	return db_env != NULL && db_env[0] != '\0' ? db_env : dflt;
}

int
log_parse_count(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || v < 0)
		return -1;
	*out = v;
	return 0;
}

int
log_parse_when(const char *text, int64_t *us)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 } };
	char *end;
	double n;
	size_t i;

	if (strcmp(text, "now") == 0) {
		*us = central_log_now_us();
		return 0;
	}
	if (central_log_parse_time(text, us) == 0)
		return 0;
	if (strlen(text) == 10) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%sT00:00:00Z", text);
		if (central_log_parse_time(buf, us) == 0)
			return 0;
	}
	n = strtod(text, &end);
	if (end == text || !(n >= 0) || !(n < 100.0 * 365 * 86400) ||
	    end[0] == '\0' || end[1] != '\0')
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit) {
			*us = central_log_now_us() -
			    (int64_t)(n * (double)units[i].secs * 1e6);
			return 0;
		}
	return -1;
}

bool
log_state_valid(const char *s)
{
	return strcmp(s, "new") == 0 || strcmp(s, "acked") == 0 ||
	    strcmp(s, "closed") == 0 || strcmp(s, "open") == 0;
}

int
log_opt_time(const char *arg, int64_t *us)
{
	if (log_parse_when(arg, us) != 0)
		return log_bad_usage("bad time '%s'", arg);
	return 0;
}

int
log_opt_severity(const char *arg, int *sev)
{
	int rank = central_log_severity_rank(arg);

	if (rank < 0)
		return log_bad_usage(
		    "unknown severity '%s' (info, low, medium, "
		    "high, critical)",
		    arg);
	*sev = rank;
	return 0;
}

int
log_opt_state(const char *arg, const char **state)
{
	if (!log_state_valid(arg))
		return log_bad_usage("unknown state '%s' (new, acked, open, "
				     "closed)",
		    arg);
	*state = arg;
	return 0;
}

int
log_opt_limit(const char *arg, int64_t *limit)
{
	if (log_parse_count(arg, limit) != 0 || *limit == 0)
		return log_bad_usage("bad --limit '%s'", arg);
	return 0;
}

void
log_put_clean(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

void
log_put_csv(FILE *out, const char *s, bool last)
{
	const char *p;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") != NULL ||
	    (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)) {
		fputc('"', out);
		if (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)
			fputc('\'', out);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}
