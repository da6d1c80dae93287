/* rfc3339.h - capture times as RFC 3339 text (UTC, microseconds) and back. */
#ifndef ICSENTRY_LIB_RFC3339_H
#define ICSENTRY_LIB_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-23T08:15:02.123456Z" for ts_us since the epoch: buf >= 32 bytes. */
const char *rfc3339_format(uint64_t ts_us, char *buf, size_t len);

/*
 * The same text for a signed time (before 1970 too); "(bad time)" when
 * gmtime cannot place it.  The central log's received_at, last_seen and
 * query bounds use it.
 */
void rfc3339_format_signed(int64_t us, char *buf, size_t len);

/*
 * "2024-05-13T06:00:00.080514Z" (fraction optional, UTC only) into
 * microseconds since the epoch.  0, or -1 when s is not such a time.
 */
int rfc3339_parse(const char *s, uint64_t *out);

/*
 * "2026-12-04T18:00:00Z", "...T18:00:00.5+01:00" -> microseconds since the
 * epoch (UTC).  0, or -1 for anything else.
 */
int rfc3339_parse_any(const char *text, int64_t *us);

#endif
