/* rfc3339.c - capture times as RFC 3339 text, and back. */
#include "lib/rfc3339.h"

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
