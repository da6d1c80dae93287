/*
 * check_install.c - make install / make uninstall, the man pages, the
 * systemd units.
 *
 * Runs the real `make install` twice into private directories:
 *   - with DESTDIR (a package's staging tree, default PREFIX): the whole
 *     tree, modes, contents, units pointing at /usr/local/bin, the installed
 *     binaries run, a second install overwrites the configs, uninstall
 *     removes everything but the configs;
 *   - without DESTDIR, every directory moved under the test directory
 *     (PREFIX, SYSCONFDIR, SYSTEMD_UNITDIR): an existing config is kept, the
 *     units' ExecStart follows PREFIX and SYSCONFDIR, and
 *     `systemd-analyze verify` accepts both units (skipped, with a message,
 *     where systemd-analyze is missing).
 * And the man pages: `man --warnings -l` renders each without a word on
 * stderr, and every long option that a binary's --help lists is in its page.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/testutil.h"

#define MAKE_TIMEOUT_MS	180000
#define RUN_TIMEOUT_MS	30000

static const char *const progs[] = {
	"icsentry-agent", "icsentry-collector", "icsentry-log", "icsentry-intel",
	"icsentry-web"
};
#define NPROGS	(sizeof(progs) / sizeof(progs[0]))

/* snprintf into an array, failing the test when it does not fit */
#define FMT(buf, ...) \
	ck_assert_msg(fits(snprintf((buf), sizeof(buf), __VA_ARGS__), \
	    sizeof(buf)), "%s: too long", #buf)

static bool
fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len;
}

/* Is an executable NAME on $PATH?  Its path into buf. */
static bool
in_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *e;

	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(e - p), p, name);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

/*
 * make -s TARGET VAR=VALUE... in the work tree, with this build dir and
 * without the MAKEFLAGS of a `make test` around us.  Fails the test
 * unless make exits 0; its output is returned in r.
 */
static void
run_make(struct tu_result *r, const char *target, const char *v1,
    const char *v2, const char *v3, const char *v4)
{
	char build[4096];
	char *argv[16];
	int n = 0;

	FMT(build, "BUILD=%s", tu_build_dir());
	argv[n++] = "/usr/bin/env";
	argv[n++] = "-u";
	argv[n++] = "MAKEFLAGS";
	argv[n++] = "-u";
	argv[n++] = "MFLAGS";
	argv[n++] = "-u";
	argv[n++] = "MAKELEVEL";
	argv[n++] = "make";
	argv[n++] = "-s";
	argv[n++] = "--no-print-directory";
	argv[n++] = build;
	argv[n++] = (char *)target;
	if (v1 != NULL) argv[n++] = (char *)v1;
	if (v2 != NULL) argv[n++] = (char *)v2;
	if (v3 != NULL) argv[n++] = (char *)v3;
	if (v4 != NULL) argv[n++] = (char *)v4;
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, MAKE_TIMEOUT_MS, r), 0);
	ck_assert_msg(!r->timed_out, "make %s timed out", target);
	ck_assert_msg(r->exit_code == 0, "make %s %s %s: exit %d\n%s%s", target,
	    v1 != NULL ? v1 : "", v2 != NULL ? v2 : "", r->exit_code, r->out,
	    r->err);
}

/* path = dir/rel; fails unless it is a regular file of that mode. */
static void
want_file(const char *dir, const char *rel, mode_t mode)
{
	char path[4096];
	struct stat st;

	FMT(path, "%s/%s", dir, rel);
	ck_assert_msg(stat(path, &st) == 0, "%s: not installed (%s)", rel,
	    strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode), "%s: not a regular file", rel);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %04o, want %04o",
	    rel, (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

static bool
exists(const char *dir, const char *rel)
{
	char path[4096];
	struct stat st;

	FMT(path, "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

/* dir/rel has the same bytes as the work tree's src. */
static void
want_same(const char *dir, const char *rel, const char *src)
{
	char path[4096];
	size_t la, lb;
	char *a, *b;

	FMT(path, "%s/%s", dir, rel);
	a = tu_read_file(path, &la);
	b = tu_read_file(src, &lb);
	ck_assert_msg(a != NULL && b != NULL, "%s or %s unreadable", path, src);
	ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s differs from %s",
	    rel, src);
	free(a);
	free(b);
}

/* The unit dir/rel has "ExecStart=<exec>" and no other ExecStart line. */
static void
want_exec_start(const char *dir, const char *rel, const char *exec)
{
	char path[4096], want[4096];
	const char *p;
	char *text;
	int n = 0;

	FMT(path, "%s/%s", dir, rel);
	FMT(want, "ExecStart=%s\n", exec);
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s unreadable", path);
	ck_assert_msg(strstr(text, want) != NULL, "%s: no line %s", rel, want);
	for (p = text; (p = strstr(p, "\nExecStart=")) != NULL; p++)
		n++;
	ck_assert_msg(n == 1, "%s: %d ExecStart lines", rel, n);
	free(text);
}

/* ---- make install DESTDIR=... -------------------------------------------- */

START_TEST(test_install_destdir)
{
	char dir[4096], stage[4096], destdir[4096], rel[512], src[512];
	char path[4096], *argv[3];
	struct tu_result r;
	size_t i;
	static const char *const broker[] = { "mosquitto.conf", "acl",
	    "mosquitto-demo.conf", "gen-certs.sh" };

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "install"), 0);
	FMT(stage, "%s/stage", dir);
	FMT(destdir, "DESTDIR=%s", stage);
	run_make(&r, "install", destdir, NULL, NULL, NULL);
	tu_result_free(&r);

	for (i = 0; i < NPROGS; i++) {
		FMT(rel, "usr/local/bin/%s", progs[i]);
		want_file(stage, rel, 0755);
		/* the installed binary runs */
		FMT(path, "%s/%s", stage, rel);
		argv[0] = path;
		argv[1] = "--version";
		argv[2] = NULL;
		ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, &r), 0);
		ck_assert_msg(r.exit_code == 0 && tu_contains(r.out, progs[i]),
		    "%s --version: exit %d, %s", rel, r.exit_code, r.out);
		tu_result_free(&r);

		FMT(rel, "usr/local/share/man/man1/%s.1",
		    progs[i]);
		want_file(stage, rel, 0644);
		FMT(src, "docs/man/%s.1", progs[i]);
		want_same(stage, rel, src);
	}
	for (i = 0; i < sizeof(broker) / sizeof(broker[0]); i++) {
		FMT(rel, "usr/local/share/icsentry/broker/%s",
		    broker[i]);
		want_file(stage, rel, strcmp(broker[i], "gen-certs.sh") == 0 ?
		    0755 : 0644);
		FMT(src, "broker/%s", broker[i]);
		want_same(stage, rel, src);
	}
	want_file(stage, "etc/icsentry/agent.conf", 0644);
	want_same(stage, "etc/icsentry/agent.conf", "config/agent.conf");
	want_file(stage, "etc/icsentry/collector.conf", 0644);
	want_same(stage, "etc/icsentry/collector.conf", "config/collector.conf");
	want_file(stage, "lib/systemd/system/icsentry-agent.service", 0644);
	want_file(stage, "lib/systemd/system/icsentry-collector.service", 0644);
	want_exec_start(stage, "lib/systemd/system/icsentry-agent.service",
	    "/usr/local/bin/icsentry-agent -c /etc/icsentry/agent.conf");
	want_exec_start(stage, "lib/systemd/system/icsentry-collector.service",
	    "/usr/local/bin/icsentry-collector -c /etc/icsentry/collector.conf");

	/* into a staging tree a second install replaces the configs */
	FMT(path, "%s/etc/icsentry/agent.conf", stage);
	ck_assert_int_eq(tu_write_file(path, "# stale\n", 8), 0);
	run_make(&r, "install", destdir, NULL, NULL, NULL);
	tu_result_free(&r);
	want_same(stage, "etc/icsentry/agent.conf", "config/agent.conf");

	/* uninstall: everything but the configs */
	run_make(&r, "uninstall", destdir, NULL, NULL, NULL);
	tu_result_free(&r);
	for (i = 0; i < NPROGS; i++) {
		FMT(rel, "usr/local/bin/%s", progs[i]);
		ck_assert_msg(!exists(stage, rel), "%s left by uninstall", rel);
		FMT(rel, "usr/local/share/man/man1/%s.1",
		    progs[i]);
		ck_assert_msg(!exists(stage, rel), "%s left by uninstall", rel);
	}
	ck_assert_msg(!exists(stage, "usr/local/share/icsentry"),
	    "share/icsentry left by uninstall");
	ck_assert(!exists(stage, "lib/systemd/system/icsentry-agent.service"));
	ck_assert(!exists(stage, "lib/systemd/system/icsentry-collector.service"));
	ck_assert_msg(exists(stage, "etc/icsentry/agent.conf") &&
	    exists(stage, "etc/icsentry/collector.conf"),
	    "uninstall removed the configs");
	tu_rmtree(dir);
}
END_TEST

/* ---- make install PREFIX=... without DESTDIR; systemd-analyze verify ----- */

START_TEST(test_install_prefix_units)
{
	char dir[4096], prefix[4096], sysconf[4096], unitdir[4096];
	char exec[8192], path[4096], sa[4096];
	char *argv[8];
	struct tu_result r;
	char *text;

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "install"), 0);
	FMT(prefix, "PREFIX=%s/usr", dir);
	FMT(sysconf, "SYSCONFDIR=%s/etc", dir);
	FMT(unitdir, "SYSTEMD_UNITDIR=%s/units", dir);
	/* the operator's own config is there already */
	FMT(path, "%s/etc", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	FMT(path, "%s/etc/agent.conf", dir);
	ck_assert_int_eq(tu_write_file(path, "# mine\n", 7), 0);

	run_make(&r, "install", prefix, sysconf, unitdir, NULL);
	ck_assert_msg(tu_contains(r.out, "keeping the existing"),
	    "install did not say it kept agent.conf: %s", r.out);
	tu_result_free(&r);

	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL && strcmp(text, "# mine\n") == 0,
	    "install overwrote an existing agent.conf");
	free(text);
	want_same(dir, "etc/collector.conf", "config/collector.conf");
	want_file(dir, "usr/bin/icsentry-agent", 0755);
	want_file(dir, "usr/share/man/man1/icsentry-log.1", 0644);
	want_file(dir, "usr/share/icsentry/broker/gen-certs.sh", 0755);

	FMT(exec, "%s/usr/bin/icsentry-agent -c %s/etc/agent.conf",
	    dir, dir);
	want_exec_start(dir, "units/icsentry-agent.service", exec);
	FMT(exec,
	    "%s/usr/bin/icsentry-collector -c %s/etc/collector.conf", dir, dir);
	want_exec_start(dir, "units/icsentry-collector.service", exec);

	/*
	 * The installed units, with their binaries where ExecStart says.
	 * --man=no: whether the host has the man pages that Documentation=
	 * names is no property of the unit.
	 */
	if (in_path("systemd-analyze", sa, sizeof(sa))) {
		char u1[4096], u2[4096];

		FMT(u1, "%s/units/icsentry-agent.service", dir);
		FMT(u2, "%s/units/icsentry-collector.service", dir);
		argv[0] = sa;
		argv[1] = "verify";
		argv[2] = "--man=no";
		argv[3] = u1;
		argv[4] = u2;
		argv[5] = NULL;
		ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, &r), 0);
		ck_assert_msg(r.exit_code == 0 && r.err_len == 0 && r.out_len == 0,
		    "systemd-analyze verify: exit %d\n%s%s", r.exit_code, r.out,
		    r.err);
		tu_result_free(&r);
	} else {
		fprintf(stderr, "check_install: systemd-analyze not found: "
		    "the units are not verified (apt-get install systemd)\n");
	}

	run_make(&r, "uninstall", prefix, sysconf, unitdir, NULL);
	tu_result_free(&r);
	ck_assert(!exists(dir, "usr/bin/icsentry-agent"));
	ck_assert(!exists(dir, "usr/share/icsentry"));
	ck_assert(!exists(dir, "units/icsentry-agent.service"));
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL && strcmp(text, "# mine\n") == 0,
	    "uninstall touched agent.conf");
	free(text);
	ck_assert(exists(dir, "etc/collector.conf"));
	tu_rmtree(dir);
}
END_TEST

/* ---- man pages ----------------------------------------------------------- */

START_TEST(test_man_renders)
{
	char page[512], man[4096];
	char *argv[8];
	struct tu_result r;

	if (!in_path("man", man, sizeof(man))) {
		fprintf(stderr, "check_install: man not found: the pages are not "
		    "rendered (apt-get install man-db)\n");
		return;
	}
	FMT(page, "docs/man/%s.1", progs[_i]);
	argv[0] = "/usr/bin/env";
	argv[1] = "LC_ALL=C.UTF-8";
	argv[2] = "MANWIDTH=80";
	argv[3] = man;
	argv[4] = "--warnings";
	argv[5] = "-l";
	argv[6] = page;
	argv[7] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exit_code == 0 && r.err_len == 0,
	    "man --warnings -l %s: exit %d\n%s", page, r.exit_code, r.err);
	ck_assert_msg(tu_contains(r.out, "NAME") && tu_contains(r.out, "SYNOPSIS") &&
	    tu_contains(r.out, progs[_i]), "%s: rendered without NAME/SYNOPSIS",
	    page);
	tu_result_free(&r);
}
END_TEST

/*
 * Every "--long-option" in text must be in the page as "\-\-long\-option"
 * (roff source).  Returns the number missing; their names into missing.
 */
static int
options_in_page(const char *text, const char *page, char *missing,
    size_t len)
{
	const char *p, *q;
	char opt[128], roff[512];
	size_t n, k;
	int bad = 0;

	for (p = text; (p = strstr(p, "--")) != NULL; p = q) {
		q = p + 2;
		if (p > text && (p[-1] != ' ' && p[-1] != '[' && p[-1] != '('
		    && p[-1] != '\n' && p[-1] != '\t' && p[-1] != ','))
			continue;
		n = 0;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
		    (*q == '-' && n > 0))
			if (n < sizeof(opt) - 1)
				opt[n++] = *q++;
			else
				q++;
		opt[n] = '\0';
		if (n == 0)
			continue;
		k = 0;
		k += (size_t)snprintf(roff + k, sizeof(roff) - k, "\\-\\-");
		for (const char *o = opt; *o != '\0' && k < sizeof(roff) - 3; o++) {
			if (*o == '-') {
				roff[k++] = '\\';
				roff[k++] = '-';
			} else {
				roff[k++] = *o;
			}
		}
		roff[k] = '\0';
		if (strstr(page, roff) == NULL) {
			bad++;
			strncat(missing, " --", len - strlen(missing) - 1);
			strncat(missing, opt, len - strlen(missing) - 1);
		}
	}
	return bad;
}

START_TEST(test_man_options)
{
	static const char *const log_cmds[] = { NULL, "tail", "query", "stats",
	    "verify", "intel", "ack", "incidents", "audit", "assets" };
	char bin[4096], src[512], missing[2048] = "";
	char *argv[4], *page;
	struct tu_result r;
	size_t i, ncmd = _i == 2 ? sizeof(log_cmds) / sizeof(log_cmds[0]) : 1;
	int bad = 0;

	FMT(src, "docs/man/%s.1", progs[_i]);
	page = tu_read_file(src, NULL);
	ck_assert_msg(page != NULL, "%s missing", src);
	tu_build_path(bin, sizeof(bin), progs[_i]);
	for (i = 0; i < ncmd; i++) {
		int n = 0;

		argv[n++] = bin;
		if (_i == 2 && log_cmds[i] != NULL)
			argv[n++] = (char *)log_cmds[i];
		argv[n++] = "--help";
		argv[n] = NULL;
		ck_assert_int_eq(tu_run(argv, NULL, RUN_TIMEOUT_MS, &r), 0);
		ck_assert_msg(r.exit_code == 0 && r.out_len > 0,
		    "%s %s --help: exit %d", progs[_i],
		    n == 3 ? log_cmds[i] : "", r.exit_code);
		bad += options_in_page(r.out, page, missing, sizeof(missing));
		tu_result_free(&r);
	}
	ck_assert_msg(bad == 0, "%s: options of --help not in the man page:%s",
	    src, missing);
	free(page);
}
END_TEST

static Suite *
install_suite(void)
{
	Suite *s = suite_create("install");
	TCase *tc;

	tc = tcase_create("install");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_install_destdir);
	tcase_add_test(tc, test_install_prefix_units);
	suite_add_tcase(s, tc);

	tc = tcase_create("man");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_man_renders, 0, (int)NPROGS);
	tcase_add_loop_test(tc, test_man_options, 0, (int)NPROGS);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(install_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
