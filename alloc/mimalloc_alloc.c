/* The mimalloc allocator, and the default allocator choice. */
#include <stdlib.h>
#include <string.h>

#include "zmem/allocator.h"

#ifdef ZMEM_HAVE_MIMALLOC
#include <mimalloc.h>

static void *mi_zm_alloc(void *ctx, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    return mi_malloc_aligned(len, align);
}

static bool mi_zm_resize(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                         uintptr_t ra) {
    (void)ctx, (void)len, (void)align, (void)ra;
    return mi_expand(ptr, new_len) != NULL;
}

static void *mi_zm_remap(void *ctx, void *ptr, size_t len, size_t align, size_t new_len,
                         uintptr_t ra) {
    (void)ctx, (void)len, (void)ra;
    return mi_realloc_aligned(ptr, new_len, align);
}

static void mi_zm_free(void *ctx, void *ptr, size_t len, size_t align, uintptr_t ra) {
    (void)ctx, (void)ra;
    mi_free_size_aligned(ptr, len, align);
}

static const zm_allocator_vtable mi_vtable = {mi_zm_alloc, mi_zm_resize, mi_zm_remap, mi_zm_free};

zm_allocator zm_mimalloc_allocator(void) {
    return (zm_allocator){NULL, &mi_vtable};
}

bool zm_have_mimalloc(void) {
    return true;
}
#else
zm_allocator zm_mimalloc_allocator(void) {
    return zm_c_allocator();
}

bool zm_have_mimalloc(void) {
    return false;
}
#endif

/* 0 = not decided yet, 1 = mimalloc, 2 = libc. Deciding twice gives the same
   answer, so a race between two first calls is harmless; the int is read and
   written atomically on every platform zmem supports. */
static volatile int default_choice;

static int decide_default(void) {
    int c = default_choice;
    if (c != 0) return c;
    const char *env = getenv("ZMEM_ALLOCATOR");
    c = zm_have_mimalloc() ? 1 : 2;
    if (env != NULL && (strcmp(env, "c") == 0 || strcmp(env, "libc") == 0)) c = 2;
    default_choice = c;
    return c;
}

zm_allocator zm_default_allocator(void) {
    return decide_default() == 1 ? zm_mimalloc_allocator() : zm_c_allocator();
}

const char *zm_default_allocator_name(void) {
    return decide_default() == 1 ? "mimalloc" : "c";
}
