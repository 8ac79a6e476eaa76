/* The pool allocator: slabs, the slow path of create, preheat, reset. */
#include <stdalign.h>

#include "chain.h"
#include "zmem/pool.h"

/* A slab: this header, padding up to the item alignment, then the items. */
typedef struct zm__pool_slab {
    struct zm__pool_slab *next;
    size_t items; /* items in this slab */
    size_t bytes; /* bytes asked of the backing allocator */
} slab;

/* The first slab aims at this many bytes; later ones grow geometrically up to
   MAX_SLAB_BYTES (or one item, if an item is larger). */
#define FIRST_SLAB_BYTES ((size_t)4096)
#define MAX_SLAB_BYTES   ((size_t)16 << 20)

static size_t round_up(size_t n, size_t align) {
    return (n + align - 1) & ~(align - 1);
}

/* Bytes in front of the items of a slab. */
static size_t slab_front(const zm_pool *pool) {
    return round_up(sizeof(slab), pool->item_align);
}

static char *slab_items(const zm_pool *pool, slab *s) {
    return (char *)s + slab_front(pool);
}

/* Makes s the slab being bumped. */
static void enter_slab(zm_pool *pool, slab *s) {
    pool->cur = s;
    pool->bump = s != NULL ? slab_items(pool, s) : NULL;
    pool->bump_end = s != NULL ? pool->bump + s->items * pool->stride : NULL;
}

zm_status zm_pool_init(zm_pool *pool, zm_allocator backing, size_t item_size, size_t item_align,
                       size_t max_items) {
    if (item_size == 0 || !zm_is_valid_align(item_align)) return ZM_EINVAL;
    size_t align = item_align > alignof(zm__pool_item) ? item_align : alignof(zm__pool_item);
    if (align < alignof(slab)) align = alignof(slab);
    size_t size = item_size > sizeof(zm__pool_item) ? item_size : sizeof(zm__pool_item);
    if (size > SIZE_MAX / 2 - align) return ZM_EINVAL;
    memset(pool, 0, sizeof *pool);
    pool->backing = backing;
    pool->item_size = item_size;
    pool->item_align = align;
    pool->stride = round_up(size, align);
    pool->max_items = max_items;
    pool->counted = zm__chain_counts(backing);
    return ZM_OK;
}

void zm_pool_deinit(zm_pool *pool) {
    slab *s = pool->first;
    while (s != NULL) {
        slab *next = s->next;
        zm_free(pool->backing, s, s->bytes, pool->item_align);
        s = next;
    }
    pool->first = pool->cur = pool->last = NULL;
    pool->free_list = NULL;
    pool->bump = pool->bump_end = NULL;
    pool->live = pool->capacity = 0;
}

/* Appends a slab of `items` items (0: the geometric next size) to the list,
   without entering it. Returns ZM_OK, ZM_ELIMIT (at max_items) or ZM_ENOMEM. */
static zm_status add_slab(zm_pool *pool, size_t items) {
    size_t front = slab_front(pool);
    if (items == 0) {
        size_t max_items_per_slab = (MAX_SLAB_BYTES - front) / pool->stride;
        if (max_items_per_slab == 0) max_items_per_slab = 1;
        items = pool->capacity;
        if (items == 0)
            items = FIRST_SLAB_BYTES > front ? (FIRST_SLAB_BYTES - front) / pool->stride : 0;
        if (items < 8) items = 8;
        if (items > max_items_per_slab) items = max_items_per_slab;
    }
    if (pool->max_items != 0) {
        if (pool->capacity >= pool->max_items) return ZM_ELIMIT;
        if (items > pool->max_items - pool->capacity) items = pool->max_items - pool->capacity;
    }
    if (items > (SIZE_MAX - front) / pool->stride) return ZM_ENOMEM;
    size_t bytes = front + items * pool->stride;
    slab *s = zm_alloc(pool->backing, bytes, pool->item_align);
    if (s == NULL) return ZM_ENOMEM;
    s->next = NULL;
    s->items = items;
    s->bytes = bytes;
    if (pool->last != NULL)
        pool->last->next = s;
    else
        pool->first = s;
    pool->last = s;
    pool->capacity += items;
    return ZM_OK;
}

void *zm__pool_create_slow(zm_pool *pool, uintptr_t ra) {
    /* Is the pool over a zm_failing that counts pool creates (failing.h)? */
    pool->counted = zm__chain_counts(pool->backing);
    if (pool->counted &&
        !zm__chain_attempt(pool->backing, ZM_FAILING_SITE_POOL, false, pool->item_size, ra))
        return NULL;
    zm__pool_item *it = pool->free_list;
    if (it != NULL) {
        pool->free_list = it->next;
        pool->live++;
        return it;
    }
    while (pool->bump == pool->bump_end) {
        /* The current slab is used up: go on to a retained or new slab. */
        slab *next = pool->cur != NULL ? pool->cur->next : pool->first;
        if (next == NULL) {
            if (add_slab(pool, 0) != ZM_OK) return NULL;
            next = pool->last;
        }
        enter_slab(pool, next);
    }
    void *item = pool->bump;
    pool->bump += pool->stride;
    pool->live++;
    return item;
}

zm_status zm_pool_preheat(zm_pool *pool, size_t n) {
    size_t free_items = pool->capacity - pool->live;
    if (n <= free_items) return ZM_OK;
    size_t need = n - free_items;
    if (pool->max_items != 0 &&
        (pool->capacity > pool->max_items || need > pool->max_items - pool->capacity))
        return ZM_ELIMIT;
    return add_slab(pool, need);
}

void zm_pool_reset(zm_pool *pool) {
    pool->free_list = NULL;
    pool->counted = zm__chain_counts(pool->backing);
    pool->live = 0;
    enter_slab(pool, pool->first);
}

/* ---------------------------------------------------------------------------
 * The allocator view
 * ------------------------------------------------------------------------- */

static void *pool_vt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_pool *pool = ctx;
    if (len != pool->item_size || align > pool->item_align) return NULL;
    return zm__pool_create_at(pool, ra);
}

static bool pool_vt_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    (void)ctx, (void)ptr, (void)align, (void)ra;
    return new_len == len;
}

static void *pool_vt_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                           uintptr_t ra) {
    (void)ctx, (void)align, (void)ra;
    return new_len == len ? ptr : NULL;
}

static void pool_vt_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)len, (void)align, (void)ra;
    zm_pool_destroy(ctx, ptr);
}

const zm_allocator_vtable zm__pool_vtable = {pool_vt_alloc, pool_vt_resize, pool_vt_remap,
                                             pool_vt_free};

zm_allocator zm_pool_allocator(zm_pool *pool) {
    return (zm_allocator){pool, &zm__pool_vtable};
}
