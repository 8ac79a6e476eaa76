/* Plugging in and out: malloc-style trios and Lua-style functions as
   zm_allocators, zm_allocators as malloc-style and Lua-style hooks. */
#include <stdalign.h>

#include "test.h"
#include "zmem/adapt.h"
#include "zmem/debug.h"
#include "zmem/testing.h"

/* ---------------------------------------------------------------------------
 * A trio over libc that counts its calls
 * ------------------------------------------------------------------------- */

typedef struct calls {
    size_t mallocs, reallocs, frees;
} calls;

static void *t_malloc(void *ctx, size_t n) {
    ((calls *)ctx)->mallocs++;
    return malloc(n);
}
static void *t_realloc(void *ctx, void *p, size_t n) {
    ((calls *)ctx)->reallocs++;
    return realloc(p, n);
}
static void t_free(void *ctx, void *p) {
    ((calls *)ctx)->frees++;
    free(p);
}

/* A trio that guarantees no alignment at all: every block is one byte past
   what malloc returned. */
static void *odd_malloc(void *ctx, size_t n) {
    ((calls *)ctx)->mallocs++;
    char *p = malloc(n + 1);
    return p ? p + 1 : NULL;
}
static void odd_free(void *ctx, void *p) {
    ((calls *)ctx)->frees++;
    free((char *)p - 1);
}

static void test_trio(void) {
    calls c = {0};
    zm_trio t = {t_malloc, t_realloc, t_free, &c, 0};
    zm_allocator a = zm_trio_allocator(&t);
    for (size_t align = 1; align <= 4096; align *= 2) {
        unsigned char *p = zm_alloc(a, 100, align);
        CHECK(p != NULL && (uintptr_t)p % align == 0);
        memset(p, 0xA5, 100);
        zm_free(a, p, 100, align);
    }
    CHECK_EQ(c.mallocs, 13);
    CHECK_EQ(c.frees, 13);

    /* Ordinary alignment: zm_realloc remaps with realloc. */
    char *p = zm_alloc(a, 100, 8);
    memcpy(p, "keep me", 8);
    p = zm_realloc(a, p, 100, 100000, 8);
    CHECK(p != NULL && strcmp(p, "keep me") == 0);
    CHECK_EQ(c.reallocs, 1);
    CHECK(zm_resize(a, p, 100000, 8, 50)); /* shrinking in place: always */
    CHECK(!zm_resize(a, p, 50, 8, 60));    /* growing in place: never */
    zm_free(a, p, 50, 8);

    /* Over-aligned: remap declines, zm_realloc copies into a new block. */
    p = zm_alloc(a, 100, 256);
    memcpy(p, "aligned", 8);
    char *q = zm_realloc(a, p, 100, 5000, 256);
    CHECK(q != NULL && (uintptr_t)q % 256 == 0 && strcmp(q, "aligned") == 0);
    CHECK_EQ(c.reallocs, 1);
    zm_free(a, q, 5000, 256);
    CHECK_EQ(c.mallocs, c.frees);
    CHECK(zm_alloc(a, SIZE_MAX - 10, 64) == NULL); /* the padding overflows */

    /* No realloc at all: remap declines. */
    zm_trio no_realloc = {t_malloc, NULL, t_free, &c, 0};
    a = zm_trio_allocator(&no_realloc);
    p = zm_alloc(a, 10, 1);
    CHECK(zm_remap(a, p, 10, 1, 20) == NULL);
    zm_free(a, p, 10, 1);

    /* A trio without alignment: everything above 1 is placed by zmem. */
    calls oc = {0};
    zm_trio odd = {odd_malloc, NULL, odd_free, &oc, 1};
    a = zm_trio_allocator(&odd);
    for (size_t align = 1; align <= 64; align *= 2) {
        unsigned char *b = zm_alloc(a, 33, align);
        CHECK(b != NULL && (uintptr_t)b % align == 0);
        memset(b, 1, 33);
        zm_free(a, b, 33, align);
    }
    CHECK_EQ(oc.mallocs, 7);
    CHECK_EQ(oc.frees, 7);
}

/* ---------------------------------------------------------------------------
 * A Lua-style function that checks the old sizes it is given
 * ------------------------------------------------------------------------- */

typedef struct lua_ud {
    void *ptr[64];
    size_t size[64];
    size_t live, calls, wrong_osize;
} lua_ud;

static int lua_find(lua_ud *u, void *p) {
    for (int i = 0; i < 64; i++)
        if (u->ptr[i] == p && p != NULL) return i;
    return -1;
}

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    lua_ud *u = ud;
    u->calls++;
    if (ptr != NULL) {
        int i = lua_find(u, ptr);
        if (i < 0 || u->size[i] != osize) u->wrong_osize++;
        if (i >= 0) u->ptr[i] = NULL, u->live--;
    }
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    int i = lua_find(u, NULL);
    for (i = 0; i < 64 && u->ptr[i] != NULL; i++) {
    }
    if (p != NULL && i < 64) u->ptr[i] = p, u->size[i] = nsize, u->live++;
    return p;
}

static void test_lua_in(void) {
    lua_ud u;
    memset(&u, 0, sizeof u);
    zm_lua_funcs l = {l_alloc, &u, 0};
    zm_allocator a = zm_lua_allocator(&l);
    char *p[8];
    for (int i = 0; i < 8; i++) {
        size_t align = (size_t)1 << (i + 1); /* 2 .. 256 */
        p[i] = zm_alloc(a, 10 + (size_t)i, align);
        CHECK(p[i] != NULL && (uintptr_t)p[i] % align == 0);
        memset(p[i], 'a' + i, 10 + (size_t)i);
    }
    CHECK(!zm_resize(a, p[0], 10, 2, 5));    /* would lie to fn about the old size */
    p[0] = zm_realloc(a, p[0], 10, 4000, 2); /* remapped by fn */
    CHECK(p[0] != NULL && p[0][9] == 'a');
    p[7] = zm_realloc(a, p[7], 17, 4000, 256); /* over-aligned: copied */
    CHECK(p[7] != NULL && (uintptr_t)p[7] % 256 == 0 && p[7][16] == 'h');
    zm_free(a, p[0], 4000, 2);
    zm_free(a, p[7], 4000, 256);
    for (int i = 1; i < 7; i++) zm_free(a, p[i], 10 + (size_t)i, (size_t)1 << (i + 1));
    CHECK_EQ(u.wrong_osize, 0);
    CHECK_EQ(u.live, 0);
}

/* ---------------------------------------------------------------------------
 * Out: hooks and the Lua-style function over a debug allocator, which
 * reports any wrong length the header or the old size would carry
 * ------------------------------------------------------------------------- */

static zm_allocator quiet_debug(zm_debug *d) {
    zm_debug_options o = zm_debug_defaults();
    o.out = stderr; /* a failure here should be seen */
    zm_debug_init(d, zm_default_allocator(), &o);
    return zm_debug_allocator(d);
}

static void test_hooks(void) {
    zm_debug d;
    zm_hooks h = zm_hooks_over(quiet_debug(&d));
    char *z = zm_hooks_malloc(&h, 0);
    CHECK(z != NULL);
    char *p = zm_hooks_malloc(&h, 100);
    CHECK(p != NULL && (uintptr_t)p % alignof(max_align_t) == 0);
    CHECK_EQ(zm_hooks_size(p), 100);
    memcpy(p, "hello", 6);
    p = zm_hooks_realloc(&h, p, 10000);
    CHECK(p != NULL && strcmp(p, "hello") == 0);
    CHECK_EQ(zm_hooks_size(p), 10000);
    p = zm_hooks_realloc(&h, p, 3);
    CHECK(p != NULL && memcmp(p, "hel", 3) == 0);
    int *n = zm_hooks_calloc(&h, 50, sizeof(int));
    int sum = 0;
    for (int i = 0; i < 50; i++) sum += n[i];
    CHECK_EQ(sum, 0);
    CHECK(zm_hooks_calloc(&h, SIZE_MAX / 2, 4) == NULL);
    CHECK(zm_hooks_malloc(&h, SIZE_MAX - 4) == NULL);
    char *r = zm_hooks_realloc(&h, NULL, 7);
    CHECK(r != NULL);
    CHECK(zm_hooks_realloc(&h, r, 0) == NULL); /* freed */
    zm_hooks_free(&h, NULL);
    zm_hooks_free(&h, n);
    zm_hooks_free(&h, p);
    zm_hooks_free(&h, z);
    CHECK_EQ(d.counts.errors, 0);
    CHECK_EQ(zm_debug_deinit(&d), 0);

    /* The process-wide binding. */
    zm_global_hooks_set(quiet_debug(&d));
    CHECK(zm_global_hooks_allocator().ctx == &d);
    p = zm_global_malloc(20);
    p = zm_global_realloc(p, 40);
    n = zm_global_calloc(3, sizeof(int));
    CHECK(p != NULL && n != NULL && n[2] == 0);
    CHECK_EQ(d.live_blocks, 2);
    zm_global_free(p);
    zm_global_free(n);
    CHECK_EQ(d.counts.errors, 0);
    CHECK_EQ(zm_debug_deinit(&d), 0);
    zm_global_hooks_set(zm_default_allocator());
}

static void test_lua_out(void) {
    zm_debug d;
    zm_allocator a = quiet_debug(&d);
    char *p = zm_lua_alloc(&a, NULL, 4 /* a type tag, as Lua passes */, 10);
    CHECK(p != NULL);
    memcpy(p, "abcdefghi", 10);
    p = zm_lua_alloc(&a, p, 10, 1000);
    CHECK(p != NULL && strcmp(p, "abcdefghi") == 0);
    p = zm_lua_alloc(&a, p, 1000, 5); /* shrink */
    CHECK(p != NULL && memcmp(p, "abcde", 5) == 0);
    CHECK(zm_lua_alloc(&a, p, 5, 0) == NULL);
    CHECK(zm_lua_alloc(&a, NULL, 3, 0) == NULL); /* freeing nothing */
    CHECK_EQ(d.counts.errors, 0);
    CHECK_EQ(zm_debug_deinit(&d), 0);
}

/* ---------------------------------------------------------------------------
 * Every adapter under the sweep
 * ------------------------------------------------------------------------- */

static zm_status sweep_hooks(zm_allocator a, void *arg) {
    (void)arg;
    zm_hooks h = zm_hooks_over(a);
    char *p = zm_hooks_malloc(&h, 10);
    if (p == NULL) return ZM_ENOMEM;
    char *q = zm_hooks_realloc(&h, p, 1000);
    if (q == NULL) goto fail_p;
    p = q;
    int *n = zm_hooks_calloc(&h, 5, sizeof(int));
    if (n == NULL) goto fail_p;
    q = zm_hooks_realloc(&h, p, 20);
    if (q == NULL) {
        zm_hooks_free(&h, n);
        goto fail_p;
    }
    zm_hooks_free(&h, n);
    zm_hooks_free(&h, q);
    return ZM_OK;
fail_p:
    zm_hooks_free(&h, p);
    return ZM_ENOMEM;
}

/* A trio whose functions are zm_hooks over the swept allocator. */
static void *h_malloc(void *ctx, size_t n) {
    return zm_hooks_malloc(ctx, n);
}
static void *h_realloc(void *ctx, void *p, size_t n) {
    return zm_hooks_realloc(ctx, p, n);
}
static void h_free(void *ctx, void *p) {
    zm_hooks_free(ctx, p);
}

/* Uses an allocator made by an adapter: plain, over-aligned, grown. */
static zm_status use_adapted(zm_allocator a) {
    size_t xlen = 24;
    char *x = zm_alloc(a, xlen, 8);
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_alloc(a, 100, 128);
    if (y == NULL) goto free_x;
    char *z = zm_realloc(a, x, xlen, 3000, 8);
    if (z == NULL) goto free_y;
    x = z, xlen = 3000;
    z = zm_realloc(a, y, 100, 200, 128);
    if (z == NULL) goto free_y;
    zm_free(a, z, 200, 128);
    zm_free(a, x, xlen, 8);
    return ZM_OK;
free_y:
    zm_free(a, y, 100, 128);
free_x:
    zm_free(a, x, xlen, 8);
    return ZM_ENOMEM;
}

static zm_status sweep_trio(zm_allocator a, void *arg) {
    (void)arg;
    zm_hooks h = zm_hooks_over(a);
    zm_trio t = {h_malloc, h_realloc, h_free, &h, 0};
    return use_adapted(zm_trio_allocator(&t));
}

static zm_status sweep_lua(zm_allocator a, void *arg) {
    (void)arg;
    zm_lua_funcs l = {zm_lua_alloc, &a, 0};
    return use_adapted(zm_lua_allocator(&l));
}

/* zm_global_* over the swept allocator, bound for the run and unbound after. */
static zm_status sweep_global(zm_allocator a, void *arg) {
    (void)arg;
    zm_allocator before = zm_global_hooks_allocator();
    zm_global_hooks_set(a);
    zm_status st = ZM_ENOMEM;
    char *p = zm_global_malloc(10);
    if (p == NULL) goto out;
    memcpy(p, "123456789", 10);
    char *q = zm_global_realloc(p, 5000);
    if (q == NULL) goto free_p;
    p = q;
    int *n = zm_global_calloc(7, sizeof(int));
    if (n == NULL) goto free_p;
    st = n[6] == 0 && strcmp(p, "123456789") == 0 ? ZM_OK : ZM_EINTERNAL;
    zm_global_free(n);
free_p:
    zm_global_free(p);
out:
    zm_global_hooks_set(before);
    return st;
}

static void test_sweeps(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_hooks, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_trio, NULL));
    CHECK(ZM_CHECK_SWEEP(sweep_lua, NULL));
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_global, NULL, NULL, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.alloc_count >= 2 && r.alloc_count + r.resize_count >= 3); /* the realloc may remap */
}

int main(void) {
    RUN(test_trio);
    RUN(test_lua_in);
    RUN(test_hooks);
    RUN(test_lua_out);
    RUN(test_sweeps);
    return zt_finish("adapt");
}
