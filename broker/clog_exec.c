/*
 * clog_exec.c - the SQLite side of clog_exec.h, the dispatch to the
 * PostgreSQL side (clog_triage_pg.c), and the triage schema for SQLite.
 */
#include "broker/clog_exec.h"

#include <sqlite3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/clog_triage.h"
#include "lib/ids.h"

static _Thread_local char errbuf[512];

void
clog_exec_set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *
clog_triage_errmsg(void)
{
	return errbuf[0] != '\0' ? errbuf : "no error";
}

/*
 * The triage tables on SQLite (clog_triage.h).  alerts_received serves
 * --since/--until on received time (received_at is fixed-width RFC 3339
 * UTC text, so text order is time order).
 */
static const char schema_sqlite[] =
	"CREATE TABLE IF NOT EXISTS triage_state ("
	" site TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" state TEXT NOT NULL, operator TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" PRIMARY KEY (site, agent, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS triage_state_state ON triage_state (state);"
	"CREATE TABLE IF NOT EXISTS incidents ("
	" id INTEGER PRIMARY KEY, src_ip TEXT NOT NULL,"
	" first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	" count INTEGER NOT NULL, max_sev INTEGER NOT NULL,"
	" hosts TEXT NOT NULL, techniques TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'new', operator TEXT, updated_at TEXT);"
	"CREATE INDEX IF NOT EXISTS incidents_src ON incidents (src_ip, last_us);"
	"CREATE INDEX IF NOT EXISTS incidents_first ON incidents (first_us);"
	"CREATE TABLE IF NOT EXISTS incident_alerts ("
	" site TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" incident INTEGER NOT NULL,"
	" PRIMARY KEY (site, agent, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS incident_alerts_incident"
	" ON incident_alerts (incident);"
	"CREATE TABLE IF NOT EXISTS triage_audit ("
	" id INTEGER PRIMARY KEY, at TEXT NOT NULL, operator TEXT NOT NULL,"
	" kind TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL,"
	" text TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS triage_audit_target"
	" ON triage_audit (kind, target);"
	"CREATE INDEX IF NOT EXISTS alerts_received ON alerts (received_at);";

/* icsentry_in_cidr(ip, cidr): 1 when ip is inside cidr, 0 otherwise. */
static void
sql_in_cidr(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const unsigned char *ip, *net;

	(void)argc;
	ip = sqlite3_value_text(argv[0]);
	net = sqlite3_value_text(argv[1]);
	sqlite3_result_int(c, ip != NULL && net != NULL &&
	    clog_ip_in_cidr((const char *)ip, (const char *)net));
}

/* Does s look like an integer that round-trips as text? */
static bool
int_text(const char *s, long long *v)
{
	const char *p = s;
	char *end;

	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 19 || (p[0] == '0' && p[1] != '\0'))
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && strcmp(s, "-0") != 0;
}

static int
exec_sqlite(sqlite3 *h, const char *sql, int n, const char *const *params,
    clog_exec_fn fn, void *ctx)
{
	const char *v[32];
	sqlite3_stmt *s = NULL;
	char *text;
	long long iv;
	int i, nc, rc, stop = 0;

	text = strdup(sql);
	if (text == NULL)
		return IDS_ENOMEM;
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] == '$')
			text[i] = '?';
	rc = sqlite3_prepare_v2(h, text, -1, &s, NULL);
	free(text);
	if (rc != SQLITE_OK) {
		clog_exec_set_err("%s", sqlite3_errmsg(h));
		return IDS_EIO;
	}
	for (i = 0; i < n; i++) {
		if (params[i] == NULL)
			sqlite3_bind_null(s, i + 1);
		else if (int_text(params[i], &iv))
			sqlite3_bind_int64(s, i + 1, iv);
		else
			sqlite3_bind_text(s, i + 1, params[i], -1,
			    SQLITE_TRANSIENT);
	}
	nc = sqlite3_column_count(s);
	if (nc > 32)
		nc = 32;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn == NULL)
			continue;
		for (i = 0; i < nc; i++)
			v[i] = (const char *)sqlite3_column_text(s, i);
		stop = fn(ctx, nc, v);
		if (stop != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		clog_exec_set_err("%s", sqlite3_errmsg(h));
		stop = IDS_EIO;
	}
	sqlite3_finalize(s);
	return stop;
}

int
clog_exec(struct central_log *db, const char *sql, int n,
    const char *const *params, clog_exec_fn fn, void *ctx)
{
	void *h, *c;
	int b = central_log_backend(db, &h, &c);

	if (b < 0) {
		clog_exec_set_err("PostgreSQL connection lost");
		return b;
	}
	if (b == 1)
		return clog_exec_pg(c, sql, n, params, fn, ctx);
	return exec_sqlite(h, sql, n, params, fn, ctx);
}

bool
clog_exec_is_pg(struct central_log *db)
{
	void *h, *c;

	return central_log_backend(db, &h, &c) != 0;
}

bool
clog_exec_in_tx(struct central_log *db)
{
	void *h, *c;
	int b = central_log_backend(db, &h, &c);

	if (b == 1)
		return clog_exec_pg_in_tx(c);
	if (b == 0)
		return sqlite3_get_autocommit(h) == 0;
	return false;
}

int
clog_exec_attach(struct central_log *db, bool rdwr)
{
	void *h, *c;
	char *msg = NULL;
	int b = central_log_backend(db, &h, &c);

	if (b < 0) {
		clog_exec_set_err("PostgreSQL connection lost");
		return b;
	}
	if (b == 1)
		return rdwr ? clog_exec_pg_schema(c) : 0;
	if (sqlite3_create_function(h, "icsentry_in_cidr", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	    sql_in_cidr, NULL, NULL) != SQLITE_OK) {
		clog_exec_set_err("%s", sqlite3_errmsg(h));
		return IDS_EIO;
	}
	if (!rdwr)
		return 0;
	if (sqlite3_exec(h, schema_sqlite, NULL, NULL, &msg) != SQLITE_OK) {
		clog_exec_set_err("%s", msg != NULL ? msg : sqlite3_errmsg(h));
		sqlite3_free(msg);
		return IDS_EIO;
	}
	return 0;
}

/* ---- addresses ----------------------------------------------------------- */

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
clog_cidr_valid(const char *text)
{
	unsigned char a[16];
	int af, bits;

	return text != NULL && parse_net(text, &af, a, &bits);
}

bool
clog_ip_in_cidr(const char *ip, const char *cidr)
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
