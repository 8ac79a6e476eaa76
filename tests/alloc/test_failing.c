/* The failing allocator: which request fails, and what the counters say. */
#include "test.h"
#include "zmem/arena.h"
#include "zmem/failing.h"

static void test_never_fails_and_counts(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_allocator a = zm_failing_allocator(&f);
    void *p[10];
    for (int i = 0; i < 10; i++) CHECK((p[i] = zm_alloc(a, 16, 8)) != NULL);
    for (int i = 0; i < 10; i++) zm_free(a, p[i], 16, 8);
    CHECK_EQ(f.alloc_index, 10);
    CHECK_EQ(f.allocations, 10);
    CHECK_EQ(f.deallocations, 10);
    CHECK_EQ(f.allocated_bytes, 160);
    CHECK_EQ(f.freed_bytes, 160);
    CHECK(!f.has_induced_failure);
    /* Zero-length requests never reach the allocator. */
    CHECK(zm_alloc(a, 0, 4) != NULL);
    CHECK_EQ(f.alloc_index, 10);
}

static void test_fails_exactly_the_nth_alloc(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), 2, SIZE_MAX);
    zm_allocator a = zm_failing_allocator(&f);
    char *x = zm_alloc(a, 10, 1), *y = zm_alloc(a, 20, 1);
    CHECK(x != NULL && y != NULL);
    CHECK(!f.has_induced_failure);
    CHECK(zm_alloc(a, 30, 1) == NULL);
    CHECK(f.has_induced_failure && f.induced_alloc_failure && !f.induced_resize_failure);
    CHECK_EQ(f.induced_len, 30);
    CHECK_EQ(f.alloc_index, 3);
    CHECK_EQ(f.allocations, 2);
    /* Only that one: the next succeeds again. */
    char *z = zm_strdup(a, "again");
    CHECK(z != NULL);
    CHECK_EQ(f.alloc_index, 4);
    zm_free(a, z, 6, 1);
    zm_free(a, y, 20, 1);
    zm_free(a, x, 10, 1);
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
    CHECK_EQ(f.allocations, f.deallocations);

    zm_failing_init(&f, zm_default_allocator(), 0, SIZE_MAX);
    CHECK(zm_dupe(zm_failing_allocator(&f), "abc", 3) == NULL);
    CHECK(f.has_induced_failure);
}

static void test_fails_the_nth_resize_or_remap(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_failing f;
    /* Resizes and remaps share one counter; allocations have their own. */
    zm_failing_init(&f, zm_arena_allocator(&ar), SIZE_MAX, 1);
    zm_allocator a = zm_failing_allocator(&f);
    char *p = zm_alloc(a, 100, 1);
    CHECK(p != NULL);
    CHECK(zm_resize(a, p, 100, 1, 50));       /* resize #0 */
    CHECK(zm_remap(a, p, 50, 1, 80) == NULL); /* remap #1 fails */
    CHECK(f.has_induced_failure && f.induced_resize_failure && !f.induced_alloc_failure);
    CHECK_EQ(f.induced_len, 80);
    CHECK(zm_remap(a, p, 50, 1, 80) == p); /* #2 works again */
    CHECK_EQ(f.resize_index, 3);
    CHECK_EQ(f.alloc_index, 1);
    CHECK_EQ(f.allocated_bytes, 130); /* 100, then +30 */
    CHECK_EQ(f.freed_bytes, 50);      /* -50 */
    zm_free(a, p, 80, 1);
    CHECK_EQ(f.freed_bytes, 130);

    /* A failed resize fails zm_resize; a failed remap makes zm_realloc copy. */
    zm_failing_init(&f, zm_arena_allocator(&ar), SIZE_MAX, 0);
    a = zm_failing_allocator(&f);
    p = zm_alloc(a, 8, 1);
    memcpy(p, "1234567", 8);
    char *q = zm_realloc(a, p, 8, 4000, 1);
    CHECK(q != NULL && q != p);
    CHECK(q != NULL && memcmp(q, "1234567", 8) == 0);
    CHECK_EQ(f.alloc_index, 2);
    CHECK_EQ(f.deallocations, 1);
    zm_arena_deinit(&ar);
}

int main(void) {
    RUN(test_never_fails_and_counts);
    RUN(test_fails_exactly_the_nth_alloc);
    RUN(test_fails_the_nth_resize_or_remap);
    return zt_finish("failing");
}
