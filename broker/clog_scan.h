/* clog_scan.h - an alert's fields from its JSON text, without a tree. */
#ifndef ICSENTRY_BROKER_CLOG_SCAN_H
#define ICSENTRY_BROKER_CLOG_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/clog_types.h"

#define CLOG_SCAN_OTHER	1	/* not the plain case: parse it with cJSON */

/*
 * Fill a's strings (into a->buf_, which the caller frees), seq and ports
 * from json when it is a plain alert (clog_scan.c says which), and tell
 * whether "hash" is the last member.  0, CLOG_SCAN_OTHER (a untouched but
 * for NULLs) or IDS_ENOMEM.  The caller still checks the values.
 */
int	clog_alert_scan(const char *json, size_t len,
	    struct central_log_alert *a, bool *hash_last);

#endif
