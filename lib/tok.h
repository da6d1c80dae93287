/* tok.h - value -> name tables (function codes, services, types). */
#ifndef ICSENTRY_LIB_TOK_H
#define ICSENTRY_LIB_TOK_H

#include <stddef.h>

struct tok {
	unsigned	 v;
	const char	*s;
};

#define TOK_N(t)	(sizeof(t) / sizeof((t)[0]))

/* The name of v in t[0..nt), or dflt. */
static inline const char *
tok_name(const struct tok *t, size_t nt, unsigned v, const char *dflt)
{
	size_t i;

	for (i = 0; i < nt; i++)
		if (t[i].v == v)
			return t[i].s;
	return dflt;
}

#endif
