/* The counting allocator. */
#include "counting.h"

static void *cnt_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zt_counting *c = ctx;
    void *p = c->inner.vtable->alloc(c->inner.ctx, len, align, ra);
    c->allocs++;
    if (p == NULL) {
        c->failures++;
        return NULL;
    }
    c->live += len;
    if (c->live > c->peak) c->peak = c->live;
    return p;
}

static bool cnt_resize(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    zt_counting *c = ctx;
    c->resizes++;
    if (!c->inner.vtable->resize(c->inner.ctx, p, len, align, nl, ra)) return false;
    c->live = c->live - len + nl;
    if (c->live > c->peak) c->peak = c->live;
    return true;
}

static void *cnt_remap(void *ctx, void *p, size_t len, size_t align, size_t nl, uintptr_t ra) {
    zt_counting *c = ctx;
    c->remaps++;
    void *q = c->inner.vtable->remap(c->inner.ctx, p, len, align, nl, ra);
    if (q == NULL) return NULL;
    c->live = c->live - len + nl;
    if (c->live > c->peak) c->peak = c->live;
    return q;
}

static void cnt_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    zt_counting *c = ctx;
    c->frees++;
    c->live -= len;
    c->inner.vtable->free(c->inner.ctx, p, len, align, ra);
}

static const zm_allocator_vtable cnt_vtable = {cnt_alloc, cnt_resize, cnt_remap, cnt_free};

zm_allocator zt_counting_init(zt_counting *c, zm_allocator inner) {
    memset(c, 0, sizeof *c);
    c->inner = inner;
    return (zm_allocator){c, &cnt_vtable};
}

size_t zt_counting_calls(const zt_counting *c) {
    return c->allocs + c->frees + c->resizes + c->remaps;
}
