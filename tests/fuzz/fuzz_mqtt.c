/*
 * fuzz_mqtt.c - libFuzzer target for the MQTT 3.1/3.1.1/5.0 parser.
 *
 * Parses the input at every protocol level and walks it as a TCP stream
 * of control packets.  Broken invariants trap.
 */
#include <stddef.h>
#include <stdint.h>

#include "dissectors/mqtt.h"
#include "lib/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	if (p < data || n > size || (size_t)(p - data) > size - n)
		__builtin_trap();
}

static void
check(const uint8_t *p, size_t n, unsigned level)
{
	struct mqtt_pdu m;
	unsigned i;
	int rc;

	rc = mqtt_parse(p, n, level, &m);
	if (rc != 0) {
		if (rc != IDS_ETRUNC && rc != IDS_EMALFORMED)
			__builtin_trap();
		return;
	}
	if (m.frame_len > n || m.type == 0 || m.type > 15 ||
	    m.payload_len > n)
		__builtin_trap();
	inside(p, n, m.client_id.p, m.client_id.len);
	inside(p, n, m.username.p, m.username.len);
	inside(p, n, m.will_topic.p, m.will_topic.len);
	inside(p, n, m.topic.p, m.topic.len);
	for (i = 0; i < m.n_filters && i < MQTT_MAX_FILTERS; i++)
		inside(p, n, m.filters[i].p, m.filters[i].len);
	(void)mqtt_type_name(m.type);
	(void)mqtt_connack_refused(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len;
	unsigned level;

	(void)mqtt_probe(data, size);
	for (level = 3; level <= 5; level++)
		check(data, size, level);
	while (off < size) {
		if (mqtt_frame_len(data + off, size - off, &len) != 0 ||
		    len > size - off)
			break;
		check(data + off, len, 5);
		off += len;
	}
	return 0;
}
