/* zmem — the stack fallback allocator.
 *
 * A fixed buffer first (typically an array on the caller's stack), then a
 * fallback allocator, as Zig's StackFallbackAllocator: small or short-lived
 * work stays in the buffer and never reaches the heap; whatever does not fit
 * goes to the fallback. free, resize and remap go to whichever of the two owns
 * the block (decided by its address).
 *
 * remap of a block in the buffer acts in place only (see zm_fixed_buffer: the
 * latest block can grow while the buffer has room). When it cannot, remap
 * returns NULL and the caller copies; zm_realloc then allocates the new block
 * (from the buffer if it fits, else from the fallback), copies and frees. A
 * buffer block is never moved to the fallback behind the caller's back.
 *
 * Not thread-safe (the fallback may be; the buffer is not).
 */
#ifndef ZMEM_STACK_FALLBACK_H
#define ZMEM_STACK_FALLBACK_H

#include "zmem/fixed_buffer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_stack_fallback {
    zm_fixed_buffer fixed;
    zm_allocator fallback;
} zm_stack_fallback;

/* Makes a stack fallback allocator over buf[0..len), then fallback. The caller
   keeps ownership of buf, which must outlive every use of sf. */
void zm_stack_fallback_init(zm_stack_fallback *sf, void *buf, size_t len, zm_allocator fallback);

/* A zm_allocator view of sf. Valid while sf lives. */
zm_allocator zm_stack_fallback_allocator(zm_stack_fallback *sf);

/* True when ptr points into sf's buffer (rather than into a fallback block). */
static inline bool zm_stack_fallback_owns(const zm_stack_fallback *sf, const void *ptr) {
    return zm_fixed_buffer_owns(&sf->fixed, ptr);
}

#ifdef __cplusplus
}
#endif
#endif
