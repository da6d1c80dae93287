/*
 * privdrop.h - give up root once the capture handle is open.
 */
#ifndef ICSENTRY_AGENT_PRIVDROP_H
#define ICSENTRY_AGENT_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Called right after the live capture is open.  As root: switch to user
 * (groups, gid, uid - all three ids, so root cannot be regained), then
 * clear every capability and set no_new_privs.  user empty and allow_root
 * true: stay root (with a warning on stderr).  user empty and allow_root
 * false: refuse.  Not root: clear any capabilities we were given (e.g.
 * CAP_NET_RAW by systemd) - the socket is already open.
 * Returns 0, or -1 with one line in err.
 */
int priv_drop(const char *user, bool allow_root, char *err, size_t errlen);

#endif
