/*
 * fuzz_tls.c - libFuzzer target for the name parsers of threat-intel
 * domain matching: the TLS ClientHello server_name (dissectors/tls.c) and
 * the DNS question over UDP and TCP (dissectors/dns.c).
 *
 * A name returned must be a NUL-terminated, lower-case host name within
 * its bound; return codes are 0 or the documented IDS_E*.  Broken
 * invariants trap.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissectors/dns.h"
#include "dissectors/tls.h"
#include "lib/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
name_ok(const char *name, size_t max)
{
	size_t n = strnlen(name, max + 1), i;

	if (n > max)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_MAX + TLS_SNI_MAX + 2];
	int rc;

	rc = tls_client_hello_sni(data, size, name);
	if (rc == 0)
		name_ok(name, TLS_SNI_MAX);
	else if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED && rc != IDS_ENOTSUP)
		__builtin_trap();
	if (rc == 0 && !tls_is_client_hello(data, size))
		__builtin_trap();
	rc = dns_query_name(data, size, name);
	if (rc == 0)
		name_ok(name, DNS_NAME_MAX);
	else if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
		__builtin_trap();
	rc = dns_tcp_query_name(data, size, name);
	if (rc == 0)
		name_ok(name, DNS_NAME_MAX);
	else if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
		__builtin_trap();
	return 0;
}
