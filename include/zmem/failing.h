/* zmem — the failing allocator.
 *
 * A wrapper that passes every request to a backing allocator except one: the
 * allocation whose index is fail_index, and, counted separately, the resize or
 * remap whose index is resize_fail_index. Indices count attempts from 0, so
 * fail_index 0 fails the very first allocation. Exactly that one request
 * fails; the ones after it succeed again (Zig's FailingAllocator keeps failing
 * from the index on; failing one request only also finds code that swallows a
 * failure and carries on). SIZE_MAX means never.
 *
 * An induced alloc failure returns NULL; an induced resize failure returns
 * false; an induced remap failure returns NULL (which the caller answers by
 * allocating, copying and freeing, so it is not an error to propagate).
 *
 * The counters are public and plain: read them directly. The allocator is not
 * thread-safe; use it from one thread at a time (or wrap it in a zm_locked).
 */
#ifndef ZMEM_FAILING_H
#define ZMEM_FAILING_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_failing {
    zm_allocator backing;
    size_t fail_index;        /* the alloc attempt that fails; SIZE_MAX = never */
    size_t resize_fail_index; /* the resize/remap attempt that fails; SIZE_MAX = never */

    size_t alloc_index;          /* alloc attempts so far, the failed one included */
    size_t resize_index;         /* resize and remap attempts so far, failed ones included */
    size_t allocated_bytes;      /* bytes handed out by allocs, plus growth by resize/remap */
    size_t freed_bytes;          /* bytes given back by frees, plus shrinkage by resize/remap */
    size_t allocations;          /* successful allocs */
    size_t deallocations;        /* frees */
    bool has_induced_failure;    /* an alloc, resize or remap failed on purpose */
    bool induced_alloc_failure;  /* it was the alloc at fail_index */
    bool induced_resize_failure; /* it was the resize/remap at resize_fail_index */
    uintptr_t induced_ret_addr;  /* ret_addr of the request that failed on purpose */
    size_t induced_len;          /* the length it asked for (new_len for resize/remap) */
} zm_failing;

/* Makes f a failing allocator over backing that fails the alloc attempt number
   fail_index and the resize/remap attempt number resize_fail_index (each
   SIZE_MAX for never), with every counter at zero. Allocates nothing; there is
   nothing to deinit. Blocks belong to backing: free them through f (or backing)
   as usual. */
void zm_failing_init(zm_failing *f, zm_allocator backing, size_t fail_index,
                     size_t resize_fail_index);

/* A zm_allocator view of f, valid while f lives. */
zm_allocator zm_failing_allocator(zm_failing *f);

#ifdef __cplusplus
}
#endif
#endif
