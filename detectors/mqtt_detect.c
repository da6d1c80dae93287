/*
 * mqtt_detect.c - MQTT as plant-floor traffic: IIoT gateways publish
 * process values and take commands and setpoints through a broker.
 *
 * For `learn_secs` after the first MQTT packet the detector learns, per
 * broker, which clients publish to which topic and which clients exist.
 * Afterwards:
 *
 *   mqtt.new_command_publisher  PUBLISH to a command/setpoint topic
 *                               (command_topics) by a client never seen
 *                               publishing there                     T0855
 *   mqtt.wildcard_subscribe     SUBSCRIBE to $SYS/... or "#" by a client
 *                               not seen while learning               T0888
 *   mqtt.login_guessing         max_failed_connects refused CONNECTs
 *                               from one host within fail_window      T0859
 *   mqtt.cleartext_credentials  CONNECT with user name/password on a
 *                               plain TCP session                    (none)
 *
 * T0859 (Valid Accounts) is the nearest ICS technique to password
 * guessing; README's mapping table says so.
 *
 * icsentry's own alert channel is MQTT too, and the agent may well capture
 * it.  Sessions to the agent's broker ([mqtt] uri, resolved at start, and
 * [detector.mqtt] ignore_brokers), sessions whose CONNECT carries the
 * agent's [mqtt] client_id, and topics under "icsentry/" are never judged.
 */
#include <cJSON.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/mqtt.h"
#include "lib/ipmap.h"

#define OWN_MAX		8	/* addresses the agent's broker resolves to */
#define CLIENT_MAX	64	/* client id octets kept per session */
#define PATTERNS_MAX	16

struct own_broker {
	uint8_t		af;
	uint8_t		ip[16];
	uint16_t	port;
};

/* Per TCP session (keyed by flow id). */
struct session {
	char		client[CLIENT_MAX + 1];
	uint8_t		ignored;	/* the agent's own session */
};

/* Failed logins per client host. */
struct fails {
	uint64_t	start;
	uint32_t	count;
	uint8_t		alerted;
};

struct mqtt_state {
	struct own_broker	 own[OWN_MAX];
	size_t			 nown;
	const struct cfg_nets	*ignore;
	const char		*own_client;
	struct ipmap		*sessions;
	struct ipmap		*publishers;	/* hash(broker, topic, client) */
	struct ipmap		*clients;	/* hash(broker, client) */
	struct ipmap		*fails;		/* client host */
	char			 patterns[PATTERNS_MAX][64];
	size_t			 npatterns;
	uint64_t		 learn_us, t0;
	uint64_t		 fail_window_us;
	uint32_t		 max_fails;
};

static const struct cfg_key keys[] = {
	{ "learn_secs", CFG_DOUBLE, "300", 0, 31536000,
	  "seconds from the first MQTT packet that publishers and clients are learned" },
	{ "command_topics", CFG_STR,
	  "*/cmd/*,*/cmd,*/command*,*/set/*,*/setpoint*,*/write*", 0, 0,
	  "topics that carry commands or setpoints (comma list, * matches any text)" },
	{ "max_failed_connects", CFG_INT, "5", 2, 100000,
	  "refused CONNECTs from one host within fail_window that are password guessing" },
	{ "fail_window", CFG_DOUBLE, "60", 1, 86400,
	  "seconds over which refused CONNECTs are counted" },
	{ "ignore_brokers", CFG_NETS, NULL, 0, 0,
	  "brokers never judged besides the agent's own [mqtt] uri (e.g. a bridge)" },
	{ "max_entries", CFG_INT, "65536", 64, 10000000,
	  "sessions, publishers and clients tracked (each table)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

/* "tcp://host:1883", "ssl://[::1]:8883", "mqtts://h": host and port. */
static void
own_broker(struct mqtt_state *s, const char *uri)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], *colon;
	const char *p = strstr(uri, "://");
	unsigned port = strncmp(uri, "ssl", 3) == 0 ||
	    strncmp(uri, "mqtts", 5) == 0 ? 8883 : 1883;
	size_t n;

	p = p != NULL ? p + 3 : uri;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(host))
		return;
	memcpy(host, p, n);
	host[n] = '\0';
	if (host[0] == '[') {
		char *end = strchr(host, ']');

		if (end == NULL)
			return;
		*end = '\0';
		if (end[1] == ':')
			port = (unsigned)strtoul(end + 2, NULL, 10);
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = (unsigned)strtoul(colon + 1, NULL, 10);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* at start only: a name costs one lookup, never one per packet */
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return;
	for (ai = res; ai != NULL && s->nown < OWN_MAX; ai = ai->ai_next) {
		struct own_broker *o = &s->own[s->nown];

		memset(o, 0, sizeof(*o));
		o->port = (uint16_t)port;
		if (ai->ai_family == AF_INET) {
			o->af = 4;
			memcpy(o->ip, &((struct sockaddr_in *)(void *)
			    ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			o->af = 6;
			memcpy(o->ip, &((struct sockaddr_in6 *)(void *)
			    ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		s->nown++;
	}
	freeaddrinfo(res);
}

static void
patterns(struct mqtt_state *s, const char *list)
{
	const char *p = list, *e;

	while (*p != '\0' && s->npatterns < PATTERNS_MAX) {
		while (*p == ',' || *p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		if (e > p && (size_t)(e - p) < sizeof(s->patterns[0])) {
			memcpy(s->patterns[s->npatterns], p, (size_t)(e - p));
			s->patterns[s->npatterns++][e - p] = '\0';
		}
		p = e;
	}
}

static void mqtt_destroy(void *state);

static int
mqtt_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct mqtt_state *s = calloc(1, sizeof(*s));
	size_t cap = (size_t)cfg_int(c, sec, "max_entries");

	(void)err;
	(void)errlen;
	if (s == NULL)
		return -1;
	s->sessions = ipmap_new(cap, sizeof(struct session));
	s->publishers = ipmap_new(cap, 1);
	s->clients = ipmap_new(cap, 1);
	s->fails = ipmap_new(cap, sizeof(struct fails));
	if (s->sessions == NULL || s->publishers == NULL ||
	    s->clients == NULL || s->fails == NULL) {
		mqtt_destroy(s);
		return -1;
	}
	if (cfg_str(c, "mqtt", "uri")[0] != '\0')
		own_broker(s, cfg_str(c, "mqtt", "uri"));
	s->own_client = cfg_str(c, "mqtt", "client_id");
	s->ignore = cfg_nets(c, sec, "ignore_brokers");
	patterns(s, cfg_str(c, sec, "command_topics"));
	s->learn_us = (uint64_t)(cfg_double(c, sec, "learn_secs") * 1e6);
	s->fail_window_us = (uint64_t)(cfg_double(c, sec, "fail_window") * 1e6);
	s->max_fails = (uint32_t)cfg_int(c, sec, "max_failed_connects");
	*state = s;
	return 0;
}

static void
mqtt_destroy(void *state)
{
	struct mqtt_state *s = state;

	if (s == NULL)
		return;
	ipmap_free(s->sessions);
	ipmap_free(s->publishers);
	ipmap_free(s->clients);
	ipmap_free(s->fails);
	free(s);
}

/* Glob with '*' only. */
static bool
glob(const char *pat, const uint8_t *t, size_t n)
{
	size_t i;

	if (*pat == '\0')
		return n == 0;
	if (*pat == '*') {
		for (i = 0; i <= n; i++)
			if (glob(pat + 1, t + i, n - i))
				return true;
		return false;
	}
	return n > 0 && *pat == (char)t[0] && glob(pat + 1, t + 1, n - 1);
}

static bool
command_topic(const struct mqtt_state *s, const struct mqtt_str *t)
{
	size_t i;

	for (i = 0; i < s->npatterns; i++)
		if (glob(s->patterns[i], t->p, t->len))
			return true;
	return false;
}

static bool
own_topic(const struct mqtt_str *t)
{
	return t->len >= 9 && memcmp(t->p, "icsentry/", 9) == 0;
}

/* Is the broker side of f the agent's own broker (or an ignored one)? */
static bool
ignored_broker(const struct mqtt_state *s, const struct flow_endpoint *b,
    uint8_t af)
{
	size_t i;

	for (i = 0; i < s->nown; i++)
		if (s->own[i].af == af && s->own[i].port == b->port &&
		    memcmp(s->own[i].ip, b->ip, af == 6 ? 16 : 4) == 0)
			return true;
	return s->ignore != NULL && cfg_nets_contains(s->ignore, af, b->ip);
}

/* 64-bit FNV-1a over parts, for the learned-set keys. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t
broker_hash(const struct flow *f, const struct flow_endpoint *b)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, b->ip, f->af == 6 ? 16 : 4);

	return fnv(h, &b->port, sizeof(b->port));
}

static void
raise_mqtt(struct det_ctx *ctx, const struct det_pdu *pdu, const char *det,
    enum det_severity sev, const char *tech, const char *title,
    const char *client, const struct mqtt_str *topic)
{
	struct det_alert a;
	char buf[256];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.title = title;
	a.details = cJSON_CreateObject();
	if (client != NULL)
		cJSON_AddStringToObject(a.details, "client_id", client);
	if (topic != NULL && topic->p != NULL) {
		snprintf(buf, sizeof(buf), "%.*s",
		    (int)(topic->len > 200 ? 200 : topic->len),
		    (const char *)topic->p);
		cJSON_AddStringToObject(a.details, "topic", buf);
	}
	a.agg_key = det;
	det_alert(ctx, &a);
}

static void
refused(struct mqtt_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct session *se, const struct mqtt_pdu *m)
{
	const struct flow *f = pdu->flow;
	struct fails *fl;
	uint8_t key[17];
	int fresh;

	key[0] = f->af;
	memcpy(key + 1, f->cli.ip, 16);
	fl = ipmap_put(s->fails, key, sizeof(key), pdu->ts, &fresh);
	if (fl == NULL)
		return;
	if (fresh || pdu->ts > fl->start + s->fail_window_us) {
		fl->start = pdu->ts;
		fl->count = 0;
		fl->alerted = 0;
	}
	if (++fl->count < s->max_fails || fl->alerted)
		return;
	fl->alerted = 1;
	{
		struct det_alert a;
		char title[160];

		/* the alert is about the client host, not the broker's answer */
		det_alert_from_pdu(&a, pdu);
		det_endpoint_from_flow(&a.src, f, true);
		det_endpoint_from_flow(&a.dst, f, false);
		a.detector = "mqtt.login_guessing";
		a.severity = SEV_HIGH;
		a.technique = "T0859";
		snprintf(title, sizeof(title),
		    "%u refused MQTT CONNECTs from one host (password guessing)",
		    fl->count);
		a.title = title;
		a.details = cJSON_CreateObject();
		cJSON_AddNumberToObject(a.details, "refused", fl->count);
		cJSON_AddNumberToObject(a.details, "last_return_code",
		    m->return_code);
		if (se->client[0] != '\0')
			cJSON_AddStringToObject(a.details, "client_id",
			    se->client);
		a.agg_key = "mqtt.login_guessing";
		det_alert(ctx, &a);
	}
}

static void
mqtt_pdu_fn(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	struct mqtt_state *s = state;
	const struct mqtt_pdu *m = pdu->u.mqtt;
	const struct flow *f = pdu->flow;
	const struct flow_endpoint *broker = &f->srv;
	struct session *se;
	uint64_t bh, h;
	bool learning;
	int fresh;
	unsigned i;

	if (pdu->proto != ICS_MQTT || f->af == 0)
		return;
	se = ipmap_put(s->sessions, &f->id, sizeof(f->id), pdu->ts, &fresh);
	if (se == NULL)
		return;
	if (fresh) {
		struct det_endpoint e;

		se->ignored = ignored_broker(s, broker, f->af);
		/* until a CONNECT names the client: its address */
		det_endpoint_from_flow(&e, f, true);
		det_ip_str(&e, se->client, sizeof(se->client));
	}
	if (s->t0 == 0)
		s->t0 = pdu->ts;
	if (m->type == MQTT_CONNECT && pdu->from_client) {
		snprintf(se->client, sizeof(se->client), "%.*s",
		    (int)(m->client_id.len > CLIENT_MAX ? CLIENT_MAX :
		    m->client_id.len), m->client_id.p != NULL ?
		    (const char *)m->client_id.p : "");
		if (s->own_client[0] != '\0' &&
		    strcmp(se->client, s->own_client) == 0)
			se->ignored = 1;
	}
	if (se->ignored)
		return;
	learning = pdu->ts < s->t0 + s->learn_us;
	bh = broker_hash(f, broker);
	switch (m->type) {
	case MQTT_CONNECT:
		if (!pdu->from_client)
			return;
		h = fnv(bh, se->client, strlen(se->client));
		if (learning)
			(void)ipmap_put(s->clients, &h, sizeof(h), pdu->ts, &fresh);
		if (m->has_password || m->username.p != NULL)
			raise_mqtt(ctx, pdu, "mqtt.cleartext_credentials",
			    SEV_MEDIUM, NULL,
			    "MQTT CONNECT with credentials in clear text",
			    se->client, NULL);
		return;
	case MQTT_CONNACK:
		if (!pdu->from_client && mqtt_connack_refused(m))
			refused(s, ctx, pdu, se, m);
		return;
	case MQTT_PUBLISH:
		if (!pdu->from_client || own_topic(&m->topic))
			return;
		h = fnv(fnv(bh, m->topic.p, m->topic.len), se->client,
		    strlen(se->client));
		if (learning) {
			(void)ipmap_put(s->publishers, &h, sizeof(h), pdu->ts,
			    &fresh);
			return;
		}
		if (!command_topic(s, &m->topic) ||
		    ipmap_get(s->publishers, &h, sizeof(h)) != NULL)
			return;
		/* once per client and topic */
		(void)ipmap_put(s->publishers, &h, sizeof(h), pdu->ts, &fresh);
		raise_mqtt(ctx, pdu, "mqtt.new_command_publisher", SEV_HIGH,
		    "T0855", "MQTT publish to a command topic by a client never "
		    "seen publishing there", se->client, &m->topic);
		return;
	case MQTT_SUBSCRIBE:
		if (!pdu->from_client || learning || !(m->sub_sys || m->sub_all))
			return;
		h = fnv(bh, se->client, strlen(se->client));
		if (ipmap_get(s->clients, &h, sizeof(h)) != NULL)
			return;
		for (i = 0; i < m->n_filters && i < MQTT_MAX_FILTERS; i++)
			if (!own_topic(&m->filters[i]))
				break;
		if (i == m->n_filters)
			return;
		raise_mqtt(ctx, pdu, "mqtt.wildcard_subscribe", SEV_MEDIUM,
		    "T0888", m->sub_sys ? "MQTT subscription to $SYS by an "
		    "unknown client" : "MQTT subscription to every topic (#) "
		    "by an unknown client", se->client,
		    i < MQTT_MAX_FILTERS ? &m->filters[i] : NULL);
		return;
	}
}

const struct detector det_mqtt = {
	.name = "mqtt",
	.severity = SEV_HIGH,
	.keys = keys,
	.pdu_protos = DET_PROTO(ICS_MQTT),
	.init = mqtt_init,
	.on_pdu = mqtt_pdu_fn,
	.destroy = mqtt_destroy,
};
