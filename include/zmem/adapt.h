/* zmem — plugging allocators in and out.
 *
 * In: any malloc-style trio (malloc / realloc / free taking a context
 * pointer), or a Lua-style single realloc function, becomes a zm_allocator.
 * Alignment beyond what the functions guarantee is handled by over-allocating
 * and keeping the offset to the real start just before the block.
 *
 * Out: any zm_allocator becomes malloc-style functions (malloc, calloc,
 * realloc, free) for libraries that take only such hooks and never say how
 * big a block is: each block carries a 16-byte header holding its size. The
 * functions come bound to a zm_hooks context, or to one process-wide
 * allocator for hooks without a context (cJSON_InitHooks, for one). And any
 * zm_allocator becomes a Lua-style allocation function (lua_newstate), which
 * needs no header because Lua passes the old size back.
 */
#ifndef ZMEM_ADAPT_H
#define ZMEM_ADAPT_H

#include "zmem/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * In: malloc-style functions as a zm_allocator
 * ------------------------------------------------------------------------- */

/* A malloc-style trio. realloc may be NULL (remap then always declines and
   zm_realloc copies). */
typedef struct zm_trio {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
    size_t align; /* the alignment every block from malloc has; 0 = _Alignof(max_align_t) */
} zm_trio;

/* A zm_allocator over trio, which must outlive it (it is not copied).
   Requests aligned to at most trio->align go straight through; larger
   alignments over-allocate by align - 1 + sizeof(size_t) bytes and store the
   offset before the block. resize succeeds only when shrinking (the block
   keeps its size underneath); remap calls realloc for ordinarily aligned
   blocks and declines for over-aligned ones. */
zm_allocator zm_trio_allocator(const zm_trio *trio);

/* A Lua-style allocation function: frees ptr when nsize is 0 (returning
   NULL), else allocates (ptr NULL) or reallocates ptr from osize to nsize
   bytes, returning NULL on failure with ptr untouched. */
typedef void *(*zm_lua_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct zm_lua_funcs {
    zm_lua_alloc_fn fn;
    void *ud;
    size_t align; /* the alignment of its blocks; 0 = _Alignof(max_align_t) */
} zm_lua_funcs;

/* A zm_allocator over a Lua-style function, which must outlive it. fn always
   receives the true old size of the block (over-allocation included), so
   resize always declines (a shrunk block would be freed with the wrong old
   size); remap calls fn for ordinarily aligned blocks and declines for
   over-aligned ones. Alignment as for zm_trio_allocator. */
zm_allocator zm_lua_allocator(const zm_lua_funcs *lua);

/* ---------------------------------------------------------------------------
 * Out: a zm_allocator as malloc-style functions
 * ------------------------------------------------------------------------- */

/* The header in front of every block the hook functions hand out. */
#define ZM_HOOKS_HEADER 16

/* A zm_allocator bound for the hook functions below. */
typedef struct zm_hooks {
    zm_allocator a;
} zm_hooks;

/* Returns hooks over a. */
static inline zm_hooks zm_hooks_over(zm_allocator a) {
    zm_hooks h = {a};
    return h;
}

/* malloc: size bytes aligned to _Alignof(max_align_t), or NULL. size 0 gives
   a unique block that zm_hooks_free takes back. The block is the caller's;
   give it back with zm_hooks_free or zm_hooks_realloc on the same h. */
void *zm_hooks_malloc(zm_hooks *h, size_t size);

/* calloc: n * size zeroed bytes, or NULL (also when n * size overflows). */
void *zm_hooks_calloc(zm_hooks *h, size_t n, size_t size);

/* realloc: NULL ptr allocates; size 0 frees ptr and returns NULL; else the
   block grown or shrunk (perhaps moved), or NULL with ptr untouched. */
void *zm_hooks_realloc(zm_hooks *h, void *ptr, size_t size);

/* free: gives back a block from zm_hooks_malloc/calloc/realloc. NULL is a
   no-op. */
void zm_hooks_free(zm_hooks *h, void *ptr);

/* The size asked for when ptr was allocated (or last reallocated). */
size_t zm_hooks_size(const void *ptr);

/* The process-wide binding, for hooks that take no context. Set it before
   anything allocates through zm_global_*; changing it while blocks from the
   old allocator are live is a bug (they would be freed to the new one). Not
   synchronised: set it from one thread, before others use it. */
void zm_global_hooks_set(zm_allocator a);

/* The allocator zm_global_* use: the one set, else zm_default_allocator(). */
zm_allocator zm_global_hooks_allocator(void);

/* malloc, calloc, realloc and free over the process-wide allocator, with the
   semantics of zm_hooks_malloc & co. */
void *zm_global_malloc(size_t size);
void *zm_global_calloc(size_t n, size_t size);
void *zm_global_realloc(void *ptr, size_t size);
void zm_global_free(void *ptr);

/* A Lua-style allocation function over the zm_allocator that ud points to:
   lua_newstate(zm_lua_alloc, &a). Blocks are aligned to
   _Alignof(max_align_t). When ptr is NULL osize is ignored (Lua passes a type
   tag there). Shrinking tries zm_resize first, then zm_realloc, so it fails
   only if the allocator can neither shrink in place, remap nor allocate. */
void *zm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

#ifdef __cplusplus
}
#endif
#endif
