/*
 * testutil.c - process, file and JSON helpers for the Check suites.
 */
#include "tests/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- paths ------------------------------------------------------------- */

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : dflt;
}

const char *
tu_build_dir(void)
{
	return env_or("ICSENTRY_BUILD", "build");
}

const char *
tu_shared_dir(void)
{
	return env_or("SHARED", "../shared");
}

const char *
tu_build_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tu_build_dir(), name);
	return buf;
}

const char *
tu_pcap_path(char *buf, size_t len, const char *name)
{
	if (name == NULL || name[0] == '\0')
		snprintf(buf, len, "%s/pcaps", tu_shared_dir());
	else
		snprintf(buf, len, "%s/pcaps/%s", tu_shared_dir(), name);
	return buf;
}

const char *
tu_agent_path(char *buf, size_t len)
{
	return tu_build_path(buf, len, "icsentry-agent");
}

/* ---- running a command ------------------------------------------------- */

struct sink {
	int	 fd;
	char	*buf;
	size_t	 len, cap;
	bool	 open;
};

static int
sink_read(struct sink *s)
{
	char tmp[16384];
	ssize_t n;
	char *nb;

	n = read(s->fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(s->fd);
		s->open = false;
		return 0;
	}
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 4096;

		while (s->len + (size_t)n + 1 > ncap)
			ncap *= 2;
		nb = realloc(s->buf, ncap);
		if (nb == NULL)
			return -1;
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, tmp, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
empty_string(void)
{
	return calloc(1, 1);
}

void
tu_result_free(struct tu_result *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

int
tu_run(char *const argv[], const char *stdin_path, int timeout_ms,
    struct tu_result *r)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, in, status = 0, i;
	struct sink s[2];
	long long deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	memset(s, 0, sizeof(s));
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
		goto fail;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		in = open(stdin_path != NULL ? stdin_path : "/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(po[1], 1) < 0 ||
		    dup2(pe[1], 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		dprintf(2, "tu_run: cannot execute %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	s[0].fd = po[0];
	s[1].fd = pe[0];
	s[0].open = s[1].open = true;
	deadline = mono_ms() + timeout_ms;
	while (s[0].open || s[1].open) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int idx[2];
		long long left = deadline - mono_ms();

		if (left <= 0 && !r->timed_out) {
			kill(pid, SIGKILL);
			r->timed_out = true;
		}
		for (i = 0; i < 2; i++)
			if (s[i].open) {
				pfd[n].fd = s[i].fd;
				pfd[n].events = POLLIN;
				idx[n++] = i;
			}
		if (left > 1000 || r->timed_out)
			left = 1000;
		if (poll(pfd, n, (int)left) < 0 && errno != EINTR)
			break;
		for (i = 0; i < (int)n; i++)
			if (pfd[i].revents != 0 && sink_read(&s[idx[i]]) != 0) {
				kill(pid, SIGKILL);
				r->timed_out = true;
			}
		/* after a kill, stop waiting for output nobody will write */
		if (r->timed_out && mono_ms() > deadline + 5000)
			break;
	}
	for (i = 0; i < 2; i++)
		if (s[i].open)
			close(s[i].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->exit_code = 128 + WTERMSIG(status);
	r->out = s[0].buf != NULL ? s[0].buf : empty_string();
	r->out_len = s[0].len;
	r->err = s[1].buf != NULL ? s[1].buf : empty_string();
	r->err_len = s[1].len;
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	r->out = empty_string();
	r->err = empty_string();
	return -1;
}

/* ---- files ------------------------------------------------------------- */

int
tu_mkdtemp(char *buf, size_t len, const char *tag)
{
	const char *tmp = env_or("TMPDIR", "/tmp");

	if ((size_t)snprintf(buf, len, "%s/icsentry-%s-XXXXXX", tmp,
	    tag != NULL ? tag : "test") >= len)
		return -1;
	return mkdtemp(buf) != NULL ? 0 : -1;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
tu_rmtree(const char *path)
{
	if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0)
		return -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

int
tu_write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	int rc = 0;

	if (fp == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

int
tu_copy_prefix(const char *src, const char *dst, size_t len)
{
	size_t n;
	char *buf = tu_read_file(src, &n);
	int rc;

	if (buf == NULL)
		return -1;
	rc = n >= len ? tu_write_file(dst, buf, len) : -1;
	free(buf);
	return rc;
}

long long
tu_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (long long)st.st_size;
}

/* ---- text and JSON ----------------------------------------------------- */

size_t
tu_count_lines(const char *text)
{
	size_t n = 0;
	const char *p;

	if (text == NULL || text[0] == '\0')
		return 0;
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			n++;
	if (p[-1] != '\n')
		n++;
	return n;
}

bool
tu_contains(const char *text, const char *needle)
{
	return text != NULL && strstr(text, needle) != NULL;
}

/* Is the line [p, e) blank? */
static bool
blank(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

cJSON *
tu_json_lines(const char *text, int *bad)
{
	cJSON *arr = cJSON_CreateArray(), *item;
	const char *p = text != NULL ? text : "", *e;

	if (bad != NULL)
		*bad = 0;
	if (arr == NULL)
		return NULL;
	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (!blank(p, e)) {
			item = cJSON_ParseWithLength(p, (size_t)(e - p));
			if (item != NULL)
				cJSON_AddItemToArray(arr, item);
			else if (bad != NULL)
				(*bad)++;
		}
		p = *e != '\0' ? e + 1 : e;
	}
	return arr;
}

cJSON *
tu_json_last_line(const char *text)
{
	const char *p, *start, *end;

	if (text == NULL)
		return NULL;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' '))
		end--;
	if (end == text)
		return NULL;
	for (p = end; p > text && p[-1] != '\n'; p--)
		;
	start = p;
	return cJSON_ParseWithLength(start, (size_t)(end - start));
}

static const cJSON *
json_path(const cJSON *obj, const char *path)
{
	char key[128];
	const char *p = path, *dot;
	size_t n;

	while (obj != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return obj;
}

double
tu_json_num(const cJSON *obj, const char *path, double dflt)
{
	const cJSON *v = json_path(obj, path);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *
tu_json_str(const cJSON *obj, const char *path)
{
	const cJSON *v = json_path(obj, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

uint8_t *
tu_dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c == NULL)
		abort();
	if (n > 0)
		memcpy(c, p, n);
	return c;
}
