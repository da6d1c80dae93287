/*
 * clog_evidence.h - evidence pcaps in the central log, both backends: one
 * row per alert (site, agent, seq) in the table evidence, created when
 * the first pcap arrives.  The alert's `evidence.sha256` names the bytes,
 * so what is stored can be checked against the hash-chained alert.
 */
#ifndef ICSENTRY_BROKER_CLOG_EVIDENCE_H
#define ICSENTRY_BROKER_CLOG_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/central_log.h"

/* Largest pcap accepted (bytes). */
#define CLOG_EVIDENCE_MAX	(4u << 20)

/*
 * Store the pcap of alert (site, agent, seq); a re-delivery replaces the
 * same bytes.  Returns 0, IDS_EINVAL (not a pcap, too large), IDS_EIO.
 */
int	clog_evidence_put(struct central_log *db, const char *site,
	    const char *agent, int64_t seq, const void *pcap, size_t len,
	    int64_t at_us);

/*
 * The pcap of alert (site, agent, seq): 0 with *out (malloc'd) and *len,
 * 1 when none is stored, negative on error.
 */
int	clog_evidence_get(struct central_log *db, const char *site,
	    const char *agent, int64_t seq, void **out, size_t *len);

/* Does data look like a pcap file (either byte order, us or ns)? */
int	clog_evidence_is_pcap(const void *data, size_t len);

/*
 * icsentry-log evidence [--db FILE] SITE/AGENT SEQ: the pcap to stdout.
 * argv[0] is "evidence"; returns the exit code.
 */
int	clog_evidence_cli(int argc, char **argv, const char *default_db);

#endif
