/*
 * clog_pg_batch.c - a batch of queued alerts (clog_pg.c's deferred
 * inserts) sent as two prepared statements instead of one per alert: each
 * column is one array parameter in PostgreSQL's binary array format,
 * unnested on the server.  First the batch's keys go into alert_keys (ON
 * CONFLICT DO NOTHING, in queue order, so ids follow arrival), returning
 * the keys that were new and their ids; then those rows go into alerts.
 * Every other row is settled as a single insert that changed nothing is
 * (duplicate or conflict, clog_pg.c settle_row).
 *
 * Per alert the server then pays the rows and their index entries, not a
 * statement's protocol round, executor start-up, partition routing set-up
 * and the locks of the partition and its indexes each time; the binary
 * arrays cost no quoting on our side and no parsing on the server's
 * (bench-central: README "The central log").
 *
 * A key twice in one batch goes in once: only its first position is in
 * the arrays, so the later one meets the first's row as a duplicate or a
 * conflict, as it would one statement after the other.
 */

#include "broker/clog_pg_int.h"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"

/* pg_type OIDs of the array elements (fixed in PostgreSQL's catalog) */
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_TEXT	25

/* A growing byte buffer: one binary array. */
struct bbuf {
	char	*s;
	size_t	 n, cap;
	size_t	 nelem;
	bool	 oom;
};

static void
bb_put(struct bbuf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		char *s;

		while (cap < b->n + n)
			cap *= 2;
		s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
}

static void
bb_u32(struct bbuf *b, uint32_t v)
{
	uint32_t be = htonl(v);

	bb_put(b, &be, 4);
}

/*
 * array_recv's header: one dimension from index 1, "may hold NULLs"
 * (always allowed), the element type; the count is patched in at the end.
 */
static void
bb_start(struct bbuf *b, uint32_t oid)
{
	bb_u32(b, 1);
	bb_u32(b, 1);
	bb_u32(b, oid);
	bb_u32(b, 0);
	bb_u32(b, 1);
}

static void
bb_null(struct bbuf *b)
{
	bb_u32(b, UINT32_MAX);	/* length -1 */
	b->nelem++;
}

/* An integer element of 2, 4 or 8 bytes from its decimal text. */
static void
bb_int(struct bbuf *b, int size, const char *text)
{
	int64_t v;

	if (text == NULL) {
		bb_null(b);
		return;
	}
	v = strtoll(text, NULL, 10);
	bb_u32(b, (uint32_t)size);
	if (size == 8) {
		bb_u32(b, (uint32_t)((uint64_t)v >> 32));
		bb_u32(b, (uint32_t)v);
	} else if (size == 4) {
		bb_u32(b, (uint32_t)v);
	} else {
		uint16_t be = htons((uint16_t)v);

		bb_put(b, &be, 2);
	}
	b->nelem++;
}

static void
bb_text(struct bbuf *b, const char *text)
{
	size_t n;

	if (text == NULL) {
		bb_null(b);
		return;
	}
	/* a C string, as the text parameter of a single insert is */
	n = strlen(text);
	bb_u32(b, (uint32_t)n);
	bb_put(b, text, n);
	b->nelem++;
}

/* The finished array, or NULL (out of memory, too large). */
static const char *
bb_done(struct bbuf *b, int *len)
{
	uint32_t be;

	if (b->oom || b->n > INT32_MAX || b->n < 20)
		return NULL;
	be = htonl((uint32_t)b->nelem);
	memcpy(b->s + 12, &be, 4);
	*len = (int)b->n;
	return b->s;
}

/* ST_INSERT's parameter i: element size (2, 4, 8) or 0 for text */
static int
col_int_size(int i)
{
	switch (i) {
	case 2: case 4: return 8;	/* seq, ts_us */
	case 6: return 2;		/* sev */
	case 12: case 14: return 4;	/* ports */
	default: return 0;
	}
}

static uint32_t
col_oid(int i)
{
	switch (col_int_size(i)) {
	case 8: return OID_INT8;
	case 4: return OID_INT4;
	case 2: return OID_INT2;
	default: return OID_TEXT;
	}
}

static int
cmp_key(const struct qrow *x, const char *site, const char *agent,
    int64_t seq)
{
	int c = strcmp(x->p[0], site);

	if (c == 0)
		c = strcmp(x->p[1], agent);
	if (c == 0)
		c = x->seq < seq ? -1 : x->seq > seq;
	return c;
}

/* Order of queue positions by (site, agent, seq), then position. */
static const struct qrow *sort_base;

static int
cmp_pos(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct qrow *y = &sort_base[b];
	int c = cmp_key(&sort_base[a], y->p[0], y->p[1], y->seq);

	if (c == 0)
		c = a < b ? -1 : a > b;
	return c;
}

/*
 * The first queue position of each key, in (site, agent, seq) order, in
 * pos[0..*m).  (sort_base is set and used within this call only; a
 * connection's queue is one thread's.)
 */
static void
first_positions(const struct qrow *q, size_t n, size_t *pos, size_t *m)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		pos[i] = i;
	sort_base = q;
	qsort(pos, n, sizeof(*pos), cmp_pos);
	sort_base = NULL;
	for (i = 0; i < n; i++) {
		if (k > 0 && cmp_key(&q[pos[k - 1]], q[pos[i]].p[0],
		    q[pos[i]].p[1], q[pos[i]].seq) == 0)
			continue;
		pos[k++] = pos[i];
	}
	*m = k;
}

/* The position of key in the sorted first positions, or n. */
static size_t
find_pos(const struct qrow *q, const size_t *pos, size_t m, const char *site,
    const char *agent, int64_t seq)
{
	size_t lo = 0, hi = m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(&q[pos[mid]], site, agent, seq);

		if (c == 0)
			return pos[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static PGresult *
exec_batch(struct clog_pg *pg, enum st id, int n, const char *const *v,
    const int *len)
{
	int fmt[20] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	    1, 1 };
	char name[16];

	if (clog_pg_ensure_conn(pg) != 0 || clog_pg_prepare(pg, id) != 0)
		return NULL;
	snprintf(name, sizeof(name), "s%d", (int)id);
	return PQexecPrepared(pg->c, name, n, v, len, fmt, 0);
}

/*
 * Insert q[0..n) with two statements: the keys of the batch (each key's
 * first position, in queue order: ids follow arrival), then the rows of
 * the keys that were new, with their ids.  changed[i] = 1 for each row
 * stored new, 0 for the rest.  0, or an error (the transaction is lost).
 */
int
clog_pg_batch_insert(struct clog_pg *pg, const struct qrow *q, size_t n,
    long *changed)
{
	struct bbuf a[20];
	const char *v[20];
	int len[20], c, t, nt;
	int64_t *id = NULL;
	size_t *pos = NULL, i, m;
	bool *first = NULL;
	PGresult *r = NULL;
	int rc = 0;

	memset(a, 0, sizeof(a));
	pos = malloc(n * sizeof(*pos));
	first = calloc(n, sizeof(*first));
	id = calloc(n, sizeof(*id));
	if (pos == NULL || first == NULL || id == NULL) {
		rc = IDS_ENOMEM;
		goto out;
	}
	first_positions(q, n, pos, &m);
	for (i = 0; i < m; i++)
		first[pos[i]] = true;
	/* the keys, in queue order */
	bb_start(&a[0], OID_TEXT);
	bb_start(&a[1], OID_TEXT);
	bb_start(&a[2], OID_INT8);
	bb_start(&a[3], OID_INT8);
	for (i = 0; i < n; i++) {
		changed[i] = 0;
		if (!first[i])
			continue;
		bb_text(&a[0], q[i].p[0]);
		bb_text(&a[1], q[i].p[1]);
		bb_int(&a[2], 8, q[i].p[2]);
		bb_int(&a[3], 8, q[i].p[4]);
	}
	for (c = 0; c < 4; c++)
		if ((v[c] = bb_done(&a[c], &len[c])) == NULL) {
			rc = IDS_ENOMEM;
			goto out;
		}
	r = exec_batch(pg, ST_KEYS_BATCH, 4, v, len);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
		goto out;
	}
	nt = PQntuples(r);
	for (t = 0; t < nt; t++) {
		i = find_pos(q, pos, m, PQgetvalue(r, t, 0),
		    PQgetvalue(r, t, 1), strtoll(PQgetvalue(r, t, 2), NULL,
		    10));
		if (i == SIZE_MAX) {
			snprintf(pg->errbuf, sizeof(pg->errbuf),
			    "batch insert: a key not in the batch came back");
			rc = IDS_EIO;
			goto out;
		}
		changed[i] = 1;
		id[i] = strtoll(PQgetvalue(r, t, 3), NULL, 10);
	}
	PQclear(r);
	r = NULL;
	if (nt == 0)
		goto out;
	/* the new rows, in id order (= queue order) */
	for (c = 0; c < 20; c++) {
		a[c].n = a[c].nelem = 0;
		bb_start(&a[c], c == 0 ? OID_INT8 : col_oid(c - 1));
	}
	for (i = 0; i < n; i++) {
		char idt[24];

		if (!changed[i])
			continue;
		snprintf(idt, sizeof(idt), "%" PRId64, id[i]);
		bb_int(&a[0], 8, idt);
		for (c = 0; c < 19; c++) {
			int sz = col_int_size(c);

			if (sz != 0)
				bb_int(&a[c + 1], sz, q[i].p[c]);
			else
				bb_text(&a[c + 1], q[i].p[c]);
		}
	}
	for (c = 0; c < 20; c++)
		if ((v[c] = bb_done(&a[c], &len[c])) == NULL) {
			rc = IDS_ENOMEM;
			goto out;
		}
	r = exec_batch(pg, ST_ALERTS_BATCH, 20, v, len);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		clog_pg_set_res_err(pg, r);
		rc = IDS_EIO;
		goto out;
	}
	if (strtol(PQcmdTuples(r), NULL, 10) != nt) {
		snprintf(pg->errbuf, sizeof(pg->errbuf), "batch insert: %s "
		    "alert rows for %d new keys", PQcmdTuples(r), nt);
		rc = IDS_EIO;
	}
out:
	PQclear(r);
	for (c = 0; c < 20; c++)
		free(a[c].s);
	free(pos);
	free(first);
	free(id);
	return rc;
}
