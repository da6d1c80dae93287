/*
 * web.h - icsentry-web, the SOC console: an HTTPS server (libmicrohttpd
 * with GnuTLS) over the central log (broker/central_log.h), serving the
 * JSON API and the page (web/static, embedded at build time).
 *
 * Every /api/ endpoint but /api/login needs a session (cookie "sid",
 * Secure; HttpOnly; SameSite=Strict); every POST also needs the session's
 * CSRF token in the X-CSRF-Token header.  Roles: viewer reads, analyst
 * also triages, admin also lists accounts.  See README "SOC console".
 */
#ifndef ICSENTRY_WEB_WEB_H
#define ICSENTRY_WEB_WEB_H

#include <stddef.h>

struct web_config {
	const char	*db;		/* SQLite file or postgresql:// URI */
	const char	*listen;	/* "ADDR:PORT", "[v6]:PORT" */
	const char	*cert, *key;	/* PEM files */
	const char	*users;		/* users file (web/users.h) */
	const char	*chartjs;	/* Chart.js file served as /js/chart.js */
	const char	*evidence_dir;	/* evidence pcaps, or NULL */
	int		 poll_ms;	/* SSE poll interval (default 500) */
};

/*
 * Serve until SIGINT/SIGTERM.  Returns 0 after a clean stop, or a negative
 * IDS_E* with one line in err when the server cannot start.
 */
int	web_run(const struct web_config *cfg, char *err, size_t errlen);

#endif
