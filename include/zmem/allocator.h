/* zmem — the allocator interface.
 *
 * Every allocation in zmem goes through an explicit zm_allocator value: two
 * words, a context pointer and a vtable, modelled on Zig's std.mem.Allocator.
 *
 * The contract every allocator keeps, and every caller relies on:
 *
 *  - Alignment is in bytes and a power of two. Lengths reaching the vtable are
 *    never 0: the wrappers below answer zero-length requests themselves.
 *  - alloc returns a block of at least len bytes aligned to align, or NULL.
 *  - resize changes the length of a block IN PLACE. It never moves the block;
 *    it returns false when it cannot, and then the block is unchanged.
 *  - remap changes the length of a block and may move it, preserving the first
 *    min(len, new_len) bytes. It returns NULL when it cannot do so cheaply, and
 *    then the old block is untouched; the caller allocates, copies and frees
 *    (zm_realloc does exactly that).
 *  - free, resize and remap receive the exact length and alignment of the
 *    block's most recent successful alloc, resize or remap. Sized
 *    deallocation is what lets arenas and pools keep no headers; passing
 *    anything else is a bug that the debug allocator reports.
 *  - ret_addr is the address the request came from (0 when unknown); the
 *    debug allocator uses it to say where a leaked block was allocated.
 *  - Failure is NULL or false. No allocator aborts or prints.
 */
#ifndef ZMEM_ALLOCATOR_H
#define ZMEM_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zmem/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zm_allocator_vtable {
    void *(*alloc)(void *ctx, size_t len, size_t align, uintptr_t ret_addr);
    bool (*resize)(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                   uintptr_t ret_addr);
    void *(*remap)(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                   uintptr_t ret_addr);
    void (*free)(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ret_addr);
} zm_allocator_vtable;

typedef struct zm_allocator {
    void *ctx;
    const zm_allocator_vtable *vtable;
} zm_allocator;

#if defined(__GNUC__) || defined(__clang__)
#define ZM_RET_ADDR()  ((uintptr_t)__builtin_return_address(0))
#define ZM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define ZM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ZM_TYPEOF(x)   __typeof__(x)
#else
#define ZM_RET_ADDR()  ((uintptr_t)0)
#define ZM_LIKELY(x)   (x)
#define ZM_UNLIKELY(x) (x)
#endif

/* Marks a printf-style function: its format is argument f, the values start
   at argument v (0 for a va_list). */
#if defined(__GNUC__) || defined(__clang__)
#define ZM_PRINTF_LIKE(f, v) __attribute__((format(printf, f, v)))
#else
#define ZM_PRINTF_LIKE(f, v)
#endif

/* For zmem's own files, not for users: marks a function that one file of the
   library defines and another calls. It is not exported from the shared
   library, so calls to it are direct (no PLT). */
#if defined(__GNUC__) || defined(__clang__)
#define ZM__HIDDEN __attribute__((visibility("hidden")))
#else
#define ZM__HIDDEN
#endif

/* For zmem's own files: a function always inlined, or never (a slow path
   kept out of its caller). */
#if defined(__GNUC__) || defined(__clang__)
#define ZM__ALWAYS_INLINE inline __attribute__((always_inline))
#define ZM__NOINLINE      __attribute__((noinline))
#else
#define ZM__ALWAYS_INLINE inline
#define ZM__NOINLINE
#endif

/* True when align is a power of two (and so a valid alignment). */
static inline bool zm_is_valid_align(size_t align) {
    return align != 0 && (align & (align - 1)) == 0;
}

/* ---------------------------------------------------------------------------
 * Wrappers. Zero-length requests never reach the vtable: zm_alloc(a, 0, al)
 * returns a non-NULL pointer equal to al (suitably aligned, never
 * dereferenceable, and NOT unique: every zero-length request of that
 * alignment gets the same address), and freeing or resizing a zero-length
 * block is free.
 *
 * The wrappers are never inlined, so that the ret_addr they pass is the
 * address of the call in the caller's code: the place a debug allocator's
 * leak report names. (The hot paths that need no vtable, zm_arena_alloc and
 * zm_pool_create, are inline.)
 * ------------------------------------------------------------------------- */

/* Allocates len bytes aligned to align (a power of two) from a.
   Returns the block, owned by the caller (give it back with zm_free), or NULL
   on failure or an invalid alignment. */
void *zm_alloc(zm_allocator a, size_t len, size_t align);

/* Gives back a block of exactly len bytes and alignment align to a.
   NULL (or len 0) is a no-op. */
void zm_free(zm_allocator a, void *ptr, size_t len, size_t align);

/* Changes the length of a block in place. Returns true on success (the block
   is now new_len bytes long), false otherwise (the block is unchanged).
   Growing from or shrinking to zero length is never possible in place, except
   0 -> 0. */
bool zm_resize(zm_allocator a, void *ptr, size_t len, size_t align, size_t new_len);

/* Changes the length of a block, perhaps moving it. Returns the block (moved
   or not), or NULL when the allocator cannot remap it; the old block is then
   untouched and still owned by the caller. Lengths must be non-zero. */
void *zm_remap(zm_allocator a, void *ptr, size_t len, size_t align, size_t new_len);

/* Changes the length of a block from len to new_len: remap if the allocator
   can, else allocate, copy min(len, new_len) bytes and free the old block.
   ptr may be NULL with len 0 (a plain allocation); new_len 0 frees the block
   and returns a zero-length pointer. Returns the new block, or NULL on failure,
   in which case the old block is untouched and still the caller's. */
void *zm_realloc(zm_allocator a, void *ptr, size_t len, size_t new_len, size_t align);

/* Copies len bytes of src into a new block from a (alignment 1).
   Returns the copy, owned by the caller (zm_free(a, p, len, 1)), or NULL. */
void *zm_dupe(zm_allocator a, const void *src, size_t len);

/* Copies the NUL-terminated string s into a new block from a.
   Returns the copy, owned by the caller (zm_free(a, p, strlen(s) + 1, 1)),
   or NULL. */
char *zm_strdup(zm_allocator a, const char *s);

/* Copies len bytes of s and a terminating NUL into a new block from a.
   Returns the copy (len + 1 bytes, alignment 1), or NULL. */
char *zm_strndup(zm_allocator a, const char *s, size_t len);

/* Allocates n items of size bytes each, aligned to align. n * size overflowing
   is a failure (NULL), never a wrap. */
void *zm_alloc_n(zm_allocator a, size_t n, size_t size, size_t align);

/* Frees n items of size bytes each allocated with zm_alloc_n. */
void zm_free_n(zm_allocator a, void *ptr, size_t n, size_t size, size_t align);

/* Like zm_alloc, and the len bytes are zero. Returns the block, owned by the
   caller (zm_free(a, p, len, align)), or NULL. */
void *zm_alloc_zeroed(zm_allocator a, size_t len, size_t align);

/* Like zm_alloc_n, and the n * size bytes are zero. n * size overflowing is a
   failure (NULL), never a wrap. Free with zm_free_n. */
void *zm_alloc_n_zeroed(zm_allocator a, size_t n, size_t size, size_t align);

/* zm_create(a, T): a new, uninitialised T from a, or NULL.
   zm_destroy(a, p): gives back what zm_create made.
   zm_alloc_array(a, T, n): n uninitialised Ts, or NULL (also on overflow).
   zm_free_array(a, p, n): gives back what zm_alloc_array made. */
#define zm_create(a, T)         ((T *)zm_alloc((a), sizeof(T), _Alignof(T)))
#define zm_alloc_array(a, T, n) ((T *)zm_alloc_n((a), (n), sizeof(T), _Alignof(T)))
/* zm_create_zeroed(a, T): a new T from a with every byte zero, or NULL.
   zm_alloc_array_zeroed(a, T, n): n zeroed Ts, or NULL (also on overflow).
   Give them back with zm_destroy and zm_free_array. */
#define zm_create_zeroed(a, T)         ((T *)zm_alloc_zeroed((a), sizeof(T), _Alignof(T)))
#define zm_alloc_array_zeroed(a, T, n) ((T *)zm_alloc_n_zeroed((a), (n), sizeof(T), _Alignof(T)))
#ifdef ZM_TYPEOF
#define zm_destroy(a, p)       zm_free((a), (p), sizeof(*(p)), _Alignof(ZM_TYPEOF(*(p))))
#define zm_free_array(a, p, n) zm_free_n((a), (p), (n), sizeof(*(p)), _Alignof(ZM_TYPEOF(*(p))))
#endif

/* ---------------------------------------------------------------------------
 * The general-purpose allocators, by value. They are stateless and thread-safe.
 * ------------------------------------------------------------------------- */

/* libc: malloc / posix_memalign / realloc / free. resize succeeds when the
   block's usable size already covers new_len. */
zm_allocator zm_c_allocator(void);

/* mimalloc: mi_malloc_aligned & co. When zmem was built without mimalloc this
   returns the libc allocator; zm_have_mimalloc() tells which. Under valgrind
   it returns the libc allocator too: valgrind replaces only those mimalloc
   functions that alias malloc, free and realloc, and mixing them with the
   others would crash (valgrind then checks every block instead). */
zm_allocator zm_mimalloc_allocator(void);

/* True when zmem was built with mimalloc. */
bool zm_have_mimalloc(void);

/* Whole pages from the kernel: mmap / mremap / munmap. Every block is rounded
   up to the page size; use it to back arenas and pools, not for small items. */
zm_allocator zm_page_allocator(void);

/* The default general-purpose allocator: mimalloc when zmem has it (and the
   program does not run under valgrind), else libc.
   Setting the environment variable ZMEM_ALLOCATOR=c (or =libc) before the
   first call selects libc, so that valgrind and ASan see every block. */
zm_allocator zm_default_allocator(void);

/* The name of the allocator zm_default_allocator() returns: "mimalloc" or "c". */
const char *zm_default_allocator_name(void);

#ifdef __cplusplus
}
#endif
#endif
