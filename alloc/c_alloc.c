/* The libc allocator: malloc / posix_memalign / realloc / free. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdalign.h>
#include <stdlib.h>

#include "zmem/allocator.h"

/* malloc's own alignment guarantee. */
#define C_MALLOC_ALIGN alignof(max_align_t)

static void *c_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    if (align <= C_MALLOC_ALIGN) return malloc(len);
    void *p = NULL;
    if (posix_memalign(&p, align, len) != 0) return NULL;
    return p;
}

static bool c_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    return new_len <= malloc_usable_size(ptr);
}

static void *c_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)len, (void)ra;
    if (align > C_MALLOC_ALIGN) return NULL; /* realloc would lose the alignment */
    return realloc(ptr, new_len);
}

static void c_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    free(ptr);
}

static const zm_allocator_vtable c_vtable = {c_alloc, c_resize, c_remap, c_free};

zm_allocator zm_c_allocator(void) {
    return (zm_allocator){NULL, &c_vtable};
}
