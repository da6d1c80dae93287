/* ipnet.c - addresses inside networks (ipnet.h). */
#include "lib/ipnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool
parse_net(const char *text, int *af, unsigned char addr[16], int *bits)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	char *end;
	long b;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*af = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*af = AF_INET6;
	else
		return false;
	*bits = *af == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		errno = 0;
		b = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || b < 0 || b > *bits)
			return false;
		*bits = (int)b;
	}
	return true;
}

bool
ipnet_valid(const char *text)
{
	unsigned char a[16];
	int af, bits;

	return text != NULL && parse_net(text, &af, a, &bits);
}

bool
ipnet_contains(const char *cidr, const char *ip)
{
	unsigned char a[16], n[16];
	int af, naf, bits, abits, i;

	if (ip == NULL || cidr == NULL || strchr(ip, '/') != NULL ||
	    !parse_net(ip, &af, a, &abits) || !parse_net(cidr, &naf, n, &bits))
		return false;
	if (af != naf)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (a[i] != n[i])
			return false;
	if (bits % 8 != 0) {
		unsigned char m = (unsigned char)(0xff << (8 - bits % 8));

		if ((a[i] & m) != (n[i] & m))
			return false;
	}
	return true;
}
