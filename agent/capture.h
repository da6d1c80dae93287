/*
 * capture.h - libpcap, offline (pcap/pcapng file or stdin) or live.
 */
#ifndef ICSENTRY_AGENT_CAPTURE_H
#define ICSENTRY_AGENT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cap_opts {
	const char	*iface;		/* live capture, or NULL */
	const char	*file;		/* offline file, "-" = stdin, or NULL */
	const char	*filter;	/* BPF, or NULL */
	int		 snaplen;
	bool		 promisc;
	int		 buffer_mb;	/* kernel buffer for live capture */
	int		 timeout_ms;	/* live read timeout */
};

struct cap_stats {
	uint64_t	received;	/* packets the kernel saw (live) */
	uint64_t	dropped;	/* dropped by the kernel (live) */
	uint64_t	if_dropped;	/* dropped by the interface (live) */
};

struct cap;

/* One captured frame; data is borrowed until the next cap_next(). */
struct cap_frame {
	const uint8_t	*data;
	uint32_t	 caplen, wirelen;
	uint64_t	 ts;		/* microseconds since the epoch */
	bool		 bad_ts;	/* the record's stamp was out of range */
};

/* The latest capture time icsentry represents: 9999-12-31T23:59:59Z. */
#define CAP_TS_MAX_S	253402300799ull

/*
 * Open a capture.  On failure returns NULL with one line in err naming the
 * file or interface and the problem; *bad_input is set when the cause is
 * the input itself (not a capture, empty, unsupported link type), which
 * the caller reports with exit code 2.
 */
struct cap *cap_open(const struct cap_opts *o, char *err, size_t errlen,
    bool *bad_input);

/*
 * Next frame: 1 = got one, 0 = live timeout (no packet), -1 = end of file,
 * -2 = error (text in cap_error()).
 */
int cap_next(struct cap *c, struct cap_frame *fr);

/*
 * Offline: hand up to max frames to fn, one call each, in file order (one
 * pcap_dispatch instead of a pcap_next_ex per frame).  Returns the number
 * handed, 0 when cap_break() stopped it before any frame (call again),
 * -1 at the end of the file, -2 on error (text in cap_error()).  A frame's
 * data is borrowed for the call only.
 */
typedef void (*cap_frame_fn)(void *arg, const struct cap_frame *fr);
int cap_dispatch(struct cap *c, int max, cap_frame_fn fn, void *arg);
/* From fn: make cap_dispatch return before the next frame. */
void cap_break(struct cap *c);

/* Like cap_next, but never waits (draining the ring at shutdown). */
int cap_next_nowait(struct cap *c, struct cap_frame *fr);

int cap_datalink(const struct cap *c);
const char *cap_datalink_name(const struct cap *c);
const char *cap_error(const struct cap *c);
void cap_stats(struct cap *c, struct cap_stats *st);
bool cap_is_live(const struct cap *c);
/* Offline: bytes of the file read so far and its size (0 if unknown). */
void cap_progress(const struct cap *c, uint64_t *pos, uint64_t *size);
void cap_close(struct cap *c);

#endif
