/*
 * check_mqtt.c - unit tests for the MQTT parser (dissectors/mqtt.c).
 *
 * connect311, subscribe311 and publish311 are from mqtt-zeek.pcap (Paho
 * clients), connect5 and subscribe5 from mqtt5-subscribe-props.pcap; the
 * rest are hand-made.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/mqtt.h"
#include "lib/ids.h"
#include "testutil.h"

/* CONNECT, 3.1 (MQIsdp), clean session (mqtt-zeek.pcap frame 1) */
static const uint8_t connect31[] = {
	0x10, 0x25,		/* CONNECT, remaining 37 */
	0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',	/* protocol name */
	0x03,			/* level 3 */
	0x02,			/* flags: clean session */
	0x00, 0x05,		/* keep alive 5 s */
	0x00, 0x17,		/* client id, 23 */
	'p', 'a', 'h', 'o', '/', '3', '4', 'A', 'A', 'E', '5', '4', 'A',
	'7', '5', 'D', '8', '3', '9', '5', '6', '6', 'E',
};

/* SUBSCRIBE "SampleTopic" QoS 0 (mqtt-zeek.pcap frame 3) */
static const uint8_t subscribe311[] = {
	0x82, 0x10,		/* SUBSCRIBE, remaining 16 */
	0x00, 0x01,		/* packet id 1 */
	0x00, 0x0b,		/* filter, 11 */
	'S', 'a', 'm', 'p', 'l', 'e', 'T', 'o', 'p', 'i', 'c',
	0x00,			/* options: QoS 0 */
};

/* PUBLISH QoS 0 (mqtt-zeek.pcap frame 5) */
static const uint8_t publish311[] = {
	0x31, 0x30,		/* PUBLISH, retain, remaining 48 */
	0x00, 0x0b,		/* topic, 11 */
	'S', 'a', 'm', 'p', 'l', 'e', 'T', 'o', 'p', 'i', 'c',
	'H', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 't', 'h',
	'e', ' ', 'P', 'a', 'h', 'o', ' ', 'b', 'l', 'o', 'c', 'k', 'i',
	'n', 'g', ' ', 'c', 'l', 'i', 'e', 'n', 't',	/* payload 35 */
};

/* CONNECT, 5.0, will + user name + password (mqtt5-subscribe-props.pcap) */
static const uint8_t connect5[] = {
	0x10, 0xcc, 0x01,	/* CONNECT, remaining 204 */
	0x00, 0x04, 'M', 'Q', 'T', 'T',	/* protocol name */
	0x05,			/* level 5 */
	0xc6,			/* flags: user, password, will, clean */
	0x00, 0x3c,		/* keep alive 60 */
	0x3c,			/* properties, 60 */
	0x27, 0x00, 0x00, 0x2b, 0x67, 0x21, 0x00, 0xde, 0x11, 0x00, 0x00, 0x02,
	0x2b, 0x22, 0x02, 0x9a, 0x26, 0x00, 0x09, 'u', 's', 'e', 'r', 'p',
	'r', 'o', 'p', '1', 0x00, 0x08, 'u', 's', 'e', 'r', 'v', 'a', 'l',
	'1', 0x26, 0x00, 0x09, 'u', 's', 'e', 'r', 'p', 'r', 'o', 'p', '2',
	0x00, 0x08, 'u', 's', 'e', 'r', 'v', 'a', 'l', '2',
	0x00, 0x13,		/* client id, 19 */
	'm', 'y', 'v', 'o', 'i', 'c', 'e', 'i', 's', 'm', 'y', 'p', 'a',
	's', 's', 'p', 'o', 'r', 't',
	0x4b,			/* will properties, 75 */
	0x03, 0x00, 0x0a, 'm', 'y', 'w', 'i', 'l', 'l', 't', 'y', 'p', 'e',
	0x09, 0x00, 0x07, '1', '2', '3', '4', '5', '6', '7', 0x02, 0x00,
	0x00, 0x00, 0x85, 0x01, 0x90, 0x08, 0x00, 0x0f, 'r', 'e', 's', 'p',
	'o', 'n', 's', 'e', '_', 't', 'o', 'p', 'i', 'c', '1', 0x26, 0x00,
	0x09, 'u', 's', 'e', 'r', 'p', 'r', 'o', 'p', '5', 0x00, 0x08, 'u',
	's', 'e', 'r', 'v', 'a', 'l', '5', 0x18, 0x00, 0x00, 0x00, 0xc8,
	0x00, 0x09, 'w', 'i', 'l', 'l', 't', 'o', 'p', 'i', 'c',	/* will topic */
	0x00, 0x0b, 'w', 'i', 'l', 'l', 'm', 'e', 's', 's', 'a', 'g', 'e',
	0x00, 0x04, 'u', 's', 'e', 'r',	/* user name */
	0x00, 0x04, 'p', 'a', 's', 's',	/* password */
};

/* SUBSCRIBE, 5.0, two filters (mqtt5-subscribe-props.pcap) */
static const uint8_t subscribe5[] = {
	0x82, 0x15,		/* SUBSCRIBE, remaining 21 */
	0x00, 0x01,		/* packet id 1 */
	0x00,			/* properties, 0 */
	0x00, 0x06, 't', 'o', 'p', 'i', 'c', 'X', 0x00,	/* filter, options */
	0x00, 0x06, 't', 'o', 'p', 'i', 'c', 'Y', 0x00,
};

/* SUBSCRIBE "$SYS/#" and "#" (discovery) */
static const uint8_t subscribe_sys[] = {
	0x82, 0x0f,		/* SUBSCRIBE, remaining 15 */
	0x00, 0x02,		/* packet id 2 */
	0x00, 0x06, '$', 'S', 'Y', 'S', '/', '#', 0x00,
	0x00, 0x01, '#', 0x01,	/* "#", QoS 1 */
};

/* CONNACK, 3.1.1, refused: bad user name or password */
static const uint8_t connack_bad[] = {
	0x20, 0x02,		/* CONNACK, remaining 2 */
	0x00,			/* no session present */
	0x04,			/* return code 4 */
};

/* PUBLISH QoS 1 to a setpoint topic, 3.1.1 */
static const uint8_t publish_sp[] = {
	0x32, 0x15,		/* PUBLISH QoS 1, remaining 21 */
	0x00, 0x0f,		/* topic, 15 */
	'p', 'l', 'a', 'n', 't', '/', 'p', '1', '/', 's', 'e', 't', 'p',
	't', 's',
	0x00, 0x2a,		/* packet id 42 */
	'9', '9',		/* payload */
};

struct fixture {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	unsigned	 level;
};

#define FIX(a, l)	{ #a, a, sizeof(a), l }
static const struct fixture fixtures[] = {
	FIX(connect31, 0), FIX(subscribe311, 4), FIX(publish311, 4),
	FIX(connect5, 0), FIX(subscribe5, 5), FIX(subscribe_sys, 4),
	FIX(connack_bad, 4), FIX(publish_sp, 4),
};
#define NFIX	(sizeof(fixtures) / sizeof(fixtures[0]))

static bool
streq(const struct mqtt_str *s, const char *t)
{
	return s->p != NULL && s->len == strlen(t) &&
	    memcmp(s->p, t, s->len) == 0;
}

START_TEST(test_connect)
{
	uint8_t *c = tu_dup_exact(connect31, sizeof connect31);
	struct mqtt_pdu m;

	ck_assert_int_eq(mqtt_parse(c, sizeof connect31, 0, &m), 0);
	ck_assert_uint_eq(m.type, MQTT_CONNECT);
	ck_assert_uint_eq(m.remaining, 37);
	ck_assert_uint_eq(m.frame_len, 39);
	ck_assert_uint_eq(m.level, 3);
	ck_assert_uint_eq(m.connect_flags, MQTT_CF_CLEAN);
	ck_assert_uint_eq(m.keep_alive, 5);
	ck_assert(streq(&m.client_id, "paho/34AAE54A75D839566E"));
	ck_assert(m.username.p == NULL);
	ck_assert(!m.has_password);
	ck_assert(mqtt_probe(c, sizeof connect31));
	ck_assert_str_eq(mqtt_type_name(m.type), "CONNECT");
	free(c);

	ck_assert_int_eq(mqtt_parse(connect5, sizeof connect5, 0, &m), 0);
	ck_assert_uint_eq(m.level, 5);
	ck_assert_uint_eq(m.remaining, 204);
	ck_assert_uint_eq(m.frame_len, 207);
	ck_assert(streq(&m.client_id, "myvoiceismypassport"));
	ck_assert(streq(&m.will_topic, "willtopic"));
	ck_assert(streq(&m.username, "user"));
	ck_assert(m.has_password);
	ck_assert_uint_eq(m.password_len, 4);
}
END_TEST

START_TEST(test_publish)
{
	struct mqtt_pdu m;

	ck_assert_int_eq(mqtt_parse(publish311, sizeof publish311, 4, &m), 0);
	ck_assert_uint_eq(m.type, MQTT_PUBLISH);
	ck_assert_uint_eq(m.qos, 0);
	ck_assert(m.retain);
	ck_assert(streq(&m.topic, "SampleTopic"));
	ck_assert_uint_eq(m.payload_len, 35);
	ck_assert(!mqtt_probe(publish311, sizeof publish311));

	ck_assert_int_eq(mqtt_parse(publish_sp, sizeof publish_sp, 4, &m), 0);
	ck_assert_uint_eq(m.qos, 1);
	ck_assert_uint_eq(m.packet_id, 42);
	ck_assert(streq(&m.topic, "plant/p1/setpts"));
	ck_assert_uint_eq(m.payload_len, 2);
	/* as 5.0 the two payload bytes would be a property block */
	ck_assert_int_eq(mqtt_parse(publish_sp, sizeof publish_sp, 5, &m),
	    IDS_EMALFORMED);
}
END_TEST

START_TEST(test_subscribe)
{
	struct mqtt_pdu m;

	ck_assert_int_eq(mqtt_parse(subscribe311, sizeof subscribe311, 4, &m),
	    0);
	ck_assert_uint_eq(m.type, MQTT_SUBSCRIBE);
	ck_assert_uint_eq(m.packet_id, 1);
	ck_assert_uint_eq(m.n_filters, 1);
	ck_assert(streq(&m.filters[0], "SampleTopic"));
	ck_assert(!m.sub_sys && !m.sub_all);

	ck_assert_int_eq(mqtt_parse(subscribe5, sizeof subscribe5, 5, &m), 0);
	ck_assert_uint_eq(m.n_filters, 2);
	ck_assert(streq(&m.filters[1], "topicY"));

	ck_assert_int_eq(mqtt_parse(subscribe_sys, sizeof subscribe_sys, 4,
	    &m), 0);
	ck_assert_uint_eq(m.n_filters, 2);
	ck_assert(m.sub_sys);
	ck_assert(m.sub_all);
}
END_TEST

START_TEST(test_connack)
{
	static const uint8_t ok[] = { 0x20, 0x02, 0x01, 0x00 };
	struct mqtt_pdu m;

	ck_assert_int_eq(mqtt_parse(connack_bad, sizeof connack_bad, 4, &m), 0);
	ck_assert_uint_eq(m.type, MQTT_CONNACK);
	ck_assert_uint_eq(m.return_code, 4);
	ck_assert(mqtt_connack_refused(&m));
	ck_assert_int_eq(mqtt_parse(ok, sizeof ok, 4, &m), 0);
	ck_assert(m.session_present);
	ck_assert(!mqtt_connack_refused(&m));
}
END_TEST

START_TEST(test_malformed)
{
	static const uint8_t longlen[] = { 0x30, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t type0[] = { 0x00, 0x00 };
	static const uint8_t qos3[] = { 0x36, 0x02, 0x00, 0x00 };
	static const uint8_t sub_flags[] = { 0x80, 0x05, 0x00, 0x01, 0x00,
	    0x00, 0x00 };
	static const uint8_t sub_empty[] = { 0x82, 0x02, 0x00, 0x01 };
	static const uint8_t ping_body[] = { 0xc0, 0x01, 0x00 };
	uint8_t b[sizeof connect31];
	struct mqtt_pdu m;
	size_t len;

	ck_assert_int_eq(mqtt_parse(longlen, sizeof longlen, 4, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_frame_len(longlen, sizeof longlen, &len),
	    IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(type0, sizeof type0, 4, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(qos3, sizeof qos3, 4, &m), IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(sub_flags, sizeof sub_flags, 4, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(sub_empty, sizeof sub_empty, 4, &m),
	    IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(ping_body, sizeof ping_body, 4, &m),
	    IDS_EMALFORMED);
	memcpy(b, connect31, sizeof b);
	b[4] = 'X';			/* protocol name "MXIsdp" */
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, &m), IDS_EMALFORMED);
	memcpy(b, connect31, sizeof b);
	b[10] = 0x04;			/* level 4 with MQIsdp */
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, &m), IDS_EMALFORMED);
	memcpy(b, connect31, sizeof b);
	b[11] = 0x03;			/* reserved flag bit */
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, &m), IDS_EMALFORMED);
	memcpy(b, connect31, sizeof b);
	b[11] = 0x82;			/* user name flag, no user name */
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, &m), IDS_EMALFORMED);
	memcpy(b, connect31, sizeof b);
	b[15] = 0x18;			/* client id past the packet */
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, &m), IDS_EMALFORMED);
	ck_assert_int_eq(mqtt_parse(b, sizeof b, 0, NULL), IDS_EINVAL);
	ck_assert_int_eq(mqtt_frame_len(b, sizeof b, NULL), IDS_EINVAL);
}
END_TEST

START_TEST(test_frame_len)
{
	uint8_t two[sizeof connect31 + sizeof connack_bad];
	struct mqtt_pdu m;
	size_t len;

	memcpy(two, connect31, sizeof connect31);
	memcpy(two + sizeof connect31, connack_bad, sizeof connack_bad);
	ck_assert_int_eq(mqtt_frame_len(two, 0, &len), IDS_EAGAIN);
	ck_assert_int_eq(mqtt_frame_len(two, 1, &len), IDS_EAGAIN);
	ck_assert_int_eq(mqtt_frame_len(two, 2, &len), 0);
	ck_assert_uint_eq(len, sizeof connect31);
	ck_assert_int_eq(mqtt_frame_len(connect5, 2, &len), IDS_EAGAIN);
	ck_assert_int_eq(mqtt_frame_len(connect5, 3, &len), 0);
	ck_assert_uint_eq(len, sizeof connect5);
	ck_assert_int_eq(mqtt_parse(two + sizeof connect31,
	    sizeof connack_bad, 4, &m), 0);
	ck_assert_uint_eq(m.type, MQTT_CONNACK);
}
END_TEST

START_TEST(test_prefixes)
{
	size_t i, k = (size_t)_i;
	struct mqtt_pdu m;
	uint8_t *c;
	int rc;

	for (i = 0; i < NFIX && k >= fixtures[i].len; i++)
		k -= fixtures[i].len;
	ck_assert_uint_lt(i, NFIX);
	c = tu_dup_exact(fixtures[i].bytes, k);
	rc = mqtt_parse(c, k, fixtures[i].level, &m);
	ck_assert_msg(rc == IDS_ETRUNC, "%s[:%zu]: rc %d", fixtures[i].name,
	    k, rc);
	ck_assert(!mqtt_probe(c, k));
	free(c);
}
END_TEST

static Suite *
mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *tc = tcase_create("core");
	size_t i, total = 0;

	for (i = 0; i < NFIX; i++)
		total += fixtures[i].len;
	tcase_add_test(tc, test_connect);
	tcase_add_test(tc, test_publish);
	tcase_add_test(tc, test_subscribe);
	tcase_add_test(tc, test_connack);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_frame_len);
	tcase_add_loop_test(tc, test_prefixes, 0, (int)total);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mqtt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
