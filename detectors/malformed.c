/*
 * malformed.c - industrial PDUs the dissectors rejected (bad MBAP length,
 * bad DNP3 CRC, wrong protocol id...).  Malformed traffic is data, not an
 * error: a low-severity alert per sender/receiver, storms folded by the
 * alert engine, and counted in --stats.
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"

static void
mal_on(void *state, struct det_ctx *ctx, const struct det_malformed *m)
{
	struct det_alert a;
	char det[64], title[160];

	(void)state;
	memset(&a, 0, sizeof(a));
	det_endpoint_from_flow(&a.src, m->flow, m->sender_is_cli);
	det_endpoint_from_flow(&a.dst, m->flow, !m->sender_is_cli);
	snprintf(det, sizeof(det), "%s.malformed", ics_proto_name(m->proto));
	snprintf(title, sizeof(title), "Malformed %s: %s", ics_proto_name(m->proto),
	    m->what);
	a.detector = det;
	a.severity = SEV_LOW;
	a.title = title;
	a.proto = ics_proto_name(m->proto);
	a.ts = m->ts;
	a.details = cJSON_CreateObject();
	cJSON_AddStringToObject(a.details, "problem", m->what);
	a.src.port = 0;
	det_alert(ctx, &a);
}

const struct detector det_malformed = {
	.name = "malformed",
	.severity = SEV_LOW,
	.on_malformed = mal_on,
};
