/* A counting allocator for tests: forwards to an inner allocator and counts
   the calls that reach it and the bytes live through it. Optionally fails
   every alloc once `fail_allocs` is set. */
#ifndef ZMEM_TEST_COUNTING_H
#define ZMEM_TEST_COUNTING_H

#include <string.h>

#include "zmem/allocator.h"

typedef struct counting {
    zm_allocator inner;
    size_t allocs, frees, resizes, remaps; /* successful-or-not calls */
    size_t live;                           /* bytes allocated and not freed */
    size_t live_blocks;
    bool fail_allocs; /* when set, alloc returns NULL (and counts nothing) */
} counting;

static void *cnt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    if (c->fail_allocs) return NULL;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    if (p) c->allocs++, c->live += len, c->live_blocks++;
    return p;
}
static bool cnt_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    counting *c = ctx;
    c->resizes++;
    bool ok = c->inner.vtable->resize(c->inner.ctx, p, len, align, nl, ra);
    if (ok) c->live = c->live - len + nl;
    return ok;
}
static void *cnt_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    counting *c = ctx;
    c->remaps++;
    void *q = c->inner.vtable->remap(c->inner.ctx, p, len, align, nl, ra);
    if (q) c->live = c->live - len + nl;
    return q;
}
static void cnt_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    counting *c = ctx;
    c->frees++, c->live -= len, c->live_blocks--;
    c->inner.vtable->free(c->inner.ctx, p, len, align, ra);
}
static const zm_allocator_vtable cnt_vt = {cnt_alloc, cnt_resize, cnt_remap, cnt_free};

/* Starts counting over inner. Returns the counting allocator. */
static zm_allocator counting_over(counting *c, zm_allocator inner) {
    memset(c, 0, sizeof *c);
    c->inner = inner;
    return (zm_allocator){c, &cnt_vt};
}

/* Starts counting over the default allocator. */
static zm_allocator counting_init(counting *c) {
    return counting_over(c, zm_default_allocator());
}

/* Every call that reached the inner allocator. */
static size_t counting_calls(const counting *c) {
    return c->allocs + c->frees + c->resizes + c->remaps;
}

#endif
