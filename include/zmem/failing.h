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
 * Arenas and pools. An arena asks its backing allocator for a block only now
 * and then and hands out the rest itself, so by default a failing allocator
 * under an arena sees only the block requests. With count_arenas set, every
 * allocation an arena makes over f, and every create of a pool over f through
 * its allocator view or the JSON pool (the inline zm_pool_create only when it
 * goes out of line: see zmem/pool.h), is an allocation attempt of f as well:
 * it takes the next alloc_index and fails like any other when that is
 * fail_index (the arena or pool then returns NULL). The same holds for the
 * in-place resizes and remaps of an arena's view, which take the next
 * resize_index. An arena or pool finds f through the allocators zmem knows
 * (locked, stats, debug, a list heap, stack fallback, another arena or
 * pool) between it and f, not through an allocator of your own; it looks
 * when it is made, at its resets and whenever it goes to its out-of-line
 * path, so set count_arenas before making the arenas and pools that should
 * see it. While it sees f so, an arena takes its out-of-line path for every
 * request (as it does under AddressSanitizer); without count_arenas nothing
 * changes for them.
 *
 * The counters are public and plain: read them directly. The allocator is not
 * thread-safe; use it from one thread at a time (or wrap it in a zm_locked:
 * arenas and pools over the zm_locked then count under its lock).
 */
#ifndef ZMEM_FAILING_H
#define ZMEM_FAILING_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the request that failed on purpose was made. */
typedef enum zm_failing_site {
    ZM_FAILING_SITE_ALLOCATOR, /* through f's own vtable (a block from f) */
    ZM_FAILING_SITE_ARENA,     /* an arena's allocation, resize or remap (count_arenas) */
    ZM_FAILING_SITE_POOL,      /* a pool's create (count_arenas) */
} zm_failing_site;

typedef struct zm_failing {
    zm_allocator backing;
    size_t fail_index;        /* the alloc attempt that fails; SIZE_MAX = never */
    size_t resize_fail_index; /* the resize/remap attempt that fails; SIZE_MAX = never */
    bool count_arenas;        /* arenas and pools over f count each of their requests
                                 here too (above); false after init */

    size_t alloc_index;           /* alloc attempts so far, the failed one included */
    size_t resize_index;          /* resize and remap attempts so far, failed ones included */
    size_t allocated_bytes;       /* bytes handed out by allocs, plus growth by resize/remap */
    size_t freed_bytes;           /* bytes given back by frees, plus shrinkage by resize/remap */
    size_t allocations;           /* successful allocs */
    size_t deallocations;         /* frees */
    bool has_induced_failure;     /* an alloc, resize or remap failed on purpose */
    bool induced_alloc_failure;   /* it was the alloc at fail_index */
    bool induced_resize_failure;  /* it was the resize/remap at resize_fail_index */
    uintptr_t induced_ret_addr;   /* ret_addr of the request that failed on purpose */
    size_t induced_len;           /* the length it asked for (new_len for resize/remap) */
    zm_failing_site induced_site; /* where it was made */
    void *induced_frames[16];     /* the stack when it failed, innermost first (the
                                     frames inside f left out) */
    int induced_nframes;          /* frames in induced_frames (0 without backtrace()) */
    size_t arena_allocs;          /* alloc attempts made by arenas and pools (in alloc_index) */
    size_t arena_resizes;         /* resize/remap attempts made by arenas (in resize_index) */
} zm_failing;

/* Makes f a failing allocator over backing that fails the alloc attempt number
   fail_index and the resize/remap attempt number resize_fail_index (each
   SIZE_MAX for never), with every counter at zero. Allocates nothing; there is
   nothing to deinit. Blocks belong to backing: free them through f (or backing)
   as usual. */
void zm_failing_init(zm_failing *f, zm_allocator backing, size_t fail_index,
                     size_t resize_fail_index);

/* Zeroes every counter and the record of an induced failure and sets new
   indices, keeping backing and count_arenas: from here on f counts as if it
   had just been made. Use it to fail the Nth request of one step of a longer
   run (the Nth counted from this call). Blocks allocated before stay valid. */
void zm_failing_reset(zm_failing *f, size_t fail_index, size_t resize_fail_index);

/* A zm_allocator view of f, valid while f lives. */
zm_allocator zm_failing_allocator(zm_failing *f);

#ifdef __cplusplus
}
#endif
#endif
