/* The JSON pool: an allocator that serves the small, repetitive requests of
 * values built in code (value nodes, item and member arrays, short strings)
 * from zm_pools in size classes, and passes everything else to the backing
 * allocator.
 *
 * Routing uses only the (len, align) of each request, which the allocator
 * contract gives back unchanged at free, resize and remap: a request of at
 * most MAX_POOLED bytes and an alignment of at most POOL_ALIGN goes to the
 * smallest class that holds it, so its free finds the same class again.
 * Nothing is stored in front of a pooled block. A larger block (a long
 * string, a big array) comes from a list heap over the backing allocator
 * (zm_heap_init_backed), which links it in, so that destroying the pool
 * frees those too.
 *
 * The classes are the sizes the builder asks for: a value node, and item
 * (pointer) and member arrays of 1, 2, 4, ... 32 entries, with a few sizes in
 * between for strings and hash indexes; then 1 to 4 KiB in steps of a half
 * (1024, 1536, 2048, 3072, 4096) for longer strings and bigger arrays, and
 * for the blocks a context's template cache keeps (a template is one block:
 * a short prompt of two messages takes about 1.5 KiB).
 *
 * Not thread-safe: a pool belongs to one thread (or to one lock).
 */
#include <stdalign.h>

#include "zmem/heap.h"
#include "zmem/json.h"
#include "zmem/pool.h"

#define POOL_ALIGN 8
#define MAX_POOLED 4096
#define NCLASSES   ZM_JSON_POOL_CLASSES

/* Class sizes in bytes, ascending: pointers x 1..32 (8..256), members x 1..32
   (24..768), the value node (40 on LP64), fillers, and 1..4 KiB blocks. */
static const uint16_t class_size[NCLASSES] = {8,   16,  24,  32,  40,   48,   64,   96,   128, 192,
                                              256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096};

struct zm_json_pool {
    zm_allocator backing;
    zm_heap bigs;     /* a list heap over backing: the blocks no class takes */
    zm_allocator big; /* its allocator */
    zm_pool pools[NCLASSES];
    uint8_t class_of[MAX_POOLED / 8 + 1]; /* (len + 7) / 8 -> class */
    size_t live_values;
    size_t pool_hits;
    size_t backing_allocs;
    size_t big_blocks, big_bytes; /* live blocks from bigs, and their bytes */
};

/* Compile-time checks that the classes cover what the builder asks for. */
_Static_assert(sizeof(zm_json) <= MAX_POOLED, "a value node must be pooled");
_Static_assert(alignof(zm_json) <= POOL_ALIGN, "value nodes must fit the pools' alignment");
_Static_assert(32 * sizeof(zm_json_member) <= MAX_POOLED, "member arrays of 32 must be pooled");

/* The class of a request, or -1 when it goes to the backing allocator. */
static inline int class_for(const zm_json_pool *p, size_t len, size_t align) {
    if (len > MAX_POOLED || align > POOL_ALIGN) return -1;
    return p->class_of[(len + 7) >> 3];
}

static inline bool is_value_node(size_t len, size_t align) {
    return len == sizeof(zm_json) && align == alignof(zm_json);
}

/* ---------------------------------------------------------------------------
 * The allocator
 * ------------------------------------------------------------------------- */

static void *jp_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_json_pool *p = ctx;
    int c = class_for(p, len, align);
    if (c < 0) {
        void *b = p->big.vtable->alloc(p->big.ctx, len, align, ra);
        if (b != NULL) {
            p->backing_allocs++;
            p->big_blocks++;
            p->big_bytes += len;
        }
        return b;
    }
    void *item = zm__pool_create_at(&p->pools[c], ra);
    if (item == NULL) return NULL;
    p->pool_hits++;
    if (is_value_node(len, align)) p->live_values++;
    return item;
}

static void jp_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_json_pool *p = ctx;
    int c = class_for(p, len, align);
    if (c < 0) {
        p->big.vtable->free(p->big.ctx, ptr, len, align, ra);
        p->big_blocks--;
        p->big_bytes -= len;
        return;
    }
    if (is_value_node(len, align)) p->live_values--;
    zm_pool_destroy(&p->pools[c], ptr);
}

/* In place: within one class (the item already has room), or between two
   backing blocks when the backing allocator can. */
static bool jp_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    zm_json_pool *p = ctx;
    int c = class_for(p, len, align), nc = class_for(p, new_len, align);
    if (c >= 0 || nc >= 0) {
        if (c != nc) return false;
        /* A node-sized block changing size stops (or starts) being a node. */
        if (is_value_node(len, align)) p->live_values--;
        if (is_value_node(new_len, align)) p->live_values++;
        return true;
    }
    if (!p->big.vtable->resize(p->big.ctx, ptr, len, align, new_len, ra)) return false;
    p->big_bytes += new_len - len; /* wraps back when it shrinks */
    return true;
}

/* In place within a class, or whatever the backing allocator does between
   two backing blocks (through the list heap, which relinks a block that
   moves). Across classes it answers NULL and the caller moves
   the block (allocate, copy, free), so that a failed allocation is always
   the caller's to see. */
static void *jp_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    zm_json_pool *p = ctx;
    int c = class_for(p, len, align), nc = class_for(p, new_len, align);
    if (c >= 0 || nc >= 0) return jp_resize(ctx, ptr, len, align, new_len, ra) ? ptr : NULL;
    void *q = p->big.vtable->remap(p->big.ctx, ptr, len, align, new_len, ra);
    if (q != NULL) p->big_bytes += new_len - len; /* wraps back when it shrinks */
    return q;
}

static const zm_allocator_vtable json_pool_vtable = {jp_alloc, jp_resize, jp_remap, jp_free};

/* ---------------------------------------------------------------------------
 * The public functions
 * ------------------------------------------------------------------------- */

zm_status zm_json_pool_create(zm_allocator backing, zm_json_pool **out) {
    if (out == NULL) return ZM_EINVAL;
    zm_json_pool *p = zm_create(backing, zm_json_pool);
    if (p == NULL) return ZM_ENOMEM;
    memset(p, 0, sizeof *p);
    p->backing = backing;
    zm_heap_init_backed(&p->bigs, backing);
    p->big = zm_heap_allocator(&p->bigs);
    for (int c = 0; c < NCLASSES; c++) {
        zm_status st = zm_pool_init(&p->pools[c], backing, class_size[c], POOL_ALIGN, 0);
        if (st != ZM_OK) { /* cannot happen with these sizes; allocates nothing */
            zm_destroy(backing, p);
            return st;
        }
    }
    int c = 0;
    for (size_t slot = 0; slot <= MAX_POOLED / 8; slot++) {
        while (class_size[c] < slot * 8) c++;
        p->class_of[slot] = (uint8_t)c;
    }
    *out = p;
    return ZM_OK;
}

zm_allocator zm_json_pool_allocator(zm_json_pool *pool) {
    return (zm_allocator){pool, &json_pool_vtable};
}

void zm_json_pool_stats_get(const zm_json_pool *pool, zm_json_pool_stats *out) {
    if (out == NULL) return;
    memset(out, 0, sizeof *out);
    if (pool == NULL) return;
    out->live_values = pool->live_values;
    out->pool_hits = pool->pool_hits;
    out->backing_allocs = pool->backing_allocs;
    out->big_blocks = pool->big_blocks;
    out->big_bytes = pool->big_bytes;
    for (int c = 0; c < NCLASSES; c++)
        out->pooled_bytes += zm_pool_capacity(&pool->pools[c]) * pool->pools[c].stride;
}

zm_status zm_json_pool_class_get(const zm_json_pool *pool, size_t i, zm_json_pool_class *out) {
    if (i >= NCLASSES) return ZM_ENOTFOUND;
    const zm_pool *c = &pool->pools[i];
    out->block_size = class_size[i];
    out->stride = c->stride;
    out->live_blocks = zm_pool_live(c);
    out->free_blocks = zm_pool_capacity(c) - zm_pool_live(c);
    return ZM_OK;
}

void zm_json_pool_destroy(zm_json_pool *pool) {
    if (pool == NULL) return;
    zm_heap_deinit(&pool->bigs);
    for (int c = 0; c < NCLASSES; c++) zm_pool_deinit(&pool->pools[c]);
    zm_destroy(pool->backing, pool);
}
