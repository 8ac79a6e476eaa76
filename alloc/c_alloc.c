/* The libc allocator: malloc / posix_memalign / realloc / free. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "zmem/allocator.h"

/* malloc's own alignment guarantee, for blocks of at least this many bytes.
   Smaller blocks are only as aligned as their size needs: mimalloc, when it
   replaces malloc (as Debian's libmimalloc does), returns 8-aligned blocks of
   8 bytes. So a block smaller than its alignment is asked for as long as the
   alignment. */
#define C_MALLOC_ALIGN alignof(max_align_t)

static size_t malloc_len(size_t len, size_t align) {
    return len < align ? align : len;
}

/* Lengths past PTRDIFF_MAX never succeed; they fail here rather than trip
   ASan's or valgrind's reports about absurd sizes. */
static void *c_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    if (len > PTRDIFF_MAX) return NULL;
    if (align <= C_MALLOC_ALIGN) return malloc(malloc_len(len, align));
    void *p = NULL;
    if (posix_memalign(&p, align, len) != 0) return NULL;
    if (((uintptr_t)p & (align - 1)) != 0 && len < SIZE_MAX) {
        /* mimalloc 2.0.9 replacing malloc misaligns posix_memalign(align, len)
           for len a power of two in [align, 1 KiB], align 256 to 1024 (its
           issue #700). One byte more takes its correct path. */
        free(p);
        p = NULL;
        if (posix_memalign(&p, align, len + 1) != 0) return NULL;
        if (((uintptr_t)p & (align - 1)) != 0) {
            free(p);
            return NULL;
        }
    }
    return p;
}

static bool c_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    return new_len <= malloc_usable_size(ptr);
}

static void *c_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len, uintptr_t ra) {
    (void)ctx, (void)len, (void)ra;
    if (align > C_MALLOC_ALIGN) return NULL; /* realloc would lose the alignment */
    if (new_len > PTRDIFF_MAX) return NULL;
    return realloc(ptr, malloc_len(new_len, align));
}

static void c_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    free(ptr);
}

static const zm_allocator_vtable c_vtable = {c_alloc, c_resize, c_remap, c_free};

zm_allocator zm_c_allocator(void) {
    return (zm_allocator){NULL, &c_vtable};
}
