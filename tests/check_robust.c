/*
 * check_robust.c - the whole agent against hostile input (issue 19).
 *
 * Everything runs the real $ICSENTRY_BUILD/icsentry-agent (under
 * `make asan-test` that is the ASan+UBSan build, which aborts on the first
 * finding: -fno-sanitize-recover=all).
 *
 *   seq      the TCP sequence-number captures of tests/robust/gen_captures.py
 *            (a segment 2^31, 2^31-1, 2^31+1 behind, a wrap past 0xffffffff):
 *            exact PDU and gap counts, no sanitizer line.  Before d7ecadd the
 *            2^31 capture made UBSan abort in tcp_segment.
 *   mutate   a deterministic mutation sweep over every capture in
 *            $SHARED/pcaps: bit flips, zeroed and 0xff runs, records cut
 *            short, swapped packets, a file cut mid-record; each replayed
 *            with every detector on, learning and then detecting against
 *            what was learned.  Each run exits 0 or 2, prints no sanitizer
 *            line and (exit 0) a complete --stats object.
 *
 * The generated captures come from `make tests` ($ICSENTRY_BUILD/robust);
 * check_bounded.c drives the large ones.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ipmap.h"
#include "tests/testutil.h"

#define RUN_TIMEOUT_MS	(300 * 1000)
/* records of a shared capture the sweep mutates and replays */
#define SWEEP_MAX_RECORDS	3000

static char dir[256];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "robust"), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

static const char *
tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* $ICSENTRY_BUILD/robust/name */
static const char *
gen(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/robust/%s", tu_build_dir(), name);
	return buf;
}

/* Run the agent with the NULL-terminated arguments. */
static void
agent(struct tu_result *r, ...)
{
	char path[512], *argv[40];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	va_start(ap, r);
	while (n < 39 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, r), 0);
	ck_assert_msg(!r->timed_out, "agent timed out");
}

/* Exit 0, no sanitizer output, and the --stats object (free it). */
static cJSON *
clean_stats(const struct tu_result *r, const char *what)
{
	const char *san = tu_sanitizer_line(r->err);
	cJSON *st;

	ck_assert_msg(san == NULL, "%s: sanitizer: %.400s", what, san);
	ck_assert_msg(r->exit_code == 0, "%s: exit %d: %.600s", what,
	    r->exit_code, r->err);
	st = tu_json_last_line(r->err);
	ck_assert_msg(st != NULL, "%s: no --stats line: %.400s", what, r->err);
	return st;
}

static uint64_t
num(const cJSON *st, const char *path)
{
	double v = tu_json_num(st, path, -1);

	ck_assert_msg(v >= 0, "--stats has no %s", path);
	return (uint64_t)v;
}

/* ---- seq: the sequence-number captures ---------------------------------- */

/* What one replay of a sequence capture counted. */
struct seq_counts {
	uint64_t	packets, pdus, gaps, malformed, resyncs;
};

/* Replay one generated capture (exit 0, no sanitizer line): its counts. */
static struct seq_counts
seq_case(const char *name)
{
	struct seq_counts c;
	struct tu_result r;
	char path[512];
	cJSON *st;

	agent(&r, "-r", gen(path, sizeof(path), name), "--stats", NULL);
	st = clean_stats(&r, name);
	c.packets = num(st, "packets");
	c.pdus = num(st, "pdus.modbus");
	c.gaps = num(st, "reassembly.gaps");
	c.malformed = num(st, "malformed.modbus");
	c.resyncs = num(st, "reassembly.resyncs");
	cJSON_Delete(st);
	tu_result_free(&r);
	return c;
}

/* The one UBSan caught: diff == INT32_MIN, then -diff. Old data: dropped. */
START_TEST(test_seq_exactly_2p31_behind)
{
	struct seq_counts c = seq_case("seq-behind-2p31.pcap");

	ck_assert_uint_eq(c.packets, 4);
	ck_assert_uint_eq(c.pdus, 3);
	ck_assert_uint_eq(c.gaps, 0);
	ck_assert_uint_eq(c.malformed, 0);
	ck_assert_uint_eq(c.resyncs, 0);
}
END_TEST

START_TEST(test_seq_2p31_minus_1_behind)
{
	struct seq_counts c = seq_case("seq-behind-2p31m1.pcap");

	ck_assert_uint_eq(c.packets, 4);
	ck_assert_uint_eq(c.pdus, 3);
	ck_assert_uint_eq(c.gaps, 0);
	ck_assert_uint_eq(c.malformed, 0);
	ck_assert_uint_eq(c.resyncs, 0);
}
END_TEST

/* 2^31+1 behind is 2^31-1 ahead: a gap, then the header resynchronises. */
START_TEST(test_seq_2p31_plus_1_behind)
{
	struct seq_counts c = seq_case("seq-behind-2p31p1.pcap");

	ck_assert_uint_eq(c.packets, 4);
	ck_assert_uint_eq(c.pdus, 4);
	ck_assert_uint_eq(c.gaps, 2);
	ck_assert_uint_eq(c.malformed, 0);
	ck_assert_uint_eq(c.resyncs, 0);
}
END_TEST

/* A PDU split across 0xffffffff -> 0, a retransmission and an overlap. */
START_TEST(test_seq_wrap)
{
	struct seq_counts c = seq_case("seq-wrap.pcap");

	ck_assert_uint_eq(c.packets, 8);
	ck_assert_uint_eq(c.pdus, 5);
	ck_assert_uint_eq(c.gaps, 0);
	ck_assert_uint_eq(c.malformed, 0);
	ck_assert_uint_eq(c.resyncs, 0);
}
END_TEST

/* ---- units: fixes from the audit -------------------------------------- */

/*
 * A full ipmap recycles in O(1).  It used to scan every slot for the
 * oldest entry on each insert into a full map: 2,000,000 inserts into a
 * 65,536-entry map (what a sweep of spoofed sources does to the scan and
 * flood detectors) took hours; now well under the test's timeout.  An
 * entry touched recently survives, the count stays at the cap, and every
 * recycled entry is counted.
 */
START_TEST(test_ipmap_full_is_cheap)
{
	struct ipmap *m = ipmap_new(65536, 8);
	const uint8_t keep[5] = { 0xff, 1, 2, 3, 4 };
	uint8_t key[5] = { 0 };
	uint32_t k;
	int fresh;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(ipmap_put(m, keep, sizeof(keep), 0, &fresh));
	for (k = 0; k < 2000000; k++) {
		memcpy(key + 1, &k, 4);
		ck_assert_ptr_nonnull(ipmap_put(m, key, sizeof(key), k + 1,
		    &fresh));
		ck_assert_int_eq(fresh, 1);
		if (k % 1000 == 0)
			ipmap_put(m, keep, sizeof(keep), k + 1, &fresh);
	}
	ck_assert_uint_eq(ipmap_count(m), 65536);
	ck_assert_uint_eq(ipmap_recycled(m), 2000001 - 65536);
	ck_assert_ptr_nonnull(ipmap_get(m, keep, sizeof(keep)));
	/* the newest entry is there too */
	k = 1999999;
	memcpy(key + 1, &k, 4);
	ck_assert_ptr_nonnull(ipmap_get(m, key, sizeof(key)));
	ipmap_free(m);
}
END_TEST

/* Not full: nothing is recycled, nothing is lost. */
START_TEST(test_ipmap_not_full)
{
	struct ipmap *m = ipmap_new(1000, 4);
	uint32_t k;
	int fresh;

	ck_assert_ptr_nonnull(m);
	for (k = 0; k < 1000; k++)
		ck_assert_ptr_nonnull(ipmap_put(m, &k, sizeof(k), k, &fresh));
	ck_assert_uint_eq(ipmap_recycled(m), 0);
	for (k = 0; k < 1000; k++)
		ck_assert_ptr_nonnull(ipmap_get(m, &k, sizeof(k)));
	k = 1000;
	ipmap_put(m, &k, sizeof(k), k, &fresh);
	ck_assert_uint_eq(ipmap_recycled(m), 1);
	ck_assert_uint_eq(ipmap_count(m), 1000);
	ipmap_free(m);
}
END_TEST

/* ---- mutate: the deterministic sweep ----------------------------------- */

/* xorshift64*: the same mutants on every machine and every run */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t
seed_of(const char *name, unsigned variant)
{
	uint64_t h = 1469598103934665603ull;

	while (*name != '\0')
		h = (h ^ (uint8_t)*name++) * 1099511628211ull;
	h ^= variant * 0x9e3779b97f4a7c15ull;
	return h != 0 ? h : 1;
}

static uint32_t
get32(const uint8_t *b, bool big)
{
	return big ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3] :
	    (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[1] << 8 | b[0];
}

static void
put32(uint8_t *b, uint32_t v, bool big)
{
	int i;

	for (i = 0; i < 4; i++)
		b[big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

/* One record of a capture: where it sits and where its packet bytes are. */
struct rec {
	size_t	start, len;	/* the whole record / block */
	size_t	data;		/* packet bytes (0: not a packet block) */
	uint32_t caplen;
};

struct capfile {
	uint8_t		*b;
	size_t		 n;
	bool		 ng, big;
	size_t		 head;	/* pcap: 24; pcapng: 0 (blocks are records) */
	struct rec	*r;
	size_t		 nr;
};

/* Split a pcap or pcapng file into records; false if it is neither. */
static bool
cap_parse(struct capfile *c, size_t max_packets)
{
	size_t off, npkt = 0, cap = 1024;
	uint32_t m;

	if (c->n < 24)
		return false;
	c->r = calloc(cap, sizeof(*c->r));
	ck_assert_ptr_nonnull(c->r);
	m = get32(c->b, false);
	if (m == 0x0a0d0d0a) {
		c->ng = true;
		c->big = get32(c->b + 8, false) != 0x1a2b3c4d;
		c->head = 0;
	} else if (m == 0xa1b2c3d4 || m == 0xa1b23c4d) {
		c->big = false;
		c->head = 24;
	} else if (m == 0xd4c3b2a1 || m == 0x4d3cb2a1) {
		c->big = true;
		c->head = 24;
	} else
		return false;
	off = c->head;
	while (off < c->n && npkt < max_packets) {
		struct rec r = { off, 0, 0, 0 };

		if (c->ng) {
			uint32_t type, blen;

			if (c->n - off < 12)
				break;
			type = get32(c->b + off, c->big);
			blen = get32(c->b + off + 4, c->big);
			if (blen < 12 || blen > c->n - off)
				break;
			r.len = blen;
			if (type == 6 && blen >= 32) {
				r.caplen = get32(c->b + off + 20, c->big);
				if (r.caplen <= blen - 32) {
					r.data = off + 28;
					npkt++;
				} else
					r.caplen = 0;
			}
		} else {
			if (c->n - off < 16)
				break;
			r.caplen = get32(c->b + off + 8, c->big);
			if (r.caplen > c->n - off - 16)
				break;
			r.len = 16 + (size_t)r.caplen;
			r.data = off + 16;
			npkt++;
		}
		if (c->nr == cap) {
			cap *= 2;
			c->r = realloc(c->r, cap * sizeof(*c->r));
			ck_assert_ptr_nonnull(c->r);
		}
		c->r[c->nr++] = r;
		off += r.len;
	}
	return true;
}

enum mut { MUT_FLIP, MUT_ZERO, MUT_FF, MUT_SHORT, MUT_SWAP, MUT_CUT, MUT_N };
static const char *const mut_name[MUT_N] = { "flip", "zero", "ff", "short",
	"swap", "cut" };

/* Write one record, possibly with its packet cut to caplen bytes. */
static void
emit(FILE *fp, const struct capfile *c, const struct rec *r,
    const uint8_t *data, uint32_t caplen)
{
	uint8_t h[28];
	static const uint8_t pad[4];
	uint32_t blen;

	if (r->data == 0) {
		fwrite(c->b + r->start, 1, r->len, fp);
		return;
	}
	if (!c->ng) {
		memcpy(h, c->b + r->start, 16);
		put32(h + 8, caplen, c->big);
		fwrite(h, 1, 16, fp);
		fwrite(data, 1, caplen, fp);
		return;
	}
	/* pcapng EPB, options dropped: 28 + padded data + trailing length */
	blen = 28 + ((caplen + 3) & ~3u) + 4;
	memcpy(h, c->b + r->start, 28);
	put32(h + 4, blen, c->big);
	put32(h + 20, caplen, c->big);
	fwrite(h, 1, 28, fp);
	fwrite(data, 1, caplen, fp);
	fwrite(pad, 1, ((caplen + 3) & ~3u) - caplen, fp);
	put32(h, blen, c->big);
	fwrite(h, 1, 4, fp);
}

/*
 * Write mutant `m` of c to path.  Roughly one packet in eight is touched;
 * byte edits land in the first 64 bytes (the headers) half of the time.
 */
static void
mutate(const struct capfile *c, enum mut m, uint64_t seed, const char *path)
{
	FILE *fp = fopen(path, "wb");
	uint8_t *pkt = malloc(262144 + 16);
	size_t i, end = c->nr > 0 ? c->r[c->nr - 1].start + c->r[c->nr - 1].len :
	    c->head;

	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(pkt);
	fwrite(c->b, 1, c->head, fp);
	for (i = 0; i < c->nr; i++) {
		const struct rec *r = &c->r[i];
		uint32_t len = r->caplen, k, at, run;

		if (r->data == 0 || len == 0 || len > 262144 ||
		    rnd(&seed) % 8 != 0 || m == MUT_CUT) {
			emit(fp, c, r, c->b + r->data, len);
			continue;
		}
		memcpy(pkt, c->b + r->data, len);
		switch (m) {
		case MUT_FLIP:
			for (k = 1 + (uint32_t)(rnd(&seed) % 4); k > 0; k--) {
				at = (uint32_t)(rnd(&seed) % (rnd(&seed) % 2 &&
				    len > 64 ? 64 : len));
				pkt[at] ^= (uint8_t)(1u << (rnd(&seed) % 8));
			}
			break;
		case MUT_ZERO:
		case MUT_FF:
			at = (uint32_t)(rnd(&seed) % (rnd(&seed) % 2 && len > 64 ?
			    64 : len));
			run = 1 + (uint32_t)(rnd(&seed) % 8);
			if (run > len - at)
				run = len - at;
			memset(pkt + at, m == MUT_ZERO ? 0 : 0xff, run);
			break;
		case MUT_SHORT:
			/* not to 0: an empty record is a damaged file (exit 2) */
			if (len > 1)
				len = 1 + (uint32_t)(rnd(&seed) % (len - 1));
			break;
		case MUT_SWAP:
			/* this packet and the next one change places */
			if (i + 1 < c->nr && c->r[i + 1].data != 0) {
				emit(fp, c, &c->r[i + 1], c->b + c->r[i + 1].data,
				    c->r[i + 1].caplen);
				i++;
			}
			break;
		default:
			break;
		}
		emit(fp, c, r, pkt, len);
	}
	fclose(fp);
	free(pkt);
	if (m == MUT_CUT && end > c->head + 1) {
		/* cut somewhere in the last quarter: usually mid-record */
		size_t cut = c->head + (end - c->head) * 3 / 4 +
		    (size_t)(rnd(&seed) % ((end - c->head) / 4 + 1));

		if (cut >= end)
			cut = end - 1;
		ck_assert_int_eq(truncate(path, (off_t)cut), 0);
	}
}

/* Every detector on: policies name one host, so others are "not allowed". */
static const char all_on_conf[] =
    "[agent]\nname = robust\nsite = lab\n"
    "[policy]\n"
    "modbus_writers = 192.0.2.1\ndnp3_masters = 192.0.2.1\n"
    "iec104_masters = 192.0.2.1\ns7_writers = 192.0.2.1\n"
    "enip_writers = 192.0.2.1\nbacnet_writers = 192.0.2.1\n"
    "opcua_writers = 192.0.2.1\nfins_writers = 192.0.2.1\n"
    "discovery_allowed = 192.0.2.1\nremote_access_allowed = 192.0.2.1\n"
    "ot_networks = 0.0.0.0/0, ::/0\n"
    "[detector.remote_access]\ninclude_http = true\n"
    "[detector.baseline]\nmin_observation = 0\n";

static uint64_t sweep_runs, sweep_exit2;

/*
 * Replay files[] (NULL-ended) in one agent run: no sanitizer finding, exit
 * 0 (or 2 when the file was cut mid-record: cut).
 */
static void
sweep_run(const char *what, const char *conf, const char *learn,
    const char *baseline, const char *const *files, bool cut)
{
	char path[512], assets[512], *argv[40];
	struct tu_result r;
	const char *san;
	int n = 0, i;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	argv[n++] = "-c";
	argv[n++] = (char *)conf;
	argv[n++] = "--stats";
	argv[n++] = "--alerts-out";
	argv[n++] = "/dev/null";
	argv[n++] = "--flows-out";
	argv[n++] = "/dev/null";
	argv[n++] = "--assets-out";
	argv[n++] = (char *)tmp(assets, sizeof(assets), "assets.json");
	if (learn != NULL) {
		argv[n++] = "--learn";
		argv[n++] = (char *)learn;
	}
	if (baseline != NULL) {
		argv[n++] = "--baseline";
		argv[n++] = (char *)baseline;
	}
	for (i = 0; files[i] != NULL && n < 37; i++) {
		argv[n++] = "-r";
		argv[n++] = (char *)files[i];
	}
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, &r), 0);
	ck_assert_msg(!r.timed_out, "%s: agent timed out", what);
	san = tu_sanitizer_line(r.err);
	ck_assert_msg(san == NULL, "%s: sanitizer: %.600s", what, san);
	/* only a file cut mid-record is bad input (2); the rest must replay */
	ck_assert_msg(r.exit_code == 0 || (cut && r.exit_code == 2),
	    "%s: exit %d: %.600s", what, r.exit_code, r.err);
	if (r.exit_code == 0) {
		cJSON *st = tu_json_last_line(r.err);

		ck_assert_msg(st != NULL && tu_json_num(st, "packets", -1) > 0,
		    "%s: no --stats: %.400s", what, r.err);
		cJSON_Delete(st);
	} else
		sweep_exit2++;
	sweep_runs++;
	tu_result_free(&r);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool
is_capture(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return (n > 5 && strcmp(e->d_name + n - 5, ".pcap") == 0) ||
	    (n > 7 && strcmp(e->d_name + n - 7, ".pcapng") == 0);
}

/*
 * Mutants of one capture: the five format-preserving ones are replayed in
 * one run that also learns a baseline; the cut one (exit 2 expected when
 * the cut lands mid-record) in a second run that detects against it.
 */
static void
sweep_one(const char *name, const char *conf)
{
	char src[512], mut[MUT_N][512], learned[512], what[600];
	const char *files[MUT_N + 1];
	struct capfile c;
	int m;

	memset(&c, 0, sizeof(c));
	c.b = (uint8_t *)tu_read_file(tu_pcap_path(src, sizeof(src), name), &c.n);
	ck_assert_msg(c.b != NULL, "cannot read %s", src);
	ck_assert_msg(cap_parse(&c, SWEEP_MAX_RECORDS), "%s: not a capture", name);
	ck_assert_msg(c.nr > 0, "%s: no records", name);
	for (m = 0; m < MUT_N; m++) {
		char f[64];

		snprintf(f, sizeof(f), "mut-%s", mut_name[m]);
		tmp(mut[m], sizeof(mut[m]), f);
		mutate(&c, (enum mut)m, seed_of(name, (unsigned)m), mut[m]);
	}
	for (m = 0; m < MUT_CUT; m++)
		files[m] = mut[m];
	files[MUT_CUT] = NULL;
	tmp(learned, sizeof(learned), "learned.json");
	unlink(learned);
	snprintf(what, sizeof(what), "%s (flip, zero, ff, short, swap; learning)",
	    name);
	sweep_run(what, conf, learned, NULL, files, false);
	files[0] = mut[MUT_CUT];
	files[1] = NULL;
	snprintf(what, sizeof(what), "%s (cut; detecting)", name);
	sweep_run(what, conf, NULL, tu_file_size(learned) > 0 ? learned : NULL,
	    files, true);
	free(c.r);
	free(c.b);
}

START_TEST(test_mutation_sweep)
{
	char pdir[512], conf[512];
	struct dirent **ents;
	int n, i, ncap = 0;

	ck_assert_int_eq(tu_write_file(tmp(conf, sizeof(conf), "all-on.conf"),
	    all_on_conf, strlen(all_on_conf)), 0);
	n = scandir(tu_pcap_path(pdir, sizeof(pdir), NULL), &ents, NULL, by_name);
	ck_assert_msg(n > 0, "no captures in %s", pdir);
	sweep_runs = sweep_exit2 = 0;
	for (i = 0; i < n; i++) {
		if (is_capture(ents[i])) {
			sweep_one(ents[i]->d_name, conf);
			ncap++;
		}
		free(ents[i]);
	}
	free(ents);
	/* the MANIFEST lists 57 captures: a missing directory must not pass */
	ck_assert_int_ge(ncap, 50);
	ck_assert_uint_eq(sweep_runs, 2 * (uint64_t)ncap);
	printf("mutation sweep: %d captures, %" PRIu64 " runs (%" PRIu64
	    " exit 2: cut mid-record), no sanitizer finding\n", ncap,
	    sweep_runs, sweep_exit2);
}
END_TEST

/* The mutator itself: the same mutants every time, and they differ. */
START_TEST(test_mutator_deterministic)
{
	char src[512], a[512], b[512];
	struct capfile c;
	char *x, *y;
	size_t nx, ny, diff = 0, i;

	memset(&c, 0, sizeof(c));
	c.b = (uint8_t *)tu_read_file(tu_pcap_path(src, sizeof(src),
	    "modbus-icsnpp-example.pcap"), &c.n);
	ck_assert_ptr_nonnull(c.b);
	ck_assert(cap_parse(&c, SWEEP_MAX_RECORDS));
	ck_assert_uint_eq(c.nr, 100);
	mutate(&c, MUT_FLIP, seed_of("x", 0), tmp(a, sizeof(a), "a"));
	mutate(&c, MUT_FLIP, seed_of("x", 0), tmp(b, sizeof(b), "b"));
	x = tu_read_file(a, &nx);
	y = tu_read_file(b, &ny);
	ck_assert_uint_eq(nx, c.n);
	ck_assert_uint_eq(ny, nx);
	ck_assert_int_eq(memcmp(x, y, nx), 0);
	for (i = 0; i < nx; i++)
		diff += x[i] != (char)c.b[i];
	ck_assert_uint_gt(diff, 0);
	free(x);
	free(y);
	mutate(&c, MUT_SHORT, seed_of("x", 3), a);
	ck_assert_int_lt(tu_file_size(a), (long long)c.n);
	mutate(&c, MUT_SWAP, seed_of("x", 4), a);
	ck_assert_int_eq(tu_file_size(a), (long long)c.n);
	free(c.r);
	free(c.b);
}
END_TEST

/* ---- regress: what the fuzzers found --------------------------------- */

/*
 * Every capture in tests/regress (crash inputs of fuzz_pipeline, and the
 * issue's own TCP capture) replays with every detector on, learning; what
 * was learned loads back and the same capture replays against it.  Both
 * runs exit 0 with no sanitizer line.
 *   tcp-seq-2p31-behind.pcap       UBSan: -INT32_MIN in tcp_segment
 *   baseline-stamp-after-2038.pcap a record stamped 2085: libpcap hands
 *       the 32-bit seconds over sign-extended, the baseline got year
 *       586503 and could not load its own file (exit 2)
 *   baseline-asset-table-growth.pcap (tests/regress/gen_asset_growth.py,
 *       from a fuzz_pipeline crash): ASan heap-use-after-free in
 *       learn_flow; adding a flow's server grew the baseline's asset
 *       table while the client's entry was held by pointer
 */
START_TEST(test_regressions)
{
	char conf[512], learned[512], path[512], what[600];
	struct dirent **ents;
	struct tu_result r;
	cJSON *st;
	int n, i, done = 0;

	ck_assert_int_eq(tu_write_file(tmp(conf, sizeof(conf), "all-on.conf"),
	    all_on_conf, strlen(all_on_conf)), 0);
	n = scandir("tests/regress", &ents, NULL, by_name);
	ck_assert_msg(n > 0, "no tests/regress (run from the source tree)");
	for (i = 0; i < n; i++) {
		if (!is_capture(ents[i])) {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "tests/regress/%s", ents[i]->d_name);
		tmp(learned, sizeof(learned), "regress.json");
		unlink(learned);
		agent(&r, "-c", conf, "-r", path, "--stats", "--alerts-out",
		    "/dev/null", "--learn", learned, NULL);
		snprintf(what, sizeof(what), "%s (learning)", path);
		cJSON_Delete(clean_stats(&r, what));
		tu_result_free(&r);
		agent(&r, "-c", conf, "-r", path, "--stats", "--alerts-out",
		    "/dev/null", "--baseline", learned, NULL);
		snprintf(what, sizeof(what), "%s (against what it learned)", path);
		st = clean_stats(&r, what);
		ck_assert_uint_gt(num(st, "packets"), 0);
		cJSON_Delete(st);
		tu_result_free(&r);
		free(ents[i]);
		done++;
	}
	free(ents);
	ck_assert_int_ge(done, 3);
}
END_TEST

/* classic pcap record header, little endian */
static void
rec_hdr(uint8_t *b, uint32_t sec, uint32_t usec, uint32_t len)
{
	put32(b, sec, false);
	put32(b + 4, usec, false);
	put32(b + 8, len, false);
	put32(b + 12, len, false);
}

/*
 * Record stamps out of range: 0xffffffff seconds is 2106 (valid: the
 * field is unsigned); a microsecond field of 5,000,000 is clamped and
 * counted.  What the baseline learned from them loads back.
 */
START_TEST(test_bad_timestamps)
{
	static const uint8_t hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0 };
	uint8_t b[24 + 2 * (16 + 60)], pkt[60];
	char path[512], learned[512];
	struct tu_result r;
	cJSON *st;
	const char *from;

	/* one TCP SYN 10.0.0.1:1234 -> 10.0.0.2:502 */
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
	    "\x45\0\0\x28\0\0\x40\0\x40\x06\0\0\x0a\0\0\x01\x0a\0\0\x02"
	    "\x04\xd2\x01\xf6\0\0\0\x01\0\0\0\0\x50\x02\xff\xff\0\0\0\0",
	    54);
	memcpy(b, hdr, 24);
	rec_hdr(b + 24, 0xffffffffu, 0, 60);
	memcpy(b + 40, pkt, 60);
	rec_hdr(b + 100, 1764806400u, 5000000u, 60);
	memcpy(b + 116, pkt, 60);
	b[116 + 34 + 1] = 0xd3;		/* another source port: another flow */
	ck_assert_int_eq(tu_write_file(tmp(path, sizeof(path), "ts.pcap"), b,
	    sizeof(b)), 0);
	tmp(learned, sizeof(learned), "ts.json");
	agent(&r, "-r", path, "--stats", "--learn", learned, NULL);
	st = clean_stats(&r, "stamps");
	ck_assert_uint_eq(num(st, "packets"), 2);
	ck_assert_uint_eq(num(st, "capture.bad_timestamps"), 1);
	cJSON_Delete(st);
	tu_result_free(&r);
	st = NULL;
	{
		char *text = tu_read_file(learned, NULL);

		ck_assert_ptr_nonnull(text);
		st = cJSON_Parse(text);
		free(text);
	}
	ck_assert_ptr_nonnull(st);
	from = tu_json_str(st, "learned.until");
	ck_assert_ptr_nonnull(from);
	ck_assert_str_eq(from, "2106-02-07T06:28:15.000000Z");
	cJSON_Delete(st);
	agent(&r, "-r", path, "--stats", "--baseline", learned, NULL);
	cJSON_Delete(clean_stats(&r, "stamps against what they taught"));
	tu_result_free(&r);
}
END_TEST

static Suite *
robust_suite(void)
{
	Suite *s = suite_create("robust");
	TCase *seq = tcase_create("seq");
	TCase *mut = tcase_create("mutate");
	TCase *unit = tcase_create("units");

	tcase_add_checked_fixture(seq, setup, teardown);
	tcase_set_timeout(seq, 120);
	tcase_add_test(seq, test_seq_exactly_2p31_behind);
	tcase_add_test(seq, test_seq_2p31_minus_1_behind);
	tcase_add_test(seq, test_seq_2p31_plus_1_behind);
	tcase_add_test(seq, test_seq_wrap);
	suite_add_tcase(s, seq);

	tcase_add_checked_fixture(unit, setup, teardown);
	tcase_set_timeout(unit, 300);
	tcase_add_test(unit, test_regressions);
	tcase_add_test(unit, test_bad_timestamps);
	tcase_add_test(unit, test_ipmap_full_is_cheap);
	tcase_add_test(unit, test_ipmap_not_full);
	suite_add_tcase(s, unit);

	tcase_add_checked_fixture(mut, setup, teardown);
	tcase_set_timeout(mut, 1200);
	tcase_add_test(mut, test_mutator_deterministic);
	tcase_add_test(mut, test_mutation_sweep);
	suite_add_tcase(s, mut);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(robust_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
