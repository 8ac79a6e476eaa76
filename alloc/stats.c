/* The stats allocator: atomic counters, a hard limit, thresholds with
   hysteresis.

   Active bytes are allocated - freed, two counters, and a reader must never
   see more freed than allocated (the difference would wrap, and take() would
   refuse an allocation the limit allows). Relaxed loads of two variables do
   not promise that, so:
   - every update of freed is a release (a release read-modify-write in the
     shared mode, a release store in the single-thread mode);
   - every read of freed is an acquire, and allocated is read after it.
   Bytes are freed only after they were allocated: the increment of
   allocated for a block happens before the increment of freed that gives it
   back (on one thread by program order; across threads through whatever
   handed the block over). A reader whose acquire load of freed sees a free
   therefore synchronizes with it (every release read-modify-write after it
   continues its release sequence), so its later load of allocated sees that
   block's increment or a later value: allocated >= freed in every snapshot.
   A failed backing call takes back only its own increment of allocated,
   which never counted toward a free. The same holds for refused (a part of
   failures): a refusal counts its failure, then its refusal as a release;
   a snapshot reads refused as an acquire, then failures, so it never shows
   more refusals than failures. On x86-64 these orderings cost nothing over
   relaxed ones. */
#include "chain.h"
#include "zmem/stats.h"

/* The counters are plain integers (the public header has no _Atomic, so
   that it compiles as C++), updated with the GCC/Clang __atomic builtins. */
#define RELAXED __ATOMIC_RELAXED
#define ACQUIRE __ATOMIC_ACQUIRE
#define RELEASE __ATOMIC_RELEASE

static size_t ld(const size_t *x) {
    return __atomic_load_n(x, RELAXED);
}

/* The freed counter, read before allocated (see above). */
static size_t ld_freed(const zm_stats *st) {
    return __atomic_load_n(&st->freed, ACQUIRE);
}

/* Every hot function takes mt: true for atomic read-modify-writes, false for
   plain loads and stores (single-thread mode). Each vtable passes a constant,
   so the compiler makes two versions without a branch on the mode. */
#if defined(__GNUC__) || defined(__clang__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

/* Adds n to *x and returns the new value. */
HOT size_t add(size_t *x, size_t n, bool mt) {
    if (!mt) {
        size_t v = ld(x) + n;
        __atomic_store_n(x, v, RELAXED);
        return v;
    }
    return __atomic_fetch_add(x, n, RELAXED) + n;
}

/* Adds n to *x as a release: the freed and refused counters (see above). */
HOT void add_release(size_t *x, size_t n, bool mt) {
    if (!mt)
        __atomic_store_n(x, ld(x) + n, RELEASE);
    else
        __atomic_fetch_add(x, n, RELEASE);
}

HOT void sub(size_t *x, size_t n, bool mt) {
    if (!mt)
        __atomic_store_n(x, ld(x) - n, RELAXED);
    else
        __atomic_fetch_sub(x, n, RELAXED);
}

/* Accounts for n more bytes if the limit allows. Returns false (counting a
   failure) if it does not; else true with the active bytes now in *active. */
HOT bool take(zm_stats *st, size_t n, size_t *active, bool mt) {
    size_t limit = ld(&st->limit);
    size_t freed = ld_freed(st);
    if (limit == 0) {
        *active = add(&st->allocated, n, mt) - freed;
        return true;
    }
    size_t cur = ld(&st->allocated);
    for (;;) {
        size_t now = cur - freed;
        if (n > limit || now > limit - n) {
            add(&st->failures, 1, mt);
            add_release(&st->refused, 1, mt); /* after the failure it is a part of */
            return false;
        }
        if (!mt) {
            __atomic_store_n(&st->allocated, cur + n, RELAXED);
            break;
        }
        if (__atomic_compare_exchange_n(&st->allocated, &cur, cur + n, true, RELAXED, RELAXED))
            break;
    }
    *active = cur + n - freed;
    return true;
}

static size_t active_now(const zm_stats *st) {
    size_t freed = ld_freed(st);
    return ld(&st->allocated) - freed;
}

/* Moves the level to where active bytes put it, with hysteresis, calling the
   hook once for the change. */
static void settle_level(zm_stats *st, size_t active) {
    int lv = __atomic_load_n(&st->level, RELAXED);
    for (;;) {
        int want = lv;
        while (want < ZM_STATS_CRITICAL && active > st->up_at[want]) want++;
        if (want == lv)
            while (want > ZM_STATS_NORMAL && active < st->down_at[want]) want--;
        if (want == lv) return;
        if (__atomic_compare_exchange_n(&st->level, &lv, want, true, RELAXED, RELAXED)) {
            if (st->hook != NULL) st->hook(st->hook_ctx, (zm_stats_level)want, active);
            return;
        }
    }
}

HOT void rose_to(zm_stats *st, size_t active, bool mt) {
    size_t p = ld(&st->peak);
    if (active > p) {
        if (!mt)
            __atomic_store_n(&st->peak, active, RELAXED);
        else
            while (active > p &&
                   !__atomic_compare_exchange_n(&st->peak, &p, active, true, RELAXED, RELAXED)) {
            }
    }
    int lv = __atomic_load_n(&st->level, RELAXED);
    if (ZM_UNLIKELY(active > st->up_at[lv])) settle_level(st, active);
}

HOT void fell_to(zm_stats *st) {
    int lv = __atomic_load_n(&st->level, RELAXED);
    if (ZM_UNLIKELY(lv != ZM_STATS_NORMAL)) {
        size_t active = active_now(st);
        if (active < st->down_at[lv]) settle_level(st, active);
    }
}

/* ---------------------------------------------------------------------------
 * The vtables
 * ------------------------------------------------------------------------- */

HOT void *do_alloc(zm_stats *st, size_t len, size_t align, uintptr_t ra, bool mt) {
    size_t active;
    if (!take(st, len, &active, mt)) return NULL;
    void *p = st->backing.vtable->alloc(st->backing.ctx, len, align, ra);
    if (ZM_UNLIKELY(p == NULL)) {
        sub(&st->allocated, len, mt);
        add(&st->failures, 1, mt);
        return NULL;
    }
    add(&st->allocs, 1, mt);
    rose_to(st, active, mt);
    return p;
}

HOT void do_free(zm_stats *st, void *ptr, size_t len, size_t align, uintptr_t ra, bool mt) {
    st->backing.vtable->free(st->backing.ctx, ptr, len, align, ra);
    add_release(&st->freed, len, mt);
    add(&st->frees, 1, mt);
    fell_to(st);
}

HOT bool do_resize(zm_stats *st, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra,
                   bool mt) {
    if (new_len <= len) {
        if (!st->backing.vtable->resize(st->backing.ctx, ptr, len, align, new_len, ra)) {
            add(&st->failures, 1, mt);
            return false;
        }
        add_release(&st->freed, len - new_len, mt);
        fell_to(st);
        return true;
    }
    size_t active;
    if (!take(st, new_len - len, &active, mt)) return false;
    if (!st->backing.vtable->resize(st->backing.ctx, ptr, len, align, new_len, ra)) {
        sub(&st->allocated, new_len - len, mt);
        add(&st->failures, 1, mt);
        return false;
    }
    rose_to(st, active, mt);
    return true;
}

HOT void *do_remap(zm_stats *st, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra,
                   bool mt) {
    if (new_len <= len) {
        void *p = st->backing.vtable->remap(st->backing.ctx, ptr, len, align, new_len, ra);
        if (p == NULL) {
            add(&st->failures, 1, mt);
            return NULL;
        }
        add_release(&st->freed, len - new_len, mt);
        fell_to(st);
        return p;
    }
    size_t active;
    if (!take(st, new_len - len, &active, mt)) return NULL;
    void *p = st->backing.vtable->remap(st->backing.ctx, ptr, len, align, new_len, ra);
    if (p == NULL) {
        sub(&st->allocated, new_len - len, mt);
        add(&st->failures, 1, mt);
        return NULL;
    }
    rose_to(st, active, mt);
    return p;
}

#define STATS_VTABLE(name, mt)                                                                     \
    static void *name##_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {                 \
        return do_alloc(ctx, len, align, ra, mt);                                                  \
    }                                                                                              \
    static void name##_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {        \
        do_free(ctx, ptr, len, align, ra, mt);                                                     \
    }                                                                                              \
    static bool name##_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,      \
                              uintptr_t ra) {                                                      \
        return do_resize(ctx, ptr, len, align, new_len, ra, mt);                                   \
    }                                                                                              \
    static void *name##_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,      \
                              uintptr_t ra) {                                                      \
        return do_remap(ctx, ptr, len, align, new_len, ra, mt);                                    \
    }                                                                                              \
    const zm_allocator_vtable zm__stats_##name##_vtable = {name##_alloc, name##_resize,            \
                                                           name##_remap, name##_free};

STATS_VTABLE(shared, true)
STATS_VTABLE(single, false)

/* ---------------------------------------------------------------------------
 * Set-up and reading
 * ------------------------------------------------------------------------- */

void zm_stats_init(zm_stats *st, zm_allocator backing, size_t limit_bytes) {
    memset(st, 0, sizeof *st);
    st->backing = backing;
    st->allocated = 0;
    st->freed = 0;
    st->peak = 0;
    st->allocs = 0;
    st->frees = 0;
    st->failures = 0;
    st->refused = 0;
    st->limit = limit_bytes;
    st->level = ZM_STATS_NORMAL;
    zm_stats_set_thresholds(st, 0, 0, 0, NULL, NULL);
}

zm_allocator zm_stats_allocator(zm_stats *st) {
    return (zm_allocator){st,
                          st->single_thread ? &zm__stats_single_vtable : &zm__stats_shared_vtable};
}

void zm_stats_set_limit(zm_stats *st, size_t limit_bytes) {
    __atomic_store_n(&st->limit, limit_bytes, RELAXED);
}

void zm_stats_set_single_thread(zm_stats *st, bool single_thread) {
    st->single_thread = single_thread;
}

void zm_stats_set_thresholds(zm_stats *st, size_t warning_bytes, size_t critical_bytes,
                             size_t margin, zm_stats_hook hook, void *ctx) {
    size_t warn = warning_bytes ? warning_bytes : SIZE_MAX;
    size_t crit = critical_bytes ? critical_bytes : SIZE_MAX;
    if (warn > crit) warn = crit; /* a warning above critical means nothing */
    size_t mw = margin ? margin : warn / 16, mc = margin ? margin : crit / 16;
    /* Rising: from NORMAL past warn, from WARNING past crit. */
    st->up_at[ZM_STATS_NORMAL] = warn;
    st->up_at[ZM_STATS_WARNING] = crit;
    st->up_at[ZM_STATS_CRITICAL] = SIZE_MAX;
    /* Falling: below the threshold minus the margin. Without a warning
       threshold WARNING is never a resting level: fall through it. */
    st->down_at[ZM_STATS_NORMAL] = 0;
    st->down_at[ZM_STATS_WARNING] = warning_bytes ? (warn > mw ? warn - mw : 1) : SIZE_MAX;
    st->down_at[ZM_STATS_CRITICAL] = crit == SIZE_MAX ? 0 : crit > mc ? crit - mc : 1;
    st->hook = hook;
    st->hook_ctx = ctx;
    __atomic_store_n(&st->level, ZM_STATS_NORMAL, RELAXED);
}

void zm_stats_snapshot(const zm_stats *st, zm_memory_stats *out) {
    out->freed_bytes = ld_freed(st);
    out->allocated_bytes = ld(&st->allocated);
    out->active_bytes = out->allocated_bytes - out->freed_bytes;
    out->peak_bytes = ld(&st->peak);
    out->allocs = ld(&st->allocs);
    out->frees = ld(&st->frees);
    out->refused = __atomic_load_n(&st->refused, ACQUIRE); /* before failures */
    out->failures = ld(&st->failures);
}

void zm_stats_reset_peak(zm_stats *st) {
    __atomic_store_n(&st->peak, active_now(st), RELAXED);
}

void zm_stats_config_get(const zm_stats *st, zm_stats_config *out) {
    out->limit_bytes = ld(&st->limit);
    bool warn = st->down_at[ZM_STATS_WARNING] != SIZE_MAX;
    size_t crit = st->up_at[ZM_STATS_WARNING];
    out->warning_bytes = warn ? st->up_at[ZM_STATS_NORMAL] : 0;
    out->warning_clear = warn ? st->down_at[ZM_STATS_WARNING] : 0;
    out->critical_bytes = crit == SIZE_MAX ? 0 : crit;
    out->critical_clear = crit == SIZE_MAX ? 0 : st->down_at[ZM_STATS_CRITICAL];
}

zm_stats_level zm_stats_level_now(const zm_stats *st) {
    return (zm_stats_level)__atomic_load_n(&st->level, RELAXED);
}

zm_memory_delta zm_memory_stats_delta(const zm_memory_stats *before, const zm_memory_stats *after) {
    zm_memory_delta d;
    d.allocated_bytes = after->allocated_bytes - before->allocated_bytes;
    d.freed_bytes = after->freed_bytes - before->freed_bytes;
    d.allocs = after->allocs - before->allocs;
    d.frees = after->frees - before->frees;
    d.failures = after->failures - before->failures;
    d.active_bytes = (ptrdiff_t)(after->active_bytes - before->active_bytes);
    d.peak_bytes = after->peak_bytes;
    d.refused = after->refused - before->refused;
    return d;
}
