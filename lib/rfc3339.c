/* rfc3339.c - capture times as RFC 3339 text, and back (strict, and lenient for what people write). */
#include "lib/rfc3339.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *
rfc3339_format(uint64_t ts_us, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_us / 1000000u);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(ts_us % 1000000u));
	return buf;
}

void
rfc3339_format_signed(int64_t us, char *buf, size_t len)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "(bad time)");
		return;
	}
	/* the modulos only tell the compiler the field widths */
	snprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000000u);
}

/* "2024-05-13T06:00:00.080514Z" (fraction optional) -> microseconds. */
int
rfc3339_parse(const char *s, uint64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, k;
	unsigned long us = 0;
	time_t t;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		&n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		for (k = 0, s++; *s >= '0' && *s <= '9'; s++, k++)
			if (k < 6)
				us = us * 10 + (unsigned long)(*s - '0');
		for (; k < 6; k++)
			us *= 10;
	}
	if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t < 0)
		return -1;
	*out = (uint64_t)t * 1000000u + us;
	return 0;
}

/*
 * The parser for what people and other tools write: a fraction of any
 * length (cut to microseconds) and a Z or +hh:mm / -hh:mm offset.
 */
int
rfc3339_parse_any(const char *text, int64_t *us)
{
	struct tm tm;
	int y, mo, d, h, mi, s, n = 0, oh, om;
	int64_t frac = 0, scale = 100000, off = 0;
	const char *p;
	time_t t;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
		&n) != 6 ||
	    n != 19)
		return -1;
	p = text + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
	    p[6] == '\0' && oh < 24 && om < 60)
		off = (*p == '+' ? 1 : -1) * ((int64_t)oh * 3600 + om * 60);
	else
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	*us = ((int64_t)t - off) * 1000000 + frac;
	return 0;
}
