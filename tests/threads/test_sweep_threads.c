/* The failing allocator and the sweep with several threads at once: sweeps
   running side by side (each thread its own), and arenas of several threads
   counting their requests at one failing allocator behind a zm_locked. Run
   under ThreadSanitizer by the TSan gate. */
#include <pthread.h>

#include "test.h"
#include "zmem/arena.h"
#include "zmem/locked.h"
#include "zmem/pool.h"
#include "zmem/prim.h"

#define THREADS 4

/* Some arena work and a long-lived block, clean on every path. */
static zm_status work(zm_allocator a, void *arg) {
    (void)arg;
    char *held = zm_alloc(a, 32, 8);
    if (held == NULL) return ZM_ENOMEM;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256);
    zm_status st = ZM_OK;
    for (int i = 0; i < 20 && st == ZM_OK; i++)
        if (zm_arena_alloc(&ar, 24, 8) == NULL) st = ZM_ENOMEM;
    zm_arena_deinit(&ar);
    zm_free(a, held, 32, 8);
    return st;
}

/* greet-like: a result built in the per-call arena. */
static zm_status prim_pair(zm_prim_ctx *ctx, const zm_json *params, zm_json **result) {
    (void)params;
    zm_allocator a = zm_prim_alloc(ctx);
    zm_json *o = zm_json_new_object(a, 2);
    zm_json *x = zm_json_new_int(a, 1), *y = zm_json_new_string(a, "two", 3);
    if (o == NULL || x == NULL || y == NULL || zm_json_object_add_ref(a, o, "x", 1, x) != ZM_OK ||
        zm_json_object_add_ref(a, o, "y", 1, y) != ZM_OK)
        return ZM_ENOMEM;
    *result = o;
    return ZM_OK;
}

static void *sweeper(void *arg) {
    int *failures = arg;
    zm_sweep_report r;
    if (zm_check_allocation_failures(zm_default_allocator(), work, NULL, NULL, &r) != ZM_OK ||
        r.arena_alloc_count != 20)
        (*failures)++;
    /* And a request on a context set up once, in this thread. */
    zm_sweep_fixture fx;
    zm_sweep_fixture_init(&fx, zm_default_allocator());
    zm_prim_ctx_opts o = {.longlived = zm_sweep_fixture_allocator(&fx)};
    zm_prim_registry *reg = NULL;
    zm_prim_ctx *ctx = NULL;
    static const zm_prim_def def = {"pair", "", NULL, prim_pair, NULL};
    static const char req[] = "{\"id\":1,\"primitive\":\"pair\"}";
    if (zm_prim_registry_create(o.longlived, &reg) != ZM_OK ||
        zm_prim_register(reg, &def, NULL) != ZM_OK || zm_prim_ctx_create(&o, &ctx) != ZM_OK ||
        zm_prim_sweep_request(&fx, reg, ctx, req, sizeof req - 1, NULL, &r) != ZM_OK)
        (*failures)++;
    zm_prim_ctx_destroy(ctx);
    zm_prim_registry_destroy(reg);
    if (zm_sweep_fixture_deinit(&fx) != 0) (*failures)++;
    return NULL;
}

/* Arenas and pools of several threads over one locked failing allocator. */
static zm_allocator shared;

static void *arena_user(void *arg) {
    int *failures = arg;
    for (int round = 0; round < 50; round++) {
        zm_arena ar;
        zm_arena_init_sized(&ar, shared, 512);
        if (!ar.counted) (*failures)++;
        for (int i = 0; i < 40; i++)
            if (zm_arena_alloc(&ar, 16 + (size_t)i, 8) == NULL) (*failures)++;
        zm_pool pool;
        zm_pool_init(&pool, shared, 40, 8, 0);
        zm_allocator pa = zm_pool_allocator(&pool);
        void *items[8];
        for (int i = 0; i < 8; i++)
            if ((items[i] = zm_alloc(pa, 40, 8)) == NULL) (*failures)++;
        for (int i = 0; i < 8; i++) zm_free(pa, items[i], 40, 8);
        zm_pool_deinit(&pool);
        zm_arena_deinit(&ar);
    }
    return NULL;
}

static void test_sweeps_side_by_side(void) {
    pthread_t t[THREADS];
    int failures[THREADS] = {0};
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, sweeper, &failures[i]) == 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(failures[i], 0);
    }
}

static void test_arenas_over_one_locked_failing(void) {
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), SIZE_MAX, SIZE_MAX);
    f.count_arenas = true;
    zm_locked l;
    CHECK_EQ(zm_locked_init(&l, zm_failing_allocator(&f)), ZM_OK);
    shared = zm_locked_allocator(&l);
    pthread_t t[THREADS];
    int failures[THREADS] = {0};
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, arena_user, &failures[i]) == 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(failures[i], 0);
    }
    /* Every request counted once, under the lock. */
    CHECK_EQ(f.arena_allocs, (size_t)THREADS * 50 * (40 + 8));
    CHECK_EQ(f.allocated_bytes, f.freed_bytes);
    zm_locked_deinit(&l);
}

int main(void) {
    RUN(test_sweeps_side_by_side);
    RUN(test_arenas_over_one_locked_failing);
    return zt_finish("sweep_threads");
}
