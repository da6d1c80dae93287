/*
 * mqttconf.c - broker URI schemes and the password file, shared by
 * agent/mqtt_out.c and broker/collector.c (they had a copy each).
 */
#include "lib/mqttconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/*
 * OpenSSL frees every thread's state in an atexit handler, while Paho's
 * receive and send threads, detached, may still be running their own
 * thread-local destructors on the way out: the same state freed twice
 * ("double free or corruption", SIGABRT or SIGSEGV at exit, seen about
 * once in 20 runs of a TLS client).  Ask for no exit-time cleanup before
 * anything initialises OpenSSL; the process's memory goes back anyway.
 * Every program that talks MQTT links this file.
 */
__attribute__((constructor)) static void
mqttconf_openssl_no_atexit(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

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
