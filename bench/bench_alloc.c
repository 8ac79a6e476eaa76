/* Side-by-side allocator benchmarks, reported as ratios.
 *
 *   arena: 1M small objects (8 to 64 bytes, mixed sizes from a fixed
 *          pseudo-random sequence) allocated and touched, then all released:
 *          glibc malloc+free, mimalloc mi_malloc+mi_free, an inline bump
 *          pointer (the floor), zm_arena_alloc, and zm_alloc through the
 *          arena's allocator view. The arena releases with one retaining
 *          reset (steady state: the rounds after the first).
 *   pool:  create/destroy churn with 10k live objects, a random one replaced
 *          at each step: glibc, mimalloc, zm_pool (and its allocator view).
 *
 * Every figure is the median of several rounds, in thread CPU time. Timing never fails the run:
 * the exit status is nonzero only when an allocator misbehaves (NULL, a
 * misaligned or corrupted block, a backing call in steady state).
 *
 * glibc's malloc is called as __libc_malloc/__libc_free: when zmem links
 * Debian's libmimalloc, plain malloc IS mimalloc.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmem/arena.h"
#include "zmem/pool.h"

#define ZB_NAME "bench_alloc"
#include "bench_time.h"

#ifdef ZMEM_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#ifdef __GLIBC__
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
#define GLIBC_MALLOC __libc_malloc
#define GLIBC_FREE   __libc_free
#define GLIBC_NAME   "glibc"
#else
#define GLIBC_MALLOC malloc
#define GLIBC_FREE   free
#define GLIBC_NAME   "libc"
#endif

/* A backing allocator that counts calls, to prove the arena's steady state. */
typedef struct counted {
    zm_allocator inner;
    size_t calls;
} counted;
static void *ct_alloc(void *c, size_t len, size_t al, uintptr_t ra) {
    ((counted *)c)->calls++;
    return ((counted *)c)->inner.vtable->alloc(((counted *)c)->inner.ctx, len, al, ra);
}
static bool ct_resize(void *c, void *p, size_t len, size_t al, size_t nl, uintptr_t ra) {
    ((counted *)c)->calls++;
    return ((counted *)c)->inner.vtable->resize(((counted *)c)->inner.ctx, p, len, al, nl, ra);
}
static void *ct_remap(void *c, void *p, size_t len, size_t al, size_t nl, uintptr_t ra) {
    ((counted *)c)->calls++;
    return ((counted *)c)->inner.vtable->remap(((counted *)c)->inner.ctx, p, len, al, nl, ra);
}
static void ct_free(void *c, void *p, size_t len, size_t al, uintptr_t ra) {
    ((counted *)c)->calls++;
    ((counted *)c)->inner.vtable->free(((counted *)c)->inner.ctx, p, len, al, ra);
}
static const zm_allocator_vtable ct_vt = {ct_alloc, ct_resize, ct_remap, ct_free};

/* ---------------------------------------------------------------------------
 * arena: 1M small objects, then all released
 * ------------------------------------------------------------------------- */

enum { N_OBJ = 1000000, ARENA_ROUNDS = 11 };

static uint8_t obj_len[N_OBJ]; /* 8 to 64 */
static void *obj_ptr[N_OBJ];

/* The floor: a bump pointer in five lines. */
typedef struct bump {
    char *ptr, *end;
} bump;
static inline void *bump_alloc(bump *b, size_t len) {
    uintptr_t p = ((uintptr_t)b->ptr + 7) & ~(uintptr_t)7;
    if (p + len > (uintptr_t)b->end) return NULL;
    b->ptr = (char *)(p + len);
    return (void *)p;
}

/* Touches a fresh object: writes its first and last 8 bytes. */
static inline void touch(void *p, size_t len, uint64_t v) {
    memcpy(p, &v, 8);
    memcpy((char *)p + len - 8, &v, 8);
}

static double round_glibc(void) {
    double t0 = now_ns();
    for (int i = 0; i < N_OBJ; i++) {
        void *p = GLIBC_MALLOC(obj_len[i]);
        if (p == NULL) return -1;
        touch(p, obj_len[i], (uint64_t)i);
        obj_ptr[i] = p;
    }
    for (int i = 0; i < N_OBJ; i++) GLIBC_FREE(obj_ptr[i]);
    return now_ns() - t0;
}

#ifdef ZMEM_HAVE_MIMALLOC
static double round_mimalloc(void) {
    double t0 = now_ns();
    for (int i = 0; i < N_OBJ; i++) {
        void *p = mi_malloc(obj_len[i]);
        if (p == NULL) return -1;
        touch(p, obj_len[i], (uint64_t)i);
        obj_ptr[i] = p;
    }
    for (int i = 0; i < N_OBJ; i++) mi_free(obj_ptr[i]);
    return now_ns() - t0;
}
#endif

static bump bump_state;
static char *bump_buf;

static double round_bump(void) {
    double t0 = now_ns();
    for (int i = 0; i < N_OBJ; i++) {
        void *p = bump_alloc(&bump_state, obj_len[i]);
        if (p == NULL) return -1;
        touch(p, obj_len[i], (uint64_t)i);
    }
    bump_state.ptr = bump_buf; /* release all */
    return now_ns() - t0;
}

static zm_arena arena;

static double round_arena(void) {
    double t0 = now_ns();
    for (int i = 0; i < N_OBJ; i++) {
        void *p = zm_arena_alloc(&arena, obj_len[i], 8);
        if (p == NULL) return -1;
        touch(p, obj_len[i], (uint64_t)i);
    }
    zm_arena_reset(&arena, ZM_ARENA_RETAIN_CAPACITY, 0);
    return now_ns() - t0;
}

static double round_arena_vtable(void) {
    double t0 = now_ns();
    zm_allocator a = zm_arena_allocator(&arena);
    for (int i = 0; i < N_OBJ; i++) {
        void *p = zm_alloc(a, obj_len[i], 8);
        if (p == NULL) return -1;
        touch(p, obj_len[i], (uint64_t)i);
    }
    zm_arena_reset(&arena, ZM_ARENA_RETAIN_CAPACITY, 0);
    return now_ns() - t0;
}

/* A contender: a function running one round and returning its time in
   nanoseconds (negative: it failed). */
typedef struct contender {
    const char *name;
    double (*round)(void); /* NULL: not available in this build */
    double ns, best;       /* median and best per unit; negative: failed */
} contender;

enum { MAX_ROUNDS = 32 };

/* Runs a warm-up round of every contender, then `rounds` rounds in each of
   which every contender runs once, in turn: all of them see the same machine
   conditions, so their ratios hold even when the machine is busy. Stores
   each contender's median and best time divided by `per`. */
static void run_interleaved(contender *c, int n, int rounds, double per) {
    static double t[8][MAX_ROUNDS];
    for (int i = 0; i < n; i++) {
        c[i].ns = c[i].best = -1;
        if (c[i].round != NULL && c[i].round() >= 0) c[i].ns = 0;
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            if (c[i].ns < 0) continue;
            t[i][r] = c[i].round();
            if (t[i][r] < 0) c[i].ns = -1;
        }
    for (int i = 0; i < n; i++) {
        if (c[i].ns < 0) continue;
        c[i].ns = median(t[i], rounds) / per;
        c[i].best = t[i][0] / per; /* sorted by median() */
    }
}

static void print_row(const char *name, double ns, double best, const char *unit) {
    if (ns < 0)
        printf("  %-34s FAILED\n", name);
    else
        printf("  %-34s %7.2f ns/%s (best %.2f)\n", name, ns, unit, best);
}

/* Prints a ratio line: how many times faster `fast` is than `slow`, against a
   target (>= target, or for a floor <= target). */
static void print_ratio(const char *what, double slow, double fast, double target, bool at_least) {
    if (slow <= 0 || fast <= 0) return;
    double r = slow / fast;
    bool met = at_least ? r >= target : r <= target;
    printf("  %-34s %6.2fx  (target %s %.0fx: %s)\n", what, r, at_least ? ">=" : "<=", target,
           met ? "met" : "MISSED");
}

static void bench_arena(void) {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    size_t total = 0;
    for (int i = 0; i < N_OBJ; i++) {
        obj_len[i] = (uint8_t)(8 + xorshift(&s) % 57);
        total += obj_len[i];
    }
    printf("arena: %d objects of 8 to 64 bytes (%.1f MB, mean %.1f B), allocated, touched, "
           "all released; median of %d rounds\n",
           N_OBJ, (double)total / 1e6, (double)total / N_OBJ, ARENA_ROUNDS);

    size_t bump_len = (size_t)N_OBJ * 72;
    bump_buf = malloc(bump_len);
    EXPECT(bump_buf != NULL, "bump buffer");
    if (bump_buf == NULL) return;
    bump_state = (bump){bump_buf, bump_buf + bump_len};
    counted backing = {zm_default_allocator(), 0};
    zm_arena_init(&arena, (zm_allocator){&backing, &ct_vt});
    round_arena(); /* the first round grows the arena */
    size_t calls = backing.calls;

    enum { GLIBC, MI, BUMP, ARENA, VTABLE };
    contender c[] = {
        [GLIBC] = {GLIBC_NAME " malloc + free", round_glibc, 0, 0},
#ifdef ZMEM_HAVE_MIMALLOC
        [MI] = {"mimalloc mi_malloc + mi_free", round_mimalloc, 0, 0},
#else
        [MI] = {"mimalloc mi_malloc + mi_free", NULL, 0, 0},
#endif
        [BUMP] = {"inline bump pointer (floor)", round_bump, 0, 0},
        [ARENA] = {"zm_arena_alloc + reset", round_arena, 0, 0},
        [VTABLE] = {"zm_alloc(arena allocator) + reset", round_arena_vtable, 0, 0},
    };
    int n = (int)(sizeof c / sizeof c[0]);
    run_interleaved(c, n, ARENA_ROUNDS, N_OBJ);
    for (int i = 0; i < n; i++) {
        if (c[i].round == NULL) {
            printf("  %-34s skipped: zmem was built without mimalloc\n", c[i].name);
            continue;
        }
        print_row(c[i].name, c[i].ns, c[i].best, "object");
        EXPECT(c[i].ns > 0, c[i].name);
    }
    printf("  backing calls in steady state: %zu (arena capacity %.1f MB)\n", backing.calls - calls,
           (double)zm_arena_capacity(&arena) / 1e6);
    EXPECT(backing.calls == calls, "the arena called its backing allocator in steady state");
    zm_arena_deinit(&arena);
    free(bump_buf);

    double ns_glibc = c[GLIBC].ns, ns_mi = c[MI].ns, ns_bump = c[BUMP].ns;
    double ns_arena = c[ARENA].ns, ns_vt = c[VTABLE].ns;
    print_ratio(GLIBC_NAME " / zm_arena_alloc", ns_glibc, ns_arena, 5, true);
    print_ratio("mimalloc / zm_arena_alloc", ns_mi, ns_arena, 2, true);
    print_ratio("zm_arena_alloc / bump floor", ns_arena, ns_bump, 2, false);
    print_ratio(GLIBC_NAME " / arena vtable", ns_glibc, ns_vt, 5, true);
    print_ratio("mimalloc / arena vtable", ns_mi, ns_vt, 2, true);
    print_ratio("arena vtable / bump floor", ns_vt, ns_bump, 2, false);
}

/* ---------------------------------------------------------------------------
 * pool: churn with 10k live objects
 * ------------------------------------------------------------------------- */

enum { LIVE = 10000, CHURN_OPS = 10000000, POOL_ROUNDS = 7, OBJ_SIZE = 48 };

typedef struct object {
    uint64_t id;
    char payload[OBJ_SIZE - 8];
} object;

static object *live[LIVE];

/* One churn: CHURN_OPS times, a random live object is destroyed and a new
   one takes its place. Returns nanoseconds per op (destroy + create), or -1
   if an allocation failed or an object was found overwritten. */
#define CHURN(NAME, CREATE, DESTROY, SETUP, TEARDOWN)                                              \
    static double NAME(void) {                                                                     \
        SETUP;                                                                                     \
        for (int i = 0; i < LIVE; i++) {                                                           \
            live[i] = (object *)(CREATE);                                                          \
            if (live[i] == NULL) return -1;                                                        \
            live[i]->id = (uint64_t)i;                                                             \
        }                                                                                          \
        uint64_t s = 0x2545F4914F6CDD1Dull, bad = 0;                                               \
        double t0 = now_ns();                                                                      \
        for (uint64_t op = 0; op < CHURN_OPS; op++) {                                              \
            size_t k = (size_t)(xorshift(&s) % LIVE);                                              \
            object *o = live[k];                                                                   \
            bad |= o->id ^ (uint64_t)k;                                                            \
            DESTROY(o);                                                                            \
            o = (object *)(CREATE);                                                                \
            if (o == NULL) return -1;                                                              \
            o->id = (uint64_t)k;                                                                   \
            live[k] = o;                                                                           \
        }                                                                                          \
        double t = now_ns() - t0;                                                                  \
        for (int i = 0; i < LIVE; i++) {                                                           \
            bad |= live[i]->id ^ (uint64_t)i;                                                      \
            DESTROY(live[i]);                                                                      \
        }                                                                                          \
        TEARDOWN;                                                                                  \
        return bad ? -1 : t / CHURN_OPS;                                                           \
    }

CHURN(churn_glibc, GLIBC_MALLOC(sizeof(object)), GLIBC_FREE, (void)0, (void)0)
#ifdef ZMEM_HAVE_MIMALLOC
CHURN(churn_mimalloc, mi_malloc(sizeof(object)), mi_free, (void)0, (void)0)
#endif
static zm_pool pool;
#define POOL_DESTROY(o) zm_pool_destroy(&pool, (o))
CHURN(churn_pool, zm_pool_create(&pool), POOL_DESTROY,
      zm_pool_init(&pool, zm_default_allocator(), sizeof(object), _Alignof(object), 0),
      zm_pool_deinit(&pool))
static zm_allocator pool_view;
#define VIEW_DESTROY(o) zm_free(pool_view, (o), sizeof(object), _Alignof(object))
CHURN(churn_pool_vtable, zm_alloc(pool_view, sizeof(object), _Alignof(object)), VIEW_DESTROY,
      (zm_pool_init(&pool, zm_default_allocator(), sizeof(object), _Alignof(object), 0),
       pool_view = zm_pool_allocator(&pool)),
      zm_pool_deinit(&pool))

static void bench_pool(void) {
    printf("pool: %d live objects of %d bytes, %d random replacements (destroy + create); "
           "median of %d rounds\n",
           LIVE, OBJ_SIZE, CHURN_OPS, POOL_ROUNDS);
    enum { GLIBC, MI, POOL, VTABLE };
    contender c[] = {
        [GLIBC] = {GLIBC_NAME " malloc + free", churn_glibc, 0, 0},
#ifdef ZMEM_HAVE_MIMALLOC
        [MI] = {"mimalloc mi_malloc + mi_free", churn_mimalloc, 0, 0},
#else
        [MI] = {"mimalloc mi_malloc + mi_free", NULL, 0, 0},
#endif
        [POOL] = {"zm_pool_create + zm_pool_destroy", churn_pool, 0, 0},
        [VTABLE] = {"zm_alloc/zm_free(pool allocator)", churn_pool_vtable, 0, 0},
    };
    int n = (int)(sizeof c / sizeof c[0]);
    run_interleaved(c, n, POOL_ROUNDS, 1);
    for (int i = 0; i < n; i++) {
        if (c[i].round == NULL) {
            printf("  %-34s skipped: zmem was built without mimalloc\n", c[i].name);
            continue;
        }
        print_row(c[i].name, c[i].ns, c[i].best, "op");
        EXPECT(c[i].ns > 0, c[i].name);
    }
    double ns_glibc = c[GLIBC].ns, ns_mi = c[MI].ns, ns_pool = c[POOL].ns;
    print_ratio(GLIBC_NAME " / zm_pool", ns_glibc, ns_pool, 2, true);
    print_ratio("mimalloc / zm_pool", ns_mi, ns_pool, 1, true);
}

int main(void) {
    printf("zmem allocator benchmarks (default allocator: %s); thread CPU ns per operation, "
           "lower is better; ratios: how many times faster\n\n",
           zm_default_allocator_name());
    bench_arena();
    printf("\n");
    bench_pool();
    if (failures) fprintf(stderr, "bench_alloc: %d functional failures\n", failures);
    return failures ? 1 : 0;
}
