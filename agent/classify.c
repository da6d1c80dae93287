/*
 * classify.c - nDPI 4.2 per flow, bounded, state freed as soon as final.
 */
#include "agent/classify.h"

#include <ndpi_api.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/decode.h"
#include "dissectors/flow.h"

struct classifier {
	struct ndpi_detection_module_struct	*ndpi;
	unsigned				 max_packets;
	uint32_t				 flow_size;
	struct cls_stats			 st;
};

struct classifier *
cls_new(unsigned max_packets, char *err, size_t errlen)
{
	struct classifier *c;
	NDPI_PROTOCOL_BITMASK all;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (c->ndpi == NULL) {
		snprintf(err, errlen, "nDPI initialisation failed");
		free(c);
		return NULL;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	ndpi_finalize_initialization(c->ndpi);
	c->max_packets = max_packets ? max_packets : 1;
	c->flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
	return c;
}

void
cls_free(struct classifier *c)
{
	if (c == NULL)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

static void
release(struct classifier *c, struct flow *f)
{
	if (f->ndpi != NULL) {
		c->st.live--;
		if (NDPI_ISSET_BIT(f->ndpi->risk, NDPI_CLEAR_TEXT_CREDENTIALS))
			f->cleartext_creds = 1;
		ndpi_free_flow(f->ndpi);
		f->ndpi = NULL;
	}
	f->cls_done = 1;
}

/*
 * nDPI keeps dissecting some flows after naming them (TLS certificates,
 * DNS answers, HTTP responses).  We only need more for protocols that can
 * carry clear-text credentials; every other flow's state is freed at once.
 */
static int
wants_more(const struct flow *f)
{
	switch (f->ndpi_app != NDPI_PROTOCOL_UNKNOWN ? f->ndpi_app : f->ndpi_master) {
	case NDPI_PROTOCOL_HTTP:
	case NDPI_PROTOCOL_FTP_CONTROL:
	case NDPI_PROTOCOL_TELNET:
	case NDPI_PROTOCOL_MQTT:
	case NDPI_PROTOCOL_MAIL_POP:
	case NDPI_PROTOCOL_MAIL_IMAP:
	case NDPI_PROTOCOL_MAIL_SMTP:
		return 1;
	}
	return f->ndpi_master == NDPI_PROTOCOL_HTTP;
}

static void
take(struct flow *f, ndpi_protocol r)
{
	f->ndpi_master = r.master_protocol;
	f->ndpi_app = r.app_protocol;
	f->ndpi_category = (uint16_t)r.category;
}

void
cls_packet(struct classifier *c, struct flow *f, const struct pkt *p, int dir)
{
	ndpi_protocol r;
	uint64_t ms;

	(void)dir;
	if (f->cls_done || p->layer != PKT_IP || p->fragment)
		return;
	if (f->ndpi == NULL) {
		f->ndpi = calloc(1, c->flow_size);
		if (f->ndpi == NULL) {
			f->cls_done = 1;
			return;
		}
		if (++c->st.live > c->st.max_live)
			c->st.max_live = c->st.live;
	}
	ms = p->ts / 1000;
	r = ndpi_detection_process_packet(c->ndpi, f->ndpi, p->l3,
	    (unsigned short)(p->l3_len > 65535 ? 65535 : p->l3_len), ms);
	f->ndpi_pkts++;
	if (r.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
	    r.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
		take(f, r);
		if (!wants_more(f) ||
		    !ndpi_extra_dissection_possible(c->ndpi, f->ndpi) ||
		    f->ndpi_pkts >= c->max_packets)
			release(c, f);
		return;
	}
	if (f->ndpi_pkts >= c->max_packets)
		cls_finish(c, f);
}

void
cls_finish(struct classifier *c, struct flow *f)
{
	ndpi_protocol r;
	uint8_t guessed = 0;

	if (f->cls_done)
		return;
	if (f->ndpi != NULL) {
		c->st.gave_up++;
		r = ndpi_detection_giveup(c->ndpi, f->ndpi, 1, &guessed);
		if (f->ndpi_app == NDPI_PROTOCOL_UNKNOWN &&
		    f->ndpi_master == NDPI_PROTOCOL_UNKNOWN)
			take(f, r);
	}
	release(c, f);
}

const char *
cls_app_name(const struct classifier *c, const struct flow *f, char *buf,
    size_t len)
{
	ndpi_protocol r;

	memset(&r, 0, sizeof(r));
	r.master_protocol = f->ndpi_master;
	r.app_protocol = f->ndpi_app;
	r.category = (ndpi_protocol_category_t)f->ndpi_category;
	return ndpi_protocol2name(c->ndpi, r, buf, (u_int)len);
}

const char *
cls_category_name(const struct classifier *c, const struct flow *f)
{
	return ndpi_category_get_name(c->ndpi,
	    (ndpi_protocol_category_t)f->ndpi_category);
}

const char *
cls_proto_name(const struct classifier *c, const struct flow *f, char *buf,
    size_t len)
{
	size_t i;

	if (f->ics != ICS_NONE) {
		snprintf(buf, len, "%s", ics_proto_name((enum ics_proto)f->ics));
		return buf;
	}
	cls_app_name(c, f, buf, len);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return buf;
}

int
cls_has_cleartext_credentials(const struct flow *f)
{
	return f->cleartext_creds;
}

const struct cls_stats *
cls_stats(const struct classifier *c)
{
	return &c->st;
}
