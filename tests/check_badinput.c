/*
 * check_badinput.c - bad input through the real agent binary.
 *
 * Every case runs $ICSENTRY_BUILD/icsentry-agent and checks the exit code
 * (DESIGN.md: 0 success, 1 runtime failure, 2 bad usage, config or input)
 * and stderr: one clear line naming the file and the problem.  Broken
 * captures are made here, either by cutting a real capture from
 * $SHARED/pcaps at a known record boundary or from hand-written bytes.
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"

#define RUN_TIMEOUT_MS	(60 * 1000)

static char dir[256];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "badinput"), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

/* "<tmp dir>/name" into buf. */
static const char *
tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* Run the agent with the NULL-terminated arguments; stdin from in. */
static void
agent(struct tu_result *r, const char *in, ...)
{
	char path[512], *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	va_start(ap, in);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, in, RUN_TIMEOUT_MS, r), 0);
	ck_assert_msg(!r->timed_out, "agent timed out");
}

/*
 * An error: exit code want, nothing on stdout, exactly one line on stderr
 * starting "icsentry-agent: " and containing each of the NULL-terminated
 * strings.
 */
/*
 * A refused run: one "icsentry-agent: " line on stderr mentioning every
 * string given (NULL-terminated), nothing on stdout.  Returns the exit code.
 */
static int
error_exit(const struct tu_result *r, ...)
{
	const char *s;
	va_list ap;

	ck_assert_msg(tu_count_lines(r->err) == 1,
	    "want one line on stderr, got %zu: %s", tu_count_lines(r->err),
	    r->err);
	ck_assert_msg(strncmp(r->err, "icsentry-agent: ", 16) == 0, "%s",
	    r->err);
	ck_assert_uint_eq(r->out_len, 0);
	va_start(ap, r);
	while ((s = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(r->err, s) != NULL,
		    "stderr does not mention '%s': %s", s, r->err);
	va_end(ap);
	return r->exit_code;
}

/* ---- capture files ---------------------------------------------------- */

/* Little-endian pcap file header for link type dlt. */
static size_t
pcap_header(uint8_t *b, uint32_t dlt, uint32_t snaplen)
{
	const uint32_t v[6] = { 0xa1b2c3d4u, 2u | (4u << 16), 0, 0, snaplen,
		dlt };
	size_t i;

	for (i = 0; i < 6; i++) {
		b[i * 4] = (uint8_t)v[i];
		b[i * 4 + 1] = (uint8_t)(v[i] >> 8);
		b[i * 4 + 2] = (uint8_t)(v[i] >> 16);
		b[i * 4 + 3] = (uint8_t)(v[i] >> 24);
	}
	return 24;
}

static void
le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *b, bool big)
{
	return big ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3] :
	    (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[1] << 8 | b[0];
}

/* A record: ts_sec, ts_usec, caplen, len, then caplen bytes of data. */
static size_t
pcap_record(uint8_t *b, uint32_t sec, uint32_t caplen, uint32_t len,
    const uint8_t *data, size_t ndata)
{
	le32(b, sec);
	le32(b + 4, 0);
	le32(b + 8, caplen);
	le32(b + 12, len);
	if (ndata > 0)
		memcpy(b + 16, data, ndata);
	return 16 + ndata;
}

/* Ethernet / IPv4 / TCP 10.0.0.1:49152 -> 10.0.0.2:502 with 6 bytes. */
static const uint8_t frame[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dst MAC */
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* src MAC */
	0x08, 0x00,				/* IPv4 */
	0x45, 0x00, 0x00, 0x2e,			/* v4, IHL 5, total 46 */
	0x12, 0x34, 0x40, 0x00,			/* id, DF */
	0x40, 0x06, 0x00, 0x00,			/* TTL 64, TCP, checksum */
	0x0a, 0x00, 0x00, 0x01,			/* src 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x02,			/* dst 10.0.0.2 */
	0xc0, 0x00, 0x01, 0xf6,			/* 49152 -> 502 */
	0x00, 0x00, 0x00, 0x01,			/* seq */
	0x00, 0x00, 0x00, 0x00,			/* ack */
	0x50, 0x18, 0xff, 0xff,			/* doff 5, PSH|ACK, window */
	0x00, 0x00, 0x00, 0x00,			/* checksum, urgent */
	0x00, 0x01, 0x00, 0x00, 0x00, 0x06,	/* payload */
};

/*
 * Offsets of the records (pcap) or blocks (pcapng) of a capture file;
 * returns the count, fills at most max.  For pcapng only Enhanced Packet
 * Blocks are listed.
 */
static size_t
record_offsets(const uint8_t *d, size_t n, size_t *off, size_t max)
{
	size_t pos, k = 0;
	uint32_t magic = get32(d, false), type, len;
	bool big;

	if (magic == 0x0a0d0d0au) {		/* pcapng, little endian */
		for (pos = 0; pos + 8 <= n; pos += len) {
			type = get32(d + pos, false);
			len = get32(d + pos + 4, false);
			ck_assert_uint_ge(len, 12);
			if (type == 6 && k < max)
				off[k++] = pos;
		}
		return k;
	}
	ck_assert_msg(magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u ||
	    magic == 0xa1b23c4du || magic == 0x4d3cb2a1u, "magic %x", magic);
	big = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	for (pos = 24; pos + 16 <= n; pos += 16 + get32(d + pos + 8, big))
		if (k < max)
			off[k++] = pos;
	return k;
}

/* Copy the real capture name to dst keeping its first len bytes. */
static void
cut_capture(const char *name, const char *dst, size_t len)
{
	char src[512];

	tu_pcap_path(src, sizeof(src), name);
	ck_assert_int_eq(tu_copy_prefix(src, dst, len), 0);
}

/* ---- files that are not captures ---------------------------------------- */

START_TEST(test_missing_file)
{
	struct tu_result r;
	char p[300];

	tmp(p, sizeof(p), "no-such-file.pcap");
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "cannot open", "No such file", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_directory)
{
	struct tu_result r;

	agent(&r, NULL, "-r", dir, NULL);
	ck_assert_int_eq(error_exit(&r, dir, "is a directory", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_empty_file)
{
	struct tu_result r;
	char p[300];

	tmp(p, sizeof(p), "empty.pcap");
	ck_assert_int_eq(tu_write_file(p, "", 0), 0);
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "empty", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_garbage_file)
{
	static const char text[] =
	    "# icsentry\nThis is a text file, not a packet capture at all.\n";
	struct tu_result r;
	char p[300];

	tmp(p, sizeof(p), "garbage.pcap");
	ck_assert_int_eq(tu_write_file(p, text, sizeof(text) - 1), 0);
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "not a pcap", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_short_header)
{
	struct tu_result r;
	char p[300];

	/* a pcap magic and then the file ends: 10 of 24 header bytes */
	tmp(p, sizeof(p), "short.pcap");
	cut_capture("modbus-zeek-small.pcap", p, 10);
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "truncated", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_header_only_is_valid)
{
	struct tu_result r;
	uint8_t b[24];
	cJSON *st;
	char p[300];

	tmp(p, sizeof(p), "nothing.pcap");
	ck_assert_int_eq(tu_write_file(p, b, pcap_header(b, 1, 65535)), 0);
	agent(&r, NULL, "-r", p, "--stats", NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tu_json_num(st, "packets", -1), 0);
	ck_assert_int_eq(tu_json_num(st, "flows.created", -1), 0);
	cJSON_Delete(st);
	tu_result_free(&r);
}
END_TEST

/* ---- broken captures ---------------------------------------------------- */

/*
 * Cut a real capture in the middle of a record: every whole packet before
 * it is processed (the --stats count proves it), then the truncation is
 * reported in one line and the exit code is not 0.
 */
/*
 * Cut a capture inside record keep_whole and replay it: exit 2, one line
 * naming the file and the problem.  Returns the packets processed.
 */
static int
check_truncated(const char *name, size_t keep_whole, size_t extra,
    const char *what)
{
	static size_t off[70000];
	int seen;
	struct tu_result r;
	char src[512], p[300];
	uint8_t *d;
	size_t n, nrec;
	cJSON *st;

	tu_pcap_path(src, sizeof(src), name);
	d = (uint8_t *)tu_read_file(src, &n);
	ck_assert_ptr_nonnull(d);
	nrec = record_offsets(d, n, off, sizeof(off) / sizeof(off[0]));
	free(d);
	ck_assert_uint_gt(nrec, keep_whole);
	tmp(p, sizeof(p), "cut.pcap");
	/* the whole records before record keep_whole, then extra bytes of it */
	cut_capture(name, p, off[keep_whole] + extra);

	agent(&r, NULL, "-r", p, "--stats", NULL);
	ck_assert_msg(r.exit_code != 0 && r.exit_code < 128,
	    "exit %d; stderr: %s", r.exit_code, r.err);
	ck_assert_int_eq(r.exit_code, 2);
	/* the truncation line, then the statistics */
	ck_assert_msg(tu_count_lines(r.err) == 2, "%s", r.err);
	ck_assert_msg(strstr(r.err, what) != NULL, "%s", r.err);
	ck_assert_msg(strstr(r.err, p) != NULL, "%s", r.err);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	seen = (int)tu_json_num(st, "packets", -1);
	cJSON_Delete(st);
	tu_result_free(&r);

	/* without --stats: exactly the one line */
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, what, NULL), 2);
	tu_result_free(&r);
	return seen;
}

START_TEST(test_truncated_mid_packet)
{
	/* 100 records; keep 99, then the header and 30 bytes of the last */
	ck_assert_int_eq(check_truncated("modbus-icsnpp-example.pcap", 99, 16 + 30, "truncated"), 99);
}
END_TEST

START_TEST(test_truncated_in_record_header)
{
	/* keep 97 records and 8 bytes of the 98th record's header */
	ck_assert_int_eq(check_truncated("modbus-icsnpp-example.pcap", 97, 8, "truncated"), 97);
}
END_TEST

START_TEST(test_truncated_pcapng)
{
	/* hart-ip.pcap is pcapng: 116 packet blocks; keep 115 and 40 bytes */
	ck_assert_int_eq(check_truncated("hart-ip.pcap", 115, 40, "truncated"), 115);
}
END_TEST

START_TEST(test_zero_caplen_record)
{
	uint8_t b[512];
	struct tu_result r;
	size_t n;
	cJSON *st;
	char p[300];

	/* a good packet, a record with caplen 0 (len 60), a good packet */
	n = pcap_header(b, 1, 65535);
	n += pcap_record(b + n, 1, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	n += pcap_record(b + n, 2, 0, 60, NULL, 0);
	n += pcap_record(b + n, 3, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	tmp(p, sizeof(p), "zero-caplen.pcap");
	ck_assert_int_eq(tu_write_file(p, b, n), 0);

	agent(&r, NULL, "-r", p, "--stats", NULL);
	ck_assert_msg(r.exit_code < 128, "crashed: %s", r.err);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	/* never trusted: counted as a short frame, the others decoded */
	ck_assert_int_eq(tu_json_num(st, "packets", -1), 3);
	ck_assert_int_eq(tu_json_num(st, "ip", -1), 2);
	ck_assert_int_eq(tu_json_num(st, "decode_errors.trunc_link", -1), 1);
	cJSON_Delete(st);
	tu_result_free(&r);

	/* issue #2: a zero-length caplen record gives one clear line */
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_oversize_caplen_record)
{
	uint8_t b[512];
	struct tu_result r;
	size_t n;
	cJSON *st;
	char p[300];

	/* one good packet, then a record claiming 300000 captured bytes
	 * (more than the snaplen 65535 and than any link type allows) */
	n = pcap_header(b, 1, 65535);
	n += pcap_record(b + n, 1, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	n += pcap_record(b + n, 2, 300000, 300000, frame, sizeof(frame));
	tmp(p, sizeof(p), "oversize.pcap");
	ck_assert_int_eq(tu_write_file(p, b, n), 0);

	agent(&r, NULL, "-r", p, "--stats", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(tu_json_num(st, "packets", -1), 1);
	cJSON_Delete(st);
	tu_result_free(&r);

	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "300000", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_caplen_over_snaplen)
{
	uint8_t b[1024], big[sizeof(frame) + 100];
	struct tu_result r;
	size_t n;
	cJSON *st;
	char p[300];

	/* file snaplen 64, a 160-byte record between two good ones: libpcap
	 * clips it to the snaplen; it must be read within bounds, and the
	 * record after it must still be found */
	memcpy(big, frame, sizeof(frame));
	memset(big + sizeof(frame), 0xab, 100);
	n = pcap_header(b, 1, 64);
	n += pcap_record(b + n, 1, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	n += pcap_record(b + n, 2, sizeof(big), sizeof(big), big, sizeof(big));
	n += pcap_record(b + n, 3, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	tmp(p, sizeof(p), "over-snaplen.pcap");
	ck_assert_int_eq(tu_write_file(p, b, n), 0);

	agent(&r, NULL, "-r", p, "--stats", NULL);
	ck_assert_msg(r.exit_code == 0 || r.exit_code == 2,
	    "exit %d: %s", r.exit_code, r.err);
	ck_assert_uint_le(tu_count_lines(r.err), 2);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	if (r.exit_code == 0)
		ck_assert_int_eq(tu_json_num(st, "packets", -1), 3);
	else
		ck_assert_int_eq(tu_json_num(st, "packets", -1), 1);
	cJSON_Delete(st);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_unsupported_linktype)
{
	uint8_t b[256];
	struct tu_result r;
	size_t n;
	char p[300];

	/* link type 147 (DLT_USER0) */
	n = pcap_header(b, 147, 65535);
	n += pcap_record(b + n, 1, sizeof(frame), sizeof(frame), frame,
	    sizeof(frame));
	tmp(p, sizeof(p), "user0.pcap");
	ck_assert_int_eq(tu_write_file(p, b, n), 0);
	agent(&r, NULL, "-r", p, NULL);
	ck_assert_int_eq(error_exit(&r, p, "unsupported link type 147", NULL), 2);
	tu_result_free(&r);
}
END_TEST

/* ---- command line and config -------------------------------------------- */

START_TEST(test_bad_config)
{
	static const char conf[] =
	    "; test\n[agent]\nsite = plant-a\nno_such_key = 1\n";
	struct tu_result r;
	char p[300], cap[512], want[400];

	tmp(p, sizeof(p), "agent.conf");
	ck_assert_int_eq(tu_write_file(p, conf, sizeof(conf) - 1), 0);
	tu_pcap_path(cap, sizeof(cap), "modbus-zeek-small.pcap");
	agent(&r, NULL, "-c", p, "-r", cap, NULL);
	snprintf(want, sizeof(want), "%s:4: ", p);
	ck_assert_int_eq(error_exit(&r, want, "no_such_key", NULL), 2);
	tu_result_free(&r);

	/* a bad value names file and line too */
	ck_assert_int_eq(tu_write_file(p, "[flows]\n\nmax_flows = 3\n", 23), 0);
	agent(&r, NULL, "-c", p, "-r", cap, NULL);
	snprintf(want, sizeof(want), "%s:3: ", p);
	ck_assert_int_eq(error_exit(&r, want, "max_flows", NULL), 2);
	tu_result_free(&r);

	/* a config file that does not exist */
	tmp(p, sizeof(p), "missing.conf");
	agent(&r, NULL, "-c", p, "-r", cap, NULL);
	ck_assert_int_eq(error_exit(&r, p, NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_unknown_option)
{
	struct tu_result r;

	agent(&r, NULL, "--no-such-option", NULL);
	ck_assert_int_eq(error_exit(&r, "--no-such-option", NULL), 2);
	tu_result_free(&r);
	agent(&r, NULL, "-Z", NULL);
	ck_assert_int_eq(error_exit(&r, "-Z", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_usage_errors)
{
	struct tu_result r;
	char cap[512];

	tu_pcap_path(cap, sizeof(cap), "modbus-zeek-small.pcap");
	/* -r and -i together */
	agent(&r, NULL, "-r", cap, "-i", "lo", NULL);
	ck_assert_int_eq(error_exit(&r, "-i", "-r", NULL), 2);
	tu_result_free(&r);
	/* an option without its value */
	agent(&r, NULL, "-r", NULL);
	ck_assert_int_eq(error_exit(&r, "-r", NULL), 2);
	tu_result_free(&r);
	/* nothing to read */
	agent(&r, NULL, NULL);
	ck_assert_int_eq(error_exit(&r, NULL), 2);
	tu_result_free(&r);
	/* a stray argument */
	agent(&r, NULL, "-r", cap, "stray", NULL);
	ck_assert_int_eq(error_exit(&r, "stray", NULL), 2);
	tu_result_free(&r);
	/* a BPF filter that does not compile */
	agent(&r, NULL, "-r", cap, "-f", "tcp port ((", NULL);
	ck_assert_int_eq(error_exit(&r, "filter", NULL), 2);
	tu_result_free(&r);
}
END_TEST

START_TEST(test_help_and_version)
{
	struct tu_result r;

	agent(&r, NULL, "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--read"));
	ck_assert_ptr_nonnull(strstr(r.out, "--flows-out"));
	ck_assert_ptr_nonnull(strstr(r.out, "--stats"));
	ck_assert_uint_eq(r.err_len, 0);
	tu_result_free(&r);
	agent(&r, NULL, "-h", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: icsentry-agent"));
	tu_result_free(&r);
	agent(&r, NULL, "--version", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "icsentry-agent "));
	ck_assert_uint_eq(tu_count_lines(r.out), 1);
	tu_result_free(&r);
}
END_TEST

/* ---- outputs ------------------------------------------------------------ */

START_TEST(test_alerts_out_unwritable)
{
	struct tu_result r;
	char cap[512];
	const char *p;
	cJSON *st;
	int said = 0;

	/*
	 * alerts_out is written out per batch of packets: a full disk is
	 * told once, every alert it lost is counted, the run goes on
	 */
	tu_pcap_path(cap, sizeof(cap), "s7comm-snap7-s300-everything.pcap");
	agent(&r, NULL, "-r", cap, "--no-mqtt", "--alerts-out", "/dev/full",
	    "--stats", NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	for (p = r.err; (p = strstr(p, "cannot write alerts_out: No space "
	    "left on device")) != NULL; p++)
		said++;
	ck_assert_int_eq(said, 1);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	ck_assert_double_eq(tu_json_num(st, "alerts.emitted", -1), 8);
	ck_assert_double_eq(tu_json_num(st, "alerts.sink_errors", -1), 8);
	cJSON_Delete(st);
	tu_result_free(&r);
}
END_TEST

/* ---- stdin -------------------------------------------------------------- */

/* -r FILE and -r - with FILE on stdin agree; returns the flows seen. */
static int
check_stdin(const char *name)
{
	int flows;
	struct tu_result a, b;
	cJSON *sa, *sb, *fa, *fb;
	char cap[512];

	tu_pcap_path(cap, sizeof(cap), name);
	agent(&a, NULL, "-r", cap, "--stats", "--flows-out", "-", NULL);
	agent(&b, cap, "-r", "-", "--stats", "--flows-out", "-", NULL);
	ck_assert_msg(a.exit_code == 0, "%s", a.err);
	ck_assert_msg(b.exit_code == 0, "%s", b.err);
	sa = tu_json_last_line(a.err);
	sb = tu_json_last_line(b.err);
	ck_assert_ptr_nonnull(sa);
	ck_assert_ptr_nonnull(sb);
	ck_assert_double_gt(tu_json_num(sa, "flows.created", -1), 0);
	ck_assert_double_eq(tu_json_num(sa, "flows.created", -1),
	    tu_json_num(sb, "flows.created", -2));
	ck_assert_double_eq(tu_json_num(sa, "packets", -1),
	    tu_json_num(sb, "packets", -2));
	ck_assert_double_eq(tu_json_num(sa, "bytes", -1),
	    tu_json_num(sb, "bytes", -2));
	fa = tu_json_lines(a.out, NULL);
	fb = tu_json_lines(b.out, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(fa), cJSON_GetArraySize(fb));
	ck_assert_int_eq(cJSON_GetArraySize(fa),
	    (int)tu_json_num(sa, "flows.created", -1));
	/* the same flows: same text line for line */
	ck_assert_str_eq(a.out, b.out);
	cJSON_Delete(fa);
	cJSON_Delete(fb);
	flows = (int)tu_json_num(sa, "flows.created", -1);
	cJSON_Delete(sa);
	cJSON_Delete(sb);
	tu_result_free(&a);
	tu_result_free(&b);
	return flows;
}

START_TEST(test_stdin_replay)
{
	ck_assert_int_gt(check_stdin("dnp3-icsnpp-example.pcap"), 0);
	ck_assert_int_gt(check_stdin("hart-ip.pcap"), 0);		/* pcapng */
}
END_TEST

START_TEST(test_stdin_garbage)
{
	static const char junk[] = "\x01\x02\x03\x04 not a capture at all";
	struct tu_result r;
	char p[300];

	tmp(p, sizeof(p), "garbage.bin");
	ck_assert_int_eq(tu_write_file(p, junk, sizeof(junk) - 1), 0);
	agent(&r, p, "-r", "-", NULL);
	ck_assert_int_eq(error_exit(&r, "stdin", "not a pcap", NULL), 2);
	tu_result_free(&r);
}
END_TEST

static Suite *
badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *files = tcase_create("files");
	TCase *caps = tcase_create("captures");
	TCase *cli = tcase_create("cli");

	tcase_add_checked_fixture(files, setup, teardown);
	tcase_set_timeout(files, 120);
	tcase_add_test(files, test_missing_file);
	tcase_add_test(files, test_directory);
	tcase_add_test(files, test_empty_file);
	tcase_add_test(files, test_garbage_file);
	tcase_add_test(files, test_short_header);
	tcase_add_test(files, test_header_only_is_valid);
	suite_add_tcase(s, files);

	tcase_add_checked_fixture(caps, setup, teardown);
	tcase_set_timeout(caps, 120);
	tcase_add_test(caps, test_truncated_mid_packet);
	tcase_add_test(caps, test_truncated_in_record_header);
	tcase_add_test(caps, test_truncated_pcapng);
	tcase_add_test(caps, test_zero_caplen_record);
	tcase_add_test(caps, test_oversize_caplen_record);
	tcase_add_test(caps, test_caplen_over_snaplen);
	tcase_add_test(caps, test_unsupported_linktype);
	suite_add_tcase(s, caps);

	tcase_add_checked_fixture(cli, setup, teardown);
	tcase_set_timeout(cli, 120);
	tcase_add_test(cli, test_bad_config);
	tcase_add_test(cli, test_unknown_option);
	tcase_add_test(cli, test_usage_errors);
	tcase_add_test(cli, test_help_and_version);
	tcase_add_test(cli, test_stdin_replay);
	tcase_add_test(cli, test_stdin_garbage);
	tcase_add_test(cli, test_alerts_out_unwritable);
	suite_add_tcase(s, cli);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(badinput_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
