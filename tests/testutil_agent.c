/*
 * testutil_agent.c - the agent, the traffic generator and JSON files for
 * the baseline and channel-model suites (testutil_agent.h).
 */
#include "tests/testutil_agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
tu_agent(const struct tu_agent *ag, struct tu_result *r, const char *a1,
    const char *a2, const char *a3, const char *a4, const char *a5,
    const char *a6)
{
	char path[600];
	char *argv[12];
	int n = 0;

	argv[n++] = (char *)tu_agent_path(path, sizeof(path));
	argv[n++] = "-c";
	argv[n++] = (char *)ag->conf;
	if (a1)
		argv[n++] = (char *)a1;
	if (a2)
		argv[n++] = (char *)a2;
	if (a3)
		argv[n++] = (char *)a3;
	if (a4)
		argv[n++] = (char *)a4;
	if (a5)
		argv[n++] = (char *)a5;
	if (a6)
		argv[n++] = (char *)a6;
	argv[n] = NULL;
	return tu_run(argv, NULL, ag->ms, r);
}

cJSON *
tu_detect(const struct tu_agent *ag, const char *pcap, const char *b, int *rc)
{
	struct tu_result r;
	cJSON *arr = NULL;

	if (b != NULL)
		tu_agent(
		    ag, &r, "-r", pcap, "--baseline", b, "--alerts-out", "-");
	else
		tu_agent(ag, &r, "-r", pcap, "--alerts-out", "-", NULL, NULL);
	*rc = r.exit_code;
	if (r.exit_code == 0)
		arr = tu_json_lines(r.out, NULL);
	tu_result_free(&r);
	return arr;
}

int
tu_learn(
    const struct tu_agent *ag, const char *pcap, const char *file, char **err)
{
	struct tu_result r;
	int rc;

	tu_agent(ag, &r, "-r", pcap, "--learn", file, NULL, NULL);
	rc = r.exit_code;
	if (err != NULL)
		*err = strdup(r.err != NULL ? r.err : "");
	tu_result_free(&r);
	return rc;
}

int
tu_generate(int ms, const char *scenario, const char *out, const char *labels,
    const char *seed, const char *start, const char *duration)
{
	char gen[600], env[] = "/usr/bin/env", py[] = "python3";
	char *argv[16];
	struct tu_result r;
	int n = 0, rc;

	snprintf(
	    gen, sizeof(gen), "%s/tools/ics_traffic_gen.py", tu_shared_dir());
	argv[n++] = env;
	argv[n++] = py;
	argv[n++] = gen;
	argv[n++] = "--scenario";
	argv[n++] = (char *)scenario;
	argv[n++] = "--out";
	argv[n++] = (char *)out;
	if (labels != NULL) {
		argv[n++] = "--labels";
		argv[n++] = (char *)labels;
	}
	if (seed != NULL) {
		argv[n++] = "--seed";
		argv[n++] = (char *)seed;
		argv[n++] = "--start-time";
		argv[n++] = (char *)start;
	}
	if (duration != NULL) {
		argv[n++] = "--duration";
		argv[n++] = (char *)duration;
	}
	argv[n] = NULL;
	tu_run(argv, NULL, ms, &r);
	rc = r.exit_code;
	tu_result_free(&r);
	return rc;
}

cJSON *
tu_load_json(const char *path)
{
	char *t = tu_read_file(path, NULL);
	cJSON *j = t != NULL ? cJSON_Parse(t) : NULL;

	free(t);
	return j;
}

int
tu_save_json(const char *path, const cJSON *j)
{
	char *t = cJSON_Print(j);
	int rc = t != NULL ? tu_write_file(path, t, strlen(t)) : -1;

	free(t);
	return rc;
}
