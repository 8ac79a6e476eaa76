/* zmem — the fixed buffer allocator.
 *
 * Bump allocation over a caller's buffer, as Zig's FixedBufferAllocator: no
 * backing allocator, no headers. When the buffer is exhausted, alloc returns
 * NULL. The latest allocation (the one that ends where the free space starts)
 * can grow, shrink and be freed in place; freeing anything else is a no-op and
 * shrinking anything else succeeds without giving bytes back. Freeing blocks
 * in the reverse order of their allocation gives all their bytes back (except
 * alignment padding), so a fixed buffer also works as a stack.
 *
 * A fixed buffer is not thread-safe.
 */
#ifndef ZMEM_FIXED_BUFFER_H
#define ZMEM_FIXED_BUFFER_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_fixed_buffer {
    char *buf;   /* the caller's buffer */
    size_t len;  /* its length */
    size_t used; /* bytes from the start of buf handed out so far */
} zm_fixed_buffer;

/* Makes an empty fixed buffer over buf[0..len). The caller keeps ownership of
   buf, which must outlive every use of fb. */
void zm_fixed_buffer_init(zm_fixed_buffer *fb, void *buf, size_t len);

/* A zm_allocator view of fb. Valid while fb lives. */
zm_allocator zm_fixed_buffer_allocator(zm_fixed_buffer *fb);

/* Allocates len bytes aligned to align directly (as the view's alloc).
   Returns NULL when they do not fit, align is not a power of two or len is 0. */
void *zm_fixed_buffer_alloc(zm_fixed_buffer *fb, size_t len, size_t align);

/* Frees everything: the whole buffer is free again. */
void zm_fixed_buffer_reset(zm_fixed_buffer *fb);

/* True when ptr points into fb's buffer (whether or not it is allocated). */
static inline bool zm_fixed_buffer_owns(const zm_fixed_buffer *fb, const void *ptr) {
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)fb->buf;
    return p >= b && p - b < fb->len;
}

/* Bytes handed out (alignment padding included) and not given back. */
static inline size_t zm_fixed_buffer_used(const zm_fixed_buffer *fb) {
    return fb->used;
}

#ifdef __cplusplus
}
#endif
#endif
