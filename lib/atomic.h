/*
 * atomic.h - replace a file so that a crash or power loss leaves either
 * the old or the new contents, never a mix: write path.tmp, fsync it,
 * rename it over path, fsync the directory.
 */
#ifndef ICSENTRY_LIB_ATOMIC_H
#define ICSENTRY_LIB_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Write len bytes of data (and a '\n' when newline) to path atomically.
 * A path that exists and is not a regular file (/dev/stdout, a FIFO) is
 * written in place.  0, or -1 with errno set; path.tmp is removed.
 */
int atomic_write(const char *path, const void *data, size_t len,
    bool newline);

/*
 * mkdir -p: path and every missing parent, each with mode (existing ones
 * are left as they are).  0, or -1 with errno set.
 */
int atomic_mkdirs(const char *path, mode_t mode);

#endif
