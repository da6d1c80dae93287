/*
 * icsentry-web - the SOC console (web.h).
 *
 *   icsentry-web --db DB|postgresql://... --listen ADDR:PORT --cert F
 *                --key F --users FILE [--chartjs FILE]
 *   icsentry-web --users FILE --add-user NAME --role viewer|analyst|admin
 *                (the password is the first line of stdin)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/version.h"
#include "web/users.h"
#include "web/web.h"

#define CHARTJS	"/usr/share/javascript/chart.js/chart.min.js"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: icsentry-web --db DB|postgresql://... --listen ADDR:PORT\n"
	    "                    --cert FILE --key FILE --users FILE "
	    "[--chartjs FILE]\n"
	    "                    [--evidence-dir DIR] (DIR/SITE/AGENT/SEQ.pcap)\n"
	    "       icsentry-web --users FILE --add-user NAME "
	    "--role viewer|analyst|admin\n"
	    "                    (password: the first line of stdin, 8 "
	    "characters or more)\n"
	    "       icsentry-web --help | --version\n");
}

static int
add_user(const char *users, const char *name, const char *role)
{
	char pw[1100], err[256];
	size_t n;
	int r = web_role_parse(role), rc;

	if (r == 0 || !web_name_ok(name)) {
		fprintf(stderr, "icsentry-web: --add-user NAME (letters, digits, "
		    ". _ -) --role viewer|analyst|admin\n");
		return 2;
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "icsentry-web: no password on stdin\n");
		return 2;
	}
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n > 1024) {
		fprintf(stderr, "icsentry-web: password longer than 1024\n");
		return 2;
	}
	rc = web_user_set(users, name, r, pw, err, sizeof(err));
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc != 0) {
		fprintf(stderr, "icsentry-web: %s\n", err);
		return rc == -2 ? 2 : 1;
	}
	fprintf(stderr, "icsentry-web: %s is %s in %s\n", name, role, users);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "users", required_argument, NULL, 'u' },
		{ "add-user", required_argument, NULL, 'a' },
		{ "role", required_argument, NULL, 'r' },
		{ "chartjs", required_argument, NULL, 'j' },
		{ "poll-ms", required_argument, NULL, 'p' },
		{ "evidence-dir", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct web_config cfg;
	const char *add = NULL, *role = NULL;
	char err[512];
	int o;

	memset(&cfg, 0, sizeof(cfg));
	cfg.chartjs = CHARTJS;
	cfg.poll_ms = 500;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'd': cfg.db = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'c': cfg.cert = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'u': cfg.users = optarg; break;
		case 'a': add = optarg; break;
		case 'r': role = optarg; break;
		case 'j': cfg.chartjs = optarg; break;
		case 'e': cfg.evidence_dir = optarg; break;
		case 'p':
			cfg.poll_ms = atoi(optarg);
			if (cfg.poll_ms < 10 || cfg.poll_ms > 10000) {
				fprintf(stderr, "icsentry-web: --poll-ms: 10 "
				    "to 10000\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("icsentry-web " ICSENTRY_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || cfg.users == NULL) {
		usage(stderr);
		return 2;
	}
	if (add != NULL || role != NULL) {
		if (add == NULL || role == NULL) {
			usage(stderr);
			return 2;
		}
		return add_user(cfg.users, add, role);
	}
	if (cfg.db == NULL || cfg.listen == NULL || cfg.cert == NULL ||
	    cfg.key == NULL) {
		usage(stderr);
		return 2;
	}
	if (web_run(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-web: %s\n", err);
		return 1;
	}
	return 0;
}
