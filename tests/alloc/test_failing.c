/* The failing allocator: which request fails, and what the counters say. */
#include "test.h"
#include "zmem/arena.h"
#include "zmem/debug.h"
#include "zmem/failing.h"
#include "zmem/locked.h"
#include "zmem/pool.h"
#include "zmem/stats.h"

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

/* count_arenas: every arena allocation is an alloc attempt of f, counted in
   one sequence with f's own, so that each one can be the one to fail. */
static void test_counts_arena_allocations(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    f.count_arenas = true;
    zm_arena ar;
    zm_arena_init(&ar, zm_failing_allocator(&f));
    CHECK(ar.counted);
    for (int i = 0; i < 10; i++) CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    CHECK(ar.end == ar.ptr); /* the inline path never bumps */
    CHECK_EQ(f.arena_allocs, 10);
    CHECK_EQ(f.alloc_index, 11); /* and the block under them */
    CHECK_EQ(f.allocations, 1);
    zm_arena_deinit(&ar);

    /* Each index fails exactly that request, arena or block. */
    for (size_t k = 0; k < 6; k++) {
        zm_failing_init(&f, zm_default_allocator(), k, SIZE_MAX);
        f.count_arenas = true;
        zm_arena_init_sized(&ar, zm_failing_allocator(&f), 128);
        int failed_at = -1;
        for (int i = 0; i < 4; i++)
            if (zm_arena_alloc(&ar, 40, 8) == NULL) failed_at = i;
        CHECK(f.has_induced_failure);
        /* 0: alloc #0 (arena), 1: its block; 2: alloc #1 (arena); 3: alloc #2
           (arena), 4: its block (the first one is full); 5: alloc #3. */
        static const int expect_at[6] = {0, 0, 1, 2, 2, 3};
        static const zm_failing_site expect_site[6] = {
            ZM_FAILING_SITE_ARENA, ZM_FAILING_SITE_ALLOCATOR, ZM_FAILING_SITE_ARENA,
            ZM_FAILING_SITE_ARENA, ZM_FAILING_SITE_ALLOCATOR, ZM_FAILING_SITE_ARENA};
        CHECK_EQ(failed_at, expect_at[k]);
        CHECK_EQ(f.induced_site, expect_site[k]);
        zm_arena_deinit(&ar);
    }

    /* The vtable view too, with the caller's address and length. */
    zm_failing_init(&f, zm_default_allocator(), 2, SIZE_MAX);
    f.count_arenas = true;
    zm_arena_init(&ar, zm_failing_allocator(&f));
    zm_allocator aa = zm_arena_allocator(&ar);
    CHECK(zm_alloc(aa, 8, 8) != NULL); /* 0, and 1 for its block */
    CHECK(zm_alloc(aa, 24, 8) == NULL);
    CHECK(f.induced_site == ZM_FAILING_SITE_ARENA && f.induced_len == 24);
    CHECK(f.induced_ret_addr != 0);
    /* A resize of the arena's latest block is a resize attempt. */
    zm_failing_reset(&f, SIZE_MAX, 0);
    char *p = zm_alloc(aa, 8, 8);
    CHECK(p != NULL);
    CHECK(!zm_resize(aa, p, 8, 8, 16));
    CHECK(f.induced_resize_failure && f.induced_site == ZM_FAILING_SITE_ARENA);
    CHECK(zm_resize(aa, p, 8, 8, 16));
    CHECK_EQ(f.arena_resizes, 2);
    zm_arena_deinit(&ar);

    /* Without count_arenas nothing changes: the arena bumps inline. */
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    zm_arena_init(&ar, zm_failing_allocator(&f));
    for (int i = 0; i < 10; i++) CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    CHECK(!ar.counted);
    CHECK_EQ(f.alloc_index, 1);
    /* Set later, it is seen at the next out-of-line request or reset; cleared,
       the inline path is back after the next one. */
    f.count_arenas = true;
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_CAPACITY, 0);
    CHECK(ar.counted && ar.end == ar.ptr);
    CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    CHECK_EQ(f.alloc_index, 2);
    f.count_arenas = false;
    CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    CHECK(!ar.counted);
    CHECK(zm_arena_alloc(&ar, 16, 8) != NULL);
    CHECK_EQ(f.alloc_index, 2);
    zm_arena_deinit(&ar);
}

/* An arena over an arena over debug (thread-safe: with its lock) over stats
   over locked over f, made and used once; returns whether the first
   allocation of the inner arena succeeded. */
static bool through_wrappers(zm_failing *f) {
    zm_locked l;
    CHECK_EQ(zm_locked_init(&l, zm_failing_allocator(f)), ZM_OK);
    zm_stats st;
    zm_stats_init(&st, zm_locked_allocator(&l), 0);
    zm_debug_options o = zm_debug_defaults();
    o.out = NULL;
    o.thread_safe = true;
    zm_debug dbg;
    zm_debug_init(&dbg, zm_stats_allocator(&st), &o);
    zm_arena outer;
    zm_arena_init(&outer, zm_debug_allocator(&dbg));
    zm_arena inner;
    zm_arena_init(&inner, zm_arena_allocator(&outer));
    CHECK(outer.counted && inner.counted);
    bool ok = zm_arena_alloc(&inner, 8, 8) != NULL;
    zm_arena_deinit(&inner);
    zm_arena_deinit(&outer);
    CHECK_EQ(zm_debug_deinit(&dbg), 0);
    zm_locked_deinit(&l);
    return ok;
}

/* Through the wrappers zmem knows, and with the locks they hold. */
static void test_counts_through_wrappers(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    f.count_arenas = true;
    CHECK(through_wrappers(&f));
    CHECK_EQ(f.arena_allocs, 2); /* the inner arena's request, the outer's (a block) */
    size_t n = f.alloc_index;
    CHECK(n > 2); /* and the debug allocator's table and the outer arena's block */
    for (size_t k = 0; k < n; k++) {
        zm_failing_init(&f, zm_default_allocator(), k, SIZE_MAX);
        f.count_arenas = true;
        bool ok = through_wrappers(&f);
        CHECK(f.has_induced_failure);
        /* Only the debug allocator's own table may fail without failing the
           request (it then serves the block untracked). */
        if (f.induced_site == ZM_FAILING_SITE_ARENA) CHECK(!ok);
        if (k < 2) CHECK(f.induced_site == ZM_FAILING_SITE_ARENA);
    }

    /* An allocator of one's own in between hides f: blocks only. */
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    f.count_arenas = true;
    zm_allocator fa = zm_failing_allocator(&f);
    static const zm_allocator_vtable opaque = {NULL, NULL, NULL, NULL};
    zm_allocator mine = {&fa, &opaque};
    zm_arena ar;
    zm_arena_init(&ar, mine);
    CHECK(!ar.counted);
}
/* A pool over f: every create through its allocator view counts, those of
   destroyed items too; the inline create counts when it goes out of line. */
static void test_counts_pool_creates(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    f.count_arenas = true;
    zm_pool pool;
    CHECK_EQ(zm_pool_init(&pool, zm_failing_allocator(&f), 24, 8, 0), ZM_OK);
    CHECK(pool.counted);
    zm_allocator pa = zm_pool_allocator(&pool);
    void *items[5];
    for (int i = 0; i < 5; i++) CHECK((items[i] = zm_alloc(pa, 24, 8)) != NULL);
    for (int i = 0; i < 5; i++) zm_free(pa, items[i], 24, 8);
    CHECK_EQ(zm_pool_live(&pool), 0);
    for (int i = 0; i < 5; i++) CHECK((items[i] = zm_alloc(pa, 24, 8)) != NULL);
    CHECK_EQ(f.arena_allocs, 10);
    CHECK_EQ(f.alloc_index, 11); /* one slab */
    /* The next create fails on its turn, and the one after succeeds. */
    zm_failing_reset(&f, 0, SIZE_MAX);
    zm_free(pa, items[4], 24, 8);
    CHECK(zm_alloc(pa, 24, 8) == NULL);
    CHECK(f.induced_site == ZM_FAILING_SITE_POOL && f.induced_len == 24);
    CHECK(f.induced_ret_addr != 0);
    CHECK((items[4] = zm_alloc(pa, 24, 8)) != NULL);
    /* The inline create reuses a destroyed item without a call, uncounted. */
    zm_failing_reset(&f, SIZE_MAX, SIZE_MAX);
    zm_pool_destroy(&pool, items[4]);
    CHECK((items[4] = zm_pool_create(&pool)) != NULL);
    CHECK_EQ(f.alloc_index, 0);
    /* Cleared: creates through the view go inline again after the next
       out-of-line one. */
    f.count_arenas = false;
    for (int i = 0; i < 5; i++) zm_free(pa, items[i], 24, 8);
    for (int i = 0; i < 5; i++) CHECK((items[i] = zm_alloc(pa, 24, 8)) != NULL);
    CHECK(!pool.counted);
    CHECK_EQ(f.alloc_index, 0);
    CHECK_EQ(zm_pool_live(&pool), 5);
    for (int i = 0; i < 5; i++) zm_free(pa, items[i], 24, 8);
    zm_pool_deinit(&pool);
    CHECK_EQ(f.deallocations, 1); /* the slab */
}

int main(void) {
    RUN(test_never_fails_and_counts);
    RUN(test_fails_exactly_the_nth_alloc);
    RUN(test_fails_the_nth_resize_or_remap);
    RUN(test_counts_arena_allocations);
    RUN(test_counts_through_wrappers);
    RUN(test_counts_pool_creates);
    return zt_finish("failing");
}
