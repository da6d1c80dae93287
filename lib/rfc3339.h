/* rfc3339.h - capture times as RFC 3339 text (UTC, microseconds). */
#ifndef ICSENTRY_LIB_RFC3339_H
#define ICSENTRY_LIB_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-23T08:15:02.123456Z" for ts_us since the epoch: buf >= 32 bytes. */
const char *rfc3339_format(uint64_t ts_us, char *buf, size_t len);

#endif
