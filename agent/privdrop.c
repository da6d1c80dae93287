/*
 * privdrop.c - least privilege after the capture handle is open.
 * The capture socket keeps working after the switch: it is already open.
 */
#include "agent/privdrop.h"
#include "lib/log.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Clear permitted, effective and inheritable capabilities (always allowed). */
static int
clear_caps(void)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	return (int)syscall(SYS_capset, &h, d);
}

int
priv_drop(const char *user, bool allow_root, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0) {
		if (clear_caps() != 0) {
			snprintf(err, errlen, "cannot drop capabilities: %s",
			    strerror(errno));
			return -1;
		}
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		return 0;
	}
	if (user == NULL || user[0] == '\0') {
		if (!allow_root) {
			snprintf(err, errlen, "refusing to keep running as root: set "
			    "[agent] user to an unprivileged account (or "
			    "allow_root = true)");
			return -1;
		}
		log_warn("running as root "
		    "(allow_root = true)\n");
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "[agent] user '%s' does not exist (create it, "
		    "or set another user)", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		if (!allow_root) {
			snprintf(err, errlen, "[agent] user '%s' is root: refusing "
			    "(allow_root = true to insist)", user);
			return -1;
		}
		return 0;
	}
	if (setgroups(1, &pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot switch to user '%s': %s", user,
		    strerror(errno));
		return -1;
	}
	/* prove it: no id may still be 0, and root must not come back */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru == 0 || eu == 0 || su == 0 || rg == 0 || eg == 0 || sg == 0 ||
	    setuid(0) == 0) {
		snprintf(err, errlen, "privileges were not dropped completely");
		return -1;
	}
	if (clear_caps() != 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
