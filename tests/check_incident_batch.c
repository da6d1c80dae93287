/*
 * check_incident_batch.c - the collector's set-based incident filing
 * (clog_incident_flush()) against clog_incident_add() alert by alert, on
 * a real SQLite file (_i == 0) and a real PostgreSQL server (_i == 1,
 * tests/testutil_pg.h): the same alert stream filed one by one, in
 * batches of 1 and in large batches gives identical incidents tables
 * (sites, sources, first/last, counts, severities, hosts, techniques)
 * and the same alert -> incident links; and two writers filing the same
 * keys concurrently on PostgreSQL make no duplicate incident and lose no
 * count.
 */
#include <check.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/central_log.h"
#include "broker/clog_triage.h"
#include "lib/ids.h"
#include "tests/testutil_log.h"
#include "tests/testutil_pg.h"

static struct tl_log lg;

#define WIN_S	60
#define NA	900

struct stream {
	char	site[NA][16], agent[NA][16], src[NA][32], dst[NA][32];
	char	tech[NA][16];
	int64_t	seq[NA], ts[NA];
	int	sev[NA];
	int	n;
};

/*
 * Alerts in time order: 2 sites x 4 sources (one source empty: no
 * incident), bursts of 60 separated by gaps longer than twice the
 * window, within a burst chains of alerts up to 49 s apart (tight: under
 * 1 s, a burst shorter than the window), 70
 * hosts for one source (the list keeps 60), a '"' and a ',' in values,
 * and one alert repeated (the link ON CONFLICT).
 */
static void
make_stream(struct stream *s, bool tight)
{
	static const char *srcs[] = { "10.0.0.1", "10.0.0.2", "", "a\"b" };
	int64_t t = 1700000000000000LL;
	uint32_t r = 12345;
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NA - 1; i++) {
		int k;

		r = r * 1103515245u + 12345u;
		k = (int)((r >> 8) % 8);
		/* a new burst every 60 alerts, chains in between */
		t += i % 60 == 0 ? (int64_t)(3 * WIN_S) * 1000000 :
		    tight ? (int64_t)((r >> 4) % 900) * 1000 :
		    (int64_t)((r >> 4) % 50) * 1000000;
		snprintf(s->site[i], sizeof(s->site[i]), "%s",
		    k & 4 ? "plant-b" : "plant-a");
		snprintf(s->agent[i], sizeof(s->agent[i]), "gw-%d", i % 3);
		snprintf(s->src[i], sizeof(s->src[i]), "%s", srcs[k & 3]);
		if (k == 0)
			snprintf(s->dst[i], sizeof(s->dst[i]), "10.1.%d.%d",
			    i % 70 / 10, i % 70);
		else
			snprintf(s->dst[i], sizeof(s->dst[i]), "%s",
			    i % 17 == 0 ? "x,y" : i % 5 ? "10.2.0.1" :
			    "10.2.0.2");
		snprintf(s->tech[i], sizeof(s->tech[i]), "T08%02d",
		    (int)((r >> 12) % 12));
		s->seq[i] = i;
		s->ts[i] = t;
		s->sev[i] = (int)((r >> 16) % 5);
	}
	/* the last one again (same site, agent, seq) */
	if (s->src[i - 1][0] == '\0')
		snprintf(s->src[i - 1], sizeof(s->src[i - 1]), "10.0.0.1");
	memcpy(s->site[i], s->site[i - 1], sizeof(s->site[i]));
	memcpy(s->agent[i], s->agent[i - 1], sizeof(s->agent[i]));
	memcpy(s->src[i], s->src[i - 1], sizeof(s->src[i]));
	memcpy(s->dst[i], s->dst[i - 1], sizeof(s->dst[i]));
	memcpy(s->tech[i], s->tech[i - 1], sizeof(s->tech[i]));
	s->seq[i] = s->seq[i - 1];
	s->ts[i] = s->ts[i - 1];
	s->sev[i] = s->sev[i - 1];
	s->n = NA;
}

static void
alert_of(const struct stream *s, int i, struct central_log_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->site = (char *)s->site[i];
	a->agent = (char *)s->agent[i];
	a->src_ip = (char *)s->src[i];
	a->dst_ip = (char *)s->dst[i];
	a->technique = (char *)s->tech[i];
	a->seq = s->seq[i];
	a->ts_us = s->ts[i];
	a->sev = s->sev[i];
}

/* Every row of sql, '|' between columns, '\n' after rows (malloc'd). */
static char *
dump(const char *sql)
{
	size_t cap = 1 << 20, n = 0;
	char *out = calloc(1, cap);
	int i, j;

	ck_assert_ptr_nonnull(out);
	if (lg.backend == 1) {
		PGconn *c = PQconnectdb(lg.path);
		PGresult *r;

		ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
		r = PQexec(c, sql);
		ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
		    PQerrorMessage(c));
		for (i = 0; i < PQntuples(r); i++)
			for (j = 0; j < PQnfields(r); j++)
				n += (size_t)snprintf(out + n, cap - n, "%s%c",
				    PQgetvalue(r, i, j),
				    j + 1 < PQnfields(r) ? '|' : '\n');
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *h;
		sqlite3_stmt *st;

		ck_assert_int_eq(sqlite3_open(lg.path, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL),
		    SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (j = 0; j < sqlite3_column_count(st); j++) {
				const unsigned char *v =
				    sqlite3_column_text(st, j);

				n += (size_t)snprintf(out + n, cap - n, "%s%c",
				    v != NULL ? (const char *)v : "",
				    j + 1 < sqlite3_column_count(st) ? '|' :
				    '\n');
			}
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
	ck_assert_uint_lt(n, cap - 1);
	return out;
}

#define INC_SQL \
	"SELECT site, src_ip, first_us, last_us, count, max_sev, hosts," \
	" techniques, state FROM incidents ORDER BY site, src_ip, first_us"
#define LINK_SQL \
	"SELECT l.site, l.agent, l.seq, i.site, i.src_ip, i.first_us" \
	" FROM incident_alerts l JOIN incidents i ON i.id = l.incident" \
	" ORDER BY l.site, l.agent, l.seq"

static void
reset(void)
{
	tl_tamper(&lg, "DELETE FROM incidents");
	tl_tamper(&lg, "DELETE FROM incident_alerts");
}

static struct central_log *
open_rw(void)
{
	struct central_log *db = tl_open(&lg, CENTRAL_LOG_RDWR);

	ck_assert_msg(clog_triage_schema(db) == 0, "schema: %s",
	    clog_triage_errmsg());
	return db;
}

/* File every alert of s with clog_incident_add(), a transaction each. */
static void
file_one_by_one(struct central_log *db, const struct stream *s)
{
	struct central_log_alert a;
	int i;

	for (i = 0; i < s->n; i++) {
		alert_of(s, i, &a);
		ck_assert_int_eq(central_log_begin(db), 0);
		ck_assert_msg(clog_incident_add(db, &a, WIN_S, NULL) == 0,
		    "add: %s", clog_triage_errmsg());
		ck_assert_int_eq(central_log_commit(db), 0);
	}
}

/* File alerts i % step == part of s in batches of bsize (flush). */
static int
file_batches(struct central_log *db, const struct stream *s, int bsize,
    int step, int part)
{
	struct clog_incident_batch *b = clog_incident_batch_new();
	struct central_log_alert a;
	int i, in = 0, rc = 0;

	ck_assert_ptr_nonnull(b);
	for (i = part; i < s->n && rc == 0; i += step) {
		if (in == 0 && (rc = central_log_begin(db)) != 0)
			break;
		alert_of(s, i, &a);
		if ((rc = clog_incident_defer(b, &a)) != 0)
			break;
		if (++in == bsize || i + step >= s->n) {
			rc = clog_incident_flush(db, b, WIN_S);
			if (rc == 0)
				rc = central_log_commit(db);
			in = 0;
		}
	}
	clog_incident_batch_free(b);
	return rc;
}

START_TEST(test_batches_same_as_one_by_one)
{
	struct stream *s = malloc(sizeof(*s));
	struct central_log *db;
	char *inc0, *link0, *inc, *link;
	static const int sizes[] = { 1, 7, 250, NA };
	size_t k;

	ck_assert_ptr_nonnull(s);
	make_stream(s, false);
	tl_use_backend(&lg, "cib", _i, "same");
	db = open_rw();
	file_one_by_one(db, s);
	inc0 = dump(INC_SQL);
	link0 = dump(LINK_SQL);
	/* concrete: the stream makes bursts; counts add up to the alerts
	 * with a source (the repeated one counted twice, linked once) */
	{
		char *sum = dump("SELECT count(*), sum(count) FROM incidents");
		char *nl = dump("SELECT count(*) FROM incident_alerts");
		int ni = 0;
		long long sc = 0, nlinks = atoll(nl);

		ck_assert_int_eq(sscanf(sum, "%d|%lld", &ni, &sc), 2);
		ck_assert_int_gt(ni, 40);
		ck_assert_int_eq(sc, nlinks + 1);
		ck_assert_int_gt(nlinks, NA / 2);
		free(sum);
		free(nl);
	}
	ck_assert_ptr_nonnull(strstr(inc0, "|a\"b|"));
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		reset();
		ck_assert_msg(file_batches(db, s, sizes[k], 1, 0) == 0,
		    "flush: %s", clog_triage_errmsg());
		inc = dump(INC_SQL);
		link = dump(LINK_SQL);
		ck_assert_msg(strcmp(inc, inc0) == 0, "batch %d: incidents"
		    " differ:\n%.2000s\n---\n%.2000s", sizes[k], inc, inc0);
		ck_assert_msg(strcmp(link, link0) == 0, "batch %d: links"
		    " differ", sizes[k]);
		free(inc);
		free(link);
	}
	central_log_close(db);
	free(inc0);
	free(link0);
	free(s);
	tl_done(&lg);
}
END_TEST

struct writer {
	const struct stream	*s;
	struct central_log	*db;	/* its own connection */
	int			 part, rc;
	char			 err[256];
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	/* alternate alerts (the same keys, the same bursts) */
	w->rc = file_batches(w->db, w->s, 40, 2, w->part);
	if (w->rc != 0)
		snprintf(w->err, sizeof(w->err), "%s", clog_triage_errmsg());
	return NULL;
}

/* PostgreSQL: two connections filing interleaved halves at once. */
START_TEST(test_two_writers_pg)
{
	struct stream *s = malloc(sizeof(*s));
	struct central_log *db;
	struct writer w[2];
	pthread_t th[2];
	char *inc0, *link0, *inc, *link;
	int round, i;

	ck_assert_ptr_nonnull(s);
	make_stream(s, true);
	tl_use_backend(&lg, "cib", 1, "two");
	db = open_rw();
	file_one_by_one(db, s);
	central_log_close(db);
	inc0 = dump(INC_SQL);
	link0 = dump(LINK_SQL);
	for (round = 0; round < 3; round++) {
		reset();
		for (i = 0; i < 2; i++) {
			memset(&w[i], 0, sizeof(w[i]));
			w[i].s = s;
			w[i].part = i;
			w[i].db = tl_open(&lg, CENTRAL_LOG_RDWR);
			ck_assert_int_eq(pthread_create(&th[i], NULL,
			    writer_main, &w[i]), 0);
		}
		for (i = 0; i < 2; i++) {
			pthread_join(th[i], NULL);
			central_log_close(w[i].db);
			ck_assert_msg(w[i].rc == 0, "writer %d: %d %s", i,
			    w[i].rc, w[i].err);
		}
		/* bursts shorter than the window and gaps over twice it:
		 * whatever the order, one incident a burst, all counted */
		inc = dump(INC_SQL);
		link = dump(LINK_SQL);
		ck_assert_msg(strcmp(inc, inc0) == 0, "round %d: incidents"
		    " differ:\n%.2000s\n---\n%.2000s", round, inc, inc0);
		ck_assert_str_eq(link, link0);
		free(inc);
		free(link);
	}
	free(inc0);
	free(link0);
	free(s);
	tl_done(&lg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("incident_batch");
	TCase *tc;

	tc = tcase_create("same");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_batches_same_as_one_by_one, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("two_writers");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_two_writers_pg);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_main(&lg, suite());
}
