/*
 * testutil.h - helpers shared by the Check suites (prefix tu_).
 *
 * Nothing here is a mock: tu_run() starts the real binaries with fork and
 * execv and collects what they print.  Paths come from the environment the
 * Makefile exports:
 *   ICSENTRY_BUILD  where the binaries are (default "build")
 *   SHARED          the shared directory holding pcaps/ (default "../shared")
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_H
#define ICSENTRY_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* ---- paths ------------------------------------------------------------- */

/* $ICSENTRY_BUILD or "build". */
const char	*tu_build_dir(void);
/* $SHARED or "../shared". */
const char	*tu_shared_dir(void);
/* "<build dir>/name" into buf; returns buf. */
const char	*tu_build_path(char *buf, size_t len, const char *name);
/* "<shared dir>/pcaps/name" into buf (name NULL or "": the directory). */
const char	*tu_pcap_path(char *buf, size_t len, const char *name);
/* "<build dir>/icsentry-agent" into buf. */
const char	*tu_agent_path(char *buf, size_t len);

/* ---- running a command ------------------------------------------------- */

struct tu_result {
	int	 exit_code;	/* exit status; 128 + signal when killed by one;
				 * -1 when it could not be started */
	bool	 timed_out;	/* killed by tu_run after timeout_ms */
	char	*out;		/* all of stdout, NUL-terminated (never NULL
				 * after tu_run returned 0) */
	size_t	 out_len;
	char	*err;		/* all of stderr, NUL-terminated */
	size_t	 err_len;
	long	 maxrss_kb;	/* the child's peak resident set (wait4) */
};

/*
 * Run argv (argv[0] is a path, argv NULL-terminated) with stdin from
 * stdin_path (NULL: /dev/null), capturing stdout and stderr in full.  The
 * child is killed (SIGKILL) after timeout_ms.  Returns 0 when the command
 * ran (whatever its exit code), -1 when it could not be started; r is
 * always initialised and must be released with tu_result_free().
 */
int	 tu_run(char *const argv[], const char *stdin_path, int timeout_ms,
	    struct tu_result *r);
void	 tu_result_free(struct tu_result *r);

/* ---- files ------------------------------------------------------------- */

/* A fresh private directory under $TMPDIR (or /tmp) into buf; 0 or -1. */
int	 tu_mkdtemp(char *buf, size_t len, const char *tag);
/* Remove path and everything below it; 0 or -1. */
int	 tu_rmtree(const char *path);
/* Whole file into a NUL-terminated malloc'd buffer, NULL on error. */
char	*tu_read_file(const char *path, size_t *len);
/* Write len bytes to path (created or truncated); 0 or -1. */
int	 tu_write_file(const char *path, const void *data, size_t len);
/* Copy the first len bytes of src to dst; 0 or -1 (also if src is shorter). */
int	 tu_copy_prefix(const char *src, const char *dst, size_t len);
/* Size of a file, -1 on error. */
long long tu_file_size(const char *path);

/*
 * A malloc'd copy of exactly n bytes of p (n == 0: a 1-byte block), so
 * AddressSanitizer sees any read past the end.  Aborts when out of memory.
 */
uint8_t	*tu_dup_exact(const uint8_t *p, size_t n);

/* ---- text and JSON ----------------------------------------------------- */

/* Number of lines (a last line without '\n' counts too; "" has 0). */
size_t	 tu_count_lines(const char *text);
/* Does text contain needle?  (NULL text: false) */
bool	 tu_contains(const char *text, const char *needle);

/*
 * Parse every non-empty line of text as JSON into one cJSON array (free
 * with cJSON_Delete).  *bad (may be NULL) receives the number of lines
 * that did not parse; they are left out.  Never NULL unless out of memory.
 */
cJSON	*tu_json_lines(const char *text, int *bad);
/*
 * Where a sanitizer spoke in err (a UBSan "runtime error:", an ASan, LSan
 * or UBSan report), or NULL when it did not.
 */
const char *tu_sanitizer_line(const char *err);

/* The last non-empty line of text parsed as JSON, or NULL. */
cJSON	*tu_json_last_line(const char *text);
/*
 * A member by dotted path ("flows.created") as a number; dflt when the
 * path does not exist or is not a number.
 */
double	 tu_json_num(const cJSON *obj, const char *path, double dflt);
/* A member by dotted path as a string, or NULL. */
const char *tu_json_str(const cJSON *obj, const char *path);

#endif
