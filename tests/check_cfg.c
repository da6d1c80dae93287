/*
 * check_cfg.c - unit suite for config/cfg.h: the table-driven INI loader.
 *
 * Config files are written into a private temporary directory; every
 * error test checks the code and the exact "file:line: problem" text.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/cfg.h"
#include "lib/ids.h"
#include "tests/testutil.h"

static const struct cfg_key main_keys[] = {
	{ "name", CFG_STR, "gw-01", 0, 0, "a string" },
	{ "count", CFG_INT, "10", 1, 1000, "an integer in [1, 1000]" },
	{ "offset", CFG_INT, "-3", 0, 0, "an unbounded integer" },
	{ "ratio", CFG_DOUBLE, "0.5", 0, 1, "a number in [0, 1]" },
	{ "enabled", CFG_BOOL, "false", 0, 0, "a boolean" },
	{ "nets", CFG_NETS, NULL, 0, 0, "networks" },
	{ "words", CFG_LIST, "alpha, beta", 0, 0, "a word list" },
	{ "empty", CFG_STR, NULL, 0, 0, "no default" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static const struct cfg_key det_keys[] = {
	{ "threshold", CFG_INT, "5", 1, 100, "" },
	{ "allow", CFG_NETS, "10.0.0.0/8, fd00::/8", 0, 0, "" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static const struct cfg_schema main_schema = { "main", main_keys };
static const struct cfg_schema det_schema = { "detector.scan", det_keys };
static const struct cfg_schema *const schemas[] = { &main_schema, &det_schema };
#define NSCHEMAS	(sizeof(schemas) / sizeof(schemas[0]))

static char dir[256];
static char path[300];

static void
setup(void)
{
	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "cfg"), 0);
	snprintf(path, sizeof(path), "%s/test.conf", dir);
}

static void
teardown(void)
{
	tu_rmtree(dir);
}

static void
write_conf(const char *text)
{
	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
}

/* Load text; expect success. */
static struct cfg *
load_ok(const char *text)
{
	struct cfg *c = NULL;
	char err[512] = "";
	int rc;

	write_conf(text);
	rc = cfg_load(path, schemas, NSCHEMAS, &c, err, sizeof(err));
	ck_assert_msg(rc == 0, "cfg_load: %d: %s", rc, err);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Load text; expect IDS_EINVAL with exactly "<path>:<want>". */
/*
 * Load a bad file: it must be refused with no config and one line
 * "path:LINE: problem".  Returns that line without the "path:" prefix.
 */
static const char *
load_error(const char *text)
{
	static char err[512];
	struct cfg *c = (struct cfg *)&c;	/* must be reset to NULL */
	size_t plen = strlen(path);
	int rc;

	err[0] = '\0';
	write_conf(text);
	rc = cfg_load(path, schemas, NSCHEMAS, &c, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_msg(strncmp(err, path, plen) == 0 && err[plen] == ':',
	    "error does not start with the path: %s", err);
	return err + plen + 1;
}

/* Load text; expect IDS_EINVAL and an error starting "<path>:<prefix>". */
/* Does text start with prefix? */
static bool
starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

static const uint8_t *
v4(const char *s, uint8_t *buf)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, buf), 1);
	return buf;
}

static const uint8_t *
v6(const char *s, uint8_t *buf)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, buf), 1);
	return buf;
}

/* ---- good input --------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct cfg *c = NULL;
	const struct cfg_list *l;
	const struct cfg_nets *n;
	char err[256] = "";
	uint8_t a[16];

	ck_assert_int_eq(cfg_load(NULL, schemas, NSCHEMAS, &c, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(cfg_path(c), "(defaults)");
	ck_assert_str_eq(cfg_str(c, "main", "name"), "gw-01");
	ck_assert_str_eq(cfg_str(c, "main", "empty"), "");
	ck_assert_int_eq(cfg_int(c, "main", "count"), 10);
	ck_assert_int_eq(cfg_int(c, "main", "offset"), -3);
	ck_assert_double_eq(cfg_double(c, "main", "ratio"), 0.5);
	/* an integer key reads as a double too */
	ck_assert_double_eq(cfg_double(c, "main", "count"), 10.0);
	ck_assert(!cfg_bool(c, "main", "enabled"));
	n = cfg_nets(c, "main", "nets");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->n, 0);
	l = cfg_list(c, "main", "words");
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->v[0], "alpha");
	ck_assert_str_eq(l->v[1], "beta");
	ck_assert_int_eq(cfg_int(c, "detector.scan", "threshold"), 5);
	n = cfg_nets(c, "detector.scan", "allow");
	ck_assert_uint_eq(n->n, 2);
	ck_assert(cfg_nets_contains(n, 4, v4("10.1.2.3", a)));
	ck_assert(cfg_nets_contains(n, 6, v6("fd12::1", a)));
	ck_assert(!cfg_is_set(c, "main", "name"));
	ck_assert(!cfg_is_set(c, "main", "count"));
	cfg_free(c);
}
END_TEST

START_TEST(test_good_file_every_type)
{
	struct cfg *c = load_ok(
	    "; icsentry test configuration\n"
	    "# comment lines of both kinds\n"
	    "\n"
	    "[main]\n"
	    "name = plant-a gateway\n"
	    "count=0x20\n"
	    "offset = -123456789012\n"
	    "ratio = 0.25\n"
	    "enabled = yes\n"
	    "nets = 10.0.0.0/8, 192.168.1.5  2001:db8::/32\n"
	    "words = modbus,dnp3 , s7comm\n"
	    "\n"
	    "[detector.scan]\n"
	    "threshold = 100 ; inline comment\n");
	const struct cfg_nets *n;
	const struct cfg_list *l;

	ck_assert_str_eq(cfg_path(c), path);
	ck_assert_str_eq(cfg_str(c, "main", "name"), "plant-a gateway");
	ck_assert_int_eq(cfg_int(c, "main", "count"), 32);
	ck_assert(cfg_int(c, "main", "offset") == -123456789012LL);
	ck_assert_double_eq(cfg_double(c, "main", "ratio"), 0.25);
	ck_assert(cfg_bool(c, "main", "enabled"));
	n = cfg_nets(c, "main", "nets");
	ck_assert_uint_eq(n->n, 3);
	ck_assert_uint_eq(n->v[0].af, 4);
	ck_assert_uint_eq(n->v[0].bits, 8);
	ck_assert_uint_eq(n->v[0].addr[0], 10);
	ck_assert_uint_eq(n->v[1].af, 4);
	ck_assert_uint_eq(n->v[1].bits, 32);	/* a bare address is a /32 */
	ck_assert_uint_eq(n->v[1].addr[3], 5);
	ck_assert_uint_eq(n->v[2].af, 6);
	ck_assert_uint_eq(n->v[2].bits, 32);
	ck_assert_uint_eq(n->v[2].addr[1], 0x01);
	l = cfg_list(c, "main", "words");
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->v[0], "modbus");
	ck_assert_str_eq(l->v[1], "dnp3");
	ck_assert_str_eq(l->v[2], "s7comm");
	ck_assert_int_eq(cfg_int(c, "detector.scan", "threshold"), 100);
	/* keys not in the file keep their defaults */
	n = cfg_nets(c, "detector.scan", "allow");
	ck_assert_uint_eq(n->n, 2);
	ck_assert_str_eq(cfg_str(c, "main", "empty"), "");
	ck_assert(cfg_is_set(c, "main", "name"));
	ck_assert(cfg_is_set(c, "detector.scan", "threshold"));
	ck_assert(!cfg_is_set(c, "detector.scan", "allow"));
	ck_assert(!cfg_is_set(c, "main", "empty"));
	cfg_free(c);
}
END_TEST

START_TEST(test_empty_file_and_empty_section)
{
	struct cfg *c = load_ok("");

	ck_assert_int_eq(cfg_int(c, "main", "count"), 10);
	cfg_free(c);
	/* a known section with no keys is fine */
	c = load_ok("[main]\n[detector.scan]\n");
	ck_assert_int_eq(cfg_int(c, "detector.scan", "threshold"), 5);
	cfg_free(c);
}
END_TEST

START_TEST(test_bool_spellings)
{
	static const char *const yes[] = { "1", "true", "yes", "on", "TRUE",
		"Yes", "ON" };
	static const char *const no[] = { "0", "false", "no", "off", "False",
		"NO" };
	struct cfg *c = load_ok("[main]\n");
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		ck_assert_int_eq(cfg_set(c, "main", "enabled", yes[i], "t", err,
		    sizeof(err)), 0);
		ck_assert_msg(cfg_bool(c, "main", "enabled"), "%s", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ck_assert_int_eq(cfg_set(c, "main", "enabled", no[i], "t", err,
		    sizeof(err)), 0);
		ck_assert_msg(!cfg_bool(c, "main", "enabled"), "%s", no[i]);
	}
	cfg_free(c);
}
END_TEST

START_TEST(test_cfg_set_override)
{
	struct cfg *c = load_ok("[main]\ncount = 7\n");
	char err[256] = "";

	ck_assert_int_eq(cfg_set(c, "main", "count", "42", "--count", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cfg_int(c, "main", "count"), 42);
	ck_assert_int_eq(cfg_set(c, "main", "name", "other", "--name", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(cfg_str(c, "main", "name"), "other");
	ck_assert(cfg_is_set(c, "main", "name"));
	ck_assert_int_eq(cfg_set(c, "main", "nets", "172.16.0.0/12", "--nets",
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg_nets(c, "main", "nets")->n, 1);

	/* a bad value is refused, names its origin, and changes nothing */
	ck_assert_int_eq(cfg_set(c, "main", "count", "lots", "--count", err,
	    sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "--count: 'lots' is not an integer");
	ck_assert_int_eq(cfg_int(c, "main", "count"), 42);
	ck_assert_int_eq(cfg_set(c, "main", "count", "0", "--count", err,
	    sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "--count: 0 is out of range [1, 1000]");
	ck_assert_int_eq(cfg_int(c, "main", "count"), 42);
	ck_assert_int_eq(cfg_set(c, "main", "nets", "10.0.0.0/40", "--nets",
	    err, sizeof(err)), IDS_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--nets: "));
	ck_assert_uint_eq(cfg_nets(c, "main", "nets")->n, 1);
	ck_assert_int_eq(cfg_set(c, "main", "nope", "1", "--nope", err,
	    sizeof(err)), IDS_EINVAL);
	ck_assert_str_eq(err, "--nope: unknown key 'nope' in [main]");
	ck_assert_int_eq(cfg_set(c, "absent", "count", "1", "-x", err,
	    sizeof(err)), IDS_EINVAL);
	cfg_free(c);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

START_TEST(test_unknown_section)
{
	ck_assert_str_eq(load_error("; comment\n[main]\ncount = 2\n\n[x]\nfoo = 1\n"),
	    "5: unknown section [x]");
	ck_assert_str_eq(load_error("[detector.nosuch]\n"),
	    "1: unknown section [detector.nosuch]");
}
END_TEST

START_TEST(test_unknown_key)
{
	ck_assert_str_eq(load_error("[main]\ncount = 2\nfoo = 1\n"),
	    "3: unknown key 'foo' in [main]");
	ck_assert_str_eq(load_error("[main]\n[detector.scan]\n# c\ncount = 1\n"),
	    "4: unknown key 'count' in [detector.scan]");
}
END_TEST

START_TEST(test_bad_int)
{
	ck_assert_str_eq(load_error("[main]\ncount = ten\n"),
	    "2: [main] count: 'ten' is not an integer");
	ck_assert_str_eq(load_error("[main]\ncount = 12abc\n"),
	    "2: [main] count: '12abc' is not an integer");
	ck_assert_str_eq(load_error("[main]\ncount =\n"),
	    "2: [main] count: '' is not an integer");
	ck_assert_str_eq(load_error("[main]\ncount = 99999999999999999999999\n"),
	    "2: [main] count: '99999999999999999999999' is not an integer");
}
END_TEST

START_TEST(test_int_range)
{
	ck_assert_str_eq(load_error("[main]\n\ncount = 1001\n"),
	    "3: [main] count: 1001 is out of range [1, 1000]");
	ck_assert_str_eq(load_error("[main]\ncount = 0\n"),
	    "2: [main] count: 0 is out of range [1, 1000]");
	ck_assert_str_eq(load_error("[detector.scan]\nthreshold = -1\n"),
	    "2: [detector.scan] threshold: -1 is out of range [1, 100]");
}
END_TEST

START_TEST(test_bad_double)
{
	ck_assert_str_eq(load_error("[main]\nratio = 1.5\n"),
	    "2: [main] ratio: 1.5 is out of range [0, 1]");
	ck_assert_str_eq(load_error("[main]\nratio = half\n"),
	    "2: [main] ratio: 'half' is not a number");
	ck_assert_str_eq(load_error("[main]\nratio = nan\n"),
	    "2: [main] ratio: 'nan' is not a number");
}
END_TEST

START_TEST(test_bad_bool)
{
	ck_assert_str_eq(load_error("[main]\nenabled = maybe\n"),
	    "2: [main] enabled: 'maybe' is not a boolean "
	    "(true/false, yes/no, on/off, 1/0)");
}
END_TEST

START_TEST(test_bad_cidr)
{
	ck_assert_str_eq(load_error("[main]\nnets = 10.0.0.0/33\n"),
	    "2: [main] nets: '10.0.0.0/33' is not a list of IP addresses or CIDRs");
	ck_assert_msg(starts_with(load_error("[main]\nnets = 10.0.0.0/8, 300.1.1.1\n"),
	    "2: [main] nets: "),
	    "error does not start with the expected problem");
	ck_assert_msg(starts_with(load_error("[main]\nnets = 2001:db8::/129\n"),
	    "2: [main] nets: "),
	    "error does not start with the expected problem");
	ck_assert_msg(starts_with(load_error("[main]\nnets = 10.0.0.0/\n"),
	    "2: [main] nets: "),
	    "error does not start with the expected problem");
	ck_assert_msg(starts_with(load_error("[main]\nnets = plant-net\n"),
	    "2: [main] nets: "),
	    "error does not start with the expected problem");
	ck_assert_msg(starts_with(load_error("[detector.scan]\n\n\nallow = 10.0.0.0/8 10.1/16\n"),
	    "4: [detector.scan] allow: "),
	    "error does not start with the expected problem");
}
END_TEST

START_TEST(test_key_outside_section)
{
	ck_assert_str_eq(load_error("count = 1\n[main]\n"),
	    "1: key 'count' outside of any section");
	ck_assert_str_eq(load_error("# first a comment\n\nname = x\n"),
	    "3: key 'name' outside of any section");
}
END_TEST

START_TEST(test_syntax_error_line)
{
	ck_assert_msg(starts_with(load_error("[main]\ncount = 2\nthis line has no equals sign\n"),
	    "3: syntax error"),
	    "error does not start with the expected problem");
	ck_assert_msg(starts_with(load_error("[main\ncount = 2\n"),
	    "1: section header without ']'"),
	    "error does not start with the expected problem");
}
END_TEST

START_TEST(test_missing_file)
{
	struct cfg *c = (struct cfg *)&c;
	char err[512] = "", p[300];
	int rc;

	snprintf(p, sizeof(p), "%s/does-not-exist.conf", dir);
	rc = cfg_load(p, schemas, NSCHEMAS, &c, err, sizeof(err));
	ck_assert_int_eq(rc, IDS_EIO);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, p, strlen(p)) == 0, "'%s'", err);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_ptr_null(strchr(err, '\n'));
	/* a directory is not a config file either */
	rc = cfg_load(dir, schemas, NSCHEMAS, &c, err, sizeof(err));
	ck_assert_int_ne(rc, 0);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "'%s'", err);
}
END_TEST

/* ---- networks ----------------------------------------------------------- */

START_TEST(test_nets_contains)
{
	struct cfg *c = load_ok("[main]\nnets = 10.0.0.0/8, 192.168.1.5, "
	    "172.16.0.0/12 2001:db8::/32 fe80::/10 192.168.2.0/23\n");
	const struct cfg_nets *n = cfg_nets(c, "main", "nets");
	uint8_t a[16];

	ck_assert_uint_eq(n->n, 6);
	ck_assert(cfg_nets_contains(n, 4, v4("10.0.0.0", a)));
	ck_assert(cfg_nets_contains(n, 4, v4("10.255.255.255", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("11.0.0.1", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("9.255.255.255", a)));
	ck_assert(cfg_nets_contains(n, 4, v4("192.168.1.5", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("192.168.1.6", a)));
	ck_assert(cfg_nets_contains(n, 4, v4("172.31.255.255", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("172.32.0.0", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("172.15.255.255", a)));
	ck_assert(cfg_nets_contains(n, 4, v4("192.168.3.200", a)));
	ck_assert(!cfg_nets_contains(n, 4, v4("192.168.4.1", a)));
	ck_assert(cfg_nets_contains(n, 6, v6("2001:db8::1", a)));
	ck_assert(cfg_nets_contains(n, 6, v6("2001:db8:ffff:ffff::1", a)));
	ck_assert(!cfg_nets_contains(n, 6, v6("2001:db9::1", a)));
	ck_assert(cfg_nets_contains(n, 6, v6("fe80::1", a)));
	ck_assert(cfg_nets_contains(n, 6, v6("febf::1", a)));	/* /10 */
	ck_assert(!cfg_nets_contains(n, 6, v6("fec0::1", a)));
	/* the family must match: ::a00:1 is not 10.0.0.1 */
	ck_assert(!cfg_nets_contains(n, 6, v6("::a00:1", a)));
	ck_assert(!cfg_nets_contains(NULL, 4, v4("10.0.0.1", a)));
	cfg_free(c);
}
END_TEST

START_TEST(test_net_parse)
{
	struct cfg_nets all;
	struct cfg_net net;
	uint8_t a[16];

	ck_assert_int_eq(cfg_net_parse("0.0.0.0/0", &net), 0);
	ck_assert_uint_eq(net.af, 4);
	ck_assert_uint_eq(net.bits, 0);
	all.n = 1;
	all.v = &net;
	ck_assert(cfg_nets_contains(&all, 4, v4("203.0.113.9", a)));
	ck_assert(!cfg_nets_contains(&all, 6, v6("::1", a)));
	ck_assert_int_eq(cfg_net_parse("::1", &net), 0);
	ck_assert_uint_eq(net.af, 6);
	ck_assert_uint_eq(net.bits, 128);
	ck_assert(cfg_nets_contains(&all, 6, v6("::1", a)));
	ck_assert(!cfg_nets_contains(&all, 6, v6("::2", a)));
	ck_assert_int_eq(cfg_net_parse("10.1.2.3/31", &net), 0);
	ck_assert(cfg_nets_contains(&all, 4, v4("10.1.2.2", a)));
	ck_assert(!cfg_nets_contains(&all, 4, v4("10.1.2.4", a)));

	ck_assert_int_eq(cfg_net_parse("10.0.0.0/33", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("10.0.0.0/-1", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("10.0.0.0/8x", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("10.0.0.0/", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("/8", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("10.0.0", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("::1/129", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse("fe80::1%eth0", &net), IDS_EINVAL);
	ck_assert_int_eq(cfg_net_parse(
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/64", &net),
	    IDS_EINVAL);
}
END_TEST

/* ---- the agent's own schemas -------------------------------------------- */

START_TEST(test_agent_defaults)
{
	const struct cfg_schema *const *s;
	struct cfg *c = NULL;
	char err[512] = "";
	size_t n;

	s = agent_schemas(&n);
	ck_assert_uint_ge(n, 4);
	ck_assert_int_eq(cfg_load(NULL, s, n, &c, err, sizeof(err)), 0);
	/* "-r FILE works with no config at all": every key has a default */
	ck_assert_int_eq(cfg_int(c, "flows", "max_flows"), 262144);
	ck_assert_double_eq(cfg_double(c, "flows", "tcp_timeout"), 300);
	ck_assert_double_eq(cfg_double(c, "flows", "udp_timeout"), 60);
	ck_assert_int_eq(cfg_int(c, "capture", "snaplen"), 65535);
	ck_assert(cfg_bool(c, "capture", "promisc"));
	cfg_free(c);
}
END_TEST

START_TEST(test_agent_conf_example)
{
	const struct cfg_schema *const *s;
	const char *src = getenv("ICSENTRY_SRC");
	struct cfg *c = NULL;
	char err[512] = "", p[512];
	size_t n;
	int rc;

	snprintf(p, sizeof(p), "%s/config/agent.conf",
	    src != NULL && src[0] != '\0' ? src : ".");
	if (access(p, F_OK) != 0) {
		printf("check_cfg: SKIPPED test_agent_conf_example: %s does not "
		    "exist yet\n", p);
		return;
	}
	s = agent_schemas(&n);
	rc = cfg_load(p, s, n, &c, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s does not load: %s", p, err);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(cfg_path(c), p);
	/* whatever it sets, the values are in range */
	ck_assert_int_ge(cfg_int(c, "flows", "max_flows"), 16);
	ck_assert_int_ge(cfg_int(c, "capture", "snaplen"), 64);
	cfg_free(c);
}
END_TEST

static Suite *
cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *good = tcase_create("good");
	TCase *bad = tcase_create("bad");
	TCase *nets = tcase_create("nets");
	TCase *agent = tcase_create("agent");

	tcase_add_checked_fixture(good, setup, teardown);
	tcase_add_test(good, test_defaults);
	tcase_add_test(good, test_good_file_every_type);
	tcase_add_test(good, test_empty_file_and_empty_section);
	tcase_add_test(good, test_bool_spellings);
	tcase_add_test(good, test_cfg_set_override);
	suite_add_tcase(s, good);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, test_unknown_section);
	tcase_add_test(bad, test_unknown_key);
	tcase_add_test(bad, test_bad_int);
	tcase_add_test(bad, test_int_range);
	tcase_add_test(bad, test_bad_double);
	tcase_add_test(bad, test_bad_bool);
	tcase_add_test(bad, test_bad_cidr);
	tcase_add_test(bad, test_key_outside_section);
	tcase_add_test(bad, test_syntax_error_line);
	tcase_add_test(bad, test_missing_file);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(nets, setup, teardown);
	tcase_add_test(nets, test_nets_contains);
	tcase_add_test(nets, test_net_parse);
	suite_add_tcase(s, nets);

	tcase_add_test(agent, test_agent_defaults);
	tcase_add_test(agent, test_agent_conf_example);
	suite_add_tcase(s, agent);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
