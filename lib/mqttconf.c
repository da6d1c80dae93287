/*
 * mqttconf.c - broker URI schemes and the password file, shared by
 * agent/mqtt_out.c and broker/collector.c (they had a copy each).
 */
#include "lib/mqttconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
mqttconf_uri_is_tls(const char *uri)
{
	return uri != NULL && (strncmp(uri, "ssl://", 6) == 0 ||
	    strncmp(uri, "mqtts://", 8) == 0 || strncmp(uri, "wss://", 6) == 0);
}

bool
mqttconf_uri_known(const char *uri)
{
	return uri != NULL && (mqttconf_uri_is_tls(uri) ||
	    strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "mqtt://", 7) == 0 ||
	    strncmp(uri, "ws://", 5) == 0);
}

char *
mqttconf_read_secret(const char *path, char *err, size_t errlen)
{
	char buf[1024];
	FILE *f;
	char *s;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	s = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (s == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	return s;
}

void
mqttconf_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
