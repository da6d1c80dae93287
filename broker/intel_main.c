/*
 * intel_main.c - icsentry-intel: the usage text, publish (the bundle
 * retained to the gateways over MQTT) and main(), which runs the
 * commands of intel.c and intel_new.c (intel_int.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "broker/intel_int.h"
#include "lib/ids.h"
#include "lib/intel_bundle.h"
#include "lib/mqttconf.h"

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
			rc = intel_die_usage("publish: bad option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (uri == NULL || optind != argc - 1) {
		rc = intel_die_usage("publish needs --mqtt URI and one FILE");
		goto out;
	}
	if (intel_read_all(argv[optind], &in, &len) != 0)
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
	} else if (intel_peek(in, len, &b, err, sizeof(err)) != 0) {
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
	if (mqttconf_uri_is_tls(uri)) {
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
		return intel_cmd_keygen(argc, argv);
	if (strcmp(cmd, "new") == 0)
		return intel_cmd_new(argc, argv);
	if (strcmp(cmd, "sign") == 0)
		return intel_cmd_sign(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return intel_cmd_verify(argc, argv);
	if (strcmp(cmd, "publish") == 0)
		return cmd_publish(argc, argv);
	if (strcmp(cmd, "show") == 0)
		return intel_cmd_show(argc, argv);
	fprintf(stderr, "icsentry-intel: unknown command '%s' (see --help)\n", cmd);
	return EXIT_USAGE;
}
