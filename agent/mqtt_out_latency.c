/*
 * mqtt_out_latency.c - how long alerts wait in the publisher: from
 * mqtt_out_alert() (the capture thread hands the alert over) to durable
 * (the writer's group commit: fdatasync, directory fsync, state file) and
 * to the broker's PUBACK.  Log-linear histograms (16 steps per power of
 * two: a percentile is within 1/16 of the true value), under qmu; the
 * publisher logs the percentiles when it closes (tests/bench/storm.py
 * reads them).
 */

#include "agent/mqtt_out_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
mqtt_out_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Bucket of a value: exact below 16, then 16 steps per power of two. */
static unsigned
lat_bucket(uint64_t us)
{
	unsigned e = 0;

	if (us < 16)
		return (unsigned)us;
	while ((us >> e) >= 32)
		e++;
	/* us >> e is 16..31 */
	e = 16 + e * 16 + (unsigned)((us >> e) - 16);
	return e < MQTT_OUT_LAT_BUCKETS ? e : MQTT_OUT_LAT_BUCKETS - 1;
}

/* The smallest value of a bucket. */
static uint64_t
lat_value(unsigned b)
{
	unsigned e;

	if (b < 16)
		return b;
	e = (b - 16) / 16;
	return (uint64_t)(16 + (b - 16) % 16) << e;
}

void
mqtt_out_lat_add(struct mqtt_out_lat *l, int64_t us)
{
	if (us < 0)
		us = 0;
	l->n++;
	l->b[lat_bucket((uint64_t)us)]++;
	if ((uint64_t)us > l->max_us)
		l->max_us = (uint64_t)us;
}

/* The p-th percentile (0 < p <= 1), microseconds; 0 when empty. */
uint64_t
mqtt_out_lat_pct(const struct mqtt_out_lat *l, double p)
{
	uint64_t want, seen = 0;
	unsigned b;

	if (l->n == 0)
		return 0;
	want = (uint64_t)((double)l->n * p + 0.999999);
	if (want == 0)
		want = 1;
	for (b = 0; b < MQTT_OUT_LAT_BUCKETS; b++) {
		seen += l->b[b];
		if (seen >= want)
			return lat_value(b);
	}
	return l->max_us;
}

/* "N alerts, p50 X ms, p99 Y ms, max Z ms" */
void
mqtt_out_lat_text(const struct mqtt_out_lat *l, char *buf, size_t len)
{
	snprintf(buf, len, "%llu alerts, p50 %.1f ms, p99 %.1f ms, max %.1f ms",
	    (unsigned long long)l->n,
	    (double)mqtt_out_lat_pct(l, 0.50) / 1000.0,
	    (double)mqtt_out_lat_pct(l, 0.99) / 1000.0,
	    (double)l->max_us / 1000.0);
}
