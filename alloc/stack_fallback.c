/* The stack fallback allocator: a fixed buffer first, then a fallback. */
#include "chain.h"
#include "zmem/stack_fallback.h"

void zm_stack_fallback_init(zm_stack_fallback *sf, void *buf, size_t len, zm_allocator fallback) {
    zm_fixed_buffer_init(&sf->fixed, buf, len);
    sf->fallback = fallback;
}

static void *sf_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    zm_stack_fallback *sf = ctx;
    void *p = zm_fixed_buffer_alloc(&sf->fixed, len, align);
    if (p != NULL) return p;
    return sf->fallback.vtable->alloc(sf->fallback.ctx, len, align, ra);
}

static bool sf_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    zm_stack_fallback *sf = ctx;
    zm_allocator a =
        zm_stack_fallback_owns(sf, ptr) ? zm_fixed_buffer_allocator(&sf->fixed) : sf->fallback;
    return a.vtable->resize(a.ctx, ptr, len, align, new_len, ra);
}

static void *sf_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                      uintptr_t ra) {
    zm_stack_fallback *sf = ctx;
    zm_allocator a =
        zm_stack_fallback_owns(sf, ptr) ? zm_fixed_buffer_allocator(&sf->fixed) : sf->fallback;
    return a.vtable->remap(a.ctx, ptr, len, align, new_len, ra);
}

static void sf_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    zm_stack_fallback *sf = ctx;
    zm_allocator a =
        zm_stack_fallback_owns(sf, ptr) ? zm_fixed_buffer_allocator(&sf->fixed) : sf->fallback;
    a.vtable->free(a.ctx, ptr, len, align, ra);
}

const zm_allocator_vtable zm__stack_fallback_vtable = {sf_alloc, sf_resize, sf_remap, sf_free};

zm_allocator zm_stack_fallback_allocator(zm_stack_fallback *sf) {
    return (zm_allocator){sf, &zm__stack_fallback_vtable};
}
