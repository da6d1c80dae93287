/*
 * capture.c - libpcap wrapper.  Setup order as in libpcap's capturetest:
 * pcap_create -> options -> pcap_activate (positive = warning) ->
 * pcap_setfilter.  Offline files go through pcap_fopen_offline so we keep
 * the FILE * for progress and can tell an empty file from garbage.
 */
#include "agent/capture.h"

#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dissectors/decode.h"
#include "lib/log.h"

/*
 * A capture file's stdio buffer.  libpcap freads each record's header and
 * data; with glibc's default buffer (st_blksize, 4 KiB) that is a read(2)
 * every ~40 packets of a polling capture.  The bytes and their order are
 * the same, only fewer, larger reads.
 */
#define CAP_IOBUF	(256 * 1024)

struct cap {
	pcap_t		*pc;
	FILE		*fp;		/* offline: the file libpcap reads */
	char		*iobuf;		/* offline: fp's stdio buffer */
	uint64_t	 size;
	bool		 live;
	bool		 nanos;		/* timestamps in nanoseconds */
	char		 err[PCAP_ERRBUF_SIZE + 256];
	char		 name[256];
	int		 fd;		/* live: selectable fd, -1 if none */
	int		 timeout_ms;	/* live: longest wait for a packet */
};

static void
describe_open_error(const char *file, const char *perr, FILE *fp, char *err,
    size_t errlen, bool *bad)
{
	struct stat st;

	*bad = true;
	if (fp != NULL && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not a capture", file);
		return;
	}
	if (strstr(perr, "truncated") != NULL) {
		snprintf(err, errlen, "%s: truncated capture header", file);
		return;
	}
	if (strstr(perr, "unknown file format") != NULL) {
		snprintf(err, errlen,
		    "%s: not a pcap or pcapng capture (unknown file format)", file);
		return;
	}
	snprintf(err, errlen, "%s: cannot read capture: %s", file, perr);
}

static struct cap *
open_offline(const struct cap_opts *o, struct cap *c, char *err, size_t errlen,
    bool *bad)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	FILE *fp;

	if (strcmp(o->file, "-") == 0) {
		fp = stdin;
		snprintf(c->name, sizeof(c->name), "(stdin)");
	} else {
		fp = fopen(o->file, "rb");
		if (fp == NULL) {
			snprintf(err, errlen, "%s: cannot open: %s", o->file,
			    strerror(errno));
			*bad = errno == ENOENT || errno == EISDIR || errno == EACCES;
			return NULL;
		}
		snprintf(c->name, sizeof(c->name), "%s", o->file);
		/*
		 * Only this thread reads fp (libpcap's freads, our ftell):
		 * no stream lock per call.  A larger buffer before any read.
		 */
		__fsetlocking(fp, FSETLOCKING_BYCALLER);
		c->iobuf = malloc(CAP_IOBUF);
		if (c->iobuf != NULL &&
		    setvbuf(fp, c->iobuf, _IOFBF, CAP_IOBUF) != 0) {
			free(c->iobuf);
			c->iobuf = NULL;
		}
		if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: is a directory", o->file);
			*bad = true;
			fclose(fp);
			free(c->iobuf);
			c->iobuf = NULL;
			return NULL;
		}
		if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
			c->size = (uint64_t)st.st_size;
	}
	c->pc = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (c->pc == NULL) {
		describe_open_error(c->name, perr, fp, err, errlen, bad);
		if (fp != stdin)
			fclose(fp);
		free(c->iobuf);
		c->iobuf = NULL;
		return NULL;
	}
	c->fp = fp;	/* now owned by pcap: pcap_close closes it */
	return c;
}

static struct cap *
open_live(const struct cap_opts *o, struct cap *c, char *err, size_t errlen,
    bool *bad)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	int rc;

	snprintf(c->name, sizeof(c->name), "%s", o->iface);
	c->pc = pcap_create(o->iface, perr);
	if (c->pc == NULL) {
		snprintf(err, errlen, "%s: %s", o->iface, perr);
		return NULL;
	}
	pcap_set_snaplen(c->pc, o->snaplen);
	pcap_set_promisc(c->pc, o->promisc ? 1 : 0);
	pcap_set_timeout(c->pc, o->timeout_ms > 0 ? o->timeout_ms : 100);
	/* batches (TPACKET_V3 blocks) rather than a wakeup per packet */
	pcap_set_immediate_mode(c->pc, 0);
	if (o->buffer_mb > 0)
		pcap_set_buffer_size(c->pc, o->buffer_mb * 1024 * 1024);
	rc = pcap_activate(c->pc);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot capture: %s%s%s", o->iface,
		    pcap_statustostr(rc), rc == PCAP_ERROR ? ": " : "",
		    rc == PCAP_ERROR ? pcap_geterr(c->pc) : "");
		*bad = rc == PCAP_ERROR_NO_SUCH_DEVICE;
		pcap_close(c->pc);
		c->pc = NULL;
		return NULL;
	}
	if (rc > 0)
		log_warn("%s: %s\n", o->iface,
		    pcap_statustostr(rc));
	c->live = true;
	/*
	 * With TPACKET_V3 an empty block is never handed over, so a blocking
	 * read on a quiet link waits forever and the agent would do no
	 * periodic work (stats, reloads).  Read non-blocking and wait in our
	 * own poll() with a timeout instead.
	 */
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 100;
	c->fd = pcap_get_selectable_fd(c->pc);
	if (c->fd >= 0 && pcap_setnonblock(c->pc, 1, perr) != 0)
		c->fd = -1;
	return c;
}

struct cap *
cap_open(const struct cap_opts *o, char *err, size_t errlen, bool *bad)
{
	struct bpf_program prog;
	struct cap *c;
	int dlt;

	*bad = false;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	if ((o->file != NULL ? open_offline(o, c, err, errlen, bad) :
	    open_live(o, c, err, errlen, bad)) == NULL) {
		free(c);
		return NULL;
	}
	dlt = pcap_datalink(c->pc);
	if (!decode_linktype_supported(dlt)) {
		const char *n = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen, "%s: unsupported link type %d (%s)",
		    c->name, dlt, n != NULL ? n : "unknown");
		*bad = true;
		cap_close(c);
		return NULL;
	}
	if (o->filter != NULL && o->filter[0] != '\0') {
		if (pcap_compile(c->pc, &prog, o->filter, 1,
		    PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errlen, "bad capture filter '%s': %s",
			    o->filter, pcap_geterr(c->pc));
			*bad = true;
			cap_close(c);
			return NULL;
		}
		if (pcap_setfilter(c->pc, &prog) != 0) {
			snprintf(err, errlen, "%s: cannot set filter: %s", c->name,
			    pcap_geterr(c->pc));
			pcap_freecode(&prog);
			cap_close(c);
			return NULL;
		}
		pcap_freecode(&prog);
	}
	return c;
}

/*
 * A record's time in microseconds.  The file says what it likes: a
 * classic pcap's 32-bit seconds are unsigned, but libpcap hands them over
 * sign-extended (negative from 2038 on), and pcapng's 64-bit stamps and
 * its resolution can put the time anywhere.  Times past 9999 would not
 * survive the round trip through RFC 3339 text (alerts, the learned
 * baseline), and tv_usec may exceed a second: both are clamped, *bad set.
 */
static uint64_t
frame_ts(const struct pcap_pkthdr *h, bool *bad)
{
	uint64_t s, us;

	s = h->ts.tv_sec >= 0 ? (uint64_t)h->ts.tv_sec :
	    h->ts.tv_sec >= INT32_MIN ? (uint64_t)(uint32_t)h->ts.tv_sec :
	    UINT64_MAX;
	us = h->ts.tv_usec >= 0 ? (uint64_t)h->ts.tv_usec : UINT64_MAX;
	*bad = false;
	if (s > CAP_TS_MAX_S) {
		s = CAP_TS_MAX_S;
		*bad = true;
	}
	if (us > 999999) {
		us = 999999;
		*bad = true;
	}
	return s * 1000000u + us;
}

int
cap_next(struct cap *c, struct cap_frame *fr)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	rc = pcap_next_ex(c->pc, &h, &data);
	if (rc == 1) {
		fr->data = data;
		fr->caplen = h->caplen;
		fr->wirelen = h->len;
		fr->ts = frame_ts(h, &fr->bad_ts);
		return 1;
	}
	if (rc == 0) {
		/* live and nothing ready: wait a bounded time for more */
		if (c->live && c->fd >= 0) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

			(void)poll(&pfd, 1, c->timeout_ms);
		}
		return 0;
	}
	if (rc == PCAP_ERROR_BREAK)
		return c->live ? -3 : -1;
	snprintf(c->err, sizeof(c->err), "%s: %s", c->name, pcap_geterr(c->pc));
	return -2;
}

struct cap_disp {
	cap_frame_fn	 fn;
	void		*arg;
};

static void
disp_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	const struct cap_disp *d = (const struct cap_disp *)(void *)user;
	struct cap_frame fr;

	fr.data = data;
	fr.caplen = h->caplen;
	fr.wirelen = h->len;
	fr.ts = frame_ts(h, &fr.bad_ts);
	d->fn(d->arg, &fr);
}

int
cap_dispatch(struct cap *c, int max, cap_frame_fn fn, void *arg)
{
	struct cap_disp d = { .fn = fn, .arg = arg };
	int rc;

	rc = pcap_dispatch(c->pc, max, disp_frame, (u_char *)&d);
	if (rc > 0)
		return rc;
	if (rc == 0)		/* a file: its end (live: nothing ready) */
		return c->live ? 0 : -1;
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(c->err, sizeof(c->err), "%s: %s", c->name, pcap_geterr(c->pc));
	return -2;
}

void
cap_break(struct cap *c)
{
	pcap_breakloop(c->pc);
}

int
cap_datalink(const struct cap *c)
{
	return pcap_datalink(c->pc);
}

const char *
cap_datalink_name(const struct cap *c)
{
	const char *n = pcap_datalink_val_to_name(pcap_datalink(c->pc));

	return n != NULL ? n : "unknown";
}

const char *
cap_error(const struct cap *c)
{
	return c->err;
}

void
cap_stats(struct cap *c, struct cap_stats *st)
{
	struct pcap_stat ps;

	memset(st, 0, sizeof(*st));
	if (!c->live || pcap_stats(c->pc, &ps) != 0)
		return;
	st->received = ps.ps_recv;
	st->dropped = ps.ps_drop;
	st->if_dropped = ps.ps_ifdrop;
}

int
cap_next_nowait(struct cap *c, struct cap_frame *fr)
{
	int saved = c->fd, rc;

	/* one non-blocking read: no poll() wait when nothing is there */
	c->fd = -1;
	rc = cap_next(c, fr);
	c->fd = saved;
	return rc;
}

bool
cap_is_live(const struct cap *c)
{
	return c->live;
}

void
cap_progress(const struct cap *c, uint64_t *pos, uint64_t *size)
{
	long off;

	*size = c->size;
	*pos = 0;
	if (c->fp != NULL && c->size > 0 && (off = ftell(c->fp)) > 0)
		*pos = (uint64_t)off;
}

void
cap_close(struct cap *c)
{
	if (c == NULL)
		return;
	if (c->pc != NULL)
		pcap_close(c->pc);
	free(c->iobuf);		/* after pcap_close's fclose */
	free(c);
}
