/*
 * log.c - leveled stderr lines, with journald priority prefixes under
 * systemd and UTC timestamps elsewhere (log.h).
 */
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char g_prog[64] = "icsentry";
static bool g_journal;

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it gave us. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *prog)
{
	snprintf(g_prog, sizeof(g_prog), "%s", prog);
	g_journal = stderr_is_journal();
}

void
log_set_journal(bool journal)
{
	g_journal = journal;
}

bool
log_is_journal(void)
{
	return g_journal;
}

const char *
log_level_name(enum log_level l)
{
	switch (l) {
	case LOGL_ERR:
		return "error";
	case LOGL_WARNING:
		return "warning";
	case LOGL_NOTICE:
		return "notice";
	case LOGL_INFO:
		return "info";
	case LOGL_DEBUG:
		return "debug";
	}
	return "info";
}

void
log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char line[4096], ts[40];
	struct timespec now;
	struct tm tm;
	size_t n;
	int k;

	if (g_journal)
		k = snprintf(line, sizeof(line), "<%d>%s: %s: ", (int)l, g_prog,
		    log_level_name(l));
	else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		k = snprintf(line, sizeof(line), "%s: %s.%03ldZ %s: ", g_prog,
		    ts, now.tv_nsec / 1000000L, log_level_name(l));
	}
	if (k < 0)
		return;
	n = (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1;
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n ? (size_t)k :
						    sizeof(line) - n - 1;
	/* one message, one line: a newline inside would split it */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
	va_end(ap);
}
