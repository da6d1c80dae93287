/*
 * opscli.c - the agent's configuration commands: -t / --check-config and
 * -c FILE --print-config (opscli.h).  Apart from agent.c and ops.c so that
 * those two stay independent (agent.c uses ops.c; this file uses both).
 */
#include "agent/opscli.h"

#include <stdint.h>
#include <stdio.h>

#include "agent/ops.h"
#include "detectors/engine.h"
#include "lib/log.h"

static void
no_raise(void *arg, struct det_alert *al)
{
	(void)arg;
	(void)al;
}

static void
no_tick(void *arg, uint64_t now)
{
	(void)arg;
	(void)now;
}

int
agent_check_config(const struct agent_opts *o)
{
	struct det_alert_sink sink = { no_raise, no_tick, NULL };
	struct det_engine *e;
	struct cfg *c = NULL;
	char err[1024] = "";
	int rc;

	if ((rc = agent_load_config(o, &c, err, sizeof(err))) != 0 ||
	    ops_check_mqtt(c, err, sizeof(err)) != 0) {
		log_err("%s", err);
		cfg_free(c);
		return EXIT_USAGE;
	}
	/* the detectors read their own files (baseline, OUI registry) */
	if ((e = det_engine_new(c, &sink, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		cfg_free(c);
		return EXIT_USAGE;
	}
	det_engine_free(e);
	printf("%s: configuration OK\n", cfg_path(c));
	ops_coverage_print(c, stdout);
	cfg_free(c);
	return 0;
}

int
agent_print_effective(const struct agent_opts *o)
{
	const struct cfg_schema *const *all;
	struct cfg *c = NULL;
	char err[1024] = "";
	size_t n;

	if (agent_load_config(o, &c, err, sizeof(err)) != 0) {
		log_err("%s", err);
		cfg_free(c);
		return EXIT_USAGE;
	}
	all = agent_schemas(&n);
	ops_print_effective(c, all, n, stdout);
	cfg_free(c);
	return 0;
}
