/*
 * ipnet.h - is an address inside a network ("10.10.1.0/24", "fd00::/8",
 * or a plain address, which is its own /32 or /128)?  Text in, no
 * allocation.
 */
#ifndef ICSENTRY_LIB_IPNET_H
#define ICSENTRY_LIB_IPNET_H

#include <stdbool.h>

/* Is ip (an address, no prefix) inside net?  false for bad text. */
bool	ipnet_contains(const char *net, const char *ip);
/* Is text an address or an address/prefix with a prefix in range? */
bool	ipnet_valid(const char *text);

#endif
