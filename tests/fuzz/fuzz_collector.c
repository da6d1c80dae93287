/*
 * fuzz_collector.c - libFuzzer target over the collector's intake.
 *
 * One input is one MQTT message handed to collector_handle_message(), the
 * same checks and stores as the collector's Paho callback: topic parsing,
 * size limit, alert validation (the JSON parser, member types, times,
 * hashes), the topic-versus-content check, and the SQLite writes of
 * alerts, agent status, stats and assets into a temporary central log.
 *
 * Input: byte 0 picks the topic, the rest is the payload:
 *   0  the topic is the payload up to the first '\n' (raw topics)
 *   1  icsentry/<site>/<agent>/alert/<severity>, taken from the payload's
 *      own members when they are strings, so a mutated alert still gets
 *      past the topic check and reaches the store
 *   2  icsentry/<site>/<agent>/status      3  .../stats
 *   4  .../asset/<the payload's "ip" member, or 10.0.0.1>
 * (modulo 5).  Seeds: tests/fuzz/collector_seeds.py (a valid alert and
 * deeply nested JSON, huge numbers, invalid UTF-8, duplicate keys and
 * every member with a wrong type).
 *
 * Oracles: the sanitizers, and that a message is always either stored or
 * rejected: collector_handle_message() may only fail when SQLite does,
 * which it must not on a local temporary file.  The database starts over
 * every 4096 inputs to stay small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "broker/central_log.h"
#include "broker/collector.h"

#define MAX_PAYLOAD	65536

static char dir[256], dbpath[300];
static struct central_log *db;
static unsigned long inputs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
open_db(void)
{
	char err[512], p[320];

	central_log_close(db);
	db = NULL;
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	if (central_log_open(dbpath, CENTRAL_LOG_RDWR, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_collector: %s\n", err);
		abort();
	}
}

/* At exit: the temporary central log goes. */
static void
cleanup(void)
{
	char p[320];

	central_log_close(db);
	db = NULL;
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz_collector-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/central.db", dir);
	open_db();
	atexit(cleanup);
	return 0;
}

/* A string member of the payload (parsed as JSON), or dflt. */
static const char *
member(const cJSON *j, const char *name, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsString(v) && v->valuestring != NULL &&
	    strlen(v->valuestring) < 100 ? v->valuestring : dflt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1, *nl;
	size_t len = size > 0 ? size - 1 : 0;
	char topic[600];
	size_t tlen;
	cJSON *j = NULL;
	int rc;

	if (size == 0)
		return 0;
	if (++inputs % 4096 == 0)
		open_db();
	switch (data[0] % 5) {
	case 0:
		nl = memchr(p, '\n', len);
		tlen = nl != NULL ? (size_t)(nl - p) : len;
		if (tlen >= sizeof(topic))
			tlen = sizeof(topic) - 1;
		memcpy(topic, p, tlen);
		if (nl != NULL) {
			len -= (size_t)(nl - p) + 1;
			p = nl + 1;
		} else
			len = 0;
		break;
	default:
		j = cJSON_ParseWithLength(p, len);
		switch (data[0] % 5) {
		case 1:
			tlen = (size_t)snprintf(topic, sizeof(topic),
			    "icsentry/%s/%s/alert/%s", member(j, "site", "s"),
			    member(j, "agent", "a"),
			    member(j, "severity", "high"));
			break;
		case 2:
			tlen = (size_t)snprintf(topic, sizeof(topic),
			    "icsentry/%s/%s/status", member(j, "site", "s"),
			    member(j, "agent", "a"));
			break;
		case 3:
			tlen = (size_t)snprintf(topic, sizeof(topic),
			    "icsentry/%s/%s/stats", member(j, "site", "s"),
			    member(j, "agent", "a"));
			break;
		default:
			tlen = (size_t)snprintf(topic, sizeof(topic),
			    "icsentry/%s/%s/asset/%s", member(j, "site", "s"),
			    member(j, "agent", "a"), member(j, "ip", "10.0.0.1"));
			break;
		}
		break;
	}
	rc = collector_handle_message(db, MAX_PAYLOAD, topic, tlen, p, len);
	cJSON_Delete(j);
	if (rc != 0) {
		fprintf(stderr, "fuzz_collector: a message was neither stored "
		    "nor rejected (%d): %s\n", rc, central_log_errmsg(db));
		abort();
	}
	return 0;
}
