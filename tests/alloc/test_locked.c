/* The locked allocator, hammered from 4 threads. The inner allocators are not
   thread-safe (an arena, a pool view, a list heap), and a guard between the
   lock and them records any two calls that overlap, so a lock that does not
   exclude fails here even without ThreadSanitizer (which also runs this). */
#include <pthread.h>
#include <stdatomic.h>

#include "counting.h"
#include "test.h"
#include "zmem/arena.h"
#include "zmem/heap.h"
#include "zmem/locked.h"
#include "zmem/pool.h"
#include "zmem/testing.h"

/* ---------------------------------------------------------------------------
 * The guard: flags a call entering while another is inside.
 * ------------------------------------------------------------------------- */

typedef struct guard {
    zm_allocator inner;
    atomic_int inside;
    atomic_int overlaps;
    atomic_long calls;
} guard;

static void enter(guard *g) {
    if (atomic_fetch_add(&g->inside, 1) != 0) atomic_fetch_add(&g->overlaps, 1);
    /* Widen the window a little every so often. */
    if ((atomic_fetch_add(&g->calls, 1) & 63) == 0) sched_yield();
}
static void leave(guard *g) {
    atomic_fetch_sub(&g->inside, 1);
}
static void *g_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    guard *g = ctx;
    enter(g);
    void *p = g->inner.vtable->alloc(g->inner.ctx, len, align, ra);
    leave(g);
    return p;
}
static bool g_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    guard *g = ctx;
    enter(g);
    bool ok = g->inner.vtable->resize(g->inner.ctx, p, len, align, nl, ra);
    leave(g);
    return ok;
}
static void *g_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    guard *g = ctx;
    enter(g);
    void *q = g->inner.vtable->remap(g->inner.ctx, p, len, align, nl, ra);
    leave(g);
    return q;
}
static void g_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    guard *g = ctx;
    enter(g);
    g->inner.vtable->free(g->inner.ctx, p, len, align, ra);
    leave(g);
}
static const zm_allocator_vtable guard_vt = {g_alloc, g_resize, g_remap, g_free};

static zm_allocator guard_over(guard *g, zm_allocator inner) {
    g->inner = inner;
    atomic_init(&g->inside, 0);
    atomic_init(&g->overlaps, 0);
    atomic_init(&g->calls, 0);
    return (zm_allocator){g, &guard_vt};
}

/* ---------------------------------------------------------------------------
 * The hammer: each thread allocates, fills, reallocates, checks and frees;
 * half of its frees are of blocks another thread allocated (swapped through
 * shared slots).
 * ------------------------------------------------------------------------- */

enum { THREADS = 4, SLOTS = 64 };

typedef struct shared {
    zm_allocator a;
    size_t fixed_len; /* 0: any length; else the only length (a pool view) */
    int ops;
    _Atomic(unsigned char *) slots[SLOTS]; /* blocks of slot_len(k) bytes */
    atomic_int bad;                        /* blocks found corrupted */
} shared;

typedef struct worker {
    shared *sh;
    unsigned seed;
} worker;

static size_t slot_len(const shared *sh, size_t k) {
    return sh->fixed_len ? sh->fixed_len : 8 + k * 24;
}

/* Every byte of a block holds its first byte's value. */
static void stamp(unsigned char *p, size_t len, unsigned char v) {
    memset(p, v, len);
}
static bool stamped(const unsigned char *p, size_t len) {
    for (size_t i = 1; i < len; i++)
        if (p[i] != p[0]) return false;
    return true;
}

static void *hammer(void *arg) {
    worker *w = arg;
    shared *sh = w->sh;
    unsigned r = w->seed;
    for (int op = 0; op < sh->ops; op++) {
        r = r * 1103515245u + 12345u;
        size_t k = (r >> 8) % SLOTS;
        size_t len = slot_len(sh, k);
        unsigned char *p = zm_alloc(sh->a, len, 8);
        if (p == NULL) {
            atomic_fetch_add(&sh->bad, 1);
            continue;
        }
        stamp(p, len, (unsigned char)(r >> 16));
        if (!sh->fixed_len && (r & 3) == 0) {
            /* Grow and shrink back through zm_realloc (may move). */
            unsigned char *q = zm_realloc(sh->a, p, len, len * 3, 8);
            if (q == NULL || !stamped(q, len)) atomic_fetch_add(&sh->bad, 1);
            if (q != NULL) {
                stamp(q, len * 3, q[0]);
                p = zm_realloc(sh->a, q, len * 3, len, 8);
                if (p == NULL) {
                    zm_free(sh->a, q, len * 3, 8);
                    continue;
                }
            }
        }
        if (!stamped(p, len)) atomic_fetch_add(&sh->bad, 1);
        /* Publish it, and free whatever was in the slot (often another
           thread's block). */
        unsigned char *old = atomic_exchange(&sh->slots[k], p);
        if (old != NULL) {
            if (!stamped(old, len)) atomic_fetch_add(&sh->bad, 1);
            zm_free(sh->a, old, len, 8);
        }
    }
    return NULL;
}

static void run_hammer(const char *name, zm_allocator a, size_t fixed_len, int ops) {
    static shared sh;
    memset(&sh, 0, sizeof sh);
    sh.a = a, sh.fixed_len = fixed_len, sh.ops = ops;
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){&sh, 0x9E37u * (unsigned)(i + 1)};
        CHECK(pthread_create(&t[i], NULL, hammer, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (size_t k = 0; k < SLOTS; k++) {
        unsigned char *p = atomic_load(&sh.slots[k]);
        if (p == NULL) continue;
        CHECK(stamped(p, slot_len(&sh, k)));
        zm_free(a, p, slot_len(&sh, k), 8);
    }
    CHECK_EQ(atomic_load(&sh.bad), 0);
    fprintf(stderr, "locked %s: %d threads x %d ops\n", name, THREADS, ops);
}

static int ops(void) {
    return zt_small() ? 3000 : 25000;
}

/* A list heap: frees really free, so the counting allocator below must end
   with nothing live. */
static void test_locked_heap(void) {
    counting c;
    zm_heap h;
    zm_heap_init_backed(&h, counting_over(&c, zm_c_allocator()));
    guard g;
    zm_locked l;
    CHECK(zm_locked_init(&l, guard_over(&g, zm_heap_allocator(&h))) == ZM_OK);
    run_hammer("list heap", zm_locked_allocator(&l), 0, ops());
    CHECK_EQ(atomic_load(&g.overlaps), 0);
    CHECK(atomic_load(&g.calls) >= THREADS * ops());
    CHECK_EQ(h.live, 0);
    CHECK_EQ(c.live, 0);
    zm_locked_deinit(&l);
    zm_heap_deinit(&h);
}

/* A pool view: fixed-size items, destroyed by other threads. */
static void test_locked_pool(void) {
    counting c;
    zm_pool pool;
    CHECK(zm_pool_init(&pool, counting_init(&c), 48, 8, 0) == ZM_OK);
    guard g;
    zm_locked l;
    CHECK(zm_locked_init(&l, guard_over(&g, zm_pool_allocator(&pool))) == ZM_OK);
    run_hammer("pool", zm_locked_allocator(&l), 48, ops());
    CHECK_EQ(atomic_load(&g.overlaps), 0);
    CHECK_EQ(zm_pool_live(&pool), 0);
    /* At most SLOTS + THREADS items were ever live at once. */
    CHECK(zm_pool_capacity(&pool) <= 2 * (SLOTS + THREADS) + 64);
    zm_locked_deinit(&l);
    zm_pool_deinit(&pool);
    CHECK_EQ(c.live, 0);
}

/* An arena: bumps from 4 threads never hand out overlapping blocks. */
static void test_locked_arena(void) {
    counting c;
    zm_arena ar;
    zm_arena_init(&ar, counting_init(&c));
    guard g;
    zm_locked l;
    CHECK(zm_locked_init(&l, guard_over(&g, zm_arena_allocator(&ar))) == ZM_OK);
    run_hammer("arena", zm_locked_allocator(&l), 0, ops() / 4);
    CHECK_EQ(atomic_load(&g.overlaps), 0);
    zm_locked_deinit(&l);
    zm_arena_deinit(&ar);
    CHECK_EQ(c.live, 0);
}

/* The general allocators are thread-safe already; through a lock they still
   keep every block intact. */
static void test_locked_default(void) {
    zm_locked l;
    CHECK(zm_locked_init(&l, zm_default_allocator()) == ZM_OK);
    run_hammer("default", zm_locked_allocator(&l), 0, ops());
    zm_locked_deinit(&l);
}

/* A locked allocator over the sweep's allocator, and an arena over it: each
   request passes the lock and fails in turn. */
static zm_status sweep_locked(zm_allocator a, void *arg) {
    (void)arg;
    zm_locked l;
    zm_status st = zm_locked_init(&l, a);
    if (st != ZM_OK) return st;
    zm_allocator la = zm_locked_allocator(&l);
    st = ZM_ENOMEM;
    char *p = zm_alloc(la, 64, 16);
    if (p == NULL) goto out;
    char *q = zm_realloc(la, p, 64, 5000, 16);
    if (q == NULL) goto free_p;
    p = q;
    zm_arena ar;
    zm_arena_init_sized(&ar, la, 256);
    bool ok = true;
    for (int i = 0; i < 20 && ok; i++) ok = zm_arena_alloc(&ar, 40, 8) != NULL;
    zm_arena_deinit(&ar);
    st = ok ? ZM_OK : ZM_ENOMEM;
    zm_free(la, p, 5000, 16);
    goto out;
free_p:
    zm_free(la, p, 64, 16);
out:
    zm_locked_deinit(&l);
    return st;
}

static void test_sweep(void) {
    zm_sweep_report r;
    CHECK_EQ(zm_check_allocation_failures(zm_default_allocator(), sweep_locked, NULL, NULL, &r),
             ZM_OK);
    if (r.problem != ZM_SWEEP_OK) fprintf(stderr, "%s\n", r.message);
    CHECK(r.arena_alloc_count >= 20); /* the arena's requests are seen through the lock */
}

int main(void) {
    RUN(test_locked_heap);
    RUN(test_locked_pool);
    RUN(test_locked_arena);
    RUN(test_locked_default);
    RUN(test_sweep);
    return zt_finish("locked");
}
