/*
 * intel.c - icsentry-intel: the SOC's tool for threat-intelligence
 * bundles (issue 17): make an Ed25519 key, write a bundle (by hand or
 * from every attacker address the central log saw), sign it, verify it,
 * publish it retained to the gateways.  Format and canonical bytes:
 * lib/intel_bundle.h and docs/intel.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <cJSON.h>

#include "broker/central_log.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"
#include "lib/intel_bundle.h"

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define MAX_ARGS	1024

#ifndef ICSENTRY_VERSION
#define ICSENTRY_VERSION "0.1.0"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: icsentry-intel COMMAND [options]\n"
"\n"
"Make, sign, check and publish the SOC's threat-intelligence bundles.\n"
"\n"
"  keygen --out KEY               new Ed25519 key: KEY (private, 0600), KEY.pub\n"
"  new --version N [--expires RFC3339] [--site SITE] [--comment TEXT]\n"
"      [--indicator KIND:VALUE[:SEVERITY[:TECHNIQUE]]] ...\n"
"      [--policy [SITE/]KEY=VALUE] ...\n"
"      [--from-log DB [--since RFC3339] [--until RFC3339]\n"
"       [--min-severity SEV] [--exclude CIDR] ...]\n"
"      [--id-prefix P]             write an unsigned bundle to stdout\n"
"                                  KIND: ip cidr mac domain port function device\n"
"  sign --key KEY FILE            sign (add a signature to) FILE, to stdout\n"
"  verify --pub KEY.pub [--pub KEY2.pub] FILE\n"
"                                 exit 0 when a held key signed it and it is\n"
"                                 well formed and not expired, else 1\n"
"  publish --mqtt URI [--pub KEY.pub] [--ca F --cert F --key F]\n"
"          [--client-id ID] [--username U --password-file F] FILE\n"
"                                 retained, QoS 1, to icsentry/intel/fleet or\n"
"                                 icsentry/intel/site/<site> (the bundle's site)\n"
"  show FILE                      what a bundle holds (signatures not checked)\n"
"\n"
"FILE may be '-' for stdin.  Exit status: 0 success, 1 failure (verify:\n"
"refused), 2 bad usage or input.\n");
}

static int die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "icsentry-intel: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return EXIT_USAGE;
}

static int
read_all(const char *path, char **out, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (fp == NULL) {
		fprintf(stderr, "icsentry-intel: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap == 0 ? 131072 : cap * 2;
			if (cap > INTEL_MAX_BYTES + 131072u) {
				fprintf(stderr, "icsentry-intel: %s: larger than %u bytes\n",
				    path, INTEL_MAX_BYTES);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, 65536, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "icsentry-intel: %s: read error\n", path);
		goto fail;
	}
	if (fp != stdin)
		fclose(fp);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return -1;
}

/* ---- keygen ------------------------------------------------------------ */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL;
	char err[512], id[INTEL_KEY_ID_LEN + 1];
	int ch;

	while ((ch = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (ch != 'o')
			return die_usage("keygen: bad option %s", argv[optind - 1]);
		out = optarg;
	}
	if (out == NULL || optind != argc)
		return die_usage("keygen needs --out KEY and nothing else");
	if (intel_keygen(out, id, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s\n", err);
		return EXIT_FAIL;
	}
	printf("key %s: %s (private, keep it on the SOC), %s.pub (to the "
	    "gateways' [intel] keys)\n", id, out, out);
	return 0;
}

/* ---- new ----------------------------------------------------------------- */

struct newctx {
	cJSON		*inds;
	const char	*prefix;
	uint64_t	 version;
	size_t		 n;
};

static cJSON *
add_ind(struct newctx *c, const char *kind, const char *value, const char *sev,
    const char *tech, const char *desc)
{
	cJSON *o = cJSON_CreateObject();
	char id[160];

	snprintf(id, sizeof(id), "%s-%" PRIu64 "-%zu", c->prefix, c->version,
	    ++c->n);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "type", kind);
	cJSON_AddStringToObject(o, "value", value);
	cJSON_AddStringToObject(o, "severity", sev != NULL ? sev : "high");
	if (tech != NULL)
		cJSON_AddStringToObject(o, "technique", tech);
	else
		cJSON_AddNullToObject(o, "technique");
	cJSON_AddStringToObject(o, "description", desc != NULL ? desc : "");
	cJSON_AddItemToArray(c->inds, o);
	return o;
}

static bool
is_sev(const char *s)
{
	return strcmp(s, "info") == 0 || strcmp(s, "low") == 0 ||
	    strcmp(s, "medium") == 0 || strcmp(s, "high") == 0 ||
	    strcmp(s, "critical") == 0;
}

static bool
is_tech(const char *s)
{
	size_t i;

	if (s[0] != 'T' || s[1] == '\0')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '.')
			return false;
	return true;
}

/*
 * KIND:VALUE[:SEVERITY[:TECHNIQUE]], read from the right since values
 * (IPv6, MACs, function:proto:code) hold colons themselves.
 */
static int
parse_spec(struct newctx *c, const char *spec)
{
	char buf[512], *value, *last, *sev = NULL, *tech = NULL;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return -1;
	value = strchr(buf, ':');
	if (value == NULL || intel_kind_parse((*value = '\0', buf)) < 0)
		return -1;
	value++;
	last = strrchr(value, ':');
	if (last != NULL && is_tech(last + 1)) {
		tech = last + 1;
		*last = '\0';
		last = strrchr(value, ':');
	}
	if (last != NULL && is_sev(last + 1)) {
		sev = last + 1;
		*last = '\0';
	} else if (tech != NULL)
		return -1;	/* TECHNIQUE only after a SEVERITY */
	if (value[0] == '\0')
		return -1;
	add_ind(c, buf, value, sev, tech, "");
	return 0;
}

/* --- --from-log: every attacker (alert source) address in the period */

struct attacker {
	char		 ip[64];
	int		 sev;
	char		 tech[16];
	uint64_t	 alerts;
	char		 first[CENTRAL_LOG_TIME_LEN], last[CENTRAL_LOG_TIME_LEN];
	char		 where[160];	/* site/agent of the first alert */
	char		 detectors[200];
};

struct fromlog {
	struct attacker	*a;
	size_t		 n, cap;
	struct cfg_exclude {
		uint8_t	af, bits, addr[16];
	}		*ex;
	size_t		 nex;
};

static bool
excluded(const struct fromlog *fl, const char *ip)
{
	uint8_t a[16];
	size_t i, j;
	int af;

	if (inet_pton(AF_INET, ip, a) == 1)
		af = 4;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		af = 6;
	else
		return true;	/* not an address: nothing to match on */
	for (i = 0; i < fl->nex; i++) {
		const struct cfg_exclude *e = &fl->ex[i];
		unsigned bits = e->bits;

		if (e->af != af)
			continue;
		for (j = 0; bits >= 8; j++, bits -= 8)
			if (a[j] != e->addr[j])
				break;
		if (bits >= 8)
			continue;
		if (bits == 0 || ((a[j] ^ e->addr[j]) & (0xff00u >> bits) & 0xff) == 0)
			return true;
	}
	return false;
}

static int
on_row(void *ctx, const struct central_log_row *r)
{
	struct fromlog *fl = ctx;
	struct attacker *a = NULL;
	size_t i;

	if (r->src_ip == NULL || r->src_ip[0] == '\0' || excluded(fl, r->src_ip))
		return 0;
	for (i = 0; i < fl->n; i++)
		if (strcmp(fl->a[i].ip, r->src_ip) == 0) {
			a = &fl->a[i];
			break;
		}
	if (a == NULL) {
		if (fl->n == fl->cap) {
			size_t nc = fl->cap == 0 ? 64 : fl->cap * 2;
			struct attacker *na = realloc(fl->a, nc * sizeof(*na));

			if (na == NULL)
				return 1;
			fl->a = na;
			fl->cap = nc;
		}
		a = &fl->a[fl->n++];
		memset(a, 0, sizeof(*a));
		snprintf(a->ip, sizeof(a->ip), "%s", r->src_ip);
		snprintf(a->first, sizeof(a->first), "%s", r->ts);
		snprintf(a->where, sizeof(a->where), "%s/%s", r->site, r->agent);
		a->sev = -1;
	}
	a->alerts++;
	snprintf(a->last, sizeof(a->last), "%s", r->ts);
	/* the technique of its most severe alert speaks for the address */
	if (r->sev > a->sev) {
		a->sev = r->sev;
		snprintf(a->tech, sizeof(a->tech), "%s",
		    r->technique != NULL ? r->technique : "");
	}
	if (strstr(a->detectors, r->detector) == NULL &&
	    strlen(a->detectors) + strlen(r->detector) + 2 < sizeof(a->detectors)) {
		if (a->detectors[0] != '\0')
			strcat(a->detectors, ",");
		strcat(a->detectors, r->detector);
	}
	return 0;
}

static int
from_log(struct newctx *c, const char *db_path, const char *since,
    const char *until, int min_sev, struct fromlog *fl)
{
	struct central_log_filter f;
	struct central_log *db;
	char err[512], desc[512];
	size_t i;
	int rc;

	central_log_filter_init(&f);
	if ((since != NULL && central_log_parse_time(since, &f.since_us) != 0) ||
	    (until != NULL && central_log_parse_time(until, &f.until_us) != 0)) {
		fprintf(stderr, "icsentry-intel: --since/--until: not an RFC 3339 "
		    "time\n");
		return EXIT_USAGE;
	}
	f.min_sev = min_sev;
	if (central_log_open(db_path, CENTRAL_LOG_RDONLY, CENTRAL_LOG_SYNC_NORMAL,
	    &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s\n", err);
		return EXIT_FAIL;
	}
	rc = central_log_query(db, &f, on_row, fl);
	central_log_close(db);
	if (rc != 0) {
		fprintf(stderr, "icsentry-intel: %s: query failed\n", db_path);
		return EXIT_FAIL;
	}
	for (i = 0; i < fl->n; i++) {
		const struct attacker *a = &fl->a[i];

		snprintf(desc, sizeof(desc), "attacker seen at %s: %" PRIu64
		    " alert(s) %s .. %s (%s)", a->where, a->alerts, a->first,
		    a->last, a->detectors);
		add_ind(c, "ip", a->ip, central_log_severity_name(a->sev),
		    a->tech[0] != '\0' ? a->tech : NULL, desc);
	}
	return 0;
}

static int
add_policy(cJSON *pols, const char *spec)
{
	char buf[1024], *eq, *slash, *key = buf;
	cJSON *o;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return -1;
	eq = strchr(buf, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	o = cJSON_CreateObject();
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		cJSON_AddStringToObject(o, "site", buf);
		key = slash + 1;
	}
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "value", eq + 1);
	cJSON_AddItemToArray(pols, o);
	return 0;
}

static int
cmd_new(int argc, char **argv)
{
	enum { O_VERSION = 256, O_EXPIRES, O_SITE, O_COMMENT, O_IND, O_POLICY,
	    O_FROM, O_SINCE, O_UNTIL, O_MINSEV, O_EXCLUDE, O_PREFIX };
	static const struct option lo[] = {
		{ "version", required_argument, NULL, O_VERSION },
		{ "expires", required_argument, NULL, O_EXPIRES },
		{ "site", required_argument, NULL, O_SITE },
		{ "comment", required_argument, NULL, O_COMMENT },
		{ "indicator", required_argument, NULL, O_IND },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "from-log", required_argument, NULL, O_FROM },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "min-severity", required_argument, NULL, O_MINSEV },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "id-prefix", required_argument, NULL, O_PREFIX },
		{ NULL, 0, NULL, 0 }
	};
	const char *expires = NULL, *site = NULL, *comment = NULL, *db = NULL;
	const char *since = NULL, *until = NULL, *specs[MAX_ARGS];
	struct fromlog fl;
	struct newctx c;
	struct intel_bundle *b = NULL;
	char *end, *text = NULL, *canonical = NULL, err[512], now[32];
	size_t nspec = 0, i, clen;
	cJSON *root = NULL, *pols;
	int64_t t;
	int ch, rc = EXIT_USAGE, min_sev = 0;
	unsigned long long v = 0;

	memset(&fl, 0, sizeof(fl));
	memset(&c, 0, sizeof(c));
	c.prefix = "soc";
	root = cJSON_CreateObject();
	pols = cJSON_CreateArray();
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_VERSION:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > (1ULL << 53) - 1) {
				rc = die_usage("--version %s: an integer >= 1", optarg);
				goto out;
			}
			break;
		case O_EXPIRES:
			if (rfc3339_parse_any(optarg, &t) != 0) {
				rc = die_usage("--expires %s: not RFC 3339", optarg);
				goto out;
			}
			expires = optarg;
			break;
		case O_SITE: site = optarg; break;
		case O_COMMENT: comment = optarg; break;
		case O_IND:
			if (nspec == MAX_ARGS) {
				rc = die_usage("more than 1024 --indicator");
				goto out;
			}
			specs[nspec++] = optarg;
			break;
		case O_POLICY:
			if (add_policy(pols, optarg) != 0) {
				rc = die_usage("--policy %s: [SITE/]KEY=VALUE", optarg);
				goto out;
			}
			break;
		case O_FROM: db = optarg; break;
		case O_SINCE: since = optarg; break;
		case O_UNTIL: until = optarg; break;
		case O_MINSEV:
			if ((min_sev = central_log_severity_rank(optarg)) < 0) {
				rc = die_usage("--min-severity %s: info, low, medium, "
				    "high or critical", optarg);
				goto out;
			}
			break;
		case O_EXCLUDE: {
			struct cfg_exclude *ne = realloc(fl.ex, (fl.nex + 1) *
			    sizeof(*ne));
			char sb[128], *sl;
			unsigned long bits;

			if (ne == NULL)
				goto out;
			fl.ex = ne;
			snprintf(sb, sizeof(sb), "%s", optarg);
			sl = strchr(sb, '/');
			if (sl != NULL)
				*sl++ = '\0';
			memset(&ne[fl.nex], 0, sizeof(ne[0]));
			if (inet_pton(AF_INET, sb, ne[fl.nex].addr) == 1)
				ne[fl.nex].af = 4, bits = 32;
			else if (inet_pton(AF_INET6, sb, ne[fl.nex].addr) == 1)
				ne[fl.nex].af = 6, bits = 128;
			else {
				rc = die_usage("--exclude %s: not an address or CIDR",
				    optarg);
				goto out;
			}
			if (sl != NULL) {
				unsigned long max = bits;

				bits = strtoul(sl, &end, 10);
				if (*sl == '\0' || *end != '\0' || bits > max) {
					rc = die_usage("--exclude %s: bad prefix", optarg);
					goto out;
				}
			}
			ne[fl.nex++].bits = (uint8_t)bits;
			break;
		}
		case O_PREFIX: c.prefix = optarg; break;
		default:
			rc = die_usage("new: bad option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (v == 0 || optind != argc) {
		rc = die_usage("new needs --version N (and no other arguments)");
		goto out;
	}
	if ((since != NULL || until != NULL) && db == NULL) {
		rc = die_usage("--since/--until go with --from-log DB");
		goto out;
	}
	c.version = v;
	c.inds = cJSON_CreateArray();
	cJSON_AddStringToObject(root, "format", INTEL_FORMAT);
	cJSON_AddNumberToObject(root, "version", (double)v);
	cJSON_AddStringToObject(root, "issued", rfc3339_format((uint64_t)(intel_now_us()),
	    now, sizeof(now)));
	if (expires != NULL)
		cJSON_AddStringToObject(root, "expires", expires);
	else
		cJSON_AddNullToObject(root, "expires");
	if (site != NULL)
		cJSON_AddStringToObject(root, "site", site);
	else
		cJSON_AddNullToObject(root, "site");
	if (comment != NULL)
		cJSON_AddStringToObject(root, "comment", comment);
	cJSON_AddItemToObject(root, "indicators", c.inds);
	cJSON_AddItemToObject(root, "policy", pols);
	pols = NULL;
	for (i = 0; i < nspec; i++)
		if (parse_spec(&c, specs[i]) != 0) {
			rc = die_usage("--indicator %s: KIND:VALUE[:SEVERITY[:TECHNIQUE]]",
			    specs[i]);
			goto out;
		}
	if (db != NULL && (rc = from_log(&c, db, since, until, min_sev, &fl)) != 0)
		goto out;
	/* check what we wrote with the same code the gateways run */
	text = cJSON_PrintUnformatted(root);
	if (text == NULL || intel_bundle_parse(text, strlen(text), &b, err,
	    sizeof(err)) != INTEL_OK) {
		fprintf(stderr, "icsentry-intel: %s\n", text == NULL ?
		    "out of memory" : err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (intel_canonical(text, strlen(text), &canonical, &clen, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s\n", err);
		rc = EXIT_FAIL;
		goto out;
	}
	printf("%s\n", canonical);
	fprintf(stderr, "icsentry-intel: bundle version %" PRIu64 ": %zu "
	    "indicator(s)%s, %zu policy fragment(s)\n", b->version, b->nind,
	    db != NULL ? " (from the log: see their descriptions)" : "", b->npol);
	rc = fflush(stdout) == 0 ? 0 : EXIT_FAIL;
out:
	intel_bundle_free(b);
	free(canonical);
	cJSON_free(text);
	cJSON_Delete(root);
	cJSON_Delete(pols);
	free(fl.a);
	free(fl.ex);
	return rc;
}

/* ---- sign, verify, show ------------------------------------------------- */

static int
cmd_sign(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	const char *key = NULL;
	char *in = NULL, *out = NULL, err[512];
	size_t len, olen;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "k:", lo, NULL)) != -1) {
		if (ch != 'k')
			return die_usage("sign: bad option %s", argv[optind - 1]);
		key = optarg;
	}
	if (key == NULL || optind != argc - 1)
		return die_usage("sign needs --key KEY and one FILE");
	if (read_all(argv[optind], &in, &len) != 0)
		return EXIT_USAGE;
	rc = intel_sign(in, len, key, &out, &olen, err, sizeof(err));
	free(in);
	if (rc != 0) {
		fprintf(stderr, "icsentry-intel: %s: %s\n", argv[optind], err);
		return rc == IDS_EMALFORMED || rc == IDS_EINVAL ? EXIT_USAGE :
		    EXIT_FAIL;
	}
	fwrite(out, 1, olen, stdout);
	free(out);
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}

static void
describe(FILE *fp, const struct intel_bundle *b)
{
	char ts[32];
	size_t k[INTEL_NKIND] = { 0 }, i;

	for (i = 0; i < b->nind; i++)
		k[b->ind[i].kind]++;
	fprintf(fp, "version %" PRIu64 ", %s, %zu indicator(s) (", b->version,
	    b->site != NULL ? b->site : "fleet", b->nind);
	for (i = 0; i < INTEL_NKIND; i++)
		fprintf(fp, "%s%s %zu", i > 0 ? ", " : "",
		    intel_kind_name((enum intel_kind)i), k[i]);
	fprintf(fp, "), %zu policy fragment(s), expires %s", b->npol,
	    b->expires_us != 0 ? rfc3339_format((uint64_t)(b->expires_us), ts,
	    sizeof(ts)) : "never");
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pub", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct intel_keyring *kr = intel_keyring_new();
	struct intel_bundle *b = NULL;
	enum intel_status st;
	char *in = NULL, err[512];
	size_t len;
	int ch, rc = EXIT_USAGE;

	if (kr == NULL)
		return EXIT_FAIL;
	while ((ch = getopt_long(argc, argv, "p:", lo, NULL)) != -1) {
		if (ch != 'p') {
			rc = die_usage("verify: bad option %s", argv[optind - 1]);
			goto out;
		}
		if (intel_keyring_add_file(kr, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "icsentry-intel: %s\n", err);
			goto out;
		}
	}
	if (intel_keyring_count(kr) == 0 || optind != argc - 1) {
		rc = die_usage("verify needs --pub KEY.pub and one FILE");
		goto out;
	}
	if (read_all(argv[optind], &in, &len) != 0)
		goto out;
	st = intel_verify(in, len, kr, intel_now_us(), &b, err, sizeof(err));
	if (st != INTEL_OK) {
		fprintf(stderr, "icsentry-intel: %s: refused (%s): %s\n",
		    argv[optind], intel_status_name(st), err);
		rc = EXIT_FAIL;
		goto out;
	}
	printf("%s: good signature by key %s; ", argv[optind], b->key_id);
	describe(stdout, b);
	printf("\n");
	rc = 0;
out:
	intel_bundle_free(b);
	intel_keyring_free(kr);
	free(in);
	return rc;
}

/* The bundle inside a signed (or bare) document, signatures unchecked. */
static int
peek(const char *in, size_t len, struct intel_bundle **b, char *err,
    size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(in, len), *inner;
	char *text;
	int rc;

	*b = NULL;
	if (doc == NULL) {
		snprintf(err, errlen, "not JSON");
		return -1;
	}
	inner = cJSON_GetObjectItemCaseSensitive(doc, "bundle");
	text = cJSON_PrintUnformatted(inner != NULL ? inner : doc);
	rc = text != NULL && intel_bundle_parse(text, strlen(text), b, err,
	    errlen) == INTEL_OK ? 0 : -1;
	cJSON_free(text);
	cJSON_Delete(doc);
	return rc;
}

static int
cmd_show(int argc, char **argv)
{
	struct intel_bundle *b;
	char *in, err[512], ts[32];
	size_t len, i;

	if (argc != 2)
		return die_usage("show needs one FILE");
	if (read_all(argv[1], &in, &len) != 0)
		return EXIT_USAGE;
	if (peek(in, len, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s: %s\n", argv[1], err);
		free(in);
		return EXIT_USAGE;
	}
	describe(stdout, b);
	printf("\n");
	for (i = 0; i < b->nind; i++) {
		const struct intel_indicator *d = &b->ind[i];

		printf("  %-16s %-8s %-28s %-8s %-6s %s%s%s\n", d->id,
		    intel_kind_name(d->kind), d->value,
		    central_log_severity_name(d->severity),
		    d->technique != NULL ? d->technique : "-", d->description,
		    d->expires_us != 0 ? " until " : "",
		    d->expires_us != 0 ? rfc3339_format((uint64_t)(d->expires_us), ts,
		    sizeof(ts)) : "");
	}
	for (i = 0; i < b->npol; i++)
		printf("  policy %s%s%s = %s\n", b->pol[i].site != NULL ?
		    b->pol[i].site : "", b->pol[i].site != NULL ? "/" : "",
		    b->pol[i].key, b->pol[i].value);
	intel_bundle_free(b);
	free(in);
	return 0;
}

/* ---- publish ------------------------------------------------------------ */

struct pubwait {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 state;		/* 0 waiting, 1 ok, -1 failed */
	char		 why[256];
};

static void
finish(struct pubwait *w, int state, const char *why)
{
	pthread_mutex_lock(&w->mu);
	if (w->state == 0) {
		w->state = state;
		if (why != NULL)
			snprintf(w->why, sizeof(w->why), "%s", why);
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
on_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	finish(ctx, 1, NULL);
}

static void
on_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	finish(ctx, -1, r == NULL ? "failed" : r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r->message != NULL ?
	    r->message : MQTTAsync_strerror(r->code));
}

static int
wait_for(struct pubwait *w, int seconds)
{
	struct timespec until;
	int st;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&w->mu);
	while (w->state == 0)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			break;
	st = w->state;
	w->state = 0;
	if (st == 0)
		snprintf(w->why, sizeof(w->why), "timed out after %d s", seconds);
	pthread_mutex_unlock(&w->mu);
	return st;
}

static char *
read_password(const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return NULL;
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

static int
cmd_publish(int argc, char **argv)
{
	enum { O_MQTT = 256, O_PUB, O_CA, O_CERT, O_KEY, O_ID, O_USER, O_PASS };
	static const struct option lo[] = {
		{ "mqtt", required_argument, NULL, O_MQTT },
		{ "pub", required_argument, NULL, O_PUB },
		{ "ca", required_argument, NULL, O_CA },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "client-id", required_argument, NULL, O_ID },
		{ "username", required_argument, NULL, O_USER },
		{ "password-file", required_argument, NULL, O_PASS },
		{ NULL, 0, NULL, 0 }
	};
	const char *uri = NULL, *ca = NULL, *cert = NULL, *key = NULL;
	const char *user = NULL, *passfile = NULL;
	char cid[64], topic[256], err[512], *in = NULL, *pass = NULL;
	struct intel_keyring *kr = NULL;
	struct intel_bundle *b = NULL;
	struct pubwait w;
	MQTTAsync h = NULL;
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_disconnectOptions dc = MQTTAsync_disconnectOptions_initializer5;
	size_t len;
	int ch, rc = EXIT_USAGE, st;

	snprintf(cid, sizeof(cid), "icsentry-intel-%ld", (long)getpid());
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_MQTT: uri = optarg; break;
		case O_PUB:
			if (kr == NULL && (kr = intel_keyring_new()) == NULL)
				goto out;
			if (intel_keyring_add_file(kr, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "icsentry-intel: %s\n", err);
				goto out;
			}
			break;
		case O_CA: ca = optarg; break;
		case O_CERT: cert = optarg; break;
		case O_KEY: key = optarg; break;
		case O_ID: snprintf(cid, sizeof(cid), "%s", optarg); break;
		case O_USER: user = optarg; break;
		case O_PASS: passfile = optarg; break;
		default:
			rc = die_usage("publish: bad option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (uri == NULL || optind != argc - 1) {
		rc = die_usage("publish needs --mqtt URI and one FILE");
		goto out;
	}
	if (read_all(argv[optind], &in, &len) != 0)
		goto out;
	/* a bundle the gateways would refuse is not worth retaining */
	if (kr != NULL) {
		st = intel_verify(in, len, kr, intel_now_us(), &b, err, sizeof(err));
		if (st != INTEL_OK) {
			fprintf(stderr, "icsentry-intel: %s: refused (%s): %s\n",
			    argv[optind], intel_status_name(st), err);
			rc = EXIT_FAIL;
			goto out;
		}
	} else if (peek(in, len, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s: %s\n", argv[optind], err);
		goto out;
	}
	if (b->site != NULL)
		snprintf(topic, sizeof(topic), "icsentry/intel/site/%s", b->site);
	else
		snprintf(topic, sizeof(topic), "icsentry/intel/fleet");
	if (passfile != NULL && (pass = read_password(passfile)) == NULL) {
		fprintf(stderr, "icsentry-intel: %s: %s\n", passfile, strerror(errno));
		goto out;
	}
	rc = EXIT_FAIL;
	co.sendWhileDisconnected = 0;
	if (MQTTAsync_createWithOptions(&h, uri, cid, MQTTCLIENT_PERSISTENCE_NONE,
	    NULL, &co) != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "icsentry-intel: %s: cannot create an MQTT client\n",
		    uri);
		h = NULL;
		goto out;
	}
	conn.cleanstart = 1;
	conn.keepAliveInterval = 30;
	conn.connectTimeout = 10;
	conn.onSuccess5 = on_ok5;
	conn.onFailure5 = on_fail5;
	conn.context = &w;
	conn.username = user;
	conn.password = pass;
	if (strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0) {
		ssl.trustStore = ca;
		ssl.keyStore = cert;
		ssl.privateKey = key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		conn.ssl = &ssl;
	}
	if (MQTTAsync_connect(h, &conn) != MQTTASYNC_SUCCESS ||
	    wait_for(&w, 15) != 1) {
		fprintf(stderr, "icsentry-intel: %s: cannot connect: %s\n", uri,
		    w.why[0] != '\0' ? w.why : "error");
		goto out;
	}
	msg.payload = in;
	msg.payloadlen = (int)len;
	msg.qos = 1;
	msg.retained = 1;
	ro.onSuccess5 = on_ok5;
	ro.onFailure5 = on_fail5;
	ro.context = &w;
	/* v5: a PUBACK with a reason >= 0x80 (ACL) arrives as a failure */
	if (MQTTAsync_sendMessage(h, topic, &msg, &ro) != MQTTASYNC_SUCCESS ||
	    wait_for(&w, 15) != 1) {
		fprintf(stderr, "icsentry-intel: %s: the broker did not take the "
		    "bundle: %s\n", topic, w.why[0] != '\0' ? w.why : "error");
		goto out;
	}
	printf("published version %" PRIu64 " (%zu indicator(s), %zu bytes) "
	    "retained to %s\n", b->version, b->nind, len, topic);
	rc = 0;
out:
	if (h != NULL) {
		dc.timeout = 2000;
		dc.onSuccess5 = on_ok5;
		dc.onFailure5 = on_fail5;
		dc.context = &w;
		if (MQTTAsync_isConnected(h) &&
		    MQTTAsync_disconnect(h, &dc) == MQTTASYNC_SUCCESS)
			(void)wait_for(&w, 3);
		MQTTAsync_destroy(&h);
	}
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	intel_bundle_free(b);
	intel_keyring_free(kr);
	free(in);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("icsentry-intel %s\n", ICSENTRY_VERSION);
		return 0;
	}
	/* the subcommand's options start after its name */
	argc--;
	argv++;
	optind = 1;
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(argc, argv);
	if (strcmp(cmd, "new") == 0)
		return cmd_new(argc, argv);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(cmd, "publish") == 0)
		return cmd_publish(argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc, argv);
	fprintf(stderr, "icsentry-intel: unknown command '%s' (see --help)\n", cmd);
	return EXIT_USAGE;
}
