/* A backing allocator for tests whose resize and remap always fail (alloc
   and free go to libc): what an allocator that cannot grow a block in place
   looks like to the code above it. */
#ifndef ZMEM_TESTS_NO_RESIZE_H
#define ZMEM_TESTS_NO_RESIZE_H

#include "zmem/allocator.h"

static void *nr_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx;
    zm_allocator c = zm_c_allocator();
    return c.vtable->alloc(c.ctx, len, align, ra);
}
static bool nr_resize(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)p, (void)len, (void)align, (void)new_len, (void)ra;
    return false;
}
static void *nr_remap(void *ctx, void *p, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)p, (void)len, (void)align, (void)new_len, (void)ra;
    return NULL;
}
static void nr_free(void *ctx, void *p, size_t len, size_t align, uintptr_t ra) {
    (void)ctx;
    zm_allocator c = zm_c_allocator();
    c.vtable->free(c.ctx, p, len, align, ra);
}
static const zm_allocator_vtable no_resize_vtable = {nr_alloc, nr_resize, nr_remap, nr_free};

#endif
