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
#include "broker/intel_int.h"
#include "lib/ids.h"
#include "lib/rfc3339.h"
#include "lib/intel_bundle.h"

int
intel_die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "icsentry-intel: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return EXIT_USAGE;
}

int
intel_read_all(const char *path, char **out, size_t *len)
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

int
intel_cmd_keygen(int argc, char **argv)
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
			return intel_die_usage("keygen: bad option %s", argv[optind - 1]);
		out = optarg;
	}
	if (out == NULL || optind != argc)
		return intel_die_usage("keygen needs --out KEY and nothing else");
	if (intel_keygen(out, id, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-intel: %s\n", err);
		return EXIT_FAIL;
	}
	printf("key %s: %s (private, keep it on the SOC), %s.pub (to the "
	    "gateways' [intel] keys)\n", id, out, out);
	return 0;
}

int
intel_cmd_sign(int argc, char **argv)
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
			return intel_die_usage("sign: bad option %s", argv[optind - 1]);
		key = optarg;
	}
	if (key == NULL || optind != argc - 1)
		return intel_die_usage("sign needs --key KEY and one FILE");
	if (intel_read_all(argv[optind], &in, &len) != 0)
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

int
intel_cmd_verify(int argc, char **argv)
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
			rc = intel_die_usage("verify: bad option %s", argv[optind - 1]);
			goto out;
		}
		if (intel_keyring_add_file(kr, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "icsentry-intel: %s\n", err);
			goto out;
		}
	}
	if (intel_keyring_count(kr) == 0 || optind != argc - 1) {
		rc = intel_die_usage("verify needs --pub KEY.pub and one FILE");
		goto out;
	}
	if (intel_read_all(argv[optind], &in, &len) != 0)
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
int
intel_peek(const char *in, size_t len, struct intel_bundle **b, char *err,
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

int
intel_cmd_show(int argc, char **argv)
{
	struct intel_bundle *b;
	char *in, err[512], ts[32];
	size_t len, i;

	if (argc != 2)
		return intel_die_usage("show needs one FILE");
	if (intel_read_all(argv[1], &in, &len) != 0)
		return EXIT_USAGE;
	if (intel_peek(in, len, &b, err, sizeof(err)) != 0) {
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
