/*
 * blext.c - models of other detectors carried in the baseline file
 * (see blext.h).
 */
#include "detectors/blext.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfg.h"

#define BLEXT_MAX	8

static struct {
	const char	*member;
	blext_dump_fn	 fn;
	void		*state;
} ext[BLEXT_MAX];

int
blext_register(const char *member, blext_dump_fn fn, void *state)
{
	int i;

	for (i = 0; i < BLEXT_MAX; i++)
		if (ext[i].fn == NULL) {
			ext[i].member = member;
			ext[i].fn = fn;
			ext[i].state = state;
			return 0;
		}
	return -1;
}

void
blext_unregister(void *state)
{
	int i;

	for (i = 0; i < BLEXT_MAX; i++)
		if (ext[i].state == state)
			memset(&ext[i], 0, sizeof(ext[i]));
}

void
blext_dump(cJSON *root)
{
	cJSON *m;
	int i;

	for (i = 0; i < BLEXT_MAX; i++) {
		if (ext[i].fn == NULL)
			continue;
		/* the newest engine's model wins after a reload */
		cJSON_DeleteItemFromObjectCaseSensitive(root, ext[i].member);
		if ((m = ext[i].fn(ext[i].state)) != NULL)
			cJSON_AddItemToObject(root, ext[i].member, m);
	}
}

int
blext_read(const char *path, const char *member, int missing_ok,
    cJSON **out, char *err, size_t errlen)
{
	FILE *fp;
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	cJSON *root;

	*out = NULL;
	if (path == NULL || path[0] == '\0' || strcmp(path, "-") == 0)
		return 0;
	if ((fp = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: cannot read the baseline: %s", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > (512u << 20) || (nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(fp);
				snprintf(err, errlen, "%s: baseline too large", path);
				return -1;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, fp);
		n += r;
		if (r == 0)
			break;
	}
	fclose(fp);
	root = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (root == NULL) {
		snprintf(err, errlen, "%s: corrupt baseline: not valid JSON", path);
		return -1;
	}
	*out = cJSON_DetachItemFromObjectCaseSensitive(root, member);
	cJSON_Delete(root);
	return 0;
}

const char *
blext_learn_path(const struct cfg *c)
{
	return cfg_str(c, "detector.baseline", "learn");
}

const char *
blext_file_path(const struct cfg *c)
{
	return cfg_str(c, "detector.baseline", "file");
}
