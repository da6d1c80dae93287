/*
 * clog_scan.c - the alert's fields read straight from its JSON text, with
 * no tree (central_log_alert_parse's fast path).
 *
 * cJSON builds a node, and mallocs its name and value, for every member of
 * an alert (~60 allocations for a 700-byte alert), and parse_alert then
 * looks members up by strcmp and compares every pair of names for
 * repeats: that was most of verify's and a good part of the collector's
 * CPU (perf).  This scanner validates the whole text against RFC 8259's
 * grammar in one pass, remembers where each top-level member is, and
 * copies the dozen strings an alert needs into one buffer.
 *
 * It only takes the common, plain case: no backslash escape and no
 * control character in any string, only the four JSON whitespace bytes,
 * seq and ports written as plain decimal digits, nesting at most 64 deep,
 * at most 64 top-level members, no repeated member inside src or dst.
 * On such text cJSON gives the same values (it accepts a superset of RFC
 * 8259, and without escapes a string's bytes are its value).  Anything
 * else, valid or not, returns CLOG_SCAN_OTHER and the caller parses it
 * with cJSON, which also words the error.
 */
#include "broker/clog_scan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"

#define MAX_DEPTH	64
#define MAX_MEMBERS	64

enum vtype { VT_STR, VT_NUM, VT_NULL, VT_OBJ, VT_OTHER };

struct member {
	const char	*k;		/* name (no quotes) */
	size_t		 kn;
	enum vtype	 t;
	const char	*v;		/* string: content; else the value's text */
	size_t		 vn;
};

struct sc {
	const char	*p, *end;
};

static void
ws(struct sc *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* A string with no escape and no control byte; its content in *v, *n. */
static bool
str(struct sc *s, const char **v, size_t *n)
{
	const char *q;

	if (s->p >= s->end || *s->p != '"')
		return false;
	for (q = s->p + 1; q < s->end; q++) {
		unsigned char ch = (unsigned char)*q;

		if (ch == '"') {
			*v = s->p + 1;
			*n = (size_t)(q - s->p - 1);
			s->p = q + 1;
			return true;
		}
		if (ch == '\\' || ch < 0x20)
			return false;
	}
	return false;
}

static bool
digits(struct sc *s)
{
	const char *b = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > b;
}

/* RFC 8259 number. */
static bool
num(struct sc *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return false;
	}
	return true;
}

static bool
lit(struct sc *s, const char *w, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool value(struct sc *s, int depth, enum vtype *t);

/* After '{' or '[': members or elements up to the closing bracket. */
static bool
container(struct sc *s, int depth, bool obj)
{
	const char *k;
	size_t kn;
	enum vtype t;

	if (depth > MAX_DEPTH)
		return false;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
		s->p++;
		return true;
	}
	for (;;) {
		if (obj) {
			if (!str(s, &k, &kn))
				return false;
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
			ws(s);
		}
		if (!value(s, depth, &t))
			return false;
		ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (*s->p != (obj ? '}' : ']'))
			return false;
		s->p++;
		return true;
	}
}

static bool
value(struct sc *s, int depth, enum vtype *t)
{
	const char *v;
	size_t n;

	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"':
		*t = VT_STR;
		return str(s, &v, &n);
	case '{':
		*t = VT_OBJ;
		return container(s, depth + 1, true);
	case '[':
		*t = VT_OTHER;
		return container(s, depth + 1, false);
	case 't':
		*t = VT_OTHER;
		return lit(s, "true", 4);
	case 'f':
		*t = VT_OTHER;
		return lit(s, "false", 5);
	case 'n':
		*t = VT_NULL;
		return lit(s, "null", 4);
	default:
		*t = VT_NUM;
		return num(s);
	}
}

/* The members of the object at s->p (its '{'), at most max of them. */
static bool
members(struct sc *s, struct member *m, size_t max, size_t *n)
{
	*n = 0;
	if (s->p >= s->end || *s->p != '{')
		return false;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		const char *b;

		if (*n == max)
			return false;
		if (!str(s, &m[*n].k, &m[*n].kn))
			return false;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		ws(s);
		b = s->p;
		if (s->p < s->end && *s->p == '"') {
			m[*n].t = VT_STR;
			if (!str(s, &m[*n].v, &m[*n].vn))
				return false;
		} else {
			if (!value(s, 1, &m[*n].t))
				return false;
			m[*n].v = b;
			m[*n].vn = (size_t)(s->p - b);
		}
		(*n)++;
		ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (*s->p != '}')
			return false;
		s->p++;
		return true;
	}
}

static const struct member *
find(const struct member *m, size_t n, const char *name)
{
	size_t l = strlen(name), i;

	for (i = 0; i < n; i++)
		if (m[i].kn == l && memcmp(m[i].k, name, l) == 0)
			return &m[i];
	return NULL;
}

/* Plain decimal digits, at most maxd of them, into *v. */
static bool
plain_int(const struct member *m, size_t maxd, int64_t *v)
{
	size_t i;

	if (m->t != VT_NUM || m->vn == 0 || m->vn > maxd ||
	    (m->vn > 1 && m->v[0] == '0'))
		return false;
	*v = 0;
	for (i = 0; i < m->vn; i++) {
		if (m->v[i] < '0' || m->v[i] > '9')
			return false;
		*v = *v * 10 + (m->v[i] - '0');
	}
	return true;
}

struct out {
	char	*p;
};

/* A string member into the buffer; absent or null: NULL (if allowed). */
static bool
take(struct out *o, const struct member *m, bool required, const char **dst)
{
	*dst = NULL;
	if (m == NULL || m->t == VT_NULL)
		return !required;
	if (m->t != VT_STR)
		return false;
	memcpy(o->p, m->v, m->vn);
	o->p[m->vn] = '\0';
	*dst = o->p;
	o->p += m->vn + 1;
	return true;
}

static bool
endpoint(struct out *o, const struct member *m, const char **ip, int *port)
{
	struct member e[MAX_MEMBERS];
	const struct member *x;
	struct sc s;
	size_t n, i, j;
	int64_t v;

	*ip = NULL;
	*port = -1;
	if (m == NULL || m->t == VT_NULL)
		return true;
	if (m->t != VT_OBJ)
		return false;
	s.p = m->v;
	s.end = m->v + m->vn;
	if (!members(&s, e, MAX_MEMBERS, &n))
		return false;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (e[i].kn == e[j].kn &&
			    memcmp(e[i].k, e[j].k, e[i].kn) == 0)
				return false;
	if (!take(o, find(e, n, "ip"), false, ip))
		return false;
	x = find(e, n, "port");
	if (x != NULL && x->t != VT_NULL) {
		if (!plain_int(x, 5, &v) || v > 65535)
			return false;
		*port = (int)v;
	}
	return true;
}

int
clog_alert_scan(const char *json, size_t len, struct central_log_alert *a,
    bool *hash_last)
{
	struct member m[MAX_MEMBERS];
	struct sc s = { json, json + len };
	struct out o;
	size_t n, i, j;
	char *buf;

	if (!members(&s, m, MAX_MEMBERS, &n) || s.p != s.end || n == 0)
		return CLOG_SCAN_OTHER;
	/* a repeated name is refused: cJSON's path says which */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (m[i].kn == m[j].kn &&
			    memcmp(m[i].k, m[j].k, m[i].kn) == 0)
				return CLOG_SCAN_OTHER;
	buf = malloc(len + 16);
	if (buf == NULL)
		return IDS_ENOMEM;
	o.p = buf;
	a->buf_ = buf;
	if (!take(&o, find(m, n, "agent"), true, &a->agent) ||
	    !take(&o, find(m, n, "site"), true, &a->site) ||
	    !take(&o, find(m, n, "ts"), true, &a->ts) ||
	    !take(&o, find(m, n, "severity"), true, &a->severity) ||
	    !take(&o, find(m, n, "detector"), true, &a->detector) ||
	    !take(&o, find(m, n, "technique"), false, &a->technique) ||
	    !take(&o, find(m, n, "title"), false, &a->title) ||
	    !take(&o, find(m, n, "proto"), false, &a->proto) ||
	    !take(&o, find(m, n, "prev_hash"), true, &a->prev_hash) ||
	    !take(&o, find(m, n, "hash"), true, &a->hash) ||
	    !endpoint(&o, find(m, n, "src"), &a->src_ip, &a->src_port) ||
	    !endpoint(&o, find(m, n, "dst"), &a->dst_ip, &a->dst_port) ||
	    find(m, n, "seq") == NULL ||
	    !plain_int(find(m, n, "seq"), 15, &a->seq)) {
		free(buf);
		a->buf_ = NULL;
		return CLOG_SCAN_OTHER;
	}
	*hash_last = m[n - 1].kn == 4 && memcmp(m[n - 1].k, "hash", 4) == 0;
	return 0;
}
