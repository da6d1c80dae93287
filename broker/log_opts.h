/*
 * log_opts.h - what icsentry-log's two option parsers share: log_cli.c
 * (tail, query, stats, verify) and log_triage_cli.c (ack, close, note,
 * reopen, incidents, audit, assets) take --db, --since, --until,
 * --min-severity, --state and --limit with the same values and the same
 * messages, and print fields the same way.
 */
#ifndef ICSENTRY_BROKER_LOG_OPTS_H
#define ICSENTRY_BROKER_LOG_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LOG_PROG "icsentry-log"

/* "icsentry-log: <message> (try --help)" on stderr; returns 2. */
int log_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log to open: $ICSENTRY_DB when set and not empty, else dflt. */
const char *log_default_db(const char *dflt);

/* A count >= 0 in decimal; -1 when text is not one. */
int log_parse_count(const char *text, int64_t *out);

/*
 * A time in microseconds: "now", RFC 3339, a date ("2026-11-23", its
 * midnight UTC), or an age before now ("90s", "30m", "1.5h", "7d", "2w").
 * -1 when text is none of these.
 */
int log_parse_when(const char *text, int64_t *us);

/* Is s a triage state (new, acked, open, closed)? */
bool log_state_valid(const char *s);

/*
 * The values of the options both parsers take, checked: 0, or the exit
 * code 2 after the message (log_bad_usage).
 */
int log_opt_time(const char *arg, int64_t *us); /* --since, --until */
int log_opt_severity(const char *arg, int *sev); /* --min-severity */
int log_opt_state(const char *arg, const char **state); /* --state */
int log_opt_limit(const char *arg, int64_t *limit); /* --limit N > 0 */

/* Text from the log may carry anything: control bytes become '?'. */
void log_put_clean(FILE *out, const char *s);
/*
 * One RFC 4180 field and ',' (or '\n' when last); a leading formula
 * character (= + - @) is defused with a quote.
 */
void log_put_csv(FILE *out, const char *s, bool last);

#endif /* ICSENTRY_BROKER_LOG_OPTS_H */
