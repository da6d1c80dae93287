/*
 * cfg.c - table-driven INI configuration on top of libinih.
 *
 * The file is read through ini_parse_stream() with our own line reader, so
 * the handler always knows the line it is on (Debian's libinih is built
 * without INI_HANDLER_LINENO) and section headers are checked even when a
 * section has no keys (libinih only calls the handler for key lines).
 */
#include "lib/cfg.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/ids.h"

struct slot {
	const struct cfg_key	*key;
	char			*text;		/* current value text (owned) */
	bool			 set;		/* given by file or cfg_set */
	int			 line;		/* file line, 0: default or cfg_set */
	char			*origin;	/* cfg_set's origin (owned) */
	long long		 i;
	double			 d;
	bool			 b;
	struct cfg_nets		 nets;
	struct cfg_list		 list;
};

struct section {
	const char	*name;
	struct slot	*slots;
	size_t		 n;
};

struct cfg {
	char		*path;
	struct section	*secs;
	size_t		 nsecs;
};

/* State of one cfg_load pass. */
struct loader {
	struct cfg	*c;
	FILE		*fp;
	const char	*path;
	int		 line;
	char		*err;
	size_t		 errlen;
	bool		 failed;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
nets_clear(struct cfg_nets *n)
{
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

static void
list_clear(struct cfg_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
cfg_net_parse(const char *text, struct cfg_net *out)
{
	char buf[64], *slash, *end;
	long bits;
	int maxbits;

	if (strlen(text) >= sizeof(buf))
		return IDS_EINVAL;
	strcpy(buf, text);
	memset(out, 0, sizeof(*out));
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->af = 4;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->af = 6;
		maxbits = 128;
	} else
		return IDS_EINVAL;
	bits = maxbits;
	if (slash != NULL) {
		errno = 0;
		bits = strtol(slash, &end, 10);
		if (errno != 0 || end == slash || *end != '\0' || bits < 0 ||
		    bits > maxbits)
			return IDS_EINVAL;
	}
	out->bits = (uint8_t)bits;
	return 0;
}

static bool
net_contains(const struct cfg_net *net, const uint8_t *addr)
{
	unsigned full = net->bits / 8u, rest = net->bits % 8u;
	uint8_t mask;

	if (memcmp(net->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xffu << (8u - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

bool
cfg_nets_contains(const struct cfg_nets *nets, int af, const uint8_t *addr)
{
	size_t i;

	if (nets == NULL)
		return false;
	for (i = 0; i < nets->n; i++)
		if (nets->v[i].af == af && net_contains(&nets->v[i], addr))
			return true;
	return false;
}

/* Split text on commas and blanks; calls fn for each word. */
static int
split_words(const char *text, int (*fn)(void *, const char *), void *arg)
{
	const char *p = text, *start;
	char word[256];
	size_t len;
	int rc;

	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p))
			p++;
		len = (size_t)(p - start);
		if (len >= sizeof(word))
			return IDS_EINVAL;
		memcpy(word, start, len);
		word[len] = '\0';
		if ((rc = fn(arg, word)) != 0)
			return rc;
	}
}

static int
add_net(void *arg, const char *word)
{
	struct cfg_nets *n = arg;
	struct cfg_net net, *v;

	if (cfg_net_parse(word, &net) != 0)
		return IDS_EINVAL;
	v = realloc(n->v, (n->n + 1) * sizeof(*v));
	if (v == NULL)
		return IDS_ENOMEM;
	v[n->n++] = net;
	n->v = v;
	return 0;
}

static int
add_word(void *arg, const char *word)
{
	struct cfg_list *l = arg;
	char **v, *dup;

	dup = strdup(word);
	if (dup == NULL)
		return IDS_ENOMEM;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL) {
		free(dup);
		return IDS_ENOMEM;
	}
	v[l->n++] = dup;
	l->v = v;
	return 0;
}

static int
parse_bool(const char *t, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(t, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(t, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return IDS_EINVAL;
}

/*
 * Validate text for the slot's key and, when valid, make it the slot's
 * value.  On error the slot is unchanged and why says what was wrong.
 */
static int
slot_assign(struct slot *s, const char *text, char *why, size_t whylen)
{
	const struct cfg_key *k = s->key;
	struct cfg_nets nets = { 0, NULL };
	struct cfg_list list = { 0, NULL };
	bool bounded = k->min != 0 || k->max != 0;
	long long i = 0;
	double d = 0;
	bool b = false;
	char *end, *dup;
	int rc;

	if (text == NULL)
		text = "";
	switch (k->type) {
	case CFG_STR:
		break;
	case CFG_INT:
		errno = 0;
		i = strtoll(text, &end, 0);
		if (errno != 0 || end == text || *end != '\0') {
			seterr(why, whylen, "'%s' is not an integer", text);
			return IDS_EINVAL;
		}
		if (bounded && ((double)i < k->min || (double)i > k->max)) {
			seterr(why, whylen, "%lld is out of range [%.0f, %.0f]",
			    i, k->min, k->max);
			return IDS_EINVAL;
		}
		break;
	case CFG_DOUBLE:
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0' || !isfinite(d)) {
			seterr(why, whylen, "'%s' is not a number", text);
			return IDS_EINVAL;
		}
		if (bounded && (d < k->min || d > k->max)) {
			seterr(why, whylen, "%g is out of range [%g, %g]", d,
			    k->min, k->max);
			return IDS_EINVAL;
		}
		break;
	case CFG_BOOL:
		if (parse_bool(text, &b) != 0) {
			seterr(why, whylen,
			    "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
			    text);
			return IDS_EINVAL;
		}
		break;
	case CFG_NETS:
		if ((rc = split_words(text, add_net, &nets)) != 0) {
			nets_clear(&nets);
			seterr(why, whylen, "'%s' is not a list of IP addresses or CIDRs",
			    text);
			return rc;
		}
		break;
	case CFG_LIST:
		if ((rc = split_words(text, add_word, &list)) != 0) {
			list_clear(&list);
			seterr(why, whylen, "bad list '%s'", text);
			return rc;
		}
		break;
	}
	dup = strdup(text);
	if (dup == NULL) {
		nets_clear(&nets);
		list_clear(&list);
		seterr(why, whylen, "out of memory");
		return IDS_ENOMEM;
	}
	free(s->text);
	s->text = dup;
	s->i = i;
	s->d = d;
	s->b = b;
	nets_clear(&s->nets);
	s->nets = nets;
	list_clear(&s->list);
	s->list = list;
	return 0;
}

static struct section *
find_section(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsecs; i++)
		if (strcmp(c->secs[i].name, name) == 0)
			return &c->secs[i];
	return NULL;
}

static struct slot *
find_slot(const struct cfg *c, const char *section, const char *key)
{
	struct section *s = find_section(c, section);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->slots[i].key->name, key) == 0)
			return &s->slots[i];
	return NULL;
}

/* Line reader for ini_parse_stream: counts lines, checks section headers. */
static char *
reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	char *p, *close;

	if (fgets(str, num, ld->fp) == NULL)
		return NULL;
	ld->line++;
	for (p = str; isspace((unsigned char)*p); p++)
		;
	if (*p == '[' && !ld->failed) {
		close = strchr(p, ']');
		if (close == NULL) {
			seterr(ld->err, ld->errlen, "%s:%d: section header without ']'",
			    ld->path, ld->line);
			ld->failed = true;
		} else {
			*close = '\0';
			if (find_section(ld->c, p + 1) == NULL) {
				seterr(ld->err, ld->errlen, "%s:%d: unknown section [%s]",
				    ld->path, ld->line, p + 1);
				ld->failed = true;
			}
			*close = ']';
		}
	}
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	char why[256];
	struct slot *s;

	if (ld->failed)
		return 0;
	if (section[0] == '\0') {
		seterr(ld->err, ld->errlen, "%s:%d: key '%s' outside of any section",
		    ld->path, ld->line, name);
		ld->failed = true;
		return 0;
	}
	if (find_section(ld->c, section) == NULL)
		return 0;	/* already reported by reader() */
	s = find_slot(ld->c, section, name);
	if (s == NULL) {
		seterr(ld->err, ld->errlen, "%s:%d: unknown key '%s' in [%s]",
		    ld->path, ld->line, name, section);
		ld->failed = true;
		return 0;
	}
	if (slot_assign(s, value, why, sizeof(why)) != 0) {
		seterr(ld->err, ld->errlen, "%s:%d: [%s] %s: %s", ld->path,
		    ld->line, section, name, why);
		ld->failed = true;
		return 0;
	}
	s->set = true;
	s->line = ld->line;
	return 1;
}

void
cfg_free(struct cfg *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsecs; i++) {
		for (j = 0; j < c->secs[i].n; j++) {
			free(c->secs[i].slots[j].text);
			free(c->secs[i].slots[j].origin);
			nets_clear(&c->secs[i].slots[j].nets);
			list_clear(&c->secs[i].slots[j].list);
		}
		free(c->secs[i].slots);
	}
	free(c->secs);
	free(c->path);
	free(c);
}

/* Build the empty config with every default from the schemas. */
static int
cfg_build(const struct cfg_schema *const *schemas, size_t n, struct cfg **out,
    char *err, size_t errlen)
{
	struct cfg *c;
	struct section *sec;
	size_t i, k, nk;
	char why[256];

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return IDS_ENOMEM;
	c->secs = calloc(n ? n : 1, sizeof(*c->secs));
	if (c->secs == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		/* two schemas for one section would make lookups ambiguous */
		assert(find_section(c, schemas[i]->section) == NULL);
		sec = &c->secs[c->nsecs++];
		sec->name = schemas[i]->section;
		for (nk = 0; schemas[i]->keys[nk].name != NULL; nk++)
			;
		sec->slots = calloc(nk ? nk : 1, sizeof(*sec->slots));
		if (sec->slots == NULL)
			goto nomem;
		sec->n = nk;
		for (k = 0; k < nk; k++) {
			sec->slots[k].key = &schemas[i]->keys[k];
			if (slot_assign(&sec->slots[k], schemas[i]->keys[k].def,
			    why, sizeof(why)) != 0) {
				seterr(err, errlen, "built-in default of [%s] %s: %s",
				    sec->name, schemas[i]->keys[k].name, why);
				cfg_free(c);
				return IDS_EINVAL;
			}
		}
	}
	*out = c;
	return 0;
nomem:
	cfg_free(c);
	seterr(err, errlen, "out of memory");
	return IDS_ENOMEM;
}

int
cfg_load(const char *path, const struct cfg_schema *const *schemas, size_t n,
    struct cfg **out, char *err, size_t errlen)
{
	struct loader ld;
	struct cfg *c;
	int rc;

	*out = NULL;
	if ((rc = cfg_build(schemas, n, &c, err, errlen)) != 0)
		return rc;
	c->path = strdup(path != NULL ? path : "(defaults)");
	if (c->path == NULL) {
		cfg_free(c);
		return IDS_ENOMEM;
	}
	if (path == NULL) {
		*out = c;
		return 0;
	}
	memset(&ld, 0, sizeof(ld));
	ld.c = c;
	ld.path = path;
	ld.err = err;
	ld.errlen = errlen;
	ld.fp = fopen(path, "r");
	if (ld.fp == NULL) {
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		cfg_free(c);
		return IDS_EIO;
	}
	rc = ini_parse_stream(reader, &ld, handler, &ld);
	if (ferror(ld.fp) && !ld.failed) {
		seterr(err, errlen, "%s: read error", path);
		ld.failed = true;
	}
	fclose(ld.fp);
	if (rc != 0 && !ld.failed) {
		/* libinih's own syntax error (e.g. a line with no '=') */
		seterr(err, errlen, "%s:%d: syntax error (expected key = value)",
		    path, rc > 0 ? rc : ld.line);
		ld.failed = true;
	}
	if (ld.failed) {
		cfg_free(c);
		return IDS_EINVAL;
	}
	*out = c;
	return 0;
}

int
cfg_set(struct cfg *c, const char *section, const char *key, const char *value,
    const char *origin, char *err, size_t errlen)
{
	struct slot *s = find_slot(c, section, key);
	char why[256];

	if (s == NULL) {
		seterr(err, errlen, "%s: unknown key '%s' in [%s]", origin, key,
		    section);
		return IDS_EINVAL;
	}
	if (slot_assign(s, value, why, sizeof(why)) != 0) {
		seterr(err, errlen, "%s: %s", origin, why);
		return IDS_EINVAL;
	}
	s->set = true;
	s->line = 0;
	free(s->origin);
	s->origin = strdup(origin);
	return 0;
}

static const struct slot *
must_slot(const struct cfg *c, const char *section, const char *key,
    enum cfg_type type)
{
	const struct slot *s = find_slot(c, section, key);

	/* asking for an undeclared key or the wrong type is a bug */
	assert(s != NULL && "undeclared config key");
	if (s == NULL || s->key->type != type)
		return NULL;
	return s;
}

const char *
cfg_str(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = find_slot(c, section, key);

	assert(s != NULL && "undeclared config key");
	return s != NULL && s->text != NULL ? s->text : "";
}

long long
cfg_int(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = must_slot(c, section, key, CFG_INT);

	return s != NULL ? s->i : 0;
}

double
cfg_double(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = find_slot(c, section, key);

	assert(s != NULL && "undeclared config key");
	if (s == NULL)
		return 0;
	/* an integer key may be read as a double */
	return s->key->type == CFG_INT ? (double)s->i : s->d;
}

bool
cfg_bool(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = must_slot(c, section, key, CFG_BOOL);

	return s != NULL && s->b;
}

const struct cfg_nets *
cfg_nets(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = must_slot(c, section, key, CFG_NETS);

	return s != NULL ? &s->nets : NULL;
}

const struct cfg_list *
cfg_list(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = must_slot(c, section, key, CFG_LIST);

	return s != NULL ? &s->list : NULL;
}

bool
cfg_is_set(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = find_slot(c, section, key);

	return s != NULL && s->set;
}

const char *
cfg_path(const struct cfg *c)
{
	return c->path;
}

const char *
cfg_text(const struct cfg *c, const char *section, const char *key)
{
	const struct slot *s = find_slot(c, section, key);

	return s != NULL ? (s->text != NULL ? s->text : "") : NULL;
}

const char *
cfg_where(const struct cfg *c, const char *section, const char *key,
    char *buf, size_t len)
{
	const struct slot *s = find_slot(c, section, key);

	if (s != NULL && s->line > 0)
		snprintf(buf, len, "%s:%d", c->path, s->line);
	else if (s != NULL && s->set && s->origin != NULL)
		snprintf(buf, len, "%s", s->origin);
	else
		snprintf(buf, len, "%s", c->path);
	return buf;
}
