/* testutil_broker.c - real mosquitto, Paho test client, chained alerts. */
#include "tests/testutil_broker.h"

#include <MQTTAsync.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/central_log.h"
#include "lib/chain.h"
#include "lib/mqttconf.h"

/* ---- small things ----------------------------------------------------- */

void
tb_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int64_t
tb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : def;
}

const char *
tb_build_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", env_or("ICSENTRY_BUILD", "build"), name);
	return buf;
}

const char *
tb_src_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", env_or("ICSENTRY_SRC", "."), name);
	return buf;
}

int
tb_tmpdir(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "%s/icsentry-%s-XXXXXX", env_or("TMPDIR", "/tmp"),
	    tag);
	if (mkdtemp(buf) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
tb_rmtree(const char *path)
{
	if (path != NULL && path[0] != '\0')
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tb_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

int
tb_file_count(const char *path, const char *text)
{
	char *s = tb_read_file(path, NULL), *p;
	int n = 0;

	for (p = s; p != NULL && (p = strstr(p, text)) != NULL; p++)
		n++;
	free(s);
	return n;
}

int
tb_wait_file_count(const char *path, const char *text, int n,
    int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	do {
		if (tb_file_count(path, text) >= n)
			return 0;
		tb_sleep_ms(20);
	} while (tb_now_ms() < end);
	return -1;
}

int
tb_wait_file_contains(const char *path, const char *text, int timeout_ms)
{
	return tb_wait_file_count(path, text, 1, timeout_ms);
}

/* ---- processes -------------------------------------------------------- */

pid_t
tb_spawn(char *const argv[], const char *out_file)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		fd = open(out_file != NULL ? out_file : "/dev/null",
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* A failed Check test exits without its teardown: take the
		 * broker and collector down with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Check may run us with signals blocked; children need them */
		{
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			signal(SIGPIPE, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int
tb_stop_pid(pid_t pid, int sig, int timeout_ms, int *status)
{
	int64_t end = tb_now_ms() + timeout_ms;
	int st = 0;
	pid_t r;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	do {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (status != NULL)
				*status = st;
			return 0;
		}
		if (r < 0)
			return -1;
		tb_sleep_ms(10);
	} while (tb_now_ms() < end);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (status != NULL)
		*status = st;
	return -1;
}

int
tb_run(char *const argv[], const char *out_file, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;
	pid_t pid, r;
	int st;

	pid = tb_spawn(argv, out_file);
	if (pid < 0)
		return -1;
	do {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		tb_sleep_ms(10);
	} while (tb_now_ms() < end);
	fprintf(stderr, "%s: still running after %d ms, killed\n", argv[0],
	    timeout_ms);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int
tb_port_open(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int
tb_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---- mosquitto -------------------------------------------------------- */

static const char *
user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "root";
}

/* Copy template text to f with @PORT@, @DIR@ and @USER@ replaced. */
static void
put_template(FILE *f, const char *text, const struct tb_broker *b)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "@PORT@", 6) == 0) {
			fprintf(f, "%d", b->port);
			p += 5;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			fputs(b->dir, f);
			p += 4;
		} else if (strncmp(p, "@USER@", 6) == 0) {
			fputs(user_name(), f);
			p += 5;
		} else {
			fputc(*p, f);
		}
	}
}

int
tb_conf_demo(FILE *f, const struct tb_broker *b, void *ctx)
{
	char path[512];
	char *text;

	(void)ctx;
	text = tb_read_file(tb_src_path(path, sizeof(path),
	    "broker/mosquitto-demo.conf"), NULL);
	if (text == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	put_template(f, text, b);
	free(text);
	return 0;
}

/* Start mosquitto on b->port; 0 once it accepts, -1 if it died. */
static int
broker_launch(struct tb_broker *b)
{
	char out[320];
	char *argv[4];
	int64_t end;
	pid_t r;
	int st;

	snprintf(out, sizeof(out), "%s/mosquitto.out", b->dir);
	argv[0] = (char *)env_or("ICSENTRY_MOSQUITTO", "/usr/sbin/mosquitto");
	argv[1] = (char *)"-c";
	argv[2] = b->conf;
	argv[3] = NULL;
	b->pid = tb_spawn(argv, out);
	if (b->pid < 0) {
		b->pid = 0;
		return -1;
	}
	end = tb_now_ms() + 5000;
	while (tb_now_ms() < end) {
		r = waitpid(b->pid, &st, WNOHANG);
		if (r == b->pid) {
			b->pid = 0;
			return -1;
		}
		if (tb_port_open(b->port))
			return 0;
		tb_sleep_ms(10);
	}
	tb_stop_pid(b->pid, SIGKILL, 1000, NULL);
	b->pid = 0;
	return -1;
}

static int
write_conf(struct tb_broker *b)
{
	FILE *f;
	int rc;

	f = fopen(b->conf, "w");
	if (f == NULL)
		return -1;
	rc = b->fn(f, b, b->ctx);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int
tb_broker_start_with(struct tb_broker *b, tb_conf_fn fn, void *ctx)
{
	int tries;

	memset(b, 0, sizeof(*b));
	if (tb_tmpdir(b->dir, sizeof(b->dir), "mosq") != 0)
		return -1;
	snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
	b->fn = fn;
	b->ctx = ctx;
	/* The port may be taken between probing and binding: try others. */
	for (tries = 0; tries < 5; tries++) {
		b->port = tb_free_port();
		if (b->port <= 0 || write_conf(b) != 0)
			break;
		if (broker_launch(b) == 0)
			return 0;
	}
	fprintf(stderr, "mosquitto did not start (see %s/mosquitto.out and "
	    "%s)\n", b->dir, b->log);
	return -1;
}

int
tb_broker_start(struct tb_broker *b)
{
	return tb_broker_start_with(b, tb_conf_demo, NULL);
}

/*
 * SIGTERM, again every second, until mosquitto exits (30 s at most).
 * mosquitto 2.0.11 can lose a SIGTERM that comes right after it starts
 * listening: its handler clears the main loop's run flag before main()
 * sets it, and the broker runs on (CI: a check_mqtt_out test stopped the
 * broker its fixture had just started; 30 s later it was still autosaving
 * and had never logged "terminating").  Reproduced with three busy loops
 * beside it: SIGTERM as soon as the port accepts, 2 of 300 brokers still
 * up 5 s later, and both exited on a second SIGTERM.  A broker still
 * running after 30 s is killed and reported.
 */
int
tb_broker_stop(struct tb_broker *b)
{
	int64_t t0 = tb_now_ms(), next = t0;
	int rc = -1, st;
	pid_t r;

	if (b->pid <= 0)
		return 0;
	while (tb_now_ms() - t0 < 30000) {
		if (tb_now_ms() >= next) {
			kill(b->pid, SIGTERM);
			next += 1000;
		}
		r = waitpid(b->pid, &st, WNOHANG);
		if (r == b->pid || r < 0) {
			rc = r == b->pid ? 0 : -1;
			break;
		}
		tb_sleep_ms(10);
	}
	if (rc != 0 && kill(b->pid, SIGKILL) == 0)
		waitpid(b->pid, &st, 0);
	if (rc != 0)
		fprintf(stderr, "mosquitto (pid %d, port %d) did not exit %lld ms "
		    "after SIGTERM (killed); see %s\n", (int)b->pid, b->port,
		    (long long)(tb_now_ms() - t0), b->log);
	b->pid = 0;
	return rc;
}

int
tb_broker_kill(struct tb_broker *b)
{
	if (b->pid <= 0)
		return 0;
	tb_stop_pid(b->pid, SIGKILL, 5000, NULL);
	b->pid = 0;
	return 0;
}

int
tb_broker_restart(struct tb_broker *b)
{
	int64_t end;

	if (b->pid > 0)
		tb_broker_stop(b);
	end = tb_now_ms() + 5000;
	/* Same port: retry while the old socket lingers. */
	while (tb_now_ms() < end) {
		if (broker_launch(b) == 0)
			return 0;
		tb_sleep_ms(100);
	}
	fprintf(stderr, "mosquitto did not restart on port %d\n", b->port);
	return -1;
}

void
tb_broker_cleanup(struct tb_broker *b)
{
	tb_broker_stop(b);
	if (getenv("ICSENTRY_KEEP_TMP") == NULL)
		tb_rmtree(b->dir);
	else
		fprintf(stderr, "kept %s\n", b->dir);
}

const char *
tb_broker_uri(const struct tb_broker *b, char *buf, size_t len)
{
	snprintf(buf, len, "tcp://127.0.0.1:%d", b->port);
	return buf;
}

/* ---- Paho test client ------------------------------------------------- */

#define TB_MAX_MSGS	8192

struct tb_client {
	MQTTAsync		 h;
	struct tb_client_opts	 o;
	int			 v5;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done, rc;
	int			 connected;
	size_t			 n;
	struct tb_msg		*msgs[TB_MAX_MSGS];
};

static void
op_finish(struct tb_client *c, int rc)
{
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	c->rc = rc;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
op_start(struct tb_client *c)
{
	pthread_mutex_lock(&c->mu);
	c->done = 0;
	c->rc = -1;
	pthread_mutex_unlock(&c->mu);
}

static int
op_wait(struct tb_client *c, int timeout_ms)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->done)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0)
			break;
	rc = c->done ? c->rc : -1;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static void
on_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	int rc = 0;

	/* subscribe: the granted QoS, or the refusal reason */
	if (r != NULL && r->alt.sub.reasonCodeCount <= 1)
		rc = (int)r->reasonCode;
	op_finish(ctx, rc);
}

static void
on_ok5_plain(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	op_finish(ctx, 0);
}


static void
on_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	int rc = -1;

	if (r != NULL)
		rc = r->reasonCode != 0 ? (int)r->reasonCode :
		    (r->code != 0 ? r->code : -1);
	op_finish(ctx, rc);
}

static void
on_ok3(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	op_finish(ctx, 0);
}

static void
on_ok3_sub(void *ctx, MQTTAsync_successData *r)
{
	op_finish(ctx, r != NULL ? r->alt.qos : 0);
}

static void
on_fail3(void *ctx, MQTTAsync_failureData *r)
{
	op_finish(ctx, r != NULL && r->code != 0 ? r->code : -1);
}

static void
on_lost(void *ctx, char *cause)
{
	struct tb_client *c = ctx;

	(void)cause;
	pthread_mutex_lock(&c->mu);
	c->connected = 0;
	pthread_mutex_unlock(&c->mu);
}

static int
on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	struct tb_client *c = ctx;
	struct tb_msg *msg;

	msg = calloc(1, sizeof(*msg));
	if (msg != NULL) {
		msg->topic = tlen > 0 ? strndup(topic, (size_t)tlen) :
		    strdup(topic);
		msg->payload = malloc((size_t)m->payloadlen + 1);
		if (msg->payload != NULL) {
			memcpy(msg->payload, m->payload, (size_t)m->payloadlen);
			msg->payload[m->payloadlen] = '\0';
		}
		msg->len = m->payloadlen;
		msg->qos = m->qos;
		msg->retained = m->retained;
	}
	pthread_mutex_lock(&c->mu);
	if (msg != NULL && c->n < TB_MAX_MSGS)
		c->msgs[c->n++] = msg;
	else if (msg != NULL) {
		free(msg->topic);
		free(msg->payload);
		free(msg);
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

struct tb_client *
tb_client_new(const struct tb_client_opts *o)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	struct tb_client *c;
	int rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->o = *o;
	c->v5 = o->mqtt_version != 4;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	co.MQTTVersion = c->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	rc = MQTTAsync_createWithOptions(&c->h, o->uri, o->client_id,
	    MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "MQTTAsync_create %s: %s\n", o->uri,
		    MQTTAsync_strerror(rc));
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		return NULL;
	}
	MQTTAsync_setCallbacks(c->h, c, on_lost, on_message, NULL);
	return c;
}

int
tb_client_connect(struct tb_client *c, int timeout_ms)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty p;
	MQTTAsync_connectOptions *opts = c->v5 ? &co5 : &co;
	int rc;

	opts->keepAliveInterval = 20;
	opts->connectTimeout = (timeout_ms + 999) / 1000;
	opts->automaticReconnect = 0;
	opts->username = c->o.username;
	opts->password = c->o.password;
	opts->context = c;
	if (c->v5) {
		opts->cleanstart = c->o.clean;
		opts->onSuccess5 = on_ok5_plain;
		opts->onFailure5 = on_fail5;
		if (c->o.session_expiry > 0) {
			p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
			p.value.integer4 = (unsigned int)c->o.session_expiry;
			MQTTProperties_add(&props, &p);
			opts->connectProperties = &props;
		}
	} else {
		opts->cleansession = c->o.clean;
		opts->onSuccess = on_ok3;
		opts->onFailure = on_fail3;
	}
	if (c->o.ca_file != NULL || mqttconf_uri_is_tls(c->o.uri)) {
		ssl.trustStore = c->o.ca_file;
		ssl.keyStore = c->o.cert_file;
		ssl.privateKey = c->o.key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		opts->ssl = &ssl;
	}
	op_start(c);
	rc = MQTTAsync_connect(c->h, opts);
	if (rc != MQTTASYNC_SUCCESS) {
		MQTTProperties_free(&props);
		return rc != 0 ? rc : -1;
	}
	rc = op_wait(c, timeout_ms + 1000);
	MQTTProperties_free(&props);
	pthread_mutex_lock(&c->mu);
	c->connected = rc == 0;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int
tb_client_subscribe(struct tb_client *c, const char *filter, int qos,
    int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	ro.context = c;
	if (c->v5) {
		ro.onSuccess5 = on_ok5;
		ro.onFailure5 = on_fail5;
	} else {
		ro.onSuccess = on_ok3_sub;
		ro.onFailure = on_fail3;
	}
	op_start(c);
	rc = MQTTAsync_subscribe(c->h, filter, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		return -1;
	return op_wait(c, timeout_ms);
}

int
tb_client_publish(struct tb_client *c, const char *topic, const void *payload,
    int len, int qos, int retained, int timeout_ms)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	ro.context = c;
	if (c->v5) {
		ro.onSuccess5 = on_ok5_plain;
		ro.onFailure5 = on_fail5;
	} else {
		ro.onSuccess = on_ok3;
		ro.onFailure = on_fail3;
	}
	op_start(c);
	rc = MQTTAsync_send(c->h, topic, len, payload, qos, retained, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		return rc;
	return op_wait(c, timeout_ms);
}

size_t
tb_client_count(struct tb_client *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

int
tb_client_wait(struct tb_client *c, size_t n, int timeout_ms)
{
	int64_t end = tb_now_ms() + timeout_ms;

	while (tb_client_count(c) < n) {
		if (tb_now_ms() >= end)
			return -1;
		tb_sleep_ms(10);
	}
	return 0;
}

const struct tb_msg *
tb_client_msg(struct tb_client *c, size_t i)
{
	const struct tb_msg *m = NULL;

	pthread_mutex_lock(&c->mu);
	if (i < c->n)
		m = c->msgs[i];
	pthread_mutex_unlock(&c->mu);
	return m;
}

int
tb_client_connected(struct tb_client *c)
{
	int v;

	pthread_mutex_lock(&c->mu);
	v = c->connected && MQTTAsync_isConnected(c->h);
	pthread_mutex_unlock(&c->mu);
	return v;
}

void
tb_client_free(struct tb_client *c)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_disconnectOptions d5 =
	    MQTTAsync_disconnectOptions_initializer5;
	size_t i;

	if (c == NULL)
		return;
	if (MQTTAsync_isConnected(c->h)) {
		MQTTAsync_disconnectOptions *o = c->v5 ? &d5 : &d;

		o->timeout = 1000;
		o->context = c;
		if (c->v5) {
			o->onSuccess5 = on_ok5_plain;
			o->onFailure5 = on_fail5;
		} else {
			o->onSuccess = on_ok3;
			o->onFailure = on_fail3;
		}
		op_start(c);
		if (MQTTAsync_disconnect(c->h, o) == MQTTASYNC_SUCCESS)
			op_wait(c, 2000);
	}
	MQTTAsync_destroy(&c->h);
	for (i = 0; i < c->n; i++) {
		free(c->msgs[i]->topic);
		free(c->msgs[i]->payload);
		free(c->msgs[i]);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

/* ---- pulse ------------------------------------------------------------ */

static struct {
	pthread_t		 th;
	volatile int		 run;
	struct tb_client	*c;
	char			 topic[128];
} pulse;

static void *
pulse_main(void *arg)
{
	int up = 1;

	(void)arg;
	while (pulse.run) {
		if (!MQTTAsync_isConnected(pulse.c->h))
			up = tb_client_connect(pulse.c, 2000) == 0;
		/* QoS 1: the broker's PUBACK is what wakes the thread up */
		if (up)
			MQTTAsync_send(pulse.c->h, pulse.topic, 1, "p", 1, 0,
			    NULL);
		tb_sleep_ms(up ? 30 : 100);
	}
	return NULL;
}

int
tb_pulse_start(const struct tb_client_opts *o, const char *topic)
{
	memset(&pulse, 0, sizeof(pulse));
	snprintf(pulse.topic, sizeof(pulse.topic), "%s", topic);
	pulse.c = tb_client_new(o);
	if (pulse.c == NULL || tb_client_connect(pulse.c, 3000) != 0) {
		fprintf(stderr, "pulse: cannot connect for %s\n", topic);
		tb_pulse_stop();
		return -1;
	}
	pulse.run = 1;
	if (pthread_create(&pulse.th, NULL, pulse_main, NULL) != 0) {
		pulse.run = 0;
		tb_pulse_stop();
		return -1;
	}
	return 0;
}

void
tb_pulse_stop(void)
{
	if (pulse.run) {
		pulse.run = 0;
		pthread_join(pulse.th, NULL);
	}
	tb_client_free(pulse.c);
	memset(&pulse, 0, sizeof(pulse));
}

/* ---- 3.1.1-only gate -------------------------------------------------- */

struct tb_gate {
	int			 lfd, port, broker_port;
	pthread_t		 th;
	atomic_int		 run, refused, relayed, live;
};

struct gate_conn {
	struct tb_gate	*g;
	int		 cfd;
};

/* Read exactly n bytes within the gate's life (poll, 100 ms ticks). */
static int
gate_read(struct tb_gate *g, int fd, unsigned char *buf, size_t n)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t r;

	while (got < n && atomic_load(&g->run)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return got == n ? 0 : -1;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy both ways until either side closes or the gate stops. */
static void
gate_pump(struct tb_gate *g, int a, int b)
{
	struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
	unsigned char buf[16384];
	ssize_t r;
	int i;

	while (atomic_load(&g->run)) {
		if (poll(p, 2, 100) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (p[i].revents == 0)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r <= 0 || write_all(p[1 - i].fd, buf, (size_t)r) != 0)
				return;
		}
	}
}

static void *
gate_conn_main(void *arg)
{
	struct gate_conn *gc = arg;
	struct tb_gate *g = gc->g;
	/* fixed header (1) + remaining length (1..4) + protocol name (6) +
	 * level (1): enough of a CONNECT to see the version */
	unsigned char head[16];
	static const unsigned char refuse[] = { 0x20, 0x02, 0x00, 0x01 };
	struct sockaddr_in sa;
	size_t n = 0;
	int bfd = -1;

	if (gate_read(g, gc->cfd, head, 2) != 0 || head[0] != 0x10)
		goto out;
	n = 2;
	while ((head[n - 1] & 0x80) != 0 && n < 5) {
		if (gate_read(g, gc->cfd, head + n, 1) != 0)
			goto out;
		n++;
	}
	if (gate_read(g, gc->cfd, head + n, 7) != 0)
		goto out;
	n += 7;
	if (head[n - 1] == 5) {
		(void)write_all(gc->cfd, refuse, sizeof(refuse));
		atomic_fetch_add(&g->refused, 1);
		goto out;
	}
	bfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g->broker_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bfd < 0 || connect(bfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write_all(bfd, head, n) != 0)
		goto out;
	atomic_fetch_add(&g->relayed, 1);
	gate_pump(g, gc->cfd, bfd);
out:
	if (bfd >= 0)
		close(bfd);
	close(gc->cfd);
	free(gc);
	atomic_fetch_sub(&g->live, 1);
	return NULL;
}

static void *
gate_main(void *arg)
{
	struct tb_gate *g = arg;
	struct pollfd p = { g->lfd, POLLIN, 0 };
	struct gate_conn *gc;
	pthread_t th;
	int fd;

	while (atomic_load(&g->run)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		gc = malloc(sizeof(*gc));
		if (gc == NULL) {
			close(fd);
			continue;
		}
		gc->g = g;
		gc->cfd = fd;
		atomic_fetch_add(&g->live, 1);
		if (pthread_create(&th, NULL, gate_conn_main, gc) != 0) {
			atomic_fetch_sub(&g->live, 1);
			close(fd);
			free(gc);
			continue;
		}
		pthread_detach(th);
	}
	return NULL;
}

struct tb_gate *
tb_gate_v311_start(int broker_port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct tb_gate *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->broker_port = broker_port;
	g->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (g->lfd < 0 || bind(g->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(g->lfd, 16) != 0 ||
	    getsockname(g->lfd, (struct sockaddr *)&sa, &sl) != 0) {
		fprintf(stderr, "gate: %s\n", strerror(errno));
		if (g->lfd >= 0)
			close(g->lfd);
		free(g);
		return NULL;
	}
	g->port = ntohs(sa.sin_port);
	atomic_store(&g->run, 1);
	if (pthread_create(&g->th, NULL, gate_main, g) != 0) {
		close(g->lfd);
		free(g);
		return NULL;
	}
	return g;
}

int
tb_gate_port(const struct tb_gate *g)
{
	return g->port;
}

int
tb_gate_refused(struct tb_gate *g)
{
	return atomic_load(&g->refused);
}

int
tb_gate_relayed(struct tb_gate *g)
{
	return atomic_load(&g->relayed);
}

void
tb_gate_stop(struct tb_gate *g)
{
	int i;

	if (g == NULL)
		return;
	atomic_store(&g->run, 0);
	pthread_join(g->th, NULL);
	close(g->lfd);
	/* the connection threads notice within one poll tick */
	for (i = 0; i < 100 && atomic_load(&g->live) > 0; i++)
		tb_sleep_ms(20);
	free(g);
}

/* ---- chained alerts --------------------------------------------------- */

void
tb_chain_init(struct tb_chain *c, const char *site, const char *agent,
    int64_t first_seq)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->site, sizeof(c->site), "%s", site);
	snprintf(c->agent, sizeof(c->agent), "%s", agent);
	c->next_seq = first_seq;
	memcpy(c->prev, CHAIN_GENESIS, sizeof(c->prev));
	/* 2026-11-23T08:00:00Z */
	c->base_us = INT64_C(1795420800) * 1000000;
}

static const char *
or_def(const char *v, const char *def)
{
	return v != NULL ? v : def;
}

char *
tb_chain_next(struct tb_chain *c, const struct tb_alert_spec *spec)
{
	static const struct tb_alert_spec none;
	char ts[CENTRAL_LOG_TIME_LEN], tech[32], hash[CHAIN_HEX_LEN + 1];
	char *body = NULL, *out = NULL;
	const char *t;
	int n;

	if (spec == NULL)
		spec = &none;
	central_log_format_time(c->base_us + c->next_seq * 1000000 + 123456,
	    ts);
	t = or_def(spec->technique, "T0858");
	if (t[0] == '\0')
		snprintf(tech, sizeof(tech), "null");
	else
		snprintf(tech, sizeof(tech), "\"%s\"", t);
	/* body: the object up to (not including) its hash member */
	n = asprintf(&body,
	    "{\"agent\":\"%s\",\"site\":\"%s\",\"seq\":%lld,\"ts\":\"%s\","
	    "\"severity\":\"%s\",\"detector\":\"%s\",\"technique\":%s,"
	    "\"title\":\"test alert %lld\",\"proto\":\"%s\","
	    "\"src\":{\"ip\":\"%s\",\"port\":49152,\"mac\":\"02:00:00:00:00:42\"},"
	    "\"dst\":{\"ip\":\"%s\",\"port\":102,\"mac\":\"02:00:00:00:00:10\"},"
	    "\"details\":{\"n\":%lld},\"prev_hash\":\"%s\"}",
	    c->agent, c->site, (long long)c->next_seq, ts,
	    or_def(spec->severity, "high"),
	    or_def(spec->detector, "s7.plc_stop"), tech,
	    (long long)c->next_seq, or_def(spec->proto, "s7comm"),
	    or_def(spec->src_ip, "10.0.0.66"), or_def(spec->dst_ip, "10.0.0.10"),
	    (long long)c->next_seq, c->prev);
	if (n < 0)
		return NULL;
	if (chain_hash(c->prev, body, (size_t)n, hash) != 0) {
		free(body);
		return NULL;
	}
	body[n - 1] = '\0';	/* drop the closing brace */
	if (asprintf(&out, "%s,\"hash\":\"%s\"}", body, hash) < 0)
		out = NULL;
	free(body);
	if (out != NULL) {
		memcpy(c->prev, hash, sizeof(c->prev));
		c->next_seq++;
	}
	return out;
}
