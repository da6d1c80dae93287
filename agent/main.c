/*
 * main.c - icsentry-agent: capture -> decode -> flows -> classify ->
 * dissect -> detect -> alert sinks (DESIGN.md "Components and layout").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "lib/version.h"
#include "lib/log.h"
#include "agent/opscli.h"


static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: icsentry-agent [-c FILE] (-i IFACE | -r FILE) [options]\n"
"\n"
"Watch an industrial control network (live or a capture), name its\n"
"protocols, decode what is commanded and raise alerts.\n"
"\n"
"  -c, --config FILE      INI config (default /etc/icsentry/agent.conf when\n"
"                         capturing live; none needed for -r)\n"
"  -i, --interface IFACE  live capture\n"
"  -r, --read FILE        replay a pcap/pcapng file ('-' = stdin); may be\n"
"                         given several times\n"
"  -f, --filter BPF       capture filter\n"
"      --alerts-out FILE  write every alert as one JSON line ('-' = stdout)\n"
"      --flows-out FILE   write every finished flow as one JSON line\n"
"      --mqtt URI         broker (tcp://host:1883, ssl://host:8883)\n"
"      --no-mqtt          do not publish, whatever the config says\n"
"      --learn FILE       learn a baseline from the traffic into FILE\n"
"      --baseline FILE    flag deviations from a learned baseline\n"
"      --assets-out FILE  write the asset inventory as JSON\n"
"      --realtime         replay at the capture's own pace\n"
"      --stats            print a final statistics JSON object on stderr\n"
"      --intel FILE       apply a signed threat-intel bundle (needs [intel] keys)\n"
"  -t, --check-config     check the configuration (and the files it names)\n"
"                         and exit: 0 good, 2 bad with file:line\n"
"      --print-config     print every config key with its default; with -c,\n"
"                         the effective value of each and where it came from\n"
"      --version          print the version\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage, config or input.\n");
}

int
main(int argc, char **argv)
{
	enum {
		OPT_ALERTS = 256, OPT_FLOWS, OPT_MQTT, OPT_NO_MQTT, OPT_LEARN,
		OPT_BASELINE, OPT_ASSETS, OPT_REALTIME, OPT_STATS, OPT_VERSION,
		OPT_PRINT_CONFIG, OPT_INTEL, OPT_CHECK_CONFIG
	};
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "filter", required_argument, NULL, 'f' },
		{ "alerts-out", required_argument, NULL, OPT_ALERTS },
		{ "flows-out", required_argument, NULL, OPT_FLOWS },
		{ "mqtt", required_argument, NULL, OPT_MQTT },
		{ "no-mqtt", no_argument, NULL, OPT_NO_MQTT },
		{ "learn", required_argument, NULL, OPT_LEARN },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "assets-out", required_argument, NULL, OPT_ASSETS },
		{ "realtime", no_argument, NULL, OPT_REALTIME },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "intel", required_argument, NULL, OPT_INTEL },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
		{ "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_opts o;
	int ch, nread = 0;
	bool check = false, print = false;

	log_init("icsentry-agent");

	memset(&o, 0, sizeof(o));
	o.files = calloc((size_t)argc, sizeof(*o.files));
	if (o.files == NULL)
		return EXIT_RUNTIME;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:i:r:f:th", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.config = optarg; break;
		case 'i': o.iface = optarg; break;
		case 'r': o.files[nread++] = optarg; break;
		case 'f': o.filter = optarg; break;
		case OPT_ALERTS: o.alerts_out = optarg; break;
		case OPT_FLOWS: o.flows_out = optarg; break;
		case OPT_MQTT: o.mqtt_uri = optarg; break;
		case OPT_NO_MQTT: o.no_mqtt = true; break;
		case OPT_LEARN: o.learn = optarg; break;
		case OPT_BASELINE: o.baseline = optarg; break;
		case OPT_ASSETS: o.assets_out = optarg; break;
		case OPT_REALTIME: o.realtime = true; break;
		case OPT_STATS: o.stats = true; break;
		case OPT_INTEL: o.intel = optarg; break;
		case OPT_VERSION:
			printf("icsentry-agent %s\n", ICSENTRY_VERSION);
			free(o.files);
			return 0;
		case OPT_PRINT_CONFIG: print = true; break;
		case 't': check = true; break;
		case 'h':
			usage(stdout);
			free(o.files);
			return 0;
		case ':':
			log_err("option '%s' needs a value (see --help)\n",
			    argv[optind - 1]);
			free(o.files);
			return EXIT_USAGE;
		default:
			log_err("unknown option '%s' (see --help)\n",
			    argv[optind - 1]);
			free(o.files);
			return EXIT_USAGE;
		}
	}
	o.nfiles = nread;
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)\n",
		    argv[optind]);
		free(o.files);
		return EXIT_USAGE;
	}
	if (print && o.config == NULL) {
		agent_print_config(stdout);
		free(o.files);
		return 0;
	}
	o.check_only = check || print;
	if (print)
		ch = agent_print_effective(&o);
	else if (check)
		ch = agent_check_config(&o);
	else
		ch = agent_run(&o);
	free(o.files);
	return ch;
}
