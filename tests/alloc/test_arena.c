/* The arena's own promises: bumping, reuse after reset, savepoints, cleanups. */
#include "counting.h"
#include "test.h"
#include "zmem/arena.h"

#if ZT_ASAN
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
#if ZT_ASAN
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

/* One unit of work: mixed small objects, over-aligned ones, a large one that
   gets a block of its own, growth of the latest allocation through the
   allocator view, a savepoint, a cleanup and strings. `variant` changes the
   mix and the order. */
static int cleanups_run;
static void count_cleanup(void *arg) {
    (void)arg;
    cleanups_run++;
}

static void workload(zm_arena *ar, unsigned variant) {
    zm_allocator a = zm_arena_allocator(ar);
    uint64_t rng = 0x2545F4914F6CDD1Dull * (variant + 1);
    int n = 2000 + (int)(variant % 4) * 1500;
    for (int i = 0; i < n; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t len = 8 + (size_t)(rng % 57);
        char *p = zm_arena_alloc(ar, len, (rng >> 20) % 4 == 0 ? 16 : 8);
        CHECK(p != NULL);
        if (p) p[0] = p[len - 1] = 1;
        if (i == n / 3 + (int)variant * 7) {
            char *big = zm_arena_alloc(ar, (size_t)(64 + variant * 16) << 10, 64);
            CHECK(big != NULL);
            if (big) big[0] = 1;
        }
        if (i % 500 == 0) CHECK(zm_arena_alloc(ar, 100, 4096) != NULL);
    }
    /* A buffer grown by doubling, as a string builder does. */
    size_t cap = 16;
    char *buf = zm_alloc(a, cap, 1);
    CHECK(buf != NULL);
    for (size_t want = 32; want <= ((size_t)8 << (variant % 8)) * 1024 && buf; want *= 2) {
        buf = zm_realloc(a, buf, cap, want, 1);
        CHECK(buf != NULL);
        cap = want;
    }
    zm_arena_mark m = zm_arena_save(ar);
    for (int i = 0; i < 300; i++) CHECK(zm_arena_alloc(ar, 128, 8) != NULL);
    CHECK(zm_arena_on_reset(ar, count_cleanup, NULL) == ZM_OK);
    zm_arena_restore(ar, m);
    CHECK(zm_arena_on_reset(ar, count_cleanup, NULL) == ZM_OK);
    CHECK(zm_arena_strndup(ar, "steady", 6) != NULL);
}

/* A retaining reset in steady state makes no call at all to the backing
   allocator (no alloc, free, resize or remap), for the same workload every
   time and for a rotation of different ones. */
/* A backing allocator that refuses anything over 1 MiB (and counts asks). */
static size_t refusing_asks;
static void *refusing_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    refusing_asks++;
    return len > ((size_t)1 << 20) ? NULL : zm_alloc(zm_default_allocator(), len, align);
}
static void refusing_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    zm_free(zm_default_allocator(), p, len, align);
}
static bool refusing_resize(void *ctx, void *p, size_t len, size_t align, size_t new_len,
                            uintptr_t ra) {
    (void)ctx, (void)p, (void)len, (void)align, (void)new_len, (void)ra;
    return false;
}
static void *refusing_remap(void *ctx, void *p, size_t len, size_t align, size_t new_len,
                            uintptr_t ra) {
    (void)ctx, (void)p, (void)len, (void)align, (void)new_len, (void)ra;
    return NULL;
}
static const zm_allocator_vtable refusing_vt = {refusing_alloc, refusing_resize, refusing_remap,
                                                refusing_free};

/* A block size backing cannot supply makes allocations fail, nothing worse;
   a tiny one is raised to the minimum. */
static void test_block_size_extremes(void) {
    zm_allocator back = {NULL, &refusing_vt};
    zm_arena ar;
    zm_arena_init_sized(&ar, back, SIZE_MAX);
    CHECK(zm_arena_alloc(&ar, 16, 8) == NULL);
    CHECK(refusing_asks > 0);
    CHECK_EQ(zm_arena_used(&ar), 0);
    CHECK_EQ(zm_arena_capacity(&ar), 0);
    zm_arena_deinit(&ar);
    zm_arena_init_sized(&ar, back, 0);
    CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    zm_arena_deinit(&ar);
}

static void test_steady_state_zero_calls(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    cleanups_run = 0;
    /* The same unit of work each time. */
    for (int round = 0; round < 3; round++) {
        workload(&ar, 1);
        CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    }
    size_t calls = counting_calls(&c), cap = zm_arena_capacity(&ar);
    for (int round = 0; round < 50; round++) {
        workload(&ar, 1);
        CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    }
    CHECK_EQ(counting_calls(&c), calls);
    CHECK_EQ(zm_arena_capacity(&ar), cap);
    CHECK_EQ(cleanups_run, 53 * 2);

    /* Different units of work, in rotation: once each has run, none needs
       the backing allocator again. */
    for (unsigned v = 0; v < 8; v++) {
        workload(&ar, v);
        CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    }
    calls = counting_calls(&c), cap = zm_arena_capacity(&ar);
    for (int round = 0; round < 80; round++) {
        workload(&ar, (unsigned)(round * 5) % 8);
        CHECK(zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0));
    }
    CHECK_EQ(counting_calls(&c), calls);
    CHECK_EQ(zm_arena_capacity(&ar), cap);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
}

int main(void) {
    RUN(test_asan_poisoning);
    RUN(test_basic_and_alignment);
    RUN(test_large_gets_own_block);
    RUN(test_latest_in_place);
    RUN(test_reset_modes);
    RUN(test_savepoints_and_cleanups);
    RUN(test_steady_state_zero_calls);
    RUN(test_block_size_extremes);
    return zt_finish("arena");
}
