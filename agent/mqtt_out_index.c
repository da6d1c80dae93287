/*
 * mqtt_out_index.c - what keeps the publisher's queue walks short during an
 * alert storm (all under qmu): an index of the queue by qseq (a PUBACK
 * finds its message without walking the backlog that waits for the central
 * ack), the send cursor (pump starts at the first message that may still
 * need sending) and the count of brokered messages.
 *
 * Before this, each PUBACK, each pump round, each central ack and each
 * 10 ms poll of mqtt_out_close walked the queue from its head, under the
 * lock the capture thread takes to publish: with 50,000 alerts waiting for
 * the collector that was O(n) per message, and the capture thread waited
 * on the lock (tests/bench/storm.py).
 */

#include "agent/mqtt_out_int.h"

#include <stdlib.h>

#define QINDEX_MIN 1024

/* Bucket of a qseq: consecutive qseqs fill consecutive buckets. */
static size_t
bucket(const struct mqtt_out *m, uint64_t qseq)
{
	return (size_t)qseq & (m->nbuckets - 1);
}

/* Twice the buckets (or the first ones); on no memory, longer chains. */
static void
grow(struct mqtt_out *m)
{
	size_t n = m->nbuckets != 0 ? m->nbuckets * 2 : QINDEX_MIN, i, b;
	struct qmsg **nb, *q, *next;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		for (q = m->buckets[i]; q != NULL; q = next) {
			next = q->hnext;
			b = (size_t)q->qseq & (n - 1);
			q->hnext = nb[b];
			nb[b] = q;
		}
	}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
}

void
mqtt_out_index_add(struct mqtt_out *m, struct qmsg *q)
{
	size_t b;

	if (m->nq >= m->nbuckets)
		grow(m);
	if (m->buckets == NULL) {
		q->hnext = NULL;
		return; /* no memory: mqtt_out_index_find walks */
	}
	b = bucket(m, q->qseq);
	q->hnext = m->buckets[b];
	m->buckets[b] = q;
}

void
mqtt_out_index_del(struct mqtt_out *m, struct qmsg *q)
{
	struct qmsg **pp;

	if (m->buckets == NULL)
		return;
	for (pp = &m->buckets[bucket(m, q->qseq)]; *pp != NULL;
	     pp = &(*pp)->hnext) {
		if (*pp == q) {
			*pp = q->hnext;
			break;
		}
	}
	q->hnext = NULL;
}

struct qmsg *
mqtt_out_index_find(struct mqtt_out *m, uint64_t qseq)
{
	struct qmsg *q;

	if (m->buckets == NULL) {
		for (q = m->head; q != NULL; q = q->next)
			if (q->qseq == qseq)
				return q;
		return NULL;
	}
	for (q = m->buckets[bucket(m, qseq)]; q != NULL; q = q->hnext)
		if (q->qseq == qseq)
			return q;
	return NULL;
}

void
mqtt_out_index_free(struct mqtt_out *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
}

/*
 * q may be sent again (no longer in flight or brokered): the send cursor
 * goes back to it if it is past it.  The queue is in qseq order.
 */
void
mqtt_out_rewind(struct mqtt_out *m, struct qmsg *q)
{
	if (m->scan == NULL || q->qseq < m->scan->qseq)
		m->scan = q;
}

void
mqtt_out_set_brokered(struct mqtt_out *m, struct qmsg *q, bool brokered)
{
	if (q->brokered == brokered)
		return;
	q->brokered = brokered;
	if (brokered) {
		m->nbrokered++;
	} else {
		m->nbrokered--;
		mqtt_out_rewind(m, q);
	}
}
