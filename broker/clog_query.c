/* clog_query.c - WHERE clauses from the filters given (clog_query.h). */
#include "broker/clog_query.h"

#include <stdio.h>
#include <string.h>

#include <stdint.h>
#include <time.h>

#include "lib/ids.h"
#include "lib/rfc3339.h"

/* us -> "YYYY-MM-DDThh:mm:ss.uuuuuuZ" (central_log_format_time's text). */
static void
fmt_time(int64_t us, char out[CENTRAL_LOG_TIME_LEN])
{
	rfc3339_format_signed(us, out, CENTRAL_LOG_TIME_LEN);
}

bool
clog_is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

struct builder {
	struct clog_sql		*q;
	enum clog_dialect	 d;
	size_t			 n;
	bool			 where, overflow;
	unsigned		 noindex;	/* CLOG_Q_NOINDEX(slot) bits */
};

static void
put(struct builder *b, const char *s)
{
	size_t l = strlen(s);

	if (b->n + l + 1 > sizeof(b->q->text)) {
		b->overflow = true;
		return;
	}
	memcpy(b->q->text + b->n, s, l + 1);
	b->n += l;
}

/* The next placeholder, bound to an integer or a text. */
static void
param(struct builder *b, bool is_text, int64_t i, const char *s)
{
	struct clog_sql *q = b->q;
	char ph[16];

	if (q->nparams >= CLOG_Q_MAXPARAM) {
		b->overflow = true;
		return;
	}
	q->p[q->nparams].is_text = is_text;
	q->p[q->nparams].i = i;
	q->p[q->nparams].s = s;
	q->nparams++;
	snprintf(ph, sizeof(ph), "%c%d", b->d == CLOG_PG ? '$' : '?',
	    q->nparams);
	put(b, ph);
}

static void
cond(struct builder *b)
{
	put(b, b->where ? " AND " : " WHERE ");
	b->where = true;
}

/* GLOB -> LIKE with '\' as the escape: * -> %, ? -> _, % _ \ escaped. */
static bool
glob_to_like(const char *g, char *out, size_t len)
{
	size_t n = 0;

	for (; *g != '\0'; g++) {
		if (n + 3 >= len)
			return false;
		if (*g == '*')
			out[n++] = '%';
		else if (*g == '?')
			out[n++] = '_';
		else {
			if (*g == '%' || *g == '_' || *g == '\\')
				out[n++] = '\\';
			out[n++] = *g;
		}
	}
	out[n] = '\0';
	return true;
}

/*
 * GLOB -> anchored POSIX regex (for patterns with [...] classes):
 * * -> .*, ? -> ., [^x] stays, other regex metacharacters escaped.
 */
static bool
glob_to_regex(const char *g, char *out, size_t len)
{
	size_t n = 0;
	bool in_class = false;

	out[n++] = '^';
	for (; *g != '\0'; g++) {
		if (n + 4 >= len)
			return false;
		if (in_class) {
			if (*g == ']')
				in_class = false;
			if (*g == '\\')
				out[n++] = '\\';
			out[n++] = *g;
			continue;
		}
		switch (*g) {
		case '*':
			out[n++] = '.';
			out[n++] = '*';
			break;
		case '?':
			out[n++] = '.';
			break;
		case '[':
			in_class = true;
			out[n++] = '[';
			/* SQLite's GLOB negates with ^ (not the shell's !) */
			if (g[1] == '^') {
				out[n++] = '^';
				g++;
			}
			if (g[1] == ']') {	/* a leading ] is literal */
				out[n++] = ']';
				g++;
			}
			break;
		default:
			if (strchr(".^$+(){}|\\", *g) != NULL)
				out[n++] = '\\';
			out[n++] = *g;
		}
	}
	if (in_class)
		return false;	/* SQLite's GLOB would match nothing either */
	out[n++] = '$';
	out[n] = '\0';
	return true;
}

/* One pattern column; its 2 shape bits: 0 none, 1 =, 2 GLOB/LIKE, 3 ~. */
static int
pattern(struct builder *b, int slot, const char *col, const char *v,
    uint32_t *shape)
{
	uint32_t kind;

	if (v == NULL) {
		kind = 0;
	} else if (!clog_is_glob(v)) {
		kind = 1;
		cond(b);
		if (b->noindex & CLOG_Q_NOINDEX(slot))
			put(b, "+");
		put(b, col);
		put(b, " = ");
		param(b, true, 0, v);
	} else if (b->d == CLOG_SQLITE) {
		kind = 2;
		cond(b);
		/* unary + keeps the value and hides the column's index */
		if (b->noindex & CLOG_Q_NOINDEX(slot))
			put(b, "+");
		put(b, col);
		put(b, " GLOB ");
		param(b, true, 0, v);
	} else if (strchr(v, '[') == NULL) {
		kind = 2;
		if (!glob_to_like(v, b->q->pat[slot], CLOG_Q_PATLEN))
			return IDS_EINVAL;
		cond(b);
		put(b, col);
		put(b, " LIKE ");
		param(b, true, 0, b->q->pat[slot]);
	} else {
		kind = 3;
		if (!glob_to_regex(v, b->q->pat[slot], CLOG_Q_PATLEN))
			return IDS_EINVAL;
		cond(b);
		put(b, col);
		put(b, " ~ ");
		param(b, true, 0, b->q->pat[slot]);
	}
	*shape = *shape << 2 | kind;
	return 0;
}

int
clog_query_build(struct clog_sql *q, enum clog_dialect d,
    enum clog_select kind, const char *cols, const char *table,
    const struct central_log_filter *f)
{
	return clog_query_build_hint(q, d, kind, cols, table, f, 0);
}

int
clog_query_build_hint(struct clog_sql *q, enum clog_dialect d,
    enum clog_select kind, const char *cols, const char *table,
    const struct central_log_filter *f, unsigned noindex)
{
	struct builder b = { q, d, 0, false, false, 0 };
	uint32_t shape = kind == CLOG_Q_FOLLOW ? 1 : 0;
	bool limited = f->limit > 0;
	const char *ord;
	int rc;

	memset(q, 0, sizeof(*q));
	/* only SQLite takes the hint; it is part of the shape */
	b.noindex = d == CLOG_SQLITE ? noindex &
	    (CLOG_Q_NOINDEX(CLOG_Q_SLOTS) - 1) : 0;
	shape = shape << CLOG_Q_SLOTS | b.noindex;
	put(&b, "SELECT ");
	put(&b, cols);
	put(&b, " FROM ");
	if (limited) {
		put(&b, "(SELECT ");
		put(&b, cols);
		put(&b, " FROM ");
	}
	put(&b, table);
	shape = shape << 1 | (f->since_us != INT64_MIN);
	shape = shape << 1 | f->received;
	if (f->since_us != INT64_MIN && f->received) {
		/* fixed-width RFC 3339 UTC text: text order is time order */
		fmt_time(f->since_us, q->tbuf[0]);
		cond(&b);
		if (b.noindex & CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED))
			put(&b, "+");
		put(&b, "received_at >= ");
		param(&b, true, 0, q->tbuf[0]);
	} else if (f->since_us != INT64_MIN) {
		cond(&b);
		put(&b, "ts_us >= ");
		param(&b, false, f->since_us, NULL);
	}
	shape = shape << 1 | (f->until_us != INT64_MAX);
	if (f->until_us != INT64_MAX && f->received) {
		fmt_time(f->until_us, q->tbuf[1]);
		cond(&b);
		if (b.noindex & CLOG_Q_NOINDEX(CLOG_Q_SLOT_RECEIVED))
			put(&b, "+");
		put(&b, "received_at < ");
		param(&b, true, 0, q->tbuf[1]);
	} else if (f->until_us != INT64_MAX) {
		cond(&b);
		put(&b, "ts_us < ");
		param(&b, false, f->until_us, NULL);
	}
	/*
	 * "At least high" as sev IN (3, 4): equalities on the leading column
	 * of (sev, ts_us), which SQLite's planner trusts without statistics
	 * (for "sev >= ?" it guesses a quarter of the table and walks the ts
	 * index instead).
	 */
	shape = shape << 3 | (uint32_t)(f->min_sev <= 0 ? 0 :
	    f->min_sev > 4 ? 5 : f->min_sev);
	if (f->min_sev > 0) {
		int s;

		cond(&b);
		if (f->min_sev > 4) {
			put(&b, "sev > 4");	/* no such severity */
		} else {
			if (b.noindex & CLOG_Q_NOINDEX(CLOG_Q_SLOT_SEV))
				put(&b, "+");
			put(&b, "sev IN (");
			for (s = f->min_sev; s <= 4; s++) {
				if (s > f->min_sev)
					put(&b, ", ");
				param(&b, false, s, NULL);
			}
			put(&b, ")");
		}
	}
	if ((rc = pattern(&b, 0, "agent", f->agent, &shape)) != 0 ||
	    (rc = pattern(&b, 1, "site", f->site, &shape)) != 0 ||
	    (rc = pattern(&b, 2, "detector", f->detector, &shape)) != 0 ||
	    (rc = pattern(&b, 3, "technique", f->technique, &shape)) != 0 ||
	    (rc = pattern(&b, 4, "proto", f->proto, &shape)) != 0)
		return rc;
	shape = shape << 2 | (f->ip == NULL ? 0 : strchr(f->ip, '/') != NULL ?
	    2 : 1);
	if (f->ip != NULL && strchr(f->ip, '/') != NULL) {
		/* a network: icsentry_in_cidr() (clog_exec.c, clog_triage_pg.c) */
		cond(&b);
		put(&b, "(icsentry_in_cidr(src_ip, ");
		param(&b, true, 0, f->ip);
		put(&b, ") OR icsentry_in_cidr(dst_ip, ");
		param(&b, true, 0, f->ip);
		put(&b, "))");
	} else if (f->ip != NULL) {
		/* two index lookups (OR of src_ip and dst_ip indexes) */
		cond(&b);
		put(&b, "(src_ip = ");
		param(&b, true, 0, f->ip);
		put(&b, " OR dst_ip = ");
		param(&b, true, 0, f->ip);
		put(&b, ")");
	}
	shape = shape << 1 | (f->grep != NULL);
	if (f->grep != NULL) {
		cond(&b);
		put(&b, d == CLOG_PG ? "strpos(lower(raw), lower(" :
		    "instr(lower(raw), lower(");
		param(&b, true, 0, f->grep);
		put(&b, ")) > 0");
	}
	shape = shape << 1 | (f->state != NULL);
	if (f->state != NULL) {
		cond(&b);
		put(&b, "triage_state = ");
		param(&b, true, 0, f->state);
	}
	shape = shape << 1 | (f->after_id >= 0);
	if (f->after_id >= 0) {
		cond(&b);
		put(&b, "id > ");
		param(&b, false, f->after_id, NULL);
	}
	shape = shape << 1 | limited;
	/* "+ts_us": sorted after the walk of another index (in the shape) */
	ord = b.noindex & CLOG_Q_NOINDEX(CLOG_Q_SLOT_ORDER) ? "+" : "";
	if (kind == CLOG_Q_QUERY) {
		put(&b, " ORDER BY ");
		put(&b, ord);
		put(&b, limited ? "ts_us DESC, id DESC LIMIT " : "ts_us, id");
		if (limited) {
			param(&b, false, f->limit, NULL);
			put(&b, ") AS t ORDER BY ts_us, id");
		}
	} else {
		put(&b, " ORDER BY ");
		put(&b, ord);
		put(&b, limited ? "id DESC LIMIT " : "id");
		if (limited) {
			param(&b, false, f->limit, NULL);
			put(&b, ") AS t ORDER BY id");
		}
	}
	q->shape = shape;
	return b.overflow ? IDS_EINVAL : 0;
}
