/* zmem — the heap allocator.
 *
 * A heap is a general-purpose allocator whose blocks can all be freed at once:
 * blocks may be freed one by one as usual, and zm_heap_deinit frees whatever
 * is still live in a single call. Use it for a group of objects with a common
 * lifetime whose sizes vary too much for an arena or a pool.
 *
 * With mimalloc, a heap is a first-class mimalloc heap (mi_heap_new) and
 * deinit is mi_heap_destroy. When the default allocator is libc instead
 * (zmem built without mimalloc, ZMEM_ALLOCATOR=c so that ASan sees every
 * block, or a run under valgrind), a heap is a list heap over it: every block
 * carries a 32-byte header linking it into a list that deinit walks. Either
 * way the API and its promises are the same.
 *
 * Threads. mimalloc 2.0 lets a heap allocate only from the thread that made
 * it: zm_heap_init, allocating, remapping and zm_heap_deinit must all happen
 * on that thread. A mimalloc heap's blocks may be freed or resized from any
 * thread; a list heap's may not (it is not thread-safe at all). Portable code
 * uses a heap from one thread, or wraps its allocator in a zm_locked and
 * never lets it outlive its thread.
 */
#ifndef ZMEM_HEAP_H
#define ZMEM_HEAP_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A heap. Keep it anywhere; do not copy it while it holds blocks. */
typedef struct zm_heap {
    void *mi;                   /* the mimalloc heap (mi_heap_t *), or NULL for a list heap */
    struct zm__heap_node *head; /* list heap: every live block, newest first */
    zm_allocator backing;       /* list heap: where blocks come from */
    size_t live;                /* list heap: blocks not yet freed */
} zm_heap;

/* Makes an empty heap: a mimalloc heap when the default allocator is mimalloc,
   else a list heap over the default allocator. The calling thread owns it.
   Returns ZM_OK, or ZM_ENOMEM (h is then unusable and needs no deinit). */
zm_status zm_heap_init(zm_heap *h);

/* Makes an empty list heap whose blocks come from backing, each with a
   32-byte header (more for alignments above 32). Never fails. */
void zm_heap_init_backed(zm_heap *h, zm_allocator backing);

/* True when h is a mimalloc heap, false when it is a list heap. */
bool zm_heap_is_mimalloc(const zm_heap *h);

/* A zm_allocator view of the heap: alloc, resize, remap (may move) and free of
   single blocks. Valid until zm_heap_deinit. */
zm_allocator zm_heap_allocator(zm_heap *h);

/* Frees every block still allocated from the heap, at once, and the heap
   itself. Pointers into it are dangling afterwards. h may be initialised
   again. */
void zm_heap_deinit(zm_heap *h);

#ifdef __cplusplus
}
#endif
#endif
