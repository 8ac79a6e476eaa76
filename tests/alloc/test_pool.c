/* The pool's own promises: reuse, the cap, slabs, preheat, reset, the typed
   wrappers. */
#include <stdlib.h>

#include "counting.h"
#include "test.h"
#include "zmem/pool.h"
#include "zmem/testing.h"

typedef struct node {
    struct node *next;
    double value;
    int key;
} node;

ZM_POOL_TYPED(node_pool, node);

static void test_init_checks(void) {
    zm_pool pool;
    CHECK(zm_pool_init(&pool, zm_default_allocator(), 0, 8, 0) == ZM_EINVAL);
    CHECK(zm_pool_init(&pool, zm_default_allocator(), 16, 0, 0) == ZM_EINVAL);
    CHECK(zm_pool_init(&pool, zm_default_allocator(), 16, 3, 0) == ZM_EINVAL);
    CHECK(zm_pool_init(&pool, zm_default_allocator(), SIZE_MAX - 8, 8, 0) == ZM_EINVAL);
    CHECK(zm_pool_init(&pool, zm_default_allocator(), 16, 8, 0) == ZM_OK);
    CHECK_EQ(zm_pool_live(&pool), 0);
    CHECK_EQ(zm_pool_capacity(&pool), 0); /* nothing allocated until used */
    zm_pool_deinit(&pool);
}

static void test_reuse(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 40, 8, 0) == ZM_OK);
    void *a = zm_pool_create(&pool);
    void *b = zm_pool_create(&pool);
    CHECK(a != NULL && b != NULL && a != b);
    CHECK_EQ(zm_pool_live(&pool), 2);
    zm_pool_destroy(&pool, a);
    CHECK_EQ(zm_pool_live(&pool), 1);
    CHECK(zm_pool_create(&pool) == a); /* the destroyed item comes back */
    zm_pool_destroy(&pool, b);
    zm_pool_destroy(&pool, a);
    CHECK(zm_pool_create(&pool) == a); /* latest destroyed first */
    CHECK(zm_pool_create(&pool) == b);
    zm_pool_destroy(&pool, NULL); /* a no-op */
    CHECK_EQ(zm_pool_live(&pool), 2);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(zm_pool_live(&pool), 0);
}

/* Items are aligned, distinct and do not overlap; slabs, not one backing call
   per item, and slabs grow geometrically. */
static void test_slabs_and_alignment(void) {
    static const size_t shapes[][2] = {{1, 1}, {3, 1}, {24, 8}, {40, 64}, {100, 4}, {4096, 4096}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t size = shapes[s][0], align = shapes[s][1];
        counting c;
        zm_pool pool;
        CHECK(zm_pool_init(&pool, counting_init(&c), size, align, 0) == ZM_OK);
        enum { N = 5000 };
        unsigned char **items = malloc(N * sizeof *items);
        CHECK(items != NULL);
        if (items == NULL) return;
        for (size_t i = 0; i < N; i++) {
            items[i] = zm_pool_create(&pool);
            CHECK(items[i] != NULL);
            CHECK(((uintptr_t)items[i] & (align - 1)) == 0);
            memset(items[i], (int)(i & 0xff), size);
        }
        for (size_t i = 0; i < N; i++) {
            CHECK(items[i][0] == (unsigned char)(i & 0xff));
            CHECK(items[i][size - 1] == (unsigned char)(i & 0xff));
        }
        CHECK_EQ(zm_pool_live(&pool), N);
        CHECK(zm_pool_capacity(&pool) >= N);
        /* Geometric slabs: about log2(N / first slab) backing calls. */
        CHECK(c.allocs >= 1);
        CHECK(c.allocs <= 16);
        CHECK(zm_pool_capacity(&pool) < 2 * N + 64 || size >= 4096);
        for (size_t i = 0; i < N; i += 2) zm_pool_destroy(&pool, items[i]);
        CHECK_EQ(zm_pool_live(&pool), N / 2);
        zm_pool_deinit(&pool);
        CHECK_EQ(c.live, 0);
        CHECK_EQ(c.allocs, c.frees);
        free(items);
    }
}

static void test_cap(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 32, 8, 10) == ZM_OK);
    void *items[10];
    for (int i = 0; i < 10; i++) CHECK((items[i] = zm_pool_create(&pool)) != NULL);
    CHECK(zm_pool_create(&pool) == NULL); /* max_items live */
    CHECK(zm_pool_create(&pool) == NULL);
    CHECK_EQ(zm_pool_live(&pool), 10);
    CHECK_EQ(zm_pool_capacity(&pool), 10); /* never more than the cap */
    zm_pool_destroy(&pool, items[3]);
    CHECK(zm_pool_create(&pool) == items[3]);
    CHECK(zm_pool_create(&pool) == NULL);
    CHECK(zm_pool_preheat(&pool, 1) == ZM_ELIMIT);
    zm_pool_reset(&pool);
    CHECK(zm_pool_preheat(&pool, 10) == ZM_OK);
    CHECK(zm_pool_preheat(&pool, 11) == ZM_ELIMIT);
    for (int i = 0; i < 10; i++) CHECK(zm_pool_create(&pool) != NULL);
    CHECK(zm_pool_create(&pool) == NULL);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);

    /* A cap that is not a multiple of any slab size. */
    CHECK(zm_pool_init(&pool, counting_init(&c), 8, 8, 1000) == ZM_OK);
    int n = 0;
    while (zm_pool_create(&pool) != NULL && n < 5000) n++;
    CHECK_EQ(n, 1000);
    CHECK_EQ(zm_pool_capacity(&pool), 1000);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
}

static void test_preheat(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 48, 16, 0) == ZM_OK);
    CHECK(zm_pool_preheat(&pool, 1000) == ZM_OK);
    CHECK_EQ(c.allocs, 1); /* one slab */
    CHECK(zm_pool_capacity(&pool) >= 1000);
    size_t calls = counting_calls(&c);
    void *items[1000];
    for (int i = 0; i < 1000; i++) CHECK((items[i] = zm_pool_create(&pool)) != NULL);
    CHECK_EQ(counting_calls(&c), calls); /* no backing calls */
    /* Preheating counts free items: with 500 destroyed, 500 more are free. */
    for (int i = 0; i < 500; i++) zm_pool_destroy(&pool, items[i]);
    CHECK(zm_pool_preheat(&pool, 500) == ZM_OK);
    CHECK_EQ(counting_calls(&c), calls);
    CHECK(zm_pool_preheat(&pool, 2000) == ZM_OK);
    CHECK_EQ(c.allocs, 2);
    calls = counting_calls(&c);
    for (int i = 0; i < 2000; i++) CHECK(zm_pool_create(&pool) != NULL);
    CHECK_EQ(counting_calls(&c), calls);
    CHECK_EQ(zm_pool_live(&pool), 2500);
    /* A preheat the backing allocator refuses leaves the pool usable. */
    c.fail_allocs = true;
    CHECK(zm_pool_preheat(&pool, zm_pool_capacity(&pool)) == ZM_ENOMEM);
    size_t cap = zm_pool_capacity(&pool);
    while (zm_pool_live(&pool) < cap) CHECK(zm_pool_create(&pool) != NULL);
    CHECK(zm_pool_create(&pool) == NULL); /* needs a slab; the backing fails */
    c.fail_allocs = false;
    CHECK(zm_pool_create(&pool) != NULL);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static void test_reset(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 64, 8, 0) == ZM_OK);
    enum { N = 3000 };
    void **items = malloc(N * sizeof *items);
    CHECK(items != NULL);
    if (items == NULL) return;
    for (int i = 0; i < N; i++) CHECK((items[i] = zm_pool_create(&pool)) != NULL);
    for (int i = 0; i < N; i += 3) zm_pool_destroy(&pool, items[i]);
    size_t cap = zm_pool_capacity(&pool);
    CHECK(cap >= N);
    void **all = malloc(cap * sizeof *all);
    CHECK(all != NULL);
    if (all == NULL) return;
    size_t calls = counting_calls(&c);
    for (int round = 0; round < 3; round++) {
        zm_pool_reset(&pool);
        CHECK_EQ(zm_pool_live(&pool), 0);
        CHECK_EQ(zm_pool_capacity(&pool), cap); /* slabs kept */
        /* Every item of every slab is free again, each handed out once,
           without a backing call. */
        for (size_t i = 0; i < cap; i++) CHECK((all[i] = zm_pool_create(&pool)) != NULL);
        CHECK_EQ(counting_calls(&c), calls);
        qsort(all, cap, sizeof *all, cmp_ptr);
        size_t dups = 0;
        for (size_t i = 1; i < cap; i++) dups += all[i] == all[i - 1];
        CHECK_EQ(dups, 0);
    }
    /* Past the capacity, a new slab. */
    size_t allocs = c.allocs;
    CHECK(zm_pool_create(&pool) != NULL);
    CHECK_EQ(c.allocs, allocs + 1);
    free(all);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
    free(items);
}

static void test_typed(void) {
    counting c;
    node_pool np;
    CHECK(node_pool_init(&np, counting_init(&c), 0) == ZM_OK);
    CHECK(node_pool_preheat(&np, 100) == ZM_OK);
    node *head = NULL;
    for (int i = 0; i < 100; i++) {
        node *n = node_pool_create(&np);
        CHECK(n != NULL);
        if (n == NULL) break;
        CHECK(((uintptr_t)n & (_Alignof(node) - 1)) == 0);
        n->key = i, n->value = i * 0.5, n->next = head;
        head = n;
    }
    int sum = 0;
    while (head != NULL) {
        node *next = head->next;
        sum += head->key;
        node_pool_destroy(&np, head);
        head = next;
    }
    CHECK_EQ(sum, 99 * 100 / 2);
    CHECK_EQ(zm_pool_live(&np.pool), 0);
    CHECK_EQ(c.allocs, 1);
    node_pool_reset(&np);
    node_pool_deinit(&np);
    CHECK_EQ(c.live, 0);
}

/* The allocator view refuses what it cannot serve and reuses items. */
static void test_view(void) {
    zm_pool pool;
    CHECK(zm_pool_init(&pool, zm_default_allocator(), 24, 8, 0) == ZM_OK);
    zm_allocator a = zm_pool_allocator(&pool);
    CHECK(zm_alloc(a, 23, 8) == NULL);
    CHECK(zm_alloc(a, 25, 8) == NULL);
    CHECK(zm_alloc(a, 24, 16) == NULL);
    void *p = zm_alloc(a, 24, 4);
    CHECK(p != NULL);
    CHECK(!zm_resize(a, p, 24, 4, 16));
    CHECK(zm_remap(a, p, 24, 4, 48) == NULL);
    zm_free(a, p, 24, 4);
    CHECK(zm_alloc(a, 24, 8) == p);
    CHECK_EQ(zm_pool_live(&pool), 1);
    zm_pool_deinit(&pool);
}

/* A pool over the sweep's allocator: preheat, creates past it (new slabs),
   creates through the view, reset and reuse; deinit on every path. */
static zm_status sweep_pool(zm_allocator a, void *arg) {
    (void)arg;
    zm_pool pool;
    zm_status st = zm_pool_init(&pool, a, sizeof(node), _Alignof(node), 0);
    if (st != ZM_OK) return st;
    if ((st = zm_pool_preheat(&pool, 4)) != ZM_OK) goto out;
    st = ZM_ENOMEM;
    node *items[40];
    for (int i = 0; i < 40; i++) {
        if ((items[i] = zm_pool_create(&pool)) == NULL) goto out;
        items[i]->key = i;
    }
    for (int i = 0; i < 40; i += 2) zm_pool_destroy(&pool, items[i]);
    zm_allocator v = zm_pool_allocator(&pool);
    for (int i = 0; i < 30; i++)
        if (zm_alloc(v, sizeof(node), _Alignof(node)) == NULL) goto out;
    zm_pool_reset(&pool);
    if (zm_pool_live(&pool) != 0) return ZM_EINTERNAL;
    if (zm_pool_preheat(&pool, zm_pool_capacity(&pool) + 10) != ZM_OK) goto out;
    st = items[1]->key == 1 ? ZM_OK : ZM_EINTERNAL;
out:
    zm_pool_deinit(&pool);
    return st;
}

/* The pool under the sweep: each slab, and each create through the view,
   fails in turn. */
static void test_sweep(void) {
    CHECK(ZM_CHECK_SWEEP(sweep_pool, NULL));
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_pool, NULL, NULL, &r),
             ZM_OK);
    CHECK(r.alloc_count > 30); /* the view's creates count, not only the slabs */
}

int main(void) {
    RUN(test_init_checks);
    RUN(test_reuse);
    RUN(test_slabs_and_alignment);
    RUN(test_cap);
    RUN(test_preheat);
    RUN(test_reset);
    RUN(test_typed);
    RUN(test_view);
    RUN(test_sweep);
    return zt_finish("pool");
}
