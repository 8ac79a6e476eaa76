/* Every allocating public function of the allocator core, under the sweep. */
#include "test.h"
#include "zmem/arena.h"
#include "zmem/testing.h"

static zm_status sweep_realloc(zm_allocator a, void *arg) {
    (void)arg;
    char *p = zm_realloc(a, NULL, 0, 16, 8); /* a plain allocation */
    if (p == NULL) return ZM_ENOMEM;
    memset(p, 'a', 16);
    size_t len = 16;
    static const size_t steps[] = {100, 5000, 40, 70000, 8};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char *q = zm_realloc(a, p, len, steps[i], 8);
        if (q == NULL) {
            zm_free(a, p, len, 8);
            return ZM_ENOMEM;
        }
        if (q[0] != 'a') return ZM_EINTERNAL;
        p = q, len = steps[i];
    }
    p = zm_realloc(a, p, len, 0, 8); /* frees */
    return p != NULL ? ZM_OK : ZM_EINTERNAL;
}

static zm_status sweep_dupes(zm_allocator a, void *arg) {
    (void)arg;
    zm_status st = ZM_ENOMEM;
    char *d = zm_dupe(a, "bytes\0in", 8);
    if (d == NULL) return ZM_ENOMEM;
    char *s = zm_strdup(a, "a string");
    if (s == NULL) goto free_d;
    char *n = zm_strndup(a, "abcdef", 3);
    if (n == NULL) goto free_s;
    st = strcmp(n, "abc") == 0 && strcmp(s, "a string") == 0 ? ZM_OK : ZM_EINTERNAL;
    zm_free(a, n, 4, 1);
free_s:
    zm_free(a, s, 9, 1);
free_d:
    zm_free(a, d, 8, 1);
    return st;
}

/* zm_remap directly: grow and shrink a block, allocating and copying when
   the remap says no (what zm_realloc does for you). */
static zm_status sweep_remap(zm_allocator a, void *arg) {
    (void)arg;
    size_t len = 32;
    char *p = zm_alloc(a, len, 16);
    if (p == NULL) return ZM_ENOMEM;
    memset(p, 'r', len);
    static const size_t steps[] = {4096, 100, 70000};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char *q = zm_remap(a, p, len, 16, steps[i]);
        if (q == NULL) {
            if ((q = zm_alloc(a, steps[i], 16)) == NULL) {
                zm_free(a, p, len, 16);
                return ZM_ENOMEM;
            }
            memcpy(q, p, len < steps[i] ? len : steps[i]);
            zm_free(a, p, len, 16);
        }
        p = q, len = steps[i];
    }
    zm_status st = p[0] == 'r' && p[31] == 'r' ? ZM_OK : ZM_EINTERNAL;
    zm_free(a, p, len, 16);
    return st;
}

static void count_cleanup(void *arg) {
    (*(int *)arg)++;
}

/* Many allocations over several small blocks, cleanups, strings, savepoints
   and every kind of reset; the arena is deinit on every path. */
static zm_status sweep_arena(zm_allocator a, void *arg) {
    (void)arg;
    int cleaned = 0;
    zm_status st = ZM_ENOMEM;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 40; i++)
            if (zm_arena_alloc(&ar, 24 + (size_t)i, 8) == NULL) goto out;
        if (zm_arena_on_reset(&ar, count_cleanup, &cleaned) != ZM_OK) goto out;
        zm_arena_mark m = zm_arena_save(&ar);
        if (zm_arena_strndup(&ar, "a string in the arena", 21) == NULL) goto out;
        if (zm_arena_alloc(&ar, 3000, 64) == NULL) goto out; /* a block of its own */
        if (zm_arena_on_reset(&ar, count_cleanup, &cleaned) != ZM_OK) goto out;
        zm_arena_restore(&ar, m);
        if (zm_arena_new_array(&ar, double, 100) == NULL) goto out;
        static const zm_arena_reset_mode modes[] = {ZM_ARENA_RETAIN_CAPACITY,
                                                    ZM_ARENA_RETAIN_WITH_LIMIT, ZM_ARENA_FREE_ALL};
        zm_arena_reset(&ar, modes[round], 200);
    }
    /* The arena as an allocator, growing its latest block through zm_realloc. */
    zm_allocator aa = zm_arena_allocator(&ar);
    char *p = zm_alloc(aa, 10, 1);
    if (p == NULL) goto out;
    p = zm_realloc(aa, p, 10, 5000, 1);
    if (p == NULL) goto out;
    st = ZM_OK;
out:
    zm_arena_deinit(&ar);
    return st;
}

/* zm_arena_reset keeping one block that must be shrunk in place. */
static zm_status sweep_arena_limit(zm_allocator a, void *arg) {
    (void)arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 8192);
    if (zm_arena_alloc(&ar, 100, 8) == NULL) return ZM_ENOMEM;
    zm_arena_reset(&ar, ZM_ARENA_RETAIN_WITH_LIMIT, 1024); /* resizes the block */
    void *p = zm_arena_alloc(&ar, 100, 8);
    zm_arena_deinit(&ar);
    return p != NULL ? ZM_OK : ZM_ENOMEM;
}

/* Each arena function as the one that needs a new block, so that its own
   allocation is the one that fails. */
static zm_status sweep_arena_each(zm_allocator a, void *arg) {
    (void)arg;
    static char text[300];
    memset(text, 'x', sizeof text);
    int cleaned = 0;
    zm_status st = ZM_ENOMEM;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    if (zm_arena_on_reset(&ar, count_cleanup, &cleaned) != ZM_OK) goto out; /* block 1 */
    char *s = zm_arena_strndup(&ar, text, sizeof text);                     /* block 2 */
    if (s == NULL || strlen(s) != sizeof text) goto out;
    zm_arena_reset(&ar, ZM_ARENA_FREE_ALL, 0);
    if (cleaned != 1) return ZM_EINTERNAL;
    if (zm_arena_new_array(&ar, double, 10) == NULL) goto out; /* block 3 */
    st = ZM_OK;
out:
    zm_arena_deinit(&ar);
    return st;
}

static void test_core_wrappers(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_realloc, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_dupes, NULL));
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_remap, NULL, NULL, &r),
             ZM_OK);
    CHECK(r.resize_count >= 3); /* every remap failed in turn */
}

static void test_arena(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_arena, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_arena_limit, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_arena_each, NULL));
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_arena, NULL, NULL, &r),
             ZM_OK);
    CHECK(r.alloc_count > 10); /* the sweep really covered many blocks */
    CHECK_EQ(
        zm_check_allocation_failures(zm_default_allocator(), sweep_arena_limit, NULL, NULL, &r),
        ZM_OK);
    CHECK_EQ(r.resize_count, 1);
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_arena_each, NULL, NULL, &r),
             ZM_OK);
    /* on_reset, strndup and new_array each failed once, and each block under them. */
    CHECK_EQ(r.alloc_count, 6);
    CHECK_EQ(r.arena_alloc_count, 3);
    /* Swept by its blocks only (as Zig's sweep would), the arena shows 3. */
    zm_sweep_options blocks_only = {.skip_arenas = true};
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_arena_each, NULL,
                                          &blocks_only, &r),
             ZM_OK);
    CHECK_EQ(r.alloc_count, 3);
    CHECK_EQ(r.arena_alloc_count, 0);
}

int main(void) {
    RUN(test_core_wrappers);
    RUN(test_arena);
    return zt_finish("sweep_alloc");
}
