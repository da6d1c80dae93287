/*
 * intel_new.c - icsentry-intel new: an unsigned bundle from indicators
 * and policies given on the command line, or from every attacker address
 * the central log saw (--from-log); on intel.c's helpers (intel_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "broker/central_log.h"
#include "broker/intel_int.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"
#include "lib/intel_bundle.h"

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

int
intel_cmd_new(int argc, char **argv)
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
				rc = intel_die_usage("--version %s: an integer >= 1", optarg);
				goto out;
			}
			break;
		case O_EXPIRES:
			if (rfc3339_parse_any(optarg, &t) != 0) {
				rc = intel_die_usage("--expires %s: not RFC 3339", optarg);
				goto out;
			}
			expires = optarg;
			break;
		case O_SITE: site = optarg; break;
		case O_COMMENT: comment = optarg; break;
		case O_IND:
			if (nspec == MAX_ARGS) {
				rc = intel_die_usage("more than 1024 --indicator");
				goto out;
			}
			specs[nspec++] = optarg;
			break;
		case O_POLICY:
			if (add_policy(pols, optarg) != 0) {
				rc = intel_die_usage("--policy %s: [SITE/]KEY=VALUE", optarg);
				goto out;
			}
			break;
		case O_FROM: db = optarg; break;
		case O_SINCE: since = optarg; break;
		case O_UNTIL: until = optarg; break;
		case O_MINSEV:
			if ((min_sev = central_log_severity_rank(optarg)) < 0) {
				rc = intel_die_usage("--min-severity %s: info, low, medium, "
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
				rc = intel_die_usage("--exclude %s: not an address or CIDR",
				    optarg);
				goto out;
			}
			if (sl != NULL) {
				unsigned long max = bits;

				bits = strtoul(sl, &end, 10);
				if (*sl == '\0' || *end != '\0' || bits > max) {
					rc = intel_die_usage("--exclude %s: bad prefix", optarg);
					goto out;
				}
			}
			ne[fl.nex++].bits = (uint8_t)bits;
			break;
		}
		case O_PREFIX: c.prefix = optarg; break;
		default:
			rc = intel_die_usage("new: bad option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (v == 0 || optind != argc) {
		rc = intel_die_usage("new needs --version N (and no other arguments)");
		goto out;
	}
	if ((since != NULL || until != NULL) && db == NULL) {
		rc = intel_die_usage("--since/--until go with --from-log DB");
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
			rc = intel_die_usage("--indicator %s: KIND:VALUE[:SEVERITY[:TECHNIQUE]]",
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
