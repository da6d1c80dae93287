/*
 * enrich.c - rule table, ATT&CK for ICS table, the plant's assets file.
 */
#include "agent/enrich.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"

static const struct cfg_key assets_keys[] = {
	{ "file", CFG_STR, "", 0, 0, "CSV of the plant's assets: address (IP or CIDR),name,role,grade (critical/high/medium/low)[,vendor[,model]]" },
	{ "critical_step", CFG_INT, "1", 0, 4, "severity levels added to an alert whose source or destination is a critical asset" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

const struct cfg_schema enrich_assets_schema = { "assets", assets_keys };

static const struct rule_info rules[] = {
#define RULE(r, sid, rev, d, a) { r, sid, rev, d, a },
#include "agent/rules.def"
#undef RULE
};

static const struct attack_info techniques[] = {
#define ATTACK(id, name, tactics) { id, name, tactics },
#include "agent/attack_ics.def"
#undef ATTACK
};

const struct rule_info *
rule_lookup(const char *detector)
{
	const char *dot;
	size_t i;

	if (detector == NULL)
		return NULL;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].rule, detector) == 0)
			return &rules[i];
	dot = strchr(detector, '.');
	if (dot == NULL)
		return NULL;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].rule[0] == '*' && strcmp(rules[i].rule + 1, dot) == 0)
			return &rules[i];
	return NULL;
}

const struct attack_info *
attack_lookup(const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++)
		if (strcmp(techniques[i].id, id) == 0)
			return &techniques[i];
	return NULL;
}

const char *
attack_tactic(const struct attack_info *t, char *buf, size_t len)
{
	size_t n = strcspn(t->tactics, ",");

	snprintf(buf, len, "%.*s", (int)n, t->tactics);
	return buf;
}

const char *
rule_fill(const char *tmpl, const char *src, const char *dst,
    const char *proto, char *buf, size_t len)
{
	size_t o = 0, n;
	const char *v;

	if (len == 0)
		return buf;
	while (*tmpl != '\0' && o + 1 < len) {
		v = NULL;
		if (strncmp(tmpl, "{src}", 5) == 0)
			v = src, n = 5;
		else if (strncmp(tmpl, "{dst}", 5) == 0)
			v = dst, n = 5;
		else if (strncmp(tmpl, "{proto}", 7) == 0)
			v = proto, n = 7;
		if (v == NULL) {
			buf[o++] = *tmpl++;
			continue;
		}
		o += (size_t)snprintf(buf + o, len - o, "%s", v);
		if (o >= len)
			o = len - 1;
		tmpl += n;
	}
	buf[o] = '\0';
	return buf;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static char *
dup_field(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

static void
entry_free(struct asset_entry *e)
{
	free(e->name);
	free(e->role);
	free(e->grade);
	free(e->vendor);
	free(e->model);
}

static bool
valid_grade(const char *g)
{
	return strcmp(g, "critical") == 0 || strcmp(g, "high") == 0 ||
	    strcmp(g, "medium") == 0 || strcmp(g, "low") == 0;
}

struct asset_book *
asset_book_load(const struct cfg *c, char *err, size_t errlen)
{
	const char *path = cfg_str(c, "assets", "file");
	struct asset_book *b;
	char line[1024], *f[6], *p;
	struct cfg_net net;
	unsigned lineno = 0;
	FILE *fp;
	int nf;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->critical_step = (int)cfg_int(c, "assets", "critical_step");
	if (path == NULL || path[0] == '\0')
		return b;
	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open assets file: %s", path,
		    strerror(errno));
		free(b);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct asset_entry *v, e;

		lineno++;
		p = trim(line);
		if (p[0] == '#' || p[0] == '\0' ||
		    strncmp(p, "address,", 8) == 0)
			continue;
		memset(f, 0, sizeof(f));
		for (nf = 0; nf < 6 && p != NULL; nf++) {
			f[nf] = p;
			p = strchr(p, ',');
			if (p != NULL)
				*p++ = '\0';
			f[nf] = trim(f[nf]);
		}
		if (nf < 4 || p != NULL || cfg_net_parse(f[0], &net) != 0 ||
		    !valid_grade(f[3])) {
			snprintf(err, errlen, "%s:%u: expected address (IP or "
			    "CIDR),name,role,grade (critical, high, medium, "
			    "low)[,vendor[,model]]", path, lineno);
			fclose(fp);
			asset_book_free(b);
			return NULL;
		}
		memset(&e, 0, sizeof(e));
		e.af = net.af;
		e.bits = net.bits;
		memcpy(e.addr, net.addr, sizeof(e.addr));
		e.name = dup_field(f[1]);
		e.role = dup_field(f[2]);
		e.grade = dup_field(f[3]);
		e.vendor = dup_field(f[4]);
		e.model = dup_field(f[5]);
		v = realloc(b->v, (b->n + 1) * sizeof(*v));
		if (v == NULL) {
			entry_free(&e);
			snprintf(err, errlen, "out of memory");
			fclose(fp);
			asset_book_free(b);
			return NULL;
		}
		b->v = v;
		b->v[b->n++] = e;
	}
	fclose(fp);
	return b;
}

static bool
net_has(const struct asset_entry *e, uint8_t af, const uint8_t *ip)
{
	unsigned full = e->bits / 8, rest = e->bits % 8;

	if (e->af != af)
		return false;
	if (memcmp(e->addr, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((e->addr[full] ^ ip[full]) & (0xff << (8 - rest))) == 0;
}

const struct asset_entry *
asset_book_find(const struct asset_book *b, uint8_t af, const uint8_t *ip)
{
	const struct asset_entry *best = NULL;
	size_t i;

	if (b == NULL)
		return NULL;
	for (i = 0; i < b->n; i++)
		if (net_has(&b->v[i], af, ip) &&
		    (best == NULL || b->v[i].bits > best->bits))
			best = &b->v[i];
	return best;
}

void
asset_book_free(struct asset_book *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		entry_free(&b->v[i]);
	free(b->v);
	free(b);
}
