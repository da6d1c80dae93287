/*
 * s7_detect.c - rules on decoded S7comm jobs and userdata.
 *
 *   s7.plc_stop             PLC STOP (0x29)                       T0858
 *   s7.plc_start            PLC control P_PROGRAM (run/start)     T0858
 *   s7.plc_control          other PLC control services            T0858
 *   s7.block_insert         PLC control _INSE/_DELE (activate or
 *                           delete downloaded blocks)             T0843
 *   s7.download             request/download block/ended          T0843
 *   s7.upload               start upload/upload/end upload        T0845
 *   s7.unauthorized_write   write var from a host [policy] s7_writers
 *                           (or the baseline) does not allow      T0855
 *                           (values in a DB / analog output: + T0836)
 *   s7.szl_identification   SZL module/component identification
 *                           from a host not allowed to discover   T0888
 *   s7.set_clock            userdata set clock from a host s7_writers
 *                           does not allow                 T0849 + T0855
 *   s7plus.unauthorized_write  S7comm-plus SetVariable / SetMultiVariables
 *                           from a host s7_writers does not allow T0855
 *   s7.block_list           userdata block functions (list blocks, block
 *                           info) from a host neither in s7_writers nor
 *                           in discovery_allowed           T0861 + T0845
 *   s7.password_guessing    password_tries userdata security-group
 *                           password requests (group 5, subfunction 1)
 *                           from one client to one PLC within
 *                           password_window_s: an engineering tool sends
 *                           the password once per connection, a guesser
 *                           again and again (whatever it is allowed to
 *                           do: a stolen engineering station guesses
 *                           too)                            T0859 + T0806
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "dissectors/flow.h"
#include "dissectors/s7comm.h"
#include "lib/ipmap.h"

/* per (client, server): password requests in the current window */
struct pw_pair {
	uint64_t	start;
	uint32_t	tries;
	uint8_t		alerted;
};

struct s7_state {
	struct ipmap	*pw;
	uint64_t	 window_us;
	uint32_t	 tries;
};

static const struct cfg_key keys[] = {
	{ "password_tries", CFG_INT, "5", 2, 1000000,
	  "password requests (userdata security group) from one client to one PLC within password_window_s that make guessing" },
	{ "password_window_s", CFG_INT, "60", 1, 86400, "seconds" },
	{ "max_pairs", CFG_INT, "4096", 16, 10000000,
	  "client/PLC pairs whose password requests are counted" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL }
};

static int
s7_init(const struct cfg *c, const char *sec, void **state, char *err,
    size_t errlen)
{
	struct s7_state *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->pw = ipmap_new((size_t)cfg_int(c, sec, "max_pairs"),
	    sizeof(struct pw_pair))) == NULL) {
		free(s);
		snprintf(err, errlen, "s7: out of memory");
		return -1;
	}
	s->tries = (uint32_t)cfg_int(c, sec, "password_tries");
	s->window_us = (uint64_t)cfg_int(c, sec, "password_window_s") * 1000000u;
	*state = s;
	return 0;
}

static void
s7_destroy(void *state)
{
	struct s7_state *s = state;

	if (s != NULL)
		ipmap_free(s->pw);
	free(s);
}

static void
raise_s7x(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct s7_comm *m, const char *det, enum det_severity sev,
    const char *tech, const char *tech2, const char *title)
{
	struct det_alert a;
	char pi[64];

	det_alert_from_pdu(&a, pdu);
	a.detector = det;
	a.severity = sev;
	a.technique = tech;
	a.techniques[0] = tech2;
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "rosctr", m->rosctr);
	if (m->has_func) {
		cJSON_AddNumberToObject(a.details, "function", m->func);
		cJSON_AddStringToObject(a.details, "function_name",
		    s7_func_name(m->func));
	}
	if (m->pi_service != NULL && m->pi_service_len > 0) {
		size_t n = m->pi_service_len < sizeof(pi) - 1 ?
		    m->pi_service_len : sizeof(pi) - 1;
		size_t i;

		for (i = 0; i < n; i++)
			pi[i] = m->pi_service[i] >= 0x20 && m->pi_service[i] < 0x7f ?
			    (char)m->pi_service[i] : '.';
		pi[n] = '\0';
		cJSON_AddStringToObject(a.details, "pi_service", pi);
	}
	if (m->has_block) {
		cJSON_AddNumberToObject(a.details, "block_type", m->block_type);
		cJSON_AddNumberToObject(a.details, "block_number", m->block_number);
	}
	if (m->has_szl) {
		cJSON_AddNumberToObject(a.details, "szl_id", m->szl_id);
		cJSON_AddNumberToObject(a.details, "szl_index", m->szl_index);
	}
	det_alert(ctx, &a);
}

static void
raise_s7(struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct s7_comm *m, const char *det, enum det_severity sev,
    const char *tech, const char *title)
{
	raise_s7x(ctx, pdu, m, det, sev, tech, NULL, title);
}

/*
 * A write var that sets values, not bits, in a data block (DB, instance
 * DB) or an analog output: where a program keeps its setpoints, limits
 * and recipes.  Without a learned range that is the context there is:
 * the write is also a parameter change (T0836).  Bits, outputs and
 * flags are commands (T0855 alone).
 */
static bool
writes_values(const struct s7_comm *m)
{
	uint8_t i;

	for (i = 0; i < m->nitems; i++) {
		const struct s7_item *it = &m->items[i];

		if (it->any && it->transport_size != 0x01 &&
		    (it->area == S7_AREA_DB || it->area == S7_AREA_DI ||
		    it->area == S7_AREA_ANAOUT))
			return true;
	}
	return false;
}

static bool
pi_is(const struct s7_comm *m, const char *name)
{
	size_t n = strlen(name);

	return m->pi_service != NULL && m->pi_service_len == n &&
	    memcmp(m->pi_service, name, n) == 0;
}

/*
 * S7comm-plus (S7-1200/1500): a request (opcode 0x31) whose function
 * writes (SetVariable 0x04F2, SetMultiVariables 0x0542, as the
 * descriptor's code_ops says) from a host s7_writers does not allow.
 */
static void
s7plus_pdu(struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct s7_plus *p = &pdu->u.s7->plus;
	struct det_endpoint src;
	struct det_alert a;
	char title[128];

	if (!p->has_opcode || p->opcode != 0x31 || !p->has_function ||
	    (p->function != 0x04F2 && p->function != 0x0542))
		return;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);
	/* S7comm-plus shares S7comm's writers ([policy] s7_writers) */
	if (det_policy(ctx, ICS_S7COMMPLUS, DET_ROLE_WRITER, &src) != DET_DENIED)
		return;
	det_alert_from_pdu(&a, pdu);
	a.detector = "s7plus.unauthorized_write";
	a.severity = SEV_HIGH;
	a.technique = "T0855";
	snprintf(title, sizeof(title),
	    "S7comm-plus %s from a host not allowed to write",
	    s7_plus_func_name(p->function));
	a.title = title;
	a.details = cJSON_CreateObject();
	cJSON_AddNumberToObject(a.details, "function", p->function);
	cJSON_AddStringToObject(a.details, "function_name",
	    s7_plus_func_name(p->function));
	cJSON_AddNumberToObject(a.details, "version", p->version);
	det_alert(ctx, &a);
}

/* One more password request from this client to this PLC. */
static void
password_try(struct s7_state *s, struct det_ctx *ctx, const struct det_pdu *pdu,
    const struct s7_comm *m)
{
	const struct flow *f = pdu->flow;
	bool cli = pdu->sender_is_cli;
	uint8_t key[32];
	size_t n = f->af == 6 ? 16 : 4;
	struct pw_pair *p;
	char title[128];
	int fresh;

	memcpy(key, cli ? f->cli.ip : f->srv.ip, n);
	memcpy(key + n, cli ? f->srv.ip : f->cli.ip, n);
	p = ipmap_put(s->pw, key, 2 * n, pdu->ts, &fresh);
	if (p == NULL)
		return;
	if (fresh || pdu->ts - p->start > s->window_us) {
		p->start = pdu->ts;
		p->tries = 0;
		p->alerted = 0;
	}
	if (++p->tries < s->tries || p->alerted)
		return;
	p->alerted = 1;
	snprintf(title, sizeof(title),
	    "S7 password guessing: %u password requests in %.0f s",
	    p->tries, (double)(pdu->ts - p->start) / 1e6);
	raise_s7x(ctx, pdu, m, "s7.password_guessing", SEV_HIGH, "T0859",
	    "T0806", title);
}

static void
s7_pdu(void *state, struct det_ctx *ctx, const struct det_pdu *pdu)
{
	const struct s7_comm *m;
	struct det_endpoint src;
	uint16_t szl;

	if (pdu->proto == ICS_S7COMMPLUS && pdu->from_client) {
		s7plus_pdu(ctx, pdu);
		return;
	}
	if (pdu->proto != ICS_S7COMM || !pdu->from_client)
		return;
	m = &pdu->u.s7->s7;
	det_endpoint_from_flow(&src, pdu->flow, pdu->sender_is_cli);

	if (m->rosctr == S7_ROSCTR_USERDATA && m->has_ud &&
	    m->ud_type == S7_UD_TYPE_REQUEST) {
		if (m->ud_group == S7_UD_GROUP_SECURITY && m->ud_subfunc == 0x01) {
			password_try(state, ctx, pdu, m);
			return;
		}
		/* time group: set clock (2, and 4 on newer CPUs) */
		if (m->ud_group == S7_UD_GROUP_TIME &&
		    (m->ud_subfunc == 0x02 || m->ud_subfunc == 0x04)) {
			if (det_policy_listed(ctx, ICS_S7COMM, DET_ROLE_WRITER, &src) ==
			    DET_DENIED)
				raise_s7x(ctx, pdu, m, "s7.set_clock", SEV_HIGH,
				    "T0849", "T0855",
				    "S7 set PLC clock from a host not allowed");
			return;
		}
		/* block group: list blocks, list of a type, block info: the
		 * program's inventory, from a host that neither writes nor
		 * is allowed to discover */
		if (m->ud_group == S7_UD_GROUP_BLOCK) {
			if (det_policy_listed(ctx, ICS_S7COMM, DET_ROLE_DISCOVERY, &src) ==
			    DET_DENIED &&
			    det_policy_listed(ctx, ICS_S7COMM, DET_ROLE_MASTER, &src) !=
			    DET_ALLOWED)
				raise_s7x(ctx, pdu, m, "s7.block_list", SEV_MEDIUM,
				    "T0861", "T0845",
				    "S7 program block list/info read");
			return;
		}
	}
	if (m->rosctr == S7_ROSCTR_USERDATA && m->has_szl) {
		enum det_verdict v;

		/* module (0x11) and component (0x1C) identification lists */
		szl = m->szl_id & 0xff;
		if (szl != 0x11 && szl != 0x1c)
			return;
		v = det_policy(ctx, ICS_S7COMM, DET_ROLE_DISCOVERY, &src);
		if (v != DET_ALLOWED)
			raise_s7(ctx, pdu, m, "s7.szl_identification",
			    v == DET_DENIED ? SEV_MEDIUM : SEV_INFO, "T0888",
			    "S7 SZL read of module identification");
		return;
	}
	if (m->rosctr != S7_ROSCTR_JOB || !m->has_func)
		return;
	switch (m->func) {
	case S7_FUNC_PLC_STOP:
		raise_s7(ctx, pdu, m, "s7.plc_stop", SEV_CRITICAL, "T0858",
		    "S7 PLC STOP command");
		return;
	case S7_FUNC_PLC_CONTROL:
		if (pi_is(m, "P_PROGRAM"))
			raise_s7(ctx, pdu, m, "s7.plc_start", SEV_HIGH, "T0858",
			    "S7 PLC control: start (P_PROGRAM)");
		else if (pi_is(m, "_INSE") || pi_is(m, "_DELE"))
			raise_s7(ctx, pdu, m, "s7.block_insert", SEV_HIGH, "T0843",
			    pi_is(m, "_INSE") ? "S7 PLC control: insert downloaded block" :
			    "S7 PLC control: delete block");
		else
			raise_s7(ctx, pdu, m, "s7.plc_control", SEV_HIGH, "T0858",
			    "S7 PLC control command");
		return;
	case S7_FUNC_REQUEST_DOWNLOAD:
	case S7_FUNC_DOWNLOAD_BLOCK:
	case S7_FUNC_DOWNLOAD_ENDED:
		raise_s7(ctx, pdu, m, "s7.download", SEV_HIGH, "T0843",
		    "S7 program block download");
		return;
	case S7_FUNC_START_UPLOAD:
	case S7_FUNC_UPLOAD:
	case S7_FUNC_END_UPLOAD:
		raise_s7(ctx, pdu, m, "s7.upload", SEV_MEDIUM, "T0845",
		    "S7 program block upload");
		return;
	case S7_FUNC_WRITE_VAR:
		if (det_policy(ctx, ICS_S7COMM, DET_ROLE_WRITER, &src) == DET_DENIED)
			raise_s7x(ctx, pdu, m, "s7.unauthorized_write", SEV_HIGH,
			    "T0855", writes_values(m) ? "T0836" : NULL,
			    "S7 write var from a host not allowed to write");
		return;
	}
}

const struct detector det_s7 = {
	.name = "s7",
	.pdu_protos = DET_PROTO(ICS_S7COMM) | DET_PROTO(ICS_S7COMMPLUS),
	.severity = SEV_HIGH,
	.keys = keys,
	.init = s7_init,
	.on_pdu = s7_pdu,
	.destroy = s7_destroy,
};
