/*
 * log.h - the programs' stderr messages: one line each, with a level.
 *
 * Under systemd's journal (JOURNAL_STREAM names our stderr) a line is
 *     <4>icsentry-agent: warning: message
 * the "<N>" being the syslog priority journald takes from the line
 * (sd-daemon(3)); anywhere else it is
 *     icsentry-agent: 2026-12-05T05:20:01.123Z warning: message
 * (UTC).  The program name stays first so that scripts and tests keyed on
 * "icsentry-agent: " keep working.  One write(2) per line.
 */
#ifndef ICSENTRY_LIB_LOG_H
#define ICSENTRY_LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* syslog(3) priorities */
enum log_level {
	LOGL_ERR = 3,
	LOGL_WARNING = 4,
	LOGL_NOTICE = 5,
	LOGL_INFO = 6,
	LOGL_DEBUG = 7
};

/*
 * Name the program and decide the format: journald's prefixes when the
 * JOURNAL_STREAM device:inode is our stderr, else timestamps.  Without it
 * the name is "icsentry".
 */
void	log_init(const char *prog);
/* Force the format (tests): journal true = "<N>" prefixes, no time. */
void	log_set_journal(bool journal);
bool	log_is_journal(void);
const char *log_level_name(enum log_level l);

void	log_msg(enum log_level l, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level l, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

#define log_err(...)	log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOGL_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOGL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOGL_INFO, __VA_ARGS__)

#endif
