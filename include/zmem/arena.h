/* zmem — the arena allocator.
 *
 * Bump allocation over a list of blocks taken from a backing allocator.
 * Memory dies all at once: at a reset, at a restore to a savepoint, or at
 * deinit. Only the latest allocation can grow, shrink or be freed in place;
 * freeing anything else is a no-op. Requests larger than the next block get a
 * block of their own; blocks grow geometrically.
 *
 * A reset that retains capacity keeps the blocks and reuses them in the same
 * order, so a workload that repeats (one request, one reset) makes no calls to
 * the backing allocator once it has warmed up.
 *
 * An arena is not thread-safe; give each thread its own, or wrap its allocator
 * in a zm_locked.
 *
 * Built with AddressSanitizer, the arena poisons the memory it has not handed
 * out (and everything a reset or restore frees), so an overrun past an
 * allocation into the rest of a block is reported. In such a build every
 * allocation takes the out-of-line path.
 *
 * Over a zm_failing with count_arenas set (directly or through zmem's own
 * wrappers; the every-failure sweep sets it), every allocation takes the
 * out-of-line path too, and there counts as an allocation attempt of the
 * failing allocator, so that it fails (NULL) when its turn comes; in-place
 * resizes and remaps of the arena's view count as its resize attempts. The
 * inline fast path is the same either way: it stops at `end`, which the
 * arena then keeps at `ptr`. See zmem/failing.h.
 */
#ifndef ZMEM_ARENA_H
#define ZMEM_ARENA_H

#include <stdarg.h>

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_arena_block {
    struct zm_arena_block *next;
    size_t size; /* bytes of the block, this header included */
} zm_arena_block;

typedef struct zm_arena_cleanup {
    struct zm_arena_cleanup *prev;
    void (*fn)(void *arg);
    void *arg;
} zm_arena_cleanup;

/* An arena. Keep it anywhere (on the stack is fine); do not copy it while it
   holds blocks. The fields are public for the inline fast path only. */
typedef struct zm_arena {
    char *ptr;                  /* next free byte of the current block */
    char *end;                  /* where the inline fast path must stop */
    char *limit;                /* end of the current block */
    char *last;                 /* start of the latest allocation, or NULL */
    zm_arena_block *first;      /* blocks in the order they are used */
    zm_arena_block *cur;        /* the block being bumped */
    zm_arena_cleanup *cleanups; /* most recent first */
    zm_allocator backing;
    size_t capacity;   /* usable bytes over all blocks */
    size_t block_size; /* the smallest block to ask the backing allocator for */
    bool counted;      /* every request goes out of line and counts at a zm_failing */
} zm_arena;

/* A savepoint: where the arena stood when zm_arena_save was called. */
typedef struct zm_arena_mark {
    zm_arena_block *block;
    char *ptr;
    zm_arena_cleanup *cleanups;
} zm_arena_mark;

typedef enum zm_arena_reset_mode {
    ZM_ARENA_FREE_ALL,          /* give every block back */
    ZM_ARENA_RETAIN_CAPACITY,   /* keep every block for reuse */
    ZM_ARENA_RETAIN_WITH_LIMIT, /* keep blocks up to limit bytes, give back the rest */
} zm_arena_reset_mode;

/* The default size of the first block (bytes, header included). */
#define ZM_ARENA_DEFAULT_BLOCK 4096

/* Makes an empty arena over backing. Allocates nothing until first used. */
void zm_arena_init(zm_arena *ar, zm_allocator backing);

/* Like zm_arena_init, with the smallest block size the arena asks for.
   block_size is raised to a small minimum (a header and 64 bytes) but never
   lowered: every block requested from backing is at least that big, so a
   block_size backing cannot supply (say SIZE_MAX) makes every allocation
   from the arena fail with NULL; nothing else goes wrong. Pick a size the
   backing allocator can hand out many times over. */
void zm_arena_init_sized(zm_arena *ar, zm_allocator backing, size_t block_size);

/* Runs every cleanup (last registered first) and gives every block back.
   The arena is empty and may be used again. */
void zm_arena_deinit(zm_arena *ar);

/* A zm_allocator view of the arena: alloc bumps, free and resize act in place
   on the latest allocation only (freeing anything else is a no-op, shrinking
   anything else succeeds), remap never moves. Valid while ar lives. */
zm_allocator zm_arena_allocator(zm_arena *ar);

/* Out-of-line part of zm_arena_alloc; call zm_arena_alloc instead. */
void *zm__arena_alloc_slow(zm_arena *ar, size_t len, size_t align);

/* Allocates len bytes aligned to align (a power of two) from the arena.
   Returns memory owned by the arena (it dies at the next reset, restore past
   it, or deinit), or NULL when the backing allocator fails. len 0 returns a
   non-NULL pointer that must not be dereferenced. */
static inline void *zm_arena_alloc(zm_arena *ar, size_t len, size_t align) {
    uintptr_t cur = (uintptr_t)ar->ptr, end = (uintptr_t)ar->end;
    uintptr_t p = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (ZM_LIKELY(zm_is_valid_align(align) && p >= cur && p <= end && len - 1 < end - p)) {
        ar->last = (char *)p;
        ar->ptr = (char *)(p + len);
        return (void *)p;
    }
    return zm__arena_alloc_slow(ar, len, align);
}

/* zm_arena_new(ar, T): an uninitialised T from the arena, or NULL.
   zm_arena_new_array(ar, T, n): n uninitialised Ts, or NULL (also on overflow). */
#define zm_arena_new(ar, T) ((T *)zm_arena_alloc((ar), sizeof(T), _Alignof(T)))
#define zm_arena_new_array(ar, T, n)                                                               \
    ((size_t)(n) > SIZE_MAX / sizeof(T)                                                            \
         ? (T *)NULL                                                                               \
         : (T *)zm_arena_alloc((ar), (size_t)(n) * sizeof(T), _Alignof(T)))

/* Copies len bytes of s plus a NUL into the arena. Returns the copy or NULL. */
char *zm_arena_strndup(zm_arena *ar, const char *s, size_t len);

/* Formats text as printf does into the arena. Returns the NUL-terminated
   text, owned by the arena, or NULL when the arena cannot supply it or
   vsnprintf fails (an encoding error, more than INT_MAX bytes). */
char *zm_arena_printf(zm_arena *ar, const char *fmt, ...) ZM_PRINTF_LIKE(2, 3);

/* zm_arena_printf with a va_list (which it consumes, as vsnprintf does). */
char *zm_arena_vprintf(zm_arena *ar, const char *fmt, va_list ap) ZM_PRINTF_LIKE(2, 0);

/* Runs every cleanup (last registered first), then frees everything allocated
   from the arena. FREE_ALL gives every block back; RETAIN_CAPACITY keeps them
   all; RETAIN_WITH_LIMIT keeps blocks whose total size stays within limit
   bytes and gives back the rest. Returns false only when the first block is
   larger than limit and the backing allocator could not shrink it in place (it
   is then given back too); the arena is usable either way. Every mark taken
   before the reset is invalid after it. */
bool zm_arena_reset(zm_arena *ar, zm_arena_reset_mode mode, size_t limit);

/* Returns the bytes the arena holds from its backing allocator, headers
   excluded: what a retaining reset keeps. */
size_t zm_arena_capacity(const zm_arena *ar);

/* Returns the bytes handed out since the last reset, alignment padding and
   the unused tails of full blocks included. */
size_t zm_arena_used(const zm_arena *ar);

/* Takes a savepoint. */
zm_arena_mark zm_arena_save(const zm_arena *ar);

/* Frees everything allocated since mark was taken, running the cleanups
   registered since then (last registered first). Blocks obtained since are
   kept for reuse. In-place growth made since the mark of the allocation that
   was latest when the mark was taken is undone too (it ends at the mark). mark must come from this
   arena, after its latest reset, and not from after a later restore point already rewound past. */
void zm_arena_restore(zm_arena *ar, zm_arena_mark mark);

/* Registers fn(arg) to run when the memory allocated so far dies: at the next
   reset, at deinit, or at a restore to a mark taken before this call.
   Cleanups run last-registered first. The record lives in the arena itself.
   Returns ZM_OK, or ZM_ENOMEM (fn is then not registered and not called). */
zm_status zm_arena_on_reset(zm_arena *ar, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
