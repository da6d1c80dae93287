/*
 * mqtt_out_journal.c - the MQTT publisher's queue and its journal on disk
 * (segments, spill, the writer thread, loading after a restart), plus
 * logging and small helpers.  See mqtt_out.c for the design; the journal
 * and the queue are guarded by qmu.
 */

#include "agent/mqtt_out.h"
#include "agent/mqtt_out_int.h"
#include <MQTTAsync.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/cfg.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/mqttconf.h"

/* Wake the supervisor. */
void
mqtt_out_kick(struct mqtt_out *m)
{
	pthread_mutex_lock(&m->cvmu);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->cvmu);
}

/* Messages the broker answered so far (delivered or refused). */
uint64_t
mqtt_out_answered(struct mqtt_out *m)
{
	return atomic_load(&m->delivered) + atomic_load(&m->refused);
}

size_t
mqtt_out_queue_len(struct mqtt_out *m)
{
	size_t n;

	pthread_mutex_lock(&m->qmu);
	n = m->nq;
	pthread_mutex_unlock(&m->qmu);
	return n;
}

/* ---- logging ---------------------------------------------------------- */

void
mqtt_out_log_stderr(void *ctx, const char *line)
{
	(void)ctx;
	log_info("mqtt: %s", line);
}

void
mqtt_out_say(struct mqtt_out *m, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->log(m->log_ctx, line);
}

/* A failing reconnect repeats itself: say it once until it changes. */
void
mqtt_out_say_failure(struct mqtt_out *m, const char *what)
{
	bool same;

	pthread_mutex_lock(&m->log_mu);
	same = strcmp(m->last_fail, what) == 0;
	if (!same)
		snprintf(m->last_fail, sizeof(m->last_fail), "%s", what);
	pthread_mutex_unlock(&m->log_mu);
	if (!same)
		mqtt_out_say(m, "cannot connect to %s: %s; buffering and retrying",
		    m->uri, what);
}

/* ---- the journal ------------------------------------------------------ */

static uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0)
		h = (h ^ *c++) * 16777619u;
	return h;
}

/* FNV-1a's 64-bit offset basis and prime */
#define SUM2_BASIS	14695981039346656037ull
#define SUM2_PRIME	1099511628211ull

/*
 * The "ICS2" checksum's step: 8 bytes at a time (host order: a journal
 * never leaves its host), each word xored in, multiplied and its high half
 * folded down, then the tail byte by byte.  It only has to tell a torn or
 * garbled record from a sound one.
 */
static uint64_t
sum2(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t w;

	for (; n >= 8; n -= 8, c += 8) {
		memcpy(&w, c, 8);
		h = (h ^ w) * SUM2_PRIME;
		h ^= h >> 32;
	}
	while (n-- > 0)
		h = (h ^ *c++) * SUM2_PRIME;
	return h;
}

/* A record's checksum by its magic: topic, then payload. */
static uint32_t
journal_sum(uint32_t magic, const void *t, size_t tl, const void *p,
    size_t pl)
{
	uint64_t h;

	if (magic == JOURNAL_MAGIC)
		return fnv1a(fnv1a(2166136261u, t, tl), p, pl);
	h = sum2(sum2(SUM2_BASIS, t, tl), p, pl);
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * The seq of an alert's JSON: the first ,"seq": is the top-level member
 * (a quote inside a string value is always escaped, and seq comes before
 * the nested members).  -1 when absent.
 */
int64_t
mqtt_out_alert_seq(const char *p, size_t len)
{
	static const char key[] = ",\"seq\":";
	const char *k = memmem(p, len, key, sizeof(key) - 1);
	int64_t v = 0;
	size_t i;

	if (k == NULL)
		return -1;
	i = (size_t)(k - p) + sizeof(key) - 1;
	if (i >= len || p[i] < '0' || p[i] > '9')
		return -1;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool
is_alert_topic(const char *topic)
{
	return strstr(topic, "/alert/") != NULL;
}

static void
journal_path(const struct mqtt_out *m, uint64_t qseq, const char *ext,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s/q%016" PRIx64 ".%s", m->jdir, qseq, ext);
}

static void
seg_path(const struct mqtt_out *m, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/s%016" PRIx64 ".seg", m->jdir, id);
}

/* The seq and hash of an alert's JSON (the hash is its last member). */
bool
mqtt_out_alert_state(const char *p, size_t len, uint64_t *seq, char hash[65])
{
	static const char key[] = "\"hash\":\"";
	int64_t v = mqtt_out_alert_seq(p, len);

	if (v < 0 || len < sizeof(key) - 1 + 64 + 2 ||
	    memcmp(p + len - 66 - (sizeof(key) - 1), key, sizeof(key) - 1) != 0)
		return false;
	memcpy(hash, p + len - 66, 64);
	hash[64] = '\0';
	*seq = (uint64_t)v;
	return true;
}

/* publish() appends no more to the current segment; the writer's next
 * round syncs and closes it, and it goes once settled (qmu held). */
static void
retire(struct mqtt_out *m)
{
	m->cur = NULL;
	m->wretired = true;
	pthread_cond_signal(&m->wcv);
}

/* How large a segment grows before publish() starts another. */
static uint64_t
seg_cap(const struct mqtt_out *m)
{
	uint64_t cap = m->max_jbytes / 16;

	return cap < MQTT_OUT_SEG_BYTES ? cap : MQTT_OUT_SEG_BYTES;
}

/*
 * Append n records (n <= 2; q[i]'s topic, payload[i]: q[i] may have no
 * copy of it) to the current segment (qmu held), opening a new one when
 * they do not fit or it was retired (journal_del: all of it settled):
 * magic, topic length, topic, retained, payload length, payload, checksum
 * (host order: the journal does not travel).
 * One write(2): a killed agent leaves it complete or torn, and a torn
 * record (the last one) fails its checksum when loaded.
 */
int
mqtt_out_journal_append(struct mqtt_out *m, struct qmsg *const *q,
    const char *const *payload, int n)
{
	char path[PATH_MAX];
	uint32_t magic = JOURNAL_MAGIC2, tl[2], pl[2], sum[2];
	uint8_t ret[2];
	struct iovec v[14];
	struct seg *sg;
	ssize_t w;
	size_t total = 0, off;
	int i;

	if (n < 1 || n > 2)
		return IDS_EINVAL;
	for (i = 0; i < n; i++) {
		tl[i] = (uint32_t)strlen(q[i]->topic);
		pl[i] = (uint32_t)q[i]->len;
		ret[i] = (uint8_t)q[i]->retained;
		total += 4 + 4 + tl[i] + 1 + 4 + pl[i] + 4;
	}
	if (m->jbytes + total > m->max_jbytes)
		return IDS_EAGAIN;
	if (m->cur != NULL && m->cur->bytes > 0 &&
	    m->cur->bytes + total > seg_cap(m))
		retire(m);
	if (m->cur == NULL) {
		sg = calloc(1, sizeof(*sg));
		if (sg == NULL)
			return IDS_EIO;
		sg->id = q[0]->qseq;
		seg_path(m, sg->id, path, sizeof(path));
		sg->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
		    O_CLOEXEC, 0600);
		if (sg->fd < 0) {
			free(sg);
			return IDS_EIO;
		}
		/*
		 * its blocks now, past its size: appends then find them
		 * allocated (ext4's write path was 15% cheaper in a storm);
		 * best effort, the size and what a load reads are unchanged
		 */
		(void)fallocate(sg->fd, FALLOC_FL_KEEP_SIZE, 0,
		    (off_t)seg_cap(m));
		if (m->segs_tail != NULL)
			m->segs_tail->next = sg;
		else
			m->segs = sg;
		m->segs_tail = sg;
		m->cur = sg;
	}
	sg = m->cur;
	for (i = 0; i < n; i++) {
		sum[i] = journal_sum(magic, q[i]->topic, tl[i], payload[i],
		    pl[i]);
		v[7 * i + 0] = (struct iovec){ &magic, 4 };
		v[7 * i + 1] = (struct iovec){ &tl[i], 4 };
		v[7 * i + 2] = (struct iovec){ q[i]->topic, tl[i] };
		v[7 * i + 3] = (struct iovec){ &ret[i], 1 };
		v[7 * i + 4] = (struct iovec){ &pl[i], 4 };
		v[7 * i + 5] = (struct iovec){ (void *)(uintptr_t)payload[i],
		    pl[i] };
		v[7 * i + 6] = (struct iovec){ &sum[i], 4 };
	}
	w = writev(sg->fd, v, 7 * n);
	if (w != (ssize_t)total) {
		/* take a short write back, so the segment stays readable */
		if (w > 0 && ftruncate(sg->fd, (off_t)sg->bytes) != 0)
			m->cur = NULL;
		return IDS_EIO;
	}
	off = sg->bytes;
	for (i = 0; i < n; i++) {
		q[i]->seg = sg;
		q[i]->off = off + 4 + 4 + tl[i] + 1 + 4;
		off += 4 + 4 + tl[i] + 1 + 4 + pl[i] + 4;
	}
	sg->bytes += total;
	sg->live += (size_t)n;
	m->jbytes += total;
	return 0;
}

/* sg holds a chain head the state file on disk does not have (qmu). */
static bool
holds_head(const struct mqtt_out *m, const struct seg *sg)
{
	return m->state_path != NULL && sg->head > m->st_disk;
}

/*
 * A segment whose last message is settled goes (qmu held), unless it
 * holds the chain's head the state file on disk does not have yet: then
 * at the next checkpoint (release_settled).
 */
static void
seg_release(struct mqtt_out *m, struct seg *sg)
{
	char path[PATH_MAX];
	struct seg **pp, *prev = NULL;

	if (sg->live > 0 || sg->fd >= 0 || sg == m->cur || holds_head(m, sg))
		return;
	if (m->rseg == sg) {
		close(m->rfd);
		m->rseg = NULL;
	}
	seg_path(m, sg->id, path, sizeof(path));
	unlink(path);
	for (pp = &m->segs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sg) {
			*pp = sg->next;
			if (m->segs_tail == sg)
				m->segs_tail = prev;
			break;
		}
		prev = *pp;
	}
	m->jbytes -= sg->bytes;
	free(sg);
}

/* The state file on disk is at seq now: what waited for it goes (qmu). */
static void
release_settled(struct mqtt_out *m, uint64_t seq)
{
	struct seg *sg, *next;

	if (seq > m->st_disk)
		m->st_disk = seq;
	for (sg = m->segs; sg != NULL; sg = next) {
		next = sg->next;
		seg_release(m, sg);
	}
}

/*
 * At the end (the writer stopped): close the segments; one whose messages
 * are all settled goes, or a restart would send them again (unless it
 * holds a chain head the state file could not take: it is kept, and its
 * alerts go again, stored once).
 */
void
mqtt_out_journal_close(struct mqtt_out *m)
{
	char path[PATH_MAX];
	struct seg *sg;

	mqtt_out_unspill_end(m);
	while ((sg = m->segs) != NULL) {
		m->segs = sg->next;
		if (sg->fd >= 0)
			close(sg->fd);
		if (sg->live == 0 && !holds_head(m, sg)) {
			seg_path(m, sg->id, path, sizeof(path));
			unlink(path);
		}
		free(sg);
	}
	m->segs_tail = m->cur = NULL;
}

/* Settled: out of the journal (qmu held). */
static void
journal_del(struct mqtt_out *m, struct qmsg *q)
{
	char path[PATH_MAX];

	if (m->jdir == NULL)
		return;
	if (q->legacy) {
		/* only from an older version, loaded at start: its head is
		 * in the state file once the caller's mqtt_out_state_head
		 * (right after mqtt_out_new) has run */
		journal_path(m, q->qseq, "msg", path, sizeof(path));
		unlink(path);
	} else if (q->seg != NULL) {
		if (--q->seg->live == 0 && q->seg == m->cur)
			retire(m);	/* all settled: it goes, also when idle */
		seg_release(m, q->seg);
		q->seg = NULL;
	}
}

/* Close the read fd unspill kept (qmu held). */
void
mqtt_out_unspill_end(struct mqtt_out *m)
{
	if (m->rseg != NULL) {
		close(m->rfd);
		m->rseg = NULL;
	}
}

/*
 * A spilled payload back from its segment (qmu held, q in flight: nothing
 * frees q or lets its segment go meanwhile).  The read and its buffer are
 * made without qmu: in an alert storm most of what is sent was spilled,
 * and a pread per message under qmu held up the capture thread's
 * publish.  Spilled messages go again in queue order, so one read fd,
 * kept for the segment read last, serves a run of them (not open, pread,
 * close per message); only the supervisor changes it, and a segment's
 * release closes it only when the segment has no live message.
 */
int
mqtt_out_unspill(struct mqtt_out *m, struct qmsg *q)
{
	char path[PATH_MAX], *buf;
	ssize_t got;
	int fd;

	if (q->payload != NULL)
		return 0;
	if (q->seg == NULL)
		return IDS_EIO;
	if (m->rseg != q->seg) {
		if (m->rseg != NULL)
			close(m->rfd);
		m->rseg = NULL;
		seg_path(m, q->seg->id, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			m->rseg = q->seg;
			m->rfd = fd;
		}
	}
	if (m->rseg == NULL)
		return IDS_EIO;
	fd = m->rfd;
	pthread_mutex_unlock(&m->qmu);
	buf = malloc(q->len > 0 ? (size_t)q->len : 1);
	got = buf != NULL ? pread(fd, buf, (size_t)q->len, (off_t)q->off) : -1;
	pthread_mutex_lock(&m->qmu);
	if (got != q->len) {
		free(buf);
		return buf == NULL ? IDS_ENOMEM : IDS_EIO;
	}
	q->payload = buf;
	m->nmem++;
	return 0;
}

/*
 * Memory holds at most max_buffered payloads (and what the sender read
 * back to send): the newest durable ones that are not in flight wait on
 * disk only (qmu held).  O(payloads freed), not O(queue).
 */
static void
spill(struct mqtt_out *m)
{
	struct qmsg *q;
	size_t n = 0;

	for (q = m->tail; q != NULL && m->nmem > (size_t)m->max_buffered;
	    q = q->prev) {
		/* what is older was spilled by an earlier round, or is the
		 * sender's (payloads go at the PUBACK): no walk over it */
		if (q->durable && !q->inflight && q->payload == NULL)
			break;
		if (!q->durable || q->inflight || q->seg == NULL)
			continue;
		free(q->payload);
		q->payload = NULL;
		m->nmem--;
		n++;
	}
	if (n > 0)
		atomic_fetch_add(&m->spilled, n);
}

/* fsync a file by name, then its directory (the rename or creation). */
static int
write_state(const char *path, uint64_t seq, const char *hash)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX], text[128], *slash;
	int fd, ok, n;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n = snprintf(text, sizeof(text), "icsentry-state 1\nseq %llu\n"
	    "hash %s\n", (unsigned long long)seq, hash);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* one write(2): also what tests/syncshim.c sees */
	ok = write(fd, text, (size_t)n) == n;
	ok = fsync(fd) == 0 && ok;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

int
mqtt_out_state_head(struct mqtt_out *m, uint64_t seq, const char hash[65],
    bool write)
{
	int rc = 0;

	if (m->state_path == NULL)
		return IDS_EINVAL;
	/* at start, before the first alert: qmu for the segments only */
	pthread_mutex_lock(&m->qmu);
	if (write && write_state(m->state_path, seq, hash) != 0)
		rc = IDS_EIO;
	if (rc == 0)
		release_settled(m, seq);
	pthread_mutex_unlock(&m->qmu);
	return rc;
}

/*
 * Whether the writer has a round to do (qmu held): messages to make
 * durable, a segment to close, the end, or a chain state checkpoint due.
 */
static bool
writer_due(const struct mqtt_out *m, int64_t now)
{
	return m->wstop || m->wfirst != NULL || m->wretired ||
	    (m->state_dirty && now >= m->st_due_us);
}

/*
 * The writer thread: group commit.  Each round makes what publish() wrote
 * since the last one durable: one fdatasync of the current segment (and
 * of any publish() retired meanwhile, which it then closes), one fsync of
 * the directory when a segment is new (its name), and only then lets
 * those messages be sent.  So nothing reaches the broker that a power
 * loss could take back.  The journal so also holds the chain's head (the
 * newest alert's seq and hash) durably; the state file is its checkpoint
 * (MQTT_OUT_STATE_US): written (file fsync, rename, directory fsync) at
 * most that often and at the end, not per round (three syncs more: in an
 * alert storm they were most of the disk's work and of the interrupts on
 * the capture thread's core).  A segment holding an alert newer than the
 * file on disk does not go (seg_release); each checkpoint lets those go
 * (release_settled).  So the state file, or failing that the journal,
 * always has the head of every alert sent; the agent continues from the
 * newer of the two at start (mqtt_out_journal_last, mqtt_out_state_head).
 * The capture thread never waits for a disk.  A segment open for
 * appending cannot go (seg_release), so the list stays valid outside qmu.
 */
void *
mqtt_out_writer(void *arg)
{
	struct mqtt_out *m = arg;
	struct qmsg *q, *mark;
	struct seg *sg, *work;
	struct timespec ts;
	uint64_t seq = 0;
	int64_t now;
	long gather = MQTT_OUT_GROUP_US, n;
	char hash[65];
	bool st, stfail, named, dirfail;

	pthread_mutex_lock(&m->qmu);
	for (;;) {
		while (!writer_due(m, mqtt_out_now_us())) {
			if (!m->state_dirty) {
				pthread_cond_wait(&m->wcv, &m->qmu);
				continue;
			}
			/* only a checkpoint to come: wait for it, or for work */
			ts.tv_sec = (time_t)(m->st_due_us / 1000000);
			ts.tv_nsec = (long)(m->st_due_us % 1000000) * 1000L;
			pthread_cond_timedwait(&m->wcv, &m->qmu, &ts);
		}
		if (m->wfirst == NULL && !m->state_dirty && !m->wretired)
			break;		/* stopping, all done */
		if (!m->wstop) {
			/* a group, not a message: what comes meanwhile joins */
			pthread_mutex_unlock(&m->qmu);
			mqtt_out_sleep_us(gather);
			pthread_mutex_lock(&m->qmu);
		}
		work = NULL;
		for (sg = m->segs; sg != NULL; sg = sg->next) {
			if (sg->fd < 0)
				continue;
			sg->wfd = sg->fd;
			sg->wclose = sg != m->cur;
			sg->wnext = work;
			work = sg;
		}
		m->wretired = false;
		mark = m->tail;
		now = mqtt_out_now_us();
		st = m->state_dirty && m->state_path != NULL && (m->wstop ||
		    now >= m->st_due_us);
		if (st) {
			seq = m->st_seq;
			memcpy(hash, m->st_hash, sizeof(hash));
			m->state_dirty = false;
			m->st_due_us = now + MQTT_OUT_STATE_US;
		}
		pthread_mutex_unlock(&m->qmu);

		named = true;
		for (sg = work; sg != NULL; sg = sg->wnext) {
			if (fdatasync(sg->wfd) != 0)
				mqtt_out_say(m, "journal fdatasync: %s", strerror(errno));
			if (sg->wclose)
				close(sg->wfd);
			named = named && sg->named;
			atomic_fetch_add(&m->syncs, 1);
		}
		/* named now, unless that fsync failed (the next round
		 * tries again) */
		if (!named && fsync(m->dirfd) != 0) {
			mqtt_out_say(m, "journal directory fsync: %s",
			    strerror(errno));
			dirfail = true;
		} else {
			dirfail = false;
		}

		pthread_mutex_lock(&m->qmu);
		while (work != NULL) {
			sg = work;
			work = sg->wnext;
			if (!dirfail)
				sg->named = true;
			if (sg->wclose) {
				sg->fd = -1;
				seg_release(m, sg);	/* all settled meanwhile? */
			}
		}
		now = mqtt_out_now_us();
		n = 0;
		for (q = m->wfirst; q != NULL; q = q->next) {
			q->durable = true;
			n++;
			if (q->alert && q->t_us > 0)
				mqtt_out_lat_add(&m->lat_durable, now - q->t_us);
			if (q == mark) {
				q = q->next;
				break;
			}
		}
		m->wfirst = q;
		/* the next group gathers longer when this one was large */
		gather = n * MQTT_OUT_GROUP_PER_MSG_US;
		gather = gather < MQTT_OUT_GROUP_US ? MQTT_OUT_GROUP_US :
		    gather > MQTT_OUT_GROUP_MAX_US ? MQTT_OUT_GROUP_MAX_US : gather;
		spill(m);
		pthread_mutex_unlock(&m->qmu);
		mqtt_out_kick(m);
		/*
		 * The checkpoint, once the group is durable and may go: the
		 * state file's three syncs delay no alert (a slow one held a
		 * whole group back when it came first)
		 */
		if (st) {
			stfail = write_state(m->state_path, seq, hash) != 0;
			if (stfail)
				mqtt_out_say(m, "cannot write state file %s: %s",
				    m->state_path, strerror(errno));
			pthread_mutex_lock(&m->qmu);
			if (stfail && !m->wstop)
				m->state_dirty = true;	/* at the next checkpoint */
			else if (!stfail)
				release_settled(m, seq);
			pthread_mutex_unlock(&m->qmu);
		}
		pthread_mutex_lock(&m->qmu);
	}
	pthread_mutex_unlock(&m->qmu);
	return NULL;
}

/* Read one journal file; NULL (and errno-less) when it is not sound. */
static struct qmsg *
journal_read(const char *path, uint64_t qseq)
{
	uint32_t magic, tl, pl, sum;
	uint8_t ret;
	struct qmsg *q;
	FILE *f;
	bool ok;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	q = NULL;
	ok = fread(&magic, 4, 1, f) == 1 && magic == JOURNAL_MAGIC &&
	    fread(&tl, 4, 1, f) == 1 && tl > 0 && tl < 65536 &&
	    (q = mqtt_out_qmsg_new(NULL, tl)) != NULL &&
	    fread(q->topic, 1, tl, f) == tl && fread(&ret, 1, 1, f) == 1 &&
	    fread(&pl, 4, 1, f) == 1 && pl < (1u << 28) &&
	    (q->payload = malloc(pl > 0 ? pl : 1)) != NULL &&
	    (pl == 0 || fread(q->payload, 1, pl, f) == pl) &&
	    fread(&sum, 4, 1, f) == 1 &&
	    sum == journal_sum(magic, q->topic, tl, q->payload, pl) &&
	    fgetc(f) == EOF;
	fclose(f);
	if (!ok) {
		if (q != NULL)
			mqtt_out_qmsg_free(q);
		return NULL;
	}
	q->qseq = qseq;
	q->len = (int)pl;
	q->retained = ret;
	return q;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
mqtt_out_queue_append(struct mqtt_out *m, struct qmsg *q)
{
	q->next = NULL;
	q->prev = m->tail;
	if (m->tail != NULL)
		m->tail->next = q;
	else
		m->head = q;
	m->tail = q;
	mqtt_out_index_add(m, q);
	m->nq++;
	if (m->scan == NULL)
		m->scan = q;
	if (q->aseq >= 0) {
		/* a central ack's walk may stop at the first alert past it */
		if (m->nunacked > 0 && q->aseq <= m->aseq_last)
			m->aseq_unsorted = true;
		m->aseq_last = q->aseq;
		m->nunacked++;
	}
}

static void
queue_unlink(struct mqtt_out *m, struct qmsg *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		m->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		m->tail = q->prev;
	m->nq--;
	if (m->scan == q)
		m->scan = q->next;
	mqtt_out_index_del(m, q);
	if (q->inflight)
		m->ninflight--;
	if (q->brokered)
		m->nbrokered--;
	if (q->aseq >= 0 && --m->nunacked == 0)
		m->aseq_unsorted = false;
}

struct qmsg *
mqtt_out_qmsg_new(const char *topic, size_t tl)
{
	struct qmsg *q = calloc(1, sizeof(*q) + tl + 1);

	if (q != NULL && topic != NULL)
		memcpy(q->topic, topic, tl);
	return q;
}

void
mqtt_out_qmsg_free(struct qmsg *q)
{
	free(q->payload);
	free(q);
}

static void	journal_del(struct mqtt_out *m, struct qmsg *q);

/* Settled: out of the queue, the journal and memory (qmu held). */
void
mqtt_out_drop_msg(struct mqtt_out *m, struct qmsg *q)
{
	queue_unlink(m, q);
	journal_del(m, q);
	if (q->payload != NULL)
		m->nmem--;
	mqtt_out_qmsg_free(q);
}

/* A message read back from the journal joins the queue, durable. */
static void
loaded(struct mqtt_out *m, struct qmsg *q)
{
	uint64_t seq;
	char hash[65];

	q->t_ms = mqtt_out_now_ms();
	q->durable = true;
	q->aseq = m->central_ack && is_alert_topic(q->topic) ?
	    mqtt_out_alert_seq(q->payload, (size_t)q->len) : -1;
	if (is_alert_topic(q->topic) && mqtt_out_alert_state(q->payload,
	    (size_t)q->len, &seq, hash)) {
		if (seq > m->jl_seq) {
			m->jl_seq = seq;
			memcpy(m->jl_hash, hash, sizeof(hash));
		}
		if (q->seg != NULL && seq > q->seg->head)
			q->seg->head = seq;
	}
	if (q->payload != NULL)
		m->nmem++;
	mqtt_out_queue_append(m, q);
	/* past the memory bound, payloads stay on disk */
	if (m->nmem > (size_t)m->max_buffered && q->seg != NULL) {
		free(q->payload);
		q->payload = NULL;
		m->nmem--;
	}
}

/*
 * One segment: its records in order up to the first that does not read
 * back sound (a torn last write of a killed agent); the rest of the file
 * is reported and counted as dropped.  Returns the records lost.
 */
static size_t
seg_load(struct mqtt_out *m, uint64_t id)
{
	char path[PATH_MAX];
	uint32_t magic, tl, pl, sum;
	size_t len = 0, off = 0, lost = 0;
	struct stat st;
	struct qmsg *q;
	struct seg *sg;
	char *buf = NULL;
	int fd;

	seg_path(m, id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		len = (size_t)st.st_size;
		buf = malloc(len);
		if (buf == NULL || read(fd, buf, len) != (ssize_t)len) {
			free(buf);
			buf = NULL;
			len = 0;
		}
	}
	close(fd);
	sg = calloc(1, sizeof(*sg));
	if (sg == NULL) {
		free(buf);
		return 0;
	}
	sg->id = id;
	sg->fd = -1;
	while (off + 13 <= len) {
		memcpy(&magic, buf + off, 4);
		memcpy(&tl, buf + off + 4, 4);
		if ((magic != JOURNAL_MAGIC && magic != JOURNAL_MAGIC2) ||
		    tl == 0 || tl >= 65536 || off + 13 + tl > len)
			break;
		memcpy(&pl, buf + off + 9 + tl, 4);
		if (pl >= (1u << 28) || off + 17 + tl + pl > len)
			break;
		memcpy(&sum, buf + off + 13 + tl + pl, 4);
		if (sum != journal_sum(magic, buf + off + 8, tl,
		    buf + off + 13 + tl, pl))
			break;
		q = mqtt_out_qmsg_new(buf + off + 8, tl);
		if (q == NULL || (q->payload = malloc(pl > 0 ? pl : 1)) ==
		    NULL) {
			if (q != NULL)
				mqtt_out_qmsg_free(q);
			break;
		}
		memcpy(q->payload, buf + off + 13 + tl, pl);
		q->len = (int)pl;
		q->retained = buf[off + 8 + tl];
		q->qseq = m->next_qseq++;
		q->seg = sg;
		q->off = off + 13 + tl;
		sg->live++;
		loaded(m, q);
		off += 17 + tl + pl;
	}
	if (off < len) {
		mqtt_out_say(m, "%s: %zu byte(s) after the last sound record "
		    "(a write cut short) ignored", path, len - off);
		lost = 1;
	}
	free(buf);
	sg->bytes = len;
	m->jbytes += len;
	if (m->segs_tail != NULL)
		m->segs_tail->next = sg;
	else
		m->segs = sg;
	m->segs_tail = sg;
	if (m->next_qseq <= id)
		m->next_qseq = id + 1;
	seg_release(m, sg);	/* nothing sound in it: gone */
	return lost;
}

/*
 * Load what an earlier run left, oldest first.  A file that does not read
 * back sound is renamed *.bad (kept for inspection), counted as dropped
 * and reported: never silently gone.
 */
int
mqtt_out_journal_load(struct mqtt_out *m, char *err, size_t errlen)
{
	char path[PATH_MAX], bad[PATH_MAX + 8];
	uint64_t *seqs = NULL, *t, qs, *segids = NULL;
	size_t n = 0, cap = 0, i, nbad = 0, nsegs = 0, capsegs = 0;
	struct dirent *e;
	struct qmsg *q;
	DIR *d;

	d = opendir(m->jdir);
	if (d == NULL) {
		snprintf(err, errlen, "persist_dir %s: %s", m->jdir,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char tail[8] = "";

		if (sscanf(e->d_name, "s%16" SCNx64 ".%3s", &qs, tail) == 2 &&
		    strcmp(tail, "seg") == 0) {
			if (nsegs == capsegs) {
				capsegs = capsegs ? capsegs * 2 : 64;
				t = realloc(segids, capsegs * sizeof(*segids));
				if (t == NULL)
					break;
				segids = t;
			}
			segids[nsegs++] = qs;
			continue;
		}
		if (sscanf(e->d_name, "q%16" SCNx64 ".%3s", &qs, tail) != 2)
			continue;
		if (strcmp(tail, "tmp") == 0) {	/* a write cut short */
			snprintf(path, sizeof(path), "%s/%s", m->jdir,
			    e->d_name);
			unlink(path);
			continue;
		}
		if (strcmp(tail, "msg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			t = realloc(seqs, cap * sizeof(*seqs));
			if (t == NULL)
				break;
			seqs = t;
		}
		seqs[n++] = qs;
	}
	closedir(d);
	if (n > 0)
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
	/* the one-file-per-message journal of an older version first */
	for (i = 0; i < n; i++) {
		journal_path(m, seqs[i], "msg", path, sizeof(path));
		q = journal_read(path, seqs[i]);
		if (q == NULL) {
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			nbad++;
			continue;
		}
		q->legacy = true;
		loaded(m, q);
	}
	if (n > 0)
		m->next_qseq = seqs[n - 1] + 1;
	free(seqs);
	if (nsegs > 0)
		qsort(segids, nsegs, sizeof(*segids), cmp_u64);
	for (i = 0; i < nsegs; i++)
		nbad += seg_load(m, segids[i]);
	free(segids);
	if (nbad > 0) {
		atomic_fetch_add(&m->dropped, nbad);
		mqtt_out_say(m, "%zu unreadable message(s) in %s kept as *.bad", nbad,
		    m->jdir);
	}
	if (m->nq > 0)
		mqtt_out_say(m, "%zu message(s) from an earlier run to send", m->nq);
	return 0;
}

int64_t
mqtt_out_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mqtt_out_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

void
mqtt_out_sleep_ms(int ms)
{
	mqtt_out_sleep_us((long)ms * 1000L);
}
