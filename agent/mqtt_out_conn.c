/*
 * mqtt_out_conn.c - the MQTT publisher's connection: Paho callbacks (Paho's
 * threads: qmu at most, never hmu), the Paho client and the supervisor
 * thread that connects, subscribes and feeds the queue.  See mqtt_out.c.
 */

#include "agent/mqtt_out_int.h"
#include <MQTTAsync.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/mqttconf.h"

/* ---- Paho callbacks (Paho's threads: qmu at most, never hmu) ---------- */

/* Acknowledged (refused: the broker answered, and will never take it). */
static void
settle(struct sendctx *c, bool refused)
{
	struct mqtt_out *m = c->m;
	struct qmsg *q;

	bool count = false;

	pthread_mutex_lock(&m->qmu);
	q = mqtt_out_index_find(m, c->qseq);
	if (q != NULL && !refused && q->alert && !q->counted && q->t_us > 0)
		mqtt_out_lat_add(&m->lat_brokered, mqtt_out_now_us() - q->t_us);
	if (q != NULL && q->acked) {
		/* the central ack came first; now Paho is done with it */
		count = !q->counted;
		mqtt_out_drop_msg(m, q);
	} else if (q != NULL && !refused && q->aseq >= 0) {
		/* the broker has it; the central log's ack will settle it */
		if (q->inflight) {
			q->inflight = false;
			m->ninflight--;
		}
		mqtt_out_set_brokered(m, q, true);
		q->brokered_ms = mqtt_out_now_ms();
		/* a resend reads it back from the journal */
		if (q->seg != NULL && q->payload != NULL) {
			free(q->payload);
			q->payload = NULL;
			m->nmem--;
		}
		count = !q->counted;
		q->counted = true;
	} else if (q != NULL) {
		count = refused || !q->counted;
		mqtt_out_drop_msg(m, q);
	}
	pthread_mutex_unlock(&m->qmu);
	if (count)
		atomic_fetch_add(refused ? &m->refused : &m->delivered, 1);
	free(c);
	mqtt_out_kick(m);
}

/*
 * The central log holds every alert up to seq (a collector's retained
 * ack): they leave the queue and the journal.  Any ack also means the
 * subscription works, so sending may go on.
 */
void
mqtt_out_on_ack(void *arg, const char *topic, const void *payload, size_t len)
{
	struct mqtt_out *m = arg;
	const char *p = payload;
	struct qmsg *q, *next;
	int64_t v = 0;
	size_t i, n = 0;

	(void)topic;
	if (len == 0 || len > 18)
		return;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return;
		v = v * 10 + (p[i] - '0');
	}
	pthread_mutex_lock(&m->qmu);
	if (v > m->ack_seq) {
		m->ack_seq = v;
		m->resend_ms = m->ack_timeout_ms;
		m->next_stuck_check_ms = mqtt_out_now_ms() + m->resend_ms;
	}
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		/* alerts queued in seq order: none past this one is covered */
		if (q->aseq > v && !m->aseq_unsorted)
			break;
		if (q->aseq < 0 || q->aseq > v || !q->durable || q->acked)
			continue;
		n++;
		if (q->inflight) {
			/* Paho still holds its topic and payload: settle()
			 * or unsettle() frees it */
			q->acked = true;
			continue;
		}
		mqtt_out_drop_msg(m, q);
	}
	pthread_mutex_unlock(&m->qmu);
	if (n > 0)
		atomic_fetch_add(&m->acked, n);
	atomic_store(&m->pump_after_ms, 0);
	mqtt_out_kick(m);
}

/* MQTT filter matching: '+' one level, '#' the rest. */
static bool
topic_matches(const char *f, const char *t)
{
	for (;;) {
		if (f[0] == '#' && f[1] == '\0')
			return true;
		if (f[0] == '+') {
			while (*t != '\0' && *t != '/')
				t++;
			f++;
		} else {
			while (*f != '\0' && *f != '/' && *f == *t) {
				f++;
				t++;
			}
			if ((*f == '\0' || *f == '/') != (*t == '\0' ||
			    *t == '/'))
				return false;
		}
		if (*f == '\0' || *t == '\0')
			return *f == '\0' && *t == '\0';
		if (*f != '/' || *t != '/')
			return false;
		f++;
		t++;
		/* "a/#" also matches "a" itself: handled by the caller's
		 * topics always having the level */
	}
}

static int
on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *msg)
{
	struct mqtt_out *m = ctx;
	struct sub hit[MQTT_OUT_MAX_SUBS];
	char *t;
	int i, n = 0;

	t = tlen > 0 ? strndup(topic, (size_t)tlen) : strdup(topic);
	if (t != NULL) {
		pthread_mutex_lock(&m->smu);
		for (i = 0; i < m->nsubs; i++)
			if (topic_matches(m->subs[i].filter, t))
				hit[n++] = m->subs[i];
		pthread_mutex_unlock(&m->smu);
		for (i = 0; i < n; i++)
			hit[i].cb(hit[i].arg, t, msg->payload,
			    msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
		free(t);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* Not sent or not answered: back to waiting, re-sent on the next client. */
static void
unsettle(struct sendctx *c)
{
	struct mqtt_out *m = c->m;
	struct qmsg *q;

	pthread_mutex_lock(&m->qmu);
	q = mqtt_out_index_find(m, c->qseq);
	if (q != NULL && q->acked) {
		mqtt_out_drop_msg(m, q);
	} else if (q != NULL && q->inflight) {
		q->inflight = false;
		m->ninflight--;
		mqtt_out_rewind(m, q);
	}
	pthread_mutex_unlock(&m->qmu);
	/* a write that failed mid-way: this client must not be reused */
	atomic_store(&m->need_new_client, true);
	free(c);
	mqtt_out_kick(m);
}

static void
on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	settle(ctx, false);
}

static void
on_pub_ok3(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	settle(ctx, false);
}

static void
on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct sendctx *c = ctx;
	struct mqtt_out *m = c->m;
	uint_fast64_t n;

	/* A PUBACK refusal (ACL, quota): the broker will never take it. */
	if (r != NULL && r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		n = atomic_load(&m->refused) + 1;
		if (n == 1 || n % 100 == 0)
			mqtt_out_say(m, "broker refused a publish: %s (%llu so far)",
			    MQTTReasonCode_toString(r->reasonCode),
			    (unsigned long long)n);
		settle(c, true);
		return;
	}
	unsettle(c);
}

static void
on_pub_fail3(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	unsettle(ctx);
}

/* The next connect attempt after a failure: 1 s, doubling to the max. */
static void
back_off(struct mqtt_out *m)
{
	int b = atomic_load(&m->backoff_ms);

	atomic_store(&m->next_attempt_ms, mqtt_out_now_ms() + b);
	atomic_store(&m->backoff_ms, b * 2 < m->reconnect_max_ms ? b * 2 :
	    m->reconnect_max_ms);
}

static void
on_connected(void *ctx, char *cause)
{
	struct mqtt_out *m = ctx;
	uint_fast64_t n;

	(void)cause;
	atomic_store(&m->up_since_ms, mqtt_out_now_ms());
	atomic_store(&m->answered_at_up, mqtt_out_answered(m));
	atomic_store(&m->backoff_ms, 1000);
	atomic_store(&m->connected, 1);
	atomic_store(&m->connecting, 0);
	n = atomic_fetch_add(&m->connects, 1);
	pthread_mutex_lock(&m->log_mu);
	m->last_fail[0] = '\0';
	pthread_mutex_unlock(&m->log_mu);
	mqtt_out_say(m, "%s %s (MQTT %s)", n == 0 ? "connected to" : "reconnected to",
	    m->uri, atomic_load(&m->v5) ? "5" : "3.1.1");
	/* alerts wait for the ack subscription (see the top of the file) */
	if (m->central_ack)
		atomic_store(&m->pump_after_ms, INT64_MAX);
	pthread_mutex_lock(&m->qmu);
	m->next_stuck_check_ms = mqtt_out_now_ms() + m->resend_ms;
	pthread_mutex_unlock(&m->qmu);
	atomic_store(&m->want_subscribe, true);
	atomic_store(&m->want_online, true);
	mqtt_out_kick(m);
}

/*
 * The connection went down.  A broker that closes every connection soon
 * after it opens, before a single message was acknowledged, holds the
 * queue hostage while looking "reconnected" each time: say so, loudly and
 * with the backlog, so the operator looks in the broker's log (size limit,
 * broken packet) instead of at a quiet stall.  Returns 1 when it said so.
 */
static int
went_down(struct mqtt_out *m)
{
	size_t queued;
	int n = 0;

	atomic_store(&m->connected, 0);
	atomic_store(&m->connecting, 0);
	atomic_store(&m->need_new_client, true);
	queued = mqtt_out_queue_len(m);
	if (mqtt_out_now_ms() - atomic_load(&m->up_since_ms) < MQTT_OUT_FRUITLESS_MS &&
	    mqtt_out_answered(m) == atomic_load(&m->answered_at_up) &&
	    queued > 0)
		n = atomic_fetch_add(&m->fruitless, 1) + 1;
	else
		atomic_store(&m->fruitless, 0);
	if (n >= 3 && (n == 3 || n % 20 == 0)) {
		mqtt_out_say(m, "%s closed %d connections in a row before acknowledging "
		    "anything; %zu message(s) wait%s; see the broker's log",
		    m->uri, n, queued, m->jdir != NULL ? " in persist_dir" : "");
		return 1;
	}
	return 0;
}

static void
on_lost(void *ctx, char *cause)
{
	struct mqtt_out *m = ctx;

	if (!went_down(m))
		mqtt_out_say(m, "connection to %s lost (%s); buffering", m->uri,
		    cause != NULL ? cause : "closed by the broker");
	/* the broker may be restarting: first retry after a second */
	atomic_store(&m->next_attempt_ms, mqtt_out_now_ms() + 1000);
	mqtt_out_kick(m);
}

/*
 * Paho reports a connection the broker closed right after CONNACK as a
 * failed connect, after on_connected: the same as a lost connection.
 */
static void
connect_failed(struct mqtt_out *m)
{
	if (atomic_load(&m->connected))
		(void)went_down(m);
	atomic_store(&m->connecting, 0);
	atomic_store(&m->need_new_client, true);
}

static void
on_connect_fail3(void *ctx, MQTTAsync_failureData *r)
{
	struct mqtt_out *m = ctx;

	connect_failed(m);
	mqtt_out_say_failure(m, r != NULL && r->message != NULL ? r->message :
	    MQTTAsync_strerror(r != NULL ? r->code : MQTTASYNC_FAILURE));
	back_off(m);
	mqtt_out_kick(m);
}

void
mqtt_out_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;

	connect_failed(m);
	/*
	 * A 3.1.1 broker answers a v5 CONNECT with return code 1
	 * ("unacceptable protocol version"), a v5 one with reason 0x84.
	 */
	if (atomic_load(&m->allow_fallback) && r != NULL &&
	    (r->reasonCode == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION ||
	    r->code == 1)) {
		atomic_store(&m->allow_fallback, false);
		mqtt_out_say(m, "%s refused MQTT 5; using 3.1.1", m->uri);
		atomic_store(&m->fallback_wanted, true);
		atomic_store(&m->next_attempt_ms, mqtt_out_now_ms());
		mqtt_out_kick(m);
		return;
	}
	mqtt_out_say_failure(m, r == NULL ? "unknown error" : r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : r->message != NULL ?
	    r->message : MQTTAsync_strerror(r->code));
	back_off(m);
	mqtt_out_kick(m);
}

void
mqtt_out_use_v311(struct mqtt_out *m)
{
	m->conn.MQTTVersion = MQTTVERSION_3_1_1;
	m->conn.cleanstart = 0;
	m->conn.cleansession = 0;	/* keep the session, as with v5 */
	m->conn.connectProperties = NULL;
	m->conn.onSuccess5 = NULL;
	m->conn.onFailure5 = NULL;
	m->conn.onFailure = on_connect_fail3;
	atomic_store(&m->v5, false);
}

/* ---- the Paho client and the supervisor ------------------------------- */

/*
 * A fresh Paho client: no persistence (the journal is ours), nothing
 * buffered while disconnected (we only feed it while connected).  A v5
 * client stays one after a fallback to 3.1.1.
 */
int
mqtt_out_create_client(struct mqtt_out *m, MQTTAsync *h, char *err, size_t errlen)
{
	MQTTAsync_createOptions co5 = MQTTAsync_createOptions_initializer5;
	MQTTAsync_createOptions co3 = MQTTAsync_createOptions_initializer;
	MQTTAsync_createOptions *co = m->create_version == 5 ? &co5 : &co3;
	int rc;

	co->sendWhileDisconnected = 0;
	rc = MQTTAsync_createWithOptions(h, m->uri, m->client_id,
	    MQTTCLIENT_PERSISTENCE_NONE, NULL, co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "%s: %s", m->uri, MQTTAsync_strerror(rc));
		*h = NULL;
		return IDS_EIO;
	}
	MQTTAsync_setCallbacks(*h, m, on_lost, on_message, NULL);
	MQTTAsync_setConnected(*h, m, on_connected);
	return 0;
}

/* Destroy the client (its callbacks put in-flight messages back) and make
 * a new one. */
static void
renew_client(struct mqtt_out *m)
{
	MQTTAsync old;
	struct qmsg *q, *next;
	char err[300];

	pthread_mutex_lock(&m->hmu);
	old = m->h;
	m->h = NULL;
	pthread_mutex_unlock(&m->hmu);
	if (old != NULL)
		MQTTAsync_destroy(&old);
	/* whatever Paho did not answer is waiting again */
	pthread_mutex_lock(&m->qmu);
	for (q = m->head; q != NULL; q = next) {
		next = q->next;
		q->inflight = false;
		if (q->acked) {
			mqtt_out_drop_msg(m, q);
			continue;
		}
		/* the broker may have lost it (restart without persistence,
		 * a bridge's queue): unless acked meanwhile, it goes again */
		if (q->brokered) {
			mqtt_out_set_brokered(m, q, false);
			atomic_fetch_add(&m->resent, 1);
		}
	}
	m->ninflight = 0;
	m->scan = m->head;
	pthread_mutex_unlock(&m->qmu);
	if (mqtt_out_create_client(m, &old, err, sizeof(err)) != 0) {
		mqtt_out_say(m, "cannot create a client: %s; retrying", err);
		back_off(m);
		return;
	}
	pthread_mutex_lock(&m->hmu);
	m->h = old;
	pthread_mutex_unlock(&m->hmu);
	atomic_store(&m->need_new_client, false);
}

/* Hand one message to Paho (hmu held).  MQTTASYNC_* code. */
static int
send_locked(struct mqtt_out *m, const char *topic, const void *p, int len,
    int qos, int retained, struct sendctx *c)
{
	MQTTAsync_responseOptions ro;
	int rc, tries;

	/*
	 * Paho wants the callback flavour of the protocol the client last
	 * connected with: on a refusal, the other one (a v5 client that fell
	 * back to 3.1.1).
	 */
	for (tries = 0; tries < 2; tries++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		ro.context = c;
		if (c != NULL && atomic_load(&m->v5) == (tries == 0)) {
			ro.onSuccess5 = on_pub_ok5;
			ro.onFailure5 = on_pub_fail5;
		} else if (c != NULL) {
			ro.onSuccess = on_pub_ok3;
			ro.onFailure = on_pub_fail3;
		}
		rc = MQTTAsync_send(m->h, topic, len, len > 0 ? p : "", qos,
		    retained, &ro);
		if (rc != MQTTASYNC_BAD_MQTT_OPTION || c == NULL)
			break;
	}
	return rc;
}

/* Feed Paho while connected: oldest waiting first, within the window. */
static void
pump_window(struct mqtt_out *m)
{
	struct sendctx *c;
	struct qmsg *q;
	int rc;

	if (mqtt_out_now_ms() < atomic_load(&m->pump_after_ms))
		return;
	while (atomic_load(&m->connected) && !atomic_load(&m->stop)) {
		pthread_mutex_lock(&m->qmu);
		for (q = m->scan; q != NULL && (q->inflight || q->brokered ||
		    q->acked); q = q->next)
			;
		m->scan = q;
		/* in order: never past one the disk does not hold yet */
		if (q == NULL || !q->durable ||
		    m->ninflight >= MQTT_OUT_WINDOW) {
			pthread_mutex_unlock(&m->qmu);
			return;
		}
		/* in flight first: unspill reads without qmu */
		q->inflight = true;
		m->ninflight++;
		if (q->payload == NULL && mqtt_out_unspill(m, q) != 0) {
			q->inflight = false;
			m->ninflight--;
			pthread_mutex_unlock(&m->qmu);
			mqtt_out_say(m, "cannot read a spilled message back from %s",
			    m->jdir);
			return;
		}
		pthread_mutex_unlock(&m->qmu);
		/* only settle() frees q, and only after this send */
		c = malloc(sizeof(*c));
		rc = MQTTASYNC_FAILURE;
		if (c != NULL) {
			c->m = m;
			c->qseq = q->qseq;
			pthread_mutex_lock(&m->hmu);
			rc = m->h != NULL ? send_locked(m, q->topic, q->payload,
			    q->len, 1, q->retained, c) : MQTTASYNC_DISCONNECTED;
			pthread_mutex_unlock(&m->hmu);
		}
		if (rc != MQTTASYNC_SUCCESS) {
			free(c);
			pthread_mutex_lock(&m->qmu);
			if (q->inflight) {
				q->inflight = false;
				m->ninflight--;
				mqtt_out_rewind(m, q);
			}
			pthread_mutex_unlock(&m->qmu);
			return;		/* disconnected meanwhile */
		}
	}
}

/*
 * The read fd unspill keeps serves one call's run of spilled messages:
 * between calls the agent holds no fd it did not hold before (the soak
 * test counts them).
 */
static void
pump(struct mqtt_out *m)
{
	pump_window(m);
	pthread_mutex_lock(&m->qmu);
	mqtt_out_unspill_end(m);
	pthread_mutex_unlock(&m->qmu);
}

static void
send_online(struct mqtt_out *m)
{
	/* retained, so a SOC operator subscribing later still sees it; QoS 0:
	 * a connection that dies first gets its own on the next connect */
	pthread_mutex_lock(&m->hmu);
	if (m->h != NULL)
		(void)send_locked(m, m->status_topic, "online", 6, 0, 1, NULL);
	pthread_mutex_unlock(&m->hmu);
}

static void
start_connect(struct mqtt_out *m)
{
	int rc;

	if (atomic_exchange(&m->fallback_wanted, false))
		mqtt_out_use_v311(m);
	atomic_store(&m->connecting, 1);
	pthread_mutex_lock(&m->hmu);
	rc = m->h != NULL ? MQTTAsync_connect(m->h, &m->conn) :
	    MQTTASYNC_FAILURE;
	pthread_mutex_unlock(&m->hmu);
	if (rc != MQTTASYNC_SUCCESS) {
		atomic_store(&m->connecting, 0);
		mqtt_out_say_failure(m, MQTTAsync_strerror(rc));
		back_off(m);
	}
}

static void
sub_answered(struct mqtt_out *m)
{
	if (m->central_ack)
		atomic_store(&m->pump_after_ms, mqtt_out_now_ms() +
		    MQTT_OUT_ACK_GRACE_MS);
	mqtt_out_kick(m);
}

/*
 * The answer to a SUBSCRIBE of one filter: Paho gives it in reasonCode
 * alone and leaves alt unset.  Which callback runs is chosen per request
 * from its own filter count, never from a count shared with later
 * requests (a second subscription added meanwhile made the answer to the
 * first be read as a list, and alt.sub.reasonCodes is garbage then).
 */
static void
on_sub_ok5_one(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_out *m = ctx;

	if (r != NULL && r->reasonCode >= 0x80)
		mqtt_out_say(m, "subscription refused: %s",
		    MQTTReasonCode_toString(r->reasonCode));
	sub_answered(m);
}

/* The answer to a SUBSCRIBE of several filters: one code per filter. */
static void
on_sub_ok5_many(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_out *m = ctx;
	int i;

	for (i = 0; r != NULL && r->alt.sub.reasonCodes != NULL &&
	    i < r->alt.sub.reasonCodeCount; i++)
		if (r->alt.sub.reasonCodes[i] >= 0x80)
			mqtt_out_say(m, "subscription %d refused: %s", i,
			    MQTTReasonCode_toString(r->alt.sub.reasonCodes[i]));
	sub_answered(m);
}

static void
on_sub_ok3(void *ctx, MQTTAsync_successData *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	sub_answered(m);
}

static void
on_sub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_out *m = ctx;

	mqtt_out_say(m, "subscribe failed: %s", r != NULL && r->reasonCode != 0 ?
	    MQTTReasonCode_toString(r->reasonCode) : "no answer");
	/* send anyway: the ack timeout re-sends what is never acknowledged */
	atomic_store(&m->pump_after_ms, 0);
	mqtt_out_kick(m);
}

static void
on_sub_fail3(void *ctx, MQTTAsync_failureData *r)
{
	struct mqtt_out *m = ctx;

	(void)r;
	mqtt_out_say(m, "subscribe failed");
	atomic_store(&m->pump_after_ms, 0);
	mqtt_out_kick(m);
}

/* Every subscription, on every connect (the session may be new). */
static void
subscribe_all(struct mqtt_out *m)
{
	MQTTAsync_responseOptions ro;
	char *filters[MQTT_OUT_MAX_SUBS];
	int qos[MQTT_OUT_MAX_SUBS], n, i, rc = MQTTASYNC_FAILURE, tries;

	pthread_mutex_lock(&m->smu);
	for (n = 0; n < m->nsubs; n++) {
		filters[n] = strdup(m->subs[n].filter);
		qos[n] = 1;
		if (filters[n] == NULL)
			break;
	}
	pthread_mutex_unlock(&m->smu);
	if (n == 0) {
		atomic_store(&m->pump_after_ms, 0);
		return;
	}
	pthread_mutex_lock(&m->hmu);
	for (tries = 0; m->h != NULL && tries < 2; tries++) {
		ro = (MQTTAsync_responseOptions)
		    MQTTAsync_responseOptions_initializer;
		ro.context = m;
		if (atomic_load(&m->v5) == (tries == 0)) {
			ro.onSuccess5 = n == 1 ? on_sub_ok5_one :
			    on_sub_ok5_many;
			ro.onFailure5 = on_sub_fail5;
		} else {
			ro.onSuccess = on_sub_ok3;
			ro.onFailure = on_sub_fail3;
		}
		rc = MQTTAsync_subscribeMany(m->h, n, filters, qos, &ro);
		if (rc != MQTTASYNC_BAD_MQTT_OPTION)
			break;
	}
	pthread_mutex_unlock(&m->hmu);
	for (i = 0; i < n; i++)
		free(filters[i]);
	if (rc != MQTTASYNC_SUCCESS) {
		mqtt_out_say(m, "subscribe: %s", MQTTAsync_strerror(rc));
		atomic_store(&m->pump_after_ms, 0);
	}
}

/*
 * Connected, yet the central log has not acknowledged what the broker
 * took for resend_ms: the broker, a bridge or a subscription lost it, or
 * no collector runs.  Send it again, say so, and wait twice as long next
 * time (a collector that is merely away should not get a flood).
 */
static void
check_stuck(struct mqtt_out *m)
{
	struct qmsg *q, *oldest = NULL;
	size_t n = 0;
	int64_t now = mqtt_out_now_ms(), age = 0, seq = -1;

	if (!m->central_ack)
		return;
	pthread_mutex_lock(&m->qmu);
	if (now < m->next_stuck_check_ms) {
		pthread_mutex_unlock(&m->qmu);
		return;
	}
	for (q = m->head; q != NULL; q = q->next) {
		if (!q->brokered)
			continue;
		if (oldest == NULL || q->brokered_ms < oldest->brokered_ms)
			oldest = q;
	}
	if (oldest != NULL && now - oldest->brokered_ms >= m->resend_ms) {
		for (q = m->head; q != NULL; q = q->next)
			if (q->brokered && now - q->brokered_ms >= m->resend_ms) {
				mqtt_out_set_brokered(m, q, false);
				n++;
			}
		age = now - oldest->brokered_ms;
		seq = oldest->aseq;
		m->resend_ms = m->resend_ms * 2 < MQTT_OUT_RESEND_MAX_MS ?
		    m->resend_ms * 2 : MQTT_OUT_RESEND_MAX_MS;
	}
	m->next_stuck_check_ms = now + 1000;
	pthread_mutex_unlock(&m->qmu);
	if (n > 0) {
		atomic_fetch_add(&m->resent, n);
		mqtt_out_say(m, "the central log has not acknowledged %zu alert(s) for "
		    "%lld s (oldest seq %lld; last ack %lld): sending them again",
		    n, (long long)(age / 1000), (long long)seq,
		    (long long)m->ack_seq);
	}
}

/* Connects, reconnects (with a new client), says "online", feeds Paho. */
void *
mqtt_out_supervise(void *arg)
{
	struct mqtt_out *m = arg;
	struct timespec ts;
	int base;

	/*
	 * Sending yields to capture: this thread, and Paho's threads that
	 * its first connect starts (they inherit its nice value), run at a
	 * lower priority than the capture and journal threads.  In an
	 * alert storm on a small gateway the journal takes the alerts at
	 * once and the sending catches up after; nothing waits in memory
	 * only.  Best effort: an error leaves the priority as it was.
	 */
	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && base < 19)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
		    base + MQTT_OUT_SEND_NICE > 19 ? 19 : base + MQTT_OUT_SEND_NICE);

	while (!atomic_load(&m->stop)) {
		pthread_mutex_lock(&m->cvmu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!atomic_load(&m->stop))
			pthread_cond_timedwait(&m->cv, &m->cvmu, &ts);
		pthread_mutex_unlock(&m->cvmu);
		if (atomic_load(&m->stop))
			break;
		if (atomic_load(&m->connected)) {
			if (atomic_exchange(&m->want_online, false))
				send_online(m);
			if (atomic_exchange(&m->want_subscribe, false))
				subscribe_all(m);
			check_stuck(m);
			pump(m);
			continue;
		}
		if (atomic_load(&m->connecting) ||
		    mqtt_out_now_ms() < atomic_load(&m->next_attempt_ms))
			continue;
		if (atomic_load(&m->need_new_client))
			renew_client(m);
		if (!atomic_load(&m->need_new_client))
			start_connect(m);
	}
	return NULL;
}
