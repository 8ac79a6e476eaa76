/* The stats allocator: counts, snapshots and deltas, the hard limit, the
   thresholds' hysteresis, and counting from many threads. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "no_resize.h"
#include "test.h"
#include "zmem/arena.h"
#include "zmem/failing.h"
#include "zmem/stats.h"
#include "zmem/testing.h"

static void test_counts_and_delta(void) {
    zm_stats st;
    zm_stats_init(&st, zm_default_allocator(), 0);
    zm_allocator a = zm_stats_allocator(&st);
    zm_memory_stats s0, s1, s2;
    zm_stats_snapshot(&st, &s0);
    CHECK_EQ(s0.allocated_bytes + s0.freed_bytes + s0.active_bytes + s0.peak_bytes, 0);
    char *x = zm_alloc(a, 100, 8), *y = zm_alloc(a, 50, 8), *z = zm_strdup(a, "hello");
    CHECK(x && y && z);
    zm_free(a, y, 50, 8);
    zm_stats_snapshot(&st, &s1);
    CHECK_EQ(s1.allocated_bytes, 156);
    CHECK_EQ(s1.freed_bytes, 50);
    CHECK_EQ(s1.active_bytes, 106);
    CHECK_EQ(s1.peak_bytes, 156);
    CHECK_EQ(s1.allocs, 3);
    CHECK_EQ(s1.frees, 1);
    CHECK_EQ(s1.failures, 0);

    /* Code that gives back what it took: the active delta is 0. */
    char *t = zm_realloc(a, NULL, 0, 10, 1);
    t = zm_realloc(a, t, 10, 1000, 1);
    zm_free(a, t, 1000, 1);
    zm_stats_snapshot(&st, &s2);
    zm_memory_delta d = zm_memory_stats_delta(&s1, &s2);
    CHECK_EQ(d.active_bytes, 0);
    CHECK_EQ(d.allocated_bytes, d.freed_bytes);
    CHECK(d.allocated_bytes >= 1000);
    CHECK_EQ(s2.peak_bytes, 106 + 1000 + (d.allocs == 2 ? 10 : 0));

    /* Code that doesn't: the delta says how much it kept. */
    zm_free(a, x, 100, 8);
    zm_stats_snapshot(&st, &s1);
    char *kept = zm_alloc(a, 77, 1);
    zm_stats_snapshot(&st, &s2);
    d = zm_memory_stats_delta(&s1, &s2);
    CHECK_EQ(d.active_bytes, 77);
    d = zm_memory_stats_delta(&s2, &s1); /* and the other way round */
    CHECK_EQ(d.active_bytes, -77);
    zm_free(a, kept, 77, 1);
    zm_free(a, z, 6, 1);

    zm_stats_reset_peak(&st);
    zm_stats_snapshot(&st, &s2);
    CHECK_EQ(s2.active_bytes, 0);
    CHECK_EQ(s2.peak_bytes, 0);
}

static void test_hard_limit(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_stats st;
    zm_stats_init(&st, zm_arena_allocator(&ar), 1000);
    zm_allocator a = zm_stats_allocator(&st);
    char *p = zm_alloc(a, 600, 1);
    CHECK(p != NULL);
    CHECK(zm_alloc(a, 500, 1) == NULL); /* 1100 > 1000 */
    char *q = zm_alloc(a, 400, 1);      /* exactly 1000 */
    CHECK(q != NULL);
    CHECK(zm_alloc(a, 1, 1) == NULL);
    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.active_bytes, 1000);
    CHECK_EQ(s.failures, 2);
    CHECK_EQ(s.refused, 2); /* both by the limit */
    CHECK_EQ(s.allocs, 2);
    /* Growth counts against the limit too; shrinking frees room. */
    CHECK(!zm_resize(a, q, 400, 1, 401));
    CHECK(zm_remap(a, q, 400, 1, 500) == NULL);
    CHECK(zm_realloc(a, q, 400, 500, 1) == NULL);
    CHECK(zm_resize(a, q, 400, 1, 300));
    CHECK(zm_resize(a, q, 300, 1, 400)); /* q is the arena's latest: grows in place */
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.active_bytes, 1000);
    CHECK_EQ(s.failures, 6); /* zm_realloc: the remap and the allocation */
    CHECK_EQ(s.refused, 6);
    CHECK(zm_alloc(a, SIZE_MAX / 2, 1) == NULL);
    zm_free(a, q, 400, 1);
    zm_free(a, p, 600, 1);
    zm_stats_set_limit(&st, 0);
    p = zm_alloc(a, 5000, 1);
    CHECK(p != NULL);
    zm_free(a, p, 5000, 1);
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.active_bytes, 0);
    zm_arena_deinit(&ar);

    /* A backing failure is a failure too, and counts no bytes. */
    zm_failing f;
    zm_failing_init(&f, zm_default_allocator(), 0, SIZE_MAX);
    zm_stats_init(&st, zm_failing_allocator(&f), 0);
    CHECK(zm_alloc(zm_stats_allocator(&st), 10, 1) == NULL);
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.failures, 1);
    CHECK_EQ(s.refused, 0); /* the limit refused nothing */
    CHECK_EQ(s.allocated_bytes, 0);
    CHECK_EQ(s.allocs, 0);
}

/* A resize or remap that the backing allocator fails is a failure, growing
   or shrinking, in both modes, and changes no byte count. */
static void test_backing_resize_failures(void) {
    for (int single = 0; single < 2; single++) {
        zm_stats st;
        zm_stats_init(&st, (zm_allocator){NULL, &no_resize_vtable}, 0);
        zm_stats_set_single_thread(&st, single != 0);
        zm_allocator a = zm_stats_allocator(&st);
        char *p = zm_alloc(a, 100, 8);
        CHECK(p != NULL);
        zm_memory_stats s0, s;
        zm_stats_snapshot(&st, &s0);
        CHECK_EQ(s0.failures, 0);
        CHECK(!zm_resize(a, p, 100, 8, 200)); /* grow */
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.failures, 1);
        CHECK(!zm_resize(a, p, 100, 8, 50)); /* shrink */
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.failures, 2);
        CHECK(zm_remap(a, p, 100, 8, 200) == NULL);
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.failures, 3);
        CHECK(zm_remap(a, p, 100, 8, 50) == NULL);
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.failures, 4);
        CHECK_EQ(s.allocated_bytes, s0.allocated_bytes);
        CHECK_EQ(s.freed_bytes, s0.freed_bytes);
        CHECK_EQ(s.active_bytes, 100);
        CHECK_EQ(s.peak_bytes, 100);
        /* zm_realloc falls back to alloc + copy + free: one failed remap */
        p = zm_realloc(a, p, 100, 300, 8);
        CHECK(p != NULL);
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.failures, 5);
        CHECK_EQ(s.refused, 0);
        CHECK_EQ(s.active_bytes, 300);
        zm_free(a, p, 300, 8);
        zm_stats_snapshot(&st, &s);
        CHECK_EQ(s.active_bytes, 0);
    }
}

typedef struct calls {
    int n;
    zm_stats_level levels[32];
    size_t active[32];
} calls;

static void on_level(void *ctx, zm_stats_level level, size_t active) {
    calls *c = ctx;
    if (c->n < 32) c->levels[c->n] = level, c->active[c->n] = active;
    c->n++;
}

static void test_thresholds_with_hysteresis(void) {
    zm_stats st;
    zm_stats_init(&st, zm_default_allocator(), 0);
    calls c = {0};
    zm_stats_set_thresholds(&st, 1000, 2000, 100, on_level, &c);
    zm_allocator a = zm_stats_allocator(&st);
    void *base = zm_alloc(a, 950, 1);
    CHECK_EQ(c.n, 0);
    /* Hover around 1000 a hundred times: one call going up, none after. */
    for (int i = 0; i < 100; i++) {
        void *p = zm_alloc(a, 100, 1); /* 1050 */
        zm_free(a, p, 100, 1);         /* 950: not below 900 */
    }
    CHECK_EQ(c.n, 1);
    CHECK_EQ(c.levels[0], ZM_STATS_WARNING);
    CHECK_EQ(c.active[0], 1050);
    CHECK_EQ(zm_stats_level_now(&st), ZM_STATS_WARNING);
    /* Below 900: back to normal, once. */
    void *small = zm_alloc(a, 10, 1);
    zm_free(a, base, 950, 1);
    CHECK_EQ(c.n, 2);
    CHECK_EQ(c.levels[1], ZM_STATS_NORMAL);
    CHECK_EQ(c.active[1], 10);
    /* Straight past both: one call, to CRITICAL; straight back: one call. */
    void *big = zm_alloc(a, 2500, 1);
    CHECK_EQ(c.n, 3);
    CHECK_EQ(c.levels[2], ZM_STATS_CRITICAL);
    zm_free(a, big, 2500, 1);
    CHECK_EQ(c.n, 4);
    CHECK_EQ(c.levels[3], ZM_STATS_NORMAL);
    /* Hysteresis at the critical line too. */
    void *b1 = zm_alloc(a, 1500, 1); /* 1510: WARNING */
    void *b2 = zm_alloc(a, 1000, 1); /* 2510: CRITICAL */
    zm_free(a, b2, 1000, 1);         /* 1510: below 1900, WARNING */
    CHECK_EQ(c.n, 7);
    CHECK_EQ(c.levels[4], ZM_STATS_WARNING);
    CHECK_EQ(c.levels[5], ZM_STATS_CRITICAL);
    CHECK_EQ(c.levels[6], ZM_STATS_WARNING);
    void *b3 = zm_alloc(a, 450, 1); /* 1960: under 2000, no call */
    CHECK_EQ(c.n, 7);
    for (int i = 0; i < 50; i++) {
        void *p = zm_alloc(a, 100, 1); /* 2060: CRITICAL the first time */
        zm_free(a, p, 100, 1);         /* 1960: not below 1900, stays */
    }
    CHECK_EQ(c.n, 8);
    CHECK_EQ(zm_stats_level_now(&st), ZM_STATS_CRITICAL);
    zm_free(a, b3, 450, 1);  /* 1510: WARNING */
    zm_free(a, b1, 1500, 1); /* 10: NORMAL */
    CHECK_EQ(c.n, 10);
    CHECK_EQ(c.levels[9], ZM_STATS_NORMAL);
    CHECK_EQ(c.active[9], 10);
    zm_free(a, small, 10, 1);

    /* The sequence of levels never repeats a level twice in a row. */
    for (int i = 1; i < c.n && i < 32; i++) CHECK(c.levels[i] != c.levels[i - 1]);

    /* Critical only: WARNING never shows. */
    calls c2 = {0};
    zm_stats_set_thresholds(&st, 0, 500, 0, on_level, &c2); /* margin 500/16 = 31 */
    void *p = zm_alloc(a, 501, 1);
    zm_free(a, p, 501, 1);
    CHECK_EQ(c2.n, 2);
    CHECK_EQ(c2.levels[0], ZM_STATS_CRITICAL);
    CHECK_EQ(c2.levels[1], ZM_STATS_NORMAL);
    p = zm_alloc(a, 480, 1); /* 480 >= 469: no call */
    zm_free(a, p, 480, 1);
    CHECK_EQ(c2.n, 2);
}

typedef struct worker {
    zm_stats *st;
    int rounds;
    size_t refused;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    zm_allocator a = zm_stats_allocator(w->st);
    void *p[16];
    for (int r = 0; r < w->rounds; r++) {
        for (int i = 0; i < 16; i++)
            if ((p[i] = zm_alloc(a, 64, 8)) == NULL) w->refused++;
        for (int i = 0; i < 16; i++) zm_free(a, p[i], 64, 8);
    }
    return NULL;
}

static void test_many_threads(void) {
    zm_stats st;
    zm_stats_init(&st, zm_default_allocator(), 64 * 40); /* less than 4 threads x 16 blocks */
    worker w[4];
    pthread_t t[4];
    int rounds = zt_small() ? 200 : 20000;
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){&st, rounds, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    size_t refused = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        refused += w[i].refused;
    }
    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.active_bytes, 0);
    CHECK_EQ(s.allocs, s.frees);
    CHECK_EQ(s.allocs + refused, 4 * 16 * (size_t)rounds);
    CHECK_EQ(s.failures, refused);
    CHECK_EQ(s.refused, refused);
    CHECK(s.peak_bytes <= 64 * 40); /* the limit held */
    CHECK_EQ(s.allocated_bytes, 64 * s.allocs);
}

/* Snapshots taken while other threads allocate, and free blocks that yet
   other threads allocated, never show more bytes freed than allocated, and a
   limit that the blocks in flight cannot pass never refuses one. */
#define HANDOFF_SLOTS 64

typedef struct handoff {
    zm_stats *st;
    pthread_mutex_t mu;
    void *slot[HANDOFF_SLOTS]; /* blocks allocated by a producer, freed by a consumer */
    size_t len[HANDOFF_SLOTS];
    int rounds;           /* blocks each producer makes */
    int producers_left;   /* under mu */
    _Atomic int done;     /* set when every thread but the readers has finished */
    size_t refused;       /* under mu */
    size_t bad_snapshots; /* under mu */
    size_t snapshots;     /* under mu */
} handoff;

static void *produce(void *arg) {
    handoff *h = arg;
    zm_allocator a = zm_stats_allocator(h->st);
    for (int r = 0; r < h->rounds; r++) {
        size_t len = 16 + (size_t)(r % 7) * 24;
        void *p = zm_alloc(a, len, 8);
        pthread_mutex_lock(&h->mu);
        if (p == NULL) h->refused++;
        for (int i = 0; p != NULL; i = (i + 1) % HANDOFF_SLOTS) {
            if (h->slot[i] == NULL) {
                h->slot[i] = p, h->len[i] = len;
                p = NULL;
            } else if (i == HANDOFF_SLOTS - 1) {
                /* full: wait for the consumer */
                pthread_mutex_unlock(&h->mu);
                sched_yield();
                pthread_mutex_lock(&h->mu);
            }
        }
        pthread_mutex_unlock(&h->mu);
    }
    pthread_mutex_lock(&h->mu);
    h->producers_left--;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void *consume(void *arg) {
    handoff *h = arg;
    zm_allocator a = zm_stats_allocator(h->st);
    for (;;) {
        void *p = NULL;
        size_t len = 0;
        pthread_mutex_lock(&h->mu);
        for (int i = 0; i < HANDOFF_SLOTS && p == NULL; i++)
            if (h->slot[i] != NULL) p = h->slot[i], len = h->len[i], h->slot[i] = NULL;
        bool finished = p == NULL && h->producers_left == 0;
        pthread_mutex_unlock(&h->mu);
        if (finished) return NULL;
        if (p == NULL)
            sched_yield();
        else
            zm_free(a, p, len, 8);
    }
}

static void *read_snapshots(void *arg) {
    handoff *h = arg;
    size_t bad = 0, n = 0;
    while (!atomic_load(&h->done)) {
        zm_memory_stats s;
        zm_stats_snapshot(h->st, &s);
        /* more freed than allocated: active_bytes wrapped (a snapshot is not
           taken at one instant, so active_bytes may be more than were active
           at any one time, but never less than nothing) */
        if (s.allocated_bytes < s.freed_bytes) {
            bad++;
            fprintf(stderr, "snapshot: allocated %zu < freed %zu\n", s.allocated_bytes,
                    s.freed_bytes);
        }
        n++;
    }
    pthread_mutex_lock(&h->mu);
    h->bad_snapshots += bad;
    h->snapshots += n;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void test_snapshots_while_threads_free(void) {
    zm_stats st;
    /* the blocks in flight: at most 64 in the slots plus one per producer,
       each at most 160 bytes: 66 * 160 < 64 KiB */
    zm_stats_init(&st, zm_default_allocator(), 64 * 1024);
    handoff h = {.st = &st, .rounds = zt_small() ? 2000 : 100000, .producers_left = 2};
    pthread_mutex_init(&h.mu, NULL);
    atomic_init(&h.done, 0);
    pthread_t prod[2], cons, rd;
    pthread_create(&rd, NULL, read_snapshots, &h);
    for (int i = 0; i < 2; i++) pthread_create(&prod[i], NULL, produce, &h);
    pthread_create(&cons, NULL, consume, &h);
    for (int i = 0; i < 2; i++) pthread_join(prod[i], NULL);
    pthread_join(cons, NULL);
    atomic_store(&h.done, 1);
    pthread_join(rd, NULL);
    pthread_mutex_destroy(&h.mu);
    CHECK_EQ(h.refused, 0);
    CHECK_EQ(h.bad_snapshots, 0);
    CHECK(h.snapshots > 0);
    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.failures, 0);
    CHECK_EQ(s.active_bytes, 0);
    CHECK_EQ(s.allocs, 2 * (size_t)h.rounds);
    CHECK_EQ(s.frees, s.allocs);
    CHECK(s.peak_bytes <= 64 * 1024);
}

static void test_single_thread_mode(void) {
    zm_stats st;
    zm_stats_init(&st, zm_default_allocator(), 100);
    zm_stats_set_single_thread(&st, true);
    zm_allocator a = zm_stats_allocator(&st);
    void *p = zm_alloc(a, 60, 1);
    CHECK(zm_alloc(a, 60, 1) == NULL);
    zm_free(a, p, 60, 1);
    zm_memory_stats s;
    zm_stats_snapshot(&st, &s);
    CHECK_EQ(s.allocs, 1);
    CHECK_EQ(s.failures, 1);
    CHECK_EQ(s.active_bytes, 0);
    CHECK_EQ(s.peak_bytes, 60);
}

/* The stats allocator under the sweep, with a limit that refuses some of the
   requests on purpose. */
static zm_status use_stats(zm_allocator a, void *arg) {
    (void)arg;
    zm_stats st;
    zm_stats_init(&st, a, 4096);
    zm_allocator s = zm_stats_allocator(&st);
    zm_status status = ZM_ENOMEM;
    char *x = zm_alloc(s, 1000, 8);
    if (x == NULL) return ZM_ENOMEM;
    char *y = zm_realloc(s, x, 1000, 3000, 8);
    if (y == NULL) goto free_x;
    x = y;
    if (zm_alloc(s, 2000, 8) != NULL) return ZM_EINTERNAL; /* must be refused */
    status = ZM_OK;
    zm_free(s, x, 3000, 8);
    goto done;
free_x:
    zm_free(s, x, 1000, 8);
done:;
    zm_memory_stats m;
    zm_stats_snapshot(&st, &m);
    return m.active_bytes == 0 ? status : ZM_EINTERNAL;
}

/* What the limit and thresholds are set to, read back. */
static void test_config(void) {
    zm_stats st;
    zm_stats_init(&st, zm_default_allocator(), 0);
    zm_stats_config c;
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.limit_bytes, 0);
    CHECK_EQ(c.warning_bytes, 0);
    CHECK_EQ(c.critical_bytes, 0);
    CHECK_EQ(c.warning_clear, 0);
    CHECK_EQ(c.critical_clear, 0);
    zm_stats_set_limit(&st, 5000);
    zm_stats_set_thresholds(&st, 1600, 3200, 0, NULL, NULL);
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.limit_bytes, 5000);
    CHECK_EQ(c.warning_bytes, 1600);
    CHECK_EQ(c.critical_bytes, 3200);
    CHECK_EQ(c.warning_clear, 1500); /* less a sixteenth */
    CHECK_EQ(c.critical_clear, 3000);
    zm_stats_set_thresholds(&st, 1000, 2000, 10, NULL, NULL);
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.warning_clear, 990);
    CHECK_EQ(c.critical_clear, 1990);
    /* Only a critical threshold; then only a warning one. */
    zm_stats_set_thresholds(&st, 0, 2000, 0, NULL, NULL);
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.warning_bytes, 0);
    CHECK_EQ(c.warning_clear, 0);
    CHECK_EQ(c.critical_bytes, 2000);
    zm_stats_set_thresholds(&st, 1000, 0, 0, NULL, NULL);
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.warning_bytes, 1000);
    CHECK_EQ(c.critical_bytes, 0);
    CHECK_EQ(c.critical_clear, 0);
    /* A warning above the critical threshold acts as the critical one. */
    zm_stats_set_thresholds(&st, 3000, 2000, 0, NULL, NULL);
    zm_stats_config_get(&st, &c);
    CHECK_EQ(c.warning_bytes, 2000);
    CHECK_EQ(c.critical_bytes, 2000);
}

int main(void) {
    RUN(test_config);
    RUN(test_counts_and_delta);
    RUN(test_hard_limit);
    RUN(test_thresholds_with_hysteresis);
    RUN(test_backing_resize_failures);
    RUN(test_many_threads);
    RUN(test_snapshots_while_threads_free);
    RUN(test_single_thread_mode);
    CHECK(ZM_CHECK_SWEEP(use_stats, NULL));
    return zt_finish("stats");
}
