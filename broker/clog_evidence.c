/*
 * clog_evidence.c - evidence pcaps in the SQLite or PostgreSQL central log.
 */
#include "broker/clog_evidence.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/clog_exec.h"
#include "lib/ids.h"

static const char sqlite_table[] =
	"CREATE TABLE IF NOT EXISTS evidence ("
	" site TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" received TEXT NOT NULL, pcap BLOB NOT NULL,"
	" PRIMARY KEY (site, agent, seq))";

static const char pg_table[] =
	"CREATE TABLE IF NOT EXISTS evidence ("
	" site text NOT NULL, agent text NOT NULL, seq bigint NOT NULL,"
	" received text NOT NULL, pcap bytea NOT NULL,"
	" PRIMARY KEY (site, agent, seq))";

int
clog_evidence_is_pcap(const void *data, size_t len)
{
	static const unsigned char magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
	};
	size_t i;

	if (len < 24)
		return 0;
	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(data, magics[i], 4) == 0)
			return 1;
	return 0;
}

static int
sqlite_put(sqlite3 *h, const char *site, const char *agent, int64_t seq,
    const void *pcap, size_t len, const char *at)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_exec(h, sqlite_table, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO evidence (site, "
	    "agent, seq, received, pcap) VALUES (?, ?, ?, ?, ?)", -1, &s,
	    NULL) != SQLITE_OK)
		return IDS_EIO;
	sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, pcap, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : IDS_EIO;
	sqlite3_finalize(s);
	return rc;
}

static int
pg_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	PQclear(r);
	return ok;
}

static int
pg_put(PGconn *c, const char *site, const char *agent, int64_t seq,
    const void *pcap, size_t len, const char *at)
{
	const char *v[5];
	int l[5] = { 0, 0, 0, 0, (int)len }, f[5] = { 0, 0, 0, 0, 1 };
	char sq[24];

	if (!pg_ok(PQexec(c, pg_table)))
		return IDS_EIO;
	snprintf(sq, sizeof(sq), "%lld", (long long)seq);
	v[0] = site;
	v[1] = agent;
	v[2] = sq;
	v[3] = at;
	v[4] = pcap;
	return pg_ok(PQexecParams(c, "INSERT INTO evidence (site, agent, seq, "
	    "received, pcap) VALUES ($1, $2, $3::bigint, $4, $5) ON CONFLICT "
	    "(site, agent, seq) DO UPDATE SET pcap = EXCLUDED.pcap, received = "
	    "EXCLUDED.received", 5, NULL, v, l, f, 0)) ? 0 : IDS_EIO;
}

int
clog_evidence_put(struct central_log *db, const char *site, const char *agent,
    int64_t seq, const void *pcap, size_t len, int64_t at_us)
{
	char at[CENTRAL_LOG_TIME_LEN];
	void *sq, *pg;
	int kind;

	if (len > CLOG_EVIDENCE_MAX || seq <= 0 ||
	    !clog_evidence_is_pcap(pcap, len))
		return IDS_EINVAL;
	central_log_format_time(at_us, at);
	kind = central_log_backend(db, &sq, &pg);
	if (kind == 1)
		return pg_put(pg, site, agent, seq, pcap, len, at);
	if (kind == 0)
		return sqlite_put(sq, site, agent, seq, pcap, len, at);
	return IDS_EIO;
}

static int
copy_out(const void *p, size_t n, void **out, size_t *len)
{
	*out = malloc(n > 0 ? n : 1);
	if (*out == NULL)
		return IDS_ENOMEM;
	memcpy(*out, p, n);
	*len = n;
	return 0;
}

static int
sqlite_get(sqlite3 *h, const char *site, const char *agent, int64_t seq,
    void **out, size_t *len)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(h, "SELECT pcap FROM evidence WHERE site = ? "
	    "AND agent = ? AND seq = ?", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		/* no evidence ever arrived: no table yet */
		sqlite3_finalize(s);
		return strstr(sqlite3_errmsg(h), "no such table") != NULL ? 1 :
		    IDS_EIO;
	}
	sqlite3_bind_text(s, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = copy_out(sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), out, len);
	else
		rc = rc == SQLITE_DONE ? 1 : IDS_EIO;
	sqlite3_finalize(s);
	return rc;
}

static int
pg_get(PGconn *c, const char *site, const char *agent, int64_t seq,
    void **out, size_t *len)
{
	const char *v[3];
	char sq[24];
	PGresult *r;
	int rc;

	snprintf(sq, sizeof(sq), "%lld", (long long)seq);
	v[0] = site;
	v[1] = agent;
	v[2] = sq;
	r = PQexec(c, "SELECT to_regclass('evidence') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		return IDS_EIO;
	}
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!rc)
		return 1;
	r = PQexecParams(c, "SELECT pcap FROM evidence WHERE site = $1 AND "
	    "agent = $2 AND seq = $3::bigint", 3, NULL, v, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = IDS_EIO;
	else if (PQntuples(r) == 0)
		rc = 1;
	else
		rc = copy_out(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
		    out, len);
	PQclear(r);
	return rc;
}

int
clog_evidence_get(struct central_log *db, const char *site, const char *agent,
    int64_t seq, void **out, size_t *len)
{
	void *sq, *pg;
	int kind = central_log_backend(db, &sq, &pg);

	if (kind == 1)
		return pg_get(pg, site, agent, seq, out, len);
	if (kind == 0)
		return sqlite_get(sq, site, agent, seq, out, len);
	return IDS_EIO;
}

static const char usage[] =
"usage: icsentry-log evidence [--db FILE] SITE/AGENT SEQ > alert.pcap\n"
"Write the evidence pcap of one alert (its triggering packets) to stdout.\n"
"exit: 0 written, 1 none stored or failure, 2 bad usage\n";

int
clog_evidence_cli(int argc, char **argv, const char *default_db)
{
	const char *db_path = default_db, *id = NULL, *seqtxt = NULL;
	char err[512], site[256], *slash, *end;
	struct central_log *db = NULL;
	void *pcap = NULL;
	long long seq;
	size_t len = 0;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db_path = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db_path = argv[i] + 5;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "icsentry-log evidence: unknown option "
			    "'%s'\n%s", argv[i], usage);
			return 2;
		} else if (id == NULL)
			id = argv[i];
		else if (seqtxt == NULL)
			seqtxt = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (id == NULL || seqtxt == NULL || strlen(id) >= sizeof(site) ||
	    (slash = strchr(id, '/')) == NULL || slash == id ||
	    slash[1] == '\0') {
		fputs(usage, stderr);
		return 2;
	}
	seq = strtoll(seqtxt, &end, 10);
	if (*end != '\0' || seq <= 0) {
		fprintf(stderr, "icsentry-log evidence: '%s' is not a seq\n",
		    seqtxt);
		return 2;
	}
	memcpy(site, id, (size_t)(slash - id));
	site[slash - id] = '\0';
	if (central_log_open(db_path, CENTRAL_LOG_RDONLY,
	    CENTRAL_LOG_SYNC_NORMAL, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "icsentry-log: %s\n", err);
		return 1;
	}
	rc = clog_evidence_get(db, site, slash + 1, seq, &pcap, &len);
	central_log_close(db);
	if (rc == 1) {
		fprintf(stderr, "icsentry-log evidence: no evidence stored for "
		    "%s seq %lld\n", id, seq);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "icsentry-log evidence: cannot read the "
		    "evidence of %s seq %lld\n", id, seq);
		return 1;
	}
	rc = fwrite(pcap, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
	free(pcap);
	return rc;
}
