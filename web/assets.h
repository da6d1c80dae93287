/*
 * assets.h - the console's static files (web/static), embedded into the
 * binary at build time by web/embed.py (build/gen/web_assets.c).
 */
#ifndef ICSENTRY_WEB_ASSETS_H
#define ICSENTRY_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char		*path;	/* "/app.js" */
	const char		*type;	/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
};

extern const struct web_asset	web_assets[];
extern const size_t		web_nassets;

#endif
