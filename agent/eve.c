/*
 * eve.c - icsentry alert -> Suricata EVE "alert" record (see eve.h).
 *
 * The record follows Suricata 6/7's eve.json alert event:
 *   timestamp ("2026-11-23T08:15:02.123456+0000"), flow_id, event_type,
 *   src_ip, src_port, dest_ip, dest_port, proto, app_proto, community_id,
 *   alert {action, gid, signature_id, rev, signature, category, severity,
 *   metadata {mitre_technique_id: [...], ...}}.
 * What the alert does not carry is left out, never invented.
 */
#include "agent/eve.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

int
eve_severity(const char *severity)
{
	if (severity == NULL)
		return 3;
	if (strcmp(severity, "critical") == 0 || strcmp(severity, "high") == 0)
		return 1;
	if (strcmp(severity, "medium") == 0)
		return 2;
	return 3;
}

uint32_t
eve_signature_id(const char *name)
{
	uint32_t h = 2166136261u;
	const char *p;
	char *end;
	unsigned long v;

	if (name == NULL)
		return 9000000u;
	if (name[0] >= '1' && name[0] <= '9') {
		v = strtoul(name, &end, 10);
		if (*end == '\0' && v <= 0xffffffffUL)
			return (uint32_t)v;
	}
	for (p = name; *p != '\0'; p++) {
		h ^= (uint8_t)*p;
		h *= 16777619u;
	}
	return 9000000u + (h & 0xffffffu);
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "...Z" -> "...+0000", as Suricata writes its timestamps. */
static void
eve_ts(const char *ts, char *out, size_t outlen)
{
	size_t n = strlen(ts);

	if (n > 0 && ts[n - 1] == 'Z' && n + 4 < outlen)
		snprintf(out, outlen, "%.*s+0000", (int)(n - 1), ts);
	else
		snprintf(out, outlen, "%s", ts);
}

/* A category per detector family, in Suricata's classification words. */
static const char *
category(const char *detector, const char *tactic)
{
	static const struct {
		const char *prefix, *cat;
	} map[] = {
		{ "scan", "Detection of a Network Scan" },
		{ "arp", "Potentially Bad Traffic" },
		{ "flood", "Detection of a Denial of Service Attack" },
		{ "baseline", "Not Suspicious Traffic" },
		{ "agent.", "Generic Protocol Command Decode" },
		{ "intel", "Known Bad Host" },
	};
	size_t i;

	for (i = 0; detector != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(detector, map[i].prefix) != NULL)
			return strcmp(map[i].prefix, "baseline") == 0 ?
			    "Anomalous ICS Behaviour" : map[i].cat;
	if (tactic != NULL && tactic[0] != '\0')
		return tactic;
	return "Attempted ICS Command";
}

static void
meta_add(cJSON *meta, const char *k, const char *v)
{
	cJSON *a;

	if (v == NULL || v[0] == '\0')
		return;
	a = cJSON_AddArrayToObject(meta, k);
	cJSON_AddItemToArray(a, cJSON_CreateString(v));
}

static void
endpoint(cJSON *eve, const cJSON *al, const char *side, const char *ipk,
    const char *portk)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(al, side), *v;

	if (!cJSON_IsObject(e))
		return;
	if ((v = cJSON_GetObjectItemCaseSensitive(e, "ip")) != NULL &&
	    cJSON_IsString(v))
		cJSON_AddStringToObject(eve, ipk, v->valuestring);
	if ((v = cJSON_GetObjectItemCaseSensitive(e, "port")) != NULL &&
	    cJSON_IsNumber(v))
		cJSON_AddNumberToObject(eve, portk, v->valuedouble);
}

/* "tcp" -> "TCP"; Suricata names the IP protocol in capitals. */
static void
add_proto(cJSON *eve, const char *transport)
{
	char b[16];
	size_t i;

	if (transport == NULL || transport[0] == '\0')
		return;
	for (i = 0; transport[i] != '\0' && i + 1 < sizeof(b); i++)
		b[i] = (char)toupper((unsigned char)transport[i]);
	b[i] = '\0';
	cJSON_AddStringToObject(eve, "proto", b);
}

/* Suricata's "ether" object, when the alert knows the MACs. */
static void
ether(cJSON *eve, const cJSON *al)
{
	const char *sm = str(cJSON_GetObjectItemCaseSensitive(al, "src"),
	    "mac");
	const char *dm = str(cJSON_GetObjectItemCaseSensitive(al, "dst"),
	    "mac");
	cJSON *e;

	if (sm == NULL && dm == NULL)
		return;
	e = cJSON_AddObjectToObject(eve, "ether");
	if (sm != NULL)
		cJSON_AddStringToObject(e, "src_mac", sm);
	if (dm != NULL)
		cJSON_AddStringToObject(e, "dest_mac", dm);
}

char *
eve_from_alert(const char *json, size_t len)
{
	cJSON *al, *eve, *a, *meta, *v;
	const char *sev, *det, *rule, *tactic, *title;
	char ts[48], sid_name[128], *out;
	double rev = 1;

	al = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(al) || str(al, "ts") == NULL) {
		cJSON_Delete(al);
		return NULL;
	}
	eve = cJSON_CreateObject();
	eve_ts(str(al, "ts"), ts, sizeof(ts));
	cJSON_AddStringToObject(eve, "timestamp", ts);
	v = cJSON_GetObjectItemCaseSensitive(al, "flow_id");
	if (cJSON_IsNumber(v))
		cJSON_AddNumberToObject(eve, "flow_id", v->valuedouble);
	else if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		/* EVE's flow_id is a number; keep a non-numeric id as is */
		char *end;
		unsigned long long id = strtoull(v->valuestring, &end, 10);

		if (*end == '\0' && id < (1ULL << 53))
			cJSON_AddNumberToObject(eve, "flow_id", (double)id);
		else
			cJSON_AddStringToObject(eve, "flow_id", v->valuestring);
	}
	cJSON_AddStringToObject(eve, "event_type", "alert");
	endpoint(eve, al, "src", "src_ip", "src_port");
	endpoint(eve, al, "dst", "dest_ip", "dest_port");
	add_proto(eve, str(al, "transport"));
	v = cJSON_GetObjectItemCaseSensitive(al, "vlan");
	if (cJSON_IsNumber(v) && v->valuedouble > 0) {	/* 0: untagged */
		cJSON *vl = cJSON_AddArrayToObject(eve, "vlan");

		cJSON_AddItemToArray(vl, cJSON_CreateNumber(v->valuedouble));
	}
	if (str(al, "community_id") != NULL && str(al, "community_id")[0])
		cJSON_AddStringToObject(eve, "community_id",
		    str(al, "community_id"));
	/* no transport member: a proto that is one names it */
	if (str(al, "transport") == NULL && str(al, "proto") != NULL &&
	    (strcmp(str(al, "proto"), "tcp") == 0 ||
	    strcmp(str(al, "proto"), "udp") == 0 ||
	    strcmp(str(al, "proto"), "icmp") == 0))
		add_proto(eve, str(al, "proto"));
	else if (str(al, "proto") != NULL && str(al, "proto")[0] != '\0')
		cJSON_AddStringToObject(eve, "app_proto", str(al, "proto"));
	ether(eve, al);

	sev = str(al, "severity");
	det = str(al, "detector");
	tactic = str(al, "tactic");
	title = str(al, "title");
	v = cJSON_GetObjectItemCaseSensitive(al, "rule");
	rule = NULL;
	if (cJSON_IsString(v))
		rule = v->valuestring;
	else if (cJSON_IsNumber(v)) {
		snprintf(sid_name, sizeof(sid_name), "%.0f", v->valuedouble);
		rule = sid_name;
	}
	v = cJSON_GetObjectItemCaseSensitive(al, "rule_rev");
	if (cJSON_IsNumber(v) && v->valuedouble >= 1)
		rev = v->valuedouble;
	a = cJSON_AddObjectToObject(eve, "alert");
	cJSON_AddStringToObject(a, "action", "allowed");
	cJSON_AddNumberToObject(a, "gid", 1);
	/* the rule's own numeric id (the record's "sid") when it has one */
	v = cJSON_GetObjectItemCaseSensitive(al, "sid");
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble <= 4294967295.0)
		cJSON_AddNumberToObject(a, "signature_id", v->valuedouble);
	else
		cJSON_AddNumberToObject(a, "signature_id",
		    (double)eve_signature_id(rule != NULL ? rule : det));
	cJSON_AddNumberToObject(a, "rev", rev);
	cJSON_AddStringToObject(a, "signature", title != NULL ? title :
	    det != NULL ? det : "icsentry alert");
	cJSON_AddStringToObject(a, "category", category(det, tactic));
	cJSON_AddNumberToObject(a, "severity", eve_severity(sev));
	meta = cJSON_AddObjectToObject(a, "metadata");
	meta_add(meta, "mitre_technique_id", str(al, "technique"));
	meta_add(meta, "mitre_technique_name", str(al, "technique_name"));
	meta_add(meta, "mitre_tactic_name", tactic);
	v = cJSON_GetObjectItemCaseSensitive(al, "techniques");
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
		cJSON *t, *arr = cJSON_GetObjectItemCaseSensitive(meta,
		    "mitre_technique_id");

		if (arr == NULL)
			arr = cJSON_AddArrayToObject(meta,
			    "mitre_technique_id");
		cJSON_ArrayForEach(t, v) {
			const char *id = cJSON_IsString(t) ? t->valuestring :
			    str(t, "id");

			if (id != NULL)
				cJSON_AddItemToArray(arr,
				    cJSON_CreateString(id));
		}
	}
	meta_add(meta, "icsentry_detector", det);
	meta_add(meta, "icsentry_severity", sev);
	meta_add(meta, "icsentry_site", str(al, "site"));
	meta_add(meta, "icsentry_agent", str(al, "agent"));
	meta_add(meta, "icsentry_rule", rule);
	v = cJSON_GetObjectItemCaseSensitive(al, "seq");
	if (cJSON_IsNumber(v)) {
		char b[32];

		snprintf(b, sizeof(b), "%.0f", v->valuedouble);
		meta_add(meta, "icsentry_seq", b);
	}
	/* the agent's own record rides along, as Suricata adds app records */
	v = cJSON_GetObjectItemCaseSensitive(al, "details");
	if (v != NULL)
		cJSON_AddItemToObject(eve, "icsentry",
		    cJSON_Duplicate(v, 1));
	cJSON_AddStringToObject(eve, "host", str(al, "agent") != NULL ?
	    str(al, "agent") : "");
	out = cJSON_PrintUnformatted(eve);
	cJSON_Delete(eve);
	cJSON_Delete(al);
	return out;
}

int
alert_sink_eve(void *arg, const char *severity, const char *json,
    size_t len)
{
	FILE *fp = arg;
	char *e = eve_from_alert(json, len);
	int rc = 0;

	(void)severity;
	if (e == NULL)
		return -1;
	/* flushed by the agent once per batch of frames, as alert_sink_file */
	if (fputs(e, fp) == EOF || fputc('\n', fp) == EOF)
		rc = -1;
	free(e);
	return rc;
}
