/*
 * clog_fill.c - realistic chained alerts for make bench-central.
 *
 *   clog_fill fill DB N [AGENTS]     store N alerts through central_log.h
 *                                    (the collector's insert path, 1000 per
 *                                    transaction); prints alerts/s
 *   clog_fill gen DIR N [AGENTS]     write DIR/gw-XX.jsonl, N alerts in all,
 *                                    one JSON line each (for mosquitto_pub)
 *
 * About 700 bytes per alert, AGENTS (default 8) agents at two sites, ts
 * spread over the 60 days before now; each alert is stored as received
 * RECEIVED_DELAY_US after its ts, as a collector running for those 60 days
 * would have stamped it (a time filter on either axis then sees one 60th
 * of the log per day, not the whole fill in its last minutes).  Some values are rare on purpose, so
 * a filtered query on them returns few rows at any size: detector
 * s7.plc_stop (1 in 20,000), technique T0809 (1 in 20,000), address
 * 10.66.6.6 (1 in 20,000), severity critical (3 in 1,000).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/central_log.h"
#include "broker/clog_triage.h"
#include "lib/chain.h"

#define SPAN_US	(60LL * 86400 * 1000000)
#define RECEIVED_DELAY_US	250000

struct agent {
	char	site[16], name[16];
	int64_t	seq;
	char	prev[CHAIN_HEX_LEN + 1];
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const detectors[] = {
	"modbus.write_single", "modbus.illegal_function", "dnp3.cold_restart",
	"enip.cip_write", "iec104.command", "net.new_host", "net.port_scan",
	"opcua.browse_flood", "bacnet.who_is_flood", "fins.memory_write",
	"baseline.new_flow", "flood.syn"
};
static const char *const techniques[] = {
	"T0855", "T0836", "T0816", "T0846", "T0888", "T0842", "T0814",
	"T0831", "T0868", "T0801"
};
static const char *const protos[] = {
	"modbus", "dnp3", "enip", "iec104", "tcp", "opcua", "bacnet", "fins"
};

/*
 * The next alert of a into buf (~700 bytes, hash last); its severity in
 * *sev.  ts_us is the alert's time.
 */
static size_t
make_alert(struct agent *a, int64_t ts_us, char *buf, size_t len,
    const char *force_sev)
{
	char ts[CENTRAL_LOG_TIME_LEN], hash[CHAIN_HEX_LEN + 1], src[20];
	const char *sev, *det, *tech, *proto;
	uint64_t r = rnd();
	unsigned u = (unsigned)(r % 1000);
	int n;

	sev = u < 400 ? "info" : u < 650 ? "low" : u < 850 ? "medium" :
	    u < 997 ? "high" : "critical";
	if (force_sev != NULL)
		sev = force_sev;
	det = rnd() % 20000 == 0 ? "s7.plc_stop" :
	    detectors[rnd() % (sizeof(detectors) / sizeof(detectors[0]))];
	tech = rnd() % 20000 == 0 ? "T0809" :
	    techniques[rnd() % (sizeof(techniques) / sizeof(techniques[0]))];
	proto = protos[rnd() % (sizeof(protos) / sizeof(protos[0]))];
	if (rnd() % 20000 == 0)
		snprintf(src, sizeof(src), "10.66.6.6");
	else
		snprintf(src, sizeof(src), "10.%u.%u.%u",
		    (unsigned)(rnd() % 4), (unsigned)(rnd() % 8),
		    (unsigned)(rnd() % 250 + 1));
	central_log_format_time(ts_us, ts);
	n = snprintf(buf, len,
	    "{\"agent\":\"%s\",\"site\":\"%s\",\"seq\":%" PRId64 ","
	    "\"ts\":\"%s\",\"severity\":\"%s\",\"detector\":\"%s\","
	    "\"technique\":\"%s\","
	    "\"title\":\"%s from %s to a controller outside its baseline "
	    "(function %u, unit %u)\",\"proto\":\"%s\","
	    "\"src\":{\"ip\":\"%s\",\"port\":%u,\"mac\":\"02:00:0a:%02x:%02x:%02x\"},"
	    "\"dst\":{\"ip\":\"10.2.%u.%u\",\"port\":502,"
	    "\"mac\":\"02:00:0a:02:%02x:%02x\"},"
	    "\"details\":{\"function\":%u,\"unit\":%u,\"address\":%u,"
	    "\"count\":%u,\"values\":[%u,%u,%u,%u],\"flow\":\"%016" PRIx64 "\","
	    "\"first_seen\":\"%s\",\"packets\":%u,\"bytes\":%u},"
	    "\"prev_hash\":\"%s\"}",
	    a->name, a->site, a->seq, ts, sev, det, tech, det, src,
	    (unsigned)(r % 24), (unsigned)(r % 247), proto, src,
	    (unsigned)(1024 + rnd() % 60000), (unsigned)(rnd() % 256),
	    (unsigned)(rnd() % 256), (unsigned)(rnd() % 256),
	    (unsigned)(rnd() % 8), (unsigned)(rnd() % 250 + 1),
	    (unsigned)(rnd() % 256), (unsigned)(rnd() % 256),
	    (unsigned)(r % 24), (unsigned)(r % 247), (unsigned)(rnd() % 65536),
	    (unsigned)(rnd() % 125), (unsigned)(rnd() % 65536),
	    (unsigned)(rnd() % 65536), (unsigned)(rnd() % 65536),
	    (unsigned)(rnd() % 65536), rnd(), ts,
	    (unsigned)(rnd() % 10000), (unsigned)(rnd() % 1000000), a->prev);
	if (n < 0 || (size_t)n + 80 >= len)
		return 0;
	if (chain_hash(a->prev, buf, (size_t)n, hash) != 0)
		return 0;
	n--;	/* drop the closing brace, append the hash */
	n += snprintf(buf + n, len - (size_t)n, ",\"hash\":\"%s\"}", hash);
	memcpy(a->prev, hash, sizeof(a->prev));
	a->seq++;
	return (size_t)n;
}

static void
init_agents(struct agent *ag, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(ag[i].site, sizeof(ag[i].site), "plant-%c",
		    i % 2 ? 'b' : 'a');
		snprintf(ag[i].name, sizeof(ag[i].name), "gw-%02d", i);
		ag[i].seq = 1;
		memcpy(ag[i].prev, CHAIN_GENESIS, sizeof(ag[i].prev));
	}
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
fill(const char *db_path, long long n, int nag)
{
	struct central_log *db;
	struct central_log_alert a;
	enum central_log_stored res;
	struct agent *ag = calloc((size_t)nag, sizeof(*ag));
	int64_t t0 = central_log_now_us() - SPAN_US;
	char err[512], why[128], buf[2048];
	double start = now_s(), el;
	int64_t ts;
	long long i;
	size_t len;

	if (ag == NULL ||
	    central_log_open(db_path, CENTRAL_LOG_RDWR, CENTRAL_LOG_SYNC_FULL,
	    &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "clog_fill: %s\n", ag == NULL ? "no memory" :
		    err);
		return 1;
	}
	/* as the collector does at start: the triage tables and the index
	 * on received_at that --since/--until use */
	if (clog_triage_schema(db) != 0) {
		fprintf(stderr, "clog_fill: %s\n", clog_triage_errmsg());
		return 1;
	}
	init_agents(ag, nag);
	for (i = 0; i < n; i++) {
		struct agent *x = &ag[i % nag];

		if (i % 1000 == 0 && central_log_begin(db) != 0)
			goto fail;
		ts = t0 + (int64_t)((double)SPAN_US * (double)i / (double)n);
		len = make_alert(x, ts, buf, sizeof(buf), NULL);
		if (len == 0 || central_log_alert_parse(buf, len, &a, why,
		    sizeof(why)) != 0) {
			fprintf(stderr, "clog_fill: bad alert: %s\n", why);
			return 1;
		}
		if (central_log_insert(db, &a, buf, len,
		    ts + RECEIVED_DELAY_US, &res) != 0 || res != CENTRAL_LOG_NEW)
			goto fail;
		central_log_alert_free(&a);
		if ((i % 1000 == 999 || i == n - 1) &&
		    central_log_commit(db) != 0)
			goto fail;
		if (i % 1000000 == 999999)
			fprintf(stderr, "clog_fill: %lld alerts, %.0f/s\n", i + 1,
			    (double)(i + 1) / (now_s() - start));
	}
	el = now_s() - start;
	printf("{\"alerts\": %lld, \"seconds\": %.2f, \"per_s\": %.0f}\n", n,
	    el, (double)n / el);
	central_log_close(db);
	free(ag);
	return 0;
fail:
	fprintf(stderr, "clog_fill: %s\n", central_log_errmsg(db));
	return 1;
}

static int
gen(const char *dir, long long n, int nag)
{
	struct agent *ag = calloc((size_t)nag, sizeof(*ag));
	FILE **f = calloc((size_t)nag, sizeof(*f));
	int64_t t0 = central_log_now_us() - 3600LL * 1000000;
	char path[512], buf[2048];
	long long i;
	size_t len;
	int k;

	if (ag == NULL || f == NULL)
		return 1;
	init_agents(ag, nag);
	for (k = 0; k < nag; k++) {
		snprintf(path, sizeof(path), "%s/%s.jsonl", dir, ag[k].name);
		f[k] = fopen(path, "w");
		if (f[k] == NULL) {
			fprintf(stderr, "clog_fill: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		k = (int)(i % nag);
		/* one topic per file: one severity per agent */
		len = make_alert(&ag[k], t0 + i * 1000, buf, sizeof(buf),
		    "medium");
		if (len == 0)
			return 1;
		fwrite(buf, 1, len, f[k]);
		fputc('\n', f[k]);
	}
	for (k = 0; k < nag; k++)
		if (fclose(f[k]) != 0)
			return 1;
	free(f);
	free(ag);
	return 0;
}

int
main(int argc, char **argv)
{
	long long n;
	int nag;

	if (argc < 4 || (strcmp(argv[1], "fill") != 0 &&
	    strcmp(argv[1], "gen") != 0)) {
		fprintf(stderr, "usage: clog_fill fill DB N [AGENTS] | "
		    "gen DIR N [AGENTS]\n");
		return 2;
	}
	n = strtoll(argv[3], NULL, 10);
	nag = argc > 4 ? atoi(argv[4]) : 8;
	if (n <= 0 || nag <= 0 || nag > 1000)
		return 2;
	return strcmp(argv[1], "fill") == 0 ? fill(argv[2], n, nag) :
	    gen(argv[2], n, nag);
}
