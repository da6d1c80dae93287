/*
 * ops.c - coverage banner, effective config, --check-config, reload
 * differences and output reopening (ops.h).
 */
#include "agent/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "dissectors/proto.h"
#include "dissectors/registry.h"
#include "lib/log.h"
#include "lib/mqttconf.h"

/* ---- coverage ---------------------------------------------------------- */

static size_t
nets_count(const struct cfg *c, const char *key)
{
	return cfg_is_set(c, "policy", key) ? cfg_nets(c, "policy", key)->n : 0;
}

void
ops_coverage(const struct cfg *c,
    void (*emit)(void *arg, const char *what, const char *text), void *arg)
{
	const char *base = cfg_str(c, "detector.baseline", "file");
	const char *learn = cfg_str(c, "detector.baseline", "learn");
	bool bl_on = cfg_bool(c, "detector.baseline", "enabled");
	const struct proto_desc *const *pd;
	char text[768], others[512] = ""; /* text: others + a sentence */
	size_t n;

	if (!bl_on)
		base = learn = "";
	for (pd = proto_registry; *pd != NULL; pd++) {
		const char *key = (*pd)->policy_key, *what;

		if (key == NULL) {
			size_t o = strlen(others);

			snprintf(others + o, sizeof(others) - o, "%s%s",
			    o > 0 ? ", " : "", (*pd)->name);
			continue;
		}
		what = strstr(key, "_masters") != NULL ? "commands" : "writes";
		n = nets_count(c, key);
		if (n > 0)
			snprintf(text, sizeof(text),
			    "%s judged: [policy] %s lists "
			    "%zu address%s%s%s",
			    what, key, n, n == 1 ? "" : "es",
			    base[0] != '\0' ? "; baseline " : "", base);
		else if (base[0] != '\0')
			snprintf(text, sizeof(text),
			    "%s judged by the baseline %s "
			    "(no %s)",
			    what, base, key);
		else if (learn[0] != '\0')
			snprintf(text, sizeof(text),
			    "%s not judged: learning a "
			    "baseline into %s, no %s",
			    what, learn, key);
		else
			snprintf(text, sizeof(text),
			    "%s not judged: no %s and no "
			    "baseline",
			    what, key);
		emit(arg, (*pd)->name, text);
	}
	if (others[0] != '\0') {
		snprintf(text, sizeof(text),
		    "%s: decoded and checked by their "
		    "own detectors; no [policy] key judges who may write",
		    others);
		emit(arg, "others", text);
	}
	n = nets_count(c, "discovery_allowed");
	if (n > 0 || base[0] != '\0')
		snprintf(text, sizeof(text),
		    "scans and device identification "
		    "judged: %zu allowed address%s%s%s",
		    n, n == 1 ? "" : "es",
		    base[0] != '\0' ? " and the baseline " : "", base);
	else
		snprintf(text, sizeof(text),
		    "scans and device identification "
		    "alerted from any host: no discovery_allowed and no "
		    "baseline");
	emit(arg, "discovery", text);
	n = nets_count(c, "ot_networks");
	if (!cfg_bool(c, "detector.remote_access", "enabled"))
		snprintf(text, sizeof(text),
		    "not watched: [detector.remote_access] "
		    "enabled = false");
	else if (n > 0)
		snprintf(text, sizeof(text),
		    "SSH/RDP/Telnet/VNC/SMB into %zu "
		    "ot_networks entr%s watched (%zu allowed)",
		    n, n == 1 ? "y" : "ies",
		    nets_count(c, "remote_access_allowed"));
	else
		snprintf(text, sizeof(text),
		    "SSH/RDP/Telnet/VNC/SMB watched into "
		    "the hosts seen serving an industrial protocol (no "
		    "ot_networks; "
		    "%zu allowed)",
		    nets_count(c, "remote_access_allowed"));
	emit(arg, "remote_access", text);
}

static void
emit_log(void *arg, const char *what, const char *text)
{
	(void)arg;
	log_info("coverage: %s: %s", what, text);
}

void
ops_coverage_log(const struct cfg *c)
{
	ops_coverage(c, emit_log, NULL);
}

static void
emit_json(void *arg, const char *what, const char *text)
{
	cJSON_AddStringToObject(arg, what, text);
}

void
ops_coverage_json(const struct cfg *c, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "coverage");

	if (o != NULL)
		ops_coverage(c, emit_json, o);
}

/* ---- configuration ----------------------------------------------------- */

void
ops_config_diff(const struct cfg *old, const struct cfg *new,
    const struct cfg_schema *const *all, size_t n)
{
	const struct cfg_key *k;
	size_t i, changed = 0;
	char where[1100];

	for (i = 0; i < n; i++)
		for (k = all[i]->keys; k->name != NULL; k++) {
			const char *a = cfg_text(old, all[i]->section, k->name);
			const char *b = cfg_text(new, all[i]->section, k->name);

			if (a == NULL || b == NULL || strcmp(a, b) == 0)
				continue;
			changed++;
			log_notice("reload: [%s] %s: '%s' -> '%s' (%s)",
			    all[i]->section, k->name, a, b,
			    cfg_is_set(new, all[i]->section, k->name) ?
				cfg_where(new, all[i]->section, k->name, where,
				    sizeof(where)) :
				"default");
		}
	if (changed == 0)
		log_notice("reload: no key changed");
}

void
ops_print_effective(const struct cfg *c, const struct cfg_schema *const *all,
    size_t n, FILE *fp)
{
	const struct cfg_key *k;
	size_t i;
	char where[1100];

	fprintf(fp,
	    "# icsentry-agent effective configuration: %s with the "
	    "command line applied.\n# Generated by `icsentry-agent -c FILE "
	    "--print-config`; after each key, where its value came from.\n",
	    cfg_path(c));
	for (i = 0; i < n; i++) {
		fprintf(fp, "\n[%s]\n", all[i]->section);
		for (k = all[i]->keys; k->name != NULL; k++) {
			const char *v = cfg_text(c, all[i]->section, k->name);

			fprintf(fp, "%s =%s%s\t; %s\n", k->name,
			    v[0] != '\0' ? " " : "", v,
			    cfg_is_set(c, all[i]->section, k->name) ?
				cfg_where(c, all[i]->section, k->name, where,
				    sizeof(where)) :
				"default");
		}
	}
}

int
ops_check_mqtt(const struct cfg *c, char *err, size_t errlen)
{
	const char *uri = cfg_str(c, "mqtt", "uri");
	char where[1100];

	if (uri[0] == '\0' || mqttconf_uri_known(uri))
		return 0;
	snprintf(err, errlen, "%s: [mqtt] uri '%s' is not " MQTTCONF_SCHEMES,
	    cfg_where(c, "mqtt", "uri", where, sizeof(where)), uri);
	return -1;
}

static void
emit_print(void *arg, const char *what, const char *text)
{
	fprintf(arg, "coverage: %s: %s\n", what, text);
}

void
ops_coverage_print(const struct cfg *c, FILE *fp)
{
	ops_coverage(c, emit_print, fp);
}

/* ---- log rotation ------------------------------------------------------ */

int
ops_reopen(FILE *fp, const char *path, const char *what)
{
	int fd;

	if (path == NULL || path[0] == '\0' || strcmp(path, "-") == 0)
		return 0;
	if (fp == NULL) {
		/* set by a reload: the sinks are made at start */
		log_warn("%s %s: not written until the agent is restarted",
		    what, path);
		return 0;
	}
	if (fp == stdout)
		return 0;
	fflush(fp);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0) {
		log_err("%s %s: cannot reopen: %s; still writing the old file",
		    what, path, strerror(errno));
		return -1;
	}
	/* same FILE, same descriptor number: only the file behind it changes */
	if (dup2(fd, fileno(fp)) < 0) {
		log_err(
		    "%s %s: cannot reopen: %s", what, path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	log_info("%s: reopened %s", what, path);
	return 0;
}
