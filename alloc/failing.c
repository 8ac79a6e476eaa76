/* The failing allocator: fails one chosen alloc and one chosen resize/remap. */
#include "chain.h"
#include "where.h"
#include "zmem/arena.h"
#include "zmem/debug.h"
#include "zmem/heap.h"
#include "zmem/locked.h"
#include "zmem/pool.h"
#include "zmem/stack_fallback.h"
#include "zmem/stats.h"

void zm_failing_init(zm_failing *f, zm_allocator backing, size_t fail_index,
                     size_t resize_fail_index) {
    memset(f, 0, sizeof *f);
    f->backing = backing;
    f->fail_index = fail_index;
    f->resize_fail_index = resize_fail_index;
}

void zm_failing_reset(zm_failing *f, size_t fail_index, size_t resize_fail_index) {
    zm_allocator backing = f->backing;
    bool count_arenas = f->count_arenas;
    zm_failing_init(f, backing, fail_index, resize_fail_index);
    f->count_arenas = count_arenas;
}

/* Records an induced failure of a request for len bytes from ra; the stack
   is recorded from the frame that returns to from. */
static void induce(zm_failing *f, bool is_alloc, size_t len, uintptr_t ra, uintptr_t from) {
    f->has_induced_failure = true;
    if (is_alloc)
        f->induced_alloc_failure = true;
    else
        f->induced_resize_failure = true;
    f->induced_ret_addr = ra;
    f->induced_len = len;
    f->induced_site = ZM_FAILING_SITE_ALLOCATOR;
    f->induced_nframes = zm__backtrace(f->induced_frames, 16, from);
}

/* Accounts for a block changing from len to new_len bytes. */
static void account_resize(zm_failing *f, size_t len, size_t new_len) {
    if (new_len > len)
        f->allocated_bytes += new_len - len;
    else
        f->freed_bytes += len - new_len;
}

static void *failing_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->alloc_index++ == f->fail_index)) {
        induce(f, true, len, ra, ZM_RET_ADDR());
        return NULL;
    }
    void *p = f->backing.vtable->alloc(f->backing.ctx, len, align, ra);
    if (p != NULL) {
        f->allocated_bytes += len;
        f->allocations++;
    }
    return p;
}

static bool failing_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->resize_index++ == f->resize_fail_index)) {
        induce(f, false, new_len, ra, ZM_RET_ADDR());
        return false;
    }
    if (!f->backing.vtable->resize(f->backing.ctx, ptr, len, align, new_len, ra)) return false;
    account_resize(f, len, new_len);
    return true;
}

static void *failing_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    zm_failing *f = ctx;
    if (ZM_UNLIKELY(f->resize_index++ == f->resize_fail_index)) {
        induce(f, false, new_len, ra, ZM_RET_ADDR());
        return NULL;
    }
    void *p = f->backing.vtable->remap(f->backing.ctx, ptr, len, align, new_len, ra);
    if (p != NULL) account_resize(f, len, new_len);
    return p;
}

static void failing_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_failing *f = ctx;
    f->freed_bytes += len;
    f->deallocations++;
    f->backing.vtable->free(f->backing.ctx, ptr, len, align, ra);
}

const zm_allocator_vtable zm__failing_vtable = {failing_alloc, failing_resize, failing_remap,
                                                failing_free};

zm_allocator zm_failing_allocator(zm_failing *f) {
    return (zm_allocator){f, &zm__failing_vtable};
}

/* ---------------------------------------------------------------------------
 * Arenas and pools over a failing allocator (count_arenas)
 * ------------------------------------------------------------------------- */

/* Deeper than any real stack of wrappers; stops a cycle, should one be built. */
#define MAX_CHAIN 16

/* The allocator that a passes its requests to, when a is one of zmem's
   wrappers, and the mutex that guards that allocator's use through a (or
   NULL). Returns false when a passes nothing on that could reach f. */
static bool step(zm_allocator a, zm_allocator *next, pthread_mutex_t **lock) {
    const zm_allocator_vtable *vt = a.vtable;
    *lock = NULL;
    if (vt == &zm__locked_vtable) {
        zm_locked *l = a.ctx;
        *next = l->inner;
        *lock = &l->mutex;
    } else if (vt == &zm__stats_shared_vtable || vt == &zm__stats_single_vtable) {
        *next = ((zm_stats *)a.ctx)->backing;
    } else if (vt == &zm__debug_vtable) {
        zm_debug *d = a.ctx;
        *next = d->backing;
        if (d->opts.thread_safe) *lock = &d->lock;
    } else if (vt == &zm__arena_vtable) {
        *next = ((zm_arena *)a.ctx)->backing;
    } else if (vt == &zm__pool_vtable) {
        *next = ((zm_pool *)a.ctx)->backing;
    } else if (vt == &zm__heap_list_vtable) {
        *next = ((zm_heap *)a.ctx)->backing;
    } else if (vt == &zm__stack_fallback_vtable) {
        *next = ((zm_stack_fallback *)a.ctx)->fallback;
    } else {
        return false;
    }
    return next->vtable != NULL;
}

bool zm__chain_counts(zm_allocator a) {
    for (int depth = 0; depth < MAX_CHAIN && a.vtable != NULL; depth++) {
        if (a.vtable == &zm__failing_vtable) return ((zm_failing *)a.ctx)->count_arenas;
        pthread_mutex_t *lock;
        if (!step(a, &a, &lock)) return false;
    }
    return false;
}

/* One attempt at f: the next alloc or resize index, failing when it is f's. */
static bool tick(zm_failing *f, zm_failing_site site, bool resize, size_t len, uintptr_t ra,
                 uintptr_t from) {
    if (resize) {
        f->arena_resizes++;
        if (ZM_LIKELY(f->resize_index++ != f->resize_fail_index)) return true;
    } else {
        f->arena_allocs++;
        if (ZM_LIKELY(f->alloc_index++ != f->fail_index)) return true;
    }
    induce(f, !resize, len, ra, from);
    f->induced_site = site;
    return false;
}

static bool attempt(zm_allocator a, int depth, zm_failing_site site, bool resize, size_t len,
                    uintptr_t ra, uintptr_t from) {
    if (a.vtable == &zm__failing_vtable) {
        zm_failing *f = a.ctx;
        return f->count_arenas ? tick(f, site, resize, len, ra, from) : true;
    }
    zm_allocator next;
    pthread_mutex_t *lock;
    if (depth == MAX_CHAIN || !step(a, &next, &lock)) return true;
    if (lock != NULL) pthread_mutex_lock(lock);
    bool ok = attempt(next, depth + 1, site, resize, len, ra, from);
    if (lock != NULL) pthread_mutex_unlock(lock);
    return ok;
}

bool zm__chain_attempt(zm_allocator a, zm_failing_site site, bool resize, size_t len,
                       uintptr_t ra) {
    return attempt(a, 0, site, resize, len, ra, ZM_RET_ADDR());
}
