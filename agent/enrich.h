/*
 * enrich.h - what turns a detector's finding into an alert an analyst can
 * act on: the rule table (agent/rules.def: stable id, sid, revision, one
 * sentence of description and one of action per alert kind), MITRE ATT&CK
 * for ICS names and tactics (agent/attack_ics.def, matrix v16), and the
 * plant's assets file ([assets] file: name, role and grade of importance
 * per IP or CIDR; alerts on a critical asset are raised [assets]
 * critical_step severities).
 */
#ifndef ICSENTRY_AGENT_ENRICH_H
#define ICSENTRY_AGENT_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cfg.h"

#define ATTACK_ICS_VERSION	"ATT&CK for ICS v16"

extern const struct cfg_schema enrich_assets_schema;

struct rule_info {
	const char	*rule;		/* pattern in the table ("*.malformed") */
	unsigned	 sid, rev;
	const char	*description, *action;	/* templates: {src} {dst} {proto} */
};

struct attack_info {
	const char	*id, *name, *tactics;	/* tactics: "Execution, Evasion" */
};

/* The rule of a detector name; NULL when the table has none. */
const struct rule_info *rule_lookup(const char *detector);

/* The technique of an id ("T0858"); NULL when unknown. */
const struct attack_info *attack_lookup(const char *id);

/* The first tactic of t into buf ("Execution"). */
const char *attack_tactic(const struct attack_info *t, char *buf, size_t len);

/*
 * Expand a template: {src}, {dst}, {proto} become the given texts.
 * Returns buf.
 */
const char *rule_fill(const char *tmpl, const char *src, const char *dst,
    const char *proto, char *buf, size_t len);

/* One entry of the plant's assets file. */
struct asset_entry {
	uint8_t		 af, bits, addr[16];
	char		*name, *role, *grade, *vendor, *model;
};

struct asset_book {
	struct asset_entry	*v;
	size_t			 n;
	int			 critical_step;	/* severities added */
};

/*
 * Load [assets] file (CSV: address,name,role,grade[,vendor[,model]]; '#'
 * comments; the address an IP or CIDR; grade critical, high, medium or
 * low).  An empty file key gives an empty book.  NULL with one line in
 * err when the file cannot be read or a line is wrong.
 */
struct asset_book *asset_book_load(const struct cfg *c, char *err,
    size_t errlen);

/* The most specific entry holding ip (af 4/6), or NULL. */
const struct asset_entry *asset_book_find(const struct asset_book *b,
    uint8_t af, const uint8_t *ip);

void asset_book_free(struct asset_book *b);

#endif
