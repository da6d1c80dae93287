/*
 * fuzz_pipeline.c - libFuzzer target over the whole agent pipeline.
 *
 * The per-parser targets feed one PDU to one parser.  This one drives
 * what sits between them, as the agent runs it: capture file reading,
 * decode, the flow table, nDPI classification, protocol picking, TCP
 * reassembly, every dissector, every detector (policies that make the
 * unauthorized-use detectors speak, remote access into "all" networks,
 * the inventory), alert aggregation and JSON rendering, and the baseline
 * in both modes:
 *
 *   1. a learning agent replays the input and writes what it learned
 *      (the baseline writer);
 *   2. a detecting agent loads that file (the baseline reader, on the
 *      writer's own output) and replays the same input against it.
 *
 * Input, either
 *   - a pcap or pcapng file (the seed corpus: cut from $SHARED/pcaps and
 *     the generated captures by tests/fuzz/seed_pcaps.py), or
 *   - a packet sequence, turned into a pcap here so that mutations spend
 *     no time on the file format:
 *       byte 0        link type: 0 Ethernet, 1 raw IPv4/IPv6, 2 Linux
 *                     SLL, 3 BSD loopback (other values: modulo 4)
 *       then records: u16 length (big endian), u8 time step in ms,
 *                     that many packet bytes (cut at the end of input)
 *
 * Both agents are set up once (nDPI's tables take tens of milliseconds);
 * each input gets fresh detectors and an empty flow table, so a crash
 * reproduces from its input alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"

static char dir[256], conf[300], input[300], learned[300], assets[300];
static struct agent *learner, *detector;
static struct agent_opts lo, dopts;
static const char *learn_files[1], *det_files[1];

static const char conf_text[] =
    "[agent]\nname = fuzz\nsite = lab\nalerts_out = /dev/null\n"
    "flows_out = /dev/null\n"
    "[flows]\nmax_flows = 4096\nmax_reasm_total_kb = 4096\n"
    "[policy]\n"
    "modbus_writers = 192.0.2.1\ndnp3_masters = 192.0.2.1\n"
    "iec104_masters = 192.0.2.1\ns7_writers = 192.0.2.1\n"
    "enip_writers = 192.0.2.1\nbacnet_writers = 192.0.2.1\n"
    "opcua_writers = 192.0.2.1\nfins_writers = 192.0.2.1\n"
    "discovery_allowed = 192.0.2.1\nremote_access_allowed = 192.0.2.1\n"
    "ot_networks = 0.0.0.0/0, ::/0\n"
    "[detector.remote_access]\ninclude_http = true\n"
    "[detector.baseline]\nmin_observation = 0\n"
    /*
     * Small model tables: an input has a few dozen packets, and each
     * input re-creates the detectors, so tables sized for a plant would
     * spend the run zeroing memory; small ones also reach their caps.
     */
    "[detector.stackfp]\nmax_hosts = 64\nmax_sessions = 64\n"
    "[detector.roles]\nmax_servers = 64\n"
    "[detector.channel]\nmax_channels = 64\n"
    "[detector.conv]\nmax_conversations = 64\nmax_hosts = 64\nmax_new = 64\n"
    "[detector.envelope]\nmax_channels = 64\n"
    "[detector.cycle]\nmax_channels = 64\n"
    "[detector.replay]\nmax_channels = 64\n";

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_pipeline: %s: %s\n", what, err);
	abort();
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	int rc;

	if (fp == NULL)
		return -1;
	rc = fwrite(p, 1, n, fp) == n ? 0 : -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* At exit: the temporary files go (the agents end with the process). */
static void
cleanup(void)
{
	unlink(conf);
	unlink(input);
	unlink(learned);
	unlink(assets);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	char err[1024];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz_pipeline-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", dir);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(input, sizeof(input), "%s/input.pcap", dir);
	snprintf(learned, sizeof(learned), "%s/learned.json", dir);
	snprintf(assets, sizeof(assets), "%s/assets.json", dir);
	if (write_file(conf, conf_text, strlen(conf_text)) != 0)
		die("write", conf);
	atexit(cleanup);

	learn_files[0] = input;
	lo.config = conf;
	lo.files = learn_files;
	lo.nfiles = 1;
	lo.no_mqtt = true;
	lo.learn = learned;
	lo.assets_out = assets;
	if (agent_open(&lo, &learner, err, sizeof(err)) != 0)
		die("learning agent", err);
	/* an empty baseline, so the detecting agent has one to load */
	if (agent_restart_detectors(learner, err, sizeof(err)) != 0)
		die("first baseline", err);

	det_files[0] = input;
	dopts = lo;
	dopts.files = det_files;
	dopts.learn = NULL;
	dopts.baseline = learned;
	if (agent_open(&dopts, &detector, err, sizeof(err)) != 0)
		die("detecting agent", err);
	return 0;
}

static void
put32le(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* A packet sequence as a classic pcap; *len receives its size. */
static uint8_t *
to_pcap(const uint8_t *d, size_t n, size_t *len)
{
	static const uint32_t dlt[4] = { 1, 101, 113, 0 };
	uint8_t *out, *o;
	size_t i = 1, plen;
	uint32_t sec = 1764806400, usec = 0;

	/* at most 16 bytes of record header per 3 input bytes of one */
	out = malloc(24 + n / 3 * 16 + n + 16);
	if (out == NULL)
		return NULL;
	o = out;
	put32le(o, 0xa1b2c3d4);
	o[4] = 2; o[5] = 0; o[6] = 4; o[7] = 0;
	put32le(o + 8, 0);
	put32le(o + 12, 0);
	put32le(o + 16, 65535);
	put32le(o + 20, n > 0 ? dlt[d[0] % 4] : 1);
	o += 24;
	while (i + 3 <= n) {
		plen = (size_t)d[i] << 8 | d[i + 1];
		usec += (uint32_t)d[i + 2] * 1000;
		sec += usec / 1000000;
		usec %= 1000000;
		i += 3;
		if (plen > n - i)
			plen = n - i;
		put32le(o, sec);
		put32le(o + 4, usec);
		put32le(o + 8, (uint32_t)plen);
		put32le(o + 12, (uint32_t)plen);
		memcpy(o + 16, d + i, plen);
		o += 16 + plen;
		i += plen;
	}
	*len = (size_t)(o - out);
	return out;
}

static int
is_capture(const uint8_t *d, size_t n)
{
	static const uint8_t magic[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a } };
	size_t i;

	if (n < 4)
		return 0;
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if (memcmp(d, magic[i], 4) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	uint8_t *pc = NULL;
	size_t n = size;
	int rc;

	if (is_capture(data, size)) {
		if (write_file(input, data, size) != 0)
			die("write", input);
	} else {
		if ((pc = to_pcap(data, size, &n)) == NULL)
			return 0;
		if (write_file(input, pc, n) != 0)
			die("write", input);
		free(pc);
	}
	/* 1: learn, and write what was learned */
	(void)agent_replay(learner, input);
	rc = agent_restart_detectors(learner, err, sizeof(err));
	if (rc != 0)
		die("learning agent: writing the baseline", err);
	/* 2: load it back (a file the writer made must load) and detect */
	rc = agent_restart_detectors(detector, err, sizeof(err));
	if (rc != 0)
		die("detecting agent: loading the learned baseline", err);
	(void)agent_replay(detector, input);
	return 0;
}
