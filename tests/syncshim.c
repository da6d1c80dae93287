/*
 * syncshim.c - LD_PRELOAD library for check_fleet's ordering test: logs,
 * in order, what a process writes, syncs and renames, one line each, to
 * $SYNCSHIM_LOG:
 *
 *   J <tid> <path> <seq> ...   a write to a file, with the alert seqs in it
 *                              (stdio: logged at fwrite, before its data
 *                              can reach the file; glibc's fflush calls
 *                              an internal write this shim cannot see)
 *   S <tid> <seq> ...          a write to a socket with alert seqs in it
 *   T <tid> <path> <seq>       a write of a state file ("seq N")
 *   D <tid> <path>             fdatasync
 *   F <tid> <path>             fsync (a file or a directory)
 *   R <tid> <from> <to>        rename
 *   U <tid> <path>             unlink (logged before the call)
 *
 * An alert seq is the number after the top-level ,"seq": of alert JSON.
 * Nothing is changed: every call goes on to the real function.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int busy;
static int logfd = -2;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static ssize_t (*real_send)(int, const void *, size_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_unlink)(const char *);

static void
init(void)
{
	const char *p;

	if (real_write != NULL)
		return;
	real_write = dlsym(RTLD_NEXT, "write");
	real_writev = dlsym(RTLD_NEXT, "writev");
	real_fwrite = dlsym(RTLD_NEXT, "fwrite");
	real_send = dlsym(RTLD_NEXT, "send");
	real_fsync = dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	real_rename = dlsym(RTLD_NEXT, "rename");
	real_unlink = dlsym(RTLD_NEXT, "unlink");
	p = getenv("SYNCSHIM_LOG");
	logfd = p != NULL ? open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600) : -1;
}

static void
out(const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n;

	if (logfd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	real_write(logfd, line, (size_t)n);
}

static void
fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* " 12 13 14" for every ,"seq":N in p[0..len) */
static void
seqs(const char *p, size_t len, char *buf, size_t blen)
{
	static const char key[] = ",\"seq\":";
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i + sizeof(key) - 1 < len; i++) {
		if (memcmp(p + i, key, sizeof(key) - 1) != 0)
			continue;
		i += sizeof(key) - 1;
		if (o + 24 >= blen)
			break;
		buf[o++] = ' ';
		while (i < len && p[i] >= '0' && p[i] <= '9' && o + 2 < blen)
			buf[o++] = p[i++];
		buf[o] = '\0';
	}
}

static void
log_data(int fd, const char *p, size_t len)
{
	char path[512], s[4096];
	const char *q;
	struct stat st;

	if (fd == logfd || fstat(fd, &st) != 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		seqs(p, len, s, sizeof(s));
		if (s[0] != '\0')
			out("S %ld%s", (long)syscall(SYS_gettid), s);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	fd_path(fd, path, sizeof(path));
	if (len > 16 && memcmp(p, "icsentry-state 1", 16) == 0) {
		q = memmem(p, len, "\nseq ", 5);
		out("T %ld %s %lld", (long)syscall(SYS_gettid), path,
		    q != NULL ? atoll(q + 5) : -1LL);
		return;
	}
	seqs(p, len, s, sizeof(s));
	if (s[0] != '\0')
		out("J %ld %s%s", (long)syscall(SYS_gettid), path, s);
}

ssize_t
write(int fd, const void *p, size_t len)
{
	init();
	if (!busy) {
		busy = 1;
		pthread_mutex_lock(&mu);
		log_data(fd, p, len);
		pthread_mutex_unlock(&mu);
		busy = 0;
	}
	return real_write(fd, p, len);
}

ssize_t
send(int fd, const void *p, size_t len, int flags)
{
	init();
	if (!busy) {
		busy = 1;
		pthread_mutex_lock(&mu);
		log_data(fd, p, len);
		pthread_mutex_unlock(&mu);
		busy = 0;
	}
	return real_send(fd, p, len, flags);
}

ssize_t
writev(int fd, const struct iovec *v, int n)
{
	size_t total = 0, o = 0;
	char *buf;
	int i;

	init();
	if (!busy) {
		busy = 1;
		for (i = 0; i < n; i++)
			total += v[i].iov_len;
		buf = malloc(total + 1);
		if (buf != NULL) {
			for (i = 0; i < n; i++) {
				memcpy(buf + o, v[i].iov_base, v[i].iov_len);
				o += v[i].iov_len;
			}
			pthread_mutex_lock(&mu);
			log_data(fd, buf, total);
			pthread_mutex_unlock(&mu);
			free(buf);
		}
		busy = 0;
	}
	return real_writev(fd, v, n);
}

size_t
fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
	int fd;

	init();
	if (!busy && (fd = fileno(fp)) >= 0 && size > 0) {
		busy = 1;
		pthread_mutex_lock(&mu);
		log_data(fd, p, size * n);
		pthread_mutex_unlock(&mu);
		busy = 0;
	}
	return real_fwrite(p, size, n, fp);
}

static void
log_sync(char kind, int fd)
{
	char path[512];

	if (busy)
		return;
	busy = 1;
	fd_path(fd, path, sizeof(path));
	pthread_mutex_lock(&mu);
	out("%c %ld %s", kind, (long)syscall(SYS_gettid), path);
	pthread_mutex_unlock(&mu);
	busy = 0;
}

int
fsync(int fd)
{
	init();
	log_sync('F', fd);
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	init();
	log_sync('D', fd);
	return real_fdatasync(fd);
}

int
rename(const char *from, const char *to)
{
	int rc;

	init();
	rc = real_rename(from, to);
	if (!busy && rc == 0) {
		busy = 1;
		pthread_mutex_lock(&mu);
		out("R %ld %s %s", (long)syscall(SYS_gettid), from, to);
		pthread_mutex_unlock(&mu);
		busy = 0;
	}
	return rc;
}

int
unlink(const char *path)
{
	/* logged before the call: an event logged ahead of this line
	 * happened before the file went */
	init();
	if (!busy) {
		busy = 1;
		pthread_mutex_lock(&mu);
		out("U %ld %s", (long)syscall(SYS_gettid), path);
		pthread_mutex_unlock(&mu);
		busy = 0;
	}
	return real_unlink(path);
}
