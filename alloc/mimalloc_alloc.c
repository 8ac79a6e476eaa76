/* The mimalloc allocator, and the default allocator choice. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zmem/allocator.h"

/* True when the program runs under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ZM_HAVE_VALGRIND_H 1
#endif
#endif
static bool under_valgrind(void) {
#ifdef ZM_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
#endif
}

#ifdef ZMEM_HAVE_MIMALLOC
#include <mimalloc.h>

/* mimalloc 2.0.9 (Debian 12's) returns misaligned blocks from
   mi_malloc_aligned(len, align) when len is a power of two between align and
   1 KiB and align is 256 to 1024 (mimalloc issue #700): its fast path assumes
   small power-of-two blocks are naturally aligned. The _at variants (offset 0)
   skip that fast path and are always right. Every block is at least
   word-aligned, so small alignments need no aligned call at all.
   Requests past PTRDIFF_MAX fail here: mimalloc would report them as errors. */
static void *mi_zm_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    if (len > PTRDIFF_MAX) return NULL;
    if (align <= sizeof(void *)) return mi_malloc(len);
    return mi_malloc_aligned_at(len, align, 0);
}

static bool mi_zm_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                         uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    return mi_expand(ptr, new_len) != NULL;
}

static void *mi_zm_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                         uintptr_t ra) {
    (void)ctx, (void)len, (void)ra;
    if (new_len > PTRDIFF_MAX) return NULL;
    if (align <= sizeof(void *)) return mi_realloc(ptr, new_len);
    return mi_realloc_aligned_at(ptr, new_len, align, 0);
}

static void mi_zm_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    mi_free_size_aligned(ptr, len, align);
}

static const zm_allocator_vtable mi_vtable = {mi_zm_alloc, mi_zm_resize, mi_zm_remap, mi_zm_free};

bool zm_have_mimalloc(void) {
    return true;
}
#else
bool zm_have_mimalloc(void) {
    return false;
}
#endif

/* Whether mimalloc can be used: 0 = not decided yet, 1 = yes, 2 = no (not
   built in, or under valgrind). valgrind replaces the mimalloc functions that
   are aliases of malloc, free and realloc (mi_malloc, mi_free, ...) but not
   the others (mi_expand, mi_malloc_aligned_at, mi_free_size_aligned, ...), so
   blocks would cross between the two heaps and crash: under valgrind the
   mimalloc allocator is the libc one, which valgrind then checks.
   Deciding twice gives the same answer, so two first calls racing is
   harmless; the atomic makes that race well defined. */
static _Atomic int mimalloc_usable;

static bool use_mimalloc(void) {
    int u = atomic_load_explicit(&mimalloc_usable, memory_order_relaxed);
    if (u == 0) {
        u = zm_have_mimalloc() && !under_valgrind() ? 1 : 2;
        atomic_store_explicit(&mimalloc_usable, u, memory_order_relaxed);
    }
    return u == 1;
}

zm_allocator zm_mimalloc_allocator(void) {
#ifdef ZMEM_HAVE_MIMALLOC
    if (use_mimalloc()) return (zm_allocator){NULL, &mi_vtable};
#endif
    return zm_c_allocator();
}

/* The default allocator: 0 = not decided yet, 1 = mimalloc, 2 = libc. */
static _Atomic int default_choice;

static int decide_default(void) {
    int c = atomic_load_explicit(&default_choice, memory_order_relaxed);
    if (c != 0) return c;
    const char *env = getenv("ZMEM_ALLOCATOR");
    c = use_mimalloc() ? 1 : 2;
    if (env != NULL && (strcmp(env, "c") == 0 || strcmp(env, "libc") == 0)) c = 2;
    atomic_store_explicit(&default_choice, c, memory_order_relaxed);
    return c;
}

zm_allocator zm_default_allocator(void) {
    return decide_default() == 1 ? zm_mimalloc_allocator() : zm_c_allocator();
}

const char *zm_default_allocator_name(void) {
    return decide_default() == 1 ? "mimalloc" : "c";
}
