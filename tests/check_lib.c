/*
 * check_lib.c - unit suite for the shared building blocks in lib/ that
 * have no suite of their own: RFC 3339 time text, the atomic file writer,
 * value -> name tables, the cJSON integer reader, ipmap's hash and memo,
 * and the evidence digest.
 */
#include <check.h>
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomic.h"
#include "lib/chain.h"
#include "lib/ipmap.h"
#include "lib/json.h"
#include "lib/restab.h"
#include "lib/rfc3339.h"
#include "lib/tail.h"
#include "lib/tok.h"
#include "tests/testutil.h"

START_TEST(test_rfc3339_format)
{
	char b[40];

	ck_assert_str_eq(
	    rfc3339_format(0, b, sizeof(b)), "1970-01-01T00:00:00.000000Z");
	ck_assert_str_eq(rfc3339_format(1715580000080514ull, b, sizeof(b)),
	    "2024-05-13T06:00:00.080514Z");
}
END_TEST

/* pages of a table n pages long that are resident now */
static int
resident_pages(void *p, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t i, n = len / (size_t)pg;
	unsigned char v[64];
	int in = 0;

	ck_assert_uint_le(n, sizeof(v));
	ck_assert_int_eq(mincore(p, len, v), 0);
	for (i = 0; i < n; i++)
		in += v[i] & 1;
	return in;
}

/* live: every page touched up front; -r: none until used; zero either way */
START_TEST(test_restab_resident)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 32 * pg;
	unsigned char *a, *b;

	ck_assert(restab_resident());
	a = restab_new(32, pg);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(resident_pages(a, len), 32);
	restab_set_resident(false);
	b = restab_new(32, pg);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(resident_pages(b, len), 0);
	ck_assert_int_eq(a[len - 1] | b[len - 1] | b[5 * pg], 0);
	ck_assert_int_eq(resident_pages(b, len), 2);
	restab_set_resident(true);
	ck_assert_ptr_null(restab_new(SIZE_MAX / 2, 4));
	restab_free(a, 32, pg);
	restab_free(b, 32, pg);
}
END_TEST

/* signed: the central log's times, before the epoch too */
START_TEST(test_rfc3339_format_signed)
{
	char b[32];

	rfc3339_format_signed(1715580000080514ll, b, sizeof(b));
	ck_assert_str_eq(b, "2024-05-13T06:00:00.080514Z");
	rfc3339_format_signed(-1, b, sizeof(b));
	ck_assert_str_eq(b, "1969-12-31T23:59:59.999999Z");
	rfc3339_format_signed(-1500000, b, sizeof(b));
	ck_assert_str_eq(b, "1969-12-31T23:59:58.500000Z");
}
END_TEST

START_TEST(test_rfc3339_parse)
{
	uint64_t t = 1;
	char b[40];

	ck_assert_int_eq(rfc3339_parse("2024-05-13T06:00:00.080514Z", &t), 0);
	ck_assert_uint_eq(t, 1715580000080514ull);
	ck_assert_int_eq(rfc3339_parse("2024-05-13T06:00:00Z", &t), 0);
	ck_assert_uint_eq(t, 1715580000000000ull);
	ck_assert_int_eq(rfc3339_parse("2024-05-13T06:00:00.5Z", &t), 0);
	ck_assert_uint_eq(t, 1715580000500000ull);
	/* round trip */
	ck_assert_int_eq(
	    rfc3339_parse(
		rfc3339_format(1764842123456789ull, b, sizeof(b)), &t),
	    0);
	ck_assert_uint_eq(t, 1764842123456789ull);
	/* not UTC, not a date, out of range */
	ck_assert_int_eq(rfc3339_parse("2024-05-13T06:00:00+01:00", &t), -1);
	ck_assert_int_eq(rfc3339_parse("2024-13-13T06:00:00Z", &t), -1);
	ck_assert_int_eq(rfc3339_parse("1969-12-31T23:59:59Z", &t), -1);
	ck_assert_int_eq(rfc3339_parse("yesterday", &t), -1);
	ck_assert_int_eq(rfc3339_parse(NULL, &t), -1);
}
END_TEST

START_TEST(test_atomic_write)
{
	char dir[512], path[600], tmp[620];
	struct stat st;
	size_t len;
	char *text;

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "atomic"), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(atomic_write(path, "first", 5, true), 0);
	text = tu_read_file(path, &len);
	ck_assert_str_eq(text, "first\n");
	free(text);
	ck_assert_int_eq(atomic_write(path, "2nd", 3, false), 0);
	text = tu_read_file(path, &len);
	ck_assert_str_eq(text, "2nd");
	free(text);
	ck_assert_int_eq(stat(tmp, &st), -1);
	/* a directory that does not exist: -1 with errno, nothing left */
	snprintf(path, sizeof(path), "%s/nope/state", dir);
	errno = 0;
	ck_assert_int_eq(atomic_write(path, "x", 1, false), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* not a regular file: written in place, never renamed over */
	ck_assert_int_eq(atomic_write("/dev/null", "x", 1, true), 0);
	ck_assert_int_eq(stat("/dev/null", &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_atomic_mkdirs)
{
	char dir[512], path[600];
	struct stat st;

	ck_assert_int_eq(tu_mkdtemp(dir, sizeof(dir), "mkdirs"), 0);
	/* every missing level, with the mode asked for */
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(atomic_mkdirs(path, 0700), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	/* again, and with a trailing slash: nothing to do */
	ck_assert_int_eq(atomic_mkdirs(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/", dir);
	ck_assert_int_eq(atomic_mkdirs(path, 0700), 0);
	/* a file in the way: -1 with errno */
	snprintf(path, sizeof(path), "%s/a/f", dir);
	ck_assert_int_eq(atomic_write(path, "x", 1, false), 0);
	snprintf(path, sizeof(path), "%s/a/f/d", dir);
	errno = 0;
	ck_assert_int_eq(atomic_mkdirs(path, 0700), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	errno = 0;
	ck_assert_int_eq(atomic_mkdirs("", 0700), -1);
	ck_assert_int_eq(errno, EINVAL);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_tok)
{
	static const struct tok t[] = { { 1, "one" }, { 5, "five" } };

	ck_assert_str_eq(tok_name(t, TOK_N(t), 5, "?"), "five");
	ck_assert_str_eq(tok_name(t, TOK_N(t), 2, "?"), "?");
}
END_TEST

/* tail_word: the bytes of a memcpy into a zeroed word (x86 is little-endian) */
START_TEST(test_tail_word)
{
	static const uint8_t b[8] = { 0x01, 0x82, 0x03, 0xf4, 0x05, 0x96, 0x07,
		0xff };
	static const uint64_t want[8] = { 0, 0x01, 0x8201, 0x038201, 0xf4038201,
		0x05f4038201ull, 0x9605f4038201ull, 0x079605f4038201ull };
	size_t n;

	for (n = 0; n < 8; n++) {
		uint64_t w = 0;

		ck_assert_uint_eq(tail_word(b, n), want[n]);
		memcpy(&w, b, n);
		ck_assert_uint_eq(tail_word(b, n), w);
		/* only p[0..n-1] count: the byte after them changes nothing */
		{
			uint8_t c[8];

			memcpy(c, b, 8);
			c[n] ^= 0xff;
			ck_assert_uint_eq(tail_word(c, n), want[n]);
		}
	}
}
END_TEST

START_TEST(test_json_get_uint)
{
	cJSON *o = cJSON_Parse("{\"unit\":7,\"big\":300,\"half\":1.5}");
	char err[160];
	double v = -1;

	ck_assert_int_eq(
	    json_get_uint(o, "unit", 0, 255, -1, &v, err, sizeof(err)), 0);
	ck_assert_double_eq(v, 7);
	ck_assert_int_eq(
	    json_get_uint(o, "db", 0, 65535, 0, &v, err, sizeof(err)), 0);
	ck_assert_double_eq(v, 0);
	ck_assert_int_eq(
	    json_get_uint(o, "area", 0, 255, -1, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "missing member \"area\"");
	ck_assert_int_eq(
	    json_get_uint(o, "big", 0, 255, -1, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"big\": expected an integer 0..255");
	ck_assert_int_eq(
	    json_get_uint(o, "half", 0, 255, -1, &v, err, sizeof(err)), -1);
	cJSON_Delete(o);
}
END_TEST

/* ipmap_hash as it was written with a memcpy of the tail */
static uint32_t
ref_ipmap_hash(const void *key, size_t klen)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15u ^ klen, w;
	size_t i = 0;

	for (; i + 8 <= klen; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	if (i < klen) {
		w = 0;
		memcpy(&w, p + i, klen - i);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (uint32_t)h;
}

/*
 * The hash places entries, and ipmap_each visits them in slot order (the
 * scan detector's tick alerts in that order): its values must not move.
 */
START_TEST(test_ipmap_hash_values)
{
	uint8_t buf[48];
	size_t klen, off, k, differ = 0, n = 0;
	uint32_t x = 12345;

	for (k = 0; k < 2000; k++) {
		for (off = 0; off < sizeof(buf); off++) {
			x = x * 1103515245u + 12345u;
			buf[off] = (uint8_t)(x >> 16);
		}
		for (klen = 1; klen <= IPMAP_KEY_MAX; klen++)
			for (off = 0; off < 8; off++, n++)
				differ += ipmap_hash(buf + off, klen) !=
				    ref_ipmap_hash(buf + off, klen);
	}
	ck_assert_uint_eq(n, 2000 * IPMAP_KEY_MAX * 8);
	ck_assert_uint_eq(differ, 0);
	/* a known value: an IPv4 address key */
	ck_assert_uint_eq(ipmap_hash("\x0a\x00\x00\x01", 4),
	    ref_ipmap_hash("\x0a\x00\x00\x01", 4));
}
END_TEST

/*
 * ipmap_put_memo answers what ipmap_put would, and forgets its value once
 * an entry moved (rehash) or went (delete, eviction).
 */
START_TEST(test_ipmap_memo)
{
	struct ipmap *m = ipmap_new(4, sizeof(uint64_t));
	struct ipmap_memo c;
	uint8_t key[8] = { 10, 0, 0, 1, 10, 0, 0, 2 }, other[4];
	uint64_t *v, *w;
	int fresh, i;

	ck_assert_ptr_nonnull(m);
	memset(&c, 0, sizeof(c));
	ck_assert_ptr_null(ipmap_memo_get(m, &c, 7, 1));
	v = ipmap_put_memo(m, &c, 7, key, sizeof(key), 1, &fresh);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(fresh, 1);
	*v = 42;
	/* a hit: the same value, not fresh, no lookup */
	w = ipmap_put_memo(m, &c, 7, key, sizeof(key), 2, &fresh);
	ck_assert_ptr_eq(w, v);
	ck_assert_int_eq(fresh, 0);
	ck_assert_ptr_eq(ipmap_memo_get(m, &c, 7, 3), v);
	/* another id misses */
	ck_assert_ptr_null(ipmap_memo_get(m, &c, 8, 3));
	/* the map deletes the entry: the memo must not hand it out */
	ipmap_del(m, key, sizeof(key));
	ck_assert_ptr_null(ipmap_memo_get(m, &c, 7, 4));
	v = ipmap_put_memo(m, &c, 7, key, sizeof(key), 4, &fresh);
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(*v, 0);
	*v = 43;
	/* fill past the cap (4): evictions and rehashes invalidate */
	for (i = 0; i < 8; i++) {
		memcpy(other, &i, 4);
		ck_assert_ptr_nonnull(ipmap_put(
		    m, other, sizeof(other), (uint64_t)(10 + i), &fresh));
	}
	ck_assert_ptr_null(ipmap_memo_get(m, &c, 7, 20));
	ck_assert_uint_gt(ipmap_recycled(m), 0);
	ipmap_free(m);
}
END_TEST

/* FIPS 180-2's vectors, and the same digest again (the fetched MD) */
START_TEST(test_chain_sha256_hex)
{
	char out[CHAIN_HEX_LEN + 1];
	int i;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(chain_sha256_hex("abc", 3, out), 0);
		ck_assert_str_eq(out,
		    "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad");
	}
	ck_assert_int_eq(chain_sha256_hex("", 0, out), 0);
	ck_assert_str_eq(out,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}
END_TEST

static Suite *
lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc3339_format);
	tcase_add_test(tc, test_rfc3339_format_signed);
	tcase_add_test(tc, test_restab_resident);
	tcase_add_test(tc, test_rfc3339_parse);
	tcase_add_test(tc, test_atomic_write);
	tcase_add_test(tc, test_atomic_mkdirs);
	tcase_add_test(tc, test_tok);
	tcase_add_test(tc, test_json_get_uint);
	tcase_add_test(tc, test_tail_word);
	tcase_add_test(tc, test_ipmap_hash_values);
	tcase_add_test(tc, test_ipmap_memo);
	tcase_add_test(tc, test_chain_sha256_hex);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lib_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
