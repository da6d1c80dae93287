/*
 * collector.h - what of icsentry-collector is callable without its main():
 * the message intake, for the collector intake fuzzer
 * (tests/fuzz/fuzz_collector.c).
 */
#ifndef ICSENTRY_BROKER_COLLECTOR_H
#define ICSENTRY_BROKER_COLLECTOR_H

#include <stddef.h>

struct central_log;

/*
 * One MQTT message (topic, payload) through the checks and stores of the
 * collector's message callback, into db, without Paho, the lock or group
 * commit.  Returns 0 when the message was stored or rejected (rejections
 * are counted in db), or the storage error that makes the callback retry.
 */
int	collector_handle_message(struct central_log *db, size_t max_payload,
	    const char *topic, size_t tlen, const char *payload, size_t len);

#endif
