/* rfc3339.c - capture times as RFC 3339 text. */
#include "lib/rfc3339.h"

#include <stdio.h>
#include <time.h>

const char *
rfc3339_format(uint64_t ts_us, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_us / 1000000u);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000u));
	return buf;
}
