/*
 * mqtt.h - MQTT control packet parser (MQTT as plant-floor traffic: IIoT
 * gateways publishing process values and taking commands).
 *
 * Spec: MQTT 3.1 (IBM/Eurotech, protocol name "MQIsdp", level 3), OASIS
 * MQTT 3.1.1 (level 4) sections 2-3, OASIS MQTT 5.0 (level 5) sections
 * 1.5.5 (variable byte integer), 2.2.2 (properties), 3.1-3.11.
 *
 *   +----------------+-------------------------+-----------------------+
 *   | type(4) flags(4)| remaining length 1-4 B | variable header,      |
 *   |                | (7 bits each, LSB first)| payload               |
 *   +----------------+-------------------------+-----------------------+
 *   CONNECT: "MQTT"/"MQIsdp" | level | flags | keep alive | [props] |
 *            client id | [will props, will topic, will payload] |
 *            [user name] | [password]
 *   CONNACK: flags | return/reason code | [props]
 *   PUBLISH: topic | [packet id if QoS > 0] | [props] | payload
 *   SUBSCRIBE: packet id | [props] | (filter, options)+
 *   UNSUBSCRIBE: packet id | [props] | filter+
 *
 * v5 properties ([props]) are skipped, so parsing PUBLISH and SUBSCRIBE
 * payloads needs the level the flow's CONNECT announced.
 *
 * Pure functions: no I/O, no allocation; thread safe.  Pointers in the
 * output point into the caller's buffer (password bytes included: a
 * caller must never log them).
 */
#ifndef ICSENTRY_DISSECTORS_MQTT_H
#define ICSENTRY_DISSECTORS_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT_TCP_PORT		1883
#define MQTT_REMAINING_MAX	268435455u	/* 4-byte varint limit */
#define MQTT_MAX_FILTERS	8		/* kept per SUBSCRIBE */

enum mqtt_type {
	MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK,
	MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP, MQTT_SUBSCRIBE, MQTT_SUBACK,
	MQTT_UNSUBSCRIBE, MQTT_UNSUBACK, MQTT_PINGREQ, MQTT_PINGRESP,
	MQTT_DISCONNECT, MQTT_AUTH
};

/* CONNECT flags */
#define MQTT_CF_USERNAME	0x80
#define MQTT_CF_PASSWORD	0x40
#define MQTT_CF_WILL_RETAIN	0x20
#define MQTT_CF_WILL_QOS	0x18
#define MQTT_CF_WILL		0x04
#define MQTT_CF_CLEAN		0x02

struct mqtt_str {
	const uint8_t	*p;	/* NULL when absent or empty */
	size_t		 len;
};

struct mqtt_pdu {
	uint8_t		 type;		/* enum mqtt_type */
	uint8_t		 flags;		/* low nibble of the first octet */
	uint32_t	 remaining;
	size_t		 frame_len;	/* fixed header + remaining */

	/* CONNECT */
	uint8_t		 level;		/* 3 (3.1), 4 (3.1.1), 5 */
	uint8_t		 connect_flags;
	uint16_t	 keep_alive;
	struct mqtt_str	 client_id;
	struct mqtt_str	 will_topic;
	struct mqtt_str	 username;	/* set when MQTT_CF_USERNAME */
	bool		 has_password;
	size_t		 password_len;

	/* CONNACK */
	bool		 session_present;
	uint8_t		 return_code;	/* 3.1.1: 0 accepted, 1-5 refused;
					   5.0: reason code, >= 0x80 failed */

	/* PUBLISH */
	uint8_t		 qos;
	bool		 retain, dup;
	struct mqtt_str	 topic;
	size_t		 payload_len;

	/* PUBLISH (QoS > 0), acks, SUBSCRIBE, UNSUBSCRIBE */
	uint16_t	 packet_id;

	/* SUBSCRIBE / UNSUBSCRIBE */
	unsigned	 n_filters;
	struct mqtt_str	 filters[MQTT_MAX_FILTERS];
	bool		 sub_sys;	/* some filter starts with "$SYS" */
	bool		 sub_all;	/* some filter is "#", "+/#", "+/+/#"...:
					   matches every topic at a level */
};

/*
 * Frame the packet at the head of a stream: 0 with *len = fixed header +
 * remaining length (may exceed n), IDS_EAGAIN when the remaining length
 * is not complete yet, IDS_EMALFORMED for type 0 or a fifth length octet,
 * IDS_EINVAL on NULL len.
 */
int mqtt_frame_len(const uint8_t *p, size_t n, size_t *len);

/*
 * Parse one control packet.  level: the protocol level of the flow's
 * CONNECT (3, 4 or 5; 0 when unknown = 4); a CONNECT brings its own.
 * Returns 0, IDS_ETRUNC when n is shorter than the packet,
 * IDS_EMALFORMED for reserved flag bits, a string or property block
 * overrunning the packet, an unknown protocol name, QoS 3 or an empty
 * SUBSCRIBE, IDS_EINVAL on NULL out.  out is zeroed first.
 */
int mqtt_parse(const uint8_t *p, size_t n, unsigned level,
    struct mqtt_pdu *out);

/* True when p holds a whole, well-formed CONNECT (to recognise MQTT on
 * any port). */
bool mqtt_probe(const uint8_t *p, size_t n);

/* "CONNECT", "PUBLISH", ...; never NULL. */
const char *mqtt_type_name(uint8_t type);

/* Is this CONNACK a refusal (any level)? */
bool mqtt_connack_refused(const struct mqtt_pdu *m);

#endif
