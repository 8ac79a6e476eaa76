/* The arena's own promises: bumping, reuse after reset, savepoints, cleanups. */
#include "counting.h"
#include "test.h"
#include "zmem/arena.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void test_basic_and_alignment(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    for (size_t align = 1; align <= 4096; align *= 2) {
        for (size_t len = 1; len < 300; len += 37) {
            unsigned char *p = zm_arena_alloc(&ar, len, align);
            CHECK(p != NULL);
            CHECK(((uintptr_t)p & (align - 1)) == 0);
            memset(p, 0xAB, len);
        }
    }
    CHECK(zm_arena_alloc(&ar, 0, 8) != NULL);
    CHECK(zm_arena_alloc(&ar, 8, 3) == NULL); /* not a power of two */
    CHECK(zm_arena_alloc(&ar, SIZE_MAX - 8, 8) == NULL);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.allocs, c.frees);
}

static void test_large_gets_own_block(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    void *small = zm_arena_alloc(&ar, 16, 8);
    char *big = zm_arena_alloc(&ar, 1 << 20, 16);
    CHECK(small && big);
    memset(big, 1, 1 << 20);
    CHECK(zm_arena_capacity(&ar) >= (1u << 20));
    CHECK_EQ(c.allocs, 2);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
}

static void test_latest_in_place(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    zm_allocator a = zm_arena_allocator(&ar);
    char *p = zm_alloc(a, 100, 1);
    CHECK(p != NULL);
    memset(p, 'x', 100);
    CHECK(zm_resize(a, p, 100, 1, 200)); /* grow the latest */
    CHECK(zm_resize(a, p, 200, 1, 50));  /* shrink it */
    char *q = zm_alloc(a, 10, 1);
    CHECK(q == p + 50);                 /* the shrunk tail was given back */
    CHECK(!zm_resize(a, p, 50, 1, 60)); /* p is no longer the latest */
    CHECK(zm_resize(a, p, 50, 1, 40));  /* shrinking anything succeeds */
    zm_free(a, q, 10, 1);               /* freeing the latest rewinds */
    CHECK(zm_alloc(a, 10, 1) == q);
    char *r = zm_realloc(a, q, 10, 5000, 1); /* past the block: moves */
    CHECK(r != NULL && r != q);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
}

static void test_reset_modes(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    for (int i = 0; i < 10000; i++) CHECK(zm_arena_alloc(&ar, 8 + (size_t)(i % 57), 8));
    size_t cap = zm_arena_capacity(&ar);
    CHECK(cap > 8 * 10000);
    CHECK(zm_arena_used(&ar) > 8 * 10000);
    CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    CHECK_EQ(zm_arena_capacity(&ar), cap);
    CHECK_EQ(zm_arena_used(&ar), 0);
    /* Steady state: the same work again makes no backing calls. */
    size_t allocs = c.allocs, frees = c.frees;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 10000; i++) CHECK(zm_arena_alloc(&ar, 8 + (size_t)(i % 57), 8));
        CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    }
    CHECK_EQ(c.allocs, allocs);
    CHECK_EQ(c.frees, frees);
    /* Retain with a limit keeps at most limit bytes. */
    CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 64 * 1024));
    CHECK(zm_arena_capacity(&ar) <= 64 * 1024);
    CHECK(zm_arena_capacity(&ar) > 0);
    CHECK(zm_arena_alloc(&ar, 100, 8) != NULL);
    /* A limit below the first block shrinks it in place or gives it back. */
    bool ok = zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1024);
    CHECK(zm_arena_capacity(&ar) <= 1024);
    CHECK(ok == (zm_arena_capacity(&ar) > 0));
    CHECK(zm_arena_alloc(&ar, 5000, 8) != NULL); /* usable either way */
    CHECK(zm_arena_reset(&ar, ZM_ARENA_FREE_ALL, 0));
    CHECK_EQ(zm_arena_capacity(&ar), 0);
    CHECK_EQ(c.live, 0);
    zm_arena_deinit(&ar);
}

static int order[8];
static int norder;
static void record(void *arg) {
    order[norder++] = (int)(intptr_t)arg;
}

static void test_savepoints_and_cleanups(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    norder = 0;
    CHECK(zm_arena_on_reset(&ar, record, (void *)1) == ZM_OK);
    char *a = zm_arena_alloc(&ar, 32, 1);
    zm_arena_mark m = zm_arena_save(&ar);
    CHECK(zm_arena_on_reset(&ar, record, (void *)2) == ZM_OK);
    CHECK(zm_arena_on_reset(&ar, record, (void *)3) == ZM_OK);
    for (int i = 0; i < 1000; i++) CHECK(zm_arena_alloc(&ar, 100, 8)); /* spans blocks */
    zm_arena_restore(&ar, m);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 3);
    CHECK_EQ(order[1], 2);
    char *b = zm_arena_alloc(&ar, 1, 1);
    CHECK(b == a + 32); /* rewound to exactly the mark */
    /* A restore to an empty arena's mark. */
    zm_arena ar2;
    zm_arena_init(&ar2, zm_default_allocator());
    zm_arena_mark m0 = zm_arena_save(&ar2);
    CHECK(zm_arena_alloc(&ar2, 10, 1));
    zm_arena_restore(&ar2, m0);
    CHECK(zm_arena_alloc(&ar2, 10, 1));
    zm_arena_deinit(&ar2);
    CHECK(zm_arena_on_reset(&ar, record, (void *)4) == ZM_OK);
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    CHECK_EQ(norder, 4);
    CHECK_EQ(order[2], 4);
    CHECK_EQ(order[3], 1);
    CHECK(zm_arena_on_reset(&ar, record, (void *)5) == ZM_OK);
    zm_arena_deinit(&ar);
    CHECK_EQ(norder, 5);
    CHECK_EQ(order[4], 5);
    CHECK_EQ(c.live, 0);
}

/* Under AddressSanitizer, what the arena has not handed out is poisoned. */
static void test_asan_poisoning(void) {
#ifdef TEST_ASAN
    zm_arena ar;
    zm_arena_init(&ar, zm_c_allocator());
    char *p = zm_arena_alloc(&ar, 24, 8);
    CHECK(p != NULL);
    CHECK(!__asan_region_is_poisoned(p, 24));
    CHECK(__asan_address_is_poisoned(p + 24));
    zm_arena_mark m = zm_arena_save(&ar);
    char *q = zm_arena_alloc(&ar, 100, 1);
    CHECK(!__asan_region_is_poisoned(q, 100));
    zm_arena_restore(&ar, m);
    CHECK(__asan_address_is_poisoned(q));
    zm_allocator a = zm_arena_allocator(&ar);
    char *r = zm_alloc(a, 16, 1);
    CHECK(zm_resize(a, r, 16, 1, 8));
    CHECK(__asan_address_is_poisoned(r + 8));
    CHECK(zm_resize(a, r, 8, 1, 32));
    CHECK(!__asan_region_is_poisoned(r, 32));
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    CHECK(__asan_address_is_poisoned(p));
    zm_arena_deinit(&ar);
#endif
}

int main(void) {
    RUN(test_asan_poisoning);
    RUN(test_basic_and_alignment);
    RUN(test_large_gets_own_block);
    RUN(test_latest_in_place);
    RUN(test_reset_modes);
    RUN(test_savepoints_and_cleanups);
    return zt_finish("arena");
}
