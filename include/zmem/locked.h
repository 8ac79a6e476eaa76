/* zmem — the locked (thread-safe) allocator.
 *
 * A mutex around every call of any allocator, as Zig's ThreadSafeAllocator,
 * for sharing an allocator that is not thread-safe (an arena, a pool view, a
 * fixed buffer) between threads. The general-purpose allocators (c, mimalloc,
 * page, default) are thread-safe already and need no lock.
 *
 * The lock is held for the inner call only: a block allocated by one thread
 * may be freed, resized or remapped by another, as far as the inner allocator
 * allows it (a mimalloc heap, for one, allocates only on its own thread).
 */
#ifndef ZMEM_LOCKED_H
#define ZMEM_LOCKED_H

#include <pthread.h>

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_locked {
    pthread_mutex_t mutex;
    zm_allocator inner;
} zm_locked;

/* Makes a locked allocator around inner. Returns ZM_OK, or ZM_ENOMEM when
   the mutex could not be made (l then needs no deinit). */
zm_status zm_locked_init(zm_locked *l, zm_allocator inner);

/* A zm_allocator view of l: every call locks, calls inner, unlocks. Valid
   until zm_locked_deinit. */
zm_allocator zm_locked_allocator(zm_locked *l);

/* Destroys the mutex. No thread may be using l. The inner allocator and its
   blocks are untouched. */
void zm_locked_deinit(zm_locked *l);

#ifdef __cplusplus
}
#endif
#endif
