/*
 * intel_int.h - what the pieces of icsentry-intel share (private to
 * broker/intel*.c but intel_log.c, which is the central log's table):
 * exit codes, the usage error, reading a bundle, and the commands
 * main() runs.
 *
 * Layered one way: intel.c (helpers; keygen, sign, verify, show) is the
 * base; intel_new.c (new, --from-log) sits on it, and intel_main.c
 * (usage, publish, main) on both.
 */

#ifndef ICSENTRY_BROKER_INTEL_INT_H
#define ICSENTRY_BROKER_INTEL_INT_H

#include <stddef.h>

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define MAX_ARGS	1024

#ifndef ICSENTRY_VERSION
#define ICSENTRY_VERSION "0.1.0"
#endif

struct intel_bundle;

/* broker/intel.c */
/* "icsentry-intel: <message> (see --help)" on stderr; returns EXIT_USAGE. */
int	intel_die_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The whole file (path "-": stdin), NUL-terminated; -1 after a message. */
int	intel_read_all(const char *path, char **out, size_t *len);
int	intel_peek(const char *in, size_t len, struct intel_bundle **b,
	    char *err, size_t errlen);
int	intel_cmd_keygen(int argc, char **argv);
int	intel_cmd_sign(int argc, char **argv);
int	intel_cmd_verify(int argc, char **argv);
int	intel_cmd_show(int argc, char **argv);

/* broker/intel_new.c */
int	intel_cmd_new(int argc, char **argv);

#endif /* ICSENTRY_BROKER_INTEL_INT_H */
