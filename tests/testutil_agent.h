/*
 * testutil_agent.h - the agent as the baseline and channel-model suites
 * run it (check_baseline.c, check_chanmodel.c): icsentry-agent -c CONF
 * replaying a capture, learning a baseline or detecting against one; the
 * shared traffic generator; JSON files read and written.
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_AGENT_H
#define ICSENTRY_TESTS_TESTUTIL_AGENT_H

#include <cJSON.h>

#include "tests/testutil.h"

/* The agent's config file and how long one run may take. */
struct tu_agent {
	const char *conf;
	int ms;
};

/* icsentry-agent -c conf and up to six more arguments (NULL: fewer). */
int tu_agent(const struct tu_agent *ag, struct tu_result *r, const char *a1,
    const char *a2, const char *a3, const char *a4, const char *a5,
    const char *a6);

/*
 * Replay pcap against the baseline file b (none when NULL): the alerts
 * as a JSON array, NULL when the agent failed; *rc its exit code.
 */
cJSON *
tu_detect(const struct tu_agent *ag, const char *pcap, const char *b, int *rc);

/* Learn a baseline from pcap into file: the exit code; stderr in *err. */
int tu_learn(
    const struct tu_agent *ag, const char *pcap, const char *file, char **err);

/*
 * The shared traffic generator (SHARED/tools/ics_traffic_gen.py): scenario
 * into out (labels, seed with its start time, duration when not NULL).
 * Its exit code.
 */
int
tu_generate(int ms, const char *scenario, const char *out, const char *labels,
    const char *seed, const char *start, const char *duration);

/* A JSON file parsed (NULL when unreadable), or written (0, -1). */
cJSON *tu_load_json(const char *path);
int tu_save_json(const char *path, const cJSON *j);

#endif /* ICSENTRY_TESTS_TESTUTIL_AGENT_H */
