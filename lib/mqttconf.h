/*
 * mqttconf.h - what the agent's publisher and the collector both need
 * from their [mqtt] settings: the broker URI's scheme and the password
 * file.  Plain C, no Paho here (lib/ depends on nothing of ours).
 */
#ifndef ICSENTRY_LIB_MQTTCONF_H
#define ICSENTRY_LIB_MQTTCONF_H

#include <stdbool.h>
#include <stddef.h>

/* ssl://, mqtts:// or wss://: TLS, certificates apply. */
bool	mqttconf_uri_is_tls(const char *uri);
/* One of tcp://, mqtt://, ws:// or the TLS ones above (Paho's schemes). */
bool	mqttconf_uri_known(const char *uri);
/* The schemes, for error messages. */
#define MQTTCONF_SCHEMES "tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://"

/*
 * The first line of path (no line end) as a malloc'd string, the buffer
 * it was read through wiped.  NULL with "path: reason" in err.
 */
char	*mqttconf_read_secret(const char *path, char *err, size_t errlen);
/* Wipe and free a secret from mqttconf_read_secret (accepts NULL). */
void	 mqttconf_free_secret(char *s);

#endif
