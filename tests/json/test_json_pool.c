/* The JSON pool: values built in code come from pools and go back to them,
 * routed by (len, align) alone; a warmed-up pool makes no backing calls.
 */
#include <stdalign.h>

#include "test.h"
#include "zmem.h"
#include "zmem/testing.h"
#include "json_eq.h"

/* A backing allocator that counts its calls and live bytes. */
typedef struct counting {
    zm_allocator inner;
    size_t allocs, frees, live;
} counting;

static void *cnt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    if (p) c->allocs++, c->live += len;
    return p;
}
static bool cnt_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    counting *c = ctx;
    bool ok = c->inner.vtable->resize(c->inner.ctx, p, len, align, nl, ra);
    if (ok) c->live = c->live - len + nl;
    return ok;
}
static void *cnt_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    counting *c = ctx;
    void *q = c->inner.vtable->remap(c->inner.ctx, p, len, align, nl, ra);
    if (q) c->live = c->live - len + nl;
    return q;
}
static void cnt_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    c->frees++, c->live -= len;
    c->inner.vtable->free(c->inner.ctx, p, len, align, ra);
}
static const zm_allocator_vtable cnt_vt = {cnt_alloc, cnt_resize, cnt_remap, cnt_free};

static zm_allocator counting_init(counting *c) {
    memset(c, 0, sizeof *c);
    c->inner = zm_default_allocator();
    return (zm_allocator){c, &cnt_vt};
}

static zm_json_pool_stats pstats(const zm_json_pool *p) {
    zm_json_pool_stats s;
    zm_json_pool_stats_get(p, &s);
    return s;
}

/* Builds a typical response in code with allocator a: an object of a few
   members, nested arrays and objects, short strings. NULL on out-of-memory
   (nothing leaked). */
static zm_json *build_response(zm_allocator a, int n) {
    zm_json *root = zm_json_new_object(a, 0);
    if (root == NULL) return NULL;
    zm_json *items = zm_json_new_array(a, 0);
    if (items == NULL || zm_json_object_set(a, root, "items", 5, items) != ZM_OK) {
        zm_json_free(a, items);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        zm_json *it = zm_json_new_object(a, 2);
        if (it == NULL) goto fail;
        if (zm_json_array_push(a, items, it) != ZM_OK) {
            zm_json_free(a, it);
            goto fail;
        }
        char key[16];
        snprintf(key, sizeof key, "key%d", i);
        zm_json *k = zm_json_new_string(a, key, strlen(key));
        if (k == NULL || zm_json_object_set(a, it, "key", 3, k) != ZM_OK) {
            zm_json_free(a, k);
            goto fail;
        }
        zm_json *v = zm_json_new_int(a, i);
        if (v == NULL || zm_json_object_add_ref(a, it, "value", 5, v) != ZM_OK) {
            zm_json_free(a, v);
            goto fail;
        }
        zm_json *flag = zm_json_new_bool(a, i & 1);
        if (flag == NULL || zm_json_object_set(a, it, "odd", 3, flag) != ZM_OK) {
            zm_json_free(a, flag);
            goto fail;
        }
    }
    zm_json *total = zm_json_new_int(a, n);
    if (total == NULL || zm_json_object_set(a, root, "total", 5, total) != ZM_OK) {
        zm_json_free(a, total);
        goto fail;
    }
    zm_json *msg = zm_json_new_string(a, "done", 4);
    if (msg == NULL || zm_json_object_set(a, root, "status", 6, msg) != ZM_OK) {
        zm_json_free(a, msg);
        goto fail;
    }
    return root;
fail:
    zm_json_free(a, root);
    return NULL;
}

static void test_values_go_back(void) {
    counting c;
    zm_allocator backing = counting_init(&c);
    zm_json_pool *p;
    CHECK_EQ(zm_json_pool_create(backing, &p), ZM_OK);
    zm_allocator pa = zm_json_pool_allocator(p);
    zm_json_pool_stats s = pstats(p);
    CHECK_EQ(s.live_values, 0);
    CHECK_EQ(s.pool_hits, 0);
    CHECK_EQ(s.backing_allocs, 0);

    zm_json *v = build_response(pa, 20);
    CHECK(v != NULL);
    s = pstats(p);
    CHECK(s.live_values >= 1 + 1 + 20 * 4 + 2); /* root, items, 20 x (object + 3), 2 */
    CHECK(s.pool_hits >= s.live_values);
    CHECK_EQ(s.backing_allocs, 0); /* every request was small */
    CHECK(s.pooled_bytes > 0);

    /* Reads the same as the same value built in an arena. */
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_json *w = build_response(zm_arena_allocator(&ar), 20);
    CHECK(zt_json_eq(v, w));
    zm_arena_deinit(&ar);

    zm_json_free(pa, v);
    s = pstats(p);
    CHECK_EQ(s.live_values, 0);

    /* A second round of the same build is served by the pools alone. */
    size_t allocs = c.allocs, hits = s.pool_hits, pooled = s.pooled_bytes;
    v = build_response(pa, 20);
    CHECK(v != NULL);
    s = pstats(p);
    CHECK_EQ(c.allocs, allocs);
    CHECK_EQ(s.backing_allocs, 0);
    CHECK_EQ(s.pooled_bytes, pooled);
    CHECK(s.pool_hits > hits);
    zm_json_free(pa, v);
    CHECK_EQ(pstats(p).live_values, 0);

    zm_json_pool_destroy(p);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.allocs, c.frees);
}

static void test_routing(void) {
    counting c;
    zm_allocator backing = counting_init(&c);
    zm_json_pool *p;
    CHECK_EQ(zm_json_pool_create(backing, &p), ZM_OK);
    zm_allocator pa = zm_json_pool_allocator(p);

    /* Blocks up to 4096 bytes, of any alignment up to 8, come from the pools. */
    for (size_t len = 1; len <= 4096; len += 7) {
        for (size_t align = 1; align <= 8; align *= 2) {
            unsigned char *q = zm_alloc(pa, len, align);
            CHECK(q != NULL && ((uintptr_t)q & (align - 1)) == 0);
            if (q) memset(q, 0x5A, len);
            zm_free(pa, q, len, align);
        }
    }
    CHECK_EQ(pstats(p).backing_allocs, 0);

    /* Large, or more aligned, go to backing. */
    void *big = zm_alloc(pa, 4097, 8);
    void *al = zm_alloc(pa, 32, 64);
    CHECK(big != NULL && al != NULL);
    CHECK(((uintptr_t)al & 63) == 0);
    CHECK_EQ(pstats(p).backing_allocs, 2);
    zm_free(pa, big, 4097, 8);
    zm_free(pa, al, 32, 64);

    /* Resize and remap succeed in place within a class and fail across
       classes (remap then leaves the move to the caller: zm_realloc). */
    char *q = zm_alloc(pa, 20, 8);
    CHECK(q != NULL);
    memcpy(q, "0123456789abcdefghi", 20);
    CHECK(zm_resize(pa, q, 20, 8, 24));
    CHECK(zm_resize(pa, q, 24, 8, 17));
    CHECK(zm_remap(pa, q, 17, 8, 21) == q);
    CHECK(!zm_resize(pa, q, 21, 8, 100));
    CHECK(zm_remap(pa, q, 21, 8, 100) == NULL);
    char *r = zm_realloc(pa, q, 21, 100, 8);
    CHECK(r != NULL && memcmp(r, "0123456789abcdefg", 17) == 0);
    char *r2 = zm_realloc(pa, r, 100, 6000, 8); /* into backing */
    CHECK(r2 != NULL && memcmp(r2, "0123456789abcdefg", 17) == 0);
    char *r3 = zm_realloc(pa, r2, 6000, 40, 8); /* back into a pool */
    CHECK(r3 != NULL && memcmp(r3, "0123456789abcdefg", 17) == 0);
    zm_free(pa, r3, 40, 8);

    /* Node-sized blocks are counted as values. */
    zm_json *n = zm_json_new_null(pa);
    CHECK_EQ(pstats(p).live_values, 1);
    zm_json_free(pa, n);
    CHECK_EQ(pstats(p).live_values, 0);

    /* Long strings go to backing and come back from it. */
    char text[6000];
    memset(text, 'x', sizeof text);
    zm_json *s = zm_json_new_string(pa, text, sizeof text);
    CHECK(s != NULL);
    CHECK(pstats(p).backing_allocs > 2);
    zm_json_free(pa, s);

    zm_json_pool_destroy(p);
    CHECK_EQ(c.live, 0);
    zm_json_pool_destroy(NULL);
}

/* Live values die with the pool (no leak, no need to free them first),
   those whose blocks came from backing too: long strings, arrays past the
   largest class, blocks aligned past 8. */
static void test_destroy_with_live_values(void) {
    counting c;
    zm_json_pool *p;
    CHECK_EQ(zm_json_pool_create(counting_init(&c), &p), ZM_OK);
    zm_allocator pa = zm_json_pool_allocator(p);
    zm_json *root = build_response(pa, 50);
    CHECK(root != NULL);
    char text[5000];
    memset(text, 'y', sizeof text);
    zm_json *long_str = zm_json_new_string(pa, text, sizeof text);
    CHECK(long_str != NULL && zm_json_object_set(pa, root, "long", 4, long_str) == ZM_OK);
    zm_json *arr = zm_json_new_array(pa, 0);
    CHECK(arr != NULL && zm_json_object_set(pa, root, "many", 4, arr) == ZM_OK);
    for (int i = 0; i < 1000; i++)
        CHECK(zm_json_array_push(pa, arr, zm_json_new_int(pa, i)) == ZM_OK);
    CHECK(zm_alloc(pa, 32, 64) != NULL);
    CHECK(zm_alloc(pa, 5000, 16) != NULL);
    CHECK(pstats(p).live_values > 0);
    CHECK(pstats(p).backing_allocs >= 4);
    zm_json_pool_destroy(p);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.allocs, c.frees);
}

/* Blocks from backing stay linked for the destroy through any order of
   frees and through remaps that move them. */
static void test_backing_blocks_list(void) {
    counting c;
    zm_json_pool *p;
    CHECK_EQ(zm_json_pool_create(counting_init(&c), &p), ZM_OK);
    zm_allocator pa = zm_json_pool_allocator(p);
    enum { N = 6 };
    char *b[N];
    size_t len[N];
    for (int i = 0; i < N; i++) {
        len[i] = 5000 + 100 * (size_t)i;
        b[i] = zm_alloc(pa, len[i], i % 2 ? 32 : 8);
        CHECK(b[i] != NULL && ((uintptr_t)b[i] & (i % 2 ? 31 : 7)) == 0);
        if (b[i]) memset(b[i], 'a' + i, len[i]);
    }
    /* grow the middle ones far (they move), shrink one in place */
    for (int i = 1; i < N - 1; i += 2) {
        char *q = zm_realloc(pa, b[i], len[i], len[i] * 64, 32);
        CHECK(q != NULL);
        if (q == NULL) continue;
        for (size_t k = 0; k < len[i]; k++)
            if (q[k] != 'a' + i) {
                CHECK(q[k] == 'a' + i);
                break;
            }
        b[i] = q;
        len[i] *= 64;
    }
    CHECK(zm_resize(pa, b[0], len[0], 8, 4900));
    len[0] = 4900;
    zm_free(pa, b[2], len[2], 8);          /* one from the middle of the list */
    zm_free(pa, b[N - 1], len[N - 1], 32); /* N - 1 is odd */
    /* the rest die with the pool */
    zm_json_pool_destroy(p);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.allocs, c.frees);
}

/* The every-failure sweep over a pool building values. */
static zm_status sweep_pool(zm_allocator a, void *arg) {
    (void)arg;
    zm_json_pool *p;
    zm_status st = zm_json_pool_create(a, &p);
    if (st != ZM_OK) return st;
    zm_allocator pa = zm_json_pool_allocator(p);
    st = ZM_OK;
    for (int round = 0; round < 2 && st == ZM_OK; round++) {
        zm_json *v = build_response(pa, 40);
        if (v == NULL) {
            st = ZM_ENOMEM;
            break;
        }
        zm_json *copy = NULL;
        st = zm_json_clone(pa, v, &copy);
        zm_json_free(pa, copy);
        zm_json_free(pa, v);
    }
    if (st == ZM_OK && pstats(p).live_values != 0) st = ZM_EINTERNAL;
    zm_json_pool_destroy(p);
    return st;
}

static void test_sweep(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_pool, NULL));
}

/* The size classes and the large blocks, counted block by block and byte
   by byte. */
static void test_class_figures(void) {
    zm_json_pool *p;
    CHECK_EQ(zm_json_pool_create(zm_default_allocator(), &p), ZM_OK);
    zm_allocator a = zm_json_pool_allocator(p);
    zm_json_pool_class c, prev;
    size_t last = 0;
    for (size_t i = 0; i < ZM_JSON_POOL_CLASSES; i++) {
        CHECK_EQ(zm_json_pool_class_get(p, i, &c), ZM_OK);
        CHECK(c.block_size > last);
        CHECK(c.stride >= c.block_size);
        CHECK_EQ(c.live_blocks, 0);
        CHECK_EQ(c.free_blocks, 0);
        last = c.block_size;
    }
    CHECK_EQ(last, 4096);
    CHECK_EQ(zm_json_pool_class_get(p, ZM_JSON_POOL_CLASSES, &c), ZM_ENOTFOUND);
    /* Three blocks of 20 bytes: the class of 24. */
    void *b[3];
    for (int i = 0; i < 3; i++) b[i] = zm_alloc(a, 20, 8);
    CHECK_EQ(zm_json_pool_class_get(p, 2, &prev), ZM_OK);
    CHECK_EQ(prev.block_size, 24);
    CHECK_EQ(prev.live_blocks, 3);
    zm_free(a, b[0], 20, 8);
    CHECK_EQ(zm_json_pool_class_get(p, 2, &c), ZM_OK);
    CHECK_EQ(c.live_blocks, 2);
    CHECK_EQ(c.free_blocks, prev.free_blocks + 1);
    zm_json_pool_stats s;
    zm_json_pool_stats_get(p, &s);
    CHECK_EQ(s.pooled_bytes, (c.live_blocks + c.free_blocks) * c.stride);
    /* Large blocks: their bytes as requested, through growth and shrinkage. */
    char *big = zm_alloc(a, 5000, 8);
    zm_json_pool_stats_get(p, &s);
    CHECK_EQ(s.big_blocks, 1);
    CHECK_EQ(s.big_bytes, 5000);
    big = zm_realloc(a, big, 5000, 9000, 8);
    CHECK(big != NULL);
    zm_json_pool_stats_get(p, &s);
    CHECK_EQ(s.big_blocks, 1);
    CHECK_EQ(s.big_bytes, 9000);
    big = zm_realloc(a, big, 9000, 4500, 8);
    zm_json_pool_stats_get(p, &s);
    CHECK_EQ(s.big_blocks, 1);
    CHECK_EQ(s.big_bytes, 4500);
    zm_free(a, big, 4500, 8);
    zm_json_pool_stats_get(p, &s);
    CHECK_EQ(s.big_blocks, 0);
    CHECK_EQ(s.big_bytes, 0);
    zm_free(a, b[1], 20, 8);
    zm_free(a, b[2], 20, 8);
    zm_json_pool_destroy(p);
}

int main(void) {
    RUN(test_class_figures);
    RUN(test_values_go_back);
    RUN(test_routing);
    RUN(test_destroy_with_live_values);
    RUN(test_backing_blocks_list);
    RUN(test_sweep);
    return zt_finish("json_pool");
}
