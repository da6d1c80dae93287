/*
 * rd.h - bounds-checked cursor over packet bytes.
 *
 * Every read of packet payload in icsentry goes through these helpers.
 * The first read past the end sets a sticky err flag; from then on every
 * read returns 0 and every skip fails, so a parser may read a whole header
 * and test r.err once.  No pointer arithmetic past the end is ever formed:
 * lengths are compared as "n > left" in size_t.
 */
#ifndef ICSENTRY_LIB_RD_H
#define ICSENTRY_LIB_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t	*p;	/* next unread byte */
	size_t		 left;	/* bytes remaining after p */
	bool		 err;	/* sticky: a read ran past the end */
};

static inline void
rd_init(struct rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->left = p != NULL ? len : 0;
	r->err = false;
}

static inline bool
rd_need(struct rd *r, size_t n)
{
	if (r->err || n > r->left) {
		r->err = true;
		return false;
	}
	return true;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->err ? 0 : r->left;
}

static inline const uint8_t *
rd_ptr(const struct rd *r)
{
	return r->p;
}

static inline uint8_t
rd_u8(struct rd *r)
{
	uint8_t v;

	if (!rd_need(r, 1))
		return 0;
	v = r->p[0];
	r->p += 1;
	r->left -= 1;
	return v;
}

static inline uint16_t
rd_be16(struct rd *r)
{
	uint16_t v;

	if (!rd_need(r, 2))
		return 0;
	v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return v;
}

static inline uint16_t
rd_le16(struct rd *r)
{
	uint16_t v;

	if (!rd_need(r, 2))
		return 0;
	v = (uint16_t)((unsigned)r->p[1] << 8 | r->p[0]);
	r->p += 2;
	r->left -= 2;
	return v;
}

static inline uint32_t
rd_be24(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 3))
		return 0;
	v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	r->left -= 3;
	return v;
}

static inline uint32_t
rd_le24(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 3))
		return 0;
	v = (uint32_t)r->p[2] << 16 | (uint32_t)r->p[1] << 8 | r->p[0];
	r->p += 3;
	r->left -= 3;
	return v;
}

static inline uint32_t
rd_be32(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 4))
		return 0;
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return v;
}

static inline uint32_t
rd_le32(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 4))
		return 0;
	v = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 |
	    (uint32_t)r->p[1] << 8 | r->p[0];
	r->p += 4;
	r->left -= 4;
	return v;
}

static inline bool
rd_skip(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return false;
	r->p += n;
	r->left -= n;
	return true;
}

/* Copy n bytes out; on a short read dst is zeroed and err set. */
static inline bool
rd_copy(struct rd *r, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t i;

	if (!rd_need(r, n)) {
		for (i = 0; i < n; i++)
			d[i] = 0;
		return false;
	}
	for (i = 0; i < n; i++)
		d[i] = r->p[i];
	r->p += n;
	r->left -= n;
	return true;
}

/* Peek at byte off (0 = next unread) without consuming; 0 if absent. */
static inline uint8_t
rd_peek(const struct rd *r, size_t off)
{
	if (r->err || off >= r->left)
		return 0;
	return r->p[off];
}

/*
 * Carve the next n bytes into child (a length-prefixed field) and advance
 * past them.  On a short read child is empty and both are in error.
 */
static inline bool
rd_sub(struct rd *r, size_t n, struct rd *child)
{
	if (!rd_need(r, n)) {
		rd_init(child, NULL, 0);
		child->err = true;
		return false;
	}
	rd_init(child, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

#endif
