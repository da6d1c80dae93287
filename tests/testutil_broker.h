/*
 * testutil_broker.h - test helpers for the MQTT path: a real mosquitto on
 * a free loopback port, a small Paho test client, chained test alerts.
 *
 * Nothing here is a mock: the broker is /usr/sbin/mosquitto (override with
 * env ICSENTRY_MOSQUITTO), the client is Paho MQTTAsync, and the alerts are
 * hashed with agent/chain.h.  Binaries are looked up in env ICSENTRY_BUILD
 * (default "build"), source files relative to env ICSENTRY_SRC (default
 * the current directory).  All helpers return 0 on success, -1 on failure
 * with a line on stderr, and bound every wait.
 */
#ifndef ICSENTRY_TESTS_TESTUTIL_BROKER_H
#define ICSENTRY_TESTS_TESTUTIL_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- paths and processes ---------------------------------------------- */

/* "$ICSENTRY_BUILD/name" into buf. */
const char	*tb_build_path(char *buf, size_t len, const char *name);
/* "$ICSENTRY_SRC/name" into buf. */
const char	*tb_src_path(char *buf, size_t len, const char *name);

/* A fresh private directory under $TMPDIR; tb_rmtree removes it. */
int	tb_tmpdir(char *buf, size_t len, const char *tag);
void	tb_rmtree(const char *path);

/*
 * Start argv[0] (a path) with stdout and stderr appended to out_file
 * (NULL: /dev/null).  Returns the pid or -1.
 */
pid_t	tb_spawn(char *const argv[], const char *out_file);
/* Signal and reap pid within timeout_ms (then SIGKILL); the exit status in
 * *status (waitpid form) when not NULL.  0, or -1 if it had to be killed. */
int	tb_stop_pid(pid_t pid, int sig, int timeout_ms, int *status);
/* Run argv to completion (bounded); its exit code, or -1. */
int	tb_run(char *const argv[], const char *out_file, int timeout_ms);

/* Is there something accepting TCP on 127.0.0.1:port? */
int	tb_port_open(int port);
/* A port that was free on 127.0.0.1 a moment ago. */
int	tb_free_port(void);

/* Whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char	*tb_read_file(const char *path, size_t *len);
/* Occurrences of text in the file (0 when it does not exist). */
int	tb_file_count(const char *path, const char *text);
/* Poll for up to timeout_ms until file contains text (n times): 0 or -1. */
int	tb_wait_file_contains(const char *path, const char *text, int timeout_ms);
int	tb_wait_file_count(const char *path, const char *text, int n,
	    int timeout_ms);

void	tb_sleep_ms(int ms);
int64_t	tb_now_ms(void);

/* ---- mosquitto -------------------------------------------------------- */

struct tb_broker;
/* Write the broker's whole config to f (port and dir in b are set). */
typedef int (*tb_conf_fn)(FILE *f, const struct tb_broker *b, void *ctx);

struct tb_broker {
	pid_t		 pid;		/* 0 when not running */
	int		 port;		/* first listener, 127.0.0.1 */
	char		 dir[256];	/* private: conf, persistence, log */
	char		 conf[300];
	char		 log[300];
	tb_conf_fn	 fn;
	void		*ctx;
};

/*
 * Start a broker with the config from broker/mosquitto-demo.conf (@PORT@,
 * @DIR@ and @USER@ filled in).  Waits until it accepts connections.
 */
int	tb_broker_start(struct tb_broker *b);
/* The same with a config written by fn; retries on another port if the
 * chosen one was taken meanwhile. */
int	tb_broker_start_with(struct tb_broker *b, tb_conf_fn fn, void *ctx);
/* SIGTERM and wait: mosquitto saves its persistence file on the way out. */
int	tb_broker_stop(struct tb_broker *b);
/* Start again on the same port with the same config and persistence. */
int	tb_broker_restart(struct tb_broker *b);
/* SIGKILL: no chance to save anything. */
int	tb_broker_kill(struct tb_broker *b);
/* Stop if running and remove the directory. */
void	tb_broker_cleanup(struct tb_broker *b);
/* "tcp://127.0.0.1:<port>" */
const char *tb_broker_uri(const struct tb_broker *b, char *buf, size_t len);
/* Write a demo-template config (for tb_broker_start_with). */
int	tb_conf_demo(FILE *f, const struct tb_broker *b, void *ctx);

/* ---- a Paho test client ----------------------------------------------- */

struct tb_msg {
	char	*topic;
	char	*payload;	/* NUL-terminated copy */
	int	 len;
	int	 qos, retained;
};

struct tb_client_opts {
	const char	*uri;
	const char	*client_id;
	int		 mqtt_version;	/* 5 (default when 0) or 4 */
	int		 clean;		/* clean start/session */
	int		 session_expiry;	/* v5, seconds */
	const char	*ca_file, *cert_file, *key_file;	/* ssl:// */
	const char	*username, *password;
};

struct tb_client;

struct tb_client *tb_client_new(const struct tb_client_opts *o);
/*
 * Connect and wait.  0 when connected; otherwise a non-zero code (the
 * MQTT reason code or the Paho error).
 */
int	tb_client_connect(struct tb_client *c, int timeout_ms);
/* Subscribe and wait: the granted QoS (0..2), a reason code >= 0x80, or
 * -1 when the request failed. */
int	tb_client_subscribe(struct tb_client *c, const char *filter, int qos,
	    int timeout_ms);
/* Publish and wait for completion (PUBACK for QoS 1): 0, or the failure
 * reason code (>= 0x80) / Paho error.  (Paho 1.3 does not pass on success
 * class reasons such as 0x10 "no matching subscribers".) */
int	tb_client_publish(struct tb_client *c, const char *topic,
	    const void *payload, int len, int qos, int retained,
	    int timeout_ms);
/* Messages received so far (thread-safe). */
size_t	tb_client_count(struct tb_client *c);
/* Wait until at least n messages arrived: 0, or -1 on timeout. */
int	tb_client_wait(struct tb_client *c, size_t n, int timeout_ms);
/* Message i (< count); stays valid until tb_client_free. */
const struct tb_msg *tb_client_msg(struct tb_client *c, size_t i);
int	tb_client_connected(struct tb_client *c);
/* Disconnect (when connected), destroy, free.  Accepts NULL. */
void	tb_client_free(struct tb_client *c);

/*
 * Paho 1.3 serves every client of a process from one receive thread that
 * sleeps up to a second in poll(): a second client's CONNECT (or a
 * client's reconnect) waits for that sleep to end.  A pulse (one client
 * publishing QoS 1 on topic every 30 ms: each PUBACK wakes the thread)
 * keeps tests from being paced by it.  The identity needs write access
 * to topic only.  The pulse reconnects by itself after a broker restart.
 * Start it before other clients and never before a fork().
 */
int	tb_pulse_start(const struct tb_client_opts *o, const char *topic);
void	tb_pulse_stop(void);

/* ---- a 3.1.1-only front for the real broker ---------------------------- */

/*
 * A loopback TCP relay in front of a real broker that behaves like a
 * broker without MQTT 5: a CONNECT with protocol level 5 gets the 3.1.1
 * answer (CONNACK return code 1, "unacceptable protocol version") and the
 * connection is closed; any other connection is relayed byte for byte to
 * 127.0.0.1:broker_port.  NULL when it cannot listen.
 */
struct tb_gate;

struct tb_gate	*tb_gate_v311_start(int broker_port);
/* The port it listens on (127.0.0.1). */
int	tb_gate_port(const struct tb_gate *g);
/* CONNECTs refused for asking for MQTT 5, and connections relayed. */
int	tb_gate_refused(struct tb_gate *g);
int	tb_gate_relayed(struct tb_gate *g);
/* Close the listener and every relayed connection; accepts NULL. */
void	tb_gate_stop(struct tb_gate *g);

/* ---- chained test alerts ---------------------------------------------- */

/* One agent's chain: hands out alerts with seq, seq + 1, ... */
struct tb_chain {
	char	site[64], agent[64];
	int64_t	next_seq;
	char	prev[65];
	int64_t	base_us;	/* ts of seq 0; each seq one second later */
};

/* The chain starts at first_seq with the genesis prev_hash. */
void	tb_chain_init(struct tb_chain *c, const char *site, const char *agent,
	    int64_t first_seq);

/* Optional members of the next alert; NULL fields get defaults. */
struct tb_alert_spec {
	const char	*severity;	/* "high" */
	const char	*detector;	/* "s7.plc_stop" */
	const char	*technique;	/* "T0858"; "" gives null */
	const char	*proto;		/* "s7comm" */
	const char	*src_ip;	/* "10.0.0.66" */
	const char	*dst_ip;	/* "10.0.0.10" */
};

/*
 * The next alert of the chain as malloc'd JSON text (hash last member,
 * DESIGN.md layout); spec may be NULL.  Advances the chain.
 */
char	*tb_chain_next(struct tb_chain *c, const struct tb_alert_spec *spec);

#endif
