/* zmem — the pool allocator.
 *
 * Fixed-size items, as Zig's MemoryPool: items come from slabs taken from a
 * backing allocator (never one backing call per item), and a destroyed item
 * goes on an intrusive free list (its first bytes hold the link) from which
 * the next create takes it, most recently destroyed first. Slabs grow
 * geometrically (each new slab holds about as many items as all the previous
 * ones together) and are given back only at deinit.
 *
 * A pool is growable (max_items 0) or capped: a capped pool never holds more
 * than max_items items, and create returns NULL while max_items are live.
 * zm_pool_preheat allocates ahead so that later creates make no backing calls;
 * zm_pool_reset makes every item free again and keeps the slabs.
 *
 * create and destroy are inline; only creating from a fresh slab takes a call.
 * Over a zm_failing with count_arenas set (zmem/failing.h; the every-failure
 * sweep sets it), every create through the pool's allocator view (and
 * through the JSON pool, which is built on pools) takes the call and counts
 * there as an allocation attempt of the failing allocator, failing (NULL)
 * when its turn comes. The inline zm_pool_create and zm_pool_destroy stay
 * as they are, with no test of their own (one costs 10-15% of a create and
 * destroy pair): zm_pool_create counts when it goes out of line (an empty
 * free list) only. To have every create of a pool of your own swept, create
 * through zm_pool_allocator.
 *
 * A pool is not thread-safe; give each thread its own, or use zm_locked on its
 * allocator view.
 */
#ifndef ZMEM_POOL_H
#define ZMEM_POOL_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A free item: its first bytes link it into the free list. */
typedef struct zm__pool_item {
    struct zm__pool_item *next;
} zm__pool_item;

/* A pool. Keep it anywhere; do not copy it while it holds slabs. The fields
   are public for the inline fast path only. */
typedef struct zm_pool {
    zm__pool_item *free_list;                 /* destroyed items, latest first */
    char *bump;                               /* the next never-used item of the current slab */
    char *bump_end;                           /* the end of the current slab's items */
    size_t live;                              /* items created and not destroyed */
    size_t capacity;                          /* items in all slabs */
    size_t stride;                            /* bytes per item in a slab */
    size_t item_size;                         /* as given to zm_pool_init */
    size_t item_align;                        /* the alignment every item has */
    size_t max_items;                         /* 0: unbounded */
    struct zm__pool_slab *first, *cur, *last; /* slabs in order; cur is being bumped */
    zm_allocator backing;
    bool counted; /* creates through the view count at a zm_failing (see above) */
} zm_pool;

/* Makes an empty pool of items of item_size bytes aligned to item_align (a
   power of two), holding at most max_items items (0: no limit). Allocates
   nothing until used. Items are at least pointer-sized and pointer-aligned.
   Returns ZM_OK, or ZM_EINVAL (item_size 0, a bad alignment, or a size that
   overflows once rounded up). */
zm_status zm_pool_init(zm_pool *pool, zm_allocator backing, size_t item_size, size_t item_align,
                       size_t max_items);

/* Gives every slab back to the backing allocator. Every item dies. The pool
   is empty afterwards and may be used again with the same parameters. */
void zm_pool_deinit(zm_pool *pool);

/* Out-of-line part of zm_pool_create; call zm_pool_create instead. ra is
   where the item was asked for (0 unknown). */
void *zm__pool_create_slow(zm_pool *pool, uintptr_t ra);

/* Returns an uninitialised item, or NULL when max_items are live or the
   backing allocator fails. The item belongs to the pool: give it back with
   zm_pool_destroy (or let zm_pool_reset / zm_pool_deinit reclaim it). */
static inline void *zm_pool_create(zm_pool *pool) {
    zm__pool_item *it = pool->free_list;
    if (ZM_LIKELY(it != NULL)) {
        pool->free_list = it->next;
        pool->live++;
        return it;
    }
    return zm__pool_create_slow(pool, ZM_RET_ADDR());
}

/* zm_pool_create for an allocator built on pools: counts every create at a
   failing allocator that asks for it (count_arenas) and passes on where its
   own caller asked (ra) for the failing allocator's report. */
static inline void *zm__pool_create_at(zm_pool *pool, uintptr_t ra) {
    zm__pool_item *it = pool->free_list;
    if (ZM_LIKELY(it != NULL && !pool->counted)) {
        pool->free_list = it->next;
        pool->live++;
        return it;
    }
    return zm__pool_create_slow(pool, ra);
}

/* Gives item (from zm_pool_create on this pool, or NULL) back to the pool.
   The next create may return it. */
static inline void zm_pool_destroy(zm_pool *pool, void *item) {
    if (item == NULL) return;
    zm__pool_item *it = (zm__pool_item *)item;
    it->next = pool->free_list;
    pool->free_list = it;
    pool->live--;
}

/* Makes sure the next n creates need no call to the backing allocator,
   allocating (at most one slab) if needed. Returns ZM_OK; ZM_ELIMIT when that
   would exceed max_items (nothing is allocated); ZM_ENOMEM when the backing
   allocator fails. */
zm_status zm_pool_preheat(zm_pool *pool, size_t n);

/* Makes every item free again (every pointer to an item dies) and keeps the
   slabs for reuse: creates up to the capacity make no backing calls. */
void zm_pool_reset(zm_pool *pool);

/* Items created and not yet destroyed. */
static inline size_t zm_pool_live(const zm_pool *pool) {
    return pool->live;
}

/* Items the slabs hold: live ones plus those free for reuse. */
static inline size_t zm_pool_capacity(const zm_pool *pool) {
    return pool->capacity;
}

/* A zm_allocator view of the pool: alloc serves requests of exactly item_size
   bytes with an alignment up to the items' and fails every other one (NULL);
   free destroys the item; resize and remap of an item always fail (its size
   is fixed). Valid while pool lives. */
zm_allocator zm_pool_allocator(zm_pool *pool);

/* ZM_POOL_TYPED(name, T) defines a pool of T named `name` with typed wrappers:
   name_init(p, backing, max_items), name_create(p) -> T *, name_destroy(p, T *),
   name_preheat(p, n), name_reset(p), name_deinit(p). Use at file scope:
       ZM_POOL_TYPED(node_pool, struct node);
 */
#define ZM_POOL_TYPED(name, T)                                                                     \
    typedef struct name {                                                                          \
        zm_pool pool;                                                                              \
    } name;                                                                                        \
    static inline zm_status name##_init(name *p, zm_allocator backing, size_t max_items) {         \
        return zm_pool_init(&p->pool, backing, sizeof(T), _Alignof(T), max_items);                 \
    }                                                                                              \
    static inline T *name##_create(name *p) {                                                      \
        return (T *)zm_pool_create(&p->pool);                                                      \
    }                                                                                              \
    static inline void name##_destroy(name *p, T *item) {                                          \
        zm_pool_destroy(&p->pool, item);                                                           \
    }                                                                                              \
    static inline zm_status name##_preheat(name *p, size_t n) {                                    \
        return zm_pool_preheat(&p->pool, n);                                                       \
    }                                                                                              \
    static inline void name##_reset(name *p) {                                                     \
        zm_pool_reset(&p->pool);                                                                   \
    }                                                                                              \
    static inline void name##_deinit(name *p) {                                                    \
        zm_pool_deinit(&p->pool);                                                                  \
    }                                                                                              \
    struct name /* swallows the caller's semicolon */

#ifdef __cplusplus
}
#endif
#endif
