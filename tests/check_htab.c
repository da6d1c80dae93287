/*
 * check_htab.c - the growable hash table (lib/htab.[ch]): growth by
 * doubling, colliding hashes, deletion with the last entry moved, the cap
 * and its refusal counter, iteration, caller-hashed keys.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"

struct ent {
	uint32_t key;
	uint32_t val;
};

static struct ent *
put(struct htab *t, uint32_t k, bool *fresh)
{
	return htab_put(t, &k, fresh);
}

static struct ent *
get(struct htab *t, uint32_t k)
{
	return htab_get(t, &k);
}

START_TEST(test_growth)
{
	struct htab t;
	struct ent *e;
	bool fresh;
	uint32_t i;

	ck_assert_int_eq(htab_init(&t, sizeof(struct ent), 4, 100000), 0);
	ck_assert_ptr_null(get(&t, 1));
	ck_assert_uint_eq(htab_bytes(&t), 0);
	for (i = 0; i < 16; i++) {
		e = put(&t, i * 7919, &fresh);
		ck_assert_ptr_nonnull(e);
		ck_assert(fresh);
		ck_assert_uint_eq(e->key, i * 7919);
		ck_assert_uint_eq(e->val, 0);
		e->val = i + 1;
	}
	ck_assert_uint_eq(t.cap, 16);
	ck_assert_uint_eq(t.mask + 1, 32);
	/* the 17th doubles the entries and the index */
	e = put(&t, 16 * 7919, &fresh);
	ck_assert_ptr_nonnull(e);
	e->val = 17;
	ck_assert_uint_eq(t.cap, 32);
	ck_assert_uint_eq(t.mask + 1, 64);
	for (i = 17; i < 10000; i++) {
		e = put(&t, i * 7919, &fresh);
		ck_assert(fresh);
		e->val = i + 1;
	}
	ck_assert_uint_eq(htab_count(&t), 10000);
	ck_assert_uint_eq(t.cap, 16384);
	ck_assert_uint_eq(t.mask + 1, 32768);
	/* every value survived the moves */
	for (i = 0; i < 10000; i++) {
		e = get(&t, i * 7919);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->val, i + 1);
	}
	/* a put of a present key finds it */
	e = put(&t, 5 * 7919, &fresh);
	ck_assert(!fresh);
	ck_assert_uint_eq(e->val, 6);
	ck_assert_uint_eq(htab_count(&t), 10000);
	ck_assert_ptr_null(get(&t, 3));
	ck_assert_uint_eq(t.refused, 0);
	htab_free(&t);
}
END_TEST

/* Caller-hashed keys: every key has hash 42, so all collide. */
static int
ent_eq(const void *e, const void *k)
{
	return ((const struct ent *)e)->key == *(const uint32_t *)k;
}

START_TEST(test_collisions)
{
	struct htab t;
	struct ent *e;
	bool fresh;
	uint32_t i, it, seen;

	htab_init_eq(&t, sizeof(struct ent), ent_eq, 1000);
	for (i = 1; i <= 100; i++) {
		e = htab_put_h(&t, &i, 42, &fresh);
		ck_assert(fresh);
		ck_assert_uint_eq(e->key, 0); /* the caller sets the key */
		e->key = i;
		e->val = i * 10;
	}
	for (i = 1; i <= 100; i++) {
		e = htab_get_h(&t, &i, 42);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->val, i * 10);
	}
	i = 101;
	ck_assert_ptr_null(htab_get_h(&t, &i, 42));
	i = 1;
	ck_assert_ptr_null(htab_get_h(&t, &i, 43));
	/* the candidates of hash 42: all 100 */
	for (seen = 0, it = 42; htab_next(&t, 42, &it) != NULL; seen++)
		;
	ck_assert_uint_eq(seen, 100);
	for (seen = 0, it = 7; htab_next(&t, 7, &it) != NULL; seen++)
		;
	ck_assert_uint_eq(seen, 0);
	/* add without a lookup (key 1007, hash 42) */
	e = htab_add_h(&t, 42);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->val, 0);
	e->key = 1007;
	ck_assert_uint_eq(htab_count(&t), 101);
	htab_del(&t, htab_index(&t, e));
	ck_assert_uint_eq(htab_count(&t), 100);
	/* delete from the middle of the run: the rest stay reachable */
	for (i = 1; i <= 100; i += 2) {
		e = htab_get_h(&t, &i, 42);
		htab_del(&t, htab_index(&t, e));
	}
	ck_assert_uint_eq(htab_count(&t), 50);
	for (i = 1; i <= 100; i++) {
		e = htab_get_h(&t, &i, 42);
		if (i % 2)
			ck_assert_ptr_null(e);
		else {
			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(e->val, i * 10);
		}
	}
	htab_free(&t);
}
END_TEST

START_TEST(test_delete)
{
	struct htab t;
	struct ent *e;
	bool fresh;
	uint32_t i, last;

	htab_init(&t, sizeof(struct ent), 4, 5000);
	for (i = 0; i < 3000; i++)
		put(&t, i, &fresh)->val = i;
	/* deleting entry 5 moves the last one (key 2999) to index 5 */
	e = get(&t, 5);
	ck_assert_uint_eq(htab_index(&t, e), 5);
	htab_del(&t, 5);
	ck_assert_uint_eq(htab_count(&t), 2999);
	ck_assert_ptr_null(get(&t, 5));
	e = get(&t, 2999);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(htab_index(&t, e), 5);
	ck_assert_uint_eq(e->val, 2999);
	/* deleting the last entry moves nothing */
	last = htab_count(&t) - 1;
	e = htab_at(&t, last);
	i = e->key;
	htab_del(&t, last);
	ck_assert_ptr_null(get(&t, i));
	ck_assert_uint_eq(htab_count(&t), 2998);
	/* delete every even key, from the end */
	for (i = htab_count(&t); i-- > 0;)
		if (((struct ent *)htab_at(&t, i))->key % 2 == 0)
			htab_del(&t, i);
	ck_assert_uint_eq(htab_count(&t), 1499);
	for (i = 0; i < 3000; i++) {
		e = get(&t, i);
		if (i % 2 == 0 || i == 5)
			ck_assert_ptr_null(e);
		else {
			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(e->val, i);
		}
	}
	/* a deleted key comes back fresh and zeroed */
	e = put(&t, 4, &fresh);
	ck_assert(fresh);
	ck_assert_uint_eq(e->val, 0);
	/* out of range: nothing */
	htab_del(&t, 100000);
	ck_assert_uint_eq(htab_count(&t), 1500);
	htab_clear(&t);
	ck_assert_uint_eq(htab_count(&t), 0);
	ck_assert_ptr_null(get(&t, 7));
	htab_free(&t);
}
END_TEST

START_TEST(test_cap)
{
	struct htab t;
	bool fresh = true;
	uint32_t i;

	htab_init(&t, sizeof(struct ent), 4, 20);
	for (i = 0; i < 20; i++)
		ck_assert_ptr_nonnull(put(&t, i, &fresh));
	ck_assert_uint_eq(t.cap, 20); /* doubling stops at the cap */
	ck_assert_ptr_null(put(&t, 20, &fresh));
	ck_assert(!fresh);
	ck_assert_ptr_null(put(&t, 21, &fresh));
	ck_assert_uint_eq(t.refused, 2);
	/* present keys are still found at the cap */
	ck_assert_ptr_nonnull(put(&t, 19, &fresh));
	ck_assert(!fresh);
	ck_assert_uint_eq(t.refused, 2);
	ck_assert_uint_eq(htab_count(&t), 20);
	/* room again after a delete */
	htab_del(&t, 0);
	ck_assert_ptr_nonnull(put(&t, 20, &fresh));
	ck_assert(fresh);
	ck_assert_uint_eq(t.refused, 2);
	htab_free(&t);
	/* a zeroed table, never initialised, is empty */
	memset(&t, 0, sizeof(t));
	t.esz = sizeof(struct ent);
	t.klen = 4;
	ck_assert_ptr_null(get(&t, 1));
	ck_assert_ptr_null(put(&t, 1, &fresh));
	ck_assert_uint_eq(t.refused, 1);
	htab_clear(&t);
	ck_assert_uint_eq(htab_bytes(&t), 0);
	htab_free(&t);
	/* a cap of 0 refuses everything */
	htab_init(&t, sizeof(struct ent), 4, 0);
	ck_assert_ptr_null(put(&t, 1, &fresh));
	ck_assert_uint_eq(t.refused, 1);
	htab_free(&t);
}
END_TEST

START_TEST(test_iterate)
{
	struct htab t;
	bool fresh;
	uint64_t sum = 0;
	uint32_t i, n = 0;

	htab_init(&t, sizeof(struct ent), 4, 1000);
	for (i = 1; i <= 300; i++)
		put(&t, i, &fresh)->val = i;
	put(&t, 7, &fresh); /* present: no second entry */
	for (i = 0; i < htab_count(&t); i++) {
		sum += ((struct ent *)htab_at(&t, i))->val;
		n++;
	}
	ck_assert_uint_eq(n, 300);
	ck_assert_uint_eq(sum, 300 * 301 / 2);
	ck_assert_uint_eq(htab_hash("abc", 3), htab_hash("abc", 3));
	ck_assert_uint_ne(htab_hash("abc", 3), htab_hash("abd", 3));
	htab_free(&t);
}
END_TEST

static Suite *
htab_suite(void)
{
	Suite *s = suite_create("htab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_collisions);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_iterate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(htab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
