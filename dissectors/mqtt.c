/*
 * mqtt.c - MQTT 3.1/3.1.1/5.0 control packet parser.
 */
#include "dissectors/mqtt.h"

#include <string.h>

#include <ndpi_protocol_ids.h>

#include "dissectors/decode.h"
#include "dissectors/flow.h"
#include "dissectors/proto.h"

#include "lib/ids.h"
#include "lib/rd.h"

/* Variable byte integer (MQTT 5 1.5.5; 3.1.1 2.2.3): 1-4 octets. */
static int
varint(struct rd *r, uint32_t *v)
{
	uint32_t x = 0;
	unsigned i;
	uint8_t b;

	for (i = 0; i < 4; i++) {
		b = rd_u8(r);
		if (r->err)
			return IDS_ETRUNC;
		x |= (uint32_t)(b & 0x7F) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = x;
			return 0;
		}
	}
	return IDS_EMALFORMED;
}

int
mqtt_frame_len(const uint8_t *p, size_t n, size_t *len)
{
	struct rd r;
	uint32_t rem;
	uint8_t b;
	int rc;

	if (len == NULL)
		return IDS_EINVAL;
	rd_init(&r, p, n);
	b = rd_u8(&r);
	if (r.err)
		return IDS_EAGAIN;
	if ((b >> 4) == 0)
		return IDS_EMALFORMED;
	rc = varint(&r, &rem);
	if (rc == IDS_ETRUNC)
		return IDS_EAGAIN;
	if (rc != 0)
		return rc;
	*len = n - rd_left(&r) + rem;
	return 0;
}

/* UTF-8 string / binary data: 2-octet length + bytes. */
static bool
str(struct rd *r, struct mqtt_str *s)
{
	uint16_t l = rd_be16(r);

	if (r->err || l > rd_left(r)) {
		r->err = true;
		return false;
	}
	s->p = l > 0 ? rd_ptr(r) : NULL;
	s->len = l;
	return rd_skip(r, l);
}

/* Skip a v5 property block (length varint + bytes). */
static bool
props(struct rd *r, unsigned level)
{
	uint32_t l;

	if (level < 5)
		return true;
	if (varint(r, &l) != 0)
		return false;
	return rd_skip(r, l);
}

static int
connect_pkt(struct rd *r, struct mqtt_pdu *m)
{
	struct mqtt_str name, will_payload, password;
	uint8_t cf;

	if (!str(r, &name))
		return IDS_EMALFORMED;
	m->level = rd_u8(r);
	cf = m->connect_flags = rd_u8(r);
	m->keep_alive = rd_be16(r);
	if (r->err)
		return IDS_EMALFORMED;
	if (name.len == 4 && memcmp(name.p, "MQTT", 4) == 0) {
		if (m->level != 4 && m->level != 5)
			return IDS_EMALFORMED;
	} else if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0) {
		if (m->level != 3)
			return IDS_EMALFORMED;
	} else
		return IDS_EMALFORMED;
	/* reserved bit, QoS 3, will flags without a will (3.1.2.3-6) */
	if ((cf & 0x01) != 0 || (cf & MQTT_CF_WILL_QOS) == MQTT_CF_WILL_QOS)
		return IDS_EMALFORMED;
	if ((cf & MQTT_CF_WILL) == 0 &&
	    (cf & (MQTT_CF_WILL_QOS | MQTT_CF_WILL_RETAIN)) != 0)
		return IDS_EMALFORMED;
	if (!props(r, m->level) || !str(r, &m->client_id))
		return IDS_EMALFORMED;
	if (cf & MQTT_CF_WILL) {
		if (!props(r, m->level) || !str(r, &m->will_topic) ||
		    !str(r, &will_payload))
			return IDS_EMALFORMED;
	}
	if ((cf & MQTT_CF_USERNAME) && !str(r, &m->username))
		return IDS_EMALFORMED;
	if (cf & MQTT_CF_PASSWORD) {
		if (!str(r, &password))
			return IDS_EMALFORMED;
		m->has_password = true;
		m->password_len = password.len;
	}
	return 0;
}

/* Does a filter match every topic ("#", "+/#", "+/+/#")? */
static bool
filter_all(const struct mqtt_str *f)
{
	size_t i;

	if (f->len == 0 || f->p[f->len - 1] != '#')
		return false;
	for (i = 0; i + 1 < f->len; i++)
		if (f->p[i] != '+' && f->p[i] != '/')
			return false;
	return true;
}

static int
filters(struct rd *r, struct mqtt_pdu *m, bool options)
{
	struct mqtt_str f;

	while (rd_left(r) > 0) {
		if (!str(r, &f))
			return IDS_EMALFORMED;
		if (options && (rd_u8(r) & 0xC0) != 0)
			return IDS_EMALFORMED;	/* reserved option bits */
		if (r->err)
			return IDS_EMALFORMED;
		if (f.len >= 4 && memcmp(f.p, "$SYS", 4) == 0)
			m->sub_sys = true;
		if (filter_all(&f))
			m->sub_all = true;
		if (m->n_filters < MQTT_MAX_FILTERS)
			m->filters[m->n_filters] = f;
		m->n_filters++;
	}
	/* a SUBSCRIBE/UNSUBSCRIBE with no filter is a protocol violation */
	return m->n_filters > 0 ? 0 : IDS_EMALFORMED;
}

/* The fixed header's flag nibble each type requires (3.1.1 2.2.2). */
static bool
flags_ok(uint8_t type, uint8_t flags)
{
	switch (type) {
	case MQTT_PUBLISH:
		return (flags & 0x06) != 0x06;		/* QoS 3 */
	case MQTT_PUBREL:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return flags == 0x02;
	}
	return flags == 0;
}

int
mqtt_parse(const uint8_t *p, size_t n, unsigned level, struct mqtt_pdu *out)
{
	struct rd r, b;
	uint8_t h;
	int rc;

	if (out == NULL)
		return IDS_EINVAL;
	memset(out, 0, sizeof(*out));
	if (level == 0)
		level = 4;
	rd_init(&r, p, n);
	h = rd_u8(&r);
	if (r.err)
		return IDS_ETRUNC;
	out->type = h >> 4;
	out->flags = h & 0x0F;
	if (out->type == 0)
		return IDS_EMALFORMED;
	if ((rc = varint(&r, &out->remaining)) != 0)
		return rc;
	out->frame_len = n - rd_left(&r) + out->remaining;
	if (!rd_sub(&r, out->remaining, &b))
		return IDS_ETRUNC;
	if (!flags_ok(out->type, out->flags) ||
	    (out->type == MQTT_AUTH && level < 5))
		return IDS_EMALFORMED;
	switch (out->type) {
	case MQTT_CONNECT:
		return connect_pkt(&b, out);
	case MQTT_CONNACK:
		out->session_present = (rd_u8(&b) & 0x01) != 0;
		out->return_code = rd_u8(&b);
		return b.err ? IDS_EMALFORMED : 0;
	case MQTT_PUBLISH:
		out->qos = (out->flags >> 1) & 3;
		out->retain = (out->flags & 0x01) != 0;
		out->dup = (out->flags & 0x08) != 0;
		if (!str(&b, &out->topic))
			return IDS_EMALFORMED;
		if (out->qos > 0)
			out->packet_id = rd_be16(&b);
		if (b.err || !props(&b, level))
			return IDS_EMALFORMED;
		out->payload_len = rd_left(&b);
		return 0;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		out->packet_id = rd_be16(&b);
		if (b.err || !props(&b, level))
			return IDS_EMALFORMED;
		return filters(&b, out, out->type == MQTT_SUBSCRIBE);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		out->packet_id = rd_be16(&b);
		return b.err ? IDS_EMALFORMED : 0;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		return out->remaining == 0 ? 0 : IDS_EMALFORMED;
	}
	return 0;	/* DISCONNECT, AUTH: reason codes only */
}

bool
mqtt_probe(const uint8_t *p, size_t n)
{
	struct mqtt_pdu m;

	return mqtt_parse(p, n, 0, &m) == 0 && m.type == MQTT_CONNECT;
}

bool
mqtt_connack_refused(const struct mqtt_pdu *m)
{
	if (m->type != MQTT_CONNACK)
		return false;
	/* 3.1/3.1.1 return codes 1-5; 5.0 reason codes 0x80 and up */
	return m->return_code != 0;
}

const char *
mqtt_type_name(uint8_t type)
{
	static const char *const names[] = {
		"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK",
		"PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
		"UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP",
		"DISCONNECT", "AUTH",
	};

	return type < 16 ? names[type] : "UNKNOWN";
}

/* ---- descriptor ------------------------------------------------------- */

/* pstate: the protocol level the flow's CONNECT announced (0: unseen) */
static void
mqtt_handle(struct dis_ctx *dc, const uint8_t *p, size_t n, bool partial)
{
	struct mqtt_pdu m;
	struct det_pdu pdu = { .proto = ICS_MQTT, .u.mqtt = &m };
	int rc = mqtt_parse(p, n, *dc->pstate, &m);

	if (rc == 0 && m.type == MQTT_CONNECT)
		*dc->pstate = m.level;
	dis_outcome(dc, rc, &pdu, partial, "malformed MQTT packet");
}

/*
 * Plain MQTT on 1883, or wherever nDPI says MQTT (gateways use other
 * ports: 17501 in the shared captures); the first payload must frame as
 * an MQTT packet.  TLS on 8883 has nothing for us to read.
 */
static bool
mqtt_pick(const struct flow *f, const struct pkt *p, uint16_t *srv_port)
{
	bool port = pkt_on_port(p, MQTT_TCP_PORT);

	if (p->ip_proto != 6 || !(port || f->ndpi_app == NDPI_PROTOCOL_MQTT ||
	    f->ndpi_master == NDPI_PROTOCOL_MQTT) ||
	    !pkt_frames(p, mqtt_frame_len))
		return false;
	/* by nDPI alone the server is who receives the CONNECT */
	*srv_port = port ? MQTT_TCP_PORT : 0;
	return true;
}

const struct proto_desc mqtt_desc = {
	.id = ICS_MQTT,
	.name = "mqtt",
	.transports = PROTO_TCP,
	.ports = { MQTT_TCP_PORT },
	.pick = mqtt_pick,
	.probe = mqtt_probe,
	.frame_len = mqtt_frame_len,
	.bad_header = "bad MQTT fixed header",
	.handle = mqtt_handle,
};
