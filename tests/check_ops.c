/*
 * check_ops.c - operating the agent (issue 18), with the real binary:
 *
 *   config      -t/--check-config: 0 for a good file, 2 with file:line for
 *               a bad key or a bad MQTT URI (file and --mqtt); -c FILE
 *               --print-config prints the effective values and where they
 *               came from, and that output is itself a valid config
 *   coverage    the stats' "coverage" per protocol with and without a
 *               policy; the banner on stderr when it is a terminal (a pty)
 *   log         stderr lines: "icsentry-agent: <UTC time> <level>: ..."
 *               and, when JOURNAL_STREAM names stderr, "<3>icsentry-agent:"
 *   rotate      the capture streams through a pipe (-r -); half-way the
 *               alerts file is moved and SIGUSR1 (or SIGHUP) sent: the
 *               alerts after it go to a new file at the configured path,
 *               none lost or duplicated (seq 1..N across both files, equal
 *               to a plain run's); SIGHUP also logs what the reload changed
 *   learn       --learn with checkpoint_minutes = 0.5 on a 119 s capture
 *               kept open on a pipe: checkpoints are logged with their
 *               convergence, SIGKILL after one leaves a baseline file the
 *               agent accepts (--baseline, -t)
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "tests/testutil.h"

#define RUN_MS 60000
#define ROT_PCAP "modbus-iti-read-input-registers.pcap"

static char g_dir[512];
static char g_agent[512];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(g_dir, sizeof(g_dir), "ops"), 0);
	tu_agent_path(g_agent, sizeof(g_agent));
}

static void
teardown(void)
{
	tu_rmtree(g_dir);
}

static const char *
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
	return buf;
}

static void
write_text(const char *p, const char *text)
{
	ck_assert_int_eq(tu_write_file(p, text, strlen(text)), 0);
}

/* Run the agent with the NULL-terminated arguments after argv[0]. */
static void
agent(struct tu_result *r, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = g_agent;
	va_start(ap, r);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_MS, r), 0);
	ck_assert_msg(!r->timed_out, "agent timed out");
}

static bool
matches(const char *text, const char *re)
{
	regex_t rx;
	bool m;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0);
	m = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

/* ---- config ------------------------------------------------------------ */

START_TEST(check_config_good)
{
	char conf[600];
	struct tu_result r;

	path(conf, sizeof(conf), "good.conf");
	write_text(
	    conf, "[agent]\nname = gw1\n[policy]\niec104_masters = 10.0.0.1\n");
	agent(&r, "-t", "-c", conf, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_msg(
	    tu_contains(r.out, "good.conf: configuration OK\n"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out,
			  "coverage: iec104: commands judged: "
			  "[policy] iec104_masters lists 1 address\n"),
	    "%s", r.out);
	ck_assert_msg(tu_contains(r.out,
			  "coverage: dnp3: commands not judged: "
			  "no dnp3_masters and no baseline\n"),
	    "%s", r.out);
	ck_assert_uint_eq(r.err_len, 0);
	tu_result_free(&r);
}
END_TEST

START_TEST(check_config_bad_key_and_uri)
{
	char conf[600], want[700];
	struct tu_result r;

	path(conf, sizeof(conf), "bad.conf");
	write_text(conf, "[agent]\nname = gw1\n\n[capture]\nsnaplen = 9\n");
	agent(&r, "--check-config", "-c", conf, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	snprintf(want, sizeof(want), "%s:5: [capture] snaplen", conf);
	ck_assert_msg(tu_contains(r.err, want), "%s", r.err);
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	ck_assert_uint_eq(r.out_len, 0);
	tu_result_free(&r);

	write_text(
	    conf, "[agent]\nname = gw1\n\n[mqtt]\n\nuri = htp://broker:1883\n");
	agent(&r, "-t", "-c", conf, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	snprintf(want, sizeof(want),
	    "%s:6: [mqtt] uri 'htp://broker:1883' is not tcp://", conf);
	ck_assert_msg(tu_contains(r.err, want), "%s", r.err);
	tu_result_free(&r);

	/* the same check when the agent really starts */
	agent(&r, "-c", conf, "-r", "/nonexistent.pcap", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(tu_contains(r.err, want), "%s", r.err);
	tu_result_free(&r);

	/* from the command line: the option is named instead */
	write_text(conf, "[agent]\nname = gw1\n");
	agent(&r, "-t", "-c", conf, "--mqtt", "foo://x", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(tu_contains(r.err, "--mqtt: [mqtt] uri 'foo://x' is not"),
	    "%s", r.err);
	tu_result_free(&r);
}
END_TEST

START_TEST(print_config_is_effective)
{
	char conf[600], again[600], want[700];
	struct tu_result r, r2;

	path(conf, sizeof(conf), "eff.conf");
	write_text(
	    conf, "[agent]\nsite = plant-x\n\n[flows]\ntcp_timeout = 120\n");
	agent(&r, "-c", conf, "--print-config", "--alerts-out", "/tmp/a.jsonl",
	    NULL);
	ck_assert_int_eq(r.exit_code, 0);
	snprintf(want, sizeof(want), "\nsite = plant-x\t; %s:2\n", conf);
	ck_assert_msg(tu_contains(r.out, want), "%s", r.out);
	snprintf(want, sizeof(want), "\ntcp_timeout = 120\t; %s:5\n", conf);
	ck_assert_msg(tu_contains(r.out, want), "%.2000s", r.out);
	ck_assert(tu_contains(
	    r.out, "\nalerts_out = /tmp/a.jsonl\t; --alerts-out\n"));
	ck_assert(tu_contains(r.out, "\nudp_timeout = 60\t; default\n"));
	/* without -c: the documented defaults, as before */
	agent(&r2, "--print-config", NULL);
	ck_assert_int_eq(r2.exit_code, 0);
	ck_assert(tu_contains(r2.out, "\nsite = default\n"));
	ck_assert(!tu_contains(r2.out, "plant-x"));
	tu_result_free(&r2);
	/* the effective config is a config: same values read back */
	path(again, sizeof(again), "again.conf");
	write_text(again, r.out);
	agent(&r2, "-t", "-c", again, NULL);
	ck_assert_msg(r2.exit_code == 0, "%s", r2.err);
	tu_result_free(&r2);
	agent(&r2, "-c", again, "--print-config", NULL);
	ck_assert_int_eq(r2.exit_code, 0);
	ck_assert(tu_contains(r2.out, "\nsite = plant-x\t; "));
	ck_assert(tu_contains(r2.out, "\nalerts_out = /tmp/a.jsonl\t; "));
	tu_result_free(&r2);
	tu_result_free(&r);
}
END_TEST

/* ---- coverage ---------------------------------------------------------- */

START_TEST(coverage_in_stats)
{
	char conf[600], pcap[600];
	struct tu_result r;
	cJSON *st;

	path(conf, sizeof(conf), "cov.conf");
	tu_pcap_path(pcap, sizeof(pcap), "iec104-iti-diverse.pcap");
	write_text(conf, "[agent]\nname = gw1\n");
	agent(&r, "-c", conf, "-r", pcap, "--stats", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	/* a replay off a terminal: the statistics only */
	ck_assert_uint_eq(tu_count_lines(r.err), 1);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(tu_json_str(st, "coverage.iec104"),
	    "commands not judged: no iec104_masters and no baseline");
	ck_assert_str_eq(tu_json_str(st, "coverage.modbus"),
	    "writes not judged: no modbus_writers and no baseline");
	ck_assert_str_eq(tu_json_str(st, "coverage.remote_access"),
	    "SSH/RDP/Telnet/VNC/SMB watched into the hosts seen serving an "
	    "industrial protocol (no ot_networks; 0 allowed)");
	cJSON_Delete(st);
	tu_result_free(&r);

	write_text(conf,
	    "[agent]\nname = gw1\n[policy]\niec104_masters = 10.0.0.1, "
	    "10.0.0.2\n"
	    "ot_networks = 10.0.0.0/8\n");
	agent(&r, "-c", conf, "-r", pcap, "--stats", NULL);
	st = tu_json_last_line(r.err);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(tu_json_str(st, "coverage.iec104"),
	    "commands judged: [policy] iec104_masters lists 2 addresses");
	ck_assert_str_eq(tu_json_str(st, "coverage.remote_access"),
	    "SSH/RDP/Telnet/VNC/SMB into 1 ot_networks entry watched (0 "
	    "allowed)");
	cJSON_Delete(st);
	tu_result_free(&r);
}
END_TEST

/*
 * The banner: on a terminal a replay logs the coverage before its first
 * packet (live captures always do; check_live runs those).
 */
START_TEST(coverage_banner_on_terminal)
{
	char pcap[600], buf[16384];
	int m, st;
	size_t n = 0;
	pid_t pid;

	tu_pcap_path(pcap, sizeof(pcap), "iec104-iti-diverse.pcap");
	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int s = open(ptsname(m), O_RDWR | O_NOCTTY);

		dup2(s, 2);
		s = open("/dev/null", O_WRONLY);
		dup2(s, 1);
		execl(g_agent, g_agent, "-r", pcap, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { m, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, 5000) <= 0)
			break;
		k = read(m, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break; /* EIO once the child closed the terminal */
		n += (size_t)k;
	}
	buf[n] = '\0';
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(m);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(matches(buf,
			  "^icsentry-agent: [0-9TZ:.-]+ info: coverage: "
			  "iec104: commands not judged: no iec104_masters and "
			  "no baseline\r?$"),
	    "%s", buf);
	ck_assert_msg(
	    strstr(buf, "info: coverage: remote_access: ") != NULL, "%s", buf);
}
END_TEST

/* ---- spawning with a pipe on stdin ------------------------------------- */

struct child {
	pid_t pid;
	int in; /* write end of its stdin */
	char err[600]; /* its stderr file */
};

static void
spawn(struct child *c, char *const argv[], const char **env)
{
	int p[2], fd;

	ck_assert_int_eq(pipe(p), 0);
	path(c->err, sizeof(c->err), "agent.err");
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		fd = open(c->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	c->in = p[1];
}

static int
finish(struct child *c)
{
	int st;

	if (c->in >= 0)
		close(c->in);
	c->in = -1;
	ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
put(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t k = write(fd, b, n);

		ck_assert_int_gt(k, 0);
		b += k;
		n -= (size_t)k;
	}
}

/* A little-endian pcap: header, then records; offsets of each record. */
struct capture {
	uint8_t *b;
	size_t len, nrec, off[4096];
};

static void
load_capture(struct capture *cp, const char *name)
{
	char p[600];
	size_t o = 24;

	tu_pcap_path(p, sizeof(p), name);
	cp->b = (uint8_t *)tu_read_file(p, &cp->len);
	ck_assert_ptr_nonnull(cp->b);
	ck_assert_uint_eq(cp->b[0], 0xd4); /* LE microsecond pcap */
	cp->nrec = 0;
	while (o + 16 <= cp->len && cp->nrec < 4096) {
		uint32_t incl = (uint32_t)cp->b[o + 8] |
		    (uint32_t)cp->b[o + 9] << 8 |
		    (uint32_t)cp->b[o + 10] << 16 |
		    (uint32_t)cp->b[o + 11] << 24;

		cp->off[cp->nrec++] = o;
		o += 16 + incl;
	}
	ck_assert_uint_gt(cp->nrec, 100);
}

/* records [from, to) */
static void
put_records(int fd, const struct capture *cp, size_t from, size_t to)
{
	size_t end = to < cp->nrec ? cp->off[to] : cp->len;

	put(fd, cp->b + cp->off[from], end - cp->off[from]);
}

/* One Ethernet frame of a local experimental EtherType: no IP, no alert. */
static void
put_nudge(int fd, const struct capture *cp, size_t after)
{
	uint8_t rec[16 + 60];

	memset(rec, 0, sizeof(rec));
	memcpy(rec, cp->b + cp->off[after], 8); /* the same timestamp */
	rec[8] = rec[12] = 60;
	rec[16 + 12] = 0x88;
	rec[16 + 13] = 0xb5;
	put(fd, rec, sizeof(rec));
}

static size_t
lines_of(const char *p)
{
	char *t = tu_read_file(p, NULL);
	size_t n = t != NULL ? tu_count_lines(t) : 0;

	free(t);
	return n;
}

/* Wait until file p has stopped growing for 300 ms with > 0 lines. */
static size_t
wait_settled(const char *p)
{
	size_t n = 0, last = (size_t)-1;
	int i, same = 0;

	for (i = 0; i < 300 && same < 6; i++) {
		usleep(50000);
		n = lines_of(p);
		same = n > 0 && n == last ? same + 1 : 0;
		last = n;
	}
	return n;
}

static bool
wait_err(const struct child *c, const char *text, int ms)
{
	for (; ms > 0; ms -= 50) {
		char *t = tu_read_file(c->err, NULL);
		bool found = t != NULL && strstr(t, text) != NULL;

		free(t);
		if (found)
			return true;
		usleep(50000);
	}
	return false;
}

/* the seq of every alert line of file p, appended to seq[*n] */
static void
seqs(const char *p, long *seq, size_t *n, size_t cap)
{
	char *t = tu_read_file(p, NULL);
	cJSON *all;
	int bad = 0, i;

	ck_assert_ptr_nonnull(t);
	all = tu_json_lines(t, &bad);
	ck_assert_int_eq(bad, 0);
	for (i = 0; i < cJSON_GetArraySize(all) && *n < cap; i++)
		seq[(*n)++] = (long)tu_json_num(
		    cJSON_GetArrayItem(all, i), "seq", -1);
	cJSON_Delete(all);
	free(t);
}

/*
 * Rotation with signal sig: the plain run's alerts, split over the moved
 * file and the new one, in order, none twice.
 */
/*
 * Returns the alerts the agent wrote (old file then new, each seq once);
 * *in_old: how many of them the moved file kept.
 */
static size_t
rotate(int sig, size_t *in_old)
{
	char conf[600], out[600], moved[600], want_p[600], pcap[600];
	char *argv[] = { g_agent, "-c", conf, "-r", "-", NULL };
	struct capture cp;
	struct child c;
	struct tu_result r;
	long want[256], got[256];
	size_t nw = 0, ng = 0, nold, i, half;
	int tries;

	path(conf, sizeof(conf), "rot.conf");
	path(out, sizeof(out), "alerts.jsonl");
	path(moved, sizeof(moved), "alerts.jsonl.1");
	path(want_p, sizeof(want_p), "want.jsonl");
	{
		char text[1500];

		snprintf(text, sizeof(text),
		    "[agent]\nname = gw1\nsite = s\n"
		    "alert_window = 0\nalerts_out = %s\n[policy]\n"
		    "modbus_writers = 192.0.2.1\n",
		    want_p);
		write_text(conf, text);
	}
	agent(&r, "-c", conf, "-r", tu_pcap_path(pcap, sizeof(pcap), ROT_PCAP),
	    NULL);
	ck_assert_int_eq(r.exit_code, 0);
	tu_result_free(&r);
	seqs(want_p, want, &nw, 256);
	/* every Modbus write of 10.0.0.x is unauthorized: 63 alerts at the
	 * time of writing (62 once cycle.* joined some); what matters here is
	 * that the rotated run gives exactly the plain run's */
	ck_assert_uint_ge(nw, 50);
	{
		char text[1500];

		snprintf(text, sizeof(text),
		    "[agent]\nname = gw1\nsite = s\n"
		    "alert_window = 0\nalerts_out = %s\n[policy]\n"
		    "modbus_writers = 192.0.2.1\n",
		    out);
		write_text(conf, text);
	}
	load_capture(&cp, ROT_PCAP);
	half = cp.nrec / 2;
	spawn(&c, argv, NULL);
	put(c.in, cp.b, 24);
	put_records(c.in, &cp, 0, half);
	nold = wait_settled(out);
	ck_assert_msg(
	    nold > 0 && nold < nw, "%zu alerts after the first half", nold);
	ck_assert_int_eq(rename(out, moved), 0);
	if (sig == SIGHUP) {
		/* a reload also says what changed */
		char text[1500];

		snprintf(text, sizeof(text),
		    "[agent]\nname = gw1\nsite = s\n"
		    "alert_window = 0\nalerts_out = %s\n[policy]\n"
		    "modbus_writers = 192.0.2.1\ndnp3_masters = 192.0.2.9\n",
		    out);
		write_text(conf, text);
	}
	ck_assert_int_eq(kill(c.pid, sig), 0);
	/* the flag is seen between packets: nudge until it was */
	for (tries = 0; tries < 100; tries++) {
		put_nudge(c.in, &cp, half - 1);
		if (wait_err(&c, "alerts_out: reopened", 100))
			break;
	}
	ck_assert_msg(tries < 100, "no reopen: %s", tu_read_file(c.err, NULL));
	put_records(c.in, &cp, half, cp.nrec);
	ck_assert_int_eq(finish(&c), 0);
	ck_assert_uint_eq(lines_of(moved), nold);
	seqs(moved, got, &ng, 256);
	seqs(out, got, &ng, 256);
	ck_assert_msg(lines_of(out) > 0, "nothing in the new file");
	ck_assert_uint_eq(ng, nw);
	for (i = 0; i < ng; i++)
		ck_assert_int_eq(got[i], (long)(i + 1));
	if (sig == SIGHUP) {
		char *t = tu_read_file(c.err, NULL);
		char want_line[800];

		ck_assert_ptr_nonnull(t);
		snprintf(want_line, sizeof(want_line),
		    "notice: reload: [policy] "
		    "dnp3_masters: '' -> '192.0.2.9' (%s:8)",
		    conf);
		ck_assert_msg(strstr(t, want_line) != NULL, "%s", t);
		ck_assert(
		    strstr(t, "notice: configuration reloaded from") != NULL);
		free(t);
	}
	free(cp.b);
	*in_old = nold;
	return ng;
}

START_TEST(rotate_on_sigusr1)
{
	size_t old = 0, all = rotate(SIGUSR1, &old);

	/* both files hold alerts, none lost, none twice (checked in rotate) */
	ck_assert_uint_ge(all, 50);
	ck_assert_uint_gt(old, 0);
	ck_assert_uint_lt(old, all);
}
END_TEST

START_TEST(rotate_on_sighup)
{
	size_t old = 0, all = rotate(SIGHUP, &old);

	ck_assert_uint_ge(all, 50);
	ck_assert_uint_gt(old, 0);
	ck_assert_uint_lt(old, all);
}
END_TEST

/* ---- log lines --------------------------------------------------------- */

START_TEST(log_line_format)
{
	char *argv[] = { g_agent, "--no-such-option", NULL };
	struct child c;
	struct stat st;
	struct tu_result r;
	static char env[128];
	const char *envv[] = { env, NULL };
	char *t;

	agent(&r, "--no-such-option", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(matches(r.err,
			  "^icsentry-agent: 20[0-9]{2}-[01][0-9]-[0-3][0-9]T"
			  "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z error: "
			  "unknown option "
			  "'--no-such-option' \\(see --help\\)$"),
	    "%s", r.err);
	tu_result_free(&r);

	/* under journald: stderr is the stream JOURNAL_STREAM names */
	spawn(&c, argv, NULL);
	ck_assert_int_eq(finish(&c), 2);
	ck_assert_int_eq(stat(c.err, &st), 0);
	snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	/* the same file again (spawn truncates it, same inode) */
	spawn(&c, argv, envv);
	ck_assert_int_eq(finish(&c), 2);
	t = tu_read_file(c.err, NULL);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t,
	    "<3>icsentry-agent: error: unknown option "
	    "'--no-such-option' (see --help)\n");
	free(t);
	/* a JOURNAL_STREAM inherited from elsewhere is not ours: timestamps */
	snprintf(env, sizeof(env), "JOURNAL_STREAM=1:1");
	spawn(&c, argv, envv);
	ck_assert_int_eq(finish(&c), 2);
	t = tu_read_file(c.err, NULL);
	ck_assert_msg(
	    matches(t, "^icsentry-agent: 20[0-9-]{8}T[0-9:.]{12}Z error: "),
	    "%s", t);
	free(t);
}
END_TEST

/* The collector's lines go through the same lib/log.c. */
START_TEST(collector_log_line_format)
{
	char coll[600], *argv[4];
	struct tu_result r;

	tu_build_path(coll, sizeof(coll), "icsentry-collector");
	argv[0] = coll;
	argv[1] = "-c";
	argv[2] = "/nonexistent/collector.conf";
	argv[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_MS, &r), 0);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(matches(r.err,
			  "^icsentry-collector: 20[0-9-]{8}T[0-9:.]{12}Z "
			  "error: /nonexistent/collector.conf: cannot "
			  "open: No such file or directory$"),
	    "%s", r.err);
	tu_result_free(&r);
}
END_TEST

/* ---- learning ----------------------------------------------------------- */

START_TEST(learn_checkpoint_survives_sigkill)
{
	char conf[600], base[600], text[1200];
	char *argv[] = { g_agent, "-c", conf, "-r", "-", "--learn", base,
		NULL };
	struct capture cp;
	struct child c;
	struct tu_result r;
	char *t;
	cJSON *b;
	int st;

	path(conf, sizeof(conf), "learn.conf");
	path(base, sizeof(base), "base.json");
	snprintf(text, sizeof(text),
	    "[agent]\nname = gw1\n[detector.baseline]\n"
	    "checkpoint_minutes = 0.5\n");
	write_text(conf, text);
	load_capture(&cp, ROT_PCAP); /* 119 s of Modbus polling */
	spawn(&c, argv, NULL);
	put(c.in, cp.b, cp.len);
	/* 30, 60 and 90 s of traffic: three checkpoints, the pipe stays open */
	ck_assert_msg(wait_err(&c, "baseline: checkpoint 3 written to ", 30000),
	    "%s", tu_read_file(c.err, NULL));
	ck_assert_int_eq(kill(c.pid, SIGKILL), 0);
	close(c.in);
	ck_assert_int_eq(waitpid(c.pid, &st, 0), c.pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	t = tu_read_file(c.err, NULL);
	/* the first checkpoint found everything; the next ones nothing new */
	ck_assert_msg(
	    matches(t,
		"info: baseline: checkpoint 1 written to .*base\\.json "
		"after 0\\.5 min of traffic: [1-9][0-9]* hosts, [1-9][0-9]* "
		"links; "),
	    "%s", t);
	ck_assert_msg(
	    matches(t,
		"checkpoint 3 written to .* 0 new in the last 0\\.5 min "
		"\\(0\\.0 per hour\\): converged$"),
	    "%s", t);
	free(t);
	/* the file is a whole baseline (written by rename, never half) */
	t = tu_read_file(base, NULL);
	ck_assert_ptr_nonnull(t);
	b = cJSON_Parse(t);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_gt(
	    cJSON_GetArraySize(cJSON_GetObjectItem(b, "links")), 0);
	cJSON_Delete(b);
	free(t);
	path(text, sizeof(text), "base.json.tmp");
	ck_assert_int_ne(access(text, F_OK), 0);
	agent(&r, "-t", "-c", conf, "--baseline", base, NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert(tu_contains(
	    r.out, "coverage: modbus: writes judged by the baseline "));
	tu_result_free(&r);
	free(cp.b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ops");
	TCase *t = tcase_create("ops");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, check_config_good);
	tcase_add_test(t, check_config_bad_key_and_uri);
	tcase_add_test(t, print_config_is_effective);
	tcase_add_test(t, coverage_in_stats);
	tcase_add_test(t, coverage_banner_on_terminal);
	tcase_add_test(t, log_line_format);
	tcase_add_test(t, collector_log_line_format);
	tcase_add_test(t, rotate_on_sigusr1);
	tcase_add_test(t, rotate_on_sighup);
	tcase_add_test(t, learn_checkpoint_survives_sigkill);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
